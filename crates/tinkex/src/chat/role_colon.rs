//! `role_colon`: `User: …\n\nAssistant: …\n\n` for base models (tinker-cookbook 0.6.1
//! `renderers/role_colon.py`).

use std::sync::Arc;

use crate::error::Result;
use crate::tokenizer::Tokenizer;

use super::base::{ensure_text, refuse_images, RenderContext, RenderedMessage, Template};
use super::message::{Message, ParseTermination, Role, StopSequences};
use super::text::capitalize;
use super::{template_renderer, Renderer, RendererOptions};

const STOP: &str = "\n\nUser:";
// Named once so rendering and parsing stay inverses.
const CONTENT_PREFIX: &str = " ";
const CONTENT_SUFFIX: &str = "\n\n";

pub(crate) struct RoleColon {
    name: &'static str,
    tok: Arc<Tokenizer>,
}

pub(crate) fn build(
    name: &'static str,
    tok: Arc<Tokenizer>,
    _: &RendererOptions,
) -> Result<Arc<dyn Renderer>> {
    Ok(Arc::new(RoleColon { name, tok }))
}

impl Template for RoleColon {
    fn tok(&self) -> &Tokenizer {
        &self.tok
    }
    fn renderer_name(&self) -> &str {
        self.name
    }
    fn class_name(&self) -> &'static str {
        "RoleColonRenderer"
    }
    fn has_extension_property(&self) -> bool {
        true
    }

    /// The tokenizer's own BOS, if it has one (Qwen3's has none).
    fn bos_tokens(&self) -> Result<Vec<u32>> {
        match self.tok.bos_token() {
            Some(bos) => self.tok.encode(&bos.content, false),
            None => Ok(Vec::new()),
        }
    }

    fn render_message(&self, m: &Message, ctx: &RenderContext) -> Result<RenderedMessage> {
        refuse_images(self.name, m)?;
        let header = self
            .tok
            .encode(&format!("{}:", capitalize(m.role.as_str())), false)?;
        let content = ensure_text(self.name, &m.content)?;
        let output = self
            .tok
            .encode(&[CONTENT_PREFIX, content, CONTENT_SUFFIX].concat(), false)?;
        // "User:" completes the stop sequence after the last (assistant) message; only the
        // last message's overlap is ever used.
        let stop_overlap = if ctx.is_last {
            let s = if m.role == Role::Assistant {
                "User:"
            } else {
                "<UNUSED>"
            };
            Some(self.tok.encode(s, false)?)
        } else {
            None
        };
        Ok(RenderedMessage {
            header: Some(header),
            output: vec![output],
            stop_overlap,
        })
    }

    fn stop_sequences(&self) -> Result<StopSequences> {
        Ok(StopSequences::Strings(vec![STOP.to_owned()]))
    }

    /// The text before `\n\nUser:`; a trailing EOS without the delimiter is a clean end too.
    fn parse_response(&self, response: &[u32]) -> Result<(Message, ParseTermination)> {
        let eos = self.tok.eos_token().map(|t| t.id);
        let (response, with_eos) = match response.split_last() {
            Some((last, rest)) if Some(*last) == eos => (rest, true),
            _ => (response, false),
        };
        let text = self.tok.decode(response, false)?;
        let mut pieces = text.split(STOP);
        let first = pieces.next().unwrap_or("");
        let more = pieces.count();
        let content = first.strip_prefix(CONTENT_PREFIX).unwrap_or(first);
        let content = content.strip_suffix(CONTENT_SUFFIX).unwrap_or(content);
        let termination = match (more, with_eos) {
            (0, true) => ParseTermination::Eos,
            (1, false) => ParseTermination::StopSequence,
            _ => ParseTermination::Malformed,
        };
        Ok((Message::new(Role::Assistant, content), termination))
    }
}

template_renderer!(RoleColon);
