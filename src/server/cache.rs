//! The cache patterns of the .NET `MemoryCache` post-mortem: each request puts a 10 KiB
//! entry under a fresh key into a process-wide cache (moka). `GET /api/cache/unbounded`
//! sets no expiry, so the cache only grows (a leak, under the leak cap);
//! `GET /api/cache/expiring` sets an absolute expiry (`--cache-ttl`), so what it holds is
//! bounded by request rate × TTL. The body is the entry's key.
//!
//! Numbers: moka counts entries and weights (here: the value's bytes plus the key's)
//! lazily, in maintenance tasks that run as requests come. Diagnostics run those tasks
//! first so they report what is held now; the requests do not (that would serialise them).
//! The leak-cap check needs an exact number on every request, so the unbounded cache also
//! keeps its own byte count, which is exact because nothing ever leaves that cache but a
//! reset. Neither number includes moka's own bookkeeping per entry; the live heap does.

use std::sync::Arc;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use moka::sync::Cache;

use super::config::ServerConfig;
use super::error::AppError;
use super::leak_cap::LeakCap;
use super::managed::ManagedTally;
use super::state::{Part, SharedState};
use super::strings::{BIG_STRING_BYTES, big_string};
use crate::diagnostics::Held;

const UNBOUNDED: &str = "/api/cache/unbounded";
const EXPIRING: &str = "/api/cache/expiring";

/// The route templates of this family.
pub(crate) const ROUTES: &[&str] = &[UNBOUNDED, EXPIRING];

/// The weight of every entry: a [`big_string`] and its key.
const ENTRY_BYTES: u64 = (BIG_STRING_BYTES + size_of::<u64>()) as u64;

/// A cache of 10 KiB strings under integer keys.
type EntryCache = Cache<u64, String>;

/// What each cache holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CacheHeld {
    /// `/api/cache/unbounded`: every entry since the last reset.
    pub(crate) unbounded: Held,
    /// `/api/cache/expiring`: the entries not yet expired.
    pub(crate) expiring: Held,
}

/// The two process-wide caches.
pub(crate) struct Caches {
    /// Inserts hold the read lock and a reset the write lock, so a reset cannot interleave
    /// with an insert and `unbounded_bytes` stays exact. A reset replaces the cache: the
    /// old one, and every entry in it, is freed at once.
    unbounded: RwLock<EntryCache>,
    /// Bytes (weights) inserted into `unbounded` since the last reset (the counter is the
    /// leak cap's).
    unbounded_bytes: Arc<AtomicU64>,
    /// Locked like `unbounded`, so a reset can replace it too.
    expiring: RwLock<EntryCache>,
    /// Absolute expiry of `expiring`'s entries (`--cache-ttl`).
    ttl: Duration,
    /// The next fresh key, shared by both caches.
    next_key: AtomicU64,
}

/// An entry's weight: the value's heap bytes and the key's bytes.
fn entry_bytes(value: &String) -> u64 {
    (value.capacity() + size_of::<u64>()) as u64
}

fn unbounded_cache() -> EntryCache {
    Cache::builder()
        .weigher(|_key, value: &String| u32::try_from(entry_bytes(value)).unwrap_or(u32::MAX))
        .build()
}

fn expiring_cache(ttl: Duration) -> EntryCache {
    Cache::builder()
        .weigher(|_key, value: &String| u32::try_from(entry_bytes(value)).unwrap_or(u32::MAX))
        .time_to_live(ttl)
        .build()
}

/// Items and weighted bytes of a cache after running its pending maintenance (which also
/// evicts expired entries).
fn held_now(cache: &RwLock<EntryCache>) -> Held {
    let cache = cache.read().unwrap_or_else(|p| p.into_inner());
    cache.run_pending_tasks();
    Held {
        items: cache.entry_count(),
        bytes: cache.weighted_size(),
    }
}

impl Caches {
    /// Two empty caches; entries of the expiring one live `config.cache_ttl`.
    pub(crate) fn new(config: &ServerConfig, leak_cap: &LeakCap) -> Caches {
        Caches {
            unbounded: RwLock::new(unbounded_cache()),
            unbounded_bytes: Arc::clone(&leak_cap.unbounded_bytes),
            expiring: RwLock::new(expiring_cache(config.cache_ttl)),
            ttl: config.cache_ttl,
            next_key: AtomicU64::new(0),
        }
    }

    /// Each cache on its own, current (runs pending maintenance; not for the hot path).
    pub(crate) fn held_each(&self) -> CacheHeld {
        CacheHeld {
            unbounded: held_now(&self.unbounded),
            expiring: held_now(&self.expiring),
        }
    }

    /// Empties both caches, freeing their entries.
    pub(crate) fn reset(&self) {
        let old_unbounded = {
            let mut cache = self.unbounded.write().unwrap_or_else(|p| p.into_inner());
            self.unbounded_bytes.store(0, Relaxed);
            std::mem::replace(&mut *cache, unbounded_cache())
        };
        let old_expiring = {
            let mut cache = self.expiring.write().unwrap_or_else(|p| p.into_inner());
            std::mem::replace(&mut *cache, expiring_cache(self.ttl))
        };
        // Freed outside the locks, so requests go on meanwhile.
        drop((old_unbounded, old_expiring));
    }

    fn fresh_key(&self) -> u64 {
        self.next_key.fetch_add(1, Relaxed)
    }
}

async fn unbounded(
    State(caches): State<Part<Caches>>,
    State(leak_cap): State<LeakCap>,
    State(managed): State<Part<ManagedTally>>,
) -> Result<String, AppError> {
    let cache = caches.unbounded.read().unwrap_or_else(|p| p.into_inner());
    // Checked before the entry is made: once the cap is reached, refusals allocate nothing.
    leak_cap.check(UNBOUNDED, ENTRY_BYTES)?;
    let value = big_string();
    let key = caches.fresh_key();
    let adding_bytes = entry_bytes(&value);
    cache.insert(key, value);
    caches.unbounded_bytes.fetch_add(adding_bytes, Relaxed);
    managed.record(UNBOUNDED);
    Ok(key.to_string())
}

async fn expiring(
    State(caches): State<Part<Caches>>,
    State(managed): State<Part<ManagedTally>>,
) -> String {
    let key = caches.fresh_key();
    let cache = caches.expiring.read().unwrap_or_else(|p| p.into_inner());
    cache.insert(key, big_string());
    managed.record(EXPIRING);
    key.to_string()
}

/// `GET /api/cache/unbounded`, `GET /api/cache/expiring`.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route(UNBOUNDED, get(unbounded))
        .route(EXPIRING, get(expiring))
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use axum::http::StatusCode;

    use super::*;
    use crate::server::test_support::{get, state, state_with};

    #[tokio::test]
    async fn each_request_adds_an_entry_under_a_fresh_key() {
        let state = state();
        let requests = 30u64;
        let mut keys = std::collections::BTreeSet::new();
        for path in [UNBOUNDED, EXPIRING] {
            for _ in 0..requests {
                let (status, body) = get(&state, path).await;
                assert_eq!(status, StatusCode::OK);
                keys.insert(String::from_utf8(body.to_vec()).unwrap());
            }
        }
        assert_eq!(keys.len() as u64, 2 * requests, "keys repeat");
        let held = state.caches.held_each();
        let expected = Held {
            items: requests,
            bytes: requests * ENTRY_BYTES,
        };
        assert_eq!(held.unbounded, expected);
        // The default TTL (500 ms) outlives this test's few milliseconds of requests
        // unless the machine stalls; then fewer entries are held, never more.
        assert!(held.expiring.items <= requests && held.expiring.bytes <= expected.bytes);
        assert_eq!(state.leak_cap.unbounded_bytes.load(Relaxed), expected.bytes);
    }

    #[tokio::test]
    async fn expiring_entries_go_after_their_ttl_and_unbounded_ones_stay() {
        let state = state_with(|config| config.cache_ttl = Duration::from_millis(20));
        for _ in 0..10 {
            get(&state, EXPIRING).await;
            get(&state, UNBOUNDED).await;
        }
        // Poll with a bounded deadline: expiry is a matter of time, not of a signal.
        let deadline = Instant::now() + Duration::from_secs(10);
        while state.caches.held_each().expiring.items > 0 {
            assert!(Instant::now() < deadline, "expired entries are still held");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(state.caches.held_each().unbounded.items, 10);
    }

    #[tokio::test]
    async fn a_reset_empties_both_caches() {
        let state = state();
        for _ in 0..5 {
            get(&state, EXPIRING).await;
            get(&state, UNBOUNDED).await;
        }
        state.caches.reset();
        assert_eq!(state.caches.held_each(), CacheHeld::default());
        assert_eq!(state.leak_cap.unbounded_bytes.load(Relaxed), 0);
        get(&state, UNBOUNDED).await;
        assert_eq!(state.caches.held_each().unbounded.items, 1);
    }
}
