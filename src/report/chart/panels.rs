//! The two panels: memory (heap, RSS, allocator resident, reclaim triangles) and load
//! (RPS, CPU on a second axis, error crosses), sharing one time axis.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::ChartData;
use super::{
    ALLOCATED, ALLOCATOR_RESIDENT, CPU, DASH_GAP_PX, DASH_PX, DENSE_OFFSETS_PX, DrawResult, ERRORS,
    FONT_FAMILY, LINE_WIDTH_PX, MODELLED_GEN0, MODELLED_GEN1, MODELLED_GEN2, MODELLED_HEAP,
    RECLAIM, RESIDENT, RPS, TEXT, WARMUP,
};
use crate::format::group_thousands;

/// Label areas shared by both panels, so their time axes line up.
pub(crate) const LEFT_LABELS_PX: u32 = 118;
pub(crate) const RIGHT_LABELS_PX: u32 = 92;
pub(crate) const LABEL_SIZE: f64 = 17.0;
pub(crate) const DESC_SIZE: f64 = 18.0;

pub(super) fn draw_memory_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ChartData,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let max_mb = data.memory_max_mb();
    // Headroom above the lines for the reclaim triangles and their counts, and above those
    // a band of rows for the modelled .NET GC's hollow triangles, so a modelled marker never
    // hides a real one.
    let (top_mb, modelled_rows_mb) = match data.modelled {
        Some(_) => (max_mb * 1.52, [max_mb * 1.26, max_mb * 1.35, max_mb * 1.44]),
        None => (max_mb * 1.25, [0.0; 3]),
    };
    let triangle_mb = max_mb * 1.1;
    let measured_rows_mb = top_mb;
    let top_mb = top_mb + super::measured::band_mb(data.measured.as_ref(), max_mb);
    // The modelled managed heap has its own axis on the right: it is a model of another
    // runtime, so it must not rescale (and flatten) the real series.
    let modelled_top_mb = data.modelled_heap_max_mb() * 1.52;
    let mut builder = ChartBuilder::on(area);
    builder
        .margin_top(6)
        .margin_left(8)
        .y_label_area_size(LEFT_LABELS_PX)
        .x_label_area_size(8);
    if data.modelled.is_some() {
        builder
            .margin_right(16)
            .right_y_label_area_size(RIGHT_LABELS_PX);
    } else {
        // The load panel's CPU labels take this width: keep the time axes aligned.
        builder.margin_right(16 + RIGHT_LABELS_PX);
    }
    let mut chart = builder
        .build_cartesian_2d(0.0..data.x_max, 0.0..top_mb)?
        .set_secondary_coord(0.0..data.x_max, 0.0..modelled_top_mb);
    let decimals = mb_decimals(top_mb);
    let mb_label = |mb: &f64| format!("{} MB", format_mb_tick(*mb, decimals));
    styled_mesh!(chart)
        .x_labels(10)
        .y_labels(6)
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&mb_label)
        .y_desc("memory")
        .draw()?;

    // The band is named in the legend: a label inside it would collide with the
    // reclaim counts above the lines.
    if let Some(end) = data.warmup_end {
        draw_warmup_band(&mut chart, end, top_mb)?;
    }

    super::gaps::draw_faults(&mut chart, &data.faults, top_mb)?;
    let area = chart.plotting_area();
    let dashed = Look {
        dashed: true,
        ..Look::of(data)
    };
    for run in &data.allocator_mb {
        draw_line(area, run, ALLOCATOR_RESIDENT, dashed)?;
    }
    for run in &data.rss_mb {
        draw_line(area, run, RESIDENT, Look::of(data))?;
    }
    for run in &data.heap_mb {
        draw_line(area, run, ALLOCATED, Look::of(data))?;
    }

    chart.draw_series(
        data.reclaims
            .iter()
            .map(|(x, _)| TriangleMarker::new((*x, triangle_mb), 8, RECLAIM.filled())),
    )?;
    draw_counts(&mut chart, &data.reclaims, triangle_mb, RECLAIM, 11)?;
    if let Some(measured) = &data.measured {
        super::measured::draw_measured(
            &mut chart,
            measured,
            Look::of(data),
            measured_rows_mb,
            max_mb,
        )?;
    }

    if let Some(lens) = &data.modelled {
        let modelled_decimals = mb_decimals(modelled_top_mb);
        let modelled_label = |mb: &f64| format_mb_tick(*mb, modelled_decimals);
        chart
            .configure_secondary_axes()
            .y_labels(6)
            .y_label_formatter(&modelled_label)
            .y_desc("modelled .NET heap (MB)")
            .label_style((FONT_FAMILY, LABEL_SIZE).into_font().color(&MODELLED_HEAP))
            .axis_desc_style((FONT_FAMILY, DESC_SIZE).into_font().color(&MODELLED_HEAP))
            .axis_style(BLACK.mix(0.5))
            .draw()?;
        let modelled_look = Look {
            dashed: true,
            dots: false,
            ..Look::of(data)
        };
        for run in &lens.heap_mb {
            draw_line(
                chart.secondary_plotting_area(),
                run,
                MODELLED_HEAP,
                modelled_look,
            )?;
        }
        for ((markers, color), row_mb) in [
            (&lens.gen0, MODELLED_GEN0),
            (&lens.gen1, MODELLED_GEN1),
            (&lens.gen2, MODELLED_GEN2),
        ]
        .into_iter()
        .zip(modelled_rows_mb)
        {
            chart.draw_series(markers.iter().map(|(x, _)| {
                EmptyElement::at((*x, row_mb))
                    + PathElement::new(hollow_triangle_px(7, (0, 0)), color.stroke_width(2))
            }))?;
        }
    }
    Ok(())
}

pub(super) fn draw_load_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ChartData,
    time_axis: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let top_rps = data.rps_max() * 1.15;
    let top_cpu = (data.cpu_us_per_request_max() * 1.15).max(1.0);
    let mut chart = ChartBuilder::on(area)
        .margin_top(14)
        .margin_right(16)
        .margin_left(8)
        .margin_bottom(6)
        .y_label_area_size(LEFT_LABELS_PX)
        .right_y_label_area_size(RIGHT_LABELS_PX)
        .x_label_area_size(if time_axis { 58 } else { 8 })
        .build_cartesian_2d(0.0..data.x_max, 0.0..top_rps)?
        .set_secondary_coord(0.0..data.x_max, 0.0..top_cpu);
    let rps_label = |rps: &f64| format_rps_tick(*rps);
    // Under it, the resource panel carries the time axis.
    let time_label = |x: &f64| {
        if time_axis {
            format_tick(*x)
        } else {
            String::new()
        }
    };
    styled_mesh!(chart)
        .x_labels(10)
        .y_labels(5)
        .x_label_formatter(&time_label)
        .y_label_formatter(&rps_label)
        .x_desc(if time_axis {
            data.time_unit.axis_label()
        } else {
            ""
        })
        .y_desc("requests/s")
        .draw()?;
    let cpu_label = |cpu: &f64| format_tick(*cpu);
    chart
        .configure_secondary_axes()
        .y_labels(5)
        .y_label_formatter(&cpu_label)
        .y_desc("server CPU µs per request")
        .label_style((FONT_FAMILY, LABEL_SIZE).into_font().color(&CPU))
        .axis_desc_style((FONT_FAMILY, DESC_SIZE).into_font().color(&CPU))
        .axis_style(BLACK.mix(0.5))
        .draw()?;

    if let Some(end) = data.warmup_end {
        draw_warmup_band(&mut chart, end, top_rps)?;
    }
    // CPU per request without dots: two dotted lines in one panel are hard to tell apart.
    // It is drawn rather than CPU %: when RPS drops, this line says whether each request
    // got dearer (it rises) or the server just got less CPU (it stays).
    let cpu_look = Look {
        dots: false,
        ..Look::of(data)
    };
    for run in &data.cpu_us_per_request {
        draw_line(chart.secondary_plotting_area(), run, CPU, cpu_look)?;
    }
    draw_line(chart.plotting_area(), &data.rps, RPS, Look::of(data))?;
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
pub(super) fn draw_counts<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    markers: &[(f64, u64)],
    y: f64,
    color: RGBColor,
    offset_px: i32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let font = (FONT_FAMILY, 16.0)
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

/// How a line is drawn.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Look {
    pub(crate) dashed: bool,
    /// A dot at each sample.
    pub(crate) dots: bool,
    /// Many samples: three 1 px lines instead of one thick polyline.
    pub(crate) dense: bool,
}

impl Look {
    pub(super) fn of(data: &ChartData) -> Look {
        Look {
            dashed: false,
            dots: data.dots,
            dense: data.dense,
        }
    }
}

/// A hollow triangle pointing up, `size` pixels from its centre to each corner, as a
/// closed path around `centre` (plotters' `TriangleMarker` is always filled, and hollow is
/// what says "modelled").
pub(crate) fn hollow_triangle_px(size: i32, centre: (i32, i32)) -> Vec<(i32, i32)> {
    let (x, y) = centre;
    let half_base = size * 87 / 100;
    let top = (x, y - size);
    vec![
        top,
        (x + half_base, y + size / 2),
        (x - half_base, y + size / 2),
        top,
    ]
}

/// Draws one unbroken run of points as a line, with a dot at each sample when there are
/// few (so a reader sees where the samples are).
pub(crate) fn draw_line<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    area: &DrawingArea<DB, CT>,
    points: &[(f64, f64)],
    color: RGBColor,
    look: Look,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if !look.dense {
        let style = color.stroke_width(LINE_WIDTH_PX);
        if look.dashed {
            area.draw(&DashedPathElement::new(
                points.iter().copied(),
                DASH_PX,
                DASH_GAP_PX,
                style,
            ))?;
        } else {
            area.draw(&PathElement::new(points.to_vec(), style))?;
        }
        if look.dots {
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
        if look.dashed {
            pixel_area.draw(&DashedPathElement::new(
                shifted,
                DASH_PX,
                DASH_GAP_PX,
                style,
            ))?;
        } else {
            pixel_area.draw(&PathElement::new(shifted, style))?;
        }
    }
    Ok(())
}

/// A tick value without useless decimals: `0`, `2.5`, `30`.
pub(crate) fn format_tick(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// RPS ticks: `0`, `0.5`, `800`, `5K`, `17.5K`.
pub(crate) fn format_rps_tick(rps: f64) -> String {
    if rps >= 1_000.0 {
        format!("{}K", format_tick((rps / 100.0).round() / 10.0))
    } else {
        format_tick(rps)
    }
}

/// Decimals of the MB ticks on an axis that goes up to `top_mb`.
pub(crate) fn mb_decimals(top_mb: f64) -> usize {
    if top_mb < 1.0 {
        2
    } else if top_mb < 10.0 {
        1
    } else {
        0
    }
}

pub(crate) fn format_mb_tick(mb: f64, decimals: usize) -> String {
    if decimals == 0 && mb >= 1000.0 {
        group_thousands(mb.round() as u64)
    } else {
        format!("{mb:.decimals$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
