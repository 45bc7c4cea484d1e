//! What a sweep prints on stdout: a table with one row per size (RPS and minor page faults
//! per second for each allocator, a `↓` where a cliff lands) and one line per allocator
//! naming its cliffs, or saying it has none. Text for the terminal, Markdown for notes.

use super::point::{FRESH_PERCENT, fresh_page_percent};
use super::sizes::{format_size, size_labels};
use super::{Cliff, SweepResult};
use crate::format::format_count;

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
    let labels = size_labels(&result.sizes_bytes);
    for (size, label) in result.sizes_bytes.iter().zip(labels) {
        let mut row = vec![label];
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
///
/// Each cliff line also says what the size alone would explain (see [`size_alone_drop`])
/// and how the share of the buffer's pages faulted per request changed (see
/// [`fresh_page_percent`]; `page_bytes` is the page size), the two ways to tell an
/// allocator's cliff from bandwidth or noise.
pub fn describe_cliffs(result: &SweepResult, page_bytes: u64) -> Vec<String> {
    let share = |allocator: &str, size: u64| {
        result
            .points
            .iter()
            .find(|p| p.allocator == allocator && p.size_bytes == size)
            .and_then(|p| fresh_page_percent(p, page_bytes))
    };
    let fresh = |allocator: &str, size: u64| {
        share(allocator, size).map_or("—".to_string(), |percent| format!("{percent:.0} %"))
    };
    let mut lines = Vec::new();
    for allocator in &result.allocators {
        let mut found = false;
        for cliff in result.cliffs.iter().filter(|c| c.allocator == *allocator) {
            found = true;
            // Most pages fresh after the drop, most reused before it: the allocator now
            // maps every buffer from the OS (its threshold lies between the two sizes).
            let turned_fresh = matches!(
                (share(allocator, cliff.from_size_bytes), share(allocator, cliff.to_size_bytes)),
                (Some(before), Some(after)) if before < FRESH_PERCENT && after >= FRESH_PERCENT
            );
            let cause = if turned_fresh {
                " ← every request now faults in fresh pages from the OS"
            } else {
                ""
            };
            lines.push(format!(
                "cliff: {allocator} {} → {}: {} → {} RPS (−{} %; size ×{} alone: −{} %; pages faulted per request {} → {})",
                format_size(cliff.from_size_bytes),
                format_size(cliff.to_size_bytes),
                format_count(cliff.from_rps),
                format_count(cliff.to_rps),
                (cliff.drop_fraction * 100.0).round(),
                format_ratio(cliff.to_size_bytes as f64 / cliff.from_size_bytes as f64),
                (size_alone_drop(cliff.from_size_bytes, cliff.to_size_bytes) * 100.0).round(),
                fresh(allocator, cliff.from_size_bytes),
                fresh(allocator, cliff.to_size_bytes)
            ) + cause);
        }
        let measured = result
            .points
            .iter()
            .filter(|p| p.allocator == *allocator)
            .count();
        if measured == 1 {
            lines.push(format!(
                "one size measured for {allocator}: no neighbours to compare"
            ));
        } else if !found && measured > 1 {
            lines.push(format!(
                "no cliff (drop > {} %) between neighbouring sizes for {allocator}",
                (result.cliff_drop * 100.0).round()
            ));
        }
    }
    lines
}

/// The drop in RPS from `from_bytes` to `to_bytes` if each request cost time in
/// proportion to its size and nothing else (a memory-bandwidth-bound server):
/// `1 − from ÷ to`. A measured drop well beyond it is more than the size: a cliff of the
/// allocator; one near it is the bytes themselves.
pub fn size_alone_drop(from_bytes: u64, to_bytes: u64) -> f64 {
    1.0 - from_bytes as f64 / to_bytes.max(1) as f64
}

/// A warning when neighbouring sizes are so far apart that a cost proportional to size
/// alone drops RPS by more than the cliff threshold: such a sweep flags plain bandwidth
/// as cliffs. `None` when the sizes are close enough (2 steps per doubling and 30 %).
pub fn spacing_warning(sizes_bytes: &[u64], cliff_drop: f64) -> Option<String> {
    let (from, to) = sizes_bytes
        .windows(2)
        .map(|pair| (pair[0], pair[1]))
        .max_by(|a, b| size_alone_drop(a.0, a.1).total_cmp(&size_alone_drop(b.0, b.1)))?;
    let drop = size_alone_drop(from, to);
    (drop >= cliff_drop).then(|| {
        format!(
            "note: from {} to {} the size grows ×{}, so a request whose cost grows with its size alone loses {:.0} % of its RPS, more than the {:.0} % that makes a cliff; where the server is bandwidth-bound every such step reads as a cliff (each cliff line says what the size alone explains; --steps-per-doubling 2 keeps neighbours within 29 %)",
            format_size(from),
            format_size(to),
            format_ratio(to as f64 / from as f64),
            drop * 100.0,
            cliff_drop * 100.0
        )
    })
}

/// CPU microseconds per request for people: three significant figures (`23.1`, `412`,
/// `1,700`).
pub fn format_cpu_us(us: f64) -> String {
    if !us.is_finite() {
        return "—".to_string();
    }
    if us >= 1_000.0 {
        crate::format::group_thousands(us.round() as u64)
    } else if us >= 100.0 {
        format!("{us:.0}")
    } else if us >= 10.0 {
        format!("{us:.1}")
    } else {
        format!("{us:.2}")
    }
}

/// `2`, `1.41`, `16`.
fn format_ratio(ratio: f64) -> String {
    let text = format!("{ratio:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
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
    use crate::sweep::parse_size_spec;
    use crate::sweep::save::tests::synthetic_sweep;

    #[test]
    fn two_steps_per_doubling_keep_size_alone_under_the_threshold_and_one_does_not() {
        let spec = parse_size_spec("64KiB..64MiB").unwrap();
        assert_eq!(spacing_warning(&spec.expand(2).unwrap(), 0.3), None);
        let warning = spacing_warning(&spec.expand(1).unwrap(), 0.3).unwrap();
        assert!(
            warning.contains("×2") && warning.contains("50 %"),
            "{warning}"
        );
        assert_eq!(spacing_warning(&[84_975, 84_976], 0.3), None);
        assert_eq!(spacing_warning(&[84_976], 0.3), None);
    }

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
        let lines = describe_cliffs(&sweep, 4096);
        assert_eq!(
            lines,
            vec![
                "no cliff (drop > 30 %) between neighbouring sizes for system".to_string(),
                format!(
                    "cliff: jemalloc 1 MiB → 16 MiB: 21.5K → 6.0K RPS (−{} %; size ×16 alone: −94 %; pages faulted per request {} % → 100 %) ← every request now faults in fresh pages from the OS",
                    ((1.0 - 6_000.0 / 21_500.0) * 100.0f64).round(),
                    // 120 faults/s at 21.5K RPS over 256 pages.
                    (120.0 / 21_500.0 / 256.0 * 100.0f64).round()
                ),
            ]
        );
        let mut one_point = sweep.clone();
        one_point.points.retain(|p| p.size_bytes == 64 << 10);
        one_point.cliffs.clear();
        assert_eq!(
            describe_cliffs(&one_point, 4096)[0],
            "one size measured for system: no neighbours to compare"
        );
    }
}
