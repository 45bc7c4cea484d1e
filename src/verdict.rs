//! Verdicts: did a run show the shape its scenario expects (`flat`, `grows`, `shrinks`)?
//!
//! A series is called a trend only when two independent tests agree:
//!
//! * **Mann–Kendall** says the ordering is not chance: the S statistic (concordant minus
//!   discordant pairs) is normalised to z and must exceed [`Z_CRITICAL`] (two-sided 1 %).
//!   It looks only at ranks, so one spike or a sawtooth does not fool it.
//! * **Theil–Sen** says the trend is big enough to matter: its slope, in the series' units
//!   per minute, must exceed the expectation's threshold. Memory samples are autocorrelated
//!   (a heap that wanders is not independent draws), which makes Mann–Kendall too eager on
//!   long noisy series; the slope threshold is what keeps a noisy flat series flat.
//!
//! A growth must also persist: the Theil–Sen slope of the second half of the samples must
//! be above the threshold too. A cache that fills once in the warm-up and then stays (a
//! step) is not a leak; a leak keeps growing until the end of the run.
//!
//! A verdict needs evidence, so a check has four outcomes ([`Outcome`]): **matches**,
//! **does not match**, **inconclusive** — a slope beyond the threshold that Mann–Kendall
//! does not yet call significant, fewer than [`MIN_SAMPLES`] measured samples, or halves
//! that disagree (growth that slows without stopping, or starts late) — and **no load
//! reached the target** (no response, or more than [`MAX_ERROR_SHARE`] of the requests got
//! none: an idle process "matches" anything flat). Only *matches* passes `--check`; the
//! others say what to do (`run longer (at least 16 s measured)`, see [`evidence`]).

use serde::{Deserialize, Serialize};

use crate::series::{Phase, Sample, Series};
use crate::stats::{mann_kendall_z, median, theil_sen};

#[cfg(test)]
mod absent;
mod evidence;
pub use evidence::{Outcome, load_problem, load_problem_of};

/// |z| above this is a significant Mann–Kendall trend (two-sided p < 0.01).
pub const Z_CRITICAL: f64 = 2.576;

/// The shape a series shows over the measured part of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    Flat,
    Grows,
    Shrinks,
    /// Expected only, never observed: the expectation is a level (`at_least`) whatever
    /// the trend, for lessons that are a level reached (TIME_WAIT climbing to a plateau
    /// shows as growth in a short run and as flat in a long one).
    Any,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::Flat => "flat",
            Shape::Grows => "grows",
            Shape::Shrinks => "shrinks",
            Shape::Any => "any shape",
        }
    }
}

/// A series of the samples an expectation can talk about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Live heap bytes (counting allocator), in MB.
    HeapLive,
    /// Resident set size, in MB.
    Rss,
    /// The allocator's own resident bytes, in MB.
    AllocatorResident,
    /// Open file descriptors.
    OpenFds,
    /// Threads of the server.
    Threads,
    /// TIME_WAIT sockets on the server's ports.
    TcpTimeWait,
    /// Established TCP connections of the server.
    TcpEstablished,
    /// Requests per second.
    Rps,
}

impl Metric {
    /// Every metric, in the order verdicts are printed.
    pub const ALL: [Metric; 8] = [
        Metric::HeapLive,
        Metric::Rss,
        Metric::AllocatorResident,
        Metric::OpenFds,
        Metric::Threads,
        Metric::TcpTimeWait,
        Metric::TcpEstablished,
        Metric::Rps,
    ];

    /// How people read it: "live heap", "RSS", …
    pub fn label(self) -> &'static str {
        match self {
            Metric::HeapLive => "live heap",
            Metric::Rss => "RSS",
            Metric::AllocatorResident => "allocator resident",
            Metric::OpenFds => "open fds",
            Metric::Threads => "threads",
            Metric::TcpTimeWait => "TCP time_wait",
            Metric::TcpEstablished => "TCP established",
            Metric::Rps => "RPS",
        }
    }

    /// The unit of the slope: "MB/min", "fds/min", …
    pub fn slope_unit(self) -> &'static str {
        match self {
            Metric::HeapLive | Metric::Rss | Metric::AllocatorResident => "MB/min",
            Metric::OpenFds => "fds/min",
            Metric::Threads => "threads/min",
            Metric::TcpTimeWait | Metric::TcpEstablished => "sockets/min",
            Metric::Rps => "RPS/min",
        }
    }

    /// The slope below which a series counts as flat when the scenario gives no threshold.
    /// Memory: 5 MB/min (a run's noise; a 10 KiB-per-request leak at 1K RPS is 600 MB/min).
    pub fn default_threshold_per_min(self) -> f64 {
        match self {
            Metric::HeapLive | Metric::Rss | Metric::AllocatorResident => 5.0,
            Metric::OpenFds | Metric::Threads => 10.0,
            Metric::TcpTimeWait | Metric::TcpEstablished => 100.0,
            Metric::Rps => 1_000.0,
        }
    }

    /// The value of a sample in this metric's unit, `None` when the sample lacks it.
    pub fn value(self, sample: &Sample) -> Option<f64> {
        const MB: f64 = 1e6;
        match self {
            Metric::HeapLive => sample.heap_live_bytes.map(|b| b as f64 / MB),
            Metric::Rss => sample.rss_bytes.map(|b| b as f64 / MB),
            Metric::AllocatorResident => sample.allocator_resident_bytes.map(|b| b as f64 / MB),
            Metric::OpenFds => sample.open_fds.map(|n| n as f64),
            Metric::Threads => sample.threads.map(|n| n as f64),
            Metric::TcpTimeWait => sample.tcp_time_wait.map(|n| n as f64),
            Metric::TcpEstablished => sample.tcp_established.map(|n| n as f64),
            Metric::Rps => sample.rps,
        }
    }
}

/// One expectation of a scenario: this metric should show this shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expectation {
    pub metric: Metric,
    pub shape: Shape,
    /// Slope (units per minute) that separates flat from a trend; the metric's default
    /// when `None`.
    pub threshold_per_min: Option<f64>,
    /// The median of the measured samples must be at least this (in the metric's unit:
    /// MB, fds, sockets, RPS). For patterns whose lesson is a level, not a trend: TIME_WAIT
    /// sockets jump to thousands and plateau where the kernel recycles ports.
    #[serde(default)]
    pub at_least: Option<f64>,
}

/// What the samples showed for one expectation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub metric: Metric,
    pub expected: Shape,
    /// `None` when the run had too few samples with this metric to say.
    pub observed: Option<Shape>,
    /// Theil–Sen slope over the measured samples, in `unit`.
    pub slope_per_min: Option<f64>,
    /// Theil–Sen slope over the second half of them.
    pub late_slope_per_min: Option<f64>,
    /// Mann–Kendall z.
    pub mann_kendall_z: Option<f64>,
    pub threshold_per_min: f64,
    pub unit: String,
    /// The median of the measured samples, in the metric's unit.
    #[serde(default)]
    pub median: Option<f64>,
    /// The level the median had to reach, if the expectation sets one.
    #[serde(default)]
    pub at_least: Option<f64>,
    /// True only when the outcome is [`Outcome::Matches`] (kept for readers of summaries
    /// written before outcomes existed).
    pub matches: bool,
    /// Matches, does not match, inconclusive or no load; absent in summaries written
    /// before it existed (read [`Check::outcome`], which falls back on `matches`).
    #[serde(default, rename = "outcome", skip_serializing_if = "Option::is_none")]
    pub recorded_outcome: Option<Outcome>,
    /// Why the outcome is inconclusive or no load, and what to do: `run longer (at least
    /// 16 s measured; this run had 4.0 s)`, `no response came back (…)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Check {
    /// The check's outcome (from `matches` in summaries that predate outcomes).
    pub fn outcome(&self) -> Outcome {
        self.recorded_outcome.unwrap_or(if self.matches {
            Outcome::Matches
        } else {
            Outcome::DoesNotMatch
        })
    }

    /// `matches: live heap grows 36.2 MB/min (expected: grows)`; an inconclusive or
    /// no-load check ends with its reason.
    pub fn line(&self) -> String {
        let verdict = self.outcome().name();
        let mut observed = match (self.observed, self.slope_per_min) {
            (Some(shape), Some(slope)) => format!("{} {slope:.1} {}", shape.name(), self.unit),
            _ => "too few samples to tell".to_string(),
        };
        let mut expected = self.expected.name().to_string();
        if let Some(at_least) = self.at_least {
            if let Some(median) = self.median {
                observed.push_str(&format!(", median {median:.0}"));
            }
            expected.push_str(&format!(" at {at_least} or more"));
        }
        let line = format!(
            "{verdict}: {} {observed} (expected: {expected}, threshold {} {})",
            self.metric.label(),
            self.threshold_per_min,
            self.unit
        );
        match &self.reason {
            Some(reason) => format!("{line}: {reason}"),
            None => line,
        }
    }
}

/// Fewest measured samples a verdict is given on (a 250 ms interval gives 4 a second).
pub const MIN_SAMPLES: usize = 8;

/// Checks every expectation against the measured (`load`) samples of the series; when
/// no load reached the target ([`load_problem`]) every check says so.
pub fn check_all(series: &Series, expectations: &[Expectation]) -> Vec<Check> {
    let no_load = load_problem(series);
    expectations
        .iter()
        .map(|e| {
            let mut check = check(series, e);
            if let Some(problem) = &no_load {
                check.matches = false;
                check.recorded_outcome = Some(Outcome::NoLoad);
                check.reason = Some(problem.clone());
            }
            check
        })
        .collect()
}

/// Checks one expectation.
pub fn check(series: &Series, expectation: &Expectation) -> Check {
    let metric = expectation.metric;
    let threshold = expectation
        .threshold_per_min
        .unwrap_or_else(|| metric.default_threshold_per_min());
    let points: Vec<(f64, f64)> = series
        .samples
        .iter()
        .filter(|s| s.phase == Some(Phase::Load))
        .filter_map(|s| Some((s.elapsed_s / 60.0, metric.value(s)?)))
        .collect();
    let classified = classify(&points, threshold);
    let observed = classified.as_ref().map(|c| c.shape);
    let median = classified.as_ref().and_then(|_| {
        let mut values: Vec<f64> = points.iter().map(|(_, y)| *y).collect();
        median(&mut values)
    });
    let level_reached = match (expectation.at_least, median) {
        (Some(at_least), Some(median)) => median >= at_least,
        (Some(_), None) => false,
        (None, _) => true,
    };
    let (outcome, reason) = match &classified {
        // Not one measured sample has it: not read here (a probe without it, e.g. the
        // portable one has no fds), which no longer run would change.
        None if points.is_empty() && series.measured().next().is_some() => (
            Outcome::Inconclusive,
            Some(format!(
                "n/a: no sample has {} (not read by this platform's process probe, or the \
                 server had ended)",
                metric.label()
            )),
        ),
        None => (
            Outcome::Inconclusive,
            Some(evidence::run_longer(series, "too few measured samples")),
        ),
        // "Any shape at a level": only the level is asked for, so how firmly the slope is
        // known does not matter.
        Some(_) if expectation.shape == Shape::Any => match level_reached {
            true => (Outcome::Matches, None),
            false => (Outcome::DoesNotMatch, None),
        },
        Some(c) if c.evidence != Evidence::Clear => (
            Outcome::Inconclusive,
            Some(evidence::run_longer(series, c.evidence.describe())),
        ),
        Some(c) if c.shape == expectation.shape && level_reached => (Outcome::Matches, None),
        Some(_) => (Outcome::DoesNotMatch, None),
    };
    Check {
        metric,
        expected: expectation.shape,
        observed,
        slope_per_min: classified.as_ref().map(|c| c.slope),
        late_slope_per_min: classified.as_ref().map(|c| c.late_slope),
        mann_kendall_z: classified.as_ref().map(|c| c.z),
        threshold_per_min: threshold,
        unit: metric.slope_unit().to_string(),
        median,
        at_least: expectation.at_least,
        matches: outcome == Outcome::Matches,
        recorded_outcome: Some(outcome),
        reason,
    }
}

/// How firmly the samples support the shape they were given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// Both tests agree, and so do the halves.
    Clear,
    /// The slope is beyond the threshold but Mann–Kendall does not call it significant:
    /// too few or too noisy samples to tell a trend from chance.
    NotSignificant,
    /// The whole run and its second half disagree: a trend that slows without stopping,
    /// or one that starts only late in the run.
    HalvesDisagree,
}

impl Evidence {
    /// Why a verdict is inconclusive, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Evidence::Clear => "the evidence is clear",
            Evidence::NotSignificant => "the slope is beyond the threshold but not significant",
            Evidence::HalvesDisagree => "the two halves of the run disagree",
        }
    }
}

/// The shape of a series with the numbers that decided it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Classified {
    pub shape: Shape,
    /// Theil–Sen slope, y units per x unit.
    pub slope: f64,
    /// Theil–Sen slope of the second half.
    pub late_slope: f64,
    /// Mann–Kendall z.
    pub z: f64,
    /// Whether the shape is a verdict or only a best guess.
    pub evidence: Evidence,
}

/// Classifies `(x, y)` points as flat, growing or shrinking (see the module doc); `None`
/// with fewer than [`MIN_SAMPLES`] points. The shape is the best reading of the points;
/// [`Classified::evidence`] says whether it is firm enough to be a verdict.
pub fn classify(points: &[(f64, f64)], threshold: f64) -> Option<Classified> {
    if points.len() < MIN_SAMPLES {
        return None;
    }
    let slope = theil_sen(points)?.slope;
    let late = &points[points.len() / 2..];
    let late_slope = theil_sen(late)?.slope;
    let z = mann_kendall_z(points.iter().map(|(_, y)| *y));
    let late_z = mann_kendall_z(late.iter().map(|(_, y)| *y));
    // The direction the slope points in, if it is beyond the threshold.
    let direction = |slope: f64| {
        if slope > threshold {
            Some(Shape::Grows)
        } else if slope < -threshold {
            Some(Shape::Shrinks)
        } else {
            None
        }
    };
    let significant = |z: f64, shape: Shape| match shape {
        Shape::Grows => z > Z_CRITICAL,
        Shape::Shrinks => z < -Z_CRITICAL,
        // Only ever expected, never observed; nothing to test.
        Shape::Flat | Shape::Any => true,
    };
    let (shape, evidence) = match (direction(slope), direction(late_slope)) {
        (Some(shape), _) if !significant(z, shape) => (shape, Evidence::NotSignificant),
        (Some(shape), Some(late)) if late == shape => (shape, Evidence::Clear),
        // A step (a cache warmed once, then flat) is not a trend; a trend that is still
        // moving at half the threshold or more in the second half may be one.
        (Some(_), _) if late_slope.abs() < threshold / 2.0 => (Shape::Flat, Evidence::Clear),
        (Some(shape), _) => (shape, Evidence::HalvesDisagree),
        // Flat over the whole run, but the second half moves, and significantly so.
        (None, Some(late)) if significant(late_z, late) => (Shape::Flat, Evidence::HalvesDisagree),
        (None, _) => (Shape::Flat, Evidence::Clear),
    };
    Some(Classified {
        shape,
        slope,
        late_slope,
        z,
        evidence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 120 points over two minutes (x in minutes), like a 2 min run sampled each second.
    fn series(f: impl Fn(usize, f64) -> f64) -> Vec<(f64, f64)> {
        (0..120)
            .map(|i| {
                let x = i as f64 / 60.0;
                (x, f(i, x))
            })
            .collect()
    }

    /// Deterministic noise in [-1, 1] (a fixed LCG, so the tests never flake).
    fn noise(i: usize) -> f64 {
        let mut state = (i as u64)
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state ^= state >> 33;
        (state % 2001) as f64 / 1000.0 - 1.0
    }

    fn shape(points: &[(f64, f64)]) -> Shape {
        classify(points, 5.0).unwrap().shape
    }

    #[test]
    fn a_flat_series_is_flat() {
        assert_eq!(shape(&series(|_, _| 100.0)), Shape::Flat);
    }

    #[test]
    fn linear_growth_is_growth_with_its_slope() {
        let points = series(|_, x| 50.0 + 36.2 * x);
        let classified = classify(&points, 5.0).unwrap();
        assert_eq!(classified.shape, Shape::Grows);
        assert!((classified.slope - 36.2).abs() < 1e-9, "{classified:?}");
        let falling = series(|_, x| 500.0 - 40.0 * x);
        assert_eq!(shape(&falling), Shape::Shrinks);
    }

    #[test]
    fn noisy_flat_is_not_called_growth() {
        // ±20 MB of noise around 300 MB: Mann–Kendall may or may not flinch, the slope does not.
        let points = series(|i, _| 300.0 + 20.0 * noise(i));
        assert_eq!(shape(&points), Shape::Flat);
        // Noise that happens to drift a little (2 MB/min) stays under the threshold.
        let drifting = series(|i, x| 300.0 + 2.0 * x + 20.0 * noise(i));
        assert_eq!(shape(&drifting), Shape::Flat);
    }

    #[test]
    fn a_sawtooth_is_flat() {
        // The transient pattern: the heap fills and is freed every 10 samples.
        let points = series(|i, _| 20.0 + 30.0 * (i % 10) as f64 / 10.0);
        assert_eq!(shape(&points), Shape::Flat);
    }

    #[test]
    fn a_step_is_not_a_leak() {
        // A cache warmed once in the first quarter, then flat: growth does not persist.
        let points = series(|i, _| if i < 30 { 10.0 + i as f64 * 3.0 } else { 100.0 });
        assert_eq!(shape(&points), Shape::Flat);
    }

    #[test]
    fn a_real_leak_at_a_few_thousand_rps_is_growth_despite_noise() {
        // 10 KiB per request at 2,000 RPS is 1,229 MB/min; add ±50 MB of sampling noise.
        let mb_per_min = 10_240.0 * 2_000.0 * 60.0 / 1e6;
        let points = series(|i, x| 40.0 + mb_per_min * x + 50.0 * noise(i));
        let classified = classify(&points, 5.0).unwrap();
        assert_eq!(classified.shape, Shape::Grows);
        assert!(
            (classified.slope - mb_per_min).abs() / mb_per_min < 0.05,
            "{classified:?}"
        );
    }

    #[test]
    fn too_few_samples_give_no_verdict() {
        let points: Vec<(f64, f64)> = (0..MIN_SAMPLES - 1).map(|i| (i as f64, i as f64)).collect();
        assert!(classify(&points, 5.0).is_none());
    }

    #[test]
    fn mann_kendall_signs() {
        assert!(mann_kendall_z((0..30).map(f64::from)) > Z_CRITICAL);
        assert!(mann_kendall_z((0..30).rev().map(f64::from)) < -Z_CRITICAL);
        assert_eq!(mann_kendall_z(std::iter::repeat_n(1.0, 30)), 0.0);
    }

    #[test]
    fn a_check_reads_as_a_sentence() {
        let samples = (0..40)
            .map(|i| Sample {
                elapsed_s: i as f64 * 1.5,
                phase: Some(Phase::Load),
                heap_live_bytes: Some(1_000_000 + i as u64 * 1_000_000),
                ..Sample::default()
            })
            .collect();
        let series = Series {
            samples,
            ..Series::default()
        };
        let check = check(
            &series,
            &Expectation {
                metric: Metric::HeapLive,
                shape: Shape::Grows,
                threshold_per_min: None,
                at_least: None,
            },
        );
        assert!(check.matches, "{check:?}");
        assert_eq!(
            check.line(),
            "matches: live heap grows 40.0 MB/min (expected: grows, threshold 5 MB/min)"
        );
    }

    #[test]
    fn a_level_expectation_needs_the_median_to_reach_it() {
        // TIME_WAIT as httpclient1 shows it here: up to ~14,000 in seconds, then a plateau.
        let samples = (0..40)
            .map(|i| Sample {
                elapsed_s: 2.0 + i as f64 * 0.25,
                phase: Some(Phase::Load),
                tcp_time_wait: Some(14_000 + (i % 3) as u64 * 20),
                ..Sample::default()
            })
            .collect();
        let series = Series {
            samples,
            ..Series::default()
        };
        let plateau = |at_least| Expectation {
            metric: Metric::TcpTimeWait,
            shape: Shape::Flat,
            threshold_per_min: None,
            at_least: Some(at_least),
        };
        let reached = check(&series, &plateau(1_000.0));
        assert!(reached.matches, "{reached:?}");
        assert!(
            reached.line().contains("median 14020"),
            "{}",
            reached.line()
        );
        assert!(!check(&series, &plateau(20_000.0)).matches);
    }

    #[test]
    fn a_level_of_any_shape_matches_the_climb_and_the_plateau_alike() {
        // A short run sees TIME_WAIT still climbing to its plateau; a long one sees it flat.
        let run = |value: fn(usize) -> u64| Series {
            samples: (0..40)
                .map(|i| Sample {
                    elapsed_s: 2.0 + i as f64 * 0.25,
                    phase: Some(Phase::Load),
                    tcp_time_wait: Some(value(i)),
                    ..Sample::default()
                })
                .collect(),
            ..Series::default()
        };
        let level = |at_least| Expectation {
            metric: Metric::TcpTimeWait,
            shape: Shape::Any,
            threshold_per_min: None,
            at_least: Some(at_least),
        };
        let climbing = run(|i| 8_000 + i as u64 * 150);
        let flat = run(|i| 14_000 + (i % 3) as u64 * 20);
        for series in [&climbing, &flat] {
            let reached = check(series, &level(1_000.0));
            assert!(reached.matches, "{}", reached.line());
            assert!(!check(series, &level(20_000.0)).matches);
        }
        let line = check(&climbing, &level(1_000.0)).line();
        assert!(
            line.contains("grows") && line.contains("any shape at 1000"),
            "{line}"
        );
    }
}
