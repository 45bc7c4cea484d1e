//! The server's shared state: its configuration and one sub-state per pattern family.
//! Each family owns its state type in its own file (`strings.rs`, `buffers.rs`, …) with
//! the same small surface: `new(&ServerConfig)`, `held()` for diagnostics and `reset()`
//! for `POST /api/reset`.
//!
//! The families share nothing but this state: the leak cap, for one, is checked by reading
//! each leaking family's held bytes (`leak_cap.rs`), not through a shared budget.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::buffers::BufferPool;
use super::cache::Caches;
use super::clients::Clients;
use super::fileprovider::Watchers;
use super::gc_lens::ServerGcLens;
use super::managed::ManagedTally;
use super::measurements::MeasurementCost;
use super::requests::{ErrorCounters, RequestCounters};
use super::strings::StaticStrings;
use crate::cli::{GcModelArg, ServeArgs};
use crate::gcmodel::{ModelledMachine, Preset};

/// Limits and settings of one server, from `membench serve` flags.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where the server listens; the default upstream of the client endpoints.
    pub self_addr: SocketAddr,
    /// Most bytes staticstring and cache/unbounded may hold in total before 507.
    pub leak_cap_bytes: u64,
    /// Most connections /api/clientleak keeps open before 507.
    pub client_leak_cap: usize,
    /// Largest `size` of /api/loh, /api/array, /api/pooledarray.
    pub max_size_bytes: u64,
    /// Absolute expiry of /api/cache/expiring entries.
    pub cache_ttl: Duration,
    /// The modelled .NET GC lens (`--gc-model`); `None` turns it off.
    pub gc_model: Option<Preset>,
    /// Framework bytes per request in the modelled GC (`--dotnet-overhead`); `None` for
    /// the model's default.
    pub dotnet_overhead_bytes: Option<u64>,
    /// The machine the modelled GC sizes its budgets for (`--gc-machine`).
    pub gc_machine: ModelledMachine,
}

impl ServerConfig {
    /// The configuration of `membench serve ARGS` once it listens on `self_addr`.
    pub fn from_args(args: &ServeArgs, self_addr: SocketAddr) -> ServerConfig {
        ServerConfig {
            self_addr,
            leak_cap_bytes: args.leak_cap,
            client_leak_cap: args.client_leak_cap,
            max_size_bytes: args.max_size,
            cache_ttl: args.cache_ttl,
            gc_model: match args.lens.gc_model {
                Some(GcModelArg::None) => None,
                Some(GcModelArg::Server) | None => Some(Preset::Server),
                Some(GcModelArg::Workstation) => Some(Preset::Workstation),
            },
            dotnet_overhead_bytes: args.lens.dotnet_overhead,
            gc_machine: args.lens.gc_machine.into(),
        }
    }

    /// The defaults of `membench serve`, listening on `self_addr`.
    pub fn new(self_addr: SocketAddr) -> ServerConfig {
        ServerConfig {
            self_addr,
            leak_cap_bytes: 1 << 30,
            client_leak_cap: 2000,
            max_size_bytes: 64 << 20,
            cache_ttl: Duration::from_millis(500),
            gc_model: Some(Preset::Server),
            dotnet_overhead_bytes: None,
            gc_machine: ModelledMachine::Article,
        }
    }
}

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
        let gc_lens = match config.gc_model {
            Some(preset) => {
                let (machine, mut options) = config.gc_machine.resolve().map_err(|err| {
                    anyhow::anyhow!("--gc-machine this: {err}; use --gc-machine article instead")
                })?;
                if let Some(bytes) = config.dotnet_overhead_bytes {
                    options.framework_overhead_bytes = bytes;
                }
                Some(ServerGcLens::new(
                    preset,
                    machine,
                    options,
                    config.cache_ttl,
                ))
            }
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
            managed: ManagedTally::new(config.gc_model.is_some()),
            gc_lens,
            config,
        }))
    }
}
