//! Turns a tokenizer's files into an engine: `tokenizer.json` (+ `tokenizer_config.json`) through
//! Hugging Face `tokenizers`; `tiktoken.model` (Kimi) through [`tiktoken::TiktokenEngine`], a
//! tiktoken-compatible BPE over `fancy-regex` (why not `tiktoken-rs` itself: see that module).

pub mod config;
pub mod hf;
pub mod tiktoken;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::resolve::TokenizerFormat;
use crate::source::TokenizerFiles;

/// A loaded engine of either format.
pub enum Engine {
    /// tokenizer.json through Hugging Face `tokenizers`.
    Hf(Box<hf::HfEngine>),
    /// tiktoken.model (Kimi).
    Tiktoken(Box<tiktoken::TiktokenEngine>),
}

fn utf8<'a>(bytes: &'a [u8], path: &std::path::Path) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| Error::parse(path, format!("not UTF-8: {e}")))
}

/// Builds the engine for `files`.
pub fn engine(files: &TokenizerFiles) -> Result<Engine> {
    match files.format {
        TokenizerFormat::TokenizerJson => {
            let main = utf8(&files.main, &files.origin.join("tokenizer.json"))?;
            let config = match &files.config {
                Some(c) => Some(utf8(c, &files.origin.join("tokenizer_config.json"))?),
                None => None,
            };
            Ok(Engine::Hf(Box::new(hf::load(main, config, &files.origin)?)))
        }
        TokenizerFormat::Tiktoken => {
            let (mut pattern, mut reserved) = (None, None);
            if let Some(extra) = &files.tiktoken_extra {
                let v: Value = serde_json::from_slice(extra)
                    .map_err(|e| Error::parse(files.origin.join("tiktoken_config.json"), e))?;
                pattern = v.get("pat_str").and_then(Value::as_str).map(str::to_owned);
                reserved = v
                    .get("num_reserved_special_tokens")
                    .and_then(Value::as_u64)
                    .and_then(|n| u32::try_from(n).ok());
            }
            Ok(Engine::Tiktoken(Box::new(
                tiktoken::TiktokenEngine::from_parts(
                    &files.main,
                    files.config.as_deref(),
                    pattern.as_deref(),
                    reserved,
                    &files.origin,
                )?,
            )))
        }
    }
}
