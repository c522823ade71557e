//! Turns a tokenizer's files into an engine: `tokenizer.json` (+ `tokenizer_config.json`) through
//! Hugging Face `tokenizers`; `tiktoken.model` (Kimi) and the built-in `o200k_base_chat` through
//! [`tiktoken::TiktokenEngine`], a tiktoken-compatible BPE over `fancy-regex` (why not
//! `tiktoken-rs` itself: see that module).

pub mod bpe;
pub mod config;
pub mod hf;
pub mod prepared;
pub mod tiktoken;

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::resolve::TokenizerFormat;
use crate::source::{BundledContents, BundledTokenizer, TokenizerFiles};

/// Every token's bytes as a byte-level decoder writes them (the streaming decoder's table, and
/// the byte-level BPE engine's own decode table).
pub(crate) struct TokenBytes {
    pub(crate) bytes: Vec<u8>,
    /// Start of each id's bytes; one entry more than there are ids.
    pub(crate) offsets: Vec<u32>,
    pub(crate) special: Vec<bool>,
}

impl TokenBytes {
    /// The bytes of `id`; ids are checked against the vocabulary before they get here.
    pub(crate) fn get(&self, id: u32) -> &[u8] {
        let (a, b) = (self.offsets[id as usize], self.offsets[id as usize + 1]);
        &self.bytes[a as usize..b as usize]
    }

    pub(crate) fn is_special(&self, id: u32) -> bool {
        self.special[id as usize]
    }
}

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

/// [`hf::prepare_document`] on the files' text.
fn prepare_hf(files: &TokenizerFiles) -> Result<(String, hf::PreparedMeta, Value)> {
    let main = utf8(&files.main, &files.origin.join("tokenizer.json"))?;
    let config = match &files.config {
        Some(c) => Some(utf8(c, &files.origin.join("tokenizer_config.json"))?),
        None => None,
    };
    hf::prepare_document(main, config, &files.origin)
}

/// tinkex's own engine and the tokenizer's [`hf::Info`] from a canonical document, when the
/// tokenizer has the engine's shape.
fn fast_engine(doc: &Value, meta: &hf::PreparedMeta) -> Option<(bpe::BpeEngine, hf::Info)> {
    let engine = bpe::BpeEngine::from_document(doc).ok()?;
    let info = hf::info_from_document(doc, meta.clone())?;
    (engine.id_space() == info.id_space).then_some((engine, info))
}

/// The tokenizer with tinkex's engine ready and Hugging Face's built when it pays off
/// ([`hf::Pipeline`]) from `canonical` (a closure producing it: the stored entry, or the document
/// just prepared).
fn with_background_pipeline(
    engine: bpe::BpeEngine,
    info: hf::Info,
    origin: &Path,
    switch_after: Option<u64>,
    canonical: impl FnOnce() -> Option<String> + Send + 'static,
) -> hf::HfEngine {
    let origin = origin.to_owned();
    let engine = std::sync::Arc::new(engine);
    let own = engine.clone();
    hf::HfEngine {
        pipeline: hf::Pipeline::lazy(
            move || {
                let text = canonical().ok_or("the prepared document is not in the store")?;
                let pipeline = hf::build_pipeline(&text, &origin).map_err(|e| e.to_string())?;
                // Switched to only when it gives tinkex's ids; else tinkex's engine stays.
                hf::agrees_with(&pipeline, &own)?;
                Ok(pipeline)
            },
            switch_after,
        ),
        fast: Some(engine),
        info,
    }
}

/// Builds a tokenizer.json engine through `store` (when given):
/// 1. tinkex's own engine from its stored form under `key`, if the files' digest (computed on
///    another thread meanwhile) is the one it was built from; Hugging Face's engine is then built
///    on a helper thread from the stored document;
/// 2. else, for a tokenizer outside that engine's shape, Hugging Face's engine from the stored
///    document, again if the digest matches;
/// 3. else from `prepare()` — with tinkex's engine when the tokenizer has its shape — writing
///    the entries meanwhile.
///
/// A damaged or foreign entry is removed and rebuilt; one for other files is rebuilt.
fn json_engine(
    store: Option<&prepared::PreparedStore>,
    key: &str,
    origin: &Path,
    digest: impl Fn() -> String + Sync,
    prepare: impl Fn() -> Result<(String, hf::PreparedMeta, Value)> + Send + Sync + 'static,
    switch_after: Option<u64>,
) -> Result<hf::HfEngine> {
    let mut digest_now = None;
    if let Some(store) = store {
        if let Some(bytes) = store.get_engine(key) {
            let (loaded, d) = std::thread::scope(|s| {
                let hashing = std::thread::Builder::new().spawn_scoped(s, &digest).ok();
                let loaded = bpe::stored::from_bytes(&bytes, key);
                drop(bytes);
                let d = match hashing.map(|h| h.join()) {
                    Some(Ok(d)) => d,
                    _ => digest(),
                };
                (loaded, d)
            });
            match loaded {
                Ok(l) if l.digest == d => {
                    let (store, key, want) = (store.clone(), key.to_owned(), d);
                    return Ok(with_background_pipeline(
                        l.engine,
                        l.info,
                        origin,
                        switch_after,
                        move || {
                            if let Some(e) = store.get(&key).filter(|e| e.digest == want) {
                                return Some(e.payload().to_owned());
                            }
                            // The stored document is gone or damaged: prepared again from the same
                            // bytes the engine was checked against, and stored again.
                            let (canonical, meta, _) = prepare().ok()?;
                            let _ = store.put(&key, &want, &meta, &canonical, true);
                            Some(canonical)
                        },
                    ));
                }
                // Built from other files: rebuilt below.
                Ok(_) => {}
                // Damaged, truncated, another version: never trusted, rebuilt below.
                Err(_) => store.remove_engine(key),
            }
            digest_now = Some(d);
        }
        if let Some(entry) = store.get(key).filter(|e| !e.fast) {
            // The result counts only if the files are the ones the entry was prepared from.
            let (built, d) = std::thread::scope(|s| {
                let hashing = match digest_now.take() {
                    Some(d) => Err(d),
                    None => Ok(std::thread::Builder::new().spawn_scoped(s, &digest).ok()),
                };
                let built = hf::build(entry.payload(), entry.meta.clone(), origin);
                let d = match hashing {
                    Err(d) => d,
                    Ok(Some(h)) => h.join().unwrap_or_else(|_| digest()),
                    Ok(None) => digest(),
                };
                (built, d)
            });
            if d == entry.digest {
                match built {
                    Ok(e) => return Ok(e),
                    // A stored form this engine rejects is damaged: rebuild it.
                    Err(_) => store.remove(key),
                }
            }
            digest_now = Some(d);
        }
    }
    let (canonical, meta, doc) = prepare()?;
    // Hashed and written on a second thread while the engine is built (off the critical path).
    // Best effort: a read-only or full disk only costs the next process time, and if no thread
    // can be started nothing is written.
    let shaped = bpe::has_shape(&doc);
    let fast = std::thread::scope(|s| {
        let writer = store.and_then(|store| {
            std::thread::Builder::new()
                .spawn_scoped(s, || {
                    let d = digest_now.clone().unwrap_or_else(&digest);
                    (store.put(key, &d, &meta, &canonical, shaped), d)
                })
                .ok()
        });
        let fast = fast_engine(&doc, &meta);
        drop(doc);
        let written = writer.map(|w| w.join());
        if let (Some(store), Some((engine, info)), Some(Ok((Ok(()), d)))) = (store, &fast, written)
        {
            if let Ok(bytes) = bpe::stored::to_bytes(engine, info, key, &d) {
                let _ = store.put_engine(key, &bytes);
            }
        }
        fast
    });
    if let Some((engine, info)) = fast {
        return Ok(with_background_pipeline(
            engine,
            info,
            origin,
            switch_after,
            move || Some(canonical),
        ));
    }
    // Outside the engine's shape: Hugging Face's engine alone. (An entry written as having
    // tinkex's engine, which then failed to build, is rewritten as not having it.)
    if let (Some(store), true) = (store, shaped) {
        let d = digest_now.unwrap_or_else(&digest);
        let _ = store.put(key, &d, &meta, &canonical, false);
    }
    let built = hf::build(&canonical, meta, origin);
    if built.is_err() {
        if let Some(store) = store {
            // Do not keep a form the next process would reject again.
            store.remove(key);
        }
    }
    built
}

/// Builds the engine of a bundled tokenizer, a `tokenizer.json` one through `store`. The store
/// knows it by its compressed bytes, so a later process decompresses nothing. (A built-in
/// tiktoken encoding and a tiktoken-format copy (Kimi) are built directly: the store holds
/// `tokenizer.json` forms only.)
pub fn bundled_engine(
    bundled: &'static BundledTokenizer,
    store: Option<&prepared::PreparedStore>,
    switch_after: Option<u64>,
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
    let store = match (store, bundled.contents()) {
        (Some(store), BundledContents::TokenizerJson { .. }) => store,
        _ => return engine(bundled.files()?, None, switch_after),
    };
    let (zst, config) = bundled.compressed();
    let origin = bundled.origin();
    let key = prepared::source_key(zst, Some(config));
    let e = json_engine(
        Some(store),
        &key,
        &origin,
        || prepared::content_digest(zst, Some(config)),
        move || prepare_hf(&bundled.files()?),
        switch_after,
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
/// `switch_after`: `Config::hf_engine_after`.
pub fn engine(
    files: TokenizerFiles,
    store: Option<&prepared::PreparedStore>,
    switch_after: Option<u64>,
) -> Result<Engine> {
    let files = std::sync::Arc::new(files);
    match files.format {
        TokenizerFormat::TokenizerJson => {
            let e = json_engine(
                store,
                &prepared::source_key(&files.main, files.config.as_deref()),
                &files.origin,
                || prepared::content_digest(&files.main, files.config.as_deref()),
                {
                    let files = files.clone();
                    move || prepare_hf(&files)
                },
                switch_after,
            )?;
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
