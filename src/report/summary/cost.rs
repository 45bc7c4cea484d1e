//! Cost per request in `summary.json`: what one response cost the server — CPU time,
//! allocations, bytes allocated, minor faults — as the median over the measured intervals
//! with its interquartile range. RPS on a shared machine swings with how much CPU the
//! server was given; the CPU time per response does not, so it is the figure to compare,
//! and its spread says how far a difference has to go before it is more than noise.

use serde::{Deserialize, Serialize};

use crate::format::{format_bytes, format_significant};
use crate::series::{Phase, Sample};
use crate::stats::quartiles;

/// A value over the measured intervals: median and interquartile range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub median: f64,
    /// First quartile (a quarter of the intervals were below).
    pub q1: f64,
    /// Third quartile (a quarter of the intervals were above).
    pub q3: f64,
    /// Intervals the spread is over.
    pub intervals: usize,
}

impl Spread {
    /// The spread of the values; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let (q1, median, q3) = quartiles(values)?;
        Some(Spread {
            median,
            q1,
            q3,
            intervals: values.iter().filter(|v| v.is_finite()).count(),
        })
    }

    /// Whether the two interquartile ranges overlap: a difference of medians whose ranges
    /// overlap is within the noise of the runs, not an effect.
    pub fn overlaps(&self, other: &Spread) -> bool {
        self.q1 <= other.q3 && other.q1 <= self.q3
    }

    /// `14.2 µs/request, IQR 13.8–14.9`: the median with its unit, then the quartiles,
    /// all formatted by `format`.
    pub fn describe(&self, unit: &str, format: impl Fn(f64) -> String) -> String {
        format!(
            "{} {unit}, IQR {}–{}",
            format(self.median),
            format(self.q1),
            format(self.q3)
        )
    }
}

/// Costs per response over the measured intervals (phase `load`, intervals with
/// responses). Each is absent when no interval had it: the allocation figures for a
/// server that is not membench, all of them for a run without responses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CostSummary {
    /// Server CPU time (user + system) per response, microseconds.
    pub cpu_us_per_request: Option<Spread>,
    /// Allocations per response.
    pub allocs_per_request: Option<Spread>,
    /// Bytes allocated per response.
    pub alloc_bytes_per_request: Option<Spread>,
    /// Minor page faults per response.
    pub minor_faults_per_request: Option<Spread>,
}

impl CostSummary {
    /// The spreads of the measured intervals' costs.
    pub fn of(samples: &[Sample]) -> CostSummary {
        let spread = |value: fn(&Sample) -> Option<f64>| {
            let values: Vec<f64> = samples
                .iter()
                .filter(|s| s.phase == Some(Phase::Load))
                .filter_map(value)
                .collect();
            Spread::of(&values)
        };
        CostSummary {
            cpu_us_per_request: spread(|s| s.cpu_us_per_request),
            allocs_per_request: spread(|s| s.allocs_per_request),
            alloc_bytes_per_request: spread(|s| s.alloc_bytes_per_request),
            minor_faults_per_request: spread(|s| s.minor_faults_per_request),
        }
    }

    /// The text summary's lines, label first: `cost` — `CPU 14.2 µs/request, IQR
    /// 13.8–14.9 · 0.120 minor faults/request, IQR 0.100–0.150`; `alloc/req` — `3.00
    /// allocations, IQR 3.00–3.00 · 83.0 KiB, IQR 83.0 KiB–83.0 KiB`. Empty when nothing
    /// was measured.
    pub fn lines(&self) -> Vec<(&'static str, String)> {
        let mut cost = Vec::new();
        if let Some(cpu) = self.cpu_us_per_request {
            cost.push(format!(
                "CPU {}",
                cpu.describe("µs/request", format_significant)
            ));
        }
        if let Some(faults) = self.minor_faults_per_request {
            cost.push(faults.describe("minor faults/request", format_significant));
        }
        let mut lines = Vec::new();
        if !cost.is_empty() {
            lines.push(("cost", cost.join(" · ")));
        }
        if let Some(allocs) = self.allocs_per_request {
            let mut line = allocs.describe("allocations", format_significant);
            if let Some(bytes) = self.alloc_bytes_per_request {
                let format = |b: f64| format_bytes(b.round().max(0.0) as u64);
                line.push_str(&format!(
                    " · {}, IQR {}–{}",
                    format(bytes.median),
                    format(bytes.q1),
                    format(bytes.q3)
                ));
            }
            lines.push(("alloc/req", line));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(cpu_us: Option<f64>, allocs: Option<f64>) -> Sample {
        Sample {
            phase: Some(Phase::Load),
            cpu_us_per_request: cpu_us,
            allocs_per_request: allocs,
            ..Sample::default()
        }
    }

    #[test]
    fn costs_are_medians_with_their_iqr_over_load_intervals() {
        let mut samples: Vec<Sample> = [10.0, 12.0, 14.0, 16.0, 18.0]
            .into_iter()
            .map(|cpu| load(Some(cpu), None))
            .collect();
        // Warm-up and intervals without responses do not count.
        samples.push(Sample {
            phase: Some(Phase::Warmup),
            cpu_us_per_request: Some(500.0),
            ..Sample::default()
        });
        samples.push(load(None, None));
        let cost = CostSummary::of(&samples);
        let cpu = cost.cpu_us_per_request.unwrap();
        assert_eq!(
            (cpu.q1, cpu.median, cpu.q3, cpu.intervals),
            (12.0, 14.0, 16.0, 5)
        );
        // A foreign server: no allocation figures, absent rather than zero.
        assert_eq!(cost.allocs_per_request, None);
        assert_eq!(
            cost.lines(),
            vec![("cost", "CPU 14.0 µs/request, IQR 12.0–16.0".to_string())]
        );
        assert!(CostSummary::of(&[load(None, None)]).lines().is_empty());
    }

    #[test]
    fn spreads_overlap_or_not() {
        let a = Spread::of(&[10.0, 11.0, 12.0]).unwrap();
        let b = Spread::of(&[11.0, 12.0, 13.0]).unwrap();
        let c = Spread::of(&[20.0, 21.0, 22.0]).unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c) && !c.overlaps(&a));
    }
}
