//! Charts rendered from hand-made series shaped like real runs (a leak, a sawtooth with
//! purges, errors at the end, a foreign server, a long run, a single sample), decoded and
//! checked. Set `MEMBENCH_CHART_DIR=/some/dir` to keep the PNG and SVG files for looking
//! at them.

use std::collections::BTreeMap;

use super::data::{ChartData, TimeUnit};
use super::legend::legend_entries;
use super::*;
use crate::format::BYTES_PER_MB;
use crate::series::{Phase, Sample};

const MB: u64 = BYTES_PER_MB as u64;

/// Deterministic noise in [-1, 1), as in the trend tests.
fn noise(state: &mut u64) -> f64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

/// A run shaped like a real one: the first sample before load at 0, `warmup` samples
/// of warm-up, load samples each second, and a final sample after load stopped.
/// `memory(second)` gives (heap, RSS, allocator resident) bytes.
pub(crate) fn run_like(
    scenario: &str,
    params: &[(&str, &str)],
    seconds: u64,
    warmup: u64,
    memory: impl Fn(u64) -> (Option<u64>, u64, Option<u64>),
) -> Series {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let samples = (0..=seconds + 1)
        .map(|second| {
            let (heap, rss, allocator) = memory(second);
            let phase = match second {
                0 => Phase::Warmup,
                s if s <= warmup => Phase::Warmup,
                s if s > seconds => Phase::Final,
                _ => Phase::Load,
            };
            let loaded = second > 0 && second <= seconds;
            let rps = if loaded {
                18_000.0 + 900.0 * noise(&mut state)
            } else if second > seconds {
                // The final interval: the tail of the load in 0.4 s.
                15_000.0
            } else {
                0.0
            };
            let interval_s = match second {
                0 => 1e-6,
                s if s > seconds => 0.4,
                _ => 1.0,
            };
            Sample {
                elapsed_s: if second > seconds {
                    seconds as f64 + 0.4
                } else {
                    second as f64
                },
                phase: Some(phase),
                interval_s,
                requests: (rps * interval_s) as u64,
                rps: Some(rps),
                status_2xx: (rps * interval_s) as u64,
                cpu_percent: Some(if second == 0 {
                    0.0
                } else {
                    70.0 + 8.0 * noise(&mut state)
                }),
                rss_bytes: Some(rss),
                heap_live_bytes: heap,
                allocator_resident_bytes: allocator,
                cpu_us_per_request: (second != 0).then(|| 40.0 + 4.0 * noise(&mut state)),
                ..Sample::default()
            }
        })
        .collect();
    Series {
        scenario: scenario.into(),
        params: params.iter().copied().collect(),
        allocator: Some(crate::memory::AllocatorKind::Jemalloc),
        load: "32 connections, closed loop".into(),
        samples,
        modelled_gc: None,
        resources: Default::default(),
        measured_gc: None,
    }
}

/// staticstring-like leak: heap grows linearly 0 → 300 MB, RSS follows above it.
pub(crate) fn leak_series() -> Series {
    let seconds = 60;
    let mut series = run_like("staticstring", &[], seconds, 5, |second| {
        let heap = 300 * MB * second.min(seconds) / seconds;
        (
            Some(heap),
            12 * MB + heap * 11 / 10,
            Some(8 * MB + heap * 21 / 20),
        )
    });
    for (index, sample) in series.samples.iter_mut().enumerate() {
        sample.reclaim_events = Some(u64::from(index % 17 == 9));
    }
    series
}

/// bigstring-like transient pattern: heap sawtooth, RSS flat, purges at each drop.
pub(crate) fn sawtooth_series() -> Series {
    let period = 8;
    let mut series = run_like("bigstring", &[], 60, 5, |second| {
        let heap = 20 * MB + 35 * MB * (second % period);
        (Some(heap), 330 * MB, Some(310 * MB))
    });
    for sample in &mut series.samples {
        let second = sample.elapsed_s.round() as u64;
        sample.reclaim_events = Some(if second > 0 && second.is_multiple_of(period) {
            3 + second % 5
        } else {
            0
        });
    }
    series
}

/// A run whose server starts failing at the end: errors by kind in the last intervals.
pub(crate) fn errors_series() -> Series {
    let mut series = run_like("loh", &[("size", "84976")], 40, 5, |second| {
        let heap = 30 * MB + (second % 3) * 4 * MB;
        (Some(heap), 440 * MB + (second % 4) * 3 * MB, Some(420 * MB))
    });
    let count = series.samples.len();
    for sample in &mut series.samples[count - 6..] {
        sample.errors = 120;
        sample.errors_by_kind = BTreeMap::from([
            ("timeout".to_string(), 100),
            ("connection refused".to_string(), 20),
        ]);
        sample.rps = sample.rps.map(|rps| rps / 3.0);
    }
    for (index, sample) in series.samples.iter_mut().enumerate() {
        sample.reclaim_events = Some((index as u64 * 7) % 5);
    }
    series
}

/// A foreign server: no heap, no allocator data, no reclaim events.
pub(crate) fn foreign_series() -> Series {
    let mut series = run_like("target", &[], 30, 3, |second| {
        (None, 80 * MB + second * MB / 2, None)
    });
    series.allocator = None;
    series
}

fn render_to_png(series: &Series, name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join(format!("{name}.png"));
    let svg = dir.path().join(format!("{name}.svg"));
    render_chart(series, &png, Some(&svg)).unwrap();
    // Set MEMBENCH_CHART_DIR to keep the charts for looking at them.
    if let Some(keep) = std::env::var_os("MEMBENCH_CHART_DIR") {
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::copy(&png, Path::new(&keep).join(format!("{name}.png"))).unwrap();
        std::fs::copy(&svg, Path::new(&keep).join(format!("{name}.svg"))).unwrap();
    }
    (dir, png)
}

fn count_pixels(image: &image::RgbImage, color: RGBColor) -> usize {
    image
        .pixels()
        .filter(|p| p.0 == [color.0, color.1, color.2])
        .count()
}

#[test]
fn leak_chart_is_a_png_of_the_chart_size_with_the_allocated_line() {
    let (_dir, png) = render_to_png(&leak_series(), "leak");
    let image = image::open(&png).unwrap().to_rgb8();
    assert_eq!(image.dimensions(), CHART_SIZE_PX);
    let colours: std::collections::HashSet<[u8; 3]> = image.pixels().map(|p| p.0).collect();
    assert!(colours.len() > 50, "only {} colours", colours.len());
    // A 3 px line over most of the width: well over 1000 pure-colour pixels each.
    assert!(count_pixels(&image, ALLOCATED) > 1000);
    assert!(count_pixels(&image, RESIDENT) > 1000);
    assert!(count_pixels(&image, RPS) > 1000);
    assert!(count_pixels(&image, CPU) > 1000);
    // No errors in this run: no error colour anywhere.
    assert_eq!(count_pixels(&image, ERRORS), 0);
}

#[test]
fn allocated_line_rises_in_a_leak() {
    let (_dir, png) = render_to_png(&leak_series(), "leak-rise");
    let image = image::open(&png).unwrap().to_rgb8();
    let (width, height) = image.dimensions();
    // Mean row of the red pixels in the left and right quarters: higher on the right
    // (smaller y) because the heap grows 0 → 300 MB.
    let mean_row = |from: u32, to: u32| {
        let rows: Vec<u32> = (from..to)
            .flat_map(|x| (0..height).map(move |y| (x, y)))
            .filter(|(x, y)| image.get_pixel(*x, *y).0 == [ALLOCATED.0, ALLOCATED.1, ALLOCATED.2])
            .map(|(_, y)| y)
            .collect();
        assert!(!rows.is_empty());
        rows.iter().sum::<u32>() as f64 / rows.len() as f64
    };
    assert!(mean_row(width * 3 / 4, width - 20) < mean_row(140, width / 4) - 100.0);
}

#[test]
fn sawtooth_and_error_charts_render_with_their_markers() {
    let (_dir, png) = render_to_png(&sawtooth_series(), "sawtooth");
    let image = image::open(&png).unwrap().to_rgb8();
    assert_eq!(image.dimensions(), CHART_SIZE_PX);
    assert!(count_pixels(&image, RECLAIM) > 100, "reclaim triangles");

    let (_dir, png) = render_to_png(&errors_series(), "errors");
    let image = image::open(&png).unwrap().to_rgb8();
    assert!(count_pixels(&image, ERRORS) > 200, "errors are visible");
}

#[test]
fn a_foreign_target_without_heap_data_still_renders() {
    let (_dir, png) = render_to_png(&foreign_series(), "foreign");
    let image = image::open(&png).unwrap().to_rgb8();
    assert_eq!(image.dimensions(), CHART_SIZE_PX);
    assert_eq!(count_pixels(&image, ALLOCATED), 0, "no heap line invented");
    assert!(count_pixels(&image, RESIDENT) > 1000);
    assert!(count_pixels(&image, RPS) > 1000);
}

#[test]
fn a_long_run_is_drawn_in_minutes() {
    // 40 minutes at 1 s, a leak to 2.5 GB, mimalloc.
    let seconds = 2_400;
    let mut series = run_like(
        "cache-unbounded",
        &[("ttl", "none")],
        seconds,
        30,
        |second| {
            let heap = 2_500 * MB * second.min(seconds) / seconds;
            (Some(heap), 20 * MB + heap + heap / 8, None)
        },
    );
    series.allocator = Some(crate::memory::AllocatorKind::Mimalloc);
    for sample in &mut series.samples {
        sample.reclaim_events = Some(u64::from((sample.elapsed_s as u64).is_multiple_of(97)));
    }
    let data = ChartData::from_series(&series).unwrap();
    assert_eq!(data.time_unit, TimeUnit::Minutes);
    assert!(!data.dots && data.dense);
    let (_dir, png) = render_to_png(&series, "long");
    let image = image::open(&png).unwrap().to_rgb8();
    assert!(count_pixels(&image, ALLOCATED) > 1000);
}

#[test]
fn a_single_sample_renders() {
    let mut series = leak_series();
    series.samples.truncate(1);
    let (_dir, png) = render_to_png(&series, "single");
    let image = image::open(&png).unwrap().to_rgb8();
    assert_eq!(image.dimensions(), CHART_SIZE_PX);
}

#[test]
fn chart_data_breaks_lines_at_missing_values_and_keeps_means() {
    let mut series = leak_series();
    series.samples[20].heap_live_bytes = None;
    let data = ChartData::from_series(&series).unwrap();
    assert_eq!(data.heap_mb.len(), 2);
    assert_eq!(
        data.heap_mb.iter().map(Vec::len).sum::<usize>(),
        series.samples.len() - 1
    );
    assert_eq!(data.warmup_end, Some(5.0));
    // The legend's RPS is the measured-phase mean, as in the summary.
    let measured: Vec<&Sample> = series.measured().collect();
    let requests: u64 = measured.iter().map(|s| s.requests).sum();
    let seconds: f64 = measured.iter().map(|s| s.interval_s).sum();
    assert!((data.rps_mean - requests as f64 / seconds).abs() < 1e-9);
    let labels: Vec<String> = legend_entries(&data).into_iter().map(|e| e.label).collect();
    assert!(labels.iter().any(|l| l.starts_with("RPS (")), "{labels:?}");
    assert!(
        labels.iter().any(|l| l.contains("jemalloc purge")),
        "{labels:?}"
    );
    assert!(ChartData::from_series(&Series::default()).is_err());
}

/// The sawtooth run fed through the modelled .NET GC (server preset, a 10,240-char string
/// per request, as bigstring declares), interval by interval as the runner's lens feeds it
/// (median latency as the request latency).
fn with_modelled_lens(series: &Series) -> Series {
    use crate::gcmodel::{
        GcModel, GcOptions, IntervalLoad, Lifetime, MachineSpec, ManagedAllocation, ManagedKind,
        Preset,
    };
    let preset = Preset::Server;
    let per_request = vec![ManagedAllocation {
        kind: ManagedKind::String { chars: 10_240 },
        lifetime: Lifetime::Request,
    }];
    let mut model = GcModel::new(preset, MachineSpec::article(), GcOptions::article());
    let mut modelled = series.clone();
    modelled.modelled_gc = Some(preset.name().to_string());
    for sample in &mut modelled.samples {
        let latency_s = sample.latency_p50_us.map_or(0.0, |us| us as f64 / 1e6);
        let load = IntervalLoad::new(
            sample.interval_s.max(0.0),
            sample.requests,
            per_request.clone(),
        )
        .with_request_latency_s(latency_s);
        let outcome = model.feed_interval(&load).unwrap();
        sample.modelled_gen0 = Some(outcome.collections.gen0);
        sample.modelled_gen1 = Some(outcome.collections.gen1);
        sample.modelled_gen2 = Some(outcome.collections.gen2);
        sample.modelled_managed_heap_bytes = Some(outcome.heap_bytes);
        sample.modelled_managed_heap_peak_bytes = Some(outcome.peak_heap_bytes);
    }
    modelled
}

#[test]
fn the_modelled_lens_is_drawn_apart_and_leaves_the_real_series_alone() {
    let real = sawtooth_series();
    let modelled = with_modelled_lens(&real);
    let lens_data = ChartData::from_series(&modelled).unwrap();
    let real_data = ChartData::from_series(&real).unwrap();
    let lens = lens_data
        .modelled
        .as_ref()
        .expect("the lens is in the chart data");
    assert!(real_data.modelled.is_none());
    assert_eq!(
        lens_data.heap_mb, real_data.heap_mb,
        "real series unchanged"
    );
    assert_eq!(lens_data.rss_mb, real_data.rss_mb);
    assert_eq!(lens.label, "modelled .NET GC (server)");
    let gen0_markers: u64 = lens.gen0.iter().map(|(_, n)| n).sum();
    assert!(
        gen0_markers > 0,
        "18K RPS of 30 KB fills a 300 MB gen0 budget"
    );
    let legend: Vec<String> = legend_entries(&lens_data)
        .into_iter()
        .map(|entry| entry.label)
        .collect();
    assert!(
        legend
            .iter()
            .any(|l| l.starts_with("modelled .NET GC (server): gen0")),
        "{legend:?}"
    );
    assert!(
        legend.iter().any(|l| l == "modelled managed heap"),
        "{legend:?}"
    );

    let (_dir, png) = render_to_png(&modelled, "modelled");
    let image = image::open(&png).unwrap().to_rgb8();
    assert_eq!(image.dimensions(), CHART_SIZE_PX);
    assert!(count_pixels(&image, MODELLED_HEAP) > 500, "the dashed heap");
    assert!(
        count_pixels(&image, MODELLED_GEN0) > 20,
        "hollow gen0 triangles"
    );
    assert!(
        count_pixels(&image, ALLOCATED) > 1000,
        "the real heap is still drawn"
    );
}

#[test]
fn a_disk_that_fills_while_the_svg_is_written_leaves_no_cut_chart() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("chart.svg");
    let err = write_chart_svg_with(&leak_series(), &svg, |file| {
        crate::report::atomic_file::FailAfter {
            inner: file,
            left: 4096,
        }
    })
    .unwrap_err();
    assert!(format!("{err:#}").contains("chart.svg"), "{err:#}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    // The same chart with room to spare is written whole.
    render_chart_svg(&leak_series(), &svg).unwrap();
    assert!(
        std::fs::read_to_string(&svg)
            .unwrap()
            .trim_end()
            .ends_with("</svg>")
    );
}
