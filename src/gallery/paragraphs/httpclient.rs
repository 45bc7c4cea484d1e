//! httpclient1 vs httpclient2: a new client per request or one shared client. The
//! measured claims: TIME_WAIT sockets at their peak, whether they were still climbing or
//! had levelled off, the share of the ephemeral port range they held, throughput, and
//! failures by kind. A short run and a long one tell the same lesson: a short one ends on
//! the climb, a long one on the plateau, and the paragraph says which it saw.

use crate::format::group_thousands;
use crate::gallery::facts::{Relation, failures, relation, rps, times, trend, unsuccessful};
use crate::report::compare::SavedRun;
use crate::resources::OsLimit;
use crate::verdict::Metric;

/// `… still climbing when the run ended: … it grew (…)` or `… had levelled off: … it stayed
/// flat (…)`, with
/// the share of the port range the peak held when the range was read.
fn climb_or_plateau(fresh: &SavedRun, peak: u64) -> String {
    let time_wait = trend(fresh, Metric::TcpTimeWait);
    let mut text = if time_wait.grew() {
        format!(
            "Its TIME_WAIT count was still climbing when the run ended: over the measured \
             part it {}. ",
            time_wait.describe()
        )
    } else {
        format!(
            "Its TIME_WAIT count had levelled off: over the measured part it {}. ",
            time_wait.describe()
        )
    };
    let ports = fresh
        .summary
        .chart_resources
        .limits
        .iter()
        .find(|limit| limit.limit == OsLimit::EphemeralPorts);
    if let Some(ports) = ports.filter(|p| p.value > 0) {
        text.push_str(&format!(
            "The peak held {:.0} % of the {} ephemeral ports (the dashed line on the resource \
             panel). ",
            100.0 * peak as f64 / ports.value as f64,
            group_thousands(ports.value)
        ));
    }
    text
}

/// The paragraph for the pair; `fresh` is httpclient1, `shared` httpclient2.
pub fn paragraph(fresh: &SavedRun, shared: &SavedRun) -> String {
    let time_wait = |run: &SavedRun| run.summary.resources.tcp_time_wait;
    let (Some(fresh_tw), Some(shared_tw)) = (time_wait(fresh), time_wait(shared)) else {
        return format!(
            "httpclient1 (a new client per request) answered {} RPS; httpclient2 (one shared \
             client) answered {} RPS. TCP states were not measured in these runs (they are read \
             from /proc on Linux only), so the sockets left in TIME_WAIT cannot be shown here. ",
            rps(fresh),
            rps(shared),
        );
    };
    let mut text = format!(
        "httpclient1 (a new client per request) answered {} RPS and left up to {} sockets in \
         TIME_WAIT; httpclient2 (one shared client) answered {} RPS with at most {}. ",
        rps(fresh),
        group_thousands(fresh_tw),
        rps(shared),
        group_thousands(shared_tw),
    );
    text.push_str(&climb_or_plateau(fresh, fresh_tw));
    text.push_str(&match relation(fresh_tw as f64, shared_tw as f64) {
        Relation::More => match times(fresh_tw as f64, shared_tw as f64) {
            Some(ratio) => {
                format!("A client per request left {ratio} as many closed connections behind. ")
            }
            None => "A client per request left closed connections behind; the shared one none. "
                .to_string(),
        },
        _ => "httpclient1 did not leave more sockets in TIME_WAIT than httpclient2, which \
              contradicts the expectation. "
            .to_string(),
    });
    let (fresh_rps, shared_rps) = (fresh.summary.load.rps_mean, shared.summary.load.rps_mean);
    text.push_str(&match relation(shared_rps, fresh_rps) {
        Relation::More => format!(
            "Reusing connections made the shared client {} as fast. ",
            times(shared_rps, fresh_rps).unwrap_or_else(|| "infinitely".to_string())
        ),
        Relation::Same => "Both answered about as fast. ".to_string(),
        Relation::Less => "The shared client was slower, against expectation. ".to_string(),
    });
    text.push_str(&format!(
        "httpclient1 had {}; httpclient2 had {}. ",
        failures(fresh),
        failures(shared)
    ));
    text.push_str(if unsuccessful(fresh) == 0 {
        "In .NET the ephemeral ports run out and requests fail; here none failed, because the \
         kernel reuses loopback ports in TIME_WAIT (tcp_tw_reuse): the cost shows as sockets, \
         not as failures."
    } else {
        "httpclient1's failures are the article's warning: connections opened and closed per \
         request exhaust what the machine can give."
    });
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gallery::paragraphs::fixtures::{saved, series, with_samples};
    use std::collections::BTreeMap;

    fn run(scenario: &str, time_wait: u64, errors: u64) -> SavedRun {
        let built = with_samples(series(scenario, &[], false), |index, s| {
            s.tcp_time_wait = Some(time_wait * index as u64 / 60);
            if errors > 0 && index == 10 {
                s.errors = errors;
                s.errors_by_kind = BTreeMap::from([("connect".to_string(), errors)]);
            }
        });
        saved(built, &[], 1_000)
    }

    #[test]
    fn time_wait_sockets_are_counted_and_compared() {
        let fresh = run("httpclient1", 14_000, 0);
        let shared = run("httpclient2", 40, 0);
        let text = paragraph(&fresh, &shared);
        let (a, b) = (
            fresh.summary.resources.tcp_time_wait,
            shared.summary.resources.tcp_time_wait,
        );
        assert!(
            text.contains(&format!("up to {} sockets", group_thousands(a.unwrap()))),
            "{text}"
        );
        assert!(
            text.contains(&times(a.unwrap() as f64, b.unwrap() as f64).unwrap()),
            "{text}"
        );
        assert!(text.contains("here none failed"), "{text}");
    }

    #[test]
    fn a_short_run_ends_on_the_climb_and_a_long_one_on_the_plateau() {
        let climbing = run("httpclient1", 14_000, 0);
        let shared = run("httpclient2", 40, 0);
        let text = paragraph(&climbing, &shared);
        assert!(
            text.contains("was still climbing when the run ended"),
            "{text}"
        );
        let mut plateau = saved(
            with_samples(series("httpclient1", &[], false), |_, s| {
                s.tcp_time_wait = Some(14_000);
            }),
            &[],
            1_000,
        );
        plateau.summary.chart_resources.limits = vec![crate::resources::ResourceLimit {
            limit: OsLimit::EphemeralPorts,
            value: 28_232,
            label: "ephemeral ports 32768–60999 (ip_local_port_range)".to_string(),
        }];
        let text = paragraph(&plateau, &shared);
        assert!(text.contains("had levelled off"), "{text}");
        assert!(
            text.contains("The peak held 50 % of the 28,232 ephemeral ports"),
            "{text}"
        );
    }

    #[test]
    fn no_more_time_wait_and_failures_flip_the_claims() {
        let fresh = run("httpclient1", 40, 25);
        let shared = run("httpclient2", 40, 0);
        let text = paragraph(&fresh, &shared);
        assert!(
            text.contains("did not leave more sockets in TIME_WAIT"),
            "{text}"
        );
        assert!(text.contains("25 failed requests (connect=25)"), "{text}");
        assert!(!text.contains("here none failed"), "{text}");
    }
}
