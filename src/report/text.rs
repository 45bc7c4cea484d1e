//! The text summary `membench run` prints on stdout: one line per topic, labels aligned,
//! units on every number — readable in five seconds, greppable afterwards.
//!
//! ```text
//! scenario   loh size=84976 (GET /api/loh/84976)
//! allocator  jemalloc
//! load       32 connections, closed loop · 30.0 s measured after 5.0 s warm-up
//! requests   547,012 · 18.2K RPS mean (IQR 17.9K–18.6K per interval)
//! status     2xx 547,002 · 5xx 10 (200: 547,002 · 503: 10)
//! latency    p50 1.21 ms · p90 2.00 ms · p95 4.00 ms · p99 9.10 ms · p99.9 20.0 ms · max 31.0 ms
//! errors     none
//! heap       1.00 MB → 21.0 MB (peak 100 MB) · slope +0.02 MB/min
//! RSS        10.0 MB → peak 150 MB → 51.0 MB · slope +0.10 MB/min
//! reclaim    1,204 events (jemalloc purge) · 40.1 events/min
//! allocs     36.5K allocations/s mean · 1,550 MB/s allocated
//! CPU        71 % mean · peak 98 % (100 % = one core)
//! cost       CPU 14.2 µs/request, IQR 13.8–14.9 · 0.120 minor faults/request, IQR 0.100–0.150
//! alloc/req  3.00 allocations, IQR 3.00–3.00 · 83.0 KiB, IQR 83.0 KiB–83.0 KiB
//! modelled   .NET GC (server): gen0 0.50/s · gen1 0.10/s · gen2 0.00/s — a model, not a measurement
//! ended      completed
//! ```

use super::summary::Summary;
use crate::format::format_status;
use crate::format::{
    format_count, format_error_kinds, format_latency_us, format_mb, format_params, format_seconds,
    format_slope, group_thousands,
};
use crate::series::allocator_name;

/// Width of the label column.
const LABEL_WIDTH: usize = 10;

/// The short text summary printed on stdout; every line ends with `\n`.
pub fn format_text(summary: &Summary) -> String {
    let run = &summary.run;
    let mut lines: Vec<(&str, String)> = Vec::new();

    let params = format_params(&run.params);
    let scenario = if params.is_empty() {
        run.scenario.clone()
    } else {
        format!("{} {params}", run.scenario)
    };
    lines.push((
        "scenario",
        if run.path.is_empty() {
            scenario // watched: membench sends no requests
        } else {
            format!("{scenario} (GET {})", run.path)
        },
    ));
    match &summary.measured_gc {
        Some(gc) => {
            let flags = gc
                .runtime
                .as_ref()
                .map_or(String::new(), |r| match r.flags.len() {
                    0 => " · default flags".to_string(),
                    _ => format!(" · {}", r.flags.join(" ")),
                });
            lines.push(("runtime", format!("{}{flags}", gc.label)));
            lines.push(("GC", format!("measured: {}", gc.rates_text())));
        }
        None => lines.push(("allocator", allocator_name(run.allocator).to_string())),
    }

    let warmup = if run.warmup_s > 0.0 {
        format!(" after {} warm-up", format_seconds(run.warmup_s))
    } else {
        String::new()
    };
    lines.push((
        "load",
        format!(
            "{} · {} measured{warmup}",
            summary.load_label,
            format_seconds(summary.load.measured_s)
        ),
    ));

    let totals = &summary.totals;
    let mut requests = format!(
        "{} · {} RPS mean",
        group_thousands(totals.requests),
        format_count(summary.load.rps_mean)
    );
    if let Some(rps) = summary.load.rps_per_interval {
        requests.push_str(&format!(
            " (IQR {}–{} per interval)",
            format_count(rps.q1),
            format_count(rps.q3)
        ));
    }
    if totals.late_sends > 0 {
        requests.push_str(&format!(
            " · {} sent late",
            group_thousands(totals.late_sends)
        ));
    }
    lines.push(("requests", requests));
    lines.push((
        "status",
        format_status(
            [
                totals.status_2xx,
                totals.status_3xx,
                totals.status_4xx,
                totals.status_5xx,
            ],
            &totals.status_codes,
        ),
    ));

    let latency = &summary.latency;
    lines.push((
        "latency",
        match (
            latency.p50_us,
            latency.p90_us,
            latency.p95_us,
            latency.p99_us,
            latency.p999_us,
            latency.max_us,
        ) {
            (Some(p50), Some(p90), Some(p95), Some(p99), Some(p999), Some(max)) => format!(
                "p50 {} · p90 {} · p95 {} · p99 {} · p99.9 {} · max {}",
                format_latency_us(p50),
                format_latency_us(p90),
                format_latency_us(p95),
                format_latency_us(p99),
                format_latency_us(p999),
                format_latency_us(max)
            ),
            // Summaries from before p95 was recorded.
            (Some(p50), _, None, Some(p99), _, Some(max)) => format!(
                "p50 {} · p99 {} · max {}",
                format_latency_us(p50),
                format_latency_us(p99),
                format_latency_us(max)
            ),
            _ => "no responses".to_string(),
        },
    ));
    if run.connections == 0 {
        // Watched: membench sent no requests; statuses and latencies are the load engine's.
        for (label, value) in lines.iter_mut() {
            if matches!(*label, "status" | "latency") {
                *value = "not measured by membench: the load came from elsewhere".to_string();
            }
        }
    }

    lines.push((
        "errors",
        if totals.errors == 0 {
            "none".to_string()
        } else {
            format!(
                "{}: {}",
                group_thousands(totals.errors),
                format_error_kinds(&totals.errors_by_kind)
            )
        },
    ));

    let memory = &summary.memory;
    let slope = |slope: Option<f64>| match slope {
        Some(slope) => format!(" · slope {}", format_slope(slope)),
        None => String::new(),
    };
    lines.push((
        "heap",
        match memory.heap_live {
            Some(heap) => format!(
                "{} → {} (peak {}){}",
                format_mb(heap.start_bytes),
                format_mb(heap.end_bytes),
                format_mb(heap.peak_bytes),
                slope(memory.heap_live_slope_mb_per_min)
            ),
            None => match summary
                .measured_gc
                .as_ref()
                .and_then(|gc| gc.heap_peak_bytes)
            {
                Some(peak) => format!("managed heap in use peak {} (measured)", format_mb(peak)),
                None => "not reported (not a membench server)".to_string(),
            },
        },
    ));
    lines.push((
        "RSS",
        format!(
            "{} → peak {} → {}{}",
            format_mb(memory.rss.start_bytes),
            format_mb(memory.rss.peak_bytes),
            format_mb(memory.rss.end_bytes),
            slope(memory.rss_slope_mb_per_min)
        ),
    ));

    let reclaim = &summary.reclaim;
    lines.push((
        "reclaim",
        match reclaim.events_total {
            Some(total) => {
                let mut line = format!("{} events ({})", group_thousands(total), reclaim.source);
                if let Some(per_min) = reclaim.per_min {
                    line.push_str(&format!(" · {per_min:.1} events/min"));
                }
                line
            }
            None => "not reported".to_string(),
        },
    ));
    if let Some(allocs) = summary.load.allocs_per_s_mean {
        let mut line = format!("{} allocations/s mean", format_count(allocs));
        if let Some(bytes) = summary.load.alloc_bytes_per_s_mean {
            line.push_str(&format!(" · {}/s allocated", format_mb(bytes as u64)));
        }
        lines.push(("allocs", line));
    }
    lines.push((
        "CPU",
        format!(
            "{:.0} % mean · peak {:.0} % (100 % = one core)",
            summary.load.cpu_percent_mean, summary.load.cpu_percent_peak
        ),
    ));
    lines.extend(summary.cost.lines());
    if let Some(modelled) = &summary.modelled_gc {
        lines.push((
            "modelled",
            format!(
                ".NET GC ({}): gen0 {:.2}/s · gen1 {:.2}/s · gen2 {:.2}/s — a model, not a measurement",
                modelled.preset, modelled.gen0_per_s, modelled.gen1_per_s, modelled.gen2_per_s
            ),
        ));
    }
    lines.push(("ended", run.end.describe()));
    for check in &summary.verdict {
        lines.push(("verdict", check.line()));
    }

    lines
        .iter()
        .map(|(label, value)| format!("{label:<LABEL_WIDTH$} {value}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::report::summary::tests::run_info;
    use crate::report::summary::{LatencySummary, RunEnd, summarize};
    use crate::series::{Phase, Sample, Series};

    fn series(heap: bool, errors: u64) -> Series {
        let samples = (0..=10)
            .map(|second| Sample {
                elapsed_s: second as f64,
                phase: Some(match second {
                    0..=2 => Phase::Warmup,
                    10 => Phase::Final,
                    _ => Phase::Load,
                }),
                interval_s: if second == 0 { 1e-6 } else { 1.0 },
                requests: if second == 0 { 0 } else { 2_000 },
                status_2xx: if second == 0 { 0 } else { 2_000 },
                rps: Some(if second == 0 { 0.0 } else { 2_000.0 }),
                errors: if second == 10 { errors } else { 0 },
                errors_by_kind: if second == 10 && errors > 0 {
                    BTreeMap::from([("timeout".to_string(), errors)])
                } else {
                    BTreeMap::new()
                },
                cpu_percent: Some(60.0),
                rss_bytes: Some(40_000_000 + second * 1_000_000),
                heap_live_bytes: heap.then_some(10_000_000 + second * 500_000),
                reclaim_events: heap.then_some(2),
                allocs_per_s: heap.then_some(12_000.0),
                ..Sample::default()
            })
            .collect();
        Series {
            scenario: "loh".into(),
            params: [("size", "84976")].into_iter().collect(),
            allocator: Some(crate::memory::AllocatorKind::Jemalloc),
            load: "32 connections, closed loop".into(),
            samples,
            modelled_gc: None,
            resources: Default::default(),
            measured_gc: None,
        }
    }

    fn latency() -> LatencySummary {
        LatencySummary {
            p50_us: Some(1_210),
            p90_us: Some(2_000),
            p95_us: Some(4_000),
            p99_us: Some(9_100),
            p999_us: Some(20_000),
            max_us: Some(31_000),
            mean_us: Some(1_500.0),
        }
    }

    #[test]
    fn text_has_one_aligned_line_per_topic_with_units() {
        let summary = summarize(
            &series(true, 0),
            &run_info("jemalloc", RunEnd::Completed),
            &latency(),
        );
        let text = format_text(&summary);
        for line in text.lines() {
            // Every value starts in the same column.
            assert_eq!(
                line.chars().nth(LABEL_WIDTH),
                Some(' '),
                "misaligned: {line}"
            );
            assert!(line.chars().count() <= 100, "too long: {line}");
        }
        let line = |label: &str| {
            text.lines()
                .find(|line| line.split_whitespace().next() == Some(label))
                .unwrap_or_else(|| panic!("no {label} line in\n{text}"))
                .to_string()
        };
        assert!(line("scenario").contains("loh size=84976"));
        assert!(line("load").contains("32 connections, closed loop"));
        assert!(line("requests").contains("20,000") && line("requests").contains("2.0K RPS"));
        assert!(line("latency").contains("p50 1.21 ms") && line("latency").contains("p99 9.10 ms"));
        assert!(
            line("latency").contains("p95 4.00 ms · p99"),
            "{}",
            line("latency")
        );
        assert!(
            line("latency").contains("p99.9 20.0 ms"),
            "{}",
            line("latency")
        );
        assert_eq!(
            line("status"),
            format!("{:<LABEL_WIDTH$} 2xx 20,000", "status")
        );
        assert_eq!(line("errors"), format!("{:<LABEL_WIDTH$} none", "errors"));
        // Heap 10 MB + 0.5 MB/s → 15 MB at the end: 30 MB/min.
        assert!(
            line("heap").contains("10.0 MB → 15.0 MB"),
            "{}",
            line("heap")
        );
        assert!(line("heap").contains("+30.0 MB/min"), "{}", line("heap"));
        assert!(line("RSS").contains("+60.0 MB/min"), "{}", line("RSS"));
        assert!(line("reclaim").contains("jemalloc purge"));
        assert!(line("allocs").contains("12.0K allocations/s"));
        assert!(line("CPU").contains("60 % mean"));
        assert!(line("ended").contains("completed"));
    }

    #[test]
    fn the_modelled_lens_is_one_labelled_line() {
        let mut with_lens = series(true, 0);
        with_lens.modelled_gc = Some("server".to_string());
        for sample in &mut with_lens.samples {
            sample.modelled_gen0 = Some(2);
            sample.modelled_gen1 = Some(1);
            sample.modelled_gen2 = Some(0);
        }
        let summary = summarize(
            &with_lens,
            &run_info("jemalloc", RunEnd::Completed),
            &latency(),
        );
        let modelled = summary.modelled_gc.clone().unwrap();
        // Two gen0 collections per interval, over the measured intervals.
        let measured: Vec<_> = with_lens.measured().collect();
        let measured_s: f64 = measured.iter().map(|s| s.interval_s).sum();
        let expected = 2.0 * measured.len() as f64 / measured_s;
        assert!((modelled.gen0_per_s - expected).abs() < 1e-9);
        let text = format_text(&summary);
        let line = text
            .lines()
            .find(|line| line.starts_with("modelled"))
            .unwrap_or_else(|| panic!("no modelled line in\n{text}"));
        assert!(line.contains(".NET GC (server)") && line.contains("not a measurement"));
        assert!(line.chars().count() <= 100, "too long: {line}");
        assert!(
            format_text(&summarize(
                &series(true, 0),
                &run_info("jemalloc", RunEnd::Completed),
                &latency()
            ))
            .lines()
            .all(|l| !l.starts_with("modelled"))
        );
    }

    #[test]
    fn text_names_errors_by_kind_and_a_foreign_server() {
        let summary = summarize(
            &series(false, 7),
            &run_info("unknown", RunEnd::Interrupted),
            &latency(),
        );
        let text = format_text(&summary);
        assert!(text.contains("errors     7: timeout=7"), "{text}");
        assert!(text.contains("heap       not reported"), "{text}");
        assert!(!text.contains("allocs"), "{text}");
        assert!(text.contains("ended      interrupted"), "{text}");
    }

    #[test]
    fn a_watch_says_statuses_and_latencies_are_not_its_own() {
        let mut info = run_info("unknown", RunEnd::Completed);
        info.connections = 0;
        info.path = String::new();
        let text = format_text(&summarize(&series(false, 0), &info, &latency()));
        let not_ours = "not measured by membench: the load came from elsewhere";
        assert!(text.contains(&format!("status     {not_ours}")), "{text}");
        assert!(text.contains(&format!("latency    {not_ours}")), "{text}");
        assert!(!text.contains("(GET"), "{text}");
    }
}
