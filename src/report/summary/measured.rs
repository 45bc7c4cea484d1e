//! The measured-GC block of `summary.json`: a garbage-collected runtime's own collections
//! (contract version 2), added up per kind — the measured counterpart of the modelled
//! .NET GC block, and never mixed with it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::diagnostics::{MeasuredGc, RuntimeInfo};
use crate::series::{Sample, Series};

/// A runtime's measured collections over a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MeasuredGcSummary {
    /// How charts name it: `Mono 6.8.0.105, SGen`.
    pub label: String,
    /// The runtime as it described itself (name, version, collector, flags that change
    /// the collector, its large-object boundary); `None` when only the label is known.
    #[serde(default)]
    pub runtime: Option<RuntimeInfo>,
    /// Collections in the whole run (warm-up included).
    pub collections_total: u64,
    /// Collections per second over the measured part.
    pub collections_per_s: f64,
    /// The same per kind, in the contract's order (youngest first).
    pub by_kind: Vec<KindRate>,
    /// Highest managed heap in use seen, bytes.
    pub heap_peak_bytes: Option<u64>,
}

/// One kind of collection: `young`, `old`, `gen1`, `major`, …
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KindRate {
    pub kind: String,
    pub total: u64,
    pub per_s: f64,
}

impl MeasuredGcSummary {
    /// `young 12.3/s, old 0/s`.
    pub fn rates_text(&self) -> String {
        self.by_kind
            .iter()
            .map(|k| format!("{} {}/s", k.kind, rate_text(k.per_s)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn rate_text(per_s: f64) -> String {
    if per_s == 0.0 {
        "0".to_string()
    } else if per_s >= 100.0 {
        format!("{per_s:.0}")
    } else {
        format!("{per_s:.1}")
    }
}

/// The chart's and the summary's name for a runtime: `Mono 6.8.0.105, SGen`,
/// `OpenJDK 17.0.15, G1`, `Go 1.19.8, Go concurrent mark-sweep`.
pub fn measured_gc_label(runtime: &RuntimeInfo) -> String {
    let name = match runtime.name.as_str() {
        "mono" => "Mono",
        "jvm" => "OpenJDK",
        "node" => "Node.js",
        "go" => "Go",
        other => other,
    };
    let version = runtime
        .version
        .split_whitespace()
        .find(|word| word.starts_with(|c: char| c.is_ascii_digit()))
        .map(|word| word.split(['+', '-']).next().unwrap_or(word))
        .unwrap_or("");
    let collector = runtime
        .collector
        .split(" (")
        .next()
        .unwrap_or(&runtime.collector);
    format!("{name} {version}, {collector}")
        .replace("  ", " ")
        .replace(" ,", ",")
}

/// Adds up the measured columns; `None` for a server without a collector.
pub(crate) fn summarize_measured(
    series: &Series,
    measured: &[&Sample],
    measured_s: f64,
) -> Option<MeasuredGcSummary> {
    let label = series.measured_gc.clone()?;
    let per_s = |count: u64| {
        if measured_s > 0.0 {
            count as f64 / measured_s
        } else {
            0.0
        }
    };
    let mut totals: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for sample in &series.samples {
        for (kind, count) in &sample.measured_collections_by_kind {
            totals.entry(kind.clone()).or_default().0 += count;
        }
    }
    for sample in measured {
        for (kind, count) in &sample.measured_collections_by_kind {
            totals.entry(kind.clone()).or_default().1 += count;
        }
    }
    let by_kind = MeasuredGc::kinds_in_order(totals.keys().cloned())
        .into_iter()
        .map(|kind| {
            let (total, in_measured) = totals[&kind];
            KindRate {
                kind,
                total,
                per_s: per_s(in_measured),
            }
        })
        .collect();
    Some(MeasuredGcSummary {
        label,
        runtime: None,
        collections_total: series
            .samples
            .iter()
            .filter_map(|s| s.measured_collections)
            .sum(),
        collections_per_s: per_s(measured.iter().filter_map(|s| s.measured_collections).sum()),
        by_kind,
        heap_peak_bytes: series
            .samples
            .iter()
            .filter_map(|s| s.measured_heap_bytes)
            .max(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_runtime_version_and_collector() {
        let jvm = RuntimeInfo {
            name: "jvm".into(),
            version: "Debian 17.0.15+6-Debian-1deb12u1".into(),
            collector: "G1 (G1 Young Generation + G1 Old Generation)".into(),
            ..RuntimeInfo::default()
        };
        assert_eq!(measured_gc_label(&jvm), "OpenJDK 17.0.15, G1");
        let mono = RuntimeInfo {
            name: "mono".into(),
            version: "6.8.0.105 (Debian 6.8.0.105+dfsg-3.3 Sat Feb 11 2023)".into(),
            collector: "SGen (generational)".into(),
            ..RuntimeInfo::default()
        };
        assert_eq!(measured_gc_label(&mono), "Mono 6.8.0.105, SGen");
    }

    #[test]
    fn kinds_add_up_and_rates_count_only_the_measured_part() {
        let sample = |phase, young: u64, old: u64| Sample {
            phase: Some(phase),
            interval_s: 1.0,
            measured_collections: Some(young + old),
            measured_collections_by_kind: [("young".to_string(), young), ("old".to_string(), old)]
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .collect(),
            ..Sample::default()
        };
        use crate::series::Phase::{Load, Warmup};
        let series = Series {
            samples: vec![sample(Warmup, 5, 0), sample(Load, 4, 1), sample(Load, 2, 0)],
            measured_gc: Some("OpenJDK 17, G1".into()),
            ..Series::default()
        };
        let measured: Vec<&Sample> = series.measured().collect();
        let summary = summarize_measured(&series, &measured, 2.0).unwrap();
        assert_eq!(summary.collections_total, 12);
        assert_eq!(summary.collections_per_s, 3.5);
        let kinds: Vec<_> = summary
            .by_kind
            .iter()
            .map(|k| (k.kind.as_str(), k.total))
            .collect();
        assert_eq!(kinds, [("young", 11), ("old", 1)]);
        assert_eq!(summary.rates_text(), "young 3.0/s, old 0.5/s");
    }
}
