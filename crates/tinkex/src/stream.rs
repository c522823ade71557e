//! Streaming decode: text as sampled tokens arrive, equal to the one-shot decode.
//!
//! ```
//! # let _ = tinkex::cache::TokenizerCache::set_global(tinkex::Config::default().with_offline(true));
//! let tok = tinkex::tokenizer::get_or_load_tokenizer("Qwen/Qwen3-8B")?;
//! let ids = tok.encode("Grüße 👋🏽 世界", false)?;
//! let mut stream = tok.decode_stream(false);
//! let mut text = String::new();
//! for &id in &ids {
//!     if let Some(piece) = stream.step(id)? {
//!         assert!(!piece.contains('\u{FFFD}')); // never half a character
//!         text.push_str(&piece);
//!     }
//! }
//! text.push_str(&stream.flush()?);
//! assert_eq!(text, tok.decode(&ids, false)?);
//! # Ok::<(), tinkex::Error>(())
//! ```
//!
//! How: byte-level tokenizers (every tokenizer.json in the lineup, and Kimi's tiktoken format)
//! decode to the concatenation of their tokens' bytes read as UTF-8 with replacement, so the
//! stream appends each token's bytes and emits the longest prefix that is already decided:
//! complete characters, and U+FFFD only for bytes that can never become valid. The work per
//! token is that token's bytes plus at most three held-back bytes. Other tokenizers use a
//! window of ids re-decoded until its text grows by complete characters (the scheme of HF's
//! `DecodeStream`), bounded by the ids since the last emitted piece.
//!
//! transformers' `clean_up_tokenization_spaces` (Llama-3) rewrites `" ."`, `" n't"`, … in the
//! whole text. The stream holds back the end of the text until no such pattern can reach across
//! it — text is released up to a character that cannot belong to any pattern (not a space nor one
//! of `.?!,'ntmsver`), or that has no space among the four characters before it — so the pieces
//! still join to exactly the one-shot decode.

use crate::error::{Error, Result};
use crate::load::tiktoken::TiktokenEngine;
use crate::tokenizer::{clean_up_tokenization, TokenBytes, Tokenizer};

enum Mode<'a> {
    /// Byte-level tokenizer.json: the token byte table.
    HfBytes(&'a TokenBytes),
    /// Kimi: bytes per id from the engine.
    Tiktoken(&'a TiktokenEngine),
    /// Anything else: re-decode a window of ids.
    Window {
        ids: Vec<u32>,
        prefix: String,
        prefix_index: usize,
    },
}

/// An incremental decoder over one [`Tokenizer`]; see the module docs. Create one per sequence
/// with [`Tokenizer::decode_stream`].
pub struct DecodeStream<'a> {
    tok: &'a Tokenizer,
    skip_special_tokens: bool,
    mode: Mode<'a>,
    /// Bytes that do not yet form complete UTF-8 (byte modes).
    pending: Vec<u8>,
    /// Decoded text held back from clean-up (clean-up tokenizers only).
    held: String,
    /// `held[..held_unsafe]` has no safe cut (see [`safe_split`]).
    held_unsafe: usize,
    clean_up: bool,
}

/// Characters that can occur in transformers' clean-up patterns after their leading space.
const PATTERN_CHARS: &[char] = &['.', '?', '!', ',', '\'', 'n', 't', 'm', 's', 'v', 'e', 'r'];

/// The longest prefix of `held` that the clean-up can be applied to on its own (see the module
/// docs for why this is exact), or 0 for none. Whether a cut at `p` is safe depends on
/// `held[..p]` alone, so positions up to `known_unsafe` (all found unsafe by an earlier call on a
/// shorter `held`) are not looked at again: a stream that can release nothing for a long time
/// ("s s s s …") costs linear time, not quadratic.
fn safe_split(held: &str, known_unsafe: usize) -> usize {
    let mut p = held.len();
    loop {
        if p <= known_unsafe {
            return 0;
        }
        let before = &held[..p];
        let last = before.chars().next_back().unwrap_or(' ');
        if last != ' ' && !PATTERN_CHARS.contains(&last) {
            return p;
        }
        if !before.chars().rev().take(4).any(|c| c == ' ') {
            return p;
        }
        p -= last.len_utf8();
    }
}

/// Moves the decided part of `pending` out as text: complete characters, and U+FFFD for each
/// maximal invalid sequence (as `String::from_utf8_lossy` does); an incomplete tail stays.
fn drain_utf8(pending: &mut Vec<u8>) -> String {
    let mut out = String::new();
    let mut start = 0;
    loop {
        match std::str::from_utf8(&pending[start..]) {
            Ok(s) => {
                out.push_str(s);
                start = pending.len();
                break;
            }
            Err(e) => {
                let valid = e.valid_up_to();
                // SAFETY-free: from_utf8 just said this much is valid.
                out.push_str(std::str::from_utf8(&pending[start..start + valid]).unwrap_or(""));
                match e.error_len() {
                    Some(n) => {
                        out.push('\u{FFFD}');
                        start += valid + n;
                    }
                    None => {
                        start += valid;
                        break;
                    }
                }
            }
        }
    }
    pending.drain(..start);
    out
}

impl<'a> DecodeStream<'a> {
    pub(crate) fn new(
        tok: &'a Tokenizer,
        skip_special_tokens: bool,
        bytes: Option<&'a TokenBytes>,
        tiktoken: Option<&'a TiktokenEngine>,
        clean_up: bool,
    ) -> Self {
        let mode = match (bytes, tiktoken) {
            (Some(b), _) => Mode::HfBytes(b),
            (None, Some(t)) if !(skip_special_tokens && t.has_legacy_added_tokens()) => {
                Mode::Tiktoken(t)
            }
            _ => Mode::Window {
                ids: Vec::new(),
                prefix: String::new(),
                prefix_index: 0,
            },
        };
        DecodeStream {
            tok,
            skip_special_tokens,
            mode,
            pending: Vec::new(),
            held: String::new(),
            held_unsafe: 0,
            clean_up,
        }
    }

    /// Feeds one id; returns the text it completes, if any. An id outside the vocabulary is
    /// [`Error::InvalidTokenId`] and leaves the stream as it was.
    pub fn step(&mut self, id: u32) -> Result<Option<String>> {
        self.tok.check_ids(&[id])?;
        let text = match &mut self.mode {
            Mode::HfBytes(table) => {
                if !(self.skip_special_tokens && table.is_special(id)) {
                    self.pending.extend_from_slice(table.get(id));
                }
                drain_utf8(&mut self.pending)
            }
            Mode::Tiktoken(engine) => {
                let bytes = engine.decode_bytes(&[id], self.skip_special_tokens)?;
                self.pending.extend_from_slice(&bytes);
                drain_utf8(&mut self.pending)
            }
            Mode::Window {
                ids,
                prefix,
                prefix_index,
            } => {
                ids.push(id);
                let text = self.tok.decode_raw(ids, self.skip_special_tokens)?;
                if text.len() > prefix.len() && !text.ends_with('\u{FFFD}') {
                    let new = text
                        .strip_prefix(prefix.as_str())
                        .ok_or_else(|| {
                            Error::engine(format!(
                                "decode stream: {text:?} does not extend {prefix:?}"
                            ))
                        })?
                        .to_owned();
                    let keep = ids.split_off(*prefix_index);
                    *ids = keep;
                    *prefix = self.tok.decode_raw(ids, self.skip_special_tokens)?;
                    *prefix_index = ids.len();
                    new
                } else {
                    String::new()
                }
            }
        };
        Ok(self.release(text, false))
    }

    /// Ends the stream: returns whatever was held back (incomplete characters become U+FFFD, as
    /// in the one-shot decode). The stream can then be reused for a new sequence.
    pub fn flush(&mut self) -> Result<String> {
        let text = match &mut self.mode {
            Mode::HfBytes(_) | Mode::Tiktoken(_) => {
                let t = String::from_utf8_lossy(&self.pending).into_owned();
                self.pending.clear();
                t
            }
            Mode::Window {
                ids,
                prefix,
                prefix_index,
            } => {
                let text = self.tok.decode_raw(ids, self.skip_special_tokens)?;
                let rest = text
                    .strip_prefix(prefix.as_str())
                    .unwrap_or(&text)
                    .to_owned();
                ids.clear();
                prefix.clear();
                *prefix_index = 0;
                rest
            }
        };
        Ok(self.release(text, true).unwrap_or_default())
    }

    fn release(&mut self, text: String, end: bool) -> Option<String> {
        let out = if self.clean_up {
            self.held.push_str(&text);
            let p = if end {
                self.held.len()
            } else {
                safe_split(&self.held, self.held_unsafe)
            };
            if p == 0 {
                self.held_unsafe = self.held.len();
                return None;
            }
            // What stays is judged afresh next time: it starts a new held text.
            self.held_unsafe = 0;
            let rest = self.held.split_off(p);
            let done = std::mem::replace(&mut self.held, rest);
            clean_up_tokenization(done)
        } else {
            text
        };
        (!out.is_empty()).then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drain_keeps_incomplete_tails_only() {
        let mut p = "a€".as_bytes()[..3].to_vec(); // 'a' + 2 of the 3 bytes of '€'
        assert_eq!(drain_utf8(&mut p), "a");
        assert_eq!(p.len(), 2);
        p.push(0xAC);
        assert_eq!(drain_utf8(&mut p), "€");
        let mut bad = vec![b'x', 0xFF, b'y', 0xE2, 0x82];
        assert_eq!(drain_utf8(&mut bad), "x\u{FFFD}y");
        assert_eq!(bad, vec![0xE2, 0x82]);
    }

    #[test]
    fn clean_up_split_is_exact() {
        // Every split of these strings into two clean-up calls at the safe point equals one call.
        for s in [
            "Hello , world . It 's",
            "a  ' s x",
            "do n't  ' 're  .",
            "  ' ' .",
            "x ' 're",
            "abc def ghi ?",
        ] {
            for cut in (0..=s.len()).filter(|c| s.is_char_boundary(*c)) {
                let p = safe_split(&s[..cut], 0);
                let joined = clean_up_tokenization(s[..p].to_owned())
                    + &clean_up_tokenization(s[p..].to_owned());
                assert_eq!(
                    joined,
                    clean_up_tokenization(s.to_owned()),
                    "{s:?} cut {cut} p {p}"
                );
            }
        }
    }

    #[test]
    fn skipping_known_unsafe_positions_changes_nothing() {
        for s in [
            "Hello , world . It 's",
            "s s s s s s s s s s x",
            "do n't  ' 're  .",
            " . . . . ' 's ,",
        ] {
            let cuts: Vec<usize> = (0..=s.len()).filter(|c| s.is_char_boundary(*c)).collect();
            for &cut in &cuts {
                for &k in cuts.iter().filter(|&&k| k <= cut) {
                    if safe_split(&s[..k], 0) == 0 {
                        assert_eq!(
                            safe_split(&s[..cut], k),
                            safe_split(&s[..cut], 0),
                            "{s:?} cut {cut} known {k}"
                        );
                    }
                }
            }
        }
    }
}
