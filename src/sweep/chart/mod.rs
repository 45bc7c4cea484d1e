//! The sweep chart (`sweep.png`/`.svg`): the cost of a request against size on a log axis,
//! one curve per allocator with its spread, the cliffs marked; below it throughput and what
//! explains the cliffs.
//!
//! * Top panel — the server's CPU µs per request (the median of the repetitions) on a log
//!   axis, with a bar from the lowest to the highest repetition. It is the primary axis
//!   because it does not depend on how much CPU a shared machine gave the server, while
//!   RPS does. One colour per allocator (the Okabe–Ito colours of `compare`, fixed per
//!   allocator). Log, because a cost proportional to size is then a straight line that a
//!   cliff steps off. A cliff is an up-triangle in the allocator's colour on the point
//!   after the step, labelled with the rise (`×3`); labels that would overlap are stacked.
//! * Middle panel — RPS, median and spread, log axis: what a reader of a load test sees,
//!   and how much it moved between repetitions.
//! * Measured-GC panel (when a swept runtime reported its collections, see [`gc`]) —
//!   collections per second by kind, per runtime.
//! * Bottom panel — minor page faults per request as a share of the buffer's pages
//!   (`faults/s ÷ RPS ÷ ⌈size ÷ page⌉`), the cause: about 0 % where the freed buffer is
//!   reused, about 100 % where every request maps fresh memory and faults in each page.
//! * A thin dashed line at 85,000 B, labelled as the .NET large-object-heap threshold, so
//!   a workshop sees that Rust's cliffs are elsewhere.
//!
//! The x axis is log2 of the size in bytes, with ticks at powers of two named in binary
//! units (`64 KiB`, `1 MiB`) — or, when two neighbouring sizes would sit on the same x (a
//! boundary pair such as 7,968 / 7,969 B), the sizes evenly spaced, each labelled exactly
//! (see [`axis`]). Only measured points are drawn, joined by straight lines.

use std::path::Path;

use anyhow::Context;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

mod axis;
mod data;
mod gc;
#[cfg(test)]
use data::format_ratio;
use data::{LogPanel, SweepChartData};
#[cfg(test)]
use data::{log2_size, tick_label};
#[cfg(test)]
use data::{rps_ticks, size_ticks};

use super::{SweepEnd, SweepPoint, SweepResult, format_size, fresh_page_percent};
use crate::format::group_thousands;
use crate::gcmodel::LOH_THRESHOLD_BYTES;
use crate::report::chart::legend::{LegendEntry, Swatch, draw_legend};
use crate::report::chart::panels::{
    DESC_SIZE, LABEL_SIZE, LEFT_LABELS_PX, Look, draw_line, format_rps_tick,
};
use crate::report::chart::{CHART_SIZE_PX, DrawResult, MUTED, TEXT, fit_font, styled_mesh};
use crate::report::font::{FONT_FAMILY, ensure_registered};

/// Most tick labels on the size axis before every other power of two is skipped.
const MAX_SIZE_TICKS: usize = 12;
/// Padding on both sides of the size axis, in doublings, so end points sit off the axes.
const SIZE_AXIS_PAD: f64 = 0.3;
const CLIFF_LABEL_SIZE: f64 = 18.0;
/// Height of one row of cliff labels, and of the RPS panel's plot (about), pixels: how
/// much room above the curves the labels need.
const LABEL_ROW_PX: f64 = 24.0;
const CPU_PANEL_PX: f64 = 300.0;
const RPS_PANEL_PX: f64 = 170.0;

/// The colour of a curve: for the Rust allocators Okabe–Ito blue, vermillion and green, as
/// the first three runs of a comparison; a colour of its own for each other runtime;
/// anything else dark grey.
pub(crate) fn allocator_colour(allocator: &str) -> RGBColor {
    match allocator {
        "system" => RGBColor(0, 114, 178),
        "jemalloc" => RGBColor(213, 94, 0),
        "mimalloc" => RGBColor(0, 158, 115),
        // The other runtimes: Okabe–Ito reddish purple, orange, sky blue and black.
        "mono" => RGBColor(204, 121, 167),
        "jvm" => RGBColor(230, 159, 0),
        "node" => RGBColor(86, 180, 233),
        "go" => RGBColor(0, 0, 0),
        _ => RGBColor(60, 60, 60),
    }
}

/// Draws the sweep chart as PNG (and SVG when asked). Needs at least one point.
pub(crate) fn render_sweep(
    result: &SweepResult,
    png: &Path,
    svg: Option<&Path>,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        !result.points.is_empty(),
        "a sweep without points has nothing to draw"
    );
    ensure_registered()?;
    {
        let root = BitMapBackend::new(png, CHART_SIZE_PX).into_drawing_area();
        draw(&root, result)
            .and_then(|()| Ok(root.present()?))
            .with_context(|| format!("cannot draw the sweep chart {}", png.display()))?;
    }
    if let Some(svg) = svg {
        let root = SVGBackend::new(svg, CHART_SIZE_PX).into_drawing_area();
        draw(&root, result)
            .and_then(|()| Ok(root.present()?))
            .with_context(|| format!("cannot draw the sweep chart {}", svg.display()))?;
    }
    Ok(())
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, result: &SweepResult) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let data = SweepChartData::from_result(result, crate::memory::page_size());
    root.fill(&WHITE)?;
    let (width, _) = root.dim_in_pixel();
    let mut title = format!(
        "{}: server CPU per request by size ({} runs of {} s per point after {} s warm-up, {} connections)",
        result.scenario,
        result.repeat,
        crate::report::chart::panels::format_tick(result.duration_s),
        crate::report::chart::panels::format_tick(result.warmup_s),
        result.connections
    );
    if result.end != SweepEnd::Completed {
        title.push_str(&format!(" — {}", result.end));
    }
    let title_font = fit_font(root, &title, 26.0, width as f64 - 40.0, FontStyle::Bold)?;
    root.draw(&Text::new(
        title,
        (width as i32 / 2, 10),
        title_font.pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    let (_, rest) = root.split_vertically(48);

    let mut entries: Vec<LegendEntry> = data
        .cpu
        .curves
        .iter()
        .map(|curve| LegendEntry {
            swatch: Swatch::Line(curve.colour),
            // A runtime whose collector was measured is named with it:
            // `mono (measured: Mono 6.8.0.105, SGen)`.
            label: match result
                .points
                .iter()
                .find(|p| p.allocator == curve.allocator)
                .and_then(|p| p.measured_gc.as_ref())
            {
                Some(gc) => format!("{} (measured: {gc})", curve.allocator),
                None => curve.allocator.clone(),
            },
            color: TEXT,
        })
        .collect();
    entries.push(LegendEntry {
        swatch: Swatch::None,
        label: "▲ ×N: cliff — cost rose beyond the size step and beyond the spreads (bars: min–max of the repetitions)".to_string(),
        color: TEXT,
    });
    let legend_h = draw_legend(&rest, &entries)?;
    let (_, panels) = rest.split_vertically(legend_h);
    let (_, height) = panels.dim_in_pixel();
    let gc_panel = gc::GcPanel::from_result(result, &data.axis);
    // With a measured-GC panel the others give it room: cost 34 %, RPS 18 %, GC 22 %.
    let (top_share, middle_share) = if gc_panel.is_some() {
        (0.34, 0.18)
    } else {
        (0.47, 0.28)
    };
    let (top, rest) = panels.split_vertically((height as f64 * top_share) as i32);
    let (middle, rest) = rest.split_vertically((height as f64 * middle_share) as i32);
    let bottom = match &gc_panel {
        Some(panel) => {
            let (gc_area, bottom) = rest.split_vertically((height as f64 * 0.22) as i32);
            gc::draw_gc_panel(&gc_area, &data.axis, panel)?;
            bottom
        }
        None => rest,
    };
    let cpu_label = |log_us: &f64| {
        let us = 10f64.powf(*log_us);
        if us >= 999.5 {
            group_thousands(us.round() as u64)
        } else {
            crate::report::chart::panels::format_tick(us)
        }
    };
    draw_log_panel(
        &top,
        &data,
        &data.cpu,
        "server CPU µs / request (log)",
        &cpu_label,
        true,
    )?;
    draw_log_panel(&middle, &data, &data.rps, "RPS (log)", &rps_label, false)?;
    draw_fault_panel(&bottom, &data)?;
    Ok(())
}

/// An axis linear in its values (log2 bytes, log10 RPS, %) with ticks where asked; plotters'
/// own `with_key_points` cannot take a label formatter on an `f64` axis, hence this.
struct TickedAxis {
    linear: RangedCoordf64,
    ticks: Vec<f64>,
}

impl TickedAxis {
    fn new(range: (f64, f64), ticks: &[f64]) -> TickedAxis {
        TickedAxis {
            linear: (range.0..range.1).into(),
            ticks: ticks.to_vec(),
        }
    }
}

impl Ranged for TickedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Bold points only: no light mesh lines between the ticks.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.linear.range()
    }
}

const LINE_LOOK: Look = Look {
    dashed: false,
    dots: true,
    dense: false,
};

/// An RPS tick label: `500`, `20K`, `1.2M`.
fn rps_label(log_rps: &f64) -> String {
    let rps = 10f64.powf(*log_rps);
    if rps >= 999_999.0 {
        format!(
            "{}M",
            crate::report::chart::panels::format_tick((rps / 100_000.0).round() / 10.0)
        )
    } else {
        format_rps_tick(rps)
    }
}

/// A panel with a log y axis: the curves, a min–max bar per repeated point, and the
/// cliffs (a triangle and its label, pointing up on a cost, down on RPS).
fn draw_log_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &SweepChartData,
    panel: &LogPanel,
    y_desc: &str,
    y_label: &dyn Fn(&f64) -> String,
    loh_labelled: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(area)
        .margin_top(6)
        .margin_left(8)
        .margin_right(44)
        .y_label_area_size(LEFT_LABELS_PX)
        .x_label_area_size(8)
        .build_cartesian_2d(
            TickedAxis::new(data.x_range, &data.x_ticks),
            TickedAxis::new(panel.y_range, &panel.y_ticks),
        )?;
    styled_mesh!(chart)
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(y_label)
        .y_desc(y_desc)
        .draw()?;

    draw_loh_line(&chart, &data.axis, panel.y_range, loh_labelled)?;
    let plot = chart.plotting_area();
    let pixels = plot.strip_coord_spec();
    let (base_x, base_y) = plot.get_base_pixel();
    for curve in &panel.curves {
        draw_line(plot, &curve.points, curve.colour, LINE_LOOK)?;
        for (x, low, high) in &curve.spreads {
            let (px, top) = plot.map_coordinate(&(*x, *high));
            let (_, bottom) = plot.map_coordinate(&(*x, *low));
            let (px, top, bottom) = (px - base_x, top - base_y, bottom - base_y);
            let style = curve.colour.stroke_width(2);
            pixels.draw(&PathElement::new(vec![(px, top), (px, bottom)], style))?;
            for y in [top, bottom] {
                pixels.draw(&PathElement::new(vec![(px - 5, y), (px + 5, y)], style))?;
            }
        }
    }
    let font = (FONT_FAMILY, CLIFF_LABEL_SIZE)
        .into_font()
        .style(FontStyle::Bold);
    let marks: Vec<(RGBColor, i32, i32, &String)> = panel
        .cliffs
        .iter()
        .map(|(colour, to_x, to_y, label)| {
            let (x, y) = plot.map_coordinate(&(*to_x, *to_y));
            (*colour, x - base_x, y - base_y, label)
        })
        .collect();
    // Boxes already taken, in pixels (left, top, right, bottom): every triangle first,
    // then each label as it is placed; a label that would overlap one moves above it.
    let mut taken: Vec<(i32, i32, i32, i32)> = Vec::new();
    for (colour, x, y, _) in &marks {
        // A triangle just above the point after the step.
        pixels.draw(&Polygon::new(
            vec![(*x, y - 21), (x - 8, y - 7), (x + 8, y - 7)],
            colour.filled(),
        ))?;
        taken.push((x - 9, y - 22, x + 9, y - 6));
    }
    for (colour, x, y, label) in &marks {
        let style = font.color(colour).pos(Pos::new(HPos::Center, VPos::Bottom));
        let (w, h) = pixels.estimate_text_size(label, &style)?;
        let (w, h) = (w as i32, h as i32);
        let mut bottom = y - 24;
        while let Some(hit) = taken.iter().find(|(left, top, right, low)| {
            x - w / 2 < *right && x + w / 2 > *left && bottom - h < *low && bottom > *top
        }) {
            bottom = hit.1 - 4;
        }
        taken.push((x - w / 2, bottom - h, x + w / 2, bottom));
        // A light halo keeps the label readable where a curve passes behind it.
        pixels.draw(&Rectangle::new(
            [(x - w / 2 - 2, bottom - h - 1), (x + w / 2 + 2, bottom + 1)],
            WHITE.mix(0.8).filled(),
        ))?;
        pixels.draw(&Text::new(label.to_string(), (*x, bottom), style))?;
    }
    Ok(())
}

fn draw_fault_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &SweepChartData,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let top_percent = (data.fresh_max * 1.15).max(125.0);
    let percent_ticks: Vec<f64> = (0..)
        .map(|step| f64::from(step) * 50.0)
        .take_while(|tick| *tick <= top_percent)
        .collect();
    let mut chart = ChartBuilder::on(area)
        .margin_top(10)
        .margin_left(8)
        .margin_right(44)
        .margin_bottom(6)
        .y_label_area_size(LEFT_LABELS_PX)
        .x_label_area_size(58)
        .build_cartesian_2d(
            TickedAxis::new(data.x_range, &data.x_ticks),
            TickedAxis::new((0.0, top_percent), &percent_ticks),
        )?;
    let size_label = |x: &f64| data.axis.label(*x);
    let percent_label = |p: &f64| format!("{p:.0} %");
    styled_mesh!(chart)
        .x_label_formatter(&size_label)
        .y_label_formatter(&percent_label)
        .x_desc(data.axis.title())
        .y_desc("pages faulted")
        .draw()?;
    draw_loh_line(&chart, &data.axis, (0.0, top_percent), false)?;
    let plot = chart.plotting_area();
    for curve in &data.fresh_pages_percent {
        draw_line(plot, &curve.points, curve.colour, LINE_LOOK)?;
    }
    plot.strip_coord_spec().draw(&Text::new(
        "minor page faults per request, % of the buffer's pages: 0 % = freed memory reused, 100 % = every page fresh from the OS",
        (10, 6),
        (FONT_FAMILY, 15.0)
            .into_font()
            .color(&MUTED)
            .pos(Pos::new(HPos::Left, VPos::Top)),
    ))?;
    Ok(())
}

/// The dashed .NET LOH line at 85,000 B when it is inside the size axis; labelled in the
/// top panel only.
fn draw_loh_line<DB: DrawingBackend>(
    chart: &ChartContext<DB, Cartesian2d<TickedAxis, TickedAxis>>,
    axis: &axis::SizeAxis,
    y_range: (f64, f64),
    labelled: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let Some(x) = axis.x_inside(LOH_THRESHOLD_BYTES) else {
        return Ok(());
    };
    let plot = chart.plotting_area();
    plot.draw(&DashedPathElement::new(
        vec![(x, y_range.0), (x, y_range.1)],
        6,
        5,
        MUTED.stroke_width(2),
    ))?;
    if labelled {
        // At the foot of the panel: small sizes have the highest RPS, so the corner
        // below their curves is free, while the cliff labels stack above them.
        let (px, py) = plot.map_coordinate(&(x, y_range.0));
        let (base_x, base_y) = plot.get_base_pixel();
        plot.strip_coord_spec().draw(&Text::new(
            ".NET LOH threshold (85,000 B)",
            (px - base_x + 6, py - base_y - 4),
            (FONT_FAMILY, 15.0)
                .into_font()
                .color(&MUTED)
                .pos(Pos::new(HPos::Left, VPos::Bottom)),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::save::tests::synthetic_sweep;

    #[test]
    fn the_sweep_chart_is_drawn_with_every_allocator_colour() {
        let dir = tempfile::tempdir().unwrap();
        let sweep = synthetic_sweep();
        let png = dir.path().join("sweep.png");
        let svg = dir.path().join("sweep.svg");
        render_sweep(&sweep, &png, Some(&svg)).unwrap();
        let image = image::open(&png).unwrap().to_rgb8();
        assert_eq!(image.dimensions(), CHART_SIZE_PX);
        let colours: std::collections::HashSet<[u8; 3]> = image.pixels().map(|p| p.0).collect();
        for allocator in &sweep.allocators {
            let RGBColor(r, g, b) = allocator_colour(allocator);
            assert!(colours.contains(&[r, g, b]), "no {allocator} colour");
        }
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains(".NET LOH threshold (85,000 B)"));
        let rise = format!("×{}", format_ratio(sweep.cliffs[0].cost_ratio));
        assert!(text.contains(&rise), "no cliff label {rise}");
        assert!(text.contains("server CPU µs / request"));
        if let Ok(keep) = std::env::var("MEMBENCH_KEEP_CHART") {
            std::fs::copy(&png, keep).unwrap();
        }
        assert!(text.contains("16 MiB") && text.contains("64 KiB"));
    }

    #[test]
    fn rps_ticks_are_one_two_five_or_decades() {
        let ticks = rps_ticks((2.0, 4.5));
        let rps: Vec<u64> = ticks
            .iter()
            .map(|t| 10f64.powf(*t).round() as u64)
            .collect();
        assert_eq!(
            rps,
            vec![100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000]
        );
        assert_eq!(rps_ticks((0.5, 6.5)).len(), 6);
    }

    #[test]
    fn ticks_are_powers_of_two_or_the_sizes_themselves() {
        let default = size_ticks((15.7, 26.3), &[1 << 16, 1 << 26]);
        assert_eq!(default.len(), 11, "64 KiB … 64 MiB, every power");
        let wide = size_ticks((13.7, 26.3), &[1 << 14, 1 << 26]);
        assert_eq!(wide, vec![14.0, 16.0, 18.0, 20.0, 22.0, 24.0, 26.0]);
        assert_eq!(tick_label(20.0), "1 MiB");
        let narrow = size_ticks(
            (log2_size(84_975) - 0.3, log2_size(84_976) + 0.3),
            &[84_976, 84_975],
        );
        assert_eq!(narrow.len(), 2);
        assert_eq!(tick_label(narrow[1]), "84,976 B");
    }
}
