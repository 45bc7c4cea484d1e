//! The reference servers of other runtimes (`--runtime mono|jvm|node|go`) driven end to
//! end: a short `bigstring` run measures their collector's collections, a bad size gets a
//! 400 from each of them, the staticstring leak is seen growing, and Ctrl-C stops the run
//! and its child. A runtime whose toolchain is missing fails the test with the Debian
//! package to install, unless MEMBENCH_SKIP_RUNTIMES=1 (or a list such as `mono,jvm`)
//! says to skip it.

use std::process::Stdio;
use std::time::Duration;

use crate::support::{http, json, membench, membench_output, wait_until};

/// A cache shared by these tests, so each runtime's server is compiled once.
pub(crate) fn cache_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("runtime-cache")
}

/// Whether `runtime` can run here; panics with the package to install when it cannot and
/// skipping was not asked for.
pub(crate) fn available(runtime: &str) -> bool {
    let output = membench_output(&["list", "--runtimes"]);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let line = text
        .lines()
        .find(|line| line.split_whitespace().next() == Some(runtime))
        .unwrap_or_else(|| panic!("`membench list --runtimes` has no {runtime}: {text}"));
    if line.contains("yes:") {
        return true;
    }
    let skip = std::env::var("MEMBENCH_SKIP_RUNTIMES").unwrap_or_default();
    if skip == "1" || skip.split(',').any(|name| name.trim() == runtime) {
        eprintln!("{runtime}: skipped (MEMBENCH_SKIP_RUNTIMES={skip}): {line}");
        return false;
    }
    panic!("{line}\n(or set MEMBENCH_SKIP_RUNTIMES={runtime} to skip it)");
}

fn measures_collections_rejects_bad_sizes_and_stops_on_ctrl_c(runtime: &str) {
    if !available(runtime) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bigstring");
    let output = membench()
        .env("XDG_CACHE_HOME", cache_dir())
        .args(["run", "bigstring", "--runtime", runtime, "--duration", "3s"])
        .args(["--warmup", "1s", "--connections", "8"])
        .args(["--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.code() == Some(0) || output.status.code() == Some(3),
        "{stdout}\n{stderr}"
    );
    let summary = json(&std::fs::read_to_string(out.join("summary.json")).unwrap());
    let measured = &summary["measured_gc"];
    assert_eq!(measured["runtime"]["name"], runtime, "{summary:#}");
    assert!(
        measured["collections_total"].as_u64().unwrap() > 0,
        "no measured collections in {measured:#}"
    );
    assert!(stdout.contains("measured: "), "{stdout}");
    assert!(out.join("chart.png").is_file());

    // A leaking run, interrupted: the leak grows, bad sizes get 400s meanwhile, and
    // Ctrl-C ends the run and its child.
    let out = dir.path().join("staticstring");
    let mut run = membench()
        .env("XDG_CACHE_HOME", cache_dir())
        .args([
            "run",
            "staticstring",
            "--runtime",
            runtime,
            "--duration",
            "60s",
        ])
        .args(["--warmup", "250ms", "--connections", "4", "--rate", "500"])
        .args(["--out", out.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read stderr to its end on a thread: a closed pipe would make membench's own
    // messages fail.
    let stderr = run.stderr.take().unwrap();
    let (line_tx, line_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
            if line.contains("listening on http://") {
                let _ = line_tx.send(line);
            }
        }
    });
    let first = line_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the run names its server");
    let pid: i32 = first.split_whitespace().nth(3).unwrap().parse().unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    for bad in [
        "/api/loh/abc",
        "/api/loh/0",
        "/api/loh/99999999999",
        "/api/array/abc",
    ] {
        let (status, body) = http(addr, "GET", bad);
        assert_eq!(status, 400, "{runtime} {bad}: {body}");
    }
    let csv = out.join("samples.csv");
    assert!(
        wait_until(Duration::from_secs(30), || leaked(&csv).len() >= 8),
        "the run never sampled the leak"
    );
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(run.id() as libc::pid_t, libc::SIGINT) };
    let ended = wait_until(Duration::from_secs(20), || {
        run.try_wait().unwrap().is_some()
    });
    if !ended {
        let _ = run.kill();
    }
    assert!(ended, "{runtime}: the run ignored Ctrl-C");
    assert_eq!(run.wait().unwrap().code(), Some(130));
    // SAFETY: signal 0 only checks that the process exists.
    let child_gone = wait_until(Duration::from_secs(1), || unsafe {
        libc::kill(pid, 0) != 0
    });
    assert!(child_gone, "{runtime}: the child {pid} outlived the run");
    let leaked = leaked(&csv);
    assert!(
        leaked.last() > leaked.first(),
        "{runtime}: the staticstring leak did not grow: {leaked:?}"
    );
}

/// The `leaked_bytes` column of a samples.csv, rows that have it.
fn leaked(csv: &std::path::Path) -> Vec<u64> {
    let Ok(text) = std::fs::read_to_string(csv) else {
        return Vec::new();
    };
    let mut lines = text.lines();
    let Some(column) = lines
        .next()
        .and_then(|header| header.split(',').position(|name| name == "leaked_bytes"))
    else {
        return Vec::new();
    };
    // errors_by_kind cells hold no commas; the by-kind columns use `;`.
    lines
        .filter_map(|line| line.split(',').nth(column)?.parse().ok())
        .collect()
}

#[test]
fn mono() {
    measures_collections_rejects_bad_sizes_and_stops_on_ctrl_c("mono");
}

#[test]
fn jvm() {
    measures_collections_rejects_bad_sizes_and_stops_on_ctrl_c("jvm");
}

#[test]
fn node() {
    measures_collections_rejects_bad_sizes_and_stops_on_ctrl_c("node");
}

#[test]
fn go() {
    measures_collections_rejects_bad_sizes_and_stops_on_ctrl_c("go");
}

#[test]
fn a_missing_runtime_argument_style_is_a_usage_error() {
    let output = membench_output(&[
        "run",
        "bigstring",
        "--runtime",
        "go",
        "--runtime-arg",
        "-Xmx1g",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("\"-Xmx1g\"") && stderr.contains("GOGC"),
        "{stderr}"
    );
    let output = membench_output(&["run", "bigstring", "--runtime", "dotnet"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("\"dotnet\""));
}

/// The column `name` of a samples.csv, rows that have a number in it.
fn column(csv: &std::path::Path, name: &str) -> Vec<u64> {
    let text = std::fs::read_to_string(csv).unwrap_or_default();
    let mut lines = text.lines();
    let Some(index) = lines
        .next()
        .and_then(|header| header.split(',').position(|column| column == name))
    else {
        return Vec::new();
    };
    lines
        .filter_map(|line| line.split(',').nth(index)?.parse().ok())
        .collect()
}

#[test]
fn a_sweep_on_mono_draws_a_curve_with_its_measured_collections_per_kind() {
    if !available("mono") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let output = membench()
        .env("XDG_CACHE_HOME", cache_dir())
        .args(["sweep", "loh", "--runtime", "mono", "--sizes", "4000,16000"])
        .args(["--repeat", "1", "--duration", "1s", "--warmup", "500ms"])
        .args(["--no-remeasure", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let sweep = json(&std::fs::read_to_string(out.join("sweep.json")).unwrap());
    assert_eq!(
        sweep["allocators"],
        serde_json::json!(["mono"]),
        "{sweep:#}"
    );
    let points = sweep["points"].as_array().unwrap();
    assert_eq!(points.len(), 2, "{sweep:#}");
    for point in points {
        assert_eq!(point["runtime"], "mono");
        assert!(
            point["measured_gc"].as_str().unwrap().contains("SGen"),
            "{point:#}"
        );
        let rates = point["gc_per_s"].as_object().unwrap();
        let total: f64 = rates.values().map(|v| v.as_f64().unwrap()).sum();
        assert!(total > 0.0, "no measured collections: {point:#}");
        // Per 1,000 responses too, every kind the rate per second has.
        let per_1k = point["gc_per_1k_requests"].as_object().unwrap();
        assert!(
            rates.keys().all(|kind| per_1k.contains_key(kind)),
            "{point:#}"
        );
        let total: f64 = per_1k.values().map(|v| v.as_f64().unwrap()).sum();
        assert!(total > 0.0, "no collections per 1,000 requests: {point:#}");
        assert!(out.join(point["run_dir"].as_str().unwrap()).is_dir());
    }
    assert!(stdout.contains("mono measured GC per 1k req"), "{stdout}");
    assert!(stdout.contains("no cliff for mono") || stdout.contains("cliff: mono"));
    let svg = std::fs::read_to_string(out.join("sweep.svg")).unwrap();
    assert!(svg.contains("MEASURED by each runtime") && svg.contains("(measured: Mono"));
}

#[test]
fn the_go_client_per_request_leak_shows_goroutines_growing() {
    if !available("go") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("clientleak");
    let output = membench()
        .env("XDG_CACHE_HOME", cache_dir())
        .args(["run", "clientleak", "--runtime", "go", "--duration", "3s"])
        .args(["--warmup", "500ms", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        matches!(output.status.code(), Some(0 | 3)),
        "{}\n{stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
    let goroutines = column(&out.join("samples.csv"), "goroutines");
    assert!(goroutines.len() >= 4, "{goroutines:?}");
    assert!(
        goroutines.last() > goroutines.first(),
        "goroutines did not grow: {goroutines:?}"
    );
    let svg = std::fs::read_to_string(out.join("chart.svg")).unwrap();
    assert!(
        svg.contains("goroutines"),
        "the resource panel has no goroutines line"
    );
}
