//! The cliff finder: where throughput drops by more than a threshold between two
//! neighbouring sizes of one allocator. Pure (points in, cliffs out), so it is tested on
//! synthetic curves: a cliff is a *step*, judged between neighbours only, so a gradual
//! decline of less than the threshold per step is never one, however far it falls in all.

use super::{Cliff, SweepPoint};

/// Floating-point slack when comparing a drop with the threshold.
const DROP_TOLERANCE: f64 = 1e-9;

/// The cliffs in `points`, per allocator (in the order allocators first appear), ascending
/// size within each: every pair of neighbouring sizes of one allocator where
/// `1 − to_rps ÷ from_rps > drop`. Points of different allocators never neighbour each
/// other. A pair whose smaller size measured no throughput (RPS 0 or not a number) has
/// nothing to drop from and is skipped.
pub fn find_cliffs(points: &[SweepPoint], drop: f64) -> Vec<Cliff> {
    let mut allocators: Vec<&str> = Vec::new();
    for point in points {
        if !allocators.contains(&point.allocator.as_str()) {
            allocators.push(&point.allocator);
        }
    }
    let mut cliffs = Vec::new();
    for allocator in allocators {
        let mut curve: Vec<&SweepPoint> = points
            .iter()
            .filter(|point| point.allocator == allocator)
            .collect();
        curve.sort_by_key(|point| point.size_bytes);
        for pair in curve.windows(2) {
            let (from, to) = (pair[0], pair[1]);
            if !(from.rps.is_finite() && from.rps > 0.0 && to.rps.is_finite()) {
                continue;
            }
            let drop_fraction = 1.0 - to.rps / from.rps;
            // A drop of exactly the threshold is not more than it, even when `1 − 7000 ÷
            // 10000` comes out a rounding error above 0.3.
            if drop_fraction > drop + DROP_TOLERANCE {
                cliffs.push(Cliff {
                    allocator: allocator.to_string(),
                    from_size_bytes: from.size_bytes,
                    to_size_bytes: to.size_bytes,
                    from_rps: from.rps,
                    to_rps: to.rps,
                    drop_fraction,
                });
            }
        }
    }
    cliffs
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

    /// A synthetic point: only allocator, size and RPS matter to the finder.
    fn point(allocator: &str, size_bytes: u64, rps: f64) -> SweepPoint {
        SweepPoint {
            allocator: allocator.to_string(),
            size_bytes,
            rps,
            latency_p99_us: None,
            allocs_per_s: None,
            alloc_bytes_per_s: None,
            minor_faults_per_s: 0.0,
            peak_rss_bytes: 0,
            reclaim_events: None,
            errors: 0,
            run_dir: String::new(),
        }
    }

    /// One allocator's curve: sizes 64 KiB, 128 KiB, … with these RPS.
    fn curve(allocator: &str, rps: &[f64]) -> Vec<SweepPoint> {
        rps.iter()
            .enumerate()
            .map(|(index, rps)| point(allocator, (64 << 10) << index, *rps))
            .collect()
    }

    #[test]
    fn a_flat_curve_has_no_cliff() {
        assert!(find_cliffs(&curve("jemalloc", &[20_000.0; 8]), 0.3).is_empty());
    }

    #[test]
    fn noise_within_the_threshold_is_no_cliff() {
        // ±15 % around 20K: the worst neighbour drop is 23K → 17K, 26 %.
        let noisy = [20_000.0, 23_000.0, 17_000.0, 21_000.0, 18_500.0, 22_000.0];
        let worst = 1.0 - 17_000.0 / 23_000.0;
        assert!(worst < 0.3);
        assert!(find_cliffs(&curve("system", &noisy), 0.3).is_empty());
    }

    #[test]
    fn a_step_is_one_cliff_between_the_two_sizes_around_it() {
        let points = curve(
            "jemalloc",
            &[21_300.0, 21_000.0, 21_500.0, 9_800.0, 9_700.0],
        );
        let cliffs = find_cliffs(&points, 0.3);
        assert_eq!(cliffs.len(), 1, "{cliffs:?}");
        let cliff = &cliffs[0];
        assert_eq!(cliff.allocator, "jemalloc");
        assert_eq!(cliff.from_size_bytes, points[2].size_bytes);
        assert_eq!(cliff.to_size_bytes, points[3].size_bytes);
        assert_eq!((cliff.from_rps, cliff.to_rps), (21_500.0, 9_800.0));
        assert!((cliff.drop_fraction - (1.0 - 9_800.0 / 21_500.0)).abs() < 1e-12);
    }

    #[test]
    fn a_gradual_decline_below_the_threshold_per_step_is_no_cliff() {
        // 25 % less at every step: below a tenth after 9 steps, but never a cliff.
        let declining: Vec<f64> = (0..10).map(|step| 40_000.0 * 0.75f64.powi(step)).collect();
        assert!(declining[9] < declining[0] / 10.0);
        assert!(find_cliffs(&curve("mimalloc", &declining), 0.3).is_empty());
        // The same curve is all cliffs under a 20 % threshold.
        assert_eq!(find_cliffs(&curve("mimalloc", &declining), 0.2).len(), 9);
    }

    #[test]
    fn allocators_are_judged_independently_and_never_neighbour_each_other() {
        let mut points = curve("system", &[30_000.0, 29_000.0, 10_000.0, 9_900.0]);
        points.extend(curve("jemalloc", &[12_000.0, 12_100.0, 12_050.0, 4_000.0]));
        points.extend(curve("mimalloc", &[25_000.0; 4]));
        // Interleave by size, as a sweep measures them, to show order does not matter.
        points.sort_by_key(|point| point.size_bytes);
        let cliffs = find_cliffs(&points, 0.3);
        let found: Vec<(&str, u64)> = cliffs
            .iter()
            .map(|cliff| (cliff.allocator.as_str(), cliff.to_size_bytes))
            .collect();
        // system's last 64 KiB point (30K) is followed by jemalloc's (12K) in the list:
        // a 60 % "drop" that is no cliff because they are different allocators.
        assert_eq!(found, vec![("system", 256 << 10), ("jemalloc", 512 << 10)]);
    }

    #[test]
    fn exactly_the_threshold_is_not_more_than_it() {
        assert!(find_cliffs(&curve("system", &[10_000.0, 7_000.0]), 0.3).is_empty());
        assert_eq!(
            find_cliffs(&curve("system", &[10_000.0, 6_999.0]), 0.3).len(),
            1
        );
    }

    #[test]
    fn a_rise_and_a_point_without_throughput_are_no_cliff_from_nothing() {
        let points = curve("system", &[0.0, 5_000.0, 20_000.0, f64::NAN, 20_000.0]);
        assert!(find_cliffs(&points, 0.3).is_empty());
        // Falling to zero is the deepest cliff there is.
        let cliffs = find_cliffs(&curve("system", &[5_000.0, 0.0]), 0.3);
        assert_eq!(cliffs.len(), 1);
        assert_eq!(cliffs[0].drop_fraction, 1.0);
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
