//! The numbers and comparative words the paragraphs are made of, computed from saved
//! runs. Every claim a paragraph makes ("flat", "grew", "more", "3.1 times") comes from a
//! function here, so it flips when the numbers do and reads the same in every paragraph.
//!
//! Shapes use the project's one definition of a trend ([`crate::verdict`]: Mann–Kendall
//! and Theil–Sen against the metric's threshold): the scenario's own check where the run
//! has one for that metric, so a paragraph never contradicts the verdict line above it.

use crate::format::{
    format_error_kinds, format_latency_us, format_mb, format_significant, format_slope,
    group_thousands,
};
use crate::report::Spread;
use crate::report::compare::SavedRun;
use crate::series::Sample;
use crate::verdict::{Check, Expectation, Metric, Outcome, Shape, check};

/// Two values closer than this fraction of the larger are "about the same": the spread
/// of repeated short runs on a shared two-core machine (a judgment, stated on the page).
pub const SAME_FRACTION: f64 = 0.10;

/// The shape of one metric in one run, with its slope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    pub metric: Metric,
    /// `None` when the run had too few samples to tell.
    pub shape: Option<Shape>,
    /// Theil–Sen slope over the measured samples, in [`Metric::slope_unit`].
    pub slope_per_min: Option<f64>,
    /// True when the check could not tell (the slope is not significant, the halves
    /// disagree): the shape is then only the best reading, and says so.
    pub inconclusive: bool,
}

impl Trend {
    /// True when the metric was classified as growing.
    pub fn grew(&self) -> bool {
        self.shape == Some(Shape::Grows)
    }

    /// `grew (+36.2 MB/min)`, `stayed flat (+0.41 MB/min)`, `shrank (…)`, or `had too
    /// few samples to tell`.
    pub fn describe(&self) -> String {
        let word = match self.shape {
            Some(Shape::Grows) => "grew",
            Some(Shape::Flat) => "stayed flat",
            Some(Shape::Shrinks) => "shrank",
            // Never observed (an expected shape only).
            Some(Shape::Any) | None => return "had too few samples to tell".to_string(),
        };
        let hedge = if self.inconclusive {
            ", inconclusive: the run was too short or too noisy to be sure"
        } else {
            ""
        };
        match self.slope_per_min {
            Some(slope) => format!(
                "{word} ({}{hedge})",
                format_rate_per_min(self.metric, slope)
            ),
            None => word.to_string(),
        }
    }
}

/// The shape of `metric` in `run`: the run's own verdict check for it when there is one,
/// else the same test with the metric's default threshold.
pub fn trend(run: &SavedRun, metric: Metric) -> Trend {
    let from_check = |check: &Check| Trend {
        metric,
        shape: check.observed,
        slope_per_min: check.slope_per_min,
        inconclusive: check.outcome() == Outcome::Inconclusive,
    };
    if let Some(existing) = run.summary.verdict.iter().find(|c| c.metric == metric) {
        return from_check(existing);
    }
    let expectation = Expectation {
        metric,
        shape: Shape::Flat,
        threshold_per_min: None,
        at_least: None,
    };
    from_check(&check(&run.series, &expectation))
}

/// `+36.2 MB/min`, `+120 fds/min`: a slope in its metric's unit.
pub fn format_rate_per_min(metric: Metric, slope: f64) -> String {
    match metric {
        // Above 1,000 MB/min the digits are grouped, as in the comparison table.
        Metric::HeapLive | Metric::Rss | Metric::AllocatorResident if slope.abs() < 1_000.0 => {
            format_slope(slope)
        }
        Metric::HeapLive | Metric::Rss | Metric::AllocatorResident => format!(
            "{}{} MB/min",
            if slope < 0.0 { "-" } else { "+" },
            group_thousands(slope.abs().round() as u64)
        ),
        _ => {
            let rounded = slope.round();
            let sign = if rounded > 0.0 {
                "+"
            } else if rounded < 0.0 {
                "-"
            } else {
                ""
            };
            format!(
                "{sign}{} {}",
                group_thousands(rounded.abs() as u64),
                metric.slope_unit()
            )
        }
    }
}

/// The value of `metric` in the first and last samples the server was measured in
/// (before load and after it stopped); `None` without such samples.
pub fn first_and_last(run: &SavedRun, metric: Metric) -> Option<(f64, f64)> {
    // A sample after the process ended has no process readings.
    let measured = |s: &&Sample| s.process_sampled();
    let first = run.series.samples.iter().find(measured)?;
    let last = run.series.samples.iter().rev().find(measured)?;
    Some((metric.value(first)?, metric.value(last)?))
}

/// Requests per second as the page writes them everywhere: `18,234`.
pub fn format_rps(rps: f64) -> String {
    group_thousands(rps.max(0.0).round() as u64)
}

/// The run's measured mean RPS, formatted with [`format_rps`].
pub fn rps(run: &SavedRun) -> String {
    format_rps(run.summary.load.rps_mean)
}

/// `14.2 µs of server CPU per request (IQR 13.8–14.9)`: the median over the run's
/// intervals with its spread; `None` when the run measured none.
pub fn cpu_per_request(run: &SavedRun) -> Option<String> {
    let cpu = run.summary.cost.cpu_us_per_request?;
    Some(format!(
        "{} µs of server CPU per request (IQR {}–{})",
        format_significant(cpu.median),
        format_significant(cpu.q1),
        format_significant(cpu.q3)
    ))
}

/// How the CPU time per request of `a` relates to `b`'s: the same when their
/// interquartile ranges overlap (a difference within the spread is not an effect), else
/// more or less. `None` when either run measured none.
pub fn cpu_per_request_relation(a: &SavedRun, b: &SavedRun) -> Option<Relation> {
    let (a, b): (Spread, Spread) = (
        a.summary.cost.cpu_us_per_request?,
        b.summary.cost.cpu_us_per_request?,
    );
    Some(if a.overlaps(&b) {
        Relation::Same
    } else if a.median > b.median {
        Relation::More
    } else {
        Relation::Less
    })
}

/// A sentence comparing the CPU time per request of two runs, with both spreads:
/// "within the spread" when the ranges overlap, never an effect. `None` without figures.
pub fn cpu_per_request_sentence(
    a: &SavedRun,
    a_name: &str,
    b: &SavedRun,
    b_name: &str,
) -> Option<String> {
    let (a_cpu, b_cpu) = (cpu_per_request(a)?, cpu_per_request(b)?);
    let (a_median, b_median) = (
        a.summary.cost.cpu_us_per_request?.median,
        b.summary.cost.cpu_us_per_request?.median,
    );
    Some(match cpu_per_request_relation(a, b)? {
        Relation::Same => format!(
            "Per request, {a_name} cost {a_cpu} and {b_name} {b_cpu}: the ranges overlap, so \
             the difference is within the runs' own spread, not an effect."
        ),
        _ => format!(
            "Per request, {a_name} cost {a_cpu} and {b_name} {b_cpu}: {} as much, and the \
             ranges do not overlap.",
            times(a_median, b_median).unwrap_or_else(|| "not comparable".to_string())
        ),
    })
}

/// `p99 1.21 ms`, or `no latency` when nothing came back.
pub fn p99(run: &SavedRun) -> String {
    run.summary.latency.p99_us.map_or_else(
        || "no latency".to_string(),
        |us| format!("p99 {}", format_latency_us(us)),
    )
}

/// Peak RSS as `457 MB`.
pub fn peak_rss(run: &SavedRun) -> String {
    format_mb(run.summary.memory.rss.peak_bytes)
}

/// `12.5 MB/s`: a byte rate.
pub fn format_mb_per_s(bytes_per_s: f64) -> String {
    let text = format_mb(bytes_per_s.max(0.0).round() as u64);
    format!("{text}/s")
}

/// How `a` relates to `b` in words, with `more`/`fewer` chosen by the caller's nouns:
/// `3.2 times as many as`, `about as many as`, `a third as many as`…; always computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// `a` is larger than `b` by more than [`SAME_FRACTION`].
    More,
    /// `a` is smaller than `b` by more than [`SAME_FRACTION`].
    Less,
    /// Within [`SAME_FRACTION`] of each other.
    Same,
}

/// Compares two non-negative quantities with the [`SAME_FRACTION`] tolerance.
pub fn relation(a: f64, b: f64) -> Relation {
    let larger = a.abs().max(b.abs());
    if larger == 0.0 || (a - b).abs() <= SAME_FRACTION * larger {
        Relation::Same
    } else if a > b {
        Relation::More
    } else {
        Relation::Less
    }
}

/// `a ÷ b` as people say it: `3.2 times`, `41 times`, `1,250 times`; `None` when `b` is 0.
pub fn times(a: f64, b: f64) -> Option<String> {
    if b <= 0.0 || !a.is_finite() || !b.is_finite() {
        return None;
    }
    let ratio = a / b;
    Some(if ratio < 10.0 {
        format!("{ratio:.1} times")
    } else {
        format!("{} times", group_thousands(ratio.round() as u64))
    })
}

/// `a` relative to `b` in percent, signed: `+4.2 %`, `-31 %`; `None` when `b` is 0.
pub fn percent_change(from: f64, to: f64) -> Option<String> {
    if from <= 0.0 {
        return None;
    }
    let change = (to - from) / from * 100.0;
    let magnitude = change.abs();
    let digits = if magnitude < 10.0 { 1 } else { 0 };
    let sign = if change < 0.0 { "-" } else { "+" };
    Some(format!("{sign}{magnitude:.digits$} %"))
}

/// Failures of a run as text: `120 failed requests (timeout=100, connection refused=20)
/// and 3,001 5xx answers`, or a sentence saying there were none.
pub fn failures(run: &SavedRun) -> String {
    let totals = &run.summary.totals;
    let mut parts = Vec::new();
    if totals.errors > 0 {
        parts.push(format!(
            "{} failed requests ({})",
            group_thousands(totals.errors),
            format_error_kinds(&totals.errors_by_kind)
        ));
    }
    for (count, class) in [(totals.status_4xx, "4xx"), (totals.status_5xx, "5xx")] {
        if count > 0 {
            parts.push(format!("{} {class} answers", group_thousands(count)));
        }
    }
    if parts.is_empty() {
        "no failed request and no error answer".to_string()
    } else {
        parts.join(" and ")
    }
}

/// Requests that did not get a 2xx answer (failures plus non-2xx statuses).
pub fn unsuccessful(run: &SavedRun) -> u64 {
    let totals = &run.summary.totals;
    totals.errors + totals.status_3xx + totals.status_4xx + totals.status_5xx
}

/// The value of the run's `size` parameter in bytes, when it has one.
pub fn size_param(run: &SavedRun) -> Option<u64> {
    run.summary.run.params.size_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relations_and_ratios_follow_the_numbers() {
        assert_eq!(relation(100.0, 95.0), Relation::Same);
        assert_eq!(relation(100.0, 80.0), Relation::More);
        assert_eq!(relation(80.0, 100.0), Relation::Less);
        assert_eq!(relation(0.0, 0.0), Relation::Same);
        assert_eq!(times(32.0, 10.0).as_deref(), Some("3.2 times"));
        assert_eq!(times(12_500.0, 10.0).as_deref(), Some("1,250 times"));
        assert_eq!(times(1.0, 0.0), None);
        assert_eq!(percent_change(200.0, 150.0).as_deref(), Some("-25 %"));
        assert_eq!(percent_change(1000.0, 1042.0).as_deref(), Some("+4.2 %"));
        assert_eq!(format_rps(18_234.4), "18,234");
        assert_eq!(format_rate_per_min(Metric::OpenFds, 12.4), "+12 fds/min");
        assert_eq!(
            format_rate_per_min(Metric::TcpEstablished, -11_915.4),
            "-11,915 sockets/min"
        );
        assert_eq!(format_rate_per_min(Metric::HeapLive, 0.0), "±0.00 MB/min");
        assert_eq!(
            format_rate_per_min(Metric::HeapLive, 1_231.8),
            "+1,232 MB/min"
        );
        assert_eq!(format_rate_per_min(Metric::Rss, -120.4), "-120 MB/min");
    }
}
