//! STUB CONTRACT — run results: `samples.csv`, `summary.json`, the text summary, trend
//! estimates and the charts. The report owner replaces the bodies and splits the module
//! into files; the public items below are what the `run` command uses.

use std::path::Path;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::series::{Sample, Series};

/// Appends one CSV row per sample as samples are taken, flushing each row.
pub struct SamplesCsvWriter;

impl SamplesCsvWriter {
    /// Creates (truncates) the file and writes the header; fails early if not writable.
    pub fn create(_path: &Path) -> anyhow::Result<SamplesCsvWriter> {
        Ok(SamplesCsvWriter)
    }
    pub fn append(&mut self, _sample: &Sample) -> anyhow::Result<()> {
        Ok(())
    }
}

/// How a run ended, as written in the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum RunEnd {
    Completed,
    Interrupted,
    ServerDied(String),
}

/// The machine a run was measured on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MachineInfo {
    pub cores: usize,
    pub memory_bytes: u64,
    pub kernel: String,
}

impl MachineInfo {
    pub fn detect() -> MachineInfo {
        MachineInfo::default()
    }
}

/// Facts about the run that are not in the samples.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInfo {
    pub command_line: Vec<String>,
    pub scenario: String,
    pub params: Vec<(String, String)>,
    pub path: String,
    pub allocator: String,
    pub target: String,
    pub pid: u32,
    pub machine: MachineInfo,
    /// RFC 3339, UTC.
    pub started: String,
    pub ended: String,
    pub connections: usize,
    pub rate_per_s: Option<f64>,
    pub duration_s: Option<f64>,
    pub requests: Option<u64>,
    pub warmup_s: f64,
    pub interval_s: f64,
    pub end: RunEnd,
}

/// Whole-run latency percentiles in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    pub p50_us: Option<u64>,
    pub p90_us: Option<u64>,
    pub p99_us: Option<u64>,
    pub p999_us: Option<u64>,
    pub max_us: Option<u64>,
    pub mean_us: Option<f64>,
}

impl LatencySummary {
    pub fn from_histogram(_histogram: &Histogram<u64>) -> LatencySummary {
        LatencySummary::default()
    }
}

/// `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub run: RunInfo,
}

pub fn summarize(_series: &Series, info: &RunInfo, _latency: &LatencySummary) -> Summary {
    Summary { run: info.clone() }
}

pub fn write_summary(_path: &Path, _summary: &Summary) -> anyhow::Result<()> {
    Ok(())
}

/// Draws the chart as PNG (and SVG when asked).
pub fn render_chart(_series: &Series, _png: &Path, _svg: Option<&Path>) -> anyhow::Result<()> {
    Ok(())
}

/// The short text summary printed on stdout.
pub fn format_text(_summary: &Summary) -> String {
    String::new()
}
