//! Inputs → one validated [`Config`].
//!
//! Two front doors, one seam: in action mode every setting arrives as `INPUT_<NAME>`
//! (name upper-cased, hyphens kept, value trimmed — the runner's rule); on the command
//! line the same settings are flags with the same names (`--release-version`). A flag
//! wins over the variable. [`RawInputs`] holds the strings; [`Config::from_raw`]
//! validates all of them once, before any network call, and nothing downstream
//! re-checks them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::github::artifacts::BackendIds;
use crate::github::runner::{ActionsRuntime, Lookup, RunnerContext, check_appendable};
use crate::secret::Secret;

/// Highest retention GitHub allows for an artifact (private repositories).
pub const MAX_RETENTION_DAYS: u32 = 400;

/// Declares the inputs once: the flag struct, and the list of input names that
/// `action.yml` must match (a test checks both ways).
macro_rules! run_args {
    ($( $(#[doc = $doc:literal])* $field:ident = $name:literal ),* $(,)?) => {
        /// The settings of `release-audit run`, as flags. Every flag has an `INPUT_*` twin.
        #[derive(Debug, Default, Clone, clap::Args)]
        pub struct RunArgs {
            $( $(#[doc = $doc])* #[arg(long = $name, value_name = "VALUE")] pub $field: Option<String>, )*
        }
        impl RunArgs {
            /// Every input name, in declaration order.
            pub const INPUT_NAMES: &'static [&'static str] = &[$($name),*];
            fn flags(&self) -> Vec<(&'static str, Option<&String>)> {
                vec![$(($name, self.$field.as_ref())),*]
            }
        }
    };
}

run_args! {
    /// Token for the GitHub REST API (default `${{ github.token }}`); needs `actions: read`.
    github_token = "github-token",
    /// The version being released, e.g. 1.2.3 (required).
    release_version = "release-version",
    /// Artifact name of the bundle (default `audit-bundle-<release-version>`).
    bundle_name = "bundle-name",
    /// Directory the bundle is written to (default `.release-audit` in the workspace).
    bundle_dir = "bundle-dir",
    /// Days the bundle artifact is kept (1–400; clamped to the repository's maximum).
    retention_days = "retention-days",
    /// Replace an existing artifact, release asset or stored object of the same name (true/false).
    overwrite = "overwrite",
    /// Upload the bundle as a workflow artifact (true/false, default true).
    upload = "upload",
    /// Write the job summary (true/false, default true).
    summary = "summary",
    /// Unit test report artifacts: names or globs, comma- or newline-separated.
    unit_reports = "unit-reports",
    /// E2E test report artifacts: names or globs.
    e2e_reports = "e2e-reports",
    /// Gardener test report artifacts: names or globs.
    gardener_reports = "gardener-reports",
    /// Upgrade test report artifacts: names or globs.
    upgrade_reports = "upgrade-reports",
    /// Categories that must be present with at least one test (default `unit,e2e`).
    required_reports = "required-reports",
    /// Workflow run ids to collect reports from (default: the current run).
    run_ids = "run-ids",
    /// Workflow files whose newest completed run for `head-sha` is searched too.
    workflows = "workflows",
    /// Commit whose runs `workflows` looks for (default `GITHUB_SHA`).
    head_sha = "head-sha",
    /// Fail the audit when a report has failed or errored tests (default true).
    fail_on_test_failures = "fail-on-test-failures",
    /// Fail the audit when a required category is missing or empty (default true).
    fail_on_missing_reports = "fail-on-missing-reports",
    /// Put each source run's run.json, jobs and logs into the bundle (default true).
    include_run_logs = "include-run-logs",
    /// The image that was tested, e.g. europe-docker.pkg.dev/p/dev/app:PR-123.
    tested_image = "tested-image",
    /// The image that is released, e.g. europe-docker.pkg.dev/p/prod/app:1.2.3.
    release_image = "release-image",
    /// Several pairs, one per line: `name: <tested-ref> -> <released-ref>`.
    images = "images",
    /// The digest the image build reported (sha256:…); the tested image must have it.
    expected_digest = "expected-digest",
    /// identical (default), platforms, or record.
    digest_policy = "digest-policy",
    /// Platforms to compare, e.g. linux/amd64,linux/arm64 (default all).
    platforms = "platforms",
    /// Registry logins, one per line: host=username:password (masked).
    registry_credentials = "registry-credentials",
    /// Registries reached over plain HTTP, as host:port, comma- or newline-separated.
    insecure_registries = "insecure-registries",
    /// Largest layer (bytes) whose tar entries are diffed when layers differ (default 256 MiB).
    layer_diff_limit = "layer-diff-limit",
    /// Attach the bundle and SHA256SUMS to the GitHub release of `release-tag` (true/false).
    release_asset = "release-asset",
    /// Tag of the release to attach to (default: the release version).
    release_tag = "release-tag",
    /// Object storage prefix for the bundle: gs://bucket/prefix/ or s3://bucket/prefix/.
    storage_url = "storage-url",
    /// Object storage credentials, one key=value per line (masked).
    storage_credentials = "storage-credentials",
}

/// The environment variable that carries an input: `INPUT_` + upper-cased name,
/// spaces as `_`, hyphens kept (actions/toolkit `getInput`).
pub fn input_variable(name: &str) -> String {
    format!("INPUT_{}", name.replace(' ', "_").to_uppercase())
}

/// Input strings as given: trimmed, empty ones dropped.
#[derive(Debug, Default, Clone)]
pub struct RawInputs {
    values: BTreeMap<&'static str, String>,
}

impl RawInputs {
    pub fn collect(args: &RunArgs, env: Lookup<'_>) -> Self {
        let mut values = BTreeMap::new();
        for (name, flag) in args.flags() {
            let value = flag.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).or_else(|| env(&input_variable(name)));
            if let Some(v) = value {
                values.insert(name, v);
            }
        }
        RawInputs { values }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// A comma- or newline-separated list, items trimmed, empty items dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| v.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// A boolean input: true/True/TRUE or false/False/FALSE (the toolkit's `getBooleanInput`).
    pub fn bool(&self, name: &str, default: bool) -> Result<bool> {
        match self.get(name) {
            None => Ok(default),
            Some("true" | "True" | "TRUE") => Ok(true),
            Some("false" | "False" | "FALSE") => Ok(false),
            Some(other) => Err(Error::input(name, format!("`{other}` is not a boolean"), "use true or false")),
        }
    }
}

/// A name that GitHub accepts for an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactName(String);

impl ArtifactName {
    pub const FORBIDDEN: &'static [char] = &['"', ':', '<', '>', '|', '*', '?', '\r', '\n', '\\', '/'];

    pub fn parse(input: &str, value: &str) -> Result<Self> {
        if value.is_empty() {
            return Err(Error::input(input, "is empty", "give the artifact a name"));
        }
        if let Some(c) = value.chars().find(|c| Self::FORBIDDEN.contains(c)) {
            return Err(Error::input(
                input,
                format!("`{}` contains the character {c:?}, which artifact names may not contain", value.escape_debug()),
                "remove \" : < > | * ? \\ / and line breaks from the name",
            ));
        }
        if value.len() > 256 {
            return Err(Error::input(input, "is longer than 256 characters", "use a shorter name"));
        }
        Ok(ArtifactName(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ArtifactName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the artifacts v4 service is and who we are to it.
#[derive(Debug, Clone)]
pub struct ResultsService {
    pub base_url: String,
    pub token: Secret,
    pub ids: BackendIds,
}

/// The validated settings of one audit.
#[derive(Debug, Clone)]
pub struct Config {
    pub github_token: Option<Secret>,
    pub release_version: String,
    pub bundle_name: ArtifactName,
    pub bundle_dir: PathBuf,
    pub retention_days: Option<u32>,
    pub overwrite: bool,
    pub upload: bool,
    pub summary: bool,
    /// Fixed time for every entry in the bundle zip (seconds since the epoch).
    pub source_date_epoch: i64,
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
}

impl Config {
    /// Validates every input. `env` reads runner variables (`GITHUB_*`, `ACTIONS_*`,
    /// `SOURCE_DATE_EPOCH`).
    pub fn from_raw(raw: &RawInputs, env: Lookup<'_>) -> Result<Self> {
        let runner = RunnerContext::from_lookup(env)?;

        let release_version = raw.get("release-version").ok_or_else(|| {
            Error::input("release-version", "is missing or empty", "set `release-version: ${{ inputs.version }}` (or pass --release-version)")
        })?;
        if let Some(c) = release_version.chars().find(|c| !(c.is_ascii_alphanumeric() || "._+-".contains(*c))) {
            return Err(Error::input(
                "release-version",
                format!("`{}` contains {c:?}", release_version.escape_debug()),
                "use letters, digits and . _ + - only, e.g. 1.2.3 or v1.2.3-rc.1",
            ));
        }
        let release_version = release_version.to_string();

        let bundle_name = match raw.get("bundle-name") {
            Some(name) => ArtifactName::parse("bundle-name", name)?,
            None => ArtifactName::parse("bundle-name", &format!("audit-bundle-{release_version}"))?,
        };

        let retention_days = match raw.get("retention-days") {
            None => None,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (1..=MAX_RETENTION_DAYS).contains(&n) => Some(n),
                _ => {
                    return Err(Error::input(
                        "retention-days",
                        format!("`{v}` is not a whole number of days from 1 to {MAX_RETENTION_DAYS}"),
                        "give a number such as 90, or leave it empty for the repository default",
                    ));
                }
            },
        };

        let overwrite = raw.bool("overwrite", false)?;
        let upload = raw.bool("upload", true)?;
        let summary = raw.bool("summary", true)?;

        // In a container action only the workspace is shared with later steps
        // (RUNNER_TEMP is not mounted), so the bundle lives there by default.
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

        let source_date_epoch = match env("SOURCE_DATE_EPOCH") {
            Some(v) => v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                Error::input("SOURCE_DATE_EPOCH", format!("`{v}` is not a number of seconds"), "set it to e.g. $(git log -1 --format=%ct)")
            })?,
            None => runner.head_commit_epoch().unwrap_or(crate::bundle::ZIP_EPOCH_FLOOR),
        };

        let tests = crate::evidence::test_reports::settings(raw, runner.sha.as_deref())?;
        let images = crate::evidence::images::settings(raw)?;
        let storage = crate::publish::storage::settings(raw)?;
        let release_asset = crate::publish::release::settings(raw, &release_version)?;

        Ok(Config {
            github_token: raw.get("github-token").map(Secret::new),
            release_version,
            bundle_name,
            bundle_dir,
            retention_days,
            overwrite,
            upload,
            summary,
            source_date_epoch,
            runner,
            results,
            tests,
            images,
            storage,
            release_asset,
        })
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

fn results_service(env: Lookup<'_>) -> Result<Option<ResultsService>> {
    let Some(runtime) = ActionsRuntime::from_lookup(env) else { return Ok(None) };
    let Some(url) = runtime.results_url else { return Ok(None) };
    let parsed = reqwest::Url::parse(&url).map_err(|e| {
        Error::input("ACTIONS_RESULTS_URL", format!("`{url}` is not a URL: {e}"), "leave it as the runner sets it")
    })?;
    let base_url = parsed.origin().ascii_serialization();
    if base_url == "null" {
        return Err(Error::input("ACTIONS_RESULTS_URL", format!("`{url}` has no host"), "leave it as the runner sets it"));
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
    std::fs::create_dir_all(dir).map_err(|e| Error::input("bundle-dir", format!("cannot create {}: {e}", dir.display()), hint))?;
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
            (&[("INPUT_RELEASE-VERSION", "1.0"), ("INPUT_RETENTION-DAYS", "abc"), ("INPUT_UPLOAD", "false")], "retention-days"),
            (&[("INPUT_RELEASE-VERSION", "1.0"), ("INPUT_RETENTION-DAYS", "0"), ("INPUT_UPLOAD", "false")], "retention-days"),
            (&[("INPUT_RELEASE-VERSION", "1.0"), ("INPUT_BUNDLE-NAME", "a:b"), ("INPUT_UPLOAD", "false")], "bundle-name"),
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
    fn unwritable_bundle_dir_is_an_input_error() {
        let d = dir();
        let file = d.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let p = file.join("sub");
        let err = config(&[("INPUT_RELEASE-VERSION", "1.0"), ("INPUT_UPLOAD", "false"), ("INPUT_REQUIRED-REPORTS", "none"), ("INPUT_BUNDLE-DIR", p.to_str().unwrap())])
            .unwrap_err();
        assert!(err.to_string().starts_with("input `bundle-dir`"), "{err}");
    }
}
