//! A load run on its own (`membench load`): drive a URL until the run ends or Ctrl-C, and
//! the totals as text or JSON — requests, RPS, status classes and codes, errors by kind, latency
//! percentiles. No sampling: what the benchmark against wrk drives.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

use super::{IntervalStats, LoadConfig};
use crate::format::{format_bytes, format_status};

/// How often [`drive`] checks whether load ended or Ctrl-C arrived.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Drives `config` until the load ends (or `interrupted` turns true) and sums it up.
pub fn drive(
    url: &str,
    config: LoadConfig,
    interrupted: &AtomicBool,
) -> anyhow::Result<LoadReport> {
    let started = Instant::now();
    let handle = super::start(config.clone())?;
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
    Ok(LoadReport::new(
        url,
        &config,
        started.elapsed(),
        &total,
        was_interrupted,
    ))
}

/// The totals of a `membench load` run; the `--format json` output.
#[derive(Debug, Serialize)]
pub struct LoadReport {
    pub url: String,
    pub connections: usize,
    pub threads: usize,
    /// Open-loop rate asked for; `null` for closed loop.
    pub rate_per_s: Option<f64>,
    pub timeout_s: f64,
    /// Wall time from the start of load to its end.
    pub elapsed_s: f64,
    pub interrupted: bool,
    /// Responses of any status.
    pub requests: u64,
    /// Responses per second over `elapsed_s`.
    pub rps: f64,
    pub status_2xx: u64,
    pub status_3xx: u64,
    pub status_4xx: u64,
    pub status_5xx: u64,
    /// Responses by exact status code: `{"200": 12345, "404": 3}`.
    pub status_codes: BTreeMap<String, u64>,
    /// Requests that got no response.
    pub errors: u64,
    pub errors_by_kind: BTreeMap<String, u64>,
    pub late_sends: u64,
    pub body_bytes: u64,
    pub latency_us: LatencyReport,
}

/// Latency percentiles in microseconds; all `null` without a response.
#[derive(Debug, Serialize)]
pub struct LatencyReport {
    pub p50: Option<u64>,
    pub p90: Option<u64>,
    pub p95: Option<u64>,
    pub p99: Option<u64>,
    pub p999: Option<u64>,
    pub max: Option<u64>,
    pub mean: Option<f64>,
}

impl LatencyReport {
    fn new(histogram: &Histogram<u64>) -> LatencyReport {
        let quantile = |q: f64| (!histogram.is_empty()).then(|| histogram.value_at_quantile(q));
        LatencyReport {
            p50: quantile(0.50),
            p90: quantile(0.90),
            p95: quantile(0.95),
            p99: quantile(0.99),
            p999: quantile(0.999),
            max: (!histogram.is_empty()).then(|| histogram.max()),
            mean: (!histogram.is_empty()).then(|| histogram.mean()),
        }
    }
}

impl LoadReport {
    fn new(
        url: &str,
        config: &LoadConfig,
        elapsed: Duration,
        total: &IntervalStats,
        interrupted: bool,
    ) -> LoadReport {
        let elapsed_s = elapsed.as_secs_f64();
        LoadReport {
            url: url.to_string(),
            connections: config.connections,
            threads: config.threads.min(config.connections),
            rate_per_s: config.rate_per_s,
            timeout_s: config.timeout.as_secs_f64(),
            elapsed_s,
            interrupted,
            requests: total.requests,
            rps: total.requests as f64 / elapsed_s.max(1e-9),
            status_2xx: total.status_2xx,
            status_3xx: total.status_3xx,
            status_4xx: total.status_4xx,
            status_5xx: total.status_5xx,
            status_codes: total.status_codes.to_map(),
            errors: total.errors(),
            errors_by_kind: total.errors_by_kind.clone(),
            late_sends: total.late_sends,
            body_bytes: total.body_bytes,
            latency_us: LatencyReport::new(&total.latency_us),
        }
    }

    /// The totals as `membench load` prints them.
    pub fn to_text(&self) -> String {
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
            "status     {}\n",
            format_status(
                [
                    self.status_2xx,
                    self.status_3xx,
                    self.status_4xx,
                    self.status_5xx
                ],
                &self.status_codes
            )
        ));
        text.push_str(&format!(
            "errors     {}\n",
            describe_errors(&self.errors_by_kind)
        ));
        if self.rate_per_s.is_some() {
            text.push_str(&format!("late sends {}\n", self.late_sends));
        }
        let latency = &self.latency_us;
        match (
            latency.p50,
            latency.p90,
            latency.p95,
            latency.p99,
            latency.p999,
            latency.max,
        ) {
            (Some(p50), Some(p90), Some(p95), Some(p99), Some(p999), Some(max)) => {
                text.push_str(&format!(
                    "latency    p50 {}, p90 {}, p95 {}, p99 {}, p99.9 {}, max {}\n",
                    format_latency(p50),
                    format_latency(p90),
                    format_latency(p95),
                    format_latency(p99),
                    format_latency(p999),
                    format_latency(max)
                ))
            }
            _ => text.push_str("latency    no responses\n"),
        }
        text.push_str(&format!("body       {}\n", format_bytes(self.body_bytes)));
        text
    }
}

/// `none`, or `12 (connection refused 10, timeout 2)`.
pub fn describe_errors(errors_by_kind: &BTreeMap<String, u64>) -> String {
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
    use crate::error_labels::ErrorKind;
    use crate::loadgen::{StopAt, Target};

    fn config(url: &str) -> LoadConfig {
        let target = Target::parse(url).unwrap();
        LoadConfig {
            addr: target.addr,
            host: target.host,
            paths: vec![target.path],
            connections: 2,
            threads: 1,
            rate_per_s: None,
            stop: StopAt::Requests(40),
            timeout: Duration::from_secs(5),
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
                // /mixed answers 200 and 503 in turn, so exact codes are known.
                let turn = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
                let app = axum::Router::new()
                    .route("/hello", axum::routing::get(|| async { "hi" }))
                    .route(
                        "/mixed",
                        axum::routing::get(move || async move {
                            if turn.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
                                axum::http::StatusCode::OK
                            } else {
                                axum::http::StatusCode::SERVICE_UNAVAILABLE
                            }
                        }),
                    );
                axum::serve(listener, app).await.unwrap();
            });
        });
        addr
    }

    #[test]
    fn a_run_reports_its_totals() {
        let addr = hello_server();
        let never = AtomicBool::new(false);
        let url = format!("http://{addr}/hello");
        let report = drive(&url, config(&url), &never).unwrap();
        assert_eq!(report.requests, 40);
        assert_eq!(report.status_2xx, 40);
        assert_eq!(report.errors, 0);
        assert_eq!(report.body_bytes, 80);
        assert_eq!(report.threads, 1);
        assert!(report.latency_us.p50.is_some() && report.latency_us.max >= report.latency_us.p99);
        let text = report.to_text();
        assert!(text.contains("40 responses"), "{text}");
        let json: serde_json::Value = serde_json::to_value(&report).unwrap();
        assert_eq!(json["status_2xx"], 40);
        assert_eq!(json["status_codes"], serde_json::json!({"200": 40}));
        assert!(json["latency_us"]["p95"].as_u64().is_some(), "{json}");
        assert!(text.contains("status     2xx 40 (200: 40)\n"), "{text}");
    }

    #[test]
    fn exact_status_codes_are_counted_beside_their_classes() {
        let addr = hello_server();
        let never = AtomicBool::new(false);
        let url = format!("http://{addr}/mixed");
        let report = drive(&url, config(&url), &never).unwrap();
        assert_eq!((report.status_2xx, report.status_5xx), (20, 20));
        let expected: BTreeMap<String, u64> =
            [("200".to_string(), 20), ("503".to_string(), 20)].into();
        assert_eq!(report.status_codes, expected);
        let text = report.to_text();
        assert!(
            text.contains("status     2xx 20 · 5xx 20 (200: 20 · 503: 20)\n"),
            "{text}"
        );
        let latency = text.lines().find(|l| l.starts_with("latency")).unwrap();
        assert!(
            latency.contains(", p95 ") && latency.contains(", p99.9 "),
            "{latency}"
        );
    }

    #[test]
    fn no_server_means_errors_and_exit_code_1() {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let never = AtomicBool::new(false);
        let url = format!("http://{addr}/");
        let report = drive(&url, config(&url), &never).unwrap();
        assert_eq!(report.requests, 0);
        assert_eq!(report.errors_by_kind["connection refused"], 40);
        assert!(report.to_text().contains("latency    no responses"));
    }

    #[test]
    fn an_interrupt_stops_load_and_says_so() {
        let addr = hello_server();
        let already = AtomicBool::new(true);
        let url = format!("http://{addr}/hello");
        let long = LoadConfig {
            stop: StopAt::Duration(Duration::from_secs(600)),
            ..config(&url)
        };
        let report = drive(&url, long, &already).unwrap();
        assert!(report.interrupted);
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
