//! `membench gallery DIR`: writes DIR/index.html from the results under DIR and says what
//! it found. Exit codes: 0 written, 1 nothing to show (the page is written anyway, saying
//! so), 2 DIR is not a directory.

use std::time::SystemTime;

use super::Outcome;
use crate::cli::GalleryArgs;
use crate::gallery::write_gallery;

/// Runs `membench gallery`.
pub fn gallery(args: GalleryArgs) -> anyhow::Result<Outcome> {
    if !args.dir.is_dir() {
        eprintln!(
            "membench: \"{}\" is not a directory: expected the directory the workshop's runs were written to (e.g. results/gallery)",
            args.dir.display()
        );
        return Ok(Outcome::Usage);
    }
    let made_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let (path, found) = write_gallery(&args.dir, &made_at)?;
    eprintln!(
        "membench: {} comparisons, {} single runs, {} sweeps{}",
        found.comparisons.len(),
        found.runs.len()
            + found
                .run_sets
                .iter()
                .map(|set| set.runs.len())
                .sum::<usize>(),
        found.sweeps.len(),
        if found.skipped.is_empty() {
            String::new()
        } else {
            format!(
                "; {} directories left out (listed on the page)",
                found.skipped.len()
            )
        }
    );
    for skipped in &found.skipped {
        eprintln!(
            "membench: left out {}: {}",
            skipped.dir.display(),
            skipped.reason
        );
    }
    println!("{}", path.display());
    Ok(if found.is_empty() {
        eprintln!("membench: nothing to show under {}", args.dir.display());
        Outcome::Failed
    } else {
        Outcome::Success
    })
}
