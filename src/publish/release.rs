//! Release assets: attaches the bundle zip and its `SHA256SUMS` to the GitHub release
//! of `release-tag` (default: the release version), so the audit record lives as long
//! as the release does.
//!
//! Four REST routes with the `github-token` (it needs `contents: write`): find the
//! release by tag (drafts are not found that way, so the release list is searched
//! next — release workflows often attach to a draft before publishing it), list its
//! assets, delete one (`overwrite`, or the leftover of a broken upload), and upload to
//! the release's `upload_url`, streaming the file from disk with its Content-Length.
//! After each upload the asset GitHub reports must be `uploaded`, of our size, and —
//! where GitHub gives one — of our sha256 digest.
//!
//! octocrab is not used: it would add ~20 crates and ~1 min of build for four routes,
//! and its `upload_asset` takes the body as one in-memory `Bytes`.

use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::storage::{digest_file, file_body};
use crate::error::{Error, Result};
use crate::http::{RetryPolicy, read_bounded, send_with_retries};
use crate::secret::Secret;

const API_VERSION: &str = "2022-11-28";
const MAX_JSON: usize = 16 * 1024 * 1024;
/// Releases searched for a draft with the tag (100 a page).
const MAX_RELEASE_PAGES: u32 = 10;

/// `release-asset: true` and where to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseAssetSettings {
    pub tag: String,
}

/// One file to attach.
#[derive(Debug, Clone, Copy)]
pub struct AssetFile<'a> {
    pub path: &'a Path,
    pub name: &'a str,
    pub content_type: &'a str,
}

/// An attached and verified asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedAsset {
    pub name: String,
    /// Where users download it (`browser_download_url`).
    pub url: String,
    pub size: u64,
}

#[derive(Debug, Deserialize)]
struct Release {
    id: i64,
    tag_name: String,
    upload_url: String,
    #[serde(default)]
    draft: bool,
}

#[derive(Debug, Clone, Deserialize)]
struct Asset {
    id: i64,
    name: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    browser_download_url: String,
}

/// Attaches `files` to the release of `settings.tag` in `repository`, in order.
///
/// An existing asset of the same name is refused before anything changes unless
/// `overwrite` (then it is deleted first). A leftover of a broken upload (state not
/// `uploaded`) is deleted either way: it is not an asset anyone can download.
pub async fn attach(
    http: &reqwest::Client,
    api_url: &str,
    repository: &str,
    token: &Secret,
    settings: &ReleaseAssetSettings,
    files: &[AssetFile<'_>],
    overwrite: bool,
) -> Result<Vec<AttachedAsset>> {
    let api = Api { http, base: format!("{}/repos/{repository}", api_url.trim_end_matches('/')), token, retry: RetryPolicy::from_env() };
    let release = api.release(&settings.tag, repository).await?;
    if release.draft {
        log::info!("attaching to the draft release {}", release.tag_name);
    }
    let upload_base = release.upload_url.split('{').next().unwrap_or_default().to_string();
    if !(upload_base.starts_with("https://") || api_url.starts_with("http://")) {
        return Err(Error::service("release upload", format!("the release's upload_url `{upload_base}` is not https"), "check `GITHUB_API_URL`"));
    }
    let existing = api.assets(release.id).await?;

    let taken: Vec<&str> = files
        .iter()
        .filter(|f| existing.iter().any(|a| a.name == f.name && a.state == "uploaded"))
        .map(|f| f.name)
        .collect();
    if !taken.is_empty() && !overwrite {
        return Err(Error::service(
            format!("release {}", release.tag_name),
            format!("already has the asset {}; nothing was changed", taken.join(" and ")),
            "set `overwrite: true` to replace it, or attach to another `release-tag`",
        ));
    }

    let mut attached = Vec::new();
    for file in files {
        for old in existing.iter().filter(|a| a.name == file.name) {
            if old.state == "uploaded" {
                log::info!("deleting the existing release asset {} because overwrite is true", old.name);
            } else {
                log::warn!("deleting {}, the leftover of a broken upload (state `{}`)", old.name, old.state);
            }
            api.delete_asset(old.id, &old.name).await?;
        }
        let asset = api.upload(&upload_base, release.id, file).await.map_err(|e| match attached.last() {
            None => e,
            Some(AttachedAsset { name, .. }) => {
                let hint = e.hint().to_string();
                Error::service(format!("release {}", release.tag_name), format!("{e} (only {name} was attached)"), hint)
            }
        })?;
        log::info!("attached {} to release {} ({} bytes), verified", asset.name, release.tag_name, asset.size);
        attached.push(asset);
    }
    Ok(attached)
}

struct Api<'a> {
    http: &'a reqwest::Client,
    /// `{api}/repos/{owner}/{repo}`
    base: String,
    token: &'a Secret,
    retry: RetryPolicy,
}

impl Api<'_> {
    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(self.token.expose())
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", API_VERSION)
    }

    async fn send(&self, method: reqwest::Method, url: &str, what: &str) -> Result<reqwest::Response> {
        send_with_retries(what, self.retry, |_| {
            let request = self.request(method.clone(), url);
            async move { Ok(request) }
        })
        .await
    }

    async fn json<T: DeserializeOwned>(&self, response: reqwest::Response, what: &str) -> Result<T> {
        let body = read_bounded(response, MAX_JSON, what).await?;
        serde_json::from_slice(&body).map_err(|e| Error::service(what, format!("the answer is not the expected JSON: {e}"), "check `GITHUB_API_URL`"))
    }

    /// The release with this tag: by tag first, then among all releases (drafts).
    async fn release(&self, tag: &str, repository: &str) -> Result<Release> {
        let what = format!("release {tag}");
        let response = self.send(reqwest::Method::GET, &format!("{}/releases/tags/{}", self.base, super::storage::percent_encode(tag, false)), &what).await?;
        match response.status().as_u16() {
            200 => return self.json(response, &what).await,
            404 => {}
            _ => return Err(refusal(response, &what).await),
        }
        for page in 1..=MAX_RELEASE_PAGES {
            let response = self.send(reqwest::Method::GET, &format!("{}/releases?per_page=100&page={page}", self.base), &what).await?;
            if !response.status().is_success() {
                return Err(refusal(response, &what).await);
            }
            let releases: Vec<Release> = self.json(response, &what).await?;
            let last = releases.len() < 100;
            if let Some(found) = releases.into_iter().find(|r| r.tag_name == tag) {
                return Ok(found);
            }
            if last {
                break;
            }
        }
        Err(Error::service(
            what,
            format!("{repository} has no release with the tag `{tag}` (drafts included)"),
            "create the release before this step (e.g. `gh release create <tag> --draft`), or set `release-tag` to its tag",
        ))
    }

    async fn assets(&self, release_id: i64) -> Result<Vec<Asset>> {
        let what = format!("assets of release {release_id}");
        let mut all = Vec::new();
        for page in 1.. {
            let response = self.send(reqwest::Method::GET, &format!("{}/releases/{release_id}/assets?per_page=100&page={page}", self.base), &what).await?;
            if !response.status().is_success() {
                return Err(refusal(response, &what).await);
            }
            let assets: Vec<Asset> = self.json(response, &what).await?;
            let last = assets.len() < 100;
            all.extend(assets);
            if last {
                break;
            }
        }
        Ok(all)
    }

    async fn delete_asset(&self, asset_id: i64, name: &str) -> Result<()> {
        let what = format!("deleting release asset {name}");
        let response = self.send(reqwest::Method::DELETE, &format!("{}/releases/assets/{asset_id}", self.base), &what).await?;
        match response.status().as_u16() {
            204 | 200 | 404 => Ok(()),
            _ => Err(refusal(response, &what).await),
        }
    }

    /// Uploads one file and checks what GitHub says it stored. A retry first removes
    /// the leftover a broken attempt leaves under the name.
    async fn upload(&self, upload_base: &str, release_id: i64, file: &AssetFile<'_>) -> Result<AttachedAsset> {
        let what = format!("uploading release asset {}", file.name);
        let digest = digest_file(file.path).await?;
        let url = format!("{upload_base}?name={}", super::storage::percent_encode(file.name, false));
        let response = send_with_retries(&what, self.retry, |attempt| {
            let request = self
                .request(reqwest::Method::POST, &url)
                .header("content-type", file.content_type)
                .header("content-length", digest.size);
            let what = what.clone();
            async move {
                if attempt > 1 {
                    for leftover in self.assets(release_id).await?.into_iter().filter(|a| a.name == file.name && a.state != "uploaded") {
                        self.delete_asset(leftover.id, &leftover.name).await?;
                    }
                }
                Ok(request.body(file_body(file.path, Vec::new(), Vec::new(), &what).await?))
            }
        })
        .await?;
        if response.status().as_u16() != 201 {
            return Err(refusal(response, &what).await);
        }
        let asset: Asset = self.json(response, &what).await?;
        let expected_digest = format!("sha256:{}", digest.sha256_hex);
        let wrong = if asset.state != "uploaded" {
            Some(format!("its state is `{}`, not `uploaded`", asset.state))
        } else if asset.size != digest.size {
            Some(format!("GitHub stored {} bytes, not {}", asset.size, digest.size))
        } else {
            asset.digest.as_ref().filter(|d| **d != expected_digest).map(|d| format!("GitHub stored digest {d}, not {expected_digest}"))
        };
        if let Some(wrong) = wrong {
            let cleanup = match self.delete_asset(asset.id, &asset.name).await {
                Ok(()) => "it was deleted".to_string(),
                Err(e) => format!("deleting it failed too, delete it by hand: {e}"),
            };
            return Err(Error::service(what, format!("{wrong}; {cleanup}"), "the upload was damaged on the way; run the step again"));
        }
        Ok(AttachedAsset { name: asset.name, url: asset.browser_download_url, size: asset.size })
    }
}

/// Turns a GitHub refusal into an error that says what to do.
async fn refusal(response: reqwest::Response, what: &str) -> Error {
    let status = response.status().as_u16();
    let rate_limited = response.headers().get("x-ratelimit-remaining").is_some_and(|v| v == "0");
    let body = read_bounded(response, 64 * 1024, what).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let parsed = serde_json::from_str::<serde_json::Value>(&body).ok();
    let message = parsed.as_ref().and_then(|v| v.get("message")).and_then(|m| m.as_str()).map(super::storage::one_line).unwrap_or_else(|| super::storage::one_line(&body));
    let already = parsed.as_ref().and_then(|v| v.get("errors")).and_then(|e| e.as_array()).is_some_and(|e| e.iter().any(|e| e.get("code").and_then(|c| c.as_str()) == Some("already_exists")));
    let said = format!("HTTP {status}: {message}");
    let (reason, hint) = match status {
        _ if rate_limited => (format!("{said} (API rate limit exhausted)"), "wait for the limit to reset (GITHUB_TOKEN allows 1,000 requests per hour per repository)"),
        401 => (format!("the token was refused ({said})"), "pass `github-token: ${{ github.token }}` or a valid token"),
        403 => (format!("the token may not change releases ({said})"), "give the job `permissions: contents: write` (attaching release assets needs it)"),
        422 if already => ("an asset of that name appeared while this step ran; nothing was replaced".to_string(), "set `overwrite: true` to replace it"),
        _ => (said, "try again later; if it persists, check https://www.githubstatus.com"),
    };
    Error::service(what, reason, hint)
}
