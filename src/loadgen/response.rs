//! Reading HTTP/1.1 responses off a keep-alive connection: the head parsed with
//! `httparse`, the body framed by the rules of RFC 9112 §6.3 (no body for 1xx, 204 and
//! 304; `Transfer-Encoding: chunked`; `Content-Length`; otherwise until the server closes)
//! and drained — counted, never stored.
//!
//! One reusable buffer per connection, so reading a response allocates nothing; it grows
//! only for a head that does not fit, up to [`MAX_BUFFER_BYTES`].

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error_labels::ErrorKind;

/// Starting size of a connection's read buffer: large enough that a body of a few tens of
/// KiB takes a read or two.
pub const INITIAL_BUFFER_BYTES: usize = 64 * 1024;

/// Largest response head (status line and headers) accepted.
pub const MAX_BUFFER_BYTES: usize = 1024 * 1024;

/// Most response headers accepted.
const MAX_HEADERS: usize = 64;

/// A response read in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseSummary {
    pub status: u16,
    /// Body bytes after de-chunking (the payload, not the framing).
    pub body_bytes: u64,
    /// Whether the response allows another request on the connection (HTTP/1.1 without
    /// `Connection: close`, and a body not delimited by the close).
    pub keep_alive: bool,
}

/// How the body of a response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

/// What the head of a response says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    /// Bytes of the status line and headers, final blank line included.
    len: usize,
    status: u16,
    framing: Framing,
    keep_alive: bool,
}

/// A connection's read buffer: `buf[start..end]` is received but not yet consumed.
#[derive(Debug)]
pub struct ResponseReader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Default for ResponseReader {
    fn default() -> Self {
        ResponseReader::new()
    }
}

impl ResponseReader {
    pub fn new() -> ResponseReader {
        ResponseReader {
            buf: vec![0; INITIAL_BUFFER_BYTES],
            start: 0,
            end: 0,
        }
    }

    /// Bytes received that no response has claimed: on a connection without pipelining,
    /// anything here is unsolicited and the connection is not to be trusted further.
    pub fn has_unread_bytes(&self) -> bool {
        self.start < self.end
    }

    /// Reads one response (skipping interim 1xx responses) and drains its body.
    pub async fn read_response<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
    ) -> Result<ResponseSummary, ErrorKind> {
        loop {
            let head = loop {
                if let Some(head) = parse_head(&self.buf[self.start..self.end])? {
                    break head;
                }
                if self.fill(io).await? == 0 {
                    return Err(ErrorKind::ConnectionClosed);
                }
            };
            self.start += head.len;
            // 100 Continue, 103 Early Hints: the real response follows. (101 Switching
            // Protocols ends HTTP on this connection; it is reported as it is.)
            if (100..200).contains(&head.status) && head.status != 101 {
                continue;
            }
            let body_bytes = match head.framing {
                Framing::Length(len) => {
                    self.skip(io, len).await?;
                    len
                }
                Framing::Chunked => self.drain_chunked(io).await?,
                Framing::UntilClose => self.drain_until_close(io).await?,
            };
            return Ok(ResponseSummary {
                status: head.status,
                body_bytes,
                keep_alive: head.keep_alive,
            });
        }
    }

    /// Reads more bytes; returns how many (0 at end of stream). Makes room first:
    /// consumed bytes are dropped, and a buffer full of one unconsumed head doubles.
    async fn fill<R: AsyncRead + Unpin>(&mut self, io: &mut R) -> Result<usize, ErrorKind> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else if self.buf.len() < MAX_BUFFER_BYTES {
                self.buf.resize(self.buf.len() * 2, 0);
            } else {
                // A head (or chunk-size line) that does not fit in the largest buffer.
                return Err(ErrorKind::BadResponse);
            }
        }
        let read = io
            .read(&mut self.buf[self.end..])
            .await
            .map_err(|err| ErrorKind::from_io(&err))?;
        self.end += read;
        Ok(read)
    }

    /// Consumes `len` body bytes, reading as needed.
    async fn skip<R: AsyncRead + Unpin>(&mut self, io: &mut R, len: u64) -> Result<(), ErrorKind> {
        let mut remaining = len;
        loop {
            let available = (self.end - self.start) as u64;
            let taken = remaining.min(available);
            // `taken <= available`, which is a usize.
            self.start += taken as usize;
            remaining -= taken;
            if remaining == 0 {
                return Ok(());
            }
            if self.fill(io).await? == 0 {
                return Err(ErrorKind::ConnectionClosed);
            }
        }
    }

    /// Consumes a chunked body and its trailers; returns the payload size.
    async fn drain_chunked<R: AsyncRead + Unpin>(&mut self, io: &mut R) -> Result<u64, ErrorKind> {
        let mut body_bytes = 0u64;
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.buf[self.start..self.end]) {
                    Ok(httparse::Status::Complete((len, size))) => {
                        self.start += len;
                        break size;
                    }
                    Ok(httparse::Status::Partial) => {
                        if self.fill(io).await? == 0 {
                            return Err(ErrorKind::ConnectionClosed);
                        }
                    }
                    Err(_) => return Err(ErrorKind::BadResponse),
                }
            };
            if size == 0 {
                self.skip_trailers(io).await?;
                return Ok(body_bytes);
            }
            self.skip(io, size).await?;
            body_bytes += size;
            self.expect_crlf(io).await?;
        }
    }

    /// Consumes trailer lines up to and including the blank line that ends the body.
    async fn skip_trailers<R: AsyncRead + Unpin>(&mut self, io: &mut R) -> Result<(), ErrorKind> {
        loop {
            let pending = &self.buf[self.start..self.end];
            match pending.windows(2).position(|pair| pair == b"\r\n") {
                Some(0) => {
                    self.start += 2;
                    return Ok(());
                }
                Some(line) => self.start += line + 2,
                None => {
                    if self.fill(io).await? == 0 {
                        return Err(ErrorKind::ConnectionClosed);
                    }
                }
            }
        }
    }

    /// Consumes the CRLF that ends a chunk's data.
    async fn expect_crlf<R: AsyncRead + Unpin>(&mut self, io: &mut R) -> Result<(), ErrorKind> {
        while self.end - self.start < 2 {
            if self.fill(io).await? == 0 {
                return Err(ErrorKind::ConnectionClosed);
            }
        }
        if &self.buf[self.start..self.start + 2] != b"\r\n" {
            return Err(ErrorKind::BadResponse);
        }
        self.start += 2;
        Ok(())
    }

    /// Consumes everything until the server closes; returns how much that was.
    async fn drain_until_close<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
    ) -> Result<u64, ErrorKind> {
        let mut body_bytes = 0u64;
        loop {
            body_bytes += (self.end - self.start) as u64;
            self.start = self.end;
            if self.fill(io).await? == 0 {
                return Ok(body_bytes);
            }
        }
    }
}

/// Parses a response head; `None` while it is incomplete.
fn parse_head(bytes: &[u8]) -> Result<Option<Head>, ErrorKind> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(ErrorKind::BadResponse),
    };
    // A complete parse always has both; checked rather than assumed.
    let (Some(status), Some(minor_version)) = (response.code, response.version) else {
        return Err(ErrorKind::BadResponse);
    };
    let mut content_length: Option<u64> = None;
    let mut transfer_encoding: Option<&[u8]> = None;
    let mut close = false;
    let mut keep_alive_token = false;
    for header in response.headers.iter() {
        if header.name.eq_ignore_ascii_case("content-length") {
            let len = std::str::from_utf8(header.value)
                .ok()
                .and_then(|text| text.trim().parse::<u64>().ok())
                .ok_or(ErrorKind::BadResponse)?;
            // Repeated lengths must agree (RFC 9110 §8.6).
            if content_length.is_some_and(|earlier| earlier != len) {
                return Err(ErrorKind::BadResponse);
            }
            content_length = Some(len);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            transfer_encoding = Some(header.value);
        } else if header.name.eq_ignore_ascii_case("connection") {
            for token in header.value.split(|&byte| byte == b',') {
                let token = token.trim_ascii();
                close |= token.eq_ignore_ascii_case(b"close");
                keep_alive_token |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        }
    }
    let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::Length(0)
    } else if let Some(codings) = transfer_encoding {
        // Chunked only when it is the final coding; anything else is read until close.
        let last = codings.rsplit(|&byte| byte == b',').next().unwrap_or(b"");
        if last.trim_ascii().eq_ignore_ascii_case(b"chunked") {
            Framing::Chunked
        } else {
            Framing::UntilClose
        }
    } else if let Some(len) = content_length {
        Framing::Length(len)
    } else {
        Framing::UntilClose
    };
    let persistent = if minor_version >= 1 {
        !close
    } else {
        keep_alive_token && !close
    };
    Ok(Some(Head {
        len,
        status,
        framing,
        keep_alive: persistent && framing != Framing::UntilClose,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use tokio::io::ReadBuf;

    /// Hands out its bytes `step` at a time, to exercise every partial-read path.
    struct Trickle {
        bytes: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            let end = (self.at + self.step)
                .min(self.bytes.len())
                .min(self.at + buf.remaining());
            buf.put_slice(&self.bytes[self.at..end]);
            self.at = end;
            Poll::Ready(Ok(()))
        }
    }

    /// Reads every response in `wire`, with reads of every size from 1 byte to all at once.
    fn read_all(wire: &[u8], responses: usize) -> Vec<Result<ResponseSummary, ErrorKind>> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut outcomes: Option<Vec<_>> = None;
        for step in [1, 2, 3, 7, 64, usize::MAX / 2] {
            let mut io = Trickle {
                bytes: wire.to_vec(),
                at: 0,
                step,
            };
            let mut reader = ResponseReader::new();
            let these: Vec<_> = runtime.block_on(async {
                let mut these = Vec::new();
                for _ in 0..responses {
                    these.push(reader.read_response(&mut io).await);
                }
                these
            });
            match &outcomes {
                Some(first) => assert_eq!(first, &these, "step {step}"),
                None => outcomes = Some(these),
            }
        }
        outcomes.unwrap()
    }

    fn ok(status: u16, body_bytes: u64, keep_alive: bool) -> Result<ResponseSummary, ErrorKind> {
        Ok(ResponseSummary {
            status,
            body_bytes,
            keep_alive,
        })
    }

    #[test]
    fn content_length_bodies_back_to_back() {
        let wire = b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\npongHTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(read_all(wire, 2), vec![ok(200, 4, true), ok(500, 0, true)]);
    }

    #[test]
    fn chunked_bodies_with_extensions_and_trailers() {
        let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nRust\r\na;x=y\r\n0123456789\r\n0\r\nTrailer: yes\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
        assert_eq!(read_all(wire, 2), vec![ok(200, 14, true), ok(204, 0, true)]);
    }

    #[test]
    fn interim_responses_are_skipped() {
        let wire = b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
        assert_eq!(read_all(wire, 1), vec![ok(200, 2, true)]);
    }

    #[test]
    fn connection_close_and_http_1_0_end_keep_alive() {
        let wire = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx";
        assert_eq!(read_all(wire, 1), vec![ok(200, 1, false)]);
        let wire = b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx";
        assert_eq!(read_all(wire, 1), vec![ok(200, 1, false)]);
        let wire = b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx";
        assert_eq!(read_all(wire, 1), vec![ok(200, 1, true)]);
    }

    #[test]
    fn a_body_without_length_is_read_until_close() {
        let wire = b"HTTP/1.1 200 OK\r\n\r\nall of this";
        assert_eq!(read_all(wire, 1), vec![ok(200, 11, false)]);
    }

    #[test]
    fn a_large_body_and_a_large_head_fit() {
        let body = vec![b'x'; 3 * INITIAL_BUFFER_BYTES + 5];
        let big_header = "v".repeat(INITIAL_BUFFER_BYTES + 10);
        let mut wire = format!(
            "HTTP/1.1 200 OK\r\nX-Big: {big_header}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        wire.extend_from_slice(&body);
        assert_eq!(read_all(&wire, 1), vec![ok(200, body.len() as u64, true)]);
    }

    #[test]
    fn broken_responses_are_errors_by_kind() {
        assert_eq!(read_all(b"", 1), vec![Err(ErrorKind::ConnectionClosed)]);
        assert_eq!(
            read_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 1),
            vec![Err(ErrorKind::ConnectionClosed)]
        );
        assert_eq!(
            read_all(b"SSH-2.0-OpenSSH\r\n\r\n", 1),
            vec![Err(ErrorKind::BadResponse)]
        );
        assert_eq!(
            read_all(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", 1),
            vec![Err(ErrorKind::BadResponse)]
        );
        assert_eq!(
            read_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                1
            ),
            vec![Err(ErrorKind::BadResponse)]
        );
        assert_eq!(
            read_all(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                1
            ),
            vec![Err(ErrorKind::BadResponse)]
        );
        assert_eq!(
            read_all(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX0\r\n\r\n",
                1
            ),
            vec![Err(ErrorKind::BadResponse)]
        );
    }

    #[test]
    fn unsolicited_bytes_after_a_response_are_seen() {
        let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxGARBAGE";
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut io: &[u8] = wire;
        let mut reader = ResponseReader::new();
        let summary = runtime.block_on(reader.read_response(&mut io)).unwrap();
        assert_eq!(summary, ok(200, 1, true).unwrap());
        assert!(reader.has_unread_bytes());
    }
}
