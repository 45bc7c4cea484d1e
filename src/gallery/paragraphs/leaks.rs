//! The single-run leaks: fileprovider (a directory watcher per request, never released)
//! and clientleak (a client connection per request, never closed). The measured claims:
//! open fds, threads and established sockets from the first sample to the last, their
//! trends, the live heap's shape, and the requests refused at a limit.

use super::words::pacing;
use crate::format::group_thousands;
use crate::gallery::facts::{failures, first_and_last, trend, unsuccessful};
use crate::report::compare::SavedRun;
use crate::verdict::Metric;

/// `from 12 to 140 (peak 150); it grew (+480 fds/min)`: a count through the run with its
/// peak, when given, and its trend.
fn count_through(run: &SavedRun, metric: Metric, peak: Option<u64>) -> String {
    let range = first_and_last(run, metric).map_or_else(
        || "unmeasured".to_string(),
        |(first, last)| {
            format!(
                "from {} to {}",
                group_thousands(first.round() as u64),
                group_thousands(last.round() as u64)
            )
        },
    );
    let peak = peak.map_or_else(String::new, |p| format!(" (peak {})", group_thousands(p)));
    format!("{range}{peak}; it {}", trend(run, metric).describe())
}

/// fileprovider: watchers are native (inotify instances), outside the counted heap.
pub fn fileprovider(run: &SavedRun) -> String {
    let fds = trend(run, Metric::OpenFds);
    let heap = trend(run, Metric::HeapLive);
    let mut text = format!(
        "fileprovider opened a directory watcher per request, {}. Open file descriptors went {}; \
         threads went {}. ",
        pacing(run),
        count_through(run, Metric::OpenFds, None),
        count_through(run, Metric::Threads, None),
    );
    text.push_str(&if run.summary.totals.status_5xx > 0 {
        format!(
            "The OS ran out of inotify instances (fs.inotify.max_user_instances) and refused \
             the rest: {}. ",
            failures(run)
        )
    } else if unsuccessful(run) > 0 {
        format!("The run had {}. ", failures(run))
    } else {
        "No request was refused: the run stayed under the OS limit on inotify instances. "
            .to_string()
    });
    text.push_str(&format!("The live heap {}", heap.describe()));
    text.push_str(if heap.grew() {
        ": the watchers' bookkeeping shows in the heap too, but the scarce resource is the \
         descriptors. "
    } else {
        ": the cost is native, outside the heap the allocator counts — a heap chart alone \
         would miss this leak. "
    });
    if !fds.grew() {
        text.push_str(
            "Open descriptors did not grow, which contradicts the expectation of a leak \
             (was the OS limit reached before the load started?).",
        );
    } else {
        text.push_str(
            "As in .NET, where PhysicalFileProvider.Watch per request leaks the same way, the \
             fix is one watcher for the process, released when done.",
        );
    }
    text
}

/// clientleak: every leaked client keeps a socket, a descriptor, a task and buffers.
pub fn clientleak(run: &SavedRun) -> String {
    let established = trend(run, Metric::TcpEstablished);
    let fds = trend(run, Metric::OpenFds);
    let heap = trend(run, Metric::HeapLive);
    let mut text = format!(
        "clientleak created a client connection per request and never closed it, {}. \
         Established TCP connections went {}; open file descriptors went {}; the live heap {}. ",
        pacing(run),
        count_through(
            run,
            Metric::TcpEstablished,
            run.summary.resources.tcp_established
        ),
        count_through(run, Metric::OpenFds, run.summary.resources.open_fds),
        heap.describe(),
    );
    if unsuccessful(run) > 0 {
        text.push_str(&format!(
            "The run had {} (past the server's cap on open clients it answers 507). ",
            failures(run)
        ));
    }
    let missing: Vec<&str> = [
        (&established, "established connections"),
        (&fds, "open descriptors"),
        (&heap, "the live heap"),
    ]
    .iter()
    .filter(|(t, _)| !t.grew())
    .map(|(_, name)| *name)
    .collect();
    if missing.is_empty() {
        text.push_str(
            "Sockets, descriptors and heap all grow together: a client that is never closed \
             leaks in Rust exactly as in Go or .NET, because its connection task keeps it alive.",
        );
    } else {
        text.push_str(&format!(
            "{} did not grow, which contradicts the expectation that every leaked client \
             keeps a socket, a descriptor and buffers alive.",
            capitalise(&missing.join(", "))
        ));
    }
    text
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gallery::paragraphs::fixtures::{saved, series, with_samples};

    #[test]
    fn fileprovider_quotes_descriptors_and_refusals() {
        let built = with_samples(series("fileprovider", &[], false), |index, s| {
            s.open_fds = Some(10 + 2 * index as u64);
            s.threads = Some(5);
            if index > 50 {
                s.status_5xx = 3;
            }
        });
        let run = saved(
            built,
            &[(Metric::OpenFds, crate::verdict::Shape::Grows)],
            1_000,
        );
        let text = fileprovider(&run);
        let last = run.series.samples.last().unwrap().open_fds.unwrap();
        assert!(
            text.contains(&format!("from 10 to {last}; it grew")),
            "{text}"
        );
        assert!(
            text.contains("threads went from 5 to 5; it stayed flat"),
            "{text}"
        );
        let refused = run.summary.totals.status_5xx;
        assert!(text.contains(&format!("{refused} 5xx answers")), "{text}");
        assert!(text.contains("the cost is native"), "{text}");
        assert!(!text.contains("contradicts"), "{text}");
    }

    #[test]
    fn clientleak_without_growth_says_what_did_not_grow() {
        let built = with_samples(series("clientleak", &[], true), |_, s| {
            s.tcp_established = Some(4);
            s.open_fds = Some(20);
        });
        let run = saved(built, &[], 1_000);
        let text = clientleak(&run);
        assert!(
            text.contains(
                "Established connections, open descriptors did not grow, which contradicts"
            ),
            "{text}"
        );
        assert!(text.contains("(peak 4)"), "{text}");
    }
}
