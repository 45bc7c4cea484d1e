//! The leak cap (`--leak-cap`): the most bytes `/api/staticstring` and
//! `/api/cache/unbounded` may hold together before they answer 507, so a workshop laptop
//! survives a leak left running.
//!
//! The check reads both families' held bytes (atomics, no lock) before an insert. Each
//! family inserts under its own lock, so two requests to *different* leaking endpoints at
//! the same moment can both pass and overshoot the cap by one entry each: at most the
//! number of concurrent requests × 10 KiB, nothing next to a cap of a gibibyte.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::error::AppError;
use crate::error_labels::LEAK_CAP_REACHED;
use crate::format::format_bytes;

/// The cap and the held-bytes counters of the endpoints under it. Cheap to clone: the
/// counters are shared with the families that write them (`StaticStrings`, `Caches`).
#[derive(Clone)]
pub(crate) struct LeakCap {
    cap_bytes: u64,
    /// Heap bytes `/api/staticstring` keeps, written by `StaticStrings`.
    pub(crate) staticstring_bytes: Arc<AtomicU64>,
    /// Bytes `/api/cache/unbounded` holds, written by `Caches`.
    pub(crate) unbounded_bytes: Arc<AtomicU64>,
}

impl LeakCap {
    /// A cap of `cap_bytes` (`--leak-cap`), nothing held yet.
    pub(crate) fn new(cap_bytes: u64) -> LeakCap {
        LeakCap {
            cap_bytes,
            staticstring_bytes: Arc::default(),
            unbounded_bytes: Arc::default(),
        }
    }

    /// Bytes held now by the endpoints under the cap.
    pub(crate) fn held_bytes(&self) -> u64 {
        self.staticstring_bytes.load(Relaxed) + self.unbounded_bytes.load(Relaxed)
    }

    /// Fails with 507 when keeping `adding_bytes` more would take what the leaking
    /// endpoints hold past the cap. `endpoint` names the endpoint asking, for the message.
    pub(crate) fn check(&self, endpoint: &str, adding_bytes: u64) -> Result<(), AppError> {
        let held = self.held_bytes();
        let cap = self.cap_bytes;
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
}
