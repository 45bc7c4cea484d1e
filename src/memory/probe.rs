//! Which process probe this membench uses, chosen once at startup: the Linux one
//! (`/proc/<pid>`: RSS, anonymous RSS, CPU, faults, threads, fds, TCP states) where there
//! is `/proc`, the portable one (`sysinfo`: RSS, CPU, threads where sysinfo has them)
//! everywhere else, or on Linux too with `MEMBENCH_PROBE=portable` so that path is
//! tested here.

use std::sync::OnceLock;

/// The environment variable that chooses the probe.
pub const PROBE_ENV: &str = "MEMBENCH_PROBE";

/// A process probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    /// `/proc/<pid>` through procfs: every figure.
    #[cfg(target_os = "linux")]
    Linux,
    /// `sysinfo`, on any OS: RSS, CPU seconds, threads where sysinfo has them.
    Portable,
}

impl ProbeKind {
    /// The probe of this platform when `MEMBENCH_PROBE` is unset.
    pub fn platform_default() -> ProbeKind {
        #[cfg(target_os = "linux")]
        return ProbeKind::Linux;
        #[cfg(not(target_os = "linux"))]
        return ProbeKind::Portable;
    }

    /// The name `MEMBENCH_PROBE` takes.
    pub fn name(self) -> &'static str {
        match self {
            #[cfg(target_os = "linux")]
            ProbeKind::Linux => "linux",
            ProbeKind::Portable => "portable",
        }
    }

    /// Parses a `MEMBENCH_PROBE` value; the error quotes it and says what to use.
    pub fn parse(text: &str) -> Result<ProbeKind, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "portable" => Ok(ProbeKind::Portable),
            #[cfg(target_os = "linux")]
            "linux" => Ok(ProbeKind::Linux),
            #[cfg(not(target_os = "linux"))]
            "linux" => Err(format!(
                "{PROBE_ENV}=\"{text}\": the linux probe reads /proc, which this OS does not \
                 have; unset {PROBE_ENV} or set it to portable"
            )),
            _ => Err(format!(
                "unknown {PROBE_ENV}=\"{text}\"; expected linux (/proc, every figure, Linux \
                 only) or portable (sysinfo: RSS, CPU and threads, any OS), or leave it unset"
            )),
        }
    }

    /// The probe `MEMBENCH_PROBE` asks for (the platform's when unset or empty).
    pub fn from_env() -> Result<ProbeKind, String> {
        match std::env::var(PROBE_ENV) {
            Ok(text) if !text.trim().is_empty() => ProbeKind::parse(&text),
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(ProbeKind::platform_default()),
            Err(std::env::VarError::NotUnicode(raw)) => Err(format!(
                "{PROBE_ENV}={raw:?} is not text; set it to linux or portable, or unset it"
            )),
        }
    }
}

static PROBE: OnceLock<ProbeKind> = OnceLock::new();

/// Reads `MEMBENCH_PROBE` once, at startup, and fixes the probe for the process's life.
/// Fails (to be reported as a usage error) on a value that names no probe.
pub fn select_probe() -> Result<ProbeKind, String> {
    let kind = ProbeKind::from_env()?;
    Ok(*PROBE.get_or_init(|| kind))
}

/// The probe chosen at startup; the platform's when [`select_probe`] was never called
/// (library tests).
pub fn probe_kind() -> ProbeKind {
    *PROBE.get_or_init(ProbeKind::platform_default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_anything_else_is_refused_with_the_value_quoted() {
        assert_eq!(ProbeKind::parse("portable"), Ok(ProbeKind::Portable));
        assert_eq!(ProbeKind::parse(" Portable "), Ok(ProbeKind::Portable));
        let kind = ProbeKind::platform_default();
        assert_eq!(ProbeKind::parse(kind.name()), Ok(kind));
        let err = ProbeKind::parse("procfs").unwrap_err();
        assert!(
            err.contains("\"procfs\"") && err.contains("portable"),
            "{err}"
        );
    }
}
