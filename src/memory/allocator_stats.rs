//! The allocator's own view of memory, and the request to give free memory back to the OS.
//!
//! Each allocator reports what it can, and the fields that do not apply stay `None` rather
//! than being invented:
//! * jemalloc: `stats.allocated/active/resident/mapped/retained` after an `epoch` advance,
//!   and the purge counters of all arenas (`dirty_npurge`, `muzzy_npurge`): every increment
//!   is one real return of memory to the OS, the reclaim event of the charts.
//! * mimalloc: `mi_stats_get_json` (OS-level counters are kept even in release builds):
//!   committed and reserved bytes, `purge_calls` and purged bytes.
//! * glibc: `mallinfo2`, which walks the free lists of every arena, so it is read at most
//!   once a second and cached; glibc counts no purges, so only explicit collects count.
//!
//! `collect` is the `GC.Collect` analog: `malloc_trim(0)`, `arena.<all>.purge`, `mi_collect`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::counting::active_allocator;
use super::kind::AllocatorKind;

/// jemalloc's pseudo-arena index meaning "all arenas" (`MALLCTL_ARENAS_ALL`).
const JEMALLOC_ALL_ARENAS: &str = "4096";

#[cfg(all(target_os = "linux", target_env = "gnu"))]
/// How long a `mallinfo2` reading is reused, because it walks every free chunk.
const MALLINFO_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(1);

/// Explicit collects (`POST /api/collect`) since the process started.
static COLLECT_CALLS: AtomicU64 = AtomicU64::new(0);

/// What the allocator in use says about memory. Bytes unless the name says otherwise.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AllocatorStats {
    /// The allocator these numbers come from.
    pub allocator: Option<AllocatorKind>,
    /// Bytes in blocks handed out to the program (the allocator's "allocated").
    pub allocated_bytes: Option<u64>,
    /// Bytes in pages that hold allocated blocks (jemalloc `active`).
    pub active_bytes: Option<u64>,
    /// Bytes of physical memory the allocator holds (jemalloc `resident`, mimalloc committed).
    pub resident_bytes: Option<u64>,
    /// Bytes of address space mapped (jemalloc `mapped`, mimalloc reserved, glibc arena+mmap).
    pub mapped_bytes: Option<u64>,
    /// Bytes kept mapped but returned to the OS (jemalloc `retained`).
    pub retained_bytes: Option<u64>,
    /// Bytes free inside the allocator, not returned to the OS (glibc `fordblks`).
    pub free_bytes: Option<u64>,
    /// Times the allocator returned memory to the OS on its own (jemalloc dirty+muzzy
    /// npurge, mimalloc purge_calls). `None` for glibc, which does not count them.
    pub purge_events_total: Option<u64>,
    /// Bytes returned by those purges (jemalloc dirty+muzzy purged pages × page size,
    /// mimalloc purged).
    pub purged_bytes_total: Option<u64>,
    /// Explicit collects requested through `/api/collect`.
    pub collect_calls_total: u64,
}

/// The outcome of `POST /api/collect`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectOutcome {
    pub allocator: AllocatorKind,
    /// What was called, e.g. `malloc_trim(0)`.
    pub action: String,
    pub rss_before_bytes: u64,
    pub rss_after_bytes: u64,
    /// `rss_before_bytes - rss_after_bytes`, negative when RSS grew meanwhile.
    pub rss_released_bytes: i64,
    pub duration_us: u64,
}

/// Reads the allocator's statistics now (glibc's at most once a second).
pub fn allocator_stats() -> AllocatorStats {
    let mut stats = match active_allocator() {
        AllocatorKind::Jemalloc => jemalloc_stats(),
        AllocatorKind::Mimalloc => mimalloc_stats(),
        AllocatorKind::System => glibc_stats(),
    };
    stats.allocator = Some(active_allocator());
    stats.collect_calls_total = COLLECT_CALLS.load(Relaxed);
    stats
}

/// Asks the allocator to return free memory to the OS and measures RSS around it.
pub fn collect(rss_bytes: impl Fn() -> u64) -> CollectOutcome {
    let allocator = active_allocator();
    let rss_before_bytes = rss_bytes();
    let started = Instant::now();
    let action = match allocator {
        AllocatorKind::System => system_trim(),
        AllocatorKind::Jemalloc => {
            let name = format!("arena.{JEMALLOC_ALL_ARENAS}.purge\0");
            // SAFETY: a void mallctl takes no old or new value; the name is NUL-terminated.
            unsafe {
                tikv_jemalloc_sys::mallctl(
                    name.as_ptr().cast(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    0,
                )
            };
            "jemalloc arena.<all>.purge"
        }
        AllocatorKind::Mimalloc => {
            // SAFETY: mi_collect(force) has no preconditions.
            unsafe { libmimalloc_sys::mi_collect(true) };
            "mi_collect(true)"
        }
    };
    let duration_us = started.elapsed().as_micros() as u64;
    COLLECT_CALLS.fetch_add(1, Relaxed);
    let rss_after_bytes = rss_bytes();
    CollectOutcome {
        allocator,
        action: action.to_string(),
        rss_before_bytes,
        rss_after_bytes,
        rss_released_bytes: rss_before_bytes as i64 - rss_after_bytes as i64,
        duration_us,
    }
}

fn jemalloc_stats() -> AllocatorStats {
    use tikv_jemalloc_ctl::{epoch, raw, stats};
    // The stats are a snapshot refreshed by advancing the epoch.
    if epoch::advance().is_err() {
        return AllocatorStats::default();
    }
    let arena_counter = |name: &str| -> Option<u64> {
        let key = format!("stats.arenas.{JEMALLOC_ALL_ARENAS}.{name}\0");
        // SAFETY: these mallctl names are uint64_t counters in jemalloc 5.
        unsafe { raw::read::<u64>(key.as_bytes()) }.ok()
    };
    let page_bytes = super::page_size();
    let purges = arena_counter("dirty_npurge")
        .zip(arena_counter("muzzy_npurge"))
        .map(|(dirty, muzzy)| dirty + muzzy);
    let purged_pages = arena_counter("dirty_purged")
        .zip(arena_counter("muzzy_purged"))
        .map(|(dirty, muzzy)| dirty + muzzy);
    AllocatorStats {
        allocated_bytes: stats::allocated::read().ok().map(|v| v as u64),
        active_bytes: stats::active::read().ok().map(|v| v as u64),
        resident_bytes: stats::resident::read().ok().map(|v| v as u64),
        mapped_bytes: stats::mapped::read().ok().map(|v| v as u64),
        retained_bytes: stats::retained::read().ok().map(|v| v as u64),
        purge_events_total: purges,
        purged_bytes_total: purged_pages.map(|pages| pages * page_bytes),
        ..AllocatorStats::default()
    }
}

fn mimalloc_stats() -> AllocatorStats {
    // SAFETY: with a null buffer mimalloc allocates the text itself (with its own heap,
    // not through Rust's allocator) and returns it NUL-terminated, or null.
    let text = unsafe {
        let raw = libmimalloc_sys::mi_stats_get_json(0, std::ptr::null_mut());
        if raw.is_null() {
            return AllocatorStats::default();
        }
        let text = std::ffi::CStr::from_ptr(raw).to_string_lossy().into_owned();
        libmimalloc_sys::mi_free(raw.cast());
        text
    };
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    // Counts are objects with a "current" field; counters are plain totals.
    let current = |name: &str| json[name]["current"].as_u64();
    let total = |name: &str| json[name].as_u64().or_else(|| json[name]["total"].as_u64());
    AllocatorStats {
        allocated_bytes: current("malloc_requested"),
        resident_bytes: current("committed"),
        mapped_bytes: current("reserved"),
        purge_events_total: total("purge_calls"),
        purged_bytes_total: total("purged"),
        ..AllocatorStats::default()
    }
}

/// glibc's `malloc_trim(0)`: frees the top of every arena and unused whole pages.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn system_trim() -> &'static str {
    // SAFETY: malloc_trim has no preconditions; 0 keeps no pad at the top.
    unsafe { libc::malloc_trim(0) };
    "malloc_trim(0)"
}

/// Other system allocators (macOS, musl) have no trim call membench makes.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn system_trim() -> &'static str {
    "none (the system allocator here has no trim call)"
}

/// Other system allocators have no `mallinfo2`: nothing is known, so nothing is said.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn glibc_stats() -> AllocatorStats {
    AllocatorStats::default()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn glibc_stats() -> AllocatorStats {
    use std::sync::Mutex;
    static CACHE: Mutex<Option<(Instant, AllocatorStats)>> = Mutex::new(None);
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((read_at, stats)) = cache.as_ref()
        && read_at.elapsed() < MALLINFO_MAX_AGE
    {
        return stats.clone();
    }
    // SAFETY: mallinfo2 only reads allocator state.
    let info = unsafe { libc::mallinfo2() };
    let stats = AllocatorStats {
        allocated_bytes: Some((info.uordblks + info.hblkhd) as u64),
        mapped_bytes: Some((info.arena + info.hblkhd) as u64),
        free_bytes: Some(info.fordblks as u64),
        ..AllocatorStats::default()
    };
    *cache = Some((Instant::now(), stats.clone()));
    stats
}
