//! `membench run`: decide the plan from the scenario and flags, run it, write the summary
//! and charts, print the result. Exit codes: 0 completed, 1 the server died or an error,
//! 2 unknown scenario or bad arguments, 3 an expectation failed under `--check`,
//! 130 interrupted (results are written either way).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;

use crate::cli::{GcModelArg, OutputFormat, RunArgs};
use crate::format::format_bytes;
use crate::gcmodel::{ModelledMachine, Preset};
use crate::loadgen::{self, StopAt};
use crate::report::{self, LatencySummary, RunEnd, RunInfo, Summary};
use crate::runner::{self, Ending, GcLensPlan, RunPlan, ServerSpec};
use crate::scenario::{self, LookupError};
use crate::verdict;

/// Connections when neither the flag nor the scenario says.
const DEFAULT_CONNECTIONS: usize = 32;
/// The child server's default `--max-size`: larger sizes would only get 400s.
const MAX_SIZE_BYTES: u64 = 64 << 20;
/// Load duration when neither the flag nor the scenario says.
const DEFAULT_DURATION: Duration = Duration::from_secs(30);

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let plan = match plan(&args) {
        Ok(plan) => plan,
        Err(PlanError::Usage(message)) => {
            eprintln!("membench: {message}");
            return Ok(ExitCode::from(2));
        }
        Err(PlanError::Other(err)) => return Err(err),
    };
    let Executed {
        out_dir,
        summary,
        ending,
    } = execute(&plan)?;

    match args.format {
        OutputFormat::Text => {
            print!("{}", report::format_text(&summary));
            println!("results: {}", out_dir.display());
        }
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
    }
    let failed_checks = summary
        .verdict
        .iter()
        .filter(|check| !check.matches)
        .count();
    Ok(match ending {
        Ending::Completed if args.check && failed_checks > 0 => {
            eprintln!(
                "membench: {failed_checks} of {} expectations do not match (--check)",
                summary.verdict.len()
            );
            ExitCode::from(3)
        }
        Ending::Completed => ExitCode::SUCCESS,
        Ending::Interrupted => {
            eprintln!(
                "membench: interrupted; the samples taken so far are written to {}",
                out_dir.display()
            );
            ExitCode::from(130)
        }
        Ending::ServerDied(how) => {
            eprintln!(
                "membench: the server {how} during the run; everything sampled until then is written to {}",
                out_dir.display()
            );
            ExitCode::from(1)
        }
    })
}

/// What one executed run left behind.
pub(super) struct Executed {
    /// The results directory (samples.csv, summary.json, chart.png).
    pub(super) out_dir: PathBuf,
    pub(super) summary: Summary,
    pub(super) ending: Ending,
}

/// Runs a plan and writes its results: the directory, samples (by the runner), summary
/// with verdicts, chart. Shared by `run` and `compare --run`, so a compared run is exactly
/// what `membench run` would have written. Prints nothing on stdout.
pub(super) fn execute(plan: &RunPlan) -> anyhow::Result<Executed> {
    std::fs::create_dir_all(&plan.out_dir).with_context(|| {
        format!(
            "cannot create the results directory {}; choose another with --out DIR",
            plan.out_dir.display()
        )
    })?;
    if let Some(lens) = &plan.gc_lens {
        eprintln!("membench: {}", runner::GcLens::new(lens).describe());
    }
    let outcome = runner::run(plan)?;

    let end = match &outcome.ending {
        Ending::Completed => RunEnd::Completed,
        Ending::Interrupted => RunEnd::Interrupted,
        Ending::ServerDied(how) => RunEnd::ServerDied(format!("the server {how}")),
    };
    let info = RunInfo {
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
        end,
    };
    let latency = LatencySummary::from_histogram(&outcome.load_total.latency_us);
    let mut summary = report::summarize(&outcome.series, &info, &latency);
    summary.verdict = verdict::check_all(&outcome.series, &plan.expectations);
    if let (Some(modelled), Some(lens)) = (summary.modelled_gc.as_mut(), &outcome.gc_lens) {
        modelled.description = lens.describe();
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
        ending: outcome.ending,
    })
}

pub(super) enum PlanError {
    /// Bad arguments: message and exit code 2.
    Usage(String),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for PlanError {
    fn from(err: anyhow::Error) -> Self {
        PlanError::Other(err)
    }
}

/// Turns the scenario and flags into a plan; flags win over the scenario's defaults.
pub(super) fn plan(args: &RunArgs) -> Result<RunPlan, PlanError> {
    let usage = |err: LookupError| PlanError::Usage(err.to_string());
    let target = match &args.target {
        Some(url) => Some(
            loadgen::parse_target(url)
                .map_err(|err| PlanError::Usage(format!("--target: {err:#}")))?,
        ),
        None => None,
    };
    let found = match (&args.scenario, &target) {
        (Some(name), _) => Some(scenario::find(name).map_err(usage)?),
        (None, Some(_)) => None,
        (None, None) => {
            return Err(PlanError::Usage(
                "name a scenario to run, e.g. `membench run loh --size 84976` (see `membench list`), or drive your own server with --target URL --pid PID".to_string(),
            ));
        }
    };

    if let Some(size) = args.size
        && !(1..=MAX_SIZE_BYTES).contains(&size)
    {
        return Err(PlanError::Usage(format!(
            "invalid --size {size} ({}): the server accepts 1 byte to {} (its --max-size)",
            format_bytes(size),
            format_bytes(MAX_SIZE_BYTES)
        )));
    }
    let (name, params, path, defaults) = match &found {
        Some(scenario) => {
            let resolved = scenario::resolve(scenario, args.size, &args.params).map_err(usage)?;
            (
                scenario.name.clone(),
                resolved.params,
                resolved.path,
                Some(scenario),
            )
        }
        None => {
            if args.size.is_some() || !args.params.is_empty() {
                return Err(PlanError::Usage(
                    "--size and --param fill a scenario's parameters; with --target and no scenario, put the parameters in the URL".to_string(),
                ));
            }
            let (_, _, path) = target
                .clone()
                .expect("checked above: a target without scenario");
            ("target".to_string(), Vec::new(), path, None)
        }
    };

    let server = match (&target, args.pid) {
        (Some((addr, host, _)), Some(pid)) => ServerSpec::Target {
            addr: *addr,
            host: host.clone(),
            pid,
        },
        _ => ServerSpec::Child {
            allocator: args.allocator,
            serve_args: child_lens_args(args),
        },
    };
    let connections = args
        .connections
        .or(defaults.and_then(|s| s.load.connections))
        .unwrap_or(DEFAULT_CONNECTIONS);
    if connections == 0 {
        return Err(PlanError::Usage(
            "invalid --connections \"0\": expected at least 1".to_string(),
        ));
    }
    let requests = args.requests.or(defaults.and_then(|s| s.load.requests));
    let stop = match requests {
        Some(0) => {
            return Err(PlanError::Usage(
                "invalid --requests \"0\": expected at least 1".to_string(),
            ));
        }
        Some(requests) if args.duration.is_none() => StopAt::Requests(requests),
        _ => StopAt::Duration(
            args.duration
                .or(defaults.and_then(|s| s.default_duration()))
                .unwrap_or(DEFAULT_DURATION),
        ),
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        return Err(PlanError::Usage(
            "invalid --threads \"0\": expected at least 1".to_string(),
        ));
    }
    let gc_lens = gc_lens_plan(args, defaults, &params)?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| default_out_dir(&name, &params));
    Ok(RunPlan {
        scenario: name,
        params,
        path,
        server,
        connections,
        threads,
        rate_per_s: args.rate.or(defaults.and_then(|s| s.default_rate())),
        stop,
        warmup: args.warmup,
        interval: args.interval,
        timeout: args.timeout,
        out_dir,
        expectations: defaults.map(|s| s.expectations()).unwrap_or_default(),
        gc_lens,
    })
}

/// The modelled .NET GC lens: `--gc-model`, or by default the server preset for the
/// article's scenarios. Asking for it on a scenario that declares no `[dotnet]` section is
/// a usage error (there is nothing to feed the model with).
fn gc_lens_plan(
    args: &RunArgs,
    scenario: Option<&scenario::Scenario>,
    params: &[(String, String)],
) -> Result<Option<GcLensPlan>, PlanError> {
    let from_article = scenario.is_some_and(|s| s.from_article());
    let preset = match args.gc_model {
        Some(GcModelArg::None) => return Ok(None),
        Some(GcModelArg::Server) => Preset::Server,
        Some(GcModelArg::Workstation) => Preset::Workstation,
        None if from_article => Preset::Server,
        None => return Ok(None),
    };
    let name = scenario.map_or("--target", |s| s.name.as_str());
    let per_request = match scenario.and_then(|s| s.dotnet_allocations(params)) {
        Some(Ok(allocations)) => allocations,
        Some(Err(err)) => {
            return Err(PlanError::Usage(format!(
                "scenario \"{name}\" [dotnet] allocations: {err}"
            )));
        }
        None => {
            return Err(PlanError::Usage(format!(
                "--gc-model {}: scenario \"{name}\" declares no [dotnet] section (what its request allocates in .NET), so there is nothing to feed the model with; use --gc-model none",
                preset.name()
            )));
        }
    };
    let (machine, mut options) = ModelledMachine::from(args.gc_machine).resolve().map_err(
        |err| {
            PlanError::Usage(format!(
                "--gc-machine this: {err}; use --gc-machine article (the article's machine) instead"
            ))
        },
    )?;
    if let Some(bytes) = args.dotnet_overhead {
        options.framework_overhead_bytes = bytes;
    }
    Ok(Some(GcLensPlan {
        preset,
        machine,
        options,
        per_request,
    }))
}

/// `membench run SCENARIO` with every other flag at its default, taken from the `run`
/// command's own definition, so `compare --run` and `sweep` make exactly the runs
/// `membench run` would.
pub(super) fn default_run_args(scenario: &str) -> Result<RunArgs, PlanError> {
    use clap::{Args, FromArgMatches};
    let command = RunArgs::augment_args(clap::Command::new("run"));
    let matches = command
        .try_get_matches_from(["run", scenario])
        .map_err(|err| PlanError::Usage(format!("invalid scenario \"{scenario}\": {err}")))?;
    RunArgs::from_arg_matches(&matches)
        .map_err(|err| PlanError::Other(anyhow::anyhow!("cannot build the run arguments: {err}")))
}

/// The child server's own modelled GC, for its live dashboard: the run's preset, machine
/// and overhead (`--gc-model none` when the run models nothing). The child feeds its model
/// from its handlers, the run from the load generator's counts; both see the same requests.
fn child_lens_args(args: &RunArgs) -> Vec<String> {
    // Without the flag the child runs the server preset, like `membench serve`: its
    // endpoints are the article's.
    let preset = args.gc_model.unwrap_or(GcModelArg::Server);
    let mut child = vec!["--gc-model".to_string(), value_name(preset)];
    if preset != GcModelArg::None {
        child.push("--gc-machine".to_string());
        child.push(value_name(args.gc_machine));
        if let Some(bytes) = args.dotnet_overhead {
            child.push("--dotnet-overhead".to_string());
            child.push(bytes.to_string());
        }
    }
    child
}

/// How a flag's value is spelled on the command line (`server`, `this`).
fn value_name(value: impl clap::ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// `results/<scenario>[-<name><value>…]-<UTC timestamp>`, e.g.
/// `results/loh-size84976-20261122T103000Z`.
fn default_out_dir(scenario: &str, params: &[(String, String)]) -> PathBuf {
    PathBuf::from("results").join(format!("{}-{}", dir_name(scenario, params), utc_stamp()))
}

/// `loh-size84976`: a scenario and its parameters as a directory name (anything but
/// ASCII letters, digits, `-` and `.` becomes `_`).
pub(super) fn dir_name(scenario: &str, params: &[(String, String)]) -> String {
    let mut name = scenario.to_string();
    for (param, value) in params {
        name.push_str(&format!("-{param}{value}"));
    }
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The current time as `20261122T103000Z`, for directory names that sort by time.
pub(super) fn utc_stamp() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect()
}

#[cfg(test)]
mod tests {
    use clap::{Args, FromArgMatches};

    use super::*;
    use crate::gcmodel::{GcOptions, MachineSpec};

    #[test]
    fn the_child_server_models_what_the_run_models() {
        let child = |args: &[&str]| match plan(&run_args(args)).ok().map(|p| p.server) {
            Some(ServerSpec::Child { serve_args, .. }) => serve_args.join(" "),
            _ => panic!("no child for {args:?}"),
        };
        assert_eq!(
            child(&["loh", "--size", "84976"]),
            "--gc-model server --gc-machine article"
        );
        assert_eq!(
            child(&[
                "bigstring",
                "--gc-model",
                "workstation",
                "--gc-machine",
                "this",
                "--dotnet-overhead",
                "2KiB"
            ]),
            "--gc-model workstation --gc-machine this --dotnet-overhead 2048"
        );
        assert_eq!(child(&["loh", "--gc-model", "none"]), "--gc-model none");
    }

    fn run_args(args: &[&str]) -> RunArgs {
        let command = RunArgs::augment_args(clap::Command::new("run"));
        let matches = command
            .try_get_matches_from(std::iter::once("run").chain(args.iter().copied()))
            .unwrap();
        RunArgs::from_arg_matches(&matches).unwrap()
    }

    fn lens(args: &[&str]) -> Result<Option<GcLensPlan>, String> {
        match plan(&run_args(args)) {
            Ok(plan) => Ok(plan.gc_lens),
            Err(PlanError::Usage(message)) => Err(message),
            Err(PlanError::Other(err)) => Err(format!("{err:#}")),
        }
    }

    #[test]
    fn the_lens_is_on_by_default_for_the_articles_scenarios_only() {
        let loh = lens(&["loh", "--size", "84976"]).unwrap().unwrap();
        assert_eq!(loh.preset, Preset::Server);
        assert_eq!(loh.machine, MachineSpec::article());
        assert_eq!(
            loh.per_request[0].kind,
            crate::gcmodel::ManagedKind::ByteArray { len: 84_976 }
        );
        assert_eq!(lens(&["ping"]).unwrap(), None);
        assert_eq!(lens(&["loh", "--gc-model", "none"]).unwrap(), None);
        let workstation = lens(&[
            "bigstring",
            "--gc-model",
            "workstation",
            "--dotnet-overhead",
            "2KiB",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(workstation.preset, Preset::Workstation);
        assert_eq!(workstation.options.framework_overhead_bytes, 2048);
    }

    #[test]
    fn gc_machine_this_models_this_machine_with_todays_budgets() {
        let this = lens(&["loh", "--gc-machine", "this"]).unwrap().unwrap();
        let detected = MachineSpec::detect().unwrap();
        assert_eq!(this.machine, detected);
        assert!(!this.options.core2x_factor);
        let article = lens(&["loh"]).unwrap().unwrap();
        assert_eq!(article.options, GcOptions::article());
    }

    #[test]
    fn modelling_a_scenario_without_dotnet_section_is_a_usage_error() {
        let err = lens(&["ping", "--gc-model", "server"]).unwrap_err();
        assert!(
            err.contains("\"ping\"") && err.contains("[dotnet]"),
            "{err}"
        );
    }
}
