//! `membench sweep`: parse → [`runner::plan_sweep`] → [`runner::execute_sweep`] → the
//! table and cliff lines on stdout → the exit code. The loop that runs the points, its
//! rounds and re-measurements live in `runner::sweep`; the judgement of cliffs in
//! `sweep::cliff`.
//!
//! Exit codes: 0 completed, 2 bad arguments (nothing ran), 130 Ctrl-C, 143 SIGTERM/SIGHUP, 1 a server that
//! died or an error of membench (the points measured before are written in each case).

use std::path::Path;

use super::{Outcome, usage_or_error};
use crate::cli::{SweepAllocatorArg, SweepArgs, TableFormatArg};
use crate::memory::AllocatorKind;
use crate::runner::{self, Runtime, SweepRequest};
use crate::sweep::{SweepEnd, SweepResult, SweepTableFormat, describe_cliffs, format_sweep_table};

/// Runs `membench sweep`.
pub fn sweep(args: SweepArgs) -> anyhow::Result<Outcome> {
    let planned = match runner::plan_sweep(&request(&args)) {
        Ok(planned) => planned,
        Err(err) => return usage_or_error(err, ""),
    };
    let result = runner::execute_sweep(&planned)?;
    print_result(&result, args.format, &planned.out_dir)?;
    Ok(match result.end {
        SweepEnd::Completed | SweepEnd::Running => Outcome::Success,
        SweepEnd::Interrupted => Outcome::Interrupted,
        SweepEnd::Terminated => Outcome::Terminated,
        SweepEnd::ServerDied(_) | SweepEnd::Error(_) => Outcome::Failed,
    })
}

/// The sweep asked for on the command line, as the runner takes it.
fn request(args: &SweepArgs) -> SweepRequest {
    SweepRequest {
        scenario: args.scenario.clone(),
        sizes: args.sizes.clone(),
        steps_per_doubling: args.steps_per_doubling,
        allocators: allocators(&args.allocator),
        runtimes: runtimes(&args.runtime),
        runtime_args: args.runtime_args.runtime_arg.clone(),
        duration: args.duration,
        warmup: args.warmup,
        connections: args.connections,
        cliff_drop: args.cliff_drop,
        repeat: args.repeat,
        remeasure: !args.no_remeasure,
        out_dir: args.out.clone(),
        force: args.force,
    }
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

/// `--runtime` as runtimes, each once, in the order given (Rust when none).
fn runtimes(given: &[Runtime]) -> Vec<Runtime> {
    let mut runtimes: Vec<Runtime> = Vec::new();
    for runtime in given {
        if !runtimes.contains(runtime) {
            runtimes.push(*runtime);
        }
    }
    if runtimes.is_empty() {
        runtimes.push(Runtime::Rust);
    }
    runtimes
}

fn print_result(result: &SweepResult, format: TableFormatArg, dir: &Path) -> anyhow::Result<()> {
    let format = match format {
        TableFormatArg::Text => SweepTableFormat::Text,
        TableFormatArg::Markdown => SweepTableFormat::Markdown,
        // sweep.json and nothing else, so stdout parses as one document.
        TableFormatArg::Json => {
            println!("{}", serde_json::to_string_pretty(result)?);
            return Ok(());
        }
    };
    print!("{}", format_sweep_table(result, format));
    println!();
    for line in describe_cliffs(result, crate::memory::page_size()) {
        println!("{line}");
    }
    println!("results: {}", dir.display());
    Ok(())
}

#[cfg(test)]
mod tests;
