//! `tokenizer.json` (+ `tokenizer_config.json`) → a ready engine, the way transformers 4.57.6
//! builds a fast tokenizer from the same two files.
//!
//! The engine is Hugging Face `tokenizers` 1.0.0-rc.3, whose reader accepts only the canonical
//! `tokenizer.json` 2.0. So loading is: parse the document, apply the config's edits to the JSON
//! (added tokens, BOS/EOS template, pre-tokenizer prefix space, no stored truncation/padding),
//! canonicalise it (`tokenizers::canonicalize_value`), and hand it to `tokenizers::from_json`.
//! Editing the JSON rather than the built object keeps every id assignment in one place, where
//! it can be compared with transformers' `add_tokens` rules.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokenizers::pipeline::{PipelineToken, PipelineTokenizer};

use super::config::{json_kind, ConfigToken, TokenizerConfig};
use crate::error::{Error, Result};

/// A tokenizer.json engine plus what the config says about encode and decode.
pub struct HfEngine {
    /// Hugging Face's engine: built, or being built on a helper thread.
    pub pipeline: Pipeline,
    /// tinkex's own byte-level BPE engine, when the tokenizer has its shape
    /// ([`super::bpe`]): used from the first call, without waiting for `pipeline`.
    pub fast: Option<std::sync::Arc<super::bpe::BpeEngine>>,
    /// What the tokenizer is besides its engines.
    pub info: Info,
}

/// Hugging Face's engine: built, or the means to build it when it pays off.
///
/// Behind tinkex's own engine ([`HfEngine::fast`]) it is built only once the tokenizer has
/// encoded `Config::hf_engine_after` bytes (on a helper thread, while encoding goes on), when
/// something needs it ([`Pipeline::get`]), or on request ([`Pipeline::start`]). A short job
/// never pays for it; a long one switches to it after a fraction of a second.
pub struct Pipeline {
    cell: std::sync::Arc<std::sync::OnceLock<std::result::Result<PipelineTokenizer, String>>>,
    build: std::sync::Mutex<Option<Builder>>,
    started: std::sync::atomic::AtomicBool,
    encoded: std::sync::atomic::AtomicU64,
    /// Bytes after which [`Pipeline::note_encoded`] starts the build (`u64::MAX`: never).
    after: u64,
}

type Builder = Box<dyn FnOnce() -> std::result::Result<PipelineTokenizer, String> + Send>;

impl Pipeline {
    /// An engine that is already built.
    pub fn ready(t: PipelineTokenizer) -> Pipeline {
        Pipeline {
            cell: std::sync::Arc::new(std::sync::OnceLock::from(Ok(t))),
            build: std::sync::Mutex::new(None),
            started: std::sync::atomic::AtomicBool::new(true),
            encoded: std::sync::atomic::AtomicU64::new(0),
            after: u64::MAX,
        }
    }

    /// An engine `build` makes when it is first needed, or on a helper thread once `after`
    /// bytes were encoded without it (`None`: only when needed).
    pub fn lazy(
        build: impl FnOnce() -> std::result::Result<PipelineTokenizer, String> + Send + 'static,
        after: Option<u64>,
    ) -> Pipeline {
        let pipeline = Pipeline {
            cell: std::sync::Arc::new(std::sync::OnceLock::new()),
            build: std::sync::Mutex::new(Some(Box::new(build))),
            started: std::sync::atomic::AtomicBool::new(false),
            encoded: std::sync::atomic::AtomicU64::new(0),
            after: after.unwrap_or(u64::MAX),
        };
        if after == Some(0) {
            pipeline.start();
        }
        pipeline
    }

    fn take_builder(&self) -> Option<Builder> {
        self.build.lock().ok().and_then(|mut b| b.take())
    }

    /// Starts building on a helper thread, if that has not started yet (here, if no thread can
    /// be started).
    pub fn start(&self) {
        use std::sync::atomic::Ordering;
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let Some(build) = self.take_builder() else {
            return;
        };
        let slot = self.cell.clone();
        let job = std::sync::Arc::new(std::sync::Mutex::new(Some(build)));
        let theirs = job.clone();
        let spawned = std::thread::Builder::new()
            .name("tinkex-hf-engine".into())
            .spawn(move || {
                lower_priority();
                if let Some(f) = theirs.lock().ok().and_then(|mut f| f.take()) {
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
                        .unwrap_or_else(|_| Err("building the engine panicked".into()));
                    let _ = slot.set(r);
                }
            });
        if spawned.is_err() {
            if let Some(f) = job.lock().ok().and_then(|mut f| f.take()) {
                let _ = self.cell.set(f());
            }
        }
    }

    /// Counts bytes encoded without this engine; starts building it past the threshold.
    #[inline]
    pub fn note_encoded(&self, bytes: usize) {
        use std::sync::atomic::Ordering;
        // Once started (or never to start), a load: no write to a shared cache line on the
        // encode path.
        if self.after == u64::MAX || self.started.load(Ordering::Relaxed) {
            return;
        }
        let before = self.encoded.fetch_add(bytes as u64, Ordering::Relaxed);
        if before.saturating_add(bytes as u64) >= self.after {
            self.start();
        }
    }

    /// The engine, building it here if nothing has started it, else waiting for the helper.
    pub fn get(&self) -> Result<&PipelineTokenizer> {
        use std::sync::atomic::Ordering;
        if !self.started.swap(true, Ordering::AcqRel) {
            if let Some(f) = self.take_builder() {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
                    .unwrap_or_else(|_| Err("building the engine panicked".into()));
                let _ = self.cell.set(r);
            }
        }
        self.cell
            .wait()
            .as_ref()
            .map_err(|m| Error::engine(m.clone()))
    }

    /// The engine if it is ready now.
    pub fn try_get(&self) -> Option<&PipelineTokenizer> {
        self.cell.get().and_then(|r| r.as_ref().ok())
    }
}

/// What a `tokenizer.json` tokenizer is besides its engines (the same whichever engine encodes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// One past the highest id (model vocabulary and added tokens).
    pub id_space: u32,
    /// Ids below `id_space` that name no token (`None` when there are none).
    pub holes: Option<Box<[u64]>>,
    /// `clean_up_tokenization_spaces` from the config (transformers' default: false).
    pub clean_up_tokenization_spaces: bool,
    /// `split_special_tokens` from the config: special-token text is encoded as plain text.
    pub split_special_tokens: bool,
    /// Every added token: (content, id, special).
    pub added: Vec<(String, u32, bool)>,
    /// The single-sequence template's special ids before and after the text, when it is a plain
    /// `prefix $A suffix` with no type ids (every lineup tokenizer): encoding then adds them around
    /// the engine's special-free output instead of taking its general path, which copies the input.
    pub wrap: Option<(Vec<u32>, Vec<u32>)>,
    /// The config's named special tokens that exist in the vocabulary.
    pub named: NamedTokens,
}

/// The roles a config can name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedTokens {
    /// `bos_token`.
    pub bos: Option<(String, u32)>,
    /// `eos_token`.
    pub eos: Option<(String, u32)>,
    /// `pad_token`.
    pub pad: Option<(String, u32)>,
}

/// What [`prepare`] computes besides the canonical document: everything [`build`] needs that the
/// built engine cannot tell (so a prepared form on disk can skip [`prepare`] entirely).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreparedMeta {
    /// One past the highest model-vocabulary id.
    pub model_id_space: u32,
    /// Ids below `model_id_space` the model vocabulary lacks.
    pub model_holes: Vec<u32>,
    /// `clean_up_tokenization_spaces`.
    pub clean_up_tokenization_spaces: bool,
    /// `split_special_tokens`.
    pub split_special_tokens: bool,
    /// bos, eos, pad, unk: (content, id).
    pub named: [Option<(String, u32)>; 4],
}

/// Applies `tokenizer_config.json` to `tokenizer.json` as transformers does and canonicalises the
/// result for the engine's reader. `origin` names the source in error messages.
#[cfg(test)]
pub fn prepare(
    tokenizer_json: &str,
    config_json: Option<&str>,
    origin: &Path,
) -> Result<(String, PreparedMeta)> {
    prepare_document(tokenizer_json, config_json, origin).map(|(c, m, _)| (c, m))
}

/// [`prepare`], also returning the canonical document as parsed JSON (what tinkex's own engine
/// is built from).
pub fn prepare_document(
    tokenizer_json: &str,
    config_json: Option<&str>,
    origin: &Path,
) -> Result<(String, PreparedMeta, Value)> {
    let tj_path = origin.join("tokenizer.json");
    let cfg_path = origin.join("tokenizer_config.json");
    let config = match config_json {
        Some(text) => TokenizerConfig::parse(text.as_bytes(), &cfg_path)?,
        None => TokenizerConfig::default(),
    };
    let mut doc: Value =
        serde_json::from_str(tokenizer_json).map_err(|e| Error::parse_source(&tj_path, e))?;
    let root = doc
        .as_object_mut()
        .ok_or_else(|| Error::parse(&tj_path, "a tokenizer.json must be a JSON object"))?;

    // The model is taken out while the rest is edited, so its vocabulary can be read in place.
    let model = root
        .remove("model")
        .ok_or_else(|| Error::parse(&tj_path, "the document has no `model`"))?;
    let vocab = model_vocab(&model).map_err(|m| Error::parse(&tj_path, m))?;
    let declared =
        apply_added_tokens(root, &vocab, &config).map_err(|m| Error::parse(&tj_path, m))?;
    let lookup = |t: &str| -> Option<u32> {
        declared
            .iter()
            .find(|(c, _, _)| c == t)
            .map(|(_, id, _)| *id)
            .or_else(|| vocab.get(t))
    };
    if let Some((add_bos, add_eos)) = config.bos_eos_template() {
        let template = bos_eos_template(&config, add_bos, add_eos, &lookup).map_err(|m| {
            Error::Unsupported {
                path: cfg_path.clone(),
                message: m,
            }
        })?;
        root.insert("post_processor".into(), template);
    }
    adjust_prefix_space(root, &config);
    // transformers turns stored truncation and padding off for every call that does not ask for
    // them (`set_truncation_and_padding` with DO_NOT_TRUNCATE / DO_NOT_PAD).
    root.insert("truncation".into(), Value::Null);
    root.insert("padding".into(), Value::Null);
    let named_of = |t: &Option<ConfigToken>| {
        let t = t.as_ref()?;
        Some((t.content.clone(), lookup(&t.content)?))
    };
    let meta = PreparedMeta {
        model_id_space: vocab.id_space,
        model_holes: (0..vocab.id_space)
            .filter(|id| !vocab.present[*id as usize])
            .collect(),
        clean_up_tokenization_spaces: config.clean_up_tokenization_spaces.unwrap_or(false),
        split_special_tokens: config.split_special_tokens.unwrap_or(false),
        named: [
            named_of(&config.bos_token),
            named_of(&config.eos_token),
            named_of(&config.pad_token),
            named_of(&config.unk_token),
        ],
    };
    drop(vocab);
    root.insert("model".into(), model);

    tokenizers::canonicalize_value(&mut doc).map_err(|e| Error::Unsupported {
        path: tj_path.clone(),
        message: e.to_string(),
    })?;
    let canonical = serde_json::to_string(&doc).map_err(|e| Error::parse_source(&tj_path, e))?;
    Ok((canonical, meta, doc))
}

/// Builds Hugging Face's engine from [`prepare`]'s output.
pub fn build_pipeline(canonical: &str, origin: &Path) -> Result<PipelineTokenizer> {
    tokenizers::from_json(canonical).map_err(|e| Error::Unsupported {
        path: origin.join("tokenizer.json"),
        message: e.to_string(),
    })
}

/// Text that exercises every part of a split pattern: letters with combining marks, contractions,
/// CJK, Indic and Arabic script, digit runs, punctuation, whitespace runs and line breaks.
const PROBE: &str = "Hello, world! It's 2026-12-04: naïve café, e\u{301}te\u{301}, \
    数字と漢字 한국어 العربية हिन्दी ภาษาไทย\n\n\t  x = f(y) // 1234567 🙂🙂\r\n   end";

/// Whether `pipeline` gives `own`'s ids on a probe text (special-token text split as text, and
/// matched). Hugging Face's engine is only switched to when it does: a release of it may build a
/// tokenizer it cannot then run (tokenizers 1.0.0-rc.3 builds the Qwen3.5 tokenizer, whose split
/// pattern it recognises, then fails every encode: "needs a system-regex backend"), and a
/// failing or different engine must never replace one that gives the oracle's ids.
pub fn agrees_with(
    pipeline: &PipelineTokenizer,
    own: &crate::load::bpe::BpeEngine,
) -> std::result::Result<(), String> {
    for split_special in [false, true] {
        let mut want = Vec::new();
        own.encode_into(PROBE, split_special, &mut want)?;
        let opts = tokenizers::pipeline::EncodeOptions {
            add_special_tokens: false,
            encode_special_tokens: split_special,
            ..Default::default()
        };
        let mut got: Vec<PipelineToken> = Vec::new();
        pipeline.encode_into(PROBE, &opts, &mut got).map_err(|e| {
            format!("Hugging Face's engine cannot encode this tokenizer's text: {e}")
        })?;
        if !got.iter().map(|&t| u32::from(t)).eq(want.iter().copied()) {
            return Err(
                "Hugging Face's engine gives other ids than tinkex's on a probe text".into(),
            );
        }
    }
    Ok(())
}

/// Builds the engine from [`prepare`]'s output, Hugging Face's engine only (what the tokenizer
/// is, [`Info`], read off that engine).
pub fn build(canonical: &str, meta: PreparedMeta, origin: &Path) -> Result<HfEngine> {
    let tokenizer = build_pipeline(canonical, origin)?;
    // The engine replays `added_tokens` itself and, like Python `tokenizers`, may give a token
    // another id than the one declared (the next free id); its answer is the truth.
    let added: Vec<(String, u32, bool)> = tokenizer
        .get_added_vocabulary()
        .get_added_tokens_decoder()
        .into_iter()
        .map(|(id, t)| (t.content, id, t.special))
        .collect();
    let template = &tokenizer.get_post_processor().single;
    let wrap = (!template.has_type_ids()).then(|| {
        let ids = |run: &[(PipelineToken, u8)]| run.iter().map(|(t, _)| t.id()).collect();
        (ids(&template.prefix), ids(&template.suffix))
    });
    Ok(HfEngine {
        pipeline: Pipeline::ready(tokenizer),
        fast: None,
        info: info(added, wrap, meta),
    })
}

/// [`Info`] from the added tokens (content, id, special), the template's wrap and the meta.
fn info(
    mut added: Vec<(String, u32, bool)>,
    wrap: Option<(Vec<u32>, Vec<u32>)>,
    meta: PreparedMeta,
) -> Info {
    added.sort_by_key(|(_, id, _)| *id);
    let mut present = vec![true; meta.model_id_space as usize];
    for &h in &meta.model_holes {
        if let Some(p) = present.get_mut(h as usize) {
            *p = false;
        }
    }
    let mut id_space = meta.model_id_space;
    for (_, id, _) in &added {
        id_space = id_space.max(id + 1);
    }
    present.resize(id_space as usize, false);
    for (_, id, _) in &added {
        present[*id as usize] = true;
    }
    let holes = if present.iter().all(|p| *p) {
        None
    } else {
        let mut bits = vec![0u64; (id_space as usize).div_ceil(64)];
        for (i, p) in present.iter().enumerate() {
            if !p {
                bits[i / 64] |= 1 << (i % 64);
            }
        }
        Some(bits.into_boxed_slice())
    };
    // `unk_token` is kept in the prepared form but not exposed (transformers' `unk_token`
    // matters only to the engine, which has its own).
    let [bos, eos, pad, _unk] = meta.named;
    Info {
        wrap,
        id_space,
        holes,
        clean_up_tokenization_spaces: meta.clean_up_tokenization_spaces,
        split_special_tokens: meta.split_special_tokens,
        added,
        named: NamedTokens { bos, eos, pad },
    }
}

/// [`Info`] read off the canonical document rather than a built engine (for tinkex's own
/// engine, which never builds Hugging Face's to find out): the `added_tokens` as the engine
/// replays them (a later entry for an id replaces an earlier one; empty contents are ignored) and
/// a `TemplateProcessing` post-processor's single-sequence ids. `None` if the post-processor is
/// anything else (the engine's general path is needed then). The tests check it against
/// [`build`] for every lineup tokenizer.
pub fn info_from_document(doc: &Value, meta: PreparedMeta) -> Option<Info> {
    let mut by_id = std::collections::BTreeMap::new();
    for t in doc.get("added_tokens")?.as_array()? {
        let content = t.get("content")?.as_str()?;
        if content.is_empty() {
            continue;
        }
        let id = u32::try_from(t.get("id")?.as_u64()?).ok()?;
        let special = t.get("special").and_then(Value::as_bool).unwrap_or(false);
        by_id.insert(id, (content.to_owned(), special));
    }
    let added = by_id.into_iter().map(|(id, (c, s))| (c, id, s)).collect();
    let wrap = template_wrap(doc.get("post_processor").unwrap_or(&Value::Null))?;
    Some(info(added, Some(wrap), meta))
}

/// The ids a post-processor puts before and after a single sequence, if it is a plain template
/// (or does not touch ids: `ByteLevel`, none).
fn template_wrap(pp: &Value) -> Option<(Vec<u32>, Vec<u32>)> {
    match pp.get("type").and_then(Value::as_str) {
        None if pp.is_null() => Some((Vec::new(), Vec::new())),
        Some("ByteLevel") => Some((Vec::new(), Vec::new())),
        Some("Sequence") => {
            let mut wrap = (Vec::new(), Vec::new());
            for p in pp.get("processors")?.as_array()? {
                let (a, b) = template_wrap(p)?;
                if !a.is_empty() || !b.is_empty() {
                    if !wrap.0.is_empty() || !wrap.1.is_empty() {
                        return None;
                    }
                    wrap = (a, b);
                }
            }
            Some(wrap)
        }
        Some("TemplateProcessing") => {
            let (mut before, mut after, mut seen_a) = (Vec::new(), Vec::new(), false);
            for piece in pp.get("single")?.as_array()? {
                if piece.get("type_id").and_then(Value::as_u64).unwrap_or(0) != 0 {
                    return None;
                }
                if let Some(ids) = piece.get("ids") {
                    let ids = ids
                        .as_array()?
                        .iter()
                        .map(|i| u32::try_from(i.as_u64()?).ok())
                        .collect::<Option<Vec<u32>>>()?;
                    if seen_a {
                        after.extend(ids)
                    } else {
                        before.extend(ids)
                    }
                } else if piece.get("seq").and_then(Value::as_str) == Some("A") && !seen_a {
                    seen_a = true;
                } else {
                    return None;
                }
            }
            seen_a.then_some((before, after))
        }
        _ => None,
    }
}

/// The model's vocabulary, for id lookups and for finding unassigned ids. It borrows the parsed
/// `model` object rather than copying the vocabulary into a map of its own: that copy (100k-200k
/// strings) was ~6% of a first load.
struct ModelVocab<'a> {
    ids: VocabIds<'a>,
    /// Distinct tokens.
    len: usize,
    present: Vec<bool>,
    id_space: u32,
}

enum VocabIds<'a> {
    /// BPE / WordPiece / WordLevel `{token: id}`, every id checked to be a `u32`.
    Object(&'a Map<String, Value>),
    /// Unigram `[[token, score], …]`: the index is the id (the last of a repeated token wins).
    List(HashMap<&'a str, u32>),
}

impl ModelVocab<'_> {
    fn get(&self, token: &str) -> Option<u32> {
        match &self.ids {
            VocabIds::Object(map) => map.get(token)?.as_u64().map(|id| id as u32),
            VocabIds::List(map) => map.get(token).copied(),
        }
    }
}

/// Reads the vocabulary of `model` (the document's `model` object).
fn model_vocab(model: &Value) -> Result<ModelVocab<'_>, String> {
    let model = model.as_object().ok_or("`model` must be an object")?;
    let mut id_space = 0;
    let mut seen = Vec::new();
    let ids = match model.get("vocab") {
        Some(Value::Object(map)) => {
            seen.reserve(map.len());
            for (token, id) in map {
                let id = id
                    .as_u64()
                    .filter(|id| *id < u32::MAX as u64)
                    .ok_or_else(|| format!("vocab entry {token:?} has an invalid id {id}"))?;
                seen.push(id as u32);
            }
            VocabIds::Object(map)
        }
        Some(Value::Array(list)) => {
            let mut ids = HashMap::with_capacity(list.len());
            for (i, entry) in list.iter().enumerate() {
                let token = entry
                    .get(0)
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("vocab entry {i} is not a [token, score] pair"))?;
                ids.insert(token, i as u32);
            }
            seen.extend(ids.values().copied());
            VocabIds::List(ids)
        }
        Some(other) => {
            return Err(format!(
                "`model.vocab` must be an object or array, found {}",
                json_kind(other)
            ))
        }
        None => return Err("`model` has no `vocab`".into()),
    };
    for &id in &seen {
        id_space = id_space.max(id + 1);
    }
    let mut present = vec![false; id_space as usize];
    for &id in &seen {
        present[id as usize] = true;
    }
    Ok(ModelVocab {
        ids,
        len: seen.len(),
        present,
        id_space,
    })
}

/// Applies `added_tokens_decoder` and the named special tokens the way transformers'
/// `PreTrainedTokenizerFast.__init__` does, editing `added_tokens` in place.
///
/// transformers adds (with `add_tokens`) every config token whose repr differs from the backend's,
/// in id order, then every named special token the backend lacks. `add_tokens` keeps the id a
/// content already has (added vocabulary first, then the model vocabulary) and otherwise assigns
/// the next free id; it replaces the flags of an existing entry.
fn apply_added_tokens(
    root: &mut Map<String, Value>,
    vocab: &ModelVocab,
    config: &TokenizerConfig,
) -> Result<Vec<(String, u32, bool)>, String> {
    let list = match root.get_mut("added_tokens") {
        Some(Value::Array(list)) => list,
        Some(Value::Null) | None => {
            root.insert("added_tokens".into(), Value::Array(Vec::new()));
            match root.get_mut("added_tokens") {
                Some(Value::Array(list)) => list,
                _ => unreachable!("just inserted an array"),
            }
        }
        Some(other) => {
            return Err(format!(
                "`added_tokens` must be an array, found {}",
                json_kind(other)
            ))
        }
    };
    // content -> index in `list`
    let mut index: HashMap<String, usize> = HashMap::with_capacity(list.len());
    for (i, t) in list.iter().enumerate() {
        let content = t
            .get("content")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("added_tokens[{i}] has no string `content`"))?;
        t.get("id")
            .and_then(Value::as_u64)
            .filter(|id| *id < u32::MAX as u64)
            .ok_or_else(|| format!("added_tokens[{i}] has no valid `id`"))?;
        index.insert(content.to_owned(), i);
    }
    let named_special: Vec<&str> = config
        .special_tokens()
        .map(|t| t.content.as_str())
        .collect();

    let mut upsert = |list: &mut Vec<Value>, t: &ConfigToken, special: bool, only_new: bool| {
        if t.content.is_empty() || (only_new && index.contains_key(&t.content)) {
            return;
        }
        let entry = |id: u64| {
            json!({
                "id": id, "content": t.content, "single_word": t.single_word, "lstrip": t.lstrip,
                "rstrip": t.rstrip, "normalized": t.normalized, "special": special,
            })
        };
        if let Some(&i) = index.get(&t.content) {
            let id = list[i].get("id").and_then(Value::as_u64).unwrap_or(0);
            list[i] = entry(id);
            return;
        }
        let id = match vocab.get(&t.content) {
            Some(id) => id as u64,
            None => {
                let max_added = list.iter().filter_map(|t| t.get("id")?.as_u64()).max();
                let size = vocab.len as u64;
                match max_added {
                    Some(max) if max >= size => max + 1,
                    _ => size,
                }
            }
        };
        index.insert(t.content.clone(), list.len());
        list.push(entry(id));
    };

    for t in config.added_tokens_decoder.values() {
        let special = t.special || named_special.contains(&t.content.as_str());
        upsert(list, t, special, false);
    }
    for t in config.special_tokens() {
        upsert(list, t, true, true);
    }
    // The reader replays added tokens in id order, keeping a content's model-vocabulary id and
    // otherwise taking the next free one (as Python `tokenizers` does, whatever id was declared).
    // Replay the same here so the ids we hand to the BOS/EOS template are the ones it will use.
    list.sort_by_key(|t| t.get("id").and_then(Value::as_u64).unwrap_or(0));
    let size = vocab.len as u64;
    let mut max_added: Option<u64> = None;
    for t in list.iter_mut() {
        let content = t.get("content").and_then(Value::as_str).unwrap_or_default();
        let id = match vocab.get(content) {
            Some(id) => id as u64,
            None => match max_added {
                Some(max) if max >= size => max + 1,
                _ => size,
            },
        };
        max_added = Some(max_added.map_or(id, |m| m.max(id)));
        t["id"] = id.into();
    }
    Ok(list
        .iter()
        .filter_map(|t| {
            Some((
                t.get("content")?.as_str()?.to_owned(),
                t.get("id")?.as_u64()? as u32,
                t.get("special").and_then(Value::as_bool).unwrap_or(false),
            ))
        })
        .collect())
}

/// The post-processor transformers' `update_post_processor` installs:
/// `[bos] $A [eos]` / `[bos] $A [eos] [bos] $B [eos]`, as a legacy TemplateProcessing.
fn bos_eos_template(
    config: &TokenizerConfig,
    add_bos: bool,
    add_eos: bool,
    lookup: &dyn Fn(&str) -> Option<u32>,
) -> Result<Value, String> {
    let mut specials = Map::new();
    let mut piece =
        |role: &str, token: &Option<ConfigToken>, type_id: u32| -> Result<Value, String> {
            let t = token
                .as_ref()
                .ok_or_else(|| format!("add_{role}_token is true but {role}_token is not set"))?;
            let id = lookup(&t.content)
                .ok_or_else(|| format!("{role}_token {:?} is not in the vocabulary", t.content))?;
            specials.insert(
                t.content.clone(),
                json!({"id": t.content, "ids": [id], "tokens": [t.content]}),
            );
            Ok(json!({"SpecialToken": {"id": t.content, "type_id": type_id}}))
        };
    let mut single = Vec::new();
    let mut pair = Vec::new();
    for (seq, type_id) in [("A", 0u32), ("B", 1)] {
        let out = if seq == "A" { &mut single } else { &mut pair };
        if add_bos {
            out.push(piece("bos", &config.bos_token, type_id)?);
        }
        out.push(json!({"Sequence": {"id": seq, "type_id": type_id}}));
        if add_eos {
            out.push(piece("eos", &config.eos_token, type_id)?);
        }
    }
    let pair: Vec<Value> = single.iter().cloned().chain(pair).collect();
    Ok(
        json!({"type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": specials}),
    )
}

/// transformers sets a top-level `ByteLevel` pre-tokenizer's `add_prefix_space` to the config's
/// value (default false) when they differ.
fn adjust_prefix_space(root: &mut Map<String, Value>, config: &TokenizerConfig) {
    // Llama-class tokenizers pass `add_prefix_space=None`, which makes transformers' rebuild fail
    // and be skipped; only an explicit value changes them.
    let want = match (config.add_prefix_space, config.bos_eos_template()) {
        (Some(v), _) => v,
        (None, Some(_)) => return,
        (None, None) => false,
    };
    if let Some(Value::Object(pre)) = root.get_mut("pre_tokenizer") {
        if pre.get("type").and_then(Value::as_str) == Some("ByteLevel")
            && pre.get("add_prefix_space").and_then(Value::as_bool) != Some(want)
        {
            pre.insert("add_prefix_space".into(), Value::Bool(want));
        }
    }
}

/// Gives the calling thread the lowest CPU priority (Linux: nice 19; elsewhere nothing): the
/// engine build then runs on idle cores, and the caller's own threads (a batch encode on every
/// core) keep theirs. Threads it starts would inherit it; the build starts none. Best effort.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 19);
    }
}

/// The transformers rules this module reproduces, one test per rule; a failing test's name says
/// which rule broke.
#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = include_str!("../../tests/data/tiny/tokenizer.json");

    fn cfg(v: Value) -> TokenizerConfig {
        TokenizerConfig::parse(v.to_string().as_bytes(), Path::new("t")).expect("config parses")
    }

    fn bpe(vocab: Value) -> Value {
        json!({"type": "BPE", "vocab": vocab, "merges": []})
    }

    fn added_token(id: u32, content: &str, lstrip: bool, special: bool) -> Value {
        json!({"id": id, "content": content, "single_word": false, "lstrip": lstrip,
               "rstrip": false, "normalized": false, "special": special})
    }

    /// `apply_added_tokens` on a document with `added_tokens` over a model with `vocab`; the
    /// declared tokens and the edited `added_tokens` list.
    fn apply(added: Value, vocab: Value, config: Value) -> (Vec<(String, u32, bool)>, Vec<Value>) {
        let mut root = Map::new();
        root.insert("added_tokens".into(), added);
        let model = bpe(vocab);
        let vocab = model_vocab(&model).expect("vocab");
        let declared = apply_added_tokens(&mut root, &vocab, &cfg(config)).expect("applies");
        let list = root["added_tokens"].as_array().cloned().unwrap_or_default();
        (declared, list)
    }

    fn owned(t: &[(&str, u32, bool)]) -> Vec<(String, u32, bool)> {
        t.iter()
            .map(|(c, id, s)| (c.to_string(), *id, *s))
            .collect()
    }

    #[test]
    fn rule_added_token_known_to_the_model_keeps_its_vocabulary_id() {
        let (declared, _) = apply(
            json!([]),
            json!({"a": 0, "b": 1, "<x>": 2}),
            json!({"added_tokens_decoder": {"7": {"content": "<x>"}}}),
        );
        assert_eq!(
            declared,
            owned(&[("<x>", 2, false)]),
            "the config's id 7 must not win"
        );
    }

    #[test]
    fn rule_new_added_token_takes_the_next_free_id_not_the_declared_one() {
        let (declared, _) = apply(
            json!([]),
            json!({"a": 0, "b": 1}),
            json!({"added_tokens_decoder": {"9": {"content": "<new>"}}}),
        );
        assert_eq!(
            declared,
            owned(&[("<new>", 2, false)]),
            "first free id is the vocab size"
        );
        // After existing added tokens, the next id is one past the highest.
        let (declared, _) = apply(
            json!([added_token(5, "<e>", false, true)]),
            json!({"a": 0, "b": 1}),
            json!({"added_tokens_decoder": {"3": {"content": "<new>"}}}),
        );
        assert_eq!(
            declared,
            owned(&[("<e>", 2, true), ("<new>", 3, false)]),
            "ids are replayed in order: <e> takes 2 (the reader's next free id), <new> 3"
        );
    }

    #[test]
    fn rule_named_special_token_missing_from_the_backend_is_added_as_special() {
        let (declared, _) = apply(
            json!([]),
            json!({"a": 0, "b": 1}),
            json!({"bos_token": "<s>", "additional_special_tokens": ["<t>"]}),
        );
        assert_eq!(declared, owned(&[("<s>", 2, true), ("<t>", 3, true)]));
    }

    #[test]
    fn rule_named_special_token_already_added_keeps_its_entry() {
        let (_, list) = apply(
            json!([added_token(2, "<s>", true, true)]),
            json!({"a": 0, "b": 1}),
            json!({"bos_token": {"content": "<s>", "lstrip": false}}),
        );
        assert_eq!(list.len(), 1);
        assert_eq!(
            list[0]["lstrip"], true,
            "the named token must not replace the entry's flags"
        );
    }

    #[test]
    fn rule_decoder_entry_replaces_the_flags_of_an_existing_added_token() {
        let (_, list) = apply(
            json!([added_token(2, "<t>", false, false)]),
            json!({"a": 0, "b": 1}),
            json!({"added_tokens_decoder": {"2": {"content": "<t>", "lstrip": true}}}),
        );
        assert_eq!(list.len(), 1);
        assert_eq!(
            list[0]["lstrip"], true,
            "added_tokens_decoder's flags must win"
        );
    }

    #[test]
    fn rule_decoder_entry_that_is_a_named_special_token_is_special() {
        let (declared, _) = apply(
            json!([]),
            json!({"a": 0, "b": 1}),
            json!({"added_tokens_decoder": {"2": {"content": "<s>", "special": false}},
                   "bos_token": "<s>"}),
        );
        assert_eq!(declared, owned(&[("<s>", 2, true)]));
    }

    #[test]
    fn rule_added_tokens_must_be_an_array() {
        let mut root = Map::new();
        root.insert("added_tokens".into(), json!(3));
        let model = bpe(json!({"a": 0}));
        let vocab = model_vocab(&model).unwrap();
        let err = apply_added_tokens(&mut root, &vocab, &TokenizerConfig::default()).unwrap_err();
        assert!(err.contains("must be an array, found a number"), "{err}");
    }

    #[test]
    fn rule_model_vocabulary_holes_and_unigram_ids() {
        let model = bpe(json!({"a": 0, "c": 2}));
        let v = model_vocab(&model).unwrap();
        assert_eq!((v.id_space, v.len), (3, 2));
        assert_eq!(v.present, [true, false, true], "id 1 is a hole");
        let unigram = json!({"type": "Unigram", "vocab": [["a", 0.0], ["b", -1.0]]});
        let v = model_vocab(&unigram).unwrap();
        assert_eq!(
            (v.get("a"), v.get("b"), v.get("c")),
            (Some(0), Some(1), None)
        );
        let err = model_vocab(&json!({"vocab": "x"}))
            .err()
            .expect("a string vocab is an error");
        assert!(err.contains("found a string"), "{err}");
    }

    fn template_ids(v: &Value, which: &str) -> Vec<String> {
        v[which]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| match (p.get("SpecialToken"), p.get("Sequence")) {
                (Some(s), _) => s["id"].as_str().unwrap().to_owned(),
                (_, Some(s)) => format!("${}", s["id"].as_str().unwrap()),
                _ => panic!("{p}"),
            })
            .collect()
    }

    #[test]
    fn rule_bos_eos_classes_rebuild_the_template_from_the_flags() {
        let lookup = |t: &str| match t {
            "<s>" => Some(1),
            "</s>" => Some(2),
            _ => None,
        };
        let config = cfg(json!({"tokenizer_class": "LlamaTokenizerFast",
                                "bos_token": "<s>", "eos_token": "</s>", "add_eos_token": true}));
        let (bos, eos) = config
            .bos_eos_template()
            .expect("Llama rebuilds its template");
        let t = bos_eos_template(&config, bos, eos, &lookup).unwrap();
        assert_eq!(template_ids(&t, "single"), ["<s>", "$A", "</s>"]);
        assert_eq!(
            template_ids(&t, "pair"),
            ["<s>", "$A", "</s>", "<s>", "$B", "</s>"]
        );
        assert_eq!(t["special_tokens"]["<s>"]["ids"], json!([1]));
    }

    #[test]
    fn rule_add_bos_without_a_bos_token_is_an_error() {
        let config = cfg(json!({"tokenizer_class": "LlamaTokenizerFast"}));
        let err = bos_eos_template(&config, true, false, &|_| Some(0)).unwrap_err();
        assert!(err.contains("bos_token is not set"), "{err}");
    }

    #[test]
    fn rule_bos_token_outside_the_vocabulary_is_an_error() {
        let config = cfg(json!({"tokenizer_class": "LlamaTokenizerFast", "bos_token": "<s>"}));
        let err = bos_eos_template(&config, true, false, &|_| None).unwrap_err();
        assert!(err.contains("not in the vocabulary"), "{err}");
    }

    fn prefix_space_after(pre: Value, config: Value) -> Value {
        let mut root = Map::new();
        root.insert("pre_tokenizer".into(), pre);
        adjust_prefix_space(&mut root, &cfg(config));
        root["pre_tokenizer"].clone()
    }

    #[test]
    fn rule_byte_level_prefix_space_defaults_to_false() {
        let pre = json!({"type": "ByteLevel", "add_prefix_space": true});
        assert_eq!(
            prefix_space_after(pre, json!({}))["add_prefix_space"],
            false
        );
    }

    #[test]
    fn rule_explicit_add_prefix_space_is_applied() {
        let pre = json!({"type": "ByteLevel", "add_prefix_space": false});
        assert_eq!(
            prefix_space_after(pre, json!({"add_prefix_space": true}))["add_prefix_space"],
            true
        );
    }

    #[test]
    fn rule_llama_class_keeps_the_pre_tokenizer_without_an_explicit_value() {
        let pre = json!({"type": "ByteLevel", "add_prefix_space": true});
        let after = prefix_space_after(pre, json!({"tokenizer_class": "LlamaTokenizerFast"}));
        assert_eq!(after["add_prefix_space"], true);
    }

    #[test]
    fn rule_other_pre_tokenizers_are_left_alone() {
        let pre = json!({"type": "Metaspace", "add_prefix_space": true});
        let after = prefix_space_after(pre.clone(), json!({"add_prefix_space": false}));
        assert_eq!(after, pre);
    }

    #[test]
    fn rule_stored_truncation_and_padding_are_dropped() {
        let mut doc: Value = serde_json::from_str(TINY).unwrap();
        doc["truncation"] =
            json!({"direction": "Right", "max_length": 4, "strategy": "LongestFirst", "stride": 0});
        let (canonical, _) = prepare(&doc.to_string(), None, Path::new("t")).unwrap();
        let canonical: Value = serde_json::from_str(&canonical).unwrap();
        assert!(
            canonical["truncation"].is_null(),
            "{}",
            canonical["truncation"]
        );
        assert!(canonical["padding"].is_null());
    }

    #[test]
    fn rule_meta_defaults_and_named_token_ids() {
        let (_, meta) = prepare(TINY, None, Path::new("t")).unwrap();
        assert!(
            !meta.clean_up_tokenization_spaces,
            "transformers' default is false"
        );
        assert!(!meta.split_special_tokens);
        assert_eq!(meta.named, [None, None, None, None]);
        let config = json!({"eos_token": "<|end|>", "pad_token": "<pad>",
                            "clean_up_tokenization_spaces": true, "split_special_tokens": true});
        let (_, meta) = prepare(TINY, Some(&config.to_string()), Path::new("t")).unwrap();
        assert!(meta.clean_up_tokenization_spaces && meta.split_special_tokens);
        assert_eq!(
            meta.named[1],
            Some(("<|end|>".to_owned(), 258)),
            "eos: the added token"
        );
        assert_eq!(
            meta.named[2],
            Some(("<pad>".to_owned(), 259)),
            "pad: missing from the backend, so added after the last id"
        );
    }

    #[test]
    fn rule_a_config_error_names_the_config_file() {
        match prepare(TINY, Some(r#"{"bos_token": 3}"#), Path::new("dir")) {
            Err(Error::Parse { path, message, .. }) => {
                assert!(
                    path.ends_with("tokenizer_config.json"),
                    "{}",
                    path.display()
                );
                assert!(message.contains("bos_token"), "{message}");
            }
            other => panic!("expected a parse error, got {:?}", other.map(|_| ())),
        }
    }
}
