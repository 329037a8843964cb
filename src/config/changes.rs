//! The change-trail inputs, read and checked once: `previous-release`,
//! `require-reviewed-changes`, `require-release-approval` → [`ChangeSettings`].
//!
//! The trail is recorded when `previous-release` is given (a tag, or `auto` to find the
//! newest lower version) or when either gate is `true`; both gates default to `false`.
//! It needs the REST API (a token, the repository, the released commit), and the
//! release-approval gate needs the run id: all checked here, before any network call.

use super::RawInputs;
use crate::error::{Error, Result};
use crate::evidence::changes::{ChangeSettings, DEFAULT_POINT_BUDGET, DEFAULT_REQUEST_BUDGET};
use crate::github::runner::RunnerContext;

/// `previous-release` value that asks for the automatic search.
pub const AUTO: &str = "auto";

/// The audited repository and release commit, as the seam resolved them.
pub struct Target<'a> {
    pub repository: Option<&'a str>,
    pub commit: Option<&'a str>,
    /// `repository` names another repository than the one the workflow runs in: the
    /// current run (its approvals, its actor) is not that release's run.
    pub other_repository: bool,
}

/// Reads the change-trail inputs; `None` when the trail is not asked for.
pub fn settings(
    raw: &RawInputs,
    runner: &RunnerContext,
    target: &Target<'_>,
    release_version: &str,
) -> Result<Option<ChangeSettings>> {
    let require_reviewed_changes = raw.bool("require-reviewed-changes", false)?;
    let require_release_approval = raw.bool("require-release-approval", false)?;
    let previous = raw.get("previous-release");
    if previous.is_none() && !require_reviewed_changes && !require_release_approval {
        return Ok(None);
    }
    let previous_release = match previous {
        None | Some(AUTO) => None,
        Some(tag) => {
            if tag.len() > 250
                || tag.chars().any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c))
                || tag.contains("..")
                || tag.starts_with('-')
            {
                return Err(Error::input(
                    raw.label("previous-release"),
                    format!("`{}` is not a git tag name", tag.escape_debug()),
                    "give the previous release's tag (e.g. 1.2.2 or v1.2.2), or `auto` to find the newest lower version",
                ));
            }
            Some(tag.to_string())
        }
    };
    let what = "the change trail (`previous-release`, `require-reviewed-changes`, `require-release-approval`)";
    if raw.get("github-token").is_none() {
        return Err(Error::input(
            raw.label("github-token"),
            format!("is empty, but {what} reads commits, pull requests and reviews through the REST API"),
            "pass `github-token: ${{ github.token }}` and give the job `permissions: contents: read, pull-requests: read, actions: read`",
        ));
    }
    let Some(repository) = target.repository else {
        return Err(Error::input(
            "GITHUB_REPOSITORY",
            format!("is needed for {what}"),
            "run as a workflow step, or give `repository: owner/repo`",
        ));
    };
    let Some(head_sha) = target.commit else {
        return Err(Error::input(
            raw.label("head-sha"),
            format!("is needed for {what}: the released commit of {repository}"),
            "give `head-sha` with the release's commit",
        ));
    };
    if !(head_sha.len() == 40 || head_sha.len() == 64) || !head_sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::input(
            raw.label("head-sha"),
            format!("`{}` is not a full commit sha", head_sha.escape_debug()),
            "give the 40-character sha of the released commit",
        ));
    }
    let run_id = if target.other_repository { None } else { runner.run_id };
    if require_release_approval && run_id.is_none() {
        let why = if target.other_repository {
            format!("is true, but the current run is not {repository}'s release run, whose approvals it would need")
        } else {
            "is true, but there is no run id (GITHUB_RUN_ID) whose approvals could be read".to_string()
        };
        return Err(Error::input(
            raw.label("require-release-approval"),
            why,
            "run it as a step of the release workflow, or set it to false",
        ));
    }
    Ok(Some(ChangeSettings {
        previous_release,
        release_version: release_version.to_string(),
        head_sha: head_sha.to_ascii_lowercase(),
        repository_url: format!("{}/{repository}", runner.server_url),
        run_id,
        actor: if target.other_repository { None } else { runner.actor.clone() },
        triggering_actor: if target.other_repository { None } else { runner.triggering_actor.clone() },
        require_reviewed_changes,
        require_release_approval,
        release_approval_environments: raw.list("release-approval-environments"),
        request_budget: DEFAULT_REQUEST_BUDGET,
        point_budget: DEFAULT_POINT_BUDGET,
        // Checked by the seam before this (an invalid `timeout` stops there).
        timeout: raw.get("timeout").and_then(super::parse_duration).unwrap_or(super::DEFAULT_TIMEOUT),
        // The run sets the audit's own deadline when it starts the stage.
        deadline: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn raw(pairs: &[(&str, &str)]) -> RawInputs {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (crate::config::inputs::input_variable(k), v.to_string())).collect();
        RawInputs::collect(&crate::config::RunArgs::default(), &move |k: &str| map.get(k).cloned())
    }

    fn target() -> Target<'static> {
        Target {
            repository: Some("o/r"),
            commit: Some("4f0c6d1e2b3a49587766554433221100ffeeddcc"),
            other_repository: false,
        }
    }

    fn runner() -> RunnerContext {
        let env: HashMap<&str, &str> = [
            ("GITHUB_REPOSITORY", "o/r"),
            ("GITHUB_SHA", "4f0c6d1e2b3a49587766554433221100ffeeddcc"),
            ("GITHUB_RUN_ID", "42"),
        ]
        .into_iter()
        .collect();
        RunnerContext::from_lookup(&move |k: &str| env.get(k).map(|v| v.to_string())).unwrap()
    }

    #[test]
    fn the_trail_is_off_unless_asked_for() {
        assert_eq!(settings(&raw(&[("github-token", "t")]), &runner(), &target(), "1.0.0").unwrap(), None);
        assert_eq!(
            settings(
                &raw(&[("github-token", "t"), ("require-reviewed-changes", "false")]),
                &runner(),
                &target(),
                "1.0.0"
            )
            .unwrap(),
            None
        );
        let s = settings(&raw(&[("github-token", "t"), ("previous-release", "auto")]), &runner(), &target(), "1.0.0")
            .unwrap()
            .unwrap();
        assert_eq!(s.previous_release, None);
        assert!(!s.require_reviewed_changes && !s.require_release_approval);
        assert_eq!(s.repository_url, "https://github.com/o/r");
        let s = settings(
            &raw(&[("github-token", "t"), ("require-release-approval", "true")]),
            &runner(),
            &target(),
            "1.0.0",
        )
        .unwrap()
        .unwrap();
        assert!(s.require_release_approval);
        let s = settings(&raw(&[("github-token", "t"), ("previous-release", "v0.9.0")]), &runner(), &target(), "1.0.0")
            .unwrap()
            .unwrap();
        assert_eq!(s.previous_release.as_deref(), Some("v0.9.0"));
    }

    #[test]
    fn bad_inputs_name_themselves() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("github-token", "t"), ("previous-release", "a b")], "previous-release"),
            (&[("github-token", "t"), ("previous-release", "a..b")], "previous-release"),
            (&[("github-token", "t"), ("require-reviewed-changes", "yes")], "require-reviewed-changes"),
            (&[("require-reviewed-changes", "true")], "github-token"),
        ];
        for (pairs, name) in cases {
            let err = settings(&raw(pairs), &runner(), &target(), "1.0.0").unwrap_err();
            assert!(err.to_string().contains(name), "{pairs:?}: {err}");
        }
        // Another repository's release: its run is not this one.
        let other = Target { other_repository: true, ..target() };
        let err =
            settings(&raw(&[("github-token", "t"), ("require-release-approval", "true")]), &runner(), &other, "1.0.0")
                .unwrap_err();
        assert!(err.to_string().contains("not o/r's release run"), "{err}");
        let s = settings(&raw(&[("github-token", "t"), ("previous-release", "auto")]), &runner(), &other, "1.0.0")
            .unwrap()
            .unwrap();
        assert_eq!((s.run_id, s.actor), (None, None));
        let no_commit = Target { commit: None, ..target() };
        let err =
            settings(&raw(&[("github-token", "t"), ("previous-release", "auto")]), &runner(), &no_commit, "1.0.0")
                .unwrap_err();
        assert!(err.to_string().contains("head-sha"), "{err}");
    }
}
