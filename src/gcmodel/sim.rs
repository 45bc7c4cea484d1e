//! The simulation: a [`GcModel`] fed one [`IntervalLoad`] per sampling interval answers with
//! the collections .NET would have made in it ([`GcEvent`]) and the managed heap per
//! generation ([`GcModel::heap`]).
//!
//! Per interval the requests are spread evenly over its duration, so the model jumps from one
//! exhausted budget to the next in whole requests (`ceil(budget ÷ bytes per request)`)
//! instead of stepping through them: the cost is per collection and per cohort, never per
//! request or per object. There is no clock and no randomness; the same loads give the same
//! events. The collection itself follows the sketch in `docs/dotnet-gc-model.md`
//! ("Triggers", "Model"): pick the generation (LOH exhausted → gen2; escalate while older
//! budgets are used up; Workstation time escalation), keep the survivors, promote them one
//! generation unless that is not worth it, let promotions eat the next generation's budget,
//! set the new budgets from the survival rates.

use thiserror::Error;

use super::budget::{self, Observed};
use super::cohort::{Cohort, GenerationStore};
use super::event::{CollectionCounts, GcEvent, GcReason, GenSizes, Generation};
use super::layout::{Lifetime, ManagedAllocation, ManagedKind};
use super::machine::MachineSpec;
use super::preset::{GcOptions, Preset, Tuning};
use crate::format::format_bytes;

/// Index of the large-object heap in per-space arrays (gen0, gen1, gen2, LOH).
const LOH: usize = 3;

/// What the server did in one sampling interval, in managed terms. Cheap to build: the
/// endpoint's declared allocations once, and a request count.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalLoad {
    /// Length of the interval in seconds (> 0 when there are requests).
    pub duration_s: f64,
    /// Requests completed in the interval.
    pub requests: u64,
    /// What one request allocates in .NET; the model adds the framework overhead itself.
    pub per_request: Vec<ManagedAllocation>,
    /// What all of the interval's requests allocated together, beyond `per_request`: a
    /// server that mixes endpoints counts bytes per heap and lifetime class instead of
    /// keeping a list per request ([`ManagedKind::Sized`] totals). Spread evenly over the
    /// `requests`, like `per_request`; ignored when `requests` is 0 (nothing was
    /// answered, so there is nothing to spread them over).
    pub interval_totals: Vec<ManagedAllocation>,
    /// Mean request latency in seconds: request-lived objects become garbage this long after
    /// they are allocated, so `requests ÷ duration × latency` requests are in flight (Little's
    /// law) and their objects survive a collection. 0 means they die at once.
    pub request_latency_s: f64,
}

impl IntervalLoad {
    /// An interval whose request-lived objects die at once (latency 0).
    pub fn new(duration_s: f64, requests: u64, per_request: Vec<ManagedAllocation>) -> Self {
        IntervalLoad {
            duration_s,
            requests,
            per_request,
            interval_totals: Vec::new(),
            request_latency_s: 0.0,
        }
    }

    /// An interval of `requests` whose allocations are known only as totals over the whole
    /// interval (see [`IntervalLoad::interval_totals`]); latency 0.
    pub fn from_totals(duration_s: f64, requests: u64, totals: Vec<ManagedAllocation>) -> Self {
        IntervalLoad {
            interval_totals: totals,
            ..IntervalLoad::new(duration_s, requests, Vec::new())
        }
    }

    /// Sets the mean request latency in seconds.
    pub fn with_request_latency_s(mut self, latency_s: f64) -> Self {
        self.request_latency_s = latency_s;
        self
    }
}

/// One interval as [`GcModel::feed_interval`] sums it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntervalOutcome {
    /// Collections in the interval, per generation.
    pub collections: CollectionCounts,
    /// Managed heap at the end of the interval, bytes.
    pub heap_bytes: u64,
    /// Largest managed heap in the interval (at the end, or just before a collection).
    pub peak_heap_bytes: u64,
}

/// An [`IntervalLoad`] the model cannot use.
#[derive(Debug, Error, PartialEq)]
pub enum LoadError {
    #[error(
        "invalid interval duration {0} s: expected a finite number of seconds, above 0 when there are requests"
    )]
    Duration(f64),
    #[error("invalid request latency {0} s: expected a finite number of seconds, 0 or more")]
    Latency(f64),
}

/// Bytes per request of one heap and lifetime class.
#[derive(Debug, Clone, Copy)]
struct Stream {
    space: usize,
    /// `None`: never garbage.
    life_s: Option<f64>,
    bytes: f64,
}

/// A modelled .NET GC. Deterministic: no clock, no randomness, time is the sum of the fed
/// intervals' durations.
#[derive(Debug, Clone)]
pub struct GcModel {
    tuning: Tuning,
    machine: MachineSpec,
    options: GcOptions,
    /// Seconds since the first interval started.
    now_s: f64,
    /// gen0, gen1, gen2, LOH.
    spaces: [GenerationStore; 4],
    /// Budget left per space; a GC comes when gen0's or the LOH's is ≤ 0, and escalates
    /// through gen1/gen2 when theirs is.
    budget_left_bytes: [f64; 4],
    /// Budget set at each space's last collection.
    desired_bytes: [f64; 4],
    last_collected_s: [f64; 4],
    gc_index: u64,
    gc_index_at_last: [u64; 4],
    counts: CollectionCounts,
}

impl GcModel {
    /// A model with empty heaps and the minimum budgets.
    pub fn new(preset: Preset, machine: MachineSpec, options: GcOptions) -> Self {
        let tuning = Tuning::new(preset, &machine, &options);
        let min = tuning.min_budget_bytes;
        GcModel {
            tuning,
            machine,
            options,
            now_s: 0.0,
            spaces: Default::default(),
            budget_left_bytes: min,
            desired_bytes: min,
            last_collected_s: [0.0; 4],
            gc_index: 0,
            gc_index_at_last: [0; 4],
            counts: CollectionCounts::default(),
        }
    }

    /// The static tuning in use (heaps, minimum and maximum budgets, growth limits).
    pub fn tuning(&self) -> &Tuning {
        &self.tuning
    }

    /// One line for the terminal: what is modelled, on which machine, with which budgets.
    pub fn describe(&self) -> String {
        let l3 = format_bytes(self.machine.l3_bytes);
        let factor = if self.options.core2x_factor && self.tuning.preset == Preset::Server {
            " ×3 (.NET Core 2.x)"
        } else {
            ""
        };
        format!(
            "modelled .NET GC (a model, not a measurement): {} preset, {} heap(s), L3 {l3}{factor}, \
             {} cores, gen0 budget {}, LOH budget {}, framework overhead {} per request",
            self.tuning.preset,
            self.tuning.heaps,
            self.machine.cores,
            format_bytes(self.tuning.min_budget_bytes[0] as u64),
            format_bytes(self.tuning.min_budget_bytes[LOH] as u64),
            format_bytes(self.options.framework_overhead_bytes),
        )
    }

    /// Seconds of load fed so far.
    pub fn now_s(&self) -> f64 {
        self.now_s
    }

    /// The managed heap per generation now, garbage not yet collected included.
    pub fn heap(&self) -> GenSizes {
        GenSizes::from_f64(self.sizes())
    }

    /// Collections so far, counted like `GC.CollectionCount(n)`.
    pub fn collection_counts(&self) -> CollectionCounts {
        self.counts
    }

    /// [`GcModel::feed`], summed up the way a sampled series shows one interval: the
    /// collections it held per generation (counted like `GC.CollectionCount`), the managed
    /// heap at its end, and the largest heap just before any of its collections (the top of
    /// a sawtooth that one sample would otherwise miss).
    pub fn feed_interval(&mut self, load: &IntervalLoad) -> Result<IntervalOutcome, LoadError> {
        let before = self.collection_counts();
        let events = self.feed(load)?;
        let after = self.collection_counts();
        let heap_bytes = self.heap().total_bytes();
        let peak_heap_bytes = events
            .iter()
            .map(|event| event.before.total_bytes())
            .fold(heap_bytes, u64::max);
        Ok(IntervalOutcome {
            collections: CollectionCounts {
                gen0: after.gen0 - before.gen0,
                gen1: after.gen1 - before.gen1,
                gen2: after.gen2 - before.gen2,
            },
            heap_bytes,
            peak_heap_bytes,
        })
    }

    /// Plays one interval: allocates its requests evenly over `duration_s` and returns the
    /// collections that happened, in time order.
    pub fn feed(&mut self, load: &IntervalLoad) -> Result<Vec<GcEvent>, LoadError> {
        let duration_s = load.duration_s;
        if !duration_s.is_finite() || duration_s < 0.0 || (duration_s == 0.0 && load.requests > 0) {
            return Err(LoadError::Duration(duration_s));
        }
        let latency_s = load.request_latency_s;
        if !latency_s.is_finite() || latency_s < 0.0 {
            return Err(LoadError::Latency(latency_s));
        }
        let start_s = self.now_s;
        let streams = self.streams(load);
        let soh_bytes: f64 = streams
            .iter()
            .filter(|s| s.space == 0)
            .map(|s| s.bytes)
            .sum();
        let loh_bytes: f64 = streams
            .iter()
            .filter(|s| s.space == LOH)
            .map(|s| s.bytes)
            .sum();
        let mut events = Vec::new();
        let requests = load.requests;
        if requests > 0 && (soh_bytes > 0.0 || loh_bytes > 0.0) {
            let spacing_s = duration_s / requests as f64;
            let mut done = 0u64;
            while done < requests {
                let batch = requests_to_exhaust(self.budget_left_bytes[0], soh_bytes)
                    .min(requests_to_exhaust(self.budget_left_bytes[LOH], loh_bytes))
                    .min(requests - done);
                let from_s = start_s + done as f64 * spacing_s;
                done += batch;
                let to_s = if done == requests {
                    start_s + duration_s
                } else {
                    start_s + done as f64 * spacing_s
                };
                self.allocate(&streams, batch as f64, from_s, to_s);
                if self.budget_left_bytes[0] <= 0.0 || self.budget_left_bytes[LOH] <= 0.0 {
                    events.push(self.collect(to_s));
                }
            }
        }
        self.now_s = start_s + duration_s;
        Ok(events)
    }

    /// The request's allocations plus the framework overhead, grouped by heap and lifetime.
    fn streams(&self, load: &IntervalLoad) -> Vec<Stream> {
        let overhead = ManagedAllocation {
            kind: ManagedKind::Other {
                bytes: self.options.framework_overhead_bytes,
            },
            lifetime: Lifetime::Request,
        };
        let mut streams: Vec<Stream> = Vec::new();
        // Totals become bytes per request; with no requests there is nothing to spread.
        let per_request_share = if load.requests == 0 {
            0.0
        } else {
            1.0 / load.requests as f64
        };
        let shares = load
            .per_request
            .iter()
            .chain(std::iter::once(&overhead))
            .map(|allocation| (allocation, 1.0))
            .chain(
                load.interval_totals
                    .iter()
                    .map(|allocation| (allocation, per_request_share)),
            );
        for (allocation, share) in shares {
            let size = allocation.managed_size();
            let bytes = size.bytes as f64 * share;
            if bytes == 0.0 {
                continue;
            }
            let space = if size.large { LOH } else { 0 };
            let life_s = match allocation.lifetime {
                Lifetime::Request => Some(load.request_latency_s),
                Lifetime::Forever => None,
                Lifetime::For(duration) => Some(duration.as_secs_f64()),
            };
            match streams
                .iter_mut()
                .find(|s| s.space == space && s.life_s == life_s)
            {
                Some(stream) => stream.bytes += bytes,
                None => streams.push(Stream {
                    space,
                    life_s,
                    bytes,
                }),
            }
        }
        streams
    }

    /// Allocates `requests` requests spread over `(from_s, to_s]` into gen0 and the LOH.
    fn allocate(&mut self, streams: &[Stream], requests: f64, from_s: f64, to_s: f64) {
        for stream in streams {
            let bytes = stream.bytes * requests;
            let space = &mut self.spaces[stream.space];
            match stream.life_s {
                None => space.add_forever(bytes),
                Some(life_s) => space.push(Cohort {
                    bytes,
                    start_s: from_s,
                    end_s: to_s,
                    life_s,
                }),
            }
            self.budget_left_bytes[stream.space] -= bytes;
        }
    }

    fn sizes(&self) -> [f64; 4] {
        [0, 1, 2, LOH].map(|i| self.spaces[i].size_bytes())
    }

    /// Which generation to condemn at `t`, and why.
    fn condemn(&self, t: f64) -> (usize, GcReason) {
        let (mut condemned_gen, mut reason) = if self.budget_left_bytes[LOH] <= 0.0 {
            (2, GcReason::LohBudget)
        } else {
            (0, GcReason::Gen0Budget)
        };
        while condemned_gen < 2 && self.budget_left_bytes[condemned_gen + 1] <= 0.0 {
            condemned_gen += 1;
            reason = if condemned_gen == 1 {
                GcReason::Gen1Budget
            } else {
                GcReason::Gen2Budget
            };
        }
        if self.tuning.time_escalation && condemned_gen < 2 {
            let overdue = |g: usize, seconds: f64, gcs: u64| {
                t - self.last_collected_s[g] > seconds
                    && self.gc_index - self.gc_index_at_last[g] >= gcs
            };
            if overdue(2, 100.0, 100) {
                (condemned_gen, reason) = (2, GcReason::Gen2Time);
            } else if condemned_gen < 1 && overdue(1, 10.0, 10) {
                (condemned_gen, reason) = (1, GcReason::Gen1Time);
            }
        }
        (condemned_gen, reason)
    }

    /// One collection at `t`.
    fn collect(&mut self, t: f64) -> GcEvent {
        let (condemned_gen, reason) = self.condemn(t);
        self.gc_index += 1;
        for space in &mut self.spaces {
            space.fold_dead(t);
        }
        let begin = self.sizes();
        let condemned: &[usize] = match condemned_gen {
            0 => &[0],
            1 => &[0, 1],
            _ => &[0, 1, 2, LOH],
        };

        let mut survivors: [GenerationStore; 4] = Default::default();
        let mut survived = [0.0; 4];
        for &space in condemned {
            survivors[space] = self.spaces[space].collect(t);
            survived[space] = survivors[space].size_bytes();
        }

        // Promotion is skipped when survivors are tiny and the older generation is not
        // (decide_on_promotion_surv): m = Σ min_budget[g] × (g + 1) × factor.
        let threshold: f64 = (0..=condemned_gen)
            .map(|g| {
                self.tuning.min_budget_bytes[g] * (g as f64 + 1.0) * self.tuning.promotion_factor
            })
            .sum();
        let older_bytes = begin[(condemned_gen + 1).min(2)];
        let survived_soh: f64 = survived[..3].iter().sum();
        let promote = threshold > older_bytes || survived_soh > threshold;

        let mut promoted_bytes = 0.0;
        // Oldest space first, so a generation gets its own survivors back before the younger
        // ones promoted into it: cohorts stay in allocation order and adjacent ones merge.
        for (space, store) in survivors.into_iter().enumerate().rev() {
            if !condemned.contains(&space) {
                continue;
            }
            if promote && space < 2 {
                promoted_bytes += survived[space];
                self.spaces[space + 1].absorb(store);
            } else {
                self.spaces[space].absorb(store);
            }
        }
        let after = self.sizes();

        for &space in condemned {
            let observed = Observed {
                begin_bytes: begin[space],
                survived_bytes: survived[space],
                size_after_bytes: after[space],
                allocation_fraction: (self.desired_bytes[space] - self.budget_left_bytes[space])
                    / self.desired_bytes[space],
                previous_desired_bytes: self.desired_bytes[space],
                seconds_since_previous: t - self.last_collected_s[space],
            };
            let tuning = &self.tuning;
            let (min, max, growth) = (
                tuning.min_budget_bytes[space],
                tuning.max_budget_bytes[space],
                tuning.growth[space],
            );
            // Gen2 is set before the LOH (condemned is in that order), which needs it.
            let desired = match space {
                0 | 1 => budget::young_budget(&observed, min, max, growth),
                2 => budget::gen2_budget(&observed, min, growth),
                _ => budget::loh_budget(&observed, min, growth, self.desired_bytes[2]),
            };
            self.desired_bytes[space] = desired;
            self.budget_left_bytes[space] = desired;
            self.last_collected_s[space] = t;
            self.gc_index_at_last[space] = self.gc_index;
        }
        // Survivors promoted out of the oldest condemned generation use up the budget of the
        // next one; younger promotions land in generations whose budget was just reset.
        if promote && condemned_gen < 2 {
            self.budget_left_bytes[condemned_gen + 1] -= survived[condemned_gen];
        }

        self.counts.gen0 += 1;
        self.counts.gen1 += u64::from(condemned_gen >= 1);
        self.counts.gen2 += u64::from(condemned_gen >= 2);
        GcEvent {
            index: self.gc_index,
            time_s: t,
            generation: Generation::from_number(condemned_gen),
            reason,
            before: GenSizes::from_f64(begin),
            after: GenSizes::from_f64(after),
            survived: GenSizes::from_f64(survived),
            promoted_bytes: promoted_bytes.round() as u64,
            budgets_after: GenSizes::from_f64(self.desired_bytes),
        }
    }
}

/// Whole requests until `budget_left` bytes are used up at `per_request` bytes each
/// (at least 1; "never" when the request allocates nothing there).
fn requests_to_exhaust(budget_left: f64, per_request: f64) -> u64 {
    if per_request <= 0.0 {
        return u64::MAX;
    }
    // `as` saturates for huge quotients; budgets are positive after every GC.
    ((budget_left / per_request).ceil() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn string_request(chars: u64, lifetime: Lifetime) -> Vec<ManagedAllocation> {
        vec![ManagedAllocation {
            kind: ManagedKind::String { chars },
            lifetime,
        }]
    }

    fn no_overhead() -> GcOptions {
        GcOptions {
            core2x_factor: true,
            framework_overhead_bytes: 0,
        }
    }

    #[test]
    fn bad_intervals_are_refused_with_the_value() {
        let mut model = GcModel::new(Preset::Server, MachineSpec::article(), GcOptions::article());
        let err = model
            .feed(&IntervalLoad::new(0.0, 10, Vec::new()))
            .unwrap_err();
        assert_eq!(err, LoadError::Duration(0.0));
        assert!(err.to_string().contains("0 s"), "{err}");
        let err = model
            .feed(&IntervalLoad::new(1.0, 10, Vec::new()).with_request_latency_s(f64::NAN))
            .unwrap_err();
        assert!(matches!(err, LoadError::Latency(l) if l.is_nan()));
        // An empty interval of zero length is fine and changes nothing.
        assert_eq!(
            model.feed(&IntervalLoad::new(0.0, 0, Vec::new())),
            Ok(Vec::new())
        );
    }

    #[test]
    fn gc_comes_at_the_request_that_exhausts_gen0() {
        // Workstation on the article machine: 10 MiB gen0 budget. 20,504-byte strings,
        // no overhead, 1000 requests per second: ceil(10 MiB ÷ 20,504) = 512 requests,
        // so the first GC is at 0.512 s.
        let mut model = GcModel::new(Preset::Workstation, MachineSpec::article(), no_overhead());
        let events = model
            .feed(&IntervalLoad::new(
                1.0,
                1000,
                string_request(10_240, Lifetime::Request),
            ))
            .unwrap();
        assert_eq!(events.len(), 1);
        let expected = (10.0f64 * 1024.0 * 1024.0 / 20_504.0).ceil() / 1000.0;
        assert!(
            (events[0].time_s - expected).abs() < 1e-9,
            "{}",
            events[0].time_s
        );
        assert_eq!(events[0].generation, Generation::Gen0);
        assert_eq!(events[0].before.gen0_bytes, 512 * 20_504);
        // Latency 0: nothing survives, gen0 is empty after.
        assert_eq!(events[0].after.total_bytes(), 0);
        // The rest of the interval is in gen0 now.
        assert_eq!(model.heap().gen0_bytes, (1000 - 512) * 20_504);
        assert_eq!(model.collection_counts().gen0, 1);
    }

    #[test]
    fn in_flight_requests_survive_and_are_promoted() {
        // 1000 RPS, 100 ms latency: 100 requests in flight at every GC (Little's law).
        let mut model = GcModel::new(Preset::Workstation, MachineSpec::article(), no_overhead());
        let load = IntervalLoad::new(1.0, 1000, string_request(10_240, Lifetime::Request))
            .with_request_latency_s(0.1);
        let events = model.feed(&load).unwrap();
        let first = &events[0];
        let in_flight = 100.0 * 20_504.0;
        assert!(
            (first.survived.gen0_bytes as f64 - in_flight).abs() < 1.0,
            "{}",
            first.survived.gen0_bytes
        );
        assert_eq!(first.promoted_bytes, first.survived.gen0_bytes);
        assert_eq!(first.after.gen1_bytes, first.promoted_bytes);
        assert_eq!(first.after.gen0_bytes, 0);
    }

    #[test]
    fn the_loh_budget_triggers_gen2_and_collects_the_loh() {
        let mut model = GcModel::new(Preset::Server, MachineSpec::article(), no_overhead());
        let request = vec![ManagedAllocation {
            kind: ManagedKind::ByteArray { len: 84_976 },
            lifetime: Lifetime::Request,
        }];
        let events = model.feed(&IntervalLoad::new(1.0, 1000, request)).unwrap();
        // 85,000 B × 1000 = 81 MiB through a 24 MiB LOH budget: 3 gen2 GCs.
        assert_eq!(events.len(), 3);
        for event in &events {
            assert_eq!(event.generation, Generation::Gen2);
            assert_eq!(event.reason, GcReason::LohBudget);
            assert_eq!(event.after.loh_bytes, 0);
            assert_eq!(event.before.gen0_bytes, 0);
        }
        assert_eq!(model.collection_counts().gen2, 3);
        assert_eq!(model.collection_counts().gen0, 3);
    }

    #[test]
    fn cache_entries_die_at_their_expiry() {
        // 10 s TTL, 100 RPS of 20,504 B for 30 s: at most ~10 s of entries are alive.
        let mut model = GcModel::new(Preset::Workstation, MachineSpec::article(), no_overhead());
        let load = IntervalLoad::new(
            1.0,
            100,
            string_request(10_240, Lifetime::For(Duration::from_secs(10))),
        );
        let mut events = Vec::new();
        for _ in 0..30 {
            events.extend(model.feed(&load).unwrap());
        }
        let window = 10.0 * 100.0 * 20_504.0;
        let last = events.last().unwrap();
        // Survivors of the last GC: only entries younger than 10 s.
        let survived = last.survived.total_bytes() as f64;
        assert!(survived <= window + 1.0, "{survived} > {window}");
        assert!(survived > 0.0);
        // Cohorts stay few: one per generation and lifetime run, not one per GC.
        assert!(
            model.spaces.iter().all(|s| s.cohorts.len() <= 4),
            "{:?}",
            model.spaces
        );
    }

    #[test]
    fn totals_spread_over_the_requests_play_like_the_same_per_request_load() {
        let request = vec![
            ManagedAllocation {
                kind: ManagedKind::ByteArray { len: 84_976 },
                lifetime: Lifetime::Request,
            },
            ManagedAllocation {
                kind: ManagedKind::String { chars: 10_240 },
                lifetime: Lifetime::Forever,
            },
        ];
        let requests = 1_000u64;
        let totals: Vec<ManagedAllocation> = request
            .iter()
            .map(|allocation| {
                let size = allocation.managed_size();
                ManagedAllocation {
                    kind: ManagedKind::Sized {
                        bytes: size.bytes * requests,
                        large: size.large,
                    },
                    lifetime: allocation.lifetime,
                }
            })
            .collect();
        let mut by_request =
            GcModel::new(Preset::Server, MachineSpec::article(), GcOptions::article());
        let mut by_totals = by_request.clone();
        for _ in 0..4 {
            let expected = by_request
                .feed(&IntervalLoad::new(0.25, requests, request.clone()))
                .unwrap();
            let got = by_totals
                .feed(&IntervalLoad::from_totals(0.25, requests, totals.clone()))
                .unwrap();
            assert_eq!(got, expected);
        }
        assert!(by_totals.collection_counts().gen2 > 0);
        assert_eq!(by_totals.heap(), by_request.heap());
    }

    #[test]
    fn totals_without_requests_change_nothing_but_the_clock() {
        let mut model = GcModel::new(Preset::Server, MachineSpec::article(), no_overhead());
        let totals = vec![ManagedAllocation {
            kind: ManagedKind::Sized {
                bytes: 1 << 30,
                large: true,
            },
            lifetime: Lifetime::Request,
        }];
        let events = model
            .feed(&IntervalLoad::from_totals(0.25, 0, totals))
            .unwrap();
        assert!(events.is_empty());
        assert_eq!(model.heap().total_bytes(), 0);
        assert_eq!(model.now_s(), 0.25);
    }

    #[test]
    fn cohorts_stay_few_however_many_requests() {
        // 35K RPS for 30 s (over a million requests) of request-lived, cached and leaked
        // objects, on and off the LOH: the heap is a handful of cohorts, not a list.
        let per_request = vec![
            ManagedAllocation {
                kind: ManagedKind::ByteArray { len: 84_976 },
                lifetime: Lifetime::Request,
            },
            ManagedAllocation {
                kind: ManagedKind::String { chars: 100 },
                lifetime: Lifetime::For(Duration::from_secs(5)),
            },
            ManagedAllocation {
                kind: ManagedKind::Other { bytes: 64 },
                lifetime: Lifetime::Forever,
            },
        ];
        let mut model = GcModel::new(Preset::Server, MachineSpec::article(), GcOptions::article());
        let load = IntervalLoad::new(1.0, 35_000, per_request).with_request_latency_s(0.001);
        let mut gcs = 0;
        let mut most_cohorts = 0;
        for _ in 0..30 {
            gcs += model.feed(&load).unwrap().len();
            let cohorts: usize = model.spaces.iter().map(|s| s.cohorts.len()).sum();
            most_cohorts = most_cohorts.max(cohorts);
        }
        assert!(gcs > 1000, "{gcs}");
        assert!(most_cohorts <= 16, "{most_cohorts} cohorts");
    }

    #[test]
    fn workstation_escalates_by_time_when_budgets_never_run_out() {
        // Nothing survives (latency 0), so promotions never touch gen1's or gen2's budget:
        // only the clock can condemn them. 1000 RPS × 30,744 B: a gen0 GC about every 0.34 s.
        let mut model = GcModel::new(
            Preset::Workstation,
            MachineSpec::article(),
            GcOptions::article(),
        );
        let load = IntervalLoad::new(1.0, 1000, string_request(10_240, Lifetime::Request));
        let mut events = Vec::new();
        for _ in 0..120 {
            events.extend(model.feed(&load).unwrap());
        }
        let first_gen1 = events
            .iter()
            .find(|e| e.generation == Generation::Gen1)
            .unwrap();
        assert_eq!(first_gen1.reason, GcReason::Gen1Time);
        assert!(
            first_gen1.time_s > 10.0 && first_gen1.index > 10,
            "{first_gen1:?}"
        );
        let first_gen2 = events
            .iter()
            .find(|e| e.generation == Generation::Gen2)
            .unwrap();
        assert_eq!(first_gen2.reason, GcReason::Gen2Time);
        assert!(
            first_gen2.time_s > 100.0 && first_gen2.index > 100,
            "{first_gen2:?}"
        );
        assert!(
            events
                .iter()
                .all(|e| !matches!(e.reason, GcReason::Gen1Budget | GcReason::Gen2Budget))
        );

        // Server has no time escalation: the same load never condemns gen1.
        let mut server = GcModel::new(Preset::Server, MachineSpec::article(), GcOptions::article());
        for _ in 0..120 {
            let events = server.feed(&load).unwrap();
            assert!(events.iter().all(|e| e.generation == Generation::Gen0));
        }
    }

    #[test]
    fn description_names_the_preset_and_says_it_is_a_model() {
        let model = GcModel::new(Preset::Server, MachineSpec::article(), GcOptions::article());
        let text = model.describe();
        eprintln!("{text}");
        for needle in [
            "not a measurement",
            "server preset",
            "8 heap",
            "300.0 MiB",
            "24.0 MiB",
            "×3",
            "10.0 KiB",
        ] {
            assert!(text.contains(needle), "{text:?} lacks {needle:?}");
        }
        let wks = GcModel::new(
            Preset::Workstation,
            MachineSpec::article(),
            GcOptions::article(),
        );
        assert!(!wks.describe().contains("×3"), "{}", wks.describe());
        assert!(wks.describe().contains("gen0 budget 10.0 MiB"));
    }
}
