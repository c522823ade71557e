//! Library configuration. The environment is read here and nowhere else: [`Config::from_env`]
//! reads each variable below once; everything else in the library takes a `Config`.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// `HF_HUB_OFFLINE`: `1`/`true`/`yes`/`on` → never touch the network.
pub const ENV_HF_HUB_OFFLINE: &str = "HF_HUB_OFFLINE";
/// `HF_HUB_CACHE`: the Hugging Face hub cache directory (highest priority).
pub const ENV_HF_HUB_CACHE: &str = "HF_HUB_CACHE";
/// `HUGGINGFACE_HUB_CACHE`: the legacy name of `HF_HUB_CACHE`.
pub const ENV_HUGGINGFACE_HUB_CACHE: &str = "HUGGINGFACE_HUB_CACHE";
/// `HF_HOME`: the Hugging Face home; the hub cache is `$HF_HOME/hub`.
pub const ENV_HF_HOME: &str = "HF_HOME";
/// `XDG_CACHE_HOME`: the hub cache is `$XDG_CACHE_HOME/huggingface/hub` when `HF_HOME` is unset.
pub const ENV_XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
/// `HOME`: the last resort, `~/.cache/huggingface/hub`.
pub const ENV_HOME: &str = "HOME";
/// `TINKEX_CACHE_DIR`: where tinkex keeps prepared tokenizers (default
/// `$XDG_CACHE_HOME/tinkex`, else `~/.cache/tinkex`); empty or `off` disables that cache.
pub const ENV_TINKEX_CACHE_DIR: &str = "TINKEX_CACHE_DIR";
/// `HF_ENDPOINT`: the Hub's base URL (default [`DEFAULT_ENDPOINT`]); downloads are
/// `{endpoint}/{repo}/resolve/{revision}/{file}`.
pub const ENV_HF_ENDPOINT: &str = "HF_ENDPOINT";
/// `HF_TOKEN`: a Hugging Face access token, sent as `Authorization: Bearer` (highest priority).
pub const ENV_HF_TOKEN: &str = "HF_TOKEN";
/// `HF_TOKEN_PATH`: a file holding the token (default `$HF_HOME/token`, as `hf auth login` writes).
pub const ENV_HF_TOKEN_PATH: &str = "HF_TOKEN_PATH";
/// `HF_HUB_ETAG_TIMEOUT`: seconds to wait for the Hub's answer about a file (default 10).
pub const ENV_HF_HUB_ETAG_TIMEOUT: &str = "HF_HUB_ETAG_TIMEOUT";
/// `HF_HUB_DOWNLOAD_TIMEOUT`: seconds a download may stall before it is retried (default 10).
pub const ENV_HF_HUB_DOWNLOAD_TIMEOUT: &str = "HF_HUB_DOWNLOAD_TIMEOUT";
/// `TINKEX_NO_BUNDLED`: `1` → ignore the copies of Hub tokenizers compiled into the library
/// ([`Config::use_bundled`]).
pub const ENV_TINKEX_NO_BUNDLED: &str = "TINKEX_NO_BUNDLED";
/// `TINKEX_HF_ENGINE_AFTER`: [`Config::hf_engine_after`] — a byte count (`0` = build Hugging
/// Face's engine at load), or `never`/`off` (keep tinkex's own engine). Default
/// [`DEFAULT_HF_ENGINE_AFTER`].
pub const ENV_TINKEX_HF_ENGINE_AFTER: &str = "TINKEX_HF_ENGINE_AFTER";

/// `TINKER_API_KEY`: the Tinker API key (starts with `tml-`), sent as `X-API-Key`
/// (read by [`crate::client::ClientConfig::from_env`]).
pub const ENV_TINKER_API_KEY: &str = "TINKER_API_KEY";
/// `TINKER_BASE_URL`: the Tinker API's base URL (empty or unset = [`DEFAULT_TINKER_BASE_URL`]).
pub const ENV_TINKER_BASE_URL: &str = "TINKER_BASE_URL";
/// `CLOUDFLARE_ACCESS_CLIENT_ID`: sent as `CF-Access-Client-Id` to the Tinker API when set.
pub const ENV_CLOUDFLARE_ACCESS_CLIENT_ID: &str = "CLOUDFLARE_ACCESS_CLIENT_ID";
/// `CLOUDFLARE_ACCESS_CLIENT_SECRET`: sent as `CF-Access-Client-Secret` to the Tinker API when set.
pub const ENV_CLOUDFLARE_ACCESS_CLIENT_SECRET: &str = "CLOUDFLARE_ACCESS_CLIENT_SECRET";
/// The Tinker API used when `TINKER_BASE_URL` is unset or empty.
pub const DEFAULT_TINKER_BASE_URL: &str =
    "https://tinker.thinkingmachines.dev/services/tinker-prod";

/// The Hub used when `HF_ENDPOINT` is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// A secret string (a Hugging Face token, a Tinker API key, …) whose `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `s` (surrounding whitespace removed); `None` when it is empty.
    pub fn new(s: impl AsRef<str>) -> Option<Secret> {
        let t = s.as_ref().trim();
        (!t.is_empty()).then(|| Secret(t.to_owned()))
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A Hugging Face access token.
pub type Token = Secret;

/// How failed Hub requests are retried: connection errors, timeouts, 408, 429 (after its
/// `Retry-After`) and 5xx, with capped exponential backoff and jitter, within a total budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// The wait before the first retry; doubled for each further one.
    pub base_delay: Duration,
    /// No single wait is longer than this (a longer `Retry-After` is honoured up to `budget`).
    pub max_delay: Duration,
    /// Waiting stops once this much time has been spent waiting for one request.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    /// 6 attempts, 0.5 s doubling to at most 8 s, at most 60 s of waiting in all.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            budget: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy with the given attempts and delays (tests use short ones).
    pub fn new(
        max_attempts: u32,
        base_delay: Duration,
        max_delay: Duration,
        budget: Duration,
    ) -> Self {
        RetryPolicy {
            max_attempts: max_attempts.max(1),
            base_delay,
            max_delay,
            budget,
        }
    }
}

/// How the library finds tokenizers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Never use the network.
    pub offline: bool,
    /// Use the copies of Hub tokenizers compiled into the library (feature `bundled`) rather
    /// than the Hub. A copy serves only the revision it is a copy of (the default branch, or
    /// the commit a Kimi model is pinned at). A built-in tokenizer with no Hub files (Inkling's
    /// `o200k_base_chat`) is used either way.
    pub use_bundled: bool,
    /// The Hugging Face hub cache directory (`models--org--name/…`), if one could be determined.
    pub hub_cache: Option<PathBuf>,
    /// tinkex's own cache of prepared tokenizers (faster loads in later processes); `None` = off.
    pub prepared_cache: Option<PathBuf>,
    /// The Hub's base URL, without a trailing `/`.
    pub endpoint: String,
    /// The access token for gated and private repos.
    pub token: Option<Token>,
    /// How long to wait for the Hub's answer about a file (connect + headers).
    pub metadata_timeout: Duration,
    /// How long a download may stall (no bytes) before it is retried.
    pub download_timeout: Duration,
    /// Retries of failed requests.
    pub retry: RetryPolicy,
    /// For the tokenizers tinkex's own engine encodes (the lineup's byte-level BPEs): after how
    /// many bytes of input a tokenizer also builds Hugging Face's engine, on a helper thread, and
    /// hands encoding over to it (faster on long inputs; ~0.1–0.8 s of one core to build, at the
    /// lowest priority on Linux so it takes idle cores only, and ~50–150 MB more memory).
    /// `Some(0)`: right after loading; `None`: never (less memory, slower on long inputs).
    /// Results never depend on it: both engines give the same ids.
    /// From the environment: [`ENV_TINKEX_HF_ENGINE_AFTER`].
    pub hf_engine_after: Option<u64>,
}

/// [`Config::hf_engine_after`]'s default: 0.03–0.2 s of encoding, so that short jobs never pay
/// for the build and long ones switch within a second.
pub const DEFAULT_HF_ENGINE_AFTER: u64 = 4 << 20;

impl Default for Config {
    /// Bundled tokenizers on, offline off, no hub cache, the public Hub, no token, 10 s timeouts.
    fn default() -> Self {
        Config {
            offline: false,
            use_bundled: true,
            hub_cache: None,
            prepared_cache: None,
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            token: None,
            metadata_timeout: Duration::from_secs(10),
            download_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            hf_engine_after: Some(DEFAULT_HF_ENGINE_AFTER),
        }
    }
}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

/// A variable [`Config::from_env_checked`] could not use: it kept its default.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigWarning {
    /// The variable, e.g. `HF_HUB_ETAG_TIMEOUT`.
    pub name: String,
    /// Its value.
    pub value: String,
    /// What is wrong and what was used instead.
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?}: {}", self.name, self.value, self.message)
    }
}

impl Config {
    /// Reads the configuration from the environment variables documented on this module. A
    /// variable with a value it cannot use keeps its default; [`Config::from_env_checked`] also
    /// says which.
    pub fn from_env() -> Self {
        Self::from_env_checked().0
    }

    /// [`Config::from_env`], with a warning for each variable whose value was not usable (e.g.
    /// `HF_HUB_ETAG_TIMEOUT=abc`), for the caller to show.
    pub fn from_env_checked() -> (Self, Vec<ConfigWarning>) {
        Self::from_lookup_checked(|k| std::env::var(k).ok())
    }

    /// Like [`Config::from_env`], with the variables supplied by `var` (for tests and embedding).
    /// A token file named by `HF_TOKEN_PATH` (or `$HF_HOME/token`) is read here too; a
    /// timeout that is not a positive number of seconds keeps its default.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        Self::from_lookup_checked(var).0
    }

    /// [`Config::from_lookup`] with the warnings of [`Config::from_env_checked`].
    pub fn from_lookup_checked(var: impl Fn(&str) -> Option<String>) -> (Self, Vec<ConfigWarning>) {
        let raw = var;
        // An empty variable counts as unset (as huggingface_hub treats them), except where noted.
        let var = |k: &str| raw(k).filter(|v| !v.is_empty());
        let mut warnings = Vec::new();
        // One chain for everything under the Hugging Face home (huggingface_hub's HF_HOME):
        // $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface.
        let xdg_cache = var(ENV_XDG_CACHE_HOME)
            .map(PathBuf::from)
            .or_else(|| var(ENV_HOME).map(|h| PathBuf::from(h).join(".cache")));
        let hf_home = var(ENV_HF_HOME)
            .map(PathBuf::from)
            .or_else(|| xdg_cache.as_ref().map(|c| c.join("huggingface")));
        let prepared_cache = match raw(ENV_TINKEX_CACHE_DIR) {
            Some(v) if v.is_empty() || v.eq_ignore_ascii_case("off") => None,
            Some(v) => Some(PathBuf::from(v)),
            None => xdg_cache.as_ref().map(|c| c.join("tinkex")),
        };
        let defaults = Config::default();
        let token = var(ENV_HF_TOKEN).and_then(Token::new).or_else(|| {
            let path = var(ENV_HF_TOKEN_PATH)
                .map(PathBuf::from)
                .or_else(|| hf_home.as_ref().map(|h| h.join("token")))?;
            std::fs::read_to_string(path).ok().and_then(Token::new)
        });
        let mut seconds = |name: &str, default: Duration| {
            let v = var(name)?;
            let parsed = v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0 && *s <= u64::MAX as f64);
            if parsed.is_none() {
                warnings.push(ConfigWarning {
                    name: name.to_owned(),
                    value: v.clone(),
                    message: format!(
                        "not a positive number of seconds; using the default, {} s",
                        default.as_secs_f64()
                    ),
                });
            }
            parsed.map(Duration::from_secs_f64)
        };
        let metadata_timeout = seconds(ENV_HF_HUB_ETAG_TIMEOUT, defaults.metadata_timeout)
            .unwrap_or(defaults.metadata_timeout);
        let download_timeout = seconds(ENV_HF_HUB_DOWNLOAD_TIMEOUT, defaults.download_timeout)
            .unwrap_or(defaults.download_timeout);
        let endpoint = var(ENV_HF_ENDPOINT)
            .map(|e| e.trim().trim_end_matches('/').to_owned())
            .filter(|e| !e.is_empty())
            .unwrap_or(defaults.endpoint);
        let hub_cache = var(ENV_HF_HUB_CACHE)
            .or_else(|| var(ENV_HUGGINGFACE_HUB_CACHE))
            .map(PathBuf::from)
            .or_else(|| hf_home.as_ref().map(|h| h.join("hub")));
        let hf_engine_after = match var(ENV_TINKEX_HF_ENGINE_AFTER) {
            None => defaults.hf_engine_after,
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "never" | "off" => None,
                n => match n.parse::<u64>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        warnings.push(ConfigWarning {
                            name: ENV_TINKEX_HF_ENGINE_AFTER.to_owned(),
                            value: v.clone(),
                            message: format!(
                                "not a byte count or `never`; using the default, {DEFAULT_HF_ENGINE_AFTER} bytes"
                            ),
                        });
                        defaults.hf_engine_after
                    }
                },
            },
        };
        let config = Config {
            offline: var(ENV_HF_HUB_OFFLINE).is_some_and(|v| truthy(&v)),
            use_bundled: !var(ENV_TINKEX_NO_BUNDLED).is_some_and(|v| truthy(&v)),
            hub_cache,
            prepared_cache,
            endpoint,
            token,
            metadata_timeout,
            download_timeout,
            retry: defaults.retry,
            hf_engine_after,
        };
        (config, warnings)
    }

    /// Sets [`Config::offline`].
    pub fn with_offline(mut self, offline: bool) -> Self {
        self.offline = offline;
        self
    }

    /// Sets [`Config::use_bundled`].
    pub fn with_bundled(mut self, use_bundled: bool) -> Self {
        self.use_bundled = use_bundled;
        self
    }

    /// Sets [`Config::hf_engine_after`].
    pub fn with_hf_engine_after(mut self, bytes: Option<u64>) -> Self {
        self.hf_engine_after = bytes;
        self
    }

    /// Sets [`Config::prepared_cache`].
    pub fn with_prepared_cache(mut self, dir: Option<PathBuf>) -> Self {
        self.prepared_cache = dir;
        self
    }

    /// Sets [`Config::hub_cache`].
    pub fn with_hub_cache(mut self, dir: Option<PathBuf>) -> Self {
        self.hub_cache = dir;
        self
    }

    /// Sets [`Config::endpoint`] (a trailing `/` is removed).
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into().trim_end_matches('/').to_owned();
        self
    }

    /// Sets [`Config::token`] (an empty token is none).
    pub fn with_token(mut self, token: Option<&str>) -> Self {
        self.token = token.and_then(Token::new);
        self
    }

    /// Sets [`Config::metadata_timeout`] and [`Config::download_timeout`].
    pub fn with_timeouts(mut self, metadata: Duration, download: Duration) -> Self {
        self.metadata_timeout = metadata;
        self.download_timeout = download;
        self
    }

    /// Sets [`Config::retry`].
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(vars: &[(&str, &str)]) -> Config {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn hub_cache_precedence() {
        let all = [
            (ENV_HF_HUB_CACHE, "/a"),
            (ENV_HUGGINGFACE_HUB_CACHE, "/b"),
            (ENV_HF_HOME, "/c"),
            (ENV_XDG_CACHE_HOME, "/d"),
            (ENV_HOME, "/e"),
        ];
        let expected = [
            "/a",
            "/b",
            "/c/hub",
            "/d/huggingface/hub",
            "/e/.cache/huggingface/hub",
        ];
        for (i, want) in expected.iter().enumerate() {
            assert_eq!(cfg(&all[i..]).hub_cache, Some(PathBuf::from(want)));
        }
        assert_eq!(cfg(&[]).hub_cache, None);
    }

    #[test]
    fn flags() {
        assert!(cfg(&[(ENV_HF_HUB_OFFLINE, "1")]).offline);
        assert!(cfg(&[(ENV_HF_HUB_OFFLINE, "TRUE")]).offline);
        assert!(!cfg(&[(ENV_HF_HUB_OFFLINE, "0")]).offline);
        assert!(!cfg(&[(ENV_TINKEX_NO_BUNDLED, "1")]).use_bundled);
        assert!(cfg(&[]).use_bundled);
        assert_eq!(
            cfg(&[(ENV_HOME, "/h")]).prepared_cache,
            Some(PathBuf::from("/h/.cache/tinkex"))
        );
        assert_eq!(
            cfg(&[(ENV_XDG_CACHE_HOME, "/x"), (ENV_HOME, "/h")]).prepared_cache,
            Some(PathBuf::from("/x/tinkex"))
        );
        assert_eq!(
            cfg(&[(ENV_TINKEX_CACHE_DIR, "/t"), (ENV_HOME, "/h")]).prepared_cache,
            Some(PathBuf::from("/t"))
        );
        assert_eq!(
            cfg(&[(ENV_TINKEX_CACHE_DIR, ""), (ENV_HOME, "/h")]).prepared_cache,
            None
        );
        assert_eq!(cfg(&[(ENV_TINKEX_CACHE_DIR, "off")]).prepared_cache, None);
    }

    #[test]
    fn hf_engine_after_from_the_environment() {
        let after = |v: &str| cfg(&[(ENV_TINKEX_HF_ENGINE_AFTER, v)]).hf_engine_after;
        assert_eq!(cfg(&[]).hf_engine_after, Some(DEFAULT_HF_ENGINE_AFTER));
        assert_eq!(after("0"), Some(0));
        assert_eq!(after(" 1048576 "), Some(1 << 20));
        assert_eq!(after("never"), None);
        assert_eq!(after("OFF"), None);
        assert_eq!(after("4MB"), Some(DEFAULT_HF_ENGINE_AFTER));
        let (_, warnings) = Config::from_lookup_checked(|k| {
            (k == ENV_TINKEX_HF_ENGINE_AFTER).then(|| "-1".to_owned())
        });
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].name, ENV_TINKEX_HF_ENGINE_AFTER);
    }

    #[test]
    fn endpoint_and_timeouts() {
        assert_eq!(cfg(&[]).endpoint, DEFAULT_ENDPOINT);
        assert_eq!(
            cfg(&[(ENV_HF_ENDPOINT, "http://127.0.0.1:9/")]).endpoint,
            "http://127.0.0.1:9"
        );
        let c = cfg(&[
            (ENV_HF_HUB_ETAG_TIMEOUT, "2.5"),
            (ENV_HF_HUB_DOWNLOAD_TIMEOUT, "x"),
        ]);
        assert_eq!(c.metadata_timeout, Duration::from_millis(2500));
        assert_eq!(c.download_timeout, Duration::from_secs(10));
    }

    #[test]
    fn a_bad_timeout_is_a_warning_naming_the_variable() {
        let (c, warnings) = Config::from_lookup_checked(|k| {
            (k == ENV_HF_HUB_ETAG_TIMEOUT)
                .then(|| "abc".to_owned())
                .or_else(|| (k == ENV_HF_HUB_DOWNLOAD_TIMEOUT).then(|| "-1".to_owned()))
        });
        assert_eq!(c.metadata_timeout, Duration::from_secs(10));
        assert_eq!(c.download_timeout, Duration::from_secs(10));
        let names: Vec<&str> = warnings.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(
            names,
            [ENV_HF_HUB_ETAG_TIMEOUT, ENV_HF_HUB_DOWNLOAD_TIMEOUT]
        );
        assert!(
            warnings[0].to_string().contains("\"abc\""),
            "{}",
            warnings[0]
        );
        let (_, none) = Config::from_lookup_checked(|k| {
            (k == ENV_HF_HUB_ETAG_TIMEOUT).then(|| " 2.5 ".to_owned())
        });
        assert!(none.is_empty(), "{none:?}");
    }

    #[test]
    fn token_precedence_and_redaction() {
        let dir = std::env::temp_dir().join(format!("tinkex-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("token"), "hf_home_token\n").unwrap();
        std::fs::write(dir.join("other"), "hf_path_token").unwrap();
        let home = dir.to_str().unwrap();
        let other = dir.join("other");
        let other = other.to_str().unwrap();
        let t = |c: Config| c.token.map(|t| t.expose().to_owned());
        assert_eq!(
            t(cfg(&[(ENV_HF_HOME, home)])).as_deref(),
            Some("hf_home_token")
        );
        assert_eq!(
            t(cfg(&[(ENV_HF_HOME, home), (ENV_HF_TOKEN_PATH, other)])).as_deref(),
            Some("hf_path_token")
        );
        assert_eq!(
            t(cfg(&[
                (ENV_HF_HOME, home),
                (ENV_HF_TOKEN_PATH, other),
                (ENV_HF_TOKEN, "hf_x")
            ]))
            .as_deref(),
            Some("hf_x")
        );
        assert_eq!(t(cfg(&[(ENV_HF_TOKEN, " ")])), None);
        let shown = format!("{:?}", cfg(&[(ENV_HF_TOKEN, "hf_secret")]));
        assert!(!shown.contains("hf_secret"), "{shown}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
