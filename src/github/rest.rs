//! The few GitHub REST routes release-audit reads: runs, their jobs, logs and
//! artifacts. Requests are made with the shared client and retry policy; every list
//! is paginated with `per_page=100` until done; downloads follow the 302 to the blob
//! host WITHOUT the token (the Location is pre-signed).
//!
//! octocrab is not used here: its artifact helpers drop `per_page`/`page`, have no
//! `digest` field and buffer downloads in memory (README, "Dependencies"), so the
//! four routes are plain reqwest calls into our own serde types.

use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::github::blob::{Downloaded, download_to_file};
use crate::http::{Attempt, RetryPolicy, is_retryable, read_bounded, with_retries, without_url};
use crate::secret::Secret;

const MAX_JSON: usize = 32 * 1024 * 1024;
const MAX_PAGES: u32 = 100;

pub struct Rest {
    http: reqwest::Client,
    api_url: String,
    repository: String,
    token: Secret,
    retry: RetryPolicy,
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
    pub fn new(http: reqwest::Client, api_url: &str, repository: &str, token: Secret) -> Self {
        Rest { http, api_url: api_url.trim_end_matches('/').to_string(), repository: repository.to_string(), token, retry: RetryPolicy::from_env() }
    }

    fn url(&self, route: &str) -> String {
        format!("{}/repos/{}/{route}", self.api_url, self.repository)
    }

    /// GETs a route with the token; retries transient failures; maps refusals to
    /// errors that say what to do. `what` names the thing for the user.
    async fn get(&self, url: &str, what: &str) -> Result<reqwest::Response> {
        with_retries(self.retry, || async {
            let sent = self
                .http
                .get(url)
                .bearer_auth(self.token.expose())
                .header("accept", "application/vnd.github+json")
                .header("x-github-api-version", "2022-11-28")
                .send()
                .await;
            match sent {
                Err(e) => Err(Attempt::retry(refusal(None, &without_url(&e), what))),
                Ok(r) if r.status().is_success() || r.status().is_redirection() => Ok(r),
                Ok(r) => {
                    let status = r.status().as_u16();
                    let rate_limited = r.headers().get("x-ratelimit-remaining").is_some_and(|v| v == "0");
                    let body = read_bounded(r, 64 * 1024, what).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
                    if rate_limited {
                        return Err(Attempt::fatal(Error::service(
                            what,
                            format!("HTTP {status}: the API rate limit is exhausted"),
                            "wait for the limit to reset (GITHUB_TOKEN allows 1,000 requests per hour per repository)",
                        )));
                    }
                    Err(Attempt { error: refusal(Some(status), &body, what), retryable: is_retryable(status, &body) })
                }
            }
        })
        .await
        .map_err(|g| g.error)
    }

    async fn get_json<T: DeserializeOwned>(&self, url: &str, what: &str) -> Result<T> {
        let response = self.get(url, what).await?;
        let body = read_bounded(response, MAX_JSON, what).await?;
        serde_json::from_slice(&body).map_err(|e| Error::service(what, format!("the answer is not the expected JSON: {e}"), "check `GITHUB_API_URL`"))
    }

    /// One run, as raw JSON (kept verbatim in the bundle) and as facts.
    pub async fn run(&self, run_id: u64) -> Result<(serde_json::Value, RunInfo)> {
        let what = format!("workflow run {run_id}");
        let raw: serde_json::Value = self.get_json(&self.url(&format!("actions/runs/{run_id}")), &what).await?;
        let info: RunInfo = serde_json::from_value(raw.clone()).map_err(|e| Error::service(&what, format!("unexpected answer: {e}"), "check `GITHUB_API_URL`"))?;
        Ok((raw, info))
    }

    /// Every artifact of a run (all pages).
    pub async fn run_artifacts(&self, run_id: u64) -> Result<Vec<RestArtifact>> {
        self.all_pages(&format!("actions/runs/{run_id}/artifacts?"), "artifacts", &format!("artifacts of run {run_id}")).await
    }

    /// Every job of a run (all pages), as raw JSON objects.
    pub async fn jobs(&self, run_id: u64) -> Result<Vec<serde_json::Value>> {
        self.all_pages(&format!("actions/runs/{run_id}/jobs?filter=all&"), "jobs", &format!("jobs of run {run_id}")).await
    }

    /// Reads a list route page by page (`per_page=100`) until it has `total_count`
    /// items or a short page; `key` names the array in each page.
    async fn all_pages<T: DeserializeOwned>(&self, route: &str, key: &str, what: &str) -> Result<Vec<T>> {
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let mut body: serde_json::Value = self.get_json(&self.url(&format!("{route}per_page=100&page={page}")), what).await?;
            let total = body.get("total_count").and_then(|t| t.as_u64()).unwrap_or(0) as usize;
            let items: Vec<T> = serde_json::from_value(body.get_mut(key).map(serde_json::Value::take).unwrap_or_default())
                .map_err(|e| Error::service(what, format!("the answer is not the expected JSON: {e}"), "check `GITHUB_API_URL`"))?;
            let n = items.len();
            all.extend(items);
            if n < 100 || all.len() >= total {
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
        let url = self.url(&format!("actions/workflows/{workflow}/runs?head_sha={head_sha}&status=completed&per_page=100"));
        let page: Page = self.get_json(&url, &what).await?;
        Ok(page.workflow_runs.into_iter().max_by_key(|r| (r.created_at.clone(), r.id)))
    }

    /// Downloads a route that answers 302 to a pre-signed blob URL: the token goes to
    /// the API only, never to the blob host. With `missing_ok`, 404/410 (deleted or
    /// expired) give `None` instead of an error.
    pub async fn download_redirected(&self, route: &str, dest: &Path, max_bytes: u64, what: &str, missing_ok: bool) -> Result<Option<Downloaded>> {
        let response = match self.get(&self.url(route), what).await {
            Ok(r) => r,
            Err(Error::Service { reason, .. }) if missing_ok && (reason.starts_with("HTTP 404") || reason.starts_with("HTTP 410")) => return Ok(None),
            Err(e) => return Err(e),
        };
        if !response.status().is_redirection() {
            return Err(Error::service(what, format!("expected a redirect to the download, got HTTP {}", response.status().as_u16()), "check `GITHUB_API_URL`"));
        }
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::service(what, "the redirect has no Location", "try again"))?
            .to_string();
        download_to_file(&self.http, &Secret::new(location), dest, max_bytes, what, self.retry).await.map(Some)
    }
}

fn refusal(status: Option<u16>, body: &str, what: &str) -> Error {
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
        .unwrap_or_else(|| body.chars().take(200).collect());
    match status {
        Some(401) => Error::service(what, format!("HTTP 401: {message}"), "the `github-token` input was refused; pass `${{ github.token }}` or a valid token"),
        Some(403) => Error::service(what, format!("HTTP 403: {message}"), "give the token `actions: read` (workflow `permissions:`), or use a token of the repository that owns the run"),
        Some(404) => Error::service(what, format!("HTTP 404: {message}"), "check the run id and repository; a token without access to a private repository also gets 404"),
        Some(410) => Error::service(what, format!("HTTP 410: {message}"), "the artifact or log has expired (GitHub keeps them at most 90 days, 400 for private repositories); it can no longer be audited"),
        Some(s) => Error::service(what, format!("HTTP {s}: {message}"), "try again later"),
        None => Error::service(what, message, "check the network and `GITHUB_API_URL`"),
    }
}
