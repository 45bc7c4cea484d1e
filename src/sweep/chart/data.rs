//! What the sweep chart draws, before any drawing: the curves per allocator in chart
//! coordinates (log2 bytes; log10 CPU µs per request, log10 RPS, % fresh pages), their
//! spreads, the cliffs, and the ticks of the axes. Kept apart from the drawing so it can
//! be tested without pixels.

use plotters::style::RGBColor;

use super::axis::SizeAxis;
use super::*;

/// What the chart draws, in chart coordinates: x from the [`SizeAxis`] (log2 of the size
/// in bytes, or its column), CPU and RPS as log10.
pub(super) struct SweepChartData {
    /// Where each size lands on x (log, or evenly spaced around a boundary pair).
    pub(super) axis: SizeAxis,
    pub(super) x_range: (f64, f64),
    pub(super) x_ticks: Vec<f64>,
    /// The cost panel (log10 CPU µs per request), the primary one.
    pub(super) cpu: LogPanel,
    /// The throughput panel (log10 RPS).
    pub(super) rps: LogPanel,
    /// Per allocator: (x, % of the buffer's pages faulted per request).
    pub(super) fresh_pages_percent: Vec<Curve>,
    pub(super) fresh_max: f64,
}

/// A panel with a log y axis: its range and ticks (log10), a curve per allocator and the
/// cliffs marked on it.
pub(super) struct LogPanel {
    pub(super) y_range: (f64, f64),
    pub(super) y_ticks: Vec<f64>,
    pub(super) curves: Vec<Curve>,
    /// Where each cliff lands: colour, x, y of the point after the step, label.
    pub(super) cliffs: Vec<(RGBColor, f64, f64, String)>,
}

/// One allocator's line in a panel.
pub(super) struct Curve {
    pub(super) colour: RGBColor,
    pub(super) allocator: String,
    /// (x, y) in the panel's coordinates, ascending x.
    pub(super) points: Vec<(f64, f64)>,
    /// (x, lowest, highest) over the repetitions, where there was more than one.
    pub(super) spreads: Vec<(f64, f64, f64)>,
}

pub(super) fn log2_size(bytes: u64) -> f64 {
    (bytes.max(1) as f64).log2()
}

/// A value drawable on a log axis.
fn drawable(value: f64) -> bool {
    value.is_finite() && value > 0.0
}

impl SweepChartData {
    pub(super) fn from_result(result: &SweepResult, page_bytes: u64) -> SweepChartData {
        // The planned sizes, so an interrupted sweep shows how far it got.
        let sizes: Vec<u64> = result
            .sizes_bytes
            .iter()
            .copied()
            .chain(result.points.iter().map(|p| p.size_bytes))
            .collect();
        let axis = SizeAxis::for_sizes(&sizes);
        let x_range = axis.range;

        let mut allocators: Vec<&str> = result.allocators.iter().map(String::as_str).collect();
        for point in &result.points {
            if !allocators.contains(&point.allocator.as_str()) {
                allocators.push(&point.allocator);
            }
        }
        let mut cpu = Vec::new();
        let mut rps = Vec::new();
        let mut fresh_pages_percent = Vec::new();
        for allocator in allocators {
            let colour = allocator_colour(allocator);
            let mut points: Vec<&SweepPoint> = result
                .points
                .iter()
                .filter(|p| p.allocator == allocator)
                .collect();
            if points.is_empty() {
                continue;
            }
            points.sort_by_key(|p| p.size_bytes);
            let repeated = |p: &&SweepPoint| p.repetitions.len() > 1;
            cpu.push(log_curve(
                &axis,
                colour,
                allocator,
                &points,
                |p| p.cpu_us_per_request,
                |p| {
                    repeated(&p)
                        .then_some(())
                        .and(p.cpu_us_per_request_min.zip(p.cpu_us_per_request_max))
                },
            ));
            rps.push(log_curve(
                &axis,
                colour,
                allocator,
                &points,
                |p| Some(p.rps),
                |p| repeated(&p).then_some(()).and(p.rps_min.zip(p.rps_max)),
            ));
            fresh_pages_percent.push(Curve {
                colour,
                allocator: allocator.to_string(),
                points: points
                    .iter()
                    .filter_map(|p| {
                        Some((axis.x(p.size_bytes), fresh_page_percent(p, page_bytes)?))
                    })
                    .collect(),
                spreads: Vec::new(),
            });
        }
        // A cliff is marked where it was judged: on the cost panel, or on the RPS panel
        // for points without CPU.
        let point = |allocator: &str, size: u64| {
            result
                .points
                .iter()
                .find(|p| p.allocator == allocator && p.size_bytes == size)
        };
        let mut cpu_cliffs = Vec::new();
        let mut rps_cliffs = Vec::new();
        for cliff in &result.cliffs {
            let colour = allocator_colour(&cliff.allocator);
            let x = axis.x(cliff.to_size_bytes);
            let to_cpu = point(&cliff.allocator, cliff.to_size_bytes)
                .and_then(|p| p.cpu_us_per_request)
                .filter(|v| drawable(*v));
            match to_cpu {
                Some(cpu) if cliff.judged_on == "cpu_us_per_request" => cpu_cliffs.push((
                    colour,
                    x,
                    cpu.log10(),
                    format!("×{}", format_ratio(cliff.cost_ratio)),
                )),
                _ if drawable(cliff.to_rps) => rps_cliffs.push((
                    colour,
                    x,
                    cliff.to_rps.log10(),
                    format!("−{:.0} %", cliff.drop_fraction * 100.0),
                )),
                _ => {}
            }
        }
        let fresh_max = fresh_pages_percent
            .iter()
            .flat_map(|curve| &curve.points)
            .map(|(_, y)| *y)
            .filter(|y| y.is_finite())
            .fold(0.0, f64::max);
        SweepChartData {
            x_range,
            x_ticks: axis.ticks.clone(),
            axis,
            cpu: LogPanel::new(cpu, cpu_cliffs, CPU_PANEL_PX),
            rps: LogPanel::new(rps, rps_cliffs, RPS_PANEL_PX),
            fresh_pages_percent,
            fresh_max,
        }
    }
}

/// One allocator's curve on a log panel: `value` of each point and its `spread`, both as
/// log10; values a log axis cannot show (0, none) are left out and the curve breaks there.
fn log_curve(
    axis: &SizeAxis,
    colour: RGBColor,
    allocator: &str,
    points: &[&SweepPoint],
    value: impl Fn(&SweepPoint) -> Option<f64>,
    spread: impl Fn(&SweepPoint) -> Option<(f64, f64)>,
) -> Curve {
    Curve {
        colour,
        allocator: allocator.to_string(),
        points: points
            .iter()
            .filter_map(|p| {
                let v = value(p).filter(|v| drawable(*v))?;
                Some((axis.x(p.size_bytes), v.log10()))
            })
            .collect(),
        spreads: points
            .iter()
            .filter_map(|p| {
                let (low, high) = spread(p).filter(|(l, h)| drawable(*l) && drawable(*h))?;
                Some((axis.x(p.size_bytes), low.log10(), high.log10()))
            })
            .collect(),
    }
}

impl LogPanel {
    /// The panel's range: room below the lowest value, and above the highest for the
    /// cliff labels (as many label rows as cliffs land on one size, out of the panel's
    /// height in pixels, `panel_px`).
    fn new(
        curves: Vec<Curve>,
        cliffs: Vec<(RGBColor, f64, f64, String)>,
        panel_px: f64,
    ) -> LogPanel {
        let values: Vec<f64> = curves
            .iter()
            .flat_map(|c| {
                c.points
                    .iter()
                    .map(|(_, y)| *y)
                    .chain(c.spreads.iter().flat_map(|(_, l, h)| [*l, *h]))
            })
            .filter(|y| y.is_finite())
            .collect();
        let low = values.iter().copied().fold(f64::INFINITY, f64::min);
        let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (low, high) = if low.is_finite() {
            (low, high)
        } else {
            (0.0, 1.0)
        };
        let bottom = low - 1.6f64.log10();
        let mut stacked = 0;
        for (_, x, _, _) in &cliffs {
            let same = cliffs.iter().filter(|other| other.1 == *x).count();
            stacked = stacked.max(same);
        }
        let label_share = ((stacked as f64 * LABEL_ROW_PX + 12.0) / panel_px).min(0.6);
        let head = high + 1.3f64.log10();
        let top = (head - label_share * bottom) / (1.0 - label_share);
        let y_range = (bottom, top.max(head));
        LogPanel {
            y_ticks: rps_ticks(y_range),
            y_range,
            curves,
            cliffs,
        }
    }
}

/// `2`, `1.41`, `16`.
pub(super) fn format_ratio(ratio: f64) -> String {
    let text = format!("{ratio:.1}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Tick positions (log2 bytes): the powers of two inside the axis, every other one when
/// there are too many; the measured sizes themselves when fewer than two powers fit.
pub(super) fn size_ticks(x_range: (f64, f64), sizes: &[u64]) -> Vec<f64> {
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

/// Log ticks (log10 of RPS or µs) at 1, 2 and 5 times the powers of ten inside the axis; only the
/// powers of ten when that would be too many.
pub(super) fn rps_ticks(y_range: (f64, f64)) -> Vec<f64> {
    let ticks = |multiples: &[f64]| -> Vec<f64> {
        let mut ticks = Vec::new();
        for decade in (y_range.0.floor() as i32)..=(y_range.1.ceil() as i32) {
            for multiple in multiples {
                let tick = (multiple * 10f64.powi(decade)).log10();
                if (y_range.0..=y_range.1).contains(&tick) {
                    ticks.push(tick);
                }
            }
        }
        ticks
    };
    let fine = ticks(&[1.0, 2.0, 5.0]);
    if fine.len() <= 9 { fine } else { ticks(&[1.0]) }
}

/// A tick label: a power of two in binary units (`64 KiB`), another size in bytes with
/// thousands separators (`84,976 B`), since rounding would give neighbours the same name.
pub(super) fn tick_label(log2_bytes: f64) -> String {
    let bytes = log2_bytes.exp2().round() as u64;
    if bytes.is_power_of_two() {
        format_size(bytes)
    } else {
        format!("{} B", group_thousands(bytes))
    }
}
