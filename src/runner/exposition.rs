//! Reading a scraped `/metrics` page: the Prometheus text format 0.0.4 and OpenMetrics
//! 1.0 text, as samples (`name{labels} value`). Comments (`# HELP`, `# TYPE`, `# UNIT`,
//! `# EOF`) are skipped; timestamps and OpenMetrics exemplars after the value are ignored.
//!
//! Hand-written, on purpose: of the crates for the job, `prometheus-parse` (0.2.5) skips a
//! malformed line silently (so a garbage page reads as an empty one, which the start check
//! must tell apart) and splits labels on `,` and `=` inside quoted values;
//! `openmetrics-parser` is LGPL-3.0 and refuses 0.0.4 pages without `# EOF`;
//! `prometheus-exposition-format-rs` and `prom_text_format_parser` are unmaintained 0.1
//! releases. The grammar needed here is one line at a time and fits in this file, with a
//! test for each of its corners.

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MetricLine {
    /// The sample's name as written (`process_cpu_seconds_total`, `jvm_memory_used_bytes`).
    pub name: String,
    /// Label pairs in their order on the line, values unescaped.
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl MetricLine {
    /// The value of label `name`, if the line has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(label, _)| label == name)
            .map(|(_, value)| value.as_str())
    }

    /// `name{a="x",b="y"}` (or the bare name without labels): one series' key, label
    /// values escaped as the exposition format escapes them (`\\`, `\"`, `\n`).
    pub fn key(&self) -> String {
        if self.labels.is_empty() {
            return self.name.clone();
        }
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|(label, value)| {
                // Escaped as on the page, so a value with `"` or `,` keeps the key readable
                // back into its labels.
                let value = value
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                format!("{label}=\"{value}\"")
            })
            .collect();
        format!("{}{{{}}}", self.name, labels.join(","))
    }
}

/// Parses a whole page. The error names the first bad line (1-based) and quotes it.
pub(crate) fn parse(text: &str) -> Result<Vec<MetricLine>, String> {
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed = parse_line(line).map_err(|why| {
            let shown: String = line.chars().take(80).collect();
            format!("line {}: {why}: {shown:?}", index + 1)
        })?;
        lines.push(parsed);
    }
    Ok(lines)
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// `name{labels} value [timestamp] [# exemplar]`.
fn parse_line(line: &str) -> Result<MetricLine, &'static str> {
    if !line.starts_with(is_name_start) {
        return Err("expected a metric name");
    }
    let name_end = line.find(|c| !is_name_char(c)).unwrap_or(line.len());
    let name = line[..name_end].to_string();
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(after)?;
        labels = parsed;
        rest = after;
    }
    if !rest.starts_with([' ', '\t']) {
        return Err("expected a space and a value after the name");
    }
    let value = rest
        .split_whitespace()
        .next()
        .ok_or("expected a value after the name")?;
    let value = parse_value(value).ok_or("the value is not a number")?;
    Ok(MetricLine {
        name,
        labels,
        value,
    })
}

/// Label pairs in their order on the line.
type Labels = Vec<(String, String)>;

/// The labels after `{` up to and including `}`, and what follows.
fn parse_labels(mut rest: &str) -> Result<(Labels, &str), &'static str> {
    let mut labels = Vec::new();
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        if !rest.starts_with(is_name_start) {
            return Err("expected a label name or '}'");
        }
        let end = rest.find(|c| !is_name_char(c)).unwrap_or(rest.len());
        let label = rest[..end].to_string();
        rest = rest[end..].trim_start();
        rest = rest
            .strip_prefix('=')
            .ok_or("expected '=' after a label name")?;
        rest = rest.trim_start();
        rest = rest
            .strip_prefix('"')
            .ok_or("expected a quoted label value")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let close = loop {
            match chars.next() {
                None => return Err("a label value is not closed"),
                Some((at, '"')) => break at,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => return Err("a label value is not closed"),
                },
                Some((_, c)) => value.push(c),
            }
        };
        labels.push((label, value));
        rest = rest[close + 1..].trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return Err("expected ',' or '}' after a label value");
        }
    }
}

/// A sample value: a float, or `NaN`, `+Inf`, `-Inf` as Go writes them.
fn parse_value(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_formats_with_labels_escapes_and_timestamps() {
        let page = "# HELP process_resident_memory_bytes Resident memory\n\
                    # TYPE process_resident_memory_bytes gauge\n\
                    process_resident_memory_bytes 1.2345e+07\n\
                    jvm_gc_collection_seconds_count{gc=\"G1 Young Generation\",} 12 1700000000000\n\
                    x{path=\"/a,b=c\",q=\"say \\\"hi\\\"\\n\"} +Inf\n\
                    # TYPE membench_requests counter\n\
                    membench_requests_total{endpoint=\"/api/ping\"} 3 # {trace_id=\"a\"} 1\n\
                    # EOF\n";
        let lines = parse(page).unwrap();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0].name, "process_resident_memory_bytes");
        assert_eq!(lines[0].value, 12_345_000.0);
        assert_eq!(lines[1].label("gc"), Some("G1 Young Generation"));
        assert_eq!(lines[1].value, 12.0);
        assert_eq!(lines[2].label("path"), Some("/a,b=c"));
        assert_eq!(lines[2].label("q"), Some("say \"hi\"\n"));
        assert!(lines[2].value.is_infinite());
        assert_eq!(lines[2].key(), r#"x{path="/a,b=c",q="say \"hi\"\n"}"#);
        assert_eq!(lines[3].value, 3.0);
        assert_eq!(
            lines[3].key(),
            "membench_requests_total{endpoint=\"/api/ping\"}"
        );
    }

    #[test]
    fn a_bad_line_is_named_and_quoted() {
        for (page, why) in [
            ("ok 1\n<html><body>", "line 2: expected a metric name"),
            ("m{a=b} 1", "expected a quoted label value"),
            ("m{a=\"b} 1", "not closed"),
            ("m 1\nm two", "line 2: the value is not a number: \"m two\""),
            ("m", "expected a space and a value"),
        ] {
            let err = parse(page).unwrap_err();
            assert!(err.contains(why), "{page:?}: {err}");
        }
        assert_eq!(parse("# only comments\n\n").unwrap(), vec![]);
    }
}
