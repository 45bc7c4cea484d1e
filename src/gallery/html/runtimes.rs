//! The "One pattern, every memory manager" section: one table per pattern, a row per
//! runtime and case, a bar per quantity on one scale per column (RPS, CPU µs/request,
//! collections/s by kind, heap peak). Measured bars are filled, modelled (CoreCLR) bars
//! hollow, as on the charts; the paragraphs under each table come from the same rows.

use super::*;
use crate::gallery::runtimes::{
    self, CORECLR, EXPECTED, Pattern, Row, collections_text, commands_for,
};

/// The runtime's colour: one per runtime on the whole page.
fn colour(runtime: &str) -> &'static str {
    match runtime {
        "rust" => "#c05621",
        "mono" => "#6b46c1",
        "jvm" => "#c53030",
        "node" => "#2f855a",
        "go" => "#2b6cb0",
        CORECLR => "#1a202c",
        _ => "#718096",
    }
}

/// A bar `value / max` wide, filled when measured and hollow when modelled, then `text`.
fn bar(value: f64, max: f64, row: &Row<'_>, text: &str) -> String {
    let width = if max > 0.0 && value > 0.0 {
        (value / max * 100.0).clamp(0.6, 100.0)
    } else {
        0.0
    };
    let (class, style) = if row.modelled {
        ("hollow", format!("border-color:{}", colour(&row.runtime)))
    } else {
        ("filled", format!("background:{}", colour(&row.runtime)))
    };
    format!(
        "<div class=\"mm-bar\"><span class=\"{class}\" style=\"width:{width:.1}%;{style}\"></span></div><span class=\"mm-value\">{}</span>",
        escape(text)
    )
}

/// The largest value of a quantity over the rows: the one scale of its column.
fn scale(rows: &[Row<'_>], value: impl Fn(&Row<'_>) -> Option<f64>) -> f64 {
    rows.iter().filter_map(value).fold(0.0, f64::max)
}

fn table(root: &Path, rows: &[Row<'_>]) -> String {
    let rps_max = scale(rows, |r| r.rps);
    let cpu_max = scale(rows, |r| r.cpu.map(|c| c.median));
    let gc_max = scale(rows, |r| {
        r.collections.iter().map(|(_, v)| *v).reduce(f64::max)
    });
    let heap_max = scale(rows, |r| r.heap_peak.map(|h| h as f64));
    let mut html = String::from(
        "<div class=\"table\"><table class=\"mm\">\n<thead><tr><th>memory manager</th><th>case</th>\
         <th>RPS</th><th>server CPU µs/request (IQR)</th><th>collections/s by kind</th>\
         <th>heap peak</th></tr></thead>\n<tbody>\n",
    );
    for (index, row) in rows.iter().enumerate() {
        html.push_str("<tr>");
        if index == 0 || rows[index - 1].runtime != row.runtime {
            let span = rows[index..]
                .iter()
                .take_while(|r| r.runtime == row.runtime)
                .count();
            let kind = if row.modelled { "modelled" } else { "measured" };
            let rule = row.rule.as_deref().map_or_else(String::new, |rule| {
                format!("<br><span class=\"note\">{}</span>", escape(rule))
            });
            let _ = write!(
                html,
                "<td rowspan=\"{span}\" class=\"mm-runtime\" style=\"border-left:6px solid {}\"><b>{}</b> <span class=\"mm-kind\">{kind}</span>{rule}</td>",
                colour(&row.runtime),
                escape(&row.label)
            );
        }
        let href = relative_href(root, &row.run.dir.join("chart.png")).unwrap_or_default();
        let _ = write!(
            html,
            "<td class=\"num\"><a href=\"{href}\">{}</a></td>",
            escape(&row.case())
        );
        let not_modelled = "<span class=\"note\">not modelled</span>";
        match row.rps {
            Some(rps) => {
                let _ = write!(
                    html,
                    "<td>{}</td>",
                    bar(rps, rps_max, row, &format_rps(rps))
                );
            }
            None => {
                let _ = write!(html, "<td>{not_modelled}</td>");
            }
        }
        match row.cpu {
            Some(cpu) => {
                let text = format!(
                    "{} ({}–{})",
                    crate::format::format_significant(cpu.median),
                    crate::format::format_significant(cpu.q1),
                    crate::format::format_significant(cpu.q3)
                );
                let _ = write!(html, "<td>{}</td>", bar(cpu.median, cpu_max, row, &text));
            }
            None if row.modelled => {
                let _ = write!(html, "<td>{not_modelled}</td>");
            }
            None => html.push_str("<td><span class=\"note\">not measured</span></td>"),
        }
        html.push_str("<td>");
        if row.collections.is_empty() {
            let _ = write!(
                html,
                "<span class=\"note\">{}</span>",
                collections_text(row)
            );
        }
        for (kind, per_s) in &row.collections {
            let text = format!("{kind} {}/s", crate::format::format_significant(*per_s));
            let _ = write!(
                html,
                "<div class=\"mm-kindrow\">{}</div>",
                bar(*per_s, gc_max, row, &text)
            );
        }
        html.push_str("</td>");
        match row.heap_peak {
            Some(heap) => {
                let _ = write!(
                    html,
                    "<td>{}</td>",
                    bar(heap as f64, heap_max, row, &crate::format::format_mb(heap))
                );
            }
            None => html.push_str("<td><span class=\"note\">not measured</span></td>"),
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody></table></div>\n");
    let _ = write!(
        html,
        "<p class=\"note\">One scale per column, shared by every row: a full bar is {} RPS, \
         {} µs of CPU per request, {} collections/s, a {} heap. Heap is the live heap \
         (counting allocator) for Rust, the managed heap in use as the runtime reports it for \
         the collectors, the modelled managed heap for CoreCLR.</p>",
        format_rps(rps_max),
        crate::format::format_significant(cpu_max),
        crate::format::format_significant(gc_max),
        crate::format::format_mb(heap_max as u64)
    );
    html
}

fn reading(sentences: &[String]) -> String {
    let mut html = String::from("<div class=\"reading\"><h3>What the numbers show</h3>");
    for sentence in sentences {
        let _ = write!(html, "<p>{}</p>", escape(sentence));
    }
    html.push_str("</div>");
    html
}

/// Which expected runtimes have no rows, with the commands that make their runs.
fn missing(root: &Path, rows: &[Row<'_>], what: &str) -> String {
    let missing = runtimes::missing(rows);
    if missing.is_empty() {
        return String::new();
    }
    let mut html = format!(
        "<p class=\"missing\">No {what} runs of {} here.</p>\n<p class=\"note\">\
         <code>scripts/workshop.sh</code> makes them for each runtime that <code>membench list \
         --runtimes</code> shows, and names the package to install for the others; by hand:</p>\n<pre>",
        escape(&missing.join(", "))
    );
    let dir = root.display().to_string();
    for runtime in missing {
        for line in commands_for(runtime) {
            let _ = writeln!(html, "{}", escape(&line.replace("DIR", &dir)));
        }
    }
    html.push_str("</pre>");
    html
}

/// The section, from every single run found (in run sets and on their own).
pub(super) fn every_memory_manager_section(root: &Path, found: &Found) -> Section {
    let runs: Vec<&SavedRun> = found
        .run_sets
        .iter()
        .flat_map(|set| set.runs.iter())
        .chain(found.runs.iter())
        .collect();
    let loh = runtimes::rows(&runs, Pattern::Loh);
    let strings = runtimes::rows(&runs, Pattern::Strings);
    let mut body = String::from(
        "<p class=\"mm-legend\"><span class=\"filled\" style=\"background:#4a5568\"></span> \
         measured (Rust's allocator; Mono, JVM, Node and Go's own collectors) \
         <span class=\"hollow\" style=\"border-color:#1a202c\"></span> modelled (the CoreCLR \
         .NET lens fed with the Rust server's requests — a model, never a measurement)</p>\n",
    );
    body.push_str("<h3>loh/{size} around each runtime's own boundary</h3>\n");
    body.push_str("<ul class=\"note\">");
    for (name, sizes, why) in EXPECTED {
        let _ = write!(
            body,
            "<li><b>{name}</b> {} vs {} bytes: {}</li>",
            group_thousands(sizes[0]),
            group_thousands(sizes[1]),
            escape(why)
        );
    }
    body.push_str("</ul>\n");
    if !loh.is_empty() {
        body.push_str(&table(root, &loh));
        body.push_str(&reading(&runtimes::loh_paragraph(&loh)));
    }
    body.push_str(&missing(root, &loh, "loh"));
    body.push_str("<h3>bigstring vs staticstring</h3>\n");
    if !strings.is_empty() {
        body.push_str(&table(root, &strings));
        body.push_str(&reading(&runtimes::strings_paragraph(&strings)));
    }
    body.push_str(&missing(root, &strings, "bigstring/staticstring"));
    Section {
        id: "every-memory-manager".into(),
        title: "One pattern, every memory manager".into(),
        body,
    }
}

/// The section's own styles.
pub(super) const STYLE: &str = "\
table.mm td { vertical-align: middle; }
td.mm-runtime { min-width: 220px; max-width: 320px; }
.mm-kind { font-size: 13px; text-transform: uppercase; color: #4a5568; }
.mm-bar { display: inline-block; width: 120px; height: 14px; vertical-align: middle; margin-right: 6px; }
.mm-bar span, .mm-legend span { display: inline-block; height: 14px; box-sizing: border-box; vertical-align: middle; }
.mm-legend span { width: 28px; }
span.hollow { border: 2px solid; background: transparent; }
.mm-value { font-variant-numeric: tabular-nums; white-space: nowrap; font-size: 15px; }
.mm-kindrow { white-space: nowrap; }
";
