//! Turns a tokenizer's files into an engine: `tokenizer.json` (+ `tokenizer_config.json`) through
//! Hugging Face `tokenizers`; `tiktoken.model` (Kimi) through [`tiktoken::TiktokenEngine`], a
//! tiktoken-compatible BPE over `fancy-regex` (why not `tiktoken-rs` itself: see that module).

pub mod config;
pub mod hf;
pub mod prepared;
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

/// Builds the engine for `files`, through `store` (the prepared-form cache) when given.
pub fn engine(files: &TokenizerFiles, store: Option<&prepared::PreparedStore>) -> Result<Engine> {
    match files.format {
        TokenizerFormat::TokenizerJson => {
            let key = store.map(|_| prepared::source_key(&files.main, files.config.as_deref()));
            if let (Some(store), Some(key)) = (store, &key) {
                if let Some((meta, canonical)) = store.get(key) {
                    match hf::build(&canonical, meta, &files.origin) {
                        Ok(e) => return Ok(Engine::Hf(Box::new(e))),
                        // A stored form this engine rejects is stale or damaged: rebuild it.
                        Err(_) => store.remove(key),
                    }
                }
            }
            let main = utf8(&files.main, &files.origin.join("tokenizer.json"))?;
            let config = match &files.config {
                Some(c) => Some(utf8(c, &files.origin.join("tokenizer_config.json"))?),
                None => None,
            };
            let (canonical, meta) = hf::prepare(main, config, &files.origin)?;
            let engine = std::thread::scope(|s| {
                if let (Some(store), Some(key)) = (store, &key) {
                    // Written while the engine is built (10-20 ms of writing and fsync off the
                    // critical path). Best effort: a read-only or full disk only costs the next
                    // process time, and if no thread can be started the write is skipped.
                    let _ = std::thread::Builder::new()
                        .spawn_scoped(s, || store.put(key, &meta, &canonical));
                }
                hf::build(&canonical, meta.clone(), &files.origin)
            });
            if let (Err(_), Some(store), Some(key)) = (&engine, store, &key) {
                // The engine rejected it: do not keep a form the next process would reject again.
                store.remove(key);
            }
            Ok(Engine::Hf(Box::new(engine?)))
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
