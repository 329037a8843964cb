//! The inputs of `release-audit attach` (and of `attach/action.yml`): the flags, the
//! `INPUT_*` variables that fill what the flags left unset, and the one check of them
//! all → [`AttachSettings`], before any network call.

use super::release::{check_asset_name, check_release_tag};
use super::{check_repository, results_service};
use crate::error::{Error, Result};
use crate::github::artifacts::{ArtifactName, ResultsService};
use crate::github::runner::Lookup;
use crate::publish::storage::StorageSettings;
use crate::secret::Secret;

/// The inputs `attach/action.yml` declares, as [`AttachArgs::with_inputs`] reads them.
pub const INPUT_NAMES: [&str; 11] = [
    "bundle-name",
    "bundle-path",
    "release-tag",
    "github-token",
    "repository",
    "overwrite",
    "sigstore-bundles",
    "storage-url",
    "storage-credentials",
    "storage-retain-until",
    "storage-retention-days",
];

/// The most Sigstore bundles one `attach` takes (the zip's and the VSA's).
pub const MAX_SIGSTORE_BUNDLES: usize = 2;

/// `release-audit attach`
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AttachArgs {
    /// Artifact name of the bundle an audit step of this run uploaded (its `bundle-name`,
    /// default `audit-bundle-<release-version>`). Action input `bundle-name`.
    #[arg(long = "bundle-name", value_name = "NAME")]
    pub bundle_name: Option<String>,
    /// The bundle zip this job's audit step wrote (its `bundle-path` output), read
    /// instead of the uploaded artifact — for an audit with `upload: false`. It is
    /// verified the same way; with `storage-url` the stored zip must be its bytes.
    /// Action input `bundle-path`.
    #[arg(long = "bundle-path", value_name = "ZIP")]
    pub bundle_path: Option<String>,
    /// Tag of the GitHub release to attach the bundle to. Action input `release-tag`.
    #[arg(long = "release-tag", value_name = "TAG")]
    pub release_tag: Option<String>,
    /// The repository of the release, owner/repo (default `GITHUB_REPOSITORY`).
    #[arg(long, value_name = "OWNER/REPO")]
    pub repository: Option<String>,
    /// Replace assets of the same name (true/false, default false).
    #[arg(long, value_name = "true|false")]
    pub overwrite: Option<String>,
    /// Token with `contents: write` on the repository. Prefer the environment variable
    /// over the flag (flags show in process lists); never printed.
    #[arg(
        long = "github-token",
        env = "RELEASE_AUDIT_GITHUB_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        value_parser = crate::cli::parse_secret
    )]
    pub github_token: Option<Secret>,
    /// Sigstore bundles of the bundle zip and of its VSA (the `bundle-path` outputs of
    /// `actions/attest`), one path per line or comma-separated: attached beside the zip
    /// as `<bundle-name>.sigstore.json` and `<bundle-name>.vsa.sigstore.json`. Action
    /// input `sigstore-bundles`.
    #[arg(long = "sigstore-bundles", value_name = "PATHS")]
    pub sigstore_bundles: Option<String>,
    /// Where the audit step stored the bundle (its `storage-url`): the Sigstore bundles
    /// are stored beside the zip there, once the stored zip is found to be this
    /// artifact's bytes. Action input `storage-url`.
    #[arg(long = "storage-url", value_name = "URL")]
    pub storage_url: Option<String>,
    /// Object storage credentials, as the audit's `storage-credentials`. Action input
    /// `storage-credentials`.
    #[command(flatten)]
    pub storage_credentials: crate::cli::StorageCredentials,
    /// Store the Sigstore bundles write-once until this date (RFC 3339), as the audit's
    /// `storage-retain-until`; without it and `--storage-retention-days` they get the
    /// stored zip's own write-once lock, if it has one.
    #[arg(long = "storage-retain-until", value_name = "DATE")]
    pub storage_retain_until: Option<String>,
    /// Store the Sigstore bundles write-once for this many days, as the audit's
    /// `storage-retention-days`.
    #[arg(long = "storage-retention-days", value_name = "DAYS")]
    pub storage_retention_days: Option<String>,
}

impl AttachArgs {
    /// Fills what the flags left unset from the action inputs.
    pub fn with_inputs(mut self, env: Lookup<'_>) -> Self {
        let input =
            |name: &str| env(&super::input_variable(name)).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        self.bundle_name = self.bundle_name.or_else(|| input("bundle-name"));
        self.bundle_path = self.bundle_path.or_else(|| input("bundle-path"));
        self.release_tag = self.release_tag.or_else(|| input("release-tag"));
        self.repository = self.repository.or_else(|| input("repository"));
        self.overwrite = self.overwrite.or_else(|| input("overwrite"));
        self.github_token = self.github_token.or_else(|| input("github-token").map(Secret::new));
        self.sigstore_bundles = self.sigstore_bundles.or_else(|| input("sigstore-bundles"));
        self.storage_url = self.storage_url.or_else(|| input("storage-url"));
        let credentials = &mut self.storage_credentials.storage_credentials;
        if credentials.is_none() {
            *credentials = input("storage-credentials").map(Secret::new);
        }
        self.storage_retain_until = self.storage_retain_until.or_else(|| input("storage-retain-until"));
        self.storage_retention_days = self.storage_retention_days.or_else(|| input("storage-retention-days"));
        self
    }
}

/// What `attach` needs, checked: at least one of a release and object storage.
#[derive(Debug, Clone)]
pub struct AttachSettings {
    pub bundle_name: ArtifactName,
    /// The release to attach to, with the token that may write it.
    pub release: Option<ReleaseTarget>,
    pub repository: String,
    pub overwrite: bool,
    pub api_url: String,
    /// Where the bundle comes from: the artifact the audit step uploaded, or its zip on disk.
    pub source: BundleSource,
    /// Sigstore bundles to attach beside the zip (checked to be about it when read).
    pub sigstore_bundles: Vec<std::path::PathBuf>,
    /// Where the audit stored the zip; the Sigstore bundles are stored beside it.
    pub storage: Option<StorageSettings>,
}

/// Where `attach` reads the bundle.
#[derive(Debug, Clone)]
pub enum BundleSource {
    /// The artifact the audit step uploaded, through this run's artifact service.
    Artifact(ResultsService),
    /// The zip the audit step of this job wrote (`bundle-path`).
    File(std::path::PathBuf),
}

/// The GitHub release `attach` attaches to.
#[derive(Debug, Clone)]
pub struct ReleaseTarget {
    pub tag: String,
    pub token: Secret,
}

impl AttachSettings {
    pub fn from_args(args: &AttachArgs, env: Lookup<'_>) -> Result<Self> {
        let name = args.bundle_name.as_deref().ok_or_else(|| {
            Error::input(
                "bundle-name",
                "is missing",
                "give the `bundle-name` of the audit step (default `audit-bundle-<release-version>`)",
            )
        })?;
        let bundle_name = ArtifactName::parse("bundle-name", name)?;
        check_asset_name("bundle-name", bundle_name.as_str())?;
        let storage = storage(args)?;
        let tag = match (args.release_tag.as_deref(), &storage) {
            (Some(tag), _) => Some(tag),
            (None, Some(_)) => None,
            (None, None) => {
                return Err(Error::input(
                    "release-tag",
                    "and `storage-url` are both empty, so there is nowhere to attach the bundle",
                    "give `release-tag` (the GitHub release), `storage-url` (where the audit stored the bundle), or both",
                ));
            }
        };
        if let Some(tag) = tag {
            check_release_tag("release-tag", tag)?;
        }
        let repository = match args.repository.as_deref().map(str::to_string).or_else(|| env("GITHUB_REPOSITORY")) {
            Some(r) => check_repository("repository", &r)?,
            None => {
                return Err(Error::input(
                    "repository",
                    "is missing and GITHUB_REPOSITORY is not set",
                    "run as a workflow step or give --repository owner/repo",
                ));
            }
        };
        let overwrite = match args.overwrite.as_deref() {
            None | Some("false" | "False" | "FALSE") => false,
            Some("true" | "True" | "TRUE") => true,
            Some(other) => {
                return Err(Error::input("overwrite", format!("`{other}` is not a boolean"), "use true or false"));
            }
        };
        let release = match tag {
            Some(tag) => {
                let token = args.github_token.clone().filter(|t| !t.expose().is_empty()).ok_or_else(|| {
                    Error::input(
                        "github-token",
                        "is empty, but attaching to a release needs it",
                        "pass `github-token: ${{ github.token }}` and give the job `permissions: contents: write`",
                    )
                })?;
                Some(ReleaseTarget { tag: tag.to_string(), token })
            }
            None => None,
        };
        let source = match args.bundle_path.as_deref() {
            Some(path) if std::path::Path::new(path).is_file() => BundleSource::File(path.into()),
            Some(path) => {
                return Err(Error::input(
                    "bundle-path",
                    format!("`{}` is not a file", path.escape_debug()),
                    "pass the audit step's `bundle-path` output, in the same job",
                ));
            }
            None => BundleSource::Artifact(results_service(env)?.ok_or_else(|| {
                Error::input(
                    "ACTIONS_RESULTS_URL",
                    "is not set, so this run's bundle artifact cannot be read",
                    "run `attach` as a step of the same workflow run as the audit (the runner sets it), or give `bundle-path`",
                )
            })?),
        };
        let api_url = crate::github::runner::RunnerContext::from_lookup(env)?.api_url;
        let sigstore_bundles = sigstore_bundles(args.sigstore_bundles.as_deref())?;
        if storage.is_some() && sigstore_bundles.is_empty() {
            return Err(Error::input(
                "sigstore-bundles",
                "is empty, but `storage-url` is set: `attach` stores the Sigstore bundles beside the zip the audit stored, and there are none",
                "pass the `bundle-path` outputs of the actions/attest steps that signed the zip and its VSA, or drop `storage-url`",
            ));
        }
        Ok(AttachSettings { bundle_name, release, repository, overwrite, api_url, source, sigstore_bundles, storage })
    }
}

/// `storage-url`, `storage-credentials` and the retention inputs, checked as the
/// audit's are; `None` without `storage-url`.
fn storage(args: &AttachArgs) -> Result<Option<StorageSettings>> {
    let raw = super::RawInputs::from_flags([
        ("storage-url", "storage-url", args.storage_url.as_deref()),
        ("storage-credentials", "storage-credentials", args.storage_credentials.expose()),
        ("storage-retain-until", "storage-retain-until", args.storage_retain_until.as_deref()),
        ("storage-retention-days", "storage-retention-days", args.storage_retention_days.as_deref()),
    ]);
    super::storage::settings(&raw)
}

/// `sigstore-bundles`: paths, one per line or comma-separated, each an existing file; at
/// most [`MAX_SIGSTORE_BUNDLES`].
fn sigstore_bundles(raw: Option<&str>) -> Result<Vec<std::path::PathBuf>> {
    let paths: Vec<std::path::PathBuf> = raw
        .unwrap_or_default()
        .split(['\n', ','])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(std::path::PathBuf::from)
        .collect();
    if paths.len() > MAX_SIGSTORE_BUNDLES {
        return Err(Error::input(
            "sigstore-bundles",
            format!("names {} files; at most {MAX_SIGSTORE_BUNDLES} are attached", paths.len()),
            "give the Sigstore bundle of the zip and, if signed, the one of its VSA",
        ));
    }
    for path in &paths {
        if !path.is_file() {
            return Err(Error::input(
                "sigstore-bundles",
                format!("`{}` is not a file", path.display()),
                "pass the `bundle-path` output of the actions/attest step that signed the zip or the VSA",
            ));
        }
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigstore_bundles_are_existing_files_at_most_two() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
        std::fs::write(&a, "{}").unwrap();
        std::fs::write(&b, "{}").unwrap();
        assert!(sigstore_bundles(None).unwrap().is_empty());
        let both = format!("{}\n\n{} ", a.display(), b.display());
        assert_eq!(sigstore_bundles(Some(&both)).unwrap(), [a.clone(), b.clone()]);
        let three = format!("{},{},{}", a.display(), b.display(), a.display());
        let err = sigstore_bundles(Some(&three)).unwrap_err().to_string();
        assert!(err.contains("sigstore-bundles") && err.contains("names 3 files"), "{err}");
        let missing = dir.path().join("missing.json");
        let err = sigstore_bundles(Some(&missing.display().to_string())).unwrap_err().to_string();
        assert!(err.contains("missing.json") && err.contains("is not a file"), "{err}");
    }
}
