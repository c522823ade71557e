//! Reading input (stdin, files, JSON Lines) and writing results to stdout.

use std::fs;
use std::io::{self, BufRead, BufWriter, Read, Write};
use std::path::Path;

use anyhow::Result;

use crate::report::{fail, StdoutError};

const UTF8_HINT: &str = "tinkex reads text as UTF-8; convert the input first (e.g. with iconv)";

/// Buffered stdout; every write error becomes a [`StdoutError`].
pub struct Output {
    inner: BufWriter<io::StdoutLock<'static>>,
    scratch: Vec<u8>,
}

fn out_err(e: io::Error) -> anyhow::Error {
    anyhow::Error::new(StdoutError(e))
}

impl Output {
    /// Locks stdout.
    pub fn stdout() -> Self {
        Output {
            inner: BufWriter::with_capacity(1 << 16, io::stdout().lock()),
            scratch: Vec::new(),
        }
    }

    /// Writes `bytes` as they are.
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.inner.write_all(bytes).map_err(out_err)
    }

    /// Writes `ids` as a compact JSON array, `[1,2,3]`.
    pub fn ids(&mut self, ids: &[u32]) -> Result<()> {
        self.scratch.clear();
        write_ids(&mut self.scratch, ids);
        self.inner.write_all(&self.scratch).map_err(out_err)
    }

    /// Writes one JSON Lines record `{"ids":[...]}` and a newline.
    pub fn ids_line(&mut self, ids: &[u32]) -> Result<()> {
        self.scratch.clear();
        self.scratch.extend_from_slice(b"{\"ids\":");
        write_ids(&mut self.scratch, ids);
        self.scratch.extend_from_slice(b"}\n");
        self.inner.write_all(&self.scratch).map_err(out_err)
    }

    /// Writes one JSON Lines record `{"text":"..."}` and a newline.
    pub fn text_line(&mut self, text: &str) -> Result<()> {
        self.scratch.clear();
        self.scratch.extend_from_slice(b"{\"text\":");
        // Serialising a &str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.scratch, text);
        self.scratch.extend_from_slice(b"}\n");
        self.inner.write_all(&self.scratch).map_err(out_err)
    }

    /// Writes one JSON Lines record `{"pieces":["...",...]}` and a newline.
    pub fn pieces_line(&mut self, pieces: &[String]) -> Result<()> {
        self.scratch.clear();
        self.scratch.extend_from_slice(b"{\"pieces\":");
        // Serialising strings into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.scratch, pieces);
        self.scratch.extend_from_slice(b"}\n");
        self.inner.write_all(&self.scratch).map_err(out_err)
    }

    /// Flushes what is buffered.
    pub fn flush(&mut self) -> Result<()> {
        self.inner.flush().map_err(out_err)
    }
}

fn write_ids(buf: &mut Vec<u8>, ids: &[u32]) {
    buf.push(b'[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        // Writing into a Vec cannot fail.
        let _ = write!(buf, "{id}");
    }
    buf.push(b']');
}

fn utf8(bytes: Vec<u8>, what: &str) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        fail(
            format!(
                "{what} is not valid UTF-8 (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
            Some(UTF8_HINT),
        )
    })
}

/// All of stdin, which must be UTF-8.
pub fn read_stdin() -> Result<String> {
    let mut bytes = Vec::new();
    io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read stdin: {e}"), None))?;
    utf8(bytes, "stdin")
}

/// Stdin as it arrives, split into words at whitespace and commas: `f` gets each complete word
/// (one followed by a separator, or the last one at the end of input).
pub fn stdin_words(mut f: impl FnMut(&str) -> Result<()>) -> Result<()> {
    let mut stdin = io::stdin().lock();
    let mut buf = [0u8; 1 << 14];
    let mut word: Vec<u8> = Vec::new();
    let mut emit = |word: &mut Vec<u8>| -> Result<()> {
        if word.is_empty() {
            return Ok(());
        }
        let w = std::str::from_utf8(word)
            .map_err(|_| fail("stdin is not valid UTF-8".to_owned(), Some(UTF8_HINT)))?;
        f(w)?;
        word.clear();
        Ok(())
    };
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(fail(format!("cannot read stdin: {e}"), None)),
        };
        for &b in &buf[..n] {
            if b.is_ascii_whitespace() || b == b',' {
                emit(&mut word)?;
            } else {
                word.push(b);
            }
        }
    }
    emit(&mut word)
}

/// All of `path` (stdin for `-`), which must be UTF-8.
pub fn read_file(path: &Path) -> Result<String> {
    if path == Path::new("-") {
        return read_stdin();
    }
    let bytes =
        fs::read(path).map_err(|e| fail(format!("cannot read {}: {e}", path.display()), None))?;
    utf8(bytes, &path.display().to_string())
}

/// Stdin as JSON Lines: numbered lines without their line terminator.
pub struct Lines<R> {
    reader: R,
    number: usize,
    buf: Vec<u8>,
}

impl<R: BufRead> Lines<R> {
    /// Lines of `reader`.
    pub fn new(reader: R) -> Self {
        Lines {
            reader,
            number: 0,
            buf: Vec::new(),
        }
    }

    /// The next line as `(line number, text)`, or `None` at the end. A line that is not UTF-8
    /// is an error naming it. A final line without a newline counts; nothing after the last
    /// newline does not.
    pub fn next_line(&mut self) -> Result<Option<(usize, String)>> {
        self.buf.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| fail(format!("cannot read stdin: {e}"), None))?;
        if n == 0 {
            return Ok(None);
        }
        self.number += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
        }
        let line = std::mem::take(&mut self.buf);
        match String::from_utf8(line) {
            Ok(s) => Ok(Some((self.number, s))),
            Err(e) => Err(fail(
                format!(
                    "line {}: not valid UTF-8 (invalid byte at column {})",
                    self.number,
                    e.utf8_error().valid_up_to() + 1
                ),
                Some(UTF8_HINT),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_format() {
        let mut v = Vec::new();
        write_ids(&mut v, &[]);
        assert_eq!(v, b"[]");
        v.clear();
        write_ids(&mut v, &[1, 22, 333]);
        assert_eq!(v, b"[1,22,333]");
    }

    #[test]
    fn lines_strip_terminators_and_number() {
        let mut l = Lines::new(&b"a\r\nb\n\nc"[..]);
        assert_eq!(l.next_line().unwrap(), Some((1, "a".into())));
        assert_eq!(l.next_line().unwrap(), Some((2, "b".into())));
        assert_eq!(l.next_line().unwrap(), Some((3, "".into())));
        assert_eq!(l.next_line().unwrap(), Some((4, "c".into())));
        assert_eq!(l.next_line().unwrap(), None);
        let mut l = Lines::new(&b"ok\n\xff\n"[..]);
        assert!(l.next_line().unwrap().is_some());
        let e = l.next_line().unwrap_err().to_string();
        assert!(e.starts_with("line 2: not valid UTF-8"), "{e}");
    }
}
