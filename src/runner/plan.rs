//! Deciding a run: a [`RunRequest`] and its scenario become a [`RunPlan`] in which nothing
//! is left open — the request path, the server to start or attach to, the load, the
//! expectations, the modelled .NET GC lens and the results directory. Every check that
//! can fail happens here, before anything starts, so `compare --run` and `sweep` can plan
//! all their runs first and refuse a typo before the first run costs anything.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::gc_lens::GcLensPlan;
use super::request::{DEFAULT_CONNECTIONS, DEFAULT_DURATION, LensChoice, RunRequest};
use super::runtime::Runtime;
use crate::format::format_bytes;
use crate::gcmodel::{LensConfig, ModelledMachine, Preset};
use crate::loadgen::{self, StopAt};
use crate::memory::AllocatorKind;
use crate::params::Params;
use crate::scenario::{self, Scenario};
use crate::server::config::DEFAULT_MAX_INFLIGHT_BYTES;
use crate::units::MAX_SIZE_BYTES;

/// The server a run measures.
#[derive(Debug, Clone)]
pub enum ServerSpec {
    /// Start `membench serve` as a child with this allocator and extra `serve` flags, or
    /// (another `runtime`) that runtime's reference server with its `runtime_args`.
    Child {
        allocator: AllocatorKind,
        serve_args: Vec<String>,
        runtime: Runtime,
        runtime_args: Vec<String>,
    },
    /// A server someone else started: where to send load and which process to sample
    /// (`None`: through `--metrics` only, nothing reads `/proc`).
    Target {
        addr: SocketAddr,
        host: String,
        pid: Option<u32>,
    },
    /// `membench watch`: no load; this process (if any) and the metrics endpoint.
    Watch { pid: Option<u32> },
}

/// Everything a run needs, decided before it starts.
#[derive(Debug, Clone)]
pub struct RunPlan {
    pub scenario: String,
    pub params: Params,
    /// Path and query requested, e.g. `/api/loh/84976`.
    pub path: String,
    pub server: ServerSpec,
    pub connections: usize,
    pub threads: usize,
    /// Open-loop rate in requests per second; closed loop when `None`.
    pub rate_per_s: Option<f64>,
    /// How long to load after the warm-up, or how many requests in total.
    pub stop: StopAt,
    pub warmup: Duration,
    pub interval: Duration,
    pub timeout: Duration,
    /// The results directory (created by [`execute`](super::execute)).
    pub out_dir: PathBuf,
    /// What the scenario expects each series to do, checked after the run.
    pub expectations: Vec<crate::verdict::Expectation>,
    /// The modelled .NET GC lens, fed with each interval's requests; `None` when off.
    pub gc_lens: Option<GcLensPlan>,
    /// The chart's resource panel: the scenario's resources and the OS limits of this
    /// machine (empty without a scenario or when it has none).
    pub chart_resources: crate::resources::ChartResources,
    /// `--metrics`: the target's Prometheus endpoint, scraped each interval.
    pub metrics: Option<super::scrape::MetricsPlan>,
    /// `membench watch`: no load generated; `stop` is the watch's duration.
    pub watch: bool,
}

impl RunPlan {
    /// The load as people read it: "32 connections, closed loop".
    pub fn load_label(&self) -> String {
        if self.watch {
            return "watched, load from elsewhere".to_string();
        }
        match self.rate_per_s {
            Some(rate) => format!(
                "{} connections, open loop at {} RPS",
                self.connections,
                crate::format::format_count(rate)
            ),
            None => format!("{} connections, closed loop", self.connections),
        }
    }
}

/// Why a run could not be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Bad arguments (exit code 2): the message says what was wrong and what to do.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub(super) fn usage(message: impl Into<String>) -> PlanError {
    PlanError::Usage(message.into())
}

/// Turns a request and its scenario into a plan; the request wins over the scenario's
/// defaults, which win over membench's.
pub fn plan(request: &RunRequest) -> Result<RunPlan, PlanError> {
    let target = match &request.target {
        Some(url) => {
            Some(loadgen::parse_target(url).map_err(|err| usage(format!("--target: {err:#}")))?)
        }
        None => None,
    };
    let found = match (&request.scenario, &target) {
        (Some(name), _) => Some(scenario::find(name).map_err(|err| usage(err.to_string()))?),
        (None, Some(_)) => None,
        (None, None) => {
            return Err(usage(
                "name a scenario to run, e.g. `membench run loh --size 84976` (see `membench list`), or drive your own server with --target URL --pid PID",
            ));
        }
    };
    if let Some(size) = request.size_bytes
        && !(1..=MAX_SIZE_BYTES).contains(&size)
    {
        return Err(usage(format!(
            "invalid --size {size} ({}): the server accepts 1 byte to {} (its --max-size)",
            format_bytes(size),
            format_bytes(MAX_SIZE_BYTES)
        )));
    }
    let (name, params, path) = match (&found, &target) {
        (Some(scenario), _) => {
            let resolved = scenario::resolve(scenario, request.size_bytes, &request.params)
                .map_err(|err| usage(err.to_string()))?;
            (scenario.name.clone(), resolved.params, resolved.path)
        }
        (None, Some((_, _, path))) => {
            if request.size_bytes.is_some() || !request.params.is_empty() {
                return Err(usage(
                    "--size and --param fill a scenario's parameters; with --target and no scenario, put the parameters in the URL",
                ));
            }
            ("target".to_string(), Params::new(), path.clone())
        }
        (None, None) => unreachable!("a request without scenario or target is refused above"),
    };
    let defaults = found.as_ref();
    let connections = request
        .connections
        .or(defaults.and_then(|s| s.load.connections))
        .unwrap_or(DEFAULT_CONNECTIONS);
    if connections == 0 {
        return Err(usage("invalid --connections \"0\": expected at least 1"));
    }
    let server = match (&target, request.pid) {
        (Some(_), _) if request.runtime != Runtime::Rust => {
            return Err(usage(format!(
                "--runtime {} starts that runtime's server; with --target, membench drives a server you started (leave --runtime out)",
                request.runtime.name()
            )));
        }
        (Some((addr, host, _)), pid) => {
            if pid.is_none() && request.metrics.is_none() {
                return Err(usage(
                    "--target needs --pid PID (its process on this machine, read from /proc) or --metrics URL (its Prometheus endpoint, for a server anywhere), or both",
                ));
            }
            if let Some(pid) = pid
                && !request.skip_pid_check
            {
                check_pid_serves(pid, addr.port())?;
            }
            ServerSpec::Target {
                addr: *addr,
                host: host.clone(),
                pid,
            }
        }
        _ => {
            let runtime = request.runtime;
            if runtime != Runtime::Rust {
                runtime.check().map_err(usage)?;
            }
            runtime.check_args(&request.runtime_args).map_err(usage)?;
            ServerSpec::Child {
                allocator: request.allocator,
                serve_args: child_serve_args(request, &params, connections),
                runtime,
                runtime_args: request.runtime_args.clone(),
            }
        }
    };
    let stop = match request.requests.or(defaults.and_then(|s| s.load.requests)) {
        Some(0) => return Err(usage("invalid --requests \"0\": expected at least 1")),
        Some(requests) if request.duration.is_none() => StopAt::Requests(requests),
        _ => StopAt::Duration(
            request
                .duration
                .or(defaults.and_then(Scenario::default_duration))
                .unwrap_or(DEFAULT_DURATION),
        ),
    };
    let threads = request
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        return Err(usage("invalid --threads \"0\": expected at least 1"));
    }
    let gc_lens = gc_lens_plan(request, defaults, &params)?;
    let metrics = match &request.metrics {
        Some(_) if target.is_none() => {
            return Err(usage(
                "--metrics samples a --target (or use `membench watch --metrics URL`); a child server is read from /proc and its diagnostics",
            ));
        }
        Some(url) => Some(
            super::scrape::MetricsPlan::check(
                url,
                None,
                request.metrics_include.as_deref(),
                request.interval.max(Duration::from_secs(1)),
            )
            .map_err(usage)?,
        ),
        None if request.metrics_include.is_some() => {
            return Err(usage(
                "--metrics-include keeps series of --metrics; add --metrics URL",
            ));
        }
        None => None,
    };
    let out_dir = request
        .out_dir
        .clone()
        .unwrap_or_else(|| default_out_dir(&name, &params));
    if !request.force && holds_files(&out_dir) {
        return Err(usage(format!(
            "{} already holds files (an earlier run?); choose another --out, or add --force to overwrite them",
            out_dir.display()
        )));
    }
    Ok(RunPlan {
        scenario: name,
        params,
        path,
        server,
        connections,
        threads,
        rate_per_s: request
            .rate_per_s
            .or(defaults.and_then(Scenario::default_rate)),
        stop,
        warmup: request.warmup,
        interval: request.interval,
        timeout: request.timeout,
        out_dir,
        expectations: defaults.map(Scenario::expectations).unwrap_or_default(),
        gc_lens,
        chart_resources: defaults.map(Scenario::chart_resources).unwrap_or_default(),
        metrics,
        watch: false,
    })
}

/// A `--pid` that does not listen on the target's port would be sampled all the same and
/// its flat memory would "pass" any leak check: refuse it, saying what it does listen on.
fn check_pid_serves(pid: u32, port: u16) -> Result<(), PlanError> {
    let ports = crate::memory::listening_ports(pid).map_err(|err| {
        usage(format!(
            "--pid {pid}: cannot read its sockets ({err}); is the process running and yours? (--skip-pid-check samples it anyway)"
        ))
    })?;
    if ports.contains(&port) {
        return Ok(());
    }
    let listens = if ports.is_empty() {
        "no TCP port".to_string()
    } else {
        let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
        format!("port {}", ports.join(", "))
    };
    Err(usage(format!(
        "--pid {pid} does not listen on the target's port {port} (it listens on {listens}), so its memory is not the target's; give the server's pid, or --skip-pid-check when its sockets belong to another process (a container, a proxy)"
    )))
}

/// The modelled .NET GC lens: the request's preset, or by default the server preset for
/// the article's scenarios. Asking for it on a scenario that declares no `[dotnet]`
/// section is a usage error (there is nothing to feed the model with).
fn gc_lens_plan(
    request: &RunRequest,
    scenario: Option<&Scenario>,
    params: &Params,
) -> Result<Option<GcLensPlan>, PlanError> {
    // A runtime whose collector is measured draws its own collections; the modelled .NET
    // lens is added only when asked for.
    let from_article =
        scenario.is_some_and(Scenario::is_from_article) && request.runtime == Runtime::Rust;
    let preset = match request.gc_model {
        LensChoice::Off => return Ok(None),
        LensChoice::On(preset) => preset,
        LensChoice::ScenarioDefault if from_article => Preset::Server,
        LensChoice::ScenarioDefault => return Ok(None),
    };
    let name = scenario.map_or("--target", |s| s.name.as_str());
    let per_request = match scenario.and_then(|s| s.dotnet_allocations(params)) {
        Some(Ok(allocations)) => allocations,
        Some(Err(err)) => {
            return Err(usage(format!(
                "scenario \"{name}\" [dotnet] allocations: {err}"
            )));
        }
        None => {
            return Err(usage(format!(
                "--gc-model {}: scenario \"{name}\" declares no [dotnet] section (what its request allocates in .NET), so there is nothing to feed the model with; use --gc-model none",
                preset.name()
            )));
        }
    };
    let lens = LensConfig {
        preset,
        machine: request.gc_machine,
        dotnet_overhead_bytes: request.dotnet_overhead_bytes,
    }
    .resolve()
    .map_err(|err| usage(err.to_string()))?;
    Ok(Some(GcLensPlan {
        preset: lens.preset,
        machine: lens.machine,
        options: lens.options,
        per_request,
    }))
}

/// The child server's flags: its lens, and a bytes-in-flight budget that the run's own
/// load fits in.
fn child_serve_args(request: &RunRequest, params: &Params, connections: usize) -> Vec<String> {
    let mut args = child_lens_args(request);
    // Every connection may hold a response of `size` bytes (twice, while one is written
    // and the next built): a run must not measure the server's own guard refusing it.
    if let Some(size) = params.size_bytes() {
        let in_flight = size.saturating_mul(2 * connections as u64);
        if in_flight > DEFAULT_MAX_INFLIGHT_BYTES {
            args.push("--max-inflight".to_string());
            args.push(in_flight.to_string());
        }
    }
    args
}

/// The child server's own modelled GC, for its live dashboard: the run's preset, machine
/// and overhead (`--gc-model none` when the run models nothing). The child feeds its model
/// from its handlers, the run from the load generator's counts; both see the same requests.
fn child_lens_args(request: &RunRequest) -> Vec<String> {
    // By default the child runs the server preset, like `membench serve`: its endpoints
    // are the article's.
    let preset = match request.gc_model {
        LensChoice::Off => return vec!["--gc-model".to_string(), "none".to_string()],
        LensChoice::On(preset) => preset,
        LensChoice::ScenarioDefault => Preset::Server,
    };
    let machine = match request.gc_machine {
        ModelledMachine::Article => "article",
        ModelledMachine::This => "this",
    };
    let mut child = vec![
        "--gc-model".to_string(),
        preset.name().to_string(),
        "--gc-machine".to_string(),
        machine.to_string(),
    ];
    if let Some(bytes) = request.dotnet_overhead_bytes {
        child.push("--dotnet-overhead".to_string());
        child.push(bytes.to_string());
    }
    child
}

/// Whether `dir` exists and has anything in it.
pub(super) fn holds_files(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
}

/// `results/<scenario>[-<name><value>…]-<UTC timestamp>`, e.g.
/// `results/loh-size84976-20261122T103000Z`.
pub(super) fn default_out_dir(scenario: &str, params: &Params) -> PathBuf {
    PathBuf::from("results").join(format!("{}-{}", dir_name(scenario, params), utc_stamp()))
}

/// `loh-size84976`: a scenario and its parameters as a directory name (anything but
/// ASCII letters, digits, `-` and `.` becomes `_`).
pub fn dir_name(scenario: &str, params: &Params) -> String {
    let mut name = scenario.to_string();
    for (param, value) in params.iter() {
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
pub fn utc_stamp() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gcmodel::{GcOptions, MachineSpec};

    fn request(scenario: &str, change: impl FnOnce(&mut RunRequest)) -> RunRequest {
        let mut request = RunRequest::scenario(scenario);
        change(&mut request);
        request
    }

    fn lens(request: &RunRequest) -> Result<Option<GcLensPlan>, String> {
        match plan(request) {
            Ok(plan) => Ok(plan.gc_lens),
            Err(err) => Err(err.to_string()),
        }
    }

    #[test]
    fn the_child_server_models_what_the_run_models() {
        let child = |request: RunRequest| match plan(&request).ok().map(|p| p.server) {
            Some(ServerSpec::Child { serve_args, .. }) => serve_args.join(" "),
            _ => panic!("no child for {request:?}"),
        };
        assert_eq!(
            child(request("loh", |r| r.size_bytes = Some(84_976))),
            "--gc-model server --gc-machine article"
        );
        assert_eq!(
            child(request("bigstring", |r| {
                r.gc_model = LensChoice::On(Preset::Workstation);
                r.gc_machine = ModelledMachine::This;
                r.dotnet_overhead_bytes = Some(2048);
            })),
            "--gc-model workstation --gc-machine this --dotnet-overhead 2048"
        );
        assert_eq!(
            child(request("loh", |r| r.gc_model = LensChoice::Off)),
            "--gc-model none"
        );
    }

    #[test]
    fn the_lens_is_on_by_default_for_the_articles_scenarios_only() {
        let loh = lens(&request("loh", |r| r.size_bytes = Some(84_976)))
            .unwrap()
            .unwrap();
        assert_eq!(loh.preset, Preset::Server);
        assert_eq!(loh.machine, MachineSpec::article());
        assert_eq!(
            loh.per_request[0].kind,
            crate::gcmodel::ManagedKind::ByteArray { len: 84_976 }
        );
        assert_eq!(lens(&RunRequest::scenario("ping")).unwrap(), None);
        assert_eq!(
            lens(&request("loh", |r| r.gc_model = LensChoice::Off)).unwrap(),
            None
        );
        let workstation = lens(&request("bigstring", |r| {
            r.gc_model = LensChoice::On(Preset::Workstation);
            r.dotnet_overhead_bytes = Some(2048);
        }))
        .unwrap()
        .unwrap();
        assert_eq!(workstation.preset, Preset::Workstation);
        assert_eq!(workstation.options.framework_overhead_bytes, 2048);
    }

    #[test]
    fn gc_machine_this_models_this_machine_with_todays_budgets() {
        let this = lens(&request("loh", |r| r.gc_machine = ModelledMachine::This))
            .unwrap()
            .unwrap();
        assert_eq!(this.machine, MachineSpec::detect().unwrap());
        assert!(!this.options.core2x_factor);
        let article = lens(&RunRequest::scenario("loh")).unwrap().unwrap();
        assert_eq!(article.options, GcOptions::article());
    }

    #[test]
    fn modelling_a_scenario_without_dotnet_section_is_a_usage_error() {
        let err = lens(&request("ping", |r| {
            r.gc_model = LensChoice::On(Preset::Server)
        }))
        .unwrap_err();
        assert!(
            err.contains("\"ping\"") && err.contains("[dotnet]"),
            "{err}"
        );
    }

    #[test]
    fn bad_requests_are_usage_errors_that_say_what_to_do() {
        let usage_of = |request: RunRequest| match plan(&request) {
            Err(PlanError::Usage(message)) => message,
            other => panic!("{request:?}: {:?}", other.map(|p| p.path)),
        };
        assert!(usage_of(RunRequest::default()).contains("name a scenario"));
        assert!(
            usage_of(request("loh", |r| r.size_bytes = Some(MAX_SIZE_BYTES + 1)))
                .contains("--max-size")
        );
        assert!(usage_of(request("loh", |r| r.connections = Some(0))).contains("--connections"));
        assert!(usage_of(request("nosuch", |_| {})).contains("\"nosuch\""));
        let used = tempfile::tempdir().unwrap();
        std::fs::write(used.path().join("samples.csv"), "x").unwrap();
        let again = |force| {
            request("ping", |r| {
                r.out_dir = Some(used.path().to_path_buf());
                r.force = force;
            })
        };
        assert!(usage_of(again(false)).contains("--force"));
        assert!(plan(&again(true)).is_ok());
    }

    #[test]
    fn a_pid_that_does_not_serve_the_target_is_refused() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let target = |pid: u32, skip| RunRequest {
            target: Some(format!("http://127.0.0.1:{port}/")),
            pid: Some(pid),
            skip_pid_check: skip,
            ..RunRequest::default()
        };
        assert!(plan(&target(std::process::id(), false)).is_ok());
        let mut sleeper = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let err = match plan(&target(sleeper.id(), false)) {
            Err(PlanError::Usage(message)) => message,
            other => panic!("{:?}", other.map(|p| p.path)),
        };
        assert!(
            err.contains(&format!("--pid {}", sleeper.id())) && err.contains(&port.to_string()),
            "{err}"
        );
        assert!(plan(&target(sleeper.id(), true)).is_ok());
        sleeper.kill().unwrap();
        sleeper.wait().unwrap();
    }

    #[test]
    fn a_large_sized_run_gives_its_child_a_budget_its_load_fits_in() {
        let serve_args = |size: u64| match plan(&request("loh", |r| r.size_bytes = Some(size))) {
            Ok(RunPlan {
                server: ServerSpec::Child { serve_args, .. },
                ..
            }) => serve_args.join(" "),
            _ => panic!("no child"),
        };
        assert!(!serve_args(84_976).contains("--max-inflight"));
        // 64 MiB × 32 connections × 2.
        assert!(serve_args(64 << 20).ends_with(&format!("--max-inflight {}", 4u64 << 30)));
    }

    #[test]
    fn directory_names_carry_the_parameters() {
        let params: Params = [("size", "84976")].into_iter().collect();
        assert_eq!(dir_name("loh", &params), "loh-size84976");
        let odd: Params = [("url", "http://x/?a=b")].into_iter().collect();
        assert_eq!(dir_name("c", &odd), "c-urlhttp___x__a_b");
    }
}
