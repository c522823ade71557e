//! Test fixtures shared by the engine's unit tests: the Kimi-style fixture engine (and a variant
//! config), o200k_base, tiny rank files.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use super::TiktokenEngine;
use crate::error::Error;

pub(super) fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kimi_style")
}

pub(super) fn read_zst(name: &str) -> Vec<u8> {
    crate::testing::read_zst(&data_dir().join(name))
}

pub(super) fn model_bytes() -> &'static [u8] {
    static MODEL: OnceLock<Vec<u8>> = OnceLock::new();
    MODEL.get_or_init(|| read_zst("tiktoken.model.zst"))
}

pub(super) fn config_bytes(name: &str) -> Vec<u8> {
    std::fs::read(data_dir().join(name)).expect("config")
}

pub(super) fn fixture_pattern() -> String {
    let v: Value = serde_json::from_slice(&config_bytes("kimi_style.json")).unwrap();
    v["pat_str"].as_str().unwrap().to_owned()
}

pub(super) fn engine() -> &'static TiktokenEngine {
    static ENGINE: OnceLock<TiktokenEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        TiktokenEngine::from_parts(
            model_bytes(),
            Some(&config_bytes("tokenizer_config.json")),
            Some(&fixture_pattern()),
            Some(256),
            Path::new("bundled:kimi_style"),
        )
        .expect("fixture loads")
    })
}

pub(super) fn variant_engine() -> &'static TiktokenEngine {
    static ENGINE: OnceLock<TiktokenEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        TiktokenEngine::from_parts(
            model_bytes(),
            Some(&config_bytes("tokenizer_config_variant.json")),
            None,
            None,
            Path::new("bundled:kimi_style_variant"),
        )
        .expect("variant loads")
    })
}

pub(super) fn jsonl(name: &str) -> Vec<Value> {
    let raw = read_zst(name);
    let text = std::str::from_utf8(&raw).expect("utf-8");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

pub(super) fn ids_of(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("ids array")
        .iter()
        .map(|x| x.as_u64().expect("id") as u32)
        .collect()
}

pub(super) fn tiny_model(tokens: &[&[u8]]) -> Vec<u8> {
    // All 256 single bytes (ranks 0..256), then `tokens`.
    let mut out = String::new();
    let mut rank = 0;
    let mut line = |bytes: &[u8], out: &mut String| {
        out.push_str(&encode_base64(bytes));
        out.push_str(&format!(" {rank}\n"));
        rank += 1;
    };
    for b in 0..=255u8 {
        line(&[b], &mut out);
    }
    for t in tokens {
        line(t, &mut out);
    }
    out.into_bytes()
}

pub(super) fn encode_base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

pub(super) fn parse_err(model: &[u8]) -> String {
    match TiktokenEngine::from_parts(model, None, None, None, Path::new("t")) {
        Err(Error::Parse { message, .. }) => message,
        Err(e) => panic!("expected a parse error, got {e}"),
        Ok(_) => panic!(
            "expected a parse error for {:?}",
            String::from_utf8_lossy(model)
        ),
    }
}

/// The bundled o200k_base ranks with o200k's pattern and two specials, as a reference.
pub(super) fn o200k_engine() -> &'static TiktokenEngine {
    static ENGINE: OnceLock<TiktokenEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("bundled/o200k_base_chat/o200k_base.tiktoken.zst");
        let zst = std::fs::read(&path).expect("bundled rank file");
        let ranks = zstd::stream::decode_all(&zst[..]).expect("zstd");
        TiktokenEngine::from_encoding(
            &ranks,
            crate::source::O200K_PATTERN,
            &[("<|endoftext|>", 199_999), ("<|unused|>", 199_998)],
            None,
            Some("<|endoftext|>"),
            Path::new("o200k"),
        )
        .expect("o200k loads")
    })
}

/// `count` random texts of up to 299 characters drawn from `alphabet` (xorshift from `seed`,
/// so every run draws the same texts).
pub(super) fn random_texts(seed: u64, alphabet: &str, count: usize) -> Vec<String> {
    let mut next = crate::testing::xorshift(seed);
    let alphabet: Vec<char> = alphabet.chars().collect();
    (0..count)
        .map(|_| {
            let len = (next() % 300) as usize;
            (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect()
        })
        .collect()
}
