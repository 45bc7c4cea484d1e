//! The client patterns: a new HTTP client per request vs one shared client (the article's
//! httpclient1/httpclient2), and a client connection per request that is never closed
//! (`/api/clientleak`, in [`super::clientleak`]).
//!
//! * `GET /api/httpclient1?url=U` builds a hyper-util client, sends one request and drops
//!   the client. Dropping it drops its pool, so the client end closes the connection first
//!   and that end stays in TIME_WAIT (60 s on Linux): under load the TIME_WAIT sockets
//!   pile up until no ephemeral port is left (`address not available`).
//! * `GET /api/httpclient2?url=U` uses the one client of [`Clients`], whose keep-alive pool
//!   reuses a few connections: no TIME_WAIT growth.
//!
//! `U` defaults to the server's own `/api/ping` and must pass the loopback guard
//! ([`super::loopback`]); the request goes to the IP the guard checked.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, Request, header};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde::{Deserialize, Serialize};

use super::clientleak::{ClientLeaks, LeakedReply};
use super::config::ServerConfig;
use super::error::AppError;
use super::loopback::{LoopbackUrl, parse_loopback_url, self_upstream_addr};
use super::managed::ManagedTally;
use super::state::{Part, SharedState};
use super::upstream::{
    UPSTREAM_TIMEOUT, UpstreamReply, count_body_bytes, upstream_error, upstream_timeout,
};
use crate::diagnostics::Held;

/// The hyper-util client both endpoints use; only its lifetime differs.
type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// How long an idle connection of the shared client's pool stays open.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// State of the client patterns.
pub(crate) struct Clients {
    /// The one client of `/api/httpclient2`; its pool keeps connections alive between
    /// requests. Never reset: a pool bounded by the number of concurrent requests is the
    /// fix, not a leak.
    shared: HttpClient,
    /// The address `/api/ping` is served on, the default upstream.
    self_addr: SocketAddr,
    /// The connections `/api/clientleak` never closes.
    leaks: ClientLeaks,
}

impl Clients {
    pub(crate) fn new(config: &ServerConfig) -> Clients {
        Clients {
            shared: new_client(),
            self_addr: self_upstream_addr(config.self_addr),
            leaks: ClientLeaks::new(config),
        }
    }

    /// What `/api/clientleak` holds: connections and the heap bytes measured when they
    /// were opened (see [`ClientLeaks`]).
    pub(crate) fn held(&self) -> Held {
        self.leaks.held()
    }

    /// Closes every connection `/api/clientleak` holds.
    pub(crate) fn reset(&self) {
        self.leaks.reset();
    }

    /// The default `url`: the server's own ping.
    fn default_url(&self) -> String {
        format!("http://{}/api/ping", self.self_addr)
    }
}

/// A client as both endpoints build it: the connect timeout bounds a connect that hangs,
/// the pool timer lets idle connections expire.
fn new_client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(UPSTREAM_TIMEOUT));
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .build(connector)
}

const HTTPCLIENT1: &str = "/api/httpclient1";
const HTTPCLIENT2: &str = "/api/httpclient2";
const CLIENTLEAK: &str = "/api/clientleak";

/// The route templates of this family.
pub(crate) const ROUTES: &[&str] = &[HTTPCLIENT1, HTTPCLIENT2, CLIENTLEAK];

/// `/api/httpclient1`, `/api/httpclient2`, `/api/clientleak`.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route(HTTPCLIENT1, get(httpclient1))
        .route(HTTPCLIENT2, get(httpclient2))
        .route(CLIENTLEAK, get(clientleak))
}

/// The `url` query parameter of the client endpoints.
#[derive(Debug, Deserialize)]
struct UrlQuery {
    url: Option<String>,
}

/// The answer of the client endpoints: what the upstream did.
#[derive(Debug, Serialize, Deserialize)]
struct ClientReply {
    /// `new per request` or `shared`.
    client: String,
    /// The URL as asked (or the default).
    url: String,
    /// The address the request went to.
    connected_to: String,
    upstream_status: u16,
    upstream_body_bytes: u64,
}

async fn httpclient1(
    State(clients): State<Part<Clients>>,
    State(managed): State<Part<ManagedTally>>,
    query: Result<Query<UrlQuery>, QueryRejection>,
) -> Result<Json<ClientReply>, AppError> {
    let (url, target) = target(&clients, query)?;
    // The client lives for this one request; dropping it closes its connection from
    // this side, which is the side that keeps the TIME_WAIT socket.
    let client = new_client();
    let reply = fetch(&client, &url, &target).await;
    drop(client);
    let reply = reply?;
    managed.record(HTTPCLIENT1);
    Ok(Json(client_reply("new per request", url, &target, reply)))
}

async fn httpclient2(
    State(clients): State<Part<Clients>>,
    State(managed): State<Part<ManagedTally>>,
    query: Result<Query<UrlQuery>, QueryRejection>,
) -> Result<Json<ClientReply>, AppError> {
    let (url, target) = target(&clients, query)?;
    let reply = fetch(&clients.shared, &url, &target).await?;
    managed.record(HTTPCLIENT2);
    Ok(Json(client_reply("shared", url, &target, reply)))
}

async fn clientleak(State(clients): State<Part<Clients>>) -> Result<Json<LeakedReply>, AppError> {
    clients.leaks.open().await.map(Json)
}

/// The URL asked for (or the default) and where it leads, or a 400 quoting it.
fn target(
    clients: &Clients,
    query: Result<Query<UrlQuery>, QueryRejection>,
) -> Result<(String, LoopbackUrl), AppError> {
    let Query(query) = query.map_err(|rejection| {
        AppError::BadRequest(format!(
            "the query string cannot be read ({rejection}); expected ?url=http://127.0.0.1:PORT/PATH"
        ))
    })?;
    let url = query.url.unwrap_or_else(|| clients.default_url());
    let target = parse_loopback_url(&url).map_err(|e| AppError::BadRequest(e.to_string()))?;
    Ok((url, target))
}

/// One GET to `target` through `client`, body counted and dropped, within
/// [`UPSTREAM_TIMEOUT`].
async fn fetch(
    client: &HttpClient,
    url: &str,
    target: &LoopbackUrl,
) -> Result<UpstreamReply, AppError> {
    let host = HeaderValue::from_str(&target.host_header)
        .map_err(|_| AppError::BadRequest(format!("url \"{url}\" has an unusable host")))?;
    let request = Request::get(target.uri.clone())
        .header(header::HOST, host)
        .body(Empty::<Bytes>::new())
        .map_err(|e| AppError::Internal(format!("cannot build a request to \"{url}\": {e}")))?;
    let exchange = async {
        let response = client
            .request(request)
            .await
            .map_err(|e| upstream_error(url, &e))?;
        let status = response.status().as_u16();
        let body_bytes = count_body_bytes(response.into_body())
            .await
            .map_err(|e| upstream_error(url, &e))?;
        Ok(UpstreamReply { status, body_bytes })
    };
    tokio::time::timeout(UPSTREAM_TIMEOUT, exchange)
        .await
        .map_err(|_| upstream_timeout(url))?
}

fn client_reply(
    client: &str,
    url: String,
    target: &LoopbackUrl,
    reply: UpstreamReply,
) -> ClientReply {
    ClientReply {
        client: client.to_string(),
        url,
        connected_to: target.addr.to_string(),
        upstream_status: reply.status,
        upstream_body_bytes: reply.body_bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::state::AppState;
    use crate::server::test_support::{get as get_path, json, start_upstream, state_upstream};
    use axum::http::StatusCode;

    async fn get_json(state: &SharedState, uri: &str) -> (StatusCode, serde_json::Value) {
        let (status, body) = get_path(state, uri).await;
        (status, json(&body))
    }

    #[tokio::test]
    async fn both_clients_reach_the_default_upstream() {
        let addr = start_upstream().await;
        let state = state_upstream(addr);
        for (path, client) in [
            ("/api/httpclient1", "new per request"),
            ("/api/httpclient2", "shared"),
        ] {
            let (status, body) = get_json(&state, path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            assert_eq!(body["client"], client);
            assert_eq!(body["url"], format!("http://{addr}/api/ping"));
            assert_eq!(body["upstream_status"], 200);
            assert_eq!(body["upstream_body_bytes"], "pong".len());
        }
    }

    #[tokio::test]
    async fn an_explicit_localhost_url_is_resolved_to_loopback() {
        let addr = start_upstream().await;
        let state = state_upstream(addr);
        let url = format!("http://localhost:{}/api/nothing-here", addr.port());
        let (status, body) = get_json(&state, &format!("/api/httpclient2?url={url}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["connected_to"], format!("127.0.0.1:{}", addr.port()));
        assert_eq!(body["upstream_status"], 404);
    }

    #[tokio::test]
    async fn a_url_outside_loopback_is_a_400_that_quotes_it() {
        let addr = start_upstream().await;
        let state = state_upstream(addr);
        for path in ["/api/httpclient1", "/api/httpclient2"] {
            let (status, body) = get_json(&state, &format!("{path}?url=file:///etc/passwd")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(body["kind"], "bad request");
            let message = body["error"].as_str().unwrap();
            assert!(message.contains("\"file:///etc/passwd\""), "{message}");
            assert!(message.contains("loopback"), "{message}");
        }
    }

    /// Manual measurement, not a check (`cargo test --release -- --ignored --nocapture
    /// time_wait`): 2000 sequential requests through each client against a real
    /// in-process server that is its own upstream, and the TIME_WAIT sockets after each.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "manual measurement, prints TIME_WAIT counts"]
    async fn time_wait_after_2000_requests_per_client() {
        const REQUESTS: usize = 2000;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = AppState::new(ServerConfig {
            self_addr: addr,
            ..ServerConfig::default()
        })
        .unwrap();
        let app = routes()
            .route("/api/ping", get(|| async { "pong" }))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let time_wait = || {
            let tcp = crate::memory::read_process(std::process::id()).unwrap().tcp;
            (tcp.time_wait, tcp.time_wait_namespace)
        };
        println!(
            "before: time_wait (own port, namespace) = {:?}",
            time_wait()
        );
        for path in ["/api/httpclient2", "/api/httpclient1"] {
            let started = std::time::Instant::now();
            let mut failures = std::collections::BTreeMap::<String, usize>::new();
            for _ in 0..REQUESTS {
                let (status, body) = get_json(&state, path).await;
                if status != StatusCode::OK {
                    *failures.entry(body["kind"].to_string()).or_default() += 1;
                }
            }
            println!(
                "after {REQUESTS} x {path}: time_wait (own port, namespace) = {:?}, \
                 failures {failures:?}, {:.1} s",
                time_wait(),
                started.elapsed().as_secs_f64()
            );
        }
    }

    #[tokio::test]
    async fn nothing_listening_upstream_is_a_502_connection_refused() {
        // A port that was just free: bind, read it, close.
        let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = start_upstream().await;
        let state = state_upstream(addr);
        for path in ["/api/httpclient1", "/api/httpclient2"] {
            let uri = format!("{path}?url=http://127.0.0.1:{closed_port}/api/ping");
            let (status, body) = get_json(&state, &uri).await;
            assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
            assert_eq!(body["kind"], "connection refused", "{body}");
            let message = body["error"].as_str().unwrap();
            assert!(
                message.contains(&format!("127.0.0.1:{closed_port}")),
                "{message}"
            );
        }
    }
}
