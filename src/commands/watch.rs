//! `membench watch`: the flags become a [`WatchRequest`], the runner plans and executes
//! it (the `run` session without load), this prints the summary. Exit codes as `run`: 0
//! completed, 1 the watched process died or an error, 2 bad arguments, 3 under `--check`
//! when an expectation does not match or is inconclusive, 130 interrupted, 143 terminated
//! (results are written either way).

use super::Outcome;
use super::run::{print_summary, say_how_it_ended, verdict_failure};
use crate::cli::WatchArgs;
use crate::report::{RunEnd, Summary};
use crate::runner::{self, Executed, WatchRequest};

pub fn watch(args: WatchArgs) -> anyhow::Result<Outcome> {
    let request = WatchRequest {
        metrics: args.metrics.clone(),
        pid: args.pid,
        scenario: args.scenario.clone(),
        duration: args.duration,
        interval: args.interval,
        out_dir: args.out.clone(),
        rps_metric: args.rps_metric.clone(),
        metrics_include: args.metrics_include.clone(),
        force: args.force,
    };
    let plan = match runner::plan_watch(&request) {
        Ok(plan) => plan,
        Err(err) => return super::usage_or_error(err, ""),
    };
    eprintln!(
        "membench: watching {} every {:?}; Ctrl-C ends it and writes the results",
        describe(&request),
        plan.interval
    );
    let executed = runner::execute(&plan)?;
    let unwritten = executed.unwritten_line();
    let Executed {
        out_dir,
        summary,
        end,
        ..
    } = executed;
    print_summary(args.format, &summary, &out_dir)?;
    if let Some(line) = unwritten {
        eprintln!("membench: {line}");
        return Ok(Outcome::Failed);
    }
    match &end {
        RunEnd::Completed | RunEnd::Interrupted | RunEnd::Terminated if args.check => {
            if let Some(message) = verdict_failure(&summary) {
                eprintln!("membench: {message} (--check)");
                return Ok(if matches!(end, RunEnd::Completed) {
                    Outcome::ChecksFailed
                } else {
                    Outcome::of_run(&end)
                });
            }
        }
        _ => {}
    }
    say_how_it_ended(&end, "watch", &out_dir);
    Ok(Outcome::of_run(&end))
}

/// `http://…/metrics and pid 1234`.
fn describe(request: &WatchRequest) -> String {
    let mut what = Vec::new();
    if let Some(url) = &request.metrics {
        what.push(url.clone());
    }
    if let Some(pid) = request.pid {
        what.push(format!("pid {pid}"));
    }
    what.join(" and ")
}

/// `metrics: URL — 40 scrapes, 2 failed (gaps at 3.0 s, 3.3 s), 1 counter reset`; `None`
/// without `--metrics`.
pub(super) fn metrics_line(summary: &Summary) -> Option<String> {
    let metrics = summary.metrics.as_ref()?;
    let seconds = |at: &[f64]| -> String {
        let shown: Vec<String> = at.iter().take(5).map(|s| format!("{s:.1} s")).collect();
        let more = if at.len() > 5 { ", …" } else { "" };
        format!("{}{more}", shown.join(", "))
    };
    let mut line = format!(
        "metrics: {} — {} scrapes, {} failed",
        metrics.url, metrics.scrapes, metrics.scrape_errors
    );
    if metrics.scrape_errors > 0 {
        line.push_str(&format!(" (gaps at {})", seconds(&metrics.gaps_at_s)));
    }
    line.push_str(&format!(", {} counter resets", metrics.counter_resets));
    if metrics.counter_resets > 0 {
        line.push_str(&format!(
            " (at {}: the target restarted)",
            seconds(&metrics.resets_at_s)
        ));
    }
    Some(line)
}
