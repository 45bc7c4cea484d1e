//! The global allocator: a counting wrapper around the allocator chosen at run time.
//!
//! Two decisions shape this file:
//!
//! * **Per-thread, single-writer shards.** Every allocation bumps six counters. One shared
//!   atomic makes alloc+free about 16x slower with two threads on this machine (the cache
//!   line ping-pongs between cores); a shard written by one thread only needs a relaxed
//!   load and store, under 1 ns. Readers sum all shards; totals are cumulative, so a slightly
//!   stale shard never makes a total go backwards. A thread leases a shard on its first
//!   allocation and hands it back when it exits (tokio's blocking pool starts and stops
//!   threads); the next thread continues the same cumulative counts. When every shard is
//!   leased, or a thread allocates after its thread-locals are gone, the shared overflow
//!   shard is used with real atomic read-modify-writes: slower, never wrong.
//! * **The backend is chosen on the first call and never changes.** The Rust runtime
//!   allocates before `main`, so a flag cannot be read in time; the first call reads
//!   `MEMBENCH_ALLOCATOR` (and `MEMBENCH_COUNTING`) with `libc::getenv`, which does not
//!   allocate. Every block is then freed by the allocator that made it. `membench serve
//!   --allocator X` re-executes the process with the variable set when it differs.
//!
//! jemalloc and mimalloc are linked with prefixed symbols, so C code in the process (and
//! glibc itself) keeps using glibc's malloc: what we count is exactly Rust's heap.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering::*};

use serde::{Deserialize, Serialize};

use super::kind::{ALLOCATOR_ENV_C, AllocatorKind, COUNTING_ENV_C};

/// The process-wide allocator: every Rust allocation of the binary and of its tests goes
/// through here.
#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Number of per-thread shards. The server runs a handful of worker threads plus tokio's
/// blocking pool (up to 512 threads, rarely more than a few alive).
const SHARD_COUNT: usize = 256;

/// Marks a thread that has not leased a shard yet.
const NO_LEASE: usize = usize::MAX;
/// Marks a thread that found every shard leased and uses the overflow shard.
const OVERFLOW_LEASE: usize = usize::MAX - 1;

/// Allocations of at least this many bytes are counted as large objects (.NET's LOH
/// threshold by default; `--large-object-bytes` changes it).
static LARGE_OBJECT_BYTES: AtomicUsize = AtomicUsize::new(85_000);

/// 0 until the first call; then 1 + the index of the backend in [`BACKENDS`].
static BACKEND: AtomicU8 = AtomicU8::new(0);
/// Whether allocations are counted; decided with the backend, never changes afterwards.
static COUNTING: AtomicBool = AtomicBool::new(true);

const BACKENDS: [AllocatorKind; 3] = [
    AllocatorKind::System,
    AllocatorKind::Jemalloc,
    AllocatorKind::Mimalloc,
];

/// Cumulative counters of one shard. Aligned to two cache lines so neighbours written by
/// other threads never share a line (adjacent-line prefetch pulls pairs).
#[repr(align(128))]
struct Shard {
    leased: AtomicBool,
    alloc_count: AtomicU64,
    free_count: AtomicU64,
    alloc_bytes: AtomicU64,
    freed_bytes: AtomicU64,
    large_alloc_count: AtomicU64,
    large_alloc_bytes: AtomicU64,
}

impl Shard {
    const fn new() -> Shard {
        Shard {
            leased: AtomicBool::new(false),
            alloc_count: AtomicU64::new(0),
            free_count: AtomicU64::new(0),
            alloc_bytes: AtomicU64::new(0),
            freed_bytes: AtomicU64::new(0),
            large_alloc_count: AtomicU64::new(0),
            large_alloc_bytes: AtomicU64::new(0),
        }
    }

    fn read(&self) -> HeapCounters {
        let alloc_bytes = self.alloc_bytes.load(Relaxed);
        let freed_bytes = self.freed_bytes.load(Relaxed);
        HeapCounters {
            live_bytes: alloc_bytes.saturating_sub(freed_bytes),
            alloc_count: self.alloc_count.load(Relaxed),
            free_count: self.free_count.load(Relaxed),
            alloc_bytes,
            freed_bytes,
            large_alloc_count: self.large_alloc_count.load(Relaxed),
            large_alloc_bytes: self.large_alloc_bytes.load(Relaxed),
        }
    }
}

static SHARDS: [Shard; SHARD_COUNT] = [const { Shard::new() }; SHARD_COUNT];
static OVERFLOW: Shard = Shard::new();
/// Where the next lease starts looking, so threads spread over the shards.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

/// A thread's lease on a shard; dropping it (at thread exit) returns the shard.
struct ShardLease {
    index: Cell<usize>,
}

impl Drop for ShardLease {
    fn drop(&mut self) {
        let index = self.index.get();
        if index < SHARD_COUNT {
            // Release: the next owner sees every count this thread wrote.
            SHARDS[index].leased.store(false, Release);
        }
    }
}

thread_local! {
    // Const-initialised: the first access does not allocate. Registering the destructor
    // goes through glibc's `__cxa_thread_atexit_impl`, which uses glibc's malloc, not us.
    static LEASE: ShardLease = const { ShardLease { index: Cell::new(NO_LEASE) } };
}

fn lease_shard() -> usize {
    let start = NEXT_SHARD.fetch_add(1, Relaxed);
    for offset in 0..SHARD_COUNT {
        let index = (start + offset) % SHARD_COUNT;
        if SHARDS[index]
            .leased
            .compare_exchange(false, true, Acquire, Relaxed)
            .is_ok()
        {
            return index;
        }
    }
    OVERFLOW_LEASE
}

/// Adds to the counters of this thread's shard.
#[inline]
fn record(alloc: Option<usize>, free: Option<usize>) {
    let lease = LEASE.try_with(|lease| {
        let mut index = lease.index.get();
        if index == NO_LEASE {
            index = lease_shard();
            lease.index.set(index);
        }
        index
    });
    match lease {
        Ok(index) if index < SHARD_COUNT => {
            let shard = &SHARDS[index];
            // Single writer: a relaxed load and store is enough and costs no bus lock.
            let bump =
                |counter: &AtomicU64, by: u64| counter.store(counter.load(Relaxed) + by, Relaxed);
            if let Some(size) = alloc {
                bump(&shard.alloc_count, 1);
                bump(&shard.alloc_bytes, size as u64);
                if size >= LARGE_OBJECT_BYTES.load(Relaxed) {
                    bump(&shard.large_alloc_count, 1);
                    bump(&shard.large_alloc_bytes, size as u64);
                }
            }
            if let Some(size) = free {
                bump(&shard.free_count, 1);
                bump(&shard.freed_bytes, size as u64);
            }
        }
        _ => {
            let shard = &OVERFLOW;
            if let Some(size) = alloc {
                shard.alloc_count.fetch_add(1, Relaxed);
                shard.alloc_bytes.fetch_add(size as u64, Relaxed);
                if size >= LARGE_OBJECT_BYTES.load(Relaxed) {
                    shard.large_alloc_count.fetch_add(1, Relaxed);
                    shard.large_alloc_bytes.fetch_add(size as u64, Relaxed);
                }
            }
            if let Some(size) = free {
                shard.free_count.fetch_add(1, Relaxed);
                shard.freed_bytes.fetch_add(size as u64, Relaxed);
            }
        }
    }
}

/// Reads an environment variable without allocating (safe inside the allocator).
fn env_bytes(name: &std::ffi::CStr) -> Option<&'static [u8]> {
    // SAFETY: getenv returns null or a pointer to a NUL-terminated string owned by the
    // environment; membench never calls setenv, so it stays valid for the process.
    unsafe {
        let value = libc::getenv(name.as_ptr());
        (!value.is_null()).then(|| std::ffi::CStr::from_ptr(value).to_bytes())
    }
}

#[cold]
fn choose_backend() -> u8 {
    let kind = env_bytes(ALLOCATOR_ENV_C)
        .map(AllocatorKind::from_env_bytes)
        .unwrap_or(AllocatorKind::DEFAULT);
    let counting = !matches!(env_bytes(COUNTING_ENV_C), Some(b"off" | b"0" | b"false"));
    COUNTING.store(counting, Relaxed);
    let code = BACKENDS.iter().position(|k| *k == kind).unwrap_or(1) as u8 + 1;
    // Two threads racing here compute the same value from the same environment.
    BACKEND.store(code, Release);
    code
}

#[inline]
fn backend_code() -> u8 {
    match BACKEND.load(Acquire) {
        0 => choose_backend(),
        code => code,
    }
}

/// The counting wrapper. It has no state of its own: the counters are the static shards.
pub struct CountingAllocator;

macro_rules! dispatch {
    ($method:ident($($arg:expr),*)) => {
        match backend_code() {
            1 => System.$method($($arg),*),
            2 => tikv_jemallocator::Jemalloc.$method($($arg),*),
            _ => mimalloc::MiMalloc.$method($($arg),*),
        }
    };
}

// SAFETY: every method forwards to a real allocator, always the same one for the life of
// the process, and only adds bookkeeping that never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { dispatch!(alloc(layout)) };
        if !ptr.is_null() && COUNTING.load(Relaxed) {
            record(Some(layout.size()), None);
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { dispatch!(alloc_zeroed(layout)) };
        if !ptr.is_null() && COUNTING.load(Relaxed) {
            record(Some(layout.size()), None);
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { dispatch!(dealloc(ptr, layout)) };
        if COUNTING.load(Relaxed) {
            record(None, Some(layout.size()));
        }
    }

    /// A reallocation counts as a free of the old block and an allocation of the new one,
    /// which is what it costs when the block has to move.
    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_ptr = unsafe { dispatch!(realloc(ptr, layout, new_size)) };
        if !new_ptr.is_null() && COUNTING.load(Relaxed) {
            record(Some(new_size), Some(layout.size()));
        }
        new_ptr
    }
}

/// Cumulative heap counters, in bytes and counts since the process started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeapCounters {
    /// Bytes allocated and not yet freed (the "Allocated" line of the charts).
    pub live_bytes: u64,
    /// Allocations made (a reallocation counts as one allocation and one free).
    pub alloc_count: u64,
    /// Frees made.
    pub free_count: u64,
    /// Bytes allocated in total.
    pub alloc_bytes: u64,
    /// Bytes freed in total.
    pub freed_bytes: u64,
    /// Allocations at or above the large-object threshold.
    pub large_alloc_count: u64,
    /// Bytes of those large allocations.
    pub large_alloc_bytes: u64,
}

impl HeapCounters {
    /// Bytes allocated minus bytes freed between `earlier` and `self` (negative when more
    /// was freed). Unlike a difference of `live_bytes`, this is right for one thread's
    /// shard too, whose own live bytes saturate at zero.
    pub fn net_bytes_since(&self, earlier: &HeapCounters) -> i64 {
        let allocated = self.alloc_bytes.wrapping_sub(earlier.alloc_bytes) as i64;
        let freed = self.freed_bytes.wrapping_sub(earlier.freed_bytes) as i64;
        allocated - freed
    }

    fn add(&mut self, other: HeapCounters) {
        self.alloc_count += other.alloc_count;
        self.free_count += other.free_count;
        self.alloc_bytes += other.alloc_bytes;
        self.freed_bytes += other.freed_bytes;
        self.large_alloc_count += other.large_alloc_count;
        self.large_alloc_bytes += other.large_alloc_bytes;
        self.live_bytes = self.alloc_bytes.saturating_sub(self.freed_bytes);
    }
}

/// The process's heap counters: the sum over every shard.
pub fn heap_counters() -> HeapCounters {
    let mut total = OVERFLOW.read();
    for shard in &SHARDS {
        total.add(shard.read());
    }
    total
}

/// The counters of the calling thread's shard only: what this thread allocated and freed
/// (plus what earlier owners of the shard did, so take deltas). Its `live_bytes` means
/// little: a thread that frees memory allocated elsewhere drives its shard's frees above
/// its allocations; compare `alloc_bytes - freed_bytes` deltas instead. Tests use it to measure
/// their own allocations while other tests run.
pub fn thread_heap_counters() -> HeapCounters {
    match LEASE.try_with(|lease| lease.index.get()) {
        Ok(index) if index < SHARD_COUNT => SHARDS[index].read(),
        _ => HeapCounters::default(),
    }
}

/// The allocator serving this process.
pub fn active_allocator() -> AllocatorKind {
    BACKENDS[usize::from(backend_code() - 1)]
}

/// Whether allocations are being counted (`MEMBENCH_COUNTING=off` turns it off).
pub fn counting_enabled() -> bool {
    backend_code();
    COUNTING.load(Relaxed)
}

/// Sets the large-object threshold in bytes (applies to allocations from now on).
pub fn set_large_object_threshold(bytes: usize) {
    LARGE_OBJECT_BYTES.store(bytes, Relaxed);
}

/// The large-object threshold in bytes.
pub fn large_object_threshold() -> usize {
    LARGE_OBJECT_BYTES.load(Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    #[test]
    fn sees_a_one_mebibyte_allocation_and_its_free() {
        let before = thread_heap_counters();
        let buffer = black_box(vec![7u8; 1 << 20]);
        let during = thread_heap_counters();
        drop(buffer);
        let after = thread_heap_counters();

        assert_eq!(during.large_alloc_count - before.large_alloc_count, 1);
        assert!(during.alloc_bytes - before.alloc_bytes >= 1 << 20);
        // A shard's own live_bytes saturates at zero once its threads have freed memory
        // other threads allocated, so growth is measured as a signed delta.
        assert!(during.net_bytes_since(&before) >= 1 << 20);
        assert!(after.freed_bytes - during.freed_bytes >= 1 << 20);
        assert!(after.free_count > during.free_count);
    }

    #[test]
    fn process_totals_include_every_thread() {
        let before = heap_counters();
        std::thread::spawn(|| drop(black_box(vec![1u8; 300_000])))
            .join()
            .unwrap();
        let after = heap_counters();
        assert!(after.large_alloc_count > before.large_alloc_count);
        assert!(after.alloc_bytes - before.alloc_bytes >= 300_000);
    }

    #[test]
    fn a_released_shard_is_leased_again_by_new_threads() {
        // Far more short-lived threads than shards: without returning leases, the later
        // threads would all land on the overflow shard.
        for _ in 0..(SHARD_COUNT * 2) {
            std::thread::spawn(|| drop(black_box(vec![0u8; 64])))
                .join()
                .unwrap();
        }
        let index = std::thread::spawn(|| {
            drop(black_box(vec![0u8; 64]));
            LEASE.with(|lease| lease.index.get())
        })
        .join()
        .unwrap();
        assert!(index < SHARD_COUNT, "the thread got no shard of its own");
    }
}
