//! Values with units on the command line and in URLs: byte sizes, durations, rates.
//! Every error quotes the input and names the expected form, so a user can fix the flag
//! without reading the source.

use std::time::Duration;

/// The largest `size` a pattern endpoint accepts by default (the server's `--max-size`), and
/// so the largest a run or sweep asks for: 64 MiB.
pub const MAX_SIZE_BYTES: u64 = 64 << 20;

/// Parses a byte size: a plain number of bytes (`84976`) or a number with a unit
/// (`64KiB`, `1MiB`, `100k`). Units are binary: `k`, `KB` and `KiB` all mean 1024 bytes.
pub fn parse_byte_size(input: &str) -> Result<u64, String> {
    let trimmed = input.trim();
    if trimmed.starts_with('-') {
        return Err(format!(
            "invalid size \"{input}\": a size cannot be negative; expected bytes such as 84976, 100k or 1MiB"
        ));
    }
    parse_size::Config::new()
        .with_binary()
        .parse_size(trimmed)
        .map_err(|err| {
            format!("invalid size \"{input}\": {err}; expected bytes such as 84976, 100k or 1MiB")
        })
}

/// A size of one request's `size` parameter (`--size` of `run` and `compare`): a
/// [`parse_byte_size`] within 1 byte ..= [`MAX_SIZE_BYTES`], the child server's
/// `--max-size`. Checked while parsing, so the message quotes what was typed.
pub fn parse_request_size(input: &str) -> Result<u64, String> {
    let size = parse_byte_size(input)?;
    if !(1..=MAX_SIZE_BYTES).contains(&size) {
        // In MiB by hand: `format` reads `params`, which reads this module.
        return Err(format!(
            "invalid size \"{input}\" ({size} bytes): the server accepts 1 byte to {:.1} MiB \
             (its --max-size)",
            MAX_SIZE_BYTES as f64 / f64::from(1u32 << 20)
        ));
    }
    Ok(size)
}

/// A count that must be at least 1 (`--connections`, `--threads`, `--requests`), with the
/// same message on every command.
pub fn parse_count(input: &str) -> Result<u64, String> {
    match input.trim().parse::<u64>() {
        Ok(0) => Err(format!(
            "invalid count \"{input}\": it must be at least 1, e.g. 1, 8 or 32"
        )),
        Ok(count) => Ok(count),
        Err(_) if input.trim().starts_with('-') => Err(format!(
            "invalid count \"{input}\": a count cannot be negative; expected a whole number \
             of at least 1, e.g. 8 or 32"
        )),
        Err(_) => Err(format!(
            "invalid count \"{input}\": expected a whole number of at least 1, e.g. 8 or 32"
        )),
    }
}

/// [`parse_count`] for counts held as `usize` (connections, threads).
pub fn parse_count_usize(input: &str) -> Result<usize, String> {
    let count = parse_count(input)?;
    usize::try_from(count).map_err(|_| format!("invalid count \"{input}\": too large"))
}

/// Parses a duration such as `30s`, `250ms`, `2m` or `1m30s`.
pub fn parse_duration(input: &str) -> Result<Duration, String> {
    if input.trim().starts_with('-') {
        return Err(format!(
            "invalid duration \"{input}\": a duration cannot be negative; expected a number \
             with a unit such as 250ms, 30s or 2m"
        ));
    }
    let duration = humantime::parse_duration(input.trim()).map_err(|err| {
        format!("invalid duration \"{input}\": {err}; expected a number with a unit such as 250ms, 30s or 2m")
    })?;
    if duration.is_zero() {
        return Err(format!(
            "invalid duration \"{input}\": it must be longer than zero, e.g. 250ms or 30s"
        ));
    }
    Ok(duration)
}

/// Parses a request rate in requests per second: `5000`, `5k`, `2.5k`.
pub fn parse_rate(input: &str) -> Result<f64, String> {
    let trimmed = input.trim();
    let (number, factor) = match trimmed.strip_suffix(['k', 'K']) {
        Some(number) => (number, 1_000.0),
        None => (trimmed, 1.0),
    };
    match number.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate * factor),
        _ => Err(format!(
            "invalid rate \"{input}\": expected requests per second greater than zero, such as 500, 5000 or 5k"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_accept_plain_bytes_and_units() {
        assert_eq!(parse_byte_size("84976"), Ok(84_976));
        assert_eq!(parse_byte_size("64KiB"), Ok(65_536));
        assert_eq!(parse_byte_size("1MiB"), Ok(1_048_576));
        assert_eq!(parse_byte_size("100k"), Ok(102_400));
    }

    #[test]
    fn bad_sizes_quote_the_input() {
        let err = parse_byte_size("-1").unwrap_err();
        assert!(err.contains("\"-1\"") && err.contains("negative"), "{err}");
        let err = parse_byte_size("abc").unwrap_err();
        assert!(err.contains("\"abc\""), "{err}");
    }

    #[test]
    fn counts_and_request_sizes_are_range_checked_quoting_the_input() {
        assert_eq!(parse_count("32"), Ok(32));
        for bad in ["0", "-1", "many"] {
            let err = parse_count(bad).unwrap_err();
            assert!(err.contains(&format!("\"{bad}\"")), "{err}");
        }
        assert_eq!(parse_request_size("64MiB"), Ok(MAX_SIZE_BYTES));
        let err = parse_request_size("100GiB").unwrap_err();
        assert!(
            err.contains("\"100GiB\"") && err.contains("64.0 MiB"),
            "{err}"
        );
        assert!(parse_request_size("0").is_err());
    }

    #[test]
    fn durations_and_rates() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(
            parse_duration("0s")
                .unwrap_err()
                .contains("longer than zero")
        );
        assert!(parse_duration("ten").unwrap_err().contains("\"ten\""));
        let err = parse_duration("-1").unwrap_err();
        assert!(
            err.contains("\"-1\"") && err.contains("cannot be negative"),
            "{err}"
        );
        assert_eq!(parse_rate("5k"), Ok(5000.0));
        assert!(parse_rate("-3").is_err());
    }
}
