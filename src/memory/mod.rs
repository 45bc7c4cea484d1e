//! Memory measurement: the counting global allocator and the run-time allocator choice,
//! the allocator's own statistics and collect call, and `/proc` probes of a process.

mod allocator_stats;
mod counting;
mod kind;
mod process;

pub use allocator_stats::{AllocatorStats, CollectOutcome, allocator_stats, collect};
pub use counting::{
    HeapCounters, active_allocator, counting_enabled, heap_counters, large_object_threshold,
    set_large_object_threshold, thread_heap_counters,
};
pub use kind::{ALLOCATOR_ENV, AllocatorKind, COUNTING_ENV};
pub use process::{ProcessSnapshot, listening_ports, own_rss_bytes, read_process};
