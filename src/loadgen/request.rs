//! Prebuilt requests: the exact bytes of `GET <path> HTTP/1.1` with the `Host` header,
//! built once per connection, so sending a request is one write of bytes that already
//! exist — nothing is formatted or allocated per request. Each connection builds its own
//! copy, so no memory is shared between worker threads.

use hyper::Uri;
use hyper::header::HeaderValue;

use super::config::ConfigError;

/// The requests one connection sends: `GET` of each path in turn.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    /// One complete request per path.
    requests: Vec<Vec<u8>>,
}

impl RequestTemplate {
    /// Checks the `Host` header and every path (errors quote the bad one) and builds the
    /// requests.
    pub fn new(host: &str, paths: &[String]) -> Result<RequestTemplate, ConfigError> {
        if paths.is_empty() {
            return Err(ConfigError(
                "no paths to request; expected at least one such as /api/ping".to_string(),
            ));
        }
        // Header-value rules reject CR, LF and other bytes that would split the request.
        if HeaderValue::from_str(host).is_err() || host.is_empty() {
            return Err(ConfigError(format!(
                "host \"{}\" is not a valid Host header; expected e.g. 127.0.0.1:5000",
                host.escape_debug()
            )));
        }
        let requests = paths
            .iter()
            .map(|path| {
                // Origin form only: a URI parse rejects spaces and control bytes.
                let is_path = path.starts_with('/')
                    && path
                        .parse::<Uri>()
                        .is_ok_and(|uri| uri.scheme().is_none() && uri.authority().is_none());
                if is_path {
                    Ok(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes())
                } else {
                    Err(ConfigError(format!(
                        "path \"{}\" is not a request path; expected one starting with / such as /api/ping?x=1",
                        path.escape_debug()
                    )))
                }
            })
            .collect::<Result<Vec<Vec<u8>>, ConfigError>>()?;
        Ok(RequestTemplate { requests })
    }

    /// The bytes of the request for path number `index % paths`.
    pub fn get(&self, index: usize) -> &[u8] {
        &self.requests[index % self.requests.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_go_round_robin_with_the_host_header() {
        let paths = vec!["/a".to_string(), "/b?x=1".to_string()];
        let template = RequestTemplate::new("127.0.0.1:5000", &paths).unwrap();
        let requests: Vec<&[u8]> = (0..4).map(|i| template.get(i)).collect();
        let a: &[u8] = b"GET /a HTTP/1.1\r\nHost: 127.0.0.1:5000\r\n\r\n";
        let b: &[u8] = b"GET /b?x=1 HTTP/1.1\r\nHost: 127.0.0.1:5000\r\n\r\n";
        assert_eq!(requests, [a, b, a, b]);
    }

    #[test]
    fn absolute_urls_and_bytes_that_split_requests_are_refused() {
        for path in ["http://127.0.0.1/x", "/a b", "/a\r\nX: y"] {
            let err = RequestTemplate::new("h", &[path.to_string()])
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("\"{}\"", path.escape_debug())),
                "{err}"
            );
        }
        let err = RequestTemplate::new("a\r\nb", &["/".to_string()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("host"), "{err}");
    }
}
