//! Worker threads and the loop each connection runs.
//!
//! Each thread owns one current-thread tokio runtime and a share of the connections
//! (connection `i` on thread `i % threads`); each connection is a task that sends one
//! request at a time. A thread records into its own [`IntervalStats`] behind a mutex that
//! only the collector ever contends for (once per sampling interval), so no per-request
//! state is shared across threads. Workers never print: every outcome is a count.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;
use tokio::task::JoinSet;

use super::config::LoadConfig;
use super::connection::Connection;
use super::control::Control;
use super::pacing::Pacer;
use super::request::RequestTemplate;
use super::response::ResponseSummary;
use super::stats::IntervalStats;
use crate::error_labels::ErrorKind;

/// What a thread records into and the collector swaps out.
pub type SharedStats = Arc<Mutex<IntervalStats>>;

/// Locks a thread's stats; a poisoned lock still holds valid counts (every update is a
/// few additions that cannot be left half done in a way that matters), so it is used as is.
pub fn lock(stats: &SharedStats) -> MutexGuard<'_, IntervalStats> {
    stats.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs one worker thread's connections until they end or a stop is requested; then the
/// runtime is dropped, which abandons any request still in flight.
pub fn run_thread(
    runtime: Runtime,
    config: Arc<LoadConfig>,
    control: Arc<Control>,
    stats: SharedStats,
    connection_indices: Vec<usize>,
) {
    let mut stop_requested = control.stop_requested();
    runtime.block_on(async move {
        let mut connections = JoinSet::new();
        for index in connection_indices {
            connections.spawn(run_connection(
                config.clone(),
                control.clone(),
                stats.clone(),
                index,
            ));
        }
        tokio::select! {
            _ = async { while connections.join_next().await.is_some() {} } => {}
            // An error means the sender is gone, which only happens when load is over.
            _ = stop_requested.wait_for(|stop| *stop) => {}
        }
    });
}

/// Backoff after a failed request, so a dead server costs a few connection attempts per
/// second instead of a spinning core: doubles from 1 ms up to 100 ms, reset by a response.
#[derive(Debug)]
struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(1);
    const MAX: Duration = Duration::from_millis(100);

    fn new() -> Backoff {
        Backoff { next: Self::FIRST }
    }

    fn reset(&mut self) {
        self.next = Self::FIRST;
    }

    fn take(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        wait
    }
}

/// How one request ended.
enum Outcome {
    /// A complete response, and when the request was written.
    Response(ResponseSummary, Instant),
    Failed(ErrorKind),
    /// The run's deadline came first; not counted.
    Abandoned,
}

/// One connection's life: (re)connect, send, drain, record, until the run ends.
async fn run_connection(
    config: Arc<LoadConfig>,
    control: Arc<Control>,
    stats: SharedStats,
    index: usize,
) {
    // Each connection parses its own copy: see `request` for why none is shared.
    // `start` validated the same host and paths, so this cannot fail; if it ever did, the
    // connection would simply send nothing.
    let Ok(template) = RequestTemplate::new(&config.host, &config.paths) else {
        return;
    };
    let mut pacer = config
        .rate_per_s
        .map(|rate| Pacer::new(control.start, rate, config.connections, index));
    let mut connection: Option<Connection> = None;
    let mut backoff = Backoff::new();
    // One timer per connection, re-armed for every wait: re-arming a tokio timer is
    // cheaper than creating one.
    let mut timer = std::pin::pin!(tokio::time::sleep(Duration::ZERO));
    // When this connection was last free to send; open loop compares it with the next
    // intended send time to tell a late send (still busy) from an on-time one.
    let mut free_at = control.start;
    // Connections start at different paths so several paths are all requested from the start.
    let mut path_index = index;

    loop {
        let mut late_since = None;
        if let Some(pacer) = pacer.as_mut() {
            let slot = pacer.next_slot();
            if control.is_past_deadline(slot.intended) {
                break;
            }
            if free_at > slot.intended {
                // Busy at the intended time: send now; the latency counts from the
                // intended time, so the delay the server caused is not omitted.
                late_since = Some(slot.intended);
            } else if Instant::now() < slot.wake_at() {
                timer
                    .as_mut()
                    .reset(tokio::time::Instant::from_std(slot.wake_at()));
                timer.as_mut().await;
            }
        }
        // Two clock reads per request (here and at the end); they show in profiles.
        let started = Instant::now();
        if control.is_past_deadline(started) || !control.take_ticket() {
            break;
        }

        let (limit, limit_is_deadline) = control.cap_at_deadline(started + config.timeout);
        timer.as_mut().reset(tokio::time::Instant::from_std(limit));
        let request = template.get(path_index);
        path_index = path_index.wrapping_add(1);
        let outcome = tokio::select! {
            biased;
            result = send(&mut connection, config.addr, request, started) => match result {
                Ok((response, sent_at)) => Outcome::Response(response, sent_at),
                Err(kind) => Outcome::Failed(kind),
            },
            _ = timer.as_mut() => if limit_is_deadline {
                Outcome::Abandoned
            } else {
                Outcome::Failed(ErrorKind::Timeout)
            },
        };
        let now = Instant::now();
        match outcome {
            Outcome::Response(response, sent_at) => {
                // On time (or closed loop): from the moment it was sent.
                let latency = now.saturating_duration_since(late_since.unwrap_or(sent_at));
                let mut stats = lock(&stats);
                stats.record_response(response.status, response.body_bytes, latency);
                stats.late_sends += u64::from(late_since.is_some());
                drop(stats);
                if !response.keep_alive {
                    // The server ends the connection; not an error.
                    connection = None;
                }
                backoff.reset();
                free_at = now;
            }
            Outcome::Failed(kind) => {
                {
                    let mut stats = lock(&stats);
                    stats.record_error(kind);
                    stats.late_sends += u64::from(late_since.is_some());
                }
                // A connection that failed is not trusted with another request.
                connection = None;
                let wait_until = control.wait_until(now, backoff.take());
                timer
                    .as_mut()
                    .reset(tokio::time::Instant::from_std(wait_until));
                timer.as_mut().await;
                free_at = Instant::now();
            }
            Outcome::Abandoned => break,
        }
    }
}

/// Sends one request, on a new connection when there is none or the old one cannot be
/// reused (which is not an error: a keep-alive connection the server closed while idle
/// never saw the request). Returns the response and when the request was written: for a
/// new connection after it is established, so connecting is not counted as latency.
async fn send(
    connection: &mut Option<Connection>,
    addr: std::net::SocketAddr,
    request: &[u8],
    started: Instant,
) -> Result<(ResponseSummary, Instant), ErrorKind> {
    let mut sent_at = started;
    let reusable = match connection {
        Some(open) => open.is_reusable().await,
        None => false,
    };
    if !reusable {
        *connection = None;
        *connection = Some(Connection::open(addr).await?);
        sent_at = Instant::now();
    }
    match connection {
        Some(open) => Ok((open.exchange(request).await?, sent_at)),
        // Set just above; an error rather than a panic all the same.
        None => Err(ErrorKind::Other),
    }
}
