//! The data every stage shares: one [`Sample`] row per sampling interval, and the
//! [`Series`] of a run with what is needed to title and label it.
//!
//! The runner fills samples (load-generator interval stats merged with `/proc` and the
//! server's diagnostics); the report turns them into `samples.csv`, `summary.json` and the
//! chart. Every field has its unit in its name. Fields that only a membench server can
//! report (live heap, allocator statistics) are `Option`: a `--target` in another language
//! leaves them empty rather than zero.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Which part of the run a sample belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Load is running but the samples are excluded from slopes and averages.
    Warmup,
    /// The measured part of the run.
    Load,
    /// The last sample, taken after load stopped.
    Final,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Warmup => "warmup",
            Phase::Load => "load",
            Phase::Final => "final",
        }
    }
}

/// One sampling interval. Counts are for the interval unless the name ends in `_total`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Seconds since load started (the end of the interval).
    pub elapsed_s: f64,
    pub phase: Option<Phase>,
    /// Length of the interval in seconds (rates are per this).
    pub interval_s: f64,

    // --- load, from the generator ---
    /// Requests completed in the interval (any status, not errors).
    pub requests: u64,
    pub rps: f64,
    pub status_2xx: u64,
    pub status_3xx: u64,
    pub status_4xx: u64,
    pub status_5xx: u64,
    /// Failed requests (no response) in the interval, all kinds.
    pub errors: u64,
    /// Failed requests by kind (`connection refused`, `timeout`, …).
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Open loop: sends that started later than scheduled.
    pub late_sends: u64,
    pub latency_p50_us: Option<u64>,
    pub latency_p90_us: Option<u64>,
    pub latency_p99_us: Option<u64>,
    pub latency_max_us: Option<u64>,

    // --- process, from /proc/<pid> ---
    /// CPU use of the server in the interval, 100 = one core busy.
    pub cpu_percent: f64,
    pub rss_bytes: u64,
    pub rss_anon_bytes: u64,
    pub threads: u64,
    pub open_fds: u64,
    pub minor_faults: u64,
    pub tcp_established: u64,
    pub tcp_time_wait: u64,
    pub tcp_close_wait: u64,

    // --- heap, from the server's /api/diagnostics (membench servers only) ---
    pub heap_live_bytes: Option<u64>,
    /// Allocations per second in the interval.
    pub allocs_per_s: Option<f64>,
    /// Bytes allocated per second in the interval.
    pub alloc_bytes_per_s: Option<f64>,
    /// Allocations at or above the large-object threshold per second.
    pub large_allocs_per_s: Option<f64>,
    /// The allocator's own resident bytes (jemalloc `resident`, mimalloc committed).
    pub allocator_resident_bytes: Option<u64>,
    /// Times the allocator returned memory to the OS during the interval (purges and
    /// explicit collects): the reclaim events drawn as triangles.
    pub reclaim_events: Option<u64>,
    /// What the leaking endpoints hold, in bytes.
    pub leaked_bytes: Option<u64>,

    // --- the modelled .NET GC: a model fed with this interval's requests, NOT measured ---
    // Empty (`None`) when the lens is off (`--gc-model none`).
    /// Modelled gen0 collections in the interval, counted like `GC.CollectionCount(0)`
    /// (a gen1 or gen2 collection counts here too).
    pub modelled_gen0: Option<u64>,
    /// Modelled gen1 collections in the interval (gen2 collections included).
    pub modelled_gen1: Option<u64>,
    /// Modelled gen2 collections in the interval.
    pub modelled_gen2: Option<u64>,
    /// Modelled managed heap at the end of the interval, garbage not yet collected included.
    pub modelled_managed_heap_bytes: Option<u64>,
    /// Highest modelled managed heap within the interval (just before its largest
    /// collection, or at its end): the top of the sawtooth.
    pub modelled_managed_heap_peak_bytes: Option<u64>,
}

impl Sample {
    /// Whether `/proc/<pid>` was read for this sample. A live process always has resident
    /// pages, so `rss_bytes == 0` means the reading failed — the process had ended — and
    /// the process fields (CPU, RSS, threads, fds, faults, TCP) are zeros, not measurements.
    pub fn process_sampled(&self) -> bool {
        self.rss_bytes > 0
    }
}

/// A run's samples and what describes the run on a chart.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Series {
    /// Scenario name, e.g. `loh`.
    pub scenario: String,
    /// Parameters as shown to people, e.g. `size=84976`.
    pub params: crate::params::Params,
    /// Allocator of the server (`jemalloc`, …), or `unknown` for a foreign target.
    pub allocator: String,
    /// The load as shown to people, e.g. `32 connections, closed loop`.
    pub load: String,
    pub samples: Vec<Sample>,
    /// The modelled .NET GC preset (`server`, `workstation`) when the lens was on: the
    /// chart labels its markers "modelled .NET GC (server)".
    #[serde(default)]
    pub modelled_gc: Option<String>,
}

impl Series {
    /// Samples after the warm-up (load and final).
    pub fn measured(&self) -> impl Iterator<Item = &Sample> {
        self.samples
            .iter()
            .filter(|sample| sample.phase != Some(Phase::Warmup))
    }

    /// Where the warm-up ends as seen in the samples: the elapsed seconds of the last
    /// warm-up sample after the first one (which is taken before load, at 0). `None` when
    /// no sample under load fell in the warm-up.
    pub fn warmup_end_s(&self) -> Option<f64> {
        self.samples
            .iter()
            .skip(1)
            .filter(|sample| sample.phase == Some(Phase::Warmup))
            .map(|sample| sample.elapsed_s)
            .reduce(f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_end_is_the_last_warmup_sample_after_the_first() {
        let sample = |elapsed_s: f64, phase: Phase| Sample {
            elapsed_s,
            phase: Some(phase),
            ..Sample::default()
        };
        let mut series = Series {
            samples: vec![
                sample(0.0, Phase::Warmup),
                sample(1.0, Phase::Warmup),
                sample(2.0, Phase::Warmup),
                sample(3.0, Phase::Load),
                sample(3.2, Phase::Final),
            ],
            ..Series::default()
        };
        assert_eq!(series.warmup_end_s(), Some(2.0));
        assert_eq!(series.measured().count(), 2);
        series.samples.truncate(1);
        assert_eq!(series.warmup_end_s(), None);
    }
}
