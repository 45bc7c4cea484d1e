//! The guard of the client endpoints (`/api/httpclient1`, `/api/httpclient2`): a `url`
//! parameter is accepted only when it is `http://` to a loopback host, so the server
//! cannot be turned into a proxy to other machines (SSRF).
//!
//! The check runs on the text before any connection exists, and its result is what the
//! clients connect to: the URL is rewritten to the IP literal it was checked against
//! (`localhost` is resolved here to 127.0.0.1, never through DNS or `/etc/hosts`), so
//! nothing between the check and the connection can change the destination. The original
//! authority is kept for the `Host` header.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::http::Uri;
use axum::http::uri::{Authority, PathAndQuery, Scheme};

/// What the guard accepts, quoted in every rejection.
pub(crate) const ACCEPTED: &str = "only http:// URLs to a loopback host are accepted \
     (127.0.0.0/8, [::1] or localhost), e.g. http://127.0.0.1:5000/api/ping";

/// A URL that passed the guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LoopbackUrl {
    /// The address the request goes to: always a loopback IP.
    pub(crate) addr: SocketAddr,
    /// The request URI with the host replaced by `addr`'s IP literal.
    pub(crate) uri: Uri,
    /// The authority as the caller wrote it (e.g. `localhost:1234`), for the `Host` header.
    pub(crate) host_header: String,
}

/// Why a URL was refused; the message quotes it and says what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("url \"{url}\" is not accepted: {reason}; {ACCEPTED}")]
pub(crate) struct UrlRejected {
    pub(crate) url: String,
    pub(crate) reason: String,
}

/// Checks `text` and returns where to connect; never touches the network.
pub(crate) fn parse_loopback_url(text: &str) -> Result<LoopbackUrl, UrlRejected> {
    let reject = |reason: &str| UrlRejected {
        url: text.to_string(),
        reason: reason.to_string(),
    };
    // `file:///etc/passwd` does not even parse as an HTTP URI; say what is wrong with it.
    if let Some((scheme, _)) = text.split_once("://")
        && !scheme.eq_ignore_ascii_case("http")
    {
        return Err(reject(&format!("the scheme is \"{scheme}\", not http")));
    }
    let uri: Uri = text
        .parse()
        .map_err(|_| reject("it is not a valid absolute URL"))?;
    match uri.scheme() {
        Some(scheme) if *scheme == Scheme::HTTP => {}
        Some(_) => return Err(reject("the scheme is not http")),
        None => return Err(reject("it has no scheme")),
    }
    let authority = uri.authority().ok_or_else(|| reject("it has no host"))?;
    // `http://127.0.0.1@evil.com/` has host evil.com; refusing any userinfo keeps the
    // rule simple to read and leaves nothing to misparse.
    if authority.as_str().contains('@') {
        return Err(reject("user information (`user@`) is not accepted"));
    }
    let ip = loopback_ip(authority.host()).ok_or_else(|| reject("the host is not loopback"))?;
    // `http` reads an out-of-range port (`:99999`) as no port at all, which would silently
    // mean 80: parse what follows the host instead (no userinfo, so nothing precedes it).
    let port_text = authority.as_str()[authority.host().len()..].strip_prefix(':');
    let port = match port_text {
        None => 80,
        Some(text) => match text.parse::<u16>() {
            Ok(port) if port > 0 && text.bytes().all(|b| b.is_ascii_digit()) => port,
            _ => return Err(reject("the port is not a number from 1 to 65535")),
        },
    };
    let addr = SocketAddr::new(ip, port);
    let rewritten: Authority = addr
        .to_string()
        .parse()
        // A SocketAddr's Display is `ip:port` or `[ipv6]:port`, always a valid authority.
        .map_err(|_| reject("its address cannot be written back as a URL"))?;
    let path = uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let uri = Uri::builder()
        .scheme(Scheme::HTTP)
        .authority(rewritten)
        .path_and_query(path)
        .build()
        .map_err(|_| reject("it cannot be rebuilt as a request URI"))?;
    Ok(LoopbackUrl {
        addr,
        uri,
        host_header: authority.as_str().to_string(),
    })
}

/// Where the server's own endpoints can be reached: its listening address, with an
/// unspecified IP (`0.0.0.0`, `[::]`) replaced by the loopback IP of the same family.
pub(crate) fn self_upstream_addr(listening: SocketAddr) -> SocketAddr {
    let ip = match listening.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listening.port())
}

/// The loopback IP a URL host names, if it names one: an IPv4 literal in 127.0.0.0/8,
/// exactly `[::1]`, or `localhost` (any case) which is 127.0.0.1. IPv4-mapped IPv6
/// (`[::ffff:127.0.0.1]`) and name tricks (`127.0.0.1.evil.com`) are not loopback here.
fn loopback_ip(host: &str) -> Option<IpAddr> {
    if host.eq_ignore_ascii_case("localhost") {
        return Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let ip: IpAddr = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => IpAddr::V6(v6.parse().ok()?),
        // Rust's parser takes only four decimal octets: `127.1`, `0x7f.0.0.1` and
        // `0177.0.0.1` are refused rather than read the way some resolvers would.
        None => IpAddr::V4(host.parse().ok()?),
    };
    ip.is_loopback().then_some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_everything_that_is_not_http_to_loopback() {
        for url in [
            "file:///etc/passwd",
            "https://127.0.0.1/",
            "http://10.0.0.1/",
            "http://example.com/",
            "http://127.0.0.1.evil.com/",
            "http://[::ffff:8.8.8.8]/",
            "http://[::ffff:127.0.0.1]/",
            "http://127.0.0.1@evil.com/",
            "http://evil.com@127.0.0.1/",
            "http://user:pass@127.0.0.1/",
            "http://127.1/",
            "http://0177.0.0.1/",
            "http://0x7f.0.0.1/",
            "http://0.0.0.0/",
            "http://[::]/",
            "http://127.0.0.1:0/",
            "127.0.0.1:5000/api/ping",
            "/api/ping",
            "",
            "not a url",
            "http://",
            "http://127.0.0.1:99999/",
            "http://127.0.0.1:65616/",
            "http://127.0.0.1:/",
            "http://127.0.0.1:+80/",
            "http://local host/",
        ] {
            let err = parse_loopback_url(url).expect_err(url);
            assert_eq!(err.url, url);
            let message = err.to_string();
            assert!(message.contains(&format!("\"{url}\"")), "{message}");
            assert!(message.contains("loopback"), "{message}");
        }
        let file = parse_loopback_url("file:///etc/passwd").unwrap_err();
        assert_eq!(file.reason, "the scheme is \"file\", not http");
    }

    #[test]
    fn accepts_loopback_and_rewrites_to_the_ip_it_checked() {
        let cases = [
            (
                "http://127.0.0.1:5000/api/ping",
                "127.0.0.1:5000",
                "/api/ping",
            ),
            ("http://localhost:1234/x", "127.0.0.1:1234", "/x"),
            ("http://LOCALHOST:1234/x?y=1", "127.0.0.1:1234", "/x?y=1"),
            ("http://[::1]:80/", "[::1]:80", "/"),
            ("http://127.9.8.7/", "127.9.8.7:80", "/"),
            ("HTTP://127.0.0.1:5000", "127.0.0.1:5000", "/"),
        ];
        for (url, addr, path) in cases {
            let parsed = parse_loopback_url(url).unwrap_or_else(|e| panic!("{e}"));
            let expected: SocketAddr = addr.parse().unwrap();
            assert_eq!(parsed.addr, expected, "{url}");
            assert!(parsed.addr.ip().is_loopback());
            assert_eq!(parsed.uri.authority().unwrap().as_str(), addr, "{url}");
            assert_eq!(parsed.uri.path_and_query().unwrap().as_str(), path, "{url}");
            let original: Uri = url.parse().unwrap();
            assert_eq!(parsed.host_header, original.authority().unwrap().as_str());
        }
    }

    #[test]
    fn the_own_address_is_reached_through_loopback_when_bound_to_any() {
        let cases = [
            ("0.0.0.0:5000", "127.0.0.1:5000"),
            ("[::]:5000", "[::1]:5000"),
            ("127.0.0.1:5000", "127.0.0.1:5000"),
        ];
        for (listening, reached) in cases {
            let reached: SocketAddr = reached.parse().unwrap();
            assert_eq!(self_upstream_addr(listening.parse().unwrap()), reached);
        }
    }
}
