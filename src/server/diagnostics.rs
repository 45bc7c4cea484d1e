//! The server's own measurements as one JSON document (`GET /api/diagnostics`), the
//! contract between the server, the runner's sampler and the dashboard.
//!
//! Field names are stable and carry their units (`_bytes`, `_seconds`, `_s`); counters are
//! cumulative since the process started (callers take deltas), gauges are "now".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::memory::{AllocatorKind, AllocatorStats, HeapCounters, ProcessSnapshot};

/// A snapshot of the server: heap, process, allocator, requests, errors and leaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    pub pid: u32,
    /// Seconds since the server started.
    pub uptime_s: f64,
    /// The allocator under the counting wrapper.
    pub allocator: AllocatorKind,
    /// False when the server runs with `--no-counting` (heap counters then read zero).
    pub counting_enabled: bool,
    /// Allocations at or above this many bytes are counted as large objects.
    pub large_object_threshold_bytes: u64,
    /// The counting allocator's cumulative counters and live heap bytes.
    pub heap: HeapCounters,
    /// `/proc/self`: RSS, anonymous RSS, CPU seconds, faults, threads, fds, TCP states.
    pub process: ProcessSnapshot,
    /// The allocator's own statistics (fields it does not have are null).
    pub allocator_stats: AllocatorStats,
    /// Requests answered since start, by endpoint (the route template, e.g.
    /// `/api/loh/{size}`); requests to no route are counted under `unmatched`.
    pub requests: BTreeMap<String, u64>,
    /// Sum of `requests`.
    pub requests_total: u64,
    /// Failures by kind since start (e.g. `leak cap reached`, `address not available`,
    /// `too many open files`), counted where they happen.
    pub errors: BTreeMap<String, u64>,
    /// What each leaking (or caching) endpoint holds now.
    pub leaks: Leaks,
    /// Allocations made by the server's own snapshots (`/api/diagnostics`, `/metrics`:
    /// reading `/proc`, the allocator's statistics) before this one, cumulative. They are
    /// part of `heap`; subtract them to see what the endpoints under load allocated.
    #[serde(default)]
    pub measurement_alloc_count: u64,
    /// Bytes of those allocations, cumulative.
    #[serde(default)]
    pub measurement_alloc_bytes: u64,
}

/// What the pattern endpoints hold right now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Leaks {
    /// `/api/staticstring`: the strings kept in the process-wide list.
    pub staticstring: Held,
    /// `/api/cache/unbounded`: entries without expiry.
    pub cache_unbounded: Held,
    /// `/api/cache/expiring`: entries not yet expired (bounded by the TTL, not a leak).
    pub cache_expiring: Held,
    /// `/api/clientleak`: client connections never closed (bytes: their buffers, estimated
    /// from the counted allocations at creation).
    pub clientleak: Held,
    /// `/api/fileprovider`: directory watchers never released (bytes: heap they hold).
    pub fileprovider: Held,
    /// Buffers resting in the `/api/pooledarray` pool (not a leak: the pool's capacity).
    pub pooled_buffers: Held,
}

impl Leaks {
    /// Bytes held by the endpoints that leak (static list, unbounded cache, client
    /// connections, watchers): what `/api/reset` would free. The expiring cache and the
    /// buffer pool are bounded by design and not counted.
    pub fn total_bytes(&self) -> u64 {
        self.staticstring.bytes
            + self.cache_unbounded.bytes
            + self.clientleak.bytes
            + self.fileprovider.bytes
    }
}

/// Items held and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub items: u64,
    pub bytes: u64,
}
