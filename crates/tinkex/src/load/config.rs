//! `tokenizer_config.json`: the one parser of it, for both formats — the part transformers 4.57.6
//! applies on top of `tokenizer.json` ([`super::hf`]), and the part Kimi's `TikTokenTokenizer`
//! reads next to `tiktoken.model` ([`super::tiktoken`]).
//!
//! Only the keys that change token ids or decoded text are read; every other key (chat templates,
//! `model_max_length`, …) is ignored, whatever its value. The keys that are read are checked
//! strictly, the same way for both formats:
//!
//! * the document is a JSON object;
//! * a read key whose value is `null` counts as set to nothing (Kimi tells that apart from an
//!   absent key: its `[BOS]`/`[EOS]` defaults apply only when the key is absent, see
//!   [`TokenizerConfig::has_key`]);
//! * any other value of the wrong type is an [`Error::Parse`] naming the key and what was found:
//!   a token (`bos_token`, `eos_token`, `unk_token`, `pad_token`, the items of
//!   `additional_special_tokens`, the values of `added_tokens_decoder`) is a string or an
//!   `AddedToken` object with a string `content` whose flags, when present, are booleans;
//!   `added_tokens_decoder` is an object keyed by token ids; `additional_special_tokens` is a
//!   list; the flags (`add_bos_token`, …) are booleans; `tokenizer_class` is a string.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// What a JSON value is, for messages ("found a number").
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

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
    /// `what` names the value in error messages (`bos_token`, `added_tokens_decoder[5]`, …).
    fn from_value(
        v: &Value,
        default_special: bool,
        what: &str,
    ) -> std::result::Result<Self, String> {
        match v {
            Value::String(s) => Ok(ConfigToken {
                content: s.clone(),
                single_word: false,
                lstrip: false,
                rstrip: false,
                normalized: !default_special,
                special: default_special,
            }),
            Value::Object(o) => {
                let content = match o.get("content") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => {
                        return Err(format!(
                            "`{what}.content` must be a string, found {}",
                            json_kind(other)
                        ))
                    }
                    None => return Err(format!("`{what}` has no `content`")),
                };
                let flag = |k: &str, d: bool| match o.get(k) {
                    None | Some(Value::Null) => Ok(d),
                    Some(Value::Bool(b)) => Ok(*b),
                    Some(other) => Err(format!(
                        "`{what}.{k}` must be a boolean, found {}",
                        json_kind(other)
                    )),
                };
                Ok(ConfigToken {
                    content,
                    single_word: flag("single_word", false)?,
                    lstrip: flag("lstrip", false)?,
                    rstrip: flag("rstrip", false)?,
                    normalized: flag("normalized", !default_special)?,
                    special: flag("special", default_special)?,
                })
            }
            other => Err(format!(
                "`{what}` must be a string or an AddedToken object, found {}",
                json_kind(other)
            )),
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
    /// `additional_special_tokens`; `None` when absent or `null` (Kimi then has a default list).
    pub additional_special_tokens: Option<Vec<ConfigToken>>,
    /// `added_tokens_decoder`, by id.
    pub added_tokens_decoder: BTreeMap<u32, ConfigToken>,
    /// `clean_up_tokenization_spaces`.
    pub clean_up_tokenization_spaces: Option<bool>,
    /// `split_special_tokens`.
    pub split_special_tokens: Option<bool>,
    /// The top-level keys of the document.
    keys: BTreeSet<String>,
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

/// `o[key]`, with `null` read as absent.
fn get<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key).filter(|v| !v.is_null())
}

fn boolean(o: &Map<String, Value>, key: &str) -> std::result::Result<Option<bool>, String> {
    match get(o, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(format!(
            "`{key}` must be a boolean, found {}",
            json_kind(other)
        )),
    }
}

fn string(o: &Map<String, Value>, key: &str) -> std::result::Result<Option<String>, String> {
    match get(o, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "`{key}` must be a string, found {}",
            json_kind(other)
        )),
    }
}

fn token(o: &Map<String, Value>, key: &str) -> std::result::Result<Option<ConfigToken>, String> {
    get(o, key)
        .map(|v| ConfigToken::from_value(v, true, key))
        .transpose()
}

impl TokenizerConfig {
    /// Parses the bytes of a `tokenizer_config.json`; `path` names it in errors. Malformed JSON,
    /// a document that is not an object, or a read key of the wrong type (see the module docs)
    /// give [`Error::Parse`].
    pub fn parse(raw: &[u8], path: &Path) -> Result<Self> {
        let v: Value = serde_json::from_slice(raw).map_err(|e| Error::parse_source(path, e))?;
        Self::from_value(&v).map_err(|m| Error::parse(path, m))
    }

    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        let o = v.as_object().ok_or_else(|| {
            format!(
                "a tokenizer_config.json must be a JSON object, found {}",
                json_kind(v)
            )
        })?;
        let mut added_tokens_decoder = BTreeMap::new();
        match get(o, "added_tokens_decoder") {
            None => {}
            Some(Value::Object(map)) => {
                for (id, t) in map {
                    let id: u32 = id.parse().map_err(|_| {
                        format!("added_tokens_decoder key {id:?} is not a token id")
                    })?;
                    let t =
                        ConfigToken::from_value(t, false, &format!("added_tokens_decoder[{id}]"))?;
                    added_tokens_decoder.insert(id, t);
                }
            }
            Some(other) => {
                return Err(format!(
                    "`added_tokens_decoder` must be an object, found {}",
                    json_kind(other)
                ))
            }
        }
        let additional_special_tokens = match get(o, "additional_special_tokens") {
            None => None,
            Some(Value::Array(a)) => Some(
                a.iter()
                    .enumerate()
                    .map(|(i, t)| {
                        ConfigToken::from_value(t, true, &format!("additional_special_tokens[{i}]"))
                    })
                    .collect::<std::result::Result<Vec<_>, _>>()?,
            ),
            Some(other) => {
                return Err(format!(
                    "`additional_special_tokens` must be a list, found {}",
                    json_kind(other)
                ))
            }
        };
        Ok(TokenizerConfig {
            tokenizer_class: string(o, "tokenizer_class")?,
            add_bos_token: boolean(o, "add_bos_token")?,
            add_eos_token: boolean(o, "add_eos_token")?,
            add_prefix_space: boolean(o, "add_prefix_space")?,
            bos_token: token(o, "bos_token")?,
            eos_token: token(o, "eos_token")?,
            unk_token: token(o, "unk_token")?,
            pad_token: token(o, "pad_token")?,
            additional_special_tokens,
            added_tokens_decoder,
            clean_up_tokenization_spaces: boolean(o, "clean_up_tokenization_spaces")?,
            split_special_tokens: boolean(o, "split_special_tokens")?,
            keys: o.keys().cloned().collect(),
        })
    }

    /// Whether the document has `key` at all (with any value, `null` included).
    pub fn has_key(&self, key: &str) -> bool {
        self.keys.contains(key)
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
        .chain(self.additional_special_tokens.iter().flatten())
    }
}

/// One test per rule of the parser; a failing test's name says which rule broke.
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: &str) -> Result<TokenizerConfig> {
        TokenizerConfig::parse(v.as_bytes(), Path::new("dir/tokenizer_config.json"))
    }

    #[test]
    fn rule_malformed_json_keeps_the_parser_error_as_source() {
        let e = parse("{\"bos_token\": ").unwrap_err();
        let source = std::error::Error::source(&e).expect("serde_json's error as the source");
        let json = source
            .downcast_ref::<serde_json::Error>()
            .expect("a serde_json::Error");
        assert!(json.is_eof(), "{json}");
        assert!(e.to_string().contains(&json.to_string()), "{e}");
        // A wrong shape found after parsing has no parser error behind it.
        let e = parse("[]").unwrap_err();
        assert!(std::error::Error::source(&e).is_none(), "{e}");
    }

    fn parse_error(v: &str) -> String {
        match parse(v) {
            Err(Error::Parse { path, message, .. }) => {
                assert!(
                    path.ends_with("tokenizer_config.json"),
                    "{}",
                    path.display()
                );
                message
            }
            Err(other) => panic!("{v}: expected a parse error, got {other}"),
            Ok(c) => panic!("{v}: expected a parse error, got {c:?}"),
        }
    }

    #[test]
    fn rule_the_document_is_a_json_object() {
        assert!(parse_error("[]").contains("must be a JSON object, found an array"));
        parse_error("{");
        parse_error("");
    }

    #[test]
    fn rule_a_read_key_of_the_wrong_type_is_an_error_naming_the_key() {
        let cases = [
            (json!({"bos_token": 3}), "`bos_token`"),
            (json!({"eos_token": []}), "`eos_token`"),
            (json!({"unk_token": true}), "`unk_token`"),
            (json!({"pad_token": {"content": 1}}), "`pad_token.content`"),
            (
                json!({"pad_token": {"lstrip": true}}),
                "`pad_token` has no `content`",
            ),
            (
                json!({"bos_token": {"content": "<s>", "lstrip": "yes"}}),
                "`bos_token.lstrip`",
            ),
            (
                json!({"additional_special_tokens": "<a>"}),
                "`additional_special_tokens`",
            ),
            (
                json!({"additional_special_tokens": ["<a>", 1]}),
                "`additional_special_tokens[1]`",
            ),
            (
                json!({"added_tokens_decoder": []}),
                "`added_tokens_decoder`",
            ),
            (
                json!({"added_tokens_decoder": {"x": {"content": "a"}}}),
                "key \"x\"",
            ),
            (
                json!({"added_tokens_decoder": {"5": {}}}),
                "`added_tokens_decoder[5]`",
            ),
            (
                json!({"added_tokens_decoder": {"5": 5}}),
                "`added_tokens_decoder[5]`",
            ),
            (json!({"add_bos_token": "true"}), "`add_bos_token`"),
            (json!({"add_eos_token": 1}), "`add_eos_token`"),
            (json!({"add_prefix_space": "no"}), "`add_prefix_space`"),
            (
                json!({"clean_up_tokenization_spaces": 0}),
                "`clean_up_tokenization_spaces`",
            ),
            (
                json!({"split_special_tokens": "x"}),
                "`split_special_tokens`",
            ),
            (json!({"tokenizer_class": 7}), "`tokenizer_class`"),
        ];
        for (doc, key) in cases {
            let message = parse_error(&doc.to_string());
            assert!(
                message.contains(key),
                "{doc}: {message:?} should name {key}"
            );
            assert!(
                message.contains("found")
                    || message.contains("no `content`")
                    || message.contains("not a token id"),
                "{doc}: {message:?} should say what was found"
            );
        }
    }

    #[test]
    fn rule_keys_that_are_not_read_may_hold_anything() {
        let c = parse(r#"{"chat_template": 3, "model_max_length": "big", "x": [null]}"#).unwrap();
        assert!(c.bos_token.is_none() && c.added_tokens_decoder.is_empty());
        assert!(c.has_key("chat_template"));
    }

    #[test]
    fn rule_null_is_set_to_nothing_and_told_apart_from_absent() {
        let c = parse(
            r#"{"bos_token": null, "additional_special_tokens": null,
                          "added_tokens_decoder": null, "add_bos_token": null}"#,
        )
        .unwrap();
        assert!(c.bos_token.is_none() && c.add_bos_token.is_none());
        assert!(c.additional_special_tokens.is_none() && c.added_tokens_decoder.is_empty());
        assert!(c.has_key("bos_token"), "null is present (Kimi: no BOS)");
        assert!(!c.has_key("eos_token"), "absent (Kimi: its [EOS] default)");
        let c = parse(r#"{"additional_special_tokens": []}"#).unwrap();
        assert_eq!(
            c.additional_special_tokens,
            Some(vec![]),
            "an empty list is a list"
        );
    }

    #[test]
    fn rule_token_strings_and_objects_take_transformers_defaults() {
        let c = parse(
            r#"{"bos_token": "<s>",
                "eos_token": {"content": "</s>", "lstrip": true, "normalized": true},
                "added_tokens_decoder": {"7": "<t>", "8": {"content": "<u>", "special": true}}}"#,
        )
        .unwrap();
        let bos = c.bos_token.as_ref().unwrap();
        assert_eq!(
            (bos.content.as_str(), bos.special, bos.normalized),
            ("<s>", true, false)
        );
        let eos = c.eos_token.as_ref().unwrap();
        assert!(eos.lstrip && eos.normalized && eos.special && !eos.rstrip && !eos.single_word);
        // added_tokens_decoder entries are not special unless they say so.
        let t = &c.added_tokens_decoder[&7];
        assert_eq!(
            (t.content.as_str(), t.special, t.normalized),
            ("<t>", false, true)
        );
        assert!(c.added_tokens_decoder[&8].special);
    }

    #[test]
    fn rule_bos_eos_template_only_for_the_classes_that_rebuild_it() {
        let class = |c: &str, extra: &str| {
            parse(&format!(r#"{{"tokenizer_class": "{c}"{extra}}}"#))
                .unwrap()
                .bos_eos_template()
        };
        assert_eq!(class("LlamaTokenizerFast", ""), Some((true, false)));
        assert_eq!(
            class("LlamaTokenizer", ""),
            Some((true, false)),
            "with or without Fast"
        );
        assert_eq!(class("GemmaTokenizerFast", ""), Some((true, false)));
        assert_eq!(class("GPTNeoXTokenizerFast", ""), Some((false, false)));
        assert_eq!(
            class(
                "LlamaTokenizerFast",
                r#", "add_bos_token": false, "add_eos_token": true"#
            ),
            Some((false, true)),
            "the flags override the class defaults"
        );
        assert_eq!(
            class("GPT2TokenizerFast", r#", "add_bos_token": true"#),
            None
        );
        assert_eq!(class("PreTrainedTokenizerFast", ""), None);
        assert_eq!(parse("{}").unwrap().bos_eos_template(), None);
    }

    #[test]
    fn rule_all_special_tokens_are_bos_eos_unk_pad_then_additional() {
        let c = parse(
            r#"{"additional_special_tokens": ["<a>"], "pad_token": "<p>", "unk_token": "<u>",
                "eos_token": "<e>", "bos_token": "<b>"}"#,
        )
        .unwrap();
        let order: Vec<&str> = c.special_tokens().map(|t| t.content.as_str()).collect();
        assert_eq!(order, ["<b>", "<e>", "<u>", "<p>", "<a>"]);
    }

    #[test]
    fn rule_every_shipped_config_parses_under_the_strict_rules() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut paths: Vec<_> = std::fs::read_dir(root.join("bundled"))
            .unwrap()
            .map(|e| e.unwrap().path().join("tokenizer_config.json"))
            .filter(|p| p.exists())
            .collect();
        for name in ["tokenizer_config.json", "tokenizer_config_variant.json"] {
            paths.push(root.join("tests/data/kimi_style").join(name));
        }
        assert!(paths.len() >= 8, "{paths:?}");
        for p in paths {
            let raw = std::fs::read(&p).unwrap();
            if let Err(e) = TokenizerConfig::parse(&raw, &p) {
                panic!("{e}");
            }
        }
    }

    #[test]
    fn json_kind_names_every_json_type() {
        let kinds: Vec<&str> = [
            json!(null),
            json!(true),
            json!(1),
            json!("s"),
            json!([]),
            json!({}),
        ]
        .iter()
        .map(json_kind)
        .collect();
        assert_eq!(
            kinds,
            [
                "null",
                "a boolean",
                "a number",
                "a string",
                "an array",
                "an object"
            ]
        );
    }
}
