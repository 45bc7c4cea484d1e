//! Leaf: which membench this is — the package version and the git commit it was built
//! from (recorded by `build.rs`: a short hash, `-dirty` when tracked files differed from
//! it, `unknown` outside a git checkout). `--version`, `summary.json`, `sweep.json`, the
//! comparison's JSON and the gallery all say it from here, so they cannot disagree.

/// The package version, e.g. `0.1.0`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit membench was built from: `3f2a9c1e0b7d`, `3f2a9c1e0b7d-dirty`, or
/// `unknown`.
pub const COMMIT: &str = env!("MEMBENCH_GIT_COMMIT");

/// What `membench --version` prints after the name: `0.1.0 (commit 3f2a9c1e0b7d)`.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("MEMBENCH_GIT_COMMIT"),
    ")"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commit_is_a_short_hash_or_says_it_is_unknown() {
        let hash = COMMIT.strip_suffix("-dirty").unwrap_or(COMMIT);
        assert!(
            COMMIT == "unknown"
                || (hash.len() == 12 && hash.chars().all(|c| c.is_ascii_hexdigit())),
            "{COMMIT:?}"
        );
        assert!(LONG_VERSION.starts_with(VERSION), "{LONG_VERSION}");
        assert!(LONG_VERSION.contains(COMMIT), "{LONG_VERSION}");
    }
}
