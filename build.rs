//! Records the git commit membench is built from, as `MEMBENCH_GIT_COMMIT` for
//! `src/build_info.rs`: the short hash, `-dirty` when tracked files differ from it, or
//! `unknown` when there is no commit to name (a crates.io tarball without its VCS note, a
//! machine without git). It never fails the build: a missing commit is a fact to report,
//! not an error.
//!
//! It reruns when HEAD moves (HEAD, the branch ref it points to, packed-refs) and when the
//! package's own sources change (which rebuild the crate anyway, and may make it dirty),
//! and not otherwise: `git status` rewriting `.git/index`, or a run writing into
//! `results/`, forces no rebuild.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Characters of the hash shown (12 stay unique in far larger repositories than this).
const SHORT_HASH: usize = 12;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    for input in [
        "build.rs",
        "Cargo.toml",
        "Cargo.lock",
        "src",
        "scenarios",
        "assets",
        "runtimes",
    ] {
        println!("cargo:rerun-if-changed={input}");
    }
    let commit = git_commit(&manifest_dir)
        .or_else(|| cargo_vcs_info(&manifest_dir))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=MEMBENCH_GIT_COMMIT={commit}");
}

/// `git` in the manifest directory, when that directory is the top of a git work tree
/// (a crate unpacked inside some other repository must not take that repository's
/// commit for its own).
fn git_commit(manifest_dir: &Path) -> Option<String> {
    let top = git(manifest_dir, &["rev-parse", "--show-toplevel"])?;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same(Path::new(&top), manifest_dir) {
        return None;
    }
    watch_head(manifest_dir);
    let hash = git(
        manifest_dir,
        &["rev-parse", &format!("--short={SHORT_HASH}"), "HEAD"],
    )?;
    // Tracked files only: an untracked scratch file does not change what was built.
    // --no-optional-locks: a build must not take git's index lock from under the user.
    let status = git(
        manifest_dir,
        &[
            "--no-optional-locks",
            "status",
            "--porcelain",
            "--untracked-files=no",
        ],
    );
    Some(match status {
        Some(changes) if !changes.is_empty() => format!("{hash}-dirty"),
        _ => hash,
    })
}

/// Reruns the build script when HEAD, the ref HEAD names, or packed-refs change. In a
/// linked work tree HEAD is in the work tree's git dir and refs in the common one.
fn watch_head(manifest_dir: &Path) {
    let absolute = |path: String| {
        let path = PathBuf::from(path);
        if path.is_absolute() {
            path
        } else {
            manifest_dir.join(path)
        }
    };
    let Some(git_dir) = git(manifest_dir, &["rev-parse", "--git-dir"]).map(absolute) else {
        return;
    };
    let common_dir = git(manifest_dir, &["rev-parse", "--git-common-dir"])
        .map(absolute)
        .unwrap_or_else(|| git_dir.clone());
    let head = git_dir.join("HEAD");
    println!("cargo:rerun-if-changed={}", head.display());
    println!(
        "cargo:rerun-if-changed={}",
        common_dir.join("packed-refs").display()
    );
    if let Ok(text) = std::fs::read_to_string(&head)
        && let Some(reference) = text.trim().strip_prefix("ref: ")
    {
        println!(
            "cargo:rerun-if-changed={}",
            common_dir.join(reference).display()
        );
    }
}

/// The commit `cargo package` noted in `.cargo_vcs_info.json` of a crates.io tarball.
fn cargo_vcs_info(manifest_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest_dir.join(".cargo_vcs_info.json")).ok()?;
    // {"git": {"sha1": "<40 hex>", "dirty": true}, "path_in_vcs": ""}: read without a
    // JSON parser, so the build script needs no dependency.
    let after = text.split("\"sha1\"").nth(1)?;
    let hash: String = after
        .chars()
        .skip_while(|c| !c.is_ascii_hexdigit())
        .take_while(char::is_ascii_hexdigit)
        .collect();
    if hash.len() < SHORT_HASH {
        return None;
    }
    let dirty = text.contains("\"dirty\": true") || text.contains("\"dirty\":true");
    let short = &hash[..SHORT_HASH];
    Some(if dirty {
        format!("{short}-dirty")
    } else {
        short.to_string()
    })
}

/// Trimmed stdout of a successful `git ARGS` in `dir`; `None` on any failure.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
}
