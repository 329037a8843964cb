//! `release-audit verify`: the auditor's check of a bundle, trusting nothing in it.
//!
//! `verify` re-derives every claim from the evidence inside the bundle; hashes only
//! say that nothing changed since `SHA256SUMS` was written, and a forger rewrites that
//! file too. One module per kind of claim:
//!
//! - [`files`]: every file is hashed and compared with `SHA256SUMS` *and* with the
//!   manifest's file list; files added or missing are named; `manifest.yaml` must say
//!   what `manifest.json` says;
//! - [`tests`]: test totals are recounted by re-parsing the report files (under this
//!   binary's counting convention — a bundle counted under another is a problem that
//!   names the version to verify it with), and the category statuses from the totals;
//! - [`images`]: every image pair is re-judged from the stored digest records, whose
//!   manifests must hash to their digests, and from the test jobs' image records;
//! - [`changes`]: the change trail's counts and both controls are recomputed from
//!   `changes/commits.json`, `pulls.json` and `approvals.json`;
//! - [`rendered`]: `summary.md` and `report.html` are rendered again from the manifest
//!   (with the pairs' stored records) and must be the bundle's bytes exactly;
//! - [`statements`]: the in-toto statements are written again and must be the bundle's;
//! - the verdict, with every reason, must follow from all of it.
//!
//! Beside the contents, [`sigstore`] checks the zip's Sigstore signature offline when the
//! auditor gives one (`--sigstore-bundle`, or `<bundle-name>.sigstore.json` beside the zip): who
//! signed it, when, and what an offline check cannot establish.
//!
//! What is only recorded, not derived — facts about the run the runner reported —
//! cannot be re-derived from the bundle and is listed in [`INFORMATIONAL`]; a change to
//! one of them is caught by the hashes alone, so only a forger who rewrites
//! `SHA256SUMS` can change it. Everything else that is edited, with every hash fixed up
//! to match, fails (`tests/it/verify_edits.rs` edits every leaf).
//!
//! Bounds: a file's size is checked (from the walk, before it is opened) against the
//! limit for its kind ([`limits`]); a zip is extracted under the report extractor's
//! limits. The CLI lists a bounded number of problems (`report::text`).
//!
//! A bundle is outside data too: `verify` never follows a symbolic link, never opens
//! anything but a regular file below the bundle root (a FIFO or device would block or
//! never end), and never opens a path named by `SHA256SUMS` or the manifest unless it
//! is a plain relative path of a regular file it found itself. Each such thing is a
//! named problem. `manifest.yaml` is held against `manifest.json` exactly: the YAML the
//! writer would render from the JSON must be the YAML in the bundle (or, for a bundle
//! written by another version, parse to the same manifest); numbers are read exactly.

pub mod changes;
pub mod files;
pub mod images;
pub mod limits;
pub mod online;
pub mod rendered;
pub mod sigstore;
mod sigstore_ring;
pub mod source;
pub mod statements;
pub use rendered::{expected_reports, expected_statements};
pub mod tests;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::bundle::manifest::{Manifest, Verdict};
use crate::error::{Error, Result};
use crate::evidence::test_reports::extract::{Limits, extract_zip};
pub use files::Found;
pub use online::{check_released_tags, check_stored};

/// Fields that are recorded, not derived: `(file, JSON pointer)`, `*` standing for any
/// one path segment (an array index) or, in the file, any name. `verify` cannot
/// re-derive them from the evidence in the bundle; they are covered by the hashes only,
/// so an auditor takes them on `SHA256SUMS`' word. A pointer names that field and
/// everything below it. Keep this list small; each entry says why it cannot be derived.
pub const INFORMATIONAL: &[(&str, &str)] = &[
    // The run, as the runner's environment (`GITHUB_*`) reported it: no file in the
    // bundle says which run it was or who started it.
    ("manifest.json", "/run/url"),
    // Whether the release tag was an annotated tag object GitHub peeled (the tag's name
    // and the commit are checked against the ref and the change trail).
    ("manifest.json", "/source/commit_source/annotated"),
    ("manifest.json", "/run/attempt"),
    ("manifest.json", "/run/workflow"),
    ("manifest.json", "/run/workflow_ref"),
    ("manifest.json", "/run/event"),
    ("manifest.json", "/run/actor"),
    ("manifest.json", "/run/triggering_actor"),
    // When the audit ran, as the runner's clock (or SOURCE_DATE_EPOCH) said: the VSA's
    // `timeVerified`, which is written again from it (so an edit of it alone fails).
    ("manifest.json", "/run/audited_at"),
    // The test reports' sources as the Actions API listed them: each report artifact's
    // id, size, run attempt and service digest (absent for older artifacts), each source run's workflow, commit, attempt and
    // conclusion. The artifact zips are not kept (their files are, and are recounted),
    // and the run records are not in the bundle unless `include-run-logs` asks for them.
    // Checked: each artifact's name matches a pattern, its run is a source, its digest
    // is its sha256.
    ("manifest.json", "/evidence/tests/categories/*/artifacts/*/id"),
    ("manifest.json", "/evidence/tests/categories/*/artifacts/*/size"),
    ("manifest.json", "/evidence/tests/categories/*/artifacts/*/run_attempt"),
    ("manifest.json", "/evidence/tests/categories/*/artifacts/*/digest"),
    ("manifest.json", "/evidence/tests/categories/*/artifacts/*/created_at"),
    // The run's jobs as the API listed them when the artifact was tied to its job: the
    // tie's decision (which job, its conclusion) feeds the status, recomputed.
    ("manifest.json", "/evidence/tests/categories/*/artifacts/*/job/jobs"),
    ("manifest.json", "/evidence/tests/categories/*/artifacts/*/job/candidates"),
    // The same of each earlier workflow attempt's artifact of that name (its files are
    // kept and recounted; its name, run and order, and its attempt against its job, are
    // checked). Its job tie feeds only its attempt: an earlier attempt's reports count as
    // earlier attempts of the tests whatever its job concluded (a failed job of the run
    // is a reason of its own, from the run's jobs).
    ("manifest.json", "/evidence/tests/categories/*/artifacts/*/earlier_attempts/*/id"),
    ("manifest.json", "/evidence/tests/categories/*/artifacts/*/earlier_attempts/*/size"),
    ("manifest.json", "/evidence/tests/categories/*/artifacts/*/earlier_attempts/*/run_attempt"),
    ("manifest.json", "/evidence/tests/categories/*/artifacts/*/earlier_attempts/*/digest"),
    ("manifest.json", "/evidence/tests/categories/*/artifacts/*/earlier_attempts/*/created_at"),
    ("manifest.json", "/evidence/tests/categories/*/artifacts/*/earlier_attempts/*/job"),
    // Which earlier attempts' artifacts had expired, by id (how many feeds the flaky
    // count, which is recomputed).
    ("manifest.json", "/evidence/tests/categories/*/artifacts/*/expired_earlier_attempts"),
    ("manifest.json", "/evidence/tests/sources/*/workflow"),
    ("manifest.json", "/evidence/tests/sources/*/head_sha"),
    ("manifest.json", "/evidence/tests/sources/*/run_attempt"),
    ("manifest.json", "/evidence/tests/sources/*/conclusion"),
    // The gate's inputs as given. `verify` applies them to the evidence again (a change
    // that changes a status or the verdict fails), but cannot know what was given: the
    // patterns (each artifact must match one), and whether a missing category fails.
    ("manifest.json", "/evidence/tests/categories/*/patterns"),
    ("manifest.json", "/evidence/tests/fail_on_missing_reports"),
    // When each digest and record was read, and the registry's own digest header
    // (optional; where present it must equal the computed digest, which is checked).
    ("images/*.json", "/tested/read_at"),
    ("images/*.json", "/released/read_at"),
    ("images/*.json", "/tested/manifests/*/read_at"),
    ("images/*.json", "/released/manifests/*/read_at"),
    ("images/*.json", "/tested/header_digest"),
    ("images/*.json", "/released/header_digest"),
    ("images/*.json", "/tested/manifests/*/header_digest"),
    ("images/*.json", "/released/manifests/*/header_digest"),
    ("reports/*/image-record*.json", "/recorded_at"),
    // Why a pair that is not identical differs, as the audit found it comparing what the
    // bundle does not keep (configs, layers): shown, not judged. An identical pair's must
    // be empty, which is checked.
    ("images/*.json", "/explanation"),
    // Which build run and job logged the build report, as the Actions API listed them:
    // the log itself is kept and hashed, the report read from it again, and its digest
    // checked against every pair; the names and ids of the run are not in the log.
    ("manifest.json", "/evidence/images/build/workflow"),
    ("manifest.json", "/evidence/images/build/job"),
    ("manifest.json", "/evidence/images/build/logs/*/run_id"),
    ("manifest.json", "/evidence/images/build/logs/*/run_attempt"),
    // GitHub's records of the change trail as read. `verify` recomputes every
    // classification, count, named commit and control from them; these fields feed none
    // of those, so an edit leaves every derived claim true: the texts an auditor reads
    // (messages, titles, names, URLs, signature reasons), times, ids, and the history's
    // shape beyond the range (parents, merge commits). How the previous release was
    // found is said in words.
    ("changes/commits.json", "/*/message"),
    ("changes/commits.json", "/*/author"),
    ("changes/commits.json", "/*/committer"),
    ("changes/commits.json", "/*/parents"),
    ("changes/commits.json", "/*/verification/reason"),
    ("changes/pulls.json", "/*/title"),
    ("changes/pulls.json", "/*/url"),
    ("changes/pulls.json", "/*/author"),
    ("changes/pulls.json", "/*/merged_by"),
    ("changes/pulls.json", "/*/merged_at"),
    ("changes/pulls.json", "/*/merge_commit_sha"),
    ("changes/pulls.json", "/*/reviews/*/id"),
    ("changes/pulls.json", "/*/reviews/*/submitted_at"),
    // Who pushed to a pull request: an edit that makes an approver a contributor changes
    // the classification and fails; one about anyone else leaves every claim true.
    ("changes/pulls.json", "/*/contributors"),
    // The releases and tags GitHub listed: names that are not lower versions, a name
    // listed twice, and whether the release listing was whole feed no candidate.
    ("changes/previous.json", "/releases/names"),
    ("changes/previous.json", "/releases/complete"),
    ("changes/previous.json", "/tags/names"),
    // Whether the tag listing was whole decides only when no release below exists (a
    // first release needs the whole listing; a flip there fails).
    ("changes/previous.json", "/tags/complete"),
    ("changes/approvals.json", "/approvals/*/comment"),
    ("changes/approvals.json", "/approvals/*/environments"),
    // Whether an approver is a bot: GitHub's word. Until the approval control refuses
    // bots (issue 18, the change trail's four-eyes rule), it feeds nothing.
    ("changes/approvals.json", "/approvals/*/user/bot"),
    ("manifest.json", "/evidence/changes/previous_found_by"),
    // What the change trail spent of GitHub's rate limits (GraphQL points, and what GitHub
    // said remained): facts of the run, which no file in the bundle records. They feed no
    // count, classification or control (what was not read is `not checked` in the files).
    ("manifest.json", "/evidence/changes/graphql"),
    ("manifest.json", "/evidence/changes/rest_remaining"),
    // The version of the tool that wrote the bundle: said so an auditor knows which
    // release-audit to verify it with; nothing depends on it.
    ("manifest.json", "/tool/version"),
];

/// One thing that is wrong with a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// A file's bytes are not the ones recorded.
    Changed { path: String, recorded: String, actual: String },
    /// A file is present that nothing records.
    Added { path: String },
    /// A recorded file is not there.
    Missing { path: String },
    /// Something in the bundle that is not a regular file (a symbolic link, FIFO,
    /// device or socket). It is not opened or followed.
    NotAFile { path: String },
    /// `SHA256SUMS` or the manifest names a path outside the bundle (absolute, `..`)
    /// or one that is not plain (control characters, backslashes). It is not opened.
    UnsafePath { source: String, path: String },
    /// The manifest's claims disagree with the files or with each other.
    Manifest { detail: String },
    /// A file is larger than `verify` reads for its kind; it is not read.
    TooLarge { path: String, size: u64, limit: u64 },
    /// The totals were counted under a convention this release-audit does not count
    /// by: they cannot be recounted here, so nothing vouches for them.
    Convention { recorded: u32, supported: u32, tool: String },
    /// `summary.md` or `report.html` is not what the manifest renders to.
    Rendered { path: String },
    /// (`--online`) A released tag no longer points at the digest the audit recorded.
    Moved { image: String, reference: String, recorded: String, now: String },
    /// (`--online`) A released reference could not be read now.
    Unreachable { image: String, reference: String, reason: String },
    /// (`--online --storage-url`) A stored object is missing, holds other bytes than
    /// the bundle's, or is not locked as `--retained-until` requires.
    Stored { url: String, detail: String },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Changed { path, recorded, actual } => {
                write!(f, "changed: {path} (recorded sha256 {recorded}, actual {actual})")
            }
            Problem::Added { path } => write!(f, "added: {path} (not recorded in SHA256SUMS or manifest.json)"),
            Problem::Missing { path } => write!(f, "missing: {path}"),
            Problem::NotAFile { path } => {
                write!(f, "not a regular file: {path} (a link, FIFO or device; not followed or opened)")
            }
            Problem::UnsafePath { source, path } => {
                write!(
                    f,
                    "unsafe path: {source} names `{}`, which is not a plain relative path inside the bundle (not opened)",
                    path.escape_debug()
                )
            }
            Problem::Manifest { detail } => write!(f, "manifest: {detail}"),
            Problem::TooLarge { path, size, limit } => {
                write!(f, "too large: {path} is {size} bytes, more than verify reads for it ({limit}); not read")
            }
            Problem::Convention { recorded, supported, tool } => write!(
                f,
                "counting convention: the test totals were counted under convention {recorded}, this release-audit counts under {supported} and cannot recount them; verify this bundle with {}",
                limits::verifier_for(*recorded, tool)
            ),
            Problem::Rendered { path } => write!(
                f,
                "rendered: {path} is not what this manifest renders to (its text says something the manifest does not)"
            ),
            Problem::Moved { image, reference, recorded, now } => {
                write!(f, "moved: image `{image}`: {reference} now resolves to {now}, the audit recorded {recorded}")
            }
            Problem::Unreachable { image, reference, reason } => {
                write!(f, "unreachable: image `{image}`: {reference}: {reason}")
            }
            Problem::Stored { url, detail } => write!(f, "stored: {url}: {detail}"),
        }
    }
}

/// What a verification found.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub bundle: String,
    pub files_checked: usize,
    /// How many problems were found (`--json` lists at most [`MAX_JSON_PROBLEMS`]).
    pub problem_count: usize,
    pub release: Option<String>,
    pub verdict: Option<String>,
    pub problems: Vec<Problem>,
    /// What this verify could not check, and why (not problems: the bundle may be intact).
    /// No check adds one today (a claim that cannot be re-derived is a problem, or is
    /// listed in [`INFORMATIONAL`]); kept so `--json` keeps its shape.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// (`--online`) Released references that still resolve to the recorded digest.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmoved: Vec<String>,
    /// (`--sigstore-bundle`, or a `.sigstore.json` beside the zip) The zip's signature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigstore: Option<sigstore::SigstoreCheck>,
    /// (`--online --storage-url`) Stored objects whose bytes are the bundle's, with their locks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stored: Vec<String>,
    #[serde(skip)]
    pub manifest: Option<Manifest>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.sigstore.as_ref().is_none_or(|s| s.verified)
    }
}

/// Problems (and notes) `verify --json` lists at most; `problem_count` counts all.
pub const MAX_JSON_PROBLEMS: usize = 1000;

/// Verifies a bundle zip or an unzipped bundle directory.
pub fn verify(path: &Path) -> Result<Verification> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e, "give the path of a bundle zip or its unzipped directory"))?;
    if meta.is_dir() {
        return verify_dir(path, path.display().to_string());
    }
    let scratch =
        tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e, "free space in the temp directory"))?;
    verify_zip_in(path, scratch.path()).map(|(verification, _)| verification)
}

/// Verifies a bundle zip by extracting it under `scratch` (an empty directory the
/// caller owns); returns the verification and the extracted bundle's root, whose files
/// the caller may read afterwards (e.g. `report.html` for the archive's index).
pub fn verify_zip_in(path: &Path, scratch: &Path) -> Result<(Verification, PathBuf)> {
    let what = format!("bundle {}", path.display());
    extract_zip(path, scratch, &Limits::default(), &what)?;
    let roots: Vec<PathBuf> = std::fs::read_dir(scratch)
        .map_err(|e| Error::io(scratch, e, "free space in the temp directory"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    let root = match roots.as_slice() {
        [only] if only.is_dir() => only.clone(),
        _ => {
            return Err(Error::evidence(
                &what,
                "is not an audit bundle: it must hold exactly one top-level directory",
                "give the zip release-audit wrote",
            ));
        }
    };
    let verification = verify_dir(&root, path.display().to_string())?;
    Ok((verification, root))
}

/// Verifies an unzipped bundle directory; `label` names it in the result.
pub fn verify_dir(root: &Path, label: String) -> Result<Verification> {
    let mut problems = Vec::new();
    let found = Found::walk(root, &mut problems)?;
    let summed = files::check_sums(&found, &mut problems);
    let manifest = files::read_manifest(&found, &summed, &mut problems);
    if let Some(m) = &manifest {
        check_claims(&found, m, &mut problems);
    }
    dedup(&mut problems);
    Ok(Verification {
        bundle: label,
        files_checked: found.len(),
        problem_count: problems.len(),
        release: manifest.as_ref().map(|m| m.release.version.clone()),
        verdict: manifest.as_ref().map(|m| m.verdict.result.as_str().to_string()),
        problems,
        notes: Vec::new(),
        unmoved: Vec::new(),
        sigstore: None,
        stored: Vec::new(),
        manifest,
    })
}

/// Every claim of a parsed manifest, held against the files.
fn check_claims(found: &Found, m: &Manifest, problems: &mut Vec<Problem>) {
    files::check_manifest(found, m, problems);
    files::check_layout(found, m, problems);
    source::check(m, problems);
    tests::check(found, m, problems);
    let details = images::check_images(found, m, problems);
    changes::check(found, m, problems);
    let detailed = rendered::with_details(m, details);
    rendered::check(found, &detailed, problems);
    statements::check(found, &detailed, problems);
    let recomputed = Verdict::from_reasons(m.evidence.failures());
    if recomputed.result != m.verdict.result {
        problems.push(Problem::Manifest {
            detail: format!(
                "verdict `{}` does not follow from the evidence, which gives `{}`",
                m.verdict.result.as_str(),
                recomputed.result.as_str()
            ),
        });
    } else if recomputed.reasons != m.verdict.reasons {
        problems.push(Problem::Manifest {
            detail: "the verdict's reasons are not the ones the evidence gives".to_string(),
        });
    }
}

fn dedup(problems: &mut Vec<Problem>) {
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| seen.insert(p.to_string()));
}
