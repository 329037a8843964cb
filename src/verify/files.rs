//! The files themselves: what is in the bundle (a walk that never follows a link),
//! `SHA256SUMS`, the manifest's file list, and `manifest.yaml` against `manifest.json`.
//!
//! Only a regular file the walk found below the root is ever opened, and only when its
//! size is within the limit for its kind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Problem;
use super::limits::{MAX_MANIFEST_BYTES, MAX_SUMS_BYTES};
use crate::bundle::manifest::{FileEntry, Manifest, SCHEMA_VERSION};
use crate::bundle::{hash_file, safe_relative_path};
use crate::error::Result;

pub use crate::bundle::exact::unread_value;

/// A regular file the walk found: its size and sha256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundFile {
    pub size: u64,
    pub sha256: String,
}

/// What the walk found below a bundle's root.
#[derive(Debug)]
pub struct Found {
    root: PathBuf,
    files: BTreeMap<String, FoundFile>,
    not_files: Vec<String>,
}

impl Found {
    /// Walks and hashes every regular file; anything else is a [`Problem::NotAFile`].
    pub fn walk(root: &Path, problems: &mut Vec<Problem>) -> Result<Found> {
        let mut found = Found { root: root.to_path_buf(), files: BTreeMap::new(), not_files: Vec::new() };
        for (rel, regular) in crate::bundle::list_entries(root)? {
            if regular {
                let (size, sha256) = hash_file(&root.join(&rel))?;
                found.files.insert(rel, FoundFile { size, sha256 });
            } else {
                problems.push(Problem::NotAFile { path: rel.clone() });
                found.not_files.push(rel);
            }
        }
        Ok(found)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn get(&self, rel: &str) -> Option<&FoundFile> {
        self.files.get(rel)
    }

    pub fn contains(&self, rel: &str) -> bool {
        self.files.contains_key(rel)
    }

    /// Whether `rel` is something that is not a regular file (named already).
    pub fn is_not_file(&self, rel: &str) -> bool {
        self.not_files.iter().any(|p| p == rel)
    }

    /// Every regular file's path, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &String> {
        self.files.keys()
    }

    /// Where a found file is on disk (only for files [`Found::contains`]).
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Reads a found file of at most `limit` bytes; a larger one is a problem and is
    /// not opened. `None` when it was not found (the caller says what that means).
    pub fn read(&self, rel: &str, limit: u64, problems: &mut Vec<Problem>) -> Option<Vec<u8>> {
        let file = self.files.get(rel)?;
        if file.size > limit {
            problems.push(Problem::TooLarge { path: rel.to_string(), size: file.size, limit });
            return None;
        }
        match std::fs::read(self.root.join(rel)) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                problems.push(Problem::Manifest { detail: format!("{rel} cannot be read: {e}") });
                None
            }
        }
    }
}

/// `SHA256SUMS`: every file but itself, exactly in the form the writer writes. `None`
/// when there is none (a problem).
pub fn check_sums(found: &Found, problems: &mut Vec<Problem>) -> Option<BTreeMap<String, String>> {
    let Some(bytes) = found.read("SHA256SUMS", MAX_SUMS_BYTES, problems) else {
        if !found.contains("SHA256SUMS") {
            problems.push(Problem::Missing { path: "SHA256SUMS".into() });
        }
        return None;
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let mut summed: BTreeMap<String, String> = BTreeMap::new();
    let mut malformed = false;
    for line in text.lines().filter(|l| !l.is_empty()) {
        match line.split_once("  ").or_else(|| line.split_once(" *")) {
            Some((_, name)) if safe_relative_path(name).as_deref() != Some(name) => {
                malformed = true;
                problems.push(Problem::UnsafePath { source: "SHA256SUMS".into(), path: name.to_string() });
            }
            Some((hash, name)) => {
                summed.insert(name.to_string(), hash.to_string());
            }
            None => {
                malformed = true;
                problems.push(Problem::Manifest { detail: format!("SHA256SUMS has a malformed line: {line}") })
            }
        }
    }
    // SHA256SUMS is the root of trust (nothing hashes it): it must be exactly what the
    // writer writes, so that no byte of it can change unnoticed.
    let canonical: String = summed.iter().map(|(p, h)| format!("{h}  {p}\n")).collect();
    if canonical != text && !malformed {
        problems.push(Problem::Manifest { detail: "SHA256SUMS is not in the form release-audit writes (one `<sha256>  <path>` line per file, sorted by path)".into() });
    }
    for (name, recorded) in &summed {
        match found.get(name) {
            None if found.is_not_file(name) => {} // named by the walk
            None => problems.push(Problem::Missing { path: name.clone() }),
            Some(f) if &f.sha256 != recorded => problems.push(Problem::Changed {
                path: name.clone(),
                recorded: recorded.clone(),
                actual: f.sha256.clone(),
            }),
            _ => {}
        }
    }
    for name in found.paths().filter(|n| *n != "SHA256SUMS" && !summed.contains_key(*n)) {
        problems.push(Problem::Added { path: name.clone() });
    }
    Some(summed)
}

/// `manifest.json`, parsed; `None` (and a problem) when it is missing, too large or not
/// a release-audit manifest.
pub fn read_manifest(
    found: &Found,
    summed: &Option<BTreeMap<String, String>>,
    problems: &mut Vec<Problem>,
) -> Option<Manifest> {
    let Some(bytes) = found.read("manifest.json", MAX_MANIFEST_BYTES, problems) else {
        let named = summed.as_ref().is_some_and(|s| s.contains_key("manifest.json"));
        if !found.contains("manifest.json") && !named && !found.is_not_file("manifest.json") {
            problems.push(Problem::Missing { path: "manifest.json".into() });
        }
        return None;
    };
    match serde_json::from_slice::<Manifest>(&bytes) {
        Ok(m) => {
            if let Some(extra) = unread_value(&bytes, &m) {
                problems.push(Problem::Manifest {
                    detail: format!("manifest.json says something a release-audit manifest does not hold (nothing checks it): {extra}"),
                });
            }
            Some(m)
        }
        Err(e) => {
            problems.push(Problem::Manifest { detail: format!("manifest.json is not a release-audit manifest: {e}") });
            None
        }
    }
}

/// The manifest's schema, its YAML twin and its file list against the files.
pub fn check_manifest(found: &Found, m: &Manifest, problems: &mut Vec<Problem>) {
    if m.schema_version != SCHEMA_VERSION {
        problems.push(Problem::Manifest {
            detail: format!(
                "schema_version {} is not {SCHEMA_VERSION}; use the release-audit version that wrote it",
                m.schema_version
            ),
        });
    }
    if m.tool.name != crate::bundle::manifest::TOOL_NAME {
        problems.push(Problem::Manifest { detail: format!("the bundle says it was written by `{}`", m.tool.name) });
    }
    let root_name = found.path("").file_name().map(|n| n.to_string_lossy().into_owned());
    if root_name.as_deref() != Some(m.release.bundle_name.as_str()) {
        problems.push(Problem::Manifest {
            detail: format!(
                "the bundle is named `{}`, but its folder is `{}` (verify a bundle's directory under its own name)",
                m.release.bundle_name,
                root_name.unwrap_or_default()
            ),
        });
    }
    check_yaml(found, m, problems);
    check_listing(found, &m.files, problems);
}

/// `manifest.yaml` is held against `manifest.json` exactly: the YAML the writer would
/// render from the JSON must be the YAML in the bundle (or, for a bundle written by
/// another serde_norway version, parse to the same manifest).
fn check_yaml(found: &Found, m: &Manifest, problems: &mut Vec<Problem>) {
    let Some(bytes) = found.read("manifest.yaml", MAX_MANIFEST_BYTES, problems) else {
        if !found.contains("manifest.yaml") && !found.is_not_file("manifest.yaml") {
            problems.push(Problem::Missing { path: "manifest.yaml".into() });
        }
        return;
    };
    let Ok(text) = String::from_utf8(bytes) else {
        problems.push(Problem::Manifest { detail: "manifest.yaml is not UTF-8 text".into() });
        return;
    };
    let same = serde_norway::to_string(m).is_ok_and(|rendered| rendered == text)
        || match serde_norway::from_str::<Manifest>(&text) {
            Ok(yaml) => &yaml == m,
            Err(e) => {
                problems.push(Problem::Manifest { detail: format!("manifest.yaml does not parse: {e}") });
                true
            }
        };
    if !same {
        problems.push(Problem::Manifest { detail: "manifest.yaml says something else than manifest.json".into() });
    }
}

/// The manifest's file list: every listed file there with its size and hash, every
/// file there listed (but the three that cover the list), in the writer's order.
fn check_listing(found: &Found, files: &[FileEntry], problems: &mut Vec<Problem>) {
    let listed: BTreeMap<&str, &FileEntry> = files.iter().map(|f| (f.path.as_str(), f)).collect();
    if listed.len() != files.len() || files.windows(2).any(|w| w[0].path >= w[1].path) {
        problems.push(Problem::Manifest { detail: "the manifest's file list is not sorted by path, once each".into() });
    }
    for path in listed.keys().filter(|p| safe_relative_path(p).as_deref() != Some(**p)) {
        problems.push(Problem::UnsafePath { source: "manifest.json files".into(), path: path.to_string() });
    }
    for (path, entry) in listed.iter().filter(|(p, _)| safe_relative_path(p).as_deref() == Some(**p)) {
        match found.get(path) {
            None if found.is_not_file(path) => {} // named by the walk
            None => problems.push(Problem::Missing { path: path.to_string() }),
            Some(f) if f.sha256 != entry.sha256 || f.size != entry.size => problems.push(Problem::Changed {
                path: path.to_string(),
                recorded: entry.sha256.clone(),
                actual: f.sha256.clone(),
            }),
            _ => {}
        }
    }
    for path in found.paths() {
        if !["manifest.json", "manifest.yaml", "SHA256SUMS"].contains(&path.as_str())
            && !listed.contains_key(path.as_str())
        {
            problems.push(Problem::Added { path: path.clone() });
        }
    }
}

/// The bundle's layout: every file is one the writer writes, where it writes it, so no
/// file can add a claim `verify` does not check (a `NOTE.md` saying "approved by
/// security", found by a red-team review). The run evidence under `run/<id>/` must be a
/// file a source run of the manifest names; report files, image files, statements and
/// change files are checked by their own rooms.
pub fn check_layout(found: &Found, m: &Manifest, problems: &mut Vec<Problem>) {
    let run_files: std::collections::BTreeSet<&str> = m
        .evidence
        .tests
        .iter()
        .flat_map(|t| &t.sources)
        .flat_map(|s| {
            s.evidence_files.iter().map(String::as_str).chain(s.job_logs.iter().filter_map(|j| j.path.as_deref()))
        })
        .collect();
    // Files outside the manifest's list are named as added already; the layout is the
    // listed files' (and the three that cover the list).
    let listed: std::collections::BTreeSet<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
    let covering = ["manifest.json", "manifest.yaml", "SHA256SUMS"];
    for path in found.paths().filter(|p| listed.contains(p.as_str()) || covering.contains(&p.as_str())) {
        let parts: Vec<&str> = path.split('/').collect();
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let known = match parts.as_slice() {
            [root] => ["manifest.json", "manifest.yaml", "SHA256SUMS", "summary.md", "report.html"].contains(root),
            ["reports", ..] => true,
            ["images", name] | ["images", "manifests", name] => name.ends_with(".json"),
            ["images", "build", log] => {
                log.strip_prefix("job-").and_then(|l| l.strip_suffix(".log")).is_some_and(digits)
            }
            ["statements", name] => name.ends_with(".intoto.json"),
            ["changes", name] => ["commits.json", "pulls.json", "approvals.json", "previous.json"].contains(name),
            ["run", id, name] => digits(id) && ["run.json", "jobs.json", "logs.zip"].contains(name),
            ["run", id, "jobs", log] => digits(id) && log.strip_suffix(".log").is_some_and(digits),
            _ => false,
        };
        if !known {
            problems.push(Problem::Manifest {
                detail: format!(
                    "{path} is not a file release-audit writes into a bundle (nothing here checks what it says)"
                ),
            });
        } else if parts[0] == "run" && !run_files.contains(path.as_str()) {
            problems.push(Problem::Manifest {
                detail: format!("{path} is run evidence of no source run the manifest names"),
            });
        }
    }
}
