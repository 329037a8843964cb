//! One HTTP client for the whole tool, a retry policy shared by every service client,
//! bounded body reads, and transfer progress lines.
//!
//! TLS is rustls with the ring provider (no OpenSSL, no C toolchain beyond ring's own
//! assembly); the provider is installed once, on first use.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::sync::Once;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

static TLS_PROVIDER: Once = Once::new();

pub const USER_AGENT: &str = concat!("release-audit/", env!("CARGO_PKG_VERSION"));

/// The client every service module uses. It follows no redirects on its own: a
/// redirect to a blob host must not carry our token, so callers follow them explicitly.
pub fn client() -> reqwest::Client {
    TLS_PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(120))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("the HTTP client builds with static settings")
}

/// Exponential backoff with jitter, as the official artifact client does it
/// (5 attempts, 3 s × 1.5ⁿ).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub multiplier: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 5, base: Duration::from_secs(3), multiplier: 1.5 }
    }
}

impl RetryPolicy {
    /// The default policy; `RELEASE_AUDIT_RETRY_BASE_MS` shortens the base delay
    /// (the test suite uses it so that retry tests take milliseconds, not seconds).
    pub fn from_env() -> Self {
        let mut policy = RetryPolicy::default();
        if let Some(ms) = std::env::var("RELEASE_AUDIT_RETRY_BASE_MS").ok().and_then(|v| v.parse::<u64>().ok()) {
            policy.base = Duration::from_millis(ms);
        }
        policy
    }

    /// Delay before attempt `attempt + 1` (attempt counts from 1), jittered ±20 %.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = self.multiplier.powi(attempt.saturating_sub(1) as i32);
        let mut jitter = [0u8; 1];
        let _ = getrandom::fill(&mut jitter);
        let jitter = 0.8 + (jitter[0] as f64 / 255.0) * 0.4;
        self.base.mul_f64(factor * jitter)
    }
}

/// One failed attempt: what went wrong and whether another attempt may help.
#[derive(Debug)]
pub struct Attempt<E> {
    pub error: E,
    pub retryable: bool,
    /// How to wait before the next attempt.
    pub wait: Wait,
}

/// The wait before another attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The policy's backoff.
    Backoff,
    /// At least this long (a server's `Retry-After`), never less than the backoff.
    AtLeast(Duration),
    /// At once, and not counted as an attempt: the request changed (e.g. an
    /// authentication challenge was answered). At most `max_attempts` such retries.
    Immediately,
}

impl<E> Attempt<E> {
    pub fn retry(error: E) -> Self {
        Attempt { error, retryable: true, wait: Wait::Backoff }
    }

    pub fn fatal(error: E) -> Self {
        Attempt { error, retryable: false, wait: Wait::Backoff }
    }

    /// Retryable, waiting at least what the server asked for (when it asked).
    pub fn retry_after(error: E, at_least: Option<Duration>) -> Self {
        Attempt { error, retryable: true, wait: at_least.map_or(Wait::Backoff, Wait::AtLeast) }
    }

    /// The judgement on a refused answer, the same for every client: [`judge`].
    pub fn judged(error: E, status: u16, body: &str, headers: &reqwest::header::HeaderMap) -> Self {
        if is_retryable(status, body) {
            Attempt::retry_after(error, retry_after(headers))
        } else {
            Attempt::fatal(error)
        }
    }

    /// Try again at once with a changed request; see [`Wait::Immediately`].
    pub fn again(error: E) -> Self {
        Attempt { error, retryable: true, wait: Wait::Immediately }
    }

    /// The same attempt with its error wrapped.
    pub fn map<F>(self, f: impl FnOnce(E) -> F) -> Attempt<F> {
        Attempt { error: f(self.error), retryable: self.retryable, wait: self.wait }
    }
}

/// How a retried operation ended without success: the last error, after how many
/// attempts, and whether it stopped only because the attempts ran out.
#[derive(Debug)]
pub struct GaveUp<E> {
    pub error: E,
    pub attempts: u32,
    pub exhausted: bool,
}

/// The one retry loop of the tool's service clients: runs `attempt` until it succeeds,
/// fails for good, or `policy` runs out, sleeping the backoff delay in between and
/// logging each retry. Each caller decides what is retryable; the loop only counts.
pub async fn with_retries<T, E, F, Fut>(policy: RetryPolicy, mut attempt: F) -> Result<T, GaveUp<E>>
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Attempt<E>>>,
{
    let mut attempts = 0;
    let mut free = 0;
    loop {
        attempts += 1;
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(Attempt { wait: Wait::Immediately, retryable: true, .. }) if free < policy.max_attempts => {
                free += 1;
                attempts -= 1;
            }
            Err(Attempt { error, retryable: true, wait }) if attempts < policy.max_attempts => {
                let delay = match wait {
                    Wait::AtLeast(d) => d.max(policy.delay(attempts)),
                    _ => policy.delay(attempts),
                };
                log::warn!("{error}; retrying in {:.1} s ({attempts}/{})", delay.as_secs_f64(), policy.max_attempts);
                tokio::time::sleep(delay).await;
            }
            Err(Attempt { error, retryable, .. }) => return Err(GaveUp { error, attempts, exhausted: retryable }),
        }
    }
}

/// Sends the request `build` makes (called again for every attempt, with the attempt
/// number from 1) through [`with_retries`], retrying broken connections and the
/// statuses every service asks clients to retry (429, 500, 502, 503, 504). Any other
/// answer — and the last retryable one when the attempts run out — is returned as it
/// is, for the caller to judge; a connection still broken after the last attempt is
/// an error. A `build` error (e.g. a file that cannot be opened) ends it at once.
pub async fn send_with_retries<F, Fut>(what: &str, policy: RetryPolicy, mut build: F) -> Result<reqwest::Response>
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = Result<reqwest::RequestBuilder>>,
{
    enum Failed {
        Answer(String, reqwest::Response),
        Broken(String, String),
        Setup(Error),
    }
    impl std::fmt::Display for Failed {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                Failed::Answer(what, r) => write!(f, "{what}: HTTP {}", r.status().as_u16()),
                Failed::Broken(what, e) => write!(f, "{what}: {e}"),
                Failed::Setup(e) => write!(f, "{e}"),
            }
        }
    }
    let mut attempt = 0;
    let outcome = with_retries(policy, || {
        attempt += 1;
        let request = build(attempt);
        async move {
            let request = request.await.map_err(|e| Attempt::fatal(Failed::Setup(e)))?;
            match request.send().await {
                Ok(r) if is_retryable(r.status().as_u16(), "") => {
                    let wait = retry_after(r.headers());
                    Err(Attempt::retry_after(Failed::Answer(what.to_string(), r), wait))
                }
                Ok(r) => Ok(r),
                Err(e) => Err(Attempt::retry(Failed::Broken(what.to_string(), without_url(&e)))),
            }
        }
    })
    .await;
    match outcome {
        Ok(r) => Ok(r),
        Err(GaveUp { error: Failed::Answer(_, r), .. }) => Ok(r),
        Err(GaveUp { error: Failed::Broken(_, e), attempts, .. }) => Err(Error::service(
            what,
            format!("{e} (gave up after {attempts} attempts)"),
            "check the network and the endpoint, then run again",
        )),
        Err(GaveUp { error: Failed::Setup(e), .. }) => Err(e),
    }
}

/// The longest wait a `Retry-After` can ask for: a server asking for more is waited on
/// this long, then the retry policy's attempts decide.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// A server's `Retry-After` (seconds, or an HTTP date), at most [`MAX_RETRY_AFTER`].
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
            (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().unwrap_or_default()
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// What a refused answer means for the retry loop: the one decision every client
/// (REST, artifacts, blob, registry, storage) takes from [`judge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// Worth another attempt, waiting at least this long when the server said so.
    Retry(Option<Duration>),
    /// Final: another attempt would get the same answer.
    Final,
}

impl Judgement {
    pub fn retries(self) -> bool {
        matches!(self, Judgement::Retry(_))
    }
}

/// The one classifier of refused answers, from the status, the headers and (the start
/// of) the body:
/// - 429, 500, 502, 503, 504: retried, after the server's `Retry-After` when it sent one;
/// - a 403 from an intermediary (GitHub's front end, `Error from intermediary`): retried;
/// - GitHub's primary rate limit (`x-ratelimit-remaining: 0`, on 403 or 429): retried
///   only when it resets within [`MAX_RETRY_AFTER`], waiting until then; otherwise final
///   (an hour's wait is not a retry);
/// - GitHub's secondary rate limit (a 403 whose message says so): retried after its
///   `Retry-After`, or after [`MAX_RETRY_AFTER`];
/// - everything else: final.
///
/// Pinned by the table test `every_refusal_is_judged_by_one_table`.
pub fn judge(status: u16, headers: &reqwest::header::HeaderMap, body: &str) -> Judgement {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let wait = retry_after(headers);
    if matches!(status, 403 | 429) && header("x-ratelimit-remaining") == Some("0") {
        let reset = header("x-ratelimit-reset").and_then(|r| r.parse::<i64>().ok());
        let until = reset.map(|r| r - chrono::Utc::now().timestamp());
        return match (wait, until) {
            (Some(w), _) => Judgement::Retry(Some(w)),
            (None, Some(secs)) if secs <= MAX_RETRY_AFTER.as_secs() as i64 => {
                Judgement::Retry(Some(Duration::from_secs(secs.max(0) as u64)))
            }
            _ => Judgement::Final,
        };
    }
    let mut end = body.len().min(4096);
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    let lower = body[..end].to_ascii_lowercase();
    match status {
        429 | 500 | 502 | 503 | 504 => Judgement::Retry(wait),
        403 if lower.contains("intermediary") => Judgement::Retry(wait),
        403 if lower.contains("secondary rate limit") => Judgement::Retry(Some(wait.unwrap_or(MAX_RETRY_AFTER))),
        _ => Judgement::Final,
    }
}

/// Whether an HTTP answer is worth another try, by [`judge`] (for callers that have
/// no headers: a status and the body).
pub fn is_retryable(status: u16, body: &str) -> bool {
    judge(status, &reqwest::header::HeaderMap::new(), body).retries()
}

/// Reads at most `limit` bytes of a response body; more is an error naming `what`.
pub async fn read_bounded(mut response: reqwest::Response, limit: usize, what: &str) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        Error::service(what, format!("reading the answer failed: {}", without_url(&e)), "try again; check the network")
    })? {
        if body.len() + chunk.len() > limit {
            return Err(Error::service(
                what,
                format!("answer is larger than {limit} bytes"),
                "this is not an answer the service gives; check the URL",
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A reqwest error's text without the URL it carries (a signed URL is a secret).
pub fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), &crate::secret::redact_url(url.as_str()));
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Logs a transfer's progress at most every few seconds.
pub struct Progress {
    what: String,
    total: Option<u64>,
    done: u64,
    last: Instant,
    started: Instant,
}

impl Progress {
    const EVERY: Duration = Duration::from_secs(5);

    pub fn new(what: impl Into<String>, total: Option<u64>) -> Self {
        let now = Instant::now();
        Progress { what: what.into(), total, done: 0, last: now, started: now }
    }

    pub fn add(&mut self, bytes: u64) {
        self.done += bytes;
        if self.last.elapsed() >= Self::EVERY {
            self.last = Instant::now();
            log::info!("{}", self.line());
        }
    }

    pub fn finish(&self) {
        log::info!("{} in {:.1} s", self.line(), self.started.elapsed().as_secs_f64());
    }

    fn line(&self) -> String {
        match self.total {
            Some(total) if total > 0 => {
                format!(
                    "{}: {} of {} ({:.0} %)",
                    self.what,
                    human_bytes(self.done),
                    human_bytes(total),
                    self.done as f64 * 100.0 / total as f64
                )
            }
            _ => format!("{}: {}", self.what, human_bytes(self.done)),
        }
    }
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

/// RFC 3986 unreserved characters pass; everything else is encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
/// The same, and `/` passes too (object keys as paths).
const UNRESERVED_AND_SLASH: &AsciiSet = &UNRESERVED.remove(b'/');

/// Percent-encodes everything but RFC 3986 unreserved characters (and `/` when
/// `keep_slash`): the encoding S3's signature, GCS's object paths and GitHub's routes
/// (a tag in `compare/{base}...{head}`) expect.
pub fn percent_encode(s: &str, keep_slash: bool) -> String {
    let set = if keep_slash { UNRESERVED_AND_SLASH } else { UNRESERVED };
    utf8_percent_encode(s, set).to_string()
}

#[cfg(test)]
mod tests {

    #[test]
    fn every_refusal_is_judged_by_one_table() {
        let now = chrono::Utc::now().timestamp();
        let soon = (now + 20).to_string();
        let later = (now + 3600).to_string();
        let none: &[(&str, &str)] = &[];
        type Case<'a> = (u16, &'a [(&'a str, &'a str)], &'a str, Judgement);
        let cases: &[Case] = &[
            (404, none, "Not Found", Judgement::Final),
            (400, none, "bad", Judgement::Final),
            (401, none, "", Judgement::Final),
            (409, none, "", Judgement::Final),
            (412, none, "", Judgement::Final),
            (422, none, "", Judgement::Final),
            (429, none, "", Judgement::Retry(None)),
            (429, &[("retry-after", "5")], "", Judgement::Retry(Some(Duration::from_secs(5)))),
            (500, none, "", Judgement::Retry(None)),
            (502, none, "<html>bad gateway", Judgement::Retry(None)),
            (503, &[("retry-after", "2")], "", Judgement::Retry(Some(Duration::from_secs(2)))),
            (504, none, "", Judgement::Retry(None)),
            (501, none, "", Judgement::Final),
            // GitHub's front end, sporadically.
            (403, none, "403 Forbidden: Error from intermediary", Judgement::Retry(None)),
            (403, none, "Resource not accessible by integration", Judgement::Final),
            // Secondary rate limits: after Retry-After, or a minute.
            (403, none, "You have exceeded a secondary rate limit.", Judgement::Retry(Some(MAX_RETRY_AFTER))),
            (
                403,
                &[("retry-after", "7")],
                "You have exceeded a secondary rate limit",
                Judgement::Retry(Some(Duration::from_secs(7))),
            ),
            // The primary rate limit: a wait until the reset, only when it is near.
            (
                403,
                &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", &later)],
                "API rate limit exceeded",
                Judgement::Final,
            ),
            (429, &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", &later)], "", Judgement::Final),
            (403, &[("x-ratelimit-remaining", "0")], "API rate limit exceeded", Judgement::Final),
            (403, &[("x-ratelimit-remaining", "12")], "Resource not accessible", Judgement::Final),
            // A truncated or empty body decides nothing by itself.
            (503, none, "", Judgement::Retry(None)),
            (403, none, "", Judgement::Final),
        ];
        for (status, headers, body, expected) in cases {
            let mut map = reqwest::header::HeaderMap::new();
            for (k, v) in *headers {
                map.insert(reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
            }
            assert_eq!(judge(*status, &map, body), *expected, "{status} {headers:?} {body:?}");
            assert_eq!(is_retryable(*status, body), judge(*status, &reqwest::header::HeaderMap::new(), body).retries());
        }
        let mut near = reqwest::header::HeaderMap::new();
        near.insert("x-ratelimit-remaining", "0".parse().unwrap());
        near.insert("x-ratelimit-reset", soon.parse().unwrap());
        match judge(403, &near, "API rate limit exceeded") {
            Judgement::Retry(Some(w)) => assert!(w > Duration::from_secs(15) && w <= Duration::from_secs(20), "{w:?}"),
            other => panic!("a reset 20 s away is waited for: {other:?}"),
        }
        // A body is read only so far: a megabyte of it changes nothing.
        let huge = format!("{}intermediary", "x".repeat(1 << 20));
        assert_eq!(judge(403, &reqwest::header::HeaderMap::new(), &huge), Judgement::Final);
        // …also when a character straddles the bound.
        let straddling = format!("{}éintermediary", "x".repeat(4095));
        assert_eq!(judge(403, &reqwest::header::HeaderMap::new(), &straddling), Judgement::Final);
        let early = format!("intermediary{}é", "x".repeat(4083));
        assert_eq!(judge(403, &reqwest::header::HeaderMap::new(), &early), Judgement::Retry(None));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_is_capped() {
        let headers = |v: &str| {
            let mut h = reqwest::header::HeaderMap::new();
            h.insert(reqwest::header::RETRY_AFTER, v.parse().unwrap());
            h
        };
        assert_eq!(retry_after(&headers("7")), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(&headers("86400")), Some(MAX_RETRY_AFTER));
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let wait = retry_after(&headers(&soon)).unwrap();
        assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30), "{wait:?}");
        assert_eq!(retry_after(&headers("Wed, 21 Oct 2015 07:28:00 GMT")), Some(Duration::ZERO), "a past date");
        assert_eq!(retry_after(&headers("soon")), None);
        assert_eq!(retry_after(&reqwest::header::HeaderMap::new()), None);
        let judged = Attempt::judged("x", 429, "", &headers("3"));
        assert!(judged.retryable && judged.wait == Wait::AtLeast(Duration::from_secs(3)));
        assert!(!Attempt::judged("x", 404, "", &headers("3")).retryable);
    }

    use super::*;

    #[test]
    fn retryable_answers_match_the_official_client_plus_intermediary_403() {
        for s in [429, 500, 502, 503, 504] {
            assert!(is_retryable(s, ""));
        }
        assert!(is_retryable(403, "403 Forbidden: Error from intermediary"));
        assert!(!is_retryable(403, "Resource not accessible by integration"));
        assert!(!is_retryable(409, ""));
        assert!(!is_retryable(400, ""));
    }

    #[test]
    fn backoff_grows_by_the_multiplier() {
        let p = RetryPolicy { max_attempts: 5, base: Duration::from_millis(1000), multiplier: 1.5 };
        let d1 = p.delay(1).as_millis();
        let d3 = p.delay(3).as_millis();
        assert!((800..=1200).contains(&d1), "{d1}");
        assert!((1800..=2700).contains(&d3), "{d3}");
    }

    #[tokio::test]
    async fn the_retry_loop_stops_on_success_on_a_fatal_error_or_when_attempts_run_out() {
        let policy = RetryPolicy { max_attempts: 5, base: Duration::ZERO, multiplier: 1.5 };
        let mut calls = 0;
        let ok: Result<u32, GaveUp<String>> = with_retries(policy, || {
            calls += 1;
            let n = calls;
            async move { if n < 3 { Err(Attempt::retry(format!("try {n}"))) } else { Ok(n) } }
        })
        .await;
        assert_eq!(ok.unwrap(), 3);

        let mut calls = 0;
        let fatal = with_retries(policy, || {
            calls += 1;
            async { Err::<(), _>(Attempt::fatal("no".to_string())) }
        })
        .await
        .unwrap_err();
        assert_eq!((calls, fatal.attempts, fatal.exhausted), (1, 1, false));

        let mut calls = 0;
        let exhausted = with_retries(policy, || {
            calls += 1;
            async { Err::<(), _>(Attempt::retry("busy".to_string())) }
        })
        .await
        .unwrap_err();
        assert_eq!((calls, exhausted.attempts, exhausted.exhausted, exhausted.error.as_str()), (5, 5, true, "busy"));
    }

    #[tokio::test]
    async fn an_answered_challenge_retries_at_once_without_using_an_attempt() {
        let policy = RetryPolicy { max_attempts: 2, base: Duration::ZERO, multiplier: 1.5 };
        let mut calls = 0;
        let result = with_retries(policy, || {
            calls += 1;
            let n = calls;
            async move {
                match n {
                    1 => Err(Attempt::again("401, challenge answered".to_string())),
                    2 => Err(Attempt::retry_after("503".to_string(), Some(Duration::from_millis(1)))),
                    _ => Ok(n),
                }
            }
        })
        .await;
        assert_eq!(result.unwrap(), 3, "the free retry did not count against the two attempts");
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(200 * 1024 * 1024), "200.0 MiB");
    }
}
