//! One file per subcommand: parse → library call → print → exit code. No measurement
//! logic lives here; what a command decides is only how to say the result.
//!
//! Exit codes, the same for every command ([`Outcome`]): 0 success, 1 an error, a server
//! that died during a run or a results file that could not be written (a full disk),
//! 2 bad arguments, 3 an expectation failed under `--check`, 130 interrupted (Ctrl-C),
//! 143 terminated by SIGTERM or SIGHUP (whatever was measured is written either way).

mod compare;
mod completions;
mod explain;
mod gallery;
mod list;
mod load;
mod run;
mod serve;
mod sweep;
mod watch;

use std::process::ExitCode;

use crate::cli::{Cli, Command, GcModelArg, LensArgs};
use crate::gcmodel::Preset;
use crate::report::RunEnd;
use crate::runner::{LensChoice, PlanError};

/// Runs the subcommand and returns its exit code.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    // The process probe, read from MEMBENCH_PROBE once for the process's life.
    if let Err(message) = crate::memory::select_probe() {
        eprintln!("membench: {message}");
        return Ok(Outcome::Usage.into());
    }
    let outcome = match cli.command {
        Command::Serve(args) => serve::serve(args),
        Command::Run(args) => run::run(args),
        Command::Watch(args) => watch::watch(args),
        Command::Compare(args) => compare::compare(args),
        Command::Sweep(args) => sweep::sweep(args),
        Command::List(args) => list::list(&args),
        Command::Gallery(args) => gallery::gallery(args),
        Command::Load(args) => load::load(args),
        Command::Explain(args) => explain::explain(args),
        Command::Completions(args) => completions::completions(&args),
    }?;
    Ok(outcome.into())
}

/// How a command ended; [`ExitCode`] is derived from it in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    /// Exit 1: a server died during a run (what was sampled is written), a results file
    /// could not be written, no response came back, nothing to show.
    Failed,
    /// Bad arguments: nothing ran.
    Usage,
    /// The run completed and an expectation of `--check` failed.
    ChecksFailed,
    /// Ctrl-C (what was measured is written).
    Interrupted,
    /// SIGTERM or SIGHUP (what was measured is written).
    Terminated,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> ExitCode {
        ExitCode::from(match outcome {
            Outcome::Success => 0,
            Outcome::Failed => 1,
            Outcome::Usage => 2,
            Outcome::ChecksFailed => 3,
            Outcome::Interrupted => 130,
            Outcome::Terminated => 143,
        })
    }
}

impl Outcome {
    /// How a run's end reads as a command's outcome.
    pub(crate) fn of_run(end: &RunEnd) -> Outcome {
        match end {
            RunEnd::Completed => Outcome::Success,
            RunEnd::Interrupted => Outcome::Interrupted,
            RunEnd::Terminated => Outcome::Terminated,
            RunEnd::ServerDied(_) => Outcome::Failed,
        }
    }
}

/// A usage error is printed as one line and ends the command with exit code 2; any
/// other error goes up to `main`.
pub(crate) fn usage_or_error(err: PlanError, context: &str) -> anyhow::Result<Outcome> {
    match err {
        PlanError::Usage(message) => {
            eprintln!("membench: {context}{message}");
            Ok(Outcome::Usage)
        }
        PlanError::Other(err) => Err(err),
    }
}

impl LensArgs {
    /// `--gc-model` as the runner's choice (absent: the scenario's default).
    pub(crate) fn choice(&self) -> LensChoice {
        match self.gc_model {
            None => LensChoice::ScenarioDefault,
            Some(GcModelArg::None) => LensChoice::Off,
            Some(GcModelArg::Server) => LensChoice::On(Preset::Server),
            Some(GcModelArg::Workstation) => LensChoice::On(Preset::Workstation),
        }
    }
}
