//! The HTTP machinery the Hub client ([`crate::hub`]) and the Tinker client ([`crate::client`])
//! share: one retry loop driven by a [`Policy`] (each client's policy is data, not a second
//! loop), one classification of transport errors into permanent and transient ones, one
//! `Retry-After` parser, redirect `Location`s joined as URI references, and URL checks.
//!
//! Permanent failures — a base URL that is not an `http(s)` URL, a host name that does not
//! resolve, a TLS or proxy misconfiguration — end a call at once: no retry can fix them.
//! Transient ones — refused or dropped connections, timeouts, statuses the client deems
//! retryable — are retried within the policy's attempts and time budget.

use std::time::{Duration, Instant, SystemTime};

use crate::error::Error;

/// How the wait before a retry is bounded in total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Budget {
    /// The waits add up to at most this (each attempt is bounded by its own timeouts).
    Waits(Duration),
    /// Attempts and waits together end this long after the call started; a wait that would
    /// reach the end ends the retries (the Tinker SDK's total timeout).
    Total(Duration),
}

/// How a server's `Retry-After` is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServerWait {
    /// As given, zero included (the budget still applies).
    AsGiven,
    /// When it is in `(0, max]`; otherwise the computed backoff is used (the Tinker SDK).
    Within(Duration),
}

/// A retry policy as data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Policy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The computed wait before retry `n` (from 0) is `min(base_delay·2ⁿ, max_delay)` times a
    /// random factor in `[jitter_floor, 1]`.
    pub base_delay: Duration,
    /// See [`Policy::base_delay`].
    pub max_delay: Duration,
    /// See [`Policy::base_delay`].
    pub jitter_floor: f64,
    /// How a server's `Retry-After` is used.
    pub server_wait: ServerWait,
    /// How the waits are bounded.
    pub budget: Budget,
    /// Attempts in all when no server answered at all (connection refused).
    pub unreachable_attempts: u32,
}

impl Policy {
    /// The Hub's policy ([`crate::config::RetryPolicy`]): `Retry-After` honoured as given,
    /// jitter in `[0.5, 1)`, the waits within the budget, a refused connection retried once.
    pub(crate) fn hub(p: crate::config::RetryPolicy) -> Policy {
        Policy {
            max_attempts: p.max_attempts.max(1),
            base_delay: p.base_delay,
            max_delay: p.max_delay,
            jitter_floor: 0.5,
            server_wait: ServerWait::AsGiven,
            budget: Budget::Waits(p.budget),
            unreachable_attempts: 2,
        }
    }

    /// The computed wait before retry `n` (0-based), with `jitter` in `[0, 1)`.
    pub(crate) fn backoff(&self, n: u32, jitter: f64) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << n.min(20))
            .min(self.max_delay);
        exp.mul_f64(1.0 - (1.0 - self.jitter_floor) * jitter.clamp(0.0, 1.0))
    }
}

/// Why one attempt failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Worth another attempt.
    Transient {
        /// What failed.
        message: String,
        /// The server's `Retry-After`, if any.
        retry_after: Option<Duration>,
        /// The HTTP status, when a server answered.
        status: Option<u16>,
        /// No server answered at all (connection refused).
        unreachable: bool,
    },
    /// Final: no retry can change it.
    Permanent(Error),
}

impl Failure {
    /// A transient failure with only a message.
    pub(crate) fn transient(message: impl Into<String>) -> Failure {
        Failure::Transient {
            message: message.into(),
            retry_after: None,
            status: None,
            unreachable: false,
        }
    }
}

/// What an attempt is told.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt {
    /// Retries before this attempt (0 for the first).
    pub retries: u32,
    /// The time left in a [`Budget::Total`].
    pub remaining: Option<Duration>,
}

/// A retry about to happen.
#[derive(Debug)]
pub(crate) struct Retrying<'a> {
    /// The number of the coming attempt (2 for the first retry).
    pub attempt: u32,
    /// The wait before it.
    pub wait: Duration,
    /// Why the last attempt failed.
    pub reason: &'a str,
}

/// Why a call ended without a value.
#[derive(Debug)]
pub(crate) enum Stop {
    /// A permanent failure (after `attempts` attempts, normally 1).
    Permanent(Error),
    /// Transient failures until the attempts or the budget ran out.
    GaveUp {
        /// The last failure.
        message: String,
        /// The last HTTP status, when a server answered.
        status: Option<u16>,
        /// Attempts made.
        attempts: u32,
        /// Time since the call started.
        elapsed: Duration,
    },
}

impl Stop {
    /// `"{message} (gave up after N attempts…)"`, with the elapsed time when `with_time`.
    pub(crate) fn gave_up_message(
        message: &str,
        attempts: u32,
        elapsed: Duration,
        with_time: bool,
    ) -> String {
        let s = if attempts == 1 { "" } else { "s" };
        if with_time {
            format!(
                "{message} (gave up after {attempts} attempt{s} in {:.1} s)",
                elapsed.as_secs_f64()
            )
        } else {
            format!("{message} (gave up after {attempts} attempt{s})")
        }
    }
}

/// The retry state of one logical call, separate from the loop so the waits can be checked.
#[derive(Debug)]
pub(crate) struct Backoff {
    policy: Policy,
    /// Attempts made so far.
    pub attempts: u32,
    waited: Duration,
    started: Instant,
}

impl Backoff {
    pub(crate) fn new(policy: Policy) -> Self {
        Backoff {
            policy,
            attempts: 0,
            waited: Duration::ZERO,
            started: Instant::now(),
        }
    }

    /// The time left in a [`Budget::Total`].
    pub(crate) fn remaining(&self) -> Option<Duration> {
        match self.policy.budget {
            Budget::Total(total) => Some(total.saturating_sub(self.started.elapsed())),
            Budget::Waits(_) => None,
        }
    }

    /// Records a failed attempt; the wait before the next one, or `None` when the attempts or
    /// the budget are spent.
    pub(crate) fn next(
        &mut self,
        retry_after: Option<Duration>,
        unreachable: bool,
        jitter: f64,
    ) -> Option<Duration> {
        self.attempts += 1;
        let max = if unreachable {
            self.policy
                .max_attempts
                .min(self.policy.unreachable_attempts)
        } else {
            self.policy.max_attempts
        };
        if self.attempts >= max {
            return None;
        }
        let computed = || self.policy.backoff(self.attempts - 1, jitter);
        let wait = match self.policy.server_wait {
            ServerWait::AsGiven => retry_after.unwrap_or_else(computed),
            ServerWait::Within(max) => retry_after
                .filter(|d| !d.is_zero() && *d <= max)
                .unwrap_or_else(computed),
        };
        match self.policy.budget {
            Budget::Waits(budget) if self.waited + wait > budget => return None,
            Budget::Total(_) if self.remaining().is_some_and(|left| wait >= left) => return None,
            _ => {}
        }
        self.waited += wait;
        Some(wait)
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Runs `attempt` until it succeeds, fails permanently, or the policy's retries are spent;
/// `on_retry` hears of each retry before its wait.
pub(crate) fn retry<T>(
    policy: Policy,
    mut attempt: impl FnMut(Attempt) -> Result<T, Failure>,
    mut on_retry: impl FnMut(&Retrying<'_>),
) -> Result<T, Stop> {
    let mut backoff = Backoff::new(policy);
    loop {
        let remaining = backoff.remaining();
        let outcome = if remaining.is_some_and(|r| r.is_zero()) {
            Err(Failure::transient("out of time"))
        } else {
            attempt(Attempt {
                retries: backoff.attempts,
                remaining,
            })
        };
        match outcome {
            Ok(v) => return Ok(v),
            Err(Failure::Permanent(e)) => return Err(Stop::Permanent(e)),
            Err(Failure::Transient {
                message,
                retry_after,
                status,
                unreachable,
            }) => match backoff.next(retry_after, unreachable, jitter_fraction()) {
                Some(wait) => {
                    on_retry(&Retrying {
                        attempt: backoff.attempts + 1,
                        wait,
                        reason: &message,
                    });
                    std::thread::sleep(wait);
                }
                None => {
                    return Err(Stop::GaveUp {
                        message,
                        status,
                        attempts: backoff.attempts,
                        elapsed: backoff.elapsed(),
                    })
                }
            },
        }
    }
}

/// What a transport-level error (no HTTP status) means.
#[derive(Debug)]
pub(crate) enum Transport {
    /// The URL itself is unusable (not `http(s)://host…`): a configuration error.
    BadUrl(String),
    /// Cannot succeed on retry: the host name does not resolve, TLS or proxy set-up failed.
    Permanent(String),
    /// Worth retrying; `unreachable` when no server answered at all.
    Transient { message: String, unreachable: bool },
}

/// Sorts a ureq error into [`Transport`].
pub(crate) fn classify_transport(e: ureq::Error) -> Transport {
    use ureq::Error as E;
    match e {
        E::BadUri(m) => Transport::BadUrl(m),
        E::Http(e) => Transport::BadUrl(e.to_string()),
        E::HostNotFound => Transport::Permanent("the host name does not resolve".to_owned()),
        // The system resolver's answer (std words it "failed to lookup address information").
        E::Io(io) if io.to_string().contains("failed to lookup address") => {
            Transport::Permanent(format!("the host name does not resolve ({io})"))
        }
        E::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => Transport::Transient {
            message: io.to_string(),
            unreachable: true,
        },
        e @ (E::Tls(_)
        | E::Pem(_)
        | E::Rustls(_)
        | E::InvalidProxyUrl
        | E::RequireHttpsOnly(_)
        | E::TlsRequired
        | E::ConnectProxyFailed(_)) => Transport::Permanent(e.to_string()),
        E::ConnectionFailed => Transport::Transient {
            message: E::ConnectionFailed.to_string(),
            unreachable: true,
        },
        e => Transport::Transient {
            message: e.to_string(),
            unreachable: false,
        },
    }
}

/// Checks that `url` can be a base URL: absolute, `http` or `https`, with a host. `Err` says
/// what is wrong.
pub(crate) fn check_base_url(url: &str) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("`{url}` is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "`{url}` is not an http:// or https:// URL (scheme `{}`)",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{url}` has no host"));
    }
    Ok(parsed)
}

/// Resolves a redirect's `Location` against the URL it answered (RFC 3986 §5: absolute,
/// scheme-relative `//host/path`, absolute-path and relative references).
pub(crate) fn join_location(base: &str, location: &str) -> Result<String, String> {
    let base = url::Url::parse(base).map_err(|e| format!("`{base}`: {e}"))?;
    base.join(location.trim())
        .map(String::from)
        .map_err(|e| format!("redirect to `{location}` is not a URL ({e})"))
}

/// Whether a `Location` is a reference without scheme or host (`/path`, `path`, `?q`): one
/// that stays on the server that sent it.
pub(crate) fn is_path_reference(location: &str) -> bool {
    let l = location.trim();
    !l.starts_with("//")
        && matches!(
            url::Url::parse(l),
            Err(url::ParseError::RelativeUrlWithoutBase)
        )
}

/// `scheme://host[:port]` of a URL (the default port made explicit), for same-origin checks;
/// `None` when it is not a URL.
pub(crate) fn origin(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    Some(format!(
        "{}://{}:{}",
        u.scheme(),
        u.host_str()?,
        u.port_or_known_default()?
    ))
}

/// A response header's trimmed, non-empty value.
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

/// A server's requested wait: `retry-after-ms` (milliseconds, a Stainless extension the Tinker
/// API sends), else `Retry-After` ([`parse_retry_after`]).
pub(crate) fn server_retry_after(resp: &ureq::http::Response<ureq::Body>) -> Option<Duration> {
    header(resp, "retry-after-ms")
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .or_else(|| {
            header(resp, "retry-after").and_then(|v| parse_retry_after(v, SystemTime::now()))
        })
}

/// A `Retry-After` value (RFC 9110 §10.2.3): delay-seconds (a fraction accepted, as the Python
/// SDKs do), or an HTTP-date in any of the three forms a recipient must accept (IMF-fixdate,
/// RFC 850, asctime; §5.6.7), which becomes the time left until then (zero if it has passed).
/// Anything else counts as absent.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A number in `[0, 1)` for jitter and keys, without a dependency.
pub(crate) fn jitter_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so `s` is exactly one path
/// segment (a revision like `refs/pr/1` becomes `refs%2Fpr%2F1`, as huggingface_hub's
/// `quote(…, safe="")` does; a sampler id's `:` becomes `%3A`).
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

/// `encode_segment` of each `/`-separated segment of `path`, joined by `/`.
pub(crate) fn encode_path(path: &str) -> String {
    path.split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn retry_after_takes_seconds_and_all_three_http_date_forms() {
        // 784111777 = Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example).
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777);
        let p = |v| parse_retry_after(v, now);
        assert_eq!(p("120"), Some(Duration::from_secs(120)));
        assert_eq!(p(" 1.5 "), Some(Duration::from_millis(1500)));
        // RFC 9110 §5.6.7's three forms of the same instant.
        for same in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(p(same), Some(Duration::ZERO), "{same:?}");
        }
        for later in [
            "Sun, 06 Nov 1994 08:50:07 GMT",
            "Sunday, 06-Nov-94 08:50:07 GMT",
            "Sun Nov  6 08:50:07 1994",
        ] {
            assert_eq!(p(later), Some(Duration::from_secs(30)), "{later:?}");
        }
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
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "",
        ] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn locations_are_joined_as_uri_references() {
        let base = "http://h:1/a/b?x=1";
        let j = |l| join_location(base, l).unwrap();
        assert_eq!(j("/c"), "http://h:1/c");
        assert_eq!(j("c/d"), "http://h:1/a/c/d");
        assert_eq!(j("../c"), "http://h:1/c");
        assert_eq!(j("https://x/y"), "https://x/y");
        // Scheme-relative: another host, not a path on this one.
        assert_eq!(j("//cdn.example/f?sig=1"), "http://cdn.example/f?sig=1");
        assert!(join_location("not a url", "/x").is_err());
        assert!(is_path_reference("/api/models/x"));
        assert!(is_path_reference("x/y"));
        assert!(!is_path_reference("//cdn.example/f"));
        assert!(!is_path_reference("https://cdn.example/f"));
        assert_eq!(origin("http://h:1/a/b").as_deref(), Some("http://h:1"));
        assert_eq!(
            origin("https://huggingface.co/x"),
            origin("https://huggingface.co:443/y")
        );
        assert_ne!(origin("http://h:1/"), origin("http://h:2/"));
    }

    #[test]
    fn base_urls_are_checked() {
        assert!(check_base_url("http://127.0.0.1:8000").is_ok());
        assert!(check_base_url("https://huggingface.co").is_ok());
        for bad in ["not-a-url", "ftp://h/x", "http://", "huggingface.co", ""] {
            assert!(check_base_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode_segment("refs/pr/1"), "refs%2Fpr%2F1");
        assert_eq!(encode_segment("main"), "main");
        assert_eq!(encode_segment("s:sample:0"), "s%3Asample%3A0");
        assert_eq!(encode_path("a#b/c?d e"), "a%23b/c%3Fd%20e");
    }

    fn hub_policy(budget_secs: u64) -> Policy {
        Policy::hub(crate::config::RetryPolicy::new(
            10,
            Duration::from_secs(1),
            Duration::from_secs(4),
            Duration::from_secs(budget_secs),
        ))
    }

    #[test]
    fn hub_backoff_is_capped_and_bounded() {
        // The budget (10 s) is below the least the 9 waits could add up to (0.5 + 1 + 7 × 2 =
        // 15.5 s with the lowest jitter), so it, not the attempt count, ends the retries.
        let mut b = Backoff::new(hub_policy(10));
        let waits: Vec<Duration> =
            std::iter::from_fn(|| b.next(None, false, jitter_fraction())).collect();
        assert!(
            waits.iter().all(|w| *w <= Duration::from_secs(4)),
            "{waits:?}"
        );
        assert!(waits[0] >= Duration::from_millis(500) && waits[0] <= Duration::from_secs(1));
        assert!(waits.iter().sum::<Duration>() <= Duration::from_secs(10));
        assert!(waits.len() < 9, "the budget ends it: {waits:?}");
        // Retry-After is honoured as given, and a too-long one ends the retries.
        let mut b = Backoff::new(hub_policy(10));
        assert_eq!(
            b.next(Some(Duration::from_secs(3)), false, 0.0),
            Some(Duration::from_secs(3))
        );
        assert_eq!(b.next(Some(Duration::from_secs(30)), false, 0.0), None);
        // Nothing listening: one retry only.
        let mut b = Backoff::new(hub_policy(10));
        assert!(b.next(None, true, 0.0).is_some());
        assert!(b.next(None, true, 0.0).is_none());
    }

    #[test]
    fn tinker_policy_is_the_sdks() {
        let r = crate::client::RetryConfig::default();
        let p = r.policy();
        // 0.5 + 1 + 2 + 4 + 8 + 5 × 10 s without jitter; jitter shortens by at most 25 %.
        let waits: Duration = (0..r.max_retries).map(|n| p.backoff(n, 0.0)).sum();
        assert_eq!(waits, Duration::from_millis(65_500));
        assert_eq!(
            p.backoff(0, 0.999),
            Duration::from_millis(500).mul_f64(1.0 - 0.25 * 0.999)
        );
        // A zero or too-long retry-after falls back to the computed wait.
        let mut b = Backoff::new(p);
        assert_eq!(
            b.next(Some(Duration::ZERO), false, 0.0),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            b.next(Some(Duration::from_secs(61)), false, 0.0),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            b.next(Some(Duration::from_secs(7)), false, 0.0),
            Some(Duration::from_secs(7))
        );
        // A refused connection keeps the SDK's whole budget (it retries connection errors).
        let mut b = Backoff::new(p);
        assert!(b.next(None, true, 0.0).is_some());
        assert!(b.next(None, true, 0.0).is_some());
    }

    #[test]
    fn the_loop_stops_at_a_permanent_failure_and_counts_attempts() {
        let fast = Policy::hub(crate::config::RetryPolicy::new(
            4,
            Duration::from_millis(1),
            Duration::from_millis(2),
            Duration::from_secs(1),
        ));
        let mut n = 0;
        let r: Result<(), Stop> = retry(
            fast,
            |_| {
                n += 1;
                Err(Failure::Permanent(Error::InvalidInput("x".into())))
            },
            |_| {},
        );
        assert!(matches!(r, Err(Stop::Permanent(_))));
        assert_eq!(n, 1);
        let mut seen = Vec::new();
        let r: Result<(), Stop> = retry(
            fast,
            |a| {
                seen.push(a.retries);
                Err(Failure::transient("busy"))
            },
            |_| {},
        );
        assert!(matches!(r, Err(Stop::GaveUp { attempts: 4, .. })), "{r:?}");
        assert_eq!(seen, [0, 1, 2, 3]);
    }
}
