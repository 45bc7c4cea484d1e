//! The progress line on stderr (elapsed, RPS, RSS), drawn only when stderr is a terminal:
//! results go to stdout, and logs or pipes never get bar noise.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::format::{format_bytes, format_count};
use crate::series::Sample;

/// A progress bar over the planned run length (seconds), or a spinner when the run ends by
/// request count.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub fn new(planned: Option<Duration>) -> Progress {
        let visible = std::io::stderr().is_terminal();
        let bar = match planned {
            Some(length) => ProgressBar::new(length.as_millis() as u64),
            None => ProgressBar::new_spinner(),
        };
        bar.set_draw_target(if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        let template = if planned.is_some() {
            "{elapsed_precise} [{bar:30}] {msg}"
        } else {
            "{elapsed_precise} {spinner} {msg}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        Progress { bar }
    }

    /// Shows the latest sample.
    pub fn update(&self, elapsed: Duration, sample: &Sample) {
        self.bar.set_position(elapsed.as_millis() as u64);
        let mut message = format!(
            "{} RPS",
            sample.rps.map_or_else(|| "-".to_string(), format_count)
        );
        if let Some(rss) = sample.rss_bytes {
            message.push_str(&format!(" · RSS {}", format_bytes(rss)));
        }
        if let Some(heap) = sample.heap_live_bytes {
            message.push_str(&format!(" · heap {}", format_bytes(heap)));
        }
        if sample.errors > 0 {
            message.push_str(&format!(" · {} errors", sample.errors));
        }
        self.bar.set_message(message);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
