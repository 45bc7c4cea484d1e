//! A scenario's parameters once they are decided: typed values, filled once (by
//! [`crate::scenario::resolve`]) and read everywhere after — the request path, the
//! modelled .NET allocations, the results directory, the chart title, the gallery.
//!
//! `size` is the one parameter with a type of its own: a byte count, parsed once from
//! `--size`, `--param size=…` or the scenario file's default, and read back with
//! [`Params::size_bytes`], never parsed again from text. Every other parameter is text.
//!
//! On disk (`summary.json`, the series) parameters are a list of `[name, value]` pairs,
//! the value as text (`[["size", "84976"]]`), as they always were.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The parameter every sized scenario (loh, array, pooledarray) takes: bytes per request.
pub const SIZE_PARAM: &str = "size";

/// One parameter's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    /// A byte count (the `size` parameter).
    Bytes(u64),
    /// Anything else, as written.
    Text(String),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Bytes(bytes) => write!(f, "{bytes}"),
            ParamValue::Text(text) => f.write_str(text),
        }
    }
}

/// A scenario's parameters in the scenario's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, ParamValue)>);

impl Params {
    /// No parameters.
    pub fn new() -> Params {
        Params::default()
    }

    /// Appends a parameter. `size` must be a byte count (e.g. `84976`, `1MiB`); the error
    /// quotes the value.
    pub fn push(&mut self, name: &str, value: &str) -> Result<(), String> {
        let value = if name == SIZE_PARAM {
            ParamValue::Bytes(crate::units::parse_byte_size(value)?)
        } else {
            ParamValue::Text(value.to_string())
        };
        self.0.push((name.to_string(), value));
        Ok(())
    }

    /// Sets the byte size of `size`, in its place if it is there, else at the end.
    pub fn set_size_bytes(&mut self, bytes: u64) {
        let value = ParamValue::Bytes(bytes);
        match self.0.iter_mut().find(|(name, _)| name == SIZE_PARAM) {
            Some((_, old)) => *old = value,
            None => self.0.push((SIZE_PARAM.to_string(), value)),
        }
    }

    /// The value of `size` in bytes, when the scenario has one.
    pub fn size_bytes(&self) -> Option<u64> {
        self.0.iter().find_map(|(name, value)| match value {
            ParamValue::Bytes(bytes) if name == SIZE_PARAM => Some(*bytes),
            _ => None,
        })
    }

    /// A parameter's value.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value)
    }

    /// Every parameter, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParamValue)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `template` with every `{name}` replaced by its value, e.g. `/api/loh/{size}` →
    /// `/api/loh/84976`.
    pub fn fill(&self, template: &str) -> String {
        let mut text = template.to_string();
        for (name, value) in &self.0 {
            text = text.replace(&format!("{{{name}}}"), &value.to_string());
        }
        text
    }

    /// For people: `size=84976 other=x`.
    pub fn display(&self) -> String {
        self.0
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Parameters from `(name, value)` pairs; a `size` that is not a byte count is kept as
/// text (what a hand-edited or older results file may hold), never dropped.
impl<N: AsRef<str>, V: AsRef<str>> FromIterator<(N, V)> for Params {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(pairs: I) -> Params {
        let mut params = Params::new();
        for (name, value) in pairs {
            let (name, value) = (name.as_ref(), value.as_ref());
            if params.push(name, value).is_err() {
                params
                    .0
                    .push((name.to_string(), ParamValue::Text(value.to_string())));
            }
        }
        params
    }
}

impl Serialize for Params {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.0
                .iter()
                .map(|(name, value)| (name.as_str(), value.to_string())),
        )
    }
}

impl<'de> Deserialize<'de> for Params {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Params, D::Error> {
        let pairs = Vec::<(String, String)>::deserialize(deserializer)?;
        Ok(pairs.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_is_a_byte_count_read_without_parsing_again() {
        let mut params = Params::new();
        params.push("size", "1MiB").unwrap();
        params.push("url", "http://127.0.0.1:1/").unwrap();
        assert_eq!(params.size_bytes(), Some(1 << 20));
        assert_eq!(params.fill("/api/loh/{size}"), "/api/loh/1048576");
        assert_eq!(params.display(), "size=1048576 url=http://127.0.0.1:1/");
        let err = params.push("size", "big").unwrap_err();
        assert!(err.contains("\"big\""), "{err}");
    }

    #[test]
    fn on_disk_they_are_the_pairs_they_always_were() {
        let params: Params = [("size", "84976")].into_iter().collect();
        let json = serde_json::to_string(&params).unwrap();
        assert_eq!(json, r#"[["size","84976"]]"#);
        let back: Params = serde_json::from_str(&json).unwrap();
        assert_eq!(back, params);
        assert_eq!(back.size_bytes(), Some(84_976));
        let odd: Params = serde_json::from_str(r#"[["size","n/a"]]"#).unwrap();
        assert_eq!(odd.size_bytes(), None);
        assert_eq!(odd.display(), "size=n/a");
    }
}
