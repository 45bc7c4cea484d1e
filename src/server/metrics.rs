//! `GET /metrics`: the numbers of `/api/diagnostics` for Prometheus and every tool that
//! scrapes like it.
//!
//! Two text formats from one table of metric families: the Prometheus text format 0.0.4
//! by default (what `promtool check metrics`, most scrapers and `curl` users read), and
//! OpenMetrics 1.0.0 when the client's `Accept` asks for `application/openmetrics-text`
//! (as Prometheus itself does). In 0.0.4 a counter family is named with its `_total` and an
//! info metric is a gauge `…_info` of value 1 (0.0.4 has no `info` type); in OpenMetrics
//! the family name leaves `_total`/`_info` to the samples and carries a `# UNIT`, and the
//! text ends with `# EOF`.
//!
//! Each scrape takes one [`Diagnostics`] snapshot and renders it: the numbers live in the
//! server's own counters already, so there is nothing to keep in sync, and a scrape sees
//! one consistent snapshot. Beside membench's own names the standard `process_*` names of
//! the official client libraries are published (resident and virtual memory, CPU seconds,
//! fds and their limit, start time, threads), so stock Grafana panels work. Names carry
//! their units (`_bytes`, `_seconds`) and counters end in `_total`; the `endpoint` label is
//! the route template, the same key as in `/api/diagnostics` `requests`. Numbers the
//! allocator or the OS do not have are left out rather than reported as zero.

use std::fmt::Write as _;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::error::AppError;
use super::measurements::snapshot_off_workers;
use super::state::SharedState;
use crate::diagnostics::Diagnostics;
use crate::memory;

const METRICS: &str = "/metrics";

/// The route templates of this family.
pub(crate) const ROUTES: &[&str] = &[METRICS];

/// The two exposition formats `/metrics` speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The Prometheus text format 0.0.4: the default.
    Text,
    /// OpenMetrics 1.0.0, for clients whose `Accept` asks for it.
    OpenMetrics,
}

impl Format {
    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// Chooses the format from an `Accept` header: OpenMetrics when the client names
    /// `application/openmetrics-text` (version 1.0.0 or none) with a quality at least as
    /// high as the 0.0.4 text's (`text/plain`, `text/*` or `*/*`); the 0.0.4 text
    /// otherwise, also when the header is absent or names neither.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Text;
        };
        // For each format, the quality of the most specific media range that matches it.
        let mut open_metrics: Option<(u8, f32)> = None;
        let mut text: Option<(u8, f32)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let mut quality = 1.0_f32;
            let mut version = None;
            let mut valid = true;
            for param in parts {
                let Some((key, value)) = param.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"');
                match key.trim().to_ascii_lowercase().as_str() {
                    "q" => match value.parse::<f32>() {
                        Ok(q) if (0.0..=1.0).contains(&q) => quality = q,
                        _ => valid = false,
                    },
                    "version" => version = Some(value.to_string()),
                    _ => {}
                }
            }
            if !valid {
                continue;
            }
            let (slot, specificity) = match media.as_str() {
                "application/openmetrics-text"
                    if version.as_deref().is_none_or(|v| v == "1.0.0") =>
                {
                    (&mut open_metrics, 2)
                }
                "text/plain" if version.as_deref().is_none_or(|v| v == "0.0.4") => (&mut text, 2),
                "text/*" => (&mut text, 1),
                "*/*" => (&mut text, 0),
                _ => continue,
            };
            if slot.is_none_or(|(best, _)| specificity > best) {
                *slot = Some((specificity, quality));
            }
        }
        let quality = |slot: Option<(u8, f32)>| slot.map_or(0.0, |(_, q)| q);
        if quality(open_metrics) > 0.0 && quality(open_metrics) >= quality(text) {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }
}

/// What a metric family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    /// Constant labels describing the process, value 1 (a gauge `…_info` in 0.0.4).
    Info,
}

/// A sample value: integers print as integers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    Int(u64),
    Float(f64),
}

impl From<u64> for Value {
    fn from(value: u64) -> Self {
        Value::Int(value)
    }
}

impl From<f64> for Value {
    fn from(value: f64) -> Self {
        Value::Float(value)
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Value::Int(value) => write!(f, "{value}"),
            Value::Float(value) if value.is_nan() => f.write_str("NaN"),
            Value::Float(value) if value.is_infinite() => {
                f.write_str(if value > 0.0 { "+Inf" } else { "-Inf" })
            }
            Value::Float(value) => write!(f, "{value}"),
        }
    }
}

type Labels = Vec<(&'static str, String)>;

/// One metric family: its name without the unit and the `_total`/`_info` suffixes.
#[derive(Debug)]
struct Family {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    unit: Option<&'static str>,
    samples: Vec<(Labels, Value)>,
}

impl Family {
    /// The family name with its unit (`membench_rss` + `bytes`).
    fn base(&self) -> String {
        match self.unit {
            Some(unit) => format!("{}_{unit}", self.name),
            None => self.name.to_string(),
        }
    }

    /// The name of its samples, the same in both formats.
    fn sample_name(&self) -> String {
        let base = self.base();
        match self.kind {
            Kind::Counter => format!("{base}_total"),
            Kind::Info => format!("{base}_info"),
            Kind::Gauge => base,
        }
    }
}

/// The families of one scrape, in the order they are written.
#[derive(Debug, Default)]
struct Families(Vec<Family>);

const BYTES: Option<&str> = Some("bytes");
const SECONDS: Option<&str> = Some("seconds");

impl Families {
    fn push(
        &mut self,
        name: &'static str,
        help: &'static str,
        kind: Kind,
        unit: Option<&'static str>,
        samples: Vec<(Labels, Value)>,
    ) {
        self.0.push(Family {
            name,
            help,
            kind,
            unit,
            samples,
        });
    }

    fn gauge(
        &mut self,
        name: &'static str,
        help: &'static str,
        unit: Option<&'static str>,
        value: impl Into<Value>,
    ) {
        self.push(
            name,
            help,
            Kind::Gauge,
            unit,
            vec![(Vec::new(), value.into())],
        );
    }

    fn counter(
        &mut self,
        name: &'static str,
        help: &'static str,
        unit: Option<&'static str>,
        value: impl Into<Value>,
    ) {
        self.push(
            name,
            help,
            Kind::Counter,
            unit,
            vec![(Vec::new(), value.into())],
        );
    }

    fn info(&mut self, name: &'static str, help: &'static str, labels: &[(&'static str, &str)]) {
        let labels = labels
            .iter()
            .map(|&(key, value)| (key, value.to_string()))
            .collect();
        self.push(name, help, Kind::Info, None, vec![(labels, Value::Int(1))]);
    }

    /// A family with one sample per value of one label.
    fn labelled<L: Into<String>, V: Into<Value>>(
        &mut self,
        name: &'static str,
        help: &'static str,
        kind: Kind,
        unit: Option<&'static str>,
        label: &'static str,
        samples: impl IntoIterator<Item = (L, V)>,
    ) {
        let samples = samples
            .into_iter()
            .map(|(value, sample)| (vec![(label, value.into())], sample.into()))
            .collect();
        self.push(name, help, kind, unit, samples);
    }

    /// The families as text in `format`.
    fn render(&self, format: Format) -> String {
        let mut out = String::new();
        for family in &self.0 {
            let (name, kind) = match format {
                Format::Text => (
                    family.sample_name(),
                    match family.kind {
                        Kind::Counter => "counter",
                        Kind::Gauge | Kind::Info => "gauge",
                    },
                ),
                Format::OpenMetrics => (
                    family.base(),
                    match family.kind {
                        Kind::Counter => "counter",
                        Kind::Gauge => "gauge",
                        Kind::Info => "info",
                    },
                ),
            };
            let help = escape(family.help, format == Format::OpenMetrics);
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            if let (Format::OpenMetrics, Some(unit)) = (format, family.unit) {
                let _ = writeln!(out, "# UNIT {name} {unit}");
            }
            let sample_name = family.sample_name();
            for (labels, value) in &family.samples {
                out.push_str(&sample_name);
                if !labels.is_empty() {
                    out.push('{');
                    for (i, (key, value)) in labels.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        let _ = write!(out, "{key}=\"{}\"", escape(value, true));
                    }
                    out.push('}');
                }
                let _ = writeln!(out, " {value}");
            }
        }
        if format == Format::OpenMetrics {
            out.push_str("# EOF\n");
        }
        out
    }
}

/// Escapes `\` and line feeds, and `"` when `quote` (label values; OpenMetrics help).
fn escape(text: &str, quote: bool) -> std::borrow::Cow<'_, str> {
    if !text.contains(['\\', '\n', '"']) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.into()
}

/// The standard process numbers `/api/diagnostics` does not carry, read from `/proc/self`;
/// each absent where the OS does not say.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessExtras {
    pub virtual_memory_bytes: Option<u64>,
    /// The soft limit on open fds (absent when unlimited).
    pub max_fds: Option<u64>,
    /// When the process started, in seconds since the Unix epoch.
    pub start_time_seconds: Option<f64>,
}

impl ProcessExtras {
    /// Reads `/proc/self/stat` and `/proc/self/limits` (blocking, small).
    pub fn read() -> ProcessExtras {
        let Ok(process) = procfs::process::Process::myself() else {
            return ProcessExtras::default();
        };
        let stat = process.stat().ok();
        let start_time_seconds = stat.as_ref().and_then(|stat| {
            let boot = procfs::boot_time_secs().ok()?;
            Some(boot as f64 + stat.starttime as f64 / procfs::ticks_per_second() as f64)
        });
        let max_fds =
            process
                .limits()
                .ok()
                .and_then(|limits| match limits.max_open_files.soft_limit {
                    procfs::process::LimitValue::Value(value) => Some(value),
                    procfs::process::LimitValue::Unlimited => None,
                });
        ProcessExtras {
            virtual_memory_bytes: stat.map(|stat| stat.vsize),
            max_fds,
            start_time_seconds,
        }
    }
}

/// The families of one snapshot.
// One metric per line reads as the table it is; rustfmt would spread each over seven.
#[rustfmt::skip]
fn families(d: &Diagnostics, extras: &ProcessExtras) -> Families {
    use Kind::{Counter, Gauge};
    let mut f = Families::default();
    // The Rust server's own document always has both (contract version 1).
    let (Some(process), Some(heap)) = (&d.process, &d.heap) else { return f };

    // The standard names of the official client libraries, so stock dashboards work.
    f.gauge("process_resident_memory", "Resident memory size in bytes", BYTES, process.rss_bytes);
    if let Some(bytes) = extras.virtual_memory_bytes {
        f.gauge("process_virtual_memory", "Virtual memory size in bytes", BYTES, bytes);
    }
    f.counter("process_cpu", "Total user and system CPU time spent in seconds", SECONDS, process.cpu_user_seconds + process.cpu_system_seconds);
    f.gauge("process_open_fds", "Number of open file descriptors", None, process.open_fds);
    if let Some(max) = extras.max_fds {
        f.gauge("process_max_fds", "Maximum number of open file descriptors", None, max);
    }
    if let Some(start) = extras.start_time_seconds {
        f.gauge("process_start_time", "Start time of the process since unix epoch in seconds", SECONDS, start);
    }
    f.gauge("process_threads", "Number of OS threads in the process", None, process.threads);

    let counting = if d.counting_enabled { "on" } else { "off" };
    f.info("membench_server", "The allocator in use and whether allocations are counted", &[("allocator", d.allocator.map_or("unknown", |a| a.name())), ("counting", counting)]);
    f.gauge("membench_uptime", "Time since the server started", SECONDS, d.uptime_s);
    if let Some(threshold) = d.large_object_threshold_bytes {
        f.gauge("membench_large_object_threshold", "Allocations at or above this size count as large", BYTES, threshold);
    }

    f.gauge("membench_heap_live", "Heap bytes allocated and not yet freed (counting allocator)", BYTES, heap.live_bytes);
    f.counter("membench_heap_allocations", "Allocations made", None, heap.alloc_count);
    f.counter("membench_heap_frees", "Frees made", None, heap.free_count);
    f.counter("membench_heap_allocated", "Bytes allocated", BYTES, heap.alloc_bytes);
    f.counter("membench_heap_freed", "Bytes freed", BYTES, heap.freed_bytes);
    f.counter("membench_heap_large_allocations", "Allocations at or above the large-object threshold", None, heap.large_alloc_count);
    f.counter("membench_heap_large_allocated", "Bytes of allocations at or above the large-object threshold", BYTES, heap.large_alloc_bytes);
    f.counter("membench_measurement_allocations", "Allocations made by the server's own snapshots (included above)", None, d.measurement_alloc_count);
    f.counter("membench_measurement_allocated", "Bytes allocated by the server's own snapshots (included above)", BYTES, d.measurement_alloc_bytes);

    f.gauge("membench_rss", "Resident set size of the server", BYTES, process.rss_bytes);
    f.gauge("membench_rss_anon", "Anonymous resident memory (heap and stacks)", BYTES, process.rss_anon_bytes);
    f.counter("membench_cpu_user", "User CPU time", SECONDS, process.cpu_user_seconds);
    f.counter("membench_cpu_system", "System CPU time", SECONDS, process.cpu_system_seconds);
    f.counter("membench_minor_faults", "Minor page faults (fresh pages touched)", None, process.minor_faults);
    f.counter("membench_major_faults", "Major page faults (pages read from disk)", None, process.major_faults);
    f.gauge("membench_threads", "Threads of the server", None, process.threads);
    f.gauge("membench_open_fds", "Open file descriptors of the server", None, process.open_fds);
    let tcp = &process.tcp;
    let tcp_states = [
        ("established", tcp.established),
        ("close_wait", tcp.close_wait),
        ("listen", tcp.listen),
        ("time_wait", tcp.time_wait),
        ("other", tcp.other),
    ];
    f.labelled("membench_tcp_sockets", "TCP sockets of the server by state (time_wait: on a port it listens on)", Gauge, None, "state", tcp_states);
    f.gauge("membench_tcp_time_wait_namespace_sockets", "TIME_WAIT sockets in the server's network namespace", None, tcp.time_wait_namespace);

    let stats = &d.allocator_stats;
    let allocator_gauges = [
        ("membench_allocator_allocated", "Bytes the allocator has handed out", stats.allocated_bytes),
        ("membench_allocator_active", "Bytes in pages holding allocated blocks", stats.active_bytes),
        ("membench_allocator_resident", "Physical memory the allocator holds", stats.resident_bytes),
        ("membench_allocator_mapped", "Address space the allocator has mapped", stats.mapped_bytes),
        ("membench_allocator_retained", "Bytes kept mapped but returned to the OS", stats.retained_bytes),
        ("membench_allocator_free", "Free bytes inside the allocator, not returned to the OS", stats.free_bytes),
    ];
    for (name, help, value) in allocator_gauges {
        if let Some(value) = value {
            f.gauge(name, help, BYTES, value);
        }
    }
    if let Some(purges) = stats.purge_events_total {
        f.counter("membench_allocator_purge_events", "Times the allocator returned memory to the OS on its own", None, purges);
    }
    if let Some(purged) = stats.purged_bytes_total {
        f.counter("membench_allocator_purged", "Bytes returned to the OS by those purges", BYTES, purged);
    }
    f.counter("membench_collect_calls", "Explicit collects through POST /api/collect", None, stats.collect_calls_total);

    f.labelled("membench_requests", "Requests answered by endpoint (route template; unmatched: no route)", Counter, None, "endpoint",
        d.requests.iter().map(|(endpoint, count)| (endpoint.as_str(), *count)));
    f.labelled("membench_errors", "Failed requests by kind", Counter, None, "kind",
        d.errors.iter().map(|(kind, count)| (kind.as_str(), *count)));

    let leaks = &d.leaks;
    let held = [
        ("/api/staticstring", leaks.staticstring),
        ("/api/cache/unbounded", leaks.cache_unbounded),
        ("/api/cache/expiring", leaks.cache_expiring),
        ("/api/clientleak", leaks.clientleak),
        ("/api/fileprovider", leaks.fileprovider),
        ("/api/pooledarray/{size}", leaks.pooled_buffers),
    ];
    f.labelled("membench_leak_held", "Bytes each leaking, caching or pooling endpoint holds now", Gauge, BYTES, "endpoint",
        held.map(|(endpoint, held)| (endpoint, held.bytes)));
    f.labelled("membench_leak_held_items", "Items each leaking, caching or pooling endpoint holds now", Gauge, None, "endpoint",
        held.map(|(endpoint, held)| (endpoint, held.items)));

    // The modelled lens, named so no dashboard can take it for a measurement.
    if let Some(lens) = &d.modelled_gc {
        let c = lens.collections;
        f.labelled("membench_modelled_dotnet_gc_collections", "MODELLED .NET GC (a model, not a measurement): collections like GC.CollectionCount(n), a gen2 also counts as gen1 and gen0", Counter, None, "generation",
            [("gen0", c.gen0), ("gen1", c.gen1), ("gen2", c.gen2)]);
        f.gauge("membench_modelled_dotnet_managed_heap", "MODELLED .NET GC (a model, not a measurement): managed heap, garbage not yet collected included", BYTES, lens.managed_heap_bytes);
        f.info("membench_modelled_dotnet_gc", "The modelled .NET GC lens in use (membench explain gc-model)", &[("label", lens.label.as_str()), ("preset", lens.preset.as_str())]);
    }
    f
}

/// The snapshot as text in `format`.
pub fn render(diagnostics: &Diagnostics, extras: &ProcessExtras, format: Format) -> String {
    families(diagnostics, extras).render(format)
}

async fn metrics(
    State(state): State<SharedState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, AppError> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    let format = Format::negotiate(accept);
    let diagnostics = snapshot_off_workers(state.clone()).await?;
    // Reading /proc allocates: counted as the snapshot's own cost, like the snapshot's.
    let extras = tokio::task::spawn_blocking(move || {
        let before = memory::thread_heap_counters();
        let extras = ProcessExtras::read();
        state
            .measurement_cost
            .add(before, memory::thread_heap_counters());
        extras
    })
    .await
    .map_err(|err| AppError::Internal(format!("the process probe failed: {err}")))?;
    let text = render(&diagnostics, &extras, format);
    Ok(([(header::CONTENT_TYPE, format.content_type())], text))
}

/// `GET /metrics`.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new().route(METRICS, get(metrics))
}

#[cfg(test)]
mod tests {
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
                        !key.is_empty()
                            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
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
        assert!(value(&text, "process_cpu_seconds_total") > 0.0);
    }

    #[test]
    fn label_values_and_help_are_escaped() {
        let mut families = super::Families::default();
        families.labelled(
            "x",
            "a \\ \"b\"\nc",
            super::Kind::Gauge,
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
        let mut families = super::Families::default();
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
}
