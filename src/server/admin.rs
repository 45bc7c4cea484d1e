//! The two actions of the measurements API:
//!
//! * `POST /api/collect` — ask the allocator to return free memory to the OS
//!   (`malloc_trim(0)`, jemalloc `arena.<all>.purge`, `mi_collect(true)`): the
//!   `GC.Collect` analog. Answers the [`CollectOutcome`] with RSS before and after.
//! * `POST /api/reset` — drop what every pattern family holds (the leaked strings, both
//!   caches, the pooled buffers, leaked clients, watchers, receive operations). Answers what was dropped.
//!
//! Both change the server, so both are POST; a GET answers 405 saying so. Both may take
//! a while (a trim walks the heap, a reset frees a gibibyte), so they run on the blocking
//! pool.

use axum::extract::State;
use axum::routing::{MethodRouter, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::error::AppError;
use super::measurements::leaks;
use super::state::{AppState, SharedState};
use crate::diagnostics::Leaks;
use crate::format::format_bytes;
use crate::memory::{self, CollectOutcome};

const COLLECT: &str = "/api/collect";
const RESET: &str = "/api/reset";

/// The route templates of this family.
pub(crate) const ROUTES: &[&str] = &[COLLECT, RESET];

/// The answer of `POST /api/reset`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ResetOutcome {
    /// What each family held just before the reset, and so dropped.
    pub(crate) dropped: Leaks,
    /// Bytes dropped by the endpoints that leak (what the leak cap counts and more: see
    /// [`Leaks::total_bytes`]).
    pub(crate) dropped_leak_bytes: u64,
}

/// Drops what every family holds; returns what they held just before.
pub(crate) fn reset(state: &AppState) -> ResetOutcome {
    // Read then reset, family by family: a request landing in between is dropped but not
    // reported, which only makes the report a little low under load.
    let dropped = leaks(state);
    state.strings.reset();
    state.caches.reset();
    state.pool.reset();
    state.clients.reset();
    state.watchers.reset();
    state.operations.reset();
    ResetOutcome {
        dropped_leak_bytes: dropped.total_bytes(),
        dropped,
    }
}

async fn run_blocking<T: Send + 'static>(
    what: &str,
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|err| AppError::Internal(format!("the {what} task failed: {err}")))
}

async fn collect() -> Result<Json<CollectOutcome>, AppError> {
    let outcome = run_blocking("collect", || memory::collect(memory::own_rss_bytes)).await?;
    tracing::info!(
        action = %outcome.action,
        rss_before_bytes = outcome.rss_before_bytes,
        rss_after_bytes = outcome.rss_after_bytes,
        duration_us = outcome.duration_us,
        "collect"
    );
    Ok(Json(outcome))
}

async fn reset_handler(State(state): State<SharedState>) -> Result<Json<ResetOutcome>, AppError> {
    let outcome = run_blocking("reset", move || reset(&state)).await?;
    tracing::info!(
        dropped_leak_bytes = outcome.dropped_leak_bytes,
        "reset dropped {}",
        format_bytes(outcome.dropped_leak_bytes)
    );
    Ok(Json(outcome))
}

/// A POST-only route whose other methods answer 405 with a JSON error naming POST.
fn post_only<H, T>(path: &'static str, handler: H) -> MethodRouter<SharedState>
where
    H: axum::handler::Handler<T, SharedState>,
    T: 'static,
{
    post(handler).fallback(move |method: axum::http::Method| async move {
        AppError::MethodNotAllowed(format!(
            "{method} is not allowed on {path}: it changes the server, so use POST \
             (e.g. curl -X POST http://HOST{path})"
        ))
    })
}

/// `POST /api/collect`, `POST /api/reset`.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route(COLLECT, post_only(COLLECT, collect))
        .route(RESET, post_only(RESET, reset_handler))
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;
    use crate::server::test_support::{json, send, state};

    #[tokio::test]
    async fn collect_answers_rss_before_and_after_with_the_allocator_in_use() {
        let state = state();
        let (status, body) = send(&state, "POST", COLLECT).await;
        assert_eq!(status, StatusCode::OK);
        let outcome: CollectOutcome = serde_json::from_slice(&body).unwrap();
        assert_eq!(outcome.allocator, memory::active_allocator());
        assert!(outcome.rss_before_bytes > 0 && outcome.rss_after_bytes > 0);
        assert_eq!(
            outcome.rss_released_bytes,
            outcome.rss_before_bytes as i64 - outcome.rss_after_bytes as i64
        );
    }

    #[tokio::test]
    async fn reset_reports_every_family_and_the_leak_total() {
        let state = state();
        for path in [
            "/api/staticstring",
            "/api/cache/unbounded",
            "/api/pooledarray/100",
        ] {
            send(&state, "GET", path).await;
        }
        let (status, body) = send(&state, "POST", RESET).await;
        assert_eq!(status, StatusCode::OK);
        let outcome: ResetOutcome = serde_json::from_slice(&body).unwrap();
        assert_eq!(outcome.dropped.staticstring.items, 1);
        assert_eq!(outcome.dropped.cache_unbounded.items, 1);
        assert_eq!(outcome.dropped.pooled_buffers.items, 1);
        assert_eq!(outcome.dropped_leak_bytes, outcome.dropped.total_bytes());
        assert!(outcome.dropped_leak_bytes > 2 * 10 * 1024);
        let (_, body) = send(&state, "POST", RESET).await;
        assert_eq!(json(&body)["dropped_leak_bytes"], 0);
    }
}
