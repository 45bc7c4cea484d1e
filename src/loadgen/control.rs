//! The run-wide stop conditions every connection checks: the deadline (`StopAt::Duration`),
//! the request tickets (`StopAt::Requests`) and the stop signal of [`super::LoadHandle::stop`].
//!
//! Tickets are one atomic counter shared by all threads; it is touched once per request
//! only in request-count mode, where exactness across connections is the point. The
//! deadline is a plain `Instant` compared against the clock, so duration mode shares no
//! mutable state at all.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::config::StopAt;

/// Stop conditions shared by all workers.
#[derive(Debug)]
pub struct Control {
    /// When load started; the open-loop grids start here.
    pub start: Instant,
    /// `StopAt::Duration`: no request is sent at or after this moment, and requests still
    /// in flight then are abandoned.
    pub deadline: Option<Instant>,
    /// `StopAt::Requests`: how many requests may be sent in total.
    request_limit: Option<u64>,
    /// Tickets handed out so far (may pass the limit by one per connection: each
    /// connection learns the tickets are gone by asking once more).
    tickets_taken: AtomicU64,
    /// `true` once `stop` was called; worker threads wait on it to drop everything.
    stop_signal: watch::Sender<bool>,
}

impl Control {
    pub fn new(start: Instant, stop: StopAt) -> Control {
        let (deadline, request_limit) = match stop {
            // A duration too long for the clock means no deadline at all.
            StopAt::Duration(duration) => (start.checked_add(duration), None),
            StopAt::Requests(requests) => (None, Some(requests)),
        };
        Control {
            start,
            deadline,
            request_limit,
            tickets_taken: AtomicU64::new(0),
            stop_signal: watch::Sender::new(false),
        }
    }

    /// May one more request be sent? In request-count mode this takes a ticket, and the
    /// caller must then count exactly one outcome (response or error) for it.
    pub fn take_ticket(&self) -> bool {
        match self.request_limit {
            None => true,
            // Relaxed: the counter orders nothing but itself; fetch_add hands out each
            // number exactly once whatever the interleaving.
            Some(limit) => self.tickets_taken.fetch_add(1, Ordering::Relaxed) < limit,
        }
    }

    /// True when `at` is at or past the deadline (never in request-count mode).
    pub fn is_past_deadline(&self, at: Instant) -> bool {
        self.deadline.is_some_and(|deadline| at >= deadline)
    }

    /// The earlier of `at` and the deadline, and whether the deadline was the earlier.
    pub fn cap_at_deadline(&self, at: Instant) -> (Instant, bool) {
        match self.deadline {
            Some(deadline) if deadline <= at => (deadline, true),
            _ => (at, false),
        }
    }

    /// `now + wait`, cut at the deadline.
    pub fn wait_until(&self, now: Instant, wait: Duration) -> Instant {
        self.cap_at_deadline(now + wait).0
    }

    /// Asks every worker to stop now.
    pub fn stop(&self) {
        self.stop_signal.send_replace(true);
    }

    /// A receiver that sees `true` once `stop` was called.
    pub fn stop_requested(&self) -> watch::Receiver<bool> {
        self.stop_signal.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_run_out_at_the_limit() {
        let control = Control::new(Instant::now(), StopAt::Requests(3));
        let granted = (0..10).filter(|_| control.take_ticket()).count();
        assert_eq!(granted, 3);
        assert!(!control.is_past_deadline(Instant::now() + Duration::from_secs(3600)));
    }

    #[test]
    fn tickets_are_exact_across_threads() {
        let control = std::sync::Arc::new(Control::new(Instant::now(), StopAt::Requests(1000)));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let control = control.clone();
                std::thread::spawn(move || (0..600).filter(|_| control.take_ticket()).count())
            })
            .collect();
        let granted: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(granted, 1000);
    }

    #[test]
    fn the_deadline_caps_waits() {
        let start = Instant::now();
        let control = Control::new(start, StopAt::Duration(Duration::from_secs(2)));
        assert!(control.take_ticket());
        assert!(!control.is_past_deadline(start + Duration::from_secs(1)));
        assert!(control.is_past_deadline(start + Duration::from_secs(2)));
        assert_eq!(
            control.cap_at_deadline(start + Duration::from_secs(5)),
            (start + Duration::from_secs(2), true)
        );
        assert_eq!(
            control.wait_until(start, Duration::from_secs(1)),
            start + Duration::from_secs(1)
        );
    }
}
