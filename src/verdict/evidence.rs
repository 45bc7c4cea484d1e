//! What a verdict needs before it is one: load that reached the target, and enough
//! measured samples. [`Outcome`] is a check's answer; [`load_problem`] says when the run
//! had no load to judge; [`run_longer`] says how long a run would have to be.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::MIN_SAMPLES;
use crate::series::{Phase, Series};
use crate::stats::median;

/// Above this share of requests without a response, the load did not reach the target:
/// what was sampled is a process that was mostly idle, and a flat line proves nothing.
pub const MAX_ERROR_SHARE: f64 = 0.05;

/// A check's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The run shows the expected shape, with evidence.
    Matches,
    /// The run shows another shape, with evidence.
    DoesNotMatch,
    /// The samples cannot tell yet (too few, not significant, halves disagree).
    Inconclusive,
    /// No response came back, or too many requests got none.
    NoLoad,
}

impl Outcome {
    /// How the text summary, the gallery and `--check` say it.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Matches => "matches",
            Outcome::DoesNotMatch => "does not match",
            Outcome::Inconclusive => "inconclusive",
            Outcome::NoLoad => "no load reached the target",
        }
    }
}

/// Why the measured part of the run had no load to judge: no response at all, or more
/// than [`MAX_ERROR_SHARE`] of the requests without one; `None` when load got through.
pub fn load_problem(series: &Series) -> Option<String> {
    let (mut responses, mut errors) = (0u64, 0u64);
    let mut kinds = BTreeMap::<String, u64>::new();
    for sample in series.measured() {
        responses += sample.requests;
        errors += sample.errors;
        for (kind, count) in &sample.errors_by_kind {
            *kinds.entry(kind.clone()).or_insert(0) += count;
        }
    }
    load_problem_of(responses, errors, &kinds)
}

/// [`load_problem`] of counts: responses, requests without one, and those by kind.
pub fn load_problem_of(
    responses: u64,
    errors: u64,
    errors_by_kind: &BTreeMap<String, u64>,
) -> Option<String> {
    let kinds = errors_by_kind
        .iter()
        .filter(|(_, count)| **count > 0)
        .map(|(kind, count)| format!("{kind}={count}"))
        .collect::<Vec<_>>()
        .join(", ");
    let failed = |errors: u64| {
        if kinds.is_empty() {
            format!("{errors} requests failed")
        } else {
            format!("{errors} requests failed: {kinds}")
        }
    };
    if responses == 0 {
        return Some(if errors == 0 {
            "no response came back (no request was answered)".to_string()
        } else {
            format!("no response came back ({})", failed(errors))
        });
    }
    let share = errors as f64 / (responses + errors) as f64;
    (share > MAX_ERROR_SHARE).then(|| {
        format!(
            "{:.0} % of the requests got no response, more than {:.0} % ({})",
            share * 100.0,
            MAX_ERROR_SHARE * 100.0,
            failed(errors)
        )
    })
}

/// `{why} — run longer (at least 16 s measured; this run had 4 s)`: twice the measured
/// time of this run, and at least [`MIN_SAMPLES`] intervals.
pub fn run_longer(series: &Series, why: &str) -> String {
    let load: Vec<f64> = series
        .samples
        .iter()
        .filter(|s| s.phase == Some(Phase::Load))
        .map(|s| s.interval_s)
        .collect();
    let measured_s: f64 = load.iter().sum();
    let interval_s = median(&mut load.clone()).unwrap_or(1.0);
    let needed_s = (2.0 * measured_s)
        .max(MIN_SAMPLES as f64 * interval_s)
        .ceil();
    format!(
        "{why} — run longer (at least {needed_s:.0} s measured; this run had {measured_s:.1} s)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::Sample;
    use crate::verdict::{Expectation, Metric, Shape, check, check_all};

    /// `count` load samples of 0.25 s each, RSS from `rss_mb(i)`, 1,000 responses each.
    fn run(count: usize, rss_mb: impl Fn(usize) -> f64) -> Series {
        let samples = (0..count)
            .map(|i| Sample {
                elapsed_s: 1.0 + i as f64 * 0.25,
                phase: Some(Phase::Load),
                interval_s: 0.25,
                requests: 1_000,
                rss_bytes: Some((rss_mb(i) * 1e6) as u64),
                ..Sample::default()
            })
            .collect();
        Series {
            samples,
            ..Series::default()
        }
    }

    fn rss(shape: Shape) -> Expectation {
        Expectation {
            metric: Metric::Rss,
            shape,
            threshold_per_min: None,
            at_least: None,
        }
    }

    /// Deterministic noise in [-1, 1].
    fn noise(i: usize) -> f64 {
        let state = (i as u64 ^ 0x5851_f42d)
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) % 2001) as f64 / 1000.0 - 1.0
    }

    #[test]
    fn a_clear_flat_run_matches() {
        let checked = check(&run(40, |i| 50.0 + 0.01 * noise(i)), &rss(Shape::Flat));
        assert_eq!(checked.outcome(), Outcome::Matches, "{checked:?}");
        assert!(checked.matches && checked.reason.is_none());
    }

    #[test]
    fn a_clear_leak_expected_flat_does_not_match() {
        // 60 MB/min over 10 s, no noise: significant, and both halves grow.
        let checked = check(&run(40, |i| 50.0 + i as f64 * 0.25), &rss(Shape::Flat));
        assert_eq!(checked.outcome(), Outcome::DoesNotMatch, "{checked:?}");
        assert!(!checked.matches);
    }

    #[test]
    fn a_short_noisy_run_with_a_slope_beyond_the_threshold_is_inconclusive() {
        // The 4-second bigstring run: 16 samples, RSS slope ~15 MB/min (3× the threshold)
        // under ±1 MB of noise — Mann–Kendall cannot tell it from chance.
        let series = run(16, |i| 60.0 + 15.0 * (i as f64 * 0.25 / 60.0) + noise(i));
        let checked = check(&series, &rss(Shape::Flat));
        assert_eq!(checked.outcome(), Outcome::Inconclusive, "{checked:?}");
        assert!(!checked.matches);
        let line = checked.line();
        assert!(line.starts_with("inconclusive: RSS"), "{line}");
        assert!(line.contains("not significant"), "{line}");
        assert!(
            line.contains("run longer (at least 8 s measured; this run had 4.0 s)"),
            "{line}"
        );
    }

    #[test]
    fn too_few_samples_are_inconclusive_not_a_mismatch() {
        let checked = check(&run(MIN_SAMPLES - 1, |_| 50.0), &rss(Shape::Flat));
        assert_eq!(checked.outcome(), Outcome::Inconclusive);
        assert!(
            checked.line().contains("too few measured samples"),
            "{}",
            checked.line()
        );
        // At least MIN_SAMPLES intervals of 0.25 s.
        assert!(
            checked.line().contains("at least 4 s measured"),
            "{}",
            checked.line()
        );
    }

    #[test]
    fn halves_that_disagree_are_inconclusive() {
        // Growth that slows without stopping: 60, then 4 MB/min (threshold 5): a leak that
        // is slowing down, or a cache still filling? Not a verdict either way.
        let slowing = run(120, |i| {
            let minutes = i as f64 * 0.25 / 60.0;
            if i < 60 {
                50.0 + 60.0 * minutes
            } else {
                65.0 + 4.0 * (minutes - 0.25)
            }
        });
        let checked = check(&slowing, &rss(Shape::Grows));
        assert_eq!(checked.outcome(), Outcome::Inconclusive, "{checked:?}");
        assert!(checked.line().contains("halves"), "{}", checked.line());
        // Growth that starts only in the second half.
        let late = run(120, |i| {
            50.0 + if i < 95 { 0.0 } else { 0.25 * (i - 95) as f64 }
        });
        let checked = check(&late, &rss(Shape::Flat));
        assert_eq!(checked.outcome(), Outcome::Inconclusive, "{checked:?}");
    }

    #[test]
    fn no_response_is_no_load_never_a_pass() {
        // An idle process behind a port nothing answered on: flat, but no load reached it.
        let mut idle = run(40, |_| 12.0);
        for sample in &mut idle.samples {
            sample.requests = 0;
            sample.errors = 30;
            sample.errors_by_kind = BTreeMap::from([("connection refused".to_string(), 30)]);
        }
        let checks = check_all(&idle, &[rss(Shape::Flat)]);
        assert_eq!(checks[0].outcome(), Outcome::NoLoad);
        assert!(!checks[0].matches);
        let line = checks[0].line();
        assert!(line.starts_with("no load reached the target: "), "{line}");
        assert!(
            line.contains("no response came back (1200 requests failed: connection refused=1200)"),
            "{line}"
        );
    }

    #[test]
    fn errors_above_the_share_are_no_load_and_below_it_are_not() {
        let with_errors = |errors: u64| {
            let mut series = run(40, |_| 12.0);
            for sample in &mut series.samples {
                sample.errors = errors;
                sample.errors_by_kind = BTreeMap::from([("timeout".to_string(), errors)]);
            }
            series
        };
        // 100 failures beside 1,000 responses: 9 %.
        let problem = load_problem(&with_errors(100)).unwrap();
        assert!(
            problem.starts_with("9 % of the requests got no response"),
            "{problem}"
        );
        // 10 beside 1,000: 1 %, load got through.
        assert_eq!(load_problem(&with_errors(10)), None);
        let checks = check_all(&with_errors(10), &[rss(Shape::Flat)]);
        assert_eq!(checks[0].outcome(), Outcome::Matches);
    }

    #[test]
    fn summaries_without_outcomes_read_theirs_from_matches() {
        let checked = check(&run(40, |_| 50.0), &rss(Shape::Flat));
        let mut json = serde_json::to_value(&checked).unwrap();
        assert_eq!(json["outcome"], "matches");
        json.as_object_mut().unwrap().remove("outcome");
        let old: crate::verdict::Check = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(old.outcome(), Outcome::Matches);
        json["matches"] = false.into();
        let old: crate::verdict::Check = serde_json::from_value(json).unwrap();
        assert_eq!(old.outcome(), Outcome::DoesNotMatch);
    }
}
