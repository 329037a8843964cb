//! Artifact downloads that go wrong the way networks and services do, and artifacts
//! uploaded unzipped, through the real binary, the fake's Twirp and REST routes and a
//! real Azurite (issue 9, items 4 and 7).
//!
//! A truncated body, a flipped byte or a reset connection on the first GET of a blob
//! is retried with a fresh signed URL: the audit passes and its bundle is byte for byte
//! the bundle of a clean run. Corruption on every GET stays a clear error naming the
//! artifact (exit 3), never a pass.

use release_audit_test_support::fake::BlobFault;
use release_audit_test_support::{FakeGitHub, Step, StepResult, zip_bytes};

use crate::binary;

fn junit(suite: &str, passed: usize) -> String {
    let cases: String =
        (0..passed).map(|i| format!(r#"<testcase classname="{suite}" name="TestOk{i}" time="0.5"/>"#)).collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><testsuites><testsuite name="{suite}" tests="{passed}" failures="0" errors="0" time="1.0">{cases}</testsuite></testsuites>"#
    )
}

fn bundle_file(step: &Step, result: &StepResult, rel: &str) -> Vec<u8> {
    step.bundle_file(result, rel)
}

fn manifest(step: &Step, result: &StepResult) -> serde_json::Value {
    step.bundle_manifest(result)
}

use release_audit_test_support::step::category;

/// The current run holds a zipped unit report and an unzipped E2E report (as
/// upload-artifact v7 `archive: false` leaves it: the file itself, `text/xml`).
async fn current_run_with_mixed_artifacts(fake: &FakeGitHub) {
    fake.seed_artifact(
        &fake.run_backend_id,
        "pr-unit-report",
        &zip_bytes(&[("reports/junit.xml", junit("unit", 4).as_bytes())]),
    )
    .await;
    fake.seed_file_artifact(&fake.run_backend_id, "junit-e2e.xml", junit("e2e", 3).as_bytes(), "text/xml").await;
}

/// One audit of the current run; every run of a test uses a fresh workspace and
/// replaces the bundle artifact the previous one uploaded.
async fn audit(fake: &FakeGitHub) -> (Step, StepResult) {
    let mut step = Step::with_fake(fake);
    step.input("release-version", "2.0.0")
        .input("unit-reports", "pr-unit-report")
        .input("e2e-reports", "junit-e2e.xml")
        .input("include-run-logs", "false")
        .input("overwrite", "true");
    let result = step.run(&binary(), &[]).await;
    (step, result)
}

fn assert_mixed_evidence(step: &Step, result: &StepResult) {
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    assert_eq!(result.outputs["verdict"], "passed");
    // The zip was extracted; the unzipped file is kept as the artifact's single file.
    assert_eq!(bundle_file(step, result, "reports/unit/pr-unit-report/reports/junit.xml"), junit("unit", 4).as_bytes());
    assert_eq!(bundle_file(step, result, "reports/e2e/junit-e2e.xml/junit-e2e.xml"), junit("e2e", 3).as_bytes());
    let m = manifest(step, result);
    let e2e = category(&m, "e2e");
    assert_eq!((e2e["status"].as_str(), e2e["totals"]["tests"].as_u64()), (Some("passed"), Some(3)));
    let file = &e2e["artifacts"][0]["files"][0];
    assert_eq!(file["format"], "junit");
    assert!(file["notes"][0].as_str().unwrap().contains("uploaded unzipped (Content-Type text/xml)"), "{file}");
    assert_eq!(category(&m, "unit")["totals"]["tests"], 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn zipped_and_unzipped_artifacts_of_the_current_run_are_both_kept_and_parsed() {
    let fake = FakeGitHub::start().await;
    current_run_with_mixed_artifacts(&fake).await;
    let (step, result) = audit(&fake).await;
    assert_mixed_evidence(&step, &result);
    assert!(!result.everything().contains("artifact `artifact"), "an artifact is named twice: {}", result.everything());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fault_on_the_first_blob_get_is_retried_and_the_bundle_is_that_of_a_clean_run() {
    let fake = FakeGitHub::start().await;
    current_run_with_mixed_artifacts(&fake).await;
    let (clean_step, clean) = audit(&fake).await;
    assert_mixed_evidence(&clean_step, &clean);

    for fault in [BlobFault::Truncate, BlobFault::FlipByte, BlobFault::Reset] {
        let signed_before = fake.calls("GetSignedArtifactURL").len();
        let faults_before = fake.calls("blob fault").len();
        // Both artifacts' first GETs go wrong.
        fake.inject_blob_fault(fault, 2);
        let (step, result) = audit(&fake).await;
        assert_mixed_evidence(&step, &result);
        assert_eq!(fake.calls("blob fault").len() - faults_before, 2, "{fault:?}: the faulty blob server was not used");
        // Every attempt asked for a fresh signed URL: two artifacts, one retry each.
        assert_eq!(fake.calls("GetSignedArtifactURL").len() - signed_before, 4, "{fault:?}");
        assert_eq!(
            result.outputs["bundle-sha256"], clean.outputs["bundle-sha256"],
            "{fault:?}: the bundle differs from a clean run's"
        );
        let bundle = std::fs::read(step.resolve(&result.outputs["bundle-path"])).unwrap();
        assert!(bundle == std::fs::read(clean_step.resolve(&clean.outputs["bundle-path"])).unwrap(), "{fault:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn corruption_on_every_get_is_a_clear_failure_naming_the_artifact() {
    let fake = FakeGitHub::start().await;
    current_run_with_mixed_artifacts(&fake).await;
    fake.inject_blob_fault(BlobFault::FlipByte, u32::MAX);
    let (step, result) = audit(&fake).await;
    assert_eq!(result.code, 3, "{}\n{}", result.stdout, result.stderr);
    let text = result.everything();
    assert!(
        text.contains("sha256")
            && text.contains("the artifact service recorded")
            && text.contains("gave up after 5 attempts"),
        "{text}"
    );
    assert!(
        text.contains("artifact `pr-unit-report` (run ") || text.contains("artifact `junit-e2e.xml` (run "),
        "{text}"
    );
    assert!(
        !step.path("workspace").join("audit-bundle-2.0.0.zip").exists(),
        "no bundle may be written from corrupt evidence"
    );
    assert!(result.outputs.get("verdict").is_none_or(|v| v != "passed"));

    // A body cut short on every GET fails as clearly.
    let fake = FakeGitHub::start().await;
    current_run_with_mixed_artifacts(&fake).await;
    fake.inject_blob_fault(BlobFault::Truncate, u32::MAX);
    let (_, result) = audit(&fake).await;
    assert_eq!(result.code, 3, "{}\n{}", result.stdout, result.stderr);
    assert!(
        result.everything().contains("broke off") || result.everything().contains("ended after"),
        "{}",
        result.everything()
    );
}

/// Other runs are read through REST: `…/artifacts/{id}/zip` redirects to the same blob,
/// zipped or not; a fault on the first GET asks the route again for a fresh Location.
#[tokio::test(flavor = "multi_thread")]
async fn artifacts_of_other_runs_unzipped_or_not_survive_a_first_get_fault() {
    let fake = FakeGitHub::start().await;
    let run_id = 17_000_000_555;
    let backend = fake.add_run(run_id, "e2e.yml", release_audit_test_support::step::SHA, "success");
    fake.seed_artifact(&backend, "pr-unit-report", &zip_bytes(&[("junit.xml", junit("unit", 2).as_bytes())])).await;
    // Other content (a log) uploaded unzipped; JSON that is not a report would fail its
    // category (tests/collect_unparseable.rs), so the file that is "not a report" is text.
    fake.seed_file_artifact(
        &backend,
        "e2e-report.json",
        b"2026-12-01T10:00:00Z e2e finished, see junit-e2e.xml\n",
        "text/plain",
    )
    .await;
    fake.seed_file_artifact(&backend, "junit-e2e.xml", junit("e2e", 5).as_bytes(), "application/octet-stream").await;
    let run = |fake: &FakeGitHub| {
        let mut step = Step::with_fake(fake);
        step.input("release-version", "2.0.0")
            .input("unit-reports", "pr-unit-report")
            .input("e2e-reports", "junit-e2e.xml\ne2e-report.json")
            .input("run-ids", &run_id.to_string())
            .input("include-run-logs", "false")
            .input("overwrite", "true");
        step
    };
    let clean_step = run(&fake);
    let clean = clean_step.run(&binary(), &[]).await;
    assert_eq!(clean.code, 0, "{}\n{}", clean.stdout, clean.stderr);
    assert_eq!(bundle_file(&clean_step, &clean, "reports/e2e/junit-e2e.xml/junit-e2e.xml"), junit("e2e", 5).as_bytes());
    let m = manifest(&clean_step, &clean);
    let e2e = category(&m, "e2e");
    assert_eq!(e2e["totals"]["tests"], 5);
    let json_file = e2e["artifacts"].as_array().unwrap().iter().find(|a| a["name"] == "e2e-report.json").unwrap();
    assert_eq!(json_file["files"][0]["status"], "not_a_report");
    assert_eq!(json_file["files"][0]["path"], "reports/e2e/e2e-report.json/e2e-report.json");

    let zip_routes_before = fake.calls("GET artifact zip").len();
    fake.inject_blob_fault(BlobFault::Reset, 1);
    fake.inject_blob_fault(BlobFault::Truncate, 1);
    fake.inject_blob_fault(BlobFault::FlipByte, 1);
    let step = run(&fake);
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    assert_eq!(
        fake.calls("GET artifact zip").len() - zip_routes_before,
        6,
        "three artifacts, each asked for again once"
    );
    assert_eq!(result.outputs["bundle-sha256"], clean.outputs["bundle-sha256"]);
}

/// A blob served as a zip whose bytes are not one, and a zip uploaded as a single file
/// under another type: the first is a clear error, the second is kept as one file with
/// a note, as the official client keeps it.
#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_contradicts_its_content_type_is_named_not_crashed_on() {
    let fake = FakeGitHub::start().await;
    fake.seed_artifact(
        &fake.run_backend_id,
        "pr-unit-report",
        &zip_bytes(&[("junit.xml", junit("unit", 1).as_bytes())]),
    )
    .await;
    let inner_zip = zip_bytes(&[("junit.xml", junit("e2e", 2).as_bytes())]);
    fake.seed_file_artifact(&fake.run_backend_id, "reports.jar", &inner_zip, "application/octet-stream").await;
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "2.0.0")
        .input("unit-reports", "pr-unit-report")
        .input("e2e-reports", "reports.jar")
        .input("include-run-logs", "false");
    let result = step.run(&binary(), &[]).await;
    // The jar is kept whole, and an archive in a report artifact is not opened: it is
    // unparseable (a report inside would not be counted), which fails E2E.
    assert_eq!(result.code, 1, "{}\n{}", result.stdout, result.stderr);
    let m = manifest(&step, &result);
    let e2e = category(&m, "e2e");
    assert_eq!(e2e["status"], "failed");
    assert_eq!(e2e["unparseable_files"], 1);
    let file = &e2e["artifacts"][0]["files"][0];
    assert!(file["reason"].as_str().unwrap().contains("compressed file or archive"), "{file}");
    assert_eq!(bundle_file(&step, &result, "reports/e2e/reports.jar/reports.jar"), inner_zip);

    // Not a zip, but served as one.
    let fake = FakeGitHub::start().await;
    fake.seed_artifact(&fake.run_backend_id, "pr-unit-report", b"<testsuites/> this is no zip").await;
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "2.0.0")
        .input("unit-reports", "pr-unit-report")
        .input("required-reports", "unit")
        .input("include-run-logs", "false");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 3, "{}\n{}", result.stdout, result.stderr);
    let text = result.everything();
    assert!(text.contains("artifact `pr-unit-report` (run ") && text.contains("is served as a zip archive (Content-Type application/zip, URL ending in .zip) but its bytes are not a zip archive"), "{text}");
    assert!(!text.contains("artifact `artifact"), "{text}");
}
