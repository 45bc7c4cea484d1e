//! loh at two sizes: the article's 84,975 vs 84,976 bytes, where a .NET `byte[]` (24
//! bytes of header) crosses the 85,000-byte large-object threshold. The measured claims:
//! RPS and p99 at each size, live heap shapes, peak RSS, whether the runs differ beyond
//! run-to-run noise, and the modelled .NET GC's gen2 collections per second at each size.

use crate::format::group_thousands;
use crate::gallery::facts::{
    Relation, SAME_FRACTION, cpu_per_request_relation, cpu_per_request_sentence, p99, peak_rss,
    percent_change, relation, rps, size_param, times, trend,
};
use crate::report::compare::SavedRun;
use crate::series::Phase;
use crate::verdict::Metric;

/// The smallest `byte[]` length that lands on .NET's large object heap: with 24 bytes of
/// array header it reaches the 85,000-byte threshold.
pub const DOTNET_LOH_ARRAY_BYTES: u64 = 84_976;

/// Peak RSS differing by no more than this is the same, whatever the fraction: a few MB
/// is what a short run's allocator caches vary by.
const SAME_RSS_BYTES: f64 = 5_000_000.0;

/// Half the interquartile range of a run's per-interval RPS under load, as a fraction of
/// its median: how much throughput swings within the run by itself. `None` with fewer than
/// four intervals or a median of zero.
pub fn rps_swing(run: &SavedRun) -> Option<f64> {
    let mut rps: Vec<f64> = run
        .series
        .samples
        .iter()
        .filter(|s| s.phase == Some(Phase::Load))
        .filter_map(|s| s.rps)
        .collect();
    if rps.len() < 4 {
        return None;
    }
    rps.sort_by(f64::total_cmp);
    let quantile = |q: f64| rps[((rps.len() - 1) as f64 * q).round() as usize];
    let median = quantile(0.5);
    (median > 0.0).then(|| (quantile(0.75) - quantile(0.25)) / 2.0 / median)
}

/// The paragraph for two loh runs, in either order.
pub fn paragraph(a: &SavedRun, b: &SavedRun) -> String {
    let (small, large) = if size_param(a) <= size_param(b) {
        (a, b)
    } else {
        (b, a)
    };
    let size = |run: &SavedRun| {
        size_param(run).map_or_else(
            || "its size".to_string(),
            |s| format!("{} bytes", group_thousands(s)),
        )
    };
    let rps_change = percent_change(small.summary.load.rps_mean, large.summary.load.rps_mean)
        .unwrap_or_else(|| "an undefined change".to_string());
    let small_heap = trend(small, Metric::HeapLive);
    let large_heap = trend(large, Metric::HeapLive);
    let mut text = format!(
        "At {} the server answered {} RPS ({}); at {}, {} RPS ({}), a change of {}. \
         The live heap {} at the smaller size and {} at the larger; peak RSS was {} vs {}. ",
        size(small),
        rps(small),
        p99(small),
        size(large),
        rps(large),
        p99(large),
        rps_change,
        small_heap.describe(),
        large_heap.describe(),
        peak_rss(small),
        peak_rss(large),
    );

    let straddles = size_param(small).is_some_and(|s| s < DOTNET_LOH_ARRAY_BYTES)
        && size_param(large).is_some_and(|s| s >= DOTNET_LOH_ARRAY_BYTES);
    // Throughput on a shared machine swings by tens of percent from one interval to the
    // next; a difference between the means smaller than those swings tells nothing.
    let (small_rps, large_rps) = (small.summary.load.rps_mean, large.summary.load.rps_mean);
    let swing = rps_swing(small)
        .into_iter()
        .chain(rps_swing(large))
        .fold(0.0, f64::max);
    let tolerance = SAME_FRACTION.max(swing);
    let larger_rps = small_rps.max(large_rps);
    let same_rps = larger_rps <= 0.0 || (small_rps - large_rps).abs() <= tolerance * larger_rps;
    let swing_percent = (swing * 100.0).round();
    let (small_rss, large_rss) = (
        small.summary.memory.rss.peak_bytes as f64,
        large.summary.memory.rss.peak_bytes as f64,
    );
    let same_rss = relation(small_rss, large_rss) == Relation::Same
        || (small_rss - large_rss).abs() <= SAME_RSS_BYTES;
    let same_heap = small_heap.shape == large_heap.shape;
    // CPU time per request is the same unless the two runs' interquartile ranges are apart.
    let same_cpu = cpu_per_request_relation(small, large).is_none_or(|r| r == Relation::Same);
    let percent = (SAME_FRACTION * 100.0).round();
    let boundary = if straddles {
        "at the 85,000-byte boundary"
    } else {
        "between these sizes"
    };
    let within = if relation(small_rps, large_rps) == Relation::Same {
        format!("within {percent} %")
    } else {
        format!(
            "less than each run's own swings (half the interquartile range of its per-interval \
             RPS is up to ±{swing_percent} % of the median)"
        )
    };
    if let Some(sentence) = cpu_per_request_sentence(small, "the smaller size", large, "the larger")
    {
        text.push_str(&sentence);
        text.push(' ');
    }
    if same_rps && same_rss && same_heap && same_cpu {
        text.push_str(&format!(
            "Nothing changes {boundary} in Rust: throughput differs by {rps_change}, {within}; \
             the heap has the same shape and RSS the same level. No Rust allocator treats \
             84,976 bytes differently from 84,975; its real cliffs are where freed memory goes \
             back to the OS (see the sweep). "
        ));
    } else {
        let mut differences = Vec::new();
        if !same_rps {
            differences.push(format!(
                "RPS by {rps_change}, more than {percent} % and more than each run's own swings \
                 (±{swing_percent} %)"
            ));
        }
        if !same_rss {
            differences.push("in peak RSS".to_string());
        }
        if !same_heap {
            differences.push("in the shape of the live heap".to_string());
        }
        if !same_cpu {
            differences.push("in CPU time per request, beyond both runs' spread".to_string());
        }
        text.push_str(&format!(
            "The two runs differ {boundary}: {}. ",
            differences.join("; ")
        ));
        if straddles {
            text.push_str(
                "No Rust allocator has a boundary at 85,000 bytes, so this is not the .NET \
                 large object heap: rerun with a longer --duration, or on a quieter machine, \
                 before reading anything into it. ",
            );
        }
    }

    match (&small.summary.modelled_gc, &large.summary.modelled_gc) {
        (Some(small_gc), Some(large_gc)) => {
            let comparison = match relation(large_gc.gen2_per_s, small_gc.gen2_per_s) {
                Relation::More => times(large_gc.gen2_per_s, small_gc.gen2_per_s).map_or_else(
                    || "where the smaller size made none".to_string(),
                    |t| format!("{t} as many"),
                ),
                Relation::Same => "about as many".to_string(),
                Relation::Less => "fewer".to_string(),
            };
            text.push_str(&format!(
                "The modelled .NET GC ({}) made {:.2} gen2 collections per second at {} and {:.2} \
                 at {}: {comparison}. ",
                large_gc.preset,
                large_gc.gen2_per_s,
                size(large),
                small_gc.gen2_per_s,
                size(small),
            ));
            let model_shows_loh =
                relation(large_gc.gen2_per_s, small_gc.gen2_per_s) == Relation::More;
            text.push_str(match (straddles, model_shows_loh) {
                (true, true) => {
                    "That is the article's LOH effect — a model of .NET, not a measurement of Rust."
                }
                (true, false) => {
                    "The model does not show the article's LOH effect here, against the \
                     article (too few requests for a gen2 budget to fill?); it is a model, not a \
                     measurement."
                }
                (false, _) => "It is a model of .NET, not a measurement of Rust.",
            });
        }
        _ => text.push_str(
            "The modelled .NET GC lens was off for these runs (--gc-model none), so the page \
             cannot show where .NET would have collected.",
        ),
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gallery::paragraphs::fixtures::{saved, series, with_samples};
    use crate::report::summary::ModelledGcSummary;
    use crate::verdict::Shape;

    fn loh(size: &str, rps_scale: f64, gen2_per_s: f64) -> SavedRun {
        let scaled = with_samples(series("loh", &[("size", size)], false), |_, sample| {
            sample.rps = sample.rps.map(|rps| rps * rps_scale);
            sample.requests = (sample.requests as f64 * rps_scale) as u64;
        });
        let mut run = saved(scaled, &[(Metric::HeapLive, Shape::Flat)], 2_000);
        run.summary.modelled_gc = Some(ModelledGcSummary {
            label: crate::report::MODELLED_LABEL.into(),
            preset: "server".into(),
            gen2_per_s,
            ..ModelledGcSummary::default()
        });
        run
    }

    #[test]
    fn the_same_throughput_on_both_sides_says_nothing_changes_and_quotes_the_model() {
        let below = loh("84975", 1.0, 0.5);
        let above = loh("84976", 1.0, 6.0);
        // Given in either order, the smaller size is told first.
        let text = paragraph(&above, &below);
        assert!(
            text.starts_with(&format!(
                "At 84,975 bytes the server answered {} RPS",
                rps(&below)
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!("at 84,976 bytes, {} RPS", rps(&above))),
            "{text}"
        );
        assert!(
            text.contains("Nothing changes at the 85,000-byte boundary"),
            "{text}"
        );
        assert!(
            text.contains("6.00 gen2 collections per second at 84,976 bytes and 0.50"),
            "{text}"
        );
        assert!(text.contains("12 times as many"), "{text}");
        assert!(text.contains("the article's LOH effect"), "{text}");
    }

    #[test]
    fn a_gap_smaller_than_each_runs_own_swings_is_not_an_effect() {
        // Intervals alternate between half and one and a half times the mean: a ±50 % swing.
        let swinging = |size: &str, scale: f64| {
            let built = with_samples(series("loh", &[("size", size)], false), |index, s| {
                let factor = if index % 2 == 0 { 0.5 } else { 1.5 } * scale;
                s.rps = s.rps.map(|rps| rps * factor);
                s.requests = (s.requests as f64 * factor) as u64;
            });
            saved(built, &[(Metric::HeapLive, Shape::Flat)], 2_000)
        };
        let below = swinging("84975", 1.0);
        let above = swinging("84976", 0.75);
        let swing = rps_swing(&below).unwrap();
        assert!(swing > 0.3, "{swing}");
        let text = paragraph(&below, &above);
        let change =
            percent_change(below.summary.load.rps_mean, above.summary.load.rps_mean).unwrap();
        assert!(
            text.contains(&format!(
                "throughput differs by {change}, less than each run's own swings"
            )),
            "{text}"
        );
        assert!(
            text.contains("Nothing changes at the 85,000-byte boundary"),
            "{text}"
        );
    }

    #[test]
    fn a_throughput_gap_and_a_model_without_effect_are_both_said() {
        let below = loh("84975", 1.0, 2.0);
        let above = loh("84976", 0.5, 2.0);
        let text = paragraph(&below, &above);
        assert!(!text.contains("Nothing changes"), "{text}");
        assert!(text.contains("more than each run's own swings"), "{text}");
        let change =
            percent_change(below.summary.load.rps_mean, above.summary.load.rps_mean).unwrap();
        assert!(text.contains(&format!("RPS by {change}")), "{text}");
        assert!(text.contains("about as many"), "{text}");
        assert!(
            text.contains("does not show the article's LOH effect"),
            "{text}"
        );
    }
}
