//! The low level of the input seam: input strings as given, before any check.
//!
//! Every setting of `release-audit run` is declared once in the `run_args!` table
//! below: the flag, the `INPUT_*` variable it may come from, and the list `action.yml`
//! must match (a test checks both ways). [`RawInputs`] holds the trimmed strings and
//! remembers whether each came from a flag or an input, so an error names what the
//! user typed.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::github::runner::Lookup;

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
    /// The repository whose release is audited, owner/repo (default: the current one).
    repository = "repository",
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
    /// Commit whose runs `workflows` looks for (default: the released commit).
    head_sha = "head-sha",
    /// The released commit, for a release whose tag does not exist yet (default: the commit of the release tag, else `GITHUB_SHA`).
    release_commit = "release-commit",
    /// Fail the audit when a report has failed or errored tests (default true).
    fail_on_test_failures = "fail-on-test-failures",
    /// Fail the audit when a required category is missing or empty (default true).
    fail_on_missing_reports = "fail-on-missing-reports",
    /// Fail the audit when a test passed only on a retry (flaky) (default false).
    fail_on_flaky = "fail-on-flaky",
    /// Put each source run's run.json, jobs and logs into the bundle (default true).
    include_run_logs = "include-run-logs",
    /// The image that was tested, e.g. europe-docker.pkg.dev/p/dev/app:PR-123.
    tested_image = "tested-image",
    /// The image that is released, e.g. europe-docker.pkg.dev/p/prod/app:1.2.3.
    release_image = "release-image",
    /// Several pairs, one per line: `name: <tested-ref> -> <released-ref> [expect sha256:…]`.
    images = "images",
    /// The digest the image build reported (sha256:…); the tested image must have it.
    expected_digest = "expected-digest",
    /// Workflow file that builds the release image on the tag push (its job log holds the image build report, whose digest is the expected digest).
    build_workflow = "build-workflow",
    /// The job of `build-workflow` whose log holds the image build report (default `build-image / Build image`).
    build_job = "build-job",
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
    /// Object storage for the bundle: gs://bucket/prefix/, s3://bucket/prefix/, or a key template with {owner} {repo} {version} {bundle}.
    storage_url = "storage-url",
    /// The longest the whole audit may take, e.g. 30m, 1h, 600s (default 60m); no request outlives it.
    timeout = "timeout",
    /// Object storage credentials, one key=value per line (masked).
    storage_credentials = "storage-credentials",
    /// Tag of the previous release, or `auto` (newest lower version); records the change trail.
    previous_release = "previous-release",
    /// Fail the audit when a commit since the previous release is unreviewed (true/false, default false).
    require_reviewed_changes = "require-reviewed-changes",
    /// Fail the audit when the release run had no environment approval (true/false, default false).
    require_release_approval = "require-release-approval",
    /// The environments whose approval is the release approval, comma-separated (default: any environment).
    release_approval_environments = "release-approval-environments",
}

/// The environment variable that carries an input: `INPUT_` + upper-cased name,
/// spaces as `_`, hyphens kept (actions/toolkit `getInput`).
pub fn input_variable(name: &str) -> String {
    format!("INPUT_{}", name.replace(' ', "_").to_uppercase())
}

/// Input strings as given: trimmed, empty ones dropped, each with the name to use
/// when it is wrong (the input name, or the flag the user typed).
#[derive(Debug, Default, Clone)]
pub struct RawInputs {
    values: BTreeMap<&'static str, String>,
    labels: BTreeMap<&'static str, String>,
}

impl RawInputs {
    /// `release-audit run`: a flag wins over its `INPUT_*` twin.
    pub fn collect(args: &RunArgs, env: Lookup<'_>) -> Self {
        let mut raw = RawInputs::default();
        for (name, flag) in args.flags() {
            match flag.map(|v| v.trim()).filter(|v| !v.is_empty()) {
                Some(v) => raw.set(name, &format!("--{name}"), v),
                None => {
                    if let Some(v) = env(&input_variable(name)) {
                        raw.set(name, name, &v);
                    }
                }
            }
        }
        raw
    }

    /// Values a CLI subcommand took under its own flag names: `(input, label, value)`.
    /// The checks are the same as for the input; errors name the label.
    pub fn from_flags<'a>(items: impl IntoIterator<Item = (&'static str, &'a str, Option<&'a str>)>) -> Self {
        let mut raw = RawInputs::default();
        for (name, label, value) in items {
            if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
                raw.set(name, label, v);
            }
        }
        raw
    }

    fn set(&mut self, name: &'static str, label: &str, value: &str) {
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        self.values.insert(name, value.to_string());
        if label != name {
            self.labels.insert(name, label.to_string());
        }
    }

    /// What to call `name` in an error: the flag when the value came from one.
    pub fn label<'a>(&'a self, name: &'a str) -> &'a str {
        self.labels.get(name).map(String::as_str).unwrap_or(name)
    }

    /// Whether any of `names` was given.
    pub fn any(&self, names: &[&str]) -> bool {
        names.iter().any(|n| self.values.contains_key(n))
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
            Some(other) => {
                Err(Error::input(self.label(name), format!("`{other}` is not a boolean"), "use true or false"))
            }
        }
    }
}
