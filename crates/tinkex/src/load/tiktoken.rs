//! The tiktoken-format engine: Moonshot's Kimi tokenizers (`tiktoken.model` +
//! `tokenizer_config.json`), reproducing `tokenization_kimi.py` (`TikTokenTokenizer`) on top of
//! Python `tiktoken`, as shipped in the Kimi-K2 repositories; and plain tiktoken encodings with
//! a fixed special-token list, encoded the `encode_ordinary` way — Inkling's `o200k_base_chat`
//! ([`TiktokenEngine::from_encoding`], [`EncodeStyle::Ordinary`]; see below).
//!
//! # What Kimi's tokenizer does, and what this module reproduces
//!
//! * **Vocabulary.** `tiktoken.model` holds one `base64 rank` pair a line; the ranks are the ids
//!   of the base vocabulary (`N` tokens). Kimi appends `num_reserved_special_tokens` (256)
//!   special ids `N..N+256`; id `i` is named by `added_tokens_decoder[i].content` from
//!   `tokenizer_config.json`, otherwise `<|reserved_token_{i}|>`. The vocabulary size is
//!   `N + 256`.
//! * **Split pattern.** [`TiktokenEngine::KIMI_PATTERN`], run by `fancy-regex` — the engine
//!   Python `tiktoken` uses too, so the `&&` class intersections behave identically.
//! * **`encode(text)`** = `tiktoken.Encoding.encode(substr, allowed_special="all")` over
//!   substrings: the text is cut into 400,000-character pieces (characters = Unicode scalar
//!   values, Python's `len`), and each piece is cut further wherever a run of whitespace or of
//!   non-whitespace (Python's `str.isspace`) would exceed 25,000 characters
//!   (`_split_whitespaces_or_nonwhitespaces`). No BOS is added. Chunking never copies the text.
//! * **`decode(ids)`** = the tokens' bytes, decoded as UTF-8 with U+FFFD replacement (Python's
//!   `errors="replace"`, which replaces maximal invalid subsequences exactly like
//!   [`String::from_utf8_lossy`]).
//! * **`decode(ids, skip_special_tokens=True)`**: Kimi forwards any keyword argument to
//!   transformers' `PreTrainedTokenizer.decode` (the oracle's transformers 4.57.6). That drops
//!   the ids of `all_special_ids` — the `bos/eos/unk/pad` tokens and `additional_special_tokens`
//!   (the config's list, or Kimi's default eight: `<|im_end|>`, `<|im_user|>`,
//!   `<|im_assistant|>`, `<|start_header_id|>`, `<|end_header_id|>`, `[EOT]`, `<|im_system|>`,
//!   `<|im_middle|>`) — and **keeps** every other special id (`<|reserved_token_…|>`, and named
//!   tokens outside that list). A named `added_tokens_decoder` token that is not in that list
//!   is a transformers "legacy added token": it is decoded on its own and the decoded pieces
//!   are joined with a space (`spaces_between_special_tokens=True`). With Kimi's default layout
//!   (every named token is in the list) this never happens.
//!
//! # Differences from Python, all on inputs Python rejects or leaves undefined
//! * Python raises where an id is out of range; here decode returns
//!   [`Error::InvalidTokenId`].
//! * `tiktoken` raises if its regex engine gives up (backtrack/stack limit). Kimi's chunking
//!   keeps whitespace runs at 25,000 characters, far below that limit (it is reached beyond
//!   ~500,000 consecutive spaces), so it does not happen with Kimi's pattern; should it happen
//!   with a custom pattern, the failing stretch is split in halves and retried instead.
//! * A custom pattern that matches the empty string makes `tiktoken` panic; empty matches are
//!   skipped here.
//! * If one special name were a prefix of another, `tiktoken` would pick by hash-map order;
//!   here the longest name wins. (Kimi's names never are.)
//! * `added_tokens_decoder` entries outside the special range, and `bos`/`eos`/`unk`/`pad` /
//!   `additional_special_tokens` names that are not in the vocabulary (transformers would append
//!   them as new ids past the vocabulary), are ignored.
//! * The rank file is checked strictly: standard padded base64 (Python drops stray characters),
//!   ranks exactly `0..N` (Kimi's layout puts the special ids at `N`, which only makes sense
//!   then), no duplicate token, every one of the 256 single bytes present (tiktoken panics on
//!   text needing a missing one).
//!
//! # `o200k_base_chat` (Inkling), the [`EncodeStyle::Ordinary`] engine
//! What tml-renderers' `O200kBaseChatTokenizer` does, as tinker-cookbook's Inkling adapter
//! calls it (`encode_ordinary`, `decode`): o200k_base's ranks and split pattern
//! ([`TiktokenEngine::O200K_PATTERN`]) plus special tokens at fixed ids right after the ranks.
//! * **`encode(text)`** = tiktoken's `encode_ordinary(text)` on the whole text: special-token
//!   names in the text are ordinary text, nothing is added, and there is no chunking (Kimi's
//!   400,000-character pieces and 25,000-character runs do not apply).
//! * **`decode(ids)`**: the tokens' bytes, a special id giving its name, as UTF-8 with U+FFFD
//!   replacement. `skip_special_tokens` changes nothing: the producer's `decode` has no such
//!   option and the cookbook's adapter drops the keyword, so special names stay in the text.
//! * Without chunking, the regex engine's backtracking limit can be reached on a run of more
//!   than about 500,000 whitespace characters, where Python's tiktoken raises; the failing
//!   stretch is split in halves and retried instead, as above.
//!
//! # Implementation
//! The encode loop is tiktoken's, written here rather than delegated to
//! `tiktoken_rs::CoreBPE`: split with the pattern (`fancy-regex`, as tiktoken), look each piece
//! up, else merge it by lowest rank, leftmost first (a heap for pieces of 64 bytes or more,
//! like tiktoken above 100). `CoreBPE` asserts on duplicate ranks, indexes on missing bytes,
//! unwraps regex errors in `encode_ordinary`, underflows on empty matches and wants a
//! `HashSet` of allowed specials built per call; none of that suits untrusted files or
//! a data pipeline. Special names are found with Aho-Corasick (leftmost-longest). The tests
//! cross-check the result against `CoreBPE` and against Python.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use fancy_regex::Regex;
use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::Value;

use crate::error::{Error, Result};

/// Kimi's `TIKTOKEN_MAX_ENCODE_CHARS`: the text is encoded in pieces of this many characters.
const MAX_ENCODE_CHARS: usize = 400_000;
/// Kimi's `MAX_NO_WHITESPACES_CHARS`: the longest run of whitespace or non-whitespace
/// characters handed to tiktoken in one call.
const MAX_RUN_CHARS: usize = 25_000;
/// Kimi's default number of special ids after the base vocabulary.
const DEFAULT_NUM_RESERVED: u32 = 256;
/// Upper bound on `num_reserved_special_tokens` accepted from a configuration file.
const MAX_NUM_RESERVED: u32 = 1 << 20;
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
/// Files [`TiktokenEngine::from_dir`] reads a `pat_str` / `num_reserved_special_tokens` from,
/// first found wins (the same list as `crate::source`).
const EXTRA_FILES: [&str; 2] = ["tiktoken_config.json", "kimi_style.json"];
/// Pieces shorter than this are merged with a stack buffer (no allocation).
const SMALL_PIECE: usize = 64;
/// Number of independently compiled copies of the split regex (one per thread, round robin),
/// so threads do not share the regex engine's scratch-space pool.
const REGEX_SLOTS: usize = 64;

/// What [`TiktokenEngine::encode`] does with its input besides splitting and merging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeStyle {
    /// Kimi's `TikTokenTokenizer.encode`: special-token names in the text become their ids
    /// (`allowed_special="all"`), and the text is chunked as Kimi chunks it.
    Kimi,
    /// tiktoken's `Encoding.encode_ordinary` on the whole text: special-token names are
    /// ordinary text, no chunking (`o200k_base_chat`).
    Ordinary,
}

/// A Kimi / tiktoken-format tokenizer: byte-level BPE over `tiktoken.model` ranks, Kimi's split
/// pattern, Kimi's special-token layout and chunking — or, built by
/// [`TiktokenEngine::from_encoding`], a plain tiktoken encoding encoded the `encode_ordinary`
/// way. Immutable once built; `Send + Sync`, and encoding takes no lock of its own.
pub struct TiktokenEngine {
    /// Token bytes → id, base vocabulary only (what BPE merges look up).
    ranks: RankMap,
    /// Bytes of every id (base tokens, then special names), back to back.
    bytes: Vec<u8>,
    /// `bytes[offsets[id]..offsets[id + 1]]` are the bytes of `id`; `vocab_size + 1` entries.
    offsets: Vec<u32>,
    /// Number of base tokens (`N`); special ids are `N..vocab_size`.
    num_base: u32,
    /// `N + num_reserved`.
    vocab_size: u32,
    /// Special names, index = `id - N`.
    special_names: Vec<Box<str>>,
    /// Special name → id.
    special_ids: FxHashMap<Box<str>, u32>,
    /// Finds special names in text (leftmost, longest); `None` when there are none.
    special_matcher: Option<AhoCorasick>,
    /// The split pattern.
    pattern: Box<str>,
    /// The split regex as compiled at construction.
    regex: Regex,
    /// Per-thread copies of the split regex, compiled on first use.
    regex_slots: Box<[OnceLock<Regex>]>,
    /// Kimi's encode (special names recognised, chunking) or tiktoken's `encode_ordinary`.
    style: EncodeStyle,
    /// Bit set over ids: dropped by `decode(_, skip_special_tokens = true)`.
    skip_on_decode: Vec<u64>,
    /// Ids that transformers decodes as "legacy added tokens" (content kept apart, pieces
    /// joined with spaces) when `skip_special_tokens` is true.
    legacy_added: FxHashMap<u32, Box<str>>,
    bos: Option<Box<str>>,
    eos: Option<Box<str>>,
    pad: Option<Box<str>>,
    unk: Option<Box<str>>,
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TiktokenEngine>();
};

impl std::fmt::Debug for TiktokenEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TiktokenEngine")
            .field("num_base", &self.num_base)
            .field("vocab_size", &self.vocab_size)
            .field("pattern", &self.pattern)
            .field("style", &self.style)
            .finish_non_exhaustive()
    }
}

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

    /// o200k_base's split pattern: the `|`-join of the seven alternatives of tiktoken's
    /// `o200k_base` `pat_str` (the same string as tiktoken-rs 0.12.1's `O200K_BASE_PAT_STR`).
    pub const O200K_PATTERN: &'static str = concat!(
        r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        "|",
        r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        "|",
        r"\p{N}{1,3}",
        "|",
        r" ?[^\s\p{L}\p{N}]+[\r\n/]*",
        "|",
        r"\s*[\r\n]+",
        "|",
        r"\s+(?!\S)",
        "|",
        r"\s+",
    );

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
            Some(raw) => KimiConfig::parse(raw, &config_path)?,
            None => KimiConfig::default(),
        };

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

    /// Loads `dir/tiktoken.model`, `dir/tokenizer_config.json` (optional) and the first of
    /// `dir/tiktoken_config.json`, `dir/kimi_style.json` that exists (optional; a JSON object
    /// whose `pat_str` string overrides the split pattern and whose
    /// `num_reserved_special_tokens` number overrides the 256 special ids).
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let model_path = dir.join("tiktoken.model");
        let model = std::fs::read(&model_path).map_err(|e| Error::io(&model_path, e))?;
        let config = read_optional(&dir.join("tokenizer_config.json"))?;
        let mut pattern = None;
        let mut num_reserved = None;
        for name in EXTRA_FILES {
            let path = dir.join(name);
            if let Some(raw) = read_optional(&path)? {
                let v: Value = serde_json::from_slice(&raw).map_err(|e| Error::parse(&path, e))?;
                match v.get("pat_str") {
                    None | Some(Value::Null) => {}
                    Some(Value::String(s)) => pattern = Some(s.clone()),
                    Some(_) => return Err(Error::parse(&path, "`pat_str` is not a string")),
                }
                match v.get("num_reserved_special_tokens") {
                    None | Some(Value::Null) => {}
                    Some(n) => {
                        let n = n.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
                            Error::parse(
                                &path,
                                "`num_reserved_special_tokens` is not a non-negative 32-bit integer",
                            )
                        })?;
                        num_reserved = Some(n);
                    }
                }
                break;
            }
        }
        Self::from_parts(
            &model,
            config.as_deref(),
            pattern.as_deref(),
            num_reserved,
            dir,
        )
    }

    /// Encodes `text` as the tokenizer's own `encode` does; no BOS is added either way.
    /// [`EncodeStyle::Kimi`]: Kimi's `tokenizer.encode(text)` — special-token names in the text
    /// become their ids (`allowed_special="all"`), and the text is chunked as Kimi does (see the
    /// module docs). [`EncodeStyle::Ordinary`]: the same as [`Self::encode_ordinary`]. Never
    /// panics; allocates only the output (and scratch space for pieces of 64 bytes or more
    /// that are not a single token).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        self.encode_impl(text, self.style == EncodeStyle::Kimi)
    }

    /// Encodes `text` treating special-token names as ordinary text — Kimi's
    /// `encode(text, allow_special_tokens=False)` (`disallowed_special=()`, same chunking), or
    /// tiktoken's `encode_ordinary(text)` for [`EncodeStyle::Ordinary`] (no chunking).
    pub fn encode_ordinary(&self, text: &str) -> Vec<u32> {
        self.encode_impl(text, false)
    }

    /// What [`Self::encode`] does besides BPE: see [`EncodeStyle`].
    pub fn style(&self) -> EncodeStyle {
        self.style
    }

    /// Decodes `ids` to text. With `skip_special_tokens == false` this is Kimi's `decode(ids)`:
    /// the tokens' bytes (a special id gives its name) as UTF-8 with U+FFFD replacement. With
    /// `true` it is `decode(ids, skip_special_tokens=True)` as transformers 4.57 runs it for
    /// Kimi (see the module docs: only `all_special_ids` are dropped). An id outside
    /// `0..vocab_size` gives [`Error::InvalidTokenId`].
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String> {
        if !skip_special_tokens || self.legacy_added.is_empty() {
            let bytes = self.decode_bytes(ids, skip_special_tokens)?;
            return Ok(match String::from_utf8(bytes) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            });
        }
        // transformers' `_decode`: runs of ordinary tokens are decoded separately from legacy
        // added tokens, and the pieces are joined with " ".
        let mut out = String::new();
        let mut pieces = 0usize;
        let mut group: Vec<u8> = Vec::new();
        for &id in ids {
            let token = self.token_bytes_checked(id)?;
            if self.skips_on_decode(id) {
                continue;
            }
            if let Some(content) = self.legacy_added.get(&id) {
                if !group.is_empty() {
                    push_piece(&mut out, &mut pieces, &String::from_utf8_lossy(&group));
                    group.clear();
                }
                push_piece(&mut out, &mut pieces, content);
            } else {
                group.extend_from_slice(token);
            }
        }
        if !group.is_empty() {
            push_piece(&mut out, &mut pieces, &String::from_utf8_lossy(&group));
        }
        Ok(out)
    }

    /// Whether `decode(ids, skip_special_tokens=true)` joins "legacy added tokens" with spaces
    /// (see the module docs), i.e. is more than UTF-8 over [`TiktokenEngine::decode_bytes`].
    pub fn has_legacy_added_tokens(&self) -> bool {
        !self.legacy_added.is_empty()
    }

    /// The raw bytes of `ids` back to back (special ids give their names), without UTF-8
    /// decoding — for incremental (streaming) decoders. With `skip_special_tokens`, the ids
    /// [`Self::skips_on_decode`] reports are left out; the transformers spacing of legacy added
    /// tokens that [`Self::decode`] applies is not (it is not a byte-level operation; see
    /// [`Self::has_legacy_added_tokens`]).
    pub fn decode_bytes(&self, ids: &[u32], skip_special_tokens: bool) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(ids.len().saturating_mul(4));
        for &id in ids {
            let token = self.token_bytes_checked(id)?;
            if skip_special_tokens && self.skips_on_decode(id) {
                continue;
            }
            out.extend_from_slice(token);
        }
        Ok(out)
    }

    /// Number of ids: base tokens + special ids (Kimi's `n_words` / `vocab_size`).
    pub fn vocab_size(&self) -> u32 {
        self.vocab_size
    }

    /// Number of base (BPE) tokens, i.e. the first special id.
    pub fn num_base_tokens(&self) -> u32 {
        self.num_base
    }

    /// The token string of `id` as transformers' `convert_ids_to_tokens` gives it for Kimi:
    /// a special id gives its name; a base token gives its bytes in GPT-2's byte-level alphabet
    /// (`bytes_to_unicode`: e.g. `" hello"` → `"Ġhello"`), which is lossless and what
    /// [`Self::token_to_id`] takes back. `None` outside `0..vocab_size`.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        if id >= self.vocab_size {
            return None;
        }
        if id >= self.num_base {
            return self
                .special_names
                .get((id - self.num_base) as usize)
                .map(|s| s.to_string());
        }
        let bytes = self.token_bytes(id)?;
        Some(bytes.iter().map(|&b| byte_to_char(b)).collect())
    }

    /// The id of a token string: a special name, or a base token written in GPT-2's byte-level
    /// alphabet (the inverse of [`Self::id_to_token`]). `None` if there is no such token
    /// (transformers would answer the unk id, which Kimi's configs usually lack).
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        if let Some(&id) = self.special_ids.get(token) {
            return Some(id);
        }
        self.base_id_of_byte_level(token)
    }

    /// The special tokens, `(name, id)` in id order: every id of `num_base_tokens()..vocab_size()`.
    pub fn special_tokens(&self) -> Vec<(&str, u32)> {
        self.special_names
            .iter()
            .zip(self.num_base..)
            .map(|(name, id)| (&**name, id))
            .collect()
    }

    /// Whether `id` is one of the special ids (`num_base_tokens()..vocab_size()`), i.e. one that
    /// `encode` produces from a special name in the text.
    pub fn is_special_id(&self, id: u32) -> bool {
        id >= self.num_base && id < self.vocab_size
    }

    /// Whether `decode(_, skip_special_tokens = true)` drops `id`: the ids of the `bos`, `eos`,
    /// `unk`, `pad` tokens and of `additional_special_tokens` (transformers' `all_special_ids`).
    pub fn skips_on_decode(&self, id: u32) -> bool {
        self.skip_on_decode
            .get((id / 64) as usize)
            .is_some_and(|w| w & (1u64 << (id % 64)) != 0)
    }

    /// The split pattern in use.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// `bos_token` from `tokenizer_config.json` (Kimi's default `[BOS]` when the config has no
    /// such key; `None` when it is `null`).
    pub fn bos_token(&self) -> Option<&str> {
        self.bos.as_deref()
    }

    /// `eos_token` from `tokenizer_config.json` (Kimi's default `[EOS]` when absent).
    pub fn eos_token(&self) -> Option<&str> {
        self.eos.as_deref()
    }

    /// `pad_token` from `tokenizer_config.json` (none by default).
    pub fn pad_token(&self) -> Option<&str> {
        self.pad.as_deref()
    }

    /// `unk_token` from `tokenizer_config.json` (none by default).
    pub fn unk_token(&self) -> Option<&str> {
        self.unk.as_deref()
    }

    // ----------------------------------------------------------------------------------------
    // Construction helpers

    fn build_decode_sets(&mut self, config: &KimiConfig) {
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

    fn base_id_of_byte_level(&self, token: &str) -> Option<u32> {
        let mut buf = [0u8; 64];
        let mut heap_buf;
        let bytes: &[u8] = if token.chars().count() <= buf.len() {
            let mut n = 0;
            for c in token.chars() {
                buf[n] = char_to_byte(c)?;
                n += 1;
            }
            &buf[..n]
        } else {
            heap_buf = Vec::with_capacity(token.len());
            for c in token.chars() {
                heap_buf.push(char_to_byte(c)?);
            }
            &heap_buf
        };
        self.rank(bytes)
    }

    // ----------------------------------------------------------------------------------------
    // Encoding

    fn encode_impl(&self, text: &str, allow_special: bool) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 4 + 1);
        let regex = self.thread_regex();
        match self.style {
            EncodeStyle::Kimi => for_each_kimi_chunk(text, |chunk| {
                self.encode_chunk(chunk, allow_special, regex, &mut out)
            }),
            EncodeStyle::Ordinary => self.encode_chunk(text, allow_special, regex, &mut out),
        }
        out
    }

    /// One `tiktoken.Encoding.encode(chunk, ...)` call.
    fn encode_chunk(&self, chunk: &str, allow_special: bool, regex: &Regex, out: &mut Vec<u32>) {
        match (&self.special_matcher, allow_special) {
            (Some(matcher), true) => {
                let mut start = 0;
                for m in matcher.find_iter(chunk) {
                    // Special names are whole UTF-8 strings, so matches lie on char boundaries.
                    if let Some(segment) = chunk.get(start..m.start()) {
                        self.encode_ordinary_segment(segment, regex, out);
                    }
                    out.push(self.num_base + m.pattern().as_u32());
                    start = m.end();
                }
                if let Some(segment) = chunk.get(start..) {
                    self.encode_ordinary_segment(segment, regex, out);
                }
            }
            _ => self.encode_ordinary_segment(chunk, regex, out),
        }
    }

    /// Split with the regex, BPE each piece (tiktoken's ordinary encoding).
    fn encode_ordinary_segment(&self, segment: &str, regex: &Regex, out: &mut Vec<u32>) {
        let mut done = 0;
        for m in regex.find_iter(segment) {
            match m {
                Ok(m) => {
                    if m.start() < m.end() {
                        self.encode_piece(m.as_str().as_bytes(), out);
                    }
                    done = m.end();
                }
                Err(_) => {
                    // The regex engine gave up (backtracking limits): retry the rest in halves.
                    if let Some(rest) = segment.get(done..) {
                        self.encode_after_regex_error(rest, regex, out);
                    }
                    return;
                }
            }
        }
    }

    fn encode_after_regex_error(&self, text: &str, regex: &Regex, out: &mut Vec<u32>) {
        if text.is_empty() {
            return;
        }
        let mut mid = text.len() / 2;
        while mid > 0 && !text.is_char_boundary(mid) {
            mid -= 1;
        }
        if mid == 0 {
            // A single character: its bytes as one BPE piece.
            self.encode_piece(text.as_bytes(), out);
            return;
        }
        let (a, b) = text.split_at(mid);
        self.encode_ordinary_segment(a, regex, out);
        self.encode_ordinary_segment(b, regex, out);
    }

    fn thread_regex(&self) -> &Regex {
        static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);
        thread_local! {
            static THREAD_INDEX: usize = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
        }
        let index = THREAD_INDEX.try_with(|i| *i).unwrap_or(0) % REGEX_SLOTS;
        match self.regex_slots.get(index) {
            Some(slot) => slot
                .get_or_init(|| Regex::new(&self.pattern).unwrap_or_else(|_| self.regex.clone())),
            None => &self.regex,
        }
    }

    /// BPE of one regex piece (tiktoken's `byte_pair_encode`).
    fn encode_piece(&self, piece: &[u8], out: &mut Vec<u32>) {
        if let Some(id) = self.rank(piece) {
            out.push(id);
            return;
        }
        if piece.len() < SMALL_PIECE {
            self.merge_small(piece, out);
        } else {
            self.merge_large(piece, out);
        }
    }

    #[inline]
    fn rank(&self, bytes: &[u8]) -> Option<u32> {
        self.ranks.get(bytes, &self.bytes, &self.offsets)
    }

    #[inline]
    fn rank_of(&self, bytes: &[u8]) -> u32 {
        self.rank(bytes).unwrap_or(u32::MAX)
    }

    /// Pushes the id of a part the merge loop produced. Every part is a single byte or a
    /// merged pair, both in the vocabulary (checked at construction); the fallback is never
    /// taken but keeps this panic-free.
    fn push_part(&self, part: &[u8], out: &mut Vec<u32>) {
        match self.rank(part) {
            Some(id) => out.push(id),
            None => out.extend(part.iter().filter_map(|b| self.rank(&[*b][..]))),
        }
    }

    /// The classic merge loop for short pieces: repeatedly merge the adjacent pair with the
    /// lowest rank (leftmost on ties). `parts[i] = (start of part i, rank of part i + part i+1)`.
    fn merge_small(&self, piece: &[u8], out: &mut Vec<u32>) {
        let n = piece.len();
        if n < 2 {
            self.push_part(piece, out);
            return;
        }
        let mut parts = [(0usize, u32::MAX); SMALL_PIECE + 1];
        for (i, part) in parts.iter_mut().enumerate().take(n - 1) {
            *part = (i, self.rank_of(&piece[i..i + 2]));
        }
        parts[n - 1] = (n - 1, u32::MAX);
        parts[n] = (n, u32::MAX);
        let mut len = n + 1;
        loop {
            let mut best = (u32::MAX, 0usize);
            for (i, &(_, rank)) in parts[..len - 1].iter().enumerate() {
                if rank < best.0 {
                    best = (rank, i);
                }
            }
            if best.0 == u32::MAX {
                break;
            }
            let i = best.1;
            // Merge part i with part i+1.
            parts.copy_within(i + 2..len, i + 1);
            len -= 1;
            parts[i].1 = if i + 2 < len {
                self.rank_of(&piece[parts[i].0..parts[i + 2].0])
            } else {
                u32::MAX
            };
            if i > 0 {
                parts[i - 1].1 = self.rank_of(&piece[parts[i - 1].0..parts[i + 1].0]);
            }
        }
        for w in parts[..len].windows(2) {
            self.push_part(&piece[w[0].0..w[1].0], out);
        }
    }

    /// The same merges for long pieces, O(n log n): a heap of candidate pairs with lazy
    /// invalidation over a linked list of parts (tiktoken does the same above 100 bytes).
    fn merge_large(&self, piece: &[u8], out: &mut Vec<u32>) {
        let n = piece.len();
        if n < 2 {
            self.push_part(piece, out);
            return;
        }
        // For a live part starting at i: next[i] = start of the following part (n at the end),
        // prev[i] = start of the preceding part, pair[i] = rank of merging it with the next.
        let mut next: Vec<usize> = (1..=n).collect();
        let mut prev: Vec<usize> = (0..n).map(|i| i.wrapping_sub(1)).collect();
        let mut pair: Vec<u32> = vec![u32::MAX; n];
        let mut heap = BinaryHeap::with_capacity(n);
        for i in 0..n - 1 {
            let rank = self.rank_of(&piece[i..i + 2]);
            pair[i] = rank;
            if rank != u32::MAX {
                heap.push(Reverse((rank, i)));
            }
        }
        while let Some(Reverse((rank, i))) = heap.pop() {
            if pair[i] != rank {
                continue; // stale
            }
            let j = next[i];
            let k = next[j];
            next[i] = k;
            if k < n {
                prev[k] = i;
            }
            pair[j] = u32::MAX;
            pair[i] = if k < n {
                self.rank_of(&piece[i..next[k]])
            } else {
                u32::MAX
            };
            if pair[i] != u32::MAX {
                heap.push(Reverse((pair[i], i)));
            }
            if i > 0 {
                let p = prev[i];
                pair[p] = self.rank_of(&piece[p..k]);
                if pair[p] != u32::MAX {
                    heap.push(Reverse((pair[p], p)));
                }
            }
        }
        let mut i = 0;
        while i < n {
            self.push_part(&piece[i..next[i]], out);
            i = next[i];
        }
    }

    // ----------------------------------------------------------------------------------------
    // Decoding

    fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        let start = *self.offsets.get(id as usize)? as usize;
        let end = *self.offsets.get(id as usize + 1)? as usize;
        self.bytes.get(start..end)
    }

    fn token_bytes_checked(&self, id: u32) -> Result<&[u8]> {
        self.token_bytes(id).ok_or(Error::InvalidTokenId {
            id: u64::from(id),
            vocab_size: self.vocab_size,
        })
    }
}

fn push_piece(out: &mut String, pieces: &mut usize, piece: &str) {
    if *pieces > 0 {
        out.push(' ');
    }
    out.push_str(piece);
    *pieces += 1;
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

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
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
fn for_each_kimi_chunk(text: &str, mut f: impl FnMut(&str)) {
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

// --------------------------------------------------------------------------------------------
// GPT-2 byte-level alphabet (transformers' `bytes_to_unicode`)

const fn byte_is_printable(b: u8) -> bool {
    matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF)
}

/// `BYTE_TO_CHAR[b]`: printable bytes stand for themselves, the 68 others, in order, for
/// U+0100, U+0101, ...
const BYTE_TO_CHAR: [char; 256] = {
    let mut table = ['\0'; 256];
    let mut extra = 0u32;
    let mut b = 0usize;
    while b < 256 {
        table[b] = if byte_is_printable(b as u8) {
            b as u8 as char
        } else {
            extra += 1;
            match char::from_u32(256 + extra - 1) {
                Some(c) => c,
                None => '\0',
            }
        };
        b += 1;
    }
    table
};

/// The inverse for U+0100..: `EXTRA_TO_BYTE[c - 256]`.
const EXTRA_TO_BYTE: [u8; 68] = {
    let mut table = [0u8; 68];
    let mut extra = 0usize;
    let mut b = 0usize;
    while b < 256 {
        if !byte_is_printable(b as u8) {
            table[extra] = b as u8;
            extra += 1;
        }
        b += 1;
    }
    table
};

fn byte_to_char(b: u8) -> char {
    BYTE_TO_CHAR[b as usize]
}

pub(crate) fn char_to_byte(c: char) -> Option<u8> {
    let u = c as u32;
    if u < 256 {
        let b = u as u8;
        return byte_is_printable(b).then_some(b);
    }
    EXTRA_TO_BYTE.get((u - 256) as usize).copied()
}

// --------------------------------------------------------------------------------------------
// Rank lookup

/// Token bytes → rank, the lookup every BPE merge step makes. Tokens of up to 7 bytes (nearly
/// every pair the merge loop asks about) are keys packed into a `u64` — the bytes, then the
/// length in the top byte — so a lookup hashes one word and follows no pointer. Longer tokens
/// are ranks in a table compared against `bytes[offsets[rank]..]`, the engine's own copy of
/// the token bytes, so loading allocates nothing per token.
#[derive(Default)]
struct RankMap {
    short: FxHashMap<u64, u32>,
    long: hashbrown::HashTable<u32>,
}

impl RankMap {
    fn with_capacity(n: usize) -> Self {
        RankMap {
            short: FxHashMap::with_capacity_and_hasher(n, Default::default()),
            long: hashbrown::HashTable::with_capacity(n / 2),
        }
    }

    #[inline]
    fn pack(token: &[u8]) -> Option<u64> {
        if token.len() > 7 {
            return None;
        }
        let mut key = [0u8; 8];
        key[..token.len()].copy_from_slice(token);
        key[7] = token.len() as u8;
        Some(u64::from_le_bytes(key))
    }

    #[inline]
    fn hash_long(token: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        rustc_hash::FxBuildHasher.hash_one(token)
    }

    #[inline]
    fn token<'a>(rank: u32, bytes: &'a [u8], offsets: &[u32]) -> &'a [u8] {
        let start = offsets.get(rank as usize).copied().unwrap_or(0) as usize;
        let end = offsets.get(rank as usize + 1).copied().unwrap_or(0) as usize;
        bytes.get(start..end).unwrap_or(&[])
    }

    /// The rank of `token`; `bytes`/`offsets` are the ones the map was built with.
    #[inline]
    fn get(&self, token: &[u8], bytes: &[u8], offsets: &[u32]) -> Option<u32> {
        match Self::pack(token) {
            Some(key) => self.short.get(&key).copied(),
            None => self
                .long
                .find(Self::hash_long(token), |&r| {
                    Self::token(r, bytes, offsets) == token
                })
                .copied(),
        }
    }

    /// Adds `token` with `rank` (whose bytes `bytes`/`offsets` already hold); the rank it
    /// already had, if any, in which case nothing changes.
    fn insert(&mut self, token: &[u8], rank: u32, bytes: &[u8], offsets: &[u32]) -> Option<u32> {
        match Self::pack(token) {
            Some(key) => match self.short.entry(key) {
                std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(rank);
                    None
                }
            },
            None => {
                let hash = Self::hash_long(token);
                let eq = |&r: &u32| Self::token(r, bytes, offsets) == token;
                if let Some(&other) = self.long.find(hash, eq) {
                    return Some(other);
                }
                self.long.insert_unique(hash, rank, |&r| {
                    Self::hash_long(Self::token(r, bytes, offsets))
                });
                None
            }
        }
    }
}

// --------------------------------------------------------------------------------------------
// Parsing

struct BaseVocab {
    num_tokens: u32,
    ranks: RankMap,
    bytes: Vec<u8>,
    /// `num_tokens + 1` entries.
    offsets: Vec<u32>,
}

/// Parses `tiktoken.model`: `base64 rank` a line (blank lines ignored, `\r\n` accepted).
fn parse_rank_file(data: &[u8], path: &Path) -> Result<BaseVocab> {
    // (rank, start, end) into `raw`.
    let mut entries: Vec<(u32, u32, u32)> = Vec::new();
    let mut raw: Vec<u8> = Vec::with_capacity(data.len());
    for (line_no, line) in data.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let line_no = line_no + 1;
        let mut fields = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|f| !f.is_empty());
        let (Some(token), Some(rank), None) = (fields.next(), fields.next(), fields.next()) else {
            return Err(Error::parse(
                path,
                format!("line {line_no}: expected `<base64 token> <rank>`"),
            ));
        };
        let rank = std::str::from_utf8(rank)
            .ok()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u32>().ok())
            .ok_or_else(|| {
                Error::parse(
                    path,
                    format!(
                        "line {line_no}: rank {:?} is not a non-negative 32-bit integer",
                        String::from_utf8_lossy(rank)
                    ),
                )
            })?;
        let start = raw.len();
        decode_base64(token, &mut raw).map_err(|msg| {
            Error::parse(path, format!("line {line_no}: bad base64 token: {msg}"))
        })?;
        if raw.len() == start {
            return Err(Error::parse(path, format!("line {line_no}: empty token")));
        }
        let too_big = || Error::parse(path, "the rank file holds more than 4 GiB of tokens");
        let start = u32::try_from(start).map_err(|_| too_big())?;
        let end = u32::try_from(raw.len()).map_err(|_| too_big())?;
        entries.push((rank, start, end));
    }
    if entries.is_empty() {
        return Err(Error::parse(path, "no tokens (empty rank file)"));
    }
    let num_tokens =
        u32::try_from(entries.len()).map_err(|_| Error::parse(path, "more than 2^32 tokens"))?;

    // Ranks must be exactly 0..N: Kimi numbers the special ids from N = number of lines.
    let mut seen = vec![false; entries.len()];
    for &(rank, _, _) in &entries {
        match seen.get_mut(rank as usize) {
            Some(s) if *s => {
                return Err(Error::parse(path, format!("rank {rank} appears twice")));
            }
            Some(s) => *s = true,
            None => {
                return Err(Error::parse(
                    path,
                    format!(
                        "rank {rank} is out of range: the {num_tokens} tokens must have ranks \
                         0..{num_tokens} (Kimi numbers its special ids from the token count)"
                    ),
                ));
            }
        }
    }
    if !entries.is_sorted_by_key(|e| e.0) {
        entries.sort_unstable_by_key(|e| e.0);
    }

    let mut bytes = Vec::with_capacity(raw.len());
    let mut offsets = Vec::with_capacity(entries.len() + 1);
    offsets.push(0u32);
    // Entries are sorted by rank and ranks are exactly 0..N (checked above), so `bytes` and
    // `offsets` are indexed by rank.
    for &(_, start, end) in &entries {
        bytes.extend_from_slice(&raw[start as usize..end as usize]);
        // `bytes` is no longer than `raw`, whose length fits in u32.
        offsets.push(bytes.len() as u32);
    }
    let mut ranks = RankMap::with_capacity(entries.len());
    for &(rank, start, end) in &entries {
        let token = &raw[start as usize..end as usize];
        if let Some(other) = ranks.insert(token, rank, &bytes, &offsets) {
            return Err(Error::parse(
                path,
                format!("token {token:?} appears twice (ranks {other} and {rank})"),
            ));
        }
    }
    for b in 0..=255u8 {
        if ranks.get(&[b], &bytes, &offsets).is_none() {
            return Err(Error::parse(
                path,
                format!(
                    "byte 0x{b:02x} has no token: a tiktoken vocabulary must contain all 256 \
                     single bytes"
                ),
            ));
        }
    }
    Ok(BaseVocab {
        num_tokens,
        ranks,
        bytes,
        offsets,
    })
}

/// Strict standard base64 (RFC 4648 alphabet, `=` padding), as tiktoken writes rank files.
fn decode_base64(input: &[u8], out: &mut Vec<u8>) -> std::result::Result<(), String> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode_vec(input, out)
        .map_err(|e| e.to_string())
}

/// The parts of `tokenizer_config.json` Kimi's tokenizer reads.
struct KimiConfig {
    /// `added_tokens_decoder`: id → content.
    added_tokens: FxHashMap<u32, Box<str>>,
    bos: Option<Box<str>>,
    eos: Option<Box<str>>,
    pad: Option<Box<str>>,
    unk: Option<Box<str>>,
    /// `None`: the key is absent or null (Kimi's defaults apply).
    additional_special_tokens: Option<Vec<Box<str>>>,
}

impl Default for KimiConfig {
    fn default() -> Self {
        KimiConfig {
            added_tokens: FxHashMap::default(),
            bos: Some("[BOS]".into()),
            eos: Some("[EOS]".into()),
            pad: None,
            unk: None,
            additional_special_tokens: None,
        }
    }
}

impl KimiConfig {
    fn parse(raw: &[u8], path: &Path) -> Result<Self> {
        let v: Value = serde_json::from_slice(raw).map_err(|e| Error::parse(path, e))?;
        let Value::Object(obj) = &v else {
            return Err(Error::parse(path, "not a JSON object"));
        };
        let mut config = KimiConfig::default();

        if let Some(decoder) = obj.get("added_tokens_decoder") {
            match decoder {
                Value::Null => {}
                Value::Object(map) => {
                    for (key, entry) in map {
                        let id: u32 = key.parse().map_err(|_| {
                            Error::parse(
                                path,
                                format!("added_tokens_decoder key {key:?} is not a token id"),
                            )
                        })?;
                        let content = token_content(entry).ok_or_else(|| {
                            Error::parse(
                                path,
                                format!("added_tokens_decoder[{key}] has no string `content`"),
                            )
                        })?;
                        config.added_tokens.insert(id, content.into());
                    }
                }
                _ => return Err(Error::parse(path, "added_tokens_decoder is not an object")),
            }
        }

        let named = |key: &str, default: Option<Box<str>>| -> Result<Option<Box<str>>> {
            match obj.get(key) {
                None => Ok(default),
                Some(Value::Null) => Ok(None),
                Some(v) => token_content(v)
                    .map(|s| Some(s.into()))
                    .ok_or_else(|| Error::parse(path, format!("`{key}` is not a token"))),
            }
        };
        config.bos = named("bos_token", config.bos.take())?;
        config.eos = named("eos_token", config.eos.take())?;
        config.pad = named("pad_token", None)?;
        config.unk = named("unk_token", None)?;

        match obj.get("additional_special_tokens") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                let list = items
                    .iter()
                    .map(|t| token_content(t).map(Box::from))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        Error::parse(path, "additional_special_tokens holds a non-token")
                    })?;
                config.additional_special_tokens = Some(list);
            }
            Some(_) => {
                return Err(Error::parse(
                    path,
                    "additional_special_tokens is not a list",
                ));
            }
        }
        Ok(config)
    }
}

/// A token as transformers serialises it: a string, or an `AddedToken` object with `content`.
fn token_content(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("content").and_then(Value::as_str),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::sync::OnceLock;

    fn data_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kimi_style")
    }

    fn read_zst(name: &str) -> Vec<u8> {
        let path = data_dir().join(name);
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut out = Vec::new();
        zstd::stream::read::Decoder::new(file)
            .and_then(|mut d| d.read_to_end(&mut out))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out
    }

    fn model_bytes() -> &'static [u8] {
        static MODEL: OnceLock<Vec<u8>> = OnceLock::new();
        MODEL.get_or_init(|| read_zst("tiktoken.model.zst"))
    }

    fn config_bytes(name: &str) -> Vec<u8> {
        std::fs::read(data_dir().join(name)).expect("config")
    }

    fn fixture_pattern() -> String {
        let v: Value = serde_json::from_slice(&config_bytes("kimi_style.json")).unwrap();
        v["pat_str"].as_str().unwrap().to_owned()
    }

    fn engine() -> &'static TiktokenEngine {
        static ENGINE: OnceLock<TiktokenEngine> = OnceLock::new();
        ENGINE.get_or_init(|| {
            TiktokenEngine::from_parts(
                model_bytes(),
                Some(&config_bytes("tokenizer_config.json")),
                Some(&fixture_pattern()),
                Some(256),
                Path::new("bundled:kimi_style"),
            )
            .expect("fixture loads")
        })
    }

    fn variant_engine() -> &'static TiktokenEngine {
        static ENGINE: OnceLock<TiktokenEngine> = OnceLock::new();
        ENGINE.get_or_init(|| {
            TiktokenEngine::from_parts(
                model_bytes(),
                Some(&config_bytes("tokenizer_config_variant.json")),
                None,
                None,
                Path::new("bundled:kimi_style_variant"),
            )
            .expect("variant loads")
        })
    }

    fn jsonl(name: &str) -> Vec<Value> {
        let raw = read_zst(name);
        let text = std::str::from_utf8(&raw).expect("utf-8");
        text.lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect()
    }

    fn ids_of(v: &Value) -> Vec<u32> {
        v.as_array()
            .expect("ids array")
            .iter()
            .map(|x| x.as_u64().expect("id") as u32)
            .collect()
    }

    fn tiny_model(tokens: &[&[u8]]) -> Vec<u8> {
        // All 256 single bytes (ranks 0..256), then `tokens`.
        let mut out = String::new();
        let mut rank = 0;
        let mut line = |bytes: &[u8], out: &mut String| {
            out.push_str(&encode_base64(bytes));
            out.push_str(&format!(" {rank}\n"));
            rank += 1;
        };
        for b in 0..=255u8 {
            line(&[b], &mut out);
        }
        for t in tokens {
            line(t, &mut out);
        }
        out.into_bytes()
    }

    fn encode_base64(bytes: &[u8]) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    s.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    s.push('=');
                }
            }
        }
        s
    }

    fn parse_err(model: &[u8]) -> String {
        match TiktokenEngine::from_parts(model, None, None, None, Path::new("t")) {
            Err(Error::Parse { message, .. }) => message,
            Err(e) => panic!("expected a parse error, got {e}"),
            Ok(_) => panic!(
                "expected a parse error for {:?}",
                String::from_utf8_lossy(model)
            ),
        }
    }

    // ------------------------------------------------------------------------------------------

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
    fn agrees_with_tiktoken_rs_core_bpe() {
        // Cross-check regex splitting + BPE merges against tiktoken-rs on text without
        // special names (one chunk, so Kimi's chunking is the identity).
        let e = engine();
        let mut encoder: rustc_hash::FxHashMap<Vec<u8>, u32> = Default::default();
        for id in 0..e.num_base_tokens() {
            encoder.insert(e.token_bytes(id).unwrap().to_vec(), id);
        }
        let mut specials: rustc_hash::FxHashMap<String, u32> = Default::default();
        specials.insert("<|im_end|>".into(), 200_000);
        let core = tiktoken_rs::CoreBPE::new(encoder, specials, TiktokenEngine::KIMI_PATTERN)
            .expect("CoreBPE");
        let mut seed = 0x2545F4914F6CDD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet: Vec<char> =
            "aAzZ eé中文ß١٢3 9\n\t\r.,!?'sll😀👍🏽\u{301}ǅʰ\u{a0}\u{3000}\u{1c}<|>"
                .chars()
                .collect();
        for _ in 0..300 {
            let len = (next() % 300) as usize;
            let text: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            assert_eq!(
                e.encode_ordinary(&text),
                core.encode_ordinary(&text),
                "{text:?}"
            );
        }
        // Long pieces take the heap-based merge.
        for text in ["x".repeat(5_000), "ab".repeat(3_000), "中".repeat(2_000)] {
            assert_eq!(e.encode(&text), core.encode_ordinary(&text));
        }
    }

    #[test]
    fn small_and_large_merges_agree() {
        let e = engine();
        let mut seed = 0x9E3779B97F4A7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2_000 {
            let len = 2 + (next() % 62) as usize;
            let piece: Vec<u8> = (0..len)
                .map(|_| b"abcdeeeth  \xe4\xb8\xad\x80"[(next() % 15) as usize])
                .collect();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            e.merge_small(&piece, &mut a);
            e.merge_large(&piece, &mut b);
            assert_eq!(a, b, "{piece:?}");
            assert_eq!(e.decode_bytes(&a, false).unwrap(), piece);
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
    fn id_to_token_is_byte_level() {
        let e = engine();
        let hello = e.encode(" hello");
        assert_eq!(hello.len(), 1);
        assert_eq!(e.id_to_token(hello[0]).as_deref(), Some("Ġhello"));
        assert_eq!(e.token_to_id("Ġhello"), Some(hello[0]));
        assert_eq!(e.id_to_token(200_000).as_deref(), Some("<|im_end|>"));
        assert_eq!(e.token_to_id("<|im_end|>"), Some(200_000));
        assert_eq!(e.id_to_token(e.vocab_size()), None);
        assert_eq!(e.token_to_id(" hello"), None); // a raw space is not byte-level
        for id in (0..e.num_base_tokens()).step_by(97) {
            let t = e.id_to_token(id).unwrap();
            assert_eq!(e.token_to_id(&t), Some(id), "{t:?}");
        }
        for b in 0..=255u8 {
            assert_eq!(char_to_byte(byte_to_char(b)), Some(b));
        }
        assert_eq!(byte_to_char(b' '), 'Ġ');
        assert_eq!(byte_to_char(b'\n'), 'Ċ');
    }

    #[test]
    fn out_of_range_ids() {
        let e = engine();
        for bad in [e.vocab_size(), e.vocab_size() + 1, u32::MAX] {
            for skip in [false, true] {
                match e.decode(&[1, bad], skip) {
                    Err(Error::InvalidTokenId { id, vocab_size }) => {
                        assert_eq!((id, vocab_size), (u64::from(bad), e.vocab_size()));
                    }
                    other => panic!("expected InvalidTokenId, got {other:?}"),
                }
                assert!(matches!(
                    e.decode_bytes(&[bad], skip),
                    Err(Error::InvalidTokenId { .. })
                ));
                assert!(matches!(
                    variant_engine().decode(&[bad], skip),
                    Err(Error::InvalidTokenId { .. })
                ));
            }
        }
        assert_eq!(e.decode(&[], true).unwrap(), "");
        assert!(!e.skips_on_decode(u32::MAX));
    }

    #[test]
    fn malformed_rank_files_are_errors() {
        let good = String::from_utf8(tiny_model(&[])).unwrap();
        assert!(
            TiktokenEngine::from_parts(good.as_bytes(), None, None, None, Path::new("t")).is_ok()
        );
        assert!(parse_err(b"").contains("empty"));
        assert!(parse_err(b"\n\n").contains("empty"));
        assert!(parse_err(b"QQ== \n").contains("line 1"));
        assert!(parse_err(b"QQ==\n").contains("line 1"));
        assert!(parse_err(b"QQ== 0 1\n").contains("line 1"));
        assert!(parse_err(b"QQ== x\n").contains("rank"));
        assert!(parse_err(b"QQ== -1\n").contains("rank"));
        assert!(parse_err(b"QQ== 99999999999\n").contains("rank"));
        assert!(parse_err(b"Q!== 0\n").contains("base64"));
        assert!(parse_err(b"QQ= 0\n").contains("base64"));
        assert!(parse_err(b"Q=Q= 0\n").contains("base64"));
        assert!(parse_err(b"QQ===== 0\n").contains("base64"));
        assert!(parse_err(b"\xff\xfe 0\n").contains("base64"));
        // Duplicate rank, rank gap, duplicate token, missing single byte.
        assert!(parse_err(format!("{good}YWI= 5\n").as_bytes()).contains("twice"));
        assert!(parse_err(format!("{good}YWI= 300\n").as_bytes()).contains("out of range"));
        assert!(parse_err(format!("{good}QQ== 256\n").as_bytes()).contains("twice"));
        let no_a: String = good
            .lines()
            .filter(|l| *l != "QQ== 65")
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(parse_err(no_a.replace(" 255\n", " 65\n").as_bytes()).contains("0x41"));
        // CRLF line ends and blank lines are fine.
        let crlf = good.replace('\n', "\r\n\n");
        assert!(
            TiktokenEngine::from_parts(crlf.as_bytes(), None, None, None, Path::new("t")).is_ok()
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
    fn bad_pattern_is_unsupported() {
        let model = tiny_model(&[]);
        let r = TiktokenEngine::from_parts(&model, None, Some("(unclosed"), None, Path::new("t"));
        assert!(matches!(r, Err(Error::Unsupported { .. })));
        let r = TiktokenEngine::from_parts(&model, None, None, Some(u32::MAX), Path::new("t"));
        assert!(matches!(r, Err(Error::Unsupported { .. })));
    }

    #[test]
    fn custom_patterns_never_panic() {
        let model = tiny_model(&[b"ab", b"abab"]);
        // Empty matches are skipped (tiktoken would panic on them).
        for pattern in ["a*", "(?=b)|b", "x?", r"\b"] {
            let e =
                TiktokenEngine::from_parts(&model, None, Some(pattern), Some(0), Path::new("t"))
                    .unwrap();
            let ids = e.encode("abab ba\u{e9}");
            assert!(ids.iter().all(|&id| id < e.vocab_size()));
        }
        // A pattern that exhausts the backtracking limit: the text is still encoded.
        let e = TiktokenEngine::from_parts(
            &model,
            None,
            Some(r"(?:a|ab|b)+(?=c)|."),
            Some(0),
            Path::new("t"),
        )
        .unwrap();
        let text = "ab".repeat(3_000);
        let ids = e.encode(&text);
        assert_eq!(e.decode(&ids, false).unwrap(), text);
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

    // ------------------------------------------------------------------------------------------
    // The Ordinary style (`from_encoding`, o200k_base_chat)

    #[test]
    fn o200k_pattern_is_tiktoken_rs_pattern() {
        assert_eq!(
            TiktokenEngine::O200K_PATTERN,
            tiktoken_rs::O200K_BASE_PAT_STR
        );
    }

    /// The bundled o200k_base ranks with o200k's pattern and two specials, as a reference.
    fn o200k_engine() -> &'static TiktokenEngine {
        static ENGINE: OnceLock<TiktokenEngine> = OnceLock::new();
        ENGINE.get_or_init(|| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("bundled/o200k_base_chat/o200k_base.tiktoken.zst");
            let zst = std::fs::read(&path).expect("bundled rank file");
            let ranks = zstd::stream::decode_all(&zst[..]).expect("zstd");
            TiktokenEngine::from_encoding(
                &ranks,
                TiktokenEngine::O200K_PATTERN,
                &[("<|endoftext|>", 199_999), ("<|unused|>", 199_998)],
                None,
                Some("<|endoftext|>"),
                Path::new("o200k"),
            )
            .expect("o200k loads")
        })
    }

    #[test]
    fn ordinary_style_is_tiktoken_encode_ordinary() {
        // tiktoken-rs embeds its own copy of o200k_base: this also checks the bundled ranks.
        let core = tiktoken_rs::o200k_base().expect("tiktoken-rs o200k_base");
        let e = o200k_engine();
        assert_eq!(e.style(), EncodeStyle::Ordinary);
        assert_eq!(e.num_base_tokens(), 199_998);
        assert_eq!(e.vocab_size(), 200_000);
        let mut seed = 0xD1B54A32D192ED03u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet: Vec<char> =
            "aAzZ eé中文ß١٢3 9\n\t\r.,!?/'sll😀👍🏽\u{301}ǅʰ\u{a0}\u{3000}\u{1c}<|>endoftext"
                .chars()
                .collect();
        for _ in 0..300 {
            let len = (next() % 300) as usize;
            let text: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            assert_eq!(e.encode(&text), core.encode_ordinary(&text), "{text:?}");
        }
        // Markup is text, and long runs are not chunked the Kimi way (25,000 characters).
        for text in [
            "<|endoftext|>".to_owned(),
            format!("a{}b", " ".repeat(30_000)),
            format!("{}\n", "x".repeat(30_000)),
        ] {
            let ids = e.encode(&text);
            assert_eq!(ids, core.encode_ordinary(&text));
            assert_eq!(ids, e.encode_ordinary(&text));
            assert!(ids.iter().all(|&id| !e.is_special_id(id)));
        }
    }

    #[test]
    fn ordinary_style_decode_keeps_special_names() {
        let e = o200k_engine();
        assert_eq!(e.eos_token(), Some("<|endoftext|>"));
        assert_eq!(e.bos_token(), None);
        let ids = [199_998, 13225, 199_999];
        for skip in [false, true] {
            assert_eq!(
                e.decode(&ids, skip).unwrap(),
                "<|unused|>Hello<|endoftext|>"
            );
            assert_eq!(
                e.decode_bytes(&ids, skip).unwrap(),
                b"<|unused|>Hello<|endoftext|>"
            );
        }
        assert!(!e.skips_on_decode(199_999));
        assert!(!e.has_legacy_added_tokens());
        assert_eq!(e.token_to_id("<|unused|>"), Some(199_998));
        assert!(matches!(
            e.decode(&[200_000], false),
            Err(Error::InvalidTokenId {
                id: 200_000,
                vocab_size: 200_000
            })
        ));
    }

    #[test]
    fn ordinary_style_survives_the_backtracking_limit() {
        // Unchunked, a million spaces exceed fancy-regex's backtracking limit (Python's
        // tiktoken raises there); the engine splits the stretch and still round-trips.
        let e = o200k_engine();
        for text in [" ".repeat(1_000_000), format!("{}x", " \n".repeat(600_000))] {
            let ids = e.encode(&text);
            assert_eq!(e.decode(&ids, false).unwrap(), text);
        }
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
        let e = TiktokenEngine::from_dir(dir.path()).unwrap();
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
            TiktokenEngine::from_dir(dir.path()),
            Err(Error::Unsupported { .. })
        ));
        std::fs::write(
            dir.path().join("tiktoken_config.json"),
            r#"{"num_reserved_special_tokens": -3}"#,
        )
        .unwrap();
        assert!(matches!(
            TiktokenEngine::from_dir(dir.path()),
            Err(Error::Parse { .. })
        ));
        std::fs::write(
            dir.path().join("tiktoken_config.json"),
            r#"{"num_reserved_special_tokens": 12}"#,
        )
        .unwrap();
        assert_eq!(
            TiktokenEngine::from_dir(dir.path()).unwrap().vocab_size(),
            199_998 + 12
        );
        std::fs::remove_file(dir.path().join("tiktoken.model")).unwrap();
        assert!(matches!(
            TiktokenEngine::from_dir(dir.path()),
            Err(Error::Io { .. })
        ));
    }

    #[test]
    fn threads_share_one_engine() {
        let e = engine();
        let text = "Hello, 世界! <|im_end|> numbers 12345 and   spaces\n".repeat(50);
        let want = e.encode(&text);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| e.encode(&text))).collect();
            for h in handles {
                assert_eq!(h.join().unwrap(), want);
            }
        });
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn arbitrary_rank_files_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
                let _ = TiktokenEngine::from_parts(&data, None, None, None, Path::new("t"));
            }

            #[test]
            fn arbitrary_configs_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200),
                                             json in "\\{(\"(added_tokens_decoder|bos_token|additional_special_tokens|[0-9]{1,3}|content)\": ?(null|1|\"<a>\"|\\[\\]|\\{\\}|\\{\"25[6-9]\": \\{\"content\": \"<b>\"\\}\\}), ?)*\\}") {
                let model = tiny_model(&[]);
                let _ = TiktokenEngine::from_parts(&model, Some(&data), None, Some(4), Path::new("t"));
                let _ = TiktokenEngine::from_parts(&model, Some(json.as_bytes()), None, Some(4), Path::new("t"));
            }

            #[test]
            fn arbitrary_text_round_trips(text in "\\PC{0,200}") {
                let e = engine();
                let ids = e.encode_ordinary(&text);
                prop_assert_eq!(e.decode(&ids, false).unwrap(), text.clone());
                let ids = e.encode(&text);
                prop_assert_eq!(e.decode(&ids, false).unwrap(), text);
            }

            #[test]
            fn arbitrary_ids_decode_or_error(ids in proptest::collection::vec(any::<u32>(), 0..50),
                                             small in proptest::collection::vec(0u32..200_300, 0..50)) {
                let e = variant_engine();
                for ids in [&ids, &small] {
                    for skip in [false, true] {
                        match e.decode(ids, skip) {
                            Ok(_) => prop_assert!(ids.iter().all(|&i| i < e.vocab_size())),
                            Err(Error::InvalidTokenId { id, .. }) => prop_assert!(id >= u64::from(e.vocab_size())),
                            Err(other) => prop_assert!(false, "{other}"),
                        }
                    }
                }
            }
        }
    }
}
