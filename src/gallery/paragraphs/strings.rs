//! bigstring vs staticstring: the same 10 KiB string per request, freed at once or kept
//! forever. The measured claims: each live heap's shape and slope, what the list held at
//! the end, peak RSS, and how the two heaps compare.

use super::words::pacing;
use crate::format::format_mb;
use crate::gallery::facts::{
    Relation, failures, peak_rss, relation, rps, times, trend, unsuccessful,
};
use crate::report::compare::SavedRun;
use crate::verdict::Metric;

/// The paragraph for the pair; `transient` is the bigstring run, `leak` staticstring.
pub fn paragraph(transient: &SavedRun, leak: &SavedRun) -> String {
    let transient_heap = trend(transient, Metric::HeapLive);
    let leak_heap = trend(leak, Metric::HeapLive);
    let mut text = format!(
        "bigstring answered {} RPS {}; its live heap {} and its RSS peaked at {}. \
         staticstring answered {} RPS {} and keeps a copy of every string: its live heap {}",
        rps(transient),
        pacing(transient),
        transient_heap.describe(),
        peak_rss(transient),
        rps(leak),
        pacing(leak),
        leak_heap.describe(),
    );
    if let Some(leaked) = &leak.summary.memory.leaked {
        text.push_str(&format!(
            ", the list held {} at the end",
            format_mb(leaked.end_bytes)
        ));
    }
    text.push_str(&format!(", and its RSS peaked at {}. ", peak_rss(leak)));

    let heap_end = |run: &SavedRun| {
        run.summary
            .memory
            .heap_live
            .map(|level| level.end_bytes as f64)
    };
    if let (Some(leak_end), Some(transient_end)) = (heap_end(leak), heap_end(transient)) {
        text.push_str(&match relation(leak_end, transient_end) {
            Relation::More => format!(
                "At the end staticstring's live heap was {} bigstring's ({} vs {}). ",
                times(leak_end, transient_end).unwrap_or_else(|| "larger than".to_string()),
                format_mb(leak_end as u64),
                format_mb(transient_end as u64),
            ),
            Relation::Same => format!(
                "At the end both live heaps were about the same ({} vs {}). ",
                format_mb(leak_end as u64),
                format_mb(transient_end as u64)
            ),
            Relation::Less => format!(
                "At the end staticstring's live heap was smaller than bigstring's ({} vs {}). ",
                format_mb(leak_end as u64),
                format_mb(transient_end as u64)
            ),
        });
    }

    let mut contradictions = Vec::new();
    if !leak_heap.grew() {
        let hint = if unsuccessful(leak) > 0 {
            format!(" ({}: the leak cap may have been reached)", failures(leak))
        } else {
            " (a run too short to tell?)".to_string()
        };
        contradictions.push(format!(
            "staticstring's live heap did not grow, which contradicts the expectation of a leak{hint}"
        ));
    }
    if transient_heap.grew() {
        contradictions.push(
            "bigstring's live heap grew, which contradicts the expectation that a transient \
             string is freed as soon as its response is written"
                .to_string(),
        );
    }
    super::lesson_or_contradictions(
        &mut text,
        "That is the lesson in Rust: a transient string is freed the moment its response \
             is written, so there is no sawtooth waiting for a collector, while memory that is \
             still referenced cannot be reclaimed by anything — the leak grows with the request \
             count in any language.",
        &contradictions,
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gallery::facts::trend;
    use crate::gallery::paragraphs::fixtures::{saved, series};
    use crate::verdict::Shape;

    fn pair(leak_grows: bool) -> (SavedRun, SavedRun) {
        let expect = [(Metric::HeapLive, Shape::Flat)];
        let transient = saved(series("bigstring", &[], false), &expect, 900);
        let leak = saved(
            series("staticstring", &[], leak_grows),
            &[(Metric::HeapLive, Shape::Grows)],
            1_200,
        );
        (transient, leak)
    }

    #[test]
    fn a_leak_that_grows_is_told_with_its_numbers() {
        let (transient, leak) = pair(true);
        let text = paragraph(&transient, &leak);
        let leak_trend = trend(&leak, Metric::HeapLive);
        assert!(leak_trend.grew());
        assert!(
            text.contains(&format!("its live heap {}", leak_trend.describe())),
            "{text}"
        );
        assert!(
            text.contains(&format!("bigstring answered {} RPS", rps(&transient))),
            "{text}"
        );
        assert!(text.contains("stayed flat"), "{text}");
        assert!(text.contains(&peak_rss(&leak)), "{text}");
        let end = |run: &SavedRun| run.summary.memory.heap_live.unwrap().end_bytes as f64;
        let ratio = times(end(&leak), end(&transient)).unwrap();
        assert!(text.contains(&ratio), "{ratio} in {text}");
        assert!(text.contains("That is the lesson in Rust"), "{text}");
        assert!(!text.contains("contradicts"), "{text}");
    }

    #[test]
    fn a_leak_that_did_not_grow_is_called_a_contradiction() {
        let (transient, leak) = pair(false);
        let text = paragraph(&transient, &leak);
        assert!(
            text.contains("staticstring's live heap did not grow, which contradicts"),
            "{text}"
        );
        assert!(text.contains("about the same"), "{text}");
        assert!(!text.contains("That is the lesson"), "{text}");
    }
}
