//! The pattern server (`membench serve`): axum endpoints that each reproduce one memory
//! pattern of the ASP.NET Core memory article and the leak post-mortems behind it, and the
//! server's own measurements.
//!
//! * [`app`] builds the router from an [`AppState`] (tests call it with `oneshot`).
//! * [`serve`] binds, prints `listening on http://ADDR` as the first stdout line, and
//!   shuts down gracefully on Ctrl-C or SIGTERM.
//! * One file per pattern family; [`diagnostics`] is the JSON contract with the sampler.

mod buffers;
mod cache;
mod clients;
mod dashboard;
pub mod diagnostics;
pub mod error;
mod fileprovider;
mod requests;
mod state;
mod strings;

use axum::Router;

use crate::cli::ServeArgs;

pub use diagnostics::{Diagnostics, Held, Leaks};
pub use error::AppError;
pub use state::{AppState, ServerConfig, SharedState};

/// The whole router (STUB: the core owner adds the measurement routes and middleware).
pub fn app(state: SharedState) -> Router {
    Router::new()
        .merge(strings::routes())
        .merge(buffers::routes())
        .merge(cache::routes())
        .merge(clients::routes())
        .merge(fileprovider::routes())
        .merge(dashboard::routes())
        .with_state(state)
}

/// Runs `membench serve` until Ctrl-C or SIGTERM (STUB).
pub fn serve(_args: ServeArgs) -> anyhow::Result<()> {
    anyhow::bail!("serve is not built yet")
}
