//! One collection: which generation to condemn (LOH exhausted → gen2; escalate while older
//! budgets are used up; Workstation time escalation), who survives, promotion, and the new
//! budgets from the survival rates — the "Triggers" and "Model" sections of
//! `docs/dotnet-gc-model.md`.

use super::*;

impl GcModel {
    /// Which generation to condemn at `t`, and why.
    pub(super) fn condemn(&self, t: f64) -> (usize, GcReason) {
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
    pub(super) fn collect(&mut self, t: f64) -> GcEvent {
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
