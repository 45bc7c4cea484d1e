//! `membench compare`: saved runs read back from their results directories, and the table
//! that puts their numbers next to each other (text for the terminal, Markdown for notes
//! and issues). The figures are drawn by [`super::chart`] (`render_side_by_side`,
//! `render_overlay`).
//!
//! A compared run is exactly what `membench run` wrote: `summary.json` gives the numbers
//! (the same measured-phase means and whole-run totals as the run's own summary) and
//! `samples.csv` the lines. Nothing is recomputed differently for a comparison.

use std::path::{Path, PathBuf};

use super::samples_csv::read_samples;
use super::summary::{RunEnd, Summary, read_summary};
use crate::format::{BYTES_PER_MB, format_count, format_params, group_thousands};
use crate::series::Series;

/// Fewest runs a comparison takes.
pub const MIN_COMPARED_RUNS: usize = 2;
/// Most runs a comparison takes: six columns of 600 px are already 3600 px wide, and the
/// overlay has six colours that stay apart.
pub const MAX_COMPARED_RUNS: usize = 6;

/// Why the given runs cannot be compared: bad arguments, not a failure of membench.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error(
        "compare takes {MIN_COMPARED_RUNS} to {MAX_COMPARED_RUNS} runs, got {}: {}",
        given.len(),
        describe_given(given)
    )]
    RunCount { given: Vec<String> },
    #[error(
        "\"{}\" has no {file}: expected a results directory written by `membench run` (samples.csv and summary.json)",
        dir.display()
    )]
    MissingFile { dir: PathBuf, file: &'static str },
    #[error("\"{}\" is not a directory: expected a results directory written by `membench run`", dir.display())]
    NotADirectory { dir: PathBuf },
}

fn describe_given(given: &[String]) -> String {
    if given.is_empty() {
        "none (name results directories, or runs to make with --run SCENARIO[,SCENARIO…])"
            .to_string()
    } else {
        given
            .iter()
            .map(|run| format!("\"{run}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Checks the number of runs before any is read or made; `given` names them for the error.
pub fn check_run_count(given: Vec<String>) -> Result<(), CompareError> {
    if (MIN_COMPARED_RUNS..=MAX_COMPARED_RUNS).contains(&given.len()) {
        Ok(())
    } else {
        Err(CompareError::RunCount { given })
    }
}

/// One run read back from its results directory.
#[derive(Debug, Clone)]
pub struct SavedRun {
    pub dir: PathBuf,
    pub summary: Summary,
    /// The samples, titled from the summary's run facts.
    pub series: Series,
}

impl SavedRun {
    /// Reads `summary.json` and `samples.csv` from a results directory. A missing
    /// directory or file is a [`CompareError`] naming it; an unreadable one an error
    /// with the file's path.
    pub fn load(dir: &Path) -> anyhow::Result<SavedRun> {
        if !dir.is_dir() {
            return Err(CompareError::NotADirectory {
                dir: dir.to_path_buf(),
            }
            .into());
        }
        for file in ["summary.json", "samples.csv"] {
            if !dir.join(file).is_file() {
                return Err(CompareError::MissingFile {
                    dir: dir.to_path_buf(),
                    file,
                }
                .into());
            }
        }
        let summary = read_summary(&dir.join("summary.json"))?;
        let samples = read_samples(&dir.join("samples.csv"))?;
        let series = Series {
            scenario: summary.run.scenario.clone(),
            params: summary.run.params.clone(),
            allocator: summary.run.allocator.clone(),
            load: summary.load_label.clone(),
            samples,
            modelled_gc: summary.modelled_gc.as_ref().map(|m| m.preset.clone()),
        };
        Ok(SavedRun {
            dir: dir.to_path_buf(),
            summary,
            series,
        })
    }

    /// `loh size=84976 · jemalloc`: what tells runs apart in most comparisons.
    fn base_label(&self) -> String {
        let run = &self.summary.run;
        let params = format_params(&run.params);
        let allocator = match run.allocator.as_str() {
            "unknown" => "allocator unknown",
            name => name,
        };
        if params.is_empty() {
            format!("{} · {allocator}", run.scenario)
        } else {
            format!("{} {params} · {allocator}", run.scenario)
        }
    }
}

/// Checks the count, then reads every directory, in order.
pub fn load_runs(dirs: &[PathBuf]) -> anyhow::Result<Vec<SavedRun>> {
    check_run_count(dirs.iter().map(|d| d.display().to_string()).collect())?;
    dirs.iter().map(|dir| SavedRun::load(dir)).collect()
}

/// A label per run that tells it apart from the others: scenario, parameters and
/// allocator; then the load (`32 connections, closed loop`) where that is what differs;
/// then the directory name where even that is the same (the same run made twice).
pub fn run_labels(runs: &[SavedRun]) -> Vec<String> {
    let base: Vec<String> = runs.iter().map(SavedRun::base_label).collect();
    // `index` has a twin: another run with the same label for which `differs` holds.
    let has_twin = |labels: &[String], index: usize, differs: &dyn Fn(usize) -> bool| {
        (0..labels.len())
            .any(|other| other != index && labels[other] == labels[index] && differs(other))
    };
    let with_load: Vec<String> = (0..runs.len())
        .map(|index| {
            let load = &runs[index].series.load;
            if has_twin(&base, index, &|other| runs[other].series.load != *load) {
                format!("{} · {load}", base[index])
            } else {
                base[index].clone()
            }
        })
        .collect();
    (0..runs.len())
        .map(|index| {
            if has_twin(&with_load, index, &|_| true) {
                let dir = &runs[index].dir;
                let name = dir.file_name().map_or_else(
                    || dir.display().to_string(),
                    |name| name.to_string_lossy().into_owned(),
                );
                format!("{} ({name})", with_load[index])
            } else {
                with_load[index].clone()
            }
        })
        .collect()
}

/// How the table is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Columns aligned with spaces, for the terminal.
    Text,
    /// A GitHub-flavoured Markdown table.
    Markdown,
}

/// Column headers with their units; the cells are bare numbers in those units.
const HEADERS: [&str; 11] = [
    "run",
    "RPS",
    "p99 (ms)",
    "peak RSS (MB)",
    "heap slope (MB/min)",
    "allocs/s",
    "reclaims",
    "errors",
    "modelled gen0/s",
    "modelled gen2/s",
    "verdict",
];

/// The comparison table, one row per run in the given order; every line ends with `\n`.
/// Cells the run has no value for (a foreign server has no heap) read `—`.
pub fn format_table(runs: &[SavedRun], labels: &[String], format: TableFormat) -> String {
    let rows: Vec<[String; 11]> = runs
        .iter()
        .zip(labels)
        .map(|(run, label)| row(&run.summary, label))
        .collect();
    match format {
        TableFormat::Text => text_table(&rows),
        TableFormat::Markdown => markdown_table(&rows),
    }
}

fn row(summary: &Summary, label: &str) -> [String; 11] {
    const NONE: &str = "—";
    let memory = &summary.memory;
    [
        label.to_string(),
        format_count(summary.load.rps_mean),
        summary
            .latency
            .p99_us
            .map_or(NONE.to_string(), |us| three_digits(us as f64 / 1_000.0)),
        three_digits(memory.rss.peak_bytes as f64 / BYTES_PER_MB),
        memory
            .heap_live_slope_mb_per_min
            .map_or(NONE.to_string(), signed_three_digits),
        summary
            .load
            .allocs_per_s_mean
            .map_or(NONE.to_string(), format_count),
        summary
            .reclaim
            .events_total
            .map_or(NONE.to_string(), group_thousands),
        group_thousands(summary.totals.errors),
        // The modelled .NET GC lens: collections per second of a model, not measured.
        summary
            .modelled_gc
            .as_ref()
            .map_or(NONE.to_string(), |m| format!("{:.2}", m.gen0_per_s)),
        summary
            .modelled_gc
            .as_ref()
            .map_or(NONE.to_string(), |m| format!("{:.2}", m.gen2_per_s)),
        verdict_cell(summary),
    ]
}

/// `2/2 match`, `1/2 match; RSS grows +36.2 MB/min, expected flat`, `—` without
/// expectations; a run that did not complete says so first.
fn verdict_cell(summary: &Summary) -> String {
    let mut parts = Vec::new();
    match &summary.run.end {
        RunEnd::Completed => {}
        RunEnd::Interrupted => parts.push("interrupted".to_string()),
        RunEnd::ServerDied(_) => parts.push("server died".to_string()),
    }
    let checks = &summary.verdict;
    if !checks.is_empty() {
        let matched = checks.iter().filter(|check| check.matches).count();
        let mut verdict = format!("{matched}/{} match", checks.len());
        let misses: Vec<String> = checks
            .iter()
            .filter(|check| !check.matches)
            .map(|check| match (check.observed, check.slope_per_min) {
                (Some(shape), Some(slope)) => format!(
                    "{} {} {} {}, expected {}",
                    check.metric.label(),
                    shape.name(),
                    signed_three_digits(slope),
                    check.unit,
                    check.expected.name()
                ),
                _ => format!("{} too few samples", check.metric.label()),
            })
            .collect();
        if !misses.is_empty() {
            verdict.push_str(": ");
            verdict.push_str(&misses.join("; "));
        }
        parts.push(verdict);
    }
    if parts.is_empty() {
        "—".to_string()
    } else {
        parts.join("; ")
    }
}

/// Three significant digits up to 100, whole numbers (grouped) above: `1.21`, `31.5`, `457`.
fn three_digits(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude < 10.0 {
        format!("{value:.2}")
    } else if magnitude < 100.0 {
        format!("{value:.1}")
    } else if value < 0.0 {
        format!("-{}", group_thousands(magnitude.round() as u64))
    } else {
        group_thousands(magnitude.round() as u64)
    }
}

/// `+2.41`, `-150`, `±0.00`: a slope with its sign, never `-0.00`.
fn signed_three_digits(value: f64) -> String {
    let digits = three_digits(value.abs());
    if digits.chars().all(|c| matches!(c, '0' | '.' | ',')) {
        format!("±{digits}")
    } else if value < 0.0 {
        format!("-{digits}")
    } else {
        format!("+{digits}")
    }
}

fn text_table(rows: &[[String; 11]]) -> String {
    let width = |column: usize| {
        rows.iter()
            .map(|row| row[column].chars().count())
            .chain([HEADERS[column].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..HEADERS.len()).map(width).collect();
    let line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (column, cell) in cells.iter().enumerate() {
            let pad = widths[column] - cell.chars().count();
            let last = column == cells.len() - 1;
            // Names and verdicts read from the left, numbers line up on the right.
            if column == 0 || last {
                text.push_str(cell);
                if !last {
                    text.push_str(&" ".repeat(pad));
                }
            } else {
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
            }
            if !last {
                text.push_str("  ");
            }
        }
        text.push('\n');
        text
    };
    let mut text = line(HEADERS.to_vec());
    for row in rows {
        text.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    text
}

fn markdown_table(rows: &[[String; 11]]) -> String {
    // A `|` inside a cell would end it early.
    let cell = |text: &str| text.replace('|', "\\|");
    let mut text = format!("| {} |\n", HEADERS.join(" | "));
    text.push_str("|---|");
    text.push_str(&"---:|".repeat(HEADERS.len() - 2));
    text.push_str("---|\n");
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        text.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    text
}

#[cfg(test)]
pub(crate) mod tests {
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
        let mut csv = SamplesCsvWriter::create(&dir.join("samples.csv")).unwrap();
        for sample in &series.samples {
            csv.append(sample).unwrap();
        }
        let mut info = run_info(&series.allocator, RunEnd::Completed);
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
            // no modelled lens (two cells): dashes, not zeros.
            let foreign = row_of(&table, &labels[2]);
            assert_eq!(foreign.matches('—').count(), 6, "{foreign}");
        }
        let markdown = format_table(&runs, &labels, TableFormat::Markdown);
        assert!(
            markdown.starts_with("| run | RPS | p99 (ms) |"),
            "{markdown}"
        );
        assert_eq!(
            markdown.lines().nth(1).unwrap(),
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
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
        let errors_end = header.find("errors").unwrap() + "errors".len();
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
}
