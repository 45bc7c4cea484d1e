//! Tests: a metric no measured sample has (a probe that does not read it) is `n/a`, not a
//! call to run longer.

use super::*;
use crate::series::{Phase, Sample, Series};

#[test]
fn a_metric_no_sample_has_is_n_a_not_a_call_to_run_longer() {
    // The portable probe reads no fds: 40 measured samples, none with open_fds.
    let series = Series {
        samples: (0..40)
            .map(|i| Sample {
                elapsed_s: 2.0 + i as f64 * 0.25,
                phase: Some(Phase::Load),
                rss_bytes: Some(10_000_000),
                ..Sample::default()
            })
            .collect(),
        ..Series::default()
    };
    let grows = Expectation {
        metric: Metric::OpenFds,
        shape: Shape::Grows,
        threshold_per_min: None,
        at_least: None,
    };
    let checked = check(&series, &grows);
    assert_eq!(checked.outcome(), Outcome::Inconclusive);
    let line = checked.line();
    assert!(
        line.contains("n/a") && !line.contains("run longer"),
        "{line}"
    );
}
