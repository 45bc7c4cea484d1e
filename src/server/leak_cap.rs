//! The leak cap (`--leak-cap`): the most bytes `/api/staticstring` and
//! `/api/cache/unbounded` may hold together before they answer 507, so a workshop laptop
//! survives a leak left running.
//!
//! The check reads both families' held bytes (atomics, no lock) before an insert. Each
//! family inserts under its own lock, so two requests to *different* leaking endpoints at
//! the same moment can both pass and overshoot the cap by one entry each: at most the
//! number of concurrent requests × 10 KiB, nothing next to a cap of a gibibyte.

use super::error::AppError;
use super::state::AppState;
use crate::format::format_bytes;

/// The kind counted in `/api/diagnostics` `errors` when a leak cap stops a request (this
/// one, or `--client-leak-cap` of /api/clientleak).
pub const LEAK_CAP_REACHED: &str = "leak cap reached";

/// Bytes held now by the endpoints under the cap.
pub fn held_bytes(state: &AppState) -> u64 {
    state.strings.held_bytes() + state.caches.unbounded_held_bytes()
}

/// Fails with 507 when keeping `adding_bytes` more would take what the leaking endpoints
/// hold past the cap. `endpoint` names the endpoint asking, for the message.
pub fn check(state: &AppState, endpoint: &str, adding_bytes: u64) -> Result<(), AppError> {
    let held = held_bytes(state);
    let cap = state.config.leak_cap_bytes;
    if held.saturating_add(adding_bytes) <= cap {
        return Ok(());
    }
    Err(AppError::CapReached {
        kind: LEAK_CAP_REACHED,
        message: format!(
            "leak cap reached: /api/staticstring and /api/cache/unbounded hold {} ({held} bytes) \
             and {endpoint} would add {adding_bytes} bytes, past --leak-cap {} ({cap} bytes); \
             POST /api/reset drops what they hold (or restart with a larger --leak-cap)",
            format_bytes(held),
            format_bytes(cap),
        ),
    })
}
