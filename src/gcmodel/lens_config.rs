//! What a modelled .NET GC lens is asked for (preset, modelled machine, framework overhead
//! per request) and its one resolution into what a [`GcModel`](super::GcModel) is built
//! from. `membench serve` and `membench run` both resolve their lens flags here, so the
//! defaults and the error a user sees are written once.

use super::machine::{DetectError, MachineSpec, ModelledMachine};
use super::preset::{GcOptions, Preset};

/// A lens as asked for on the command line (`--gc-model`, `--gc-machine`,
/// `--dotnet-overhead`); "off" is `Option<LensConfig>::None` at the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LensConfig {
    /// Server or workstation GC.
    pub preset: Preset,
    /// The machine the model sizes its budgets for: the article's, or this one.
    pub machine: ModelledMachine,
    /// Framework bytes per request (`--dotnet-overhead`); `None` for the default of the
    /// modelled machine's runtime.
    pub dotnet_overhead_bytes: Option<u64>,
}

impl Default for LensConfig {
    /// The server preset on the article's machine with its default overhead: what
    /// `membench serve` models unless told otherwise.
    fn default() -> Self {
        LensConfig {
            preset: Preset::Server,
            machine: ModelledMachine::Article,
            dotnet_overhead_bytes: None,
        }
    }
}

/// A lens ready to build a model from.
#[derive(Debug, Clone, Copy)]
pub struct ResolvedLens {
    pub preset: Preset,
    pub machine: MachineSpec,
    /// The runtime options, `--dotnet-overhead` applied.
    pub options: GcOptions,
}

/// `--gc-machine this` could not read this machine.
#[derive(Debug, thiserror::Error)]
#[error("--gc-machine this: {0}; use --gc-machine article (the article's machine) instead")]
pub struct LensError(#[from] pub DetectError);

impl LensConfig {
    /// Reads the machine (only `this` can fail) and applies the overhead.
    pub fn resolve(&self) -> Result<ResolvedLens, LensError> {
        let (machine, mut options) = self.machine.resolve()?;
        if let Some(bytes) = self.dotnet_overhead_bytes {
            options.framework_overhead_bytes = bytes;
        }
        Ok(ResolvedLens {
            preset: self.preset,
            machine,
            options,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overhead_replaces_the_runtimes_default() {
        let default = LensConfig::default().resolve().unwrap();
        assert_eq!(default.preset, Preset::Server);
        assert_eq!(default.machine, MachineSpec::article());
        assert_eq!(
            default.options.framework_overhead_bytes,
            GcOptions::article().framework_overhead_bytes
        );
        let lens = LensConfig {
            preset: Preset::Workstation,
            dotnet_overhead_bytes: Some(4096),
            ..LensConfig::default()
        };
        let resolved = lens.resolve().unwrap();
        assert_eq!(resolved.preset, Preset::Workstation);
        assert_eq!(resolved.options.framework_overhead_bytes, 4096);
    }

    #[test]
    fn the_error_names_the_flag_and_the_way_out() {
        let err = LensError(DetectError::NoCache {
            dir: "/sys/x".into(),
        });
        let message = err.to_string();
        assert!(
            message.starts_with("--gc-machine this: no cache sizes"),
            "{message}"
        );
        assert!(message.ends_with("use --gc-machine article (the article's machine) instead"));
    }
}
