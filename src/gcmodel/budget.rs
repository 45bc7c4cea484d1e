//! How a generation's allocation budget adapts after it is collected: the growth factor
//! from the survival rate (`surv_to_growth`), the young-generation, gen2 and LOH budget
//! rules (`desired_new_allocation`), and the blend with the previous budget when a GC came
//! before the budget was used up (`linear_allocation_model`). Transcribed from
//! dotnet/runtime `gc/dynamic_tuning.cpp` as summarised in `docs/dotnet-gc-model.md`
//! ("desired budget"); the free-space / fragmentation and memory-load corrections are left
//! out (see the module doc).

use super::preset::GrowthLimits;

/// What a collection saw of one generation, in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observed {
    /// Size of the generation when the GC started (live and dead).
    pub begin_bytes: f64,
    /// Bytes of that generation that survived (wherever they were promoted to).
    pub survived_bytes: f64,
    /// Size of the generation after the GC (its own survivors that stayed, plus what was
    /// promoted into it). Only gen2 and the LOH use it.
    pub size_after_bytes: f64,
    /// Share of the previous budget used when the GC came: `(desired − left) ÷ desired`;
    /// ≥ 1 when the budget was exhausted.
    pub allocation_fraction: f64,
    /// The budget set after this generation's previous collection.
    pub previous_desired_bytes: f64,
    /// Seconds since this generation's previous collection.
    pub seconds_since_previous: f64,
}

/// Growth factor for a survival rate `cst` (0–1): `limit` at zero survival, rising to
/// `max_limit`, which it reaches at `cst = (max_limit − limit) ÷ (limit × (max_limit − 1))`.
pub fn surv_to_growth(cst: f64, growth: GrowthLimits) -> f64 {
    let GrowthLimits { limit, max_limit } = growth;
    if cst < (max_limit - limit) / (limit * (max_limit - 1.0)) {
        (limit - limit * cst) / (1.0 - cst * limit)
    } else {
        max_limit
    }
}

/// When a GC comes before the budget is 95 % used, the survival it saw is not trusted fully:
/// blend in the previous budget, weighted by the unused share, fading over five minutes.
pub fn linear_allocation_model(observed: &Observed, new_allocation_bytes: f64) -> f64 {
    let fraction = observed.allocation_fraction;
    if fraction > 0.0 && fraction < 0.95 {
        const DECAY_SECONDS: f64 = 300.0;
        let decay = ((DECAY_SECONDS - observed.seconds_since_previous) / DECAY_SECONDS).max(0.0);
        let previous_weight = (1.0 - fraction) * decay;
        (1.0 - previous_weight) * new_allocation_bytes
            + previous_weight * observed.previous_desired_bytes
    } else {
        new_allocation_bytes
    }
}

/// Gen0 and gen1: `clamp(f × survivors, min, max)` with `f` from the survival rate.
pub fn young_budget(
    observed: &Observed,
    min_bytes: f64,
    max_bytes: f64,
    growth: GrowthLimits,
) -> f64 {
    if observed.begin_bytes <= 0.0 {
        return min_bytes;
    }
    let cst = observed.survived_bytes / observed.begin_bytes;
    let f = surv_to_growth(cst, growth);
    let budget = (f * observed.survived_bytes).max(min_bytes).min(max_bytes);
    linear_allocation_model(observed, budget)
}

/// Gen2: let the generation grow by `f` over its size after the GC:
/// `max(max(f × size_after, min) − size_after, min)`.
pub fn gen2_budget(observed: &Observed, min_bytes: f64, growth: GrowthLimits) -> f64 {
    if observed.begin_bytes <= 0.0 {
        return min_bytes;
    }
    let (f, current) = older_growth(observed, growth);
    let new_size = (f * current).max(min_bytes);
    linear_allocation_model(observed, (new_size - current).max(min_bytes))
}

/// LOH: like gen2 but at least gen2's new budget, a quarter of the LOH's size and the
/// minimum: `max(new_size − size_after, gen2_budget, size_after ÷ 4, min)`.
pub fn loh_budget(
    observed: &Observed,
    min_bytes: f64,
    growth: GrowthLimits,
    gen2_budget_bytes: f64,
) -> f64 {
    if observed.begin_bytes <= 0.0 {
        return min_bytes;
    }
    let (f, current) = older_growth(observed, growth);
    let new_size = (f * current).max(min_bytes);
    let budget = (new_size - current)
        .max(gen2_budget_bytes)
        .max(current / 4.0)
        .max(min_bytes);
    linear_allocation_model(observed, budget)
}

/// Growth factor (survival capped at 1) and size after, for gen2 and the LOH.
fn older_growth(observed: &Observed, growth: GrowthLimits) -> (f64, f64) {
    let cst = (observed.survived_bytes / observed.begin_bytes).min(1.0);
    (surv_to_growth(cst, growth), observed.size_after_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER_GEN0: GrowthLimits = GrowthLimits {
        limit: 20.0,
        max_limit: 40.0,
    };
    const GEN2: GrowthLimits = GrowthLimits {
        limit: 1.2,
        max_limit: 1.8,
    };

    fn observed(begin: f64, survived: f64, after: f64) -> Observed {
        Observed {
            begin_bytes: begin,
            survived_bytes: survived,
            size_after_bytes: after,
            allocation_fraction: 1.0,
            previous_desired_bytes: 0.0,
            seconds_since_previous: 1.0,
        }
    }

    #[test]
    fn growth_runs_from_limit_to_max_limit() {
        assert_eq!(surv_to_growth(0.0, SERVER_GEN0), 20.0);
        // (20 − 0.2) ÷ (1 − 0.2) = 24.75
        assert!((surv_to_growth(0.01, SERVER_GEN0) - 24.75).abs() < 1e-12);
        // The knee: (40 − 20) ÷ (20 × 39) ≈ 0.0256; above it, max_limit.
        assert_eq!(surv_to_growth(0.03, SERVER_GEN0), 40.0);
        assert_eq!(surv_to_growth(1.0, GEN2), 1.8);
        // Monotonic below the knee.
        assert!(surv_to_growth(0.02, SERVER_GEN0) > surv_to_growth(0.01, SERVER_GEN0));
    }

    #[test]
    fn young_budget_is_clamped_growth_times_survivors() {
        let (min, max) = (100.0, 10_000.0);
        // No survivors: the minimum.
        assert_eq!(
            young_budget(&observed(1000.0, 0.0, 0.0), min, max, SERVER_GEN0),
            min
        );
        // 10 of 1000 survive: 24.75 × 10 = 247.5.
        let budget = young_budget(&observed(1000.0, 10.0, 10.0), min, max, SERVER_GEN0);
        assert!((budget - 247.5).abs() < 1e-9, "{budget}");
        // Half survives: 40 × 500 capped at the maximum.
        assert_eq!(
            young_budget(&observed(1000.0, 500.0, 500.0), min, max, SERVER_GEN0),
            max
        );
        // Nothing was there: the minimum.
        assert_eq!(
            young_budget(&observed(0.0, 0.0, 0.0), min, max, SERVER_GEN0),
            min
        );
    }

    #[test]
    fn early_gc_blends_in_the_previous_budget() {
        let mut seen = observed(1000.0, 0.0, 0.0);
        seen.allocation_fraction = 0.5;
        seen.previous_desired_bytes = 1000.0;
        seen.seconds_since_previous = 0.0;
        // Half the weight on the previous 1000, half on the new minimum 100.
        let budget = young_budget(&seen, 100.0, 10_000.0, SERVER_GEN0);
        assert!((budget - 550.0).abs() < 1e-9, "{budget}");
        // After five minutes the previous budget no longer counts.
        seen.seconds_since_previous = 400.0;
        assert_eq!(young_budget(&seen, 100.0, 10_000.0, SERVER_GEN0), 100.0);
    }

    #[test]
    fn gen2_budget_grows_with_the_generation() {
        // Everything survived (cst = 1 → f = 1.8): room for 0.8 × 1000.
        let budget = gen2_budget(&observed(1000.0, 1000.0, 1000.0), 10.0, GEN2);
        assert!((budget - 800.0).abs() < 1e-9, "{budget}");
        // Small generation: the minimum.
        assert_eq!(gen2_budget(&observed(10.0, 1.0, 1.0), 50.0, GEN2), 50.0);
    }

    #[test]
    fn loh_budget_is_at_least_gen2s_and_a_quarter_of_its_size() {
        let loh = GrowthLimits {
            limit: 1.25,
            max_limit: 4.5,
        };
        assert_eq!(loh_budget(&observed(100.0, 0.0, 0.0), 30.0, loh, 0.0), 30.0);
        assert_eq!(
            loh_budget(&observed(100.0, 0.0, 0.0), 30.0, loh, 70.0),
            70.0
        );
        // 4000 bytes live after, all survived (f = 4.5): 3.5 × 4000 = 14,000 > 4000 ÷ 4.
        let budget = loh_budget(&observed(4000.0, 4000.0, 4000.0), 30.0, loh, 0.0);
        assert!((budget - 14_000.0).abs() < 1e-9, "{budget}");
    }
}
