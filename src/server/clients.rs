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
//!
//! **No amplification.** A `url` back into this server's own client endpoints
//! (`…/api/httpclient2?url=http://127.0.0.1:PORT/api/httpclient2?url=…`) would turn one
//! request into as many internal requests as it has levels; 1,400 levels took 2,800 fds.
//! Two guards, each enough on its own: a `url` to this server's port whose path leads into
//! a client endpoint is refused before any connection (400), and every upstream request
//! carries the [`HOP_HEADER`], which the client endpoints refuse, so a loop through a second
//! membench server (or a path spelling the first guard does not know) ends after one hop.
//! Upstream requests in flight are bounded (`--max-upstream`, 503 past it), and the shared
//! client keeps at most [`POOL_MAX_IDLE_PER_HOST`] idle connections per upstream.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, header};
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
use super::limits::UpstreamSlots;
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

/// Most idle connections the shared client keeps per upstream (hyper-util keeps any
/// number by default).
pub(crate) const POOL_MAX_IDLE_PER_HOST: usize = 32;

/// Set on every request a client endpoint sends; a client endpoint refuses a request that
/// carries it, so a chain of client requests ends after one hop.
pub(crate) const HOP_HEADER: HeaderName = HeaderName::from_static("x-membench-hop");

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
    /// The bound on upstream requests in flight (`--max-upstream`).
    slots: UpstreamSlots,
}

impl Clients {
    pub(crate) fn new(config: &ServerConfig) -> Clients {
        Clients {
            shared: new_client(),
            self_addr: self_upstream_addr(config.self_addr),
            leaks: ClientLeaks::new(config),
            slots: UpstreamSlots::new(config.max_upstream),
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
        .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST)
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
    headers: HeaderMap,
    query: Result<Query<UrlQuery>, QueryRejection>,
) -> Result<Json<ClientReply>, AppError> {
    let (url, target) = target(&clients, &headers, query)?;
    let _slot = clients.slots.acquire()?;
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
    headers: HeaderMap,
    query: Result<Query<UrlQuery>, QueryRejection>,
) -> Result<Json<ClientReply>, AppError> {
    let (url, target) = target(&clients, &headers, query)?;
    let _slot = clients.slots.acquire()?;
    let reply = fetch(&clients.shared, &url, &target).await?;
    managed.record(HTTPCLIENT2);
    Ok(Json(client_reply("shared", url, &target, reply)))
}

async fn clientleak(State(clients): State<Part<Clients>>) -> Result<Json<LeakedReply>, AppError> {
    clients.leaks.open().await.map(Json)
}

/// The URL asked for (or the default) and where it leads, or a 400 quoting it: also for
/// a request sent by a client endpoint (the [`HOP_HEADER`]) and a URL back into this
/// server's client endpoints.
fn target(
    clients: &Clients,
    headers: &HeaderMap,
    query: Result<Query<UrlQuery>, QueryRejection>,
) -> Result<(String, LoopbackUrl), AppError> {
    if headers.contains_key(HOP_HEADER) {
        return Err(AppError::BadRequest(format!(
            "this request was sent by a membench client endpoint (it carries {HOP_HEADER}); \
             a client endpoint does not call another one, so a chain of them ends here"
        )));
    }
    let Query(query) = query.map_err(|rejection| {
        AppError::BadRequest(format!(
            "the query string cannot be read ({rejection}); expected ?url=http://127.0.0.1:PORT/PATH"
        ))
    })?;
    let url = query.url.unwrap_or_else(|| clients.default_url());
    let target = parse_loopback_url(&url).map_err(|e| AppError::BadRequest(e.to_string()))?;
    if target.addr.port() == clients.self_addr.port() && leads_to_a_client_endpoint(&target) {
        return Err(AppError::BadRequest(format!(
            "url \"{url}\" leads back into this server's client endpoints ({}); a client \
             endpoint may call any other endpoint of this server (e.g. /api/ping), not itself",
            ROUTES.join(", ")
        )));
    }
    Ok((url, target))
}

/// Whether the path of `target` names one of this family's endpoints, however it is
/// spelled: any case, repeated slashes, percent-encoded letters.
fn leads_to_a_client_endpoint(target: &LoopbackUrl) -> bool {
    let path = percent_decoded(target.uri.path()).to_ascii_lowercase();
    let mut normal = String::with_capacity(path.len());
    for segment in path.split('/').filter(|s| !s.is_empty() && *s != ".") {
        normal.push('/');
        normal.push_str(segment);
    }
    ROUTES
        .iter()
        .any(|route| normal == *route || normal.starts_with(&format!("{route}/")))
}

/// `text` with every `%XX` decoded (undecodable sequences kept as written).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
        .header(HOP_HEADER, HeaderValue::from_static("1"))
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

    #[tokio::test]
    async fn a_url_back_into_the_client_endpoints_is_refused_however_spelled() {
        let addr = start_upstream().await;
        let state = state_upstream(addr);
        let port = addr.port();
        for inner in [
            format!("http://127.0.0.1:{port}/api/httpclient2"),
            format!("http://localhost:{port}/api/httpclient1%3Furl%3Dx"),
            format!("http://127.0.0.2:{port}//API/HttpClient2"),
            format!("http://[::1]:{port}/api/%68ttpclient2"),
            format!("http://127.0.0.1:{port}/./api/clientleak"),
        ] {
            for outer in ["/api/httpclient1", "/api/httpclient2"] {
                let (status, body) = get_json(&state, &format!("{outer}?url={inner}")).await;
                assert_eq!(status, StatusCode::BAD_REQUEST, "{inner}: {body}");
                let message = body["error"].as_str().unwrap();
                assert!(message.contains("leads back"), "{message}");
            }
        }
        // Another port, or another path of this server, is fine.
        let (status, body) = get_json(
            &state,
            &format!("/api/httpclient2?url=http://127.0.0.1:{port}/api/ping"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    #[tokio::test]
    async fn a_request_sent_by_a_client_endpoint_is_refused_by_the_next() {
        let state = crate::server::test_support::state();
        let request = axum::http::Request::get("/api/httpclient2")
            .header(HOP_HEADER, "1")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = tower::ServiceExt::oneshot(crate::server::app(state), request)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn the_hop_header_is_sent_upstream() {
        // An upstream that answers with the hop header it received.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route(
            "/echo",
            get(|headers: HeaderMap| async move {
                headers
                    .get(HOP_HEADER)
                    .map(|v| v.to_str().unwrap_or("").to_string())
                    .unwrap_or_default()
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        let state = crate::server::test_support::state();
        let (status, body) =
            get_json(&state, &format!("/api/httpclient2?url=http://{addr}/echo")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body["upstream_body_bytes"], 1,
            "the upstream saw `1`: {body}"
        );
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
            let tcp = crate::memory::read_process(std::process::id())
                .unwrap()
                .tcp
                .expect("this measurement needs the Linux probe's TCP states");
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
