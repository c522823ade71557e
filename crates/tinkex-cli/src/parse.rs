//! Parsing token ids and JSON Lines records.

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};
use tinkex::chat::{
    Content, ContentPart, FunctionCall, Message, Role, ToolCall, ToolSpec, UnparsedToolCall,
};

use crate::report::fail;

const IDS_HINT: &str = "token ids are integers from 0 to 4294967295, separated by whitespace or \
                        commas, or a JSON array such as [9906, 1917]";

/// A JSON Lines record kind: the field it must have.
#[derive(Debug, Clone, Copy)]
pub enum Record {
    /// `{"text": "..."}` (encode input).
    Text,
    /// `{"ids": [...]}` (decode input).
    Ids,
    /// `{"tokens": [...]}` (chat parse input).
    Tokens,
    /// `{"messages": [...], ...}` (chat sft/prompt input).
    Conversation,
}

impl Record {
    fn hint(self) -> &'static str {
        match self {
            Record::Text => "each line must be a JSON object such as {\"text\": \"Hello\"}",
            Record::Ids => "each line must be a JSON object such as {\"ids\": [9906, 1917]}",
            Record::Tokens => "each line must be a JSON object such as {\"tokens\": [9906, 1917]}",
            Record::Conversation => {
                "each line must be a JSON object such as {\"messages\": [{\"role\": \"user\", \
                 \"content\": \"Hi\"}]}; `tinkex chat --help` shows the format"
            }
        }
    }
}

/// Ids from the command line or stdin: separated by whitespace and/or commas, or one JSON array.
/// Values above `u32::MAX` are kept (as `u64`) so that the range check against the vocabulary
/// can report them; see [`to_u32`].
pub fn parse_ids(text: &str) -> Result<Vec<u64>> {
    let t = text.trim();
    if t.starts_with('[') {
        let values: Vec<Value> = serde_json::from_str(t).map_err(|e| {
            fail(
                format!("invalid JSON array of token ids: {e}"),
                Some(IDS_HINT),
            )
        })?;
        return values.iter().map(id_from_json).collect();
    }
    t.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(parse_id)
        .collect()
}

/// [`parse_ids`] for input that arrives a word at a time (`decode --stream`): the words
/// (whitespace- and comma-separated pieces) of bare ids, or of one JSON array whose brackets may
/// stand alone or stick to the first and last id (`[9906`, `1917]`).
#[derive(Debug, Default)]
pub struct IdWords {
    state: ArrayState,
}

#[derive(Debug, Default, PartialEq)]
enum ArrayState {
    #[default]
    Start,
    Bare,
    Open,
    Closed,
}

impl IdWords {
    /// The id in `word`, if it holds one (a lone bracket does not).
    pub fn word(&mut self, word: &str) -> Result<Option<u64>> {
        let mut w = word;
        if self.state == ArrayState::Start {
            self.state = match w.strip_prefix('[') {
                Some(rest) => {
                    w = rest;
                    ArrayState::Open
                }
                None => ArrayState::Bare,
            };
        }
        if self.state == ArrayState::Closed && !w.is_empty() {
            return Err(fail(
                format!("invalid JSON array of token ids: {word:?} after the closing ]"),
                Some(IDS_HINT),
            ));
        }
        if self.state == ArrayState::Open {
            if let Some(rest) = w.strip_suffix(']') {
                w = rest;
                self.state = ArrayState::Closed;
            }
        }
        if w.is_empty() {
            return Ok(None);
        }
        parse_id(w).map(Some)
    }

    /// Checks that a JSON array was closed.
    pub fn finish(&self) -> Result<()> {
        if self.state == ArrayState::Open {
            return Err(fail(
                "invalid JSON array of token ids: no closing ]".to_owned(),
                Some(IDS_HINT),
            ));
        }
        Ok(())
    }
}

fn invalid_id(raw: &str, why: &str) -> anyhow::Error {
    fail(format!("invalid token id {raw:?}: {why}"), Some(IDS_HINT))
}

const TOO_LARGE: &str = "too large (token ids are at most 4294967295)";

/// One id written as text.
fn parse_id(raw: &str) -> Result<u64> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits(raw) {
        raw.parse::<u64>().map_err(|_| invalid_id(raw, TOO_LARGE))
    } else if raw
        .strip_prefix('-')
        .is_some_and(|d| digits(d) && d.bytes().all(|b| b == b'0'))
    {
        Err(invalid_id(raw, SIGNED_ZERO))
    } else if raw.strip_prefix('-').is_some_and(digits) {
        Err(invalid_id(raw, "token ids cannot be negative"))
    } else {
        Err(invalid_id(raw, "not an integer"))
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One id from a JSON value.
fn id_from_json(v: &Value) -> Result<u64> {
    let Value::Number(n) = v else {
        return Err(fail(
            format!(
                "invalid token id {v}: expected an integer, found {}",
                kind(v)
            ),
            Some(IDS_HINT),
        ));
    };
    let raw = n.to_string();
    if let Some(id) = n.as_u64() {
        return Ok(id);
    }
    if n.is_i64() {
        return Err(invalid_id(&raw, "token ids cannot be negative"));
    }
    // A float: an integer literal beyond u64 (serde_json keeps those as floats), or a number
    // written with a fraction, an exponent or `-0` (`1.0`, `1e3`, `-0`), which is not an id
    // (Python's decode rejects a float too) even when its value is whole.
    let f = n.as_f64().unwrap_or(f64::NAN);
    if f < 0.0 {
        Err(invalid_id(&raw, "token ids cannot be negative"))
    } else if f == 0.0 && f.is_sign_negative() {
        Err(invalid_id("-0", SIGNED_ZERO))
    } else if f >= 18_446_744_073_709_551_616.0 {
        Err(invalid_id(&raw, TOO_LARGE))
    } else {
        Err(invalid_id(&raw, "not an integer"))
    }
}

const SIGNED_ZERO: &str = "token ids are written without a sign";

/// Narrows ids to `u32`; an id above `u32::MAX` is out of range for every vocabulary and is
/// reported as such (with `vocab_size`).
pub fn to_u32(ids: &[u64], vocab_size: u32) -> Result<Vec<u32>, tinkex::Error> {
    ids.iter().map(|&id| id_to_u32(id, vocab_size)).collect()
}

/// One id of [`to_u32`].
pub fn id_to_u32(id: u64, vocab_size: u32) -> Result<u32, tinkex::Error> {
    u32::try_from(id).map_err(|_| tinkex::Error::InvalidTokenId { id, vocab_size })
}

/// A JSON syntax error on line `number`.
fn invalid_json(number: usize, e: &serde_json::Error, record: Record) -> anyhow::Error {
    let msg = e.to_string();
    // serde_json says "at line 1 column N"; the line is ours, only the column is useful.
    let msg = msg.rfind(" at line ").map_or(msg.as_str(), |i| &msg[..i]);
    fail(
        format!(
            "line {number}: invalid JSON at column {}: {msg}",
            e.column()
        ),
        Some(record.hint()),
    )
}

/// The JSON object on line `number`.
fn object(number: usize, line: &str, record: Record) -> Result<Map<String, Value>> {
    if line.trim().is_empty() {
        return Err(fail(
            format!("line {number}: blank line"),
            Some(record.hint()),
        ));
    }
    let value: Value = serde_json::from_str(line).map_err(|e| invalid_json(number, &e, record))?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(fail(
            format!(
                "line {number}: expected a JSON object, found {}",
                kind(&other)
            ),
            Some(record.hint()),
        )),
    }
}

/// The `"text"` of a `{"text": "..."}` line.
pub fn text_record(number: usize, line: &str) -> Result<String> {
    let record = Record::Text;
    match object(number, line, record)?.remove("text") {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(fail(
            format!(
                "line {number}: \"text\" must be a string, found {}",
                kind(&other)
            ),
            Some(record.hint()),
        )),
        None => Err(fail(
            format!("line {number}: the object has no \"text\" field"),
            Some(record.hint()),
        )),
    }
}

/// The `"ids"` of a `{"ids": [...]}` line.
pub fn ids_record(number: usize, line: &str) -> Result<Vec<u64>> {
    id_array(number, line, Record::Ids, "ids")
}

/// The `"tokens"` of a `{"tokens": [...]}` line.
pub fn tokens_record(number: usize, line: &str) -> Result<Vec<u64>> {
    id_array(number, line, Record::Tokens, "tokens")
}

/// The array of ids in `field` of the object on line `number`.
fn id_array(number: usize, line: &str, record: Record, field: &str) -> Result<Vec<u64>> {
    match object(number, line, record)?.remove(field) {
        Some(Value::Array(values)) => values
            .iter()
            .map(id_from_json)
            .collect::<Result<_>>()
            .with_context(|| format!("line {number}")),
        Some(other) => Err(fail(
            format!(
                "line {number}: \"{field}\" must be an array of integers, found {}",
                kind(&other)
            ),
            Some(record.hint()),
        )),
        None => Err(fail(
            format!("line {number}: the object has no \"{field}\" field"),
            Some(record.hint()),
        )),
    }
}

/// A line of `chat sft` / `chat prompt` input.
#[derive(Debug, Deserialize)]
pub struct Conversation {
    /// The conversation.
    pub messages: Vec<Message>,
    /// Tools the model may call: the renderer's tool prefix for them goes before `messages`.
    #[serde(default)]
    pub tools: Option<Vec<ToolSpec>>,
    /// The system prompt of that tool prefix.
    #[serde(default)]
    pub system_prompt: Option<String>,
}

/// The conversation on line `number`. A bad line is an error naming the line and the field
/// (`line 3: messages[1].role: unknown variant ...`).
pub fn conversation_record(number: usize, line: &str) -> Result<Conversation> {
    let record = Record::Conversation;
    let error = match serde_json::from_str::<Conversation>(line) {
        Ok(c) if c.system_prompt.is_some() && c.tools.is_none() => {
            return Err(fail(
                format!(
                    "line {number}: \"system_prompt\" is only used with \"tools\" (it goes into \
                     the renderer's tool prefix)"
                ),
                Some("without tools, put a system message first in \"messages\""),
            ));
        }
        Ok(c) => return Ok(c),
        Err(e) => e,
    };
    // Only for a bad line: read it again as plain JSON to say where it is wrong.
    let map = object(number, line, record)?;
    let problem = conversation_problem(&map).unwrap_or_else(|| {
        let msg = error.to_string();
        msg.rfind(" at line ")
            .map_or(msg.as_str(), |i| &msg[..i])
            .to_owned()
    });
    Err(fail(
        format!("line {number}: {problem}"),
        Some(record.hint()),
    ))
}

/// What is wrong with a conversation object, with the path to it
/// (`messages[1].tool_calls[0].function.arguments: ...`).
fn conversation_problem(map: &Map<String, Value>) -> Option<String> {
    match map.get("messages") {
        None => return Some("the object has no \"messages\" field".to_owned()),
        Some(v @ Value::Array(_)) => {
            if let Some(p) = items(v, message, "an array of messages", false) {
                return Some(format!("messages{p}"));
            }
        }
        Some(other) => {
            return Some(format!(
                "\"messages\" must be an array of messages, found {}",
                kind(other)
            ))
        }
    }
    if let Some(p) = map
        .get("tools")
        .and_then(|v| items(v, tool_spec, "an array of tools", true))
    {
        return Some(format!("tools{p}"));
    }
    match map.get("system_prompt") {
        None | Some(Value::Null | Value::String(_)) => None,
        Some(other) => Some(format!(
            "\"system_prompt\" must be a string, found {}",
            kind(other)
        )),
    }
}

/// Checks one JSON value; `Some` = what is wrong, as a path suffix: `": why"`, `".field: why"`,
/// `"[2]: why"`.
type Check = fn(&Value) -> Option<String>;

/// `v` as a `T`.
fn leaf<T: DeserializeOwned>(v: &Value) -> Option<String> {
    T::deserialize(v).err().map(|e| format!(": {e}"))
}

/// The fields of the object `v`, each with its check, then `v` as a whole as a `T` (which
/// finds missing fields).
fn fields<T: DeserializeOwned>(v: &Value, what: &str, checks: &[(&str, Check)]) -> Option<String> {
    let Value::Object(obj) = v else {
        return Some(format!(": expected {what}, found {}", kind(v)));
    };
    for (name, check) in checks {
        if let Some(p) = obj.get(*name).and_then(check) {
            return Some(format!(".{name}{p}"));
        }
    }
    leaf::<T>(v)
}

/// Each item of the array `v` (or `null`, if `nullable`).
fn items(v: &Value, item: Check, what: &str, nullable: bool) -> Option<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, x)| item(x).map(|p| format!("[{i}]{p}"))),
        Value::Null if nullable => None,
        other => Some(format!(": expected {what}, found {}", kind(other))),
    }
}

fn message(v: &Value) -> Option<String> {
    fields::<Message>(
        v,
        "a message object",
        &[
            ("role", leaf::<Role>),
            ("content", content),
            ("tool_calls", |v| {
                items(v, tool_call, "an array of tool calls", true)
            }),
            ("unparsed_tool_calls", |v| {
                items(
                    v,
                    leaf::<UnparsedToolCall>,
                    "an array of unparsed tool calls",
                    true,
                )
            }),
            ("trainable", leaf::<Option<bool>>),
            ("tool_call_id", leaf::<Option<String>>),
            ("name", leaf::<Option<String>>),
        ],
    )
}

fn content(v: &Value) -> Option<String> {
    match v {
        Value::Array(_) => items(v, leaf::<ContentPart>, "", false),
        _ => leaf::<Content>(v),
    }
}

fn tool_call(v: &Value) -> Option<String> {
    fields::<ToolCall>(
        v,
        "a tool call object",
        &[("id", leaf::<Option<String>>), ("function", function)],
    )
}

fn function(v: &Value) -> Option<String> {
    fields::<FunctionCall>(
        v,
        "an object {\"name\": ..., \"arguments\": ...}",
        &[("name", leaf::<String>), ("arguments", arguments)],
    )
}

fn arguments(v: &Value) -> Option<String> {
    (!v.is_string()).then(|| {
        format!(
            ": must be a string holding JSON (e.g. \"{{\\\"city\\\": \\\"Paris\\\"}}\"), found {}",
            kind(v)
        )
    })
}

fn tool_spec(v: &Value) -> Option<String> {
    fields::<ToolSpec>(
        v,
        "a tool object",
        // Only `name` is checked: the rest of a spec is any JSON, printed or refused by the
        // renderer as the cookbook does.
        &[("name", leaf::<String>)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: Result<impl std::fmt::Debug>) -> String {
        format!("{:#}", r.unwrap_err())
    }

    #[test]
    fn ids_text_forms() {
        assert_eq!(parse_ids("1 2,3 ,\n4").unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(parse_ids(" [1, 2 ,3] \n").unwrap(), vec![1, 2, 3]);
        assert_eq!(parse_ids("").unwrap(), Vec::<u64>::new());
        assert_eq!(parse_ids("[]").unwrap(), Vec::<u64>::new());
        assert_eq!(parse_ids("4294967296").unwrap(), vec![4294967296]);
    }

    #[test]
    fn ids_errors() {
        assert_eq!(
            err(parse_ids("1 -5")),
            "invalid token id \"-5\": token ids cannot be negative"
        );
        assert_eq!(
            err(parse_ids("1.5")),
            "invalid token id \"1.5\": not an integer"
        );
        assert_eq!(
            err(parse_ids("+5")),
            "invalid token id \"+5\": not an integer"
        );
        assert!(err(parse_ids("99999999999999999999999")).contains("too large"));
        assert_eq!(
            err(parse_ids("[1, -5]")),
            "invalid token id \"-5\": token ids cannot be negative"
        );
        assert_eq!(
            err(parse_ids("[1.5]")),
            "invalid token id \"1.5\": not an integer"
        );
        // Whole values written as floats are not integers, not "too large"; -0 has a sign.
        for (input, why) in [
            ("[1.0]", "\"1.0\": not an integer"),
            ("[1e3]", "\"1000.0\": not an integer"),
            ("[0.5]", "\"0.5\": not an integer"),
            ("[-0]", "\"-0\": token ids are written without a sign"),
            ("-0", "\"-0\": token ids are written without a sign"),
            ("[-0.0]", "\"-0\": token ids are written without a sign"),
            ("[-1.5]", "\"-1.5\": token ids cannot be negative"),
            ("[-1e30]", "\"-1e+30\": token ids cannot be negative"),
        ] {
            assert_eq!(
                err(parse_ids(input)),
                format!("invalid token id {why}"),
                "{input}"
            );
        }
        // Beyond u64 (an integer serde_json keeps as a float) is still too large.
        assert!(err(parse_ids("[18446744073709551616]")).contains("too large"));
        assert!(err(parse_ids("[1e20]")).contains("too large"));
        assert!(err(parse_ids("[\"a\"]")).contains("found a string"));
        assert!(err(parse_ids("[1,")).starts_with("invalid JSON array of token ids"));
    }

    #[test]
    fn id_words_take_what_parse_ids_takes() {
        let words = |input: &str| -> Result<Vec<u64>> {
            let mut w = IdWords::default();
            let mut ids = Vec::new();
            for word in input.split(|c: char| c.is_whitespace() || c == ',') {
                if !word.is_empty() {
                    ids.extend(w.word(word)?);
                }
            }
            w.finish()?;
            Ok(ids)
        };
        for input in [
            "1 2,3 ,\n4",
            " [1, 2 ,3] \n",
            "",
            "[]",
            "[ ]",
            "[7]",
            "[ 7 ]",
            "5",
        ] {
            assert_eq!(
                words(input).unwrap(),
                parse_ids(input).unwrap(),
                "{input:?}"
            );
        }
        assert!(err(words("[1, 2")).contains("no closing ]"));
        assert!(err(words("[1] 2")).contains("after the closing ]"));
        assert!(err(words("1 [2]")).contains("not an integer"));
        assert!(err(words("[1, -5]")).contains("cannot be negative"));
        assert!(err(words("[1.5]")).contains("not an integer"));
    }

    #[test]
    fn u32_narrowing() {
        assert_eq!(to_u32(&[1, 2], 10).unwrap(), vec![1, 2]);
        assert!(matches!(
            to_u32(&[1 << 32], 10),
            Err(tinkex::Error::InvalidTokenId {
                id: 4294967296,
                vocab_size: 10
            })
        ));
    }

    #[test]
    fn records() {
        assert_eq!(text_record(1, r#"{"text":"hi","x":1}"#).unwrap(), "hi");
        assert_eq!(ids_record(1, r#"{"ids":[1,2]}"#).unwrap(), vec![1, 2]);
        assert_eq!(err(text_record(3, "  ")), "line 3: blank line");
        assert!(err(text_record(3, "{nope")).starts_with("line 3: invalid JSON at column 2: "));
        assert_eq!(
            err(text_record(3, "[1]")),
            "line 3: expected a JSON object, found an array"
        );
        assert_eq!(
            err(text_record(3, r#"{"text":1}"#)),
            "line 3: \"text\" must be a string, found a number"
        );
        assert_eq!(
            err(ids_record(4, r#"{"ids":[1,-2]}"#)),
            "line 4: invalid token id \"-2\": token ids cannot be negative"
        );
        assert_eq!(
            err(ids_record(4, r#"{"text":"x"}"#)),
            "line 4: the object has no \"ids\" field"
        );
    }
}
