//! tinkex: the tokenizer layer of a Rust client for the Tinker fine-tuning API.
//!
//! Given a Tinker model — a base-model name like `Qwen/Qwen3-8B`, a training model, a sampler —
//! tinkex finds the tokenizer that model really uses ([`resolve`]), gets its files ([`source`]:
//! bundled, local, Hugging Face cache, downloaded from the Hub by [`hub`]), builds the engine ([`load`]), keeps one shared instance
//! per process ([`cache`]) and encodes/decodes exactly as Python's transformers / tiktoken do
//! ([`tokenizer`]). [`types`] has Tinker's `ModelInput`.
#![warn(missing_docs)]

pub mod cache;
pub mod chat;
pub mod client;
pub mod config;
pub mod error;
mod fs;
mod global;
pub mod hub;
// Internal since issue #11. Some of its items were used only from outside (the fuzz target, old
// tests) and are dead now; the split of load/ removes them (TiktokenEngine::from_dir and its own
// read_optional/EXTRA_FILES duplicate `source`). Until then:
#[allow(dead_code)]
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
