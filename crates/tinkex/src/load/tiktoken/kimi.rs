//! What is Kimi's own: its split pattern, its chunking of long text, its special-token layout
//! from `tokenizer_config.json`, and which ids `decode(_, skip_special_tokens = true)` drops.

use std::path::Path;

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::Value;

use super::TiktokenEngine;
use crate::error::{Error, Result};
use crate::load::config::{json_kind, ConfigToken, TokenizerConfig};

/// Kimi's `TIKTOKEN_MAX_ENCODE_CHARS`: the text is encoded in pieces of this many characters.
const MAX_ENCODE_CHARS: usize = 400_000;
/// Kimi's `MAX_NO_WHITESPACES_CHARS`: the longest run of whitespace or non-whitespace
/// characters handed to tiktoken in one call.
const MAX_RUN_CHARS: usize = 25_000;
/// Kimi's default `additional_special_tokens` (used when the config has none).
const KIMI_ADDITIONAL_SPECIAL_TOKENS: [&str; 8] = [
    "<|im_end|>",
    "<|im_user|>",
    "<|im_assistant|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "[EOT]",
    "<|im_system|>",
    "<|im_middle|>",
];

impl TiktokenEngine {
    /// Kimi's split pattern: the `|`-join of the eight alternatives of `TikTokenTokenizer.pat_str`
    /// in Moonshot's Kimi-K2 `tokenization_kimi.py`.
    pub const KIMI_PATTERN: &'static str = concat!(
        r"[\p{Han}]+",
        "|",
        r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        "|",
        r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        "|",
        r"\p{N}{1,3}",
        "|",
        r" ?[^\s\p{L}\p{N}]+[\r\n]*",
        "|",
        r"\s*[\r\n]+",
        "|",
        r"\s+(?!\S)",
        "|",
        r"\s+",
    );

    pub(super) fn build_decode_sets(&mut self, config: &KimiSpecials) {
        // transformers' all_special_tokens: bos, eos, unk, pad, then additional_special_tokens.
        let mut all_special: Vec<&str> = Vec::new();
        for t in [&config.bos, &config.eos, &config.unk, &config.pad]
            .into_iter()
            .flatten()
        {
            all_special.push(t);
        }
        match &config.additional_special_tokens {
            Some(list) => all_special.extend(list.iter().map(|s| &**s)),
            None => all_special.extend(KIMI_ADDITIONAL_SPECIAL_TOKENS),
        }
        let all_special_set: FxHashSet<&str> = all_special.iter().copied().collect();

        // Skipped: the id a name converts to, and any base token whose byte-level string is
        // that name (transformers also compares token strings).
        let mut skip = Vec::new();
        for name in &all_special {
            if let Some(&id) = self.special_ids.get(*name) {
                skip.push(id);
            }
            if let Some(id) = self.base_id_of_byte_level(name) {
                skip.push(id);
            }
        }
        for id in skip {
            if let Some(w) = self.skip_on_decode.get_mut((id / 64) as usize) {
                *w |= 1u64 << (id % 64);
            }
        }

        // Legacy added tokens: named special ids whose content is not a special token.
        let mut legacy = FxHashMap::default();
        for (&id, content) in &config.added_tokens {
            if !self.is_special_id(id) || all_special_set.contains(&**content) {
                continue;
            }
            legacy.insert(id, content.clone());
            if let Some(base) = self.base_id_of_byte_level(content) {
                legacy.insert(base, content.clone());
            }
        }
        self.legacy_added = legacy;
    }
}

// --------------------------------------------------------------------------------------------
// Kimi's chunking

/// Python's `str.isspace` (Unicode whitespace per Python: `White_Space` plus the information
/// separators U+001C..U+001F).
fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Calls `f` with each substring Kimi hands to tiktoken: 400,000-character chunks, each split
/// where a whitespace / non-whitespace run would exceed 25,000 characters. No copies.
pub(super) fn for_each_kimi_chunk(text: &str, mut f: impl FnMut(&str)) {
    if text.len() <= MAX_RUN_CHARS {
        // Fewer bytes than the run limit: fewer characters too, so nothing to split.
        if !text.is_empty() {
            f(text);
        }
        return;
    }
    let mut slice_start = 0;
    let mut chunk_chars = 0usize;
    let mut run_len = 0usize;
    let mut run_is_space = false;
    for (i, c) in text.char_indices() {
        if chunk_chars == MAX_ENCODE_CHARS {
            f(&text[slice_start..i]);
            slice_start = i;
            chunk_chars = 0;
        }
        let is_space = py_isspace(c);
        if chunk_chars == 0 {
            run_is_space = is_space;
            run_len = 0;
        }
        chunk_chars += 1;
        if is_space != run_is_space {
            run_is_space = is_space;
            run_len = 1;
        } else {
            run_len += 1;
            if run_len > MAX_RUN_CHARS {
                f(&text[slice_start..i]);
                slice_start = i;
                run_len = 1;
            }
        }
    }
    if slice_start < text.len() {
        f(&text[slice_start..]);
    }
}

/// The special-token settings of Kimi's `TikTokenTokenizer`: what it takes from
/// `tokenizer_config.json` (parsed by the one parser, [`TokenizerConfig`]), with its defaults.
pub(super) struct KimiSpecials {
    /// `added_tokens_decoder`: id → content.
    pub(super) added_tokens: FxHashMap<u32, Box<str>>,
    /// `bos_token`: Kimi's `[BOS]` when the key is absent, none when it is `null`.
    pub(super) bos: Option<Box<str>>,
    /// `eos_token`: Kimi's `[EOS]` when the key is absent, none when it is `null`.
    pub(super) eos: Option<Box<str>>,
    pub(super) pad: Option<Box<str>>,
    pub(super) unk: Option<Box<str>>,
    /// `None`: the key is absent or null (Kimi's defaults apply).
    pub(super) additional_special_tokens: Option<Vec<Box<str>>>,
}

impl KimiSpecials {
    /// Kimi's settings from `config` (`None`: there is no `tokenizer_config.json`).
    pub(super) fn new(config: Option<&TokenizerConfig>) -> Self {
        let content = |t: &Option<ConfigToken>| t.as_ref().map(|t| Box::from(t.content.as_str()));
        let Some(c) = config else {
            return KimiSpecials {
                added_tokens: FxHashMap::default(),
                bos: Some("[BOS]".into()),
                eos: Some("[EOS]".into()),
                pad: None,
                unk: None,
                additional_special_tokens: None,
            };
        };
        let named = |key: &str, t: &Option<ConfigToken>, default: &str| {
            if c.has_key(key) {
                content(t)
            } else {
                Some(default.into())
            }
        };
        KimiSpecials {
            added_tokens: c
                .added_tokens_decoder
                .iter()
                .map(|(&id, t)| (id, Box::from(t.content.as_str())))
                .collect(),
            bos: named("bos_token", &c.bos_token, "[BOS]"),
            eos: named("eos_token", &c.eos_token, "[EOS]"),
            pad: content(&c.pad_token),
            unk: content(&c.unk_token),
            additional_special_tokens: c
                .additional_special_tokens
                .as_ref()
                .map(|list| list.iter().map(|t| Box::from(t.content.as_str())).collect()),
        }
    }
}

/// A `tiktoken_config.json` / `kimi_style.json`: a JSON object whose `pat_str` (a string)
/// overrides the split pattern and whose `num_reserved_special_tokens` (a non-negative 32-bit
/// integer) overrides the 256 special ids. Other keys are ignored; `null` counts as absent; any
/// other value of the wrong type is an [`Error::Parse`]. The one reader of these files.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct TiktokenSettings {
    /// `pat_str`.
    pub(crate) pattern: Option<String>,
    /// `num_reserved_special_tokens`.
    pub(crate) num_reserved: Option<u32>,
}

impl TiktokenSettings {
    /// Parses the file's bytes; `path` names it in errors.
    pub(crate) fn parse(raw: &[u8], path: &Path) -> Result<Self> {
        let v: Value = serde_json::from_slice(raw).map_err(|e| Error::parse_source(path, e))?;
        let Value::Object(o) = &v else {
            return Err(Error::parse(
                path,
                format!("must be a JSON object, found {}", json_kind(&v)),
            ));
        };
        let pattern = match o.get("pat_str") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(Error::parse(
                    path,
                    format!("`pat_str` must be a string, found {}", json_kind(other)),
                ))
            }
        };
        let num_reserved =
            match o.get("num_reserved_special_tokens") {
                None | Some(Value::Null) => None,
                Some(n) => Some(n.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(
                    || {
                        Error::parse(
                            path,
                            format!(
                        "`num_reserved_special_tokens` must be a non-negative 32-bit integer, \
                         found {n}"
                    ),
                        )
                    },
                )?),
            };
        Ok(TiktokenSettings {
            pattern,
            num_reserved,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use serde_json::Value;

    #[test]
    fn kimi_pattern_is_the_fixture_pattern() {
        assert_eq!(TiktokenEngine::KIMI_PATTERN, fixture_pattern());
        let v: Value = serde_json::from_slice(&config_bytes("kimi_style.json")).unwrap();
        assert_eq!(v["num_reserved_special_tokens"], 256);
    }

    #[test]
    fn fixture_layout() {
        let e = engine();
        assert_eq!(e.num_base_tokens(), 199_998);
        assert_eq!(e.vocab_size(), 199_998 + 256);
        let specials = e.special_tokens();
        assert_eq!(specials.len(), 256);
        assert_eq!(specials[0], ("[BOS]", 199_998));
        assert_eq!(specials[2], ("<|im_end|>", 200_000));
        assert_eq!(specials[10], ("<|reserved_token_200008|>", 200_008));
        assert_eq!(e.token_to_id("<|reserved_token_200253|>"), Some(200_253));
        assert_eq!(e.bos_token(), Some("[BOS]"));
        assert_eq!(e.eos_token(), Some("[EOS]"));
        assert_eq!(e.pad_token(), Some("[EOS]"));
        assert_eq!(e.unk_token(), None);
        assert!(e.is_special_id(199_998) && e.is_special_id(200_253));
        assert!(!e.is_special_id(199_997) && !e.is_special_id(200_254));
        // all_special_ids: bos, eos (= pad) and Kimi's eight additional special tokens.
        let skipped: Vec<u32> = (0..e.vocab_size())
            .filter(|&i| e.skips_on_decode(i))
            .collect();
        assert_eq!(skipped, (199_998..200_008).collect::<Vec<_>>());
        assert_eq!(e.pattern(), TiktokenEngine::KIMI_PATTERN);
    }

    #[test]
    fn parity_with_python_oracle() {
        let e = engine();
        let lines = jsonl("../parity/kimi_style.jsonl.zst");
        assert!(lines[0].get("meta").is_some());
        let (mut total, mut same_ids, mut same_decoded, mut same_skip) = (0, 0, 0, 0);
        let mut failures = Vec::new();
        for case in &lines[1..] {
            total += 1;
            let text = case["text"].as_str().expect("text");
            let want = ids_of(&case["ids"]);
            assert_eq!(want, ids_of(&case["ids_default"]), "Kimi adds no BOS");
            let got = e.encode(text);
            if got == want {
                same_ids += 1;
            } else {
                failures.push(format!("encode {text:?}: {got:?} != {want:?}"));
            }
            let decoded = e.decode(&want, false).expect("decode");
            if decoded == case["decoded"].as_str().unwrap() {
                same_decoded += 1;
            } else {
                failures.push(format!("decode {text:?}: {decoded:?}"));
            }
            let skipped = e.decode(&want, true).expect("decode skip");
            if skipped == case["decoded_skip"].as_str().unwrap() {
                same_skip += 1;
            } else {
                failures.push(format!("decode_skip {text:?}: {skipped:?}"));
            }
        }
        eprintln!(
            "kimi_style parity: {total} cases; ids identical {same_ids}, decoded identical \
             {same_decoded}, decoded_skip identical {same_skip}"
        );
        assert_eq!(total, 225);
        assert!(
            failures.is_empty(),
            "{} mismatches:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn extra_cases_chunking_and_decode() {
        let lines = jsonl("extra_cases.jsonl.zst");
        assert!(lines[0].get("meta").is_some());
        let mut checked = 0;
        for case in &lines[1..] {
            let name = case["name"].as_str().unwrap();
            match case["kind"].as_str().unwrap() {
                "encode" => {
                    let text = case["text"].as_str().unwrap();
                    let ids = engine().encode(text);
                    assert!(ids == ids_of(&case["ids"]), "{name}: encode differs");
                    let ordinary = engine().encode_ordinary(text);
                    assert!(
                        ordinary == ids_of(&case["ids_ordinary"]),
                        "{name}: encode_ordinary differs"
                    );
                    assert_eq!(engine().decode(&ordinary, false).unwrap(), text, "{name}");
                }
                "decode" => {
                    let e = match case["config"].as_str().unwrap() {
                        "fixture" => engine(),
                        _ => variant_engine(),
                    };
                    let ids = ids_of(&case["ids"]);
                    assert_eq!(
                        e.decode(&ids, false).unwrap(),
                        case["decoded"].as_str().unwrap(),
                        "{name}"
                    );
                    assert_eq!(
                        e.decode(&ids, true).unwrap(),
                        case["decoded_skip"].as_str().unwrap(),
                        "{name} (skip_special_tokens)"
                    );
                }
                other => panic!("unknown kind {other}"),
            }
            checked += 1;
        }
        assert_eq!(checked, lines.len() - 1);
        assert!(checked >= 60);
    }

    #[test]
    fn chunking_matches_kimi_split() {
        fn pieces(text: &str) -> Vec<(usize, usize)> {
            let mut out = Vec::new();
            for_each_kimi_chunk(text, |p| {
                // Pieces are borrowed from `text`, never copied.
                let start = p.as_ptr() as usize - text.as_ptr() as usize;
                out.push((start, p.chars().count()));
            });
            out
        }
        assert!(pieces("").is_empty());
        assert_eq!(pieces("ab c"), vec![(0, 4)]);
        let s = " ".repeat(60_000);
        assert_eq!(
            pieces(&s),
            vec![(0, 25_000), (25_000, 25_000), (50_000, 10_000)]
        );
        let s = format!("{}{}", " ".repeat(25_000), "a".repeat(25_001));
        assert_eq!(pieces(&s), vec![(0, 50_000), (50_000, 1)]);
        // Characters, not bytes: 400,000 '中' per chunk.
        let s = "中".repeat(400_001);
        let p = pieces(&s);
        let counts: Vec<usize> = p.iter().map(|x| x.1).collect();
        assert_eq!(counts.iter().sum::<usize>(), 400_001);
        assert_eq!(p.last().unwrap(), &(400_000 * 3, 1));
        // The run count restarts at each 400,000-character chunk.
        let s = format!("{}{}", "a".repeat(390_000), " ".repeat(20_000));
        let counts: Vec<usize> = pieces(&s).iter().map(|x| x.1).collect();
        assert_eq!(counts.iter().sum::<usize>(), 410_000);
        assert_eq!(
            counts,
            vec![25_000; 15]
                .into_iter()
                .chain([15_000 + 10_000, 10_000])
                .collect::<Vec<_>>()
        );
        // U+001C..U+001F are whitespace to Python (not to the regex's \s).
        let s = "\u{1c}".repeat(25_001);
        assert_eq!(pieces(&s).len(), 2);
    }

    #[test]
    fn isspace_is_pythons() {
        // [c for c in range(0x110000) if chr(c).isspace()] on CPython 3.11 (Unicode 14).
        const PY: [u32; 29] = [
            0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000,
            0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028,
            0x2029, 0x202f, 0x205f, 0x3000,
        ];
        let ours: Vec<u32> = (0..=0x10FFFFu32)
            .filter_map(char::from_u32)
            .filter(|&c| py_isspace(c))
            .map(|c| c as u32)
            .collect();
        assert_eq!(ours, PY);
    }

    #[test]
    fn long_runs_encode_without_panic() {
        let e = engine();
        for text in [
            " ".repeat(60_000),
            "a".repeat(60_000),
            "\u{3000}".repeat(600_000),
            " ".repeat(1_000_000),
            format!("{}x{}", " \n".repeat(300_000), "<|im_end|>"),
        ] {
            let ids = e.encode(&text);
            assert_eq!(e.decode(&ids, false).unwrap(), text);
        }
    }

    #[test]
    fn special_tokens_encode_and_decode() {
        let e = engine();
        assert_eq!(e.encode("[BOS]hi[EOS]"), vec![199_998, 3686, 199_999]);
        assert_eq!(e.encode("<|reserved_token_200100|>"), vec![200_100]);
        let ordinary = e.encode_ordinary("[BOS]hi[EOS]");
        assert!(ordinary.iter().all(|&id| id < e.num_base_tokens()));
        assert_eq!(e.decode(&ordinary, false).unwrap(), "[BOS]hi[EOS]");
        // Reserved ids are not in all_special_ids: kept by skip_special_tokens.
        let ids = e.encode("a<|reserved_token_200100|>b[EOS]");
        assert_eq!(e.decode(&ids, true).unwrap(), "a<|reserved_token_200100|>b");
        assert_eq!(
            e.decode_bytes(&ids, true).unwrap(),
            b"a<|reserved_token_200100|>b"
        );
    }

    #[test]
    fn malformed_configs_are_errors() {
        let model = tiny_model(&[]);
        let load = |cfg: &str| {
            TiktokenEngine::from_parts(&model, Some(cfg.as_bytes()), None, Some(4), Path::new("t"))
        };
        for bad in [
            "",
            "[]",
            "{",
            r#"{"added_tokens_decoder": []}"#,
            r#"{"added_tokens_decoder": {"x": {"content": "a"}}}"#,
            r#"{"added_tokens_decoder": {"256": {}}}"#,
            r#"{"added_tokens_decoder": {"256": {"content": ""}}}"#,
            r#"{"added_tokens_decoder": {"256": {"content": "<a>"}, "257": {"content": "<a>"}}}"#,
            r#"{"added_tokens_decoder": {"257": {"content": "<|reserved_token_256|>"}}}"#,
            r#"{"bos_token": 3}"#,
            r#"{"additional_special_tokens": "x"}"#,
            r#"{"additional_special_tokens": [1]}"#,
        ] {
            assert!(
                matches!(load(bad), Err(Error::Parse { .. })),
                "{bad:?} should be a parse error"
            );
        }
        let e = load(r#"{"bos_token": {"content": "<s>", "__type": "AddedToken"}, "eos_token": null,
                          "added_tokens_decoder": {"256": {"content": "<s>"}, "9": {"content": "z"}}}"#)
            .unwrap();
        assert_eq!(e.bos_token(), Some("<s>"));
        assert_eq!(e.eos_token(), None);
        assert_eq!(e.token_to_id("<s>"), Some(256));
        assert!(e.skips_on_decode(256));
        // Entries outside the special range are ignored, as Kimi's layout does.
        assert_eq!(e.id_to_token(9).as_deref(), Some("ĉ"));
    }

    #[test]
    fn tiktoken_settings_are_read_strictly() {
        let p = Path::new("d/tiktoken_config.json");
        assert_eq!(
            TiktokenSettings::parse(
                br#"{"pat_str": "a+", "num_reserved_special_tokens": 3, "other": [1]}"#,
                p
            )
            .unwrap(),
            TiktokenSettings {
                pattern: Some("a+".into()),
                num_reserved: Some(3)
            }
        );
        let nulls = br#"{"pat_str": null, "num_reserved_special_tokens": null}"#;
        assert_eq!(
            TiktokenSettings::parse(nulls, p).unwrap(),
            TiktokenSettings::default()
        );
        for bad in [
            r#"{"pat_str": 3}"#,
            r#"{"num_reserved_special_tokens": -1}"#,
            r#"{"num_reserved_special_tokens": 1.5}"#,
            r#"{"num_reserved_special_tokens": "3"}"#,
            r#"{"num_reserved_special_tokens": 4294967296}"#,
            "[]",
            "{",
        ] {
            match TiktokenSettings::parse(bad.as_bytes(), p) {
                Err(Error::Parse { path, .. }) => assert_eq!(path, p),
                other => panic!("{bad}: expected a parse error, got {other:?}"),
            }
        }
    }

    #[test]
    fn kimi_bos_eos_defaults_apply_only_to_absent_keys() {
        let model = tiny_model(&[b"[BOS]", b"[EOS]"]);
        let load = |cfg: Option<&str>| {
            TiktokenEngine::from_parts(
                &model,
                cfg.map(str::as_bytes),
                None,
                Some(2),
                Path::new("t"),
            )
            .unwrap()
        };
        let e = load(None);
        assert_eq!(
            (e.bos_token(), e.eos_token()),
            (Some("[BOS]"), Some("[EOS]"))
        );
        let e = load(Some("{}"));
        assert_eq!(
            (e.bos_token(), e.eos_token()),
            (Some("[BOS]"), Some("[EOS]"))
        );
        let e = load(Some(r#"{"bos_token": null, "eos_token": "<e>"}"#));
        assert_eq!((e.bos_token(), e.eos_token()), (None, Some("<e>")));
        // Absent additional_special_tokens: Kimi's eight; an empty list: none of them.
        let named = r#"{"added_tokens_decoder": {"258": {"content": "<|im_end|>"}}"#;
        let e = load(Some(&format!("{named}}}")));
        assert!(
            e.skips_on_decode(258),
            "<|im_end|> is one of Kimi's default eight"
        );
        let e = load(Some(&format!(
            r#"{named}, "additional_special_tokens": []}}"#
        )));
        assert!(
            !e.skips_on_decode(258),
            "an empty list replaces the default eight"
        );
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn arbitrary_configs_load_or_are_config_parse_errors(data in proptest::collection::vec(any::<u8>(), 0..200),
                                             json in "\\{(\"(added_tokens_decoder|bos_token|additional_special_tokens|[0-9]{1,3}|content)\": ?(null|1|\"<a>\"|\\[\\]|\\{\\}|\\{\"25[6-9]\": \\{\"content\": \"<b>\"\\}\\}), ?)*\\}") {
                let model = tiny_model(&[]);
                for config in [&data[..], json.as_bytes()] {
                    match TiktokenEngine::from_parts(&model, Some(config), None, Some(4), Path::new("t")) {
                        // The layout does not depend on the config: 256 bytes, then 4 special ids.
                        Ok(e) => {
                            prop_assert_eq!(e.vocab_size(), 260);
                            prop_assert_eq!(e.special_tokens().len(), 4);
                        }
                        Err(Error::Parse { path, .. }) => {
                            prop_assert!(path.ends_with("tokenizer_config.json"), "{}", path.display())
                        }
                        Err(other) => prop_assert!(false, "not a parse error: {other}"),
                    }
                }
            }
        }
    }
}
