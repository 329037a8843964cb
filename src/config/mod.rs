//! The input seam: every input name, flag, default and check lives below this module,
//! and what leaves it is typed settings per stage.
//!
//! Two levels, as in ripgrep's `flags/`: [`inputs`] holds the strings as given
//! ([`RawInputs`]: `INPUT_<NAME>` in action mode — name upper-cased, hyphens kept, value
//! trimmed, the runner's rule — or the flags of the same names, a flag winning over its
//! variable); [`Config::from_raw`] turns them once into a validated [`Config`], before
//! any network call. The stage parsers ([`images`], [`test_reports`], [`storage`],
//! [`release`]) are also what the CLI subcommands call with their own flag names, so a
//! value is checked the same way wherever it comes from and an error names what the
//! user typed. Nothing downstream re-checks an input, and no stage module imports
//! this one: dependencies point from here to the stages, never back.

pub mod attach;
pub mod changes;
pub mod images;
pub mod inputs;
pub mod record;
pub mod release;
pub mod storage;
pub mod test_reports;

use std::path::{Path, PathBuf};

pub use inputs::{RawInputs, RunArgs, input_variable};

use crate::error::{Error, Result};
use crate::github::artifacts::{ArtifactName, BackendIds, ResultsService};
use crate::github::runner::{ActionsRuntime, Lookup, RunnerContext, check_appendable};
use crate::secret::Secret;

/// Highest retention GitHub allows for an artifact (private repositories).
pub const MAX_RETENTION_DAYS: u32 = 400;

/// Where the runner mounts the workspace into a container action.
pub const CONTAINER_WORKSPACE: &str = "/github/workspace";

/// The validated settings of one audit.
#[derive(Debug, Clone)]
pub struct Config {
    pub github_token: Option<Secret>,
    pub release_version: String,
    /// The audited repository (`owner/repo`): the `repository` input, else the one the
    /// workflow runs in. `None` only outside a runner without the input.
    pub repository: Option<String>,
    /// The commit of the release as the inputs name it: `release-commit`; else, until
    /// the release tag is looked up ([`Config::with_tagged_commit`]), `GITHUB_SHA` when the
    /// audited repository is the current one, or `head-sha`.
    pub commit: Option<String>,
    /// Where [`Config::commit`] came from.
    pub commit_source: CommitSource,
    /// Tag names that name the release (`release-tag`, else the version with and without
    /// `v`), looked up before anything is collected: the tag's commit is the release's.
    /// Empty when `release-commit` names the commit.
    pub release_tags: Vec<String>,
    /// `head-sha` was given (so the `workflows` runs are searched for that commit, not
    /// for the release tag's).
    pub head_sha_given: bool,
    pub bundle_name: ArtifactName,
    pub bundle_dir: PathBuf,
    pub retention_days: Option<u32>,
    pub overwrite: bool,
    pub upload: bool,
    pub summary: bool,
    /// The longest the whole audit may take (`timeout`).
    pub timeout: std::time::Duration,
    /// Fixed time for every entry in the bundle zip (seconds since the epoch).
    pub source_date_epoch: i64,
    /// When the audit runs, RFC 3339 UTC (`SOURCE_DATE_EPOCH` when set, else now): the
    /// manifest's `run.audited_at`, the VSA's `timeVerified`.
    pub audited_at: String,
    pub runner: RunnerContext,
    /// Present whenever the runner gave us one; required when `upload` is true.
    pub results: Option<ResultsService>,
    /// Test evidence settings, when reports are to be collected.
    pub tests: Option<crate::evidence::test_reports::TestSettings>,
    /// Image evidence settings, when images are to be compared.
    pub images: Option<crate::evidence::images::ImageSettings>,
    /// Object storage target, when the bundle is to be stored beyond artifact retention.
    pub storage: Option<crate::publish::storage::StorageSettings>,
    /// GitHub release to attach the bundle to.
    pub release_asset: Option<crate::publish::release::ReleaseAssetSettings>,
    /// The change and approval trail, when asked for.
    pub changes: Option<crate::evidence::changes::ChangeSettings>,
}

impl Config {
    /// Validates every input. `env` reads runner variables (`GITHUB_*`, `ACTIONS_*`,
    /// `SOURCE_DATE_EPOCH`).
    pub fn from_raw(raw: &RawInputs, env: Lookup<'_>) -> Result<Self> {
        let runner = RunnerContext::from_lookup(env)?;

        let release_version = release_version(raw)?;
        let bundle_name = bundle_name(raw, &release_version)?;
        let retention_days = retention_days(raw)?;
        let timeout = timeout(raw)?;
        let overwrite = raw.bool("overwrite", false)?;
        let upload = raw.bool("upload", true)?;
        let summary = raw.bool("summary", true)?;
        let bundle_dir = bundle_dir(raw, &runner)?;

        if summary && let Some(path) = &runner.step_summary {
            check_appendable(path, "GITHUB_STEP_SUMMARY")?;
        }
        if let Some(path) = &runner.output_file {
            check_appendable(path, "GITHUB_OUTPUT")?;
        }

        let results = results_service(env)?;
        if upload && results.is_none() {
            return Err(missing_results_service(env));
        }
        let source_date_epoch = source_date_epoch(env, &runner)?;
        let audited_at = audited_at(env);
        let AuditedSource { repository, commit, commit_source, other_repository } = audited_source(raw, &runner)?;
        let release_tags = match commit_source {
            CommitSource::Input => Vec::new(),
            _ => crate::github::tags::candidates(raw.get("release-tag"), &release_version),
        };
        let tests = test_reports::settings(raw, commit.as_deref(), runner.triggering_run())?;
        let images = images::settings(raw)?;
        let storage = storage::settings(raw)?;
        if let Some(storage) = &storage {
            check_object_keys(raw, storage, repository.as_deref(), &release_version, bundle_name.as_str())?;
        }
        let release_asset = release::settings(raw, &release_version, bundle_name.as_str())?;
        if release_asset.is_some() && repository.is_none() {
            return Err(Error::input(
                "GITHUB_REPOSITORY",
                "is needed to find the release",
                "run as a workflow step or set GITHUB_REPOSITORY=owner/repo",
            ));
        }
        let target = changes::Target { repository: repository.as_deref(), commit: commit.as_deref(), other_repository };
        let changes = changes::settings(raw, &runner, &target, &release_version)?;
        if let Some(tests) = &tests {
            check_report_sources(raw, tests, results.is_some(), repository.as_deref(), other_repository)?;
        }

        Ok(Config {
            github_token: raw.get("github-token").map(Secret::new),
            release_version,
            repository,
            commit,
            commit_source,
            release_tags,
            head_sha_given: raw.get("head-sha").is_some(),
            timeout,
            bundle_name,
            bundle_dir,
            retention_days,
            overwrite,
            upload,
            summary,
            source_date_epoch,
            audited_at,
            runner,
            results,
            tests,
            images,
            storage,
            release_asset,
            changes,
        })
    }

    /// The release is the tag: the same settings with the commit the release tag names
    /// as the released commit, for every stage that reads it (the change trail's range
    /// ends there; `workflows` runs are searched for it unless `head-sha` was given).
    pub fn with_tagged_commit(&self, tagged: &crate::github::tags::TaggedCommit) -> Config {
        let mut config = self.clone();
        config.commit = Some(tagged.commit.clone());
        config.commit_source = CommitSource::Tag { tag: tagged.tag.clone(), annotated: tagged.annotated };
        if let Some(changes) = &mut config.changes {
            changes.head_sha = tagged.commit.clone();
        }
        if let Some(tests) = &mut config.tests
            && !self.head_sha_given
        {
            for run in &mut tests.runs {
                if let crate::evidence::test_reports::RunSelector::Workflow { head_sha, .. } = run {
                    *head_sha = tagged.commit.clone();
                }
            }
        }
        config
    }

    /// The secrets to register with `::add-mask::` before anything is logged.
    pub fn secrets(&self) -> Vec<&Secret> {
        let mut s: Vec<&Secret> = self.github_token.iter().collect();
        if let Some(r) = &self.results {
            s.push(&r.token);
        }
        if let Some(images) = &self.images {
            s.extend(images.secrets());
        }
        if let Some(storage) = &self.storage {
            s.extend(storage.secrets());
        }
        s
    }
}

/// The default of `timeout`: generous for ~30 report artifacts and a few image pairs,
/// short of GitHub's 6-hour job limit.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// `30m`, `1h`, `600s`, or a plain number of minutes; 1 s to 24 h.
fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "" | "m" | "min" => n.checked_mul(60)?,
        "s" => n,
        "h" => n.checked_mul(3600)?,
        _ => return None,
    };
    (1..=24 * 3600).contains(&seconds).then(|| std::time::Duration::from_secs(seconds))
}

/// `bundle-name`, default `audit-bundle-<release-version>`: an artifact name that is
/// also one plain directory name (it becomes `<bundle-dir>/<name>/`).
/// Where the released commit came from, as the manifest says (`source.commit_source`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum CommitSource {
    /// The `release-commit` input.
    Input,
    /// The release tag (annotated tags peeled).
    Tag { tag: String, annotated: bool },
    /// `GITHUB_SHA`: no tag of the release exists (yet), or it could not be looked up.
    RunnerSha,
    /// `head-sha`, for another repository without a release tag.
    HeadSha,
    /// Nothing names it.
    Unknown,
}

/// The repository and commit an audit describes, and whether the repository is another
/// than the one the workflow runs in.
struct AuditedSource {
    repository: Option<String>,
    commit: Option<String>,
    commit_source: CommitSource,
    other_repository: bool,
}

/// `repository` (default: the current one) and its commit: `release-commit`; else (until
/// the release tag is looked up) `head-sha` for another repository, else `GITHUB_SHA`
/// (then `head-sha`).
fn audited_source(raw: &RawInputs, runner: &RunnerContext) -> Result<AuditedSource> {
    let repository = match raw.get("repository") {
        None => runner.repository.clone(),
        Some(repo) => Some(check_repository(raw.label("repository"), repo)?),
    };
    let other_repository = repository.is_some() && repository != runner.repository;
    let head_sha = raw.get("head-sha").map(|s| (s.to_string(), CommitSource::HeadSha));
    let (commit, commit_source) = if let Some(given) = raw.get("release-commit") {
        if given.len() != 40 || !given.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::input(
                raw.label("release-commit"),
                format!("`{}` is not a full commit sha", given.escape_debug()),
                "give the 40-character sha of the released commit",
            ));
        }
        (Some(given.to_ascii_lowercase()), CommitSource::Input)
    } else {
        let found = if other_repository {
            head_sha
        } else {
            runner.sha.clone().map(|s| (s, CommitSource::RunnerSha)).or(head_sha)
        };
        match found {
            Some((commit, source)) => (Some(commit), source),
            None => (None, CommitSource::Unknown),
        }
    };
    Ok(AuditedSource { repository, commit, commit_source, other_repository })
}

fn release_version(raw: &RawInputs) -> Result<String> {
    let release_version = raw.get("release-version").ok_or_else(|| {
        Error::input(
            "release-version",
            "is missing or empty",
            "set `release-version: ${{ inputs.version }}` (or pass --release-version)",
        )
    })?;
    if let Some(c) = release_version.chars().find(|c| !(c.is_ascii_alphanumeric() || "._+-".contains(*c))) {
        return Err(Error::input(
            "release-version",
            format!("`{}` contains {c:?}", release_version.escape_debug()),
            "use letters, digits and . _ + - only, e.g. 1.2.3 or v1.2.3-rc.1",
        ));
    }
    Ok(release_version.to_string())
}

fn retention_days(raw: &RawInputs) -> Result<Option<u32>> {
    match raw.get("retention-days") {
        None => Ok(None),
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=MAX_RETENTION_DAYS).contains(&n) => Ok(Some(n)),
            _ => Err(Error::input(
                "retention-days",
                format!("`{v}` is not a whole number of days from 1 to {MAX_RETENTION_DAYS}"),
                "give a number such as 90, or leave it empty for the repository default",
            )),
        },
    }
}

fn timeout(raw: &RawInputs) -> Result<std::time::Duration> {
    match raw.get("timeout") {
        None => Ok(DEFAULT_TIMEOUT),
        Some(text) => parse_duration(text).ok_or_else(|| {
            Error::input(
                raw.label("timeout"),
                format!("`{}` is not a duration from 1s to 24h", text.escape_debug()),
                "give e.g. 30m, 1h or 600s (a plain number is minutes)",
            )
        }),
    }
}

/// Where the bundle is written. In a container action only the workspace is a path
/// later steps can open (the runner mounts it at /github/workspace), so the bundle lives
/// there by default, and a directory outside it is refused: its files, and the paths in
/// the outputs, would mean nothing to the next step.
fn bundle_dir(raw: &RawInputs, runner: &RunnerContext) -> Result<PathBuf> {
    if let (Some(d), Some(w)) = (raw.get("bundle-dir"), &runner.workspace)
        && runner.in_actions
        && w == Path::new(CONTAINER_WORKSPACE)
        && Path::new(d).is_absolute()
        && !Path::new(d).starts_with(w)
    {
        return Err(Error::input(
            raw.label("bundle-dir"),
            format!(
                "`{}` is outside the workspace, the only directory of this container action that later steps see",
                d.escape_debug()
            ),
            "give a path relative to the workspace (default `.release-audit`)",
        ));
    }
    let bundle_dir = match (raw.get("bundle-dir"), &runner.workspace, &runner.runner_temp) {
        (Some(d), _, _) => match &runner.workspace {
            Some(w) if Path::new(d).is_relative() => w.join(d),
            _ => PathBuf::from(d),
        },
        (None, Some(w), _) if runner.in_actions => w.join(".release-audit"),
        (None, _, Some(t)) => t.join("release-audit"),
        (None, _, None) => PathBuf::from("release-audit-out"),
    };
    check_writable_dir(&bundle_dir)?;
    Ok(bundle_dir)
}

/// The audit's time: `SOURCE_DATE_EPOCH` when set (checked by [`source_date_epoch`]),
/// else now; RFC 3339, UTC, whole seconds.
fn audited_at(env: Lookup<'_>) -> String {
    let fixed = env("SOURCE_DATE_EPOCH").and_then(|v| v.parse::<i64>().ok());
    let at = fixed.and_then(|s| chrono::DateTime::from_timestamp(s, 0)).unwrap_or_else(chrono::Utc::now);
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Fixed time for the zip entries: `SOURCE_DATE_EPOCH`, else the head commit's time.
fn source_date_epoch(env: Lookup<'_>, runner: &RunnerContext) -> Result<i64> {
    match env("SOURCE_DATE_EPOCH") {
        Some(v) => v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            Error::input(
                "SOURCE_DATE_EPOCH",
                format!("`{v}` is not a number of seconds"),
                "set it to e.g. $(git log -1 --format=%ct)",
            )
        }),
        None => Ok(runner.head_commit_epoch().unwrap_or(crate::bundle::ZIP_EPOCH_FLOOR)),
    }
}

fn bundle_name(raw: &RawInputs, release_version: &str) -> Result<ArtifactName> {
    let label = raw.label("bundle-name");
    let name = match raw.get("bundle-name") {
        Some(name) => ArtifactName::parse(label, name)?,
        None => ArtifactName::parse(label, &format!("audit-bundle-{release_version}"))?,
    };
    crate::bundle::dir::check_path_segment("bundle-name", name.as_str()).map_err(|reason| {
        Error::input(
            label,
            format!("is not a plain directory name: {reason}"),
            "use letters, digits and - _ ., e.g. audit-bundle-1.2.3",
        )
    })?;
    Ok(name)
}

/// `owner/repo`, as GitHub spells repository names.
pub(crate) fn check_repository(label: &str, value: &str) -> Result<String> {
    let plain = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.len() <= 100
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    match value.split_once('/') {
        Some((owner, repo)) if plain(owner) && plain(repo) => Ok(value.to_string()),
        _ => Err(Error::input(
            label,
            format!("`{}` is not owner/repo", value.escape_debug()),
            "give the repository as owner/repo, e.g. kyma-project/telemetry-manager",
        )),
    }
}

/// Where the reports come from must be reachable with what the step has: the current
/// run needs the artifacts runtime, other runs the REST API (a token and a repository).
fn check_report_sources(
    raw: &RawInputs,
    tests: &crate::evidence::test_reports::TestSettings,
    has_results: bool,
    repository: Option<&str>,
    other_repository: bool,
) -> Result<()> {
    use crate::evidence::test_reports::RunSelector;
    if tests.runs.contains(&RunSelector::Current) && other_repository {
        return Err(Error::input(
            raw.label("run-ids"),
            format!(
                "is empty, so reports would come from the current run, but `repository` names another repository ({})",
                repository.unwrap_or_default()
            ),
            "give the run ids (or `workflows` and `head-sha`) of the audited repository's runs that hold the reports",
        ));
    }
    if tests.runs.contains(&RunSelector::Current) && !has_results {
        return Err(Error::input(
            raw.label("run-ids"),
            "is empty, so reports come from the current run, but there is no artifacts runtime (ACTIONS_RUNTIME_TOKEN/ACTIONS_RESULTS_URL)",
            "run as a workflow step, or give the run ids that hold the reports",
        ));
    }
    let needs_rest = tests.runs.iter().find(|r| !matches!(r, RunSelector::Current));
    if let Some(selector) = needs_rest
        && (raw.get("github-token").is_none() || repository.is_none())
    {
        let what = match selector {
            RunSelector::Workflow { file, .. } => format!("the runs of workflow `{file}`"),
            _ => "the reports of other runs".to_string(),
        };
        return Err(Error::input(
            raw.label("github-token"),
            format!("is needed to read {what} through the REST API (and GITHUB_REPOSITORY must be set)"),
            "pass `github-token: ${{ github.token }}` with `actions: read`",
        ));
    }
    Ok(())
}

/// The object keys the bundle will be stored under must be makeable from the release's
/// facts; checked here so that nothing is written before the store would refuse it.
fn check_object_keys(
    raw: &RawInputs,
    storage: &crate::publish::storage::StorageSettings,
    repository: Option<&str>,
    version: &str,
    bundle: &str,
) -> Result<()> {
    use crate::publish::storage::{KeyError, object_keys};
    let repository = repository.unwrap_or("local/local");
    match object_keys(&storage.location, repository, version, bundle) {
        Ok(_) => Ok(()),
        Err(KeyError::Version) => Err(Error::input(
            raw.label("release-version"),
            format!("`{}` cannot be part of an object key of `storage-url`", version.escape_debug()),
            "use letters, digits and . _ - only when `storage-url` is set (e.g. 1.2.3-build.4 instead of 1.2.3+build.4)",
        )),
        Err(KeyError::BundleName) => Err(Error::input(
            raw.label("bundle-name"),
            format!("`{}` cannot be part of an object key of `storage-url`", bundle.escape_debug()),
            "use letters, digits and . _ - only when `storage-url` is set",
        )),
        Err(KeyError::Repository) => Err(Error::input(
            "GITHUB_REPOSITORY",
            format!("`{}` is not owner/repo", repository.escape_debug()),
            "leave it as the runner sets it",
        )),
    }
}

pub(crate) fn results_service(env: Lookup<'_>) -> Result<Option<ResultsService>> {
    let Some(runtime) = ActionsRuntime::from_lookup(env) else { return Ok(None) };
    let Some(url) = runtime.results_url else { return Ok(None) };
    let parsed = reqwest::Url::parse(&url).map_err(|e| {
        Error::input("ACTIONS_RESULTS_URL", format!("`{url}` is not a URL: {e}"), "leave it as the runner sets it")
    })?;
    let base_url = parsed.origin().ascii_serialization();
    if base_url == "null" {
        return Err(Error::input(
            "ACTIONS_RESULTS_URL",
            format!("`{url}` has no host"),
            "leave it as the runner sets it",
        ));
    }
    let ids = BackendIds::from_runtime_token(runtime.token.expose())?;
    Ok(Some(ResultsService { base_url, token: runtime.token, ids }))
}

fn missing_results_service(env: Lookup<'_>) -> Error {
    if env("ACTIONS_RUNTIME_TOKEN").is_none() {
        Error::input(
            "ACTIONS_RUNTIME_TOKEN",
            "is not set, so the bundle cannot be uploaded as an artifact",
            "run as a step of a GitHub-hosted or self-hosted runner, or set `upload: false` (--upload false) to only write the bundle",
        )
    } else {
        Error::input(
            "ACTIONS_RESULTS_URL",
            "is not set: this runner offers no artifacts v4 service (GitHub Enterprise Server and `act` do not)",
            "set `upload: false` and keep the bundle with `release-asset` or `storage-url`, or use a runner ≥ 2.308 on github.com",
        )
    }
}

fn check_writable_dir(dir: &Path) -> Result<()> {
    let hint = "point `bundle-dir` to a directory the step can write";
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::input("bundle-dir", format!("cannot create {}: {e}", dir.display()), hint))?;
    tempfile::tempfile_in(dir)
        .map(|_| ())
        .map_err(|e| Error::input("bundle-dir", format!("cannot write in {}: {e}", dir.display()), hint))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(env: &[(&str, &str)]) -> Result<Config> {
        let map: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let lookup = move |k: &str| map.get(k).cloned();
        let raw = RawInputs::collect(&RunArgs::default(), &lookup);
        Config::from_raw(&raw, &lookup)
    }

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn input_variables_keep_hyphens_and_upper_case() {
        assert_eq!(input_variable("github-token"), "INPUT_GITHUB-TOKEN");
        assert_eq!(input_variable("my input"), "INPUT_MY_INPUT");
    }

    #[test]
    fn defaults_apply_and_flags_win_over_inputs() {
        let d = dir();
        let dir = d.path().to_str().unwrap().to_string();
        let env: HashMap<String, String> = [
            ("INPUT_RELEASE-VERSION", "1.2.3"),
            ("INPUT_BUNDLE-DIR", dir.as_str()),
            ("INPUT_UPLOAD", "false"),
            ("INPUT_REQUIRED-REPORTS", "none"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let lookup = move |k: &str| env.get(k).cloned();
        let args = RunArgs { release_version: Some("2.0.0".into()), ..Default::default() };
        let cfg = Config::from_raw(&RawInputs::collect(&args, &lookup), &lookup).unwrap();
        assert_eq!(cfg.release_version, "2.0.0");
        assert_eq!(cfg.bundle_name.as_str(), "audit-bundle-2.0.0");
        assert!(!cfg.upload && cfg.summary && !cfg.overwrite);
        assert_eq!(cfg.source_date_epoch, crate::bundle::ZIP_EPOCH_FLOOR);
    }

    #[test]
    fn bad_inputs_name_themselves() {
        let d = dir();
        let p = d.path().to_str().unwrap();
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("INPUT_UPLOAD", "false")], "release-version"),
            (&[("INPUT_RELEASE-VERSION", "  "), ("INPUT_UPLOAD", "false")], "release-version"),
            (
                &[("INPUT_RELEASE-VERSION", "1.0"), ("INPUT_RETENTION-DAYS", "abc"), ("INPUT_UPLOAD", "false")],
                "retention-days",
            ),
            (
                &[("INPUT_RELEASE-VERSION", "1.0"), ("INPUT_RETENTION-DAYS", "0"), ("INPUT_UPLOAD", "false")],
                "retention-days",
            ),
            (
                &[("INPUT_RELEASE-VERSION", "1.0"), ("INPUT_BUNDLE-NAME", "a:b"), ("INPUT_UPLOAD", "false")],
                "bundle-name",
            ),
            (&[("INPUT_RELEASE-VERSION", "1.0"), ("INPUT_UPLOAD", "maybe")], "upload"),
            (&[("INPUT_RELEASE-VERSION", "1.0")], "ACTIONS_RUNTIME_TOKEN"),
            (&[("INPUT_RELEASE-VERSION", "1.0"), ("ACTIONS_RUNTIME_TOKEN", "x.y.z")], "ACTIONS_RESULTS_URL"),
        ];
        for (env, name) in cases {
            let mut env = env.to_vec();
            env.push(("INPUT_BUNDLE-DIR", p));
            env.push(("INPUT_REQUIRED-REPORTS", "none"));
            let err = config(&env).unwrap_err();
            assert!(err.to_string().contains(name), "{env:?}: {err}");
            assert!(!err.hint().is_empty());
        }
    }

    #[test]
    fn timeouts_read_like_people_write_them() {
        assert_eq!(parse_duration("30m"), Some(std::time::Duration::from_secs(1800)));
        assert_eq!(parse_duration("45"), Some(std::time::Duration::from_secs(2700)));
        assert_eq!(parse_duration("1h"), Some(std::time::Duration::from_secs(3600)));
        assert_eq!(parse_duration("90s"), Some(std::time::Duration::from_secs(90)));
        for bad in ["0s", "25h", "soon", "10 parsecs", ""] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_bundle_dir_outside_the_container_workspace_is_refused() {
        let base = [
            ("INPUT_RELEASE-VERSION", "1.0"),
            ("INPUT_UPLOAD", "false"),
            ("INPUT_REQUIRED-REPORTS", "none"),
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_WORKSPACE", CONTAINER_WORKSPACE),
        ];
        let err = config(&[&base[..], &[("INPUT_BUNDLE-DIR", "/github/runner_temp/audit")]].concat()).unwrap_err();
        assert!(
            err.to_string().starts_with("input `bundle-dir`: `/github/runner_temp/audit` is outside the workspace"),
            "{err}"
        );
    }

    #[test]
    fn unwritable_bundle_dir_is_an_input_error() {
        let d = dir();
        let file = d.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let p = file.join("sub");
        let err = config(&[
            ("INPUT_RELEASE-VERSION", "1.0"),
            ("INPUT_UPLOAD", "false"),
            ("INPUT_REQUIRED-REPORTS", "none"),
            ("INPUT_BUNDLE-DIR", p.to_str().unwrap()),
        ])
        .unwrap_err();
        assert!(err.to_string().starts_with("input `bundle-dir`"), "{err}");
    }
}
