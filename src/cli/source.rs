//! The released commit, settled once before any evidence is collected: the release is
//! the tag. Kyma's `create-release.yml` runs on `main` (`GITHUB_SHA`) and tags a later
//! commit of `release-X.Y`; the audit must describe the tagged commit, so the change
//! trail's range, the statements' subjects and the manifest all name it.
//!
//! Order: `release-commit` as given; else the commit of the first release tag that
//! exists (`release-tag`, or the version with and without `v`; annotated tags peeled);
//! else the commit the inputs or the runner named (`head-sha`, `GITHUB_SHA`), which the
//! manifest then says (`source.commit_source`).

use crate::config::{CommitSource, Config};
use crate::error::Result;
use crate::github::rest::Rest;

/// `config` with the released commit settled (see the module doc).
pub async fn settle_release_commit(config: &Config, rest: Option<&Rest>) -> Result<Config> {
    if config.commit_source == CommitSource::Input || config.release_tags.is_empty() {
        return Ok(config.clone());
    }
    let Some(rest) = rest else {
        log::warn!(
            "the release tag was not looked up (no github-token): the released commit is the one the runner named"
        );
        return Ok(config.clone());
    };
    match crate::github::tags::release_commit(rest, &config.release_tags).await? {
        Some(tagged) => {
            log::info!(
                "released commit {} from the tag {}{}",
                tagged.commit,
                tagged.tag,
                if tagged.annotated { " (annotated)" } else { "" }
            );
            Ok(config.with_tagged_commit(&tagged))
        }
        None => {
            log::info!(
                "no release tag ({}) exists yet: the released commit is {}",
                config.release_tags.join(", "),
                config.commit.as_deref().unwrap_or("unknown")
            );
            Ok(config.clone())
        }
    }
}
