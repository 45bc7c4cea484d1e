//! What load produced in one interval: counts by status class and exact code, errors by kind, late sends,
//! body bytes and a latency histogram. Memory is bounded by construction — a fixed-size
//! HdrHistogram and a map keyed by the closed set of [`ErrorKind`] labels — so a run of
//! any length never keeps a record per request.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::status_codes::StatusCodes;
use crate::error_labels::ErrorKind;

/// Largest latency the histogram tells apart, in microseconds (60 s); longer ones are
/// recorded as 60 s. Per-request timeouts are far below that in practice.
pub const LATENCY_MAX_US: u64 = 60_000_000;

/// Significant decimal digits of the latency histogram: 3 keeps every percentile within
/// 0.1 % of the true value, in about 140 KiB per histogram.
pub const LATENCY_SIGFIG: u8 = 3;

/// An empty latency histogram in microseconds, 1 µs to [`LATENCY_MAX_US`].
pub fn new_latency_histogram() -> Histogram<u64> {
    // Constant bounds that satisfy the crate's rules (low >= 1, high >= 2 * low,
    // sigfig <= 5), so creation cannot fail.
    Histogram::new_with_bounds(1, LATENCY_MAX_US, LATENCY_SIGFIG).expect("valid bounds")
}

/// Load statistics of one interval (or of the whole run).
#[derive(Debug, Clone)]
pub struct IntervalStats {
    /// Responses received (any status).
    pub requests: u64,
    pub status_2xx: u64,
    pub status_3xx: u64,
    pub status_4xx: u64,
    pub status_5xx: u64,
    /// Responses by exact status code.
    pub status_codes: StatusCodes,
    /// Requests that got no response, by kind (`connection refused`, `timeout`, …; the
    /// labels of [`ErrorKind`]).
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Open loop: sends whose connection was still busy at the intended send time.
    pub late_sends: u64,
    /// Response body bytes received (headers not included).
    pub body_bytes: u64,
    /// Latency of responses in microseconds (open loop: from the intended send time when
    /// the send was late).
    pub latency_us: Histogram<u64>,
}

impl Default for IntervalStats {
    fn default() -> Self {
        IntervalStats {
            requests: 0,
            status_2xx: 0,
            status_3xx: 0,
            status_4xx: 0,
            status_5xx: 0,
            status_codes: StatusCodes::default(),
            errors_by_kind: BTreeMap::new(),
            late_sends: 0,
            body_bytes: 0,
            latency_us: new_latency_histogram(),
        }
    }
}

impl IntervalStats {
    /// Failed requests of every kind.
    pub fn errors(&self) -> u64 {
        self.errors_by_kind.values().sum()
    }

    /// Responses plus failed requests: every request that ended.
    #[cfg(test)]
    pub fn completed(&self) -> u64 {
        self.requests + self.errors()
    }

    /// Adds another interval (or another thread's share of the same interval) to this one.
    pub fn merge(&mut self, other: &IntervalStats) {
        self.requests += other.requests;
        self.status_2xx += other.status_2xx;
        self.status_3xx += other.status_3xx;
        self.status_4xx += other.status_4xx;
        self.status_5xx += other.status_5xx;
        self.status_codes.merge(&other.status_codes);
        for (kind, count) in &other.errors_by_kind {
            match self.errors_by_kind.get_mut(kind) {
                Some(total) => *total += count,
                None => {
                    self.errors_by_kind.insert(kind.clone(), *count);
                }
            }
        }
        self.late_sends += other.late_sends;
        self.body_bytes += other.body_bytes;
        if self.latency_us.add(&other.latency_us).is_err() {
            // Only a histogram built with other bounds can hold values this one cannot;
            // clamp them rather than lose them.
            for value in other.latency_us.iter_recorded() {
                self.latency_us
                    .saturating_record_n(value.value_iterated_to(), value.count_at_value());
            }
        }
    }

    /// Counts one response by its status code, body size and latency.
    pub(crate) fn record_response(&mut self, status: u16, body_bytes: u64, latency: Duration) {
        self.requests += 1;
        match status {
            200..=299 => self.status_2xx += 1,
            300..=399 => self.status_3xx += 1,
            400..=499 => self.status_4xx += 1,
            500..=599 => self.status_5xx += 1,
            // Informational and non-standard codes count as responses only.
            _ => {}
        }
        self.status_codes.record(status);
        self.body_bytes += body_bytes;
        // At least 1 µs: the histogram's lowest value, and a response never takes zero.
        let latency_us = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        self.latency_us.saturating_record(latency_us);
    }

    /// Counts one request that got no response.
    pub(crate) fn record_error(&mut self, kind: ErrorKind) {
        // get_mut first: the common case (the kind was seen before) allocates nothing.
        match self.errors_by_kind.get_mut(kind.label()) {
            Some(count) => *count += 1,
            None => {
                self.errors_by_kind.insert(kind.label().to_string(), 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(responses: &[(u16, u64)], errors: &[ErrorKind]) -> IntervalStats {
        let mut stats = IntervalStats::default();
        for &(status, latency_us) in responses {
            stats.record_response(status, 10, Duration::from_micros(latency_us));
        }
        for &kind in errors {
            stats.record_error(kind);
        }
        stats
    }

    #[test]
    fn responses_are_counted_by_status_class() {
        let stats = stats(
            &[(200, 5), (204, 5), (301, 5), (404, 5), (500, 5), (503, 5)],
            &[],
        );
        assert_eq!(stats.requests, 6);
        assert_eq!(
            (
                stats.status_2xx,
                stats.status_3xx,
                stats.status_4xx,
                stats.status_5xx
            ),
            (2, 1, 1, 2)
        );
        assert_eq!(stats.body_bytes, 60);
        assert_eq!(stats.errors(), 0);
    }

    #[test]
    fn merge_adds_counts_errors_and_histograms() {
        let mut first = stats(
            &[(200, 100), (200, 300)],
            &[ErrorKind::Timeout, ErrorKind::ConnectionRefused],
        );
        first.late_sends = 3;
        let mut second = stats(
            &[(500, 200), (200, 50_000)],
            &[ErrorKind::Timeout, ErrorKind::ConnectionReset],
        );
        second.late_sends = 4;

        first.merge(&second);

        assert_eq!(first.requests, 4);
        assert_eq!(first.status_2xx, 3);
        assert_eq!(first.status_5xx, 1);
        assert_eq!(first.late_sends, 7);
        assert_eq!(first.body_bytes, 40);
        assert_eq!(first.errors(), 4);
        assert_eq!(first.completed(), 8);
        assert_eq!(first.errors_by_kind["timeout"], 2);
        assert_eq!(first.errors_by_kind["connection refused"], 1);
        assert_eq!(first.errors_by_kind["connection reset"], 1);
        assert_eq!(first.latency_us.len(), 4);
        assert_eq!(first.latency_us.min(), 100);
        assert!(first.latency_us.equivalent(first.latency_us.max(), 50_000));
        // The source is untouched.
        assert_eq!(second.requests, 2);
    }

    #[test]
    fn merge_into_a_histogram_with_other_bounds_clamps_instead_of_losing() {
        let mut narrow = IntervalStats {
            latency_us: Histogram::new_with_bounds(1, 1_000, 3).unwrap(),
            ..IntervalStats::default()
        };
        let wide = stats(&[(200, 10), (200, 5_000_000)], &[]);
        narrow.merge(&wide);
        assert_eq!(narrow.latency_us.len(), 2);
        assert!(narrow.latency_us.equivalent(narrow.latency_us.max(), 1_000));
    }

    #[test]
    fn latencies_beyond_the_histogram_are_clamped_and_zero_is_one() {
        let stats = stats(&[(200, 0), (200, LATENCY_MAX_US * 10)], &[]);
        assert_eq!(stats.latency_us.len(), 2);
        assert_eq!(stats.latency_us.min(), 1);
        assert!(
            stats
                .latency_us
                .equivalent(stats.latency_us.max(), LATENCY_MAX_US)
        );
    }
}
