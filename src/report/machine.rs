//! The machine a run was measured on, for `summary.json`: numbers are only comparable on
//! the same kind of machine, so every run records it.
//!
//! Read through [`crate::memory::MachineFacts`] (sysinfo, on every OS): the one home of
//! the machine's facts. Anything unreadable is left empty or zero rather than failing a run
//! whose samples are already on disk.

use serde::{Deserialize, Serialize};

/// The machine a run was measured on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MachineInfo {
    /// CPUs this process may run on (what the load generator and server share).
    pub cores: usize,
    /// Total memory (`MemTotal`), bytes; 0 when unknown.
    pub memory_bytes: u64,
    /// Kernel name and release, e.g. `Linux 6.1.0-18-amd64`; empty when unknown.
    pub kernel: String,
    /// Hardware architecture, e.g. `x86_64`.
    #[serde(default)]
    pub arch: String,
    /// CPU model name; empty when unknown.
    #[serde(default)]
    pub cpu_model: String,
    /// The process probe that measured the run: `linux` (`/proc`: every process column) or
    /// `portable` (sysinfo: RSS, CPU, threads where sysinfo has them); empty in older files.
    #[serde(default)]
    pub probe: String,
}

impl MachineInfo {
    /// Looks at the machine this process runs on.
    pub fn detect() -> MachineInfo {
        let facts = crate::memory::MachineFacts::detect();
        MachineInfo {
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory_bytes: facts.memory_bytes.unwrap_or(0),
            kernel: facts.kernel(),
            arch: facts.arch.clone().unwrap_or_default(),
            cpu_model: facts.cpu_model.unwrap_or_default(),
            probe: crate::memory::probe_kind().name().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_reads_this_machine() {
        let machine = MachineInfo::detect();
        assert!(machine.cores >= 1);
        assert!(machine.memory_bytes > 0);
        #[cfg(target_os = "linux")]
        assert!(machine.kernel.starts_with("Linux "), "{}", machine.kernel);
        assert!(!machine.arch.is_empty());
    }
}
