//! Prebuilt requests. Parsing a URI or a header value costs more than the rest of building
//! a request, so each connection parses its paths and `Host` header once and then only
//! clones them (reference-count bumps on memory no other thread touches: every connection
//! builds its own template, so no cache line is shared across worker threads).

use bytes::Bytes;
use http_body_util::Empty;
use hyper::header::{HOST, HeaderValue};
use hyper::{Method, Request, Uri};

use super::config::ConfigError;

/// The requests one connection sends: `GET` of each path in turn, with the `Host` header.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    /// Origin-form request targets (`/path?query`), as hyper writes them unchanged.
    uris: Vec<Uri>,
    host: HeaderValue,
}

impl RequestTemplate {
    /// Parses the `Host` header and every path; errors quote the bad one.
    pub fn new(host: &str, paths: &[String]) -> Result<RequestTemplate, ConfigError> {
        if paths.is_empty() {
            return Err(ConfigError(
                "no paths to request; expected at least one such as /api/ping".to_string(),
            ));
        }
        let host = HeaderValue::from_str(host).map_err(|_| {
            ConfigError(format!(
                "host \"{}\" is not a valid Host header; expected e.g. 127.0.0.1:5000",
                host.escape_debug()
            ))
        })?;
        let uris = paths
            .iter()
            .map(|path| {
                let uri = path.parse::<Uri>().ok().filter(|uri| {
                    uri.scheme().is_none() && uri.authority().is_none() && path.starts_with('/')
                });
                uri.ok_or_else(|| {
                    ConfigError(format!(
                        "path \"{}\" is not a request path; expected one starting with / such as /api/ping?x=1",
                        path.escape_debug()
                    ))
                })
            })
            .collect::<Result<Vec<Uri>, ConfigError>>()?;
        Ok(RequestTemplate { uris, host })
    }

    /// The request for path number `index % len()`.
    pub fn build(&self, index: usize) -> Request<Empty<Bytes>> {
        let mut request = Request::new(Empty::new());
        *request.method_mut() = Method::GET;
        *request.uri_mut() = self.uris[index % self.uris.len()].clone();
        request.headers_mut().insert(HOST, self.host.clone());
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_go_round_robin_with_the_host_header() {
        let paths = vec!["/a".to_string(), "/b?x=1".to_string()];
        let template = RequestTemplate::new("127.0.0.1:5000", &paths).unwrap();
        let targets: Vec<String> = (0..4)
            .map(|i| template.build(i).uri().to_string())
            .collect();
        assert_eq!(targets, ["/a", "/b?x=1", "/a", "/b?x=1"]);
        let request = template.build(0);
        assert_eq!(request.method(), Method::GET);
        assert_eq!(request.headers()[HOST], "127.0.0.1:5000");
    }

    #[test]
    fn absolute_urls_are_not_paths() {
        let paths = vec!["http://127.0.0.1/x".to_string()];
        let err = RequestTemplate::new("h", &paths).unwrap_err().to_string();
        assert!(err.contains("\"http://127.0.0.1/x\""), "{err}");
    }
}
