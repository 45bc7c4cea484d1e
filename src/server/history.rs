//! `GET /api/history`: the last five minutes of what the dashboard charts, one sample a
//! second, kept by the server whether or not a page is open, so a person who opens the
//! link late or reloads sees the whole window.
//!
//! The ring is allocated once ([`HISTORY_LEN`] samples of fixed size, no heap fields), so
//! its memory is bounded however long the server runs. A thread started with the server
//! ([`spawn_history_sampler`]) takes one diagnostics snapshot a second and keeps the
//! fields the page reads; what it allocates is added to the measurement cost, like the
//! snapshots of `/api/diagnostics` and the modelled lens's ticks, so readers can subtract
//! it. It reads only the cheap part of `/proc/self` (`stat` and `status`: the page charts
//! RSS and CPU, never fds or TCP states), because it runs in every server, a run's child
//! included, where a full reading every second (every fd and the namespace's TCP tables)
//! would be charged to the CPU per request the run measures. It stays always on, not
//! lazy, so a page opened late still sees the whole window.
//!
//! Each sample has the shape of the part of the diagnostics document the page reads
//! (`heap`, `process`, `allocator_stats`, …), so the page ingests a sample exactly as it
//! ingests a poll.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::measurements::{self, SelfProbe};
use super::state::{AppState, SharedState};
use crate::diagnostics::Diagnostics;
use crate::memory;

const HISTORY: &str = "/api/history";

/// The route templates of this family.
pub(crate) const ROUTES: &[&str] = &[HISTORY];

/// Time between two samples.
pub(crate) const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// Samples kept: five minutes at [`SAMPLE_EVERY`], the dashboard's window.
pub(crate) const HISTORY_LEN: usize = 300;

/// The heap counters the page reads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct HeapPart {
    pub(crate) live_bytes: u64,
    pub(crate) alloc_count: u64,
    pub(crate) alloc_bytes: u64,
}

/// The process figures the page reads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct ProcessPart {
    pub(crate) rss_bytes: u64,
    /// User plus system CPU time since the server started.
    pub(crate) cpu_seconds: f64,
}

/// The allocator's own figures the page reads (`None` where the allocator has none).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct AllocatorPart {
    pub(crate) resident_bytes: Option<u64>,
    pub(crate) purge_events_total: Option<u64>,
    pub(crate) collect_calls_total: u64,
}

/// One second of history: the fields of a diagnostics snapshot the dashboard charts,
/// under the same names, so the page ingests it as it ingests a poll.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct HistorySample {
    pub(crate) pid: u32,
    /// The server's uptime when the sample was taken, seconds.
    pub(crate) uptime_s: f64,
    /// Wall-clock time of the sample, milliseconds since the Unix epoch.
    pub(crate) unix_ms: u64,
    pub(crate) requests_total: u64,
    pub(crate) heap: HeapPart,
    pub(crate) process: ProcessPart,
    pub(crate) allocator_stats: AllocatorPart,
}

impl HistorySample {
    /// The sample of one snapshot; `None` when the snapshot lacks the heap or process
    /// figures (it never does on the server, whose snapshots always read both).
    fn of(d: &Diagnostics, unix_ms: u64) -> Option<HistorySample> {
        let heap = d.heap.as_ref()?;
        let process = d.process.as_ref()?;
        Some(HistorySample {
            pid: d.pid,
            uptime_s: d.uptime_s,
            unix_ms,
            requests_total: d.requests_total,
            heap: HeapPart {
                live_bytes: heap.live_bytes,
                alloc_count: heap.alloc_count,
                alloc_bytes: heap.alloc_bytes,
            },
            process: ProcessPart {
                rss_bytes: process.rss_bytes,
                cpu_seconds: process.cpu_seconds,
            },
            allocator_stats: AllocatorPart {
                resident_bytes: d.allocator_stats.resident_bytes,
                purge_events_total: d.allocator_stats.purge_events_total,
                collect_calls_total: d.allocator_stats.collect_calls_total,
            },
        })
    }
}

/// The answer of `GET /api/history`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct HistoryAnswer {
    /// The server's uptime when it answered, seconds (to place samples on a clock).
    pub(crate) uptime_s: f64,
    /// Seconds between samples.
    pub(crate) interval_s: f64,
    /// How many samples the server keeps at most.
    pub(crate) capacity: usize,
    /// The samples, oldest first.
    pub(crate) samples: Vec<HistorySample>,
}

/// The ring of the last [`HISTORY_LEN`] samples, allocated once.
pub(crate) struct History {
    ring: Mutex<VecDeque<HistorySample>>,
}

impl History {
    pub(crate) fn new() -> History {
        History {
            ring: Mutex::new(VecDeque::with_capacity(HISTORY_LEN)),
        }
    }

    /// Adds a sample, dropping the oldest when full (never grows past its capacity).
    fn push(&self, sample: HistorySample) {
        let mut ring = self
            .ring
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if ring.len() == HISTORY_LEN {
            ring.pop_front();
        }
        ring.push_back(sample);
    }

    /// The samples, oldest first.
    fn samples(&self) -> Vec<HistorySample> {
        let ring = self
            .ring
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        ring.iter().copied().collect()
    }

    /// How much the ring has room for (it was allocated with that, and never grows).
    #[cfg(test)]
    fn allocated(&self) -> usize {
        self.ring.lock().unwrap().capacity()
    }
}

/// Takes one sample now, its allocations added to the measurement cost (this thread's
/// own shard of the heap counters is written by this thread alone). Blocking.
pub(crate) fn record(state: &AppState) {
    let before = memory::thread_heap_counters();
    let unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64);
    match measurements::snapshot(state, SelfProbe::Cheap) {
        Ok(d) => {
            if let Some(sample) = HistorySample::of(&d, unix_ms) {
                state.history.push(sample);
            }
        }
        Err(err) => tracing::warn!("history sample skipped: {err}"),
    }
    state
        .measurement_cost
        .add(before, memory::thread_heap_counters());
}

/// Starts the thread that samples every [`SAMPLE_EVERY`] for as long as the state lives.
pub(crate) fn spawn_history_sampler(state: &SharedState) -> std::io::Result<()> {
    let state = Arc::downgrade(state);
    std::thread::Builder::new()
        .name("membench-history".into())
        .spawn(move || {
            loop {
                {
                    let Some(state) = state.upgrade() else {
                        return;
                    };
                    record(&state);
                }
                std::thread::sleep(SAMPLE_EVERY);
            }
        })?;
    Ok(())
}

async fn history(State(state): State<SharedState>) -> Json<HistoryAnswer> {
    // Copying the ring out allocates; counted like the sampler's own allocations (no
    // await between the two reads, so this worker thread's shard is this code's alone).
    let before = memory::thread_heap_counters();
    let answer = HistoryAnswer {
        uptime_s: state.started.elapsed().as_secs_f64(),
        interval_s: SAMPLE_EVERY.as_secs_f64(),
        capacity: HISTORY_LEN,
        samples: state.history.samples(),
    };
    state
        .measurement_cost
        .add(before, memory::thread_heap_counters());
    Json(answer)
}

/// `GET /api/history`.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new().route(HISTORY, get(history))
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;
    use crate::server::test_support::{get, state};

    #[tokio::test]
    async fn the_ring_keeps_the_newest_samples_oldest_first_and_never_grows() {
        let state = state();
        let (status, body) = get(&state, HISTORY).await;
        assert_eq!(status, StatusCode::OK);
        let empty: HistoryAnswer = serde_json::from_slice(&body).unwrap();
        assert!(empty.samples.is_empty(), "no sampler runs in-process");
        let allocated = state.history.allocated();
        assert!(allocated >= HISTORY_LEN);

        // More real snapshots than the ring holds, with requests between some of them.
        let taken = HISTORY_LEN + 7;
        for i in 0..taken {
            if i % 50 == 0 {
                get(&state, "/api/ping").await;
            }
            record(&state);
        }
        let (status, body) = get(&state, HISTORY).await;
        assert_eq!(status, StatusCode::OK);
        let answer: HistoryAnswer = serde_json::from_slice(&body).unwrap();
        assert_eq!(answer.capacity, HISTORY_LEN);
        assert_eq!(answer.samples.len(), HISTORY_LEN, "bounded");
        assert_eq!(state.history.allocated(), allocated, "the ring never grew");
        for pair in answer.samples.windows(2) {
            assert!(pair[0].uptime_s < pair[1].uptime_s, "{pair:?}");
            assert!(pair[0].unix_ms <= pair[1].unix_ms, "{pair:?}");
            assert!(pair[0].requests_total <= pair[1].requests_total, "{pair:?}");
        }
        // Each sample is a real snapshot of this server: it saw the first ping.
        let first = &answer.samples[0];
        assert!(first.requests_total >= 2, "{first:?}");
        assert!(answer.uptime_s >= answer.samples[HISTORY_LEN - 1].uptime_s);
        assert_eq!(first.pid, std::process::id());
        assert!(first.process.rss_bytes > 0);
        // Every one of them read the cheap part of /proc/self: no fd or TCP walk.
        let (_, body) = get(&state, "/api/diagnostics?process=none").await;
        let after: Diagnostics = serde_json::from_slice(&body).unwrap();
        assert_eq!(after.self_probe_full_reads, Some(0));
    }
}
