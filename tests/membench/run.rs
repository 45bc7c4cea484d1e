//! `membench run` end to end: a child server, real load, samples, summary and chart on
//! disk; and a server that dies mid-run still leaves everything sampled.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::support::{csv_rows, json, membench, membench_output, wait_until};

/// Runs a short scenario into `dir` and returns the summary printed as JSON on stdout.
fn short_run(scenario: &str, dir: &Path, extra: &[&str]) -> serde_json::Value {
    let out = dir.to_str().unwrap();
    let mut args = vec![
        "run",
        scenario,
        "--duration",
        "3s",
        "--warmup",
        "1s",
        "--connections",
        "8",
        "--format",
        "json",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    let output = membench_output(&args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "membench run {scenario} failed: {stderr}"
    );
    for file in ["samples.csv", "summary.json", "chart.png", "chart.svg"] {
        assert!(
            dir.join(file).is_file(),
            "{file} missing after a {scenario} run"
        );
    }
    let png = std::fs::read(dir.join("chart.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "chart.png is not a PNG");
    json(&String::from_utf8_lossy(&output.stdout))
}

fn heap_slope_mb_per_min(summary: &serde_json::Value) -> f64 {
    summary["memory"]["heap_live_slope_mb_per_min"]
        .as_f64()
        .unwrap_or_else(|| panic!("no live-heap slope in {summary:#}"))
}

#[test]
fn a_leak_shows_a_growing_heap_and_a_transient_pattern_does_not() {
    let leak_dir = tempfile::tempdir().unwrap();
    // Open loop at a known rate, far below the 1 GiB leak cap over 4 s.
    let leak = short_run("staticstring", leak_dir.path(), &["--rate", "2000"]);
    let transient_dir = tempfile::tempdir().unwrap();
    let transient = short_run("bigstring", transient_dir.path(), &["--rate", "2000"]);

    // Columns with units, and one row per 250 ms interval (about 16 for 4 s).
    let header = std::fs::read_to_string(leak_dir.path().join("samples.csv")).unwrap();
    let header = header.lines().next().unwrap().to_string();
    for column in [
        "elapsed_s",
        "phase",
        "rps",
        "rss_bytes",
        "heap_live_bytes",
        "cpu_percent",
    ] {
        assert!(
            header.split(',').any(|c| c == column),
            "{column} missing: {header}"
        );
    }
    assert!(csv_rows(&leak_dir.path().join("samples.csv")) >= 10);

    let leak_rps = leak["load"]["rps_mean"].as_f64().unwrap();
    let transient_rps = transient["load"]["rps_mean"].as_f64().unwrap();
    assert!(
        leak_rps > 0.0 && transient_rps > 0.0,
        "{leak:#} {transient:#}"
    );

    // Each staticstring request keeps 10 KiB: at 2,000 RPS that is about 1,229 MB/min.
    // bigstring frees every string: its live heap must not climb anywhere near that.
    let leak_slope = heap_slope_mb_per_min(&leak);
    let transient_slope = heap_slope_mb_per_min(&transient);
    let expected_leak = leak_rps * 10_240.0 * 60.0 / 1e6;
    assert!(
        leak_slope > expected_leak * 0.5,
        "staticstring heap slope {leak_slope} MB/min, expected about {expected_leak}"
    );
    assert!(
        transient_slope.abs() < expected_leak * 0.05 && transient_slope.abs() < 20.0,
        "bigstring heap slope {transient_slope} MB/min should be near zero"
    );
}

#[test]
fn a_server_killed_mid_run_still_leaves_its_samples() {
    let dir = tempfile::tempdir().unwrap();
    let run = membench()
        .args([
            "run",
            "staticstring",
            "--duration",
            "20s",
            "--warmup",
            "1s",
            "--connections",
            "4",
        ])
        .args(["--out", dir.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let csv = dir.path().join("samples.csv");
    assert!(
        wait_until(Duration::from_secs(20), || csv_rows(&csv) >= 4),
        "the run never sampled"
    );
    // The run writes the child's pid into its log line; find the child through /proc.
    let child_pid = children_of(run.id())
        .into_iter()
        .next()
        .expect("a child server");
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child_pid, libc::SIGKILL) };
    let output = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("SIGKILL"), "{stderr}");
    assert!(csv_rows(&csv) >= 4);
    let summary = json(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap());
    assert!(summary.to_string().contains("SIGKILL"), "{summary:#}");
    assert!(dir.path().join("chart.png").is_file());
}

/// Pids whose parent is `pid`, from /proc.
fn children_of(pid: u32) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|stat| {
                    let after_name = stat.rsplit_once(')')?.1.to_string();
                    after_name.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// A 60-second `bigstring` run sampled every 10 ms (so sampling runs behind schedule),
/// sent `signal` once it has 50 rows. Returns whether it ended within 10 s (it had 60 s to
/// go, so only the signal can end it that soon), its output and its directory.
fn signal_a_run_behind_schedule(
    signal: libc::c_int,
) -> (bool, std::process::Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut run = membench()
        .args(["run", "bigstring", "--duration", "60s", "--warmup", "1s"])
        .args(["--interval", "10ms", "--connections", "4"])
        .args(["--out", dir.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let csv = dir.path().join("samples.csv");
    assert!(
        wait_until(Duration::from_secs(20), || csv_rows(&csv) >= 50),
        "the run never sampled"
    );
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(run.id() as libc::pid_t, signal) };
    let ended = wait_until(Duration::from_secs(10), || {
        run.try_wait().unwrap().is_some()
    });
    if !ended {
        let _ = run.kill();
    }
    (ended, run.wait_with_output().unwrap(), dir)
}

/// Regression: with a 10 ms interval sampling runs behind schedule, and Ctrl-C used to be
/// checked only while waiting for a tick, so the run ignored it until its planned end.
#[test]
fn ctrl_c_stops_a_run_whose_sampling_is_behind_schedule() {
    let (ended, output, dir) = signal_a_run_behind_schedule(libc::SIGINT);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(ended, "the run ignored Ctrl-C: {stderr}");
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let summary = json(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap());
    assert!(summary.to_string().contains("interrupted"), "{summary:#}");
    assert!(dir.path().join("chart.png").is_file());
}

#[test]
fn sigterm_ends_a_run_as_terminated_with_exit_143() {
    let (ended, output, dir) = signal_a_run_behind_schedule(libc::SIGTERM);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(ended, "the run ignored SIGTERM: {stderr}");
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("terminated"), "{stderr}");
    let summary = json(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap());
    assert_eq!(summary["run"]["end"]["kind"], "terminated", "{summary:#}");
    assert!(dir.path().join("chart.png").is_file());
    assert!(csv_rows(&dir.path().join("samples.csv")) >= 50);
}
