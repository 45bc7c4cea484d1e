//! Writing a results file whole or not at all: the content goes to a temporary name next
//! to the file (`chart.partial.png` for `chart.png`, so tools that pick a format by the
//! extension still see it) and is renamed over the file only once it is complete. On any
//! error — a full disk, a quota, a drawing that fails halfway — the temporary file is
//! removed, so a results directory never holds a cut file, and a file from an earlier
//! write stays as it was.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// The temporary name `path` is written under: `dir/stem.partial.ext`.
pub(crate) fn partial_path(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.partial.{}", ext.to_string_lossy()),
        None => format!("{stem}.partial"),
    };
    path.with_file_name(name)
}

/// Has `produce` write the file at the temporary name it is given, then renames it to
/// `path`. When `produce` or the rename fails, the temporary file is removed and the
/// error names `path`.
pub(crate) fn write_via_temp(
    path: &Path,
    produce: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let partial = partial_path(path);
    let result = produce(&partial).and_then(|()| {
        std::fs::rename(&partial, path)
            .with_context(|| format!("cannot rename {} to its name", partial.display()))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Writes `path` through a temporary file whose handle `wrap` may wrap (tests inject a
/// writer that fails after some bytes there); `body` writes the content.
pub(crate) fn write_file_with<W: Write>(
    path: &Path,
    wrap: impl FnOnce(File) -> W,
    body: impl FnOnce(&mut W) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    write_via_temp(path, |partial| {
        let file = File::create(partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
        let mut sink = wrap(file);
        body(&mut sink)?;
        sink.flush()
            .with_context(|| format!("cannot write {}", partial.display()))
    })
}

/// Writes `bytes` as the whole of `path`, whole or not at all.
pub(crate) fn write_bytes(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_file_with(path, BufWriter::new, |sink| {
        sink.write_all(bytes).context("the write failed")
    })
}

/// A writer that accepts `left` bytes, then fails as a full disk does (tests only).
#[cfg(test)]
pub(crate) struct FailAfter<W> {
    pub(crate) inner: W,
    pub(crate) left: usize,
}

#[cfg(test)]
impl<W: Write> Write for FailAfter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
        }
        let n = buf.len().min(self.left);
        let written = self.inner.write(&buf[..n])?;
        self.left -= written;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_temporary_name_keeps_the_extension_last() {
        assert_eq!(
            partial_path(Path::new("/r/chart.png")),
            Path::new("/r/chart.partial.png")
        );
        assert_eq!(
            partial_path(Path::new("/r/summary.json")),
            Path::new("/r/summary.partial.json")
        );
    }

    #[test]
    fn a_write_that_fails_midway_leaves_no_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.json");
        let err = write_file_with(
            &path,
            |file| FailAfter {
                inner: file,
                left: 10,
            },
            |sink| sink.write_all(&[b'x'; 100]).context("the write failed"),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("summary.json"), "{err:#}");
        assert!(format!("{err:#}").contains("No space left"), "{err:#}");
        assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
    }

    #[test]
    fn a_failed_rewrite_keeps_the_earlier_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chart.svg");
        write_bytes(&path, b"<svg>first</svg>").unwrap();
        write_file_with(
            &path,
            |file| FailAfter {
                inner: file,
                left: 3,
            },
            |sink| {
                sink.write_all(b"<svg>second</svg>")
                    .context("the write failed")
            },
        )
        .unwrap_err();
        assert_eq!(std::fs::read(&path).unwrap(), b"<svg>first</svg>");
        assert_eq!(names(dir.path()), ["chart.svg"]);
    }

    #[test]
    fn a_complete_write_lands_under_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.json");
        write_bytes(&path, b"{}\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{}\n");
        assert_eq!(names(dir.path()), ["summary.json"]);
    }
}
