//! Pre-tokenization: the `Split` stages of a `tokenizer.json` (behaviour `Isolated`, not
//! inverted: every match is a piece, and so is every gap between matches), or the GPT-2 pattern
//! of a `ByteLevel` pre-tokenizer with `use_regex`.
//!
//! The lineup's patterns are run by hand-written scanners ([`Scanner`], chosen by exact pattern
//! text from [`SCANNERS`]); any other pattern by `fancy-regex`, the engine Hugging Face's Rust
//! `tokenizers` uses for them. Each scanner is checked against `fancy-regex` on the same pattern
//! (tests below: corpora and random strings).

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
/// `gpt2` fixture); Qwen2/Qwen3 (`qwen3` fixture's `Split`, one digit per piece); Llama-3
/// (`llama3_1` fixture's `Split`, up to three digits); o200k (`gpt_oss` fixture's `Split`).
pub(crate) const SCANNERS: &[(&str, Scanner)] = &[
    (GPT2_PATTERN, Scanner::Gpt2),
    (
        r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
        Scanner::Llama3 { max_digits: 1 },
    ),
    (
        r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
        Scanner::Llama3 { max_digits: 3 },
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
    /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+` with `K = max_digits`.
    Llama3 { max_digits: u8 },
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

/// DeepSeek's CJK class: U+4E00–U+9FA5, U+3040–U+309F, U+30A0–U+30FF.
fn deepseek_cjk(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fa5}' | '\u{3040}'..='\u{309f}' | '\u{30a0}'..='\u{30ff}')
}

/// One split stage.
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
        while let Some(&x) = b.get(i) {
            if x < 0x80 {
                if (self.classes.ascii(x) & mask != 0) != want {
                    break;
                }
                i += 1;
            } else {
                let Some((c, l)) = char_at(self.s, i) else {
                    break;
                };
                if (self.classes.of(c) & mask != 0) != want {
                    break;
                }
                i += l;
            }
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
    /// `trailing` bytes: its end, if it matches.
    fn other_run(&self, i: usize, c: char, class: u8, trailing: &[u8]) -> Option<usize> {
        let other = |class: u8| class & (WS | L | N) == 0;
        let start = if c == ' ' {
            self.at(i + 1).filter(|x| other(x.2)).map(|_| i + 1)
        } else {
            other(class).then_some(i)
        }?;
        let mut e = self.run(start, WS | L | N, false);
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
            Scanner::Llama3 { max_digits } => {
                if c == '\'' {
                    if let Some(e) = self.contraction(i, true) {
                        return Some(e);
                    }
                }
                // [^\r\n\p{L}\p{N}]?\p{L}+
                if class & L != 0 {
                    return Some(self.run(i + l, L, true));
                }
                if class & (L | N) == 0 && c != '\r' && c != '\n' {
                    if let Some((_, l2, c2)) = self.at(i + l) {
                        if c2 & L != 0 {
                            return Some(self.run(i + l + l2, L, true));
                        }
                    }
                }
                // \p{N}{1,K}
                if class & N != 0 {
                    return Some(self.digits(i + l, max_digits));
                }
                // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
                if let Some(e) = self.other_run(i, c, class, b"\r\n") {
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
                if let Some(e) = self.other_run(i, c, class, b"\r\n/") {
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
        Splitter { stages, classes }
    }

    /// Calls `f` with every piece of `text`, in order. Fails only if a regex engine gives up
    /// (its backtracking limit), as Hugging Face's does.
    pub(crate) fn split<'t>(
        &self,
        text: &'t str,
        f: &mut impl FnMut(&'t str),
    ) -> Result<(), fancy_regex::Error> {
        self.split_from(0, text, f)
    }

    fn split_from<'t>(
        &self,
        stage: usize,
        text: &'t str,
        f: &mut impl FnMut(&'t str),
    ) -> Result<(), fancy_regex::Error> {
        let Some(st) = self.stages.get(stage) else {
            if !text.is_empty() {
                f(text);
            }
            return Ok(());
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
                                    self.split_from(stage + 1, piece, f)?;
                                }
                            }
                            if let Some(piece) = text.get(i..e) {
                                self.split_from(stage + 1, piece, f)?;
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
                    self.split_from(stage + 1, piece, f)?;
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
                        self.split_from(stage + 1, gap, f)?;
                    }
                    self.split_from(stage + 1, m.as_str(), f)?;
                    done = m.end();
                }
                if let Some(rest) = text.get(done..) {
                    self.split_from(stage + 1, rest, f)?;
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
            let scan = Splitter::new(vec![Stage::Scan(*scanner)], Arc::new(CharClasses::new()));
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
}
