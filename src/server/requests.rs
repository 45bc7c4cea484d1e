//! Request counting per endpoint and error counting by kind: the `requests` and `errors`
//! of `/api/diagnostics`, and the tower layer that feeds both ([`CountRequestsLayer`]).
//!
//! The layer runs on every request, so the common case costs one linear scan of a
//! short table of route templates (string compares that mostly stop at the length) and
//! one relaxed atomic add on a counter that has its own cache lines. There is no lock on
//! that path: the table of known routes is fixed when the state is built. A route that is
//! not in the table (one added by a family later, say) is still counted, in a map behind
//! an `RwLock`: correct, just slower. Errors are rare, so their map sits behind a `Mutex`.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, RwLock};
use std::task::{Context, Poll, ready};

use axum::extract::MatchedPath;
use axum::http::Request;
use axum::response::Response;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use super::error::ErrorKind;
use super::state::SharedState;

/// The key under which requests to no route are counted.
pub(crate) const UNMATCHED: &str = "unmatched";

/// One counter on its own pair of cache lines, so counters bumped by different worker
/// threads never share a line.
#[repr(align(128))]
#[derive(Default)]
struct PaddedCounter(AtomicU64);

/// Where one request is counted, decided before the handler runs.
pub(crate) enum Slot {
    /// Index into the table of known routes.
    Known(usize),
    /// No route matched (the 404 fallback).
    Unmatched,
    /// A route outside the table.
    Other(MatchedPath),
}

/// Requests answered per endpoint (route template) since the server started.
pub(crate) struct RequestCounters {
    /// Route templates known when the state was built, e.g. `/api/loh/{size}`.
    routes: Box<[&'static str]>,
    /// `counts[i]` counts `routes[i]`.
    counts: Box<[PaddedCounter]>,
    unmatched: PaddedCounter,
    /// Routes that are not in `routes`.
    others: RwLock<HashMap<Box<str>, AtomicU64>>,
}

impl RequestCounters {
    /// Counters with a lock-free slot for each of these route templates.
    pub(crate) fn new(routes: Vec<&'static str>) -> RequestCounters {
        let counts = routes.iter().map(|_| PaddedCounter::default()).collect();
        RequestCounters {
            routes: routes.into_boxed_slice(),
            counts,
            unmatched: PaddedCounter::default(),
            others: RwLock::new(HashMap::new()),
        }
    }

    fn slot(&self, matched: Option<&MatchedPath>) -> Slot {
        match matched {
            None => Slot::Unmatched,
            Some(matched) => match self.routes.iter().position(|r| *r == matched.as_str()) {
                Some(index) => Slot::Known(index),
                None => Slot::Other(matched.clone()),
            },
        }
    }

    fn record(&self, slot: Slot) {
        match slot {
            Slot::Known(index) => {
                self.counts[index].0.fetch_add(1, Relaxed);
            }
            Slot::Unmatched => {
                self.unmatched.0.fetch_add(1, Relaxed);
            }
            Slot::Other(matched) => {
                let route = matched.as_str();
                let others = self.others.read().unwrap_or_else(|p| p.into_inner());
                if let Some(counter) = others.get(route) {
                    counter.fetch_add(1, Relaxed);
                    return;
                }
                drop(others);
                let mut others = self.others.write().unwrap_or_else(|p| p.into_inner());
                others
                    .entry(route.into())
                    .or_default()
                    .fetch_add(1, Relaxed);
            }
        }
    }

    /// Counts per endpoint; endpoints never requested are left out.
    pub(crate) fn snapshot(&self) -> BTreeMap<String, u64> {
        let mut counts: BTreeMap<String, u64> = self
            .routes
            .iter()
            .zip(self.counts.iter())
            .map(|(route, count)| (route.to_string(), count.0.load(Relaxed)))
            .filter(|(_, count)| *count > 0)
            .collect();
        let unmatched = self.unmatched.0.load(Relaxed);
        if unmatched > 0 {
            counts.insert(UNMATCHED.to_string(), unmatched);
        }
        let others = self.others.read().unwrap_or_else(|p| p.into_inner());
        for (route, count) in others.iter() {
            counts.insert(route.to_string(), count.load(Relaxed));
        }
        counts
    }
}

/// Failures by kind (`leak cap reached`, `bad request`, `address not available`, …).
///
/// Every handler error that becomes an [`AppError`](super::AppError) response is counted
/// by the middleware through its [`ErrorKind`] extension; call [`ErrorCounters::record`]
/// directly only for failures that do not end in an error response.
#[derive(Default)]
pub(crate) struct ErrorCounters(Mutex<BTreeMap<String, u64>>);

impl ErrorCounters {
    /// Counts one failure of this kind.
    pub(crate) fn record(&self, kind: &str) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // Look up before inserting: a flood of one error kind then allocates nothing.
        match map.get_mut(kind) {
            Some(count) => *count += 1,
            None => {
                map.insert(kind.to_string(), 1);
            }
        }
    }

    /// Failures per kind since the server started.
    pub(crate) fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The counting middleware as a tower layer: counts each answered request under its
/// route template (or `unmatched`), and each error response under its kind. A request
/// whose client went away before the answer is not counted: it was never answered.
///
/// Hand-written rather than `axum::middleware::from_fn`, which boxes a clone of the
/// inner service and the future on every request: 7 allocations and 1.5 KiB per request
/// here, which every scenario's allocation rate would then include. This one allocates
/// nothing itself; applying any layer with `Router::layer` costs 3 allocations per
/// request (axum boxes the layered route again), the price of knowing the matched route.
#[derive(Clone)]
pub(crate) struct CountRequestsLayer {
    state: SharedState,
}

impl CountRequestsLayer {
    /// Counts into `state.requests` and `state.errors`.
    pub(crate) fn new(state: SharedState) -> CountRequestsLayer {
        CountRequestsLayer { state }
    }
}

impl<S> Layer<S> for CountRequestsLayer {
    type Service = CountRequests<S>;

    fn layer(&self, inner: S) -> CountRequests<S> {
        CountRequests {
            inner,
            state: self.state.clone(),
        }
    }
}

/// The service of [`CountRequestsLayer`] around one route (or the fallback).
#[derive(Clone)]
pub(crate) struct CountRequests<S> {
    inner: S,
    state: SharedState,
}

impl<S, B> Service<Request<B>> for CountRequests<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Counted<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The route is known now; the request is gone once the handler has it.
        let slot = self
            .state
            .requests
            .slot(request.extensions().get::<MatchedPath>());
        Counted {
            inner: self.inner.call(request),
            slot: Some(slot),
            state: self.state.clone(),
        }
    }
}

pin_project! {
    /// A response on its way; counted when it is ready.
    pub(crate) struct Counted<F> {
        #[pin]
        inner: F,
        slot: Option<Slot>,
        state: SharedState,
    }
}

impl<F, E> Future for Counted<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let (Ok(response), Some(slot)) = (&result, this.slot.take()) {
            this.state.requests.record(slot);
            if let Some(ErrorKind(kind)) = response.extensions().get::<ErrorKind>() {
                this.state.errors.record(kind);
            }
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_unmatched_and_other_routes_are_each_counted() {
        let counters = RequestCounters::new(vec!["/api/a", "/api/b/{size}"]);
        // MatchedPath has no public constructor; build the slots the middleware would.
        counters.record(Slot::Known(1));
        counters.record(Slot::Known(1));
        counters.record(Slot::Unmatched);
        let snapshot = counters.snapshot();
        assert_eq!(snapshot.get("/api/b/{size}"), Some(&2));
        assert_eq!(snapshot.get(UNMATCHED), Some(&1));
        assert_eq!(snapshot.get("/api/a"), None, "never requested: left out");
    }

    #[test]
    fn errors_are_counted_by_kind() {
        let errors = ErrorCounters::default();
        errors.record("bad request");
        errors.record("bad request");
        errors.record("leak cap reached");
        let snapshot = errors.snapshot();
        assert_eq!(snapshot["bad request"], 2);
        assert_eq!(snapshot["leak cap reached"], 1);
    }

    /// Allocations this thread makes while `router` answers 100 `GET /ping`.
    async fn allocations_per_100_requests(router: axum::Router) -> u64 {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let ping = || {
            Request::get("/ping")
                .body(axum::body::Body::empty())
                .unwrap()
        };
        // Warm up: lazily built parts of the router and runtime are not per request.
        for _ in 0..10 {
            router.clone().oneshot(ping()).await.unwrap();
        }
        let before = crate::memory::thread_heap_counters().alloc_count;
        for _ in 0..100 {
            let response = router.clone().oneshot(ping()).await.unwrap();
            response.into_body().collect().await.unwrap();
        }
        crate::memory::thread_heap_counters().alloc_count - before
    }

    #[tokio::test]
    async fn counting_a_request_allocates_nothing_beyond_what_any_layer_costs() {
        let state = crate::server::test_support::state();
        let routes = || axum::Router::new().route("/ping", axum::routing::get(|| async { "pong" }));
        // A layer that does nothing still makes axum box each route once more.
        let identity = routes()
            .layer(tower::layer::util::Identity::new())
            .with_state(state.clone());
        let identity = allocations_per_100_requests(identity).await;
        let counted = routes()
            .layer(CountRequestsLayer::new(state.clone()))
            .with_state(state.clone());
        let counted = allocations_per_100_requests(counted).await;
        assert_eq!(
            counted, identity,
            "allocations per 100 requests: empty layer {identity}, counting layer {counted}"
        );
        assert_eq!(state.requests.snapshot()["/ping"], 110);
    }
}
