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

use super::config::{ConfigToken, TokenizerConfig};
use crate::error::{Error, Result};

/// A tokenizer.json engine plus what the config says about encode and decode.
pub struct HfEngine {
    /// The engine.
    pub tokenizer: PipelineTokenizer,
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
#[derive(Debug, Clone, Default)]
pub struct NamedTokens {
    /// `bos_token`.
    pub bos: Option<(String, u32)>,
    /// `eos_token`.
    pub eos: Option<(String, u32)>,
    /// `pad_token`.
    pub pad: Option<(String, u32)>,
    /// `unk_token`.
    pub unk: Option<(String, u32)>,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
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
pub fn prepare(
    tokenizer_json: &str,
    config_json: Option<&str>,
    origin: &Path,
) -> Result<(String, PreparedMeta)> {
    let tj_path = origin.join("tokenizer.json");
    let cfg_path = origin.join("tokenizer_config.json");
    let config = match config_json {
        Some(text) => TokenizerConfig::from_json(text).map_err(|m| Error::parse(&cfg_path, m))?,
        None => TokenizerConfig::default(),
    };
    let mut doc: Value =
        serde_json::from_str(tokenizer_json).map_err(|e| Error::parse(&tj_path, e))?;
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
    let canonical = serde_json::to_string(&doc).map_err(|e| Error::parse(&tj_path, e))?;
    Ok((canonical, meta))
}

/// Builds the engine from the text of `tokenizer.json` and, if present, `tokenizer_config.json`.
/// `origin` names the source in error messages.
pub fn load(tokenizer_json: &str, config_json: Option<&str>, origin: &Path) -> Result<HfEngine> {
    let (canonical, meta) = prepare(tokenizer_json, config_json, origin)?;
    build(&canonical, meta, origin)
}

/// Builds the engine from [`prepare`]'s output.
pub fn build(canonical: &str, meta: PreparedMeta, origin: &Path) -> Result<HfEngine> {
    let tj_path = origin.join("tokenizer.json");
    let tokenizer = tokenizers::from_json(canonical).map_err(|e| Error::Unsupported {
        path: tj_path.clone(),
        message: e.to_string(),
    })?;

    // The engine replays `added_tokens` itself and, like Python `tokenizers`, may give a token
    // another id than the one declared (the next free id); its answer is the truth.
    let mut added: Vec<(String, u32, bool)> = tokenizer
        .get_added_vocabulary()
        .get_added_tokens_decoder()
        .into_iter()
        .map(|(id, t)| (t.content, id, t.special))
        .collect();
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
    let template = &tokenizer.get_post_processor().single;
    let wrap = (!template.has_type_ids()).then(|| {
        let ids = |run: &[(PipelineToken, u8)]| run.iter().map(|(t, _)| t.id()).collect();
        (ids(&template.prefix), ids(&template.suffix))
    });
    let [bos, eos, pad, unk] = meta.named;
    Ok(HfEngine {
        wrap,
        tokenizer,
        id_space,
        holes,
        clean_up_tokenization_spaces: meta.clean_up_tokenization_spaces,
        split_special_tokens: meta.split_special_tokens,
        added,
        named: NamedTokens { bos, eos, pad, unk },
    })
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
                kind(other)
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
                kind(other)
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
