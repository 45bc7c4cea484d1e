//! The buffer patterns of the article:
//!
//! * `GET /api/loh/{size}` (`/api/loh` = 85000): a zeroed buffer of `size` bytes with every
//!   page written, answered with its length. In .NET, 85,000 bytes is where arrays go to
//!   the large object heap; no Rust allocator changes behaviour there, so this endpoint
//!   shows where each allocator's own cliff is (glibc's mmap threshold, …).
//! * `GET /api/array/{size}`: a new buffer of `size` random bytes per request, sent as the
//!   body and freed once written.
//! * `GET /api/pooledarray/{size}`: the same bytes from a buffer rented from a bounded pool
//!   and given back when the body has been written or dropped (the analog of
//!   `ArrayPool.Rent` + `Response.RegisterForDispose`). Both endpoints do the same fill
//!   work with the same fast RNG; they differ only in where the buffer comes from.
//!
//! Every sized request reserves its bytes in the server's in-flight budget
//! (`--max-inflight`, [`super::limits`]) before it allocates, and keeps them until its
//! response bytes are written or dropped; past the budget it answers 503.
//!
//! `size` is taken as a string and validated here, so every bad value gets the server's
//! JSON error quoting it (axum's `Path<u64>` would answer its own plain-text 400).
//!
//! **Pool policy.** Buffers come in power-of-two size classes from 16 bytes up to the
//! class of `--max-size`, like `ArrayPool`'s buckets: a request for 100,000 bytes rents a
//! 131,072-byte buffer and sends its first 100,000 bytes. A class keeps at most
//! [`BUFFERS_PER_CLASS`] resting buffers and at most [`RESTING_BYTES_PER_CLASS`] bytes (but
//! always one buffer), so the pool holds a few MiB for common sizes and never more than
//! 64 MiB per class; a buffer given back to a full class is freed. An empty class
//! allocates a new buffer, so concurrency beyond what the pool holds still works, just
//! unpooled. `POST /api/reset` empties the pool.

use std::cell::RefCell;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::routing::get;
use bytes::Bytes;
use rand::rngs::{SmallRng, SysRng};
use rand::{Rng, SeedableRng};

use super::config::ServerConfig;
use super::error::AppError;
use super::limits::{InflightBudget, Reserved};
use super::managed::ManagedTally;
use super::state::{Part, SharedState};
use crate::diagnostics::Held;
use crate::format::format_bytes;

const LOH_DEFAULT: &str = "/api/loh";
const LOH: &str = "/api/loh/{size}";
const ARRAY: &str = "/api/array/{size}";
const POOLED_ARRAY: &str = "/api/pooledarray/{size}";

/// The route templates of this family.
pub(crate) const ROUTES: &[&str] = &[LOH_DEFAULT, LOH, ARRAY, POOLED_ARRAY];

/// `size` of `GET /api/loh` without one: the .NET large-object threshold.
pub(crate) const LOH_DEFAULT_BYTES: usize = crate::gcmodel::LOH_THRESHOLD_BYTES as usize;

/// Stride of the writes that touch every page of a `/api/loh` buffer. The smallest page
/// size of Linux; with larger pages some writes land on the same page, which is harmless.
const PAGE_BYTES: usize = 4096;

/// The smallest size class of the pool, in bytes.
const MIN_CLASS_BYTES: usize = 16;
/// Most resting buffers one size class keeps.
pub(crate) const BUFFERS_PER_CLASS: usize = 16;
/// Most resting bytes one size class keeps (one buffer is always allowed).
pub(crate) const RESTING_BYTES_PER_CLASS: usize = 64 << 20;

/// Parses the `size` path segment: a whole number of bytes from 1 to `max_bytes`.
pub(super) fn parse_size(
    segment: Result<Path<String>, PathRejection>,
    max_bytes: u64,
) -> Result<usize, AppError> {
    let Path(input) = segment.map_err(|rejection| {
        AppError::BadRequest(format!(
            "size is not readable ({}); expected a whole number of bytes from 1 to {max_bytes}",
            rejection.body_text()
        ))
    })?;
    let expected = || {
        format!(
            "expected a whole number of bytes from 1 to {max_bytes} ({}, set with --max-size)",
            format_bytes(max_bytes)
        )
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(magnitude) = input.strip_prefix('-')
        && digits(magnitude)
    {
        return Err(AppError::BadRequest(format!(
            "size {input:?} is negative; {}",
            expected()
        )));
    }
    if !digits(&input) {
        return Err(AppError::BadRequest(format!(
            "size {input:?} is not a number; {}",
            expected()
        )));
    }
    // All digits: a parse failure can only be an overflow, i.e. far above any limit.
    let size = input.parse::<u64>().unwrap_or(u64::MAX);
    if size == 0 {
        return Err(AppError::BadRequest(format!(
            "size {input:?} is zero; {}",
            expected()
        )));
    }
    if size > max_bytes {
        return Err(AppError::BadRequest(format!(
            "size {input:?} is above the limit; {}",
            expected()
        )));
    }
    usize::try_from(size).map_err(|_| {
        AppError::BadRequest(format!(
            "size {input:?} does not fit in memory here; {}",
            expected()
        ))
    })
}

/// A zeroed buffer of `size` bytes with one write per page, kept from the optimizer.
/// Returns its length.
fn touched_buffer_len(size: usize) -> usize {
    let mut buffer = vec![0u8; size];
    // Fresh zeroed memory may be untouched pages the kernel has not backed yet; writing
    // each page makes the allocation cost what it costs a program that uses it.
    for index in (0..size).step_by(PAGE_BYTES) {
        buffer[index] = 1;
    }
    black_box(&mut buffer).len()
}

thread_local! {
    /// One fast generator per worker thread (xoshiro256++, several GB/s): the fill is
    /// the same work for `/api/array` and `/api/pooledarray` and should not dominate.
    static RNG: RefCell<SmallRng> = RefCell::new(seeded_rng());
}

fn seeded_rng() -> SmallRng {
    // The bytes only need to be incompressible and not elidable, not secret: if the OS
    // has no entropy, the clock and a per-thread counter make a seed that will do.
    SmallRng::try_from_rng(&mut SysRng).unwrap_or_else(|_| {
        static THREADS: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64);
        SmallRng::seed_from_u64(nanos ^ THREADS.fetch_add(1, Relaxed).rotate_left(32))
    })
}

fn fill_random(buffer: &mut [u8]) {
    RNG.with_borrow_mut(|rng| rng.fill_bytes(buffer));
}

/// The bounded buffer pool of `/api/pooledarray` (see the module doc for its policy).
pub(crate) struct BufferPool {
    classes: Arc<[Mutex<Vec<Vec<u8>>>]>,
}

/// Size class index and the class's buffer size for a request of `size` bytes (≥ 1).
fn class_of(size: usize) -> (usize, usize) {
    let class_bytes = size.next_power_of_two().max(MIN_CLASS_BYTES);
    let index = (class_bytes.trailing_zeros() - MIN_CLASS_BYTES.trailing_zeros()) as usize;
    (index, class_bytes)
}

/// Resting buffers a class of `class_bytes` keeps.
fn class_limit(class_bytes: usize) -> usize {
    (RESTING_BYTES_PER_CLASS / class_bytes).clamp(1, BUFFERS_PER_CLASS)
}

impl BufferPool {
    /// An empty pool with a class for every size up to `config.max_size_bytes`.
    pub(crate) fn new(config: &ServerConfig) -> BufferPool {
        let max_size = usize::try_from(config.max_size_bytes)
            .unwrap_or(usize::MAX)
            .clamp(1, 1 << 62);
        let (largest_index, _) = class_of(max_size);
        BufferPool {
            classes: (0..=largest_index)
                .map(|_| Mutex::new(Vec::new()))
                .collect(),
        }
    }

    /// Buffers resting in the pool and their bytes (capacities).
    pub(crate) fn held(&self) -> Held {
        let mut held = Held::default();
        for class in self.classes.iter() {
            let class = class.lock().unwrap_or_else(|p| p.into_inner());
            held.items += class.len() as u64;
            held.bytes += class.iter().map(|b| b.capacity() as u64).sum::<u64>();
        }
        held
    }

    /// Frees every resting buffer.
    pub(crate) fn reset(&self) {
        for class in self.classes.iter() {
            let dropped = std::mem::take(&mut *class.lock().unwrap_or_else(|p| p.into_inner()));
            drop(dropped);
        }
    }

    /// A buffer of at least `size` bytes (1 ≤ `size` ≤ the pool's max size), from the pool
    /// when its class has one, else newly allocated (zeroed, like a new .NET array).
    fn rent(&self, size: usize) -> Rented {
        let (index, class_bytes) = class_of(size);
        let pooled = self
            .classes
            .get(index)
            .and_then(|class| class.lock().unwrap_or_else(|p| p.into_inner()).pop());
        Rented {
            buffer: pooled.unwrap_or_else(|| vec![0u8; class_bytes]),
            len: size,
            index,
            classes: Arc::clone(&self.classes),
        }
    }
}

/// A rented buffer; dropping it gives the buffer back to its class (or frees it when the
/// class is full). As the owner of a response's `Bytes`, it is dropped when hyper has
/// written the body or dropped the response.
struct Rented {
    /// The whole class-sized buffer.
    buffer: Vec<u8>,
    /// Bytes of `buffer` in use.
    len: usize,
    index: usize,
    classes: Arc<[Mutex<Vec<Vec<u8>>>]>,
}

impl AsRef<[u8]> for Rented {
    fn as_ref(&self) -> &[u8] {
        &self.buffer[..self.len]
    }
}

impl AsMut<[u8]> for Rented {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.buffer[..self.len]
    }
}

impl Drop for Rented {
    fn drop(&mut self) {
        let buffer = std::mem::take(&mut self.buffer);
        let Some(class) = self.classes.get(self.index) else {
            return;
        };
        let mut class = class.lock().unwrap_or_else(|p| p.into_inner());
        if class.len() < class_limit(buffer.capacity()) {
            class.push(buffer);
        } else {
            // Full: release the lock before the free.
            drop(class);
            drop(buffer);
        }
    }
}

async fn loh_default(
    State(budget): State<InflightBudget>,
    State(managed): State<Part<ManagedTally>>,
) -> Result<String, AppError> {
    let _reserved = budget.reserve(LOH_DEFAULT_BYTES as u64)?;
    // The request of `/api/loh/{size}` at its default size.
    managed.record_sized(LOH, LOH_DEFAULT_BYTES as u64);
    Ok(touched_buffer_len(LOH_DEFAULT_BYTES).to_string())
}

async fn loh(
    State(config): State<Part<ServerConfig>>,
    State(budget): State<InflightBudget>,
    State(managed): State<Part<ManagedTally>>,
    size: Result<Path<String>, PathRejection>,
) -> Result<String, AppError> {
    let size = parse_size(size, config.max_size_bytes)?;
    let _reserved = budget.reserve(size as u64)?;
    managed.record_sized(LOH, size as u64);
    Ok(touched_buffer_len(size).to_string())
}

async fn array(
    State(config): State<Part<ServerConfig>>,
    State(budget): State<InflightBudget>,
    State(managed): State<Part<ManagedTally>>,
    size: Result<Path<String>, PathRejection>,
) -> Result<Body, AppError> {
    let size = parse_size(size, config.max_size_bytes)?;
    let reserved = budget.reserve(size as u64)?;
    managed.record_sized(ARRAY, size as u64);
    let mut buffer = vec![0u8; size];
    fill_random(&mut buffer);
    // The reservation lives as long as the bytes (one small allocation for the owner).
    Ok(Body::from(Bytes::from_owner(Reserved::new(
        buffer, reserved,
    ))))
}

async fn pooledarray(
    State(config): State<Part<ServerConfig>>,
    State(budget): State<InflightBudget>,
    State(pool): State<Part<BufferPool>>,
    State(managed): State<Part<ManagedTally>>,
    size: Result<Path<String>, PathRejection>,
) -> Result<Body, AppError> {
    let size = parse_size(size, config.max_size_bytes)?;
    // The whole class-sized buffer is held while the answer is sent.
    let reserved = budget.reserve(class_of(size).1 as u64)?;
    // Rented from ArrayPool<byte>.Shared in .NET: no new array once the pool is warm.
    managed.record(POOLED_ARRAY);
    let mut rented = pool.rent(size);
    fill_random(rented.as_mut());
    Ok(Body::from(Bytes::from_owner(Reserved::new(
        rented, reserved,
    ))))
}

/// `GET /api/loh`, `/api/loh/{size}`, `/api/array/{size}`, `/api/pooledarray/{size}`.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route(LOH_DEFAULT, get(loh_default))
        .route(LOH, get(loh))
        .route(ARRAY, get(array))
        .route(POOLED_ARRAY, get(pooledarray))
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;
    use crate::memory::thread_heap_counters;
    use crate::server::test_support::{get, json, state};

    const MAX: u64 = crate::units::MAX_SIZE_BYTES;

    fn parse(input: &str) -> Result<usize, AppError> {
        parse_size(Ok(Path(input.to_string())), MAX)
    }

    #[test]
    fn sizes_from_one_to_the_max_are_accepted() {
        assert_eq!(parse("1").unwrap(), 1);
        assert_eq!(parse("84976").unwrap(), 84_976);
        assert_eq!(parse(&MAX.to_string()).unwrap(), MAX as usize);
    }

    #[test]
    fn bad_sizes_are_rejected_with_the_input_quoted_and_the_range_named() {
        let too_long = "9".repeat(40);
        for (input, says) in [
            ("-1", "negative"),
            ("abc", "not a number"),
            ("", "not a number"),
            ("1.5", "not a number"),
            ("+5", "not a number"),
            ("0", "zero"),
            ("999999999999", "above the limit"),
            (&*too_long, "above the limit"),
            (&*(MAX + 1).to_string(), "above the limit"),
        ] {
            let Err(AppError::BadRequest(message)) = parse(input) else {
                panic!("{input:?} was accepted");
            };
            assert!(message.contains(&format!("{input:?}")), "{message}");
            assert!(message.contains(says), "{input:?}: {message}");
            assert!(message.contains(&format!("1 to {MAX}")), "{message}");
        }
    }

    #[tokio::test]
    async fn every_size_endpoint_answers_bad_sizes_with_a_json_400() {
        let state = state();
        for path in [
            "/api/loh/-1",
            "/api/loh/abc",
            "/api/loh/999999999999",
            "/api/array/0",
            "/api/pooledarray/abc",
            "/api/loh/%FF",
        ] {
            let (status, body) = get(&state, path).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
            let error = json(&body);
            assert_eq!(error["kind"], "bad request", "{path}");
            let segment = path.rsplit('/').next().unwrap();
            let message = error["error"].as_str().unwrap();
            if segment != "%FF" {
                assert!(message.contains(&format!("{segment:?}")), "{message}");
            }
        }
        assert_eq!(state.errors.snapshot()["bad request"], 6);
    }

    #[tokio::test]
    async fn loh_answers_the_length_it_allocated() {
        let state = state();
        assert_eq!(&get(&state, "/api/loh/84976").await.1[..], b"84976");
        assert_eq!(&get(&state, "/api/loh/1").await.1[..], b"1");
        assert_eq!(
            get(&state, "/api/loh").await.1,
            LOH_DEFAULT_BYTES.to_string()
        );
        let before = thread_heap_counters();
        get(&state, "/api/loh/300000").await;
        let after = thread_heap_counters();
        assert!(after.alloc_bytes - before.alloc_bytes >= 300_000);
        assert!(after.freed_bytes - before.freed_bytes >= 300_000);
    }

    /// Bytes this thread allocated while `requests` GETs of `path` were answered.
    async fn allocated_bytes(state: &SharedState, path: &str, requests: u64) -> u64 {
        let before = thread_heap_counters().alloc_bytes;
        for _ in 0..requests {
            let (status, body) = get(state, path).await;
            assert_eq!(status, StatusCode::OK);
            assert!(
                body.iter().any(|b| *b != 0),
                "{path}: the body is not filled"
            );
        }
        thread_heap_counters().alloc_bytes - before
    }

    #[tokio::test]
    async fn pooledarray_allocates_about_one_buffer_and_array_one_per_request() {
        let state = state();
        let size = 100_000u64;
        let requests = 20u64;
        // Warm up on another size, so lazily built parts are not measured.
        get(&state, "/api/array/1000").await;
        get(&state, "/api/pooledarray/1000").await;

        let array = allocated_bytes(&state, &format!("/api/array/{size}"), requests).await;
        let pooled = allocated_bytes(&state, &format!("/api/pooledarray/{size}"), requests).await;
        assert!(array >= requests * size, "array allocated {array}");
        // Both do the same routing work; the difference is the buffers: `requests` of them
        // for array, one (of the 128 KiB class) for pooledarray.
        let saved = array as i64 - pooled as i64;
        let class_bytes = class_of(size as usize).1 as i64;
        let expected = (requests * size) as i64 - class_bytes;
        assert!(
            saved.abs_diff(expected) < size / 2,
            "array allocated {array}, pooledarray {pooled}: saved {saved}, expected {expected}"
        );
        assert_eq!(
            state.pool.held(),
            Held {
                items: 2,
                bytes: class_bytes as u64 + 1024
            },
            "one buffer of each class used rests in the pool"
        );
    }

    #[tokio::test]
    async fn pooled_bodies_are_fresh_random_bytes_of_the_asked_length() {
        let state = state();
        let (_, first) = get(&state, "/api/pooledarray/5000").await;
        let (_, second) = get(&state, "/api/pooledarray/5000").await;
        assert_eq!((first.len(), second.len()), (5000, 5000));
        assert_ne!(first, second, "the reused buffer is filled again");
    }

    #[test]
    fn size_classes_are_powers_of_two_from_sixteen_bytes() {
        assert_eq!(class_of(1), (0, 16));
        assert_eq!(class_of(16), (0, 16));
        assert_eq!(class_of(17), (1, 32));
        assert_eq!(class_of(100_000), (13, 131_072));
        assert_eq!(class_limit(131_072), BUFFERS_PER_CLASS);
        assert_eq!(class_limit(RESTING_BYTES_PER_CLASS), 1);
        assert_eq!(class_limit(RESTING_BYTES_PER_CLASS * 2), 1);
    }

    #[test]
    fn a_full_class_frees_what_comes_back_and_a_reset_empties_the_pool() {
        let pool = BufferPool::new(&ServerConfig::default());
        let rented: Vec<Rented> = (0..BUFFERS_PER_CLASS + 4)
            .map(|_| pool.rent(1000))
            .collect();
        assert_eq!(pool.held(), Held::default(), "all rented out");
        drop(rented);
        assert_eq!(
            pool.held(),
            Held {
                items: BUFFERS_PER_CLASS as u64,
                bytes: BUFFERS_PER_CLASS as u64 * 1024
            }
        );
        pool.reset();
        assert_eq!(pool.held(), Held::default());
    }
}
