//! One paragraph per pair, single run and sweep, generated from the measured numbers of
//! that run: every figure and every comparative word is computed (see [`super::facts`]),
//! so a claim flips when the numbers do; only each pair's lesson is fixed text, and where
//! the numbers contradict it the paragraph says so instead.
//!
//! Pairs are recognised by the scenario names in their runs' summaries, never by directory
//! names: a comparison made by hand into any directory gets the same paragraph.

mod arrays;
mod cache;
mod generic;
mod httpclient;
mod leaks;
mod loh;
mod operations;
mod strings;
mod sweep;

use super::facts;
use crate::report::compare::SavedRun;

pub use sweep::{BoundaryReading, boundary_reading, cliff_line, sweep_paragraph};

/// Ends a pair's paragraph: its lesson when the numbers agree with it, otherwise the
/// contradictions (and no lesson the run did not show).
fn lesson_or_contradictions(text: &mut String, lesson: &str, contradictions: &[impl AsRef<str>]) {
    if contradictions.is_empty() {
        text.push_str(lesson);
    } else {
        let told: Vec<&str> = contradictions.iter().map(AsRef::as_ref).collect();
        text.push_str(&told.join("; "));
        text.push('.');
    }
}

/// The article's pairs and the post-mortems' leak/fix pairs, recognised by their scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PairKind {
    /// bigstring vs staticstring.
    Strings,
    /// loh at two sizes (84,975 vs 84,976 in the article).
    Loh,
    /// array vs pooledarray.
    Arrays,
    /// httpclient1 vs httpclient2.
    HttpClient,
    /// cache-unbounded vs cache-expiring.
    Cache,
    /// operation-leak vs operation-scoped (the undisposed-operation post-mortem).
    Operations,
}

impl PairKind {
    /// The section title on the page.
    pub fn title(self) -> &'static str {
        match self {
            PairKind::Strings => "Transient vs leaked strings",
            PairKind::Loh => "Large objects around 85,000 bytes",
            PairKind::Arrays => "Fresh vs pooled buffers",
            PairKind::HttpClient => "A client per request vs a shared client",
            PairKind::Cache => "A cache without expiry vs with expiry",
            PairKind::Operations => "An operation never cancelled vs one scoped to its request",
        }
    }

    /// The pair's scenarios in the article's order (loh is one scenario at two sizes).
    pub fn scenarios(self) -> &'static [&'static str] {
        match self {
            PairKind::Strings => &["bigstring", "staticstring"],
            PairKind::Loh => &["loh"],
            PairKind::Arrays => &["array", "pooledarray"],
            PairKind::HttpClient => &["httpclient1", "httpclient2"],
            PairKind::Cache => &["cache-unbounded", "cache-expiring"],
            PairKind::Operations => &["operation-leak", "operation-scoped"],
        }
    }
}

/// The runs in the order the page shows them: a known pair in the article's order (loh by
/// size), anything else as given.
pub fn page_order(runs: &[SavedRun]) -> Vec<SavedRun> {
    let mut ordered = runs.to_vec();
    if let Some(kind) = recognise(runs) {
        let rank = |run: &SavedRun| {
            let scenario = kind
                .scenarios()
                .iter()
                .position(|s| *s == run.summary.run.scenario);
            (scenario, facts::size_param(run))
        };
        ordered.sort_by_key(rank);
    }
    ordered
}

/// Which pair the runs are, from their scenario names; `None` for anything else (other
/// scenarios, or more or fewer than two runs).
pub fn recognise(runs: &[SavedRun]) -> Option<PairKind> {
    let [a, b] = runs else { return None };
    let mut names = [
        a.summary.run.scenario.as_str(),
        b.summary.run.scenario.as_str(),
    ];
    names.sort_unstable();
    match names {
        ["bigstring", "staticstring"] => Some(PairKind::Strings),
        ["loh", "loh"] => Some(PairKind::Loh),
        ["array", "pooledarray"] => Some(PairKind::Arrays),
        ["httpclient1", "httpclient2"] => Some(PairKind::HttpClient),
        ["cache-expiring", "cache-unbounded"] => Some(PairKind::Cache),
        ["operation-leak", "operation-scoped"] => Some(PairKind::Operations),
        _ => None,
    }
}

/// The paragraph for a comparison: the pair's own generator when the runs are one of the
/// article's pairs, the generic one otherwise.
pub fn pair_paragraph(runs: &[SavedRun]) -> String {
    let by_scenario = |name: &str| runs.iter().find(|run| run.summary.run.scenario == name);
    let specific = match recognise(runs) {
        Some(PairKind::Strings) => by_scenario("bigstring")
            .zip(by_scenario("staticstring"))
            .map(|(t, l)| strings::paragraph(t, l)),
        Some(PairKind::Loh) => Some(loh::paragraph(&runs[0], &runs[1])),
        Some(PairKind::Arrays) => by_scenario("array")
            .zip(by_scenario("pooledarray"))
            .map(|(f, p)| arrays::paragraph(f, p)),
        Some(PairKind::HttpClient) => by_scenario("httpclient1")
            .zip(by_scenario("httpclient2"))
            .map(|(fresh, shared)| httpclient::paragraph(fresh, shared)),
        Some(PairKind::Cache) => by_scenario("cache-unbounded")
            .zip(by_scenario("cache-expiring"))
            .map(|(unbounded, expiring)| cache::paragraph(unbounded, expiring)),
        Some(PairKind::Operations) => by_scenario("operation-leak")
            .zip(by_scenario("operation-scoped"))
            .map(|(leak, scoped)| operations::paragraph(leak, scoped)),
        None => None,
    };
    specific.unwrap_or_else(|| generic::comparison_paragraph(runs))
}

/// The paragraph for a single run: fileprovider and clientleak have their own, anything
/// else the generic one.
pub fn run_paragraph(run: &SavedRun) -> String {
    match run.summary.run.scenario.as_str() {
        "fileprovider" => leaks::fileprovider(run),
        "clientleak" => leaks::clientleak(run),
        _ => generic::run_paragraph(run),
    }
}

/// Sentence fragments shared by the generators.
pub(crate) mod words {
    use crate::report::compare::SavedRun;

    /// `paced at 2,000 requests/s` or `in closed loop with 32 connections`.
    pub fn pacing(run: &SavedRun) -> String {
        let info = &run.summary.run;
        match info.rate_per_s {
            Some(rate) => format!(
                "paced at {} requests/s",
                super::super::facts::format_rps(rate)
            ),
            None => format!("in closed loop with {} connections", info.connections),
        }
    }
}

#[cfg(test)]
pub(crate) mod fixtures;

#[cfg(test)]
pub(crate) use sweep::tests::sweep as sweep_fixture;
