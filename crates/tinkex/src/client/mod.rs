//! A blocking client for the Tinker API, as far as the tokenizer layer needs it: the tokenizer
//! of a training model (`get_info` → `model_data.tokenizer_id`) or of a sampler (its
//! `base_model`), and creating a LoRA training model for a base model.
//!
//! HTTP is done as the official Python SDK does it (see `shared/docs/tinker-api.md`):
//! `X-API-Key`, JSON bodies (absent fields omitted), an `X-Idempotency-Key` on every non-GET
//! request (one per logical call, the same across its retries), 60 s / 5 s (connect) timeouts,
//! and retries of connection errors, timeouts, 408, 409, 429 and 5xx honouring
//! `x-should-retry`, `retry-after-ms` and `retry-after`, else `min(0.5·2ⁿ, 10)·(1 − 0.25·rand)`
//! seconds, at most 10 retries and within [`RetryConfig::total_timeout`] in all.
//!
//! ```no_run
//! use tinkex::client::{ClientConfig, ServiceClient};
//! use tinkex::tokenizer::{encode, EncodeOptions};
//!
//! let service = ServiceClient::new(ClientConfig::from_env())?;
//! let training = service.training_client("session-1:train:0");
//! let ids = encode("Hello world", &training, EncodeOptions::default())?;
//! let sampler = service.sampling_client("session-1:sample:0");
//! println!("{} uses {}", sampler.sampler_id(), sampler.get_tokenizer()?.name());
//! # Ok::<(), tinkex::Error>(())
//! ```

mod config;
mod http;
mod wire;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use crate::cache::TokenizerCache;
use crate::net::{encode_segment, jitter_fraction};
use crate::resolve::Resolution;
use crate::tokenizer::{ModelRef, Tokenizer};
use crate::{Error, Result};

pub use crate::config::Secret;
pub use config::{ClientConfig, RetryConfig};
pub use http::API_KEY_PREFIX;
pub use wire::{GetInfoResponse, ModelData, SamplerInfo};

use http::{check_id, Http};

/// Where a client's tokenizer came from (`tinkex resolve --json` prints it as `source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenizerSource {
    /// The server's `get_info` → `model_data.tokenizer_id`.
    ServerTokenizerId,
    /// The name rules on `get_info`'s `model_data.model_name`.
    ModelName,
    /// The name rules on a sampler's `base_model`.
    SamplerBaseModel,
    /// `get_info` failed; the name rules on the fallback name
    /// ([`TrainingClient::with_fallback_to_name`]).
    FallbackName,
}

impl TokenizerSource {
    /// `server_tokenizer_id`, `model_name`, `sampler_base_model` or `fallback_name`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenizerSource::ServerTokenizerId => "server_tokenizer_id",
            TokenizerSource::ModelName => "model_name",
            TokenizerSource::SamplerBaseModel => "sampler_base_model",
            TokenizerSource::FallbackName => "fallback_name",
        }
    }
}

/// The entry point: holds the configuration and the HTTP client; cheap to clone.
///
/// ```no_run
/// use tinkex::client::{ClientConfig, ServiceClient};
/// let service = ServiceClient::new(ClientConfig::default().with_api_key("tml-…"))?;
/// let training = service.training_client("session-1:train:0");
/// let tokenizer = training.get_tokenizer()?;
/// # Ok::<(), tinkex::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ServiceClient {
    http: Arc<Http>,
}

impl ServiceClient {
    /// A client for `config`. The API key must be set and start with `tml-`, and the base URL
    /// must be an `http(s)` URL; otherwise this is [`Error::Config`] naming `TINKER_API_KEY` or
    /// `TINKER_BASE_URL`, and nothing is sent anywhere.
    ///
    /// ```
    /// use tinkex::client::{ClientConfig, ServiceClient};
    /// let err = ServiceClient::new(ClientConfig::default()).unwrap_err();
    /// assert!(err.to_string().contains("TINKER_API_KEY"));
    /// ```
    pub fn new(config: ClientConfig) -> Result<Self> {
        Ok(ServiceClient {
            http: Arc::new(Http::new(config)?),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.http.config
    }

    /// A client for an existing training model (`<session>:train:<n>`). No request is made
    /// until one is needed.
    pub fn training_client(&self, model_id: impl Into<String>) -> TrainingClient {
        TrainingClient {
            http: self.http.clone(),
            model_id: model_id.into(),
            fallback_name: None,
            info: Mutex::new(None),
            warnings: Mutex::new(Vec::new()),
        }
    }

    /// A client for an existing sampler (`<session>:sample:<n>`). No request is made until one
    /// is needed.
    pub fn sampling_client(&self, sampler_id: impl Into<String>) -> SamplingClient {
        SamplingClient {
            http: self.http.clone(),
            sampler_id: sampler_id.into(),
            info: Mutex::new(None),
        }
    }

    /// Creates a LoRA training model of `rank` on `base_model`: `create_session`, then
    /// `create_model`, then polls `retrieve_future` until the model id is ready.
    ///
    /// ```no_run
    /// # let service = tinkex::client::ServiceClient::new(tinkex::client::ClientConfig::from_env())?;
    /// let training = service.create_lora_training_client("Qwen/Qwen3-8B", 32)?;
    /// println!("{}", training.model_id());
    /// # Ok::<(), tinkex::Error>(())
    /// ```
    /// # let _ = tinkex::cache::TokenizerCache::set_global(tinkex::Config::default().with_offline(true));
    pub fn create_lora_training_client(
        &self,
        base_model: &str,
        rank: u32,
    ) -> Result<TrainingClient> {
        let session: wire::SessionCreated = self.http.post(
            "create_session",
            &wire::CreateSession {
                tags: [],
                user_metadata: serde_json::Map::new(),
                sdk_version: concat!("tinkex-", env!("CARGO_PKG_VERSION")),
                kind: "create_session",
            },
        )?;
        let future: wire::FutureReply = self.http.post(
            "create_model",
            &wire::CreateModel {
                session_id: &session.session_id,
                model_seq_id: 0,
                base_model,
                lora_config: wire::LoraConfig { rank },
                kind: "create_model",
            },
        )?;
        let result = match &future.request_id {
            Some(request_id) => self.wait_future(request_id)?,
            None => future,
        };
        let model_id = result.model_id.ok_or_else(|| Error::Api {
            status: None,
            url: self.http.url("retrieve_future"),
            message: "the result has no model_id".to_owned(),
        })?;
        Ok(self.training_client(model_id))
    }

    /// Polls `retrieve_future` until it is not `try_again`.
    fn wait_future(&self, request_id: &str) -> Result<wire::FutureReply> {
        let started = Instant::now();
        let body = wire::RetrieveFuture {
            request_id,
            allow_metadata_only: true,
        };
        let mut n = 0u32;
        loop {
            let v: wire::FutureReply = self.http.post("retrieve_future", &body)?;
            if let Some(err) = v.error.as_ref().filter(|e| !e.is_null()) {
                let err = err.as_str().map_or_else(|| err.to_string(), str::to_owned);
                let category = v
                    .category
                    .as_deref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default();
                return Err(Error::Api {
                    status: None,
                    url: self.http.url("retrieve_future"),
                    message: format!("request {request_id} failed{category}: {err}"),
                });
            }
            if v.kind.as_deref() != Some("try_again") {
                return Ok(v);
            }
            let wait = self.http.config.retry.backoff(n, jitter_fraction());
            if started.elapsed() + wait > self.http.config.future_timeout {
                return Err(Error::Api {
                    status: None,
                    url: self.http.url("retrieve_future"),
                    message: format!(
                        "request {request_id} was not ready after {:.0} s; try again later",
                        started.elapsed().as_secs_f64()
                    ),
                });
            }
            std::thread::sleep(wait);
            n = n.saturating_add(1);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A training model: its tokenizer is what the server says (`get_info`).
///
/// Implements [`ModelRef`], so it can be passed to [`crate::tokenizer::encode`] and
/// [`crate::types::ModelInput::from_text`]:
///
/// ```no_run
/// # let service = tinkex::client::ServiceClient::new(tinkex::client::ClientConfig::from_env())?;
/// use tinkex::types::ModelInput;
/// let training = service.training_client("session-1:train:0");
/// let prompt = ModelInput::from_text("Question: 2+2=", &training)?;
/// # Ok::<(), tinkex::Error>(())
/// ```
#[derive(Debug)]
pub struct TrainingClient {
    http: Arc<Http>,
    model_id: String,
    fallback_name: Option<String>,
    info: Mutex<Option<GetInfoResponse>>,
    warnings: Mutex<Vec<String>>,
}

impl TrainingClient {
    /// The model id.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// When `get_info` fails (after its retries), resolve the tokenizer from `model_name` by
    /// the name rules instead of failing, and record a warning ([`TrainingClient::warnings`]).
    #[must_use]
    pub fn with_fallback_to_name(mut self, model_name: impl Into<String>) -> Self {
        self.fallback_name = Some(model_name.into());
        self
    }

    /// What the server knows of the model (`POST get_info`); the first success is kept. A
    /// malformed id ([`Error::InvalidId`]) is refused before any request.
    pub fn get_info(&self) -> Result<GetInfoResponse> {
        if let Some(info) = lock(&self.info).as_ref() {
            return Ok(info.clone());
        }
        check_id("model id", &self.model_id)?;
        let info: GetInfoResponse = self.http.post(
            "get_info",
            &wire::GetInfo {
                model_id: &self.model_id,
                kind: "get_info",
            },
        )?;
        *lock(&self.info) = Some(info.clone());
        Ok(info)
    }

    /// Warnings recorded so far (e.g. that `get_info` failed and the fallback name was used).
    pub fn warnings(&self) -> Vec<String> {
        lock(&self.warnings).clone()
    }

    /// Which tokenizer the model uses, resolved with `cache`'s registry, and where that came
    /// from. The server's `model_data.tokenizer_id` (`:suffix` dropped) wins; without it the
    /// rules apply to `model_data.model_name`.
    pub fn resolve_tokenizer(
        &self,
        cache: &TokenizerCache,
    ) -> Result<(Resolution, TokenizerSource)> {
        let info = match self.get_info() {
            Ok(info) => info,
            Err(e) => {
                let Some(name) = &self.fallback_name else {
                    return Err(e);
                };
                lock(&self.warnings).push(format!(
                    "get_info for {} failed ({e}); using the tokenizer of the model name `{name}`",
                    self.model_id
                ));
                return Ok((cache.resolve(name, None)?, TokenizerSource::FallbackName));
            }
        };
        let name = info
            .model_data
            .model_name
            .as_deref()
            .or(info.model_name.as_deref())
            .filter(|n| !n.trim().is_empty());
        let server_id = info
            .model_data
            .tokenizer_id
            .as_deref()
            .filter(|t| !t.trim().is_empty());
        match (server_id, name) {
            (Some(id), name) => Ok((
                cache.resolve(name.unwrap_or(id), Some(id))?,
                TokenizerSource::ServerTokenizerId,
            )),
            (None, Some(name)) => Ok((cache.resolve(name, None)?, TokenizerSource::ModelName)),
            (None, None) => Err(Error::Api {
                status: None,
                url: self.http.url("get_info"),
                message: format!(
                    "the server named neither a tokenizer_id nor a model_name for {}; pass the \
                     model name instead",
                    self.model_id
                ),
            }),
        }
    }

    /// The tokenizer of `cache`.
    pub fn get_tokenizer_with(&self, cache: &TokenizerCache) -> Result<Arc<Tokenizer>> {
        let (resolution, _) = self.resolve_tokenizer(cache)?;
        cache.get_or_load_resolved(&resolution)
    }

    /// The model's tokenizer, from the process-wide cache.
    pub fn get_tokenizer(&self) -> Result<Arc<Tokenizer>> {
        self.get_tokenizer_with(TokenizerCache::global())
    }
}

impl ModelRef for TrainingClient {
    fn tokenizer(&self) -> Result<Arc<Tokenizer>> {
        self.get_tokenizer()
    }
}

/// A sampler: its tokenizer follows from its `base_model` by the name rules
/// (`org/model/variant:suffix` → `org/model`).
///
/// ```no_run
/// # let service = tinkex::client::ServiceClient::new(tinkex::client::ClientConfig::from_env())?;
/// let sampler = service.sampling_client("session-1:sample:0");
/// let ids = tinkex::tokenizer::encode("Hi", &sampler, Default::default())?;
/// # Ok::<(), tinkex::Error>(())
/// ```
#[derive(Debug)]
pub struct SamplingClient {
    http: Arc<Http>,
    sampler_id: String,
    info: Mutex<Option<SamplerInfo>>,
}

impl SamplingClient {
    /// The sampler id.
    pub fn sampler_id(&self) -> &str {
        &self.sampler_id
    }

    /// `GET samplers/{sampler_id}` (the id percent-encoded); the first success is kept. A
    /// malformed id ([`Error::InvalidId`]) is refused before any request.
    pub fn get_sampler(&self) -> Result<SamplerInfo> {
        if let Some(info) = lock(&self.info).as_ref() {
            return Ok(info.clone());
        }
        check_id("sampler id", &self.sampler_id)?;
        let info: SamplerInfo = self
            .http
            .get(&format!("samplers/{}", encode_segment(&self.sampler_id)))?;
        *lock(&self.info) = Some(info.clone());
        Ok(info)
    }

    /// The base model the sampler serves.
    pub fn get_base_model(&self) -> Result<String> {
        Ok(self.get_sampler()?.base_model)
    }

    /// Which tokenizer the sampler uses, resolved with `cache`'s registry.
    pub fn resolve_tokenizer(
        &self,
        cache: &TokenizerCache,
    ) -> Result<(Resolution, TokenizerSource)> {
        let base = self.get_base_model()?;
        Ok((
            cache.resolve(&base, None)?,
            TokenizerSource::SamplerBaseModel,
        ))
    }

    /// The tokenizer of `cache`.
    pub fn get_tokenizer_with(&self, cache: &TokenizerCache) -> Result<Arc<Tokenizer>> {
        let (resolution, _) = self.resolve_tokenizer(cache)?;
        cache.get_or_load_resolved(&resolution)
    }

    /// The sampler's tokenizer, from the process-wide cache.
    pub fn get_tokenizer(&self) -> Result<Arc<Tokenizer>> {
        self.get_tokenizer_with(TokenizerCache::global())
    }
}

impl ModelRef for SamplingClient {
    fn tokenizer(&self) -> Result<Arc<Tokenizer>> {
        self.get_tokenizer()
    }
}
