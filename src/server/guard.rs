//! Who may talk to the server: the bind guard, and the `Host` and `Origin` checks.
//!
//! The server has no authentication; what keeps it private is where it listens.
//!
//! * **Bind.** A non-loopback `--addr` (e.g. `0.0.0.0`) is refused unless `--allow-remote`
//!   is given, and then a warning names what is exposed ([`check_bind`]).
//! * **`Host`** on every request must name this server as a loopback name or address
//!   (`localhost`, `127.0.0.0/8`, `[::1]`), the bound IP, or, when bound to every interface
//!   with `--allow-remote`, any IP literal. A browser tricked by DNS rebinding sends the
//!   attacker's host name, so it gets 403 even from a page that resolved to 127.0.0.1.
//! * **`Origin`**, when a browser sends one on a POST (`/api/collect`, `/api/reset`), must
//!   be this server itself (an allowed host and the bound port); any other page's form
//!   POST gets 403. Requests without `Origin` (curl, the load generator, the runner) pass.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::http::{HeaderMap, Method, Request, Uri, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use super::error::AppError;

/// What a non-loopback bind exposes, printed with `--allow-remote`.
pub(crate) const EXPOSED: &str = "every endpoint is reachable without authentication by \
     anyone who can reach this address: they can make the server allocate (up to \
     --max-inflight at once) and leak (up to --leak-cap), reset its state, read its \
     diagnostics, and use /api/httpclient1 and /api/httpclient2 to reach the loopback ports \
     of this machine";

/// Refuses a non-loopback address without `allow_remote` (a usage error: exit 2), and
/// returns the warning to print when one is allowed.
pub fn check_bind(addr: SocketAddr, allow_remote: bool) -> Result<Option<String>, String> {
    if addr.ip().is_loopback() {
        return Ok(None);
    }
    if !allow_remote {
        return Err(format!(
            "--addr {addr} is not a loopback address; the server has no authentication, so \
             listening there means {EXPOSED}. Listen on 127.0.0.1 (the default) or [::1], or \
             add --allow-remote if that is what you want"
        ));
    }
    Ok(Some(format!(
        "WARNING: listening on {addr} (--allow-remote): {EXPOSED}. Use it only on a network \
         you trust, and stop the server when you are done"
    )))
}

/// Whether `host` (a `Host` header's or an origin's host, without the port) names this
/// server as bound to `bound`.
fn allowed_host(host: &str, bound: SocketAddr) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let literal = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let Ok(ip) = literal.parse::<IpAddr>() else {
        return false;
    };
    // An IP literal cannot be rebound by DNS: with every interface bound, any of this
    // machine's addresses may be used.
    ip.is_loopback() || ip == bound.ip() || bound.ip().is_unspecified()
}

/// The host and port of an authority (`example.com:8080`, `[::1]:5000`, `localhost`).
fn split_authority(authority: &str) -> (&str, Option<&str>) {
    match authority.rsplit_once(':') {
        // `[::1]` alone: the colon is inside the brackets.
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (authority, None),
    }
}

/// The 403 for a request that fails the `Host` or `Origin` check, if it does.
pub(crate) fn check_request(
    method: &Method,
    headers: &HeaderMap,
    bound: SocketAddr,
) -> Result<(), AppError> {
    if let Some(host) = headers.get(header::HOST) {
        let text = host.to_str().unwrap_or("");
        let (name, _) = split_authority(text);
        if !allowed_host(name, bound) {
            return Err(AppError::Forbidden(format!(
                "Host {text:?} does not name this server; it answers requests for localhost, \
                 a loopback address or {} (a foreign Host is how DNS rebinding reaches a \
                 local server from a web page)",
                bound.ip()
            )));
        }
    }
    if *method == Method::GET || *method == Method::HEAD || *method == Method::OPTIONS {
        return Ok(());
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let text = origin.to_str().unwrap_or("");
    let same = text.parse::<Uri>().ok().is_some_and(|uri| {
        let port = uri.port_u16().unwrap_or(80);
        uri.scheme_str() == Some("http")
            && uri.host().is_some_and(|host| allowed_host(host, bound))
            && port == bound.port()
    });
    if same {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "{method} from Origin {text:?} is refused: state-changing requests are accepted \
             only from this server's own pages (http://127.0.0.1:{port}) or from clients \
             that send no Origin (curl, membench)",
            port = bound.port()
        )))
    }
}

/// The layer that runs [`check_request`] on every request against the bound address. A
/// plain tower layer rather than `middleware::from_fn`, which would box a future (and so
/// allocate) on every request the scenarios measure.
#[derive(Clone, Copy)]
pub(crate) struct GuardLayer {
    bound: SocketAddr,
}

impl GuardLayer {
    pub(crate) fn new(bound: SocketAddr) -> GuardLayer {
        GuardLayer { bound }
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Guard<S> {
        Guard {
            inner,
            bound: self.bound,
        }
    }
}

/// The service of [`GuardLayer`].
#[derive(Clone)]
pub(crate) struct Guard<S> {
    inner: S,
    bound: SocketAddr,
}

impl<S, B> Service<Request<B>> for Guard<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Guarded<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        match check_request(request.method(), request.headers(), self.bound) {
            Ok(()) => Guarded::Pass {
                inner: self.inner.call(request),
            },
            Err(err) => Guarded::Refused {
                response: Some(err.into_response()),
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The handler's future, or the 403 at once.
    #[project = GuardedProj]
    pub(crate) enum Guarded<F> {
        Pass { #[pin] inner: F },
        Refused { response: Option<Response> },
    }
}

impl<F, E> Future for Guarded<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            GuardedProj::Pass { inner } => inner.poll(cx),
            // Polled again after completion (a caller's bug): an empty 200 rather than a panic.
            GuardedProj::Refused { response } => {
                Poll::Ready(Ok(response.take().unwrap_or_default()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderValue, StatusCode};

    use super::*;
    use crate::server::test_support::{json, state};

    fn bound() -> SocketAddr {
        "127.0.0.1:5000".parse().unwrap()
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn a_non_loopback_bind_needs_allow_remote_and_then_warns() {
        let any: SocketAddr = "0.0.0.0:5000".parse().unwrap();
        let err = check_bind(any, false).unwrap_err();
        assert!(err.contains("0.0.0.0:5000"), "{err}");
        assert!(err.contains("--allow-remote"), "{err}");
        let warning = check_bind(any, true).unwrap().unwrap();
        assert!(warning.contains("/api/httpclient1"), "{warning}");
        assert_eq!(check_bind(bound(), false), Ok(None));
        assert_eq!(check_bind("[::1]:0".parse().unwrap(), false), Ok(None));
    }

    #[test]
    fn host_names_of_this_server_pass_and_others_are_refused() {
        for host in [
            "127.0.0.1:5000",
            "localhost:5000",
            "LOCALHOST",
            "[::1]:5000",
            "127.0.0.2",
        ] {
            let h = headers(&[(header::HOST, host)]);
            assert!(check_request(&Method::GET, &h, bound()).is_ok(), "{host}");
        }
        for host in ["evil.example:5000", "127.0.0.1.nip.io", "10.0.0.1", ""] {
            let h = headers(&[(header::HOST, host)]);
            let err = check_request(&Method::GET, &h, bound()).unwrap_err();
            assert_eq!(err.status(), StatusCode::FORBIDDEN, "{host}");
            assert!(err.to_string().contains(&format!("{host:?}")), "{err}");
        }
        // Bound to every interface: any IP literal, never a name.
        let any: SocketAddr = "0.0.0.0:5000".parse().unwrap();
        let lan = headers(&[(header::HOST, "192.168.1.20:5000")]);
        assert!(check_request(&Method::GET, &lan, any).is_ok());
        let name = headers(&[(header::HOST, "attacker.example:5000")]);
        assert!(check_request(&Method::GET, &name, any).is_err());
    }

    #[test]
    fn a_foreign_origin_may_not_post_and_the_own_origin_may() {
        let own = headers(&[
            (header::HOST, "127.0.0.1:5000"),
            (header::ORIGIN, "http://127.0.0.1:5000"),
        ]);
        assert!(check_request(&Method::POST, &own, bound()).is_ok());
        let localhost = headers(&[(header::ORIGIN, "http://localhost:5000")]);
        assert!(check_request(&Method::POST, &localhost, bound()).is_ok());
        for origin in [
            "http://evil.example",
            "http://127.0.0.1:3000",
            "null",
            "https://127.0.0.1:5000",
        ] {
            let h = headers(&[(header::ORIGIN, origin)]);
            let err = check_request(&Method::POST, &h, bound()).unwrap_err();
            assert_eq!(err.status(), StatusCode::FORBIDDEN, "{origin}");
            // A GET with the same Origin is a read, not a state change.
            assert!(check_request(&Method::GET, &h, bound()).is_ok(), "{origin}");
        }
    }

    #[tokio::test]
    async fn the_router_answers_403_for_a_foreign_host_and_origin() {
        use axum::body::Body;
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let state = state();
        let cases = [
            ("GET", "/api/diagnostics", header::HOST, "evil.example"),
            ("POST", "/api/reset", header::ORIGIN, "http://evil.example"),
        ];
        for (method, path, name, value) in cases {
            let request = axum::http::Request::builder()
                .method(method)
                .uri(path)
                .header(name, value)
                .body(Body::empty())
                .unwrap();
            let response = crate::server::app(state.clone())
                .oneshot(request)
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(json(&body)["kind"], "forbidden", "{path}");
        }
        assert_eq!(state.errors.snapshot()["forbidden"], 2);
    }
}
