//! Writing a sweep: `sweep.json` (the whole [`SweepResult`], read back by the gallery) and
//! `sweep.csv` (one row per point, for a spreadsheet). Both are rewritten after every point,
//! through a temporary file and a rename, so a reader never sees half a file and a sweep
//! killed outright still leaves every finished point on disk.

use std::path::Path;

use anyhow::Context;

use super::{SweepPoint, SweepResult};

/// The columns of `sweep.csv`, in order: the fields of [`SweepPoint`] (the repetitions as
/// their count); empty cells where a value is `None` (not reported), never zero.
pub const SWEEP_CSV_COLUMNS: [&str; 26] = [
    "allocator",
    "size_bytes",
    "rps",
    "latency_p99_us",
    "allocs_per_s",
    "alloc_bytes_per_s",
    "minor_faults_per_s",
    "peak_rss_bytes",
    "reclaim_events",
    "errors",
    "run_dir",
    "cpu_us_per_request",
    "cpu_us_per_request_min",
    "cpu_us_per_request_max",
    "rps_min",
    "rps_max",
    "repetitions",
    "runtime",
    "measured_gc",
    "gc_per_s",
    "gc_per_s_min",
    "gc_per_s_max",
    "gc_per_1k_requests",
    "gc_per_1k_requests_min",
    "gc_per_1k_requests_max",
    "external_peak_bytes",
];

/// Writes `sweep.json` and `sweep.csv` into `dir`.
pub fn write_sweep_files(dir: &Path, result: &SweepResult) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(result).context("cannot serialise the sweep")?;
    write_replacing(&dir.join("sweep.json"), (json + "\n").as_bytes())?;
    write_replacing(&dir.join("sweep.csv"), &csv_bytes(&result.points)?)
}

/// Reads a `sweep.json` written by [`write_sweep_files`].
pub fn read_sweep(path: &Path) -> anyhow::Result<SweepResult> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the sweep {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a sweep.json written by membench sweep",
            path.display()
        )
    })
}

fn csv_bytes(points: &[SweepPoint]) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Written by hand rather than by serde so the header exists even with no point yet.
    writer.write_record(SWEEP_CSV_COLUMNS)?;
    let optional = |value: Option<String>| value.unwrap_or_default();
    for point in points {
        writer.write_record([
            point.allocator.clone(),
            point.size_bytes.to_string(),
            format!("{:.1}", point.rps),
            optional(point.latency_p99_us.map(|v| v.to_string())),
            optional(point.allocs_per_s.map(|v| format!("{v:.1}"))),
            optional(point.alloc_bytes_per_s.map(|v| format!("{v:.0}"))),
            format!("{:.1}", point.minor_faults_per_s),
            point.peak_rss_bytes.to_string(),
            optional(point.reclaim_events.map(|v| v.to_string())),
            point.errors.to_string(),
            point.run_dir.clone(),
            optional(point.cpu_us_per_request.map(|v| format!("{v:.2}"))),
            optional(point.cpu_us_per_request_min.map(|v| format!("{v:.2}"))),
            optional(point.cpu_us_per_request_max.map(|v| format!("{v:.2}"))),
            optional(point.rps_min.map(|v| format!("{v:.1}"))),
            optional(point.rps_max.map(|v| format!("{v:.1}"))),
            point.repetitions.len().to_string(),
            point.runtime.clone(),
            optional(point.measured_gc.clone()),
            kind_rates(&point.gc_per_s),
            kind_rates(&point.gc_per_s_min),
            kind_rates(&point.gc_per_s_max),
            kind_rates(&point.gc_per_1k_requests),
            kind_rates(&point.gc_per_1k_requests_min),
            kind_rates(&point.gc_per_1k_requests_max),
            optional(point.external_peak_bytes.map(|v| v.to_string())),
        ])?;
    }
    writer
        .into_inner()
        .map_err(|err| anyhow::anyhow!("cannot write the sweep CSV: {err}"))
}

/// `gen0=380.2;gen1=6.5` (the kinds youngest first); empty without a collector.
fn kind_rates(rates: &std::collections::BTreeMap<String, f64>) -> String {
    crate::diagnostics::MeasuredGc::kinds_in_order(rates.keys().cloned())
        .iter()
        .map(|kind| format!("{kind}={:.2}", rates[kind]))
        .collect::<Vec<_>>()
        .join(";")
}

fn write_replacing(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, path))
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sweep::{SWEEP_FORMAT_VERSION, find_cliffs};

    /// A small synthetic sweep: two allocators, three sizes measured twice, a cliff for
    /// jemalloc (its CPU per request ×40 for a size ×16).
    pub(crate) fn synthetic_sweep() -> SweepResult {
        let sizes = vec![64 << 10, 1 << 20, 16 << 20];
        let mut points = Vec::new();
        for (allocator, rps, cpu) in [
            (
                "system",
                [24_000.0, 21_000.0, 19_500.0],
                [20.0, 40.0, 300.0],
            ),
            (
                "jemalloc",
                [22_000.0, 21_500.0, 6_000.0],
                [21.0, 42.0, 1_700.0],
            ),
        ] {
            for ((size_bytes, rps), cpu) in sizes.iter().zip(rps).zip(cpu) {
                let repetitions = (1..=2)
                    .map(|round| crate::sweep::Repetition {
                        round,
                        run_dir: crate::sweep::run_dir_name(allocator, *size_bytes, round),
                        rps: rps * (0.95 + 0.1 * f64::from(round - 1)),
                        cpu_us_per_request: Some(cpu * (0.98 + 0.04 * f64::from(round - 1))),
                        minor_faults_per_s: 120.0,
                        errors: 0,
                        gc_per_s: Default::default(),
                        gc_per_1k_requests: Default::default(),
                    })
                    .collect();
                points.push(SweepPoint {
                    allocator: allocator.to_string(),
                    runtime: "rust".to_string(),
                    measured_gc: None,
                    gc_per_s: Default::default(),
                    gc_per_s_min: Default::default(),
                    gc_per_s_max: Default::default(),
                    gc_per_1k_requests: Default::default(),
                    gc_per_1k_requests_min: Default::default(),
                    gc_per_1k_requests_max: Default::default(),
                    size_bytes: *size_bytes,
                    rps,
                    latency_p99_us: Some(2_500),
                    allocs_per_s: Some(rps * 3.0),
                    alloc_bytes_per_s: None,
                    minor_faults_per_s: if rps < 10_000.0 {
                        rps * (*size_bytes / 4096) as f64
                    } else {
                        120.0
                    },
                    peak_rss_bytes: 40 << 20,
                    external_peak_bytes: None,
                    reclaim_events: (allocator == "jemalloc").then_some(7),
                    errors: 0,
                    run_dir: crate::sweep::run_dir_name(allocator, *size_bytes, 1),
                    cpu_us_per_request: Some(cpu),
                    cpu_us_per_request_min: Some(cpu * 0.98),
                    cpu_us_per_request_max: Some(cpu * 1.02),
                    rps_min: Some(rps * 0.95),
                    rps_max: Some(rps * 1.05),
                    repetitions,
                });
            }
        }
        let cliffs = find_cliffs(&points, 0.3);
        SweepResult {
            format_version: SWEEP_FORMAT_VERSION,
            scenario: "loh".to_string(),
            sizes_bytes: sizes,
            allocators: vec!["system".to_string(), "jemalloc".to_string()],
            duration_s: 2.0,
            warmup_s: 1.0,
            connections: 32,
            cliff_drop: 0.3,
            repeat: 2,
            points,
            cliffs,
            end: crate::sweep::SweepEnd::Completed,
            command_line: vec!["membench".to_string(), "sweep".to_string()],
            membench_version: String::new(),
            membench_commit: String::new(),
        }
    }

    #[test]
    fn a_sweep_round_trips_through_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let sweep = synthetic_sweep();
        assert_eq!(sweep.cliffs.len(), 1);
        write_sweep_files(dir.path(), &sweep).unwrap();
        assert_eq!(read_sweep(&dir.path().join("sweep.json")).unwrap(), sweep);
        let csv = std::fs::read_to_string(dir.path().join("sweep.csv")).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], SWEEP_CSV_COLUMNS.join(","));
        assert_eq!(lines.len(), 1 + sweep.points.len());
        // system reports no reclaim events and nobody alloc bytes: empty cells, not 0.
        assert_eq!(
            lines[1],
            "system,65536,24000.0,2500,72000.0,,120.0,41943040,,0,system-65536-r1,\
             20.00,19.60,20.40,22800.0,25200.0,2,rust,,,,,,,,"
        );
        assert!(!dir.path().join("sweep.json.partial").exists());
    }

    #[test]
    fn a_sweep_json_written_before_collections_per_1k_requests_reads_back_without_them() {
        let mut sweep = synthetic_sweep();
        sweep.points[0].gc_per_s = [("gen0".to_string(), 380.0)].into();
        let mut json = serde_json::to_value(&sweep).unwrap();
        for point in json["points"].as_array_mut().unwrap() {
            let point = point.as_object_mut().unwrap();
            for field in [
                "gc_per_1k_requests",
                "gc_per_1k_requests_min",
                "gc_per_1k_requests_max",
            ] {
                assert!(point.remove(field).is_some(), "{field}");
            }
            for repetition in point["repetitions"].as_array_mut().unwrap() {
                repetition
                    .as_object_mut()
                    .unwrap()
                    .remove("gc_per_1k_requests");
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sweep.json");
        std::fs::write(&path, json.to_string()).unwrap();
        let read = read_sweep(&path).unwrap();
        assert_eq!(read, sweep);
        // The table falls back to the rate per second it has.
        assert_eq!(crate::sweep::table::gc_cell(&read.points[0]), "gen0 380/s");
    }
}
