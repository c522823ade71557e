//! The tokenizer handle and the process-wide convenience functions.
//!
//! ```
//! # let _ = tinkex::cache::TokenizerCache::set_global(tinkex::Config::default().with_offline(true));
//! use tinkex::tokenizer::{self, EncodeOptions};
//!
//! // For sampling: the prompt as the model expects it, special tokens (e.g. BOS) included.
//! let prompt = tokenizer::encode("The capital of France is", "Qwen/Qwen3-8B", EncodeOptions::default())?;
//! // For training: a completion appended to a prompt gets no second BOS.
//! let completion = tokenizer::encode(" Paris.", "Qwen/Qwen3-8B", EncodeOptions { add_special_tokens: false })?;
//! let text = tokenizer::decode(&completion, "Qwen/Qwen3-8B", Default::default())?;
//! assert_eq!(text, " Paris.");
//! # Ok::<(), tinkex::Error>(())
//! ```
//! # let _ = tinkex::cache::TokenizerCache::set_global(tinkex::Config::default().with_offline(true));

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use tokenizers::pipeline::{EncodeOptions as HfEncodeOptions, PipelineToken};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::load::{self, Engine};
use crate::parallel::par_map;
use crate::resolve::TokenizerFormat;
use crate::source::{self, TokenizerFiles};

// The process-wide functions live in `crate::global` (the only module with process-wide state);
// they are named here, where callers look for them. A re-export, not a dependency: nothing in
// this module calls them.
pub use crate::global::{
    cache_stats, clear_cache, decode, encode, get_or_load_tokenizer, get_tokenizer_id,
    register_tokenizer, remove_tokenizer, ModelRef,
};
pub use crate::source::local_format;

/// Options of [`encode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Add the tokenizer's special tokens (e.g. Llama-3's BOS), as Python's `encode(text)` does.
    /// Default: true.
    pub add_special_tokens: bool,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            add_special_tokens: true,
        }
    }
}

/// Options of [`decode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecodeOptions {
    /// Leave special tokens (BOS, `<|im_end|>`, …) out of the text. Default: false.
    pub skip_special_tokens: bool,
}

/// A special token: its text and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialToken {
    /// The token text, e.g. `<|begin_of_text|>`.
    pub content: String,
    /// Its id.
    pub id: u32,
}

/// A loaded tokenizer. Cheap to share: hand out `Arc<Tokenizer>` (see [`get_or_load_tokenizer`]);
/// every method takes `&self` and no method takes a lock.
pub struct Tokenizer {
    name: String,
    revision: Option<String>,
    engine: Engine,
    vocab_size: u32,
    special: Vec<SpecialToken>,
    bos: Option<SpecialToken>,
    eos: Option<SpecialToken>,
    pad: Option<SpecialToken>,
    token_to_id: OnceLock<HashMap<String, u32>>,
    token_bytes: OnceLock<Option<TokenBytes>>,
}

pub(crate) use crate::load::TokenBytes;

/// The token byte table of `e`, or `None` when it is not a byte-level BPE.
fn token_bytes_of(e: &load::hf::HfEngine) -> Option<TokenBytes> {
    use tokenizers::pipeline::PipelineModel;
    let tokenizer = e.pipeline.get().ok()?;
    let PipelineModel::BPE(bpe) = tokenizer.get_model() else {
        return None;
    };
    if !bpe.is_byte_level() {
        return None;
    }
    let added = tokenizer.get_added_vocabulary();
    let id_space = e.info.id_space;
    let mut t = TokenBytes {
        bytes: Vec::with_capacity(id_space as usize * 6),
        offsets: Vec::with_capacity(id_space as usize + 1),
        special: vec![false; id_space as usize],
    };
    t.offsets.push(0);
    let mut added_ids = e.info.added.iter().map(|(_, id, _)| *id).peekable();
    for id in 0..id_space {
        // The engine's own rule: an added token decodes to its (normalised) content.
        let is_added = added_ids.peek() == Some(&id);
        if is_added {
            added_ids.next();
        }
        match is_added.then(|| added.simple_id_to_token(id)).flatten() {
            Some(content) => {
                t.special[id as usize] = added.is_special_token(&content);
                t.bytes.extend_from_slice(content.as_bytes());
            }
            None => {
                if let Some(token) = tokenizer.get_model().id_to_token(id) {
                    t.bytes
                        .extend(token.chars().filter_map(load::tiktoken::char_to_byte));
                }
            }
        }
        t.offsets.push(u32::try_from(t.bytes.len()).ok()?);
    }
    Some(t)
}

const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Tokenizer>();
    assert_send_sync::<std::sync::Arc<Tokenizer>>();
};

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("name", &self.name)
            .field("revision", &self.revision)
            .field("format", &self.format())
            .field("vocab_size", &self.vocab_size)
            .finish_non_exhaustive()
    }
}

/// The engine's error, kept as the source (boxed: its type is the pinned pre-release's).
fn engine_err(e: impl Into<crate::error::BoxError>) -> Error {
    let source = e.into();
    Error::Engine {
        message: source.to_string(),
        source: Some(source),
    }
}

/// transformers' `clean_up_tokenization` (4.57.6), applied in the same order.
pub(crate) fn clean_up_tokenization(text: String) -> String {
    const RULES: [(&str, &str); 10] = [
        (" .", "."),
        (" ?", "?"),
        (" !", "!"),
        (" ,", ","),
        (" ' ", "'"),
        (" n't", "n't"),
        (" 'm", "'m"),
        (" 's", "'s"),
        (" 've", "'ve"),
        (" 're", "'re"),
    ];
    let mut text = text;
    for (from, to) in RULES {
        if text.contains(from) {
            text = text.replace(from, to);
        }
    }
    text
}

/// `config`'s prepared-tokenizer cache, if it has one.
fn prepared_store(config: &Config) -> Option<load::prepared::PreparedStore> {
    config
        .prepared_cache
        .as_ref()
        .map(load::prepared::PreparedStore::new)
}

impl Tokenizer {
    /// Loads a tokenizer from a directory (`tokenizer.json` [+ `tokenizer_config.json`], or
    /// `tiktoken.model` + `tokenizer_config.json`) or from the path of the main file itself.
    ///
    /// Each call builds a new instance: use [`get_or_load_tokenizer`] to share one. This reads
    /// only `path`: no environment, no network, no prepared store ([`Config::default`]). To keep
    /// the prepared form on disk so later processes skip the parse, use
    /// [`Tokenizer::from_path_with`] with a [`Config`] that has a prepared store (e.g.
    /// [`Config::from_env`], whose store is `~/.cache/tinkex`).
    ///
    /// ```
    /// // A tiny byte-level BPE (test data) whose added special token <|end|> is id 258.
    /// let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/tiny");
    /// let tok = tinkex::Tokenizer::from_path(dir)?;
    /// assert_eq!(tok.encode("<|end|>", false)?, [258]);
    /// assert!(tinkex::Tokenizer::from_path("/no/such/dir").is_err());
    /// # Ok::<(), tinkex::Error>(())
    /// ```
    pub fn from_path(path: impl AsRef<Path>) -> Result<Tokenizer> {
        Tokenizer::from_path_with(path, &Config::default())
    }

    /// [`Tokenizer::from_path`] through `config`'s prepared store ([`Config::prepared_cache`]),
    /// if it has one.
    ///
    /// ```
    /// let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/tiny");
    /// let no_disk_cache = tinkex::Config::default().with_prepared_cache(None);
    /// let tok = tinkex::Tokenizer::from_path_with(dir, &no_disk_cache)?;
    /// assert_eq!(tok.decode(&[258], true)?, "");
    /// # Ok::<(), tinkex::Error>(())
    /// ```
    pub fn from_path_with(path: impl AsRef<Path>, config: &Config) -> Result<Tokenizer> {
        let path = path.as_ref();
        Tokenizer::from_files_with(
            source::local(path)?,
            path.display().to_string(),
            None,
            config,
        )
    }

    /// Loads a tokenizer from the contents of `tokenizer.json` and, optionally,
    /// `tokenizer_config.json`. Nothing is written to disk (no prepared-tokenizer cache).
    pub fn from_bytes(tokenizer_json: &[u8], tokenizer_config: Option<&[u8]>) -> Result<Tokenizer> {
        let files = TokenizerFiles {
            origin: "<memory>".into(),
            format: TokenizerFormat::TokenizerJson,
            main: tokenizer_json.to_vec().into(),
            config: tokenizer_config.map(|c| c.to_vec().into()),
            tiktoken_extra: None,
        };
        Tokenizer::from_files(files, "<memory>".into(), None)
    }

    /// Loads a tiktoken-format tokenizer (Kimi's) from the contents of `tiktoken.model` (a
    /// `base64 rank` line per token) and, optionally, `tokenizer_config.json` (its special
    /// tokens and `pat_str`). Nothing is written to disk.
    pub fn from_tiktoken_bytes(
        tiktoken_model: &[u8],
        tokenizer_config: Option<&[u8]>,
    ) -> Result<Tokenizer> {
        let files = TokenizerFiles {
            origin: "<memory>".into(),
            format: TokenizerFormat::Tiktoken,
            main: tiktoken_model.to_vec().into(),
            config: tokenizer_config.map(|c| c.to_vec().into()),
            tiktoken_extra: None,
        };
        Tokenizer::from_files(files, "<memory>".into(), None)
    }

    /// Builds a tokenizer from raw files; `name` and `revision` are what [`Tokenizer::name`] and
    /// [`Tokenizer::revision`] report. No prepared store.
    pub(crate) fn from_files(
        files: TokenizerFiles,
        name: String,
        revision: Option<String>,
    ) -> Result<Tokenizer> {
        Tokenizer::from_files_with(files, name, revision, &Config::default())
    }

    /// [`Tokenizer::from_files`] through `config`'s prepared store.
    pub(crate) fn from_files_with(
        files: TokenizerFiles,
        name: String,
        revision: Option<String>,
        config: &Config,
    ) -> Result<Tokenizer> {
        let engine = load::engine(
            files,
            prepared_store(config).as_ref(),
            config.hf_engine_after,
        )?;
        Ok(Tokenizer::from_engine(engine, name, revision))
    }

    /// A bundled tokenizer, through `config`'s prepared-tokenizer cache.
    pub(crate) fn from_bundled_with(
        bundled: &'static source::BundledTokenizer,
        config: &Config,
    ) -> Result<Tokenizer> {
        let engine = load::bundled_engine(
            bundled,
            prepared_store(config).as_ref(),
            config.hf_engine_after,
        )?;
        Ok(Tokenizer::from_engine(
            engine,
            bundled.display_name().to_owned(),
            bundled.revision.map(str::to_owned),
        ))
    }

    fn from_engine(engine: Engine, name: String, revision: Option<String>) -> Tokenizer {
        let (vocab_size, special, bos, eos, pad) = match &engine {
            Engine::Hf(e) => {
                let e = &e.info;
                let special = e
                    .added
                    .iter()
                    .filter(|(_, _, special)| *special)
                    .map(|(content, id, _)| SpecialToken {
                        content: content.clone(),
                        id: *id,
                    })
                    .collect();
                let named = |t: &Option<(String, u32)>| {
                    t.as_ref().map(|(content, id)| SpecialToken {
                        content: content.clone(),
                        id: *id,
                    })
                };
                (
                    e.id_space,
                    special,
                    named(&e.named.bos),
                    named(&e.named.eos),
                    named(&e.named.pad),
                )
            }
            Engine::Tiktoken(e) => {
                let special: Vec<SpecialToken> = e
                    .special_tokens()
                    .into_iter()
                    .map(|(content, id)| SpecialToken {
                        content: content.to_owned(),
                        id,
                    })
                    .collect();
                let named = |t: Option<&str>| {
                    let t = t?;
                    Some(SpecialToken {
                        content: t.to_owned(),
                        id: e.token_to_id(t)?,
                    })
                };
                (
                    e.vocab_size(),
                    special,
                    named(e.bos_token()),
                    named(e.eos_token()),
                    named(e.pad_token()),
                )
            }
        };
        Tokenizer {
            name,
            revision,
            engine,
            vocab_size,
            special,
            bos,
            eos,
            pad,
            token_to_id: OnceLock::new(),
            token_bytes: OnceLock::new(),
        }
    }

    /// The byte table of a tokenizer.json engine: tinkex's engine's own, else built from Hugging
    /// Face's engine on first use (`None` when it is not byte-level).
    fn hf_token_bytes<'a>(&'a self, e: &'a load::hf::HfEngine) -> Option<&'a TokenBytes> {
        match &e.fast {
            Some(fast) => Some(fast.token_bytes()),
            None => self.token_bytes.get_or_init(|| token_bytes_of(e)).as_ref(),
        }
    }

    /// The resolved tokenizer id (repo id), or the path it was loaded from.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The pinned revision, if any.
    pub fn revision(&self) -> Option<&str> {
        self.revision.as_deref()
    }

    /// The file format.
    pub fn format(&self) -> TokenizerFormat {
        match self.engine {
            Engine::Hf(_) => TokenizerFormat::TokenizerJson,
            Engine::Tiktoken(_) => TokenizerFormat::Tiktoken,
        }
    }

    /// Encodes `text` to token ids, exactly as Python's `tokenizer.encode(text,
    /// add_special_tokens=...)` does for this tokenizer.
    ///
    /// ```
    /// # let _ = tinkex::cache::TokenizerCache::set_global(tinkex::Config::default().with_offline(true));
    /// let tok = tinkex::tokenizer::get_or_load_tokenizer("meta-llama/Llama-3.1-8B")?;
    /// assert_eq!(tok.encode("Hello world", true)?, vec![128000, 9906, 1917]);
    /// assert_eq!(tok.encode("Hello world", false)?, vec![9906, 1917]);
    /// # Ok::<(), tinkex::Error>(())
    /// ```
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>> {
        match &self.engine {
            Engine::Hf(e) => {
                let info = &e.info;
                let (prefix, suffix): (&[u32], &[u32]) = match (&info.wrap, add_special_tokens) {
                    (Some((p, s)), true) => (p, s),
                    _ => (&[], &[]),
                };
                // tinkex's engine until Hugging Face's is ready (then the faster of the two on
                // long inputs); both give the same ids.
                let pipeline = match (e.pipeline.try_get(), &e.fast) {
                    (Some(p), _) => p,
                    (None, Some(fast)) if info.wrap.is_some() || !add_special_tokens => {
                        let mut out =
                            Vec::with_capacity(text.len() / 4 + prefix.len() + suffix.len() + 4);
                        out.extend_from_slice(prefix);
                        fast.encode_into(text, info.split_special_tokens, &mut out)
                            .map_err(Error::engine)?;
                        out.extend_from_slice(suffix);
                        // Counted after the call: one long call never waits on, nor competes
                        // with, a build whose result it could not use.
                        e.pipeline.note_encoded(text.len());
                        return Ok(out);
                    }
                    (None, _) => e.pipeline.get()?,
                };
                let opts = HfEncodeOptions {
                    // With `wrap` the specials are added here; without it the engine adds them.
                    add_special_tokens: add_special_tokens && info.wrap.is_none(),
                    encode_special_tokens: info.split_special_tokens,
                    ..HfEncodeOptions::default()
                };
                let mut out: Vec<PipelineToken> =
                    Vec::with_capacity(text.len() / 4 + prefix.len() + suffix.len() + 4);
                out.extend(prefix.iter().map(|&id| PipelineToken::from(id)));
                pipeline
                    .encode_into(text, &opts, &mut out)
                    .map_err(engine_err)?;
                out.extend(suffix.iter().map(|&id| PipelineToken::from(id)));
                // Same size and alignment: this collect reuses the allocation.
                Ok(out.into_iter().map(u32::from).collect())
            }
            // Neither Kimi nor o200k_base_chat adds special tokens. Kimi's `encode` recognises
            // special-token text; o200k_base_chat's is `encode_ordinary` (the engine knows).
            Engine::Tiktoken(e) => Ok(e.encode(text)),
        }
    }

    /// Encodes `text` without special tokens added and with special-token text (`<|im_end|>`,
    /// `<|endoftext|>`, …) encoded as ordinary text — a backend tokenizer with
    /// `encode_special_tokens = True`, which tinker-cookbook's Qwen3 renderers use for message
    /// content. Added tokens that are not special (Qwen3's `<think>`, `<tool_call>`) still match.
    /// For a tiktoken engine, whose added tokens are all special, every special name is text.
    pub(crate) fn encode_special_as_text(&self, text: &str) -> Result<Vec<u32>> {
        match &self.engine {
            Engine::Hf(e) => {
                let pipeline = match (e.pipeline.try_get(), &e.fast) {
                    (Some(p), _) => p,
                    (None, Some(fast)) => {
                        let mut out = Vec::with_capacity(text.len() / 4 + 4);
                        fast.encode_into(text, true, &mut out)
                            .map_err(Error::engine)?;
                        e.pipeline.note_encoded(text.len());
                        return Ok(out);
                    }
                    (None, None) => e.pipeline.get()?,
                };
                let opts = HfEncodeOptions {
                    add_special_tokens: false,
                    encode_special_tokens: true,
                    ..HfEncodeOptions::default()
                };
                let mut out: Vec<PipelineToken> = Vec::with_capacity(text.len() / 4 + 4);
                pipeline
                    .encode_into(text, &opts, &mut out)
                    .map_err(engine_err)?;
                Ok(out.into_iter().map(u32::from).collect())
            }
            Engine::Tiktoken(e) => Ok(e.encode_ordinary(text)),
        }
    }

    /// Builds now, and waits for, what this tokenizer otherwise builds only once it pays off:
    /// for the lineup's byte-level tokenizers, Hugging Face's engine, which takes over encoding
    /// from tinkex's own (faster to load, slower on long inputs) after a few megabytes. Loading
    /// never waits for it and no result depends on it — both engines give the same ids — so call
    /// this only where full encoding speed from the first call matters more than start-up time (a
    /// long-running worker, a benchmark). A no-op for other tokenizers. Hugging Face's engine is
    /// switched to only if it gives tinkex's ids on a probe text; where it does not (it cannot run
    /// the Qwen3.5 tokenizer's split pattern in tokenizers 1.0.0-rc.3), tinkex's engine keeps
    /// encoding and this still returns `Ok`.
    ///
    /// ```
    /// # let _ = tinkex::cache::TokenizerCache::set_global(tinkex::Config::default().with_offline(true));
    /// let tok = tinkex::tokenizer::get_or_load_tokenizer("Qwen/Qwen3-8B")?;
    /// let before = tok.encode("Hello world", false)?;
    /// tok.warm_up()?;
    /// assert_eq!(tok.encode("Hello world", false)?, before);
    /// # Ok::<(), tinkex::Error>(())
    /// ```
    pub fn warm_up(&self) -> Result<()> {
        match &self.engine {
            Engine::Hf(e) if e.fast.is_some() => {
                // Built (or refused) now; either way tinkex's engine encodes until it is ready.
                let _ = e.pipeline.get();
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Encodes many texts on all cores; the result is in input order and equal to encoding each
    /// text with [`Tokenizer::encode`].
    pub fn encode_batch<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        add_special_tokens: bool,
    ) -> Result<Vec<Vec<u32>>> {
        par_map(texts, |t| self.encode(t.as_ref(), add_special_tokens))
    }

    /// The number of tokens of `text`, without special tokens.
    pub fn count(&self, text: &str) -> Result<usize> {
        Ok(self.encode(text, false)?.len())
    }

    pub(crate) fn check_ids(&self, ids: &[u32]) -> Result<()> {
        let holes = match &self.engine {
            Engine::Hf(e) => e.info.holes.as_deref(),
            Engine::Tiktoken(_) => None,
        };
        for &id in ids {
            let missing = id >= self.vocab_size
                || holes.is_some_and(|h| h[id as usize / 64] & (1 << (id % 64)) != 0);
            if missing {
                return Err(Error::InvalidTokenId {
                    id: id.into(),
                    vocab_size: self.vocab_size,
                });
            }
        }
        Ok(())
    }

    /// Decodes ids to text, exactly as Python's `tokenizer.decode(ids, skip_special_tokens=...)`
    /// does for this tokenizer (including transformers' `clean_up_tokenization_spaces`).
    ///
    /// An id the vocabulary does not have is an error ([`Error::InvalidTokenId`]), where Python
    /// silently drops it.
    ///
    /// ```
    /// # let _ = tinkex::cache::TokenizerCache::set_global(tinkex::Config::default().with_offline(true));
    /// let tok = tinkex::tokenizer::get_or_load_tokenizer("meta-llama/Llama-3.1-8B")?;
    /// let ids = tok.encode("Hello , world .", true)?;
    /// assert_eq!(tok.decode(&ids, false)?, "<|begin_of_text|>Hello, world.");
    /// assert_eq!(tok.decode(&ids, true)?, "Hello, world.");
    /// assert!(tok.decode(&[u32::MAX], false).is_err());
    /// # Ok::<(), tinkex::Error>(())
    /// ```
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String> {
        let text = self.decode_raw(ids, skip_special_tokens)?;
        Ok(match &self.engine {
            Engine::Hf(e) if e.info.clean_up_tokenization_spaces => clean_up_tokenization(text),
            _ => text,
        })
    }

    /// [`Tokenizer::decode`] without transformers' clean-up (the streaming decoder applies it
    /// itself).
    pub(crate) fn decode_raw(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String> {
        self.check_ids(ids)?;
        match &self.engine {
            Engine::Hf(e) => match &e.fast {
                // A byte-level decoder: the tokens' bytes, read as UTF-8 with replacement.
                Some(fast) => {
                    let table = fast.token_bytes();
                    let mut bytes = Vec::with_capacity(ids.len() * 4);
                    for &id in ids {
                        if !(skip_special_tokens && table.is_special(id)) {
                            bytes.extend_from_slice(table.get(id));
                        }
                    }
                    Ok(match String::from_utf8(bytes) {
                        Ok(s) => s,
                        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                    })
                }
                None => e
                    .pipeline
                    .get()?
                    .decode(ids, skip_special_tokens)
                    .map_err(engine_err),
            },
            Engine::Tiktoken(e) => e.decode(ids, skip_special_tokens),
        }
    }

    /// Appends the raw bytes of `ids` to `out` (a special id gives its text), without UTF-8
    /// decoding — for parsers that must tell invalid UTF-8 from a real U+FFFD. `Ok(false)`, with
    /// nothing appended, for a tokenizer that is not byte-level.
    pub(crate) fn append_bytes(&self, ids: &[u32], out: &mut Vec<u8>) -> Result<bool> {
        self.check_ids(ids)?;
        match &self.engine {
            Engine::Hf(e) => match self.hf_token_bytes(e) {
                Some(table) => {
                    for &id in ids {
                        out.extend_from_slice(table.get(id));
                    }
                    Ok(true)
                }
                None => Ok(false),
            },
            Engine::Tiktoken(e) => {
                out.extend_from_slice(&e.decode_bytes(ids, false)?);
                Ok(true)
            }
        }
    }

    /// A streaming decoder: feed ids one at a time as they are sampled, get text as soon as it
    /// is complete; the pieces join to exactly [`Tokenizer::decode`] of all the ids. See
    /// [`crate::stream`].
    pub fn decode_stream(&self, skip_special_tokens: bool) -> crate::stream::DecodeStream<'_> {
        let (bytes, tiktoken, clean_up) = match &self.engine {
            Engine::Hf(e) => (
                self.hf_token_bytes(e),
                None,
                e.info.clean_up_tokenization_spaces,
            ),
            Engine::Tiktoken(e) => (None, Some(&**e), false),
        };
        crate::stream::DecodeStream::new(self, skip_special_tokens, bytes, tiktoken, clean_up)
    }

    /// Decodes many id sequences on all cores.
    pub fn decode_batch<S: AsRef<[u32]> + Sync>(
        &self,
        batch: &[S],
        skip_special_tokens: bool,
    ) -> Result<Vec<String>> {
        par_map(batch, |ids| self.decode(ids.as_ref(), skip_special_tokens))
    }

    /// One past the highest token id (Python's `len(tokenizer)`).
    pub fn vocab_size(&self) -> u32 {
        self.vocab_size
    }

    /// The token string of `id` (byte-level tokens in their `Ġ`-style spelling, as Python's
    /// `convert_ids_to_tokens`), or `None` for an id the vocabulary lacks.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        match &self.engine {
            Engine::Hf(e) => {
                if let Some((content, _, _)) = e.info.added.iter().find(|(_, i, _)| *i == id) {
                    return Some(content.clone());
                }
                if id >= self.vocab_size {
                    return None;
                }
                match &e.fast {
                    Some(fast) => fast.id_to_token(id),
                    None => e.pipeline.get().ok()?.get_model().id_to_token(id),
                }
            }
            Engine::Tiktoken(e) => e.id_to_token(id),
        }
    }

    /// The id of the token spelled `token` (as [`Tokenizer::id_to_token`] spells it).
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        match &self.engine {
            Engine::Hf(e) => {
                if let Some((_, id, _)) = e.info.added.iter().find(|(c, _, _)| c == token) {
                    return Some(*id);
                }
                if let Some(fast) = &e.fast {
                    return fast.token_to_id(token);
                }
                // Built on first use: most users never ask, and it costs a pass over the vocabulary.
                let map = self.token_to_id.get_or_init(|| {
                    let Ok(tokenizer) = e.pipeline.get() else {
                        return HashMap::new();
                    };
                    let model = tokenizer.get_model();
                    (0..self.vocab_size)
                        .filter_map(|id| Some((model.id_to_token(id)?, id)))
                        .collect()
                });
                map.get(token).copied()
            }
            Engine::Tiktoken(e) => e.token_to_id(token),
        }
    }

    /// Every special token (added tokens marked special), in id order.
    pub fn special_tokens(&self) -> &[SpecialToken] {
        &self.special
    }

    /// Whether `id` is a special token (one of [`Tokenizer::special_tokens`]). Most tokenizers
    /// drop these on `decode(_, skip_special_tokens = true)`; Kimi keeps those outside
    /// transformers' `all_special_ids`, and `o200k_base_chat` (Inkling) keeps them all, as their
    /// Python decoders do.
    pub fn is_special(&self, id: u32) -> bool {
        self.special.iter().any(|s| s.id == id)
    }

    /// The beginning-of-sequence token named by the config, if any.
    pub fn bos_token(&self) -> Option<&SpecialToken> {
        self.bos.as_ref()
    }

    /// The end-of-sequence token named by the config, if any.
    pub fn eos_token(&self) -> Option<&SpecialToken> {
        self.eos.as_ref()
    }

    /// The padding token named by the config, if any.
    pub fn pad_token(&self) -> Option<&SpecialToken> {
        self.pad.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::clean_up_tokenization;

    #[test]
    fn clean_up_matches_transformers_order() {
        assert_eq!(
            clean_up_tokenization("Hello , world .".into()),
            "Hello, world."
        );
        assert_eq!(
            clean_up_tokenization("I do n't know".into()),
            "I don't know"
        );
        assert_eq!(clean_up_tokenization("it ' s".into()), "it's");
        assert_eq!(clean_up_tokenization("a  .".into()), "a .");
    }
}
