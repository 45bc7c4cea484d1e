//! A garbage-collected runtime's MEASURED collections on the run chart: a filled circle
//! per interval and kind (`gen0`/`gen1`, `young`/`old`, `minor`/`major`, `cycles`), one
//! row per kind in a band above the lines, youngest lowest — filled and round so they
//! never read as the hollow *modelled* .NET triangles or the allocator's reclaim
//! triangles — and the runtime's managed heap in use as a solid line on the memory axis.
//! The legend names the runtime and collector with each kind's rate ("measured: OpenJDK
//! 17.0.15, G1: young 12.3/s", "old 0/s").

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::data::runs;
use super::legend::{LegendEntry, Swatch};
use super::panels::{Look, draw_counts, draw_line};
use super::{DrawResult, TEXT};
use crate::diagnostics::MeasuredGc;
use crate::format::BYTES_PER_MB;
use crate::series::{Sample, Series};

/// Kind colours, youngest first: green, orange, then darker; the "old"/"major" kind that
/// tells the large-object story is the second (orange) or third (red) one.
const KIND_COLORS: [RGBColor; 4] = [
    RGBColor(0, 150, 110),
    RGBColor(230, 100, 0),
    RGBColor(190, 0, 40),
    RGBColor(90, 90, 90),
];
/// The runtime's managed heap (measured): a solid teal line.
const MEASURED_HEAP: RGBColor = RGBColor(0, 120, 140);
/// Each kind's row, as a fraction of the memory maximum.
const ROW_MB: f64 = 0.15;

/// One kind of collection as drawn: its name, the intervals with collections (x, count)
/// and its rate over the measured part.
pub(super) type KindMarkers = (String, Vec<(f64, u64)>, f64);

/// The measured collections as drawn.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct MeasuredDrawn {
    /// `Mono 6.8.0.105, SGen`.
    pub(super) label: String,
    /// Per kind, youngest first: name, intervals with collections (x, count), rate over
    /// the measured part.
    pub(super) kinds: Vec<KindMarkers>,
    /// The managed heap in use, MB, per unbroken run of samples.
    pub(super) heap_mb: Vec<Vec<(f64, f64)>>,
}

impl MeasuredDrawn {
    pub(super) fn from_series(
        series: &Series,
        x: impl Fn(&Sample) -> f64,
        measured: &[&Sample],
        measured_s: f64,
    ) -> Option<MeasuredDrawn> {
        let label = series.measured_gc.clone()?;
        let samples = &series.samples;
        let names = samples
            .iter()
            .flat_map(|s| s.measured_collections_by_kind.keys().cloned());
        let kinds = MeasuredGc::kinds_in_order(names)
            .into_iter()
            .map(|kind| {
                let count = |s: &Sample| s.measured_collections_by_kind.get(&kind).copied();
                let markers = samples
                    .iter()
                    .filter_map(|s| Some((x(s), count(s).filter(|n| *n > 0)?)))
                    .collect();
                let in_measured: u64 = measured.iter().filter_map(|s| count(s)).sum();
                let per_s = if measured_s > 0.0 {
                    in_measured as f64 / measured_s
                } else {
                    0.0
                };
                (kind, markers, per_s)
            })
            .collect();
        Some(MeasuredDrawn {
            label,
            kinds,
            heap_mb: runs(samples, |s| {
                Some((x(s), s.measured_heap_bytes? as f64 / BYTES_PER_MB))
            }),
        })
    }

    /// The highest heap value drawn, MB (0 without one).
    pub(super) fn heap_max_mb(&self) -> f64 {
        self.heap_mb
            .iter()
            .flatten()
            .map(|(_, y)| *y)
            .fold(0.0, f64::max)
    }
}

/// Extra memory-axis headroom for the kind rows above `top_mb`.
pub(super) fn band_mb(measured: Option<&MeasuredDrawn>, max_mb: f64) -> f64 {
    measured.map_or(0.0, |m| m.kinds.len() as f64 * ROW_MB * max_mb)
}

/// Draws the heap line and a row of filled circles per kind, the rows starting at
/// `rows_from_mb` (the top of the memory panel before [`band_mb`] was added).
pub(super) fn draw_measured<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    measured: &MeasuredDrawn,
    look: Look,
    rows_from_mb: f64,
    max_mb: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    for run in &measured.heap_mb {
        draw_line(chart.plotting_area(), run, MEASURED_HEAP, look)?;
    }
    for (row, (_, markers, _)) in measured.kinds.iter().enumerate() {
        let y = rows_from_mb + (row as f64 + 0.25) * ROW_MB * max_mb;
        let color = KIND_COLORS[row.min(KIND_COLORS.len() - 1)];
        chart.draw_series(
            markers
                .iter()
                .map(|(x, _)| Circle::new((*x, y), 5, color.filled())),
        )?;
        draw_counts(chart, markers, y, color, 9)?;
    }
    Ok(())
}

/// The legend's measured entries: the runtime and collector with the youngest kind's
/// rate, then each other kind, then the heap line.
pub(super) fn measured_entries(measured: Option<&MeasuredDrawn>) -> Vec<LegendEntry> {
    let Some(measured) = measured else {
        return Vec::new();
    };
    let mut entries: Vec<LegendEntry> = measured
        .kinds
        .iter()
        .enumerate()
        .map(|(row, (kind, _, per_s))| {
            let rate = format!("{kind} {}/s", rate_text(*per_s));
            LegendEntry {
                swatch: Swatch::Dot(KIND_COLORS[row.min(KIND_COLORS.len() - 1)]),
                label: if row == 0 {
                    format!("measured: {}: {rate}", measured.label)
                } else {
                    rate
                },
                color: TEXT,
            }
        })
        .collect();
    if entries.is_empty() {
        entries.push(LegendEntry {
            swatch: Swatch::None,
            label: format!("measured: {}: no collections", measured.label),
            color: TEXT,
        });
    }
    if !measured.heap_mb.is_empty() {
        entries.push(LegendEntry {
            swatch: Swatch::Line(MEASURED_HEAP),
            label: "managed heap in use (measured)".into(),
            color: TEXT,
        });
    }
    entries
}

fn rate_text(per_s: f64) -> String {
    match per_s {
        0.0 => "0".to_string(),
        r if r >= 100.0 => format!("{r:.0}"),
        r => format!("{r:.1}"),
    }
}

/// A comparison column's measured rates: `measured gen0 58.4/s gen1 0.4/s`.
pub(super) fn column_text(measured: &MeasuredDrawn) -> String {
    let rates: Vec<String> = measured
        .kinds
        .iter()
        .map(|(kind, _, per_s)| format!("{kind} {}/s", rate_text(*per_s)))
        .collect();
    format!("measured {}", rates.join(" "))
}

/// The comparison's shared legend for the measured markers: one entry per row, naming
/// each runtime's kind in that row (`gen0/young`, `gen1/old`), and the heap line.
pub(super) fn shared_entries<'a>(
    measured: impl Iterator<Item = &'a MeasuredDrawn>,
) -> Vec<LegendEntry> {
    let mut rows: Vec<Vec<&str>> = Vec::new();
    let mut heap = false;
    for drawn in measured {
        heap |= !drawn.heap_mb.is_empty();
        for (row, (kind, _, _)) in drawn.kinds.iter().enumerate() {
            if rows.len() <= row {
                rows.push(Vec::new());
            }
            if !rows[row].contains(&kind.as_str()) {
                rows[row].push(kind);
            }
        }
    }
    let mut entries: Vec<LegendEntry> = rows
        .iter()
        .enumerate()
        .map(|(row, kinds)| LegendEntry {
            swatch: Swatch::Dot(KIND_COLORS[row.min(KIND_COLORS.len() - 1)]),
            label: match row {
                0 => format!("measured GC: {}", kinds.join("/")),
                _ => kinds.join("/"),
            },
            color: TEXT,
        })
        .collect();
    if heap {
        entries.push(LegendEntry {
            swatch: Swatch::Line(MEASURED_HEAP),
            label: "managed heap (measured)".into(),
            color: TEXT,
        });
    }
    entries
}
