//! The Hub's HTTP protocol: a `HEAD` on `{endpoint}/{repo}/resolve/{revision}/{file}` for the
//! commit, etag and size (huggingface_hub's `get_hf_file_metadata`), then a `GET` of the file
//! (the `Location` of a redirect, for LFS files) into `{blob}.incomplete`, resumed with `Range`
//! when the body is cut short. Failed requests are retried per [`crate::config::RetryPolicy`]
//! by [`crate::net`]'s loop; what is permanent (a bad endpoint, a host that does not resolve,
//! a 4xx other than 408 and 429) fails at once.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use crate::config::Config;
use crate::error::{Error, IoOp, Result};
use crate::hub::layout;
use crate::hub::{emit, HubEvent, Observer};
use crate::net::{self, header, Failure, Stop};

/// What a `HEAD` told about a file.
#[derive(Debug, Clone)]
pub(crate) struct FileMeta {
    /// The commit the revision resolved to (`X-Repo-Commit`).
    pub commit: String,
    /// The normalised etag (`X-Linked-Etag`, else `ETag`): the blob's name.
    pub etag: String,
    /// The size (`X-Linked-Size`, else `Content-Length`).
    pub size: Option<u64>,
    /// Where to `GET` the contents.
    pub url: String,
}

/// The answer of a `HEAD`.
#[derive(Debug)]
pub(crate) enum Lookup {
    Found(FileMeta),
    /// The repo and revision exist but the file does not; the commit when the Hub said it.
    Missing {
        commit: Option<String>,
    },
}

/// Redirects a `HEAD` follows when they stay on the Hub (renamed repos).
const MAX_HUB_REDIRECTS: u32 = 5;

/// The Hub client of one download.
pub(crate) struct Client<'a> {
    meta_agent: ureq::Agent,
    get_agent: ureq::Agent,
    config: &'a Config,
    observer: Option<&'a Observer>,
    repo: &'a str,
    /// `{endpoint}/{repo}`, each segment of the repo id percent-encoded.
    repo_url: String,
    endpoint_origin: Option<String>,
}

/// huggingface_hub's `_normalize_etag`: no weak prefix, no quotes.
fn normalize_etag(etag: &str) -> String {
    etag.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_owned()
}

/// What an error status means.
enum Status {
    /// The file is not in the repo (`EntryNotFound`, or a bare 404): the caller decides.
    EntryMissing,
    Failure(Failure),
}

impl<'a> Client<'a> {
    /// A client for `repo` (a valid repo id) on `config`'s Hub; fails at once when the
    /// endpoint is not an `http(s)` URL.
    pub(crate) fn new(
        config: &'a Config,
        observer: Option<&'a Observer>,
        repo: &'a str,
    ) -> Result<Self> {
        let endpoint = config.endpoint.trim_end_matches('/');
        net::check_base_url(endpoint).map_err(|message| Error::Config {
            name: crate::config::ENV_HF_ENDPOINT.to_owned(),
            message,
        })?;
        let agent = |per_read: Option<Duration>, global: Option<Duration>| {
            ureq::Agent::new_with_config(
                ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .max_redirects(0)
                    .user_agent(concat!("tinkex/", env!("CARGO_PKG_VERSION")))
                    .timeout_global(global)
                    .timeout_connect(Some(config.metadata_timeout))
                    .timeout_recv_response(Some(config.metadata_timeout))
                    .timeout_per_read(per_read)
                    .build(),
            )
        };
        Ok(Client {
            meta_agent: agent(None, Some(config.metadata_timeout)),
            get_agent: agent(Some(config.download_timeout), None),
            config,
            observer,
            repo,
            repo_url: format!("{endpoint}/{}", net::encode_path(repo)),
            endpoint_origin: net::origin(endpoint),
        })
    }

    fn on_hub(&self, url: &str) -> bool {
        self.endpoint_origin.is_some() && net::origin(url) == self.endpoint_origin
    }

    fn token_for(&self, url: &str) -> Option<&str> {
        // The token goes to the Hub only, never to the CDN a redirect points at.
        let t = self.config.token.as_ref()?;
        self.on_hub(url).then(|| t.expose())
    }

    fn transport_failure(&self, url: &str, e: ureq::Error) -> Failure {
        match net::classify_transport(e) {
            net::Transport::BadUrl(m) => Failure::Permanent(Error::Config {
                name: crate::config::ENV_HF_ENDPOINT.to_owned(),
                message: format!("`{url}` is not a usable URL: {m}"),
            }),
            net::Transport::Permanent(message) => Failure::Permanent(Error::Network {
                url: url.to_owned(),
                message,
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

    /// Runs `attempt` under the Hub's [`crate::config::RetryPolicy`].
    fn retrying<T>(&self, url: &str, attempt: impl FnMut() -> Result<T, Failure>) -> Result<T> {
        let mut attempt = attempt;
        net::retry(
            net::Policy::hub(self.config.retry),
            |_| attempt(),
            |r| {
                emit(
                    self.observer,
                    &HubEvent::Retrying {
                        url,
                        attempt: r.attempt,
                        wait: r.wait,
                        reason: r.reason,
                    },
                )
            },
        )
        .map_err(|stop| match stop {
            Stop::Permanent(e) => e,
            Stop::GaveUp {
                message,
                status,
                attempts,
                elapsed,
            } => {
                let message = Stop::gave_up_message(&message, attempts, elapsed, false);
                match status {
                    Some(status) => Error::Http {
                        status,
                        url: url.to_owned(),
                        message,
                    },
                    None => Error::Network {
                        url: url.to_owned(),
                        message,
                    },
                }
            }
        })
    }

    /// What an error status means. `revision` is what was asked for.
    fn classify(
        &self,
        resp: &ureq::http::Response<ureq::Body>,
        url: &str,
        revision: &str,
    ) -> Status {
        let status = resp.status().as_u16();
        let code = header(resp, "x-error-code").unwrap_or("");
        let message = header(resp, "x-error-message")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("HTTP {status}"));
        let repo_not_found = || Error::NotFound {
            id: self.repo.to_owned(),
            detail: format!(
                "no repository `{}` on {} (if it is private, set HF_TOKEN to a token that \
                     can read it)",
                self.repo, self.config.endpoint
            ),
        };
        let fatal = match status {
            401 | 403 if code == "RepoNotFound" => repo_not_found(),
            401 | 403 => Error::AuthRequired {
                repo: self.repo.to_owned(),
                token_sent: self.token_for(url).is_some(),
            },
            404 if code == "RevisionNotFound" => Error::RevisionNotFound {
                repo: self.repo.to_owned(),
                revision: revision.to_owned(),
            },
            404 if code == "RepoNotFound" => repo_not_found(),
            // EntryNotFound, or a bare 404: the caller decides whether the file was optional.
            404 => return Status::EntryMissing,
            408 | 429 | 500..=599 => {
                return Status::Failure(Failure::Transient {
                    message: format!("HTTP {status}: {message}"),
                    retry_after: net::server_retry_after(resp),
                    status: Some(status),
                    unreachable: false,
                })
            }
            _ => Error::Http {
                status,
                url: url.to_owned(),
                message,
            },
        };
        Status::Failure(Failure::Permanent(fatal))
    }

    /// `HEAD {endpoint}/{repo}/resolve/{revision}/{file}`, every segment percent-encoded.
    pub(crate) fn lookup(&self, revision: &str, file: &str) -> Result<Lookup> {
        let url = format!(
            "{}/resolve/{}/{}",
            self.repo_url,
            net::encode_segment(revision),
            net::encode_path(file)
        );
        self.retrying(&url, || self.lookup_once(&url, revision))
    }

    fn lookup_once(&self, first_url: &str, revision: &str) -> Result<Lookup, Failure> {
        let mut url = first_url.to_owned();
        for _ in 0..=MAX_HUB_REDIRECTS {
            let mut req = self
                .meta_agent
                .head(&url)
                .header("Accept-Encoding", "identity");
            if let Some(t) = self.token_for(&url) {
                req = req.header("Authorization", format!("Bearer {t}"));
            }
            let resp = req.call().map_err(|e| self.transport_failure(&url, e))?;
            let status = resp.status().as_u16();
            let raw_location = header(&resp, "location").filter(|_| (300..400).contains(&status));
            let location = match raw_location {
                Some(loc) => Some(net::join_location(&url, loc).map_err(|message| {
                    Failure::Permanent(Error::Http {
                        status,
                        url: url.clone(),
                        message,
                    })
                })?),
                None => None,
            };
            if let (Some(raw), Some(next)) = (raw_location, &location) {
                // Follow a path-only redirect (a renamed repo), as huggingface_hub does; a
                // redirect naming a host (the CDN holding an LFS file, `//host/…` included)
                // carries the metadata itself.
                if net::is_path_reference(raw) {
                    url = next.clone();
                    continue;
                }
            } else if !(200..300).contains(&status) {
                let commit = header(&resp, "x-repo-commit").map(str::to_owned);
                return match self.classify(&resp, &url, revision) {
                    Status::EntryMissing => Ok(Lookup::Missing { commit }),
                    Status::Failure(f) => Err(f),
                };
            }
            let commit = header(&resp, "x-repo-commit").map(str::to_owned);
            let etag = header(&resp, "x-linked-etag")
                .or_else(|| header(&resp, "etag"))
                .map(normalize_etag);
            let size = header(&resp, "x-linked-size")
                .or_else(|| header(&resp, "content-length"))
                .and_then(|s| s.parse::<u64>().ok());
            let (Some(commit), Some(etag)) = (commit, etag) else {
                return Err(Failure::Permanent(Error::Http {
                    status,
                    url,
                    message: "the answer lacks X-Repo-Commit or ETag: the endpoint does not \
                              look like a Hugging Face Hub"
                        .to_owned(),
                }));
            };
            if !layout::is_commit_hash(&commit) || layout::check_revision(&etag).is_err() {
                return Err(Failure::Permanent(Error::Http {
                    status,
                    url,
                    message: format!("unusable commit `{commit}` or etag `{etag}`"),
                }));
            }
            return Ok(Lookup::Found(FileMeta {
                commit,
                etag,
                size,
                url: location.unwrap_or(url),
            }));
        }
        Err(Failure::Permanent(Error::TooManyRedirects {
            url,
            limit: MAX_HUB_REDIRECTS,
        }))
    }

    /// Downloads `meta` into `incomplete`, resuming what is already there, until it has the
    /// expected size. Does not verify the digest or rename: the caller does.
    pub(crate) fn download(
        &self,
        meta: &FileMeta,
        file: &str,
        incomplete: &Path,
        revision: &str,
    ) -> Result<u64> {
        let started = fs::metadata(incomplete).map_or(0, |m| m.len());
        emit(
            self.observer,
            &HubEvent::DownloadStarted {
                repo: self.repo,
                file,
                total: meta.size,
                resumed_from: started,
            },
        );
        let n = self.retrying(&meta.url, || {
            self.download_once(meta, file, incomplete, revision)
        })?;
        emit(
            self.observer,
            &HubEvent::DownloadFinished {
                repo: self.repo,
                file,
                bytes: n,
            },
        );
        Ok(n)
    }

    fn download_once(
        &self,
        meta: &FileMeta,
        file: &str,
        incomplete: &Path,
        revision: &str,
    ) -> Result<u64, Failure> {
        let io_fatal =
            |e: std::io::Error| Failure::Permanent(Error::io_op(IoOp::Write, incomplete, e));
        let mut out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(incomplete)
            .map_err(io_fatal)?;
        let mut offset = out.metadata().map_err(io_fatal)?.len();
        if meta.size.is_some_and(|s| offset > s) {
            out.set_len(0).map_err(io_fatal)?;
            offset = 0;
        }
        if meta.size == Some(offset) && offset > 0 {
            return Ok(offset);
        }
        let mut req = self
            .get_agent
            .get(&meta.url)
            .header("Accept-Encoding", "identity");
        if offset > 0 {
            req = req.header("Range", format!("bytes={offset}-"));
        }
        if let Some(t) = self.token_for(&meta.url) {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let resp = req
            .call()
            .map_err(|e| self.transport_failure(&meta.url, e))?;
        let status = resp.status().as_u16();
        match status {
            206 if offset > 0 => {
                let ok = header(&resp, "content-range")
                    .is_some_and(|r| r.starts_with(&format!("bytes {offset}-")));
                if !ok {
                    out.set_len(0).map_err(io_fatal)?;
                    return Err(Failure::transient(
                        "the server resumed at the wrong offset; restarting",
                    ));
                }
            }
            200 | 206 => {
                // A full body (the server ignored the Range): start over.
                if offset > 0 {
                    out.set_len(0).map_err(io_fatal)?;
                    offset = 0;
                }
            }
            416 => {
                out.set_len(0).map_err(io_fatal)?;
                return Err(Failure::transient(
                    "the server refused to resume; restarting",
                ));
            }
            _ => {
                return Err(match self.classify(&resp, &meta.url, revision) {
                    Status::EntryMissing => Failure::Permanent(Error::Http {
                        status,
                        url: meta.url.clone(),
                        message: "the file vanished between the lookup and the download".to_owned(),
                    }),
                    Status::Failure(f) => f,
                })
            }
        }
        let mut body = resp.into_body().into_reader();
        let mut buf = vec![0u8; 1 << 16];
        let mut have = offset;
        let mut last_report = offset;
        let progress = |downloaded: u64| {
            emit(
                self.observer,
                &HubEvent::DownloadProgress {
                    repo: self.repo,
                    file,
                    downloaded,
                    total: meta.size,
                },
            )
        };
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    out.flush().map_err(io_fatal)?;
                    return Err(Failure::transient(format!(
                        "connection lost after {have} bytes: {e}"
                    )));
                }
            };
            out.write_all(&buf[..n]).map_err(io_fatal)?;
            have += n as u64;
            if have - last_report >= 1 << 18 {
                last_report = have;
                progress(have);
            }
        }
        out.sync_all().map_err(io_fatal)?;
        if let Some(size) = meta.size {
            if have != size {
                if have > size {
                    out.set_len(0).map_err(io_fatal)?;
                }
                return Err(Failure::transient(format!(
                    "the body ended after {have} of {size} bytes"
                )));
            }
        }
        progress(have);
        Ok(have)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_normalised() {
        assert_eq!(normalize_etag("W/\"abc\""), "abc");
        assert_eq!(normalize_etag("\"abc\""), "abc");
        assert_eq!(normalize_etag(" abc "), "abc");
    }
}
