//! The flags of `membench watch`: sample a target while another load engine drives it.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::OutputFormat;
use crate::units::parse_duration;

pub(super) const WATCH_EXAMPLES: &str = "\
Examples:
  membench watch --metrics http://10.0.0.5:8080/metrics --duration 10m
  membench watch --metrics http://127.0.0.1:5000/metrics --rps-metric membench_requests_total
  membench watch --pid 1234 --scenario ./my-service.toml --duration 5m --check

Samples until --duration ends or Ctrl-C (SIGTERM), and writes samples.csv (as it goes),
summary.json, chart.png and chart.svg into --out. Exit codes as `membench run`: 0
completed; 1 the process died or an error; 2 bad arguments; 3 an expectation failed
under --check; 130 interrupted (the samples so far are written); 143 terminated.";

/// `membench watch`.
#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// The target's Prometheus/OpenMetrics endpoint, scraped each interval (nothing reads
    /// /proc of the target unless --pid is given too).
    #[arg(long)]
    pub metrics: Option<String>,

    /// A process on this machine, sampled from /proc.
    #[arg(long)]
    pub pid: Option<u32>,

    /// A scenario name or file whose `[expect]` section --check checks (and whose chart
    /// resources are drawn).
    #[arg(long)]
    pub scenario: Option<String>,

    /// How long to watch (e.g. 90s, 10m); until Ctrl-C without it (at most a day).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Sampling interval (e.g. 250ms, 1s; default 250ms).
    #[arg(long, value_parser = parse_duration)]
    pub interval: Option<Duration>,

    /// Results directory (default: results/watch-<scenario>-<UTC time>).
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Write into --out even when it already holds files (they are overwritten).
    #[arg(long)]
    pub force: bool,

    /// The target's request counter on the --metrics page (e.g.
    /// membench_requests_total, http_requests_total): RPS is its rate. Without it RPS is
    /// absent, not zero.
    #[arg(long, requires = "metrics")]
    pub rps_metric: Option<String>,

    /// Keep the --metrics series whose `name{labels}` matches this regex in samples.csv: a
    /// `metric:name{labels}` column each for those on the page at the start, the
    /// metrics_extra cell for those that appear later.
    #[arg(long, requires = "metrics")]
    pub metrics_include: Option<String>,

    /// Exit with status 3 when the watch does not show what the scenario's `[expect]`
    /// section says.
    #[arg(long, requires = "scenario")]
    pub check: bool,

    /// Format of the summary on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}
