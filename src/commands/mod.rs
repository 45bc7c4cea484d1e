//! One file per subcommand: each turns parsed arguments into calls on the library and
//! owns what is printed. No measurement logic lives here.

mod list;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// Runs the subcommand and returns its exit code.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(_args) => anyhow::bail!("serve is not built yet"),
        Command::Run(_args) => anyhow::bail!("run is not built yet"),
        Command::List => list::list(),
    }
}
