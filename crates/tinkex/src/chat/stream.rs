//! Parsing a reply while it is sampled (the cookbook's `StreamingParser` /
//! `ReasoningStreamingParser`), on top of [`crate::stream::DecodeStream`].
//!
//! Feed each sampled id to [`StreamingParser::feed`]; it returns what became certain: a
//! [`StreamDelta::Header`] once, then text and thinking deltas (for formats that write reasoning
//! as `<think>…</think>`, text that might be the start of a tag is held back until it is not;
//! where the generation prompt leaves a think block open — Qwen3.5/3.8, DeepSeek thinking modes
//! — the reply is reasoning until `</think>`).
//! [`StreamingParser::finish`] returns the rest and, last, [`StreamDelta::Message`]: exactly what
//! [`super::Renderer::parse_response`] gives for all the ids fed. Ids after the format's stop
//! token are kept for that final parse but produce no deltas.
//!
//! ```
//! # let _ = tinkex::cache::TokenizerCache::set_global(tinkex::Config::default().with_offline(true));
//! use tinkex::chat::{self, StreamDelta};
//!
//! let tok = tinkex::tokenizer::get_or_load_tokenizer("Qwen/Qwen3-8B")?;
//! let r = chat::renderer("qwen3", tok.clone())?;
//! let mut ids = tok.encode("<think>\nhmm\n</think>\n\nHi!", false)?;
//! ids.push(tok.token_to_id("<|im_end|>").unwrap());
//! let mut parser = r.streaming_parser()?;
//! let mut deltas = Vec::new();
//! for id in ids {
//!     deltas.extend(parser.feed(id)?);
//! }
//! deltas.extend(parser.finish()?);
//! let thinking: String = deltas.iter().filter_map(|d| match d {
//!     StreamDelta::Thinking { thinking, .. } => Some(thinking.as_str()),
//!     _ => None,
//! }).collect();
//! assert_eq!(thinking, "\nhmm\n");
//! assert!(matches!(deltas.last(), Some(StreamDelta::Message { .. })));
//! # Ok::<(), tinkex::Error>(())
//! ```

use serde::Serialize;

use crate::error::Result;
use crate::stream::DecodeStream;

use super::message::{Message, ParseTermination, Role};
use super::Renderer;

/// How a format streams (see [`super::Renderer::stream_format`]).
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct StreamFormat {
    pub(crate) end_tokens: Vec<u32>,
    pub(crate) think_tags: bool,
    /// The generation prompt ends inside an open think block (Qwen3.5's `<think>\n`, DeepSeek's
    /// prefilled `<think>`): a reply starts with reasoning unless it opens a block itself.
    pub(crate) opens_thinking: bool,
}

/// One thing the streaming parser learned. As JSON (what `tinkex chat parse --stream` prints,
/// one object a line): `{"type": "header", "role": "assistant"}`, `{"type": "text", "text":
/// "…", "content_index": 0}`, `{"type": "thinking", "thinking": "…", "content_index": 1}`,
/// `{"type": "message", "message": {…}, "termination": "stop_sequence"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StreamDelta {
    /// A message begins.
    Header {
        /// Its author.
        role: Role,
    },
    /// More visible text.
    Text {
        /// The new text (not the accumulated text).
        text: String,
        /// Which content block it belongs to; increases when the kind of content changes.
        content_index: usize,
    },
    /// More reasoning.
    Thinking {
        /// The new reasoning text.
        thinking: String,
        /// Which content block it belongs to.
        content_index: usize,
    },
    /// The end: the parsed message, as [`super::Renderer::parse_response`] gives it.
    Message {
        /// The message.
        message: Message,
        /// How the reply ended.
        termination: ParseTermination,
    },
}

const THINK_OPEN: &str = "<think>";
const THINK_CLOSE: &str = "</think>";

/// The length of the longest suffix of `text` that is a proper prefix of `tag` (text that might
/// still become the tag).
fn partial_tag_suffix(text: &str, tag: &str) -> usize {
    let max = text.len().min(tag.len() - 1);
    (1..=max)
        .rev()
        .find(|&n| text.as_bytes().ends_with(&tag.as_bytes()[..n]))
        .unwrap_or(0)
}

/// An incremental parser of one sampled reply; see the module docs. Made by
/// `<dyn Renderer>::streaming_parser`.
pub struct StreamingParser<'r> {
    renderer: &'r dyn Renderer,
    format: StreamFormat,
    decoder: DecodeStream<'r>,
    ids: Vec<u32>,
    text: String,
    emitted: usize,
    header_emitted: bool,
    in_thinking: bool,
    /// Whether the start of the reply is still to be read for the prompt's open think block.
    at_start: bool,
    content_index: usize,
    finished: bool,
}

impl<'r> StreamingParser<'r> {
    pub(crate) fn new(renderer: &'r dyn Renderer) -> Result<Self> {
        Ok(StreamingParser {
            format: renderer.stream_format()?,
            decoder: renderer.tokenizer().decode_stream(false),
            renderer,
            ids: Vec::new(),
            text: String::new(),
            emitted: 0,
            header_emitted: false,
            in_thinking: false,
            at_start: true,
            content_index: 0,
            finished: false,
        })
    }

    /// Feeds one sampled id; returns the deltas it completes. An id outside the vocabulary is
    /// an error and is not kept.
    pub fn feed(&mut self, id: u32) -> Result<Vec<StreamDelta>> {
        if self.finished {
            self.renderer.tokenizer().check_ids(&[id])?;
            self.ids.push(id);
            return Ok(Vec::new());
        }
        if self.format.end_tokens.contains(&id) {
            self.renderer.tokenizer().check_ids(&[id])?;
            self.ids.push(id);
            self.finished = true;
            return Ok(Vec::new());
        }
        let piece = self.decoder.step(id)?;
        self.ids.push(id);
        let mut out = Vec::new();
        if let Some(piece) = piece.filter(|p| !p.is_empty()) {
            self.text.push_str(&piece);
            self.header(&mut out);
            self.emit(&mut out, false);
        }
        Ok(out)
    }

    /// Ends the reply: the remaining deltas, then [`StreamDelta::Message`].
    pub fn finish(mut self) -> Result<Vec<StreamDelta>> {
        let mut out = Vec::new();
        let rest = self.decoder.flush()?;
        self.text.push_str(&rest);
        self.header(&mut out);
        self.emit(&mut out, true);
        let (message, termination) = self.renderer.parse_response(&self.ids)?;
        out.push(StreamDelta::Message {
            message,
            termination,
        });
        Ok(out)
    }

    fn header(&mut self, out: &mut Vec<StreamDelta>) {
        if !self.header_emitted {
            self.header_emitted = true;
            out.push(StreamDelta::Header {
                role: Role::Assistant,
            });
        }
    }

    fn delta(&self, s: &str, out: &mut Vec<StreamDelta>) {
        if s.is_empty() {
            return;
        }
        out.push(if self.in_thinking {
            StreamDelta::Thinking {
                thinking: s.to_owned(),
                content_index: self.content_index,
            }
        } else {
            StreamDelta::Text {
                text: s.to_owned(),
                content_index: self.content_index,
            }
        });
    }

    /// Emits what is certain; with `all`, everything left.
    fn emit(&mut self, out: &mut Vec<StreamDelta>, all: bool) {
        if !self.format.think_tags {
            let new = self.text[self.emitted..].to_owned();
            self.delta(&new, out);
            self.emitted = self.text.len();
            return;
        }
        if self.at_start && self.format.opens_thinking {
            // The reply continues the prompt's open block — unless it opens one itself, as the
            // parser's restoration of the prefill also assumes.
            let head = &self.text[self.emitted..];
            if !all && head.len() < THINK_OPEN.len() && THINK_OPEN.starts_with(head) {
                return;
            }
            self.in_thinking = !head.starts_with(THINK_OPEN);
        }
        self.at_start = false;
        loop {
            let pos = self.emitted;
            let tag = if self.in_thinking {
                THINK_CLOSE
            } else {
                THINK_OPEN
            };
            match self.text[pos..].find(tag) {
                Some(at) => {
                    let s = self.text[pos..pos + at].to_owned();
                    self.delta(&s, out);
                    self.in_thinking = !self.in_thinking;
                    self.content_index += 1;
                    self.emitted = pos + at + tag.len();
                }
                None => {
                    let keep = if all {
                        0
                    } else {
                        partial_tag_suffix(&self.text[pos..], tag)
                    };
                    let end = self.text.len() - keep;
                    let s = self.text[pos..end].to_owned();
                    self.delta(&s, out);
                    self.emitted = end;
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_tags() {
        assert_eq!(partial_tag_suffix("hello", THINK_OPEN), 0);
        assert_eq!(partial_tag_suffix("hello<", THINK_OPEN), 1);
        assert_eq!(partial_tag_suffix("hello<th", THINK_OPEN), 3);
        assert_eq!(partial_tag_suffix("hello<thx", THINK_OPEN), 0);
        assert_eq!(partial_tag_suffix("</think", THINK_CLOSE), 7);
        assert_eq!(partial_tag_suffix("é<", THINK_OPEN), 1);
    }
}
