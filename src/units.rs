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

/// Parses a duration such as `30s`, `250ms`, `2m` or `1m30s`.
pub fn parse_duration(input: &str) -> Result<Duration, String> {
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
    fn durations_and_rates() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(
            parse_duration("0s")
                .unwrap_err()
                .contains("longer than zero")
        );
        assert!(parse_duration("ten").unwrap_err().contains("\"ten\""));
        assert_eq!(parse_rate("5k"), Ok(5000.0));
        assert!(parse_rate("-3").is_err());
    }
}
