//! `index.html`: one self-contained page for a gallery directory. Styles are inline (a
//! static file, no server), there is no URL to anywhere, and every image and link is a
//! relative path, so the folder can be zipped and opened offline. Every string that comes
//! from a file (labels, paths, command lines, error messages) goes through [`escape`].

use std::fmt::Write as _;
use std::path::{Component, Path};

use super::discovery::{ComparisonDir, Found, SweepDir};
use super::facts::{self, format_rps};
use super::paragraphs::{self, PairKind, cliff_line, recognise};
use crate::format::{format_bytes, group_thousands};
use crate::report::compare::{SavedRun, TableFormat, format_table, run_labels};
use crate::report::summary::RunEnd;

mod runtimes;
mod sections;
use sections::{comparison_section, run_section, sweep_section};

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A path relative to the gallery root as a URL path: components joined with `/`, each
/// percent-encoded but for unreserved characters. `None` for a path outside the root.
pub fn relative_href(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let mut parts = Vec::new();
    for component in relative.components() {
        let Component::Normal(part) = component else {
            return None;
        };
        let mut encoded = String::new();
        for byte in part.to_string_lossy().bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
                encoded.push(byte as char);
            } else {
                let _ = write!(encoded, "%{byte:02X}");
            }
        }
        parts.push(encoded);
    }
    Some(parts.join("/"))
}

/// A section of the page, in the order shown.
struct Section {
    id: String,
    title: String,
    body: String,
}

/// The whole page for what was found under `root`; `made_at` is the page's own time
/// (RFC 3339), given by the caller so tests are deterministic.
pub fn render_page(root: &Path, found: &Found, made_at: &str) -> String {
    let mut sections = Vec::new();
    let mut comparisons: Vec<&ComparisonDir> = found.comparisons.iter().collect();
    // The article's pairs first, in the article's order; anything else after, by name.
    comparisons.sort_by_key(|c| {
        (
            recognise(&c.runs).map_or(1, |_| 0),
            recognise(&c.runs),
            c.dir.clone(),
        )
    });
    for comparison in &comparisons {
        sections.push(comparison_section(root, comparison));
    }
    if !found.is_empty() {
        sections.push(runtimes::every_memory_manager_section(root, found));
    }
    let mut runs: Vec<&SavedRun> = found.runs.iter().collect();
    runs.sort_by_key(|run| {
        let known = ["fileprovider", "clientleak"]
            .iter()
            .position(|s| *s == run.summary.run.scenario);
        (known.unwrap_or(2), run.dir.clone())
    });
    for run in &runs {
        sections.push(run_section(root, run));
    }
    for sweep in &found.sweeps {
        sections.push(sweep_section(root, sweep));
    }
    if !found.skipped.is_empty() {
        let mut body = String::from("<ul class=\"skipped\">");
        for skipped in &found.skipped {
            let _ = write!(
                body,
                "<li><code>{}</code>: {}</li>",
                escape(&display_relative(root, &skipped.dir)),
                escape(&skipped.reason)
            );
        }
        body.push_str("</ul>");
        sections.push(Section {
            id: "not-included".into(),
            title: "Not included".into(),
            body,
        });
    }

    let mut page = String::new();
    page.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.push_str("<title>membench workshop gallery</title>\n<style>\n");
    page.push_str(STYLE);
    page.push_str(runtimes::STYLE);
    page.push_str("</style>\n</head>\n<body>\n<header>\n<h1>membench workshop gallery</h1>\n");
    let _ = writeln!(
        page,
        "<p class=\"meta\">{}</p>",
        escape(&machine_and_dates(found, made_at))
    );
    page.push_str(
        "<p class=\"meta\">Rust has no garbage collector: the series are the allocator's real \
         events, live heap and RSS. Anything labelled <em>modelled</em> is a model of .NET's \
         GC fed with the same requests, never a measurement. Mono, the JVM, Node.js and Go, \
         where present, are real collectors: their collections are measured.</p>\n</header>\n",
    );
    if found.is_empty() {
        page.push_str("<p class=\"empty\">No results found in this directory.</p>\n");
    }
    page.push_str("<nav>\n<h2>Contents</h2>\n<ol>\n");
    for section in &sections {
        let _ = writeln!(
            page,
            "<li><a href=\"#{}\">{}</a></li>",
            escape(&section.id),
            escape(&section.title)
        );
    }
    page.push_str(
        "<li><a href=\"#how-it-was-made\">How it was made</a></li>\n</ol>\n</nav>\n<main>\n",
    );
    for section in &sections {
        let _ = writeln!(
            page,
            "<section id=\"{}\">\n<h2>{}</h2>\n{}\n</section>",
            escape(&section.id),
            escape(&section.title),
            section.body
        );
    }
    page.push_str("</main>\n<footer id=\"how-it-was-made\">\n<h2>How it was made</h2>\n");
    page.push_str("<p>Each result directory was made by one of these commands (from the run's summary.json or the sweep's sweep.json), then this page by <code>membench gallery</code>:</p>\n<pre>");
    let set_runs: Vec<&SavedRun> = found.run_sets.iter().flat_map(|s| s.runs.iter()).collect();
    let all_runs: Vec<&SavedRun> = runs.iter().copied().chain(set_runs).collect();
    for command in commands(&comparisons, &all_runs, &found.sweeps) {
        let _ = writeln!(page, "{}", escape(&command));
    }
    page.push_str("</pre>\n");
    let _ = writeln!(
        page,
        "<p class=\"build\">{}</p>",
        escape(&builds(&comparisons, &runs, &found.sweeps))
    );
    page.push_str("</footer>\n</body>\n</html>\n");
    page
}

/// `This page: membench 0.1.0 (commit 3f2a9c1e0b7d). The results: membench 0.1.0 (commit
/// …)`, each distinct build once; results written before builds were recorded say so.
fn builds(comparisons: &[&ComparisonDir], runs: &[&SavedRun], sweeps: &[SweepDir]) -> String {
    let mut made_by: Vec<String> = Vec::new();
    let recorded = comparisons
        .iter()
        .flat_map(|c| c.runs.iter())
        .chain(runs.iter().copied())
        .map(|run| (&run.summary.membench_version, &run.summary.membench_commit))
        .chain(
            sweeps
                .iter()
                .map(|s| (&s.result.membench_version, &s.result.membench_commit)),
        );
    for (version, commit) in recorded {
        let build = match (version.is_empty(), commit.is_empty()) {
            (true, _) => "a membench that did not record its version".to_string(),
            (false, true) => format!("membench {version}"),
            (false, false) => format!("membench {version} (commit {commit})"),
        };
        if !made_by.contains(&build) {
            made_by.push(build);
        }
    }
    let mut text = format!("This page: membench {}.", crate::build_info::LONG_VERSION);
    if !made_by.is_empty() {
        text.push_str(&format!(" The results: {}.", made_by.join("; ")));
    }
    text
}

/// `Intel … · 2 cores · 7.8 GiB · Linux 6.1 x86_64 · runs 2026-11-23T12:01:02Z to … · page made …`.
fn machine_and_dates(found: &Found, made_at: &str) -> String {
    let all_runs: Vec<&SavedRun> = found
        .comparisons
        .iter()
        .flat_map(|c| c.runs.iter())
        .chain(found.runs.iter())
        .chain(found.run_sets.iter().flat_map(|s| s.runs.iter()))
        .collect();
    let mut parts = Vec::new();
    if let Some(run) = all_runs.first() {
        let machine = &run.summary.run.machine;
        if !machine.cpu_model.is_empty() {
            parts.push(machine.cpu_model.clone());
        }
        parts.push(format!("{} cores", machine.cores));
        if machine.memory_bytes > 0 {
            parts.push(format!("{} memory", format_bytes(machine.memory_bytes)));
        }
        parts.push(
            format!("{} {}", machine.kernel, machine.arch)
                .trim()
                .to_string(),
        );
        let started = all_runs
            .iter()
            .map(|r| r.summary.run.started.as_str())
            .min();
        let ended = all_runs.iter().map(|r| r.summary.run.ended.as_str()).max();
        if let (Some(started), Some(ended)) = (started, ended) {
            parts.push(format!("runs from {started} to {ended}"));
        }
    }
    parts.push(format!("page made {made_at}"));
    parts.join(" · ")
}

/// Every distinct command line, in page order, shell-quoted.
fn commands(
    comparisons: &[&ComparisonDir],
    runs: &[&SavedRun],
    sweeps: &[SweepDir],
) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut push = |argv: &[String]| {
        let line = argv
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ");
        if !line.is_empty() && !lines.contains(&line) {
            lines.push(line);
        }
    };
    for run in comparisons
        .iter()
        .flat_map(|c| c.runs.iter())
        .chain(runs.iter().copied())
    {
        push(&run.summary.run.command_line);
    }
    for sweep in sweeps {
        push(&sweep.result.command_line);
    }
    lines
}

/// An argument as a POSIX shell reads it back.
fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./,=:+@%".contains(c))
    {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

fn display_relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// An anchor id from a directory: its relative path with anything but `[a-z0-9-]` as `-`.
fn anchor(root: &Path, dir: &Path) -> String {
    display_relative(root, dir)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Large type and plain colours: the page is projected in workshops.
const STYLE: &str = "\
body { font: 18px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1d1d1f; background: #fafafa; margin: 0; }
header, nav, main, footer { max-width: 1280px; margin: 0 auto; padding: 0 32px; }
header { padding-top: 24px; }
h1 { font-size: 40px; margin: 0 0 8px; }
h2 { font-size: 30px; margin: 48px 0 16px; border-bottom: 3px solid #2b6cb0; padding-bottom: 6px; }
h3 { font-size: 21px; margin: 24px 0 8px; color: #2d3748; }
.meta { color: #4a5568; margin: 4px 0; }
nav ol { columns: 2; font-size: 20px; }
nav a, .links a, td a { color: #2b6cb0; }
section { background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12); padding: 4px 28px 24px; margin: 32px 0; }
section h2 { margin-top: 20px; }
figure { margin: 0 0 16px; }
figure img { max-width: 100%; height: auto; border: 1px solid #e2e8f0; }
.table { overflow-x: auto; }
table { border-collapse: collapse; font-size: 16px; margin: 8px 0; }
th, td { padding: 6px 10px; border-bottom: 1px solid #e2e8f0; text-align: left; vertical-align: top; }
th { background: #edf2f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #f7fafc; }
ul.verdicts { list-style: none; padding: 0; }
ul.verdicts li { padding: 6px 12px; margin: 4px 0; border-radius: 4px; border-left: 6px solid; }
li.match { background: #e6f4ea; border-color: #2f855a; }
li.miss { background: #fde8e8; border-color: #c53030; font-weight: 600; }
li.none { background: #edf2f7; border-color: #a0aec0; }
li.unsure { background: #fefcbf; border-color: #b7791f; font-weight: 600; }
.reading { background: #ebf4ff; border-radius: 6px; padding: 4px 20px 8px; margin: 20px 0; }
.reading p { font-size: 20px; margin: 8px 0; }
.missing, .empty { color: #c53030; font-weight: 600; }
td.cliff { background: #fde8e8; color: #9b2c2c; font-weight: 600; }
.note { color: #4a5568; font-size: 16px; }
pre { background: #1a202c; color: #e2e8f0; padding: 16px; border-radius: 6px; overflow-x: auto; font-size: 15px; white-space: pre-wrap; }
footer { padding-bottom: 48px; }
";

#[cfg(test)]
mod tests;
