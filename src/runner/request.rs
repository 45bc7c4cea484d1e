//! What a caller asks of one run, before anything is decided: a plain value with no clap
//! in it, so `membench run`, `compare --run` and `sweep` all describe their runs the same
//! way and [`plan`](super::plan) decides them the same way.
//!
//! Every field left `None` takes the scenario file's value, then membench's default; the
//! defaults of the fields that always have a value are [`RunRequest::default`], the one
//! place they are written (the `run` flags read them from here).

use std::path::PathBuf;
use std::time::Duration;

use super::runtime::Runtime;
use crate::gcmodel::{ModelledMachine, Preset};
use crate::memory::AllocatorKind;

/// Connections when neither the request nor the scenario says.
pub const DEFAULT_CONNECTIONS: usize = 32;
/// Load duration when neither the request nor the scenario says.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(30);
/// Per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Warm-up before the measured load.
pub const DEFAULT_WARMUP: Duration = Duration::from_secs(2);
/// Sampling interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(250);

/// Whether a run models the .NET GC, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LensChoice {
    /// The server preset for the article's scenarios (those with `[dotnet] from_article`),
    /// no lens otherwise.
    #[default]
    ScenarioDefault,
    /// No modelled lens.
    Off,
    /// This preset, whatever the scenario.
    On(Preset),
}

/// One run as asked for. See the module doc for how `None` is filled.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// Scenario name, alias or file path; `None` only with a `target`.
    pub scenario: Option<String>,
    /// The scenario's `size` parameter in bytes.
    pub size_bytes: Option<u64>,
    /// Other scenario parameters as `NAME=VALUE`.
    pub params: Vec<String>,
    pub duration: Option<Duration>,
    /// Stop after this many requests instead of a duration.
    pub requests: Option<u64>,
    pub connections: Option<usize>,
    /// Open loop at this rate (requests per second); closed loop when `None`.
    pub rate_per_s: Option<f64>,
    /// Load-generator threads; one per core when `None`.
    pub threads: Option<usize>,
    pub timeout: Duration,
    pub warmup: Duration,
    pub interval: Duration,
    /// Allocator of the child server (Rust only).
    pub allocator: AllocatorKind,
    /// The language runtime of the child server: Rust, or a reference server whose
    /// collector is measured.
    pub runtime: Runtime,
    /// `--runtime-arg`s: launcher flags (`-Xmx512m`) or environment (`GOGC=50`).
    pub runtime_args: Vec<String>,
    /// A server membench did not start (`http://…`), with the `pid` to sample.
    pub target: Option<String>,
    pub pid: Option<u32>,
    /// Sample `pid` even when it holds no listening socket on the target's port (a
    /// server in a container or behind a proxy, whose sockets are not its own).
    pub skip_pid_check: bool,
    /// The results directory; `results/<scenario>[-<params>]-<UTC time>` when `None`.
    pub out_dir: Option<PathBuf>,
    /// Write into `out_dir` even when it already holds files; without it such a
    /// directory is refused, so a run never overwrites another silently.
    pub force: bool,
    /// The modelled .NET GC lens.
    pub gc_model: LensChoice,
    /// The machine the modelled GC sizes its budgets for.
    pub gc_machine: ModelledMachine,
    /// Framework bytes per request in the modelled GC; the model's default when `None`.
    pub dotnet_overhead_bytes: Option<u64>,
    /// The target's Prometheus/OpenMetrics endpoint, scraped each interval.
    pub metrics: Option<String>,
    /// Unknown `--metrics` series whose `name{labels}` matches are kept in samples.csv.
    pub metrics_include: Option<String>,
}

impl Default for RunRequest {
    fn default() -> Self {
        RunRequest {
            scenario: None,
            size_bytes: None,
            params: Vec::new(),
            duration: None,
            requests: None,
            connections: None,
            rate_per_s: None,
            threads: None,
            timeout: DEFAULT_TIMEOUT,
            warmup: DEFAULT_WARMUP,
            interval: DEFAULT_INTERVAL,
            allocator: AllocatorKind::DEFAULT,
            runtime: Runtime::Rust,
            runtime_args: Vec::new(),
            target: None,
            pid: None,
            skip_pid_check: false,
            out_dir: None,
            force: false,
            gc_model: LensChoice::ScenarioDefault,
            gc_machine: ModelledMachine::Article,
            dotnet_overhead_bytes: None,
            metrics: None,
            metrics_include: None,
        }
    }
}

impl RunRequest {
    /// `membench run SCENARIO` with everything else at its default.
    pub fn scenario(name: &str) -> RunRequest {
        RunRequest {
            scenario: Some(name.to_string()),
            ..RunRequest::default()
        }
    }
}
