//! cache-unbounded vs cache-expiring: the same entry per request, kept forever or for
//! the server's --cache-ttl. The measured claims: each live heap's shape and slope, what
//! the cache held at the end, peak RSS, answers refused at the leak cap.

use super::words::pacing;
use crate::format::format_mb;
use crate::gallery::facts::{Relation, failures, peak_rss, relation, times, trend, unsuccessful};
use crate::report::compare::SavedRun;
use crate::verdict::Metric;

/// The paragraph for the pair.
pub fn paragraph(unbounded: &SavedRun, expiring: &SavedRun) -> String {
    let unbounded_heap = trend(unbounded, Metric::HeapLive);
    let expiring_heap = trend(expiring, Metric::HeapLive);
    let held = |run: &SavedRun| {
        run.summary.memory.leaked.map_or_else(String::new, |level| {
            format!(", the cache held {} at the end", format_mb(level.end_bytes))
        })
    };
    let mut text = format!(
        "cache-unbounded, {}, kept every entry: its live heap {}{}, and its RSS peaked at {}. \
         cache-expiring, {}, drops each entry after the server's TTL: its live heap {}{}, and \
         its RSS peaked at {}. ",
        pacing(unbounded),
        unbounded_heap.describe(),
        held(unbounded),
        peak_rss(unbounded),
        pacing(expiring),
        expiring_heap.describe(),
        held(expiring),
        peak_rss(expiring),
    );
    let slope = |t: &crate::gallery::facts::Trend| t.slope_per_min.unwrap_or(0.0).max(0.0);
    let (unbounded_slope, expiring_slope) = (slope(&unbounded_heap), slope(&expiring_heap));
    if relation(unbounded_slope, expiring_slope) == Relation::More
        && let Some(ratio) = times(unbounded_slope, expiring_slope)
    {
        text.push_str(&format!("Without expiry the heap grew {ratio} as fast. "));
    }
    if unsuccessful(unbounded) > 0 {
        text.push_str(&format!(
            "cache-unbounded had {} (past the server's leak cap it answers 507). ",
            failures(unbounded)
        ));
    }
    let mut contradictions = Vec::new();
    if !unbounded_heap.grew() {
        contradictions.push(
            "cache-unbounded's heap did not grow, which contradicts the expectation of a leak",
        );
    }
    if expiring_heap.grew() {
        contradictions.push("cache-expiring's heap grew, which contradicts the expectation that expiry levels it off");
    }
    super::lesson_or_contradictions(
        &mut text,
        "Rust frees nothing that is still referenced, exactly like .NET: a cache without an \
             expiry or a size limit is a leak with a respectable name, and an absolute expiry \
             bounds it at about one TTL of requests.",
        &contradictions,
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gallery::paragraphs::fixtures::{saved, series};
    use crate::verdict::Shape;

    #[test]
    fn the_unbounded_cache_grows_and_the_expiring_one_does_not() {
        let unbounded = saved(
            series("cache-unbounded", &[], true),
            &[(Metric::HeapLive, Shape::Grows)],
            900,
        );
        let expiring = saved(
            series("cache-expiring", &[], false),
            &[(Metric::HeapLive, Shape::Flat)],
            900,
        );
        let text = paragraph(&unbounded, &expiring);
        let grown = trend(&unbounded, Metric::HeapLive);
        assert!(
            text.contains(&format!("its live heap {}", grown.describe())),
            "{text}"
        );
        assert!(text.contains("stayed flat"), "{text}");
        assert!(text.contains("a leak with a respectable name"), "{text}");
    }

    #[test]
    fn swapped_shapes_are_both_contradictions() {
        let unbounded = saved(series("cache-unbounded", &[], false), &[], 900);
        let expiring = saved(series("cache-expiring", &[], true), &[], 900);
        let text = paragraph(&unbounded, &expiring);
        assert!(
            text.contains("cache-unbounded's heap did not grow, which contradicts"),
            "{text}"
        );
        assert!(
            text.contains("cache-expiring's heap grew, which contradicts"),
            "{text}"
        );
        assert!(!text.contains("grew 15"), "{text}");
    }
}
