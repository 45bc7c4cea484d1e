//! The child server: `membench serve --addr 127.0.0.1:0 --allocator X` started from the
//! current executable, so every byte measured is the server's and none is the load
//! generator's — or a reference server of another runtime (`--runtime`, see
//! [`Runtime`]), started the same way.
//!
//! Never an orphan: the child asks the kernel for SIGTERM when its parent dies
//! (`PR_SET_PDEATHSIG`, which also covers the parent being SIGKILLed), and dropping
//! [`ChildServer`] stops it (SIGTERM, then SIGKILL after a grace period), which covers
//! errors, panics (unwinding) and Ctrl-C in the runner. The child runs in its own process
//! group so the terminal's Ctrl-C goes to the runner alone: the run ends with a last sample
//! of a server that is still alive, and then the runner stops it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::runtime::Runtime;
use crate::memory::{ALLOCATOR_ENV, AllocatorKind};

/// How long the child may take to print its listening line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(15);
/// The same for a reference server of another runtime (a JVM, Mono).
const RUNTIME_STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the child may take to stop after SIGTERM before it is killed.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running child server.
pub struct ChildServer {
    child: Child,
    /// Where the child listens, read from its first stdout line.
    pub addr: SocketAddr,
    /// How the child ended, once known.
    exit: Option<ExitStatus>,
}

impl ChildServer {
    /// Starts the server with the given allocator and extra `serve` flags; its stderr (the
    /// server's log) goes to `log_path`. Returns once it listens.
    pub fn spawn(
        allocator: AllocatorKind,
        extra_args: &[String],
        log_path: &Path,
    ) -> anyhow::Result<ChildServer> {
        let exe = std::env::current_exe().context("cannot find the membench executable")?;
        let mut command = Command::new(&exe);
        command.args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--allocator",
            allocator.name(),
        ]);
        // A child models no .NET GC unless the caller asks (`membench run` passes its own
        // lens, for the child's dashboard); clap refuses a flag given twice.
        let asks_for_gc_model = extra_args
            .iter()
            .any(|arg| arg == "--gc-model" || arg.starts_with("--gc-model="));
        if !asks_for_gc_model {
            command.args(["--gc-model", "none"]);
        }
        command
            .args(extra_args)
            // Set before the child's first allocation: no re-exec needed.
            .env(ALLOCATOR_ENV, allocator.name());
        ChildServer::start(command, log_path, STARTUP_TIMEOUT)
    }

    /// Starts a reference pattern server of another runtime (compiled into the cache
    /// first when needed), with its `--runtime-arg`s. Returns once it listens.
    pub fn spawn_runtime(
        runtime: Runtime,
        runtime_args: &[String],
        log_path: &Path,
    ) -> anyhow::Result<ChildServer> {
        let mut command = runtime
            .command(runtime_args)
            .with_context(|| format!("cannot prepare the {} server", runtime.name()))?;
        command.args(["--addr", "127.0.0.1:0"]);
        // A JVM or Mono start on a busy machine takes seconds, not milliseconds.
        ChildServer::start(command, log_path, RUNTIME_STARTUP_TIMEOUT)
    }

    /// Starts `command` as the child server and waits for its listening line.
    fn start(
        mut command: Command,
        log_path: &Path,
        startup_timeout: Duration,
    ) -> anyhow::Result<ChildServer> {
        let log = std::fs::File::create(log_path)
            .with_context(|| format!("cannot create the server log {}", log_path.display()))?;
        let program = command.get_program().to_string_lossy().into_owned();
        command
            // Its own process group: a Ctrl-C at the terminal reaches the runner only, which
            // then takes the last sample and stops the child itself.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        // SAFETY: prctl is async-signal-safe and allocates nothing; it runs in the forked
        // child before exec. Linux only: elsewhere a child outliving a killed runner is
        // ended by the runner's own SIGTERM on every normal exit path.
        #[cfg(target_os = "linux")]
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start the server {program}"))?;
        let stdout = child
            .stdout
            .take()
            .context("the server's stdout is not piped")?;

        // Read the listening line on a thread so a silent child cannot hang us.
        let (line_tx, line_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("child-stdout".into())
            .spawn(move || {
                let mut lines = BufReader::new(stdout).lines();
                let first = lines.next();
                let _ = line_tx.send(first);
                // Keep draining so the child never blocks on a full pipe.
                for _ in lines {}
            })
            .context("cannot start the thread reading the server's output")?;

        let mut server = ChildServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            exit: None,
        };
        let first_line = match line_rx.recv_timeout(startup_timeout) {
            Ok(Some(Ok(line))) => line,
            Ok(_) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                let how = server
                    .wait_briefly()
                    .map(describe_exit)
                    .unwrap_or_else(|| "closed its output".to_string());
                bail!(
                    "the server {how} before it was listening; its log is in {}",
                    log_path.display()
                );
            }
            Err(mpsc::RecvTimeoutError::Timeout) => bail!(
                "the server printed no `listening on` line within {}s; its log is in {}",
                startup_timeout.as_secs(),
                log_path.display()
            ),
        };
        server.addr = parse_listening_line(&first_line).with_context(|| {
            format!(
                "the server's first line was \"{first_line}\", expected \"listening on http://ADDR\""
            )
        })?;
        Ok(server)
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How the child ended, if it has.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().ok().flatten();
        }
        self.exit
    }

    fn wait_briefly(&mut self) -> Option<ExitStatus> {
        let deadline = Instant::now() + Duration::from_millis(500);
        while Instant::now() < deadline {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Stops the child: SIGTERM (graceful shutdown), then SIGKILL after a grace period.
    /// Returns how it ended.
    pub fn shutdown(&mut self) -> Option<ExitStatus> {
        if let Some(status) = self.exited() {
            return Some(status);
        }
        // SAFETY: kill with a pid we own; the child has not been reaped (exited() is None).
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        while Instant::now() < deadline {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        self.exit = self.child.wait().ok();
        self.exit
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Parses `listening on http://127.0.0.1:PORT`.
pub fn parse_listening_line(line: &str) -> Option<SocketAddr> {
    line.trim()
        .strip_prefix("listening on http://")?
        .trim_end_matches('/')
        .parse()
        .ok()
}

/// Says how a process ended, in words: "exited with status 1", "was killed by SIGKILL
/// (signal 9; often the kernel's out-of-memory killer)".
pub fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    match status.signal() {
        Some(signal) => {
            let name = match signal {
                libc::SIGKILL => "SIGKILL",
                libc::SIGTERM => "SIGTERM",
                libc::SIGSEGV => "SIGSEGV",
                libc::SIGABRT => "SIGABRT",
                libc::SIGINT => "SIGINT",
                libc::SIGBUS => "SIGBUS",
                _ => "a signal",
            };
            let hint = if signal == libc::SIGKILL {
                "; often the kernel's out-of-memory killer, see `dmesg`"
            } else {
                ""
            };
            format!("was killed by {name} (signal {signal}{hint})")
        }
        None => format!("ended ({status})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_listening_line() {
        assert_eq!(
            parse_listening_line("listening on http://127.0.0.1:4321"),
            Some("127.0.0.1:4321".parse().unwrap())
        );
        assert_eq!(parse_listening_line("hello"), None);
    }

    #[test]
    fn describes_signals_and_codes() {
        assert_eq!(
            describe_exit(ExitStatus::from_raw(1 << 8)),
            "exited with status 1"
        );
        let killed = describe_exit(ExitStatus::from_raw(libc::SIGKILL));
        assert!(
            killed.contains("SIGKILL") && killed.contains("out-of-memory"),
            "{killed}"
        );
    }
}
