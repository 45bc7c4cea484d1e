//! Hand-built runs for the paragraph tests: a series shaped like a real run (the chart
//! tests' `run_like`), summarised and checked exactly as `membench run` does, so each test
//! states only what its case changes (a heap that grows, a peak of sockets) and derives its
//! expected figures from the run it built.

use std::path::PathBuf;

use crate::format::BYTES_PER_MB;
use crate::report::chart::tests::run_like;
use crate::report::compare::SavedRun;
use crate::report::summary::tests::run_info;
use crate::report::summary::{LatencySummary, RunEnd, summarize};
use crate::series::{Sample, Series};
use crate::verdict::{Expectation, Metric, Shape, check_all};

pub(crate) const MB: u64 = BYTES_PER_MB as u64;

/// A 60-second run whose live heap is flat at 20 MB (RSS 40 MB), or grows 0 → 300 MB
/// (RSS above it) when `heap_grows`.
pub(crate) fn series(scenario: &str, params: &[(&str, &str)], heap_grows: bool) -> Series {
    let seconds = 60;
    run_like(scenario, params, seconds, 5, |second| {
        let heap = if heap_grows {
            300 * MB * second.min(seconds) / seconds
        } else {
            20 * MB + (second % 3) * MB / 4
        };
        (Some(heap), 20 * MB + heap, Some(heap))
    })
}

/// Applies `change` to every sample.
pub(crate) fn with_samples(mut series: Series, change: impl Fn(usize, &mut Sample)) -> Series {
    for (index, sample) in series.samples.iter_mut().enumerate() {
        change(index, sample);
    }
    series
}

/// Summarises and checks a series as `membench run` would, with a p99 of `p99_us`.
pub(crate) fn saved(series: Series, expectations: &[(Metric, Shape)], p99_us: u64) -> SavedRun {
    let mut info = run_info(
        crate::series::allocator_name(series.allocator),
        RunEnd::Completed,
    );
    info.scenario = series.scenario.clone();
    info.params = series.params.clone();
    let latency = LatencySummary {
        p99_us: Some(p99_us),
        ..LatencySummary::default()
    };
    let mut summary = summarize(&series, &info, &latency);
    let expectations: Vec<Expectation> = expectations
        .iter()
        .map(|&(metric, shape)| Expectation {
            metric,
            shape,
            threshold_per_min: None,
            at_least: None,
        })
        .collect();
    summary.verdict = check_all(&series, &expectations);
    SavedRun {
        dir: PathBuf::from("gallery").join(&series.scenario),
        summary,
        series,
    }
}
