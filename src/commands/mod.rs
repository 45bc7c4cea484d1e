//! One file per subcommand: each turns parsed arguments into calls on the library and
//! owns what is printed. No measurement logic lives here.

mod compare;
mod explain;
mod gallery;
mod list;
mod load;
mod run;
mod serve;
mod sweep;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// Runs the subcommand and returns its exit code.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve::serve(args),
        Command::Run(args) => run::run(args),
        Command::Compare(args) => compare::compare(args),
        Command::Sweep(args) => sweep::sweep(args),
        Command::List(args) => list::list(&args),
        Command::Gallery(args) => gallery::gallery(args),
        Command::Load(args) => load::load(args),
        Command::Explain(args) => explain::explain(args),
    }
}
