//! The model's behaviour on hand-made loads: triggers, promotion, the LOH budget, cache
//! lifetimes, totals, cohort counts and Workstation time escalation.

use super::*;
use std::time::Duration;

fn string_request(chars: u64, lifetime: Lifetime) -> Vec<ManagedAllocation> {
    vec![ManagedAllocation {
        kind: ManagedKind::String { chars },
        lifetime,
    }]
}

fn no_overhead() -> GcOptions {
    GcOptions {
        core2x_factor: true,
        framework_overhead_bytes: 0,
    }
}

#[test]
fn bad_intervals_are_refused_with_the_value() {
    let mut model = GcModel::new(Preset::Server, MachineSpec::article(), GcOptions::article());
    let err = model
        .feed(&IntervalLoad::new(0.0, 10, Vec::new()))
        .unwrap_err();
    assert_eq!(err, LoadError::Duration(0.0));
    assert!(err.to_string().contains("0 s"), "{err}");
    let err = model
        .feed(&IntervalLoad::new(1.0, 10, Vec::new()).with_request_latency_s(f64::NAN))
        .unwrap_err();
    assert!(matches!(err, LoadError::Latency(l) if l.is_nan()));
    // An empty interval of zero length is fine and changes nothing.
    assert_eq!(
        model.feed(&IntervalLoad::new(0.0, 0, Vec::new())),
        Ok(Vec::new())
    );
}

#[test]
fn gc_comes_at_the_request_that_exhausts_gen0() {
    // Workstation on the article machine: 10 MiB gen0 budget. 20,504-byte strings,
    // no overhead, 1000 requests per second: ceil(10 MiB ÷ 20,504) = 512 requests,
    // so the first GC is at 0.512 s.
    let mut model = GcModel::new(Preset::Workstation, MachineSpec::article(), no_overhead());
    let events = model
        .feed(&IntervalLoad::new(
            1.0,
            1000,
            string_request(10_240, Lifetime::Request),
        ))
        .unwrap();
    assert_eq!(events.len(), 1);
    let expected = (10.0f64 * 1024.0 * 1024.0 / 20_504.0).ceil() / 1000.0;
    assert!(
        (events[0].time_s - expected).abs() < 1e-9,
        "{}",
        events[0].time_s
    );
    assert_eq!(events[0].generation, Generation::Gen0);
    assert_eq!(events[0].before.gen0_bytes, 512 * 20_504);
    // Latency 0: nothing survives, gen0 is empty after.
    assert_eq!(events[0].after.total_bytes(), 0);
    // The rest of the interval is in gen0 now.
    assert_eq!(model.heap().gen0_bytes, (1000 - 512) * 20_504);
    assert_eq!(model.collection_counts().gen0, 1);
}

#[test]
fn in_flight_requests_survive_and_are_promoted() {
    // 1000 RPS, 100 ms latency: 100 requests in flight at every GC (Little's law).
    let mut model = GcModel::new(Preset::Workstation, MachineSpec::article(), no_overhead());
    let load = IntervalLoad::new(1.0, 1000, string_request(10_240, Lifetime::Request))
        .with_request_latency_s(0.1);
    let events = model.feed(&load).unwrap();
    let first = &events[0];
    let in_flight = 100.0 * 20_504.0;
    assert!(
        (first.survived.gen0_bytes as f64 - in_flight).abs() < 1.0,
        "{}",
        first.survived.gen0_bytes
    );
    assert_eq!(first.promoted_bytes, first.survived.gen0_bytes);
    assert_eq!(first.after.gen1_bytes, first.promoted_bytes);
    assert_eq!(first.after.gen0_bytes, 0);
}

#[test]
fn the_loh_budget_triggers_gen2_and_collects_the_loh() {
    let mut model = GcModel::new(Preset::Server, MachineSpec::article(), no_overhead());
    let request = vec![ManagedAllocation {
        kind: ManagedKind::ByteArray { len: 84_976 },
        lifetime: Lifetime::Request,
    }];
    let events = model.feed(&IntervalLoad::new(1.0, 1000, request)).unwrap();
    // 85,000 B × 1000 = 81 MiB through a 24 MiB LOH budget: 3 gen2 GCs.
    assert_eq!(events.len(), 3);
    for event in &events {
        assert_eq!(event.generation, Generation::Gen2);
        assert_eq!(event.reason, GcReason::LohBudget);
        assert_eq!(event.after.loh_bytes, 0);
        assert_eq!(event.before.gen0_bytes, 0);
    }
    assert_eq!(model.collection_counts().gen2, 3);
    assert_eq!(model.collection_counts().gen0, 3);
}

#[test]
fn cache_entries_die_at_their_expiry() {
    // 10 s TTL, 100 RPS of 20,504 B for 30 s: at most ~10 s of entries are alive.
    let mut model = GcModel::new(Preset::Workstation, MachineSpec::article(), no_overhead());
    let load = IntervalLoad::new(
        1.0,
        100,
        string_request(10_240, Lifetime::For(Duration::from_secs(10))),
    );
    let mut events = Vec::new();
    for _ in 0..30 {
        events.extend(model.feed(&load).unwrap());
    }
    let window = 10.0 * 100.0 * 20_504.0;
    let last = events.last().unwrap();
    // Survivors of the last GC: only entries younger than 10 s.
    let survived = last.survived.total_bytes() as f64;
    assert!(survived <= window + 1.0, "{survived} > {window}");
    assert!(survived > 0.0);
    // Cohorts stay few: one per generation and lifetime run, not one per GC.
    assert!(
        model.spaces.iter().all(|s| s.cohorts.len() <= 4),
        "{:?}",
        model.spaces
    );
}

#[test]
fn totals_spread_over_the_requests_play_like_the_same_per_request_load() {
    let request = vec![
        ManagedAllocation {
            kind: ManagedKind::ByteArray { len: 84_976 },
            lifetime: Lifetime::Request,
        },
        ManagedAllocation {
            kind: ManagedKind::String { chars: 10_240 },
            lifetime: Lifetime::Forever,
        },
    ];
    let requests = 1_000u64;
    let totals: Vec<ManagedAllocation> = request
        .iter()
        .map(|allocation| {
            let size = allocation.managed_size();
            ManagedAllocation {
                kind: ManagedKind::Sized {
                    bytes: size.bytes * requests,
                    large: size.large,
                },
                lifetime: allocation.lifetime,
            }
        })
        .collect();
    let mut by_request = GcModel::new(Preset::Server, MachineSpec::article(), GcOptions::article());
    let mut by_totals = by_request.clone();
    for _ in 0..4 {
        let expected = by_request
            .feed(&IntervalLoad::new(0.25, requests, request.clone()))
            .unwrap();
        let got = by_totals
            .feed(&IntervalLoad::from_totals(0.25, requests, totals.clone()))
            .unwrap();
        assert_eq!(got, expected);
    }
    assert!(by_totals.collection_counts().gen2 > 0);
    assert_eq!(by_totals.heap(), by_request.heap());
}

#[test]
fn totals_without_requests_change_nothing_but_the_clock() {
    let mut model = GcModel::new(Preset::Server, MachineSpec::article(), no_overhead());
    let totals = vec![ManagedAllocation {
        kind: ManagedKind::Sized {
            bytes: 1 << 30,
            large: true,
        },
        lifetime: Lifetime::Request,
    }];
    let events = model
        .feed(&IntervalLoad::from_totals(0.25, 0, totals))
        .unwrap();
    assert!(events.is_empty());
    assert_eq!(model.heap().total_bytes(), 0);
    assert_eq!(model.now_s(), 0.25);
}

#[test]
fn cohorts_stay_few_however_many_requests() {
    // 35K RPS for 30 s (over a million requests) of request-lived, cached and leaked
    // objects, on and off the LOH: the heap is a handful of cohorts, not a list.
    let per_request = vec![
        ManagedAllocation {
            kind: ManagedKind::ByteArray { len: 84_976 },
            lifetime: Lifetime::Request,
        },
        ManagedAllocation {
            kind: ManagedKind::String { chars: 100 },
            lifetime: Lifetime::For(Duration::from_secs(5)),
        },
        ManagedAllocation {
            kind: ManagedKind::Other { bytes: 64 },
            lifetime: Lifetime::Forever,
        },
    ];
    let mut model = GcModel::new(Preset::Server, MachineSpec::article(), GcOptions::article());
    let load = IntervalLoad::new(1.0, 35_000, per_request).with_request_latency_s(0.001);
    let mut gcs = 0;
    let mut most_cohorts = 0;
    for _ in 0..30 {
        gcs += model.feed(&load).unwrap().len();
        let cohorts: usize = model.spaces.iter().map(|s| s.cohorts.len()).sum();
        most_cohorts = most_cohorts.max(cohorts);
    }
    assert!(gcs > 1000, "{gcs}");
    assert!(most_cohorts <= 16, "{most_cohorts} cohorts");
}

#[test]
fn workstation_escalates_by_time_when_budgets_never_run_out() {
    // Nothing survives (latency 0), so promotions never touch gen1's or gen2's budget:
    // only the clock can condemn them. 1000 RPS × 30,744 B: a gen0 GC about every 0.34 s.
    let mut model = GcModel::new(
        Preset::Workstation,
        MachineSpec::article(),
        GcOptions::article(),
    );
    let load = IntervalLoad::new(1.0, 1000, string_request(10_240, Lifetime::Request));
    let mut events = Vec::new();
    for _ in 0..120 {
        events.extend(model.feed(&load).unwrap());
    }
    let first_gen1 = events
        .iter()
        .find(|e| e.generation == Generation::Gen1)
        .unwrap();
    assert_eq!(first_gen1.reason, GcReason::Gen1Time);
    assert!(
        first_gen1.time_s > 10.0 && first_gen1.index > 10,
        "{first_gen1:?}"
    );
    let first_gen2 = events
        .iter()
        .find(|e| e.generation == Generation::Gen2)
        .unwrap();
    assert_eq!(first_gen2.reason, GcReason::Gen2Time);
    assert!(
        first_gen2.time_s > 100.0 && first_gen2.index > 100,
        "{first_gen2:?}"
    );
    assert!(
        events
            .iter()
            .all(|e| !matches!(e.reason, GcReason::Gen1Budget | GcReason::Gen2Budget))
    );

    // Server has no time escalation: the same load never condemns gen1.
    let mut server = GcModel::new(Preset::Server, MachineSpec::article(), GcOptions::article());
    for _ in 0..120 {
        let events = server.feed(&load).unwrap();
        assert!(events.iter().all(|e| e.generation == Generation::Gen0));
    }
}

#[test]
fn description_names_the_preset_and_says_it_is_a_model() {
    let model = GcModel::new(Preset::Server, MachineSpec::article(), GcOptions::article());
    let text = model.describe();
    eprintln!("{text}");
    for needle in [
        "not a measurement",
        "server preset",
        "8 heap",
        "300.0 MiB",
        "24.0 MiB",
        "×3",
        "10.0 KiB",
    ] {
        assert!(text.contains(needle), "{text:?} lacks {needle:?}");
    }
    let wks = GcModel::new(
        Preset::Workstation,
        MachineSpec::article(),
        GcOptions::article(),
    );
    assert!(!wks.describe().contains("×3"), "{}", wks.describe());
    assert!(wks.describe().contains("gen0 budget 10.0 MiB"));
}
