//! The one error type of the library.
//!
//! Every failure is a value a caller can match on; messages say what to do next.

use std::path::PathBuf;

/// The cause an [`Error`] keeps from a parser or engine, as `std::error::Error::source` gives it
/// (a boxed error, so no pinned dependency's error type is part of the API).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in tinkex.
///
/// The enum is `#[non_exhaustive]`: match the variants you handle and keep a `_` arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No tokenizer could be found for `id` (not registered, not a local path, not bundled,
    /// not in a cache).
    #[error("tokenizer `{id}` not found: {detail}")]
    NotFound {
        /// The tokenizer id (or path) that was looked for.
        id: String,
        /// Where it was looked for and what to try.
        detail: String,
    },

    /// The model uses one of Thinking Machines' private tokenizers (`TML/…`,
    /// `thinkingmachines/…`), whose files are not public.
    #[error(
        "`{id}` is a private Thinking Machines tokenizer with no public files; \
         register one with tinkex::tokenizer::register_tokenizer (or pass a local directory)"
    )]
    PrivateTokenizer {
        /// The tokenizer id as resolved.
        id: String,
    },

    /// The tokenizer is not available without network access.
    #[error("offline: {detail}")]
    Offline {
        /// What was missing.
        detail: String,
    },

    /// The repository is gated or private: the Hub answered 401/403 (without saying the repo does
    /// not exist).
    #[error("{}", auth_message(repo, *token_sent))]
    AuthRequired {
        /// The repository id.
        repo: String,
        /// Whether a token was sent (and refused).
        token_sent: bool,
    },

    /// The repository exists but has no such branch, tag or commit.
    #[error("revision `{revision}` not found in `{repo}`: check the branch, tag or commit hash")]
    RevisionNotFound {
        /// The repository id.
        repo: String,
        /// The revision asked for.
        revision: String,
    },

    /// The Hub could not be reached (connection refused, DNS, timeouts, a body cut short), after
    /// the retries of [`crate::config::RetryPolicy`].
    #[error("cannot reach {url}: {message}; check the network or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use only the cache")]
    Network {
        /// The URL requested.
        url: String,
        /// What failed, last attempt first.
        message: String,
    },

    /// The Hub answered with an HTTP status tinkex cannot act on (after retrying 429 and 5xx).
    #[error("HTTP {status} from {url}: {message}")]
    Http {
        /// The status code.
        status: u16,
        /// The URL requested.
        url: String,
        /// The Hub's `X-Error-Message`, or what was expected.
        message: String,
    },

    /// A file-system operation failed: which one, on which path.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: IoOp,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A tokenizer file is malformed (not JSON, wrong shape, truncated, bad ranks, …).
    #[error("cannot parse {}: {message}", path.display())]
    Parse {
        /// The file (or, for bundled data, a pseudo-path `bundled:<name>/<file>`).
        path: PathBuf,
        /// What is wrong with it.
        message: String,
        /// The parser's own error (e.g. `serde_json`'s, with its line and column), when one
        /// reported it; its text is already in `message`.
        #[source]
        source: Option<BoxError>,
    },

    /// The files are well-formed but describe something this build cannot reproduce exactly.
    #[error("unsupported tokenizer {}: {message}", path.display())]
    Unsupported {
        /// The file or directory.
        path: PathBuf,
        /// What is not supported.
        message: String,
    },

    /// A token id is not in the tokenizer's vocabulary.
    #[error(
        "token id {id} is out of range: the vocabulary has {vocab_size} ids (0..{vocab_size})"
    )]
    InvalidTokenId {
        /// The offending id.
        id: u64,
        /// The number of ids the tokenizer knows.
        vocab_size: u32,
    },

    /// The input is not acceptable (e.g. `to_ints` on a model input holding an image).
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// The tokenizer engine failed while encoding or decoding.
    #[error("tokenizer engine error: {message}")]
    Engine {
        /// What the engine said.
        message: String,
        /// The engine's own error, when it gave one (its text is `message`).
        #[source]
        source: Option<BoxError>,
    },

    /// A Tinker API call failed: the server refused it, answered something unusable, could not
    /// be reached (after the retries of [`crate::client::RetryConfig`]), or a future failed.
    #[error("Tinker API {url}: {message}")]
    Api {
        /// The HTTP status, when the server answered.
        status: Option<u16>,
        /// The URL requested.
        url: String,
        /// What failed and what to do.
        message: String,
    },

    /// A chat renderer refuses the conversation: its format cannot express it (a thinking part
    /// for `llama3`, tool calls for `role_colon`, …), exactly where tinker-cookbook refuses it.
    #[error("renderer `{renderer}` cannot render this: {what}")]
    RendererUnsupported {
        /// The renderer's name.
        renderer: String,
        /// What it cannot do, in the cookbook's words where it has them.
        what: String,
    },

    /// No chat renderer has this name (or tinkex does not implement it yet).
    #[error("unknown renderer `{name}`; tinkex renders: {available}")]
    UnknownRenderer {
        /// The name asked for.
        name: String,
        /// The names tinkex implements, comma-separated.
        available: String,
    },

    /// A downloaded file is not what the Hub announced (its size, or its digest: the sha256 of
    /// an LFS file, the git blob sha1 of a small one), twice in a row; nothing was kept.
    #[error("{file} from {url} is corrupt: {found}, expected {expected} (downloaded twice, discarded both times)")]
    Integrity {
        /// The file in the repo.
        file: String,
        /// Where it was downloaded from.
        url: String,
        /// What the Hub announced (`sha256 …`, `git-sha1 …`, `N bytes`).
        expected: String,
        /// What arrived.
        found: String,
    },

    /// A request was redirected more times than tinkex follows.
    #[error("too many redirects (more than {limit}) from {url}")]
    TooManyRedirects {
        /// The last URL requested.
        url: String,
        /// The number of redirects followed.
        limit: u32,
    },

    /// A repo id, file name or id given to a client is malformed; nothing was requested.
    #[error("invalid {what} `{value}`: {reason}")]
    InvalidId {
        /// What kind of id (`repo id`, `sampler id`, `model id`).
        what: &'static str,
        /// The value given.
        value: String,
        /// The rule it breaks.
        reason: String,
    },

    /// Another process holds the lock on a file being written and did not release it in time.
    #[error("{} is locked{}; gave up after {:.0} s (remove the lock file if that process is gone)", path.display(), holder.as_deref().map(|h| format!(" by {h}")).unwrap_or_default(), waited.as_secs_f64())]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// Who holds it, as the holder wrote it in the lock file (`pid 1234`), when known.
        holder: Option<String>,
        /// How long tinkex waited.
        waited: std::time::Duration,
    },

    /// An environment variable or configuration value is invalid.
    #[error("invalid configuration {name}: {message}")]
    Config {
        /// The variable or option name.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn auth_message(repo: &str, token_sent: bool) -> String {
    if token_sent {
        format!(
            "`{repo}` is gated or private and the Hub refused the token (from HF_TOKEN, \
             HF_TOKEN_PATH or $HF_HOME/token): accept the repo's terms on its Hub page, or set \
             HF_TOKEN to a token with access to it"
        )
    } else {
        format!(
            "`{repo}` is gated or private: set HF_TOKEN to a Hugging Face token with access to it \
             (or log in with `hf auth login`)"
        )
    }
}

impl Error {
    /// `path` is malformed: `message` says how.
    pub(crate) fn parse(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        Error::Parse {
            path: path.into(),
            message: message.to_string(),
            source: None,
        }
    }

    /// `path` is malformed, as the parser's error `source` says (kept as the error's source).
    pub(crate) fn parse_source(
        path: impl Into<PathBuf>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Parse {
            path: path.into(),
            message: source.to_string(),
            source: Some(Box::new(source)),
        }
    }

    /// The engine failed with `message` and no error value of its own.
    pub(crate) fn engine(message: impl Into<String>) -> Self {
        Error::Engine {
            message: message.into(),
            source: None,
        }
    }

    /// A failed read of `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::io_op(IoOp::Read, path, source)
    }

    /// A failed `op` on `path`.
    pub(crate) fn io_op(op: IoOp, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// The file-system operation an [`Error::Io`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IoOp {
    /// Reading a file, its metadata or a directory.
    Read,
    /// Writing (or syncing) a file.
    Write,
    /// Creating a file, directory or link.
    Create,
    /// Renaming a file into place.
    Rename,
    /// Removing a file or directory.
    Remove,
    /// Taking a file lock.
    Lock,
}

impl std::fmt::Display for IoOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IoOp::Read => "read",
            IoOp::Write => "write",
            IoOp::Create => "create",
            IoOp::Rename => "rename into",
            IoOp::Remove => "remove",
            IoOp::Lock => "lock",
        })
    }
}
