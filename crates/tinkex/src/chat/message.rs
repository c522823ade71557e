//! Conversation types, with the JSON the cookbook's `message_to_jsonable` writes and reads.
//!
//! ```
//! use tinkex::chat::{Content, ContentPart, Message, Role};
//!
//! let m: Message = serde_json::from_str(
//!     r#"{"role": "assistant", "content": [{"type": "thinking", "thinking": "2+2"}, {"type": "text", "text": "4"}]}"#,
//! )?;
//! assert_eq!(m.role, Role::Assistant);
//! assert_eq!(m.content.text(), "4");
//! assert_eq!(
//!     serde_json::to_string(&Message::new(Role::User, "hi"))?,
//!     r#"{"role":"user","content":"hi"}"#
//! );
//! # Ok::<(), serde_json::Error>(())
//! ```

use serde::{Deserialize, Serialize};

/// Who wrote a message.
///
/// The four conversation roles, plus the roles some renderers put in the messages their
/// [`tool_prefix`](super::Renderer::tool_prefix) returns (`developer` for gpt-oss,
/// `tool_declare` for Inkling, and gpt-oss's own system message) so those can be passed back in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Role {
    /// `system`
    System,
    /// `user`
    User,
    /// `assistant`
    Assistant,
    /// `tool`: the result of a tool call.
    Tool,
    /// `developer` (gpt-oss's instructions message).
    Developer,
    /// `tool_declare` (Inkling's tool declarations).
    ToolDeclare,
    /// gpt-oss's built-in system message (`_gptoss_internal_system`): rendered as a Harmony
    /// `system` message, where a `system` message becomes `developer`.
    #[serde(rename = "_gptoss_internal_system")]
    GptOssSystem,
}

impl Role {
    /// The role as the JSON spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
            Role::Developer => "developer",
            Role::ToolDeclare => "tool_declare",
            Role::GptOssSystem => "_gptoss_internal_system",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Role> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
            crate::Error::InvalidInput(format!(
                "unknown role `{s}`: expected system, user, assistant, tool, developer or tool_declare"
            ))
        })
    }
}

/// One part of a structured message content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContentPart {
    /// Visible text: `{"type": "text", "text": "..."}`.
    Text {
        /// The text.
        text: String,
    },
    /// The model's reasoning: `{"type": "thinking", "thinking": "..."}`.
    Thinking {
        /// The reasoning text.
        thinking: String,
    },
    /// An image: `{"type": "image", "image": "<url or data URI>"}`. Parsed so that renderers can
    /// refuse it clearly: no text renderer draws images yet.
    Image {
        /// The image location.
        image: String,
    },
}

impl ContentPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        ContentPart::Text { text: text.into() }
    }

    /// A thinking part.
    pub fn thinking(thinking: impl Into<String>) -> Self {
        ContentPart::Thinking {
            thinking: thinking.into(),
        }
    }

    /// The part's `type` as the JSON spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            ContentPart::Text { .. } => "text",
            ContentPart::Thinking { .. } => "thinking",
            ContentPart::Image { .. } => "image",
        }
    }
}

/// A message's content: a string, or a list of parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Structured parts (text, thinking, …).
    Parts(Vec<ContentPart>),
}

// By hand rather than `untagged`, so that a bad part says what is wrong with it.
impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Content;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a list of content parts")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Content, E> {
                Ok(Content::Text(s.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Content, E> {
                Ok(Content::Text(s))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Content, A::Error> {
                let mut parts = Vec::with_capacity(seq.size_hint().unwrap_or(2));
                while let Some(p) = seq.next_element::<ContentPart>()? {
                    parts.push(p);
                }
                Ok(Content::Parts(parts))
            }
        }
        d.deserialize_any(V)
    }
}

impl Default for Content {
    fn default() -> Self {
        Content::Text(String::new())
    }
}

impl From<&str> for Content {
    fn from(s: &str) -> Self {
        Content::Text(s.to_owned())
    }
}

impl From<String> for Content {
    fn from(s: String) -> Self {
        Content::Text(s)
    }
}

impl From<Vec<ContentPart>> for Content {
    fn from(parts: Vec<ContentPart>) -> Self {
        Content::Parts(parts)
    }
}

impl Content {
    /// The text without thinking: the string itself, or the text parts joined (the cookbook's
    /// `get_text_content`).
    pub fn text(&self) -> String {
        match self {
            Content::Text(s) => s.clone(),
            Content::Parts(parts) => parts
                .iter()
                .filter_map(|p| match p {
                    ContentPart::Text { text } => Some(text.as_str()),
                    _ => None,
                })
                .collect(),
        }
    }

    /// Python truthiness of the content: a non-empty string or a non-empty list.
    pub fn is_empty(&self) -> bool {
        match self {
            Content::Text(s) => s.is_empty(),
            Content::Parts(p) => p.is_empty(),
        }
    }

    /// The parts: a string becomes one text part (the cookbook's `ensure_list`).
    pub fn to_parts(&self) -> Vec<ContentPart> {
        match self {
            Content::Text(s) => vec![ContentPart::text(s.clone())],
            Content::Parts(p) => p.clone(),
        }
    }

    /// Whether the content carries reasoning: a thinking part, or `<think>` in a string (the
    /// cookbook's `has_thinking`).
    pub fn has_thinking(&self) -> bool {
        match self {
            Content::Text(s) => s.contains("<think>"),
            Content::Parts(p) => p.iter().any(|p| matches!(p, ContentPart::Thinking { .. })),
        }
    }

    /// Content equality as the cookbook's JSON compares it: a string equals a list holding one
    /// text part with that string.
    pub fn same_as(&self, other: &Content) -> bool {
        match (self, other) {
            (Content::Text(a), Content::Text(b)) => a == b,
            (Content::Parts(a), Content::Parts(b)) => a == b,
            (Content::Text(s), Content::Parts(p)) | (Content::Parts(p), Content::Text(s)) => {
                matches!(p.as_slice(), [ContentPart::Text { text }] if text == s)
            }
        }
    }
}

/// The function a tool call invokes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// The tool's name.
    pub name: String,
    /// The arguments: a JSON text (OpenAI's convention), not a JSON object.
    pub arguments: String,
}

/// A parsed tool call: `{"type": "function", "id": "call_1", "function": {"name", "arguments"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Always `"function"`.
    #[serde(
        rename = "type",
        default = "function_type",
        deserialize_with = "function_only"
    )]
    pub kind: String,
    /// The call's id, if the format carries one (written as `null` when absent).
    #[serde(default)]
    pub id: Option<String>,
    /// The function and its arguments.
    pub function: FunctionCall,
}

fn function_type() -> String {
    "function".to_owned()
}

fn function_only<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s == "function" {
        Ok(s)
    } else {
        Err(serde::de::Error::custom(format!(
            "tool call `type` must be \"function\", not {s:?}"
        )))
    }
}

impl ToolCall {
    /// A call of `name` with `arguments` (a JSON text).
    pub fn new(name: impl Into<String>, arguments: impl Into<String>, id: Option<String>) -> Self {
        ToolCall {
            kind: function_type(),
            id,
            function: FunctionCall {
                name: name.into(),
                arguments: arguments.into(),
            },
        }
    }
}

/// A tool call the model wrote but that did not parse (bad JSON, a block never closed, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnparsedToolCall {
    /// The text as the model wrote it.
    pub raw_text: String,
    /// What is wrong with it.
    pub error: String,
}

/// A tool the model may call: `{"name", "description", "parameters": <JSON schema>}`, kept as
/// the whole JSON object the user wrote — key order and any other keys (`"strict"`, …) included,
/// because formats that print the spec (Qwen3's `<tools>`) print all of it, as the cookbook's
/// dict does. `name` must be a string; a format that needs `description` or `parameters` and
/// finds none refuses, as the cookbook fails on the missing key.
///
/// ```
/// use tinkex::chat::ToolSpec;
/// let t = ToolSpec::new("get_weather", "Current weather", serde_json::json!({"type": "object"}));
/// assert_eq!(t.name(), "get_weather");
/// assert_eq!(serde_json::to_string(&t)?, r#"{"name":"get_weather","description":"Current weather","parameters":{"type":"object"}}"#);
/// let t: ToolSpec = serde_json::from_str(r#"{"description": "d", "name": "f", "strict": true}"#)?;
/// assert_eq!(t.get("strict"), Some(&serde_json::Value::Bool(true)));
/// assert!(serde_json::from_str::<ToolSpec>(r#"{"name": 3}"#).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ToolSpec(serde_json::Map<String, serde_json::Value>);

impl ToolSpec {
    /// A spec with these three keys, in this order.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: serde_json::Value,
    ) -> Self {
        let mut m = serde_json::Map::new();
        m.insert("name".into(), serde_json::Value::String(name.into()));
        m.insert(
            "description".into(),
            serde_json::Value::String(description.into()),
        );
        m.insert("parameters".into(), parameters);
        ToolSpec(m)
    }

    /// A spec from a JSON object, which must have a string `name`.
    pub fn from_json(object: serde_json::Map<String, serde_json::Value>) -> crate::Result<Self> {
        match object.get("name") {
            Some(serde_json::Value::String(_)) => Ok(ToolSpec(object)),
            Some(_) => Err(crate::Error::InvalidInput(
                "invalid type: a tool's `name` must be a string".into(),
            )),
            None => Err(crate::Error::InvalidInput("missing field `name`".into())),
        }
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        self.0
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
    }

    /// The `description`, when it is a string.
    pub fn description(&self) -> Option<&str> {
        self.0.get("description").and_then(|v| v.as_str())
    }

    /// The `parameters` schema, if any.
    pub fn parameters(&self) -> Option<&serde_json::Value> {
        self.0.get("parameters")
    }

    /// Any key of the spec.
    pub fn get(&self, key: &str) -> Option<&serde_json::Value> {
        self.0.get(key)
    }

    /// The whole object, in the order it was written.
    pub fn as_json(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.0
    }
}

impl<'de> Deserialize<'de> for ToolSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let object = serde_json::Map::deserialize(d)?;
        ToolSpec::from_json(object).map_err(|e| match e {
            crate::Error::InvalidInput(m) => serde::de::Error::custom(m),
            other => serde::de::Error::custom(other),
        })
    }
}

/// One message of a conversation.
///
/// Only `role` and `content` are required; the JSON leaves out the fields that are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// What it says.
    pub content: Content,
    /// Tool calls the assistant made (`Some(vec![])` is kept apart from `None`, as the cookbook
    /// tells a present empty list from an absent one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// Tool calls that did not parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unparsed_tool_calls: Option<Vec<UnparsedToolCall>>,
    /// Whether the message is trained on, for [`TrainOnWhat::Customized`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trainable: Option<bool>,
    /// For a `tool` message: the id of the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// For a `tool` message: the function that was called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Message {
    /// A message with `role` and `content` and nothing else.
    pub fn new(role: Role, content: impl Into<Content>) -> Self {
        Message {
            role,
            content: content.into(),
            tool_calls: None,
            unparsed_tool_calls: None,
            trainable: None,
            tool_call_id: None,
            name: None,
        }
    }

    /// Equality as the cookbook's JSON compares messages: content compared with
    /// [`Content::same_as`], everything else exactly.
    pub fn same_as(&self, other: &Message) -> bool {
        self.role == other.role
            && self.content.same_as(&other.content)
            && self.tool_calls == other.tool_calls
            && self.unparsed_tool_calls == other.unparsed_tool_calls
            && self.trainable == other.trainable
            && self.tool_call_id == other.tool_call_id
            && self.name == other.name
    }
}

/// Which tokens of a supervised example carry loss (the cookbook's `TrainOnWhat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainOnWhat {
    /// Only the final assistant message (the default).
    #[default]
    LastAssistantMessage,
    /// The assistant messages after the last user message.
    LastAssistantTurn,
    /// Every assistant message.
    AllAssistantMessages,
    /// Every message's content (not the headers).
    AllMessages,
    /// Every token, headers included.
    AllTokens,
    /// User and system messages.
    AllUserAndSystemMessages,
    /// Each message's own `trainable` flag (which every message must then have).
    Customized,
}

impl TrainOnWhat {
    /// All seven, in the cookbook's order.
    pub const ALL: [TrainOnWhat; 7] = [
        TrainOnWhat::LastAssistantMessage,
        TrainOnWhat::LastAssistantTurn,
        TrainOnWhat::AllAssistantMessages,
        TrainOnWhat::AllMessages,
        TrainOnWhat::AllTokens,
        TrainOnWhat::AllUserAndSystemMessages,
        TrainOnWhat::Customized,
    ];

    /// The name as the cookbook spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            TrainOnWhat::LastAssistantMessage => "last_assistant_message",
            TrainOnWhat::LastAssistantTurn => "last_assistant_turn",
            TrainOnWhat::AllAssistantMessages => "all_assistant_messages",
            TrainOnWhat::AllMessages => "all_messages",
            TrainOnWhat::AllTokens => "all_tokens",
            TrainOnWhat::AllUserAndSystemMessages => "all_user_and_system_messages",
            TrainOnWhat::Customized => "customized",
        }
    }
}

impl std::fmt::Display for TrainOnWhat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TrainOnWhat {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<TrainOnWhat> {
        TrainOnWhat::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                crate::Error::InvalidInput(format!(
                    "unknown train_on_what `{s}`: expected one of {}",
                    TrainOnWhat::ALL.map(|t| t.as_str()).join(", ")
                ))
            })
    }
}

/// How a sampled reply ended (the cookbook's `ParseTermination`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParseTermination {
    /// The format's stop signal ended it.
    StopSequence,
    /// The model's end-of-sequence token ended it (accepted by some formats).
    Eos,
    /// It did not end cleanly (cut off, several stop signals, …).
    Malformed,
}

impl ParseTermination {
    /// The name as the cookbook spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            ParseTermination::StopSequence => "stop_sequence",
            ParseTermination::Eos => "eos",
            ParseTermination::Malformed => "malformed",
        }
    }

    /// A clean end: anything but [`ParseTermination::Malformed`].
    pub fn is_clean(&self) -> bool {
        *self != ParseTermination::Malformed
    }
}

/// What stops sampling: token ids for most formats, strings for `role_colon`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StopSequences {
    /// Stop on any of these ids.
    Tokens(Vec<u32>),
    /// Stop when the text ends with any of these strings.
    Strings(Vec<String>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_the_cookbook_shape() {
        let line = r#"{"role":"assistant","content":"","tool_calls":[{"type":"function","id":"call_1","function":{"name":"f","arguments":"{\"a\": 1}"}}]}"#;
        let m: Message = serde_json::from_str(line).unwrap();
        assert_eq!(m.tool_calls.as_ref().unwrap()[0].function.name, "f");
        assert_eq!(serde_json::to_string(&m).unwrap(), line);
        // A missing id is null when written back.
        let m: Message = serde_json::from_str(
            r#"{"role":"assistant","content":"x","tool_calls":[{"function":{"name":"f","arguments":"{}"}}]}"#,
        )
        .unwrap();
        assert!(serde_json::to_string(&m)
            .unwrap()
            .contains(r#"{"type":"function","id":null,"#));
    }

    #[test]
    fn bad_input_is_refused_with_the_field_named() {
        for (line, needle) in [
            (r#"{"content":"x"}"#, "role"),
            (r#"{"role":"robot","content":"x"}"#, "robot"),
            (r#"{"role":"user","content":[{"type":"video"}]}"#, "video"),
            (r#"{"role":"user","content":[{"type":"text"}]}"#, "text"),
            (r#"{"role":"user","content":3}"#, "content parts"),
            (
                r#"{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]}"#,
                "string",
            ),
        ] {
            let e = serde_json::from_str::<Message>(line)
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{line}: {e}");
        }
    }

    #[test]
    fn content_equality_as_the_cookbook_compares() {
        let s = Content::Text("a".into());
        let p = Content::Parts(vec![ContentPart::text("a")]);
        assert!(s.same_as(&p) && p.same_as(&s));
        assert!(!s.same_as(&Content::Parts(vec![ContentPart::thinking("a")])));
        assert!(Content::Parts(vec![]).is_empty());
        assert_eq!(
            "last_assistant_turn".parse::<TrainOnWhat>().unwrap(),
            TrainOnWhat::LastAssistantTurn
        );
        assert!("nope".parse::<TrainOnWhat>().is_err());
        assert_eq!("tool_declare".parse::<Role>().unwrap(), Role::ToolDeclare);
        assert!("robot".parse::<Role>().is_err());
    }
}
