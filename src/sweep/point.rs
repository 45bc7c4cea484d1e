//! One sweep point from a finished run: its `summary.json` numbers (RPS, latency,
//! allocation rates, peak RSS, reclaim events, errors) and, from its samples, the minor
//! page faults per second and the server's CPU time per request over the measured phase,
//! which the summary does not carry.
//!
//! CPU per request is the sweep's primary measure: on a shared machine RPS swings with
//! the CPU the server happens to get (±25 % between back-to-back runs here), while the CPU
//! a request costs barely moves.
//!
//! Faults are what explains an allocator's cliff: below it a freed buffer is reused and
//! its pages are already resident; above it every request maps fresh memory and touches
//! each page for the first time, one minor fault per page.

use std::collections::BTreeMap;

use super::{Repetition, SweepPoint};
use crate::report::Summary;
use crate::series::{Phase, Sample};

/// The point for the curve `allocator` (the Rust server's allocator, or another runtime's
/// name) at `size_bytes` from one run's summary and samples (one repetition, measured in
/// `round`) of a server in `runtime`; `run_dir` is the run directory relative to the sweep
/// directory. The measured collections per second by kind come from the summary.
pub fn point_from_run(
    allocator: &str,
    runtime: &str,
    size_bytes: u64,
    summary: &Summary,
    samples: &[Sample],
    run_dir: String,
    round: u32,
) -> SweepPoint {
    let rps = summary.load.rps_mean;
    let cpu = cpu_us_per_request(samples);
    let minor_faults_per_s = minor_faults_per_s(samples);
    let errors = summary.totals.errors
        + summary.totals.status_3xx
        + summary.totals.status_4xx
        + summary.totals.status_5xx;
    let gc = summary.measured_gc.as_ref();
    let gc_per_s: BTreeMap<String, f64> = gc
        .map(|gc| {
            gc.by_kind
                .iter()
                .map(|kind| (kind.kind.clone(), kind.per_s))
                .collect()
        })
        .unwrap_or_default();
    let gc_per_1k_requests = gc.map_or_else(BTreeMap::new, |gc| {
        gc_per_1k_requests(samples, gc.by_kind.iter().map(|kind| kind.kind.as_str()))
    });
    SweepPoint {
        allocator: allocator.to_string(),
        runtime: runtime.to_string(),
        measured_gc: gc.map(|gc| gc.label.clone()),
        gc_per_s_min: gc_per_s.clone(),
        gc_per_s_max: gc_per_s.clone(),
        gc_per_s: gc_per_s.clone(),
        gc_per_1k_requests_min: gc_per_1k_requests.clone(),
        gc_per_1k_requests_max: gc_per_1k_requests.clone(),
        gc_per_1k_requests: gc_per_1k_requests.clone(),
        size_bytes,
        rps,
        latency_p99_us: summary.latency.p99_us,
        allocs_per_s: summary.load.allocs_per_s_mean,
        alloc_bytes_per_s: summary.load.alloc_bytes_per_s_mean,
        minor_faults_per_s,
        peak_rss_bytes: summary.memory.rss.peak_bytes,
        external_peak_bytes: samples
            .iter()
            .filter(|sample| sample.phase != Some(Phase::Warmup))
            .filter_map(|sample| sample.measured_external_bytes)
            .max(),
        reclaim_events: summary.reclaim.events_total,
        errors,
        run_dir: run_dir.clone(),
        cpu_us_per_request: cpu,
        cpu_us_per_request_min: cpu,
        cpu_us_per_request_max: cpu,
        rps_min: Some(rps),
        rps_max: Some(rps),
        repetitions: vec![Repetition {
            round,
            run_dir,
            rps,
            cpu_us_per_request: cpu,
            minor_faults_per_s,
            errors,
            gc_per_s,
            gc_per_1k_requests,
        }],
    }
}

/// MEASURED collections per 1,000 responses by kind over the measured phase: each kind's
/// collections in the samples after the warm-up whose diagnostics were read, over the
/// responses of those same samples. Every kind in `kinds` (the run's, from its summary)
/// is present, 0 where it did not happen in the measured phase. Empty without a response
/// to divide by or a sample with diagnostics.
pub fn gc_per_1k_requests<'a>(
    samples: &[Sample],
    kinds: impl IntoIterator<Item = &'a str>,
) -> BTreeMap<String, f64> {
    let read: Vec<&Sample> = samples
        .iter()
        .filter(|sample| sample.phase != Some(Phase::Warmup))
        .filter(|sample| sample.measured_collections.is_some())
        .collect();
    let requests: u64 = read.iter().map(|sample| sample.requests).sum();
    if requests == 0 {
        return BTreeMap::new();
    }
    let mut counts: BTreeMap<String, u64> = kinds
        .into_iter()
        .map(|kind| (kind.to_string(), 0))
        .collect();
    for sample in &read {
        for (kind, count) in &sample.measured_collections_by_kind {
            *counts.entry(kind.clone()).or_default() += count;
        }
    }
    counts
        .into_iter()
        .map(|(kind, count)| (kind, count as f64 * 1_000.0 / requests as f64))
        .collect()
}

/// Server CPU time (user + system) per response over the measured phase, microseconds:
/// the CPU seconds of each sample (`cpu_percent × interval_s ÷ 100`) summed over the
/// samples after the warm-up whose process was sampled, over the responses in them. `None`
/// without a response to divide by.
pub fn cpu_us_per_request(samples: &[Sample]) -> Option<f64> {
    let (cpu_s, requests) = samples
        .iter()
        .filter(|sample| sample.phase != Some(Phase::Warmup))
        .filter_map(|sample| Some((sample.cpu_percent?, sample)))
        .fold(
            (0.0f64, 0u64),
            |(cpu_s, requests), (cpu_percent, sample)| {
                (
                    cpu_s + cpu_percent * sample.interval_s / 100.0,
                    requests + sample.requests,
                )
            },
        );
    (requests > 0 && cpu_s.is_finite()).then(|| cpu_s / requests as f64 * 1e6)
}

/// Minor page faults per second over the measured phase (the samples after the warm-up,
/// as the summary's means): each sample's `minor_faults` counts its own interval, so the
/// rate is their sum over the sum of their intervals. Samples taken after the server ended
/// (`/proc` gone) or without a fault count count neither faults nor time. 0 when nothing was
/// measured.
pub fn minor_faults_per_s(samples: &[Sample]) -> f64 {
    let (faults, seconds) = samples
        .iter()
        .filter(|sample| sample.phase != Some(Phase::Warmup))
        .filter_map(|sample| Some((sample.minor_faults?, sample.interval_s)))
        .fold(
            (0u64, 0.0f64),
            |(faults, seconds), (minor_faults, interval_s)| {
                (faults + minor_faults, seconds + interval_s)
            },
        );
    if seconds > 0.0 {
        faults as f64 / seconds
    } else {
        0.0
    }
}

/// Minor page faults per request as a percentage of the pages of one buffer of the
/// point's size (`faults/s ÷ RPS ÷ ⌈size ÷ page⌉ × 100`): about 0 % where freed buffers are
/// reused, about 100 % where every request faults in a fresh buffer page by page. `None`
/// without throughput to divide by.
pub fn fresh_page_percent(point: &SweepPoint, page_bytes: u64) -> Option<f64> {
    if !(point.rps.is_finite() && point.rps > 0.0) {
        return None;
    }
    let pages = point.size_bytes.div_ceil(page_bytes.max(1)).max(1);
    Some(point.minor_faults_per_s / point.rps / pages as f64 * 100.0)
}

/// Share of a buffer's pages faulted per request from which a point counts as mapping
/// fresh memory for every request (between the ~0 % of reuse and the ~100 % of fresh maps).
pub const FRESH_PERCENT: f64 = 50.0;

/// Where an allocator starts mapping fresh pages from the OS for every request: the first
/// two neighbouring sizes (of `allocator`, ascending) with under [`FRESH_PERCENT`] of the
/// buffer's pages faulted per request at the first and at least that at the second.
/// `None` when it never happens in the sweep. This is the allocator's own cliff, whatever
/// RPS did; the 30 % rule of [`super::find_cliffs`] also catches bandwidth and noise.
pub fn fresh_page_onset<'a>(
    points: &'a [SweepPoint],
    allocator: &str,
    page_bytes: u64,
) -> Option<(&'a SweepPoint, &'a SweepPoint)> {
    let mut mine: Vec<&SweepPoint> = points.iter().filter(|p| p.allocator == allocator).collect();
    mine.sort_by_key(|p| p.size_bytes);
    mine.windows(2).find_map(|pair| {
        let before = fresh_page_percent(pair[0], page_bytes)?;
        let after = fresh_page_percent(pair[1], page_bytes)?;
        (before < FRESH_PERCENT && after >= FRESH_PERCENT).then_some((pair[0], pair[1]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faulting(allocator: &str, size_bytes: u64, fresh_pages_per_request: f64) -> SweepPoint {
        let rps = 1_000.0;
        SweepPoint {
            allocator: allocator.into(),
            size_bytes,
            rps,
            latency_p99_us: None,
            allocs_per_s: None,
            alloc_bytes_per_s: None,
            minor_faults_per_s: fresh_pages_per_request * rps,
            peak_rss_bytes: 0,
            reclaim_events: None,
            errors: 0,
            run_dir: String::new(),
            ..crate::sweep::repeat::tests::bare_point()
        }
    }

    #[test]
    fn the_onset_is_where_most_pages_turn_fresh() {
        const MIB: u64 = 1 << 20;
        // 1 MiB and 2 MiB reuse memory, 4 MiB and 8 MiB fault every page (4 KiB pages).
        let points = vec![
            faulting("jemalloc", 8 * MIB, 2048.0),
            faulting("jemalloc", MIB, 1.0),
            faulting("jemalloc", 2 * MIB, 3.0),
            faulting("jemalloc", 4 * MIB, 1024.0),
            faulting("mimalloc", MIB, 0.0),
            faulting("mimalloc", 8 * MIB, 10.0),
        ];
        let (before, after) = fresh_page_onset(&points, "jemalloc", 4096).unwrap();
        assert_eq!((before.size_bytes, after.size_bytes), (2 * MIB, 4 * MIB));
        assert!(fresh_page_onset(&points, "mimalloc", 4096).is_none());
        assert!(fresh_page_onset(&points, "system", 4096).is_none());
    }

    /// A sample; `rss_bytes` 0 is one taken after the server ended (no process reading).
    fn sample(phase: Phase, interval_s: f64, minor_faults: u64, rss_bytes: u64) -> Sample {
        let read = rss_bytes > 0;
        Sample {
            phase: Some(phase),
            interval_s,
            minor_faults: read.then_some(minor_faults),
            rss_bytes: read.then_some(rss_bytes),
            ..Sample::default()
        }
    }

    #[test]
    fn faults_per_second_count_the_measured_phase_only() {
        let samples = [
            // The first sample holds the process's faults since it started: warm-up.
            sample(Phase::Warmup, 0.000_001, 90_000, 10 << 20),
            sample(Phase::Warmup, 0.25, 40_000, 10 << 20),
            sample(Phase::Load, 0.25, 1_000, 10 << 20),
            sample(Phase::Load, 0.5, 3_000, 10 << 20),
            sample(Phase::Final, 0.25, 500, 10 << 20),
            // The server had ended: no readings.
            sample(Phase::Final, 0.25, 0, 0),
        ];
        let expected = (1_000 + 3_000 + 500) as f64 / (0.25 + 0.5 + 0.25);
        assert!((minor_faults_per_s(&samples) - expected).abs() < 1e-9);
        assert_eq!(minor_faults_per_s(&samples[..2]), 0.0);
    }

    #[test]
    fn cpu_per_request_is_cpu_seconds_over_responses_of_the_measured_phase() {
        let sample = |phase, interval_s, cpu_percent, requests, rss_bytes: u64| Sample {
            phase: Some(phase),
            interval_s,
            cpu_percent: (rss_bytes > 0).then_some(cpu_percent),
            requests,
            rss_bytes: (rss_bytes > 0).then_some(rss_bytes),
            ..Sample::default()
        };
        let samples = [
            sample(Phase::Warmup, 0.25, 190.0, 100, 1 << 20),
            // 0.5 s at 150 % = 0.75 CPU s for 10,000 responses; 0.25 s at 40 % = 0.1 s.
            sample(Phase::Load, 0.5, 150.0, 10_000, 1 << 20),
            sample(Phase::Final, 0.25, 40.0, 2_000, 1 << 20),
            // The server had ended: not a measurement.
            sample(Phase::Final, 0.25, 0.0, 50, 0),
        ];
        let expected = (0.75 + 0.1) / 12_000.0 * 1e6;
        assert!((cpu_us_per_request(&samples).unwrap() - expected).abs() < 1e-9);
        assert_eq!(cpu_us_per_request(&samples[..1]), None);
    }

    #[test]
    fn collections_per_1k_requests_count_the_measured_samples_with_diagnostics() {
        let sample = |phase, requests, by_kind: &[(&str, u64)], read: bool| Sample {
            phase: Some(phase),
            requests,
            measured_collections: read.then(|| by_kind.iter().map(|(_, n)| n).sum()),
            measured_collections_by_kind: by_kind
                .iter()
                .map(|(kind, n)| (kind.to_string(), *n))
                .collect(),
            ..Sample::default()
        };
        let samples = [
            // The warm-up's collections and responses are not counted.
            sample(Phase::Warmup, 9_000, &[("gen0", 90), ("gen1", 9)], true),
            sample(Phase::Load, 4_000, &[("gen0", 30)], true),
            sample(Phase::Load, 2_000, &[("gen0", 12), ("gen1", 3)], true),
            // Diagnostics not read (server gone): its responses count neither.
            sample(Phase::Final, 500, &[], false),
        ];
        let rates = gc_per_1k_requests(&samples, ["gen0", "gen1", "gen2"]);
        assert_eq!(rates["gen0"], 42.0 * 1_000.0 / 6_000.0);
        assert_eq!(rates["gen1"], 3.0 * 1_000.0 / 6_000.0);
        // A kind of the run that did not happen in the measured phase is 0, not missing.
        assert_eq!(rates["gen2"], 0.0);
        assert!(gc_per_1k_requests(&samples[..1], ["gen0"]).is_empty());
    }

    #[test]
    fn fresh_pages_are_faults_per_request_over_the_buffers_pages() {
        let point = |size_bytes: u64, rps: f64, minor_faults_per_s: f64| SweepPoint {
            allocator: "jemalloc".into(),
            size_bytes,
            rps,
            latency_p99_us: None,
            allocs_per_s: None,
            alloc_bytes_per_s: None,
            minor_faults_per_s,
            peak_rss_bytes: 0,
            reclaim_events: None,
            errors: 0,
            run_dir: String::new(),
            ..crate::sweep::repeat::tests::bare_point()
        };
        // 8 MiB is 2048 pages of 4 KiB: 141 requests/s faulting every page.
        let all = fresh_page_percent(&point(8 << 20, 141.0, 141.0 * 2048.0), 4096).unwrap();
        assert!((all - 100.0).abs() < 1e-9);
        // A size below one page is one page.
        assert_eq!(fresh_page_percent(&point(100, 10.0, 5.0), 4096), Some(50.0));
        assert_eq!(fresh_page_percent(&point(100, 0.0, 5.0), 4096), None);
    }
}
