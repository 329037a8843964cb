//! One HTTP client for the whole tool, a retry policy shared by every service client,
//! bounded body reads, and transfer progress lines.
//!
//! TLS is rustls with the ring provider (no OpenSSL, no C toolchain beyond ring's own
//! assembly); the provider is installed once, on first use.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::sync::Once;
use std::time::{Duration, Instant};

use crate::error::{Error, Refusal, Result};

static TLS_PROVIDER: Once = Once::new();

pub const USER_AGENT: &str = concat!("release-audit/", env!("CARGO_PKG_VERSION"));

/// The variable that shortens the retry policy's base delay, in milliseconds (the test
/// suite sets it so that retry tests take milliseconds, not seconds). Read only by
/// [`Net::from_env`].
pub const RETRY_BASE_VARIABLE: &str = "RELEASE_AUDIT_RETRY_BASE_MS";

/// How the tool talks to the network, built once per command from the settings
/// ([`Net::from_env`], at each command's entry) and handed to every service client:
/// the one HTTP client (with the connect and read timeouts of [`Limits`]), the retry
/// policy every client's [`with_retries`] runs under, and the whole-request limits.
#[derive(Debug, Clone)]
pub struct Net {
    pub client: reqwest::Client,
    pub retry: RetryPolicy,
    pub limits: Limits,
}

/// The time limits of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Establishing a connection.
    pub connect: Duration,
    /// Between two reads of an answer (a stalled transfer ends after this long).
    pub read: Duration,
    /// One GitHub API request as a whole, body included (REST, GraphQL; see
    /// `github::rest::Rest::bounded_by`): a stalled API ends with an error naming the host.
    pub api_request: Duration,
    /// One registry request as a whole, body included.
    pub registry_request: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect: Duration::from_secs(30),
            read: Duration::from_secs(120),
            api_request: Duration::from_secs(120),
            registry_request: Duration::from_secs(300),
        }
    }
}

impl Net {
    /// The network settings of a command, from its environment: the default retry
    /// policy, its base delay shortened by [`RETRY_BASE_VARIABLE`] when set, and the
    /// default [`Limits`]. The one place that variable is read.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let mut retry = RetryPolicy::default();
        if let Some(ms) = env(RETRY_BASE_VARIABLE).and_then(|v| v.trim().parse::<u64>().ok()) {
            retry.base = Duration::from_millis(ms);
        }
        Net::with(retry, Limits::default())
    }

    /// Network settings with this retry policy and these limits.
    pub fn with(retry: RetryPolicy, limits: Limits) -> Self {
        Net { client: build_client(&limits), retry, limits }
    }
}

impl Default for Net {
    /// The default policy and limits, whatever the environment says (tests, embedders).
    fn default() -> Self {
        Net::with(RetryPolicy::default(), Limits::default())
    }
}

/// The client every service module uses. It follows no redirects on its own: a
/// redirect to a blob host must not carry our token, so callers follow them explicitly.
fn build_client(limits: &Limits) -> reqwest::Client {
    TLS_PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(limits.connect)
        .read_timeout(limits.read)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("the HTTP client builds with static settings")
}

/// Exponential backoff with jitter, as the official artifact client does it
/// (5 attempts, 3 s × 1.5ⁿ).
#[derive(Debug, Clone, Copy, PartialEq)]
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
    pub fn judged(error: E, refusal: &Refusal, headers: &reqwest::header::HeaderMap) -> Self {
        match judge(refusal, headers) {
            Judgement::Retry(wait) => Attempt::retry_after(error, wait),
            Judgement::Final => Attempt::fatal(error),
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
                Ok(r) if is_retryable(r.status().as_u16()) => {
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

/// The one classifier of refused answers, from the status, the headers and the service's
/// refusal as its wire decoder read it (the decoders — `github::rest::decode_refusal`,
/// `github::artifacts::decode_twirp`, `github::blob::decode_azure`,
/// `registry::client::decode_oci`, the storage clients — are the only code that reads
/// an answer's text; this function reads no text):
/// - a quota the service says is used up ([`Refusal::QUOTA_EXHAUSTED`]): final, whatever
///   the status (another attempt gets the same answer);
/// - GitHub's primary rate limit (`x-ratelimit-remaining: 0`, on 403 or 429): retried
///   only when it resets within [`MAX_RETRY_AFTER`], waiting until then; otherwise final
///   (an hour's wait is not a retry);
/// - 429, 500, 502, 503, 504: retried, after the server's `Retry-After` when it sent one;
/// - a 403 from an intermediary ([`Refusal::INTERMEDIARY`], GitHub's front end): retried;
/// - GitHub's secondary rate limit (a 403 with [`Refusal::SECONDARY_RATE_LIMIT`]):
///   retried after its `Retry-After`, or after [`MAX_RETRY_AFTER`];
/// - everything else: final.
///
/// Pinned by the table test `every_refusal_is_judged_by_one_table`.
pub fn judge(refusal: &Refusal, headers: &reqwest::header::HeaderMap) -> Judgement {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let wait = retry_after(headers);
    let status = refusal.status;
    if refusal.is(Refusal::QUOTA_EXHAUSTED) {
        return Judgement::Final;
    }
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
    match status {
        429 | 500 | 502 | 503 | 504 => Judgement::Retry(wait),
        403 if refusal.is(Refusal::INTERMEDIARY) => Judgement::Retry(wait),
        403 if refusal.is(Refusal::SECONDARY_RATE_LIMIT) => Judgement::Retry(Some(wait.unwrap_or(MAX_RETRY_AFTER))),
        _ => Judgement::Final,
    }
}

/// Whether a status alone is worth another try, by [`judge`] (for answers whose body
/// is not read: a token service's, a storage call's before its caller reads it).
pub fn is_retryable(status: u16) -> bool {
    judge(&Refusal::new(status, ""), &reqwest::header::HeaderMap::new()).retries()
}

/// Whether a refused answer's body is not the service's at all: not empty, and not
/// even the start of a JSON document. Services that answer every refusal with JSON
/// (GitHub's REST API, the artifact service, OCI registries) did not write such a 403;
/// GitHub's front end (`403 Forbidden: Error from intermediary`, an HTML page) did.
/// A JSON body cut short is still the service's: it decides nothing by itself.
pub fn not_json(body: &[u8]) -> bool {
    let start = body.iter().find(|b| !b.is_ascii_whitespace());
    start.is_some_and(|b| !matches!(b, b'{' | b'['))
}

/// A refused answer's text on one line, at most `max` characters (for messages only:
/// code decides on [`Refusal::code`]).
pub fn one_line(text: &str, max: usize) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(max).collect()
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

    fn headers(pairs: &[(&str, &str)]) -> reqwest::header::HeaderMap {
        let mut map = reqwest::header::HeaderMap::new();
        for (k, v) in pairs {
            map.insert(reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        map
    }

    /// Each service's wire decoder, by name, for the table below.
    fn decode(service: &str, status: u16, headers: &reqwest::header::HeaderMap, body: &str) -> Refusal {
        match service {
            "rest" => crate::github::rest::decode_refusal(status, headers, body.as_bytes()),
            "twirp" => crate::github::artifacts::decode_twirp(status, body.as_bytes()),
            "azure" => crate::github::blob::decode_azure(status, headers, body.as_bytes()),
            "oci" => crate::registry::client::decode_oci(status, body.as_bytes()),
            "status" => Refusal::new(status, ""),
            other => panic!("no decoder {other}"),
        }
    }

    const SECONDARY: &str = r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}"#;
    const ABUSE: &str = r#"{"message":"You have triggered an abuse detection mechanism.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#abuse-rate-limits"}"#;
    const PRIMARY: &str = r#"{"message":"API rate limit exceeded for installation ID 1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}"#;
    const FORBIDDEN: &str = r#"{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/actions/artifacts"}"#;
    /// One row of the table: (decoder, status, headers, body, the code it reads, the judgement).
    type Case<'a> = (&'a str, u16, Vec<(&'a str, &'a str)>, &'a str, Option<&'a str>, Judgement);

    fn case<'a>(
        service: &'a str,
        status: u16,
        headers: Vec<(&'a str, &'a str)>,
        body: &'a str,
        code: Option<&'a str>,
        judgement: Judgement,
    ) -> Case<'a> {
        (service, status, headers, body, code, judgement)
    }

    fn statuses_and_github_cases() -> Vec<Case<'static>> {
        vec![
            case("rest", 404, vec![], r#"{"message":"Not Found"}"#, None, Judgement::Final),
            case("rest", 400, vec![], "bad", None, Judgement::Final),
            case("status", 401, vec![], "", None, Judgement::Final),
            case("status", 409, vec![], "", None, Judgement::Final),
            case("status", 412, vec![], "", None, Judgement::Final),
            case("status", 422, vec![], "", None, Judgement::Final),
            case("status", 429, vec![], "", None, Judgement::Retry(None)),
            case("status", 429, vec![("retry-after", "5")], "", None, Judgement::Retry(Some(Duration::from_secs(5)))),
            case("status", 500, vec![], "", None, Judgement::Retry(None)),
            case("rest", 502, vec![], "<html>bad gateway", None, Judgement::Retry(None)),
            case("status", 503, vec![("retry-after", "2")], "", None, Judgement::Retry(Some(Duration::from_secs(2)))),
            case("status", 504, vec![], "", None, Judgement::Retry(None)),
            case("status", 501, vec![], "", None, Judgement::Final),
            // GitHub's front end, sporadically: a 403 that is not the API's JSON.
            case(
                "rest",
                403,
                vec![],
                "403 Forbidden: Error from intermediary",
                Some(Refusal::INTERMEDIARY),
                Judgement::Retry(None),
            ),
            case(
                "rest",
                403,
                vec![],
                "<html><body>403 Forbidden</body></html>",
                Some(Refusal::INTERMEDIARY),
                Judgement::Retry(None),
            ),
            case("rest", 403, vec![], FORBIDDEN, None, Judgement::Final),
            // Its words decide nothing: only the field GitHub states it in.
            case(
                "rest",
                403,
                vec![],
                r#"{"message":"Error from intermediary; secondary rate limit"}"#,
                None,
                Judgement::Final,
            ),
        ]
    }

    fn rate_limit_and_github_cases<'a>(later: &'a str) -> Vec<Case<'a>> {
        vec![
            // Secondary rate limits, by their documentation_url: after Retry-After, or a minute.
            case(
                "rest",
                403,
                vec![],
                SECONDARY,
                Some(Refusal::SECONDARY_RATE_LIMIT),
                Judgement::Retry(Some(MAX_RETRY_AFTER)),
            ),
            case(
                "rest",
                403,
                vec![],
                ABUSE,
                Some(Refusal::SECONDARY_RATE_LIMIT),
                Judgement::Retry(Some(MAX_RETRY_AFTER)),
            ),
            case(
                "rest",
                403,
                vec![("retry-after", "7")],
                SECONDARY,
                Some(Refusal::SECONDARY_RATE_LIMIT),
                Judgement::Retry(Some(Duration::from_secs(7))),
            ),
            case("rest", 429, vec![], SECONDARY, Some(Refusal::SECONDARY_RATE_LIMIT), Judgement::Retry(None)),
            // The primary rate limit: a wait until the reset, only when it is near.
            case(
                "rest",
                403,
                vec![("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", later)],
                PRIMARY,
                Some(Refusal::RATE_LIMITED),
                Judgement::Final,
            ),
            case(
                "rest",
                429,
                vec![("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", later)],
                "",
                Some(Refusal::RATE_LIMITED),
                Judgement::Final,
            ),
            case(
                "rest",
                403,
                vec![("x-ratelimit-remaining", "0")],
                PRIMARY,
                Some(Refusal::RATE_LIMITED),
                Judgement::Final,
            ),
            case("rest", 403, vec![("x-ratelimit-remaining", "12")], FORBIDDEN, None, Judgement::Final),
            // A truncated or empty body decides nothing by itself.
            case("rest", 403, vec![], &SECONDARY[..60], None, Judgement::Final),
            case("rest", 503, vec![], "", None, Judgement::Retry(None)),
            case("rest", 403, vec![], "", None, Judgement::Final),
            case("rest", 403, vec![], "  \n ", None, Judgement::Final),
            // A 422's errors[].code, and the compare route's 404 for unrelated histories.
            case(
                "rest",
                422,
                vec![],
                r#"{"message":"Validation Failed","errors":[{"resource":"ReleaseAsset","code":"already_exists","field":"name"}]}"#,
                Some("already_exists"),
                Judgement::Final,
            ),
            case(
                "rest",
                404,
                vec![],
                r#"{"message":"No common ancestor between v1.0.0 and 0123abc.","documentation_url":"https://docs.github.com/rest/commits/commits#compare-two-commits"}"#,
                Some(Refusal::NO_COMMON_ANCESTOR),
                Judgement::Final,
            ),
        ]
    }

    fn service_cases() -> Vec<Case<'static>> {
        vec![
            // The artifact service (Twirp): its code; a used-up quota is final whatever the status.
            case(
                "twirp",
                503,
                vec![],
                r#"{"code":"unavailable","msg":"try later"}"#,
                Some("unavailable"),
                Judgement::Retry(None),
            ),
            case(
                "twirp",
                409,
                vec![],
                r#"{"code":"already_exists","msg":"exists"}"#,
                Some("already_exists"),
                Judgement::Final,
            ),
            case(
                "twirp",
                403,
                vec![],
                r#"{"code":"permission_denied","msg":"insufficient usage to create artifact"}"#,
                Some(Refusal::QUOTA_EXHAUSTED),
                Judgement::Final,
            ),
            case(
                "twirp",
                429,
                vec![],
                r#"{"code":"resource_exhausted","msg":"insufficient usage: over the 100 byte artifact quota"}"#,
                Some(Refusal::QUOTA_EXHAUSTED),
                Judgement::Final,
            ),
            case(
                "twirp",
                429,
                vec![],
                r#"{"code":"resource_exhausted","msg":"slow down"}"#,
                Some("resource_exhausted"),
                Judgement::Retry(None),
            ),
            case(
                "twirp",
                403,
                vec![],
                r#"{"code":"permission_denied","msg":"no"}"#,
                Some("permission_denied"),
                Judgement::Final,
            ),
            case(
                "twirp",
                403,
                vec![],
                "403 Forbidden: Error from intermediary",
                Some(Refusal::INTERMEDIARY),
                Judgement::Retry(None),
            ),
            case("twirp", 403, vec![], r#"{"code":"permission_de"#, None, Judgement::Final),
        ]
    }

    fn storage_and_registry_cases() -> Vec<Case<'static>> {
        vec![
            // Azure Blob Storage: x-ms-error-code, else the XML's <Code>; never an intermediary.
            case(
                "azure",
                403,
                vec![("x-ms-error-code", "AuthenticationFailed")],
                "<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code><Message>Signature expired</Message></Error>",
                Some("AuthenticationFailed"),
                Judgement::Final,
            ),
            case(
                "azure",
                404,
                vec![],
                "<Error><Code>BlobNotFound</Code></Error>",
                Some("BlobNotFound"),
                Judgement::Final,
            ),
            case("azure", 503, vec![("x-ms-error-code", "ServerBusy")], "", Some("ServerBusy"), Judgement::Retry(None)),
            case("azure", 403, vec![], "403 Forbidden: Error from intermediary", None, Judgement::Final),
            // OCI registries: errors[].code; a 403 that is not JSON is an intermediary's.
            case(
                "oci",
                404,
                vec![],
                r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
                Some("MANIFEST_UNKNOWN"),
                Judgement::Final,
            ),
            case(
                "oci",
                403,
                vec![],
                r#"{"errors":[{"code":"DENIED","message":"denied"}]}"#,
                Some("DENIED"),
                Judgement::Final,
            ),
            case("oci", 401, vec![], r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#, Some("UNAUTHORIZED"), Judgement::Final),
            case(
                "oci",
                429,
                vec![("retry-after", "3")],
                r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"pull rate limit"}]}"#,
                Some("TOOMANYREQUESTS"),
                Judgement::Retry(Some(Duration::from_secs(3))),
            ),
            case(
                "oci",
                403,
                vec![],
                "<html>Error from intermediary</html>",
                Some(Refusal::INTERMEDIARY),
                Judgement::Retry(None),
            ),
            case(
                "oci",
                403,
                vec![],
                r#"{"errors":[{"code":"DENIED","message":"intermediary"}]}"#,
                Some("DENIED"),
                Judgement::Final,
            ),
            case("oci", 403, vec![], "", None, Judgement::Final),
        ]
    }

    #[test]
    fn every_refusal_is_judged_by_one_table() {
        let now = chrono::Utc::now().timestamp();
        let soon = (now + 20).to_string();
        let later = (now + 3600).to_string();
        let mut cases = statuses_and_github_cases();
        cases.extend(rate_limit_and_github_cases(&later));
        cases.extend(service_cases());
        cases.extend(storage_and_registry_cases());
        for (service, status, pairs, body, code, expected) in &cases {
            let map = headers(pairs);
            let refusal = decode(service, *status, &map, body);
            assert_eq!(refusal.code.as_deref(), *code, "{service} {status} {pairs:?} {body:?}");
            assert_eq!(refusal.status, *status);
            assert_eq!(judge(&refusal, &map), *expected, "{service} {status} {pairs:?} {body:?}");
        }
        let near = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", &soon)]);
        match judge(&crate::github::rest::decode_refusal(403, &near, PRIMARY.as_bytes()), &near) {
            Judgement::Retry(Some(w)) => assert!(w > Duration::from_secs(15) && w <= Duration::from_secs(20), "{w:?}"),
            other => panic!("a reset 20 s away is waited for: {other:?}"),
        }
        for status in [429, 500, 502, 503, 504] {
            assert!(is_retryable(status));
        }
        for status in [400, 401, 403, 404, 409, 501] {
            assert!(!is_retryable(status), "{status}");
        }
    }

    #[test]
    fn what_a_service_said_is_kept_bounded_for_messages_only() {
        let long = format!(r#"{{"message":"line one\nline two {}"}}"#, "x".repeat(1000));
        let r = crate::github::rest::decode_refusal(404, &reqwest::header::HeaderMap::new(), long.as_bytes());
        assert!(r.message.starts_with("line one line two x") && r.message.chars().count() == 300, "{}", r.message);
        assert_eq!(r.said(), format!("HTTP 404: {}", r.message));
        let oci = crate::registry::client::decode_oci(
            404,
            br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"},{"code":"NAME_UNKNOWN"}]}"#,
        );
        assert_eq!(oci.message, "MANIFEST_UNKNOWN: unknown; NAME_UNKNOWN");
        // Other services' words are kept as said (the one printing path escapes them), bounded.
        let raw = crate::registry::client::decode_oci(
            403,
            format!(r#"{{"errors":[{{"code":"DENIED","message":"a\nb{}"}}]}}"#, "x".repeat(5000)).as_bytes(),
        );
        assert!(raw.message.starts_with("DENIED: a\nbx") && raw.message.chars().count() == Refusal::MAX_MESSAGE);
        let azure = crate::github::blob::decode_azure(
            403,
            &reqwest::header::HeaderMap::new(),
            b"<Error><Code>X</Code><Message>Signature not valid</Message></Error>",
        );
        assert_eq!((azure.code.as_deref(), azure.message.as_str()), (Some("X"), "Signature not valid"));
        let html = crate::registry::client::decode_oci(403, b"<html>secret page</html>");
        assert_eq!(html.message, "", "an intermediary's page is not quoted");
        assert_eq!(Refusal::new(502, "").said(), "HTTP 502");
    }

    #[test]
    fn the_network_settings_are_read_once_from_the_environment() {
        let env = |name: &str| (name == RETRY_BASE_VARIABLE).then(|| " 7 ".to_string());
        let net = Net::from_env(&env);
        assert_eq!(net.retry, RetryPolicy { base: Duration::from_millis(7), ..RetryPolicy::default() });
        assert_eq!(net.limits, Limits::default());
        let unset = Net::from_env(&|_: &str| None);
        assert_eq!(unset.retry, RetryPolicy::default());
        let bad = Net::from_env(&|_: &str| Some("soon".into()));
        assert_eq!(bad.retry, RetryPolicy::default());
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
        let judged = Attempt::judged("x", &Refusal::new(429, ""), &headers("3"));
        assert!(judged.retryable && judged.wait == Wait::AtLeast(Duration::from_secs(3)));
        assert!(!Attempt::judged("x", &Refusal::new(404, ""), &headers("3")).retryable);
    }

    use super::*;

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
