//! `--check` needs evidence: the README's `my-service.toml` pointed at a port where the
//! target accepts connections and closes them without a word must fail, saying that no
//! response came back — never pass because an idle process looks flat.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::support::membench_output;

/// The README's example scenario, shortened to a two-second run.
const MY_SERVICE: &str = r#"
name = "my-service"
description = "the orders endpoint under load"
path = "/orders?limit=10"
[load]
connections = 4
duration = "2s"
[expect]
rss = { shape = "flat", threshold_per_min = 10 }
open_fds = "flat"
"#;

#[test]
fn check_fails_when_no_response_came_back_from_the_target() {
    // The target is this test process: it owns the listening socket (so the pid check
    // accepts `--pid` of this process) and closes every connection it accepts.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let closer = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => drop(stream),
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        })
    };

    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("my-service.toml");
    std::fs::write(&scenario, MY_SERVICE).unwrap();
    let target = format!("http://127.0.0.1:{port}/");
    let pid = std::process::id().to_string();
    let out = dir.path().join("run");
    let output = membench_output(&[
        "run",
        scenario.to_str().unwrap(),
        "--target",
        &target,
        "--pid",
        &pid,
        "--warmup",
        "500ms",
        "--check",
        "--out",
        out.to_str().unwrap(),
    ]);
    stop.store(true, Ordering::Relaxed);
    closer.join().unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("no load reached the target: no response came back"),
        "{stderr}"
    );
    // Every expectation says why it cannot pass, in the printed verdict lines too.
    let verdicts: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("verdict"))
        .collect();
    assert_eq!(verdicts.len(), 2, "{stdout}");
    assert!(
        verdicts
            .iter()
            .all(|line| line.contains("no load reached the target")),
        "{stdout}"
    );
    // The summary keeps the old `matches` flag false and names the outcome.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for check in summary["verdict"].as_array().unwrap() {
        assert_eq!(check["matches"], false, "{check}");
        assert_eq!(check["outcome"], "no_load", "{check}");
    }
}
