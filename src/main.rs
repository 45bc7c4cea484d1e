//! The `membench` binary: parse the command line, hand it to the library, turn the
//! outcome into an exit code. Everything else lives in the library so tests can drive it.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = membench::cli::Cli::parse();
    match membench::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("membench: {err:#}");
            ExitCode::from(1)
        }
    }
}
