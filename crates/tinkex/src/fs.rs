//! Filesystem helpers every layer may use (the bottom of the data path, with `error` and
//! `config`): one definition of "read a file" and "read a file that may be absent".

use std::path::Path;

use crate::error::{Error, Result};

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
}
