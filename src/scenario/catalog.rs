//! The built-in scenarios (`scenarios/*.toml`, embedded in the binary so `membench run loh`
//! works from any directory), lookup by name, alias or file path, and filling a scenario's
//! parameters into a concrete request path.

use std::path::Path;

use super::file::{Scenario, ScenarioError};
use crate::params::{Params, SIZE_PARAM};

/// Every file of `scenarios/`, embedded. A test checks that none is missing.
const BUILTIN: &[(&str, &str)] = &[
    ("ping.toml", include_str!("../../scenarios/ping.toml")),
    (
        "bigstring.toml",
        include_str!("../../scenarios/bigstring.toml"),
    ),
    (
        "staticstring.toml",
        include_str!("../../scenarios/staticstring.toml"),
    ),
    ("loh.toml", include_str!("../../scenarios/loh.toml")),
    ("array.toml", include_str!("../../scenarios/array.toml")),
    (
        "pooledarray.toml",
        include_str!("../../scenarios/pooledarray.toml"),
    ),
    (
        "httpclient1.toml",
        include_str!("../../scenarios/httpclient1.toml"),
    ),
    (
        "httpclient2.toml",
        include_str!("../../scenarios/httpclient2.toml"),
    ),
    (
        "clientleak.toml",
        include_str!("../../scenarios/clientleak.toml"),
    ),
    (
        "fileprovider.toml",
        include_str!("../../scenarios/fileprovider.toml"),
    ),
    (
        "cache-unbounded.toml",
        include_str!("../../scenarios/cache-unbounded.toml"),
    ),
    (
        "cache-expiring.toml",
        include_str!("../../scenarios/cache-expiring.toml"),
    ),
    (
        "operation-leak.toml",
        include_str!("../../scenarios/operation-leak.toml"),
    ),
    (
        "operation-scoped.toml",
        include_str!("../../scenarios/operation-scoped.toml"),
    ),
];

/// Why a scenario could not be found or filled in.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("unknown scenario \"{name}\"; known scenarios: {known} (or a path to a .toml file)")]
    Unknown { name: String, known: String },
    #[error("cannot read scenario file {path}: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    File(#[from] ScenarioError),
    #[error("scenario \"{scenario}\" has no parameter \"{param}\"{hint}")]
    UnknownParam {
        scenario: String,
        param: String,
        hint: String,
    },
    #[error("invalid --param \"{input}\": expected NAME=VALUE, e.g. size=84976")]
    BadParam { input: String },
    #[error("scenario \"{scenario}\" parameter \"{param}\": {message}")]
    BadValue {
        scenario: String,
        param: String,
        message: String,
    },
}

/// The built-in scenarios, in catalog order.
pub fn builtin() -> Vec<Scenario> {
    BUILTIN
        .iter()
        .map(|(file, text)| {
            // The embedded files are checked by a unit test, so this cannot fail at run time.
            Scenario::parse(&format!("scenarios/{file}"), text)
                .unwrap_or_else(|err| panic!("built-in scenario is broken: {err}"))
        })
        .collect()
}

/// Finds a scenario by name or alias, or reads it from a path (anything containing a `/`
/// or ending in `.toml`).
pub fn find(name_or_path: &str) -> Result<Scenario, LookupError> {
    if name_or_path.contains('/') || name_or_path.ends_with(".toml") {
        let text = std::fs::read_to_string(Path::new(name_or_path)).map_err(|source| {
            LookupError::Unreadable {
                path: name_or_path.to_string(),
                source,
            }
        })?;
        return Ok(Scenario::parse(name_or_path, &text)?);
    }
    let wanted = name_or_path.to_ascii_lowercase();
    let scenarios = builtin();
    let known = scenarios
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    scenarios
        .iter()
        .find(|s| s.name == wanted || s.aliases.contains(&wanted))
        .cloned()
        .ok_or(LookupError::Unknown {
            name: name_or_path.to_string(),
            known,
        })
}

/// A scenario with every parameter decided.
#[derive(Debug, Clone)]
pub struct ResolvedRequest {
    /// Path and query to request, e.g. `/api/loh/84976`.
    pub path: String,
    /// Every parameter with its value, in the scenario's order.
    pub params: Params,
}

/// Fills the scenario's placeholders from `--size` and `--param NAME=VALUE` (flags win
/// over the file's defaults). A flag naming a parameter the scenario lacks is an error,
/// and so is a `size` that is not a byte count.
pub fn resolve(
    scenario: &Scenario,
    size_bytes: Option<u64>,
    params: &[String],
) -> Result<ResolvedRequest, LookupError> {
    let mut given: Vec<(String, String)> = Vec::new();
    if let Some(size) = size_bytes {
        given.push((SIZE_PARAM.to_string(), size.to_string()));
    }
    for input in params {
        let (name, value) = input
            .split_once('=')
            .filter(|(name, _)| !name.is_empty())
            .ok_or_else(|| LookupError::BadParam {
                input: input.clone(),
            })?;
        given.push((name.to_string(), value.to_string()));
    }
    for (name, _) in &given {
        if !scenario.params.contains_key(name) {
            let hint = if scenario.params.is_empty() {
                " (it takes no parameters)".to_string()
            } else {
                format!(
                    " (it takes: {})",
                    scenario
                        .params
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Err(LookupError::UnknownParam {
                scenario: scenario.name.clone(),
                param: name.clone(),
                hint,
            });
        }
    }
    let mut values = Params::new();
    for (name, param) in &scenario.params {
        let value = given
            .iter()
            .rev()
            .find(|(given_name, _)| given_name == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_else(|| param.default.as_text());
        values
            .push(name, &value)
            .map_err(|message| LookupError::BadValue {
                scenario: scenario.name.clone(),
                param: name.clone(),
                message,
            })?;
    }
    Ok(ResolvedRequest {
        path: values.fill(&scenario.path),
        params: values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_the_scenarios_directory_is_embedded_and_valid() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = BUILTIN.iter().map(|(f, _)| f.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
        let scenarios = builtin();
        let mut names: Vec<&str> = scenarios
            .iter()
            .flat_map(|s| {
                std::iter::once(s.name.as_str()).chain(s.aliases.iter().map(String::as_str))
            })
            .collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "a name or alias is used twice");
    }

    #[test]
    fn finds_by_name_and_alias() {
        assert_eq!(find("loh").unwrap().name, "loh");
        assert_eq!(find("large-object").unwrap().name, "loh");
        assert_eq!(find("static-leak").unwrap().name, "staticstring");
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let err = find("lohh").unwrap_err().to_string();
        assert!(
            err.contains("\"lohh\"") && err.contains("bigstring") && err.contains("loh"),
            "{err}"
        );
    }

    #[test]
    fn size_and_params_fill_the_path() {
        let loh = find("loh").unwrap();
        assert_eq!(resolve(&loh, None, &[]).unwrap().path, "/api/loh/85000");
        assert_eq!(
            resolve(&loh, Some(84976), &[]).unwrap().path,
            "/api/loh/84976"
        );
        let by_param = resolve(&loh, None, &["size=1000".to_string()]).unwrap();
        assert_eq!(by_param.path, "/api/loh/1000");
        assert_eq!(by_param.params.size_bytes(), Some(1000));
        let in_units = resolve(&loh, None, &["size=1MiB".to_string()]).unwrap();
        assert_eq!(in_units.path, "/api/loh/1048576");
        let err = resolve(&loh, None, &["size=big".to_string()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"big\""), "{err}");
    }

    #[test]
    fn a_size_for_a_scenario_without_one_is_an_error() {
        let err = resolve(&find("bigstring").unwrap(), Some(10), &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no parameter \"size\"") && err.contains("takes no parameters"),
            "{err}"
        );
        let err = resolve(&find("loh").unwrap(), None, &["oops".to_string()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"oops\"") && err.contains("NAME=VALUE"),
            "{err}"
        );
    }
}
