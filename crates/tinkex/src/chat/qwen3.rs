//! `qwen3`, `qwen3_disable_thinking`, `qwen3_instruct`: Qwen3's ChatML
//! (`<|im_start|>role\n…<|im_end|>`) as tinker-cookbook 0.6.1 `renderers/qwen3.py` writes it
//! (`Qwen3Renderer`, `Qwen3DisableThinkingRenderer`, `Qwen3InstructRenderer`), which follows
//! the HF chat template of `Qwen/Qwen3-8B`:
//!
//! * The turn being produced (the last message, an assistant one, in a conversation that has a
//!   user message) gets its reasoning framed as the template frames it,
//!   `<think>\n{reasoning}\n</think>\n\n`, and an empty block when it did not reason; earlier
//!   assistant turns lose their thinking parts (`strip_thinking_from_history`). The instruct
//!   variant never frames (it has no think block) but strips history all the same.
//! * Tool results are `user` turns wrapped in `<tool_response>`; tool calls are
//!   `<tool_call>\n{"name": …, "arguments": …}\n</tool_call>` blocks printed by Python's
//!   `json.dumps`.
//! * Message content is encoded with special-token text kept as text (`<|im_end|>` typed in a
//!   message is not the stop token), headers with the normal tokenizer.
//! * `qwen3_disable_thinking`'s generation prompt ends with the empty block
//!   `<think>\n\n</think>\n\n`, so it refuses to train a turn that reasoned, and a produced turn
//!   in a conversation without a user message.

use std::sync::Arc;

use crate::error::Result;
use crate::tokenizer::Tokenizer;

use super::base::{
    detect_unterminated_tool_block, parse_response_for_stop_token, refuse, refuse_images,
    single_token, RenderContext, RenderedMessage, Template,
};
use super::message::{
    Content, ContentPart, Message, ParseTermination, Role, StopSequences, ToolCall, ToolSpec,
    UnparsedToolCall,
};
use super::pyjson::{self, DumpOptions, PyStr, Value};
use super::text::py_strip;
use super::{template_renderer, Renderer, RendererOptions};

/// Which cookbook class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// `Qwen3Renderer`.
    Thinking,
    /// `Qwen3DisableThinkingRenderer`.
    DisableThinking,
    /// `Qwen3InstructRenderer`.
    Instruct,
}

const THINK_OPEN: &str = "<think>";
const THINK_CLOSE: &str = "</think>";
const TOOL_OPEN: &str = "<tool_call>";
const TOOL_CLOSE: &str = "</tool_call>";
/// `_frame_thinking("")`: the block the template writes on a produced turn that did not reason.
pub(super) const EMPTY_FRAME: &str = "<think>\n\n</think>\n\n";

/// Every role, so headers can be encoded once (`ROLES[role_index(r)] == r`).
const ROLES: [Role; 7] = [
    Role::System,
    Role::User,
    Role::Assistant,
    Role::Tool,
    Role::Developer,
    Role::ToolDeclare,
    Role::GptOssSystem,
];

fn role_index(r: Role) -> usize {
    match r {
        Role::System => 0,
        Role::User => 1,
        Role::Assistant => 2,
        Role::Tool => 3,
        Role::Developer => 4,
        Role::ToolDeclare => 5,
        Role::GptOssSystem => 6,
    }
}

/// The role the header names: the template writes tool results as `user` turns.
pub(super) fn qwen_role(r: Role) -> Role {
    if r == Role::Tool {
        Role::User
    } else {
        r
    }
}

pub(crate) struct Qwen3 {
    name: &'static str,
    tok: Arc<Tokenizer>,
    variant: Variant,
    /// The cookbook's `strip_thinking_from_history` (true for every registered name).
    strip_thinking_from_history: bool,
    im_end: u32,
    /// `[role][idx > 0]`: the encoded header `{"\n" if idx > 0}<|im_start|>{qwen_role}\n`.
    headers: Vec<[Vec<u32>; 2]>,
}

pub(crate) fn build(
    name: &'static str,
    tok: Arc<Tokenizer>,
    _: &RendererOptions,
) -> Result<Arc<dyn Renderer>> {
    let variant = match name {
        "qwen3_disable_thinking" => Variant::DisableThinking,
        "qwen3_instruct" => Variant::Instruct,
        _ => Variant::Thinking,
    };
    let im_end = single_token(name, &tok, "<|im_end|>")?;
    let headers = ROLES
        .iter()
        .map(|&r| -> Result<[Vec<u32>; 2]> {
            let h = format!("<|im_start|>{}\n", qwen_role(r));
            Ok([
                tok.encode(&h, false)?,
                tok.encode(&format!("\n{h}"), false)?,
            ])
        })
        .collect::<Result<_>>()?;
    Ok(Arc::new(Qwen3 {
        name,
        tok,
        variant,
        strip_thinking_from_history: true,
        im_end,
        headers,
    }))
}

/// `_frame_thinking`: `<think>\n{reasoning without outer newlines}\n</think>\n\n`.
fn push_framed(out: &mut String, reasoning: &str) {
    out.push_str("<think>\n");
    out.push_str(reasoning.trim_matches('\n'));
    out.push_str("\n</think>\n\n");
}

/// `_unframe_thinking`: the inverse of the framing, so render → parse is the identity. A
/// thinking part loses its outer newlines (and is dropped when nothing is left); the text right
/// after a block loses its leading newlines (and is kept even when nothing is left).
fn unframe_thinking(parts: Vec<ContentPart>) -> Vec<ContentPart> {
    let mut out = Vec::with_capacity(parts.len());
    let mut after_block = false;
    for p in parts {
        match p {
            ContentPart::Thinking { thinking } => {
                let reasoning = thinking.trim_matches('\n');
                if !reasoning.is_empty() {
                    out.push(ContentPart::thinking(reasoning));
                }
                after_block = true;
            }
            ContentPart::Text { text } => {
                out.push(if after_block {
                    ContentPart::text(text.trim_start_matches('\n'))
                } else {
                    ContentPart::Text { text }
                });
                after_block = false;
            }
            other => {
                out.push(other);
                after_block = false;
            }
        }
    }
    out
}

/// The complete `<think>…</think>` and `<tool_call>…</tool_call>` blocks of a text, in order —
/// what `re.finditer(r"<think>(.*?)</think>|<tool_call>(.*?)</tool_call>", re.DOTALL)` finds
/// (`parse_content_blocks`): at each step the leftmost opening tag that has a closing tag after
/// it, closed by the first one.
///
/// The next candidate of each kind is remembered while it lies ahead, and a kind with no
/// complete block left is not searched again, so a reply with many blocks is scanned in linear
/// time.
struct Blocks<'a> {
    s: &'a str,
    pos: usize,
    /// Per kind (think, tool call): `None` = not searched since `pos` passed it;
    /// `Some(None)` = no complete block from here on; `Some(Some((start, inner, close)))`.
    next: [Option<Option<(usize, usize, usize)>>; 2],
}

/// A block found by [`Blocks`].
struct Block<'a> {
    start: usize,
    end: usize,
    is_think: bool,
    inner: &'a str,
}

const TAGS: [(&str, &str); 2] = [(THINK_OPEN, THINK_CLOSE), (TOOL_OPEN, TOOL_CLOSE)];

impl<'a> Blocks<'a> {
    fn new(s: &'a str) -> Self {
        Blocks {
            s,
            pos: 0,
            next: [None, None],
        }
    }

    fn candidate(&mut self, kind: usize) -> Option<(usize, usize, usize)> {
        let (s, pos) = (self.s, self.pos);
        if let Some(Some((start, ..))) = self.next[kind] {
            if start < pos {
                self.next[kind] = None;
            }
        }
        *self.next[kind].get_or_insert_with(|| {
            let (open, close) = TAGS[kind];
            let start = pos + s[pos..].find(open)?;
            let inner = start + open.len();
            Some((start, inner, inner + s[inner..].find(close)?))
        })
    }
}

impl<'a> Iterator for Blocks<'a> {
    type Item = Block<'a>;

    fn next(&mut self) -> Option<Block<'a>> {
        let think = self.candidate(0);
        let tool = self.candidate(1);
        let ((start, inner, close), kind) = match (think, tool) {
            (Some(t), Some(c)) if c.0 < t.0 => (c, 1),
            (Some(t), _) => (t, 0),
            (None, Some(c)) => (c, 1),
            (None, None) => return None,
        };
        let end = close + TAGS[kind].1.len();
        self.pos = end;
        Some(Block {
            start,
            end,
            is_think: kind == 0,
            inner: &self.s[inner..close],
        })
    }
}

impl Qwen3 {
    fn frames_thinking(&self) -> bool {
        self.variant != Variant::Instruct
    }

    /// `_frames_produced_turn`: whether the message is framed as the template frames the turn
    /// being produced — an assistant message after the last user message (there must be one),
    /// which with history stripped means the last message.
    fn frames_produced_turn(&self, m: &Message, ctx: &RenderContext) -> bool {
        self.frames_thinking()
            && m.role == Role::Assistant
            && ctx.last_user_index.is_some()
            && (ctx.is_last || !self.strip_thinking_from_history)
    }

    fn header(&self, role: Role, idx: usize) -> Vec<u32> {
        self.headers[role_index(role)][usize::from(idx > 0)].clone()
    }

    /// `json.dumps({"name": …, "arguments": json.loads(arguments)})` (`_tool_call_payload`).
    fn tool_call_payload(&self, call: &ToolCall) -> Result<String> {
        let arguments = pyjson::loads(&call.function.arguments).map_err(|e| {
            refuse(
                self.name,
                format!(
                    "the arguments of tool call `{}` are not valid JSON: {e}",
                    call.function.name
                ),
            )
        })?;
        let payload = Value::Object(vec![
            (
                PyStr::from("name"),
                Value::Str(call.function.name.as_str().into()),
            ),
            (PyStr::from("arguments"), arguments),
        ]);
        pyjson::dumps(&payload, &DumpOptions::default())
            .map_err(|e| refuse(self.name, e.to_string()))
    }

    /// The text of the message's output, before `<|im_end|>`.
    fn output_text(&self, m: &Message, ctx: &RenderContext) -> Result<String> {
        let frames = self.frames_produced_turn(m, ctx);
        let mut out = String::new();
        match &m.content {
            Content::Parts(parts) => {
                let strip =
                    self.strip_thinking_from_history && m.role == Role::Assistant && !ctx.is_last;
                // The template lstrips the content after a block it framed itself.
                let mut after_block = false;
                for p in parts {
                    match p {
                        ContentPart::Thinking { .. } if strip => {}
                        ContentPart::Thinking { thinking } => {
                            if frames {
                                push_framed(&mut out, thinking);
                            } else {
                                out.push_str(THINK_OPEN);
                                out.push_str(thinking);
                                out.push_str(THINK_CLOSE);
                            }
                            after_block = frames;
                        }
                        ContentPart::Text { text } => {
                            out.push_str(if after_block {
                                text.trim_start_matches('\n')
                            } else {
                                text
                            });
                            after_block = false;
                        }
                        // Refused before (`refuse_images`).
                        ContentPart::Image { .. } => {}
                    }
                }
            }
            // An inline block in a string is normalised as the template normalises it: the
            // reasoning after the last `<think>` before the first `</think>` is framed (text
            // before that `<think>` is dropped), the rest lstripped.
            Content::Text(s) if frames && s.contains(THINK_CLOSE) => {
                let (reasoning, rest) = s.split_once(THINK_CLOSE).unwrap_or((s, ""));
                let reasoning = reasoning
                    .rsplit_once(THINK_OPEN)
                    .map_or(reasoning, |(_, r)| r);
                push_framed(&mut out, reasoning);
                out.push_str(rest.trim_start_matches('\n'));
            }
            Content::Text(s) => out.push_str(s),
        }
        // Whether the message has text of its own, before the empty block is added: the
        // separator before the tool calls asks that.
        let has_text = !out.is_empty();
        if frames && !m.content.has_thinking() {
            let body = out.trim_start_matches('\n');
            out = [EMPTY_FRAME, body].concat();
        }
        if m.role == Role::Tool {
            out = format!("<tool_response>\n{out}\n</tool_response>");
        }
        // A present but empty list still writes the separator.
        if let Some(calls) = &m.tool_calls {
            if has_text {
                out.push('\n');
            }
            for (i, call) in calls.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                out.push_str("<tool_call>\n");
                out.push_str(&self.tool_call_payload(call)?);
                out.push_str("\n</tool_call>");
            }
        }
        Ok(out)
    }
}

/// `_parse_tool_call_json`: a block's JSON into a call, or into an unparsed call saying
/// what is wrong with it. Python's non-`JSONDecodeError` failures (an integer of more than
/// 4300 digits, nesting too deep) propagate there, so they are refusals here.
fn parse_tool_call(
    renderer: &str,
    json: &str,
    raw_text: &str,
) -> Result<std::result::Result<ToolCall, UnparsedToolCall>> {
    let unparsed = |error: String| {
        Ok(Err(UnparsedToolCall {
            raw_text: raw_text.to_owned(),
            error,
        }))
    };
    let value = match pyjson::loads(py_strip(json)) {
        Ok(v) => v,
        Err(e) if e.msg().is_some() => return unparsed(format!("Invalid JSON: {e}")),
        Err(e) => return Err(refuse(renderer, e.to_string())),
    };
    if !matches!(value, Value::Object(_)) {
        return unparsed("Tool call is not a JSON object".into());
    }
    let name = match value.get("name") {
        Some(Value::Str(s)) => s,
        _ => return unparsed("Missing or invalid 'name' field".into()),
    };
    let arguments = match value.get("arguments") {
        Some(a @ Value::Object(_)) => a,
        _ => return unparsed("Missing or invalid 'arguments' field".into()),
    };
    let id = match value.get("id") {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    };
    let text = |s: &PyStr| -> Result<String> {
        s.as_str().map(str::to_owned).ok_or_else(|| {
            refuse(
                renderer,
                "a tool call's name or id holds a lone surrogate, which a message cannot \
                 carry",
            )
        })
    };
    let arguments = pyjson::dumps(arguments, &DumpOptions::default())
        .map_err(|e| refuse(renderer, e.to_string()))?;
    Ok(Ok(ToolCall::new(
        text(name)?,
        arguments,
        id.map(text).transpose()?,
    )))
}

/// Qwen3's `parse_response` (the Qwen3.5 family's too): the text before `<|im_end|>`, its
/// `<think>` blocks as thinking parts (unframed when the format frames them) and its
/// `<tool_call>` JSON blocks as tool calls, in order.
pub(super) fn parse_reply(
    renderer: &str,
    tok: &Tokenizer,
    im_end: u32,
    response: &[u32],
    unframe: bool,
) -> Result<(Message, ParseTermination)> {
    let (content, termination) = parse_response_for_stop_token(renderer, tok, response, im_end)?;
    if !termination.is_clean() {
        return Ok((Message::new(Role::Assistant, content), termination));
    }
    let mut m = Message::new(Role::Assistant, "");
    if content.contains(THINK_OPEN) || content.contains(TOOL_OPEN) {
        let mut parts = Vec::new();
        let mut calls = Vec::new();
        let mut unparsed = Vec::new();
        let mut pos = 0;
        for b in Blocks::new(&content) {
            // Text between blocks is kept as written (only empty text is left out).
            if b.start > pos {
                parts.push(ContentPart::text(&content[pos..b.start]));
            }
            if b.is_think {
                if !b.inner.is_empty() {
                    parts.push(ContentPart::thinking(b.inner));
                }
            } else {
                match parse_tool_call(renderer, b.inner, &content[b.start..b.end])? {
                    Ok(c) => calls.push(c),
                    Err(u) => unparsed.push(u),
                }
            }
            pos = b.end;
        }
        if pos < content.len() {
            parts.push(ContentPart::text(&content[pos..]));
        }
        m.content = Content::Parts(if unframe {
            unframe_thinking(parts)
        } else {
            parts
        });
        m.tool_calls = (!calls.is_empty()).then_some(calls);
        m.unparsed_tool_calls = (!unparsed.is_empty()).then_some(unparsed);
    }
    // A `<tool_call>` opened and never closed.
    if let Some(dangling) = detect_unterminated_tool_block(&content, TOOL_OPEN, TOOL_CLOSE) {
        m.unparsed_tool_calls
            .get_or_insert_with(Vec::new)
            .push(dangling);
    }
    if let Content::Text(t) = &mut m.content {
        *t = content;
    }
    Ok((m, termination))
}

impl Template for Qwen3 {
    fn tok(&self) -> &Tokenizer {
        &self.tok
    }
    fn renderer_name(&self) -> &str {
        self.name
    }
    fn class_name(&self) -> &'static str {
        match self.variant {
            Variant::Thinking => "Qwen3Renderer",
            Variant::DisableThinking => "Qwen3DisableThinkingRenderer",
            Variant::Instruct => "Qwen3InstructRenderer",
        }
    }
    fn has_extension_property(&self) -> bool {
        // The instruct models have no thinking to strip from history.
        self.variant == Variant::Instruct || !self.strip_thinking_from_history
    }
    fn disables_thinking(&self) -> bool {
        self.variant == Variant::DisableThinking
    }
    fn thinks_in_tags(&self) -> bool {
        true
    }

    fn render_message(&self, m: &Message, ctx: &RenderContext) -> Result<RenderedMessage> {
        refuse_images(self.name, m)?;
        if self.variant == Variant::DisableThinking
            && m.role == Role::Assistant
            && ctx.is_last
            && !m.content.is_empty()
            && ctx.last_user_index.is_none()
        {
            return Err(refuse(
                self.name,
                "this conversation has no user message, so Qwen3's template writes no empty \
                 think block on the produced turn -- but the generation prompt always opens \
                 one. Add a user message, or render with thinking enabled.",
            ));
        }
        let text = self.output_text(m, ctx)?;
        Ok(RenderedMessage {
            header: Some(self.header(m.role, ctx.idx)),
            output: vec![self.tok.encode_special_as_text(&text)?, vec![self.im_end]],
            stop_overlap: None,
        })
    }

    fn generation_suffix(&self, role: Role, ctx: &RenderContext) -> Result<Vec<u32>> {
        match self.variant {
            // The empty block is part of the prompt: sampling starts after it. The role is
            // written as given here (a `tool` prompt says `tool`), unlike in headers.
            Variant::DisableThinking => {
                let nl = if ctx.idx > 0 { "\n" } else { "" };
                self.tok
                    .encode(&format!("{nl}<|im_start|>{role}\n{EMPTY_FRAME}"), false)
            }
            // The header of an empty message of `role` (rendering one cannot fail).
            _ => Ok(self.header(role, ctx.idx)),
        }
    }

    fn stop_sequences(&self) -> Result<StopSequences> {
        Ok(StopSequences::Tokens(vec![self.im_end]))
    }

    fn parse_response(&self, response: &[u32]) -> Result<(Message, ParseTermination)> {
        parse_reply(
            self.name,
            &self.tok,
            self.im_end,
            response,
            self.frames_thinking(),
        )
    }

    fn tool_prefix(&self, tools: &[ToolSpec], system_prompt: &str) -> Result<Vec<Message>> {
        let mut content = String::from(system_prompt);
        if !system_prompt.is_empty() {
            content.push_str("\n\n");
        }
        if !tools.is_empty() {
            // HF's `tojson`: `json.dumps(..., separators=(", ", ": "))`, ASCII-escaped, keys in
            // the order the spec was written.
            let opts = DumpOptions::default();
            content.push_str(
                "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n\
                 You are provided with function signatures within <tools></tools> XML tags:\n\
                 <tools>",
            );
            for tool in tools {
                let spec =
                    serde_json::to_value(tool).map_err(|e| refuse(self.name, e.to_string()))?;
                let line = Value::Object(vec![
                    (PyStr::from("type"), Value::Str("function".into())),
                    (PyStr::from("function"), Value::from_serde(&spec)),
                ]);
                content.push('\n');
                content.push_str(
                    &pyjson::dumps(&line, &opts).map_err(|e| refuse(self.name, e.to_string()))?,
                );
            }
            content.push_str(
                "\n</tools>\n\nFor each function call, return a json object with function name \
                 and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n\
                 {\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>",
            );
        }
        Ok(vec![Message::new(Role::System, content)])
    }
}

template_renderer!(Qwen3);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::TrainOnWhat;
    use proptest::prelude::*;

    fn tok() -> Arc<Tokenizer> {
        crate::testing::tokenizer("Qwen/Qwen3-8B")
    }

    fn r(name: &str) -> Arc<dyn Renderer> {
        crate::chat::renderer(name, tok()).unwrap()
    }

    fn user(s: &str) -> Message {
        Message::new(Role::User, s)
    }

    fn asst(c: impl Into<Content>) -> Message {
        Message::new(Role::Assistant, c)
    }

    fn parts(p: &[(&str, &str)]) -> Content {
        Content::Parts(
            p.iter()
                .map(|&(k, v)| match k {
                    "thinking" => ContentPart::thinking(v),
                    _ => ContentPart::text(v),
                })
                .collect(),
        )
    }

    /// The text of the supervised example of `messages`.
    fn rendered(name: &str, messages: &[Message]) -> String {
        let r = r(name);
        let (input, _) = r
            .supervised_example(messages, TrainOnWhat::AllTokens)
            .unwrap();
        r.tokenizer()
            .decode(&input.to_ints().unwrap(), false)
            .unwrap()
    }

    fn prompt(name: &str, messages: &[Message]) -> String {
        let r = r(name);
        let p = r
            .generation_prompt(messages, Role::Assistant, None)
            .unwrap();
        r.tokenizer().decode(&p.to_ints().unwrap(), false).unwrap()
    }

    fn blocks(s: &str) -> Vec<(bool, &str)> {
        Blocks::new(s).map(|b| (b.is_think, b.inner)).collect()
    }

    #[test]
    fn blocks_are_found_as_the_cookbook_regex_finds_them() {
        assert_eq!(
            blocks("a<think>x</think>b<tool_call>y</tool_call>"),
            [(true, "x"), (false, "y")]
        );
        // Lazy: the first closing tag ends the block.
        assert_eq!(blocks("<think>a</think>b</think>"), [(true, "a")]);
        // An opening tag with no closing tag after it is text; a later block still matches.
        assert_eq!(
            blocks("<think>open <tool_call>c</tool_call>"),
            [(false, "c")]
        );
        assert_eq!(blocks("<tool_call>open <think>t</think>"), [(true, "t")]);
        // Leftmost wins, even when it swallows the other kind.
        assert_eq!(
            blocks("<tool_call><think>t</think></tool_call>"),
            [(false, "<think>t</think>")]
        );
        assert_eq!(blocks("<think>a<think>b</think>"), [(true, "a<think>b")]);
        assert_eq!(blocks("</think><think>"), []);
        // Many blocks and a dangling opener: linear, and all found.
        let many = "<think>x</think>".repeat(10_000) + "<tool_call>";
        assert_eq!(Blocks::new(&many).count(), 10_000);
    }

    #[test]
    fn framing_and_unframing_follow_the_template() {
        let mut s = String::new();
        push_framed(&mut s, "\n\nr\n");
        assert_eq!(
            s, "<think>\nr\n</think>\n\n",
            "_frame_thinking strips only newlines"
        );
        let got = unframe_thinking(vec![
            ContentPart::thinking("\n\n"),
            ContentPart::text("\n\nx\n"),
            ContentPart::thinking("\n r \n"),
            ContentPart::text("\n"),
            ContentPart::text("\ny"),
        ]);
        assert_eq!(
            got,
            [
                // An empty block is dropped, but the text after it is still lstripped.
                ContentPart::text("x\n"),
                ContentPart::thinking(" r "),
                // Text emptied by the lstrip is kept; only the part right after a block is.
                ContentPart::text(""),
                ContentPart::text("\ny"),
            ]
        );
    }

    #[test]
    fn the_produced_turn_is_framed_and_history_is_stripped() {
        let conv = [
            user("q"),
            asst(parts(&[("thinking", "old"), ("text", "\na")])),
            user("q2"),
            asst(parts(&[("thinking", "\nnew\n"), ("text", "\n\nb")])),
        ];
        assert_eq!(
            rendered("qwen3", &conv),
            "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n\na<|im_end|>\n\
             <|im_start|>user\nq2<|im_end|>\n<|im_start|>assistant\n<think>\nnew\n</think>\n\nb<|im_end|>",
            "history loses its thinking (text kept as written); the last turn is framed"
        );
        assert_eq!(
            rendered("qwen3", &[user("q"), asst("a")]),
            "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\na<|im_end|>",
            "a produced turn that did not reason gets the empty block"
        );
        assert_eq!(
            rendered("qwen3", &[Message::new(Role::System, "s"), asst("a")]),
            "<|im_start|>system\ns<|im_end|>\n<|im_start|>assistant\na<|im_end|>",
            "no user message: never framed"
        );
        assert_eq!(
            rendered("qwen3_instruct", &conv),
            "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n\na<|im_end|>\n\
             <|im_start|>user\nq2<|im_end|>\n<|im_start|>assistant\n<think>\nnew\n</think>\n\nb<|im_end|>",
            "instruct: thinking written raw, no framing, no lstrip"
        );
    }

    #[test]
    fn inline_think_in_string_content_is_normalised() {
        let last = |s: &str| {
            let full = rendered("qwen3", &[user("q"), asst(s)]);
            full["<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n".len()..].to_owned()
        };
        assert_eq!(
            last("<think>\n\n</think>\nx"),
            "<think>\n\n</think>\n\nx<|im_end|>"
        );
        assert_eq!(
            last("pre<think>r</think>\n\npost"),
            "<think>\nr\n</think>\n\npost<|im_end|>"
        );
        assert_eq!(
            last("no open</think>rest"),
            "<think>\n\n</think>\n\n<think>\nno open\n</think>\n\nrest<|im_end|>",
            "`</think>` without `<think>`: framed, and (no reasoning by has_thinking) the empty \
             block prepended too"
        );
        assert_eq!(last("<think>unclosed"), "<think>unclosed<|im_end|>");
    }

    #[test]
    fn tools_calls_and_responses() {
        let call = |args: &str| ToolCall::new("f", args, Some("id".into()));
        let mut m = asst("t");
        m.tool_calls = Some(vec![
            call(r#"{"b": 1, "a": "é", "b": [1.0, 1e5]}"#),
            call("[]"),
        ]);
        let mut tool = Message::new(Role::Tool, "out");
        tool.name = Some("f".into());
        let conv = [user("q"), m.clone(), tool];
        assert_eq!(
            rendered("qwen3", &conv),
            "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\nt\n<tool_call>\n\
             {\"name\": \"f\", \"arguments\": {\"b\": [1.0, 100000.0], \"a\": \"\\u00e9\"}}\n</tool_call>\n\
             <tool_call>\n{\"name\": \"f\", \"arguments\": []}\n</tool_call><|im_end|>\n\
             <|im_start|>user\n<tool_response>\nout\n</tool_response><|im_end|>",
            "json.dumps of json.loads(arguments): key order, repeated keys, floats, ASCII"
        );
        // A present but empty list writes the separator after text, nothing without text.
        m.tool_calls = Some(vec![]);
        assert!(rendered("qwen3", &[user("q"), m.clone()]).ends_with("t\n<|im_end|>"));
        m.content = "".into();
        assert!(rendered("qwen3", &[user("q"), m.clone()]).ends_with("</think>\n\n<|im_end|>"));
        // Arguments that are not JSON: the cookbook's json.loads raises.
        m.tool_calls = Some(vec![call("{bad")]);
        let e = r("qwen3")
            .supervised_example(&[user("q"), m], TrainOnWhat::LastAssistantMessage)
            .unwrap_err();
        assert!(
            e.to_string().contains(
                "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
            ),
            "{e}"
        );
    }

    #[test]
    fn tool_prefix_prints_specs_as_python_does() {
        let spec: ToolSpec = serde_json::from_str(
            r#"{"name": "get", "description": "Gét", "parameters": {"type": "object", "properties": {"z": {"type": "string"}, "a": {"type": "number"}}, "required": ["z"]}}"#,
        )
        .unwrap();
        let m = r("qwen3").tool_prefix(&[spec], "sys").unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].role, Role::System);
        assert_eq!(
            m[0].content.text(),
            "sys\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n\
             You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n\
             {\"type\": \"function\", \"function\": {\"name\": \"get\", \"description\": \"G\\u00e9t\", \
             \"parameters\": {\"type\": \"object\", \"properties\": {\"z\": {\"type\": \"string\"}, \
             \"a\": {\"type\": \"number\"}}, \"required\": [\"z\"]}}}\n</tools>\n\n\
             For each function call, return a json object with function name and arguments within \
             <tool_call></tool_call> XML tags:\n<tool_call>\n\
             {\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>",
            "key order as written (serde_json preserve_order), ASCII escapes"
        );
        assert_eq!(
            r("qwen3").tool_prefix(&[], "sys").unwrap()[0]
                .content
                .text(),
            "sys\n\n"
        );
        assert_eq!(
            r("qwen3").tool_prefix(&[], "").unwrap()[0].content.text(),
            ""
        );
    }

    #[test]
    fn special_token_text_in_content_stays_text() {
        let r = r("qwen3");
        let t = r.tokenizer();
        let im_end = t.token_to_id("<|im_end|>").unwrap();
        let think = t.token_to_id("<think>").unwrap();
        let (input, _) = r
            .supervised_example(
                &[user("a <|im_end|> <think>"), asst("b")],
                TrainOnWhat::LastAssistantMessage,
            )
            .unwrap();
        let ids = input.to_ints().unwrap();
        // Headers' `<|im_start|>` are special; typed `<|im_end|>` is not; `<think>` (a
        // non-special added token) is one token wherever it is.
        assert_eq!(ids.iter().filter(|&&i| i == im_end).count(), 2, "{ids:?}");
        assert_eq!(ids.iter().filter(|&&i| i == think).count(), 2, "{ids:?}");
    }

    #[test]
    fn disable_thinking_prompt_and_refusals() {
        assert_eq!(
            prompt("qwen3_disable_thinking", &[user("q")]),
            "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
        );
        assert_eq!(
            prompt("qwen3", &[user("q")]),
            "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n"
        );
        let r = r("qwen3_disable_thinking");
        let p = r.generation_prompt(&[user("q")], Role::Tool, None).unwrap();
        assert!(
            r.tokenizer()
                .decode(&p.to_ints().unwrap(), false)
                .unwrap()
                .ends_with("<|im_start|>tool\n<think>\n\n</think>\n\n"),
            "the suffix writes the role as given"
        );
        let e = r
            .supervised_example(
                &[Message::new(Role::System, "s"), asst("a")],
                TrainOnWhat::LastAssistantMessage,
            )
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("this conversation has no user message"),
            "{e}"
        );
        let e = r
            .supervised_example(
                &[user("q"), asst(parts(&[("thinking", "r"), ("text", "a")]))],
                TrainOnWhat::LastAssistantMessage,
            )
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("Qwen3DisableThinkingRenderer has thinking turned off"),
            "{e}"
        );
        assert!(!r.has_extension_property());
        assert!(crate::chat::renderer("qwen3_instruct", tok())
            .unwrap()
            .has_extension_property());
    }

    #[test]
    fn parsing_tool_calls_and_unterminated_blocks() {
        let r = r("qwen3");
        let t = r.tokenizer();
        let parse = |s: &str| {
            let mut ids = t.encode(s, false).unwrap();
            ids.push(t.token_to_id("<|im_end|>").unwrap());
            r.parse_response(&ids).unwrap()
        };
        let (m, term) = parse(
            "<think>\nr\n</think>\n\nhi\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": \"é\"}, \"id\": 3}\n</tool_call>\
             <tool_call>{\"name\": \"f\", \"arguments\": {\"a\":1,}}</tool_call>",
        );
        assert_eq!(term, ParseTermination::StopSequence);
        assert_eq!(m.content, parts(&[("thinking", "r"), ("text", "hi\n")]));
        assert_eq!(
            m.tool_calls,
            Some(vec![ToolCall::new("f", r#"{"x": "\u00e9"}"#, None)]),
            "a non-string id is dropped; arguments re-dumped with ASCII escapes"
        );
        let unparsed = m.unparsed_tool_calls.unwrap();
        assert_eq!(
            unparsed[0].error,
            "Invalid JSON: Expecting property name enclosed in double quotes: line 1 column 35 (char 34)"
        );
        for (text, error) in [
            (
                "<tool_call>[1]</tool_call>",
                "Tool call is not a JSON object",
            ),
            (
                "<tool_call>{\"arguments\": {}}</tool_call>",
                "Missing or invalid 'name' field",
            ),
            (
                "<tool_call>{\"name\": \"f\", \"arguments\": \"{}\"}</tool_call>",
                "Missing or invalid 'arguments' field",
            ),
        ] {
            let (m, _) = parse(text);
            assert_eq!(m.unparsed_tool_calls.unwrap()[0].error, error, "{text}");
            assert_eq!(m.content, Content::Parts(vec![]), "{text}");
        }
        let (m, _) =
            parse("a<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call> <tool_call>open");
        assert_eq!(m.tool_calls.unwrap().len(), 1);
        assert_eq!(
            m.unparsed_tool_calls.unwrap(),
            [UnparsedToolCall {
                raw_text: "<tool_call>open".into(),
                error: "unterminated tool block: '<tool_call>' opened without a matching '</tool_call>'".into(),
            }]
        );
        // Cut off: no parsing at all.
        let ids = t.encode("<think>r</think>x", false).unwrap();
        let (m, term) = r.parse_response(&ids).unwrap();
        assert_eq!(
            (m.content, term),
            (
                Content::Text("<think>r</think>x".into()),
                ParseTermination::Malformed
            )
        );
        // The instruct renderer keeps the blocks as they are.
        let ri = crate::chat::renderer("qwen3_instruct", tok()).unwrap();
        let mut ids = t.encode("<think>\nr\n</think>\n\nx", false).unwrap();
        ids.push(t.token_to_id("<|im_end|>").unwrap());
        assert_eq!(
            ri.parse_response(&ids).unwrap().0.content,
            parts(&[("thinking", "\nr\n"), ("text", "\n\nx")])
        );
    }

    /// Text without the format's tags or special-token text, and without newlines at its ends
    /// (which the framing does not keep).
    fn plain() -> impl Strategy<Value = String> {
        "[a-z é\n😀]{1,12}".prop_filter_map("framing trims newlines", |s| {
            let s = s.trim_matches('\n').to_owned();
            (!s.is_empty()).then_some(s)
        })
    }

    fn turn() -> impl Strategy<Value = Message> {
        (proptest::option::of(plain()), plain()).prop_map(|(thinking, text)| match thinking {
            Some(th) => asst(Content::Parts(vec![
                ContentPart::thinking(th),
                ContentPart::text(text),
            ])),
            None => asst(text),
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// The cookbook's invariants: the supervised tokens start with the generation prompt of
        /// the conversation without its last message, and parsing the trained completion gives
        /// the last message back.
        #[test]
        fn prompt_prefix_and_round_trip(
            name in prop::sample::select(vec!["qwen3", "qwen3_instruct", "qwen3_disable_thinking"]),
            history in proptest::collection::vec((plain(), turn()), 0..3),
            last in turn(),
        ) {
            let r = r(name);
            let mut conv = Vec::new();
            for (u, a) in history {
                conv.push(user(&u));
                conv.push(a);
            }
            conv.push(user("q"));
            let reasons = last.content.has_thinking();
            conv.push(last.clone());
            let result = r.supervised_example(&conv, TrainOnWhat::LastAssistantMessage);
            if name == "qwen3_disable_thinking" && reasons {
                prop_assert!(result.is_err());
                return Ok(());
            }
            let (input, weights) = result.unwrap();
            let full = input.to_ints().unwrap();
            let prompt = r.generation_prompt(&conv[..conv.len() - 1], Role::Assistant, None).unwrap().to_ints().unwrap();
            prop_assert!(full.starts_with(&prompt));
            prop_assert!(weights[..prompt.len()].iter().all(|&w| w == 0.0));
            prop_assert!(weights[prompt.len()..].iter().all(|&w| w == 1.0));
            let (parsed, term) = r.parse_response(&full[prompt.len()..]).unwrap();
            prop_assert_eq!(term, ParseTermination::StopSequence);
            if name == "qwen3_instruct" {
                // Nothing framed: the parse is the content as written, and history keeps its
                // prefix when it has no thinking (the extension property the class claims).
                if !reasons {
                    prop_assert!(parsed.same_as(&last), "{:?} vs {:?}", parsed, last);
                }
            } else {
                prop_assert!(parsed.same_as(&last), "{:?} vs {:?}", parsed, last);
            }
        }
    }
}
