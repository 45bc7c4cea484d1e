//! The legend row: one entry per line or marker drawn, with the run's averages in the
//! labels like the article's charts ("CPU (71%)", "RPS (18.2K)"), errors by kind in red
//! when there are any, and a note when a foreign server has no heap data.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::ChartData;
use super::panels::hollow_triangle_px;
use super::{
    ALLOCATED, ALLOCATOR_RESIDENT, CPU, ERRORS, FONT_FAMILY, MODELLED_GEN0, MODELLED_GEN1,
    MODELLED_GEN2, MODELLED_HEAP, MUTED, RECLAIM, RESIDENT, RPS, TEXT, WARMUP,
};
use crate::format::format_significant as format_tick_significant;
use crate::format::{format_count, format_error_kinds, group_thousands};

/// How a legend entry is drawn in front of its label.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Swatch {
    Line(RGBColor),
    Dashed(RGBColor),
    Triangle(RGBColor),
    /// A hollow triangle: something modelled, not measured.
    HollowTriangle(RGBColor),
    /// A filled circle: a garbage collector's measured collection.
    Dot(RGBColor),
    Cross(RGBColor),
    Band(RGBColor),
    None,
}

pub(crate) struct LegendEntry {
    pub(crate) swatch: Swatch,
    pub(crate) label: String,
    pub(crate) color: RGBColor,
}

pub(super) fn legend_entries(data: &ChartData) -> Vec<LegendEntry> {
    let entry = |swatch, label: String, color| LegendEntry {
        swatch,
        label,
        color,
    };
    let mut entries = Vec::new();
    if data.has_heap() {
        entries.push(entry(
            Swatch::Line(ALLOCATED),
            "Allocated (live heap)".into(),
            TEXT,
        ));
    }
    entries.push(entry(Swatch::Line(RESIDENT), "Resident (RSS)".into(), TEXT));
    if !data.allocator_mb.is_empty() {
        entries.push(entry(
            Swatch::Dashed(ALLOCATOR_RESIDENT),
            "allocator resident".into(),
            TEXT,
        ));
    }
    if let Some(total) = data.reclaim_total {
        entries.push(entry(
            Swatch::Triangle(RECLAIM),
            format!(
                "reclaim ({}) {}",
                data.reclaim_source,
                group_thousands(total)
            ),
            TEXT,
        ));
    }
    entries.extend(modelled_entries(data));
    entries.extend(super::measured::measured_entries(data.measured.as_ref()));
    if !data.has_heap() && data.measured.is_none() {
        entries.push(entry(
            Swatch::None,
            "no heap data: not a membench server".into(),
            MUTED,
        ));
    }
    entries.push(if data.rps.is_empty() && data.faults.scraped {
        // A watch without --rps-metric: nothing measured the load.
        entry(Swatch::None, "RPS not measured".into(), MUTED)
    } else {
        entry(
            Swatch::Line(RPS),
            format!("RPS ({})", format_count(data.rps_mean)),
            TEXT,
        )
    });
    entries.push(entry(
        Swatch::Line(CPU),
        match data.cpu_us_per_request_median {
            Some(cpu) => format!(
                "CPU/request ({} µs median; {:.0}% of a core)",
                format_tick_significant(cpu),
                data.cpu_percent_mean
            ),
            None => format!(
                "CPU/request (none: no responses; {:.0}%)",
                data.cpu_percent_mean
            ),
        },
        TEXT,
    ));
    if data.errors_total > 0 {
        let kinds = format_error_kinds(&data.errors_by_kind);
        entries.push(entry(
            Swatch::Cross(ERRORS),
            if kinds.is_empty() {
                format!("errors ({})", group_thousands(data.errors_total))
            } else {
                format!("errors ({}: {kinds})", group_thousands(data.errors_total))
            },
            ERRORS,
        ));
    }
    if data.warmup_end.is_some() {
        entries.push(entry(Swatch::Band(WARMUP), "warm-up".into(), TEXT));
    }
    entries.extend(super::gaps::fault_entries(&data.faults));
    entries
}

/// The modelled .NET GC lens's entries, each saying "modelled": its label with the gen0,
/// gen1 and gen2 rates (collections per second, counted like `GC.CollectionCount`), and
/// the modelled managed heap.
pub(super) fn modelled_entries(data: &ChartData) -> Vec<LegendEntry> {
    let Some(lens) = &data.modelled else {
        return Vec::new();
    };
    let [gen0, gen1, gen2] = lens.per_s;
    vec![
        LegendEntry {
            swatch: Swatch::HollowTriangle(MODELLED_GEN0),
            label: format!("{}: gen0 {gen0:.2}/s", lens.label),
            color: TEXT,
        },
        LegendEntry {
            swatch: Swatch::HollowTriangle(MODELLED_GEN1),
            label: format!("gen1 {gen1:.2}/s"),
            color: TEXT,
        },
        LegendEntry {
            swatch: Swatch::HollowTriangle(MODELLED_GEN2),
            label: format!("gen2 {gen2:.2}/s"),
            color: TEXT,
        },
        LegendEntry {
            swatch: Swatch::Dashed(MODELLED_HEAP),
            label: "modelled managed heap".into(),
            color: TEXT,
        },
    ]
}

/// Draws the legend entries left to right, wrapping rows; returns the height used.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
) -> anyhow::Result<i32>
where
    DB::ErrorType: 'static,
{
    const SWATCH_W: i32 = 34;
    const GAP_AFTER_SWATCH: i32 = 8;
    const GAP_BETWEEN: i32 = 26;
    const ROW_H: i32 = 30;
    const LEFT: i32 = 24;
    let (width, _) = area.dim_in_pixel();
    let right = width as i32 - 16;
    let (mut x, mut y) = (LEFT, 4);
    for entry in entries {
        let font = (FONT_FAMILY, 19.0)
            .into_font()
            .color(&entry.color)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let (text_w, _) = area.estimate_text_size(&entry.label, &font)?;
        let swatch_w = match entry.swatch {
            Swatch::None => 0,
            _ => SWATCH_W + GAP_AFTER_SWATCH,
        };
        let entry_w = swatch_w + text_w as i32;
        if x > LEFT && x + entry_w > right {
            x = LEFT;
            y += ROW_H;
        }
        let mid = y + ROW_H / 2;
        match entry.swatch {
            Swatch::Line(color) => {
                area.draw(&Rectangle::new(
                    [(x, mid - 3), (x + SWATCH_W, mid + 3)],
                    color.filled(),
                ))?;
            }
            Swatch::Dashed(color) => {
                for dash in 0..3 {
                    let start = x + dash * 13;
                    area.draw(&Rectangle::new(
                        [(start, mid - 2), (start + 8, mid + 2)],
                        color.filled(),
                    ))?;
                }
            }
            Swatch::Dot(color) => {
                area.draw(&Circle::new((x + SWATCH_W / 2, mid), 6, color.filled()))?;
            }
            Swatch::Triangle(color) => {
                area.draw(&TriangleMarker::new(
                    (x + SWATCH_W / 2, mid),
                    8,
                    color.filled(),
                ))?;
            }
            Swatch::HollowTriangle(color) => {
                area.draw(&PathElement::new(
                    hollow_triangle_px(8, (x + SWATCH_W / 2, mid)),
                    color.stroke_width(2),
                ))?;
            }
            Swatch::Cross(color) => {
                area.draw(&Cross::new(
                    (x + SWATCH_W / 2, mid),
                    7,
                    color.stroke_width(3),
                ))?;
            }
            Swatch::Band(color) => {
                area.draw(&Rectangle::new(
                    [(x, mid - 10), (x + SWATCH_W, mid + 10)],
                    color.mix(0.25).filled(),
                ))?;
            }
            Swatch::None => {}
        }
        area.draw(&Text::new(entry.label.clone(), (x + swatch_w, mid), font))?;
        x += entry_w + GAP_BETWEEN;
    }
    Ok(y + ROW_H + 6)
}
