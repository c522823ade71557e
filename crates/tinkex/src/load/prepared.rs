//! A versioned on-disk cache of prepared `tokenizer.json` documents, so that the second and later
//! processes on a machine skip [`super::hf::prepare`] (JSON parse, config edits, canonicalisation,
//! re-serialisation: about a quarter to a third of a first load) and go straight to the engine's
//! reader.
//!
//! One file per pair of file contents (keyed by their SHA-256, [`source_key`]): a header line
//! (JSON: format, versions, the key, the payload length, the [`PreparedMeta`]) followed by the
//! canonical document. Written atomically
//! (a temporary file in the same directory, then rename); on read the header must match this
//! build and the key exactly and the payload must have the recorded length, else the entry is
//! ignored, and a payload the engine rejects is deleted — either way the tokenizer is prepared
//! afresh and the entry rewritten.

use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::hf::PreparedMeta;

/// Bump when the prepared form or its key changes meaning.
const FORMAT_VERSION: u32 = 2;
/// The engine whose reader the payload is written for.
const ENGINE: &str = "tokenizers=1.0.0-rc.3";

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    tinkex: String,
    engine: String,
    key: String,
    json_len: usize,
    meta: PreparedMeta,
}

/// The on-disk store (a directory; created on first write).
#[derive(Debug, Clone)]
pub struct PreparedStore {
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
        PreparedStore {
            dir: dir.into().join(format!("prepared-v{FORMAT_VERSION}")),
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{:016x}.json", fnv1a(key)))
    }

    /// The prepared document for `key`, if a valid one is stored.
    pub fn get(&self, key: &str) -> Option<(PreparedMeta, String)> {
        let text = std::fs::read_to_string(self.path(key)).ok()?;
        let (header, payload) = text.split_once('\n')?;
        let header: Header = serde_json::from_str(header).ok()?;
        let valid = header.format == "tinkex-prepared"
            && header.version == FORMAT_VERSION
            && header.tinkex == env!("CARGO_PKG_VERSION")
            && header.engine == ENGINE
            && header.key == key
            && header.json_len == payload.len();
        valid.then(|| (header.meta, payload.to_owned()))
    }

    /// Forgets `key` (its payload was rejected by the engine).
    pub fn remove(&self, key: &str) {
        let _ = std::fs::remove_file(self.path(key));
    }

    /// Stores the prepared document for `key`, atomically. Failures are returned, not fatal:
    /// the cache only saves time.
    pub fn put(&self, key: &str, meta: &PreparedMeta, canonical: &str) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let header = Header {
            format: "tinkex-prepared".into(),
            version: FORMAT_VERSION,
            tinkex: env!("CARGO_PKG_VERSION").into(),
            engine: ENGINE.into(),
            key: key.into(),
            json_len: canonical.len(),
            meta: meta.clone(),
        };
        let header = serde_json::to_string(&header)?;
        let target = self.path(key);
        let tmp = self.dir.join(format!(
            ".{}.{}.tmp",
            target
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("entry"),
            std::process::id()
        ));
        let result = (|| {
            let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            f.write_all(header.as_bytes())?;
            f.write_all(b"\n")?;
            f.write_all(canonical.as_bytes())?;
            f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            std::fs::rename(&tmp, &target)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// The identity of a tokenizer's files for the store: the SHA-256 of their contents. Paths and
/// modification times are not enough: a file replaced in place by one of the same length with a
/// preserved or fixed mtime (`cp -p`, reproducible builds, Nix) would be served the old form, and
/// a wrong tokenizer is the one failure this library must not have. Hashing costs ~1-2% of a load
/// (SHA-NI where the CPU has it).
pub fn source_key(main: &[u8], config: Option<&[u8]>) -> String {
    use sha2::{Digest, Sha256};
    let hex = |bytes: &[u8]| -> String {
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    format!(
        "tokenizer.json:{}:{}|tokenizer_config.json:{}",
        main.len(),
        hex(main),
        config.map_or_else(|| "none".to_owned(), |c| format!("{}:{}", c.len(), hex(c)))
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
        store.put("k", &meta(), "{\"x\":1}").unwrap();
        assert_eq!(store.get("k"), Some((meta(), "{\"x\":1}".to_owned())));
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
}
