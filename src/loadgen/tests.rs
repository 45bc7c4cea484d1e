//! The generator end to end against an in-process axum server on 127.0.0.1:0 (its own
//! runtime thread), counting server-side too. No timed assertions: runs are bounded by a
//! request count or a short duration, and waits poll with a deadline.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;

use super::*;

/// An axum server on a free loopback port, stopped on drop.
struct TestServer {
    addr: SocketAddr,
    /// Requests the handlers have seen.
    hits: Arc<AtomicU64>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    fn start() -> TestServer {
        let hits = Arc::new(AtomicU64::new(0));
        let counted = |hits: &Arc<AtomicU64>| {
            let hits = hits.clone();
            move || {
                hits.fetch_add(1, Ordering::Relaxed);
            }
        };
        let ok = counted(&hits);
        let fail = counted(&hits);
        let slow = counted(&hits);
        let app = Router::new()
            .route(
                "/ok",
                get(move || async move {
                    ok();
                    "hello"
                }),
            )
            .route(
                "/fail",
                get(move || async move {
                    fail();
                    (StatusCode::INTERNAL_SERVER_ERROR, "failed on purpose")
                }),
            )
            .route(
                "/slow",
                get(move || async move {
                    slow();
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    "too late"
                }),
            );
        // Bound here, so the server is accepting before `start` returns: no readiness wait.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = stopped => {}
                }
            });
            // Slow handlers are still sleeping: drop them instead of waiting.
            runtime.shutdown_background();
        });
        TestServer {
            addr,
            hits,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    fn config(&self, path: &str, connections: usize, stop: StopAt) -> LoadConfig {
        LoadConfig {
            addr: self.addr,
            host: self.addr.to_string(),
            paths: vec![path.to_string()],
            connections,
            threads: 2,
            rate_per_s: None,
            stop,
            timeout: Duration::from_secs(10),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Polls like the runner does (taking intervals) until load ends by itself, within a
/// generous deadline; returns the intervals' sum and the result.
fn run_to_end(handle: LoadHandle) -> (IntervalStats, LoadResult) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut polled = IntervalStats::default();
    while !handle.is_finished() {
        assert!(Instant::now() < deadline, "load did not end by itself");
        std::thread::sleep(Duration::from_millis(20));
        polled.merge(&handle.take_interval());
    }
    let result = handle.finish();
    polled.merge(&result.last_interval);
    (polled, result)
}

#[test]
fn a_request_count_completes_exactly_that_many() {
    let server = TestServer::start();
    // 7 connections over 2 threads: the count does not divide evenly on purpose.
    let handle = start(server.config("/ok", 7, StopAt::Requests(1_003))).unwrap();
    let (polled, result) = run_to_end(handle);
    let total = result.total;
    assert_eq!(total.requests, 1_003);
    assert_eq!(total.status_2xx, 1_003);
    assert_eq!(total.errors(), 0, "{:?}", total.errors_by_kind);
    assert_eq!(server.hits(), 1_003);
    assert_eq!(total.latency_us.len(), 1_003);
    assert_eq!(total.body_bytes, 1_003 * "hello".len() as u64);
    // The intervals handed out add up to the total.
    assert_eq!(polled.requests, total.requests);
    assert_eq!(polled.latency_us.len(), total.latency_us.len());
}

#[test]
fn open_loop_offers_the_rate() {
    let server = TestServer::start();
    let rate = 200.0;
    let duration = Duration::from_secs(2);
    let config = LoadConfig {
        rate_per_s: Some(rate),
        ..server.config("/ok", 4, StopAt::Duration(duration))
    };
    let (_, result) = run_to_end(start(config).unwrap());
    let expected = rate * duration.as_secs_f64();
    let sent = result.total.requests as f64;
    assert!(
        (sent - expected).abs() <= expected * 0.10,
        "{sent} requests, expected {expected} ± 10 %"
    );
    assert_eq!(
        result.total.errors(),
        0,
        "{:?}",
        result.total.errors_by_kind
    );
}

#[test]
fn nothing_listening_counts_connection_refused_and_ends_by_itself() {
    // A port that was just free: bind, note, close.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = LoadConfig {
        addr,
        host: addr.to_string(),
        paths: vec!["/".to_string()],
        connections: 4,
        threads: 2,
        rate_per_s: None,
        stop: StopAt::Duration(Duration::from_millis(500)),
        timeout: Duration::from_secs(1),
    };
    let (_, result) = run_to_end(start(config).unwrap());
    let total = result.total;
    assert_eq!(total.requests, 0);
    assert!(total.errors_by_kind["connection refused"] > 0, "{total:?}");
    assert_eq!(total.errors(), total.errors_by_kind["connection refused"]);
}

#[test]
fn a_refused_request_count_still_completes_exactly() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = LoadConfig {
        addr,
        host: addr.to_string(),
        paths: vec!["/".to_string()],
        connections: 3,
        threads: 1,
        rate_per_s: None,
        stop: StopAt::Requests(20),
        timeout: Duration::from_secs(1),
    };
    let (_, result) = run_to_end(start(config).unwrap());
    assert_eq!(result.total.errors_by_kind["connection refused"], 20);
    assert_eq!(result.total.completed(), 20);
}

#[test]
fn server_errors_are_a_status_class_not_errors() {
    let server = TestServer::start();
    let (_, result) = run_to_end(start(server.config("/fail", 4, StopAt::Requests(50))).unwrap());
    assert_eq!(result.total.status_5xx, 50);
    assert_eq!(result.total.requests, 50);
    assert_eq!(
        result.total.errors(),
        0,
        "{:?}",
        result.total.errors_by_kind
    );
    assert_eq!(server.hits(), 50);
}

#[test]
fn a_slow_response_is_a_timeout() {
    let server = TestServer::start();
    let config = LoadConfig {
        timeout: Duration::from_millis(200),
        ..server.config("/slow", 2, StopAt::Requests(3))
    };
    let (_, result) = run_to_end(start(config).unwrap());
    assert_eq!(result.total.errors_by_kind.get("timeout"), Some(&3));
    assert_eq!(result.total.requests, 0);
    assert_eq!(result.total.errors(), 3);
}

#[test]
fn stop_ends_a_long_run_early_and_keeps_the_counts() {
    let server = TestServer::start();
    let handle =
        start(server.config("/ok", 4, StopAt::Duration(Duration::from_secs(600)))).unwrap();
    // Wait (bounded) until some responses came back, then stop.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = IntervalStats::default();
    while seen.requests < 100 {
        assert!(Instant::now() < deadline, "no responses");
        std::thread::sleep(Duration::from_millis(10));
        seen.merge(&handle.take_interval());
    }
    handle.stop();
    let result = handle.finish();
    assert!(result.total.requests >= seen.requests);
    assert_eq!(
        result.total.errors(),
        0,
        "{:?}",
        result.total.errors_by_kind
    );
    // In-flight requests were abandoned, so the server may have seen a few more.
    assert!(server.hits() >= result.total.requests);
}

#[test]
fn several_paths_are_taken_round_robin() {
    let server = TestServer::start();
    let config = LoadConfig {
        paths: vec!["/ok".to_string(), "/fail".to_string()],
        ..server.config("/ok", 1, StopAt::Requests(10))
    };
    let (_, result) = run_to_end(start(config).unwrap());
    assert_eq!(result.total.status_2xx, 5);
    assert_eq!(result.total.status_5xx, 5);
}

#[test]
fn an_invalid_config_is_refused_before_any_thread_starts() {
    let config = LoadConfig {
        addr: "127.0.0.1:9".parse().unwrap(),
        host: "127.0.0.1:9".to_string(),
        paths: vec!["/".to_string()],
        connections: 0,
        threads: 1,
        rate_per_s: None,
        stop: StopAt::Requests(1),
        timeout: Duration::from_secs(1),
    };
    let err = start(config).err().expect("connections 0 is refused");
    assert!(format!("{err:#}").contains("connections is 0"), "{err:#}");
}
