//! `membench load URL`: the load generator on its own against any http:// URL — no child
//! server, no sampling — printing the totals. It is what the benchmark against wrk drives,
//! and a quick way to see what a server does under a given load.
//!
//! Exit codes: 0 the run ended (request failures are counted, not fatal), 1 not a single
//! response came back, 2 a bad URL, 130 interrupted (the totals so far are printed).

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::Outcome;
use crate::cli::{LoadArgs, OutputFormat};
use crate::loadgen::report::{self, LoadReport, describe_errors};
use crate::loadgen::{LoadConfig, StopAt, Target, TargetError};
use crate::runner::interrupt;

/// Load duration when neither --duration nor --requests is given.
const DEFAULT_DURATION: Duration = Duration::from_secs(10);

pub fn load(args: LoadArgs) -> anyhow::Result<Outcome> {
    interrupt::arm();
    let report = match run_load(&args, interrupt::flag())? {
        Ok(report) => report,
        Err(bad_url) => {
            eprintln!("membench: {bad_url}");
            return Ok(Outcome::Usage);
        }
    };
    match args.format {
        OutputFormat::Text => print!("{}", report.to_text()),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    if report.interrupted {
        eprintln!("membench: interrupted; the totals above cover the load until then");
    } else if report.requests == 0 {
        eprintln!(
            "membench: no response came back from {} (errors: {}); is the server running?",
            report.url,
            describe_errors(&report.errors_by_kind)
        );
    }
    Ok(outcome(report.interrupted, report.requests))
}

/// Drives the URL until the run ends (or `interrupted` turns true) and sums it up; the
/// inner error is a URL that cannot be driven.
fn run_load(
    args: &LoadArgs,
    interrupted: &AtomicBool,
) -> anyhow::Result<Result<LoadReport, TargetError>> {
    let target = match Target::parse(&args.url) {
        Ok(target) => target,
        Err(err) => return Ok(Err(err)),
    };
    let stop = match args.requests {
        Some(requests) => StopAt::Requests(requests),
        None => StopAt::Duration(args.duration.unwrap_or(DEFAULT_DURATION)),
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let config = LoadConfig {
        addr: target.addr,
        host: target.host,
        paths: vec![target.path],
        connections: args.connections,
        threads,
        rate_per_s: args.rate,
        stop,
        timeout: args.timeout,
    };
    Ok(Ok(report::drive(&args.url, config, interrupted)?))
}

/// 130 interrupted, 1 when not a single response came back, 0 otherwise: failed requests
/// alone are results, not a failure of the command.
fn outcome(interrupted: bool, responses: u64) -> Outcome {
    if interrupted {
        Outcome::Interrupted
    } else if responses == 0 {
        Outcome::Failed
    } else {
        Outcome::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::OutputFormat;

    #[test]
    fn a_bad_url_is_refused_before_any_load() {
        let args = LoadArgs {
            url: "https://127.0.0.1/".to_string(),
            connections: 2,
            duration: None,
            requests: Some(40),
            rate: None,
            threads: Some(1),
            timeout: Duration::from_secs(5),
            format: OutputFormat::Json,
        };
        let never = AtomicBool::new(false);
        let err = run_load(&args, &never).unwrap().unwrap_err();
        assert!(err.to_string().contains("\"https://127.0.0.1/\""), "{err}");
    }

    #[test]
    fn no_response_fails_and_an_interrupt_is_said() {
        assert_eq!(outcome(false, 40), Outcome::Success);
        assert_eq!(outcome(false, 0), Outcome::Failed);
        assert_eq!(outcome(true, 0), Outcome::Interrupted);
    }
}
