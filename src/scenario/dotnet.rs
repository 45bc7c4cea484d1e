//! A scenario's `[dotnet]` section: what the same request allocates in the ASP.NET Core
//! sample app, for the modelled .NET GC lens ([`crate::gcmodel`]).
//!
//! ```toml
//! [dotnet]
//! from_article = true   # the model is on by default for this scenario
//! allocations = [{ kind = "byte_array", len = "{size}", lifetime = "request" }]
//! ```
//!
//! `kind` is `string` (with `chars`), `byte_array` (with `len`) or `other` (with `bytes`);
//! lengths are integers or text with `{param}` placeholders, filled from the run's resolved
//! parameters. `lifetime` is `request`, `forever` or a duration (`"500ms"`, a cache's
//! absolute expiry). Each entry is checked when the file is read, so a typo is reported
//! with its line (the TOML parser attaches the entry's span to the message).

use serde::Deserialize;

use super::file::{TomlValue, placeholders};
use crate::gcmodel::{Lifetime, ManagedAllocation, ManagedKind};
use crate::params::Params;
use crate::units::{parse_byte_size, parse_duration};

/// The `[dotnet]` section as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DotnetSection {
    /// The scenario reproduces one of the article's endpoints: `membench run` turns the
    /// modelled GC on by default (server preset).
    #[serde(default)]
    pub from_article: bool,
    /// What one request allocates in .NET, besides the framework's own per-request overhead
    /// (which the model adds itself).
    #[serde(default)]
    pub allocations: Vec<AllocationSpec>,
}

/// One declared allocation, checked but with its length possibly still a template.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawAllocation")]
pub struct AllocationSpec {
    pub kind: KindSpec,
    pub lifetime: Lifetime,
}

/// The kind with its length (a number or a `{param}` template).
#[derive(Debug, Clone, PartialEq)]
pub enum KindSpec {
    String { chars: String },
    ByteArray { len: String },
    Other { bytes: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllocation {
    kind: String,
    chars: Option<TomlValue>,
    len: Option<TomlValue>,
    bytes: Option<TomlValue>,
    lifetime: String,
}

impl TryFrom<RawAllocation> for AllocationSpec {
    type Error = String;

    fn try_from(raw: RawAllocation) -> Result<Self, Self::Error> {
        let text = |value: Option<TomlValue>, key: &str| {
            value.map(|v| v.as_text()).ok_or_else(|| {
                format!(
                    "a \"{}\" allocation needs `{key}` (a number or \"{{param}}\")",
                    raw.kind
                )
            })
        };
        let given = [
            ("chars", raw.chars.is_some()),
            ("len", raw.len.is_some()),
            ("bytes", raw.bytes.is_some()),
        ];
        let (kind, key) = match raw.kind.as_str() {
            "string" => (
                KindSpec::String {
                    chars: text(raw.chars.clone(), "chars")?,
                },
                "chars",
            ),
            "byte_array" => (
                KindSpec::ByteArray {
                    len: text(raw.len.clone(), "len")?,
                },
                "len",
            ),
            "other" => (
                KindSpec::Other {
                    bytes: text(raw.bytes.clone(), "bytes")?,
                },
                "bytes",
            ),
            other => {
                return Err(format!(
                    "unknown allocation kind \"{other}\", expected \"string\", \"byte_array\" or \"other\""
                ));
            }
        };
        if let Some((extra, _)) = given.iter().find(|(name, set)| *set && *name != key) {
            return Err(format!(
                "a \"{}\" allocation takes `{key}`, not `{extra}`",
                raw.kind
            ));
        }
        let lifetime = parse_lifetime(&raw.lifetime)?;
        // A fixed length is checked now; a template once the parameters are known.
        let spec = AllocationSpec { kind, lifetime };
        if placeholders(spec.length_text()).next().is_none() {
            spec.kind.resolve(&Params::new())?;
        }
        Ok(spec)
    }
}

/// `request`, `forever` or a duration such as `500ms`.
pub fn parse_lifetime(input: &str) -> Result<Lifetime, String> {
    match input {
        "request" => Ok(Lifetime::Request),
        "forever" => Ok(Lifetime::Forever),
        other => parse_duration(other).map(Lifetime::For).map_err(|_| {
            format!(
                "invalid lifetime \"{other}\": expected \"request\", \"forever\" or a duration such as \"500ms\""
            )
        }),
    }
}

impl AllocationSpec {
    fn length_text(&self) -> &str {
        match &self.kind {
            KindSpec::String { chars } => chars,
            KindSpec::ByteArray { len } => len,
            KindSpec::Other { bytes } => bytes,
        }
    }

    /// The placeholders its length uses, e.g. `size` for `"{size}"`.
    pub fn placeholders(&self) -> impl Iterator<Item = &str> {
        placeholders(self.length_text())
    }

    /// The allocation with its length filled from the run's parameters.
    pub fn resolve(&self, params: &Params) -> Result<ManagedAllocation, String> {
        Ok(ManagedAllocation {
            kind: self.kind.resolve(params)?,
            lifetime: self.lifetime,
        })
    }
}

impl KindSpec {
    fn resolve(&self, params: &Params) -> Result<ManagedKind, String> {
        let fill = |template: &str| params.fill(template);
        Ok(match self {
            KindSpec::String { chars } => {
                let text = fill(chars);
                let chars = text.trim().parse::<u64>().map_err(|_| {
                    format!("invalid string length \"{text}\": expected a number of characters")
                })?;
                ManagedKind::String { chars }
            }
            KindSpec::ByteArray { len } => ManagedKind::ByteArray {
                len: parse_byte_size(&fill(len))?,
            },
            KindSpec::Other { bytes } => ManagedKind::Other {
                bytes: parse_byte_size(&fill(bytes))?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Result<AllocationSpec, String> {
        #[derive(Deserialize)]
        struct Wrap {
            a: AllocationSpec,
        }
        toml::from_str::<Wrap>(&format!("a = {text}"))
            .map(|w| w.a)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_templated_byte_array_resolves_from_the_params() {
        let spec =
            spec(r#"{ kind = "byte_array", len = "{size}", lifetime = "request" }"#).unwrap();
        assert_eq!(spec.placeholders().collect::<Vec<_>>(), ["size"]);
        let allocation = spec
            .resolve(&[("size", "84976")].into_iter().collect())
            .unwrap();
        assert_eq!(allocation.kind, ManagedKind::ByteArray { len: 84_976 });
        assert_eq!(allocation.lifetime, Lifetime::Request);
    }

    #[test]
    fn strings_and_expiring_lifetimes() {
        let spec = spec(r#"{ kind = "string", chars = 10240, lifetime = "500ms" }"#).unwrap();
        let allocation = spec.resolve(&Params::new()).unwrap();
        assert_eq!(allocation.kind, ManagedKind::String { chars: 10_240 });
        assert_eq!(
            allocation.lifetime,
            Lifetime::For(std::time::Duration::from_millis(500))
        );
    }

    #[test]
    fn bad_entries_say_what_is_expected() {
        let err = spec(r#"{ kind = "list", bytes = 1, lifetime = "request" }"#).unwrap_err();
        assert!(
            err.contains("\"list\"") && err.contains("byte_array"),
            "{err}"
        );
        let err = spec(r#"{ kind = "string", len = 1, lifetime = "request" }"#).unwrap_err();
        assert!(err.contains("chars"), "{err}");
        let err =
            spec(r#"{ kind = "string", chars = 1, len = 2, lifetime = "request" }"#).unwrap_err();
        assert!(err.contains("not `len`"), "{err}");
        let err = spec(r#"{ kind = "other", bytes = 1, lifetime = "a while" }"#).unwrap_err();
        assert!(
            err.contains("\"a while\"") && err.contains("forever"),
            "{err}"
        );
        let err = spec(r#"{ kind = "other", bytes = "lots", lifetime = "request" }"#).unwrap_err();
        assert!(err.contains("\"lots\""), "{err}");
    }
}
