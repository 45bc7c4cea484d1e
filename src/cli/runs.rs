//! The flags of the commands that start a server and measure it: `serve`, `run`,
//! `compare --run` and `sweep`, with the lens group they share and their examples.

use crate::memory::AllocatorKind;
use crate::server::config as server_config;
use crate::units::{
    parse_byte_size, parse_count, parse_count_usize, parse_duration, parse_rate, parse_request_size,
};
use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{GcMachineArg, GcModelArg, OutputFormat, RuntimeArgs, TableFormatArg};

pub(super) const RUN_EXAMPLES: &str = "\
Examples:
  membench run loh --size 84976                    # the article's large-object boundary
  membench run staticstring --duration 30s         # a leak: the heap grows
  membench run bigstring --rate 5000 --allocator mimalloc
  membench run ./my-service.toml --target http://127.0.0.1:8080/ --pid 1234 --check
  membench run ping --target http://10.0.0.5:8080/api/ping --metrics http://10.0.0.5:8080/metrics

Writes samples.csv (as the run goes), summary.json, chart.png and chart.svg into --out.
Exit codes: 0 completed; 1 the server died or an error (what was sampled is written);
2 bad arguments; 3 an expectation failed under --check; 130 interrupted (Ctrl-C, the
results so far are written).";

pub(super) const COMPARE_EXAMPLES: &str = "\
Examples:
  membench compare results/loh-size84975-<time> results/loh-size84976-<time>
  membench compare --run loh --size 84975,84976 --duration 30s
  membench compare --run bigstring,staticstring --overlay
  membench compare --run loh --size 1MiB --allocator system,jemalloc,mimalloc

Writes compare.png (and .svg) and compare.md into --out and prints the table on stdout.";

pub(super) const SWEEP_EXAMPLES: &str = "\
Examples:
  membench sweep                                   # loh, 64KiB..64MiB, 21 sizes, jemalloc
  membench sweep loh --sizes 64KiB..16MiB --steps-per-doubling 1 --allocator all
  membench sweep array --sizes 84975,84976,1MiB,8MiB --allocator system,mimalloc

Each point is an ordinary `membench run` (with the scenario's load, no modelled .NET GC)
into OUT/<allocator>-<size in bytes>/. The sweep writes OUT/sweep.json, sweep.csv (rewritten
after every point), sweep.png and sweep.svg, prints a table and one line per cliff: a drop
in RPS of more than --cliff-drop between two neighbouring sizes of one allocator. With 2
sizes per doubling, a request whose cost grows with its size alone loses 29 % per step, just
under the 30 % threshold; each cliff line also says what the size alone and the page faults
explain (an allocator's cliff is where every request starts to fault in fresh pages).
Sizes are measured size by size, every allocator at one size before the next size.
Ctrl-C stops the sweep and writes what was measured (exit 130); a server that dies stops
the sweep too, the points before it are written (exit 1). Bad arguments exit 2.";

/// A size sweep: which sizes, which allocators, how long each point runs.
#[derive(Debug, Clone, Args)]
pub struct SweepArgs {
    /// A scenario with a `size` parameter: loh, array or pooledarray (or a scenario file
    /// that has one).
    #[arg(default_value = "loh")]
    pub scenario: String,

    /// The sizes: a comma list of sizes (e.g. 84975,84976,1MiB) and ranges A..B walked in
    /// log steps with both ends included (e.g. 64KiB..64MiB), mixed at will
    /// (64KiB..64MiB,84975,84976). Each from 1 byte to 64MiB, the server's --max-size.
    #[arg(long, value_name = "A..B|SIZE[,…]", default_value = "64KiB..64MiB", value_parser = crate::sweep::parse_size_spec)]
    pub sizes: crate::sweep::SizeSpec,

    /// Sizes per doubling in a range (2: 64 KiB, 90.5 KiB, 128 KiB, …); ignored for a list.
    #[arg(long, default_value_t = crate::sweep::DEFAULT_STEPS_PER_DOUBLING, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub steps_per_doubling: u32,

    /// Allocators of the child server: system, jemalloc, mimalloc, or all (a comma list
    /// is fine, e.g. system,mimalloc).
    #[arg(
        long,
        value_name = "ALLOCATOR[,ALLOCATOR…]|all",
        value_delimiter = ',',
        value_enum,
        default_value = "jemalloc"
    )]
    pub allocator: Vec<SweepAllocatorArg>,

    /// Runtimes of the child server, a comma list (e.g. rust,mono,jvm): rust (membench
    /// serve, once per --allocator) and reference servers whose garbage collector is
    /// measured: mono, jvm, node, go (see `membench list --runtimes`), one curve each.
    #[arg(long, value_name = "RUNTIME[,RUNTIME…]", value_delimiter = ',', value_parser = crate::runner::Runtime::parse, default_value = "rust")]
    pub runtime: Vec<crate::runner::Runtime>,

    #[command(flatten)]
    pub runtime_args: RuntimeArgs,

    /// Measured load of each point, after its warm-up (e.g. 3s).
    #[arg(long, default_value = "3s", value_parser = parse_duration, allow_hyphen_values = true)]
    pub duration: Duration,

    /// Warm-up of each point before it is measured (e.g. 1s).
    #[arg(long, default_value = "1s", value_parser = parse_duration, allow_hyphen_values = true)]
    pub warmup: Duration,

    /// Concurrent connections of each point (default: the scenario's, 32 for loh).
    #[arg(long, value_parser = parse_count_usize, allow_hyphen_values = true)]
    pub connections: Option<usize>,

    /// Times each point is measured, in interleaved rounds (every size and curve once
    /// before the next round); a point is the median of its repetitions, with their spread.
    #[arg(long, value_name = "N", default_value_t = crate::sweep::DEFAULT_REPEAT)]
    pub repeat: u32,

    /// Report suspected cliffs without measuring their two points once more first.
    #[arg(long)]
    pub no_remeasure: bool,

    /// Cliff threshold as a drop in RPS, a fraction or a percentage (0.3, 30%): a cliff is
    /// a rise in server CPU per request of more than the size step times 1 ÷ (1 − this),
    /// with the two points' spreads apart.
    #[arg(long, default_value = "0.3", value_parser = crate::sweep::parse_cliff_drop)]
    pub cliff_drop: f64,

    /// Output directory (default: results/sweep-<scenario>-<UTC timestamp>).
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Write into --out even when its point directories already hold files.
    #[arg(long)]
    pub force: bool,

    /// Format of the table on stdout.
    #[arg(long, value_enum, default_value_t = TableFormatArg::Text)]
    pub format: TableFormatArg,
}

/// An allocator of `membench sweep --allocator`, or all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SweepAllocatorArg {
    System,
    Jemalloc,
    Mimalloc,
    /// system, jemalloc and mimalloc.
    All,
}

/// How the server is started and what it guards against.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port, and the first stdout line is
    /// `listening on http://ADDR` either way.
    #[arg(long, default_value_t = server_config::DEFAULT_ADDR)]
    pub addr: SocketAddr,

    /// Memory allocator of the server process (also env MEMBENCH_ALLOCATOR). The process
    /// re-executes itself when the flag differs from the allocator it started with,
    /// because a global allocator is chosen before `main` and never changes afterwards.
    #[arg(long, value_enum, env = "MEMBENCH_ALLOCATOR", default_value_t = AllocatorKind::DEFAULT)]
    pub allocator: AllocatorKind,

    /// Most bytes the leaking endpoints (staticstring, cache/unbounded) may hold in total
    /// before they answer 507 (e.g. 1GiB, 512MiB).
    #[arg(long, default_value = server_config::DEFAULT_LEAK_CAP_TEXT, value_parser = parse_byte_size, allow_hyphen_values = true)]
    pub leak_cap: u64,

    /// Most client connections /api/clientleak keeps open before it answers 507.
    #[arg(long, default_value_t = server_config::DEFAULT_CLIENT_LEAK_CAP)]
    pub client_leak_cap: usize,

    /// Largest `size` accepted by /api/loh, /api/array and /api/pooledarray (e.g. 64MiB).
    #[arg(long, default_value = server_config::DEFAULT_MAX_SIZE_TEXT, value_parser = parse_byte_size, allow_hyphen_values = true)]
    pub max_size: u64,

    /// Absolute expiry of entries in /api/cache/expiring (e.g. 500ms, 2s).
    #[arg(long, default_value = server_config::DEFAULT_CACHE_TTL_TEXT, value_parser = parse_duration, allow_hyphen_values = true)]
    pub cache_ttl: Duration,

    /// Allocations at or above this many bytes are counted as large objects
    /// (85000 is the .NET large-object-heap threshold).
    #[arg(long, default_value_t = server_config::DEFAULT_LARGE_OBJECT_BYTES)]
    pub large_object_bytes: usize,

    /// Turn the counting allocator off (env MEMBENCH_COUNTING=off), to measure its cost.
    /// Live heap and allocation counts then read zero.
    #[arg(long)]
    pub no_counting: bool,

    /// Allow an --addr that is not loopback (e.g. 0.0.0.0). Without it such an address is
    /// refused: the server has no authentication, and every endpoint (allocations, leaks,
    /// reset, the loopback client endpoints) becomes reachable by anyone on the network.
    #[arg(long)]
    pub allow_remote: bool,

    /// Most upstream requests /api/httpclient1 and /api/httpclient2 have in flight at once;
    /// past it they answer 503.
    #[arg(long, default_value_t = server_config::DEFAULT_MAX_UPSTREAM)]
    pub max_upstream: usize,

    /// Most bytes /api/loh, /api/array and /api/pooledarray hold for requests in flight
    /// together (released when a response is sent or dropped); past it they answer 503.
    #[arg(long, default_value = server_config::DEFAULT_MAX_INFLIGHT_TEXT, value_parser = parse_byte_size, allow_hyphen_values = true)]
    pub max_inflight: u64,

    /// Longest wait for a whole request head, from a new connection or an idle keep-alive
    /// one; a connection that is slower is closed (against slowloris; e.g. 10s, 500ms).
    #[arg(long, default_value = server_config::DEFAULT_HEADER_TIMEOUT_TEXT, value_parser = parse_duration, allow_hyphen_values = true)]
    pub header_timeout: Duration,

    /// Most connections served at once; further ones wait in the listen backlog.
    #[arg(long, default_value_t = server_config::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,

    /// Most directory watchers /api/fileprovider holds before 507; never more than half of
    /// fs.inotify.max_user_instances, which every process of this user shares.
    #[arg(long, default_value_t = server_config::DEFAULT_MAX_WATCHERS)]
    pub max_watchers: usize,

    #[command(flatten)]
    pub lens: LensArgs,
}

/// The modelled .NET GC lens, the same three flags on `serve`, `run` and `compare --run`.
#[derive(Debug, Clone, Args)]
pub struct LensArgs {
    /// Also draw a MODELLED .NET GC fed with the same requests (hollow gen0/gen1/gen2
    /// triangles, a dashed managed heap; `membench explain gc-model`). Default: server for
    /// the article's endpoints (every `serve`, and the runs of the article's scenarios),
    /// none for other scenarios. A model, never a measurement.
    #[arg(long, value_enum, value_name = "none|server|workstation")]
    pub gc_model: Option<GcModelArg>,

    /// The machine the modelled .NET GC sizes its budgets for: `article` (20 MiB L3,
    /// 8 cores, .NET Core 2.x budgets; the default, since the lens exists to reproduce
    /// the article's charts) or `this` (this machine's L3, cores and memory).
    #[arg(long, value_enum, default_value_t = GcMachineArg::Article, value_name = "article|this")]
    pub gc_machine: GcMachineArg,

    /// Bytes ASP.NET itself allocates per request in the modelled .NET GC (routing,
    /// HttpContext, MVC), added to what each request declares (default 10KiB, a
    /// calibration: see `membench explain gc-model`).
    #[arg(long, value_parser = parse_byte_size, allow_hyphen_values = true, value_name = "BYTES")]
    pub dotnet_overhead: Option<u64>,
}

/// One load run against a child server (or a target of your own).
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Scenario name or alias (see `membench list`), or a path to a scenario TOML file.
    pub scenario: Option<String>,

    /// Value of the scenario's `size` parameter in bytes (e.g. 84976, 100000, 1MiB), from
    /// 1 byte to 64MiB.
    #[arg(long, value_parser = parse_request_size, allow_hyphen_values = true)]
    pub size: Option<u64>,

    /// Any other scenario parameter, as NAME=VALUE (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,

    /// How long to drive load after the warm-up (e.g. 30s, 2m).
    #[arg(long, value_parser = parse_duration, allow_hyphen_values = true)]
    pub duration: Option<Duration>,

    /// Stop after exactly this many requests instead of a duration.
    #[arg(long, conflicts_with = "duration", value_parser = parse_count, allow_hyphen_values = true)]
    pub requests: Option<u64>,

    /// Concurrent keep-alive connections.
    #[arg(long, value_parser = parse_count_usize, allow_hyphen_values = true)]
    pub connections: Option<usize>,

    /// Open loop at this many requests per second (e.g. 5000, 5k); closed loop without it.
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<f64>,

    /// Per-request timeout (e.g. 10s; default 10s).
    #[arg(long, value_parser = parse_duration, allow_hyphen_values = true)]
    pub timeout: Option<Duration>,

    /// Warm-up before measuring; its samples are kept and marked `warmup` (default 2s).
    #[arg(long, value_parser = parse_duration, allow_hyphen_values = true)]
    pub warmup: Option<Duration>,

    /// Sampling interval (e.g. 250ms, 1s; default 250ms).
    #[arg(long, value_parser = parse_duration, allow_hyphen_values = true)]
    pub interval: Option<Duration>,

    /// Allocator of the child server.
    #[arg(long, value_enum, default_value_t = AllocatorKind::DEFAULT)]
    pub allocator: AllocatorKind,

    /// Language runtime of the child server: rust (membench serve), or a reference
    /// server whose garbage collector is measured: mono, jvm, node, go (see `membench
    /// list --runtimes`).
    #[arg(long, value_parser = crate::runner::Runtime::parse, default_value = "rust")]
    pub runtime: crate::runner::Runtime,

    #[command(flatten)]
    pub runtime_args: RuntimeArgs,

    /// Output directory (default: results/<scenario>[-<params>]-<UTC timestamp>).
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Write into --out even when it already holds files (they are overwritten).
    #[arg(long)]
    pub force: bool,

    /// Format of the summary on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// Drive a server membench did not start (any language), e.g. http://127.0.0.1:8080/;
    /// sample it with --pid (on this machine), --metrics (anywhere), or both.
    #[arg(long)]
    pub target: Option<String>,

    /// Process id of the --target server, sampled from /proc. It must listen on the
    /// target's port (checked before the run).
    #[arg(long, requires = "target")]
    pub pid: Option<u32>,

    /// The --target's Prometheus/OpenMetrics endpoint (e.g. http://10.0.0.5:8080/metrics),
    /// scraped each interval: RSS, CPU, fds, threads and the runtime's GC and heap. With
    /// --metrics alone nothing reads /proc of the target.
    #[arg(long, requires = "target")]
    pub metrics: Option<String>,

    /// Keep the --metrics series whose `name{labels}` matches this regex in samples.csv, e.g.
    /// '^myapp_': a `metric:name{labels}` column each for those on the page at the start,
    /// the metrics_extra cell for those that appear later.
    #[arg(long, requires = "metrics")]
    pub metrics_include: Option<String>,

    /// Sample --pid even when it holds no listening socket on the target's port (a
    /// server in a container, or behind a proxy whose sockets are not the server's).
    #[arg(long, requires = "pid")]
    pub skip_pid_check: bool,

    /// Load-generator threads (default: one per core).
    #[arg(long, value_parser = parse_count_usize, allow_hyphen_values = true)]
    pub threads: Option<usize>,

    /// Exit with status 3 when the run does not show what the scenario's `[expect]`
    /// section says (e.g. a leak check in CI with your own scenario file and --target).
    #[arg(long)]
    pub check: bool,

    #[command(flatten)]
    pub lens: LensArgs,
}

/// Runs compared: saved results directories, runs to make first (`--run`), or both.
#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// Results directories written by `membench run` (each with samples.csv and
    /// summary.json).
    #[arg(value_name = "RUN_DIR")]
    pub dirs: Vec<PathBuf>,

    /// Make these runs first, one per scenario × --size × --allocator, each into its own
    /// directory under --out (e.g. --run bigstring,staticstring).
    #[arg(
        long = "run",
        value_name = "SCENARIO[,SCENARIO…]",
        value_delimiter = ','
    )]
    pub scenarios: Vec<String>,

    /// Sizes for the runs of --run, in bytes (e.g. 84975,84976 or 64KiB,1MiB).
    #[arg(long, value_name = "SIZE[,SIZE…]", value_delimiter = ',', value_parser = parse_request_size, allow_hyphen_values = true, requires = "scenarios")]
    pub size: Vec<u64>,

    /// Allocators for the runs of --run (e.g. system,jemalloc,mimalloc); default jemalloc.
    #[arg(
        long,
        value_name = "ALLOCATOR[,ALLOCATOR…]",
        value_delimiter = ',',
        value_enum,
        requires = "scenarios"
    )]
    pub allocator: Vec<AllocatorKind>,

    /// Runtimes for the runs of --run (e.g. rust,mono,jvm,node,go); default rust. The
    /// allocators apply to the Rust server only.
    #[arg(long, value_name = "RUNTIME[,RUNTIME…]", value_delimiter = ',', value_parser = crate::runner::Runtime::parse, requires = "scenarios")]
    pub runtime: Vec<crate::runner::Runtime>,

    #[command(flatten)]
    pub runtime_args: RuntimeArgs,

    /// Load duration of each run of --run (e.g. 30s); the scenario's default without it.
    #[arg(long, value_parser = parse_duration, allow_hyphen_values = true, requires = "scenarios")]
    pub duration: Option<Duration>,

    /// Concurrent connections of each run of --run.
    #[arg(long, value_parser = parse_count_usize, allow_hyphen_values = true, requires = "scenarios")]
    pub connections: Option<usize>,

    /// Open loop at this many requests per second for each run of --run (e.g. 5k).
    #[arg(long, value_parser = parse_rate, requires = "scenarios")]
    pub rate: Option<f64>,

    /// Warm-up of each run of --run (e.g. 2s); `membench run`'s default without it.
    #[arg(long, value_parser = parse_duration, allow_hyphen_values = true, requires = "scenarios")]
    pub warmup: Option<Duration>,

    /// The modelled .NET GC of the runs of --run, as for `membench run`.
    #[command(flatten)]
    pub lens: LensArgs,

    /// One chart with every run's lines in its own colour instead of one column per run.
    #[arg(long)]
    pub overlay: bool,

    /// Format of the table on stdout (compare.md is always Markdown).
    #[arg(long, value_enum, default_value_t = TableFormatArg::Text)]
    pub format: TableFormatArg,

    /// Output directory (default: results/compare-<UTC timestamp>).
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Write the runs of --run into --out even when their directories already hold files.
    #[arg(long)]
    pub force: bool,
}
