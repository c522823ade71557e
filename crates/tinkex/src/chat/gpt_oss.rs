//! `gpt_oss_*`: OpenAI's Harmony format for gpt-oss,
//! `<|start|>role<|channel|>channel<|message|>content<|end|>` (tinker-cookbook 0.6.1
//! `renderers/gpt_oss.py`, `GptOssRenderer`).
//!
//! * `gpt_oss_no_sysprompt` renders the conversation as it is; `gpt_oss_{low,medium,high}_reasoning`
//!   put OpenAI's system prompt (`Current date:` from [`RendererOptions::current_date`],
//!   `Reasoning: low|medium|high`) before it, in the generation prompt and in every supervised
//!   example.
//! * A `system` message becomes a `developer` message headed `# Instructions`; the built-in system
//!   message ([`Role::GptOssSystem`]) is Harmony's own `system`.
//! * An assistant message: its reasoning on the `analysis` channel, then either its tool calls
//!   (`to=functions.NAME` on `commentary`, each ended by `<|call|>`, its text before them as a
//!   `commentary` preamble) or its text on `final`; `<|return|>` ends the last message, `<|end|>`
//!   the others.
//! * A tool result: `<|start|>functions.NAME to=assistant<|channel|>commentary<|message|>…`.
//! * Parsing splits the reply into its Harmony messages: `analysis` is thinking, `final` and
//!   `commentary` are text, a message to `functions.NAME` is a tool call (its arguments must be
//!   JSON, or it is an unparsed call with Python's error text).

use std::borrow::Cow;
use std::sync::Arc;

use crate::error::Result;
use crate::tokenizer::Tokenizer;
use crate::types::ModelInput;

use super::base::{
    self, ensure_text, refuse, refuse_images, single_token, RenderContext, RenderedMessage,
    Template,
};
use super::message::{
    Content, ContentPart, Message, ParseTermination, Role, StopSequences, ToolCall, ToolSpec,
    TrainOnWhat, UnparsedToolCall,
};
use super::pyjson::{self, DumpOptions, PyStr, Value};
use super::pyrepr::{py_str, truthy, type_name};
use super::text::{py_isspace, py_strip, today_utc};
use super::{template_renderer, Renderer, RendererOptions};

const MESSAGE: &str = "<|message|>";
const START: &str = "<|start|>";
const END: &str = "<|end|>";
const CALL: &str = "<|call|>";
const RETURN: &str = "<|return|>";

/// The tool-routing instruction of the system message `tool_prefix` returns.
const TOOL_ROUTING: &str = "Calls to these tools must go to the commentary channel: 'functions'.";

/// What `_detect_dangling_tool_block` reports (`UNTERMINATED_TOOL_BLOCK_ERROR: …`).
const DANGLING_TOOL_BLOCK: &str = "unterminated tool block: 'to=functions.' tool-call header \
                                   without a parsable arguments payload";

pub(crate) struct GptOss {
    name: &'static str,
    tok: Arc<Tokenizer>,
    /// OpenAI's system message (`_get_system_message`), for the `*_reasoning` renderers.
    system: Option<Message>,
    /// That message rendered (header, output): it starts every prompt and example.
    system_tokens: Option<(Vec<u32>, Vec<u32>)>,
    /// The header (`<|start|>ROLE`) of each role but `tool`, by [`role_slot`].
    headers: [Vec<u32>; 6],
    ret: u32,
    call: u32,
}

pub(crate) fn build_no_sysprompt(
    name: &'static str,
    tok: Arc<Tokenizer>,
    options: &RendererOptions,
) -> Result<Arc<dyn Renderer>> {
    build(name, tok, options, None)
}

pub(crate) fn build_low(
    name: &'static str,
    tok: Arc<Tokenizer>,
    options: &RendererOptions,
) -> Result<Arc<dyn Renderer>> {
    build(name, tok, options, Some("low"))
}

pub(crate) fn build_medium(
    name: &'static str,
    tok: Arc<Tokenizer>,
    options: &RendererOptions,
) -> Result<Arc<dyn Renderer>> {
    build(name, tok, options, Some("medium"))
}

pub(crate) fn build_high(
    name: &'static str,
    tok: Arc<Tokenizer>,
    options: &RendererOptions,
) -> Result<Arc<dyn Renderer>> {
    build(name, tok, options, Some("high"))
}

/// `GptOssRenderer(tokenizer, use_system_prompt=effort is not None, reasoning_effort=effort,
/// current_date=options.current_date)`, the date fixed now when the options give none.
fn build(
    name: &'static str,
    tok: Arc<Tokenizer>,
    options: &RendererOptions,
    effort: Option<&str>,
) -> Result<Arc<dyn Renderer>> {
    let ret = single_token(name, &tok, RETURN)?;
    let call = single_token(name, &tok, CALL)?;
    let header = |role: &str| tok.encode(&[START, role].concat(), false);
    let headers = [
        header("developer")?,
        header("user")?,
        header("assistant")?,
        header("developer")?,
        header("tool_declare")?,
        header("system")?,
    ];
    let system = effort.map(|effort| {
        let date = options.current_date.clone().unwrap_or_else(today_utc);
        Message::new(
            Role::GptOssSystem,
            format!(
                "You are ChatGPT, a large language model trained by OpenAI.\n\
                 Knowledge cutoff: 2024-06\n\
                 Current date: {date}\n\n\
                 Reasoning: {effort}\n\n\
                 # Valid channels: analysis, commentary, final. Channel must be included for \
                 every message."
            ),
        )
    });
    let mut r = GptOss {
        name,
        tok,
        system,
        system_tokens: None,
        headers,
        ret,
        call,
    };
    if let Some(sys) = &r.system {
        let ctx = RenderContext {
            idx: 0,
            is_last: false,
            prev: None,
            next: None,
            last_user_index: None,
            in_last_assistant_turn: false,
        };
        let rendered = r.render_message(sys, &ctx)?;
        let header = rendered.header.unwrap_or_default();
        let output = rendered.output.concat();
        r.system_tokens = Some((header, output));
    }
    Ok(Arc::new(r))
}

/// Index of a role's header in [`GptOss::headers`] (`None` for `tool`, whose header names the
/// tool).
fn role_slot(role: Role) -> Option<usize> {
    match role {
        Role::System => Some(0),
        Role::User => Some(1),
        Role::Assistant => Some(2),
        Role::Developer => Some(3),
        Role::ToolDeclare => Some(4),
        Role::GptOssSystem => Some(5),
        Role::Tool => None,
    }
}

/// An assistant message's text parts joined, and its thinking parts joined.
fn text_and_thinking(content: &Content) -> (Cow<'_, str>, Cow<'_, str>) {
    match content {
        Content::Text(s) => (Cow::Borrowed(s.as_str()), Cow::Borrowed("")),
        Content::Parts(parts) => {
            let (mut text, mut thinking) = (String::new(), String::new());
            for p in parts {
                match p {
                    ContentPart::Text { text: t } => text.push_str(t),
                    ContentPart::Thinking { thinking: t } => thinking.push_str(t),
                    ContentPart::Image { .. } => {}
                }
            }
            (Cow::Owned(text), Cow::Owned(thinking))
        }
    }
}

impl GptOss {
    /// The messages with the built-in system message first, when there is one.
    fn with_system<'m>(&self, messages: &'m [Message]) -> Cow<'m, [Message]> {
        match &self.system {
            Some(sys) => {
                let mut all = Vec::with_capacity(messages.len() + 1);
                all.push(sys.clone());
                all.extend_from_slice(messages);
                Cow::Owned(all)
            }
            None => Cow::Borrowed(messages),
        }
    }

    /// `_render_tool_result_message`.
    fn render_tool_result(&self, m: &Message) -> Result<RenderedMessage> {
        // The cookbook warns when the name is missing, and writes `functions.unknown`.
        let name = match m.name.as_deref() {
            None | Some("") => "unknown",
            Some(n) => n,
        };
        let prefix = if name.starts_with("functions.") {
            ""
        } else {
            "functions."
        };
        let header = [START, prefix, name, " to=assistant"].concat();
        let content = ensure_text(self.name, &m.content)?;
        let output = ["<|channel|>commentary", MESSAGE, content, END].concat();
        Ok(RenderedMessage::new(
            self.tok.encode(&header, false)?,
            self.tok.encode(&output, false)?,
        ))
    }

    /// The output of an assistant message: analysis, then the tool calls or the final text,
    /// then `<|return|>` / `<|end|>` (none after tool calls: each ends with `<|call|>`).
    fn assistant_output(&self, m: &Message, is_last: bool) -> Result<String> {
        refuse_images(self.name, m)?;
        let (text, thinking) = text_and_thinking(&m.content);
        let calls = m.tool_calls.as_deref().unwrap_or_default();
        let mut out = String::with_capacity(text.len() + thinking.len() + 64);
        if !thinking.is_empty() {
            out.push_str("<|channel|>analysis");
            out.push_str(MESSAGE);
            out.push_str(&thinking);
            out.push_str(END);
            out.push_str("<|start|>assistant");
        }
        if calls.is_empty() {
            out.push_str("<|channel|>final");
            out.push_str(MESSAGE);
            out.push_str(&text);
            out.push_str(if is_last { RETURN } else { END });
            return Ok(out);
        }
        if !text.is_empty() {
            out.push_str("<|channel|>commentary");
            out.push_str(MESSAGE);
            out.push_str(&text);
            out.push_str(END);
            out.push_str("<|start|>assistant");
        }
        for (i, tc) in calls.iter().enumerate() {
            if i > 0 {
                out.push_str("<|start|>assistant");
            }
            out.push_str(" to=functions.");
            out.push_str(&tc.function.name);
            out.push_str("<|channel|>commentary <|constrain|>json");
            out.push_str(MESSAGE);
            out.push_str(&tc.function.arguments);
            out.push_str(CALL);
        }
        Ok(out)
    }
}

impl Template for GptOss {
    fn tok(&self) -> &Tokenizer {
        &self.tok
    }
    fn renderer_name(&self) -> &str {
        self.name
    }
    fn class_name(&self) -> &'static str {
        "GptOssRenderer"
    }

    fn render_message(&self, m: &Message, ctx: &RenderContext) -> Result<RenderedMessage> {
        let Some(slot) = role_slot(m.role) else {
            return self.render_tool_result(m);
        };
        if let (Some(sys), Some((header, output))) = (&self.system, &self.system_tokens) {
            if m.role == Role::GptOssSystem && m.content.same_as(&sys.content) {
                return Ok(RenderedMessage::new(header.clone(), output.clone()));
            }
        }
        let output = match m.role {
            Role::Assistant => self.assistant_output(m, ctx.is_last)?,
            Role::System => [
                MESSAGE,
                "# Instructions\n\n",
                ensure_text(self.name, &m.content)?,
                "\n\n",
                END,
            ]
            .concat(),
            _ => [MESSAGE, ensure_text(self.name, &m.content)?, END].concat(),
        };
        Ok(RenderedMessage::new(
            self.headers[slot].clone(),
            self.tok.encode(&output, false)?,
        ))
    }

    /// The header of an empty message of `role` (what the cookbook's default renders).
    fn generation_suffix(&self, role: Role, _: &RenderContext) -> Result<Vec<u32>> {
        match role_slot(role) {
            Some(slot) => Ok(self.headers[slot].clone()),
            None => self
                .tok
                .encode("<|start|>functions.unknown to=assistant", false),
        }
    }

    /// The system message first, when configured, then the base prompt.
    fn generation_prompt(
        &self,
        messages: &[Message],
        role: Role,
        prefill: Option<&str>,
    ) -> Result<ModelInput> {
        base::generation_prompt(self, &self.with_system(messages), role, prefill)
    }

    /// The system message first, when configured, then the base example. As in the cookbook,
    /// the base then compares the example with this renderer's generation prompt of the
    /// messages before the trained turn — which prepends the system message a second time, so
    /// with a system message that prompt is never a prefix and the weights stay as rendered.
    fn supervised_example(
        &self,
        messages: &[Message],
        train_on: TrainOnWhat,
    ) -> Result<(ModelInput, Vec<f32>)> {
        base::supervised_example(self, &self.with_system(messages), train_on)
    }

    fn stop_sequences(&self) -> Result<StopSequences> {
        Ok(StopSequences::Tokens(vec![self.ret, self.call]))
    }

    fn parse_response(&self, response: &[u32]) -> Result<(Message, ParseTermination)> {
        let count = |id: u32| response.iter().filter(|&&t| t == id).count();
        let (calls, returns) = (count(self.call), count(self.ret));
        if calls == 0 && returns == 0 {
            let text = self.tok.decode(response, false)?;
            return Ok((
                Message::new(Role::Assistant, text),
                ParseTermination::Malformed,
            ));
        }
        for (n, token) in [(calls, CALL), (returns, RETURN)] {
            if n > 1 {
                return Err(refuse(
                    self.name,
                    format!(
                        "When parsing response, expected at most 1 {token} token, but got {n}. \
                         You probably are using the wrong stop tokens when sampling"
                    ),
                ));
            }
        }
        let stop = response
            .iter()
            .position(|&t| t == self.ret || t == self.call)
            .unwrap_or(response.len());
        let text = self.tok.decode(&response[..stop], false)?;
        let (parts, tool_calls, mut unparsed) =
            parse_harmony_output(&text).map_err(|e| refuse(self.name, e.to_string()))?;
        if let Some(d) = dangling_tool_block(&text, tool_calls.len() + unparsed.len()) {
            unparsed.push(d);
        }
        let mut message = Message::new(
            Role::Assistant,
            if parts.is_empty() {
                Content::Text(text)
            } else {
                Content::Parts(parts)
            },
        );
        message.tool_calls = (!tool_calls.is_empty()).then_some(tool_calls);
        message.unparsed_tool_calls = (!unparsed.is_empty()).then_some(unparsed);
        Ok((message, ParseTermination::StopSequence))
    }

    /// `create_conversation_prefix_with_tools`: a system message routing tool calls to the
    /// `functions` namespace (when there are tools), and a developer message with the
    /// instructions and the tools as TypeScript-ish declarations.
    fn tool_prefix(&self, tools: &[ToolSpec], system_prompt: &str) -> Result<Vec<Message>> {
        let mut messages = Vec::with_capacity(2);
        if !tools.is_empty() {
            messages.push(Message::new(Role::GptOssSystem, TOOL_ROUTING));
        }
        let mut sections = Vec::with_capacity(2);
        if !system_prompt.is_empty() {
            sections.push(format!("# Instructions\n\n{system_prompt}"));
        }
        if !tools.is_empty() {
            let defs = tools
                .iter()
                .map(tool_definition)
                .collect::<PyResult<Vec<_>>>()
                .map_err(|e| refuse(self.name, format!("tool definitions: {e}")))?;
            sections.push(format!(
                "# Tools\n\n## functions\n\nnamespace functions {{\n\n{}\n\n}} // namespace functions",
                defs.join("\n\n")
            ));
        }
        if !sections.is_empty() {
            messages.push(Message::new(Role::Developer, sections.join("\n\n")));
        }
        Ok(messages)
    }
}

template_renderer!(GptOss);

// ---------------------------------------------------------------------------------------------
// Parsing

/// One Harmony message of a reply (`_parse_harmony_messages`).
#[derive(Debug, PartialEq)]
struct HarmonyMessage<'a> {
    channel: Option<&'a str>,
    recipient: Option<&'a str>,
    content: &'a str,
    raw_text: &'a str,
}

/// The text of the first match of `MARKER([^<\s]+)` in `header` (`\s` as Python's `re` reads it
/// on a `str`: Unicode whitespace); with `skip_space`, `MARKER\s*([^\s<]+)`.
fn capture_after<'a>(header: &'a str, marker: &str, skip_space: bool) -> Option<&'a str> {
    let mut from = 0;
    while let Some(at) = header[from..].find(marker) {
        let mut rest = &header[from + at + marker.len()..];
        if skip_space {
            rest = rest.trim_start_matches(py_isspace);
        }
        let len = rest
            .find(|c: char| c == '<' || py_isspace(c))
            .unwrap_or(rest.len());
        if len > 0 {
            return Some(&rest[..len]);
        }
        // The marker starts with an ASCII character, so one byte on is a char boundary.
        from += at + 1;
    }
    None
}

/// Splits decoded text into Harmony messages, with the cookbook's find/rfind rules: each
/// `<|message|>` opens a body that runs to the nearest `<|end|>`, `<|call|>` or `<|return|>`
/// (or the end); its header is the text since the last `<|start|>` before it (or since the
/// previous message).
fn harmony_messages(content: &str) -> Vec<HarmonyMessage<'_>> {
    let mut out = Vec::new();
    let mut idx = 0;
    while let Some(at) = content[idx..].find(MESSAGE) {
        let message_idx = idx + at;
        let header_start = content[idx..message_idx]
            .rfind(START)
            .map_or(idx, |i| idx + i);
        let header = &content[header_start..message_idx];
        let body_start = message_idx + MESSAGE.len();
        let (end_idx, end_len) = [END, CALL, RETURN]
            .iter()
            .filter_map(|t| {
                content[body_start..]
                    .find(t)
                    .map(|i| (body_start + i, t.len()))
            })
            .min()
            .unwrap_or((content.len(), 0));
        out.push(HarmonyMessage {
            channel: capture_after(header, "<|channel|>", false),
            recipient: capture_after(header, "to=", false),
            content: &content[body_start..end_idx],
            raw_text: if end_len > 0 {
                &content[header_start..end_idx + end_len]
            } else {
                &content[header_start..]
            },
        });
        idx = end_idx + end_len;
    }
    out
}

/// A Python exception that is not a `json.JSONDecodeError` escaped `json.loads`.
#[derive(Debug)]
struct LoadsFailed(pyjson::DecodeError);

impl std::fmt::Display for LoadsFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

type Parsed = (Vec<ContentPart>, Vec<ToolCall>, Vec<UnparsedToolCall>);

/// `_parse_harmony_output`: each non-blank message to `functions.NAME` is a tool call (valid
/// JSON arguments, stripped) or an unparsed one (`Invalid JSON: …`); otherwise `analysis` is
/// thinking, `final` and `commentary` are text, other channels are dropped.
fn parse_harmony_output(content: &str) -> std::result::Result<Parsed, LoadsFailed> {
    let (mut parts, mut calls, mut unparsed) = (Vec::new(), Vec::new(), Vec::new());
    for m in harmony_messages(content) {
        if py_strip(m.content).is_empty() {
            continue;
        }
        if let Some(tool) = m.recipient.and_then(|r| r.strip_prefix("functions.")) {
            match pyjson::loads(m.content) {
                Ok(_) => calls.push(ToolCall::new(tool, py_strip(m.content), None)),
                Err(e) if e.msg().is_some() => unparsed.push(UnparsedToolCall {
                    raw_text: m.raw_text.to_owned(),
                    error: format!("Invalid JSON: {e}"),
                }),
                // ValueError / RecursionError: not caught by the cookbook.
                Err(e) => return Err(LoadsFailed(e)),
            }
            continue;
        }
        match m.channel {
            Some("analysis") => parts.push(ContentPart::thinking(m.content)),
            Some("final" | "commentary") => parts.push(ContentPart::text(m.content)),
            _ => {}
        }
    }
    Ok((parts, calls, unparsed))
}

/// `_detect_dangling_tool_block`: more `to=functions.` headers than parsed and unparsed calls
/// means a call lost its arguments; reported from the last `<|start|>`.
fn dangling_tool_block(content: &str, found: usize) -> Option<UnparsedToolCall> {
    if content.matches("to=functions.").count() <= found {
        return None;
    }
    let raw = content.rfind(START).map_or(content, |i| &content[i..]);
    Some(UnparsedToolCall {
        raw_text: raw.to_owned(),
        error: DANGLING_TOOL_BLOCK.to_owned(),
    })
}

// ---------------------------------------------------------------------------------------------
// Tool definitions

/// A Python exception the cookbook's schema formatting would raise on this schema (a list
/// where it expects a dict, …): `TypeError: 'int' object is not iterable`.
#[derive(Debug)]
struct PyErr {
    kind: &'static str,
    message: String,
}

impl std::fmt::Display for PyErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

type PyResult<T> = std::result::Result<T, PyErr>;

fn type_error(message: String) -> PyErr {
    PyErr {
        kind: "TypeError",
        message,
    }
}

type Dict = [(PyStr, Value)];

/// `v.ATTR(…)` on what must be a dict.
fn dict<'a>(v: &'a Value, attr: &str) -> PyResult<&'a Dict> {
    match v {
        Value::Object(pairs) => Ok(pairs),
        _ => Err(PyErr {
            kind: "AttributeError",
            message: format!("'{}' object has no attribute '{attr}'", type_name(v)),
        }),
    }
}

/// `d.get(key)`.
fn get<'a>(d: &'a Dict, key: &str) -> Option<&'a Value> {
    d.iter().find(|(k, _)| *k == *key).map(|(_, v)| v)
}

/// `key in v`: a dict's keys, a string's substrings, a list's items.
fn py_in(key: &str, v: &Value) -> PyResult<bool> {
    match v {
        Value::Object(d) => Ok(get(d, key).is_some()),
        Value::Str(s) => Ok(s.to_string_lossy().contains(key)),
        Value::Array(items) => Ok(items
            .iter()
            .any(|x| matches!(x, Value::Str(s) if *s == *key))),
        _ => Err(type_error(format!(
            "argument of type '{}' is not iterable",
            type_name(v)
        ))),
    }
}

/// `v[key]` after `key in v` held.
fn py_index<'a>(v: &'a Value, key: &str) -> PyResult<&'a Value> {
    match v {
        Value::Object(d) => Ok(get(d, key).unwrap_or(&Value::Null)),
        Value::Str(_) => Err(type_error(
            "string indices must be integers, not 'str'".into(),
        )),
        _ => Err(type_error(
            "list indices must be integers or slices, not str".into(),
        )),
    }
}

/// `iter(v)`: a list's items, a string's characters, a dict's keys.
fn py_iter(v: &Value) -> PyResult<Vec<Cow<'_, Value>>> {
    match v {
        Value::Array(items) => Ok(items.iter().map(Cow::Borrowed).collect()),
        Value::Str(s) => Ok(s
            .to_string_lossy()
            .chars()
            .map(|c| Cow::Owned(Value::Str(PyStr::from(c.to_string()))))
            .collect()),
        Value::Object(d) => Ok(d
            .iter()
            .map(|(k, _)| Cow::Owned(Value::Str(k.clone())))
            .collect()),
        _ => Err(type_error(format!(
            "'{}' object is not iterable",
            type_name(v)
        ))),
    }
}

/// `set(schema.get("required", []))`, kept as the strings in it (a property name is a string,
/// so only those can match).
fn required_names(schema: &Dict) -> PyResult<Vec<String>> {
    let Some(required) = get(schema, "required") else {
        return Ok(Vec::new());
    };
    let mut names = Vec::new();
    for item in py_iter(required)? {
        match &*item {
            Value::Str(s) => names.push(s.to_string_lossy().into_owned()),
            v @ (Value::Array(_) | Value::Object(_)) => {
                return Err(type_error(format!("unhashable type: '{}'", type_name(v))))
            }
            _ => {}
        }
    }
    Ok(names)
}

/// `json.dumps(v)` with Python's defaults.
fn dumps(v: &Value) -> PyResult<String> {
    pyjson::dumps(v, &DumpOptions::default()).map_err(|e| PyErr {
        kind: "ValueError",
        message: e.to_string(),
    })
}

/// `" | ".join(f(x) for x in items)`.
fn join_types(v: &Value, f: impl Fn(&Value) -> PyResult<String>) -> PyResult<String> {
    let items = py_iter(v)?;
    let types = items.iter().map(|x| f(x)).collect::<PyResult<Vec<_>>>()?;
    Ok(types.join(" | "))
}

/// `_json_type_to_typescript`: one schema as a TypeScript type.
fn ts_type(schema: &Value) -> PyResult<String> {
    for key in ["oneOf", "anyOf"] {
        if py_in(key, schema)? {
            return join_types(py_index(schema, key)?, ts_type);
        }
    }
    let d = dict(schema, "get")?;
    let json_type = get(d, "type");
    let is = |name: &str| matches!(json_type, Some(Value::Str(s)) if *s == *name);
    if let Some(types @ Value::Array(_)) = json_type {
        return join_types(types, |t| {
            ts_type(&Value::Object(vec![(PyStr::from("type"), t.clone())]))
        });
    }
    // A missing type is "any", which is none of these.
    let base = if is("string") {
        if let Some(values) = get(d, "enum") {
            return join_types(values, dumps);
        }
        "string".to_owned()
    } else if is("number") || is("integer") {
        "number".to_owned()
    } else if is("boolean") {
        "boolean".to_owned()
    } else if is("array") {
        let items = match get(d, "items") {
            Some(items) => ts_type(items)?,
            None => "any".to_owned(),
        };
        format!("{items}[]")
    } else if is("object") {
        object_type(d)?
    } else {
        "any".to_owned()
    };
    Ok(if get(d, "nullable").is_some_and(truthy) {
        format!("{base} | null")
    } else {
        base
    })
}

/// `_json_schema_to_typescript` of an object schema: `{ name?: type, … }`.
fn object_type(schema: &Dict) -> PyResult<String> {
    let empty = Value::Object(Vec::new());
    let properties = get(schema, "properties").unwrap_or(&empty);
    let required = required_names(schema)?;
    let mut fields = Vec::new();
    for (name, prop) in dict(properties, "items")? {
        let name = name.to_string_lossy();
        let ty = ts_type(prop)?;
        let optional = if required.iter().any(|r| *r == name) {
            ""
        } else {
            "?"
        };
        fields.push(format!("{name}{optional}: {ty}"));
    }
    Ok(format!("{{ {} }}", fields.join(", ")))
}

/// `_schema_comments`: title (and a blank line), description, examples.
fn schema_comments(schema: &Value) -> PyResult<Vec<String>> {
    let d = dict(schema, "get")?;
    let mut comments = Vec::new();
    if let Some(title) = get(d, "title").filter(|v| truthy(v)) {
        comments.push(py_str(title));
        comments.push(String::new());
    }
    if let Some(description) = get(d, "description").filter(|v| truthy(v)) {
        comments.push(py_str(description));
    }
    if let Some(examples) = get(d, "examples").filter(|v| truthy(v)) {
        comments.push("Examples:".to_owned());
        for example in py_iter(examples)? {
            comments.push(format!("- {}", dumps(&example)?));
        }
    }
    Ok(comments)
}

/// `_format_parameters_block`: `()` unless an object schema with properties; else one line per
/// property with its comments and default.
fn parameters_block(schema: &Value) -> PyResult<String> {
    let d = dict(schema, "get")?;
    let is_object = matches!(get(d, "type"), Some(Value::Str(s)) if *s == "object");
    let Some(properties) = get(d, "properties").filter(|p| is_object && truthy(p)) else {
        return Ok("()".to_owned());
    };
    let mut lines = Vec::new();
    match get(d, "description").filter(|v| truthy(v)) {
        Some(description) => lines.push(format!("(_: // {}", py_str(description))),
        None => lines.push("(_:".to_owned()),
    }
    lines.push("{".to_owned());
    let required = required_names(d)?;
    for (name, prop) in dict(properties, "items")? {
        lines.extend(
            schema_comments(prop)?
                .into_iter()
                .map(|c| format!("// {c}")),
        );
        let ty = ts_type(prop)?;
        let name = name.to_string_lossy();
        let optional = if required.iter().any(|r| *r == name) {
            ""
        } else {
            "?"
        };
        // `prop` is a dict: its comments were read.
        let default = match get(dict(prop, "get")?, "default") {
            Some(v) => format!(" // default: {}", dumps(v)?),
            None => String::new(),
        };
        lines.push(format!("{name}{optional}: {ty},{default}"));
    }
    lines.push("})".to_owned());
    Ok(lines.join("\n"))
}

/// `_format_tool_definition`: `// description` and `type NAME = (…) => any;`.
fn tool_definition(tool: &ToolSpec) -> PyResult<String> {
    // `tool.get("parameters") or {}` and `tool.get("description")`: any JSON value, by Python's
    // truthiness, printed with str().
    let params = tool
        .parameters()
        .map(Value::from_serde)
        .unwrap_or(Value::Null);
    let block = if truthy(&params) {
        parameters_block(&params)?
    } else {
        "()".to_owned()
    };
    let signature = format!("type {} = {block} => any;", tool.name());
    Ok(match tool.get("description").map(Value::from_serde) {
        Some(d) if truthy(&d) => format!("// {}\n{signature}", py_str(&d)),
        _ => signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harmony_split_uses_find_and_rfind() {
        let text = "<|channel|>analysis<|message|>think<|end|><|start|>assistant to=functions.f\
                    <|channel|>commentary <|constrain|>json<|message|>{\"a\": 1}";
        let m = harmony_messages(text);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].channel, Some("analysis"));
        assert_eq!(m[0].content, "think");
        assert_eq!(m[0].raw_text, "<|channel|>analysis<|message|>think<|end|>");
        assert_eq!(m[1].recipient, Some("functions.f"));
        assert_eq!(m[1].channel, Some("commentary"));
        assert_eq!(m[1].content, "{\"a\": 1}");
        assert!(m[1].raw_text.starts_with("<|start|>assistant to="));
        // A body ends at the nearest of the three end tokens.
        let m = harmony_messages("<|message|>a<|return|>b<|end|><|message|>c");
        assert_eq!(m.iter().map(|m| m.content).collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(m[1].raw_text, "b<|end|><|message|>c");
    }

    #[test]
    fn header_regexes_read_python_whitespace() {
        // `[^<\s]+` stops at Unicode whitespace and at `<`; an empty capture moves on.
        assert_eq!(
            capture_after("<|channel|>fi\u{3000}nal", "<|channel|>", false),
            Some("fi")
        );
        assert_eq!(
            capture_after("<|channel|> x<|channel|>final", "<|channel|>", false),
            Some("final")
        );
        assert_eq!(capture_after("to=", "to=", false), None);
        assert_eq!(capture_after("xto=to=y", "to=", false), Some("to=y"));
        assert_eq!(
            capture_after("<|constrain|>\u{1c} json<", "<|constrain|>", true),
            Some("json")
        );
    }

    #[test]
    fn tool_calls_need_json_and_keep_python_errors() {
        let (parts, calls, unparsed) = parse_harmony_output(
            "<|start|>assistant to=functions.f<|channel|>commentary<|message|> {\"a\": 1}\n<|call|>",
        )
        .unwrap();
        assert!(parts.is_empty());
        assert_eq!(calls[0].function.arguments, "{\"a\": 1}");
        assert!(unparsed.is_empty());
        let (_, calls, unparsed) = parse_harmony_output(
            "<|start|>assistant to=functions.f<|channel|>commentary<|message|>{\"a\" 1}",
        )
        .unwrap();
        assert!(calls.is_empty());
        assert_eq!(
            unparsed[0].error,
            "Invalid JSON: Expecting ':' delimiter: line 1 column 6 (char 5)"
        );
        // U+3000 is not JSON whitespace: Extra data, though strip() would remove it.
        let (_, _, unparsed) = parse_harmony_output("to=functions.f<|message|>{}\u{3000}").unwrap();
        assert!(unparsed[0].error.starts_with("Invalid JSON: Extra data"));
        // An integer too long for int() is a ValueError the cookbook does not catch.
        let long = format!("to=functions.f<|message|>{}", "1".repeat(4301));
        assert!(parse_harmony_output(&long).is_err());
        // A blank body is skipped, and then the header counts as dangling.
        let text = "<|start|>assistant to=functions.f<|channel|>commentary<|message|> \u{2028}";
        let (_, calls, unparsed) = parse_harmony_output(text).unwrap();
        assert!(calls.is_empty() && unparsed.is_empty());
        let d = dangling_tool_block(text, 0).unwrap();
        assert_eq!(d.raw_text, text);
        assert!(d.error.starts_with("unterminated tool block"));
    }

    fn tok() -> Arc<Tokenizer> {
        crate::cache::TokenizerCache::new(
            crate::Config::default()
                .with_offline(true)
                .with_hub_cache(None)
                .with_prepared_cache(None),
        )
        .get_or_load("openai/gpt-oss-20b")
        .unwrap()
    }

    fn renderer(name: &str) -> Arc<dyn Renderer> {
        let options = RendererOptions::default()
            .with_current_date("2026-01-01")
            .unwrap();
        super::super::renderer_with(name, tok(), &options).unwrap()
    }

    fn conversation() -> Vec<Message> {
        let mut calling = Message::new(
            Role::Assistant,
            vec![
                ContentPart::thinking("need tool"),
                ContentPart::text("Checking."),
            ],
        );
        calling.tool_calls = Some(vec![
            ToolCall::new("w", "{\"c\": 1}", Some("a".into())),
            ToolCall::new("x", "{}", Some("b".into())),
        ]);
        let mut result = Message::new(Role::Tool, "sunny");
        result.name = Some("w".into());
        vec![
            Message::new(Role::System, "Be brief."),
            Message::new(Role::User, "Weather?"),
            calling,
            result,
            Message::new(Role::Tool, "ok"),
            Message::new(
                Role::Assistant,
                vec![ContentPart::thinking(""), ContentPart::text("Sunny.")],
            ),
            Message::new(Role::User, "Thanks"),
            Message::new(Role::Assistant, "Bye"),
        ]
    }

    #[test]
    fn rendering_rules_match_the_cookbook() {
        // The cookbook's build_supervised_example(conversation, ALL_ASSISTANT_MESSAGES),
        // decoded: system → developer with `# Instructions`; analysis only for non-empty
        // thinking; the text before tool calls as a commentary preamble; `<|call|>` after each
        // call, `<|start|>assistant` between them; a tool result without a name goes to
        // `functions.unknown`; `<|end|>` for history, `<|return|>` for the last message.
        let r = renderer("gpt_oss_no_sysprompt");
        let (input, weights) = r
            .supervised_example(&conversation(), TrainOnWhat::AllAssistantMessages)
            .unwrap();
        let ids = input.to_ints().unwrap();
        assert_eq!(
            r.tokenizer().decode(&ids, false).unwrap(),
            "<|start|>developer<|message|># Instructions\n\nBe brief.\n\n<|end|><|start|>user\
             <|message|>Weather?<|end|><|start|>assistant<|channel|>analysis<|message|>need tool\
             <|end|><|start|>assistant<|channel|>commentary<|message|>Checking.<|end|><|start|>\
             assistant to=functions.w<|channel|>commentary <|constrain|>json<|message|>{\"c\": 1}\
             <|call|><|start|>assistant to=functions.x<|channel|>commentary <|constrain|>json\
             <|message|>{}<|call|><|start|>functions.w to=assistant<|channel|>commentary\
             <|message|>sunny<|end|><|start|>functions.unknown to=assistant<|channel|>commentary\
             <|message|>ok<|end|><|start|>assistant<|channel|>final<|message|>Sunny.<|end|>\
             <|start|>user<|message|>Thanks<|end|><|start|>assistant<|channel|>final<|message|>\
             Bye<|return|>"
        );
        let w: String = weights
            .iter()
            .map(|&w| if w > 0.0 { '1' } else { '0' })
            .collect();
        assert_eq!(
            w,
            "000000000000000000111111111111111111111111111111111111111111111111110000000000000000\
             000000000000111111000000011111"
        );
    }

    #[test]
    fn system_prompt_comes_first_with_the_date_and_effort() {
        let r = renderer("gpt_oss_high_reasoning");
        let c = conversation();
        let prompt = r.generation_prompt(&c[..2], Role::Tool, None).unwrap();
        assert_eq!(
            r.tokenizer().decode(&prompt.to_ints().unwrap(), false).unwrap(),
            "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n\
             Knowledge cutoff: 2024-06\nCurrent date: 2026-01-01\n\nReasoning: high\n\n\
             # Valid channels: analysis, commentary, final. Channel must be included for every \
             message.<|end|><|start|>developer<|message|># Instructions\n\nBe brief.\n\n<|end|>\
             <|start|>user<|message|>Weather?<|end|><|start|>functions.unknown to=assistant"
        );
        // The example starts with the prompt of the messages before the trained turn, system
        // message once.
        let (input, weights) = r
            .supervised_example(&c, TrainOnWhat::LastAssistantMessage)
            .unwrap();
        let ids = input.to_ints().unwrap();
        let prompt = r
            .generation_prompt(&c[..c.len() - 1], Role::Assistant, None)
            .unwrap()
            .to_ints()
            .unwrap();
        assert!(ids.starts_with(&prompt));
        assert!(weights[..prompt.len()].iter().all(|&w| w == 0.0));
        assert!(weights[prompt.len()..].iter().all(|&w| w == 1.0));
        // The built-in system message has no `trainable`: customized refuses, as the cookbook
        // asserts.
        let mut marked = c.clone();
        for m in &mut marked {
            m.trainable = Some(true);
        }
        assert!(r
            .supervised_example(&marked, TrainOnWhat::Customized)
            .unwrap_err()
            .to_string()
            .contains("each message must have a trainable field"));
        assert!(renderer("gpt_oss_no_sysprompt")
            .supervised_example(&marked, TrainOnWhat::Customized)
            .is_ok());
    }

    #[test]
    fn the_trained_completion_parses_back() {
        for name in ["gpt_oss_no_sysprompt", "gpt_oss_low_reasoning"] {
            let r = renderer(name);
            let mut c = conversation();
            // Two calls would be two `<|call|>` stop tokens, which the parser refuses.
            c[2].tool_calls.as_mut().unwrap().truncate(1);
            for end in [3, c.len()] {
                let (input, _) = r
                    .supervised_example(&c[..end], TrainOnWhat::LastAssistantMessage)
                    .unwrap();
                let ids = input.to_ints().unwrap();
                let prompt = r
                    .generation_prompt(&c[..end - 1], Role::Assistant, None)
                    .unwrap()
                    .to_ints()
                    .unwrap();
                let (m, t) = r.parse_response(&ids[prompt.len()..]).unwrap();
                assert_eq!(t, ParseTermination::StopSequence);
                let mut want = c[end - 1].clone();
                if let Some(calls) = &mut want.tool_calls {
                    // Harmony carries no call ids.
                    calls.iter_mut().for_each(|tc| tc.id = None);
                }
                assert!(m.same_as(&want), "{name}: {m:?}");
            }
        }
    }

    #[test]
    fn stop_tokens_and_their_refusals() {
        let r = renderer("gpt_oss_medium_reasoning");
        let StopSequences::Tokens(stop) = r.stop_sequences().unwrap() else {
            panic!("gpt-oss stops on tokens");
        };
        let tok = r.tokenizer();
        assert_eq!(
            stop,
            [
                tok.token_to_id("<|return|>").unwrap(),
                tok.token_to_id("<|call|>").unwrap()
            ]
        );
        let ids = tok
            .encode("<|channel|>final<|message|>a<|return|>b<|return|>", false)
            .unwrap();
        assert!(r
            .parse_response(&ids)
            .unwrap_err()
            .to_string()
            .contains("expected at most 1 <|return|> token, but got 2"));
        // No stop token: the whole text, malformed.
        let ids = tok.encode("<|channel|>final<|message|>cut", false).unwrap();
        let (m, t) = r.parse_response(&ids).unwrap();
        assert_eq!(t, ParseTermination::Malformed);
        assert_eq!(m.content.text(), "<|channel|>final<|message|>cut");
    }

    fn def(parameters: &str) -> String {
        let tool = ToolSpec::new("t", "", serde_json::from_str(parameters).unwrap());
        match tool_definition(&tool) {
            Ok(s) => s,
            Err(e) => format!("error {e}"),
        }
    }

    #[test]
    fn tool_definitions_are_the_cookbooks() {
        // /tmp/cbvenv/bin/python -c 'from tinker_cookbook.renderers.gpt_oss import
        // _format_tool_definition as f; print(f({"name": "t", "parameters": P}))'
        assert_eq!(def("null"), "type t = () => any;");
        assert_eq!(def("[]"), "type t = () => any;");
        assert_eq!(
            def(r#"{"type": "object", "properties": {"b": {"type": "string"}, "a": {}}}"#),
            "type t = (_:\n{\nb?: string,\na?: any,\n}) => any;"
        );
        assert_eq!(
            def(
                r#"{"type": "object", "description": 1.0, "required": "ab", "properties": {
                    "a": {"title": true, "description": ["x", 2], "examples": "hi", "type": ["integer", ["null"]]},
                    "ab": {"type": "object", "nullable": 1, "properties": {"z": {"enum": "no"}}},
                    "b": {"type": "string", "enum": [1.5, "é"], "default": {"k": -0.0}}}}"#
            ),
            "type t = (_: // 1.0\n{\n// True\n// \n// ['x', 2]\n// Examples:\n// - \"h\"\n\
             // - \"i\"\na: number | any,\nab?: { z?: any } | null,\n\
             b: 1.5 | \"\\u00e9\", // default: {\"k\": -0.0}\n}) => any;"
        );
        assert_eq!(
            def(r#"{"type": "object", "properties": {"a": "string"}}"#),
            "error AttributeError: 'str' object has no attribute 'get'"
        );
        assert_eq!(
            def(r#"{"type": "object", "properties": {"a": {"anyOf": 3}}}"#),
            "error TypeError: 'int' object is not iterable"
        );
        assert_eq!(
            def(r#"{"type": "object", "properties": {"a": {"items": 3, "type": "array"}}}"#),
            "error TypeError: argument of type 'int' is not iterable"
        );
        assert_eq!(
            def(r#"{"type": "object", "required": [[]], "properties": {"a": {}}}"#),
            "error TypeError: unhashable type: 'list'"
        );
        assert_eq!(
            def(r#"{"type": "object", "properties": [1]}"#),
            "error AttributeError: 'list' object has no attribute 'items'"
        );
    }
}
