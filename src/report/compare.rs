//! `membench compare`: saved runs read back from their results directories, and the table
//! that puts their numbers next to each other (text for the terminal, Markdown for notes
//! and issues). The figures are drawn by [`super::chart`] (`render_side_by_side`,
//! `render_overlay`).
//!
//! A compared run is exactly what `membench run` wrote: `summary.json` gives the numbers
//! (the same measured-phase means and whole-run totals as the run's own summary) and
//! `samples.csv` the lines. Nothing is recomputed differently for a comparison.

use std::path::{Path, PathBuf};

use super::format::{format_count, format_params, group_thousands};
use super::samples_csv::read_samples;
use super::summary::{BYTES_PER_MB, RunEnd, Summary, read_summary};
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
    let mut labels: Vec<String> = runs.iter().map(SavedRun::base_label).collect();
    let with_load = |label: &String, run: &SavedRun| format!("{label} · {}", run.series.load);
    let with_dir = |label: &String, run: &SavedRun| {
        let name = run.dir.file_name().map_or_else(
            || run.dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        format!("{label} ({name})")
    };
    for extend in [
        &with_load as &dyn Fn(&String, &SavedRun) -> String,
        &with_dir,
    ] {
        let repeated: Vec<bool> = labels
            .iter()
            .map(|label| labels.iter().filter(|other| *other == label).count() > 1)
            .collect();
        for ((label, run), repeated) in labels.iter_mut().zip(runs).zip(repeated) {
            if repeated {
                *label = extend(label, run);
            }
        }
    }
    labels
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
const HEADERS: [&str; 9] = [
    "run",
    "RPS",
    "p99 (ms)",
    "peak RSS (MB)",
    "heap slope (MB/min)",
    "allocs/s",
    "reclaims",
    "errors",
    "verdict",
];

/// The comparison table, one row per run in the given order; every line ends with `\n`.
/// Cells the run has no value for (a foreign server has no heap) read `—`.
pub fn format_table(runs: &[SavedRun], labels: &[String], format: TableFormat) -> String {
    let rows: Vec<[String; 9]> = runs
        .iter()
        .zip(labels)
        .map(|(run, label)| row(&run.summary, label))
        .collect();
    match format {
        TableFormat::Text => text_table(&rows),
        TableFormat::Markdown => markdown_table(&rows),
    }
}

fn row(summary: &Summary, label: &str) -> [String; 9] {
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

fn text_table(rows: &[[String; 9]]) -> String {
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

fn markdown_table(rows: &[[String; 9]]) -> String {
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
