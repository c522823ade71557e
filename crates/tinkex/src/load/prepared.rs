//! A versioned on-disk cache of prepared `tokenizer.json` documents, so that the second and later
//! processes on a machine skip [`super::hf::prepare`] (JSON parse, config edits, canonicalisation,
//! re-serialisation: about a quarter to a third of a first load) and go straight to the engine's
//! reader.
//!
//! One file per tokenizer ([`source_key`]: the files' lengths and sampled contents): a header
//! line (JSON: format, versions, the key, the SHA-256 of the files' contents, the payload length,
//! the [`PreparedMeta`]) followed by the canonical document. Written atomically (a temporary file
//! in the same directory, then rename); the directories of older store formats, entries beyond the
//! 32 most recently used and temporary files abandoned for an hour are removed then.
//! On read the header must match this build and the key, and the payload must have the recorded
//! length, else the entry is ignored; the loader then builds the engine from the payload while it
//! hashes the files on another thread, and uses the result only if the hashes match
//! ([`content_digest`]) — a file replaced in place by one of the same length, even with its mtime
//! kept, is prepared afresh. A payload the engine rejects is deleted. Either way the entry is
//! rewritten.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::hf::PreparedMeta;
use crate::error::{Error, IoOp, Result};

/// Bump when the prepared form or its key changes meaning.
const FORMAT_VERSION: u32 = 5;
/// The engine whose reader the payload is written for.
const ENGINE: &str = "tokenizers=1.0.0-rc.3";

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    tinkex: String,
    engine: String,
    key: String,
    digest: String,
    json_len: usize,
    meta: PreparedMeta,
    /// The tokenizer has tinkex's own engine too, stored beside this entry (`.bpe`).
    fast: bool,
}

/// A stored entry that matches this build and its key.
pub struct Entry {
    /// What [`super::hf::build`] needs besides the document.
    pub meta: PreparedMeta,
    /// The [`content_digest`] of the files it was prepared from.
    pub digest: String,
    /// Whether the tokenizer also has tinkex's own engine (stored beside the entry).
    pub fast: bool,
    text: String,
    payload_start: usize,
}

impl Entry {
    /// The canonical document.
    pub fn payload(&self) -> &str {
        &self.text[self.payload_start..]
    }
}

/// Entries kept at most; the least recently used go first. Each is one tokenizer (3-28 MB for
/// the lineup), so the store stays under ~1 GB for any realistic set.
const MAX_ENTRIES: usize = 32;

/// A temporary file this old is left over from a writer that died.
const STALE_TMP: std::time::Duration = std::time::Duration::from_secs(3600);

/// The on-disk store (a directory; created on first write).
#[derive(Debug, Clone)]
pub struct PreparedStore {
    root: PathBuf,
    dir: PathBuf,
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl PreparedStore {
    /// A store rooted at `dir` (e.g. `~/.cache/tinkex`).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        let root = dir.into();
        PreparedStore {
            dir: root.join(format!("prepared-v{FORMAT_VERSION}")),
            root,
        }
    }

    /// Removes the directories of older store formats (best effort): nothing reads them again.
    fn remove_old_formats(&self) {
        for v in 1..FORMAT_VERSION {
            let _ = std::fs::remove_dir_all(self.root.join(format!("prepared-v{v}")));
        }
    }

    /// Keeps the [`MAX_ENTRIES`] most recently used entries and drops abandoned temporary files
    /// (best effort).
    fn evict(&self) {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let now = std::time::SystemTime::now();
        let mut entries: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
        for e in dir.flatten() {
            let (path, Ok(meta)) = (e.path(), e.metadata()) else {
                continue;
            };
            let modified = meta.modified().unwrap_or(now);
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".tmp") {
                if now
                    .duration_since(modified)
                    .is_ok_and(|age| age > STALE_TMP)
                {
                    let _ = std::fs::remove_file(&path);
                }
            } else if name.ends_with(".json") || name.ends_with(".bpe") {
                // An entry is its document and its engine: they go together.
                let stem = path.with_extension("");
                match entries.iter_mut().find(|(_, s)| *s == stem) {
                    Some(e) => e.0 = e.0.max(modified),
                    None => entries.push((modified, stem)),
                }
            }
        }
        if entries.len() > MAX_ENTRIES {
            entries.sort();
            for (_, stem) in &entries[..entries.len() - MAX_ENTRIES] {
                let _ = std::fs::remove_file(stem.with_extension("json"));
                let _ = std::fs::remove_file(stem.with_extension("bpe"));
            }
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{:016x}.json", fnv1a(key)))
    }

    /// The entry stored for `key`, if there is one this build can use.
    pub fn get(&self, key: &str) -> Option<Entry> {
        let text = std::fs::read_to_string(self.path(key)).ok()?;
        let newline = text.find('\n')?;
        let header: Header = serde_json::from_str(&text[..newline]).ok()?;
        let valid = header.format == "tinkex-prepared"
            && header.version == FORMAT_VERSION
            && header.tinkex == env!("CARGO_PKG_VERSION")
            && header.engine == ENGINE
            && header.key == key
            && header.json_len == text.len() - newline - 1;
        if !valid {
            return None;
        }
        // Recently used entries are the last to be evicted (best effort).
        let _ = std::fs::File::options()
            .write(true)
            .open(self.path(key))
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        Some(Entry {
            meta: header.meta,
            digest: header.digest,
            fast: header.fast,
            text,
            payload_start: newline + 1,
        })
    }

    /// Forgets `key` (its payload was rejected by the engine), and its stored engine.
    pub fn remove(&self, key: &str) {
        let _ = std::fs::remove_file(self.path(key));
        self.remove_engine(key);
    }

    fn engine_path(&self, key: &str) -> PathBuf {
        self.path(key).with_extension("bpe")
    }

    /// The stored form of tinkex's own engine for `key` ([`super::bpe::stored`]), unchecked.
    pub fn get_engine(&self, key: &str) -> Option<Vec<u8>> {
        let path = self.engine_path(key);
        let bytes = std::fs::read(&path).ok()?;
        let _ = std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        Some(bytes)
    }

    /// Stores the engine's form for `key`, atomically (best effort, like [`PreparedStore::put`]).
    pub fn put_engine(&self, key: &str, bytes: &[u8]) -> Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io_op(IoOp::Create, &self.dir, e))?;
        crate::fs::write_atomic_unsynced(&self.engine_path(key), |f| f.write_all(bytes))
    }

    /// Forgets the stored engine of `key` (damaged, or from other files).
    pub fn remove_engine(&self, key: &str) {
        let _ = std::fs::remove_file(self.engine_path(key));
    }

    /// Stores the prepared document for `key`, atomically. Failures are returned, not fatal:
    /// the cache only saves time. `fast`: the tokenizer has tinkex's own engine too.
    pub fn put(
        &self,
        key: &str,
        digest: &str,
        meta: &PreparedMeta,
        canonical: &str,
        fast: bool,
    ) -> Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io_op(IoOp::Create, &self.dir, e))?;
        let header = Header {
            format: "tinkex-prepared".into(),
            version: FORMAT_VERSION,
            tinkex: env!("CARGO_PKG_VERSION").into(),
            engine: ENGINE.into(),
            key: key.into(),
            digest: digest.into(),
            json_len: canonical.len(),
            meta: meta.clone(),
            fast,
        };
        let target = self.path(key);
        let header = serde_json::to_string(&header)
            .map_err(|e| Error::io_op(IoOp::Write, &target, std::io::Error::other(e)))?;
        let result = crate::fs::write_atomic_unsynced(&target, |f| {
            f.write_all(header.as_bytes())?;
            f.write_all(b"\n")?;
            f.write_all(canonical.as_bytes())
        });
        if result.is_ok() {
            self.remove_old_formats();
            self.evict();
        }
        result
    }
}

/// Where the store looks for a tokenizer's entry: the files' lengths and a SHA-256 of samples
/// of their contents (16 blocks of 4 KiB spread over a file; all of a small one). Cheap, and
/// independent of where the files are, so copies of a tokenizer (a temporary directory per job,
/// the same files under two paths) share one entry instead of piling up. Files that differ
/// only outside the samples share a slot; the full [`content_digest`], checked while the engine
/// is built, tells them apart.
pub fn source_key(main: &[u8], config: Option<&[u8]>) -> String {
    format!(
        "tokenizer.json:{}:{}|tokenizer_config.json:{}",
        main.len(),
        sampled_sha256(main),
        config.map_or_else(
            || "none".to_owned(),
            |c| format!("{}:{}", c.len(), sampled_sha256(c))
        )
    )
}

fn sampled_sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    const BLOCK: usize = 4096;
    const BLOCKS: usize = 16;
    let mut h = Sha256::new();
    if bytes.len() <= BLOCK * BLOCKS {
        h.update(bytes);
    } else {
        let last = bytes.len() - BLOCK;
        for i in 0..BLOCKS {
            let start = last / (BLOCKS - 1) * i;
            h.update(&bytes[start..start + BLOCK]);
        }
    }
    crate::fs::hex(&h.finalize())
}

/// What the files must be for an entry to be used: the SHA-256 of `tokenizer.json` and of
/// `tokenizer_config.json`. Paths, lengths and mtimes are not enough — a file replaced in place
/// by one of the same length with a kept or fixed mtime (`cp -p`, reproducible builds, Nix) would
/// be served the old form, and a wrong tokenizer is the one failure this library must not have.
pub fn content_digest(main: &[u8], config: Option<&[u8]>) -> String {
    use sha2::{Digest, Sha256};
    format!(
        "{}|{}",
        crate::fs::hex(&Sha256::digest(main)),
        config.map_or_else(|| "none".to_owned(), |c| crate::fs::hex(&Sha256::digest(c)))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> PreparedMeta {
        PreparedMeta {
            model_id_space: 3,
            model_holes: vec![1],
            clean_up_tokenization_spaces: true,
            split_special_tokens: false,
            named: [Some(("<s>".into(), 0)), None, None, None],
        }
    }

    #[test]
    fn roundtrip_and_validation() {
        let tmp = tempfile::tempdir().unwrap();
        let store = PreparedStore::new(tmp.path());
        assert!(store.get("k").is_none());
        store.put("k", "d", &meta(), "{\"x\":1}", false).unwrap();
        let entry = store.get("k").unwrap();
        assert_eq!(
            (&entry.meta, entry.digest.as_str(), entry.payload()),
            (&meta(), "d", "{\"x\":1}")
        );
        // Another key never sees it, even on a file-name collision.
        assert!(store.get("other").is_none());
        // A truncated payload is rejected.
        let path = store.path("k");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, &text[..text.len() - 1]).unwrap();
        assert!(store.get("k").is_none());
        // Garbage is rejected; no temporary files are left behind.
        std::fs::write(&path, b"\xff\xfe garbage").unwrap();
        assert!(store.get("k").is_none());
        let leftovers: Vec<_> = std::fs::read_dir(&store.dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        store.remove("k");
        assert!(!path.exists());
    }

    #[test]
    fn keeps_the_most_recently_used_entries() {
        let tmp = tempfile::tempdir().unwrap();
        let store = PreparedStore::new(tmp.path());
        let at = |secs: u64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        let age = |key: &str, secs: u64| {
            std::fs::File::options()
                .write(true)
                .open(store.path(key))
                .unwrap()
                .set_modified(at(secs))
                .unwrap();
        };
        for i in 0..MAX_ENTRIES {
            let key = format!("k{i}");
            store.put(&key, "d", &meta(), "{}", false).unwrap();
            age(&key, 1_000 + i as u64);
        }
        // k0 is the oldest, but used now; k1 becomes the least recently used.
        assert!(store.get("k0").is_some());
        // A leftover temporary file from a dead writer goes too; a fresh one stays.
        let (stale, fresh) = (store.dir.join(".x.1-0.tmp"), store.dir.join(".y.1-0.tmp"));
        std::fs::write(&stale, b"partial").unwrap();
        std::fs::write(&fresh, b"partial").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(at(5))
            .unwrap();
        store.put("new", "d", &meta(), "{}", false).unwrap();
        assert!(
            store.get("k1").is_none(),
            "the least recently used is evicted"
        );
        for key in ["k0", "k2", "new"] {
            assert!(store.get(key).is_some(), "{key}");
        }
        assert!(!stale.exists() && fresh.exists());
    }
}
