//! Building a [`TiktokenEngine`]: from Kimi's files ([`TiktokenEngine::from_parts`],
//! [`TiktokenEngine::from_dir`]) or from a plain tiktoken encoding
//! ([`TiktokenEngine::from_encoding`]), and the parts both share.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use fancy_regex::Regex;
use rustc_hash::FxHashMap;

use super::bpe::REGEX_SLOTS;
use super::kimi::KimiSpecials;
use super::ranks::{parse_rank_file, BaseVocab};
use super::{EncodeStyle, TiktokenEngine};
use crate::error::{Error, Result};
use crate::load::config::TokenizerConfig;

/// Kimi's default number of special ids after the base vocabulary.
const DEFAULT_NUM_RESERVED: u32 = 256;
/// Upper bound on `num_reserved_special_tokens` accepted from a configuration file.
const MAX_NUM_RESERVED: u32 = 1 << 20;
impl TiktokenEngine {
    /// Builds the engine from the raw bytes of `tiktoken.model`, of `tokenizer_config.json`
    /// (`None`: Kimi's defaults — `[BOS]`/`[EOS]`, no names for the special ids), an optional
    /// split pattern (`None` → [`Self::KIMI_PATTERN`]) and an optional number of special ids
    /// after the base vocabulary (`None` → 256).
    ///
    /// `origin` names the source in error messages (a directory or file path, or a pseudo-path
    /// such as `bundled:kimi`). Malformed input gives [`Error::Parse`] (the rank file: not
    /// `base64 rank` lines, bad base64, non-numeric/duplicate/missing ranks, duplicate tokens,
    /// a missing single byte, empty; the config: not JSON, bad `added_tokens_decoder`), a split
    /// pattern that does not compile gives [`Error::Unsupported`]. Never panics.
    pub fn from_parts(
        model: &[u8],
        config_json: Option<&[u8]>,
        pattern: Option<&str>,
        num_reserved: Option<u32>,
        origin: &Path,
    ) -> Result<Self> {
        let model_path = file_path(origin, "tiktoken.model");
        let config_path = file_path(origin, "tokenizer_config.json");

        let base = parse_rank_file(model, &model_path)?;
        let config = match config_json {
            Some(raw) => Some(TokenizerConfig::parse(raw, &config_path)?),
            None => None,
        };
        let config = KimiSpecials::new(config.as_ref());

        let num_reserved = num_reserved.unwrap_or(DEFAULT_NUM_RESERVED);
        if num_reserved > MAX_NUM_RESERVED {
            return Err(Error::Unsupported {
                path: origin.to_path_buf(),
                message: format!(
                    "num_reserved_special_tokens = {num_reserved} is larger than the supported \
                     {MAX_NUM_RESERVED}"
                ),
            });
        }
        let num_base = base.num_tokens;
        let vocab_size = num_base.checked_add(num_reserved).ok_or_else(|| {
            Error::parse(&model_path, "vocabulary size does not fit in a 32-bit id")
        })?;

        // Special names: added_tokens_decoder[id], else <|reserved_token_{id}|>.
        let mut special_names: Vec<Box<str>> = Vec::with_capacity(num_reserved as usize);
        let mut special_ids: FxHashMap<Box<str>, u32> = FxHashMap::default();
        for id in num_base..vocab_size {
            let name: Box<str> = match config.added_tokens.get(&id) {
                Some(content) => content.clone(),
                None => format!("<|reserved_token_{id}|>").into(),
            };
            if name.is_empty() {
                return Err(Error::parse(
                    &config_path,
                    format!("added_tokens_decoder names special id {id} with an empty string"),
                ));
            }
            if let Some(other) = special_ids.insert(name.clone(), id) {
                return Err(Error::parse(
                    &config_path,
                    format!("special ids {other} and {id} have the same content {name:?}"),
                ));
            }
            special_names.push(name);
        }

        let mut engine = Self::assemble(
            base,
            special_names,
            special_ids,
            pattern.unwrap_or(Self::KIMI_PATTERN),
            EncodeStyle::Kimi,
            origin,
            &model_path,
            &config_path,
        )?;
        engine.bos = config.bos.clone();
        engine.eos = config.eos.clone();
        engine.pad = config.pad.clone();
        engine.unk = config.unk.clone();
        engine.build_decode_sets(&config);
        Ok(engine)
    }

    /// Builds a plain tiktoken encoding, as Python `tiktoken.Encoding(pat_str, mergeable_ranks,
    /// special_tokens)` holds it, encoded the [`EncodeStyle::Ordinary`] way (this is how
    /// `o200k_base_chat` is built; see the module docs).
    ///
    /// `model` holds the ranks (`base64 rank` lines, ranks exactly `0..N`), `pattern` is the
    /// split pattern, `specials` the special tokens as `(name, id)`: their ids must be exactly
    /// `N..N + specials.len()`, in any order. `bos` and `eos` name two of them (what
    /// [`Self::bos_token`] / [`Self::eos_token`] report). Nothing is dropped by
    /// `decode(_, skip_special_tokens = true)`.
    ///
    /// `origin` names the source in error messages. A malformed rank file, an empty or
    /// repeated special name, or a `bos`/`eos` that is not a special name gives
    /// [`Error::Parse`]; special ids that do not directly follow the ranks, or a pattern that
    /// does not compile, give [`Error::Unsupported`]. Never panics.
    pub fn from_encoding(
        model: &[u8],
        pattern: &str,
        specials: &[(&str, u32)],
        bos: Option<&str>,
        eos: Option<&str>,
        origin: &Path,
    ) -> Result<Self> {
        let model_path = file_path(origin, "tiktoken.model");
        let base = parse_rank_file(model, &model_path)?;
        let num_base = base.num_tokens;
        let unsupported = |message: String| Error::Unsupported {
            path: origin.to_path_buf(),
            message,
        };
        let count = u32::try_from(specials.len())
            .ok()
            .filter(|&n| n <= MAX_NUM_RESERVED)
            .ok_or_else(|| {
                unsupported(format!(
                    "{} special tokens are more than the supported {MAX_NUM_RESERVED}",
                    specials.len()
                ))
            })?;
        let vocab_size = num_base.checked_add(count).ok_or_else(|| {
            Error::parse(&model_path, "vocabulary size does not fit in a 32-bit id")
        })?;

        // Index = id - N; every slot filled exactly once.
        let mut slots: Vec<Option<Box<str>>> = vec![None; specials.len()];
        let mut special_ids: FxHashMap<Box<str>, u32> = FxHashMap::default();
        for &(name, id) in specials {
            if name.is_empty() {
                return Err(Error::parse(
                    origin,
                    format!("special id {id} has an empty name"),
                ));
            }
            let slot = id
                .checked_sub(num_base)
                .and_then(|i| slots.get_mut(i as usize))
                .ok_or_else(|| {
                    unsupported(format!(
                        "special token {name:?} has id {id}; the {count} special ids must be \
                         {num_base}..{vocab_size}, right after the {num_base} ranks"
                    ))
                })?;
            if slot.is_some() {
                return Err(unsupported(format!(
                    "special id {id} is given twice; the {count} special ids must be \
                     {num_base}..{vocab_size}, each once"
                )));
            }
            if let Some(other) = special_ids.insert(name.into(), id) {
                return Err(Error::parse(
                    origin,
                    format!("special ids {other} and {id} have the same name {name:?}"),
                ));
            }
            *slot = Some(name.into());
        }
        // `count` distinct ids in a range of `count` slots: every slot is filled.
        let special_names: Vec<Box<str>> = slots.into_iter().flatten().collect();

        let named = |what: &str, name: Option<&str>| -> Result<Option<Box<str>>> {
            match name {
                None => Ok(None),
                Some(n) if special_ids.contains_key(n) => Ok(Some(n.into())),
                Some(n) => Err(Error::parse(
                    origin,
                    format!("the {what} token {n:?} is not one of the special tokens"),
                )),
            }
        };
        let (bos, eos) = (named("BOS", bos)?, named("EOS", eos)?);

        let mut engine = Self::assemble(
            base,
            special_names,
            special_ids,
            pattern,
            EncodeStyle::Ordinary,
            origin,
            &model_path,
            origin,
        )?;
        engine.bos = bos;
        engine.eos = eos;
        Ok(engine)
    }

    /// The parts every constructor shares: the byte table, the special-name matcher, the
    /// regex. Nothing is skipped on decode and no token is named BOS/EOS/PAD/UNK yet.
    #[allow(clippy::too_many_arguments)]
    fn assemble(
        base: BaseVocab,
        special_names: Vec<Box<str>>,
        special_ids: FxHashMap<Box<str>, u32>,
        pattern: &str,
        style: EncodeStyle,
        origin: &Path,
        model_path: &Path,
        specials_path: &Path,
    ) -> Result<Self> {
        let num_base = base.num_tokens;
        let vocab_size = u32::try_from(special_names.len())
            .ok()
            .and_then(|n| num_base.checked_add(n))
            .ok_or_else(|| {
                Error::parse(model_path, "vocabulary size does not fit in a 32-bit id")
            })?;

        // Flat byte table: base tokens in id order, then the special names.
        let mut bytes = base.bytes;
        let mut offsets = base.offsets;
        offsets.reserve(special_names.len());
        for name in &special_names {
            bytes.extend_from_slice(name.as_bytes());
            let end = u32::try_from(bytes.len()).map_err(|_| {
                Error::parse(
                    model_path,
                    "the vocabulary holds more than 4 GiB of token bytes",
                )
            })?;
            offsets.push(end);
        }

        let special_matcher = if special_names.is_empty() {
            None
        } else {
            let matcher = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(special_names.iter().map(|n| n.as_bytes()))
                .map_err(|e| Error::Unsupported {
                    path: specials_path.to_path_buf(),
                    message: format!("cannot index the special tokens: {e}"),
                })?;
            Some(matcher)
        };

        let pattern: Box<str> = pattern.into();
        let regex = Regex::new(&pattern).map_err(|e| Error::Unsupported {
            path: origin.to_path_buf(),
            message: format!("the split pattern does not compile: {e}"),
        })?;
        let regex_slots = (0..REGEX_SLOTS).map(|_| OnceLock::new()).collect();

        Ok(TiktokenEngine {
            ranks: base.ranks,
            bytes,
            offsets,
            num_base,
            vocab_size,
            special_names,
            special_ids,
            special_matcher,
            pattern,
            regex,
            regex_slots,
            style,
            skip_on_decode: vec![0; (vocab_size as usize).div_ceil(64)],
            legacy_added: FxHashMap::default(),
            bos: None,
            eos: None,
            pad: None,
            unk: None,
        })
    }
}

/// `origin/name` when `origin` is a directory-like origin, else `origin` itself.
fn file_path(origin: &Path, name: &str) -> PathBuf {
    let s = origin.to_string_lossy();
    if s.ends_with(".model") || s.ends_with(".tiktoken") || s.ends_with(".json") {
        origin.to_path_buf()
    } else {
        origin.join(name)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    #[test]
    fn bad_pattern_is_unsupported() {
        let model = tiny_model(&[]);
        let r = TiktokenEngine::from_parts(&model, None, Some("(unclosed"), None, Path::new("t"));
        assert!(matches!(r, Err(Error::Unsupported { .. })));
        let r = TiktokenEngine::from_parts(&model, None, None, Some(u32::MAX), Path::new("t"));
        assert!(matches!(r, Err(Error::Unsupported { .. })));
    }

    #[test]
    fn no_special_tokens() {
        let e =
            TiktokenEngine::from_parts(&tiny_model(&[b"ab"]), None, None, Some(0), Path::new("t"))
                .unwrap();
        assert_eq!(e.vocab_size(), 257);
        assert!(e.special_tokens().is_empty());
        assert_eq!(e.encode("ab<|x|>"), e.encode_ordinary("ab<|x|>"));
        assert_eq!(e.encode("ab")[..], [256]);
    }

    #[test]
    fn from_encoding_checks_its_inputs() {
        let model = tiny_model(&[b"ab"]); // 257 ranks
        let build = |specials: &[(&str, u32)], bos: Option<&str>| {
            TiktokenEngine::from_encoding(&model, r"\S+|\s+", specials, bos, None, Path::new("t"))
        };
        // Out of order is fine: ids 257, 258.
        let e = build(&[("<b>", 258), ("<a>", 257)], Some("<a>")).unwrap();
        assert_eq!(e.special_tokens(), [("<a>", 257), ("<b>", 258)]);
        assert_eq!(e.bos_token(), Some("<a>"));
        assert_eq!(e.encode("ab<a>"), [256, 60, 97, 62]);
        assert_eq!(e.decode(&[257, 256], true).unwrap(), "<a>ab");
        // No specials at all.
        assert_eq!(build(&[], None).unwrap().vocab_size(), 257);

        let unsupported = |specials: &[(&str, u32)], want: &str| match build(specials, None) {
            Err(Error::Unsupported { message, .. }) => {
                assert!(message.contains(want), "{message}")
            }
            other => panic!("{specials:?}: expected Unsupported, got {other:?}"),
        };
        unsupported(&[("<a>", 256)], "must be 257..258");
        unsupported(&[("<a>", 258)], "must be 257..258");
        unsupported(&[("<a>", 257), ("<b>", 259)], "must be 257..259");
        unsupported(&[("<a>", 257), ("<b>", 257)], "given twice");
        unsupported(&[("<a>", u32::MAX)], "must be 257..258");

        let parse =
            |specials: &[(&str, u32)], bos: Option<&str>, want: &str| match build(specials, bos) {
                Err(Error::Parse { message, .. }) => assert!(message.contains(want), "{message}"),
                other => panic!("{specials:?}: expected Parse, got {other:?}"),
            };
        parse(&[("<a>", 257), ("<a>", 258)], None, "same name");
        parse(&[("", 257)], None, "empty name");
        parse(
            &[("<a>", 257)],
            Some("<s>"),
            "not one of the special tokens",
        );
        parse(&[("<a>", 257)], Some("ab"), "not one of the special tokens");
        assert!(matches!(
            TiktokenEngine::from_encoding(b"", r"\S+", &[], None, None, Path::new("t")),
            Err(Error::Parse { .. })
        ));
        assert!(matches!(
            TiktokenEngine::from_encoding(&model, "(", &[], None, None, Path::new("t")),
            Err(Error::Unsupported { .. })
        ));
    }

    /// The engine `Tokenizer::from_path(dir)` builds: the files `source::local` finds, built
    /// as `load::engine` builds them.
    fn from_dir(dir: &Path) -> Result<TiktokenEngine> {
        match crate::load::engine(crate::source::local(dir)?, None, None)? {
            crate::load::Engine::Tiktoken(e) => Ok(*e),
            _ => panic!("{} did not load as tiktoken", dir.display()),
        }
    }

    #[test]
    fn from_dir_reads_the_side_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tiktoken.model"), model_bytes()).unwrap();
        std::fs::write(
            dir.path().join("tokenizer_config.json"),
            config_bytes("tokenizer_config.json"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("kimi_style.json"),
            config_bytes("kimi_style.json"),
        )
        .unwrap();
        let e = from_dir(dir.path()).unwrap();
        assert_eq!(e.vocab_size(), engine().vocab_size());
        assert_eq!(
            e.encode("<|im_user|>héllo 世界"),
            engine().encode("<|im_user|>héllo 世界")
        );
        std::fs::write(
            dir.path().join("tiktoken_config.json"),
            r#"{"pat_str": "(", "num_reserved_special_tokens": 3}"#,
        )
        .unwrap();
        assert!(matches!(
            from_dir(dir.path()),
            Err(Error::Unsupported { .. })
        ));
        std::fs::write(
            dir.path().join("tiktoken_config.json"),
            r#"{"num_reserved_special_tokens": -3}"#,
        )
        .unwrap();
        assert!(matches!(from_dir(dir.path()), Err(Error::Parse { .. })));
        std::fs::write(
            dir.path().join("tiktoken_config.json"),
            r#"{"num_reserved_special_tokens": 12}"#,
        )
        .unwrap();
        assert_eq!(from_dir(dir.path()).unwrap().vocab_size(), 199_998 + 12);
        std::fs::remove_file(dir.path().join("tiktoken.model")).unwrap();
        assert!(matches!(from_dir(dir.path()), Err(Error::NotFound { .. })));
    }
}
