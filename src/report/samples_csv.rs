//! `samples.csv`: one row per sampling interval, written as the run goes and read back by
//! `compare` and re-rendering.
//!
//! The file is created with its header before load starts (so a results directory that is
//! not writable fails the run at once, not after ten minutes), and every row is flushed to
//! the OS as soon as it is taken: Ctrl-C, a crash of membench or of the server loses nothing
//! that was sampled. Counts are for the interval unless the name ends in `_total`; every
//! column carries its unit in its name. Optional values — what only a membench server can
//! report — are empty cells, never zero, when the server did not report them.
//!
//! The columns, their order and their meaning are [`Sample`]'s fields and their docs (one
//! declaration, see [`crate::series`]); [`SAMPLE_COLUMNS`] lists them.
//!
//! Files written before the modelled columns existed read back with them empty.
//!
//! **Per-series columns.** After the fixed columns come one column per series of
//! `--metrics` kept as it is (`--metrics-include` matches and the families always kept)
//! that was on the start check's page, named as [`super::metric_columns`] says
//! (`metric:myapp_cache{kind=%22a%22}`); an empty cell is a scrape without that series.
//! The header is on disk before load, so it cannot grow: a series that first appears
//! later in the run goes into the fixed `metrics_extra` cell (`name{labels}=value;…`)
//! instead, so its values are kept (nothing sampled is lost) without rewriting the file.
//! The reader takes both (and files from before the per-series columns, where every
//! series was in `metrics_extra`) back into [`Sample::metrics_extra`].
//!
//! The process columns (`cpu_percent` to `tcp_close_wait`) are empty where there was no
//! reading: rows taken after the server process had ended (`/proc/<pid>` gone), readings a
//! platform or source does not have. An empty cell reads back as absent, never as 0.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::metric_columns::{header, row, series_key};
pub use crate::series::SAMPLE_COLUMNS;
use crate::series::{Sample, SampleRow};

/// Appends one CSV row per sample as samples are taken, flushing each row.
///
/// When a row cannot be written (a full disk), the file is cut back to the last whole
/// row and no further row is appended; the caller keeps the samples in memory and, at
/// the end, [`SamplesCsvWriter::finish`] writes the whole series again through a
/// temporary file.
pub struct SamplesCsvWriter {
    path: PathBuf,
    /// `None` once a write failed.
    writer: Option<csv::Writer<Gate>>,
    /// Bytes of whole rows (header included) known to be in the file.
    whole_bytes: u64,
    /// The series keys that have their own column, in column order.
    series: Vec<String>,
}

impl SamplesCsvWriter {
    /// Creates (truncates) the file and writes the header — the fixed columns, then one
    /// per key of `series` (the series of `--metrics` known when the run starts; empty
    /// without) — and fails early, naming the path, if it cannot be written.
    pub fn create(path: &Path, series: &[String]) -> anyhow::Result<SamplesCsvWriter> {
        SamplesCsvWriter::create_with_room(path, series, None)
    }

    /// [`SamplesCsvWriter::create`] on a disk with `room` bytes left (`None`: as much as
    /// the disk has). Tests fill the disk with it.
    fn create_with_room(
        path: &Path,
        series: &[String],
        room: Option<u64>,
    ) -> anyhow::Result<SamplesCsvWriter> {
        let file = File::create(path)
            .with_context(|| format!("cannot create the samples file {}", path.display()))?;
        // The header is written by hand (not on the first row) so it is on disk before load.
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Gate {
                file,
                closed: std::cell::Cell::new(false),
                left: room,
            });
        writer
            .write_record(header(series))
            .and_then(|()| writer.flush().map_err(csv::Error::from))
            .with_context(|| format!("cannot write the samples file {}", path.display()))?;
        let whole_bytes = writer
            .get_ref()
            .file
            .metadata()
            .map_or(0, |meta| meta.len());
        Ok(SamplesCsvWriter {
            path: path.to_path_buf(),
            writer: Some(writer),
            whole_bytes,
            series: series.to_vec(),
        })
    }

    /// Writes one row and flushes it to the OS. The first failure is returned (to be
    /// said once); the file is then cut back to its whole rows and later calls do
    /// nothing.
    pub fn append(&mut self, sample: &Sample) -> anyhow::Result<()> {
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        let written = writer
            .serialize(row(sample, &self.series))
            .and_then(|()| writer.flush().map_err(csv::Error::from));
        match written {
            Ok(()) => {
                self.whole_bytes = writer
                    .get_ref()
                    .file
                    .metadata()
                    .map_or(0, |meta| meta.len());
                Ok(())
            }
            Err(err) => {
                // The writer's buffer may hold half a row: it is discarded, not written
                // when the writer is dropped.
                writer.get_ref().closed.set(true);
                // Cutting frees space rather than taking it, so it works on a full disk.
                let _ = writer.get_ref().file.set_len(self.whole_bytes);
                self.writer = None;
                Err(err).with_context(|| {
                    format!("cannot append to the samples file {}", self.path.display())
                })
            }
        }
    }

    /// Whether every row so far is in the file.
    pub fn is_whole(&self) -> bool {
        self.writer.is_some()
    }

    /// At the end of a run: when a row could not be appended, writes all `samples`
    /// again through a temporary file and renames it over the cut-back one. `Ok` when
    /// the file holds every sample.
    pub fn finish(self, samples: &[Sample]) -> anyhow::Result<()> {
        if self.writer.is_some() {
            return Ok(());
        }
        write_samples_with(&self.path, samples, &self.series, std::io::BufWriter::new).with_context(
            || {
                format!(
                    "{} holds only the samples written before the disk was full",
                    self.path.display()
                )
            },
        )
    }
}

/// The file under the CSV writer; once `closed`, bytes are dropped instead of written
/// (so a half row left in the CSV writer's buffer never reaches the file).
struct Gate {
    file: File,
    closed: std::cell::Cell<bool>,
    /// Bytes the file may still take before writes fail as on a full disk; `None` (no
    /// limit) except in tests.
    left: Option<u64>,
}

impl std::io::Write for Gate {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed.get() {
            return Ok(buf.len());
        }
        let Some(left) = self.left else {
            return self.file.write(buf);
        };
        if left == 0 {
            return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
        }
        let n = buf.len().min(left as usize);
        let written = self.file.write(&buf[..n])?;
        self.left = Some(left - written as u64);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed.get() {
            return Ok(());
        }
        self.file.flush()
    }
}

/// Writes the whole `samples.csv` through a temporary file whose handle `wrap` may wrap
/// (tests inject a failing writer there).
fn write_samples_with<W: std::io::Write>(
    path: &Path,
    samples: &[Sample],
    series: &[String],
    wrap: impl FnOnce(File) -> W,
) -> anyhow::Result<()> {
    super::atomic_file::write_file_with(path, wrap, |sink| {
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(sink);
        writer.write_record(header(series))?;
        for sample in samples {
            writer.serialize(row(sample, series))?;
        }
        writer.flush()?;
        Ok(())
    })
}

/// Reads a `samples.csv` back into samples, in file order. Columns are matched by name, so
/// a file with unknown columns reads; a missing optional column reads as empty; per-series
/// columns (`metric:…`) and the `metrics_extra` cell both land in
/// [`Sample::metrics_extra`].
pub fn read_samples(path: &Path) -> anyhow::Result<Vec<Sample>> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("cannot open the samples file {}", path.display()))?;
    let headers = reader
        .headers()
        .with_context(|| format!("cannot read the header of {}", path.display()))?
        .clone();
    let mut series = Vec::new();
    for (index, column) in headers.iter().enumerate() {
        if let Some(key) = series_key(column) {
            let key = key.map_err(|err| anyhow::anyhow!("{err} in {}", path.display()))?;
            series.push((index, key));
        }
    }
    let mut samples = Vec::new();
    for (index, record) in reader.records().enumerate() {
        // Line 1 is the header.
        let line = index + 2;
        let row = record
            .and_then(|record| {
                let row = record.deserialize::<SampleRow>(Some(&headers))?;
                Ok((row, record))
            })
            .with_context(|| {
            format!(
                "invalid row at line {line} of {}: expected the samples.csv columns written by membench run",
                path.display()
            )
            })?;
        let (row, record) = row;
        let mut sample = row
            .into_sample()
            .map_err(|err| anyhow::anyhow!("{err} at line {line} of {}", path.display()))?;
        for (column, key) in &series {
            let cell = record.get(*column).unwrap_or("").trim();
            if cell.is_empty() {
                continue;
            }
            let value = cell.parse().map_err(|_| {
                anyhow::anyhow!(
                    "{:?} in column {} at line {line} of {} is not a number",
                    cell,
                    &headers[*column],
                    path.display()
                )
            })?;
            sample.metrics_extra.insert(key.clone(), value);
        }
        samples.push(sample);
    }
    Ok(samples)
}

#[cfg(test)]
pub(super) mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::series::{Phase, format_errors_by_kind, parse_errors_by_kind};

    const PINNED: &str = "\
elapsed_s,phase,interval_s,requests,rps,status_2xx,status_3xx,status_4xx,status_5xx,errors,errors_by_kind,late_sends,latency_p50_us,latency_p90_us,latency_p99_us,latency_max_us,cpu_percent,rss_bytes,rss_anon_bytes,threads,open_fds,minor_faults,tcp_established,tcp_time_wait,tcp_close_wait,heap_live_bytes,allocs_per_s,alloc_bytes_per_s,large_allocs_per_s,allocator_resident_bytes,reclaim_events,leaked_bytes,cpu_us_per_request,allocs_per_request,alloc_bytes_per_request,minor_faults_per_request,measured_collections,measured_collections_by_kind,measured_heap_bytes,goroutines,measured_external_bytes,modelled_gen0,modelled_gen1,modelled_gen2,modelled_managed_heap_bytes,modelled_managed_heap_peak_bytes,scrape_errors,counter_resets,metrics_extra
2.000731,load,1.0004,18234,18226.70931627349,18230,1,2,1,4,connection refused=1;timeout=3,7,1210,2400,9100,31000,71.25,457113600,440000512,5,44,1200,33,2,0,31457280,36452.1,1550000000.0,18226.0,420000768,12,0,39.1,2.0,85000.5,0.066,5,old=1;young=4,50000000,12,,3,1,1,104857600,314572800,1,0,\"go_goroutines=8;myapp_cache{kind=\"\"a\"\"}=1.5\"
0.0,warmup,1e-6,0,,0,0,0,0,0,,0,,,,,,12288000,8192000,9,12,,0,0,0,,,,,,,,,,,,,,,,,,,,,,,,
3.5,final,0.5,0,,0,0,0,0,2,connection refused=2,0,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,
";

    #[test]
    fn a_full_disk_cuts_the_file_back_to_whole_rows_and_finish_writes_every_sample() {
        let samples: Vec<Sample> = (0..5)
            .map(|i| Sample {
                elapsed_s: f64::from(i),
                ..sample_with_everything()
            })
            .collect();
        // How many bytes the header and two rows take, from a disk with room.
        let dir = tempfile::tempdir().unwrap();
        let roomy = dir.path().join("roomy.csv");
        let mut writer = SamplesCsvWriter::create(&roomy, &[]).unwrap();
        writer.append(&samples[0]).unwrap();
        writer.append(&samples[1]).unwrap();
        let two_rows = std::fs::metadata(&roomy).unwrap().len();

        // The disk fills halfway through the third row.
        let path = dir.path().join("samples.csv");
        let mut writer =
            SamplesCsvWriter::create_with_room(&path, &[], Some(two_rows + 20)).unwrap();
        writer.append(&samples[0]).unwrap();
        writer.append(&samples[1]).unwrap();
        let err = writer.append(&samples[2]).unwrap_err();
        assert!(format!("{err:#}").contains("samples.csv"), "{err:#}");
        assert!(!writer.is_whole());
        // Later rows are not attempted (the error is said once).
        writer.append(&samples[3]).unwrap();
        writer.append(&samples[4]).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), two_rows);
        assert_eq!(read_samples(&path).unwrap(), samples[..2]);

        // Room again at the end: every sample kept in memory lands in the file.
        writer.finish(&samples).unwrap();
        assert_eq!(read_samples(&path).unwrap(), samples);
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["roomy.csv", "samples.csv"]);
    }

    #[test]
    fn a_rewrite_that_fails_leaves_the_whole_rows_and_no_temporary() {
        let samples = vec![sample_with_everything(); 4];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samples.csv");
        let mut writer = SamplesCsvWriter::create(&path, &[]).unwrap();
        writer.append(&samples[0]).unwrap();
        let err = write_samples_with(&path, &samples, &[], |file| {
            crate::report::atomic_file::FailAfter {
                inner: file,
                left: 300,
            }
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("samples.csv"), "{err:#}");
        assert_eq!(read_samples(&path).unwrap(), samples[..1]);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// A sample with every column filled (shared with the per-series column tests).
    pub(crate) fn sample_with_everything() -> Sample {
        Sample {
            elapsed_s: 2.000_731,
            phase: Some(Phase::Load),
            interval_s: 1.000_4,
            requests: 18_234,
            rps: Some(18_226.709_316_273_49),
            status_2xx: 18_230,
            status_3xx: 1,
            status_4xx: 2,
            status_5xx: 1,
            errors: 4,
            errors_by_kind: BTreeMap::from([
                ("connection refused".to_string(), 1),
                ("timeout".to_string(), 3),
            ]),
            late_sends: 7,
            latency_p50_us: Some(1_210),
            latency_p90_us: Some(2_400),
            latency_p99_us: Some(9_100),
            latency_max_us: Some(31_000),
            cpu_percent: Some(71.25),
            rss_bytes: Some(457_113_600),
            rss_anon_bytes: Some(440_000_512),
            threads: Some(5),
            open_fds: Some(44),
            minor_faults: Some(1_200),
            tcp_established: Some(33),
            tcp_time_wait: Some(2),
            tcp_close_wait: Some(0),
            heap_live_bytes: Some(31_457_280),
            allocs_per_s: Some(36_452.1),
            alloc_bytes_per_s: Some(1.55e9),
            large_allocs_per_s: Some(18_226.0),
            allocator_resident_bytes: Some(420_000_768),
            reclaim_events: Some(12),
            leaked_bytes: Some(0),
            cpu_us_per_request: Some(39.1),
            allocs_per_request: Some(2.0),
            alloc_bytes_per_request: Some(85_000.5),
            minor_faults_per_request: Some(0.066),
            measured_collections: Some(5),
            measured_collections_by_kind: BTreeMap::from([
                ("old".to_string(), 1),
                ("young".to_string(), 4),
            ]),
            measured_heap_bytes: Some(50_000_000),
            goroutines: Some(12),
            measured_external_bytes: None,
            modelled_gen0: Some(3),
            modelled_gen1: Some(1),
            modelled_gen2: Some(1),
            modelled_managed_heap_bytes: Some(104_857_600),
            modelled_managed_heap_peak_bytes: Some(314_572_800),
            scrape_errors: Some(1),
            counter_resets: Some(0),
            metrics_extra: BTreeMap::from([
                ("go_goroutines".to_string(), 8.0),
                ("myapp_cache{kind=\"a\"}".to_string(), 1.5),
            ]),
        }
    }

    /// What a foreign server's first reading gives: the process now (no CPU or faults: those
    /// are deltas from a previous reading), no heap or allocator data, no responses yet.
    fn sample_of_a_foreign_server() -> Sample {
        Sample {
            elapsed_s: 0.0,
            phase: Some(Phase::Warmup),
            interval_s: 1e-6,
            rss_bytes: Some(12_288_000),
            rss_anon_bytes: Some(8_192_000),
            threads: Some(9),
            open_fds: Some(12),
            tcp_established: Some(0),
            tcp_time_wait: Some(0),
            tcp_close_wait: Some(0),
            ..Sample::default()
        }
    }

    #[test]
    fn a_file_without_the_modelled_columns_reads_them_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samples.csv");
        let mut writer = SamplesCsvWriter::create(&path, &[]).unwrap();
        writer.append(&sample_with_everything()).unwrap();
        drop(writer);
        // Cut the modelled columns (and the metrics columns after them) off, as a file of
        // an older membench would be.
        let text = std::fs::read_to_string(&path).unwrap();
        let modelled = SAMPLE_COLUMNS.len()
            - SAMPLE_COLUMNS
                .iter()
                .position(|(name, _)| name.starts_with("modelled_"))
                .unwrap();
        let old: String = text
            .lines()
            .map(|line| {
                let cells: Vec<&str> = line.split(',').collect();
                cells[..cells.len() - modelled].join(",") + "\n"
            })
            .collect();
        std::fs::write(&path, old).unwrap();
        let read = read_samples(&path).unwrap();
        assert_eq!(read[0].modelled_gen2, None);
        assert_eq!(read[0].modelled_managed_heap_bytes, None);
        assert_eq!(read[0].leaked_bytes, Some(0));
    }

    /// The bytes of `samples.csv` for a full row, a foreign server's row and a row after the
    /// process ended, pinned: the file format does not change by accident.
    #[test]
    fn samples_csv_bytes_are_pinned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samples.csv");
        let mut writer = SamplesCsvWriter::create(&path, &[]).unwrap();
        writer.append(&sample_with_everything()).unwrap();
        writer.append(&sample_of_a_foreign_server()).unwrap();
        writer
            .append(&Sample {
                phase: Some(Phase::Final),
                elapsed_s: 3.5,
                interval_s: 0.5,
                errors: 2,
                errors_by_kind: BTreeMap::from([("connection refused".to_string(), 2)]),
                ..Sample::default()
            })
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, PINNED, "{text}");
    }

    #[test]
    fn header_has_the_documented_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samples.csv");
        SamplesCsvWriter::create(&path, &[]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let header: Vec<&str> = text.trim_end().split(',').collect();
        let documented: Vec<&str> = SAMPLE_COLUMNS.iter().map(|(name, _)| *name).collect();
        assert_eq!(header, documented);
        // Every column has its meaning (the field's doc).
        for (name, meaning) in SAMPLE_COLUMNS {
            assert!(!meaning.trim().is_empty(), "column {name} has no meaning");
        }
    }

    #[test]
    fn row_fields_are_in_column_order() {
        // Serialise one row with serde's own header and compare to the documented order.
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer
            .serialize(SampleRow::from_sample(&sample_with_everything()))
            .unwrap();
        let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        let header = text.lines().next().unwrap();
        let documented: Vec<&str> = SAMPLE_COLUMNS.iter().map(|(name, _)| *name).collect();
        assert_eq!(header, documented.join(","));
    }

    #[test]
    fn samples_round_trip_with_empty_optional_cells_and_error_kinds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samples.csv");
        let written = vec![
            sample_of_a_foreign_server(),
            sample_with_everything(),
            Sample {
                phase: Some(Phase::Load),
                elapsed_s: 3.0,
                ..sample_of_a_foreign_server()
            },
            // After the process ended: no process fields.
            Sample {
                phase: Some(Phase::Final),
                elapsed_s: 3.5,
                interval_s: 0.5,
                errors: 2,
                errors_by_kind: BTreeMap::from([("connection refused".to_string(), 2)]),
                ..Sample::default()
            },
        ];
        let mut writer = SamplesCsvWriter::create(&path, &[]).unwrap();
        for sample in &written {
            writer.append(sample).unwrap();
        }
        // Rows are on disk without dropping the writer: that is what survives a crash.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1 + written.len());
        let foreign_row = text.lines().nth(1).unwrap();
        assert!(
            foreign_row.ends_with(",,,,,,,,,,,,"),
            "optional cells are empty: {foreign_row}"
        );
        assert!(text.contains("connection refused=1;timeout=3"), "{text}");
        let gone_row = text.lines().last().unwrap();
        assert!(
            gone_row.contains(",connection refused=2,0,,,,,,,,,,,,,,"),
            "process cells are empty once the process is gone: {gone_row}"
        );

        let read = read_samples(&path).unwrap();
        assert_eq!(read, written);
        drop(writer);
    }

    #[test]
    fn create_fails_with_the_path_when_not_writable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-dir").join("samples.csv");
        let err = SamplesCsvWriter::create(&path, &[]).err().unwrap();
        assert!(
            format!("{err:#}").contains(&path.display().to_string()),
            "{err:#}"
        );
    }

    #[test]
    fn bad_rows_name_the_line_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samples.csv");
        let mut writer = SamplesCsvWriter::create(&path, &[]).unwrap();
        writer.append(&sample_with_everything()).unwrap();
        drop(writer);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&text.lines().nth(1).unwrap().replace("18234", "many"));
        text.push('\n');
        std::fs::write(&path, text).unwrap();
        let err = format!("{:#}", read_samples(&path).unwrap_err());
        assert!(
            err.contains("line 3") && err.contains("samples.csv"),
            "{err}"
        );
    }

    #[test]
    fn errors_by_kind_cells() {
        assert_eq!(format_errors_by_kind(&BTreeMap::new()), None);
        assert_eq!(parse_errors_by_kind("").unwrap(), BTreeMap::new());
        let parsed = parse_errors_by_kind("timeout=3;connection refused=1").unwrap();
        assert_eq!(parsed["timeout"], 3);
        assert_eq!(parsed["connection refused"], 1);
        let err = parse_errors_by_kind("timeout").unwrap_err();
        assert!(err.contains("\"timeout\""), "{err}");
    }
}
