//! [`ServerConfig`]: everything `membench serve` can be told, with its [`Default`] the one
//! source of the defaults. The command line (`cli::ServeArgs`) takes its defaults from the
//! constants here, and a test in `commands/serve.rs` checks that `membench serve` with no
//! flag yields exactly `ServerConfig::default()`.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use crate::gcmodel::LOH_THRESHOLD_BYTES;
use crate::gcmodel::LensConfig;
use crate::memory::AllocatorKind;

/// `127.0.0.1:5000`, where `membench serve` listens by default.
pub const DEFAULT_ADDR: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 5000));
/// Most bytes the leaking endpoints hold together before 507: 1 GiB.
pub const DEFAULT_LEAK_CAP_BYTES: u64 = 1 << 30;
/// As typed in `--help`; a test checks it parses to [`DEFAULT_LEAK_CAP_BYTES`].
pub const DEFAULT_LEAK_CAP_TEXT: &str = "1GiB";
/// Most connections `/api/clientleak` keeps open before 507.
pub const DEFAULT_CLIENT_LEAK_CAP: usize = 2000;
/// Largest `size` of the sized endpoints: 64 MiB.
pub const DEFAULT_MAX_SIZE_BYTES: u64 = crate::units::MAX_SIZE_BYTES;
/// As typed in `--help`; a test checks it parses to [`DEFAULT_MAX_SIZE_BYTES`].
pub const DEFAULT_MAX_SIZE_TEXT: &str = "64MiB";
/// Absolute expiry of `/api/cache/expiring` entries.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_millis(500);
/// As typed in `--help`; a test checks it parses to [`DEFAULT_CACHE_TTL`].
pub const DEFAULT_CACHE_TTL_TEXT: &str = "500ms";
/// Allocations at or above this size count as large objects: the .NET LOH threshold.
pub const DEFAULT_LARGE_OBJECT_BYTES: usize = LOH_THRESHOLD_BYTES as usize;
/// Most upstream requests the client endpoints have in flight at once before 503.
pub const DEFAULT_MAX_UPSTREAM: usize = 256;
/// Most bytes the sized endpoints (loh, array, pooledarray) hold for requests in flight
/// together before 503: 256 MiB.
pub const DEFAULT_MAX_INFLIGHT_BYTES: u64 = 256 << 20;
/// As typed in `--help`; a test checks it parses to [`DEFAULT_MAX_INFLIGHT_BYTES`].
pub const DEFAULT_MAX_INFLIGHT_TEXT: &str = "256MiB";
/// How long a connection may take to send a whole request head, counted from when the
/// server starts waiting for it (a new connection, or an idle keep-alive one).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// As typed in `--help`; a test checks it parses to [`DEFAULT_HEADER_TIMEOUT`].
pub const DEFAULT_HEADER_TIMEOUT_TEXT: &str = "10s";
/// Most connections served at once; further ones wait in the listen backlog.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// Most directory watchers `/api/fileprovider` holds before 507 (also never more than half
/// of `fs.inotify.max_user_instances`, which every process of the user shares).
pub const DEFAULT_MAX_WATCHERS: usize = 64;

/// Limits and settings of one server, from `membench serve` flags.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Where the server listens (port 0: any free port; [`serve`](super::serve) replaces
    /// it with the bound address). The default upstream of the client endpoints.
    pub self_addr: SocketAddr,
    /// Allocator of the server process; `serve` re-executes the process when it started
    /// with another one (a global allocator is chosen before `main`).
    pub allocator: AllocatorKind,
    /// Whether the counting allocator counts (off measures its cost).
    pub counting: bool,
    /// Allocations at or above this many bytes are counted as large objects.
    pub large_object_bytes: usize,
    /// Most bytes staticstring and cache/unbounded may hold in total before 507.
    pub leak_cap_bytes: u64,
    /// Most connections /api/clientleak keeps open before 507.
    pub client_leak_cap: usize,
    /// Largest `size` of /api/loh, /api/array, /api/pooledarray.
    pub max_size_bytes: u64,
    /// Absolute expiry of /api/cache/expiring entries.
    pub cache_ttl: Duration,
    /// The modelled .NET GC lens (`--gc-model`, `--gc-machine`, `--dotnet-overhead`);
    /// `None` turns it off.
    pub lens: Option<LensConfig>,
    /// Whether a non-loopback `self_addr` is allowed (`--allow-remote`).
    pub allow_remote: bool,
    /// Most upstream requests of the client endpoints in flight at once; past it, 503.
    pub max_upstream: usize,
    /// Most bytes the sized endpoints hold for requests in flight together; past it, 503.
    pub max_inflight_bytes: u64,
    /// Longest wait for a whole request head (new or idle keep-alive connection).
    pub header_timeout: Duration,
    /// Most connections served at once.
    pub max_connections: usize,
    /// Most watchers /api/fileprovider holds before 507.
    pub max_watchers: usize,
}

impl Default for ServerConfig {
    /// The defaults of `membench serve`.
    fn default() -> Self {
        ServerConfig {
            self_addr: DEFAULT_ADDR,
            allocator: AllocatorKind::DEFAULT,
            counting: true,
            large_object_bytes: DEFAULT_LARGE_OBJECT_BYTES,
            leak_cap_bytes: DEFAULT_LEAK_CAP_BYTES,
            client_leak_cap: DEFAULT_CLIENT_LEAK_CAP,
            max_size_bytes: DEFAULT_MAX_SIZE_BYTES,
            cache_ttl: DEFAULT_CACHE_TTL,
            lens: Some(LensConfig::default()),
            allow_remote: false,
            max_upstream: DEFAULT_MAX_UPSTREAM,
            max_inflight_bytes: DEFAULT_MAX_INFLIGHT_BYTES,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_watchers: DEFAULT_MAX_WATCHERS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{parse_byte_size, parse_duration};

    #[test]
    fn the_help_texts_are_the_defaults() {
        assert_eq!(
            parse_byte_size(DEFAULT_LEAK_CAP_TEXT),
            Ok(DEFAULT_LEAK_CAP_BYTES)
        );
        assert_eq!(
            parse_byte_size(DEFAULT_MAX_SIZE_TEXT),
            Ok(DEFAULT_MAX_SIZE_BYTES)
        );
        assert_eq!(
            parse_duration(DEFAULT_CACHE_TTL_TEXT),
            Ok(DEFAULT_CACHE_TTL)
        );
        assert_eq!(
            parse_byte_size(DEFAULT_MAX_INFLIGHT_TEXT),
            Ok(DEFAULT_MAX_INFLIGHT_BYTES)
        );
        assert_eq!(
            parse_duration(DEFAULT_HEADER_TIMEOUT_TEXT),
            Ok(DEFAULT_HEADER_TIMEOUT)
        );
    }
}
