//! The run pipeline, as a library: a [`RunRequest`] (what was asked, no clap in it) →
//! [`plan`] (everything decided and checked, or a [`PlanError`]) → [`execute`] (the run
//! and its files). `membench run`, `compare --run` and `sweep` are thin callers of it.
//!
//! * `request.rs` — the request and the one place run defaults are written.
//! * `plan.rs` — deciding the run: scenario, parameters, server, load, lens, directory.
//! * `execute.rs` — running a plan and writing `summary.json` and the chart.
//! * `session.rs` — the run itself: child or target, load, the sampling loop.
//! * `child.rs` — the child server's lifecycle; `sampler.rs` — one sample from `/proc`
//!   and the server's diagnostics; `gc_lens.rs` — the modelled .NET GC fed per interval;
//!   `progress.rs` — the progress line on stderr; `interrupt.rs` — Ctrl-C.
//! * `scrape.rs` — the metrics source (`--metrics URL`): scrape, map, deltas;
//!   `exposition.rs` — the Prometheus/OpenMetrics text parser it uses.
//! * `watch.rs` — planning `membench watch` (no load; `--metrics` and/or `--pid`).
//! * `sweep.rs` — a size sweep: repeated, interleaved runs per size and allocator, and
//!   the re-measurement of suspected cliffs (the sweep's data and judgement are `sweep`'s).
//!
//! The runner owns the terminal while a run goes: progress on stderr, nothing on stdout
//! (the command prints the result).

mod child;
mod execute;
mod exposition;
mod gc_lens;
pub mod interrupt;
mod membench_metrics;
mod plan;
mod progress;
mod request;
mod runtime;
mod sampler;
mod scrape;
mod session;
mod sources;
mod sweep;
mod watch;

pub use execute::{Executed, execute};
pub use gc_lens::GcLens;
pub use plan::{PlanError, RunPlan, ServerSpec, dir_name, plan, utc_stamp};
pub use request::{DEFAULT_CONNECTIONS, DEFAULT_DURATION, LensChoice, RunRequest};
pub use runtime::Runtime;
#[cfg(test)]
pub use sweep::{Curve as SweepCurve, SweepPlan};
pub use sweep::{SweepRequest, execute_sweep, plan_sweep};
pub use watch::{WatchRequest, plan_watch};
