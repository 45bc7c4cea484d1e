//! What the client endpoints share about talking to an upstream: the request timeout,
//! reading a response without keeping it, and turning a failure into a 502 whose kind
//! names the cause (`connection refused`, `address not available`, `timeout`, …).
//!
//! The kinds are a closed set with the same labels as the load generator's error kinds,
//! so a run's client-side and server-side error counts line up. The cause is found by
//! walking the error's source chain down to the `io::Error` underneath: hyper and
//! hyper-util wrap it once or twice, and "connect error" alone tells nobody that the
//! ephemeral ports ran out.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Body;

use super::error::AppError;
use crate::error_labels::ErrorKind;

/// Longest a client endpoint waits for its upstream: connect, request and whole body.
pub(crate) const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(10);

/// What came back from an upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UpstreamReply {
    pub(crate) status: u16,
    /// Body bytes received (counted frame by frame, never buffered whole).
    pub(crate) body_bytes: u64,
}

/// Reads a body to its end and counts its bytes, dropping each frame as it arrives so a
/// large upstream answer costs no more than one frame of memory.
pub(crate) async fn count_body_bytes<B>(body: B) -> Result<u64, B::Error>
where
    B: Body + Unpin,
{
    let mut body = body;
    let mut bytes = 0u64;
    while let Some(frame) = body.frame().await {
        if let Some(data) = frame?.data_ref() {
            bytes += bytes::Buf::remaining(data) as u64;
        }
    }
    Ok(bytes)
}

/// The kind of an upstream failure, from the first `io::Error` in the source chain, or
/// from hyper's own category when there is none.
pub(crate) fn upstream_kind(err: &(dyn StdError + 'static)) -> &'static str {
    let mut hyper_error = None;
    let mut source = Some(err);
    while let Some(cause) = source {
        if let Some(io_err) = cause.downcast_ref::<io::Error>() {
            return io_kind(io_err);
        }
        if cause.is::<tokio::time::error::Elapsed>() {
            return ErrorKind::Timeout.label();
        }
        if hyper_error.is_none() {
            hyper_error = cause.downcast_ref::<hyper::Error>();
        }
        source = cause.source();
    }
    match hyper_error {
        Some(e) if e.is_parse() || e.is_parse_status() || e.is_parse_too_large() => {
            ErrorKind::BadResponse.label()
        }
        Some(e) if e.is_timeout() => ErrorKind::Timeout.label(),
        Some(e) if e.is_incomplete_message() || e.is_canceled() || e.is_closed() => {
            ErrorKind::ConnectionClosed.label()
        }
        _ => ErrorKind::Other.label(),
    }
}

/// The kind of an I/O error: the same classification (and labels) the load generator
/// counts its own failures with, so a kind reads the same in both places.
pub(crate) fn io_kind(err: &io::Error) -> &'static str {
    ErrorKind::from_io(err).label()
}

/// A 502 for a failed upstream request: the kind, and a message that quotes the URL and
/// the whole cause chain (`client error (Connect): tcp connect error: Connection refused`).
pub(crate) fn upstream_error(url: &str, err: &(dyn StdError + 'static)) -> AppError {
    let kind = upstream_kind(err);
    AppError::Upstream {
        kind: kind.to_string(),
        message: format!("upstream \"{url}\" failed: {kind} ({})", cause_chain(err)),
    }
}

/// A 502 for an upstream that did not finish within [`UPSTREAM_TIMEOUT`].
pub(crate) fn upstream_timeout(url: &str) -> AppError {
    AppError::Upstream {
        kind: ErrorKind::Timeout.label().to_string(),
        message: format!(
            "upstream \"{url}\" failed: timeout (no complete answer within {} s)",
            UPSTREAM_TIMEOUT.as_secs()
        ),
    }
}

/// Every message of the chain, outermost first, without repeating a message that its
/// wrapper already printed.
fn cause_chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = Some(err);
    while let Some(cause) = source {
        let text = cause.to_string();
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error wrapping another, as hyper-util's client error wraps a connect error.
    #[derive(Debug)]
    struct Wrapped(&'static str, Box<dyn StdError + Send + Sync>);
    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl StdError for Wrapped {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&*self.1)
        }
    }

    fn wrapped(io_err: io::Error) -> Wrapped {
        Wrapped(
            "client error (Connect)",
            Box::new(Wrapped("tcp connect error", Box::new(io_err))),
        )
    }

    #[test]
    fn the_io_error_under_wrappers_names_the_kind() {
        let cases = [
            (libc::EADDRNOTAVAIL, "address not available"),
            (libc::ECONNREFUSED, "connection refused"),
            (libc::ETIMEDOUT, "timeout"),
            (libc::ECONNRESET, "connection reset"),
            (libc::EPIPE, "connection reset"),
            (libc::EMFILE, "too many open files"),
            (libc::ENFILE, "too many open files"),
            (libc::EACCES, "other"),
        ];
        for (errno, kind) in cases {
            let err = wrapped(io::Error::from_raw_os_error(errno));
            assert_eq!(upstream_kind(&err), kind, "errno {errno}");
        }
    }

    #[test]
    fn the_502_quotes_the_url_and_the_whole_cause() {
        let err = wrapped(io::Error::from_raw_os_error(libc::EADDRNOTAVAIL));
        let app_error = upstream_error("http://127.0.0.1:9/x", &err);
        assert_eq!(app_error.status(), axum::http::StatusCode::BAD_GATEWAY);
        assert_eq!(app_error.kind(), "address not available");
        let message = app_error.to_string();
        assert!(message.contains("\"http://127.0.0.1:9/x\""), "{message}");
        assert!(message.contains("tcp connect error"), "{message}");
        assert!(message.contains("os error 99"), "{message}");
    }

    #[tokio::test]
    async fn an_elapsed_timer_is_a_timeout() {
        let elapsed = tokio::time::timeout(Duration::ZERO, std::future::pending::<()>())
            .await
            .unwrap_err();
        assert_eq!(upstream_kind(&elapsed), "timeout");
        assert_eq!(upstream_timeout("u").kind(), "timeout");
    }
}
