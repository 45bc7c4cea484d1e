//! What the model reports: one [`GcEvent`] per modelled collection (the chart's hollow
//! triangles) and [`GenSizes`], the managed heap per generation (the dashed sawtooth line).
//! Sizes count dead objects that have not been collected yet, like the article's
//! `GC.GetTotalMemory(false)`.

use serde::{Deserialize, Serialize};

/// The highest generation a collection condemned; a gen-N GC also collects all younger ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Generation {
    Gen0,
    Gen1,
    Gen2,
}

impl Generation {
    pub(crate) fn from_number(n: usize) -> Self {
        match n {
            0 => Generation::Gen0,
            1 => Generation::Gen1,
            _ => Generation::Gen2,
        }
    }
}

/// Why the collection condemned the generation it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GcReason {
    /// Gen0's allocation budget ran out.
    Gen0Budget,
    /// The LOH's allocation budget ran out: always a gen2 collection.
    LohBudget,
    /// Escalated: promotions had used up gen1's budget.
    Gen1Budget,
    /// Escalated: promotions had used up gen2's budget.
    Gen2Budget,
    /// Escalated by time (Workstation): 10 s and 10 GCs without a gen1 collection.
    Gen1Time,
    /// Escalated by time (Workstation): 100 s and 100 GCs without a gen2 collection.
    Gen2Time,
}

/// Managed heap bytes per generation, dead objects included until collected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenSizes {
    pub gen0_bytes: u64,
    pub gen1_bytes: u64,
    pub gen2_bytes: u64,
    /// Large-object heap (logically part of gen2, collected only with it).
    pub loh_bytes: u64,
}

impl GenSizes {
    /// The whole managed heap.
    pub fn total_bytes(&self) -> u64 {
        self.gen0_bytes
            .saturating_add(self.gen1_bytes)
            .saturating_add(self.gen2_bytes)
            .saturating_add(self.loh_bytes)
    }

    pub(crate) fn from_f64(bytes: [f64; 4]) -> Self {
        // Sizes are sums of non-negative cohort bytes; `as` saturates and rounds toward zero
        // after `round`, so no value can wrap.
        let to_u64 = |b: f64| b.max(0.0).round() as u64;
        GenSizes {
            gen0_bytes: to_u64(bytes[0]),
            gen1_bytes: to_u64(bytes[1]),
            gen2_bytes: to_u64(bytes[2]),
            loh_bytes: to_u64(bytes[3]),
        }
    }
}

/// How many collections of each generation so far, counted like `GC.CollectionCount(n)`:
/// a gen2 GC bumps gen0, gen1 and gen2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionCounts {
    pub gen0: u64,
    pub gen1: u64,
    pub gen2: u64,
}

/// One modelled collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GcEvent {
    /// 1-based index of this GC since the model started.
    pub index: u64,
    /// Seconds since the model's first interval started.
    pub time_s: f64,
    /// Highest generation collected.
    pub generation: Generation,
    pub reason: GcReason,
    /// Heap per generation just before the GC (the sawtooth's peak).
    pub before: GenSizes,
    /// Heap per generation just after the GC.
    pub after: GenSizes,
    /// Bytes of each condemned generation that survived (0 for generations not condemned).
    pub survived: GenSizes,
    /// Survivors moved one generation up (0 when the GC decided not to promote).
    pub promoted_bytes: u64,
    /// Allocation budget of each generation right after the GC, in bytes. Gen1 and gen2
    /// budgets are consumed by promotions, gen0 and the LOH by allocation.
    pub budgets_after: GenSizes,
}
