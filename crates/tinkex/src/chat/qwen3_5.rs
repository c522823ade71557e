//! `qwen3_5`, `qwen3_5_disable_thinking`, `qwen3_5_preserve_thinking` and `qwen3_8_*`: the
//! Qwen3.5 / 3.6 / 3.8 ChatML as tinker-cookbook 0.6.1 writes it (`renderers/qwen3_5.py`
//! `Qwen3_5Renderer`, `Qwen3_5DisableThinkingRenderer`; `renderers/qwen3_8.py`
//! `Qwen3_8Renderer`, `Qwen3_8DisableThinkingRenderer`; both built on `Qwen3VLRenderer` of
//! `qwen3.py`), following the HF chat templates of `Qwen/Qwen3.5-4B` and `Qwen/Qwen3.8-27B`.
//!
//! What differs from Qwen3 ([`super::qwen3`], whose reply parser this family reuses):
//! * Every message's content is trimmed (`content|trim`; thinking parts are not). Content is
//!   encoded as one string with the normal tokenizer: special-token text in a message *is* the
//!   special token here, as in the cookbook's VL renderer.
//! * Reasoning is written `<think>\n{reasoning}\n</think>\n\n` wherever it is kept. An assistant
//!   message after the last user message that did not reason gets the empty block
//!   `<think>\n\n</think>\n\n` in its header (Qwen3.8 with thinking preserved: every one).
//! * The generation prompt opens the think block (`<think>\n`; the disable-thinking variants
//!   close it: `<think>\n\n</think>\n\n`). On the turn being produced, that much of the header
//!   is the prompt and the rest of it is trained output, so the example extends the prompt.
//! * Tool calls are XML, `<tool_call>\n<function=name>\n<parameter=key>\nvalue\n</parameter>\n…`;
//!   parsing turns them back into calls (JSON blocks still parse as in Qwen3). Consecutive tool
//!   results share one `user` turn.
//! * Qwen3.8 puts a reasoning-effort sentence at the start of the system message (`xhigh`,
//!   `low`; `medium` none), adding a system message if there is none, and drops an empty one;
//!   it keeps thinking in history by default, but only structured thinking parts count as
//!   reasoning there. Scalar tool-call arguments are JSON (`true`, `null`), where Qwen3.5 prints
//!   them as Python does (`True`, `None`).
//!
//! None of them has the extension property (the cookbook says why: a turn that did not reason
//! is sampled after `<think>\n` but written in history with the closed empty block, whose
//! `\n\n` is one token), so [`super::Renderer::supervised_examples`] gives one example per
//! trained turn.

use std::borrow::Cow;
use std::sync::Arc;

use crate::error::Result;
use crate::tokenizer::Tokenizer;

use super::base::{
    self, refuse, refuse_images, restore_think_prefill, single_token, RenderContext,
    RenderedMessage, Template,
};
use super::message::{
    Content, ContentPart, Message, ParseTermination, Role, StopSequences, ToolCall, ToolSpec,
    TrainOnWhat, UnparsedToolCall,
};
use super::pyjson::{self, DumpOptions, PyStr, Value};
use super::pyrepr::{py_str, type_name};
use super::qwen3::{parse_reply, qwen_role, EMPTY_FRAME};
use super::text::{py_isspace, py_strip};
use super::{template_renderer, Renderer, RendererOptions};
use crate::types::ModelInput;

/// Which template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// Qwen3.5 / 3.6 (`Qwen3_5Renderer`).
    Qwen3_5,
    /// Qwen3.8 (`Qwen3_8Renderer`), with its reasoning-effort sentence ("" for `medium` and
    /// with thinking disabled).
    Qwen3_8 { effort: &'static str },
}

/// The sentences Qwen3.8's template puts into the system message per reasoning effort
/// (cookbook `REASONING_EFFORT_INSTRUCTIONS`; `medium` has none).
const EFFORT_XHIGH: &str = "Reasoning effort is set to xhigh. Please think carefully through the \
     task, validate key assumptions, consider plausible alternatives, and prioritize correctness, \
     consistency, and clarity in the final answer.";
const EFFORT_LOW: &str = "Reasoning effort is set to low. Keep your thinking brief and focused, \
     moving directly to the conclusion without unnecessary elaboration.";

/// `UNTERMINATED_TOOL_BLOCK_ERROR`: such blocks stay unparsed as they are.
const UNTERMINATED: &str = "unterminated tool block";

pub(crate) struct Qwen3_5 {
    name: &'static str,
    tok: Arc<Tokenizer>,
    family: Family,
    /// `disables_thinking`: the generation prompt closes the think block.
    disable_thinking: bool,
    /// The cookbook's `strip_thinking_from_history`.
    strip_thinking_from_history: bool,
    im_end: u32,
    /// `<think>\n` as the generation prompt ends with it, restored before parsing a reply.
    think_prefix: Vec<u32>,
    think_close: u32,
}

pub(crate) fn build(
    name: &'static str,
    tok: Arc<Tokenizer>,
    _: &RendererOptions,
) -> Result<Arc<dyn Renderer>> {
    // (family, disable thinking, strip thinking from history), as `get_renderer` builds them.
    let (family, disable_thinking, strip) = match name {
        "qwen3_5_disable_thinking" => (Family::Qwen3_5, true, true),
        "qwen3_5_preserve_thinking" => (Family::Qwen3_5, false, false),
        "qwen3_8_xhigh_reasoning" => (
            Family::Qwen3_8 {
                effort: EFFORT_XHIGH,
            },
            false,
            false,
        ),
        "qwen3_8_medium_reasoning" => (Family::Qwen3_8 { effort: "" }, false, false),
        "qwen3_8_low_reasoning" => (Family::Qwen3_8 { effort: EFFORT_LOW }, false, false),
        "qwen3_8_disable_thinking" => (Family::Qwen3_8 { effort: "" }, true, false),
        _ => (Family::Qwen3_5, false, true),
    };
    let im_end = single_token(name, &tok, "<|im_end|>")?;
    let think_close = single_token(name, &tok, "</think>")?;
    let think_prefix = tok.encode("<think>\n", false)?;
    Ok(Arc::new(Qwen3_5 {
        name,
        tok,
        family,
        disable_thinking,
        strip_thinking_from_history: strip,
        im_end,
        think_prefix,
        think_close,
    }))
}

/// Whether `idx` is at or before the last user message (Python: `idx <= last_user_index`, which
/// is -1 when there is none).
fn at_or_before_last_user(ctx: &RenderContext) -> bool {
    ctx.last_user_index.is_some_and(|u| ctx.idx <= u)
}

/// `_trim_content`: the template's `content|trim` — a string stripped; in a list, the visible
/// parts (all but thinking) stripped from each end up to the first text left non-empty, stopping
/// at a part that is not text. Borrowed when a string needs no stripping (the usual case).
fn trim_content(content: &Content) -> Cow<'_, Content> {
    match content {
        Content::Text(s) => match py_strip(s) {
            t if t.len() == s.len() => Cow::Borrowed(content),
            t => Cow::Owned(Content::Text(t.to_owned())),
        },
        Content::Parts(parts) => {
            let mut parts = parts.clone();
            let n = parts.len();
            strip_edge(&mut parts, 0..n, |s| s.trim_start_matches(py_isspace));
            strip_edge(&mut parts, (0..n).rev(), |s| s.trim_end_matches(py_isspace));
            Cow::Owned(Content::Parts(parts))
        }
    }
}

/// One end of `_strip_visible_content`: `strip` applied to the text parts in `order`, skipping
/// thinking, until a text is left non-empty or a part is not text.
fn strip_edge(
    parts: &mut [ContentPart],
    order: impl Iterator<Item = usize>,
    strip: fn(&str) -> &str,
) {
    for i in order {
        match &mut parts[i] {
            ContentPart::Thinking { .. } => {}
            ContentPart::Text { text } => {
                *text = strip(text).to_owned();
                if !text.is_empty() {
                    return;
                }
            }
            _ => return,
        }
    }
}

impl Qwen3_5 {
    fn effort(&self) -> &'static str {
        match self.family {
            Family::Qwen3_8 { effort } if !self.disable_thinking => effort,
            _ => "",
        }
    }

    /// `_generation_suffix_str`: the header the generation prompt ends with, with the think
    /// block opened (or, thinking disabled, closed empty).
    fn generation_suffix_str(&self, role: Role, idx: usize) -> String {
        let nl = if idx > 0 { "\n" } else { "" };
        let think = if self.disable_thinking {
            EMPTY_FRAME
        } else {
            "<think>\n"
        };
        format!("{nl}<|im_start|>{role}\n{think}")
    }

    /// `_strips_thinking_for`: Qwen3.5 strips every assistant message but the last (more than
    /// its template does, kept by the cookbook for trained checkpoints); Qwen3.8 only those at
    /// or before the last user message, as its template does.
    fn strips_thinking_for(&self, m: &Message, ctx: &RenderContext) -> bool {
        self.strip_thinking_from_history
            && m.role == Role::Assistant
            && match self.family {
                Family::Qwen3_5 => !ctx.is_last,
                Family::Qwen3_8 { .. } => at_or_before_last_user(ctx),
            }
    }

    /// `_assistant_header_suffix`: the empty think block of an assistant message that did not
    /// reason, after the last user message (Qwen3.8 preserving thinking: anywhere). Qwen3.5
    /// counts an inline `<think>` in a string as reasoning; Qwen3.8 only thinking parts.
    fn assistant_header_suffix(&self, content: &Content, ctx: &RenderContext) -> &'static str {
        let reasoned = match self.family {
            Family::Qwen3_5 => {
                if at_or_before_last_user(ctx) {
                    return "";
                }
                content.has_thinking()
            }
            Family::Qwen3_8 { .. } => {
                if self.strip_thinking_from_history && at_or_before_last_user(ctx) {
                    return "";
                }
                matches!(content, Content::Parts(p)
                    if p.iter().any(|p| matches!(p, ContentPart::Thinking { .. })))
            }
        };
        if reasoned {
            ""
        } else {
            EMPTY_FRAME
        }
    }

    /// One argument value as the template prints it (`_format_tool_call_argument`).
    fn tool_argument(&self, v: &Value) -> Result<String> {
        let dumps = |v: &Value| {
            pyjson::dumps(v, &DumpOptions::default()).map_err(|e| refuse(self.name, e.to_string()))
        };
        let lone_surrogate = || {
            refuse(
                self.name,
                "a tool-call argument holds a lone surrogate, which cannot be encoded",
            )
        };
        match (self.family, v) {
            (_, Value::Str(s)) => s.as_str().map(str::to_owned).ok_or_else(lone_surrogate),
            (Family::Qwen3_5, Value::Array(_) | Value::Object(_)) | (Family::Qwen3_8 { .. }, _) => {
                dumps(v)
            }
            (Family::Qwen3_5, scalar) => Ok(py_str(scalar)),
        }
    }

    /// `_format_tool_calls_chunks`: the XML blocks, after a blank line when the message has
    /// visible content.
    fn tool_calls_text(&self, content: &Content, calls: &[ToolCall]) -> Result<String> {
        let visible = match content {
            Content::Text(s) => !py_strip(s).is_empty(),
            Content::Parts(p) => p.iter().any(|p| match p {
                ContentPart::Text { text } => !py_strip(text).is_empty(),
                ContentPart::Image { .. } => true,
                ContentPart::Thinking { .. } => false,
            }),
        };
        let mut out = String::from(if visible { "\n\n" } else { "" });
        for (i, call) in calls.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let f = &call.function;
            let args = if f.arguments.is_empty() {
                Value::Object(Vec::new())
            } else {
                pyjson::loads(&f.arguments).map_err(|e| refuse(self.name, e.to_string()))?
            };
            let Value::Object(args) = args else {
                return Err(refuse(
                    self.name,
                    format!(
                        "'{}' object has no attribute 'items' (the arguments of tool call `{}` \
                         are not a JSON object)",
                        type_name(&args),
                        f.name
                    ),
                ));
            };
            out.push_str("<tool_call>\n<function=");
            out.push_str(&f.name);
            out.push('>');
            for (key, value) in &args {
                out.push_str("\n<parameter=");
                out.push_str(&key.to_string_lossy());
                out.push_str(">\n");
                out.push_str(&self.tool_argument(value)?);
                out.push_str("\n</parameter>");
            }
            out.push_str("\n</function>\n</tool_call>");
        }
        Ok(out)
    }

    /// Qwen3.8's `_normalize_messages`: the reasoning-effort sentence at the start of the
    /// system message (a system message of its own when there is none), an empty system message
    /// dropped. Idempotent, as it must be: the supervised example asks for the generation prompt
    /// of the normalized messages again.
    fn normalize<'a>(&self, messages: &'a [Message]) -> Cow<'a, [Message]> {
        let Family::Qwen3_8 { .. } = self.family else {
            return Cow::Borrowed(messages);
        };
        let effort = self.effort();
        let Some(first) = messages.first().filter(|m| m.role == Role::System) else {
            if effort.is_empty() {
                return Cow::Borrowed(messages);
            }
            let mut system = Message::new(Role::System, effort);
            // `customized` needs `trainable` on every message; every other mode its absence.
            if messages.iter().any(|m| m.trainable.is_some()) {
                system.trainable = Some(false);
            }
            return Cow::Owned(
                std::iter::once(system)
                    .chain(messages.iter().cloned())
                    .collect(),
            );
        };
        let text = match &first.content {
            Content::Text(s) => s.clone(),
            Content::Parts(parts) => {
                if parts.iter().all(|p| matches!(p, ContentPart::Text { .. })) {
                    // The template joins text parts and trims them: as the joined string.
                    first.content.text()
                } else {
                    if effort.is_empty()
                        || matches!(&parts[0], ContentPart::Text { text } if text.starts_with(effort))
                    {
                        return Cow::Borrowed(messages);
                    }
                    let mut with = vec![ContentPart::text(format!("{effort}\n\n"))];
                    with.extend(parts.iter().cloned());
                    let mut m = first.clone();
                    m.content = Content::Parts(with);
                    return Cow::Owned(
                        std::iter::once(m)
                            .chain(messages[1..].iter().cloned())
                            .collect(),
                    );
                }
            }
        };
        let text = py_strip(&text);
        if text.is_empty() && effort.is_empty() {
            return Cow::Owned(messages[1..].to_vec());
        }
        // Already there (or no sentence to add): as it is.
        let has_effort =
            effort.is_empty() || text == effort || text.starts_with(&format!("{effort}\n\n"));
        let text = match (has_effort, text.is_empty()) {
            (true, _) => text.to_owned(),
            (false, true) => effort.to_owned(),
            (false, false) => format!("{effort}\n\n{text}"),
        };
        let mut m = first.clone();
        m.content = Content::Text(text);
        Cow::Owned(
            std::iter::once(m)
                .chain(messages[1..].iter().cloned())
                .collect(),
        )
    }

    /// `_postprocess_parsed_message`: thinking trimmed, the blank line after it dropped, and
    /// XML tool-call blocks (unparsed by Qwen3's JSON reader) parsed.
    fn postprocess(&self, m: &mut Message) -> Result<()> {
        if let Content::Parts(parts) = &mut m.content {
            let mut seen_thinking = false;
            for p in parts.iter_mut() {
                match p {
                    ContentPart::Thinking { thinking } => {
                        *thinking = py_strip(thinking).to_owned();
                        seen_thinking = true;
                    }
                    ContentPart::Text { text } if seen_thinking => {
                        if text.starts_with("\n\n") {
                            text.drain(..2);
                        }
                        break;
                    }
                    _ => {}
                }
            }
        }
        let mut converted = Vec::new();
        let mut remaining = Vec::new();
        for u in m.unparsed_tool_calls.take().unwrap_or_default() {
            if u.error.starts_with(UNTERMINATED) || !u.raw_text.contains("<function=") {
                remaining.push(u);
                continue;
            }
            match self.parse_xml_call(&u.raw_text)? {
                Ok(call) => converted.push(call),
                Err(u) => remaining.push(u),
            }
        }
        if !converted.is_empty() {
            m.tool_calls.get_or_insert_with(Vec::new).extend(converted);
        }
        m.unparsed_tool_calls = (!remaining.is_empty()).then_some(remaining);
        Ok(())
    }

    /// `_parse_qwen3_5_tool_call_xml`: one `<tool_call>` block (the text from `<tool_call>` to
    /// the first `</tool_call>`) in the XML form, or an unparsed call saying what is wrong.
    /// Matches what the cookbook's regexes match: a `<function=NAME>` (NAME without `>` or a
    /// newline) after the opening tag, then `<parameter=KEY>VALUE</parameter>` blocks and only
    /// whitespace between them, then `</function>`; surrounding whitespace is ignored.
    fn parse_xml_call(
        &self,
        raw_text: &str,
    ) -> Result<std::result::Result<ToolCall, UnparsedToolCall>> {
        let unparsed = |error: &str| {
            Ok(Err(UnparsedToolCall {
                raw_text: raw_text.to_owned(),
                error: error.to_owned(),
            }))
        };
        let Some((name, body)) = xml_function(raw_text) else {
            return unparsed("Malformed Qwen3.5 tool call XML");
        };
        let name = py_strip(name);
        if name.is_empty() {
            return unparsed("Missing function name");
        }
        let mut arguments: Vec<(PyStr, Value)> = Vec::new();
        let mut pos = 0;
        for p in XmlParams::new(body) {
            if !py_strip(&body[pos..p.start]).is_empty() {
                return unparsed("Unexpected non-parameter content inside <function> block");
            }
            let key = py_strip(p.name);
            if key.is_empty() {
                return unparsed("Empty parameter name");
            }
            let text = p.value.trim_matches('\n');
            let value = match pyjson::loads(text) {
                Ok(v) => v,
                Err(e) if e.msg().is_some() => Value::Str(text.into()),
                Err(e) => return Err(refuse(self.name, e.to_string())),
            };
            arguments.push((key.into(), value));
            pos = p.end;
        }
        if !py_strip(&body[pos..]).is_empty() {
            return unparsed("Unexpected trailing content inside <function> block");
        }
        let arguments = pyjson::dumps(&Value::object(arguments), &DumpOptions::default())
            .map_err(|e| refuse(self.name, e.to_string()))?;
        Ok(Ok(ToolCall::new(name, arguments, None)))
    }
}

/// `_FUNCTION_BLOCK_RE` on a tool-call block: `^\s*<tool_call>\s*<function=(NAME)>\s*(BODY)\s*
/// </function>\s*</tool_call>\s*$` (dot matches newlines, BODY lazy). Returns (NAME, BODY).
fn xml_function(raw: &str) -> Option<(&str, &str)> {
    let s = raw.trim_start_matches(py_isspace);
    let s = s
        .strip_prefix("<tool_call>")?
        .trim_start_matches(py_isspace);
    let s = s.strip_prefix("<function=")?;
    let name_end = s.find(['>', '\n'])?;
    if name_end == 0 || !s[name_end..].starts_with('>') {
        return None;
    }
    let (name, rest) = (&s[..name_end], &s[name_end + 1..]);
    // The tail: `\s*</function>\s*</tool_call>\s*` up to the end.
    let tail = rest.trim_end_matches(py_isspace);
    let tail = tail
        .strip_suffix("</tool_call>")?
        .trim_end_matches(py_isspace);
    let before_close = tail.strip_suffix("</function>")?;
    // BODY starts after the whitespace following `>` (greedy) and ends before the whitespace
    // preceding `</function>` (lazy); only whitespace between them leaves it empty.
    let body_start = rest.len() - rest.trim_start_matches(py_isspace).len();
    let body_end = before_close.trim_end_matches(py_isspace).len();
    Some((
        name,
        rest.get(body_start..body_end.max(body_start)).unwrap_or(""),
    ))
}

/// A `<parameter=NAME>VALUE</parameter>` block found by [`XmlParams`].
struct XmlParam<'a> {
    start: usize,
    end: usize,
    name: &'a str,
    value: &'a str,
}

/// `_PARAM_BLOCK_RE.finditer(body)`: `<parameter=(NAME)>\s*(VALUE)\s*</parameter>`, NAME without
/// `>` or a newline, VALUE lazy (up to the first `</parameter>`).
struct XmlParams<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> XmlParams<'a> {
    fn new(s: &'a str) -> Self {
        XmlParams { s, pos: 0 }
    }
}

impl<'a> Iterator for XmlParams<'a> {
    type Item = XmlParam<'a>;

    fn next(&mut self) -> Option<XmlParam<'a>> {
        const OPEN: &str = "<parameter=";
        const CLOSE: &str = "</parameter>";
        let s = self.s;
        while let Some(found) = s[self.pos..].find(OPEN) {
            let start = self.pos + found;
            // A failed match at `start` resumes the search one character later.
            self.pos = start + 1;
            let after = &s[start + OPEN.len()..];
            let Some(name_end) = after.find(['>', '\n']) else {
                continue;
            };
            if name_end == 0 || !after[name_end..].starts_with('>') {
                continue;
            }
            let value_from = start + OPEN.len() + name_end + 1;
            let Some(close) = s[value_from..].find(CLOSE) else {
                continue;
            };
            let close = value_from + close;
            let inner = &s[value_from..close];
            let lead = inner.len() - inner.trim_start_matches(py_isspace).len();
            let value_end = inner.trim_end_matches(py_isspace).len().max(lead);
            let end = close + CLOSE.len();
            self.pos = end;
            return Some(XmlParam {
                start,
                end,
                name: &after[..name_end],
                value: &inner[lead..value_end],
            });
        }
        self.pos = s.len();
        None
    }
}

impl Template for Qwen3_5 {
    fn tok(&self) -> &Tokenizer {
        &self.tok
    }
    fn renderer_name(&self) -> &str {
        self.name
    }
    fn class_name(&self) -> &'static str {
        match (self.family, self.disable_thinking) {
            (Family::Qwen3_5, false) => "Qwen3_5Renderer",
            (Family::Qwen3_5, true) => "Qwen3_5DisableThinkingRenderer",
            (Family::Qwen3_8 { .. }, false) => "Qwen3_8Renderer",
            (Family::Qwen3_8 { .. }, true) => "Qwen3_8DisableThinkingRenderer",
        }
    }
    fn disables_thinking(&self) -> bool {
        self.disable_thinking
    }
    fn thinks_in_tags(&self) -> bool {
        true
    }
    /// The prompt ends with `<think>\n` (closed empty with thinking disabled).
    fn opens_thinking(&self) -> bool {
        !self.disable_thinking
    }

    fn render_message(&self, m: &Message, ctx: &RenderContext) -> Result<RenderedMessage> {
        refuse_images(self.name, m)?;
        let content = trim_content(&m.content);
        let is_tool = m.role == Role::Tool;
        // A run of tool results shares one `user` turn: the next result continues it with a
        // newline, and only the last one closes it.
        let continues_tools = is_tool && ctx.prev.is_some_and(|p| p.role == Role::Tool);
        let more_tools = is_tool && ctx.next.is_some_and(|n| n.role == Role::Tool);
        let mut header = if continues_tools {
            String::from("\n")
        } else {
            let nl = if ctx.idx > 0 { "\n" } else { "" };
            let mut h = format!("{nl}<|im_start|>{}\n", qwen_role(m.role));
            if m.role == Role::Assistant {
                h.push_str(self.assistant_header_suffix(&content, ctx));
            }
            h
        };
        let mut out = String::new();
        if is_tool {
            out.push_str("<tool_response>\n");
        }
        let strip = self.strips_thinking_for(m, ctx);
        match &*content {
            Content::Text(s) => out.push_str(s),
            Content::Parts(parts) => {
                for p in parts {
                    match p {
                        ContentPart::Text { text } => out.push_str(text),
                        ContentPart::Thinking { thinking } if !strip => {
                            out.push_str("<think>\n");
                            out.push_str(thinking);
                            out.push_str("\n</think>\n\n");
                        }
                        _ => {}
                    }
                }
            }
        }
        if is_tool {
            out.push_str("\n</tool_response>");
        }
        // A present but empty list still writes the separator.
        if let Some(calls) = &m.tool_calls {
            out.push_str(&self.tool_calls_text(&content, calls)?);
        }
        if !more_tools {
            out.push_str("<|im_end|>");
        }
        let mut output = Vec::with_capacity(2);
        // The turn being produced: the part of its header the generation prompt writes is the
        // header, the rest (the empty block's close) is output.
        if m.role == Role::Assistant && ctx.is_last {
            let prompt_end = self.generation_suffix_str(Role::Assistant, ctx.idx);
            if let Some(rest) = header.strip_prefix(prompt_end.as_str()) {
                if !rest.is_empty() {
                    output.push(self.tok.encode(rest, false)?);
                }
                header = prompt_end;
            }
        }
        output.push(self.tok.encode(&out, false)?);
        Ok(RenderedMessage {
            header: Some(self.tok.encode(&header, false)?),
            output,
            stop_overlap: None,
        })
    }

    fn generation_suffix(&self, role: Role, ctx: &RenderContext) -> Result<Vec<u32>> {
        self.tok
            .encode(&self.generation_suffix_str(role, ctx.idx), false)
    }

    fn generation_prompt(
        &self,
        messages: &[Message],
        role: Role,
        prefill: Option<&str>,
    ) -> Result<ModelInput> {
        base::generation_prompt(self, &self.normalize(messages), role, prefill)
    }

    fn supervised_example(
        &self,
        messages: &[Message],
        train_on: TrainOnWhat,
    ) -> Result<(ModelInput, Vec<f32>)> {
        base::supervised_example(self, &self.normalize(messages), train_on)
    }

    fn stop_sequences(&self) -> Result<StopSequences> {
        Ok(StopSequences::Tokens(vec![self.im_end]))
    }

    fn parse_response(&self, response: &[u32]) -> Result<(Message, ParseTermination)> {
        // The reply continues the prompt's `<think>\n` (`_normalize_response_tokens`).
        let response = restore_think_prefill(response, &self.think_prefix, self.think_close);
        let (mut m, termination) = parse_reply(self.name, &self.tok, self.im_end, &response, true)?;
        if termination.is_clean() {
            self.postprocess(&mut m)?;
        }
        Ok((m, termination))
    }

    fn tool_prefix(&self, tools: &[ToolSpec], system_prompt: &str) -> Result<Vec<Message>> {
        let mut content = String::new();
        if !tools.is_empty() {
            content.push_str("# Tools\n\nYou have access to the following functions:\n\n<tools>");
            for tool in tools {
                let spec = Value::from_serde(&serde_json::Value::Object(tool.as_json().clone()));
                content.push('\n');
                content.push_str(
                    &pyjson::dumps(&spec, &DumpOptions::default())
                        .map_err(|e| refuse(self.name, e.to_string()))?,
                );
            }
            content.push_str(TOOLS_INSTRUCTIONS);
            if !system_prompt.is_empty() {
                content.push_str("\n\n");
            }
        }
        content.push_str(system_prompt);
        Ok(vec![Message::new(Role::System, content)])
    }
}

/// What follows the tool list in the system message.
const TOOLS_INSTRUCTIONS: &str = "\n</tools>\n\n\
If you choose to call a function ONLY reply in the following format with NO suffix:\n\n\
<tool_call>\n<function=example_function_name>\n<parameter=example_parameter_1>\nvalue_1\n\
</parameter>\n<parameter=example_parameter_2>\nThis is the value for the second parameter\n\
that can span\nmultiple lines\n</parameter>\n</function>\n</tool_call>\n\n<IMPORTANT>\n\
Reminder:\n- Function calls MUST follow the specified format: an inner <function=...></function> \
block must be nested within <tool_call></tool_call> XML tags\n- Required parameters MUST be \
specified\n- You may provide optional reasoning for your function call in natural language \
BEFORE the function call, but NOT after\n- If there is no function call available, answer the \
question like normal with your current knowledge and do not tell the user about function \
calls\n</IMPORTANT>";

template_renderer!(Qwen3_5);

#[cfg(test)]
mod tests {
    use super::*;

    fn params(body: &str) -> Vec<(&str, &str)> {
        XmlParams::new(body).map(|p| (p.name, p.value)).collect()
    }

    #[test]
    fn function_blocks_are_matched_as_the_cookbook_regex_matches_them() {
        let call =
            "<tool_call>\n<function=f>\n<parameter=a>\n1\n</parameter>\n</function>\n</tool_call>";
        assert_eq!(
            xml_function(call),
            Some(("f", "<parameter=a>\n1\n</parameter>"))
        );
        // Whitespace around every tag is free; the body is what lies between.
        assert_eq!(
            xml_function(" <tool_call> <function=g>  x  </function> </tool_call> "),
            Some(("g", "x"))
        );
        // An empty body, with or without whitespace.
        assert_eq!(
            xml_function("<tool_call><function=g></function></tool_call>"),
            Some(("g", ""))
        );
        assert_eq!(
            xml_function("<tool_call><function=g>\n \n</function></tool_call>"),
            Some(("g", ""))
        );
        // The name stops at `>` and may not hold a newline; the closing tags are required.
        assert_eq!(
            xml_function("<tool_call><function=a\nb></function></tool_call>"),
            None
        );
        assert_eq!(
            xml_function("<tool_call><function=></function></tool_call>"),
            None
        );
        assert_eq!(xml_function("<tool_call><function=f>x</tool_call>"), None);
        assert_eq!(
            xml_function("<tool_call>x<function=f></function></tool_call>"),
            None
        );
        // The last `</function>` closes the block (the lazy body reaches the tail).
        assert_eq!(
            xml_function("<tool_call><function=f>a</function>b</function></tool_call>"),
            Some(("f", "a</function>b"))
        );
    }

    #[test]
    fn parameters_are_found_as_finditer_finds_them() {
        assert_eq!(
            params("<parameter=a>\n 1 \n</parameter>\n<parameter=b>x</parameter>"),
            [("a", "1"), ("b", "x")]
        );
        // The value ends at the first closing tag; an opening tag without one is not a match,
        // and neither is a name with a newline — the search goes on after it.
        assert_eq!(
            params("<parameter=a>1<parameter=b>2</parameter>"),
            [("a", "1<parameter=b>2")]
        );
        assert_eq!(
            params("<parameter=a\n>1</parameter><parameter=c>3</parameter>"),
            [("c", "3")]
        );
        assert_eq!(params("<parameter=a>1"), []);
        assert_eq!(params("<parameter=a>  </parameter>"), [("a", "")]);
    }

    #[test]
    fn content_is_trimmed_like_the_template_trims_it() {
        assert_eq!(
            *trim_content(&Content::Text("\u{3000} x \n".into())),
            Content::Text("x".into())
        );
        let parts = Content::Parts(vec![
            ContentPart::thinking("  kept  "),
            ContentPart::text("  "),
            ContentPart::text(" a "),
            ContentPart::text(" b "),
            ContentPart::text("\n"),
        ]);
        assert_eq!(
            *trim_content(&parts),
            Content::Parts(vec![
                ContentPart::thinking("  kept  "),
                ContentPart::text(""),
                ContentPart::text("a "),
                ContentPart::text(" b"),
                ContentPart::text(""),
            ])
        );
    }

    /// The prompt ends with `<think>\n`: a reply streams as reasoning until `</think>`, then as
    /// text, and ends with the message `parse_response` gives; a reply that opens its own
    /// block, or a disable-thinking reply, streams as written.
    #[test]
    fn streaming_starts_inside_the_prompts_think_block() {
        use crate::chat::StreamDelta;
        let tok = crate::testing::fixture_tokenizer("qwen3_5");
        let stream = |name: &str, text: &str| {
            let r = crate::chat::renderer(name, tok.clone()).unwrap();
            let mut ids = tok.encode(text, false).unwrap();
            ids.push(tok.token_to_id("<|im_end|>").unwrap());
            let mut p = r.streaming_parser().unwrap();
            let mut deltas = Vec::new();
            for id in &ids {
                deltas.extend(p.feed(*id).unwrap());
            }
            deltas.extend(p.finish().unwrap());
            let (thinking, text): (String, String) =
                deltas.iter().fold(Default::default(), |(mut t, mut x), d| {
                    match d {
                        StreamDelta::Thinking { thinking, .. } => t.push_str(thinking),
                        StreamDelta::Text { text, .. } => x.push_str(text),
                        _ => {}
                    }
                    (t, x)
                });
            let Some(StreamDelta::Message { message, .. }) = deltas.last() else {
                panic!("no final message");
            };
            assert!(message.same_as(&r.parse_response(&ids).unwrap().0));
            (thinking, text, message.content.clone())
        };
        let (thinking, text, content) = stream("qwen3_5", "why\n</think>\n\nBecause.");
        assert_eq!(
            (thinking.as_str(), text.as_str()),
            ("why\n", "\n\nBecause.")
        );
        assert_eq!(
            content,
            Content::Parts(vec![
                ContentPart::thinking("why"),
                ContentPart::text("Because.")
            ])
        );
        let (thinking, text, _) = stream("qwen3_8_low_reasoning", "<think>\nhm\n</think>\n\nOk");
        assert_eq!((thinking.as_str(), text.as_str()), ("\nhm\n", "\n\nOk"));
        let (thinking, text, _) = stream("qwen3_5_disable_thinking", "Plain </think> answer");
        assert_eq!(
            (thinking.as_str(), text.as_str()),
            ("", "Plain </think> answer")
        );
    }

    #[test]
    fn scalar_arguments_print_as_python_str() {
        let v = |s: &str| pyjson::loads(s).unwrap();
        assert_eq!(py_str(&v("true")), "True");
        assert_eq!(py_str(&v("null")), "None");
        assert_eq!(py_str(&v("1e16")), "1e+16");
        assert_eq!(py_str(&v("0.5")), "0.5");
    }
}
