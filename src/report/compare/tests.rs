//! Saved runs read back, their labels and the table; `three_run_dirs` is shared with the
//! gallery's tests.

use super::table::{signed_three_digits, three_digits};
use super::*;
use crate::format::format_count;
use crate::report::SamplesCsvWriter;
use crate::report::chart::tests::{foreign_series, leak_series, sawtooth_series};
use crate::report::summary::tests::run_info;
use crate::report::summary::{LatencySummary, summarize, write_summary};
use crate::verdict::{Expectation, Metric, Shape, check_all};

/// Writes a results directory as `membench run` does: samples.csv row by row, then
/// summary.json with the verdicts of `expectations`. The latency is derived from the
/// series' own per-interval p99s, so the table has a number to show.
pub(crate) fn write_run_dir(
    dir: &Path,
    series: &Series,
    p99_us: u64,
    expectations: &[Expectation],
) -> Summary {
    std::fs::create_dir_all(dir).unwrap();
    let mut csv = SamplesCsvWriter::create(&dir.join("samples.csv"), &[]).unwrap();
    for sample in &series.samples {
        csv.append(sample).unwrap();
    }
    let mut info = run_info(
        crate::series::allocator_name(series.allocator),
        RunEnd::Completed,
    );
    info.scenario = series.scenario.clone();
    info.params = series.params.clone();
    let latency = LatencySummary {
        p99_us: Some(p99_us),
        ..LatencySummary::default()
    };
    let mut summary = summarize(series, &info, &latency);
    summary.verdict = check_all(series, expectations);
    write_summary(&dir.join("summary.json"), &summary).unwrap();
    summary
}

fn expect(metric: Metric, shape: Shape) -> Expectation {
    Expectation {
        metric,
        shape,
        threshold_per_min: None,
        at_least: None,
    }
}

/// Three saved runs: a leak (expected to grow: matches), a sawtooth expected flat whose
/// RSS is flat but whose heap is asked to grow (one of two does not match), and a
/// foreign server (no heap, no expectations).
pub(crate) fn three_run_dirs(root: &Path) -> (Vec<PathBuf>, Vec<Summary>) {
    let mut leak = leak_series();
    for sample in &mut leak.samples {
        sample.allocs_per_s = Some(52_000.0);
    }
    let runs = [
        (
            leak,
            "leak",
            2_400,
            vec![expect(Metric::HeapLive, Shape::Grows)],
        ),
        (
            sawtooth_series(),
            "sawtooth",
            31_000,
            vec![
                expect(Metric::Rss, Shape::Flat),
                expect(Metric::HeapLive, Shape::Grows),
            ],
        ),
        (foreign_series(), "foreign", 850, vec![]),
    ];
    let mut dirs = Vec::new();
    let mut summaries = Vec::new();
    for (series, name, p99_us, expectations) in runs {
        let dir = root.join(name);
        summaries.push(write_run_dir(&dir, &series, p99_us, &expectations));
        dirs.push(dir);
    }
    (dirs, summaries)
}

fn row_of<'a>(table: &'a str, label: &str) -> &'a str {
    table
        .lines()
        .find(|line| line.contains(label))
        .unwrap_or_else(|| panic!("no row for {label} in\n{table}"))
}

#[test]
fn a_saved_run_with_the_modelled_lens_shows_it_in_the_table() {
    let root = tempfile::tempdir().unwrap();
    let mut modelled = sawtooth_series();
    modelled.modelled_gc = Some("server".to_string());
    for (i, sample) in modelled.samples.iter_mut().enumerate() {
        sample.modelled_gen0 = Some(2);
        sample.modelled_gen1 = Some(1);
        sample.modelled_gen2 = Some((i % 2) as u64);
        sample.modelled_managed_heap_bytes = Some(1 << 20);
        sample.modelled_managed_heap_peak_bytes = Some(3 << 20);
    }
    let dirs = vec![root.path().join("modelled"), root.path().join("real")];
    let summary = write_run_dir(&dirs[0], &modelled, 1_000, &[]);
    write_run_dir(&dirs[1], &sawtooth_series(), 1_000, &[]);
    let runs = load_runs(&dirs).unwrap();
    assert_eq!(runs[0].series.modelled_gc.as_deref(), Some("server"));
    assert_eq!(runs[0].series.samples, modelled.samples);
    assert_eq!(runs[1].series.modelled_gc, None);
    let lens = summary.modelled_gc.unwrap();
    assert!(lens.gen0_per_s > 0.0 && lens.gen2_per_s > 0.0);
    assert_eq!(lens.label, crate::report::MODELLED_LABEL);
    let labels = run_labels(&runs);
    let table = format_table(&runs, &labels, TableFormat::Text);
    let row = row_of(&table, &labels[0]);
    assert!(row.contains(&format!("{:.2}", lens.gen0_per_s)), "{row}");
    assert!(row.contains(&format!("{:.2}", lens.gen2_per_s)), "{row}");
    assert!(table.lines().next().unwrap().contains("modelled gen2/s"));
}

#[test]
fn saved_runs_read_back_with_their_titles() {
    let root = tempfile::tempdir().unwrap();
    let (dirs, summaries) = three_run_dirs(root.path());
    let runs = load_runs(&dirs).unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0].series.scenario, "staticstring");
    assert_eq!(runs[0].series.samples.len(), leak_series().samples.len());
    assert_eq!(runs[1].summary.totals, summaries[1].totals);
    assert_eq!(
        run_labels(&runs),
        [
            "staticstring · jemalloc",
            "bigstring · jemalloc",
            "target · allocator unknown"
        ]
    );
}

#[test]
fn text_and_markdown_tables_show_each_run_and_its_numbers() {
    let root = tempfile::tempdir().unwrap();
    let (dirs, summaries) = three_run_dirs(root.path());
    let runs = load_runs(&dirs).unwrap();
    let labels = run_labels(&runs);
    for format in [TableFormat::Text, TableFormat::Markdown] {
        let table = format_table(&runs, &labels, format);
        assert_eq!(
            table.lines().count(),
            3 + if format == TableFormat::Markdown {
                2
            } else {
                1
            }
        );
        for (summary, label) in summaries.iter().zip(&labels) {
            let row = row_of(&table, label);
            let peak_mb = summary.memory.rss.peak_bytes as f64 / BYTES_PER_MB;
            assert!(row.contains(&three_digits(peak_mb)), "{row}");
            assert!(row.contains(&format_count(summary.load.rps_mean)), "{row}");
            let p99_ms = summary.latency.p99_us.unwrap() as f64 / 1_000.0;
            assert!(row.contains(&three_digits(p99_ms)), "{row}");
        }
        let leak = row_of(&table, &labels[0]);
        let slope = summaries[0].memory.heap_live_slope_mb_per_min.unwrap();
        assert!(
            slope > 100.0 && leak.contains(&signed_three_digits(slope)),
            "{leak}"
        );
        assert!(leak.contains("52.0K"), "allocations/s: {leak}");
        assert!(leak.contains("1/1 match"), "{leak}");
        let sawtooth = row_of(&table, &labels[1]);
        assert!(sawtooth.contains("1/2 match: live heap flat"), "{sawtooth}");
        assert!(sawtooth.contains("expected grows"), "{sawtooth}");
        let reclaims = summaries[1].reclaim.events_total.unwrap();
        assert!(sawtooth.contains(&group_thousands(reclaims)), "{sawtooth}");
        // A foreign server has no heap slope, allocations or reclaims, and these runs had
        // no modelled lens (two cells) and no measured collector: dashes, not zeros. Its CPU per request is measured
        // from /proc like any server's, with its spread.
        let foreign = row_of(&table, &labels[2]);
        assert_eq!(foreign.matches('—').count(), 7, "{foreign}");
        let cpu = summaries[2].cost.cpu_us_per_request.unwrap();
        assert!(
            foreign.contains(&format!(
                "{} ({}–{})",
                three_digits(cpu.median),
                three_digits(cpu.q1),
                three_digits(cpu.q3)
            )),
            "{foreign}"
        );
    }
    let markdown = format_table(&runs, &labels, TableFormat::Markdown);
    assert!(
        markdown.starts_with("| run | RPS | CPU µs/req (IQR) | p99 (ms) |"),
        "{markdown}"
    );
    assert_eq!(
        markdown.lines().nth(1).unwrap(),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
}

#[test]
fn text_table_columns_line_up() {
    let root = tempfile::tempdir().unwrap();
    let (dirs, _) = three_run_dirs(root.path());
    let runs = load_runs(&dirs).unwrap();
    let table = format_table(&runs, &run_labels(&runs), TableFormat::Text);
    // Numbers are right-aligned: every row's errors cell ends at the header's end.
    let header = table.lines().next().unwrap();
    let errors_at = header.find("errors").unwrap();
    let errors_end = header[..errors_at].chars().count() + "errors".len();
    for line in table.lines().skip(1) {
        let prefix: String = line.chars().take(errors_end).collect();
        assert!(prefix.ends_with(|c: char| c.is_ascii_digit()), "{line}");
    }
}

#[test]
fn one_or_seven_runs_are_refused_naming_what_was_given() {
    let err = check_run_count(vec!["results/a".into()])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("2 to 6 runs, got 1") && err.contains("\"results/a\""),
        "{err}"
    );
    let seven: Vec<PathBuf> = (0..7).map(|i| PathBuf::from(format!("r{i}"))).collect();
    let err = load_runs(&seven).unwrap_err();
    assert!(matches!(
        err.downcast_ref::<CompareError>(),
        Some(CompareError::RunCount { given }) if given.len() == 7
    ));
    let err = check_run_count(Vec::new()).unwrap_err().to_string();
    assert!(err.contains("got 0: none"), "{err}");
}

#[test]
fn a_directory_without_a_summary_is_named_in_the_error() {
    let root = tempfile::tempdir().unwrap();
    let (dirs, _) = three_run_dirs(root.path());
    std::fs::remove_file(dirs[1].join("summary.json")).unwrap();
    let err = load_runs(&dirs).unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains(&format!("\"{}\" has no summary.json", dirs[1].display())),
        "{text}"
    );
    let missing = root.path().join("never-made");
    let err = SavedRun::load(&missing).unwrap_err().to_string();
    assert!(
        err.contains("never-made") && err.contains("not a directory"),
        "{err}"
    );
}

#[test]
fn the_same_run_twice_is_told_apart_by_a_differing_load_then_directory() {
    let root = tempfile::tempdir().unwrap();
    let series = leak_series();
    write_run_dir(&root.path().join("a"), &series, 1_000, &[]);
    write_run_dir(&root.path().join("b"), &series, 1_000, &[]);
    let mut wider = series.clone();
    wider.load = "64 connections, closed loop".into();
    write_run_dir(&root.path().join("c"), &wider, 1_000, &[]);
    let runs = load_runs(&[
        root.path().join("a"),
        root.path().join("b"),
        root.path().join("c"),
    ])
    .unwrap();
    assert_eq!(
        run_labels(&runs),
        [
            "staticstring · jemalloc · 32 connections, closed loop (a)",
            "staticstring · jemalloc · 32 connections, closed loop (b)",
            "staticstring · jemalloc · 64 connections, closed loop",
        ]
    );
    // Without a run that differs in load, the load is not worth repeating.
    assert_eq!(
        run_labels(&runs[..2]),
        ["staticstring · jemalloc (a)", "staticstring · jemalloc (b)"]
    );
}

#[test]
fn numbers_keep_three_digits_and_their_sign() {
    assert_eq!(three_digits(1.214), "1.21");
    assert_eq!(three_digits(31.46), "31.5");
    assert_eq!(three_digits(2_048.4), "2,048");
    assert_eq!(signed_three_digits(-150.2), "-150");
    assert_eq!(signed_three_digits(2.414), "+2.41");
    assert_eq!(signed_three_digits(-0.001), "±0.00");
}

#[test]
fn markdown_cells_escape_names_with_pipes_and_html() {
    let root = tempfile::tempdir().unwrap();
    let (dirs, _) = three_run_dirs(root.path());
    let runs = load_runs(&dirs).unwrap();
    let labels = vec![
        "<script>alert(1)</script>".to_string(),
        "a|b".to_string(),
        "plain".to_string(),
    ];
    let markdown = format_table(&runs, &labels, TableFormat::Markdown);
    assert!(!markdown.contains("<script>"), "{markdown}");
    assert!(markdown.contains("&lt;script&gt;"), "{markdown}");
    assert!(markdown.contains("a\\|b"), "{markdown}");
    // Every line has as many cell borders as the header: no cell was split.
    let borders = |line: &str| line.replace("\\|", "").matches('|').count();
    let header = borders(markdown.lines().next().unwrap());
    for line in markdown.lines() {
        assert_eq!(borders(line), header, "{line}");
    }
}
