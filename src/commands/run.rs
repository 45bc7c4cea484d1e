//! `membench run`: the flags become a [`RunRequest`], the runner plans and executes it,
//! this prints the summary. Exit codes: 0 completed, 1 the server died or an error,
//! 2 unknown scenario or bad arguments, 3 under `--check` when an expectation does not
//! match or is inconclusive, or no load reached the target,
//! 1 also when a results file could not be written (a full disk), 130 interrupted, 143 terminated (SIGTERM/SIGHUP) (results are written either way).

use super::{Outcome, usage_or_error};
use crate::cli::{OutputFormat, RunArgs};
use crate::report::{self, RunEnd};
use crate::runner::{self, Executed, RunRequest};
use crate::verdict;

pub fn run(args: RunArgs) -> anyhow::Result<Outcome> {
    let plan = match runner::plan(&request(&args)) {
        Ok(plan) => plan,
        Err(err) => return usage_or_error(err, ""),
    };
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
        RunEnd::Completed if args.check => {
            if let Some(message) = check_failure(&summary) {
                eprintln!("membench: {message} (--check)");
                return Ok(Outcome::ChecksFailed);
            }
        }
        _ => say_how_it_ended(&end, "run", &out_dir),
    }
    Ok(Outcome::of_run(&end))
}

/// The summary of a run or watch on stdout: the text (with the scrape line of `--metrics`)
/// and where the results are, or the whole summary as JSON.
pub(super) fn print_summary(
    format: OutputFormat,
    summary: &report::Summary,
    out_dir: &std::path::Path,
) -> anyhow::Result<()> {
    match format {
        OutputFormat::Text => {
            print!("{}", report::format_text(summary));
            if let Some(line) = super::watch::metrics_line(summary) {
                println!("{line}");
            }
            println!("results: {}", out_dir.display());
        }
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(summary)?),
    }
    Ok(())
}

/// The stderr line for a run or watch (`what`) that did not complete, saying where what
/// was sampled is; nothing for one that completed.
pub(super) fn say_how_it_ended(end: &RunEnd, what: &str, out_dir: &std::path::Path) {
    match end {
        RunEnd::Completed => {}
        RunEnd::Interrupted | RunEnd::Terminated => eprintln!(
            "membench: {}; the samples taken so far are written to {}",
            stop_word(end),
            out_dir.display()
        ),
        RunEnd::ServerDied(how) => eprintln!(
            "membench: {how} during the {what}; everything sampled until then is written to {}",
            out_dir.display()
        ),
    }
}

/// Why `--check` fails a completed run, naming the outcome: no load reached the target
/// (also when the scenario states no expectations), or how many expectations did not
/// match or were inconclusive. `None` when every expectation matches.
fn check_failure(summary: &report::Summary) -> Option<String> {
    let totals = &summary.totals;
    if let Some(problem) =
        verdict::load_problem_of(totals.requests, totals.errors, &totals.errors_by_kind)
    {
        return Some(format!("no load reached the target: {problem}"));
    }
    verdict_failure(summary)
}

/// Why the verdicts fail `--check`, naming how many did not match or were inconclusive;
/// `None` when every expectation matches.
pub(super) fn verdict_failure(summary: &report::Summary) -> Option<String> {
    let count = |outcome: verdict::Outcome| {
        summary
            .verdict
            .iter()
            .filter(|check| check.outcome() == outcome)
            .count()
    };
    let failed: Vec<String> = [
        verdict::Outcome::NoLoad,
        verdict::Outcome::DoesNotMatch,
        verdict::Outcome::Inconclusive,
    ]
    .into_iter()
    .filter(|outcome| count(*outcome) > 0)
    .map(|outcome| format!("{} {}", count(outcome), outcome.name()))
    .collect();
    (!failed.is_empty()).then(|| {
        let mut message = format!(
            "{} of {} expectations do not pass: {}",
            summary.verdict.len() - count(verdict::Outcome::Matches),
            summary.verdict.len(),
            failed.join(", ")
        );
        if count(verdict::Outcome::Inconclusive) > 0 {
            message.push_str("; inconclusive: run longer (the verdict lines say how long)");
        }
        message
    })
}

/// The flags as the runner's request; flags left out take the scenario's or the
/// runner's defaults.
fn request(args: &RunArgs) -> RunRequest {
    let defaults = RunRequest::default();
    RunRequest {
        scenario: args.scenario.clone(),
        size_bytes: args.size,
        params: args.params.clone(),
        duration: args.duration,
        requests: args.requests,
        connections: args.connections,
        rate_per_s: args.rate,
        threads: args.threads,
        timeout: args.timeout.unwrap_or(defaults.timeout),
        warmup: args.warmup.unwrap_or(defaults.warmup),
        interval: args.interval.unwrap_or(defaults.interval),
        allocator: args.allocator,
        runtime: args.runtime,
        runtime_args: args.runtime_args.runtime_arg.clone(),
        target: args.target.clone(),
        pid: args.pid,
        skip_pid_check: args.skip_pid_check,
        out_dir: args.out.clone(),
        force: args.force,
        gc_model: args.lens.choice(),
        gc_machine: args.lens.gc_machine.into(),
        dotnet_overhead_bytes: args.lens.dotnet_overhead,
        metrics: args.metrics.clone(),
        metrics_include: args.metrics_include.clone(),
    }
}

/// `interrupted` or `terminated`, for the line saying why a run stopped early.
pub(super) fn stop_word(end: &RunEnd) -> &'static str {
    match end {
        RunEnd::Terminated => "terminated",
        _ => "interrupted",
    }
}
