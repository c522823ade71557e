//! tinkex: the tokenizer layer of a Rust client for the Tinker fine-tuning API.
//!
//! Given a Tinker model — a base-model name like `Qwen/Qwen3-8B`, a training model, a sampler —
//! tinkex finds the tokenizer that model really uses, loads it once per process, shares it
//! across threads, and turns text into exactly the token ids Python's `transformers` /
//! `tiktoken` produce, and back.
//!
//! # Quick start
//!
//! The Tinker lineup is compiled in (default feature `bundled`), so this runs with no network:
//!
//! ```
//! # let _ = tinkex::cache::TokenizerCache::set_global(tinkex::Config::default().with_offline(true));
//! use tinkex::tokenizer::{self, EncodeOptions};
//! use tinkex::types::ModelInput;
//!
//! let tok = tokenizer::get_or_load_tokenizer("meta-llama/Llama-3.1-8B")?; // Arc<Tokenizer>, cached
//! let ids = tok.encode("Hello world", true)?;
//! assert_eq!(ids, [128000, 9906, 1917]);
//! assert_eq!(tok.decode(&ids, true)?, "Hello world");
//!
//! let prompt = ModelInput::from_text("Hello", "Qwen/Qwen3-8B")?; // Tinker's JSON shape
//! assert_eq!(prompt.to_ints()?, [9707]);
//! let n = tokenizer::encode("Hi", "openai/gpt-oss-120b", EncodeOptions::default())?.len();
//! assert!(n > 0);
//!
//! let mut stream = tok.decode_stream(false); // sampled ids → text, as they arrive
//! let mut text = String::new();
//! for id in ids {
//!     if let Some(piece) = stream.step(id)? {
//!         text.push_str(&piece);
//!     }
//! }
//! text.push_str(&stream.flush()?);
//! assert_eq!(text, "<|begin_of_text|>Hello world");
//! # Ok::<(), tinkex::Error>(())
//! ```
//! # let _ = tinkex::cache::TokenizerCache::set_global(tinkex::Config::default().with_offline(true));
//!
//! # The pieces, in the order data flows
//!
//! - [`resolve`] — the Tinker/cookbook rules from a model name (and the server's tokenizer id)
//!   to a tokenizer repo id, revision and format: a pure function over a table.
//! - Locating the files (internal): the bundled lineup, a local directory, the *Hugging Face
//!   cache* (shared with Python), or a download by [`hub`].
//! - [`hub`] — [`hub::fetch`] downloads a tokenizer's files into the Hugging Face cache in
//!   huggingface_hub's layout; [`hub::list`] and [`hub::remove`] manage it; [`hub::HubEvent`]s
//!   report progress to an optional [`hub::Observer`].
//! - Loading (internal): `tokenizer.json` + `tokenizer_config.json` applied as transformers
//!   does, or Kimi's `tiktoken.model`. The lineup's byte-level BPE tokenizers are encoded from
//!   the first call by tinkex's own engine, whose tables load in milliseconds; Hugging Face's
//!   engine, faster on long inputs, is built behind it once a tokenizer has encoded
//!   [`Config::hf_engine_after`] bytes, and takes over (the same ids either way;
//!   [`Tokenizer::warm_up`] builds it at once). The prepared form — the document, and the own
//!   engine's tables — is kept in the *prepared store*, an on-disk cache of tinkex's own
//!   ([`Config::prepared_cache`]), so a later process loads a lineup tokenizer in tens of
//!   milliseconds.
//! - [`Tokenizer`] — the handle: encode, decode, batches, [`stream`]ing decode, special tokens.
//!   It holds no global state; [`Tokenizer::from_path`] reads only the path it is given.
//! - [`cache`] — the in-memory *registry*, [`cache::TokenizerCache`]: one shared
//!   `Arc<Tokenizer>` per tokenizer, loaded once even when many threads ask at once.
//! - The convenience functions in [`tokenizer`] ([`tokenizer::get_or_load_tokenizer`],
//!   [`tokenizer::encode`], …) use one process-wide registry configured from the environment;
//!   build your own [`cache::TokenizerCache`] with an explicit [`Config`] instead when you need
//!   to.
//! - [`types`] — Tinker's `ModelInput`; [`chat`] — tinker-cookbook's chat renderers;
//!   [`client`] — the Tinker API client (which tokenizer a training model or sampler uses).
//!
//! Configuration: [`Config`] ([`Config::from_env`] is the only reader of the environment).
//! Failures: one enum, [`Error`].
//!
//! # Debug builds are slow
//!
//! The tokenizer engines do millions of small operations per megabyte of text. Unoptimised, as
//! a dependent crate's default debug build compiles them, loading and encoding are about ten
//! times slower (the quick start above: ~20 s in a dependent crate's debug build, 1.9 s in
//! release). Optimising only tinkex and `tokenizers` is not enough (the engine spans several
//! crates); optimise all dependencies, which brings it to ~2.1 s, in your `Cargo.toml`:
//!
//! ```toml
//! [profile.dev.package."*"]
//! opt-level = 3
//! ```
#![warn(missing_docs)]

pub mod cache;
pub mod chat;
pub mod client;
pub mod config;
pub mod error;
mod fs;
mod global;
pub mod hub;
pub(crate) mod load;
pub(crate) mod net;
mod parallel;
pub mod resolve;
pub(crate) mod source;
pub mod stream;
#[cfg(test)]
mod testing;
pub mod tokenizer;
pub mod types;

pub use config::Config;
pub use error::{Error, Result};
pub use tokenizer::Tokenizer;
