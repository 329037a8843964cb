//! The few GitHub REST routes release-audit reads: runs, their jobs, logs and
//! artifacts. Requests are made with the shared client and retry policy; every list
//! is paginated with `per_page=100` until done; downloads follow the 302 to the blob
//! host WITHOUT the token (the Location is pre-signed).
//!
//! octocrab is not used here: its artifact helpers drop `per_page`/`page`, have no
//! `digest` field and buffer downloads in memory (README, "Dependencies"), so the
//! four routes are plain reqwest calls into our own serde types.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Refusal, Result};
use crate::github::blob::{Downloaded, Excess, download_once, gave_up};
use crate::http::{Attempt, GaveUp, Judgement, Net, RetryPolicy, read_bounded, with_retries, without_url};
use crate::secret::Secret;

const MAX_JSON: usize = 32 * 1024 * 1024;
const API_VERSION: &str = "2022-11-28";
const MAX_PAGES: u32 = 100;

#[derive(Clone)]
pub struct Rest {
    http: reqwest::Client,
    api_url: String,
    repository: String,
    token: Secret,
    retry: RetryPolicy,
    /// The longest one bounded request may take, body included ([`Limits::api_request`]).
    ///
    /// [`Limits::api_request`]: crate::http::Limits::api_request
    request_limit: Duration,
    /// Whole-request limits (`None`: the client's connect and read timeouts only).
    bounds: Option<Bounds>,
}

/// How long a request may take as a whole, and the audit's deadline no request outlives.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    per_request: Duration,
    deadline: Instant,
}

/// What a bounded read of a JSON answer gave.
#[derive(Debug)]
pub enum Page<T> {
    Read(T),
    /// The answer was longer than the limit; nothing of it was kept.
    TooLarge {
        limit: usize,
    },
}

/// An artifact as the REST API lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct RestArtifact {
    pub id: i64,
    pub name: String,
    pub size_in_bytes: u64,
    #[serde(default)]
    pub expired: bool,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub digest: Option<String>,
}

/// The facts of a run we record and select by.
#[derive(Debug, Clone, Deserialize)]
pub struct RunInfo {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub head_sha: Option<String>,
    #[serde(default)]
    pub run_attempt: Option<u32>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

impl Rest {
    /// A client of `api_url` for `repository`, with the command's client, retry policy
    /// and request limit.
    pub fn new(net: &Net, api_url: &str, repository: &str, token: Secret) -> Self {
        Rest {
            http: net.client.clone(),
            api_url: api_url.trim_end_matches('/').to_string(),
            repository: repository.to_string(),
            token,
            retry: net.retry,
            request_limit: net.limits.api_request,
            bounds: None,
        }
    }

    /// This client with every request bounded as a whole (headers and body) by the
    /// request limit ([`Limits::api_request`]) and by `deadline`: a stalled API —
    /// headers sent, the body never finishing — ends at the deadline with an error naming
    /// the host, never later. Not for uploads (a large asset may rightly take longer than
    /// one request's limit).
    ///
    /// [`Limits::api_request`]: crate::http::Limits::api_request
    pub fn bounded_by(&self, deadline: Instant) -> Rest {
        Rest { bounds: Some(Bounds { per_request: self.request_limit, deadline }), ..self.clone() }
    }

    /// The API's host (`api.github.com`), for messages.
    pub fn host(&self) -> String {
        reqwest::Url::parse(&self.api_url)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_string(),
                })
            })
            .unwrap_or_else(|| "the GitHub API".into())
    }

    /// The time one attempt may take, and whether the deadline (not the limit) set it;
    /// an error once the deadline has passed.
    fn attempt_time(&self, what: &str) -> Result<Option<(Duration, bool)>> {
        let Some(b) = self.bounds else { return Ok(None) };
        match b.deadline.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(Some((left.min(b.per_request), left < b.per_request))),
            _ => Err(self.deadline_passed(what)),
        }
    }

    fn deadline_passed(&self, what: &str) -> Error {
        Error::service(
            format!("GitHub API {}", self.host()),
            format!("{what}: the audit's `timeout` passed before {} answered completely", self.host()),
            format!("{} is slow or stalled; try again later, or raise the `timeout` input", self.host()),
        )
    }

    /// A request that ran out of time: says the host and the limit.
    fn timed_out(&self, what: &str, cut_by_deadline: bool) -> String {
        let limit = self.bounds.map_or(0, |b| b.per_request.as_secs());
        if cut_by_deadline {
            format!("{what}: {} did not answer completely before the audit's `timeout`", self.host())
        } else {
            format!("{what}: {} did not answer completely within {limit} s", self.host())
        }
    }

    /// Reads a JSON answer of at most `limit` bytes; a longer one is [`Page::TooLarge`],
    /// not an error, so that the caller can ask for less or say what was cut. A body
    /// that stalls ends with the request's time limit, naming the host.
    pub async fn read_page<T: DeserializeOwned>(
        &self,
        mut response: reqwest::Response,
        limit: usize,
        what: &str,
    ) -> Result<Page<T>> {
        let mut body = Vec::new();
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) if e.is_timeout() => {
                    let cut = self.bounds.is_some_and(|b| Instant::now() + Duration::from_millis(50) >= b.deadline);
                    return Err(Error::service(
                        format!("GitHub API {}", self.host()),
                        self.timed_out(what, cut),
                        format!("{} is slow or stalled; try again later, or raise the `timeout` input", self.host()),
                    ));
                }
                Err(e) => {
                    return Err(Error::service(
                        what,
                        format!("reading the answer from {} failed: {}", self.host(), without_url(&e)),
                        "try again; check the network",
                    ));
                }
            };
            if body.len() + chunk.len() > limit {
                return Ok(Page::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map(Page::Read).map_err(|e| {
            Error::service(what, format!("the answer is not the expected JSON: {e}"), "check `GITHUB_API_URL`")
        })
    }

    /// GitHub's GraphQL endpoint beside this REST API: `{api}/graphql` on github.com,
    /// `https://host/api/graphql` for a GitHub Enterprise Server's `https://host/api/v3`.
    pub fn graphql_url(&self) -> String {
        match self.api_url.strip_suffix("/api/v3") {
            Some(host) => format!("{host}/api/graphql"),
            None => format!("{}/graphql", self.api_url),
        }
    }

    /// The repository this client reads and writes (`owner/repo`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// `{api}/repos/{owner}/{repo}/{route}`.
    pub fn url(&self, route: &str) -> String {
        format!("{}/repos/{}/{route}", self.api_url, self.repository)
    }

    /// A request with the token and GitHub's API headers.
    pub fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(self.token.expose())
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", API_VERSION)
    }

    /// Sends the request `build` makes for each attempt (numbered from 1) through the
    /// one retry loop: broken connections, 429/5xx and GitHub's `403 … intermediary`
    /// are tried again; an exhausted rate limit is not. A success or redirect is
    /// [`Answer::Done`]; any other status — also the last retryable one — is a typed
    /// [`Answer::Refused`] for the caller to judge.
    pub async fn send<F, Fut>(&self, what: &str, mut build: F) -> Result<Answer>
    where
        F: FnMut(u32) -> Fut,
        Fut: std::future::Future<Output = Result<reqwest::RequestBuilder>>,
    {
        enum Failed {
            Refused(Refusal),
            Broken(String),
            Setup(Error),
        }
        impl std::fmt::Display for Failed {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    Failed::Refused(r) => f.write_str(&r.said()),
                    Failed::Broken(e) => f.write_str(e),
                    Failed::Setup(e) => write!(f, "{e}"),
                }
            }
        }
        let mut attempt = 0;
        let outcome = with_retries(self.retry, || {
            attempt += 1;
            let request = build(attempt);
            let time = self.attempt_time(what);
            async move {
                let time = time.map_err(|e| Attempt::fatal(Failed::Setup(e)))?;
                let mut request = request.await.map_err(|e| Attempt::fatal(Failed::Setup(e)))?;
                if let Some((limit, _)) = time {
                    request = request.timeout(limit);
                }
                match request.send().await {
                    Err(e) if e.is_timeout() => {
                        let cut = time.is_some_and(|(_, cut)| cut);
                        let failed = Failed::Broken(self.timed_out(what, cut));
                        if cut { Err(Attempt::fatal(failed)) } else { Err(Attempt::retry(failed)) }
                    }
                    Err(e) => Err(Attempt::retry(Failed::Broken(format!("{what}: {}", without_url(&e))))),
                    Ok(r) if r.status().is_success() || r.status().is_redirection() => Ok(Answer::Done(r)),
                    Ok(r) => {
                        let (refusal, headers) = read_refusal(r, what).await;
                        match crate::http::judge(&refusal, &headers) {
                            Judgement::Retry(wait) => Err(Attempt::retry_after(Failed::Refused(refusal), wait)),
                            Judgement::Final => Ok(Answer::Refused(refusal)),
                        }
                    }
                }
            }
        })
        .await;
        match outcome {
            Ok(answer) => Ok(answer),
            Err(GaveUp { error: Failed::Refused(r), .. }) => Ok(Answer::Refused(r)),
            Err(GaveUp { error: Failed::Broken(e), attempts, .. }) => Err(Error::service(
                what,
                format!("{e} (gave up after {attempts} attempts)"),
                "check the network and `GITHUB_API_URL`",
            )),
            Err(GaveUp { error: Failed::Setup(e), .. }) => Err(e),
        }
    }

    /// GETs a route to read it; a refusal is an error that says what to do.
    async fn get(&self, url: &str, what: &str) -> Result<reqwest::Response> {
        match self.send(what, |_| std::future::ready(Ok(self.request(reqwest::Method::GET, url)))).await? {
            Answer::Done(r) => Ok(r),
            Answer::Refused(r) => Err(read_error(r, what, &self.repository)),
        }
    }

    /// Reads a JSON answer (bounded in size, and in time like the request: a body that
    /// stalls ends naming the host) into `T`.
    pub async fn json<T: DeserializeOwned>(&self, response: reqwest::Response, what: &str) -> Result<T> {
        match self.read_page(response, MAX_JSON, what).await? {
            Page::Read(value) => Ok(value),
            Page::TooLarge { limit } => Err(Error::service(
                what,
                format!("answer is larger than {limit} bytes"),
                "this is not an answer the service gives; check `GITHUB_API_URL`",
            )),
        }
    }

    async fn get_json<T: DeserializeOwned>(&self, url: &str, what: &str) -> Result<T> {
        self.json(self.get(url, what).await?, what).await
    }

    /// One run, as raw JSON (kept verbatim in the bundle) and as facts.
    pub async fn run(&self, run_id: u64) -> Result<(serde_json::Value, RunInfo)> {
        let what = format!("workflow run {run_id}");
        let raw: serde_json::Value = self.get_json(&self.url(&format!("actions/runs/{run_id}")), &what).await?;
        let info: RunInfo = serde_json::from_value(raw.clone())
            .map_err(|e| Error::service(&what, format!("unexpected answer: {e}"), "check `GITHUB_API_URL`"))?;
        Ok((raw, info))
    }

    /// Every artifact of a run (all pages).
    pub async fn run_artifacts(&self, run_id: u64) -> Result<Vec<RestArtifact>> {
        self.all_pages(&format!("actions/runs/{run_id}/artifacts?"), "artifacts", &format!("artifacts of run {run_id}"))
            .await
    }

    /// Every job of a run (all pages), as raw JSON objects.
    pub async fn jobs(&self, run_id: u64) -> Result<Vec<serde_json::Value>> {
        self.all_pages(&format!("actions/runs/{run_id}/jobs?filter=all&"), "jobs", &format!("jobs of run {run_id}"))
            .await
    }

    /// Reads a list route page by page (`per_page=100`) until a short page, or until
    /// `total_count` items where the page says it. `key` names the array in each page
    /// (`{"total_count": …, "<key>": […]}`); an empty key means the page is the array.
    /// `route` ends with `?` or `&`.
    pub async fn all_pages<T: DeserializeOwned>(&self, route: &str, key: &str, what: &str) -> Result<Vec<T>> {
        self.all_pages_or(route, key, what, |r| read_error(r, what, &self.repository)).await
    }

    /// [`all_pages`](Self::all_pages) with the caller's error for a refusal.
    pub async fn all_pages_or<T: DeserializeOwned>(
        &self,
        route: &str,
        key: &str,
        what: &str,
        refused: impl Fn(Refusal) -> Error,
    ) -> Result<Vec<T>> {
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let url = self.url(&format!("{route}per_page=100&page={page}"));
            let response =
                match self.send(what, |_| std::future::ready(Ok(self.request(reqwest::Method::GET, &url)))).await? {
                    Answer::Done(r) => r,
                    Answer::Refused(r) => return Err(refused(r)),
                };
            let mut body: serde_json::Value = self.json(response, what).await?;
            let total = body.get("total_count").and_then(|t| t.as_u64()).map(|t| t as usize);
            let list = if key.is_empty() {
                body.take()
            } else {
                body.get_mut(key).map(serde_json::Value::take).unwrap_or_default()
            };
            let items: Vec<T> = serde_json::from_value(list).map_err(|e| {
                Error::service(what, format!("the answer is not the expected JSON: {e}"), "check `GITHUB_API_URL`")
            })?;
            let n = items.len();
            all.extend(items);
            if n < 100 || total.is_some_and(|t| all.len() >= t) {
                break;
            }
        }
        Ok(all)
    }

    /// The newest completed run of a workflow file for a commit.
    pub async fn newest_completed_run(&self, workflow: &str, head_sha: &str) -> Result<Option<RunInfo>> {
        #[derive(Deserialize)]
        struct Page {
            workflow_runs: Vec<RunInfo>,
        }
        let what = format!("runs of workflow {workflow}");
        let url =
            self.url(&format!("actions/workflows/{workflow}/runs?head_sha={head_sha}&status=completed&per_page=100"));
        let page: Page = self.get_json(&url, &what).await?;
        Ok(page.workflow_runs.into_iter().max_by_key(|r| (r.created_at.clone(), r.id)))
    }

    /// Downloads a route that answers 302 to a pre-signed blob URL: the token goes to
    /// the API only, never to the blob host. With `missing_ok`, 404/410 (deleted or
    /// expired) give `None` instead of an error.
    pub async fn download_redirected(
        &self,
        route: &str,
        dest: &Path,
        max_bytes: u64,
        what: &str,
        missing_ok: bool,
    ) -> Result<Option<Downloaded>> {
        self.download_redirected_with(route, dest, max_bytes, Excess::Refuse, what, missing_ok).await
    }

    /// [`download_redirected`](Self::download_redirected) with a choice of what a body
    /// over `max_bytes` means (logs keep their first bytes). Every attempt asks the
    /// route for a fresh Location: GitHub's signed links expire (a log's after a minute),
    /// so a retry of a broken transfer must not reuse the first one.
    pub async fn download_redirected_with(
        &self,
        route: &str,
        dest: &Path,
        max_bytes: u64,
        excess: Excess,
        what: &str,
        missing_ok: bool,
    ) -> Result<Option<Downloaded>> {
        with_retries(self.retry, || async {
            match self.redirect_location(route, what, missing_ok).await.map_err(Attempt::fatal)? {
                Some(location) => download_once(&self.http, &location, dest, max_bytes, excess, what).await.map(Some),
                None => Ok(None),
            }
        })
        .await
        .map_err(gave_up)
    }

    /// Asks a route that answers 302 for its pre-signed Location (a fresh one on every
    /// call), without following it. With `missing_ok`, 404/410 give `None`.
    pub async fn redirect_location(&self, route: &str, what: &str, missing_ok: bool) -> Result<Option<Secret>> {
        let url = self.url(route);
        let response =
            match self.send(what, |_| std::future::ready(Ok(self.request(reqwest::Method::GET, &url)))).await? {
                Answer::Done(r) => r,
                Answer::Refused(r) if missing_ok && matches!(r.status, 404 | 410) => return Ok(None),
                Answer::Refused(r) => return Err(read_error(r, what, &self.repository)),
            };
        if !response.status().is_redirection() {
            return Err(Error::service(
                what,
                format!("expected a redirect to the download, got HTTP {}", response.status().as_u16()),
                "check `GITHUB_API_URL`",
            ));
        }
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::service(what, "the redirect has no Location", "try again"))?
            .to_string();
        Ok(Some(Secret::new(location)))
    }

    /// The client the pre-signed downloads go through (no token on it).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }
}

/// The requests GitHub says are left of the rate limit this answer counted against
/// (`x-ratelimit-remaining`), when it says so.
pub fn remaining(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    headers.get("x-ratelimit-remaining")?.to_str().ok()?.trim().parse().ok()
}

/// What a request came back with: done (success or redirect), or refused (the
/// refusal as [`decode_refusal`] read it).
#[derive(Debug)]
pub enum Answer {
    Done(reqwest::Response),
    Refused(Refusal),
}

/// The wire decoder of GitHub's REST (and GraphQL transport) refusals: the status,
/// GitHub's `message` as the refusal's message, and a code. GitHub's JSON errors carry
/// no code of their own except a 422's `errors[].code` (`already_exists`, `invalid`…),
/// so the facts callers and [`crate::http::judge`] decide on are read from the fields
/// that state them:
/// - the primary rate limit from its header, `x-ratelimit-remaining: 0`
///   ([`Refusal::RATE_LIMITED`]);
/// - a secondary rate limit from the JSON error's `documentation_url`, which ends in
///   `secondary-rate-limits` (or, formerly, `#abuse-rate-limits`) — its message is prose
///   that GitHub rewords ([`Refusal::SECONDARY_RATE_LIMIT`]);
/// - a comparison of unrelated histories from the message of the compare route's 404,
///   `No common ancestor between …` — that 404 has no other field that tells it from a
///   missing ref ([`Refusal::NO_COMMON_ANCESTOR`]);
/// - an intermediary's 403 from its body, which is not JSON (GitHub's API answers every
///   refusal with JSON; its front end's `Error from intermediary` is text or HTML)
///   ([`Refusal::INTERMEDIARY`]).
///
/// `body` is the answer's start as read (at most 64 KiB): a JSON body cut short decides
/// nothing by itself.
pub fn decode_refusal(status: u16, headers: &reqwest::header::HeaderMap, body: &[u8]) -> Refusal {
    let parsed = serde_json::from_slice::<serde_json::Value>(body).ok();
    let text = String::from_utf8_lossy(body);
    let field = |name: &str| parsed.as_ref().and_then(|v| v.get(name)).and_then(|m| m.as_str());
    let message = field("message").unwrap_or(&text).to_string();
    // A 422's `errors[].code`: `already_exists` when any error says so, else the first.
    let codes: Vec<&str> = parsed
        .as_ref()
        .and_then(|v| v.get("errors"))
        .and_then(|e| e.as_array())
        .map(|e| e.iter().filter_map(|e| e.get("code").and_then(|c| c.as_str())).collect())
        .unwrap_or_default();
    let error_code = codes.iter().find(|c| **c == "already_exists").or(codes.first()).map(|c| c.to_string());
    let documented = field("documentation_url").map(|u| u.trim_end_matches('/')).unwrap_or_default();
    let code = if remaining(headers) == Some(0) {
        Some(Refusal::RATE_LIMITED.to_string())
    } else if documented.ends_with("secondary-rate-limits") || documented.ends_with("#abuse-rate-limits") {
        Some(Refusal::SECONDARY_RATE_LIMIT.to_string())
    } else if status == 404 && message.starts_with("No common ancestor") {
        Some(Refusal::NO_COMMON_ANCESTOR.to_string())
    } else if status == 403 && crate::http::not_json(body) {
        Some(Refusal::INTERMEDIARY.to_string())
    } else {
        error_code
    };
    Refusal::new(status, code.as_deref().unwrap_or_default()).with_message(&crate::http::one_line(&message, 300))
}

/// Reads a refused answer (at most 64 KiB of it) and decodes it ([`decode_refusal`]),
/// with the headers [`crate::http::judge`] reads.
async fn read_refusal(response: reqwest::Response, what: &str) -> (Refusal, reqwest::header::HeaderMap) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = read_bounded(response, 64 * 1024, what).await.unwrap_or_default();
    (decode_refusal(status, &headers, &body), headers)
}

/// The error for a refused read, with what to do about it; it carries the refusal.
pub fn read_error(r: Refusal, what: &str, repository: &str) -> Error {
    let said = r.said();
    let error = if r.is(Refusal::RATE_LIMITED) {
        Error::service(
            what,
            format!("HTTP {}: the API rate limit is exhausted", r.status),
            "wait for the limit to reset (GITHUB_TOKEN allows 1,000 requests per hour per repository)",
        )
    } else {
        match r.status {
            401 => Error::service(
                what,
                said,
                "the `github-token` input was refused; pass `${{ github.token }}` or a valid token",
            ),
            403 => Error::service(
                what,
                said,
                format!(
                    "give the token `actions: read` on {repository} (workflow `permissions:`), or use a token of the repository that owns the run"
                ),
            ),
            404 => Error::service(
                what,
                said,
                format!(
                    "check the run id and that {repository} is the repository; a token without access to a private repository also gets 404"
                ),
            ),
            410 => Error::service(
                what,
                said,
                "the artifact or log has expired (GitHub keeps them at most 90 days, 400 for private repositories); it can no longer be audited",
            ),
            _ => Error::service(what, said, "try again later"),
        }
    };
    error.with_refusal(r)
}

#[cfg(test)]
mod bounds_tests {
    use super::*;

    #[test]
    fn a_bounded_request_never_outlives_the_deadline_and_names_the_host() {
        let net = Net::default();
        let rest = Rest::new(&net, "http://127.0.0.1:9/", "o/r", Secret::new("t"));
        assert!(rest.attempt_time("x").unwrap().is_none(), "unbounded unless asked (uploads may take long)");
        let soon = rest.bounded_by(Instant::now() + Duration::from_secs(5));
        let (time, cut) = soon.attempt_time("x").unwrap().unwrap();
        assert!(time <= Duration::from_secs(5) && cut, "{time:?}");
        let short = crate::http::Limits { api_request: Duration::from_secs(2), ..net.limits };
        let quick = Rest::new(&Net::with(net.retry, short), "http://127.0.0.1:9/", "o/r", Secret::new("t"));
        let later = quick.bounded_by(Instant::now() + Duration::from_secs(60));
        assert_eq!(later.attempt_time("x").unwrap().unwrap(), (Duration::from_secs(2), false));
        let passed = rest.bounded_by(Instant::now());
        assert_eq!(rest.graphql_url(), "http://127.0.0.1:9/graphql");
        let ghes = Rest::new(&net, "https://ghe.example/api/v3/", "o/r", Secret::new("t"));
        assert_eq!(ghes.graphql_url(), "https://ghe.example/api/graphql");
        let e = passed.attempt_time("comparison 1.2.2...abc").unwrap_err().to_string();
        assert!(e.contains("127.0.0.1:9") && e.contains("`timeout`"), "{e}");
    }
}
