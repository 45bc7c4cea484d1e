//! The built-in scenarios as data (`membench list --format json`): each with its request,
//! parameters and their defaults, the load a run gets when no flag overrides it (the
//! file's `[load]`, else `membench run`'s defaults, each saying which) and what a run is
//! checked against. Read from the same files as `list` and `run`, so it cannot drift.

use std::time::Duration;

use serde::Serialize;

use super::file::Scenario;
use crate::verdict::Expectation;

/// Version of the listing's layout; bumped when a field changes meaning.
pub const LISTING_FORMAT_VERSION: u32 = 1;

/// `membench list --format json`: the document printed.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioListing {
    pub format_version: u32,
    pub membench_version: &'static str,
    pub membench_commit: &'static str,
    pub scenarios: Vec<ListedScenario>,
}

/// One scenario as data.
#[derive(Debug, Clone, Serialize)]
pub struct ListedScenario {
    pub name: String,
    pub aliases: Vec<String>,
    pub description: String,
    pub origin: Option<String>,
    pub teaches: Option<String>,
    /// Path and query with `{param}` placeholders, e.g. `/api/loh/{size}`.
    pub path: String,
    /// The placeholders' parameters, by name order.
    pub params: Vec<ListedParam>,
    pub load: ListedLoad,
    /// Shapes each run is checked against (`[expect]`); empty: no verdict.
    pub expect: Vec<Expectation>,
    /// The modelled .NET GC is on by default for this scenario (an article endpoint).
    pub gc_model_by_default: bool,
}

/// A parameter and the value a run uses when `--size`/`--param` gives none.
#[derive(Debug, Clone, Serialize)]
pub struct ListedParam {
    pub name: String,
    /// As written in the file (`"84976"`, `"1MiB"`).
    pub default: String,
    pub description: Option<String>,
}

/// The load of a run with no load flags.
#[derive(Debug, Clone, Serialize)]
pub struct ListedLoad {
    pub connections: usize,
    /// Load duration after the warm-up, seconds; `None` when the run stops at a count.
    pub duration_s: Option<f64>,
    /// Requests of a run that stops at a count.
    pub requests: Option<u64>,
    /// Open-loop rate, requests per second; `None`: closed loop.
    pub rate_per_s: Option<f64>,
    /// True when the value comes from the scenario's `[load]` section, false when it is
    /// `membench run`'s default, for connections and duration.
    pub connections_from_scenario: bool,
    pub duration_from_scenario: bool,
}

/// The listing of `scenarios`, given `membench run`'s default connections and duration.
pub fn listing(
    scenarios: &[Scenario],
    default_connections: usize,
    default_duration: Duration,
) -> ScenarioListing {
    ScenarioListing {
        format_version: LISTING_FORMAT_VERSION,
        membench_version: crate::build_info::VERSION,
        membench_commit: crate::build_info::COMMIT,
        scenarios: scenarios
            .iter()
            .map(|scenario| ListedScenario {
                name: scenario.name.clone(),
                aliases: scenario.aliases.clone(),
                description: scenario.description.clone(),
                origin: scenario.origin.clone(),
                teaches: scenario.teaches.as_ref().map(|t| t.trim().to_string()),
                path: scenario.path.clone(),
                params: scenario
                    .params
                    .iter()
                    .map(|(name, param)| ListedParam {
                        name: name.clone(),
                        default: param.default.as_text(),
                        description: param.description.clone(),
                    })
                    .collect(),
                load: ListedLoad {
                    connections: scenario.load.connections.unwrap_or(default_connections),
                    duration_s: match scenario.load.requests {
                        Some(_) => None,
                        None => Some(
                            scenario
                                .default_duration()
                                .unwrap_or(default_duration)
                                .as_secs_f64(),
                        ),
                    },
                    requests: scenario.load.requests,
                    rate_per_s: scenario.default_rate(),
                    connections_from_scenario: scenario.load.connections.is_some(),
                    duration_from_scenario: scenario.default_duration().is_some(),
                },
                expect: scenario.expectations(),
                gc_model_by_default: scenario.is_from_article(),
            })
            .collect(),
    }
}
