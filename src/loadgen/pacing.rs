//! Open-loop pacing: each connection sends on its own fixed grid of intended send times,
//! so the offered load does not fall when the server slows down (the coordinated-omission
//! trap of closed-loop generators).
//!
//! With `rate` requests per second over `connections` connections, connection `i` intends
//! to send at `start + (i / connections + k) * connections / rate` for k = 0, 1, 2, … —
//! each connection at `rate / connections`, the connections staggered evenly across one
//! period so the aggregate is smooth rather than `connections` requests at once.
//!
//! A connection still busy with its previous request at an intended time sends as soon as
//! it is free and counts a late send; the grid does not move, so a stalled server is
//! followed by a burst that catches up, and every delayed request carries its delay in
//! its latency.
//!
//! tokio's timer fires on millisecond ticks, up to one tick after the time asked for. A
//! connection therefore wakes one tick before its intended time and sends then: a send may
//! leave up to 1 ms early, but never late because of the generator's own timer — so "late"
//! and the latency counted from the intended time only ever reflect a busy connection,
//! that is, the server.

use std::time::{Duration, Instant};

/// The intended send times of one connection.
#[derive(Debug, Clone)]
pub struct Pacer {
    /// Intended time of slot 0.
    first: Instant,
    /// Time between two sends of this connection, in seconds.
    period_s: f64,
    /// The next slot to hand out.
    next_slot: u64,
}

/// One intended send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// When the request should be sent.
    pub intended: Instant,
}

/// The granularity of tokio's timer.
pub const TIMER_TICK: Duration = Duration::from_millis(1);

impl Slot {
    /// When to wake for this slot: one timer tick early (see the module docs).
    pub fn wake_at(&self) -> Instant {
        self.intended
            .checked_sub(TIMER_TICK)
            .unwrap_or(self.intended)
    }
}

impl Pacer {
    /// The grid of connection `index` of `connections` at `rate_per_s` in total.
    /// `rate_per_s` must be finite and positive and `index < connections`.
    pub fn new(start: Instant, rate_per_s: f64, connections: usize, index: usize) -> Pacer {
        let period_s = connections as f64 / rate_per_s;
        let offset_s = period_s * index as f64 / connections as f64;
        Pacer {
            first: start + Duration::from_secs_f64(offset_s),
            period_s,
            next_slot: 0,
        }
    }

    /// Hands out the next intended send time. Computed from the slot number rather than
    /// by adding periods, so rounding never accumulates into drift.
    pub fn next_slot(&mut self) -> Slot {
        let offset = Duration::from_secs_f64(self.period_s * self.next_slot as f64);
        self.next_slot += 1;
        Slot {
            intended: self.first + offset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slots of all connections that fall before `window` after `start`.
    fn slots_within(rate: f64, connections: usize, window: Duration) -> Vec<Instant> {
        let start = Instant::now();
        let mut all = Vec::new();
        for index in 0..connections {
            let mut pacer = Pacer::new(start, rate, connections, index);
            loop {
                let slot = pacer.next_slot();
                if slot.intended >= start + window {
                    break;
                }
                all.push(slot.intended);
            }
        }
        all.sort();
        all
    }

    #[test]
    fn the_grid_offers_exactly_the_rate() {
        // Windows end just before a grid point, so float rounding cannot decide the count.
        // 200 RPS over 4 connections for 2 s: 400 intended sends, 100 per connection.
        let slots = slots_within(200.0, 4, Duration::from_millis(1_999));
        assert_eq!(slots.len(), 400);
        // 7 RPS over 3 connections for 3 s: 21.
        assert_eq!(slots_within(7.0, 3, Duration::from_millis(2_950)).len(), 21);
    }

    #[test]
    fn connections_are_staggered_evenly() {
        // 100 RPS over 4 connections: together one send every 10 ms.
        let slots = slots_within(100.0, 4, Duration::from_secs(1));
        let gaps: Vec<Duration> = slots.windows(2).map(|w| w[1] - w[0]).collect();
        for gap in gaps {
            let gap_us = gap.as_micros() as i64;
            assert!((gap_us - 10_000).abs() <= 1, "gap {gap:?}");
        }
    }
}
