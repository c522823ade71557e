//! The Hugging Face Hub: downloading a tokenizer's files into the shared Hugging Face cache.
//!
//! [`fetch`] asks the Hub (`HF_ENDPOINT`) which commit a revision is at and which blobs the
//! files are, downloads the blobs the cache lacks, and links them into
//! `snapshots/{commit}` in huggingface_hub's layout, so Python's
//! `huggingface_hub` / `transformers` and tinkex share one cache. Each file is written to
//! `{blob}.incomplete` under a per-blob lock, checked (size, and sha256 when the etag is one),
//! and renamed into place; a request that fails for a transient reason is retried
//! ([`crate::config::RetryPolicy`]) and a body cut short is resumed.
//!
//! Nothing is printed: progress, retries and warnings go to an optional [`Observer`].
//!
//! The public surface: [`fetch`] (download), [`cached_snapshot`] (look without downloading),
//! [`list`] and [`remove`] (what `tinkex cache list|rm` run) and the [`HubEvent`]s an
//! [`Observer`] receives. The layout on disk and the HTTP protocol are internal.
//!
//! Three caches, three names: the *Hugging Face cache* (`HF_HUB_CACHE`, this module, shared
//! with Python), the *prepared store* (`TINKEX_CACHE_DIR`, tinkex's own on-disk copies of
//! prepared tokenizers, [`Config::prepared_cache`]) and the in-memory *registry*
//! ([`crate::cache::TokenizerCache`]).

pub(crate) mod layout;

pub(crate) mod http;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::Config;
use crate::error::{Error, IoOp, Result};
use crate::resolve::{TokenizerFormat, TokenizerSpec};

use http::{Client, Lookup};
use layout::{BlobLock, RepoDir};

pub use layout::{CachedFile, CachedRepo, CachedSnapshot, Removed};

/// What a download reports while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HubEvent<'a> {
    /// A file's download begins (`resumed_from` bytes were already there).
    DownloadStarted {
        /// The repo id.
        repo: &'a str,
        /// The file.
        file: &'a str,
        /// Its size, when the Hub said.
        total: Option<u64>,
        /// Bytes kept from an earlier, interrupted download.
        resumed_from: u64,
    },
    /// Bytes arrived.
    DownloadProgress {
        /// The repo id.
        repo: &'a str,
        /// The file.
        file: &'a str,
        /// Bytes so far, including any resumed ones.
        downloaded: u64,
        /// Its size, when known.
        total: Option<u64>,
    },
    /// A file is complete (before it is verified and moved into place).
    DownloadFinished {
        /// The repo id.
        repo: &'a str,
        /// The file.
        file: &'a str,
        /// Its size.
        bytes: u64,
    },
    /// A request failed and will be tried again after `wait`.
    Retrying {
        /// The URL.
        url: &'a str,
        /// The number of the coming attempt (2 for the first retry).
        attempt: u32,
        /// How long tinkex waits first (a server's `Retry-After`, or the backoff).
        wait: Duration,
        /// What failed.
        reason: &'a str,
    },
    /// Something the user should know, e.g. the Hub is unreachable and the cache is used.
    Warning {
        /// The warning.
        message: &'a str,
    },
}

/// Receives [`HubEvent`]s (on the downloading thread).
pub type Observer = dyn Fn(&HubEvent<'_>) + Send + Sync;

pub(crate) fn emit(observer: Option<&Observer>, event: &HubEvent<'_>) {
    if let Some(o) = observer {
        o(event);
    }
}

/// The files a tokenizer of `format` needs: the main one (required) and the optional ones.
pub(crate) fn tokenizer_files(format: TokenizerFormat) -> (&'static str, &'static [&'static str]) {
    match format {
        TokenizerFormat::TokenizerJson => ("tokenizer.json", &["tokenizer_config.json"]),
        TokenizerFormat::Tiktoken => ("tiktoken.model", &["tokenizer_config.json"]),
    }
}

/// Every file name tinkex may put in a repo's snapshot (what [`remove`] removes).
pub const ALL_TOKENIZER_FILES: &[&str] =
    &["tokenizer.json", "tiktoken.model", "tokenizer_config.json"];

/// Every model repo in the Hugging Face cache directory `cache` (e.g. [`Config::hub_cache`]),
/// sorted by repo id, with its refs, snapshots and files; an absent directory is empty.
pub fn list(cache: &Path) -> Result<Vec<CachedRepo>> {
    layout::list(cache)
}

/// Removes the tokenizer files ([`ALL_TOKENIZER_FILES`]) of `repo_id` from the Hugging Face
/// cache directory `cache`: every snapshot's pointers and `.no_exist` markers, the blobs no
/// other pointer uses, refs left pointing at an empty snapshot. Other files of the repo (weights
/// another program downloaded) are left alone.
pub fn remove(cache: &Path, repo_id: &str) -> Result<Removed> {
    layout::remove_files(cache, repo_id, ALL_TOKENIZER_FILES)
}

fn cache_dir(config: &Config) -> Result<&Path> {
    config.hub_cache.as_deref().ok_or_else(|| Error::Config {
        name: crate::config::ENV_HF_HOME.to_owned(),
        message: "no Hugging Face cache directory: set HF_HUB_CACHE or HF_HOME (or HOME)"
            .to_owned(),
    })
}

/// The cached snapshot of `spec` when it is complete: the main file present, each optional one
/// present or known absent (`.no_exist`). Reads the cache only.
pub fn cached_snapshot(spec: &TokenizerSpec, config: &Config) -> Option<PathBuf> {
    snapshot_in(config.hub_cache.as_deref()?, spec, true)
}

/// The one snapshot lookup: `models--{org}--{name}/snapshots/{commit}` for `spec`, the commit
/// taken from `refs/{revision}` unless the revision is itself a commit hash (huggingface_hub's
/// layout), when it holds the main file and, if `complete`, each optional file or its
/// `.no_exist` marker.
pub(crate) fn snapshot_in(cache: &Path, spec: &TokenizerSpec, complete: bool) -> Option<PathBuf> {
    let repo = RepoDir::new(cache, &spec.tokenizer_id);
    let commit = repo.commit_for(spec.revision_or_default())?;
    let (main, optional) = tokenizer_files(spec.format);
    let found = repo.pointer(&commit, main).is_file()
        && (!complete
            || optional
                .iter()
                .all(|f| repo.pointer(&commit, f).is_file() || repo.is_missing(&commit, f)));
    found.then(|| repo.snapshot(&commit))
}

/// Downloads `spec`'s files into the hub cache (unless a commit-hash revision is already
/// complete there) and returns the snapshot directory.
///
/// A branch or tag is always looked up, so the cache follows the Hub. When the Hub cannot be
/// reached (after retries) and the cache has a snapshot for the revision, that snapshot is
/// returned with a [`HubEvent::Warning`]. Offline ([`Config::offline`]) nothing is requested:
/// the cached snapshot or [`Error::Offline`].
pub fn fetch(
    spec: &TokenizerSpec,
    config: &Config,
    observer: Option<&Observer>,
) -> Result<PathBuf> {
    layout::check_repo_id(&spec.tokenizer_id)?;
    let cache = cache_dir(config)?;
    let revision = spec.revision_or_default();
    layout::check_revision(revision)?;
    let repo = RepoDir::new(cache, &spec.tokenizer_id);
    if layout::is_commit_hash(revision) || config.offline {
        if let Some(dir) = cached_snapshot(spec, config) {
            return Ok(dir);
        }
    }
    if config.offline {
        return Err(offline_error(spec, config));
    }
    match download(spec, config, observer, &repo) {
        Ok(dir) => Ok(dir),
        Err(
            e @ (Error::Network { .. }
            | Error::Http { .. }
            | Error::Integrity { .. }
            | Error::TooManyRedirects { .. }),
        ) => {
            let Some(dir) = snapshot_in(cache, spec, false) else {
                return Err(e);
            };
            emit(
                observer,
                &HubEvent::Warning {
                    message: &format!(
                        "{e}; using the cached copy of {}@{revision} ({})",
                        spec.tokenizer_id,
                        dir.display()
                    ),
                },
            );
            Ok(dir)
        }
        Err(e) => Err(e),
    }
}

/// The error for a tokenizer the cache lacks while offline: what is missing and where it looked.
pub(crate) fn offline_error(spec: &TokenizerSpec, config: &Config) -> Error {
    let (main, _) = tokenizer_files(spec.format);
    let at = spec
        .revision
        .as_deref()
        .map(|r| format!(" at revision {r}"))
        .unwrap_or_default();
    let place = match &config.hub_cache {
        Some(c) => format!("is not in the Hugging Face cache ({})", c.display()),
        None => "cannot be cached (no cache directory: set HF_HOME)".to_owned(),
    };
    Error::Offline {
        detail: format!(
            "`{}`{at}: its {main} {place}, and offline mode forbids downloading it; turn \
             offline mode off to download it, or fetch it once while online",
            spec.tokenizer_id
        ),
    }
}

fn download(
    spec: &TokenizerSpec,
    config: &Config,
    observer: Option<&Observer>,
    repo: &RepoDir,
) -> Result<PathBuf> {
    let client = Client::new(config, observer, &spec.tokenizer_id)?;
    let revision = spec.revision_or_default();
    let (main, optional) = tokenizer_files(spec.format);
    // The main file fixes the commit; the others are asked for at that commit, so the snapshot
    // is consistent even if the branch moves meanwhile.
    let commit = match client.lookup(revision, main)? {
        Lookup::Found(meta) => {
            store(&client, repo, &meta, main, revision)?;
            meta.commit
        }
        Lookup::Missing { commit } => {
            if let Some(c) = &commit {
                repo.mark_missing(c, main)?;
            }
            return Err(Error::NotFound {
                id: spec.tokenizer_id.clone(),
                detail: format!(
                    "the repository has no {main} at revision {revision} (is it a {} tokenizer?)",
                    match spec.format {
                        TokenizerFormat::TokenizerJson => "tiktoken",
                        TokenizerFormat::Tiktoken => "tokenizer.json",
                    }
                ),
            });
        }
    };
    for file in optional {
        if repo.pointer(&commit, file).is_file() || repo.is_missing(&commit, file) {
            continue;
        }
        match client.lookup(&commit, file)? {
            Lookup::Found(meta) => store(&client, repo, &meta, file, &commit)?,
            Lookup::Missing { .. } => repo.mark_missing(&commit, file)?,
        }
    }
    repo.write_ref(revision, &commit)?;
    Ok(repo.snapshot(&commit))
}

/// Makes `blobs/{etag}` complete (downloading it under its lock unless it is already there) and
/// points `snapshots/{commit}/{file}` at it.
fn store(
    client: &Client<'_>,
    repo: &RepoDir,
    meta: &http::FileMeta,
    file: &str,
    revision: &str,
) -> Result<()> {
    let blob = repo.blob(&meta.etag);
    if !blob.is_file() {
        let _lock = BlobLock::acquire(&repo.lock_path(&meta.etag))?;
        // Another process may have finished it while we waited for the lock.
        if !blob.is_file() {
            let incomplete = repo.incomplete(&meta.etag);
            if let Some(parent) = incomplete.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Error::io_op(IoOp::Create, parent, e))?;
            }
            // A resumed file that fails the check is downloaded once more from scratch.
            let mut mismatch = None;
            for _ in 0..2 {
                client.download(meta, file, &incomplete, revision)?;
                match check(&incomplete, meta)? {
                    None => {
                        mismatch = None;
                        break;
                    }
                    Some(m) => {
                        std::fs::remove_file(&incomplete)
                            .map_err(|e| Error::io_op(IoOp::Remove, &incomplete, e))?;
                        mismatch = Some(m);
                    }
                }
            }
            if let Some(Mismatch { expected, found }) = mismatch {
                let _ = std::fs::remove_file(&incomplete);
                return Err(Error::Integrity {
                    file: file.to_owned(),
                    url: meta.url.clone(),
                    expected,
                    found,
                });
            }
            std::fs::rename(&incomplete, &blob)
                .map_err(|e| Error::io_op(IoOp::Rename, &blob, e))?;
        }
    }
    repo.link(&meta.commit, file, &meta.etag)
}

/// How a downloaded file differs from what the Hub announced.
struct Mismatch {
    expected: String,
    found: String,
}

/// The size the Hub announced, and the digest the etag is: the sha256 of an LFS file, the git
/// blob sha1 of a file kept in git (as huggingface_hub checks). `Ok(None)` when it matches.
fn check(path: &Path, meta: &http::FileMeta) -> Result<Option<Mismatch>> {
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    if let Some(size) = meta.size {
        if len != size {
            return Ok(Some(Mismatch {
                expected: format!("{size} bytes"),
                found: format!("{len} bytes"),
            }));
        }
    }
    let (kind, digest) = if layout::is_sha256(&meta.etag) {
        ("sha256", layout::sha256_file(path)?)
    } else if layout::is_git_sha1(&meta.etag) {
        ("git-sha1", layout::git_sha1_file(path)?)
    } else {
        return Ok(None);
    };
    Ok(
        (!digest.eq_ignore_ascii_case(&meta.etag)).then(|| Mismatch {
            expected: format!("{kind} {}", meta.etag),
            found: format!("{kind} {digest}"),
        }),
    )
}
