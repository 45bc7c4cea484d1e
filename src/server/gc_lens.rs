//! The modelled .NET GC lens of `membench serve` (`--gc-model server|workstation`): the
//! pattern requests the handlers recorded (`managed.rs`) are fed to a
//! [`GcModel`](crate::gcmodel::GcModel) once per [`TICK`], and `/api/diagnostics`,
//! `/metrics` and the dashboard show the modelled collections and managed heap, labelled
//! "modelled .NET GC (server)". A model, never a measurement.
//!
//! The ticks run on their own thread, not on a worker: feeding the model is a few
//! microseconds of arithmetic and a few small allocations, and the allocations are added
//! to the server's measurement cost (`measurement_alloc_*`) like a snapshot's, so the
//! allocation rate a reader subtracts them from stays the endpoints' own. The model runs
//! on the article's machine with the article's budgets, as `membench run`'s lens does.
//!
//! Request latency: the model lets request-lived objects die one mean latency after they
//! were allocated. The server does not time its requests (that would cost every request
//! two clock reads), so the lens uses 0: its handlers take microseconds, so the objects of
//! the requests in flight at a modelled collection (rps × latency, about one request at
//! 10,000 RPS × 100 µs) are a few KiB against budgets of tens or hundreds of MiB. The
//! runner's lens uses the load generator's median latency instead, which includes the
//! network and the client's queueing.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use super::managed::ManagedTally;
use crate::diagnostics::{ModelledGc, ModelledTick};
use crate::gcmodel::{GcModel, IntervalLoad, Preset, ResolvedLens};

/// How often the recorded requests are fed to the model.
pub(crate) const TICK: Duration = Duration::from_millis(250);

/// Ticks kept for `/api/diagnostics` `recent_ticks`: 20 s, so a dashboard polling every
/// second misses none even when a poll is late.
const RECENT_TICKS: usize = 80;

/// The running model and its recent ticks.
pub(crate) struct ServerGcLens {
    preset: Preset,
    cache_ttl: Duration,
    describe: String,
    state: Mutex<LensState>,
}

struct LensState {
    model: GcModel,
    /// Uptime at the end of the last tick, in seconds.
    last_uptime_s: f64,
    ticks: u64,
    requests_fed: u64,
    /// At most [`RECENT_TICKS`], allocated once.
    recent: VecDeque<ModelledTick>,
}

impl ServerGcLens {
    /// A model with empty heaps on `machine` (`--gc-machine`); `options` carry the
    /// framework's own allocation per request (`--dotnet-overhead`).
    pub(crate) fn new(lens: ResolvedLens, cache_ttl: Duration) -> Self {
        let ResolvedLens {
            preset,
            machine,
            options,
        } = lens;
        let model = GcModel::new(preset, machine, options);
        ServerGcLens {
            preset,
            cache_ttl,
            describe: model.describe(),
            state: Mutex::new(LensState {
                model,
                last_uptime_s: 0.0,
                ticks: 0,
                requests_fed: 0,
                recent: VecDeque::with_capacity(RECENT_TICKS),
            }),
        }
    }

    /// The model's one-line description, for the log.
    pub(crate) fn describe(&self) -> &str {
        &self.describe
    }

    /// `modelled .NET GC (server)`: how every chart and table names the lens.
    pub(crate) fn label(&self) -> String {
        format!("modelled .NET GC ({})", self.preset)
    }

    /// Feeds what `tally` recorded since the previous tick, as one interval ending at
    /// `uptime_s` (seconds since the server started). A clock that went backwards or a
    /// load the model refuses (neither can happen with a monotonic clock) skips the tick
    /// and leaves the requests to the next.
    pub(crate) fn tick(&self, tally: &ManagedTally, uptime_s: f64) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let duration_s = uptime_s - state.last_uptime_s;
        if duration_s.is_nan() || duration_s <= 0.0 {
            return;
        }
        let drained = tally.drain();
        let load = IntervalLoad::from_totals(
            duration_s,
            drained.requests,
            drained.allocations(self.cache_ttl),
        );
        let Ok(outcome) = state.model.feed_interval(&load) else {
            return;
        };
        state.last_uptime_s = uptime_s;
        state.ticks += 1;
        state.requests_fed += drained.requests;
        if state.recent.len() == RECENT_TICKS {
            state.recent.pop_front();
        }
        let tick = ModelledTick {
            tick: state.ticks,
            uptime_s,
            requests: drained.requests,
            gen0: outcome.collections.gen0,
            gen1: outcome.collections.gen1,
            gen2: outcome.collections.gen2,
            managed_heap_bytes: outcome.heap_bytes,
            managed_heap_peak_bytes: outcome.peak_heap_bytes,
        };
        state.recent.push_back(tick);
    }

    /// The lens as `/api/diagnostics` reports it.
    pub(crate) fn snapshot(&self) -> ModelledGc {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let heap = state.model.heap();
        ModelledGc {
            label: self.label(),
            preset: self.preset.name().to_string(),
            describe: self.describe.clone(),
            collections: state.model.collection_counts(),
            managed_heap_bytes: heap.total_bytes(),
            managed_heap: heap,
            requests_fed: state.requests_fed,
            model_time_s: state.model.now_s(),
            tick_interval_s: TICK.as_secs_f64(),
            recent_ticks: state.recent.iter().copied().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::state::SharedState;
    use crate::server::test_support::{get, json, state_with};

    /// `requests` GETs of `path`, fed to the lens as 4 ticks of 250 ms.
    async fn drive(path: &str, requests: usize) -> SharedState {
        let state = state_with(|_| {});
        let lens = state.gc_lens.as_ref().unwrap();
        for tick in 1..=4 {
            for _ in 0..requests / 4 {
                get(&state, path).await;
            }
            lens.tick(&state.managed, 0.25 * tick as f64);
        }
        state
    }

    #[tokio::test]
    async fn only_byte_84976_brings_modelled_gen2_collections() {
        let requests = 1_000;
        let small = drive("/api/loh/84975", requests).await;
        let large = drive("/api/loh/84976", requests).await;
        let small = small.gc_lens.as_ref().unwrap().snapshot();
        let large = large.gc_lens.as_ref().unwrap().snapshot();
        assert_eq!(small.requests_fed, requests as u64);
        assert_eq!(large.requests_fed, requests as u64);
        assert_eq!(small.collections.gen2, 0, "{small:?}");
        assert_eq!(small.managed_heap.loh_bytes, 0);
        // 1,000 × 85,000 B through the LOH budget (3 MiB per heap × 8 heaps = 24 MiB).
        let loh_budget = 24.0 * 1024.0 * 1024.0;
        let expected = (requests as f64 * 85_000.0 / loh_budget).floor() as u64;
        assert!(
            large.collections.gen2 >= expected.max(1),
            "{} gen2, expected at least {expected}",
            large.collections.gen2
        );
        let per_tick: u64 = large.recent_ticks.iter().map(|t| t.gen2).sum();
        assert_eq!(per_tick, large.collections.gen2);
        assert_eq!(large.recent_ticks.len(), 4);
        assert_eq!(large.label, "modelled .NET GC (server)");
    }

    #[tokio::test]
    async fn the_diagnostics_carry_the_lens_or_null_when_it_is_off() {
        let state = state_with(|_| {});
        for _ in 0..10 {
            get(&state, "/api/bigstring").await;
        }
        state.gc_lens.as_ref().unwrap().tick(&state.managed, 0.25);
        let (_, body) = get(&state, "/api/diagnostics").await;
        let lens = &json(&body)["modelled_gc"];
        assert_eq!(lens["label"], "modelled .NET GC (server)");
        assert_eq!(lens["preset"], "server");
        assert_eq!(lens["requests_fed"], 10);
        // 10 × (20,504 B string + 10 KiB framework overhead), no collection yet.
        assert_eq!(lens["managed_heap_bytes"], 10 * (20_504 + 10 * 1024));
        assert_eq!(lens["recent_ticks"][0]["requests"], 10);
        assert!(
            lens["describe"]
                .as_str()
                .unwrap()
                .contains("a model, not a measurement")
        );

        let off = state_with(|config| config.lens = None);
        get(&off, "/api/bigstring").await;
        assert_eq!(off.managed.drain().requests, 0, "nothing recorded when off");
        let (_, body) = get(&off, "/api/diagnostics").await;
        assert!(json(&body)["modelled_gc"].is_null(), "{body:?}");
    }

    #[test]
    fn recent_ticks_are_bounded_and_a_tick_that_goes_back_is_skipped() {
        let resolved = crate::gcmodel::LensConfig {
            preset: Preset::Workstation,
            ..Default::default()
        }
        .resolve()
        .unwrap();
        let lens = ServerGcLens::new(resolved, Duration::from_millis(500));
        let tally = ManagedTally::new(true);
        for tick in 1..=(RECENT_TICKS + 5) {
            tally.record("/api/bigstring");
            lens.tick(&tally, 0.25 * tick as f64);
        }
        lens.tick(&tally, 1.0);
        let snapshot = lens.snapshot();
        assert_eq!(snapshot.recent_ticks.len(), RECENT_TICKS);
        assert_eq!(
            snapshot.recent_ticks.last().unwrap().tick,
            (RECENT_TICKS + 5) as u64
        );
        assert_eq!(snapshot.requests_fed, (RECENT_TICKS + 5) as u64);
        assert_eq!(snapshot.label, "modelled .NET GC (workstation)");
    }
}
