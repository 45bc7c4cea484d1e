//! `membench sweep`: one ordinary run per size and allocator of a sized scenario, each made
//! exactly as `membench run` makes it (through `run::plan` and `run::execute`, without the
//! modelled .NET GC), then the cliffs between neighbouring sizes, the chart and the table.
//!
//! Decisions:
//! * Everything that can be checked is checked before the first point runs: the scenario
//!   has a `size` parameter, every size is within the server's `--max-size`, every point's
//!   plan is valid. Bad arguments exit 2 and run nothing.
//! * Points run size by size (every allocator at one size, then the next size), so an
//!   interrupted sweep still compares the allocators over the sizes it reached, and slow
//!   drift of the machine touches every curve alike.
//! * `sweep.json` and `sweep.csv` are rewritten after every point with `end` = `running`,
//!   so a sweep killed outright still leaves its finished points; the chart is drawn once,
//!   at the end.
//! * Ctrl-C stops the sweep: the point it cut short is not a point (its measured phase is
//!   partial or empty, and a short RPS would fake a cliff), its run directory stays.
//!   Everything before it is written with `end` = `interrupted`; exit 130.
//! * A server that dies stops the sweep the same way (`end` = `server died: <allocator>
//!   <size>: …`; exit 1): at a larger size or with another allocator it would most likely
//!   die again, and a curve with a hole reads as a cliff.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use super::{Outcome, usage_or_error};
use crate::cli::{SweepAllocatorArg, SweepArgs, TableFormatArg};
use crate::format::format_count;
use crate::memory::AllocatorKind;
use crate::report::RunEnd;
use crate::runner::{
    self, Executed, LensChoice, PlanError, RunPlan, RunRequest, interrupt, utc_stamp,
};
use crate::scenario;
use crate::sweep::{
    SWEEP_FORMAT_VERSION, SweepEnd, SweepPoint, SweepResult, SweepTableFormat, describe_cliffs,
    find_cliffs, format_size, format_sweep_table, point_from_run, spacing_warning,
    write_sweep_files,
};

/// What a point costs besides its warm-up and measured load: starting and stopping the
/// child server, writing its files and chart (about a second here).
const POINT_OVERHEAD: Duration = Duration::from_secs(1);

/// Runs `membench sweep`.
pub fn sweep(args: SweepArgs) -> anyhow::Result<Outcome> {
    let planned = match plan_sweep(&args) {
        Ok(planned) => planned,
        Err(err) => return usage_or_error(err, ""),
    };
    execute_sweep(&args, &planned)
}

/// A sweep decided before it starts: its directory, sizes, allocators and one run plan per
/// point, in the order they run.
struct PlannedSweep {
    scenario: String,
    out_dir: PathBuf,
    sizes_bytes: Vec<u64>,
    allocators: Vec<AllocatorKind>,
    points: Vec<PlannedPoint>,
    connections: usize,
}

struct PlannedPoint {
    allocator: AllocatorKind,
    size_bytes: u64,
    /// The run directory relative to the sweep directory: `<allocator>-<size in bytes>`.
    run_dir: String,
    plan: RunPlan,
}

fn plan_sweep(args: &SweepArgs) -> Result<PlannedSweep, PlanError> {
    let found = scenario::find(&args.scenario).map_err(|err| PlanError::Usage(err.to_string()))?;
    if !found.params.contains_key("size") {
        let sized: Vec<String> = scenario::builtin()
            .into_iter()
            .filter(|s| s.params.contains_key("size"))
            .map(|s| s.name)
            .collect();
        return Err(PlanError::Usage(format!(
            "scenario \"{}\" has no size parameter to sweep; sized scenarios: {}",
            args.scenario,
            sized.join(", ")
        )));
    }
    let sizes_bytes = args
        .sizes
        .expand(args.steps_per_doubling)
        .map_err(|err| PlanError::Usage(err.to_string()))?;
    let allocators = allocators(&args.allocator);
    let out_dir = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("results").join(format!("sweep-{}-{}", found.name, utc_stamp()))
    });

    let mut points = Vec::new();
    for &size_bytes in &sizes_bytes {
        for &allocator in &allocators {
            let run_dir = format!("{}-{size_bytes}", allocator.name());
            let plan = runner::plan(&RunRequest {
                size_bytes: Some(size_bytes),
                allocator,
                duration: Some(args.duration),
                warmup: args.warmup,
                connections: args.connections,
                gc_model: LensChoice::Off,
                out_dir: Some(out_dir.join(&run_dir)),
                force: args.force,
                ..RunRequest::scenario(&args.scenario)
            })?;
            points.push(PlannedPoint {
                allocator,
                size_bytes,
                run_dir,
                plan,
            });
        }
    }
    let connections = points.first().map_or(0, |point| point.plan.connections);
    Ok(PlannedSweep {
        scenario: found.name,
        out_dir,
        sizes_bytes,
        allocators,
        points,
        connections,
    })
}

/// `--allocator` as allocators, `all` expanded, each once, in the order given.
fn allocators(given: &[SweepAllocatorArg]) -> Vec<AllocatorKind> {
    let mut allocators = Vec::new();
    for choice in given {
        let kinds: &[AllocatorKind] = match choice {
            SweepAllocatorArg::System => &[AllocatorKind::System],
            SweepAllocatorArg::Jemalloc => &[AllocatorKind::Jemalloc],
            SweepAllocatorArg::Mimalloc => &[AllocatorKind::Mimalloc],
            SweepAllocatorArg::All => &[
                AllocatorKind::System,
                AllocatorKind::Jemalloc,
                AllocatorKind::Mimalloc,
            ],
        };
        for kind in kinds {
            if !allocators.contains(kind) {
                allocators.push(*kind);
            }
        }
    }
    if allocators.is_empty() {
        allocators.push(AllocatorKind::DEFAULT);
    }
    allocators
}

fn execute_sweep(args: &SweepArgs, planned: &PlannedSweep) -> anyhow::Result<Outcome> {
    std::fs::create_dir_all(&planned.out_dir).with_context(|| {
        format!(
            "cannot create the sweep directory {}; choose another with --out DIR",
            planned.out_dir.display()
        )
    })?;
    let total = planned.points.len();
    let per_point = args.warmup + args.duration + POINT_OVERHEAD;
    let estimate = Duration::from_secs((per_point.as_secs_f64() * total as f64).round() as u64);
    eprintln!(
        "membench: sweep of {}: {} sizes × {} allocators = {total} points of {} + {} warm-up; about {} in all → {}",
        planned.scenario,
        planned.sizes_bytes.len(),
        planned.allocators.len(),
        humantime::format_duration(args.duration),
        humantime::format_duration(args.warmup),
        humantime::format_duration(estimate),
        planned.out_dir.display()
    );

    let mut result = SweepResult {
        format_version: SWEEP_FORMAT_VERSION,
        scenario: planned.scenario.clone(),
        sizes_bytes: planned.sizes_bytes.clone(),
        allocators: planned
            .allocators
            .iter()
            .map(|a| a.name().to_string())
            .collect(),
        duration_s: args.duration.as_secs_f64(),
        warmup_s: args.warmup.as_secs_f64(),
        connections: planned.connections,
        cliff_drop: args.cliff_drop,
        points: Vec::new(),
        cliffs: Vec::new(),
        end: SweepEnd::Running,
        command_line: std::env::args().collect(),
    };
    if let Some(warning) = spacing_warning(&planned.sizes_bytes, args.cliff_drop) {
        eprintln!("membench: {warning}");
    }
    write_sweep_files(&planned.out_dir, &result)?;
    // Armed for the whole sweep, so a Ctrl-C between two points stops the sweep rather than
    // killing membench before it writes (each run re-arms it as it starts).
    interrupt::arm();

    let mut exit = Outcome::Success;
    for (index, point) in planned.points.iter().enumerate() {
        let name = format!(
            "sweep point {} of {total}: {} {}",
            index + 1,
            point.allocator.name(),
            format_size(point.size_bytes)
        );
        eprintln!("membench: {name} …");
        let measured = match measure(point) {
            Ok(measured) => measured,
            Err(err) => {
                // What was measured before stays readable; the error still ends membench.
                result.end = SweepEnd::Error(format!("{name}: {err:#}"));
                finish(&mut result, &planned.out_dir)?;
                return Err(err);
            }
        };
        match measured {
            Measured::Point(measured) => {
                eprintln!(
                    "membench: {name}: {} RPS, {} minor faults/s",
                    format_count(measured.rps),
                    format_count(measured.minor_faults_per_s)
                );
                result.points.push(measured);
            }
            Measured::Ended(RunEnd::Interrupted | RunEnd::Completed) => {
                result.end = SweepEnd::Interrupted;
                exit = Outcome::Interrupted;
            }
            Measured::Ended(RunEnd::ServerDied(how)) => {
                eprintln!(
                    "membench: {how} at {name}; the sweep stops, the points before it are kept"
                );
                result.end = SweepEnd::ServerDied(format!(
                    "{} {}: {how}",
                    point.allocator.name(),
                    format_size(point.size_bytes)
                ));
                exit = Outcome::Failed;
            }
        }
        if interrupt::requested().is_some() && exit == Outcome::Success {
            // Ctrl-C after the run had ended (while its files were written): the point is
            // complete, the sweep stops here.
            result.end = SweepEnd::Interrupted;
            exit = Outcome::Interrupted;
        }
        if exit != Outcome::Success {
            break;
        }
        sort_points(&mut result.points, &result.allocators);
        write_sweep_files(&planned.out_dir, &result)?;
    }
    if exit == Outcome::Success {
        result.end = SweepEnd::Completed;
    } else if result.end == SweepEnd::Interrupted {
        eprintln!(
            "membench: interrupted; the {} points measured so far are written",
            result.points.len()
        );
    }
    finish(&mut result, &planned.out_dir)?;
    print_result(&result, args.format, &planned.out_dir);
    Ok(exit)
}

/// What one point's run gave: the point, or how the run ended short of one.
enum Measured {
    Point(SweepPoint),
    /// Interrupted or the server died (never `Completed`).
    Ended(RunEnd),
}

/// Runs one point.
fn measure(point: &PlannedPoint) -> anyhow::Result<Measured> {
    let Executed {
        out_dir: run_dir,
        summary,
        end,
    } = runner::execute(&point.plan)?;
    if end != RunEnd::Completed {
        return Ok(Measured::Ended(end));
    }
    let samples = crate::report::read_samples(&run_dir.join("samples.csv"))?;
    let measured = point_from_run(
        point.allocator.name(),
        point.size_bytes,
        &summary,
        &samples,
        point.run_dir.clone(),
    );
    Ok(Measured::Point(measured))
}

/// The last word on a sweep, however it ended: points in order, the cliffs between them,
/// `sweep.json`/`.csv` and the chart.
fn finish(result: &mut SweepResult, dir: &Path) -> anyhow::Result<()> {
    sort_points(&mut result.points, &result.allocators);
    result.cliffs = find_cliffs(&result.points, result.cliff_drop);
    write_sweep_files(dir, result)?;
    draw(dir, result);
    Ok(())
}

/// Points grouped by allocator (in the sweep's order), ascending size within each.
fn sort_points(points: &mut [SweepPoint], allocators: &[String]) {
    let rank = |name: &str| {
        allocators
            .iter()
            .position(|a| a == name)
            .unwrap_or(usize::MAX)
    };
    points.sort_by_key(|point| (rank(&point.allocator), point.size_bytes));
}

/// Draws `sweep.png` and `.svg`; a chart that cannot be drawn is reported, not fatal (the
/// numbers are written already).
fn draw(dir: &Path, result: &SweepResult) {
    if result.points.is_empty() {
        eprintln!("membench: no point was measured, so there is no sweep chart");
        return;
    }
    if let Err(err) =
        crate::sweep::render_sweep(result, &dir.join("sweep.png"), Some(&dir.join("sweep.svg")))
    {
        eprintln!(
            "membench: the sweep chart could not be drawn: {err:#} (sweep.json and sweep.csv are written)"
        );
    }
}

fn print_result(result: &SweepResult, format: TableFormatArg, dir: &Path) {
    let format = match format {
        TableFormatArg::Text => SweepTableFormat::Text,
        TableFormatArg::Markdown => SweepTableFormat::Markdown,
    };
    print!("{}", format_sweep_table(result, format));
    println!();
    for line in describe_cliffs(result, procfs::page_size()) {
        println!("{line}");
    }
    println!("results: {}", dir.display());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<SweepArgs, clap::Error> {
        let cli = Cli::try_parse_from(["membench", "sweep"].iter().chain(args))?;
        match cli.command {
            Command::Sweep(args) => Ok(args),
            other => panic!("parsed as {other:?}"),
        }
    }

    fn usage(args: &[&str]) -> String {
        match plan_sweep(&parse(args).unwrap()) {
            Err(PlanError::Usage(message)) => message,
            Err(PlanError::Other(err)) => panic!("not a usage error: {err:#}"),
            Ok(_) => panic!("{args:?} planned"),
        }
    }

    #[test]
    fn the_default_sweep_is_loh_from_64kib_to_64mib_in_21_sizes() {
        let args = parse(&[]).unwrap();
        let planned = match plan_sweep(&args) {
            Ok(planned) => planned,
            Err(_) => panic!("the default sweep plans"),
        };
        assert_eq!(planned.scenario, "loh");
        assert_eq!(planned.sizes_bytes.len(), 21);
        assert_eq!(planned.allocators, vec![AllocatorKind::DEFAULT]);
        let first = &planned.points[0];
        assert_eq!(first.run_dir, "jemalloc-65536");
        assert_eq!(first.plan.path, "/api/loh/65536");
        assert!(first.plan.gc_lens.is_none());
        assert_eq!(first.plan.warmup, Duration::from_secs(1));
        assert_eq!(
            first.plan.stop,
            crate::loadgen::StopAt::Duration(Duration::from_secs(3))
        );
        assert!(planned.out_dir.starts_with("results"));
    }

    #[test]
    fn all_allocators_run_size_by_size() {
        let args = parse(&[
            "array",
            "--sizes",
            "1MiB,64KiB",
            "--allocator",
            "mimalloc,all",
            "--out",
            "x",
        ])
        .unwrap();
        let Ok(planned) = plan_sweep(&args) else {
            panic!("planned")
        };
        let order: Vec<String> = planned.points.iter().map(|p| p.run_dir.clone()).collect();
        assert_eq!(
            order,
            [
                "mimalloc-65536",
                "system-65536",
                "jemalloc-65536",
                "mimalloc-1048576",
                "system-1048576",
                "jemalloc-1048576"
            ]
        );
        assert_eq!(
            planned.points[5].plan.out_dir,
            Path::new("x/jemalloc-1048576")
        );
    }

    #[test]
    fn bad_sweeps_are_refused_before_anything_runs() {
        let err = usage(&["ping"]);
        assert!(
            err.contains("\"ping\"") && err.contains("loh, array, pooledarray"),
            "{err}"
        );
        assert!(usage(&["nosuch"]).contains("\"nosuch\""));
        assert!(usage(&["--sizes", "1..64MiB", "--steps-per-doubling", "16"]).contains("at most"));
        for bad in [
            vec!["--sizes", "1.."],
            vec!["--sizes", "0"],
            vec!["--sizes", "100MiB"],
            vec!["--steps-per-doubling", "0"],
            vec!["--cliff-drop", "2"],
            vec!["--allocator", "tcmalloc"],
        ] {
            let err = parse(&bad).unwrap_err().to_string();
            assert!(err.contains(bad[1]), "{bad:?}: {err}");
        }
    }
}
