//! Library configuration. The environment is read here and nowhere else: [`Config::from_env`]
//! reads each variable below once; everything else in the library takes a `Config`.

use std::path::PathBuf;

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
/// `TINKEX_NO_BUNDLED`: `1` → ignore the tokenizers compiled into the library.
pub const ENV_TINKEX_NO_BUNDLED: &str = "TINKEX_NO_BUNDLED";

/// How the library finds tokenizers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Never use the network.
    pub offline: bool,
    /// Use the tokenizers compiled into the library (feature `bundled`).
    pub use_bundled: bool,
    /// The Hugging Face hub cache directory (`models--org--name/…`), if one could be determined.
    pub hub_cache: Option<PathBuf>,
}

impl Default for Config {
    /// Bundled tokenizers on, offline off, no hub cache.
    fn default() -> Self {
        Config {
            offline: false,
            use_bundled: true,
            hub_cache: None,
        }
    }
}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

impl Config {
    /// Reads the configuration from the environment variables documented on this module.
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Like [`Config::from_env`], with the variables supplied by `var` (for tests and embedding).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let hub_cache = var(ENV_HF_HUB_CACHE)
            .or_else(|| var(ENV_HUGGINGFACE_HUB_CACHE))
            .map(PathBuf::from)
            .or_else(|| var(ENV_HF_HOME).map(|h| PathBuf::from(h).join("hub")))
            .or_else(|| {
                var(ENV_XDG_CACHE_HOME).map(|x| PathBuf::from(x).join("huggingface").join("hub"))
            })
            .or_else(|| {
                var(ENV_HOME).map(|h| {
                    PathBuf::from(h)
                        .join(".cache")
                        .join("huggingface")
                        .join("hub")
                })
            });
        Config {
            offline: var(ENV_HF_HUB_OFFLINE).is_some_and(|v| truthy(&v)),
            use_bundled: !var(ENV_TINKEX_NO_BUNDLED).is_some_and(|v| truthy(&v)),
            hub_cache,
        }
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

    /// Sets [`Config::hub_cache`].
    pub fn with_hub_cache(mut self, dir: Option<PathBuf>) -> Self {
        self.hub_cache = dir;
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
    }
}
