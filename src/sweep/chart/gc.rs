//! The sweep chart's measured-GC panel, drawn when a swept runtime measured its own
//! collections (`--runtime mono|jvm|node|go`): collections per second against size, one
//! line per runtime and kind of collection (the youngest kind solid, older kinds dashed),
//! each labelled at its last point with its kind and rate, and a bar from the lowest to the
//! highest repetition.
//!
//! The y axis is log10(1 + collections/s): log, so 6.5 old collections a second are not
//! flattened under 380 young ones, and 0 drawable, since "no major collection at 7,968 B"
//! is half of the lesson. Its ticks are labelled with the rates themselves (0, 1, 10, 100).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::{Curve, log2_size};
use super::{LINE_LOOK, TickedAxis, allocator_colour, draw_loh_line};
use crate::diagnostics::MeasuredGc;
use crate::report::chart::panels::{
    DESC_SIZE, LABEL_SIZE, LEFT_LABELS_PX, Look, draw_line, format_tick,
};
use crate::report::chart::{DrawResult, MUTED, TEXT, styled_mesh};
use crate::report::font::FONT_FAMILY;
use crate::sweep::{SweepPoint, SweepResult};

/// The panel's lines: one per curve and kind, with its look and end label.
pub(super) struct GcPanel {
    pub(super) y_range: (f64, f64),
    pub(super) y_ticks: Vec<f64>,
    /// A line, dashed or not, and the label at its last point (`gen1 6.5/s`).
    pub(super) lines: Vec<(Curve, bool, String)>,
}

/// A rate on the panel's axis.
fn y(per_s: f64) -> f64 {
    (1.0 + per_s.max(0.0)).log10()
}

impl GcPanel {
    /// The panel of `result`, or `None` when no point measured a collector.
    pub(super) fn from_result(result: &SweepResult) -> Option<GcPanel> {
        if result.points.iter().all(|p| p.gc_per_s.is_empty()) {
            return None;
        }
        let mut lines: Vec<(Curve, bool, String)> = Vec::new();
        for name in &result.allocators {
            let mut points: Vec<&SweepPoint> = result
                .points
                .iter()
                .filter(|p| p.allocator == *name && !p.gc_per_s.is_empty())
                .collect();
            points.sort_by_key(|p| p.size_bytes);
            let kinds =
                MeasuredGc::kinds_in_order(points.iter().flat_map(|p| p.gc_per_s.keys().cloned()));
            let mine = lines.len();
            for (index, kind) in kinds.iter().enumerate() {
                let rate = |p: &SweepPoint| p.gc_per_s.get(kind).copied().unwrap_or(0.0);
                let curve = Curve {
                    colour: allocator_colour(name),
                    allocator: format!("{name} {kind}"),
                    points: points
                        .iter()
                        .map(|p| (log2_size(p.size_bytes), y(rate(p))))
                        .collect(),
                    spreads: points
                        .iter()
                        .filter(|p| p.repetitions.len() > 1)
                        .filter_map(|p| {
                            let low = p.gc_per_s_min.get(kind)?;
                            let high = p.gc_per_s_max.get(kind)?;
                            Some((log2_size(p.size_bytes), y(*low), y(*high)))
                        })
                        .collect(),
                };
                let last = points.last().map_or(0.0, |p| rate(p));
                // A kind that is another of the same runtime under a second name (Go's
                // `automatic` cycles when none was forced) would hide behind it: one line,
                // both names.
                match lines[mine..].iter_mut().find(|(other, _, _)| {
                    other.points == curve.points && other.spreads == curve.spreads
                }) {
                    Some((_, _, label)) => {
                        let at = label.rfind(' ').unwrap_or(label.len());
                        label.insert_str(at, &format!(" = {kind}"));
                    }
                    None => lines.push((
                        curve,
                        index > 0,
                        format!("{name} {kind} {}/s", rate_label(last)),
                    )),
                }
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
        // 0, 1, 10, 100, … collections/s, as far as the axis goes.
        let y_ticks: Vec<f64> = std::iter::once(0.0)
            .chain((0..=(y_range.1.floor() as i32)).map(|decade| y(10f64.powi(decade))))
            .filter(|tick| *tick <= y_range.1)
            .collect();
        Some(GcPanel {
            y_range,
            y_ticks,
            lines,
        })
    }
}

fn rate_label(per_s: f64) -> String {
    if per_s == 0.0 {
        "0".to_string()
    } else if per_s >= 10.0 {
        format!("{per_s:.0}")
    } else {
        format!("{per_s:.1}")
    }
}

/// Draws the measured-GC panel.
pub(super) fn draw_gc_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x_range: (f64, f64),
    x_ticks: &[f64],
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
            TickedAxis::new(x_range, x_ticks),
            TickedAxis::new(panel.y_range, &panel.y_ticks),
        )?;
    let rate = |y: &f64| format_tick((10f64.powf(*y) - 1.0).round());
    styled_mesh!(chart)
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&rate)
        .y_desc("GC / s")
        .draw()?;
    draw_loh_line(&chart, x_range, panel.y_range, false)?;
    let plot = chart.plotting_area();
    let pixels = plot.strip_coord_spec();
    let (base_x, base_y) = plot.get_base_pixel();
    let font = (FONT_FAMILY, 15.0).into_font().style(FontStyle::Bold);
    for (curve, dashed, label) in &panel.lines {
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
        if let Some(&(x, y)) = curve.points.last() {
            let (px, py) = plot.map_coordinate(&(x, y));
            pixels.draw(&Text::new(
                label.clone(),
                (px - base_x - 8, py - base_y - 6),
                font.color(&curve.colour)
                    .pos(Pos::new(HPos::Right, VPos::Bottom)),
            ))?;
        }
    }
    pixels.draw(&Text::new(
        "MEASURED by each runtime: its collections per second by kind (solid: youngest kind, dashed: older)",
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
        assert!(GcPanel::from_result(&synthetic_sweep()).is_none());
        let panel = GcPanel::from_result(&with_mono()).unwrap();
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
        let panel = GcPanel::from_result(&sweep).unwrap();
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
