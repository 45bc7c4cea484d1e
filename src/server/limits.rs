//! The bounds that keep one server's resources its own when its clients misbehave:
//!
//! * [`UpstreamSlots`]: most upstream requests the client endpoints have in flight at once
//!   (`--max-upstream`); past it, 503 at once rather than one more socket and task.
//! * [`InflightBudget`]: most bytes the sized endpoints hold for requests in flight
//!   together (`--max-inflight`); `--max-size` bounds one request, this bounds their sum,
//!   so clients that never read their answers cannot pile up memory. A reservation is
//!   released when the response bytes that carry it ([`Reserved`]) are dropped: after
//!   hyper has written the last of them, or when the connection goes away.
//!
//! Both answer 503 (`server busy`): the request was fine, the server is full; retry later.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::AppError;
use crate::format::format_bytes;

/// The kind counted for a 503 of these bounds.
pub(crate) const BUSY: &str = "server busy";

/// The bound on concurrent upstream requests.
pub(crate) struct UpstreamSlots {
    slots: Arc<Semaphore>,
    max: usize,
}

impl UpstreamSlots {
    pub(crate) fn new(max: usize) -> UpstreamSlots {
        UpstreamSlots {
            slots: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    /// A slot for one upstream request, held until dropped; 503 when all are taken.
    pub(crate) fn acquire(&self) -> Result<OwnedSemaphorePermit, AppError> {
        Arc::clone(&self.slots)
            .try_acquire_owned()
            .map_err(|_| AppError::Unavailable {
                kind: BUSY.to_string(),
                message: format!(
                    "{} upstream requests are already in flight (--max-upstream {}); \
                     retry when some have finished, or raise --max-upstream",
                    self.max, self.max
                ),
            })
    }
}

/// The byte budget of the sized endpoints. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub(crate) struct InflightBudget {
    used: Arc<AtomicU64>,
    max: u64,
}

impl InflightBudget {
    pub(crate) fn new(max: u64) -> InflightBudget {
        InflightBudget {
            used: Arc::new(AtomicU64::new(0)),
            max,
        }
    }

    /// Bytes reserved now.
    #[cfg(test)]
    pub(crate) fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Reserves `bytes` until the returned [`Reservation`] is dropped; 503 when the
    /// budget cannot take them.
    pub(crate) fn reserve(&self, bytes: u64) -> Result<Reservation, AppError> {
        let taken = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|total| *total <= self.max)
            });
        match taken {
            Ok(_) => Ok(Reservation {
                used: Arc::clone(&self.used),
                bytes,
            }),
            Err(used) => Err(AppError::Unavailable {
                kind: BUSY.to_string(),
                message: format!(
                    "{} are held for responses still being sent, and {} more would pass the \
                     budget of {} (--max-inflight); retry when clients have read their \
                     answers, or raise --max-inflight",
                    format_bytes(used),
                    format_bytes(bytes),
                    format_bytes(self.max)
                ),
            }),
        }
    }
}

/// Bytes of an [`InflightBudget`], given back on drop.
pub(crate) struct Reservation {
    used: Arc<AtomicU64>,
    bytes: u64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// Bytes that hold a [`Reservation`] for as long as they live: the owner of a response
/// body's `Bytes` (`Bytes::from_owner`). Not the body: hyper drops the body after taking its
/// last frame but keeps the frame's `Bytes` in its write queue until the socket has taken
/// them, and that is where a slow reader's memory sits.
pub(crate) struct Reserved<T> {
    inner: T,
    _reservation: Reservation,
}

impl<T> Reserved<T> {
    pub(crate) fn new(inner: T, reservation: Reservation) -> Reserved<T> {
        Reserved {
            inner,
            _reservation: reservation,
        }
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Reserved<T> {
    fn as_ref(&self) -> &[u8] {
        self.inner.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_refuses_past_its_bound_and_takes_back_on_drop() {
        let budget = InflightBudget::new(100);
        let first = budget.reserve(60).unwrap();
        let err = budget.reserve(41).err().expect("past the budget");
        assert_eq!(err.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(err.kind(), BUSY);
        assert!(err.to_string().contains("--max-inflight"), "{err}");
        let second = budget.reserve(40).unwrap();
        assert_eq!(budget.used(), 100);
        drop(first);
        drop(second);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn upstream_slots_refuse_past_the_bound() {
        let slots = UpstreamSlots::new(2);
        let held = [slots.acquire().unwrap(), slots.acquire().unwrap()];
        let err = slots.acquire().expect_err("past the bound");
        assert!(err.to_string().contains("--max-upstream 2"), "{err}");
        drop(held);
        assert!(slots.acquire().is_ok());
    }
}
