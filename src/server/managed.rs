//! The cheap tally the pattern handlers record into for the modelled .NET GC lens
//! (`gc_lens.rs`): what each request would allocate in .NET, as its scenario file declares
//! it (`declared.rs`). Endpoints whose scenario has no `[dotnet]` section (`ping`,
//! `clientleak`) record nothing.
//!
//! **The tally.** No list per request: a request adds its objects' sizes to a fixed set of
//! counters, one per heap (SOH, LOH) × lifetime (request, forever, cache expiry) class,
//! each on its own cache lines, plus a request count. Which heap an object lands on is
//! decided by [`ManagedKind::managed_size`], the same code the model uses, so 84,975 vs
//! 84,976 bytes cannot disagree between the two. Every 250 ms the lens swaps the counters
//! out ([`ManagedTally::drain`]) and feeds the model one interval of totals. With the lens
//! off (`--gc-model none`) recording is a branch on a flag and nothing else.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use super::declared::Declarations;
use crate::gcmodel::{Lifetime, ManagedAllocation, ManagedKind};

/// Lifetime classes of the tally: the server's objects live for the request, forever, or
/// until the cache expiry (`--cache-ttl`, the only expiring lifetime the server has).
const LIFETIMES: usize = 3;
/// SOH and LOH.
const HEAPS: usize = 2;
const CLASSES: usize = HEAPS * LIFETIMES;

/// One counter on its own pair of cache lines, so counters bumped by different worker
/// threads never share a line.
#[repr(align(128))]
#[derive(Default)]
struct PaddedCounter(AtomicU64);

/// Bytes and objects recorded in one heap × lifetime class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ClassTotal {
    /// Managed bytes (each object sized by [`ManagedKind::managed_size`]).
    pub(crate) bytes: u64,
    /// Objects (or groups, for [`ManagedKind::Other`]).
    pub(crate) objects: u64,
}

/// What the requests recorded since the previous drain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TallyDrain {
    /// Requests recorded (each adds the framework overhead in the model).
    pub(crate) requests: u64,
    /// Indexed by `large × LIFETIMES + lifetime` (see [`ManagedTally`]).
    classes: [ClassTotal; CLASSES],
}

impl TallyDrain {
    /// The totals as the model's input: one [`ManagedKind::Sized`] allocation per class
    /// that saw bytes, with expiring objects living `cache_ttl`.
    pub(crate) fn allocations(&self, cache_ttl: Duration) -> Vec<ManagedAllocation> {
        self.classes
            .iter()
            .enumerate()
            .filter(|(_, total)| total.bytes > 0)
            .map(|(index, total)| ManagedAllocation {
                kind: ManagedKind::Sized {
                    bytes: total.bytes,
                    large: index / LIFETIMES == 1,
                },
                lifetime: match index % LIFETIMES {
                    0 => Lifetime::Request,
                    1 => Lifetime::Forever,
                    _ => Lifetime::For(cache_ttl),
                },
            })
            .collect()
    }

    /// Bytes recorded on the large-object heap, all lifetimes.
    #[cfg(test)]
    pub(crate) fn loh_bytes(&self) -> u64 {
        self.classes[LIFETIMES..].iter().map(|c| c.bytes).sum()
    }

    /// Bytes recorded on the small-object heap, all lifetimes.
    #[cfg(test)]
    pub(crate) fn soh_bytes(&self) -> u64 {
        self.classes[..LIFETIMES].iter().map(|c| c.bytes).sum()
    }
}

/// The counters the pattern handlers record into (see the module doc).
pub(crate) struct ManagedTally {
    /// False with `--gc-model none`: [`ManagedTally::record`] then does nothing.
    enabled: bool,
    /// What each route's request allocates (empty when disabled).
    declarations: Declarations,
    requests: PaddedCounter,
    bytes: [PaddedCounter; CLASSES],
    objects: [PaddedCounter; CLASSES],
}

/// The class of one allocation.
fn class_of(allocation: &ManagedAllocation) -> (usize, u64) {
    let size = allocation.managed_size();
    let lifetime = match allocation.lifetime {
        Lifetime::Request => 0,
        Lifetime::Forever => 1,
        // The server's only expiring objects are `/api/cache/expiring` entries, all of
        // `--cache-ttl`; the drain gives the class that lifetime back.
        Lifetime::For(_) => 2,
    };
    (usize::from(size.large) * LIFETIMES + lifetime, size.bytes)
}

impl ManagedTally {
    /// Empty counters; `enabled` false makes recording free.
    pub(crate) fn new(enabled: bool) -> ManagedTally {
        ManagedTally {
            enabled,
            declarations: if enabled {
                Declarations::builtin()
            } else {
                Declarations::default()
            },
            requests: PaddedCounter::default(),
            bytes: Default::default(),
            objects: Default::default(),
        }
    }

    /// Records one answered request to `route` (its route template) and the managed
    /// objects it would allocate in .NET, as its scenario declares them. A hash lookup and
    /// a few relaxed atomic adds; allocates nothing. Routes that declare nothing are not
    /// recorded at all.
    pub(crate) fn record(&self, route: &str) {
        self.record_sized(route, 0);
    }

    /// [`ManagedTally::record`] for a sized route (`/api/loh/{size}`): `{size}` is
    /// `size_bytes`.
    pub(crate) fn record_sized(&self, route: &str, size_bytes: u64) {
        if !self.enabled {
            return;
        }
        if let Some(declared) = self.declarations.get(route) {
            self.record_allocations(declared.at_size(size_bytes));
        }
    }

    /// Records one request that allocates `allocations`.
    fn record_allocations(&self, allocations: impl Iterator<Item = ManagedAllocation>) {
        for allocation in allocations {
            let (class, bytes) = class_of(&allocation);
            self.bytes[class].0.fetch_add(bytes, Relaxed);
            self.objects[class].0.fetch_add(1, Relaxed);
        }
        self.requests.0.fetch_add(1, Relaxed);
    }

    /// Takes what was recorded since the previous drain and zeroes the counters. With no
    /// request recorded, the byte counters are left alone: a request whose bytes are in
    /// but whose count is not yet is then fed with the next interval, not without its
    /// request (so totals are never dropped, only at most one interval late).
    pub(crate) fn drain(&self) -> TallyDrain {
        let requests = self.requests.0.swap(0, Relaxed);
        let mut drained = TallyDrain {
            requests,
            ..TallyDrain::default()
        };
        if requests == 0 {
            return drained;
        }
        for (class, total) in drained.classes.iter_mut().enumerate() {
            total.bytes = self.bytes[class].0.swap(0, Relaxed);
            total.objects = self.objects[class].0.swap(0, Relaxed);
        }
        drained
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;
    use crate::scenario;
    use crate::server::test_support::{get, state_with};

    fn tally_of(allocations: &[ManagedAllocation]) -> TallyDrain {
        let tally = ManagedTally::new(true);
        tally.record_allocations(allocations.iter().copied());
        tally.drain()
    }

    #[test]
    fn the_loh_is_decided_by_the_models_layout_rules() {
        let tally = ManagedTally::new(true);
        tally.record_sized("/api/loh/{size}", 84_975);
        let small = tally.drain();
        tally.record_sized("/api/loh/{size}", 84_976);
        let large = tally.drain();
        assert_eq!((small.soh_bytes(), small.loh_bytes()), (84_999, 0));
        assert_eq!((large.soh_bytes(), large.loh_bytes()), (0, 85_000));
        assert_eq!(
            large.allocations(Duration::from_secs(1)),
            vec![ManagedAllocation {
                kind: ManagedKind::Sized {
                    bytes: 85_000,
                    large: true
                },
                lifetime: Lifetime::Request,
            }]
        );
    }

    #[test]
    fn counters_add_up_and_a_drain_empties_them() {
        let tally = ManagedTally::new(true);
        let ttl = Duration::from_millis(500);
        for _ in 0..3 {
            tally.record("/api/bigstring");
            tally.record("/api/cache/expiring");
            tally.record("/api/httpclient2");
        }
        let drained = tally.drain();
        assert_eq!(drained.requests, 9);
        // 3 × 20,504 (bigstring) + 3 × 10,264 (5,120 chars: 22 + 10,240 rounded to 8).
        assert_eq!(drained.soh_bytes(), 3 * 20_504 + 3 * 10_264);
        assert_eq!(
            drained.allocations(ttl),
            vec![
                ManagedAllocation {
                    kind: ManagedKind::Sized {
                        bytes: 3 * 20_504,
                        large: false
                    },
                    lifetime: Lifetime::Request,
                },
                ManagedAllocation {
                    kind: ManagedKind::Sized {
                        bytes: 3 * 10_264,
                        large: false
                    },
                    lifetime: Lifetime::For(ttl),
                },
            ]
        );
        assert_eq!(tally.drain(), TallyDrain::default());
    }

    #[test]
    fn bytes_without_their_request_wait_for_the_next_drain() {
        let tally = ManagedTally::new(true);
        // A request caught between its bytes and its count.
        tally.bytes[0].0.fetch_add(100, Relaxed);
        assert_eq!(tally.drain(), TallyDrain::default());
        tally.requests.0.fetch_add(1, Relaxed);
        assert_eq!(tally.drain().soh_bytes(), 100);
    }

    #[test]
    fn a_disabled_tally_records_nothing() {
        let tally = ManagedTally::new(false);
        tally.record("/api/staticstring");
        assert_eq!(tally.drain(), TallyDrain::default());
    }

    /// For every built-in scenario: one request of its default path through the router
    /// records exactly what its file's `[dotnet]` section declares (nothing at all when it
    /// has none).
    #[tokio::test]
    async fn every_endpoint_records_what_its_scenario_declares() {
        // httpclient1/2 and clientleak call the server itself by default; a real upstream
        // on loopback stands in for it.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = listener.local_addr().unwrap();
        let pong = axum::Router::new().route("/api/ping", axum::routing::get(|| async { "pong" }));
        tokio::spawn(async move { axum::serve(listener, pong).await });
        let state = state_with(|config| config.self_addr = upstream);
        let ttl = state.config.cache_ttl;
        let mut checked = 0;
        for scenario in scenario::builtin() {
            let request = scenario::resolve(&scenario, None, &[]).unwrap();
            state.managed.drain();
            let (status, body) = get(&state, &request.path).await;
            assert_eq!(status, StatusCode::OK, "{}: {body:?}", request.path);
            let recorded = state.managed.drain();
            let declared = scenario
                .dotnet_allocations(&request.params)
                .map(|declared| declared.unwrap());
            for allocation in declared.iter().flatten() {
                if let Lifetime::For(expiry) = allocation.lifetime {
                    assert_eq!(
                        expiry, ttl,
                        "{}: the server's entries live --cache-ttl",
                        scenario.name
                    );
                }
            }
            let expected = declared.map_or_else(TallyDrain::default, |d| tally_of(&d));
            assert_eq!(
                recorded, expected,
                "{} ({}) records what scenarios/{}.toml declares",
                request.path, scenario.name, scenario.name
            );
            assert_eq!(
                recorded.allocations(ttl),
                expected.allocations(ttl),
                "{}",
                scenario.name
            );
            checked += usize::from(scenario.dotnet.is_some());
        }
        assert!(
            checked >= 9,
            "only {checked} scenarios have a [dotnet] section"
        );
    }
}
