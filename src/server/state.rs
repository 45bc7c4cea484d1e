//! The server's shared state: its configuration and one sub-state per pattern family.
//! Each family owns its state type in its own file (`strings.rs`, `buffers.rs`, …) with
//! the same small surface: `new(&ServerConfig)`, `held()` for diagnostics and `reset()`
//! for `POST /api/reset`.
//!
//! The families share nothing but this state: the leak cap, for one, is checked by reading
//! each leaking family's held bytes (`leak_cap.rs`), not through a shared budget.

use std::sync::Arc;
use std::time::Instant;

use super::buffers::BufferPool;
use super::cache::Caches;
use super::clients::Clients;
use super::config::ServerConfig;
use super::fileprovider::Watchers;
use super::gc_lens::ServerGcLens;
use super::managed::ManagedTally;
use super::measurements::MeasurementCost;
use super::requests::{ErrorCounters, RequestCounters};
use super::strings::StaticStrings;

/// Shared by every handler through axum's `State`.
pub type SharedState = Arc<AppState>;

/// Everything the handlers share.
pub struct AppState {
    pub config: ServerConfig,
    /// When the state was built (the server's start, for `uptime_s`).
    pub started: Instant,
    /// Requests answered per endpoint (counted by the middleware in `requests.rs`).
    pub requests: RequestCounters,
    /// Failures by kind.
    pub errors: ErrorCounters,
    /// What the server's own snapshots allocated (see `measurements.rs`).
    pub measurement_cost: MeasurementCost,
    pub strings: StaticStrings,
    pub pool: BufferPool,
    pub caches: Caches,
    pub clients: Clients,
    pub watchers: Watchers,
    /// What the pattern requests would allocate in .NET, since the lens's last tick.
    pub managed: ManagedTally,
    /// The modelled .NET GC lens; `None` with `--gc-model none`.
    pub gc_lens: Option<ServerGcLens>,
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
        Ok(Arc::new(AppState {
            started: Instant::now(),
            requests: RequestCounters::new(super::known_routes()),
            errors: ErrorCounters::default(),
            measurement_cost: MeasurementCost::default(),
            strings: StaticStrings::new(&config),
            pool: BufferPool::new(&config),
            caches: Caches::new(&config),
            clients: Clients::new(&config),
            watchers: Watchers::new(&config)?,
            managed: ManagedTally::new(config.lens.is_some()),
            gc_lens,
            config,
        }))
    }
}
