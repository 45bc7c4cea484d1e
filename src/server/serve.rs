//! `membench serve` as a process: choose the allocator, bind, announce, serve, stop.
//!
//! * **Allocator and counting are fixed before `main`.** The global allocator reads
//!   `MEMBENCH_ALLOCATOR` and `MEMBENCH_COUNTING` on its first call, which happens before
//!   any flag is parsed. When `--allocator` or `--no-counting` asks for something else, the
//!   process re-executes itself (same pid, same stdout) with the variables set. A marker
//!   variable stops a second re-exec: if the choice still does not hold after one, that is
//!   a bug to report, not a loop.
//! * **The first stdout line is the contract** with whoever started the server (the
//!   runner, scripts, tests): exactly `listening on http://ADDR` with the bound address
//!   (the real port when `--addr` asks for port 0), flushed at once. Logs go to stderr.
//! * **Where it listens.** A non-loopback address is refused without `--allow-remote`, and
//!   warned about with it (`guard.rs`); connections are served with a header-read timeout
//!   and a cap (`accept.rs`).
//! * **Stopping.** Ctrl-C or SIGTERM stops accepting connections and lets requests in
//!   flight finish; connections that are still open after [`SHUTDOWN_GRACE`] are dropped,
//!   so a keep-alive client cannot hold the server up.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::net::TcpListener;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

use super::accept::{ConnectionLimits, serve_connections};
use super::app;
use super::config::ServerConfig;
use super::state::AppState;
use crate::memory::{self, ALLOCATOR_ENV, COUNTING_ENV};

/// Set on the re-executed process, so it never re-executes again.
const REEXEC_ENV: &str = "MEMBENCH_REEXEC";

/// How long open connections may take to finish after Ctrl-C or SIGTERM. Below the
/// runner's own grace (5 s) before it kills the child.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// How long the runtime waits for blocking tasks (a diagnostics read, a trim) at exit.
const RUNTIME_SHUTDOWN: Duration = Duration::from_secs(1);

/// Runs `membench serve` until Ctrl-C or SIGTERM.
pub fn serve(config: ServerConfig) -> anyhow::Result<()> {
    reexec_if_needed(&config)?;
    memory::set_large_object_threshold(config.large_object_bytes);
    init_tracing();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("membench-worker")
        .build()
        .context("cannot start the tokio runtime")?;
    let result = runtime.block_on(run(config));
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    result
}

/// Replaces this process with itself when the allocator or counting it started with is
/// not the one asked for; returns when no re-exec is needed.
fn reexec_if_needed(config: &ServerConfig) -> anyhow::Result<()> {
    let active = memory::active_allocator();
    let counting = memory::counting_enabled();
    let want_counting = config.counting;
    if config.allocator == active && want_counting == counting {
        return Ok(());
    }
    let on_off = |on: bool| if on { "on" } else { "off" };
    if std::env::var_os(REEXEC_ENV).is_some() {
        bail!(
            "re-executed with {ALLOCATOR_ENV}={} and counting {}, but the process still runs \
             {active} with counting {}; this is a bug in membench's allocator switch",
            config.allocator,
            on_off(want_counting),
            on_off(counting),
        );
    }
    let exe = std::env::current_exe().context("cannot find the membench executable")?;
    let mut command = Command::new(&exe);
    command
        .args(std::env::args_os().skip(1))
        .env(ALLOCATOR_ENV, config.allocator.name())
        .env(REEXEC_ENV, "1");
    if want_counting {
        command.env_remove(COUNTING_ENV);
    } else {
        command.env(COUNTING_ENV, "off");
    }
    // exec only returns on failure.
    let err = command.exec();
    Err(err).with_context(|| {
        format!(
            "cannot re-execute {} to switch to the {} allocator",
            exe.display(),
            config.allocator
        )
    })
}

/// Logs on stderr; `RUST_LOG` filters (default `info`). Colours only on a terminal and
/// without `NO_COLOR`, so a log file (the runner's `server.log`) stays plain text.
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    // Fails only when a subscriber is already set (membench used as a library): keep it.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .try_init();
}

async fn run(mut config: ServerConfig) -> anyhow::Result<()> {
    super::guard::check_bind(config.self_addr, config.allow_remote).map_err(anyhow::Error::msg)?;
    let listener = TcpListener::bind(config.self_addr)
        .await
        .map_err(|err| bind_error(config.self_addr, err))?;
    let addr = listener
        .local_addr()
        .context("cannot read the address the server listens on")?;
    config.self_addr = addr;
    // Named with the bound address (the real port when --addr asked for port 0).
    let warning = super::guard::check_bind(addr, config.allow_remote).unwrap_or(None);
    let (leak_cap_bytes, max_size_bytes) = (config.leak_cap_bytes, config.max_size_bytes);
    let limits = ConnectionLimits {
        header_timeout: config.header_timeout,
        max_connections: config.max_connections,
    };
    let state = AppState::new(config).context("cannot set up the pattern endpoints")?;
    match &state.gc_lens {
        Some(lens) => {
            tracing::info!(
                "{} (--gc-model; `membench explain gc-model`)",
                lens.describe()
            );
            super::state::spawn_lens_ticker(&state)
                .context("cannot start the modelled GC lens's thread")?;
        }
        None => tracing::info!("modelled .NET GC lens off (--gc-model none)"),
    }
    super::history::spawn_history_sampler(&state)
        .context("cannot start the dashboard history's sampling thread")?;
    let stop_signals = StopSignals::install();
    announce(addr)?;
    if let Some(warning) = warning {
        // On stderr for the person who started it, and in the log.
        eprintln!("membench: {warning}");
        tracing::warn!("{warning}");
    }
    tracing::info!(
        %addr,
        allocator = %memory::active_allocator(),
        counting = memory::counting_enabled(),
        leak_cap_bytes,
        max_size_bytes,
        "serving"
    );

    let (stopping_tx, stopping_rx) = watch::channel(false);
    let server = serve_connections(listener, app(state), limits, async move {
        stop_signals.recv().await;
        let _ = stopping_tx.send(true);
    });
    tokio::select! {
        () = server => {}
        () = grace_expired(stopping_rx) => tracing::warn!(
            "connections still open {} s after the stop signal; closing them",
            SHUTDOWN_GRACE.as_secs()
        ),
    }
    tracing::info!("stopped");
    Ok(())
}

/// The bind failure, with what to do about it.
fn bind_error(addr: SocketAddr, err: std::io::Error) -> anyhow::Error {
    let hint = match err.kind() {
        std::io::ErrorKind::AddrInUse => {
            "another process listens there; pick another address with --addr \
             (e.g. --addr 127.0.0.1:0 for any free port)"
        }
        _ => "pick another address with --addr (e.g. --addr 127.0.0.1:0 for any free port)",
    };
    anyhow::anyhow!("cannot listen on {addr}: {err}; {hint}")
}

/// Prints the first stdout line and flushes it, so a reader waiting on it goes on now.
fn announce(addr: SocketAddr) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{addr}")
        .and_then(|()| stdout.flush())
        .context("cannot write the listening line to stdout")
}

/// Ctrl-C and SIGTERM, listened for from the moment this is built.
struct StopSignals {
    interrupt: Option<Signal>,
    terminate: Option<Signal>,
}

impl StopSignals {
    /// Installs the handlers now. Built before the listening line is printed, so a
    /// SIGTERM sent as soon as the server is announced stops it gracefully rather than by
    /// the default action (death, exit status 143).
    fn install() -> StopSignals {
        let install = |kind: SignalKind, name: &str| {
            signal(kind)
                .inspect_err(|err| tracing::warn!("cannot listen for {name}: {err}"))
                .ok()
        };
        StopSignals {
            interrupt: install(SignalKind::interrupt(), "Ctrl-C"),
            terminate: install(SignalKind::terminate(), "SIGTERM"),
        }
    }

    /// Resolves on the first Ctrl-C or SIGTERM.
    async fn recv(mut self) {
        async fn next(signal: &mut Option<Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = next(&mut self.interrupt) => tracing::info!("Ctrl-C: stopping"),
            () = next(&mut self.terminate) => tracing::info!("SIGTERM: stopping"),
        }
    }
}

/// Resolves [`SHUTDOWN_GRACE`] after the stop signal.
async fn grace_expired(mut stopping: watch::Receiver<bool>) {
    if stopping.wait_for(|stopping| *stopping).await.is_err() {
        // The server ended without a stop signal; the other branch has won already.
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(SHUTDOWN_GRACE).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_taken_address_is_a_clear_error_that_suggests_addr() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let err = run(ServerConfig {
            self_addr: addr,
            ..ServerConfig::default()
        })
        .await
        .unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains(&format!("cannot listen on {addr}")),
            "{message}"
        );
        assert!(message.contains("--addr"), "{message}");
    }
}
