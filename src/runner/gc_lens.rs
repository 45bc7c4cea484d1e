//! The modelled .NET GC lens during a run: each sample's interval (its duration, request
//! count and median latency, already measured by the load generator) is fed to a
//! [`GcModel`], and the sample gets the modelled collections and managed heap before it is
//! written. Nothing is recorded per request, and because the modelled columns are filled
//! before `samples.csv` is appended, Ctrl-C loses no modelled row either.

use crate::gcmodel::{GcModel, GcOptions, MachineSpec, ManagedAllocation, Preset};
use crate::series::Sample;

/// What the lens needs, decided before the run.
#[derive(Debug, Clone, PartialEq)]
pub struct GcLensPlan {
    pub preset: Preset,
    pub machine: MachineSpec,
    pub options: GcOptions,
    /// What one request of the scenario allocates in .NET (`[dotnet]` allocations).
    pub per_request: Vec<ManagedAllocation>,
}

/// A running model and what it has counted so far.
#[derive(Debug, Clone)]
pub struct GcLens {
    model: GcModel,
    per_request: Vec<ManagedAllocation>,
}

impl GcLens {
    pub fn new(plan: &GcLensPlan) -> GcLens {
        GcLens {
            model: GcModel::new(plan.preset, plan.machine, plan.options),
            per_request: plan.per_request.clone(),
        }
    }

    /// The model's one-line description, for the terminal.
    pub fn describe(&self) -> String {
        self.model.describe()
    }

    /// The model itself (for totals).
    #[cfg(test)]
    pub fn model(&self) -> &GcModel {
        &self.model
    }

    /// Feeds the sample's interval to the model and fills its `modelled_*` fields. A sample
    /// the model cannot use (a non-finite interval, which the sampler never produces) keeps
    /// them empty rather than invented.
    pub fn observe(&mut self, sample: &mut Sample) {
        // The model wants the mean latency; the median is what each interval keeps, and
        // under steady load the two are close. Without responses, objects die at once.
        let latency_s = sample.latency_p50_us.map_or(0.0, |us| us as f64 / 1e6);
        let load = crate::gcmodel::IntervalLoad::new(
            sample.interval_s.max(0.0),
            sample.requests,
            self.per_request.clone(),
        )
        .with_request_latency_s(latency_s);
        let Ok(outcome) = self.model.feed_interval(&load) else {
            return;
        };
        sample.modelled_gen0 = Some(outcome.collections.gen0);
        sample.modelled_gen1 = Some(outcome.collections.gen1);
        sample.modelled_gen2 = Some(outcome.collections.gen2);
        sample.modelled_managed_heap_bytes = Some(outcome.heap_bytes);
        sample.modelled_managed_heap_peak_bytes = Some(outcome.peak_heap_bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gcmodel::{Lifetime, ManagedKind};

    fn lens(len: u64) -> GcLens {
        GcLens::new(&GcLensPlan {
            preset: Preset::Server,
            machine: MachineSpec::article(),
            options: GcOptions::article(),
            per_request: vec![ManagedAllocation {
                kind: ManagedKind::ByteArray { len },
                lifetime: Lifetime::Request,
            }],
        })
    }

    /// A hand-made series: 40 intervals of 250 ms at 2,000 requests each (8,000 RPS).
    fn feed(lens: &mut GcLens) -> Vec<Sample> {
        (0..40)
            .map(|i| {
                let mut sample = Sample {
                    elapsed_s: 0.25 * (i + 1) as f64,
                    interval_s: 0.25,
                    requests: 2_000,
                    latency_p50_us: Some(4_000),
                    ..Sample::default()
                };
                lens.observe(&mut sample);
                sample
            })
            .collect()
    }

    #[test]
    fn per_interval_counts_add_up_to_the_models_counts() {
        for len in [84_975, 84_976] {
            let mut lens = lens(len);
            let samples = feed(&mut lens);
            let counts = lens.model().collection_counts();
            let sum = |field: fn(&Sample) -> Option<u64>| {
                samples.iter().map(|s| field(s).unwrap()).sum::<u64>()
            };
            assert_eq!(sum(|s| s.modelled_gen0), counts.gen0);
            assert_eq!(sum(|s| s.modelled_gen1), counts.gen1);
            assert_eq!(sum(|s| s.modelled_gen2), counts.gen2);
            for sample in &samples {
                assert!(
                    sample.modelled_managed_heap_peak_bytes >= sample.modelled_managed_heap_bytes
                );
            }
        }
    }

    #[test]
    fn only_the_array_on_the_loh_brings_gen2_collections() {
        let small = feed(&mut lens(84_975));
        let large = feed(&mut lens(84_976));
        let gen2 = |samples: &[Sample]| {
            samples
                .iter()
                .map(|s| s.modelled_gen2.unwrap())
                .sum::<u64>()
        };
        assert_eq!(
            gen2(&small),
            0,
            "byte[84975] stays on the small-object heap"
        );
        assert!(gen2(&large) > 0, "byte[84976] lands on the LOH");
    }
}
