//! The exposition model: metric families and their samples, written in either text
//! format (HELP, TYPE, UNIT, `_total`/`_info` naming, escaping, `# EOF`).

use std::fmt::Write as _;

use super::Format;

/// What a metric family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Counter,
    Gauge,
    /// Constant labels describing the process, value 1 (a gauge `…_info` in 0.0.4).
    Info,
}

/// A sample value: integers print as integers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Value {
    Int(u64),
    Float(f64),
}

impl From<u64> for Value {
    fn from(value: u64) -> Self {
        Value::Int(value)
    }
}

impl From<f64> for Value {
    fn from(value: f64) -> Self {
        Value::Float(value)
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Value::Int(value) => write!(f, "{value}"),
            Value::Float(value) if value.is_nan() => f.write_str("NaN"),
            Value::Float(value) if value.is_infinite() => {
                f.write_str(if value > 0.0 { "+Inf" } else { "-Inf" })
            }
            Value::Float(value) => write!(f, "{value}"),
        }
    }
}

type Labels = Vec<(&'static str, String)>;

/// One metric family: its name without the unit and the `_total`/`_info` suffixes.
#[derive(Debug)]
pub(super) struct Family {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    unit: Option<&'static str>,
    samples: Vec<(Labels, Value)>,
}

impl Family {
    /// The family name with its unit (`membench_rss` + `bytes`).
    pub(super) fn base(&self) -> String {
        match self.unit {
            Some(unit) => format!("{}_{unit}", self.name),
            None => self.name.to_string(),
        }
    }

    /// The name of its samples, the same in both formats.
    pub(super) fn sample_name(&self) -> String {
        let base = self.base();
        match self.kind {
            Kind::Counter => format!("{base}_total"),
            Kind::Info => format!("{base}_info"),
            Kind::Gauge => base,
        }
    }
}

/// The families of one scrape, in the order they are written.
#[derive(Debug, Default)]
pub(super) struct Families(pub(super) Vec<Family>);

pub(super) const BYTES: Option<&str> = Some("bytes");
pub(super) const SECONDS: Option<&str> = Some("seconds");

impl Families {
    pub(super) fn push(
        &mut self,
        name: &'static str,
        help: &'static str,
        kind: Kind,
        unit: Option<&'static str>,
        samples: Vec<(Labels, Value)>,
    ) {
        self.0.push(Family {
            name,
            help,
            kind,
            unit,
            samples,
        });
    }

    pub(super) fn gauge(
        &mut self,
        name: &'static str,
        help: &'static str,
        unit: Option<&'static str>,
        value: impl Into<Value>,
    ) {
        self.push(
            name,
            help,
            Kind::Gauge,
            unit,
            vec![(Vec::new(), value.into())],
        );
    }

    pub(super) fn counter(
        &mut self,
        name: &'static str,
        help: &'static str,
        unit: Option<&'static str>,
        value: impl Into<Value>,
    ) {
        self.push(
            name,
            help,
            Kind::Counter,
            unit,
            vec![(Vec::new(), value.into())],
        );
    }

    pub(super) fn info(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &str)],
    ) {
        let labels = labels
            .iter()
            .map(|&(key, value)| (key, value.to_string()))
            .collect();
        self.push(name, help, Kind::Info, None, vec![(labels, Value::Int(1))]);
    }

    /// A family with one sample per value of one label.
    pub(super) fn labelled<L: Into<String>, V: Into<Value>>(
        &mut self,
        name: &'static str,
        help: &'static str,
        kind: Kind,
        unit: Option<&'static str>,
        label: &'static str,
        samples: impl IntoIterator<Item = (L, V)>,
    ) {
        let samples = samples
            .into_iter()
            .map(|(value, sample)| (vec![(label, value.into())], sample.into()))
            .collect();
        self.push(name, help, kind, unit, samples);
    }

    /// The families as text in `format`.
    pub(super) fn render(&self, format: Format) -> String {
        let mut out = String::new();
        for family in &self.0 {
            let (name, kind) = match format {
                Format::Text => (
                    family.sample_name(),
                    match family.kind {
                        Kind::Counter => "counter",
                        Kind::Gauge | Kind::Info => "gauge",
                    },
                ),
                Format::OpenMetrics => (
                    family.base(),
                    match family.kind {
                        Kind::Counter => "counter",
                        Kind::Gauge => "gauge",
                        Kind::Info => "info",
                    },
                ),
            };
            let help = escape(family.help, format == Format::OpenMetrics);
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            if let (Format::OpenMetrics, Some(unit)) = (format, family.unit) {
                let _ = writeln!(out, "# UNIT {name} {unit}");
            }
            let sample_name = family.sample_name();
            for (labels, value) in &family.samples {
                out.push_str(&sample_name);
                if !labels.is_empty() {
                    out.push('{');
                    for (i, (key, value)) in labels.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        let _ = write!(out, "{key}=\"{}\"", escape(value, true));
                    }
                    out.push('}');
                }
                let _ = writeln!(out, " {value}");
            }
        }
        if format == Format::OpenMetrics {
            out.push_str("# EOF\n");
        }
        out
    }
}

/// Escapes `\` and line feeds, and `"` when `quote` (label values; OpenMetrics help).
pub(super) fn escape(text: &str, quote: bool) -> std::borrow::Cow<'_, str> {
    if !text.contains(['\\', '\n', '"']) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.into()
}
