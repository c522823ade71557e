//! GPT-2's tokenizer (Hugging Face `gpt2`, `openai-community/gpt2`), as data for [tinkex](https://docs.rs/tinkex): its
//! `bundled` feature compiles these files into the library, so the tokenizer loads with no
//! network and an empty cache. Use tinkex, not this crate, to tokenize.
//!
//! Source: GPT-2's original encoder.json + vocab.bpe as shipped in the `tiktoken-rs` 0.12.1 crate, saved by transformers 4.57.6 `GPT2TokenizerFast`. Licence: MIT (GPT-2 vocabulary, OpenAI).
//! `README.md` beside this file (and tinkex's `bundled/PROVENANCE.md`) says more.
#![no_std]

/// `tokenizer.json`, compressed with `zstd -19 --long=27`.
pub static TOKENIZER_JSON_ZST: &[u8] = include_bytes!("tokenizer.json.zst");

/// `tokenizer_config.json`, verbatim.
pub static TOKENIZER_CONFIG_JSON: &[u8] = include_bytes!("tokenizer_config.json");
