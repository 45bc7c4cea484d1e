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
    page.push_str("</style>\n</head>\n<body>\n<header>\n<h1>membench workshop gallery</h1>\n");
    let _ = writeln!(
        page,
        "<p class=\"meta\">{}</p>",
        escape(&machine_and_dates(found, made_at))
    );
    page.push_str(
        "<p class=\"meta\">Rust has no garbage collector: the series are the allocator's real \
         events, live heap and RSS. Anything labelled <em>modelled</em> is a model of .NET's \
         GC fed with the same requests, never a measurement.</p>\n</header>\n",
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
    for command in commands(&comparisons, &runs, &found.sweeps) {
        let _ = writeln!(page, "{}", escape(&command));
    }
    page.push_str("</pre>\n</footer>\n</body>\n</html>\n");
    page
}

/// `Intel … · 2 cores · 7.8 GiB · Linux 6.1 x86_64 · runs 2026-11-23T12:01:02Z to … · page made …`.
fn machine_and_dates(found: &Found, made_at: &str) -> String {
    let all_runs: Vec<&SavedRun> = found
        .comparisons
        .iter()
        .flat_map(|c| c.runs.iter())
        .chain(found.runs.iter())
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
fn markdown_cells(line: &str) -> Vec<String> {
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
            let class = if check.matches { "match" } else { "miss" };
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

fn comparison_section(root: &Path, comparison: &ComparisonDir) -> Section {
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

fn run_section(root: &Path, run: &SavedRun) -> Section {
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

fn sweep_section(root: &Path, sweep: &SweepDir) -> Section {
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
.reading { background: #ebf4ff; border-radius: 6px; padding: 4px 20px 8px; margin: 20px 0; }
.reading p { font-size: 20px; margin: 8px 0; }
.missing, .empty { color: #c53030; font-weight: 600; }
td.cliff { background: #fde8e8; color: #9b2c2c; font-weight: 600; }
.note { color: #4a5568; font-size: 16px; }
pre { background: #1a202c; color: #e2e8f0; padding: 16px; border-radius: 6px; overflow-x: auto; font-size: 15px; white-space: pre-wrap; }
footer { padding-bottom: 48px; }
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gallery::discovery::discover;
    use crate::report::compare::tests::three_run_dirs;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert(\"x\" & 'y')</script>"),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(
            escape("18,234 RPS · p99 1.21 ms"),
            "18,234 RPS · p99 1.21 ms"
        );
    }

    #[test]
    fn hrefs_are_relative_and_encoded() {
        let root = Path::new("/tmp/gallery");
        assert_eq!(
            relative_href(
                root,
                Path::new("/tmp/gallery/loh pair/loh-size84975#1/chart.png")
            )
            .as_deref(),
            Some("loh%20pair/loh-size84975%231/chart.png")
        );
        assert_eq!(relative_href(root, Path::new("/elsewhere/x.png")), None);
    }

    #[test]
    fn a_sweep_section_lists_cliffs_and_marks_them_in_its_table() {
        let root = tempfile::tempdir().unwrap();
        let result = crate::gallery::paragraphs::sweep_fixture(false);
        let sweep = SweepDir {
            dir: root.path().join("sweep"),
            result: result.clone(),
        };
        let section = sweep_section(root.path(), &sweep);
        let cliff = &result.cliffs[0];
        assert!(
            section.body.contains(&escape(&cliff_line(cliff))),
            "{}",
            section.body
        );
        assert!(
            section.body.contains("<b>jemalloc</b>: no cliff"),
            "{}",
            section.body
        );
        // The size after system's cliff is marked, with the drop the sweep computed.
        let marked = format!(
            "<td class=\"num cliff\"><a href=\"sweep/system-{}/chart.png\">{}</a> (-{:.0} %)</td>",
            cliff.to_size_bytes,
            format_rps(cliff.to_rps),
            cliff.drop_fraction * 100.0
        );
        assert!(
            section.body.contains(&marked),
            "{marked} in {}",
            section.body
        );
        assert_eq!(
            section.body.matches("num cliff").count(),
            result.cliffs.len()
        );
        assert!(
            section
                .body
                .contains("Nothing happens at 84,976 bytes in Rust")
        );
    }

    #[test]
    fn markdown_cells_keep_escaped_pipes() {
        assert_eq!(markdown_cells("| a | b\\|c | 1.2 |"), ["a", "b|c", "1.2"]);
    }

    #[test]
    fn a_page_shows_every_run_escaped_with_its_verdicts_and_no_url() {
        let root = tempfile::tempdir().unwrap();
        let pair = root.path().join("pair");
        let (dirs, summaries) = three_run_dirs(&pair);
        std::fs::remove_dir_all(&dirs[2]).unwrap();
        std::fs::write(pair.join("compare.md"), "# membench compare\n").unwrap();
        // A hostile label: the command line is shown on the page.
        let mut summary = crate::report::read_summary(&dirs[0].join("summary.json")).unwrap();
        summary.run.command_line = vec![
            "membench".into(),
            "<b>compare</b>".into(),
            "https://example.invalid".into(),
        ];
        crate::report::write_summary(&dirs[0].join("summary.json"), &summary).unwrap();
        // A run whose server died is said so, highlighted, above its checks.
        let mut died = crate::report::read_summary(&dirs[1].join("summary.json")).unwrap();
        died.run.end = RunEnd::ServerDied("was killed by signal 9".into());
        crate::report::write_summary(&dirs[1].join("summary.json"), &died).unwrap();

        let found = discover(root.path()).unwrap();
        let page = render_page(root.path(), &found, "2026-11-23T12:00:00Z");
        assert!(
            page.contains("&lt;b&gt;compare&lt;/b&gt;"),
            "command line escaped"
        );
        assert!(!page.contains("<b>compare</b>"));
        for summary in &summaries[..2] {
            for check in &summary.verdict {
                assert!(page.contains(&escape(&check.line())), "{}", check.line());
            }
            assert!(page.contains(&format!(
                "<td class=\"num\">{}</td>",
                crate::format::format_count(summary.load.rps_mean)
            )));
        }
        let died_line = "<li class=\"miss\"><b>bigstring · jemalloc</b>: the run server died: \
                         was killed by signal 9</li>";
        assert!(page.contains(died_line), "{page}");
        assert!(
            page.contains("<li class=\"miss\"><b>bigstring · jemalloc</b>: does not match:"),
            "the sawtooth's failed check is highlighted"
        );
        assert!(
            page.contains("No chart: <code>pair/compare.png</code>"),
            "{page}"
        );
        assert!(
            page.contains("Transient vs leaked strings (bigstring vs staticstring)"),
            "{page}"
        );
        // The only URL is the one the hostile argument brought, in quoted text, not a link.
        assert!(!page.contains("href=\"http"), "no link leaves the folder");
        assert!(!page.contains("src=\"http"));
    }
}
