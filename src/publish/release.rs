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
//! The routes go through the one REST client (`github::rest::Rest`: headers,
//! retries, pagination, typed refusals); this module keeps what is particular to
//! releases: finding drafts, the overwrite rules, and checking what GitHub stored.

use std::path::Path;

use serde::Deserialize;

use super::storage::{digest_file, file_body};
use crate::error::Refusal;
use crate::error::{Error, Result};
use crate::github::rest::{Answer, Rest};

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
    /// GitHub's id of the asset.
    pub id: i64,
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
/// `overwrite` (then it is replaced once its successor is attached and verified). A leftover of a broken upload (state not
/// `uploaded`) is deleted either way: it is not an asset anyone can download.
pub async fn attach(
    rest: &Rest,
    settings: &ReleaseAssetSettings,
    files: &[AssetFile<'_>],
    overwrite: bool,
) -> Result<Vec<AttachedAsset>> {
    let api = Api { rest };
    let repository = rest.repository();
    let release = api.release(&settings.tag, repository).await?;
    if release.draft {
        log::info!("attaching to the draft release {}", release.tag_name);
    }
    let upload_base = release.upload_url.split('{').next().unwrap_or_default().to_string();
    if !(upload_base.starts_with("https://") || rest.url("").starts_with("http://")) {
        return Err(Error::service(
            "release upload",
            format!("the release's upload_url `{upload_base}` is not https"),
            "check `GITHUB_API_URL`",
        ));
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
        // An existing asset is replaced only once its successor is attached and
        // verified: uploaded under a temporary name, then the old one deleted and the
        // new one renamed. A failed upload leaves the old asset as it was.
        let temporary = format!("{}.replacing", file.name);
        let mut replaced = None;
        for old in existing.iter().filter(|a| a.name == file.name || a.name == temporary) {
            if old.state == "uploaded" && old.name == file.name {
                replaced = Some(old);
                continue;
            }
            log::warn!("deleting {}, the leftover of a broken upload (state `{}`)", old.name, old.state);
            api.delete_asset(old.id, &old.name).await?;
        }
        let upload_as = AssetFile { name: if replaced.is_some() { &temporary } else { file.name }, ..*file };
        let mut asset = api.upload(&upload_base, release.id, &upload_as).await.map_err(|e| match attached.last() {
            None => e,
            Some(AttachedAsset { name, .. }) => {
                let hint = e.hint().to_string();
                Error::service(format!("release {}", release.tag_name), format!("{e} (only {name} was attached)"), hint)
            }
        })?;
        if let Some(old) = replaced {
            log::info!("replacing the release asset {} because overwrite is true", old.name);
            api.delete_asset(old.id, &old.name).await?;
            asset = api.rename_asset(asset.id, file.name).await.map_err(|e| {
                let hint = e.hint().to_string();
                Error::service(
                    format!("release {}", release.tag_name),
                    format!("{e}; the new asset is attached as {temporary}: rename it to {}", file.name),
                    hint,
                )
            })?;
        }
        log::info!("attached {} to release {} ({} bytes), verified", asset.name, release.tag_name, asset.size);
        attached.push(asset);
    }
    Ok(attached)
}

impl From<Asset> for AttachedAsset {
    fn from(a: Asset) -> Self {
        AttachedAsset { id: a.id, name: a.name, url: a.browser_download_url, size: a.size }
    }
}

/// The release routes, through the one REST client.
struct Api<'a> {
    rest: &'a Rest,
}

impl Api<'_> {
    /// Sends one request (retried by the client); a refusal is an error with hints
    /// for writing releases, except the statuses `accept` lists.
    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        what: &str,
        accept: &[u16],
    ) -> Result<Option<reqwest::Response>> {
        match self.rest.send(what, |_| std::future::ready(Ok(self.rest.request(method.clone(), url)))).await? {
            Answer::Done(r) => Ok(Some(r)),
            Answer::Refused(r) if accept.contains(&r.status) => Ok(None),
            Answer::Refused(r) => Err(refusal(r, what)),
        }
    }

    /// The release with this tag: by tag first, then among all releases (drafts).
    async fn release(&self, tag: &str, repository: &str) -> Result<Release> {
        let what = format!("release {tag}");
        let by_tag = self.rest.url(&format!("releases/tags/{}", super::storage::percent_encode(tag, false)));
        if let Some(response) = self.send(reqwest::Method::GET, &by_tag, &what, &[404]).await? {
            return self.rest.json(response, &what).await;
        }
        let releases: Vec<Release> = self.rest.all_pages_or("releases?", "", &what, |r| refusal(r, &what)).await?;
        if let Some(found) = releases.into_iter().find(|r| r.tag_name == tag) {
            return Ok(found);
        }
        Err(Error::service(
            what,
            format!("{repository} has no release with the tag `{tag}` (drafts included)"),
            "create the release before this step (e.g. `gh release create <tag> --draft`), or set `release-tag` to its tag",
        ))
    }

    async fn assets(&self, release_id: i64) -> Result<Vec<Asset>> {
        let what = format!("assets of release {release_id}");
        self.rest.all_pages_or(&format!("releases/{release_id}/assets?"), "", &what, |r| refusal(r, &what)).await
    }

    async fn delete_asset(&self, asset_id: i64, name: &str) -> Result<()> {
        let what = format!("deleting release asset {name}");
        self.send(reqwest::Method::DELETE, &self.rest.url(&format!("releases/assets/{asset_id}")), &what, &[404])
            .await
            .map(|_| ())
    }

    /// Uploads one file and checks what GitHub says it stored. A retry first removes
    /// the leftover a broken attempt leaves under the name.
    async fn upload(&self, upload_base: &str, release_id: i64, file: &AssetFile<'_>) -> Result<AttachedAsset> {
        let what = format!("uploading release asset {}", file.name);
        let digest = digest_file(file.path).await?;
        let url = format!("{upload_base}?name={}", super::storage::percent_encode(file.name, false));
        let answer = self
            .rest
            .send(&what, |attempt| {
                let request = self
                    .rest
                    .request(reqwest::Method::POST, &url)
                    .header("content-type", file.content_type)
                    .header("content-length", digest.size);
                let what = what.clone();
                async move {
                    if attempt > 1 {
                        for leftover in self
                            .assets(release_id)
                            .await?
                            .into_iter()
                            .filter(|a| a.name == file.name && a.state != "uploaded")
                        {
                            self.delete_asset(leftover.id, &leftover.name).await?;
                        }
                    }
                    Ok(request.body(file_body(file.path, Vec::new(), Vec::new(), &what).await?))
                }
            })
            .await?;
        let response = match answer {
            Answer::Done(r) if r.status().as_u16() == 201 => r,
            Answer::Done(r) => {
                return Err(Error::service(
                    &what,
                    format!("HTTP {} where 201 Created was expected", r.status().as_u16()),
                    "check `GITHUB_API_URL`",
                ));
            }
            // A retry after an attempt whose answer was lost: the asset may be ours.
            Answer::Refused(r) if r.is(ALREADY_EXISTS) => {
                let expected = format!("sha256:{}", digest.sha256_hex);
                let ours = self.assets(release_id).await?.into_iter().find(|a| {
                    a.name == file.name
                        && a.state == "uploaded"
                        && a.size == digest.size
                        && a.digest.as_deref().is_none_or(|d| d == expected)
                });
                return match ours {
                    Some(a) if a.digest.is_some() => Ok(a.into()),
                    _ => Err(refusal(r, &what)),
                };
            }
            Answer::Refused(r) => return Err(refusal(r, &what)),
        };
        let asset: Asset = self.rest.json(response, &what).await?;
        let expected_digest = format!("sha256:{}", digest.sha256_hex);
        let wrong = if asset.state != "uploaded" {
            Some(format!("its state is `{}`, not `uploaded`", asset.state))
        } else if asset.size != digest.size {
            Some(format!("GitHub stored {} bytes, not {}", asset.size, digest.size))
        } else {
            asset
                .digest
                .as_ref()
                .filter(|d| **d != expected_digest)
                .map(|d| format!("GitHub stored digest {d}, not {expected_digest}"))
        };
        if let Some(wrong) = wrong {
            let cleanup = match self.delete_asset(asset.id, &asset.name).await {
                Ok(()) => "it was deleted".to_string(),
                Err(e) => format!("deleting it failed too, delete it by hand: {e}"),
            };
            return Err(Error::service(
                what,
                format!("{wrong}; {cleanup}"),
                "the upload was damaged on the way; run the step again",
            ));
        }
        Ok(asset.into())
    }

    /// Renames an attached asset (`PATCH /releases/assets/{id}`).
    async fn rename_asset(&self, asset_id: i64, name: &str) -> Result<AttachedAsset> {
        let what = format!("renaming release asset {asset_id} to {name}");
        let url = self.rest.url(&format!("releases/assets/{asset_id}"));
        let body = serde_json::json!({ "name": name }).to_string();
        let answer = self
            .rest
            .send(&what, |_| {
                std::future::ready(Ok(self
                    .rest
                    .request(reqwest::Method::PATCH, &url)
                    .header("content-type", "application/json")
                    .body(body.clone())))
            })
            .await?;
        let response = match answer {
            Answer::Done(r) => r,
            Answer::Refused(r) => return Err(refusal(r, &what)),
        };
        let asset: Asset = self.rest.json(response, &what).await?;
        if asset.name != name {
            return Err(Error::service(
                what,
                format!("GitHub named it `{}`", asset.name),
                "rename the asset by hand in the release",
            ));
        }
        Ok(asset.into())
    }
}

/// Turns a GitHub refusal into an error that says what to do when writing releases.
fn refusal(r: Refusal, what: &str) -> Error {
    let said = r.said();
    let (reason, hint) = match r.status {
        _ if r.is(Refusal::RATE_LIMITED) => (
            format!("{said} (API rate limit exhausted)"),
            "wait for the limit to reset (GITHUB_TOKEN allows 1,000 requests per hour per repository)",
        ),
        401 => (format!("the token was refused ({said})"), "pass `github-token: ${{ github.token }}` or a valid token"),
        403 => (
            format!("the token may not change releases ({said})"),
            "give the job `permissions: contents: write` (attaching release assets needs it)",
        ),
        422 if r.is(ALREADY_EXISTS) => (
            "an asset of that name appeared while this step ran; nothing was replaced".to_string(),
            "set `overwrite: true` to replace it",
        ),
        _ => (said, "try again later; if it persists, check https://www.githubstatus.com"),
    };
    Error::service(what, reason, hint).with_refusal(r)
}

/// The code of a 422 whose `errors` say the asset exists (GitHub's `errors[].code`).
const ALREADY_EXISTS: &str = "already_exists";
