//! `/metrics`: content negotiation, both formats, escaping, the standard names.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::Format;
use crate::memory;
use crate::server::test_support::{get, state};
use crate::server::{SharedState, app};

/// Prometheus 2.x sends this `Accept`.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// `GET /metrics` with an optional `Accept`; returns status, content type and text.
async fn scrape(state: &SharedState, accept: Option<&str>) -> (StatusCode, String, String) {
    let mut request = Request::builder().uri("/metrics");
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = app(state.clone())
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

/// Checks one sample line, `name{labels} value`, and returns its name and value.
fn parse_sample(line: &str) -> (&str, f64) {
    let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line:?}"));
    let value: f64 = value
        .parse()
        .unwrap_or_else(|_| panic!("value of {line:?}"));
    let name = match series.split_once('{') {
        Some((name, labels)) => {
            let labels = labels
                .strip_suffix('}')
                .unwrap_or_else(|| panic!("{line:?}"));
            for label in labels.split("\",") {
                let (key, quoted) = label
                    .split_once("=\"")
                    .unwrap_or_else(|| panic!("{line:?}"));
                assert!(
                    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
                    "{line:?}"
                );
                assert!(!quoted.trim_end_matches('"').contains('"'), "{line:?}");
            }
            name
        }
        None => series,
    };
    let valid = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b':';
    assert!(
        !name.is_empty() && name.bytes().all(valid),
        "name of {line:?}"
    );
    assert!(!name.as_bytes()[0].is_ascii_digit(), "{line:?}");
    (name, value)
}

/// The value of the sample line that starts with `series` (name and labels).
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
        .parse::<f64>()
        .unwrap()
}

/// The `# TYPE` of each family, in order, after checking that each has a `# HELP`
/// just before it.
fn types(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut types = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(
                i > 0 && lines[i - 1].starts_with(&format!("# HELP {name} ")),
                "no help for {name} in\n{text}"
            );
            types.push((name.to_string(), kind.to_string()));
        }
    }
    types
}

#[test]
fn accept_chooses_the_format() {
    for (accept, expected) in [
        (None, Format::Text),
        (Some(""), Format::Text),
        (Some("*/*"), Format::Text),
        (Some("text/plain"), Format::Text),
        (Some("text/plain; version=0.0.4"), Format::Text),
        (Some("application/json"), Format::Text),
        (Some(PROMETHEUS_ACCEPT), Format::OpenMetrics),
        (Some("application/openmetrics-text"), Format::OpenMetrics),
        (
            Some("Application/OpenMetrics-Text; version=\"1.0.0\""),
            Format::OpenMetrics,
        ),
        (
            Some("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            Format::OpenMetrics,
        ),
        (
            Some("application/openmetrics-text, text/plain"),
            Format::OpenMetrics,
        ),
        (
            Some("text/plain;q=0.9, application/openmetrics-text;q=0.5"),
            Format::Text,
        ),
        (
            Some("application/openmetrics-text;q=0.5, */*;q=0.1"),
            Format::OpenMetrics,
        ),
        (Some("application/openmetrics-text;q=0"), Format::Text),
        (
            Some("application/openmetrics-text;q=nonsense"),
            Format::Text,
        ),
        // A version membench does not write is not OpenMetrics 1.0.0.
        (
            Some("application/openmetrics-text;version=0.0.1"),
            Format::Text,
        ),
    ] {
        assert_eq!(Format::negotiate(accept), expected, "{accept:?}");
    }
}

#[tokio::test]
async fn the_default_is_the_004_text_with_help_and_type_for_every_family() {
    let state = state();
    for _ in 0..2 {
        get(&state, "/api/staticstring").await;
    }
    get(&state, "/api/array/0").await;
    let (status, content_type, text) = scrape(&state, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    assert!(
        !text.contains("# EOF") && !text.contains("# UNIT"),
        "{text}"
    );
    let types = types(&text);
    assert!(
        types
            .iter()
            .all(|(_, kind)| kind == "counter" || kind == "gauge"),
        "{types:?}"
    );
    // In 0.0.4 a counter's family name is its sample name.
    for (name, kind) in &types {
        assert_eq!(kind == "counter", name.ends_with("_total"), "{name} {kind}");
    }
    assert!(
        types.contains(&("membench_server_info".into(), "gauge".into())),
        "{text}"
    );
    let samples: Vec<(&str, f64)> = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(parse_sample)
        .collect();
    for (name, _) in &samples {
        assert!(
            types.iter().any(|(family, _)| family == name),
            "{name} has no # TYPE"
        );
    }
    for name in [
        "process_resident_memory_bytes",
        "process_virtual_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "process_max_fds",
        "process_start_time_seconds",
        "process_threads",
        "membench_heap_live_bytes",
        "membench_rss_bytes",
        "membench_heap_allocations_total",
        "membench_allocator_purge_events_total",
        "membench_collect_calls_total",
        "membench_requests_total",
        "membench_errors_total",
        "membench_leak_held_bytes",
        "membench_server_info",
    ] {
        // glibc counts no purges: that series is left out rather than invented.
        if name == "membench_allocator_purge_events_total"
            && memory::active_allocator() == memory::AllocatorKind::System
        {
            continue;
        }
        assert!(
            samples.iter().any(|(n, _)| *n == name),
            "no {name} in\n{text}"
        );
    }
    assert_eq!(
        value(
            &text,
            "membench_requests_total{endpoint=\"/api/staticstring\"}"
        ),
        2.0
    );
    assert_eq!(
        value(&text, "membench_errors_total{kind=\"bad request\"}"),
        1.0
    );
    assert_eq!(
        value(
            &text,
            "membench_leak_held_bytes{endpoint=\"/api/staticstring\"}"
        ),
        state.strings.held().bytes as f64
    );
    assert!(value(&text, "membench_rss_bytes") > 0.0);
    assert!(value(&text, "process_resident_memory_bytes") > 0.0);
    assert!(
        value(&text, "process_virtual_memory_bytes")
            >= value(&text, "process_resident_memory_bytes")
    );
    assert!(value(&text, "process_max_fds") >= value(&text, "process_open_fds"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let start = value(&text, "process_start_time_seconds");
    assert!(
        start > now - 3600.0 && start <= now + 1.0,
        "{start} vs now {now}"
    );
}

#[tokio::test]
async fn openmetrics_when_asked_with_units_total_and_eof() {
    let state = state();
    get(&state, "/api/staticstring").await;
    let (status, content_type, text) = scrape(&state, Some(PROMETHEUS_ACCEPT)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        content_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(text.ends_with("\n# EOF\n"), "{text}");
    let types = types(&text);
    for expected in [
        ("membench_server", "info"),
        ("membench_requests", "counter"),
        ("membench_heap_allocated_bytes", "counter"),
        ("membench_rss_bytes", "gauge"),
        ("process_cpu_seconds", "counter"),
        ("process_resident_memory_bytes", "gauge"),
    ] {
        assert!(
            types.contains(&(expected.0.to_string(), expected.1.to_string())),
            "no {expected:?} in\n{text}"
        );
    }
    assert!(
        types.iter().all(|(name, _)| !name.ends_with("_total")),
        "{types:?}"
    );
    assert!(
        text.contains("# TYPE membench_rss_bytes gauge\n# UNIT membench_rss_bytes bytes\n"),
        "{text}"
    );
    assert!(text.contains("\nmembench_server_info{allocator="), "{text}");
    assert_eq!(
        value(
            &text,
            "membench_requests_total{endpoint=\"/api/staticstring\"}"
        ),
        1.0
    );
    // Present as a counter sample; its value is this test process's CPU time, which
    // can still read 0 in a process that has run for less than a clock tick.
    assert!(value(&text, "process_cpu_seconds_total") >= 0.0);
}

#[test]
fn label_values_and_help_are_escaped() {
    let mut families = super::exposition::Families::default();
    families.labelled(
        "x",
        "a \\ \"b\"\nc",
        super::exposition::Kind::Gauge,
        None,
        "k",
        [("q\"\\\n", 1_u64)],
    );
    assert_eq!(
        families.render(Format::Text),
        "# HELP x a \\\\ \"b\"\\nc\n# TYPE x gauge\nx{k=\"q\\\"\\\\\\n\"} 1\n"
    );
    assert!(
        families
            .render(Format::OpenMetrics)
            .starts_with("# HELP x a \\\\ \\\"b\\\"\\nc\n")
    );
    let mut families = super::exposition::Families::default();
    families.gauge("y", "h", None, f64::INFINITY);
    assert!(families.render(Format::Text).ends_with("y +Inf\n"));
}

#[tokio::test]
async fn the_modelled_lens_has_names_that_say_modelled_and_is_absent_when_off() {
    let state = state();
    for _ in 0..400 {
        get(&state, "/api/loh/84976").await;
    }
    let lens = state.gc_lens.as_ref().unwrap();
    lens.tick(&state.managed, 0.25);
    let counts = lens.snapshot().collections;
    assert!(counts.gen2 > 0, "{counts:?}");
    let (_, body) = get(&state, "/metrics").await;
    let text = std::str::from_utf8(&body).unwrap();
    for (generation, count) in [
        ("gen0", counts.gen0),
        ("gen1", counts.gen1),
        ("gen2", counts.gen2),
    ] {
        assert_eq!(
            value(
                text,
                &format!(
                    "membench_modelled_dotnet_gc_collections_total{{generation=\"{generation}\"}}"
                )
            ),
            count as f64
        );
    }
    assert_eq!(
        value(text, "membench_modelled_dotnet_managed_heap_bytes"),
        lens.snapshot().managed_heap_bytes as f64
    );
    assert!(text.contains("membench_modelled_dotnet_gc_info{label=\"modelled .NET GC (server)\",preset=\"server\"} 1"), "{text}");

    let off = crate::server::test_support::state_with(|config| config.lens = None);
    let (_, body) = get(&off, "/metrics").await;
    let text = std::str::from_utf8(&body).unwrap();
    assert!(!text.contains("modelled"), "{text}");
}
