//! `membench sweep` end to end: real runs per size against child servers, the sweep's files
//! and the run directory of every point; Ctrl-C in the middle still writes what was
//! measured; bad input is refused before any server starts.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use membench::sweep::{SweepResult, find_cliffs, read_sweep};

use crate::support::{membench, membench_output, wait_until};

fn sweep_json(dir: &Path) -> Option<SweepResult> {
    read_sweep(&dir.join("sweep.json")).ok()
}

#[test]
fn a_tiny_sweep_writes_every_point_and_its_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let output = membench_output(&[
        "sweep",
        "loh",
        "--sizes",
        "64KiB,1MiB",
        "--allocator",
        "jemalloc",
        "--duration",
        "1s",
        "--warmup",
        "250ms",
        "--connections",
        "4",
        "--repeat",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "membench sweep failed: {stderr}");
    assert!(
        stderr.contains("sweep run 4 of 4: jemalloc 1 MiB round 2"),
        "{stderr}"
    );

    for file in ["sweep.json", "sweep.csv", "sweep.png", "sweep.svg"] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let png = std::fs::read(out.join("sweep.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "sweep.png is not a PNG");

    let sweep = sweep_json(&out).expect("sweep.json reads back");
    assert_eq!(sweep.end, "completed");
    assert_eq!(sweep.scenario, "loh");
    assert_eq!(sweep.sizes_bytes, vec![64 << 10, 1 << 20]);
    assert_eq!(sweep.allocators, vec!["jemalloc".to_string()]);
    assert_eq!(sweep.points.len(), 2);
    assert_eq!(sweep.repeat, 2);
    for point in &sweep.points {
        assert!(point.rps > 0.0, "no throughput at {point:?}");
        // Two rounds (plus one more where a cliff was suspected), each its own run.
        assert!(point.repetitions.len() >= 2, "{point:?}");
        let rounds: Vec<u32> = point.repetitions.iter().map(|r| r.round).collect();
        assert_eq!(&rounds[..2], &[1, 2]);
        for repetition in &point.repetitions {
            assert_eq!(
                repetition.run_dir,
                format!("jemalloc-{}-r{}", point.size_bytes, repetition.round)
            );
            let run_dir = out.join(&repetition.run_dir);
            assert!(run_dir.join("summary.json").is_file(), "{run_dir:?}");
            assert!(run_dir.join("samples.csv").is_file(), "{run_dir:?}");
        }
        assert!(
            point.repetitions.iter().any(|r| r.run_dir == point.run_dir),
            "{point:?}"
        );
        // The server's CPU per request was measured, and the median lies in its spread.
        let cpu = point.cpu_us_per_request.expect("CPU per request");
        let (low, high) = (
            point.cpu_us_per_request_min.unwrap(),
            point.cpu_us_per_request_max.unwrap(),
        );
        assert!(cpu > 0.0 && low <= cpu && cpu <= high, "{point:?}");
        let (low, high) = (point.rps_min.unwrap(), point.rps_max.unwrap());
        assert!(low <= point.rps && point.rps <= high, "{point:?}");
    }
    // The saved cliffs are those of the saved points (JSON floats read back to within an
    // ulp, hence no exact comparison of the drop).
    let found = find_cliffs(&sweep.points, sweep.cliff_drop);
    assert_eq!(sweep.cliffs.len(), found.len(), "{:?}", sweep.cliffs);
    for (saved, found) in sweep.cliffs.iter().zip(&found) {
        assert_eq!(
            (&saved.allocator, saved.from_size_bytes, saved.to_size_bytes),
            (&found.allocator, found.from_size_bytes, found.to_size_bytes)
        );
        assert!((saved.drop_fraction - found.drop_fraction).abs() < 1e-9);
    }
    for run in [
        "jemalloc-65536-r1",
        "jemalloc-65536-r2",
        "jemalloc-1048576-r2",
    ] {
        assert!(
            out.join(run).join("summary.json").is_file(),
            "{run} missing"
        );
    }

    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + sweep.points.len());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("64 KiB")
            && stdout.contains("jemalloc RPS")
            && stdout.contains("jemalloc CPU µs/req"),
        "{stdout}"
    );
    assert!(
        stdout.contains("cliff: jemalloc") || stdout.contains("no cliff"),
        "{stdout}"
    );
}

#[test]
fn ctrl_c_stops_the_sweep_and_keeps_the_points_measured() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let mut child = membench()
        .args([
            "sweep",
            "loh",
            "--sizes",
            "64KiB,128KiB,256KiB,512KiB",
            "--duration",
            "1s",
            "--warmup",
            "250ms",
            "--connections",
            "4",
            "--repeat",
            "2",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("membench sweep starts");
    // Interrupt once the first point is written and the second run has begun (its
    // samples.csv exists only after the run armed its Ctrl-C handler, which clears any
    // earlier request).
    let second_running = wait_until(Duration::from_secs(60), || {
        out.join("jemalloc-131072-r1").join("samples.csv").is_file()
            && sweep_json(&out).is_some_and(|sweep| !sweep.points.is_empty())
    });
    assert!(
        second_running,
        "the second point did not start within a minute"
    );
    // SAFETY: kill(2) on our own child's pid has no memory-safety requirements.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0, "SIGINT could not be sent");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));

    let sweep = sweep_json(&out).expect("sweep.json after Ctrl-C");
    assert_eq!(sweep.end, "interrupted");
    assert!(
        !sweep.points.is_empty() && sweep.points.len() < 4,
        "{sweep:?}"
    );
    assert!(sweep.points.iter().all(|point| point.rps > 0.0));
    assert!(out.join("sweep.png").is_file());
}

#[test]
fn a_scenario_without_size_and_bad_sizes_are_refused_with_exit_2() {
    for (args, says) in [
        (vec!["sweep", "ping"], "loh, array, pooledarray"),
        (vec!["sweep", "--sizes", "1.."], "\"1..\""),
        (vec!["sweep", "--sizes", "0"], "\"0\""),
        (vec!["sweep", "--sizes", "100MiB"], "\"100MiB\""),
        (
            vec!["sweep", "--repeat", "0"],
            "--repeat 0 would measure nothing",
        ),
    ] {
        let output = membench_output(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}
