//! The live dashboard at `/` in a real browser: Debian's headless chromium, driven by
//! playwright-core (`tests/browser/dashboard.mjs`) against a `membench serve` child.
//!
//! The driver checks the page as a person uses it (no console errors, no request leaving
//! the server's origin, Allocated rising under the leak, Reset and Collect showing their
//! answers, the endpoint links, the modelled .NET GC panel counting the gen2 collections
//! that /api/loh/84976 brings in the model, and — opened after five seconds of load — the
//! points backfilled from /api/history right after load) and writes a screenshot; this test then checks
//! from the server's side that the buttons really reached it. A second run against a
//! server with `--gc-model none` checks that the page says the lens is off and draws
//! nothing modelled. It never skips: without chromium or node it fails and says what to
//! install.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{Server, json, wait_until};

/// Debian's chromium; `.ci/run` installs it.
const CHROMIUM: &str = "/usr/bin/chromium";

/// Longer than the driver's own 90 s deadline, so the driver normally reports first.
const DRIVER_LIMIT: Duration = Duration::from_secs(150);

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Checks chromium and node, and installs the locked playwright-core when missing.
fn prepare_driver() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: the dashboard test needs Debian's chromium \
         (apt-get install chromium; .ci/run installs it)"
    );
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|out| out.status.success()),
        "node is missing: the dashboard test drives chromium with playwright-core \
         (apt-get install nodejs npm; .ci/run installs them): {node:?}"
    );
    if !browser_dir()
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        let install = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(browser_dir())
            .output()
            .expect("npm runs (apt-get install npm)");
        assert!(
            install.status.success(),
            "npm ci in tests/browser failed:\n{}\n{}",
            String::from_utf8_lossy(&install.stdout),
            String::from_utf8_lossy(&install.stderr)
        );
    }
}

/// Runs the driver to completion (bounded by [`DRIVER_LIMIT`]); returns success and output.
fn run_driver(base_url: &str, screenshot: &Path, extra: &[&str]) -> (bool, String) {
    let mut child = Command::new("node")
        .arg("dashboard.mjs")
        .arg(base_url)
        .arg(screenshot)
        .args(extra)
        .current_dir(browser_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let finished = wait_until(DRIVER_LIMIT, || {
        child.try_wait().map_or(true, |status| status.is_some())
    });
    if !finished {
        let _ = child.kill();
    }
    let status = child.wait().expect("node exits");
    let output = format!(
        "{}{}",
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default()
    );
    (finished && status.success(), output)
}

/// Width and height of a PNG file, from its IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && &bytes[12..16] == b"IHDR",
        "not a PNG"
    );
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn the_dashboard_charts_the_leak_and_its_buttons_reach_the_server() {
    prepare_driver();
    let server = Server::start(&[]);
    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard/dashboard.png");
    let _ = std::fs::remove_file(&screenshot);
    // The page opens late: the server has run under a little load for a few seconds, and
    // the page must draw what it kept (GET /api/history) right after load.
    crate::serve::load_for(&server, 5);
    let (_, body) = server.request("GET", "/api/history");
    let kept = json(&body)["samples"].as_array().unwrap().len();
    assert!(kept >= 4, "{kept} samples after 5 s: {body}");
    let min_history = format!("--min-history={kept}");

    let (passed, output) = run_driver(
        &format!("http://{}/", server.addr),
        &screenshot,
        &[&min_history],
    );
    println!("{output}");
    assert!(passed, "the browser checks failed:\n{output}");

    // The server's own view: the buttons reached it.
    let (_, body) = server.request("GET", "/api/diagnostics");
    let diagnostics = json(&body);
    assert!(
        diagnostics["allocator_stats"]["collect_calls_total"]
            .as_u64()
            .unwrap()
            >= 1,
        "Collect did not reach the server: {body}"
    );
    assert_eq!(
        diagnostics["leaks"]["staticstring"]["items"], 0,
        "Reset did not empty the leak: {body}"
    );
    // Nothing the page or the tabs it opened asked for failed (e.g. a 404 for an asset
    // or for the favicon a browser asks of a plain-text answer).
    assert_eq!(
        diagnostics["errors"],
        serde_json::json!({}),
        "the dashboard caused errors: {body}"
    );

    // The modelled lens, from the server's side: the driver's /api/loh/84976 requests
    // brought modelled gen2 collections (the page showed the same count).
    let lens = &diagnostics["modelled_gc"];
    assert_eq!(lens["label"], "modelled .NET GC (server)", "{body}");
    assert!(
        lens["collections"]["gen2"].as_u64().unwrap() > 0,
        "no modelled gen2: {body}"
    );

    let png = std::fs::read(&screenshot).expect("the driver wrote the screenshot");
    let (width, height) = png_size(&png);
    assert!(width > 0 && height > 0);
    println!("screenshot: {} ({width}x{height})", screenshot.display());
}

#[test]
fn the_dashboard_says_when_the_modelled_lens_is_off() {
    prepare_driver();
    let server = Server::start(&["--gc-model", "none"]);
    let screenshot =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard/dashboard-lens-off.png");
    let _ = std::fs::remove_file(&screenshot);

    let (passed, output) = run_driver(
        &format!("http://{}/", server.addr),
        &screenshot,
        &["--lens-off"],
    );
    println!("{output}");
    assert!(passed, "the browser checks failed:\n{output}");
    let (_, body) = server.request("GET", "/api/diagnostics");
    assert!(json(&body)["modelled_gc"].is_null(), "{body}");
    assert!(std::fs::read(&screenshot).is_ok_and(|png| png_size(&png).0 > 0));
}
