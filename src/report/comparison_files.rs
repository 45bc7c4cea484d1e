//! What `membench compare` writes into its directory: the figure (`compare.png`, `.svg`,
//! side by side or overlaid), `compare.md` (the figure, the table in Markdown, and
//! where every run's directory is) and `compare.json` (the same runs as data).

use std::path::Path;

use anyhow::Context;

use super::chart::{ComparedRun, render_overlay, render_side_by_side};
use super::compare::{ComparisonJson, SavedRun, TableFormat, comparison_json, format_table};
use super::markdown::escape_markdown;

/// How the runs are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One column per run, on one shared scale.
    SideBySide,
    /// Every run's lines in its own colour on one chart.
    Overlay,
}

/// What [`write_comparison`] wrote that the command may print.
pub struct WrittenComparison {
    /// The table in Markdown, as in compare.md.
    pub markdown: String,
    /// The document of compare.json.
    pub json: ComparisonJson,
}

/// Writes the figure, `compare.md` and `compare.json` for `runs` (labelled `labels`) into
/// `out_dir`, creating it.
pub fn write_comparison(
    runs: &[SavedRun],
    labels: &[String],
    out_dir: &Path,
    layout: Layout,
) -> anyhow::Result<WrittenComparison> {
    std::fs::create_dir_all(out_dir).with_context(|| {
        format!(
            "cannot create the output directory {}; choose another with --out DIR",
            out_dir.display()
        )
    })?;
    let compared: Vec<ComparedRun> = runs
        .iter()
        .zip(labels)
        .map(|(run, label)| ComparedRun {
            label: label.clone(),
            series: &run.series,
        })
        .collect();
    let png = out_dir.join("compare.png");
    let svg = out_dir.join("compare.svg");
    match layout {
        Layout::Overlay => render_overlay(&compared, &png, Some(&svg))?,
        Layout::SideBySide => render_side_by_side(&compared, &png, Some(&svg))?,
    }
    let markdown = format_table(runs, labels, TableFormat::Markdown);
    let mut notes = String::from("# membench compare\n\n![comparison](compare.png)\n\n");
    notes.push_str(&markdown);
    notes.push_str("\nRuns:\n\n");
    for (run, label) in runs.iter().zip(labels) {
        // Labels and directories are names from outside: escaped, never raw Markdown.
        notes.push_str(&format!(
            "- {}: {}\n",
            escape_markdown(label),
            escape_markdown(&run.dir.display().to_string())
        ));
    }
    let md = out_dir.join("compare.md");
    std::fs::write(&md, notes).with_context(|| format!("cannot write {}", md.display()))?;
    let json = comparison_json(
        runs,
        labels,
        match layout {
            Layout::SideBySide => "side_by_side",
            Layout::Overlay => "overlay",
        },
    );
    let path = out_dir.join("compare.json");
    let text = serde_json::to_string_pretty(&json).context("cannot serialise the comparison")?;
    std::fs::write(&path, text + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(WrittenComparison { markdown, json })
}
