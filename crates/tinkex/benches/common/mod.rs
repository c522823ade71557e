//! Shared by the benches: the evaluation corpus (compressed copy in benches/data, see its
//! PROVENANCE.md), split at blank lines into ~4 KiB documents, and the lineup fixture dirs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub const CORPORA: [&str; 3] = ["english", "multilingual", "code"];
pub const LINEUP: [&str; 4] = ["qwen3", "llama3_1", "deepseek_v3", "gpt_oss"];
/// Today's families (issue #14): test-only fixtures (tests/data/fixtures), in their own table.
pub const NEXT: [&str; 2] = ["qwen3_5", "deepseek_v4_1"];

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn unzstd(path: &Path) -> Vec<u8> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    zstd::stream::decode_all(f).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The corpus split at blank lines into documents of at least `target` bytes (the last may be
/// shorter), at most `limit` bytes in all.
pub fn documents(corpus: &str, target: usize, limit: usize) -> Vec<String> {
    let raw = unzstd(&manifest_dir().join(format!("benches/data/{corpus}.txt.zst")));
    let text = String::from_utf8(raw).expect("corpus is UTF-8");
    let mut docs = Vec::new();
    let mut cur = String::new();
    let mut total = 0;
    for para in text.split("\n\n") {
        if !cur.is_empty() {
            cur.push_str("\n\n");
        }
        cur.push_str(para);
        if cur.len() >= target {
            total += cur.len();
            docs.push(std::mem::take(&mut cur));
            if total >= limit {
                return docs;
            }
        }
    }
    if !cur.is_empty() {
        docs.push(cur);
    }
    docs
}

/// The fixture directory of `name` (bundled, or test-only in tests/data/fixtures), decompressed
/// once into target/bench-fixtures/<name>.
pub fn fixture_dir(name: &str) -> PathBuf {
    let dir = manifest_dir()
        .join("../../target/bench-fixtures")
        .join(name);
    let tj = dir.join("tokenizer.json");
    if !tj.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let test_only = manifest_dir().join("tests/data/fixtures").join(name);
        let src = if test_only.is_dir() {
            test_only
        } else {
            manifest_dir().join("bundled").join(name)
        };
        let tmp = dir.join("tokenizer.json.tmp");
        std::fs::write(&tmp, unzstd(&src.join("tokenizer.json.zst"))).unwrap();
        std::fs::copy(
            src.join("tokenizer_config.json"),
            dir.join("tokenizer_config.json"),
        )
        .unwrap();
        std::fs::rename(tmp, tj).unwrap();
    }
    dir
}
