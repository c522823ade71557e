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

/// [`hf::prepare`] on the files' text.
fn prepare_hf(files: &TokenizerFiles) -> Result<(String, hf::PreparedMeta)> {
    let main = utf8(&files.main, &files.origin.join("tokenizer.json"))?;
    let config = match &files.config {
        Some(c) => Some(utf8(c, &files.origin.join("tokenizer_config.json"))?),
        None => None,
    };
    hf::prepare(main, config, &files.origin)
}

/// Builds the engine for `files`, through `store` (the prepared-form cache) when given.
pub fn engine(files: &TokenizerFiles, store: Option<&prepared::PreparedStore>) -> Result<Engine> {
    match files.format {
        TokenizerFormat::TokenizerJson => {
            let Some(store) = store else {
                let (canonical, meta) = prepare_hf(files)?;
                return Ok(Engine::Hf(Box::new(hf::build(
                    &canonical,
                    meta,
                    &files.origin,
                )?)));
            };
            let key = prepared::source_key(
                &files.origin,
                files.main.len(),
                files.config.as_ref().map(|c| c.len()),
            );
            let digest = || prepared::content_digest(&files.main, files.config.as_deref());
            if let Some(entry) = store.get(&key) {
                // Build from the stored form while the files are hashed on another thread; the
                // result counts only if they are the files it was prepared from.
                let (built, digest_now) = std::thread::scope(|s| {
                    let hashing = std::thread::Builder::new().spawn_scoped(s, digest).ok();
                    let built = hf::build(entry.payload(), entry.meta.clone(), &files.origin);
                    let digest_now = match hashing.map(|h| h.join()) {
                        Some(Ok(d)) => d,
                        _ => digest(),
                    };
                    (built, digest_now)
                });
                if digest_now == entry.digest {
                    match built {
                        Ok(e) => return Ok(Engine::Hf(Box::new(e))),
                        // A stored form this engine rejects is damaged: rebuild it.
                        Err(_) => store.remove(&key),
                    }
                }
                // Otherwise the files changed since: prepared afresh below, and the entry
                // rewritten.
            }
            let (canonical, meta) = prepare_hf(files)?;
            let built = std::thread::scope(|s| {
                // Hashed and written while the engine is built (off the critical path). Best
                // effort: a read-only or full disk only costs the next process time, and if no
                // thread can be started nothing is written.
                let _ = std::thread::Builder::new()
                    .spawn_scoped(s, || store.put(&key, &digest(), &meta, &canonical));
                hf::build(&canonical, meta.clone(), &files.origin)
            });
            if built.is_err() {
                // Do not keep a form the next process would reject again.
                store.remove(&key);
            }
            Ok(Engine::Hf(Box::new(built?)))
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
