//! Side-by-side and overlay figures rendered to PNG and decoded: shared scales, colours,
//! titles and legends.

use super::super::tests::{errors_series, foreign_series, leak_series, sawtooth_series};
use super::*;

fn count_pixels(image: &image::RgbImage, color: RGBColor) -> usize {
    image
        .pixels()
        .filter(|p| p.0 == [color.0, color.1, color.2])
        .count()
}

/// Renders into a temp dir; set MEMBENCH_CHART_DIR to keep the files for looking.
fn render_kept(
    name: &str,
    runs: &[ComparedRun],
    overlay: bool,
) -> (tempfile::TempDir, image::RgbImage) {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join(format!("{name}.png"));
    let svg = dir.path().join(format!("{name}.svg"));
    if overlay {
        render_overlay(runs, &png, Some(&svg)).unwrap();
    } else {
        render_side_by_side(runs, &png, Some(&svg)).unwrap();
    }
    if let Some(keep) = std::env::var_os("MEMBENCH_CHART_DIR") {
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::copy(&png, Path::new(&keep).join(format!("{name}.png"))).unwrap();
    }
    let image = image::open(&png).unwrap().to_rgb8();
    assert!(std::fs::metadata(&svg).unwrap().len() > 1000);
    (dir, image)
}

fn compared<'a>(series: &'a [Series]) -> Vec<ComparedRun<'a>> {
    series
        .iter()
        .map(|series| ComparedRun {
            label: format!(
                "{} · {}",
                series.scenario,
                crate::series::allocator_name(series.allocator)
            ),
            series,
        })
        .collect()
}

#[test]
fn side_by_side_is_one_column_per_run_at_600_px_each() {
    assert_eq!(side_by_side_size_px(2), CHART_SIZE_PX);
    assert_eq!(side_by_side_size_px(3), (1800, CHART_SIZE_PX.1));
    let series = [leak_series(), sawtooth_series(), errors_series()];
    let (_dir, image) = render_kept("side-by-side", &compared(&series), false);
    assert_eq!(image.dimensions(), side_by_side_size_px(3));
    // Each column draws its own lines: the red heap line appears in every third.
    let (width, height) = image.dimensions();
    for column in 0..3 {
        let red = (column * width / 3..(column + 1) * width / 3)
            .flat_map(|x| (0..height).map(move |y| (x, y)))
            .filter(|(x, y)| image.get_pixel(*x, *y).0 == [ALLOCATED.0, ALLOCATED.1, ALLOCATED.2])
            .count();
        assert!(red > 300, "column {column}: {red} heap pixels");
    }
    assert!(
        count_pixels(&image, ERRORS) > 100,
        "errors of the third run"
    );
}

#[test]
fn side_by_side_columns_share_one_memory_scale() {
    let series = [leak_series(), sawtooth_series()];
    let charts = shared_charts(&compared(&series)).unwrap();
    let own: Vec<f64> = series
        .iter()
        .map(|s| ChartData::from_series(s).unwrap().memory_max_mb())
        .collect();
    // The leak peaks at 342 MB RSS, the sawtooth at 330 MB: both columns use the larger.
    let largest = own.iter().copied().fold(0.0, f64::max);
    assert!(own[0] != own[1]);
    for chart in &charts {
        assert_eq!(chart.memory_max_mb(), largest);
        assert_eq!(chart.x_max, charts[0].x_max);
    }
}

#[test]
fn a_shorter_run_is_drawn_on_the_longer_run_time_axis() {
    let mut short = sawtooth_series();
    short.samples.truncate(20);
    let series = [leak_series(), short];
    let charts = shared_charts(&compared(&series)).unwrap();
    assert_eq!(charts[0].x_max, charts[1].x_max);
    assert!(charts[1].x_max > 60.0);
}

#[test]
fn overlay_draws_every_run_in_its_own_colour() {
    let series = [leak_series(), sawtooth_series(), foreign_series()];
    let (_dir, image) = render_kept("overlay", &compared(&series), true);
    assert_eq!(image.dimensions(), CHART_SIZE_PX);
    for (index, colour) in RUN_COLOURS.iter().take(3).enumerate() {
        let pixels = count_pixels(&image, *colour);
        assert!(pixels > 500, "run {index}: {pixels} pixels of its colour");
    }
    // Nothing drawn in the colours of runs that are not there.
    assert_eq!(count_pixels(&image, RUN_COLOURS[4]), 0);
}

#[test]
fn more_runs_than_colours_is_an_error() {
    let series: Vec<Series> = (0..7).map(|_| leak_series()).collect();
    let dir = tempfile::tempdir().unwrap();
    let err = render_overlay(&compared(&series), &dir.path().join("x.png"), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("7 runs"), "{err}");
}
