//! Statistics over series, shared by the summary's trend and the verdicts: is memory
//! growing, and how fast? Pure functions over `(x, y)` points or sequences; a leaf that
//! imports nothing from the crate.
//!
//! * [`theil_sen`] — the slope estimator (below).
//! * [`mann_kendall_z`] — the rank test that says an ordering is not chance.
//! * [`median`] and [`quartiles`] (the spread of a value over intervals).
//!
//! The slope estimator is Theil–Sen: the slope is the median of the slopes between every pair of
//! points. A memory series is full of things a least-squares fit takes as signal — the
//! sawtooth of a cache filling and being purged, a one-off spike when a large buffer is
//! allocated, a sample taken during a reclaim — and Theil–Sen ignores up to ~29 % of wild
//! points. It needs no tuning and is deterministic.
//!
//! Cost is quadratic in the number of points, so long series are thinned to
//! [`MAX_TREND_POINTS`] evenly spaced points first (deterministic; the slope of a long run is
//! not sensitive to which of its many samples are kept).

/// Above this many points, series are thinned to this many evenly spaced points
/// (≈ 1.1 million pair slopes, well under a second).
pub const MAX_TREND_POINTS: usize = 1_500;

/// A straight line fitted to a series: `y = intercept + slope * x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    /// Units of y per unit of x.
    pub slope: f64,
    /// y at x = 0.
    pub intercept: f64,
    /// Median absolute distance of the points from the line, in units of y: how noisy the
    /// series is around its trend (0 for a perfect line).
    pub median_abs_residual: f64,
    /// Points the fit used (after dropping non-finite ones, before thinning).
    pub points: usize,
}

/// Fits a Theil–Sen line. `None` when fewer than two finite points have distinct x.
pub fn theil_sen(points: &[(f64, f64)]) -> Option<Trend> {
    let finite: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let used = thin(&finite, MAX_TREND_POINTS);
    let mut slopes = Vec::with_capacity(used.len() * used.len().saturating_sub(1) / 2);
    for (i, &(x1, y1)) in used.iter().enumerate() {
        for &(x2, y2) in &used[i + 1..] {
            // Pairs at the same x say nothing about a slope.
            if x2 != x1 {
                slopes.push((y2 - y1) / (x2 - x1));
            }
        }
    }
    let slope = median(&mut slopes)?;
    let mut offsets: Vec<f64> = used.iter().map(|(x, y)| y - slope * x).collect();
    let intercept = median(&mut offsets)?;
    let mut residuals: Vec<f64> = used
        .iter()
        .map(|(x, y)| (y - (intercept + slope * x)).abs())
        .collect();
    let median_abs_residual = median(&mut residuals)?;
    Some(Trend {
        slope,
        intercept,
        median_abs_residual,
        points: finite.len(),
    })
}

/// The median of the values (mean of the two middle ones for an even count); `None` when
/// empty. Reorders the slice.
pub fn median(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (_, upper, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        return Some(upper);
    }
    // The lower middle is the largest value left of n/2 after the partition.
    let lower = values[..n / 2]
        .iter()
        .copied()
        .max_by(f64::total_cmp)
        .unwrap_or(upper);
    Some((lower + upper) / 2.0)
}

/// The first quartile, median and third quartile of the finite values (linear
/// interpolation between order statistics, as numpy's default); `None` when there are none.
/// The interquartile range `q3 - q1` is the spread half of the values fall in.
pub fn quartiles(values: &[f64]) -> Option<(f64, f64, f64)> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let position = q * (sorted.len() - 1) as f64;
        let (low, high) = (position.floor() as usize, position.ceil() as usize);
        sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
    };
    Some((at(0.25), at(0.5), at(0.75)))
}

/// Keeps at most `limit` points, evenly spaced by index, always including the first and last.
fn thin(points: &[(f64, f64)], limit: usize) -> Vec<(f64, f64)> {
    if points.len() <= limit || limit < 2 {
        return points.to_vec();
    }
    let last = points.len() - 1;
    (0..limit).map(|k| points[k * last / (limit - 1)]).collect()
}

/// The Mann–Kendall z of a sequence taken in order (0 for fewer than 3 values). Variance
/// corrected for ties, continuity-corrected S.
pub fn mann_kendall_z(values: impl Iterator<Item = f64>) -> f64 {
    let values: Vec<f64> = values.filter(|v| v.is_finite()).collect();
    let n = values.len();
    if n < 3 {
        return 0.0;
    }
    let mut s: i64 = 0;
    for i in 0..n {
        for j in i + 1..n {
            s += match values[j].total_cmp(&values[i]) {
                std::cmp::Ordering::Greater => 1,
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
            };
        }
    }
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    let mut tie_term = 0.0;
    let mut run = 1usize;
    for i in 1..=n {
        if i < n && sorted[i] == sorted[i - 1] {
            run += 1;
        } else {
            let t = run as f64;
            tie_term += t * (t - 1.0) * (2.0 * t + 5.0);
            run = 1;
        }
    }
    let nf = n as f64;
    let variance = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - tie_term) / 18.0;
    if variance <= 0.0 {
        return 0.0;
    }
    let s = s as f64;
    let corrected = if s > 0.0 {
        s - 1.0
    } else if s < 0.0 {
        s + 1.0
    } else {
        0.0
    };
    corrected / variance.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random sequence in [-1, 1) (xorshift), so noisy tests are
    /// repeatable without a seed file.
    fn noise(count: usize, mut state: u64) -> Vec<f64> {
        (0..count)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn flat_series_has_zero_slope() {
        let points: Vec<(f64, f64)> = (0..60).map(|i| (i as f64, 120.0)).collect();
        let trend = theil_sen(&points).unwrap();
        assert_eq!(trend.slope, 0.0);
        assert_eq!(trend.intercept, 120.0);
        assert_eq!(trend.median_abs_residual, 0.0);
    }

    #[test]
    fn linear_growth_recovers_its_slope_and_intercept() {
        let (slope, intercept) = (2.5, 10.0);
        let points: Vec<(f64, f64)> = (0..100)
            .map(|i| {
                let x = i as f64 * 0.5;
                (x, intercept + slope * x)
            })
            .collect();
        let trend = theil_sen(&points).unwrap();
        assert!((trend.slope - slope).abs() < 1e-9, "{trend:?}");
        assert!((trend.intercept - intercept).abs() < 1e-9, "{trend:?}");
    }

    #[test]
    fn noisy_flat_series_has_a_slope_small_against_its_noise() {
        let amplitude = 20.0;
        let points: Vec<(f64, f64)> = noise(300, 0x9e37_79b9_7f4a_7c15)
            .into_iter()
            .enumerate()
            .map(|(i, n)| (i as f64, 500.0 + amplitude * n))
            .collect();
        let trend = theil_sen(&points).unwrap();
        // Over the whole span the fitted change must stay well inside the noise band.
        let change_over_span = trend.slope.abs() * 299.0;
        assert!(change_over_span < amplitude / 2.0, "{trend:?}");
        assert!(trend.median_abs_residual > 0.0 && trend.median_abs_residual < amplitude);
    }

    #[test]
    fn sawtooth_around_a_flat_level_has_near_zero_slope() {
        // A cache that fills 10 per step and is purged every 10 steps, for 20 periods.
        let period = 10;
        let points: Vec<(f64, f64)> = (0..200)
            .map(|i| (i as f64, 50.0 + 10.0 * (i % period) as f64))
            .collect();
        let trend = theil_sen(&points).unwrap();
        let tooth_height = 10.0 * (period - 1) as f64;
        assert!(
            trend.slope.abs() * 199.0 < tooth_height,
            "a sawtooth is not growth: {trend:?}"
        );
    }

    #[test]
    fn sawtooth_on_top_of_growth_keeps_the_growth() {
        let growth = 3.0;
        let points: Vec<(f64, f64)> = (0..200)
            .map(|i| (i as f64, growth * i as f64 + 40.0 * (i % 8) as f64))
            .collect();
        let trend = theil_sen(&points).unwrap();
        assert!((trend.slope - growth).abs() < growth * 0.1, "{trend:?}");
    }

    #[test]
    fn a_few_outliers_do_not_move_the_slope() {
        let slope = 1.5;
        let mut points: Vec<(f64, f64)> = (0..100).map(|i| (i as f64, slope * i as f64)).collect();
        // Five wild spikes late in the run (large buffers caught mid-request) and one dip.
        for index in [80, 85, 90, 93, 99] {
            points[index].1 += 10_000.0;
        }
        points[95].1 = 0.0;
        let trend = theil_sen(&points).unwrap();
        assert!((trend.slope - slope).abs() < 1e-9, "{trend:?}");
        // Least squares, by contrast, is pulled far off by the same points.
        let n = points.len() as f64;
        let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
        let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
        let covariance: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
        let variance: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
        assert!((covariance / variance - slope).abs() > 1.0);
    }

    #[test]
    fn too_few_points_or_one_x_give_no_trend() {
        assert_eq!(theil_sen(&[]), None);
        assert_eq!(theil_sen(&[(1.0, 2.0)]), None);
        assert_eq!(theil_sen(&[(1.0, 2.0), (1.0, 5.0)]), None);
        assert_eq!(theil_sen(&[(0.0, f64::NAN), (1.0, 5.0)]), None);
    }

    #[test]
    fn long_series_are_thinned_but_keep_their_slope() {
        let count = MAX_TREND_POINTS * 3 + 7;
        let points: Vec<(f64, f64)> = (0..count).map(|i| (i as f64, 4.0 * i as f64)).collect();
        let trend = theil_sen(&points).unwrap();
        assert_eq!(trend.points, count);
        assert!((trend.slope - 4.0).abs() < 1e-9);
        let thinned = thin(&points, MAX_TREND_POINTS);
        assert_eq!(thinned.len(), MAX_TREND_POINTS);
        assert_eq!(thinned.first(), points.first());
        assert_eq!(thinned.last(), points.last());
    }

    #[test]
    fn quartiles_interpolate_and_skip_non_finite_values() {
        assert_eq!(quartiles(&[]), None);
        assert_eq!(quartiles(&[f64::NAN]), None);
        assert_eq!(quartiles(&[7.0]), Some((7.0, 7.0, 7.0)));
        assert_eq!(
            quartiles(&[5.0, 1.0, 4.0, 2.0, 3.0, f64::INFINITY]),
            Some((2.0, 3.0, 4.0))
        );
        assert_eq!(quartiles(&[1.0, 2.0, 3.0, 4.0]), Some((1.75, 2.5, 3.25)));
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }
}
