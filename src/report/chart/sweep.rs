//! The sweep chart (`sweep.png`/`.svg`): throughput against size on a log axis, one curve
//! per allocator, the cliffs marked, and below it what explains them.
//!
//! * Top panel — mean RPS of each point, one colour per allocator (the Okabe–Ito colours
//!   of `compare`, fixed per allocator so system, jemalloc and mimalloc keep their colour
//!   from chart to chart). A cliff is a shaded band between its two sizes in the
//!   allocator's colour, with a down-triangle on the lower point and the drop (`−52 %`).
//! * Bottom panel — minor page faults per request as a share of the buffer's pages
//!   (`faults/s ÷ RPS ÷ ⌈size ÷ page⌉`). This is chosen over allocations/s because it is the
//!   cause: allocations per request are the same on both sides of a cliff (one buffer),
//!   while this share goes from about 0 % (the freed buffer is reused, its pages are
//!   resident) to about 100 % (every request maps fresh memory and faults in each page)
//!   exactly where the throughput falls.
//! * A thin dashed line at 85,000 B, labelled as the .NET large-object-heap threshold, so
//!   a workshop sees that Rust's cliffs are elsewhere.
//!
//! The x axis is log2 of the size in bytes, with ticks at powers of two named in binary
//! units (`64 KiB`, `1 MiB`). Only measured points are drawn, joined by straight lines.

use std::path::Path;

use anyhow::Context;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::legend::{LegendEntry, Swatch, draw_legend};
use super::panels::{DESC_SIZE, LABEL_SIZE, LEFT_LABELS_PX, Look, draw_line, format_rps_tick};
use super::{CHART_SIZE_PX, DrawResult, FONT_FAMILY, MUTED, TEXT, ensure_registered, fit_font};
use crate::report::format::group_thousands;
use crate::sweep::{SweepResult, format_size};

/// The .NET large-object-heap threshold, bytes: objects of at least this size go to the LOH.
pub const DOTNET_LOH_THRESHOLD_BYTES: u64 = 85_000;
/// Most tick labels on the size axis before every other power of two is skipped.
const MAX_SIZE_TICKS: usize = 12;
/// Padding on both sides of the size axis, in doublings, so end points sit off the axes.
const SIZE_AXIS_PAD: f64 = 0.3;
const CLIFF_LABEL_SIZE: f64 = 18.0;

/// The colour of an allocator's curve: Okabe–Ito blue, vermillion and green, as the
/// first three runs of a comparison; anything else dark grey.
pub fn allocator_colour(allocator: &str) -> RGBColor {
    match allocator {
        "system" => RGBColor(0, 114, 178),
        "jemalloc" => RGBColor(213, 94, 0),
        "mimalloc" => RGBColor(0, 158, 115),
        _ => RGBColor(60, 60, 60),
    }
}

/// Draws the sweep chart as PNG (and SVG when asked). Needs at least one point.
pub fn render_sweep(result: &SweepResult, png: &Path, svg: Option<&Path>) -> anyhow::Result<()> {
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

/// What the chart draws, in chart coordinates (x = log2 of the size in bytes).
struct SweepChartData {
    x_range: (f64, f64),
    ticks: Vec<f64>,
    /// Per allocator: its colour, name and (x, RPS) points.
    rps: Vec<(RGBColor, String, Vec<(f64, f64)>)>,
    /// Per allocator: (x, % of the buffer's pages faulted per request).
    fresh_pages_percent: Vec<(RGBColor, Vec<(f64, f64)>)>,
    /// (colour, from x, to x, to RPS, label).
    cliffs: Vec<(RGBColor, f64, f64, f64, String)>,
    rps_max: f64,
    fresh_max: f64,
}

fn log2_size(bytes: u64) -> f64 {
    (bytes.max(1) as f64).log2()
}

impl SweepChartData {
    fn from_result(result: &SweepResult, page_bytes: u64) -> SweepChartData {
        let sizes: Vec<u64> = result.points.iter().map(|p| p.size_bytes).collect();
        let min = sizes.iter().copied().min().unwrap_or(1);
        let max = sizes.iter().copied().max().unwrap_or(1);
        let pad = if min == max { 1.0 } else { SIZE_AXIS_PAD };
        let x_range = (log2_size(min) - pad, log2_size(max) + pad);

        let mut allocators: Vec<&str> = result.allocators.iter().map(String::as_str).collect();
        for point in &result.points {
            if !allocators.contains(&point.allocator.as_str()) {
                allocators.push(&point.allocator);
            }
        }
        let mut rps = Vec::new();
        let mut fresh_pages_percent = Vec::new();
        for allocator in allocators {
            let colour = allocator_colour(allocator);
            let mut points: Vec<_> = result
                .points
                .iter()
                .filter(|p| p.allocator == allocator)
                .collect();
            if points.is_empty() {
                continue;
            }
            points.sort_by_key(|p| p.size_bytes);
            rps.push((
                colour,
                allocator.to_string(),
                points
                    .iter()
                    .map(|p| (log2_size(p.size_bytes), p.rps))
                    .collect(),
            ));
            fresh_pages_percent.push((
                colour,
                points
                    .iter()
                    .filter(|p| p.rps > 0.0)
                    .map(|p| {
                        let pages = p.size_bytes.div_ceil(page_bytes.max(1)).max(1);
                        let per_request = p.minor_faults_per_s / p.rps;
                        (log2_size(p.size_bytes), per_request / pages as f64 * 100.0)
                    })
                    .collect(),
            ));
        }
        let cliffs = result
            .cliffs
            .iter()
            .map(|cliff| {
                (
                    allocator_colour(&cliff.allocator),
                    log2_size(cliff.from_size_bytes),
                    log2_size(cliff.to_size_bytes),
                    cliff.to_rps,
                    format!("−{:.0} %", cliff.drop_fraction * 100.0),
                )
            })
            .collect();
        let finite_max = |values: &mut dyn Iterator<Item = f64>| {
            values.filter(|v| v.is_finite()).fold(0.0, f64::max)
        };
        let rps_max = finite_max(
            &mut rps
                .iter()
                .flat_map(|(_, _, p): &(RGBColor, String, Vec<(f64, f64)>)| p)
                .map(|(_, y)| *y),
        );
        let fresh_max = finite_max(
            &mut fresh_pages_percent
                .iter()
                .flat_map(|(_, p): &(RGBColor, Vec<(f64, f64)>)| p)
                .map(|(_, y)| *y),
        );
        SweepChartData {
            x_range,
            ticks: size_ticks(x_range, &sizes),
            rps,
            fresh_pages_percent,
            cliffs,
            rps_max,
            fresh_max,
        }
    }
}

/// Tick positions (log2 bytes): the powers of two inside the axis, every other one when
/// there are too many; the measured sizes themselves when fewer than two powers fit.
fn size_ticks(x_range: (f64, f64), sizes: &[u64]) -> Vec<f64> {
    let first = x_range.0.ceil() as i64;
    let last = x_range.1.floor() as i64;
    let mut powers: Vec<i64> = (first..=last).collect();
    if powers.len() > MAX_SIZE_TICKS {
        // Keep the even exponents: 64 KiB, 256 KiB, 1 MiB, … (round numbers in KiB/MiB).
        powers.retain(|power| power % 2 == 0);
    }
    if powers.len() >= 2 {
        return powers.into_iter().map(|p| p as f64).collect();
    }
    let mut ticks: Vec<f64> = sizes.iter().map(|s| log2_size(*s)).collect();
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();
    ticks
}

/// A tick label: a power of two in binary units (`64 KiB`), another size in bytes with
/// thousands separators (`84,976 B`), since rounding would give neighbours the same name.
fn tick_label(log2_bytes: f64) -> String {
    let bytes = log2_bytes.exp2().round() as u64;
    if bytes.is_power_of_two() {
        format_size(bytes)
    } else {
        format!("{} B", group_thousands(bytes))
    }
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, result: &SweepResult) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let data = SweepChartData::from_result(result, procfs::page_size());
    root.fill(&WHITE)?;
    let (width, _) = root.dim_in_pixel();
    let mut title = format!(
        "{}: requests per second by size ({} s per point, {} connections)",
        result.scenario,
        super::panels::format_tick(result.duration_s),
        result.connections
    );
    if result.end != "completed" {
        title.push_str(&format!(" — {}", result.end));
    }
    let title_font = fit_font(root, &title, 28.0, width as f64 - 40.0, FontStyle::Bold)?;
    root.draw(&Text::new(
        title,
        (width as i32 / 2, 10),
        title_font.pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    let (_, rest) = root.split_vertically(50);

    let mut entries: Vec<LegendEntry> = data
        .rps
        .iter()
        .map(|(colour, name, _)| LegendEntry {
            swatch: Swatch::Line(*colour),
            label: name.clone(),
            color: TEXT,
        })
        .collect();
    entries.push(LegendEntry {
        swatch: Swatch::Band(MUTED),
        label: format!(
            "cliff: RPS drops > {:.0} % to the next size",
            result.cliff_drop * 100.0
        ),
        color: TEXT,
    });
    let legend_h = draw_legend(&rest, &entries)?;
    let (_, panels) = rest.split_vertically(legend_h);
    let (_, height) = panels.dim_in_pixel();
    let (top, bottom) = panels.split_vertically((height as f64 * 0.6) as i32);
    draw_rps_panel(&top, &data)?;
    draw_fault_panel(&bottom, &data)?;
    Ok(())
}

/// The x coordinate with its ticks, shared by both panels so they line up.
fn x_axis(data: &SweepChartData) -> SizeAxis {
    SizeAxis {
        linear: (data.x_range.0..data.x_range.1).into(),
        ticks: data.ticks.clone(),
    }
}

/// The size axis: linear in log2 bytes, with its ticks at the chosen sizes. plotters'
/// own `with_key_points` cannot take a label formatter on an `f64` axis, hence this.
struct SizeAxis {
    linear: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ranged for SizeAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Bold points only: no light mesh lines between the sizes.
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

fn draw_rps_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &SweepChartData,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    // Headroom for the cliff labels above the lower points and the LOH label.
    let top_rps = (data.rps_max * 1.3).max(1.0);
    let mut chart = ChartBuilder::on(area)
        .margin_top(6)
        .margin_left(8)
        .margin_right(28)
        .y_label_area_size(LEFT_LABELS_PX)
        .x_label_area_size(8)
        .build_cartesian_2d(x_axis(data), 0.0..top_rps)?;
    let rps_label = |rps: &f64| format_rps_tick(*rps);
    chart
        .configure_mesh()
        .y_labels(6)
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&rps_label)
        .y_desc("requests per second")
        .label_style((FONT_FAMILY, LABEL_SIZE).into_font().color(&TEXT))
        .axis_desc_style((FONT_FAMILY, DESC_SIZE).into_font().color(&TEXT))
        .light_line_style(WHITE)
        .bold_line_style(BLACK.mix(0.12))
        .axis_style(BLACK.mix(0.5))
        .draw()?;

    for (colour, from_x, to_x, _, _) in &data.cliffs {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(*from_x, 0.0), (*to_x, top_rps)],
            colour.mix(0.13).filled(),
        )))?;
    }
    draw_loh_line(&chart, data, top_rps, true)?;
    let plot = chart.plotting_area();
    for (colour, _, points) in &data.rps {
        draw_line(plot, points, *colour, LINE_LOOK)?;
    }
    for (colour, _, to_x, to_rps, label) in &data.cliffs {
        let (x, y) = plot.map_coordinate(&(*to_x, *to_rps));
        let pixels = plot.strip_coord_spec();
        let (base_x, base_y) = plot.get_base_pixel();
        let (x, y) = (x - base_x, y - base_y);
        // A down-pointing triangle just above the lower point, the drop above it.
        pixels.draw(&Polygon::new(
            vec![(x, y - 8), (x - 9, y - 24), (x + 9, y - 24)],
            colour.filled(),
        ))?;
        pixels.draw(&Text::new(
            label.clone(),
            (x, y - 28),
            (FONT_FAMILY, CLIFF_LABEL_SIZE)
                .into_font()
                .style(FontStyle::Bold)
                .color(colour)
                .pos(Pos::new(HPos::Center, VPos::Bottom)),
        ))?;
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
    let top_percent = (data.fresh_max * 1.15).max(110.0);
    let mut chart = ChartBuilder::on(area)
        .margin_top(10)
        .margin_left(8)
        .margin_right(28)
        .margin_bottom(6)
        .y_label_area_size(LEFT_LABELS_PX)
        .x_label_area_size(58)
        .build_cartesian_2d(x_axis(data), 0.0..top_percent)?;
    let size_label = |x: &f64| tick_label(*x);
    let percent_label = |p: &f64| format!("{p:.0} %");
    chart
        .configure_mesh()
        .y_labels(5)
        .x_label_formatter(&size_label)
        .y_label_formatter(&percent_label)
        .x_desc("size (log scale)")
        .y_desc("pages faulted / request")
        .label_style((FONT_FAMILY, LABEL_SIZE).into_font().color(&TEXT))
        .axis_desc_style((FONT_FAMILY, DESC_SIZE).into_font().color(&TEXT))
        .light_line_style(WHITE)
        .bold_line_style(BLACK.mix(0.12))
        .axis_style(BLACK.mix(0.5))
        .draw()?;
    for (colour, from_x, to_x, _, _) in &data.cliffs {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(*from_x, 0.0), (*to_x, top_percent)],
            colour.mix(0.13).filled(),
        )))?;
    }
    draw_loh_line(&chart, data, top_percent, false)?;
    let plot = chart.plotting_area();
    for (colour, points) in &data.fresh_pages_percent {
        draw_line(plot, points, *colour, LINE_LOOK)?;
    }
    let pixels = plot.strip_coord_spec();
    pixels.draw(&Text::new(
        "minor page faults per request, % of the buffer's pages: 0 % = freed memory reused, 100 % = every page fresh from the OS",
        (10, 6),
        (FONT_FAMILY, 15.0)
            .into_font()
            .color(&MUTED)
            .pos(Pos::new(HPos::Left, VPos::Top)),
    ))?;
    Ok(())
}

/// The dashed .NET LOH line at 85,000 B when it is inside the axis; labelled in the top
/// panel only.
fn draw_loh_line<DB: DrawingBackend>(
    chart: &ChartContext<DB, Cartesian2d<SizeAxis, RangedCoordf64>>,
    data: &SweepChartData,
    top: f64,
    labelled: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let x = log2_size(DOTNET_LOH_THRESHOLD_BYTES);
    if !(data.x_range.0..=data.x_range.1).contains(&x) {
        return Ok(());
    }
    let plot = chart.plotting_area();
    plot.draw(&DashedPathElement::new(
        vec![(x, 0.0), (x, top)],
        6,
        5,
        MUTED.stroke_width(2),
    ))?;
    if labelled {
        let (px, py) = plot.map_coordinate(&(x, top));
        let (base_x, base_y) = plot.get_base_pixel();
        plot.strip_coord_spec().draw(&Text::new(
            ".NET LOH threshold (85,000 B)",
            (px - base_x + 6, py - base_y + 4),
            (FONT_FAMILY, 15.0)
                .into_font()
                .color(&MUTED)
                .pos(Pos::new(HPos::Left, VPos::Top)),
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
        let drop = format!("−{:.0} %", sweep.cliffs[0].drop_fraction * 100.0);
        assert!(text.contains(&drop), "no cliff label {drop}");
        assert!(text.contains("16 MiB") && text.contains("64 KiB"));
    }

    #[test]
    fn fresh_pages_are_faults_per_request_over_the_buffers_pages() {
        let sweep = synthetic_sweep();
        let data = SweepChartData::from_result(&sweep, 4096);
        // jemalloc at 16 MiB: faults/s = RPS × pages in the synthetic sweep, so 100 %.
        let (_, jemalloc) = &data.fresh_pages_percent[1];
        assert!((jemalloc[2].1 - 100.0).abs() < 1e-9, "{jemalloc:?}");
        assert!(jemalloc[0].1 < 1.0);
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
