//! What a sweep prints on stdout: a table with one row per size (for each allocator the
//! server's CPU µs per request and RPS, each a median with its min–max over the
//! repetitions, and minor page faults per second; a `↑` where a cliff lands) and one line
//! per allocator naming its cliffs with their evidence, or its largest step and why it is
//! no cliff. Text for the terminal, Markdown for notes.

use std::collections::BTreeMap;

use super::cliff::{Step, judge_steps};
use super::point::{FRESH_PERCENT, fresh_page_percent};
use super::sizes::{format_size, size_labels};
use super::{SweepPoint, SweepResult};
use crate::format::format_count;

/// How the table is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepTableFormat {
    /// Columns aligned with spaces.
    Text,
    /// A GitHub-flavoured Markdown table.
    Markdown,
}

/// The table of a sweep: `size`, then `<allocator> CPU µs/req`, `<allocator> RPS` and
/// `<allocator> faults/s` per allocator; a median with `[min–max]` when the point was
/// measured more than once. A size an allocator has no point for shows `—`.
pub fn format_sweep_table(result: &SweepResult, format: SweepTableFormat) -> String {
    let mut header = vec!["size".to_string()];
    // A curve whose runtime measured its collections gets a column of their rates.
    let collected = |curve: &str| {
        result
            .points
            .iter()
            .any(|p| p.allocator == curve && p.measured_gc.is_some())
    };
    // A curve whose runtime measured memory outside its heap (Node's Buffers) gets its peak.
    let external = |curve: &str| {
        result
            .points
            .iter()
            .any(|p| p.allocator == curve && p.external_peak_bytes.is_some())
    };
    for allocator in &result.allocators {
        header.push(format!("{allocator} CPU µs/req"));
        header.push(format!("{allocator} RPS"));
        header.push(format!("{allocator} faults/s"));
        if external(allocator) {
            header.push(format!("{allocator} external peak"));
        }
        if collected(allocator) {
            let per = if result
                .points
                .iter()
                .any(|p| p.allocator == *allocator && !p.gc_per_1k_requests.is_empty())
            {
                "per 1k req"
            } else {
                "/s"
            };
            header.push(format!("{allocator} measured GC {per}"));
        }
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
                    let cpu = cpu_cell(point);
                    row.push(match landed {
                        Some(cliff) => format!("{cpu} ↑×{}", format_ratio(cliff.cost_ratio)),
                        None => cpu,
                    });
                    row.push(rps_cell(point));
                    row.push(format_count(point.minor_faults_per_s));
                    if external(allocator) {
                        row.push(
                            point
                                .external_peak_bytes
                                .map_or("—".to_string(), crate::format::format_bytes),
                        );
                    }
                    if collected(allocator) {
                        row.push(gc_cell(point));
                    }
                }
                None => {
                    row.extend(["—".to_string(), "—".to_string(), "—".to_string()]);
                    if external(allocator) {
                        row.push("—".to_string());
                    }
                    if collected(allocator) {
                        row.push("—".to_string());
                    }
                }
            }
        }
        rows.push(row);
    }
    match format {
        SweepTableFormat::Text => text_table(&rows),
        SweepTableFormat::Markdown => markdown_table(&rows),
    }
}

/// `41.0 [40.0–46.0]`, or `41.0` for one repetition, `—` without CPU.
fn cpu_cell(point: &SweepPoint) -> String {
    let Some(cpu) = point.cpu_us_per_request else {
        return "—".to_string();
    };
    match (point.cpu_us_per_request_min, point.cpu_us_per_request_max) {
        (Some(low), Some(high)) if point.repetitions.len() > 1 => format!(
            "{} [{}–{}]",
            format_cpu_us(cpu),
            format_cpu_us(low),
            format_cpu_us(high)
        ),
        _ => format_cpu_us(cpu),
    }
}

/// Measured collections per 1,000 responses by kind, youngest first: `gen0 2.1 [2.0–2.3],
/// gen1 0.02 [0.01–0.03]` (the spread when measured more than once); in a sweep written
/// before that existed, per second (`gen0 380/s`); `—` without a collector.
pub fn gc_cell(point: &SweepPoint) -> String {
    if !point.gc_per_1k_requests.is_empty() {
        return kind_cell(
            point,
            &point.gc_per_1k_requests,
            &point.gc_per_1k_requests_min,
            &point.gc_per_1k_requests_max,
            "",
        );
    }
    if point.gc_per_s.is_empty() {
        return "—".to_string();
    }
    kind_cell(
        point,
        &point.gc_per_s,
        &point.gc_per_s_min,
        &point.gc_per_s_max,
        "/s",
    )
}

fn kind_cell(
    point: &SweepPoint,
    values: &BTreeMap<String, f64>,
    lows: &BTreeMap<String, f64>,
    highs: &BTreeMap<String, f64>,
    unit: &str,
) -> String {
    crate::diagnostics::MeasuredGc::kinds_in_order(values.keys().cloned())
        .iter()
        .map(|kind| {
            let rate = format_rate(values[kind]);
            match (lows.get(kind), highs.get(kind)) {
                (Some(low), Some(high)) if point.repetitions.len() > 1 => {
                    format!(
                        "{kind} {rate}{unit} [{}–{}]",
                        format_rate(*low),
                        format_rate(*high)
                    )
                }
                _ => format!("{kind} {rate}{unit}"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A rate (per second or per 1,000 responses) for people: `0`, `0.42`, `6.5`, `380`.
fn format_rate(per_s: f64) -> String {
    if per_s == 0.0 {
        "0".to_string()
    } else if per_s >= 100.0 {
        format!("{per_s:.0}")
    } else if per_s >= 10.0 {
        format!("{per_s:.1}")
    } else {
        format!("{per_s:.2}")
    }
}

/// `20.0K [10.0K–21.0K]`, or `20.0K` for one repetition.
fn rps_cell(point: &SweepPoint) -> String {
    match (point.rps_min, point.rps_max) {
        (Some(low), Some(high)) if point.repetitions.len() > 1 => format!(
            "{} [{}–{}]",
            format_count(point.rps),
            format_count(low),
            format_count(high)
        ),
        _ => format_count(point.rps),
    }
}

/// One line per cliff with its evidence, e.g. `cliff: jemalloc 5.7 MiB → 8 MiB: CPU per
/// request 140 [139–150] → 420 [400–460] µs (×3, more than the size step ×1.41 and apart
/// beyond the spreads; re-measured); RPS 10.7K → 3.6K (−67 %); pages faulted per request
/// 1 % → 100 % ← every request now faults in fresh pages from the OS`; for each allocator
/// without one, its largest step and why it is none (`within noise`: the spreads overlap;
/// `within the size step`: apart, but no more than the size explains).
///
/// The share of the buffer's pages faulted per request (see [`fresh_page_percent`];
/// `page_bytes` is the page size) tells an allocator's own cliff from anything else.
pub fn describe_cliffs(result: &SweepResult, page_bytes: u64) -> Vec<String> {
    let point = |allocator: &str, size: u64| {
        result
            .points
            .iter()
            .find(|p| p.allocator == allocator && p.size_bytes == size)
    };
    let share = |allocator: &str, size: u64| {
        point(allocator, size).and_then(|p| fresh_page_percent(p, page_bytes))
    };
    let fresh = |allocator: &str, size: u64| {
        share(allocator, size).map_or("—".to_string(), |percent| format!("{percent:.0} %"))
    };
    let steps = judge_steps(&result.points, result.cliff_drop);
    let mut lines = Vec::new();
    for allocator in &result.allocators {
        let mut found = false;
        for cliff in result.cliffs.iter().filter(|c| c.allocator == *allocator) {
            found = true;
            // Most pages fresh after the step, most reused before it: the allocator now
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
            let (from, to) = (
                point(allocator, cliff.from_size_bytes),
                point(allocator, cliff.to_size_bytes),
            );
            let cost = match (from, to) {
                (Some(from), Some(to)) if cliff.judged_on == "cpu_us_per_request" => {
                    format!("CPU per request {} → {} µs", cpu_cell(from), cpu_cell(to))
                }
                (Some(from), Some(to)) => {
                    format!("cost as 1 ÷ RPS, RPS {} → {}", rps_cell(from), rps_cell(to))
                }
                _ => "cost".to_string(),
            };
            lines.push(format!(
                "cliff: {allocator} {} → {}: {cost} (×{}; the size step ×{} with the {} % threshold on top needs more than ×{}; apart beyond the spreads{}); RPS {} → {} (−{} %); pages faulted per request {} → {}",
                format_size(cliff.from_size_bytes),
                format_size(cliff.to_size_bytes),
                format_ratio(cliff.cost_ratio),
                format_ratio(cliff.to_size_bytes as f64 / cliff.from_size_bytes as f64),
                (result.cliff_drop * 100.0).round(),
                format_ratio(cliff.required_ratio),
                if cliff.remeasured { "; held when re-measured" } else { "" },
                format_count(cliff.from_rps),
                format_count(cliff.to_rps),
                (cliff.drop_fraction * 100.0).round(),
                fresh(allocator, cliff.from_size_bytes),
                fresh(allocator, cliff.to_size_bytes)
            ) + &gc_change(from, to)
                + cause);
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
            lines.push(no_cliff_line(allocator, &steps, &point));
        }
    }
    lines
}

/// `no cliff for system: its steepest step, 1 MiB → 1.41 MiB ×1.3 in CPU per request,
/// is within the size step (×1.41)`.
fn no_cliff_line<'a>(
    allocator: &str,
    steps: &[Step],
    point: &dyn Fn(&str, u64) -> Option<&'a SweepPoint>,
) -> String {
    let steepest = steps
        .iter()
        .filter(|step| step.allocator == allocator)
        .max_by(|a, b| {
            (a.cost_ratio / a.required_ratio).total_cmp(&(b.cost_ratio / b.required_ratio))
        });
    let Some(step) = steepest else {
        return format!("no cliff for {allocator}: no step between sizes could be judged");
    };
    let measure = if step.judged_on == "cpu_us_per_request" {
        "in CPU per request"
    } else {
        "in 1 ÷ RPS"
    };
    let why = if step.cost_ratio > step.required_ratio {
        "within noise (the spreads of the two sizes overlap)".to_string()
    } else {
        format!(
            "within the size step and the threshold (a cliff needs more than ×{})",
            format_ratio(step.required_ratio)
        )
    };
    format!(
        "no cliff for {allocator}: its steepest step, {} → {} ×{} {measure}, is {why}",
        format_size(step.from_size_bytes),
        format_size(step.to_size_bytes),
        format_ratio(step.cost_ratio),
    ) + &gc_change(
        point(allocator, step.from_size_bytes),
        point(allocator, step.to_size_bytes),
    )
}

/// `; measured GC per 1,000 requests gen0 2.1, gen1 0 → gen0 2.0, gen1 1.9` between two
/// points of a runtime whose collections were measured (per second in a sweep written
/// before); empty otherwise.
fn gc_change(from: Option<&SweepPoint>, to: Option<&SweepPoint>) -> String {
    match (from, to) {
        (Some(from), Some(to)) if !(from.gc_per_s.is_empty() && to.gc_per_s.is_empty()) => {
            // Per second, each cell carries its `/s`.
            let measure = if to.gc_per_1k_requests.is_empty() {
                ""
            } else {
                " per 1,000 requests"
            };
            format!("; measured GC{measure} {} → {}", gc_cell(from), gc_cell(to))
        }
        _ => String::new(),
    }
}

/// The drop in RPS from `from_bytes` to `to_bytes` if each request cost time in
/// proportion to its size and nothing else (a memory-bandwidth-bound server):
/// `1 − from ÷ to`. A measured drop well beyond it is more than the size: a cliff of the
/// allocator; one near it is the bytes themselves.
pub fn size_alone_drop(from_bytes: u64, to_bytes: u64) -> f64 {
    1.0 - from_bytes as f64 / to_bytes.max(1) as f64
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
        assert!(
            lines[0].contains("jemalloc CPU µs/req")
                && lines[0].contains("jemalloc RPS")
                && lines[0].contains("system faults/s")
        );
        let cliff = &sweep.cliffs[0];
        let mark = format!("↑×{}", format_ratio(cliff.cost_ratio));
        assert!(
            lines[3].starts_with("16 MiB") && lines[3].contains(&mark),
            "{text}"
        );
        // Median with its spread: 20 µs between 19.6 and 20.4.
        assert!(lines[1].contains("20.0 [19.6–20.4]"), "{text}");
        assert!(!lines[2].contains('↑'), "{text}");
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
    fn each_allocator_gets_its_cliffs_or_its_steepest_step_and_why() {
        let sweep = synthetic_sweep();
        let lines = describe_cliffs(&sweep, 4096);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(
            lines[0],
            "no cliff for system: its steepest step, 1 MiB → 16 MiB ×7.5 in CPU per request, is within the size step and the threshold (a cliff needs more than ×22.86)"
        );
        assert!(
            lines[1].starts_with(
                "cliff: jemalloc 1 MiB → 16 MiB: CPU per request 42.0 [41.2–42.8] → 1,700 [1,666–1,734] µs (×40.48; the size step ×16 with the 30 % threshold on top needs more than ×22.86"
            ),
            "{}",
            lines[1]
        );
        assert!(
            lines[1].ends_with("← every request now faults in fresh pages from the OS"),
            "{}",
            lines[1]
        );
        let mut one_point = sweep.clone();
        one_point.points.retain(|p| p.size_bytes == 64 << 10);
        one_point.cliffs.clear();
        assert_eq!(
            describe_cliffs(&one_point, 4096)[0],
            "one size measured for system: no neighbours to compare"
        );
    }

    #[test]
    fn cpu_figures_keep_three_significant_digits() {
        assert_eq!(format_cpu_us(4.256), "4.26");
        assert_eq!(format_cpu_us(23.14), "23.1");
        assert_eq!(format_cpu_us(412.4), "412");
        assert_eq!(format_cpu_us(1_700.2), "1,700");
    }
}
