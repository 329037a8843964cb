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
use crate::bundle::manifest::Manifest;
use crate::bundle::records::{MAX_IMAGE_RECORD_BYTES, image_records, is_image_record};
use crate::bundle::{check_path_segment, safe_relative_path};
use crate::evidence::images::manifest::{Index, Kind, kind_of};
use crate::evidence::images::record::RecordCheck;
use crate::evidence::images::resolve::plan_children;
use crate::evidence::images::{
    Digest, DigestPolicy, DigestRecord, Explanation, ImageEvidence, ImageRef, PairDetail, PairEvidence, RefDigests,
    Verdict, record, verdict,
};

/// `images/<name>.json` as the writer writes it (every field; no other).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredPair {
    name: String,
    policy: DigestPolicy,
    verdict: Verdict,
    passed: bool,
    #[serde(default)]
    expected_digest: Option<Digest>,
    tested_reference: String,
    released_reference: String,
    tested: Option<DigestRecord>,
    released: Option<DigestRecord>,
    #[serde(default)]
    recorded: Vec<RecordCheck>,
    explanation: Explanation,
}

/// Re-judges every image pair; returns each pair's stored detail (records and the
/// explanation, default when unreadable), in the manifest's order, for re-rendering.
pub fn check_images(found: &Found, m: &Manifest, problems: &mut Vec<Problem>) -> Vec<PairDetail> {
    let Some(images) = &m.evidence.images else { return Vec::new() };
    let records = test_job_records(found, m, problems);
    let mut details = Vec::new();
    let mut referenced: BTreeSet<String> = BTreeSet::new();
    for pair in &images.pairs {
        let detail = match read_pair(found, pair, problems) {
            Some(stored) => {
                check_pair(found, images, pair, &stored, records.as_ref(), problems);
                for r in [&stored.tested, &stored.released].into_iter().flatten() {
                    referenced.insert(r.digest.file_stem());
                    referenced.extend(r.manifests.iter().filter(|c| c.fetched).map(|c| c.digest.file_stem()));
                }
                PairDetail { tested: stored.tested, released: stored.released, explanation: stored.explanation }
            }
            None => PairDetail::default(),
        };
        details.push(detail);
    }
    if let Some(r) = &records
        && r.problems != images.record_problems
    {
        problems.push(images_problem("the recorded image record problems are not what the records give".into()));
    }
    check_stored_manifests(found, &referenced, problems);
    details
}

fn images_problem(detail: String) -> Problem {
    Problem::Manifest { detail: format!("images: {detail}") }
}

/// The image records among the report files, read as the audit read them; `None` when
/// one of them cannot be opened safely (named elsewhere, or too large).
fn test_job_records(
    found: &Found,
    m: &Manifest,
    problems: &mut Vec<Problem>,
) -> Option<crate::bundle::records::ImageRecords> {
    let Some(tests) = &m.evidence.tests else { return Some(Default::default()) };
    for file in tests.categories.iter().flat_map(|c| &c.artifacts).flat_map(|a| &a.files) {
        if !is_image_record(&file.path) {
            continue;
        }
        if safe_relative_path(&file.path).as_deref() != Some(file.path.as_str()) {
            return None; // named by the test evidence check
        }
        match found.get(&file.path) {
            Some(f) if f.size > MAX_IMAGE_RECORD_BYTES && file.size <= MAX_IMAGE_RECORD_BYTES => {
                problems.push(Problem::TooLarge {
                    path: file.path.clone(),
                    size: f.size,
                    limit: MAX_IMAGE_RECORD_BYTES,
                });
                return None;
            }
            Some(_) => {}
            None => return None, // named as missing
        }
    }
    Some(image_records(tests, found.path("").as_path()))
}

/// `images/<name>.json`, parsed strictly; `None` (and a problem) when it cannot be.
fn read_pair(found: &Found, pair: &PairEvidence, problems: &mut Vec<Problem>) -> Option<StoredPair> {
    if let Err(why) = check_path_segment("image pair name", &pair.name) {
        problems.push(images_problem(format!("pair name `{}`: {why}", pair.name.escape_debug())));
        return None;
    }
    let rel = format!("images/{}.json", pair.name);
    let Some(bytes) = found.read(&rel, MAX_IMAGE_FILE_BYTES, problems) else {
        if !found.contains(&rel) {
            problems.push(images_problem(format!("image `{}`: {rel} is not in the bundle", pair.name)));
        }
        return None;
    };
    match serde_json::from_slice::<StoredPair>(&bytes) {
        Ok(stored) => Some(stored),
        Err(e) => {
            problems.push(images_problem(format!("{rel} is not a pair record: {e}")));
            None
        }
    }
}

/// One pair: the stored record agrees with the manifest, each digest record with its
/// manifest bytes, and the verdict, the recorded checks and `passed` are re-derived.
fn check_pair(
    found: &Found,
    images: &ImageEvidence,
    pair: &PairEvidence,
    stored: &StoredPair,
    records: Option<&crate::bundle::records::ImageRecords>,
    problems: &mut Vec<Problem>,
) {
    let name = &pair.name;
    let mut say = |what: &str| problems.push(images_problem(format!("image `{name}`: {what}")));
    if stored.name != pair.name
        || stored.policy != images.policy
        || stored.verdict != pair.verdict
        || stored.passed != pair.passed
        || stored.expected_digest != pair.expected_digest
        || stored.recorded != pair.recorded
    {
        say(
            "images/<name>.json and manifest.json disagree (name, policy, verdict, passed, expected digest or recorded checks)",
        );
    }
    for (label, reference, record, side) in [
        ("tested", &stored.tested_reference, &stored.tested, &pair.tested),
        ("released", &stored.released_reference, &stored.released, &pair.released),
    ] {
        if &ref_digests(reference, record.as_ref()) != side {
            say(&format!("the {label} digests in manifest.json are not the ones its digest record gives"));
        }
        if let Some(record) = record {
            check_record(found, label, reference, record, &mut say);
        }
    }
    let judged = verdict::judge(stored.tested.as_ref(), stored.released.as_ref(), stored.expected_digest.as_ref());
    if judged != pair.verdict {
        say(&format!("verdict `{}` is recorded, the digest records give `{}`", pair.verdict.as_str(), judged.as_str()));
    }
    let recorded = match (&stored.released, records) {
        (Some(released), Some(r)) => Some(record::check_records(&r.records, released)),
        (None, _) => Some(Vec::new()),
        (Some(_), None) => None,
    };
    if recorded.as_ref().is_some_and(|r| r != &pair.recorded) {
        say("the recorded checks are not what the test jobs' image records give");
    }
    let passed = judged.passes(images.policy) && pair.recorded.iter().all(|c| c.verdict.passes(images.policy));
    if passed != pair.passed {
        say(&format!("recorded as passed={}, the evidence gives passed={passed}", pair.passed));
    }
}

/// What `manifest.json` carries for one side, from its digest record (as the writer
/// derives it).
fn ref_digests(reference: &str, record: Option<&DigestRecord>) -> RefDigests {
    RefDigests {
        reference: reference.to_string(),
        digest: record.map(|r| r.digest.clone()),
        media_type: record.map(|r| r.media_type.clone()),
        platforms: record.map(DigestRecord::platform_digests).unwrap_or_default(),
    }
}

/// A digest record against the bytes it was computed from: its reference parts, its
/// size, the registry's header digest, and for an index every child it lists.
fn check_record(found: &Found, label: &str, reference: &str, r: &DigestRecord, say: &mut dyn FnMut(&str)) {
    let image = ImageRef::parse(&r.reference);
    let parts_agree = image.as_ref().is_ok_and(|i| {
        i.registry == r.registry && i.repository == r.repository && i.tag == r.tag && i.to_string() == reference
    });
    if !parts_agree || r.reference != reference {
        say(&format!("the {label} record's reference, registry, repository or tag disagree"));
    }
    if r.header_digest.as_ref().is_some_and(|h| h != &r.digest) {
        say(&format!("the {label} record's registry digest header disagrees with its digest"));
    }
    let rel = format!("images/manifests/{}.json", r.digest.file_stem());
    let mut ignored = Vec::new();
    let Some(bytes) = found.read(&rel, MAX_IMAGE_MANIFEST_BYTES, &mut ignored) else {
        say(&format!("{} is recorded but its manifest bytes ({rel}) are not in the bundle", r.digest));
        return;
    };
    if bytes.len() as u64 != r.size {
        say(&format!("the {label} record's size is not its manifest's size"));
    }
    for child in r.manifests.iter().filter(|c| c.fetched) {
        let child_rel = format!("images/manifests/{}.json", child.digest.file_stem());
        if found.get(&child_rel).is_none_or(|f| f.size != child.size) {
            say(&format!("{} is recorded but its manifest bytes ({child_rel}) are not in the bundle", child.digest));
        }
    }
    match kind_of(&r.media_type) {
        Some(Kind::Index) => check_index(&bytes, image.ok(), label, r, say),
        Some(Kind::Manifest) => {
            let single = r.manifests.len() == 1
                && r.manifests[0].digest == r.digest
                && r.manifests[0].media_type == r.media_type
                && r.manifests[0].size == r.size
                && r.manifests[0].fetched;
            if !single {
                say(&format!("the {label} record of a single manifest does not list exactly that manifest"));
            }
        }
        None => say(&format!("the {label} record's media type is not a manifest's")),
    }
}

/// An index's children, planned again from its bytes, must be the recorded ones (all
/// but what only fetching knows: which the platform filter selected, and when).
fn check_index(bytes: &[u8], image: Option<ImageRef>, label: &str, r: &DigestRecord, say: &mut dyn FnMut(&str)) {
    let planned = image
        .and_then(|image| {
            let index: Index = serde_json::from_slice(bytes).ok()?;
            plan_children(&image, &index, &[]).ok()
        })
        .map(|(children, _)| children);
    let Some(planned) = planned else {
        say(&format!("the {label} index's manifest bytes cannot be read as an index"));
        return;
    };
    let same = planned.len() == r.manifests.len()
        && planned.iter().zip(&r.manifests).all(|(p, c)| {
            (&p.role, &p.platform, &p.digest, &p.media_type, p.size, &p.attests)
                == (&c.role, &c.platform, &c.digest, &c.media_type, c.size, &c.attests)
                && (c.fetched || c.header_digest.is_none())
                && c.header_digest.as_ref().is_none_or(|h| h == &c.digest)
        });
    if !same {
        say(&format!("the {label} record's platform manifests are not the ones its index lists"));
    }
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
