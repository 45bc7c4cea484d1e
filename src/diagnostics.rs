//! The server's own measurements as one JSON document (`GET /api/diagnostics`): the
//! contract between a pattern server (any runtime that speaks it), the runner's sampler and
//! the dashboard. A leaf: it embeds `memory` and `gcmodel` types and imports nothing else.
//!
//! Field names are stable and carry their units (`_bytes`, `_seconds`, `_s`); counters are
//! cumulative since the process started (callers take deltas), gauges are "now".
//! `modelled_gc` is the one block that is not a measurement: the modelled .NET GC lens,
//! null when it is off; everything else is read from the process.
//!
//! Contract version 2 (docs/diagnostics-contract.md): `runtime` and `measured_gc` let a
//! garbage-collected runtime (the reference servers under `runtimes/`) report its own
//! collector, measured; the counting-allocator fields are then absent (`None`), never zero.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::gcmodel::{CollectionCounts, GenSizes};
use crate::memory::{AllocatorKind, AllocatorStats, HeapCounters, ProcessSnapshot};

/// A snapshot of the server: heap, process, allocator, requests, errors and leaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// The contract's version: 2 for documents that say so; absent means 1.
    #[serde(default = "version_one")]
    pub contract_version: u32,
    pub pid: u32,
    /// Seconds since the server started.
    pub uptime_s: f64,
    /// The allocator under the counting wrapper; `None` for a server without one (another
    /// runtime).
    #[serde(default)]
    pub allocator: Option<AllocatorKind>,
    /// False when the server runs with `--no-counting` (heap counters then read zero).
    #[serde(default)]
    pub counting_enabled: bool,
    /// Allocations at or above this many bytes are counted as large objects (the counting
    /// allocator's threshold; `None` without one).
    #[serde(default)]
    pub large_object_threshold_bytes: Option<u64>,
    /// The counting allocator's cumulative counters and live heap bytes; `None` without one.
    #[serde(default)]
    pub heap: Option<HeapCounters>,
    /// `/proc/self`: RSS, anonymous RSS, CPU seconds, faults, threads, fds, TCP states;
    /// `None` when the server does not read it (membench reads `/proc` itself anyway).
    #[serde(default)]
    pub process: Option<ProcessSnapshot>,
    /// The allocator's own statistics (fields it does not have are null).
    #[serde(default)]
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
    #[serde(default)]
    pub leaks: Leaks,
    /// Allocations made by the server's own snapshots (`/api/diagnostics`, `/metrics`:
    /// reading `/proc`, the allocator's statistics) and by the modelled GC lens's ticks
    /// before this one, cumulative. They are part of `heap`; subtract them to see what the
    /// endpoints under load allocated.
    #[serde(default)]
    pub measurement_alloc_count: u64,
    /// Bytes of those allocations, cumulative.
    #[serde(default)]
    pub measurement_alloc_bytes: u64,
    /// Readings of the server's own process with the full probe (on Linux: every file
    /// descriptor and the namespace's TCP tables, milliseconds of CPU each), cumulative:
    /// `/api/diagnostics` without `?process=` and `/metrics` make one each; a run's sampler
    /// asks `?process=none` and the history sampler reads the cheap part, so during a run
    /// this stays still. `None` for a server that does not count them.
    #[serde(default)]
    pub self_probe_full_reads: Option<u64>,
    /// The MODELLED .NET GC fed with this server's pattern requests (`--gc-model`); null
    /// when the lens is off (`--gc-model none`; `membench run` starts its child server so,
    /// because the run models the GC itself). A model, never a measurement: nothing in it
    /// comes from this process's memory.
    #[serde(default)]
    pub modelled_gc: Option<ModelledGc>,
    /// Version 2: which runtime and collector serve (absent for the Rust server).
    #[serde(default)]
    pub runtime: Option<RuntimeInfo>,
    /// Version 2: the runtime's own collections, measured by the runtime (never a model).
    #[serde(default)]
    pub measured_gc: Option<MeasuredGc>,
}

fn version_one() -> u32 {
    1
}

/// The runtime serving the patterns, as it describes itself (contract version 2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuntimeInfo {
    /// `rust`, `mono`, `jvm`, `node`, `go`, …
    pub name: String,
    /// As the runtime reports it, e.g. `Debian 17.0.15+6-Debian-1deb12u1`.
    pub version: String,
    /// The collector in words, for chart titles, e.g. `G1 (G1 Young Generation + …)`.
    pub collector: String,
    /// The settings that change the collector (`-Xmx512m`, `GOGC=50`, …).
    #[serde(default)]
    pub flags: Vec<String>,
    /// The runtime's own large-object boundary in bytes, where it has one.
    #[serde(default)]
    pub large_object_threshold_bytes: Option<u64>,
    /// That rule in one sentence.
    #[serde(default)]
    pub large_object_rule: Option<String>,
}

/// Collections as the runtime counts them (contract version 2). Counters are cumulative.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MeasuredGc {
    /// Which runtime APIs the numbers come from.
    #[serde(default)]
    pub source: String,
    /// Cumulative collections by the runtime's own kind names (`gen0`/`gen1`,
    /// `young`/`old`, `minor`/`major`/…, `cycles`/…).
    pub collections: BTreeMap<String, u64>,
    /// Distinct collections so far.
    pub collections_total: u64,
    /// The managed heap now, garbage not yet collected included where the runtime counts it.
    #[serde(default)]
    pub heap_in_use_bytes: Option<u64>,
    /// Cumulative stop-the-world seconds; `None` where the runtime cannot say (Mono).
    #[serde(default)]
    pub pause_seconds_total: Option<f64>,
    /// OS threads of the process.
    #[serde(default)]
    pub threads: Option<u64>,
    /// Go: goroutines now.
    #[serde(default)]
    pub goroutines: Option<u64>,
    /// Node: memory outside the V8 heap (Buffers).
    #[serde(default)]
    pub external_bytes: Option<u64>,
}

impl MeasuredGc {
    /// The contract's kind order for a runtime (youngest first), then any other keys.
    pub fn kinds_in_order(kinds: impl IntoIterator<Item = String>) -> Vec<String> {
        const ORDER: &[&str] = &[
            "gen0",
            "gen1",
            "gen2",
            "young",
            "old",
            "minor",
            "major",
            "incremental",
            "weakcb",
            "cycles",
            "automatic",
            "forced",
        ];
        let rank = |kind: &str| -> usize {
            let at = |name: &str| ORDER.iter().position(|k| *k == name);
            at(kind)
                .or_else(|| at(jvm_generation(kind)?))
                .unwrap_or(ORDER.len())
        };
        let mut kinds: Vec<String> = kinds.into_iter().collect();
        kinds.sort_by_key(|kind| (rank(kind), kind.clone()));
        kinds.dedup();
        kinds
    }
}

/// `young` or `old` for a JVM collector's own name (the `gc` label of
/// `jvm_gc_collection_seconds_count`, the MXBean names): G1 `G1 Young Generation` / `G1 Old
/// Generation` / `G1 Concurrent GC`, Parallel `PS Scavenge` / `PS MarkSweep`, Serial `Copy`
/// / `MarkSweepCompact`, CMS `ParNew` / `ConcurrentMarkSweep`, generational ZGC `ZGC Minor
/// …` / `ZGC Major …`; `None` for a name that says neither (`ZGC Cycles`, Shenandoah).
fn jvm_generation(kind: &str) -> Option<&'static str> {
    let lower = kind.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|word| lower.contains(word));
    if lower == "copy" || has(&["young", "scavenge", "parnew", "zgc minor"]) {
        Some("young")
    } else if has(&["old", "marksweep", "zgc major", "g1 concurrent", "mixed"]) {
        Some("old")
    } else {
        None
    }
}

/// The modelled .NET GC lens of the server (see `membench explain gc-model`): every 250 ms
/// the pattern requests answered meanwhile, summed by heap and lifetime class, are fed to
/// the model. Counts and sizes are the model's, since the server started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelledGc {
    /// How every chart labels it, e.g. `modelled .NET GC (server)`.
    pub label: String,
    /// `server` or `workstation`.
    pub preset: String,
    /// The model's one-line description (machine, budgets, framework overhead).
    pub describe: String,
    /// Modelled collections, counted like `GC.CollectionCount(n)`: a gen2 collection also
    /// counts as gen1 and gen0.
    pub collections: CollectionCounts,
    /// The modelled managed heap now, garbage not yet collected included (the article's
    /// `GC.GetTotalMemory(false)`).
    pub managed_heap_bytes: u64,
    /// The same per generation.
    pub managed_heap: GenSizes,
    /// Pattern requests fed to the model so far.
    pub requests_fed: u64,
    /// Seconds of load the model has played (its clock; about `uptime_s`).
    pub model_time_s: f64,
    /// Seconds between two ticks (one fed interval each).
    pub tick_interval_s: f64,
    /// The last ticks, oldest first: enough for a reader polling every second or two to
    /// miss none (it keeps its own history, keyed by `tick`).
    pub recent_ticks: Vec<ModelledTick>,
}

/// One fed interval of the modelled lens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelledTick {
    /// 1-based sequence number of the tick since the server started.
    pub tick: u64,
    /// Server uptime at the end of the interval, in seconds (the `uptime_s` clock).
    pub uptime_s: f64,
    /// Pattern requests in the interval.
    pub requests: u64,
    /// Modelled collections in the interval, counted like `GC.CollectionCount(n)`
    /// differences (a gen2 collection also counts in `gen1` and `gen0`).
    pub gen0: u64,
    pub gen1: u64,
    pub gen2: u64,
    /// Modelled managed heap at the end of the interval.
    pub managed_heap_bytes: u64,
    /// Its highest point in the interval (the heap just before the interval's biggest
    /// collection, or the end value).
    pub managed_heap_peak_bytes: u64,
}

/// What the pattern endpoints hold right now; a family a server does not report reads as
/// nothing held.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
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
    /// `/api/operation/leak`: receive operations never cancelled (items: their parked
    /// tasks, each with a socket pair, two fds; bytes: their buffers). Absent from servers
    /// older than the endpoint.
    #[serde(default)]
    pub operations: Held,
    /// Buffers resting in the `/api/pooledarray` pool (not a leak: the pool's capacity).
    pub pooled_buffers: Held,
}

impl Leaks {
    /// Bytes held by the endpoints that leak (static list, unbounded cache, client
    /// connections, watchers, receive operations): what `/api/reset` would free. The expiring cache and the
    /// buffer pool are bounded by design and not counted.
    pub fn total_bytes(&self) -> u64 {
        self.staticstring.bytes
            + self.cache_unbounded.bytes
            + self.clientleak.bytes
            + self.fileprovider.bytes
            + self.operations.bytes
    }
}

/// Items held and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub items: u64,
    pub bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_two_document_from_another_runtime_parses_with_no_allocator_fields() {
        let json = r#"{"contract_version": 2, "pid": 7, "uptime_s": 1.5,
            "requests": {"/api/bigstring": 3}, "requests_total": 3, "errors": {},
            "leaks": {"staticstring": {"items": 1, "bytes": 20480}},
            "runtime": {"name": "mono", "version": "6.8", "collector": "SGen", "flags": []},
            "measured_gc": {"collections": {"gen0": 4, "gen1": 1}, "collections_total": 4,
                "heap_in_use_bytes": 1000, "pause_seconds_total": null, "threads": 9}}"#;
        let d: Diagnostics = serde_json::from_str(json).unwrap();
        assert_eq!(d.contract_version, 2);
        assert_eq!(
            (d.allocator, d.heap, d.process.is_none()),
            (None, None, true)
        );
        assert_eq!(d.leaks.staticstring.bytes, 20480);
        let gc = d.measured_gc.unwrap();
        assert_eq!(gc.collections["gen1"], 1);
        assert_eq!(gc.heap_in_use_bytes, Some(1000));
        assert_eq!(d.runtime.unwrap().name, "mono");
    }

    #[test]
    fn kinds_follow_the_contract_order() {
        let kinds = ["old", "young", "zzz", "gen1", "gen0"].map(String::from);
        assert_eq!(
            MeasuredGc::kinds_in_order(kinds),
            ["gen0", "gen1", "young", "old", "zzz"]
        );
    }

    #[test]
    fn jvm_collectors_are_ordered_young_before_old() {
        for (given, expected) in [
            (
                ["G1 Old Generation", "G1 Young Generation"],
                ["G1 Young Generation", "G1 Old Generation"],
            ),
            (
                ["PS MarkSweep", "PS Scavenge"],
                ["PS Scavenge", "PS MarkSweep"],
            ),
            (["MarkSweepCompact", "Copy"], ["Copy", "MarkSweepCompact"]),
            (
                ["ConcurrentMarkSweep", "ParNew"],
                ["ParNew", "ConcurrentMarkSweep"],
            ),
            (
                ["ZGC Major Cycles", "ZGC Minor Cycles"],
                ["ZGC Minor Cycles", "ZGC Major Cycles"],
            ),
        ] {
            assert_eq!(
                MeasuredGc::kinds_in_order(given.map(String::from)),
                expected,
                "{given:?}"
            );
        }
        // G1's concurrent cycle is old-generation work; a name saying neither comes after.
        let kinds = ["ZGC Cycles", "G1 Concurrent GC", "G1 Young Generation"].map(String::from);
        assert_eq!(
            MeasuredGc::kinds_in_order(kinds),
            ["G1 Young Generation", "G1 Concurrent GC", "ZGC Cycles"]
        );
    }
}
