//! The model's memory of what is on the managed heap, without a record per object.
//!
//! Requests are spread evenly over an interval, so the objects of one lifetime allocated
//! between two collections form a [`Cohort`]: bytes spread uniformly over an allocation span
//! `(start_s, end_s]`, all becoming garbage `life_s` after their own allocation. Which part
//! of a cohort is alive at time `t` is then exact arithmetic (the part allocated after
//! `t − life_s`), and the survivors of a cohort are again a cohort. Objects that never die
//! are one number per generation. Cohorts that are entirely dead are folded into a per
//! generation `dead_bytes` (still on the heap until that generation is collected), so the
//! number of cohorts stays bounded by the lifetimes still running, not by the request count.

/// Objects allocated uniformly over `(start_s, end_s]`, each garbage `life_s` after its
/// allocation. Invariants: `end_s > start_s`, `bytes ≥ 0`, `life_s ≥ 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Cohort {
    pub bytes: f64,
    pub start_s: f64,
    pub end_s: f64,
    pub life_s: f64,
}

impl Cohort {
    /// True when every object of the cohort is garbage at `t`.
    fn dead_at(&self, t: f64) -> bool {
        self.end_s + self.life_s <= t
    }

    /// The part of the cohort still alive at `t`, or `None` if nothing is.
    fn alive_at(&self, t: f64) -> Option<Cohort> {
        let cutoff = t - self.life_s;
        if cutoff <= self.start_s {
            return Some(*self);
        }
        if cutoff >= self.end_s {
            return None;
        }
        let fraction = (self.end_s - cutoff) / (self.end_s - self.start_s);
        Some(Cohort {
            bytes: self.bytes * fraction,
            start_s: cutoff,
            ..*self
        })
    }

    /// Bytes per second of allocation span.
    fn density(&self) -> f64 {
        self.bytes / (self.end_s - self.start_s)
    }

    /// True when `next` continues this cohort exactly: same lifetime, adjacent span, same
    /// allocation rate. Merging such cohorts changes no future answer.
    fn continued_by(&self, next: &Cohort) -> bool {
        const RELATIVE: f64 = 1e-9;
        let scale = self.end_s.abs().max(1.0);
        self.life_s == next.life_s
            && (self.end_s - next.start_s).abs() <= RELATIVE * scale
            && (self.density() - next.density()).abs() <= RELATIVE * self.density().abs().max(1.0)
    }
}

/// How far back [`GenerationStore::push`] looks for a cohort to extend (one per lifetime
/// class in practice; a few classes per endpoint).
const MERGE_LOOKBACK: usize = 8;

/// The objects of one generation (gen0, gen1, gen2 or the LOH).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct GenerationStore {
    /// Objects that never become garbage.
    pub forever_bytes: f64,
    /// Garbage waiting for this generation's next collection.
    pub dead_bytes: f64,
    /// Objects with a finite lifetime, oldest first.
    pub cohorts: Vec<Cohort>,
}

impl GenerationStore {
    /// Heap bytes of the generation, garbage included.
    pub fn size_bytes(&self) -> f64 {
        self.forever_bytes + self.dead_bytes + self.cohorts.iter().map(|c| c.bytes).sum::<f64>()
    }

    /// Adds objects that never die.
    pub fn add_forever(&mut self, bytes: f64) {
        self.forever_bytes += bytes;
    }

    /// Adds a cohort, extending a recent one when it continues it exactly.
    pub fn push(&mut self, cohort: Cohort) {
        if cohort.bytes <= 0.0 {
            return;
        }
        let recent = self.cohorts.iter_mut().rev().take(MERGE_LOOKBACK);
        for last in recent {
            if last.life_s == cohort.life_s {
                if last.continued_by(&cohort) {
                    last.bytes += cohort.bytes;
                    last.end_s = cohort.end_s;
                    return;
                }
                break;
            }
        }
        self.cohorts.push(cohort);
    }

    /// Moves cohorts that are entirely garbage at `t` into `dead_bytes` (sizes unchanged).
    pub fn fold_dead(&mut self, t: f64) {
        let mut dead = 0.0;
        self.cohorts.retain(|c| {
            let is_dead = c.dead_at(t);
            if is_dead {
                dead += c.bytes;
            }
            !is_dead
        });
        self.dead_bytes += dead;
    }

    /// Collects the generation at `t`: empties it and returns what survived.
    pub fn collect(&mut self, t: f64) -> GenerationStore {
        let taken = std::mem::take(self);
        GenerationStore {
            forever_bytes: taken.forever_bytes,
            dead_bytes: 0.0,
            cohorts: taken.cohorts.iter().filter_map(|c| c.alive_at(t)).collect(),
        }
    }

    /// Adds everything in `other` (survivors promoted into, or put back into, this generation).
    pub fn absorb(&mut self, other: GenerationStore) {
        self.forever_bytes += other.forever_bytes;
        self.dead_bytes += other.dead_bytes;
        for cohort in other.cohorts {
            self.push(cohort);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cohort(bytes: f64, start_s: f64, end_s: f64, life_s: f64) -> Cohort {
        Cohort {
            bytes,
            start_s,
            end_s,
            life_s,
        }
    }

    #[test]
    fn the_part_allocated_within_the_lifetime_survives() {
        // 1000 bytes over (0, 10], each living 2 s: at t = 10 those after 8 s are alive.
        let alive = cohort(1000.0, 0.0, 10.0, 2.0).alive_at(10.0).unwrap();
        assert!((alive.bytes - 200.0).abs() < 1e-9);
        assert_eq!(alive.start_s, 8.0);
        assert!(cohort(1000.0, 0.0, 10.0, 2.0).alive_at(12.0).is_none());
        assert_eq!(
            cohort(1000.0, 0.0, 10.0, 20.0)
                .alive_at(12.0)
                .unwrap()
                .bytes,
            1000.0
        );
    }

    #[test]
    fn collection_keeps_forever_and_live_parts_and_drops_garbage() {
        let mut store = GenerationStore::default();
        store.add_forever(50.0);
        store.push(cohort(100.0, 0.0, 1.0, 0.5));
        store.push(cohort(100.0, 0.0, 1.0, 10.0));
        store.dead_bytes = 30.0;
        assert_eq!(store.size_bytes(), 280.0);
        let survivors = store.collect(1.0);
        assert_eq!(store.size_bytes(), 0.0);
        // 50 forever + half of the short cohort + all of the long one.
        assert!((survivors.size_bytes() - 200.0).abs() < 1e-9);
    }

    #[test]
    fn adjacent_cohorts_at_the_same_rate_merge_and_others_do_not() {
        let mut store = GenerationStore::default();
        store.push(cohort(100.0, 0.0, 1.0, 5.0));
        store.push(cohort(30.0, 0.0, 1.0, 0.01));
        store.push(cohort(100.0, 1.0, 2.0, 5.0));
        assert_eq!(store.cohorts.len(), 2);
        assert_eq!(store.cohorts[0], cohort(200.0, 0.0, 2.0, 5.0));
        // Different rate: kept apart, because it dies differently over time.
        store.push(cohort(300.0, 2.0, 3.0, 5.0));
        assert_eq!(store.cohorts.len(), 3);
    }

    #[test]
    fn folding_dead_cohorts_keeps_the_size() {
        let mut store = GenerationStore::default();
        store.push(cohort(100.0, 0.0, 1.0, 0.5));
        store.push(cohort(100.0, 0.0, 1.0, 10.0));
        store.fold_dead(2.0);
        assert_eq!(store.cohorts.len(), 1);
        assert_eq!(store.dead_bytes, 100.0);
        assert_eq!(store.size_bytes(), 200.0);
    }
}
