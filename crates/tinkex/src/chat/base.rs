//! What every message-by-message renderer shares: the cookbook's `Renderer` base class
//! (`tinker_cookbook/renderers/base.py`, 0.6.1) — rendering each message into a header and an
//! output, assembling the generation prompt and the supervised example from them, and the
//! parsing helpers several formats use.
//!
//! A renderer implements [`Template`] (the hooks the cookbook's subclasses override) and gets
//! the operations from its default methods, overriding the ones its cookbook class overrides.

use crate::error::{Error, Result};
use crate::tokenizer::Tokenizer;
use crate::types::{EncodedTextChunk, ModelInput, ModelInputChunk};

use super::message::{
    Content, ContentPart, Message, ParseTermination, Role, StopSequences, ToolSpec, TrainOnWhat,
    UnparsedToolCall,
};
use super::stream::StreamFormat;

/// Where a message sits in the conversation (the cookbook's `RenderContext`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RenderContext<'a> {
    /// Index of the message.
    pub idx: usize,
    /// Whether it is the last message.
    pub is_last: bool,
    /// The message before it.
    pub prev: Option<&'a Message>,
    /// The message after it.
    #[allow(dead_code)]
    // read by no format yet: the cookbook's Qwen3.5 tool-response grouping looks ahead
    pub next: Option<&'a Message>,
    /// Index of the last user message, if any.
    pub last_user_index: Option<usize>,
    /// Whether the message belongs to the turn the model is asked to produce.
    pub in_last_assistant_turn: bool,
}

/// A message rendered into its parts (the cookbook's `RenderedMessage`): the header the model
/// sees, the output it produces (one or more chunks), and — for `role_colon` only — the tokens
/// that complete the stop sequence after the last message.
#[derive(Debug, Clone, Default)]
pub(crate) struct RenderedMessage {
    pub header: Option<Vec<u32>>,
    pub output: Vec<Vec<u32>>,
    pub stop_overlap: Option<Vec<u32>>,
}

impl RenderedMessage {
    /// A header and a single output chunk.
    pub fn new(header: Vec<u32>, output: Vec<u32>) -> Self {
        RenderedMessage {
            header: Some(header),
            output: vec![output],
            stop_overlap: None,
        }
    }
}

/// `RendererError` raised by renderer `r`: a conversation its format refuses.
pub(crate) fn refuse(r: &str, what: impl Into<String>) -> Error {
    Error::RendererUnsupported {
        renderer: r.to_owned(),
        what: what.into(),
    }
}

/// The cookbook's `ensure_text`: a string, or a list holding exactly one text part.
pub(crate) fn ensure_text<'a>(renderer: &str, content: &'a Content) -> Result<&'a str> {
    match content {
        Content::Text(s) => Ok(s),
        Content::Parts(p) => match p.as_slice() {
            [ContentPart::Text { text }] => Ok(text),
            _ => Err(refuse(
                renderer,
                format!(
                    "Expected text content, got multimodal content with {} parts",
                    p.len()
                ),
            )),
        },
    }
}

/// Refuses image parts: no text renderer draws them (the cookbook's text renderers drop or
/// mangle them silently).
pub(crate) fn refuse_images(renderer: &str, m: &Message) -> Result<()> {
    if let Content::Parts(parts) = &m.content {
        if parts.iter().any(|p| matches!(p, ContentPart::Image { .. })) {
            return Err(refuse(
                renderer,
                "image content is not supported yet by tinkex's text renderers",
            ));
        }
    }
    Ok(())
}

/// The hooks of the cookbook's `Renderer` base class, and the operations built from them.
pub(crate) trait Template: Send + Sync {
    /// The tokenizer.
    fn tok(&self) -> &Tokenizer;

    /// The renderer's registry name (for error messages).
    fn renderer_name(&self) -> &str;

    /// The cookbook class name, as its error messages spell it (`Qwen3DisableThinkingRenderer`).
    fn class_name(&self) -> &'static str;

    /// Tokens before the first message.
    fn bos_tokens(&self) -> Result<Vec<u32>> {
        Ok(Vec::new())
    }

    /// Renders one message.
    fn render_message(&self, m: &Message, ctx: &RenderContext) -> Result<RenderedMessage>;

    /// `get_stop_sequences()`.
    fn stop_sequences(&self) -> Result<StopSequences>;

    /// `parse_response(tokens)`.
    fn parse_response(&self, tokens: &[u32]) -> Result<(Message, ParseTermination)>;

    /// `create_conversation_prefix_with_tools`: by default the format has no tool calling.
    fn tool_prefix(&self, _tools: &[ToolSpec], _system_prompt: &str) -> Result<Vec<Message>> {
        Err(refuse(
            self.renderer_name(),
            format!("{} does not support tool calling", self.class_name()),
        ))
    }

    /// How the streaming parser reads the format: it stops at the stop tokens; `<think>` tags
    /// only where [`Template::thinks_in_tags`] says so.
    fn stream_format(&self) -> Result<StreamFormat> {
        Ok(StreamFormat {
            end_tokens: match self.stop_sequences()? {
                StopSequences::Tokens(t) => t,
                StopSequences::Strings(_) => Vec::new(),
            },
            think_tags: self.thinks_in_tags(),
            opens_thinking: self.opens_thinking(),
        })
    }

    /// Whether the generation prompt ends inside an open think block (its parse puts the
    /// opening back before a reply that closes it).
    fn opens_thinking(&self) -> bool {
        false
    }

    /// Whether the format writes reasoning as `<think>…</think>` text.
    fn thinks_in_tags(&self) -> bool {
        false
    }

    /// Whether successive generation prompts extend one another.
    fn has_extension_property(&self) -> bool {
        false
    }

    /// Whether the generation prompt closes the think block (a turn with reasoning cannot then
    /// be trained after it).
    fn disables_thinking(&self) -> bool {
        false
    }

    /// What the generation prompt ends with: by default the header of an empty message of
    /// `role`.
    fn generation_suffix(&self, role: Role, ctx: &RenderContext) -> Result<Vec<u32>> {
        let empty = Message::new(role, "");
        Ok(self.render_message(&empty, ctx)?.header.unwrap_or_default())
    }

    /// Whether `m`'s output carries loss under `train_on` (`_output_is_trained`).
    fn output_is_trained(&self, m: &Message, ctx: &RenderContext, train_on: TrainOnWhat) -> bool {
        let assistant = m.role == Role::Assistant;
        match train_on {
            TrainOnWhat::LastAssistantMessage => ctx.is_last && assistant,
            TrainOnWhat::LastAssistantTurn => assistant && ctx.in_last_assistant_turn,
            TrainOnWhat::AllAssistantMessages => assistant,
            TrainOnWhat::AllMessages | TrainOnWhat::AllTokens => true,
            TrainOnWhat::AllUserAndSystemMessages => matches!(m.role, Role::User | Role::System),
            TrainOnWhat::Customized => m.trainable.unwrap_or(false),
        }
    }

    /// The first message of the turn the model is asked to produce: the one after the last user
    /// message (`_last_assistant_turn_start_index`).
    fn last_assistant_turn_start_index(&self, messages: &[Message]) -> usize {
        last_user_index(messages).map_or(0, |i| i + 1)
    }

    /// Encodes a prefill (`encode_without_special_tokens`).
    fn encode_prefill(&self, text: &str) -> Result<Vec<u32>> {
        self.tok().encode(text, false)
    }

    /// `build_generation_prompt`.
    fn generation_prompt(
        &self,
        messages: &[Message],
        role: Role,
        prefill: Option<&str>,
    ) -> Result<ModelInput> {
        generation_prompt(self, messages, role, prefill)
    }

    /// `build_supervised_example`.
    fn supervised_example(
        &self,
        messages: &[Message],
        train_on: TrainOnWhat,
    ) -> Result<(ModelInput, Vec<f32>)> {
        supervised_example(self, messages, train_on)
    }

    /// `build_supervised_examples`: one example when the renderer has the extension property,
    /// else one per trained assistant message, each ending at that message.
    fn supervised_examples(
        &self,
        messages: &[Message],
        train_on: TrainOnWhat,
    ) -> Result<Vec<(ModelInput, Vec<f32>)>> {
        if self.has_extension_property() {
            return Ok(vec![self.supervised_example(messages, train_on)?]);
        }
        let candidates = match train_on {
            TrainOnWhat::LastAssistantMessage => messages.len().saturating_sub(1)..messages.len(),
            TrainOnWhat::LastAssistantTurn => {
                self.last_assistant_turn_start_index(messages)..messages.len()
            }
            TrainOnWhat::AllAssistantMessages => 0..messages.len(),
            other => {
                return Err(refuse(
                    self.renderer_name(),
                    format!(
                        "build_supervised_examples cannot split {other} for a renderer without \
                         the extension property: it weights messages that are not turns the \
                         model produces, so there is no prompt to end each example at."
                    ),
                ))
            }
        };
        candidates
            .filter(|&i| messages[i].role == Role::Assistant)
            .map(|i| self.supervised_example(&messages[..=i], TrainOnWhat::LastAssistantMessage))
            .collect()
    }
}

/// Index of the last user message.
pub(crate) fn last_user_index(messages: &[Message]) -> Option<usize> {
    messages.iter().rposition(|m| m.role == Role::User)
}

fn text_chunk(tokens: Vec<u32>) -> ModelInputChunk {
    ModelInputChunk::EncodedText(EncodedTextChunk { tokens })
}

/// The base `build_generation_prompt`: BOS, every message (empty chunks left out — the sampler
/// rejects them), the generation suffix, the prefill.
pub(crate) fn generation_prompt<T: Template + ?Sized>(
    t: &T,
    messages: &[Message],
    role: Role,
    prefill: Option<&str>,
) -> Result<ModelInput> {
    let mut chunks = Vec::with_capacity(messages.len() * 2 + 3);
    let bos = t.bos_tokens()?;
    if !bos.is_empty() {
        chunks.push(text_chunk(bos));
    }
    let last_user = last_user_index(messages);
    let turn_start = t.last_assistant_turn_start_index(messages);
    for (idx, m) in messages.iter().enumerate() {
        let ctx = RenderContext {
            idx,
            is_last: idx + 1 == messages.len(),
            prev: idx.checked_sub(1).map(|i| &messages[i]),
            next: messages.get(idx + 1),
            last_user_index: last_user,
            in_last_assistant_turn: idx >= turn_start,
        };
        let r = t.render_message(m, &ctx)?;
        if let Some(h) = r.header.filter(|h| !h.is_empty()) {
            chunks.push(text_chunk(h));
        }
        chunks.extend(
            r.output
                .into_iter()
                .filter(|o| !o.is_empty())
                .map(text_chunk),
        );
    }
    let suffix_ctx = RenderContext {
        idx: messages.len(),
        is_last: true,
        prev: messages.last(),
        next: None,
        last_user_index: last_user,
        in_last_assistant_turn: true,
    };
    let suffix = t.generation_suffix(role, &suffix_ctx)?;
    if !suffix.is_empty() {
        chunks.push(text_chunk(suffix));
    }
    if let Some(p) = prefill.filter(|p| !p.is_empty()) {
        chunks.push(text_chunk(t.encode_prefill(p)?));
    }
    Ok(ModelInput { chunks })
}

/// The base `build_supervised_example`: every message's header (weight 1 only for
/// `all_tokens`) and output (weight by [`Template::output_is_trained`]), the last message's
/// stop overlap, then the weights of whatever the generation prompt supplies withheld.
pub(crate) fn supervised_example<T: Template + ?Sized>(
    t: &T,
    messages: &[Message],
    train_on: TrainOnWhat,
) -> Result<(ModelInput, Vec<f32>)> {
    let mut chunks: Vec<ModelInputChunk> = Vec::with_capacity(messages.len() * 3 + 1);
    let mut weights: Vec<f32> = Vec::new();
    let mut push = |chunks: &mut Vec<ModelInputChunk>, tokens: Vec<u32>, w: f32| {
        weights.extend(std::iter::repeat_n(w, tokens.len()));
        chunks.push(text_chunk(tokens));
    };
    let bos = t.bos_tokens()?;
    if !bos.is_empty() {
        push(&mut chunks, bos, 0.0);
    }
    let last_user = last_user_index(messages);
    let turn_start =
        t.last_assistant_turn_start_index(&messages[..messages.len().saturating_sub(1)]);
    let header_weight = if train_on == TrainOnWhat::AllTokens {
        1.0
    } else {
        0.0
    };
    for (idx, m) in messages.iter().enumerate() {
        check_trainable(m, train_on)?;
        let is_last = idx + 1 == messages.len();
        let ctx = RenderContext {
            idx,
            is_last,
            prev: idx.checked_sub(1).map(|i| &messages[i]),
            next: messages.get(idx + 1),
            last_user_index: last_user,
            in_last_assistant_turn: idx >= turn_start,
        };
        let r = t.render_message(m, &ctx)?;
        // Unlike the generation prompt, an empty header or output chunk is kept here, as the
        // cookbook keeps it (a chunk object is always truthy).
        if let Some(h) = r.header {
            push(&mut chunks, h, header_weight);
        }
        let w = if t.output_is_trained(m, &ctx, train_on) {
            1.0
        } else {
            0.0
        };
        for o in r.output {
            push(&mut chunks, o, w);
        }
        if is_last {
            if let Some(s) = r.stop_overlap {
                push(&mut chunks, s, w);
            }
        }
    }
    let input = ModelInput { chunks };
    let weights = train_after_the_generation_prompt(t, messages, train_on, &input, weights)?;
    Ok((input, weights))
}

/// The cookbook's assertion on `trainable`: present on every message with `customized`, absent
/// otherwise.
fn check_trainable(m: &Message, train_on: TrainOnWhat) -> Result<()> {
    match (train_on == TrainOnWhat::Customized, m.trainable.is_some()) {
        (true, false) => Err(Error::InvalidInput(
            "When using CUSTOMIZED train_on_what, each message must have a trainable field: \
             True if loss is applied on this message, False otherwise"
                .into(),
        )),
        (false, true) => Err(Error::InvalidInput(
            "When using non-CUSTOMIZED train_on_what, each message must not have a trainable \
             field. Either change train_on_what to CUSTOMIZED or remove the trainable field \
             from the message"
                .into(),
        )),
        _ => Ok(()),
    }
}

/// The message the generation prompt stops before, for the modes that train the turn sampling
/// would produce (`_first_trained_message_index`).
fn first_trained_message_index(messages: &[Message], train_on: TrainOnWhat) -> Option<usize> {
    let boundary = match train_on {
        TrainOnWhat::LastAssistantMessage => messages.len().checked_sub(1)?,
        TrainOnWhat::LastAssistantTurn => last_user_index(messages).map_or(0, |i| i + 1),
        _ => return None,
    };
    (messages.get(boundary)?.role == Role::Assistant).then_some(boundary)
}

/// `_train_after_the_generation_prompt`: when the example starts with the generation prompt
/// of the messages before the trained turn, nothing of that prompt carries loss; when it does
/// not, a renderer that disables thinking refuses (the turn reasoned after being told not to),
/// any other keeps its weights.
fn train_after_the_generation_prompt<T: Template + ?Sized>(
    t: &T,
    messages: &[Message],
    train_on: TrainOnWhat,
    input: &ModelInput,
    mut weights: Vec<f32>,
) -> Result<Vec<f32>> {
    let Some(boundary) = first_trained_message_index(messages, train_on) else {
        return Ok(weights);
    };
    // Through the renderer's own (possibly overridden) generation prompt, as the cookbook does.
    let prompt = t
        .generation_prompt(&messages[..boundary], Role::Assistant, None)?
        .to_ints()?;
    let tokens = input.to_ints()?;
    if !tokens.starts_with(&prompt) {
        if t.disables_thinking() {
            return Err(refuse(
                t.renderer_name(),
                format!(
                    "{} has thinking turned off: its generation prompt closes the think block, \
                     which tells the model not to reason. This turn contains reasoning, so \
                     training on it would teach the model to reason anyway, after being told not \
                     to. Either use the thinking version of this renderer, or remove the \
                     reasoning from this turn.",
                    t.class_name()
                ),
            ));
        }
        return Ok(weights);
    }
    weights[..prompt.len()].fill(0.0);
    Ok(weights)
}

/// `parse_response_for_stop_token`: the text before the single stop token (`StopSequence`), all
/// of it when there is none (`Malformed`); more than one is the sampler's mistake.
pub(crate) fn parse_response_for_stop_token(
    renderer: &str,
    tok: &Tokenizer,
    response: &[u32],
    stop: u32,
) -> Result<(String, ParseTermination)> {
    let mut at = response
        .iter()
        .enumerate()
        .filter(|(_, &t)| t == stop)
        .map(|(i, _)| i);
    match (at.next(), at.next()) {
        (None, _) => Ok((tok.decode(response, false)?, ParseTermination::Malformed)),
        (Some(i), None) => Ok((
            tok.decode(&response[..i], false)?,
            ParseTermination::StopSequence,
        )),
        (Some(_), Some(_)) => {
            let n = response.iter().filter(|&&t| t == stop).count();
            Err(refuse(
                renderer,
                format!(
                    "When parsing response, expected to split into 1 or 2 pieces using stop \
                     tokens, but got {n}. You probably are using the wrong stop tokens when \
                     sampling"
                ),
            ))
        }
    }
}

/// The cookbook's cap on the raw text of an unterminated tool block, in characters
/// (`PARSE_FAILURE_DETAIL_MAX_CHARS`).
pub(crate) const DETAIL_MAX_CHARS: usize = 16384;

const THINK_OPEN: &str = "<think>";
const THINK_CLOSE: &str = "</think>";

/// `parse_think_blocks`: `None` without `<think>`; else the text and (non-empty) thinking parts
/// of every `<think>…</think>` block in order, empty pieces left out (so possibly no parts).
pub(crate) fn parse_think_blocks(content: &str) -> Option<Vec<ContentPart>> {
    if !content.contains(THINK_OPEN) {
        return None;
    }
    let mut parts = Vec::new();
    let mut pos = 0;
    while let Some(open) = content[pos..].find(THINK_OPEN).map(|i| pos + i) {
        let inner = open + THINK_OPEN.len();
        let Some(close) = content[inner..].find(THINK_CLOSE).map(|i| inner + i) else {
            break;
        };
        if open > pos {
            parts.push(ContentPart::text(&content[pos..open]));
        }
        if close > inner {
            parts.push(ContentPart::thinking(&content[inner..close]));
        }
        pos = close + THINK_CLOSE.len();
    }
    if pos < content.len() {
        parts.push(ContentPart::text(&content[pos..]));
    }
    Some(parts)
}

/// The first `n` characters of `s` (Python's `s[:n]`).
pub(crate) fn first_chars(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// `detect_unterminated_tool_block`: more `open` markers than `close` markers leave the text
/// from the last `open` (at most [`DETAIL_MAX_CHARS`] of it) as an unparsed call.
pub(crate) fn detect_unterminated_tool_block(
    content: &str,
    open: &str,
    close: &str,
) -> Option<UnparsedToolCall> {
    let opens = content.matches(open).count();
    if opens == 0 || opens <= content.matches(close).count() {
        return None;
    }
    let from = content.rfind(open)?;
    Some(UnparsedToolCall {
        raw_text: first_chars(&content[from..], DETAIL_MAX_CHARS).to_owned(),
        error: format!("unterminated tool block: '{open}' opened without a matching '{close}'"),
    })
}

/// `_normalize_response_tokens` of the formats whose generation prompt opens a think block: a
/// reply that closes a block (`close`) without starting with the opening (`open`, the prompt's
/// prefill) gets the opening put back before it is parsed.
pub(crate) fn restore_think_prefill<'a>(
    response: &'a [u32],
    open: &[u32],
    close: u32,
) -> std::borrow::Cow<'a, [u32]> {
    if !response.starts_with(open) && response.contains(&close) {
        std::borrow::Cow::Owned([open, response].concat())
    } else {
        std::borrow::Cow::Borrowed(response)
    }
}

/// The cookbook's `json.loads(arguments)` check of a parsed tool call: `None` when the arguments
/// are JSON; for a `JSONDecodeError`, the call kept as `raw_text` with `Invalid JSON: …`; Python's
/// other exceptions (an int too long to convert, RecursionError) are raised, as the cookbook
/// does not catch them.
pub(crate) fn invalid_json_arguments(
    renderer: &str,
    args: &str,
    raw_text: &str,
) -> Result<Option<UnparsedToolCall>> {
    match super::pyjson::loads(args) {
        Ok(_) => Ok(None),
        Err(e) if e.msg().is_some() => Ok(Some(UnparsedToolCall {
            raw_text: raw_text.to_owned(),
            error: format!("Invalid JSON: {e}"),
        })),
        Err(e) => Err(refuse(renderer, e.to_string())),
    }
}

/// The id of a text that must encode to exactly one token (a format's special token).
pub(crate) fn single_token(renderer: &str, tok: &Tokenizer, text: &str) -> Result<u32> {
    match tok.encode(text, false)?.as_slice() {
        [id] => Ok(*id),
        other => Err(refuse(
            renderer,
            format!(
                "the tokenizer `{}` encodes {text:?} as {} tokens, not the single special token \
                 this format needs: is it the right tokenizer for this renderer?",
                tok.name(),
                other.len()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn think_blocks_and_unterminated_tool_blocks() {
        assert_eq!(parse_think_blocks("no tags"), None);
        assert_eq!(
            parse_think_blocks("<think>x"),
            Some(vec![ContentPart::text("<think>x")])
        );
        // Empty pieces are left out, unclosed text kept as text.
        assert_eq!(
            parse_think_blocks("a<think></think><think>t</think>b<think>c"),
            Some(vec![
                ContentPart::text("a"),
                ContentPart::thinking("t"),
                ContentPart::text("b<think>c"),
            ])
        );
        assert_eq!(first_chars("héllo", 2), "hé");
        assert_eq!(
            detect_unterminated_tool_block("a<x></x>", "<x>", "</x>"),
            None
        );
        let d = detect_unterminated_tool_block("<x>1</x><x>2<x>3", "<x>", "</x>").unwrap();
        assert_eq!(d.raw_text, "<x>3");
        assert_eq!(
            d.error,
            "unterminated tool block: '<x>' opened without a matching '</x>'"
        );
        let long = format!("<x>{}", "é".repeat(DETAIL_MAX_CHARS));
        let d = detect_unterminated_tool_block(&long, "<x>", "</x>").unwrap();
        assert_eq!(d.raw_text.chars().count(), DETAIL_MAX_CHARS);
    }
}
