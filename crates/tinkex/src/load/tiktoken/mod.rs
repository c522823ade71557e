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
//! ([`crate::source::O200K_PATTERN`]) plus special tokens at fixed ids right after the ranks.
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

mod bpe;
mod build;
mod byte_level;
#[cfg(test)]
mod fixtures;
mod kimi;
mod ranks;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use fancy_regex::Regex;
use rustc_hash::FxHashMap;

use crate::error::{Error, Result};

pub(crate) use byte_level::byte_to_char;
pub(crate) use byte_level::char_to_byte;
pub(crate) use kimi::TiktokenSettings;
use ranks::RankMap;

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
    #[cfg(test)]
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
    #[cfg(test)]
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
    #[cfg(test)]
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
    #[cfg(test)]
    pub fn unk_token(&self) -> Option<&str> {
        self.unk.as_deref()
    }

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
