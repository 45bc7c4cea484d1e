//! The simulation: a [`GcModel`] fed one [`IntervalLoad`] per sampling interval answers with
//! the collections .NET would have made in it ([`GcEvent`]) and the managed heap per
//! generation ([`GcModel::heap`]).
//!
//! Per interval the requests are spread evenly over its duration, so the model jumps from one
//! exhausted budget to the next in whole requests (`ceil(budget ÷ bytes per request)`)
//! instead of stepping through them: the cost is per collection and per cohort, never per
//! request or per object. There is no clock and no randomness; the same loads give the same
//! events. The collection itself follows the sketch in `docs/dotnet-gc-model.md`
//! ("Triggers", "Model"): pick the generation (LOH exhausted → gen2; escalate while older
//! budgets are used up; Workstation time escalation), keep the survivors, promote them one
//! generation unless that is not worth it, let promotions eat the next generation's budget,
//! set the new budgets from the survival rates. That collection is `collect.rs`; this file
//! feeds intervals and moves the clock from one exhausted budget to the next.

use thiserror::Error;

mod collect;

use super::budget::{self, Observed};
use super::cohort::{Cohort, GenerationStore};
use super::event::{CollectionCounts, GcEvent, GcReason, GenSizes, Generation};
use super::layout::{Lifetime, ManagedAllocation, ManagedKind};
use super::machine::MachineSpec;
use super::preset::{GcOptions, Preset, Tuning};
use crate::format::format_bytes;

/// Index of the large-object heap in per-space arrays (gen0, gen1, gen2, LOH).
const LOH: usize = 3;

/// What the server did in one sampling interval, in managed terms. Cheap to build: the
/// endpoint's declared allocations once, and a request count.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalLoad {
    /// Length of the interval in seconds (> 0 when there are requests).
    pub duration_s: f64,
    /// Requests completed in the interval.
    pub requests: u64,
    /// What one request allocates in .NET; the model adds the framework overhead itself.
    pub per_request: Vec<ManagedAllocation>,
    /// What all of the interval's requests allocated together, beyond `per_request`: a
    /// server that mixes endpoints counts bytes per heap and lifetime class instead of
    /// keeping a list per request ([`ManagedKind::Sized`] totals). Spread evenly over the
    /// `requests`, like `per_request`; ignored when `requests` is 0 (nothing was
    /// answered, so there is nothing to spread them over).
    pub interval_totals: Vec<ManagedAllocation>,
    /// Mean request latency in seconds: request-lived objects become garbage this long after
    /// they are allocated, so `requests ÷ duration × latency` requests are in flight (Little's
    /// law) and their objects survive a collection. 0 means they die at once.
    pub request_latency_s: f64,
}

impl IntervalLoad {
    /// An interval whose request-lived objects die at once (latency 0).
    pub fn new(duration_s: f64, requests: u64, per_request: Vec<ManagedAllocation>) -> Self {
        IntervalLoad {
            duration_s,
            requests,
            per_request,
            interval_totals: Vec::new(),
            request_latency_s: 0.0,
        }
    }

    /// An interval of `requests` whose allocations are known only as totals over the whole
    /// interval (see [`IntervalLoad::interval_totals`]); latency 0.
    pub fn from_totals(duration_s: f64, requests: u64, totals: Vec<ManagedAllocation>) -> Self {
        IntervalLoad {
            interval_totals: totals,
            ..IntervalLoad::new(duration_s, requests, Vec::new())
        }
    }

    /// Sets the mean request latency in seconds.
    pub fn with_request_latency_s(mut self, latency_s: f64) -> Self {
        self.request_latency_s = latency_s;
        self
    }
}

/// One interval as [`GcModel::feed_interval`] sums it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntervalOutcome {
    /// Collections in the interval, per generation.
    pub collections: CollectionCounts,
    /// Managed heap at the end of the interval, bytes.
    pub heap_bytes: u64,
    /// Largest managed heap in the interval (at the end, or just before a collection).
    pub peak_heap_bytes: u64,
}

/// An [`IntervalLoad`] the model cannot use.
#[derive(Debug, Error, PartialEq)]
pub enum LoadError {
    #[error(
        "invalid interval duration {0} s: expected a finite number of seconds, above 0 when there are requests"
    )]
    Duration(f64),
    #[error("invalid request latency {0} s: expected a finite number of seconds, 0 or more")]
    Latency(f64),
}

/// Bytes per request of one heap and lifetime class.
#[derive(Debug, Clone, Copy)]
struct Stream {
    space: usize,
    /// `None`: never garbage.
    life_s: Option<f64>,
    bytes: f64,
}

/// A modelled .NET GC. Deterministic: no clock, no randomness, time is the sum of the fed
/// intervals' durations.
#[derive(Debug, Clone)]
pub struct GcModel {
    tuning: Tuning,
    machine: MachineSpec,
    options: GcOptions,
    /// Seconds since the first interval started.
    now_s: f64,
    /// gen0, gen1, gen2, LOH.
    spaces: [GenerationStore; 4],
    /// Budget left per space; a GC comes when gen0's or the LOH's is ≤ 0, and escalates
    /// through gen1/gen2 when theirs is.
    budget_left_bytes: [f64; 4],
    /// Budget set at each space's last collection.
    desired_bytes: [f64; 4],
    last_collected_s: [f64; 4],
    gc_index: u64,
    gc_index_at_last: [u64; 4],
    counts: CollectionCounts,
}

impl GcModel {
    /// A model with empty heaps and the minimum budgets.
    pub fn new(preset: Preset, machine: MachineSpec, options: GcOptions) -> Self {
        let tuning = Tuning::new(preset, &machine, &options);
        let min = tuning.min_budget_bytes;
        GcModel {
            tuning,
            machine,
            options,
            now_s: 0.0,
            spaces: Default::default(),
            budget_left_bytes: min,
            desired_bytes: min,
            last_collected_s: [0.0; 4],
            gc_index: 0,
            gc_index_at_last: [0; 4],
            counts: CollectionCounts::default(),
        }
    }

    /// One line for the terminal: what is modelled, on which machine, with which budgets.
    pub fn describe(&self) -> String {
        let l3 = format_bytes(self.machine.l3_bytes);
        let factor = if self.options.core2x_factor && self.tuning.preset == Preset::Server {
            " ×3 (.NET Core 2.x)"
        } else {
            ""
        };
        format!(
            "modelled .NET GC (a model, not a measurement): {} preset, {} heap(s), L3 {l3}{factor}, \
             {} cores, gen0 budget {}, LOH budget {}, framework overhead {} per request",
            self.tuning.preset,
            self.tuning.heaps,
            self.machine.cores,
            format_bytes(self.tuning.min_budget_bytes[0] as u64),
            format_bytes(self.tuning.min_budget_bytes[LOH] as u64),
            format_bytes(self.options.framework_overhead_bytes),
        )
    }

    /// Seconds of load fed so far.
    pub fn now_s(&self) -> f64 {
        self.now_s
    }

    /// The managed heap per generation now, garbage not yet collected included.
    pub fn heap(&self) -> GenSizes {
        GenSizes::from_f64(self.sizes())
    }

    /// Collections so far, counted like `GC.CollectionCount(n)`.
    pub fn collection_counts(&self) -> CollectionCounts {
        self.counts
    }

    /// [`GcModel::feed`], summed up the way a sampled series shows one interval: the
    /// collections it held per generation (counted like `GC.CollectionCount`), the managed
    /// heap at its end, and the largest heap just before any of its collections (the top of
    /// a sawtooth that one sample would otherwise miss).
    pub fn feed_interval(&mut self, load: &IntervalLoad) -> Result<IntervalOutcome, LoadError> {
        let before = self.collection_counts();
        let events = self.feed(load)?;
        let after = self.collection_counts();
        let heap_bytes = self.heap().total_bytes();
        let peak_heap_bytes = events
            .iter()
            .map(|event| event.before.total_bytes())
            .fold(heap_bytes, u64::max);
        Ok(IntervalOutcome {
            collections: CollectionCounts {
                gen0: after.gen0 - before.gen0,
                gen1: after.gen1 - before.gen1,
                gen2: after.gen2 - before.gen2,
            },
            heap_bytes,
            peak_heap_bytes,
        })
    }

    /// Plays one interval: allocates its requests evenly over `duration_s` and returns the
    /// collections that happened, in time order.
    pub fn feed(&mut self, load: &IntervalLoad) -> Result<Vec<GcEvent>, LoadError> {
        let duration_s = load.duration_s;
        if !duration_s.is_finite() || duration_s < 0.0 || (duration_s == 0.0 && load.requests > 0) {
            return Err(LoadError::Duration(duration_s));
        }
        let latency_s = load.request_latency_s;
        if !latency_s.is_finite() || latency_s < 0.0 {
            return Err(LoadError::Latency(latency_s));
        }
        let start_s = self.now_s;
        let streams = self.streams(load);
        let soh_bytes: f64 = streams
            .iter()
            .filter(|s| s.space == 0)
            .map(|s| s.bytes)
            .sum();
        let loh_bytes: f64 = streams
            .iter()
            .filter(|s| s.space == LOH)
            .map(|s| s.bytes)
            .sum();
        let mut events = Vec::new();
        let requests = load.requests;
        if requests > 0 && (soh_bytes > 0.0 || loh_bytes > 0.0) {
            let spacing_s = duration_s / requests as f64;
            let mut done = 0u64;
            while done < requests {
                let batch = requests_to_exhaust(self.budget_left_bytes[0], soh_bytes)
                    .min(requests_to_exhaust(self.budget_left_bytes[LOH], loh_bytes))
                    .min(requests - done);
                let from_s = start_s + done as f64 * spacing_s;
                done += batch;
                let to_s = if done == requests {
                    start_s + duration_s
                } else {
                    start_s + done as f64 * spacing_s
                };
                self.allocate(&streams, batch as f64, from_s, to_s);
                if self.budget_left_bytes[0] <= 0.0 || self.budget_left_bytes[LOH] <= 0.0 {
                    events.push(self.collect(to_s));
                }
            }
        }
        self.now_s = start_s + duration_s;
        Ok(events)
    }

    /// The request's allocations plus the framework overhead, grouped by heap and lifetime.
    fn streams(&self, load: &IntervalLoad) -> Vec<Stream> {
        let overhead = ManagedAllocation {
            kind: ManagedKind::Other {
                bytes: self.options.framework_overhead_bytes,
            },
            lifetime: Lifetime::Request,
        };
        let mut streams: Vec<Stream> = Vec::new();
        // Totals become bytes per request; with no requests there is nothing to spread.
        let per_request_share = if load.requests == 0 {
            0.0
        } else {
            1.0 / load.requests as f64
        };
        let shares = load
            .per_request
            .iter()
            .chain(std::iter::once(&overhead))
            .map(|allocation| (allocation, 1.0))
            .chain(
                load.interval_totals
                    .iter()
                    .map(|allocation| (allocation, per_request_share)),
            );
        for (allocation, share) in shares {
            let size = allocation.managed_size();
            let bytes = size.bytes as f64 * share;
            if bytes == 0.0 {
                continue;
            }
            let space = if size.large { LOH } else { 0 };
            let life_s = match allocation.lifetime {
                Lifetime::Request => Some(load.request_latency_s),
                Lifetime::Forever => None,
                Lifetime::For(duration) => Some(duration.as_secs_f64()),
            };
            match streams
                .iter_mut()
                .find(|s| s.space == space && s.life_s == life_s)
            {
                Some(stream) => stream.bytes += bytes,
                None => streams.push(Stream {
                    space,
                    life_s,
                    bytes,
                }),
            }
        }
        streams
    }

    /// Allocates `requests` requests spread over `(from_s, to_s]` into gen0 and the LOH.
    fn allocate(&mut self, streams: &[Stream], requests: f64, from_s: f64, to_s: f64) {
        for stream in streams {
            let bytes = stream.bytes * requests;
            let space = &mut self.spaces[stream.space];
            match stream.life_s {
                None => space.add_forever(bytes),
                Some(life_s) => space.push(Cohort {
                    bytes,
                    start_s: from_s,
                    end_s: to_s,
                    life_s,
                }),
            }
            self.budget_left_bytes[stream.space] -= bytes;
        }
    }

    fn sizes(&self) -> [f64; 4] {
        [0, 1, 2, LOH].map(|i| self.spaces[i].size_bytes())
    }
}

/// Whole requests until `budget_left` bytes are used up at `per_request` bytes each
/// (at least 1; "never" when the request allocates nothing there).
fn requests_to_exhaust(budget_left: f64, per_request: f64) -> u64 {
    if per_request <= 0.0 {
        return u64::MAX;
    }
    // `as` saturates for huge quotients; budgets are positive after every GC.
    ((budget_left / per_request).ceil() as u64).max(1)
}

#[cfg(test)]
mod tests;
