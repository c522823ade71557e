//! DeepSeek V3.1: `<｜begin▁of▁sentence｜>system<｜User｜>…<｜Assistant｜></think>…<｜end▁of▁sentence｜>`
//! (tinker-cookbook 0.6.1 `renderers/deepseek_v3.py`), in its two modes:
//!
//! * `deepseekv3` and its alias `deepseekv3_disable_thinking` (`DeepSeekV3DisableThinkingRenderer`):
//!   every assistant header not right after a tool result ends with `</think>`, and the
//!   reasoning of every such turn is dropped (thinking parts, and `<think>…</think>` in a string).
//! * `deepseekv3_thinking` (`DeepSeekV3ThinkingRenderer`): the generation prompt prefills
//!   `<think>` (not after a tool result); earlier assistant turns lose their reasoning and get
//!   `</think>` in the header; the last one keeps it, or gets an empty `<think></think>`.
//!
//! Tool calls are `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>name<｜tool▁sep｜>args<｜tool▁call▁end｜>…<｜tool▁calls▁end｜>`,
//! tool results `<｜tool▁output▁begin｜>…<｜tool▁output▁end｜>`; an assistant message right after a
//! tool result has no header at all.

use std::sync::Arc;

use crate::error::Result;
use crate::tokenizer::Tokenizer;
use crate::types::ModelInput;

use super::base::{
    self, detect_unterminated_tool_block, ensure_text, invalid_json_arguments,
    parse_response_for_stop_token, parse_think_blocks, refuse, refuse_images,
    restore_think_prefill, single_token, RenderContext, RenderedMessage, Template,
};
use super::message::{
    Content, ContentPart, Message, ParseTermination, Role, StopSequences, ToolCall, ToolSpec,
    UnparsedToolCall,
};
use super::pyjson;
use super::pyrepr;
use super::text::{py_is_word, py_isspace, py_strip};
use super::{template_renderer, Renderer, RendererOptions};

const THINK_OPEN: &str = "<think>";
const THINK_CLOSE: &str = "</think>";
const TOOL_CALLS_BEGIN: &str = "<｜tool▁calls▁begin｜>";
const TOOL_CALLS_END: &str = "<｜tool▁calls▁end｜>";
const TOOL_CALL_BEGIN: &str = "<｜tool▁call▁begin｜>";
const TOOL_CALL_END: &str = "<｜tool▁call▁end｜>";
const TOOL_SEP: &str = "<｜tool▁sep｜>";
const TOOL_OUTPUT_BEGIN: &str = "<｜tool▁output▁begin｜>";
const TOOL_OUTPUT_END: &str = "<｜tool▁output▁end｜>";

pub(crate) struct DeepSeekV3 {
    name: &'static str,
    tok: Arc<Tokenizer>,
    /// `DeepSeekV3ThinkingRenderer` (else `DeepSeekV3DisableThinkingRenderer`).
    thinking: bool,
    bos: u32,
    user: u32,
    assistant: u32,
    end_of_sentence: u32,
    /// `convert_tokens_to_ids("<think>")` / `("</think>")`, for restoring the prefill.
    think_open: u32,
    think_close: u32,
    /// `encode("</think>")`, `encode("<think></think>")`, `encode("<｜tool▁output▁begin｜>")`.
    think_close_ids: Vec<u32>,
    empty_think_ids: Vec<u32>,
    tool_output_begin_ids: Vec<u32>,
}

/// `deepseekv3_thinking`.
pub(crate) fn build_thinking(
    name: &'static str,
    tok: Arc<Tokenizer>,
    _: &RendererOptions,
) -> Result<Arc<dyn Renderer>> {
    Ok(Arc::new(DeepSeekV3::new(name, tok, true)?))
}

/// `deepseekv3`, `deepseekv3_disable_thinking`.
pub(crate) fn build_disable_thinking(
    name: &'static str,
    tok: Arc<Tokenizer>,
    _: &RendererOptions,
) -> Result<Arc<dyn Renderer>> {
    Ok(Arc::new(DeepSeekV3::new(name, tok, false)?))
}

impl DeepSeekV3 {
    fn new(name: &'static str, tok: Arc<Tokenizer>, thinking: bool) -> Result<Self> {
        // `_get_special_token`: `<｜name｜>` (U+FF5C), which must be one token.
        let special = |n: &str| single_token(name, &tok, &format!("<\u{ff5c}{n}\u{ff5c}>"));
        let id = |t: &str| {
            tok.token_to_id(t).ok_or_else(|| {
                refuse(
                    name,
                    format!("the tokenizer `{}` has no token {t:?}", tok.name()),
                )
            })
        };
        Ok(DeepSeekV3 {
            name,
            thinking,
            bos: special("begin▁of▁sentence")?,
            user: special("User")?,
            assistant: special("Assistant")?,
            end_of_sentence: special("end▁of▁sentence")?,
            think_open: id(THINK_OPEN)?,
            think_close: id(THINK_CLOSE)?,
            think_close_ids: tok.encode(THINK_CLOSE, false)?,
            empty_think_ids: tok.encode(&[THINK_OPEN, THINK_CLOSE].concat(), false)?,
            tool_output_begin_ids: tok.encode(TOOL_OUTPUT_BEGIN, false)?,
            tok,
        })
    }

    /// The assistant text the base class renders: text parts as they are, thinking parts as
    /// `<think>…</think>` unless `strip_thinking` (a string passes through unchanged).
    fn push_assistant_content(out: &mut String, content: &Content, strip_thinking: bool) {
        match content {
            Content::Text(s) => out.push_str(s),
            Content::Parts(parts) => {
                for p in parts {
                    match p {
                        ContentPart::Thinking { thinking } if !strip_thinking => {
                            out.push_str(THINK_OPEN);
                            out.push_str(thinking);
                            out.push_str(THINK_CLOSE);
                        }
                        ContentPart::Text { text } => out.push_str(text),
                        _ => {}
                    }
                }
            }
        }
    }
}

/// `re.sub(r"<think>.*?</think>", "", s, flags=re.DOTALL)`.
fn remove_think_blocks(s: &str, out: &mut String) {
    let mut pos = 0;
    while let Some(open) = s[pos..].find(THINK_OPEN).map(|i| pos + i) {
        let after = open + THINK_OPEN.len();
        let Some(close) = s[after..].find(THINK_CLOSE).map(|i| after + i) else {
            break;
        };
        out.push_str(&s[pos..open]);
        pos = close + THINK_CLOSE.len();
    }
    out.push_str(&s[pos..]);
}

/// `re.sub(r"\s*<｜tool▁calls▁begin｜>.*?<｜tool▁calls▁end｜>", "", content, flags=re.DOTALL)`:
/// every complete section goes, with the (Python) whitespace right before it.
fn remove_tool_sections(content: &str) -> String {
    let mut out = String::with_capacity(content.len());
    let mut pos = 0;
    while let Some(begin) = content[pos..].find(TOOL_CALLS_BEGIN).map(|i| pos + i) {
        let inner = begin + TOOL_CALLS_BEGIN.len();
        let Some(end) = content[inner..].find(TOOL_CALLS_END).map(|i| inner + i) else {
            break;
        };
        // The leftmost match starts where the whitespace run before the section starts (but
        // not before where the previous match ended).
        let start = pos + content[pos..begin].trim_end_matches(py_isspace).len();
        out.push_str(&content[pos..start]);
        pos = end + TOOL_CALLS_END.len();
    }
    out.push_str(&content[pos..]);
    out
}

impl DeepSeekV3 {
    /// `_parse_deepseek_tool_calls`: the calls of the first complete tool-calls section
    /// (`<｜tool▁call▁begin｜>(\w+)<｜tool▁sep｜>(.*?)<｜tool▁call▁end｜>`), each with its arguments
    /// stripped; arguments that are not JSON make an unparsed call.
    fn parse_tool_calls(&self, content: &str) -> Result<(Vec<ToolCall>, Vec<UnparsedToolCall>)> {
        let mut calls = Vec::new();
        let mut unparsed = Vec::new();
        let Some(begin) = content.find(TOOL_CALLS_BEGIN) else {
            return Ok((calls, unparsed));
        };
        let inner = begin + TOOL_CALLS_BEGIN.len();
        let Some(end) = content[inner..].find(TOOL_CALLS_END) else {
            return Ok((calls, unparsed));
        };
        let section = &content[inner..inner + end];
        let mut pos = 0;
        while let Some(start) = section[pos..].find(TOOL_CALL_BEGIN).map(|i| pos + i) {
            let name_start = start + TOOL_CALL_BEGIN.len();
            let rest = &section[name_start..];
            let name_len = rest
                .char_indices()
                .find(|&(_, c)| !py_is_word(c))
                .map_or(rest.len(), |(i, _)| i);
            let name_end = name_start + name_len;
            if name_len == 0 || !section[name_end..].starts_with(TOOL_SEP) {
                // No match here: the search goes on from the next character (`<` is ASCII).
                pos = start + 1;
                continue;
            }
            let args_start = name_end + TOOL_SEP.len();
            let Some(args_end) = section[args_start..]
                .find(TOOL_CALL_END)
                .map(|i| args_start + i)
            else {
                // No call can end after this point either.
                break;
            };
            let call_end = args_end + TOOL_CALL_END.len();
            let name = &section[name_start..name_end];
            let args = py_strip(&section[args_start..args_end]);
            match invalid_json_arguments(self.name, args, &section[start..call_end])? {
                None => calls.push(ToolCall::new(name, args, None)),
                Some(u) => unparsed.push(u),
            }
            pos = call_end;
        }
        Ok((calls, unparsed))
    }
}

impl Template for DeepSeekV3 {
    fn tok(&self) -> &Tokenizer {
        &self.tok
    }
    fn renderer_name(&self) -> &str {
        self.name
    }
    fn class_name(&self) -> &'static str {
        if self.thinking {
            "DeepSeekV3ThinkingRenderer"
        } else {
            "DeepSeekV3DisableThinkingRenderer"
        }
    }

    /// Non-thinking mode has no reasoning to drop from history; thinking mode drops it.
    fn has_extension_property(&self) -> bool {
        !self.thinking
    }

    fn thinks_in_tags(&self) -> bool {
        true
    }
    fn opens_thinking(&self) -> bool {
        self.thinking
    }

    fn bos_tokens(&self) -> Result<Vec<u32>> {
        Ok(vec![self.bos])
    }

    fn render_message(&self, m: &Message, ctx: &RenderContext) -> Result<RenderedMessage> {
        refuse_images(self.name, m)?;
        let follows_tool = ctx.prev.is_some_and(|p| p.role == Role::Tool);
        let assistant_turn = m.role == Role::Assistant && !follows_tool;
        let tool_calls = m.tool_calls.as_deref().filter(|c| !c.is_empty());
        let mut header = Vec::new();
        let mut out = String::new();
        let mut end_of_sentence = false;
        match m.role {
            Role::System => {
                let text = ensure_text(self.name, &m.content)?;
                if ctx.idx != 0 {
                    return Err(refuse(
                        self.name,
                        "DeepSeek only supports system message at start. Use \
                         system_role_as_user=True to convert later system messages to user role.",
                    ));
                }
                out.push_str(text);
            }
            Role::User => {
                header.push(self.user);
                out.push_str(ensure_text(self.name, &m.content)?);
            }
            Role::Assistant => {
                if assistant_turn && !self.thinking {
                    // Non-thinking mode renders only the text: the text parts, or the string
                    // without its think blocks; the end of sentence follows non-empty text.
                    match &m.content {
                        Content::Text(s) => remove_think_blocks(s, &mut out),
                        content => Self::push_assistant_content(&mut out, content, true),
                    }
                    end_of_sentence = !out.is_empty();
                } else {
                    // History loses its reasoning, except a turn with tool calls.
                    let strip = tool_calls.is_none() && !ctx.is_last;
                    Self::push_assistant_content(&mut out, &m.content, strip);
                    end_of_sentence = !m.content.is_empty();
                }
                if !follows_tool {
                    header.push(self.assistant);
                }
            }
            Role::Tool => {
                header.extend_from_slice(&self.tool_output_begin_ids);
                out.push_str(ensure_text(self.name, &m.content)?);
                out.push_str(TOOL_OUTPUT_END);
            }
            other => return Err(refuse(self.name, format!("Unsupported role: {other}"))),
        }
        if let Some(calls) = tool_calls {
            out.push_str(TOOL_CALLS_BEGIN);
            for c in calls {
                out.push_str(TOOL_CALL_BEGIN);
                out.push_str(&c.function.name);
                out.push_str(TOOL_SEP);
                out.push_str(&c.function.arguments);
                out.push_str(TOOL_CALL_END);
            }
            out.push_str(TOOL_CALLS_END);
        }
        let mut output = Vec::new();
        if assistant_turn {
            if !self.thinking || !ctx.is_last {
                // Non-thinking: every assistant header closes the think block. Thinking: a
                // historical turn's does (its reasoning is gone).
                header.extend_from_slice(&self.think_close_ids);
            } else if !m.content.is_empty() && !m.content.has_thinking() {
                // Thinking, the turn being trained, without reasoning: an empty block. (Empty
                // content is the generation prompt's header, which keeps `<think>` open.)
                output.extend_from_slice(&self.empty_think_ids);
            }
        }
        if output.is_empty() {
            output = self.tok.encode(&out, false)?;
        } else {
            output.extend(self.tok.encode(&out, false)?);
        }
        if end_of_sentence {
            output.push(self.end_of_sentence);
        }
        Ok(RenderedMessage {
            header: (!header.is_empty()).then_some(header),
            output: vec![output],
            stop_overlap: None,
        })
    }

    /// Thinking mode prefills `<think>` (then the caller's prefill), except after a tool result.
    fn generation_prompt(
        &self,
        messages: &[Message],
        role: Role,
        prefill: Option<&str>,
    ) -> Result<ModelInput> {
        if !self.thinking || messages.last().is_some_and(|m| m.role == Role::Tool) {
            return base::generation_prompt(self, messages, role, prefill);
        }
        let prefill = [THINK_OPEN, prefill.unwrap_or("")].concat();
        base::generation_prompt(self, messages, role, Some(&prefill))
    }

    fn stop_sequences(&self) -> Result<StopSequences> {
        Ok(StopSequences::Tokens(vec![self.end_of_sentence]))
    }

    fn parse_response(&self, response: &[u32]) -> Result<(Message, ParseTermination)> {
        // `_normalize_response_tokens` (thinking mode): the prefilled `<think>` is put back when
        // the reply closes a think block it did not open.
        let response = if self.thinking {
            restore_think_prefill(response, &[self.think_open], self.think_close)
        } else {
            response.into()
        };
        let (content, termination) =
            parse_response_for_stop_token(self.name, &self.tok, &response, self.end_of_sentence)?;
        if !termination.is_clean() {
            return Ok((Message::new(Role::Assistant, content), termination));
        }
        let (calls, mut unparsed) = self.parse_tool_calls(&content)?;
        if let Some(dangling) =
            detect_unterminated_tool_block(&content, TOOL_CALLS_BEGIN, TOOL_CALLS_END).or_else(
                || detect_unterminated_tool_block(&content, TOOL_CALL_BEGIN, TOOL_CALL_END),
            )
        {
            unparsed.push(dangling);
        }
        let content = if calls.is_empty() && unparsed.is_empty() {
            content
        } else {
            py_strip(&remove_tool_sections(&content)).to_owned()
        };
        let mut message = Message::new(
            Role::Assistant,
            match parse_think_blocks(&content) {
                Some(parts) => Content::Parts(parts),
                None => Content::Text(content),
            },
        );
        message.tool_calls = (!calls.is_empty()).then_some(calls);
        message.unparsed_tool_calls = (!unparsed.is_empty()).then_some(unparsed);
        Ok((message, termination))
    }

    /// `create_conversation_prefix_with_tools`: one system message, the tools described after
    /// the system prompt.
    fn tool_prefix(&self, tools: &[ToolSpec], system_prompt: &str) -> Result<Vec<Message>> {
        let mut text = system_prompt.to_owned();
        if !tools.is_empty() {
            text.push_str("\n\n## Tools\nYou have access to the following tools:\n\n");
            for (i, t) in tools.iter().enumerate() {
                if i > 0 {
                    text.push('\n');
                }
                // `tool["description"]` / `tool["parameters"]`: a missing key is the cookbook's
                // KeyError; a description that is not a string prints as Python's str() of it.
                let key = |k: &str| {
                    t.get(k).map(pyjson::Value::from_serde).ok_or_else(|| {
                        refuse(
                            self.name,
                            format!("KeyError: '{k}' (tool `{}` has no `{k}`)", t.name()),
                        )
                    })
                };
                let description = pyrepr::py_str(&key("description")?);
                let parameters =
                    pyjson::dumps(&key("parameters")?, &pyjson::DumpOptions::default())
                        .map_err(|e| refuse(self.name, e.to_string()))?;
                text.push_str(&format!(
                    "### {}\nDescription: {description}\n\nParameters: {parameters}",
                    t.name()
                ));
            }
            text.push_str(
                "\n\nIMPORTANT: ALWAYS adhere to this exact format for tool use:\n\
                 <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>tool_call_name<｜tool▁sep｜>\
                 tool_call_arguments<｜tool▁call▁end｜><｜tool▁calls▁end｜>\n\n\
                 Where:\n\
                 - `tool_call_name` must be an exact match to one of the available tools\n\
                 - `tool_call_arguments` must be valid JSON that strictly follows the tool's \
                 Parameters Schema\n\
                 - For multiple tool calls, chain them directly without separators or spaces",
            );
        }
        Ok(vec![Message::new(Role::System, text)])
    }
}

template_renderer!(DeepSeekV3);

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;
    use crate::chat::TrainOnWhat;

    fn tok() -> Arc<Tokenizer> {
        static TOK: OnceLock<Arc<Tokenizer>> = OnceLock::new();
        TOK.get_or_init(|| {
            crate::cache::TokenizerCache::new(
                crate::Config::default()
                    .with_offline(true)
                    .with_hub_cache(None)
                    .with_prepared_cache(None),
            )
            .get_or_load("deepseek-ai/DeepSeek-V3.1")
            .unwrap()
        })
        .clone()
    }

    fn renderer(name: &str) -> Arc<dyn Renderer> {
        crate::chat::renderer(name, tok()).unwrap()
    }

    fn text(ids: &[u32]) -> String {
        tok().decode(ids, false).unwrap()
    }

    fn msg(role: Role, content: impl Into<Content>) -> Message {
        Message::new(role, content)
    }

    fn reasoned(thinking: &str, answer: &str) -> Content {
        Content::Parts(vec![
            ContentPart::thinking(thinking),
            ContentPart::text(answer),
        ])
    }

    /// System, a reasoned answer, an empty-content tool call, its result, a final answer with
    /// an inline think block.
    fn conversation() -> Vec<Message> {
        let mut call = msg(Role::Assistant, "");
        call.tool_calls = Some(vec![ToolCall::new(
            "get_weather",
            r#"{"city": "Paris"}"#,
            None,
        )]);
        vec![
            msg(Role::System, "S"),
            msg(Role::User, "Q"),
            msg(Role::Assistant, reasoned("T1", "A1")),
            msg(Role::User, "Q2"),
            call,
            msg(Role::Tool, "sunny"),
            msg(Role::Assistant, "It is <think>x</think>sunny"),
        ]
    }

    const RENDERED: &str = "<｜begin▁of▁sentence｜>S<｜User｜>Q<｜Assistant｜></think>A1\
        <｜end▁of▁sentence｜><｜User｜>Q2<｜Assistant｜></think><｜tool▁calls▁begin｜>\
        <｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": \"Paris\"}<｜tool▁call▁end｜>\
        <｜tool▁calls▁end｜><｜tool▁output▁begin｜>sunny<｜tool▁output▁end｜>It is <think>x</think>\
        sunny<｜end▁of▁sentence｜>";

    #[test]
    fn history_headers_close_the_think_block_and_drop_reasoning() {
        // Both modes: `</think>` after every assistant header not after a tool result, the
        // historical reasoning gone, no end of sentence after the empty-content tool call, the
        // post-tool answer headerless and kept as written.
        for name in ["deepseekv3", "deepseekv3_thinking"] {
            let (input, _) = renderer(name)
                .supervised_example(&conversation(), TrainOnWhat::AllAssistantMessages)
                .unwrap();
            assert_eq!(text(&input.to_ints().unwrap()), RENDERED, "{name}");
        }
    }

    #[test]
    fn generation_prompts() {
        let c = conversation();
        let prompt = |name: &str, messages: &[Message], prefill| {
            text(
                &renderer(name)
                    .generation_prompt(messages, Role::Assistant, prefill)
                    .unwrap()
                    .to_ints()
                    .unwrap(),
            )
        };
        let start = "<｜begin▁of▁sentence｜>S<｜User｜>Q<｜Assistant｜>";
        // Non-thinking: the header closes the think block; the prefill follows.
        assert_eq!(
            prompt("deepseekv3", &c[..2], Some("Sure")),
            format!("{start}</think>Sure")
        );
        // Thinking: `<think>` is prefilled, then the caller's prefill.
        assert_eq!(
            prompt("deepseekv3_thinking", &c[..2], Some("Sure")),
            format!("{start}<think>Sure")
        );
        assert_eq!(
            prompt("deepseekv3_thinking", &[], None),
            "<｜begin▁of▁sentence｜><｜Assistant｜><think>"
        );
        // After a tool result: no header and, in thinking mode, no `<think>`.
        for name in ["deepseekv3", "deepseekv3_thinking"] {
            let p = prompt(name, &c[..6], Some("Sure"));
            assert!(p.ends_with("sunny<｜tool▁output▁end｜>Sure"), "{name}: {p}");
        }
    }

    #[test]
    fn last_turn_in_thinking_mode() {
        let r = renderer("deepseekv3_thinking");
        let render = |last: Content| {
            let m = [msg(Role::User, "Q"), msg(Role::Assistant, last)];
            let (input, weights) = r
                .supervised_example(&m, TrainOnWhat::LastAssistantMessage)
                .unwrap();
            let ids = input.to_ints().unwrap();
            // The prefilled `<think>` carries no loss.
            let prompt = r
                .generation_prompt(&m[..1], Role::Assistant, None)
                .unwrap()
                .to_ints()
                .unwrap();
            assert!(ids.starts_with(&prompt));
            assert!(weights[..prompt.len()].iter().all(|&w| w == 0.0));
            text(&ids)
        };
        let start = "<｜begin▁of▁sentence｜><｜User｜>Q<｜Assistant｜>";
        // Kept reasoning; an empty block where there is none.
        assert_eq!(
            render(reasoned("T", "A")),
            format!("{start}<think>T</think>A<｜end▁of▁sentence｜>")
        );
        assert_eq!(
            render("A".into()),
            format!("{start}<think></think>A<｜end▁of▁sentence｜>")
        );
        assert_eq!(
            render("<think>T</think>A".into()),
            format!("{start}<think>T</think>A<｜end▁of▁sentence｜>")
        );
    }

    #[test]
    fn non_thinking_mode_drops_every_think_block_of_a_string() {
        let r = renderer("deepseekv3");
        let m = [
            msg(Role::User, "Q"),
            msg(
                Role::Assistant,
                "<think>a</think>B<think>c</think>D<think>open",
            ),
        ];
        let (input, _) = r
            .supervised_example(&m, TrainOnWhat::LastAssistantMessage)
            .unwrap();
        assert!(text(&input.to_ints().unwrap())
            .ends_with("<｜Assistant｜></think>BD<think>open<｜end▁of▁sentence｜>"));
        // Nothing left but reasoning: no end of sentence either.
        let m = [
            msg(Role::User, "Q"),
            msg(Role::Assistant, "<think>a</think>"),
        ];
        let (input, _) = r
            .supervised_example(&m, TrainOnWhat::LastAssistantMessage)
            .unwrap();
        assert!(text(&input.to_ints().unwrap()).ends_with("<｜Assistant｜></think>"));
    }

    #[test]
    fn a_later_system_message_is_refused() {
        let m = [
            msg(Role::User, "q"),
            msg(Role::System, "s"),
            msg(Role::Assistant, "a"),
        ];
        for name in ["deepseekv3", "deepseekv3_thinking"] {
            let e = renderer(name)
                .supervised_example(&m, TrainOnWhat::LastAssistantMessage)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("DeepSeek only supports system message at start. Use system_role_as_user=True to convert later system messages to user role."),
                "{e}"
            );
        }
    }

    #[test]
    fn an_empty_tool_call_turn_parses_malformed() {
        // No end of sentence after a turn with empty content, so its own completion has no
        // stop token.
        let r = renderer("deepseekv3");
        let c = conversation();
        let (input, _) = r
            .supervised_example(&c[..5], TrainOnWhat::LastAssistantMessage)
            .unwrap();
        let prompt = r
            .generation_prompt(&c[..4], Role::Assistant, None)
            .unwrap()
            .to_ints()
            .unwrap();
        let ids = input.to_ints().unwrap();
        let (m, t) = r.parse_response(&ids[prompt.len()..]).unwrap();
        assert_eq!(t, ParseTermination::Malformed);
        assert_eq!(m.tool_calls, None);
    }

    fn parse(name: &str, s: &str) -> (Message, ParseTermination) {
        let mut ids = tok().encode(s, false).unwrap();
        ids.push(1);
        renderer(name).parse_response(&ids).unwrap()
    }

    #[test]
    fn thinking_mode_restores_the_prefilled_think() {
        let (m, t) = parse("deepseekv3_thinking", "reason</think>answer");
        assert_eq!(t, ParseTermination::StopSequence);
        assert_eq!(m.content, reasoned("reason", "answer"));
        // Non-thinking mode has no prefill to restore.
        let (m, _) = parse("deepseekv3", "reason</think>answer");
        assert_eq!(m.content, Content::Text("reason</think>answer".into()));
        // Only complete blocks are parsed; an empty one leaves no parts at all.
        let (m, _) = parse("deepseekv3", "<think>r</think>a<think>b");
        assert_eq!(m.content, reasoned("r", "a<think>b"));
        let (m, _) = parse("deepseekv3", "<think></think>");
        assert_eq!(m.content, Content::Parts(vec![]));
    }

    #[test]
    fn tool_calls_are_parsed_as_python_does() {
        // A Unicode `\w` name with bad JSON (CPython's message), a name `\w+` does not match
        // (skipped), a good call, then Python whitespace and an unterminated section.
        let s = "x<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>名前_1<｜tool▁sep｜> {\"a\": 1,} \n\
                 <｜tool▁call▁end｜><｜tool▁call▁begin｜>a-b<｜tool▁sep｜>{}<｜tool▁call▁end｜>\
                 <｜tool▁call▁begin｜>ok<｜tool▁sep｜>[1]<｜tool▁call▁end｜><｜tool▁calls▁end｜>\u{1c} \
                 <｜tool▁calls▁begin｜>";
        for name in ["deepseekv3", "deepseekv3_thinking"] {
            let (m, t) = parse(name, s);
            assert_eq!(t, ParseTermination::StopSequence);
            assert_eq!(
                m.content,
                Content::Text("x\u{1c} <｜tool▁calls▁begin｜>".into())
            );
            assert_eq!(m.tool_calls, Some(vec![ToolCall::new("ok", "[1]", None)]));
            assert_eq!(
                m.unparsed_tool_calls,
                Some(vec![
                    UnparsedToolCall {
                        raw_text: "<｜tool▁call▁begin｜>名前_1<｜tool▁sep｜> {\"a\": 1,} \n<｜tool▁call▁end｜>"
                            .into(),
                        error: "Invalid JSON: Expecting property name enclosed in double quotes: \
                                line 1 column 9 (char 8)"
                            .into(),
                    },
                    UnparsedToolCall {
                        raw_text: "<｜tool▁calls▁begin｜>".into(),
                        error: "unterminated tool block: '<｜tool▁calls▁begin｜>' opened without \
                                a matching '<｜tool▁calls▁end｜>'"
                            .into(),
                    },
                ])
            );
        }
    }

    #[test]
    fn regex_helpers() {
        let mut out = String::new();
        remove_think_blocks("a<think>b</think>c<think>d</think><think>e", &mut out);
        assert_eq!(out, "ac<think>e");
        // The whitespace before each section goes with it, not before the previous match's end.
        let sec = "<｜tool▁calls▁begin｜>x<｜tool▁calls▁end｜>";
        assert_eq!(
            remove_tool_sections(&format!("a \n{sec}\u{3000}{sec} b{sec}")),
            "a b"
        );
        assert_eq!(
            remove_tool_sections(&format!("a {sec}<｜tool▁calls▁begin｜>")),
            "a<｜tool▁calls▁begin｜>"
        );
    }

    #[test]
    fn tool_prefix_prints_the_schema_as_python() {
        let tools: Vec<ToolSpec> = serde_json::from_str(
            r#"[{"name": "f", "description": "d é", "parameters": {"type": "object",
                "properties": {"z": {"type": "string"}, "a": {"type": "number", "default": 1.5,
                "enum": ["é"]}}, "required": ["z"]}}]"#,
        )
        .unwrap();
        let m = renderer("deepseekv3").tool_prefix(&tools, "SYS").unwrap();
        let want = "SYS\n\n## Tools\nYou have access to the following tools:\n\n### f\n\
            Description: d é\n\nParameters: {\"type\": \"object\", \"properties\": {\"z\": \
            {\"type\": \"string\"}, \"a\": {\"type\": \"number\", \"default\": 1.5, \"enum\": \
            [\"\\u00e9\"]}}, \"required\": [\"z\"]}\n\nIMPORTANT: ALWAYS adhere to this exact \
            format for tool use:\n<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>tool_call_name\
            <｜tool▁sep｜>tool_call_arguments<｜tool▁call▁end｜><｜tool▁calls▁end｜>\n\nWhere:\n\
            - `tool_call_name` must be an exact match to one of the available tools\n\
            - `tool_call_arguments` must be valid JSON that strictly follows the tool's \
            Parameters Schema\n\
            - For multiple tool calls, chain them directly without separators or spaces";
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].role, Role::System);
        assert_eq!(m[0].content.text(), want);
        let m = renderer("deepseekv3").tool_prefix(&[], "SYS").unwrap();
        assert_eq!(m[0].content.text(), "SYS");
    }

    #[test]
    fn extension_property_and_split_examples() {
        assert!(renderer("deepseekv3").has_extension_property());
        assert!(renderer("deepseekv3_disable_thinking").has_extension_property());
        assert!(!renderer("deepseekv3_thinking").has_extension_property());
        // Thinking mode: one example per assistant message, each ending at it.
        let c = conversation();
        let r = renderer("deepseekv3_thinking");
        let examples = r
            .supervised_examples(&c, TrainOnWhat::AllAssistantMessages)
            .unwrap();
        assert_eq!(examples.len(), 3);
        assert_eq!(
            text(&examples[0].0.to_ints().unwrap()),
            "<｜begin▁of▁sentence｜>S<｜User｜>Q<｜Assistant｜><think>T1</think>A1<｜end▁of▁sentence｜>"
        );
        let r = renderer("deepseekv3");
        assert_eq!(
            r.supervised_examples(&c, TrainOnWhat::AllAssistantMessages)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(r.stop_sequences().unwrap(), StopSequences::Tokens(vec![1]));
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        fn words() -> impl Strategy<Value = String> {
            "[a-zé中 .\n]{1,12}"
        }

        /// An assistant answer, with reasoning or not.
        fn answer() -> impl Strategy<Value = Content> {
            (proptest::option::of(words()), words()).prop_map(|(t, a)| match t {
                Some(t) => reasoned(&t, &a),
                None => Content::Text(a),
            })
        }

        fn conversation() -> impl Strategy<Value = Vec<Message>> {
            (
                proptest::option::of(words()),
                proptest::collection::vec((words(), answer()), 1..4),
            )
                .prop_map(|(system, turns)| {
                    let mut m: Vec<Message> =
                        system.map(|s| msg(Role::System, s)).into_iter().collect();
                    for (q, a) in turns {
                        m.push(msg(Role::User, q));
                        m.push(msg(Role::Assistant, a));
                    }
                    m
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            /// The cookbook's invariants: the supervised example starts with the generation
            /// prompt of the conversation before its last message, the trained completion
            /// parses back to that message (its text only, in non-thinking mode), and in
            /// non-thinking mode every turn's prompt is a prefix of the whole example.
            #[test]
            fn prompt_prefix_and_round_trip(c in conversation()) {
                for name in ["deepseekv3", "deepseekv3_thinking"] {
                    let r = renderer(name);
                    let (input, weights) = r
                        .supervised_example(&c, TrainOnWhat::LastAssistantMessage)
                        .unwrap();
                    let ids = input.to_ints().unwrap();
                    prop_assert_eq!(ids.len(), weights.len());
                    let n = c.len() - 1;
                    let prompt = r
                        .generation_prompt(&c[..n], Role::Assistant, None)
                        .and_then(|p| p.to_ints())
                        .unwrap();
                    prop_assert!(ids.starts_with(&prompt), "{}: prompt is not a prefix", name);
                    let (m, t) = r.parse_response(&ids[prompt.len()..]).unwrap();
                    prop_assert_eq!(t, ParseTermination::StopSequence);
                    let want = if name == "deepseekv3" {
                        Content::Text(c[n].content.text())
                    } else {
                        c[n].content.clone()
                    };
                    prop_assert!(
                        m.content.same_as(&want),
                        "{}: {:?} != {:?}",
                        name,
                        m.content,
                        want
                    );
                    if r.has_extension_property() {
                        for k in (0..c.len()).filter(|&k| c[k].role == Role::Assistant) {
                            let p = r
                                .generation_prompt(&c[..k], Role::Assistant, None)
                                .and_then(|p| p.to_ints())
                                .unwrap();
                            prop_assert!(
                                ids.starts_with(&p),
                                "{}: turn {} prompt is not a prefix",
                                name,
                                k
                            );
                        }
                    }
                }
            }
        }
    }
}
