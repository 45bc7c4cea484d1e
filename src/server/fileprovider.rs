//! `/api/fileprovider`: a directory watcher per request, never released — the article's
//! `PhysicalFileProvider.Watch` per request. The lesson is native resources, not heap.
//!
//! What one watcher costs on Linux (notify 8's inotify backend, read in its source and
//! counted by the tests below): an inotify instance (`inotify_init1`), an epoll instance
//! and an eventfd (mio's `Poll` and `Waker`) — three file descriptors — plus one OS thread
//! ("notify-rs inotify loop", 2 MiB of stack reserved) blocked in `epoll_wait`, and one
//! inotify watch on the directory. Its Rust heap is about 3.3 KB; the process's resident
//! memory grew about 68 KiB per watcher here (mostly the thread). The limit that bites
//! first is the kernel's `fs.inotify.max_user_instances` (128 by default, shared by every
//! process of the same user): past it `inotify_init1` fails with EMFILE ("too many open
//! files") and this endpoint answers 503 while every other endpoint keeps working.
//! `POST /api/reset` drops the watchers; each one's thread then closes its descriptors and
//! ends.
//!
//! **Its own cap.** Left to the kernel limit, this endpoint took the user's whole inotify
//! pool and starved every other program of the same user (editors, file managers, build
//! watchers). So it holds at most `--max-watchers` (default 64), and never more than half
//! of `fs.inotify.max_user_instances` as read at startup; past it, 507 like the other
//! leaking endpoints, and `POST /api/reset` releases them.
//!
//! Heap bytes are measured: the bytes the creating thread (a blocking-pool thread doing
//! nothing else meanwhile) allocates while creating and arming the watcher
//! ([`thread_heap_counters`]). Allocated rather than live bytes, because the watcher's
//! own thread allocates its reply to `watch` and the creating thread frees it: a live
//! delta would subtract memory this thread never allocated. The watcher's thread also
//! keeps a few allocations of its own that no per-thread counter can attribute; on this
//! machine the measured 3,308 bytes per watcher matched the process's live-heap growth
//! per watcher within 1% (3,341 bytes, 50 watchers, nothing else running).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use serde::{Deserialize, Serialize};

use super::config::ServerConfig;
use super::error::AppError;
use super::managed::ManagedTally;
use super::state::{Part, SharedState};
use crate::diagnostics::Held;
use crate::error_labels::ErrorKind;
use crate::memory::thread_heap_counters;

/// The watchers `/api/fileprovider` never releases, and the directory they watch.
///
/// Field order matters: the watchers are dropped before the directory is removed.
pub(crate) struct Watchers {
    /// Held only to push, sum or take the list, never across an await.
    held: Mutex<Vec<HeldWatcher>>,
    /// Created at startup inside the system temp directory, removed on drop.
    dir: tempfile::TempDir,
    /// Most watchers held at once (see the module doc).
    cap: usize,
    /// Watchers being created now, counted against the cap before they exist.
    creating: AtomicUsize,
}

/// The kind counted when the watcher cap answers 507.
pub(crate) const WATCHER_CAP_REACHED: &str = "watcher cap reached";

/// The cap in force: `--max-watchers`, and at most half of the per-user inotify instance
/// limit `os_limit` (when it could be read).
fn watcher_cap(max_watchers: usize, os_limit: Option<usize>) -> usize {
    match os_limit {
        Some(limit) => max_watchers.min(limit / 2),
        None => max_watchers,
    }
}

struct HeldWatcher {
    /// Holding it is the leak: dropping it stops its thread and closes its descriptors.
    _watcher: RecommendedWatcher,
    heap_bytes: u64,
}

/// The answer of `/api/fileprovider`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct WatcherReply {
    /// Watchers held now, this one included.
    pub(crate) watchers_held: u64,
    /// Heap bytes the creating thread allocated for this watcher (measured).
    pub(crate) watcher_heap_bytes: u64,
    /// Heap bytes all held watchers took.
    pub(crate) held_heap_bytes: u64,
    /// The directory every watcher watches.
    pub(crate) directory: PathBuf,
}

impl Watchers {
    /// Creates the watched directory; fails when the temp directory is not writable.
    pub(crate) fn new(config: &ServerConfig) -> anyhow::Result<Watchers> {
        let dir = tempfile::Builder::new()
            .prefix("membench-watched-")
            .tempdir()
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot create the directory /api/fileprovider watches in {:?}: {e}",
                    std::env::temp_dir()
                )
            })?;
        let os_limit = instances_limit();
        Ok(Watchers {
            held: Mutex::new(Vec::new()),
            dir,
            cap: watcher_cap(config.max_watchers, os_limit),
            creating: AtomicUsize::new(0),
        })
    }

    /// Watchers held and the heap bytes measured when they were created.
    pub(crate) fn held(&self) -> Held {
        summary(&self.lock())
    }

    /// Drops every watcher; their threads close their descriptors and end shortly after.
    pub(crate) fn reset(&self) {
        let dropped = std::mem::take(&mut *self.lock());
        drop(dropped);
    }

    /// The directory every watcher watches.
    pub(crate) fn directory(&self) -> &Path {
        self.dir.path()
    }

    /// Counts one watcher about to be created against the cap, or the 507 past it. The
    /// count is given back by [`Watchers::created`].
    fn begin(&self) -> Result<(), AppError> {
        let held = self.lock();
        let creating = self.creating.load(Ordering::Acquire);
        if held.len() + creating >= self.cap {
            return Err(AppError::CapReached {
                kind: WATCHER_CAP_REACHED,
                message: format!(
                    "watcher cap reached: /api/fileprovider holds {} directory watchers, its cap \
                     (--max-watchers{}) is {}; POST /api/reset releases them",
                    held.len(),
                    cap_clause(),
                    self.cap
                ),
            });
        }
        self.creating.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Ends what [`Watchers::begin`] counted.
    fn created(&self) {
        self.creating.fetch_sub(1, Ordering::AcqRel);
    }

    fn keep(&self, watcher: RecommendedWatcher, heap_bytes: u64) -> WatcherReply {
        let mut held = self.lock();
        held.push(HeldWatcher {
            _watcher: watcher,
            heap_bytes,
        });
        let summary = summary(&held);
        WatcherReply {
            watchers_held: summary.items,
            watcher_heap_bytes: heap_bytes,
            held_heap_bytes: summary.bytes,
            directory: self.dir.path().to_path_buf(),
        }
    }

    /// The list survives a panic elsewhere: it holds no invariant a half-done push breaks.
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<HeldWatcher>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn summary(held: &[HeldWatcher]) -> Held {
    Held {
        items: held.len() as u64,
        bytes: held.iter().map(|w| w.heap_bytes).sum(),
    }
}

/// Tests that count this process's descriptors, sockets or threads take turns, so another
/// of them opening or closing many at once cannot move the count underneath.
#[cfg(all(test, target_os = "linux"))]
pub(crate) static FD_COUNTING_TESTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The route template of this family.
pub(crate) const FILEPROVIDER: &str = "/api/fileprovider";

/// The route templates of this family.
pub(crate) const ROUTES: &[&str] = &[FILEPROVIDER];

/// `/api/fileprovider`.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new().route(FILEPROVIDER, get(fileprovider))
}

async fn fileprovider(
    State(watchers): State<Part<Watchers>>,
    State(managed): State<Part<ManagedTally>>,
) -> Result<Json<WatcherReply>, AppError> {
    watchers.begin()?;
    let dir = watchers.directory().to_path_buf();
    // Creating a watcher starts a thread and waits for it to add the watch: blocking work.
    let created = tokio::task::spawn_blocking(move || create_watcher(&dir)).await;
    let reply = match created {
        Err(e) => Err(AppError::Internal(format!(
            "creating a directory watcher failed: {e}"
        ))),
        Ok(Ok((watcher, heap_bytes))) => {
            managed.record(FILEPROVIDER);
            Ok(Json(watchers.keep(watcher, heap_bytes)))
        }
        Ok(Err(err)) => Err(watcher_error(&err, watchers.held().items)),
    };
    watchers.created();
    reply
}

/// Creates a watcher on `dir` and returns it with the heap bytes it took on this thread.
fn create_watcher(dir: &Path) -> notify::Result<(RecommendedWatcher, u64)> {
    let before = thread_heap_counters();
    // The article's watch ignores its change token; this handler ignores the events.
    let mut watcher = notify::recommended_watcher(|_event: notify::Result<notify::Event>| {})?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    let after = thread_heap_counters();
    Ok((watcher, after.alloc_bytes - before.alloc_bytes))
}

/// The answer to a watcher the OS refused: 503 when a limit is reached (with the limit
/// and the way out), 500 for anything else. `held` is how many watchers this server holds.
fn watcher_error(err: &notify::Error, held: u64) -> AppError {
    let os_error = match &err.kind {
        notify::ErrorKind::Io(io_err) => io_err.raw_os_error(),
        _ => None,
    };
    let holding = format!("this server holds {held} watchers; POST /api/reset releases them");
    match (os_error, &err.kind) {
        (Some(libc::EMFILE), _) => AppError::Unavailable {
            kind: ErrorKind::TooManyOpenFiles.label().to_string(),
            message: format!(
                "cannot create a directory watcher ({err}): {}this process's open-file limit \
                 (ulimit -n {}) is reached; {holding}",
                instances_clause(),
                open_file_limit(),
            ),
        },
        (Some(libc::ENFILE), _) => AppError::Unavailable {
            kind: ErrorKind::TooManyOpenFiles.label().to_string(),
            message: format!(
                "cannot create a directory watcher: the system-wide open-file limit is reached \
                 ({err}); {holding}"
            ),
        },
        (Some(libc::ENOSPC), _) | (_, notify::ErrorKind::MaxFilesWatch) => AppError::Unavailable {
            kind: "inotify watch limit".to_string(),
            message: format!(
                "cannot watch the directory: the per-user inotify watch limit \
                     (fs.inotify.max_user_watches = {}) is reached ({err}); {holding}",
                watches_limit(),
            ),
        },
        _ => AppError::Internal(format!("cannot create a directory watcher: {err}")),
    }
}

/// The per-user inotify instance limit.
#[cfg(target_os = "linux")]
const INSTANCES_LIMIT: &str = "/proc/sys/fs/inotify/max_user_instances";

/// A kernel limit from `/proc/sys`, as text (`unknown` when unreadable).
#[cfg(target_os = "linux")]
fn read_limit(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|text| text.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}

/// The OS's own limit on watchers (Linux: inotify instances); `None` where the only
/// limit is the open-file limit (macOS's kqueue backend: descriptors per watcher).
#[cfg(target_os = "linux")]
fn instances_limit() -> Option<usize> {
    read_limit(INSTANCES_LIMIT).parse().ok()
}

#[cfg(not(target_os = "linux"))]
fn instances_limit() -> Option<usize> {
    None
}

/// What bounds the cap besides `--max-watchers`, for the cap message.
#[cfg(target_os = "linux")]
fn cap_clause() -> String {
    format!(
        ", at most half of fs.inotify.max_user_instances = {}, which every process of this \
         user shares",
        read_limit(INSTANCES_LIMIT)
    )
}

#[cfg(not(target_os = "linux"))]
fn cap_clause() -> String {
    String::new()
}

/// The OS limit reached besides the open-file limit, for the EMFILE message.
#[cfg(target_os = "linux")]
fn instances_clause() -> String {
    format!(
        "the per-user inotify instance limit (fs.inotify.max_user_instances = {}, shared by \
         every process of this user) or ",
        read_limit(INSTANCES_LIMIT)
    )
}

#[cfg(not(target_os = "linux"))]
fn instances_clause() -> String {
    String::new()
}

/// The per-user inotify watch limit, as text.
#[cfg(target_os = "linux")]
fn watches_limit() -> String {
    read_limit("/proc/sys/fs/inotify/max_user_watches")
}

#[cfg(not(target_os = "linux"))]
fn watches_limit() -> String {
    "unknown".to_string()
}

/// The soft RLIMIT_NOFILE of this process, as text.
fn open_file_limit() -> String {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own and reads nothing else.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    if ok {
        limit.rlim_cur.to_string()
    } else {
        "unknown".to_string()
    }
}

// Counted through /proc (inotify descriptors, notify's threads): Linux only.
#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::server::test_support;
    use axum::http::StatusCode;
    use std::time::{Duration, Instant};

    /// Open inotify instances of this process (`/proc/self/fd` links to
    /// `anon_inode:inotify`).
    fn inotify_fds() -> usize {
        std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
            .filter(|target| target.as_os_str() == "anon_inode:inotify")
            .count()
    }

    /// Threads of this process named by notify's inotify backend (comm is cut to 15 bytes).
    fn notify_threads() -> usize {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .filter(|comm| comm.trim_end() == "notify-rs inoti")
            .count()
    }

    fn open_fds() -> u64 {
        crate::memory::read_process_with(crate::memory::ProbeKind::Linux, std::process::id())
            .unwrap()
            .open_fds
            .unwrap()
    }

    async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !condition() {
            assert!(Instant::now() < deadline, "{what} never happened");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn each_request_keeps_a_watcher_with_its_descriptors_and_thread() {
        // Few: the inotify instance limit is shared with every process of this user.
        const REQUESTS: u64 = 5;
        let _turn = FD_COUNTING_TESTS.lock().await;
        // The watcher threads of an earlier test (its reset) may still be ending: only
        // these tests make watchers, so wait for none to be left before counting.
        eventually("earlier tests' watcher threads ending", || {
            notify_threads() == 0
        })
        .await;
        let state = test_support::state();
        let (inotify_before, threads_before, fds_before) =
            (inotify_fds(), notify_threads(), open_fds());

        for expected_held in 1..=REQUESTS {
            let (status, body) = test_support::get(&state, "/api/fileprovider").await;
            let body = test_support::json(&body);
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["watchers_held"], expected_held);
        }

        let held = state.watchers.held();
        assert_eq!(held.items, REQUESTS);
        assert!(held.bytes > 0, "no heap measured for {REQUESTS} watchers");
        assert_eq!(inotify_fds() - inotify_before, REQUESTS as usize);
        assert!(open_fds() >= fds_before + REQUESTS, "fds did not grow");
        assert_eq!(notify_threads() - threads_before, REQUESTS as usize);

        state.watchers.reset();
        assert_eq!(state.watchers.held(), Held::default());
        eventually("the watchers' descriptors closing", || {
            inotify_fds() == inotify_before && notify_threads() == threads_before
        })
        .await;
    }

    #[tokio::test]
    async fn the_directory_is_removed_with_the_state() {
        let _turn = FD_COUNTING_TESTS.lock().await;
        let state = test_support::state();
        let dir = state.watchers.directory().to_path_buf();
        assert!(dir.is_dir());
        assert!(dir.starts_with(std::env::temp_dir()));
        drop(state);
        assert!(!dir.exists(), "{dir:?} left behind");
    }

    /// Manual measurement, not a check (`cargo test --release -- --ignored --nocapture
    /// watchers_until`): 150 requests, the process's fds and threads as they go, and the
    /// answer once the inotify instance limit is reached. It takes instances from every
    /// process of this user for a moment, and gives them back at the end.
    #[tokio::test]
    #[ignore = "manual measurement; exhausts the shared inotify instance limit briefly"]
    async fn watchers_until_the_limit() {
        let _turn = FD_COUNTING_TESTS.lock().await;
        let state = test_support::state();
        let process = || {
            crate::memory::read_process_with(crate::memory::ProbeKind::Linux, std::process::id())
                .unwrap()
        };
        let before = process();
        let heap_before = crate::memory::heap_counters();
        println!(
            "before: fds {:?} threads {:?} rss {} KiB",
            before.open_fds,
            before.threads,
            before.rss_bytes / 1024
        );
        let mut first_failure = None;
        for request in 1..=150 {
            let (status, body) = test_support::get(&state, "/api/fileprovider").await;
            if status != StatusCode::OK && first_failure.is_none() {
                first_failure =
                    Some((request, status, String::from_utf8_lossy(&body).into_owned()));
            }
            if request % 25 == 0 {
                let now = process();
                println!(
                    "after {request}: held {:?} fds {:?} threads {:?} rss {} KiB",
                    state.watchers.held(),
                    now.open_fds,
                    now.threads,
                    now.rss_bytes / 1024
                );
            }
        }
        println!("first failure: {first_failure:?}");
        // Cross-check of the per-thread measurement: the whole process's live heap growth
        // (this test runs alone, so it is mostly the watchers').
        let heap_after = crate::memory::heap_counters();
        println!(
            "process live heap growth {} bytes vs measured {:?}",
            heap_after.live_bytes as i64 - heap_before.live_bytes as i64,
            state.watchers.held()
        );
        state.watchers.reset();
        eventually("the watchers' descriptors closing", || {
            process().open_fds <= before.open_fds
        })
        .await;
        println!(
            "after reset: fds {:?} threads {:?}",
            process().open_fds,
            process().threads
        );
    }

    #[tokio::test]
    async fn past_the_watcher_cap_a_507_and_reset_makes_room() {
        let _turn = FD_COUNTING_TESTS.lock().await;
        let state = test_support::state_with(|config| config.max_watchers = 2);
        for _ in 0..2 {
            let (status, body) = test_support::get(&state, FILEPROVIDER).await;
            assert_eq!(status, StatusCode::OK, "{body:?}");
        }
        let (status, body) = test_support::get(&state, FILEPROVIDER).await;
        assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
        let error = test_support::json(&body);
        assert_eq!(error["kind"], WATCHER_CAP_REACHED);
        let message = error["error"].as_str().unwrap();
        assert!(message.contains("--max-watchers"), "{message}");
        assert!(message.contains("/api/reset"), "{message}");
        assert_eq!(state.watchers.held().items, 2);
        test_support::send(&state, "POST", "/api/reset").await;
        let (status, _) = test_support::get(&state, FILEPROVIDER).await;
        assert_eq!(status, StatusCode::OK);
        state.watchers.reset();
    }

    #[test]
    fn the_cap_stays_below_half_the_os_limit() {
        assert_eq!(watcher_cap(64, Some(128)), 64);
        assert_eq!(watcher_cap(64, Some(100)), 50);
        assert_eq!(watcher_cap(10, Some(128)), 10);
        assert_eq!(watcher_cap(64, None), 64);
    }

    #[test]
    fn the_inotify_instance_limit_is_a_503_with_the_way_out() {
        let err = notify::Error::io(std::io::Error::from_raw_os_error(libc::EMFILE));
        let app_error = watcher_error(&err, 7);
        assert_eq!(app_error.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(app_error.kind(), "too many open files");
        let message = app_error.to_string();
        for part in [
            "os error 24",
            "max_user_instances",
            "holds 7 watchers",
            "POST /api/reset",
        ] {
            assert!(message.contains(part), "{part:?} not in {message}");
        }
    }

    #[test]
    fn the_watch_limit_is_a_503_and_other_failures_a_500() {
        let watch_limit = watcher_error(&notify::Error::new(notify::ErrorKind::MaxFilesWatch), 0);
        assert_eq!(watch_limit.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(watch_limit.kind(), "inotify watch limit");
        let missing = watcher_error(&notify::Error::path_not_found(), 0);
        assert_eq!(missing.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
