//! The `membench` binary: parse the command line, hand it to the library, turn the
//! outcome into an exit code. Everything else lives in the library so tests can drive it.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = membench::cli::Cli::parse();
    if cli.command.only_prints() {
        // `membench list --long | head` should end quietly like any Unix filter, not panic
        // on a closed pipe. Only for commands that touch no socket: Rust ignores SIGPIPE so
        // that a peer closing a connection is an error to handle, not a killed server.
        // SAFETY: resetting a signal to its default disposition before any thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    match membench::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("membench: {err:#}");
            ExitCode::from(1)
        }
    }
}
