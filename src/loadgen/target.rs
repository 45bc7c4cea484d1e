//! Target URLs: `http://host:port/path?query` split into what the generator needs — the
//! socket address to connect to, the `Host` header and the request target. Parsing is
//! done once, before any load, so a typo is a clear error rather than a run full of
//! failed requests.

use std::net::{SocketAddr, ToSocketAddrs};

use hyper::Uri;

/// A URL the load generator cannot drive; the message quotes it and says what is expected.
#[derive(Debug, thiserror::Error)]
#[error("invalid target \"{url}\": {reason}")]
pub struct TargetError {
    /// The URL as given.
    pub url: String,
    /// What is wrong with it and what is expected instead.
    pub reason: String,
}

/// Where load goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The address connections are made to.
    pub addr: SocketAddr,
    /// The `Host` header: the URL's authority as written (`localhost:8080`, `[::1]:8080`,
    /// or the bare host when the port is the default 80).
    pub host: String,
    /// Path and query, always starting with `/`.
    pub path: String,
}

impl Target {
    /// Parses an `http://` URL; the host may be an IPv4 address, a bracketed IPv6 address
    /// or a name (resolved now; an IPv4 address is preferred when a name has both, because
    /// servers started with the defaults listen on 127.0.0.1). The port defaults to 80.
    pub fn parse(url: &str) -> Result<Target, TargetError> {
        let fail = |reason: String| TargetError {
            url: url.to_string(),
            reason,
        };
        const EXAMPLE: &str = "expected a URL such as http://127.0.0.1:5000/api/ping";
        let uri: Uri = url
            .trim()
            .parse()
            .map_err(|err| fail(format!("{err}; {EXAMPLE}")))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(fail(
                    "only http:// is supported (the load generator does not speak TLS)".to_string(),
                ));
            }
            Some(other) => {
                return Err(fail(format!(
                    "unsupported scheme \"{other}\"; only http:// is supported"
                )));
            }
            None => return Err(fail(format!("the scheme is missing; {EXAMPLE}"))),
        }
        let authority = uri
            .authority()
            .ok_or_else(|| fail(format!("the host is missing; {EXAMPLE}")))?;
        if authority.as_str().contains('@') {
            return Err(fail(
                "user names and passwords in the URL are not supported".to_string(),
            ));
        }
        let host = authority.host();
        if host.is_empty() {
            return Err(fail(format!("the host is missing; {EXAMPLE}")));
        }
        // Read the port from the text: `Authority::port` hides an out-of-range port as
        // "no port", which would silently mean 80.
        let port = match authority.as_str()[host.len()..].strip_prefix(':') {
            None | Some("") => 80,
            Some(port_text) => match port_text.parse::<u16>() {
                Ok(0) | Err(_) => {
                    return Err(fail(format!(
                        "invalid port \"{port_text}\"; expected 1 to 65535"
                    )));
                }
                Ok(port) => port,
            },
        };
        // `host()` keeps the brackets of an IPv6 literal; the resolver wants it bare.
        let bare_host = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = (bare_host, port)
            .to_socket_addrs()
            .map_err(|err| fail(format!("cannot resolve host \"{bare_host}\": {err}")))?
            .collect();
        let addr = addrs
            .iter()
            .find(|addr| addr.is_ipv4())
            .or_else(|| addrs.first())
            .copied()
            .ok_or_else(|| fail(format!("host \"{bare_host}\" has no address")))?;
        let path = match uri.path_and_query().map(|p| p.as_str()) {
            None | Some("") => "/".to_string(),
            Some(path) if path.starts_with('/') => path.to_string(),
            // `http://host?q` has a query but an empty path.
            Some(query) => format!("/{query}"),
        };
        Ok(Target {
            addr,
            host: authority.as_str().to_string(),
            path,
        })
    }
}

/// Splits a target URL (`http://127.0.0.1:8080/path?q`) into the address to connect to,
/// the Host header and the path with query. Only `http://` is supported; errors quote the
/// URL.
pub fn parse_target(url: &str) -> anyhow::Result<(SocketAddr, String, String)> {
    let target = Target::parse(url)?;
    Ok((target.addr, target.host, target.path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> (SocketAddr, String, String) {
        parse_target(url).unwrap_or_else(|err| panic!("{url}: {err:#}"))
    }

    fn err(url: &str) -> String {
        let message = format!("{:#}", parse_target(url).unwrap_err());
        assert!(message.contains(&format!("\"{url}\"")), "{message}");
        message
    }

    #[test]
    fn ip_port_path_and_query() {
        let (addr, host, path) = ok("http://127.0.0.1:8080/api/loh/84976?x=1&y=2");
        assert_eq!(addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(host, "127.0.0.1:8080");
        assert_eq!(path, "/api/loh/84976?x=1&y=2");
    }

    #[test]
    fn missing_port_is_80_and_missing_path_is_root() {
        let (addr, host, path) = ok("http://127.0.0.1");
        assert_eq!(addr, "127.0.0.1:80".parse().unwrap());
        assert_eq!(host, "127.0.0.1");
        assert_eq!(path, "/");
        assert_eq!(ok("http://127.0.0.1:9/").2, "/");
        assert_eq!(ok("http://127.0.0.1:9?q=1").2, "/?q=1");
    }

    #[test]
    fn ipv6_literal_keeps_brackets_in_the_host_header() {
        let (addr, host, path) = ok("http://[::1]:5000/api/ping");
        assert_eq!(addr, "[::1]:5000".parse().unwrap());
        assert_eq!(host, "[::1]:5000");
        assert_eq!(path, "/api/ping");
    }

    #[test]
    fn localhost_resolves_to_loopback() {
        let (addr, host, _) = ok("http://localhost:5000/");
        assert!(addr.ip().is_loopback(), "{addr}");
        assert_eq!(addr.port(), 5000);
        assert_eq!(host, "localhost:5000");
    }

    #[test]
    fn bad_urls_quote_the_input_and_say_what_is_expected() {
        assert!(err("https://127.0.0.1:5000/").contains("only http://"));
        assert!(err("ftp://127.0.0.1/").contains("only http://"));
        assert!(err("127.0.0.1:5000/api/ping").contains("http://127.0.0.1:5000"));
        assert!(err("http://127.0.0.1:99999/").contains("port"));
        assert!(err("http://127.0.0.1:0/").contains("port"));
        assert!(err("http://user:pw@127.0.0.1/").contains("not supported"));
        assert!(err("not a url at all").contains("expected a URL"));
        assert!(err("").contains("expected a URL"));
    }
}
