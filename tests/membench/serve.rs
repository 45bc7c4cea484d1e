//! `membench serve` as a process: it starts with each allocator, says which one it uses,
//! and answers its pattern endpoints over real HTTP.

use crate::support::{Server, json};

#[test]
fn serves_with_each_allocator_and_names_it_in_diagnostics() {
    for allocator in ["system", "jemalloc", "mimalloc"] {
        let server = Server::start(&["--allocator", allocator]);
        let (status, body) = server.request("GET", "/api/loh/84976");
        assert_eq!((status, body.trim()), (200, "84976"), "{allocator}");
        let (status, body) = server.request("GET", "/api/diagnostics");
        assert_eq!(status, 200, "{body}");
        let diagnostics = json(&body);
        assert_eq!(diagnostics["allocator"], allocator, "{body}");
        assert!(
            diagnostics["heap"]["live_bytes"].as_u64().unwrap() > 0,
            "{body}"
        );
        assert!(
            diagnostics["process"]["rss_bytes"].as_u64().unwrap() > 0,
            "{body}"
        );
    }
}

#[test]
fn the_allocator_can_come_from_the_environment() {
    let mut command = crate::support::membench();
    command.env("MEMBENCH_ALLOCATOR", "mimalloc");
    let server = {
        // Same as Server::start, with the environment variable instead of the flag.
        use std::io::BufRead;
        let mut child = command
            .args(["serve", "--addr", "127.0.0.1:0"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap()
            .parse()
            .unwrap();
        Server { child, addr }
    };
    let (_, body) = server.request("GET", "/api/diagnostics");
    assert_eq!(json(&body)["allocator"], "mimalloc", "{body}");
}

#[test]
fn bad_requests_get_json_errors_and_the_server_stays_up() {
    let server = Server::start(&[]);
    for path in [
        "/api/loh/-1",
        "/api/loh/abc",
        "/api/loh/999999999999",
        "/api/array/0",
    ] {
        let (status, body) = server.request("GET", path);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(json(&body)["error"].is_string(), "{path}: {body}");
    }
    let (status, _) = server.request("GET", "/api/httpclient1?url=file:///etc/passwd");
    assert_eq!(status, 400);
    let (status, _) = server.request("GET", "/no/such/path");
    assert_eq!(status, 404);
    let (status, body) = server.request("GET", "/api/collect");
    assert_eq!(status, 405, "{body}");
    assert!(body.contains("POST"), "{body}");
    let (status, _) = server.request("GET", "/api/ping");
    assert_eq!(status, 200);
}

#[test]
fn collect_answers_rss_before_and_after() {
    let server = Server::start(&[]);
    let (status, body) = server.request("POST", "/api/collect");
    assert_eq!(status, 200, "{body}");
    let outcome = json(&body);
    assert!(outcome["rss_before_bytes"].as_u64().unwrap() > 0, "{body}");
    assert!(outcome["rss_after_bytes"].as_u64().unwrap() > 0, "{body}");
}

#[test]
fn metrics_are_prometheus_text() {
    let server = Server::start(&[]);
    server.request("GET", "/api/bigstring");
    let (status, body) = server.request("GET", "/metrics");
    assert_eq!(status, 200);
    assert!(body.contains("membench_heap_live_bytes"), "{body}");
    assert!(body.contains("membench_rss_bytes"), "{body}");
}

/// Sends `/api/staticstring` and `/api/ping` requests for `seconds`, ~20 a second: a
/// little load, bounded in count and time, over loopback.
pub(crate) fn load_for(server: &Server, seconds: u64) -> u64 {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let mut sent = 0;
    while std::time::Instant::now() < until {
        let path = if sent % 4 == 0 {
            "/api/staticstring"
        } else {
            "/api/ping"
        };
        assert_eq!(server.request("GET", path).0, 200, "{path}");
        sent += 1;
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    sent
}

#[test]
fn history_keeps_a_sample_a_second_oldest_first() {
    let server = Server::start(&[]);
    let sent = load_for(&server, 10);
    let (status, body) = server.request("GET", "/api/history");
    assert_eq!(status, 200, "{body}");
    let history = json(&body);
    let samples = history["samples"].as_array().unwrap();
    assert!(
        samples.len() >= 8,
        "{} samples after 10 s: {body}",
        samples.len()
    );
    assert!(samples.len() as u64 <= history["capacity"].as_u64().unwrap());
    let field = |sample: &serde_json::Value, name: &str| sample[name].as_f64().unwrap();
    for pair in samples.windows(2) {
        let gap = field(&pair[1], "uptime_s") - field(&pair[0], "uptime_s");
        assert!(gap > 0.0, "not oldest first: {pair:?}");
    }
    // The samples saw the load: requests and the leak's growth.
    let (first, last) = (&samples[0], samples.last().unwrap());
    let requests = field(last, "requests_total") - field(first, "requests_total");
    assert!(
        requests > 0.0 && requests <= sent as f64,
        "{requests} of {sent}"
    );
    assert!(last["heap"]["live_bytes"].as_u64().unwrap() > 0, "{last}");
    assert!(field(&last["process"], "rss_bytes") > 0.0, "{last}");
}
