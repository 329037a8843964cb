//! The change-trail inputs, read and checked once: `previous-release`,
//! `require-reviewed-changes`, `require-release-approval` → [`ChangeSettings`].
//!
//! The trail is recorded when `previous-release` is given (a tag, or `auto` to find the
//! newest lower version) or when either gate is `true`; both gates default to `false`.
//! It needs the REST API (a token, the repository, the released commit), and the
//! release-approval gate needs the run id: all checked here, before any network call.

use super::RawInputs;
use crate::error::{Error, Result};
use crate::evidence::changes::{ChangeSettings, DEFAULT_REQUEST_BUDGET};
use crate::github::runner::RunnerContext;

/// `previous-release` value that asks for the automatic search.
pub const AUTO: &str = "auto";

/// Reads the change-trail inputs; `None` when the trail is not asked for.
pub fn settings(raw: &RawInputs, runner: &RunnerContext, release_version: &str) -> Result<Option<ChangeSettings>> {
    let require_reviewed_changes = raw.bool("require-reviewed-changes", false)?;
    let require_release_approval = raw.bool("require-release-approval", false)?;
    let previous = raw.get("previous-release");
    if previous.is_none() && !require_reviewed_changes && !require_release_approval {
        return Ok(None);
    }
    let previous_release = match previous {
        None | Some(AUTO) => None,
        Some(tag) => {
            if tag.len() > 250 || tag.chars().any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c)) || tag.contains("..") || tag.starts_with('-') {
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
    let (Some(repository), Some(head_sha)) = (&runner.repository, &runner.sha) else {
        return Err(Error::input("GITHUB_REPOSITORY", format!("and GITHUB_SHA are needed for {what}"), "run as a workflow step, or set GITHUB_REPOSITORY=owner/repo and GITHUB_SHA"));
    };
    if !(head_sha.len() == 40 || head_sha.len() == 64) || !head_sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::input("GITHUB_SHA", format!("`{}` is not a commit sha", head_sha.escape_debug()), "leave it as the runner sets it"));
    }
    if require_release_approval && runner.run_id.is_none() {
        return Err(Error::input(
            raw.label("require-release-approval"),
            "is true, but there is no run id (GITHUB_RUN_ID) whose approvals could be read",
            "run as a step of the release workflow, or set it to false",
        ));
    }
    Ok(Some(ChangeSettings {
        previous_release,
        release_version: release_version.to_string(),
        head_sha: head_sha.to_ascii_lowercase(),
        repository_url: format!("{}/{repository}", runner.server_url),
        run_id: runner.run_id,
        actor: runner.actor.clone(),
        triggering_actor: runner.triggering_actor.clone(),
        require_reviewed_changes,
        require_release_approval,
        request_budget: DEFAULT_REQUEST_BUDGET,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn raw(pairs: &[(&str, &str)]) -> RawInputs {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (crate::config::inputs::input_variable(k), v.to_string())).collect();
        RawInputs::collect(&crate::config::RunArgs::default(), &move |k: &str| map.get(k).cloned())
    }

    fn runner() -> RunnerContext {
        let env: HashMap<&str, &str> =
            [("GITHUB_REPOSITORY", "o/r"), ("GITHUB_SHA", "4f0c6d1e2b3a49587766554433221100ffeeddcc"), ("GITHUB_RUN_ID", "42")].into_iter().collect();
        RunnerContext::from_lookup(&move |k: &str| env.get(k).map(|v| v.to_string())).unwrap()
    }

    #[test]
    fn the_trail_is_off_unless_asked_for() {
        assert_eq!(settings(&raw(&[("github-token", "t")]), &runner(), "1.0.0").unwrap(), None);
        assert_eq!(settings(&raw(&[("github-token", "t"), ("require-reviewed-changes", "false")]), &runner(), "1.0.0").unwrap(), None);
        let s = settings(&raw(&[("github-token", "t"), ("previous-release", "auto")]), &runner(), "1.0.0").unwrap().unwrap();
        assert_eq!(s.previous_release, None);
        assert!(!s.require_reviewed_changes && !s.require_release_approval);
        assert_eq!(s.repository_url, "https://github.com/o/r");
        let s = settings(&raw(&[("github-token", "t"), ("require-release-approval", "true")]), &runner(), "1.0.0").unwrap().unwrap();
        assert!(s.require_release_approval);
        let s = settings(&raw(&[("github-token", "t"), ("previous-release", "v0.9.0")]), &runner(), "1.0.0").unwrap().unwrap();
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
            let err = settings(&raw(pairs), &runner(), "1.0.0").unwrap_err();
            assert!(err.to_string().contains(name), "{pairs:?}: {err}");
        }
    }
}
