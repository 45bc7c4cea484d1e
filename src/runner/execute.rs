//! Running a plan and writing what it left behind: the results directory, the samples
//! (written by the sampling loop as it goes), `summary.json` with the verdicts, and the
//! chart. `membench run`, `compare --run` and `sweep` all run through [`execute`], so a
//! compared or swept run is exactly what `membench run` writes. Prints nothing on stdout.
//!
//! A file that cannot be written (a full disk) does not lose the others: each is written
//! whole or not at all (see `report::atomic_file`), the failures are said on stderr and
//! listed in [`Executed::unwritten`], and the summary is still handed back for stdout.

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
    /// The results files that could not be written (file name: why), in the order
    /// tried; empty when every file is written.
    pub unwritten: Vec<String>,
}

impl Executed {
    /// One line naming the files that could not be written, for the command's last word;
    /// `None` when every file is written.
    pub fn unwritten_line(&self) -> Option<String> {
        (!self.unwritten.is_empty()).then(|| {
            let names: Vec<&str> = self
                .unwritten
                .iter()
                .map(|entry| entry.split(':').next().unwrap_or(entry))
                .collect();
            format!(
                "could not write {} in {} (the summary above is complete; free some space and rerun)",
                names.join(", "),
                self.out_dir.display()
            )
        })
    }
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
    summary.totals.status_codes = outcome.load_total.status_codes.to_map();
    summary.verdict = if plan.watch {
        // No load of membench's own: the verdicts are on what was watched.
        plan.expectations
            .iter()
            .map(|e| verdict::check(&outcome.series, e))
            .collect()
    } else {
        verdict::check_all(&outcome.series, &plan.expectations)
    };
    summary.sources = super::sources::sources(plan, &outcome);
    summary.metrics = super::sources::metrics_summary(plan, &outcome);
    if let (Some(modelled), Some(lens)) = (summary.modelled_gc.as_mut(), &outcome.gc_lens) {
        modelled.description = lens.describe();
    }
    if let Some(measured) = summary.measured_gc.as_mut() {
        measured.runtime = outcome.runtime.clone();
    }
    let dir = &plan.out_dir;
    let series = &outcome.series;
    let written: [(&str, anyhow::Result<()>); 4] = [
        ("samples.csv", outcome.samples_file),
        (
            "summary.json",
            report::write_summary(&dir.join("summary.json"), &summary),
        ),
        (
            "chart.png",
            report::render_chart_png(series, &dir.join("chart.png")),
        ),
        (
            "chart.svg",
            report::render_chart_svg(series, &dir.join("chart.svg")),
        ),
    ];
    let mut unwritten = Vec::new();
    for (name, result) in written {
        if let Err(err) = result {
            eprintln!("membench: {name} could not be written: {err:#}");
            unwritten.push(format!("{name}: {err:#}"));
        }
    }
    Ok(Executed {
        out_dir: plan.out_dir.clone(),
        summary,
        end: outcome.end,
        unwritten,
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
        target: match (outcome.server_addr, &plan.metrics) {
            (Some(addr), _) => format!("http://{addr}{}", plan.path),
            (None, Some(metrics)) => metrics.url.clone(),
            (None, None) => String::new(),
        },
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
