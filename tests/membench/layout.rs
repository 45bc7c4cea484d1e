//! The layout rules of `src/lib.rs`, checked on the source itself: arrows between
//! top-level modules point down (no cycles, and the forbidden arrows are absent), commands
//! stay thin, files stay readable, every file says what it owns, and nothing points at a
//! file outside the repository.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules that import nothing from the crate but other leaves.
const LEAVES: &[&str] = &[
    "build_info",
    "units",
    "format",
    "stats",
    "params",
    "error_labels",
    "resources",
];

/// Arrows the module map forbids, as (from, to).
const FORBIDDEN: &[(&str, &[&str])] = &[
    ("server", &["cli", "commands", "runner", "loadgen"]),
    ("report", &["runner", "loadgen", "commands", "cli"]),
    (
        "loadgen",
        &["runner", "server", "report", "commands", "cli", "scenario"],
    ),
    (
        "memory",
        &["runner", "server", "report", "commands", "cli", "loadgen"],
    ),
    (
        "gallery",
        &["runner", "loadgen", "commands", "cli", "server"],
    ),
    ("sweep", &["runner", "loadgen", "commands", "cli", "server"]),
    (
        "verdict",
        &["runner", "loadgen", "commands", "cli", "server", "report"],
    ),
    (
        "gcmodel",
        &["runner", "loadgen", "commands", "cli", "server", "report"],
    ),
    (
        "series",
        &[
            "runner", "loadgen", "commands", "cli", "server", "report", "scenario",
        ],
    ),
    (
        "diagnostics",
        &["runner", "loadgen", "commands", "cli", "server", "report"],
    ),
    (
        "scenario",
        &["runner", "loadgen", "commands", "cli", "server", "report"],
    ),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/report/chart/mod.rs` → `report`).
fn top_level(file: &Path) -> String {
    let relative = file.strip_prefix(src()).unwrap();
    let first = relative.components().next().unwrap().as_os_str();
    first.to_string_lossy().trim_end_matches(".rs").to_string()
}

/// Every `crate::name` a file's code (not its comments) refers to.
fn crate_references(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        for (index, _) in code.match_indices("crate::") {
            if index > 0 && code[..index].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue; // `membench_crate::`, not ours
            }
            let name: String = code[index + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// The arrows between top-level modules, with one file that makes each.
fn arrows() -> BTreeMap<(String, String), PathBuf> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| top_level(f)).collect();
    let mut arrows = BTreeMap::new();
    for file in &files {
        let from = top_level(file);
        if from == "lib" || from == "main" {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for to in crate_references(&text) {
            if to != from && modules.contains(&to) {
                arrows
                    .entry((from.clone(), to))
                    .or_insert_with(|| file.clone());
            }
        }
    }
    arrows
}

#[test]
fn arrows_between_top_level_modules_point_down() {
    let arrows = arrows();
    let mut broken = Vec::new();
    for ((from, to), file) in &arrows {
        let forbidden = FORBIDDEN
            .iter()
            .any(|(f, targets)| f == from && targets.contains(&to.as_str()));
        let leaf_reaching_up = LEAVES.contains(&from.as_str()) && !LEAVES.contains(&to.as_str());
        if forbidden || leaf_reaching_up {
            broken.push(format!("{from} → {to} ({})", file.display()));
        }
    }
    assert!(
        broken.is_empty(),
        "arrows the module map forbids:\n{}",
        broken.join("\n")
    );

    // No cycles: peel off modules that nothing left imports, or that import nothing
    // left, until none is left; what remains are the cycles.
    let mut edges: BTreeSet<(String, String)> = arrows.keys().cloned().collect();
    loop {
        let targets: BTreeSet<String> = edges.iter().map(|(_, to)| to.clone()).collect();
        let sources: BTreeSet<String> = edges.iter().map(|(from, _)| from.clone()).collect();
        let before = edges.len();
        edges.retain(|(from, to)| targets.contains(from) && sources.contains(to));
        if edges.len() == before {
            break;
        }
    }
    assert!(edges.is_empty(), "module cycle among: {edges:?}");
}

#[test]
fn commands_are_thin_and_files_are_readable() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines = text.lines().count();
        let limit = if file.starts_with(src().join("commands")) {
            250
        } else {
            600
        };
        assert!(
            lines <= limit,
            "{} has {lines} lines (at most {limit})",
            file.display()
        );
        assert!(
            text.starts_with("//!"),
            "{} does not open with a //! doc saying what it owns",
            file.display()
        );
    }
}

#[test]
fn nothing_points_at_a_file_outside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    for dir in ["docs", "scenarios", "scripts"] {
        if let Ok(entries) = std::fs::read_dir(root.join(dir)) {
            files.extend(entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()));
        }
    }
    files.push(root.join("README.md"));
    files.push(src().join("gcmodel/explain.txt"));
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for needle in ["/work/", "../shared/"] {
            assert!(
                !text.contains(needle),
                "{} names {needle}, a path outside the repository",
                file.display()
            );
        }
    }
}
