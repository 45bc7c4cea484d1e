//! The server's shared state: its configuration and one sub-state per pattern family.
//! Each family owns its state type in its own file (`strings.rs`, `buffers.rs`, …) with
//! the same small surface: `new(&ServerConfig)`, `held()` for diagnostics and `reset()`
//! for `POST /api/reset`.
//!
//! This file is the one place that knows every family: the pattern handlers extract only
//! the parts they use (`State<Part<Caches>>`, `State<LeakCap>`, …, through the
//! [`FromRef`] impls below), so a family file never sees [`AppState`]. Each extraction is
//! one `Arc` clone, as `State<SharedState>` was. The families share nothing but these
//! parts: the leak cap, for one, reads the leaking families' held-bytes counters
//! (`leak_cap.rs`), not a shared budget.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::FromRef;

use super::buffers::BufferPool;
use super::cache::Caches;
use super::clients::Clients;
use super::config::ServerConfig;
use super::fileprovider::Watchers;
use super::gc_lens::{ServerGcLens, TICK};
use super::history::History;
use super::leak_cap::LeakCap;
use super::limits::InflightBudget;
use super::managed::ManagedTally;
use super::measurements::MeasurementCost;
use super::operations::Operations;
use super::requests::{ErrorCounters, RequestCounters};
use super::strings::StaticStrings;
use crate::memory;

/// Shared by every handler through axum's `State`.
pub type SharedState = Arc<AppState>;

/// Everything the handlers share.
pub struct AppState {
    pub(crate) config: Arc<ServerConfig>,
    /// When the state was built (the server's start, for `uptime_s`).
    pub(crate) started: Instant,
    /// Requests answered per endpoint (counted by the middleware in `requests.rs`).
    pub(crate) requests: RequestCounters,
    /// Failures by kind.
    pub(crate) errors: ErrorCounters,
    /// What the server's own snapshots allocated (see `measurements.rs`).
    pub(crate) measurement_cost: MeasurementCost,
    /// The last five minutes of what the dashboard charts (`history.rs`).
    pub(crate) history: History,
    pub(crate) strings: Arc<StaticStrings>,
    pub(crate) pool: Arc<BufferPool>,
    pub(crate) caches: Arc<Caches>,
    pub(crate) clients: Arc<Clients>,
    pub(crate) watchers: Arc<Watchers>,
    /// `/api/operation/leak`'s receive operations never cancelled.
    pub(crate) operations: Arc<Operations>,
    /// The cap shared by the leaking endpoints (`--leak-cap`).
    pub(crate) leak_cap: LeakCap,
    /// Bytes the sized endpoints hold for responses in flight (`--max-inflight`).
    pub(crate) inflight: InflightBudget,
    /// What the pattern requests would allocate in .NET, since the lens's last tick.
    pub(crate) managed: Arc<ManagedTally>,
    /// The modelled .NET GC lens; `None` with `--gc-model none`.
    pub(crate) gc_lens: Option<ServerGcLens>,
}

impl AppState {
    /// Builds the state; fails only if a family cannot set itself up (e.g. the watcher's
    /// temporary directory cannot be created) or `--gc-machine this` cannot read this
    /// machine.
    pub fn new(config: ServerConfig) -> anyhow::Result<SharedState> {
        let gc_lens = match config.lens {
            Some(lens) => Some(ServerGcLens::new(lens.resolve()?, config.cache_ttl)),
            None => None,
        };
        let leak_cap = LeakCap::new(config.leak_cap_bytes);
        Ok(Arc::new(AppState {
            started: Instant::now(),
            requests: RequestCounters::new(super::known_routes()),
            errors: ErrorCounters::default(),
            measurement_cost: MeasurementCost::default(),
            history: History::new(),
            strings: Arc::new(StaticStrings::new(&leak_cap)),
            pool: Arc::new(BufferPool::new(&config)),
            caches: Arc::new(Caches::new(&config, &leak_cap)),
            clients: Arc::new(Clients::new(&config)),
            watchers: Arc::new(Watchers::new(&config)?),
            operations: Arc::new(Operations::new(&config)),
            leak_cap,
            inflight: InflightBudget::new(config.max_inflight_bytes),
            managed: Arc::new(ManagedTally::new(config.lens.is_some())),
            gc_lens,
            config: Arc::new(config),
        }))
    }
}

/// Starts the thread that ticks the modelled GC lens every [`TICK`] for as long as the state lives;
/// does nothing when the lens is off.
pub(crate) fn spawn_lens_ticker(state: &SharedState) -> std::io::Result<()> {
    if state.gc_lens.is_none() {
        return Ok(());
    }
    let state = Arc::downgrade(state);
    std::thread::Builder::new()
        .name("membench-gc-lens".into())
        .spawn(move || {
            loop {
                std::thread::sleep(TICK);
                let Some(state) = state.upgrade() else {
                    return;
                };
                tick_measured(&state);
            }
        })?;
    Ok(())
}

/// One tick, its allocations added to the measurement cost (this thread's own shard of
/// the heap counters is written by this thread alone).
fn tick_measured(state: &AppState) {
    let Some(lens) = &state.gc_lens else {
        return;
    };
    let before = memory::thread_heap_counters();
    lens.tick(&state.managed, state.started.elapsed().as_secs_f64());
    state
        .measurement_cost
        .add(before, memory::thread_heap_counters());
}

/// One part of the state, as a handler extracts it (`State<Part<Caches>>`): a shared
/// reference to that part alone.
pub(crate) struct Part<T>(Arc<T>);

impl<T> Clone for Part<T> {
    fn clone(&self) -> Self {
        Part(Arc::clone(&self.0))
    }
}

impl<T> Deref for Part<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// `impl FromRef<SharedState> for Part<$type>`, taken from `AppState::$field`.
macro_rules! part_of_state {
    ($($field:ident: $type:ty),* $(,)?) => {$(
        impl FromRef<SharedState> for Part<$type> {
            fn from_ref(state: &SharedState) -> Self {
                Part(Arc::clone(&state.$field))
            }
        }
    )*};
}

part_of_state!(
    config: ServerConfig,
    strings: StaticStrings,
    pool: BufferPool,
    caches: Caches,
    clients: Clients,
    watchers: Watchers,
    operations: Operations,
    managed: ManagedTally,
);

impl FromRef<SharedState> for LeakCap {
    fn from_ref(state: &SharedState) -> Self {
        state.leak_cap.clone()
    }
}

impl FromRef<SharedState> for InflightBudget {
    fn from_ref(state: &SharedState) -> Self {
        state.inflight.clone()
    }
}
