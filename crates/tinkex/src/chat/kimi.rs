//! Kimi K2 / K2.5 / K2.6: `<|im_user|>user<|im_middle|>…<|im_end|>` (tinker-cookbook 0.6.1
//! `renderers/kimi_k2.py`, `kimi_k25.py`, `kimi_k26.py`), in the cookbook's four classes:
//!
//! * `kimi_k2` (`KimiK2Renderer`, Kimi-K2-Thinking): the generation prompt ends with the
//!   assistant header; tools are declared as sorted compact JSON.
//! * `kimi_k25`, `kimi_k26` (`KimiK25Renderer`): the prompt prefills `<think>`; tools are declared
//!   in TypeScript style ([`super::kimi_ts`]); a reply that closes the block gets the prefilled
//!   `<think>` back before it is parsed.
//! * `kimi_k25_disable_thinking`, `kimi_k26_disable_thinking` (`KimiK25DisableThinkingRenderer`):
//!   the prompt prefills `<think></think>`.
//! * `kimi_k26_preserve_thinking` (`KimiK26PreserveThinkingRenderer`): `kimi_k26` keeping the
//!   reasoning of every assistant message in history.
//!
//! Every conversation gets the default system prompt when it has none (after a leading
//! `tool_declare` message). Assistant messages write their reasoning as `<think>…</think>` (empty
//! in history, unless preserved) and their tool calls as
//! `<|tool_calls_section_begin|><|tool_call_begin|>functions.name:0<|tool_call_argument_begin|>{…}<|tool_call_end|><|tool_calls_section_end|>`;
//! tool results are system-style messages headed `## Return of <id>`. The turn being produced
//! runs from the last assistant message without tool calls, so a tool exchange keeps its
//! reasoning.

use std::sync::Arc;

use crate::error::Result;
use crate::tokenizer::Tokenizer;
use crate::types::ModelInput;

use super::base::{
    self, detect_unterminated_tool_block, invalid_json_arguments, parse_response_for_stop_token,
    parse_think_blocks, refuse, refuse_images, restore_think_prefill, single_token, RenderContext,
    RenderedMessage, Template,
};
use super::message::{
    Content, ContentPart, Message, ParseTermination, Role, StopSequences, ToolCall, ToolSpec,
    TrainOnWhat, UnparsedToolCall,
};
use super::pyjson::{self, PyStr, Value};
use super::text::{py_is_digit, py_isspace, py_strip};
use super::{kimi_ts, template_renderer, Renderer, RendererOptions};

const IM_END: &str = "<|im_end|>";
const USER_HEADER: &str = "<|im_user|>user<|im_middle|>";
const ASSISTANT_HEADER: &str = "<|im_assistant|>assistant<|im_middle|>";
const THINK_OPEN: &str = "<think>";
const THINK_CLOSE: &str = "</think>";
const SECTION_BEGIN: &str = "<|tool_calls_section_begin|>";
const SECTION_END: &str = "<|tool_calls_section_end|>";
/// The singular spelling of the section markers, which the parser also accepts.
const SECTION_BEGIN_ALT: &str = "<|tool_call_section_begin|>";
const SECTION_END_ALT: &str = "<|tool_call_section_end|>";
const CALL_BEGIN: &str = "<|tool_call_begin|>";
const CALL_ARGUMENT_BEGIN: &str = "<|tool_call_argument_begin|>";
const CALL_END: &str = "<|tool_call_end|>";

/// `KimiK2Renderer.DEFAULT_SYSTEM_PROMPT`.
const DEFAULT_SYSTEM_PROMPT: &str = "You are Kimi, an AI assistant created by Moonshot AI.";

/// Which cookbook class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    K2,
    K25,
    K25DisableThinking,
    K26PreserveThinking,
}

pub(crate) struct Kimi {
    name: &'static str,
    tok: Arc<Tokenizer>,
    class: Class,
    /// `strip_thinking_from_history` (false only for `kimi_k26_preserve_thinking`).
    strip_thinking: bool,
    im_end: u32,
    think_open: u32,
    think_close: u32,
    /// The encoded headers of user and assistant messages, the same for every message: encoded
    /// once rather than per message.
    user_header: Vec<u32>,
    assistant_header: Vec<u32>,
}

/// The six Kimi registry names, as `get_renderer` builds them.
pub(crate) fn build(
    name: &'static str,
    tok: Arc<Tokenizer>,
    _: &RendererOptions,
) -> Result<Arc<dyn Renderer>> {
    let class = match name {
        "kimi_k2" => Class::K2,
        "kimi_k25_disable_thinking" | "kimi_k26_disable_thinking" => Class::K25DisableThinking,
        "kimi_k26_preserve_thinking" => Class::K26PreserveThinking,
        _ => Class::K25,
    };
    Ok(Arc::new(Kimi {
        name,
        class,
        strip_thinking: class != Class::K26PreserveThinking,
        im_end: single_token(name, &tok, IM_END)?,
        think_open: single_token(name, &tok, THINK_OPEN)?,
        think_close: single_token(name, &tok, THINK_CLOSE)?,
        user_header: tok.encode(USER_HEADER, false)?,
        assistant_header: tok.encode(ASSISTANT_HEADER, false)?,
        tok,
    }))
}

template_renderer!(Kimi);

impl Kimi {
    /// K2.5 and its subclasses (TypeScript tool declarations, a `<think>` prefill).
    fn is_k25(&self) -> bool {
        self.class != Class::K2
    }

    /// `_ensure_system_message`: the default system message first when the conversation has
    /// none there — after a leading `tool_declare` message, else before everything.
    fn with_system<'a>(&self, messages: &'a [Message]) -> std::borrow::Cow<'a, [Message]> {
        let system = || Message::new(Role::System, DEFAULT_SYSTEM_PROMPT);
        match messages {
            [] => vec![system()].into(),
            [first, rest @ ..] if first.role == Role::ToolDeclare => {
                if rest.first().is_some_and(|m| m.role == Role::System) {
                    messages.into()
                } else {
                    let mut v = Vec::with_capacity(messages.len() + 1);
                    v.push(first.clone());
                    v.push(system());
                    v.extend_from_slice(rest);
                    v.into()
                }
            }
            [first, ..] if first.role != Role::System => {
                let mut v = Vec::with_capacity(messages.len() + 1);
                v.push(system());
                v.extend_from_slice(messages);
                v.into()
            }
            _ => messages.into(),
        }
    }

    /// The header text of `m` (`<|im_…|>role<|im_middle|>`, plus the return line of a tool
    /// result).
    fn header(m: &Message) -> String {
        match m.role {
            Role::User => USER_HEADER.to_owned(),
            Role::Assistant => ASSISTANT_HEADER.to_owned(),
            Role::Tool => {
                // The function's name when given (else `tool`), and the call it answers.
                let name = m
                    .name
                    .as_deref()
                    .filter(|n| !n.is_empty())
                    .unwrap_or("tool");
                let id = m.tool_call_id.as_deref().unwrap_or("");
                format!("<|im_system|>{name}<|im_middle|>## Return of {id}\n")
            }
            // system, tool_declare and any other role: system style, the role as its name.
            other => format!("<|im_system|>{other}<|im_middle|>"),
        }
    }

    /// The output of a non-assistant message: its text then `<|im_end|>` in one chunk, or (K2.5)
    /// each text part encoded on its own and `<|im_end|>` as a last chunk.
    fn encode_other(&self, content: &Content) -> Result<Vec<Vec<u32>>> {
        match content {
            Content::Text(s) => Ok(vec![self.tok.encode(&[s, IM_END].concat(), false)?]),
            Content::Parts(parts) => match parts.as_slice() {
                [ContentPart::Text { text }] => {
                    Ok(vec![self.tok.encode(&[text, IM_END].concat(), false)?])
                }
                _ if !self.is_k25() => Err(refuse(
                    self.name,
                    "Multipart/Image content encoding is not supported for Kimi K2 renderer",
                )),
                _ => {
                    let mut chunks = Vec::with_capacity(parts.len() + 1);
                    for p in parts {
                        match p {
                            ContentPart::Text { text } => {
                                chunks.push(self.tok.encode(text, false)?)
                            }
                            other => {
                                return Err(refuse(
                                    self.name,
                                    format!("Unsupported content type: {}", other.kind()),
                                ))
                            }
                        }
                    }
                    chunks.push(vec![self.im_end]);
                    Ok(chunks)
                }
            },
        }
    }
}

/// `_split_tool_calls_section`: the text before the first complete tool-calls section (either
/// spelling, whichever starts first) and the section's inside; everything after the section is
/// dropped.
fn split_tool_calls_section(content: &str) -> (&str, Option<&str>) {
    // A spelling's earliest opening is the only one that can match: if no closing follows it,
    // none follows a later one either.
    let complete = |begin: &str, end: &str| {
        let start = content.find(begin)?;
        let inner = start + begin.len();
        let close = content[inner..].find(end)?;
        Some((start, &content[inner..inner + close]))
    };
    match (
        complete(SECTION_BEGIN, SECTION_END),
        complete(SECTION_BEGIN_ALT, SECTION_END_ALT),
    ) {
        (Some(a), Some(b)) => {
            let (start, section) = if a.0 <= b.0 { a } else { b };
            (&content[..start], Some(section))
        }
        (Some((start, section)), None) | (None, Some((start, section))) => {
            (&content[..start], Some(section))
        }
        (None, None) => (content, None),
    }
}

/// One match of `_TOOL_CALL_RE`
/// (`<|tool_call_begin|>\s*([^<]+:\d+)\s*<|tool_call_argument_begin|>\s*(.*?)\s*<|tool_call_end|>`,
/// DOTALL) starting at `start` (where `<|tool_call_begin|>` is): the id (group 1), the
/// arguments (group 2) and where the match ends.
fn match_tool_call(section: &str, start: usize) -> Option<(&str, &str, usize)> {
    let after_begin = start + CALL_BEGIN.len();
    // `[^<]+` and the whitespace around it cannot cross a `<`, so the id is what lies before the
    // next `<`, which must open the argument marker.
    let lt = section[after_begin..].find('<')? + after_begin;
    if !section[lt..].starts_with(CALL_ARGUMENT_BEGIN) {
        return None;
    }
    let head = &section[after_begin..lt];
    // The id ends with `:` and digits, followed only by whitespace.
    let body = head.trim_end_matches(py_isspace);
    let digits = body.trim_end_matches(py_is_digit);
    if digits.len() == body.len() || !digits.ends_with(':') {
        return None;
    }
    let colon = digits.len() - 1;
    // `\s*` before the id is greedy but leaves `[^<]+` at least one character.
    let leading = head.len() - head.trim_start_matches(py_isspace).len();
    let id_start = if leading < colon {
        leading
    } else {
        head[..colon].char_indices().last()?.0
    };
    let id = &head[id_start..body.len()];
    // The arguments: up to the first `<|tool_call_end|>`, whitespace around them left out.
    let args_start = lt + CALL_ARGUMENT_BEGIN.len();
    let end = section[args_start..].find(CALL_END)? + args_start;
    let args = section[args_start..end].trim_matches(py_isspace);
    Some((id, args, end + CALL_END.len()))
}

/// `_extract_tool_name`: `functions.get_weather:0` → `get_weather`.
fn tool_name(id: &str) -> &str {
    let name = id.split_once(':').map_or(id, |(n, _)| n);
    name.split_once('.').map_or(name, |(_, n)| n)
}

impl Kimi {
    /// `_parse_tool_calls_section`: every call of the section; arguments that are not JSON make
    /// an unparsed call.
    fn parse_tool_calls(&self, section: &str) -> Result<(Vec<ToolCall>, Vec<UnparsedToolCall>)> {
        let mut calls = Vec::new();
        let mut unparsed = Vec::new();
        let mut pos = 0;
        while let Some(start) = section[pos..].find(CALL_BEGIN).map(|i| pos + i) {
            let Some((id, args, end)) = match_tool_call(section, start) else {
                // No match here: the search goes on from the next character (`<` is ASCII).
                pos = start + 1;
                continue;
            };
            let id = py_strip(id);
            let args = py_strip(args);
            match invalid_json_arguments(self.name, args, &section[start..end])? {
                None => calls.push(ToolCall::new(tool_name(id), args, Some(id.to_owned()))),
                Some(u) => unparsed.push(u),
            }
            pos = end;
        }
        Ok((calls, unparsed))
    }

    /// `parse_response` after the stop token was found: tool calls out of the first section,
    /// dangling tool blocks as unparsed calls, think blocks into parts.
    fn parse_content(&self, content: &str) -> Result<Message> {
        let (text, section) = split_tool_calls_section(content);
        let (calls, mut unparsed) = match section {
            Some(s) => self.parse_tool_calls(s)?,
            None => (Vec::new(), Vec::new()),
        };
        if let Some(dangling) = [
            (SECTION_BEGIN, SECTION_END),
            (SECTION_BEGIN_ALT, SECTION_END_ALT),
            (CALL_BEGIN, CALL_END),
        ]
        .iter()
        .find_map(|(open, close)| detect_unterminated_tool_block(content, open, close))
        {
            unparsed.push(dangling);
        }
        let mut message = Message::new(
            Role::Assistant,
            match parse_think_blocks(text) {
                Some(parts) => Content::Parts(parts),
                None => Content::Text(text.to_owned()),
            },
        );
        message.tool_calls = (!calls.is_empty()).then_some(calls);
        message.unparsed_tool_calls = (!unparsed.is_empty()).then_some(unparsed);
        Ok(message)
    }
}

impl Template for Kimi {
    fn tok(&self) -> &Tokenizer {
        &self.tok
    }
    fn renderer_name(&self) -> &str {
        self.name
    }
    fn class_name(&self) -> &'static str {
        match self.class {
            Class::K2 => "KimiK2Renderer",
            Class::K25 => "KimiK25Renderer",
            Class::K25DisableThinking => "KimiK25DisableThinkingRenderer",
            Class::K26PreserveThinking => "KimiK26PreserveThinkingRenderer",
        }
    }

    fn thinks_in_tags(&self) -> bool {
        true
    }
    /// The thinking K2.5 prompts end inside the `<think>` they prefill.
    fn opens_thinking(&self) -> bool {
        matches!(self.class, Class::K25 | Class::K26PreserveThinking)
    }
    fn disables_thinking(&self) -> bool {
        self.class == Class::K25DisableThinking
    }

    fn render_message(&self, m: &Message, ctx: &RenderContext) -> Result<RenderedMessage> {
        refuse_images(self.name, m)?;
        let header = match m.role {
            Role::User => self.user_header.clone(),
            Role::Assistant => self.assistant_header.clone(),
            _ => self.tok.encode(&Self::header(m), false)?,
        };
        if m.role != Role::Assistant {
            return Ok(RenderedMessage {
                header: Some(header),
                output: self.encode_other(&m.content)?,
                stop_overlap: None,
            });
        }
        let mut thinking = String::new();
        let mut text = String::new();
        match &m.content {
            Content::Text(s) => text.push_str(s),
            Content::Parts(parts) => {
                for p in parts {
                    match p {
                        ContentPart::Thinking { thinking: t } => thinking.push_str(t),
                        ContentPart::Text { text: t } => text.push_str(t),
                        ContentPart::Image { .. } => {}
                    }
                }
            }
        }
        let mut out = String::with_capacity(thinking.len() + text.len() + 32);
        out.push_str(THINK_OPEN);
        // The turn being produced keeps its reasoning; history keeps an empty block unless
        // reasoning is preserved.
        if (ctx.in_last_assistant_turn || !self.strip_thinking) && !thinking.is_empty() {
            out.push_str(&thinking);
        }
        out.push_str(THINK_CLOSE);
        out.push_str(&text);
        if let Some(calls) = m.tool_calls.as_deref().filter(|c| !c.is_empty()) {
            out.push_str(SECTION_BEGIN);
            for (idx, c) in calls.iter().enumerate() {
                out.push_str(CALL_BEGIN);
                match c.id.as_deref().filter(|id| !id.is_empty()) {
                    Some(id) => out.push_str(id),
                    None => {
                        out.push_str("functions.");
                        out.push_str(&c.function.name);
                        out.push(':');
                        out.push_str(&idx.to_string());
                    }
                }
                out.push_str(CALL_ARGUMENT_BEGIN);
                out.push_str(&c.function.arguments);
                out.push_str(CALL_END);
            }
            out.push_str(SECTION_END);
        }
        out.push_str(IM_END);
        Ok(RenderedMessage::new(header, self.tok.encode(&out, false)?))
    }

    /// With the default system message when there is none; K2.5 prefills `<think>` (thinking)
    /// or `<think></think>` (thinking disabled) before the caller's prefill.
    fn generation_prompt(
        &self,
        messages: &[Message],
        role: Role,
        prefill: Option<&str>,
    ) -> Result<ModelInput> {
        let messages = self.with_system(messages);
        let think = match self.class {
            Class::K2 => return base::generation_prompt(self, &messages, role, prefill),
            Class::K25DisableThinking => "<think></think>",
            Class::K25 | Class::K26PreserveThinking => THINK_OPEN,
        };
        let prefill = [think, prefill.unwrap_or("")].concat();
        base::generation_prompt(self, &messages, role, Some(&prefill))
    }

    /// With the default system message when there is none.
    fn supervised_example(
        &self,
        messages: &[Message],
        train_on: TrainOnWhat,
    ) -> Result<(ModelInput, Vec<f32>)> {
        base::supervised_example(self, &self.with_system(messages), train_on)
    }

    /// `KimiK2Renderer.build_supervised_examples`: the last message or turn as one example;
    /// otherwise one example per user turn (the conversation up to the next user message), each
    /// trained as the whole turn for `all_assistant_messages`, else with `train_on` itself.
    fn supervised_examples(
        &self,
        messages: &[Message],
        train_on: TrainOnWhat,
    ) -> Result<Vec<(ModelInput, Vec<f32>)>> {
        if matches!(
            train_on,
            TrainOnWhat::LastAssistantMessage | TrainOnWhat::LastAssistantTurn
        ) {
            return Ok(vec![Template::supervised_example(
                self, messages, train_on,
            )?]);
        }
        let each = if train_on == TrainOnWhat::AllAssistantMessages {
            TrainOnWhat::LastAssistantTurn
        } else {
            train_on
        };
        messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.role == Role::User)
            .map(|(i, _)| i)
            .skip(1)
            .chain([messages.len()])
            .map(|end| Template::supervised_example(self, &messages[..end], each))
            .collect()
    }

    /// After the last assistant message that did not call a tool (the final message itself is
    /// not scanned by the callers that pass the history).
    fn last_assistant_turn_start_index(&self, messages: &[Message]) -> usize {
        messages
            .iter()
            .rposition(|m| {
                m.role == Role::Assistant && m.tool_calls.as_ref().is_none_or(|c| c.is_empty())
            })
            .map_or(0, |i| i + 1)
    }

    fn stop_sequences(&self) -> Result<StopSequences> {
        Ok(StopSequences::Tokens(vec![self.im_end]))
    }

    fn parse_response(&self, response: &[u32]) -> Result<(Message, ParseTermination)> {
        // K2.5's `_normalize_response_tokens`: the prefilled `<think>` is put back when the reply
        // closes a think block it did not open.
        let response = if self.is_k25() {
            restore_think_prefill(response, &[self.think_open], self.think_close)
        } else {
            response.into()
        };
        let (content, termination) =
            parse_response_for_stop_token(self.name, &self.tok, &response, self.im_end)?;
        if !termination.is_clean() {
            return Ok((Message::new(Role::Assistant, content), termination));
        }
        Ok((self.parse_content(&content)?, termination))
    }

    /// `create_conversation_prefix_with_tools`: a `tool_declare` message (when there are tools),
    /// then the system message (the default one when `system_prompt` is empty). K2 declares the
    /// tools as `json.dumps(…, separators=(",", ":"), sort_keys=True)`, K2.5 in TypeScript style.
    fn tool_prefix(&self, tools: &[ToolSpec], system_prompt: &str) -> Result<Vec<Message>> {
        let mut messages = Vec::with_capacity(2);
        if !tools.is_empty() {
            let payload = tools
                .iter()
                .map(|t| {
                    Value::object([
                        (PyStr::from("type"), Value::Str("function".into())),
                        (
                            PyStr::from("function"),
                            Value::Object(
                                t.as_json()
                                    .iter()
                                    .map(|(k, v)| (k.as_str().into(), Value::from_serde(v)))
                                    .collect(),
                            ),
                        ),
                    ])
                })
                .collect::<Vec<_>>();
            let declaration = if self.is_k25() {
                kimi_ts::encode_tools_to_typescript_style(&payload)
                    .map_err(|e| refuse(self.name, e))?
            } else {
                let opts = pyjson::DumpOptions {
                    item_sep: ",",
                    key_sep: ":",
                    sort_keys: true,
                    ..Default::default()
                };
                pyjson::dumps(&Value::Array(payload), &opts)
                    .map_err(|e| refuse(self.name, e.to_string()))?
            };
            messages.push(Message::new(Role::ToolDeclare, declaration));
        }
        let system = if system_prompt.is_empty() {
            DEFAULT_SYSTEM_PROMPT
        } else {
            system_prompt
        };
        messages.push(Message::new(Role::System, system));
        Ok(messages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::TrainOnWhat;

    fn renderer(name: &str) -> Arc<dyn Renderer> {
        let model = if name == "kimi_k2" {
            "moonshotai/Kimi-K2-Thinking"
        } else {
            "moonshotai/Kimi-K2.6"
        };
        crate::chat::renderer(name, crate::testing::tokenizer(model)).unwrap()
    }

    fn text(r: &dyn Renderer, ids: &[u32]) -> String {
        r.tokenizer().decode(ids, false).unwrap()
    }

    #[test]
    fn sections_either_spelling_whichever_completes_first() {
        assert_eq!(split_tool_calls_section("plain"), ("plain", None));
        assert_eq!(
            split_tool_calls_section("a<|tool_calls_section_begin|>x<|tool_calls_section_end|>b"),
            ("a", Some("x"))
        );
        // An opening without its closing is skipped; the other spelling then matches.
        assert_eq!(
            split_tool_calls_section(
                "a<|tool_calls_section_begin|>x<|tool_call_section_begin|>y<|tool_call_section_end|>"
            ),
            ("a<|tool_calls_section_begin|>x", Some("y"))
        );
        // Two complete sections: the one that starts first.
        assert_eq!(
            split_tool_calls_section(
                "<|tool_call_section_begin|>1<|tool_call_section_end|><|tool_calls_section_begin|>2<|tool_calls_section_end|>"
            ),
            ("", Some("1"))
        );
    }

    #[test]
    fn tool_call_ids_as_the_cookbooks_regex_reads_them() {
        let call = |head: &str| {
            let s = format!("{CALL_BEGIN}{head}{CALL_ARGUMENT_BEGIN} {{}} {CALL_END}");
            match_tool_call(&s, 0).map(|(id, args, end)| {
                assert_eq!(end, s.len());
                (py_strip(id).to_owned(), args.to_owned())
            })
        };
        assert_eq!(
            call(" functions.get:0 "),
            Some(("functions.get:0".into(), "{}".into()))
        );
        // Unicode digits are `\d`; whitespace alone before the colon leaves one character.
        assert_eq!(call("f:\u{663}").map(|c| c.0), Some("f:\u{663}".into()));
        assert_eq!(call("\u{3000}:1").map(|c| c.0), Some(":1".into()));
        assert_eq!(call("f:1\u{3000}").map(|c| c.0), Some("f:1".into()));
        for bad in ["functions.f", ":0", "f:0x", "f:-", "x<y:0"] {
            assert_eq!(call(bad), None, "{bad:?}");
        }
        assert_eq!(tool_name("functions.get_weather:0"), "get_weather");
        assert_eq!(tool_name("a.b.c:7"), "b.c");
        assert_eq!(tool_name("f::3"), "f");
    }

    #[test]
    fn default_system_prompt_history_and_prefills() {
        let conv = [
            Message::new(Role::User, "Hi"),
            Message::new(
                Role::Assistant,
                Content::Parts(vec![ContentPart::thinking("t"), ContentPart::text("Hello")]),
            ),
            Message::new(Role::User, "Again"),
        ];
        let k2 = renderer("kimi_k2");
        let prompt = text(
            &*k2,
            &k2.generation_prompt(&conv, Role::Assistant, None)
                .unwrap()
                .to_ints()
                .unwrap(),
        );
        assert_eq!(
            prompt,
            format!(
                "<|im_system|>system<|im_middle|>{DEFAULT_SYSTEM_PROMPT}<|im_end|>\
                 <|im_user|>user<|im_middle|>Hi<|im_end|>\
                 <|im_assistant|>assistant<|im_middle|><think></think>Hello<|im_end|>\
                 <|im_user|>user<|im_middle|>Again<|im_end|>\
                 <|im_assistant|>assistant<|im_middle|>"
            )
        );
        let k25 = renderer("kimi_k25");
        let p = k25.generation_prompt(&conv, Role::Assistant, None).unwrap();
        assert!(text(&*k25, &p.to_ints().unwrap()).ends_with("<|im_middle|><think>"));
        let off = renderer("kimi_k26_disable_thinking");
        let p = off
            .generation_prompt(&conv, Role::Assistant, Some("Sure"))
            .unwrap();
        assert!(text(&*off, &p.to_ints().unwrap()).ends_with("<|im_middle|><think></think>Sure"));
        // Preserved reasoning stays in history.
        let keep = renderer("kimi_k26_preserve_thinking");
        let p = keep
            .generation_prompt(&conv, Role::Assistant, None)
            .unwrap();
        assert!(text(&*keep, &p.to_ints().unwrap()).contains("<think>t</think>Hello"));
        // An image is refused, not dropped.
        let image = [Message::new(
            Role::User,
            Content::Parts(vec![ContentPart::Image {
                image: "https://example.com/a.png".into(),
            }]),
        )];
        let err = k25
            .generation_prompt(&image, Role::Assistant, None)
            .unwrap_err();
        assert!(err.to_string().contains("not supported yet"), "{err}");
    }

    #[test]
    fn a_tool_exchange_is_one_turn() {
        let mut call = Message::new(
            Role::Assistant,
            Content::Parts(vec![ContentPart::thinking("look")]),
        );
        call.tool_calls = Some(vec![ToolCall::new("get", "{}", None)]);
        let mut result = Message::new(Role::Tool, "20C");
        result.tool_call_id = Some("functions.get:0".into());
        let conv = [
            Message::new(Role::User, "Weather?"),
            call,
            result,
            Message::new(Role::Assistant, "Warm."),
        ];
        let r = renderer("kimi_k2");
        let (tokens, weights) = r
            .supervised_example(&conv, TrainOnWhat::LastAssistantTurn)
            .unwrap();
        let ids = tokens.to_ints().unwrap();
        let trained: Vec<u32> = ids
            .iter()
            .zip(&weights)
            .filter(|(_, &w)| w > 0.0)
            .map(|(&t, _)| t)
            .collect();
        // The reasoning of the call is kept (the turn runs from the last assistant message
        // without tool calls, so through the call and its result), the call gets an id, and the
        // tool result is headed by it.
        let all = text(&*r, &ids);
        assert!(all.contains("<think>look</think>"), "{all}");
        assert!(all.contains(
            "<|tool_calls_section_begin|><|tool_call_begin|>functions.get:0<|tool_call_argument_begin|>{}<|tool_call_end|><|tool_calls_section_end|>"
        ));
        assert!(all.contains("<|im_system|>tool<|im_middle|>## Return of functions.get:0\n20C"));
        assert_eq!(
            text(&*r, &trained),
            "<think>look</think><|tool_calls_section_begin|>\
             <|tool_call_begin|>functions.get:0<|tool_call_argument_begin|>{}<|tool_call_end|>\
             <|tool_calls_section_end|><|im_end|><think></think>Warm.<|im_end|>"
        );
    }
}
