//! `membench sweep`'s planning: defaults, order of runs, refusals before anything runs.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::cli::{Cli, Command};
use crate::runner::{PlanError, SweepPlan};
use clap::Parser;

fn parse(args: &[&str]) -> Result<SweepArgs, clap::Error> {
    let cli = Cli::try_parse_from(["membench", "sweep"].iter().chain(args))?;
    match cli.command {
        Command::Sweep(args) => Ok(args),
        other => panic!("parsed as {other:?}"),
    }
}

fn plan_sweep(args: &SweepArgs) -> Result<SweepPlan, PlanError> {
    runner::plan_sweep(&request(args))
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
    assert_eq!(
        planned.curves,
        vec![runner::SweepCurve {
            runtime: Runtime::Rust,
            allocator: AllocatorKind::DEFAULT
        }]
    );
    assert_eq!(planned.runs.len(), 21 * 3, "three rounds by default");
    let first = &planned.runs[0];
    assert_eq!(first.run_dir, "jemalloc-65536-r1");
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
fn all_allocators_run_size_by_size_in_rounds() {
    let args = parse(&[
        "array",
        "--sizes",
        "1MiB,64KiB",
        "--allocator",
        "mimalloc,all",
        "--out",
        "x",
        "--repeat",
        "2",
    ])
    .unwrap();
    let Ok(planned) = plan_sweep(&args) else {
        panic!("planned")
    };
    let order: Vec<String> = planned.runs.iter().map(|p| p.run_dir.clone()).collect();
    let round = |r: u32| {
        [
            "mimalloc-65536",
            "system-65536",
            "jemalloc-65536",
            "mimalloc-1048576",
            "system-1048576",
            "jemalloc-1048576",
        ]
        .map(|dir| format!("{dir}-r{r}"))
    };
    // Every point of round 1 before any of round 2.
    assert_eq!(order, [round(1), round(2)].concat());
    assert_eq!(
        planned.runs[11].plan.out_dir,
        Path::new("x/jemalloc-1048576-r2")
    );
    // 2 rounds × 6 runs × (3 s + 1 s warm-up + 1 s overhead).
    assert_eq!(planned.estimate(), Duration::from_secs(60));
}

#[test]
fn bad_sweeps_are_refused_before_anything_runs() {
    let err = usage(&["ping"]);
    assert!(
        err.contains("\"ping\"") && err.contains("loh, array, pooledarray"),
        "{err}"
    );
    assert!(usage(&["nosuch"]).contains("\"nosuch\""));
    let huge = usage(&["--repeat", "1000000"]);
    assert!(
        huge.contains("--repeat 1000000 is more than 100") && huge.contains("would take about"),
        "{huge}"
    );
    let none = usage(&["--repeat", "0"]);
    assert!(
        none.contains("--repeat 0") && none.contains("1 or more"),
        "{none}"
    );
    assert!(usage(&["--sizes", "1..64MiB", "--steps-per-doubling", "16"]).contains("at most"));
    for bad in [
        vec!["--sizes", "1.."],
        vec!["--sizes", "0"],
        vec!["--sizes", "100MiB"],
        vec!["--steps-per-doubling", "0"],
        vec!["--cliff-drop", "2"],
        vec!["--allocator", "tcmalloc"],
        vec!["--runtime", "dotnet"],
        vec!["--repeat", "-1"],
        vec!["--repeat", "many"],
    ] {
        let err = parse(&bad).unwrap_err().to_string();
        assert!(err.contains(bad[1]), "{bad:?}: {err}");
    }
}
