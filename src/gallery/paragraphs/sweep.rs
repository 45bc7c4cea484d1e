//! The size sweep: where each allocator's throughput falls off a cliff, and whether
//! anything happens at .NET's large-object boundary. The cliffs are the sweep's own
//! (`sweep.json`, found by [`crate::sweep`]); this file only reads them out, and compares
//! the points nearest 85,000 bytes on each side.

use super::loh::DOTNET_LOH_ARRAY_BYTES;
use crate::gallery::facts::{format_rps, percent_change};
use crate::report::format::group_thousands;
use crate::sweep::format_size;
use crate::sweep::{Cliff, SweepPoint, SweepResult};

/// `256 KiB (262,144 bytes)`: a swept size, exact where it matters (84,976).
pub fn format_size_exact(bytes: u64) -> String {
    format!("{} ({} bytes)", format_size(bytes), group_thousands(bytes))
}

/// `128.0 KiB → 256.0 KiB: 41,200 → 9,800 RPS (-76 %)`: one cliff for a list.
pub fn cliff_line(cliff: &Cliff) -> String {
    format!(
        "{} → {}: {} → {} RPS (-{:.0} %)",
        format_size(cliff.from_size_bytes),
        format_size(cliff.to_size_bytes),
        format_rps(cliff.from_rps),
        format_rps(cliff.to_rps),
        cliff.drop_fraction * 100.0
    )
}

/// What one allocator did across the .NET boundary: its nearest points on either side.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryReading {
    pub allocator: String,
    /// The largest swept size below 84,976 bytes.
    pub below: SweepPoint,
    /// The smallest swept size at or above 84,976 bytes.
    pub above: SweepPoint,
    /// Whether the sweep found a cliff between them.
    pub cliff: bool,
}

/// The reading for `allocator`; `None` when the sweep has no points on both sides.
pub fn boundary_reading(result: &SweepResult, allocator: &str) -> Option<BoundaryReading> {
    let points = result.points.iter().filter(|p| p.allocator == allocator);
    let below = points
        .clone()
        .filter(|p| p.size_bytes < DOTNET_LOH_ARRAY_BYTES)
        .max_by_key(|p| p.size_bytes)?;
    let above = points
        .filter(|p| p.size_bytes >= DOTNET_LOH_ARRAY_BYTES)
        .min_by_key(|p| p.size_bytes)?;
    let cliff = result.cliffs.iter().any(|c| {
        c.allocator == allocator
            && c.from_size_bytes >= below.size_bytes
            && c.to_size_bytes <= above.size_bytes
    });
    Some(BoundaryReading {
        allocator: allocator.to_string(),
        below: below.clone(),
        above: above.clone(),
        cliff,
    })
}

/// The sweep's paragraph: what was swept, the cliffs per allocator, the boundary.
pub fn sweep_paragraph(result: &SweepResult) -> String {
    let (Some(first), Some(last)) = (result.sizes_bytes.first(), result.sizes_bytes.last()) else {
        return "The sweep measured no size.".to_string();
    };
    let threshold = (result.cliff_drop * 100.0).round();
    let mut text = format!(
        "The sweep ran {} at {} sizes from {} to {} with {}, {:.0} s each after a {:.0} s warm-up; \
         a cliff is a drop of more than {threshold} % in RPS from one size to the next. ",
        result.scenario,
        result.sizes_bytes.len(),
        format_size(*first),
        format_size(*last),
        result.allocators.join(", "),
        result.duration_s,
        result.warmup_s,
    );
    if result.end != "completed" {
        text.push_str(&format!(
            "It did not complete ({}): what follows covers the points measured. ",
            result.end
        ));
    }
    for allocator in &result.allocators {
        let cliffs: Vec<&Cliff> = result
            .cliffs
            .iter()
            .filter(|c| &c.allocator == allocator)
            .collect();
        text.push_str(&match cliffs.as_slice() {
            [] => format!("{allocator} has no cliff. "),
            [only] => format!(
                "{allocator} falls off one cliff, at {}: {} → {} RPS. ",
                format_size_exact(only.to_size_bytes),
                format_rps(only.from_rps),
                format_rps(only.to_rps)
            ),
            many => format!(
                "{allocator} falls off {} cliffs, the first at {}. ",
                many.len(),
                format_size_exact(many[0].to_size_bytes)
            ),
        });
    }
    let readings: Vec<BoundaryReading> = result
        .allocators
        .iter()
        .filter_map(|allocator| boundary_reading(result, allocator))
        .collect();
    if readings.is_empty() {
        text.push_str(
            "The sweep has no sizes on both sides of 84,976 bytes, so it says nothing about the \
             .NET large-object boundary. ",
        );
    } else {
        let told: Vec<String> = readings
            .iter()
            .map(|reading| {
                format!(
                    "{} {} RPS at {} → {} RPS at {} ({}, {})",
                    reading.allocator,
                    format_rps(reading.below.rps),
                    format_size_exact(reading.below.size_bytes),
                    format_rps(reading.above.rps),
                    format_size_exact(reading.above.size_bytes),
                    percent_change(reading.below.rps, reading.above.rps)
                        .unwrap_or_else(|| "no RPS below".to_string()),
                    if reading.cliff {
                        "a cliff, which no Rust allocator is known to have there: rerun to confirm"
                    } else {
                        "no cliff"
                    },
                )
            })
            .collect();
        text.push_str(&format!(
            "Across the .NET boundary (the swept sizes nearest 84,976 bytes on either side): {}. ",
            told.join("; ")
        ));
        if readings.iter().all(|r| !r.cliff) {
            text.push_str("Nothing happens at 84,976 bytes in Rust. ");
        }
    }
    text.push_str(
        "Rust's real cliffs are where an allocator stops reusing freed memory and maps fresh \
         pages from the OS for every request (glibc's mmap threshold, jemalloc's large size \
         classes), not where .NET's large object heap begins.",
    );
    text
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sweep::SWEEP_FORMAT_VERSION;

    fn point(allocator: &str, size_bytes: u64, rps: f64) -> SweepPoint {
        SweepPoint {
            allocator: allocator.into(),
            size_bytes,
            rps,
            latency_p99_us: Some(1_000),
            allocs_per_s: None,
            alloc_bytes_per_s: None,
            minor_faults_per_s: 0.0,
            peak_rss_bytes: 40_000_000,
            reclaim_events: None,
            errors: 0,
            run_dir: format!("{allocator}-{size_bytes}"),
        }
    }

    /// system falls at 131,072 → 262,144; jemalloc has no cliff; sizes straddle 85,000.
    pub(crate) fn sweep(cliff_at_boundary: bool) -> SweepResult {
        let sizes = vec![65_536, 84_975, 84_976, 131_072, 262_144];
        let system = [
            40_000.0,
            39_000.0,
            if cliff_at_boundary {
                20_000.0
            } else {
                38_800.0
            },
            38_000.0,
            9_000.0,
        ];
        let jemalloc = [42_000.0, 41_500.0, 41_400.0, 40_000.0, 39_000.0];
        let mut points = Vec::new();
        for (allocator, rps) in [("system", system), ("jemalloc", jemalloc)] {
            for (size, rps) in sizes.iter().zip(rps) {
                points.push(point(allocator, *size, rps));
            }
        }
        let mut cliffs = Vec::new();
        if cliff_at_boundary {
            cliffs.push(Cliff {
                allocator: "system".into(),
                from_size_bytes: 84_975,
                to_size_bytes: 84_976,
                from_rps: 39_000.0,
                to_rps: 20_000.0,
                drop_fraction: 1.0 - 20_000.0 / 39_000.0,
            });
        }
        cliffs.push(Cliff {
            allocator: "system".into(),
            from_size_bytes: 131_072,
            to_size_bytes: 262_144,
            from_rps: 38_000.0,
            to_rps: 9_000.0,
            drop_fraction: 1.0 - 9_000.0 / 38_000.0,
        });
        SweepResult {
            format_version: SWEEP_FORMAT_VERSION,
            scenario: "loh".into(),
            sizes_bytes: sizes,
            allocators: vec!["system".into(), "jemalloc".into()],
            duration_s: 3.0,
            warmup_s: 1.0,
            connections: 32,
            cliff_drop: 0.3,
            points,
            cliffs,
            end: "completed".into(),
            command_line: vec!["membench".into(), "sweep".into(), "loh".into()],
        }
    }

    #[test]
    fn cliffs_are_listed_per_allocator_and_the_boundary_is_read() {
        let result = sweep(false);
        let text = sweep_paragraph(&result);
        assert!(
            text.contains(
                "system falls off one cliff, at 256 KiB (262,144 bytes): 38,000 → 9,000 RPS."
            ),
            "{text}"
        );
        assert!(text.contains("jemalloc has no cliff"), "{text}");
        assert!(
            text.contains(
                "system 39,000 RPS at 83 KiB (84,975 bytes) → 38,800 RPS at 83 KiB (84,976 bytes)"
            ),
            "{text}"
        );
        assert!(text.contains("(-0.5 %, no cliff)"), "{text}");
        assert!(
            text.contains("Nothing happens at 84,976 bytes in Rust"),
            "{text}"
        );
        assert_eq!(
            cliff_line(&result.cliffs[0]),
            "128 KiB → 256 KiB: 38,000 → 9,000 RPS (-76 %)"
        );
    }

    #[test]
    fn a_cliff_at_the_boundary_is_reported_not_denied() {
        let text = sweep_paragraph(&sweep(true));
        assert!(text.contains("system falls off 2 cliffs"), "{text}");
        assert!(text.contains("(-49 %, a cliff"), "{text}");
        assert!(!text.contains("Nothing happens at 84,976"), "{text}");
    }

    #[test]
    fn a_sweep_that_misses_the_boundary_says_so() {
        let mut result = sweep(false);
        result.points.retain(|p| p.size_bytes > 100_000);
        let text = sweep_paragraph(&result);
        assert!(
            text.contains("no sizes on both sides of 84,976 bytes"),
            "{text}"
        );
    }
}
