//! The Tinker API's HTTP conventions on top of [`crate::net`]: the SDK's headers, idempotency
//! keys, which statuses are retried, and what a failure says.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::config::ClientConfig;
use crate::config::{Secret, ENV_TINKER_API_KEY, ENV_TINKER_BASE_URL};
use crate::net::{self, header, Failure, Stop};
use crate::{Error, Result};

/// The prefix every Tinker API key has.
pub const API_KEY_PREFIX: &str = "tml-";

/// The HTTP layer shared by the clients of one [`super::ServiceClient`].
#[derive(Debug)]
pub(crate) struct Http {
    agent: ureq::Agent,
    pub(crate) config: ClientConfig,
    api_key: Secret,
}

/// A fresh idempotency key.
pub(crate) fn idempotency_key() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let a = (net::jitter_fraction() * (1u64 << 53) as f64) as u64;
    let b = (net::jitter_fraction() * (1u64 << 53) as f64) as u64;
    format!("tinkex-{a:014x}{b:014x}-{n}")
}

pub(crate) fn check_api_key(key: Option<&Secret>) -> Result<Secret> {
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

/// Checks a training model id (`<session>:train:<n>`) or sampler id (`<session>:sample:<n>`)
/// before it is sent: 1 to 256 ASCII letters, digits, `-`, `_`, `.` and `:` (session ids are
/// UUIDs; the rest is the kind and a sequence number).
pub(crate) fn check_id(what: &'static str, id: &str) -> Result<()> {
    let reason = if id.is_empty() {
        Some("it is empty".to_owned())
    } else if id.len() > 256 {
        Some(format!(
            "it is {} bytes long, at most 256 are allowed",
            id.len()
        ))
    } else {
        id.chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
            .map(|c| {
                format!(
                    "{c:?} is not allowed (Tinker ids look like `<session>:train:<n>` or \
                     `<session>:sample:<n>`)"
                )
            })
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(Error::InvalidId {
            what,
            value: id.to_owned(),
            reason,
        }),
    }
}

impl Http {
    /// The layer for `config`: the key must be valid and the base URL an `http(s)` URL.
    pub(crate) fn new(config: ClientConfig) -> Result<Http> {
        let api_key = check_api_key(config.api_key.as_ref())?;
        net::check_base_url(&config.base_url).map_err(|message| Error::Config {
            name: ENV_TINKER_BASE_URL.to_owned(),
            message,
        })?;
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_connect(Some(config.connect_timeout))
                .timeout_global(Some(config.timeout))
                .user_agent(concat!("tinkex/", env!("CARGO_PKG_VERSION")))
                .build(),
        );
        Ok(Http {
            agent,
            config,
            api_key,
        })
    }

    pub(crate) fn url(&self, name: &str) -> String {
        format!("{}/api/v1/{name}", self.config.base_url)
    }

    /// One logical `POST` (all its attempts share one idempotency key).
    pub(crate) fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        name: &str,
        body: &B,
    ) -> Result<T> {
        let url = self.url(name);
        let payload = serde_json::to_vec(body).map_err(|e| Error::Api {
            status: None,
            url: url.clone(),
            message: format!("cannot serialise the request: {e}"),
        })?;
        let key = idempotency_key();
        self.call(&url, Some((&payload, &key)))
    }

    /// One logical `GET`.
    pub(crate) fn get<T: DeserializeOwned>(&self, name: &str) -> Result<T> {
        self.call(&self.url(name), None)
    }

    fn call<T: DeserializeOwned>(&self, url: &str, post: Option<(&[u8], &str)>) -> Result<T> {
        let (status, text) = net::retry(
            self.config.retry.policy(),
            |a| self.attempt(url, post, a.remaining, a.retries),
            |_| {},
        )
        .map_err(|stop| match stop {
            Stop::Permanent(e) => e,
            Stop::GaveUp {
                message,
                status,
                attempts,
                elapsed,
            } => {
                let what = match status {
                    Some(_) => "the Tinker API kept failing",
                    None => "cannot reach the Tinker API; check the network and TINKER_BASE_URL",
                };
                Error::Api {
                    status,
                    url: url.to_owned(),
                    message: Stop::gave_up_message(
                        &format!("{what}: {message}"),
                        attempts,
                        elapsed,
                        true,
                    ),
                }
            }
        })?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Api {
            status: Some(status),
            url: url.to_owned(),
            message: format!("the answer is not JSON ({e}); is TINKER_BASE_URL right?"),
        })?;
        serde_json::from_value(value).map_err(|e| Error::Api {
            status: None,
            url: url.to_owned(),
            message: format!("unexpected answer: {e}"),
        })
    }

    fn attempt(
        &self,
        url: &str,
        post: Option<(&[u8], &str)>,
        remaining: Option<Duration>,
        retries: u32,
    ) -> Result<(u16, String), Failure> {
        let timeout = Some(remaining.map_or(self.config.timeout, |r| self.config.timeout.min(r)));
        let resp = match post {
            Some((bytes, key)) => {
                let req = self
                    .agent
                    .post(url)
                    .config()
                    .timeout_global(timeout)
                    .build()
                    .header("Content-Type", "application/json")
                    .header("X-Idempotency-Key", key);
                self.common(req, retries).send(bytes)
            }
            None => {
                let req = self.agent.get(url).config().timeout_global(timeout).build();
                self.common(req, retries).call()
            }
        }
        .map_err(|e| transport_failure(url, e))?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return resp
                .into_body()
                .read_to_string()
                .map(|text| (status, text))
                .map_err(|e| Failure::transient(format!("the answer was cut short: {e}")));
        }
        // The SDK's rule: the server's `x-should-retry` decides; else 408, 409, 429 and 5xx are
        // retried and every other status is final.
        let should_retry = match header(&resp, "x-should-retry") {
            Some("true") => true,
            Some("false") => false,
            _ => matches!(status, 408 | 409 | 429) || status >= 500,
        };
        let retry_after = net::server_retry_after(&resp);
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
            return Err(Failure::Transient {
                message: detail,
                retry_after,
                status: Some(status),
                unreachable: false,
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
        Err(Failure::Permanent(Error::Api {
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
}

fn transport_failure(url: &str, e: ureq::Error) -> Failure {
    match net::classify_transport(e) {
        net::Transport::BadUrl(m) => Failure::Permanent(Error::Config {
            name: ENV_TINKER_BASE_URL.to_owned(),
            message: format!("`{url}` is not a usable URL: {m}"),
        }),
        net::Transport::Permanent(m) => Failure::Permanent(Error::Api {
            status: None,
            url: url.to_owned(),
            message: format!(
                "cannot reach the Tinker API: {m}; check the network and TINKER_BASE_URL \
                 (not retried: this cannot succeed on its own)"
            ),
        }),
        net::Transport::Transient {
            message,
            unreachable,
        } => Failure::Transient {
            message,
            retry_after: None,
            status: None,
            unreachable,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn ids_are_checked() {
        for ok in [
            "s:sample:0",
            "3f2a9c1e-0b7d-4e8a-9f00-123456789abc:train:12",
        ] {
            assert!(check_id("sampler id", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "bad id",
            "a/b",
            "a?b",
            "a#b",
            "é:sample:0",
            &"x".repeat(257),
        ] {
            assert!(
                matches!(
                    check_id("sampler id", bad),
                    Err(Error::InvalidId {
                        what: "sampler id",
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }
}
