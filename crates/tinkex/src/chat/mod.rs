//! Chat rendering: conversations into Tinker prompts and supervised examples, sampled tokens
//! back into messages — the same tokens, weights and messages as tinker-cookbook 0.6.1's
//! `renderers` package.
//!
//! ```
//! # let _ = tinkex::cache::TokenizerCache::set_global(tinkex::Config::default().with_offline(true));
//! use tinkex::chat::{self, Message, Role, TrainOnWhat};
//!
//! let tok = tinkex::tokenizer::get_or_load_tokenizer("Qwen/Qwen3-8B")?;
//! let r = chat::renderer("qwen3", tok.clone())?;
//! let conversation = [
//!     Message::new(Role::User, "What is 2+2?"),
//!     Message::new(Role::Assistant, "4"),
//! ];
//! // Sampling: the prompt for the next assistant message.
//! let prompt = r.generation_prompt(&conversation[..1], Role::Assistant, None)?;
//! // Training: every token of the conversation, and which ones carry loss.
//! let (tokens, weights) = r.supervised_example(&conversation, TrainOnWhat::LastAssistantMessage)?;
//! assert_eq!(tokens.to_ints()?.len(), weights.len());
//! let datum = chat::Datum::new(&tokens, &weights, None, chat::Reduction::None)?;
//! // Parsing: what the model sampled after the prompt, back into a message.
//! let sampled = &tokens.to_ints()?[prompt.to_ints()?.len()..];
//! let (reply, termination) = r.parse_response(sampled)?;
//! assert_eq!(reply.content.text(), "4");
//! assert!(termination.is_clean());
//! # let _ = datum;
//! # Ok::<(), tinkex::Error>(())
//! ```
//!
//! Every renderer refuses what its format cannot express (a thinking part for `llama3`, tool
//! calls for `role_colon`, …) with [`crate::Error::RendererUnsupported`]: it never renders
//! something else instead. Which renderers a model is meant for: [`recommended_renderers`].

mod base;
mod datum;
mod message;
mod models;
pub(crate) mod pyjson;
mod pyrepr;
mod stream;
mod text;

mod deepseek_v3;
mod deepseek_v4_1;
mod gpt_oss;
mod kimi;
mod kimi_ts;
mod llama3;
mod qwen3;
mod qwen3_5;
mod role_colon;
mod tml_v0;

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::tokenizer::Tokenizer;
use crate::types::ModelInput;

pub use datum::{Datum, Reduction, TensorData};
pub use message::{
    Content, ContentPart, FunctionCall, Message, ParseTermination, Role, StopSequences, ToolCall,
    ToolSpec, TrainOnWhat, UnparsedToolCall,
};
pub use models::recommended_renderers;
pub use stream::{StreamDelta, StreamingParser};

/// A chat format: the cookbook's `Renderer` operations.
///
/// Get one with [`renderer`]. Renderers are immutable and `Send + Sync`: share one across threads.
pub trait Renderer: Send + Sync {
    /// The registry name (`"qwen3"`, …).
    fn name(&self) -> &str;

    /// The tokenizer it renders with.
    fn tokenizer(&self) -> &Arc<Tokenizer>;

    /// `build_generation_prompt(messages, role, prefill)`: the prompt to sample the next message
    /// of `role` from, every message of `messages` rendered, then `prefill` (if any) as the start
    /// of the reply.
    fn generation_prompt(
        &self,
        messages: &[Message],
        role: Role,
        prefill: Option<&str>,
    ) -> Result<ModelInput>;

    /// `build_supervised_example(messages, train_on_what)`: the tokens of the whole
    /// conversation and one weight (0.0 or 1.0) per token, unshifted.
    fn supervised_example(
        &self,
        messages: &[Message],
        train_on: TrainOnWhat,
    ) -> Result<(ModelInput, Vec<f32>)>;

    /// `build_supervised_examples`: for a renderer without the extension property (see
    /// [`Renderer::has_extension_property`]), one example per trained assistant message, each
    /// ending at that message, so every turn is trained on the context it is sampled from;
    /// otherwise one example.
    fn supervised_examples(
        &self,
        messages: &[Message],
        train_on: TrainOnWhat,
    ) -> Result<Vec<(ModelInput, Vec<f32>)>>;

    /// `get_stop_sequences()`.
    fn stop_sequences(&self) -> Result<StopSequences>;

    /// `parse_response(tokens)`: a sampled reply back into a message, and how it ended.
    fn parse_response(&self, tokens: &[u32]) -> Result<(Message, ParseTermination)>;

    /// `create_conversation_prefix_with_tools(tools, system_prompt)`: the messages to put before
    /// a conversation that may call `tools`.
    fn tool_prefix(&self, tools: &[ToolSpec], system_prompt: &str) -> Result<Vec<Message>>;

    /// Whether each generation prompt of a multi-turn conversation is a prefix of the next
    /// (nothing is stripped from history): then one supervised example can train every turn.
    fn has_extension_property(&self) -> bool;

    /// How the streaming parser reads this format (crate-internal).
    #[doc(hidden)]
    fn stream_format(&self) -> Result<stream::StreamFormat>;
}

impl dyn Renderer {
    /// An incremental parser of a sampled reply: feed ids as they arrive, get text and thinking
    /// as soon as they are complete, and at the end the message [`Renderer::parse_response`]
    /// gives for the same ids. See [`StreamingParser`].
    pub fn streaming_parser(&self) -> Result<StreamingParser<'_>> {
        StreamingParser::new(self)
    }
}

/// Implements [`Renderer`] for a type by forwarding to its [`base::Template`] methods.
macro_rules! template_renderer {
    ($t:ty) => {
        impl $crate::chat::Renderer for $t {
            fn name(&self) -> &str {
                $crate::chat::base::Template::renderer_name(self)
            }
            fn tokenizer(&self) -> &std::sync::Arc<$crate::tokenizer::Tokenizer> {
                &self.tok
            }
            fn generation_prompt(
                &self,
                messages: &[$crate::chat::Message],
                role: $crate::chat::Role,
                prefill: Option<&str>,
            ) -> $crate::Result<$crate::types::ModelInput> {
                $crate::chat::base::Template::generation_prompt(self, messages, role, prefill)
            }
            fn supervised_example(
                &self,
                messages: &[$crate::chat::Message],
                train_on: $crate::chat::TrainOnWhat,
            ) -> $crate::Result<($crate::types::ModelInput, Vec<f32>)> {
                $crate::chat::base::Template::supervised_example(self, messages, train_on)
            }
            fn supervised_examples(
                &self,
                messages: &[$crate::chat::Message],
                train_on: $crate::chat::TrainOnWhat,
            ) -> $crate::Result<Vec<($crate::types::ModelInput, Vec<f32>)>> {
                $crate::chat::base::Template::supervised_examples(self, messages, train_on)
            }
            fn stop_sequences(&self) -> $crate::Result<$crate::chat::StopSequences> {
                $crate::chat::base::Template::stop_sequences(self)
            }
            fn parse_response(
                &self,
                tokens: &[u32],
            ) -> $crate::Result<($crate::chat::Message, $crate::chat::ParseTermination)> {
                $crate::chat::base::Template::parse_response(self, tokens)
            }
            fn tool_prefix(
                &self,
                tools: &[$crate::chat::ToolSpec],
                system_prompt: &str,
            ) -> $crate::Result<Vec<$crate::chat::Message>> {
                $crate::chat::base::Template::tool_prefix(self, tools, system_prompt)
            }
            fn has_extension_property(&self) -> bool {
                $crate::chat::base::Template::has_extension_property(self)
            }
            fn stream_format(&self) -> $crate::Result<$crate::chat::stream::StreamFormat> {
                $crate::chat::base::Template::stream_format(self)
            }
        }
    };
}
pub(crate) use template_renderer;

/// Options of [`renderer_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RendererOptions {
    /// The date gpt-oss's system prompt shows (`Current date: YYYY-MM-DD`); `None` = today (UTC)
    /// when the renderer is made.
    pub current_date: Option<String>,
}

impl RendererOptions {
    /// Sets [`RendererOptions::current_date`]; it must be `YYYY-MM-DD`.
    pub fn with_current_date(mut self, date: impl Into<String>) -> Result<Self> {
        let date = date.into();
        if !text::is_iso_date(&date) {
            return Err(Error::InvalidInput(format!(
                "current date `{date}` is not a date in the form YYYY-MM-DD"
            )));
        }
        self.current_date = Some(date);
        Ok(self)
    }
}

/// How to build each renderer, by registry name (tinker-cookbook 0.6.1
/// `renderers/__init__.py` `get_renderer`).
type Build = fn(&'static str, Arc<Tokenizer>, &RendererOptions) -> Result<Arc<dyn Renderer>>;

const RENDERERS: &[(&str, Build)] = &[
    ("role_colon", role_colon::build),
    ("llama3", llama3::build),
    ("qwen3", qwen3::build),
    ("qwen3_disable_thinking", qwen3::build),
    ("qwen3_instruct", qwen3::build),
    ("deepseekv3", deepseek_v3::build_disable_thinking),
    (
        "deepseekv3_disable_thinking",
        deepseek_v3::build_disable_thinking,
    ),
    ("deepseekv3_thinking", deepseek_v3::build_thinking),
    ("deepseekv4_1", deepseek_v4_1::build),
    ("deepseekv4_1_low_reasoning", deepseek_v4_1::build),
    ("deepseekv4_1_max_reasoning", deepseek_v4_1::build),
    ("deepseekv4_1_disable_thinking", deepseek_v4_1::build),
    ("deepseekv4_1_preserve_thinking", deepseek_v4_1::build),
    ("gpt_oss_no_sysprompt", gpt_oss::build_no_sysprompt),
    ("gpt_oss_low_reasoning", gpt_oss::build_low),
    ("gpt_oss_medium_reasoning", gpt_oss::build_medium),
    ("gpt_oss_high_reasoning", gpt_oss::build_high),
    ("tml_v0", tml_v0::build),
    ("qwen3_5", qwen3_5::build),
    ("qwen3_5_disable_thinking", qwen3_5::build),
    ("qwen3_5_preserve_thinking", qwen3_5::build),
    ("qwen3_8_xhigh_reasoning", qwen3_5::build),
    ("qwen3_8_medium_reasoning", qwen3_5::build),
    ("qwen3_8_low_reasoning", qwen3_5::build),
    ("qwen3_8_disable_thinking", qwen3_5::build),
    ("kimi_k2", kimi::build),
    ("kimi_k25", kimi::build),
    ("kimi_k25_disable_thinking", kimi::build),
    ("kimi_k26", kimi::build),
    ("kimi_k26_disable_thinking", kimi::build),
    ("kimi_k26_preserve_thinking", kimi::build),
];

/// Every renderer name tinkex implements, in registry order.
pub fn renderer_names() -> impl Iterator<Item = &'static str> {
    RENDERERS.iter().map(|(n, _)| *n)
}

/// The renderer called `name` (the cookbook's `get_renderer`), rendering with `tokenizer`.
///
/// A name tinkex does not implement is [`Error::UnknownRenderer`], naming the ones it does.
///
/// ```
/// # let _ = tinkex::cache::TokenizerCache::set_global(tinkex::Config::default().with_offline(true));
/// let tok = tinkex::tokenizer::get_or_load_tokenizer("meta-llama/Llama-3.1-8B")?;
/// let r = tinkex::chat::renderer("llama3", tok.clone())?;
/// assert_eq!(r.name(), "llama3");
/// assert!(matches!(
///     tinkex::chat::renderer("qwen3_vl", tok),
///     Err(tinkex::Error::UnknownRenderer { .. })
/// ));
/// # Ok::<(), tinkex::Error>(())
/// ```
pub fn renderer(name: &str, tokenizer: Arc<Tokenizer>) -> Result<Arc<dyn Renderer>> {
    renderer_with(name, tokenizer, &RendererOptions::default())
}

/// [`renderer`] with options (gpt-oss's current date).
pub fn renderer_with(
    name: &str,
    tokenizer: Arc<Tokenizer>,
    options: &RendererOptions,
) -> Result<Arc<dyn Renderer>> {
    match RENDERERS.iter().find(|(n, _)| *n == name) {
        Some((n, build)) => build(n, tokenizer, options),
        None => Err(Error::UnknownRenderer {
            name: name.to_owned(),
            available: renderer_names().collect::<Vec<_>>().join(", "),
        }),
    }
}

const _: fn() = || {
    fn assert_send_sync<T: Send + Sync + ?Sized>() {}
    assert_send_sync::<dyn Renderer>();
    assert_send_sync::<Arc<dyn Renderer>>();
};
