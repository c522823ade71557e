//! The in-memory *registry* of loaded tokenizers: load once, share `Arc` handles, single-flight.
//!
//! Not to be confused with the two caches on disk: the *Hugging Face cache* the files are
//! downloaded into ([`crate::hub`], [`Config::hub_cache`]) and tinkex's *prepared store* of
//! prepared tokenizers ([`Config::prepared_cache`]). A [`TokenizerCache`] is built with an
//! explicit [`Config`]; the process-wide one behind [`crate::tokenizer::get_or_load_tokenizer`]
//! is [`TokenizerCache::global`].
//!
//! Keyed by the resolved tokenizer (repo id + revision, or canonical local path). N threads asking
//! for one cold key run its loader once; the others wait for that result. A failed load is not
//! cached (the next request retries). A loaded tokenizer is never reloaded until removed.
//!
//! Hits by the caller's own string (a model name) skip resolution through an alias map, so a hit
//! is one uncontended read lock and one hash lookup.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::resolve::{self, Resolution, ResolveContext};
use crate::source;
use crate::tokenizer::Tokenizer;

/// What a cached tokenizer is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CacheKey {
    /// A Hub tokenizer: repo id and revision (`None` = the default branch).
    Hub {
        /// Repo id.
        id: String,
        /// Revision.
        revision: Option<String>,
    },
    /// A local directory or file, canonicalised.
    Local(PathBuf),
    /// A tokenizer compiled into the library; several repo ids share one (all Qwen3 sizes, both
    /// gpt-oss models), and they share one instance.
    Bundled(&'static str),
}

#[derive(Default)]
struct Slot {
    ready: OnceLock<Arc<Tokenizer>>,
    loading: Mutex<()>,
}

/// Counters of a [`TokenizerCache`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Loader runs that succeeded.
    pub loads: u64,
    /// Loader runs that failed.
    pub failed_loads: u64,
    /// Requests answered from the cache.
    pub hits: u64,
    /// Requests that found nothing loaded (and so ran or waited for a loader).
    pub misses: u64,
    /// Total wall time spent in loaders.
    pub load_time: Duration,
    /// Tokenizers currently cached (registered ones not counted).
    pub entries: usize,
}

/// An in-memory tokenizer registry (see the module docs for the name). Most code uses the
/// process-wide one through the functions in [`crate::tokenizer`]; build your own for an
/// explicit [`Config`].
pub struct TokenizerCache {
    config: Config,
    observer: Option<Arc<crate::hub::Observer>>,
    slots: RwLock<HashMap<CacheKey, Arc<Slot>>>,
    aliases: RwLock<HashMap<String, Arc<Tokenizer>>>,
    registered: RwLock<HashMap<String, Arc<Tokenizer>>>,
    loads: AtomicU64,
    failed_loads: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    load_nanos: AtomicU64,
}

// A lock poisoned by a panicking loader still guards consistent data (we only insert complete
// values), so recover it rather than propagate the panic.
fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}
fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

struct Ctx<'a> {
    cache: &'a TokenizerCache,
}

impl ResolveContext for Ctx<'_> {
    fn is_registered(&self, name: &str) -> bool {
        read(&self.cache.registered).contains_key(name)
    }
    fn is_local_path(&self, name: &str) -> bool {
        std::path::Path::new(name).exists()
    }
}

/// The Hub repo ids whose tokenizer this build carries (feature `bundled`), e.g.
/// `Qwen/Qwen3-8B`: loading them reads no file when [`Config::use_bundled`] is on. (Kimi's,
/// e.g. `moonshotai/Kimi-K2.6`, are copies of the revision resolution pins them at, and serve
/// that revision only.)
///
/// ```
/// let names: Vec<&str> = tinkex::cache::bundled_models().collect();
/// # #[cfg(feature = "bundled")]
/// assert!(names.contains(&"Qwen/Qwen3-8B"));
/// ```
pub fn bundled_models() -> impl Iterator<Item = &'static str> {
    source::BUNDLED
        .iter()
        .flat_map(|b| b.repo_ids.iter().copied())
}

impl TokenizerCache {
    /// An empty cache with `config`.
    pub fn new(config: Config) -> Self {
        TokenizerCache {
            config,
            observer: None,
            slots: RwLock::default(),
            aliases: RwLock::default(),
            registered: RwLock::default(),
            loads: AtomicU64::new(0),
            failed_loads: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            load_nanos: AtomicU64::new(0),
        }
    }

    /// Sends download progress, retries and warnings of Hub downloads to `observer`.
    pub fn with_observer(mut self, observer: Arc<crate::hub::Observer>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Resolves `model` (a model name, tokenizer repo id, local path or registered name) and
    /// returns its tokenizer, loading it on first use.
    pub fn get_or_load(&self, model: &str) -> Result<Arc<Tokenizer>> {
        if let Some(t) = read(&self.aliases).get(model) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(t.clone());
        }
        let resolution = self.resolve(model, None)?;
        let t = self.get_or_load_resolved(&resolution)?;
        write(&self.aliases).insert(model.to_owned(), t.clone());
        Ok(t)
    }

    /// Resolution with this cache's registry and the filesystem as context.
    pub fn resolve(&self, model: &str, server_tokenizer_id: Option<&str>) -> Result<Resolution> {
        resolve::resolve(model, server_tokenizer_id, &Ctx { cache: self })
    }

    /// The tokenizer for an already-resolved name.
    pub fn get_or_load_resolved(&self, resolution: &Resolution) -> Result<Arc<Tokenizer>> {
        match resolution {
            Resolution::Registered { name } => read(&self.registered)
                .get(name)
                .cloned()
                .ok_or_else(|| Error::NotFound {
                    id: name.clone(),
                    detail: "it was registered but has since been removed".into(),
                }),
            Resolution::LocalPath { path } => {
                let canonical = std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?;
                let key = CacheKey::Local(canonical.clone());
                self.get_or_load_with(key, || {
                    Tokenizer::from_files_with(
                        source::local(&canonical)?,
                        canonical.display().to_string(),
                        None,
                        &self.config,
                    )
                })
            }
            // Compiled in or nowhere: `use_bundled` does not apply (it chooses between a
            // bundled copy and the Hub, and a built-in tokenizer has no Hub files).
            Resolution::Builtin { name, .. } => {
                let b = source::builtin(name).ok_or_else(|| Error::NotFound {
                    id: name.clone(),
                    detail: "it is compiled into tinkex only with the `bundled` cargo feature, \
                             which this build lacks"
                        .into(),
                })?;
                self.get_or_load_with(CacheKey::Bundled(b.name), || {
                    Tokenizer::from_bundled_with(b, &self.config)
                })
            }
            Resolution::Hub { spec, .. } => {
                if let Some(b) = self.bundled_copy(spec) {
                    return self.get_or_load_with(CacheKey::Bundled(b.name), || {
                        Tokenizer::from_bundled_with(b, &self.config)
                    });
                }
                let key = CacheKey::Hub {
                    id: spec.tokenizer_id.clone(),
                    revision: spec.revision.clone(),
                };
                self.get_or_load_with(key, || {
                    let files =
                        source::hub_files_with(spec, &self.config, self.observer.as_deref())?;
                    Tokenizer::from_files_with(
                        files,
                        spec.tokenizer_id.clone(),
                        spec.revision.clone(),
                        &self.config,
                    )
                })
            }
        }
    }

    /// Whether loading `resolution` through this cache reads no file: the tokenizer is a
    /// built-in one, or a bundled copy of the Hub tokenizer at exactly the resolved revision
    /// (the default branch, or Kimi's pinned commit), when [`Config::use_bundled`] is on. Other
    /// resolutions read local, cached or downloaded files.
    pub fn is_bundled(&self, resolution: &Resolution) -> bool {
        match resolution {
            Resolution::Builtin { name, .. } => source::builtin(name).is_some(),
            Resolution::Hub { spec, .. } => self.bundled_copy(spec).is_some(),
            _ => false,
        }
    }

    /// The bundled copy this cache loads for `spec` instead of the Hub's files, if any.
    fn bundled_copy(
        &self,
        spec: &resolve::TokenizerSpec,
    ) -> Option<&'static source::BundledTokenizer> {
        self.config
            .use_bundled
            .then(|| source::bundled(&spec.tokenizer_id, spec.revision.as_deref()))
            .flatten()
    }

    /// The single-flight core: the cached value for `key`, or `loader`'s result, run by exactly
    /// one of the concurrent callers that find `key` cold.
    pub fn get_or_load_with(
        &self,
        key: CacheKey,
        loader: impl FnOnce() -> Result<Tokenizer>,
    ) -> Result<Arc<Tokenizer>> {
        let slot = read(&self.slots).get(&key).cloned();
        let slot = match slot {
            Some(slot) => {
                if let Some(t) = slot.ready.get() {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(t.clone());
                }
                slot
            }
            None => write(&self.slots).entry(key).or_default().clone(),
        };
        self.misses.fetch_add(1, Ordering::Relaxed);
        let _guard = slot.loading.lock().unwrap_or_else(|e| e.into_inner());
        // Whoever held the lock before us may have finished the load.
        if let Some(t) = slot.ready.get() {
            return Ok(t.clone());
        }
        let start = Instant::now();
        let result = loader();
        self.load_nanos
            .fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
        match result {
            Ok(t) => {
                self.loads.fetch_add(1, Ordering::Relaxed);
                Ok(slot.ready.get_or_init(|| Arc::new(t)).clone())
            }
            Err(e) => {
                self.failed_loads.fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// Registers `tokenizer` under the exact name `name` (resolution rule 1: it wins over every
    /// other rule, including for private `TML/…` ids).
    pub fn register(&self, name: impl Into<String>, tokenizer: Arc<Tokenizer>) {
        let name = name.into();
        write(&self.aliases).remove(&name);
        write(&self.registered).insert(name, tokenizer);
    }

    /// Removes what `model` refers to (a registered name, or the tokenizer it resolves to).
    /// Returns whether anything was removed. Handles already given out stay valid.
    pub fn remove(&self, model: &str) -> bool {
        let mut removed = write(&self.registered).remove(model).is_some();
        let key = match self.resolve(model, None) {
            Ok(Resolution::Hub { spec, .. }) => Some(match self.bundled_copy(&spec) {
                Some(b) => CacheKey::Bundled(b.name),
                None => CacheKey::Hub {
                    id: spec.tokenizer_id,
                    revision: spec.revision,
                },
            }),
            Ok(Resolution::LocalPath { path }) => {
                std::fs::canonicalize(path).ok().map(CacheKey::Local)
            }
            Ok(Resolution::Builtin { name, .. }) => {
                source::builtin(&name).map(|b| CacheKey::Bundled(b.name))
            }
            _ => None,
        };
        if let Some(key) = key {
            if let Some(slot) = write(&self.slots).remove(&key) {
                removed |= slot.ready.get().is_some();
                if let Some(t) = slot.ready.get() {
                    write(&self.aliases).retain(|_, a| !Arc::ptr_eq(a, t));
                }
            }
        }
        write(&self.aliases).remove(model);
        removed
    }

    /// Drops every cached and registered tokenizer. Handles already given out stay valid.
    pub fn clear(&self) {
        write(&self.slots).clear();
        write(&self.aliases).clear();
        write(&self.registered).clear();
    }

    /// The counters so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            loads: self.loads.load(Ordering::Relaxed),
            failed_loads: self.failed_loads.load(Ordering::Relaxed),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            load_time: Duration::from_nanos(self.load_nanos.load(Ordering::Relaxed)),
            entries: read(&self.slots)
                .values()
                .filter(|s| s.ready.get().is_some())
                .count(),
        }
    }
}

const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TokenizerCache>();
};
