//! A modelled .NET generational GC: a second, clearly labelled lens on a run.
//!
//! Rust has no GC, and membench's charts show what Rust really does (nothing changes at
//! 84,976 bytes). Workshops, though, come from the ASP.NET Core memory article, and people
//! want to see where .NET *would* have collected. This module answers that with a pure,
//! deterministic model fed with the same requests: each endpoint declares what the request
//! allocates in .NET ([`ManagedAllocation`]), the runner feeds one [`IntervalLoad`] per
//! sampling interval, and [`GcModel::feed`] returns the gen0/gen1/gen2 collections
//! ([`GcEvent`], drawn as hollow triangles) while [`GcModel::heap`] gives the managed heap
//! per generation (the dashed sawtooth). Nothing here is measured; everything it draws must
//! be labelled "MODELLED .NET GC".
//!
//! Sources: the research notes `docs/dotnet-gc-model.md`, which quote dotnet/runtime
//! `src/coreclr/gc/{dynamic_tuning,init,collect,mark_phase}.cpp`, `gc.h`, `gcpriv.h`,
//! `vm/gchelpers.cpp`, the BOTR `garbage-collection.md`, Maoni Stephens' `mem-doc`, the
//! sample app sebastienros/memoryleak and the article (AspNetCore.Docs
//! `aspnetcore/performance/memory.md`).
//!
//! Files, by concern:
//! * [`layout`] — managed object sizes (64-bit) and the 85,000-byte LOH test.
//! * [`machine`] — L3, cores and memory: detected, or the article's machine.
//! * [`preset`] — Server / Workstation tuning: heaps, minimum and maximum budgets, limits.
//! * [`budget`] — how budgets adapt to survival (`surv_to_growth`, `desired_new_allocation`).
//! * `cohort` — the heap as cohorts (allocation span × lifetime), never a list per object.
//! * [`sim`] — the model: allocation, triggers, escalation, promotion, events.
//! * [`event`] — what it reports.
//! * [`LensConfig`] — a lens as asked for, resolved once into preset, machine and options.
//!
//! The model and every simplification are spelled out below; the same text is what
//! [`explain`] returns (printed by `membench explain gc-model`). It lives in `explain.txt`
//! next to this file so this doc and the command cannot drift apart.
//!
#![doc = concat!("```text\n", include_str!("explain.txt"), "```")]

pub mod budget;
mod cohort;
pub mod event;
pub mod layout;
mod lens_config;
pub mod machine;
pub mod preset;
pub mod sim;
#[cfg(test)]
mod validation;

pub use event::{CollectionCounts, GenSizes};
pub use layout::{LOH_THRESHOLD_BYTES, Lifetime, ManagedAllocation, ManagedKind};
pub use lens_config::{LensConfig, ResolvedLens};
pub use machine::{MachineSpec, ModelledMachine};
pub use preset::{GcOptions, Preset};
pub use sim::{GcModel, IntervalLoad};

/// The plain-text explanation of the model and every simplification it makes.
pub fn explain() -> &'static str {
    include_str!("explain.txt")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explanation_names_the_facts_and_the_simplifications() {
        let text = explain();
        for needle in [
            "MODELLED",
            "85,000",
            "84,976",
            "20,504",
            "spread evenly",
            "NOT MODELLED",
            "dotnet-gc-model.md",
            "framework overhead",
        ] {
            assert!(text.contains(needle), "explain() lacks {needle:?}");
        }
    }
}
