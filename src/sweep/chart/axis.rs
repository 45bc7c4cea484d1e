//! The sweep chart's size axis: where a size lands on x, the axis's range, its ticks and
//! their labels.
//!
//! Two layouts, chosen from the sizes themselves:
//! * **log** (x = log2 bytes, ticks at powers of two): the sizes of a range (`64K..64M`) are
//!   evenly spaced on it anyway, and a cost proportional to size is a straight line.
//! * **evenly spaced sizes** (x = the size's rank, a tick labelled with each exact size):
//!   when two neighbouring sizes are much closer on the log axis than the sizes on
//!   average — a boundary pair such as 7,968 and 7,969 B (0.0002 doublings apart where the
//!   others are 1 to 2) — they would sit on the same x and the step between them would be a
//!   vertical line. Spread out, each boundary size gets its own column and its own label.
//!   Only the order of the sizes is to scale then, which the axis title says.
//!
//! Sizes between two swept sizes (the .NET LOH line at 85,000 B) are placed between their
//! columns in proportion to log size.

use super::data::{log2_size, size_ticks, tick_label};

/// Padding on both sides of an evenly spaced axis, in columns.
const CATEGORY_PAD: f64 = 0.5;
/// Neighbours closer than this share of the average log step switch the axis to evenly
/// spaced sizes.
const CROWDED_SHARE: f64 = 0.25;

/// The size axis of one chart (see the module doc).
pub(crate) struct SizeAxis {
    /// The swept sizes ascending, when evenly spaced; `None` for the log axis.
    columns: Option<Vec<u64>>,
    pub(super) range: (f64, f64),
    pub(super) ticks: Vec<f64>,
}

impl SizeAxis {
    /// The axis for `sizes` (any order, repeats allowed).
    pub(crate) fn for_sizes(sizes: &[u64]) -> SizeAxis {
        let mut sorted: Vec<u64> = sizes.iter().copied().map(|s| s.max(1)).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let min = sorted.first().copied().unwrap_or(1);
        let max = sorted.last().copied().unwrap_or(1);
        if crowded(&sorted) {
            let last = (sorted.len() - 1) as f64;
            return SizeAxis {
                range: (-CATEGORY_PAD, last + CATEGORY_PAD),
                ticks: (0..sorted.len()).map(|i| i as f64).collect(),
                columns: Some(sorted),
            };
        }
        let pad = if min == max {
            1.0
        } else {
            super::SIZE_AXIS_PAD
        };
        let range = (log2_size(min) - pad, log2_size(max) + pad);
        SizeAxis {
            ticks: size_ticks(range, &sorted),
            range,
            columns: None,
        }
    }

    /// True when the sizes are evenly spaced rather than on a log scale.
    pub(crate) fn evenly_spaced(&self) -> bool {
        self.columns.is_some()
    }

    /// Where `bytes` lands: log2 bytes, or its column (between two columns in proportion
    /// to log size; beyond the ends by the log step of the nearest pair).
    pub(crate) fn x(&self, bytes: u64) -> f64 {
        let Some(columns) = &self.columns else {
            return log2_size(bytes);
        };
        if let Some(at) = columns.iter().position(|&c| c == bytes) {
            return at as f64;
        }
        if columns.len() < 2 {
            return 0.0;
        }
        let at = columns
            .windows(2)
            .position(|pair| bytes < pair[1])
            .unwrap_or(columns.len() - 2);
        let (low, high) = (log2_size(columns[at]), log2_size(columns[at + 1]));
        at as f64 + (log2_size(bytes) - low) / (high - low)
    }

    /// Where `bytes` lands when it is inside the axis, else `None`.
    pub(crate) fn x_inside(&self, bytes: u64) -> Option<f64> {
        let x = self.x(bytes);
        (self.range.0..=self.range.1).contains(&x).then_some(x)
    }

    /// A tick's label: the exact size of a column (`7,969 B`, `512 KiB`), or on the log
    /// axis a power of two (`64 KiB`) or a size in bytes.
    pub(crate) fn label(&self, x: f64) -> String {
        match &self.columns {
            Some(columns) => {
                let at = x.round().clamp(0.0, (columns.len() - 1) as f64) as usize;
                tick_label(log2_size(columns[at]))
            }
            None => tick_label(x),
        }
    }

    /// The axis title.
    pub(crate) fn title(&self) -> &'static str {
        if self.evenly_spaced() {
            "size (the sizes swept, evenly spaced: not to scale)"
        } else {
            "size (log scale)"
        }
    }
}

/// Two neighbouring sizes much closer on a log axis than the sizes on average.
fn crowded(sorted: &[u64]) -> bool {
    if sorted.len() < 3 {
        // Two sizes are drawn at the two ends of the axis, however close.
        return false;
    }
    let logs: Vec<f64> = sorted.iter().map(|s| log2_size(*s)).collect();
    let average = (logs[logs.len() - 1] - logs[0]) / (logs.len() - 1) as f64;
    logs.windows(2)
        .any(|pair| pair[1] - pair[0] < CROWDED_SHARE * average)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_boundary_pair_spreads_the_sizes_evenly_with_exact_labels() {
        let axis = SizeAxis::for_sizes(&[16_000, 7_969, 4_000, 7_968]);
        assert!(axis.evenly_spaced());
        let xs: Vec<f64> = [4_000, 7_968, 7_969, 16_000]
            .iter()
            .map(|s| axis.x(*s))
            .collect();
        assert_eq!(xs, [0.0, 1.0, 2.0, 3.0]);
        assert_eq!(axis.ticks, xs);
        let labels: Vec<String> = axis.ticks.iter().map(|x| axis.label(*x)).collect();
        assert_eq!(labels, ["4,000 B", "7,968 B", "7,969 B", "16,000 B"]);
        // 85,000 B is beyond the largest size: not drawn.
        assert_eq!(axis.x_inside(85_000), None);

        let jvm = SizeAxis::for_sizes(&[262_144, 524_272, 524_288, 1_048_576]);
        assert!(jvm.evenly_spaced());
        assert_eq!(jvm.label(2.0), "512 KiB");
        assert_eq!(jvm.label(1.0), "524,272 B");
        // Between two columns in proportion to log size.
        let mid = jvm.x(741_455);
        assert!(mid > 2.0 && mid < 3.0, "{mid}");
    }

    #[test]
    fn a_range_in_log_steps_keeps_the_log_axis() {
        let sizes: Vec<u64> = (16..=26).map(|p| 1u64 << p).collect();
        let axis = SizeAxis::for_sizes(&sizes);
        assert!(!axis.evenly_spaced());
        assert_eq!(axis.x(1 << 20), 20.0);
        assert_eq!(axis.label(20.0), "1 MiB");
        assert!(axis.x_inside(85_000).is_some());
        // Two sizes, however close, are the two ends of the axis.
        assert!(!SizeAxis::for_sizes(&[84_975, 84_976]).evenly_spaced());
    }
}
