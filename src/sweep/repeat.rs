//! A point measured several times (`--repeat N`): its value is the median of its
//! repetitions, its spread their lowest and highest, and every repetition is kept.
//!
//! Decisions:
//! * The median, because on a shared machine one repetition in three can be a bad one
//!   (another build took the CPU): the median ignores it, a mean would not.
//! * The spread is min–max rather than an interquartile range: with three to five
//!   repetitions the quartiles are the extremes anyway, and min–max never hides a run.
//! * Rates and per-run counts are medians, each on its own; peak RSS is the largest peak;
//!   errors are summed, so no failed request of any repetition disappears.
//! * The point's `run_dir` is the repetition nearest the median cost, the one to open.

use std::collections::{BTreeMap, BTreeSet};

use super::{Repetition, SweepPoint};
use crate::stats::median;

/// The run directory of one repetition, relative to the sweep directory:
/// `<allocator>-<size in bytes>-r<round>`.
pub fn run_dir_name(allocator: &str, size_bytes: u64, round: u32) -> String {
    format!("{allocator}-{size_bytes}-r{round}")
}

/// The point measured by `runs` (each a [`point_from_run`](super::point_from_run) of one
/// allocator at one size, in the order measured): medians, spreads and every repetition.
/// `None` for no runs.
pub fn median_point(runs: &[SweepPoint]) -> Option<SweepPoint> {
    let first = runs.first()?;
    let med = |values: Vec<f64>| -> Option<f64> {
        let mut finite: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        median(&mut finite)
    };
    let med_opt = |value: fn(&SweepPoint) -> Option<f64>| -> Option<f64> {
        med(runs.iter().filter_map(value).collect())
    };
    let min_max = |values: &[f64]| -> (Option<f64>, Option<f64>) {
        let lowest = values.iter().copied().fold(f64::INFINITY, f64::min);
        let highest = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (
            lowest.is_finite().then_some(lowest),
            highest.is_finite().then_some(highest),
        )
    };
    let rps_values: Vec<f64> = runs.iter().map(|r| r.rps).collect();
    let cpu_values: Vec<f64> = runs.iter().filter_map(|r| r.cpu_us_per_request).collect();
    let rps = med(rps_values.clone()).unwrap_or(0.0);
    let cpu = med(cpu_values.clone());
    let (rps_min, rps_max) = min_max(&rps_values);
    let (cpu_min, cpu_max) = min_max(&cpu_values);
    // The repetition to open: nearest the median cost (CPU per request, else RPS).
    let distance = |run: &SweepPoint| match (cpu, run.cpu_us_per_request) {
        (Some(median), Some(value)) => (value - median).abs() / median.max(f64::MIN_POSITIVE),
        _ => (run.rps - rps).abs() / rps.max(f64::MIN_POSITIVE),
    };
    let representative = runs
        .iter()
        .min_by(|a, b| distance(a).total_cmp(&distance(b)))
        .unwrap_or(first);
    let (gc_per_s, gc_per_s_min, gc_per_s_max) = gc_spreads(runs, |r| &r.gc_per_s);
    // Per 1,000 responses: each repetition's own ratio, then their median and spread
    // (never a ratio of medians of rates).
    let (gc_per_1k_requests, gc_per_1k_requests_min, gc_per_1k_requests_max) =
        gc_spreads(runs, |r| &r.gc_per_1k_requests);
    Some(SweepPoint {
        allocator: first.allocator.clone(),
        runtime: first.runtime.clone(),
        measured_gc: runs.iter().find_map(|r| r.measured_gc.clone()),
        gc_per_s,
        gc_per_s_min,
        gc_per_s_max,
        gc_per_1k_requests,
        gc_per_1k_requests_min,
        gc_per_1k_requests_max,
        size_bytes: first.size_bytes,
        rps,
        latency_p99_us: med(runs
            .iter()
            .filter_map(|r| r.latency_p99_us.map(|v| v as f64))
            .collect())
        .map(|v| v.round() as u64),
        allocs_per_s: med_opt(|r| r.allocs_per_s),
        alloc_bytes_per_s: med_opt(|r| r.alloc_bytes_per_s),
        minor_faults_per_s: med(runs.iter().map(|r| r.minor_faults_per_s).collect()).unwrap_or(0.0),
        peak_rss_bytes: runs.iter().map(|r| r.peak_rss_bytes).max().unwrap_or(0),
        external_peak_bytes: runs.iter().filter_map(|r| r.external_peak_bytes).max(),
        reclaim_events: med(runs
            .iter()
            .filter_map(|r| r.reclaim_events.map(|v| v as f64))
            .collect())
        .map(|v| v.round() as u64),
        errors: runs.iter().map(|r| r.errors).sum(),
        run_dir: representative.run_dir.clone(),
        cpu_us_per_request: cpu,
        cpu_us_per_request_min: cpu_min,
        cpu_us_per_request_max: cpu_max,
        rps_min,
        rps_max,
        repetitions: runs
            .iter()
            .flat_map(|r| r.repetitions.iter().cloned())
            .collect::<Vec<Repetition>>(),
    })
}

type KindRates = BTreeMap<String, f64>;

/// Measured collections by kind (per second, or per 1,000 responses: `rates` picks which)
/// over the repetitions: the median, lowest and highest of each kind. A kind a repetition
/// did not report counts as 0 there when the runtime reported other kinds (a kind appears
/// in the diagnostics once it happened).
fn gc_spreads(
    runs: &[SweepPoint],
    rates: fn(&SweepPoint) -> &KindRates,
) -> (KindRates, KindRates, KindRates) {
    let kinds: BTreeSet<&String> = runs.iter().flat_map(|r| rates(r).keys()).collect();
    let (mut medians, mut lows, mut highs) = (KindRates::new(), KindRates::new(), KindRates::new());
    for kind in kinds {
        let mut values: Vec<f64> = runs
            .iter()
            .filter(|r| r.measured_gc.is_some() || !rates(r).is_empty())
            .map(|r| rates(r).get(kind).copied().unwrap_or(0.0))
            .filter(|v| v.is_finite())
            .collect();
        let low = values.iter().copied().fold(f64::INFINITY, f64::min);
        let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if let Some(mid) = median(&mut values) {
            medians.insert(kind.clone(), mid);
            lows.insert(kind.clone(), low);
            highs.insert(kind.clone(), high);
        }
    }
    (medians, lows, highs)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A point with nothing measured, for `..bare_point()` in synthetic points.
    pub(crate) fn bare_point() -> SweepPoint {
        SweepPoint {
            allocator: "jemalloc".into(),
            runtime: "rust".into(),
            measured_gc: None,
            gc_per_s: BTreeMap::new(),
            gc_per_s_min: BTreeMap::new(),
            gc_per_s_max: BTreeMap::new(),
            gc_per_1k_requests: BTreeMap::new(),
            gc_per_1k_requests_min: BTreeMap::new(),
            gc_per_1k_requests_max: BTreeMap::new(),
            size_bytes: 1 << 20,
            rps: 0.0,
            latency_p99_us: None,
            allocs_per_s: None,
            alloc_bytes_per_s: None,
            minor_faults_per_s: 0.0,
            peak_rss_bytes: 0,
            external_peak_bytes: None,
            reclaim_events: None,
            errors: 0,
            run_dir: String::new(),
            cpu_us_per_request: None,
            cpu_us_per_request_min: None,
            cpu_us_per_request_max: None,
            rps_min: None,
            rps_max: None,
            repetitions: Vec::new(),
        }
    }

    /// One repetition as `point_from_run` makes it.
    pub(crate) fn run(round: u32, rps: f64, cpu: Option<f64>, errors: u64) -> SweepPoint {
        let run_dir = run_dir_name("jemalloc", 1 << 20, round);
        SweepPoint {
            rps,
            errors,
            peak_rss_bytes: u64::from(round) << 20,
            minor_faults_per_s: rps / 10.0,
            latency_p99_us: Some(1_000 * u64::from(round)),
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
                minor_faults_per_s: rps / 10.0,
                errors,
                gc_per_s: BTreeMap::new(),
                gc_per_1k_requests: BTreeMap::new(),
            }],
            ..bare_point()
        }
    }

    #[test]
    fn a_repeated_point_is_the_median_with_its_spread_and_keeps_every_repetition() {
        // The second round was starved of CPU: half the RPS, a little more CPU.
        let runs = [
            run(1, 20_000.0, Some(40.0), 0),
            run(2, 10_000.0, Some(46.0), 3),
            run(3, 21_000.0, Some(41.0), 1),
        ];
        let point = median_point(&runs).unwrap();
        assert_eq!(point.rps, 20_000.0);
        assert_eq!(
            (point.rps_min, point.rps_max),
            (Some(10_000.0), Some(21_000.0))
        );
        assert_eq!(point.cpu_us_per_request, Some(41.0));
        assert_eq!(
            (point.cpu_us_per_request_min, point.cpu_us_per_request_max),
            (Some(40.0), Some(46.0))
        );
        assert_eq!(point.errors, 4);
        assert_eq!(point.peak_rss_bytes, 3 << 20);
        assert_eq!(point.latency_p99_us, Some(2_000));
        assert_eq!(point.run_dir, "jemalloc-1048576-r3");
        let rounds: Vec<u32> = point.repetitions.iter().map(|r| r.round).collect();
        assert_eq!(rounds, vec![1, 2, 3]);
        assert!(median_point(&[]).is_none());
    }

    #[test]
    fn measured_collections_are_a_median_per_kind_with_their_spread() {
        let mut runs = [
            run(1, 20_000.0, Some(40.0), 0),
            run(2, 10_000.0, Some(46.0), 0),
            run(3, 21_000.0, Some(41.0), 0),
        ];
        for (run, (young, old)) in runs
            .iter_mut()
            .zip([(300.0, 5.0), (200.0, 9.0), (310.0, 0.0)])
        {
            run.measured_gc = Some("OpenJDK 17, G1".into());
            run.gc_per_s = [("young".to_string(), young)].into();
            if old > 0.0 {
                run.gc_per_s.insert("old".to_string(), old);
            }
            // Per 1,000 responses, from each run's own counts: young / RPS × 1,000.
            run.gc_per_1k_requests = run
                .gc_per_s
                .iter()
                .map(|(kind, per_s)| (kind.clone(), per_s / run.rps * 1_000.0))
                .collect();
        }
        let point = median_point(&runs).unwrap();
        assert_eq!(point.measured_gc.as_deref(), Some("OpenJDK 17, G1"));
        assert_eq!(point.gc_per_s["young"], 300.0);
        assert_eq!(
            (point.gc_per_s_min["young"], point.gc_per_s_max["young"]),
            (200.0, 310.0)
        );
        // The median of the runs' own ratios (15, 20, 14.76…), not 300/s ÷ 20,000 RPS.
        assert_eq!(point.gc_per_1k_requests["young"], 15.0);
        assert_eq!(point.gc_per_1k_requests_max["young"], 20.0);
        assert_eq!(point.gc_per_1k_requests_min["old"], 0.0);
        assert!((point.gc_per_1k_requests_max["old"] - 0.9).abs() < 1e-12);
        // No old collection reported in round 3 is 0 there.
        assert_eq!(point.gc_per_s["old"], 5.0);
        assert_eq!(
            (point.gc_per_s_min["old"], point.gc_per_s_max["old"]),
            (0.0, 9.0)
        );
        assert!(median_point(&runs[..0]).is_none());
        assert!(
            median_point(&[run(1, 1.0, None, 0)])
                .unwrap()
                .gc_per_s
                .is_empty()
        );
    }

    #[test]
    fn without_cpu_the_spread_and_representative_come_from_rps() {
        let runs = [run(1, 9_000.0, None, 0), run(2, 11_000.0, None, 0)];
        let point = median_point(&runs).unwrap();
        assert_eq!(point.rps, 10_000.0);
        assert_eq!(point.cpu_us_per_request, None);
        assert_eq!(point.cpu_us_per_request_min, None);
        assert_eq!(point.repetitions.len(), 2);
    }
}
