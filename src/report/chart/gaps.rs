//! A metrics source's faults on the run chart (`--metrics`): each failed scrape as a grey
//! band across the memory panel (a gap: its values are missing, never drawn as zeros), and
//! each counter reset (the target restarted) as a red dashed line, both named in the
//! legend with their counts.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::DrawResult;
use super::legend::{LegendEntry, Swatch};
use crate::series::Sample;

/// A failed scrape's band.
const GAP: RGBColor = RGBColor(150, 150, 150);
/// A counter reset's line.
const RESET: RGBColor = RGBColor(200, 0, 0);

/// Where the scrapes failed and the counters went back, as drawn (x in the chart's unit,
/// with the interval's width for a gap).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct MetricsFaults {
    /// Whether the run had a metrics source at all.
    pub(super) scraped: bool,
    /// (start, end) of each interval whose scrape failed.
    pub(super) gaps: Vec<(f64, f64)>,
    /// x of each interval with a counter reset.
    pub(super) resets: Vec<f64>,
}

impl MetricsFaults {
    pub(super) fn from_samples(samples: &[Sample], x: impl Fn(f64) -> f64) -> MetricsFaults {
        MetricsFaults {
            scraped: samples.iter().any(|s| s.scrape_errors.is_some()),
            gaps: samples
                .iter()
                .filter(|s| s.scrape_errors.is_some_and(|n| n > 0))
                .map(|s| (x(s.elapsed_s - s.interval_s), x(s.elapsed_s)))
                .collect(),
            resets: samples
                .iter()
                .filter(|s| s.counter_resets.is_some_and(|n| n > 0))
                .map(|s| x(s.elapsed_s))
                .collect(),
        }
    }
}

/// Draws the gaps and resets over the memory panel, from 0 to `top_mb`.
pub(super) fn draw_faults<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    faults: &MetricsFaults,
    top_mb: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart.draw_series(
        faults.gaps.iter().map(|(from, to)| {
            Rectangle::new([(*from, 0.0), (*to, top_mb)], GAP.mix(0.35).filled())
        }),
    )?;
    for x in &faults.resets {
        chart.draw_series(DashedLineSeries::new(
            [(*x, 0.0), (*x, top_mb)],
            8,
            5,
            RESET.stroke_width(2),
        ))?;
    }
    Ok(())
}

/// The legend's entries: the scrape gaps and restarts, when there were any.
pub(super) fn fault_entries(faults: &MetricsFaults) -> Vec<LegendEntry> {
    let mut entries = Vec::new();
    if !faults.gaps.is_empty() {
        entries.push(LegendEntry {
            swatch: Swatch::Band(GAP),
            label: format!("failed scrapes ({}): gaps", faults.gaps.len()),
            color: super::TEXT,
        });
    }
    if !faults.resets.is_empty() {
        entries.push(LegendEntry {
            swatch: Swatch::Dashed(RESET),
            label: format!("counters reset ({}): target restarted", faults.resets.len()),
            color: RESET,
        });
    }
    entries
}
