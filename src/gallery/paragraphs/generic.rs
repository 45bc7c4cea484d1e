//! Any other run or comparison: what every run has (throughput, latency, heap shape, peak
//! RSS, failures, how many expectations matched), and for several runs which was fastest.

use crate::format::format_params;
use crate::gallery::facts::{
    Relation, cpu_per_request, cpu_per_request_sentence, failures, p99, peak_rss, relation, rps,
    times, trend,
};
use crate::report::compare::SavedRun;
use crate::series::allocator_name;
use crate::verdict::{Metric, Outcome};

/// `loh size=1048576 (jemalloc)`: a run named for a sentence.
pub fn run_name(run: &SavedRun) -> String {
    let info = &run.summary.run;
    let params = format_params(&info.params);
    if params.is_empty() {
        format!("{} ({})", info.scenario, allocator_name(info.allocator))
    } else {
        format!(
            "{} {params} ({})",
            info.scenario,
            allocator_name(info.allocator)
        )
    }
}

/// One sentence or two on a run.
pub fn run_paragraph(run: &SavedRun) -> String {
    let heap = trend(run, Metric::HeapLive);
    let mut text = format!(
        "{} answered {} RPS ({}); its live heap {} and its RSS peaked at {}; it had {}.",
        run_name(run),
        rps(run),
        p99(run),
        heap.describe(),
        peak_rss(run),
        failures(run),
    );
    if let Some(cpu) = cpu_per_request(run) {
        text.push_str(&format!(" It took {cpu}."));
    }
    let checks = &run.summary.verdict;
    if !checks.is_empty() {
        let count = |outcome: Outcome| checks.iter().filter(|c| c.outcome() == outcome).count();
        text.push_str(&format!(
            " {} of {} expectations of the scenario matched",
            count(Outcome::Matches),
            checks.len()
        ));
        if count(Outcome::NoLoad) > 0 {
            text.push_str(": no load reached the target, so none can pass");
        } else if count(Outcome::Inconclusive) > 0 {
            text.push_str(&format!(
                "; {} inconclusive (the run was too short or too noisy to tell)",
                count(Outcome::Inconclusive)
            ));
        }
        text.push('.');
    }
    text
}

/// Every run in turn, then how the fastest compares with the slowest.
pub fn comparison_paragraph(runs: &[SavedRun]) -> String {
    let mut text: Vec<String> = runs.iter().map(run_paragraph).collect();
    let by_rps =
        |a: &&SavedRun, b: &&SavedRun| a.summary.load.rps_mean.total_cmp(&b.summary.load.rps_mean);
    if let (Some(fastest), Some(slowest)) = (runs.iter().max_by(by_rps), runs.iter().min_by(by_rps))
    {
        let (fast, slow) = (fastest.summary.load.rps_mean, slowest.summary.load.rps_mean);
        if runs.len() > 1 {
            text.push(match (relation(fast, slow), times(fast, slow)) {
                (Relation::Same, _) => {
                    "All answered within 10 % of each other's throughput.".to_string()
                }
                (_, Some(ratio)) => format!(
                    "{} answered {ratio} as many requests per second as {}.",
                    run_name(fastest),
                    run_name(slowest)
                ),
                (_, None) => format!(
                    "{} answered no request in its measured part.",
                    run_name(slowest)
                ),
            });
            // Throughput depends on how much CPU the server was given; the CPU time per
            // request does not, so say whether it moved too.
            if let Some(sentence) =
                cpu_per_request_sentence(fastest, &run_name(fastest), slowest, &run_name(slowest))
            {
                text.push(sentence);
            }
        }
    }
    text.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gallery::paragraphs::fixtures::{saved, series, with_samples};
    use crate::verdict::Shape;

    #[test]
    fn any_pair_gets_its_numbers_and_the_faster_run_named() {
        let fast = saved(
            series("ping", &[], false),
            &[(Metric::HeapLive, Shape::Grows)],
            800,
        );
        let slow = saved(
            with_samples(series("loh", &[("size", "1048576")], false), |_, s| {
                s.rps = s.rps.map(|rps| rps / 4.0);
                s.requests /= 4;
            }),
            &[],
            9_000,
        );
        let text = comparison_paragraph(&[slow.clone(), fast.clone()]);
        assert!(
            text.contains(&format!("ping (jemalloc) answered {} RPS", rps(&fast))),
            "{text}"
        );
        assert!(
            text.contains("0 of 1 expectations of the scenario matched"),
            "{text}"
        );
        let ratio = times(fast.summary.load.rps_mean, slow.summary.load.rps_mean).unwrap();
        assert!(
            text.contains(&format!(
                "ping (jemalloc) answered {ratio} as many requests per second as loh size=1048576"
            )),
            "{text}"
        );
    }

    #[test]
    fn cpu_per_request_is_an_effect_only_outside_both_spreads() {
        // ping costs 10–12 µs per request; loh either the same give or take noise, or 40.
        let cost = |base: f64| {
            move |i: usize, s: &mut crate::series::Sample| {
                s.cpu_us_per_request = Some(base + (i % 3) as f64)
            }
        };
        let ping = saved(
            with_samples(series("ping", &[], false), cost(10.0)),
            &[],
            800,
        );
        let same = saved(
            with_samples(series("loh", &[], false), |i, s| {
                s.rps = s.rps.map(|rps| rps / 2.0);
                s.requests /= 2;
                cost(10.5)(i, s);
            }),
            &[],
            900,
        );
        let text = comparison_paragraph(&[ping.clone(), same.clone()]);
        assert!(text.contains("µs of server CPU per request (IQR"), "{text}");
        assert!(
            text.contains("the difference is within the runs' own spread, not an effect"),
            "{text}"
        );
        let dear = saved(
            with_samples(series("loh", &[], false), cost(40.0)),
            &[],
            900,
        );
        let text = comparison_paragraph(&[ping, dear]);
        assert!(text.contains("the ranges do not overlap"), "{text}");
        assert!(!text.contains("not an effect"), "{text}");
    }

    #[test]
    fn inconclusive_and_no_load_are_said_not_counted_as_mismatches() {
        let idle = saved(
            with_samples(series("ping", &[], false), |_, s| {
                s.errors = s.requests.max(1);
                s.requests = 0;
                s.rps = Some(0.0);
            }),
            &[(Metric::Rss, Shape::Flat)],
            800,
        );
        let text = run_paragraph(&idle);
        assert!(text.contains("no load reached the target"), "{text}");
    }
}
