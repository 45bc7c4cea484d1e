//! What a gallery directory holds, found by looking at its subdirectories rather than by
//! their names: a comparison is a directory with `compare.md` and run subdirectories (as
//! `membench compare --out` writes it), a single run has `summary.json` (as `membench
//! run --out` writes it), a sweep has `sweep.json` (as `membench sweep --out` writes it).
//!
//! A directory with run subdirectories but no `compare.md` is a comparison that crashed
//! after its runs: it is shown without its figure. When every one of those runs was made
//! by `membench run` (its summary's command line), it is a set of single runs instead (the
//! workshop's runs of every runtime), which the "every memory manager" section reads. A directory with no results at all is
//! listed as left out (a step that crashed before writing anything).
//!
//! A directory that cannot be read is not fatal: the gallery shows what exists and lists
//! what it left out and why, so a crashed run in a workshop still leaves a page.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::report::compare::SavedRun;
use crate::sweep::SweepResult;

/// A comparison directory: the runs it holds, sorted by directory name.
#[derive(Debug, Clone)]
pub struct ComparisonDir {
    pub dir: PathBuf,
    /// Runs read back from the subdirectories that hold a `summary.json`.
    pub runs: Vec<SavedRun>,
}

/// A sweep directory with its `sweep.json`.
#[derive(Debug, Clone)]
pub struct SweepDir {
    pub dir: PathBuf,
    pub result: SweepResult,
}

/// A directory the gallery could not use, and why (an error chain, lower-case).
#[derive(Debug, Clone)]
pub struct Skipped {
    pub dir: PathBuf,
    pub reason: String,
}

/// Everything found under a gallery directory, each kind sorted by directory name.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub comparisons: Vec<ComparisonDir>,
    pub runs: Vec<SavedRun>,
    pub sweeps: Vec<SweepDir>,
    /// Directories of single runs (`membench run --out DIR/NAME` each), not a comparison.
    pub run_sets: Vec<ComparisonDir>,
    pub skipped: Vec<Skipped>,
}

impl Found {
    /// True when nothing at all could be shown.
    pub fn is_empty(&self) -> bool {
        self.comparisons.is_empty()
            && self.runs.is_empty()
            && self.sweeps.is_empty()
            && self.run_sets.is_empty()
    }
}

/// Scans the direct subdirectories of `root`. Fails only when `root` itself cannot be
/// listed; every subdirectory that fails to load is recorded in [`Found::skipped`].
pub fn discover(root: &Path) -> anyhow::Result<Found> {
    let mut found = Found::default();
    for dir in subdirectories(root).with_context(|| {
        format!(
            "cannot list \"{}\": expected a directory of results (compare, run and sweep outputs)",
            root.display()
        )
    })? {
        let outcome = if dir.join("sweep.json").is_file() {
            crate::sweep::read_sweep(&dir.join("sweep.json")).map(|result| {
                found.sweeps.push(SweepDir {
                    dir: dir.clone(),
                    result,
                })
            })
        } else if dir.join("summary.json").is_file() {
            SavedRun::load(&dir).map(|run| found.runs.push(run))
        } else if dir.join("compare.md").is_file() || has_run_subdirectory(&dir) {
            // Run directories without compare.md: a comparison that crashed after its runs.
            read_comparison(&dir).map(|comparison| {
                if !dir.join("compare.md").is_file() && made_by_run(&comparison.runs) {
                    found.run_sets.push(comparison);
                } else {
                    found.comparisons.push(comparison);
                }
            })
        } else {
            // In a workshop directory this is a step that crashed before writing anything.
            Err(anyhow::anyhow!(
                "no results: expected compare.md, summary.json or sweep.json (did this step crash?)"
            ))
        };
        if let Err(err) = outcome {
            found.skipped.push(Skipped {
                dir,
                reason: format!("{err:#}"),
            });
        }
    }
    Ok(found)
}

/// True when every run was made by `membench run` (not by `compare --run`), as its
/// summary's command line says.
fn made_by_run(runs: &[SavedRun]) -> bool {
    runs.iter()
        .all(|run| run.summary.run.command_line.get(1).map(String::as_str) == Some("run"))
}

/// True when a direct subdirectory holds a `summary.json`.
fn has_run_subdirectory(dir: &Path) -> bool {
    subdirectories(dir).is_ok_and(|subs| subs.iter().any(|sub| sub.join("summary.json").is_file()))
}

/// Direct subdirectories, sorted by name so the page is the same on every machine.
fn subdirectories(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let path = entry?.path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// A comparison's runs: every subdirectory with a summary. Runs that fail to load make
/// the whole comparison fail, because a pair with one side missing would read as a pair.
fn read_comparison(dir: &Path) -> anyhow::Result<ComparisonDir> {
    let runs = subdirectories(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .into_iter()
        .filter(|sub| sub.join("summary.json").is_file())
        .map(|sub| SavedRun::load(&sub))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if runs.is_empty() {
        anyhow::bail!(
            "\"{}\" has compare.md but no run directory with a summary.json",
            dir.display()
        );
    }
    Ok(ComparisonDir {
        dir: dir.to_path_buf(),
        runs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::compare::tests::three_run_dirs;
    use crate::sweep::SWEEP_FORMAT_VERSION;

    pub(crate) fn sweep_result() -> SweepResult {
        SweepResult {
            format_version: SWEEP_FORMAT_VERSION,
            scenario: "loh".into(),
            sizes_bytes: vec![65_536, 131_072],
            allocators: vec!["jemalloc".into()],
            duration_s: 3.0,
            warmup_s: 1.0,
            connections: 32,
            cliff_drop: 0.3,
            repeat: 1,
            points: Vec::new(),
            cliffs: Vec::new(),
            end: crate::sweep::SweepEnd::Completed,
            command_line: vec!["membench".into(), "sweep".into(), "loh".into()],
            membench_version: String::new(),
            membench_commit: String::new(),
        }
    }

    #[test]
    fn comparisons_runs_and_sweeps_are_told_apart_by_their_files() {
        let root = tempfile::tempdir().unwrap();
        // A comparison: two run directories and a compare.md, named unlike any scenario.
        let pair = root.path().join("zz-pair");
        let (dirs, _) = three_run_dirs(&pair);
        std::fs::remove_dir_all(&dirs[2]).unwrap();
        std::fs::write(pair.join("compare.md"), "# membench compare\n").unwrap();
        // A single run made by copying one of them.
        let single = root.path().join("aa-single");
        std::fs::create_dir_all(&single).unwrap();
        for file in ["summary.json", "samples.csv"] {
            std::fs::copy(dirs[0].join(file), single.join(file)).unwrap();
        }
        // A sweep.
        let sweep = root.path().join("mm-sweep");
        std::fs::create_dir_all(&sweep).unwrap();
        let result = sweep_result();
        std::fs::write(
            sweep.join("sweep.json"),
            serde_json::to_string(&result).unwrap(),
        )
        .unwrap();
        // Neither: a step that crashed before writing anything, listed as left out.
        std::fs::create_dir_all(root.path().join("notes")).unwrap();
        // Runs without compare.md: a comparison that crashed before its figure.
        let crashed = root.path().join("crashed-pair");
        let (crashed_dirs, _) = three_run_dirs(&crashed);
        for dir in &crashed_dirs {
            let path = dir.join("summary.json");
            let mut json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            json["run"]["command_line"][1] = "compare".into();
            std::fs::write(&path, json.to_string()).unwrap();
        }
        // Runs made by `membench run`, gathered in one directory: a set of single runs.
        let set = root.path().join("runtimes");
        let (set_dirs, _) = three_run_dirs(&set);

        let mut found = discover(root.path()).unwrap();
        assert_eq!(found.comparisons.len(), 2);
        assert_eq!(found.comparisons[0].dir, crashed);
        assert_eq!(found.comparisons[0].runs.len(), crashed_dirs.len());
        found.comparisons.remove(0);
        let scenarios: Vec<&str> = found.comparisons[0]
            .runs
            .iter()
            .map(|run| run.summary.run.scenario.as_str())
            .collect();
        assert_eq!(scenarios, ["staticstring", "bigstring"]);
        assert_eq!(found.runs.len(), 1);
        assert_eq!(found.runs[0].dir, single);
        assert_eq!(found.run_sets.len(), 1);
        assert_eq!(found.run_sets[0].dir, set);
        assert_eq!(found.run_sets[0].runs.len(), set_dirs.len());
        assert_eq!(found.sweeps.len(), 1);
        assert_eq!(found.sweeps[0].result, result);
        assert_eq!(found.skipped.len(), 1, "{:?}", found.skipped);
        assert_eq!(found.skipped[0].dir, root.path().join("notes"));
        assert!(
            found.skipped[0].reason.contains("no results"),
            "{:?}",
            found.skipped
        );
    }

    #[test]
    fn a_broken_directory_is_skipped_with_its_reason_and_the_rest_is_kept() {
        let root = tempfile::tempdir().unwrap();
        let (dirs, _) = three_run_dirs(root.path());
        std::fs::write(dirs[1].join("summary.json"), "{ not json").unwrap();
        let sweep = root.path().join("sweep");
        std::fs::create_dir_all(&sweep).unwrap();
        std::fs::write(sweep.join("sweep.json"), "[]").unwrap();
        let found = discover(root.path()).unwrap();
        assert_eq!(found.runs.len(), 2);
        assert_eq!(found.skipped.len(), 2);
        let reasons: Vec<&str> = found.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert!(reasons[0].contains("invalid summary"), "{reasons:?}");
        assert!(reasons[1].contains("membench sweep"), "{reasons:?}");
        let missing = discover(&root.path().join("never-made")).unwrap_err();
        assert!(format!("{missing:#}").contains("never-made"), "{missing:#}");
    }
}
