//! The runner: starts the child server (or attaches to a `--target`), drives it with the
//! load generator, samples it every interval, and hands back the series.
//!
//! Samples are appended to `samples.csv` as they are taken, so whatever ends the run —
//! the planned end, Ctrl-C, the server dying, an error — nothing sampled is lost. The
//! runner owns the terminal: progress on stderr, nothing on stdout (the command prints the
//! summary).

mod child;
mod gc_lens;
pub mod interrupt;
mod progress;
mod sampler;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;

use crate::format::format_count;
use crate::loadgen::{self, IntervalStats, LoadConfig, StopAt};
use crate::memory::AllocatorKind;
use crate::report::SamplesCsvWriter;
use crate::series::{Phase, Series};

pub use child::{ChildServer, describe_exit, parse_listening_line};
pub use gc_lens::{GcLens, GcLensPlan};
pub use sampler::{Probe, Reading, merge};

/// The server a run measures.
#[derive(Debug, Clone)]
pub enum ServerSpec {
    /// Start `membench serve` as a child with this allocator and extra `serve` flags.
    Child {
        allocator: AllocatorKind,
        serve_args: Vec<String>,
    },
    /// A server someone else started: where to send load and which process to sample.
    Target {
        addr: SocketAddr,
        host: String,
        pid: u32,
    },
}

/// Everything a run needs, decided before it starts.
#[derive(Debug, Clone)]
pub struct RunPlan {
    pub scenario: String,
    pub params: Vec<(String, String)>,
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
    /// The results directory; must exist.
    pub out_dir: PathBuf,
    /// What the scenario expects each series to do, checked after the run.
    pub expectations: Vec<crate::verdict::Expectation>,
    /// The modelled .NET GC lens, fed with each interval's requests; `None` when off.
    pub gc_lens: Option<GcLensPlan>,
}

impl RunPlan {
    /// The load as people read it: "32 connections, closed loop".
    pub fn load_label(&self) -> String {
        match self.rate_per_s {
            Some(rate) => format!(
                "{} connections, open loop at {} RPS",
                self.connections,
                format_count(rate)
            ),
            None => format!("{} connections, closed loop", self.connections),
        }
    }
}

/// Why a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    Completed,
    Interrupted,
    /// The server process ended during the run; the text says how.
    ServerDied(String),
}

/// What a run produced.
pub struct RunOutcome {
    pub series: Series,
    pub ending: Ending,
    /// Whole-run load totals, including the whole-run latency histogram.
    pub load_total: IntervalStats,
    pub started: SystemTime,
    pub ended: SystemTime,
    pub pid: u32,
    /// Where the server listened.
    pub server_addr: SocketAddr,
    pub allocator: Option<AllocatorKind>,
    /// The modelled .NET GC after the last interval, when the lens was on.
    pub gc_lens: Option<GcLens>,
}

/// Runs the plan to its end and returns the series. Errors only for what prevents a run
/// from starting; once sampling has begun every ending is an [`Ending`].
pub fn run(plan: &RunPlan) -> anyhow::Result<RunOutcome> {
    interrupt::arm();
    let mut csv = SamplesCsvWriter::create(&plan.out_dir.join("samples.csv"))?;

    let (mut child, addr, host, pid) = match &plan.server {
        ServerSpec::Child {
            allocator,
            serve_args,
        } => {
            let child =
                ChildServer::spawn(*allocator, serve_args, &plan.out_dir.join("server.log"))?;
            let addr = child.addr;
            let pid = child.pid();
            eprintln!(
                "membench: server pid {pid} listening on http://{addr}/ (its log: {})",
                plan.out_dir.join("server.log").display()
            );
            (Some(child), addr, addr.to_string(), pid)
        }
        ServerSpec::Target { addr, host, pid } => (None, *addr, host.clone(), *pid),
    };

    let diagnostics_timeout = plan.interval.max(Duration::from_secs(1));
    let mut probe = Probe::new(pid, Some(addr), diagnostics_timeout)?;
    let mut previous = probe.read();
    previous.process.as_ref().with_context(|| {
        format!("cannot read /proc/{pid}: is the server's process id right and is it running?")
    })?;
    if previous.diagnostics.is_none() {
        if child.is_some() {
            anyhow::bail!("the server at http://{addr}/ did not answer GET /api/diagnostics");
        }
        // A foreign server: sample /proc only.
        probe = probe.without_diagnostics();
    }
    let allocator = previous.diagnostics.as_ref().map(|d| d.allocator);

    let load_stop = match plan.stop {
        StopAt::Duration(duration) => StopAt::Duration(plan.warmup + duration),
        requests => requests,
    };
    let load = loadgen::start(LoadConfig {
        addr,
        host,
        paths: vec![plan.path.clone()],
        connections: plan.connections,
        threads: plan.threads,
        rate_per_s: plan.rate_per_s,
        stop: load_stop.clone(),
        timeout: plan.timeout,
    })?;
    let started = SystemTime::now();
    let start = Instant::now();
    let planned = match load_stop {
        StopAt::Duration(duration) => Some(duration),
        StopAt::Requests(_) => None,
    };
    let progress = progress::Progress::new(planned);

    let mut series = Series {
        scenario: plan.scenario.clone(),
        params: plan.params.clone(),
        allocator,
        load: plan.load_label(),
        samples: Vec::new(),
        modelled_gc: plan
            .gc_lens
            .as_ref()
            .map(|lens| lens.preset.name().to_string()),
    };
    let mut gc_lens = plan.gc_lens.as_ref().map(GcLens::new);
    // The starting point: memory before any load.
    let mut first = merge(
        &previous,
        &previous,
        &IntervalStats::default(),
        0.0,
        Phase::Warmup,
    );
    if let Some(lens) = gc_lens.as_mut() {
        lens.observe(&mut first);
    }
    csv.append(&first)?;
    series.samples.push(first);

    let mut ending = Ending::Completed;
    let mut next_tick = start + plan.interval;
    loop {
        let now = Instant::now();
        let finished = load.is_finished();
        if now < next_tick && !finished {
            if interrupt::requested() {
                ending = Ending::Interrupted;
                break;
            }
            if let Some(status) = child.as_mut().and_then(ChildServer::exited) {
                ending = Ending::ServerDied(describe_exit(status));
                break;
            }
            // A foreign target has no exit status to wait for: check the pid cheaply (a
            // full /proc read parses the TCP tables; that is for the sampling tick).
            if child.is_none() && !process_exists(pid) {
                ending = Ending::ServerDied("is no longer running".to_string());
                break;
            }
            std::thread::sleep((next_tick - now).min(Duration::from_millis(20)));
            continue;
        }
        if finished {
            break;
        }
        let current = probe.read();
        if current.process.is_none() {
            // Gone between two checks: a sample of a dead process would read as zeros.
            let how = child
                .as_mut()
                .and_then(ChildServer::exited)
                .map(describe_exit);
            ending = Ending::ServerDied(how.unwrap_or_else(|| "is no longer running".to_string()));
            break;
        }
        let elapsed = start.elapsed();
        let phase = if elapsed <= plan.warmup {
            Phase::Warmup
        } else {
            Phase::Load
        };
        let mut sample = merge(
            &previous,
            &current,
            &load.take_interval(),
            elapsed.as_secs_f64(),
            phase,
        );
        if let Some(lens) = gc_lens.as_mut() {
            lens.observe(&mut sample);
        }
        csv.append(&sample)?;
        progress.update(elapsed, &sample);
        series.samples.push(sample);
        previous = current;
        next_tick += plan.interval;
    }

    load.stop();
    let loadgen::LoadResult {
        last_interval: remaining,
        total: load_total,
    } = load.finish();
    // The last sample: whatever completed since the previous one, then memory at rest.
    let current = probe.read();
    let mut final_sample = merge(
        &previous,
        &current,
        &remaining,
        start.elapsed().as_secs_f64(),
        Phase::Final,
    );
    if let Some(lens) = gc_lens.as_mut() {
        lens.observe(&mut final_sample);
    }
    csv.append(&final_sample)?;
    series.samples.push(final_sample);
    progress.finish();

    if let Some(child) = child.as_mut() {
        // A child that ended on its own is described by its exit status (SIGKILL from
        // the OOM killer, a panic's exit code), which is better than "no longer running".
        if ending != Ending::Interrupted
            && let Some(status) = child.exited()
        {
            ending = Ending::ServerDied(describe_exit(status));
        }
        child.shutdown();
    }
    Ok(RunOutcome {
        series,
        ending,
        load_total,
        started,
        ended: SystemTime::now(),
        pid,
        server_addr: addr,
        allocator,
        gc_lens,
    })
}

/// Whether a process with this pid exists (signal 0 checks without sending anything).
fn process_exists(pid: u32) -> bool {
    // SAFETY: kill with signal 0 only checks for existence and permission.
    let result = unsafe { libc::kill(pid as libc::pid_t, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}
