//! The server's cost of observing itself: a whole `membench run` against a real
//! `membench serve` (its sampler polling `/api/diagnostics` four times a second, the
//! server's history sampler reading `/proc/self` every second) must not make one full
//! self-reading (every fd and the TCP tables, milliseconds of CPU each) in the server.
//! Counted by the server itself (`self_probe_full_reads`), so the test is structural, not
//! timed; a full reading asked for afterwards shows the counter moves.

use crate::support::{Server, json, membench_output};

fn full_reads(server: &Server) -> u64 {
    let (status, body) = server.request("GET", "/api/diagnostics?process=none");
    assert_eq!(status, 200, "{body}");
    let diagnostics = json(&body);
    assert!(diagnostics["process"].is_null(), "{diagnostics:#}");
    diagnostics["self_probe_full_reads"]
        .as_u64()
        .unwrap_or_else(|| panic!("no self_probe_full_reads in {diagnostics:#}"))
}

#[test]
fn a_run_never_makes_the_server_walk_its_fds_or_tcp_tables() {
    let server = Server::start(&[]);
    assert_eq!(full_reads(&server), 0, "nothing read in full at start");
    let dir = tempfile::tempdir().unwrap();
    let pid = server.child.id().to_string();
    let output = membench_output(&[
        "run",
        "--target",
        &format!("http://{}/api/ping", server.addr),
        "--pid",
        &pid,
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
    // The run sampled the server from outside (fds, TCP) and from inside (diagnostics).
    let samples = std::fs::read_to_string(dir.path().join("samples.csv")).unwrap();
    assert!(samples.lines().count() >= 6, "{samples}");
    let summary = json(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap());
    assert_eq!(summary["sources"]["open_fds"], "proc", "{summary:#}");
    assert_eq!(summary["sources"]["tcp_established"], "proc", "{summary:#}");
    assert_eq!(
        summary["sources"]["heap_live_bytes"], "diagnostics",
        "{summary:#}"
    );
    assert_eq!(full_reads(&server), 0, "the run made full self-readings");

    // The counter does move: the dashboard's poll (no query) reads everything.
    let (status, body) = server.request("GET", "/api/diagnostics");
    assert_eq!(status, 200, "{body}");
    let full = json(&body);
    assert!(full["process"]["open_fds"].as_u64().is_some(), "{full:#}");
    assert!(
        full["process"]["tcp"]["listen"].as_u64().is_some(),
        "{full:#}"
    );
    assert_eq!(full_reads(&server), 1);
}
