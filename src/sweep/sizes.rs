//! `--sizes`: which sizes a sweep measures: a comma list whose items are sizes
//! (`64KiB,1MiB,8MiB`) or ranges `A..B` walked in log steps (`--steps-per-doubling` sizes
//! per doubling, both ends included), mixed at will: `64KiB..64MiB,84975,84976` adds the
//! two sizes around .NET's large-object boundary to the log grid. Every size is parsed by [`crate::units::parse_byte_size`] and
//! checked against the child server's `--max-size` before anything runs, so a typo never
//! costs the first points of a long sweep. Also how sizes are named for people
//! (`64 KiB`, `5.7 MiB`), shared by the table, the cliff lines and the chart's ticks.

use crate::units::{MAX_SIZE_BYTES, parse_byte_size};

/// Most sizes one sweep may measure per allocator: beyond this a sweep takes hours and
/// the neighbours are too close for a 30 % drop to mean anything.
pub const MAX_SWEEP_SIZES: usize = 100;
/// Sizes per doubling when `--steps-per-doubling` is not given: 64KiB..64MiB is then 21
/// sizes, each about 41 % larger than the one before.
pub const DEFAULT_STEPS_PER_DOUBLING: u32 = 2;

/// What `--sizes` says, before the steps per doubling turn its ranges into sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizeSpec {
    /// The comma-separated items, in the order written (never empty).
    pub items: Vec<SizeItem>,
}

/// One item of `--sizes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SizeItem {
    /// `A..B`: from `from_bytes` to `to_bytes`, both included, in log steps.
    Range { from_bytes: u64, to_bytes: u64 },
    /// Exactly this size.
    Size(u64),
}

/// Why the sizes of a sweep cannot be measured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizesError {
    #[error(
        "--sizes {spec} with {steps} steps per doubling is {count} sizes; a sweep measures at most {max}: use fewer --steps-per-doubling or a narrower range"
    )]
    TooMany {
        spec: String,
        steps: u32,
        count: usize,
        max: usize,
    },
}

/// Parses `--sizes`: a comma list of sizes and ranges `A..B` (also `A..=B`); each size as
/// [`parse_byte_size`] reads it and within 1 byte ..= [`MAX_SIZE_BYTES`] (the child server's
/// default `--max-size`; larger sizes would only be answered with 400s). Errors quote the
/// input and say what is expected.
pub fn parse_size_spec(input: &str) -> Result<SizeSpec, String> {
    let expected = "expected a range such as 64KiB..64MiB, a list such as 64KiB,1MiB,8MiB, or both such as 64KiB..64MiB,84975,84976";
    if input.trim().is_empty() {
        return Err(format!("invalid sizes \"{input}\": empty; {expected}"));
    }
    let mut items = Vec::new();
    for item in input.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(format!(
                "invalid sizes \"{input}\": an empty item in the list; {expected}"
            ));
        }
        items.push(match item.split_once("..") {
            Some((from, to)) => parse_range(from, to, input, expected)?,
            None => SizeItem::Size(checked_size(item, input)?),
        });
    }
    Ok(SizeSpec { items })
}

/// `A..B` or `A..=B` (`to` still holds the `=`), the smaller size first.
fn parse_range(from: &str, to: &str, input: &str, expected: &str) -> Result<SizeItem, String> {
    let to = to.strip_prefix('=').unwrap_or(to);
    let bound = |text: &str, which: &str| -> Result<u64, String> {
        if text.trim().is_empty() {
            return Err(format!(
                "invalid sizes \"{input}\": the range has no {which} size; {expected}"
            ));
        }
        checked_size(text, input)
    };
    let from_bytes = bound(from, "first")?;
    let to_bytes = bound(to, "last")?;
    if from_bytes > to_bytes {
        return Err(format!(
            "invalid sizes \"{input}\": the range goes down ({} > {}); write the smaller size first, e.g. {}..{}",
            format_size(from_bytes),
            format_size(to_bytes),
            to.trim(),
            from.trim()
        ));
    }
    Ok(SizeItem::Range {
        from_bytes,
        to_bytes,
    })
}

/// One size of `--sizes`, within what the server accepts.
fn checked_size(text: &str, input: &str) -> Result<u64, String> {
    let bytes = parse_byte_size(text).map_err(|err| format!("in sizes \"{input}\": {err}"))?;
    if !(1..=MAX_SIZE_BYTES).contains(&bytes) {
        return Err(format!(
            "invalid size \"{}\" in sizes \"{input}\": the server accepts 1 byte to {} (its --max-size)",
            text.trim(),
            format_size(MAX_SIZE_BYTES)
        ));
    }
    Ok(bytes)
}

impl SizeSpec {
    /// The sizes to measure, ascending and without duplicates: every listed size and every
    /// range's log steps ([`log_steps`]).
    pub fn expand(&self, steps_per_doubling: u32) -> Result<Vec<u64>, SizesError> {
        let steps = steps_per_doubling.max(1);
        let mut sizes = Vec::new();
        for item in &self.items {
            match *item {
                SizeItem::Size(bytes) => sizes.push(bytes),
                SizeItem::Range {
                    from_bytes,
                    to_bytes,
                } => sizes.extend(log_steps(from_bytes, to_bytes, steps)),
            }
        }
        sizes.sort_unstable();
        sizes.dedup();
        if sizes.len() > MAX_SWEEP_SIZES {
            return Err(SizesError::TooMany {
                spec: self.to_string(),
                steps,
                count: sizes.len(),
                max: MAX_SWEEP_SIZES,
            });
        }
        Ok(sizes)
    }
}

/// `from × 2^(k / steps)` (rounded to whole bytes) for k = 0, 1, … while it stays at or
/// below `to`, then `to` itself; stops early past [`MAX_SWEEP_SIZES`] (which `expand`
/// then refuses).
fn log_steps(from_bytes: u64, to_bytes: u64, steps: u32) -> Vec<u64> {
    let mut sizes: Vec<u64> = Vec::new();
    // `from_bytes << whole` cannot overflow: from ≥ 1 and to ≤ 64 MiB, so the walk passes
    // `to` by the 27th doubling and stops.
    for k in 0u32.. {
        // Whole doublings by shifting keep powers of two exact; only the fraction of a
        // doubling goes through floating point.
        let whole = k / steps;
        let fraction = f64::from(k % steps) / f64::from(steps);
        let size = ((from_bytes << whole) as f64 * fraction.exp2()).round() as u64;
        if size > to_bytes {
            break;
        }
        // Small sizes round to the same byte count: count each size once.
        if sizes.last() != Some(&size) {
            sizes.push(size);
        }
        if sizes.len() > MAX_SWEEP_SIZES {
            break;
        }
    }
    sizes.push(to_bytes);
    sizes
}

impl std::fmt::Display for SizeSpec {
    /// The spec as it could be typed again: `64 KiB..64 MiB,84975,84976` (sizes that are
    /// not whole KiB stay in bytes, so 84,975 does not read as "83 KiB").
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let exact = |bytes: u64| {
            if bytes.is_multiple_of(1024) {
                format_size(bytes)
            } else {
                bytes.to_string()
            }
        };
        let items: Vec<String> = self
            .items
            .iter()
            .map(|item| match *item {
                SizeItem::Range {
                    from_bytes,
                    to_bytes,
                } => format!("{}..{}", exact(from_bytes), exact(to_bytes)),
                SizeItem::Size(bytes) => exact(bytes),
            })
            .collect();
        f.write_str(&items.join(","))
    }
}

/// A size for people, binary units, at most one decimal and none when it is whole:
/// `512 B`, `64 KiB`, `90.5 KiB`, `5.7 MiB`, `64 MiB`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let text = format!("{value:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("{text} {}", UNITS[unit])
}

/// Row labels for a sweep's sizes: [`format_size`], except where two sizes would read the
/// same (84,975 and 84,976 are both "83 KiB"): those are given in bytes, `84,975 B`.
pub fn size_labels(sizes: &[u64]) -> Vec<String> {
    let short: Vec<String> = sizes.iter().map(|&bytes| format_size(bytes)).collect();
    sizes
        .iter()
        .zip(&short)
        .map(|(&bytes, label)| {
            if short.iter().filter(|other| *other == label).count() > 1 {
                format!("{} B", crate::format::group_thousands(bytes))
            } else {
                label.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(spec: &str, steps: u32) -> Vec<u64> {
        parse_size_spec(spec).unwrap().expand(steps).unwrap()
    }

    #[test]
    fn the_default_range_is_21_sizes_from_end_to_end() {
        let sizes = expand("64KiB..64MiB", DEFAULT_STEPS_PER_DOUBLING);
        assert_eq!(sizes.len(), 21);
        assert_eq!(sizes[0], 64 << 10);
        assert_eq!(
            sizes[1],
            ((64u64 << 10) as f64 * 2f64.sqrt()).round() as u64
        );
        assert_eq!(sizes[2], 128 << 10);
        assert_eq!(*sizes.last().unwrap(), MAX_SIZE_BYTES);
        assert!(sizes.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn one_step_per_doubling_is_the_powers_of_two() {
        let sizes = expand("64KiB..16MiB", 1);
        let powers: Vec<u64> = (16..=24).map(|shift| 1u64 << shift).collect();
        assert_eq!(sizes, powers);
    }

    #[test]
    fn an_end_off_the_grid_is_still_measured() {
        let sizes = expand("1MiB..3MiB", 1);
        assert_eq!(sizes, vec![1 << 20, 2 << 20, 3 << 20]);
        assert_eq!(expand("85000..=85000", 4), vec![85_000]);
    }

    #[test]
    fn lists_are_sorted_and_deduplicated() {
        assert_eq!(
            expand("1MiB, 84976,64KiB,1048576", 2),
            vec![65_536, 84_976, 1 << 20]
        );
    }

    #[test]
    fn ranges_and_sizes_mix_in_one_list() {
        let spec = parse_size_spec("64KiB..256KiB, 84975,84976").unwrap();
        assert_eq!(spec.to_string(), "64 KiB..256 KiB,84975,84976");
        assert_eq!(
            spec.expand(1).unwrap(),
            vec![65_536, 84_975, 84_976, 131_072, 262_144]
        );
        assert_eq!(
            parse_size_spec("1MiB..2MiB,4MiB..8MiB")
                .unwrap()
                .expand(1)
                .unwrap(),
            vec![1 << 20, 2 << 20, 4 << 20, 8 << 20]
        );
    }

    #[test]
    fn tiny_ranges_round_to_distinct_whole_bytes() {
        let sizes = expand("1..8", 4);
        assert_eq!(sizes.first(), Some(&1));
        assert_eq!(sizes.last(), Some(&8));
        assert!(sizes.windows(2).all(|pair| pair[0] < pair[1]), "{sizes:?}");
    }

    #[test]
    fn bad_sizes_are_refused_quoting_the_input() {
        for (input, says) in [
            ("1..", "no last size"),
            ("..1MiB", "no first size"),
            ("0", "1 byte to 64 MiB"),
            ("100MiB", "\"100MiB\""),
            ("64KiB..100MiB", "--max-size"),
            ("8MiB..1MiB", "goes down"),
            ("64KiB,,1MiB", "empty item"),
            ("abc", "\"abc\""),
            ("", "empty"),
        ] {
            let err = parse_size_spec(input).unwrap_err();
            assert!(err.contains(says), "{input:?}: {err}");
            assert!(err.contains(&format!("\"{input}\"")), "{input:?}: {err}");
        }
    }

    #[test]
    fn too_many_sizes_are_refused_before_anything_runs() {
        let err = parse_size_spec("1..64MiB")
            .unwrap()
            .expand(16)
            .unwrap_err()
            .to_string();
        assert!(err.contains("at most 100"), "{err}");
        assert!(err.contains("1..64 MiB"), "{err}");
    }

    #[test]
    fn sizes_that_would_read_the_same_are_labelled_in_bytes() {
        assert_eq!(
            size_labels(&[65_536, 84_975, 84_976, 92_682]),
            ["64 KiB", "84,975 B", "84,976 B", "90.5 KiB"]
        );
    }

    #[test]
    fn sizes_are_named_for_people() {
        assert_eq!(format_size(512), "512 B");
        assert_eq!(format_size(64 << 10), "64 KiB");
        assert_eq!(format_size(92_682), "90.5 KiB");
        assert_eq!(format_size(5_931_642), "5.7 MiB");
        assert_eq!(format_size(64 << 20), "64 MiB");
    }
}
