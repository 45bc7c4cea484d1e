//! The comparison table (text or Markdown): one row per run with its throughput, CPU time
//! per request (median and IQR), latency, peak RSS, heap slope, allocation rate, reclaims,
//! errors, modelled GCs, measured GCs and verdict.

use super::*;
use crate::verdict::Outcome;

/// How the table is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Columns aligned with spaces, for the terminal.
    Text,
    /// A GitHub-flavoured Markdown table.
    Markdown,
}

/// Columns of the table.
const COLUMNS: usize = 13;

/// Column headers with their units; the cells are bare numbers in those units.
const HEADERS: [&str; COLUMNS] = [
    "run",
    "RPS",
    "CPU µs/req (IQR)",
    "p99 (ms)",
    "peak RSS (MB)",
    "heap slope (MB/min)",
    "allocs/s",
    "reclaims",
    "errors",
    "modelled gen0/s",
    "modelled gen2/s",
    "measured GC",
    "verdict",
];

/// The comparison table, one row per run in the given order; every line ends with `\n`.
/// Cells the run has no value for (a foreign server has no heap) read `—`.
pub fn format_table(runs: &[SavedRun], labels: &[String], format: TableFormat) -> String {
    let rows: Vec<[String; COLUMNS]> = runs
        .iter()
        .zip(labels)
        .map(|(run, label)| row(&run.summary, label))
        .collect();
    match format {
        TableFormat::Text => text_table(&rows),
        TableFormat::Markdown => markdown_table(&rows),
    }
}

fn row(summary: &Summary, label: &str) -> [String; COLUMNS] {
    const NONE: &str = "—";
    let memory = &summary.memory;
    [
        label.to_string(),
        format_count(summary.load.rps_mean),
        // The cost that does not depend on how much CPU the server was given, with its
        // spread over the intervals so a reader sees whether two runs differ.
        summary
            .cost
            .cpu_us_per_request
            .map_or(NONE.to_string(), |cpu| {
                format!(
                    "{} ({}–{})",
                    three_digits(cpu.median),
                    three_digits(cpu.q1),
                    three_digits(cpu.q3)
                )
            }),
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
        // A garbage-collected runtime's own collections per second, by kind: measured.
        summary
            .measured_gc
            .as_ref()
            .map_or(NONE.to_string(), |m| m.rates_text()),
        verdict_cell(summary),
    ]
}

/// `2/2 match`, `1/2 match; RSS grows +36.2 MB/min, expected flat`, `—` without
/// expectations; a run that did not complete says so first.
pub(super) fn verdict_cell(summary: &Summary) -> String {
    let mut parts = Vec::new();
    match &summary.run.end {
        RunEnd::Completed => {}
        RunEnd::Interrupted => parts.push("interrupted".to_string()),
        RunEnd::Terminated => parts.push("terminated".to_string()),
        RunEnd::ServerDied(_) => parts.push("server died".to_string()),
    }
    let checks = &summary.verdict;
    if !checks.is_empty() {
        let matched = checks.iter().filter(|check| check.matches).count();
        let mut verdict = format!("{matched}/{} match", checks.len());
        let mut misses: Vec<String> = checks
            .iter()
            .filter(|check| !check.matches)
            .map(
                |check| match (check.outcome(), check.observed, check.slope_per_min) {
                    (Outcome::NoLoad, _, _) => "no load reached the target".to_string(),
                    (Outcome::Inconclusive, _, _) => {
                        format!("{} inconclusive (run longer)", check.metric.label())
                    }
                    (_, Some(shape), Some(slope)) => format!(
                        "{} {} {} {}, expected {}",
                        check.metric.label(),
                        shape.name(),
                        signed_three_digits(slope),
                        check.unit,
                        check.expected.name()
                    ),
                    _ => format!("{} too few samples", check.metric.label()),
                },
            )
            .collect();
        // No load is said once, not once per expectation.
        misses.dedup();
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
pub(super) fn three_digits(value: f64) -> String {
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
pub(super) fn signed_three_digits(value: f64) -> String {
    let digits = three_digits(value.abs());
    if digits.chars().all(|c| matches!(c, '0' | '.' | ',')) {
        format!("±{digits}")
    } else if value < 0.0 {
        format!("-{digits}")
    } else {
        format!("+{digits}")
    }
}

fn text_table(rows: &[[String; COLUMNS]]) -> String {
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

fn markdown_table(rows: &[[String; COLUMNS]]) -> String {
    // Names come from outside: a `|` would end a cell early, `<script>` would be HTML.
    let cell = |text: &str| crate::report::markdown::escape_markdown(text);
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
