//! `membench compare`: make the runs asked for with `--run` (exactly as `membench run`
//! would), read every run back from its results directory, draw them on one scale and
//! print the table. Exit codes: 0 compared, 1 a run's server died (the comparison is
//! written anyway), 2 bad arguments (run count, a directory without results, an unknown
//! scenario or size), 130 interrupted.
//!
//! Everything that can be checked is checked before the first run starts: the run count,
//! the saved directories, and every run's plan, so a typo in the third scenario does not
//! cost the first two runs.

use std::path::{Path, PathBuf};

use super::{Outcome, usage_or_error};
use crate::cli::{CompareArgs, TableFormatArg};
use crate::memory::AllocatorKind;
use crate::report::RunEnd;
use crate::report::compare::{
    CompareError, SavedRun, TableFormat, check_run_count, format_table, run_labels,
};
use crate::report::comparison_files::{Layout, write_comparison};
use crate::runner::{
    self, Executed, PlanError, RunPlan, RunRequest, Runtime, ServerSpec, dir_name, utc_stamp,
};

/// Runs `membench compare`; usage errors ([`CompareError`], a bad `--run`) print one line
/// and exit 2.
pub fn compare(args: CompareArgs) -> anyhow::Result<Outcome> {
    match compare_checked(&args) {
        Err(err) if err.downcast_ref::<CompareError>().is_some() => {
            eprintln!("membench: {err:#}");
            Ok(Outcome::Usage)
        }
        other => other,
    }
}

fn compare_checked(args: &CompareArgs) -> anyhow::Result<Outcome> {
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(format!("compare-{}", utc_stamp())));
    let lens = &args.lens;
    if args.scenarios.is_empty()
        && (lens.gc_model.is_some()
            || lens.dotnet_overhead.is_some()
            || lens.gc_machine != crate::cli::GcMachineArg::Article)
    {
        eprintln!(
            "membench: --gc-model, --gc-machine and --dotnet-overhead apply to the runs of --run; saved runs are compared as they were made"
        );
        return Ok(Outcome::Usage);
    }
    let wanted = wanted_runs(args);
    check_run_count(
        args.dirs
            .iter()
            .map(|dir| dir.display().to_string())
            .chain(wanted.iter().map(WantedRun::describe))
            .collect(),
    )?;
    let mut plans = Vec::new();
    for run in &wanted {
        match run.plan(&out_dir, args) {
            Ok(plan) => plans.push(plan),
            Err(err) => return usage_or_error(err, &format!("--run {}: ", run.scenario)),
        }
    }
    let mut runs = args
        .dirs
        .iter()
        .map(|dir| SavedRun::load(dir))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut outcome = Outcome::Success;
    for (index, plan) in plans.iter().enumerate() {
        eprintln!(
            "membench: run {} of {}: {} {} ({}) → {}",
            index + 1,
            plans.len(),
            plan.scenario,
            plan.params.display(),
            server_name(plan),
            plan.out_dir.display()
        );
        let executed = runner::execute(plan)?;
        if let Some(line) = executed.unwritten_line() {
            eprintln!("membench: {line}");
            outcome = Outcome::Failed;
        }
        let Executed {
            out_dir: run_dir,
            end,
            ..
        } = executed;
        runs.push(SavedRun::load(&run_dir)?);
        match end {
            RunEnd::Completed => {}
            RunEnd::ServerDied(how) => {
                eprintln!("membench: {how} during the run; it is compared with what was sampled");
                outcome = Outcome::Failed;
            }
            RunEnd::Interrupted | RunEnd::Terminated => {
                eprintln!(
                    "membench: {}; the runs left are not made",
                    super::run::stop_word(&end)
                );
                outcome = Outcome::of_run(&end);
                if runs.len() < 2 {
                    return Ok(outcome);
                }
                break;
            }
        }
    }
    let labels = run_labels(&runs);
    let layout = if args.overlay {
        Layout::Overlay
    } else {
        Layout::SideBySide
    };
    let written = write_comparison(&runs, &labels, &out_dir, layout)?;
    match args.format {
        TableFormatArg::Text => print!("{}", format_table(&runs, &labels, TableFormat::Text)),
        TableFormatArg::Markdown => print!("{}", written.markdown),
        // compare.json and nothing else, so stdout parses as one document.
        TableFormatArg::Json => {
            println!("{}", serde_json::to_string_pretty(&written.json)?);
            return Ok(outcome);
        }
    }
    println!("results: {}", out_dir.display());
    Ok(outcome)
}

/// `jemalloc` for the Rust server, the runtime's name for another.
fn server_name(plan: &RunPlan) -> &'static str {
    match &plan.server {
        ServerSpec::Child {
            runtime: Runtime::Rust,
            allocator,
            ..
        } => allocator.name(),
        ServerSpec::Child { runtime, .. } => runtime.name(),
        ServerSpec::Target { .. } => "target",
        ServerSpec::Watch { .. } => "watch",
    }
}

/// One run `--run` asks for: a scenario with one size, one runtime and one allocator.
struct WantedRun {
    scenario: String,
    size: Option<u64>,
    runtime: Runtime,
    allocator: AllocatorKind,
}

/// Every combination of `--run` × `--size` × `--allocator`, scenario first.
fn wanted_runs(args: &CompareArgs) -> Vec<WantedRun> {
    let sizes: Vec<Option<u64>> = if args.size.is_empty() {
        vec![None]
    } else {
        args.size.iter().copied().map(Some).collect()
    };
    let allocators = if args.allocator.is_empty() {
        vec![AllocatorKind::DEFAULT]
    } else {
        args.allocator.clone()
    };
    let runtimes = if args.runtime.is_empty() {
        vec![Runtime::Rust]
    } else {
        args.runtime.clone()
    };
    let mut wanted = Vec::new();
    for scenario in &args.scenarios {
        for size in &sizes {
            for &runtime in &runtimes {
                // Allocators are the Rust server's; another runtime runs once.
                let allocators = if runtime == Runtime::Rust {
                    &allocators[..]
                } else {
                    &allocators[..1]
                };
                for allocator in allocators {
                    wanted.push(WantedRun {
                        scenario: scenario.clone(),
                        size: *size,
                        runtime,
                        allocator: *allocator,
                    });
                }
            }
        }
    }
    wanted
}

impl WantedRun {
    /// `--run loh --size 84976 --allocator jemalloc`, for the run-count error.
    fn describe(&self) -> String {
        let mut text = format!("--run {}", self.scenario);
        if let Some(size) = self.size {
            text.push_str(&format!(" --size {size}"));
        }
        match self.runtime {
            Runtime::Rust => text.push_str(&format!(" --allocator {}", self.allocator.name())),
            runtime => text.push_str(&format!(" --runtime {}", runtime.name())),
        }
        text
    }

    /// The plan `membench run` would make, with its results under the comparison's
    /// directory: one directory to keep or share holds the figure and every run.
    fn plan(&self, out_dir: &Path, args: &CompareArgs) -> Result<RunPlan, PlanError> {
        let defaults = RunRequest::scenario(&self.scenario);
        let mut plan = runner::plan(&RunRequest {
            size_bytes: self.size,
            allocator: self.allocator,
            runtime: self.runtime,
            // The launcher flags are the other runtimes'; the Rust server takes none.
            runtime_args: match self.runtime {
                Runtime::Rust => Vec::new(),
                _ => args.runtime_args.runtime_arg.clone(),
            },
            duration: args.duration,
            connections: args.connections,
            rate_per_s: args.rate,
            warmup: args.warmup.unwrap_or(defaults.warmup),
            gc_model: args.lens.choice(),
            gc_machine: args.lens.gc_machine.into(),
            dotnet_overhead_bytes: args.lens.dotnet_overhead,
            force: args.force,
            ..defaults
        })?;
        plan.out_dir = out_dir.join(format!(
            "{}-{}",
            dir_name(&plan.scenario, &plan.params),
            server_name(&plan)
        ));
        Ok(plan)
    }
}

#[cfg(test)]
mod tests;
