//! Which allocator serves the process: the run-time switch that is Rust's closest analog of
//! .NET's Workstation/Server GC setting. The choice travels in the `MEMBENCH_ALLOCATOR`
//! environment variable, which the global allocator reads on its first call.

use std::ffi::CStr;
use std::fmt;

use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// The environment variable that selects the allocator before `main` runs, as a C string
/// for `getenv` inside the allocator.
pub(crate) const ALLOCATOR_ENV_C: &CStr = c"MEMBENCH_ALLOCATOR";
/// Name of the environment variable that selects the allocator.
pub const ALLOCATOR_ENV: &str = c_name(ALLOCATOR_ENV_C);

/// The environment variable that turns allocation counting off (`off`, `0` or `false`).
pub(crate) const COUNTING_ENV_C: &CStr = c"MEMBENCH_COUNTING";
/// Name of the environment variable that turns allocation counting off.
pub const COUNTING_ENV: &str = c_name(COUNTING_ENV_C);

const fn c_name(name: &'static CStr) -> &'static str {
    match std::str::from_utf8(name.to_bytes()) {
        Ok(name) => name,
        Err(_) => panic!("environment variable names are ASCII"),
    }
}

/// The allocators membench can put under the counting wrapper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AllocatorKind {
    /// glibc malloc: arenas, mmap above a dynamic threshold, `malloc_trim` to give memory back.
    System,
    /// jemalloc (prefixed, so it never replaces glibc's malloc for C code): decay-based
    /// purging whose `npurge` counters are real, countable events of returning memory.
    Jemalloc,
    /// mimalloc: segments and pages per thread, purges delayed by `purge_delay`.
    Mimalloc,
}

impl AllocatorKind {
    /// jemalloc is the default because it is the one allocator whose returns of memory to the
    /// OS are counted events (`stats.arenas.*.dirty_npurge`/`muzzy_npurge`) we can plot as
    /// triangles without guessing; glibc only gives memory back in `free`/`malloc_trim`
    /// without counting it, and mimalloc's purge counters are coarser.
    pub const DEFAULT: AllocatorKind = AllocatorKind::Jemalloc;

    /// The lower-case name used on the command line, in JSON and in the environment.
    pub fn name(self) -> &'static str {
        match self {
            AllocatorKind::System => "system",
            AllocatorKind::Jemalloc => "jemalloc",
            AllocatorKind::Mimalloc => "mimalloc",
        }
    }

    /// Parses the environment value byte by byte, so it can run inside the allocator
    /// without allocating. Unknown values fall back to the default.
    pub(crate) fn from_env_bytes(value: &[u8]) -> AllocatorKind {
        match value {
            b"system" | b"glibc" => AllocatorKind::System,
            b"jemalloc" => AllocatorKind::Jemalloc,
            b"mimalloc" => AllocatorKind::Mimalloc,
            _ => AllocatorKind::DEFAULT,
        }
    }
}

impl fmt::Display for AllocatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
