//! `rejudge` on a bundle written by the real writer, then edited one file at a time.

use std::path::Path;

use serde_json::{Value, json};

use super::*;
use crate::bundle::dir::BundleDir;
use crate::evidence::images::record::{ImageRecord, JobIdentity, RecordedImage};
use crate::evidence::images::resolve::RawManifest;
use crate::evidence::images::{Explanation, PairDetail, Platform};

const RECORD_PATH: &str = "reports/e2e/pr-e2e-report/image-record.json";

fn child(arch: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": manifest::OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": Digest::of(arch.as_bytes()).to_string(), "size": 2},
        "layers": []
    }))
    .unwrap()
}

struct Fixture {
    evidence: ImageEvidence,
    record: ImageRecord,
}

/// One index (linux/amd64, linux/arm64) tagged in dev and prod; `recorded` says
/// whether a test job's record of the released index is among the reports.
fn fixture(recorded: bool) -> Fixture {
    let children: Vec<(&str, Vec<u8>)> = vec![("amd64", child("amd64")), ("arm64", child("arm64"))];
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": manifest::OCI_INDEX,
        "manifests": children.iter().map(|(arch, bytes)| json!({
            "mediaType": manifest::OCI_MANIFEST,
            "digest": Digest::of(bytes).to_string(),
            "size": bytes.len(),
            "platform": {"os": "linux", "architecture": arch}
        })).collect::<Vec<_>>()
    }))
    .unwrap();
    let mut manifests = BTreeMap::new();
    manifests.insert(Digest::of(&index), RawManifest { media_type: manifest::OCI_INDEX.into(), bytes: index.clone() });
    for (_, bytes) in &children {
        manifests
            .insert(Digest::of(bytes), RawManifest { media_type: manifest::OCI_MANIFEST.into(), bytes: bytes.clone() });
    }
    let record_of = |reference: &str| {
        let image = ImageRef::parse(reference).unwrap();
        let parsed: manifest::Index = manifest::parse(&index, "index").unwrap();
        DigestRecord {
            reference: image.to_string(),
            registry: image.registry.clone(),
            repository: image.repository.clone(),
            tag: image.tag.clone(),
            media_type: manifest::OCI_INDEX.into(),
            digest: Digest::of(&index),
            header_digest: Some(Digest::of(&index)),
            size: index.len() as u64,
            read_at: chrono::DateTime::UNIX_EPOCH,
            manifests: plan_children(&image, &parsed, &[]).unwrap().0,
        }
    };
    let (tested, released) = (record_of("r.io/dev/app:PR-1"), record_of("r.io/prod/app:1.0.0"));
    let job = JobIdentity { workflow: Some("PR Integration".into()), job: Some("e2e".into()), ..Default::default() };
    let ran = RecordedImage::resolved(&released, Some(Platform::parse("linux/amd64").unwrap()));
    let record = ImageRecord::new(job, vec![ran], chrono::DateTime::UNIX_EPOCH);
    let mut pair = PairEvidence {
        name: "app".into(),
        tested: RefDigests::of(&ImageRef::parse(&tested.reference).unwrap(), Some(&tested)),
        released: RefDigests::of(&ImageRef::parse(&released.reference).unwrap(), Some(&released)),
        expected_digest: None,
        verdict: verdict::judge(Some(&tested), Some(&released), None),
        proven_by: Vec::new(),
        passed: false,
        recorded: Vec::new(),
        recorded_left_out: 0,
        detail: PairDetail { tested: Some(tested), released: Some(released), explanation: Explanation::default() },
    };
    pair.decide(DigestPolicy::Identical);
    let mut evidence = ImageEvidence { pairs: vec![pair], manifests, ..Default::default() };
    if recorded {
        evidence.apply_records(std::slice::from_ref(&record));
    }
    Fixture { evidence, record }
}

/// Writes the bundle's image files (and the record) into a directory.
fn write(f: &Fixture, recorded: bool) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let mut dir = BundleDir::create(out.path(), "bundle").unwrap();
    f.evidence.write_into(&mut dir).unwrap();
    if recorded {
        dir.add_bytes(RECORD_PATH, f.record.to_json().as_bytes()).unwrap();
    }
    out
}

fn reader(root: &Path) -> impl Fn(&str) -> Option<Vec<u8>> + '_ {
    move |path: &str| std::fs::read(root.join("bundle").join(path)).ok()
}

fn judge_again(root: &Path, evidence: &ImageEvidence, paths: &[&str]) -> Result<Rejudged, Vec<Discrepancy>> {
    rejudge(evidence, &evidence.pairs[0], paths, &RecordRuns::new(), reader(root))
}

fn edit_pair_file(root: &Path, edit: impl FnOnce(&mut Value)) {
    let path = root.join("bundle/images/app.json");
    let mut value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut value);
    std::fs::write(&path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
}

fn says(result: &Result<Rejudged, Vec<Discrepancy>>, part: &str) {
    let found = result.as_ref().expect_err("an edit must be found");
    assert!(found.iter().any(|d| d.to_string().contains(part)), "no `{part}` in {found:#?}");
}

#[test]
fn an_untouched_bundle_is_judged_again_the_same() {
    let f = fixture(true);
    let dir = write(&f, true);
    let again = judge_again(dir.path(), &f.evidence, &[RECORD_PATH]).unwrap();
    assert_eq!(again, Rejudged { verdict: Verdict::Identical, proven_by: vec![Proof::ImageRecord], passed: true });
    assert!(f.evidence.pairs[0].passed);
}

#[test]
fn the_same_digest_without_a_record_is_not_proven_and_a_flipped_outcome_is_found() {
    let f = fixture(false);
    assert!(!f.evidence.pairs[0].passed, "two tags of one image prove nothing by themselves");
    assert!(f.evidence.pairs[0].verdict_line(DigestPolicy::Identical).starts_with("not proven: "));
    let dir = write(&f, false);
    let again = judge_again(dir.path(), &f.evidence, &[]).unwrap();
    assert_eq!((again.verdict, again.passed), (Verdict::Identical, false));

    // Flipped to passed in the pair file and in manifest.json alike.
    edit_pair_file(dir.path(), |v| v["passed"] = json!(true));
    let mut flipped = f.evidence.clone();
    flipped.pairs[0].passed = true;
    says(
        &judge_again(dir.path(), &flipped, &[]),
        "whether the pair passed is recorded as true, but the files give false",
    );
    // A proof claimed with no record behind it.
    edit_pair_file(dir.path(), |v| v["proven_by"] = json!(["image-record"]));
    flipped.pairs[0].proven_by = vec![Proof::ImageRecord];
    says(&judge_again(dir.path(), &flipped, &[]), "what proves the pair");
}

#[test]
fn a_changed_digest_a_changed_manifest_and_a_swapped_platform_are_found() {
    let f = fixture(true);
    // A stored child manifest edited: its bytes no longer hash to their name.
    let dir = write(&f, true);
    let amd64 = Digest::of(&child("amd64"));
    let path = dir.path().join(format!("bundle/images/manifests/{}.json", amd64.file_stem()));
    std::fs::write(&path, child("s390x")).unwrap();
    says(&judge_again(dir.path(), &f.evidence, &[RECORD_PATH]), &format!("hashes to {}", Digest::of(&child("s390x"))));

    // The released index digest changed in the pair file.
    let dir = write(&f, true);
    edit_pair_file(dir.path(), |v| v["released"]["digest"] = json!(amd64.to_string()));
    let result = judge_again(dir.path(), &f.evidence, &[RECORD_PATH]);
    says(&result, "released digests");
    says(&result, "the verdict is recorded as Identical, but the files give PlatformsIdentical");

    // Two platforms swapped in the released record: the stored index says otherwise.
    let dir = write(&f, true);
    edit_pair_file(dir.path(), |v| {
        let m = v["released"]["manifests"].as_array_mut().unwrap();
        let (a, b) = (m[0]["platform"].clone(), m[1]["platform"].clone());
        m[0]["platform"] = b;
        m[1]["platform"] = a;
    });
    says(&judge_again(dir.path(), &f.evidence, &[RECORD_PATH]), "are not the ones its stored bytes list");

    // The repository beside the reference, and a header digest that disagrees.
    let dir = write(&f, true);
    edit_pair_file(dir.path(), |v| v["tested"]["repository"] = json!("prod/app"));
    says(&judge_again(dir.path(), &f.evidence, &[RECORD_PATH]), "tested registry, repository and tag");
    let dir = write(&f, true);
    edit_pair_file(dir.path(), |v| v["released"]["header_digest"] = json!(amd64.to_string()));
    says(&judge_again(dir.path(), &f.evidence, &[RECORD_PATH]), "Docker-Content-Digest");
}

#[test]
fn a_flipped_verdict_and_a_dropped_record_check_are_found() {
    let f = fixture(true);
    let dir = write(&f, true);
    edit_pair_file(dir.path(), |v| v["verdict"] = json!("different"));
    let mut flipped = f.evidence.clone();
    flipped.pairs[0].verdict = Verdict::Different;
    says(
        &judge_again(dir.path(), &flipped, &[RECORD_PATH]),
        "the verdict is recorded as Different, but the files give Identical",
    );

    // A second record of another build, dropped from the checks: found from the record file.
    let dir = write(&f, true);
    let mut other = f.record.clone();
    other.images[0].digest = Some(Digest::of(b"another build"));
    other.images[0].platform_digest = None;
    let other_path = "reports/e2e/pr-e2e-traces-report/image-record.json";
    std::fs::create_dir_all(dir.path().join("bundle/reports/e2e/pr-e2e-traces-report")).unwrap();
    std::fs::write(dir.path().join("bundle").join(other_path), other.to_json()).unwrap();
    let result = judge_again(dir.path(), &f.evidence, &[RECORD_PATH, other_path]);
    says(&result, "the recorded images' checks");
    says(&result, "whether the pair passed is recorded as true, but the files give false");

    // A record file that cannot be read, while the audit named no record problem.
    std::fs::write(dir.path().join("bundle").join(other_path), b"{}").unwrap();
    says(&judge_again(dir.path(), &f.evidence, &[RECORD_PATH, other_path]), "cannot be read");
}

#[test]
fn a_record_over_the_cap_is_refused_and_checks_over_the_cap_fail_the_pair() {
    let f = fixture(false);
    let one = f.record.images[0].clone();
    let mut big = f.record.clone();
    big.images = vec![one.clone(); record::MAX_RECORD_IMAGES + 1];
    let err = ImageRecord::parse(big.to_json().as_bytes(), "image-record.json").unwrap_err().to_string();
    assert!(err.contains("more than an image record may"), "{err}");

    let mut many = f.record.clone();
    many.images = vec![one; verdict::MAX_CHECKS_PER_PAIR + 1];
    let mut evidence = f.evidence.clone();
    evidence.apply_records(&[many]);
    let pair = &evidence.pairs[0];
    assert_eq!((pair.recorded.len(), pair.recorded_left_out), (verdict::MAX_CHECKS_PER_PAIR, 1));
    assert!(!pair.passed, "every check that was made passes, but one was not made");
    assert!(
        pair.failure_line(DigestPolicy::Identical).contains("1 more recorded images"),
        "{}",
        pair.failure_line(DigestPolicy::Identical)
    );
}

#[test]
fn rejudge_all_finds_pair_files_nobody_names_and_bounds_what_it_quotes() {
    let f = fixture(true);
    let dir = write(&f, true);
    let root = dir.path().join("bundle");
    let paths = ["images/app.json", RECORD_PATH];
    assert_eq!(rejudge_all(&f.evidence, &paths, &RecordRuns::new(), reader(dir.path())), vec![]);
    std::fs::copy(root.join("images/app.json"), root.join("images/ghost.json")).unwrap();
    let found = rejudge_all(
        &f.evidence,
        &["images/app.json", "images/ghost.json", RECORD_PATH],
        &RecordRuns::new(),
        reader(dir.path()),
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].to_string().starts_with("image `ghost`: images/ghost.json is in the bundle"), "{}", found[0]);

    // Thousands of checks edited: the discrepancy quotes a bounded amount of them.
    let mut many = f.record.clone();
    many.images = vec![many.images[0].clone(); 500];
    let mut evidence = f.evidence.clone();
    evidence.apply_records(&[many]);
    let dir = write(&Fixture { evidence: evidence.clone(), record: f.record.clone() }, true);
    let found = rejudge_all(&evidence, &paths, &RecordRuns::new(), reader(dir.path()));
    assert!(!found.is_empty());
    assert!(found.iter().all(|d| d.to_string().len() < 1_000), "{found:#?}");
}

/// Every leaf of a JSON document with its path, e.g. `released.manifests.1.platform`.
fn leaves(value: &Value, path: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                leaves(v, if path.is_empty() { k.clone() } else { format!("{path}.{k}") }, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                leaves(v, format!("{path}.{i}"), out);
            }
        }
        _ => out.push(path),
    }
}

fn leaf_mut<'a>(value: &'a mut Value, path: &str) -> &'a mut Value {
    path.split('.').fold(value, |v, key| match v {
        Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
        other => &mut other[key],
    })
}

/// A changed value of the same shape: a digest keeps its form (one hex digit changed).
fn changed(value: &Value) -> Value {
    match value {
        Value::String(s) if s.starts_with("sha256:") => {
            let last = if s.ends_with('0') { '1' } else { '0' };
            json!(format!("{}{last}", &s[..s.len() - 1]))
        }
        Value::String(s) => json!(format!("{s}x")),
        Value::Number(n) => json!(n.as_u64().unwrap_or_default() + 1),
        Value::Bool(b) => json!(!b),
        Value::Null => json!("x"),
        other => other.clone(),
    }
}

/// Leaves `verify` cannot re-derive from the bundle's files and does not claim to: the
/// explanation (from registry blobs the bundle does not hold) and the read times.
fn informational(path: &str) -> bool {
    path.starts_with("explanation") || path.ends_with("read_at") || path.starts_with("record_problems")
}

/// Every single edit of a leaf of the pair file, or of the pair's part of
/// `manifest.json`, is found — unless the leaf is informational.
#[test]
fn every_single_edit_of_a_pair_is_found() {
    let mut f = fixture(true);
    let pair = &mut f.evidence.pairs[0];
    pair.expected_digest = pair.tested.digest.clone();
    pair.decide(DigestPolicy::Identical);
    f.evidence.pairs[0].detail.explanation.promote = Some("skopeo copy".into());
    let original: Value = {
        let dir = write(&f, true);
        serde_json::from_slice(&std::fs::read(dir.path().join("bundle/images/app.json")).unwrap()).unwrap()
    };
    let mut paths = Vec::new();
    leaves(&original, String::new(), &mut paths);
    assert!(paths.len() > 40, "{paths:?}");
    for path in paths.iter().filter(|p| !informational(p)) {
        let dir = write(&f, true);
        edit_pair_file(dir.path(), |v| {
            let leaf = leaf_mut(v, path);
            *leaf = changed(leaf);
        });
        assert!(judge_again(dir.path(), &f.evidence, &[RECORD_PATH]).is_err(), "an edit of `{path}` is not found");
    }

    let part = serde_json::to_value(&f.evidence).unwrap();
    let mut paths = Vec::new();
    leaves(&part, String::new(), &mut paths);
    let dir = write(&f, true);
    let mut judged = 0;
    for path in paths.iter().filter(|p| !informational(p)) {
        let mut edited = part.clone();
        let leaf = leaf_mut(&mut edited, path);
        *leaf = changed(leaf);
        // An edit that no longer reads as a manifest fails `verify` before any re-judging.
        let Ok(evidence) = serde_json::from_value::<ImageEvidence>(edited) else { continue };
        judged += 1;
        assert!(
            !rejudge_all(&evidence, &["images/app.json", RECORD_PATH], &RecordRuns::new(), reader(dir.path()))
                .is_empty(),
            "an edit of manifest.json's `{path}` is not found"
        );
    }
    assert!(judged > 20, "only {judged} edits of manifest.json were re-judged");
}

/// Every single edit of a leaf of an image record the test jobs wrote is found, but for
/// when it was recorded.
#[test]
fn every_single_edit_of_an_image_record_is_found() {
    let f = fixture(true);
    let original: Value = serde_json::from_str(&f.record.to_json()).unwrap();
    let mut paths = Vec::new();
    leaves(&original, String::new(), &mut paths);
    assert!(paths.len() > 8, "{paths:?}");
    for path in paths.iter().filter(|p| *p != "recorded_at") {
        let dir = write(&f, true);
        let mut edited = original.clone();
        let leaf = leaf_mut(&mut edited, path);
        *leaf = changed(leaf);
        std::fs::write(dir.path().join("bundle").join(RECORD_PATH), serde_json::to_vec(&edited).unwrap()).unwrap();
        assert!(
            judge_again(dir.path(), &f.evidence, &[RECORD_PATH]).is_err(),
            "an edit of the record's `{path}` is not found"
        );
    }
}
