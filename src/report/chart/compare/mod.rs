//! Several runs in one figure, on one scale, so a difference is seen at a glance:
//!
//! * **side by side** — one column per run, each the single-run chart's memory panel above
//!   its load panel, every column on the same time, memory, RPS and CPU axes (a run that
//!   holds half the memory of another looks half as high). One legend for all columns; each
//!   column is titled with its run and its averages.
//! * **overlay** — one memory panel with every run's Allocated (solid) and Resident
//!   (dashed) in the run's own colour, and one load panel with every run's RPS.
//!
//! The single-run chart's honesty rules hold: measured samples only, straight lines, gaps
//! left open. Time is "since load start" for every run, so runs line up at their start.

use std::path::Path;

use anyhow::Context;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::{ChartData, share_scale};
use super::legend::{LegendEntry, Swatch, draw_legend};
use super::panels::{
    DESC_SIZE, LABEL_SIZE, LEFT_LABELS_PX, Look, draw_line, format_mb_tick, format_rps_tick,
    format_tick, mb_decimals,
};
use super::{
    ALLOCATED, ALLOCATOR_RESIDENT, CHART_SIZE_PX, CPU, DrawResult, ERRORS, FONT_FAMILY,
    MODELLED_GEN0, MODELLED_GEN1, MODELLED_GEN2, MODELLED_HEAP, MUTED, RECLAIM, RESIDENT, RPS,
    TEXT, WARMUP, draw_panels, ensure_registered, fit_font,
};
use crate::format::{format_count, group_thousands};

mod overlay;
use crate::series::Series;
use overlay::overlay;

/// One colour per run in the overlay (Okabe–Ito, readable for the colour-blind; the
/// yellow is replaced by a dark grey that stays visible on white). Its length is the
/// most runs a comparison draws.
const RUN_COLOURS: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(60, 60, 60),
];

/// Width of one side-by-side column: room for both axes' labels and a readable plot.
const COLUMN_WIDTH_PX: u32 = 600;
const TITLE_H_PX: i32 = 46;
/// A column's title and its line of averages.
const COLUMN_HEADER_H_PX: i32 = 70;
/// The overlay has no CPU axis on the right: only room for the last time label.
const OVERLAY_RIGHT_MARGIN_PX: u32 = 28;

/// A run to draw: the label that names it (scenario, parameters, allocator) and its
/// samples.
pub struct ComparedRun<'a> {
    pub label: String,
    pub series: &'a Series,
}

/// Size of the side-by-side figure for `runs` runs, pixels: 600 per run, at least the
/// single-run chart's width, and its height.
pub fn side_by_side_size_px(runs: usize) -> (u32, u32) {
    let width = (COLUMN_WIDTH_PX * runs as u32).max(CHART_SIZE_PX.0);
    (width, CHART_SIZE_PX.1)
}

/// Draws the runs side by side on one scale, as PNG (and SVG when asked).
pub fn render_side_by_side(
    runs: &[ComparedRun],
    png: &Path,
    svg: Option<&Path>,
) -> anyhow::Result<()> {
    let charts = shared_charts(runs)?;
    let size = side_by_side_size_px(runs.len());
    render(png, svg, size, |root| {
        draw_side_by_side(root, runs, &charts)
    })
}

/// Draws the runs overlaid in one memory panel and one load panel, as PNG (and SVG).
pub fn render_overlay(runs: &[ComparedRun], png: &Path, svg: Option<&Path>) -> anyhow::Result<()> {
    let charts = shared_charts(runs)?;
    render(png, svg, CHART_SIZE_PX, |root| {
        draw_overlay(root, runs, &charts)
    })
}

/// What each run draws, on one time axis and one scale.
fn shared_charts(runs: &[ComparedRun]) -> anyhow::Result<Vec<ChartData>> {
    anyhow::ensure!(
        (1..=RUN_COLOURS.len()).contains(&runs.len()),
        "cannot draw {} runs in one comparison: expected 1 to {}",
        runs.len(),
        RUN_COLOURS.len()
    );
    ensure_registered()?;
    let span_s = runs
        .iter()
        .flat_map(|run| &run.series.samples)
        .map(|sample| sample.elapsed_s)
        .filter(|x| x.is_finite())
        .fold(0.0, f64::max);
    let mut charts = runs
        .iter()
        .map(|run| {
            ChartData::from_series_over(run.series, span_s)
                .with_context(|| format!("cannot draw the run {}", run.label))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    share_scale(&mut charts);
    Ok(charts)
}

/// Either drawing, into a PNG and optionally an SVG; both backends take the same drawing
/// code, so the closure is called once per file with its own root area.
fn render(
    png: &Path,
    svg: Option<&Path>,
    size: (u32, u32),
    draw: impl Fn(&Root) -> DrawResult,
) -> anyhow::Result<()> {
    {
        let root = Root::Bitmap(BitMapBackend::new(png, size).into_drawing_area());
        draw(&root)
            .and_then(|()| root.present())
            .with_context(|| format!("cannot draw the comparison {}", png.display()))?;
    }
    if let Some(svg) = svg {
        let root = Root::Svg(SVGBackend::new(svg, size).into_drawing_area());
        draw(&root)
            .and_then(|()| root.present())
            .with_context(|| format!("cannot draw the comparison {}", svg.display()))?;
    }
    Ok(())
}

/// The two backends behind one type, so the layout code is written once without a
/// generic closure (which Rust has not).
enum Root<'a> {
    Bitmap(DrawingArea<BitMapBackend<'a>, Shift>),
    Svg(DrawingArea<SVGBackend<'a>, Shift>),
}

impl Root<'_> {
    fn present(&self) -> DrawResult {
        match self {
            Root::Bitmap(area) => area.present()?,
            Root::Svg(area) => area.present()?,
        }
        Ok(())
    }
}

fn draw_side_by_side(root: &Root, runs: &[ComparedRun], charts: &[ChartData]) -> DrawResult {
    match root {
        Root::Bitmap(area) => side_by_side(area, runs, charts),
        Root::Svg(area) => side_by_side(area, runs, charts),
    }
}

fn draw_overlay(root: &Root, runs: &[ComparedRun], charts: &[ChartData]) -> DrawResult {
    match root {
        Root::Bitmap(area) => overlay(area, runs, charts),
        Root::Svg(area) => overlay(area, runs, charts),
    }
}

fn side_by_side<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[ComparedRun],
    charts: &[ChartData],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let title = format!(
        "{} runs side by side  —  same scale for memory, requests/s and CPU",
        runs.len()
    );
    let columns = draw_header(root, &title, &shared_legend(charts))?;

    let areas = columns.split_evenly((1, runs.len()));
    for (index, ((column, run), data)) in areas.iter().zip(runs).zip(charts).enumerate() {
        draw_centred_line(column, &run.label, 10, 22.0, FontStyle::Bold, TEXT)?;
        draw_centred_line(
            column,
            &column_averages(data),
            40,
            18.0,
            FontStyle::Normal,
            MUTED,
        )?;
        // A rule between columns, so each run reads as its own chart.
        if index > 0 {
            let (_, height) = column.dim_in_pixel();
            column.draw(&PathElement::new(
                vec![(0, 0), (0, height as i32)],
                BLACK.mix(0.25).stroke_width(1),
            ))?;
        }
        let (_, panels) = column.split_vertically(COLUMN_HEADER_H_PX);
        draw_panels(&panels, data)?;
    }
    Ok(())
}

/// A white figure with its title and legend on top; returns the area below them.
fn draw_header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    legend: &[LegendEntry],
) -> anyhow::Result<DrawingArea<DB, Shift>>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let rest = draw_title(root, title)?;
    let legend_h = draw_legend(&rest, legend)?;
    Ok(rest.split_vertically(legend_h).1)
}

/// One line of text centred at `top_px` in `area`, shrunk to fit its width.
fn draw_centred_line<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    top_px: i32,
    size: f64,
    style: FontStyle,
    colour: RGBColor,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (width, _) = area.dim_in_pixel();
    let font = fit_font(area, text, size, width as f64 - 24.0, style)?;
    area.draw(&Text::new(
        text.to_string(),
        (width as i32 / 2, top_px),
        font.color(&colour).pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    Ok(())
}

/// The figure's title, centred on the top row; returns the area below it.
fn draw_title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> anyhow::Result<DrawingArea<DB, Shift>>
where
    DB::ErrorType: 'static,
{
    draw_centred_line(root, title, 10, 26.0, FontStyle::Bold, TEXT)?;
    let (_, rest) = root.split_vertically(TITLE_H_PX);
    Ok(rest)
}

/// One legend for every column: what each line and marker is (the averages are in each
/// column's header, because they differ per run).
fn shared_legend(charts: &[ChartData]) -> Vec<LegendEntry> {
    let any = |has: fn(&ChartData) -> bool| charts.iter().any(has);
    let entry = |swatch, label: &str| LegendEntry {
        swatch,
        label: label.to_string(),
        color: TEXT,
    };
    let mut entries = Vec::new();
    if any(ChartData::has_heap) {
        entries.push(entry(Swatch::Line(ALLOCATED), "Allocated (heap)"));
    }
    entries.push(entry(Swatch::Line(RESIDENT), "Resident (RSS)"));
    if any(|data| !data.allocator_mb.is_empty()) {
        entries.push(entry(
            Swatch::Dashed(ALLOCATOR_RESIDENT),
            "allocator resident",
        ));
    }
    if any(|data| data.reclaim_total.is_some()) {
        entries.push(entry(Swatch::Triangle(RECLAIM), "returned to OS"));
    }
    // The modelled lens, labelled with its preset (rates are in each column's header).
    if let Some(lens) = charts.iter().find_map(|data| data.modelled.as_ref()) {
        entries.push(entry(
            Swatch::HollowTriangle(MODELLED_GEN0),
            &format!("{}: gen0", lens.label),
        ));
        entries.push(entry(Swatch::HollowTriangle(MODELLED_GEN1), "gen1"));
        entries.push(entry(Swatch::HollowTriangle(MODELLED_GEN2), "gen2"));
        entries.push(entry(
            Swatch::Dashed(MODELLED_HEAP),
            "modelled managed heap",
        ));
    }
    entries.extend(super::measured::shared_entries(
        charts.iter().filter_map(|data| data.measured.as_ref()),
    ));
    entries.push(entry(Swatch::Line(RPS), "RPS"));
    entries.push(entry(Swatch::Line(CPU), "CPU"));
    if any(|data| data.errors_total > 0) {
        entries.push(LegendEntry {
            swatch: Swatch::Cross(ERRORS),
            label: "errors".to_string(),
            color: ERRORS,
        });
    }
    if any(|data| data.warmup_end.is_some()) {
        entries.push(entry(Swatch::Band(WARMUP), "warm-up"));
    }
    // The resource panel's names (the numbers differ per run), from a run that has it.
    if let Some(data) = charts.iter().find(|data| data.resources.is_some()) {
        entries.extend(super::resources::legend_entries(data, false));
    }
    entries
}

/// `18.2K RPS · CPU 71 % · 12 reclaims · no errors`: the run's measured-phase means and
/// whole-run counts, as in its own chart's legend.
fn column_averages(data: &ChartData) -> String {
    let mut parts = vec![
        format!("{} RPS", format_count(data.rps_mean)),
        format!("CPU {:.0} %", data.cpu_percent_mean),
    ];
    if let Some(total) = data.reclaim_total {
        parts.push(format!("{} reclaims", group_thousands(total)));
    }
    match &data.measured {
        Some(measured) => parts.push(super::measured::column_text(measured)),
        None if !data.has_heap() => parts.push("no heap data".to_string()),
        None => {}
    }
    if let Some(lens) = &data.modelled {
        parts.push(format!(
            "modelled gen0 {:.2}/s gen2 {:.2}/s",
            lens.per_s[0], lens.per_s[2]
        ));
    }
    parts.push(match data.errors_total {
        0 => "no errors".to_string(),
        errors => format!("{} errors", group_thousands(errors)),
    });
    parts.join(" · ")
}

#[cfg(test)]
mod tests;
