//! `membench serve`: the flags become a [`ServerConfig`], and the library serves it until
//! Ctrl-C or SIGTERM. The defaults are `ServerConfig::default()`'s (the clap flags take
//! theirs from the same constants; a test below checks they agree).

use super::Outcome;
use crate::cli::{GcModelArg, ServeArgs};
use crate::gcmodel::{LensConfig, Preset};
use crate::server::{self, ServerConfig};

/// Runs the pattern server until it is stopped.
pub(super) fn serve(args: ServeArgs) -> anyhow::Result<Outcome> {
    // Checked here too (the library refuses as well) so a refused address is a usage
    // error, exit 2, before anything starts.
    if let Err(message) = server::check_bind(args.addr, args.allow_remote) {
        eprintln!("membench: {message}");
        return Ok(Outcome::Usage);
    }
    server::serve(config(&args)).map(|()| Outcome::Success)
}

/// The configuration `membench serve ARGS` asks for.
fn config(args: &ServeArgs) -> ServerConfig {
    // Every endpoint of `serve` is the article's, so the lens is on unless turned off.
    let preset = match args.lens.gc_model {
        Some(GcModelArg::None) => None,
        Some(GcModelArg::Server) | None => Some(Preset::Server),
        Some(GcModelArg::Workstation) => Some(Preset::Workstation),
    };
    ServerConfig {
        self_addr: args.addr,
        allocator: args.allocator,
        counting: !args.no_counting,
        large_object_bytes: args.large_object_bytes,
        leak_cap_bytes: args.leak_cap,
        client_leak_cap: args.client_leak_cap,
        max_size_bytes: args.max_size,
        cache_ttl: args.cache_ttl,
        lens: preset.map(|preset| LensConfig {
            preset,
            machine: args.lens.gc_machine.into(),
            dotnet_overhead_bytes: args.lens.dotnet_overhead,
        }),
        allow_remote: args.allow_remote,
        max_upstream: args.max_upstream,
        max_inflight_bytes: args.max_inflight,
        header_timeout: args.header_timeout,
        max_connections: args.max_connections,
        max_watchers: args.max_watchers,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::memory::AllocatorKind;

    fn config_of(args: &[&str]) -> ServerConfig {
        let cli = Cli::try_parse_from(["membench", "serve"].iter().chain(args)).unwrap();
        match cli.command {
            Command::Serve(args) => config(&args),
            other => panic!("not serve: {other:?}"),
        }
    }

    #[test]
    fn no_flag_is_the_servers_default_config() {
        // The allocator flag also reads MEMBENCH_ALLOCATOR; pin it so the test does not
        // depend on the environment it runs in.
        let config = config_of(&["--allocator", AllocatorKind::DEFAULT.name()]);
        assert_eq!(config, ServerConfig::default());
    }

    #[test]
    fn the_config_comes_from_the_flags() {
        let config = config_of(&[
            "--addr",
            "127.0.0.1:4321",
            "--leak-cap",
            "2MiB",
            "--max-size",
            "1MiB",
            "--cache-ttl",
            "2s",
            "--no-counting",
        ]);
        assert_eq!(config.self_addr, "127.0.0.1:4321".parse().unwrap());
        assert_eq!(config.leak_cap_bytes, 2 << 20);
        assert_eq!(config.max_size_bytes, 1 << 20);
        assert_eq!(config.cache_ttl, Duration::from_secs(2));
        assert!(!config.counting);
        assert_eq!(config.lens, Some(LensConfig::default()), "on by default");
    }

    #[test]
    fn the_modelled_lens_comes_from_its_flags() {
        let config = config_of(&["--gc-model", "workstation", "--dotnet-overhead", "4KiB"]);
        let lens = config.lens.unwrap();
        assert_eq!(lens.preset, Preset::Workstation);
        assert_eq!(lens.dotnet_overhead_bytes, Some(4096));
        assert_eq!(config_of(&["--gc-model", "none"]).lens, None);
        let err = Cli::try_parse_from(["membench", "serve", "--gc-model", "dotnet"]).unwrap_err();
        assert!(err.to_string().contains("dotnet"), "{err}");
    }
}
