//! `membench run`: the flags become a [`RunRequest`], the runner plans and executes it,
//! this prints the summary. Exit codes: 0 completed, 1 the server died or an error,
//! 2 unknown scenario or bad arguments, 3 an expectation failed under `--check`,
//! 130 interrupted (results are written either way).

use super::{Outcome, usage_or_error};
use crate::cli::{OutputFormat, RunArgs};
use crate::report::{self, RunEnd};
use crate::runner::{self, Executed, RunRequest};

pub fn run(args: RunArgs) -> anyhow::Result<Outcome> {
    let plan = match runner::plan(&request(&args)) {
        Ok(plan) => plan,
        Err(err) => return usage_or_error(err, ""),
    };
    let Executed {
        out_dir,
        summary,
        end,
    } = runner::execute(&plan)?;

    match args.format {
        OutputFormat::Text => {
            print!("{}", report::format_text(&summary));
            println!("results: {}", out_dir.display());
        }
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
    }
    let failed_checks = summary
        .verdict
        .iter()
        .filter(|check| !check.matches)
        .count();
    match &end {
        RunEnd::Completed if args.check && failed_checks > 0 => {
            eprintln!(
                "membench: {failed_checks} of {} expectations do not match (--check)",
                summary.verdict.len()
            );
            return Ok(Outcome::ChecksFailed);
        }
        RunEnd::Completed => {}
        RunEnd::Interrupted => eprintln!(
            "membench: interrupted; the samples taken so far are written to {}",
            out_dir.display()
        ),
        RunEnd::ServerDied(how) => eprintln!(
            "membench: {how} during the run; everything sampled until then is written to {}",
            out_dir.display()
        ),
    }
    Ok(Outcome::of_run(&end))
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
    }
}
