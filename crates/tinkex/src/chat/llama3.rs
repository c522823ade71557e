//! `llama3`: Llama 3 Instruct's `<|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|>`
//! (tinker-cookbook 0.6.1 `renderers/llama3.py`; like the cookbook, without HF's "Cutting
//! Knowledge Date" system preamble, and without tool calling).

use std::sync::Arc;

use crate::error::Result;
use crate::tokenizer::Tokenizer;

use super::base::{
    ensure_text, parse_response_for_stop_token, refuse_images, single_token, RenderContext,
    RenderedMessage, Template,
};
use super::message::{Message, ParseTermination, Role, StopSequences};
use super::{template_renderer, Renderer, RendererOptions};

pub(crate) struct Llama3 {
    name: &'static str,
    tok: Arc<Tokenizer>,
    eot: u32,
}

pub(crate) fn build(
    name: &'static str,
    tok: Arc<Tokenizer>,
    _: &RendererOptions,
) -> Result<Arc<dyn Renderer>> {
    let eot = single_token(name, &tok, "<|eot_id|>")?;
    Ok(Arc::new(Llama3 { name, tok, eot }))
}

impl Template for Llama3 {
    fn tok(&self) -> &Tokenizer {
        &self.tok
    }
    fn renderer_name(&self) -> &str {
        self.name
    }
    fn class_name(&self) -> &'static str {
        "Llama3Renderer"
    }
    fn has_extension_property(&self) -> bool {
        true
    }

    fn bos_tokens(&self) -> Result<Vec<u32>> {
        self.tok.encode("<|begin_of_text|>", false)
    }

    fn render_message(&self, m: &Message, _: &RenderContext) -> Result<RenderedMessage> {
        refuse_images(self.name, m)?;
        let header = format!("<|start_header_id|>{}<|end_header_id|>\n\n", m.role);
        let output = [ensure_text(self.name, &m.content)?, "<|eot_id|>"].concat();
        Ok(RenderedMessage::new(
            self.tok.encode(&header, false)?,
            self.tok.encode(&output, false)?,
        ))
    }

    fn stop_sequences(&self) -> Result<StopSequences> {
        Ok(StopSequences::Tokens(vec![self.eot]))
    }

    fn parse_response(&self, response: &[u32]) -> Result<(Message, ParseTermination)> {
        let (text, termination) =
            parse_response_for_stop_token(self.name, &self.tok, response, self.eot)?;
        Ok((Message::new(Role::Assistant, text), termination))
    }
}

template_renderer!(Llama3);
