//! The comparison as data: `compare.json` and `membench compare --format json`. One entry
//! per run with the table's figures in their raw units (bytes, microseconds, per second),
//! its checks and how it ended, and where its directory is; everything else a run
//! measured is in that directory's `summary.json`.

use serde::{Deserialize, Serialize};

use super::table::verdict_cell;
use super::*;
use crate::report::summary::{CostSummary, LatencySummary, MeasuredGcSummary};
use crate::verdict::Check;

/// Version of `compare.json`; bumped when a field changes meaning.
pub const COMPARISON_FORMAT_VERSION: u32 = 1;

/// `compare.json`: the runs compared, in the table's order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ComparisonJson {
    pub format_version: u32,
    /// The membench that compared them, and the git commit it was built from.
    pub membench_version: String,
    pub membench_commit: String,
    /// `side_by_side` or `overlay`: how compare.png draws them.
    pub layout: String,
    pub runs: Vec<ComparedRunJson>,
}

/// One run of the comparison: the table's row in raw units.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ComparedRunJson {
    /// The label the table and the chart use, e.g. `loh size=84976 · jemalloc`.
    pub label: String,
    /// The run's results directory, as given or made.
    pub dir: String,
    pub scenario: String,
    /// Mean requests per second over the measured phase.
    pub rps: f64,
    /// Server CPU, allocations and faults per response (medians with IQR).
    pub cost: CostSummary,
    /// Whole-run latency percentiles, microseconds.
    pub latency: LatencySummary,
    pub peak_rss_bytes: u64,
    pub heap_live_slope_mb_per_min: Option<f64>,
    pub allocs_per_s: Option<f64>,
    pub reclaim_events: Option<u64>,
    /// Failed requests plus non-2xx responses.
    pub errors: u64,
    /// Collections per second of the modelled .NET GC (a model, never measured).
    pub modelled_gen0_per_s: Option<f64>,
    pub modelled_gen2_per_s: Option<f64>,
    /// A garbage-collected runtime's own collections.
    pub measured_gc: Option<MeasuredGcSummary>,
    /// Every expectation checked, and the table's verdict cell.
    pub checks: Vec<Check>,
    pub verdict: String,
    pub end: RunEnd,
    /// The membench that made the run (from its summary.json; empty when not recorded).
    pub membench_version: String,
    pub membench_commit: String,
}

/// The comparison of `runs` (labelled `labels`) drawn as `layout`.
pub fn comparison_json(runs: &[SavedRun], labels: &[String], layout: &str) -> ComparisonJson {
    ComparisonJson {
        format_version: COMPARISON_FORMAT_VERSION,
        membench_version: crate::build_info::VERSION.to_string(),
        membench_commit: crate::build_info::COMMIT.to_string(),
        layout: layout.to_string(),
        runs: runs
            .iter()
            .zip(labels)
            .map(|(run, label)| {
                let summary = &run.summary;
                ComparedRunJson {
                    label: label.clone(),
                    dir: run.dir.display().to_string(),
                    scenario: summary.run.scenario.clone(),
                    rps: summary.load.rps_mean,
                    cost: summary.cost.clone(),
                    latency: summary.latency.clone(),
                    peak_rss_bytes: summary.memory.rss.peak_bytes,
                    heap_live_slope_mb_per_min: summary.memory.heap_live_slope_mb_per_min,
                    allocs_per_s: summary.load.allocs_per_s_mean,
                    reclaim_events: summary.reclaim.events_total,
                    errors: summary.totals.errors,
                    modelled_gen0_per_s: summary.modelled_gc.as_ref().map(|m| m.gen0_per_s),
                    modelled_gen2_per_s: summary.modelled_gc.as_ref().map(|m| m.gen2_per_s),
                    measured_gc: summary.measured_gc.clone(),
                    checks: summary.verdict.clone(),
                    verdict: verdict_cell(summary),
                    end: summary.run.end.clone(),
                    membench_version: summary.membench_version.clone(),
                    membench_commit: summary.membench_commit.clone(),
                }
            })
            .collect(),
    }
}
