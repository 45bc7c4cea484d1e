//! `membench sweep`: one short run per size of a sized scenario (e.g. `loh`), per allocator,
//! and where throughput falls off a cliff. This module owns the sweep's saved result
//! (`sweep.json`, read back by the gallery), the size list, and the cliff finder; the
//! chart; the command itself lives in `commands::sweep`.
//!
//! A sweep directory holds `sweep.json` ([`SweepResult`]), `sweep.csv` (one row per point),
//! `sweep.png`/`.svg`, and one ordinary `membench run` results directory per point
//! (`<allocator>-<size in bytes>/`), so any point can be opened or compared on its own.
//!
//! * [`sizes`] — `--sizes` (a range in log steps or a list), checked before anything runs,
//!   and sizes named for people.
//! * [`chart`] — `sweep.png`/`.svg`: RPS against size, cliffs marked, drawn with the
//!   run chart's pieces from `report::chart`.
//! * [`cliff`] — the cliff finder: a drop of more than `cliff_drop` between neighbours.
//! * [`point`] — a [`SweepPoint`] from a finished run's summary and samples.
//! * [`save`] — `sweep.json` and `sweep.csv`, rewritten after every point.
//! * [`table`] — the table and cliff lines printed on stdout.

pub mod chart;
pub mod cliff;
pub mod point;
pub mod save;
pub mod sizes;
pub mod table;

pub(crate) use chart::render_sweep;
pub use cliff::{find_cliffs, parse_cliff_drop};
pub use point::{
    FRESH_PERCENT, fresh_page_onset, fresh_page_percent, minor_faults_per_s, point_from_run,
};
pub use save::{SWEEP_CSV_COLUMNS, read_sweep, write_sweep_files};
pub use sizes::{
    DEFAULT_STEPS_PER_DOUBLING, MAX_SWEEP_SIZE_BYTES, MAX_SWEEP_SIZES, SizeItem, SizeSpec,
    SizesError, format_size, parse_size_spec, size_labels,
};
pub use table::{
    SweepTableFormat, describe_cliffs, format_sweep_table, size_alone_drop, spacing_warning,
};

use serde::{Deserialize, Serialize};

/// Version of `sweep.json`; bumped when a field changes meaning.
pub const SWEEP_FORMAT_VERSION: u32 = 1;
/// Default relative drop in RPS between neighbouring sizes that counts as a cliff (30 %).
pub const DEFAULT_CLIFF_DROP: f64 = 0.30;

/// One measured point: one allocator at one size, from its run's measured phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// `system`, `jemalloc` or `mimalloc`.
    pub allocator: String,
    /// The scenario's `size` parameter in bytes.
    pub size_bytes: u64,
    /// Mean requests per second over the measured phase.
    pub rps: f64,
    /// 99th-percentile latency over the whole run, microseconds.
    pub latency_p99_us: Option<u64>,
    /// Heap allocations per second (the counting allocator); `None` when not reported.
    pub allocs_per_s: Option<f64>,
    /// Bytes allocated per second; `None` when not reported.
    pub alloc_bytes_per_s: Option<f64>,
    /// Minor page faults of the server per second over the measured phase.
    pub minor_faults_per_s: f64,
    /// Peak resident set of the server, bytes.
    pub peak_rss_bytes: u64,
    /// Allocator reclaim events (purges, trims) over the whole run; `None` when the
    /// allocator counts none.
    pub reclaim_events: Option<u64>,
    /// Failed requests plus non-2xx responses.
    pub errors: u64,
    /// The point's run directory, relative to the sweep directory.
    pub run_dir: String,
}

/// A drop in RPS of more than the threshold between two neighbouring sizes of one allocator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cliff {
    pub allocator: String,
    /// The smaller size (the last point before the drop), bytes.
    pub from_size_bytes: u64,
    /// The next size measured, where RPS is lower, bytes.
    pub to_size_bytes: u64,
    pub from_rps: f64,
    pub to_rps: f64,
    /// `1 − to_rps ÷ from_rps`, e.g. 0.52 for a 52 % drop.
    pub drop_fraction: f64,
}

/// Everything a sweep measured, as written to `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    pub format_version: u32,
    /// The swept scenario, e.g. `loh`.
    pub scenario: String,
    /// Sizes in bytes, ascending, as swept.
    pub sizes_bytes: Vec<u64>,
    /// Allocators in the order swept.
    pub allocators: Vec<String>,
    /// Measured load duration of each point, seconds (after its warm-up).
    pub duration_s: f64,
    pub warmup_s: f64,
    pub connections: usize,
    /// The relative drop that counts as a cliff (0.30 by default).
    pub cliff_drop: f64,
    /// Every point, grouped by allocator, ascending size within each.
    pub points: Vec<SweepPoint>,
    /// Cliffs found per allocator, ascending size.
    pub cliffs: Vec<Cliff>,
    /// How the sweep ended: `completed`, `interrupted` or `server died: …` (also
    /// `error at …` when membench itself failed). `running` in the copies written after
    /// each point while the sweep goes on: a file that still says so after membench has
    /// exited comes from a sweep that was killed.
    pub end: String,
    /// The command line that made the sweep.
    pub command_line: Vec<String>,
}
