//! operation-leak vs operation-scoped: a receive operation per request (a socket pair and a
//! buffer) left parked forever, or awaited and dropped with the request. The measured
//! claims: each live heap's and open fds' first and last values and trends, threads first
//! and last, peak RSS, and answers refused at the cap.

use super::words::pacing;
use crate::format::group_thousands;
use crate::gallery::facts::{failures, first_and_last, peak_rss, trend, unsuccessful};
use crate::report::compare::SavedRun;
use crate::verdict::Metric;

/// `from 13 to 1,413`, or `unmeasured`.
fn from_to(run: &SavedRun, metric: Metric) -> String {
    first_and_last(run, metric).map_or_else(
        || "unmeasured".to_string(),
        |(first, last)| {
            format!(
                "from {} to {}",
                group_thousands(first.round() as u64),
                group_thousands(last.round() as u64)
            )
        },
    )
}

/// The paragraph for the pair.
pub fn paragraph(leak: &SavedRun, scoped: &SavedRun) -> String {
    let heap = |run| trend(run, Metric::HeapLive);
    let fds = |run| trend(run, Metric::OpenFds);
    let threads = |run| trend(run, Metric::Threads);
    let mut text = format!(
        "operation-leak, {}, started a receive operation per request and never cancelled it: \
         its live heap {}, open file descriptors went {} and {}, threads went {}, and its \
         RSS peaked at {}. operation-scoped, {}, awaited the same operation inside the request: \
         its live heap {}, open file descriptors went {} and {}, threads went {}, and its \
         RSS peaked at {}. ",
        pacing(leak),
        heap(leak).describe(),
        from_to(leak, Metric::OpenFds),
        fds(leak).describe(),
        from_to(leak, Metric::Threads),
        peak_rss(leak),
        pacing(scoped),
        heap(scoped).describe(),
        from_to(scoped, Metric::OpenFds),
        fds(scoped).describe(),
        from_to(scoped, Metric::Threads),
        peak_rss(scoped),
    );
    if unsuccessful(leak) > 0 {
        text.push_str(&format!(
            "operation-leak had {} (past the server's cap on live operations it answers 507). ",
            failures(leak)
        ));
    }
    let mut contradictions = Vec::new();
    if !heap(leak).grew() || !fds(leak).grew() {
        contradictions.push(
            "operation-leak's heap or descriptors did not grow, which contradicts the \
             expectation that every parked operation keeps its buffer and its sockets",
        );
    }
    if heap(scoped).grew() || fds(scoped).grew() {
        contradictions.push(
            "operation-scoped's heap or descriptors grew, which contradicts the expectation \
             that an operation scoped to its request leaves nothing behind",
        );
    }
    let lesson = if threads(leak).grew() {
        "An operation nobody cancels keeps its buffer and its socket for as long as the \
         process lives; scoping it to the request (the `using` of the .NET fix) and copying \
         the received bytes out leaves nothing behind."
    } else {
        "An operation nobody cancels keeps its buffer and its socket for as long as the \
         process lives; scoping it to the request (the `using` of the .NET fix) and copying \
         the received bytes out leaves nothing behind. Unlike .NET, the thread count did not \
         grow: each parked operation is a tokio task, not a thread."
    };
    super::lesson_or_contradictions(&mut text, lesson, &contradictions);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gallery::paragraphs::fixtures::{saved, series, with_samples};

    fn run(scenario: &str, leaking: bool) -> SavedRun {
        let built = with_samples(series(scenario, &[], leaking), |index, s| {
            s.open_fds = Some(if leaking { 13 + 20 * index as u64 } else { 17 });
            s.threads = Some(5);
        });
        saved(built, &[], 100)
    }

    #[test]
    fn the_leak_grows_in_heap_and_fds_but_not_threads() {
        let text = paragraph(
            &run("operation-leak", true),
            &run("operation-scoped", false),
        );
        assert!(
            text.contains("open file descriptors went from 13 to"),
            "{text}"
        );
        assert!(text.contains("threads went from 5 to 5"), "{text}");
        assert!(text.contains("not a thread"), "{text}");
        assert!(!text.contains("contradicts"), "{text}");
    }

    #[test]
    fn a_flat_leak_and_a_growing_fix_are_both_contradictions() {
        let text = paragraph(
            &run("operation-leak", false),
            &run("operation-scoped", true),
        );
        assert!(
            text.contains("operation-leak's heap or descriptors did not grow"),
            "{text}"
        );
        assert!(
            text.contains("operation-scoped's heap or descriptors grew"),
            "{text}"
        );
        assert!(!text.contains("the `using` of the .NET fix"), "{text}");
    }
}
