//! The scenario file format (`scenarios/*.toml`): what to request, with which parameters,
//! under which default load, and what the scenario is about.
//!
//! Parsing is strict (unknown keys are errors) so a typo in a hand-written file is reported
//! with its line instead of being silently ignored.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::dotnet::DotnetSection;
use crate::gcmodel::ManagedAllocation;
use crate::params::Params;
use crate::resources::{ChartResources, OsLimit, Resource};
use crate::units::{parse_duration, parse_rate};
use crate::verdict::{Expectation, Metric, Shape};

/// One scenario as written in its file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The name used on the command line, e.g. `loh`.
    pub name: String,
    /// Other names that select it, e.g. `large-object`.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// One line on what each request does.
    pub description: String,
    /// Where the pattern comes from (article section or post-mortem).
    #[serde(default)]
    pub origin: Option<String>,
    /// What the scenario teaches, in a few sentences (shown by `membench list --long`
    /// and in the gallery).
    #[serde(default)]
    pub teaches: Option<String>,
    /// Path and query of the request, with `{param}` placeholders, e.g. `/api/loh/{size}`.
    pub path: String,
    /// Parameters that fill the placeholders, with their defaults.
    #[serde(default)]
    pub params: BTreeMap<String, Param>,
    /// Default load; command-line flags override it.
    #[serde(default)]
    pub load: LoadDefaults,
    /// The shape each series should show, checked at the end of every run, e.g.
    /// `heap_live = "grows"` or `rss = { shape = "flat", threshold_per_min = 20 }`.
    #[serde(default)]
    pub expect: BTreeMap<Metric, ExpectSpec>,
    /// What the same request allocates in .NET, for the modelled GC lens; absent for
    /// scenarios with no .NET counterpart.
    #[serde(default)]
    pub dotnet: Option<DotnetSection>,
    /// What the chart draws besides memory and load: `[chart] resources = ["tcp_time_wait"]`
    /// and `limits = ["ephemeral_ports"]` (see [`ChartSection`]).
    #[serde(default)]
    pub chart: ChartSection,
}

/// `[chart]`: the resource panel of the scenario's chart.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartSection {
    /// Resources drawn in the resource panel (`tcp_time_wait`, `tcp_established`,
    /// `tcp_close_wait`, `open_fds`, `threads`); the resources `[expect]` checks are drawn
    /// too.
    #[serde(default)]
    pub resources: Vec<String>,
    /// OS limits drawn as dashed lines (`ephemeral_ports`, `inotify_instances`).
    #[serde(default)]
    pub limits: Vec<String>,
}

/// One `[expect]` entry: a shape, or a shape with the slope that separates it from flat
/// (in the metric's unit per minute: MB/min for memory, fds/min, sockets/min, RPS/min).
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawExpectSpec")]
pub enum ExpectSpec {
    Shape(Shape),
    Detailed {
        /// [`Shape::Any`] when the file names no shape (a level alone: `{ at_least = 1000 }`).
        shape: Shape,
        threshold_per_min: Option<f64>,
        /// The median the series must reach (see [`Expectation::at_least`]).
        at_least: Option<f64>,
    },
}

/// `[expect]` entries as written, before the shape name is checked (so a wrong name gets
/// a message listing the right ones rather than serde's "did not match any variant").
#[derive(Deserialize)]
#[serde(untagged)]
enum RawExpectSpec {
    Shape(String),
    Detailed {
        shape: Option<String>,
        threshold_per_min: Option<f64>,
        at_least: Option<f64>,
    },
}

impl TryFrom<RawExpectSpec> for ExpectSpec {
    type Error = String;

    fn try_from(raw: RawExpectSpec) -> Result<Self, Self::Error> {
        let shape = |name: &str| match name {
            "flat" => Ok(Shape::Flat),
            "grows" => Ok(Shape::Grows),
            "shrinks" => Ok(Shape::Shrinks),
            other => Err(format!(
                "unknown shape \"{other}\", expected \"flat\", \"grows\" or \"shrinks\""
            )),
        };
        Ok(match raw {
            RawExpectSpec::Shape(name) => ExpectSpec::Shape(shape(&name)?),
            RawExpectSpec::Detailed {
                shape: name,
                threshold_per_min,
                at_least,
            } => ExpectSpec::Detailed {
                shape: match name {
                    Some(name) => shape(&name)?,
                    None if at_least.is_some() => Shape::Any,
                    None => {
                        return Err("an expectation without a shape needs a level: write \
                                    { at_least = N }, or name a shape (\"flat\", \"grows\", \
                                    \"shrinks\")"
                            .to_string());
                    }
                },
                threshold_per_min,
                at_least,
            },
        })
    }
}

/// A placeholder of the request path.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// Value used when the command line gives none (a string or an integer in the file).
    pub default: TomlValue,
    #[serde(default)]
    pub description: Option<String>,
}

/// A value as written in TOML: `"85000"` or `85000` both work.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TomlValue {
    Text(String),
    Integer(i64),
}

impl TomlValue {
    pub fn as_text(&self) -> String {
        match self {
            TomlValue::Text(text) => text.clone(),
            TomlValue::Integer(value) => value.to_string(),
        }
    }
}

/// The load a scenario runs with unless flags say otherwise.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadDefaults {
    pub connections: Option<usize>,
    /// e.g. `"30s"`.
    pub duration: Option<String>,
    /// Requests per second for an open loop, e.g. `5000` or `"5k"`.
    pub rate: Option<TomlValue>,
    pub requests: Option<u64>,
}

/// Why a scenario file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
}

impl Scenario {
    /// Parses and checks one file's text. `origin` names the file in error messages; TOML
    /// errors carry the line and column and what was expected.
    pub fn parse(origin: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|err| ScenarioError::Parse {
            origin: origin.to_string(),
            message: describe_toml_error(text, &err),
        })?;
        scenario.validate(origin)?;
        Ok(scenario)
    }

    fn validate(&self, origin: &str) -> Result<(), ScenarioError> {
        let invalid = |message: String| ScenarioError::Invalid {
            origin: origin.to_string(),
            message,
        };
        if !self.path.starts_with('/') {
            return Err(invalid(format!(
                "path \"{}\" must start with '/', e.g. \"/api/loh/{{size}}\"",
                self.path
            )));
        }
        for placeholder in placeholders(&self.path) {
            if !self.params.contains_key(placeholder) {
                return Err(invalid(format!(
                    "path \"{}\" uses {{{placeholder}}} but [params.{placeholder}] is not defined",
                    self.path
                )));
            }
        }
        if let Some(duration) = &self.load.duration {
            parse_duration(duration).map_err(|err| invalid(format!("[load] duration: {err}")))?;
        }
        if let Some(rate) = &self.load.rate {
            parse_rate(&rate.as_text()).map_err(|err| invalid(format!("[load] rate: {err}")))?;
        }
        for (metric, spec) in &self.expect {
            if let ExpectSpec::Detailed {
                threshold_per_min: Some(threshold),
                ..
            } = spec
                && !(threshold.is_finite() && *threshold > 0.0)
            {
                return Err(invalid(format!(
                    "[expect] {}: threshold_per_min must be a positive number, not {threshold}",
                    serde_json::to_string(metric)
                        .unwrap_or_default()
                        .trim_matches('"')
                )));
            }
        }
        for allocation in self.dotnet.iter().flat_map(|d| &d.allocations) {
            for placeholder in allocation.placeholders() {
                if !self.params.contains_key(placeholder) {
                    return Err(invalid(format!(
                        "[dotnet] allocations use {{{placeholder}}} but [params.{placeholder}] is not defined"
                    )));
                }
            }
        }
        for name in &self.chart.resources {
            Resource::parse(name).map_err(|err| invalid(format!("[chart] resources: {err}")))?;
        }
        for name in &self.chart.limits {
            OsLimit::parse(name).map_err(|err| invalid(format!("[chart] limits: {err}")))?;
        }
        if !self.chart.limits.is_empty() && self.chart_series().is_empty() {
            return Err(invalid(
                "[chart] limits are drawn on the resource panel: name its resources too, e.g. resources = [\"tcp_time_wait\"]".to_string(),
            ));
        }
        if self.load.connections == Some(0) {
            return Err(invalid("[load] connections must be at least 1".to_string()));
        }
        Ok(())
    }

    /// The resources the chart's resource panel draws: `[chart] resources` and every
    /// resource `[expect]` checks (heap, RSS and RPS have their own panels).
    pub fn chart_series(&self) -> Vec<Resource> {
        let declared = self
            .chart
            .resources
            .iter()
            .filter_map(|name| Resource::parse(name).ok());
        let expected = self.expect.keys().filter_map(|metric| match metric {
            Metric::OpenFds => Some(Resource::OpenFds),
            Metric::Threads => Some(Resource::Threads),
            Metric::TcpTimeWait => Some(Resource::TcpTimeWait),
            Metric::TcpEstablished => Some(Resource::TcpEstablished),
            Metric::HeapLive | Metric::Rss | Metric::AllocatorResident | Metric::Rps => None,
        });
        let mut series: Vec<Resource> = declared.chain(expected).collect();
        series.sort();
        series.dedup();
        series
    }

    /// The resource panel of a run of this scenario on this machine: its resources and
    /// its OS limits as `/proc` gives them now.
    pub fn chart_resources(&self) -> ChartResources {
        let limits: Vec<OsLimit> = self
            .chart
            .limits
            .iter()
            .filter_map(|name| OsLimit::parse(name).ok())
            .collect();
        ChartResources::read(self.chart_series(), &limits)
    }

    /// The expectations of `[expect]`, in metric order.
    pub fn expectations(&self) -> Vec<Expectation> {
        self.expect
            .iter()
            .map(|(metric, spec)| {
                let (shape, threshold_per_min, at_least) = match spec {
                    ExpectSpec::Shape(shape) => (*shape, None, None),
                    ExpectSpec::Detailed {
                        shape,
                        threshold_per_min,
                        at_least,
                    } => (*shape, *threshold_per_min, *at_least),
                };
                Expectation {
                    metric: *metric,
                    shape,
                    threshold_per_min,
                    at_least,
                }
            })
            .collect()
    }

    /// Whether the scenario reproduces one of the article's endpoints (`[dotnet]
    /// from_article`): the modelled GC lens is then on by default.
    pub fn is_from_article(&self) -> bool {
        self.dotnet.as_ref().is_some_and(|d| d.from_article)
    }

    /// What one request allocates in .NET, lengths filled from the run's parameters;
    /// `None` when the file has no `[dotnet]` section.
    pub fn dotnet_allocations(
        &self,
        params: &Params,
    ) -> Option<Result<Vec<ManagedAllocation>, String>> {
        let section = self.dotnet.as_ref()?;
        Some(
            section
                .allocations
                .iter()
                .map(|allocation| allocation.resolve(params))
                .collect(),
        )
    }

    /// The default load duration, if the file sets one.
    pub fn default_duration(&self) -> Option<Duration> {
        self.load
            .duration
            .as_deref()
            .and_then(|d| parse_duration(d).ok())
    }

    /// The default open-loop rate, if the file sets one.
    pub fn default_rate(&self) -> Option<f64> {
        self.load
            .rate
            .as_ref()
            .and_then(|r| parse_rate(&r.as_text()).ok())
    }
}

/// The `{name}` placeholders of a path, in order.
pub fn placeholders(path: &str) -> impl Iterator<Item = &str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

/// A TOML error as "line L, column C: message", with the offending line quoted.
fn describe_toml_error(text: &str, err: &toml::de::Error) -> String {
    let message = err.message().trim_end().to_string();
    let Some(span) = err.span() else {
        return message;
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    let source_line = text.lines().nth(line - 1).unwrap_or("").trim();
    format!("line {line}, column {column}: {message} (in `{source_line}`)")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "loh"
aliases = ["large-object"]
description = "a buffer"
path = "/api/loh/{size}"
[params.size]
default = 85000
[load]
connections = 8
duration = "5s"
"#;

    #[test]
    fn parses_a_good_file() {
        let scenario = Scenario::parse("loh.toml", GOOD).unwrap();
        assert_eq!(scenario.name, "loh");
        assert_eq!(scenario.params["size"].default.as_text(), "85000");
        assert_eq!(scenario.default_duration(), Some(Duration::from_secs(5)));
    }

    #[test]
    fn a_syntax_error_names_file_and_line() {
        let text = "name = \"x\"\ndescription = \"d\"\npath = /api/x\n";
        let err = Scenario::parse("mine.toml", text).unwrap_err().to_string();
        assert!(err.starts_with("mine.toml: line 3"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_reported_with_its_line() {
        let text = format!("{GOOD}\n[load2]\nx = 1\n");
        let err = Scenario::parse("mine.toml", &text).unwrap_err().to_string();
        assert!(err.contains("line 12") && err.contains("load2"), "{err}");
    }

    #[test]
    fn a_placeholder_without_param_is_invalid() {
        let text = "name = \"x\"\ndescription = \"d\"\npath = \"/api/x/{n}\"\n";
        let err = Scenario::parse("x.toml", text).unwrap_err().to_string();
        assert!(err.contains("{n}") && err.contains("[params.n]"), "{err}");
    }

    #[test]
    fn expectations_read_as_shapes_with_optional_thresholds() {
        let text = format!(
            "{GOOD}\n[expect]\nheap_live = \"grows\"\nrss = {{ shape = \"flat\", threshold_per_min = 20 }}\n"
        );
        let scenario = Scenario::parse("x.toml", &text).unwrap();
        let expectations = scenario.expectations();
        assert_eq!(expectations.len(), 2);
        assert_eq!(expectations[0].metric, Metric::HeapLive);
        assert_eq!(expectations[0].shape, Shape::Grows);
        assert_eq!(expectations[1].threshold_per_min, Some(20.0));
    }

    #[test]
    fn an_unknown_metric_or_shape_names_the_line() {
        let text = format!("{GOOD}\n[expect]\nheap = \"grows\"\n");
        let err = Scenario::parse("x.toml", &text).unwrap_err().to_string();
        assert!(
            err.contains("line 13") && err.contains("heap_live"),
            "{err}"
        );
        let text = format!("{GOOD}\n[expect]\nrss = \"explodes\"\n");
        let err = Scenario::parse("x.toml", &text).unwrap_err().to_string();
        assert!(err.contains("line 13") && err.contains("grows"), "{err}");
    }

    #[test]
    fn a_dotnet_section_declares_templated_allocations() {
        let text = format!(
            "{GOOD}\n[dotnet]\nfrom_article = true\nallocations = [{{ kind = \"byte_array\", len = \"{{size}}\", lifetime = \"request\" }}]\n"
        );
        let scenario = Scenario::parse("loh.toml", &text).unwrap();
        assert!(scenario.is_from_article());
        let params: Params = [("size", "84976")].into_iter().collect();
        let allocations = scenario.dotnet_allocations(&params).unwrap().unwrap();
        assert_eq!(
            allocations[0].kind,
            crate::gcmodel::ManagedKind::ByteArray { len: 84_976 }
        );
        assert!(
            Scenario::parse("loh.toml", GOOD)
                .unwrap()
                .dotnet_allocations(&params)
                .is_none()
        );
    }

    #[test]
    fn a_broken_dotnet_section_names_the_line() {
        let text = format!(
            "{GOOD}\n[dotnet]\nallocations = [{{ kind = \"string\", chars = 10, lifetime = \"always\" }}]\n"
        );
        let err = Scenario::parse("x.toml", &text).unwrap_err().to_string();
        assert!(
            err.contains("line 13") && err.contains("\"always\""),
            "{err}"
        );
        let text = format!("{GOOD}\n[dotnet]\nfrom_articel = true\n");
        let err = Scenario::parse("x.toml", &text).unwrap_err().to_string();
        assert!(
            err.contains("line 13") && err.contains("from_articel"),
            "{err}"
        );
        let text = format!(
            "{GOOD}\n[dotnet]\nallocations = [{{ kind = \"other\", bytes = \"{{n}}\", lifetime = \"request\" }}]\n"
        );
        let err = Scenario::parse("x.toml", &text).unwrap_err().to_string();
        assert!(err.contains("{n}") && err.contains("[params.n]"), "{err}");
    }

    #[test]
    fn a_bad_duration_is_invalid() {
        let text = GOOD.replace("\"5s\"", "\"five\"");
        let err = Scenario::parse("x.toml", &text).unwrap_err().to_string();
        assert!(
            err.contains("duration") && err.contains("\"five\""),
            "{err}"
        );
    }

    #[test]
    fn the_chart_section_names_resources_and_limits() {
        let text = format!(
            "{GOOD}\n[expect]\nopen_fds = \"grows\"\n[chart]\nresources = [\"tcp_time_wait\"]\nlimits = [\"ephemeral_ports\"]\n"
        );
        let scenario = Scenario::parse("x.toml", &text).unwrap();
        assert_eq!(
            scenario.chart_series(),
            vec![Resource::TcpTimeWait, Resource::OpenFds]
        );
        let bad = format!("{GOOD}\n[chart]\nresources = [\"sockets\"]\n");
        let err = Scenario::parse("x.toml", &bad).unwrap_err().to_string();
        assert!(
            err.contains("[chart]") && err.contains("\"sockets\""),
            "{err}"
        );
        let bad = format!("{GOOD}\n[chart]\nlimits = [\"ephemeral_ports\"]\n");
        let err = Scenario::parse("x.toml", &bad).unwrap_err().to_string();
        assert!(err.contains("name its resources"), "{err}");
    }
}
