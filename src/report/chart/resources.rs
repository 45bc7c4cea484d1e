//! The resource panel: the process resources a scenario's lesson is about (TIME_WAIT and
//! ESTABLISHED sockets, open fds, threads), one line each on a count axis, under the load
//! panel and sharing its time axis, with the OS limit they run into as a dashed line
//! (the ephemeral port range, the inotify instance limit) read when the run started.
//!
//! Drawn only when the run's [`ChartResources`] name some resource: other charts keep
//! their two panels, pixel for pixel. Like every line of the chart, a resource line joins
//! real samples only and breaks where the server process was not sampled.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::{ChartData, TimeUnit};
use super::legend::{LegendEntry, Swatch};
use super::panels::{
    DESC_SIZE, LABEL_SIZE, LEFT_LABELS_PX, Look, RIGHT_LABELS_PX, draw_line, format_rps_tick,
    format_tick,
};
use super::{DASH_GAP_PX, DASH_PX, DrawResult, FONT_FAMILY, MUTED, TEXT};
use crate::format::{format_count, group_thousands};
use crate::report::summary::time_weighted_mean;
use crate::resources::{ChartResources, Resource, ResourceLimit};
use crate::series::{Sample, Series};

/// Colours of the resources, in [`Resource::ALL`] order.
const COLOURS: [RGBColor; 5] = [
    RGBColor(150, 40, 20),  // TIME_WAIT: brick
    RGBColor(0, 140, 150),  // ESTABLISHED: teal
    RGBColor(130, 130, 0),  // CLOSE_WAIT: olive
    RGBColor(120, 60, 170), // open fds: purple
    RGBColor(90, 90, 90),   // threads: grey
];
const LIMIT: RGBColor = RGBColor(60, 60, 60);

/// The colour of a resource's line.
pub(super) fn colour(resource: Resource) -> RGBColor {
    let index = Resource::ALL
        .iter()
        .position(|r| *r == resource)
        .unwrap_or(0);
    COLOURS[index]
}

/// One resource as drawn: its unbroken runs and the legend's numbers.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ResourceLine {
    pub(super) resource: Resource,
    pub(super) points: Vec<Vec<(f64, f64)>>,
    /// Time-weighted mean over the measured part.
    pub(super) mean: Option<f64>,
    /// The last sampled value.
    pub(super) end: Option<u64>,
}

/// The panel's content.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ResourcePanel {
    pub(super) lines: Vec<ResourceLine>,
    pub(super) limits: Vec<ResourceLimit>,
}

impl ResourcePanel {
    /// The panel of a series; `None` when it names no resource.
    pub(super) fn from_series(series: &Series, time_unit: TimeUnit) -> Option<ResourcePanel> {
        let ChartResources {
            series: names,
            limits,
        } = &series.resources;
        if names.is_empty() {
            return None;
        }
        let measured: Vec<&Sample> = series.measured().collect();
        let lines = names
            .iter()
            .map(|resource| {
                let value = |s: &Sample| s.resource(*resource);
                let mut points = Vec::new();
                let mut current = Vec::new();
                for sample in &series.samples {
                    let x = time_unit.of_seconds(sample.elapsed_s);
                    match value(sample).filter(|_| x.is_finite()) {
                        Some(v) => current.push((x, v as f64)),
                        None if !current.is_empty() => points.push(std::mem::take(&mut current)),
                        None => {}
                    }
                }
                if !current.is_empty() {
                    points.push(current);
                }
                ResourceLine {
                    resource: *resource,
                    points,
                    mean: time_weighted_mean(&measured, |s| value(s).map(|v| v as f64)),
                    end: series.samples.iter().rev().find_map(value),
                }
            })
            // A resource the platform or source never reported has no line (not a zero line).
            .filter(|line: &ResourceLine| !line.points.is_empty())
            .collect::<Vec<_>>();
        if lines.is_empty() {
            return None;
        }
        Some(ResourcePanel {
            lines,
            limits: limits.clone(),
        })
    }

    /// The highest value drawn, limits included (at least 1).
    pub(super) fn max(&self) -> f64 {
        let lines = self.lines.iter().flat_map(|l| l.points.iter().flatten());
        lines
            .map(|(_, y)| *y)
            .chain(self.limits.iter().map(|l| l.value as f64))
            .fold(1.0, f64::max)
    }
}

/// Legend entries of the panel: each resource with its mean and end value, each limit.
/// `numbers` false (a comparison's shared legend): names only, the numbers differ by run.
pub(super) fn legend_entries(data: &ChartData, numbers: bool) -> Vec<LegendEntry> {
    let Some(panel) = &data.resources else {
        return Vec::new();
    };
    let mut entries: Vec<LegendEntry> = panel
        .lines
        .iter()
        .map(|line| {
            let mut label = line.resource.label().to_string();
            if numbers {
                let mean = line.mean.map_or("–".into(), format_count);
                let end = line.end.map_or("–".into(), group_thousands);
                label = format!("{label} (mean {mean}, end {end})");
            }
            LegendEntry {
                swatch: Swatch::Line(colour(line.resource)),
                label,
                color: TEXT,
            }
        })
        .collect();
    entries.extend(panel.limits.iter().map(|limit| LegendEntry {
        swatch: Swatch::Dashed(LIMIT),
        label: format!("limit: {} = {}", limit.label, group_thousands(limit.value)),
        color: TEXT,
    }));
    entries
}

/// Draws the panel with the time axis at its foot.
pub(super) fn draw_resource_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ChartData,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let Some(panel) = &data.resources else {
        return Ok(());
    };
    let top = data.resources_max() * 1.15;
    let chart = resource_axes(
        area,
        (data.x_max, top),
        16 + RIGHT_LABELS_PX,
        data.time_unit,
        axis_desc(&panel.lines),
    )?;
    if let Some(end) = data.warmup_end {
        chart.plotting_area().draw(&Rectangle::new(
            [(0.0, 0.0), (end, top)],
            super::WARMUP.mix(0.18).filled(),
        ))?;
    }
    let area = chart.plotting_area();
    for limit in &panel.limits {
        let y = limit.value as f64;
        draw_limit_line(area, y, data.x_max)?;
        let font = (FONT_FAMILY, 15.0)
            .into_font()
            .color(&MUTED)
            .pos(Pos::new(HPos::Right, VPos::Bottom));
        area.draw(&Text::new(
            format!("{} limit", group_thousands(limit.value)),
            (data.x_max * 0.995, y),
            font,
        ))?;
    }
    let look = Look {
        dots: data.dots && panel.lines.len() == 1,
        ..Look::of(data)
    };
    for line in &panel.lines {
        for run in &line.points {
            draw_line(area, run, colour(line.resource), look)?;
        }
    }
    Ok(())
}

/// The overlay's resource panel: every run's resources in the run's colour on one axis,
/// the first resource solid and the others dashed (the legend row says which is which).
pub(super) fn overlay_resource_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    charts: &[ChartData],
    colours: &[RGBColor],
    right_margin_px: u32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let first = &charts[0];
    let top = first.resources_max() * 1.15;
    let desc = charts
        .iter()
        .find_map(|data| data.resources.as_ref())
        .map_or_else(String::new, |panel| axis_desc(&panel.lines));
    let chart = resource_axes(
        area,
        (first.x_max, top),
        right_margin_px,
        first.time_unit,
        desc,
    )?;
    let area = chart.plotting_area();
    // Which line is which resource, as a caption in the panel's top-left corner.
    area.draw(&Text::new(
        overlay_desc(charts),
        (first.x_max * 0.01, top * 0.98),
        (FONT_FAMILY, 15.0)
            .into_font()
            .color(&MUTED)
            .pos(Pos::new(HPos::Left, VPos::Top)),
    ))?;
    if let Some(limit) = charts
        .iter()
        .filter_map(|data| data.resources.as_ref())
        .flat_map(|panel| &panel.limits)
        .next()
    {
        draw_limit_line(area, limit.value as f64, first.x_max)?;
    }
    for (data, colour) in charts.iter().zip(colours) {
        let Some(panel) = &data.resources else {
            continue;
        };
        for (index, line) in panel.lines.iter().enumerate() {
            let look = Look {
                dots: false,
                dashed: index > 0,
                ..Look::of(data)
            };
            for run in &line.points {
                draw_line(area, run, *colour, look)?;
            }
        }
    }
    Ok(())
}

/// The panel's coordinates (time × count, from 0 to `x_max` × `top`) with its grid, time
/// axis and count axis named `y_desc`: the same for one run and for the overlay.
fn resource_axes<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    (x_max, top): (f64, f64),
    right_margin_px: u32,
    time_unit: TimeUnit,
    y_desc: String,
) -> anyhow::Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(area)
        .margin_top(14)
        .margin_right(right_margin_px)
        .margin_left(8)
        .margin_bottom(6)
        .y_label_area_size(LEFT_LABELS_PX)
        .x_label_area_size(58)
        .build_cartesian_2d(0.0..x_max, 0.0..top)?;
    let count_label = |count: &f64| format_rps_tick(*count);
    let time_label = |x: &f64| format_tick(*x);
    styled_mesh!(chart)
        .x_labels(10)
        .y_labels(5)
        .x_label_formatter(&time_label)
        .y_label_formatter(&count_label)
        .x_desc(time_unit.axis_label())
        .y_desc(y_desc)
        .draw()?;
    Ok(chart)
}

/// An OS limit as a dashed line across the panel at `y`.
fn draw_limit_line<DB: DrawingBackend>(
    area: &DrawingArea<DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    y: f64,
    x_max: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    area.draw(&DashedPathElement::new(
        [(0.0, y), (x_max, y)],
        DASH_PX,
        DASH_GAP_PX,
        LIMIT.stroke_width(2),
    ))?;
    Ok(())
}

/// The count axis named by what is on it: `sockets`, `fds · threads`.
fn axis_desc(lines: &[ResourceLine]) -> String {
    let mut units: Vec<&str> = lines
        .iter()
        .map(|line| match line.resource {
            Resource::TcpTimeWait | Resource::TcpEstablished | Resource::TcpCloseWait => "sockets",
            Resource::OpenFds => "fds",
            Resource::Threads => "threads",
        })
        .collect();
    units.dedup();
    units.join(" · ")
}

/// `solid: TIME_WAIT sockets, dashed: ESTABLISHED sockets`.
fn overlay_desc(charts: &[ChartData]) -> String {
    let Some(panel) = charts.iter().find_map(|data| data.resources.as_ref()) else {
        return String::new();
    };
    let names: Vec<&str> = panel.lines.iter().map(|l| l.resource.label()).collect();
    match names.split_first() {
        Some((first, [])) => first.to_string(),
        Some((first, rest)) => format!("solid: {first}, dashed: {}", rest.join(", ")),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::leak_series;
    use super::*;
    use crate::resources::OsLimit;

    /// The leak series with TIME_WAIT climbing to a plateau and a port-range limit.
    fn with_sockets() -> Series {
        let mut series = leak_series();
        for (index, sample) in series.samples.iter_mut().enumerate() {
            sample.tcp_time_wait = Some((index as u64 * 1_000).min(14_000));
            sample.tcp_established = Some(32);
        }
        series.resources = ChartResources {
            series: vec![Resource::TcpTimeWait, Resource::TcpEstablished],
            limits: vec![ResourceLimit {
                limit: OsLimit::EphemeralPorts,
                value: 28_232,
                label: "ephemeral ports 32768–60999 (ip_local_port_range)".into(),
            }],
        };
        series
    }

    #[test]
    fn the_panel_draws_the_named_resources_with_their_end_and_limit() {
        let data = ChartData::from_series(&with_sockets()).unwrap();
        let panel = data.resources.as_ref().unwrap();
        assert_eq!(panel.lines.len(), 2);
        assert_eq!(panel.lines[0].end, Some(14_000));
        assert_eq!(panel.max(), 28_232.0);
        let labels: Vec<String> = legend_entries(&data, true)
            .into_iter()
            .map(|e| e.label)
            .collect();
        assert!(
            labels[0].starts_with("TIME_WAIT sockets (mean"),
            "{labels:?}"
        );
        assert!(labels[0].ends_with("end 14,000)"), "{labels:?}");
        assert!(labels[2].contains("28,232"), "{labels:?}");
        assert!(
            ChartData::from_series(&leak_series())
                .unwrap()
                .resources
                .is_none()
        );
    }

    #[test]
    fn the_chart_grows_a_third_panel_only_when_resources_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let (png, svg) = (dir.path().join("c.png"), dir.path().join("c.svg"));
        super::super::render_chart(&with_sockets(), &png, Some(&svg)).unwrap();
        let image = image::open(&png).unwrap().to_rgb8();
        assert_eq!(
            image.dimensions(),
            super::super::CHART_WITH_RESOURCES_SIZE_PX
        );
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(
            text.contains("TIME_WAIT sockets"),
            "no resource legend in the SVG"
        );
        assert!(text.contains("28,232 limit"), "no limit label in the SVG");
        super::super::render_chart(&leak_series(), &png, Some(&svg)).unwrap();
        let image = image::open(&png).unwrap().to_rgb8();
        assert_eq!(image.dimensions(), super::super::CHART_SIZE_PX);
        assert!(!std::fs::read_to_string(&svg).unwrap().contains("TIME_WAIT"));
    }
}
