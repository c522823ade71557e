//! Pre-tokenization: the `Split` stages of a `tokenizer.json` (behaviour `Isolated`, not
//! inverted: every match is a piece, and so is every gap between matches), or the GPT-2 pattern
//! of a `ByteLevel` pre-tokenizer with `use_regex`.
//!
//! The lineup's patterns are run by hand-written scanners ([`Scanner`], chosen by exact pattern
//! text from [`SCANNERS`]); any other pattern by `fancy-regex`, the engine Hugging Face's Rust
//! `tokenizers` uses for them. Each scanner is checked against `fancy-regex` on the same pattern
//! (tests below: corpora and random strings).
//!
//! Where the CPU has the SIMD it needs, a splitter whose stages are exactly one of `bitcannon`'s
//! grammars (GPT-2, cl100k/Llama-3, Qwen, o200k, DeepSeek's three stages) runs that instead: the
//! bitstream pre-tokenizer of Hugging Face's 1.0 engine, 64 bytes per step and no branch per
//! piece, several times faster than a scanner. Its splits are checked against the scanners in the
//! tests below; the scanners stay for other CPUs and as the fallback.

use std::cell::RefCell;
use std::sync::Arc;

use fancy_regex::Regex;

use super::classes::{CharClasses, L, LOWER, M, N, P, S, UPPER, WS};

/// GPT-2's pattern: what a `ByteLevel` pre-tokenizer with `use_regex: true` splits with.
pub(crate) const GPT2_PATTERN: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

/// tiktoken's o200k pattern (gpt-oss's `Split`; `crate::source::O200K_PATTERN` too).
pub(crate) const O200K_PATTERN: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
);

/// Patterns with a hand-written scanner. Sources: GPT-2 (`ByteLevel`'s built-in regex, the
/// `gpt2` fixture); Qwen2/Qwen3 (`qwen3` fixture's `Split`, one digit per piece); Qwen3.5
/// (Qwen3.5/3.6/3.8, the test-only `qwen3_5` fixture's `Split`: Qwen3's with marks joined to
/// letters); Llama-3 (`llama3_1` fixture's `Split`, up to three digits); o200k (`gpt_oss`
/// fixture's `Split`).
pub(crate) const SCANNERS: &[(&str, Scanner)] = &[
    (GPT2_PATTERN, Scanner::Gpt2),
    (
        r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
        Scanner::Llama3 {
            max_digits: 1,
            marks_join_letters: false,
        },
    ),
    // Qwen3.5 / 3.6 / 3.8 (the test-only `qwen3_5` fixture, tests/data/fixtures/qwen3_5): Qwen3's
    // pattern with `\p{M}` in the letter run and out of the punctuation class; the optional lead
    // char `[^\r\n\p{L}\p{N}]` is unchanged (a mark may lead). No `bitcannon` grammar: its Qwen
    // grammar is Qwen3's pattern, so this one always runs as a scanner.
    (
        r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
        Scanner::Llama3 {
            max_digits: 1,
            marks_join_letters: true,
        },
    ),
    (
        r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
        Scanner::Llama3 {
            max_digits: 3,
            marks_join_letters: false,
        },
    ),
    (O200K_PATTERN, Scanner::O200k),
    // DeepSeek-V3 / V3.1 (`deepseek_v3` fixture): three stages.
    (r"\p{N}{1,3}", Scanner::Digits3),
    (
        "[\u{4e00}-\u{9fa5}\u{3040}-\u{309f}\u{30a0}-\u{30ff}]+",
        Scanner::DeepSeekCjk,
    ),
    (
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
        Scanner::DeepSeekText,
    ),
];

/// A hand-written matcher for one of the [`SCANNERS`] patterns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scanner {
    /// [`GPT2_PATTERN`].
    Gpt2,
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,K}|
    /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+` with `K = max_digits`. With
    /// `marks_join_letters` (Qwen3.5), `\p{L}` is `[\p{L}\p{M}]` in the letter run (`[\p{L}\p{M}]+`)
    /// and in the punctuation class (`[^\s\p{L}\p{M}\p{N}]`), but not in the letter run's optional
    /// lead char, which stays `[^\r\n\p{L}\p{N}]`.
    Llama3 {
        max_digits: u8,
        marks_join_letters: bool,
    },
    /// [`O200K_PATTERN`].
    O200k,
    /// `\p{N}{1,3}` (text between matches is a piece too).
    Digits3,
    /// DeepSeek's `[一-龥぀-ゟ゠-ヿ]+`.
    DeepSeekCjk,
    /// DeepSeek's third stage: ASCII punctuation + ASCII letters, letters and marks with one
    /// optional leading char, punctuation and symbols, whitespace.
    DeepSeekText,
}

/// Where a split's pieces go: one at a time, or (from `bitcannon`) a chunk with all its pieces as
/// spans, which the word cache walks in one tight loop (a call and a `&str` per piece were half
/// of a warm encode's instructions). Any `FnMut(&str)` takes the pieces one by one.
pub(crate) trait Pieces<'t> {
    fn piece(&mut self, piece: &'t str);

    /// `spans` are contiguous, non-empty and on `chunk`'s char boundaries (checked by the caller).
    fn spans(&mut self, chunk: &'t str, spans: &[bitcannon::Span]) {
        for s in spans {
            if let Some(piece) = chunk.get(s.range()) {
                self.piece(piece);
            }
        }
    }
}

impl<'t, F: FnMut(&'t str)> Pieces<'t> for F {
    fn piece(&mut self, piece: &'t str) {
        self(piece)
    }
}

/// DeepSeek's CJK class: U+4E00–U+9FA5, U+3040–U+309F, U+30A0–U+30FF.
fn deepseek_cjk(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fa5}' | '\u{3040}'..='\u{309f}' | '\u{30a0}'..='\u{30ff}')
}

/// One split stage.
#[derive(Clone)]
pub(crate) enum Stage {
    Scan(Scanner),
    Regex(Regex),
}

impl Stage {
    /// The stage for `pattern`: a scanner if there is one, else the compiled regex.
    pub(crate) fn new(pattern: &str) -> Result<Stage, String> {
        if let Some((_, s)) = SCANNERS.iter().find(|(p, _)| *p == pattern) {
            return Ok(Stage::Scan(*s));
        }
        Regex::new(pattern)
            .map(Stage::Regex)
            .map_err(|e| format!("split pattern {pattern:?}: {e}"))
    }
}

/// The pre-tokenizer: stages applied in order, each to every piece of the one before.
pub(crate) struct Splitter {
    stages: Vec<Stage>,
    classes: Arc<CharClasses>,
    grammar: Option<Grammar>,
}

/// The `bitcannon` grammar that splits exactly as a splitter's stages do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Grammar {
    Gpt2,
    Cl100k,
    Qwen,
    O200k,
    DeepSeek,
}

impl Grammar {
    fn of(stages: &[Stage]) -> Option<Grammar> {
        use Scanner::*;
        let scanners: Vec<Scanner> = stages
            .iter()
            .map(|s| match s {
                Stage::Scan(x) => Some(*x),
                Stage::Regex(_) => None,
            })
            .collect::<Option<_>>()?;
        Some(match scanners.as_slice() {
            [Gpt2] => Grammar::Gpt2,
            [Llama3 {
                max_digits: 3,
                marks_join_letters: false,
            }] => Grammar::Cl100k,
            [Llama3 {
                max_digits: 1,
                marks_join_letters: false,
            }] => Grammar::Qwen,
            [O200k] => Grammar::O200k,
            [Digits3, DeepSeekCjk, DeepSeekText] => Grammar::DeepSeek,
            _ => return None,
        })
    }

    /// Splits `text` into `scratch.spans`; their count.
    fn run(self, text: &[u8], scratch: &mut Scratch) -> usize {
        let n = text.len();
        let words = n.div_ceil(64) + 1;
        let Scratch {
            tags,
            starts,
            flag,
            later,
            spans,
        } = scratch;
        // Buffers only grow (and are used up to what this chunk needs): no refill per chunk.
        grow(tags, n);
        grow(starts, words);
        grow(flag, words);
        grow(later, 2 * words);
        grow(spans, n + 1);
        let tags = &mut tags[..n];
        bitcannon::classify::classify(text, tags);
        let (tags, spans) = (&*tags, &mut spans[..n + 1]);
        let (starts, flag) = (&mut starts[..words], &mut flag[..words]);
        let later = &mut later[..2 * words];
        match self {
            Grammar::Gpt2 => bitcannon::bitcannon_byte_level(text, tags, starts, flag, spans),
            Grammar::Cl100k => bitcannon::bitcannon_cl100k(text, tags, starts, flag, spans),
            Grammar::Qwen => bitcannon::bitcannon_qwen(text, tags, starts, flag, spans),
            Grammar::O200k => bitcannon::bitcannon_o200k(text, tags, starts, flag, later, spans),
            Grammar::DeepSeek => bitcannon::bitcannon_deepseek(text, tags, starts, spans),
        }
    }
}

/// Makes `v` at least `n` long.
fn grow<T: Default + Clone>(v: &mut Vec<T>, n: usize) {
    if v.len() < n {
        v.resize(n, T::default());
    }
}

/// A thread's buffers for [`Grammar::run`].
#[derive(Default)]
struct Scratch {
    tags: Vec<u8>,
    starts: Vec<u64>,
    flag: Vec<u64>,
    later: Vec<u64>,
    spans: Vec<bitcannon::Span>,
}

/// Code points `bitcannon` classes differently from the scanners: what Unicode 17.0 assigned or
/// re-categorised (CJK Extension J, new scripts and symbols, U+0295 Ll → Lo). `bitcannon` follows
/// Unicode 17; the scanners follow `regex-syntax`, the tables of the regex engines the patterns are
/// defined by (and the ones tinkex's parity has been measured on). A chunk holding one of these
/// goes to the scanners. Derived by sweeping every code point through both (the test
/// `grammar_and_scanners_differ_only_on_these_code_points` re-derives it on every run).
const UNICODE_17: &[(u32, u32)] = &[
    (0x0295, 0x0295),
    (0x088F, 0x088F),
    (0x0C5C, 0x0C5C),
    (0x0CDC, 0x0CDC),
    (0x1ACF, 0x1ADD),
    (0x1AE0, 0x1AEB),
    (0x20C1, 0x20C1),
    (0x2B96, 0x2B96),
    (0xA7CE, 0xA7CF),
    (0xA7D2, 0xA7D2),
    (0xA7D4, 0xA7D4),
    (0xA7F1, 0xA7F1),
    (0xFBC3, 0xFBD2),
    (0xFD90, 0xFD91),
    (0xFDC8, 0xFDCE),
    (0x10940, 0x10959),
    (0x10EC5, 0x10EC7),
    (0x10ED0, 0x10ED8),
    (0x10EFA, 0x10EFB),
    (0x11B60, 0x11B67),
    (0x11DB0, 0x11DDB),
    (0x11DE0, 0x11DE9),
    (0x16EA0, 0x16EB8),
    (0x16EBB, 0x16ED3),
    (0x16FF2, 0x16FF6),
    (0x187F8, 0x187FF),
    (0x18D09, 0x18D1E),
    (0x18D80, 0x18DF2),
    (0x1CCFA, 0x1CCFC),
    (0x1CEBA, 0x1CED0),
    (0x1CEE0, 0x1CEF0),
    (0x1E6C0, 0x1E6DE),
    (0x1E6E0, 0x1E6F5),
    (0x1E6FE, 0x1E6FF),
    (0x1F6D8, 0x1F6D8),
    (0x1F777, 0x1F77A),
    (0x1F8D0, 0x1F8D8),
    (0x1FA54, 0x1FA57),
    (0x1FA8A, 0x1FA8A),
    (0x1FA8E, 0x1FA8E),
    (0x1FAC8, 0x1FAC8),
    (0x1FACD, 0x1FACD),
    (0x1FAEA, 0x1FAEA),
    (0x1FAEF, 0x1FAEF),
    (0x1FBFA, 0x1FBFA),
    (0x2B73A, 0x2B73F),
    (0x2CEA2, 0x2CEAD),
    (0x323B0, 0x33479),
];

/// U+017F `ſ`, which the regex engines' case-insensitive contractions fold to `s` (`'ſ` is a
/// piece) and `bitcannon`'s do not.
const LONG_S: u32 = 0x17F;

/// The first two UTF-8 bytes of a code point, as a bit index: (lead − 0xC0) · 64 + the second
/// byte's low six bits. The pair fixes a two-byte character, a block of 64 three-byte ones, a
/// block of 4096 four-byte ones.
const fn lead_pair(c: u32) -> usize {
    let (lead, second) = if c < 0x800 {
        (0xC0 | c >> 6, c & 0x3F)
    } else if c < 0x10000 {
        (0xE0 | c >> 12, (c >> 6) & 0x3F)
    } else {
        (0xF0 | c >> 18, (c >> 12) & 0x3F)
    };
    ((lead - 0xC0) << 6 | second) as usize
}

/// Which first-two-byte pairs (see [`lead_pair`]) start [`LONG_S`] or a [`UNICODE_17`] code
/// point: 64 leads × 64, 512 bytes. Only characters whose pair is set are decoded and looked up
/// (in multilingual text, most lead bytes were: E0–E2 start Indic scripts, Thai and punctuation).
const SUSPECT_PAIRS: [u64; 64] = {
    let mut bits = [0u64; 64];
    let k = lead_pair(LONG_S);
    bits[k / 64] |= 1 << (k % 64);
    let mut r = 0;
    while r < UNICODE_17.len() {
        let mut c = UNICODE_17[r].0;
        while c <= UNICODE_17[r].1 {
            let k = lead_pair(c);
            bits[k / 64] |= 1 << (k % 64);
            c += 1;
        }
        r += 1;
    }
    bits
};

/// Whether the character at `b[i..]` (`b[i]` a lead byte) is [`LONG_S`] or in [`UNICODE_17`].
#[cold]
fn is_unicode_17_at(text: &str, i: usize) -> bool {
    text.get(i..)
        .and_then(|r| r.chars().next())
        .is_some_and(|c| {
            let c = c as u32;
            c == LONG_S || {
                let r = UNICODE_17.partition_point(|&(_, hi)| hi < c);
                UNICODE_17.get(r).is_some_and(|&(lo, _)| lo <= c)
            }
        })
}

/// Whether `text` holds a code point the scanners must split: one of [`UNICODE_17`] or
/// [`LONG_S`]. Eight bytes at a time: the lead bytes (≥ 0xC0) of a word are found with two
/// masks, and each is tested against [`SUSPECT_PAIRS`] with its next byte; only a set pair is
/// decoded. (It was a search for the next byte ≥ 0xC5 per character, 13% of a warm
/// multilingual Llama-3 pass in callgrind.)
fn has_unicode_17(text: &str) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let b = text.as_bytes();
    let suspect = |i: usize| {
        let (lead, next) = (b[i], b.get(i + 1).copied().unwrap_or(0));
        let k = usize::from(lead - 0xC0) << 6 | usize::from(next & 0x3F);
        SUSPECT_PAIRS[k / 64] >> (k % 64) & 1 != 0 && is_unicode_17_at(text, i)
    };
    let mut words = b.chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        let mut x = [0u8; 8];
        x.copy_from_slice(w);
        let x = u64::from_le_bytes(x);
        // Bit 7 of each byte whose bits 7 and 6 are both set.
        let mut leads = x & (x << 1) & HIGH;
        while leads != 0 {
            if suspect(at + (leads.trailing_zeros() / 8) as usize) {
                return true;
            }
            leads &= leads - 1;
        }
        at += 8;
    }
    let tail = words.remainder();
    (0..tail.len()).any(|k| tail[k] >= 0xC0 && suspect(at + k))
}

/// Text handed to a grammar at once: bounds a thread's scratch (~9 bytes per byte of text).
const CHUNK: usize = 64 << 10;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// A cut at or after `from` where the grammar starts a piece whatever follows, and the pieces
/// before it are the ones the text up to it alone would give. Two kinds, both before an ASCII
/// letter, which starts a letter piece whose optional lead char cannot be `\r` or `\n`:
///
/// - before a space that follows a visible ASCII char: no piece holds a space after another char
///   (spaces only lead a piece), so the piece before ends at the visible char either way, and no
///   alternative's optional tail (`[\r\n]*`, contractions) takes a space;
/// - after a `\n`: in the Llama-3/Qwen, o200k and DeepSeek patterns `\s*[\r\n]+` takes a
///   whitespace run ending in `\n` whole, before a letter or at the end. GPT-2's has no such
///   alternative, and its `\s+(?!\S)` splits `"\n\n"` before a letter but not at the end, so for
///   it (`lone_newline`) the `\n` must follow a visible ASCII char.
///
/// (Before this, only the GPT-2 newline rule was used, for every grammar: prose, its paragraphs
/// apart by blank lines, found no cut, and a long document went to the scanners.)
fn safe_cut(text: &[u8], from: usize, lone_newline: bool) -> Option<usize> {
    let mut i = from;
    while let Some(k) = text.get(i..)?.iter().position(|&b| b == b'\n' || b == b' ') {
        let at = i + k;
        let after = at + 1;
        let visible_before = || {
            at.checked_sub(1)
                .and_then(|j| text.get(j))
                .is_some_and(u8::is_ascii_graphic)
        };
        if text.get(after).is_some_and(u8::is_ascii_alphabetic) {
            if text.get(at) == Some(&b' ') {
                if visible_before() {
                    return Some(at);
                }
            } else if !lone_newline || visible_before() {
                return Some(after);
            }
        }
        i = after;
    }
    None
}

/// The char at byte `i` of `s` (a char boundary) and its length.
#[inline]
fn char_at(s: &str, i: usize) -> Option<(char, usize)> {
    let b = *s.as_bytes().get(i)?;
    if b < 0x80 {
        return Some((char::from(b), 1));
    }
    let c = s.get(i..)?.chars().next()?;
    Some((c, c.len_utf8()))
}

struct Scan<'a> {
    s: &'a str,
    classes: &'a CharClasses,
}

impl Scan<'_> {
    /// Char, its length and class bits at `i`.
    #[inline]
    fn at(&self, i: usize) -> Option<(char, usize, u8)> {
        let b = *self.s.as_bytes().get(i)?;
        if b < 0x80 {
            return Some((char::from(b), 1, self.classes.ascii(b)));
        }
        let (c, l) = char_at(self.s, i)?;
        Some((c, l, self.classes.of(c)))
    }

    /// End of the run from `i` of chars whose class has a bit of `mask` (`want`) or none
    /// (`!want`).
    #[inline]
    fn run(&self, mut i: usize, mask: u8, want: bool) -> usize {
        let b = self.s.as_bytes();
        let ascii = self.classes.ascii_table();
        while let Some(&x) = b.get(i) {
            // ASCII (most text) by one table load; other chars decoded.
            let (class, l) = if x < 0x80 {
                (ascii[usize::from(x)], 1)
            } else {
                match char_at(self.s, i) {
                    Some((c, l)) => (self.classes.of(c), l),
                    None => break,
                }
            };
            if (class & mask != 0) != want {
                break;
            }
            i += l;
        }
        i
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d` at `i` (an apostrophe), case-insensitively with `fold` (the
    /// regex engines' simple case folding: `ſ` U+017F is an `s`; no other char folds to these
    /// letters).
    fn contraction(&self, i: usize, fold: bool) -> Option<usize> {
        let lower = |c: char| match c {
            'ſ' if fold => 's',
            c if fold => c.to_ascii_lowercase(),
            c => c,
        };
        let (c1, l1, _) = self.at(i + 1)?;
        match lower(c1) {
            's' | 't' | 'm' | 'd' => Some(i + 1 + l1),
            first @ ('r' | 'v' | 'l') => {
                let (c2, l2, _) = self.at(i + 1 + l1)?;
                let second = if first == 'l' { 'l' } else { 'e' };
                (lower(c2) == second).then_some(i + 1 + l1 + l2)
            }
            _ => None,
        }
    }

    /// `\p{N}{1,max}` after its first digit, which ends at `j`: the end of the match.
    fn digits(&self, mut j: usize, max: u8) -> usize {
        for _ in 1..max {
            match self.at(j) {
                Some((_, l, class)) if class & N != 0 => j += l,
                _ => break,
            }
        }
        j
    }

    /// ` ?[^\s\p{L}\p{N}]+` at `i` (char `c` of class `class`) followed by any run of the
    /// `trailing` bytes: its end, if it matches. `not`: the classes the run excludes, `WS | L | N`
    /// (`WS | L | M | N` for `[^\s\p{L}\p{M}\p{N}]`).
    fn other_run(&self, i: usize, c: char, class: u8, not: u8, trailing: &[u8]) -> Option<usize> {
        let other = |class: u8| class & not == 0;
        let start = if c == ' ' {
            self.at(i + 1).filter(|x| other(x.2)).map(|_| i + 1)
        } else {
            other(class).then_some(i)
        }?;
        let mut e = self.run(start, not, false);
        let b = self.s.as_bytes();
        while b.get(e).is_some_and(|x| trailing.contains(x)) {
            e += 1;
        }
        Some(e)
    }

    /// The start of the char before byte `i` (> 0).
    fn prev(&self, i: usize) -> usize {
        let mut j = i - 1;
        while !self.s.is_char_boundary(j) {
            j -= 1;
        }
        j
    }

    /// `U*W+` from `s` (o200k's first letter alternative, `U` = [`UPPER`], `W` = [`LOWER`]):
    /// the greedy `U*` gives back chars until `W+` can start, then `W+` runs as far as it can.
    fn upper_star_lower_plus(&self, s: usize) -> Option<usize> {
        let u = self.run(s, UPPER, true);
        let mut k = u;
        loop {
            if self.at(k).is_some_and(|x| x.2 & LOWER != 0) {
                return Some(self.run(k, LOWER, true));
            }
            if k == s {
                return None;
            }
            k = self.prev(k);
        }
    }

    /// `U+W*` from `s` (o200k's second letter alternative).
    fn upper_plus_lower_star(&self, s: usize) -> Option<usize> {
        let u = self.run(s, UPPER, true);
        (u > s).then(|| self.run(u, LOWER, true))
    }

    /// o200k's letter alternatives at `i`: `[^\r\n\p{L}\p{N}]?` then `U*W+` (or `U+W*`), then
    /// an optional case-insensitive contraction. The optional first char is tried taken, then
    /// not, for each alternative in turn, as the regex engine backtracks.
    fn o200k_letters(&self, i: usize, c: char, l: usize, class: u8) -> Option<usize> {
        let lead = class & (L | N) == 0 && c != '\r' && c != '\n';
        let starts = [lead.then_some(i + l), Some(i)];
        let end = starts
            .iter()
            .flatten()
            .find_map(|&s| self.upper_star_lower_plus(s))
            .or_else(|| {
                starts
                    .iter()
                    .flatten()
                    .find_map(|&s| self.upper_plus_lower_star(s))
            })?;
        Some(match self.at(end) {
            Some(('\'', _, _)) => self.contraction(end, true).unwrap_or(end),
            _ => end,
        })
    }

    /// At whitespace: `\s*[\r\n]+` (when `newline_rule`), then `\s+(?!\S)`, then `\s+`.
    fn whitespace(&self, i: usize, newline_rule: bool) -> usize {
        let b = self.s.as_bytes();
        let (mut j, mut last_newline, mut last_start, mut count) = (i, None, i, 0usize);
        while let Some((_, l, class)) = self.at(j) {
            if class & WS == 0 {
                break;
            }
            if matches!(b[j], b'\r' | b'\n') {
                last_newline = Some(j);
            }
            last_start = j;
            count += 1;
            j += l;
        }
        match last_newline {
            // `\s*` backs off to the run's last newline, `[\r\n]+` takes it.
            Some(k) if newline_rule => k + 1,
            // `\s+(?!\S)` leaves the last whitespace char to the next piece, unless the run ends
            // the text or is that one char (then `\s+` takes it).
            _ if j == b.len() || count == 1 => j,
            _ => last_start,
        }
    }

    /// End of the match starting at `i` (< len), if the pattern matches there.
    fn find(&self, scanner: Scanner, i: usize) -> Option<usize> {
        let (c, l, class) = self.at(i)?;
        Some(match scanner {
            Scanner::Digits3 => {
                if class & N == 0 {
                    return None;
                }
                self.digits(i + l, 3)
            }
            Scanner::DeepSeekCjk => {
                if !deepseek_cjk(c) {
                    return None;
                }
                let mut j = i + l;
                while let Some((c2, l2)) = char_at(self.s, j) {
                    if !deepseek_cjk(c2) {
                        break;
                    }
                    j += l2;
                }
                j
            }
            Scanner::DeepSeekText => {
                let b = self.s.as_bytes();
                // [ASCII punctuation][A-Za-z]+
                if c.is_ascii_punctuation() && b.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
                    let mut j = i + 2;
                    while b.get(j).is_some_and(u8::is_ascii_alphabetic) {
                        j += 1;
                    }
                    return Some(j);
                }
                // [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+ (a mark as the optional char ends
                // where the run from it would)
                if class & (L | M) != 0 {
                    return Some(self.run(i, L | M, true));
                }
                if class & (L | P | S) == 0 && c != '\r' && c != '\n' {
                    if let Some((_, l2, c2)) = self.at(i + l) {
                        if c2 & (L | M) != 0 {
                            return Some(self.run(i + l + l2, L | M, true));
                        }
                    }
                }
                //  ?[\p{P}\p{S}]+[\r\n]*
                let start = if c == ' ' {
                    self.at(i + 1).filter(|x| x.2 & (P | S) != 0).map(|_| i + 1)
                } else {
                    (class & (P | S) != 0).then_some(i)
                };
                if let Some(s) = start {
                    let mut e = self.run(s, P | S, true);
                    while matches!(b.get(e), Some(b'\r' | b'\n')) {
                        e += 1;
                    }
                    return Some(e);
                }
                if class & WS == 0 {
                    return None;
                }
                self.whitespace(i, true)
            }
            Scanner::Llama3 {
                max_digits,
                marks_join_letters,
            } => {
                if c == '\'' {
                    if let Some(e) = self.contraction(i, true) {
                        return Some(e);
                    }
                }
                // The letter run's class: `\p{L}`, or `[\p{L}\p{M}]` (a mask, no branch later).
                let letters = if marks_join_letters { L | M } else { L };
                // [^\r\n\p{L}\p{N}]?\p{L}+ (or `[\p{L}\p{M}]+`: then a mark as the optional char
                // ends where the run from it would)
                if class & letters != 0 {
                    return Some(self.run(i + l, letters, true));
                }
                if class & (L | N) == 0 && c != '\r' && c != '\n' {
                    if let Some((_, l2, c2)) = self.at(i + l) {
                        if c2 & letters != 0 {
                            return Some(self.run(i + l + l2, letters, true));
                        }
                    }
                }
                // \p{N}{1,K}
                if class & N != 0 {
                    return Some(self.digits(i + l, max_digits));
                }
                // ` ?[^\s\p{L}\p{N}]+[\r\n]*` (or `[^\s\p{L}\p{M}\p{N}]`)
                if let Some(e) = self.other_run(i, c, class, WS | letters | N, b"\r\n") {
                    return Some(e);
                }
                self.whitespace(i, true)
            }
            Scanner::O200k => {
                if class & N == 0 {
                    if let Some(e) = self.o200k_letters(i, c, l, class) {
                        return Some(e);
                    }
                }
                // \p{N}{1,3}
                if class & N != 0 {
                    return Some(self.digits(i + l, 3));
                }
                // ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
                if let Some(e) = self.other_run(i, c, class, WS | L | N, b"\r\n/") {
                    return Some(e);
                }
                self.whitespace(i, true)
            }
            Scanner::Gpt2 => {
                if c == '\'' {
                    if let Some(e) = self.contraction(i, false) {
                        return Some(e);
                    }
                }
                // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: the class after the optional space.
                let (s, class) = match (c, self.at(i + 1)) {
                    (' ', Some((_, _, c2))) => (i + 1, c2),
                    _ => (i, class),
                };
                if class & L != 0 {
                    self.run(s, L, true)
                } else if class & N != 0 {
                    self.run(s, N, true)
                } else if class & WS == 0 {
                    self.run(s, WS | L | N, false)
                } else {
                    self.whitespace(i, false)
                }
            }
        })
    }
}

impl Splitter {
    /// Whether every stage has a hand-written scanner.
    #[cfg(test)]
    pub(crate) fn all_scanned(&self) -> bool {
        self.stages.iter().all(|s| matches!(s, Stage::Scan(_)))
    }

    pub(crate) fn new(stages: Vec<Stage>, classes: Arc<CharClasses>) -> Splitter {
        let grammar = Grammar::of(&stages).filter(|_| bitcannon::fast_builder());
        Splitter {
            stages,
            classes,
            grammar,
        }
    }

    /// The same splitter without the `bitcannon` route (tests compare the two).
    #[cfg(test)]
    pub(crate) fn scanners_only(&self) -> Splitter {
        Splitter {
            stages: self.stages.clone(),
            classes: self.classes.clone(),
            grammar: None,
        }
    }

    #[cfg(test)]
    pub(crate) fn has_grammar(&self) -> bool {
        self.grammar.is_some()
    }

    /// Calls `f` with every piece of `text`, in order. Fails only if a regex engine gives up
    /// (its backtracking limit), as Hugging Face's does.
    pub(crate) fn split<'t>(
        &self,
        text: &'t str,
        f: &mut impl Pieces<'t>,
    ) -> Result<(), fancy_regex::Error> {
        self.split_guarded(text, f, true, CHUNK)
    }

    /// [`Splitter::split`]; `guard`: chunks holding [`UNICODE_17`] code points go to the scanners
    /// (off only in the test that finds where the two differ); `chunk_len`: [`CHUNK`] (short in
    /// a test, so that it meets thousands of cuts).
    fn split_guarded<'t>(
        &self,
        text: &'t str,
        f: &mut impl Pieces<'t>,
        guard: bool,
        chunk_len: usize,
    ) -> Result<(), fancy_regex::Error> {
        let Some(grammar) = self.grammar else {
            return self.split_from(0, text, f);
        };
        SCRATCH.with(|scratch| {
            let Ok(mut scratch) = scratch.try_borrow_mut() else {
                // Re-entered (encoding calls no user code, so it cannot be): no shared buffers.
                return self.split_from(0, text, f);
            };
            let mut rest = text;
            while !rest.is_empty() {
                let cut = if rest.len() <= chunk_len {
                    rest.len()
                } else {
                    match safe_cut(rest.as_bytes(), chunk_len, grammar == Grammar::Gpt2) {
                        Some(cut) => cut,
                        // No safe cut ahead: the scanners take the rest (same pieces).
                        None => return self.split_from(0, rest, f),
                    }
                };
                let Some((chunk, tail)) = rest.split_at_checked(cut) else {
                    return self.split_from(0, rest, f);
                };
                if guard && has_unicode_17(chunk) {
                    self.split_from(0, chunk, f)?;
                    rest = tail;
                    continue;
                }
                let k = grammar.run(chunk.as_bytes(), &mut scratch);
                let spans = &scratch.spans[..k];
                // The grammar's promise, checked before anything is emitted: contiguous pieces
                // on char boundaries covering the chunk. Otherwise the scanners do the chunk.
                let whole = spans.first().is_some_and(|s| s.start == 0)
                    && spans.last().is_some_and(|s| s.end as usize == chunk.len())
                    && spans.windows(2).all(|w| w[0].end == w[1].start)
                    && spans
                        .iter()
                        .all(|s| s.start < s.end && chunk.is_char_boundary(s.start as usize));
                if whole {
                    f.spans(chunk, spans);
                } else {
                    self.split_from(0, chunk, f)?;
                }
                rest = tail;
            }
            Ok(())
        })
    }

    fn split_from<'t>(
        &self,
        stage: usize,
        text: &'t str,
        f: &mut impl Pieces<'t>,
    ) -> Result<(), fancy_regex::Error> {
        let Some(st) = self.stages.get(stage) else {
            if !text.is_empty() {
                f.piece(text);
            }
            return Ok(());
        };
        // After the last stage a piece goes straight to `f` (no call per piece).
        let last = stage + 1 == self.stages.len();
        let mut next = |piece: &'t str| -> Result<(), fancy_regex::Error> {
            if last {
                if !piece.is_empty() {
                    f.piece(piece);
                }
                Ok(())
            } else {
                self.split_from(stage + 1, piece, f)
            }
        };
        match st {
            Stage::Scan(scanner) => {
                let scan = Scan {
                    s: text,
                    classes: &self.classes,
                };
                // Text where the pattern does not match (none for most patterns) is a piece of
                // its own between matches.
                let (mut i, mut gap) = (0, None);
                while i < text.len() {
                    match scan.find(*scanner, i).filter(|&e| e > i) {
                        Some(e) => {
                            if let Some(g) = gap.take() {
                                if let Some(piece) = text.get(g..i) {
                                    next(piece)?;
                                }
                            }
                            if let Some(piece) = text.get(i..e) {
                                next(piece)?;
                            }
                            i = e;
                        }
                        None => {
                            gap.get_or_insert(i);
                            i += char_at(text, i).map_or(1, |(_, l)| l);
                        }
                    }
                }
                if let Some(piece) = gap.and_then(|g| text.get(g..)) {
                    next(piece)?;
                }
            }
            Stage::Regex(re) => {
                let mut done = 0;
                for m in re.find_iter(text) {
                    let m = m?;
                    if m.start() == m.end() {
                        continue;
                    }
                    if let Some(gap) = text.get(done..m.start()) {
                        next(gap)?;
                    }
                    next(m.as_str())?;
                    done = m.end();
                }
                if let Some(rest) = text.get(done..) {
                    next(rest)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every scanner splits exactly as `fancy-regex` does with its pattern, on seeded random text
    /// built to hit every branch (more cases than the engine-level comparison runs).
    #[test]
    fn scanners_equal_the_regex_engine() {
        let texts = super::super::tests::random_texts(0xC0FF_EE00, 20_000, &[]);
        for (pattern, scanner) in SCANNERS {
            let scan = Splitter::new(vec![Stage::Scan(*scanner)], Arc::new(CharClasses::new()))
                .scanners_only();
            let regex = Splitter::new(
                vec![Stage::Regex(Regex::new(pattern).unwrap())],
                Arc::new(CharClasses::new()),
            );
            for t in &texts {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                scan.split(t, &mut |p| a.push(p)).unwrap();
                regex.split(t, &mut |p| b.push(p)).unwrap();
                assert_eq!(a, b, "{scanner:?} on {t:?}");
            }
        }
    }

    /// The Qwen3.5 scanner ([`QWEN3_5`]).
    const QWEN3_5_SCANNER: Scanner = Scanner::Llama3 {
        max_digits: 1,
        marks_join_letters: true,
    };

    /// Qwen3.5's `Split` pattern, as in the `qwen3_5` fixture.
    const QWEN3_5: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// A one-stage scanner splitter and the `fancy-regex` one for the same pattern.
    struct Both {
        scan: Splitter,
        regex: Splitter,
    }

    impl Both {
        fn new(pattern: &str, scanner: Scanner, classes: &Arc<CharClasses>) -> Both {
            Both {
                scan: Splitter::new(vec![Stage::Scan(scanner)], classes.clone()).scanners_only(),
                regex: Splitter::new(
                    vec![Stage::Regex(Regex::new(pattern).unwrap())],
                    classes.clone(),
                ),
            }
        }

        /// `text`'s pieces: the scanner's and the regex engine's.
        fn split(&self, text: &str) -> (Vec<String>, Vec<String>) {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            self.scan
                .split(text, &mut |p: &str| a.push(p.to_owned()))
                .unwrap();
            self.regex
                .split(text, &mut |p: &str| b.push(p.to_owned()))
                .unwrap();
            (a, b)
        }
    }

    /// The Qwen3.5 fixture's pattern is the table's, takes the Qwen3.5 scanner, and has no
    /// `bitcannon` grammar (that grammar is Qwen3's pattern, which splits marks otherwise).
    #[test]
    fn qwen3_5_fixture_pattern_takes_its_scanner_and_no_grammar() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/fixtures/qwen3_5/tokenizer.json.zst");
        let doc: serde_json::Value =
            serde_json::from_slice(&crate::testing::read_zst(&path)).expect("JSON");
        let pre = &doc["pre_tokenizer"];
        assert_eq!(pre["type"], "Sequence");
        let split = &pre["pretokenizers"][0];
        assert_eq!(split["type"], "Split");
        assert_eq!(split["behavior"], "Isolated");
        assert_eq!(split["invert"], false);
        let pattern = split["pattern"]["Regex"].as_str().expect("a regex");
        assert_eq!(pattern, QWEN3_5);
        let stage = Stage::new(pattern).unwrap();
        assert!(matches!(stage, Stage::Scan(s) if s == QWEN3_5_SCANNER));
        assert_eq!(Grammar::of(std::slice::from_ref(&stage)), None);
        let splitter = Splitter::new(vec![stage], Arc::new(CharClasses::new()));
        assert!(splitter.all_scanned());
        assert!(!splitter.has_grammar());
        // Qwen3's pattern keeps its grammar where the CPU has one.
        let qwen3 = SCANNERS
            .iter()
            .find(|(_, s)| {
                *s == Scanner::Llama3 {
                    max_digits: 1,
                    marks_join_letters: false,
                }
            })
            .map(|(p, _)| Stage::new(p).unwrap())
            .unwrap();
        assert_eq!(
            Grammar::of(std::slice::from_ref(&qwen3)),
            Some(Grammar::Qwen)
        );
    }

    /// Combining marks under Qwen3.5's pattern, each split checked by hand and against
    /// `fancy-regex` (and every other scanner against its own pattern on the same texts).
    #[test]
    fn qwen3_5_splits_marks_as_the_regex_engine() {
        let cases: &[(&str, &[&str])] = &[
            // After letters: part of the word (Qwen3 splits the mark off).
            ("e\u{301}", &["e\u{301}"]),
            ("cafe\u{301} ole\u{301}", &["cafe\u{301}", " ole\u{301}"]),
            ("x\u{300}\u{301}y", &["x\u{300}\u{301}y"]),
            // At the start of text, alone, and before letters.
            ("\u{301}", &["\u{301}"]),
            ("\u{301}\u{302}\u{303}", &["\u{301}\u{302}\u{303}"]),
            ("\u{301}abc", &["\u{301}abc"]),
            ("\u{301}\u{302}ab 1", &["\u{301}\u{302}ab", " ", "1"]),
            // After a space, tab, punctuation: the lead char of the letter run.
            (" \u{301}", &[" \u{301}"]),
            (" \u{301}ab", &[" \u{301}ab"]),
            ("\t\u{301}", &["\t\u{301}"]),
            ("  \u{301}x", &[" ", " \u{301}x"]),
            ("!\u{301}", &["!\u{301}"]),
            ("!!\u{301}", &["!!", "\u{301}"]),
            ("a.\u{301}b", &["a", ".\u{301}b"]),
            ("...\u{301}", &["...", "\u{301}"]),
            (" !\u{301}", &[" !", "\u{301}"]),
            // After a digit or a newline: not a lead char.
            ("1\u{301}", &["1", "\u{301}"]),
            ("12\u{301}a", &["1", "2", "\u{301}a"]),
            ("\n\u{301}", &["\n", "\u{301}"]),
            ("\r\n\u{301}x", &["\r\n", "\u{301}x"]),
            ("a\n\n\u{301}", &["a", "\n\n", "\u{301}"]),
            // Contractions: taken first, the mark after them starts a piece.
            ("it's\u{301}", &["it", "'s", "\u{301}"]),
            ("IT'S\u{301}x", &["IT", "'S", "\u{301}x"]),
            ("'\u{301}", &["'\u{301}"]),
            ("'\u{301}s", &["'\u{301}s"]),
            ("e\u{301}'ll", &["e\u{301}", "'ll"]),
            // Scripts with marks.
            ("नमस्ते दुनिया", &["नमस्ते", " दुनिया"]),
            ("ภาษาไทยที่นี่", &["ภาษาไทยที่นี่"]),
            ("مَرْحَبًا بِكُمْ", &["مَرْحَبًا", " بِكُمْ"]),
            ("中文\u{301}日本語", &["中文\u{301}日本語"]),
            ("한국어\u{302}!", &["한국어\u{302}", "!"]),
            // Emoji: U+FE0F is a mark (`Mn`), U+200D (ZWJ) and the skin tones are not.
            ("\u{2764}\u{fe0f}", &["\u{2764}\u{fe0f}"]),
            (
                "\u{2764}\u{fe0f}\u{2764}\u{fe0f}",
                &["\u{2764}\u{fe0f}", "\u{2764}\u{fe0f}"],
            ),
            ("a\u{fe0f}", &["a\u{fe0f}"]),
            (" \u{fe0f}", &[" \u{fe0f}"]),
            (
                "\u{1f468}\u{200d}\u{1f469}",
                &["\u{1f468}\u{200d}\u{1f469}"],
            ),
            (
                "\u{1f3f3}\u{fe0f}\u{200d}\u{1f308}",
                &["\u{1f3f3}\u{fe0f}", "\u{200d}\u{1f308}"],
            ),
            ("\u{1f44d}\u{1f3fd} ok", &["\u{1f44d}\u{1f3fd}", " ok"]),
            // An enclosing mark (`Me`) and a spacing one (`Mc`).
            ("1\u{20e3}", &["1", "\u{20e3}"]),
            ("#\u{fe0f}\u{20e3}", &["#\u{fe0f}\u{20e3}"]),
            ("\u{915}\u{93e}", &["\u{915}\u{93e}"]),
        ];
        let classes = Arc::new(CharClasses::new());
        let qwen3_5 = Both::new(QWEN3_5, QWEN3_5_SCANNER, &classes);
        let all: Vec<(Scanner, Both)> = SCANNERS
            .iter()
            .map(|(p, s)| (*s, Both::new(p, *s, &classes)))
            .collect();
        for &(text, want) in cases {
            let (got, regex) = qwen3_5.split(text);
            assert_eq!(regex, want, "regex on {text:?}");
            assert_eq!(got, want, "scanner on {text:?}");
            for (scanner, both) in &all {
                let (a, b) = both.split(text);
                assert_eq!(a, b, "{scanner:?} on {text:?}");
            }
        }
    }

    /// Every scanner against the regex engine on random text dense in marks (`Mn`, `Mc`, `Me`,
    /// variation selectors) next to letters, digits, spaces, newlines, punctuation, apostrophes
    /// and emoji: where Qwen3.5's pattern differs from Qwen3's.
    #[test]
    fn scanners_equal_the_regex_engine_on_marks() {
        const PIECES: &[&str] = &[
            "\u{301}",
            "\u{300}",
            "\u{93e}",
            "\u{94d}",
            "\u{20dd}",
            "\u{20e3}",
            "\u{fe0f}",
            "\u{fe0e}",
            "\u{e0100}",
            "\u{200d}",
            "\u{200c}",
            "\u{1f3fd}",
            "a",
            "e",
            "S",
            "L",
            "ſ",
            "\u{915}",
            "\u{e17}",
            "\u{645}",
            "中",
            "1",
            "\u{663}",
            " ",
            "  ",
            "\t",
            "\n",
            "\r",
            "\u{a0}",
            "'",
            "'s",
            "'ll",
            "!",
            ".",
            "#",
            "\u{2764}",
            "\u{1f468}",
            "_",
        ];
        let mut next = crate::testing::xorshift(0x4D41_524B);
        let texts: Vec<String> = (0..20_000)
            .map(|_| {
                let len = (next() % 12) as usize;
                (0..len)
                    .map(|_| PIECES[(next() / 3) as usize % PIECES.len()])
                    .collect()
            })
            .collect();
        let classes = Arc::new(CharClasses::new());
        for (pattern, scanner) in SCANNERS {
            let both = Both::new(pattern, *scanner, &classes);
            for t in &texts {
                let (a, b) = both.split(t);
                assert_eq!(a, b, "{scanner:?} on {t:?}");
            }
        }
    }

    /// The stage lists that have a `bitcannon` grammar ([`Grammar::of`]).
    const GRAMMAR_STAGES: [&[Scanner]; 5] = [
        &[Scanner::Gpt2],
        &[Scanner::Llama3 {
            max_digits: 1,
            marks_join_letters: false,
        }],
        &[Scanner::Llama3 {
            max_digits: 3,
            marks_join_letters: false,
        }],
        &[Scanner::O200k],
        &[
            Scanner::Digits3,
            Scanner::DeepSeekCjk,
            Scanner::DeepSeekText,
        ],
    ];

    /// The `bitcannon` route splits exactly as the scanners (which the test above holds to the
    /// regex engine) on: the branch-hitting random texts, random code points from all of Unicode
    /// (a character-class table of another Unicode version would show here), and long corpus
    /// texts that are cut into chunks.
    #[test]
    fn grammars_split_as_the_scanners() {
        let mut texts = super::super::tests::random_texts(0xB17C_A220, 20_000, &[]);
        let mut next = crate::testing::xorshift(0x0C0D_E901);
        for _ in 0..5000 {
            let len = (next() % 40) as usize;
            let s: String = (0..len)
                .map(|_| {
                    let r = next();
                    let c = match r % 4 {
                        0 => (r >> 8) as u32 % 0x80,
                        1 => (r >> 8) as u32 % 0x3000,
                        _ => (r >> 8) as u32 % 0x11_0000,
                    };
                    char::from_u32(c).unwrap_or(' ')
                })
                .collect();
            texts.push(s);
        }
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut long = String::new();
        for corpus in ["english", "multilingual", "code"] {
            let raw =
                crate::testing::read_zst(&manifest.join(format!("benches/data/{corpus}.txt.zst")));
            let text = String::from_utf8(raw).expect("UTF-8");
            let mut end = (150 << 10).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            long.push_str(&text[..end]);
        }
        assert!(long.len() > 3 * CHUNK, "long enough to be cut");
        // Cut every few hundred bytes too (below): each cut rule meets thousands of contexts.
        texts.push(long.clone());
        // A long text with no safe cut (no newline before a letter): the scanners take over.
        texts.push("word, ".repeat(CHUNK / 3));
        for scanners in GRAMMAR_STAGES {
            let stages = scanners.iter().map(|s| Stage::Scan(*s)).collect();
            let fast = Splitter::new(stages, Arc::new(CharClasses::new()));
            if !fast.has_grammar() {
                assert!(!bitcannon::fast_builder(), "{scanners:?} has no grammar");
                eprintln!("SKIPPED: this CPU lacks bitcannon's SIMD; the scanners split alone");
                return;
            }
            let slow = fast.scanners_only();
            for (t, chunk_len) in texts
                .iter()
                .map(|t| (t, CHUNK))
                .chain([(&long, 300), (&long, 4096)])
            {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                fast.split_guarded(t, &mut |p| a.push(p), true, chunk_len)
                    .unwrap();
                slow.split(t, &mut |p| b.push(p)).unwrap();
                if a != b {
                    let i = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(0);
                    panic!(
                        "{scanners:?}: piece {i}: {:?} vs {:?} (text of {} bytes)",
                        a.get(i..i + 3),
                        b.get(i..i + 3),
                        t.len()
                    );
                }
            }
        }
    }

    /// Every code point, alone and among others: the pair filter never hides a listed one nor
    /// reports another.
    #[test]
    fn has_unicode_17_is_exactly_a_listed_code_point() {
        let listed = |c: char| {
            let c = c as u32;
            c == LONG_S || UNICODE_17.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
        };
        let mut text = String::new();
        for c in (0x80..=0x10FFFF).filter_map(char::from_u32) {
            text.clear();
            text.push_str("ab");
            text.push(c);
            assert_eq!(has_unicode_17(&text), listed(c), "U+{:04X}", c as u32);
        }
        let mixed: String = (0x80..0x3000)
            .filter_map(char::from_u32)
            .filter(|&c| !listed(c))
            .collect();
        assert!(!has_unicode_17(&mixed));
    }

    #[test]
    fn suspect_pairs_cover_every_listed_code_point() {
        let mut buf = [0u8; 4];
        let listed = UNICODE_17
            .iter()
            .flat_map(|&(lo, hi)| lo..=hi)
            .chain([LONG_S])
            .filter_map(char::from_u32);
        for c in listed {
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            let k = usize::from(bytes[0] - 0xC0) << 6 | usize::from(bytes[1] & 0x3F);
            assert_eq!(lead_pair(c as u32), k, "U+{:04X}", c as u32);
            assert!(
                SUSPECT_PAIRS[k / 64] >> (k % 64) & 1 != 0,
                "U+{:04X}",
                c as u32
            );
            // At every offset in the 8-byte words, and in the tail.
            for pad in 0..9 {
                let text = format!("{}{c}cd", "a".repeat(pad));
                assert!(has_unicode_17(&text), "U+{:04X} at {pad}", c as u32);
                assert!(has_unicode_17(&format!("{text}{}", "é".repeat(9))));
            }
        }
        assert!(!has_unicode_17("plain “quoted” text é ж 中"));
    }

    #[test]
    fn safe_cuts_are_before_a_letter_after_a_newline_or_space() {
        for lone in [true, false] {
            assert_eq!(safe_cut(b"ab\ncd", 0, lone), Some(3));
            assert_eq!(
                safe_cut(b"\ncd", 0, lone),
                if lone { None } else { Some(1) }
            );
            assert_eq!(safe_cut(b"ab\n cd\n1\nx", 0, lone), Some(9));
            assert_eq!(safe_cut(b"ab\ncd\nef", 4, lone), Some(6));
            assert_eq!(safe_cut(b"ab\n", 0, lone), None);
            assert_eq!(safe_cut("ab\n\u{e9}".as_bytes(), 0, lone), None);
        }
        // GPT-2: not after a run of whitespace, nor at the start.
        assert_eq!(safe_cut(b"ab\n\ncd", 0, true), None);
        assert_eq!(safe_cut(b"ab \ncd.\nx", 0, true), Some(8));
        assert_eq!(safe_cut("\u{e9}\nb".as_bytes(), 0, true), None);
        // The others: after any newline (paragraphs of prose, `\r\n`).
        assert_eq!(safe_cut(b"ab.\n\ncd", 0, false), Some(5));
        assert_eq!(safe_cut(b"ab \ncd", 0, false), Some(4));
        assert_eq!(safe_cut(b"ab\r\ncd", 0, false), Some(4));
        assert_eq!(safe_cut("\u{e9}\nb".as_bytes(), 0, false), Some(3));
        // All: before a space between a visible ASCII char and a letter.
        for lone in [true, false] {
            assert_eq!(safe_cut(b"ab cd", 0, lone), Some(2));
            assert_eq!(safe_cut(b"a, b", 0, lone), Some(2));
            assert_eq!(safe_cut(b"ab  cd", 0, lone), None);
            assert_eq!(safe_cut(b"ab  cd 1 x", 0, lone), Some(8));
            assert_eq!(safe_cut(b" cd", 0, lone), None);
            assert_eq!(safe_cut("\u{e9} b".as_bytes(), 0, lone), None);
            assert_eq!(safe_cut(b"ab cd ef", 3, lone), Some(5));
        }
        // Prose gets cut by either rule set.
        let prose = b"One paragraph.\n\nAnother one.";
        assert_eq!(safe_cut(prose, 5, true), Some(23));
        assert_eq!(safe_cut(prose, 5, false), Some(16));
    }

    /// Every code point, in contexts that tell letters, marks, digits, spaces, punctuation and
    /// symbols apart, through each grammar and its scanners: they differ on [`UNICODE_17`] and
    /// nowhere else (checked without the guard that sends those to the scanners).
    #[test]
    fn grammar_and_scanners_differ_only_on_these_code_points() {
        let probe = |c: char| format!("a{c}b {c}1 {c}{c} x{c}\n!{c}.{c}A{c}' {c}\n\n");
        let mut bad = std::collections::BTreeSet::new();
        for scanners in GRAMMAR_STAGES {
            let stages = scanners.iter().map(|s| Stage::Scan(*s)).collect();
            let fast = Splitter::new(stages, Arc::new(CharClasses::new()));
            let slow = fast.scanners_only();
            let cps: Vec<char> = (0..0x11_0000u32).filter_map(char::from_u32).collect();
            for batch in cps.chunks(512) {
                let t: String = batch.iter().map(|&c| probe(c)).collect();
                let (mut a, mut b) = (Vec::new(), Vec::new());
                fast.split_guarded(&t, &mut |p| a.push(p), false, CHUNK)
                    .unwrap();
                slow.split(&t, &mut |p| b.push(p)).unwrap();
                if a != b {
                    for &c in batch {
                        let t = probe(c);
                        let (mut a, mut b) = (Vec::new(), Vec::new());
                        fast.split_guarded(&t, &mut |p| a.push(p), false, CHUNK)
                            .unwrap();
                        slow.split(&t, &mut |p| b.push(p)).unwrap();
                        if a != b {
                            bad.insert(c as u32);
                        }
                    }
                }
            }
        }
        let mut ranges: Vec<(u32, u32)> = Vec::new();
        for c in bad {
            match ranges.last_mut() {
                Some(r) if r.1 + 1 == c => r.1 = c,
                _ => ranges.push((c, c)),
            }
        }
        assert_eq!(ranges, UNICODE_17);
        assert!(UNICODE_17.iter().all(|&(lo, _)| lo >= 0x295));
    }
}
