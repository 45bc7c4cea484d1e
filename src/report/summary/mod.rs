//! `summary.json`: one run in numbers — what was run, on what, how it ended, and what the
//! samples add up to (totals, means, memory at start/end/peak, growth slopes).
//!
//! Conventions, so a reader of the JSON need not read this code:
//! * *start* is the first sample (taken before any load), *end* the last one (taken after
//!   load stopped), *peak* the largest of all samples.
//! * Totals count the whole run, warm-up included: they are what the server went through.
//! * Means and slopes use the measured samples only — after the warm-up (phases `load` and
//!   `final`). Means are weighted by interval length, so a long last interval counts for
//!   its length, not as one sample.
//! * Slopes are Theil–Sen (see [`crate::stats`]) over those samples, in MB per minute,
//!   MB = 1,000,000 bytes (the unit of the charts).
//! * Costs per request (`cost`) are medians with their interquartile range over the
//!   intervals under load: the spread says how sure the figure is.
//! * Optional values (heap, allocator) are absent for a server that is not membench.
//! * Samples taken after the server process ended (`/proc` gone, RSS 0) do not count for
//!   RSS or CPU: their zeros are not measurements.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::machine::MachineInfo;
use crate::memory::AllocatorKind;

mod compute;
mod cost;
mod measured;
pub use compute::summarize;
pub(crate) use compute::{cpu_percent, reclaim_source, rss_bytes, time_weighted_mean};
pub use cost::{CostSummary, Spread};

pub use measured::{KindRate, MeasuredGcSummary, measured_gc_label};

/// Version of the `summary.json` layout; bumped when a field changes meaning.
pub const SUMMARY_FORMAT_VERSION: u32 = 1;

/// How a run ended, as written in the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum RunEnd {
    /// The planned duration or request count was reached.
    Completed,
    /// Ctrl-C; everything sampled until then is kept.
    Interrupted,
    /// SIGTERM or SIGHUP (a service manager, a closed terminal); everything sampled
    /// until then is kept. Written `{"kind": "terminated"}`: readers older than this
    /// variant refuse such a summary rather than misreading it.
    Terminated,
    /// The server process ended during the run; the text says how.
    ServerDied(String),
}

impl RunEnd {
    /// For people: `completed`, `interrupted (Ctrl-C)`, `terminated (SIGTERM)`,
    /// `server died: the server …`.
    pub fn describe(&self) -> String {
        match self {
            RunEnd::Completed => "completed".to_string(),
            RunEnd::Interrupted => "interrupted (Ctrl-C); samples until then are kept".to_string(),
            RunEnd::Terminated => "terminated (SIGTERM); samples until then are kept".to_string(),
            RunEnd::ServerDied(how) => format!("server died: {how}"),
        }
    }
}

/// Facts about the run that are not in the samples.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInfo {
    /// membench's own command line, program name first.
    pub command_line: Vec<String>,
    /// Scenario name (`target` for a `--target` without scenario).
    pub scenario: String,
    /// Scenario parameters as resolved, e.g. `[("size", "84976")]`.
    pub params: crate::params::Params,
    /// Path and query requested, e.g. `/api/loh/84976`.
    pub path: String,
    /// Allocator of the server; `None` (written `unknown`) for a foreign target.
    #[serde(with = "crate::series::allocator_or_unknown")]
    pub allocator: Option<AllocatorKind>,
    /// The URL load was sent to.
    pub target: String,
    /// Process id of the measured server; `None` when nothing read its `/proc`
    /// (`--metrics` only).
    pub pid: Option<u32>,
    pub machine: MachineInfo,
    /// When load started, RFC 3339, UTC.
    pub started: String,
    /// When the run ended, RFC 3339, UTC.
    pub ended: String,
    pub connections: usize,
    /// Open-loop rate in requests per second; `None` for closed loop.
    pub rate_per_s: Option<f64>,
    /// Planned load duration after the warm-up, seconds (`None` when stopping at a count).
    pub duration_s: Option<f64>,
    /// Planned request count (`None` when stopping after a duration).
    pub requests: Option<u64>,
    /// Warm-up before the measured part, seconds.
    pub warmup_s: f64,
    /// Planned sampling interval, seconds.
    pub interval_s: f64,
    pub end: RunEnd,
}

/// Whole-run latency percentiles in microseconds; all `None` when no response came back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    pub p50_us: Option<u64>,
    pub p90_us: Option<u64>,
    #[serde(default)]
    pub p95_us: Option<u64>,
    pub p99_us: Option<u64>,
    pub p999_us: Option<u64>,
    pub max_us: Option<u64>,
    pub mean_us: Option<f64>,
}

impl LatencySummary {
    /// Percentiles of a histogram of latencies in microseconds.
    pub fn from_histogram(histogram: &Histogram<u64>) -> LatencySummary {
        if histogram.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            p50_us: Some(histogram.value_at_quantile(0.50)),
            p90_us: Some(histogram.value_at_quantile(0.90)),
            p95_us: Some(histogram.value_at_quantile(0.95)),
            p99_us: Some(histogram.value_at_quantile(0.99)),
            p999_us: Some(histogram.value_at_quantile(0.999)),
            max_us: Some(histogram.max()),
            mean_us: Some(histogram.mean()),
        }
    }
}

/// Whole-run counts (warm-up included).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Responses received, any status.
    pub requests: u64,
    pub status_2xx: u64,
    pub status_3xx: u64,
    pub status_4xx: u64,
    pub status_5xx: u64,
    /// Responses by exact status code, `{"200": 12345, "404": 3}`, from the load
    /// generator's whole-run count; empty in files from before it was recorded.
    #[serde(default)]
    pub status_codes: BTreeMap<String, u64>,
    /// Requests that got no response.
    pub errors: u64,
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Open loop: sends that started later than scheduled.
    pub late_sends: u64,
}

/// Means over the measured part of the run (after the warm-up).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadSummary {
    /// Length of the measured part, seconds.
    pub measured_s: f64,
    /// Samples in the measured part.
    pub measured_samples: usize,
    /// Responses per second over the measured part.
    pub rps_mean: f64,
    /// Responses per second of the intervals under load: median and interquartile range,
    /// how much throughput swung within the run (absent in older summaries).
    #[serde(default)]
    pub rps_per_interval: Option<Spread>,
    /// Server CPU, 100 = one core busy.
    pub cpu_percent_mean: f64,
    pub cpu_percent_peak: f64,
    pub allocs_per_s_mean: Option<f64>,
    pub alloc_bytes_per_s_mean: Option<f64>,
    pub large_allocs_per_s_mean: Option<f64>,
}

/// One memory measure at the start, end and peak of the run, bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Level {
    /// First sample (before load).
    pub start_bytes: u64,
    /// Last sample (after load stopped).
    pub end_bytes: u64,
    /// Largest sample.
    pub peak_bytes: u64,
}

impl Level {
    /// The level of the values present; `None` when no sample has one.
    fn of(values: impl Iterator<Item = Option<u64>>) -> Option<Level> {
        let values: Vec<u64> = values.flatten().collect();
        Some(Level {
            start_bytes: *values.first()?,
            end_bytes: *values.last()?,
            peak_bytes: values.iter().copied().max()?,
        })
    }
}

/// Memory through the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemorySummary {
    /// Resident set size (working set).
    pub rss: Level,
    /// Anonymous part of the RSS.
    pub rss_anon: Level,
    /// Live heap counted by the membench allocator wrapper ("Allocated").
    pub heap_live: Option<Level>,
    /// The allocator's own resident bytes.
    pub allocator_resident: Option<Level>,
    /// What the leaking endpoints hold.
    pub leaked: Option<Level>,
    /// Growth of the live heap over the measured part, MB/min (Theil–Sen).
    pub heap_live_slope_mb_per_min: Option<f64>,
    /// Growth of the RSS over the measured part, MB/min (Theil–Sen).
    pub rss_slope_mb_per_min: Option<f64>,
    /// Growth of the allocator's resident bytes, MB/min (Theil–Sen).
    pub allocator_resident_slope_mb_per_min: Option<f64>,
    /// How noisy the live heap is around its trend: median absolute residual, MB.
    pub heap_live_noise_mb: Option<f64>,
    /// How noisy the RSS is around its trend: median absolute residual, MB.
    pub rss_noise_mb: Option<f64>,
    /// Samples the slopes were fitted to.
    pub slope_samples: usize,
}

/// The allocator's returns of memory to the OS (purges and explicit collects).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReclaimSummary {
    /// Events in the whole run; `None` when the server does not report them.
    pub events_total: Option<u64>,
    /// Events per minute over the measured part.
    pub per_min: Option<f64>,
    /// What an event is for this allocator, e.g. `jemalloc purge`.
    pub source: String,
}

/// The modelled .NET GC lens of a run: collections a model of .NET's GC would have made
/// with the same requests. A model, not a measurement; `label` says so in the file itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelledGcSummary {
    /// Always [`MODELLED_LABEL`].
    pub label: String,
    /// `server` or `workstation`.
    pub preset: String,
    /// The model's own description: machine, budgets, framework overhead per request.
    #[serde(default)]
    pub description: String,
    /// Collections in the whole run, counted like `GC.CollectionCount(n)` (a gen2
    /// collection counts for gen0 and gen1 too).
    pub gen0_total: u64,
    pub gen1_total: u64,
    pub gen2_total: u64,
    /// Collections per second over the measured part.
    pub gen0_per_s: f64,
    pub gen1_per_s: f64,
    pub gen2_per_s: f64,
    /// Highest modelled managed heap in the run, bytes.
    pub managed_heap_peak_bytes: u64,
}

/// What every modelled number is called in files.
pub const MODELLED_LABEL: &str = "modelled, not measured";

/// Largest values of the process resources seen in the run; `None` (`null`) when no
/// sample had the reading (the platform or source has none).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcePeaks {
    pub threads: Option<u64>,
    pub open_fds: Option<u64>,
    pub tcp_established: Option<u64>,
    pub tcp_time_wait: Option<u64>,
    pub tcp_close_wait: Option<u64>,
}

/// `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// [`SUMMARY_FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// The membench that wrote it (`CARGO_PKG_VERSION`); empty in files from before it
    /// was recorded.
    #[serde(default)]
    pub membench_version: String,
    /// The git commit it was built from (`3f2a9c1e0b7d`, `…-dirty`, `unknown`); empty in
    /// files from before it was recorded.
    #[serde(default)]
    pub membench_commit: String,
    pub run: RunInfo,
    /// The load as people read it, e.g. `32 connections, closed loop`.
    pub load_label: String,
    pub totals: Totals,
    pub load: LoadSummary,
    /// Whole-run latency (from the load generator's whole-run histogram).
    pub latency: LatencySummary,
    pub memory: MemorySummary,
    pub reclaim: ReclaimSummary,
    pub resources: ResourcePeaks,
    /// What one response cost the server (median and IQR over the measured intervals);
    /// empty in summaries written before it existed.
    #[serde(default)]
    pub cost: CostSummary,
    /// The scenario's expectations checked against the run (empty without a scenario or
    /// when it states none).
    #[serde(default)]
    pub verdict: Vec<crate::verdict::Check>,
    /// The modelled .NET GC lens; absent when it was off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modelled_gc: Option<ModelledGcSummary>,
    /// The chart's resource panel: the resources the scenario draws and the OS limits
    /// read when the run started; absent when the chart has no resource panel.
    #[serde(
        default,
        skip_serializing_if = "crate::resources::ChartResources::is_empty"
    )]
    pub chart_resources: crate::resources::ChartResources,
    /// The runtime's own collections, measured (a garbage-collected runtime's server);
    /// absent for a server without a collector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured_gc: Option<MeasuredGcSummary>,
    /// Where each series came from: `proc` (`/proc/<pid>` on this machine), `diagnostics`
    /// (a membench server's `/api/diagnostics`), `metrics` (`--metrics URL`) or `load
    /// generator`; a series nothing measured is not listed.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub sources: std::collections::BTreeMap<String, String>,
    /// The `--metrics` endpoint and how its scrapes went; absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsSourceSummary>,
}

/// How the scrapes of a `--metrics` endpoint went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsSourceSummary {
    pub url: String,
    /// Scrapes taken (one per sample).
    pub scrapes: u64,
    /// Scrapes that failed: gaps in the metrics series, never zeros.
    pub scrape_errors: u64,
    /// Counters that went backwards (the target restarted).
    pub counter_resets: u64,
    /// Elapsed seconds of the samples with a failed scrape.
    pub gaps_at_s: Vec<f64>,
    /// Elapsed seconds of the samples with a counter reset.
    pub resets_at_s: Vec<f64>,
}

/// Writes `summary.json` (pretty-printed). Written to a temporary file and renamed, so a
/// reader never sees half a summary.
pub fn write_summary(path: &Path, summary: &Summary) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(summary).context("cannot serialise the summary")?;
    super::atomic_file::write_bytes(path, (json + "\n").as_bytes())
}

/// Reads a `summary.json` written by [`write_summary`].
pub fn read_summary(path: &Path) -> anyhow::Result<Summary> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the summary {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "invalid summary {}: expected the summary.json written by membench run",
            path.display()
        )
    })
}

#[cfg(test)]
pub(crate) mod tests;
