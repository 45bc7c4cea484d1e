//! The sweep chart's measured-GC panel, drawn when a swept runtime measured its own
//! collections (`--runtime mono|jvm|node|go`): collections **per 1,000 requests** against
//! size, one line per runtime and kind of collection (the youngest kind solid, older kinds
//! dashed), each labelled at its last point with its kind and value, and a bar from the
//! lowest to the highest repetition.
//!
//! Per 1,000 requests rather than per second: a rate per second follows RPS, which swings
//! by a quarter to several times between repetitions on a shared machine, while how often
//! a request's garbage sets off a collection does not. A sweep written before the measure
//! existed is drawn per second, as it was measured, and the panel says so.
//!
//! The y axis is log10(1 + value): log, so 0.02 old collections per 1,000 requests are not
//! flattened under 2.4 young ones, and 0 drawable, since "no major collection at 7,968 B"
//! is half of the lesson. Its ticks are labelled with the values themselves (0, 1, 10, 100).
//!
//! End labels that would overlap (several kinds of one runtime at the same value, such as
//! Node's `major`, `incremental` and `weakcb` all at 0) are merged into one label naming
//! every kind (`node major, incremental, weakcb 0`); labels of different lines that still
//! collide are moved apart vertically.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::SizeAxis;
use super::data::Curve;
use super::{LINE_LOOK, TickedAxis, allocator_colour, draw_loh_line};
use crate::diagnostics::MeasuredGc;
use crate::report::chart::panels::{
    DESC_SIZE, LABEL_SIZE, LEFT_LABELS_PX, Look, draw_line, format_tick,
};
use crate::report::chart::{DrawResult, MUTED, TEXT, styled_mesh};
use crate::report::font::FONT_FAMILY;
use crate::sweep::{SweepPoint, SweepResult};
use std::collections::BTreeMap;

/// The panel's lines: one per curve and kind, with its look and end label.
pub(super) struct GcPanel {
    pub(super) y_range: (f64, f64),
    pub(super) y_ticks: Vec<f64>,
    /// A line, dashed or not, and the label at its last point (`gen1 0.02`); empty where
    /// the label is merged into another line's at the same end value.
    pub(super) lines: Vec<(Curve, bool, String)>,
    /// True: collections per 1,000 requests; false: per second (a sweep written before).
    pub(super) per_1k_requests: bool,
}

/// The three by-kind maps of a point the panel draws: value, lowest, highest.
type KindMaps<'a> = (
    &'a BTreeMap<String, f64>,
    &'a BTreeMap<String, f64>,
    &'a BTreeMap<String, f64>,
);

/// A value on the panel's axis.
fn y(value: f64) -> f64 {
    (1.0 + value.max(0.0)).log10()
}

/// The by-kind maps of `point` the panel draws: per 1,000 requests, or per second.
fn kind_maps(point: &SweepPoint, per_1k_requests: bool) -> KindMaps<'_> {
    if per_1k_requests {
        (
            &point.gc_per_1k_requests,
            &point.gc_per_1k_requests_min,
            &point.gc_per_1k_requests_max,
        )
    } else {
        (&point.gc_per_s, &point.gc_per_s_min, &point.gc_per_s_max)
    }
}

/// Vertical distance between two end labels, pixels (the label font is 15 px).
const LABEL_GAP_PX: i32 = 18;

impl GcPanel {
    /// The panel of `result` on `axis`, or `None` when no point measured a collector.
    pub(super) fn from_result(result: &SweepResult, axis: &SizeAxis) -> Option<GcPanel> {
        if result.points.iter().all(|p| p.gc_per_s.is_empty()) {
            return None;
        }
        let per_1k_requests = result
            .points
            .iter()
            .any(|p| !p.gc_per_1k_requests.is_empty());
        let unit = if per_1k_requests { "" } else { "/s" };
        let mut lines: Vec<(Curve, bool, String)> = Vec::new();
        for name in &result.allocators {
            let mut points: Vec<&SweepPoint> = result
                .points
                .iter()
                .filter(|p| p.allocator == *name && !kind_maps(p, per_1k_requests).0.is_empty())
                .collect();
            points.sort_by_key(|p| p.size_bytes);
            let kinds = MeasuredGc::kinds_in_order(
                points
                    .iter()
                    .flat_map(|p| kind_maps(p, per_1k_requests).0.keys().cloned()),
            );
            let mine = lines.len();
            // The end value of each line of this runtime, to merge labels at the same one.
            let mut ends: Vec<(usize, f64)> = Vec::new();
            for (index, kind) in kinds.iter().enumerate() {
                let rate = |p: &SweepPoint| {
                    kind_maps(p, per_1k_requests)
                        .0
                        .get(kind)
                        .copied()
                        .unwrap_or(0.0)
                };
                let curve = Curve {
                    colour: allocator_colour(name),
                    allocator: format!("{name} {kind}"),
                    points: points
                        .iter()
                        .map(|p| (axis.x(p.size_bytes), y(rate(p))))
                        .collect(),
                    spreads: points
                        .iter()
                        .filter(|p| p.repetitions.len() > 1)
                        .filter_map(|p| {
                            let (_, lows, highs) = kind_maps(p, per_1k_requests);
                            let low = lows.get(kind)?;
                            let high = highs.get(kind)?;
                            Some((axis.x(p.size_bytes), y(*low), y(*high)))
                        })
                        .collect(),
                };
                let last = points.last().map_or(0.0, |p| rate(p));
                // A kind that is another of the same runtime under a second name (Go's
                // `automatic` cycles when none was forced) would hide behind it: one line,
                // both names.
                let same_line = lines[mine..]
                    .iter()
                    .position(|(other, _, _)| {
                        other.points == curve.points && other.spreads == curve.spreads
                    })
                    .map(|at| mine + at);
                // A line ending at the same value as another of this runtime: one label
                // for both, on the first (`node major, incremental 0`).
                let same_end = ends
                    .iter()
                    .find(|(_, end)| rate_label(*end) == rate_label(last))
                    .map(|(at, _)| *at);
                if let Some(at) = same_line {
                    // Drawn already; its name joins the label (` = automatic` where the
                    // line has its own label, else `, weakcb` on the shared one).
                    let (at, joined) = if lines[at].2.is_empty() {
                        (same_end.unwrap_or(at), format!(", {kind}"))
                    } else {
                        (at, format!(" = {kind}"))
                    };
                    let label = &mut lines[at].2;
                    let cut = label.rfind(' ').unwrap_or(label.len());
                    label.insert_str(cut, &joined);
                    continue;
                }
                let label = match same_end {
                    Some(at) => {
                        let label = &mut lines[at].2;
                        let cut = label.rfind(' ').unwrap_or(label.len());
                        label.insert_str(cut, &format!(", {kind}"));
                        String::new()
                    }
                    None => {
                        ends.push((lines.len(), last));
                        format!("{name} {kind} {}{unit}", rate_label(last))
                    }
                };
                lines.push((curve, index > 0, label));
            }
        }
        let high = lines
            .iter()
            .flat_map(|(curve, _, _)| {
                curve
                    .points
                    .iter()
                    .map(|(_, y)| *y)
                    .chain(curve.spreads.iter().map(|(_, _, h)| *h))
            })
            .fold(1.0, f64::max);
        // Room above the highest line for the end labels.
        let y_range = (-0.08, high * 1.15 + 0.1);
        // 0, 1, 10, 100, … collections, as far as the axis goes.
        let y_ticks: Vec<f64> = std::iter::once(0.0)
            .chain((0..=(y_range.1.floor() as i32)).map(|decade| y(10f64.powi(decade))))
            .filter(|tick| *tick <= y_range.1)
            .collect();
        Some(GcPanel {
            y_range,
            y_ticks,
            lines,
            per_1k_requests,
        })
    }
}

/// `0`, `0.02`, `0.4`, `2.4`, `380`: two significant figures below 10.
fn rate_label(value: f64) -> String {
    if value == 0.0 {
        "0".to_string()
    } else if value >= 10.0 {
        format!("{value:.0}")
    } else if value >= 1.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// Draws the measured-GC panel.
pub(super) fn draw_gc_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    axis: &SizeAxis,
    panel: &GcPanel,
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
            TickedAxis::new(axis.range, &axis.ticks),
            TickedAxis::new(panel.y_range, &panel.y_ticks),
        )?;
    let rate = |y: &f64| format_tick((10f64.powf(*y) - 1.0).round());
    styled_mesh!(chart)
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&rate)
        .y_desc(if panel.per_1k_requests {
            "GC / 1,000 req"
        } else {
            "GC / s"
        })
        .draw()?;
    draw_loh_line(&chart, axis, panel.y_range, false)?;
    let plot = chart.plotting_area();
    let pixels = plot.strip_coord_spec();
    let (base_x, base_y) = plot.get_base_pixel();
    let font = (FONT_FAMILY, 15.0).into_font().style(FontStyle::Bold);
    for (curve, dashed, _) in &panel.lines {
        let look = Look {
            dashed: *dashed,
            ..LINE_LOOK
        };
        draw_line(plot, &curve.points, curve.colour, look)?;
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
    // End labels, moved apart where two would overlap: placed from the lowest up, each at
    // least a line above the one below it when they are near in x.
    let mut labels: Vec<(i32, i32, &String, RGBColor)> = panel
        .lines
        .iter()
        .filter(|(_, _, label)| !label.is_empty())
        .filter_map(|(curve, _, label)| {
            let &(x, y) = curve.points.last()?;
            let (px, py) = plot.map_coordinate(&(x, y));
            Some((px - base_x - 8, py - base_y - 6, label, curve.colour))
        })
        .collect();
    labels.sort_by_key(|(_, py, _, _)| std::cmp::Reverse(*py));
    let mut placed: Vec<(i32, i32)> = Vec::new();
    for (px, py, label, colour) in labels {
        let mut bottom = py;
        while let Some(&(_, below)) = placed
            .iter()
            .find(|(x, b)| (x - px).abs() < 400 && (b - bottom).abs() < LABEL_GAP_PX)
        {
            bottom = below - LABEL_GAP_PX;
        }
        placed.push((px, bottom));
        pixels.draw(&Text::new(
            label.clone(),
            (px, bottom),
            font.color(&colour).pos(Pos::new(HPos::Right, VPos::Bottom)),
        ))?;
    }
    pixels.draw(&Text::new(
        if panel.per_1k_requests {
            "MEASURED by each runtime: its collections per 1,000 requests by kind (solid: youngest kind, dashed: older)"
        } else {
            "MEASURED by each runtime: its collections per second by kind (solid: youngest kind, dashed: older)"
        },
        (10, 6),
        (FONT_FAMILY, 15.0)
            .into_font()
            .color(&MUTED)
            .pos(Pos::new(HPos::Left, VPos::Top)),
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::save::tests::synthetic_sweep;

    fn axis(sweep: &SweepResult) -> SizeAxis {
        SizeAxis::for_sizes(&sweep.sizes_bytes)
    }

    /// The synthetic sweep plus a Mono curve whose old collections start at the larger
    /// sizes.
    fn with_mono() -> SweepResult {
        let mut sweep = synthetic_sweep();
        let sizes = sweep.sizes_bytes.clone();
        for (index, size_bytes) in sizes.into_iter().enumerate() {
            let mut point = sweep.points[index].clone();
            point.allocator = "mono".into();
            point.runtime = "mono".into();
            point.size_bytes = size_bytes;
            point.measured_gc = Some("Mono 6.8.0.105, SGen".into());
            let old = if index == 0 { 0.0 } else { 6.5 * index as f64 };
            point.gc_per_s = [("gen0".to_string(), 380.0), ("gen1".to_string(), old)].into();
            point.gc_per_s_min = [("gen0".to_string(), 370.0), ("gen1".to_string(), old)].into();
            point.gc_per_s_max = [("gen0".to_string(), 390.0), ("gen1".to_string(), old)].into();
            sweep.points.push(point);
        }
        sweep.allocators.push("mono".into());
        sweep
    }

    #[test]
    fn a_runtime_gets_a_line_per_kind_and_zero_is_on_the_axis() {
        assert!(GcPanel::from_result(&synthetic_sweep(), &axis(&synthetic_sweep())).is_none());
        let panel = GcPanel::from_result(&with_mono(), &axis(&with_mono())).unwrap();
        let labels: Vec<&str> = panel.lines.iter().map(|(_, _, l)| l.as_str()).collect();
        assert_eq!(labels, ["mono gen0 380/s", "mono gen1 13/s"]);
        assert!(!panel.lines[0].1, "the youngest kind is solid");
        assert!(panel.lines[1].1, "older kinds are dashed");
        // 0 old collections at the first size is drawn, at the foot of the axis.
        assert_eq!(panel.lines[1].0.points[0].1, 0.0);
        assert_eq!(panel.y_ticks[0], 0.0);
        assert_eq!(panel.lines[0].0.spreads.len(), 3);
    }

    #[test]
    fn per_1k_requests_is_drawn_when_measured_and_equal_ends_share_a_label() {
        let mut sweep = with_mono();
        for point in sweep.points.iter_mut().filter(|p| p.runtime == "mono") {
            point.allocator = "node".into();
            let young = point.gc_per_s["gen0"] / 1_000.0;
            let major = if point.size_bytes == 1 << 20 {
                0.4
            } else {
                0.0
            };
            point.gc_per_1k_requests = [
                ("minor".to_string(), young),
                ("major".to_string(), major),
                ("incremental".to_string(), 0.0),
                ("weakcb".to_string(), 0.0),
            ]
            .into();
            point.gc_per_1k_requests_min = point.gc_per_1k_requests.clone();
            point.gc_per_1k_requests_max = point.gc_per_1k_requests.clone();
            point.gc_per_s = point.gc_per_1k_requests.clone();
        }
        sweep.allocators.retain(|a| a != "mono");
        sweep.allocators.push("node".into());
        let panel = GcPanel::from_result(&sweep, &axis(&sweep)).unwrap();
        assert!(panel.per_1k_requests);
        let labels: Vec<&str> = panel.lines.iter().map(|(_, _, l)| l.as_str()).collect();
        // Three lines end at 0: one label names them all, the others carry none.
        assert_eq!(
            labels,
            ["node minor 0.38", "node major, incremental, weakcb 0", ""]
        );
        // `weakcb` is `incremental`'s line exactly: drawn once.
        assert_eq!(panel.lines.len(), 3);
    }

    #[test]
    fn kinds_with_the_same_rates_share_one_line() {
        let mut sweep = with_mono();
        for point in sweep.points.iter_mut().filter(|p| p.runtime == "mono") {
            let cycles = point.gc_per_s["gen0"];
            point.gc_per_s = [
                ("cycles".to_string(), cycles),
                ("automatic".to_string(), cycles),
                ("forced".to_string(), 0.0),
            ]
            .into();
            point.gc_per_s_min = point.gc_per_s.clone();
            point.gc_per_s_max = point.gc_per_s.clone();
        }
        let panel = GcPanel::from_result(&sweep, &axis(&sweep)).unwrap();
        let labels: Vec<&str> = panel.lines.iter().map(|(_, _, l)| l.as_str()).collect();
        assert_eq!(labels, ["mono cycles = automatic 380/s", "mono forced 0/s"]);
    }

    #[test]
    fn the_chart_names_the_measured_collector_and_draws_the_panel() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("sweep.png");
        let svg = dir.path().join("sweep.svg");
        crate::sweep::render_sweep(&with_mono(), &png, Some(&svg)).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("mono (measured: Mono 6.8.0.105, SGen)"));
        assert!(text.contains("MEASURED by each runtime") && text.contains("mono gen1 13/s"));
        let image = image::open(&png).unwrap().to_rgb8();
        let RGBColor(r, g, b) = allocator_colour("mono");
        assert!(image.pixels().any(|p| p.0 == [r, g, b]));
        if let Ok(keep) = std::env::var("MEMBENCH_KEEP_GC_CHART") {
            std::fs::copy(&png, keep).unwrap();
        }
    }
}
