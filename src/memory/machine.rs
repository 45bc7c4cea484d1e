//! The machine membench runs on, read once through `sysinfo` on every OS: total memory,
//! CPU model, OS and kernel, architecture. The one home of these facts: the run summary
//! (`report::machine`) and the modelled GC's machine (`gcmodel::machine`) both read them
//! here. Anything the OS does not say is `None`.

use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

/// Facts about this machine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineFacts {
    /// Physical memory, bytes.
    pub memory_bytes: Option<u64>,
    /// The CPU's brand string, e.g. `Intel(R) Xeon(R) CPU @ 2.20GHz`.
    pub cpu_model: Option<String>,
    /// The OS's name, e.g. `Linux`, `Darwin`.
    pub os: Option<String>,
    /// The kernel's release, e.g. `6.1.0-18-amd64`.
    pub kernel_release: Option<String>,
    /// The hardware architecture, e.g. `x86_64`, `arm64`.
    pub arch: Option<String>,
}

impl MachineFacts {
    /// Reads this machine now.
    pub fn detect() -> MachineFacts {
        let system = System::new_with_specifics(
            RefreshKind::nothing()
                .with_memory(MemoryRefreshKind::nothing().with_ram())
                .with_cpu(CpuRefreshKind::nothing()),
        );
        let non_empty = |text: String| {
            let text = text.trim().to_string();
            (!text.is_empty()).then_some(text)
        };
        MachineFacts {
            memory_bytes: Some(system.total_memory()).filter(|bytes| *bytes > 0),
            cpu_model: system
                .cpus()
                .first()
                .and_then(|cpu| non_empty(cpu.brand().to_string())),
            os: os_name(),
            kernel_release: System::kernel_version().and_then(non_empty),
            arch: non_empty(System::cpu_arch()),
        }
    }

    /// Kernel name and release, e.g. `Linux 6.1.0-18-amd64`; empty when unknown.
    pub fn kernel(&self) -> String {
        match (&self.os, &self.kernel_release) {
            (Some(os), Some(release)) => format!("{os} {release}"),
            (Some(os), None) => os.clone(),
            (None, Some(release)) => release.clone(),
            (None, None) => String::new(),
        }
    }
}

/// The kernel's name as `uname -s` gives it (sysinfo's `System::name` is the
/// distribution's, e.g. `Debian GNU/Linux`).
fn os_name() -> Option<String> {
    match std::env::consts::OS {
        "linux" => Some("Linux".to_string()),
        "macos" => Some("Darwin".to_string()),
        "windows" => Some("Windows".to_string()),
        "" => None,
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_machine() {
        let machine = MachineFacts::detect();
        assert!(machine.memory_bytes.is_some_and(|bytes| bytes > 0));
        assert!(machine.arch.is_some());
        assert!(machine.kernel_release.is_some());
        #[cfg(target_os = "linux")]
        assert!(
            machine.kernel().starts_with("Linux "),
            "{}",
            machine.kernel()
        );
    }
}
