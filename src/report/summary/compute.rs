//! `summarize`: a run's series added up into a [`Summary`] — totals, measured-phase means,
//! memory at start, end and peak with growth slopes, reclaim events, resource peaks and the
//! modelled .NET GC totals — and the per-sample readings the chart shares with it.

use super::*;
use crate::format::BYTES_PER_MB;
use crate::series::{Sample, Series, allocator_name};
use crate::stats::theil_sen;

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

/// What one reclaim event is for an allocator, for legends and text.
pub fn reclaim_source(allocator: Option<AllocatorKind>) -> String {
    match allocator {
        // An explicit collect is a purge too (`arena.<all>.purge`, `mi_collect`).
        Some(AllocatorKind::Jemalloc) => "jemalloc purge".to_string(),
        Some(AllocatorKind::Mimalloc) => "mimalloc purge".to_string(),
        // glibc counts no purges of its own: only explicit collects (malloc_trim) count.
        Some(AllocatorKind::System) => "malloc_trim via /api/collect".to_string(),
        None => format!("{} reclaim", allocator_name(None)),
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
        rps_per_interval: Spread::of(
            &samples
                .iter()
                .filter(|s| s.phase == Some(crate::series::Phase::Load))
                .filter_map(|s| s.rps)
                .collect::<Vec<_>>(),
        ),
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
        rss_anon: Level::of(samples.iter().map(|s| s.rss_anon_bytes)).unwrap_or_default(),
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
        source: reclaim_source(info.allocator),
    };

    let peak = |value: fn(&Sample) -> Option<u64>| samples.iter().filter_map(value).max();
    let resources = ResourcePeaks {
        threads: peak(|s| s.threads),
        open_fds: peak(|s| s.open_fds),
        tcp_established: peak(|s| s.tcp_established),
        tcp_time_wait: peak(|s| s.tcp_time_wait),
        tcp_close_wait: peak(|s| s.tcp_close_wait),
    };

    Summary {
        format_version: SUMMARY_FORMAT_VERSION,
        membench_version: crate::build_info::VERSION.to_string(),
        membench_commit: crate::build_info::COMMIT.to_string(),
        run: info.clone(),
        load_label: series.load.clone(),
        totals,
        load,
        latency: latency.clone(),
        memory,
        reclaim,
        resources,
        cost: CostSummary::of(samples),
        verdict: Vec::new(),
        modelled_gc: summarize_modelled(series, &measured, measured_s),
        chart_resources: series.resources.clone(),
        measured_gc: measured::summarize_measured(series, &measured, measured_s),
        sources: Default::default(),
        metrics: None,
    }
}

/// RSS when the process was read for the sample (a gone process has no RSS, not 0).
pub(crate) fn rss_bytes(sample: &Sample) -> Option<u64> {
    sample.rss_bytes
}

/// CPU % when the process was read for the sample.
pub(crate) fn cpu_percent(sample: &Sample) -> Option<f64> {
    sample.cpu_percent
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
