//! GPT-2's byte-level alphabet (transformers' `bytes_to_unicode`): how a base token's bytes are
//! written as a token string ([`TiktokenEngine::id_to_token`] / [`TiktokenEngine::token_to_id`]).

use super::TiktokenEngine;

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

pub(crate) fn byte_to_char(b: u8) -> char {
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

impl TiktokenEngine {
    pub(super) fn base_id_of_byte_level(&self, token: &str) -> Option<u32> {
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
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

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
}
