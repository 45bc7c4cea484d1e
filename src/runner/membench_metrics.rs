//! membench's own families on a `/metrics` page (see `server/metrics/families.rs`), mapped
//! onto the columns `/api/diagnostics` fills for a local run: live heap, allocation
//! rates, the allocator's resident bytes, reclaims, leaked bytes. So `membench watch
//! --metrics` of a remote `membench serve` draws the same memory panel as a local run,
//! though nothing reads its diagnostics or `/proc`.
//!
//! Gauges come from the latest scrape; rates and counts from the counters' change since
//! the scrape before it. A counter that went down (the server restarted) gives no value
//! for that interval, never a negative or a wrapped one.

use super::exposition::MetricLine;
use crate::series::Sample;

/// The heap family whose presence says the page is a membench server's.
const HEAP_LIVE: &str = "membench_heap_live_bytes";

/// What a membench server's page says, summed over labels.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct MembenchReading {
    /// `membench_heap_live_bytes`: the counting allocator's live heap.
    pub heap_live_bytes: f64,
    /// `membench_allocator_resident_bytes` (jemalloc, mimalloc; absent for glibc).
    pub allocator_resident_bytes: Option<f64>,
    /// `membench_leak_held_bytes`, all endpoints.
    pub leaked_bytes: Option<f64>,
    /// `membench_rss_anon_bytes` (Linux).
    pub rss_anon_bytes: Option<f64>,
    /// `membench_heap_allocations_total`.
    pub allocations_total: Option<f64>,
    /// `membench_heap_allocated_bytes_total`.
    pub allocated_bytes_total: Option<f64>,
    /// `membench_heap_large_allocations_total`.
    pub large_allocations_total: Option<f64>,
    /// `membench_allocator_purge_events_total` + `membench_collect_calls_total`: the
    /// reclaims `/api/diagnostics` counts the same way.
    pub reclaims_total: Option<f64>,
    /// `membench_minor_faults_total` (Linux).
    pub minor_faults_total: Option<f64>,
    /// `membench_tcp_sockets{state=…}`: established, time_wait, close_wait (Linux).
    pub tcp: Option<[f64; 3]>,
}

impl MembenchReading {
    /// The membench families of a page; `None` when it has no live heap (not a membench
    /// server, or one that counts no allocations).
    pub(crate) fn read(lines: &[MetricLine]) -> Option<MembenchReading> {
        let sum = |name: &str| -> Option<f64> {
            let values: Vec<f64> = lines
                .iter()
                .filter(|line| line.name == name)
                .map(|line| line.value)
                .collect();
            (!values.is_empty()).then(|| values.iter().sum())
        };
        let tcp_state = |state: &str| {
            lines
                .iter()
                .find(|line| {
                    line.name == "membench_tcp_sockets" && line.label("state") == Some(state)
                })
                .map(|line| line.value)
        };
        let reclaims = match (
            sum("membench_allocator_purge_events_total"),
            sum("membench_collect_calls_total"),
        ) {
            (None, None) => None,
            (purges, collects) => Some(purges.unwrap_or(0.0) + collects.unwrap_or(0.0)),
        };
        let tcp = (|| {
            Some([
                tcp_state("established")?,
                tcp_state("time_wait")?,
                tcp_state("close_wait")?,
            ])
        })();
        Some(MembenchReading {
            heap_live_bytes: sum(HEAP_LIVE)?,
            allocator_resident_bytes: sum("membench_allocator_resident_bytes"),
            leaked_bytes: sum("membench_leak_held_bytes"),
            rss_anon_bytes: sum("membench_rss_anon_bytes"),
            allocations_total: sum("membench_heap_allocations_total"),
            allocated_bytes_total: sum("membench_heap_allocated_bytes_total"),
            large_allocations_total: sum("membench_heap_large_allocations_total"),
            reclaims_total: reclaims,
            minor_faults_total: sum("membench_minor_faults_total"),
            tcp,
        })
    }

    /// Fills the gauges the sample lacks (what diagnostics or `/proc` gave stays).
    pub(crate) fn fill_gauges(&self, sample: &mut Sample) {
        let whole = |value: f64| value.max(0.0).round() as u64;
        sample.heap_live_bytes = sample.heap_live_bytes.or(Some(whole(self.heap_live_bytes)));
        sample.allocator_resident_bytes = sample
            .allocator_resident_bytes
            .or(self.allocator_resident_bytes.map(whole));
        sample.leaked_bytes = sample.leaked_bytes.or(self.leaked_bytes.map(whole));
        sample.rss_anon_bytes = sample.rss_anon_bytes.or(self.rss_anon_bytes.map(whole));
        if let Some([established, time_wait, close_wait]) = self.tcp {
            sample.tcp_established = sample.tcp_established.or(Some(whole(established)));
            sample.tcp_time_wait = sample.tcp_time_wait.or(Some(whole(time_wait)));
            sample.tcp_close_wait = sample.tcp_close_wait.or(Some(whole(close_wait)));
        }
    }

    /// Fills the rates and counts the sample lacks from the change since `before`,
    /// `secs` earlier; per request by the sample's `requests`.
    pub(crate) fn fill_rates(&self, before: &MembenchReading, secs: f64, sample: &mut Sample) {
        let grew = |now: Option<f64>, then: Option<f64>| match (now, then) {
            (Some(now), Some(then)) if now >= then => Some(now - then),
            _ => None,
        };
        let per_s = |delta: Option<f64>| delta.map(|d| d / secs);
        let per_request = |delta: Option<f64>| {
            delta
                .filter(|_| sample.requests > 0)
                .map(|d| d / sample.requests as f64)
        };
        let allocs = grew(self.allocations_total, before.allocations_total);
        let bytes = grew(self.allocated_bytes_total, before.allocated_bytes_total);
        let large = grew(self.large_allocations_total, before.large_allocations_total);
        let reclaims = grew(self.reclaims_total, before.reclaims_total);
        let faults = grew(self.minor_faults_total, before.minor_faults_total);
        let (allocs_per_request, bytes_per_request, faults_per_request) =
            (per_request(allocs), per_request(bytes), per_request(faults));
        let whole = |value: f64| value.round() as u64;
        sample.allocs_per_s = sample.allocs_per_s.or(per_s(allocs));
        sample.alloc_bytes_per_s = sample.alloc_bytes_per_s.or(per_s(bytes));
        sample.large_allocs_per_s = sample.large_allocs_per_s.or(per_s(large));
        sample.reclaim_events = sample.reclaim_events.or(reclaims.map(whole));
        sample.minor_faults = sample.minor_faults.or(faults.map(whole));
        sample.allocs_per_request = sample.allocs_per_request.or(allocs_per_request);
        sample.alloc_bytes_per_request = sample.alloc_bytes_per_request.or(bytes_per_request);
        sample.minor_faults_per_request = sample.minor_faults_per_request.or(faults_per_request);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::exposition::parse;

    fn page(live: u64, allocs: u64, bytes: u64, purges: u64) -> Vec<MetricLine> {
        parse(&format!(
            "membench_heap_live_bytes {live}\n\
             membench_heap_allocations_total {allocs}\n\
             membench_heap_allocated_bytes_total {bytes}\n\
             membench_heap_large_allocations_total 1\n\
             membench_allocator_resident_bytes 4096\n\
             membench_allocator_purge_events_total {purges}\n\
             membench_collect_calls_total 1\n\
             membench_leak_held_bytes{{endpoint=\"/a\"}} 10\n\
             membench_leak_held_bytes{{endpoint=\"/b\"}} 5\n"
        ))
        .unwrap()
    }

    #[test]
    fn a_membench_page_fills_the_heap_columns_and_a_restart_gives_no_rate() {
        let before = MembenchReading::read(&page(100, 10, 1_000, 2)).unwrap();
        let now = MembenchReading::read(&page(300, 30, 5_000, 4)).unwrap();
        let mut sample = Sample {
            requests: 4,
            ..Sample::default()
        };
        now.fill_gauges(&mut sample);
        now.fill_rates(&before, 2.0, &mut sample);
        assert_eq!(sample.heap_live_bytes, Some(300));
        assert_eq!(sample.allocator_resident_bytes, Some(4096));
        assert_eq!(sample.leaked_bytes, Some(15));
        assert_eq!(sample.allocs_per_s, Some(10.0));
        assert_eq!(sample.alloc_bytes_per_s, Some(2_000.0));
        assert_eq!(sample.large_allocs_per_s, Some(0.0));
        assert_eq!(sample.reclaim_events, Some(2));
        assert_eq!(sample.allocs_per_request, Some(5.0));
        assert_eq!(sample.rss_anon_bytes, None, "not on the page: absent");
        assert_eq!(sample.tcp_established, None);

        // The server restarted: counters went down, so no rate (not a negative one).
        let restarted = MembenchReading::read(&page(50, 3, 100, 0)).unwrap();
        let mut sample = Sample::default();
        restarted.fill_rates(&now, 1.0, &mut sample);
        assert_eq!(sample.allocs_per_s, None);
        assert_eq!(sample.reclaim_events, None);

        let foreign = parse("process_resident_memory_bytes 1e6\n").unwrap();
        assert_eq!(MembenchReading::read(&foreign), None);
    }
}
