//! Filesystem helpers every layer may use (the bottom of the data path, with `error` and
//! `config`): one definition of "read a file", "read a file that may be absent", "write a file
//! atomically" and "a digest as hex".

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, IoOp, Result};

/// The contents of `path`; a failure names the path.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// The contents of `path`, or `None` when it does not exist; any other failure is an error
/// naming the path (a file that exists but cannot be read is not silently skipped).
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// A fresh name for a temporary file beside `path`: `.{name}.{pid}-{n}.tmp`, unique per
/// process and call (two threads writing one target never share it), hidden, and recognisable
/// by its `.tmp` ending so a crashed writer's leftovers can be swept.
pub(crate) fn temp_sibling(path: &Path) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(
        ".{name}.{}-{}.tmp",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Renames the finished temporary file `tmp` over `path` (atomic on one file system); on
/// failure `tmp` is removed and `path` is untouched.
pub(crate) fn persist(tmp: &Path, path: &Path) -> Result<()> {
    std::fs::rename(tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        Error::io_op(IoOp::Rename, path, e)
    })
}

/// Writes `path` atomically: `write` fills a temporary sibling ([`temp_sibling`]), which is
/// synced to disk and renamed over `path` ([`persist`]). Readers see the old file or the whole
/// new one, never a part; on any failure the temporary file is removed.
pub(crate) fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    write_atomic_with(path, true, write)
}

/// [`write_atomic`] without the sync to disk, for files that are validated whenever they are
/// read and merely rebuilt when a crash left them damaged (the prepared store): the rename still
/// makes them appear whole or not at all to other processes, and a first process does not wait
/// on the disk.
pub(crate) fn write_atomic_unsynced(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    write_atomic_with(path, false, write)
}

fn write_atomic_with(
    path: &Path,
    sync: bool,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = temp_sibling(path);
    let written = (|| {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        write(&mut f)?;
        let f = f.into_inner().map_err(|e| e.into_error())?;
        if sync {
            f.sync_all()?;
        }
        Ok(())
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io_op(IoOp::Write, &tmp, e));
    }
    persist(&tmp, path)
}

/// `bytes` (a digest) as lowercase hex, the form sha256/sha1 names take on disk and in etags.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_is_none_present_is_contents_unreadable_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        assert!(read_optional(&f).unwrap().is_none());
        assert!(read(&f).is_err());
        std::fs::write(&f, b"x").unwrap();
        assert_eq!(read_optional(&f).unwrap().as_deref(), Some(&b"x"[..]));
        assert_eq!(read(&f).unwrap(), b"x");
        // A directory exists but cannot be read as a file: an error, not "absent".
        assert!(read_optional(dir.path()).is_err());
    }

    #[test]
    fn write_atomic_replaces_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        write_atomic(&f, |w| w.write_all(b"one")).unwrap();
        write_atomic(&f, |w| w.write_all(b"two")).unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"two");
        // A writer that fails leaves the old file and no temporary behind.
        let e = write_atomic(&f, |w| {
            w.write_all(b"par")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Io {
                    op: IoOp::Write,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(std::fs::read(&f).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["f"]);
        // A target in a missing directory: the error names the operation.
        let e = write_atomic(&dir.path().join("no/f"), |w| w.write_all(b"x")).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Io {
                    op: IoOp::Write,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn temp_siblings_are_unique_hidden_and_end_in_tmp() {
        let a = temp_sibling(Path::new("/d/entry.json"));
        let b = temp_sibling(Path::new("/d/entry.json"));
        assert_ne!(a, b);
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(".entry.json.") && name.ends_with(".tmp"),
            "{name}"
        );
        assert_eq!(a.parent(), Some(Path::new("/d")));
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
    }
}
