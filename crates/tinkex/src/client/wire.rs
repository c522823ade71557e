//! The Tinker API's request and answer bodies as typed structs (what the official SDK sends;
//! see the module docs of [`crate::client`]). Answers ignore unknown fields; requests omit
//! absent ones.

use serde::{Deserialize, Serialize};

/// `model_data` of a `get_info` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelData {
    /// The architecture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// The base model's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    /// The tokenizer the server uses (may carry a `:suffix`, which is not a revision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer_id: Option<String>,
}

/// The answer of `get_info` (unknown fields ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetInfoResponse {
    /// The model id.
    #[serde(default)]
    pub model_id: String,
    /// What the server knows of the model.
    #[serde(default)]
    pub model_data: ModelData,
    /// Whether it is a LoRA model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_lora: Option<bool>,
    /// The LoRA rank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lora_rank: Option<u32>,
    /// The base model's name (older servers put it here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
}

/// The answer of `GET samplers/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SamplerInfo {
    /// The sampler id.
    #[serde(default)]
    pub sampler_id: String,
    /// The base model the sampler serves.
    pub base_model: String,
    /// The checkpoint path, if any.
    #[serde(default)]
    pub model_path: Option<String>,
}

/// `POST create_session`.
#[derive(Debug, Serialize)]
pub(crate) struct CreateSession<'a> {
    pub tags: [&'a str; 0],
    pub user_metadata: serde_json::Map<String, serde_json::Value>,
    pub sdk_version: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
}

/// The answer of `create_session`.
#[derive(Debug, Deserialize)]
pub(crate) struct SessionCreated {
    pub session_id: String,
}

/// `lora_config` of [`CreateModel`].
#[derive(Debug, Serialize)]
pub(crate) struct LoraConfig {
    pub rank: u32,
}

/// `POST create_model`.
#[derive(Debug, Serialize)]
pub(crate) struct CreateModel<'a> {
    pub session_id: &'a str,
    pub model_seq_id: u32,
    pub base_model: &'a str,
    pub lora_config: LoraConfig,
    #[serde(rename = "type")]
    pub kind: &'a str,
}

/// A future's result as far as the clients read it: `create_model` answers with a
/// `request_id` to poll (or the `model_id` at once); `retrieve_future` with `type: try_again`,
/// an `error` (a string or an object) with its `category`, or the result.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct FutureReply {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub model_id: Option<String>,
    #[serde(default)]
    pub error: Option<serde_json::Value>,
    #[serde(default)]
    pub category: Option<String>,
}

/// `POST retrieve_future`.
#[derive(Debug, Serialize)]
pub(crate) struct RetrieveFuture<'a> {
    pub request_id: &'a str,
    pub allow_metadata_only: bool,
}

/// `POST get_info`.
#[derive(Debug, Serialize)]
pub(crate) struct GetInfo<'a> {
    pub model_id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
}
