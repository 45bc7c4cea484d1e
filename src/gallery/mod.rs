//! `membench gallery DIR`: one offline page (`DIR/index.html`) for a workshop's results —
//! every comparison, single run and sweep found under DIR, with its charts, tables,
//! verdicts and a paragraph per pair written from that run's numbers.
//!
//! * [`discovery`] — what DIR holds, recognised by files (compare.md, summary.json,
//!   sweep.json), never by names.
//! * [`facts`] — figures and comparative words computed from saved runs.
//! * [`paragraphs`] — one generator per pair kind (recognised by scenario names), the
//!   single-run leaks, the sweep, and a generic fallback.
//! * [`runtimes`] — "one pattern, every memory manager": the rows and paragraphs of the
//!   cross-runtime section (Rust, Mono, JVM, Node, Go measured; CoreCLR modelled).
//! * [`html`] — the self-contained page, every string from a file escaped.

pub mod discovery;
pub mod facts;
pub mod html;
pub mod paragraphs;
pub mod runtimes;

use std::path::{Path, PathBuf};

use anyhow::Context;

pub use discovery::{Found, discover};

/// The page's file name inside the gallery directory.
pub const INDEX_FILE: &str = "index.html";

/// Writes `root/index.html` for what is found under `root` and returns its path with what
/// was found. `made_at` is the page's time stamp (RFC 3339).
pub fn write_gallery(root: &Path, made_at: &str) -> anyhow::Result<(PathBuf, Found)> {
    let found = discover(root)?;
    let page = html::render_page(root, &found, made_at);
    let path = root.join(INDEX_FILE);
    std::fs::write(&path, page).with_context(|| format!("cannot write {}", path.display()))?;
    Ok((path, found))
}
