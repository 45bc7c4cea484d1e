//! A size sweep as a library: a [`SweepRequest`] → [`plan_sweep`] (every point's run
//! planned and checked, or a [`PlanError`]) → [`execute_sweep`] (the runs, `sweep.json`,
//! `sweep.csv` and the chart). Each run is made exactly as `membench run` makes it
//! (through [`plan`] and [`execute`], without the modelled .NET GC).
//!
//! Decisions:
//! * Everything that can be checked is checked before the first point runs: the scenario
//!   has a `size` parameter, every size is within the server's `--max-size`, every run's
//!   plan is valid. Bad arguments are `PlanError::Usage` and run nothing.
//! * A curve is the Rust server with one allocator, or another runtime's server (`--runtime
//!   mono`: its collector manages its memory, so it is swept once, named by the runtime).
//! * Each point is measured `repeat` times, in rounds: every size × curve of a round
//!   before the next round. Slow drift of the machine (another build starting) then lands
//!   on one repetition of every point, not on every repetition of a few neighbouring
//!   points, where it would read as a cliff. Within a round, size by size (every curve at
//!   one size, then the next), so an interrupted sweep still compares the curves.
//! * After the rounds, both sides of every suspected cliff are measured once more before
//!   the cliff is reported (see [`remeasure_targets`]); a cliff that survives says so.
//! * `sweep.json` and `sweep.csv` are rewritten after every run with `end` = `running`, so
//!   a sweep killed outright still leaves every finished repetition; the chart is drawn
//!   once, at the end.
//! * Ctrl-C stops the sweep: the run it cut short is not a repetition (its measured phase
//!   is partial), its run directory stays. Everything before it is written with `end` =
//!   `interrupted`.
//! * A server that dies stops the sweep the same way (`end` = `server died: <allocator>
//!   <size> round <k>: …`): at a larger size or with another allocator it would most
//!   likely die again. Every repetition measured before is kept.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use super::runtime::Runtime;
use super::{Executed, LensChoice, PlanError, RunPlan, RunRequest, execute, interrupt, plan};
use crate::format::format_count;
use crate::memory::AllocatorKind;
use crate::report::RunEnd;
use crate::scenario;
use crate::sweep::{
    SWEEP_FORMAT_VERSION, SizeSpec, SweepEnd, SweepPoint, SweepResult, find_cliffs, format_cpu_us,
    format_size, mark_remeasured, median_point, point_from_run, remeasure_targets, run_dir_name,
    write_sweep_files,
};

/// What a run costs besides its warm-up and measured load: starting and stopping the
/// child server, writing its files and chart (about a second here).
pub const POINT_OVERHEAD: Duration = Duration::from_secs(1);

/// The most repetitions of a point: beyond it a sweep takes days, and the rounds are
/// planned (one run plan each) before the first one runs.
pub const MAX_REPEAT: u32 = 100;

/// A sweep as asked, without clap: the defaults live in `cli::SweepArgs`.
#[derive(Debug, Clone)]
pub struct SweepRequest {
    /// A scenario name or file with a `size` parameter.
    pub scenario: String,
    pub sizes: SizeSpec,
    pub steps_per_doubling: u32,
    /// Allocators of the Rust server, each once, in the order swept (never empty; used
    /// when `runtimes` has Rust).
    pub allocators: Vec<AllocatorKind>,
    /// Runtimes, each once, in the order swept (never empty): the Rust server once per
    /// allocator, every other runtime once (its collector manages its memory).
    pub runtimes: Vec<Runtime>,
    /// `--runtime-arg`s for the other runtimes' servers (the Rust server takes none).
    pub runtime_args: Vec<String>,
    pub duration: Duration,
    pub warmup: Duration,
    pub connections: Option<usize>,
    pub cliff_drop: f64,
    /// Times each point is measured, at least 1.
    pub repeat: u32,
    /// Measure both sides of a suspected cliff once more before reporting it.
    pub remeasure: bool,
    pub out_dir: Option<PathBuf>,
    pub force: bool,
}

/// A sweep decided before it starts: its directory, sizes, allocators and one run plan
/// per repetition, in the order they run.
pub struct SweepPlan {
    pub scenario: String,
    pub out_dir: PathBuf,
    pub sizes_bytes: Vec<u64>,
    /// The curves, in the order swept: a Rust allocator or another runtime each.
    pub curves: Vec<Curve>,
    /// Every run of every round, in order.
    pub runs: Vec<PlannedRun>,
    pub connections: usize,
    request: SweepRequest,
}

/// One curve of a sweep: the Rust server with one allocator, or another runtime's server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Curve {
    pub runtime: Runtime,
    /// The Rust server's allocator (another runtime's server ignores it).
    pub allocator: AllocatorKind,
}

impl Curve {
    /// Its name in `sweep.json`, tables and directory names: the allocator for Rust, else
    /// the runtime (`jemalloc`, `mono`).
    pub fn name(self) -> &'static str {
        match self.runtime {
            Runtime::Rust => self.allocator.name(),
            runtime => runtime.name(),
        }
    }
}

/// The curves of a sweep: each runtime in order, the Rust server once per allocator.
fn curves(runtimes: &[Runtime], allocators: &[AllocatorKind]) -> Vec<Curve> {
    let mut curves = Vec::new();
    for &runtime in runtimes {
        if runtime == Runtime::Rust {
            curves.extend(
                allocators
                    .iter()
                    .map(|&allocator| Curve { runtime, allocator }),
            );
        } else {
            curves.push(Curve {
                runtime,
                allocator: AllocatorKind::DEFAULT,
            });
        }
    }
    curves
}

/// One repetition of one point.
pub struct PlannedRun {
    pub curve: Curve,
    pub size_bytes: u64,
    /// 1 … repeat; rounds after it are re-measurements.
    pub round: u32,
    /// The run directory relative to the sweep directory (see [`run_dir_name`]).
    pub run_dir: String,
    pub plan: RunPlan,
}

impl SweepPlan {
    /// The wall time the planned rounds take (before re-measurements), about.
    pub fn estimate(&self) -> Duration {
        let per_run = self.request.warmup + self.request.duration + POINT_OVERHEAD;
        Duration::from_secs_f64(per_run.as_secs_f64() * self.runs.len() as f64).max(per_run)
    }
}

/// Plans every run of the sweep; usage errors quote what was wrong.
pub fn plan_sweep(request: &SweepRequest) -> Result<SweepPlan, PlanError> {
    if request.repeat == 0 {
        return Err(PlanError::Usage(
            "--repeat 0 would measure nothing: give 1 or more (3, the default, gives a median and a spread)"
                .to_string(),
        ));
    }
    let found =
        scenario::find(&request.scenario).map_err(|err| PlanError::Usage(err.to_string()))?;
    if !found.params.contains_key("size") {
        let sized: Vec<String> = scenario::builtin()
            .into_iter()
            .filter(|s| s.params.contains_key("size"))
            .map(|s| s.name)
            .collect();
        return Err(PlanError::Usage(format!(
            "scenario \"{}\" has no size parameter to sweep; sized scenarios: {}",
            request.scenario,
            sized.join(", ")
        )));
    }
    let sizes_bytes = request
        .sizes
        .expand(request.steps_per_doubling)
        .map_err(|err| PlanError::Usage(err.to_string()))?;
    if request.repeat > MAX_REPEAT {
        let per_run = request.warmup + request.duration + POINT_OVERHEAD;
        let curve_count = curves(&request.runtimes, &request.allocators).len();
        let runs = sizes_bytes.len() as f64 * curve_count as f64 * f64::from(request.repeat);
        return Err(PlanError::Usage(format!(
            "--repeat {} is more than {MAX_REPEAT}: {} sizes × {} curves (allocators × runtimes) × {} rounds would take about {}; 3 to 5 give a median and a spread",
            request.repeat,
            sizes_bytes.len(),
            curve_count,
            request.repeat,
            humantime::format_duration(Duration::from_secs((per_run.as_secs_f64() * runs) as u64))
        )));
    }
    let out_dir = request.out_dir.clone().unwrap_or_else(|| {
        PathBuf::from("results").join(format!("sweep-{}-{}", found.name, super::utc_stamp()))
    });
    let mut plan_sweep = SweepPlan {
        scenario: found.name,
        out_dir,
        sizes_bytes,
        curves: curves(&request.runtimes, &request.allocators),
        runs: Vec::new(),
        connections: 0,
        request: request.clone(),
    };
    for round in 1..=request.repeat {
        for &size_bytes in &plan_sweep.sizes_bytes {
            for &curve in &plan_sweep.curves {
                let run = plan_run(&plan_sweep, curve, size_bytes, round)?;
                plan_sweep.runs.push(run);
            }
        }
    }
    plan_sweep.connections = plan_sweep
        .runs
        .first()
        .map_or(0, |run| run.plan.connections);
    Ok(plan_sweep)
}

fn plan_run(
    sweep: &SweepPlan,
    curve: Curve,
    size_bytes: u64,
    round: u32,
) -> Result<PlannedRun, PlanError> {
    let request = &sweep.request;
    let run_dir = run_dir_name(curve.name(), size_bytes, round);
    let plan = plan(&RunRequest {
        size_bytes: Some(size_bytes),
        allocator: curve.allocator,
        runtime: curve.runtime,
        runtime_args: match curve.runtime {
            Runtime::Rust => Vec::new(),
            _ => request.runtime_args.clone(),
        },
        duration: Some(request.duration),
        warmup: request.warmup,
        connections: request.connections,
        gc_model: LensChoice::Off,
        out_dir: Some(sweep.out_dir.join(&run_dir)),
        force: request.force,
        ..RunRequest::scenario(&request.scenario)
    })?;
    Ok(PlannedRun {
        curve,
        size_bytes,
        round,
        run_dir,
        plan,
    })
}

/// The runs measured so far, by point.
#[derive(Default)]
struct Measurements {
    runs: BTreeMap<(String, u64), Vec<SweepPoint>>,
}

impl Measurements {
    fn points(&self, allocators: &[String]) -> Vec<SweepPoint> {
        let mut points: Vec<SweepPoint> =
            self.runs.values().filter_map(|r| median_point(r)).collect();
        sort_points(&mut points, allocators);
        points
    }

    fn count(&self) -> usize {
        self.runs.values().map(Vec::len).sum()
    }
}

/// Runs the planned sweep and writes its files. The result's `end` says how it ended
/// (completed, interrupted, server died); an error of membench itself is written as
/// `end` = `error at …` and returned.
pub fn execute_sweep(planned: &SweepPlan) -> anyhow::Result<SweepResult> {
    std::fs::create_dir_all(&planned.out_dir).with_context(|| {
        format!(
            "cannot create the sweep directory {}; choose another with --out DIR",
            planned.out_dir.display()
        )
    })?;
    let request = &planned.request;
    eprintln!(
        "membench: sweep of {}: {} sizes × {} curves ({}) × {} rounds = {} runs of {} + {} warm-up; about {} in all (plus re-measuring any suspected cliff) → {}",
        planned.scenario,
        planned.sizes_bytes.len(),
        planned.curves.len(),
        planned
            .curves
            .iter()
            .map(|curve| curve.name())
            .collect::<Vec<_>>()
            .join(", "),
        request.repeat,
        planned.runs.len(),
        humantime::format_duration(request.duration),
        humantime::format_duration(request.warmup),
        humantime::format_duration(Duration::from_secs(planned.estimate().as_secs())),
        planned.out_dir.display()
    );
    let mut result = SweepResult {
        format_version: SWEEP_FORMAT_VERSION,
        scenario: planned.scenario.clone(),
        sizes_bytes: planned.sizes_bytes.clone(),
        allocators: planned
            .curves
            .iter()
            .map(|curve| curve.name().to_string())
            .collect(),
        duration_s: request.duration.as_secs_f64(),
        warmup_s: request.warmup.as_secs_f64(),
        connections: planned.connections,
        cliff_drop: request.cliff_drop,
        repeat: request.repeat,
        points: Vec::new(),
        cliffs: Vec::new(),
        end: SweepEnd::Running,
        command_line: std::env::args().collect(),
        membench_version: crate::build_info::VERSION.to_string(),
        membench_commit: crate::build_info::COMMIT.to_string(),
    };
    write_sweep_files(&planned.out_dir, &result)?;
    // Armed for the whole sweep, so a Ctrl-C between two runs stops the sweep rather than
    // killing membench before it writes (each run re-arms it as it starts).
    interrupt::arm();

    let mut measured = Measurements::default();
    let total = planned.runs.len();
    for (index, run) in planned.runs.iter().enumerate() {
        let name = format!("sweep run {} of {total}", index + 1);
        if !measure_one(run, &name, &mut measured, &mut result, &planned.out_dir)? {
            return finish(result, &measured, &planned.out_dir, &[]);
        }
    }
    // Re-measure both sides of each suspected cliff once, then judge again.
    let mut targets = Vec::new();
    if request.remeasure {
        targets = remeasure_targets(&find_cliffs(&result.points, request.cliff_drop));
        let round = request.repeat + 1;
        for (index, (name, size_bytes)) in targets.iter().enumerate() {
            let Some(curve) = planned.curves.iter().copied().find(|c| c.name() == name) else {
                continue;
            };
            if index == 0 {
                eprintln!(
                    "membench: {} points border a suspected cliff; each is measured once more before the cliff is reported",
                    targets.len()
                );
            }
            let run = plan_run(planned, curve, *size_bytes, round).map_err(|err| match err {
                PlanError::Usage(message) => anyhow::anyhow!(message),
                PlanError::Other(err) => err,
            })?;
            let name = format!("re-measuring {} of {}", index + 1, targets.len());
            if !measure_one(&run, &name, &mut measured, &mut result, &planned.out_dir)? {
                return finish(result, &measured, &planned.out_dir, &targets);
            }
        }
    }
    result.end = SweepEnd::Completed;
    finish(result, &measured, &planned.out_dir, &targets)
}

/// Measures one run and records it; false when the sweep must stop (interrupted, server
/// died: `result.end` says which). A membench error is written into the files, then
/// returned.
fn measure_one(
    run: &PlannedRun,
    name: &str,
    measured: &mut Measurements,
    result: &mut SweepResult,
    dir: &Path,
) -> anyhow::Result<bool> {
    let what = format!(
        "{} {} round {}",
        run.curve.name(),
        format_size(run.size_bytes),
        run.round
    );
    eprintln!("membench: {name}: {what} …");
    let outcome = match measure(run) {
        Ok(outcome) => outcome,
        Err(err) => {
            // What was measured before stays readable; the error still ends membench.
            result.end = SweepEnd::Error(format!("{name}: {what}: {err:#}"));
            finish(result.clone(), measured, dir, &[])?;
            return Err(err);
        }
    };
    match outcome {
        Measured::Point(point) => {
            eprintln!(
                "membench: {name}: {what}: {} RPS, {} server CPU/request, {} minor faults/s",
                format_count(point.rps),
                point
                    .cpu_us_per_request
                    .map_or("—".to_string(), |cpu| format!(
                        "{} µs",
                        format_cpu_us(cpu)
                    )),
                format_count(point.minor_faults_per_s)
            );
            if point.measured_gc.is_some() {
                eprintln!(
                    "membench: {name}: {what}: measured GC per 1,000 requests {}; per second {}",
                    crate::sweep::table::gc_cell(&point),
                    crate::sweep::table::gc_cell(&SweepPoint {
                        gc_per_1k_requests: BTreeMap::new(),
                        ..(*point).clone()
                    })
                );
            }
            measured
                .runs
                .entry((point.allocator.clone(), point.size_bytes))
                .or_default()
                .push(*point);
        }
        Measured::Ended(RunEnd::Interrupted | RunEnd::Completed) => {
            result.end = SweepEnd::Interrupted;
        }
        Measured::Ended(RunEnd::Terminated) => {
            result.end = SweepEnd::Terminated;
        }
        Measured::Ended(RunEnd::ServerDied(how)) => {
            eprintln!(
                "membench: {how} at {what}; the sweep stops, the {} runs measured before it are kept",
                measured.count()
            );
            result.end = SweepEnd::ServerDied(format!("{what}: {how}"));
        }
    }
    if let Some(stop) = interrupt::requested()
        && result.end == SweepEnd::Running
    {
        // Ctrl-C after the run had ended (while its files were written): the run is
        // complete, the sweep stops here.
        result.end = match stop {
            interrupt::Stop::Interrupt => SweepEnd::Interrupted,
            interrupt::Stop::Terminate => SweepEnd::Terminated,
        };
    }
    result.points = measured.points(&result.allocators);
    if result.end != SweepEnd::Running {
        if matches!(result.end, SweepEnd::Interrupted | SweepEnd::Terminated) {
            eprintln!(
                "membench: {}; the {} runs measured so far are written",
                result.end,
                measured.count()
            );
        }
        return Ok(false);
    }
    write_sweep_files(dir, result)?;
    Ok(true)
}

/// What one run gave: a one-repetition point, or how the run ended short of one.
enum Measured {
    Point(Box<SweepPoint>),
    /// Interrupted or the server died (never `Completed`).
    Ended(RunEnd),
}

fn measure(run: &PlannedRun) -> anyhow::Result<Measured> {
    let executed = execute(&run.plan)?;
    if let Some(line) = executed.unwritten_line() {
        // The sweep reads each run's samples back: without them there is no point.
        anyhow::bail!("{line}");
    }
    let Executed {
        out_dir: run_dir,
        summary,
        end,
        ..
    } = executed;
    if end != RunEnd::Completed {
        return Ok(Measured::Ended(end));
    }
    let samples = crate::report::read_samples(&run_dir.join("samples.csv"))?;
    Ok(Measured::Point(Box::new(point_from_run(
        run.curve.name(),
        run.curve.runtime.name(),
        run.size_bytes,
        &summary,
        &samples,
        run.run_dir.clone(),
        run.round,
    ))))
}

/// The last word on a sweep, however it ended: points in order, the cliffs between them
/// (marked where re-measured), `sweep.json`/`.csv` and the chart.
fn finish(
    mut result: SweepResult,
    measured: &Measurements,
    dir: &Path,
    remeasured: &[(String, u64)],
) -> anyhow::Result<SweepResult> {
    result.points = measured.points(&result.allocators);
    result.cliffs = find_cliffs(&result.points, result.cliff_drop);
    mark_remeasured(&mut result.cliffs, remeasured);
    write_sweep_files(dir, &result)?;
    draw(dir, &result);
    Ok(result)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rust_server_is_a_curve_per_allocator_and_another_runtime_one_curve() {
        let names: Vec<&str> = curves(
            &[Runtime::Mono, Runtime::Rust, Runtime::Go],
            &[AllocatorKind::System, AllocatorKind::Jemalloc],
        )
        .into_iter()
        .map(Curve::name)
        .collect();
        assert_eq!(names, ["mono", "system", "jemalloc", "go"]);
    }
}
