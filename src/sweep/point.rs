//! One sweep point from a finished run: its `summary.json` numbers (RPS, latency,
//! allocation rates, peak RSS, reclaim events, errors) and, from its samples, the minor
//! page faults per second of the measured phase, which the summary does not carry.
//!
//! Faults are what explains an allocator's cliff: below it a freed buffer is reused and
//! its pages are already resident; above it every request maps fresh memory and touches
//! each page for the first time, one minor fault per page.

use super::SweepPoint;
use crate::report::Summary;
use crate::series::{Phase, Sample};

/// The point for `allocator` at `size_bytes` from its run's summary and samples;
/// `run_dir` is the run directory relative to the sweep directory.
pub fn point_from_run(
    allocator: &str,
    size_bytes: u64,
    summary: &Summary,
    samples: &[Sample],
    run_dir: String,
) -> SweepPoint {
    SweepPoint {
        allocator: allocator.to_string(),
        size_bytes,
        rps: summary.load.rps_mean,
        latency_p99_us: summary.latency.p99_us,
        allocs_per_s: summary.load.allocs_per_s_mean,
        alloc_bytes_per_s: summary.load.alloc_bytes_per_s_mean,
        minor_faults_per_s: minor_faults_per_s(samples),
        peak_rss_bytes: summary.memory.rss.peak_bytes,
        reclaim_events: summary.reclaim.events_total,
        errors: summary.totals.errors
            + summary.totals.status_3xx
            + summary.totals.status_4xx
            + summary.totals.status_5xx,
        run_dir,
    }
}

/// Minor page faults per second over the measured phase (the samples after the warm-up,
/// as the summary's means): each sample's `minor_faults` counts its own interval, so the
/// rate is their sum over the sum of their intervals. Samples taken after the server ended
/// (`/proc` gone) count neither faults nor time. 0 when nothing was measured.
pub fn minor_faults_per_s(samples: &[Sample]) -> f64 {
    let (faults, seconds) = samples
        .iter()
        .filter(|sample| sample.phase != Some(Phase::Warmup) && sample.process_sampled())
        .fold((0u64, 0.0f64), |(faults, seconds), sample| {
            (faults + sample.minor_faults, seconds + sample.interval_s)
        });
    if seconds > 0.0 {
        faults as f64 / seconds
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(phase: Phase, interval_s: f64, minor_faults: u64, rss_bytes: u64) -> Sample {
        Sample {
            phase: Some(phase),
            interval_s,
            minor_faults,
            rss_bytes,
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
            // The server had ended: zeros that are not measurements.
            sample(Phase::Final, 0.25, 0, 0),
        ];
        let expected = (1_000 + 3_000 + 500) as f64 / (0.25 + 0.5 + 0.25);
        assert!((minor_faults_per_s(&samples) - expected).abs() < 1e-9);
        assert_eq!(minor_faults_per_s(&samples[..2]), 0.0);
    }
}
