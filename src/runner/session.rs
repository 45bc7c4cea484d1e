//! One run from start to end: start the child server (or attach to a `--target`), drive
//! it with the load generator, sample it every interval, and hand back the series. Under
//! `membench watch` there is no load generator: the loop samples until the duration ends
//! or a signal comes, while another engine drives the target.
//!
//! Samples are appended to `samples.csv` as they are taken, so whatever ends the run —
//! the planned end, Ctrl-C, the server dying, an error — nothing sampled is lost. A row
//! that cannot be written (a full disk) is said once on stderr; sampling goes on in
//! memory and the file is written whole at the end if it can be ([`RunOutcome::samples_file`]).
//! Once sampling has begun every ending is a [`RunEnd`], never an error.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;

use super::child::{ChildServer, describe_exit};
use super::gc_lens::GcLens;
use super::plan::{RunPlan, ServerSpec};
use super::runtime::Runtime;
use super::sampler::{Probe, Reading, merge};
use super::{interrupt, progress};
use crate::loadgen::{self, IntervalStats, LoadConfig, LoadHandle, StopAt};
use crate::report::{RunEnd, SamplesCsvWriter};
use crate::series::{Phase, Sample, Series};

/// What a run produced.
pub struct RunOutcome {
    pub series: Series,
    pub end: RunEnd,
    /// Whole-run load totals, including the whole-run latency histogram.
    pub load_total: IntervalStats,
    pub started: SystemTime,
    pub ended: SystemTime,
    /// The process sampled from `/proc`; `None` when nothing read `/proc` (`--metrics` only).
    pub pid: Option<u32>,
    /// Where the server listened; `None` under `membench watch`.
    pub server_addr: Option<SocketAddr>,
    /// The modelled .NET GC after the last interval, when the lens was on.
    pub gc_lens: Option<GcLens>,
    /// The runtime as its server described itself (contract version 2); `None` for the
    /// Rust server and servers that do not say.
    pub runtime: Option<crate::diagnostics::RuntimeInfo>,
    /// Whether `samples.csv` holds every sample: an error when a row could not be
    /// appended and the whole file could not be written at the end either.
    pub samples_file: anyhow::Result<()>,
}

/// The server under measurement: where it listens, which process to sample, and the
/// child when membench started it.
struct Attached {
    child: Option<ChildServer>,
    addr: Option<SocketAddr>,
    host: String,
    pid: Option<u32>,
}

impl Attached {
    /// Starts the child or takes the target as it is.
    fn new(plan: &RunPlan) -> anyhow::Result<Attached> {
        Ok(match &plan.server {
            ServerSpec::Child {
                allocator,
                serve_args,
                runtime,
                runtime_args,
            } => {
                let log = plan.out_dir.join("server.log");
                let child = match runtime {
                    Runtime::Rust => ChildServer::spawn(*allocator, serve_args, &log)?,
                    _ => ChildServer::spawn_runtime(*runtime, runtime_args, &log)?,
                };
                let (addr, pid) = (child.addr, child.pid());
                eprintln!(
                    "membench: server pid {pid} listening on http://{addr}/ (its log: {})",
                    log.display()
                );
                Attached {
                    child: Some(child),
                    addr: Some(addr),
                    host: addr.to_string(),
                    pid: Some(pid),
                }
            }
            ServerSpec::Target { addr, host, pid } => Attached {
                child: None,
                addr: Some(*addr),
                host: host.clone(),
                pid: *pid,
            },
            ServerSpec::Watch { pid } => Attached {
                child: None,
                addr: None,
                host: String::new(),
                pid: *pid,
            },
        })
    }

    /// How the server ended, when it did: the child's exit status, or a target whose pid
    /// is gone (checked with a signal 0, not a full `/proc` read).
    fn ended(&mut self) -> Option<RunEnd> {
        match self.child.as_mut() {
            Some(child) => child
                .exited()
                .map(|status| server_died(&describe_exit(status))),
            None if self.pid.is_some_and(|pid| !process_exists(pid)) => {
                Some(server_died("is no longer running"))
            }
            None => None,
        }
    }
}

fn server_died(how: &str) -> RunEnd {
    RunEnd::ServerDied(format!("the server {how}"))
}

/// Runs the plan to its end and returns the series. Errors only for what prevents a run
/// from starting; once sampling has begun every ending is a [`RunEnd`].
pub fn run(plan: &RunPlan) -> anyhow::Result<RunOutcome> {
    interrupt::arm();
    let series = plan
        .metrics
        .as_ref()
        .map_or(&[][..], |metrics| &metrics.series[..]);
    let mut csv = SamplesCsvWriter::create(&plan.out_dir.join("samples.csv"), series)?;
    let mut server = Attached::new(plan)?;
    let (probe, mut previous) = first_reading(plan, &server)?;
    let allocator = previous.diagnostics.as_ref().and_then(|d| d.allocator);
    let runtime = previous
        .diagnostics
        .as_ref()
        .filter(|d| d.measured_gc.is_some())
        .and_then(|d| d.runtime.clone());
    let measured_gc = runtime
        .as_ref()
        .map(crate::report::measured_gc_label)
        .or_else(|| {
            let family = plan.metrics.as_ref()?.gc_family?;
            Some(format!("{family} from /metrics"))
        });

    let load_stop = match plan.stop {
        StopAt::Duration(duration) => StopAt::Duration(plan.warmup + duration),
        requests => requests,
    };
    let load = match server.addr.filter(|_| !plan.watch) {
        Some(addr) => Some(loadgen::start(LoadConfig {
            addr,
            host: server.host.clone(),
            paths: vec![plan.path.clone()],
            connections: plan.connections,
            threads: plan.threads,
            rate_per_s: plan.rate_per_s,
            stop: load_stop,
            timeout: plan.timeout,
        })?),
        None => None,
    };
    let started = SystemTime::now();
    let start = Instant::now();
    let progress = progress::Progress::new(match load_stop {
        StopAt::Duration(duration) => Some(duration),
        StopAt::Requests(_) => None,
    });
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
        resources: plan.chart_resources.clone(),
        measured_gc,
    };
    let mut gc_lens = plan.gc_lens.as_ref().map(GcLens::new);
    let mut record = |mut sample: Sample, series: &mut Series| -> anyhow::Result<()> {
        if let Some(lens) = gc_lens.as_mut() {
            lens.observe(&mut sample);
        }
        if let Err(err) = csv.append(&sample) {
            // Said once: later rows are not attempted, the samples stay in memory.
            eprintln!(
                "membench: {err:#}; sampling goes on in memory, the file is written whole at the end if the disk allows"
            );
        }
        series.samples.push(sample);
        Ok(())
    };
    // The starting point: memory before any load.
    let nothing_yet = IntervalStats::default();
    let at_rest = merge(
        &previous,
        &previous,
        load.as_ref().map(|_| &nothing_yet),
        0.0,
        Phase::Warmup,
    );
    record(at_rest, &mut series)?;

    let mut end = RunEnd::Completed;
    let mut next_tick = start + plan.interval;
    // Without a load generator the duration is the watch's own end.
    let deadline = match (&load, load_stop) {
        (None, StopAt::Duration(duration)) => Some(start + duration),
        _ => None,
    };
    loop {
        match wait_for_tick(load.as_ref(), deadline, &mut server, next_tick) {
            Tick::Sample => {}
            Tick::LoadFinished => break,
            Tick::Ended(how) => {
                end = how;
                break;
            }
        }
        let current = probe.read();
        if server.pid.is_some() && current.process.is_none() {
            // Gone between two checks: a sample of a dead process would read as zeros.
            end = server
                .ended()
                .unwrap_or_else(|| server_died("is no longer running"));
            break;
        }
        let elapsed = start.elapsed();
        let phase = if elapsed <= plan.warmup {
            Phase::Warmup
        } else {
            Phase::Load
        };
        let interval = load.as_ref().map(LoadHandle::take_interval);
        let sample = merge(
            &previous,
            &current,
            interval.as_ref(),
            elapsed.as_secs_f64(),
            phase,
        );
        progress.update(elapsed, &sample);
        record(sample, &mut series)?;
        previous = current;
        next_tick += plan.interval;
    }

    let (remaining, load_total) = match load {
        Some(load) => {
            load.stop();
            let result = load.finish();
            (Some(result.last_interval), result.total)
        }
        None => (None, IntervalStats::default()),
    };
    // The last sample: whatever completed since the previous one, then memory at rest.
    let current = probe.read();
    let elapsed_s = start.elapsed().as_secs_f64();
    record(
        merge(
            &previous,
            &current,
            remaining.as_ref(),
            elapsed_s,
            Phase::Final,
        ),
        &mut series,
    )?;
    progress.finish();
    let samples_file = csv.finish(&series.samples);

    if let Some(child) = server.child.as_mut() {
        // A child that ended on its own is described by its exit status (SIGKILL from
        // the OOM killer, a panic's exit code), which is better than "no longer running".
        if !matches!(end, RunEnd::Interrupted | RunEnd::Terminated)
            && let Some(status) = child.exited()
        {
            end = server_died(&describe_exit(status));
        }
        child.shutdown();
    }
    Ok(RunOutcome {
        samples_file,
        runtime,
        series,
        end,
        load_total,
        started,
        ended: SystemTime::now(),
        pid: server.pid,
        server_addr: server.addr,
        gc_lens,
    })
}

/// The probe and its first reading. A child must answer `/api/diagnostics`; a foreign
/// server that does not is sampled from `/proc` and `--metrics` only.
fn first_reading(plan: &RunPlan, server: &Attached) -> anyhow::Result<(Probe, Reading)> {
    let pid = server.pid;
    let diagnostics_timeout = plan.interval.max(Duration::from_secs(1));
    let with_metrics = |probe: Probe| -> anyhow::Result<Probe> {
        Ok(match &plan.metrics {
            Some(metrics) => probe.with_metrics(
                metrics
                    .source(diagnostics_timeout)
                    .map_err(anyhow::Error::msg)?,
            ),
            None => probe,
        })
    };
    let mut probe = with_metrics(Probe::new(pid, server.addr, diagnostics_timeout)?)?;
    let mut reading = probe.read();
    if reading.diagnostics.is_none() && server.child.is_some() {
        // A runtime's first answer can be slow (a JVM loading its management beans and
        // compiling on a busy machine): ask once more, patiently.
        reading = Probe::new(pid, server.addr, Duration::from_secs(15))?.read();
    }
    if let Some(pid) = pid {
        reading.process.as_ref().with_context(|| {
            format!("cannot read /proc/{pid}: is the server's process id right and is it running?")
        })?;
    }
    if reading.diagnostics.is_none() {
        if let (Some(_), Some(addr)) = (&server.child, server.addr) {
            anyhow::bail!("the server at http://{addr}/ did not answer GET /api/diagnostics");
        }
        probe = probe.without_diagnostics();
    }
    Ok((probe, reading))
}

/// What happened while waiting for the next sampling tick.
enum Tick {
    /// The tick is due: take a sample.
    Sample,
    /// The load generator reached its planned end.
    LoadFinished,
    /// Ctrl-C, SIGTERM, or the server ended.
    Ended(RunEnd),
}

/// Waits until `next_tick`, watching for a stop signal and the server's end every 20 ms.
/// The signal is checked first on every pass, so a run whose sampling falls behind
/// schedule (a short `--interval`, a slow `/proc`) still stops at once.
fn wait_for_tick(
    load: Option<&LoadHandle>,
    deadline: Option<Instant>,
    server: &mut Attached,
    next_tick: Instant,
) -> Tick {
    loop {
        if let Some(stop) = interrupt::requested() {
            return Tick::Ended(stopped_by(stop));
        }
        if load.is_some_and(LoadHandle::is_finished)
            || deadline.is_some_and(|end| Instant::now() >= end)
        {
            return Tick::LoadFinished;
        }
        let now = Instant::now();
        if now >= next_tick {
            return Tick::Sample;
        }
        if let Some(end) = server.ended() {
            return Tick::Ended(end);
        }
        std::thread::sleep((next_tick - now).min(Duration::from_millis(20)));
    }
}

/// How a stop signal reads as the run's end.
fn stopped_by(stop: interrupt::Stop) -> RunEnd {
    match stop {
        interrupt::Stop::Interrupt => RunEnd::Interrupted,
        interrupt::Stop::Terminate => RunEnd::Terminated,
    }
}

/// Whether a process with this pid exists (signal 0 checks without sending anything).
fn process_exists(pid: u32) -> bool {
    // SAFETY: kill with signal 0 only checks for existence and permission.
    let result = unsafe { libc::kill(pid as libc::pid_t, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}
