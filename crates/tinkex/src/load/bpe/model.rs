//! Byte-level BPE over merge ranks: the tables (flat arrays of `u32`, so that the stored form is
//! the tables themselves) and the merge loop.
//!
//! A word is its bytes' ids, merged repeatedly at the adjacent pair of lowest merge rank, leftmost
//! first among equal ranks — the order Hugging Face's `BPE::merge_word` applies merges in (its
//! queue pops the lowest rank, ties by position; a popped merge made stale by an earlier one is
//! skipped, which is what rescanning does here).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Empty slot marker.
pub(crate) const NONE: u32 = u32::MAX;

use super::pairs::PairTable;
use crate::load::TokenBytes;

/// The model tables.
pub(crate) struct Tables {
    /// Every id's decoded bytes and whether it is special.
    pub tokens: TokenBytes,
    /// Pair → rank and merged id, packed 8 bytes a slot ([`PairTable`]).
    pub pairs: PairTable,
    /// Open addressing over token bytes ([`VocabSlot`]s). Only ids whose bytes BPE can produce
    /// (model tokens written in the byte-level alphabet).
    pub vocab: Vec<VocabSlot>,
    /// Id of each single byte.
    pub byte_ids: Vec<u32>,
    /// The pairs of ids below [`GRID`] (byte-level vocabularies number their bytes and their
    /// first merges there: ~80% of the pair lookups on English), directly indexed: 0, or 1 + an
    /// index into `grid_values`. 512 KiB, where the open-addressing table's 8 MiB had a cache
    /// miss for nearly every lookup of a first-seen word. Empty if it does not fit a `u16`.
    pub grid: Vec<u16>,
    /// [`PairTable::value`] of the grid's pairs.
    pub grid_values: Vec<u64>,
    /// Characters of two or three UTF-8 bytes that a word's merges may start from as their token
    /// instead of their bytes (see [`Tables::char_token`]), by page of 64 code points: 0, or 1 +
    /// the page's block in `char_ids`. [`CHAR_PAGES`] long, or empty if no character folds.
    pub char_pages: Vec<u16>,
    /// Blocks of 64 ids, one per code point of a page ([`NONE`]: the character does not fold).
    pub char_ids: Vec<u32>,
    /// One bit per vocabulary hash bucket (bits 32… of the hash), set where a token is: a
    /// first-seen word that is not a token (most, in multilingual text) is told so by this
    /// 128–512 KiB bitset instead of a read of the 2–8 MiB vocabulary table. Under an 8 MiB
    /// last-level-cache model, vocabulary reads were ~15% of a multilingual first pass's misses
    /// there (Llama-3, callgrind). A power of two ≥ 64 bits long, or empty (no filter).
    pub vocab_filter: Vec<u64>,
}

/// Pages of 64 code points below U+10000 (characters of up to three UTF-8 bytes).
pub(crate) const CHAR_PAGES: usize = 0x10000 / 64;

/// Side of the pair grid.
pub(crate) const GRID: u32 = 512;

/// A vocabulary slot, 16 bytes (four to a cache line): a lookup of a word of up to 8 bytes reads
/// one slot and nothing else (the id → offsets → bytes chain it replaced was three dependent
/// reads, each a likely cache miss on a word's first sight).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
#[repr(C, align(16))]
pub(crate) struct VocabSlot {
    /// The token's first 8 bytes, zero-padded ([`word`]).
    pub key: u64,
    /// Where the token's bytes start in `tokens.bytes` (to compare bytes past the 8th).
    pub off: u32,
    /// The id (low [`ID_BITS`] bits), [`FOLDS`], and the length (capped at 255) in the top 8
    /// bits; 0 = empty (no token is empty).
    pub meta: u32,
}

pub(crate) const ID_BITS: u32 = 23;
const ID_MASK: u32 = (1 << ID_BITS) - 1;
/// A piece whose bytes are this token's encodes to this token alone: BPE's merges of those bytes
/// end in it (proved at build by running them), or the model has `ignore_merges`. A first-seen
/// word that is such a token costs one lookup instead of its merges.
pub(crate) const FOLDS: u32 = 1 << ID_BITS;

impl VocabSlot {
    #[inline]
    fn len(&self) -> usize {
        (self.meta >> 24) as usize
    }

    #[inline]
    pub(crate) fn id(&self) -> u32 {
        self.meta & ID_MASK
    }

    #[inline]
    pub(crate) fn folds(&self) -> bool {
        self.meta & FOLDS != 0
    }
}

/// The little-endian value of `w` (at most 8 bytes), zero-padded.
#[inline]
pub(crate) fn word(w: &[u8]) -> u64 {
    let n = w.len();
    if n >= 4 {
        // Two overlapping 4-byte reads.
        let lo = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        let hi = u32::from_le_bytes([w[n - 4], w[n - 3], w[n - 2], w[n - 1]]);
        u64::from(lo) | u64::from(hi) << (8 * (n - 4))
    } else if n > 0 {
        u64::from(w[0])
            | u64::from(w[n / 2]) << (8 * (n / 2))
            | u64::from(w[n - 1]) << (8 * (n - 1))
    } else {
        0
    }
}

/// The first 8 bytes of `w`, zero-padded, and its vocabulary hash (part of the stored form).
#[inline]
fn vocab_key(w: &[u8]) -> (u64, u64) {
    let head = word(&w[..w.len().min(8)]);
    let h = if w.len() <= 8 {
        mix(head ^ (w.len() as u64).wrapping_mul(0xA24B_AED4_963E_E407))
    } else {
        hash_bytes(w)
    };
    (head, h)
}

/// The bit of [`Tables::vocab_filter`] (`words` long, a power of two) for vocabulary hash `h`:
/// bits 32 and up, independent of the slot, which the low bits pick.
#[inline]
fn filter_bit(h: u64, words: usize) -> usize {
    (h >> 32) as usize & (words * 64 - 1)
}

#[inline]
fn mix(k: u64) -> u64 {
    let k = k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    k ^ (k >> 29)
}

/// A fixed hash of `b` (part of the stored form: never change it without a version bump).
#[inline]
pub(crate) fn hash_bytes(b: &[u8]) -> u64 {
    let mut h = b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    let r = chunks.remainder();
    if !r.is_empty() {
        let mut w = [0u8; 8];
        w[..r.len()].copy_from_slice(r);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    mix(h)
}

impl Tables {
    /// Builds the tables. `tokens[id]` are the id's decoded bytes; `lookup[id]` says whether the
    /// id is reachable by BPE (goes in the byte → id table); `merges` in rank order, each
    /// `(left, right, merged)`. A pair listed twice is an error (the engines disagree on which
    /// rank wins). `ignore_merges`: the model's flag (a piece that is a token is that token).
    pub(crate) fn build(
        tokens: &[Vec<u8>],
        special: Vec<bool>,
        lookup: &[bool],
        merges: &[(u32, u32, u32)],
        ignore_merges: bool,
    ) -> Result<Tables, String> {
        let mut offsets = Vec::with_capacity(tokens.len() + 1);
        let mut bytes = Vec::new();
        offsets.push(0);
        for t in tokens {
            bytes.extend_from_slice(t);
            offsets.push(u32::try_from(bytes.len()).map_err(|_| "vocabulary too large")?);
        }
        let pairs = PairTable::build(tokens.len(), merges)?;
        let in_grid: Vec<(usize, u64)> = merges
            .iter()
            .enumerate()
            .filter(|(_, (a, b, _))| (a | b) < GRID)
            .map(|(rank, &(a, b, merged))| {
                ((a * GRID + b) as usize, pairs.value(rank as u64, merged))
            })
            .collect();
        let (grid, grid_values) = if in_grid.len() < usize::from(u16::MAX) {
            let mut grid = vec![0u16; (GRID * GRID) as usize];
            for (k, &(cell, _)) in in_grid.iter().enumerate() {
                grid[cell] = k as u16 + 1;
            }
            (grid, in_grid.into_iter().map(|(_, v)| v).collect())
        } else {
            (Vec::new(), Vec::new())
        };
        let reachable = lookup.iter().filter(|x| **x).count();
        let vcap = (reachable * 5 / 4 + 1).next_power_of_two().max(16);
        let mut t = Tables {
            tokens: TokenBytes {
                bytes,
                offsets,
                special,
            },
            pairs,
            vocab: vec![VocabSlot::default(); vcap],
            byte_ids: vec![NONE; 256],
            grid,
            grid_values,
            char_pages: Vec::new(),
            char_ids: Vec::new(),
            // ~16 bits a token: a word that is no token passes for one ~6% of the time.
            vocab_filter: vec![0; (reachable * 16).next_power_of_two().max(64) / 64],
        };
        if tokens.len() > ID_MASK as usize {
            return Err("vocabulary too large".into());
        }
        for (id, _) in lookup.iter().enumerate().filter(|(_, x)| **x) {
            let id = id as u32;
            let w = t.token(id);
            if w.is_empty() {
                continue;
            }
            let (key, h) = vocab_key(w);
            let mut s = h as usize & (vcap - 1);
            while t.vocab[s].meta != 0 {
                if t.holds(&t.vocab[s], key, w) {
                    return Err(format!(
                        "tokens {} and {id} have the same bytes",
                        t.vocab[s].id()
                    ));
                }
                s = (s + 1) & (vcap - 1);
            }
            t.vocab[s] = VocabSlot {
                key,
                off: t.tokens.offsets[id as usize],
                meta: id | (w.len().min(255) as u32) << 24,
            };
            let bit = filter_bit(h, t.vocab_filter.len());
            t.vocab_filter[bit / 64] |= 1 << (bit % 64);
        }
        for b in 0..=255u8 {
            t.byte_ids[usize::from(b)] = t.lookup(&[b]).map_or(NONE, |s| s.id());
        }
        // (Under `ignore_merges` too: a word that is not a token is merged as by any BPE.)
        t.fold_chars(merges)?;
        // Which tokens a piece of their own bytes encodes to (see `FOLDS`); with the byte ids
        // and characters known, by running the merges of every token (~75 ms for Qwen3's 151k
        // on one core, so spread over the cores; done once, when the stored form is made).
        let folds = if ignore_merges {
            vec![true; vcap]
        } else {
            t.prove_folds()
        };
        for (slot, folds) in t.vocab.iter_mut().zip(folds) {
            if folds && slot.meta != 0 {
                slot.meta |= FOLDS;
            }
        }
        Ok(t)
    }

    /// Finds the characters whose bytes a word's merges may replace by their token from the start
    /// (`char_pages`, `char_ids`). A character's bytes are merged among themselves at ranks
    /// r₁…rₖ (replayed here as BPE would, alone); that is what happens inside any word if nothing
    /// around the character can merge with one of its symbols first. Its neighbours end and
    /// start at character boundaries: a symbol on the left ends in a byte below 0xC0, one on the
    /// right starts with a byte that is not a continuation byte. So the character folds if every
    /// step's rank is below the lowest rank at which such a neighbour merges with the symbols at
    /// the character's edges at that step, and the finished token's own such ranks are above
    /// every step's (merges around the character that BPE applies while the bytes assemble come
    /// before any merge with the token, whether the token is there from the start or not).
    /// Hugging Face's engine starts words from characters on the same argument.
    fn fold_chars(&mut self, merges: &[(u32, u32, u32)]) -> Result<(), String> {
        let n = self.len();
        // Each token's first and last byte, in one pass over the packed bytes (the merges then
        // read two small arrays instead of the token table at random).
        let edges: Vec<(u8, u8)> = (0..n as u32)
            .map(|id| {
                let t = self.token(id);
                // Empty (unknown) tokens count as able to sit anywhere.
                (
                    t.first().copied().unwrap_or(0),
                    t.last().copied().unwrap_or(0),
                )
            })
            .collect();
        let (mut take_left, mut take_right) = (vec![u32::MAX; n], vec![u32::MAX; n]);
        for (rank, &(a, b, _)) in merges.iter().enumerate() {
            let rank = rank as u32;
            let (Some(&(_, a_last)), Some(&(b_first, _))) =
                (edges.get(a as usize), edges.get(b as usize))
            else {
                return Err("merge id out of range".into());
            };
            if !(0x80..0xC0).contains(&b_first) {
                take_right[a as usize] = take_right[a as usize].min(rank);
            }
            if a_last < 0xC0 {
                take_left[b as usize] = take_left[b as usize].min(rank);
            }
        }
        let mut folded = vec![NONE; 0x10000];
        let mut any = false;
        let mut sym = Vec::with_capacity(3);
        // Candidates from the slots alone (length, first byte a lead byte), read in order.
        let candidates = self
            .vocab
            .iter()
            .filter(|s| s.meta != 0 && (2..=3).contains(&s.len()) && s.key as u8 >= 0xC2);
        for slot in candidates {
            let id = slot.id();
            let w = self.token(id);
            // One character (the slot filter fixed its 2–3 bytes).
            let Some(c) = std::str::from_utf8(w)
                .ok()
                .filter(|s| s.chars().count() == 1)
                .and_then(|s| s.chars().next())
            else {
                continue;
            };
            sym.clear();
            sym.extend(w.iter().map(|&b| self.byte_ids[usize::from(b)]));
            let mut highest = 0;
            let assembled = loop {
                if sym.len() == 1 {
                    break sym[0] == id;
                }
                let (at, v) = (0..sym.len() - 1)
                    .map(|i| (i, self.pair(sym[i], sym[i + 1])))
                    .min_by_key(|&(i, v)| (v, i))
                    .unwrap_or((0, u64::MAX));
                let rank = self.pairs.rank(v) as u32;
                let (first, last) = (sym[0] as usize, sym[sym.len() - 1] as usize);
                if v == u64::MAX
                    || take_left.get(first).is_none_or(|&r| rank >= r)
                    || take_right.get(last).is_none_or(|&r| rank >= r)
                {
                    break false;
                }
                highest = highest.max(rank);
                sym[at] = self.pairs.merged(v);
                sym.remove(at + 1);
            };
            let after = |take: &[u32]| take.get(id as usize).is_some_and(|&r| r > highest);
            if assembled && after(&take_left) && after(&take_right) {
                folded[c as usize] = id;
                any = true;
            }
        }
        if any {
            self.char_pages = vec![0; CHAR_PAGES];
            for (page, ids) in folded.chunks_exact(64).enumerate() {
                if ids.iter().any(|&id| id != NONE) {
                    self.char_ids.extend_from_slice(ids);
                    self.char_pages[page] = u16::try_from(self.char_ids.len() / 64)
                        .map_err(|_| "too many character pages")?;
                }
            }
        }
        Ok(())
    }

    /// The token a word's merges may start from for the character of two or three bytes at
    /// `w[i..]` (lead byte `w[i]` ≥ 0xC0), and its length; `None`: start from its bytes. Checks
    /// what the proof in [`Tables::fold_chars`] assumes of the bytes around it, so any bytes
    /// may be given (in a `str`, it always holds).
    #[inline]
    fn char_token(&self, w: &[u8], i: usize) -> Option<(u32, usize)> {
        let cont = |k: usize| w.get(k).is_some_and(|&b| (0x80..0xC0).contains(&b));
        let lead = u32::from(w[i]);
        let (cp, len) = if lead < 0xE0 {
            (((lead & 0x1F) << 6) | u32::from(*w.get(i + 1)? & 0x3F), 2)
        } else if lead < 0xF0 {
            let (b1, b2) = (*w.get(i + 1)?, *w.get(i + 2)?);
            (
                ((lead & 0x0F) << 12) | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F),
                3,
            )
        } else {
            return None;
        };
        let well_formed = cont(i + 1)
            && (len == 2 || cont(i + 2))
            && cp >= if len == 2 { 0x80 } else { 0x800 }
            && (i == 0 || w[i - 1] < 0xC0)
            && !cont(i + len);
        if !well_formed {
            return None;
        }
        let page = usize::from(*self.char_pages.get((cp >> 6) as usize)?);
        let id = *self
            .char_ids
            .get((page.checked_sub(1)? << 6) | (cp & 63) as usize)?;
        (id != NONE).then_some((id, len))
    }

    /// Writes the symbols `w`'s merges start from into `sym` (at least `w.len()` long): each
    /// byte's id, or a folding character's token for its bytes. Returns how many.
    #[inline]
    fn start(&self, w: &[u8], sym: &mut [u32]) -> usize {
        if self.char_pages.is_empty() || w.is_ascii() {
            for (s, &b) in sym.iter_mut().zip(w) {
                *s = self.byte_ids[usize::from(b)];
            }
            return w.len();
        }
        let (mut i, mut n) = (0, 0);
        while i < w.len() {
            let b = w[i];
            match (b >= 0xC0).then(|| self.char_token(w, i)).flatten() {
                Some((id, len)) => {
                    sym[n] = id;
                    i += len;
                }
                None => {
                    sym[n] = self.byte_ids[usize::from(b)];
                    i += 1;
                }
            }
            n += 1;
        }
        n
    }

    /// For each vocabulary slot, whether its token's merges end in that token alone.
    fn prove_folds(&self) -> Vec<bool> {
        let prove = |slots: &[VocabSlot]| -> Vec<bool> {
            let mut merged = Vec::new();
            slots
                .iter()
                .map(|slot| {
                    slot.meta != 0 && {
                        merged.clear();
                        self.merge(self.token(slot.id()), &mut merged);
                        merged == [slot.id()]
                    }
                })
                .collect()
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let chunk = self.vocab.len().div_ceil(threads);
        std::thread::scope(|s| {
            let parts: Vec<_> = self
                .vocab
                .chunks(chunk)
                .map(|part| {
                    // A chunk no thread could be started for is proved here instead.
                    let helper = std::thread::Builder::new().spawn_scoped(s, move || prove(part));
                    (part, helper)
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|(part, helper)| match helper {
                    // (Unproved, not folding, if the helper died: merges stay exact.)
                    Ok(h) => h.join().unwrap_or_else(|_| vec![false; part.len()]),
                    Err(_) => prove(part),
                })
                .collect()
        })
    }

    /// Number of ids.
    pub(crate) fn len(&self) -> usize {
        self.tokens.offsets.len().saturating_sub(1)
    }

    /// The decoded bytes of `id` (empty if out of range).
    #[inline]
    pub(crate) fn token(&self, id: u32) -> &[u8] {
        let i = id as usize;
        match (self.tokens.offsets.get(i), self.tokens.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => self.tokens.bytes.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Whether [`Tables::vocab_filter`] lets a lookup of `w` go on to the table.
    #[cfg(test)]
    pub(crate) fn filter_passes(&self, w: &[u8]) -> bool {
        self.may_hold(vocab_key(w).1)
    }

    /// Whether a token with vocabulary hash `h` may be in the table ([`Tables::vocab_filter`];
    /// no filter: yes).
    #[inline]
    fn may_hold(&self, h: u64) -> bool {
        let words = self.vocab_filter.len();
        words == 0 || {
            let bit = filter_bit(h, words);
            self.vocab_filter
                .get(bit / 64)
                .is_some_and(|x| x >> (bit % 64) & 1 != 0)
        }
    }

    /// The slot of the BPE-reachable token whose bytes are `w`.
    #[inline]
    pub(crate) fn lookup(&self, w: &[u8]) -> Option<&VocabSlot> {
        let (key, h) = vocab_key(w);
        if !self.may_hold(h) {
            return None;
        }
        let mask = self.vocab.len() - 1;
        let mut s = h as usize & mask;
        loop {
            let slot = self.vocab.get(s)?;
            if slot.meta == 0 {
                return None;
            }
            if self.holds(slot, key, w) {
                return Some(slot);
            }
            s = (s + 1) & mask;
        }
    }

    /// Whether the occupied `slot` is the token whose bytes are `w` (`key`: `w`'s first 8).
    #[inline]
    fn holds(&self, slot: &VocabSlot, key: u64, w: &[u8]) -> bool {
        slot.len() == w.len().min(255) && slot.key == key && (w.len() <= 8 || self.rest_is(slot, w))
    }

    /// Whether the token of `slot` (whose first 8 bytes and capped length match `w`'s) is `w`.
    #[cold]
    fn rest_is(&self, slot: &VocabSlot, w: &[u8]) -> bool {
        if w.len() >= 255 {
            return self.token(slot.id()) == w;
        }
        let from = slot.off as usize;
        self.tokens.bytes.get(from + 8..from + w.len()) == w.get(8..)
    }

    /// [`PairTable::value`] of the pair (ordered by rank), or `u64::MAX`.
    #[inline]
    fn pair(&self, a: u32, b: u32) -> u64 {
        if (a | b) < GRID {
            if let Some(&k) = self.grid.get((a * GRID + b) as usize) {
                return match k.checked_sub(1) {
                    Some(i) => self
                        .grid_values
                        .get(usize::from(i))
                        .copied()
                        .unwrap_or(u64::MAX),
                    None => u64::MAX,
                };
            }
        }
        self.pairs.get(a, b)
    }

    /// Checks what [`Tables::build`] guarantees, for tables read back from disk: sizes,
    /// offsets, every id in range, probe chains terminating (the pair table checks its own when
    /// read back: [`PairTable::from_parts`]).
    pub(crate) fn validate(&self) -> Result<(), String> {
        let n = self.len() as u64;
        let ok_pow2 = |v: usize| v >= 16 && v.is_power_of_two();
        let t = &self.tokens;
        if t.offsets.first() != Some(&0)
            || t.offsets.windows(2).any(|w| w[0] > w[1])
            || t.offsets.last().map(|&x| x as usize) != Some(t.bytes.len())
            || t.special.len() != self.len()
        {
            return Err("token offsets are not monotonic".into());
        }
        if !ok_pow2(self.vocab.len()) {
            return Err("table sizes are not powers of two".into());
        }
        let bad = |id: u32| u64::from(id) >= n;
        if self
            .vocab
            .iter()
            .any(|s| s.meta != 0 && (bad(s.id()) || s.off as usize > t.bytes.len()))
            || self.byte_ids.len() != 256
            || self.byte_ids.iter().any(|&id| id != NONE && bad(id))
            || !(self.grid.is_empty() || self.grid.len() == (GRID * GRID) as usize)
            || self
                .grid
                .iter()
                .any(|&k| usize::from(k) > self.grid_values.len())
            || self.grid_values.iter().any(|&v| bad(self.pairs.merged(v)))
            || !(self.char_pages.is_empty() || self.char_pages.len() == CHAR_PAGES)
            || !self.char_ids.len().is_multiple_of(64)
            || self
                .char_pages
                .iter()
                .any(|&k| usize::from(k) > self.char_ids.len() / 64)
            || self.char_ids.iter().any(|&id| id != NONE && bad(id))
            || !(self.vocab_filter.is_empty() || self.vocab_filter.len().is_power_of_two())
        {
            return Err("an id is out of range".into());
        }
        if !self.vocab.iter().any(|s| s.meta == 0) {
            return Err("a table has no empty slot".into());
        }
        Ok(())
    }

    /// Appends the ids of one pre-tokenized piece (`w` non-empty).
    pub(crate) fn encode_word(&self, w: &[u8], out: &mut Vec<u32>) {
        match self.lookup(w) {
            Some(slot) if slot.folds() => out.push(slot.id()),
            _ => self.merge(w, out),
        }
    }

    /// Appends the ids BPE's merges make of `w` (non-empty).
    pub(super) fn merge(&self, w: &[u8], out: &mut Vec<u32>) {
        // Arrays sized to the word: most pieces are short, and clearing 64 slots for each was a
        // visible part of a first-seen word's cost.
        if w.len() <= 16 {
            let mut sym = [0u32; 16];
            let n = self.start(w, &mut sym);
            self.merge_small(sym, n, out);
        } else if w.len() <= 64 {
            let mut sym = [0u32; 64];
            let n = self.start(w, &mut sym);
            self.merge_small(sym, n, out);
        } else {
            let mut sym = vec![0u32; w.len()];
            let n = self.start(w, &mut sym);
            if n <= 64 {
                // Characters folded: few enough symbols for the arrays.
                let mut head = [0u32; 64];
                head[..n].copy_from_slice(&sym[..n]);
                self.merge_small(head, n, out);
            } else {
                sym.truncate(n);
                self.merge_large(sym, out);
            }
        }
    }

    /// Merges the `n` symbols `sym[..n]` by repeatedly applying the lowest-ranked pair, leftmost
    /// first.
    fn merge_small<const N: usize>(&self, mut sym: [u32; N], n0: usize, out: &mut Vec<u32>) {
        let mut rank = [u64::MAX; N];
        for p in 0..n0.saturating_sub(1) {
            rank[p] = self.pair(sym[p], sym[p + 1]);
        }
        let mut n = n0;
        while n > 1 {
            let (mut best, mut at) = (u64::MAX, 0);
            for (p, &r) in rank[..n - 1].iter().enumerate() {
                if r < best {
                    best = r;
                    at = p;
                }
            }
            if best == u64::MAX {
                break;
            }
            sym[at] = self.pairs.merged(best);
            // Element-wise shifts: a word has a few symbols, and `copy_within`'s memmove calls
            // cost more than the moves.
            for k in at + 1..n - 1 {
                sym[k] = sym[k + 1];
            }
            for k in at..n - 2 {
                rank[k] = rank[k + 1];
            }
            n -= 1;
            if at > 0 {
                rank[at - 1] = self.pair(sym[at - 1], sym[at]);
            }
            if at + 1 < n {
                rank[at] = self.pair(sym[at], sym[at + 1]);
            } else {
                rank[at] = u64::MAX;
            }
        }
        out.extend_from_slice(&sym[..n]);
    }

    /// Long pieces: a queue of candidate merges over a linked list of symbols (stale entries
    /// skipped), so a 100 kB run of one character costs `n log n`, not `n²`.
    fn merge_large(&self, mut sym: Vec<u32>, out: &mut Vec<u32>) {
        let n = sym.len();
        let mut next: Vec<usize> = (1..=n).collect();
        let mut prev: Vec<usize> = (0..n).map(|i| i.wrapping_sub(1)).collect();
        let mut alive = vec![true; n];
        // (rank | merged id, position, left id, right id): position breaks ties leftmost-first
        // (a rank names one pair, so the merged id in the low bits never decides).
        let mut queue = BinaryHeap::new();
        for p in 0..n - 1 {
            let v = self.pair(sym[p], sym[p + 1]);
            if v != u64::MAX {
                queue.push(Reverse((v, p, sym[p], sym[p + 1])));
            }
        }
        while let Some(Reverse((v, p, a, b))) = queue.pop() {
            let q = next[p];
            if !alive[p] || q >= n || sym[p] != a || sym[q] != b {
                continue;
            }
            let merged = self.pairs.merged(v);
            sym[p] = merged;
            alive[q] = false;
            next[p] = next[q];
            if next[q] < n {
                prev[next[q]] = p;
            }
            if prev[p] != usize::MAX {
                let l = prev[p];
                let v = self.pair(sym[l], merged);
                if v != u64::MAX {
                    queue.push(Reverse((v, l, sym[l], merged)));
                }
            }
            if next[p] < n {
                let r = next[p];
                let v = self.pair(merged, sym[r]);
                if v != u64::MAX {
                    queue.push(Reverse((v, p, merged, sym[r])));
                }
            }
        }
        let mut p = 0;
        while p < n {
            out.push(sym[p]);
            p = next[p];
        }
    }
}
