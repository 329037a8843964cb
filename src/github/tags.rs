//! The release is the tag: the commit a release tag names, through the git database
//! routes (`GET /git/ref/tags/{tag}`, then `GET /git/tags/{sha}` for each annotated tag
//! on the way, at most [`MAX_PEEL`] levels), so the audit names the commit that was
//! released — a tag on a release branch — and not the commit the release workflow was
//! started on (`GITHUB_SHA`, usually `main`).
//!
//! The candidates are the names a release tag of that version may have: the given
//! `release-tag`, else the version as given and with or without a leading `v`. The first
//! that exists decides; none existing is `None` (the caller falls back and says so).

use serde::Deserialize;

use super::rest::{Answer, Rest};
use crate::error::{Error, Result};

/// Annotated tags may point at annotated tags; more levels than this are refused.
pub const MAX_PEEL: usize = 4;

/// Which tag named the commit, and the commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedCommit {
    pub tag: String,
    pub commit: String,
    /// The tag was an annotated tag object (peeled to its commit).
    pub annotated: bool,
}

#[derive(Deserialize)]
struct GitObject {
    #[serde(rename = "type")]
    kind: String,
    sha: String,
}

#[derive(Deserialize)]
struct Ref {
    object: GitObject,
}

#[derive(Deserialize)]
struct TagObject {
    object: GitObject,
}

/// The tag names to try for a release, in order: `release_tag` alone when given, else the
/// version, then the version with `v` added or removed.
pub fn candidates(release_tag: Option<&str>, version: &str) -> Vec<String> {
    if let Some(tag) = release_tag {
        return vec![tag.to_string()];
    }
    let other = match version.strip_prefix('v') {
        Some(bare) => bare.to_string(),
        None => format!("v{version}"),
    };
    vec![version.to_string(), other]
}

/// The commit the first existing candidate tag names, or `None` when no candidate exists.
pub async fn release_commit(rest: &Rest, candidates: &[String]) -> Result<Option<TaggedCommit>> {
    for tag in candidates {
        if let Some(found) = tag_commit(rest, tag).await? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// The commit `tag` names (annotated tags peeled), or `None` when there is no such tag.
pub async fn tag_commit(rest: &Rest, tag: &str) -> Result<Option<TaggedCommit>> {
    let what = format!("tag `{tag}`");
    let encoded = percent_encoding::utf8_percent_encode(tag, percent_encoding::NON_ALPHANUMERIC).to_string();
    let Some(reference) = get::<Ref>(rest, &format!("git/ref/tags/{encoded}"), &what).await? else {
        return Ok(None);
    };
    let mut object = reference.object;
    let mut annotated = false;
    for _ in 0..=MAX_PEEL {
        match object.kind.as_str() {
            "commit" => {
                check_sha(&object.sha, &what)?;
                return Ok(Some(TaggedCommit { tag: tag.to_string(), commit: object.sha, annotated }));
            }
            "tag" => {
                check_sha(&object.sha, &what)?;
                annotated = true;
                let tag_object = get::<TagObject>(rest, &format!("git/tags/{}", object.sha), &what).await?;
                object = tag_object
                    .ok_or_else(|| {
                        Error::service(&what, format!("the tag object {} is missing", object.sha), "try again")
                    })?
                    .object;
            }
            other => {
                return Err(Error::evidence(
                    &what,
                    format!("names a {other}, not a commit"),
                    "give the release's commit with `release-commit`, or tag the commit",
                ));
            }
        }
    }
    Err(Error::evidence(
        &what,
        format!("is an annotated tag nested more than {MAX_PEEL} levels deep"),
        "give the release's commit with `release-commit`",
    ))
}

/// GETs a route; 404 is `None`.
async fn get<T: serde::de::DeserializeOwned>(rest: &Rest, route: &str, what: &str) -> Result<Option<T>> {
    let url = rest.url(route);
    match rest.send(what, |_| std::future::ready(Ok(rest.request(reqwest::Method::GET, &url)))).await? {
        Answer::Done(response) => Ok(Some(rest.json(response, what).await?)),
        Answer::Refused(r) if r.status == 404 => Ok(None),
        Answer::Refused(r) => Err(crate::github::rest::read_error(r, what, rest.repository())),
    }
}

fn check_sha(sha: &str, what: &str) -> Result<()> {
    if sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Error::service(what, format!("`{}` is not a commit id", sha.escape_debug()), "check `GITHUB_API_URL`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_try_the_version_with_and_without_v() {
        assert_eq!(candidates(None, "1.2.3"), ["1.2.3", "v1.2.3"]);
        assert_eq!(candidates(None, "v1.2.3"), ["v1.2.3", "1.2.3"]);
        assert_eq!(candidates(None, "1.2.3-rc1"), ["1.2.3-rc1", "v1.2.3-rc1"]);
        assert_eq!(candidates(Some("release-1.2.3"), "1.2.3"), ["release-1.2.3"]);
    }
}
