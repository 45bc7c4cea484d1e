//! Run results: what a run leaves behind and what people read from it.
//!
//! * [`samples_csv`] — `samples.csv`, one row per sampling interval, written and flushed
//!   as the run goes, and read back for `compare`; the columns are the fields of
//!   [`crate::series::Sample`], documented there.
//! * [`summary`] — `summary.json`: the run's facts, totals, means, memory at start, end
//!   and peak, growth slopes.
//! * [`text`] — the short summary printed on stdout.
//! * [`chart`] — the PNG/SVG chart in the style of the ASP.NET Core memory article, with
//!   its embedded [`font`]; also several runs side by side or overlaid on one scale (the
//!   size-sweep chart lives in `sweep::chart` and draws with these pieces).
//! * [`compare`](mod@compare) — saved runs read back for `membench compare`, and the
//!   table of their numbers (text or Markdown).
//! * [`comparison_files`] — the files `membench compare` writes: figure and `compare.md`.
//! * [`atomic_file`] — results files written under a temporary name and renamed when
//!   whole, so a full disk never leaves a cut file.
//! * [`machine`] — cores, memory and kernel of the machine the run was measured on.
//!
//! Everything here works from a [`crate::series::Series`] and run facts; nothing here
//! measures.

pub(crate) mod atomic_file;
pub mod chart;
pub mod compare;
pub mod comparison_files;
pub mod font;
pub mod machine;
mod markdown;
pub(crate) mod metric_columns;
pub mod samples_csv;
pub mod summary;
pub mod text;

pub use chart::{
    CHART_SIZE_PX, ComparedRun, render_chart, render_chart_png, render_chart_svg, render_overlay,
    render_side_by_side, side_by_side_size_px,
};
pub use machine::MachineInfo;
pub use samples_csv::{SAMPLE_COLUMNS, SamplesCsvWriter, read_samples};
pub use summary::{
    CostSummary, LatencySummary, Level, LoadSummary, MODELLED_LABEL, MeasuredGcSummary,
    MemorySummary, MetricsSourceSummary, ModelledGcSummary, ReclaimSummary, ResourcePeaks, RunEnd,
    RunInfo, Spread, Summary, Totals, measured_gc_label, read_summary, summarize, write_summary,
};
pub use text::format_text;
