//! The command line: `run` (action mode, the default inside GitHub Actions) and the
//! tools an auditor or engineer runs locally.

use clap::{Parser, Subcommand};

pub mod archive;
pub mod attach;
pub mod images;
pub mod record_image;
pub mod reports;
pub mod run;
pub mod sigstore;
pub mod source;

use crate::config::RunArgs;

/// A flag's value kept as a secret (never printed), for clap's `value_parser`.
pub(crate) fn parse_secret(value: &str) -> std::result::Result<crate::secret::Secret, String> {
    Ok(crate::secret::Secret::new(value))
}

/// `--storage-credentials`, the one definition `verify`, `attach` and `archive` share.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StorageCredentials {
    /// Object storage credentials, one key=value per line, as the action's
    /// `storage-credentials`. Prefer the environment variable over the flag (flags show
    /// in process lists); never printed.
    #[arg(
        long = "storage-credentials",
        env = "RELEASE_AUDIT_STORAGE_CREDENTIALS",
        hide_env_values = true,
        value_name = "LINES",
        value_parser = parse_secret
    )]
    pub storage_credentials: Option<crate::secret::Secret>,
}

impl StorageCredentials {
    /// The credentials' text, when given.
    pub fn expose(&self) -> Option<&str> {
        self.storage_credentials.as_ref().map(crate::secret::Secret::expose)
    }
}

#[derive(Debug, Parser)]
#[command(name = "release-audit", version, about = "Turn a release into one self-verifying audit bundle.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process; boxing `RunArgs` buys nothing
pub enum Command {
    /// Audit a release: collect evidence, write the bundle, publish it, write the summary.
    /// Every flag can also be given as the action input `INPUT_<NAME>`.
    Run(RunArgs),
    /// Check a bundle (zip or directory): every hash, and every claim re-derived from the
    /// evidence inside it — test totals recounted, image pairs re-judged, the change
    /// trail's controls recomputed, summary.md and report.html re-rendered, the verdict
    /// recomputed. With a Sigstore bundle (`<bundle-name>.sigstore.json` beside the zip, or
    /// --sigstore-bundle) also the zip's signature and signer, offline (no network, no
    /// token). Exit 0 when it holds, 1 when anything is wrong (each problem is named).
    Verify(VerifyArgs),
    /// Print the index and platform manifest digests of image references.
    Digest(crate::cli::images::DigestArgs),
    /// Compare a tested and a released image; exit 0 when they pass the policy, 1 when not.
    Compare(crate::cli::images::CompareArgs),
    /// Parse test reports (files, directories, zip archives) and print their totals and
    /// failed tests; exit 1 when any test failed or a report cannot be read.
    Reports(crate::cli::reports::ReportsArgs),
    /// Record the image digest a test job ran — resolved now from references, or read
    /// from `kubectl get pods -A -o json` — into image-record.json, which the job
    /// uploads with its reports for the audit to check.
    RecordImage(crate::cli::record_image::RecordImageArgs),
    /// Attach the bundle artifact an audit step of this run uploaded to the GitHub
    /// release, after verifying it: gate the release with the audit, attach once the
    /// release exists. Every flag can also be given as the action input `INPUT_<NAME>`.
    Attach(crate::config::attach::AttachArgs),
    /// Verify every bundle under a storage prefix (S3, GCS) and write the archive's
    /// index: index.json, index.csv and index.html, one row per bundle. Exit 1 when any
    /// bundle does not verify.
    Archive(crate::cli::archive::ArchiveArgs),
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The bundle zip, or its unzipped directory.
    pub bundle: std::path::PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also re-resolve every released image reference and say whether its tag has
    /// moved since the release.
    #[arg(long)]
    pub online: bool,
    /// (`--online`) Registries reached over plain HTTP, as host:port (repeatable, or
    /// comma-separated; `--insecure-registry` is an alias).
    #[arg(
        long = "insecure-registries",
        visible_alias = "insecure-registry",
        value_name = "HOST:PORT",
        value_delimiter = ','
    )]
    pub insecure: Vec<String>,
    /// (`--online`) Registry logins, one per line: host=username:password; never printed.
    #[arg(
        long = "registry-credentials",
        env = "RELEASE_AUDIT_REGISTRY_CREDENTIALS",
        hide_env_values = true,
        value_name = "LOGINS",
        value_parser = parse_secret
    )]
    pub credentials: Option<crate::secret::Secret>,
    #[command(flatten)]
    pub signature: crate::cli::sigstore::SignatureArgs,
    /// (`--online`) Also read back the objects the audit stored: the `storage-url` the
    /// action was given (the keys follow from the bundle's repository, version and
    /// name); checks their bytes and reports their locks.
    #[arg(long = "storage-url", value_name = "URL", requires = "online")]
    pub storage_url: Option<String>,
    /// (`--storage-url`) Credentials as `storage-credentials` takes them.
    #[command(flatten)]
    pub storage_credentials: StorageCredentials,
    /// (`--storage-url`) Every stored object must be locked write-once (S3 compliance,
    /// GCS Locked) at least until this RFC 3339 date or date-time.
    #[arg(long = "retained-until", value_name = "DATE", requires = "storage_url")]
    pub retained_until: Option<String>,
}

/// `release-audit verify`; returns the exit code.
pub async fn verify(args: &VerifyArgs, net: &crate::http::Net) -> crate::error::Result<i32> {
    let signature = crate::cli::sigstore::check(&args.bundle, &args.signature)?;
    if args.signature.signature_only {
        return Ok(crate::cli::sigstore::print_only(signature.as_ref(), args.json));
    }
    let mut v = match crate::verify::verify(&args.bundle) {
        Ok(v) => v,
        Err(e) => {
            // Not a bundle: still say what the signature showed, then why the rest failed.
            crate::cli::sigstore::print_only(signature.as_ref(), args.json);
            return Err(e);
        }
    };
    v.sigstore = signature;
    if args.online {
        let access = crate::config::images::registry_access(
            "--registry-credentials",
            args.credentials.as_ref().map(crate::secret::Secret::expose),
            "--insecure-registries",
            &args.insecure,
        )?;
        crate::verify::check_released_tags(&mut v, net, &access).await;
        if let Some(url) = &args.storage_url {
            let (settings, retained_until) = crate::config::storage::for_verify(
                url,
                args.storage_credentials.expose(),
                args.retained_until.as_deref(),
            )?;
            for secret in settings.secrets() {
                crate::github::commands::mask_late_secret(secret.expose());
            }
            let check =
                crate::verify::online::StoredCheck { settings: &settings, bundle: &args.bundle, retained_until };
            crate::verify::check_stored(&mut v, net, &check).await;
        }
    }
    // Paths and texts in a bundle are outside text: printed through the one inert path,
    // and a bounded number of them (a hostile bundle may hold a million problems).
    use crate::github::commands::{inert_json, print_line};
    if args.json {
        let mut shown = v.clone();
        shown.problems.truncate(crate::verify::MAX_JSON_PROBLEMS);
        shown.notes.truncate(crate::verify::MAX_JSON_PROBLEMS);
        shown.problem_count = v.problems.len();
        println!("{}", inert_json(&serde_json::to_string_pretty(&shown).expect("serialisable")));
    } else {
        for line in crate::report::text::verification(&v) {
            print_line(&line);
        }
    }
    Ok(if v.ok() { 0 } else { crate::error::EXIT_VERDICT_FAILED })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every secret a command line or an action input carries is held as a `Secret`:
    /// printing the parsed arguments (a debug log, a panic) never shows it.
    #[test]
    fn parsed_arguments_never_print_a_secret() {
        let lines = [
            vec!["release-audit", "verify", "b.zip", "--online", "--registry-credentials", "ghcr.io=u:S3CRET-1"],
            vec!["release-audit", "verify", "b.zip", "--online", "--storage-url", "s3://b/p/"],
            vec![
                "release-audit",
                "attach",
                "--github-token",
                "S3CRET-3",
                "--storage-credentials",
                "access-token=S3CRET-4",
            ],
            vec!["release-audit", "archive", "s3://b/p/", "--storage-credentials", "access-token=S3CRET-5"],
            vec!["release-audit", "digest", "ghcr.io/o/i:1", "--registry-credentials", "ghcr.io=u:S3CRET-6"],
        ];
        for mut line in lines {
            if line[1] == "verify" && line.contains(&"--storage-url") {
                line.extend(["--storage-credentials", "access-key-id=k\nsecret-access-key=S3CRET-2"]);
            }
            let parsed = Cli::try_parse_from(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
            let printed = format!("{parsed:?}");
            assert!(!printed.contains("S3CRET"), "{printed}");
        }
    }
}
