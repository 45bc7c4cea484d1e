//! The built-in HTTP/1.1 load generator: bounded, fast, and honest about what it measured.
//!
//! It shares the machine with the server it measures, so every cycle it spends is taken
//! from the measurement. The design follows from that:
//!
//! * one current-thread tokio runtime per worker thread, connections spread over the
//!   threads, each connection a task owning one keep-alive TCP connection ([`worker`],
//!   [`connection`]);
//! * requests prebuilt per connection as bytes ([`request`]); responses parsed with
//!   `httparse` and drained through one reusable buffer ([`response`]);
//! * per thread, one [`IntervalStats`] behind a mutex that [`LoadHandle::take_interval`]
//!   swaps out: counts, errors by kind ([`ErrorKind`]) and an HdrHistogram of latencies
//!   ([`stats`]) — memory is bounded, there is no list of requests;
//! * closed loop by default; open loop on a fixed grid of intended send times, with
//!   latency of late sends counted from the intended time ([`pacing`]);
//! * every run ends by itself: a deadline or an exact request count ([`control`]);
//! * a load run on its own and its totals (`membench load`) in [`report`].
//!
//! Request failures are data: a failed request is counted by kind, its connection is
//! replaced after a short backoff, and load goes on.

mod config;
mod connection;
mod control;
mod pacing;
pub mod report;
mod request;
mod response;
mod stats;
mod status_codes;
mod target;
mod worker;

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use anyhow::Context;

pub use config::{LoadConfig, StopAt};
pub use stats::IntervalStats;
pub use target::{Target, TargetError, parse_target};

use control::Control;
use worker::SharedStats;

/// A running load. Workers never print; the owner polls it.
pub struct LoadHandle {
    control: Arc<Control>,
    workers: Vec<Worker>,
    /// Everything handed out by `take_interval` so far.
    total: Mutex<IntervalStats>,
}

/// One worker thread and the stats it records into.
struct Worker {
    stats: SharedStats,
    /// `None` once joined.
    thread: Option<JoinHandle<()>>,
}

/// What remained when load ended.
pub struct LoadResult {
    /// Everything since the last `take_interval`.
    pub last_interval: IntervalStats,
    /// The whole run.
    pub total: IntervalStats,
}

impl LoadHandle {
    /// True once every worker has ended (stop condition reached or `stop` called).
    pub fn is_finished(&self) -> bool {
        self.workers
            .iter()
            .all(|worker| worker.thread.as_ref().is_none_or(JoinHandle::is_finished))
    }

    /// Stats since the previous call (or since the start), merged over all threads; they
    /// are also added to the run's total.
    pub fn take_interval(&self) -> IntervalStats {
        let mut interval = IntervalStats::default();
        for worker in &self.workers {
            // Allocated before locking, so the worker waits only for a swap.
            let fresh = IntervalStats::default();
            let taken = std::mem::replace(&mut *worker::lock(&worker.stats), fresh);
            interval.merge(&taken);
        }
        self.total
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .merge(&interval);
        interval
    }

    /// Asks the workers to stop now (in-flight requests are abandoned, not counted).
    pub fn stop(&self) {
        self.control.stop();
    }

    /// Waits for the workers and returns what remained.
    pub fn finish(mut self) -> LoadResult {
        for thread in self
            .workers
            .iter_mut()
            .filter_map(|worker| worker.thread.take())
        {
            // A worker that panicked (a bug) leaves its counts in place; they are
            // reported as they are rather than lost.
            let _ = thread.join();
        }
        let last_interval = self.take_interval();
        let total = std::mem::take(
            &mut *self
                .total
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        LoadResult {
            last_interval,
            total,
        }
    }
}

impl Drop for LoadHandle {
    /// A handle dropped without `finish` stops its workers rather than leaving them running.
    fn drop(&mut self) {
        self.control.stop();
    }
}

/// Starts the workers. Fails if the configuration is invalid (the message names the
/// field) or threads cannot be started; request failures never fail it.
pub fn start(config: LoadConfig) -> anyhow::Result<LoadHandle> {
    config.validate()?;
    let threads = config.effective_threads();
    // Runtimes are built here, not in the threads, so a failure is an error of `start`.
    let runtimes = (0..threads)
        .map(|_| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot create a load-generator runtime")
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let control = Arc::new(Control::new(Instant::now(), config.stop));
    let config = Arc::new(config);
    let mut handle = LoadHandle {
        control: control.clone(),
        workers: Vec::with_capacity(threads),
        total: Mutex::new(IntervalStats::default()),
    };
    for (thread_index, runtime) in runtimes.into_iter().enumerate() {
        let stats = SharedStats::default();
        let indices: Vec<usize> = (thread_index..config.connections)
            .step_by(threads)
            .collect();
        let spawned = std::thread::Builder::new()
            .name(format!("loadgen-{thread_index}"))
            .spawn({
                let (config, control, stats) = (config.clone(), control.clone(), stats.clone());
                move || worker::run_thread(runtime, config, control, stats, indices)
            });
        match spawned {
            Ok(thread) => handle.workers.push(Worker {
                stats,
                thread: Some(thread),
            }),
            // Dropping the handle stops the threads already started.
            Err(err) => return Err(err).context("cannot start a load-generator thread"),
        }
    }
    Ok(handle)
}

#[cfg(test)]
mod tests;
