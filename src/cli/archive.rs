//! `release-audit archive <storage-url>`: verify every bundle under a storage prefix and
//! write the archive's index (`index.json`, `index.csv`, `index.html`). See
//! [`crate::archive`].
//!
//! Exit codes: 0 when every bundle verifies (and, with `--require-signed`, carries a
//! signature); 1 when any does not — each such bundle is a row with its reasons, so a
//! scheduled workflow fails and the index says why; 2 for bad flags; 3 when the prefix
//! could not be listed at all.

use std::path::PathBuf;

use crate::config::RawInputs;
use crate::error::{EXIT_VERDICT_FAILED, Error, Result};
use crate::github::commands::print_line;

#[derive(Debug, Clone, clap::Args)]
pub struct ArchiveArgs {
    /// Where the bundles are: gs://bucket/prefix/ or s3://bucket/prefix/ (options after
    /// `?`: region=, endpoint=), as the action's `storage-url`.
    #[arg(value_name = "STORAGE_URL")]
    pub url: String,
    /// Credentials, as the action's `storage-credentials`.
    #[command(flatten)]
    pub credentials: crate::cli::StorageCredentials,
    /// The index directory: written, and read back on the next run so that unchanged
    /// bundles are not downloaded again.
    #[arg(long, default_value = "audit-archive", value_name = "DIR")]
    pub out: PathBuf,
    /// Bundles downloaded and verified at once.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub jobs: usize,
    /// Every zip and its SHA256SUMS must be locked write-once (S3 Object Lock in
    /// compliance mode, GCS locked retention) until at least this many days after the
    /// zip was stored; a lock that ends earlier, or none, fails the bundle.
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=7305))]
    pub retention_days: Option<u32>,
    /// Fail (exit 1) when a bundle has no `.sigstore.json` beside it (`--require-signed`,
    /// or `--require-signed true|false` as the archive action passes it).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub require_signed: bool,
    /// A signature must come from this workflow, as owner/repo/path/to/workflow.yml,
    /// optionally @ref — e.g. the reusable workflow every repository calls. Without it,
    /// any workflow of the repository the bundle audits.
    #[arg(long, value_name = "OWNER/REPO/PATH[@REF]")]
    pub signer_workflow: Option<String>,
    /// Trusted roots to check signatures with instead of the built-in ones: the output of
    /// `gh attestation trusted-root` (JSON lines) or one trusted_root.json.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
}

/// Runs the subcommand; returns the exit code.
pub async fn archive(args: ArchiveArgs, net: &crate::http::Net) -> Result<i32> {
    let raw = RawInputs::from_flags([
        ("storage-url", "STORAGE_URL", Some(args.url.as_str())),
        ("storage-credentials", "--storage-credentials", args.credentials.expose()),
    ]);
    let settings = crate::config::storage::settings(&raw)?
        .ok_or_else(|| Error::input("STORAGE_URL", "is empty", "give gs://bucket/prefix/ or s3://bucket/prefix/"))?;
    if args.jobs == 0 || args.jobs > 64 {
        return Err(Error::input("--jobs", format!("{} is out of range", args.jobs), "give 1 to 64"));
    }
    // The archive action passes `--signer-workflow=` when its input is empty.
    let signer_workflow = args.signer_workflow.filter(|w| !w.trim().is_empty());
    if let Some(w) = &signer_workflow {
        crate::cli::sigstore::check_signer_workflow(w)?;
    }
    let roots = match &args.trusted_root {
        Some(path) => crate::verify::sigstore::Roots::from_file(path)?,
        None => crate::verify::sigstore::Roots::embedded(),
    };
    let policy = crate::archive::Policy { retention_days: args.retention_days, signer_workflow, roots };
    let index = crate::archive::build(net, &settings, &args.out, args.jobs, &policy).await?;
    let written = crate::archive::write(&index, &args.out)?;
    let unsigned = index.bundles.iter().filter(|r| r.signature == "absent").count();
    for (repo, (bundles, broken)) in crate::archive::by_repository(&index) {
        print_line(&format!("{repo}: {bundles} bundles, {broken} do not verify"));
    }
    print_line(&format!(
        "{} bundles: {} verify, {} do not; {unsigned} unsigned; index: {}",
        index.bundles.len(),
        index.bundles.len() - index.broken(),
        index.broken(),
        written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    ));
    let failed = index.broken() > 0 || (args.require_signed && unsigned > 0);
    Ok(if failed { EXIT_VERDICT_FAILED } else { 0 })
}
