//! STUB CONTRACT — the built-in HTTP/1.1 load generator. The loadgen owner replaces the
//! bodies and splits the module into files; the public items below are what the runner
//! and the commands use.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use hdrhistogram::Histogram;

/// When load stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StopAt {
    /// After this long (from the start of load).
    Duration(Duration),
    /// After exactly this many requests have completed or failed.
    Requests(u64),
}

/// What to drive and how hard.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Where to connect.
    pub addr: SocketAddr,
    /// The `Host` header, e.g. `127.0.0.1:5000`.
    pub host: String,
    /// Paths (with query) to request, taken round-robin per connection.
    pub paths: Vec<String>,
    /// Concurrent keep-alive connections in total.
    pub connections: usize,
    /// Worker threads (one current-thread runtime each).
    pub threads: usize,
    /// Open loop at this rate; closed loop when `None`.
    pub rate_per_s: Option<f64>,
    pub stop: StopAt,
    /// Per-request timeout.
    pub timeout: Duration,
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
    /// Requests that got no response, by kind (`connection refused`, `timeout`, …).
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Open loop: sends that started later than scheduled.
    pub late_sends: u64,
    /// Latency of responses in microseconds (open loop: from the intended send time).
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
            errors_by_kind: BTreeMap::new(),
            late_sends: 0,
            latency_us: Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds"),
        }
    }
}

impl IntervalStats {
    /// Failed requests of every kind.
    pub fn errors(&self) -> u64 {
        self.errors_by_kind.values().sum()
    }
}

/// A running load. Workers never print; the runner polls it.
pub struct LoadHandle;

/// What remained when load ended.
pub struct LoadResult {
    /// Everything since the last `take_interval`.
    pub last_interval: IntervalStats,
    /// The whole run.
    pub total: IntervalStats,
}

impl LoadHandle {
    /// True once every worker has ended (stop condition reached or `stop` called).
    pub fn is_finished(&self) -> bool {
        true
    }
    /// Stats since the previous call.
    pub fn take_interval(&self) -> IntervalStats {
        IntervalStats::default()
    }
    /// Asks the workers to stop now (in-flight requests are abandoned, not counted).
    pub fn stop(&self) {}
    /// Waits for the workers and returns what remained.
    pub fn finish(self) -> LoadResult {
        LoadResult {
            last_interval: IntervalStats::default(),
            total: IntervalStats::default(),
        }
    }
}

/// Starts the workers. Fails only if threads cannot be started.
pub fn start(_config: LoadConfig) -> anyhow::Result<LoadHandle> {
    anyhow::bail!("the load generator is not built yet")
}

/// Splits a target URL (`http://127.0.0.1:8080/path?q`) into the address to connect to,
/// the Host header and the path with query. Only `http://` is supported.
pub fn parse_target(url: &str) -> anyhow::Result<(SocketAddr, String, String)> {
    anyhow::bail!("cannot parse \"{url}\" yet")
}
