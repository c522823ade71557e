//! Errors of the CLI and how they are shown: `error: <message>` and maybe `hint: <hint>` on
//! stderr, exit code 1; a closed stdout is not an error.

use std::fmt;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

/// An error the CLI itself detects (bad input), with an optional hint.
#[derive(Debug)]
pub struct CliError {
    message: String,
    hint: Option<String>,
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// A [`CliError`] as an `anyhow::Error`.
pub fn fail(message: impl Into<String>, hint: Option<&str>) -> anyhow::Error {
    anyhow::Error::new(CliError {
        message: message.into(),
        hint: hint.map(str::to_owned),
    })
}

/// `err` with `hint` shown instead of any hint of its own (the message is unchanged).
pub fn with_hint(err: anyhow::Error, hint: String) -> anyhow::Error {
    // `message` leaves out the empty text of this context; `report` takes the first hint.
    err.context(CliError {
        message: String::new(),
        hint: Some(hint),
    })
}

/// A problem with the command line found only after parsing it (e.g. that the model has no
/// default renderer): shown as clap shows usage errors, with the subcommand's usage line, exit
/// code 2.
#[derive(Debug)]
pub struct UsageError {
    /// The subcommand's path (`["chat", "sft"]`).
    pub path: &'static [&'static str],
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UsageError {}

/// A [`UsageError`] as an `anyhow::Error`.
pub fn usage(path: &'static [&'static str], message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError {
        path,
        message: message.into(),
    })
}

/// Writing to stdout failed (a closed pipe is handled by [`report`]).
#[derive(Debug)]
pub struct StdoutError(pub io::Error);

impl fmt::Display for StdoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot write to stdout: {}", self.0)
    }
}

impl std::error::Error for StdoutError {}

/// Whether `err` is only the reader of our stdout having gone away.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<StdoutError>()
            .is_some_and(|e| e.0.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The message of the whole chain on one line, `outer: inner`, leaving out a cause whose text
/// its parent already includes (tinkex's messages embed their sources).
fn message(err: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || msg.contains(&text) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&text);
    }
    one_line(&msg)
}

fn one_line(s: &str) -> String {
    s.trim().replace("\r\n", " ").replace(['\n', '\r'], " ")
}

const LOCATIONS: &str =
    "MODEL can be a model or tokenizer repo id (bundled, in the Hugging Face cache, or on the \
                         Hub at HF_ENDPOINT), or a local directory with tokenizer.json";

/// What to suggest for a library error.
fn library_hint(e: &tinkex::Error) -> Option<String> {
    use tinkex::Error as E;
    Some(match e {
        E::NotFound { id, .. } if Path::new(id).is_dir() => {
            "a tokenizer directory needs tokenizer.json (and usually tokenizer_config.json), or \
             tiktoken.model and tokenizer_config.json"
                .to_owned()
        }
        E::NotFound { .. } => LOCATIONS.to_owned(),
        E::Offline { .. } => "drop --offline and unset HF_HUB_OFFLINE to download it (or run \
                              `tinkex cache prefetch MODEL` while online), or pass a local \
                              directory as MODEL"
            .to_owned(),
        E::RevisionNotFound { repo, .. } => {
            format!("see the branches and tags of `{repo}` on its Hub page")
        }
        E::Network { .. } => "tokenizers already in the Hugging Face cache still work with \
                              --offline; `tinkex cache list` shows them"
            .to_owned(),
        E::PrivateTokenizer { .. } => {
            "its files are not public; if you have them, pass their local directory as MODEL"
                .to_owned()
        }
        E::AuthRequired { .. } => {
            "or download the tokenizer files and pass their local directory as MODEL".to_owned()
        }
        E::Parse { .. } => "the tokenizer files are malformed or truncated; download them again \
                            or use another directory"
            .to_owned(),
        E::InvalidTokenId { id, vocab_size } => {
            if *vocab_size == 0 {
                "this tokenizer has no token ids".to_owned()
            } else if *id < u64::from(*vocab_size) {
                format!(
                    "token id {id} is a gap in this vocabulary (not assigned to any token); \
                     ids range from 0 to {}",
                    vocab_size - 1
                )
            } else {
                format!(
                    "valid token ids for this tokenizer are 0 to {}",
                    vocab_size - 1
                )
            }
        }
        E::Config { name, .. } if name == tinkex::config::ENV_TINKER_API_KEY => {
            "export TINKER_API_KEY=tml-... (your Tinker API key), or pass --model MODEL to use \
             a model name without the Tinker API"
                .to_owned()
        }
        E::Config { name, .. } => format!("fix or unset the environment variable {name}"),
        E::Api {
            status: Some(401 | 403),
            ..
        } => "check that TINKER_API_KEY holds a valid Tinker API key".to_owned(),
        E::Api { status: None, .. } => "check TINKER_BASE_URL and the network, or pass --model \
                                        MODEL to resolve by name without the Tinker API"
            .to_owned(),
        E::Api { .. } => "pass --model MODEL to resolve by name without the Tinker API".to_owned(),
        E::InvalidId { what, .. } if *what == "repo id" => {
            "MODEL is a Hub repo id (`name` or `namespace/name`: letters, digits, `-`, `_`, `.`) \
             or a local directory"
                .to_owned()
        }
        E::InvalidId { .. } => "pass the id as the Tinker API gave it (`<session>:train:<n>` or \
             `<session>:sample:<n>`)"
            .to_owned(),
        E::Integrity { .. } => "run the command again; if it keeps failing, a proxy or the Hub \
                                serves a damaged file"
            .to_owned(),
        E::Locked { .. } => "another tinkex or huggingface_hub process is downloading the same \
                             file; wait for it, or remove the lock file if it is gone"
            .to_owned(),
        E::TooManyRedirects { .. } => "check HF_ENDPOINT".to_owned(),
        E::UnknownRenderer { .. } => "pass --renderer with one of the renderers tinkex has; \
                                      `tinkex resolve MODEL --json` shows the model's recommended \
                                      ones"
            .to_owned(),
        _ => return None,
    })
}

/// Prints `err` to stderr and returns the exit code (0 for a closed stdout).
pub fn report(err: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(err) {
        return ExitCode::SUCCESS;
    }
    // A hint given as context (`with_hint`) is not a link of the chain `chain()` can downcast.
    let context_hint = err.downcast_ref::<CliError>().and_then(|e| e.hint.clone());
    let hint = context_hint.or_else(|| {
        err.chain().find_map(|c| {
            if let Some(e) = c.downcast_ref::<CliError>() {
                e.hint.clone()
            } else {
                c.downcast_ref::<tinkex::Error>().and_then(library_hint)
            }
        })
    });
    let mut text = format!("error: {}\n", message(err));
    if let Some(hint) = hint {
        text.push_str(&format!("hint: {}\n", one_line(&hint)));
    }
    // Nothing sensible is left to do if stderr is gone too.
    let _ = io::stderr().lock().write_all(text.as_bytes());
    ExitCode::from(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_dedupes_embedded_sources() {
        let io = io::Error::new(io::ErrorKind::NotFound, "gone");
        let e = tinkex::Error::Io {
            op: tinkex::error::IoOp::Read,
            path: "x".into(),
            source: io,
        };
        let e = anyhow::Error::new(e).context("line 3");
        assert_eq!(message(&e), "line 3: cannot read x: gone");
    }

    #[test]
    fn broken_pipe_is_quiet() {
        let e = anyhow::Error::new(StdoutError(io::Error::from(io::ErrorKind::BrokenPipe)));
        assert!(is_broken_pipe(&e));
        let e = anyhow::Error::new(StdoutError(io::Error::from(io::ErrorKind::Other)));
        assert!(!is_broken_pipe(&e));
    }

    #[test]
    fn hints() {
        let h = library_hint(&tinkex::Error::InvalidTokenId {
            id: 5,
            vocab_size: 3,
        });
        assert_eq!(
            h.as_deref(),
            Some("valid token ids for this tokenizer are 0 to 2")
        );
        assert!(library_hint(&tinkex::Error::Engine {
            message: "x".into(),
            source: None,
        })
        .is_none());
    }
}
