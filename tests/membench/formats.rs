//! `--format json` on `list`, `compare` and `sweep`: stdout is one JSON document and
//! nothing else, holding what the command's file holds (the scenario files, compare.json,
//! sweep.json), with real values from real runs.

use std::path::Path;

use serde_json::Value;

use crate::support::membench_output;

/// stdout of a successful `membench ARGS`, parsed as one JSON document.
fn json_stdout(args: &[&str]) -> Value {
    let output = membench_output(args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "membench {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|err| {
        panic!("stdout of {args:?} is not one JSON document ({err}):\n{stdout}")
    })
}

fn file_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn list_format_json_holds_every_scenario_file_with_its_parameters_and_load() {
    let listing = json_stdout(&["list", "--format", "json"]);
    assert_eq!(listing["membench_version"], env!("CARGO_PKG_VERSION"));
    let scenarios = listing["scenarios"].as_array().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let files: Vec<toml::Table> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| {
            toml::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap()
        })
        .collect();
    assert_eq!(
        scenarios.len(),
        files.len(),
        "one entry per file in {}",
        dir.display()
    );
    for file in &files {
        let name = file["name"].as_str().unwrap();
        let listed = scenarios
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(listed["path"], file["path"].as_str().unwrap(), "{name}");
        let params = file.get("params").and_then(|p| p.as_table());
        assert_eq!(
            listed["params"].as_array().unwrap().len(),
            params.map_or(0, |p| p.len()),
            "{name}"
        );
        for (param, spec) in params.into_iter().flatten() {
            let default = match &spec["default"] {
                toml::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let entry = listed["params"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == param.as_str())
                .unwrap();
            assert_eq!(entry["default"], default.as_str(), "{name} {param}");
        }
        let load = file.get("load").and_then(|l| l.as_table());
        let connections = load
            .and_then(|l| l.get("connections"))
            .and_then(|c| c.as_integer());
        match connections {
            Some(connections) => assert_eq!(listed["load"]["connections"], connections, "{name}"),
            None => assert_eq!(listed["load"]["connections_from_scenario"], false, "{name}"),
        }
        assert!(
            listed["load"]["connections"].as_u64().unwrap() > 0,
            "{name}"
        );
        let expect = file.get("expect").and_then(|e| e.as_table());
        assert_eq!(
            listed["expect"].as_array().unwrap().len(),
            expect.map_or(0, |e| e.len()),
            "{name}"
        );
    }
}

#[test]
fn compare_format_json_prints_compare_json_from_two_real_runs() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("strings");
    let printed = json_stdout(&[
        "compare",
        "--run",
        "bigstring,staticstring",
        "--duration",
        "1s",
        "--warmup",
        "250ms",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        printed,
        file_json(&out.join("compare.json")),
        "stdout is compare.json"
    );
    assert_eq!(printed["layout"], "side_by_side");
    let runs = printed["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for (run, scenario) in runs.iter().zip(["bigstring", "staticstring"]) {
        assert_eq!(run["scenario"], scenario);
        let dir = Path::new(run["dir"].as_str().unwrap());
        let summary = file_json(&dir.join("summary.json"));
        // The figures are the run's own, in raw units.
        assert_eq!(run["rps"], summary["load"]["rps_mean"]);
        assert!(run["rps"].as_f64().unwrap() > 0.0, "{run}");
        assert_eq!(
            run["peak_rss_bytes"],
            summary["memory"]["rss"]["peak_bytes"]
        );
        assert_eq!(run["latency"]["p95_us"], summary["latency"]["p95_us"]);
        assert!(run["latency"]["p95_us"].as_u64().unwrap() > 0, "{run}");
        assert_eq!(run["checks"], summary["verdict"]);
        assert_eq!(run["membench_commit"], summary["membench_commit"]);
        assert_eq!(run["end"]["kind"], "completed");
    }
    assert_eq!(printed["membench_commit"], runs[0]["membench_commit"]);
}

#[test]
fn sweep_format_json_prints_sweep_json() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("sweep");
    let printed = json_stdout(&[
        "sweep",
        "loh",
        "--sizes",
        "64KiB,256KiB",
        "--duration",
        "1s",
        "--warmup",
        "250ms",
        "--connections",
        "4",
        "--repeat",
        "1",
        "--no-remeasure",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        printed,
        file_json(&out.join("sweep.json")),
        "stdout is sweep.json"
    );
    assert_eq!(printed["end"], "completed");
    assert_eq!(printed["sizes_bytes"], serde_json::json!([65536, 262144]));
    let points = printed["points"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    for point in points {
        assert!(point["rps"].as_f64().unwrap() > 0.0, "{point}");
        let run = file_json(
            &out.join(point["run_dir"].as_str().unwrap())
                .join("summary.json"),
        );
        assert_eq!(point["peak_rss_bytes"], run["memory"]["rss"]["peak_bytes"]);
        assert_eq!(printed["membench_commit"], run["membench_commit"]);
    }
    assert_eq!(printed["membench_version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn run_text_shows_p95_and_exact_status_codes_as_summary_json_records_them() {
    let dir = tempfile::tempdir().unwrap();
    let output = membench_output(&[
        "run",
        "ping",
        "--duration",
        "1s",
        "--warmup",
        "250ms",
        "--connections",
        "2",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = file_json(&dir.path().join("summary.json"));
    let totals = &summary["totals"];
    let ok = totals["status_2xx"].as_u64().unwrap();
    assert!(ok > 0, "{summary:#}");
    // Every response was counted once by its exact code: the codes add up to the requests.
    let codes = totals["status_codes"].as_object().unwrap();
    let counted: u64 = codes.values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(counted, totals["requests"].as_u64().unwrap(), "{totals}");
    assert_eq!(codes["200"], ok);
    let status = stdout
        .lines()
        .find(|line| line.starts_with("status"))
        .unwrap_or_else(|| panic!("no status line in\n{stdout}"));
    let grouped = membench_grouped(ok);
    assert!(
        status.ends_with(&format!("2xx {grouped} (200: {grouped})")),
        "{status}"
    );
    let latency = stdout
        .lines()
        .find(|line| line.starts_with("latency"))
        .unwrap();
    let p95_us = summary["latency"]["p95_us"].as_u64().unwrap();
    assert!(
        p95_us > 0 && latency.contains(" · p95 ") && latency.contains(" · p99.9 "),
        "{latency}"
    );
    assert_eq!(
        summary["membench_commit"].as_str().map(str::is_empty),
        Some(false)
    );
}

/// `12345` → `12,345`, as the text output groups counts.
fn membench_grouped(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}
