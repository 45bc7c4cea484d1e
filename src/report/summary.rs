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
//! * Slopes are Theil–Sen (see [`super::trend`]) over those samples, in MB per minute,
//!   MB = 1,000,000 bytes (the unit of the charts).
//! * Optional values (heap, allocator) are absent for a server that is not membench.
//! * Samples taken after the server process ended (`/proc` gone, RSS 0) do not count for
//!   RSS or CPU: their zeros are not measurements.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::machine::MachineInfo;
use crate::format::BYTES_PER_MB;
use crate::series::{Sample, Series};
use crate::stats::theil_sen;

/// Version of the `summary.json` layout; bumped when a field changes meaning.
pub const SUMMARY_FORMAT_VERSION: u32 = 1;

/// How a run ended, as written in the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum RunEnd {
    /// The planned duration or request count was reached.
    Completed,
    /// Ctrl-C or SIGTERM; everything sampled until then is kept.
    Interrupted,
    /// The server process ended during the run; the text says how.
    ServerDied(String),
}

impl RunEnd {
    /// For people: `completed`, `interrupted (Ctrl-C)`, `server died: the server …`.
    pub fn describe(&self) -> String {
        match self {
            RunEnd::Completed => "completed".to_string(),
            RunEnd::Interrupted => "interrupted (Ctrl-C); samples until then are kept".to_string(),
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
    pub params: Vec<(String, String)>,
    /// Path and query requested, e.g. `/api/loh/84976`.
    pub path: String,
    /// Allocator of the server, or `unknown` for a foreign target.
    pub allocator: String,
    /// The URL load was sent to.
    pub target: String,
    /// Process id of the measured server.
    pub pid: u32,
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

/// Adds up the modelled columns; `None` when the lens was off.
fn summarize_modelled(
    series: &Series,
    measured: &[&Sample],
    measured_s: f64,
) -> Option<ModelledGcSummary> {
    let preset = series.modelled_gc.clone()?;
    let total =
        |field: fn(&Sample) -> Option<u64>| series.samples.iter().filter_map(field).sum::<u64>();
    let rate = |field: fn(&Sample) -> Option<u64>| {
        let count: u64 = measured.iter().filter_map(|s| field(s)).sum();
        if measured_s > 0.0 {
            count as f64 / measured_s
        } else {
            0.0
        }
    };
    Some(ModelledGcSummary {
        label: MODELLED_LABEL.to_string(),
        preset,
        description: String::new(),
        gen0_total: total(|s| s.modelled_gen0),
        gen1_total: total(|s| s.modelled_gen1),
        gen2_total: total(|s| s.modelled_gen2),
        gen0_per_s: rate(|s| s.modelled_gen0),
        gen1_per_s: rate(|s| s.modelled_gen1),
        gen2_per_s: rate(|s| s.modelled_gen2),
        managed_heap_peak_bytes: series
            .samples
            .iter()
            .filter_map(|s| s.modelled_managed_heap_peak_bytes)
            .max()
            .unwrap_or(0),
    })
}

/// Largest values of the process resources seen in the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcePeaks {
    pub threads: u64,
    pub open_fds: u64,
    pub tcp_established: u64,
    pub tcp_time_wait: u64,
    pub tcp_close_wait: u64,
}

/// `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// [`SUMMARY_FORMAT_VERSION`] when written.
    pub format_version: u32,
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
    /// The scenario's expectations checked against the run (empty without a scenario or
    /// when it states none).
    #[serde(default)]
    pub verdict: Vec<crate::verdict::Check>,
    /// The modelled .NET GC lens; absent when it was off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modelled_gc: Option<ModelledGcSummary>,
}

/// What one reclaim event is for an allocator, for legends and text.
pub fn reclaim_source(allocator: &str) -> String {
    match allocator {
        // An explicit collect is a purge too (`arena.<all>.purge`, `mi_collect`).
        "jemalloc" => "jemalloc purge".to_string(),
        "mimalloc" => "mimalloc purge".to_string(),
        // glibc counts no purges of its own: only explicit collects (malloc_trim) count.
        "system" => "malloc_trim via /api/collect".to_string(),
        other => format!("{other} reclaim"),
    }
}

/// Adds up a run.
pub fn summarize(series: &Series, info: &RunInfo, latency: &LatencySummary) -> Summary {
    let samples = &series.samples;
    let measured: Vec<&Sample> = series.measured().collect();

    let mut totals = Totals::default();
    for sample in samples {
        totals.requests += sample.requests;
        totals.status_2xx += sample.status_2xx;
        totals.status_3xx += sample.status_3xx;
        totals.status_4xx += sample.status_4xx;
        totals.status_5xx += sample.status_5xx;
        totals.errors += sample.errors;
        totals.late_sends += sample.late_sends;
        for (kind, count) in &sample.errors_by_kind {
            *totals.errors_by_kind.entry(kind.clone()).or_insert(0) += count;
        }
    }

    let measured_s: f64 = measured.iter().map(|s| s.interval_s).sum();
    let measured_requests: u64 = measured.iter().map(|s| s.requests).sum();
    let load = LoadSummary {
        measured_s,
        measured_samples: measured.len(),
        rps_mean: if measured_s > 0.0 {
            measured_requests as f64 / measured_s
        } else {
            0.0
        },
        cpu_percent_mean: time_weighted_mean(&measured, cpu_percent).unwrap_or(0.0),
        cpu_percent_peak: measured
            .iter()
            .filter_map(|s| cpu_percent(s))
            .fold(0.0, f64::max),
        allocs_per_s_mean: time_weighted_mean(&measured, |s| s.allocs_per_s),
        alloc_bytes_per_s_mean: time_weighted_mean(&measured, |s| s.alloc_bytes_per_s),
        large_allocs_per_s_mean: time_weighted_mean(&measured, |s| s.large_allocs_per_s),
    };

    let slope = |value: fn(&Sample) -> Option<u64>| {
        let points: Vec<(f64, f64)> = measured
            .iter()
            .filter_map(|s| Some((s.elapsed_s / 60.0, value(s)? as f64 / BYTES_PER_MB)))
            .collect();
        theil_sen(&points)
    };
    let heap_trend = slope(|s| s.heap_live_bytes);
    let rss_trend = slope(rss_bytes);
    let memory = MemorySummary {
        rss: Level::of(samples.iter().map(rss_bytes)).unwrap_or_default(),
        rss_anon: Level::of(
            samples
                .iter()
                .map(|s| s.process_sampled().then_some(s.rss_anon_bytes)),
        )
        .unwrap_or_default(),
        heap_live: Level::of(samples.iter().map(|s| s.heap_live_bytes)),
        allocator_resident: Level::of(samples.iter().map(|s| s.allocator_resident_bytes)),
        leaked: Level::of(samples.iter().map(|s| s.leaked_bytes)),
        heap_live_slope_mb_per_min: heap_trend.map(|t| t.slope),
        rss_slope_mb_per_min: rss_trend.map(|t| t.slope),
        allocator_resident_slope_mb_per_min: slope(|s| s.allocator_resident_bytes).map(|t| t.slope),
        heap_live_noise_mb: heap_trend.map(|t| t.median_abs_residual),
        rss_noise_mb: rss_trend.map(|t| t.median_abs_residual),
        slope_samples: rss_trend.map_or(0, |t| t.points),
    };

    let reported = |sample: &&Sample| sample.reclaim_events.is_some();
    let events_total = samples
        .iter()
        .any(|s| s.reclaim_events.is_some())
        .then(|| samples.iter().filter_map(|s| s.reclaim_events).sum());
    let measured_events: u64 = measured.iter().filter_map(|s| s.reclaim_events).sum();
    let reclaim = ReclaimSummary {
        events_total,
        per_min: (measured.iter().any(reported) && measured_s > 0.0)
            .then(|| measured_events as f64 / (measured_s / 60.0)),
        source: reclaim_source(&info.allocator),
    };

    let peak = |value: fn(&Sample) -> u64| samples.iter().map(value).max().unwrap_or(0);
    let resources = ResourcePeaks {
        threads: peak(|s| s.threads),
        open_fds: peak(|s| s.open_fds),
        tcp_established: peak(|s| s.tcp_established),
        tcp_time_wait: peak(|s| s.tcp_time_wait),
        tcp_close_wait: peak(|s| s.tcp_close_wait),
    };

    Summary {
        format_version: SUMMARY_FORMAT_VERSION,
        run: info.clone(),
        load_label: series.load.clone(),
        totals,
        load,
        latency: latency.clone(),
        memory,
        reclaim,
        resources,
        verdict: Vec::new(),
        modelled_gc: summarize_modelled(series, &measured, measured_s),
    }
}

/// RSS when `/proc` was read for the sample (a gone process has no RSS, not 0).
pub(crate) fn rss_bytes(sample: &Sample) -> Option<u64> {
    sample.process_sampled().then_some(sample.rss_bytes)
}

/// CPU % when `/proc` was read for the sample.
pub(crate) fn cpu_percent(sample: &Sample) -> Option<f64> {
    sample.process_sampled().then_some(sample.cpu_percent)
}

/// Mean of a per-second value weighted by interval length, over the samples that have it.
pub(crate) fn time_weighted_mean(
    samples: &[&Sample],
    value: impl Fn(&Sample) -> Option<f64>,
) -> Option<f64> {
    let (weighted, seconds) = samples
        .iter()
        .filter_map(|s| Some((value(s)? * s.interval_s, s.interval_s)))
        .fold((0.0, 0.0), |(sum, time), (v, t)| (sum + v, time + t));
    (seconds > 0.0).then(|| weighted / seconds)
}

/// Writes `summary.json` (pretty-printed). Written to a temporary file and renamed, so a
/// reader never sees half a summary.
pub fn write_summary(path: &Path, summary: &Summary) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(summary).context("cannot serialise the summary")?;
    let partial = path.with_extension("json.partial");
    std::fs::write(&partial, json + "\n")
        .and_then(|()| std::fs::rename(&partial, path))
        .with_context(|| format!("cannot write the summary {}", path.display()))
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
pub(crate) mod tests {
    use super::*;
    use crate::series::Phase;

    /// Run facts for tests, derived from nothing but the arguments.
    pub(crate) fn run_info(allocator: &str, end: RunEnd) -> RunInfo {
        RunInfo {
            command_line: vec!["membench".into(), "run".into(), "loh".into()],
            scenario: "loh".into(),
            params: vec![("size".into(), "84976".into())],
            path: "/api/loh/84976".into(),
            allocator: allocator.into(),
            target: "http://127.0.0.1:40000/api/loh/84976".into(),
            pid: 4242,
            machine: MachineInfo::default(),
            started: "2026-11-22T10:30:00Z".into(),
            ended: "2026-11-22T10:30:12Z".into(),
            connections: 32,
            rate_per_s: None,
            duration_s: Some(10.0),
            requests: None,
            warmup_s: 2.0,
            interval_s: 1.0,
            end,
        }
    }

    /// Warm-up samples that are deliberately extreme, so a mean or slope that includes
    /// them is visibly wrong.
    fn hand_made_series() -> Series {
        let mb = BYTES_PER_MB as u64;
        let mut samples = vec![Sample {
            elapsed_s: 0.0,
            phase: Some(Phase::Warmup),
            interval_s: 1e-6,
            rss_bytes: 10 * mb,
            rss_anon_bytes: 4 * mb,
            heap_live_bytes: Some(mb),
            threads: 3,
            ..Sample::default()
        }];
        // Warm-up: 2 samples at 1000 RPS, 200 % CPU, 100 MB heap, errors.
        for second in 1..=2 {
            samples.push(Sample {
                elapsed_s: second as f64,
                phase: Some(Phase::Warmup),
                interval_s: 1.0,
                requests: 1000,
                rps: 1000.0,
                status_2xx: 1000,
                errors: 2,
                errors_by_kind: BTreeMap::from([("timeout".to_string(), 2)]),
                cpu_percent: 200.0,
                rss_bytes: 150 * mb,
                rss_anon_bytes: 140 * mb,
                heap_live_bytes: Some(100 * mb),
                allocs_per_s: Some(1e6),
                reclaim_events: Some(50),
                threads: 9,
                ..Sample::default()
            });
        }
        // Load: 8 samples of 1 s, heap growing 2 MB per second, RSS 3 MB per second.
        for second in 3..=10 {
            let t = second as u64;
            samples.push(Sample {
                elapsed_s: second as f64,
                phase: Some(Phase::Load),
                interval_s: 1.0,
                requests: 100,
                rps: 100.0,
                status_2xx: 99,
                status_5xx: 1,
                cpu_percent: 50.0,
                rss_bytes: (20 + 3 * t) * mb,
                rss_anon_bytes: (15 + 3 * t) * mb,
                heap_live_bytes: Some(2 * t * mb),
                allocs_per_s: Some(4000.0),
                reclaim_events: Some(1),
                threads: 5,
                tcp_time_wait: t,
                ..Sample::default()
            });
        }
        // Final: a half-second interval, then memory at rest.
        samples.push(Sample {
            elapsed_s: 10.5,
            phase: Some(Phase::Final),
            interval_s: 0.5,
            requests: 50,
            rps: 100.0,
            status_2xx: 50,
            errors: 1,
            errors_by_kind: BTreeMap::from([("connection refused".to_string(), 1)]),
            cpu_percent: 20.0,
            rss_bytes: 51 * mb,
            rss_anon_bytes: 46 * mb,
            heap_live_bytes: Some(21 * mb),
            allocs_per_s: Some(1000.0),
            reclaim_events: Some(0),
            threads: 5,
            ..Sample::default()
        });
        Series {
            scenario: "loh".into(),
            params: vec![("size".into(), "84976".into())],
            allocator: "jemalloc".into(),
            load: "32 connections, closed loop".into(),
            samples,
            modelled_gc: None,
        }
    }

    #[test]
    fn summarize_counts_the_whole_run_and_averages_after_the_warmup() {
        let series = hand_made_series();
        let summary = summarize(
            &series,
            &run_info("jemalloc", RunEnd::Completed),
            &LatencySummary::default(),
        );
        let mb = BYTES_PER_MB as u64;

        // Totals include the warm-up.
        assert_eq!(summary.totals.requests, 2 * 1000 + 8 * 100 + 50);
        assert_eq!(summary.totals.errors, 2 * 2 + 1);
        assert_eq!(summary.totals.errors_by_kind["timeout"], 2 * 2);
        assert_eq!(summary.totals.errors_by_kind["connection refused"], 1);
        assert_eq!(summary.totals.status_5xx, 8);

        // Means exclude it: 850 requests in 8.5 s; CPU weighted by interval length.
        assert_eq!(summary.load.measured_samples, 9);
        assert!((summary.load.measured_s - 8.5).abs() < 1e-9);
        assert!((summary.load.rps_mean - 850.0 / 8.5).abs() < 1e-9);
        let cpu = (8.0 * 50.0 + 0.5 * 20.0) / 8.5;
        assert!((summary.load.cpu_percent_mean - cpu).abs() < 1e-9);
        assert_eq!(summary.load.cpu_percent_peak, 50.0);
        let allocs = (8.0 * 4000.0 + 0.5 * 1000.0) / 8.5;
        assert!((summary.load.allocs_per_s_mean.unwrap() - allocs).abs() < 1e-9);

        // Start is the first sample, end the last, peak the largest of all (warm-up too).
        let heap = summary.memory.heap_live.unwrap();
        assert_eq!(heap.start_bytes, mb);
        assert_eq!(heap.end_bytes, 21 * mb);
        assert_eq!(heap.peak_bytes, 100 * mb);
        assert_eq!(summary.memory.rss.start_bytes, 10 * mb);
        assert_eq!(summary.memory.rss.end_bytes, 51 * mb);
        assert_eq!(summary.memory.rss.peak_bytes, 150 * mb);

        // Slopes: the load samples grow 2 and 3 MB per second = 120 and 180 MB/min.
        let heap_slope = summary.memory.heap_live_slope_mb_per_min.unwrap();
        assert!((heap_slope - 120.0).abs() < 1e-6, "{heap_slope}");
        let rss_slope = summary.memory.rss_slope_mb_per_min.unwrap();
        assert!((rss_slope - 180.0).abs() < 1e-6, "{rss_slope}");
        assert_eq!(summary.memory.slope_samples, 9);
        assert_eq!(summary.memory.allocator_resident, None);

        // Reclaim: 100 + 8 events in all; 8 in 8.5 measured seconds.
        assert_eq!(summary.reclaim.events_total, Some(108));
        assert!((summary.reclaim.per_min.unwrap() - 8.0 / (8.5 / 60.0)).abs() < 1e-9);
        assert_eq!(summary.resources.threads, 9);
        assert_eq!(summary.resources.tcp_time_wait, 10);
    }

    #[test]
    fn samples_after_the_process_ended_do_not_count_for_rss_or_cpu() {
        let mut series = hand_made_series();
        let last = series.samples.len() - 1;
        // The process is gone for the last two samples: the runner leaves zeros.
        for sample in &mut series.samples[last - 1..] {
            sample.rss_bytes = 0;
            sample.rss_anon_bytes = 0;
            sample.cpu_percent = 0.0;
            sample.heap_live_bytes = None;
        }
        let summary = summarize(
            &series,
            &run_info("jemalloc", RunEnd::ServerDied("was killed".into())),
            &LatencySummary::default(),
        );
        let mb = BYTES_PER_MB as u64;
        // The end is the last sample that was measured: second 9, 20 + 3 × 9 MB.
        assert_eq!(summary.memory.rss.end_bytes, 47 * mb);
        assert!((summary.memory.rss_slope_mb_per_min.unwrap() - 180.0).abs() < 1e-6);
        assert_eq!(summary.load.cpu_percent_mean, 50.0);
    }

    #[test]
    fn a_foreign_server_has_no_heap_figures() {
        let mut series = hand_made_series();
        for sample in &mut series.samples {
            sample.heap_live_bytes = None;
            sample.allocs_per_s = None;
            sample.reclaim_events = None;
        }
        let summary = summarize(
            &series,
            &run_info("unknown", RunEnd::Completed),
            &LatencySummary::default(),
        );
        assert_eq!(summary.memory.heap_live, None);
        assert_eq!(summary.memory.heap_live_slope_mb_per_min, None);
        assert_eq!(summary.load.allocs_per_s_mean, None);
        assert_eq!(summary.reclaim.events_total, None);
        assert_eq!(summary.reclaim.per_min, None);
        assert!(summary.memory.rss_slope_mb_per_min.is_some());
    }

    #[test]
    fn summary_round_trips_through_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.json");
        let summary = summarize(
            &hand_made_series(),
            &run_info(
                "jemalloc",
                RunEnd::ServerDied("was killed by signal 9".into()),
            ),
            &LatencySummary::default(),
        );
        write_summary(&path, &summary).unwrap();
        let read = read_summary(&path).unwrap();
        assert_eq!(read.totals, summary.totals);
        assert_eq!(read.memory.rss, summary.memory.rss);
        assert_eq!(read.memory.heap_live, summary.memory.heap_live);
        // serde_json parses floats to within an ulp, not always bit-exact.
        let (read_slope, slope) = (
            read.memory.heap_live_slope_mb_per_min.unwrap(),
            summary.memory.heap_live_slope_mb_per_min.unwrap(),
        );
        assert!((read_slope - slope).abs() <= slope.abs() * 1e-12);
        assert_eq!(read.run.end, summary.run.end);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"kind\": \"server_died\""), "{text}");
    }

    #[test]
    fn latency_summary_reads_the_histogram() {
        let mut histogram = Histogram::<u64>::new(3).unwrap();
        for latency_us in 1..=1000u64 {
            histogram.record(latency_us).unwrap();
        }
        let latency = LatencySummary::from_histogram(&histogram);
        assert_eq!(latency.p50_us, Some(histogram.value_at_quantile(0.5)));
        assert!(latency.p50_us.unwrap().abs_diff(500) <= 1);
        assert!(latency.p99_us.unwrap().abs_diff(990) <= 1);
        assert_eq!(latency.max_us, Some(1000));
        assert!((latency.mean_us.unwrap() - 500.5).abs() < 1.0);
        let empty = Histogram::<u64>::new(3).unwrap();
        assert_eq!(
            LatencySummary::from_histogram(&empty),
            LatencySummary::default()
        );
    }
}
