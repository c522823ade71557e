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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cache::TokenizerCache;
use crate::config::{
    DEFAULT_TINKER_BASE_URL, ENV_CLOUDFLARE_ACCESS_CLIENT_ID, ENV_CLOUDFLARE_ACCESS_CLIENT_SECRET,
    ENV_TINKER_API_KEY, ENV_TINKER_BASE_URL,
};
use crate::hub::http::{encode_segment, header, jitter_fraction};
use crate::resolve::Resolution;
use crate::tokenizer::{ModelRef, Tokenizer};
use crate::{Error, Result};

/// The prefix every Tinker API key has.
pub const API_KEY_PREFIX: &str = "tml-";

pub use crate::config::Secret;

/// How a failed Tinker API request is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Retries after the first attempt (the SDK: 10).
    pub max_retries: u32,
    /// The computed wait before the n-th retry (from 0) is `min(initial_delay·2ⁿ, max_delay)`,
    /// less up to 25 % jitter.
    pub initial_delay: Duration,
    /// See [`RetryConfig::initial_delay`].
    pub max_delay: Duration,
    /// A server's `retry-after(-ms)` is honoured when it is in `(0, max_retry_after]`.
    pub max_retry_after: Duration,
    /// One logical call (all its attempts and waits) ends by this much time after it started.
    pub total_timeout: Duration,
}

impl Default for RetryConfig {
    /// The SDK's policy: 10 retries, 0.5 s doubling to 10 s, `retry-after` up to 60 s; and
    /// 110 s in all (so an unreachable server is reported within 2 minutes).
    fn default() -> Self {
        RetryConfig {
            max_retries: 10,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            total_timeout: Duration::from_secs(110),
        }
    }
}

impl RetryConfig {
    /// A policy with the given numbers (tests use short ones).
    pub fn new(max_retries: u32, initial_delay: Duration, max_delay: Duration) -> Self {
        RetryConfig {
            max_retries,
            initial_delay,
            max_delay,
            ..RetryConfig::default()
        }
    }

    /// Sets [`RetryConfig::total_timeout`].
    #[must_use]
    pub fn with_total_timeout(mut self, total: Duration) -> Self {
        self.total_timeout = total;
        self
    }

    /// The computed wait before retry `n` (0-based), with `jitter` in `[0, 1)`.
    pub fn backoff(&self, n: u32, jitter: f64) -> Duration {
        let exp = self
            .initial_delay
            .saturating_mul(1u32 << n.min(20))
            .min(self.max_delay);
        exp.mul_f64(1.0 - 0.25 * jitter.clamp(0.0, 1.0))
    }

    /// The longest one logical call can take with `timeout` per attempt: the sum of every
    /// attempt's timeout and the longest waits, capped by [`RetryConfig::total_timeout`].
    pub fn worst_case_total(&self, timeout: Duration) -> Duration {
        let waits: Duration = (0..self.max_retries)
            .map(|n| self.backoff(n, 0.0).max(self.max_retry_after))
            .sum();
        let attempts = timeout.saturating_mul(self.max_retries + 1);
        (waits + attempts).min(self.total_timeout)
    }
}

/// How to reach the Tinker API. [`ClientConfig::from_env`] is the only place the variables are
/// read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The API key (`tml-…`); checked by [`ServiceClient::new`].
    pub api_key: Option<Secret>,
    /// The base URL, without a trailing `/`; requests go to `{base_url}/api/v1/{name}`.
    pub base_url: String,
    /// Sent as `CF-Access-Client-Id` when set.
    pub cf_access_client_id: Option<String>,
    /// Sent as `CF-Access-Client-Secret` when set.
    pub cf_access_client_secret: Option<Secret>,
    /// One attempt's overall timeout (60 s).
    pub timeout: Duration,
    /// One attempt's connect timeout (5 s).
    pub connect_timeout: Duration,
    /// Retries.
    pub retry: RetryConfig,
    /// How long [`ServiceClient::create_lora_training_client`] polls a future before giving up.
    pub future_timeout: Duration,
}

impl Default for ClientConfig {
    /// No key, the default base URL, the SDK's timeouts and retries.
    fn default() -> Self {
        ClientConfig {
            api_key: None,
            base_url: DEFAULT_TINKER_BASE_URL.to_owned(),
            cf_access_client_id: None,
            cf_access_client_secret: None,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(5),
            retry: RetryConfig::default(),
            future_timeout: Duration::from_secs(600),
        }
    }
}

impl ClientConfig {
    /// Reads `TINKER_API_KEY`, `TINKER_BASE_URL`, `CLOUDFLARE_ACCESS_CLIENT_ID` and
    /// `CLOUDFLARE_ACCESS_CLIENT_SECRET` (see [`crate::config`]).
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Like [`ClientConfig::from_env`], with the variables supplied by `var`.
    ///
    /// ```
    /// use tinkex::client::ClientConfig;
    /// let c = ClientConfig::from_lookup(|k| match k {
    ///     "TINKER_API_KEY" => Some("tml-abc".into()),
    ///     "TINKER_BASE_URL" => Some("http://127.0.0.1:8000/".into()),
    ///     _ => None,
    /// });
    /// assert_eq!(c.base_url, "http://127.0.0.1:8000");
    /// assert_eq!(c.api_key.unwrap().expose(), "tml-abc");
    /// ```
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let var = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        ClientConfig {
            api_key: var(ENV_TINKER_API_KEY).and_then(Secret::new),
            base_url: var(ENV_TINKER_BASE_URL)
                .map(|u| u.trim().trim_end_matches('/').to_owned())
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| DEFAULT_TINKER_BASE_URL.to_owned()),
            cf_access_client_id: var(ENV_CLOUDFLARE_ACCESS_CLIENT_ID).map(|v| v.trim().to_owned()),
            cf_access_client_secret: var(ENV_CLOUDFLARE_ACCESS_CLIENT_SECRET).and_then(Secret::new),
            ..ClientConfig::default()
        }
    }

    /// Sets the API key.
    #[must_use]
    pub fn with_api_key(mut self, key: impl AsRef<str>) -> Self {
        self.api_key = Secret::new(key);
        self
    }

    /// Sets the base URL (a trailing `/` is dropped).
    #[must_use]
    pub fn with_base_url(mut self, url: impl AsRef<str>) -> Self {
        self.base_url = url.as_ref().trim().trim_end_matches('/').to_owned();
        self
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the per-attempt timeouts.
    #[must_use]
    pub fn with_timeouts(mut self, timeout: Duration, connect: Duration) -> Self {
        self.timeout = timeout;
        self.connect_timeout = connect;
        self
    }
}

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

/// The HTTP layer shared by the clients of one [`ServiceClient`].
#[derive(Debug)]
struct Http {
    agent: ureq::Agent,
    config: ClientConfig,
    api_key: Secret,
}

/// Why an attempt failed.
enum Attempt {
    Retry {
        message: String,
        retry_after: Option<Duration>,
        status: Option<u16>,
    },
    Fatal(Error),
}

/// `retry-after-ms` (milliseconds) or `retry-after` (seconds or an HTTP-date, as the SDK reads
/// them).
fn server_retry_after(resp: &ureq::http::Response<ureq::Body>) -> Option<Duration> {
    header(resp, "retry-after-ms")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .or_else(|| {
            header(resp, "retry-after")
                .and_then(|v| crate::hub::http::parse_retry_after(v, std::time::SystemTime::now()))
        })
}

/// A fresh idempotency key.
fn idempotency_key() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let a = (jitter_fraction() * (1u64 << 53) as f64) as u64;
    let b = (jitter_fraction() * (1u64 << 53) as f64) as u64;
    format!("tinkex-{a:014x}{b:014x}-{n}")
}

fn check_api_key(key: Option<&Secret>) -> Result<Secret> {
    match key {
        None => Err(Error::Config {
            name: ENV_TINKER_API_KEY.to_owned(),
            message: format!(
                "no Tinker API key: set {ENV_TINKER_API_KEY} to your key (it starts with \
                 `{API_KEY_PREFIX}`)"
            ),
        }),
        Some(k) if !k.expose().starts_with(API_KEY_PREFIX) => Err(Error::Config {
            name: ENV_TINKER_API_KEY.to_owned(),
            message: format!(
                "a Tinker API key starts with `{API_KEY_PREFIX}`; check the value of \
                 {ENV_TINKER_API_KEY}"
            ),
        }),
        Some(k) => Ok(k.clone()),
    }
}

impl Http {
    fn url(&self, name: &str) -> String {
        format!("{}/api/v1/{name}", self.config.base_url)
    }

    /// One logical call: `body` is `None` for a GET.
    fn call(&self, name: &str, body: Option<&Value>) -> Result<Value> {
        let url = self.url(name);
        let started = Instant::now();
        let deadline = started + self.config.retry.total_timeout;
        let key = body.map(|_| idempotency_key());
        let payload = match body {
            Some(b) => Some(serde_json::to_vec(b).map_err(|e| Error::Api {
                status: None,
                url: url.clone(),
                message: format!("cannot serialise the request: {e}"),
            })?),
            None => None,
        };
        let mut retries = 0u32;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let outcome = if remaining.is_zero() {
                Err(Attempt::Retry {
                    message: "out of time".to_owned(),
                    retry_after: None,
                    status: None,
                })
            } else {
                self.attempt(&url, payload.as_deref(), key.as_deref(), remaining, retries)
            };
            let (message, retry_after, status) = match outcome {
                Ok(v) => return Ok(v),
                Err(Attempt::Fatal(e)) => return Err(e),
                Err(Attempt::Retry {
                    message,
                    retry_after,
                    status,
                }) => (message, retry_after, status),
            };
            let retry = &self.config.retry;
            let wait = retry_after
                .filter(|d| !d.is_zero() && *d <= retry.max_retry_after)
                .unwrap_or_else(|| retry.backoff(retries, jitter_fraction()));
            let left = deadline.saturating_duration_since(Instant::now());
            if retries >= retry.max_retries || wait >= left {
                let attempts = retries + 1;
                let what = match status {
                    Some(_) => "the Tinker API kept failing",
                    None => "cannot reach the Tinker API; check the network and TINKER_BASE_URL",
                };
                return Err(Error::Api {
                    status,
                    url,
                    message: format!(
                        "{what}: {message} (gave up after {attempts} attempt{} in {:.1} s)",
                        if attempts == 1 { "" } else { "s" },
                        started.elapsed().as_secs_f64()
                    ),
                });
            }
            std::thread::sleep(wait);
            retries += 1;
        }
    }

    fn attempt(
        &self,
        url: &str,
        payload: Option<&[u8]>,
        key: Option<&str>,
        remaining: Duration,
        retries: u32,
    ) -> Result<Value, Attempt> {
        let timeout = Some(self.config.timeout.min(remaining));
        let transport = |e: ureq::Error| match e {
            ureq::Error::BadUri(m) => Attempt::Fatal(Error::Config {
                name: ENV_TINKER_BASE_URL.to_owned(),
                message: format!("`{url}` is not a usable URL: {m}"),
            }),
            e => Attempt::Retry {
                message: e.to_string(),
                retry_after: None,
                status: None,
            },
        };
        let resp = match payload {
            Some(bytes) => {
                let mut req = self
                    .agent
                    .post(url)
                    .config()
                    .timeout_global(timeout)
                    .build()
                    .header("Content-Type", "application/json");
                req = self.headers_post(req, key, retries);
                req.send(bytes)
            }
            None => {
                let mut req = self.agent.get(url).config().timeout_global(timeout).build();
                req = self.headers_get(req, retries);
                req.call()
            }
        }
        .map_err(transport)?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            let text = resp
                .into_body()
                .read_to_string()
                .map_err(|e| Attempt::Retry {
                    message: format!("the answer was cut short: {e}"),
                    retry_after: None,
                    status: None,
                })?;
            return serde_json::from_str(&text).map_err(|e| {
                Attempt::Fatal(Error::Api {
                    status: Some(status),
                    url: url.to_owned(),
                    message: format!("the answer is not JSON ({e}); is TINKER_BASE_URL right?"),
                })
            });
        }
        let should_retry = match header(&resp, "x-should-retry") {
            Some("true") => true,
            Some("false") => false,
            _ => matches!(status, 408 | 409 | 429) || status >= 500,
        };
        let retry_after = server_retry_after(&resp);
        let detail = resp
            .into_body()
            .read_to_string()
            .ok()
            .map(|b| b.trim().chars().take(300).collect::<String>())
            .filter(|b| !b.is_empty());
        let detail = detail.map_or_else(
            || format!("HTTP {status}"),
            |b| format!("HTTP {status}: {b}"),
        );
        if should_retry {
            return Err(Attempt::Retry {
                message: detail,
                retry_after,
                status: Some(status),
            });
        }
        let message = match status {
            401 | 403 => {
                format!("{detail}; the server refused the API key: check {ENV_TINKER_API_KEY}")
            }
            404 => format!(
                "{detail}; no such model, sampler or endpoint: check the id and TINKER_BASE_URL"
            ),
            _ => detail,
        };
        Err(Attempt::Fatal(Error::Api {
            status: Some(status),
            url: url.to_owned(),
            message,
        }))
    }

    fn common<B>(&self, mut req: ureq::RequestBuilder<B>, retries: u32) -> ureq::RequestBuilder<B> {
        req = req
            .header("X-API-Key", self.api_key.expose())
            .header("Accept", "application/json")
            .header("User-Agent", concat!("tinkex/", env!("CARGO_PKG_VERSION")))
            .header("X-Stainless-Retry-Count", retries.to_string());
        if let Some(id) = &self.config.cf_access_client_id {
            req = req.header("CF-Access-Client-Id", id);
        }
        if let Some(s) = &self.config.cf_access_client_secret {
            req = req.header("CF-Access-Client-Secret", s.expose());
        }
        req
    }

    fn headers_get(
        &self,
        req: ureq::RequestBuilder<ureq::typestate::WithoutBody>,
        retries: u32,
    ) -> ureq::RequestBuilder<ureq::typestate::WithoutBody> {
        self.common(req, retries)
    }

    fn headers_post(
        &self,
        req: ureq::RequestBuilder<ureq::typestate::WithBody>,
        key: Option<&str>,
        retries: u32,
    ) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
        let req = self.common(req, retries);
        match key {
            Some(k) => req.header("X-Idempotency-Key", k),
            None => req,
        }
    }

    fn parse<T: for<'de> Deserialize<'de>>(&self, name: &str, v: Value) -> Result<T> {
        serde_json::from_value(v).map_err(|e| Error::Api {
            status: None,
            url: self.url(name),
            message: format!("unexpected answer: {e}"),
        })
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
    /// A client for `config`. The API key must be set and start with `tml-`; otherwise this is
    /// [`Error::Config`] naming `TINKER_API_KEY`, and nothing is sent anywhere.
    ///
    /// ```
    /// use tinkex::client::{ClientConfig, ServiceClient};
    /// let err = ServiceClient::new(ClientConfig::default()).unwrap_err();
    /// assert!(err.to_string().contains("TINKER_API_KEY"));
    /// ```
    pub fn new(config: ClientConfig) -> Result<Self> {
        let api_key = check_api_key(config.api_key.as_ref())?;
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_connect(Some(config.connect_timeout))
                .timeout_global(Some(config.timeout))
                .user_agent(concat!("tinkex/", env!("CARGO_PKG_VERSION")))
                .build(),
        );
        Ok(ServiceClient {
            http: Arc::new(Http {
                agent,
                config,
                api_key,
            }),
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
    pub fn create_lora_training_client(
        &self,
        base_model: &str,
        rank: u32,
    ) -> Result<TrainingClient> {
        let session = self.http.call(
            "create_session",
            Some(&serde_json::json!({
                "tags": [],
                "user_metadata": {},
                "sdk_version": concat!("tinkex-", env!("CARGO_PKG_VERSION")),
                "type": "create_session",
            })),
        )?;
        let session_id = session
            .get("session_id")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Api {
                status: None,
                url: self.http.url("create_session"),
                message: "the answer has no session_id".to_owned(),
            })?
            .to_owned();
        let future = self.http.call(
            "create_model",
            Some(&serde_json::json!({
                "session_id": session_id,
                "model_seq_id": 0,
                "base_model": base_model,
                "lora_config": {"rank": rank},
                "type": "create_model",
            })),
        )?;
        let result = match future.get("request_id").and_then(Value::as_str) {
            Some(request_id) => self.wait_future(request_id)?,
            None => future,
        };
        let model_id = result
            .get("model_id")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Api {
                status: None,
                url: self.http.url("retrieve_future"),
                message: format!("the result has no model_id: {result}"),
            })?;
        Ok(self.training_client(model_id))
    }

    /// Polls `retrieve_future` until it is not `try_again`.
    fn wait_future(&self, request_id: &str) -> Result<Value> {
        let started = Instant::now();
        let body = serde_json::json!({"request_id": request_id, "allow_metadata_only": true});
        let mut n = 0u32;
        loop {
            let v = self.http.call("retrieve_future", Some(&body))?;
            if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
                let err = err.as_str().map_or_else(|| err.to_string(), str::to_owned);
                let category = v
                    .get("category")
                    .and_then(Value::as_str)
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default();
                return Err(Error::Api {
                    status: None,
                    url: self.http.url("retrieve_future"),
                    message: format!("request {request_id} failed{category}: {err}"),
                });
            }
            if v.get("type").and_then(Value::as_str) != Some("try_again") {
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

    /// What the server knows of the model (`POST get_info`); the first success is kept.
    pub fn get_info(&self) -> Result<GetInfoResponse> {
        if let Some(info) = lock(&self.info).as_ref() {
            return Ok(info.clone());
        }
        let v = self.http.call(
            "get_info",
            Some(&serde_json::json!({"model_id": self.model_id, "type": "get_info"})),
        )?;
        let info: GetInfoResponse = self.http.parse("get_info", v)?;
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

    /// `GET samplers/{sampler_id}` (the id percent-encoded); the first success is kept.
    pub fn get_sampler(&self) -> Result<SamplerInfo> {
        if let Some(info) = lock(&self.info).as_ref() {
            return Ok(info.clone());
        }
        let name = format!("samplers/{}", encode_segment(&self.sampler_id));
        let v = self.http.call(&name, None)?;
        let info: SamplerInfo = self.http.parse(&name, v)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_total_is_bounded_under_two_minutes() {
        let c = ClientConfig::default();
        let r = c.retry;
        // The computed waits alone: 0.5 + 1 + 2 + 4 + 8 + 5 × 10 s.
        let waits: Duration = (0..r.max_retries).map(|n| r.backoff(n, 0.0)).sum();
        assert_eq!(waits, Duration::from_millis(65_500));
        // With 60 s per attempt and 60 s retry-afters the sum is far larger; the total timeout
        // bounds it.
        assert!(r.worst_case_total(c.timeout) <= r.total_timeout);
        assert!(r.worst_case_total(c.timeout) < Duration::from_secs(120));
        // Jitter only shortens a wait, by at most 25 %.
        assert_eq!(
            r.backoff(0, 0.999_999),
            Duration::from_millis(500).mul_f64(1.0 - 0.25 * 0.999_999)
        );
        assert_eq!(r.backoff(30, 0.0), Duration::from_secs(10));
    }

    #[test]
    fn keys_are_checked_and_redacted() {
        assert!(check_api_key(None).is_err());
        let bad = Secret::new("sk-123");
        let e = check_api_key(bad.as_ref()).unwrap_err().to_string();
        assert!(e.contains("TINKER_API_KEY") && !e.contains("sk-123"), "{e}");
        assert!(check_api_key(Secret::new("tml-1").as_ref()).is_ok());
        assert_eq!(
            format!("{:?}", Secret::new("tml-1")),
            "Some(Secret(<redacted>))"
        );
    }

    #[test]
    fn idempotency_keys_differ() {
        assert_ne!(idempotency_key(), idempotency_key());
    }

    #[test]
    fn env_lookup() {
        let c = ClientConfig::from_lookup(|k| match k {
            "TINKER_BASE_URL" => Some(String::new()),
            "CLOUDFLARE_ACCESS_CLIENT_ID" => Some("id".into()),
            _ => None,
        });
        assert_eq!(c.base_url, DEFAULT_TINKER_BASE_URL);
        assert_eq!(c.cf_access_client_id.as_deref(), Some("id"));
        assert!(c.api_key.is_none());
    }
}
