//! What a chart shows, taken from a [`Series`] before any drawing: lines in MB per unbroken
//! run of samples, markers, the legend's averages, the time unit. Kept apart from the
//! drawing so it can be tested without pixels.

use std::collections::BTreeMap;

use super::resources::ResourcePanel;
use super::{DENSE_MIN_SAMPLES, MAX_SAMPLES_WITH_DOTS};
use crate::format::{BYTES_PER_MB, format_params};
use crate::report::summary::{
    CostSummary, cpu_percent, reclaim_source, rss_bytes, time_weighted_mean,
};
use crate::series::{Sample, Series};

/// The time axis: seconds for short runs, minutes for long ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum TimeUnit {
    Seconds,
    Minutes,
}

impl TimeUnit {
    fn for_span(span_s: f64) -> TimeUnit {
        if span_s > 600.0 {
            TimeUnit::Minutes
        } else {
            TimeUnit::Seconds
        }
    }

    pub(super) fn of_seconds(self, seconds: f64) -> f64 {
        match self {
            TimeUnit::Seconds => seconds,
            TimeUnit::Minutes => seconds / 60.0,
        }
    }

    pub(super) fn axis_label(self) -> &'static str {
        match self {
            TimeUnit::Seconds => "time since load start (s)",
            TimeUnit::Minutes => "time since load start (min)",
        }
    }
}

/// What the chart shows, taken from the series before any drawing (so it can be tested
/// without pixels). x is in [`TimeUnit`], memory in MB.
#[derive(Debug, Clone)]
pub(super) struct ChartData {
    pub(super) title: String,
    pub(super) time_unit: TimeUnit,
    pub(super) x_max: f64,
    pub(super) warmup_end: Option<f64>,
    /// Unbroken runs of samples that have the value.
    pub(super) heap_mb: Vec<Vec<(f64, f64)>>,
    pub(super) rss_mb: Vec<Vec<(f64, f64)>>,
    pub(super) allocator_mb: Vec<Vec<(f64, f64)>>,
    /// Intervals with reclaim events: x and count.
    pub(super) reclaims: Vec<(f64, u64)>,
    pub(super) reclaim_total: Option<u64>,
    pub(super) reclaim_source: String,
    pub(super) rps: Vec<(f64, f64)>,
    /// Server CPU µs per response, per interval (the load panel's second axis: unlike
    /// RPS it does not depend on how much CPU the server was given).
    pub(super) cpu_us_per_request: Vec<Vec<(f64, f64)>>,
    /// Its median over the intervals under load, for the legend.
    pub(super) cpu_us_per_request_median: Option<f64>,
    /// Intervals with errors: x and count.
    pub(super) errors: Vec<(f64, u64)>,
    pub(super) errors_total: u64,
    pub(super) errors_by_kind: BTreeMap<String, u64>,
    pub(super) rps_mean: f64,
    pub(super) cpu_percent_mean: f64,
    pub(super) dots: bool,
    pub(super) dense: bool,
    /// Axis maxima shared with other charts (compare); `None`: each axis fits this run.
    pub(super) shared: Option<SharedScale>,
    /// The modelled .NET GC lens, when the run had it on.
    pub(super) modelled: Option<ModelledLens>,
    /// The resource panel, when the run names resources to draw.
    pub(super) resources: Option<ResourcePanel>,
    /// A garbage-collected runtime's measured collections and heap.
    pub(super) measured: Option<super::measured::MeasuredDrawn>,
    /// A metrics source's failed scrapes and counter resets.
    pub(super) faults: super::gaps::MetricsFaults,
}

/// The modelled .NET GC, as drawn: a model fed with the run's requests, never measured,
/// so it has its own look (hollow triangles, a dashed line on its own axis) and label.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ModelledLens {
    /// `modelled .NET GC (server)`.
    pub(super) label: String,
    /// The managed heap in MB as a sawtooth: per interval its peak (just before its largest
    /// collection) then its end value, both at the interval's end (the model's collections
    /// are known per interval, not to the millisecond on the chart's scale).
    pub(super) heap_mb: Vec<Vec<(f64, f64)>>,
    /// Intervals with collections whose highest generation is gen0, gen1, gen2: x and count.
    /// The CSV counts like `GC.CollectionCount` (a gen2 counts for gen1 and gen0 too); the
    /// markers count each collection once, at its highest generation.
    pub(super) gen0: Vec<(f64, u64)>,
    pub(super) gen1: Vec<(f64, u64)>,
    pub(super) gen2: Vec<(f64, u64)>,
    /// Collections per second over the measured part, per `GC.CollectionCount` generation.
    pub(super) per_s: [f64; 3],
}

impl ModelledLens {
    fn from_series(
        series: &Series,
        x: impl Fn(&Sample) -> f64,
        measured: &[&Sample],
        measured_s: f64,
    ) -> Option<ModelledLens> {
        let samples = &series.samples;
        if !samples.iter().any(|s| s.modelled_gen0.is_some()) {
            return None;
        }
        let mb = |bytes: u64| bytes as f64 / BYTES_PER_MB;
        let markers = |count: fn(&Sample) -> Option<u64>| -> Vec<(f64, u64)> {
            samples
                .iter()
                .filter_map(|s| Some((x(s), count(s).filter(|n| *n > 0)?)))
                .filter(|(x, _)| x.is_finite())
                .collect()
        };
        let mut heap_mb = Vec::new();
        let mut current: Vec<(f64, f64)> = Vec::new();
        for sample in samples {
            let x = x(sample);
            match (
                sample.modelled_managed_heap_peak_bytes,
                sample.modelled_managed_heap_bytes,
            ) {
                (Some(peak), Some(end)) if x.is_finite() => {
                    // One collection in the interval: its peak and the drop are the sawtooth.
                    // Several (a gen2 storm at 100K RPS is hundreds per 250 ms): the value
                    // at the interval's end is an arbitrary point of many cycles, and a line
                    // through it is aliasing noise; the peaks are the honest envelope.
                    let collections = sample.modelled_gen0.unwrap_or(0);
                    if collections > 1 {
                        current.push((x, mb(peak.max(end))));
                    } else {
                        if peak > end {
                            current.push((x, mb(peak)));
                        }
                        current.push((x, mb(end)));
                    }
                }
                _ if !current.is_empty() => heap_mb.push(std::mem::take(&mut current)),
                _ => {}
            }
        }
        if !current.is_empty() {
            heap_mb.push(current);
        }
        let rate = |count: fn(&Sample) -> Option<u64>| {
            let total: u64 = measured.iter().filter_map(|s| count(s)).sum();
            if measured_s > 0.0 {
                total as f64 / measured_s
            } else {
                0.0
            }
        };
        let preset = series.modelled_gc.as_deref().unwrap_or("preset unknown");
        Some(ModelledLens {
            label: format!("modelled .NET GC ({preset})"),
            heap_mb,
            gen0: markers(|s| Some(s.modelled_gen0?.saturating_sub(s.modelled_gen1?))),
            gen1: markers(|s| Some(s.modelled_gen1?.saturating_sub(s.modelled_gen2?))),
            gen2: markers(|s| s.modelled_gen2),
            per_s: [
                rate(|s| s.modelled_gen0),
                rate(|s| s.modelled_gen1),
                rate(|s| s.modelled_gen2),
            ],
        })
    }

    /// The highest modelled heap drawn, MB (at least 1).
    pub(super) fn heap_max_mb(&self) -> f64 {
        self.heap_mb
            .iter()
            .flatten()
            .map(|(_, y)| *y)
            .fold(1.0, f64::max)
    }
}

/// Axis maxima several charts share so they can be compared by eye: a run that uses half
/// the memory of another looks half as high.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct SharedScale {
    pub(super) memory_max_mb: f64,
    pub(super) rps_max: f64,
    pub(super) cpu_us_per_request_max: f64,
    /// The modelled managed heap's own axis (0 when no chart has the lens).
    pub(super) modelled_heap_max_mb: f64,
    /// The resource panel's axis (0 when no chart has the panel).
    pub(super) resources_max: f64,
}

/// Puts charts on one scale: the largest memory, RPS and CPU per request of any of them, and one look. Their time
/// axes are shared by building them over the longest span (see
/// [`ChartData::from_series_over`]).
pub(super) fn share_scale(charts: &mut [ChartData]) {
    let fold = |value: fn(&ChartData) -> f64| charts.iter().map(value).fold(0.0, f64::max);
    let scale = SharedScale {
        memory_max_mb: fold(ChartData::memory_max_mb),
        rps_max: fold(ChartData::rps_max),
        cpu_us_per_request_max: fold(ChartData::cpu_us_per_request_max),
        modelled_heap_max_mb: charts
            .iter()
            .filter_map(|chart| chart.modelled.as_ref())
            .map(ModelledLens::heap_max_mb)
            .fold(0.0, f64::max),
        resources_max: charts
            .iter()
            .filter_map(|chart| chart.resources.as_ref())
            .map(ResourcePanel::max)
            .fold(0.0, f64::max),
    };
    // Dots at the samples in every column or in none, so a column does not look more
    // finely measured than its neighbour.
    let dots = charts.iter().all(|chart| chart.dots);
    for chart in charts {
        chart.shared = Some(scale);
        chart.dots = dots;
    }
}

impl ChartData {
    pub(super) fn from_series(series: &Series) -> anyhow::Result<ChartData> {
        ChartData::from_series_over(series, 0.0)
    }

    /// The chart of a series whose time axis spans at least `min_span_s` seconds, so
    /// runs of different lengths share one time axis (and time unit) in a comparison.
    pub(super) fn from_series_over(series: &Series, min_span_s: f64) -> anyhow::Result<ChartData> {
        let samples = &series.samples;
        anyhow::ensure!(!samples.is_empty(), "the series has no samples to draw");
        let span_s = samples
            .iter()
            .map(|s| s.elapsed_s)
            .filter(|x| x.is_finite())
            .fold(min_span_s, f64::max);
        let time_unit = TimeUnit::for_span(span_s);
        let x = |sample: &Sample| time_unit.of_seconds(sample.elapsed_s);
        let mb = |bytes: u64| bytes as f64 / BYTES_PER_MB;

        let measured: Vec<&Sample> = series.measured().collect();
        let measured_s: f64 = measured.iter().map(|s| s.interval_s).sum();
        let measured_requests: u64 = measured.iter().map(|s| s.requests).sum();
        let reclaims: Vec<(f64, u64)> = samples
            .iter()
            .filter_map(|s| Some((x(s), s.reclaim_events.filter(|n| *n > 0)?)))
            .collect();
        let errors_by_kind = samples.iter().fold(BTreeMap::new(), |mut all, s| {
            for (kind, count) in &s.errors_by_kind {
                *all.entry(kind.clone()).or_insert(0) += count;
            }
            all
        });

        let params = format_params(&series.params);
        let scenario = if params.is_empty() {
            series.scenario.clone()
        } else {
            format!("{} {params}", series.scenario)
        };
        // A foreign server's allocator is not known: say so rather than a bare "unknown".
        let allocator = match (series.allocator, &series.measured_gc) {
            (_, Some(runtime)) => runtime.clone(),
            (None, None) => "allocator unknown".to_string(),
            (Some(kind), None) => kind.name().to_string(),
        };
        Ok(ChartData {
            title: format!("{scenario}  —  {allocator}  —  {}", series.load),
            time_unit,
            x_max: time_unit.of_seconds(span_s).max(time_unit.of_seconds(1.0)),
            warmup_end: series.warmup_end_s().map(|end| time_unit.of_seconds(end)),
            heap_mb: runs(samples, |s| Some((x(s), mb(s.heap_live_bytes?)))),
            rss_mb: runs(samples, |s| Some((x(s), mb(rss_bytes(s)?)))),
            allocator_mb: runs(samples, |s| Some((x(s), mb(s.allocator_resident_bytes?)))),
            reclaim_total: samples
                .iter()
                .any(|s| s.reclaim_events.is_some())
                .then(|| samples.iter().filter_map(|s| s.reclaim_events).sum()),
            reclaims,
            reclaim_source: reclaim_source(series.allocator),
            rps: finite(samples.iter().filter_map(|s| Some((x(s), s.rps?)))),
            cpu_us_per_request: runs(samples, |s| Some((x(s), s.cpu_us_per_request?))),
            cpu_us_per_request_median: CostSummary::of(samples)
                .cpu_us_per_request
                .map(|cpu| cpu.median),
            errors: samples
                .iter()
                .filter(|s| s.errors > 0)
                .map(|s| (x(s), s.errors))
                .collect(),
            errors_total: samples.iter().map(|s| s.errors).sum(),
            errors_by_kind,
            rps_mean: if measured_s > 0.0 {
                measured_requests as f64 / measured_s
            } else {
                0.0
            },
            cpu_percent_mean: time_weighted_mean(&measured, cpu_percent).unwrap_or(0.0),
            dots: samples.len() <= MAX_SAMPLES_WITH_DOTS,
            dense: samples.len() > DENSE_MIN_SAMPLES,
            shared: None,
            modelled: ModelledLens::from_series(series, x, &measured, measured_s),
            resources: ResourcePanel::from_series(series, time_unit),
            measured: super::measured::MeasuredDrawn::from_series(series, x, &measured, measured_s),
            faults: super::gaps::MetricsFaults::from_samples(samples, |s| time_unit.of_seconds(s)),
        })
    }

    /// The top of the memory axis before headroom, MB: the shared scale's, or the highest
    /// memory value drawn (at least 1 so an idle server still has an axis).
    pub(super) fn memory_max_mb(&self) -> f64 {
        if let Some(shared) = self.shared {
            return shared.memory_max_mb;
        }
        [&self.heap_mb, &self.rss_mb, &self.allocator_mb]
            .into_iter()
            .flatten()
            .flatten()
            .map(|(_, y)| *y)
            .fold(1.0, f64::max)
            .max(self.measured.as_ref().map_or(0.0, |m| m.heap_max_mb()))
    }

    /// The top of the RPS axis before headroom (at least 1).
    pub(super) fn rps_max(&self) -> f64 {
        match self.shared {
            Some(shared) => shared.rps_max,
            None => self.rps.iter().map(|(_, y)| *y).fold(1.0, f64::max),
        }
    }

    /// The highest CPU µs per request drawn (0 without any).
    pub(super) fn cpu_us_per_request_max(&self) -> f64 {
        match self.shared {
            Some(shared) => shared.cpu_us_per_request_max,
            None => self
                .cpu_us_per_request
                .iter()
                .flatten()
                .map(|(_, y)| *y)
                .fold(0.0, f64::max),
        }
    }

    /// The top of the modelled managed heap's axis before headroom, MB.
    pub(super) fn modelled_heap_max_mb(&self) -> f64 {
        match (self.shared, &self.modelled) {
            (Some(shared), _) if shared.modelled_heap_max_mb > 0.0 => shared.modelled_heap_max_mb,
            (_, Some(lens)) => lens.heap_max_mb(),
            _ => 1.0,
        }
    }

    /// The top of the resource panel's axis before headroom (at least 1).
    pub(super) fn resources_max(&self) -> f64 {
        match (self.shared, &self.resources) {
            (Some(shared), _) if shared.resources_max > 0.0 => shared.resources_max,
            (_, Some(panel)) => panel.max(),
            _ => 1.0,
        }
    }

    pub(super) fn has_heap(&self) -> bool {
        !self.heap_mb.is_empty()
    }
}

/// Splits the samples into unbroken runs of points: a sample without the value (or with
/// a non-finite one) ends a run, so lines never bridge a gap.
pub(super) fn runs(
    samples: &[Sample],
    point: impl Fn(&Sample) -> Option<(f64, f64)>,
) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for sample in samples {
        match point(sample).filter(|(x, y)| x.is_finite() && y.is_finite()) {
            Some(point) => current.push(point),
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

fn finite(points: impl Iterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    points
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect()
}
