//! `membench load URL`: the load generator on its own against any http:// URL — no child
//! server, no sampling — printing the totals. It is what the benchmark against wrk drives,
//! and a quick way to see what a server does under a given load.
//!
//! Exit codes: 0 the run ended (request failures are counted, not fatal), 1 not a single
//! response came back, 2 a bad URL, 130 interrupted (the totals so far are printed).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::cli::{LoadArgs, OutputFormat};
use crate::format::format_bytes;
use crate::loadgen::{self, IntervalStats, LoadConfig, StopAt, Target, TargetError};
use crate::runner::interrupt;

/// Load duration when neither --duration nor --requests is given.
const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// How often the command checks whether load ended or Ctrl-C arrived.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

pub fn load(args: LoadArgs) -> anyhow::Result<ExitCode> {
    interrupt::arm();
    let report = match run_load(&args, interrupt::flag())? {
        Ok(report) => report,
        Err(bad_url) => {
            eprintln!("membench: {bad_url}");
            return Ok(ExitCode::from(2));
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
    Ok(exit_code(&report))
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
    let threads = threads.min(args.connections);

    let started = Instant::now();
    let handle = loadgen::start(config)?;
    let mut was_interrupted = false;
    while !handle.is_finished() {
        if interrupted.load(Ordering::SeqCst) {
            was_interrupted = true;
            handle.stop();
            break;
        }
        std::thread::sleep(POLL_INTERVAL);
    }
    let total = handle.finish().total;
    let elapsed = started.elapsed();
    Ok(Ok(LoadReport::new(
        args,
        threads,
        elapsed,
        &total,
        was_interrupted,
    )))
}

/// 130 interrupted, 1 when not a single response came back, 0 otherwise: failed requests
/// alone are results, not a failure of the command.
fn exit_code(report: &LoadReport) -> ExitCode {
    if report.interrupted {
        ExitCode::from(130)
    } else if report.requests == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The totals of a `membench load` run; the `--format json` output.
#[derive(Debug, Serialize)]
struct LoadReport {
    url: String,
    connections: usize,
    threads: usize,
    /// Open-loop rate asked for; `null` for closed loop.
    rate_per_s: Option<f64>,
    timeout_s: f64,
    /// Wall time from the start of load to its end.
    elapsed_s: f64,
    interrupted: bool,
    /// Responses of any status.
    requests: u64,
    /// Responses per second over `elapsed_s`.
    rps: f64,
    status_2xx: u64,
    status_3xx: u64,
    status_4xx: u64,
    status_5xx: u64,
    /// Requests that got no response.
    errors: u64,
    errors_by_kind: BTreeMap<String, u64>,
    late_sends: u64,
    body_bytes: u64,
    latency_us: LatencyReport,
}

/// Latency percentiles in microseconds; all `null` without a response.
#[derive(Debug, Serialize)]
struct LatencyReport {
    p50: Option<u64>,
    p90: Option<u64>,
    p99: Option<u64>,
    p999: Option<u64>,
    max: Option<u64>,
    mean: Option<f64>,
}

impl LatencyReport {
    fn new(histogram: &Histogram<u64>) -> LatencyReport {
        let quantile = |q: f64| (!histogram.is_empty()).then(|| histogram.value_at_quantile(q));
        LatencyReport {
            p50: quantile(0.50),
            p90: quantile(0.90),
            p99: quantile(0.99),
            p999: quantile(0.999),
            max: (!histogram.is_empty()).then(|| histogram.max()),
            mean: (!histogram.is_empty()).then(|| histogram.mean()),
        }
    }
}

impl LoadReport {
    fn new(
        args: &LoadArgs,
        threads: usize,
        elapsed: Duration,
        total: &IntervalStats,
        interrupted: bool,
    ) -> LoadReport {
        let elapsed_s = elapsed.as_secs_f64();
        LoadReport {
            url: args.url.clone(),
            connections: args.connections,
            threads,
            rate_per_s: args.rate,
            timeout_s: args.timeout.as_secs_f64(),
            elapsed_s,
            interrupted,
            requests: total.requests,
            rps: total.requests as f64 / elapsed_s.max(1e-9),
            status_2xx: total.status_2xx,
            status_3xx: total.status_3xx,
            status_4xx: total.status_4xx,
            status_5xx: total.status_5xx,
            errors: total.errors(),
            errors_by_kind: total.errors_by_kind.clone(),
            late_sends: total.late_sends,
            body_bytes: total.body_bytes,
            latency_us: LatencyReport::new(&total.latency_us),
        }
    }

    fn to_text(&self) -> String {
        let mode = match self.rate_per_s {
            Some(rate) => format!("open loop at {rate} RPS"),
            None => "closed loop".to_string(),
        };
        let mut text = String::new();
        text.push_str(&format!("target     {}\n", self.url));
        text.push_str(&format!(
            "load       {} connections on {} threads, {mode}, {:.2} s\n",
            self.connections, self.threads, self.elapsed_s
        ));
        text.push_str(&format!(
            "requests   {} responses, {:.1} per second\n",
            self.requests, self.rps
        ));
        text.push_str(&format!(
            "status     2xx {}, 3xx {}, 4xx {}, 5xx {}\n",
            self.status_2xx, self.status_3xx, self.status_4xx, self.status_5xx
        ));
        text.push_str(&format!(
            "errors     {}\n",
            describe_errors(&self.errors_by_kind)
        ));
        if self.rate_per_s.is_some() {
            text.push_str(&format!("late sends {}\n", self.late_sends));
        }
        let latency = &self.latency_us;
        match (latency.p50, latency.p90, latency.p99, latency.max) {
            (Some(p50), Some(p90), Some(p99), Some(max)) => text.push_str(&format!(
                "latency    p50 {}, p90 {}, p99 {}, max {}\n",
                format_latency(p50),
                format_latency(p90),
                format_latency(p99),
                format_latency(max)
            )),
            _ => text.push_str("latency    no responses\n"),
        }
        text.push_str(&format!("body       {}\n", format_bytes(self.body_bytes)));
        text
    }
}

/// `none`, or `12 (connection refused 10, timeout 2)`.
fn describe_errors(errors_by_kind: &BTreeMap<String, u64>) -> String {
    let errors: u64 = errors_by_kind.values().sum();
    if errors == 0 {
        return "none".to_string();
    }
    let kinds: Vec<String> = errors_by_kind
        .iter()
        .map(|(kind, count)| format!("{kind} {count}"))
        .collect();
    format!("{errors} ({})", kinds.join(", "))
}

/// A latency in microseconds for people: `850 us`, `12.3 ms`, `1.20 s`.
fn format_latency(latency_us: u64) -> String {
    if latency_us < 1_000 {
        format!("{latency_us} us")
    } else if latency_us < 1_000_000 {
        format!("{:.1} ms", latency_us as f64 / 1_000.0)
    } else {
        format!("{:.2} s", latency_us as f64 / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadgen::ErrorKind;

    fn args(url: &str) -> LoadArgs {
        LoadArgs {
            url: url.to_string(),
            connections: 2,
            duration: None,
            requests: Some(40),
            rate: None,
            threads: Some(1),
            timeout: Duration::from_secs(5),
            format: OutputFormat::Json,
        }
    }

    /// A hello server on a free loopback port, on its own runtime thread for the test's
    /// lifetime (the test process ends it).
    fn hello_server() -> std::net::SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app =
                    axum::Router::new().route("/hello", axum::routing::get(|| async { "hi" }));
                axum::serve(listener, app).await.unwrap();
            });
        });
        addr
    }

    #[test]
    fn a_run_reports_its_totals() {
        let addr = hello_server();
        let never = AtomicBool::new(false);
        let report = run_load(&args(&format!("http://{addr}/hello")), &never)
            .unwrap()
            .unwrap();
        assert_eq!(report.requests, 40);
        assert_eq!(report.status_2xx, 40);
        assert_eq!(report.errors, 0);
        assert_eq!(report.body_bytes, 80);
        assert_eq!(report.threads, 1);
        assert!(report.latency_us.p50.is_some() && report.latency_us.max >= report.latency_us.p99);
        assert_eq!(exit_code(&report), ExitCode::SUCCESS);
        let text = report.to_text();
        assert!(text.contains("40 responses"), "{text}");
        let json: serde_json::Value = serde_json::to_value(&report).unwrap();
        assert_eq!(json["status_2xx"], 40);
    }

    #[test]
    fn no_server_means_errors_and_exit_code_1() {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let never = AtomicBool::new(false);
        let report = run_load(&args(&format!("http://{addr}/")), &never)
            .unwrap()
            .unwrap();
        assert_eq!(report.requests, 0);
        assert_eq!(report.errors_by_kind["connection refused"], 40);
        assert_eq!(exit_code(&report), ExitCode::from(1));
        assert!(report.to_text().contains("latency    no responses"));
    }

    #[test]
    fn a_bad_url_is_refused_before_any_load() {
        let never = AtomicBool::new(false);
        let err = run_load(&args("https://127.0.0.1/"), &never)
            .unwrap()
            .unwrap_err();
        assert!(err.to_string().contains("\"https://127.0.0.1/\""), "{err}");
    }

    #[test]
    fn an_interrupt_stops_load_and_says_so() {
        let addr = hello_server();
        let already = AtomicBool::new(true);
        let long = LoadArgs {
            requests: None,
            duration: Some(Duration::from_secs(600)),
            ..args(&format!("http://{addr}/hello"))
        };
        let report = run_load(&long, &already).unwrap().unwrap();
        assert!(report.interrupted);
        assert_eq!(exit_code(&report), ExitCode::from(130));
    }

    #[test]
    fn errors_are_described_by_kind() {
        let mut errors = BTreeMap::new();
        assert_eq!(describe_errors(&errors), "none");
        errors.insert(ErrorKind::ConnectionRefused.label().to_string(), 10);
        errors.insert(ErrorKind::Timeout.label().to_string(), 2);
        assert_eq!(
            describe_errors(&errors),
            "12 (connection refused 10, timeout 2)"
        );
    }

    #[test]
    fn latencies_are_formatted_in_their_unit() {
        assert_eq!(format_latency(850), "850 us");
        assert_eq!(format_latency(12_345), "12.3 ms");
        assert_eq!(format_latency(1_200_000), "1.20 s");
    }
}
