//! The page for hand-made results: sections, links, escaping, verdicts and sweep tables.

use super::sections::markdown_cells;
use super::*;
use crate::gallery::discovery::discover;
use crate::report::compare::tests::three_run_dirs;

#[test]
fn escaping_covers_markup_and_quotes() {
    assert_eq!(
        escape("<script>alert(\"x\" & 'y')</script>"),
        "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
    );
    assert_eq!(
        escape("18,234 RPS · p99 1.21 ms"),
        "18,234 RPS · p99 1.21 ms"
    );
}

#[test]
fn hrefs_are_relative_and_encoded() {
    let root = Path::new("/tmp/gallery");
    assert_eq!(
        relative_href(
            root,
            Path::new("/tmp/gallery/loh pair/loh-size84975#1/chart.png")
        )
        .as_deref(),
        Some("loh%20pair/loh-size84975%231/chart.png")
    );
    assert_eq!(relative_href(root, Path::new("/elsewhere/x.png")), None);
}

#[test]
fn a_sweep_section_lists_cliffs_and_marks_them_in_its_table() {
    let root = tempfile::tempdir().unwrap();
    let result = crate::gallery::paragraphs::sweep_fixture(false);
    let sweep = SweepDir {
        dir: root.path().join("sweep"),
        result: result.clone(),
    };
    let section = sweep_section(root.path(), &sweep);
    let cliff = &result.cliffs[0];
    assert!(
        section.body.contains(&escape(&cliff_line(cliff))),
        "{}",
        section.body
    );
    assert!(
        section.body.contains("<b>jemalloc</b>: no cliff"),
        "{}",
        section.body
    );
    // The size after system's cliff is marked, with the drop the sweep computed.
    let marked = format!(
        "<td class=\"num cliff\"><a href=\"sweep/system-{}/chart.png\">{}</a> (-{:.0} %)</td>",
        cliff.to_size_bytes,
        format_rps(cliff.to_rps),
        cliff.drop_fraction * 100.0
    );
    assert!(
        section.body.contains(&marked),
        "{marked} in {}",
        section.body
    );
    assert_eq!(
        section.body.matches("num cliff").count(),
        result.cliffs.len()
    );
    assert!(
        section
            .body
            .contains("Nothing happens at 84,976 bytes in Rust")
    );
}

#[test]
fn markdown_cells_keep_escaped_pipes() {
    assert_eq!(markdown_cells("| a | b\\|c | 1.2 |"), ["a", "b|c", "1.2"]);
}

#[test]
fn a_page_shows_every_run_escaped_with_its_verdicts_and_no_url() {
    let root = tempfile::tempdir().unwrap();
    let pair = root.path().join("pair");
    let (dirs, summaries) = three_run_dirs(&pair);
    std::fs::remove_dir_all(&dirs[2]).unwrap();
    std::fs::write(pair.join("compare.md"), "# membench compare\n").unwrap();
    // A hostile label: the command line is shown on the page.
    let mut summary = crate::report::read_summary(&dirs[0].join("summary.json")).unwrap();
    summary.run.command_line = vec![
        "membench".into(),
        "<b>compare</b>".into(),
        "https://example.invalid".into(),
    ];
    crate::report::write_summary(&dirs[0].join("summary.json"), &summary).unwrap();
    // A run whose server died is said so, highlighted, above its checks.
    let mut died = crate::report::read_summary(&dirs[1].join("summary.json")).unwrap();
    died.run.end = RunEnd::ServerDied("was killed by signal 9".into());
    crate::report::write_summary(&dirs[1].join("summary.json"), &died).unwrap();

    let found = discover(root.path()).unwrap();
    let page = render_page(root.path(), &found, "2026-11-23T12:00:00Z");
    assert!(
        page.contains("&lt;b&gt;compare&lt;/b&gt;"),
        "command line escaped"
    );
    assert!(!page.contains("<b>compare</b>"));
    let this_page = format!("This page: membench {}.", crate::build_info::LONG_VERSION);
    assert!(page.contains(&escape(&this_page)), "{page}");
    for summary in &summaries[..2] {
        for check in &summary.verdict {
            assert!(page.contains(&escape(&check.line())), "{}", check.line());
        }
        assert!(page.contains(&format!(
            "<td class=\"num\">{}</td>",
            crate::format::format_count(summary.load.rps_mean)
        )));
    }
    let died_line = "<li class=\"miss\"><b>bigstring · jemalloc</b>: the run server died: \
                     was killed by signal 9</li>";
    assert!(page.contains(died_line), "{page}");
    assert!(
        page.contains("<li class=\"miss\"><b>bigstring · jemalloc</b>: does not match:"),
        "the sawtooth's failed check is highlighted"
    );
    assert!(
        page.contains("No chart: <code>pair/compare.png</code>"),
        "{page}"
    );
    assert!(
        page.contains("Transient vs leaked strings (bigstring vs staticstring)"),
        "{page}"
    );
    // The only URL is the one the hostile argument brought, in quoted text, not a link.
    assert!(!page.contains("href=\"http"), "no link leaves the folder");
    assert!(!page.contains("src=\"http"));
}
