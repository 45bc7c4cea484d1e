//! `GET /api/diagnostics`: one [`Diagnostics`] snapshot of the server, read on demand.
//!
//! A snapshot reads `/proc/self` (stat, status, every fd, the TCP tables), the allocator's
//! statistics (glibc's `mallinfo2` walks its free lists) and runs the caches' pending
//! maintenance: all blocking, some of it slow with many sockets or entries. So it runs on
//! tokio's blocking pool, never on a worker thread that serves the pattern endpoints.
//! `/metrics` renders the same snapshot.
//!
//! A snapshot allocates: parsing `/proc/self/net/tcp` alone makes an allocation or more per
//! socket of the namespace, megabytes when thousands of connections sit in TIME_WAIT. Those
//! allocations land in the heap counters like any other, and a sampler polling four times
//! a second would add them to every scenario's allocation rate. So each snapshot measures
//! what it allocated (its blocking-pool thread's own shard, written by that thread alone)
//! and the total is reported as `measurement_alloc_count`/`_bytes`, for readers to subtract.
//!
//! Reading `/proc/self` in full (every fd, the namespace's TCP tables) costs milliseconds
//! of CPU, charged to the server's CPU like its work. A reader that reads `/proc/<pid>`
//! itself (`membench run`'s sampler) asks `?process=none`; the history sampler reads the
//! cheap part ([`SelfProbe::Cheap`]). Full readings are counted (`self_probe_full_reads`)
//! so a test can see that a run never makes one.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::error::AppError;
use super::state::{AppState, SharedState};
use crate::diagnostics::{Diagnostics, Leaks};
use crate::memory;

const DIAGNOSTICS: &str = "/api/diagnostics";

/// The route templates of this family.
pub(crate) const ROUTES: &[&str] = &[DIAGNOSTICS];

/// How much of its own process a snapshot reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SelfProbe {
    /// The whole probe: on Linux every fd and the TCP tables too.
    Full,
    /// `stat` and `status` only: no `open_fds`, no `tcp`.
    Cheap,
    /// Nothing: `process` is `None` (the reader reads `/proc/<pid>` itself).
    None,
}

impl SelfProbe {
    /// Parses `?process=`; the error quotes the value and lists the accepted ones.
    fn parse(text: &str) -> Result<SelfProbe, AppError> {
        match text {
            "full" => Ok(SelfProbe::Full),
            "cheap" => Ok(SelfProbe::Cheap),
            "none" => Ok(SelfProbe::None),
            _ => Err(AppError::BadRequest(format!(
                "unknown process=\"{text}\" in {DIAGNOSTICS}; use full (every figure, the \
                 default), cheap (no open fds, no TCP states) or none (no process block)"
            ))),
        }
    }
}

/// Allocations made by snapshots so far, cumulative, and the full self-readings made.
#[derive(Default)]
pub(crate) struct MeasurementCost {
    alloc_count: AtomicU64,
    alloc_bytes: AtomicU64,
    full_reads: AtomicU64,
}

impl MeasurementCost {
    /// Adds what one thread allocated between `before` and `after` (its own shard).
    pub(super) fn add(&self, before: memory::HeapCounters, after: memory::HeapCounters) {
        self.alloc_count.fetch_add(
            after.alloc_count.saturating_sub(before.alloc_count),
            Relaxed,
        );
        self.alloc_bytes.fetch_add(
            after.alloc_bytes.saturating_sub(before.alloc_bytes),
            Relaxed,
        );
    }
}

/// What every pattern family holds now.
pub(crate) fn leaks(state: &AppState) -> Leaks {
    let caches = state.caches.held_each();
    Leaks {
        staticstring: state.strings.held(),
        cache_unbounded: caches.unbounded,
        cache_expiring: caches.expiring,
        clientleak: state.clients.held(),
        fileprovider: state.watchers.held(),
        operations: state.operations.held(),
        pooled_buffers: state.pool.held(),
    }
}

/// Reads the whole snapshot now (blocking: see the module doc), `depth` of the process.
pub(crate) fn snapshot(state: &AppState, depth: SelfProbe) -> Result<Diagnostics, AppError> {
    let pid = std::process::id();
    // The families first: reading the caches runs their pending maintenance, which frees
    // expired entries, and the heap read next should see those frees. Then the heap, the
    // cheapest read and the one closest to "now"; /proc last.
    let leaks = leaks(state);
    let heap = memory::heap_counters();
    let process = match depth {
        SelfProbe::Full => {
            state.measurement_cost.full_reads.fetch_add(1, Relaxed);
            Some(memory::read_process(pid))
        }
        SelfProbe::Cheap => Some(memory::read_process_cheap(pid)),
        SelfProbe::None => None,
    }
    .transpose()
    .map_err(|err| AppError::Internal(format!("cannot read /proc/{pid}: {err}")))?;
    let requests = state.requests.snapshot();
    Ok(Diagnostics {
        contract_version: 1,
        pid,
        uptime_s: state.started.elapsed().as_secs_f64(),
        allocator: Some(memory::active_allocator()),
        counting_enabled: memory::counting_enabled(),
        large_object_threshold_bytes: Some(memory::large_object_threshold() as u64),
        heap: Some(heap),
        process,
        allocator_stats: memory::allocator_stats(),
        requests_total: requests.values().sum(),
        requests,
        errors: state.errors.snapshot(),
        leaks,
        measurement_alloc_count: state.measurement_cost.alloc_count.load(Relaxed),
        measurement_alloc_bytes: state.measurement_cost.alloc_bytes.load(Relaxed),
        self_probe_full_reads: Some(state.measurement_cost.full_reads.load(Relaxed)),
        modelled_gc: state.gc_lens.as_ref().map(|lens| lens.snapshot()),
        runtime: None,
        measured_gc: None,
    })
}

/// [`snapshot`] on the blocking pool, its allocations added to the measurement cost (the
/// next snapshot reports them: this one read the heap counters before making them).
pub(crate) async fn snapshot_off_workers(
    state: SharedState,
    depth: SelfProbe,
) -> Result<Diagnostics, AppError> {
    tokio::task::spawn_blocking(move || {
        let before = memory::thread_heap_counters();
        let diagnostics = snapshot(&state, depth);
        state
            .measurement_cost
            .add(before, memory::thread_heap_counters());
        diagnostics
    })
    .await
    .map_err(|err| AppError::Internal(format!("the diagnostics task failed: {err}")))?
}

/// The query of `GET /api/diagnostics`.
#[derive(Deserialize)]
struct DiagnosticsQuery {
    /// `full` (default), `cheap` or `none`: see [`SelfProbe`].
    process: Option<String>,
}

async fn diagnostics(
    State(state): State<SharedState>,
    query: Result<Query<DiagnosticsQuery>, QueryRejection>,
) -> Result<Json<Diagnostics>, AppError> {
    let Query(query) = query.map_err(|err| {
        AppError::BadRequest(format!(
            "{DIAGNOSTICS}: {err}; the one parameter is process=full|cheap|none"
        ))
    })?;
    let depth = match query.process.as_deref() {
        None => SelfProbe::Full,
        Some(text) => SelfProbe::parse(text)?,
    };
    snapshot_off_workers(state, depth).await.map(Json)
}

/// `GET /api/diagnostics`.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new().route(DIAGNOSTICS, get(diagnostics))
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;
    use crate::server::test_support::{get, state};

    #[tokio::test]
    async fn diagnostics_parse_back_and_report_requests_leaks_and_the_allocator() {
        let state = state();
        for _ in 0..3 {
            get(&state, "/api/staticstring").await;
        }
        get(&state, "/api/loh/abc").await;
        let (status, body) = get(&state, "/api/diagnostics").await;
        assert_eq!(status, StatusCode::OK);
        let diagnostics: Diagnostics = serde_json::from_slice(&body).unwrap();
        assert_eq!(diagnostics.allocator, Some(memory::active_allocator()));
        assert_eq!(diagnostics.pid, std::process::id());
        let process = diagnostics.process.as_ref().unwrap();
        assert_eq!(process.pid, std::process::id());
        assert!(process.rss_bytes > 0);
        assert_eq!(diagnostics.requests["/api/staticstring"], 3);
        assert_eq!(diagnostics.requests["/api/loh/{size}"], 1);
        assert_eq!(diagnostics.requests_total, 4, "{:?}", diagnostics.requests);
        assert_eq!(diagnostics.errors["bad request"], 1);
        assert_eq!(diagnostics.leaks.staticstring.items, 3);
        assert_eq!(diagnostics.leaks.staticstring, state.strings.held());
        assert_eq!(diagnostics.allocator_stats.allocator, diagnostics.allocator);
        if diagnostics.counting_enabled {
            assert!(diagnostics.heap.unwrap().live_bytes >= diagnostics.leaks.staticstring.bytes);
        }
    }

    #[tokio::test]
    async fn the_process_query_chooses_how_much_the_server_reads_about_itself() {
        let state = state();
        let read = |body: &[u8]| serde_json::from_slice::<Diagnostics>(body).unwrap();
        let (status, body) = get(&state, "/api/diagnostics?process=none").await;
        assert_eq!(status, StatusCode::OK);
        let none = read(&body);
        assert_eq!(none.process, None);
        assert_eq!(none.self_probe_full_reads, Some(0));
        assert!(none.heap.is_some(), "the cheap parts stay");

        let (status, body) = get(&state, "/api/diagnostics?process=cheap").await;
        assert_eq!(status, StatusCode::OK);
        let cheap = read(&body);
        let process = cheap.process.unwrap();
        assert!(process.rss_bytes > 0 && process.cpu_seconds >= 0.0);
        assert_eq!((process.open_fds, process.tcp), (None, None), "no walk");
        assert_eq!(cheap.self_probe_full_reads, Some(0));

        for path in ["/api/diagnostics", "/api/diagnostics?process=full"] {
            let (status, _) = get(&state, path).await;
            assert_eq!(status, StatusCode::OK);
        }
        let (_, body) = get(&state, "/api/diagnostics?process=none").await;
        assert_eq!(read(&body).self_probe_full_reads, Some(2));

        let (status, body) = get(&state, "/api/diagnostics?process=most").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let message = String::from_utf8_lossy(&body);
        assert!(
            message.contains("\\\"most\\\"") && message.contains("cheap"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn each_snapshot_reports_what_the_ones_before_it_allocated() {
        let state = state();
        let first = snapshot_off_workers(state.clone(), SelfProbe::Full)
            .await
            .unwrap();
        assert_eq!(
            (first.measurement_alloc_count, first.measurement_alloc_bytes),
            (0, 0)
        );
        let second = snapshot_off_workers(state.clone(), SelfProbe::Full)
            .await
            .unwrap();
        let third = snapshot_off_workers(state, SelfProbe::Full).await.unwrap();
        if second.counting_enabled {
            // Reading /proc and the allocator's statistics allocates (paths, lines, maps).
            assert!(second.measurement_alloc_count > 0);
            assert!(third.measurement_alloc_bytes > second.measurement_alloc_bytes);
        }
    }
}
