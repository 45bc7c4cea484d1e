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

use super::run::{self, Executed, PlanError, dir_name, utc_stamp};
use crate::cli::{CompareArgs, TableFormatArg};
use crate::format::format_params;
use crate::memory::AllocatorKind;
use crate::report::compare::{
    CompareError, SavedRun, TableFormat, check_run_count, format_table, run_labels,
};
use crate::report::{ComparedRun, render_overlay, render_side_by_side};
use crate::runner::{Ending, RunPlan};

/// Runs `membench compare`; usage errors ([`CompareError`], a bad `--run`) print one line
/// and exit 2.
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
        let mut run_args = run::default_run_args(&self.scenario)?;
        run_args.size = self.size;
        run_args.allocator = self.allocator;
        run_args.duration = args.duration;
        run_args.connections = args.connections;
        run_args.rate = args.rate;
        run_args.gc_model = args.gc_model;
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

fn allocator_of(plan: &RunPlan) -> &'static str {
    match &plan.server {
        crate::runner::ServerSpec::Child { allocator, .. } => allocator.name(),
        crate::runner::ServerSpec::Target { .. } => "target",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::report::compare::tests::three_run_dirs;
    use clap::Parser;

    fn parse(args: &[&str]) -> CompareArgs {
        let cli = Cli::try_parse_from(["membench", "compare"].iter().chain(args)).unwrap();
        match cli.command {
            Command::Compare(args) => args,
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn compare_writes_figure_and_notes_from_saved_run_directories() {
        let root = tempfile::tempdir().unwrap();
        let (dirs, _) = three_run_dirs(root.path());
        for overlay in [false, true] {
            let out = root.path().join(if overlay { "overlay" } else { "side" });
            let mut argv: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            argv.extend(["--out".into(), out.display().to_string()]);
            if overlay {
                argv.push("--overlay".into());
            }
            let args = parse(&argv.iter().map(String::as_str).collect::<Vec<_>>());
            assert_eq!(compare(args).unwrap(), ExitCode::SUCCESS);
            let image = image::open(out.join("compare.png")).unwrap().to_rgb8();
            let expected = if overlay {
                crate::report::CHART_SIZE_PX
            } else {
                crate::report::side_by_side_size_px(3)
            };
            assert_eq!(image.dimensions(), expected);
            let colours: std::collections::HashSet<[u8; 3]> = image.pixels().map(|p| p.0).collect();
            assert!(colours.len() > 50, "only {} colours", colours.len());
            assert!(out.join("compare.svg").is_file());
            let notes = std::fs::read_to_string(out.join("compare.md")).unwrap();
            assert!(notes.contains("![comparison](compare.png)"), "{notes}");
            assert!(notes.contains("| staticstring · jemalloc |"), "{notes}");
            assert!(notes.contains(&dirs[2].display().to_string()), "{notes}");
        }
    }

    #[test]
    fn run_combinations_multiply_and_are_counted_before_anything_runs() {
        let args = parse(&[
            "--run",
            "loh,bigstring",
            "--size",
            "84975,84976",
            "--allocator",
            "system,jemalloc",
        ]);
        let wanted = wanted_runs(&args);
        assert_eq!(wanted.len(), 8);
        assert_eq!(
            wanted[1].describe(),
            "--run loh --size 84975 --allocator jemalloc"
        );
        // 8 runs are more than a comparison takes: refused with exit 2, nothing run.
        let out = tempfile::tempdir().unwrap();
        let mut args = args;
        args.out = Some(out.path().join("never"));
        assert_eq!(compare(args).unwrap(), ExitCode::from(2));
        assert!(!out.path().join("never").exists());
    }

    #[test]
    fn one_directory_or_a_missing_summary_exits_2() {
        let root = tempfile::tempdir().unwrap();
        let (dirs, _) = three_run_dirs(root.path());
        let out = root.path().join("out");
        let one = parse(&[dirs[0].to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(compare(one).unwrap(), ExitCode::from(2));
        std::fs::remove_file(dirs[1].join("summary.json")).unwrap();
        let two = parse(&[
            dirs[0].to_str().unwrap(),
            dirs[1].to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(compare(two).unwrap(), ExitCode::from(2));
        assert!(!out.exists(), "nothing written for a refused comparison");
    }

    #[test]
    fn run_plans_use_run_defaults_and_nest_under_the_comparison() {
        let args = parse(&["--run", "loh", "--size", "84976", "--duration", "5s"]);
        let wanted = wanted_runs(&args);
        let plan = match wanted[0].plan(Path::new("results/cmp"), &args) {
            Ok(plan) => plan,
            Err(_) => panic!("loh --size 84976 plans"),
        };
        assert_eq!(
            plan.out_dir,
            Path::new("results/cmp/loh-size84976-jemalloc")
        );
        assert_eq!(plan.path, "/api/loh/84976");
        assert_eq!(
            plan.stop,
            crate::loadgen::StopAt::Duration(std::time::Duration::from_secs(5))
        );
        // `membench run`'s own defaults: 2 s warm-up, 250 ms interval.
        assert_eq!(plan.warmup, std::time::Duration::from_secs(2));
        assert_eq!(plan.interval, std::time::Duration::from_millis(250));
        let unknown = parse(&["--run", "nosuchscenario"]);
        assert!(matches!(
            wanted_runs(&unknown)[0].plan(Path::new("x"), &unknown),
            Err(PlanError::Usage(message)) if message.contains("nosuchscenario")
        ));
    }
}
