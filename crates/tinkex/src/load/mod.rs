//! Turns a tokenizer's files into an engine: `tokenizer.json` (+ `tokenizer_config.json`) through
//! Hugging Face `tokenizers`; `tiktoken.model` (Kimi) and the built-in `o200k_base_chat` through
//! [`tiktoken::TiktokenEngine`], a tiktoken-compatible BPE over `fancy-regex` (why not
//! `tiktoken-rs` itself: see that module).

pub mod config;
pub mod hf;
pub mod prepared;
pub mod tiktoken;

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::resolve::TokenizerFormat;
use crate::source::{BundledContents, BundledTokenizer, TokenizerFiles};

/// A loaded engine of either format.
pub enum Engine {
    /// tokenizer.json through Hugging Face `tokenizers`.
    Hf(Box<hf::HfEngine>),
    /// tiktoken.model (Kimi), or a built-in tiktoken encoding (`o200k_base_chat`).
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

/// Builds a tokenizer.json engine through `store`: from the entry under `key` when there is one
/// whose digest is `digest()` (computed on another thread while the stored form is built), else
/// from `prepare()`, writing the entry meanwhile.
fn hf_through_store(
    store: &prepared::PreparedStore,
    key: &str,
    origin: &Path,
    digest: impl Fn() -> String + Sync,
    prepare: impl FnOnce() -> Result<(String, hf::PreparedMeta)>,
) -> Result<hf::HfEngine> {
    if let Some(entry) = store.get(key) {
        // The result counts only if the files are the ones the entry was prepared from.
        let (built, digest_now) = std::thread::scope(|s| {
            let hashing = std::thread::Builder::new().spawn_scoped(s, &digest).ok();
            let built = hf::build(entry.payload(), entry.meta.clone(), origin);
            let digest_now = match hashing.map(|h| h.join()) {
                Some(Ok(d)) => d,
                _ => digest(),
            };
            (built, digest_now)
        });
        if digest_now == entry.digest {
            match built {
                Ok(e) => return Ok(e),
                // A stored form this engine rejects is damaged: rebuild it.
                Err(_) => store.remove(key),
            }
        }
        // Otherwise the files changed since: prepared afresh below, and the entry rewritten.
    }
    let (canonical, meta) = prepare()?;
    let built = std::thread::scope(|s| {
        // Hashed and written while the engine is built (off the critical path). Best effort: a
        // read-only or full disk only costs the next process time, and if no thread can be
        // started nothing is written.
        let _ = std::thread::Builder::new()
            .spawn_scoped(s, || store.put(key, &digest(), &meta, &canonical));
        hf::build(&canonical, meta.clone(), origin)
    });
    if built.is_err() {
        // Do not keep a form the next process would reject again.
        store.remove(key);
    }
    built
}

/// Builds the engine of a bundled tokenizer, a `tokenizer.json` one through `store`. The store
/// knows it by its compressed bytes, so a later process decompresses nothing. (A built-in
/// tiktoken encoding is built directly: the store holds `tokenizer.json` forms only.)
pub fn bundled_engine(
    bundled: &BundledTokenizer,
    store: Option<&prepared::PreparedStore>,
) -> Result<Engine> {
    if let BundledContents::Encoding {
        ranks_zst,
        special_tokens,
        pattern,
    } = bundled.contents()
    {
        let origin = bundled.origin();
        let ranks = crate::source::decompress(ranks_zst)
            .map_err(|e| Error::parse_source(origin.join("ranks.zst"), e))?;
        let engine = encoding_engine(&ranks, special_tokens, pattern, &origin)?;
        return Ok(Engine::Tiktoken(Box::new(engine)));
    }
    let Some(store) = store else {
        return engine(&bundled.files()?, None);
    };
    let (zst, config) = bundled.compressed();
    let origin = bundled.origin();
    let key = prepared::source_key(zst, Some(config));
    let e = hf_through_store(
        store,
        &key,
        &origin,
        || prepared::content_digest(zst, Some(config)),
        || prepare_hf(&bundled.files()?),
    )?;
    Ok(Engine::Hf(Box::new(e)))
}

/// A tiktoken encoding from its ranks and a special-token list (`special_tokens.json` of
/// `bundled/o200k_base_chat`: `{"bos_token": name, "eos_token": name, "special_tokens":
/// {name: id, …}}`; other keys are descriptions and ignored).
pub(crate) fn encoding_engine(
    ranks: &[u8],
    special_tokens_json: &[u8],
    pattern: &str,
    origin: &Path,
) -> Result<tiktoken::TiktokenEngine> {
    let path = origin.join("special_tokens.json");
    let v: Value =
        serde_json::from_slice(special_tokens_json).map_err(|e| Error::parse_source(&path, e))?;
    let Some(map) = v.get("special_tokens").and_then(Value::as_object) else {
        return Err(Error::parse(&path, "no `special_tokens` object"));
    };
    let specials = map
        .iter()
        .map(|(name, id)| {
            let id = id
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    Error::parse(
                        &path,
                        format!("special token {name:?}: {id} is not a token id"),
                    )
                })?;
            Ok((name.as_str(), id))
        })
        .collect::<Result<Vec<_>>>()?;
    let named = |key: &str| match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(Error::parse(&path, format!("`{key}` is not a string"))),
    };
    tiktoken::TiktokenEngine::from_encoding(
        ranks,
        pattern,
        &specials,
        named("bos_token")?,
        named("eos_token")?,
        origin,
    )
}

/// Builds the engine for `files`, through `store` (the prepared-form cache) when given.
pub fn engine(files: &TokenizerFiles, store: Option<&prepared::PreparedStore>) -> Result<Engine> {
    match files.format {
        TokenizerFormat::TokenizerJson => {
            let e = match store {
                None => {
                    let (canonical, meta) = prepare_hf(files)?;
                    hf::build(&canonical, meta, &files.origin)?
                }
                Some(store) => hf_through_store(
                    store,
                    &prepared::source_key(&files.main, files.config.as_deref()),
                    &files.origin,
                    || prepared::content_digest(&files.main, files.config.as_deref()),
                    || prepare_hf(files),
                )?,
            };
            Ok(Engine::Hf(Box::new(e)))
        }
        TokenizerFormat::Tiktoken => {
            let settings = match &files.tiktoken_extra {
                Some(extra) => tiktoken::TiktokenSettings::parse(
                    extra,
                    &files.origin.join("tiktoken_config.json"),
                )?,
                None => tiktoken::TiktokenSettings::default(),
            };
            Ok(Engine::Tiktoken(Box::new(
                tiktoken::TiktokenEngine::from_parts(
                    &files.main,
                    files.config.as_deref(),
                    settings.pattern.as_deref(),
                    settings.num_reserved,
                    &files.origin,
                )?,
            )))
        }
    }
}
