//! What a sweep prints on stdout: a table with one row per size (RPS and minor page faults
//! per second for each allocator, a `↓` where a cliff lands) and one line per allocator
//! naming its cliffs, or saying it has none. Text for the terminal, Markdown for notes.

use super::sizes::format_size;
use super::{Cliff, SweepResult};
use crate::report::format::format_count;

/// How the table is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepTableFormat {
    /// Columns aligned with spaces.
    Text,
    /// A GitHub-flavoured Markdown table.
    Markdown,
}

/// The table of a sweep: `size`, then `<allocator> RPS` and `<allocator> faults/s` per
/// allocator. A size an allocator has no point for shows `—`.
pub fn format_sweep_table(result: &SweepResult, format: SweepTableFormat) -> String {
    let mut header = vec!["size".to_string()];
    for allocator in &result.allocators {
        header.push(format!("{allocator} RPS"));
        header.push(format!("{allocator} faults/s"));
    }
    let mut rows = vec![header];
    for size in &result.sizes_bytes {
        let mut row = vec![format_size(*size)];
        for allocator in &result.allocators {
            match result
                .points
                .iter()
                .find(|p| p.allocator == *allocator && p.size_bytes == *size)
            {
                Some(point) => {
                    let landed = result.cliffs.iter().find(|cliff| {
                        cliff.allocator == *allocator && cliff.to_size_bytes == *size
                    });
                    row.push(match landed {
                        Some(cliff) => {
                            format!("{} ↓{}", format_count(point.rps), percent(cliff))
                        }
                        None => format_count(point.rps),
                    });
                    row.push(format_count(point.minor_faults_per_s));
                }
                None => row.extend(["—".to_string(), "—".to_string()]),
            }
        }
        rows.push(row);
    }
    match format {
        SweepTableFormat::Text => text_table(&rows),
        SweepTableFormat::Markdown => markdown_table(&rows),
    }
}

/// One line per cliff, `cliff: jemalloc 5.7 MiB → 8 MiB: 21.3K → 9.8K RPS (−54 %)`, and
/// for each allocator without one `no cliff (drop > 30 %) between neighbouring sizes for
/// mimalloc`.
pub fn describe_cliffs(result: &SweepResult) -> Vec<String> {
    let mut lines = Vec::new();
    for allocator in &result.allocators {
        let mut found = false;
        for cliff in result.cliffs.iter().filter(|c| c.allocator == *allocator) {
            found = true;
            lines.push(format!(
                "cliff: {allocator} {} → {}: {} → {} RPS (−{} %)",
                format_size(cliff.from_size_bytes),
                format_size(cliff.to_size_bytes),
                format_count(cliff.from_rps),
                format_count(cliff.to_rps),
                (cliff.drop_fraction * 100.0).round()
            ));
        }
        let measured = result.points.iter().any(|p| p.allocator == *allocator);
        if !found && measured {
            lines.push(format!(
                "no cliff (drop > {} %) between neighbouring sizes for {allocator}",
                (result.cliff_drop * 100.0).round()
            ));
        }
    }
    lines
}

/// `54 %` without the space, for a table cell: `54%`.
fn percent(cliff: &Cliff) -> String {
    format!("{:.0}%", cliff.drop_fraction * 100.0)
}

fn text_table(rows: &[Vec<String>]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(index, (cell, width))| {
                // Sizes read left-aligned, numbers right-aligned.
                if index == 0 {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}

fn markdown_table(rows: &[Vec<String>]) -> String {
    let mut text = String::new();
    for (index, row) in rows.iter().enumerate() {
        text.push_str(&format!("| {} |\n", row.join(" | ")));
        if index == 0 {
            let rule: Vec<&str> = row
                .iter()
                .enumerate()
                .map(|(c, _)| if c == 0 { "---" } else { "---:" })
                .collect();
            text.push_str(&format!("| {} |\n", rule.join(" | ")));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::save::tests::synthetic_sweep;

    #[test]
    fn the_table_has_a_row_per_size_and_marks_where_a_cliff_lands() {
        let sweep = synthetic_sweep();
        let text = format_sweep_table(&sweep, SweepTableFormat::Text);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + sweep.sizes_bytes.len());
        assert!(lines[0].starts_with("size"), "{text}");
        assert!(lines[0].contains("jemalloc RPS") && lines[0].contains("system faults/s"));
        let cliff = &sweep.cliffs[0];
        let percent = format!("↓{:.0}%", cliff.drop_fraction * 100.0);
        assert!(
            lines[3].starts_with("16 MiB") && lines[3].contains(&percent),
            "{text}"
        );
        assert!(!lines[2].contains('↓'), "{text}");
        let markdown = format_sweep_table(&sweep, SweepTableFormat::Markdown);
        assert!(
            markdown
                .lines()
                .nth(1)
                .unwrap()
                .starts_with("| --- | ---: |")
        );
    }

    #[test]
    fn each_allocator_gets_its_cliffs_or_a_line_saying_none() {
        let sweep = synthetic_sweep();
        let lines = describe_cliffs(&sweep);
        assert_eq!(
            lines,
            vec![
                "no cliff (drop > 30 %) between neighbouring sizes for system".to_string(),
                format!(
                    "cliff: jemalloc 1 MiB → 16 MiB: 21.5K → 6.0K RPS (−{} %)",
                    ((1.0 - 6_000.0 / 21_500.0) * 100.0f64).round()
                ),
            ]
        );
    }
}
