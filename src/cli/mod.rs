//! The command line, as clap types only: every `///` here is help text a user reads.
//! Parsing of values with units (sizes, durations) lives in [`crate::units`], so the
//! error messages quote the bad input and name the expected form.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod runs;
mod watch;

use crate::units::{parse_count, parse_count_usize, parse_duration, parse_rate};
use runs::{COMPARE_EXAMPLES, RUN_EXAMPLES, SWEEP_EXAMPLES};
pub use runs::{CompareArgs, LensArgs, RunArgs, ServeArgs, SweepAllocatorArg, SweepArgs};
pub use watch::WatchArgs;

/// membench: make memory behaviour under load visible.
///
/// `membench serve` starts the pattern server (endpoints that each reproduce one memory
/// pattern, with its own measurements); `membench run SCENARIO` starts that server as a
/// child process, drives it with a built-in load generator, samples it and writes CSV,
/// JSON and a PNG chart.
#[derive(Debug, Parser)]
#[command(
    name = "membench",
    version = crate::build_info::LONG_VERSION,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pattern server (http://127.0.0.1:5000 by default).
    Serve(ServeArgs),
    /// Start the pattern server as a child, drive it with load, sample it, write results.
    #[command(after_help = RUN_EXAMPLES)]
    Run(RunArgs),
    /// Sample a target that another load engine drives (Locust, k6, Gatling): its
    /// --metrics endpoint and/or --pid, no load of membench's own; same results as `run`.
    #[command(after_help = watch::WATCH_EXAMPLES)]
    Watch(WatchArgs),
    /// Put 2 to 6 runs side by side on one memory scale, with a table of their numbers.
    #[command(after_help = COMPARE_EXAMPLES)]
    Compare(CompareArgs),
    /// Where are the allocators' large-object cliffs? One short run per size and
    /// allocator, RPS against size on a log axis, cliffs marked.
    #[command(after_help = SWEEP_EXAMPLES)]
    Sweep(SweepArgs),
    /// List the built-in scenarios (`--long`: what each teaches and expects).
    List(ListArgs),
    /// Write DIR/index.html: every comparison, run and sweep under DIR on one offline page,
    /// with charts, tables, verdicts and a paragraph per pair from the measured numbers.
    Gallery(GalleryArgs),
    /// Drive any http:// URL with the built-in load generator and print the totals
    /// (requests, RPS, status classes, errors by kind, latency percentiles).
    Load(LoadArgs),
    /// Explain a part of membench in plain text (e.g. `membench explain gc-model`).
    Explain(ExplainArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
}

impl Command {
    /// True for commands that only print (no server, no load, no socket), which may die
    /// quietly of SIGPIPE when their output is piped into `head`.
    pub fn only_prints(&self) -> bool {
        matches!(
            self,
            Command::List(_) | Command::Explain(_) | Command::Completions(_)
        )
    }
}

/// How much `membench list` says about each scenario.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Also print what each scenario teaches, where it comes from, its request, parameters,
    /// default load, its expectations and whether it feeds the modelled .NET GC.
    #[arg(long, short = 'l')]
    pub long: bool,

    /// List the runtimes `--runtime` can start instead (with their versions, or the Debian
    /// package that is missing).
    #[arg(long, conflicts_with = "long")]
    pub runtimes: bool,

    /// Format on stdout. json: every scenario with its request, parameters and their
    /// defaults, default load and expectations, as one JSON document and nothing else.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, conflicts_with = "runtimes")]
    pub format: OutputFormat,
}

/// Flags for a runtime's launcher or environment.
#[derive(Debug, Clone, Default, Args)]
pub struct RuntimeArgs {
    /// A flag for the runtime's launcher (repeatable), e.g. --runtime-arg -Xmx512m
    /// --runtime-arg -XX:G1HeapRegionSize=1m; `NAME=VALUE` sets the server's environment
    /// instead (GOGC=50, MONO_GC_PARAMS=…). The server reports the settings it runs with.
    #[arg(long = "runtime-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub runtime_arg: Vec<String>,
}

/// What `membench explain` can explain.
#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    /// The topic.
    #[arg(value_enum)]
    pub topic: ExplainTopic,
}

/// Topics of `membench explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainTopic {
    /// The modelled .NET GC lens: what it models, from which sources, and every
    /// simplification.
    GcModel,
}

/// Which modelled .NET GC to draw next to the real series (`--gc-model`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GcModelArg {
    /// No modelled lens.
    None,
    /// Server GC: one heap per core, the article's configuration (ASP.NET's default).
    Server,
    /// Workstation GC: one heap, smaller budgets.
    Workstation,
}

/// Which machine the modelled .NET GC sizes its budgets for (`--gc-machine`); see
/// [`crate::gcmodel::ModelledMachine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GcMachineArg {
    /// The article's machine (20 MiB L3, 8 cores), so its charts are reproduced anywhere.
    Article,
    /// This machine: L3 from sysfs, cores from the scheduler, memory from the OS.
    This,
}

impl From<GcMachineArg> for crate::gcmodel::ModelledMachine {
    fn from(arg: GcMachineArg) -> Self {
        match arg {
            GcMachineArg::Article => crate::gcmodel::ModelledMachine::Article,
            GcMachineArg::This => crate::gcmodel::ModelledMachine::This,
        }
    }
}

/// The directory a gallery is made from.
#[derive(Debug, Clone, Args)]
pub struct GalleryArgs {
    /// Directory holding the outputs of `membench compare --out`, `membench run --out` and
    /// `membench sweep --out`, one per subdirectory (e.g. results/gallery).
    pub dir: PathBuf,
}

/// How the table of `compare` and `sweep` is printed on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormatArg {
    /// Aligned columns for the terminal, then the cliff lines and the results directory.
    Text,
    /// A GitHub-flavoured Markdown table.
    Markdown,
    /// The JSON file the command writes (compare.json, sweep.json), and nothing else.
    Json,
}

/// A load run against any URL, without sampling: the generator on its own.
#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// The URL to request, e.g. http://127.0.0.1:5000/api/ping (http:// only; the port
    /// defaults to 80).
    pub url: String,

    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32, value_parser = parse_count_usize, allow_hyphen_values = true)]
    pub connections: usize,

    /// How long to drive load (e.g. 10s, 1m); 10s when neither this nor --requests is given.
    #[arg(long, value_parser = parse_duration, allow_hyphen_values = true)]
    pub duration: Option<Duration>,

    /// Stop after exactly this many requests (responses plus failures) instead of a duration.
    #[arg(long, conflicts_with = "duration", value_parser = parse_count, allow_hyphen_values = true)]
    pub requests: Option<u64>,

    /// Open loop at this many requests per second (e.g. 5000, 5k): latency then counts
    /// from each request's intended send time. Closed loop without it.
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<f64>,

    /// Load-generator threads (default: one per core).
    #[arg(long, value_parser = parse_count_usize, allow_hyphen_values = true)]
    pub threads: Option<usize>,

    /// Per-request timeout (e.g. 10s, 500ms).
    #[arg(long, default_value = "10s", value_parser = parse_duration, allow_hyphen_values = true)]
    pub timeout: Duration,

    /// Format of the totals on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// How results are printed on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// Which shell `membench completions` writes a script for.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  membench completions bash > ~/.local/share/bash-completion/completions/membench
  membench completions zsh > ~/.zfunc/_membench      # with fpath+=~/.zfunc before compinit
  membench completions fish > ~/.config/fish/completions/membench.fish
  membench completions powershell >> $PROFILE";

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// The run flags whose defaults live in the runner say those defaults in their help.
    #[test]
    fn run_help_states_the_runners_defaults() {
        let mut command = Cli::command();
        let run = command.find_subcommand_mut("run").unwrap();
        let defaults = crate::runner::RunRequest::default();
        for (flag, default) in [
            ("timeout", defaults.timeout),
            ("warmup", defaults.warmup),
            ("interval", defaults.interval),
        ] {
            let arg = run.get_arguments().find(|a| a.get_id() == flag).unwrap();
            let help = arg.get_help().unwrap().to_string();
            let stated = format!("default {}", humantime::format_duration(default));
            assert!(
                help.contains(&stated),
                "--{flag}: {help:?} lacks {stated:?}"
            );
        }
    }
}
