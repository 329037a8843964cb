//! The runner's environment: `GITHUB_*` context, the artifacts runtime
//! (`ACTIONS_RUNTIME_TOKEN`, `ACTIONS_RESULTS_URL`), and the two files a step writes
//! to — `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY`.
//!
//! Everything is read once through an injectable lookup so that tests (and the CLI,
//! which passes the same values as flags) never depend on the process environment.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The runner drops a step summary over this size entirely.
pub const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;

/// Reads a variable; empty (after trimming) counts as unset.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// Facts about the workflow run, as the runner exports them.
#[derive(Debug, Clone, Default)]
pub struct RunnerContext {
    pub in_actions: bool,
    pub repository: Option<String>,
    pub run_id: Option<u64>,
    pub run_attempt: Option<u32>,
    pub sha: Option<String>,
    pub git_ref: Option<String>,
    pub workflow: Option<String>,
    pub workflow_ref: Option<String>,
    pub actor: Option<String>,
    pub triggering_actor: Option<String>,
    pub event_name: Option<String>,
    pub event_path: Option<PathBuf>,
    pub server_url: String,
    pub api_url: String,
    pub retention_days: Option<u32>,
    pub runner_temp: Option<PathBuf>,
    pub workspace: Option<PathBuf>,
    pub output_file: Option<PathBuf>,
    pub step_summary: Option<PathBuf>,
    pub debug: bool,
}

impl RunnerContext {
    pub fn from_lookup(env: Lookup<'_>) -> Result<Self> {
        let number = |name: &str| -> Result<Option<u64>> {
            env(name)
                .map(|v| {
                    v.parse::<u64>().map_err(|_| {
                        Error::input(
                            name,
                            format!("`{v}` is not a number"),
                            "unset it or give the value the runner sets",
                        )
                    })
                })
                .transpose()
        };
        let repository = env("GITHUB_REPOSITORY");
        if let Some(repo) = &repository {
            let parts: Vec<&str> = repo.split('/').collect();
            if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
                return Err(Error::input(
                    "GITHUB_REPOSITORY",
                    format!("`{repo}` is not `owner/name`"),
                    "set it to owner/name",
                ));
            }
        }
        Ok(RunnerContext {
            in_actions: env("GITHUB_ACTIONS").as_deref() == Some("true"),
            repository,
            run_id: number("GITHUB_RUN_ID")?,
            run_attempt: number("GITHUB_RUN_ATTEMPT")?.map(|n| n as u32),
            sha: env("GITHUB_SHA"),
            git_ref: env("GITHUB_REF"),
            workflow: env("GITHUB_WORKFLOW"),
            workflow_ref: env("GITHUB_WORKFLOW_REF"),
            actor: env("GITHUB_ACTOR"),
            triggering_actor: env("GITHUB_TRIGGERING_ACTOR"),
            event_name: env("GITHUB_EVENT_NAME"),
            event_path: env("GITHUB_EVENT_PATH").map(PathBuf::from),
            server_url: env("GITHUB_SERVER_URL")
                .unwrap_or_else(|| "https://github.com".into())
                .trim_end_matches('/')
                .to_string(),
            api_url: env("GITHUB_API_URL")
                .unwrap_or_else(|| "https://api.github.com".into())
                .trim_end_matches('/')
                .to_string(),
            retention_days: number("GITHUB_RETENTION_DAYS")?.map(|n| n as u32),
            runner_temp: env("RUNNER_TEMP").map(PathBuf::from),
            workspace: env("GITHUB_WORKSPACE").map(PathBuf::from),
            output_file: env("GITHUB_OUTPUT").map(PathBuf::from),
            step_summary: env("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            debug: env("RUNNER_DEBUG").as_deref() == Some("1"),
        })
    }

    /// `https://github.com/o/r/actions/runs/123[/attempts/2]`
    pub fn run_url(&self) -> Option<String> {
        let repo = self.repository.as_ref()?;
        let id = self.run_id?;
        let mut url = format!("{}/{repo}/actions/runs/{id}", self.server_url);
        if let Some(attempt) = self.run_attempt.filter(|a| *a > 1) {
            url.push_str(&format!("/attempts/{attempt}"));
        }
        Some(url)
    }

    pub fn artifact_url(&self, artifact_id: i64) -> Option<String> {
        let repo = self.repository.as_ref()?;
        let id = self.run_id?;
        Some(format!("{}/{repo}/actions/runs/{id}/artifacts/{artifact_id}", self.server_url))
    }

    /// A path as later steps of the job can use it: relative to the workspace when it
    /// lies inside (a container action sees the workspace at `/github/workspace`, the
    /// next step at another absolute path), absolute otherwise.
    pub fn path_for_later_steps(&self, path: &std::path::Path) -> String {
        if let Some(rel) = self.workspace.as_ref().and_then(|w| path.strip_prefix(w).ok()) {
            return rel.display().to_string();
        }
        path.display().to_string()
    }

    /// The run that triggered this one, for a `workflow_run` event (the payload's
    /// `workflow_run.id`): an audit started when the release or test workflow finished
    /// reads that run's report artifacts without being given its id.
    pub fn triggering_run(&self) -> Option<u64> {
        if self.event_name.as_deref() != Some("workflow_run") {
            return None;
        }
        let text = std::fs::read_to_string(self.event_path.as_ref()?).ok()?;
        let event: serde_json::Value = serde_json::from_str(&text).ok()?;
        event.pointer("/workflow_run/id")?.as_u64()
    }

    /// The head commit's timestamp from the event payload, when the event has one
    /// (push events do); used as the bundle's fixed file time.
    pub fn head_commit_epoch(&self) -> Option<i64> {
        let path = self.event_path.as_ref()?;
        let text = std::fs::read_to_string(path).ok()?;
        let event: serde_json::Value = serde_json::from_str(&text).ok()?;
        let stamp = event.pointer("/head_commit/timestamp")?.as_str()?;
        chrono::DateTime::parse_from_rfc3339(stamp).ok().map(|t| t.timestamp())
    }
}

/// The artifacts v4 runtime the runner injects into the step.
#[derive(Debug, Clone)]
pub struct ActionsRuntime {
    pub token: Secret,
    pub results_url: Option<String>,
}

impl ActionsRuntime {
    pub fn from_lookup(env: Lookup<'_>) -> Option<Self> {
        let token = env("ACTIONS_RUNTIME_TOKEN")?;
        Some(ActionsRuntime { token: Secret::new(token), results_url: env("ACTIONS_RESULTS_URL") })
    }
}

/// Appends `name=value` pairs to `GITHUB_OUTPUT`; every value uses the heredoc form
/// with a random delimiter, so multi-line values are safe.
pub struct OutputFile {
    path: PathBuf,
}

impl OutputFile {
    pub fn new(path: PathBuf) -> Self {
        OutputFile { path }
    }

    pub fn set(&self, name: &str, value: &str) -> Result<()> {
        let delimiter = loop {
            let d = format!("ghadelimiter_{}", random_hex(16));
            if !value.contains(&d) && !name.contains(&d) {
                break d;
            }
        };
        let entry = format!("{name}<<{delimiter}\n{value}\n{delimiter}\n");
        append(&self.path, entry.as_bytes(), "GITHUB_OUTPUT")
    }
}

/// Appends Markdown to the step summary file.
pub fn append_summary(path: &Path, markdown: &str) -> Result<()> {
    append(path, markdown.as_bytes(), "GITHUB_STEP_SUMMARY")
}

/// Checks that a file can be opened for appending, without writing to it.
pub fn check_appendable(path: &Path, variable: &str) -> Result<()> {
    OpenOptions::new().create(true).append(true).open(path).map(|_| ()).map_err(|e| {
        Error::input(
            variable,
            format!("cannot write {}: {e}", path.display()),
            "run inside a GitHub runner or point it to a writable file",
        )
    })
}

fn append(path: &Path, bytes: &[u8], variable: &str) -> Result<()> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e, format!("{variable} must name a writable file")))?;
    file.write_all(bytes).map_err(|e| Error::io(path, e, format!("{variable} must name a writable file")))
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    hex::encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup<'a>(map: &'a HashMap<&'a str, &'a str>) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| map.get(k).map(|v| v.to_string())
    }

    #[test]
    fn run_url_includes_attempt_after_the_first() {
        let env = HashMap::from([("GITHUB_REPOSITORY", "o/r"), ("GITHUB_RUN_ID", "42"), ("GITHUB_RUN_ATTEMPT", "2")]);
        let ctx = RunnerContext::from_lookup(&lookup(&env)).unwrap();
        assert_eq!(ctx.run_url().unwrap(), "https://github.com/o/r/actions/runs/42/attempts/2");
        assert_eq!(ctx.artifact_url(7).unwrap(), "https://github.com/o/r/actions/runs/42/artifacts/7");
    }

    #[test]
    fn bad_run_id_names_the_variable() {
        let env = HashMap::from([("GITHUB_RUN_ID", "abc")]);
        let err = RunnerContext::from_lookup(&lookup(&env)).unwrap_err().to_string();
        assert!(err.contains("GITHUB_RUN_ID"), "{err}");
    }

    #[test]
    fn multi_line_output_round_trips_with_a_random_delimiter() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let out = OutputFile::new(path.clone());
        out.set("paths", "a\nb").unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        let delim = header.strip_prefix("paths<<").unwrap();
        assert!(delim.starts_with("ghadelimiter_") && delim.len() > 20);
        assert_eq!(lines.next(), Some("a"));
        assert_eq!(lines.next(), Some("b"));
        assert_eq!(lines.next(), Some(delim));
    }
}
