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

mod json;
mod table;
pub use json::{COMPARISON_FORMAT_VERSION, ComparedRunJson, ComparisonJson, comparison_json};
pub use table::{TableFormat, format_table};

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
            allocator: summary.run.allocator,
            load: summary.load_label.clone(),
            samples,
            modelled_gc: summary.modelled_gc.as_ref().map(|m| m.preset.clone()),
            resources: summary.chart_resources.clone(),
            measured_gc: summary.measured_gc.as_ref().map(|m| m.label.clone()),
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
        let measured = self.summary.measured_gc.as_ref();
        let allocator = match (run.allocator, measured) {
            (_, Some(gc)) => gc
                .runtime
                .as_ref()
                .map_or(gc.label.as_str(), |r| r.name.as_str()),
            (None, None) => "allocator unknown",
            (Some(kind), None) => kind.name(),
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

#[cfg(test)]
pub(crate) mod tests;
