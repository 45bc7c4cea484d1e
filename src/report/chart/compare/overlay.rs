//! The overlay figure: one memory panel with every run's Allocated (solid) and Resident
//! (dashed) in the run's own colour, one load panel with every run's RPS, on shared axes.

use super::*;

pub(super) fn overlay<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[ComparedRun],
    charts: &[ChartData],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let title = format!(
        "{} runs overlaid  —  solid: Allocated (live heap), dashed: Resident (RSS)",
        runs.len()
    );
    let entries: Vec<LegendEntry> = runs
        .iter()
        .zip(charts)
        .zip(RUN_COLOURS)
        .map(|((run, data), colour)| LegendEntry {
            swatch: Swatch::Line(colour),
            label: {
                let mut label = if data.has_heap() {
                    run.label.clone()
                } else {
                    format!("{} (RSS only)", run.label)
                };
                // The overlay draws only real lines; the modelled lens is named with its rates.
                if let Some(lens) = &data.modelled {
                    label.push_str(&format!(
                        " ({}: gen0 {:.2}/s, gen2 {:.2}/s)",
                        lens.label, lens.per_s[0], lens.per_s[2]
                    ));
                }
                label
            },
            color: TEXT,
        })
        .collect();
    let panels = draw_header(root, &title, &entries)?;
    let (_, height) = panels.dim_in_pixel();
    if charts.iter().any(|data| data.resources.is_some()) {
        let (memory, rest) = panels.split_vertically((height as f64 * 0.48) as i32);
        let (load, resources) = rest.split_vertically((height as f64 * 0.24) as i32);
        overlay_memory(&memory, charts)?;
        overlay_load(&load, charts, false)?;
        return super::super::resources::overlay_resource_panel(
            &resources,
            charts,
            &RUN_COLOURS,
            OVERLAY_RIGHT_MARGIN_PX,
        );
    }
    let (memory, load) = panels.split_vertically((height as f64 * 0.62) as i32);
    overlay_memory(&memory, charts)?;
    overlay_load(&load, charts, true)
}

fn overlay_memory<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    charts: &[ChartData],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    // Every chart carries the shared scale and time axis; the first one speaks for all.
    let first = &charts[0];
    let top_mb = first.memory_max_mb() * 1.1;
    let decimals = mb_decimals(top_mb);
    let mut chart = ChartBuilder::on(area)
        .margin_top(6)
        .margin_right(OVERLAY_RIGHT_MARGIN_PX)
        .margin_left(8)
        .y_label_area_size(LEFT_LABELS_PX)
        .x_label_area_size(8)
        .build_cartesian_2d(0.0..first.x_max, 0.0..top_mb)?;
    let mb_label = |mb: &f64| format!("{} MB", format_mb_tick(*mb, decimals));
    styled_mesh!(chart)
        .x_labels(10)
        .y_labels(6)
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&mb_label)
        .y_desc("memory")
        .draw()?;
    for (data, colour) in charts.iter().zip(RUN_COLOURS) {
        let look = Look {
            dots: false,
            ..Look::of(data)
        };
        for run in &data.rss_mb {
            draw_line(
                chart.plotting_area(),
                run,
                colour,
                Look {
                    dashed: true,
                    ..look
                },
            )?;
        }
        for run in &data.heap_mb {
            draw_line(chart.plotting_area(), run, colour, look)?;
        }
    }
    Ok(())
}

fn overlay_load<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    charts: &[ChartData],
    time_axis: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let first = &charts[0];
    let top_rps = first.rps_max() * 1.15;
    let mut chart = ChartBuilder::on(area)
        .margin_top(14)
        .margin_right(OVERLAY_RIGHT_MARGIN_PX)
        .margin_left(8)
        .margin_bottom(6)
        .y_label_area_size(LEFT_LABELS_PX)
        .x_label_area_size(if time_axis { 58 } else { 8 })
        .build_cartesian_2d(0.0..first.x_max, 0.0..top_rps)?;
    let rps_label = |rps: &f64| format_rps_tick(*rps);
    // With a resource panel under it, that panel carries the time axis.
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
            first.time_unit.axis_label()
        } else {
            ""
        })
        .y_desc("requests/s")
        .draw()?;
    for (data, colour) in charts.iter().zip(RUN_COLOURS) {
        let look = Look {
            dots: false,
            ..Look::of(data)
        };
        draw_line(chart.plotting_area(), &data.rps, colour, look)?;
    }
    Ok(())
}
