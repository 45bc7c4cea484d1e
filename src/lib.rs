//! membench: memory behaviour under load, made visible.
//!
//! Module map (data flows one way: scenario → loadgen + sampler → series → report):
//!
//! * [`cli`] — clap types; their `///` docs are the help text.
//! * `build_info` — leaf: membench's version and the git commit it was built from
//!   (`build.rs`), as `--version` and every results file state them.
//! * `format` — leaf: numbers for people (MB, KiB, ms, `18.2K`), one way everywhere.
//! * `stats` — leaf: Theil–Sen, Mann–Kendall, median.
//! * [`units`] — leaf: sizes, durations and rates on the command line, with messages that
//!   quote the bad input; the largest size membench accepts ([`units::MAX_SIZE_BYTES`]).
//! * [`memory`] — the counting global allocator (per-thread shards), the run-time allocator
//!   switch, allocator statistics and collect, the process probes (`/proc` on Linux,
//!   `sysinfo` on every OS, `MEMBENCH_PROBE`) and the machine's facts.
//! * [`series`] — `Sample` (= the `samples.csv` record: its field docs are the column
//!   reference) and `Series`, the data model every stage shares.
//! * [`gcmodel`] — a modelled .NET generational GC fed with the same requests: a labelled
//!   lens on where .NET would have collected, never a measurement; owns the 85,000 B LOH
//!   threshold ([`gcmodel::LOH_THRESHOLD_BYTES`]).
//! * [`verdict`] — does a run show the shape its scenario expects? Mann–Kendall +
//!   Theil–Sen per series.
//! * [`report`] — `samples.csv`, `summary.json` and the charts; reads saved data and
//!   series, never live state.
//! * [`sweep`] — size sweeps (`membench sweep`): the saved result, the cliff finder and the
//!   sweep chart (drawn with `report`'s chart pieces).
//! * [`gallery`] — the workshop page: every chart, table, verdict and a paragraph per pair
//!   from the measured numbers, in one offline `index.html`.
//! * [`server`] — the pattern server (axum): one file per pattern family, diagnostics,
//!   Prometheus metrics, collect and reset.
//! * [`resources`] — leaf: the process resources a chart's resource panel draws (sockets,
//!   fds, threads) and the OS limits drawn against them (port range, inotify instances).
//! * [`diagnostics`] — leaf: the `/api/diagnostics` JSON contract between a pattern server
//!   and the sampler.
//! * [`error_labels`] — leaf: the closed set of failure kinds (`connection refused`,
//!   `timeout`, `leak cap reached`, …) that the load generator and the server both count.
//! * [`loadgen`] — the built-in HTTP/1.1 load generator: closed and open loop,
//!   per-interval HdrHistograms, errors by kind.
//! * [`params`] — leaf: a scenario's parameters once decided, typed (`size` is bytes).
//! * [`scenario`] — scenario files (`scenarios/*.toml`, embedded), their catalog, and the
//!   one declaration of what each request allocates in .NET (`[dotnet]`).
//! * [`runner`] — the run pipeline as a library: `RunRequest` (no clap) → `plan` (every
//!   check, before anything starts) → `execute` (child server or target, load, sampling
//!   loop, summary and chart); sweeps as repeated, interleaved runs; other runtimes'
//!   reference servers.
//! * [`commands`] — one file per subcommand: parse → library → print → one `Outcome` →
//!   exit code.
//!
//! The arrows point down (no cycles among these modules; `tests/membench/layout.rs` checks
//! them on the source): the leaves (`build_info`, `format`, `stats`, `units`, `params`, `error_labels`,
//! `resources`) import nothing from the crate but other leaves; `series` adds `memory`;
//! `verdict` only `series` and `stats`; `report` nothing from `runner`, `loadgen`,
//! `commands`, `sweep` or `gallery`; `sweep` and `gallery` read `report`, never `runner`
//! or `loadgen`; `server` nothing from `cli`, `commands`, `runner` or `loadgen`;
//! `runner` may use all of these below it, and only `commands` and `cli` sit above it.

// One clear message rather than a failure deep in a dependency: the allocator switch, the
// child-process control and the probes are written against Unix (see README, Platforms).
#[cfg(windows)]
compile_error!(
    "membench does not build on Windows: it needs Unix processes and signals. Use WSL 2 \
     (membench runs there as on Linux), or a Linux or macOS machine."
);

pub(crate) mod build_info;
pub mod cli;
pub(crate) mod commands;
pub(crate) mod diagnostics;
pub(crate) mod error_labels;
pub(crate) mod format;
pub mod gallery;
pub(crate) mod gcmodel;
pub(crate) mod loadgen;
pub(crate) mod memory;
pub(crate) mod params;
pub mod report;
pub(crate) mod resources;
pub(crate) mod runner;
pub(crate) mod scenario;
pub(crate) mod series;
pub(crate) mod server;
pub(crate) mod stats;
pub mod sweep;
pub(crate) mod units;
pub(crate) mod verdict;

use std::process::ExitCode;

/// Runs one parsed command line and returns the process exit code.
pub fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    commands::dispatch(cli)
}
