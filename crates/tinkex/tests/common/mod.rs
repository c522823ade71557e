//! Shared helpers of the integration tests: the parity oracle and fixture directories, read from
//! the compressed copies in the repository (never from the shared fixture set outside it).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::Deserialize;
use tinkex::cache::TokenizerCache;
use tinkex::{Config, Tokenizer};

/// The configuration of every library test, built without reading the environment: offline,
/// the bundled tokenizers on, no Hugging Face cache and no prepared-tokenizer store, so nothing
/// the developer has set (`HF_HUB_OFFLINE`, `TINKEX_NO_BUNDLED`, `HF_HOME`, …) changes a result
/// and nothing is written outside the tests' own temporary directories.
pub fn config() -> Config {
    Config::default()
        .with_offline(true)
        .with_bundled(true)
        .with_hub_cache(None)
        .with_prepared_cache(None)
}

/// One cache with [`config`] shared by the tests of a binary: what the process-wide functions
/// (`tinkex::tokenizer::get_or_load_tokenizer`, …) give, without their environment.
pub fn cache() -> &'static TokenizerCache {
    static CACHE: OnceLock<TokenizerCache> = OnceLock::new();
    CACHE.get_or_init(|| TokenizerCache::new(config()))
}

/// The tokenizer of a (bundled) model, from [`cache`].
pub fn tokenizer(model: &str) -> Arc<Tokenizer> {
    cache()
        .get_or_load(model)
        .unwrap_or_else(|e| panic!("{model}: {e}"))
}

/// `Tokenizer::from_path` with [`config`] rather than the environment's.
pub fn from_path(dir: impl AsRef<Path>) -> tinkex::Result<Tokenizer> {
    Tokenizer::from_path_with(dir, &config())
}

/// One oracle case (see tests/data/parity/PROVENANCE.md).
#[derive(Debug, Deserialize)]
pub struct Case {
    pub text: String,
    pub ids: Vec<u32>,
    pub ids_default: Vec<u32>,
    pub decoded: String,
    pub decoded_skip: String,
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn unzstd(path: &Path) -> Vec<u8> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    zstd::stream::decode_all(f).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every case of the oracle for `name` (gpt2, qwen3, …).
pub fn oracle(name: &str) -> Vec<Case> {
    let path = manifest_dir().join(format!("tests/data/parity/{name}.jsonl.zst"));
    let text = String::from_utf8(unzstd(&path)).expect("oracle is UTF-8");
    let mut lines = text.lines();
    let meta = lines.next().expect("oracle has a meta line");
    assert!(
        meta.starts_with("{\"meta\""),
        "first line of {name} is meta"
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: {e}: {l}")))
        .collect()
}

/// The lineup's fixture directory for `name`, materialised from the bundled compressed copy
/// into a temporary directory (kept alive by the returned guard).
pub fn fixture_dir(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    if name == "kimi_style" {
        let src = manifest_dir().join("tests/data/kimi_style");
        std::fs::write(
            dir.join("tiktoken.model"),
            unzstd(&src.join("tiktoken.model.zst")),
        )
        .unwrap();
        for f in ["tokenizer_config.json", "kimi_style.json"] {
            std::fs::copy(src.join(f), dir.join(f)).unwrap();
        }
    } else if name == "kimi_k2" || name == "kimi_k25" {
        // Kimi's bundled data crate holds the shared rank file once and each config apart.
        let src = manifest_dir().join("bundled/kimi");
        std::fs::write(
            dir.join("tiktoken.model"),
            unzstd(&src.join("tiktoken.model.zst")),
        )
        .unwrap();
        std::fs::copy(
            src.join(name).join("tokenizer_config.json"),
            dir.join("tokenizer_config.json"),
        )
        .unwrap();
    } else {
        // The lineup is bundled; the test-only tokenizers (tests/data/fixtures: never bundled,
        // see its PROVENANCE.md) have the same two files.
        let test_only = manifest_dir().join("tests/data/fixtures").join(name);
        let src = if test_only.is_dir() {
            test_only
        } else {
            manifest_dir().join("bundled").join(name)
        };
        std::fs::write(
            dir.join("tokenizer.json"),
            unzstd(&src.join("tokenizer.json.zst")),
        )
        .unwrap();
        std::fs::copy(
            src.join("tokenizer_config.json"),
            dir.join("tokenizer_config.json"),
        )
        .unwrap();
    }
    (tmp, dir)
}

/// Runs every oracle case of `name` through `tok`; returns the mismatches (empty = parity).
pub fn mismatches(name: &str, tok: &tinkex::Tokenizer) -> Vec<String> {
    let mut bad = Vec::new();
    let cases = oracle(name);
    assert!(
        cases.len() > 200,
        "{name}: oracle has only {} cases",
        cases.len()
    );
    for (i, c) in cases.iter().enumerate() {
        let short: String = c.text.chars().take(40).collect();
        match tok.encode(&c.text, false) {
            Ok(ids) if ids == c.ids => {}
            other => bad.push(format!(
                "{name}#{i} ids {short:?}: got {other:?}, want {:?}",
                c.ids
            )),
        }
        match tok.encode(&c.text, true) {
            Ok(ids) if ids == c.ids_default => {}
            other => bad.push(format!(
                "{name}#{i} ids_default {short:?}: got {other:?}, want {:?}",
                c.ids_default
            )),
        }
        match tok.decode(&c.ids_default, false) {
            Ok(t) if t == c.decoded => {}
            other => bad.push(format!(
                "{name}#{i} decoded {short:?}: got {other:?}, want {:?}",
                c.decoded
            )),
        }
        match tok.decode(&c.ids_default, true) {
            Ok(t) if t == c.decoded_skip => {}
            other => bad.push(format!(
                "{name}#{i} decoded_skip {short:?}: got {other:?}, want {:?}",
                c.decoded_skip
            )),
        }
    }
    bad
}
