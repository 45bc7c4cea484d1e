//! The run chart (PNG and SVG), in the spirit of the ASP.NET Core memory article's charts
//! so workshop readers recognise it: red *Allocated* (live heap) and blue *Resident* (RSS)
//! in MB, triangles where memory went back to the OS, and CPU and RPS averages in the
//! legend.
//!
//! Layout, top to bottom: a title (scenario, parameters, allocator, load); a legend row
//! with averages; the memory panel (heap, RSS, the allocator's own resident bytes dashed,
//! reclaim triangles on a row above the lines); the load panel (RPS on the left axis, CPU %
//! on the right, errors per second and a cross under each interval that had errors). The
//! warm-up is a grey band in both panels.
//!
//! Honesty rules: only samples that exist are drawn, as straight lines between them (no
//! smoothing); a line breaks where a value is missing rather than bridging the gap; a
//! triangle marks an interval with at least one reclaim event (its count written above it
//! when there is room), never an invented time. Averages in the legend are the same
//! measured-phase means as `summary.json`. A server without heap data (a `--target` in
//! another language) still gets RSS, RPS and CPU, and the legend says why the heap is
//! missing.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::font::{FONT_FAMILY, ensure_registered};
use super::format::{format_count, format_error_kinds, format_params, group_thousands};
use super::summary::{BYTES_PER_MB, reclaim_source, time_weighted_mean};
use crate::series::{Sample, Series};

/// Chart size in pixels: 16:9-ish, readable on a projector.
pub const CHART_SIZE_PX: (u32, u32) = (1200, 700);

const ALLOCATED: RGBColor = RGBColor(220, 0, 0);
const RESIDENT: RGBColor = RGBColor(0, 60, 220);
const ALLOCATOR_RESIDENT: RGBColor = RGBColor(100, 160, 240);
const RECLAIM: RGBColor = RGBColor(25, 25, 25);
const RPS: RGBColor = RGBColor(0, 135, 70);
const CPU: RGBColor = RGBColor(235, 125, 0);
const ERRORS: RGBColor = RGBColor(200, 0, 110);
const WARMUP: RGBColor = RGBColor(150, 150, 150);
const TEXT: RGBColor = RGBColor(30, 30, 30);
const MUTED: RGBColor = RGBColor(110, 110, 110);

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

/// Draws the chart as PNG (and SVG when asked).
pub fn render_chart(series: &Series, png: &Path, svg: Option<&Path>) -> anyhow::Result<()> {
    ensure_registered()?;
    let data = ChartData::from_series(series)?;
    {
        let root = BitMapBackend::new(png, CHART_SIZE_PX).into_drawing_area();
        draw(&root, &data)
            .and_then(|()| Ok(root.present()?))
            .with_context(|| format!("cannot draw the chart {}", png.display()))?;
    }
    if let Some(svg) = svg {
        let root = SVGBackend::new(svg, CHART_SIZE_PX).into_drawing_area();
        draw(&root, &data)
            .and_then(|()| Ok(root.present()?))
            .with_context(|| format!("cannot draw the chart {}", svg.display()))?;
    }
    Ok(())
}

/// The time axis: seconds for short runs, minutes for long ones.
#[derive(Debug, Clone, Copy, PartialEq)]
enum TimeUnit {
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

    fn of_seconds(self, seconds: f64) -> f64 {
        match self {
            TimeUnit::Seconds => seconds,
            TimeUnit::Minutes => seconds / 60.0,
        }
    }

    fn axis_label(self) -> &'static str {
        match self {
            TimeUnit::Seconds => "time since load start (s)",
            TimeUnit::Minutes => "time since load start (min)",
        }
    }
}

/// What the chart shows, taken from the series before any drawing (so it can be tested
/// without pixels). x is in [`TimeUnit`], memory in MB.
#[derive(Debug, Clone)]
struct ChartData {
    title: String,
    time_unit: TimeUnit,
    x_max: f64,
    warmup_end: Option<f64>,
    /// Unbroken runs of samples that have the value.
    heap_mb: Vec<Vec<(f64, f64)>>,
    rss_mb: Vec<Vec<(f64, f64)>>,
    allocator_mb: Vec<Vec<(f64, f64)>>,
    /// Intervals with reclaim events: x and count.
    reclaims: Vec<(f64, u64)>,
    reclaim_total: Option<u64>,
    reclaim_source: String,
    rps: Vec<(f64, f64)>,
    cpu_percent: Vec<(f64, f64)>,
    /// Intervals with errors: x and count.
    errors: Vec<(f64, u64)>,
    errors_total: u64,
    errors_by_kind: BTreeMap<String, u64>,
    mean_rps: f64,
    mean_cpu_percent: f64,
    dots: bool,
    dense: bool,
}

impl ChartData {
    fn from_series(series: &Series) -> anyhow::Result<ChartData> {
        let samples = &series.samples;
        anyhow::ensure!(!samples.is_empty(), "the series has no samples to draw");
        let span_s = samples
            .iter()
            .map(|s| s.elapsed_s)
            .filter(|x| x.is_finite())
            .fold(0.0, f64::max);
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
        Ok(ChartData {
            title: format!("{scenario}  —  {}  —  {}", series.allocator, series.load),
            time_unit,
            x_max: time_unit.of_seconds(span_s).max(time_unit.of_seconds(1.0)),
            warmup_end: series.warmup_end_s().map(|end| time_unit.of_seconds(end)),
            heap_mb: runs(samples, |s| Some((x(s), mb(s.heap_live_bytes?)))),
            rss_mb: runs(samples, |s| Some((x(s), mb(s.rss_bytes)))),
            allocator_mb: runs(samples, |s| Some((x(s), mb(s.allocator_resident_bytes?)))),
            reclaim_total: samples
                .iter()
                .any(|s| s.reclaim_events.is_some())
                .then(|| samples.iter().filter_map(|s| s.reclaim_events).sum()),
            reclaims,
            reclaim_source: reclaim_source(&series.allocator),
            rps: finite(samples.iter().map(|s| (x(s), s.rps))),
            cpu_percent: finite(samples.iter().map(|s| (x(s), s.cpu_percent))),
            errors: samples
                .iter()
                .filter(|s| s.errors > 0)
                .map(|s| (x(s), s.errors))
                .collect(),
            errors_total: samples.iter().map(|s| s.errors).sum(),
            errors_by_kind,
            mean_rps: if measured_s > 0.0 {
                measured_requests as f64 / measured_s
            } else {
                0.0
            },
            mean_cpu_percent: time_weighted_mean(&measured, |s| Some(s.cpu_percent)).unwrap_or(0.0),
            dots: samples.len() <= MAX_SAMPLES_WITH_DOTS,
            dense: samples.len() > DENSE_MIN_SAMPLES,
        })
    }

    /// The highest memory value drawn, MB (at least 1 so an idle server still has an axis).
    fn memory_max_mb(&self) -> f64 {
        [&self.heap_mb, &self.rss_mb, &self.allocator_mb]
            .into_iter()
            .flatten()
            .flatten()
            .map(|(_, y)| *y)
            .fold(1.0, f64::max)
    }

    fn has_heap(&self) -> bool {
        !self.heap_mb.is_empty()
    }
}

/// Splits the samples into unbroken runs of points: a sample without the value (or with
/// a non-finite one) ends a run, so lines never bridge a gap.
fn runs(samples: &[Sample], point: impl Fn(&Sample) -> Option<(f64, f64)>) -> Vec<Vec<(f64, f64)>> {
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

/// How a legend entry is drawn in front of its label.
#[derive(Debug, Clone, Copy)]
enum Swatch {
    Line(RGBColor),
    Dashed(RGBColor),
    Triangle(RGBColor),
    Cross(RGBColor),
    Band(RGBColor),
    None,
}

struct LegendEntry {
    swatch: Swatch,
    label: String,
    color: RGBColor,
}

fn legend_entries(data: &ChartData) -> Vec<LegendEntry> {
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
    if !data.has_heap() {
        entries.push(entry(
            Swatch::None,
            "no heap data: not a membench server".into(),
            MUTED,
        ));
    }
    entries.push(entry(
        Swatch::Line(RPS),
        format!("RPS ({})", format_count(data.mean_rps)),
        TEXT,
    ));
    entries.push(entry(
        Swatch::Line(CPU),
        format!("CPU ({:.0}%)", data.mean_cpu_percent),
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
    entries
}

type DrawResult = anyhow::Result<()>;

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, data: &ChartData) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (width, height) = root.dim_in_pixel();

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
    let legend_h = draw_legend(&rest, &legend_entries(data))?;
    let (_, panels) = rest.split_vertically(legend_h);
    let panels_h = height as i32 - title_h - legend_h;
    let (memory, load) = panels.split_vertically((panels_h as f64 * 0.58) as i32);

    draw_memory_panel(&memory, data)?;
    draw_load_panel(&load, data)?;
    Ok(())
}

/// The largest font up to `size` at which `text` fits in `max_width` pixels.
fn fit_font<DB: DrawingBackend>(
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

/// Draws the legend entries left to right, wrapping rows; returns the height used.
fn draw_legend<DB: DrawingBackend>(
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
            Swatch::Triangle(color) => {
                area.draw(&TriangleMarker::new(
                    (x + SWATCH_W / 2, mid),
                    8,
                    color.filled(),
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

/// Label areas shared by both panels, so their time axes line up.
const LEFT_LABELS_PX: u32 = 118;
const RIGHT_LABELS_PX: u32 = 92;
const LABEL_SIZE: f64 = 17.0;
const DESC_SIZE: f64 = 18.0;

fn draw_memory_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ChartData,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let max_mb = data.memory_max_mb();
    // Headroom above the lines for the reclaim triangles and their counts.
    let top_mb = max_mb * 1.25;
    let triangle_mb = max_mb * 1.1;
    let mut chart = ChartBuilder::on(area)
        .margin_top(6)
        // The load panel's CPU labels take this width: keep the time axes aligned.
        .margin_right(16 + RIGHT_LABELS_PX)
        .margin_left(8)
        .y_label_area_size(LEFT_LABELS_PX)
        .x_label_area_size(8)
        .build_cartesian_2d(0.0..data.x_max, 0.0..top_mb)?;
    let decimals = if top_mb < 1.0 {
        2
    } else if top_mb < 10.0 {
        1
    } else {
        0
    };
    let mb_label = |mb: &f64| format!("{} MB", format_mb_tick(*mb, decimals));
    chart
        .configure_mesh()
        .x_labels(10)
        .y_labels(6)
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&mb_label)
        .y_desc("memory")
        .label_style((FONT_FAMILY, LABEL_SIZE).into_font().color(&TEXT))
        .axis_desc_style((FONT_FAMILY, DESC_SIZE).into_font().color(&TEXT))
        .light_line_style(WHITE)
        .bold_line_style(BLACK.mix(0.12))
        .axis_style(BLACK.mix(0.5))
        .draw()?;

    // The band is named in the legend: a label inside it would collide with the
    // reclaim counts above the lines.
    if let Some(end) = data.warmup_end {
        draw_warmup_band(&mut chart, end, top_mb)?;
    }

    let area = chart.plotting_area();
    for run in &data.allocator_mb {
        draw_line(area, run, ALLOCATOR_RESIDENT, Stroke::Dashed, data)?;
    }
    for run in &data.rss_mb {
        draw_line(area, run, RESIDENT, Stroke::Solid, data)?;
    }
    for run in &data.heap_mb {
        draw_line(area, run, ALLOCATED, Stroke::Solid, data)?;
    }

    chart.draw_series(
        data.reclaims
            .iter()
            .map(|(x, _)| TriangleMarker::new((*x, triangle_mb), 8, RECLAIM.filled())),
    )?;
    draw_counts(&mut chart, &data.reclaims, triangle_mb, RECLAIM, 11)?;
    Ok(())
}

fn draw_load_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ChartData,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let max_rps = data.rps.iter().map(|(_, y)| *y).fold(1.0, f64::max);
    let top_rps = max_rps * 1.15;
    let max_cpu = data.cpu_percent.iter().map(|(_, y)| *y).fold(0.0, f64::max);
    let top_cpu = (max_cpu * 1.15).max(100.0);
    let mut chart = ChartBuilder::on(area)
        .margin_top(14)
        .margin_right(16)
        .margin_left(8)
        .margin_bottom(6)
        .y_label_area_size(LEFT_LABELS_PX)
        .right_y_label_area_size(RIGHT_LABELS_PX)
        .x_label_area_size(58)
        .build_cartesian_2d(0.0..data.x_max, 0.0..top_rps)?
        .set_secondary_coord(0.0..data.x_max, 0.0..top_cpu);
    let rps_label = |rps: &f64| format_rps_tick(*rps);
    let time_label = |x: &f64| format_tick(*x);
    chart
        .configure_mesh()
        .x_labels(10)
        .y_labels(5)
        .x_label_formatter(&time_label)
        .y_label_formatter(&rps_label)
        .x_desc(data.time_unit.axis_label())
        .y_desc("requests/s")
        .label_style((FONT_FAMILY, LABEL_SIZE).into_font().color(&TEXT))
        .axis_desc_style((FONT_FAMILY, DESC_SIZE).into_font().color(&TEXT))
        .light_line_style(WHITE)
        .bold_line_style(BLACK.mix(0.12))
        .axis_style(BLACK.mix(0.5))
        .draw()?;
    let cpu_label = |cpu: &f64| format!("{cpu:.0} %");
    chart
        .configure_secondary_axes()
        .y_labels(5)
        .y_label_formatter(&cpu_label)
        .y_desc("CPU (100 % = 1 core)")
        .label_style((FONT_FAMILY, LABEL_SIZE).into_font().color(&CPU))
        .axis_desc_style((FONT_FAMILY, DESC_SIZE).into_font().color(&CPU))
        .axis_style(BLACK.mix(0.5))
        .draw()?;

    if let Some(end) = data.warmup_end {
        draw_warmup_band(&mut chart, end, top_rps)?;
    }
    draw_line(
        chart.secondary_plotting_area(),
        &data.cpu_percent,
        CPU,
        Stroke::Solid,
        &ChartData {
            dots: false,
            ..data.clone()
        },
    )?;
    draw_line(chart.plotting_area(), &data.rps, RPS, Stroke::Solid, data)?;
    // Errors can be a handful against thousands of RPS, so a line on the RPS axis would
    // hide them: a cross at the foot of every interval that had any, with its count.
    let cross_y = top_rps * 0.06;
    chart.draw_series(
        data.errors
            .iter()
            .map(|(x, _)| Cross::new((*x, cross_y), 7, ERRORS.stroke_width(3))),
    )?;
    draw_counts(&mut chart, &data.errors, cross_y, ERRORS, 10)?;
    Ok(())
}

/// Writes each count above its marker at `(x, y)`; counts of 1 are left out (the marker
/// says it). All or nothing: when two labels would overlap none is written, because a
/// marker without its count would read as "1".
fn draw_counts<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    markers: &[(f64, u64)],
    y: f64,
    color: RGBColor,
    offset_px: i32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let font = (FONT_FAMILY, 14.0)
        .into_font()
        .color(&color)
        .pos(Pos::new(HPos::Center, VPos::Bottom));
    let labelled: Vec<(i32, u32)> = markers
        .iter()
        .filter(|(_, n)| *n > 1)
        .map(|(x, n)| {
            let (x_px, _) = chart.plotting_area().map_coordinate(&(*x, y));
            let (width_px, _) = chart
                .plotting_area()
                .estimate_text_size(&group_thousands(*n), &font)?;
            Ok((x_px, width_px))
        })
        .collect::<anyhow::Result<_>>()?;
    let overlap = labelled.windows(2).any(|pair| {
        let ((left_x, left_w), (right_x, right_w)) = (pair[0], pair[1]);
        right_x - left_x < (left_w + right_w) as i32 / 2 + 6
    });
    if overlap {
        return Ok(());
    }
    chart.draw_series(markers.iter().filter(|(_, n)| *n > 1).map(|(x, n)| {
        EmptyElement::at((*x, y)) + Text::new(group_thousands(*n), (0, -offset_px), font.clone())
    }))?;
    Ok(())
}

fn draw_warmup_band<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    end: f64,
    top: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart.plotting_area().draw(&Rectangle::new(
        [(0.0, 0.0), (end, top)],
        WARMUP.mix(0.18).filled(),
    ))?;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Stroke {
    Solid,
    Dashed,
}

/// Draws one unbroken run of points as a line, with a dot at each sample when there are
/// few (so a reader sees where the samples are).
fn draw_line<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    area: &DrawingArea<DB, CT>,
    points: &[(f64, f64)],
    color: RGBColor,
    stroke: Stroke,
    data: &ChartData,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if !data.dense {
        let style = color.stroke_width(LINE_WIDTH_PX);
        match stroke {
            Stroke::Solid => area.draw(&PathElement::new(points.to_vec(), style))?,
            Stroke::Dashed => area.draw(&DashedPathElement::new(
                points.iter().copied(),
                DASH_PX,
                DASH_GAP_PX,
                style,
            ))?,
        }
        if data.dots {
            for point in points {
                area.draw(&Circle::new(*point, 3, color.filled()))?;
            }
        }
        return Ok(());
    }
    // Dense: the same points in pixels (relative to the plotting area), each drawn three
    // times one pixel apart.
    let (base_x, base_y) = area.get_base_pixel();
    let mut pixels: Vec<(i32, i32)> = points
        .iter()
        .map(|point| {
            let (x, y) = area.map_coordinate(point);
            (x - base_x, y - base_y)
        })
        .collect();
    pixels.dedup();
    let pixel_area = area.strip_coord_spec();
    for offset in DENSE_OFFSETS_PX {
        let shifted: Vec<(i32, i32)> = pixels.iter().map(|(x, y)| (*x, y + offset)).collect();
        let style = color.stroke_width(1);
        match stroke {
            Stroke::Solid => pixel_area.draw(&PathElement::new(shifted, style))?,
            Stroke::Dashed => pixel_area.draw(&DashedPathElement::new(
                shifted,
                DASH_PX,
                DASH_GAP_PX,
                style,
            ))?,
        }
    }
    Ok(())
}

/// A tick value without useless decimals: `0`, `2.5`, `30`.
fn format_tick(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// RPS ticks: `0`, `0.5`, `800`, `5K`, `17.5K`.
fn format_rps_tick(rps: f64) -> String {
    if rps >= 1_000.0 {
        format!("{}K", format_tick((rps / 100.0).round() / 10.0))
    } else {
        format_tick(rps)
    }
}

fn format_mb_tick(mb: f64, decimals: usize) -> String {
    if decimals == 0 && mb >= 1000.0 {
        group_thousands(mb.round() as u64)
    } else {
        format!("{mb:.decimals$}")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::series::Phase;

    const MB: u64 = BYTES_PER_MB as u64;

    /// Deterministic noise in [-1, 1), as in the trend tests.
    fn noise(state: &mut u64) -> f64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        (*state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }

    /// A run shaped like a real one: the first sample before load at 0, `warmup` samples
    /// of warm-up, load samples each second, and a final sample after load stopped.
    /// `memory(second)` gives (heap, RSS, allocator resident) bytes.
    pub(crate) fn run_like(
        scenario: &str,
        params: &[(&str, &str)],
        seconds: u64,
        warmup: u64,
        memory: impl Fn(u64) -> (Option<u64>, u64, Option<u64>),
    ) -> Series {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let samples = (0..=seconds + 1)
            .map(|second| {
                let (heap, rss, allocator) = memory(second);
                let phase = match second {
                    0 => Phase::Warmup,
                    s if s <= warmup => Phase::Warmup,
                    s if s > seconds => Phase::Final,
                    _ => Phase::Load,
                };
                let loaded = second > 0 && second <= seconds;
                let rps = if loaded {
                    18_000.0 + 900.0 * noise(&mut state)
                } else if second > seconds {
                    // The final interval: the tail of the load in 0.4 s.
                    15_000.0
                } else {
                    0.0
                };
                let interval_s = match second {
                    0 => 1e-6,
                    s if s > seconds => 0.4,
                    _ => 1.0,
                };
                Sample {
                    elapsed_s: if second > seconds {
                        seconds as f64 + 0.4
                    } else {
                        second as f64
                    },
                    phase: Some(phase),
                    interval_s,
                    requests: (rps * interval_s) as u64,
                    rps,
                    status_2xx: (rps * interval_s) as u64,
                    cpu_percent: if second == 0 {
                        0.0
                    } else {
                        70.0 + 8.0 * noise(&mut state)
                    },
                    rss_bytes: rss,
                    heap_live_bytes: heap,
                    allocator_resident_bytes: allocator,
                    ..Sample::default()
                }
            })
            .collect();
        Series {
            scenario: scenario.into(),
            params: params
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            allocator: "jemalloc".into(),
            load: "32 connections, closed loop".into(),
            samples,
        }
    }

    /// staticstring-like leak: heap grows linearly 0 → 300 MB, RSS follows above it.
    pub(crate) fn leak_series() -> Series {
        let seconds = 60;
        let mut series = run_like("staticstring", &[], seconds, 5, |second| {
            let heap = 300 * MB * second.min(seconds) / seconds;
            (
                Some(heap),
                12 * MB + heap * 11 / 10,
                Some(8 * MB + heap * 21 / 20),
            )
        });
        for (index, sample) in series.samples.iter_mut().enumerate() {
            sample.reclaim_events = Some(u64::from(index % 17 == 9));
        }
        series
    }

    /// bigstring-like transient pattern: heap sawtooth, RSS flat, purges at each drop.
    pub(crate) fn sawtooth_series() -> Series {
        let period = 8;
        let mut series = run_like("bigstring", &[], 60, 5, |second| {
            let heap = 20 * MB + 35 * MB * (second % period);
            (Some(heap), 330 * MB, Some(310 * MB))
        });
        for sample in &mut series.samples {
            let second = sample.elapsed_s.round() as u64;
            sample.reclaim_events = Some(if second > 0 && second.is_multiple_of(period) {
                3 + second % 5
            } else {
                0
            });
        }
        series
    }

    /// A run whose server starts failing at the end: errors by kind in the last intervals.
    pub(crate) fn errors_series() -> Series {
        let mut series = run_like("loh", &[("size", "84976")], 40, 5, |second| {
            let heap = 30 * MB + (second % 3) * 4 * MB;
            (Some(heap), 440 * MB + (second % 4) * 3 * MB, Some(420 * MB))
        });
        let count = series.samples.len();
        for sample in &mut series.samples[count - 6..] {
            sample.errors = 120;
            sample.errors_by_kind = BTreeMap::from([
                ("timeout".to_string(), 100),
                ("connection refused".to_string(), 20),
            ]);
            sample.rps /= 3.0;
        }
        for (index, sample) in series.samples.iter_mut().enumerate() {
            sample.reclaim_events = Some((index as u64 * 7) % 5);
        }
        series
    }

    /// A foreign server: no heap, no allocator data, no reclaim events.
    pub(crate) fn foreign_series() -> Series {
        let mut series = run_like("target", &[], 30, 3, |second| {
            (None, 80 * MB + second * MB / 2, None)
        });
        series.allocator = "unknown".into();
        series
    }

    fn render_to_png(series: &Series, name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join(format!("{name}.png"));
        let svg = dir.path().join(format!("{name}.svg"));
        render_chart(series, &png, Some(&svg)).unwrap();
        // Set MEMBENCH_CHART_DIR to keep the charts for looking at them.
        if let Some(keep) = std::env::var_os("MEMBENCH_CHART_DIR") {
            std::fs::create_dir_all(&keep).unwrap();
            std::fs::copy(&png, Path::new(&keep).join(format!("{name}.png"))).unwrap();
            std::fs::copy(&svg, Path::new(&keep).join(format!("{name}.svg"))).unwrap();
        }
        (dir, png)
    }

    fn count_pixels(image: &image::RgbImage, color: RGBColor) -> usize {
        image
            .pixels()
            .filter(|p| p.0 == [color.0, color.1, color.2])
            .count()
    }

    #[test]
    fn leak_chart_is_a_png_of_the_chart_size_with_the_allocated_line() {
        let (_dir, png) = render_to_png(&leak_series(), "leak");
        let image = image::open(&png).unwrap().to_rgb8();
        assert_eq!(image.dimensions(), CHART_SIZE_PX);
        let colours: std::collections::HashSet<[u8; 3]> = image.pixels().map(|p| p.0).collect();
        assert!(colours.len() > 50, "only {} colours", colours.len());
        // A 3 px line over most of the width: well over 1000 pure-colour pixels each.
        assert!(count_pixels(&image, ALLOCATED) > 1000);
        assert!(count_pixels(&image, RESIDENT) > 1000);
        assert!(count_pixels(&image, RPS) > 1000);
        assert!(count_pixels(&image, CPU) > 1000);
        // No errors in this run: no error colour anywhere.
        assert_eq!(count_pixels(&image, ERRORS), 0);
    }

    #[test]
    fn allocated_line_rises_in_a_leak() {
        let (_dir, png) = render_to_png(&leak_series(), "leak-rise");
        let image = image::open(&png).unwrap().to_rgb8();
        let (width, height) = image.dimensions();
        // Mean row of the red pixels in the left and right quarters: higher on the right
        // (smaller y) because the heap grows 0 → 300 MB.
        let mean_row = |from: u32, to: u32| {
            let rows: Vec<u32> = (from..to)
                .flat_map(|x| (0..height).map(move |y| (x, y)))
                .filter(|(x, y)| {
                    image.get_pixel(*x, *y).0 == [ALLOCATED.0, ALLOCATED.1, ALLOCATED.2]
                })
                .map(|(_, y)| y)
                .collect();
            assert!(!rows.is_empty());
            rows.iter().sum::<u32>() as f64 / rows.len() as f64
        };
        assert!(mean_row(width * 3 / 4, width - 20) < mean_row(140, width / 4) - 100.0);
    }

    #[test]
    fn sawtooth_and_error_charts_render_with_their_markers() {
        let (_dir, png) = render_to_png(&sawtooth_series(), "sawtooth");
        let image = image::open(&png).unwrap().to_rgb8();
        assert_eq!(image.dimensions(), CHART_SIZE_PX);
        assert!(count_pixels(&image, RECLAIM) > 100, "reclaim triangles");

        let (_dir, png) = render_to_png(&errors_series(), "errors");
        let image = image::open(&png).unwrap().to_rgb8();
        assert!(count_pixels(&image, ERRORS) > 200, "errors are visible");
    }

    #[test]
    fn a_foreign_target_without_heap_data_still_renders() {
        let (_dir, png) = render_to_png(&foreign_series(), "foreign");
        let image = image::open(&png).unwrap().to_rgb8();
        assert_eq!(image.dimensions(), CHART_SIZE_PX);
        assert_eq!(count_pixels(&image, ALLOCATED), 0, "no heap line invented");
        assert!(count_pixels(&image, RESIDENT) > 1000);
        assert!(count_pixels(&image, RPS) > 1000);
    }

    #[test]
    fn a_long_run_is_drawn_in_minutes() {
        // 40 minutes at 1 s, a leak to 2.5 GB, mimalloc.
        let seconds = 2_400;
        let mut series = run_like(
            "cache-unbounded",
            &[("ttl", "none")],
            seconds,
            30,
            |second| {
                let heap = 2_500 * MB * second.min(seconds) / seconds;
                (Some(heap), 20 * MB + heap + heap / 8, None)
            },
        );
        series.allocator = "mimalloc".into();
        for sample in &mut series.samples {
            sample.reclaim_events = Some(u64::from((sample.elapsed_s as u64).is_multiple_of(97)));
        }
        let data = ChartData::from_series(&series).unwrap();
        assert_eq!(data.time_unit, TimeUnit::Minutes);
        assert!(!data.dots && data.dense);
        let (_dir, png) = render_to_png(&series, "long");
        let image = image::open(&png).unwrap().to_rgb8();
        assert!(count_pixels(&image, ALLOCATED) > 1000);
    }

    #[test]
    fn a_single_sample_renders() {
        let mut series = leak_series();
        series.samples.truncate(1);
        let (_dir, png) = render_to_png(&series, "single");
        let image = image::open(&png).unwrap().to_rgb8();
        assert_eq!(image.dimensions(), CHART_SIZE_PX);
    }

    #[test]
    fn chart_data_breaks_lines_at_missing_values_and_keeps_means() {
        let mut series = leak_series();
        series.samples[20].heap_live_bytes = None;
        let data = ChartData::from_series(&series).unwrap();
        assert_eq!(data.heap_mb.len(), 2);
        assert_eq!(
            data.heap_mb.iter().map(Vec::len).sum::<usize>(),
            series.samples.len() - 1
        );
        assert_eq!(data.warmup_end, Some(5.0));
        // The legend's RPS is the measured-phase mean, as in the summary.
        let measured: Vec<&Sample> = series.measured().collect();
        let requests: u64 = measured.iter().map(|s| s.requests).sum();
        let seconds: f64 = measured.iter().map(|s| s.interval_s).sum();
        assert!((data.mean_rps - requests as f64 / seconds).abs() < 1e-9);
        let labels: Vec<String> = legend_entries(&data).into_iter().map(|e| e.label).collect();
        assert!(labels.iter().any(|l| l.starts_with("RPS (")), "{labels:?}");
        assert!(
            labels.iter().any(|l| l.contains("jemalloc purge")),
            "{labels:?}"
        );
        assert!(ChartData::from_series(&Series::default()).is_err());
    }

    #[test]
    fn ticks_drop_useless_decimals() {
        assert_eq!(format_tick(30.0), "30");
        assert_eq!(format_tick(2.5), "2.5");
        assert_eq!(format_mb_tick(1500.0, 0), "1,500");
        assert_eq!(format_rps_tick(0.5), "0.5");
        assert_eq!(format_rps_tick(20_000.0), "20K");
        assert_eq!(format_rps_tick(17_500.0), "17.5K");
        assert_eq!(format_mb_tick(2.26, 1), "2.3");
    }
}
