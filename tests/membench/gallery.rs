//! `membench gallery` end to end: a real comparison made by `membench compare`, then the
//! page made from its directory, checked against the runs' own summary.json files.

use membench::gallery::facts::format_rps;
use membench::gallery::html::escape;
use membench::report::read_summary;

use crate::support::membench_output;

#[test]
fn a_gallery_of_a_real_comparison_shows_its_chart_verdicts_and_numbers_offline() {
    let root = tempfile::tempdir().unwrap();
    let strings = root.path().join("strings");
    let output = membench_output(&[
        "compare",
        "--run",
        "bigstring,staticstring",
        "--duration",
        "2s",
        "--warmup",
        "1s",
        "--out",
        strings.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "membench compare failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let output = membench_output(&["gallery", root.path().to_str().unwrap()]);
    assert!(
        output.status.success(),
        "membench gallery failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let index = root.path().join("index.html");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        index.display().to_string(),
        "the page's path is printed on stdout"
    );
    let page = std::fs::read_to_string(&index).unwrap();
    assert!(page.contains("src=\"strings/compare.png\""), "{page}");

    let mut summaries = 0;
    for entry in std::fs::read_dir(&strings).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.join("summary.json").is_file() {
            continue;
        }
        summaries += 1;
        let summary = read_summary(&dir.join("summary.json")).unwrap();
        assert!(
            !summary.verdict.is_empty(),
            "{} has expectations",
            dir.display()
        );
        for check in &summary.verdict {
            assert!(
                page.contains(&escape(&check.line())),
                "{} not in the page",
                check.line()
            );
        }
        let rps = format!(
            "{} answered {} RPS",
            summary.run.scenario,
            format_rps(summary.load.rps_mean)
        );
        assert!(page.contains(&rps), "\"{rps}\" not in the page");
        // The footer names the build that made each run, as its summary.json records it.
        let build = format!(
            "membench {} (commit {})",
            summary.membench_version, summary.membench_commit
        );
        assert!(!summary.membench_commit.is_empty(), "{}", dir.display());
        assert!(page.contains(&escape(&build)), "{build} not in the page");
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            page.contains(&format!("href=\"strings/{name}/chart.png\"")),
            "{name}"
        );
    }
    assert_eq!(summaries, 2, "two runs under {}", strings.display());
    // Offline: no URL at all, so nothing is fetched and the folder can be zipped.
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );
}

#[test]
fn a_gallery_of_something_that_is_not_a_directory_is_refused_naming_it() {
    let output = membench_output(&["gallery", "/nonexistent/gallery-dir"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("\"/nonexistent/gallery-dir\" is not a directory"),
        "{stderr}"
    );
}
