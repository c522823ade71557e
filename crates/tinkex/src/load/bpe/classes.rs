//! The character classes the split patterns use, taken from `regex-syntax` — the Unicode tables
//! of the `regex` / `fancy-regex` engines that run these patterns elsewhere, so a class here is
//! exactly the pattern's class — in a two-level table (256-codepoint blocks, equal blocks shared;
//! ~60 distinct blocks, built in a few milliseconds).

use regex_syntax::hir::{Class, HirKind};

/// `\p{L}`.
pub(crate) const L: u8 = 1;
/// `\p{N}`.
pub(crate) const N: u8 = 2;
/// `\s` (Unicode White_Space).
pub(crate) const WS: u8 = 4;
/// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]` (o200k's "upper").
pub(crate) const UPPER: u8 = 8;
/// `[\p{Ll}\p{Lm}\p{Lo}\p{M}]` (o200k's "lower").
pub(crate) const LOWER: u8 = 16;
/// `\p{M}`.
pub(crate) const M: u8 = 32;
/// `\p{P}`.
pub(crate) const P: u8 = 64;
/// `\p{S}`.
pub(crate) const S: u8 = 128;

const CLASSES: [(&str, u8); 8] = [
    (r"\p{L}", L),
    (r"\p{N}", N),
    (r"\s", WS),
    (r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]", UPPER),
    (r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]", LOWER),
    (r"\p{M}", M),
    (r"\p{P}", P),
    (r"\p{S}", S),
];

const BLOCKS: usize = 0x11_0000 >> 8;

/// Class bits of every code point.
pub(crate) struct CharClasses {
    ascii: [u8; 128],
    index: Box<[u16]>,
    blocks: Vec<[u8; 256]>,
}

fn ranges(pattern: &str) -> Vec<(u32, u32)> {
    // The patterns are constants: a failure here is a bug, caught by every test that loads.
    match regex_syntax::parse(pattern).map(|h| h.into_kind()) {
        Ok(HirKind::Class(Class::Unicode(c))) => c
            .ranges()
            .iter()
            .map(|r| (u32::from(r.start()), u32::from(r.end())))
            .collect(),
        other => panic!("class pattern {pattern:?} parsed as {other:?}"),
    }
}

impl CharClasses {
    pub(crate) fn new() -> CharClasses {
        let mut flat = vec![0u8; 0x11_0000];
        for (pattern, bit) in CLASSES {
            for (a, b) in ranges(pattern) {
                for c in &mut flat[a as usize..=b as usize] {
                    *c |= bit;
                }
            }
        }
        let mut index = vec![0u16; BLOCKS].into_boxed_slice();
        let mut blocks: Vec<[u8; 256]> = Vec::new();
        let mut seen: rustc_hash::FxHashMap<[u8; 256], u16> = Default::default();
        for (b, chunk) in flat.chunks_exact(256).enumerate() {
            let mut block = [0u8; 256];
            block.copy_from_slice(chunk);
            let next = blocks.len() as u16;
            index[b] = *seen.entry(block).or_insert_with(|| {
                blocks.push(block);
                next
            });
        }
        let mut ascii = [0u8; 128];
        ascii.copy_from_slice(&flat[..128]);
        CharClasses {
            ascii,
            index,
            blocks,
        }
    }

    /// The class bits of ASCII byte `b` (< 128).
    #[inline]
    pub(crate) fn ascii(&self, b: u8) -> u8 {
        self.ascii[usize::from(b & 0x7f)]
    }

    /// The class bits of every ASCII byte.
    #[inline]
    pub(crate) fn ascii_table(&self) -> &[u8; 128] {
        &self.ascii
    }

    #[inline]
    pub(crate) fn of(&self, c: char) -> u8 {
        let c = c as u32;
        self.blocks[usize::from(self.index[(c >> 8) as usize])][(c & 0xff) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_agree_with_the_regex_engine_on_every_code_point() {
        let t = CharClasses::new();
        let re = |p| fancy_regex::Regex::new(p).unwrap();
        let (l, n, s) = (re(r"^\p{L}$"), re(r"^\p{N}$"), re(r"^\s$"));
        let upper = re(r"^[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]$");
        let lower = re(r"^[\p{Ll}\p{Lm}\p{Lo}\p{M}]$");
        let (m, p, sy) = (re(r"^\p{M}$"), re(r"^\p{P}$"), re(r"^\p{S}$"));
        let mut buf = [0u8; 4];
        for c in (0..0x11_0000u32).filter_map(char::from_u32) {
            let text = c.encode_utf8(&mut buf);
            let is = |r: &fancy_regex::Regex| u8::from(r.is_match(text).unwrap());
            let want = (is(&l) * L)
                | (is(&n) * N)
                | (is(&s) * WS)
                | (is(&upper) * UPPER)
                | (is(&lower) * LOWER)
                | (is(&m) * M)
                | (is(&p) * P)
                | (is(&sy) * S);
            assert_eq!(t.of(c), want, "U+{:04X}", c as u32);
        }
    }
}
