//! The runtimes a run's server can be written in: Rust (`membench serve`, the counting
//! allocator) or one of the reference pattern servers under `runtimes/` — Mono (.NET,
//! SGen), the JVM (G1), Node.js (V8), Go — whose collectors really run and which report
//! them, measured, in the diagnostics contract (version 2).
//!
//! The reference sources are embedded in the binary, so an installed membench needs no
//! checkout: they are written to `$XDG_CACHE_HOME/membench/runtimes/<hash>/` (else
//! `~/.cache/…`) when first used and compiled there (`mcs`, `javac`, `go build` with no
//! module downloads); Node runs its file as is. The toolchains come from Debian; a missing
//! one is named with the package that installs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

const MONO_SOURCE: &str = include_str!("../../runtimes/mono/Server.cs");
const JVM_SOURCE: &str = include_str!("../../runtimes/jvm/Server.java");
const NODE_SOURCE: &str = include_str!("../../runtimes/node/server.js");
const GO_SOURCE: &str = include_str!("../../runtimes/go/server.go");

/// The language runtime of a run's server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Runtime {
    /// `membench serve`: the counting allocator, no collector (the modelled .NET GC lens).
    #[default]
    Rust,
    /// Mono (C#, SGen), `runtimes/mono/Server.cs`.
    Mono,
    /// OpenJDK (Java, G1 by default), `runtimes/jvm/Server.java`.
    Jvm,
    /// Node.js (V8), `runtimes/node/server.js`.
    Node,
    /// Go, `runtimes/go/server.go`.
    Go,
}

impl Runtime {
    /// Every runtime, Rust first.
    pub const ALL: [Runtime; 5] = [
        Runtime::Rust,
        Runtime::Mono,
        Runtime::Jvm,
        Runtime::Node,
        Runtime::Go,
    ];

    /// The name on the command line and in directory names.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Rust => "rust",
            Runtime::Mono => "mono",
            Runtime::Jvm => "jvm",
            Runtime::Node => "node",
            Runtime::Go => "go",
        }
    }

    /// Parses `rust|mono|jvm|node|go`; the error quotes the input.
    pub fn parse(text: &str) -> Result<Runtime, String> {
        Runtime::ALL
            .into_iter()
            .find(|runtime| runtime.name() == text.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                format!("unknown runtime \"{text}\": expected one of rust, mono, jvm, node, go")
            })
    }

    /// The Debian packages that provide the toolchain.
    pub fn packages(self) -> &'static str {
        match self {
            Runtime::Rust => "",
            Runtime::Mono => {
                "mono-runtime mono-mcs libmono-system-net-http4.0-cil libmono-system4.0-cil libmono-system-core4.0-cil libmono-posix4.0-cil"
            }
            Runtime::Jvm => "openjdk-17-jdk-headless",
            Runtime::Node => "nodejs",
            Runtime::Go => "golang-go",
        }
    }

    /// The programs the runtime needs.
    fn tools(self) -> &'static [&'static str] {
        match self {
            Runtime::Rust => &[],
            Runtime::Mono => &["mcs", "mono"],
            Runtime::Jvm => &["javac", "java"],
            Runtime::Node => &["node"],
            Runtime::Go => &["go"],
        }
    }

    /// The toolchain's version (`6.8.0.105`, `openjdk 17.0.15 …`), or what to install.
    pub fn check(self) -> Result<String, String> {
        if self == Runtime::Rust {
            return Ok(env!("CARGO_PKG_VERSION").to_string());
        }
        if let Some(missing) = self
            .tools()
            .iter()
            .find(|tool| find_program(tool).is_none())
        {
            return Err(format!(
                "--runtime {} needs `{missing}`, which is not on PATH: install it with `sudo apt-get install {}`",
                self.name(),
                self.packages()
            ));
        }
        let (program, arg) = match self {
            Runtime::Mono => ("mono", "--version"),
            Runtime::Jvm => ("java", "-version"),
            Runtime::Node => ("node", "--version"),
            _ => ("go", "version"),
        };
        let output = Command::new(program)
            .arg(arg)
            .output()
            .map_err(|err| format!("cannot run `{program} {arg}`: {err}"))?;
        let text = [output.stdout, output.stderr].concat();
        Ok(String::from_utf8_lossy(&text)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string())
    }

    /// Checks `--runtime-arg`s: `NAME=VALUE` (upper-case name) is set in the server's
    /// environment (`GOGC=50`, `MONO_GC_PARAMS=…`); anything else goes to the launcher
    /// before the program (`java -Xmx512m`, `mono --gc=…`, `node --max-semi-space-size=…`).
    pub fn check_args(self, args: &[String]) -> Result<(), String> {
        for arg in args {
            if is_env_assignment(arg) {
                continue;
            }
            match self {
                Runtime::Rust => {
                    return Err(format!(
                        "--runtime-arg \"{arg}\": the Rust server takes no runtime arguments (use --allocator)"
                    ));
                }
                Runtime::Go => {
                    return Err(format!(
                        "--runtime-arg \"{arg}\": a Go program takes its runtime settings from the environment, e.g. --runtime-arg GOGC=50 or GOMEMLIMIT=256MiB"
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Writes the embedded source to the cache, compiles it when not compiled yet, and
    /// returns the command that starts the server (without `--addr`). `args` are the
    /// `--runtime-arg`s. Not for Rust.
    pub fn command(self, args: &[String]) -> anyhow::Result<Command> {
        let (file, source) = match self {
            Runtime::Rust => bail!("the Rust server is `membench serve`, not a runtime source"),
            Runtime::Mono => ("Server.cs", MONO_SOURCE),
            Runtime::Jvm => ("Server.java", JVM_SOURCE),
            Runtime::Node => ("server.js", NODE_SOURCE),
            Runtime::Go => ("server.go", GO_SOURCE),
        };
        let dir = cache_root().join(format!("{}-{:016x}", self.name(), fnv1a(source)));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the runtime cache {}", dir.display()))?;
        let source_path = dir.join(file);
        if std::fs::read_to_string(&source_path).ok().as_deref() != Some(source) {
            std::fs::write(&source_path, source)
                .with_context(|| format!("cannot write {}", source_path.display()))?;
        }
        let (env, launcher): (Vec<&String>, Vec<&String>) =
            args.iter().partition(|arg| is_env_assignment(arg));
        let mut command = match self {
            Runtime::Mono => {
                let exe = dir.join("Server.exe");
                build(&dir, &exe, "mcs", |c| {
                    c.args(["-nologo", "-warn:0", "-out:Server.exe.partial"])
                        .args(["-r:System.Net.Http.dll", "-r:Mono.Posix.dll", file]);
                })?;
                let mut command = Command::new("mono");
                command.args(&launcher).arg(exe);
                command
            }
            Runtime::Jvm => {
                let class = dir.join("classes");
                build(&dir, &class, "javac", |c| {
                    c.args(["-nowarn", "-d", "classes.partial", file]);
                })?;
                let mut command = Command::new("java");
                command.args(&launcher).arg("-cp").arg(class).arg("Server");
                command
            }
            Runtime::Node => {
                let mut command = Command::new("node");
                command.args(&launcher).arg(&source_path);
                command
            }
            _ => {
                let exe = dir.join("server");
                build(&dir, &exe, "go", |c| {
                    c.args(["build", "-o", "server.partial", file])
                        .env("GO111MODULE", "off")
                        .env("GOFLAGS", "")
                        .env("GOCACHE", dir.join("gocache"));
                })?;
                Command::new(exe)
            }
        };
        for assignment in env {
            if let Some((name, value)) = assignment.split_once('=') {
                command.env(name, value);
            }
        }
        Ok(command)
    }
}

/// `GOGC=50`, `MONO_GC_PARAMS=…`: an environment assignment, not a launcher flag.
fn is_env_assignment(arg: &str) -> bool {
    arg.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.starts_with(|c: char| c.is_ascii_uppercase())
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    })
}

/// Compiles into `<output>.partial` in `dir` and renames it to `output`, once: a built
/// output is reused (its directory's name is the source's hash).
fn build(
    dir: &Path,
    output: &Path,
    compiler: &str,
    args: impl FnOnce(&mut Command),
) -> anyhow::Result<()> {
    if output.exists() {
        return Ok(());
    }
    let partial = output.with_extension(match output.extension() {
        Some(ext) => format!("{}.partial", ext.to_string_lossy()),
        None => "partial".to_string(),
    });
    let _ = std::fs::remove_dir_all(&partial);
    let mut command = Command::new(compiler);
    command.current_dir(dir);
    args(&mut command);
    let result = command
        .output()
        .with_context(|| format!("cannot run `{compiler}`"))?;
    if !result.status.success() {
        bail!(
            "`{compiler}` failed to build the server in {}: {}{}",
            dir.display(),
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        );
    }
    std::fs::rename(&partial, output)
        .with_context(|| format!("cannot move {} into place", partial.display()))
}

/// `$XDG_CACHE_HOME/membench/runtimes`, else `~/.cache/membench/runtimes`, else the
/// temporary directory's.
fn cache_root() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("membench").join("runtimes")
}

fn find_program(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// FNV-1a, 64 bits: the cache directory's name for one source text.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_bad_names_are_quoted() {
        for runtime in Runtime::ALL {
            assert_eq!(Runtime::parse(runtime.name()), Ok(runtime));
        }
        let err = Runtime::parse("dotnet").unwrap_err();
        assert!(err.contains("\"dotnet\"") && err.contains("mono"), "{err}");
    }

    #[test]
    fn runtime_args_split_into_environment_and_launcher_flags() {
        assert!(is_env_assignment("GOGC=50"));
        assert!(is_env_assignment("MONO_GC_PARAMS=nursery-size=64m"));
        assert!(!is_env_assignment("-XX:G1HeapRegionSize=1m"));
        assert!(!is_env_assignment("--max-semi-space-size=64"));
        assert!(Runtime::Jvm.check_args(&["-Xmx512m".into()]).is_ok());
        assert!(Runtime::Go.check_args(&["GOGC=50".into()]).is_ok());
        let err = Runtime::Go.check_args(&["-gcflags".into()]).unwrap_err();
        assert!(
            err.contains("\"-gcflags\"") && err.contains("GOGC"),
            "{err}"
        );
        assert!(Runtime::Rust.check_args(&["-Xmx1g".into()]).is_err());
    }
}
