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

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::error::AppError;
use super::state::{AppState, SharedState};
use crate::diagnostics::{Diagnostics, Leaks};
use crate::memory;

const DIAGNOSTICS: &str = "/api/diagnostics";

/// The route templates of this family.
pub(crate) const ROUTES: &[&str] = &[DIAGNOSTICS];

/// Allocations made by snapshots so far, cumulative.
#[derive(Default)]
pub(crate) struct MeasurementCost {
    alloc_count: AtomicU64,
    alloc_bytes: AtomicU64,
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

/// Reads the whole snapshot now (blocking: see the module doc).
pub(crate) fn snapshot(state: &AppState) -> Result<Diagnostics, AppError> {
    let pid = std::process::id();
    // The families first: reading the caches runs their pending maintenance, which frees
    // expired entries, and the heap read next should see those frees. Then the heap, the
    // cheapest read and the one closest to "now"; /proc last.
    let leaks = leaks(state);
    let heap = memory::heap_counters();
    let process = memory::read_process(pid)
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
        process: Some(process),
        allocator_stats: memory::allocator_stats(),
        requests_total: requests.values().sum(),
        requests,
        errors: state.errors.snapshot(),
        leaks,
        measurement_alloc_count: state.measurement_cost.alloc_count.load(Relaxed),
        measurement_alloc_bytes: state.measurement_cost.alloc_bytes.load(Relaxed),
        modelled_gc: state.gc_lens.as_ref().map(|lens| lens.snapshot()),
        runtime: None,
        measured_gc: None,
    })
}

/// [`snapshot`] on the blocking pool, its allocations added to the measurement cost (the
/// next snapshot reports them: this one read the heap counters before making them).
pub(crate) async fn snapshot_off_workers(state: SharedState) -> Result<Diagnostics, AppError> {
    tokio::task::spawn_blocking(move || {
        let before = memory::thread_heap_counters();
        let diagnostics = snapshot(&state);
        state
            .measurement_cost
            .add(before, memory::thread_heap_counters());
        diagnostics
    })
    .await
    .map_err(|err| AppError::Internal(format!("the diagnostics task failed: {err}")))?
}

async fn diagnostics(State(state): State<SharedState>) -> Result<Json<Diagnostics>, AppError> {
    snapshot_off_workers(state).await.map(Json)
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
    async fn each_snapshot_reports_what_the_ones_before_it_allocated() {
        let state = state();
        let first = snapshot_off_workers(state.clone()).await.unwrap();
        assert_eq!(
            (first.measurement_alloc_count, first.measurement_alloc_bytes),
            (0, 0)
        );
        let second = snapshot_off_workers(state.clone()).await.unwrap();
        let third = snapshot_off_workers(state).await.unwrap();
        if second.counting_enabled {
            // Reading /proc and the allocator's statistics allocates (paths, lines, maps).
            assert!(second.measurement_alloc_count > 0);
            assert!(third.measurement_alloc_bytes > second.measurement_alloc_bytes);
        }
    }
}
