//! tinkex's own byte-level BPE engine for `tokenizer.json` files of the shape the Tinker lineup
//! uses (GPT-2, Qwen3, Llama-3, DeepSeek-V3, gpt-oss): a BPE model over the byte-level
//! alphabet, no normalizer or NFC, `Split` stages (`Isolated`) and a `ByteLevel` pre-tokenizer,
//! added tokens without `lstrip`/`rstrip`/`single_word`, a `ByteLevel` decoder.
//!
//! Why it exists: Hugging Face's engine rebuilds its structures (perfect hashes, tables) from
//! JSON in every process, 0.1–0.8 s per tokenizer (BENCHMARKS.md, "Where a warm load goes"), and
//! offers no way to build it from stored parts. This engine's state is a handful of flat arrays
//! ([`model::Tables`]) that are written to the prepared store as they are and read back in a few
//! milliseconds ([`stored`]). The tokenizer uses it from the first call while Hugging Face's
//! engine is built on a helper thread, and hands encoding over once that is ready (it is faster
//! on long inputs); decoding stays here.
//!
//! What it reproduces, in Hugging Face's order: added tokens that are not `normalized` are cut
//! out of the raw text (leftmost-longest; special ones skipped when special tokens are encoded as
//! text); each remaining segment is NFC-normalised if the tokenizer says so, and the `normalized`
//! added tokens cut out of it; each remaining segment goes through the split stages
//! ([`split`]), and each piece through BPE ([`model`]) with a per-thread word cache ([`cache`]).
//! Anything outside that shape is not built here ([`BpeEngine::from_document`] says why) and
//! stays with Hugging Face's engine alone. The tests hold it to Hugging Face's engine on the
//! parity oracle, the corpora and random text for every lineup tokenizer.

mod cache;
mod classes;
mod model;
mod pairs;
mod split;
pub mod stored;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use super::tiktoken::{byte_to_char, char_to_byte};
use super::TokenBytes;
use classes::CharClasses;
use model::Tables;
use split::{Splitter, Stage, GPT2_PATTERN};

/// An added token as the engine matches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AddedToken {
    pub content: String,
    pub id: u32,
    pub special: bool,
    pub normalized: bool,
}

/// What the stored form keeps besides the tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Shape {
    /// The split stages' patterns, in order.
    pub patterns: Vec<String>,
    pub ignore_merges: bool,
    pub nfc: bool,
    pub added: Vec<AddedToken>,
}

/// Added tokens of one kind (raw or normalized) and their matcher.
struct AddedMatcher {
    matcher: Option<AhoCorasick>,
    /// Pattern index → (id, special).
    ids: Vec<(u32, bool)>,
}

impl AddedMatcher {
    fn new(tokens: &[(Cow<'_, str>, u32, bool)]) -> Result<AddedMatcher, String> {
        let ids = tokens.iter().map(|(_, id, s)| (*id, *s)).collect();
        let matcher = if tokens.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(tokens.iter().map(|(c, _, _)| c.as_bytes()))
                    .map_err(|e| format!("added tokens: {e}"))?,
            )
        };
        Ok(AddedMatcher { matcher, ids })
    }

    /// Calls `text_fn` for every stretch of `text` between added tokens and `added_fn` for each
    /// added token, in order. With `split_special`, special tokens are text.
    fn split<'t>(
        &self,
        text: &'t str,
        split_special: bool,
        mut text_fn: impl FnMut(&'t str) -> Result<(), String>,
        mut added_fn: impl FnMut(u32),
    ) -> Result<(), String> {
        let Some(m) = &self.matcher else {
            return text_fn(text);
        };
        let mut start = 0;
        for hit in m.find_iter(text) {
            let (id, special) = self.ids[hit.pattern().as_usize()];
            if split_special && special {
                continue;
            }
            // Added tokens are whole UTF-8 strings, so matches lie on char boundaries.
            if let Some(seg) = text.get(start..hit.start()) {
                if !seg.is_empty() {
                    text_fn(seg)?;
                }
            }
            added_fn(id);
            start = hit.end();
        }
        match text.get(start..) {
            Some(rest) if !rest.is_empty() => text_fn(rest),
            _ => Ok(()),
        }
    }
}

/// The engine. Immutable once built; `Send + Sync`; encoding takes no lock (the word cache is
/// per thread).
pub(crate) struct BpeEngine {
    /// Distinguishes this engine's word caches from other engines' on the same thread.
    owner: u64,
    tables: Tables,
    splitter: Splitter,
    shape: Shape,
    raw: AddedMatcher,
    normalized: AddedMatcher,
    /// Ids whose token string is their bytes as UTF-8 rather than the byte-level spelling.
    raw_spelling: Vec<bool>,
}

const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<BpeEngine>();
};

/// How many pieces ahead of the one being looked up the word cache's slots are requested from
/// memory: a lookup's load was a quarter of encode time, and now overlaps the work before it.
const AHEAD: usize = 8;

/// Ids a span block holds before it is appended to the output.
const BLOCK: usize = 192;

/// The word-cache side of [`BpeEngine::encode_plain`]: pieces in, ids out.
struct Merger<'a, 't> {
    tables: &'a Tables,
    cache: &'a mut cache::WordCache,
    out: &'a mut Vec<u32>,
    /// Pieces given one at a time wait here for [`AHEAD`] more, their slots prefetched.
    ring: [(&'t [u8], cache::Probe); AHEAD],
    head: usize,
    held: usize,
}

impl Merger<'_, '_> {
    /// Appends the ids of piece `w` (`probe` is its probe, or empty if it has none).
    #[inline(always)]
    fn emit(&mut self, w: &[u8], probe: &cache::Probe) {
        let (cache, out) = (&mut *self.cache, &mut *self.out);
        if let [b] = w {
            out.push(self.tables.byte_ids[usize::from(*b)]);
        } else if let Some(ids) = cache.get(probe, w) {
            if ids.len() <= cache::MAX_IDS {
                // One to three ids: pushes, not a copy call.
                for &id in ids {
                    out.push(id);
                }
            } else {
                out.extend_from_slice(ids);
            }
        } else {
            merge_and_cache(self.tables, cache, out, w, probe);
        }
    }

    /// Emits the pieces still waiting in the ring.
    fn flush(&mut self) {
        for k in 0..self.held {
            let (piece, probe) = self.ring[(self.head + k) % AHEAD];
            self.emit(piece, &probe);
        }
        (self.head, self.held) = (0, 0);
    }
}

/// Appends the ids BPE gives the uncached piece `w` (probe `p`) and caches them.
#[inline]
fn merge_and_cache(
    tables: &Tables,
    cache: &mut cache::WordCache,
    out: &mut Vec<u32>,
    w: &[u8],
    p: &cache::Probe,
) {
    let start = out.len();
    tables.encode_word(w, out);
    cache.put(p, w, &out[start..]);
}

impl<'t> split::Pieces<'t> for Merger<'_, 't> {
    fn piece(&mut self, piece: &'t str) {
        let w = piece.as_bytes();
        let probe = cache::Probe::new(w);
        self.cache.prefetch(&probe);
        if self.held == AHEAD {
            let (old, p) = std::mem::replace(&mut self.ring[self.head], (w, probe));
            self.emit(old, &p);
            self.head = (self.head + 1) % AHEAD;
        } else {
            self.ring[(self.head + self.held) % AHEAD] = (w, probe);
            self.held += 1;
        }
    }

    fn spans(&mut self, chunk: &'t str, spans: &[bitcannon::Span]) {
        self.flush();
        self.out.reserve(spans.len());
        let text = chunk.as_bytes();
        let probe = |s: &bitcannon::Span| cache::Probe::at(text, s.start as usize, s.end as usize);
        let mut ahead = [cache::Probe::EMPTY; AHEAD];
        for (a, s) in ahead.iter_mut().zip(spans) {
            *a = probe(s);
            self.cache.prefetch(a);
        }
        // Ids of cached short words go to a block on the stack, three cells at a time whatever
        // their count (no per-id capacity check, no length-dependent copy), and into `out` a
        // block at a time: on warm English and code the pushes were a fifth of the own code's
        // instructions (callgrind).
        let mut block = [0u32; BLOCK];
        let mut k = 0;
        for (i, s) in spans.iter().enumerate() {
            let p = ahead[i % AHEAD];
            if let Some(later) = spans.get(i + AHEAD) {
                let q = probe(later);
                self.cache.prefetch(&q);
                ahead[i % AHEAD] = q;
            }
            let Some(w) = text.get(s.range()) else {
                continue;
            };
            if k > BLOCK - cache::MAX_IDS {
                self.out.extend_from_slice(&block[..k]);
                k = 0;
            }
            if let [b] = w {
                block[k] = self.tables.byte_ids[usize::from(*b)];
                k += 1;
                continue;
            }
            match self.cache.first(&p) {
                cache::Found::Ids(ids, n) => {
                    if let Some(cells) = block.get_mut(k..k + cache::MAX_IDS) {
                        cells.copy_from_slice(ids);
                    }
                    k += n;
                }
                found => {
                    self.out.extend_from_slice(&block[..k]);
                    k = 0;
                    let out = &mut *self.out;
                    if let Some(ids) = self.cache.after_first(found, &p, w) {
                        out.extend_from_slice(ids);
                    } else {
                        merge_and_cache(self.tables, self.cache, out, w, &p);
                    }
                }
            }
        }
        self.out.extend_from_slice(&block[..k]);
    }
}

fn classes() -> Arc<CharClasses> {
    static CLASSES: OnceLock<Arc<CharClasses>> = OnceLock::new();
    CLASSES.get_or_init(|| Arc::new(CharClasses::new())).clone()
}

/// The bytes a byte-level decoder gives for token string `s`: each char's byte if every char is
/// in the byte-level alphabet, else `s`'s own UTF-8 (Hugging Face's `ByteLevel` decoder rule);
/// and whether it was the latter.
fn decoded_bytes(s: &str) -> (Vec<u8>, bool) {
    match s.chars().map(char_to_byte).collect::<Option<Vec<u8>>>() {
        Some(b) => (b, false),
        None => (s.as_bytes().to_vec(), true),
    }
}

/// Asks the CPU to bring `r`'s cache line in (a hint; nothing elsewhere).
#[inline]
pub(crate) fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch is a hint that reads nothing architecturally and cannot fault (the
        // pointer is to a live value anyway). The SSE it needs is part of x86_64.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(r).cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

/// The position of the first byte of `b` from `from` on that is at least `lim` (≥ 0x80). Blocks
/// of 32 bytes with no high bit set are skipped with four word reads (text is mostly ASCII); a
/// byte-wise maximum did not vectorise and cost an eighth of an English encode.
pub(crate) fn first_at_least(b: &[u8], from: usize, lim: u8) -> Option<usize> {
    debug_assert!(lim >= 0x80, "the block test looks at high bits only");
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let rest = b.get(from..)?;
    let mut blocks = rest.chunks_exact(32);
    let mut at = from;
    for block in &mut blocks {
        let any_high = block.chunks_exact(8).fold(0u64, |acc, w| {
            let mut x = [0u8; 8];
            x.copy_from_slice(w);
            acc | u64::from_ne_bytes(x)
        }) & HIGH
            != 0;
        if any_high {
            if let Some(k) = block.iter().position(|&x| x >= lim) {
                return Some(at + k);
            }
        }
        at += 32;
    }
    blocks
        .remainder()
        .iter()
        .position(|&x| x >= lim)
        .map(|k| at + k)
}

fn nfc(text: &str) -> Cow<'_, str> {
    // Chars below U+0300 are all NFC and starters, so only the others are looked at: if each is
    // NFC and a starter on its own, so is the text; otherwise the full check decides.
    let b = text.as_bytes();
    let mut i = 0;
    let simple = loop {
        let Some(j) = first_at_least(b, i, 0xCC) else {
            break true;
        };
        let Some(c) = text.get(j..).and_then(|r| r.chars().next()) else {
            break false;
        };
        if !matches!(is_nfc_quick(std::iter::once(c)), IsNormalized::Yes)
            || unicode_normalization::char::canonical_combining_class(c) != 0
        {
            break false;
        }
        i = j + c.len_utf8();
    };
    if simple || matches!(is_nfc_quick(text.chars()), IsNormalized::Yes) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.nfc().collect())
    }
}

fn field<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&Value::Null)
}

fn is_off(v: &Value) -> bool {
    matches!(v, Value::Null | Value::Bool(false))
}

fn is_empty_str(v: &Value) -> bool {
    matches!(v, Value::Null) || v.as_str() == Some("")
}

/// `normalizer`: `Ok(true)` for NFC, `Ok(false)` for none.
fn normalizer_shape(v: &Value) -> Result<bool, String> {
    match v {
        Value::Null => Ok(false),
        _ => match field(v, "type").as_str() {
            Some("NFC") => Ok(true),
            Some("Sequence") => {
                let mut nfc = false;
                for n in field(v, "normalizers")
                    .as_array()
                    .ok_or("normalizer sequence")?
                {
                    nfc |= normalizer_shape(n)?;
                }
                Ok(nfc)
            }
            other => Err(format!("normalizer {other:?}")),
        },
    }
}

/// `pre_tokenizer`: the split patterns, in order, and whether it ends with a `ByteLevel` stage.
/// (The canonical form the store keeps has none: byte-level is the model's `byte_level` flag.)
fn pre_tokenizer_shape(v: &Value) -> Result<(Vec<String>, bool), String> {
    let stages: Vec<&Value> = match field(v, "type").as_str() {
        Some("Sequence") => field(v, "pretokenizers")
            .as_array()
            .ok_or("pre-tokenizer sequence")?
            .iter()
            .collect(),
        Some(_) => vec![v],
        None if v.is_null() => Vec::new(),
        None => return Err("pre-tokenizer".into()),
    };
    let mut patterns = Vec::new();
    let mut byte_level = false;
    for (i, st) in stages.iter().enumerate() {
        match field(st, "type").as_str() {
            Some("Split") if !byte_level => {
                let pattern = field(field(st, "pattern"), "Regex")
                    .as_str()
                    .ok_or("split pattern is not a regex")?;
                // Hugging Face's reader defaults `behavior` to `Isolated`, `invert` to false.
                let behavior = field(st, "behavior");
                if !(behavior.is_null() || behavior.as_str() == Some("Isolated"))
                    || !is_off(field(st, "invert"))
                {
                    return Err("split behaviour".into());
                }
                patterns.push(pattern.to_owned());
            }
            Some("ByteLevel") if i + 1 == stages.len() => {
                if !is_off(field(st, "add_prefix_space")) {
                    return Err("ByteLevel add_prefix_space".into());
                }
                // `use_regex` defaults to true.
                if field(st, "use_regex").as_bool() != Some(false) {
                    patterns.push(GPT2_PATTERN.to_owned());
                }
                byte_level = true;
            }
            other => return Err(format!("pre-tokenizer {other:?}")),
        }
    }
    Ok((patterns, byte_level))
}

static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

/// Whether a canonical document has this engine's shape (model options, normalizer,
/// pre-tokenizer, decoder): the split patterns, `ignore_merges` and NFC if so. Cheap: the
/// vocabulary is not looked at.
fn shape_of(doc: &Value) -> Result<(Vec<String>, bool, bool), String> {
    let model = field(doc, "model");
    if field(model, "type").as_str() != Some("BPE") {
        return Err("model is not BPE".into());
    }
    if !is_off(field(model, "dropout"))
        || !matches!(field(model, "unk_token"), Value::Null)
        || !is_empty_str(field(model, "continuing_subword_prefix"))
        || !is_empty_str(field(model, "end_of_word_suffix"))
        || !is_off(field(model, "byte_fallback"))
        || !is_off(field(model, "fuse_unk"))
    {
        return Err("BPE options".into());
    }
    if field(field(doc, "decoder"), "type").as_str() != Some("ByteLevel") {
        return Err("decoder is not ByteLevel".into());
    }
    let nfc = normalizer_shape(field(doc, "normalizer"))?;
    let (patterns, byte_level_stage) = pre_tokenizer_shape(field(doc, "pre_tokenizer"))?;
    if !byte_level_stage && field(model, "byte_level").as_bool() != Some(true) {
        return Err("not byte-level".into());
    }
    let ignore_merges = field(model, "ignore_merges").as_bool().unwrap_or(false);
    Ok((patterns, ignore_merges, nfc))
}

/// [`shape_of`] as a yes/no: whether [`BpeEngine::from_document`] will be tried.
pub(crate) fn has_shape(doc: &Value) -> bool {
    shape_of(doc).is_ok()
}

impl BpeEngine {
    /// Builds the engine from a canonical (prepared) `tokenizer.json` document; `Err` says why
    /// the document is outside this engine's shape (or malformed: Hugging Face's reader then
    /// reports it).
    pub(crate) fn from_document(doc: &Value) -> Result<BpeEngine, String> {
        let (patterns, ignore_merges, nfc) = shape_of(doc)?;
        let model = field(doc, "model");
        let vocab = field(model, "vocab").as_object().ok_or("vocab")?;
        let mut ids: rustc_hash::FxHashMap<&str, u32> = Default::default();
        ids.reserve(vocab.len());
        let mut id_space = 0u32;
        for (token, id) in vocab {
            let id = id
                .as_u64()
                .and_then(|i| u32::try_from(i).ok())
                .filter(|&i| i < u32::MAX - 1)
                .ok_or("vocab id")?;
            ids.insert(token.as_str(), id);
            id_space = id_space.max(id + 1);
        }
        let mut added = Vec::new();
        for t in field(doc, "added_tokens")
            .as_array()
            .ok_or("added_tokens")?
        {
            if ["single_word", "lstrip", "rstrip"]
                .iter()
                .any(|k| !is_off(field(t, k)))
            {
                return Err("added token flags".into());
            }
            let content = field(t, "content").as_str().ok_or("added content")?;
            if content.is_empty() {
                continue;
            }
            let id = field(t, "id")
                .as_u64()
                .and_then(|i| u32::try_from(i).ok())
                .filter(|&i| i < u32::MAX - 1)
                .ok_or("added id")?;
            id_space = id_space.max(id + 1);
            let special = field(t, "special").as_bool().unwrap_or(false);
            added.push(AddedToken {
                content: content.to_owned(),
                id,
                special,
                // Hugging Face's default.
                normalized: field(t, "normalized").as_bool().unwrap_or(!special),
            });
        }

        let n = id_space as usize;
        let mut tokens = vec![Vec::new(); n];
        let mut raw_spelling = vec![false; n];
        let mut lookup = vec![false; n];
        for (token, &id) in &ids {
            let (bytes, raw) = decoded_bytes(token);
            tokens[id as usize] = bytes;
            raw_spelling[id as usize] = raw;
            lookup[id as usize] = !raw;
        }
        let mut merges = Vec::new();
        let mut joined = String::new();
        for m in field(model, "merges").as_array().ok_or("merges")? {
            let (a, b) = match m {
                Value::Array(p) if p.len() == 2 => {
                    (p[0].as_str().ok_or("merge")?, p[1].as_str().ok_or("merge")?)
                }
                Value::String(s) => s.split_once(' ').ok_or("merge")?,
                _ => return Err("merge".into()),
            };
            joined.clear();
            joined.push_str(a);
            joined.push_str(b);
            let id = |t: &str| ids.get(t).copied().ok_or_else(|| format!("merge {a} {b}"));
            merges.push((id(a)?, id(b)?, id(&joined)?));
        }
        let shape = Shape {
            patterns,
            ignore_merges,
            nfc,
            added,
        };
        // An added token decodes to its form (normalized ones: NFC'd), by the decoder's rule.
        let mut special = vec![false; n];
        for t in &shape.added {
            let form = if t.normalized && nfc {
                nfc_str(&t.content)
            } else {
                t.content.clone()
            };
            let (bytes, raw) = decoded_bytes(&form);
            tokens[t.id as usize] = bytes;
            raw_spelling[t.id as usize] = raw;
            special[t.id as usize] = t.special;
        }
        let tables = Tables::build(&tokens, special, &lookup, &merges, ignore_merges)?;
        BpeEngine::assemble(tables, shape, raw_spelling)
    }

    /// The engine from its parts (built, or read back from the store).
    fn assemble(tables: Tables, shape: Shape, raw_spelling: Vec<bool>) -> Result<Self, String> {
        tables.validate()?;
        if raw_spelling.len() != tables.len() {
            return Err("spelling flags".into());
        }
        if tables.byte_ids.contains(&model::NONE) {
            return Err("a byte has no token".into());
        }
        let stages = shape
            .patterns
            .iter()
            .map(|p| Stage::new(p))
            .collect::<Result<Vec<_>, _>>()?;
        let splitter = Splitter::new(stages, classes());
        let mut raw = Vec::new();
        let mut normalized = Vec::new();
        for t in &shape.added {
            if t.id as usize >= tables.len() {
                return Err("added id out of range".into());
            }
            if t.normalized {
                let form = if shape.nfc {
                    Cow::Owned(nfc_str(&t.content))
                } else {
                    Cow::Borrowed(t.content.as_str())
                };
                normalized.push((form, t.id, t.special));
            } else {
                raw.push((Cow::Borrowed(t.content.as_str()), t.id, t.special));
            }
        }
        Ok(BpeEngine {
            owner: NEXT_OWNER.fetch_add(1, Ordering::Relaxed),
            raw: AddedMatcher::new(&raw)?,
            normalized: AddedMatcher::new(&normalized)?,
            tables,
            splitter,
            shape,
            raw_spelling,
        })
    }

    /// Encodes `text` (no special tokens added), appending to `out`. `split_special`: special
    /// added tokens are matched as ordinary text (`encode_special_tokens`).
    pub(crate) fn encode_into(
        &self,
        text: &str,
        split_special: bool,
        out: &mut Vec<u32>,
    ) -> Result<(), String> {
        let out = std::cell::RefCell::new(out);
        cache::with_cache(self.owner, |cache| {
            self.raw.split(
                text,
                split_special,
                |seg| {
                    let seg = if self.shape.nfc {
                        nfc(seg)
                    } else {
                        Cow::Borrowed(seg)
                    };
                    self.normalized.split(
                        &seg,
                        split_special,
                        |piece| self.encode_plain(piece, cache, &mut out.borrow_mut()),
                        |id| out.borrow_mut().push(id),
                    )
                },
                |id| out.borrow_mut().push(id),
            )
        })
    }

    /// Pre-tokenizes and merges text without added tokens.
    fn encode_plain(
        &self,
        text: &str,
        cache: &mut cache::WordCache,
        out: &mut Vec<u32>,
    ) -> Result<(), String> {
        let mut enc = Merger {
            tables: &self.tables,
            cache,
            out,
            ring: [(&[][..], cache::Probe::EMPTY); AHEAD],
            head: 0,
            held: 0,
        };
        self.splitter
            .split(text, &mut enc)
            .map_err(|e| format!("split pattern: {e}"))?;
        enc.flush();
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn all_stages_scanned(&self) -> bool {
        self.splitter.all_scanned()
    }

    #[cfg(test)]
    pub(crate) fn has_grammar(&self) -> bool {
        self.splitter.has_grammar()
    }

    /// Every id's bytes, as the byte-level decoder writes them.
    pub(crate) fn token_bytes(&self) -> &TokenBytes {
        &self.tables.tokens
    }

    /// Number of ids (model and added).
    pub(crate) fn id_space(&self) -> u32 {
        self.tables.len() as u32
    }

    /// The token string of `id` (byte-level spelling), if the id names a token.
    pub(crate) fn id_to_token(&self, id: u32) -> Option<String> {
        let bytes = self.tables.token(id);
        if bytes.is_empty() {
            return None;
        }
        if *self.raw_spelling.get(id as usize)? {
            return String::from_utf8(bytes.to_vec()).ok();
        }
        Some(bytes.iter().map(|&b| byte_to_char(b)).collect())
    }

    /// The id of token string `token` (as [`BpeEngine::id_to_token`] spells it), model
    /// vocabulary first as Hugging Face's model lookup is.
    pub(crate) fn token_to_id(&self, token: &str) -> Option<u32> {
        if let Some(bytes) = token.chars().map(char_to_byte).collect::<Option<Vec<u8>>>() {
            if let Some(slot) = self.tables.lookup(&bytes) {
                return Some(slot.id());
            }
        }
        // Tokens spelled in raw UTF-8 (a few special tokens): not in the byte table.
        (0..self.id_space())
            .filter(|&id| self.raw_spelling[id as usize])
            .find(|&id| self.tables.token(id) == token.as_bytes())
    }
}

fn nfc_str(s: &str) -> String {
    nfc(s).into_owned()
}
