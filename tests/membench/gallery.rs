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

/// The "every memory manager" section from real runs: Go's pair around its own boundary
/// (32 KiB) and a Rust run at CoreCLR's, made by `membench run` into one directory as the
/// workshop script does; the page names Go as its summaries describe it, draws the
/// CoreCLR lens as modelled, and prints each run's own figures.
#[test]
fn every_memory_manager_is_built_from_real_runtime_runs() {
    if !crate::runtimes::available("go") {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let set = root.path().join("runtimes");
    let runs: [(&str, &[&str]); 3] = [
        (
            "go-loh-32768",
            &["loh", "--size", "32768", "--runtime", "go"],
        ),
        (
            "go-loh-32769",
            &["loh", "--size", "32769", "--runtime", "go"],
        ),
        ("rust-loh-84976", &["loh", "--size", "84976"]),
    ];
    for (name, args) in runs {
        let out = set.join(name);
        let output = crate::support::membench()
            .env("XDG_CACHE_HOME", crate::runtimes::cache_dir())
            .arg("run")
            .args(args)
            .args(["--duration", "2s", "--warmup", "1s", "--connections", "8"])
            .args(["--out", out.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            matches!(output.status.code(), Some(0 | 3)),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let output = membench_output(&["gallery", root.path().to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let page = std::fs::read_to_string(root.path().join("index.html")).unwrap();
    let start = page
        .find("<section id=\"every-memory-manager\">")
        .expect("the section is on the page");
    let section = &page[start..start + page[start..].find("</section>").unwrap()];
    assert!(section.contains("One pattern, every memory manager"));
    assert!(
        section.contains("85,000 bytes is CoreCLR&#39;s number"),
        "{section}"
    );
    for name in ["go-loh-32768", "go-loh-32769"] {
        let summary = read_summary(&set.join(name).join("summary.json")).unwrap();
        let measured = summary.measured_gc.expect("Go's collections are measured");
        assert_eq!(measured.runtime.as_ref().unwrap().name, "go");
        assert!(section.contains(&escape(&measured.label)), "{section}");
        assert!(
            section.contains(&format!(">{}</span>", format_rps(summary.load.rps_mean))),
            "{name}: RPS {} not on the page",
            format_rps(summary.load.rps_mean)
        );
        for kind in &measured.by_kind {
            assert!(section.contains(&format!("{} ", kind.kind)), "{section}");
        }
        assert!(section.contains(&format!("href=\"runtimes/{name}/chart.png\"")));
    }
    // The Go pair is read as a pair, in a sentence with both sizes.
    assert!(section.contains("from 32,768 to 32,769 bytes"), "{section}");
    // The Rust run carries the CoreCLR lens: drawn hollow and labelled modelled.
    let rust = read_summary(&set.join("rust-loh-84976").join("summary.json")).unwrap();
    assert!(rust.modelled_gc.is_some());
    assert!(section.contains("CoreCLR .NET (modelled, not measured)"));
    assert!(section.contains("class=\"hollow\""));
    assert!(section.contains(&format!(">{}</span>", format_rps(rust.load.rps_mean))));
    // The runtimes not run here are named, with the commands that make their runs.
    assert!(
        section.contains("No loh runs of mono, jvm, node here."),
        "{section}"
    );
    assert!(section.contains("--runtime mono"), "{section}");
}
