//! A full disk during a run, made without root: the run is started with a file-size
//! limit (`RLIMIT_FSIZE`, SIGXFSZ ignored), so every write past the limit fails with
//! EFBIG as it would with ENOSPC. The run must still print its summary, exit 1 naming
//! the files it could not write, and leave no cut file behind.

use std::os::unix::process::CommandExt;
use std::path::Path;

use crate::support::membench;

/// Bytes any one file of the run may reach: the samples.csv header and a few rows.
const FILE_LIMIT_BYTES: u64 = 4096;

#[test]
fn a_full_disk_keeps_the_summary_exits_1_and_leaves_no_cut_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = membench();
    command
        .args(["run", "bigstring", "--duration", "2s", "--warmup", "500ms"])
        .args(["--interval", "50ms", "--connections", "2"])
        .args(["--out", dir.path().to_str().unwrap()]);
    // SAFETY: only async-signal-safe calls (setrlimit, signal) between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: FILE_LIMIT_BYTES,
                rlim_max: FILE_LIMIT_BYTES,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    // The summary still reaches stdout.
    assert!(stdout.contains("results: "), "{stdout}\n{stderr}");
    assert!(stderr.contains("could not write"), "{stderr}");
    assert!(stderr.contains("samples.csv"), "{stderr}");
    // Said once, however many rows followed.
    assert_eq!(
        stderr.matches("sampling goes on in memory").count(),
        1,
        "{stderr}"
    );

    let names = file_names(dir.path());
    assert!(
        !names.iter().any(|name| name.contains(".partial")),
        "{names:?}"
    );
    // samples.csv holds whole rows only.
    let csv = std::fs::read_to_string(dir.path().join("samples.csv")).unwrap();
    assert!(csv.ends_with('\n'), "cut mid-row: {csv:?}");
    let mut lines = csv.lines();
    let columns = lines.next().unwrap().split(',').count();
    for line in lines {
        assert_eq!(line.split(',').count(), columns, "a cut row: {line:?}");
    }
    // Whatever else exists is whole.
    if let Ok(text) = std::fs::read_to_string(dir.path().join("summary.json")) {
        serde_json::from_str::<serde_json::Value>(&text).expect("a whole summary.json");
    }
    if let Ok(text) = std::fs::read_to_string(dir.path().join("chart.svg")) {
        assert!(text.trim_end().ends_with("</svg>"), "a cut chart.svg");
    }
    assert!(
        !names.iter().any(|name| name == "chart.png"),
        "a chart.png larger than the limit cannot be whole: {names:?}"
    );
}

fn file_names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}
