//! Memory measurement: the counting global allocator and the run-time allocator choice,
//! the allocator's own statistics and collect call, the process probes (`/proc` on Linux,
//! `sysinfo` everywhere) and the machine's facts.

mod allocator_stats;
mod counting;
mod kind;
mod machine;
mod portable;
mod probe;
mod process;

pub use allocator_stats::{AllocatorStats, CollectOutcome, allocator_stats, collect};
pub use counting::{
    HeapCounters, active_allocator, counting_enabled, heap_counters, large_object_threshold,
    set_large_object_threshold, thread_heap_counters,
};
pub use kind::{ALLOCATOR_ENV, AllocatorKind, COUNTING_ENV};
pub use machine::MachineFacts;
#[cfg(all(test, target_os = "linux"))]
pub use probe::ProbeKind;
pub use probe::{probe_kind, select_probe};
#[cfg(all(test, target_os = "linux"))]
pub use process::read_process_with;
pub use process::{
    ProcessSnapshot, listening_ports, own_rss_bytes, page_size, read_process, read_process_cheap,
};
