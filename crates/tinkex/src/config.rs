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
/// `TINKEX_CACHE_DIR`: where tinkex keeps prepared tokenizers (default
/// `$XDG_CACHE_HOME/tinkex`, else `~/.cache/tinkex`); empty or `off` disables that cache.
pub const ENV_TINKEX_CACHE_DIR: &str = "TINKEX_CACHE_DIR";
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
    /// tinkex's own cache of prepared tokenizers (faster loads in later processes); `None` = off.
    pub prepared_cache: Option<PathBuf>,
}

impl Default for Config {
    /// Bundled tokenizers on, offline off, no hub cache.
    fn default() -> Self {
        Config {
            offline: false,
            use_bundled: true,
            hub_cache: None,
            prepared_cache: None,
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
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Like [`Config::from_env`], with the variables supplied by `var` (for tests and embedding).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let raw = var;
        // An empty variable counts as unset (as huggingface_hub treats them), except where noted.
        let var = |k: &str| raw(k).filter(|v| !v.is_empty());
        let prepared_cache = match raw(ENV_TINKEX_CACHE_DIR) {
            Some(v) if v.is_empty() || v.eq_ignore_ascii_case("off") => None,
            Some(v) => Some(PathBuf::from(v)),
            None => var(ENV_XDG_CACHE_HOME)
                .map(|x| PathBuf::from(x).join("tinkex"))
                .or_else(|| var(ENV_HOME).map(|h| PathBuf::from(h).join(".cache").join("tinkex"))),
        };
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
            prepared_cache,
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
}
