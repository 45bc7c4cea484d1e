//! Planning `membench watch`: sample a target that another load engine drives — through
//! its metrics endpoint (`--metrics URL`), its `/proc` (`--pid`), or both — for a duration
//! or until a signal, with no load generated. The plan is a [`RunPlan`] with
//! [`RunPlan::watch`] set, so the session, the results directory, the chart and the
//! verdicts are those of `membench run`.

use std::path::PathBuf;
use std::time::Duration;

use super::plan::{PlanError, RunPlan, ServerSpec, default_out_dir, holds_files, usage};
use super::request::DEFAULT_INTERVAL;
use super::scrape::MetricsPlan;
use crate::loadgen::StopAt;
use crate::params::Params;
use crate::scenario::{self, Scenario};

/// How long a watch samples when neither `--duration` nor a signal ends it.
pub const DEFAULT_WATCH_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// What `membench watch` was asked.
#[derive(Debug, Clone, Default)]
pub struct WatchRequest {
    pub metrics: Option<String>,
    pub pid: Option<u32>,
    /// A scenario name or file, for its `[expect]` and chart resources.
    pub scenario: Option<String>,
    pub duration: Option<Duration>,
    pub interval: Option<Duration>,
    pub out_dir: Option<PathBuf>,
    pub rps_metric: Option<String>,
    pub metrics_include: Option<String>,
    pub force: bool,
}

/// Checks a watch and decides it; usage errors quote the input and say what to do.
pub fn plan_watch(request: &WatchRequest) -> Result<RunPlan, PlanError> {
    if request.metrics.is_none() && request.pid.is_none() {
        return Err(usage(
            "name what to watch: --metrics URL (the target's Prometheus endpoint, e.g. http://10.0.0.5:8080/metrics) and/or --pid PID (a process on this machine)",
        ));
    }
    if request.rps_metric.is_some() && request.metrics.is_none() {
        return Err(usage(
            "--rps-metric names a counter on the --metrics page; add --metrics URL",
        ));
    }
    if let Some(pid) = request.pid
        && crate::memory::read_process(pid).is_err()
    {
        return Err(usage(format!(
            "--pid {pid}: cannot read /proc/{pid}; is the process running and yours?"
        )));
    }
    let interval = request.interval.unwrap_or(DEFAULT_INTERVAL);
    if interval.is_zero() {
        return Err(usage("invalid --interval \"0s\": expected more than 0"));
    }
    let metrics = match &request.metrics {
        Some(url) => Some(
            MetricsPlan::check(
                url,
                request.rps_metric.as_deref(),
                request.metrics_include.as_deref(),
                interval.max(Duration::from_secs(1)),
            )
            .map_err(usage)?,
        ),
        None => None,
    };
    let found: Option<Scenario> = match &request.scenario {
        Some(name) => Some(scenario::find(name).map_err(|err| usage(err.to_string()))?),
        None => None,
    };
    let name = found
        .as_ref()
        .map_or_else(|| "watch".to_string(), |s| s.name.clone());
    let out_dir = request
        .out_dir
        .clone()
        .unwrap_or_else(|| default_out_dir(&format!("watch-{name}"), &Params::new()));
    if !request.force && holds_files(&out_dir) {
        return Err(usage(format!(
            "{} already holds files (an earlier run?); choose another --out, or add --force to overwrite them",
            out_dir.display()
        )));
    }
    Ok(RunPlan {
        scenario: name,
        params: Params::new(),
        path: String::new(),
        server: ServerSpec::Watch { pid: request.pid },
        connections: 0,
        threads: 0,
        rate_per_s: None,
        stop: StopAt::Duration(request.duration.unwrap_or(DEFAULT_WATCH_DURATION)),
        warmup: Duration::ZERO,
        interval,
        timeout: interval.max(Duration::from_secs(1)),
        out_dir,
        expectations: found
            .as_ref()
            .map(Scenario::expectations)
            .unwrap_or_default(),
        gc_lens: None,
        chart_resources: found
            .as_ref()
            .map(Scenario::chart_resources)
            .unwrap_or_default(),
        metrics,
        watch: true,
    })
}
