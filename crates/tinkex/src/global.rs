//! The process-wide registry and the convenience functions over it.
//!
//! Everything here uses one [`TokenizerCache`] per process, configured from the environment
//! ([`Config::from_env`]) the first time any of these functions runs. This is the only module of
//! the library with process-wide state: a [`Tokenizer`] itself never consults it, and code that
//! wants an explicit configuration builds its own [`TokenizerCache`] instead.
//!
//! The functions are re-exported from [`crate::tokenizer`], where most callers find them
//! (`tinkex::tokenizer::get_or_load_tokenizer`, …).

use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::cache::{CacheStats, TokenizerCache};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::resolve::Resolution;
use crate::tokenizer::{DecodeOptions, EncodeOptions, Tokenizer};

impl TokenizerCache {
    /// The process-wide registry, configured by [`Config::from_env`] on first use (what
    /// [`get_or_load_tokenizer`] and every model-name API use).
    pub fn global() -> &'static TokenizerCache {
        registry()
    }

    /// Configures the process-wide registry with `config` instead of the environment. Call it
    /// before anything uses the registry (the functions of this module, [`ModelRef`] on a name,
    /// [`crate::types::ModelInput::from_text`] with a name): it returns `true` if `config` is
    /// now the registry's, `false` if the registry already existed (its configuration is fixed
    /// once made, and `config` is dropped).
    ///
    /// ```
    /// use tinkex::{cache::TokenizerCache, Config};
    ///
    /// let config = Config::default().with_offline(true).with_hub_cache(None);
    /// assert!(TokenizerCache::set_global(config.clone()));
    /// assert!(!TokenizerCache::set_global(config)); // already configured
    /// assert!(TokenizerCache::global().config().offline);
    /// ```
    pub fn set_global(config: Config) -> bool {
        let mut config = Some(config);
        GLOBAL.get_or_init(|| TokenizerCache::new(config.take().unwrap_or_default()));
        config.is_none()
    }
}

static GLOBAL: OnceLock<TokenizerCache> = OnceLock::new();

fn registry() -> &'static TokenizerCache {
    GLOBAL.get_or_init(|| TokenizerCache::new(Config::from_env()))
}

/// Anything that names a tokenizer: a model name, repo id or local path (`str`, `String`,
/// `Path`), or a tokenizer handle itself.
pub trait ModelRef {
    /// The tokenizer this refers to.
    fn tokenizer(&self) -> Result<Arc<Tokenizer>>;
}

impl ModelRef for str {
    fn tokenizer(&self) -> Result<Arc<Tokenizer>> {
        get_or_load_tokenizer(self)
    }
}

impl ModelRef for String {
    fn tokenizer(&self) -> Result<Arc<Tokenizer>> {
        get_or_load_tokenizer(self)
    }
}

impl ModelRef for Path {
    fn tokenizer(&self) -> Result<Arc<Tokenizer>> {
        let s = self.to_str().ok_or_else(|| {
            Error::InvalidInput(format!("path {} is not valid UTF-8", self.display()))
        })?;
        get_or_load_tokenizer(s)
    }
}

impl ModelRef for Arc<Tokenizer> {
    fn tokenizer(&self) -> Result<Arc<Tokenizer>> {
        Ok(self.clone())
    }
}

impl<T: ModelRef + ?Sized> ModelRef for &T {
    fn tokenizer(&self) -> Result<Arc<Tokenizer>> {
        (**self).tokenizer()
    }
}

/// The tokenizer for `id` — a model name (`Qwen/Qwen3-8B`), a tokenizer repo id, a local
/// directory or file, or a name given to [`register_tokenizer`] — from the process-wide cache,
/// loading it on first use. Resolution rules: [`crate::resolve`].
///
/// ```
/// # let _ = tinkex::cache::TokenizerCache::set_global(tinkex::Config::default().with_offline(true));
/// let a = tinkex::tokenizer::get_or_load_tokenizer("Qwen/Qwen3-8B")?;
/// let b = tinkex::tokenizer::get_or_load_tokenizer("Qwen/Qwen3-8B:peft:1")?;
/// assert!(std::sync::Arc::ptr_eq(&a, &b));
/// # Ok::<(), tinkex::Error>(())
/// ```
pub fn get_or_load_tokenizer(id: &str) -> Result<Arc<Tokenizer>> {
    registry().get_or_load(id)
}

/// The tokenizer repo id (or local path, or registered name) that `model_name` uses; a
/// `server_tokenizer_id` (from the Tinker server's `get_info`) wins over the name rules.
///
/// ```
/// # let _ = tinkex::cache::TokenizerCache::set_global(tinkex::Config::default().with_offline(true));
/// use tinkex::tokenizer::get_tokenizer_id;
/// assert_eq!(get_tokenizer_id("meta-llama/Llama-3.1-8B", None)?,
///            "thinkingmachineslabinc/meta-llama-3-instruct-tokenizer");
/// assert_eq!(get_tokenizer_id("Qwen/Qwen3-8B", Some("Qwen/Qwen3-8B:x"))?, "Qwen/Qwen3-8B");
/// # Ok::<(), tinkex::Error>(())
/// ```
pub fn get_tokenizer_id(model_name: &str, server_tokenizer_id: Option<&str>) -> Result<String> {
    Ok(match registry().resolve(model_name, server_tokenizer_id)? {
        Resolution::Registered { name } => name,
        Resolution::LocalPath { path } => path.display().to_string(),
        Resolution::Hub { spec, .. } => spec.tokenizer_id,
        Resolution::Builtin { name, .. } => name,
    })
}

/// Encodes `text` with the tokenizer of `model` (see [`ModelRef`]).
pub fn encode<M: ModelRef + ?Sized>(
    text: &str,
    model: &M,
    opts: EncodeOptions,
) -> Result<Vec<u32>> {
    model.tokenizer()?.encode(text, opts.add_special_tokens)
}

/// Decodes `ids` with the tokenizer of `model` (see [`ModelRef`]).
pub fn decode<M: ModelRef + ?Sized>(ids: &[u32], model: &M, opts: DecodeOptions) -> Result<String> {
    model.tokenizer()?.decode(ids, opts.skip_special_tokens)
}

/// Registers `tokenizer` under `name` in the process-wide cache: `get_or_load_tokenizer(name)`
/// (and every model-name API) then returns it, before any other resolution rule.
pub fn register_tokenizer(name: impl Into<String>, tokenizer: Arc<Tokenizer>) {
    registry().register(name, tokenizer)
}

/// Counters of the process-wide cache.
pub fn cache_stats() -> CacheStats {
    registry().stats()
}

/// Removes `model`'s tokenizer from the process-wide registry; see [`TokenizerCache::remove`].
pub fn remove_tokenizer(model: &str) -> bool {
    registry().remove(model)
}

/// Empties the process-wide cache.
pub fn clear_cache() {
    registry().clear()
}
