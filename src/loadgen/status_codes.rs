//! Responses counted by exact status code (`200: 12,345`, `404: 3`, as oha prints them),
//! beside the classes. An array indexed by the code, not a map: recording a response is
//! one increment with no hashing or allocation on the hot path, and the memory is fixed
//! (8 KB per interval and thread, next to a 140 KiB latency histogram).

use std::collections::BTreeMap;
use std::fmt;

/// Codes an HTTP/1.1 status line can carry: three digits, 000–999 (httparse accepts any).
const CODES: usize = 1000;

/// Responses per exact status code.
#[derive(Clone)]
pub struct StatusCodes(Box<[u64; CODES]>);

impl Default for StatusCodes {
    fn default() -> Self {
        StatusCodes(Box::new([0; CODES]))
    }
}

impl fmt::Debug for StatusCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.counted()).finish()
    }
}

impl StatusCodes {
    /// Counts one response; a code past 999 (which no parser hands over) counts as 999.
    pub fn record(&mut self, status: u16) {
        self.0[usize::from(status).min(CODES - 1)] += 1;
    }

    /// Adds another interval's (or thread's) counts.
    pub fn merge(&mut self, other: &StatusCodes) {
        for (total, count) in self.0.iter_mut().zip(other.0.iter()) {
            *total += count;
        }
    }

    /// `(code, responses)` of every code seen, ascending.
    pub fn counted(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        (0..CODES as u16)
            .zip(self.0.iter().copied())
            .filter(|&(_, count)| count > 0)
    }

    /// As JSON holds it: `{"200": 12345, "404": 3}`.
    pub fn to_map(&self) -> BTreeMap<String, u64> {
        self.counted()
            .map(|(code, count)| (code.to_string(), count))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_counted_exactly_and_merged() {
        let mut a = StatusCodes::default();
        for status in [200, 200, 404, 507] {
            a.record(status);
        }
        let mut b = StatusCodes::default();
        b.record(200);
        b.record(101);
        a.merge(&b);
        assert_eq!(
            a.counted().collect::<Vec<_>>(),
            vec![(101, 1), (200, 3), (404, 1), (507, 1)]
        );
        assert_eq!(a.to_map()["200"], 3);
        assert_eq!(format!("{a:?}"), "{101: 1, 200: 3, 404: 1, 507: 1}");
    }
}
