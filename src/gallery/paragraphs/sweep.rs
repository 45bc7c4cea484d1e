//! The size sweep: where each allocator's throughput falls off a cliff, and whether
//! anything happens at .NET's large-object boundary. The cliffs are the sweep's own
//! (`sweep.json`, found by [`crate::sweep`]); this file only reads them out, and compares
//! the points nearest 85,000 bytes on each side.

use super::loh::DOTNET_LOH_ARRAY_BYTES;
use crate::format::group_thousands;
use crate::gallery::facts::{format_rps, percent_change};
use crate::sweep::{
    Cliff, FRESH_PERCENT, SweepPoint, SweepResult, fresh_page_onset, fresh_page_percent,
    size_alone_drop,
};
use crate::sweep::{SweepEnd, format_size};

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

/// What one allocator did: where it starts mapping fresh pages for every request (its own
/// cliff, read from the page faults), and how many other drops of more than the threshold
/// came with no such change (the size step and the run-to-run variation).
fn allocator_sentence(result: &SweepResult, allocator: &str, page_bytes: u64) -> String {
    let cliffs: Vec<&Cliff> = result
        .cliffs
        .iter()
        .filter(|c| c.allocator == allocator)
        .collect();
    let onset = fresh_page_onset(&result.points, allocator, page_bytes);
    let fresh = |point: &SweepPoint| {
        fresh_page_percent(point, page_bytes).map_or("—".to_string(), |p| format!("{p:.0} %"))
    };
    let mut text = match onset {
        Some((before, after)) => format!(
            "{allocator} maps fresh pages from the OS for every request from {} on \
             ({} of the buffer's pages faulted per request at {}, {} at {}); RPS went \
             {} → {} ({}). ",
            format_size_exact(after.size_bytes),
            fresh(before),
            format_size(before.size_bytes),
            fresh(after),
            format_size(after.size_bytes),
            format_rps(before.rps),
            format_rps(after.rps),
            percent_change(before.rps, after.rps).unwrap_or_else(|| "undefined".to_string()),
        ),
        None => format!(
            "{allocator} reused freed memory at every swept size (under {FRESH_PERCENT:.0} % \
             of a buffer's pages faulted per request). "
        ),
    };
    let others: Vec<&&Cliff> = cliffs
        .iter()
        .filter(|c| {
            onset.is_none_or(|(before, after)| {
                (c.from_size_bytes, c.to_size_bytes) != (before.size_bytes, after.size_bytes)
            })
        })
        .collect();
    if !others.is_empty() {
        let (which, without) = if onset.is_some() {
            ("other ", "without that change")
        } else {
            ("", "with no change in page faults")
        };
        let drops: Vec<String> = others
            .iter()
            .map(|c| {
                format!(
                    "{} → {} −{:.0} % (the size step alone: −{:.0} %)",
                    format_size(c.from_size_bytes),
                    format_size(c.to_size_bytes),
                    c.drop_fraction * 100.0,
                    size_alone_drop(c.from_size_bytes, c.to_size_bytes) * 100.0
                )
            })
            .collect();
        text.push_str(&format!(
            "Its {which}{} drop{} of more than {:.0} % came {without}: {}. ",
            others.len(),
            if others.len() == 1 { "" } else { "s" },
            result.cliff_drop * 100.0,
            drops.join(", "),
        ));
    }
    text
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
    if result.end != SweepEnd::Completed {
        text.push_str(&format!(
            "It did not complete ({}): what follows covers the points measured. ",
            result.end
        ));
    }
    let page_bytes = crate::memory::page_size();
    for allocator in &result.allocators {
        text.push_str(&allocator_sentence(result, allocator, page_bytes));
    }
    if text.contains("(the size step alone: ") {
        text.push_str(
            "The size step is what a server bound by memory bandwidth would lose; the rest of \
             those drops is not fresh pages from the OS (CPU caches and run-to-run variation \
             are candidates; a rerun tells them apart). ",
        );
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
            // Sizes a byte apart cost the same: whatever changes between them is how much
            // one point varies from the next.
            let widest = readings
                .iter()
                .filter(|r| r.below.rps > 0.0)
                .map(|r| (r, (r.above.rps / r.below.rps - 1.0).abs()))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((reading, change)) = widest
                && change > result.cliff_drop
            {
                text.push_str(&format!(
                    "{}'s change across it ({}) goes up, not down: between sizes that cost the \
                     same, it is how much one {:.0} s point varies from the next here. ",
                    reading.allocator,
                    percent_change(reading.below.rps, reading.above.rps).unwrap_or_default(),
                    result.duration_s
                ));
            }
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
            ..crate::sweep::repeat::tests::bare_point()
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
                judged_on: "rps".into(),
                cost_ratio: 39_000.0 / 20_000.0,
                required_ratio: 1.0 / 0.7,
                remeasured: false,
            });
        }
        cliffs.push(Cliff {
            allocator: "system".into(),
            from_size_bytes: 131_072,
            to_size_bytes: 262_144,
            from_rps: 38_000.0,
            to_rps: 9_000.0,
            drop_fraction: 1.0 - 9_000.0 / 38_000.0,
            judged_on: "rps".into(),
            cost_ratio: 38_000.0 / 9_000.0,
            required_ratio: 2.0,
            remeasured: false,
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
            repeat: 1,
            points,
            cliffs,
            end: crate::sweep::SweepEnd::Completed,
            command_line: vec!["membench".into(), "sweep".into(), "loh".into()],
            membench_version: String::new(),
            membench_commit: String::new(),
        }
    }

    #[test]
    fn cliffs_are_listed_per_allocator_and_the_boundary_is_read() {
        let result = sweep(false);
        let text = sweep_paragraph(&result);
        assert!(
            text.contains(
                "system reused freed memory at every swept size (under 50 % of a buffer's pages faulted per request). Its 1 drop of more than 30 % came with no change in page faults: 128 KiB → 256 KiB −76 % (the size step alone: −50 %)"
            ),
            "{text}"
        );
        assert!(
            text.contains("jemalloc reused freed memory at every swept size"),
            "{text}"
        );
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
        assert!(text.contains("Its 2 drops of more than 30 %"), "{text}");
        assert!(text.contains("(-49 %, a cliff"), "{text}");
        assert!(!text.contains("Nothing happens at 84,976"), "{text}");
    }

    #[test]
    fn the_allocators_own_cliff_is_read_from_the_page_faults() {
        let mut result = sweep(false);
        // From 256 KiB on, system faults in every page of the buffer for every request.
        let page_bytes = crate::memory::page_size();
        for point in result.points.iter_mut() {
            if point.allocator == "system" && point.size_bytes == 262_144 {
                point.minor_faults_per_s = point.rps * (262_144 / page_bytes) as f64;
            }
        }
        let text = sweep_paragraph(&result);
        assert!(
            text.contains(
                "system maps fresh pages from the OS for every request from 256 KiB (262,144 bytes) on (0 % of the buffer's pages faulted per request at 128 KiB, 100 % at 256 KiB); RPS went 38,000 → 9,000 (-76 %)."
            ),
            "{text}"
        );
        assert!(!text.contains("Its 1 drop"), "{text}");
    }

    #[test]
    fn a_rise_across_the_boundary_is_named_as_variation() {
        let mut result = sweep(false);
        for point in result.points.iter_mut() {
            if point.allocator == "system" && point.size_bytes == 84_976 {
                point.rps = 60_000.0;
            }
        }
        let text = sweep_paragraph(&result);
        assert!(
            text.contains("system's change across it (+54 %) goes up, not down"),
            "{text}"
        );
        let calm = sweep_paragraph(&sweep(false));
        assert!(!calm.contains("goes up, not down"), "{calm}");
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
