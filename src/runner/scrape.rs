//! The metrics source: a target's Prometheus/OpenMetrics endpoint (`--metrics URL`),
//! scraped each interval on the sampler's own connection with a timeout, and mapped onto
//! membench's series — the standard `process_*` names and the runtime families of the JVM,
//! Go, .NET (prometheus-net and OpenTelemetry), Python and Node.
//!
//! A scrape that fails mid-run is a gap, counted in `scrape_errors`, never a row of zeros;
//! a counter that goes backwards (the target restarted) is counted in `counter_resets`
//! and its interval gets no rate.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;

use super::exposition::{self, MetricLine};

/// The largest page read (a bigger one is refused as a failed scrape).
const MAX_PAGE_BYTES: usize = 32 << 20;

/// Memory families membench knows, for the start check's message.
pub(crate) const MEMORY_METRICS: &[&str] = &[
    "process_resident_memory_bytes",
    "jvm_memory_used_bytes",
    "jvm_memory_bytes_used",
    "go_memstats_heap_alloc_bytes",
    "dotnet_total_memory_bytes",
    "dotnet_gc_last_collection_heap_size_bytes",
    "process_runtime_dotnet_gc_heap_size_bytes",
    "nodejs_heap_size_used_bytes",
];

/// Collection counters, in the order they are looked for (the first present wins), with
/// the label that names a collection's kind.
const GC_FAMILIES: &[(&str, &str)] = &[
    ("jvm_gc_collection_seconds_count", "gc"),
    ("go_gc_duration_seconds_count", ""),
    ("dotnet_collection_count_total", "generation"),
    ("process_runtime_dotnet_gc_collections_count", "generation"),
    (
        "process_runtime_dotnet_gc_collections_count_total",
        "generation",
    ),
    ("dotnet_gc_collections_total", "dotnet_gc_heap_generation"),
    ("python_gc_collections_total", "generation"),
    ("nodejs_gc_duration_seconds_count", "kind"),
];

/// Runtime families always kept as extra values (`go_goroutines` also fills the
/// `goroutines` column).
const KEPT: &[&str] = &["go_goroutines", "process_start_time_seconds"];

/// `--metrics` as planned: checked once at plan time, scraped by the session.
#[derive(Debug, Clone)]
pub struct MetricsPlan {
    pub url: String,
    /// `--rps-metric`: the target's request counter.
    pub rps_metric: Option<String>,
    /// `--metrics-include`, checked to compile.
    pub include: Option<String>,
    /// The runtime's collection counter family found by the start check, if any.
    pub gc_family: Option<&'static str>,
    /// The keys of the series kept as they are that the start check's page had: each
    /// gets its own `samples.csv` column (a series that appears later goes into the
    /// `metrics_extra` cell).
    pub series: Vec<String>,
}

impl MetricsPlan {
    /// Checks the URL, the regex and one scrape (reachable, an exposition, a memory
    /// metric, the `--rps-metric` counter); the message quotes the input and says what
    /// to do.
    pub(crate) fn check(
        url: &str,
        rps_metric: Option<&str>,
        include: Option<&str>,
        timeout: Duration,
    ) -> Result<MetricsPlan, String> {
        let mut plan = MetricsPlan {
            url: url.to_string(),
            rps_metric: rps_metric.map(str::to_string),
            include: include.map(str::to_string),
            gc_family: None,
            series: Vec::new(),
        };
        let reading = plan.source(timeout)?.check()?;
        plan.gc_family = reading.gc_family;
        plan.series = reading.extras.keys().cloned().collect();
        Ok(plan)
    }

    /// A source to scrape with.
    pub(crate) fn source(&self, timeout: Duration) -> Result<MetricsSource, String> {
        let include = match &self.include {
            Some(pattern) => Some(regex::Regex::new(pattern).map_err(|err| {
                format!("--metrics-include {pattern:?} is not a regular expression ({err})")
            })?),
            None => None,
        };
        MetricsSource::new(&self.url, timeout, self.rps_metric.clone(), include)
    }
}

/// What one successful scrape said, mapped.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct MetricsReading {
    /// The collection counter family found (e.g. `jvm_gc_collection_seconds_count`).
    pub gc_family: Option<&'static str>,
    pub rss_bytes: Option<f64>,
    pub cpu_seconds_total: Option<f64>,
    pub open_fds: Option<f64>,
    pub threads: Option<f64>,
    /// `go_goroutines`.
    pub goroutines: Option<f64>,
    /// The runtime's managed heap in use (JVM heap areas, Go heap alloc, .NET total
    /// memory, Node heap used).
    pub heap_bytes: Option<f64>,
    /// Collections so far by kind (the family's kind label; numeric generations as
    /// `genN`; `all` without a label).
    pub collections: BTreeMap<String, f64>,
    /// The `--rps-metric` counter summed over its labels.
    pub requests_total: Option<f64>,
    /// `process_start_time_seconds`: a change means another process answers.
    pub start_time_s: Option<f64>,
    /// Series kept as extra values: [`KEPT`] and `--metrics-include` matches.
    pub extras: BTreeMap<String, f64>,
    /// membench's own families, when the page is a membench server's.
    pub membench: Option<super::membench_metrics::MembenchReading>,
}

impl MetricsReading {
    /// Maps a parsed page. `include` keeps unknown series whose key matches.
    pub(crate) fn map(
        lines: &[MetricLine],
        rps_metric: Option<&str>,
        include: Option<&regex::Regex>,
    ) -> MetricsReading {
        let mut reading = MetricsReading::default();
        let sum = |names: &[&str], filter: &dyn Fn(&MetricLine) -> bool| -> Option<f64> {
            let values: Vec<f64> = lines
                .iter()
                .filter(|line| names.contains(&line.name.as_str()) && filter(line))
                .map(|line| line.value)
                .collect();
            (!values.is_empty()).then(|| values.iter().sum())
        };
        let all = |_: &MetricLine| true;
        reading.rss_bytes = sum(&["process_resident_memory_bytes"], &all);
        reading.cpu_seconds_total = sum(&["process_cpu_seconds_total"], &all);
        reading.open_fds = sum(&["process_open_fds"], &all);
        reading.threads = sum(&["process_threads"], &all);
        reading.goroutines = sum(&["go_goroutines"], &all);
        reading.start_time_s = sum(&["process_start_time_seconds"], &all);
        let heap_area = |line: &MetricLine| line.label("area").is_none_or(|area| area == "heap");
        reading.heap_bytes = sum(
            &["jvm_memory_used_bytes", "jvm_memory_bytes_used"],
            &heap_area,
        )
        .or_else(|| sum(&["go_memstats_heap_alloc_bytes"], &all))
        .or_else(|| sum(&["dotnet_total_memory_bytes"], &all))
        .or_else(|| sum(&["dotnet_gc_last_collection_heap_size_bytes"], &all))
        .or_else(|| sum(&["process_runtime_dotnet_gc_heap_size_bytes"], &all))
        .or_else(|| sum(&["nodejs_heap_size_used_bytes"], &all));
        if let Some((family, label)) = GC_FAMILIES
            .iter()
            .find(|(family, _)| lines.iter().any(|line| line.name == *family))
        {
            reading.gc_family = Some(family);
            for line in lines.iter().filter(|line| line.name == *family) {
                let kind = match line.label(label) {
                    Some(kind) if kind.parse::<u32>().is_ok() => format!("gen{kind}"),
                    Some(kind) if !kind.is_empty() => kind.to_string(),
                    _ => "all".to_string(),
                };
                *reading.collections.entry(kind).or_insert(0.0) += line.value;
            }
        }
        reading.membench = super::membench_metrics::MembenchReading::read(lines);
        if let Some(name) = rps_metric {
            let total = format!("{name}_total");
            reading.requests_total = sum(&[name, total.as_str()], &all);
        }
        for line in lines {
            let key = line.key();
            if KEPT.contains(&line.name.as_str())
                || include.is_some_and(|include| include.is_match(&key))
            {
                reading.extras.insert(key, line.value);
            }
        }
        reading
    }

    /// Whether any memory series is there (the start check).
    pub(crate) fn has_memory(&self) -> bool {
        self.rss_bytes.is_some() || self.heap_bytes.is_some()
    }
}

/// The scrape of one interval as the sampler keeps it.
#[derive(Debug, Clone)]
pub(crate) struct MetricsState {
    /// The latest successful scrape and when it was taken (carried over a failed one).
    pub last_good: Option<(Instant, MetricsReading)>,
    /// Whether this interval's scrape failed.
    pub failed: bool,
}

/// Scrapes one URL.
pub(crate) struct MetricsSource {
    url: String,
    uri: hyper::Uri,
    timeout: Duration,
    rps_metric: Option<String>,
    include: Option<regex::Regex>,
    client: Client<HttpConnector, Empty<Bytes>>,
    runtime: tokio::runtime::Runtime,
}

impl MetricsSource {
    /// A source for `url` (checked to be an `http://` URL).
    pub(crate) fn new(
        url: &str,
        timeout: Duration,
        rps_metric: Option<String>,
        include: Option<regex::Regex>,
    ) -> Result<MetricsSource, String> {
        let uri: hyper::Uri = url.parse().map_err(|err| {
            format!(
                "--metrics {url:?} is not a URL ({err}); give e.g. http://127.0.0.1:8080/metrics"
            )
        })?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(format!(
                "--metrics {url:?}: membench scrapes plain http:// URLs with a host, e.g. http://127.0.0.1:8080/metrics"
            ));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| err.to_string())?;
        let client = {
            let _guard = runtime.enter();
            Client::builder(TokioExecutor::new()).build_http()
        };
        Ok(MetricsSource {
            url: url.to_string(),
            uri,
            timeout,
            rps_metric,
            include,
            client,
            runtime,
        })
    }

    /// Scrapes now; the error says what went wrong (for the start check's message).
    pub(crate) fn scrape(&self) -> Result<MetricsReading, String> {
        let text = self.runtime.block_on(self.fetch())?;
        let lines = exposition::parse(&text)
            .map_err(|err| format!("not a Prometheus or OpenMetrics exposition ({err})"))?;
        Ok(MetricsReading::map(
            &lines,
            self.rps_metric.as_deref(),
            self.include.as_ref(),
        ))
    }

    /// The start check: one scrape that must work and carry a memory metric (and the
    /// `--rps-metric` counter when one is named). The message quotes the URL and says
    /// what to do.
    pub(crate) fn check(&self) -> Result<MetricsReading, String> {
        let url = &self.url;
        let reading = self
            .scrape()
            .map_err(|err| format!("--metrics {url}: {err}"))?;
        if !reading.has_memory() {
            return Err(format!(
                "--metrics {url} has none of the memory metrics membench knows ({}); export one of them (most client libraries' default process or runtime collectors do)",
                MEMORY_METRICS.join(", ")
            ));
        }
        if let Some(name) = &self.rps_metric
            && reading.requests_total.is_none()
            && !self.declares_counter(name)
        {
            return Err(format!(
                "--rps-metric {name}: {url} has no counter named {name} or {name}_total; name the target's request counter as it appears on that page"
            ));
        }
        Ok(reading)
    }

    /// Whether the page declares `name` a counter (`# TYPE`) though it has no series
    /// yet: a labelled request counter of a server that has answered nothing (membench's
    /// own `membench_requests` before its first request). Its rate starts with its first
    /// series.
    fn declares_counter(&self, name: &str) -> bool {
        let base = name.strip_suffix("_total").unwrap_or(name);
        let Ok(text) = self.runtime.block_on(self.fetch()) else {
            return false;
        };
        text.lines().any(|line| {
            let mut words = line.split_whitespace();
            words.next() == Some("#")
                && words.next() == Some("TYPE")
                && words
                    .next()
                    .is_some_and(|family| family == base || family == name)
                && words.next() == Some("counter")
        })
    }

    async fn fetch(&self) -> Result<String, String> {
        let request = hyper::Request::get(self.uri.clone())
            .header(
                hyper::header::ACCEPT,
                "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
            )
            .body(Empty::new())
            .map_err(|err| err.to_string())?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|err| {
                let mut cause: &dyn std::error::Error = &err;
                while let Some(source) = cause.source() {
                    cause = source;
                }
                format!("cannot reach it ({cause}); is the service running and the URL right?")
            })?;
            let status = response.status();
            let html = response
                .headers()
                .get(hyper::header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| value.contains("html"));
            let body = Limited::new(response.into_body(), MAX_PAGE_BYTES)
                .collect()
                .await
                .map_err(|err| format!("reading the page failed ({err})"))?
                .to_bytes();
            if !status.is_success() {
                return Err(format!(
                    "answered {status}; give the URL of the metrics endpoint"
                ));
            }
            let text = String::from_utf8_lossy(&body).into_owned();
            if html || text.trim_start().starts_with('<') {
                return Err(
                    "answered with an HTML page, not metrics; give the URL of the metrics endpoint itself (often /metrics)"
                        .to_string(),
                );
            }
            Ok(text)
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| format!("no answer within {:?}", self.timeout))?
    }
}

/// What changed between two successful scrapes, `secs` apart.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct MetricsDelta {
    pub cpu_seconds: Option<f64>,
    pub requests: Option<f64>,
    pub collections: Option<BTreeMap<String, u64>>,
    /// Counters that went backwards (the target restarted); a new process start time is
    /// one restart, however many counters it took back.
    pub resets: u64,
}

/// The deltas of the counters from `before` to `now`; a counter that went down is a
/// reset, counted, and gives no delta.
pub(crate) fn delta(before: &MetricsReading, now: &MetricsReading) -> MetricsDelta {
    let mut out = MetricsDelta::default();
    let restarted = matches!((before.start_time_s, now.start_time_s), (Some(a), Some(b)) if a != b);
    let mut counter = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b < a => {
            out.resets += 1;
            None
        }
        (Some(a), Some(b)) if !restarted => Some(b - a),
        _ => None,
    };
    let cpu = counter(before.cpu_seconds_total, now.cpu_seconds_total);
    let requests = counter(before.requests_total, now.requests_total);
    let mut collections = BTreeMap::new();
    let mut went_down = false;
    for (kind, count) in &now.collections {
        let earlier = before.collections.get(kind).copied().unwrap_or(0.0);
        if *count < earlier {
            went_down = true;
        }
        collections.insert(kind.clone(), (count - earlier).max(0.0).round() as u64);
    }
    if went_down {
        out.resets += 1;
    }
    out.cpu_seconds = cpu;
    out.requests = requests;
    out.collections =
        (!went_down && !restarted && !now.collections.is_empty()).then_some(collections);
    if restarted {
        // One restart, however many counters it took back.
        out.resets = 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(page: &str) -> MetricsReading {
        let include = regex::Regex::new("^myapp_").unwrap();
        MetricsReading::map(
            &exposition::parse(page).unwrap(),
            Some("http_requests"),
            Some(&include),
        )
    }

    #[test]
    fn maps_the_standard_and_runtime_families() {
        let jvm = reading(
            "process_resident_memory_bytes 1000\nprocess_cpu_seconds_total 2.5\n\
             jvm_memory_used_bytes{area=\"heap\",id=\"eden\"} 10\n\
             jvm_memory_used_bytes{area=\"heap\",id=\"old\"} 5\n\
             jvm_memory_used_bytes{area=\"nonheap\",id=\"meta\"} 99\n\
             jvm_gc_collection_seconds_count{gc=\"G1 Young Generation\"} 7\n\
             jvm_gc_collection_seconds_count{gc=\"G1 Old Generation\"} 1\n\
             http_requests_total{path=\"/a\"} 3\nhttp_requests_total{path=\"/b\"} 4\n\
             myapp_cache_entries 12\nother 1\n",
        );
        assert_eq!(jvm.rss_bytes, Some(1000.0));
        assert_eq!(jvm.heap_bytes, Some(15.0));
        assert_eq!(jvm.collections["G1 Young Generation"], 7.0);
        assert_eq!(jvm.requests_total, Some(7.0));
        assert_eq!(
            jvm.extras.keys().collect::<Vec<_>>(),
            ["myapp_cache_entries"]
        );
        let dotnet = reading(
            "dotnet_collection_count_total{generation=\"0\"} 4\ndotnet_collection_count_total{generation=\"2\"} 1\ndotnet_total_memory_bytes 300\n",
        );
        assert_eq!(dotnet.collections["gen0"], 4.0);
        assert_eq!(dotnet.collections["gen2"], 1.0);
        assert_eq!(dotnet.heap_bytes, Some(300.0));
        assert!(dotnet.has_memory());
        let go = reading("go_gc_duration_seconds_count 9\ngo_goroutines 8\n");
        assert_eq!(go.collections["all"], 9.0);
        assert_eq!(go.extras["go_goroutines"], 8.0);
        assert!(!go.has_memory());
    }

    #[test]
    fn counters_going_backwards_are_resets_with_no_delta() {
        let before = reading(
            "process_cpu_seconds_total 5\nhttp_requests_total 100\npython_gc_collections_total{generation=\"0\"} 10\n",
        );
        let later = reading(
            "process_cpu_seconds_total 5.5\nhttp_requests_total 150\npython_gc_collections_total{generation=\"0\"} 12\n",
        );
        let d = delta(&before, &later);
        assert_eq!(d.cpu_seconds, Some(0.5));
        assert_eq!(d.requests, Some(50.0));
        assert_eq!(d.collections.unwrap()["gen0"], 2);
        assert_eq!(d.resets, 0);
        let restarted = reading(
            "process_cpu_seconds_total 0.1\nhttp_requests_total 2\npython_gc_collections_total{generation=\"0\"} 1\n",
        );
        let d = delta(&later, &restarted);
        assert_eq!(
            (d.cpu_seconds, d.requests, d.collections),
            (None, None, None)
        );
        assert_eq!(d.resets, 3);
    }
}
