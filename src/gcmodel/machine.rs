//! The machine facts the .NET GC sizes its budgets from: last-level cache, logical cores and
//! physical memory. [`MachineSpec::detect`] reads them the way CoreCLR does on Linux (the
//! largest cache under `/sys/devices/system/cpu/cpu0/cache/index*/`, preferring level 3);
//! [`MachineSpec::article`] is the machine behind the ASP.NET Core memory article's figures
//! (20 MB L3, 8 cores), so the model can be checked against them on any laptop.

use std::path::Path;

use thiserror::Error;

const MIB: u64 = 1024 * 1024;

/// Cache, cores and memory of the machine a modelled .NET process would run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineSpec {
    /// Last-level (L3) cache size in bytes, as the OS reports it for one core.
    pub l3_bytes: u64,
    /// Logical processors: one server-GC heap per core.
    pub cores: u32,
    /// Physical memory in bytes; gen0 budgets are halved while they exceed a sixth of it.
    pub memory_bytes: u64,
}

/// Why the machine could not be read.
#[derive(Debug, Error)]
pub enum DetectError {
    #[error("cannot read cpu caches under \"{dir}\": {source}")]
    CacheDir {
        dir: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no cache sizes found under \"{dir}\"; expected index*/level and index*/size files")]
    NoCache { dir: String },
    #[error(
        "invalid cache size \"{text}\" in \"{file}\"; expected a number with K, M or G, such as 32768K"
    )]
    CacheSize { file: String, text: String },
    #[error("cannot read this machine's physical memory (sysinfo says nothing)")]
    Memory,
}

/// Where Linux describes cpu0's caches.
pub const SYSFS_CACHE_DIR: &str = "/sys/devices/system/cpu/cpu0/cache";

/// Which machine and runtime a modelled GC sizes its budgets for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelledMachine {
    /// The article's machine and runtime (.NET Core 2.x budgets), so its charts come out
    /// the same on any laptop.
    Article,
    /// This machine (sysfs, scheduler, the OS's total memory) with today's runtime (no 2.x
    /// factor).
    This,
}

impl ModelledMachine {
    /// The machine and the runtime options (default framework overhead) to model.
    pub fn resolve(self) -> Result<(MachineSpec, super::GcOptions), DetectError> {
        Ok(match self {
            ModelledMachine::Article => (MachineSpec::article(), super::GcOptions::article()),
            ModelledMachine::This => (MachineSpec::detect()?, super::GcOptions::default()),
        })
    }
}

impl MachineSpec {
    /// The article's machine: 20 MiB L3 and 8 cores. Its memory is not stated; 32 GiB is
    /// assumed, a typical benchmark machine of 2018 and far above the 2.9 GB (6 × 8 heaps ×
    /// 60 MB) below which the server gen0 budget would be halved, so the article's 300 MB
    /// budget is reproduced.
    pub fn article() -> Self {
        MachineSpec {
            l3_bytes: 20 * MIB,
            cores: 8,
            memory_bytes: 32 * 1024 * MIB,
        }
    }

    /// This machine: cache from sysfs, logical cores from the scheduler's affinity, memory
    /// from [`crate::memory::MachineFacts`].
    pub fn detect() -> Result<Self, DetectError> {
        let l3_bytes = read_last_level_cache(Path::new(SYSFS_CACHE_DIR))?;
        let cores = std::thread::available_parallelism()
            .map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX));
        let memory_bytes = crate::memory::MachineFacts::detect()
            .memory_bytes
            .ok_or(DetectError::Memory)?;
        Ok(MachineSpec {
            l3_bytes,
            cores,
            memory_bytes,
        })
    }
}

/// The level-3 cache size under `dir` (a sysfs `cache` directory), or the largest cache of
/// any level when there is no level 3 (some VMs), which is what CoreCLR falls back to.
pub fn read_last_level_cache(dir: &Path) -> Result<u64, DetectError> {
    let dir_text = dir.display().to_string();
    let entries = std::fs::read_dir(dir).map_err(|source| DetectError::CacheDir {
        dir: dir_text.clone(),
        source,
    })?;
    // (level, bytes) of every cache that has both files.
    let mut caches: Vec<(u32, u64)> = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let is_index = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("index"));
        if !is_index {
            continue;
        }
        let (Ok(level), Ok(size)) = (
            std::fs::read_to_string(path.join("level")),
            std::fs::read_to_string(path.join("size")),
        ) else {
            continue;
        };
        let Ok(level) = level.trim().parse::<u32>() else {
            continue;
        };
        let bytes = parse_cache_size(size.trim()).ok_or_else(|| DetectError::CacheSize {
            file: path.join("size").display().to_string(),
            text: size.trim().to_string(),
        })?;
        caches.push((level, bytes));
    }
    let level3 = caches
        .iter()
        .filter(|(l, _)| *l == 3)
        .map(|(_, b)| *b)
        .max();
    level3
        .or_else(|| caches.iter().map(|(_, b)| *b).max())
        .filter(|bytes| *bytes > 0)
        .ok_or(DetectError::NoCache { dir: dir_text })
}

/// Parses sysfs cache sizes: `32768K`, `1M`, `512` (bytes). Units are binary.
fn parse_cache_size(text: &str) -> Option<u64> {
    let (number, factor) = match text.chars().last()? {
        'K' | 'k' => (&text[..text.len() - 1], 1024),
        'M' | 'm' => (&text[..text.len() - 1], MIB),
        'G' | 'g' => (&text[..text.len() - 1], 1024 * MIB),
        _ => (text, 1),
    };
    number.trim().parse::<u64>().ok()?.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_cache(dir: &Path, index: u32, level: &str, size: &str) {
        let sub = dir.join(format!("index{index}"));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join("level"), level).unwrap();
        std::fs::write(sub.join("size"), size).unwrap();
    }

    #[test]
    fn reads_level_3_even_when_another_level_is_larger() {
        let dir = tempfile::tempdir().unwrap();
        write_cache(dir.path(), 0, "1\n", "48K\n");
        write_cache(dir.path(), 2, "2\n", "1024K\n");
        write_cache(dir.path(), 3, "3\n", "32768K\n");
        write_cache(dir.path(), 4, "4\n", "65536K\n");
        assert_eq!(read_last_level_cache(dir.path()).unwrap(), 32 * MIB);
    }

    #[test]
    fn falls_back_to_the_largest_cache_without_level_3() {
        let dir = tempfile::tempdir().unwrap();
        write_cache(dir.path(), 0, "1", "32K");
        write_cache(dir.path(), 1, "2", "2M");
        assert_eq!(read_last_level_cache(dir.path()).unwrap(), 2 * MIB);
    }

    #[test]
    fn bad_cache_size_quotes_the_text() {
        let dir = tempfile::tempdir().unwrap();
        write_cache(dir.path(), 3, "3", "lots");
        let err = read_last_level_cache(dir.path()).unwrap_err().to_string();
        assert!(err.contains("\"lots\""), "{err}");
    }

    #[test]
    fn empty_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_last_level_cache(dir.path()).unwrap_err().to_string();
        assert!(err.contains("no cache sizes"), "{err}");
    }

    #[test]
    fn article_machine_is_20_mib_8_cores() {
        let spec = MachineSpec::article();
        assert_eq!(spec.l3_bytes, 20 * MIB);
        assert_eq!(spec.cores, 8);
        // Large enough that 8 heaps × 3 × 20 MiB stay under a sixth of memory.
        assert!(8 * 3 * spec.l3_bytes <= spec.memory_bytes / 6);
    }

    #[test]
    fn detects_this_machine_where_sysfs_describes_caches() {
        if !Path::new(SYSFS_CACHE_DIR).is_dir() {
            return; // Not Linux, or a sandbox without sysfs: nothing to read.
        }
        let spec = MachineSpec::detect().expect("sysfs and the total memory are readable");
        eprintln!("{spec:?}");
        assert!(spec.l3_bytes >= 64 * 1024, "{spec:?}");
        assert!(spec.cores >= 1);
        assert!(spec.memory_bytes > spec.l3_bytes);
    }
}
