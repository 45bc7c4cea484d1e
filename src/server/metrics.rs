//! `GET /metrics`: the numbers of `/api/diagnostics` in the OpenMetrics text format
//! (which Prometheus scrapes), for workshops that watch the server with their own tools.
//!
//! Each scrape takes one [`Diagnostics`] snapshot and encodes it through a
//! prometheus-client [`Collector`] in a registry built for that scrape: the numbers live in
//! the server's own counters already, so there is nothing to keep in sync, and a scrape
//! sees one consistent snapshot. Names carry their units (`_bytes`, `_seconds`) and
//! counters end in `_total`; the `endpoint` label is the route template, the same key as
//! in `/api/diagnostics` `requests`. Allocator numbers the allocator does not have are
//! left out rather than reported as zero.

use std::fmt;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeCounterValue, EncodeGaugeValue, EncodeMetric,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use super::error::AppError;
use super::measurements::snapshot_off_workers;
use super::state::SharedState;
use crate::diagnostics::Diagnostics;

const METRICS: &str = "/metrics";

/// The route templates of this family.
pub(crate) const ROUTES: &[&str] = &[METRICS];

/// The media type of the OpenMetrics text format.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A snapshot that encodes itself on scrape.
#[derive(Debug)]
struct SnapshotCollector(Diagnostics);

/// Writes one unlabelled metric.
fn one(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    metric: impl EncodeMetric,
) -> fmt::Result {
    let metric_encoder =
        encoder.encode_descriptor(name, help, unit.as_ref(), metric.metric_type())?;
    metric.encode(metric_encoder)
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    value: impl EncodeGaugeValue,
) -> fmt::Result {
    one(encoder, name, help, unit, ConstGauge::new(value))
}

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    value: impl EncodeCounterValue,
) -> fmt::Result {
    one(encoder, name, help, unit, ConstCounter::new(value))
}

/// Writes one metric with a sample per label value.
fn labelled<'a, M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    metric_type: MetricType,
    label: &str,
    samples: impl IntoIterator<Item = (&'a str, M)>,
) -> fmt::Result {
    let mut metric_encoder = encoder.encode_descriptor(name, help, unit.as_ref(), metric_type)?;
    for (value, metric) in samples {
        let labels = [(label, value)];
        metric.encode(metric_encoder.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for SnapshotCollector {
    // One metric per line reads as the table it is; rustfmt would spread each over seven.
    #[rustfmt::skip]
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        use MetricType::{Counter, Gauge};
        let d = &self.0;
        let e = &mut encoder;
        let bytes = || Some(Unit::Bytes);
        let seconds = || Some(Unit::Seconds);

        let counting = if d.counting_enabled { "on" } else { "off" };
        let info = Info::new([("allocator", d.allocator.name()), ("counting", counting)]);
        one(e, "membench_server", "The allocator in use and whether allocations are counted", None, info)?;
        gauge(e, "membench_uptime", "Time since the server started", seconds(), d.uptime_s)?;
        gauge(e, "membench_large_object_threshold", "Allocations at or above this size count as large", bytes(), d.large_object_threshold_bytes)?;

        let heap = &d.heap;
        gauge(e, "membench_heap_live", "Heap bytes allocated and not yet freed (counting allocator)", bytes(), heap.live_bytes)?;
        counter(e, "membench_heap_allocations", "Allocations made", None, heap.alloc_count)?;
        counter(e, "membench_heap_frees", "Frees made", None, heap.free_count)?;
        counter(e, "membench_heap_allocated", "Bytes allocated", bytes(), heap.alloc_bytes)?;
        counter(e, "membench_heap_freed", "Bytes freed", bytes(), heap.freed_bytes)?;
        counter(e, "membench_heap_large_allocations", "Allocations at or above the large-object threshold", None, heap.large_alloc_count)?;
        counter(e, "membench_heap_large_allocated", "Bytes of allocations at or above the large-object threshold", bytes(), heap.large_alloc_bytes)?;
        counter(e, "membench_measurement_allocations", "Allocations made by the server's own snapshots (included above)", None, d.measurement_alloc_count)?;
        counter(e, "membench_measurement_allocated", "Bytes allocated by the server's own snapshots (included above)", bytes(), d.measurement_alloc_bytes)?;

        let process = &d.process;
        gauge(e, "membench_rss", "Resident set size of the server", bytes(), process.rss_bytes)?;
        gauge(e, "membench_rss_anon", "Anonymous resident memory (heap and stacks)", bytes(), process.rss_anon_bytes)?;
        counter(e, "membench_cpu_user", "User CPU time", seconds(), process.cpu_user_seconds)?;
        counter(e, "membench_cpu_system", "System CPU time", seconds(), process.cpu_system_seconds)?;
        counter(e, "membench_minor_faults", "Minor page faults (fresh pages touched)", None, process.minor_faults)?;
        counter(e, "membench_major_faults", "Major page faults (pages read from disk)", None, process.major_faults)?;
        gauge(e, "membench_threads", "Threads of the server", None, process.threads)?;
        gauge(e, "membench_open_fds", "Open file descriptors of the server", None, process.open_fds)?;
        let tcp = &process.tcp;
        let tcp_states = [
            ("established", tcp.established),
            ("close_wait", tcp.close_wait),
            ("listen", tcp.listen),
            ("time_wait", tcp.time_wait),
            ("other", tcp.other),
        ];
        labelled(e, "membench_tcp_sockets", "TCP sockets of the server by state (time_wait: on a port it listens on)", None, Gauge, "state",
            tcp_states.map(|(state, count)| (state, ConstGauge::new(count))))?;
        gauge(e, "membench_tcp_time_wait_namespace_sockets", "TIME_WAIT sockets in the server's network namespace", None, tcp.time_wait_namespace)?;

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
                gauge(e, name, help, bytes(), value)?;
            }
        }
        if let Some(purges) = stats.purge_events_total {
            counter(e, "membench_allocator_purge_events", "Times the allocator returned memory to the OS on its own", None, purges)?;
        }
        if let Some(purged) = stats.purged_bytes_total {
            counter(e, "membench_allocator_purged", "Bytes returned to the OS by those purges", bytes(), purged)?;
        }
        counter(e, "membench_collect_calls", "Explicit collects through POST /api/collect", None, stats.collect_calls_total)?;

        labelled(e, "membench_requests", "Requests answered by endpoint (route template; unmatched: no route)", None, Counter, "endpoint",
            d.requests.iter().map(|(endpoint, count)| (endpoint.as_str(), ConstCounter::new(*count))))?;
        labelled(e, "membench_errors", "Failed requests by kind", None, Counter, "kind",
            d.errors.iter().map(|(kind, count)| (kind.as_str(), ConstCounter::new(*count))))?;

        let leaks = &d.leaks;
        let held = [
            ("/api/staticstring", leaks.staticstring),
            ("/api/cache/unbounded", leaks.cache_unbounded),
            ("/api/cache/expiring", leaks.cache_expiring),
            ("/api/clientleak", leaks.clientleak),
            ("/api/fileprovider", leaks.fileprovider),
            ("/api/pooledarray/{size}", leaks.pooled_buffers),
        ];
        labelled(e, "membench_leak_held", "Bytes each leaking, caching or pooling endpoint holds now", bytes(), Gauge, "endpoint",
            held.map(|(endpoint, held)| (endpoint, ConstGauge::new(held.bytes))))?;
        labelled(e, "membench_leak_held_items", "Items each leaking, caching or pooling endpoint holds now", None, Gauge, "endpoint",
            held.map(|(endpoint, held)| (endpoint, ConstGauge::new(held.items))))?;

        // The modelled lens, named so no dashboard can take it for a measurement.
        if let Some(lens) = &d.modelled_gc {
            let c = lens.collections;
            labelled(e, "membench_modelled_dotnet_gc_collections", "MODELLED .NET GC (a model, not a measurement): collections like GC.CollectionCount(n), a gen2 also counts as gen1 and gen0", None, Counter, "generation",
                [("gen0", c.gen0), ("gen1", c.gen1), ("gen2", c.gen2)].map(|(generation, count)| (generation, ConstCounter::new(count))))?;
            gauge(e, "membench_modelled_dotnet_managed_heap", "MODELLED .NET GC (a model, not a measurement): managed heap, garbage not yet collected included", bytes(), lens.managed_heap_bytes)?;
            let info = Info::new([("label", lens.label.as_str()), ("preset", lens.preset.as_str())]);
            one(e, "membench_modelled_dotnet_gc", "The modelled .NET GC lens in use (membench explain gc-model)", None, info)?;
        }
        Ok(())
    }
}

/// The snapshot in the OpenMetrics text format.
pub(crate) fn render(diagnostics: Diagnostics) -> Result<String, AppError> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(SnapshotCollector(diagnostics)));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry)
        .map_err(|err| AppError::Internal(format!("cannot encode the metrics: {err}")))?;
    Ok(text)
}

async fn metrics(State(state): State<SharedState>) -> Result<impl IntoResponse, AppError> {
    let text = render(snapshot_off_workers(state).await?)?;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], text))
}

/// `GET /metrics`.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new().route(METRICS, get(metrics))
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use crate::memory;
    use crate::server::test_support::{get, state};

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

    #[tokio::test]
    async fn metrics_are_openmetrics_text_with_the_main_series() {
        let state = state();
        for _ in 0..2 {
            get(&state, "/api/staticstring").await;
        }
        get(&state, "/api/array/0").await;
        let (status, body) = get(&state, "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        let text = std::str::from_utf8(&body).unwrap();
        assert!(text.ends_with("# EOF\n"), "{text}");
        let samples: Vec<(&str, f64)> = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .map(parse_sample)
            .collect();
        let value = |series: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
                .unwrap_or_else(|| panic!("no {series} in\n{text}"))
                .parse::<f64>()
                .unwrap()
        };
        for name in [
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
            value("membench_requests_total{endpoint=\"/api/staticstring\"}"),
            2.0
        );
        assert_eq!(value("membench_errors_total{kind=\"bad request\"}"), 1.0);
        assert_eq!(
            value("membench_leak_held_bytes{endpoint=\"/api/staticstring\"}"),
            state.strings.held().bytes as f64
        );
        assert!(value("membench_rss_bytes") > 0.0);
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
        let value = |series: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
                .unwrap_or_else(|| panic!("no {series} in\n{text}"))
                .parse::<f64>()
                .unwrap()
        };
        for (generation, count) in [
            ("gen0", counts.gen0),
            ("gen1", counts.gen1),
            ("gen2", counts.gen2),
        ] {
            assert_eq!(
                value(&format!(
                    "membench_modelled_dotnet_gc_collections_total{{generation=\"{generation}\"}}"
                )),
                count as f64
            );
        }
        assert_eq!(
            value("membench_modelled_dotnet_managed_heap_bytes"),
            lens.snapshot().managed_heap_bytes as f64
        );
        assert!(text.contains("membench_modelled_dotnet_gc_info{label=\"modelled .NET GC (server)\",preset=\"server\"} 1"), "{text}");

        let off = crate::server::test_support::state_with(|config| config.lens = None);
        let (_, body) = get(&off, "/metrics").await;
        let text = std::str::from_utf8(&body).unwrap();
        assert!(!text.contains("modelled"), "{text}");
    }
}
