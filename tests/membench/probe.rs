//! The portable process probe (`MEMBENCH_PROBE=portable`, sysinfo) end to end on Linux, so
//! the path macOS takes is exercised here: a run measures RSS and CPU, and leaves the
//! columns only `/proc` has empty (never 0); a value naming no probe is a usage error.

use crate::support::{json, membench};

/// The samples.csv columns only the Linux probe reads.
const LINUX_ONLY: &[&str] = &[
    "rss_anon_bytes",
    "open_fds",
    "minor_faults",
    "tcp_established",
    "tcp_time_wait",
    "tcp_close_wait",
];

#[test]
fn a_portable_probe_run_measures_rss_and_cpu_and_leaves_the_linux_columns_empty() {
    let dir = tempfile::tempdir().unwrap();
    let output = membench()
        .env("MEMBENCH_PROBE", "portable")
        .args(["run", "bigstring", "--duration", "5s", "--format", "json"])
        .args(["--out", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the run failed: {stderr}");
    let summary = json(&String::from_utf8_lossy(&output.stdout));

    let mut reader = csv::Reader::from_path(dir.path().join("samples.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} column in {headers:?}"))
    };
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let measured: Vec<&csv::StringRecord> = rows
        .iter()
        .filter(|row| row[column("requests")].parse::<u64>().unwrap_or(0) > 0)
        .collect();
    assert!(
        measured.len() >= 10,
        "{} rows with requests",
        measured.len()
    );
    for row in &measured {
        let rss: u64 = row[column("rss_bytes")].parse().unwrap();
        assert!(rss > 1 << 20, "RSS {rss} B in {row:?}");
        assert!(!row[column("cpu_percent")].is_empty(), "no CPU in {row:?}");
        for name in LINUX_ONLY {
            assert_eq!(&row[column(name)], "", "{name} should be empty: {row:?}");
        }
    }
    // The server was busy: some interval used CPU, and the summary has RSS and CPU.
    let busiest = measured
        .iter()
        .map(|row| row[column("cpu_percent")].parse::<f64>().unwrap())
        .fold(0.0, f64::max);
    assert!(busiest > 0.0, "no interval used CPU");
    assert!(
        summary["memory"]["rss"]["peak_bytes"].as_u64().unwrap_or(0) > 0,
        "no RSS peak in {summary:#}"
    );
}

#[test]
fn a_probe_name_that_is_not_one_is_refused_with_exit_2() {
    let output = membench()
        .env("MEMBENCH_PROBE", "procfs")
        .args(["list"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("MEMBENCH_PROBE=\"procfs\"") && stderr.contains("portable"),
        "{stderr}"
    );
}
