//! `tml_v0`: Thinking Machines' Inkling format (tinker-cookbook 0.6.1 `renderers/tml_v0.py`,
//! `renderers/tml_renderers_adapter.py`, `third_party/tml_renderers_compat.py`,
//! `third_party/openai_compat.py`, around the compiled core of `tml-renderers` 0.2.1:
//! `tml_renderers.v0.Renderer` over `O200kBaseChatTokenizer`).
//!
//! The core is closed; the grammar below was learnt by probing it. Every marker is one special
//! token of `o200k_base_chat` (o200k_base's ranks, then 60 specials from id 199998); all other
//! text is encoded the `encode_ordinary` way (special-token markup in text stays text), each
//! piece on its own.
//!
//! # Rendering
//!
//! The cookbook turns each message into *native* messages, each one author and one content:
//!
//! | native message | tokens |
//! |---|---|
//! | text | `<\|message_A\|>` NAME `<\|content_text\|>` TEXT `<\|end_message\|>` |
//! | thinking | `<\|message_A\|>` NAME `<\|content_thinking\|>` TEXT `<\|end_message\|>` |
//! | tool call | `<\|message_A\|>` NAME `<\|content_invoke_tool_json\|>` CALL `<\|end_message\|>` |
//! | tool declarations | `<\|message_system\|>tool_declare<\|content_xml\|>` SPECS `<\|end_message\|>` |
//! | end of a model turn | `<\|content_model_end_sampling\|>` (no frame) |
//!
//! * `A` is the author: `user`, `model` (assistant), `system`, `tool`. NAME is the author's name:
//!   a `tool` message's `name` (none when absent), nothing for the other roles — except that a
//!   model tool call carries the tool's name there.
//! * A message becomes one native message per content part, in order (a string is one text
//!   part, an empty list one empty text part), then one per tool call; a message with tool calls
//!   drops its empty text parts. An assistant message then ends with `ModelEndSampling`. Tool
//!   call ids and `tool_call_id`s are not rendered.
//! * CALL is `{"name":NAME,"args":{…}}` in serde_json's compact form: the arguments sorted by
//!   name, each value as serde_json reads Python's `json.dumps(value)` back (object members
//!   keep their order; integers beyond 64 bits and all decimals are `f64`, read the way
//!   serde_json reads them — not always to the nearest double — and printed shortest, with no
//!   `+` in exponents: `1e16`; `NaN` or nesting deeper than 127 is the core's "failed to parse
//!   JSON value for arg …" error).
//! * SPECS is the list of `{"description","name","parameters","type"}` of a `tool_declare`
//!   message's OpenAI tools (`json.dumps(tool_specs_to_openai_tools(tools), separators=(",",
//!   ":"))`, as `create_conversation_prefix_with_tools` writes it), every object's keys sorted,
//!   in serde_json's compact form except that a positive exponent has its `+` (`1e+30`).
//! * The **thinking effort** is a system message `Thinking effort level: X`, inserted after the
//!   leading system messages (`tool_declare` included): the effort (default 0.9, in `[0, 1)`) is
//!   stored as `round(effort * 1000)` thousandths and shown rounded to hundredths, ties to even
//!   (`(m / 1000 * 100)` as an `f64`), without trailing zeros: 900 → `0.9`, 125 → `0.12`,
//!   999 → `1`, 0 → `0`. tinkex renders the default effort (the cookbook's `effort=` keyword
//!   has no counterpart in [`Renderer`]).
//! * The **generation prompt** is every native message rendered, effort included; nothing is
//!   appended (the model writes `<|message_model|>` itself). Prefill and roles other than the
//!   assistant are refused.
//! * A **supervised example** renders the same tokens and trains every token of the native
//!   messages of the selected assistant messages (`ModelEndSampling` included), frame tokens
//!   too: `all_assistant_messages`; `last_assistant_message` (the last assistant message,
//!   wherever it is); `last_assistant_turn` (those after the last user message); `customized`
//!   (those without `trainable: false`). The other modes are refused. The example ends with the
//!   last trained token (what follows is cut off); with nothing trained there is no example,
//!   which `build_supervised_example` refuses. Prompts extend one another once a non-system
//!   message is in (before that, a later system message goes before the effort message): the
//!   extension property the cookbook claims.
//!
//! # Parsing
//!
//! The core reads the sampled tokens as a stream of native messages. Between messages, a
//! `<|message_A|>` starts a header, `<|content_model_end_sampling|>` is a `ModelEndSampling`
//! (an error when nothing came before it), any other `<|content_…|>` starts a model message
//! without header, and everything else is skipped. In a header, ordinary tokens are the name
//! (valid UTF-8) and the first special token is the content type. The content runs to
//! `<|end_message|>` — special tokens inside it are text — and must stay valid UTF-8 as it
//! grows. Known types: text, thinking, tool error (read as text), tool call (the JSON above:
//! an object with exactly `name`, a non-empty string equal to a header name if there is one,
//! and `args`, an object; it gets the id `functions.NAME:I`, I counting the response's tool
//! calls) and text tool call (which the cookbook cannot express). Any other type is an error.
//! At the end of the tokens, an open header is an error; an open content is dropped, or an
//! error if nothing was read; no message at all from some tokens is an error.
//!
//! The cookbook then groups the messages (without `ModelEndSampling`) into turns — model
//! messages whose names agree (none agrees with any), user or system messages with equal
//! names; tool messages stand alone — and returns the last turn: text and tool-error parts as
//! text, thinking parts, tool calls with their arguments re-dumped by Python's `json.dumps`,
//! the string itself for a single text part. It ended cleanly when a `ModelEndSampling` was
//! read. A parse error, or a text tool call in any turn, gives the decoded tokens as the
//! content, `Malformed`. The stop sequence is `<|content_model_end_sampling|>`; streaming is the
//! generic decode (markers included) ending with the message `parse_response` gives.

use std::collections::HashMap;
use std::sync::Arc;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::error::Result;
use crate::tokenizer::Tokenizer;
use crate::types::ModelInput;

use super::base::{refuse, refuse_images};
use super::message::{
    Content, ContentPart, Message, ParseTermination, Role, StopSequences, ToolCall, ToolSpec,
    TrainOnWhat,
};
use super::pyjson::{self, DumpOptions, PyStr, Value};
use super::pyrepr;
use super::stream::StreamFormat;
use super::{Renderer, RendererOptions};

/// The cookbook's `DEFAULT_EFFORT` (0.9) in thousandths.
const DEFAULT_MILLIEFFORT: u32 = 900;

/// Who wrote a native message (`tml_renderers.chat.AuthorKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Author {
    User,
    Model,
    System,
    Tool,
}

impl Author {
    fn role(self) -> Role {
        match self {
            Author::User => Role::User,
            Author::Model => Role::Assistant,
            Author::System => Role::System,
            Author::Tool => Role::Tool,
        }
    }
}

/// A content type the parser knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Text,
    Thinking,
    ToolError,
    InvokeJson,
    InvokeText,
    /// Any other special token in the content-type position.
    Unknown,
}

/// What a special token means to the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    Header(Author),
    EndMessage,
    EndSampling,
    /// A `<|content_…|>` token.
    Content(Tag),
    Other,
}

/// The special ids the renderer writes.
#[derive(Debug, Clone, Copy)]
struct Ids {
    user: u32,
    model: u32,
    system: u32,
    tool: u32,
    text: u32,
    thinking: u32,
    invoke_json: u32,
    xml: u32,
    end_message: u32,
    end_sampling: u32,
}

pub(crate) struct TmlV0 {
    name: &'static str,
    tok: Arc<Tokenizer>,
    ids: Ids,
    specials: HashMap<u32, Special>,
    /// The effort message at the default effort.
    effort: Vec<u32>,
}

pub(crate) fn build(
    name: &'static str,
    tok: Arc<Tokenizer>,
    _: &RendererOptions,
) -> Result<Arc<dyn Renderer>> {
    let mut by_name: HashMap<&str, u32> = HashMap::new();
    let mut specials = HashMap::new();
    for s in tok.special_tokens() {
        let bare = s
            .content
            .strip_prefix("<|")
            .and_then(|c| c.strip_suffix("|>"))
            .unwrap_or(&s.content);
        by_name.insert(bare, s.id);
        let kind = match bare {
            "message_user" => Special::Header(Author::User),
            "message_model" => Special::Header(Author::Model),
            "message_system" => Special::Header(Author::System),
            "message_tool" => Special::Header(Author::Tool),
            "end_message" => Special::EndMessage,
            "content_model_end_sampling" => Special::EndSampling,
            "content_text" => Special::Content(Tag::Text),
            "content_thinking" => Special::Content(Tag::Thinking),
            "content_tool_error" => Special::Content(Tag::ToolError),
            "content_invoke_tool_json" => Special::Content(Tag::InvokeJson),
            "content_invoke_tool_text" => Special::Content(Tag::InvokeText),
            c if c.starts_with("content_") => Special::Content(Tag::Unknown),
            _ => Special::Other,
        };
        specials.insert(s.id, kind);
    }
    let id = |n: &str| {
        by_name.get(n).copied().ok_or_else(|| {
            refuse(
                name,
                format!(
                    "the tokenizer `{}` has no special token <|{n}|>: tml_v0 needs Inkling's \
                     o200k_base_chat tokenizer (thinkingmachines/Inkling)",
                    tok.name()
                ),
            )
        })
    };
    let ids = Ids {
        user: id("message_user")?,
        model: id("message_model")?,
        system: id("message_system")?,
        tool: id("message_tool")?,
        text: id("content_text")?,
        thinking: id("content_thinking")?,
        invoke_json: id("content_invoke_tool_json")?,
        xml: id("content_xml")?,
        end_message: id("end_message")?,
        end_sampling: id("content_model_end_sampling")?,
    };
    for n in ["content_tool_error", "content_invoke_tool_text"] {
        id(n)?;
    }
    let mut r = TmlV0 {
        name,
        tok,
        ids,
        specials,
        effort: Vec::new(),
    };
    r.effort = r.effort_message(DEFAULT_MILLIEFFORT)?;
    Ok(Arc::new(r))
}

/// How the core shows a thinking effort of `milli` thousandths: hundredths, ties to even, as
/// `f64` arithmetic rounds them, without trailing zeros.
fn effort_text(milli: u32) -> String {
    let hundredths = (f64::from(milli) / 1000.0 * 100.0).round_ties_even() as u64;
    let (whole, frac) = (hundredths / 100, hundredths % 100);
    match frac {
        0 => format!("Thinking effort level: {whole}"),
        f if f % 10 == 0 => format!("Thinking effort level: {whole}.{}", f / 10),
        f => format!("Thinking effort level: {whole}.{f:02}"),
    }
}

// ---------------------------------------------------------------------------------------------
// JSON as the core's serde_json holds it

/// A JSON value as serde_json reads it (numbers as `u64`, `i64` or `f64`), object members in
/// document order, repeated keys kept.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Json, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> std::result::Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, b: bool) -> std::result::Result<Json, E> {
                Ok(Json::Bool(b))
            }
            fn visit_u64<E>(self, n: u64) -> std::result::Result<Json, E> {
                Ok(Json::U64(n))
            }
            fn visit_i64<E>(self, n: i64) -> std::result::Result<Json, E> {
                Ok(Json::I64(n))
            }
            fn visit_f64<E>(self, x: f64) -> std::result::Result<Json, E> {
                Ok(Json::F64(x))
            }
            fn visit_str<E>(self, s: &str) -> std::result::Result<Json, E> {
                Ok(Json::Str(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> std::result::Result<Json, E> {
                Ok(Json::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> std::result::Result<Json, A::Error> {
                let mut items = Vec::with_capacity(a.size_hint().unwrap_or(0));
                while let Some(item) = a.next_element()? {
                    items.push(item);
                }
                Ok(Json::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> std::result::Result<Json, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = a.next_entry()? {
                    pairs.push(pair);
                }
                Ok(Json::Object(pairs))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::U64(n) => s.serialize_u64(*n),
            Json::I64(n) => s.serialize_i64(*n),
            Json::F64(x) => s.serialize_f64(*x),
            Json::Str(t) => s.serialize_str(t),
            Json::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(pairs) => {
                let mut map = s.serialize_map(Some(pairs.len()))?;
                for (k, v) in pairs {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl Json {
    /// serde_json's reading of `text` (the whole text: trailing characters are an error).
    fn read(text: &str) -> std::result::Result<Json, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Every object's keys sorted (a map keyed by string holds them so), the last of repeated
    /// keys kept.
    fn sorted(self) -> Json {
        match self {
            Json::Array(items) => Json::Array(items.into_iter().map(Json::sorted).collect()),
            Json::Object(pairs) => {
                let mut pairs: Vec<(String, Json)> =
                    pairs.into_iter().map(|(k, v)| (k, v.sorted())).collect();
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
                let mut out: Vec<(String, Json)> = Vec::with_capacity(pairs.len());
                for (k, v) in pairs {
                    match out.last_mut() {
                        Some(last) if last.0 == k => last.1 = v,
                        _ => out.push((k, v)),
                    }
                }
                Json::Object(out)
            }
            other => other,
        }
    }

    /// The Python value `json.loads` gives for this value's serde_json text.
    fn to_python(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::U64(n) => Value::Int((*n).into()),
            Json::I64(n) => Value::Int((*n).into()),
            Json::F64(x) => Value::Float(*x),
            Json::Str(s) => Value::Str(s.as_str().into()),
            Json::Array(items) => Value::Array(items.iter().map(Json::to_python).collect()),
            Json::Object(pairs) => Value::object(
                pairs
                    .iter()
                    .map(|(k, v)| (PyStr::from(k.as_str()), v.to_python())),
            ),
        }
    }
}

/// serde_json's compact formatter with the sign of positive exponents chosen: the core prints
/// tool calls as serde_json did with `ryu` (`1e16`), tool declarations as it does with `zmij`
/// (`1e+16`); the digits and where scientific notation starts are the same.
struct Exponent {
    plus: bool,
}

impl serde_json::ser::Formatter for Exponent {
    fn write_f64<W: ?Sized + std::io::Write>(&mut self, w: &mut W, x: f64) -> std::io::Result<()> {
        let mut plain = Vec::with_capacity(24);
        serde_json::ser::CompactFormatter.write_f64(&mut plain, x)?;
        let Some(e) = plain.iter().position(|&b| b == b'e') else {
            return w.write_all(&plain);
        };
        w.write_all(&plain[..=e])?;
        let exponent = match plain[e + 1..].strip_prefix(b"+") {
            Some(digits) => digits,
            None => &plain[e + 1..],
        };
        if self.plus && exponent.first() != Some(&b'-') {
            w.write_all(b"+")?;
        }
        w.write_all(exponent)
    }
}

/// `v` as the core prints it (see [`Exponent`]).
fn json_text(v: &Json, plus: bool) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Exponent { plus });
    match v.serialize(&mut ser) {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Python's `UnicodeEncodeError` for a `str` with a lone surrogate crossing into the core.
fn surrogate_error(c: u32, position: usize) -> String {
    format!("'utf-8' codec can't encode character '\\u{c:04x}' in position {position}: surrogates not allowed")
}

/// A Python `str` as the core takes it: refused (`UnicodeEncodeError`) with a lone surrogate.
fn py_str<'a>(r: &str, s: &'a PyStr) -> Result<&'a str> {
    match s.as_str() {
        Some(t) => Ok(t),
        None => {
            let (i, c) = s
                .code_points()
                .enumerate()
                .find(|(_, c)| (0xD800..0xE000).contains(c))
                .unwrap_or((0, 0xD800));
            Err(refuse(r, surrogate_error(c, i)))
        }
    }
}

/// Where `json.dumps(v, ensure_ascii=False, separators=(",", ":"))` puts its first lone
/// surrogate, in code points, read off the `ensure_ascii=True` text `ascii` (where a non-ASCII
/// character is one `\uXXXX` escape, or two for a pair, and a control character stays escaped).
fn surrogate_position(ascii: &str) -> Option<(u32, usize)> {
    let b = ascii.as_bytes();
    let hex = |at: usize| {
        b.get(at..at + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    let (mut i, mut pos) = (0, 0);
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            pos += 1;
            continue;
        }
        if b.get(i + 1) != Some(&b'u') {
            i += 2;
            pos += 2;
            continue;
        }
        let c = hex(i + 2)?;
        if c < 0x20 {
            pos += 6;
            i += 6;
        } else if (0xD800..0xDC00).contains(&c)
            && b.get(i + 6..i + 8) == Some(b"\\u")
            && hex(i + 8).is_some_and(|l| (0xDC00..0xE000).contains(&l))
        {
            pos += 1;
            i += 12;
        } else if (0xD800..0xE000).contains(&c) {
            return Some((c, pos));
        } else {
            pos += 1;
            i += 6;
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Rendering

/// The content of one native message.
enum Body<'a> {
    Text(&'a str),
    Thinking(&'a str),
    /// Tool declarations: the JSON, or the core's error when it renders them.
    Declare(std::result::Result<String, String>),
    /// A tool call: the JSON, or the core's error when it renders it.
    Invoke(std::result::Result<String, String>),
    EndSampling,
}

/// One native message: one author, one content.
struct Native<'a> {
    author: Author,
    /// The text between the author token and the content token.
    header: &'a str,
    body: Body<'a>,
    /// Whether its tokens carry loss.
    trained: bool,
}

impl TmlV0 {
    fn effort_message(&self, milli: u32) -> Result<Vec<u32>> {
        let mut out = vec![self.ids.system, self.ids.text];
        out.extend(self.tok.encode(&effort_text(milli), false)?);
        out.push(self.ids.end_message);
        Ok(out)
    }

    /// `_tool_declare`: the declarations of a `tool_declare` message.
    fn declare(&self, m: &Message) -> Result<std::result::Result<String, String>> {
        let r = self.name;
        let invalid = || {
            refuse(
                r,
                "a tool_declare message must hold a JSON list of OpenAI tools, as \
                 tool_specs_to_openai_tools returns (Kimi K2.5 writes TypeScript, which has no \
                 OpenAI form)",
            )
        };
        let tools = match &m.content {
            Content::Text(s) => match pyjson::loads(s) {
                Ok(v) => v,
                // Only a JSONDecodeError is caught.
                Err(e) if e.msg().is_some() => return Err(invalid()),
                Err(e) => return Err(refuse(r, e.to_string())),
            },
            Content::Parts(_) => return Err(invalid()),
        };
        let Value::Array(tools) = tools else {
            return Err(invalid());
        };
        if !tools.iter().all(|t| {
            matches!(t, Value::Object(_)) && matches!(t.get("function"), Some(Value::Object(_)))
        }) {
            return Err(invalid());
        }
        for t in &tools {
            match t.get("function").and_then(|f| f.get("name")) {
                Some(Value::Str(_)) => {}
                other => {
                    return Err(refuse(
                        r,
                        format!(
                            "a declared tool name must be a string; got {}",
                            other.map_or_else(
                                || "None".to_owned(),
                                |v| {
                                    let mut out = String::new();
                                    pyrepr::write_repr(&mut out, v);
                                    out
                                }
                            )
                        ),
                    ))
                }
            }
        }
        let mut specs = Vec::with_capacity(tools.len());
        let mut failure = None;
        for t in &tools {
            let f = t.get("function").unwrap_or(&Value::Null);
            let parameters = f.get("parameters");
            let parameters = match parameters {
                None => Value::Object(Vec::new()),
                Some(p @ Value::Object(_)) => p.clone(),
                Some(_) => return Err(refuse(r, "a declared tool's parameters must be a dict")),
            };
            let type_name = match t.get("type") {
                Some(Value::Str(s)) => py_str(r, s)?,
                _ => "function",
            };
            let name = match f.get("name") {
                Some(Value::Str(s)) => py_str(r, s)?,
                _ => "",
            };
            let description = match f.get("description") {
                Some(Value::Str(s)) => py_str(r, s)?,
                _ => "",
            };
            // The core stores `json.dumps(parameters, separators=(",", ":"),
            // ensure_ascii=False)` and reads it back with serde_json when it renders.
            let compact = DumpOptions {
                ensure_ascii: false,
                item_sep: ",",
                key_sep: ":",
                sort_keys: false,
            };
            let text = match pyjson::dumps(&parameters, &compact) {
                Ok(text) => text,
                Err(e) => {
                    let ascii = DumpOptions {
                        ensure_ascii: true,
                        ..compact
                    };
                    let found = pyjson::dumps(&parameters, &ascii)
                        .ok()
                        .and_then(|a| surrogate_position(&a));
                    return Err(refuse(
                        r,
                        match found {
                            Some((c, at)) => surrogate_error(c, at),
                            None => e.to_string(),
                        },
                    ));
                }
            };
            match Json::read(&text) {
                Ok(p) => specs.push(Json::Object(vec![
                    ("description".into(), Json::Str(description.into())),
                    ("name".into(), Json::Str(name.into())),
                    ("parameters".into(), p.sorted()),
                    ("type".into(), Json::Str(type_name.into())),
                ])),
                Err(e) => {
                    failure.get_or_insert(format!(
                        "Tokenizer encoding failed: failed to parse tool spec parameters JSON: {e}"
                    ));
                }
            }
        }
        Ok(match failure {
            Some(e) => Err(e),
            None => Ok(json_text(&Json::Array(specs), true)),
        })
    }

    /// `_invoke_tool`: a tool call's JSON (or the core's render error).
    fn invoke(&self, call: &ToolCall) -> Result<std::result::Result<String, String>> {
        let r = self.name;
        let arguments =
            pyjson::loads(&call.function.arguments).map_err(|e| refuse(r, e.to_string()))?;
        let Value::Object(arguments) = arguments else {
            return Err(refuse(
                r,
                "tool call arguments must decode to a JSON object",
            ));
        };
        let mut args = Vec::with_capacity(arguments.len());
        let mut failure = None;
        for (k, v) in &arguments {
            let k = py_str(r, k)?;
            // `ToolArg(name, json.dumps(value))`, which the core reads with serde_json.
            let text =
                pyjson::dumps(v, &DumpOptions::default()).map_err(|e| refuse(r, e.to_string()))?;
            match Json::read(&text) {
                Ok(v) => args.push((k.to_owned(), v)),
                Err(e) => {
                    failure.get_or_insert(format!(
                        "Tokenizer encoding failed: failed to parse JSON value for arg {k}: {e}"
                    ));
                }
            }
        }
        if call.function.name.is_empty() {
            return Err(refuse(
                r,
                "INVALID_ARGUMENT: structured InvokeTool name must not be empty",
            ));
        }
        if let Some(e) = failure {
            return Ok(Err(e));
        }
        args.sort_by(|a, b| a.0.cmp(&b.0));
        let call = Json::Object(vec![
            ("name".into(), Json::Str(call.function.name.clone())),
            ("args".into(), Json::Object(args)),
        ]);
        Ok(Ok(json_text(&call, false)))
    }

    /// `_tml_renderers_openai_message(m).to_messages()`.
    fn convert<'a>(&self, m: &'a Message, trained: bool, out: &mut Vec<Native<'a>>) -> Result<()> {
        let author = match m.role {
            Role::User => Author::User,
            Role::Assistant => Author::Model,
            Role::System => Author::System,
            Role::Tool => Author::Tool,
            Role::ToolDeclare => {
                out.push(Native {
                    author: Author::System,
                    header: "tool_declare",
                    body: Body::Declare(self.declare(m)?),
                    trained: false,
                });
                return Ok(());
            }
            other => {
                return Err(refuse(
                    self.name,
                    format!("unsupported role: '{}'", other.as_str()),
                ))
            }
        };
        refuse_images(self.name, m)?;
        let name = match m.role {
            Role::Tool => m.name.as_deref().unwrap_or(""),
            _ => "",
        };
        let calls = m.tool_calls.as_deref().unwrap_or(&[]);
        let mut invokes = Vec::with_capacity(calls.len());
        for c in calls {
            invokes.push((c, self.invoke(c)?));
        }
        let trained = trained && author == Author::Model;
        let start = out.len();
        let mut push = |body| {
            out.push(Native {
                author,
                header: name,
                body,
                trained,
            })
        };
        match &m.content {
            Content::Text(s) if s.is_empty() && !calls.is_empty() => {}
            Content::Text(s) => push(Body::Text(s)),
            Content::Parts(parts) if parts.is_empty() && calls.is_empty() => push(Body::Text("")),
            Content::Parts(parts) => {
                for p in parts {
                    match p {
                        ContentPart::Text { text } if text.is_empty() && !calls.is_empty() => {}
                        ContentPart::Text { text } => push(Body::Text(text)),
                        ContentPart::Thinking { thinking } => push(Body::Thinking(thinking)),
                        // Refused above.
                        ContentPart::Image { .. } => {}
                    }
                }
            }
        }
        for (c, json) in invokes {
            out.push(Native {
                author,
                // A model tool call names the tool in its header.
                header: if author == Author::Model {
                    &c.function.name
                } else {
                    name
                },
                body: Body::Invoke(json),
                trained,
            });
        }
        if author == Author::Model {
            out.push(Native {
                author,
                header: "",
                body: Body::EndSampling,
                trained,
            });
        }
        debug_assert!(out.len() > start);
        Ok(())
    }

    /// Every message converted (the cookbook converts all before rendering any), `trained`
    /// saying which assistant messages carry loss.
    fn natives<'a>(
        &self,
        messages: &'a [Message],
        trained: impl Fn(usize) -> bool,
    ) -> Result<Vec<Native<'a>>> {
        let mut out = Vec::with_capacity(messages.len() * 2);
        for (i, m) in messages.iter().enumerate() {
            self.convert(m, trained(i), &mut out)?;
        }
        Ok(out)
    }

    /// Renders the native messages, the effort message after the leading system ones; with
    /// `weights`, one weight per token. Returns the length up to the last trained token.
    fn render(
        &self,
        natives: &[Native],
        tokens: &mut Vec<u32>,
        mut weights: Option<&mut Vec<f32>>,
    ) -> Result<usize> {
        let effort_at = natives
            .iter()
            .take_while(|n| n.author == Author::System)
            .count();
        let mut trained_end = 0;
        for (i, n) in natives.iter().enumerate() {
            if i == effort_at {
                tokens.extend_from_slice(&self.effort);
            }
            let before = tokens.len();
            self.render_one(n, tokens)?;
            if let Some(w) = weights.as_deref_mut() {
                w.resize(before, 0.0);
                w.resize(tokens.len(), if n.trained { 1.0 } else { 0.0 });
            }
            if n.trained {
                trained_end = tokens.len();
            }
        }
        if effort_at == natives.len() {
            tokens.extend_from_slice(&self.effort);
        }
        if let Some(w) = weights {
            w.resize(tokens.len(), 0.0);
        }
        Ok(trained_end)
    }

    fn render_one(&self, n: &Native, tokens: &mut Vec<u32>) -> Result<()> {
        let ids = &self.ids;
        let (tag, text): (u32, &str) = match &n.body {
            Body::EndSampling => {
                tokens.push(ids.end_sampling);
                return Ok(());
            }
            Body::Text(t) => (ids.text, t),
            Body::Thinking(t) => (ids.thinking, t),
            Body::Declare(Ok(t)) => (ids.xml, t),
            Body::Invoke(Ok(t)) => (ids.invoke_json, t),
            Body::Declare(Err(e)) | Body::Invoke(Err(e)) => return Err(refuse(self.name, e)),
        };
        tokens.push(match n.author {
            Author::User => ids.user,
            Author::Model => ids.model,
            Author::System => ids.system,
            Author::Tool => ids.tool,
        });
        if !n.header.is_empty() {
            tokens.extend(self.tok.encode(n.header, false)?);
        }
        tokens.push(tag);
        if !text.is_empty() {
            tokens.extend(self.tok.encode(text, false)?);
        }
        tokens.push(ids.end_message);
        Ok(())
    }

    /// `build_supervised_examples`: none when nothing is trained, else one.
    fn examples(
        &self,
        messages: &[Message],
        train_on: TrainOnWhat,
    ) -> Result<Vec<(ModelInput, Vec<f32>)>> {
        let assistant = |i: usize| messages[i].role == Role::Assistant;
        let last_assistant = messages.iter().rposition(|m| m.role == Role::Assistant);
        let turn_start = messages
            .iter()
            .rposition(|m| m.role == Role::User)
            .map_or(0, |i| i + 1);
        let trained = |i: usize| -> bool {
            assistant(i)
                && match train_on {
                    TrainOnWhat::AllAssistantMessages => true,
                    TrainOnWhat::LastAssistantMessage => Some(i) == last_assistant,
                    TrainOnWhat::LastAssistantTurn => i >= turn_start,
                    TrainOnWhat::Customized => messages[i].trainable.unwrap_or(true),
                    _ => false,
                }
        };
        match train_on {
            TrainOnWhat::AllMessages
            | TrainOnWhat::AllTokens
            | TrainOnWhat::AllUserAndSystemMessages => {
                return Err(refuse(
                    self.name,
                    format!(
                        "tml-renderers SFT supports all_assistant_messages, \
                         last_assistant_message, last_assistant_turn, and customized; got \
                         '{train_on}'"
                    ),
                ))
            }
            _ => {}
        }
        let natives = self.natives(messages, trained)?;
        let mut tokens = Vec::with_capacity(natives.len() * 32);
        let mut weights = Vec::with_capacity(natives.len() * 32);
        let end = self.render(&natives, &mut tokens, Some(&mut weights))?;
        if end == 0 {
            return Ok(Vec::new());
        }
        tokens.truncate(end);
        weights.truncate(end);
        Ok(vec![(ModelInput::from_ints(tokens), weights)])
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// One parsed content.
enum Parsed {
    Text(String),
    Thinking(String),
    /// A tool call: name, arguments (in order, repeats kept), id.
    Call(String, Vec<(String, Json)>, String),
    /// A text tool call (no cookbook form).
    TextCall,
    End,
}

/// One parsed native message.
struct ParsedMessage {
    author: Author,
    name: Option<String>,
    body: Parsed,
}

/// Parser state between tokens.
enum State {
    Between,
    Header {
        author: Author,
        start: usize,
    },
    Content {
        author: Author,
        name: Option<String>,
        tag: Tag,
        body: Vec<u8>,
        /// `body[..checked]` is valid UTF-8.
        checked: usize,
    },
}

/// The core's tool-call JSON: `{"name": …, "args": {…}}`, exactly those two keys.
fn read_call(text: &str) -> Option<(String, Vec<(String, Json)>)> {
    let Json::Object(pairs) = Json::read(text).ok()? else {
        return None;
    };
    let (mut name, mut args) = (None, None);
    for (k, v) in pairs {
        let slot = match k.as_str() {
            "name" => &mut name,
            "args" => &mut args,
            _ => return None,
        };
        if slot.replace(v).is_some() {
            return None;
        }
    }
    match (name?, args?) {
        (Json::Str(name), Json::Object(args)) if !name.is_empty() => Some((name, args)),
        _ => None,
    }
}

impl TmlV0 {
    /// The token's bytes appended to `body`; false when they cannot be had.
    fn append(&self, id: u32, body: &mut Vec<u8>) -> bool {
        matches!(self.tok.append_bytes(&[id], body), Ok(true))
    }

    /// `Parser.parse_tokens`: `None` for a parse error.
    fn parse_tokens(&self, tokens: &[u32]) -> Option<Vec<ParsedMessage>> {
        let mut out: Vec<ParsedMessage> = Vec::new();
        let mut calls = 0usize;
        let mut state = State::Between;
        for (i, &id) in tokens.iter().enumerate() {
            let special = self.specials.get(&id).copied();
            state = match state {
                State::Between => match special {
                    Some(Special::Header(author)) => State::Header {
                        author,
                        start: i + 1,
                    },
                    Some(Special::EndSampling) => {
                        if out.is_empty() {
                            return None;
                        }
                        out.push(ParsedMessage {
                            author: Author::Model,
                            name: None,
                            body: Parsed::End,
                        });
                        State::Between
                    }
                    Some(Special::Content(tag)) => State::Content {
                        author: Author::Model,
                        name: None,
                        tag,
                        body: Vec::new(),
                        checked: 0,
                    },
                    _ => State::Between,
                },
                State::Header { author, start } => match special {
                    None => State::Header { author, start },
                    Some(s) => {
                        let name = if start == i {
                            None
                        } else {
                            let mut bytes = Vec::new();
                            if !matches!(
                                self.tok.append_bytes(&tokens[start..i], &mut bytes),
                                Ok(true)
                            ) {
                                return None;
                            }
                            Some(String::from_utf8(bytes).ok()?)
                        };
                        State::Content {
                            author,
                            name,
                            tag: match s {
                                Special::Content(t) => t,
                                _ => Tag::Unknown,
                            },
                            body: Vec::new(),
                            checked: 0,
                        }
                    }
                },
                State::Content {
                    author,
                    name,
                    tag,
                    body,
                    checked,
                } if special == Some(Special::EndMessage) => {
                    if tag == Tag::Unknown || checked != body.len() {
                        return None;
                    }
                    let text = String::from_utf8(body).ok()?;
                    let (name, parsed) = match tag {
                        Tag::Text | Tag::ToolError => (name, Parsed::Text(text)),
                        Tag::Thinking => (name, Parsed::Thinking(text)),
                        Tag::InvokeJson => {
                            let (tool, args) = read_call(&text)?;
                            if name.as_ref().is_some_and(|n| *n != tool) {
                                return None;
                            }
                            let id = format!("functions.{tool}:{calls}");
                            calls += 1;
                            (None, Parsed::Call(tool, args, id))
                        }
                        Tag::InvokeText => {
                            calls += 1;
                            (name, Parsed::TextCall)
                        }
                        Tag::Unknown => return None,
                    };
                    out.push(ParsedMessage {
                        author,
                        name,
                        body: parsed,
                    });
                    State::Between
                }
                State::Content {
                    author,
                    name,
                    tag,
                    mut body,
                    mut checked,
                } => {
                    if !self.append(id, &mut body) {
                        return None;
                    }
                    // The content must stay valid UTF-8 as it grows; only its end may be an
                    // incomplete character.
                    match std::str::from_utf8(&body[checked..]) {
                        Ok(_) => checked = body.len(),
                        Err(e) if e.error_len().is_none() => checked += e.valid_up_to(),
                        Err(_) => return None,
                    }
                    State::Content {
                        author,
                        name,
                        tag,
                        body,
                        checked,
                    }
                }
            };
        }
        match state {
            State::Header { .. } => None,
            State::Content { .. } if out.is_empty() => None,
            State::Between if out.is_empty() && !tokens.is_empty() => None,
            _ => Some(out),
        }
    }

    /// The decoded tokens as an assistant message (`_decode_or_empty`).
    fn raw(&self, tokens: &[u32]) -> Message {
        Message::new(
            Role::Assistant,
            self.tok.decode(tokens, false).unwrap_or_default(),
        )
    }
}

/// `OpenAIMessage.from_messages` + `_tinker_message` for each turn; `None` when a turn has no
/// cookbook form (a text tool call). Returns the last turn.
fn last_turn(messages: Vec<ParsedMessage>) -> Option<Message> {
    struct Turn {
        author: Author,
        name: Option<String>,
        items: Vec<Parsed>,
    }
    let mut turns: Vec<Turn> = Vec::new();
    for m in messages {
        let joins = turns.last().is_some_and(|t| {
            t.author == m.author
                && match m.author {
                    Author::Tool => false,
                    Author::User | Author::System => t.name == m.name,
                    Author::Model => t.name.is_none() || m.name.is_none() || t.name == m.name,
                }
        });
        match turns.last_mut() {
            Some(t) if joins => {
                if t.name.is_none() {
                    t.name = m.name;
                }
                t.items.push(m.body);
            }
            _ => turns.push(Turn {
                author: m.author,
                name: m.name,
                items: vec![m.body],
            }),
        }
    }
    if turns
        .iter()
        .any(|t| t.items.iter().any(|p| matches!(p, Parsed::TextCall)))
    {
        return None;
    }
    let t = turns.pop()?;
    let mut parts = Vec::new();
    let mut calls = Vec::new();
    for item in t.items {
        match item {
            Parsed::Text(text) => parts.push(ContentPart::Text { text }),
            Parsed::Thinking(thinking) => parts.push(ContentPart::Thinking { thinking }),
            Parsed::Call(name, args, id) => {
                // `{arg.name: json.loads(arg.value)}`, then `json.dumps`.
                let arguments = Value::object(
                    args.iter()
                        .map(|(k, v)| (PyStr::from(k.as_str()), v.to_python())),
                );
                let arguments = pyjson::dumps(&arguments, &DumpOptions::default()).ok()?;
                calls.push(ToolCall::new(name, arguments, Some(id)));
            }
            Parsed::TextCall | Parsed::End => {}
        }
    }
    let content = match <[ContentPart; 1]>::try_from(parts) {
        Ok([ContentPart::Text { text }]) => Content::Text(text),
        Ok([p]) => Content::Parts(vec![p]),
        Err(parts) => Content::Parts(parts),
    };
    let mut m = Message::new(t.author.role(), content);
    if !calls.is_empty() {
        m.tool_calls = Some(calls);
    }
    if t.author == Author::Tool {
        m.name = t.name;
    }
    Some(m)
}

impl Renderer for TmlV0 {
    fn name(&self) -> &str {
        self.name
    }

    fn tokenizer(&self) -> &Arc<Tokenizer> {
        &self.tok
    }

    fn generation_prompt(
        &self,
        messages: &[Message],
        role: Role,
        prefill: Option<&str>,
    ) -> Result<ModelInput> {
        if role != Role::Assistant {
            return Err(refuse(
                self.name,
                format!("{} only supports assistant generation", self.name),
            ));
        }
        if prefill.is_some() {
            return Err(refuse(
                self.name,
                format!(
                    "{} sampling does not accept partial assistant messages. Pass complete \
                     messages and let the model start a new assistant response.",
                    self.name
                ),
            ));
        }
        let natives = self.natives(messages, |_| false)?;
        let mut tokens = Vec::with_capacity(natives.len() * 32 + self.effort.len());
        self.render(&natives, &mut tokens, None)?;
        Ok(ModelInput::from_ints(tokens))
    }

    fn supervised_example(
        &self,
        messages: &[Message],
        train_on: TrainOnWhat,
    ) -> Result<(ModelInput, Vec<f32>)> {
        let mut examples = self.examples(messages, train_on)?;
        match examples.pop() {
            Some(e) if examples.is_empty() => Ok(e),
            _ => Err(refuse(
                self.name,
                format!(
                    "{} produced multiple SFT examples; use build_supervised_examples",
                    self.name
                ),
            )),
        }
    }

    fn supervised_examples(
        &self,
        messages: &[Message],
        train_on: TrainOnWhat,
    ) -> Result<Vec<(ModelInput, Vec<f32>)>> {
        self.examples(messages, train_on)
    }

    fn stop_sequences(&self) -> Result<StopSequences> {
        Ok(StopSequences::Tokens(vec![self.ids.end_sampling]))
    }

    fn parse_response(&self, tokens: &[u32]) -> Result<(Message, ParseTermination)> {
        let Some(parsed) = self.parse_tokens(tokens) else {
            return Ok((self.raw(tokens), ParseTermination::Malformed));
        };
        let saw_end = parsed.iter().any(|m| matches!(m.body, Parsed::End));
        let termination = if saw_end {
            ParseTermination::StopSequence
        } else {
            ParseTermination::Malformed
        };
        let content: Vec<ParsedMessage> = parsed
            .into_iter()
            .filter(|m| !matches!(m.body, Parsed::End))
            .collect();
        if content.is_empty() {
            return Ok((self.raw(tokens), termination));
        }
        match last_turn(content) {
            Some(m) => Ok((m, termination)),
            None => Ok((self.raw(tokens), ParseTermination::Malformed)),
        }
    }

    fn tool_prefix(&self, tools: &[ToolSpec], system_prompt: &str) -> Result<Vec<Message>> {
        let mut out = Vec::with_capacity(2);
        if !system_prompt.is_empty() {
            out.push(Message::new(Role::System, system_prompt));
        }
        if !tools.is_empty() {
            // `json.dumps(tool_specs_to_openai_tools(tools), separators=(",", ":"))`; a
            // missing `description` or `parameters` is the cookbook's KeyError.
            let mut list = Vec::with_capacity(tools.len());
            for t in tools {
                let key = |k: &str| {
                    t.get(k).map(Value::from_serde).ok_or_else(|| {
                        refuse(
                            self.name,
                            format!("KeyError: '{k}' (tool `{}` has no `{k}`)", t.name()),
                        )
                    })
                };
                let function = Value::object([
                    ("name".into(), Value::Str(t.name().into())),
                    ("description".into(), key("description")?),
                    ("parameters".into(), key("parameters")?),
                ]);
                list.push(Value::object([
                    ("type".into(), Value::Str("function".into())),
                    ("function".into(), function),
                ]));
            }
            let list = Value::Array(list);
            let opts = DumpOptions {
                item_sep: ",",
                key_sep: ":",
                ..DumpOptions::default()
            };
            let text = pyjson::dumps(&list, &opts).map_err(|e| refuse(self.name, e.to_string()))?;
            out.push(Message::new(Role::ToolDeclare, text));
        }
        Ok(out)
    }

    fn has_extension_property(&self) -> bool {
        true
    }

    fn stream_format(&self) -> Result<StreamFormat> {
        Ok(StreamFormat {
            end_tokens: vec![self.ids.end_sampling],
            think_tags: false,
            opens_thinking: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effort_shows_hundredths_rounded_as_f64_ties_to_even() {
        for (milli, shown) in [
            (900, "0.9"),
            (0, "0"),
            (5, "0"),
            (15, "0.02"),
            (50, "0.05"),
            (125, "0.12"),
            // 0.545 * 100 is 54.50000000000001 in f64, 0.575 * 100 is 57.49999999999999.
            (545, "0.55"),
            (575, "0.57"),
            (995, "1"),
            (999, "1"),
            (1000, "1"),
            (12345, "12.34"),
        ] {
            assert_eq!(
                effort_text(milli),
                format!("Thinking effort level: {shown}"),
                "millieffort {milli}"
            );
        }
    }

    #[test]
    fn json_is_read_and_printed_as_serde_json_does() {
        let read = |t: &str| json_text(&Json::read(t).unwrap(), false);
        // Member order kept, numbers as serde_json holds them.
        assert_eq!(
            read(r#"{"b": 1, "a": [1, 2.50, {"z": 1, "y": null}], "c": "\u00e9\n"}"#),
            "{\"b\":1,\"a\":[1,2.5,{\"z\":1,\"y\":null}],\"c\":\"é\\n\"}"
        );
        assert_eq!(read("-0"), "-0.0");
        assert_eq!(read("-9223372036854775808"), "-9223372036854775808");
        assert_eq!(read("-9223372036854775809"), "-9.223372036854776e18");
        assert_eq!(read("18446744073709551616"), "1.8446744073709552e19");
        assert_eq!(read("1e5"), "100000.0");
        assert_eq!(read("1E-7"), "1e-7");
        // serde_json's reading is not always the nearest double; the core's is the same.
        assert_eq!(read("0.89555979711471049"), "0.8955597971147106");
        for bad in ["NaN", "1e400", "\"\\ud800\"", "\"\t\"", "{} x", "\u{c}1"] {
            assert!(Json::read(bad).is_err(), "{bad:?}");
        }
        let deep = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(Json::read(&deep).is_err());
        assert!(Json::read(&deep[1..deep.len() - 1]).is_ok());
        // Declarations: keys sorted everywhere, `+` on positive exponents.
        let specs =
            Json::read(r#"[{"z": [1e30, 1.5e-7, 1e16, 1e15, 100.0], "a": {"y": 1, "x": 2}}]"#)
                .unwrap()
                .sorted();
        assert_eq!(
            json_text(&specs, true),
            r#"[{"a":{"x":2,"y":1},"z":[1e+30,1.5e-7,1e+16,1000000000000000.0,100.0]}]"#
        );
    }

    #[test]
    fn tool_call_payload_has_exactly_name_and_args() {
        let (name, args) =
            read_call(r#" {"args": {"b": 1, "a": 2, "a": 3}, "name": "f"} "#).unwrap();
        assert_eq!(name, "f");
        let keys: Vec<&str> = args.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a", "a"], "arguments in order, repeats kept");
        for bad in [
            r#"{"name": "f"}"#,
            r#"{"name": "f", "args": null}"#,
            r#"{"name": "f", "args": []}"#,
            r#"{"name": "", "args": {}}"#,
            r#"{"name": 1, "args": {}}"#,
            r#"{"name": "f", "args": {}, "id": "x"}"#,
            r#"{"name": "f", "name": "f", "args": {}}"#,
            r#"{"name": "f", "args": {}}x"#,
            r#"{"name": "f", "args": {"a": NaN}}"#,
            "[1]",
            "",
        ] {
            assert!(read_call(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn surrogate_positions_count_code_points_of_the_non_ascii_dump() {
        assert_eq!(surrogate_position(r#"{"a":"\ud800"}"#), Some((0xD800, 6)));
        // é and 😀 are one code point each; a control character stays a 6-character escape.
        assert_eq!(
            surrogate_position(r#"{"x":"\u00e9\ud83d\ude00\ud800"}"#),
            Some((0xD800, 8))
        );
        assert_eq!(
            surrogate_position(r#"{"\u0001\n":"\udc00"}"#),
            Some((0xDC00, 13))
        );
        assert_eq!(surrogate_position(r#"{"a":"\ud83d\ude00"}"#), None);
    }

    fn pm(author: Author, name: Option<&str>, body: Parsed) -> ParsedMessage {
        ParsedMessage {
            author,
            name: name.map(str::to_owned),
            body,
        }
    }

    #[test]
    fn turns_group_as_openai_message_from_messages_does() {
        let text = |t: &str| Parsed::Text(t.to_owned());
        // Model names: none agrees with any; two names split.
        let m = last_turn(vec![
            pm(Author::Model, None, text("a")),
            pm(Author::Model, Some("x"), text("b")),
            pm(Author::Model, None, text("c")),
        ])
        .unwrap();
        assert_eq!(m.content.to_parts().len(), 3);
        let m = last_turn(vec![
            pm(Author::Model, Some("x"), text("a")),
            pm(Author::Model, Some("y"), text("b")),
        ])
        .unwrap();
        assert!(matches!(&m.content, Content::Text(t) if t == "b"));
        // User and system messages group when their names are equal; tool messages never.
        let m = last_turn(vec![
            pm(Author::User, None, text("a")),
            pm(Author::User, None, text("b")),
        ])
        .unwrap();
        assert_eq!(m.content.to_parts().len(), 2);
        let m = last_turn(vec![
            pm(Author::User, Some("x"), text("a")),
            pm(Author::User, None, text("b")),
        ])
        .unwrap();
        assert!(matches!(&m.content, Content::Text(t) if t == "b"));
        let m = last_turn(vec![
            pm(Author::Tool, Some("f"), text("a")),
            pm(Author::Tool, Some("f"), text("b")),
        ])
        .unwrap();
        assert!(matches!(&m.content, Content::Text(t) if t == "b"));
        assert_eq!(m.name.as_deref(), Some("f"));
        // A tool call's arguments are re-dumped by Python's json.dumps (last repeat wins, in
        // the first one's place).
        let args = match Json::read(r#"{"b": 1.5e-7, "a": "é", "b": [1e16]}"#).unwrap() {
            Json::Object(p) => p,
            _ => unreachable!(),
        };
        let m = last_turn(vec![pm(
            Author::Model,
            None,
            Parsed::Call("f".into(), args, "functions.f:0".into()),
        )])
        .unwrap();
        let call = &m.tool_calls.as_ref().unwrap()[0];
        assert_eq!(call.function.arguments, r#"{"b": [1e+16], "a": "\u00e9"}"#);
        assert_eq!(call.id.as_deref(), Some("functions.f:0"));
        assert!(matches!(&m.content, Content::Parts(p) if p.is_empty()));
        // A text tool call anywhere has no cookbook form.
        assert!(last_turn(vec![
            pm(Author::Model, None, Parsed::TextCall),
            pm(Author::User, None, text("a")),
        ])
        .is_none());
    }

    fn inkling() -> Arc<dyn Renderer> {
        let tok = crate::testing::tokenizer("thinkingmachines/Inkling");
        super::super::renderer("tml_v0", tok).unwrap()
    }

    /// Ids of a markup string: `<|name|>` is that special token, the text between is encoded.
    fn markup(r: &dyn Renderer, s: &str) -> Vec<u32> {
        let tok = r.tokenizer();
        let mut out = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            let special = rest.find("<|").and_then(|a| {
                let b = a + rest[a..].find("|>")? + 2;
                Some((a, b, tok.token_to_id(&rest[a..b])?))
            });
            match special {
                Some((a, b, id)) => {
                    out.extend(tok.encode(&rest[..a], false).unwrap());
                    out.push(id);
                    rest = &rest[b..];
                }
                None => {
                    out.extend(tok.encode(rest, false).unwrap());
                    rest = "";
                }
            }
        }
        out
    }

    fn conversation(r: &dyn Renderer) -> Vec<Message> {
        let tools: Vec<ToolSpec> = serde_json::from_str(
            r#"[{"name": "f", "description": "d", "parameters": {"type": "object",
                "properties": {"b": {"type": "string"}, "a": {"type": "number", "default": 1e16}}}}]"#,
        )
        .unwrap();
        let mut messages = r.tool_prefix(&tools, "S").unwrap();
        messages.extend(
            serde_json::from_str::<Vec<Message>>(
                r#"[{"role": "user", "content": "U"},
                {"role": "assistant", "content": [{"type": "thinking", "thinking": "T"}, {"type": "text", "text": "X"}],
                 "tool_calls": [{"type": "function", "id": "call_1", "function": {"name": "f",
                   "arguments": "{\"b\": 1.5e-7, \"a\": [1e16, {\"z\": 1, \"y\": \"\\u00e9\"}]}"}}]},
                {"role": "tool", "content": "R", "tool_call_id": "call_1", "name": "f"},
                {"role": "assistant", "content": "done"}]"#,
            )
            .unwrap(),
        );
        messages
    }

    const PROMPT: &str = concat!(
        "<|message_system|><|content_text|>S<|end_message|>",
        "<|message_system|>tool_declare<|content_xml|>",
        r#"[{"description":"d","name":"f","parameters":{"properties":{"a":{"default":1e+16,"type":"number"},"#,
        r#""b":{"type":"string"}},"type":"object"},"type":"function"}]<|end_message|>"#,
        "<|message_system|><|content_text|>Thinking effort level: 0.9<|end_message|>",
        "<|message_user|><|content_text|>U<|end_message|>",
        "<|message_model|><|content_thinking|>T<|end_message|>",
        "<|message_model|><|content_text|>X<|end_message|>",
        "<|message_model|>f<|content_invoke_tool_json|>",
        r#"{"name":"f","args":{"a":[1e16,{"z":1,"y":"é"}],"b":1.5e-7}}<|end_message|>"#,
        "<|content_model_end_sampling|>",
        "<|message_tool|>f<|content_text|>R<|end_message|>",
    );
    const LAST: &str =
        "<|message_model|><|content_text|>done<|end_message|><|content_model_end_sampling|>";

    #[test]
    fn renders_the_grammar() {
        let r = inkling();
        let messages = conversation(&*r);
        assert_eq!(
            messages[1].content.text(),
            concat!(
                r#"[{"type":"function","function":{"name":"f","description":"d","parameters":"#,
                r#"{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"number","default":1e+16}}}}}]"#
            ),
            "tool_prefix: Python's json.dumps of tool_specs_to_openai_tools"
        );
        let n = messages.len();
        let prompt = r
            .generation_prompt(&messages[..n - 1], Role::Assistant, None)
            .unwrap();
        assert_eq!(prompt.to_ints().unwrap(), markup(&*r, PROMPT));
        let (input, weights) = r
            .supervised_example(&messages, TrainOnWhat::LastAssistantMessage)
            .unwrap();
        let tokens = input.to_ints().unwrap();
        assert_eq!(tokens, markup(&*r, &[PROMPT, LAST].concat()));
        let trained = markup(&*r, LAST).len();
        assert!(weights[..tokens.len() - trained].iter().all(|&w| w == 0.0));
        assert!(weights[tokens.len() - trained..].iter().all(|&w| w == 1.0));
        // Every assistant message: its frame tokens and ModelEndSampling too.
        let (_, weights) = r
            .supervised_example(&messages, TrainOnWhat::AllAssistantMessages)
            .unwrap();
        let first = markup(&*r, PROMPT.split("<|message_model|>").next().unwrap()).len();
        assert_eq!(weights[first], 1.0);
        assert_eq!(weights[first - 1], 0.0);
        assert_eq!(
            r.stop_sequences().unwrap(),
            StopSequences::Tokens(markup(&*r, "<|content_model_end_sampling|>"))
        );
    }

    #[test]
    fn effort_goes_after_the_leading_system_messages() {
        let r = inkling();
        let prompt = |m: &[Message]| {
            let ids = r
                .generation_prompt(m, Role::Assistant, None)
                .unwrap()
                .to_ints()
                .unwrap();
            r.tokenizer().decode(&ids, false).unwrap()
        };
        const E: &str =
            "<|message_system|><|content_text|>Thinking effort level: 0.9<|end_message|>";
        assert_eq!(prompt(&[]), E);
        let s = |t: &str| Message::new(Role::System, t);
        let u = |t: &str| Message::new(Role::User, t);
        assert_eq!(
            prompt(&[s("a"), u("b"), s("c")]),
            format!(
                "<|message_system|><|content_text|>a<|end_message|>{E}<|message_user|><|content_text|>b<|end_message|><|message_system|><|content_text|>c<|end_message|>"
            )
        );
        assert_eq!(
            prompt(&[s("a"), s("b")]),
            format!("<|message_system|><|content_text|>a<|end_message|><|message_system|><|content_text|>b<|end_message|>{E}")
        );
    }

    #[test]
    fn supervised_examples_end_at_the_last_trained_token() {
        let r = inkling();
        let m: Vec<Message> = serde_json::from_str(
            r#"[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"},
                {"role": "user", "content": "trailing"}]"#,
        )
        .unwrap();
        let (input, weights) = r
            .supervised_example(&m, TrainOnWhat::LastAssistantMessage)
            .unwrap();
        let text = r
            .tokenizer()
            .decode(&input.to_ints().unwrap(), false)
            .unwrap();
        assert!(
            text.ends_with("a<|end_message|><|content_model_end_sampling|>"),
            "{text}"
        );
        assert_eq!(weights.last(), Some(&1.0));
        // Nothing trained: no example, which build_supervised_example refuses.
        assert!(r
            .supervised_examples(&m, TrainOnWhat::LastAssistantTurn)
            .unwrap()
            .is_empty());
        let e = r
            .supervised_example(&m, TrainOnWhat::LastAssistantTurn)
            .unwrap_err();
        assert!(e
            .to_string()
            .contains("tml_v0 produced multiple SFT examples; use build_supervised_examples"));
        for mode in [
            TrainOnWhat::AllMessages,
            TrainOnWhat::AllTokens,
            TrainOnWhat::AllUserAndSystemMessages,
        ] {
            let e = r.supervised_example(&m, mode).unwrap_err().to_string();
            assert!(
                e.contains(&format!(
                    "tml-renderers SFT supports all_assistant_messages, last_assistant_message, \
                 last_assistant_turn, and customized; got '{mode}'"
                )),
                "{e}"
            );
        }
        // `customized` trains an assistant message without `trainable`.
        let (_, w) = r.supervised_example(&m, TrainOnWhat::Customized).unwrap();
        assert_eq!(w.last(), Some(&1.0));
    }

    #[test]
    fn refusals_carry_the_cookbook_words() {
        let r = inkling();
        let u = [Message::new(Role::User, "q")];
        let refused = |e: crate::Error, want: &str| {
            let e = e.to_string();
            assert!(e.contains(want), "{e}");
        };
        refused(
            r.generation_prompt(&u, Role::User, None).unwrap_err(),
            "tml_v0 only supports assistant generation",
        );
        refused(
            r.generation_prompt(&u, Role::Assistant, Some(""))
                .unwrap_err(),
            "tml_v0 sampling does not accept partial assistant messages. Pass complete messages \
             and let the model start a new assistant response.",
        );
        let call = |args: &str, name: &str| {
            let mut m = Message::new(Role::Assistant, "");
            m.tool_calls = Some(vec![ToolCall::new(name, args, None)]);
            r.generation_prompt(&[m], Role::Assistant, None)
                .unwrap_err()
        };
        refused(
            call("not json", "f"),
            "Expecting value: line 1 column 1 (char 0)",
        );
        refused(
            call("[1]", "f"),
            "tool call arguments must decode to a JSON object",
        );
        refused(
            call("{}", ""),
            "INVALID_ARGUMENT: structured InvokeTool name must not be empty",
        );
        refused(
            call(r#"{"b": 1, "a": [NaN]}"#, "f"),
            "Tokenizer encoding failed: failed to parse JSON value for arg a: expected value at line 1 column 2",
        );
        let declare = |content: &str| {
            r.generation_prompt(
                &[Message::new(Role::ToolDeclare, content)],
                Role::Assistant,
                None,
            )
            .unwrap_err()
        };
        refused(
            declare("{}"),
            "a tool_declare message must hold a JSON list of OpenAI tools",
        );
        refused(
            declare(r#"[{"function": {"name": 3}}]"#),
            "a declared tool name must be a string; got 3",
        );
        refused(
            declare(r#"[{"function": {"name": "f", "parameters": null}}]"#),
            "a declared tool's parameters must be a dict",
        );
        refused(
            declare(r#"[{"function": {"name": "f", "parameters": {"é": NaN}}}]"#),
            "Tokenizer encoding failed: failed to parse tool spec parameters JSON: expected value at line 1 column 7",
        );
        refused(
            declare(r#"[{"function": {"name": "f", "parameters": {"a": "\ud800"}}}]"#),
            "'utf-8' codec can't encode character '\\ud800' in position 6: surrogates not allowed",
        );
        refused(
            r.generation_prompt(&[Message::new(Role::Developer, "x")], Role::Assistant, None)
                .unwrap_err(),
            "unsupported role: 'developer'",
        );
    }

    #[test]
    fn parses_replies_as_the_core() {
        let r = inkling();
        let parse = |s: &str| r.parse_response(&markup(&*r, s)).unwrap();
        let text = |m: &Message| match &m.content {
            Content::Text(t) => t.clone(),
            other => panic!("{other:?}"),
        };
        const END: &str = "<|content_model_end_sampling|>";
        // The header may be missing; what follows the end is read too.
        let (m, t) = parse("<|content_text|>A<|end_message|><|content_model_end_sampling|>");
        assert_eq!(
            (text(&m).as_str(), t),
            ("A", ParseTermination::StopSequence)
        );
        // Cut off inside a message after a complete one: that one, malformed.
        let (m, t) = parse(
            "<|message_model|><|content_text|>A<|end_message|><|message_model|><|content_text|>B",
        );
        assert_eq!((text(&m).as_str(), t), ("A", ParseTermination::Malformed));
        // Cut off inside a header: a parse error, the decoded text.
        let s = "<|message_model|><|content_text|>A<|end_message|><|message_model|>";
        let (m, t) = parse(s);
        assert_eq!((text(&m).as_str(), t), (s, ParseTermination::Malformed));
        // Special tokens inside content are text; thinking and text of one turn are parts.
        let (m, _) = parse(&format!(
            "<|message_model|><|content_thinking|>T<|message_user|><|end_message|><|message_model|><|content_text|>X<|end_message|>{END}"
        ));
        assert_eq!(
            m.content,
            Content::Parts(vec![
                ContentPart::thinking("T<|message_user|>"),
                ContentPart::text("X")
            ])
        );
        // Tool calls get the core's ids.
        let (m, _) = parse(&format!(
            r#"<|message_model|>f<|content_invoke_tool_json|>{{"name":"f","args":{{"x":1e16}}}}<|end_message|><|message_model|><|content_invoke_tool_json|>{{"args":{{}},"name":"g"}}<|end_message|>{END}"#
        ));
        let calls = m.tool_calls.unwrap();
        assert_eq!(calls[0].id.as_deref(), Some("functions.f:0"));
        assert_eq!(calls[0].function.arguments, r#"{"x": 1e+16}"#);
        assert_eq!(calls[1].id.as_deref(), Some("functions.g:1"));
        // A text tool call, an unknown content type, a name that is not the tool's: the text.
        for s in [
            format!("<|message_model|><|content_invoke_tool_text|>x<|end_message|>{END}"),
            format!("<|message_model|><|content_xml|>x<|end_message|>{END}"),
            format!(
                r#"<|message_model|>g<|content_invoke_tool_json|>{{"name":"f","args":{{}}}}<|end_message|>{END}"#
            ),
            format!("{END}<|message_model|><|content_text|>A<|end_message|>{END}"),
        ] {
            let (m, t) = parse(&s);
            assert_eq!((text(&m), t), (s.clone(), ParseTermination::Malformed));
        }
        assert_eq!(
            r.parse_response(&[]).unwrap(),
            (
                Message::new(Role::Assistant, ""),
                ParseTermination::Malformed
            )
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn text() -> impl Strategy<Value = String> {
            proptest::collection::vec(
                prop_oneof![
                    Just("a"),
                    Just(" b"),
                    Just("\n"),
                    Just("é😀"),
                    Just("<|end_message|>"),
                    Just("<|content_model_end_sampling|>"),
                    Just("{\"x\": 1}"),
                ],
                0..4,
            )
            .prop_map(|v| v.concat())
        }

        fn assistant() -> impl Strategy<Value = Message> {
            (
                text(),
                proptest::option::of(text()),
                0..3usize,
                any::<u32>(),
            )
                .prop_map(|(t, thinking, calls, n)| {
                    // With tool calls an empty text part is dropped: keep it non-empty.
                    let t = if calls > 0 { format!("{t}.") } else { t };
                    let content = match thinking {
                        Some(th) => {
                            Content::Parts(vec![ContentPart::thinking(th), ContentPart::text(t)])
                        }
                        None => Content::Text(t),
                    };
                    let mut m = Message::new(Role::Assistant, content);
                    if calls > 0 {
                        m.tool_calls = Some(
                            (0..calls)
                                .map(|i| {
                                    let args = format!(r#"{{"n": {n}, "s": "\u00e9{i}"}}"#);
                                    ToolCall::new(format!("tool{i}"), args, Some(format!("c{i}")))
                                })
                                .collect(),
                        );
                    }
                    m
                })
        }

        fn conversation() -> impl Strategy<Value = Vec<Message>> {
            let other = prop_oneof![
                text().prop_map(|t| Message::new(Role::User, t)),
                text().prop_map(|t| Message::new(Role::System, t)),
                text().prop_map(|t| {
                    let mut m = Message::new(Role::Tool, t);
                    m.name = Some("tool0".into());
                    m
                }),
                assistant(),
            ];
            (proptest::collection::vec(other, 0..5), assistant()).prop_map(|(mut v, last)| {
                v.push(last);
                v
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            /// The cookbook's invariants: the supervised tokens start with the generation
            /// prompt of the conversation minus its last message; the trained completion
            /// parses back to the last message (tool-call ids become the core's); prompts
            /// extend one another once a non-system message is in.
            #[test]
            fn cookbook_invariants(messages in conversation()) {
                let r = inkling();
                let n = messages.len();
                let prompt = |m: &[Message]| {
                    r.generation_prompt(m, Role::Assistant, None).unwrap().to_ints().unwrap()
                };
                let before = prompt(&messages[..n - 1]);
                let (input, weights) = r
                    .supervised_example(&messages, TrainOnWhat::LastAssistantMessage)
                    .unwrap();
                let tokens = input.to_ints().unwrap();
                prop_assert!(tokens.starts_with(&before));
                prop_assert!(weights[..before.len()].iter().all(|&w| w == 0.0));
                prop_assert!(weights[before.len()..].iter().all(|&w| w == 1.0));
                let (parsed, termination) = r.parse_response(&tokens[before.len()..]).unwrap();
                prop_assert_eq!(termination, ParseTermination::StopSequence);
                let mut want = messages[n - 1].clone();
                if let Some(calls) = &mut want.tool_calls {
                    for (i, c) in calls.iter_mut().enumerate() {
                        c.id = Some(format!("functions.{}:{i}", c.function.name));
                    }
                }
                prop_assert!(parsed.same_as(&want), "{:?} != {:?}", parsed, want);
                let all = prompt(&messages);
                for k in 1..n {
                    if messages[..k].iter().any(|m| m.role != Role::System) {
                        prop_assert!(all.starts_with(&prompt(&messages[..k])));
                    }
                }
            }
        }
    }
}
