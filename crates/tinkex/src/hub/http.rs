//! The Hub's HTTP protocol: a `HEAD` on `{endpoint}/{repo}/resolve/{revision}/{file}` for the
//! commit, etag and size (huggingface_hub's `get_hf_file_metadata`), then a `GET` of the file
//! (the `Location` of a redirect, for LFS files) into `{blob}.incomplete`, resumed with `Range`
//! when the body is cut short. Failed requests are retried per [`RetryPolicy`].

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use crate::config::{Config, RetryPolicy};
use crate::error::{Error, Result};
use crate::hub::layout;
use crate::hub::{emit, HubEvent, Observer};

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

/// Why one attempt failed.
enum Failure {
    /// Worth another attempt: the message, a `Retry-After`, and whether nothing could be reached
    /// at all (refused connection, unknown host), which is retried only once.
    Retry {
        message: String,
        retry_after: Option<Duration>,
        unreachable: bool,
        status: Option<u16>,
    },
    /// Final.
    Fatal(Error),
}

/// Connection-level failures where no server answered get this many attempts at most.
const UNREACHABLE_ATTEMPTS: u32 = 2;
/// Redirects a `HEAD` follows when they stay on the Hub (renamed repos).
const MAX_RELATIVE_REDIRECTS: usize = 5;

/// The Hub client of one download.
pub(crate) struct Client<'a> {
    meta_agent: ureq::Agent,
    get_agent: ureq::Agent,
    config: &'a Config,
    observer: Option<&'a Observer>,
    repo: &'a str,
}

/// A response header's trimmed, non-empty value (shared with the Tinker client).
pub(crate) fn header<'r>(
    resp: &'r ureq::http::Response<ureq::Body>,
    name: &str,
) -> Option<&'r str> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// huggingface_hub's `_normalize_etag`: no weak prefix, no quotes.
fn normalize_etag(etag: &str) -> String {
    etag.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_owned()
}

/// Percent-encodes everything but unreserved characters (a revision like `refs/pr/1` becomes one
/// path segment, as huggingface_hub's `quote(revision, safe="")` does).
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

/// Resolves a `Location` against the URL it answered.
fn join_location(base: &str, location: &str) -> String {
    if location.contains("://") {
        location.to_owned()
    } else if location.starts_with('/') {
        format!("{}{location}", origin(base))
    } else {
        let dir = base.rfind('/').map_or(base, |i| &base[..=i]);
        format!("{dir}{location}")
    }
}

/// `Retry-After`.
fn retry_after(resp: &ureq::http::Response<ureq::Body>) -> Option<Duration> {
    header(resp, "retry-after").and_then(|v| parse_retry_after(v, std::time::SystemTime::now()))
}

/// A `Retry-After` value (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date in the preferred
/// IMF-fixdate form (`Sun, 06 Nov 1994 08:49:37 GMT`), which becomes the time left until then
/// (zero if it has passed). The obsolete RFC 850 and asctime date forms are not understood and,
/// like any other unparsable value, count as absent.
pub(crate) fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = std::time::UNIX_EPOCH + Duration::from_secs(imf_fixdate(value)?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Seconds since the Unix epoch of an IMF-fixdate.
fn imf_fixdate(s: &str) -> Option<u64> {
    // "Sun, 06 Nov 1994 08:49:37 GMT"
    let rest = s.split_once(", ")?.1;
    let f: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = f[..] else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as u64 + 1;
    let num = |t: &str, len: usize| -> Option<u64> {
        (t.len() == len && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok())?
    };
    let (day, year) = (num(day, 2)?, num(year, 4)?);
    let hms: Vec<&str> = time.split(':').collect();
    let [h, m, sec] = hms[..] else { return None };
    let (h, m, sec) = (num(h, 2)?, num(m, 2)?, num(sec, 2)?);
    if year < 1970 || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    // Days from 1970-01-01 to year-month-day (Howard Hinnant's days_from_civil).
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + h * 3600 + m * 60 + sec)
}

/// A little randomness for jitter, without a dependency.
pub(crate) fn jitter_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// The retry state of one request.
struct Backoff {
    policy: RetryPolicy,
    attempt: u32,
    waited: Duration,
}

impl Backoff {
    fn new(policy: RetryPolicy) -> Self {
        Backoff {
            policy,
            attempt: 0,
            waited: Duration::ZERO,
        }
    }

    /// The wait before the next attempt, or `None` when the attempts or the budget are spent.
    /// A `Retry-After` is honoured as given (within the budget); otherwise the wait is
    /// `base * 2^n`, capped, times a random factor in [0.5, 1).
    fn next(&mut self, retry_after: Option<Duration>, unreachable: bool) -> Option<Duration> {
        self.attempt += 1;
        let max = if unreachable {
            self.policy.max_attempts.min(UNREACHABLE_ATTEMPTS)
        } else {
            self.policy.max_attempts
        };
        if self.attempt >= max {
            return None;
        }
        let exp = self
            .policy
            .base_delay
            .saturating_mul(1u32 << (self.attempt - 1).min(20))
            .min(self.policy.max_delay);
        let wait = retry_after.unwrap_or_else(|| exp.mul_f64(0.5 + 0.5 * jitter_fraction()));
        if self.waited + wait > self.policy.budget {
            return None;
        }
        self.waited += wait;
        Some(wait)
    }
}

fn transport_failure(e: ureq::Error) -> Failure {
    let unreachable = matches!(e, ureq::Error::ConnectionFailed | ureq::Error::HostNotFound)
        || matches!(&e, ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused);
    match e {
        ureq::Error::BadUri(m) => Failure::Fatal(Error::Config {
            name: crate::config::ENV_HF_ENDPOINT.to_owned(),
            message: format!("not a usable URL: {m}"),
        }),
        e => Failure::Retry {
            message: e.to_string(),
            retry_after: None,
            unreachable,
            status: None,
        },
    }
}

impl<'a> Client<'a> {
    pub(crate) fn new(config: &'a Config, observer: Option<&'a Observer>, repo: &'a str) -> Self {
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
        Client {
            meta_agent: agent(None, Some(config.metadata_timeout)),
            get_agent: agent(Some(config.download_timeout), None),
            config,
            observer,
            repo,
        }
    }

    fn token_for(&self, url: &str) -> Option<&str> {
        // The token goes to the Hub only, never to the CDN a redirect points at.
        let t = self.config.token.as_ref()?;
        (origin(url) == origin(&self.config.endpoint)).then(|| t.expose())
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries are spent.
    fn retrying<T>(&self, url: &str, mut attempt: impl FnMut() -> Result<T, Failure>) -> Result<T> {
        let mut backoff = Backoff::new(self.config.retry);
        loop {
            match attempt() {
                Ok(v) => return Ok(v),
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Retry {
                    message,
                    retry_after,
                    unreachable,
                    status,
                }) => match backoff.next(retry_after, unreachable) {
                    Some(wait) => {
                        emit(
                            self.observer,
                            &HubEvent::Retrying {
                                url,
                                attempt: backoff.attempt + 1,
                                wait,
                                reason: &message,
                            },
                        );
                        std::thread::sleep(wait);
                    }
                    None => {
                        let message = format!(
                            "{message} (gave up after {} attempt{})",
                            backoff.attempt,
                            if backoff.attempt == 1 { "" } else { "s" }
                        );
                        return Err(match status {
                            Some(status) => Error::Http {
                                status,
                                url: url.to_owned(),
                                message,
                            },
                            None => Error::Network {
                                url: url.to_owned(),
                                message,
                            },
                        });
                    }
                },
            }
        }
    }

    /// What an error status means. `revision` is what was asked for.
    fn classify(
        &self,
        resp: &ureq::http::Response<ureq::Body>,
        url: &str,
        revision: &str,
    ) -> Failure {
        let status = resp.status().as_u16();
        let code = header(resp, "x-error-code").unwrap_or("");
        let message = header(resp, "x-error-message")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("HTTP {status}"));
        let not_found = |detail: String| {
            Failure::Fatal(Error::NotFound {
                id: self.repo.to_owned(),
                detail,
            })
        };
        let repo_not_found = || {
            not_found(format!(
                "no repository `{}` on {} (if it is private, set HF_TOKEN to a token that can \
                 read it)",
                self.repo, self.config.endpoint
            ))
        };
        match status {
            401 | 403 if code == "RepoNotFound" => repo_not_found(),
            401 | 403 => Failure::Fatal(Error::AuthRequired {
                repo: self.repo.to_owned(),
                token_sent: self.token_for(url).is_some(),
            }),
            404 if code == "RevisionNotFound" => Failure::Fatal(Error::RevisionNotFound {
                repo: self.repo.to_owned(),
                revision: revision.to_owned(),
            }),
            404 if code == "RepoNotFound" => repo_not_found(),
            // EntryNotFound, or a bare 404: the caller decides whether the file was optional.
            404 => not_found(String::new()),
            408 | 429 | 500..=599 => Failure::Retry {
                message: format!("HTTP {status}: {message}"),
                retry_after: retry_after(resp),
                unreachable: false,
                status: Some(status),
            },
            _ => Failure::Fatal(Error::Http {
                status,
                url: url.to_owned(),
                message,
            }),
        }
    }

    /// `HEAD {endpoint}/{repo}/resolve/{revision}/{file}`.
    pub(crate) fn lookup(&self, revision: &str, file: &str) -> Result<Lookup> {
        let url = format!(
            "{}/{}/resolve/{}/{}",
            self.config.endpoint,
            self.repo,
            encode_segment(revision),
            file
        );
        self.retrying(&url, || self.lookup_once(&url, revision))
    }

    fn lookup_once(&self, first_url: &str, revision: &str) -> Result<Lookup, Failure> {
        let mut url = first_url.to_owned();
        for _ in 0..=MAX_RELATIVE_REDIRECTS {
            let mut req = self
                .meta_agent
                .head(&url)
                .header("Accept-Encoding", "identity");
            if let Some(t) = self.token_for(&url) {
                req = req.header("Authorization", format!("Bearer {t}"));
            }
            let resp = req.call().map_err(transport_failure)?;
            let status = resp.status().as_u16();
            let location = header(&resp, "location").map(str::to_owned);
            if (300..400).contains(&status) {
                // Follow redirects within the Hub (a renamed repo); a redirect elsewhere (the
                // CDN holding an LFS file) carries the metadata itself.
                if let Some(loc) = location.as_deref().filter(|l| !l.contains("://")) {
                    url = join_location(&url, loc);
                    continue;
                }
            } else if !(200..300).contains(&status) {
                let commit = header(&resp, "x-repo-commit").map(str::to_owned);
                return match self.classify(&resp, &url, revision) {
                    Failure::Fatal(Error::NotFound { detail, .. }) if detail.is_empty() => {
                        Ok(Lookup::Missing { commit })
                    }
                    f => Err(f),
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
                return Err(Failure::Fatal(Error::Http {
                    status,
                    url,
                    message: "the answer lacks X-Repo-Commit or ETag: HF_ENDPOINT does not look \
                              like a Hugging Face Hub"
                        .to_owned(),
                }));
            };
            if !layout::is_commit_hash(&commit) || layout::check_revision(&etag).is_err() {
                return Err(Failure::Fatal(Error::Http {
                    status,
                    url,
                    message: format!("unusable commit `{commit}` or etag `{etag}`"),
                }));
            }
            let url = match location {
                Some(loc) if (300..400).contains(&status) => join_location(&url, &loc),
                _ => url,
            };
            return Ok(Lookup::Found(FileMeta {
                commit,
                etag,
                size,
                url,
            }));
        }
        Err(Failure::Fatal(Error::Http {
            status: 310,
            url,
            message: "too many redirects".to_owned(),
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
        let io_fatal = |e: std::io::Error| Failure::Fatal(Error::io(incomplete, e));
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
        let resp = req.call().map_err(transport_failure)?;
        let status = resp.status().as_u16();
        match status {
            206 if offset > 0 => {
                let ok = header(&resp, "content-range")
                    .is_some_and(|r| r.starts_with(&format!("bytes {offset}-")));
                if !ok {
                    out.set_len(0).map_err(io_fatal)?;
                    return Err(Failure::Retry {
                        message: "the server resumed at the wrong offset; restarting".to_owned(),
                        retry_after: None,
                        unreachable: false,
                        status: None,
                    });
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
                return Err(Failure::Retry {
                    message: "the server refused to resume; restarting".to_owned(),
                    retry_after: None,
                    unreachable: false,
                    status: None,
                });
            }
            _ => {
                return Err(match self.classify(&resp, &meta.url, revision) {
                    Failure::Fatal(Error::NotFound { detail, .. }) if detail.is_empty() => {
                        Failure::Fatal(Error::Http {
                            status,
                            url: meta.url.clone(),
                            message: "the file vanished between the lookup and the download"
                                .to_owned(),
                        })
                    }
                    f => f,
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
                    return Err(Failure::Retry {
                        message: format!("connection lost after {have} bytes: {e}"),
                        retry_after: None,
                        unreachable: false,
                        status: None,
                    });
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
                return Err(Failure::Retry {
                    message: format!("the body ended after {have} of {size} bytes"),
                    retry_after: None,
                    unreachable: false,
                    status: None,
                });
            }
        }
        progress(have);
        Ok(have)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn retry_after_takes_seconds_and_imf_dates() {
        use std::time::{Duration, UNIX_EPOCH};
        // 784111777 = Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example).
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777);
        let p = |v| parse_retry_after(v, now);
        assert_eq!(p("120"), Some(Duration::from_secs(120)));
        assert_eq!(p(" 1.5 "), Some(Duration::from_millis(1500)));
        assert_eq!(p("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
        assert_eq!(
            p("Sun, 06 Nov 1994 08:50:07 GMT"),
            Some(Duration::from_secs(30))
        );
        // 2000-03-01T00:00:00Z is 951868800 (after a century leap day).
        assert_eq!(
            p("Wed, 01 Mar 2000 00:00:00 GMT"),
            Some(Duration::from_secs(951_868_800 - 784_111_777))
        );
        // In the past: retry now.
        assert_eq!(p("Thu, 01 Jan 1970 00:00:00 GMT"), Some(Duration::ZERO));
        for bad in [
            "-1",
            "NaN",
            "soon",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "",
        ] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }

    use super::*;

    #[test]
    fn urls_and_etags() {
        assert_eq!(encode_segment("refs/pr/1"), "refs%2Fpr%2F1");
        assert_eq!(encode_segment("main"), "main");
        assert_eq!(normalize_etag("W/\"abc\""), "abc");
        assert_eq!(normalize_etag("\"abc\""), "abc");
        assert_eq!(origin("http://h:1/a/b"), "http://h:1");
        assert_eq!(join_location("http://h:1/a/b", "/c"), "http://h:1/c");
        assert_eq!(
            join_location("http://h:1/a/b", "https://x/y"),
            "https://x/y"
        );
    }

    #[test]
    fn backoff_is_capped_and_bounded() {
        // The budget (10 s) is below the least the 9 waits could add up to (0.5 + 1 + 7 × 2 =
        // 15.5 s with the lowest jitter), so it, not the attempt count, ends the retries
        // whatever the jitter (with 20 s, all 9 fit in ~1.8% of draws — simulated — and the test failed).
        let p = RetryPolicy::new(
            10,
            Duration::from_secs(1),
            Duration::from_secs(4),
            Duration::from_secs(10),
        );
        let mut b = Backoff::new(p);
        let waits: Vec<Duration> = std::iter::from_fn(|| b.next(None, false)).collect();
        assert!(
            waits.iter().all(|w| *w <= Duration::from_secs(4)),
            "{waits:?}"
        );
        assert!(waits[0] >= Duration::from_millis(500) && waits[0] < Duration::from_secs(1));
        assert!(waits.iter().sum::<Duration>() <= Duration::from_secs(10));
        assert!(
            waits.len() < 9,
            "the budget ends it before the attempts: {waits:?}"
        );
        // Retry-After is honoured as given, and a too-long one ends the retries.
        let mut b = Backoff::new(p);
        assert_eq!(
            b.next(Some(Duration::from_secs(3)), false),
            Some(Duration::from_secs(3))
        );
        assert_eq!(b.next(Some(Duration::from_secs(30)), false), None);
        // Nothing listening: one retry only.
        let mut b = Backoff::new(p);
        assert!(b.next(None, true).is_some());
        assert!(b.next(None, true).is_none());
    }
}
