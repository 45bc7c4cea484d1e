//! Which source each series of a run came from, for `summary.json`: `proc` (`/proc/<pid>`
//! read on this machine), `diagnostics` (a membench or reference server's
//! `/api/diagnostics`), `metrics` (the target's `--metrics` endpoint) or `load generator`
//! (membench's own). Decided from the plan and from what the samples hold: a series
//! nothing measured is not listed.

use std::collections::BTreeMap;

use super::plan::RunPlan;
use super::session::RunOutcome;
use crate::report::MetricsSourceSummary;
use crate::series::Sample;

/// Series name → source.
pub(super) fn sources(plan: &RunPlan, outcome: &RunOutcome) -> BTreeMap<String, String> {
    let samples = &outcome.series.samples;
    let any = |has: &dyn Fn(&Sample) -> bool| samples.iter().any(has);
    let mut out = BTreeMap::new();
    let mut put = |names: &[&str], source: &str| {
        for name in names {
            out.insert((*name).to_string(), source.to_string());
        }
    };
    let proc_or_metrics = if outcome.pid.is_some() {
        Some("proc")
    } else {
        plan.metrics.as_ref().map(|_| "metrics")
    };
    if let Some(source) = proc_or_metrics {
        if any(&|s| s.rss_bytes.is_some()) {
            put(&["rss_bytes"], source);
        }
        if any(&|s| s.cpu_percent.is_some()) {
            put(&["cpu_percent", "cpu_us_per_request"], source);
        }
        if any(&|s| s.threads.is_some()) {
            put(&["threads"], source);
        }
        if any(&|s| s.open_fds.is_some()) {
            put(&["open_fds"], source);
        }
    }
    if outcome.pid.is_some() {
        put(
            &[
                "rss_anon_bytes",
                "minor_faults",
                "tcp_established",
                "tcp_time_wait",
                "tcp_close_wait",
            ],
            "proc",
        );
    }
    if any(&|s| s.heap_live_bytes.is_some()) {
        // The allocator is only known from /api/diagnostics: without it the heap came
        // from membench's families on the --metrics page.
        let heap_source = if outcome.series.allocator.is_some() || plan.metrics.is_none() {
            "diagnostics"
        } else {
            "metrics"
        };
        put(
            &[
                "heap_live_bytes",
                "allocs_per_s",
                "alloc_bytes_per_s",
                "allocator_resident_bytes",
                "reclaim_events",
                "leaked_bytes",
            ],
            heap_source,
        );
    }
    let gc_source = if outcome.runtime.is_some() {
        "diagnostics"
    } else {
        "metrics"
    };
    if any(&|s| s.measured_collections.is_some()) {
        put(
            &["measured_collections", "measured_collections_by_kind"],
            gc_source,
        );
    }
    if any(&|s| s.measured_heap_bytes.is_some()) {
        put(&["measured_heap_bytes"], gc_source);
    }
    if any(&|s| s.measured_external_bytes.is_some()) {
        put(&["measured_external_bytes"], gc_source);
    }
    if plan.watch {
        if any(&|s| s.rps.is_some()) {
            put(&["rps", "requests"], "metrics");
        }
    } else {
        put(
            &[
                "rps",
                "requests",
                "latency_p50_us",
                "latency_p99_us",
                "errors",
            ],
            "load generator",
        );
    }
    if any(&|s| !s.metrics_extra.is_empty()) {
        put(&["metrics_extra"], "metrics");
    }
    out
}

/// How the `--metrics` scrapes went; `None` without `--metrics`.
pub(super) fn metrics_summary(
    plan: &RunPlan,
    outcome: &RunOutcome,
) -> Option<MetricsSourceSummary> {
    let metrics = plan.metrics.as_ref()?;
    let samples = &outcome.series.samples;
    let at = |count: fn(&Sample) -> Option<u64>| -> Vec<f64> {
        samples
            .iter()
            .filter(|s| count(s).is_some_and(|n| n > 0))
            .map(|s| s.elapsed_s)
            .collect()
    };
    Some(MetricsSourceSummary {
        url: metrics.url.clone(),
        scrapes: samples.iter().filter(|s| s.scrape_errors.is_some()).count() as u64,
        scrape_errors: samples.iter().filter_map(|s| s.scrape_errors).sum(),
        counter_resets: samples.iter().filter_map(|s| s.counter_resets).sum(),
        gaps_at_s: at(|s| s.scrape_errors),
        resets_at_s: at(|s| s.counter_resets),
    })
}
