//! The sections of the page: a comparison (chart, table, verdicts, the pair's paragraph),
//! a single run, a sweep (chart, cliff lines, the table of points).

use super::*;
use crate::verdict::Outcome;

/// `<figure>` with the image, or a note when the file is missing (a crashed step).
fn figure(root: &Path, image: &Path, alt: &str) -> String {
    match relative_href(root, image) {
        Some(href) if image.is_file() => format!(
            "<figure><a href=\"{href}\"><img src=\"{href}\" alt=\"{}\"></a></figure>",
            escape(alt)
        ),
        _ => format!(
            "<p class=\"missing\">No chart: <code>{}</code> was not written.</p>",
            escape(&display_relative(root, image))
        ),
    }
}

/// The comparison table of `runs`, from the same Markdown `membench compare` writes to
/// compare.md, rendered as an HTML table.
fn table(runs: &[SavedRun]) -> String {
    let labels = run_labels(runs);
    let markdown = format_table(runs, &labels, TableFormat::Markdown);
    let mut rows = markdown.lines().map(markdown_cells);
    let mut html = String::from("<div class=\"table\"><table>\n<thead><tr>");
    if let Some(header) = rows.next() {
        for cell in &header {
            let _ = write!(html, "<th>{}</th>", escape(cell));
        }
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    // The second line is the alignment row.
    for row in rows.skip(1) {
        html.push_str("<tr>");
        let last = row.len().saturating_sub(1);
        for (index, cell) in row.iter().enumerate() {
            let class = if index == 0 || index == last {
                ""
            } else {
                " class=\"num\""
            };
            let _ = write!(html, "<td{class}>{}</td>", escape(cell));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody></table></div>");
    html
}

/// The cells of one Markdown table line: `| a | b\|c |` → `["a", "b|c"]`.
pub(super) fn markdown_cells(line: &str) -> Vec<String> {
    const PIPE: char = '\u{0}';
    let protected = line.replace("\\|", &PIPE.to_string());
    let inner = protected
        .trim()
        .trim_start_matches('|')
        .trim_end_matches('|');
    inner
        .split('|')
        .map(|cell| cell.trim().replace(PIPE, "|"))
        .collect()
}

/// Each run's verdict lines, highlighted; a run that did not complete says how it ended.
fn verdicts(runs: &[SavedRun]) -> String {
    let labels = run_labels(runs);
    let mut html = String::from("<ul class=\"verdicts\">\n");
    for (run, label) in runs.iter().zip(&labels) {
        if run.summary.run.end != RunEnd::Completed {
            let _ = writeln!(
                html,
                "<li class=\"miss\"><b>{}</b>: the run {}</li>",
                escape(label),
                escape(&run.summary.run.end.describe())
            );
        }
        if run.summary.verdict.is_empty() {
            let _ = writeln!(
                html,
                "<li class=\"none\"><b>{}</b>: no expectation to check</li>",
                escape(label)
            );
        }
        for check in &run.summary.verdict {
            // Inconclusive is neither a pass nor a failure: it asks for a longer run.
            let class = match check.outcome() {
                Outcome::Matches => "match",
                Outcome::Inconclusive => "unsure",
                Outcome::DoesNotMatch | Outcome::NoLoad => "miss",
            };
            let _ = writeln!(
                html,
                "<li class=\"{class}\"><b>{}</b>: {}</li>",
                escape(label),
                escape(&check.line())
            );
        }
    }
    html.push_str("</ul>");
    html
}

/// Links to each run's chart and directory.
fn run_links(root: &Path, runs: &[SavedRun]) -> String {
    let labels = run_labels(runs);
    let mut html = String::from("<ul class=\"links\">\n");
    for (run, label) in runs.iter().zip(&labels) {
        let dir = relative_href(root, &run.dir).unwrap_or_default();
        let _ = writeln!(
            html,
            "<li>{}: <a href=\"{dir}/chart.png\">chart.png</a> · <a href=\"{dir}/summary.json\">summary.json</a> · <a href=\"{dir}/samples.csv\">samples.csv</a> · <a href=\"{dir}/\">directory</a></li>",
            escape(label)
        );
    }
    html.push_str("</ul>");
    html
}

fn paragraph_block(text: &str) -> String {
    format!(
        "<div class=\"reading\"><h3>What it shows in Rust</h3><p>{}</p></div>",
        escape(text)
    )
}

pub(super) fn comparison_section(root: &Path, comparison: &ComparisonDir) -> Section {
    let ordered = paragraphs::page_order(&comparison.runs);
    let runs = &ordered;
    let names = run_labels(runs).join(" vs ");
    let title = match recognise(runs) {
        Some(PairKind::Loh) => {
            let sizes: Vec<String> = runs
                .iter()
                .map(|run| facts::size_param(run).map_or_else(|| "?".to_string(), group_thousands))
                .collect();
            format!("{} ({} bytes)", PairKind::Loh.title(), sizes.join(" vs "))
        }
        Some(kind) => format!("{} ({})", kind.title(), kind.scenarios().join(" vs ")),
        None => format!("Comparison: {names}"),
    };
    let mut body = figure(
        root,
        &comparison.dir.join("compare.png"),
        &format!("comparison chart: {names}"),
    );
    body.push_str(&table(runs));
    body.push_str("\n<h3>Verdicts</h3>\n");
    body.push_str(&verdicts(runs));
    body.push_str(&paragraph_block(&paragraphs::pair_paragraph(runs)));
    body.push_str("\n<h3>Runs</h3>\n");
    body.push_str(&run_links(root, runs));
    Section {
        id: anchor(root, &comparison.dir),
        title,
        body,
    }
}

pub(super) fn run_section(root: &Path, run: &SavedRun) -> Section {
    let runs = std::slice::from_ref(run);
    let label = run_labels(runs).join("");
    let mut body = figure(root, &run.dir.join("chart.png"), &format!("chart: {label}"));
    body.push_str(&table(runs));
    body.push_str("\n<h3>Verdicts</h3>\n");
    body.push_str(&verdicts(runs));
    body.push_str(&paragraph_block(&paragraphs::run_paragraph(run)));
    body.push_str("\n<h3>Run</h3>\n");
    body.push_str(&run_links(root, runs));
    let title = match run.summary.run.scenario.as_str() {
        "fileprovider" => "A directory watcher per request (fileprovider)".to_string(),
        "clientleak" => "A client never closed (clientleak)".to_string(),
        _ => format!("Run: {label}"),
    };
    Section {
        id: anchor(root, &run.dir),
        title,
        body,
    }
}

pub(super) fn sweep_section(root: &Path, sweep: &SweepDir) -> Section {
    let result = &sweep.result;
    let mut body = figure(
        root,
        &sweep.dir.join("sweep.png"),
        &format!("size sweep of {}", result.scenario),
    );
    body.push_str("\n<h3>Cliffs per allocator</h3>\n<ul class=\"cliffs\">\n");
    for allocator in &result.allocators {
        let cliffs: Vec<String> = result
            .cliffs
            .iter()
            .filter(|c| &c.allocator == allocator)
            .map(cliff_line)
            .collect();
        let text = if cliffs.is_empty() {
            "no cliff".to_string()
        } else {
            cliffs.join("; ")
        };
        let _ = writeln!(
            body,
            "<li><b>{}</b>: {}</li>",
            escape(allocator),
            escape(&text)
        );
    }
    body.push_str("</ul>\n");
    body.push_str(&paragraph_block(&paragraphs::sweep_paragraph(result)));
    body.push_str(&sweep_table(root, sweep));
    Section {
        id: anchor(root, &sweep.dir),
        title: format!(
            "Size sweep: {} ({})",
            result.scenario,
            result.allocators.join(", ")
        ),
        body,
    }
}

/// RPS per size (rows) and allocator (columns), each cell linking to the point's chart;
/// the size after a cliff is marked with its drop.
fn sweep_table(root: &Path, sweep: &SweepDir) -> String {
    let result = &sweep.result;
    let mut html = String::from(
        "\n<h3>RPS per size and allocator</h3>\n<div class=\"table\"><table>\n<thead><tr><th>size</th>",
    );
    for allocator in &result.allocators {
        let _ = write!(html, "<th>{}</th>", escape(allocator));
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    let labels = crate::sweep::size_labels(&result.sizes_bytes);
    for (size, label) in result.sizes_bytes.iter().zip(&labels) {
        let _ = write!(html, "<tr><td class=\"num\">{}</td>", escape(label));
        for allocator in &result.allocators {
            let point = result
                .points
                .iter()
                .find(|p| &p.allocator == allocator && p.size_bytes == *size);
            let Some(point) = point else {
                html.push_str("<td class=\"num\">—</td>");
                continue;
            };
            let cliff = result
                .cliffs
                .iter()
                .find(|c| &c.allocator == allocator && c.to_size_bytes == *size);
            let href = relative_href(root, &sweep.dir.join(&point.run_dir)).unwrap_or_default();
            let errors = if point.errors > 0 {
                format!(" · {} errors", group_thousands(point.errors))
            } else {
                String::new()
            };
            let (class, drop) = match cliff {
                Some(c) => (" cliff", format!(" (-{:.0} %)", c.drop_fraction * 100.0)),
                None => ("", String::new()),
            };
            let _ = write!(
                html,
                "<td class=\"num{class}\"><a href=\"{href}/chart.png\">{}</a>{drop}{errors}</td>",
                format_rps(point.rps)
            );
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody></table></div>");
    let _ = write!(
        html,
        "<p class=\"note\">Each cell links to its run's chart; red marks the size after a cliff. \
         Latency, RSS and faults per point are in <a href=\"{}\">sweep.csv</a>.</p>",
        relative_href(root, &sweep.dir.join("sweep.csv")).unwrap_or_default()
    );
    html
}
