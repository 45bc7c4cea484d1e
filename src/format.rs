//! Numbers for people, shared by the progress line, the text summary, the charts and the
//! gallery so all say the same thing the same way: MB (10^6 bytes, like the article's
//! charts), binary byte sizes (`83.0 KiB`), latencies in µs or ms, slopes with their sign,
//! counts as `18.2K`.
//!
//! A leaf: pure functions of numbers, importing nothing from the crate. Parsing values with
//! units lives in the `units` module.

/// Bytes in the MB that summaries and charts use (10^6, like the article's charts).
pub const BYTES_PER_MB: f64 = 1_000_000.0;

/// 18234.0 → "18.2K", 950.0 → "950".
pub fn format_count(value: f64) -> String {
    if value >= 1_000_000.0 {
        format!("{:.1}M", value / 1_000_000.0)
    } else if value >= 1_000.0 {
        format!("{:.1}K", value / 1_000.0)
    } else {
        format!("{value:.0}")
    }
}

/// Three significant digits, thousands grouped above 1,000: `0.532`, `3.25`, `14.2`,
/// `128`, `84,976` — for costs per request, which span µs to bytes.
pub fn format_significant(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1_000.0 {
        let grouped = group_thousands(magnitude.round() as u64);
        if value < 0.0 {
            format!("-{grouped}")
        } else {
            grouped
        }
    } else if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// Formats a byte count for people: `84976 B`, `83.0 KiB`, `1.5 MiB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `0.8 MB`, `31.5 MB`, `457 MB`, `2,048 MB`: three significant digits up to 100 MB,
/// whole MB above.
pub fn format_mb(bytes: u64) -> String {
    let mb = bytes as f64 / BYTES_PER_MB;
    if mb < 10.0 {
        format!("{mb:.2} MB")
    } else if mb < 100.0 {
        format!("{mb:.1} MB")
    } else {
        format!("{} MB", group_thousands(mb.round() as u64))
    }
}

/// `+2.41 MB/min`, `-0.03 MB/min`, `+120 MB/min`.
pub fn format_slope(mb_per_min: f64) -> String {
    let magnitude = mb_per_min.abs();
    let digits = if magnitude < 10.0 {
        2
    } else if magnitude < 100.0 {
        1
    } else {
        0
    };
    // Avoid "-0.00": a slope that rounds to zero is shown without sign.
    let rounded = format!("{magnitude:.digits$}");
    let sign = if rounded.chars().all(|c| c == '0' || c == '.') {
        "±"
    } else if mb_per_min < 0.0 {
        "-"
    } else {
        "+"
    };
    format!("{sign}{rounded} MB/min")
}

/// `850 µs`, `1.21 ms`, `31.0 ms`, `1.50 s`.
pub fn format_latency_us(latency_us: u64) -> String {
    let us = latency_us as f64;
    if latency_us < 1_000 {
        format!("{latency_us} µs")
    } else if us < 10_000.0 {
        format!("{:.2} ms", us / 1_000.0)
    } else if us < 1_000_000.0 {
        format!("{:.1} ms", us / 1_000.0)
    } else {
        format!("{:.2} s", us / 1_000_000.0)
    }
}

/// `1234567` → `1,234,567`.
pub fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// `12.0 s`, `1m30s`, `1h05m`: a run length.
pub fn format_seconds(seconds: f64) -> String {
    if seconds < 60.0 {
        return format!("{seconds:.1} s");
    }
    let whole = seconds.round() as u64;
    if whole < 3600 {
        format!("{}m{:02}s", whole / 60, whole % 60)
    } else {
        format!("{}h{:02}m", whole / 3600, whole % 3600 / 60)
    }
}

/// `size=84976 n=3`, empty when there are none.
pub fn format_params(params: &crate::params::Params) -> String {
    params.display()
}

/// `timeout=3, connection refused=1` in descending count.
pub fn format_error_kinds<'a>(kinds: impl IntoIterator<Item = (&'a String, &'a u64)>) -> String {
    let mut kinds: Vec<(&String, &u64)> = kinds.into_iter().filter(|(_, n)| **n > 0).collect();
    kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    kinds
        .iter()
        .map(|(kind, count)| format!("{kind}={}", group_thousands(**count)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `2xx 12,345 · 4xx 3 (200: 12,345 · 404: 3)`: the classes that had responses, then
/// every exact code (keys of `codes` are the three-digit codes, as JSON holds them);
/// `no responses` when there were none. Files without codes show the classes alone.
pub fn format_status(classes: [u64; 4], codes: &std::collections::BTreeMap<String, u64>) -> String {
    let mut text = ["2xx", "3xx", "4xx", "5xx"]
        .iter()
        .zip(classes)
        .filter(|(_, count)| *count > 0)
        .map(|(class, count)| format!("{class} {}", group_thousands(count)))
        .collect::<Vec<_>>()
        .join(" · ");
    let codes: Vec<String> = codes
        .iter()
        .filter(|(_, count)| **count > 0)
        .map(|(code, count)| format!("{code}: {}", group_thousands(*count)))
        .collect();
    if !codes.is_empty() {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&format!("({})", codes.join(" · ")));
    }
    if text.is_empty() {
        "no responses".to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_classes_with_their_exact_codes() {
        let codes = [("200".to_string(), 12_345), ("404".to_string(), 3)]
            .into_iter()
            .collect();
        assert_eq!(
            format_status([12_345, 0, 3, 0], &codes),
            "2xx 12,345 · 4xx 3 (200: 12,345 · 404: 3)"
        );
        assert_eq!(format_status([5, 0, 0, 0], &Default::default()), "2xx 5");
        assert_eq!(format_status([0; 4], &Default::default()), "no responses");
    }

    #[test]
    fn numbers_for_people() {
        assert_eq!(format_mb(800_000), "0.80 MB");
        assert_eq!(format_mb(31_500_000), "31.5 MB");
        assert_eq!(format_mb(2_048_000_000), "2,048 MB");
        assert_eq!(format_slope(2.414), "+2.41 MB/min");
        assert_eq!(format_slope(-0.001), "±0.00 MB/min");
        assert_eq!(format_slope(-150.2), "-150 MB/min");
        assert_eq!(format_latency_us(850), "850 µs");
        assert_eq!(format_latency_us(1_210), "1.21 ms");
        assert_eq!(format_latency_us(31_000), "31.0 ms");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(format_seconds(90.0), "1m30s");
        assert_eq!(format_seconds(3900.0), "1h05m");
        assert_eq!(format_count(18_234.0), "18.2K");
        assert_eq!(format_count(950.0), "950");
        assert_eq!(format_significant(0.5321), "0.532");
        assert_eq!(format_significant(3.254), "3.25");
        assert_eq!(format_significant(14.24), "14.2");
        assert_eq!(format_significant(128.4), "128");
        assert_eq!(format_significant(84_976.2), "84,976");
    }

    #[test]
    fn bytes_are_formatted_for_people() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1_572_864), "1.5 MiB");
    }
}
