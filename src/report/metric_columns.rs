//! The names of `samples.csv`'s per-series columns: one column for each series of
//! `--metrics` kept as it is (`--metrics-include` matches, `go_goroutines`,
//! `process_start_time_seconds`) that was on the start check's page.
//!
//! A column is named `metric:` followed by the series key (`name{label="value",…}`,
//! label values escaped as in the exposition format), with every `%`, `,`, `"` and
//! control character percent-encoded as `%XX` (its UTF-8 bytes). So
//! `myapp_cache{kind="a,b"}` is the column `metric:myapp_cache{kind=%22a%2Cb%22}`. The
//! name needs no CSV quoting (no comma, quote or line break), is the same for the same
//! series in every run, and decodes back to the key exactly. The `metric:` prefix keeps
//! it apart from [`crate::series::SAMPLE_COLUMNS`]: no fixed column has a `:`, so a
//! family named like one (`threads`) cannot take its place.

use std::collections::BTreeMap;

use crate::series::{SAMPLE_COLUMNS, Sample, SampleRow};

/// What every per-series column's name starts with.
pub(crate) const PREFIX: &str = "metric:";

/// The column of a series key.
pub(crate) fn column_name(key: &str) -> String {
    let mut name = String::with_capacity(PREFIX.len() + key.len());
    name.push_str(PREFIX);
    for c in key.chars() {
        if matches!(c, '%' | ',' | '"') || c.is_control() {
            let mut bytes = [0; 4];
            for byte in c.encode_utf8(&mut bytes).bytes() {
                name.push_str(&format!("%{byte:02X}"));
            }
        } else {
            name.push(c);
        }
    }
    name
}

/// The series key of a column, or `None` when the column is not a per-series one (no
/// `metric:` prefix). The error quotes a bad escape.
pub(crate) fn series_key(column: &str) -> Option<Result<String, String>> {
    let encoded = column.strip_prefix(PREFIX)?;
    Some(percent_decode(encoded).ok_or_else(|| {
        format!("column {column:?}: a '%' is not followed by two hex digits of UTF-8")
    }))
}

fn percent_decode(encoded: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut rest = encoded.as_bytes();
    while let Some((&byte, after)) = rest.split_first() {
        if byte == b'%' {
            let hex = std::str::from_utf8(after.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &after[2..];
        } else {
            bytes.push(byte);
            rest = after;
        }
    }
    String::from_utf8(bytes).ok()
}

/// The header: the fixed columns, then one per series key.
pub(crate) fn header(series: &[String]) -> Vec<String> {
    SAMPLE_COLUMNS
        .iter()
        .map(|(name, _)| name.to_string())
        .chain(series.iter().map(|key| column_name(key)))
        .collect()
}

/// One row: the fixed cells (`metrics_extra` holding only the series without a column of
/// their own), then the value of each series key, empty when this sample has none.
pub(crate) fn row(sample: &Sample, series: &[String]) -> (SampleRow, Vec<Option<f64>>) {
    let cells = series
        .iter()
        .map(|key| sample.metrics_extra.get(key).copied())
        .collect();
    if series.is_empty() || sample.metrics_extra.is_empty() {
        return (SampleRow::from_sample(sample), cells);
    }
    let late: BTreeMap<String, f64> = sample
        .metrics_extra
        .iter()
        .filter(|(key, _)| !series.contains(key))
        .map(|(key, value)| (key.clone(), *value))
        .collect();
    let fixed = Sample {
        metrics_extra: late,
        ..sample.clone()
    };
    (SampleRow::from_sample(&fixed), cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_csv_safe_and_decode_back_to_the_key() {
        for (key, column) in [
            ("go_goroutines", "metric:go_goroutines"),
            (
                "myapp_cache{kind=\"a,b\"}",
                "metric:myapp_cache{kind=%22a%2Cb%22}",
            ),
            (
                "m{a=\"x\",b=\"50%\\\"\\n\"}",
                "metric:m{a=%22x%22%2Cb=%2250%25\\%22\\n%22}",
            ),
            ("m{a=\"é\tz\"}", "metric:m{a=%22é%09z%22}"),
        ] {
            assert_eq!(column_name(key), column, "{key}");
            assert!(!column.contains([',', '"', '\n', '\r']), "{column}");
            assert_eq!(series_key(column), Some(Ok(key.to_string())));
        }
        assert_eq!(series_key("rss_bytes"), None);
        let err = series_key("metric:m%2").unwrap().unwrap_err();
        assert!(err.contains("\"metric:m%2\""), "{err}");
    }

    use std::collections::BTreeMap;

    use crate::report::samples_csv::tests::sample_with_everything;
    use crate::report::{SamplesCsvWriter, read_samples};
    use crate::series::Sample;

    /// Two per-series columns known at the start, and a series that appeared later (in
    /// the `metrics_extra` cell), pinned: the per-series columns come after every fixed
    /// column, which are as without them.
    #[test]
    fn per_series_columns_follow_the_fixed_ones_and_their_bytes_are_pinned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samples.csv");
        let series = [
            "go_goroutines".to_string(),
            "myapp_cache{kind=\"a,b\"}".to_string(),
        ];
        let mut writer = SamplesCsvWriter::create(&path, &series).unwrap();
        let full = Sample {
            metrics_extra: BTreeMap::from([
                ("go_goroutines".to_string(), 8.0),
                ("myapp_cache{kind=\"a,b\"}".to_string(), 1.5),
                ("myapp_late{q=\"x\"}".to_string(), 2.0),
            ]),
            ..sample_with_everything()
        };
        // A scrape without the cache series: its cell is empty, not 0.
        let partial = Sample {
            elapsed_s: 3.0,
            metrics_extra: BTreeMap::from([("go_goroutines".to_string(), 9.0)]),
            ..Sample::default()
        };
        writer.append(&full).unwrap();
        writer.append(&partial).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let fixed: Vec<&str> = crate::series::SAMPLE_COLUMNS
            .iter()
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(
            lines.next().unwrap(),
            format!(
                "{},metric:go_goroutines,metric:myapp_cache{{kind=%22a%2Cb%22}}",
                fixed.join(",")
            )
        );
        assert_eq!(
            lines.next().unwrap(),
            "2.000731,load,1.0004,18234,18226.70931627349,18230,1,2,1,4,connection refused=1;timeout=3,7,1210,2400,9100,31000,71.25,457113600,440000512,5,44,1200,33,2,0,31457280,36452.1,1550000000.0,18226.0,420000768,12,0,39.1,2.0,85000.5,0.066,5,old=1;young=4,50000000,12,,3,1,1,104857600,314572800,1,0,\"myapp_late{q=\"\"x\"\"}=2\",8.0,1.5"
        );
        assert_eq!(
            lines.next().unwrap(),
            "3.0,,0.0,0,,0,0,0,0,0,,0,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,9.0,"
        );
        assert_eq!(read_samples(&path).unwrap(), [full, partial]);
    }

    #[test]
    fn a_file_without_per_series_columns_reads_its_metrics_extra_cell() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samples.csv");
        let mut writer = SamplesCsvWriter::create(&path, &[]).unwrap();
        writer.append(&sample_with_everything()).unwrap();
        let read = read_samples(&path).unwrap();
        assert_eq!(read[0].metrics_extra["go_goroutines"], 8.0);
        assert_eq!(read[0].metrics_extra["myapp_cache{kind=\"a\"}"], 1.5);
    }
}
