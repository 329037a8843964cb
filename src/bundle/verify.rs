//! `release-audit verify`: the auditor's check of a bundle, trusting nothing in it.
//!
//! Every file is hashed and compared with `SHA256SUMS` *and* with the manifest's file
//! list; files added or missing are named; `manifest.yaml` must say what
//! `manifest.json` says; test totals are recomputed by re-parsing the report files, the
//! category statuses and the verdict are recomputed from those totals, and stored
//! image manifests must hash to the digests they are filed under. An edited manifest
//! whose `SHA256SUMS` was fixed up still fails: its claims disagree with the files.
//!
//! A bundle is outside data too: `verify` never follows a symbolic link, never opens
//! anything but a regular file below the bundle root (a FIFO or device would block or
//! never end), and never opens a path named by `SHA256SUMS` or the manifest unless it
//! is a plain relative path of a regular file it found itself. Each such thing is a
//! named problem. `manifest.yaml` is held against `manifest.json` exactly: the YAML the
//! writer would render from the JSON must be the YAML in the bundle (or, for a bundle
//! written by another version, parse to the same manifest); numbers are read exactly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::dir::{hash_file, safe_relative_path};
use super::manifest::{Manifest, SCHEMA_VERSION, Verdict};
use super::writer::list_entries;
use crate::error::{Error, Result};
use crate::evidence::test_reports::extract::{Limits, extract_zip};
use crate::evidence::test_reports::parse::{FileOutcome, parse_file};
use crate::evidence::test_reports::{COUNTING_CONVENTION, FileStatus, judge};

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
    /// (`--online`) A released tag no longer points at the digest the audit recorded.
    Moved { image: String, reference: String, recorded: String, now: String },
    /// (`--online`) A released reference could not be read now.
    Unreachable { image: String, reference: String, reason: String },
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
            Problem::Moved { image, reference, recorded, now } => {
                write!(f, "moved: image `{image}`: {reference} now resolves to {now}, the audit recorded {recorded}")
            }
            Problem::Unreachable { image, reference, reason } => {
                write!(f, "unreachable: image `{image}`: {reference}: {reason}")
            }
        }
    }
}

/// What a verification found.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub bundle: String,
    pub files_checked: usize,
    pub release: Option<String>,
    pub verdict: Option<String>,
    pub problems: Vec<Problem>,
    /// What this verify could not check, and why (not problems: the bundle may be intact).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// (`--online`) Released references that still resolve to the recorded digest.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmoved: Vec<String>,
    #[serde(skip)]
    pub manifest: Option<Manifest>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Verifies a bundle zip or an unzipped bundle directory.
pub fn verify(path: &Path) -> Result<Verification> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e, "give the path of a bundle zip or its unzipped directory"))?;
    if meta.is_dir() {
        return verify_dir(path, path.display().to_string());
    }
    let scratch =
        tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e, "free space in the temp directory"))?;
    let what = format!("bundle {}", path.display());
    extract_zip(path, scratch.path(), &Limits::default(), &what)?;
    let roots: Vec<PathBuf> = std::fs::read_dir(scratch.path())
        .map_err(|e| Error::io(scratch.path(), e, "free space in the temp directory"))?
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
    verify_dir(&root, path.display().to_string())
}

/// Reads a bundle file found by the walk (a regular file below the root), or `None`.
fn read_found(root: &Path, rel: &str, actual: &BTreeMap<String, (u64, String)>) -> Option<Vec<u8>> {
    actual.contains_key(rel).then(|| std::fs::read(root.join(rel)).ok()).flatten()
}

fn verify_dir(root: &Path, label: String) -> Result<Verification> {
    let mut problems = Vec::new();
    let mut actual: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut not_files: Vec<String> = Vec::new();
    for (rel, regular) in list_entries(root)? {
        if regular {
            actual.insert(rel.clone(), hash_file(&root.join(&rel))?);
        } else {
            problems.push(Problem::NotAFile { path: rel.clone() });
            not_files.push(rel);
        }
    }

    // SHA256SUMS: every file but itself.
    let sums_text = read_found(root, "SHA256SUMS", &actual).map(|b| String::from_utf8_lossy(&b).into_owned());
    let mut summed: BTreeMap<String, String> = BTreeMap::new();
    match &sums_text {
        None => problems.push(Problem::Missing { path: "SHA256SUMS".into() }),
        Some(text) => {
            for line in text.lines().filter(|l| !l.is_empty()) {
                match line.split_once("  ").or_else(|| line.split_once(" *")) {
                    Some((_, name)) if safe_relative_path(name).as_deref() != Some(name) => {
                        problems.push(Problem::UnsafePath { source: "SHA256SUMS".into(), path: name.to_string() });
                    }
                    Some((hash, name)) => {
                        summed.insert(name.to_string(), hash.to_string());
                    }
                    None => {
                        problems.push(Problem::Manifest { detail: format!("SHA256SUMS has a malformed line: {line}") })
                    }
                }
            }
        }
    }
    // SHA256SUMS is the root of trust (nothing hashes it): it must be exactly what the
    // writer writes, so that no byte of it can change unnoticed.
    if let Some(text) = &sums_text {
        let canonical: String = summed.iter().map(|(p, h)| format!("{h}  {p}\n")).collect();
        if &canonical != text
            && problems.iter().all(|p| !matches!(p, Problem::UnsafePath { .. } | Problem::Manifest { .. }))
        {
            problems.push(Problem::Manifest { detail: "SHA256SUMS is not in the form release-audit writes (one `<sha256>  <path>` line per file, sorted by path)".into() });
        }
    }
    for (name, recorded) in &summed {
        match actual.get(name) {
            None if not_files.contains(name) => {} // named above
            None => problems.push(Problem::Missing { path: name.clone() }),
            Some((_, hash)) if hash != recorded => {
                problems.push(Problem::Changed { path: name.clone(), recorded: recorded.clone(), actual: hash.clone() })
            }
            _ => {}
        }
    }
    for name in actual.keys() {
        if name != "SHA256SUMS" && sums_text.is_some() && !summed.contains_key(name) {
            problems.push(Problem::Added { path: name.clone() });
        }
    }

    // manifest.json: parse, then hold its claims against the files.
    let manifest: Option<Manifest> = match read_found(root, "manifest.json", &actual) {
        None => {
            if !summed.contains_key("manifest.json") && !not_files.iter().any(|p| p == "manifest.json") {
                problems.push(Problem::Missing { path: "manifest.json".into() });
            }
            None
        }
        Some(bytes) => match serde_json::from_slice::<Manifest>(&bytes) {
            Ok(m) => Some(m),
            Err(e) => {
                problems
                    .push(Problem::Manifest { detail: format!("manifest.json is not a release-audit manifest: {e}") });
                None
            }
        },
    };
    let mut notes = Vec::new();
    if let Some(m) = &manifest {
        check_manifest(root, m, &actual, &not_files, &mut problems, &mut notes);
    }
    dedup(&mut problems);
    Ok(Verification {
        bundle: label,
        files_checked: actual.len(),
        release: manifest.as_ref().map(|m| m.release.version.clone()),
        verdict: manifest.as_ref().map(|m| m.verdict.result.as_str().to_string()),
        problems,
        notes,
        unmoved: Vec::new(),
        manifest,
    })
}

fn check_manifest(
    root: &Path,
    m: &Manifest,
    actual: &BTreeMap<String, (u64, String)>,
    not_files: &[String],
    problems: &mut Vec<Problem>,
    notes: &mut Vec<String>,
) {
    if m.schema_version != SCHEMA_VERSION {
        problems.push(Problem::Manifest {
            detail: format!(
                "schema_version {} is not {SCHEMA_VERSION}; use the release-audit version that wrote it",
                m.schema_version
            ),
        });
    }
    match read_found(root, "manifest.yaml", actual).map(String::from_utf8) {
        None if not_files.iter().any(|p| p == "manifest.yaml") => {} // named as not a regular file
        None => problems.push(Problem::Missing { path: "manifest.yaml".into() }),
        Some(Err(_)) => problems.push(Problem::Manifest { detail: "manifest.yaml is not UTF-8 text".into() }),
        Some(Ok(text)) => {
            // Exact: the YAML the writer renders from this manifest. A bundle written by
            // another serde_yaml version may format differently; then it must parse to
            // the very same manifest.
            let same = serde_yaml::to_string(m).is_ok_and(|rendered| rendered == text)
                || match serde_yaml::from_str::<Manifest>(&text) {
                    Ok(yaml) => &yaml == m,
                    Err(e) => {
                        problems.push(Problem::Manifest { detail: format!("manifest.yaml does not parse: {e}") });
                        true
                    }
                };
            if !same {
                problems
                    .push(Problem::Manifest { detail: "manifest.yaml says something else than manifest.json".into() });
            }
        }
    }
    let listed: BTreeMap<&str, &super::manifest::FileEntry> = m.files.iter().map(|f| (f.path.as_str(), f)).collect();
    for path in listed.keys().filter(|p| safe_relative_path(p).as_deref() != Some(**p)) {
        problems.push(Problem::UnsafePath { source: "manifest.json files".into(), path: path.to_string() });
    }
    for (path, entry) in listed.iter().filter(|(p, _)| safe_relative_path(p).as_deref() == Some(**p)) {
        match actual.get(*path) {
            None if not_files.iter().any(|p| p == path) => {} // named as not a regular file
            None => problems.push(Problem::Missing { path: path.to_string() }),
            Some((size, hash)) if hash != &entry.sha256 || *size != entry.size => problems.push(Problem::Changed {
                path: path.to_string(),
                recorded: entry.sha256.clone(),
                actual: hash.clone(),
            }),
            _ => {}
        }
    }
    for path in actual.keys() {
        if !["manifest.json", "manifest.yaml", "SHA256SUMS"].contains(&path.as_str())
            && !listed.contains_key(path.as_str())
        {
            problems.push(Problem::Added { path: path.clone() });
        }
    }

    // Test evidence: recount from the files, rejudge, and the verdict must follow.
    if let Some(tests) = &m.evidence.tests {
        // Totals counted under other conventions cannot be recounted by this parser;
        // the files' hashes and the category and verdict arithmetic still are checked.
        let recount = tests.counting == COUNTING_CONVENTION;
        if !recount {
            let who = if tests.counting < COUNTING_CONVENTION { "an earlier" } else { "a later" };
            notes.push(format!(
                "the test totals were counted under counting convention {} ({who} release-audit); this one counts under {COUNTING_CONVENTION}, so the reports were not recounted (their hashes were checked); run the verify of the release-audit version in manifest.json `tool` to recount",
                tests.counting
            ));
        }
        for c in &tests.categories {
            for file in c.artifacts.iter().flat_map(|a| &a.files) {
                // Only a regular file the walk found below the root is opened; anything
                // else (absolute, `..`, a link, a FIFO, missing) is named elsewhere.
                if safe_relative_path(&file.path).as_deref() != Some(file.path.as_str()) {
                    problems.push(Problem::UnsafePath {
                        source: format!("manifest.json ({} tests)", c.category.as_str()),
                        path: file.path.clone(),
                    });
                    continue;
                }
                if !recount || !actual.contains_key(&file.path) {
                    continue; // reported as missing above, or not recountable (noted)
                }
                let path = root.join(&file.path);
                let (status, totals) = match parse_file(&path) {
                    FileOutcome::Parsed(r) => (FileStatus::Parsed, Some(r.totals)),
                    FileOutcome::Unparseable { .. } => (FileStatus::Unparseable, None),
                    FileOutcome::NotAReport => (FileStatus::NotAReport, None),
                };
                if status != file.status || totals != file.totals {
                    problems.push(Problem::Manifest {
                        detail: format!(
                            "{}: recorded {:?} {:?}, the file itself gives {:?} {:?}",
                            file.path, file.status, file.totals, status, totals
                        ),
                    });
                }
            }
            let (status, totals, _, unparseable) = judge(&c.artifacts, tests.fail_on_flaky);
            if status != c.status || totals != c.totals || unparseable != c.unparseable_files {
                problems.push(Problem::Manifest {
                    detail: format!(
                        "{} tests: recorded {:?} with {:?}, the recorded files give {:?} with {:?}",
                        c.category.as_str(),
                        c.status,
                        c.totals,
                        status,
                        totals
                    ),
                });
            }
        }
    }
    // Image evidence: every stored manifest hashes to the digest it is filed under, and
    // every digest the manifest records has its bytes in the bundle.
    if let Some(images) = &m.evidence.images {
        for path in actual.keys().filter(|p| p.starts_with("images/manifests/")) {
            let (_, hash) = &actual[path];
            let expected = path.trim_start_matches("images/manifests/sha256-").trim_end_matches(".json");
            if expected != hash {
                problems.push(Problem::Manifest {
                    detail: format!("{path}: the bytes hash to sha256:{hash}, not to the digest in its name"),
                });
            }
        }
        for pair in &images.pairs {
            for side in [&pair.tested, &pair.released] {
                for digest in side.digest.iter().chain(side.platforms.values()) {
                    let text = digest.to_string();
                    let file = format!("images/manifests/{}.json", text.replace(':', "-"));
                    if !actual.contains_key(&file) {
                        problems.push(Problem::Manifest {
                            detail: format!(
                                "image `{}`: {} is recorded but its manifest bytes ({file}) are not in the bundle",
                                pair.name, text
                            ),
                        });
                    }
                }
            }
        }
    }
    check_changes(root, m, actual, problems);
    let recomputed = Verdict::from_reasons(m.evidence.failures());
    if recomputed.result != m.verdict.result {
        problems.push(Problem::Manifest {
            detail: format!(
                "verdict `{}` does not follow from the evidence, which gives `{}`",
                m.verdict.result.as_str(),
                recomputed.result.as_str()
            ),
        });
    }
}

/// The change trail: the counts (and every classification) recomputed from
/// `changes/commits.json` and `changes/pulls.json`, and the controls from the counts.
fn check_changes(root: &Path, m: &Manifest, actual: &BTreeMap<String, (u64, String)>, problems: &mut Vec<Problem>) {
    use crate::evidence::changes::{Approvals, Commit, PullRecord, approval_control, recount, review_control};
    let Some(c) = &m.evidence.changes else { return };
    // Only a regular file the walk found below the root is opened (never a link); one
    // that is not there is a problem even when a forger took it out of every list.
    let read_json = |rel: &str, problems: &mut Vec<Problem>| -> Option<Vec<u8>> {
        let bytes = read_found(root, rel, actual);
        if bytes.is_none()
            && !problems
                .iter()
                .any(|p| matches!(p, Problem::Missing { path } | Problem::NotAFile { path } if path == rel))
        {
            problems.push(Problem::Manifest {
                detail: format!("{rel} is not in the bundle, but the manifest has a `changes` section"),
            });
        }
        bytes
    };
    fn read<T: serde::de::DeserializeOwned>(
        bytes: Option<Vec<u8>>,
        rel: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<T> {
        let bytes = bytes?;
        match serde_json::from_slice(&bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(Problem::Manifest { detail: format!("{rel} does not parse: {e}") });
                None
            }
        }
    }
    let (Some(commits), Some(pulls)) = (
        read::<Vec<Commit>>(read_json("changes/commits.json", problems), "changes/commits.json", problems),
        read::<Vec<PullRecord>>(read_json("changes/pulls.json", problems), "changes/pulls.json", problems),
    ) else {
        problems.push(Problem::Manifest {
            detail:
                "the manifest has a `changes` section, but changes/commits.json and changes/pulls.json cannot be read"
                    .into(),
        });
        return;
    };
    let (counts, disagreements) = recount(&commits, &pulls);
    if counts != c.counts {
        problems.push(Problem::Manifest {
            detail: format!("changes: the manifest records {:?}, changes/*.json give {:?}", c.counts, counts),
        });
    }
    for d in disagreements.into_iter().take(20) {
        problems.push(Problem::Manifest { detail: format!("changes: {d}") });
    }
    let control =
        review_control(c.reviewed_changes.required, c.is_first_release(), c.range.as_ref(), &counts, &c.unreviewed);
    if control.held != c.reviewed_changes.held {
        problems.push(Problem::Manifest {
            detail: format!(
                "changes: the review control is recorded as held={}, the commits give held={}",
                c.reviewed_changes.held, control.held
            ),
        });
    }
    if let Some(approvals) =
        read::<Approvals>(read_json("changes/approvals.json", problems), "changes/approvals.json", problems)
    {
        let control = approval_control(c.release_approval.required, &approvals);
        if control.held != c.release_approval.held {
            problems.push(Problem::Manifest {
                detail: format!(
                    "changes: the release approval is recorded as held={}, changes/approvals.json gives held={}",
                    c.release_approval.held, control.held
                ),
            });
        }
    }
}

fn dedup(problems: &mut Vec<Problem>) {
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| seen.insert(p.to_string()));
}

/// `--online`: re-resolves every released image reference and says whether its tag
/// still points at the digest the audit recorded.
pub async fn check_released_tags(v: &mut Verification, access: &crate::evidence::images::RegistryAccess) {
    use crate::evidence::images::{ImageRef, RegistryClient, registry::FetchError};
    let Some(images) = v.manifest.as_ref().and_then(|m| m.evidence.images.clone()) else { return };
    let client = RegistryClient::new(access);
    for pair in &images.pairs {
        let reference = pair.released.reference.clone();
        let Some(recorded) = pair.released.digest.as_ref().map(|d| d.to_string()) else { continue };
        let image = match ImageRef::parse(&reference) {
            Ok(i) => i,
            Err(reason) => {
                v.problems.push(Problem::Unreachable { image: pair.name.clone(), reference, reason });
                continue;
            }
        };
        // A reference with a tag and a digest is checked by its tag: that is what moves.
        let image = if image.tag.is_some() { ImageRef { digest: None, ..image } } else { image };
        match client.manifest(&image).await {
            Ok(now) if now.digest.to_string() == recorded => v.unmoved.push(format!("{reference} @ {recorded}")),
            Ok(now) => v.problems.push(Problem::Moved {
                image: pair.name.clone(),
                reference,
                recorded,
                now: now.digest.to_string(),
            }),
            Err(FetchError::NotFound(why)) => v.problems.push(Problem::Unreachable {
                image: pair.name.clone(),
                reference,
                reason: format!("not found: {why}"),
            }),
            Err(FetchError::Failed(e)) => {
                v.problems.push(Problem::Unreachable { image: pair.name.clone(), reference, reason: e.to_string() })
            }
        }
    }
}
