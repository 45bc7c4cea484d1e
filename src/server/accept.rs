//! The accept loop: every connection served by hyper's HTTP/1 builder with a timer, so a
//! client cannot hold the server's resources by being slow. `axum::serve` runs hyper
//! without a timer, and without one hyper's header-read timeout never fires: 2,000
//! half-sent request heads stayed open past 40 s there (fds 12 → 2,037, +54 MB).
//!
//! * **Header-read timeout** (`--header-timeout`): a connection has this long to send a
//!   whole request head, counted from when hyper starts waiting for one: on a new
//!   connection, and again on an idle keep-alive connection after each response. So it is
//!   also the keep-alive idle timeout: an idle connection is closed after it. A body that
//!   is slow to send is the handler's business (no endpoint here reads one).
//! * **Connection cap** (`--max-connections`): a permit is taken before `accept`, so past
//!   the cap new connections wait in the kernel's listen backlog instead of taking file
//!   descriptors; a permit comes back when its connection ends.
//! * **Accept errors** (e.g. `EMFILE`) are logged and retried after a pause, never fatal.
//! * **Graceful stop**: on the stop future, stop accepting, let each connection finish its
//!   request in flight (keep-alive off), and return when all have closed; the caller bounds
//!   that wait.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How long the loop waits after a failed `accept` (e.g. out of file descriptors) before
/// it tries again; the same pause `axum::serve` makes.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// The per-connection bounds of [`serve_connections`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    /// Longest wait for a whole request head (new or idle keep-alive connection).
    pub(crate) header_timeout: Duration,
    /// Most connections served at once.
    pub(crate) max_connections: usize,
}

/// Serves `app` on `listener` until `stop` resolves, then waits for the open connections
/// to finish their requests and close.
pub(crate) async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    stop: impl Future<Output = ()>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(permit) => permit,
                // The semaphore is never closed.
                Err(_) => break,
            },
            () = &mut stop => break,
        };
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(err) => {
                    tracing::warn!("accept error: {err}; retrying in {} s", ACCEPT_ERROR_PAUSE.as_secs());
                    tokio::select! {
                        () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => continue,
                        () = &mut stop => break,
                    }
                }
            },
            () = &mut stop => break,
        };
        // Responses are written in one go; Nagle would only delay the last segment.
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {err}");
        }
        let connection =
            builder.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(app.clone()));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A timed-out head, a reset or a bad request ends the connection; nothing to
            // report beyond debug.
            if let Err(err) = connection.await {
                tracing::debug!("connection ended: {err}");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    /// Starts a server with `limits` answering `/` with `ok`; returns its address.
    async fn start(limits: ConnectionLimits) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/", axum::routing::get(|| async { "ok" }));
        tokio::spawn(serve_connections(
            listener,
            app,
            limits,
            std::future::pending(),
        ));
        addr
    }

    /// Reads until the server closes the connection (EOF or reset); what it sent.
    async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
        let mut received = Vec::new();
        let _ = stream.read_to_end(&mut received).await;
        received
    }

    #[tokio::test]
    async fn half_a_request_head_is_closed_after_the_header_timeout() {
        let header_timeout = Duration::from_millis(300);
        let addr = start(ConnectionLimits {
            header_timeout,
            max_connections: 16,
        })
        .await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            .await
            .unwrap();
        let started = tokio::time::Instant::now();
        // Bounded: without a header timeout this would wait forever.
        let received = tokio::time::timeout(Duration::from_secs(10), read_to_close(&mut stream))
            .await
            .expect("the half-sent head was still open after 10 s");
        assert!(started.elapsed() >= header_timeout / 2, "closed too early");
        assert!(
            !String::from_utf8_lossy(&received).contains("200 OK"),
            "{received:?}"
        );
        // The server still serves a whole request.
        let mut fresh = TcpStream::connect(addr).await.unwrap();
        fresh
            .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let answer = read_to_close(&mut fresh).await;
        assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200 OK"));
    }

    #[tokio::test]
    async fn an_idle_keep_alive_connection_is_closed_after_the_timeout() {
        let addr = start(ConnectionLimits {
            header_timeout: Duration::from_millis(300),
            max_connections: 16,
        })
        .await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let received = tokio::time::timeout(Duration::from_secs(10), read_to_close(&mut stream))
            .await
            .expect("the idle keep-alive connection was still open after 10 s");
        assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 200 OK"));
    }

    #[tokio::test]
    async fn past_the_connection_cap_a_connection_waits_until_one_closes() {
        let addr = start(ConnectionLimits {
            header_timeout: Duration::from_secs(30),
            max_connections: 1,
        })
        .await;
        let mut first = TcpStream::connect(addr).await.unwrap();
        first
            .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let mut head = [0u8; 15];
        first.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200 OK");
        // The first connection is idle and open: the second is connected by the kernel
        // (backlog) but not served.
        let mut second = TcpStream::connect(addr).await.unwrap();
        second
            .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut byte = [0u8; 1];
        let waited = tokio::time::timeout(Duration::from_millis(300), second.read(&mut byte)).await;
        assert!(waited.is_err(), "served past the cap: {waited:?}");
        drop(first);
        let answer = tokio::time::timeout(Duration::from_secs(10), read_to_close(&mut second))
            .await
            .expect("not served after the first connection closed");
        assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200 OK"));
    }
}
