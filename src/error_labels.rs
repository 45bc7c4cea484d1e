//! The closed set of failure labels, shared by the load generator (`errors_by_kind`) and
//! the pattern server (the `kind` of its JSON errors, `/api/diagnostics` `errors`).
//!
//! A request that gets no response is data, not a crash: the load generator classifies the
//! failure into one of a few fixed kinds and counts it, and the server's client endpoints
//! classify their upstream failures with the same [`ErrorKind::from_io`]. The kinds are a
//! closed set (not the error's text) so `errors_by_kind` stays small however many requests
//! fail, and so a run's client-side and server-side counts line up (`connection refused`,
//! `address not available`, `timeout`). A leaf: imports nothing from the crate.

use std::io;

/// The kind counted when a leak cap stops a request (`--leak-cap` of staticstring and
/// cache/unbounded, or `--client-leak-cap` of /api/clientleak).
pub const LEAK_CAP_REACHED: &str = "leak cap reached";

/// Why a request got no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// Nothing listens on the target port (`ECONNREFUSED`).
    ConnectionRefused,
    /// No local address or ephemeral port was free for a new connection
    /// (`EADDRNOTAVAIL`; the loopback port range is exhausted, e.g. by TIME_WAIT).
    AddressNotAvailable,
    /// The process ran out of file descriptors (`EMFILE`/`ENFILE`).
    TooManyOpenFiles,
    /// No complete response within the per-request timeout.
    Timeout,
    /// The peer reset the connection (`ECONNRESET`, `ECONNABORTED`, `EPIPE`).
    ConnectionReset,
    /// The peer closed the connection before the response was complete.
    ConnectionClosed,
    /// The bytes that came back were not a valid HTTP/1.1 response.
    BadResponse,
    /// Anything else; rare enough not to deserve its own counter.
    Other,
}

impl ErrorKind {
    /// Every kind, in a fixed order (tests and exhaustive reports use it).
    #[cfg(test)]
    pub const ALL: [ErrorKind; 8] = [
        ErrorKind::ConnectionRefused,
        ErrorKind::AddressNotAvailable,
        ErrorKind::TooManyOpenFiles,
        ErrorKind::Timeout,
        ErrorKind::ConnectionReset,
        ErrorKind::ConnectionClosed,
        ErrorKind::BadResponse,
        ErrorKind::Other,
    ];

    /// The key in `errors_by_kind`, lower-case words such as `connection refused`.
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::ConnectionRefused => "connection refused",
            ErrorKind::AddressNotAvailable => "address not available",
            ErrorKind::TooManyOpenFiles => "too many open files",
            ErrorKind::Timeout => "timeout",
            ErrorKind::ConnectionReset => "connection reset",
            ErrorKind::ConnectionClosed => "connection closed",
            ErrorKind::BadResponse => "bad response",
            ErrorKind::Other => "other",
        }
    }

    /// Classifies an I/O error from connecting, reading or writing.
    pub fn from_io(err: &io::Error) -> ErrorKind {
        if matches!(err.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) {
            return ErrorKind::TooManyOpenFiles;
        }
        match err.kind() {
            io::ErrorKind::ConnectionRefused => ErrorKind::ConnectionRefused,
            io::ErrorKind::AddrNotAvailable => ErrorKind::AddressNotAvailable,
            io::ErrorKind::TimedOut => ErrorKind::Timeout,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => ErrorKind::ConnectionReset,
            io::ErrorKind::UnexpectedEof => ErrorKind::ConnectionClosed,
            _ => ErrorKind::Other,
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_map_to_their_kind() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(ErrorKind::from_io(&refused), ErrorKind::ConnectionRefused);
        let no_port = io::Error::from_raw_os_error(libc::EADDRNOTAVAIL);
        assert_eq!(ErrorKind::from_io(&no_port), ErrorKind::AddressNotAvailable);
        let no_fd = io::Error::from_raw_os_error(libc::EMFILE);
        assert_eq!(ErrorKind::from_io(&no_fd), ErrorKind::TooManyOpenFiles);
        let pipe = io::Error::from(io::ErrorKind::BrokenPipe);
        assert_eq!(ErrorKind::from_io(&pipe), ErrorKind::ConnectionReset);
        let odd = io::Error::other("something else");
        assert_eq!(ErrorKind::from_io(&odd), ErrorKind::Other);
    }

    #[test]
    fn a_leaf_imports_nothing_from_the_crate() {
        let text = include_str!("error_labels.rs");
        assert!(!text.contains(concat!("crate", "::")));
    }

    #[test]
    fn labels_are_distinct_lower_case_words() {
        let labels: std::collections::BTreeSet<&str> =
            ErrorKind::ALL.iter().map(|kind| kind.label()).collect();
        assert_eq!(labels.len(), ErrorKind::ALL.len());
        for label in labels {
            assert_eq!(label, label.to_lowercase());
        }
    }
}
