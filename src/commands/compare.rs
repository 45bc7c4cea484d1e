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
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, FromArgMatches};

use super::run::{self, Executed, PlanError, dir_name, utc_stamp};
use crate::cli::{CompareArgs, RunArgs, TableFormatArg};
use crate::memory::AllocatorKind;
use crate::report::compare::{
    CompareError, SavedRun, TableFormat, check_run_count, format_table, run_labels,
};
use crate::report::format::format_params;
use crate::report::{ComparedRun, render_overlay, render_side_by_side};
use crate::runner::{Ending, RunPlan};

pub fn compare(args: CompareArgs) -> anyhow::Result<ExitCode> {
    match compare_checked(&args) {
        Err(err) if err.downcast_ref::<CompareError>().is_some() => {
            eprintln!("membench: {err:#}");
            Ok(ExitCode::from(2))
        }
        other => other,
    }
}

fn compare_checked(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(format!("compare-{}", utc_stamp())));
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
            Err(PlanError::Usage(message)) => {
                eprintln!("membench: --run {}: {message}", run.scenario);
                return Ok(ExitCode::from(2));
            }
            Err(PlanError::Other(err)) => return Err(err),
        }
    }
    let mut runs = args
        .dirs
        .iter()
        .map(|dir| SavedRun::load(dir))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let mut exit = ExitCode::SUCCESS;
    for (index, plan) in plans.iter().enumerate() {
        eprintln!(
            "membench: run {} of {}: {} {} ({}) → {}",
            index + 1,
            plans.len(),
            plan.scenario,
            format_params(&plan.params),
            allocator_of(plan),
            plan.out_dir.display()
        );
        let Executed {
            out_dir: run_dir,
            ending,
            ..
        } = run::execute(plan)?;
        runs.push(SavedRun::load(&run_dir)?);
        match ending {
            Ending::Completed => {}
            Ending::ServerDied(how) => {
                eprintln!(
                    "membench: the server {how} during the run; it is compared with what was sampled"
                );
                exit = ExitCode::from(1);
            }
            Ending::Interrupted => {
                eprintln!("membench: interrupted; the runs left are not made");
                if runs.len() < 2 {
                    return Ok(ExitCode::from(130));
                }
                exit = ExitCode::from(130);
                break;
            }
        }
    }

    write_comparison(&runs, &out_dir, args)?;
    Ok(exit)
}

/// Draws the figure, writes `compare.md`, prints the table and where the files are.
fn write_comparison(runs: &[SavedRun], out_dir: &Path, args: &CompareArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(out_dir).with_context(|| {
        format!(
            "cannot create the output directory {}; choose another with --out DIR",
            out_dir.display()
        )
    })?;
    let labels = run_labels(runs);
    let compared: Vec<ComparedRun> = runs
        .iter()
        .zip(&labels)
        .map(|(run, label)| ComparedRun {
            label: label.clone(),
            series: &run.series,
        })
        .collect();
    let png = out_dir.join("compare.png");
    let svg = out_dir.join("compare.svg");
    if args.overlay {
        render_overlay(&compared, &png, Some(&svg))?;
    } else {
        render_side_by_side(&compared, &png, Some(&svg))?;
    }

    let markdown = format_table(runs, &labels, TableFormat::Markdown);
    let mut notes = String::from("# membench compare\n\n![comparison](compare.png)\n\n");
    notes.push_str(&markdown);
    notes.push_str("\nRuns:\n\n");
    for (run, label) in runs.iter().zip(&labels) {
        notes.push_str(&format!("- {label}: `{}`\n", run.dir.display()));
    }
    let md = out_dir.join("compare.md");
    std::fs::write(&md, notes).with_context(|| format!("cannot write {}", md.display()))?;

    match args.format {
        TableFormatArg::Text => print!("{}", format_table(runs, &labels, TableFormat::Text)),
        TableFormatArg::Markdown => print!("{markdown}"),
    }
    println!("results: {}", out_dir.display());
    Ok(())
}

/// One run `--run` asks for: a scenario with one size and one allocator.
struct WantedRun {
    scenario: String,
    size: Option<u64>,
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
    let mut wanted = Vec::new();
    for scenario in &args.scenarios {
        for size in &sizes {
            for allocator in &allocators {
                wanted.push(WantedRun {
                    scenario: scenario.clone(),
                    size: *size,
                    allocator: *allocator,
                });
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
        text.push_str(&format!(" --allocator {}", self.allocator.name()));
        text
    }

    /// The plan `membench run` would make, with its results under the comparison's
    /// directory: one directory to keep or share holds the figure and every run.
    fn plan(&self, out_dir: &Path, args: &CompareArgs) -> Result<RunPlan, PlanError> {
        let mut run_args = default_run_args(&self.scenario)?;
        run_args.size = self.size;
        run_args.allocator = self.allocator;
        run_args.duration = args.duration;
        run_args.connections = args.connections;
        run_args.rate = args.rate;
        if let Some(warmup) = args.warmup {
            run_args.warmup = warmup;
        }
        let mut plan = run::plan(&run_args)?;
        plan.out_dir = out_dir.join(format!(
            "{}-{}",
            dir_name(&plan.scenario, &plan.params),
            self.allocator.name()
        ));
        Ok(plan)
    }
}

/// `membench run SCENARIO` with every other flag at its default, taken from the `run`
/// command's own definition so the two commands cannot drift apart.
fn default_run_args(scenario: &str) -> Result<RunArgs, PlanError> {
    let command = RunArgs::augment_args(clap::Command::new("run"));
    let matches = command
        .try_get_matches_from(["run", scenario])
        .map_err(|err| PlanError::Usage(format!("invalid scenario \"{scenario}\": {err}")))?;
    RunArgs::from_arg_matches(&matches)
        .map_err(|err| PlanError::Other(anyhow::anyhow!("cannot build the run arguments: {err}")))
}

fn allocator_of(plan: &RunPlan) -> &'static str {
    match &plan.server {
        crate::runner::ServerSpec::Child { allocator, .. } => allocator.name(),
        crate::runner::ServerSpec::Target { .. } => "target",
    }
}
