//! `membench sweep`: short runs per size of a sized scenario (e.g. `loh`), per allocator,
//! each repeated, and where the cost of a request steps off a cliff. This module owns the
//! sweep's saved result (`sweep.json`, read back by the gallery), the size list, the
//! median and spread of repeated points, the cliff finder and the chart; the loop that
//! runs the points lives in `runner::sweep`, the command in `commands::sweep`.
//!
//! A sweep directory holds `sweep.json` ([`SweepResult`]), `sweep.csv` (one row per point),
//! `sweep.png`/`.svg`, and one ordinary `membench run` results directory per repetition of
//! a point (`<allocator>-<size in bytes>-r<round>/`), so any run can be opened or compared
//! on its own.
//!
//! * [`sizes`] — `--sizes` (a range in log steps or a list), checked before anything runs,
//!   and sizes named for people.
//! * [`chart`] — `sweep.png`/`.svg`: RPS against size, cliffs marked, drawn with the
//!   run chart's pieces from `report::chart`.
//! * [`cliff`] — the cliff finder: a step in cost per request beyond the noise (spreads
//!   apart) and beyond the size step, judged between neighbours.
//! * [`point`] — a [`SweepPoint`] from a finished run's summary and samples, with the
//!   server's CPU time per request.
//! * [`repeat`] — a point measured several times: its median and spread.
//! * [`save`] — `sweep.json` and `sweep.csv`, rewritten after every point.
//! * [`table`] — the table and cliff lines printed on stdout.

pub mod chart;
pub mod cliff;
pub mod point;
pub mod repeat;
pub mod save;
pub mod sizes;
pub mod table;

pub(crate) use chart::render_sweep;
pub use cliff::{
    Step, find_cliffs, judge_steps, mark_remeasured, parse_cliff_drop, remeasure_targets,
    required_rise,
};
pub use point::{
    FRESH_PERCENT, cpu_us_per_request, fresh_page_onset, fresh_page_percent, minor_faults_per_s,
    point_from_run,
};
pub use repeat::{median_point, run_dir_name};
pub use save::{SWEEP_CSV_COLUMNS, read_sweep, write_sweep_files};
pub use sizes::{
    DEFAULT_STEPS_PER_DOUBLING, MAX_SWEEP_SIZES, SizeItem, SizeSpec, SizesError, format_size,
    parse_size_spec, size_labels,
};
pub use table::{
    SweepTableFormat, describe_cliffs, format_cpu_us, format_sweep_table, size_alone_drop,
};

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Version of `sweep.json`; bumped when a field changes meaning (2: points are medians of
/// repetitions, cliffs are judged on cost per request with spreads).
pub const SWEEP_FORMAT_VERSION: u32 = 2;
/// Default number of times each point is measured (`--repeat`): the fewest that give a
/// median that one bad run cannot move, and a spread.
pub const DEFAULT_REPEAT: u32 = 3;
/// Default relative drop in RPS between neighbouring sizes that counts as a cliff (30 %).
pub const DEFAULT_CLIFF_DROP: f64 = 0.30;

/// One measured point: one allocator at one size. Measured once, its run's measured
/// phase; measured several times ([`repeat`]), the median over its repetitions of each
/// rate and count, the largest peak RSS and the sum of the errors, with the spread of RPS
/// and CPU per request and every repetition listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// The curve the point belongs to: the Rust server's allocator (`system`, `jemalloc`,
    /// `mimalloc`), or for another runtime its name (`mono`, `jvm`, `node`, `go`: its
    /// memory is its collector's, there is no allocator to choose).
    pub allocator: String,
    /// The runtime of the server (`rust`, `mono`, `jvm`, `node`, `go`); `rust` in sweeps
    /// written before runtimes were swept.
    #[serde(default = "rust")]
    pub runtime: String,
    /// The measured runtime and collector, e.g. `Mono 6.8.0.105, SGen`; `None` for a
    /// server without a collector (Rust).
    #[serde(default)]
    pub measured_gc: Option<String>,
    /// MEASURED collections per second over the measured phase by the runtime's kind
    /// (`gen0`/`gen1` Mono, `young`/`old` JVM, …; median over repetitions); empty without
    /// a collector.
    #[serde(default)]
    pub gc_per_s: BTreeMap<String, f64>,
    /// Lowest and highest collections per second by kind over the repetitions.
    #[serde(default)]
    pub gc_per_s_min: BTreeMap<String, f64>,
    #[serde(default)]
    pub gc_per_s_max: BTreeMap<String, f64>,
    /// MEASURED collections per 1,000 responses by kind over the measured phase (median
    /// over repetitions, each repetition's own collections over its own responses): unlike
    /// the rate per second it does not follow RPS, which swings with the CPU a shared
    /// machine gives the server. Empty without a collector and in sweeps written before it
    /// existed.
    #[serde(default)]
    pub gc_per_1k_requests: BTreeMap<String, f64>,
    /// Lowest and highest collections per 1,000 responses by kind over the repetitions.
    #[serde(default)]
    pub gc_per_1k_requests_min: BTreeMap<String, f64>,
    #[serde(default)]
    pub gc_per_1k_requests_max: BTreeMap<String, f64>,
    /// The scenario's `size` parameter in bytes.
    pub size_bytes: u64,
    /// Mean requests per second over the measured phase (median over repetitions).
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
    /// MEASURED by a Node server: the most memory outside the V8 heap (Buffers,
    /// `process.memoryUsage().external`) seen in the measured phase, bytes; the largest
    /// over the repetitions. `None` for a runtime that reports none, and in older sweeps.
    #[serde(default)]
    pub external_peak_bytes: Option<u64>,
    /// Allocator reclaim events (purges, trims) over the whole run; `None` when the
    /// allocator counts none.
    pub reclaim_events: Option<u64>,
    /// Failed requests plus non-2xx responses.
    pub errors: u64,
    /// The point's run directory, relative to the sweep directory: of repeated points,
    /// the repetition whose CPU per request (or RPS) is nearest the median.
    pub run_dir: String,
    /// Server CPU time (user + system) per response over the measured phase,
    /// microseconds (median over repetitions): the cost of a request, which unlike RPS
    /// does not depend on how much CPU the machine gave the server. `None` when no
    /// response came back or the CPU was not sampled.
    #[serde(default)]
    pub cpu_us_per_request: Option<f64>,
    /// Lowest and highest CPU µs per request over the repetitions.
    #[serde(default)]
    pub cpu_us_per_request_min: Option<f64>,
    #[serde(default)]
    pub cpu_us_per_request_max: Option<f64>,
    /// Lowest and highest RPS over the repetitions.
    #[serde(default)]
    pub rps_min: Option<f64>,
    #[serde(default)]
    pub rps_max: Option<f64>,
    /// Every measured repetition, in the order measured (empty in sweeps written before
    /// repetitions existed).
    #[serde(default)]
    pub repetitions: Vec<Repetition>,
}

/// One measurement of a point: one ordinary run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repetition {
    /// 1 for the first round; rounds after `--repeat` are automatic re-measurements of a
    /// suspected cliff.
    pub round: u32,
    /// Its run directory, relative to the sweep directory.
    pub run_dir: String,
    pub rps: f64,
    pub cpu_us_per_request: Option<f64>,
    pub minor_faults_per_s: f64,
    /// Failed requests plus non-2xx responses of this run.
    pub errors: u64,
    /// Measured collections per second by kind (empty without a collector).
    #[serde(default)]
    pub gc_per_s: BTreeMap<String, f64>,
    /// Measured collections per 1,000 responses by kind over this run's measured phase
    /// (empty without a collector, and in sweeps written before it existed).
    #[serde(default)]
    pub gc_per_1k_requests: BTreeMap<String, f64>,
}

/// A step in the cost of a request between two neighbouring sizes of one allocator that
/// neither the noise (the spreads of the two points do not overlap) nor the size step
/// explains (see [`cliff`]). The RPS fields are the points' medians.
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
    /// What the cost was judged on: `cpu_us_per_request`, or `rps` (cost as 1 ÷ RPS)
    /// where a point has no CPU per request.
    #[serde(default)]
    pub judged_on: String,
    /// The cost after ÷ before (CPU per request, or RPS before ÷ after), e.g. 2.6.
    #[serde(default)]
    pub cost_ratio: f64,
    /// The smallest ratio that would have been a cliff: the size step, or the cliff
    /// threshold as a rise in cost, whichever is larger.
    #[serde(default)]
    pub required_ratio: f64,
    /// Both points were measured once more after the cliff was first suspected, and it
    /// held.
    #[serde(default)]
    pub remeasured: bool,
}

/// Everything a sweep measured, as written to `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    pub format_version: u32,
    /// The swept scenario, e.g. `loh`.
    pub scenario: String,
    /// Sizes in bytes, ascending, as swept.
    pub sizes_bytes: Vec<u64>,
    /// The curves in the order swept: the Rust server's allocators, then each other
    /// runtime by name (see [`SweepPoint::allocator`]; each point names its runtime, the
    /// `--runtime-arg`s are in each run's summary and in `command_line`).
    pub allocators: Vec<String>,

    /// Measured load duration of each point, seconds (after its warm-up).
    pub duration_s: f64,
    pub warmup_s: f64,
    pub connections: usize,
    /// The cliff threshold as a drop in RPS (0.30 by default); a cliff is a rise in cost
    /// per request of more than the size step times `1 ÷ (1 − cliff_drop)`.
    pub cliff_drop: f64,
    /// Times each point was to be measured (`--repeat`); 1 in sweeps written before it.
    #[serde(default = "one")]
    pub repeat: u32,
    /// Every point, grouped by allocator, ascending size within each.
    pub points: Vec<SweepPoint>,
    /// Cliffs found per allocator, ascending size.
    pub cliffs: Vec<Cliff>,
    /// How the sweep ended (see [`SweepEnd`]).
    pub end: SweepEnd,
    /// The command line that made the sweep.
    pub command_line: Vec<String>,
    /// The membench that measured it, and the git commit it was built from (see
    /// `summary.json`); empty in sweeps written before they were recorded.
    #[serde(default)]
    pub membench_version: String,
    #[serde(default)]
    pub membench_commit: String,
}

/// How a sweep ended, written in `sweep.json` as the text [`fmt::Display`] gives:
/// `completed`, `interrupted`, `server died: …` or `error at …`. `running` in the copies
/// written after each point while the sweep goes on: a file that still says so after
/// membench has exited comes from a sweep that was killed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SweepEnd {
    /// Points are still being measured.
    Running,
    /// Every point was measured.
    Completed,
    /// Ctrl-C: the points before it are kept.
    Interrupted,
    /// SIGTERM or SIGHUP: the points before it are kept.
    Terminated,
    /// The server died at a point: `<allocator> <size>: the server <how>`.
    ServerDied(String),
    /// membench itself failed at a point: `<which point>: <error>`.
    Error(String),
}

fn one() -> u32 {
    1
}

fn rust() -> String {
    "rust".to_string()
}

const SERVER_DIED_PREFIX: &str = "server died: ";
const ERROR_PREFIX: &str = "error at ";

impl fmt::Display for SweepEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SweepEnd::Running => f.write_str("running"),
            SweepEnd::Completed => f.write_str("completed"),
            SweepEnd::Interrupted => f.write_str("interrupted"),
            SweepEnd::Terminated => f.write_str("terminated"),
            SweepEnd::ServerDied(detail) => write!(f, "{SERVER_DIED_PREFIX}{detail}"),
            SweepEnd::Error(detail) => write!(f, "{ERROR_PREFIX}{detail}"),
        }
    }
}

/// Compares with the written form, so a reader of `sweep.json` can test `end == "completed"`.
impl PartialEq<&str> for SweepEnd {
    fn eq(&self, text: &&str) -> bool {
        text.parse::<SweepEnd>().is_ok_and(|end| end == *self)
    }
}

impl std::str::FromStr for SweepEnd {
    type Err = String;

    fn from_str(text: &str) -> Result<SweepEnd, String> {
        match text {
            "running" => Ok(SweepEnd::Running),
            "completed" => Ok(SweepEnd::Completed),
            "interrupted" => Ok(SweepEnd::Interrupted),
            "terminated" => Ok(SweepEnd::Terminated),
            _ => {
                if let Some(detail) = text.strip_prefix(SERVER_DIED_PREFIX) {
                    Ok(SweepEnd::ServerDied(detail.to_string()))
                } else if let Some(detail) = text.strip_prefix(ERROR_PREFIX) {
                    Ok(SweepEnd::Error(detail.to_string()))
                } else {
                    Err(format!(
                        "unknown sweep end \"{text}\": expected completed, interrupted, running, \
                         \"server died: …\" or \"error at …\""
                    ))
                }
            }
        }
    }
}

impl Serialize for SweepEnd {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SweepEnd {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SweepEnd, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod end_tests {
    use super::SweepEnd;

    #[test]
    fn sweep_ends_are_written_as_the_same_strings_and_read_back() {
        for (end, text) in [
            (SweepEnd::Running, "running"),
            (SweepEnd::Completed, "completed"),
            (SweepEnd::Interrupted, "interrupted"),
            (SweepEnd::Terminated, "terminated"),
            (
                SweepEnd::ServerDied("system 1 MiB: the server was killed by signal 9".into()),
                "server died: system 1 MiB: the server was killed by signal 9",
            ),
            (
                SweepEnd::Error("sweep point 2 of 4: system 1 MiB: boom".into()),
                "error at sweep point 2 of 4: system 1 MiB: boom",
            ),
        ] {
            let json = serde_json::to_string(&end).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<SweepEnd>(&json).unwrap(), end);
        }
        assert!(serde_json::from_str::<SweepEnd>("\"exploded\"").is_err());
    }
}
