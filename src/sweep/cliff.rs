//! The cliff finder: where the cost of a request steps up between two neighbouring sizes
//! of one allocator by more than the noise and more than the size step. Pure (points in,
//! cliffs out), so it is tested on synthetic curves.
//!
//! A step from one size to the next is a cliff only when both hold:
//! * **The spreads do not overlap**: the cheapest repetition after the step costs more than
//!   the dearest before it. Noise that moves a single repetition cannot make a cliff, and a
//!   point measured once has no spread (so `--repeat 1` falls back to the threshold alone).
//! * **The step exceeds what the size step alone explains**: the cost grew by more than the
//!   size did (a request whose cost is proportional to its bytes grows ×1.41 per half
//!   doubling) times the cliff threshold as a cost (`1 ÷ (1 − 0.3)` = ×1.43), so ×2.02 per
//!   half doubling. The threshold sits on top of the size because the cost of copying a
//!   buffer grows a little faster than its bytes once it falls out of the caches: measured
//!   here, system and jemalloc went ×1.44–1.53 per half doubling from 724 KiB to 2 MiB with
//!   tight spreads and no change in page faults, while an allocator that starts mapping
//!   fresh pages for every request multiplies the cost by several.
//!
//! The cost is the server's CPU µs per request where both points have it (it does not
//! depend on how much CPU the machine gave the server), otherwise 1 ÷ RPS with the RPS
//! spread. A cliff is a *step*, judged between neighbours only, so a gradual rise of less
//! than the size per step is never one, however far it climbs in all.

use super::{Cliff, SweepPoint};

/// Floating-point slack when comparing a ratio with the one required.
const RATIO_TOLERANCE: f64 = 1e-9;

/// One step between neighbouring sizes of one allocator, judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub allocator: String,
    pub from_size_bytes: u64,
    pub to_size_bytes: u64,
    /// `cpu_us_per_request` or `rps`.
    pub judged_on: &'static str,
    /// Cost after ÷ cost before.
    pub cost_ratio: f64,
    /// See [`required_rise`].
    pub required_ratio: f64,
    /// The two points' spreads do not overlap (the cost after is above every repetition
    /// before).
    pub apart: bool,
}

impl Step {
    /// Apart and steeper than required: a cliff.
    pub fn is_cliff(&self) -> bool {
        self.apart && self.cost_ratio > self.required_ratio + RATIO_TOLERANCE
    }
}

/// The smallest rise in cost (after ÷ before) from `from_bytes` to `to_bytes` that is a
/// cliff: the size ratio (what a cost proportional to size explains) times the threshold
/// `drop` as a rise in cost, `1 ÷ (1 − drop)`.
pub fn required_rise(from_bytes: u64, to_bytes: u64, drop: f64) -> f64 {
    let size_ratio = (to_bytes as f64 / from_bytes.max(1) as f64).max(1.0);
    size_ratio / (1.0 - drop)
}

/// Every step between neighbouring sizes of one allocator (allocators in the order they
/// first appear, ascending size within each), judged. A step from a point without cost
/// (no CPU and RPS 0 or not a number) has nothing to rise from and is left out.
pub fn judge_steps(points: &[SweepPoint], drop: f64) -> Vec<Step> {
    let mut allocators: Vec<&str> = Vec::new();
    for point in points {
        if !allocators.contains(&point.allocator.as_str()) {
            allocators.push(&point.allocator);
        }
    }
    let mut steps = Vec::new();
    for allocator in allocators {
        let mut curve: Vec<&SweepPoint> = points
            .iter()
            .filter(|point| point.allocator == allocator)
            .collect();
        curve.sort_by_key(|point| point.size_bytes);
        for pair in curve.windows(2) {
            let (from, to) = (pair[0], pair[1]);
            let judged = match (from.cpu_us_per_request, to.cpu_us_per_request) {
                (Some(before), Some(after)) if before > 0.0 && after.is_finite() => {
                    let before_high = from.cpu_us_per_request_max.unwrap_or(before);
                    let after_low = to.cpu_us_per_request_min.unwrap_or(after);
                    Some((
                        "cpu_us_per_request",
                        after / before,
                        after_low > before_high,
                    ))
                }
                _ if from.rps.is_finite() && from.rps > 0.0 && to.rps.is_finite() => {
                    let before_low = from.rps_min.unwrap_or(from.rps);
                    let after_high = to.rps_max.unwrap_or(to.rps);
                    let ratio = if to.rps > 0.0 {
                        from.rps / to.rps
                    } else {
                        f64::INFINITY
                    };
                    Some(("rps", ratio, after_high < before_low))
                }
                _ => None,
            };
            if let Some((judged_on, cost_ratio, apart)) = judged {
                steps.push(Step {
                    allocator: allocator.to_string(),
                    from_size_bytes: from.size_bytes,
                    to_size_bytes: to.size_bytes,
                    judged_on,
                    cost_ratio,
                    required_ratio: required_rise(from.size_bytes, to.size_bytes, drop),
                    apart,
                });
            }
        }
    }
    steps
}

/// The cliffs in `points`: the steps of [`judge_steps`] that are cliffs, with the two
/// points' median RPS. `remeasured` is false; the sweep sets it (see
/// [`mark_remeasured`]).
pub fn find_cliffs(points: &[SweepPoint], drop: f64) -> Vec<Cliff> {
    let find = |allocator: &str, size: u64| {
        points
            .iter()
            .find(|p| p.allocator == allocator && p.size_bytes == size)
    };
    judge_steps(points, drop)
        .into_iter()
        .filter(Step::is_cliff)
        .filter_map(|step| {
            let from = find(&step.allocator, step.from_size_bytes)?;
            let to = find(&step.allocator, step.to_size_bytes)?;
            let drop_fraction = if from.rps > 0.0 {
                1.0 - to.rps / from.rps
            } else {
                0.0
            };
            Some(Cliff {
                allocator: step.allocator,
                from_size_bytes: step.from_size_bytes,
                to_size_bytes: step.to_size_bytes,
                from_rps: from.rps,
                to_rps: to.rps,
                drop_fraction,
                judged_on: step.judged_on.to_string(),
                cost_ratio: step.cost_ratio,
                required_ratio: step.required_ratio,
                remeasured: false,
            })
        })
        .collect()
}

/// The points to measure once more before `cliffs` are reported: both sides of each
/// suspected cliff, `(allocator, size)`, each once, in the cliffs' order. Another
/// repetition can only widen a spread, so a re-measurement can take a cliff back (noise
/// that happened to fall apart) but never invent one.
pub fn remeasure_targets(cliffs: &[Cliff]) -> Vec<(String, u64)> {
    let mut targets: Vec<(String, u64)> = Vec::new();
    for cliff in cliffs {
        for size in [cliff.from_size_bytes, cliff.to_size_bytes] {
            let target = (cliff.allocator.clone(), size);
            if !targets.contains(&target) {
                targets.push(target);
            }
        }
    }
    targets
}

/// Marks the cliffs both of whose points were re-measured (in `targets`).
pub fn mark_remeasured(cliffs: &mut [Cliff], targets: &[(String, u64)]) {
    for cliff in cliffs {
        let was = |size: u64| {
            targets
                .iter()
                .any(|(a, s)| *a == cliff.allocator && *s == size)
        };
        cliff.remeasured = was(cliff.from_size_bytes) && was(cliff.to_size_bytes);
    }
}

/// Parses `--cliff-drop`: a fraction between 0 and 1 (`0.3`) or a percentage (`30%`).
pub fn parse_cliff_drop(input: &str) -> Result<f64, String> {
    let trimmed = input.trim();
    let fraction = match trimmed.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => trimmed.parse::<f64>(),
    };
    match fraction {
        Ok(fraction) if fraction > 0.0 && fraction < 1.0 => Ok(fraction),
        _ => Err(format!(
            "invalid cliff drop \"{input}\": expected a fraction between 0 and 1 or a percentage, such as 0.3 or 30%"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::median_point;

    /// A synthetic point measured once per entry of `cpu` (µs per request), RPS as if the
    /// server had 1.5 cores: only allocator, size and the repetitions matter to the finder.
    fn point(allocator: &str, size_bytes: u64, cpu: &[f64]) -> SweepPoint {
        let runs: Vec<SweepPoint> = cpu
            .iter()
            .enumerate()
            .map(|(index, cpu)| {
                let mut run =
                    crate::sweep::repeat::tests::run(index as u32 + 1, 1.5e6 / cpu, Some(*cpu), 0);
                run.allocator = allocator.to_string();
                run.size_bytes = size_bytes;
                run
            })
            .collect();
        median_point(&runs).unwrap()
    }

    /// One allocator's curve: sizes 1 MiB, 1.41 MiB, 2 MiB, … (two per doubling).
    fn curve(allocator: &str, cpu: &[&[f64]]) -> Vec<SweepPoint> {
        cpu.iter()
            .enumerate()
            .map(|(index, cpu)| {
                let size = ((1u64 << 20) as f64 * 2f64.powf(index as f64 / 2.0)).round() as u64;
                point(allocator, size, cpu)
            })
            .collect()
    }

    #[test]
    fn a_flat_noisy_curve_has_no_cliff() {
        // ±25 % around 40 µs in every point, as on a shared machine.
        let noisy: [&[f64]; 6] = [
            &[40.0, 50.0, 31.0],
            &[30.0, 41.0, 49.0],
            &[52.0, 38.0, 33.0],
            &[30.0, 31.0, 50.0],
            &[45.0, 29.0, 40.0],
            &[33.0, 51.0, 42.0],
        ];
        assert!(find_cliffs(&curve("system", &noisy), 0.3).is_empty());
    }

    #[test]
    fn a_cost_growing_with_the_size_is_no_cliff_even_with_tight_spreads() {
        // ×1.35 per step of ×1.41 in size, each point within ±1 %: apart, but the size
        // explains it.
        let points: Vec<SweepPoint> = (0..8)
            .map(|step| {
                let cpu = 20.0 * 1.35f64.powi(step);
                let size = ((1u64 << 20) as f64 * 2f64.powf(f64::from(step) / 2.0)) as u64;
                point("jemalloc", size, &[cpu * 0.99, cpu, cpu * 1.01])
            })
            .collect();
        let steps = judge_steps(&points, 0.3);
        assert_eq!(steps.len(), 7);
        assert!(steps.iter().all(|step| step.apart && !step.is_cliff()));
        assert!(find_cliffs(&points, 0.3).is_empty());
    }

    #[test]
    fn a_real_step_is_one_cliff_between_the_two_sizes_around_it() {
        let points = curve(
            "jemalloc",
            &[
                &[100.0, 104.0, 98.0],
                &[140.0, 150.0, 139.0],
                &[420.0, 400.0, 460.0],
                &[590.0, 600.0, 610.0],
            ],
        );
        let cliffs = find_cliffs(&points, 0.3);
        assert_eq!(cliffs.len(), 1, "{cliffs:?}");
        let cliff = &cliffs[0];
        assert_eq!(cliff.allocator, "jemalloc");
        assert_eq!(cliff.from_size_bytes, points[1].size_bytes);
        assert_eq!(cliff.to_size_bytes, points[2].size_bytes);
        assert_eq!(cliff.judged_on, "cpu_us_per_request");
        assert!((cliff.cost_ratio - 420.0 / 140.0).abs() < 1e-9);
        // The size grew ×1.414, times the 30 % threshold as a cost, ×1.429.
        assert!((cliff.required_ratio - 2f64.sqrt() / 0.7).abs() < 1e-5);
        assert_eq!(
            (cliff.from_rps, cliff.to_rps),
            (1.5e6 / 140.0, 1.5e6 / 420.0)
        );
        assert!(!cliff.remeasured);
    }

    #[test]
    fn a_steep_step_whose_spreads_overlap_is_within_noise() {
        // Medians ×3 apart, but one repetition before the step cost as much as after it.
        let points = curve("mimalloc", &[&[100.0, 98.0, 450.0], &[300.0, 310.0, 305.0]]);
        let steps = judge_steps(&points, 0.3);
        assert!(steps[0].cost_ratio > 3.0 && !steps[0].apart);
        assert!(find_cliffs(&points, 0.3).is_empty());
    }

    #[test]
    fn a_remeasurement_takes_back_a_cliff_made_of_noise_and_keeps_a_real_one() {
        let mut noise = curve("system", &[&[100.0, 110.0, 105.0], &[230.0, 240.0, 235.0]]);
        let mut real = curve(
            "jemalloc",
            &[&[100.0, 110.0, 105.0], &[300.0, 290.0, 310.0]],
        );
        let mut both = noise.clone();
        both.append(&mut real.clone());
        let cliffs = find_cliffs(&both, 0.3);
        assert_eq!(cliffs.len(), 2, "both suspected: {cliffs:?}");
        let targets = remeasure_targets(&cliffs);
        assert_eq!(targets.len(), 4);
        // One more repetition each: system's 1 MiB point now meets its neighbour.
        let again = |points: &mut Vec<SweepPoint>, extra: [f64; 2]| {
            for (point, cpu) in points.iter_mut().zip(extra) {
                let mut runs: Vec<SweepPoint> = point
                    .repetitions
                    .iter()
                    .map(|r| {
                        let mut run = crate::sweep::repeat::tests::run(
                            r.round,
                            r.rps,
                            r.cpu_us_per_request,
                            0,
                        );
                        run.allocator = point.allocator.clone();
                        run.size_bytes = point.size_bytes;
                        run
                    })
                    .collect();
                let mut extra = crate::sweep::repeat::tests::run(4, 1.5e6 / cpu, Some(cpu), 0);
                extra.allocator = point.allocator.clone();
                extra.size_bytes = point.size_bytes;
                runs.push(extra);
                *point = median_point(&runs).unwrap();
            }
        };
        again(&mut noise, [250.0, 228.0]);
        again(&mut real, [104.0, 305.0]);
        let mut both = noise;
        both.append(&mut real);
        let mut cliffs = find_cliffs(&both, 0.3);
        mark_remeasured(&mut cliffs, &targets);
        assert_eq!(cliffs.len(), 1, "{cliffs:?}");
        assert_eq!(cliffs[0].allocator, "jemalloc");
        assert!(cliffs[0].remeasured);
        assert_eq!(both[0].repetitions.len(), 4);
    }

    #[test]
    fn allocators_are_judged_independently_and_never_neighbour_each_other() {
        let mut points = curve("system", &[&[50.0], &[52.0], &[200.0]]);
        points.extend(curve("jemalloc", &[&[500.0], &[510.0], &[520.0]]));
        points.sort_by_key(|point| point.size_bytes);
        let found: Vec<(String, u64)> = find_cliffs(&points, 0.3)
            .into_iter()
            .map(|cliff| (cliff.allocator, cliff.to_size_bytes))
            .collect();
        assert_eq!(found, vec![("system".to_string(), 2 << 20)]);
    }

    #[test]
    fn without_cpu_the_cost_is_one_over_rps_with_its_spread() {
        let rps_point = |size: u64, rps: &[f64]| {
            let runs: Vec<SweepPoint> = rps
                .iter()
                .enumerate()
                .map(|(i, rps)| {
                    let mut run = crate::sweep::repeat::tests::run(i as u32 + 1, *rps, None, 0);
                    run.size_bytes = size;
                    run
                })
                .collect();
            median_point(&runs).unwrap()
        };
        let step = [
            rps_point(1 << 20, &[20_000.0, 21_000.0]),
            rps_point(3 << 19, &[8_000.0, 8_500.0]),
        ];
        let cliffs = find_cliffs(&step, 0.3);
        assert_eq!(cliffs.len(), 1);
        assert_eq!(cliffs[0].judged_on, "rps");
        // Falling to nothing is the deepest cliff there is; rising from nothing none.
        let to_zero = [rps_point(1 << 20, &[5_000.0]), rps_point(3 << 19, &[0.0])];
        assert_eq!(find_cliffs(&to_zero, 0.3)[0].drop_fraction, 1.0);
        let from_zero = [rps_point(1 << 20, &[0.0]), rps_point(3 << 19, &[5_000.0])];
        assert!(find_cliffs(&from_zero, 0.3).is_empty());
    }

    #[test]
    fn the_required_rise_is_the_size_step_times_the_threshold() {
        assert!((required_rise(1 << 20, 2 << 20, 0.3) - 2.0 / 0.7).abs() < 1e-12);
        assert!((required_rise(84_975, 84_976, 0.3) - 1.0 / 0.7).abs() < 1e-4);
    }

    #[test]
    fn cliff_drops_parse_as_fractions_or_percentages() {
        assert_eq!(parse_cliff_drop("0.3"), Ok(0.3));
        assert_eq!(parse_cliff_drop("45%"), Ok(0.45));
        for bad in ["0", "1", "130%", "-0.2", "much"] {
            let err = parse_cliff_drop(bad).unwrap_err();
            assert!(err.contains(&format!("\"{bad}\"")), "{err}");
        }
    }
}
