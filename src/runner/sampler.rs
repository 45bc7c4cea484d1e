//! The sampler: every interval it reads the server twice — from outside (`/proc/<pid>`, by
//! this process) and from inside (`GET /api/diagnostics` on its own keep-alive connection,
//! membench servers only) — and merges both with the load generator's interval stats into
//! one [`Sample`]. Rates (CPU %, allocations/s, reclaim events) are deltas between readings;
//! costs per request (CPU µs, allocations, bytes, faults) are those deltas divided by the
//! interval's responses.
//!
//! A third source, `--metrics URL` (see [`super::scrape`]), reads a target from outside
//! through its Prometheus endpoint: it fills what `/proc` did not (nothing reads `/proc`
//! of a target given without `--pid`), and its failed scrapes are gaps, not zeros.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;

use super::scrape::{self, MetricsSource, MetricsState};
use crate::diagnostics::{Diagnostics, MeasuredGc};
use crate::loadgen::IntervalStats;
use crate::memory::{ProcessSnapshot, read_process};
use crate::series::{Phase, Sample};

/// What the sampler asks for: the diagnostics without the `process` block, which this
/// process reads from outside (`/proc/<pid>`) anyway. A full self-reading walks every fd
/// and the TCP tables inside the server, milliseconds of CPU each, charged to the server's
/// CPU per request four times a second. Servers that do not know the query ignore it.
pub(crate) const DIAGNOSTICS_PATH: &str = "/api/diagnostics?process=none";

/// One look at the server.
#[derive(Debug, Clone)]
pub struct Reading {
    pub at: Instant,
    /// `None` when `/proc/<pid>` could not be read (the process is gone).
    pub process: Option<ProcessSnapshot>,
    /// `None` for servers that are not membench, or when the request failed.
    pub diagnostics: Option<Diagnostics>,
    /// `None` without `--metrics`.
    pub(crate) metrics: Option<MetricsState>,
}

/// Reads a server process and, if it is a membench server, its diagnostics endpoint.
pub struct Probe {
    /// `None`: nothing reads `/proc` (a target sampled through `--metrics` only).
    pid: Option<u32>,
    metrics: Option<MetricsSource>,
    /// The latest successful scrape, carried over failed ones.
    last_metrics: std::cell::RefCell<Option<(Instant, scrape::MetricsReading)>>,
    diagnostics_uri: Option<hyper::Uri>,
    timeout: Duration,
    client: Client<HttpConnector, Empty<Bytes>>,
    runtime: tokio::runtime::Runtime,
}

impl Probe {
    /// A probe of `pid`; `server` is where to ask for `/api/diagnostics` (None: `/proc` only).
    pub fn new(
        pid: Option<u32>,
        server: Option<SocketAddr>,
        timeout: Duration,
    ) -> anyhow::Result<Probe> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let client = {
            let _guard = runtime.enter();
            Client::builder(TokioExecutor::new()).build_http()
        };
        let diagnostics_uri = match server {
            Some(addr) => Some(format!("http://{addr}{DIAGNOSTICS_PATH}").parse()?),
            None => None,
        };
        Ok(Probe {
            pid,
            metrics: None,
            last_metrics: std::cell::RefCell::new(None),
            diagnostics_uri,
            timeout,
            client,
            runtime,
        })
    }

    /// Stops asking for diagnostics (e.g. the target turned out not to be a membench server).
    pub fn without_diagnostics(mut self) -> Probe {
        self.diagnostics_uri = None;
        self
    }

    /// Scrapes `source` too, each reading.
    pub(crate) fn with_metrics(mut self, source: MetricsSource) -> Probe {
        self.metrics = Some(source);
        self
    }

    /// Reads `/proc/<pid>`, the diagnostics endpoint and the metrics endpoint now.
    pub fn read(&self) -> Reading {
        let diagnostics = self.diagnostics_uri.as_ref().and_then(|uri| {
            self.runtime
                .block_on(fetch_diagnostics(&self.client, uri.clone(), self.timeout))
        });
        let metrics = self.metrics.as_ref().map(|source| {
            let scraped = source.scrape();
            let mut last = self.last_metrics.borrow_mut();
            if let Ok(reading) = &scraped {
                *last = Some((Instant::now(), reading.clone()));
            }
            MetricsState {
                last_good: last.clone(),
                failed: scraped.is_err(),
            }
        });
        Reading {
            at: Instant::now(),
            process: self.pid.and_then(|pid| read_process(pid).ok()),
            diagnostics,
            metrics,
        }
    }
}

async fn fetch_diagnostics(
    client: &Client<HttpConnector, Empty<Bytes>>,
    uri: hyper::Uri,
    timeout: Duration,
) -> Option<Diagnostics> {
    let request = async {
        let response = client.get(uri).await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        let body = response.into_body().collect().await.ok()?.to_bytes();
        serde_json::from_slice(&body).ok()
    };
    tokio::time::timeout(timeout, request).await.ok().flatten()
}

/// Builds the sample for the interval between two readings; `load` is `None` when
/// membench generates none (`membench watch`).
pub fn merge(
    previous: &Reading,
    current: &Reading,
    load: Option<&IntervalStats>,
    elapsed_s: f64,
    phase: Phase,
) -> Sample {
    let none = IntervalStats::default();
    let generated = load.is_some();
    let load = load.unwrap_or(&none);
    let interval_s = current
        .at
        .saturating_duration_since(previous.at)
        .as_secs_f64()
        .max(1e-6);
    let percentile = |q: f64| (load.requests > 0).then(|| load.latency_us.value_at_quantile(q));
    let mut sample = Sample {
        elapsed_s,
        phase: Some(phase),
        interval_s,
        requests: load.requests,
        rps: generated.then(|| load.requests as f64 / interval_s),
        status_2xx: load.status_2xx,
        status_3xx: load.status_3xx,
        status_4xx: load.status_4xx,
        status_5xx: load.status_5xx,
        errors: load.errors(),
        errors_by_kind: load.errors_by_kind.clone(),
        late_sends: load.late_sends,
        latency_p50_us: percentile(0.50),
        latency_p90_us: percentile(0.90),
        latency_p99_us: percentile(0.99),
        latency_max_us: (load.requests > 0).then(|| load.latency_us.max()),
        ..Sample::default()
    };
    if let Some(process) = &current.process {
        // What this platform's probe does not read stays None (see memory::ProbeKind).
        sample.rss_bytes = Some(process.rss_bytes);
        sample.rss_anon_bytes = process.rss_anon_bytes;
        sample.threads = process.threads;
        sample.open_fds = process.open_fds;
        sample.tcp_established = process.tcp.map(|tcp| tcp.established);
        sample.tcp_time_wait = process.tcp.map(|tcp| tcp.time_wait);
        sample.tcp_close_wait = process.tcp.map(|tcp| tcp.close_wait);
        if let Some(before) = &previous.process {
            let cpu_s = process.cpu_seconds - before.cpu_seconds;
            sample.cpu_percent = Some((cpu_s / interval_s * 100.0).max(0.0));
            sample.cpu_us_per_request = per_request(cpu_s.max(0.0) * 1e6, load.requests);
            let minor_faults = process
                .minor_faults
                .zip(before.minor_faults)
                .map(|(now, then)| now.saturating_sub(then));
            sample.minor_faults = minor_faults;
            sample.minor_faults_per_request =
                minor_faults.and_then(|faults| per_request(faults as f64, load.requests));
        }
    }
    if let Some(now) = &current.diagnostics {
        sample.allocator_resident_bytes = now.allocator_stats.resident_bytes;
        sample.leaked_bytes = Some(now.leaks.total_bytes());
        let before = previous.diagnostics.as_ref();
        if let Some(heap) = &now.heap {
            sample.heap_live_bytes = Some(heap.live_bytes);
            if let Some(earlier) = before.and_then(|before| before.heap.as_ref()) {
                let per_s =
                    |now: u64, before: u64| Some(now.saturating_sub(before) as f64 / interval_s);
                sample.allocs_per_s = per_s(heap.alloc_count, earlier.alloc_count);
                sample.alloc_bytes_per_s = per_s(heap.alloc_bytes, earlier.alloc_bytes);
                sample.large_allocs_per_s =
                    per_s(heap.large_alloc_count, earlier.large_alloc_count);
                let delta = |now: u64, before: u64| now.saturating_sub(before) as f64;
                sample.allocs_per_request =
                    per_request(delta(heap.alloc_count, earlier.alloc_count), load.requests);
                sample.alloc_bytes_per_request =
                    per_request(delta(heap.alloc_bytes, earlier.alloc_bytes), load.requests);
            }
            if let Some(before) = before {
                sample.reclaim_events = Some(reclaims(now).saturating_sub(reclaims(before)));
            }
        }
        if let Some(gc) = &now.measured_gc {
            sample.measured_heap_bytes = gc.heap_in_use_bytes;
            sample.goroutines = gc.goroutines;
            sample.measured_external_bytes = gc.external_bytes;
            if let Some(earlier) = before.and_then(|before| before.measured_gc.as_ref()) {
                measured_collections(&mut sample, gc, earlier);
            }
        }
    }
    if let Some(metrics) = &current.metrics {
        let before = previous.metrics.as_ref();
        apply_metrics(&mut sample, before, metrics, generated);
    }
    sample
}

/// Fills what `/proc` and the diagnostics left empty from the metrics endpoint: gauges
/// from the latest scrape, rates from the counters' change since the scrape before it. A
/// failed scrape leaves its interval's values empty and counts in `scrape_errors`.
fn apply_metrics(
    sample: &mut Sample,
    previous: Option<&MetricsState>,
    current: &MetricsState,
    generated: bool,
) {
    sample.scrape_errors = Some(u64::from(current.failed));
    sample.counter_resets = Some(0);
    let Some((now_at, now)) = current.last_good.as_ref().filter(|_| !current.failed) else {
        return;
    };
    // Read before the metrics fill the gaps: `/proc`, when read, gives the CPU.
    let from_proc = sample.process_sampled();
    let whole = |value: Option<f64>| value.map(|v| v.max(0.0).round() as u64);
    sample.rss_bytes = sample.rss_bytes.or(whole(now.rss_bytes));
    sample.open_fds = sample.open_fds.or(whole(now.open_fds));
    sample.threads = sample.threads.or(whole(now.threads));
    sample.goroutines = sample.goroutines.or(whole(now.goroutines));
    if sample.measured_heap_bytes.is_none() {
        sample.measured_heap_bytes = now.heap_bytes.map(|v| v.max(0.0).round() as u64);
    }
    sample.metrics_extra = now.extras.clone();
    if let Some(membench) = &now.membench {
        membench.fill_gauges(sample);
    }
    let Some((before_at, before)) = previous.and_then(|p| p.last_good.as_ref()) else {
        return;
    };
    if before_at == now_at {
        return;
    }
    let secs = now_at
        .saturating_duration_since(*before_at)
        .as_secs_f64()
        .max(1e-6);
    let delta = scrape::delta(before, now);
    sample.counter_resets = Some(delta.resets);
    if !generated && let Some(requests) = delta.requests {
        sample.rps = Some(requests / secs);
        sample.requests = requests.max(0.0).round() as u64;
        // Watching with `/proc` read too: its CPU over the target's own responses.
        if from_proc && let Some(cpu_percent) = sample.cpu_percent {
            let cpu_s = cpu_percent / 100.0 * sample.interval_s;
            sample.cpu_us_per_request = per_request(cpu_s * 1e6, sample.requests);
        }
    }
    if !from_proc && let Some(cpu_s) = delta.cpu_seconds {
        sample.cpu_percent = Some((cpu_s / secs * 100.0).max(0.0));
        sample.cpu_us_per_request = per_request(cpu_s.max(0.0) * 1e6, sample.requests);
    }
    if let (Some(now), Some(before), 0) = (&now.membench, &before.membench, delta.resets) {
        now.fill_rates(before, secs, sample);
    }
    if sample.measured_collections.is_none()
        && let Some(collections) = delta.collections
    {
        sample.measured_collections = Some(collections.values().sum());
        sample.measured_collections_by_kind = collections;
    }
}

/// An interval's amount per response; `None` without responses (a cost per request of
/// no requests is not a number).
fn per_request(amount: f64, requests: u64) -> Option<f64> {
    (requests > 0).then(|| amount / requests as f64)
}

/// The runtime's collections between two readings, in total and by kind. A counter that
/// went down means another server answered (a restart): that interval gets none.
fn measured_collections(sample: &mut Sample, now: &MeasuredGc, before: &MeasuredGc) {
    let went_down = now.collections_total < before.collections_total
        || now
            .collections
            .iter()
            .any(|(kind, count)| before.collections.get(kind).is_some_and(|b| b > count));
    if went_down {
        return;
    }
    sample.measured_collections = Some(now.collections_total - before.collections_total);
    sample.measured_collections_by_kind = now
        .collections
        .iter()
        .map(|(kind, count)| {
            let earlier = before.collections.get(kind).copied().unwrap_or(0);
            // Kinds with none stay (in memory: the summary says `old 0/s`); the CSV cell
            // leaves zeros out.
            (kind.clone(), count - earlier)
        })
        .collect();
}

/// Returns of memory to the OS so far: the allocator's own purges plus explicit collects.
fn reclaims(diagnostics: &Diagnostics) -> u64 {
    diagnostics.allocator_stats.purge_events_total.unwrap_or(0)
        + diagnostics.allocator_stats.collect_calls_total
}
