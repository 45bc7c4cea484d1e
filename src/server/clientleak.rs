//! `/api/clientleak`: a client connection per request that is never closed, the pattern of
//! the Go gRPC post-mortem (a client created per request, `Close` never called).
//!
//! Each request opens an HTTP/1.1 connection (hyper `client::conn::http1`) to the server's
//! own `/api/ping`, sends one request, and then keeps the `SendRequest` handle and the
//! connection task alive in a process-wide list. The socket (and the server's end of it,
//! in this same process), the task and hyper's buffers live until `POST /api/reset`.
//!
//! Where the connections live, and why: every leaked connection is created and driven by
//! one dedicated thread running a current-thread runtime (started on first use, stopped
//! when the state is dropped). All of a connection's client-side allocations — the
//! socket registration, the spawned connection task, hyper's read and write buffers —
//! then happen on that one thread, so the growth of that thread's live heap across the
//! creation ([`thread_heap_counters`]) is what the connection keeps on the client side,
//! measured, not estimated (26,705 bytes per connection here, the same for every one). Creations
//! take turns so their measuring windows never overlap. Not counted: the server's end of
//! each connection, which lives in this same process and holds about as much again (the
//! process's live heap grew 56.6 KB per leaked connection here; the server's buffers are
//! allocated by its worker threads, mixed with every other request's), and kernel socket
//! memory.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::http::{Request, header};
use bytes::Bytes;
use http_body_util::Empty;
use hyper::client::conn::http1::{SendRequest, handshake};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio::runtime::Handle;
use tokio::sync::{OnceCell, oneshot};
use tokio::task::JoinHandle;

use super::config::ServerConfig;
use super::error::AppError;
use super::loopback::self_upstream_addr;
use super::upstream::{UPSTREAM_TIMEOUT, count_body_bytes, upstream_error, upstream_timeout};
use crate::diagnostics::Held;
use crate::memory::thread_heap_counters;

/// The connections `/api/clientleak` holds and the thread that drives them.
pub(crate) struct ClientLeaks {
    /// Most connections held at once (`--client-leak-cap`); past it, 507.
    cap: usize,
    /// Where the connections go: the server's own address.
    upstream: SocketAddr,
    /// Shared with the creating tasks on the leak thread; a std mutex because it is held
    /// only to push, sum or take the list, never across an await.
    held: Arc<Mutex<Vec<LeakedConnection>>>,
    /// The leak thread, started by the first request.
    runtime: OnceCell<LeakRuntime>,
}

/// One connection kept open on purpose.
struct LeakedConnection {
    /// Dropping this handle is what lets the connection task finish and close the socket;
    /// holding it is the leak.
    sender: SendRequest<Empty<Bytes>>,
    /// The task that drives the connection (dropping a JoinHandle does not stop it).
    _task: JoinHandle<()>,
    /// Live heap growth of the leak thread while this connection was created.
    heap_bytes: u64,
}

/// The dedicated thread's runtime.
struct LeakRuntime {
    handle: Handle,
    /// Dropped with the state: the thread's `block_on` returns and its runtime, with every
    /// connection task, is dropped on that thread.
    _stop: oneshot::Sender<()>,
    /// Creations take turns, so one measuring window never sees another's allocations.
    creating: Arc<tokio::sync::Mutex<()>>,
}

/// The answer of `/api/clientleak`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct LeakedReply {
    /// Connections held now, this one included.
    pub(crate) connections_held: u64,
    /// The cap (`--client-leak-cap`).
    pub(crate) cap: u64,
    /// Heap bytes this connection keeps (client side, measured at creation).
    pub(crate) connection_heap_bytes: u64,
    /// Heap bytes all held connections keep.
    pub(crate) held_heap_bytes: u64,
    pub(crate) upstream_status: u16,
}

impl ClientLeaks {
    pub(crate) fn new(config: &ServerConfig) -> ClientLeaks {
        ClientLeaks {
            cap: config.client_leak_cap,
            upstream: self_upstream_addr(config.self_addr),
            held: Arc::new(Mutex::new(Vec::new())),
            runtime: OnceCell::new(),
        }
    }

    /// Connections held open and the heap bytes measured when they were created.
    /// Connections the upstream has closed meanwhile are let go first: their task ended
    /// and freed its buffers, so counting them would overstate the leak.
    pub(crate) fn held(&self) -> Held {
        let mut held = lock(&self.held);
        let closed = let_go_of_closed(&mut held);
        let summary = summary(&held);
        drop(held);
        drop(closed);
        summary
    }

    /// Drops every held connection: each connection task sees its handle gone, closes its
    /// socket and ends.
    pub(crate) fn reset(&self) {
        let dropped = std::mem::take(&mut *lock(&self.held));
        // Dropped outside the lock: closing is not instant and the list is free again.
        drop(dropped);
    }

    /// Opens one connection, sends `/api/ping` once and keeps the connection.
    pub(crate) async fn open(&self) -> Result<LeakedReply, AppError> {
        let runtime = self.runtime.get_or_try_init(start_leak_runtime).await?;
        let creating = runtime.creating.clone();
        let held = self.held.clone();
        let (cap, upstream) = (self.cap, self.upstream);
        runtime
            .handle
            .spawn(async move {
                let _turn = creating.lock().await;
                {
                    let mut held = lock(&held);
                    let _closed = let_go_of_closed(&mut held);
                    if held.len() >= cap {
                        return Err(cap_reached(cap));
                    }
                }
                let before = thread_heap_counters();
                let opened = open_connection(upstream).await;
                let after = thread_heap_counters();
                let (sender, task, upstream_status) = opened?;
                let heap_bytes = after.net_bytes_since(&before).max(0) as u64;
                let mut held = lock(&held);
                held.push(LeakedConnection {
                    sender,
                    _task: task,
                    heap_bytes,
                });
                let summary = summary(&held);
                Ok(LeakedReply {
                    connections_held: summary.items,
                    cap: cap as u64,
                    connection_heap_bytes: heap_bytes,
                    held_heap_bytes: summary.bytes,
                    upstream_status,
                })
            })
            .await
            .map_err(|e| AppError::Internal(format!("the clientleak thread failed: {e}")))?
    }
}

/// Connects, handshakes, spawns the connection task on the current (leak) runtime and
/// sends one `GET /api/ping`, reading its whole answer: the connection is then idle and
/// open, holding what an idle client connection holds.
async fn open_connection(
    upstream: SocketAddr,
) -> Result<(SendRequest<Empty<Bytes>>, JoinHandle<()>, u16), AppError> {
    let url = format!("http://{upstream}/api/ping");
    let exchange = async {
        let stream = TcpStream::connect(upstream)
            .await
            .map_err(|e| upstream_error(&url, &e))?;
        // Same as the other clients; a failure here changes nothing that matters.
        let _ = stream.set_nodelay(true);
        let (mut sender, connection) = handshake(TokioIo::new(stream))
            .await
            .map_err(|e| upstream_error(&url, &e))?;
        let task = tokio::spawn(async move {
            // The connection ends when the handle is dropped (reset) or the peer closes;
            // either way there is nobody left to tell.
            let _ = connection.await;
        });
        let request = Request::get("/api/ping")
            .header(header::HOST, upstream.to_string())
            .body(Empty::<Bytes>::new())
            .map_err(|e| AppError::Internal(format!("cannot build a request to \"{url}\": {e}")))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| upstream_error(&url, &e))?;
        let status = response.status().as_u16();
        count_body_bytes(response.into_body())
            .await
            .map_err(|e| upstream_error(&url, &e))?;
        Ok((sender, task, status))
    };
    tokio::time::timeout(UPSTREAM_TIMEOUT, exchange)
        .await
        .map_err(|_| upstream_timeout(&url))?
}

/// Starts the leak thread and returns its runtime's handle once the runtime exists.
async fn start_leak_runtime() -> Result<LeakRuntime, AppError> {
    let (handle_tx, handle_rx) = oneshot::channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("clientleak".to_string())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = handle_tx.send(Err(e));
                    return;
                }
            };
            let _ = handle_tx.send(Ok(runtime.handle().clone()));
            // Runs the connection tasks until the state is dropped (sender gone).
            runtime.block_on(async {
                let _ = stop_rx.await;
            });
        })
        .map_err(|e| AppError::Internal(format!("cannot start the clientleak thread: {e}")))?;
    let handle = handle_rx
        .await
        .map_err(|_| AppError::Internal("the clientleak thread ended at start".to_string()))?
        .map_err(|e| AppError::Internal(format!("cannot start the clientleak runtime: {e}")))?;
    Ok(LeakRuntime {
        handle,
        _stop: stop_tx,
        creating: Arc::new(tokio::sync::Mutex::new(())),
    })
}

fn cap_reached(cap: usize) -> AppError {
    AppError::CapReached {
        kind: crate::error_labels::LEAK_CAP_REACHED,
        message: format!(
            "clientleak holds {cap} connections, its cap (--client-leak-cap {cap}); \
             POST /api/reset closes them"
        ),
    }
}

/// The list survives a panic elsewhere: it holds no invariant a half-done push breaks.
fn lock(held: &Mutex<Vec<LeakedConnection>>) -> std::sync::MutexGuard<'_, Vec<LeakedConnection>> {
    held.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Takes the connections whose upstream closed them out of the list.
fn let_go_of_closed(held: &mut Vec<LeakedConnection>) -> Vec<LeakedConnection> {
    let (closed, open) = std::mem::take(held)
        .into_iter()
        .partition(|connection| connection.sender.is_closed());
    *held = open;
    closed
}

fn summary(held: &[LeakedConnection]) -> Held {
    Held {
        items: held.len() as u64,
        bytes: held.iter().map(|c| c.heap_bytes).sum(),
    }
}

// Counted through /proc/net/tcp: Linux only.
#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::server::state::SharedState;
    use crate::server::test_support::{get, json, start_upstream, state_upstream, state_with};
    use axum::http::StatusCode;
    use procfs::net::TcpState;

    /// ESTABLISHED sockets of this process with one end on `port`: both ends of every
    /// connection to an in-process upstream. Counted per port because other tests of the
    /// binary open and close sockets at the same time, and by distinct inode because
    /// `/proc/net/tcp` is read in chunks while sockets come and go, so one reading can
    /// list a socket twice or miss it (callers poll until the count settles).
    fn established_on(port: u16) -> usize {
        let process = procfs::process::Process::myself().unwrap();
        let mut entries = process.tcp().unwrap();
        entries.extend(process.tcp6().unwrap_or_default());
        let inodes: std::collections::HashSet<u64> = process
            .fd()
            .unwrap()
            .filter_map(|fd| match fd.ok()?.target {
                procfs::process::FDTarget::Socket(inode) => Some(inode),
                _ => None,
            })
            .collect();
        entries
            .iter()
            .filter(|e| e.state == TcpState::Established && inodes.contains(&e.inode))
            .filter(|e| e.local_address.port() == port || e.remote_address.port() == port)
            .map(|e| e.inode)
            .collect::<std::collections::HashSet<u64>>()
            .len()
    }

    async fn request(state: &SharedState) -> (StatusCode, serde_json::Value) {
        let (status, body) = get(state, "/api/clientleak").await;
        (status, json(&body))
    }

    /// Polls `condition` until it holds or 10 s pass (closing sockets is asynchronous).
    async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !condition() {
            assert!(
                std::time::Instant::now() < deadline,
                "{what} never happened"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn each_request_keeps_one_open_connection_until_reset() {
        const REQUESTS: u64 = 12;
        let _turn = crate::server::fileprovider::FD_COUNTING_TESTS.lock().await;
        let addr = start_upstream().await;
        let state = state_upstream(addr);

        for expected_held in 1..=REQUESTS {
            let (status, body) = request(&state).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["connections_held"], expected_held);
            assert_eq!(body["upstream_status"], 200);
        }

        let held = state.clients.held();
        assert_eq!(held.items, REQUESTS);
        assert!(
            held.bytes > 0,
            "no heap measured for {REQUESTS} connections"
        );
        // Both ends of each connection live in this process, and nothing else talks to
        // this fresh upstream.
        let expected = 2 * REQUESTS as usize;
        eventually("both ends of every leaked connection established", || {
            established_on(addr.port()) == expected
        })
        .await;
        eventually("read_process seeing them", || {
            let process = crate::memory::read_process_with(
                crate::memory::ProbeKind::Linux,
                std::process::id(),
            )
            .unwrap();
            process.tcp.unwrap().established >= expected as u64
        })
        .await;

        state.clients.reset();
        assert_eq!(state.clients.held(), Held::default());
        eventually("the leaked connections closing", || {
            established_on(addr.port()) == 0
        })
        .await;
    }

    #[tokio::test]
    async fn past_the_cap_is_a_507_and_reset_makes_room() {
        let addr = start_upstream().await;
        let state = state_with(|config| {
            config.self_addr = addr;
            config.client_leak_cap = 2;
        });

        for _ in 0..2 {
            assert_eq!(request(&state).await.0, StatusCode::OK);
        }
        let (status, body) = request(&state).await;
        assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
        assert_eq!(body["kind"], crate::error_labels::LEAK_CAP_REACHED);
        let message = body["error"].as_str().unwrap();
        assert!(message.contains("--client-leak-cap 2"), "{message}");
        assert!(message.contains("POST /api/reset"), "{message}");
        assert_eq!(state.clients.held().items, 2);

        state.clients.reset();
        assert_eq!(state.clients.held().items, 0);
        assert_eq!(request(&state).await.0, StatusCode::OK);
        assert_eq!(state.clients.held().items, 1);
    }

    #[tokio::test]
    async fn a_connection_the_upstream_closed_is_no_longer_held() {
        // An upstream that answers one request and then closes the connection itself.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\npong")
                    .await;
            }
        });
        let state = state_upstream(addr);
        let (status, body) = request(&state).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["connections_held"], 1);
        eventually("the closed connection being let go", || {
            state.clients.held().items == 0
        })
        .await;
        assert_eq!(state.clients.held().bytes, 0);
    }

    #[tokio::test]
    async fn nothing_listening_is_a_502_and_holds_nothing() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let state = state_upstream(closed);
        let (status, body) = request(&state).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
        assert_eq!(body["kind"], "connection refused");
        assert_eq!(state.clients.held(), Held::default());
    }
}
