//! Inkling's tokenizer (`thinkingmachines/Inkling*`): o200k_base's ranks and 60 special tokens, as data for [tinkex](https://docs.rs/tinkex): its
//! `bundled` feature compiles these files into the library, so the tokenizer loads with no
//! network and an empty cache. Use tinkex, not this crate, to tokenize.
//!
//! Source: `o200k_base.tiktoken.zst`: `zstd -19 --long=27` of `o200k_base.tiktoken` from the `tiktoken-rs` 0.12.1 crate's assets; `special_tokens.json`: read from PyPI `tml-renderers` 0.2.1 through its public API. Licence: MIT (tiktoken-rs; o200k_base ranks, OpenAI) / Apache-2.0 (tml-renderers).
//! `README.md` beside this file (and tinkex's `bundled/PROVENANCE.md`) says more.
#![no_std]

/// `o200k_base.tiktoken` (`base64 rank` a line), compressed with `zstd -19 --long=27`.
pub static O200K_BASE_TIKTOKEN_ZST: &[u8] = include_bytes!("o200k_base.tiktoken.zst");

/// `special_tokens.json`: `{"bos_token", "eos_token", "special_tokens": {name: id}}`, verbatim.
pub static SPECIAL_TOKENS_JSON: &[u8] = include_bytes!("special_tokens.json");
