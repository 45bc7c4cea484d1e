//! `GET /metrics`: the numbers of `/api/diagnostics` for Prometheus and every tool that
//! scrapes like it.
//!
//! Two text formats from one table of metric families: the Prometheus text format 0.0.4
//! by default (what `promtool check metrics`, most scrapers and `curl` users read), and
//! OpenMetrics 1.0.0 when the client's `Accept` asks for `application/openmetrics-text`
//! (as Prometheus itself does). In 0.0.4 a counter family is named with its `_total` and an
//! info metric is a gauge `…_info` of value 1 (0.0.4 has no `info` type); in OpenMetrics
//! the family name leaves `_total`/`_info` to the samples and carries a `# UNIT`, and the
//! text ends with `# EOF`.
//!
//! Each scrape takes one [`Diagnostics`] snapshot and renders it: the numbers live in the
//! server's own counters already, so there is nothing to keep in sync, and a scrape sees
//! one consistent snapshot. Beside membench's own names the standard `process_*` names of
//! the official client libraries are published (resident and virtual memory, CPU seconds,
//! fds and their limit, start time, threads), so stock Grafana panels work. Names carry
//! their units (`_bytes`, `_seconds`) and counters end in `_total`; the `endpoint` label is
//! the route template, the same key as in `/api/diagnostics` `requests`. Numbers the
//! allocator or the OS do not have are left out rather than reported as zero.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::error::AppError;
use super::measurements::{SelfProbe, snapshot_off_workers};
use super::state::SharedState;
use crate::diagnostics::Diagnostics;
use crate::memory;

const METRICS: &str = "/metrics";

/// The route templates of this family.
pub(crate) const ROUTES: &[&str] = &[METRICS];

mod exposition;
mod families;
mod negotiation;
#[cfg(test)]
mod tests;

pub use families::ProcessExtras;
use families::families;
pub use negotiation::Format;

/// The snapshot as text in `format`.
pub fn render(diagnostics: &Diagnostics, extras: &ProcessExtras, format: Format) -> String {
    families(diagnostics, extras).render(format)
}

async fn metrics(
    State(state): State<SharedState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, AppError> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    let format = Format::negotiate(accept);
    let diagnostics = snapshot_off_workers(state.clone(), SelfProbe::Full).await?;
    // Reading /proc allocates: counted as the snapshot's own cost, like the snapshot's.
    let extras = tokio::task::spawn_blocking(move || {
        let before = memory::thread_heap_counters();
        let extras = ProcessExtras::read();
        state
            .measurement_cost
            .add(before, memory::thread_heap_counters());
        extras
    })
    .await
    .map_err(|err| AppError::Internal(format!("the process probe failed: {err}")))?;
    let text = render(&diagnostics, &extras, format);
    Ok(([(header::CONTENT_TYPE, format.content_type())], text))
}

/// `GET /metrics`.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new().route(METRICS, get(metrics))
}
