//! Encoding: the split regex (one compiled copy per thread), special names, and tiktoken's
//! byte-pair merge loops (`byte_pair_encode`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicUsize, Ordering};

use fancy_regex::Regex;

use super::kimi::for_each_kimi_chunk;
use super::{EncodeStyle, TiktokenEngine};

/// Pieces shorter than this are merged with a stack buffer (no allocation).
const SMALL_PIECE: usize = 64;
/// Number of independently compiled copies of the split regex (one per thread, round robin),
/// so threads do not share the regex engine's scratch-space pool.
pub(super) const REGEX_SLOTS: usize = 64;

impl TiktokenEngine {
    pub(super) fn encode_impl(&self, text: &str, allow_special: bool) -> Vec<u32> {
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
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::fixtures::*;
    use super::*;

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
        let alphabet = "aAzZ eé中文ß١٢3 9\n\t\r.,!?'sll😀👍🏽\u{301}ǅʰ\u{a0}\u{3000}\u{1c}<|>";
        for text in super::super::fixtures::random_texts(0x2545F4914F6CDD1D, alphabet, 300) {
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
}
