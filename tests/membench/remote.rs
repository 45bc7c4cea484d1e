//! Sampling a target through its metrics endpoint (`--metrics URL`) and `membench watch`:
//! a `membench serve` child scraped over loopback while `membench run` or `membench load`
//! drives it, and tiny servers in the test that answer HTML, garbage, no memory metric, or
//! fail mid-run.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::{Server, csv_rows, json, membench, membench_output, wait_until};

/// The cells of one `samples.csv` column, in row order.
fn column(dir: &Path, name: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_path(dir.join("samples.csv")).unwrap();
    let at = reader
        .headers()
        .unwrap()
        .iter()
        .position(|header| header == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    reader
        .records()
        .map(|record| record.unwrap()[at].to_string())
        .collect()
}

fn summary(dir: &Path) -> serde_json::Value {
    json(&std::fs::read_to_string(dir.join("summary.json")).unwrap())
}

/// A server in this test answering each request with `page(n)` (n counts requests from
/// 0): status line, content type and body. Serves at most `limit` requests, then stops.
fn tiny_server(
    limit: usize,
    page: impl Fn(usize) -> (&'static str, &'static str, String) + Send + 'static,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let served = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming().take(limit) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let n = served.fetch_add(1, Ordering::SeqCst);
            let (status, content_type, body) = page(n);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
}

const TEXT: &str = "text/plain; version=0.0.4";

#[test]
fn run_with_metrics_only_samples_the_target_through_its_endpoint() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let output = membench_output(&[
        "run",
        "--target",
        &format!("http://{}/api/ping", server.addr),
        "--metrics",
        &format!("http://{}/metrics", server.addr),
        "--metrics-include",
        "^membench_uptime_seconds$|^membench_requests_total",
        "--duration",
        "2s",
        "--warmup",
        "250ms",
        "--connections",
        "2",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("scrapes, 0 failed"), "{stdout}");
    let summary = summary(dir.path());
    assert_eq!(summary["run"]["pid"], serde_json::Value::Null);
    assert_eq!(summary["sources"]["rss_bytes"], "metrics", "{summary:#}");
    assert_eq!(summary["sources"]["rps"], "load generator");
    assert_eq!(summary["metrics"]["scrape_errors"], 0);
    // Every row has the server's RSS from its /metrics, none a zero.
    let rss = column(dir.path(), "rss_bytes");
    assert!(rss.len() >= 6, "{rss:?}");
    assert!(
        rss.iter()
            .all(|cell| cell.parse::<u64>().is_ok_and(|b| b > 1 << 20)),
        "{rss:?}"
    );
    assert!(column(dir.path(), "scrape_errors").iter().all(|c| c == "0"));
    // The CPU counter's rate: the server answered pings, so some interval used CPU.
    let cpu: Vec<f64> = column(dir.path(), "cpu_percent")
        .iter()
        .filter_map(|c| c.parse().ok())
        .collect();
    assert!(cpu.iter().any(|c| *c > 0.0), "{cpu:?}");
    // --metrics-include: a series on the page at the start has its own column after the
    // fixed ones; the ping counter, first on the page once load began, is in metrics_extra.
    let uptime: Vec<f64> = column(dir.path(), "metric:membench_uptime_seconds")
        .iter()
        .map(|c| c.parse().unwrap())
        .collect();
    assert!(uptime.windows(2).all(|w| w[1] >= w[0]), "{uptime:?}");
    let header = std::fs::read_to_string(dir.path().join("samples.csv")).unwrap();
    let header = header.lines().next().unwrap();
    assert!(
        header.ends_with(",metrics_extra,metric:membench_uptime_seconds")
            || header.contains(",metrics_extra,metric:membench_"),
        "{header}"
    );
    let extra = column(dir.path(), "metrics_extra");
    assert!(
        extra
            .iter()
            .any(|c| c.contains("membench_requests_total{endpoint=\"/api/ping\"}="))
            || header.contains("metric:membench_requests_total{endpoint=%22/api/ping%22}"),
        "{extra:?}"
    );
}

#[test]
fn watch_charts_a_server_that_membench_load_drives_with_rps_from_its_counter() {
    let server = Server::start(&[]);
    let mut load = membench()
        .args(["load", &format!("http://{}/api/ping", server.addr)])
        .args(["--duration", "8s", "--connections", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = membench_output(&[
        "watch",
        "--metrics",
        &format!("http://{}/metrics", server.addr),
        "--rps-metric",
        "membench_requests_total",
        "--duration",
        "3s",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let _ = load.kill();
    let _ = load.wait();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let summary = summary(dir.path());
    assert_eq!(summary["sources"]["rps"], "metrics", "{summary:#}");
    assert_eq!(summary["sources"]["rss_bytes"], "metrics");
    let rps: Vec<f64> = column(dir.path(), "rps")
        .iter()
        .filter_map(|c| c.parse().ok())
        .collect();
    assert!(rps.iter().filter(|r| **r > 0.0).count() >= 4, "{rps:?}");
    for name in ["samples.csv", "summary.json", "chart.png", "chart.svg"] {
        assert!(dir.path().join(name).is_file(), "{name}");
    }
    // A membench server watched only through /metrics draws the memory panel of a local
    // run: the live heap and allocation rates from its membench_* families.
    assert_eq!(
        summary["sources"]["heap_live_bytes"], "metrics",
        "{summary:#}"
    );
    let heap = column(dir.path(), "heap_live_bytes");
    assert!(
        heap.iter()
            .all(|cell| cell.parse::<u64>().is_ok_and(|b| b > 0)),
        "{heap:?}"
    );
    let allocs: Vec<f64> = column(dir.path(), "allocs_per_s")
        .iter()
        .filter_map(|c| c.parse().ok())
        .collect();
    assert!(
        allocs.iter().filter(|a| **a > 0.0).count() >= 3,
        "{allocs:?}"
    );
    let leaked = column(dir.path(), "leaked_bytes");
    assert!(leaked.iter().all(|c| c == "0"), "{leaked:?}");
    let svg = std::fs::read_to_string(dir.path().join("chart.svg")).unwrap();
    assert!(
        svg.contains("Allocated (live heap)"),
        "no heap line in the chart"
    );
    assert!(!svg.contains("not a membench server"));
}

#[test]
fn watch_without_a_request_counter_leaves_rps_empty_and_ctrl_c_keeps_every_sample() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut watch = membench()
        .args([
            "watch",
            "--metrics",
            &format!("http://{}/metrics", server.addr),
        ])
        .args(["--interval", "100ms", "--out", dir.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let csv = dir.path().join("samples.csv");
    assert!(
        wait_until(Duration::from_secs(20), || csv_rows(&csv) >= 8),
        "the watch never sampled"
    );
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(watch.id() as libc::pid_t, libc::SIGINT) };
    let ended = wait_until(Duration::from_secs(10), || {
        watch.try_wait().unwrap().is_some()
    });
    if !ended {
        let _ = watch.kill();
    }
    let output = watch.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(ended, "the watch ignored Ctrl-C: {stderr}");
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let rows = csv_rows(&csv);
    assert!(rows >= 8);
    assert!(column(dir.path(), "rps").iter().all(String::is_empty));
    let summary = summary(dir.path());
    assert_eq!(summary["metrics"]["scrapes"], rows as u64, "{summary:#}");
    assert!(summary["sources"].get("rps").is_none(), "{summary:#}");
}

/// Runs `membench watch --metrics http://ADDR/metrics` for a second and returns its exit
/// code and stderr.
fn watch_stderr(addr: SocketAddr, extra: &[&str]) -> (Option<i32>, String) {
    let url = format!("http://{addr}/metrics");
    let dir = tempfile::tempdir().unwrap();
    let output = membench()
        .args(["watch", "--metrics", &url, "--duration", "1s"])
        .args(["--out", dir.path().to_str().unwrap()])
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_bad_metrics_url_is_refused_at_start_saying_why() {
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let html = tiny_server(1, |_| {
        ("200 OK", "text/html", "<html><body>hi</body></html>".into())
    });
    let garbage = tiny_server(1, |_| {
        (
            "200 OK",
            TEXT,
            "process_resident_memory_bytes 12\n{oops".into(),
        )
    });
    let no_memory = tiny_server(1, |_| ("200 OK", TEXT, "http_requests_total 5\n".into()));
    let no_counter = tiny_server(1, |_| {
        ("200 OK", TEXT, "process_resident_memory_bytes 1e6\n".into())
    });
    for (addr, extra, expected) in [
        (closed, &[][..], "cannot reach it"),
        (html, &[][..], "HTML page"),
        (
            garbage,
            &[][..],
            "line 2: expected a metric name: \"{oops\"",
        ),
        (no_memory, &[][..], "none of the memory metrics"),
        (
            no_counter,
            &["--rps-metric", "http_requests"][..],
            "no counter named http_requests",
        ),
    ] {
        let (code, stderr) = watch_stderr(addr, extra);
        assert_eq!(code, Some(2), "{expected}: {stderr}");
        assert!(
            stderr.contains(expected) && stderr.contains(&addr.to_string()),
            "{expected}: {stderr}"
        );
    }
    let output = membench_output(&["run", "--target", "http://127.0.0.1:9/"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--pid PID") && stderr.contains("--metrics URL"),
        "{stderr}"
    );
    let output = membench_output(&["watch"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn failed_scrapes_mid_run_are_counted_gaps_and_a_restart_is_a_counter_reset() {
    // Scrapes 0–5 fine, 6–8 fail (a 503, garbage, HTML), then the target "restarted":
    // its counters start again lower.
    let addr = tiny_server(400, |n| {
        let page = |cpu: f64, start: u32| {
            format!(
                "process_resident_memory_bytes {}\nprocess_cpu_seconds_total {cpu}\nprocess_start_time_seconds {start}\n",
                50_000_000 + n * 4096
            )
        };
        match n {
            0..=5 => ("200 OK", TEXT, page(10.0 + n as f64 * 0.05, 1000)),
            6 => ("503 Service Unavailable", TEXT, String::new()),
            7 => ("200 OK", TEXT, "garbage here\n".to_string()),
            8 => ("200 OK", "text/html", "<html></html>".to_string()),
            _ => ("200 OK", TEXT, page(0.01 * n as f64, 2000)),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let output = membench_output(&[
        "watch",
        "--metrics",
        &format!("http://{addr}/metrics"),
        "--interval",
        "100ms",
        "--duration",
        "2s",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let summary = summary(dir.path());
    assert_eq!(summary["metrics"]["scrape_errors"], 3, "{summary:#}");
    assert_eq!(summary["metrics"]["counter_resets"], 1, "{summary:#}");
    let errors = column(dir.path(), "scrape_errors");
    let rss = column(dir.path(), "rss_bytes");
    for (error, rss) in errors.iter().zip(&rss) {
        // A gap is an empty cell, never a zero.
        assert_eq!(error == "1", rss.is_empty(), "{errors:?} {rss:?}");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("3 failed (gaps at"), "{stdout}");
    assert!(stdout.contains("1 counter resets"), "{stdout}");
}

/// Regression (scripts/locust-watch.sh): a membench server that has answered nothing yet
/// declares `membench_requests` but has no series of it; `--rps-metric` accepts it.
#[test]
fn rps_metric_of_a_server_that_answered_nothing_yet_is_accepted() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let output = membench_output(&[
        "watch",
        "--metrics",
        &format!("http://{}/metrics", server.addr),
        "--rps-metric",
        "membench_requests_total",
        "--duration",
        "1s",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    // A name the page does not declare is still refused.
    let output = membench_output(&[
        "watch",
        "--metrics",
        &format!("http://{}/metrics", server.addr),
        "--rps-metric",
        "no_such_requests_total",
        "--duration",
        "1s",
        "--out",
        dir.path().join("other").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
}
