//! What one scrape publishes: membench's own families from a [`Diagnostics`] snapshot,
//! and the standard `process_*` families (with what `/proc/self` adds).

use super::exposition::{BYTES, Families, Kind, SECONDS};
use crate::diagnostics::Diagnostics;

/// The standard process numbers `/api/diagnostics` does not carry, read from `/proc/self`;
/// each absent where the OS does not say.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessExtras {
    pub virtual_memory_bytes: Option<u64>,
    /// The soft limit on open fds (absent when unlimited).
    pub max_fds: Option<u64>,
    /// When the process started, in seconds since the Unix epoch.
    pub start_time_seconds: Option<f64>,
}

impl ProcessExtras {
    /// Reads `/proc/self/stat` and `/proc/self/limits` (blocking, small); nothing where
    /// there is no `/proc`.
    #[cfg(not(target_os = "linux"))]
    pub fn read() -> ProcessExtras {
        ProcessExtras::default()
    }

    /// Reads `/proc/self/stat` and `/proc/self/limits` (blocking, small).
    #[cfg(target_os = "linux")]
    pub fn read() -> ProcessExtras {
        let Ok(process) = procfs::process::Process::myself() else {
            return ProcessExtras::default();
        };
        let stat = process.stat().ok();
        let start_time_seconds = stat.as_ref().and_then(|stat| {
            let boot = procfs::boot_time_secs().ok()?;
            Some(boot as f64 + stat.starttime as f64 / procfs::ticks_per_second() as f64)
        });
        let max_fds =
            process
                .limits()
                .ok()
                .and_then(|limits| match limits.max_open_files.soft_limit {
                    procfs::process::LimitValue::Value(value) => Some(value),
                    procfs::process::LimitValue::Unlimited => None,
                });
        ProcessExtras {
            virtual_memory_bytes: stat.map(|stat| stat.vsize),
            max_fds,
            start_time_seconds,
        }
    }
}

/// The families of one snapshot.
// One metric per line reads as the table it is; rustfmt would spread each over seven.
#[rustfmt::skip]
pub(super) fn families(d: &Diagnostics, extras: &ProcessExtras) -> Families {
    use Kind::{Counter, Gauge};
    let mut f = Families::default();
    // The Rust server's own document always has both (contract version 1).
    let (Some(process), Some(heap)) = (&d.process, &d.heap) else {
        return f;
    };

    // The standard names of the official client libraries, so stock dashboards work.
    f.gauge("process_resident_memory", "Resident memory size in bytes", BYTES, process.rss_bytes);
    if let Some(bytes) = extras.virtual_memory_bytes {
        f.gauge("process_virtual_memory", "Virtual memory size in bytes", BYTES, bytes);
    }
    f.counter("process_cpu", "Total user and system CPU time spent in seconds", SECONDS, process.cpu_seconds);
    if let Some(fds) = process.open_fds {
        f.gauge("process_open_fds", "Number of open file descriptors", None, fds);
    }
    if let Some(max) = extras.max_fds {
        f.gauge("process_max_fds", "Maximum number of open file descriptors", None, max);
    }
    if let Some(start) = extras.start_time_seconds {
        f.gauge("process_start_time", "Start time of the process since unix epoch in seconds", SECONDS, start);
    }
    if let Some(threads) = process.threads {
        f.gauge("process_threads", "Number of OS threads in the process", None, threads);
    }

    let counting = if d.counting_enabled { "on" } else { "off" };
    f.info("membench_server", "The allocator in use and whether allocations are counted", &[("allocator", d.allocator.map_or("unknown", |a| a.name())), ("counting", counting)]);
    f.gauge("membench_uptime", "Time since the server started", SECONDS, d.uptime_s);
    if let Some(threshold) = d.large_object_threshold_bytes {
        f.gauge("membench_large_object_threshold", "Allocations at or above this size count as large", BYTES, threshold);
    }

    f.gauge("membench_heap_live", "Heap bytes allocated and not yet freed (counting allocator)", BYTES, heap.live_bytes);
    f.counter("membench_heap_allocations", "Allocations made", None, heap.alloc_count);
    f.counter("membench_heap_frees", "Frees made", None, heap.free_count);
    f.counter("membench_heap_allocated", "Bytes allocated", BYTES, heap.alloc_bytes);
    f.counter("membench_heap_freed", "Bytes freed", BYTES, heap.freed_bytes);
    f.counter("membench_heap_large_allocations", "Allocations at or above the large-object threshold", None, heap.large_alloc_count);
    f.counter("membench_heap_large_allocated", "Bytes of allocations at or above the large-object threshold", BYTES, heap.large_alloc_bytes);
    f.counter("membench_measurement_allocations", "Allocations made by the server's own snapshots (included above)", None, d.measurement_alloc_count);
    f.counter("membench_measurement_allocated", "Bytes allocated by the server's own snapshots (included above)", BYTES, d.measurement_alloc_bytes);

    f.gauge("membench_rss", "Resident set size of the server", BYTES, process.rss_bytes);
    // What the portable probe does not read is absent, not 0.
    if let Some(bytes) = process.rss_anon_bytes {
        f.gauge("membench_rss_anon", "Anonymous resident memory (heap and stacks)", BYTES, bytes);
    }
    if let Some(seconds) = process.cpu_user_seconds {
        f.counter("membench_cpu_user", "User CPU time", SECONDS, seconds);
    }
    if let Some(seconds) = process.cpu_system_seconds {
        f.counter("membench_cpu_system", "System CPU time", SECONDS, seconds);
    }
    if let Some(faults) = process.minor_faults {
        f.counter("membench_minor_faults", "Minor page faults (fresh pages touched)", None, faults);
    }
    if let Some(faults) = process.major_faults {
        f.counter("membench_major_faults", "Major page faults (pages read from disk)", None, faults);
    }
    if let Some(threads) = process.threads {
        f.gauge("membench_threads", "Threads of the server", None, threads);
    }
    if let Some(fds) = process.open_fds {
        f.gauge("membench_open_fds", "Open file descriptors of the server", None, fds);
    }
    if let Some(tcp) = &process.tcp {
        let tcp_states = [
            ("established", tcp.established),
            ("close_wait", tcp.close_wait),
            ("listen", tcp.listen),
            ("time_wait", tcp.time_wait),
            ("other", tcp.other),
        ];
        f.labelled("membench_tcp_sockets", "TCP sockets of the server by state (time_wait: on a port it listens on)", Gauge, None, "state", tcp_states);
        f.gauge("membench_tcp_time_wait_namespace_sockets", "TIME_WAIT sockets in the server's network namespace", None, tcp.time_wait_namespace);
    }

    let stats = &d.allocator_stats;
    let allocator_gauges = [
        ("membench_allocator_allocated", "Bytes the allocator has handed out", stats.allocated_bytes),
        ("membench_allocator_active", "Bytes in pages holding allocated blocks", stats.active_bytes),
        ("membench_allocator_resident", "Physical memory the allocator holds", stats.resident_bytes),
        ("membench_allocator_mapped", "Address space the allocator has mapped", stats.mapped_bytes),
        ("membench_allocator_retained", "Bytes kept mapped but returned to the OS", stats.retained_bytes),
        ("membench_allocator_free", "Free bytes inside the allocator, not returned to the OS", stats.free_bytes),
    ];
    for (name, help, value) in allocator_gauges {
        if let Some(value) = value {
            f.gauge(name, help, BYTES, value);
        }
    }
    if let Some(purges) = stats.purge_events_total {
        f.counter("membench_allocator_purge_events", "Times the allocator returned memory to the OS on its own", None, purges);
    }
    if let Some(purged) = stats.purged_bytes_total {
        f.counter("membench_allocator_purged", "Bytes returned to the OS by those purges", BYTES, purged);
    }
    f.counter("membench_collect_calls", "Explicit collects through POST /api/collect", None, stats.collect_calls_total);

    f.labelled("membench_requests", "Requests answered by endpoint (route template; unmatched: no route)", Counter, None, "endpoint",
        d.requests.iter().map(|(endpoint, count)| (endpoint.as_str(), *count)));
    f.labelled("membench_errors", "Failed requests by kind", Counter, None, "kind",
        d.errors.iter().map(|(kind, count)| (kind.as_str(), *count)));

    let leaks = &d.leaks;
    let held = [
        ("/api/staticstring", leaks.staticstring),
        ("/api/cache/unbounded", leaks.cache_unbounded),
        ("/api/cache/expiring", leaks.cache_expiring),
        ("/api/clientleak", leaks.clientleak),
        ("/api/fileprovider", leaks.fileprovider),
        ("/api/operation/leak/{size}", leaks.operations),
        ("/api/pooledarray/{size}", leaks.pooled_buffers),
    ];
    f.labelled("membench_leak_held", "Bytes each leaking, caching or pooling endpoint holds now", Gauge, BYTES, "endpoint",
        held.map(|(endpoint, held)| (endpoint, held.bytes)));
    f.labelled("membench_leak_held_items", "Items each leaking, caching or pooling endpoint holds now", Gauge, None, "endpoint",
        held.map(|(endpoint, held)| (endpoint, held.items)));

    // The modelled lens, named so no dashboard can take it for a measurement.
    if let Some(lens) = &d.modelled_gc {
        let c = lens.collections;
        f.labelled("membench_modelled_dotnet_gc_collections", "MODELLED .NET GC (a model, not a measurement): collections like GC.CollectionCount(n), a gen2 also counts as gen1 and gen0", Counter, None, "generation",
            [("gen0", c.gen0), ("gen1", c.gen1), ("gen2", c.gen2)]);
        f.gauge("membench_modelled_dotnet_managed_heap", "MODELLED .NET GC (a model, not a measurement): managed heap, garbage not yet collected included", BYTES, lens.managed_heap_bytes);
        f.info("membench_modelled_dotnet_gc", "The modelled .NET GC lens in use (membench explain gc-model)", &[("label", lens.label.as_str()), ("preset", lens.preset.as_str())]);
    }
    f
}
