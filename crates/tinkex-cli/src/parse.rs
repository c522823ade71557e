//! Parsing token ids and JSON Lines records.

use anyhow::{Context, Result};
use serde_json::{Map, Value};

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
}

impl Record {
    fn hint(self) -> &'static str {
        match self {
            Record::Text => "each line must be a JSON object such as {\"text\": \"Hello\"}",
            Record::Ids => "each line must be a JSON object such as {\"ids\": [9906, 1917]}",
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
        Ok(id)
    } else if n.is_i64() {
        Err(invalid_id(&raw, "token ids cannot be negative"))
    } else if n.as_f64().is_some_and(|f| f.fract() == 0.0 && f >= 0.0) {
        Err(invalid_id(&raw, TOO_LARGE))
    } else {
        Err(invalid_id(&raw, "not an integer"))
    }
}

/// Narrows ids to `u32`; an id above `u32::MAX` is out of range for every vocabulary and is
/// reported as such (with `vocab_size`).
pub fn to_u32(ids: &[u64], vocab_size: u32) -> Result<Vec<u32>, tinkex::Error> {
    ids.iter().map(|&id| id_to_u32(id, vocab_size)).collect()
}

/// One id of [`to_u32`].
pub fn id_to_u32(id: u64, vocab_size: u32) -> Result<u32, tinkex::Error> {
    u32::try_from(id).map_err(|_| tinkex::Error::InvalidTokenId { id, vocab_size })
}

/// The JSON object on line `number`.
fn object(number: usize, line: &str, record: Record) -> Result<Map<String, Value>> {
    if line.trim().is_empty() {
        return Err(fail(
            format!("line {number}: blank line"),
            Some(record.hint()),
        ));
    }
    let value: Value = serde_json::from_str(line).map_err(|e| {
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
    })?;
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
    let record = Record::Ids;
    match object(number, line, record)?.remove("ids") {
        Some(Value::Array(values)) => values
            .iter()
            .map(id_from_json)
            .collect::<Result<_>>()
            .with_context(|| format!("line {number}")),
        Some(other) => Err(fail(
            format!(
                "line {number}: \"ids\" must be an array of integers, found {}",
                kind(&other)
            ),
            Some(record.hint()),
        )),
        None => Err(fail(
            format!("line {number}: the object has no \"ids\" field"),
            Some(record.hint()),
        )),
    }
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
