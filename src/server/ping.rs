//! `GET /api/ping`: the baseline. A tiny static body and no allocation of its own, so a
//! run against it measures the server's and the load generator's fixed cost per request;
//! it is also the default upstream of the client endpoints.

use axum::Router;
use axum::routing::get;

use super::state::SharedState;

const PING: &str = "/api/ping";

/// The route templates of this family.
pub(crate) const ROUTES: &[&str] = &[PING];

/// The body of every ping.
pub(crate) const PONG: &str = "pong";

/// `GET /api/ping`.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new().route(PING, get(|| async { PONG }))
}
