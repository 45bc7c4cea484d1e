//! "One pattern, every memory manager": the same `loh` sizes around each runtime's own
//! large-object boundary, and `bigstring` vs `staticstring`, on Rust (its allocator,
//! measured), Mono, the JVM, Node.js and Go (their collectors, measured) and CoreCLR .NET
//! (modelled: the lens the Rust runs carry), as rows of one table per pattern.
//!
//! The rows come from `membench run --runtime X` results the gallery found (the runtime is
//! read from each summary.json: `measured_gc.runtime`, or the Rust server's allocator);
//! every figure is a run's own. The paragraphs are written from those figures: a runtime
//! whose collections and cost do not change across its pair is said to show no boundary.

use crate::format::{format_mb, format_significant, group_thousands};
use crate::gcmodel::LOH_THRESHOLD_BYTES;
use crate::report::Spread;
use crate::report::compare::SavedRun;

use super::facts::{Relation, format_rps, percent_change, relation, times};

/// The runtimes the section expects, in the order shown, with the `loh` sizes the
/// workshop runs around each one's own boundary and why those sizes.
pub const EXPECTED: [(&str, [u64; 2], &str); 5] = [
    (
        "rust",
        [7_340_032, 7_340_033],
        "jemalloc (membench's default allocator) puts an allocation whose size class is \
         8 MiB or more (opt.oversize_threshold) in a dedicated arena that returns its pages \
         at once; 7,340,032 is the 7 MiB class, 7,340,033 rounds up to the 8 MiB class",
    ),
    (
        "mono",
        [7_968, 7_969],
        "SGen moves objects above 8,000 bytes (header included: byte[7969] and up) to its \
         large object space, swept only by major collections",
    ),
    (
        "jvm",
        [524_272, 524_288],
        "G1 allocates an object larger than half a region as humongous, straight into \
         old-generation regions (run with -XX:G1HeapRegionSize=1m: half a region is \
         524,288 bytes, and byte[524288] is 524,304 with its header)",
    ),
    (
        "node",
        [131_072, 131_073],
        "V8 puts heap objects above 128 KiB (kMaxRegularHeapObjectSize) in its large object \
         space; a Buffer's bytes live outside the V8 heap, so these sizes test whether that \
         boundary reaches Buffers at all",
    ),
    (
        "go",
        [32_768, 32_769],
        "Go serves objects up to 32 KiB from size classes; a larger one gets a span of its \
         own, rounded up to whole 8 KiB pages (32,769 bytes take 40 KiB)",
    ),
];

/// The key of the modelled CoreCLR rows.
pub const CORECLR: &str = "coreclr";

/// Two sizes closer than this fraction are a pair around one boundary.
const PAIR_FRACTION: f64 = 0.01;

/// Fewer collections than this between the two sides of a pair is not a boundary, even
/// when the ratio is large (0 → 2 collections in a short run).
const MIN_COLLECTION_DIFFERENCE: f64 = 3.0;

/// Which of the two patterns a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// `loh/{size}` around each boundary.
    Loh,
    /// `bigstring` vs `staticstring`.
    Strings,
}

/// One row: one run (or the modelled lens of one Rust run) of one runtime.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    /// `rust`, `mono`, `jvm`, `node`, `go`, another runtime's own name, or [`CORECLR`].
    pub runtime: String,
    /// `Mono 6.8.0.105, SGen`, `Rust, jemalloc (no collector)`, `CoreCLR .NET (modelled)`.
    pub label: String,
    /// The runtime's own large-object rule, as its server described it.
    pub rule: Option<String>,
    pub scenario: String,
    /// The `loh` size in bytes.
    pub size: Option<u64>,
    /// True for the CoreCLR lens: a model, never a measurement.
    pub modelled: bool,
    /// Mean requests per second (`None` for the model: it serves nothing).
    pub rps: Option<f64>,
    /// The paced rate of an open-loop run (`staticstring` is paced); `None` when closed.
    pub paced_rps: Option<f64>,
    /// Server CPU µs per request, median and IQR (`None` for the model).
    pub cpu: Option<Spread>,
    /// Minor page faults per request, median (`None` for the model).
    pub faults: Option<f64>,
    /// Collections per second by kind, youngest first; empty for a runtime without a
    /// collector.
    pub collections: Vec<(String, f64)>,
    /// Seconds the rates were measured over.
    pub measured_s: f64,
    /// Peak heap in bytes: the live heap for Rust, the managed heap in use for a
    /// collector, the modelled managed heap for CoreCLR.
    pub heap_peak: Option<u64>,
    /// The run the row comes from.
    pub run: &'a SavedRun,
}

impl Row<'_> {
    /// `7,968 B` or the scenario name.
    pub fn case(&self) -> String {
        match (self.size, self.scenario.as_str()) {
            (Some(size), "loh") => format!("{} B", group_thousands(size)),
            _ => self.scenario.clone(),
        }
    }

    /// Collections of `kind` per 1,000 requests (the steady figure when RPS swings).
    fn per_thousand(&self, kind: &str) -> Option<f64> {
        let per_s = self.collections.iter().find(|(k, _)| k == kind)?.1;
        let rps = self.rps.filter(|r| *r > 0.0)?;
        Some(per_s / rps * 1_000.0)
    }
}

/// The runtime key and label of a run; `None` for a run against a foreign target.
fn runtime_of(run: &SavedRun) -> Option<(String, String, Option<String>)> {
    if let Some(measured) = &run.summary.measured_gc {
        let (name, rule) = measured.runtime.as_ref().map_or_else(
            || {
                let first = measured.label.split_whitespace().next().unwrap_or("gc");
                (first.to_ascii_lowercase(), None)
            },
            |info| (info.name.clone(), info.large_object_rule.clone()),
        );
        return Some((name, measured.label.clone(), rule));
    }
    let allocator = run.summary.run.allocator?;
    Some((
        "rust".to_string(),
        format!("Rust, {allocator} (no collector)"),
        None,
    ))
}

/// The position of a runtime in the section: the expected ones in order, others after,
/// CoreCLR last.
fn order(runtime: &str) -> usize {
    if runtime == CORECLR {
        return EXPECTED.len() + 1;
    }
    EXPECTED
        .iter()
        .position(|(name, _, _)| *name == runtime)
        .unwrap_or(EXPECTED.len())
}

/// The rows of `pattern` from `runs`: one per runtime, scenario and size (the latest run
/// when there are several), then the CoreCLR lens of each Rust run that carries one.
pub fn rows<'a>(runs: &[&'a SavedRun], pattern: Pattern) -> Vec<Row<'a>> {
    let scenarios: &[&str] = match pattern {
        Pattern::Loh => &["loh"],
        Pattern::Strings => &["bigstring", "staticstring"],
    };
    let mut rows: Vec<Row<'a>> = Vec::new();
    for run in runs {
        let summary = &run.summary;
        if !scenarios.contains(&summary.run.scenario.as_str()) {
            continue;
        }
        let Some((runtime, label, rule)) = runtime_of(run) else {
            continue;
        };
        let size = summary.run.params.size_bytes();
        let measured = summary.measured_gc.as_ref();
        let row = Row {
            runtime: runtime.clone(),
            label,
            rule,
            scenario: summary.run.scenario.clone(),
            size,
            modelled: false,
            rps: Some(summary.load.rps_mean),
            paced_rps: summary.run.rate_per_s,
            cpu: summary.cost.cpu_us_per_request,
            faults: summary.cost.minor_faults_per_request.map(|f| f.median),
            collections: measured.map_or_else(Vec::new, |m| {
                m.by_kind
                    .iter()
                    .map(|k| (k.kind.clone(), k.per_s))
                    .collect()
            }),
            measured_s: summary.load.measured_s,
            heap_peak: match measured {
                Some(m) => m.heap_peak_bytes,
                None => summary.memory.heap_live.map(|level| level.peak_bytes),
            },
            run,
        };
        let same = rows.iter().position(|r| {
            r.runtime == row.runtime && r.scenario == row.scenario && r.size == row.size
        });
        match same {
            Some(index) if rows[index].run.summary.run.ended >= summary.run.ended => {}
            Some(index) => rows[index] = row,
            None => rows.push(row),
        }
    }
    let lens: Vec<Row<'a>> = rows
        .iter()
        .filter(|row| row.runtime == "rust")
        .filter_map(|row| {
            let model = row.run.summary.modelled_gc.as_ref()?;
            Some(Row {
                runtime: CORECLR.to_string(),
                label: "CoreCLR .NET (modelled, not measured)".to_string(),
                rule: Some(format!(
                    "CoreCLR puts objects of {} bytes and more on the large object heap, \
                     collected only with gen2 (a model fed with the Rust server's requests)",
                    group_thousands(LOH_THRESHOLD_BYTES)
                )),
                modelled: true,
                rps: None,
                cpu: None,
                faults: None,
                collections: vec![
                    ("gen0".to_string(), model.gen0_per_s),
                    ("gen1".to_string(), model.gen1_per_s),
                    ("gen2".to_string(), model.gen2_per_s),
                ],
                heap_peak: Some(model.managed_heap_peak_bytes),
                ..row.clone()
            })
        })
        .collect();
    rows.extend(lens);
    rows.sort_by(|a, b| {
        (order(&a.runtime), &a.runtime, &a.scenario, a.size).cmp(&(
            order(&b.runtime),
            &b.runtime,
            &b.scenario,
            b.size,
        ))
    });
    rows
}

/// The expected runtimes with no row of `pattern`.
pub fn missing(rows: &[Row<'_>]) -> Vec<&'static str> {
    EXPECTED
        .iter()
        .map(|(name, _, _)| *name)
        .filter(|name| !rows.iter().any(|row| row.runtime == *name))
        .collect()
}

/// The commands that make the runs of `runtime` for the section (the workshop script
/// runs these, into `OUT/runtimes/`).
pub fn commands_for(runtime: &str) -> Vec<String> {
    let Some((_, sizes, _)) = EXPECTED.iter().find(|(name, _, _)| *name == runtime) else {
        return Vec::new();
    };
    let flags = match runtime {
        "rust" => String::new(),
        "jvm" => " --runtime jvm --runtime-arg -XX:G1HeapRegionSize=1m --runtime-arg -Xmx512m"
            .to_string(),
        other => format!(" --runtime {other}"),
    };
    let mut sizes = sizes.to_vec();
    if runtime == "rust" {
        // The Rust runs also carry the modelled CoreCLR lens at CoreCLR's own boundary.
        sizes.extend([LOH_THRESHOLD_BYTES - 1, LOH_THRESHOLD_BYTES]);
    }
    let mut lines: Vec<String> = sizes
        .iter()
        .map(|size| {
            format!("membench run loh --size {size}{flags} --out DIR/runtimes/{runtime}-loh-{size}")
        })
        .collect();
    for scenario in ["bigstring", "staticstring"] {
        lines.push(format!(
            "membench run {scenario}{flags} --out DIR/runtimes/{runtime}-{scenario}"
        ));
    }
    lines
}

/// `gen0 76.1/s, gen1 0.2/s`, or `no collector`.
pub fn collections_text(row: &Row<'_>) -> String {
    if row.collections.is_empty() {
        return "no collector".to_string();
    }
    row.collections
        .iter()
        .map(|(kind, per_s)| format!("{kind} {}/s", format_significant(*per_s)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Pairs of rows of one runtime whose sizes are within [`PAIR_FRACTION`] of each other.
fn size_pairs<'r, 'a>(rows: &'r [Row<'a>], runtime: &str) -> Vec<(&'r Row<'a>, &'r Row<'a>)> {
    let mine: Vec<&Row<'a>> = rows
        .iter()
        .filter(|row| row.runtime == runtime && row.size.is_some())
        .collect();
    mine.windows(2)
        .filter_map(|pair| {
            let (a, b) = (pair[0].size?, pair[1].size?);
            ((b - a) as f64 <= PAIR_FRACTION * b as f64).then_some((pair[0], pair[1]))
        })
        .collect()
}

/// `76.1 → 22.1/s (5.24 → 3.38 per 1,000 requests)`.
fn kind_change(a: &Row<'_>, b: &Row<'_>, kind: &str) -> Option<(String, bool)> {
    let rate = |row: &Row<'_>| {
        row.collections
            .iter()
            .find(|(k, _)| k == kind)
            .map_or(0.0, |(_, r)| *r)
    };
    let (ra, rb) = (rate(a), rate(b));
    let count_difference = (rb * b.measured_s - ra * a.measured_s).abs();
    let mut text = format!(
        "{kind} {} → {}/s",
        format_significant(ra),
        format_significant(rb)
    );
    let mut changed = count_difference >= MIN_COLLECTION_DIFFERENCE;
    if let (Some(ka), Some(kb)) = (a.per_thousand(kind), b.per_thousand(kind)) {
        text.push_str(&format!(
            " ({} → {} per 1,000 requests",
            format_significant(ka),
            format_significant(kb)
        ));
        if relation(kb, ka) == Relation::More && ka > 0.0 {
            text.push_str(&format!(", {}", times(kb, ka).unwrap_or_default()));
        }
        text.push(')');
        changed &= relation(ka, kb) != Relation::Same;
    } else {
        changed &= relation(ra, rb) != Relation::Same;
    }
    Some((text, changed))
}

/// `RPS 14,529 → 6,526 (-55 %); CPU per request 55 → 80 µs, the IQRs apart`.
fn cost_change(a: &Row<'_>, b: &Row<'_>) -> (String, bool) {
    let mut parts = Vec::new();
    if let (Some(ra), Some(rb)) = (a.rps, b.rps) {
        parts.push(format!(
            "RPS {} → {} ({})",
            format_rps(ra),
            format_rps(rb),
            percent_change(ra, rb).unwrap_or_else(|| "no load before".to_string())
        ));
    }
    let mut apart = false;
    if let (Some(ca), Some(cb)) = (a.cpu, b.cpu) {
        apart = !ca.overlaps(&cb);
        parts.push(format!(
            "server CPU per request {} → {} µs ({})",
            format_significant(ca.median),
            format_significant(cb.median),
            if apart {
                "the IQRs do not overlap"
            } else {
                "within the runs' spread: the IQRs overlap"
            }
        ));
    }
    if let (Some(fa), Some(fb)) = (a.faults, b.faults) {
        let faults_apart = relation(fa, fb) != Relation::Same && (fa - fb).abs() >= 1.0;
        apart |= faults_apart;
        parts.push(format!(
            "minor page faults per request {} → {}",
            format_significant(fa),
            format_significant(fb)
        ));
    }
    (parts.join("; "), apart)
}

/// The `loh` paragraph: CoreCLR's number stated as modelled, then each runtime's pair
/// from its numbers, and which runtimes have no runs here.
pub fn loh_paragraph(rows: &[Row<'_>]) -> Vec<String> {
    let mut sentences = vec![format!(
        "{} bytes is CoreCLR's number: its large object heap threshold, modelled here (the \
         CoreCLR rows are a model fed with the Rust server's requests, never a measurement). \
         Every runtime has its own boundary, and each one below is measured.",
        group_thousands(LOH_THRESHOLD_BYTES)
    )];
    let mut runtimes: Vec<&str> = rows.iter().map(|r| r.runtime.as_str()).collect();
    runtimes.dedup();
    for runtime in runtimes {
        let pairs = size_pairs(rows, runtime);
        if pairs.is_empty() {
            let label = &rows
                .iter()
                .find(|r| r.runtime == runtime)
                .expect("a row")
                .label;
            sentences.push(format!(
                "{label}: no two sizes around one boundary were run, so no boundary can be read here."
            ));
        }
        for (a, b) in pairs {
            sentences.push(pair_sentence(a, b));
        }
    }
    sentences
}

fn pair_sentence(a: &Row<'_>, b: &Row<'_>) -> String {
    let sizes = format!(
        "from {} to {} bytes",
        group_thousands(a.size.unwrap_or(0)),
        group_thousands(b.size.unwrap_or(0))
    );
    let mut kinds: Vec<String> = a.collections.iter().map(|(k, _)| k.clone()).collect();
    for (kind, _) in &b.collections {
        if !kinds.contains(kind) {
            kinds.push(kind.clone());
        }
    }
    let changes: Vec<(String, bool)> = kinds
        .iter()
        .filter_map(|kind| kind_change(a, b, kind))
        .collect();
    let collections_changed = changes.iter().any(|(_, changed)| *changed);
    let collections_text = changes
        .iter()
        .map(|(text, _)| text.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if a.modelled {
        let heap = match (a.heap_peak, b.heap_peak) {
            (Some(ha), Some(hb)) => format!(
                "; modelled managed heap peak {} → {}",
                format_mb(ha),
                format_mb(hb)
            ),
            _ => String::new(),
        };
        let verdict = if collections_changed {
            "the model collects differently on the two sides"
        } else {
            "the model shows no boundary between these sizes"
        };
        return format!("{} {sizes}: {collections_text}{heap} — {verdict}.", a.label);
    }
    let (cost_text, cost_apart) = cost_change(a, b);
    let verdict = match (a.collections.is_empty(), collections_changed, cost_apart) {
        (true, _, true) => "no collector, and the allocator's boundary shows in the cost",
        (true, _, false) => "no collector, and no boundary shows in the cost at these sizes",
        (false, true, _) => "a boundary shows in its measured collections",
        (false, false, true) => {
            "its collections per request did not change, but the cost per request did"
        }
        (false, false, false) => {
            "no boundary shows at these sizes: no kind of collection changed per request and the cost stayed within the spread"
        }
    };
    let mut text = format!("{} {sizes}: ", a.label);
    if !collections_text.is_empty() {
        text.push_str(&collections_text);
        text.push_str("; ");
    }
    text.push_str(&cost_text);
    text.push_str(&format!(" — {verdict}."));
    text
}

/// The strings paragraph: per runtime, bigstring against staticstring from the numbers,
/// then the spread of bigstring RPS across runtimes.
pub fn strings_paragraph(rows: &[Row<'_>]) -> Vec<String> {
    let mut sentences = Vec::new();
    let mut runtimes: Vec<&str> = rows.iter().map(|r| r.runtime.as_str()).collect();
    runtimes.dedup();
    for runtime in runtimes {
        let find = |scenario: &str| {
            rows.iter()
                .find(|r| r.runtime == runtime && r.scenario == scenario)
        };
        let (Some(big), Some(held)) = (find("bigstring"), find("staticstring")) else {
            let row = rows.iter().find(|r| r.runtime == runtime).expect("a row");
            sentences.push(format!(
                "{}: only {} was run, so there is no pair to read.",
                row.label, row.scenario
            ));
            continue;
        };
        let describe = |row: &Row<'_>| {
            let mut parts = Vec::new();
            match (row.rps, row.paced_rps) {
                (Some(rps), Some(paced)) => parts.push(format!(
                    "{} RPS (paced at {})",
                    format_rps(rps),
                    format_rps(paced)
                )),
                (Some(rps), None) => parts.push(format!("{} RPS", format_rps(rps))),
                _ => {}
            }
            if let Some(cpu) = row.cpu {
                parts.push(format!("{} µs CPU/request", format_significant(cpu.median)));
            }
            parts.push(collections_text(row));
            if let Some(heap) = row.heap_peak {
                parts.push(format!("heap peak {}", format_mb(heap)));
            }
            parts.join(", ")
        };
        let heap = match (big.heap_peak, held.heap_peak) {
            (Some(b), Some(h)) => match relation(h as f64, b as f64) {
                Relation::More => format!(
                    "staticstring's heap peak was {} bigstring's",
                    times(h as f64, b as f64).unwrap_or_default()
                ),
                Relation::Less => "staticstring's heap peak was below bigstring's".to_string(),
                Relation::Same => "the heap peaks were about the same".to_string(),
            },
            _ => "the heap was not measured".to_string(),
        };
        sentences.push(format!(
            "{}: bigstring {}; staticstring {} — {heap}.",
            big.label,
            describe(big),
            describe(held)
        ));
    }
    let measured: Vec<&Row<'_>> = rows
        .iter()
        .filter(|r| r.scenario == "bigstring" && !r.modelled && r.rps.is_some())
        .collect();
    let slowest = measured
        .iter()
        .min_by(|a, b| a.rps.partial_cmp(&b.rps).expect("finite"));
    let fastest = measured
        .iter()
        .max_by(|a, b| a.rps.partial_cmp(&b.rps).expect("finite"));
    if let (Some(slow), Some(fast)) = (slowest, fastest)
        && measured.len() > 1
    {
        sentences.push(format!(
            "bigstring ran at {} RPS on {} and {} RPS on {} ({} as many): each runtime's own \
             HTTP server is part of that difference, not only its memory manager.",
            format_rps(fast.rps.unwrap_or(0.0)),
            fast.label,
            format_rps(slow.rps.unwrap_or(0.0)),
            slow.label,
            times(fast.rps.unwrap_or(0.0), slow.rps.unwrap_or(0.0)).unwrap_or_default()
        ));
    }
    sentences
}
