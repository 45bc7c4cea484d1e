//! A scenario described for people in full (`membench list --long`): what it teaches,
//! where it comes from, its request and parameters, its default load, what each run is
//! checked against and what feeds the modelled .NET GC — all read from the file, so the
//! description cannot drift from what a run does.

use super::dotnet::{AllocationSpec, KindSpec};
use super::file::Scenario;

/// Width the long text is wrapped to (the label column included).
const LONG_WIDTH: usize = 92;
/// Width of the label column (`.NET model:  `).
const LABEL_WIDTH: usize = 13;

/// One scenario in full: a heading line, then labelled, wrapped fields.
pub fn describe_long(scenario: &Scenario) -> String {
    let mut heading = scenario.name.clone();
    if !scenario.aliases.is_empty() {
        heading.push_str(&format!(" ({})", scenario.aliases.join(", ")));
    }
    heading.push_str(&format!(": {}\n", scenario.description));

    let mut fields: Vec<(&str, String)> = Vec::new();
    if let Some(teaches) = &scenario.teaches {
        fields.push(("teaches", teaches.trim().to_string()));
    }
    if let Some(origin) = &scenario.origin {
        fields.push(("origin", origin.clone()));
    }
    fields.push(("request", format!("GET {}", scenario.path)));
    for (name, param) in &scenario.params {
        let mut text = format!("{name} = {}", param.default.as_text());
        if let Some(description) = &param.description {
            text.push_str(&format!(": {description}"));
        }
        fields.push(("parameter", text));
    }
    fields.push(("load", describe_load(scenario)));
    fields.push(("expects", describe_expectations(scenario)));
    fields.push((".NET model", describe_dotnet(scenario)));

    let mut text = heading;
    for (label, value) in fields {
        text.push_str(&labelled(label, &value));
    }
    text
}

/// `32 connections, 30s, closed loop` from the `[load]` section and the run defaults.
fn describe_load(scenario: &Scenario) -> String {
    let load = &scenario.load;
    let mut parts = Vec::new();
    if let Some(connections) = load.connections {
        parts.push(format!("{connections} connections"));
    }
    match (load.requests, &load.duration) {
        (Some(requests), _) => parts.push(format!("{requests} requests")),
        (None, Some(duration)) => parts.push(duration.clone()),
        (None, None) => {}
    }
    parts.push(match &load.rate {
        Some(rate) => format!("open loop at {} requests/s", rate.as_text()),
        None => "closed loop".to_string(),
    });
    if parts.len() == 1 {
        parts.insert(0, "membench run's defaults".to_string());
    }
    parts.join(", ")
}

/// `live heap grows (above 5 MB/min); RSS flat` from `[expect]`.
fn describe_expectations(scenario: &Scenario) -> String {
    if scenario.expect.is_empty() {
        return "nothing (no [expect] section: runs get no verdict)".to_string();
    }
    scenario
        .expectations()
        .iter()
        .map(|expectation| {
            let metric = expectation.metric;
            let threshold = expectation
                .threshold_per_min
                .unwrap_or_else(|| metric.default_threshold_per_min());
            // No-break spaces keep a number with its unit when the line is wrapped.
            let mut text = format!(
                "{} {} (trend threshold {threshold}\u{a0}{}",
                metric.label(),
                expectation.shape.name(),
                metric.slope_unit()
            );
            if let Some(level) = expectation.at_least {
                text.push_str(&format!(", median at least\u{a0}{level}"));
            }
            text.push(')');
            text
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether the modelled .NET GC is on by default and what one request allocates in .NET.
fn describe_dotnet(scenario: &Scenario) -> String {
    let Some(section) = &scenario.dotnet else {
        return "none (no [dotnet] section: no .NET counterpart to model)".to_string();
    };
    let default = if section.from_article {
        "on by default (server preset)"
    } else {
        "off by default (--gc-model server turns it on)"
    };
    let allocations = section
        .allocations
        .iter()
        .map(describe_allocation)
        .collect::<Vec<_>>();
    let per_request = if allocations.is_empty() {
        "only the framework's own overhead".to_string()
    } else {
        allocations.join(", ")
    };
    format!("{default}; per request in .NET: {per_request}")
}

/// `byte[{size}] for the request`, `string of 10240 chars kept forever`.
fn describe_allocation(allocation: &AllocationSpec) -> String {
    let what = match &allocation.kind {
        KindSpec::String { chars } => format!("string of {chars} chars"),
        KindSpec::ByteArray { len } => format!("byte[{len}]"),
        KindSpec::Other { bytes } => format!("{bytes} bytes of small objects"),
    };
    let life = match allocation.lifetime {
        crate::gcmodel::Lifetime::Request => "for the request".to_string(),
        crate::gcmodel::Lifetime::Forever => "kept forever".to_string(),
        crate::gcmodel::Lifetime::For(duration) => {
            format!("kept {}", humantime::format_duration(duration))
        }
    };
    format!("{what} {life}")
}

/// `  label:    value`, wrapped to [`LONG_WIDTH`] with continuation lines under the value.
fn labelled(label: &str, value: &str) -> String {
    let first = format!("  {:<width$}", format!("{label}:"), width = LABEL_WIDTH);
    let rest = " ".repeat(first.len());
    let options = textwrap::Options::new(LONG_WIDTH)
        .initial_indent(&first)
        .subsequent_indent(&rest);
    let mut text = textwrap::fill(value, options);
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin(name: &str) -> Scenario {
        super::super::find(name).unwrap()
    }

    /// The long text with its line breaks, indentation and no-break spaces folded into
    /// single spaces.
    fn long_unwrapped(name: &str) -> String {
        describe_long(&builtin(name))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn the_long_form_says_what_the_file_says() {
        let loh = builtin("loh");
        let wrapped = describe_long(&loh);
        for line in wrapped.lines() {
            assert!(line.chars().count() <= LONG_WIDTH, "too wide: {line}");
        }
        let text = long_unwrapped("loh");
        assert!(text.starts_with("loh (large-object): "), "{text}");
        assert!(text.contains("GET /api/loh/{size}"), "{text}");
        assert!(text.contains("size = 85000"), "{text}");
        assert!(text.contains("live heap flat"), "{text}");
        assert!(text.contains("on by default (server preset)"), "{text}");
        assert!(text.contains("byte[{size}] for the request"), "{text}");
        let teaches = loh.teaches.as_deref().unwrap();
        let teaches: Vec<&str> = teaches.split_whitespace().collect();
        assert!(text.contains(&teaches.join(" ")), "{text}");
    }

    #[test]
    fn levels_leaks_and_paced_loads_are_described() {
        let time_wait = long_unwrapped("httpclient1");
        assert!(time_wait.contains("median at least 1000"), "{time_wait}");
        let leak = long_unwrapped("staticstring");
        assert!(leak.contains("live heap grows"), "{leak}");
        assert!(leak.contains("kept forever"), "{leak}");
        assert!(leak.contains("open loop at 2000 requests/s"), "{leak}");
        let ping = long_unwrapped("ping");
        assert!(ping.contains("no [dotnet] section"), "{ping}");
    }
}
