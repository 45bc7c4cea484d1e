//! Running a plan and writing what it left behind: the results directory, the samples
//! (written by the sampling loop as it goes), `summary.json` with the verdicts, and the
//! chart. `membench run`, `compare --run` and `sweep` all run through [`execute`], so a
//! compared or swept run is exactly what `membench run` writes. Prints nothing on stdout.

use std::path::PathBuf;

use anyhow::Context;

use super::plan::RunPlan;
use super::session::{self, RunOutcome};
use crate::loadgen::StopAt;
use crate::report::{self, LatencySummary, RunEnd, RunInfo, Summary};
use crate::verdict;

/// What one executed run left behind.
pub struct Executed {
    /// The results directory (samples.csv, summary.json, chart.png).
    pub out_dir: PathBuf,
    pub summary: Summary,
    pub end: RunEnd,
}

/// Runs the plan to its end and writes its results. Errors only for what prevents a run
/// from starting or its files from being written; how the run ended is [`Executed::end`].
pub fn execute(plan: &RunPlan) -> anyhow::Result<Executed> {
    std::fs::create_dir_all(&plan.out_dir).with_context(|| {
        format!(
            "cannot create the results directory {}; choose another with --out DIR",
            plan.out_dir.display()
        )
    })?;
    if let Some(lens) = &plan.gc_lens {
        eprintln!("membench: {}", super::GcLens::new(lens).describe());
    }
    let outcome = session::run(plan)?;
    let info = run_info(plan, &outcome);
    let latency = LatencySummary::from_histogram(&outcome.load_total.latency_us);
    let mut summary = report::summarize(&outcome.series, &info, &latency);
    summary.verdict = verdict::check_all(&outcome.series, &plan.expectations);
    if let (Some(modelled), Some(lens)) = (summary.modelled_gc.as_mut(), &outcome.gc_lens) {
        modelled.description = lens.describe();
    }
    if let Some(measured) = summary.measured_gc.as_mut() {
        measured.runtime = outcome.runtime.clone();
    }
    report::write_summary(&plan.out_dir.join("summary.json"), &summary)?;
    let png = plan.out_dir.join("chart.png");
    let svg = plan.out_dir.join("chart.svg");
    if let Err(err) = report::render_chart(&outcome.series, &png, Some(&svg)) {
        eprintln!(
            "membench: the chart could not be drawn: {err:#} (samples.csv and summary.json are written)"
        );
    }
    Ok(Executed {
        out_dir: plan.out_dir.clone(),
        summary,
        end: outcome.end,
    })
}

/// The facts about the run that are not in its samples.
fn run_info(plan: &RunPlan, outcome: &RunOutcome) -> RunInfo {
    RunInfo {
        command_line: std::env::args().collect(),
        scenario: plan.scenario.clone(),
        params: plan.params.clone(),
        path: plan.path.clone(),
        allocator: outcome.series.allocator,
        target: format!("http://{}{}", outcome.server_addr, plan.path),
        pid: outcome.pid,
        machine: report::MachineInfo::detect(),
        started: humantime::format_rfc3339_seconds(outcome.started).to_string(),
        ended: humantime::format_rfc3339_seconds(outcome.ended).to_string(),
        connections: plan.connections,
        rate_per_s: plan.rate_per_s,
        duration_s: match plan.stop {
            StopAt::Duration(duration) => Some(duration.as_secs_f64()),
            StopAt::Requests(_) => None,
        },
        requests: match plan.stop {
            StopAt::Requests(requests) => Some(requests),
            StopAt::Duration(_) => None,
        },
        warmup_s: plan.warmup.as_secs_f64(),
        interval_s: plan.interval.as_secs_f64(),
        end: outcome.end.clone(),
    }
}
