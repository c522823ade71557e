//! How to reach the Tinker API: [`ClientConfig`] (read from the environment in one place,
//! [`ClientConfig::from_env`]) and the retry policy [`RetryConfig`].

use std::time::Duration;

use crate::config::{
    Secret, DEFAULT_TINKER_BASE_URL, ENV_CLOUDFLARE_ACCESS_CLIENT_ID,
    ENV_CLOUDFLARE_ACCESS_CLIENT_SECRET, ENV_TINKER_API_KEY, ENV_TINKER_BASE_URL,
};

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
    /// This configuration as the shared retry loop's policy: `max_retries` after the first
    /// attempt, jitter shortening a wait by up to 25 %, `retry-after` honoured up to
    /// `max_retry_after`, everything within `total_timeout` (the Tinker SDK's rules).
    pub(crate) fn policy(&self) -> crate::net::Policy {
        use crate::net::{Budget, Policy, ServerWait};
        Policy {
            max_attempts: self.max_retries.saturating_add(1),
            base_delay: self.initial_delay,
            max_delay: self.max_delay,
            jitter_floor: 0.75,
            server_wait: ServerWait::Within(self.max_retry_after),
            budget: Budget::Total(self.total_timeout),
            unreachable_attempts: self.max_retries.saturating_add(1),
        }
    }

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
        self.policy().backoff(n, jitter)
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
    /// The API key (`tml-…`); checked by [`ServiceClient::new`](super::ServiceClient::new).
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
    /// How long [`ServiceClient::create_lora_training_client`](super::ServiceClient::create_lora_training_client) polls a future before giving up.
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
