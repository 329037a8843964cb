//! `release-audit verify --sigstore-bundle`: the zip's Sigstore signature, checked
//! offline — no network, no token — against trusted roots this binary carries.
//!
//! The cryptography is `sigstore-verify` (sigstore/sigstore-rust) on `ring`
//! (`sigstore_ring.rs`); this module picks the trusted root, sets the policy that
//! root supports, checks the signer against what the auditor expects, and says in plain
//! words what holds and what cannot be established offline.
//!
//! What is checked, in order (the first failure is the reason given):
//! 1. the bundle parses (media type v0.1, v0.2 or v0.3) and is a DSSE envelope holding
//!    an in-toto statement one of whose subjects is the file's sha256;
//! 2. a trusted root carries the CA that issued the signing certificate (its issuer
//!    name is a CA certificate's subject name) — that root decides the instance;
//! 3. `sigstore-verify`, with every check that root can support: the certificate chain
//!    to the root's Fulcio CA, valid (and a code-signing certificate) at the signing
//!    time; that time proven by the transparency log entry (inclusion proof or SET,
//!    when the root has logs: Sigstore's public-good instance) or an RFC 3161 timestamp
//!    (GitHub's instance, which has no public log); the certificate's SCT when the root
//!    has CT logs; the DSSE signature; the statement's subject against the file; the
//!    certificate's OIDC issuer;
//! 4. the signer, in the manner of `gh attestation verify`: `--repo` (the certificate's
//!    source repository), `--owner` (its owner), `--signer-workflow` (the workflow file
//!    that signed, optionally at a ref); without `--signer-workflow` the signing
//!    workflow must belong to the given repository (or owner).

use std::path::Path;

use serde::Serialize;
use sigstore_verify::crypto::{FulcioCiClaims, parse_certificate_info};
use sigstore_verify::trust_root::{SIGSTORE_GITHUB_TRUSTED_ROOT, SIGSTORE_PRODUCTION_TRUSTED_ROOT, TrustedRoot};
use sigstore_verify::types::{Bundle, Sha256Hash, SignatureContent};
use sigstore_verify::{CertificateError, IdentityMatcher, VerificationPolicy, VerificationResult, Verifier};
use x509_cert::Certificate;
use x509_cert::der::Decode;

use crate::error::{Error, Result};

/// Largest Sigstore bundle read (a real one is about 10 KiB).
pub const MAX_BUNDLE_BYTES: u64 = 4 << 20;
/// Largest `--trusted-root` file read (`gh attestation trusted-root` prints ~20 KiB).
pub const MAX_ROOT_BYTES: u64 = 4 << 20;
/// The OIDC issuer of GitHub Actions' tokens: `--cert-oidc-issuer`'s default.
pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// Where the roots this binary carries come from.
pub const EMBEDDED_ROOTS: &str = "the roots built into this binary (crate sigstore-trust-root 0.15.1, \
     copied from Sigstore's TUF repositories for the public-good and GitHub instances, refreshed 2026-10-23)";

/// Who the auditor expects to have signed.
#[derive(Debug, Clone, Default)]
pub struct Expected {
    pub owner: Option<String>,
    /// `owner/name`.
    pub repo: Option<String>,
    /// `owner/repo/path/to/workflow.yml`, optionally `@ref`; `https://github.com/` may lead.
    pub signer_workflow: Option<String>,
    pub issuer: String,
}

/// One trusted root, named for the CA it carries.
pub struct Root {
    pub name: String,
    pub root: TrustedRoot,
}

/// The trusted roots a check may use, and where they came from.
pub struct Roots {
    pub roots: Vec<Root>,
    pub source: String,
    /// The roots as an index names them: `built-in`, or `sha256:<hex>` of the
    /// `--trusted-root` file as read.
    pub id: String,
}

impl Roots {
    /// Sigstore's public-good root and GitHub's, as built into the binary.
    pub fn embedded() -> Roots {
        let roots = [SIGSTORE_PRODUCTION_TRUSTED_ROOT, SIGSTORE_GITHUB_TRUSTED_ROOT]
            .iter()
            .map(|json| named(TrustedRoot::from_json(json).expect("the embedded trusted roots parse")))
            .collect();
        Roots { roots, source: EMBEDDED_ROOTS.to_string(), id: "built-in".into() }
    }

    /// `--trusted-root FILE`: one trusted_root.json, or JSON lines (`gh attestation
    /// trusted-root`). These roots replace the built-in ones.
    pub fn from_file(path: &Path) -> Result<Roots> {
        let text = read_bounded(path, MAX_ROOT_BYTES, "--trusted-root")?;
        let hint = "give one trusted_root.json, or the output of `gh attestation trusted-root` (one root per line)";
        let bad = |what: String, e: &dyn std::fmt::Display| {
            Error::input(
                "--trusted-root",
                format!("{}: {what} is not a Sigstore trusted root ({e})", path.display()),
                hint,
            )
        };
        let mut roots = Vec::new();
        if let Ok(root) = TrustedRoot::from_json(&text) {
            roots.push(named(root));
        } else {
            for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let root = TrustedRoot::from_json(line).map_err(|e| bad(format!("line {}", n + 1), &e))?;
                roots.push(named(root));
            }
        }
        if roots.is_empty() {
            return Err(bad("the file".into(), &"it holds no root"));
        }
        let id = format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())));
        Ok(Roots { roots, source: format!("the roots in {} (--trusted-root)", path.display()), id })
    }
}

fn named(root: TrustedRoot) -> Root {
    let uri = root.certificate_authorities.iter().map(|ca| ca.uri.as_str()).find(|u| !u.is_empty()).unwrap_or("");
    let name = if uri.contains("githubapp.com") {
        GITHUB_INSTANCE.to_string()
    } else if uri.contains("sigstore.dev") {
        "Sigstore's public-good instance".to_string()
    } else {
        format!("the instance of the CA at {uri}")
    };
    Root { name, root }
}

/// Reads a small file whole, refusing one over `max` bytes.
pub fn read_bounded(path: &Path, max: u64, name: &str) -> Result<String> {
    use std::io::Read;
    let hint = format!("give {name} a readable file of at most {} MiB", max >> 20);
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e, hint.clone()))?;
    let mut text = String::new();
    file.take(max + 1).read_to_string(&mut text).map_err(|e| Error::io(path, e, hint.clone()))?;
    if text.len() as u64 > max {
        return Err(Error::input(name, format!("{} is larger than {} MiB", path.display(), max >> 20), hint));
    }
    Ok(text)
}

/// What the signature check found, for the report layer and `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct SigstoreCheck {
    /// The Sigstore bundle's path.
    pub bundle: String,
    /// The signed file's sha256 (hex).
    pub artifact_sha256: String,
    pub verified: bool,
    /// Why it failed: names what failed first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The Sigstore instance whose root verified it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<Signer>,
    /// What holds, in plain words (empty on failure).
    pub holds: Vec<String>,
    /// What this offline check cannot establish.
    pub not_established: Vec<String>,
}

/// The signer, as the verified certificate says.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Signer {
    /// The certificate's identity (for GitHub Actions: the workflow file at its ref).
    pub workflow: String,
    pub issuer: String,
    pub repository: Option<String>,
    pub git_ref: Option<String>,
    pub commit: Option<String>,
    pub trigger: Option<String>,
    pub run: Option<String>,
    /// RFC 3339.
    pub signed_at: String,
    /// What proves `signed_at`.
    pub time_proof: String,
}

/// Checks `bundle_json` (read from `bundle_label`) as a signature over a file whose
/// sha256 is `artifact_sha256`, by `expected`, against `roots`. Offline: nothing here
/// opens a connection.
pub fn check(
    artifact_sha256: [u8; 32],
    bundle_json: &str,
    bundle_label: &str,
    expected: &Expected,
    roots: &Roots,
) -> SigstoreCheck {
    super::sigstore_ring::install();
    let hex = hex::encode(artifact_sha256);
    let mut out = SigstoreCheck {
        bundle: bundle_label.to_string(),
        artifact_sha256: hex.clone(),
        verified: false,
        failure: None,
        instance: None,
        signer: None,
        holds: Vec::new(),
        not_established: Vec::new(),
    };
    match verify_any(artifact_sha256, bundle_json, expected, roots) {
        Ok(passed) => {
            out.verified = true;
            out.holds = holds(&hex, &passed, expected);
            out.not_established = not_established(&passed, roots);
            out.instance = Some(passed.instance);
            out.signer = Some(passed.signer);
        }
        Err(reason) => out.failure = Some(reason),
    }
    out
}

/// Bundles in one JSON lines file (`gh attestation download` writes one per attestation
/// of the file) checked at most.
pub const MAX_BUNDLE_LINES: usize = 100;

/// One bundle, or JSON lines of them: the first that verifies; else the reason the first
/// one about this file (or else the first one) failed.
fn verify_any(sha256: [u8; 32], text: &str, expected: &Expected, roots: &Roots) -> std::result::Result<Passed, String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.len() < 2 || serde_json::from_str::<serde_json::Value>(text).is_ok() {
        return verify(sha256, text, expected, roots);
    }
    if lines.len() > MAX_BUNDLE_LINES {
        return Err(format!(
            "bundle: {} bundles in one file, more than {MAX_BUNDLE_LINES}; save the one to check",
            lines.len()
        ));
    }
    let mut first: Option<String> = None;
    for (n, line) in lines.iter().enumerate() {
        match verify(sha256, line, expected, roots) {
            Ok(passed) => return Ok(passed),
            Err(reason) => {
                let about_other_file = reason.starts_with("subject:");
                if first.is_none() || (!about_other_file && first.as_deref().is_some_and(|f| f.contains("subject:"))) {
                    first = Some(format!("line {}: {reason}", n + 1));
                }
            }
        }
    }
    Err(first.unwrap_or_default())
}

struct Passed {
    instance: String,
    ca: String,
    signer: Signer,
    tlog: Option<String>,
    sct: bool,
}

fn verify(
    artifact_sha256: [u8; 32],
    bundle_json: &str,
    expected: &Expected,
    roots: &Roots,
) -> std::result::Result<Passed, String> {
    let bundle = Bundle::from_json(bundle_json).map_err(|e| {
        format!("bundle: not a readable Sigstore bundle ({e}); give the .sigstore.json written beside the zip")
    })?;
    let statement = subject_names_file(&bundle, artifact_sha256)?;
    let leaf = bundle
        .signing_certificate()
        .ok_or("certificate: the bundle carries no signing certificate (a key-signed bundle); release-audit checks keyless GitHub signatures")?;
    let (root, ca) = root_for(roots, leaf.as_bytes())?;
    let info = parse_certificate_info(leaf)
        .map_err(|e| format!("certificate: the signing certificate is unreadable ({e})"))?;
    let release_service =
        info.identity.as_ref().is_some_and(|i| i.as_str() == GITHUB_RELEASES) && root.name == GITHUB_INSTANCE;
    let mut policy = if release_service {
        VerificationPolicy::any_identity().require_identity(IdentityMatcher::Uri(GITHUB_RELEASES.into()))
    } else {
        VerificationPolicy::any_identity().require_issuer(expected.issuer.clone())
    };
    if root.root.tlogs.is_empty() {
        policy = policy.skip_tlog_unsafe();
    }
    if root.root.ctlogs.is_empty() {
        policy = policy.skip_sct();
    }
    let verifier = Verifier::new(&root.root).map_err(|e| format!("trusted root: {} is unusable ({e})", root.name))?;
    let window = format!("{} to {}", info.not_before, info.not_after);
    let result =
        verifier.verify(Sha256Hash::new(artifact_sha256), &bundle, &policy).map_err(|e| reason(&e, root, &window))?;
    let tlog_needed = !root.root.tlogs.is_empty();
    if !result.certificate_verified() || (tlog_needed && !result.tlog_verified()) {
        return Err("bundle: the verifier did not establish the certificate chain and log entry".into());
    }
    let mut signer = signer(&result)?;
    if release_service {
        check_release(expected, &statement, &mut signer)?;
    } else {
        check_signer(expected, &signer, &result.certificate().map(|c| c.ci_claims.clone()).unwrap_or_default())?;
    }
    // The logs the bundle's entries are in (each entry's log ID is a log of the root's:
    // sigstore-verify refuses an entry from an unknown log).
    let tlog = tlog_needed.then(|| {
        let entries = &bundle.verification_material.tlog_entries;
        let logs = root.root.tlogs.iter().filter(|t| entries.iter().any(|e| e.log_id == t.log_id));
        logs.map(|t| t.base_url.clone()).collect::<Vec<_>>().join(" and ")
    });
    Ok(Passed { instance: root.name.clone(), ca, signer, tlog, sct: !root.root.ctlogs.is_empty() })
}

/// The identity GitHub's release service signs immutable releases' attestations with.
const GITHUB_RELEASES: &str = "https://dotcom.releases.github.com";
const RELEASE_PREDICATE: &str = "https://in-toto.io/attestation/release/v0.2";
const GITHUB_INSTANCE: &str = "GitHub's Sigstore instance";

/// A release attestation (`gh release verify-asset`): GitHub's release service signed
/// that the release of `predicate.repository` at `predicate.tag` holds the file. The
/// signer is GitHub itself, so `--repo`/`--owner` are held against the predicate.
fn check_release(
    expected: &Expected,
    statement: &serde_json::Value,
    signer: &mut Signer,
) -> std::result::Result<(), String> {
    if statement["predicateType"] != RELEASE_PREDICATE {
        return Err(format!("signer identity: {GITHUB_RELEASES} signed a statement that is not a release attestation"));
    }
    let repo = statement["predicate"]["repository"].as_str().unwrap_or_default();
    let tag = statement["predicate"]["tag"].as_str().unwrap_or_default();
    signer.repository = Some(format!("{GITHUB}{repo}"));
    signer.git_ref = Some(format!("refs/tags/{tag}"));
    signer.issuer = "(none: GitHub's release service signs as itself)".into();
    if let Some(w) = &expected.signer_workflow {
        return Err(format!(
            "signer identity: GitHub's release service ({GITHUB_RELEASES}) signed this release attestation, not the workflow {w} (--signer-workflow)"
        ));
    }
    let owner = repo.split('/').next().unwrap_or_default();
    let wrong = |what: &str, flag: &str, want: &str| {
        format!(
            "signer identity: the release attestation is for the {what} {}, not {want} ({flag})",
            if what == "owner" { owner } else { repo }
        )
    };
    match (&expected.repo, &expected.owner) {
        (None, None) => Err("signer identity: no expected signer was given; pass --owner or --repo \
             (a valid signature for an unknown repository proves nothing)"
            .into()),
        (Some(r), _) if !r.eq_ignore_ascii_case(repo) => Err(wrong("repository", "--repo", r)),
        (_, Some(o)) if !o.eq_ignore_ascii_case(owner) => Err(wrong("owner", "--owner", o)),
        _ => Ok(()),
    }
}

/// The statement must be an in-toto statement one of whose subjects is the file.
fn subject_names_file(bundle: &Bundle, sha256: [u8; 32]) -> std::result::Result<serde_json::Value, String> {
    let SignatureContent::DsseEnvelope(envelope) = &bundle.content else {
        return Err("bundle: it signs a bare digest, not a DSSE envelope with an in-toto statement; \
             give the attestation bundle `actions/attest` wrote"
            .into());
    };
    let statement: serde_json::Value = serde_json::from_slice(envelope.payload.as_bytes())
        .map_err(|e| format!("statement: the DSSE payload is not JSON ({e})"))?;
    let digests: Vec<&str> = statement["subject"]
        .as_array()
        .map(|subjects| subjects.iter().filter_map(|s| s["digest"]["sha256"].as_str()).collect())
        .unwrap_or_default();
    let hex = hex::encode(sha256);
    if digests.iter().any(|d| d.eq_ignore_ascii_case(&hex)) {
        return Ok(statement);
    }
    let named = if digests.is_empty() { "no sha256".to_string() } else { format!("sha256 {}", digests.join(", ")) };
    Err(format!(
        "subject: the signed statement names {named}, not this file's sha256 {hex}; \
         the signature is for another file (give the zip it was made for)"
    ))
}

/// The root carrying the CA that issued `leaf`, and that CA's name.
fn root_for<'a>(roots: &'a Roots, leaf: &[u8]) -> std::result::Result<(&'a Root, String), String> {
    let leaf = Certificate::from_der(leaf)
        .map_err(|e| format!("certificate: the signing certificate is not DER X.509 ({e})"))?;
    let issuer = &leaf.tbs_certificate.issuer;
    for root in &roots.roots {
        for ca in &root.root.certificate_authorities {
            let issued = ca.cert_chain.certificates.iter().any(|c| {
                Certificate::from_der(c.raw_bytes.as_bytes()).is_ok_and(|c| &c.tbs_certificate.subject == issuer)
            });
            if issued {
                return Ok((root, format!("{issuer} ({})", ca.uri)));
            }
        }
    }
    Err(format!(
        "certificate chain: no trusted root carries the CA that issued the signing certificate ({issuer}); \
         the roots used are {}; if the CA is newer than them, pass a current root: \
         `gh attestation trusted-root > root.jsonl` and --trusted-root root.jsonl",
        roots.source
    ))
}

/// A plain reason for a `sigstore-verify` error, naming what failed; `window` is the
/// signing certificate's validity.
fn reason(e: &sigstore_verify::Error, root: &Root, window: &str) -> String {
    use sigstore_verify::Error as E;
    match e {
        // webpki's words for a chain checked at a time outside the leaf's validity.
        E::Certificate(CertificateError::ChainInvalid(d))
            if d.contains("CertExpired") || d.contains("CertNotValidYet") =>
        {
            format!(
                "signing time outside the certificate's validity: the certificate is valid {window}, \
                 and the time the bundle proves it was signed is not in it ({e})"
            )
        }
        E::SignatureInvalid(d) => {
            format!("signature: {d}; the statement or its signature changed after signing")
        }
        E::ArtifactMismatch(d) => format!("subject: {d}"),
        E::IssuerMismatch { .. } => format!("signer identity: {e} (--cert-oidc-issuer)"),
        E::Certificate(CertificateError::NotYetValid { .. } | CertificateError::Expired { .. }) => {
            format!("signing time outside the certificate's validity: {e}")
        }
        E::Certificate(CertificateError::NoValidAuthority { .. }) => {
            format!("signing time outside the CA's validity in {}: {e}", root.name)
        }
        E::Certificate(CertificateError::Sct(_)) => format!("certificate transparency: {e}"),
        E::Certificate(_) => format!("certificate chain: {e} (against {})", root.name),
        E::TransparencyLog(sigstore_verify::TransparencyLogError::InclusionPromise(_)) => format!(
            "transparency log entry: its signed promise (SET) does not cover the entry as it is: its integrated \
             time (the signing time), body, index or log changed after the log signed it ({e})"
        ),
        E::TransparencyLog(_) => format!("transparency log entry: {e}"),
        E::Timestamp(_) => format!("signing time: {e}"),
        _ => format!("bundle: {e}"),
    }
}

fn signer(result: &VerificationResult) -> std::result::Result<Signer, String> {
    let cert = result.certificate().ok_or("certificate: the verifier kept no signing certificate")?;
    let (signed_at, time_proof) = match result.integrated_time() {
        Some(t) => (t, "the transparency log entry's integrated time, signed by the log".to_string()),
        None => match result.verified_timestamps().first() {
            Some(t) => (*t, "an RFC 3161 timestamp signed by the root's timestamp authority".to_string()),
            None => return Err("signing time: no signed time proves when the signature was made".into()),
        },
    };
    let claims = &cert.ci_claims;
    Ok(Signer {
        workflow: result.identity().map(|i| i.as_str().to_string()).unwrap_or_default(),
        issuer: result.issuer().unwrap_or_default().to_string(),
        repository: claims.source_repository_uri.clone(),
        git_ref: claims.source_repository_ref.clone(),
        commit: claims.source_repository_digest.clone(),
        trigger: claims.build_trigger.clone(),
        run: claims.run_invocation_uri.clone(),
        signed_at: signed_at.to_string(),
        time_proof,
    })
}

const GITHUB: &str = "https://github.com/";

/// `gh attestation verify`'s identity rules, for github.com.
fn check_signer(expected: &Expected, signer: &Signer, claims: &FulcioCiClaims) -> std::result::Result<(), String> {
    let same = |a: Option<&str>, b: &str| a.is_some_and(|a| a.eq_ignore_ascii_case(b));
    let shown = |a: Option<&String>| a.map_or("(none)".to_string(), Clone::clone);
    if let Some(repo) = &expected.repo {
        let want = format!("{GITHUB}{repo}");
        if !same(claims.source_repository_uri.as_deref(), &want) {
            return Err(format!(
                "signer identity: the certificate's source repository is {}, not {want} (--repo)",
                shown(claims.source_repository_uri.as_ref())
            ));
        }
    }
    if let Some(owner) = &expected.owner {
        let want = format!("{GITHUB}{owner}");
        if !same(claims.source_repository_owner_uri.as_deref(), &want) {
            return Err(format!(
                "signer identity: the certificate's repository owner is {}, not {want} (--owner)",
                shown(claims.source_repository_owner_uri.as_ref())
            ));
        }
    }
    let san = signer.workflow.to_ascii_lowercase();
    let (want, exact, flag) = match (&expected.signer_workflow, &expected.repo, &expected.owner) {
        (Some(w), _, _) => {
            let w = w.trim_start_matches("https://").trim_start_matches("github.com/");
            (format!("{GITHUB}{w}"), w.contains('@'), "--signer-workflow")
        }
        (None, Some(repo), _) => {
            (format!("{GITHUB}{repo}/"), false, "--repo; a reusable workflow from elsewhere needs --signer-workflow")
        }
        (None, None, Some(owner)) => {
            (format!("{GITHUB}{owner}/"), false, "--owner; a reusable workflow from elsewhere needs --signer-workflow")
        }
        (None, None, None) => {
            return Err("signer identity: no expected signer was given; pass --owner, --repo or --signer-workflow \
                 (a valid signature by an unknown workflow proves nothing)"
                .into());
        }
    };
    let want_lower = want.to_ascii_lowercase();
    let matches = if exact {
        san == want_lower
    } else if want.ends_with('/') {
        san.starts_with(&want_lower)
    } else {
        san.starts_with(&format!("{want_lower}@"))
    };
    if !matches {
        return Err(format!(
            "signer identity: the certificate was issued to the workflow {}, not {want}{} ({flag})",
            signer.workflow,
            if want.ends_with('/') || exact { "" } else { "@<ref>" }
        ));
    }
    Ok(())
}

fn holds(hex: &str, p: &Passed, expected: &Expected) -> Vec<String> {
    let s = &p.signer;
    let mut holds = vec![
        format!("subject: the signed in-toto statement names this file (sha256 {hex})"),
        "signature: the DSSE signature over the statement verifies with the signing certificate's key".to_string(),
        format!(
            "certificate: it chains to {} in {}, is for code signing, and was valid at {}",
            p.ca, p.instance, s.signed_at
        ),
        format!("signing time: {} is proven by {}", s.signed_at, s.time_proof),
    ];
    if let Some(log) = &p.tlog {
        holds.push(format!(
            "transparency log: the entry for this signature is in {log} (its inclusion proof or signed promise verifies with the log's key)"
        ));
    }
    if p.sct {
        holds.push("certificate transparency: the certificate's SCT verifies: Fulcio logged it".to_string());
    }
    let wanted: Vec<String> =
        [("--owner", &expected.owner), ("--repo", &expected.repo), ("--signer-workflow", &expected.signer_workflow)]
            .iter()
            .filter_map(|(flag, v)| v.as_ref().map(|v| format!("{flag} {v}")))
            .collect();
    if s.workflow == GITHUB_RELEASES {
        holds.push(format!(
            "signer: GitHub's release service ({GITHUB_RELEASES}) attests that the release {} at {} holds this file — as {} require",
            s.repository.as_deref().unwrap_or_default(),
            s.git_ref.as_deref().unwrap_or_default(),
            wanted.join(", "),
        ));
        return holds;
    }
    holds.push(format!(
        "signer: the workflow {} (token issuer {}), repository {}, ref {}, commit {} — as {} and --cert-oidc-issuer require",
        s.workflow,
        s.issuer,
        s.repository.as_deref().unwrap_or("(not stated)"),
        s.git_ref.as_deref().unwrap_or("(not stated)"),
        s.commit.as_deref().unwrap_or("(not stated)"),
        wanted.join(", "),
    ));
    holds
}

fn not_established(p: &Passed, roots: &Roots) -> Vec<String> {
    let mut not = vec![
        "revocation: whether the certificate, its CA, or the log or timestamp keys were revoked or compromised after \
         signing; Sigstore keeps no revocation list (a compromised key leaves the trusted root), so check again with \
         a current root: `gh attestation trusted-root > root.jsonl`, then --trusted-root root.jsonl"
            .to_string(),
    ];
    if p.tlog.is_some() {
        not.push(
            "log consistency: whether the transparency log still holds this entry and has not been forked or rewritten \
             since; that needs the log's current checkpoint, from the network"
                .to_string(),
        );
    } else {
        not.push(format!(
            "transparency log: {} keeps no public log, so the signing time rests on its timestamp authority alone \
             and no log shows what else was signed with this identity",
            p.instance
        ));
    }
    not.push(format!("roots: whether {} are still current; that needs the network", roots.source));
    not.push(if p.signer.workflow == GITHUB_RELEASES {
        "the build: a release attestation says which release holds the file, not how the file was built".to_string()
    } else {
        "the build: the certificate's repository, ref and commit are GitHub's token claims as Fulcio copied them; \
         the signature proves the workflow run signed this file, not what the workflow's code did"
            .to_string()
    });
    not
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAN: &str = "https://github.com/Octo/App/.github/workflows/release.yml@refs/tags/v1.0.0";

    fn signer() -> Signer {
        Signer { workflow: SAN.into(), ..Signer::default() }
    }

    fn claims(repo: &str, owner: &str) -> FulcioCiClaims {
        let mut c = FulcioCiClaims::default();
        c.source_repository_uri = Some(repo.into());
        c.source_repository_owner_uri = Some(owner.into());
        c
    }

    fn expect(owner: Option<&str>, repo: Option<&str>, workflow: Option<&str>) -> Expected {
        Expected {
            owner: owner.map(Into::into),
            repo: repo.map(Into::into),
            signer_workflow: workflow.map(Into::into),
            issuer: GITHUB_ACTIONS_ISSUER.into(),
        }
    }

    fn verdict(e: &Expected) -> std::result::Result<(), String> {
        check_signer(e, &signer(), &claims("https://github.com/Octo/App", "https://github.com/Octo"))
    }

    #[test]
    fn the_roots_are_said_to_come_from_the_locked_sigstore_trust_root() {
        let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock")).unwrap();
        let at = lock.find("name = \"sigstore-trust-root\"\nversion = \"").expect("locked");
        let version = lock[at..].split('"').nth(3).unwrap();
        assert!(
            EMBEDDED_ROOTS.contains(&format!("sigstore-trust-root {version},")),
            "update EMBEDDED_ROOTS for {version}"
        );
    }

    #[test]
    fn the_signer_matches_as_gh_attestation_verify_matches_it() {
        // GitHub names compare without case; a workflow without @ref matches any ref.
        for ok in [
            expect(None, Some("octo/app"), None),
            expect(Some("octo"), None, None),
            expect(None, None, Some("octo/app/.github/workflows/release.yml")),
            expect(None, None, Some("https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1.0.0")),
            expect(Some("octo"), Some("octo/app"), Some("github.com/octo/app/.github/workflows/release.yml")),
        ] {
            assert_eq!(verdict(&ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn a_near_miss_signer_is_refused_naming_the_flag() {
        for (bad, flag) in [
            (expect(None, Some("octo/ap"), None), "(--repo)"),
            (expect(Some("oct"), None, None), "(--owner)"),
            // A workflow whose name only starts like the expected one.
            (expect(None, None, Some("octo/app/.github/workflows/release")), "(--signer-workflow)"),
            (expect(None, None, Some("octo/app/.github/workflows/release.yml@refs/tags/v1.0")), "(--signer-workflow)"),
            (expect(None, None, None), "no expected signer was given"),
        ] {
            let err = verdict(&bad).unwrap_err();
            assert!(err.starts_with("signer identity:") && err.contains(flag), "{bad:?}: {err}");
        }
        // --repo alone: a workflow of another repository (a reusable one) is not accepted.
        let other =
            Signer { workflow: "https://github.com/evil/x/.github/workflows/r.yml@refs/heads/main".into(), ..signer() };
        let err = check_signer(
            &expect(None, Some("octo/app"), None),
            &other,
            &claims("https://github.com/Octo/App", "https://github.com/Octo"),
        )
        .unwrap_err();
        assert!(err.contains("needs --signer-workflow"), "{err}");
    }
}
