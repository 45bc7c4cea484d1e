//! The run chart (PNG and SVG), in the spirit of the ASP.NET Core memory article's charts
//! so workshop readers recognise it: red *Allocated* (live heap) and blue *Resident* (RSS)
//! in MB, triangles where memory went back to the OS, and CPU and RPS averages in the
//! legend.
//!
//! Layout, top to bottom: a title (scenario, parameters, allocator, load); a legend row
//! with averages; the memory panel (heap, RSS, the allocator's own resident bytes dashed,
//! reclaim triangles on a row above the lines); the load panel (RPS on the left axis, CPU %
//! on the right, a cross at the foot of each interval that had errors, with its count).
//! The warm-up is a grey band in both panels. When the run had the modelled .NET GC lens
//! on, the memory panel also shows it, labelled "modelled": hollow gen0/gen1/gen2
//! triangles in their own band above the real reclaim triangles, and the modelled managed
//! heap as a dashed purple line on its own right-hand axis; the real series keep their
//! scale.
//!
//! Files: `data` turns the series into what is drawn, `legend` and `panels` draw,
//! `compare` lays several runs out side by side or overlaid on one scale. The size-sweep
//! chart (`sweep::chart`) draws with the same `legend` and `panels` pieces.
//!
//! Honesty rules: only samples that exist are drawn, as straight lines between them (no
//! smoothing); a line breaks where a value is missing rather than bridging the gap; a
//! triangle marks an interval with at least one reclaim event (its count written above it
//! when there is room), never an invented time. Averages in the legend are the same
//! measured-phase means as `summary.json`. A server without heap data (a `--target` in
//! another language) still gets RSS, RPS and CPU, and the legend says why the heap is
//! missing.

use std::path::Path;

use anyhow::Context;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::atomic_file;
use super::font::{FONT_FAMILY, ensure_registered};
use crate::series::Series;
pub use compare::{ComparedRun, render_overlay, render_side_by_side, side_by_side_size_px};
use data::ChartData;
use legend::{draw_legend, legend_entries};
use panels::{draw_load_panel, draw_memory_panel};

/// A chart's mesh in the house style (label and description fonts, white minor lines,
/// faint major lines, grey axes): every panel of every figure starts from it, then adds
/// its own labels and formatters before `.draw()`.
macro_rules! styled_mesh {
    ($chart:expr) => {
        $chart
            .configure_mesh()
            .label_style((FONT_FAMILY, LABEL_SIZE).into_font().color(&TEXT))
            .axis_desc_style((FONT_FAMILY, DESC_SIZE).into_font().color(&TEXT))
            .light_line_style(WHITE)
            .bold_line_style(BLACK.mix(0.12))
            .axis_style(BLACK.mix(0.5))
    };
}
pub(crate) use styled_mesh;

mod compare;
mod data;
mod gaps;
pub(crate) mod legend;
mod measured;
pub(crate) mod panels;
mod resources;
#[cfg(test)]
pub(crate) mod tests;

/// Chart size in pixels: 16:9-ish, readable on a projector.
pub const CHART_SIZE_PX: (u32, u32) = (1200, 700);
/// Chart size with the resource panel (a third panel under RPS/CPU).
pub const CHART_WITH_RESOURCES_SIZE_PX: (u32, u32) = (1200, 920);

const ALLOCATED: RGBColor = RGBColor(220, 0, 0);
const RESIDENT: RGBColor = RGBColor(0, 60, 220);
const ALLOCATOR_RESIDENT: RGBColor = RGBColor(100, 160, 240);
const RECLAIM: RGBColor = RGBColor(25, 25, 25);
const RPS: RGBColor = RGBColor(0, 135, 70);
const CPU: RGBColor = RGBColor(235, 125, 0);
const ERRORS: RGBColor = RGBColor(200, 0, 110);
/// The modelled .NET GC lens, in the article's colours for gen0/gen1/gen2 (drawn hollow,
/// so they never read as the real, filled reclaim triangles) and a purple dashed heap.
const MODELLED_GEN0: RGBColor = RGBColor(0, 160, 60);
const MODELLED_GEN1: RGBColor = RGBColor(240, 130, 0);
const MODELLED_GEN2: RGBColor = RGBColor(0, 0, 0);
const MODELLED_HEAP: RGBColor = RGBColor(150, 50, 180);
const WARMUP: RGBColor = RGBColor(150, 150, 150);
pub(crate) const TEXT: RGBColor = RGBColor(30, 30, 30);
pub(crate) const MUTED: RGBColor = RGBColor(110, 110, 110);

const LINE_WIDTH_PX: u32 = 3;
/// Above this many samples a series is "dense": plotters turns a thick polyline into one
/// polygon over pixel-rounded points, which goes ragged when segments are shorter than
/// its width, so dense lines are drawn as three 1 px lines a pixel apart instead.
const DENSE_MIN_SAMPLES: usize = 300;
const DENSE_OFFSETS_PX: [i32; 3] = [-1, 0, 1];
const DASH_PX: u32 = 12;
const DASH_GAP_PX: u32 = 7;
/// Above this many samples, lines are drawn without a dot at each sample.
const MAX_SAMPLES_WITH_DOTS: usize = 40;

/// Draws the chart as PNG (and SVG when asked). Each file is written under a temporary
/// name and renamed when complete, so a full disk leaves no cut chart.
pub fn render_chart(series: &Series, png: &Path, svg: Option<&Path>) -> anyhow::Result<()> {
    render_chart_png(series, png)?;
    if let Some(svg) = svg {
        render_chart_svg(series, svg)?;
    }
    Ok(())
}

/// The chart's data and its size in pixels.
fn prepared(series: &Series) -> anyhow::Result<(ChartData, (u32, u32))> {
    ensure_registered()?;
    let data = ChartData::from_series(series)?;
    // A third panel needs room: the chart grows rather than squeezing the other two.
    let size = match data.resources {
        Some(_) => CHART_WITH_RESOURCES_SIZE_PX,
        None => CHART_SIZE_PX,
    };
    Ok((data, size))
}

/// Draws the chart as PNG, whole or not at all.
pub fn render_chart_png(series: &Series, png: &Path) -> anyhow::Result<()> {
    let (data, size) = prepared(series)?;
    atomic_file::write_via_temp(png, |partial| {
        let root = BitMapBackend::new(partial, size).into_drawing_area();
        draw(&root, &data)
            .and_then(|()| Ok(root.present()?))
            .context("cannot draw the chart")
    })
}

/// Draws the chart as SVG, whole or not at all.
pub fn render_chart_svg(series: &Series, svg: &Path) -> anyhow::Result<()> {
    write_chart_svg_with(series, svg, std::io::BufWriter::new)
}

/// [`render_chart_svg`] with the file handle wrapped by `wrap` (tests inject a failing
/// writer there).
fn write_chart_svg_with<W: std::io::Write>(
    series: &Series,
    svg: &Path,
    wrap: impl FnOnce(std::fs::File) -> W,
) -> anyhow::Result<()> {
    let (data, size) = prepared(series)?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        draw(&root, &data)
            .and_then(|()| Ok(root.present()?))
            .context("cannot draw the chart")?;
    }
    atomic_file::write_file_with(svg, wrap, |sink| {
        sink.write_all(text.as_bytes()).context("the write failed")
    })
}

pub(crate) type DrawResult = anyhow::Result<()>;

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, data: &ChartData) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (width, _) = root.dim_in_pixel();

    let title_font = fit_font(
        root,
        &data.title,
        28.0,
        width as f64 - 40.0,
        FontStyle::Bold,
    )?;
    root.draw(&Text::new(
        data.title.clone(),
        (width as i32 / 2, 10),
        title_font.pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    let title_h = 50;

    let (_, rest) = root.split_vertically(title_h);
    let mut entries = legend_entries(data);
    entries.extend(resources::legend_entries(data, true));
    let legend_h = draw_legend(&rest, &entries)?;
    let (_, panels) = rest.split_vertically(legend_h);
    draw_panels(&panels, data)
}

/// The memory panel above the load panel, filling `area` (the chart below its title and
/// legend, or one column of a comparison).
fn draw_panels<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, data: &ChartData) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (_, height) = area.dim_in_pixel();
    if data.resources.is_some() {
        // Memory, load without its time labels, then resources with the time axis.
        let (memory, rest) = area.split_vertically((height as f64 * 0.46) as i32);
        let (load, resource) = rest.split_vertically((height as f64 * 0.24) as i32);
        draw_memory_panel(&memory, data)?;
        draw_load_panel(&load, data, false)?;
        return resources::draw_resource_panel(&resource, data);
    }
    let (memory, load) = area.split_vertically((height as f64 * 0.58) as i32);
    draw_memory_panel(&memory, data)?;
    draw_load_panel(&load, data, true)?;
    Ok(())
}

/// The largest font up to `size` at which `text` fits in `max_width` pixels.
pub(crate) fn fit_font<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    size: f64,
    max_width: f64,
    style: FontStyle,
) -> anyhow::Result<TextStyle<'static>>
where
    DB::ErrorType: 'static,
{
    let mut size = size;
    loop {
        let font = (FONT_FAMILY, size).into_font().style(style).color(&TEXT);
        let (text_width, _) = area.estimate_text_size(text, &font)?;
        if text_width as f64 <= max_width || size <= 12.0 {
            return Ok(font);
        }
        size -= 1.0;
    }
}
