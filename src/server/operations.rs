//! `/api/operation/leak/{size}` and `/api/operation/scoped/{size}`: an I/O operation object
//! per request that is never disposed, and its fix. The pattern of the .NET post-mortem
//! where an async read/write helper created a `SocketAsyncEventArgs` (an operation that owns
//! a buffer and an OS registration) per call and never disposed it.
//!
//! The Rust analog: each request makes a connected socket pair (`UnixStream::pair`, two
//! file descriptors registered with the runtime's epoll), the peer sends a short message,
//! and a receive operation with a `size`-byte buffer reads it and copies the bytes out.
//!
//! * leak: the receive runs as a spawned task that re-arms after every message, like a
//!   receive loop, and the peer end is kept and never closed. After the first message the
//!   task parks on its next read forever, holding its buffer, its socket and its epoll
//!   registration. Nothing cancels it until `POST /api/reset` (which aborts every task and
//!   closes every peer). Bounded: past [`OPERATION_CAP`] operations, or past `--leak-cap`
//!   bytes of buffers, 507.
//! * scoped: the same receive awaited inside the request with a timeout; the bytes are
//!   copied out, and buffer and both sockets are dropped when the handler returns.
//!
//! Each leaked operation is one parked tokio task, not a thread: tasks are state machines
//! multiplexed on the runtime's few worker threads, so the thread count stays flat where
//! .NET's grew. Memory (the buffers) and fds (two per pair) grow.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::buffers::parse_size;
use super::config::ServerConfig;
use super::error::AppError;
use super::state::{Part, SharedState};
use crate::diagnostics::Held;
use crate::error_labels::LEAK_CAP_REACHED;
use crate::format::format_bytes;

const LEAK: &str = "/api/operation/leak/{size}";
const SCOPED: &str = "/api/operation/scoped/{size}";

/// The route templates of this family.
pub(crate) const ROUTES: &[&str] = &[LEAK, SCOPED];

/// Most operations `/api/operation/leak` keeps before 507: each holds two file
/// descriptors, so 4,000 of them stay well under a soft fd limit of 20,000 and leave room
/// for the connections the load itself opens.
pub(crate) const OPERATION_CAP: usize = 4000;

/// What the peer sends: the message each receive operation reads and copies out.
const MESSAGE: &[u8] = b"membench: the peer's message, received by one operation\n";

/// How long either receive waits for the message (it is already written, so it never
/// waits long; the bound keeps a broken pair from holding a request).
const RECEIVE_TIMEOUT: Duration = Duration::from_secs(1);

/// The operations `/api/operation/leak` started and never cancelled.
pub(crate) struct Operations {
    /// Bytes of buffers they may hold together (`--leak-cap`).
    cap_bytes: u64,
    held: Mutex<Vec<Operation>>,
    /// Bytes of their buffers (read without the lock by the cap check).
    held_bytes: Arc<AtomicU64>,
}

/// One receive operation left running.
struct Operation {
    /// The other end of the pair, kept open: its receive never sees end of file.
    _peer: UnixStream,
    /// The parked receive loop; aborted on reset (dropping a JoinHandle does not stop it).
    task: JoinHandle<()>,
    buffer_bytes: u64,
}

/// The answer of both endpoints.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct OperationReply {
    /// Bytes the operation received and copied out.
    pub(crate) received_bytes: u64,
    /// Size of the operation's buffer.
    pub(crate) buffer_bytes: u64,
    /// Operations `/api/operation/leak` holds now (0 after a scoped one, unless the leak
    /// ran too).
    pub(crate) operations_live: u64,
    /// Bytes their buffers hold.
    pub(crate) held_bytes: u64,
}

impl Operations {
    pub(crate) fn new(config: &ServerConfig) -> Operations {
        Operations {
            cap_bytes: config.leak_cap_bytes,
            held: Mutex::new(Vec::new()),
            held_bytes: Arc::default(),
        }
    }

    /// Live operations and the bytes of their buffers.
    pub(crate) fn held(&self) -> Held {
        Held {
            items: self.lock().len() as u64,
            bytes: self.held_bytes.load(Relaxed),
        }
    }

    /// Cancels every operation: aborts its task (which drops its buffer and socket) and
    /// closes its peer.
    pub(crate) fn reset(&self) {
        let dropped = std::mem::take(&mut *self.lock());
        self.held_bytes.store(0, Relaxed);
        for operation in &dropped {
            operation.task.abort();
        }
        drop(dropped);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Operation>> {
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// 507 when one more operation of `adding_bytes` would pass a cap. Checked before the
    /// operation starts and kept after, so concurrent requests can overshoot by one
    /// operation each.
    fn check(&self, adding_bytes: u64) -> Result<(), AppError> {
        let live = self.lock().len();
        let held = self.held_bytes.load(Relaxed);
        let past = if live >= OPERATION_CAP {
            format!("{live} operations, the most it keeps ({OPERATION_CAP}, two fds each)")
        } else if held.saturating_add(adding_bytes) > self.cap_bytes {
            format!(
                "{} of buffers ({held} bytes) and this one would add {adding_bytes}, past \
                 --leak-cap {}",
                format_bytes(held),
                format_bytes(self.cap_bytes)
            )
        } else {
            return Ok(());
        };
        Err(AppError::CapReached {
            kind: LEAK_CAP_REACHED,
            message: format!(
                "leak cap reached: /api/operation/leak holds {past}; POST /api/reset cancels \
                 them (or use /api/operation/scoped, the fix)"
            ),
        })
    }

    fn keep(&self, operation: Operation) -> Held {
        let mut held = self.lock();
        self.held_bytes.fetch_add(operation.buffer_bytes, Relaxed);
        held.push(operation);
        Held {
            items: held.len() as u64,
            bytes: self.held_bytes.load(Relaxed),
        }
    }
}

/// A zeroed buffer of `size` bytes with every page written, as a managed `byte[]` is.
fn receive_buffer(size: usize) -> Vec<u8> {
    let mut buffer = vec![0u8; size];
    for byte in buffer.iter_mut().step_by(4096) {
        *byte = 1;
    }
    std::hint::black_box(buffer)
}

/// A connected pair whose peer has sent [`MESSAGE`]: `(ours, peer)`.
async fn pair_with_message() -> Result<(UnixStream, UnixStream), AppError> {
    let (ours, mut peer) = UnixStream::pair().map_err(|e| AppError::Unavailable {
        kind: crate::error_labels::ErrorKind::from_io(&e)
            .label()
            .to_string(),
        message: format!("cannot create a socket pair: {e}; POST /api/reset frees leaked ones"),
    })?;
    peer.write_all(MESSAGE)
        .await
        .map_err(|e| AppError::Internal(format!("cannot write to the socket pair: {e}")))?;
    Ok((ours, peer))
}

fn timed_out() -> AppError {
    AppError::Internal(format!(
        "the receive operation read nothing within {RECEIVE_TIMEOUT:?} though its peer had \
         written"
    ))
}

/// `GET /api/operation/leak/{size}`: starts a receive loop with a `size`-byte buffer,
/// answers with the first message's bytes, and leaves the loop parked forever.
async fn leak(
    State(config): State<Part<ServerConfig>>,
    State(operations): State<Part<Operations>>,
    size: Result<Path<String>, PathRejection>,
) -> Result<Json<OperationReply>, AppError> {
    let size = parse_size(size, config.max_size_bytes)?;
    operations.check(size as u64)?;
    let (mut ours, peer) = pair_with_message().await?;
    let (first, received) = oneshot::channel::<Vec<u8>>();
    let task = tokio::spawn(async move {
        let mut buffer = receive_buffer(size);
        let mut first = Some(first);
        // Re-armed after every message, until the peer closes: it never does.
        while let Ok(n @ 1..) = ours.read(&mut buffer).await {
            if let Some(first) = first.take() {
                let _ = first.send(buffer[..n].to_vec());
            }
        }
    });
    let received = match tokio::time::timeout(RECEIVE_TIMEOUT, received).await {
        Ok(Ok(bytes)) => bytes,
        _ => {
            task.abort();
            return Err(timed_out());
        }
    };
    let held = operations.keep(Operation {
        _peer: peer,
        task,
        buffer_bytes: size as u64,
    });
    Ok(Json(OperationReply {
        received_bytes: received.len() as u64,
        buffer_bytes: size as u64,
        operations_live: held.items,
        held_bytes: held.bytes,
    }))
}

/// `GET /api/operation/scoped/{size}`: the same receive, awaited in the request; the bytes
/// are copied out and the buffer and both sockets dropped before the answer.
async fn scoped(
    State(config): State<Part<ServerConfig>>,
    State(operations): State<Part<Operations>>,
    size: Result<Path<String>, PathRejection>,
) -> Result<Json<OperationReply>, AppError> {
    let size = parse_size(size, config.max_size_bytes)?;
    let received = {
        let (mut ours, _peer) = pair_with_message().await?;
        let mut buffer = receive_buffer(size);
        let n = tokio::time::timeout(RECEIVE_TIMEOUT, ours.read(&mut buffer))
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| AppError::Internal(format!("the receive operation failed: {e}")))?;
        buffer[..n].to_vec()
    };
    let held = operations.held();
    Ok(Json(OperationReply {
        received_bytes: received.len() as u64,
        buffer_bytes: size as u64,
        operations_live: held.items,
        held_bytes: held.bytes,
    }))
}

/// `GET /api/operation/leak/{size}`, `/api/operation/scoped/{size}`.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route(LEAK, get(leak))
        .route(SCOPED, get(scoped))
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;
    use crate::server::test_support::{get, json, send, state};

    #[tokio::test]
    async fn the_leak_keeps_its_operation_and_reset_cancels_it() {
        let state = state();
        for _ in 0..3 {
            let (status, body) = get(&state, "/api/operation/leak/65536").await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(json(&body)["received_bytes"], MESSAGE.len() as u64);
        }
        assert_eq!(
            state.operations.held(),
            Held {
                items: 3,
                bytes: 3 * 65536
            }
        );
        // Not the process's fd count: tests running beside this one open and close
        // sockets of their own, so a delta of it is not this test's (it failed so in CI).
        // The descriptors show in a real run: `membench run operation-leak` (fds 13 → 1,413).
        let (_, body) = send(&state, "POST", "/api/reset").await;
        assert_eq!(json(&body)["dropped"]["operations"]["items"], 3);
        assert_eq!(state.operations.held(), Held::default());
    }

    #[tokio::test]
    async fn the_scoped_operation_copies_the_bytes_out_and_keeps_nothing() {
        let state = state();
        let (status, body) = get(&state, "/api/operation/scoped/4096").await;
        assert_eq!(status, StatusCode::OK, "{body:?}");
        assert_eq!(json(&body)["received_bytes"], MESSAGE.len() as u64);
        assert_eq!(json(&body)["operations_live"], 0);
        assert_eq!(state.operations.held(), Held::default());
    }

    #[tokio::test]
    async fn bad_sizes_are_a_400_quoting_the_input() {
        let state = state();
        for path in ["/api/operation/leak/abc", "/api/operation/scoped/-5"] {
            let (status, body) = get(&state, path).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            let message = json(&body)["error"].as_str().unwrap().to_string();
            let input = path.rsplit('/').next().unwrap();
            assert!(message.contains(&format!("{input:?}")), "{message}");
        }
    }

    #[tokio::test]
    async fn past_the_byte_cap_the_leak_answers_507() {
        let state = crate::server::test_support::state_with(|c| c.leak_cap_bytes = 100_000);
        let (status, _) = get(&state, "/api/operation/leak/60000").await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = get(&state, "/api/operation/leak/60000").await;
        assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
        assert!(
            json(&body)["error"]
                .as_str()
                .unwrap()
                .contains("POST /api/reset"),
            "{body:?}"
        );
        assert_eq!(state.operations.held().items, 1);
    }
}
