//! `release-audit verify`'s Sigstore flags: which signature to check, against which
//! roots, and who must have signed (in the manner of `gh attestation verify`).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::verify::sigstore::{self, Expected, GITHUB_ACTIONS_ISSUER, Roots, SigstoreCheck};

#[derive(Debug, Clone, clap::Args)]
pub struct SignatureArgs {
    /// The zip's Sigstore bundle, or JSON lines of them (default: `<bundle-name>.sigstore.json`
    /// or `<zip>.sigstore.json` beside the zip, when there is one). Checked offline
    /// against the trusted roots this binary carries.
    #[arg(long, value_name = "FILE")]
    pub sigstore_bundle: Option<PathBuf>,
    /// (signature) The GitHub owner whose repository the signing run built from.
    #[arg(long, value_name = "OWNER")]
    pub owner: Option<String>,
    /// (signature) The repository the signing run built from, as owner/name.
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
    /// (signature) The workflow file that signed, as owner/repo/path/to/workflow.yml,
    /// optionally @ref (e.g. @refs/tags/v1.2.0). Without it the signing workflow must
    /// belong to --repo (or --owner).
    #[arg(long, value_name = "OWNER/REPO/PATH[@REF]")]
    pub signer_workflow: Option<String>,
    /// (signature) The OIDC issuer of the signer's token.
    #[arg(long, value_name = "URL", default_value = GITHUB_ACTIONS_ISSUER)]
    pub cert_oidc_issuer: String,
    /// (signature) Trusted roots to use instead of the built-in ones: the output of
    /// `gh attestation trusted-root` (JSON lines) or one trusted_root.json.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// Check only the Sigstore signature over the file, not an audit bundle's contents
    /// (the file may be any signed file).
    #[arg(long)]
    pub signature_only: bool,
}

impl SignatureArgs {
    fn identity_given(&self) -> bool {
        self.owner.is_some() || self.repo.is_some() || self.signer_workflow.is_some()
    }

    fn expected(&self) -> Result<Expected> {
        let name_ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if let Some(owner) = &self.owner
            && !name_ok(owner)
        {
            return Err(Error::input(
                "--owner",
                format!("`{owner}` is not a GitHub owner name"),
                "give e.g. --owner kyma-project",
            ));
        }
        if let Some(repo) = &self.repo
            && !repo.split_once('/').is_some_and(|(o, n)| name_ok(o) && name_ok(n))
        {
            return Err(Error::input(
                "--repo",
                format!("`{repo}` is not owner/name"),
                "give e.g. --repo kyma-project/release-audit",
            ));
        }
        if let Some(w) = &self.signer_workflow {
            check_signer_workflow(w)?;
        }
        Ok(Expected {
            owner: self.owner.clone(),
            repo: self.repo.clone(),
            signer_workflow: self.signer_workflow.clone(),
            issuer: self.cert_oidc_issuer.clone(),
        })
    }
}

/// `--signer-workflow` must name a workflow file: owner/repo/path, optionally @ref.
pub(crate) fn check_signer_workflow(w: &str) -> Result<()> {
    let parts = w.trim_start_matches("https://").trim_start_matches("github.com/").split('/');
    if parts.filter(|p| !p.is_empty()).count() < 3 {
        return Err(Error::input(
            "--signer-workflow",
            format!("`{w}` does not name a workflow file"),
            "give owner/repo/.github/workflows/file.yml, optionally @ref",
        ));
    }
    Ok(())
}

/// Where a Sigstore bundle for `file` lies beside it: `<bundle-name>.sigstore.json` (the
/// zip's name without `.zip`, as the workflow and `attach` store it), then
/// `<file>.sigstore.json`.
fn beside(file: &Path) -> [PathBuf; 2] {
    let with = |base: &std::ffi::OsStr| {
        let mut name = base.to_owned();
        name.push(".sigstore.json");
        PathBuf::from(name)
    };
    let stem = if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")) {
        file.with_extension("")
    } else {
        file.to_path_buf()
    };
    [with(stem.as_os_str()), with(file.as_os_str())]
}

/// The Sigstore bundle to check for `file`: the flag's, else the first [`beside`] it that
/// exists.
fn bundle_path(file: &Path, args: &SignatureArgs) -> Option<PathBuf> {
    if let Some(p) = &args.sigstore_bundle {
        return Some(p.clone());
    }
    beside(file).into_iter().find(|p| p.is_file())
}

/// Checks `file`'s Sigstore signature when one is given or lies beside it; `None` when
/// there is none and none was asked for. A flag that cannot be honoured is an error.
pub fn check(file: &Path, args: &SignatureArgs) -> Result<Option<SigstoreCheck>> {
    let Some(bundle) = bundle_path(file, args) else {
        if args.identity_given() || args.trusted_root.is_some() || args.signature_only {
            let [first, _] = beside(file);
            return Err(Error::input(
                "--sigstore-bundle",
                format!("a signature check was asked for but there is no {}", first.display()),
                "download the zip's .sigstore.json beside it, or pass --sigstore-bundle FILE",
            ));
        }
        return Ok(None);
    };
    let expected = args.expected()?;
    let roots = match &args.trusted_root {
        Some(path) => Roots::from_file(path)?,
        None => Roots::embedded(),
    };
    if !file.is_file() {
        return Err(Error::input(
            "verify",
            format!("{} is not a file: a signature covers the zip", file.display()),
            "give the signed zip, not its unzipped directory",
        ));
    }
    let json = sigstore::read_bounded(&bundle, sigstore::MAX_BUNDLE_BYTES, "--sigstore-bundle")?;
    let hint = "give a readable file to verify";
    let reader = std::fs::File::open(file).map_err(|e| Error::io(file, e, hint))?;
    let mut hashing = crate::hashing::HashingReader::new(reader);
    std::io::copy(&mut hashing, &mut std::io::sink()).map_err(|e| Error::io(file, e, hint))?;
    let (_, sha256) = hashing.tally.finish_bytes();
    Ok(Some(sigstore::check(sha256, &json, &bundle.display().to_string(), &expected, &roots)))
}

/// `--signature-only`: print the signature check alone; the exit code.
pub fn print_only(check: Option<&SigstoreCheck>, json: bool) -> i32 {
    use crate::github::commands::{inert_json, print_line};
    let Some(check) = check else {
        // `check` refuses --signature-only without a bundle; nothing was checked.
        return crate::error::EXIT_USAGE;
    };
    if json {
        println!("{}", inert_json(&serde_json::to_string_pretty(check).expect("serialisable")));
    } else {
        for line in crate::report::text::signature(check) {
            print_line(&line);
        }
    }
    if check.verified { 0 } else { crate::error::EXIT_VERDICT_FAILED }
}
