//! The data every stage shares: one [`Sample`] row per sampling interval, and the
//! [`Series`] of a run with what is needed to title and label it.
//!
//! The runner fills samples (load-generator interval stats merged with `/proc` and the
//! server's diagnostics); the report turns them into `samples.csv`, `summary.json` and the
//! chart. Every field has its unit in its name. A field is `Option` when some runs cannot
//! measure it: the process fields are absent when the process could not be read (it had
//! ended) or the platform or source has no such reading (TCP states off Linux); fields only
//! a membench server reports (live heap, allocator statistics) are absent for a `--target`
//! in another language. Absent is an empty cell, never a zero.
//!
//! **`Sample` is the `samples.csv` record.** Its fields, in order, are the columns; each
//! field's `///` doc is the column's reference (also in [`SAMPLE_COLUMNS`]). A new column is
//! one field here (with its doc) plus the sampler filling it: the `samples.csv` writer and
//! reader follow from this one declaration. How a value is written is its cell kind:
//!
//! * plain — the value as serde writes it; an `Option` is an empty cell when `None`;
//! * `#[cell(ErrorsByKind)]` — the map as one `kind=count;kind=count` cell.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::memory::AllocatorKind;

/// Which part of the run a sample belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Load is running but the samples are excluded from slopes and averages.
    Warmup,
    /// The measured part of the run.
    Load,
    /// The last sample, taken after load stopped.
    Final,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Warmup => "warmup",
            Phase::Load => "load",
            Phase::Final => "final",
        }
    }
}

/// Declares [`Sample`] once and derives from that declaration the column list
/// ([`SAMPLE_COLUMNS`]: field names and their docs) and [`SampleRow`], the CSV row serde
/// writes and reads (each field's cell kind maps its type to the cell's type).
macro_rules! sample_record {
    (
        $(#[$struct_meta:meta])*
        pub struct Sample {
            $(
                #[doc = $first:literal]
                $(#[doc = $doc:literal])*
                $(#[cell($cell:ident)])?
                pub $field:ident: $ty:ty,
            )*
        }
    ) => {
        $(#[$struct_meta])*
        pub struct Sample {
            $(
                #[doc = $first]
                $(#[doc = $doc])*
                pub $field: $ty,
            )*
        }

        /// The columns of `samples.csv`, in order, with their meaning (the field docs of
        /// [`Sample`]).
        pub const SAMPLE_COLUMNS: &[(&str, &str)] = &[
            $((stringify!($field), concat!($first $(, $doc)*)),)*
        ];

        /// One `samples.csv` row as serde writes and reads it: the fields of [`Sample`] in
        /// order, each as its cell kind stores it.
        #[derive(Debug, Serialize, Deserialize)]
        pub(crate) struct SampleRow {
            $($field: <cell_kind!($($cell)?) as Cell<$ty>>::Csv,)*
        }

        impl SampleRow {
            /// The row of a sample.
            pub(crate) fn from_sample(sample: &Sample) -> SampleRow {
                SampleRow {
                    $($field: <cell_kind!($($cell)?) as Cell<$ty>>::write(&sample.$field),)*
                }
            }

            /// The sample of a row; the error names the bad cell.
            pub(crate) fn into_sample(self) -> Result<Sample, String> {
                Ok(Sample {
                    $($field: <cell_kind!($($cell)?) as Cell<$ty>>::read(self.$field)?,)*
                })
            }
        }
    };
}

/// The cell kind of a [`Sample`] field: plain unless the field says otherwise.
macro_rules! cell_kind {
    () => {
        Plain
    };
    ($cell:ident) => {
        $cell
    };
}

/// How a field of type `T` is stored in its `samples.csv` cell.
pub(crate) trait Cell<T> {
    /// The cell's type as serde writes and reads it.
    type Csv: Serialize + for<'de> Deserialize<'de> + std::fmt::Debug;
    /// The cell of a value.
    fn write(value: &T) -> Self::Csv;
    /// The value of a cell.
    fn read(cell: Self::Csv) -> Result<T, String>;
}

/// The value as serde writes it (an `Option` is an empty cell when `None`).
pub(crate) struct Plain;

impl<T> Cell<T> for Plain
where
    T: Clone + Serialize + for<'de> Deserialize<'de> + std::fmt::Debug,
{
    type Csv = T;
    fn write(value: &T) -> T {
        value.clone()
    }
    fn read(cell: T) -> Result<T, String> {
        Ok(cell)
    }
}

/// Errors by kind as one cell, `timeout=3;connection refused=1`; empty when none.
pub(crate) struct ErrorsByKind;

impl Cell<BTreeMap<String, u64>> for ErrorsByKind {
    type Csv = Option<String>;
    fn write(value: &BTreeMap<String, u64>) -> Option<String> {
        format_errors_by_kind(value)
    }
    fn read(cell: Option<String>) -> Result<BTreeMap<String, u64>, String> {
        parse_errors_by_kind(cell.as_deref().unwrap_or(""))
    }
}

/// Metric values as one cell, `name{a="x"}=1.5;other=2`; empty when none. A `;` inside a
/// key is written as `,` so the cell stays parseable; the value follows the last `=`.
pub(crate) struct Extras;

impl Cell<BTreeMap<String, f64>> for Extras {
    type Csv = Option<String>;
    fn write(value: &BTreeMap<String, f64>) -> Option<String> {
        let cell = value
            .iter()
            .map(|(key, value)| format!("{}={value}", key.replace(';', ",")))
            .collect::<Vec<_>>()
            .join(";");
        (!cell.is_empty()).then_some(cell)
    }
    fn read(cell: Option<String>) -> Result<BTreeMap<String, f64>, String> {
        let mut values = BTreeMap::new();
        for part in cell
            .as_deref()
            .unwrap_or("")
            .split(';')
            .filter(|p| !p.is_empty())
        {
            let (key, value) = part
                .rsplit_once('=')
                .ok_or_else(|| format!("metrics_extra: {part:?} is not name=value"))?;
            let value = value
                .parse()
                .map_err(|_| format!("metrics_extra: {part:?} has no number after '='"))?;
            values.insert(key.to_string(), value);
        }
        Ok(values)
    }
}

sample_record! {
    /// One sampling interval. Counts are for the interval unless the name ends in `_total`.
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct Sample {
        /// seconds since load started, at the end of the interval (the first row is 0,
        /// before load)
        pub elapsed_s: f64,
        /// `warmup` (excluded from means and slopes), `load`, or `final` (taken after load
        /// stopped)
        pub phase: Option<Phase>,
        /// length of the interval in seconds; rates are per this
        pub interval_s: f64,

        // --- load, from the generator ---
        /// responses received in the interval, any status (not errors); under `membench
        /// watch --rps-metric` the target's own request counter's increase over the
        /// interval (it may count what the target counts, errors included), 0 without
        /// `--rps-metric` (nothing measured the load: `rps` is then empty)
        pub requests: u64,
        /// responses per second in the interval; under `membench watch` the target's own
        /// request counter's rate (`--rps-metric`), empty without one
        pub rps: Option<f64>,
        /// responses with a 2xx status
        pub status_2xx: u64,
        /// responses with a 3xx status
        pub status_3xx: u64,
        /// responses with a 4xx status
        pub status_4xx: u64,
        /// responses with a 5xx status
        pub status_5xx: u64,
        /// requests that got no response (all kinds)
        pub errors: u64,
        /// the same by kind (`connection refused`, `timeout`, …): `kind=count` joined by
        /// `;`, e.g. `timeout=3;connection refused=1`; empty when none
        #[cell(ErrorsByKind)]
        pub errors_by_kind: BTreeMap<String, u64>,
        /// open loop: sends that started later than scheduled
        pub late_sends: u64,
        /// median latency in the interval, microseconds; empty without responses
        pub latency_p50_us: Option<u64>,
        /// 90th percentile latency, microseconds
        pub latency_p90_us: Option<u64>,
        /// 99th percentile latency, microseconds
        pub latency_p99_us: Option<u64>,
        /// slowest response in the interval, microseconds
        pub latency_max_us: Option<u64>,

        // --- process, from /proc/<pid> ---
        /// server CPU use in the interval, 100 = one core busy
        pub cpu_percent: Option<f64>,
        /// server resident set size (working set) at the end of the interval
        pub rss_bytes: Option<u64>,
        /// anonymous part of the RSS (private bytes)
        pub rss_anon_bytes: Option<u64>,
        /// server threads
        pub threads: Option<u64>,
        /// server open file descriptors
        pub open_fds: Option<u64>,
        /// minor page faults of the server in the interval
        pub minor_faults: Option<u64>,
        /// server TCP connections in ESTABLISHED
        pub tcp_established: Option<u64>,
        /// server TCP connections in TIME_WAIT
        pub tcp_time_wait: Option<u64>,
        /// server TCP connections in CLOSE_WAIT
        pub tcp_close_wait: Option<u64>,

        // --- heap, from the server's /api/diagnostics (membench servers only) ---
        /// live heap bytes counted by the membench allocator wrapper ("Allocated"); empty
        /// for a foreign server
        pub heap_live_bytes: Option<u64>,
        /// allocations per second in the interval
        pub allocs_per_s: Option<f64>,
        /// bytes allocated per second in the interval
        pub alloc_bytes_per_s: Option<f64>,
        /// allocations at or above the large-object threshold per second
        pub large_allocs_per_s: Option<f64>,
        /// the allocator's own resident bytes (jemalloc `resident`, mimalloc committed);
        /// empty when the allocator has none
        pub allocator_resident_bytes: Option<u64>,
        /// times the allocator returned memory to the OS in the interval (purges and
        /// explicit collects): the reclaim events drawn as triangles
        pub reclaim_events: Option<u64>,
        /// bytes held by the leaking endpoints at the end of the interval
        pub leaked_bytes: Option<u64>,

        // --- cost per request: the interval's work divided by its responses ---
        // Empty when the interval had no responses; the allocation columns are empty for a
        // foreign server (absent, never zero).
        /// server CPU time (user + system) per response in the interval, microseconds:
        /// unlike RPS it does not depend on how much CPU the server was given
        pub cpu_us_per_request: Option<f64>,
        /// allocations per response in the interval (membench servers only)
        pub allocs_per_request: Option<f64>,
        /// bytes allocated per response in the interval (membench servers only)
        pub alloc_bytes_per_request: Option<f64>,
        /// minor page faults of the server per response in the interval
        pub minor_faults_per_request: Option<f64>,
        // --- measured GC, from a garbage-collected runtime's /api/diagnostics (contract v2) ---
        /// MEASURED by the runtime: its collections in the interval (the contract's
        /// `collections_total` delta); empty for a server without a collector
        pub measured_collections: Option<u64>,
        /// the same by the runtime's own kind names (`gen0`/`gen1` Mono, `young`/`old` JVM,
        /// `minor`/`major`/… Node, `cycles`/… Go): `kind=count` joined by `;`; empty when
        /// none
        #[cell(ErrorsByKind)]
        pub measured_collections_by_kind: BTreeMap<String, u64>,
        /// the runtime's managed heap in use at the end of the interval, garbage not yet
        /// collected included where the runtime counts it so
        pub measured_heap_bytes: Option<u64>,
        /// MEASURED by a Go server: its goroutines at the end of the interval
        /// (`runtime.NumGoroutine`); empty for a server that has none
        pub goroutines: Option<u64>,
        /// MEASURED by a Node server: memory outside the V8 heap at the end of the interval
        /// (`process.memoryUsage().external`: Buffer and ArrayBuffer bytes, which the V8
        /// heap never holds); empty for a runtime that reports none
        pub measured_external_bytes: Option<u64>,

        // --- the modelled .NET GC: a model fed with this interval's requests, NOT measured ---
        // Empty when the lens is off (`--gc-model none`); files written before these
        // columns existed read back with them empty.
        /// MODELLED, not measured: .NET gen0 collections the model made in the interval
        /// (like `GC.CollectionCount(0)`, so gen1 and gen2 collections count too); empty
        /// when the lens is off
        pub modelled_gen0: Option<u64>,
        /// MODELLED: .NET gen1 collections in the interval (gen2 included)
        pub modelled_gen1: Option<u64>,
        /// MODELLED: .NET gen2 collections in the interval
        pub modelled_gen2: Option<u64>,
        /// MODELLED: .NET managed heap at the end of the interval, uncollected garbage
        /// included
        pub modelled_managed_heap_bytes: Option<u64>,
        /// MODELLED: highest .NET managed heap within the interval (just before its largest
        /// collection, or at its end): the top of the sawtooth
        pub modelled_managed_heap_peak_bytes: Option<u64>,

        // --- the metrics source (`--metrics URL`); empty without one ---
        /// scrapes of `--metrics` that failed in the interval (unreachable, timeout, not an
        /// exposition): a gap whose values are empty, never zero
        pub scrape_errors: Option<u64>,
        /// counters of `--metrics` that went backwards in the interval, or a new
        /// `process_start_time_seconds` (the target restarted): no rate is taken across one
        pub counter_resets: Option<u64>,
        /// series of `--metrics` kept as they are (`--metrics-include REGEX` matches,
        /// `go_goroutines`, `process_start_time_seconds`) that were NOT on the start
        /// check's page (they appeared later): `name{labels}=value` joined by `;`. Those
        /// on it have a column each after this one, `metric:` + the series key with `%`,
        /// `,`, `"` percent-encoded (`metric:myapp_cache{kind=%22a%22}`)
        #[cell(Extras)]
        pub metrics_extra: BTreeMap<String, f64>,
    }
}

impl Sample {
    /// Whether the server process was read for this sample (its resident set is known);
    /// after the process ended, or from a source without it, the process fields are absent.
    pub fn process_sampled(&self) -> bool {
        self.rss_bytes.is_some()
    }
}

/// `timeout=3;connection refused=1`, or `None` (an empty cell) when there are no errors.
/// Error kinds are short fixed phrases from the load generator; a `;` inside a kind (none
/// has one) is written as `,` so the cell stays parseable.
pub(crate) fn format_errors_by_kind(errors_by_kind: &BTreeMap<String, u64>) -> Option<String> {
    let cell = errors_by_kind
        .iter()
        .filter(|(_, count)| **count > 0)
        .map(|(kind, count)| format!("{}={count}", kind.replace(';', ",")))
        .collect::<Vec<_>>()
        .join(";");
    (!cell.is_empty()).then_some(cell)
}

/// Parses an `errors_by_kind` cell; the empty cell is no errors.
pub(crate) fn parse_errors_by_kind(cell: &str) -> Result<BTreeMap<String, u64>, String> {
    let mut errors_by_kind = BTreeMap::new();
    for entry in cell.split(';').filter(|entry| !entry.trim().is_empty()) {
        // The count is after the last `=`, so a kind may contain `=`.
        let parsed = entry
            .rsplit_once('=')
            .and_then(|(kind, count)| Some((kind.trim(), count.trim().parse::<u64>().ok()?)));
        match parsed {
            Some((kind, count)) if !kind.is_empty() => {
                *errors_by_kind.entry(kind.to_string()).or_insert(0) += count;
            }
            _ => {
                return Err(format!(
                    "invalid errors_by_kind entry \"{entry}\": expected kind=count, e.g. timeout=3"
                ));
            }
        }
    }
    Ok(errors_by_kind)
}

/// An allocator as files and people read it: its name, or `unknown` for a server whose
/// allocator membench does not know (a `--target` in another language).
pub(crate) fn allocator_name(allocator: Option<AllocatorKind>) -> &'static str {
    allocator.map_or(UNKNOWN_ALLOCATOR, AllocatorKind::name)
}

/// What an unknown allocator is written as.
const UNKNOWN_ALLOCATOR: &str = "unknown";

/// Parses what [`allocator_name`] writes.
pub(crate) fn parse_allocator_name(name: &str) -> Result<Option<AllocatorKind>, String> {
    match name {
        UNKNOWN_ALLOCATOR => Ok(None),
        "system" => Ok(Some(AllocatorKind::System)),
        "jemalloc" => Ok(Some(AllocatorKind::Jemalloc)),
        "mimalloc" => Ok(Some(AllocatorKind::Mimalloc)),
        _ => Err(format!(
            "unknown allocator \"{name}\": expected system, jemalloc, mimalloc or unknown"
        )),
    }
}

/// Serde for an `Option<AllocatorKind>` written as [`allocator_name`] writes it
/// (`#[serde(with = "crate::series::allocator_or_unknown")]`).
pub(crate) mod allocator_or_unknown {
    use super::*;

    pub fn serialize<S: Serializer>(
        allocator: &Option<AllocatorKind>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(allocator_name(*allocator))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<AllocatorKind>, D::Error> {
        let name = String::deserialize(deserializer)?;
        parse_allocator_name(&name).map_err(serde::de::Error::custom)
    }
}

impl Sample {
    /// A resource's value in this sample (what the resource panel draws); `None` when
    /// this sample has no such reading (goroutines of a server that has none).
    pub fn resource(&self, resource: crate::resources::Resource) -> Option<u64> {
        use crate::resources::Resource;
        match resource {
            Resource::TcpTimeWait => self.tcp_time_wait,
            Resource::TcpEstablished => self.tcp_established,
            Resource::TcpCloseWait => self.tcp_close_wait,
            Resource::OpenFds => self.open_fds,
            Resource::Threads => self.threads,
            Resource::Goroutines => self.goroutines,
        }
    }
}

/// A run's samples and what describes the run on a chart.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Scenario name, e.g. `loh`.
    pub scenario: String,
    /// Parameters as shown to people, e.g. `size=84976`.
    pub params: crate::params::Params,
    /// Allocator of the server; `None` for a foreign target (shown as `unknown`, see
    /// [`allocator_name`]).
    pub allocator: Option<AllocatorKind>,
    /// The load as shown to people, e.g. `32 connections, closed loop`.
    pub load: String,
    pub samples: Vec<Sample>,
    /// The modelled .NET GC preset (`server`, `workstation`) when the lens was on: the
    /// chart labels its markers "modelled .NET GC (server)".
    pub modelled_gc: Option<String>,
    /// What the resource panel draws (the scenario's resources and the OS limits read
    /// when the run started); empty: no resource panel.
    pub resources: crate::resources::ChartResources,
    /// The runtime and collector whose collections were measured, e.g. `Mono 6.8.0.105,
    /// SGen`; `None` for a server without a collector (Rust).
    pub measured_gc: Option<String>,
}

impl Series {
    /// Samples after the warm-up (load and final).
    pub fn measured(&self) -> impl Iterator<Item = &Sample> {
        self.samples
            .iter()
            .filter(|sample| sample.phase != Some(Phase::Warmup))
    }

    /// Where the warm-up ends as seen in the samples: the elapsed seconds of the last
    /// warm-up sample after the first one (which is taken before load, at 0). `None` when
    /// no sample under load fell in the warm-up.
    pub fn warmup_end_s(&self) -> Option<f64> {
        self.samples
            .iter()
            .skip(1)
            .filter(|sample| sample.phase == Some(Phase::Warmup))
            .map(|sample| sample.elapsed_s)
            .reduce(f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_end_is_the_last_warmup_sample_after_the_first() {
        let sample = |elapsed_s: f64, phase: Phase| Sample {
            elapsed_s,
            phase: Some(phase),
            ..Sample::default()
        };
        let mut series = Series {
            samples: vec![
                sample(0.0, Phase::Warmup),
                sample(1.0, Phase::Warmup),
                sample(2.0, Phase::Warmup),
                sample(3.0, Phase::Load),
                sample(3.2, Phase::Final),
            ],
            ..Series::default()
        };
        assert_eq!(series.warmup_end_s(), Some(2.0));
        assert_eq!(series.measured().count(), 2);
        series.samples.truncate(1);
        assert_eq!(series.warmup_end_s(), None);
    }

    #[test]
    fn allocators_are_written_by_name_and_unknown_when_not_known() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Run {
            #[serde(with = "allocator_or_unknown")]
            allocator: Option<AllocatorKind>,
        }
        for (allocator, json) in [
            (None, r#"{"allocator":"unknown"}"#),
            (Some(AllocatorKind::System), r#"{"allocator":"system"}"#),
            (Some(AllocatorKind::Jemalloc), r#"{"allocator":"jemalloc"}"#),
            (Some(AllocatorKind::Mimalloc), r#"{"allocator":"mimalloc"}"#),
        ] {
            assert_eq!(serde_json::to_string(&Run { allocator }).unwrap(), json);
            assert_eq!(
                serde_json::from_str::<Run>(json).unwrap(),
                Run { allocator }
            );
        }
        let err = parse_allocator_name("tcmalloc").unwrap_err();
        assert!(err.contains("\"tcmalloc\""), "{err}");
    }
}
