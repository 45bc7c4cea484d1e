//! Summaries of hand-made series, and the run facts other modules' tests build on.

use super::*;
use crate::format::BYTES_PER_MB;
use crate::series::{Phase, Sample, Series};

/// Run facts for tests, derived from nothing but the arguments.
pub(crate) fn run_info(allocator: &str, end: RunEnd) -> RunInfo {
    RunInfo {
        command_line: vec!["membench".into(), "run".into(), "loh".into()],
        scenario: "loh".into(),
        params: [("size", "84976")].into_iter().collect(),
        path: "/api/loh/84976".into(),
        allocator: crate::series::parse_allocator_name(allocator).unwrap(),
        target: "http://127.0.0.1:40000/api/loh/84976".into(),
        pid: Some(4242),
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
        rss_bytes: Some(10 * mb),
        rss_anon_bytes: Some(4 * mb),
        heap_live_bytes: Some(mb),
        threads: Some(3),
        ..Sample::default()
    }];
    // Warm-up: 2 samples at 1000 RPS, 200 % CPU, 100 MB heap, errors.
    for second in 1..=2 {
        samples.push(Sample {
            elapsed_s: second as f64,
            phase: Some(Phase::Warmup),
            interval_s: 1.0,
            requests: 1000,
            rps: Some(1000.0),
            status_2xx: 1000,
            errors: 2,
            errors_by_kind: BTreeMap::from([("timeout".to_string(), 2)]),
            cpu_percent: Some(200.0),
            rss_bytes: Some(150 * mb),
            rss_anon_bytes: Some(140 * mb),
            heap_live_bytes: Some(100 * mb),
            allocs_per_s: Some(1e6),
            reclaim_events: Some(50),
            threads: Some(9),
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
            rps: Some(100.0),
            status_2xx: 99,
            status_5xx: 1,
            cpu_percent: Some(50.0),
            rss_bytes: Some((20 + 3 * t) * mb),
            rss_anon_bytes: Some((15 + 3 * t) * mb),
            heap_live_bytes: Some(2 * t * mb),
            allocs_per_s: Some(4000.0),
            reclaim_events: Some(1),
            threads: Some(5),
            tcp_time_wait: Some(t),
            ..Sample::default()
        });
    }
    // Final: a half-second interval, then memory at rest.
    samples.push(Sample {
        elapsed_s: 10.5,
        phase: Some(Phase::Final),
        interval_s: 0.5,
        requests: 50,
        rps: Some(100.0),
        status_2xx: 50,
        errors: 1,
        errors_by_kind: BTreeMap::from([("connection refused".to_string(), 1)]),
        cpu_percent: Some(20.0),
        rss_bytes: Some(51 * mb),
        rss_anon_bytes: Some(46 * mb),
        heap_live_bytes: Some(21 * mb),
        allocs_per_s: Some(1000.0),
        reclaim_events: Some(0),
        threads: Some(5),
        ..Sample::default()
    });
    Series {
        scenario: "loh".into(),
        params: [("size", "84976")].into_iter().collect(),
        allocator: Some(crate::memory::AllocatorKind::Jemalloc),
        load: "32 connections, closed loop".into(),
        samples,
        modelled_gc: None,
        resources: Default::default(),
        measured_gc: None,
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
    assert_eq!(summary.resources.threads, Some(9));
    assert_eq!(summary.resources.tcp_time_wait, Some(10));
}

#[test]
fn samples_after_the_process_ended_do_not_count_for_rss_or_cpu() {
    let mut series = hand_made_series();
    let last = series.samples.len() - 1;
    // The process is gone for the last two samples: the runner leaves them absent.
    for sample in &mut series.samples[last - 1..] {
        sample.rss_bytes = None;
        sample.rss_anon_bytes = None;
        sample.cpu_percent = None;
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
    assert_eq!(read.membench_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(read.membench_commit, crate::build_info::COMMIT);
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

#[test]
fn latency_percentiles_include_p95() {
    let mut histogram = hdrhistogram::Histogram::<u64>::new(3).unwrap();
    for us in 1..=100 {
        histogram.record(us).unwrap();
    }
    let latency = LatencySummary::from_histogram(&histogram);
    assert_eq!(latency.p95_us, Some(95));
    assert!(latency.p90_us < latency.p95_us && latency.p95_us < latency.p99_us);
}
