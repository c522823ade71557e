//! `tokenizer_config.json`: the part of it transformers 4.57.6 applies on top of `tokenizer.json`.
//!
//! Only the keys that change token ids or decoded text are read; everything else (chat templates,
//! model_max_length, …) is ignored. Unknown keys and unexpected value types are tolerated the way
//! transformers tolerates them: a key with the wrong type is treated as absent.

use std::collections::BTreeMap;

use serde_json::Value;

/// A token named in the config: either a plain string or an `AddedToken` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigToken {
    /// The token text.
    pub content: String,
    /// `single_word` flag (objects only; strings default to false).
    pub single_word: bool,
    /// `lstrip` flag.
    pub lstrip: bool,
    /// `rstrip` flag.
    pub rstrip: bool,
    /// `normalized` flag (transformers' default for a special token given as a string is false).
    pub normalized: bool,
    /// `special` flag.
    pub special: bool,
}

impl ConfigToken {
    fn from_value(v: &Value, default_special: bool) -> Option<Self> {
        match v {
            Value::String(s) => Some(ConfigToken {
                content: s.clone(),
                single_word: false,
                lstrip: false,
                rstrip: false,
                normalized: !default_special,
                special: default_special,
            }),
            Value::Object(o) => {
                let content = o.get("content")?.as_str()?.to_owned();
                let flag = |k: &str, d: bool| o.get(k).and_then(Value::as_bool).unwrap_or(d);
                Some(ConfigToken {
                    content,
                    single_word: flag("single_word", false),
                    lstrip: flag("lstrip", false),
                    rstrip: flag("rstrip", false),
                    normalized: flag("normalized", !default_special),
                    special: flag("special", default_special),
                })
            }
            _ => None,
        }
    }
}

/// The parsed, relevant subset of a `tokenizer_config.json`.
#[derive(Debug, Clone, Default)]
pub struct TokenizerConfig {
    /// `tokenizer_class`, e.g. `LlamaTokenizerFast`.
    pub tokenizer_class: Option<String>,
    /// `add_bos_token`.
    pub add_bos_token: Option<bool>,
    /// `add_eos_token`.
    pub add_eos_token: Option<bool>,
    /// `add_prefix_space`.
    pub add_prefix_space: Option<bool>,
    /// `bos_token`.
    pub bos_token: Option<ConfigToken>,
    /// `eos_token`.
    pub eos_token: Option<ConfigToken>,
    /// `unk_token`.
    pub unk_token: Option<ConfigToken>,
    /// `pad_token`.
    pub pad_token: Option<ConfigToken>,
    /// `additional_special_tokens`.
    pub additional_special_tokens: Vec<ConfigToken>,
    /// `added_tokens_decoder`, by id.
    pub added_tokens_decoder: BTreeMap<u32, ConfigToken>,
    /// `clean_up_tokenization_spaces`.
    pub clean_up_tokenization_spaces: Option<bool>,
    /// `split_special_tokens`.
    pub split_special_tokens: Option<bool>,
}

/// How a transformers tokenizer class treats `add_bos_token` / `add_eos_token`.
///
/// In transformers 4.57.6 only these fast classes rebuild the post-processor from the two flags
/// (`update_post_processor`); every other class keeps `tokenizer.json`'s own post-processor.
/// Source: `transformers/models/{llama,code_llama,gemma,cohere,gpt_neox}/tokenization_*_fast.py`.
const BOS_EOS_TEMPLATE_CLASSES: &[(&str, bool, bool)] = &[
    // (class without the `Fast` suffix, add_bos default, add_eos default)
    ("LlamaTokenizer", true, false),
    ("CodeLlamaTokenizer", true, false),
    ("GemmaTokenizer", true, false),
    ("CohereTokenizer", true, false),
    ("GPTNeoXTokenizer", false, false),
];

impl TokenizerConfig {
    /// Parses a `tokenizer_config.json` document.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let o = v
            .as_object()
            .ok_or_else(|| "a tokenizer_config.json must be a JSON object".to_owned())?;
        let boolean = |k: &str| o.get(k).and_then(Value::as_bool);
        let token = |k: &str| o.get(k).and_then(|t| ConfigToken::from_value(t, true));
        let mut added_tokens_decoder = BTreeMap::new();
        if let Some(Value::Object(map)) = o.get("added_tokens_decoder") {
            for (id, t) in map {
                let id: u32 = id
                    .parse()
                    .map_err(|_| format!("added_tokens_decoder key {id:?} is not a token id"))?;
                let t = ConfigToken::from_value(t, false)
                    .ok_or_else(|| format!("added_tokens_decoder[{id}] has no `content`"))?;
                added_tokens_decoder.insert(id, t);
            }
        }
        let additional_special_tokens = match o.get("additional_special_tokens") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|t| ConfigToken::from_value(t, true))
                .collect(),
            _ => Vec::new(),
        };
        Ok(TokenizerConfig {
            tokenizer_class: o
                .get("tokenizer_class")
                .and_then(Value::as_str)
                .map(str::to_owned),
            add_bos_token: boolean("add_bos_token"),
            add_eos_token: boolean("add_eos_token"),
            add_prefix_space: boolean("add_prefix_space"),
            bos_token: token("bos_token"),
            eos_token: token("eos_token"),
            unk_token: token("unk_token"),
            pad_token: token("pad_token"),
            additional_special_tokens,
            added_tokens_decoder,
            clean_up_tokenization_spaces: boolean("clean_up_tokenization_spaces"),
            split_special_tokens: boolean("split_special_tokens"),
        })
    }

    /// The class name without a trailing `Fast`.
    pub fn base_class(&self) -> Option<&str> {
        let c = self.tokenizer_class.as_deref()?;
        Some(c.strip_suffix("Fast").unwrap_or(c))
    }

    /// `Some((add_bos, add_eos))` when the class rebuilds its post-processor from those flags.
    pub fn bos_eos_template(&self) -> Option<(bool, bool)> {
        let class = self.base_class()?;
        let &(_, bos, eos) = BOS_EOS_TEMPLATE_CLASSES
            .iter()
            .find(|(c, _, _)| *c == class)?;
        Some((
            self.add_bos_token.unwrap_or(bos),
            self.add_eos_token.unwrap_or(eos),
        ))
    }

    /// bos, eos, unk, pad and the additional special tokens: transformers' `all_special_tokens`.
    pub fn special_tokens(&self) -> impl Iterator<Item = &ConfigToken> {
        [
            &self.bos_token,
            &self.eos_token,
            &self.unk_token,
            &self.pad_token,
        ]
        .into_iter()
        .flatten()
        .chain(self.additional_special_tokens.iter())
    }
}
