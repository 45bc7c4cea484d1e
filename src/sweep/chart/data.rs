//! What the sweep chart draws, before any drawing: the curves per allocator in chart
//! coordinates (log2 bytes, log10 RPS, % fresh pages), the cliffs, and the ticks of both
//! axes. Kept apart from the drawing so it can be tested without pixels.

use plotters::style::RGBColor;

use super::*;

/// What the chart draws, in chart coordinates: x = log2 of the size in bytes, RPS as
/// log10 of requests per second.
pub(super) struct SweepChartData {
    pub(super) x_range: (f64, f64),
    pub(super) x_ticks: Vec<f64>,
    /// log10 of the lowest and highest RPS on the axis.
    pub(super) y_range: (f64, f64),
    pub(super) y_ticks: Vec<f64>,
    /// Per allocator: its colour, name and (x, log10 RPS) points.
    pub(super) rps: Vec<Curve>,
    /// Per allocator: (x, % of the buffer's pages faulted per request).
    pub(super) fresh_pages_percent: Vec<Curve>,
    /// Where each cliff lands: colour, x, log10 RPS of the lower point, label.
    pub(super) cliffs: Vec<(RGBColor, f64, f64, String)>,
    pub(super) fresh_max: f64,
}

/// One allocator's line in a panel.
pub(super) struct Curve {
    pub(super) colour: RGBColor,
    pub(super) allocator: String,
    /// (x, y) in the panel's coordinates, ascending x.
    pub(super) points: Vec<(f64, f64)>,
}

pub(super) fn log2_size(bytes: u64) -> f64 {
    (bytes.max(1) as f64).log2()
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
        // A log axis has no place for 0 RPS: such a point (nothing answered) is left out
        // of the curve, which then breaks there.
        let drawable = |rps: f64| rps.is_finite() && rps > 0.0;
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
            rps.push(Curve {
                colour,
                allocator: allocator.to_string(),
                points: points
                    .iter()
                    .filter(|p| drawable(p.rps))
                    .map(|p| (log2_size(p.size_bytes), p.rps.log10()))
                    .collect(),
            });
            fresh_pages_percent.push(Curve {
                colour,
                allocator: allocator.to_string(),
                points: points
                    .iter()
                    .filter_map(|p| {
                        Some((log2_size(p.size_bytes), fresh_page_percent(p, page_bytes)?))
                    })
                    .collect(),
            });
        }
        let cliffs = result
            .cliffs
            .iter()
            .filter(|cliff| drawable(cliff.to_rps))
            .map(|cliff| {
                (
                    allocator_colour(&cliff.allocator),
                    log2_size(cliff.to_size_bytes),
                    cliff.to_rps.log10(),
                    format!("−{:.0} %", cliff.drop_fraction * 100.0),
                )
            })
            .collect();
        let measured: Vec<f64> = result
            .points
            .iter()
            .map(|p| p.rps)
            .filter(|rps| drawable(*rps))
            .collect();
        let low = measured.iter().copied().fold(f64::INFINITY, f64::min);
        let high = measured.iter().copied().fold(0.0, f64::max);
        let (low, high) = if high > 0.0 { (low, high) } else { (1.0, 10.0) };
        // Room below the lowest point, and above the highest for the cliff labels: as
        // many label rows as cliffs land on one size, out of the panel's height.
        let bottom = (low / 1.6).log10();
        let mut stacked = 0;
        for cliff in &result.cliffs {
            let same = result
                .cliffs
                .iter()
                .filter(|other| other.to_size_bytes == cliff.to_size_bytes)
                .count();
            stacked = stacked.max(same);
        }
        let label_share = ((stacked as f64 * LABEL_ROW_PX + 12.0) / RPS_PANEL_PX).min(0.6);
        let top = ((high * 1.3).log10() - label_share * bottom) / (1.0 - label_share);
        let y_range = (bottom, top.max((high * 1.3).log10()));
        let fresh_max = fresh_pages_percent
            .iter()
            .flat_map(|curve| &curve.points)
            .map(|(_, y)| *y)
            .filter(|y| y.is_finite())
            .fold(0.0, f64::max);
        SweepChartData {
            x_range,
            x_ticks: size_ticks(x_range, &sizes),
            y_range,
            y_ticks: rps_ticks(y_range),
            rps,
            fresh_pages_percent,
            cliffs,
            fresh_max,
        }
    }
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

/// RPS ticks (log10) at 1, 2 and 5 times the powers of ten inside the axis; only the
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
