//! The pattern server (`membench serve`): axum endpoints that each reproduce one memory
//! pattern of the ASP.NET Core memory article and the leak post-mortems behind it, and the
//! server's own measurements.
//!
//! * [`ServerConfig`] (`config.rs`): every setting, its `Default` the one source of the
//!   defaults of `membench serve`.
//! * [`app`] builds the router from an [`AppState`] (tests call it with `oneshot`).
//! * [`serve`] binds, prints `listening on http://ADDR` as the first stdout line, and
//!   shuts down gracefully on Ctrl-C or SIGTERM (`serve.rs`).
//! * One file per pattern family: `strings.rs` (bigstring, staticstring), `buffers.rs`
//!   (loh, array, pooledarray), `cache.rs`, `clients.rs`, `fileprovider.rs`, `operations.rs`, `ping.rs`;
//!   `leak_cap.rs` is the cap the leaking ones share. Each exports its `ROUTES` and
//!   `routes()`, listed once in `FAMILIES` below; its handlers extract only the parts of
//!   the state they use (`state.rs` is the one file that knows them all).
//! * The measurements: [`crate::diagnostics`] is the JSON contract with the sampler,
//!   `measurements.rs` serves it, `history.rs` keeps its last five minutes, `metrics.rs` renders it for Prometheus, `admin.rs`
//!   holds collect and reset, `requests.rs` the counting middleware.
//! * The modelled .NET GC lens (`--gc-model`): `declared.rs` reads what each pattern
//!   request would allocate in .NET from the scenario files' `[dotnet]` sections,
//!   `managed.rs` tallies it per request, `gc_lens.rs` feeds the tally to the model every
//!   250 ms. A model, labelled as one wherever it is shown.
//!
//! Every failure is an [`AppError`] answered as JSON, including unknown paths (404) and
//! wrong methods (405), so a client always gets a message that says what to do.

mod accept;
mod admin;
mod buffers;
mod cache;
mod clientleak;
mod clients;
pub mod config;
mod dashboard;
mod declared;
mod error;
mod fileprovider;
mod gc_lens;
mod guard;
mod history;
mod leak_cap;
mod limits;
mod loopback;
mod managed;
mod measurements;
mod metrics;
mod operations;
mod ping;
mod requests;
mod serve;
mod state;
mod strings;
mod upstream;

use axum::Router;
use axum::extract::MatchedPath;
use axum::http::{Method, Uri};

pub use config::ServerConfig;
pub(crate) use error::AppError;
pub use guard::check_bind;
pub use serve::serve;
pub use state::SharedState;

/// A family of endpoints as its file exports it: its route templates (counted on the
/// request counters' fast path and listed in 404 answers) and its router.
struct Family {
    routes: &'static [&'static str],
    router: fn() -> Router<SharedState>,
}

/// Every family, in the order of the endpoint list. A new pattern is its family file, its
/// scenario file (`scenarios/*.toml`, which also declares its .NET allocations) and, for a
/// new family, one line here.
const FAMILIES: &[Family] = &[
    Family {
        routes: ping::ROUTES,
        router: ping::routes,
    },
    Family {
        routes: strings::ROUTES,
        router: strings::routes,
    },
    Family {
        routes: buffers::ROUTES,
        router: buffers::routes,
    },
    Family {
        routes: cache::ROUTES,
        router: cache::routes,
    },
    Family {
        routes: clients::ROUTES,
        router: clients::routes,
    },
    Family {
        routes: fileprovider::ROUTES,
        router: fileprovider::routes,
    },
    Family {
        routes: operations::ROUTES,
        router: operations::routes,
    },
    Family {
        routes: measurements::ROUTES,
        router: measurements::routes,
    },
    Family {
        routes: history::ROUTES,
        router: history::routes,
    },
    Family {
        routes: metrics::ROUTES,
        router: metrics::routes,
    },
    Family {
        routes: admin::ROUTES,
        router: admin::routes,
    },
];

/// Every route template the server answers, in the order of the endpoint list.
pub(crate) fn known_routes() -> Vec<&'static str> {
    FAMILIES
        .iter()
        .flat_map(|family| family.routes)
        .copied()
        .collect()
}

/// The whole router: every family's routes, JSON 404 and 405 answers, and request
/// counting (applied to every route and the fallback).
///
/// No per-request tracing layer: `tower_http`'s `TraceLayer` costs 5 allocations per
/// request even with its spans filtered out, and every allocation the server makes on its
/// own shows up in the allocation rate the scenarios measure.
pub fn app(state: SharedState) -> Router {
    FAMILIES
        .iter()
        .fold(Router::new(), |router, family| {
            router.merge((family.router)())
        })
        // The page, not an endpoint: its routes are not among the known routes.
        .merge(dashboard::routes())
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(guard::GuardLayer::new(state.config.self_addr))
        .layer(requests::CountRequestsLayer::new(state.clone()))
        .with_state(state)
}

async fn not_found(method: Method, uri: Uri) -> AppError {
    AppError::NotFound(format!(
        "no endpoint at {method} {:?}; the endpoints are {} (sizes in bytes, e.g. \
         /api/loh/85000; `membench list` describes each pattern)",
        uri.path(),
        known_routes().join(", ")
    ))
}

async fn method_not_allowed(method: Method, uri: Uri, matched: Option<MatchedPath>) -> AppError {
    let route = matched.map_or_else(|| uri.path().to_string(), |m| m.as_str().to_string());
    AppError::MethodNotAllowed(format!(
        "{method} is not allowed on {route}; the pattern endpoints answer GET, collect and \
         reset answer POST (this response's Allow header lists what {route} accepts)"
    ))
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Driving the router in-process, as the handlers' tests do.

    use axum::body::{Body, Bytes};
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use state::AppState;

    /// A state with the defaults of `membench serve` (self address unused in-process).
    pub fn state() -> SharedState {
        state_with(|_| {})
    }

    /// A state with the defaults changed by `change`.
    pub fn state_with(change: impl FnOnce(&mut ServerConfig)) -> SharedState {
        let mut config = ServerConfig {
            self_addr: "127.0.0.1:9".parse().unwrap(),
            ..ServerConfig::default()
        };
        change(&mut config);
        AppState::new(config).unwrap()
    }

    /// Sends one request through the router and reads the whole body (which drops the
    /// response, so a pooled buffer goes back before this returns).
    pub async fn send(state: &SharedState, method: &str, path: &str) -> (StatusCode, Bytes) {
        let (status, _, body) = send_with_headers(state, method, path).await;
        (status, body)
    }

    /// [`send`], with the response's headers.
    pub async fn send_with_headers(
        state: &SharedState,
        method: &str,
        path: &str,
    ) -> (StatusCode, axum::http::HeaderMap, Bytes) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        let response = app(state.clone()).oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        (parts.status, parts.headers, body)
    }

    /// `GET path`.
    pub async fn get(state: &SharedState, path: &str) -> (StatusCode, Bytes) {
        send(state, "GET", path).await
    }

    /// A real upstream on 127.0.0.1:0 serving `/api/ping` (`pong`), for as long as the
    /// test runtime lives: what the client endpoints call.
    pub async fn start_upstream() -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/api/ping", axum::routing::get(|| async { "pong" }));
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    /// A server whose own address (the client endpoints' default upstream) is `addr`.
    pub fn state_upstream(addr: std::net::SocketAddr) -> SharedState {
        state_with(|config| config.self_addr = addr)
    }

    /// The body as JSON.
    pub fn json(body: &[u8]) -> serde_json::Value {
        serde_json::from_slice(body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", String::from_utf8_lossy(body)))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::test_support::{get, json, send, state};
    use super::*;

    #[tokio::test]
    async fn an_unknown_path_is_a_json_404_that_lists_the_endpoints_and_counts_as_unmatched() {
        let state = state();
        // Not `/`: that is the dashboard's, once it is merged.
        for path in ["/no/such/path", "/api/no-such-endpoint"] {
            let (status, body) = get(&state, path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            let error = json(&body);
            let message = error["error"].as_str().unwrap();
            assert!(message.contains(&format!("{path:?}")), "{message}");
            assert!(message.contains("/api/loh/{size}"), "{message}");
            assert_eq!(error["kind"], "not found");
        }
        assert_eq!(state.requests.snapshot()[requests::UNMATCHED], 2);
        assert_eq!(state.errors.snapshot()["not found"], 2);
    }

    #[tokio::test]
    async fn requests_are_counted_under_their_route_template() {
        let state = state();
        get(&state, "/api/loh/1000").await;
        get(&state, "/api/loh/2000").await;
        get(&state, "/api/ping").await;
        let counts = state.requests.snapshot();
        assert_eq!(counts["/api/loh/{size}"], 2, "{counts:?}");
        assert_eq!(counts["/api/ping"], 1, "{counts:?}");
        assert_eq!(counts.values().sum::<u64>(), 3, "{counts:?}");
    }

    #[tokio::test]
    async fn a_route_outside_the_known_table_is_still_counted() {
        let state = state();
        let router = Router::new()
            .route("/extra/{id}", axum::routing::get(|| async { "extra" }))
            .layer(requests::CountRequestsLayer::new(state.clone()))
            .with_state(state.clone());
        for _ in 0..3 {
            let request = axum::http::Request::get("/extra/7")
                .body(axum::body::Body::empty())
                .unwrap();
            let response = tower::ServiceExt::oneshot(router.clone(), request)
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
        }
        assert_eq!(state.requests.snapshot()["/extra/{id}"], 3);
    }

    #[tokio::test]
    async fn a_wrong_method_is_a_json_405() {
        let state = state();
        for path in ["/api/collect", "/api/reset"] {
            let (status, body) = get(&state, path).await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
            let message = json(&body)["error"].as_str().unwrap().to_string();
            assert!(message.contains("POST"), "{message}");
            assert!(message.contains(path), "{message}");
        }
        let (status, body) = send(&state, "POST", "/api/bigstring").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(json(&body)["error"].as_str().unwrap().contains("GET"));
        assert_eq!(state.errors.snapshot()["method not allowed"], 3);
    }

    #[tokio::test]
    async fn every_endpoint_of_the_core_answers() {
        let state = state();
        for path in [
            "/api/ping",
            "/api/bigstring",
            "/api/staticstring",
            "/api/loh",
            "/api/loh/84976",
            "/api/array/1000",
            "/api/pooledarray/1000",
            "/api/cache/unbounded",
            "/api/cache/expiring",
            "/api/diagnostics",
            "/metrics",
        ] {
            let (status, body) = get(&state, path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body:?}");
            assert!(!body.is_empty(), "{path}");
        }
        for path in ["/api/collect", "/api/reset"] {
            let (status, body) = send(&state, "POST", path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body:?}");
            json(&body);
        }
    }

    #[test]
    fn known_routes_are_unique() {
        let routes = known_routes();
        let unique: std::collections::BTreeSet<_> = routes.iter().collect();
        assert_eq!(unique.len(), routes.len(), "{routes:?}");
    }
}
