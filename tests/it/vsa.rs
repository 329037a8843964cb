//! The bundle's SLSA Verification Summary Attestation (`statements/vsa.intoto.json`),
//! written by the binary: it validates against the VSA schema (written from the SLSA
//! spec text, tests/fixtures/vsa), says exactly the verdict, names the released image
//! and the bundle's other statements by digest, and `verify` writes it again — a VSA
//! that says `PASSED` for a failed audit does not verify.

use std::path::{Path, PathBuf};
use std::process::Command;

use release_audit_test_support::step::{RUN_ID, SHA};
use release_audit_test_support::{FakeGitHub, Step, StepResult, zip_bytes};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::binary;

const PASSING_E2E: &str = r#"<testsuites><testsuite name="e2e" tests="2"><testcase classname="logs" name="a"/><testcase classname="logs" name="b"/></testsuite></testsuites>"#;
const FAILING_E2E: &str = r#"<testsuites><testsuite name="e2e" tests="2" failures="1"><testcase classname="logs" name="a"/><testcase classname="logs" name="b"><failure message="boom">boom</failure></testcase></testsuite></testsuites>"#;
const UNIT: &str = r#"{"Action":"run","Package":"example.com/p","Test":"TestA"}
{"Action":"pass","Package":"example.com/p","Test":"TestA","Elapsed":0.1}
{"Action":"pass","Package":"example.com/p","Elapsed":0.2}
"#;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Validates `file` against the VSA schema with python's jsonschema (the validator
/// the manifest's schema test uses; scripts/services.sh installs it). Fails loudly
/// when python or jsonschema is missing.
fn validate(file: &Path) {
    let out = Command::new("python3")
        .arg(root().join("tests/support/validate_manifest.py"))
        .arg(root().join("tests/fixtures/vsa/verification_summary-v1.schema.json"))
        .arg(file)
        .output()
        .expect("python3 runs (scripts/services.sh installs it with jsonschema)");
    assert!(
        out.status.success(),
        "{} does not validate against the VSA schema:\n{}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn sha256_hex(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

fn verify(path: &Path) -> (i32, String) {
    let out = Command::new(binary()).arg("verify").arg(path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap(), text)
}

/// An audit of release 1.2.3 with unit and e2e reports (the e2e artifact holds the
/// test job's image record), `dev/app:1` tested and `prod/app:1.0.0` released (the
/// same multi-platform build), and a change trail since 1.2.2 of one reviewed pull
/// request (then, with `direct_push`, an unreviewed push) with the release approved.
/// `inputs` are set last.
async fn audit_with(e2e: &str, direct_push: bool, inputs: &[(&str, &str)]) -> (Step, StepResult) {
    let host = crate::image_support::served::registry();
    let fake = FakeGitHub::start().await;
    let c = &fake.changes;
    let base = c.commit("release 1.2.2", "alice", &[], true);
    c.tag("1.2.2", &base);
    let reviewed = c.commit("Add metric pipeline (#11)", "alice", &[&base], true);
    c.pull(11, "Add metric pipeline", "alice", "1111111111111111111111111111111111111111", &reviewed, &[]);
    c.review(11, "bob", "APPROVED", "1111111111111111111111111111111111111111");
    let head = if direct_push { c.commit("hotfix: typo", "dave", &[&reviewed], false) } else { reviewed };
    c.approval(RUN_ID, "release-lead", "approved", "production", "ship it");

    let record = crate::image_record(&format!("{host}/dev/app:1"), &host);

    let backend = fake.add_run(800, "e2e.yml", &head, "success");
    let e2e = zip_bytes(&[("junit.xml", e2e.as_bytes()), ("image-record.json", &record)]);
    fake.seed_artifact(&backend, "pr-e2e-report", &e2e).await;
    fake.seed_artifact(&backend, "unit-report", &zip_bytes(&[("unit.json", UNIT.as_bytes())])).await;
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.2.3")
        .input("run-ids", "800")
        .input("e2e-reports", "pr-e2e-report")
        .input("unit-reports", "unit-report")
        .input("required-reports", "e2e,unit")
        .input("tested-image", &format!("{host}/dev/app:1"))
        .input("release-image", &format!("{host}/prod/app:1.0.0"))
        .input("insecure-registries", &host)
        .input("previous-release", "auto")
        .input("require-reviewed-changes", "true")
        .input("upload", "false")
        .input("include-run-logs", "false")
        .set("GITHUB_SHA", &head);
    for (name, value) in inputs {
        step.input(name, value);
    }
    let result = step.run(&binary(), &[]).await;
    (step, result)
}

async fn audit(e2e: &str) -> (Step, StepResult) {
    audit_with(e2e, false, &[]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passed_audit_attests_the_released_image_with_the_levels_that_held() {
    let (step, result) = audit(PASSING_E2E).await;
    assert_eq!(result.code, 0, "the audit passes: {}", result.stderr);
    let vsa_path = step.resolve(&result.outputs["vsa-path"]);
    assert!(vsa_path.ends_with("statements/vsa.intoto.json"), "{}", vsa_path.display());
    validate(&vsa_path);
    let vsa = read_json(&vsa_path);
    let p = &vsa["predicate"];
    assert_eq!(vsa["predicateType"], "https://slsa.dev/verification_summary/v1");
    assert_eq!(p["verificationResult"], "PASSED");
    assert_eq!(
        p["verifiedLevels"],
        serde_json::json!([
            "RELEASE_AUDIT_TESTS_PASSED",
            "RELEASE_AUDIT_TESTED_IMAGE_RELEASED",
            "RELEASE_AUDIT_CHANGES_REVIEWED",
            "RELEASE_AUDIT_RELEASE_APPROVED"
        ])
    );
    // SOURCE_DATE_EPOCH of the step (1700000000) stands in for the clock.
    assert_eq!(p["timeVerified"], "2023-11-14T22:13:20Z");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(p["verifier"]["id"], format!("https://github.com/kyma-project/release-audit@v{version}"));

    // The subject is the released image: its index and both platform manifests, with
    // the digests the manifest recorded for `prod/app:1.0.0`.
    let manifest = read_json(&vsa_path.parent().unwrap().parent().unwrap().join("manifest.json"));
    let released = &manifest["evidence"]["images"]["pairs"][0]["released"];
    let repo = released["reference"].as_str().unwrap().rsplit_once(':').unwrap().0.to_string();
    assert_eq!(p["resourceUri"], format!("oci://{repo}"));
    let digests: Vec<&str> =
        vsa["subject"].as_array().unwrap().iter().map(|s| s["digest"]["sha256"].as_str().unwrap()).collect();
    let index = released["digest"].as_str().unwrap().strip_prefix("sha256:").unwrap();
    let platforms: Vec<&str> = released["platforms"]
        .as_object()
        .unwrap()
        .values()
        .map(|d| d.as_str().unwrap().strip_prefix("sha256:").unwrap())
        .collect();
    assert_eq!(platforms.len(), 2, "{released}");
    assert_eq!(digests, [&[index][..], &platforms[..]].concat());
    assert_eq!(vsa["subject"][0]["name"], repo);

    // inputAttestations: every other statement of the bundle, by its sha256.
    let statements = vsa_path.parent().unwrap();
    let mut inputs: Vec<(String, String)> = p["inputAttestations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].as_str().unwrap().to_string(), a["digest"]["sha256"].as_str().unwrap().to_string()))
        .collect();
    inputs.sort();
    let mut on_disk: Vec<(String, String)> = std::fs::read_dir(statements)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p != &vsa_path)
        .map(|p| (format!("statements/{}", p.file_name().unwrap().to_string_lossy()), sha256_hex(&p)))
        .collect();
    on_disk.sort();
    assert_eq!(inputs.len(), 3, "unit, e2e and code review: {inputs:?}");
    assert_eq!(inputs, on_disk);

    // The policy: the digest is the sha256 of the canonical JSON the content carries.
    use base64::Engine as _;
    let policy = base64::engine::general_purpose::STANDARD.decode(p["policy"]["content"].as_str().unwrap()).unwrap();
    assert_eq!(p["policy"]["digest"]["sha256"], hex::encode(Sha256::digest(&policy)));
    let policy: Value = serde_json::from_slice(&policy).unwrap();
    assert_eq!(policy["tests"]["fail_on_test_failures"], true);
    assert_eq!(policy["images"]["digest_policy"], "identical");
    assert_eq!(policy["changes"]["require_reviewed_changes"], true);

    // What a later step hands to actions/attest.
    assert_eq!(result.outputs["image-subject-name"], repo);
    assert_eq!(result.outputs["image-subject-digest"], format!("sha256:{index}"));
    let predicate = read_json(&step.resolve(&result.outputs["vsa-predicate-path"]));
    assert_eq!(&predicate, p, "the predicate file is the VSA's predicate");

    let (code, out) = verify(&step.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_audit_s_vsa_says_failed_and_a_forged_passed_does_not_verify() {
    let (step, result) = audit(FAILING_E2E).await;
    assert_eq!(result.code, 1, "a failed test fails the audit: {}", result.stderr);
    let vsa_path = step.resolve(&result.outputs["vsa-path"]);
    validate(&vsa_path);
    let vsa = read_json(&vsa_path);
    assert_eq!(vsa["predicate"]["verificationResult"], "FAILED");
    assert_eq!(vsa["predicate"]["verifiedLevels"], serde_json::json!(["FAILED"]));

    // A forger turns the VSA into PASSED (with its levels) and fixes SHA256SUMS and
    // the manifest's hash of it: `verify` writes the VSA again and refuses it.
    let dir = vsa_path.parent().unwrap().parent().unwrap().to_path_buf();
    let mut forged = vsa.clone();
    forged["predicate"]["verificationResult"] = "PASSED".into();
    forged["predicate"]["verifiedLevels"] = serde_json::json!(["RELEASE_AUDIT_TESTS_PASSED"]);
    let mut bytes = serde_json::to_vec_pretty(&forged).unwrap();
    bytes.push(b'\n');
    std::fs::write(&vsa_path, &bytes).unwrap();
    validate(&vsa_path);
    fix_up(&dir, "statements/vsa.intoto.json", &bytes);
    let (code, out) = verify(&dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("statements/vsa.intoto.json: the statement is not the one the manifest gives"), "{out}");
}

/// A passing verdict under weakened gates claims no level the gates did not check: with
/// `fail-on-test-failures: false` a failed test passes the audit but the tests level is
/// not earned, and an unreviewed push with `require-reviewed-changes: false` costs the
/// review level; what did hold (image, approval) is still said.
#[tokio::test(flavor = "multi_thread")]
async fn levels_are_only_what_held_not_what_the_gates_let_pass() {
    let weakened = [("fail-on-test-failures", "false"), ("require-reviewed-changes", "false")];
    let (step, result) = audit_with(FAILING_E2E, true, &weakened).await;
    assert_eq!(result.code, 0, "the weakened gates pass: {}", result.stderr);
    let vsa_path = step.resolve(&result.outputs["vsa-path"]);
    validate(&vsa_path);
    let p = &read_json(&vsa_path)["predicate"];
    assert_eq!(p["verificationResult"], "PASSED");
    assert_eq!(
        p["verifiedLevels"],
        serde_json::json!(["RELEASE_AUDIT_TESTED_IMAGE_RELEASED", "RELEASE_AUDIT_RELEASE_APPROVED"])
    );
    use base64::Engine as _;
    let policy = base64::engine::general_purpose::STANDARD.decode(p["policy"]["content"].as_str().unwrap()).unwrap();
    let policy: Value = serde_json::from_slice(&policy).unwrap();
    assert_eq!(policy["tests"]["fail_on_test_failures"], false, "the policy says what the verdict was reached under");
    assert_eq!(policy["changes"]["require_reviewed_changes"], false);
    let (code, out) = verify(&step.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_release_image_the_vsa_is_about_the_released_commit() {
    let fake = FakeGitHub::start().await;
    let report = zip_bytes(&[("junit.xml", PASSING_E2E.as_bytes())]);
    let step = release_audit_test_support::step::e2e_audit_step(&fake, "9.9.9", &report).await;
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}", result.stderr);
    let vsa_path = step.resolve(&result.outputs["vsa-path"]);
    validate(&vsa_path);
    let vsa = read_json(&vsa_path);
    let repository = release_audit_test_support::step::REPOSITORY;
    assert_eq!(
        vsa["subject"],
        serde_json::json!([{"name": format!("git+https://github.com/{repository}"), "digest": {"gitCommit": SHA}}])
    );
    assert!(
        vsa["predicate"]["resourceUri"].as_str().unwrap().starts_with(&format!("git+https://github.com/{repository}@"))
    );
    assert_eq!(vsa["predicate"]["verifiedLevels"], serde_json::json!(["RELEASE_AUDIT_TESTS_PASSED"]));
    assert_eq!(result.outputs["image-subject-name"], "", "no image to push an attestation to");
    assert_eq!(result.outputs["image-subject-digest"], "");
    let (code, out) = verify(&step.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");
}

/// Puts `bytes` as `file`'s new content into the manifest's file list (sha256, size),
/// `manifest.yaml` and `SHA256SUMS`: what a careful forger does after an edit.
fn fix_up(dir: &Path, file: &str, bytes: &[u8]) {
    let path = dir.join("manifest.json");
    let mut manifest = read_json(&path);
    for entry in manifest["files"].as_array_mut().unwrap() {
        if entry["path"] == file {
            entry["sha256"] = hex::encode(Sha256::digest(bytes)).into();
            entry["size"] = bytes.len().into();
        }
    }
    let mut json = serde_json::to_vec_pretty(&manifest).unwrap();
    json.push(b'\n');
    std::fs::write(&path, json).unwrap();
    let typed: release_audit::bundle::manifest::Manifest = serde_json::from_value(manifest).unwrap();
    std::fs::write(dir.join("manifest.yaml"), serde_norway::to_string(&typed).unwrap()).unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg("find . -type f ! -name SHA256SUMS | sed 's|^./||' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS")
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(out.success());
}
