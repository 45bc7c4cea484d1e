//! The machine a run was measured on, for `summary.json`: numbers are only comparable on
//! the same kind of machine, so every run records it.
//!
//! Read from `/proc/meminfo`, `/proc/cpuinfo` and `uname(2)` directly — a few lines, no
//! dependency. Anything unreadable is left empty or zero rather than failing a run whose
//! samples are already on disk.

use std::ffi::CStr;

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
    /// Hardware architecture from `uname`, e.g. `x86_64`.
    #[serde(default)]
    pub arch: String,
    /// CPU model name from `/proc/cpuinfo`; empty when unknown.
    #[serde(default)]
    pub cpu_model: String,
}

impl MachineInfo {
    /// Looks at the machine this process runs on.
    pub fn detect() -> MachineInfo {
        let (kernel, arch) = uname().unwrap_or_default();
        MachineInfo {
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory_bytes: std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|text| mem_total_bytes(&text))
                .unwrap_or(0),
            kernel,
            arch,
            cpu_model: std::fs::read_to_string("/proc/cpuinfo")
                .ok()
                .and_then(|text| cpu_model(&text))
                .unwrap_or_default(),
        }
    }
}

/// `MemTotal:  16318412 kB` → bytes.
fn mem_total_bytes(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|line| line.starts_with("MemTotal:"))?;
    let mut fields = line.split_whitespace().skip(1);
    let value: u64 = fields.next()?.parse().ok()?;
    match fields.next() {
        Some("kB") => Some(value * 1024),
        None => Some(value),
        Some(_) => None,
    }
}

/// The first `model name` line (x86) or `Model` line (some ARM boards).
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        matches!(key.trim(), "model name" | "Model")
            .then(|| value.trim().to_string())
            .filter(|model| !model.is_empty())
    })
}

/// (`"Linux 6.1.0"`, `"x86_64"`) from `uname(2)`.
fn uname() -> Option<(String, String)> {
    // SAFETY: utsname is plain old data (arrays of c_char), so all-zero is a valid value,
    // and uname only writes NUL-terminated strings into the buffer we own.
    let mut name: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut name) } != 0 {
        return None;
    }
    let field = |chars: &[libc::c_char]| {
        // SAFETY: uname NUL-terminates every field within its array; the buffer was zeroed,
        // so even a full field is followed by a NUL within the struct's array.
        unsafe { CStr::from_ptr(chars.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    };
    Some((
        format!("{} {}", field(&name.sysname), field(&name.release)),
        field(&name.machine),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_and_cpuinfo_are_parsed() {
        let meminfo = "MemTotal:       16318412 kB\nMemFree:         1000 kB\n";
        assert_eq!(mem_total_bytes(meminfo), Some(16_318_412 * 1024));
        assert_eq!(mem_total_bytes("MemFree: 1 kB\n"), None);
        let cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n";
        assert_eq!(
            cpu_model(cpuinfo).as_deref(),
            Some("Intel(R) Xeon(R) CPU @ 2.20GHz")
        );
    }

    #[test]
    fn detect_reads_this_machine() {
        let machine = MachineInfo::detect();
        assert!(machine.cores >= 1);
        assert!(machine.memory_bytes > 0);
        assert!(machine.kernel.starts_with("Linux "), "{}", machine.kernel);
        assert!(!machine.arch.is_empty());
    }
}
