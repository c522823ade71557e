//! DeepSeek V4.1: `<｜begin▁of▁sentence｜><｜System｜>Reasoning Effort: 75 (…)\n\n{system}<｜User｜>{question}<｜Assistant｜><think>{reasoning}</think>{answer}<｜end▁of▁sentence｜>`
//! (tinker-cookbook 0.6.1 `renderers/deepseek_v4_1.py`, which follows the chat template of
//! `deepseek-ai/DeepSeek-V4.1-Flash`), in five registry rows:
//!
//! * `deepseekv4_1` (`DeepSeekV4_1Renderer`, reasoning effort 75), `deepseekv4_1_low_reasoning`
//!   (`DeepSeekV4_1LowReasoningRenderer`, 50), `deepseekv4_1_max_reasoning`
//!   (`DeepSeekV4_1MaxReasoningRenderer`, 100): thinking mode. Every prompt opens with
//!   `<｜System｜>` and the effort line, system message or not; an assistant turn starts with
//!   `<｜Assistant｜><think>` and writes `{reasoning}</think>{answer}`. An assistant message at or
//!   before the template's last user turn (a user or tool message, or a system message after
//!   the first) loses its reasoning and starts with `<｜Assistant｜></think>` instead — unless
//!   tools are declared.
//! * `deepseekv4_1_preserve_thinking` (`DeepSeekV4_1Renderer(strip_thinking_from_history=False)`):
//!   effort 75, no reasoning dropped, so it has the extension property.
//! * `deepseekv4_1_disable_thinking` (`DeepSeekV4_1DisableThinkingRenderer`): chat mode — no
//!   effort line (`<｜System｜>` only before a system message), every assistant turn starts with
//!   `<｜Assistant｜></think>`, reasoning is never rendered.
//!
//! The rules that shape the tokens:
//! * The conversation is first reshaped into the template's turns (`_normalize_messages`),
//!   keeping every index so the base class still sees which messages are user turns: a
//!   `tool_declare` message (what [`Template::tool_prefix`] returns after the system prompt) is
//!   folded into the first system message, or becomes a system message of its own; consecutive
//!   user and tool messages are one user turn whose first message carries the whole text — tool
//!   results as `<tool_result>…</tool_result>`, sorted into the order of the calls before them,
//!   all joined by `\n\n` — so the turn is encoded as one string, as the template encodes it.
//! * Which assistant messages lose their reasoning is decided once, on the whole reshaped
//!   conversation (the cookbook's `_DROP_REASONING_THROUGH` context variable); the generation
//!   prompt the base class builds inside a supervised example reuses that decision instead of
//!   reshaping again ([`InConversation`]).
//! * A system message is encoded together with the text before it and split where that text is
//!   complete (`_encode_after`): a BPE merge across the boundary (the effort line's `\n\n` with
//!   a tools-only system message's leading `\n\n`) belongs to the header.
//! * Tool calls are one DSML block after the answer, one `parameter` per argument key (strings
//!   as they are with `string="true"`, other values as JSON); parsing reverses it, and every
//!   malformed piece becomes an unparsed call with the cookbook's `Invalid DSML: …` error.
//! * Thinking mode's parse puts back the `<think>` the generation prompt supplied.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::error::Result;
use crate::tokenizer::Tokenizer;
use crate::types::ModelInput;

use super::base::{
    self, detect_unterminated_tool_block, ensure_text, parse_response_for_stop_token,
    parse_think_blocks, refuse, refuse_images, restore_think_prefill, single_token, RenderContext,
    RenderedMessage, Template,
};
use super::message::{
    Content, ContentPart, Message, ParseTermination, Role, StopSequences, ToolCall, ToolSpec,
    TrainOnWhat, UnparsedToolCall,
};
use super::pyjson::{self, DecodeErrorKind, DumpOptions, EncodeError, PyStr, Value};
use super::pyrepr::write_repr_str;
use super::text::py_strip;
use super::{template_renderer, Renderer, RendererOptions};

const SYSTEM: &str = "<｜System｜>";
const USER: &str = "<｜User｜>";
const ASSISTANT: &str = "<｜Assistant｜>";
const THINK_OPEN: &str = "<think>";
const THINK_CLOSE: &str = "</think>";

const CALLS_OPEN: &str = "<｜DSML｜ calls>";
const CALLS_CLOSE: &str = "</｜DSML｜ calls>";
const INVOKE_OPEN: &str = "<｜DSML｜ invoke name=\"";
/// What ends an invoke's name: `">` and the newline before its parameters.
const INVOKE_NAME_END: &str = "\">\n";
const INVOKE_CLOSE: &str = "</｜DSML｜ invoke>";
const PARAM_OPEN: &str = "<｜DSML｜ parameter name=\"";
/// Between a parameter's name and its `true`/`false`.
const PARAM_STRING_ATTR: &str = "\" string=\"";
const PARAM_CLOSE: &str = "</｜DSML｜ parameter>";
/// The model writes this token only in tool calls, so any left outside a calls block is a
/// malformed call.
const DSML: &str = "｜DSML｜";

/// `_EFFORT_TEMPLATE`.
fn effort_line(budget: u32) -> String {
    format!(
        "Reasoning Effort: {budget} (range 1-100, the higher the value, the more thorough the \
         reasoning)\n\n"
    )
}

/// `_TOOLS_TEMPLATE`, before and after its `{tool_schemas}`.
const TOOLS_BEFORE: &str = "## Tools

You have access to a set of tools to help answer the user's question. You can invoke tools by writing a \"<｜DSML｜ calls>\" block like the following:

<｜DSML｜ calls>
<｜DSML｜ invoke name=\"$TOOL_NAME\">
<｜DSML｜ parameter name=\"$PARAMETER_NAME\" string=\"true|false\">$PARAMETER_VALUE</｜DSML｜ parameter>
...
</｜DSML｜ invoke>
<｜DSML｜ invoke name=\"$TOOL_NAME2\">
...
</｜DSML｜ invoke>
</｜DSML｜ calls>

String parameters should be specified as is and set `string=\"true\"`. For all other types (numbers, booleans, arrays, objects), pass the value in JSON format and set `string=\"false\"`.

If thinking_mode is enabled (triggered by <think>), you MUST output your complete reasoning inside <think>...</think> BEFORE any tool calls or final response.

Otherwise, output directly after </think> with tool calls or final response.

### Available Tool Schemas

";
const TOOLS_AFTER: &str = "

You MUST strictly follow the above defined tool name and parameter schemas to invoke tool calls.
";

/// A fixed text a system message is encoded after (`_encode_after`'s `prefix`), with where the
/// split falls in the prefix's own encoding.
struct Prefix {
    text: String,
    /// Its length in characters (Python's `len`).
    chars: usize,
    tokens: Vec<u32>,
    /// The first `k` whose `decode(tokens[..k])` is at least `chars` long, if there is one.
    complete_at: Option<usize>,
}

impl Prefix {
    fn new(tok: &Tokenizer, text: String) -> Result<Prefix> {
        let tokens = tok.encode(&text, false)?;
        let chars = text.chars().count();
        let k = scan_split(tok, &tokens, 0, chars)?;
        let complete_at =
            if k < tokens.len() || tok.decode(&tokens, false)?.chars().count() >= chars {
                Some(k)
            } else {
                None
            };
        Ok(Prefix {
            text,
            chars,
            tokens,
            complete_at,
        })
    }
}

/// `_encode_after`'s loop from `from`: the first `k >= from` that is `tokens.len()` or whose
/// decoded `tokens[..k]` has at least `chars` characters.
fn scan_split(tok: &Tokenizer, tokens: &[u32], from: usize, chars: usize) -> Result<usize> {
    let mut k = from;
    while k < tokens.len() && tok.decode(&tokens[..k], false)?.chars().count() < chars {
        k += 1;
    }
    Ok(k)
}

pub(crate) struct DeepSeekV41 {
    name: &'static str,
    class: &'static str,
    tok: Arc<Tokenizer>,
    /// `reasoning_effort`: the budget in thinking mode, `None` in chat mode.
    effort: Option<u32>,
    /// `strip_thinking_from_history`.
    strip_thinking_from_history: bool,
    bos: Vec<u32>,
    end_of_sentence: u32,
    /// `<think>` and `</think>` (thinking mode only: restoring the prefill).
    think: Option<(u32, u32)>,
    /// `_opening` of a message that is not a system message: the effort line after
    /// `<｜System｜>` in thinking mode, nothing in chat mode.
    opening: String,
    /// The prefix of a system message that is the first message (`_opening("system")`), and of
    /// a later one (`<｜System｜>`).
    first_system: Prefix,
    later_system: Prefix,
    /// `<｜User｜>`, `<｜Assistant｜><think>`, `<｜Assistant｜></think>`: the headers after the
    /// first message, encoded once.
    user_header: Vec<u32>,
    assistant_think: Vec<u32>,
    assistant_no_think: Vec<u32>,
}

/// Every `deepseekv4_1*` name; the variant is chosen by name as the cookbook's `get_renderer`
/// does.
pub(crate) fn build(
    name: &'static str,
    tok: Arc<Tokenizer>,
    _: &RendererOptions,
) -> Result<Arc<dyn Renderer>> {
    let (class, effort, strip) = match name {
        "deepseekv4_1_low_reasoning" => ("DeepSeekV4_1LowReasoningRenderer", Some(50), true),
        "deepseekv4_1_max_reasoning" => ("DeepSeekV4_1MaxReasoningRenderer", Some(100), true),
        "deepseekv4_1_disable_thinking" => ("DeepSeekV4_1DisableThinkingRenderer", None, true),
        "deepseekv4_1_preserve_thinking" => ("DeepSeekV4_1Renderer", Some(75), false),
        _ => ("DeepSeekV4_1Renderer", Some(75), true),
    };
    Ok(Arc::new(DeepSeekV41::new(name, class, tok, effort, strip)?))
}

impl DeepSeekV41 {
    fn new(
        name: &'static str,
        class: &'static str,
        tok: Arc<Tokenizer>,
        effort: Option<u32>,
        strip_thinking_from_history: bool,
    ) -> Result<Self> {
        let opening = match effort {
            Some(budget) => format!("{SYSTEM}{}", effort_line(budget)),
            None => String::new(),
        };
        let first_system = if effort.is_some() {
            opening.clone()
        } else {
            SYSTEM.to_owned()
        };
        let think = match effort {
            Some(_) => Some((
                single_token(name, &tok, THINK_OPEN)?,
                single_token(name, &tok, THINK_CLOSE)?,
            )),
            None => None,
        };
        Ok(DeepSeekV41 {
            name,
            class,
            effort,
            strip_thinking_from_history,
            bos: tok.encode("<｜begin▁of▁sentence｜>", false)?,
            end_of_sentence: single_token(name, &tok, "<｜end▁of▁sentence｜>")?,
            think,
            first_system: Prefix::new(&tok, first_system)?,
            later_system: Prefix::new(&tok, SYSTEM.to_owned())?,
            opening,
            user_header: tok.encode(USER, false)?,
            assistant_think: tok.encode(&[ASSISTANT, THINK_OPEN].concat(), false)?,
            assistant_no_think: tok.encode(&[ASSISTANT, THINK_CLOSE].concat(), false)?,
            tok,
        })
    }

    /// `_encode_after(prefix, text)`: `prefix + text` encoded as one string, split at the first
    /// token count whose decoded text covers the prefix (a token merged across the boundary goes
    /// with the prefix).
    ///
    /// As long as the tokens agree with the prefix's own encoding, their decodes are the
    /// prefix's, whose split is known; only from the first token that differs (typically the
    /// merged one) is there anything to decode.
    fn encode_after(&self, prefix: &Prefix, text: &str) -> Result<(Vec<u32>, Vec<u32>)> {
        let mut tokens = self
            .tok
            .encode(&[prefix.text.as_str(), text].concat(), false)?;
        let common = tokens
            .iter()
            .zip(&prefix.tokens)
            .take_while(|(a, b)| a == b)
            .count();
        let split = match prefix.complete_at {
            Some(k) if k <= common => k,
            // Every `k <= common` decodes to less than the prefix.
            _ => scan_split(&self.tok, &tokens, common, prefix.chars)?,
        };
        let output = tokens.split_off(split);
        Ok((tokens, output))
    }

    /// `_conversation`: the conversation reshaped into the template's turns, and the last
    /// index whose assistant messages lose their reasoning (`None`: none do).
    fn conversation(&self, messages: &[Message]) -> Result<(Vec<Message>, Option<usize>)> {
        let normalized = self.normalize(messages)?;
        let drops = self.strip_thinking_from_history
            && !messages.iter().any(|m| m.role == Role::ToolDeclare);
        let drop_through = if drops {
            // The template's last user turn: user and tool messages, and later system messages.
            (0..normalized.len())
                .rev()
                .find(|&i| is_user_turn(&normalized[i]) || is_later_system(&normalized, i))
        } else {
            None
        };
        Ok((normalized, drop_through))
    }

    /// `_normalize_messages` (see the module doc); images are refused first.
    fn normalize(&self, messages: &[Message]) -> Result<Vec<Message>> {
        for m in messages {
            refuse_images(self.name, m)?;
        }
        let mut result = messages.to_vec();
        // In order, so a second declaration right after a first one at index 0 (now a system
        // message) is folded into it, as the cookbook's loop does.
        for idx in 0..result.len() {
            if result[idx].role != Role::ToolDeclare {
                continue;
            }
            let tools = self.render_tools(&result[idx])?;
            if idx == 0 {
                result[0].role = Role::System;
                result[0].content = Content::Text(format!("\n\n{tools}"));
            } else if idx == 1 && result[0].role == Role::System {
                let system = ensure_text(self.name, &result[0].content)?;
                result[0].content = Content::Text(format!("{system}\n\n{tools}"));
                result[1].content = Content::Text(String::new());
            } else {
                return Err(refuse(
                    self.name,
                    "DeepSeek V4.1 tool declarations must come first or right after the first \
                     system message; use create_conversation_prefix_with_tools",
                ));
            }
        }

        let mut call_order: HashMap<String, usize> = HashMap::new();
        let mut idx = 0;
        while idx < result.len() {
            if let Some(calls) = result[idx].tool_calls.as_deref().filter(|c| !c.is_empty()) {
                // A repeated id keeps its last position, as a dict comprehension does.
                call_order = calls
                    .iter()
                    .enumerate()
                    .filter_map(|(order, c)| {
                        let id = c.id.as_deref().filter(|id| !id.is_empty())?;
                        Some((id.to_owned(), order))
                    })
                    .collect();
            }
            if !is_user_turn(&result[idx]) {
                idx += 1;
                continue;
            }
            let mut end = idx;
            while end + 1 < result.len() && is_user_turn(&result[end + 1]) {
                end += 1;
            }
            let text = self.user_turn_text(&result[idx..=end], &call_order)?;
            result[idx].content = Content::Text(text);
            for m in &mut result[idx + 1..=end] {
                m.content = Content::Text(String::new());
            }
            idx = end + 1;
        }
        Ok(result)
    }

    /// The text of one user turn: its messages joined by `\n\n`, tool results wrapped in
    /// `<tool_result>` and sorted into call order in the slots tool messages hold
    /// (`_sort_tool_results`: a stable sort, an id no call has sorting as call 0).
    fn user_turn_text(
        &self,
        turn: &[Message],
        call_order: &HashMap<String, usize>,
    ) -> Result<String> {
        let mut results: Vec<&Message> = turn.iter().filter(|m| m.role == Role::Tool).collect();
        results.sort_by_key(|m| {
            let id = m.tool_call_id.as_deref().unwrap_or("");
            call_order.get(id).copied().unwrap_or(0)
        });
        let mut results = results.into_iter();
        let mut blocks = Vec::with_capacity(turn.len());
        for m in turn {
            blocks.push(if m.role == Role::Tool {
                // There are as many sorted results as tool messages.
                let result = results.next().unwrap_or(m);
                format!(
                    "<tool_result>{}</tool_result>",
                    ensure_text(self.name, &result.content)?
                )
            } else {
                ensure_text(self.name, &m.content)?.to_owned()
            });
        }
        Ok(blocks.join("\n\n"))
    }

    /// `_render_tools(_tool_declare_specs(message))`: the tools section of the system message.
    fn render_tools(&self, declare: &Message) -> Result<String> {
        let text = ensure_text(self.name, &declare.content)?;
        let loaded = pyjson::loads(text).map_err(|e| refuse(self.name, e.to_string()))?;
        let not_a_list = || {
            refuse(
                self.name,
                "a tool_declare message holds a JSON list of {\"type\": \"function\", \
                 \"function\": {…}} objects, as create_conversation_prefix_with_tools writes it",
            )
        };
        let tools = match loaded {
            Value::Array(tools) => tools,
            // Iterating an empty dict or string gives no tools in Python too.
            Value::Object(p) if p.is_empty() => Vec::new(),
            Value::Str(s) if s.code_points().next().is_none() => Vec::new(),
            _ => return Err(not_a_list()),
        };
        let opts = DumpOptions {
            ensure_ascii: false,
            ..DumpOptions::default()
        };
        let mut schemas = Vec::with_capacity(tools.len());
        for tool in &tools {
            let Value::Object(_) = tool else {
                return Err(not_a_list());
            };
            let spec = tool.get("function").ok_or_else(|| {
                refuse(
                    self.name,
                    "KeyError: 'function' (a declared tool has no \"function\")",
                )
            })?;
            schemas.push(pyjson::dumps(spec, &opts).map_err(|e| refuse(self.name, e.to_string()))?);
        }
        Ok([TOOLS_BEFORE, &schemas.join("\n"), TOOLS_AFTER].concat())
    }

    /// `render_message`, with `drop_through` the conversation's last index whose assistant
    /// messages lose their reasoning.
    fn render(
        &self,
        m: &Message,
        ctx: &RenderContext,
        drop_through: Option<usize>,
    ) -> Result<RenderedMessage> {
        let first = ctx.idx == 0;
        match m.role {
            Role::System => {
                let prefix = if first {
                    &self.first_system
                } else {
                    &self.later_system
                };
                let (header, output) =
                    self.encode_after(prefix, ensure_text(self.name, &m.content)?)?;
                Ok(RenderedMessage {
                    header: Some(header),
                    output: if output.is_empty() {
                        vec![]
                    } else {
                        vec![output]
                    },
                    stop_overlap: None,
                })
            }
            // Already folded into the system message.
            Role::ToolDeclare => Ok(RenderedMessage::default()),
            Role::User | Role::Tool => {
                if ctx.prev.is_some_and(is_user_turn) {
                    // Rendered by the turn's first message.
                    return Ok(RenderedMessage::default());
                }
                let text = self
                    .tok
                    .encode(ensure_text(self.name, &m.content)?, false)?;
                let header = if first {
                    self.tok
                        .encode(&[self.opening.as_str(), USER].concat(), false)?
                } else {
                    self.user_header.clone()
                };
                Ok(RenderedMessage {
                    header: Some(header),
                    output: if text.is_empty() { vec![] } else { vec![text] },
                    stop_overlap: None,
                })
            }
            Role::Assistant => {
                let keeps_reasoning =
                    self.effort.is_some() && drop_through.is_none_or(|d| ctx.idx > d);
                // The template ends a user turn with the assistant marker; after the first
                // system message alone, or after another assistant message, there is none.
                let follows_user_turn = ctx
                    .prev
                    .is_some_and(|p| is_user_turn(p) || (p.role == Role::System && ctx.idx > 1));
                let header = if follows_user_turn {
                    // Never the first message: there is no opening to prepend.
                    Some(if keeps_reasoning {
                        self.assistant_think.clone()
                    } else {
                        self.assistant_no_think.clone()
                    })
                } else if first && !self.opening.is_empty() {
                    Some(self.tok.encode(&self.opening, false)?)
                } else {
                    None
                };
                let (reasoning, answer) = split_assistant_content(self.name, &m.content)?;
                let mut body = String::with_capacity(reasoning.len() + answer.len() + 16);
                if keeps_reasoning {
                    body.push_str(&reasoning);
                    body.push_str(THINK_CLOSE);
                }
                body.push_str(&answer);
                if let Some(calls) = m.tool_calls.as_deref().filter(|c| !c.is_empty()) {
                    self.push_tool_calls(&mut body, calls)?;
                }
                let mut output = self.tok.encode(&body, false)?;
                output.push(self.end_of_sentence);
                Ok(RenderedMessage {
                    header,
                    output: vec![output],
                    stop_overlap: None,
                })
            }
            other => Err(refuse(
                self.name,
                format!("Unsupported role for DeepSeek V4.1: {other}"),
            )),
        }
    }

    /// `_render_tool_calls`: `\n\n<｜DSML｜ calls>\n`, an invoke per call, one parameter per
    /// argument key, `\n</｜DSML｜ calls>`.
    fn push_tool_calls(&self, out: &mut String, calls: &[ToolCall]) -> Result<()> {
        let opts = DumpOptions {
            ensure_ascii: false,
            ..DumpOptions::default()
        };
        out.push_str("\n\n");
        out.push_str(CALLS_OPEN);
        out.push('\n');
        for (i, call) in calls.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(INVOKE_OPEN);
            out.push_str(&call.function.name);
            out.push_str(INVOKE_NAME_END);
            for (j, (key, value)) in self
                .arguments_dict(&call.function.arguments)?
                .iter()
                .enumerate()
            {
                if j > 0 {
                    out.push('\n');
                }
                out.push_str(PARAM_OPEN);
                out.push_str(self.utf8(key)?);
                out.push_str(PARAM_STRING_ATTR);
                match value {
                    Value::Str(s) => {
                        out.push_str("true\">");
                        out.push_str(self.utf8(s)?);
                    }
                    other => {
                        out.push_str("false\">");
                        let json = pyjson::dumps(other, &opts)
                            .map_err(|e| refuse(self.name, e.to_string()))?;
                        out.push_str(&json);
                    }
                }
                out.push_str(PARAM_CLOSE);
            }
            out.push('\n');
            out.push_str(INVOKE_CLOSE);
        }
        out.push('\n');
        out.push_str(CALLS_CLOSE);
        Ok(())
    }

    /// `_arguments_dict`: the arguments as a dict, decoding up to twice (`encoding.py` tolerates
    /// double-encoded arguments); anything else is one `arguments` key holding the text.
    fn arguments_dict(&self, arguments: &str) -> Result<Vec<(PyStr, Value)>> {
        let mut parsed = Value::Str(arguments.into());
        // A lone surrogate (from a `\ud800` escape) cannot be in a Rust string; the second
        // decode reads it as U+FFFD, and a dict that carried it is refused below, as the
        // tokenizer refuses the cookbook's text.
        let mut lossy = false;
        for _ in 0..2 {
            let Value::Str(s) = &parsed else { break };
            lossy |= s.as_str().is_none();
            let text = s.to_string_lossy().into_owned();
            match pyjson::loads(&text) {
                Ok(v) => parsed = v,
                Err(e) if e.msg().is_some() => break,
                // ValueError (an integer too long) and RecursionError escape the cookbook's
                // `except json.JSONDecodeError`.
                Err(e) => return Err(refuse(self.name, e.to_string())),
            }
        }
        match parsed {
            Value::Object(_) if lossy => Err(refuse(
                self.name,
                "tool-call arguments hold a lone surrogate, which cannot be encoded as UTF-8",
            )),
            Value::Object(pairs) => Ok(pairs),
            _ => Ok(vec![("arguments".into(), Value::Str(arguments.into()))]),
        }
    }

    /// A Python string as text for the tokenizer, which refuses a lone surrogate.
    fn utf8<'s>(&self, s: &'s PyStr) -> Result<&'s str> {
        s.as_str().ok_or_else(|| {
            let c = s
                .code_points()
                .find(|c| (0xD800..0xE000).contains(c))
                .unwrap_or(0xD800);
            refuse(self.name, EncodeError::LoneSurrogate(c).to_string())
        })
    }

    /// `_parse_response_content` after the stop token is found: the DSML calls block, what is
    /// malformed around it, and the think blocks of the text before it.
    fn parse_content(&self, content: &str) -> Result<Message> {
        let mut text = content;
        let mut calls = Vec::new();
        let mut unparsed = Vec::new();
        if let Some((start, end)) = calls_block(content) {
            (calls, unparsed) = self.parse_calls_block(&content[start..end])?;
            // The format ends the response with one calls block.
            let after = &content[end..];
            if !py_strip(after).is_empty() {
                unparsed.push(UnparsedToolCall {
                    raw_text: after.to_owned(),
                    error: "Invalid DSML: output after calls block".into(),
                });
            }
            text = &content[..start];
        }
        let dangling =
            detect_unterminated_tool_block(text, CALLS_OPEN, CALLS_CLOSE).or_else(|| {
                text.contains(DSML).then(|| UnparsedToolCall {
                    raw_text: text.to_owned(),
                    error: "Invalid DSML: marker outside a calls block".into(),
                })
            });
        unparsed.extend(dangling);
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

    /// `_parse_tool_calls`: every invoke of a calls block; a block with no invoke or with text
    /// between them is one malformed call.
    fn parse_calls_block(&self, block: &str) -> Result<(Vec<ToolCall>, Vec<UnparsedToolCall>)> {
        let body = block.strip_prefix("\n\n").unwrap_or(block);
        let body = body.strip_prefix(CALLS_OPEN).unwrap_or(body);
        let body = body.strip_suffix(CALLS_CLOSE).unwrap_or(body);
        let (invokes, outside) = find_invokes(body);
        if invokes.is_empty() || !py_strip(&outside).is_empty() {
            return Ok((
                Vec::new(),
                vec![UnparsedToolCall {
                    raw_text: block.to_owned(),
                    error: "Invalid DSML: malformed invoke".into(),
                }],
            ));
        }
        let mut calls = Vec::new();
        let mut unparsed = Vec::new();
        for invoke in invokes {
            match parse_invoke(&invoke) {
                Ok(arguments) => {
                    let arguments =
                        pyjson::dumps(&Value::Object(arguments), &DumpOptions::default())
                            .map_err(|e| refuse(self.name, e.to_string()))?;
                    calls.push(ToolCall::new(invoke.name, arguments, None));
                }
                Err(InvokeError::Invalid(why)) => unparsed.push(UnparsedToolCall {
                    raw_text: invoke.text.to_owned(),
                    error: format!("Invalid DSML: {why}"),
                }),
                Err(InvokeError::Raised(why)) => return Err(refuse(self.name, why)),
            }
        }
        Ok((calls, unparsed))
    }
}

fn is_user_turn(m: &Message) -> bool {
    matches!(m.role, Role::User | Role::Tool)
}

/// A system message after the first message: the template counts it as a user turn.
fn is_later_system(messages: &[Message], idx: usize) -> bool {
    idx > 0 && messages[idx].role == Role::System
}

/// `_last_assistant_turn_start_index`: after the last user message or later system message
/// (tool messages do not count).
fn last_assistant_turn_start(messages: &[Message]) -> usize {
    (0..messages.len())
        .rev()
        .find(|&i| messages[i].role == Role::User || is_later_system(messages, i))
        .map_or(0, |i| i + 1)
}

/// `_split_assistant_content`: (reasoning, answer) — a string is all answer; thinking and text
/// parts are each joined.
fn split_assistant_content(renderer: &str, content: &Content) -> Result<(String, String)> {
    let parts = match content {
        Content::Text(s) => return Ok((String::new(), s.clone())),
        Content::Parts(parts) => parts,
    };
    let (mut reasoning, mut answer) = (String::new(), String::new());
    for p in parts {
        match p {
            ContentPart::Thinking { thinking } => reasoning.push_str(thinking),
            ContentPart::Text { text } => answer.push_str(text),
            other => {
                return Err(refuse(
                    renderer,
                    format!(
                        "DeepSeek V4.1 renderer does not support '{}' content parts",
                        other.kind()
                    ),
                ))
            }
        }
    }
    Ok((reasoning, answer))
}

/// `_CALLS_BLOCK_RE.search`: the first `<｜DSML｜ calls>` up to the first `</｜DSML｜ calls>` after
/// it, with the `\n\n` right before it; byte range.
fn calls_block(content: &str) -> Option<(usize, usize)> {
    let open = content.find(CALLS_OPEN)?;
    let inner = open + CALLS_OPEN.len();
    let close = inner + content[inner..].find(CALLS_CLOSE)?;
    let start = if content[..open].ends_with("\n\n") {
        open - 2
    } else {
        open
    };
    Some((start, close + CALLS_CLOSE.len()))
}

/// One `_INVOKE_RE` match.
struct Invoke<'a> {
    text: &'a str,
    name: &'a str,
    params: &'a str,
}

/// `_INVOKE_RE.finditer(body)` and `_INVOKE_RE.sub("", body)`: the invokes (a name up to the
/// first `">\n`, parameters up to the first `</｜DSML｜ invoke>`), and the text between them.
/// Where one cannot match, no later one can either: it would need the same terminators later.
fn find_invokes(body: &str) -> (Vec<Invoke<'_>>, String) {
    let mut invokes = Vec::new();
    let mut outside = String::new();
    let mut pos = 0;
    while let Some(start) = body[pos..].find(INVOKE_OPEN).map(|i| pos + i) {
        let name_start = start + INVOKE_OPEN.len();
        let Some(name_end) = body[name_start..]
            .find(INVOKE_NAME_END)
            .map(|i| name_start + i)
        else {
            break;
        };
        let params_start = name_end + INVOKE_NAME_END.len();
        let Some(params_end) = body[params_start..]
            .find(INVOKE_CLOSE)
            .map(|i| params_start + i)
        else {
            break;
        };
        let end = params_end + INVOKE_CLOSE.len();
        outside.push_str(&body[pos..start]);
        invokes.push(Invoke {
            text: &body[start..end],
            name: &body[name_start..name_end],
            params: &body[params_start..params_end],
        });
        pos = end;
    }
    outside.push_str(&body[pos..]);
    (invokes, outside)
}

/// One `_PARAM_RE` match: name, whether `string="true"`, value.
type Param<'a> = (&'a str, bool, &'a str);

/// `_PARAM_RE.finditer(text)` and `_PARAM_RE.sub("", text)`: a name up to the first
/// `" string="true">` or `" string="false">`, a value up to the first `</｜DSML｜ parameter>`.
fn find_params(text: &str) -> (Vec<Param<'_>>, String) {
    let mut params = Vec::new();
    let mut outside = String::new();
    let mut pos = 0;
    'params: while let Some(start) = text[pos..].find(PARAM_OPEN).map(|i| pos + i) {
        let name_start = start + PARAM_OPEN.len();
        let mut from = name_start;
        let (name_end, is_string, value_start) = loop {
            let Some(at) = text[from..].find(PARAM_STRING_ATTR).map(|i| from + i) else {
                break 'params;
            };
            let flag = &text[at + PARAM_STRING_ATTR.len()..];
            if flag.starts_with("true\">") {
                break (at, true, at + PARAM_STRING_ATTR.len() + "true\">".len());
            }
            if flag.starts_with("false\">") {
                break (at, false, at + PARAM_STRING_ATTR.len() + "false\">".len());
            }
            // `"` is one byte: the next character boundary.
            from = at + 1;
        };
        let Some(value_end) = text[value_start..]
            .find(PARAM_CLOSE)
            .map(|i| value_start + i)
        else {
            break;
        };
        outside.push_str(&text[pos..start]);
        params.push((
            &text[name_start..name_end],
            is_string,
            &text[value_start..value_end],
        ));
        pos = value_end + PARAM_CLOSE.len();
    }
    outside.push_str(&text[pos..]);
    (params, outside)
}

/// Why an invoke did not become a tool call.
enum InvokeError {
    /// The `ValueError` the cookbook catches: an unparsed call with this reason.
    Invalid(String),
    /// An exception it does not catch (`RecursionError`): the parse fails.
    Raised(String),
}

/// The arguments of one invoke, in order, as `_parse_tool_calls` checks them.
fn parse_invoke(invoke: &Invoke) -> std::result::Result<Vec<(PyStr, Value)>, InvokeError> {
    let invalid = |why: &str| Err(InvokeError::Invalid(why.to_owned()));
    if py_strip(invoke.name).is_empty() {
        return invalid("empty function name");
    }
    let (params, outside) = find_params(invoke.params);
    if !py_strip(&outside).is_empty() {
        return invalid("text outside parameters");
    }
    let mut seen = HashSet::with_capacity(params.len());
    let mut arguments = Vec::with_capacity(params.len());
    for (key, is_string, value) in params {
        if py_strip(key).is_empty() {
            return invalid("empty parameter name");
        }
        if !seen.insert(key) {
            let mut why = String::from("duplicate parameter ");
            write_repr_str(&mut why, &key.into());
            return invalid(&why);
        }
        let value = if is_string {
            Value::Str(value.into())
        } else {
            match pyjson::loads(value) {
                Ok(v) => v,
                Err(e) if matches!(e.kind, DecodeErrorKind::TooDeep { .. }) => {
                    return Err(InvokeError::Raised(e.to_string()))
                }
                // JSONDecodeError, and the ValueError of an integer too long.
                Err(e) => return invalid(&e.to_string()),
            }
        };
        arguments.push((PyStr::from(key), value));
    }
    Ok(arguments)
}

/// The renderer inside one conversation build: the cookbook's base class rendering messages
/// already reshaped, with the reasoning decision made for the whole conversation. Its
/// generation prompt is the base one, so the prompt a supervised example withholds loss from
/// is built from the same reshaped messages and the same decision, never reshaped twice.
struct InConversation<'a> {
    r: &'a DeepSeekV41,
    drop_through: Option<usize>,
}

impl Template for InConversation<'_> {
    fn tok(&self) -> &Tokenizer {
        &self.r.tok
    }
    fn renderer_name(&self) -> &str {
        self.r.name
    }
    fn class_name(&self) -> &'static str {
        self.r.class
    }
    fn bos_tokens(&self) -> Result<Vec<u32>> {
        Ok(self.r.bos.clone())
    }
    fn render_message(&self, m: &Message, ctx: &RenderContext) -> Result<RenderedMessage> {
        self.r.render(m, ctx, self.drop_through)
    }
    fn stop_sequences(&self) -> Result<StopSequences> {
        Template::stop_sequences(self.r)
    }
    fn parse_response(&self, tokens: &[u32]) -> Result<(Message, ParseTermination)> {
        Template::parse_response(self.r, tokens)
    }
    fn has_extension_property(&self) -> bool {
        Template::has_extension_property(self.r)
    }
    fn last_assistant_turn_start_index(&self, messages: &[Message]) -> usize {
        last_assistant_turn_start(messages)
    }
}

impl Template for DeepSeekV41 {
    fn tok(&self) -> &Tokenizer {
        &self.tok
    }
    fn renderer_name(&self) -> &str {
        self.name
    }
    fn class_name(&self) -> &'static str {
        self.class
    }

    /// Thinking mode that drops history reasoning does not extend; chat mode and
    /// `preserve_thinking` do.
    fn has_extension_property(&self) -> bool {
        !(self.effort.is_some() && self.strip_thinking_from_history)
    }

    /// Reasoning is `<think>…</think>` text in every mode (the cookbook streams every variant
    /// with its `ReasoningStreamingParser`).
    fn thinks_in_tags(&self) -> bool {
        true
    }

    /// Thinking mode's prompt ends with `<｜Assistant｜><think>`.
    fn opens_thinking(&self) -> bool {
        self.think.is_some()
    }

    fn bos_tokens(&self) -> Result<Vec<u32>> {
        Ok(self.bos.clone())
    }

    /// One message outside a conversation build: no reasoning dropped, as in the cookbook
    /// when its context variable is unset.
    fn render_message(&self, m: &Message, ctx: &RenderContext) -> Result<RenderedMessage> {
        self.render(m, ctx, None)
    }

    fn last_assistant_turn_start_index(&self, messages: &[Message]) -> usize {
        last_assistant_turn_start(messages)
    }

    fn generation_prompt(
        &self,
        messages: &[Message],
        role: Role,
        prefill: Option<&str>,
    ) -> Result<ModelInput> {
        let (normalized, drop_through) = self.conversation(messages)?;
        let conversation = InConversation {
            r: self,
            drop_through,
        };
        base::generation_prompt(&conversation, &normalized, role, prefill)
    }

    /// Tool and user messages that share a user turn are trained or masked together, as the
    /// turn's first message.
    fn supervised_example(
        &self,
        messages: &[Message],
        train_on: TrainOnWhat,
    ) -> Result<(ModelInput, Vec<f32>)> {
        let (normalized, drop_through) = self.conversation(messages)?;
        let conversation = InConversation {
            r: self,
            drop_through,
        };
        base::supervised_example(&conversation, &normalized, train_on)
    }

    fn stop_sequences(&self) -> Result<StopSequences> {
        Ok(StopSequences::Tokens(vec![self.end_of_sentence]))
    }

    fn parse_response(&self, response: &[u32]) -> Result<(Message, ParseTermination)> {
        // `_normalize_response_tokens`: the reply closes a think block the prompt opened.
        let response = match self.think {
            Some((open, close)) => restore_think_prefill(response, &[open], close),
            None => response.into(),
        };
        let (content, termination) =
            parse_response_for_stop_token(self.name, &self.tok, &response, self.end_of_sentence)?;
        if !termination.is_clean() {
            return Ok((Message::new(Role::Assistant, content), termination));
        }
        Ok((self.parse_content(&content)?, termination))
    }

    /// `create_conversation_prefix_with_tools`: the system prompt (if any), then a
    /// `tool_declare` message holding the tools as `json.dumps` writes them, so the renderer can
    /// tell that tools are declared (which keeps history reasoning).
    fn tool_prefix(&self, tools: &[ToolSpec], system_prompt: &str) -> Result<Vec<Message>> {
        let mut messages = Vec::with_capacity(2);
        if !system_prompt.is_empty() {
            messages.push(Message::new(Role::System, system_prompt));
        }
        if !tools.is_empty() {
            let payload = Value::Array(
                tools
                    .iter()
                    .map(|t| {
                        let function = t
                            .as_json()
                            .iter()
                            .map(|(k, v)| (PyStr::from(k.as_str()), Value::from_serde(v)))
                            .collect();
                        Value::Object(vec![
                            ("type".into(), Value::Str("function".into())),
                            ("function".into(), Value::Object(function)),
                        ])
                    })
                    .collect(),
            );
            let content = pyjson::dumps(&payload, &DumpOptions::default())
                .map_err(|e| refuse(self.name, e.to_string()))?;
            messages.push(Message::new(Role::ToolDeclare, content));
        }
        Ok(messages)
    }
}

template_renderer!(DeepSeekV41);

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;

    fn tok() -> Arc<Tokenizer> {
        static TOK: OnceLock<Arc<Tokenizer>> = OnceLock::new();
        TOK.get_or_init(|| crate::testing::fixture_tokenizer("deepseek_v4_1"))
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

    fn tool_result(id: &str, content: &str) -> Message {
        let mut m = msg(Role::Tool, content);
        m.tool_call_id = Some(id.to_owned());
        m
    }

    fn calls(ids: &[&str]) -> Message {
        let mut m = msg(Role::Assistant, "");
        m.tool_calls = Some(
            ids.iter()
                .map(|id| ToolCall::new("f", r#"{"city": "Paris"}"#, Some((*id).to_owned())))
                .collect(),
        );
        m
    }

    fn rendered(name: &str, messages: &[Message], train_on: TrainOnWhat) -> String {
        let (input, _) = renderer(name)
            .supervised_example(messages, train_on)
            .unwrap();
        text(&input.to_ints().unwrap())
    }

    fn prompt(name: &str, messages: &[Message], role: Role, prefill: Option<&str>) -> String {
        text(
            &renderer(name)
                .generation_prompt(messages, role, prefill)
                .unwrap()
                .to_ints()
                .unwrap(),
        )
    }

    const BOS: &str = "<｜begin▁of▁sentence｜>";
    const EFFORT: &str =
        "<｜System｜>Reasoning Effort: 75 (range 1-100, the higher the value, the \
                          more thorough the reasoning)\n\n";
    const CALL: &str = "\n\n<｜DSML｜ calls>\n<｜DSML｜ invoke name=\"f\">\n<｜DSML｜ parameter \
                        name=\"city\" string=\"true\">Paris</｜DSML｜ parameter>\n</｜DSML｜ \
                        invoke>\n</｜DSML｜ calls>";

    #[test]
    fn tool_results_are_sorted_into_call_order_in_the_tool_slots() {
        // Calls a, b, c; results c, (a user message), an unknown id, a, b. The unknown id sorts
        // as call 0 and the sort is stable, so the tool slots read zz, a, b, c; the user message
        // keeps its slot. The whole turn is one `<｜User｜>` (cookbook 0.6.1's output).
        let c = [
            msg(Role::User, "q"),
            calls(&["a", "b", "c"]),
            tool_result("c", "C"),
            msg(Role::User, "note"),
            tool_result("zz", "Z"),
            tool_result("a", "A"),
            tool_result("b", "B"),
            msg(Role::Assistant, reasoned("t", "x")),
        ];
        let turn = "<｜User｜><tool_result>Z</tool_result>\n\nnote\n\n<tool_result>A</tool_result>\
                    \n\n<tool_result>B</tool_result>\n\n<tool_result>C</tool_result>";
        let three_calls = CALL.replace(
            "\n</｜DSML｜ calls>",
            &format!(
                "\n{0}\n{0}\n</｜DSML｜ calls>",
                "<｜DSML｜ invoke name=\"f\">\n<｜DSML｜ parameter name=\"city\" \
                 string=\"true\">Paris</｜DSML｜ parameter>\n</｜DSML｜ invoke>"
            ),
        );
        // Thinking mode: the tool call is history (at or before the last user turn, the tool
        // results), so it gets `</think>` and no reasoning.
        assert_eq!(
            rendered("deepseekv4_1", &c, TrainOnWhat::LastAssistantMessage),
            format!(
                "{BOS}{EFFORT}<｜User｜>q<｜Assistant｜></think>{three_calls}<｜end▁of▁sentence｜>\
                 {turn}<｜Assistant｜><think>t</think>x<｜end▁of▁sentence｜>"
            )
        );
        assert_eq!(
            rendered(
                "deepseekv4_1_preserve_thinking",
                &c,
                TrainOnWhat::LastAssistantMessage
            ),
            format!(
                "{BOS}{EFFORT}<｜User｜>q<｜Assistant｜><think></think>{three_calls}\
                 <｜end▁of▁sentence｜>{turn}<｜Assistant｜><think>t</think>x<｜end▁of▁sentence｜>"
            )
        );
        assert_eq!(
            rendered(
                "deepseekv4_1_disable_thinking",
                &c,
                TrainOnWhat::LastAssistantMessage
            ),
            format!(
                "{BOS}<｜User｜>q<｜Assistant｜></think>{three_calls}<｜end▁of▁sentence｜>\
                 {turn}<｜Assistant｜></think>x<｜end▁of▁sentence｜>"
            )
        );
    }

    #[test]
    fn a_user_turn_is_trained_as_its_first_message() {
        // all_user_and_system_messages: the whole merged turn carries the weight of its first
        // message; the later messages of the turn render nothing.
        let r = renderer("deepseekv4_1_disable_thinking");
        let c = [
            msg(Role::User, "q"),
            calls(&["a"]),
            tool_result("a", "r"),
            msg(Role::User, "more"),
            msg(Role::Assistant, "x"),
        ];
        let (input, weights) = r
            .supervised_example(&c, TrainOnWhat::AllUserAndSystemMessages)
            .unwrap();
        let ids = input.to_ints().unwrap();
        let trained: Vec<u32> = ids
            .iter()
            .zip(&weights)
            .filter(|(_, &w)| w == 1.0)
            .map(|(&t, _)| t)
            .collect();
        // A tool message is not a user message: the turn it starts is not trained.
        assert_eq!(text(&trained), "q");
    }

    #[test]
    fn tool_declarations_fold_into_the_first_system_message_or_are_refused() {
        let tools: Vec<ToolSpec> = serde_json::from_str(
            r#"[{"name": "f", "description": "é", "parameters": {"type": "object", "x": 1.5}}]"#,
        )
        .unwrap();
        let r = renderer("deepseekv4_1");
        let prefix = r.tool_prefix(&tools, "SYS").unwrap();
        assert_eq!(prefix.len(), 2);
        assert_eq!(prefix[0].role, Role::System);
        assert_eq!(prefix[1].role, Role::ToolDeclare);
        // `json.dumps` with its default `ensure_ascii=True`.
        assert_eq!(
            prefix[1].content.text(),
            r#"[{"type": "function", "function": {"name": "f", "description": "\u00e9", "parameters": {"type": "object", "x": 1.5}}}]"#
        );
        assert!(r.tool_prefix(&[], "").unwrap().is_empty());
        let tail = [
            msg(Role::User, "q"),
            msg(Role::Assistant, reasoned("t", "a")),
        ];
        let schema = "### Available Tool Schemas\n\n{\"name\": \"f\", \"description\": \"é\", \
                      \"parameters\": {\"type\": \"object\", \"x\": 1.5}}\n\nYou MUST";
        // After the system prompt, in its turn; tools declared keep every turn's reasoning.
        let mut c = prefix.clone();
        c.extend(tail.iter().cloned());
        c.push(msg(Role::User, "q2"));
        c.push(msg(Role::Assistant, "b"));
        let out = rendered("deepseekv4_1", &c, TrainOnWhat::LastAssistantMessage);
        assert!(
            out.starts_with(&format!("{BOS}{EFFORT}SYS\n\n## Tools\n\nYou have access")),
            "{out}"
        );
        assert!(out.contains(schema), "{out}");
        assert!(out.contains("<｜Assistant｜><think>t</think>a"), "{out}");
        // Alone: a system turn of its own, `\n\n` first.
        let mut c = prefix[1..].to_vec();
        c.extend(tail.iter().cloned());
        assert!(rendered(
            "deepseekv4_1_disable_thinking",
            &c,
            TrainOnWhat::LastAssistantMessage
        )
        .starts_with(&format!("{BOS}<｜System｜>\n\n## Tools\n\n")));
        // Anywhere else: refused with the cookbook's words.
        let mut c = tail.to_vec();
        c.insert(1, prefix[1].clone());
        for e in [
            r.supervised_example(&c, TrainOnWhat::LastAssistantMessage)
                .unwrap_err(),
            r.generation_prompt(&c, Role::Assistant, None).unwrap_err(),
        ] {
            assert!(
                e.to_string().contains(
                    "DeepSeek V4.1 tool declarations must come first or right after the first \
                     system message; use create_conversation_prefix_with_tools"
                ),
                "{e}"
            );
        }
        // A declaration that is not the cookbook's JSON is refused, not rendered.
        let mut c = tail.to_vec();
        c.insert(0, msg(Role::ToolDeclare, "{\"a\": 1}"));
        assert!(r
            .supervised_example(&c, TrainOnWhat::LastAssistantMessage)
            .is_err());
    }

    #[test]
    fn the_system_split_keeps_a_merged_token_in_the_header() {
        // The effort line's `\n\n` and a tools-only system message's leading `\n\n` encode as
        // one `\n\n\n\n` token, which `_encode_after` puts in the header (weight 0 even when
        // system messages are trained).
        let r = DeepSeekV41::new(
            "deepseekv4_1",
            "DeepSeekV4_1Renderer",
            tok(),
            Some(75),
            true,
        )
        .unwrap();
        let (header, output) = r.encode_after(&r.first_system, "\n\n## Tools").unwrap();
        assert!(
            text(&header).ends_with("reasoning)\n\n\n\n"),
            "{:?}",
            text(&header)
        );
        assert_eq!(text(&output), "## Tools");
        // Against the cookbook's definition, decoding every growing prefix, on texts that do
        // and do not merge with either prefix.
        for t in [
            "",
            "x",
            " x",
            "\n",
            "\n\n",
            "\n\n\n\nx",
            "\n\nx",
            "é",
            "<｜User｜>",
            "\r\n",
            "  \n",
        ] {
            for prefix in [&r.first_system, &r.later_system] {
                let all = tok()
                    .encode(&[prefix.text.as_str(), t].concat(), false)
                    .unwrap();
                let want = scan_split(&tok(), &all, 0, prefix.chars).unwrap();
                let (h, o) = r.encode_after(prefix, t).unwrap();
                assert_eq!((h.len(), h.len() + o.len()), (want, all.len()), "{t:?}");
            }
        }
    }

    #[test]
    fn generation_prompts() {
        let q = [msg(Role::User, "q")];
        // Thinking mode: the effort line even without a system message, `<think>` prefilled by
        // the assistant marker, then the caller's prefill.
        assert_eq!(
            prompt("deepseekv4_1", &q, Role::Assistant, Some("Sure")),
            format!("{BOS}{EFFORT}<｜User｜>q<｜Assistant｜><think>Sure")
        );
        assert_eq!(
            prompt(
                "deepseekv4_1_disable_thinking",
                &q,
                Role::Assistant,
                Some("Sure")
            ),
            format!("{BOS}<｜User｜>q<｜Assistant｜></think>Sure")
        );
        assert!(
            prompt("deepseekv4_1_max_reasoning", &q, Role::Assistant, None)
                .contains("Reasoning Effort: 100 ")
        );
        assert!(
            prompt("deepseekv4_1_low_reasoning", &q, Role::Assistant, None)
                .contains("Reasoning Effort: 50 ")
        );
        // No user turn to close: no assistant marker.
        assert_eq!(
            prompt("deepseekv4_1", &[], Role::Assistant, None),
            format!("{BOS}{EFFORT}")
        );
        assert_eq!(
            prompt("deepseekv4_1_disable_thinking", &[], Role::Assistant, None),
            BOS
        );
        let qa = [msg(Role::User, "q"), msg(Role::Assistant, "a")];
        assert!(prompt("deepseekv4_1", &qa, Role::Assistant, None)
            .ends_with("<think></think>a<｜end▁of▁sentence｜>"));
        // Other roles: their header.
        assert!(prompt("deepseekv4_1", &q, Role::System, None).ends_with("q<｜System｜>"));
        assert!(prompt("deepseekv4_1", &q, Role::User, None).ends_with("<｜User｜>q"));
    }

    #[test]
    fn history_reasoning_and_the_last_assistant_turn() {
        // The drop decision is the whole conversation's, and tool results count as user turns
        // for it but not for where the last assistant turn starts.
        let mut call = calls(&["a"]);
        call.content = reasoned("tc", "");
        let c = [
            msg(Role::System, "s"),
            msg(Role::User, "q1"),
            msg(Role::Assistant, reasoned("t1", "a1")),
            msg(Role::User, "q2"),
            call,
            tool_result("a", "r"),
            msg(Role::Assistant, reasoned("t2", "a2")),
        ];
        let trained = |name: &str| {
            let (input, weights) = renderer(name)
                .supervised_example(&c, TrainOnWhat::LastAssistantTurn)
                .unwrap();
            let ids = input.to_ints().unwrap();
            let t: Vec<u32> = ids
                .iter()
                .zip(&weights)
                .filter(|(_, &w)| w == 1.0)
                .map(|(&t, _)| t)
                .collect();
            (text(&ids), text(&t))
        };
        let (all, t) = trained("deepseekv4_1");
        assert!(
            all.contains("<｜Assistant｜></think>a1<｜end▁of▁sentence｜>"),
            "{all}"
        );
        assert!(
            all.contains(&format!("<｜Assistant｜></think>{CALL}")),
            "{all}"
        );
        assert_eq!(
            t,
            format!("{CALL}<｜end▁of▁sentence｜>t2</think>a2<｜end▁of▁sentence｜>")
        );
        let (all, t) = trained("deepseekv4_1_preserve_thinking");
        assert!(all.contains("<｜Assistant｜><think>t1</think>a1"), "{all}");
        assert_eq!(
            t,
            format!("tc</think>{CALL}<｜end▁of▁sentence｜>t2</think>a2<｜end▁of▁sentence｜>")
        );
        let (all, _) = trained("deepseekv4_1_disable_thinking");
        assert!(!all.contains("t1") && !all.contains("t2"), "{all}");
        // A later system message counts as a user turn, for both.
        let c = [
            msg(Role::User, "q"),
            msg(Role::Assistant, reasoned("t1", "a1")),
            msg(Role::System, "later"),
            msg(Role::Assistant, reasoned("t2", "a2")),
        ];
        assert!(
            rendered("deepseekv4_1", &c, TrainOnWhat::LastAssistantTurn).ends_with(
                "</think>a1<｜end▁of▁sentence｜><｜System｜>later<｜Assistant｜><think>t2</think>a2\
                 <｜end▁of▁sentence｜>"
            )
        );
    }

    #[test]
    fn split_examples_and_the_extension_property() {
        let c = [
            msg(Role::User, "q1"),
            msg(Role::Assistant, reasoned("t1", "a1")),
            msg(Role::User, "q2"),
            msg(Role::Assistant, reasoned("t2", "a2")),
        ];
        for (name, extends) in [
            ("deepseekv4_1", false),
            ("deepseekv4_1_low_reasoning", false),
            ("deepseekv4_1_max_reasoning", false),
            ("deepseekv4_1_disable_thinking", true),
            ("deepseekv4_1_preserve_thinking", true),
        ] {
            let r = renderer(name);
            assert_eq!(r.has_extension_property(), extends, "{name}");
            let examples = r
                .supervised_examples(&c, TrainOnWhat::AllAssistantMessages)
                .unwrap();
            assert_eq!(examples.len(), if extends { 1 } else { 2 }, "{name}");
            // Each example ends at its turn, which keeps its reasoning there.
            if !extends {
                assert!(text(&examples[0].0.to_ints().unwrap())
                    .ends_with("<think>t1</think>a1<｜end▁of▁sentence｜>"));
            }
            assert_eq!(r.stop_sequences().unwrap(), StopSequences::Tokens(vec![1]));
        }
    }

    #[test]
    fn tool_call_arguments_render_as_encoding_py_does() {
        let mut m = msg(Role::Assistant, "x");
        m.tool_calls = Some(vec![
            // Double-encoded: decoded twice.
            ToolCall::new("f", r#""{\"city\": \"Zürich\", \"n\": 1.5}""#, None),
            // Not a dict: one `arguments` string parameter.
            ToolCall::new("f", "[1, 2]", None),
            ToolCall::new("f", "not json", None),
            // Other values as JSON with `ensure_ascii=False`, Python's float spelling.
            ToolCall::new(
                "f",
                r#"{"o": {"é": [true, null, 1e400]}, "s": "x\ny"}"#,
                None,
            ),
            ToolCall::new("f", "{}", None),
        ]);
        let c = [msg(Role::User, "q"), m];
        let p = |k: &str, s: &str, v: &str| {
            format!("<｜DSML｜ parameter name=\"{k}\" string=\"{s}\">{v}</｜DSML｜ parameter>")
        };
        let inv = |params: &[String]| {
            format!(
                "<｜DSML｜ invoke name=\"f\">\n{}\n</｜DSML｜ invoke>",
                params.join("\n")
            )
        };
        let want = [
            inv(&[p("city", "true", "Zürich"), p("n", "false", "1.5")]),
            inv(&[p("arguments", "true", "[1, 2]")]),
            inv(&[p("arguments", "true", "not json")]),
            inv(&[
                p("o", "false", "{\"é\": [true, null, Infinity]}"),
                p("s", "true", "x\ny"),
            ]),
            inv(&[]),
        ]
        .join("\n");
        assert!(
            rendered("deepseekv4_1", &c, TrainOnWhat::LastAssistantMessage).ends_with(&format!(
                "<think></think>x\n\n<｜DSML｜ calls>\n{want}\n</｜DSML｜ calls><｜end▁of▁sentence｜>"
            ))
        );
    }

    fn parse(name: &str, s: &str) -> (Message, ParseTermination) {
        let mut ids = tok().encode(s, false).unwrap();
        ids.push(1);
        renderer(name).parse_response(&ids).unwrap()
    }

    #[test]
    fn parse_restores_the_prefilled_think_in_thinking_mode_only() {
        let (m, t) = parse("deepseekv4_1", "r</think>A");
        assert_eq!(t, ParseTermination::StopSequence);
        assert_eq!(m.content, reasoned("r", "A"));
        let (m, _) = parse("deepseekv4_1_disable_thinking", "r</think>A");
        assert_eq!(m.content, Content::Text("r</think>A".into()));
        // Without the stop token: the raw text, nothing parsed.
        let ids = tok().encode("r</think>A", false).unwrap();
        let (m, t) = renderer("deepseekv4_1").parse_response(&ids).unwrap();
        assert_eq!(t, ParseTermination::Malformed);
        assert_eq!(m.content, Content::Text("<think>r</think>A".into()));
    }

    #[test]
    fn dsml_calls_parse_back() {
        let (m, _) = parse(
            "deepseekv4_1",
            "r</think>A\n\n<｜DSML｜ calls>\n<｜DSML｜ invoke name=\"f\">\n<｜DSML｜ parameter \
             name=\"city\" string=\"true\">Paris</｜DSML｜ parameter>\n<｜DSML｜ parameter \
             name=\"n\" string=\"false\">{\"a\": [1, 2.50]}</｜DSML｜ parameter>\n</｜DSML｜ \
             invoke>\n</｜DSML｜ calls>",
        );
        assert_eq!(m.content, reasoned("r", "A"));
        assert_eq!(
            m.tool_calls,
            Some(vec![ToolCall::new(
                "f",
                r#"{"city": "Paris", "n": {"a": [1, 2.5]}}"#,
                None
            )])
        );
        assert_eq!(m.unparsed_tool_calls, None);
    }

    #[test]
    fn malformed_dsml_becomes_unparsed_calls_in_the_cookbooks_words() {
        let invoke = |name: &str, body: &str| {
            format!("<｜DSML｜ invoke name=\"{name}\">\n{body}</｜DSML｜ invoke>")
        };
        let p = |k: &str, s: &str, v: &str| {
            format!("<｜DSML｜ parameter name=\"{k}\" string=\"{s}\">{v}</｜DSML｜ parameter>\n")
        };
        let bad = [
            (invoke(" ", "\n"), "empty function name"),
            (
                invoke("g", &format!("stray{}", p("k", "true", "v"))),
                "text outside parameters",
            ),
            (
                invoke("h", &[p("k", "true", "1"), p("k", "false", "2")].concat()),
                "duplicate parameter 'k'",
            ),
            (
                invoke("i", &p("k", "false", "tru")),
                "Expecting value: line 1 column 1 (char 0)",
            ),
            (invoke("j", &p(" ", "true", "v")), "empty parameter name"),
            (
                invoke("k", &p("it's", "true", "v").repeat(2)),
                "duplicate parameter \"it's\"",
            ),
        ];
        let block: Vec<&str> = bad.iter().map(|(b, _)| b.as_str()).collect();
        let reply = format!(
            "A\n\n<｜DSML｜ calls>\n{}\n</｜DSML｜ calls> trailing",
            block.join("\n")
        );
        for name in ["deepseekv4_1", "deepseekv4_1_disable_thinking"] {
            let (m, t) = parse(name, &reply);
            assert_eq!(t, ParseTermination::StopSequence);
            assert_eq!(m.content, Content::Text("A".into()));
            assert_eq!(m.tool_calls, None);
            let mut want: Vec<UnparsedToolCall> = bad
                .iter()
                .map(|(raw, why)| UnparsedToolCall {
                    raw_text: raw.clone(),
                    error: format!("Invalid DSML: {why}"),
                })
                .collect();
            want.push(UnparsedToolCall {
                raw_text: " trailing".into(),
                error: "Invalid DSML: output after calls block".into(),
            });
            assert_eq!(m.unparsed_tool_calls, Some(want));
        }
        let one = |reply: &str| {
            let (m, _) = parse("deepseekv4_1", reply);
            let u = m.unparsed_tool_calls.unwrap_or_default();
            assert_eq!(u.len(), 1, "{reply:?}: {u:?}");
            (m.content, u[0].raw_text.clone(), u[0].error.clone())
        };
        // No invoke at all: the whole block.
        assert_eq!(
            one("A<｜DSML｜ calls>\njunk\n</｜DSML｜ calls>"),
            (
                Content::Text("A".into()),
                "<｜DSML｜ calls>\njunk\n</｜DSML｜ calls>".into(),
                "Invalid DSML: malformed invoke".into()
            )
        );
        // Never closed; a marker outside any block.
        let open = "A<｜DSML｜ calls>\n<｜DSML｜ invoke name=\"f\">\n";
        assert_eq!(
            one(open),
            (
                Content::Text(open.into()),
                "<｜DSML｜ calls>\n<｜DSML｜ invoke name=\"f\">\n".into(),
                "unterminated tool block: '<｜DSML｜ calls>' opened without a matching \
                 '</｜DSML｜ calls>'"
                    .into()
            )
        );
        assert_eq!(
            one("A｜DSML｜ alone"),
            (
                Content::Text("A｜DSML｜ alone".into()),
                "A｜DSML｜ alone".into(),
                "Invalid DSML: marker outside a calls block".into()
            )
        );
        // JSON nested beyond Python's recursion limit is the cookbook's uncaught
        // RecursionError: refused, not an unparsed call.
        let deep = format!(
            "<｜DSML｜ calls>\n{}\n</｜DSML｜ calls>",
            invoke(
                "f",
                &p(
                    "k",
                    "false",
                    &format!("{}{}", "[".repeat(1200), "]".repeat(1200))
                )
            )
        );
        let mut ids = tok().encode(&deep, false).unwrap();
        ids.push(1);
        assert!(renderer("deepseekv4_1").parse_response(&ids).is_err());
    }

    #[test]
    fn dsml_matching_is_the_regexes() {
        // `\n\n` before the block goes with it; a lone `\n` does not.
        let block = |s: &'static str| calls_block(s).map(|(a, b)| &s[a..b]);
        assert_eq!(
            block("a\n\n\n<｜DSML｜ calls>x</｜DSML｜ calls>b"),
            Some("\n\n<｜DSML｜ calls>x</｜DSML｜ calls>")
        );
        assert_eq!(
            block("a\n<｜DSML｜ calls>x</｜DSML｜ calls>"),
            Some("<｜DSML｜ calls>x</｜DSML｜ calls>")
        );
        assert_eq!(block("</｜DSML｜ calls><｜DSML｜ calls>"), None);
        // A name runs to the first `" string="true|false">`; a parameter never closed ends
        // the search.
        let (params, outside) = find_params(
            "<｜DSML｜ parameter name=\"a\" string=\"no\" string=\"false\">1</｜DSML｜ parameter>x\
             <｜DSML｜ parameter name=\"b\" string=\"true\">open",
        );
        assert_eq!(params, vec![("a\" string=\"no", false, "1")]);
        assert_eq!(
            outside,
            "x<｜DSML｜ parameter name=\"b\" string=\"true\">open"
        );
        let (invokes, outside) =
            find_invokes("<｜DSML｜ invoke name=\"f\">x</｜DSML｜ invoke>\">\n</｜DSML｜ invoke>");
        assert_eq!(invokes.len(), 1);
        assert_eq!(invokes[0].name, "f\">x</｜DSML｜ invoke>");
        assert_eq!(outside, "");
    }

    #[test]
    fn images_and_unknown_roles_are_refused() {
        let image = Content::Parts(vec![ContentPart::Image {
            image: "data:".into(),
        }]);
        for role in [Role::User, Role::Assistant, Role::System] {
            let c = [msg(role, image.clone()), msg(Role::Assistant, "a")];
            let e = renderer("deepseekv4_1")
                .supervised_example(&c, TrainOnWhat::LastAssistantMessage)
                .unwrap_err();
            assert!(e.to_string().contains("not supported yet"), "{e}");
        }
        let c = [msg(Role::Developer, "d"), msg(Role::Assistant, "a")];
        let e = renderer("deepseekv4_1")
            .supervised_example(&c, TrainOnWhat::LastAssistantMessage)
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("Unsupported role for DeepSeek V4.1: developer"),
            "{e}"
        );
    }
}
