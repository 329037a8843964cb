//! Image evidence: every pair re-judged from what the bundle stores — each pair's
//! digest records (`images/<name>.json`), the exact manifest bytes they were computed
//! from (`images/manifests/`), and the test jobs' image records among the reports.
//!
//! [`check_images`] is the one entry point: the digests in `manifest.json` must be the
//! records' digests, the records must agree with the manifest bytes (each hashes to its
//! digest; an index lists exactly the recorded children), the verdict must be what
//! `evidence::images::verdict::judge` gives for the records, the recorded checks what
//! `record::check_records` gives for the image records, and `passed` must follow.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::limits::{MAX_IMAGE_FILE_BYTES, MAX_IMAGE_MANIFEST_BYTES};
use super::{Found, Problem};
use crate::bundle::check_path_segment;
use crate::bundle::manifest::Manifest;
use crate::bundle::records::{MAX_IMAGE_RECORD_BYTES, is_image_record};
use crate::evidence::images::rejudge::rejudge_all;
use crate::evidence::images::{DigestRecord, Explanation, PairDetail, PairEvidence};

/// Re-judges every image pair with the image stage's own pure `rejudge_all` (stored
/// manifest bytes hashed and read again, image records checked again, the verdict, its
/// proof and `passed` decided again); returns each pair's stored detail (records and
/// the explanation, default when unreadable), in the manifest's order, for re-rendering.
pub fn check_images(found: &Found, m: &Manifest, problems: &mut Vec<Problem>) -> Vec<PairDetail> {
    let Some(images) = &m.evidence.images else { return Vec::new() };
    let paths: Vec<&str> = found.paths().map(String::as_str).collect();
    for path in &paths {
        let (size, limit) = (found.get(path).map_or(0, |f| f.size), limit_for(path));
        if size > limit {
            problems.push(Problem::TooLarge { path: path.to_string(), size, limit });
        }
    }
    let read = |path: &str| -> Option<Vec<u8>> {
        let file = found.get(path)?;
        if file.size > limit_for(path) {
            return None;
        }
        std::fs::read(found.path(path)).ok()
    };
    check_build(m, &paths, &read, problems);
    let runs = m.evidence.tests.as_ref().map(crate::bundle::records::record_runs).unwrap_or_default();
    for d in rejudge_all(images, &paths, &runs, read) {
        problems.push(images_problem(d.to_string()));
    }
    let mut referenced: BTreeSet<String> = BTreeSet::new();
    let details: Vec<PairDetail> = images
        .pairs
        .iter()
        .map(|pair| {
            let detail = read_detail(found, pair, problems).unwrap_or_default();
            for r in [&detail.tested, &detail.released].into_iter().flatten() {
                referenced.insert(r.digest.file_stem());
                referenced.extend(r.manifests.iter().filter(|c| c.fetched).map(|c| c.digest.file_stem()));
            }
            detail
        })
        .collect();
    check_stored_manifests(found, &referenced, problems);
    details
}

/// How much of a file the image check reads, by kind.
fn limit_for(path: &str) -> u64 {
    if path.starts_with("images/build/") {
        crate::evidence::images::build::MAX_BUILD_LOG_BYTES
    } else if path.starts_with("images/manifests/") {
        MAX_IMAGE_MANIFEST_BYTES
    } else if path.starts_with("images/") {
        crate::evidence::images::rejudge::MAX_PAIR_FILE_BYTES as u64
    } else if is_image_record(path) {
        MAX_IMAGE_RECORD_BYTES
    } else {
        u64::MAX
    }
}

/// The records and explanation of `images/<name>.json`, for rendering (its claims are
/// re-judged by `rejudge_all`).
fn read_detail(found: &Found, pair: &PairEvidence, problems: &mut Vec<Problem>) -> Option<PairDetail> {
    #[derive(Deserialize)]
    struct Detail {
        tested: Option<DigestRecord>,
        released: Option<DigestRecord>,
        #[serde(default)]
        explanation: Explanation,
    }
    check_path_segment("image pair name", &pair.name).ok()?;
    let bytes = found.read(&format!("images/{}.json", pair.name), MAX_IMAGE_FILE_BYTES, problems)?;
    let d: Detail = serde_json::from_slice(&bytes).ok()?;
    Some(PairDetail { tested: d.tested, released: d.released, explanation: d.explanation })
}

/// The build's digest re-derived from the logs the bundle keeps (the report read
/// again, each log's hash, the pairs it was given to); every build log in the bundle
/// must be one the record names.
fn check_build(m: &Manifest, paths: &[&str], read: &impl Fn(&str) -> Option<Vec<u8>>, problems: &mut Vec<Problem>) {
    let Some(images) = &m.evidence.images else { return };
    let named: BTreeSet<&str> = images.build.iter().flat_map(|b| b.logs.iter().map(|l| l.path.as_str())).collect();
    for path in paths.iter().filter(|p| p.starts_with("images/build/")) {
        if !named.contains(path) {
            problems.push(images_problem(format!("{path} is the log of no build the manifest names")));
        }
    }
    let Some(build) = &images.build else { return };
    let pairs: Vec<(&str, &str, Option<&crate::evidence::images::Digest>)> = images
        .pairs
        .iter()
        .map(|p| (p.name.as_str(), p.released.reference.as_str(), p.expected_digest.as_ref()))
        .collect();
    for d in build.rederive(read, &pairs) {
        problems.push(images_problem(format!("the build's digest: {d}")));
    }
    // The build ran on the release tag's push: the tag and commit the manifest names.
    let tag = match &m.source.commit_source {
        Some(crate::config::CommitSource::Tag { tag, .. }) => Some(tag),
        _ => None,
    };
    if tag != Some(&build.tag) || m.source.commit.as_ref() != Some(&build.commit) {
        problems.push(images_problem(format!(
            "the build ran on tag `{}` at {}, which is not the release tag and commit the manifest names",
            build.tag, build.commit
        )));
    }
}

fn images_problem(detail: String) -> Problem {
    Problem::Manifest { detail: format!("images: {detail}") }
}

/// Every stored manifest hashes to the digest it is filed under and belongs to a record.
fn check_stored_manifests(found: &Found, referenced: &BTreeSet<String>, problems: &mut Vec<Problem>) {
    for path in found.paths().filter(|p| p.starts_with("images/manifests/")) {
        let hash = &found.get(path).expect("walked").sha256;
        let stem = path.trim_start_matches("images/manifests/").trim_end_matches(".json");
        if stem.trim_start_matches("sha256-") != hash {
            problems.push(Problem::Manifest {
                detail: format!("{path}: the bytes hash to sha256:{hash}, not to the digest in its name"),
            });
        } else if !referenced.contains(stem) {
            problems.push(images_problem(format!("{path} belongs to no digest record")));
        }
    }
}
