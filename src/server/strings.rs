//! The string patterns of the article: `GET /api/bigstring` makes a new 10 KiB string per
//! request and lets it go after the response (transient garbage in .NET, an allocation and
//! a free here); `GET /api/staticstring` makes the same string and keeps a copy in a
//! process-wide list forever (the static-collection leak), up to the leak cap.
//!
//! The article's `new String('x', 10 * 1024)` is 10 Ki UTF-16 characters (20 KiB); here it
//! is 10 Ki ASCII bytes, so 10 KiB per request.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::error::AppError;
use super::leak_cap::LeakCap;
use super::managed::ManagedTally;
use super::state::{Part, SharedState};
use crate::diagnostics::Held;

/// Bytes of the string each request makes.
pub(crate) const BIG_STRING_BYTES: usize = 10 * 1024;

const BIGSTRING: &str = "/api/bigstring";
const STATICSTRING: &str = "/api/staticstring";

/// The route templates of this family.
pub(crate) const ROUTES: &[&str] = &[BIGSTRING, STATICSTRING];

/// What keeping one string adds: the string and its slot in the list.
const KEPT_BYTES_PER_REQUEST: u64 = (BIG_STRING_BYTES + size_of::<String>()) as u64;

/// A fresh string of [`BIG_STRING_BYTES`] `x`s: one heap block, every byte written.
pub(crate) fn big_string() -> String {
    "x".repeat(BIG_STRING_BYTES)
}

/// The process-wide list `/api/staticstring` keeps its strings in.
pub(crate) struct StaticStrings {
    kept: Mutex<Kept>,
    /// Items kept, mirrored so readers need no lock.
    held_items: AtomicU64,
    /// Heap bytes kept (the strings' capacities plus the list's own buffer), mirrored so
    /// the leak-cap check and diagnostics need no lock (the counter is the leak cap's).
    held_bytes: Arc<AtomicU64>,
}

#[derive(Default)]
struct Kept {
    strings: Vec<String>,
    /// Sum of the strings' capacities.
    string_bytes: u64,
}

impl Kept {
    /// The strings' bytes plus the list's buffer (its spare capacity included: it is heap
    /// the leak holds).
    fn heap_bytes(&self) -> u64 {
        self.string_bytes + (self.strings.capacity() * size_of::<String>()) as u64
    }
}

impl StaticStrings {
    /// An empty list whose held bytes count against `leak_cap`.
    pub(crate) fn new(leak_cap: &LeakCap) -> StaticStrings {
        StaticStrings {
            kept: Mutex::new(Kept::default()),
            held_items: AtomicU64::new(0),
            held_bytes: Arc::clone(&leak_cap.staticstring_bytes),
        }
    }

    /// The strings kept and the heap bytes they and the list occupy.
    pub(crate) fn held(&self) -> Held {
        Held {
            items: self.held_items.load(Relaxed),
            bytes: self.held_bytes.load(Relaxed),
        }
    }

    /// Drops every kept string and the list's buffer.
    pub(crate) fn reset(&self) {
        let dropped = {
            let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
            self.held_items.store(0, Relaxed);
            self.held_bytes.store(0, Relaxed);
            std::mem::take(&mut *kept)
        };
        // Freed outside the lock: a gibibyte of frees should not stall the next request.
        drop(dropped);
    }

    /// Keeps `string` unless that would take the leaking endpoints past the leak cap.
    fn keep(&self, leak_cap: &LeakCap, string: String) -> Result<(), AppError> {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        leak_cap.check(STATICSTRING, KEPT_BYTES_PER_REQUEST)?;
        kept.string_bytes += string.capacity() as u64;
        kept.strings.push(string);
        self.held_items.store(kept.strings.len() as u64, Relaxed);
        self.held_bytes.store(kept.heap_bytes(), Relaxed);
        Ok(())
    }
}

async fn bigstring(State(managed): State<Part<ManagedTally>>) -> String {
    managed.record(BIGSTRING);
    big_string()
}

async fn staticstring(
    State(strings): State<Part<StaticStrings>>,
    State(leak_cap): State<LeakCap>,
    State(managed): State<Part<ManagedTally>>,
) -> Result<String, AppError> {
    // Once the cap is reached every request is refused: refuse before allocating, so the
    // refusals do not churn the heap (`keep` checks again, under the lock).
    leak_cap.check(STATICSTRING, KEPT_BYTES_PER_REQUEST)?;
    let string = big_string();
    strings.keep(&leak_cap, string.clone())?;
    managed.record(STATICSTRING);
    Ok(string)
}

/// `GET /api/bigstring`, `GET /api/staticstring`.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route(BIGSTRING, get(bigstring))
        .route(STATICSTRING, get(staticstring))
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;
    use crate::memory::thread_heap_counters;
    use crate::server::test_support::{get, json, send, state, state_with};

    /// This thread's shard. `#[tokio::test]` runs the router on the test's own thread, so
    /// the handlers' allocations land here and other tests' do not; growth is
    /// `net_bytes_since` (a shard's own live bytes saturate at zero).
    fn thread_counters() -> crate::memory::HeapCounters {
        thread_heap_counters()
    }

    #[tokio::test]
    async fn staticstring_keeps_ten_kib_per_request_and_bigstring_keeps_nothing() {
        let state = state();
        // Warm up once each, so lazily built router and runtime parts are not measured.
        get(&state, BIGSTRING).await;
        get(&state, STATICSTRING).await;
        let requests = 200u64;
        let string_bytes = BIG_STRING_BYTES as u64;

        let before = thread_counters();
        for _ in 0..requests {
            let (status, body) = get(&state, BIGSTRING).await;
            assert_eq!((status, body.len()), (StatusCode::OK, BIG_STRING_BYTES));
        }
        let bigstring_growth = thread_counters().net_bytes_since(&before);
        assert!(
            bigstring_growth < string_bytes as i64,
            "{requests} bigstring requests left {bigstring_growth} bytes live"
        );

        let held_before = state.strings.held();
        let before = thread_counters();
        for _ in 0..requests {
            let (status, body) = get(&state, STATICSTRING).await;
            assert_eq!((status, body.len()), (StatusCode::OK, BIG_STRING_BYTES));
        }
        let staticstring_growth = thread_counters().net_bytes_since(&before).max(0) as u64;
        let kept_bytes = requests * string_bytes;
        // The list's buffer at most doubles past what it holds.
        let list_bytes = 2 * (requests + 1) * size_of::<String>() as u64;
        assert!(
            (kept_bytes..kept_bytes + list_bytes + 4096).contains(&staticstring_growth),
            "{requests} staticstring requests grew the live heap by {staticstring_growth} bytes, \
             expected {kept_bytes} plus the list"
        );
        let held = state.strings.held();
        assert_eq!(held.items - held_before.items, requests);
        let held_growth = held.bytes - held_before.bytes;
        assert!(
            held_growth.abs_diff(staticstring_growth) <= 4096,
            "held grew {held_growth}, live heap {staticstring_growth}"
        );
    }

    #[tokio::test]
    async fn the_leak_cap_answers_507_for_both_leaking_endpoints_until_a_reset() {
        let entry_bytes = KEPT_BYTES_PER_REQUEST;
        // Room for three strings and their list (4 slots once the first one is kept): each
        // check asks for a string and one slot on top of what is held.
        let cap = 3 * entry_bytes + 4 * size_of::<String>() as u64;
        let state = state_with(|config| config.leak_cap_bytes = cap);
        for _ in 0..3 {
            assert_eq!(get(&state, STATICSTRING).await.0, StatusCode::OK);
        }
        assert!(state.strings.held().bytes + entry_bytes > cap);
        for path in [STATICSTRING, "/api/cache/unbounded"] {
            let (status, body) = get(&state, path).await;
            assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{path}");
            let error = json(&body);
            let message = error["error"].as_str().unwrap();
            assert!(message.contains("--leak-cap"), "{message}");
            assert!(message.contains("POST /api/reset"), "{message}");
            assert!(message.contains(&cap.to_string()), "{message}");
            assert_eq!(error["kind"], crate::error_labels::LEAK_CAP_REACHED);
        }
        assert_eq!(
            state.strings.held().items,
            3,
            "a refused string is not kept"
        );
        assert_eq!(
            state.errors.snapshot()[crate::error_labels::LEAK_CAP_REACHED],
            2
        );

        let (status, body) = send(&state, "POST", "/api/reset").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(json(&body)["dropped"]["staticstring"]["items"], 3);
        assert_eq!(get(&state, STATICSTRING).await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_reset_answers_and_frees_what_staticstring_holds() {
        let state = state();
        let requests = 50u64;
        for _ in 0..requests {
            get(&state, STATICSTRING).await;
        }
        let held = state.strings.held();
        assert_eq!(held.items, requests);
        let (status, body) = send(&state, "POST", "/api/reset").await;
        assert_eq!(status, StatusCode::OK);
        let dropped = &json(&body)["dropped"]["staticstring"];
        assert_eq!(dropped["items"], requests);
        assert_eq!(dropped["bytes"], held.bytes);
        assert_eq!(state.strings.held(), Held::default());

        // The handler frees on the blocking pool; reset the family on this thread to see
        // its frees in this thread's counters.
        for _ in 0..requests {
            get(&state, STATICSTRING).await;
        }
        let held = state.strings.held();
        let before = thread_counters();
        state.strings.reset();
        let freed = (-thread_counters().net_bytes_since(&before)) as u64;
        assert_eq!(freed, held.bytes, "what a reset frees is what held() said");
    }
}
