//! array vs pooledarray: a fresh buffer per request or one rented from a pool. The
//! measured claims: bytes allocated per second and per request, large allocations per
//! second, the allocator's reclaim events, and how many times the pool cut the rate.

use crate::format::{format_bytes, format_count, group_thousands};
use crate::gallery::facts::{Relation, format_mb_per_s, relation, rps, times};
use crate::report::compare::SavedRun;
use crate::report::summary::LoadSummary;

/// The paragraph for the pair; `fresh` is the array run, `pooled` pooledarray.
pub fn paragraph(fresh: &SavedRun, pooled: &SavedRun) -> String {
    fn load(run: &SavedRun) -> &LoadSummary {
        &run.summary.load
    }
    let (Some(fresh_bytes), Some(pooled_bytes)) = (
        load(fresh).alloc_bytes_per_s_mean,
        load(pooled).alloc_bytes_per_s_mean,
    ) else {
        return "These runs carry no allocation counts (a server without the counting \
                allocator), so the page cannot compare what the pool saves."
            .to_string();
    };
    let per_request = |run: &SavedRun, bytes_per_s: f64| {
        let rps = load(run).rps_mean;
        if rps > 0.0 {
            format!(
                ", {} per request",
                format_bytes((bytes_per_s / rps).round() as u64)
            )
        } else {
            String::new()
        }
    };
    let large = |run: &SavedRun| {
        load(run)
            .large_allocs_per_s_mean
            .map_or_else(|| "no count of".to_string(), format_count)
    };
    let mut text = format!(
        "array allocated {}{} at {} RPS, with {} large allocations per second; pooledarray \
         allocated {}{} at {} RPS, with {} large allocations per second. ",
        format_mb_per_s(fresh_bytes),
        per_request(fresh, fresh_bytes),
        rps(fresh),
        large(fresh),
        format_mb_per_s(pooled_bytes),
        per_request(pooled, pooled_bytes),
        rps(pooled),
        large(pooled),
    );
    let pool_saved = relation(fresh_bytes, pooled_bytes) == Relation::More;
    text.push_str(&if pool_saved {
        match times(fresh_bytes, pooled_bytes) {
            Some(ratio) => format!("Renting from the pool cut the allocation rate {ratio}. "),
            None => "Renting from the pool cut the allocation rate to nothing. ".to_string(),
        }
    } else {
        "The pool did not lower the allocation rate, which contradicts the expectation \
         (is the pool smaller than the number of connections?). "
            .to_string()
    });

    let reclaims = |run: &SavedRun| run.summary.reclaim.events_total;
    if let (Some(fresh_events), Some(pooled_events)) = (reclaims(fresh), reclaims(pooled)) {
        let comparison = match relation(fresh_events as f64, pooled_events as f64) {
            Relation::More => "more with fresh buffers",
            Relation::Same => "about as many either way",
            Relation::Less => "fewer with fresh buffers",
        };
        text.push_str(&format!(
            "The allocator returned memory to the OS {} times during array's run and {} times \
             during pooledarray's ({}; {comparison}). ",
            group_thousands(fresh_events),
            group_thousands(pooled_events),
            fresh.summary.reclaim.source,
        ));
    }
    text.push_str(
        "In .NET the pool spares the GC a collection's worth of garbage per buffer; Rust has \
         no collector to spare, so what the pool saves is the allocator's work and the page \
         faults of fresh memory, measured here as the allocation rate.",
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gallery::paragraphs::fixtures::{saved, series, with_samples};
    use crate::gcmodel::LOH_THRESHOLD_BYTES;

    fn run(scenario: &str, bytes_per_request: f64) -> SavedRun {
        let built = with_samples(
            series(scenario, &[("size", "100000")], false),
            |index, s| {
                let rps = s.rps.unwrap_or(0.0);
                s.alloc_bytes_per_s = Some(rps * bytes_per_request);
                s.large_allocs_per_s = Some(if bytes_per_request > LOH_THRESHOLD_BYTES as f64 {
                    rps
                } else {
                    0.0
                });
                s.reclaim_events = Some(u64::from(
                    bytes_per_request > LOH_THRESHOLD_BYTES as f64 && index % 2 == 0,
                ));
            },
        );
        saved(built, &[], 1_000)
    }

    #[test]
    fn the_pool_saving_is_computed_from_the_allocation_rates() {
        let fresh = run("array", 100_512.0);
        let pooled = run("pooledarray", 512.0);
        let text = paragraph(&fresh, &pooled);
        let rate = |r: &SavedRun| r.summary.load.alloc_bytes_per_s_mean.unwrap();
        let ratio = times(rate(&fresh), rate(&pooled)).unwrap();
        assert!(
            text.contains(&format!("cut the allocation rate {ratio}")),
            "{text}"
        );
        assert!(text.contains(&format_mb_per_s(rate(&fresh))), "{text}");
        assert!(text.contains("98.2 KiB per request"), "{text}");
        assert!(text.contains("more with fresh buffers"), "{text}");
    }

    #[test]
    fn a_pool_that_saves_nothing_is_called_a_contradiction() {
        let fresh = run("array", 100_512.0);
        let pooled = run("pooledarray", 100_512.0);
        let text = paragraph(&fresh, &pooled);
        assert!(
            text.contains("did not lower the allocation rate, which contradicts"),
            "{text}"
        );
        assert!(text.contains("about as many either way"), "{text}");
    }
}
