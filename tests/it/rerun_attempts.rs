//! Re-running until green is a rerun, not a pass (issue 18), through the binary.
//!
//! GitHub's "Re-run jobs" starts a new attempt of the run; the re-run job uploads its
//! report artifact again under the same name. The earlier attempt's job may still have
//! concluded `success` (`continue-on-error: true` on the test step) while its report
//! had failures. Both artifacts are read: a test that failed in the earlier attempt and
//! not in the newest is flaky across workflow attempts (so `fail-on-flaky: true` fails
//! the category), a test that fails in the newest fails, and the bundle keeps the
//! earlier attempt's reports under a folder naming the attempt, which `verify` recounts.

use release_audit_test_support::fake::{FakeJob, FakeStep};
use release_audit_test_support::step::{SHA, category};
use release_audit_test_support::{FakeGitHub, Step, StepResult, zip_bytes};

use crate::binary;

const RUN: u64 = 7171;

fn junit(passed: &[&str], failed: &[&str]) -> String {
    let mut cases = String::new();
    for name in passed {
        cases.push_str(&format!(r#"<testcase classname="e2e" name="{name}" time="0.5"/>"#));
    }
    for name in failed {
        cases.push_str(&format!(
            r#"<testcase classname="e2e" name="{name}" time="1.0"><failure message="boom">boom</failure></testcase>"#
        ));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><testsuites><testsuite name="e2e" tests="{t}" failures="{f}" errors="0">{cases}</testsuite></testsuites>"#,
        t = passed.len() + failed.len(),
        f = failed.len()
    )
}

/// A successful e2e job of `attempt` that tests, then uploads at minute `minute`.
fn attempt_job(fake: &FakeGitHub, id: u64, attempt: u32, minute: u32) {
    let at = |m: u32, s: u32| format!("2026-11-01T10:{m:02}:{s:02}Z");
    fake.add_job(
        RUN,
        FakeJob::completed(
            id,
            "e2e",
            "success",
            vec![
                // `continue-on-error: true`: a failing test step leaves the job green.
                FakeStep::completed("Run tests", "success", &at(minute - 5, 0), &at(minute, 0)),
                FakeStep::completed("Upload test results", "success", &at(minute, 0), &at(minute, 3)),
            ],
        ),
    );
    fake.set_job_attempt(id, attempt);
}

/// Run 7171 in its second attempt: attempt 1 uploaded `first`, the re-run (attempt 2)
/// uploaded `second`, both as `pr-e2e-report`, both jobs concluded success.
async fn rerun(first: &str, second: &str) -> FakeGitHub {
    let fake = FakeGitHub::start().await;
    let backend = fake.add_run(RUN, "integration.yml", SHA, "success");
    fake.state.lock().unwrap().runs.iter_mut().find(|r| r.id == RUN).unwrap().run_attempt = 2;
    attempt_job(&fake, 1, 1, 10);
    attempt_job(&fake, 2, 2, 40);
    for (report, created_at) in [(first, "2026-11-01T10:10:01.500Z"), (second, "2026-11-01T10:40:01.500Z")] {
        let id = fake.seed_artifact(&backend, "pr-e2e-report", &zip_bytes(&[("junit.xml", report.as_bytes())])).await;
        fake.set_artifact_created_at(id, created_at);
    }
    fake
}

async fn audit(fake: &FakeGitHub, fail_on_flaky: &str) -> (Step, StepResult) {
    let mut step = Step::with_fake(fake);
    step.input("release-version", "1.0.0")
        .input("upload", "false")
        .input("run-ids", &RUN.to_string())
        .input("e2e-reports", "pr-e2e-report")
        .input("required-reports", "e2e")
        .input("fail-on-flaky", fail_on_flaky);
    let result = step.run(&binary(), &[]).await;
    (step, result)
}

/// `verify` holds the bundle the audit wrote (it recounts the earlier attempt's files).
fn verifies(step: &Step, result: &StepResult) {
    let bundle = step.resolve(&result.outputs["bundle-path"]);
    let out = std::process::Command::new(binary()).arg("verify").arg(&bundle).output().unwrap();
    assert!(
        out.status.success(),
        "verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The summary with Markdown's escaped backticks read back as plain ones.
fn summary(result: &StepResult) -> String {
    result.summary.replace("\\`", "`")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_test_that_failed_in_an_earlier_attempt_and_passed_on_the_rerun_is_flaky() {
    let fake =
        rerun(&junit(&["TestTraces"], &["TestLogsArrive"]), &junit(&["TestTraces", "TestLogsArrive"], &[])).await;

    // fail-on-flaky: true — the rerun does not make the category green.
    let (step, result) = audit(&fake, "true").await;
    assert_eq!(result.code, 1, "{}\n{}", result.stdout, result.stderr);
    assert_eq!(result.outputs["verdict"], "failed");
    let m = step.bundle_manifest(&result);
    let e2e = category(&m, "e2e");
    assert_eq!(
        (e2e["status"].as_str(), e2e["totals"]["failed"].as_u64(), e2e["totals"]["flaky"].as_u64()),
        (Some("failed"), Some(0), Some(1)),
        "{e2e}"
    );
    let newest = &e2e["artifacts"][0];
    assert_eq!(e2e["artifacts"].as_array().unwrap().len(), 1, "one artifact of the name, with its earlier attempt");
    assert_eq!(newest["attempt"], 2, "{newest}");
    let earlier = &newest["earlier_attempts"][0];
    assert_eq!(earlier["attempt"], 1, "{earlier}");
    assert!(earlier["id"].as_i64().unwrap() < newest["id"].as_i64().unwrap());
    assert_eq!(earlier["digest"].as_str().unwrap(), format!("sha256:{}", earlier["sha256"].as_str().unwrap()));
    let path = earlier["files"][0]["path"].as_str().unwrap();
    assert_eq!(path, "reports/e2e/pr-e2e-report~attempt-1/junit.xml");
    assert_eq!(earlier["files"][0]["totals"]["failed"], 1);
    let reasons = m["verdict"]["reasons"].to_string();
    assert!(
        reasons
            .contains("1 flaky test(s) (fail-on-flaky): e2e › TestLogsArrive (failed in attempt 1, not in attempt 2)"),
        "{reasons}"
    );
    assert!(summary(&result).contains("Flaky across workflow attempts"), "{}", result.summary);
    verifies(&step, &result);

    // fail-on-flaky: false — green, and the summary says the test was flaky across attempts.
    let (step, result) = audit(&fake, "false").await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    let m = step.bundle_manifest(&result);
    let e2e = category(&m, "e2e");
    assert_eq!((e2e["status"].as_str(), e2e["totals"]["flaky"].as_u64()), (Some("passed"), Some(1)), "{e2e}");
    let said = summary(&result);
    assert!(said.contains("Flaky across workflow attempts"), "{said}");
    assert!(said.contains("`e2e › TestLogsArrive` — failed in attempt 1, not in attempt 2"), "{said}");
    verifies(&step, &result);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_test_that_passed_first_and_fails_in_the_newest_attempt_fails() {
    let fake =
        rerun(&junit(&["TestTraces", "TestLogsArrive"], &[]), &junit(&["TestTraces"], &["TestLogsArrive"])).await;
    let (step, result) = audit(&fake, "false").await;
    assert_eq!(result.code, 1, "{}\n{}", result.stdout, result.stderr);
    let m = step.bundle_manifest(&result);
    let e2e = category(&m, "e2e");
    assert_eq!(
        (e2e["status"].as_str(), e2e["totals"]["failed"].as_u64(), e2e["totals"]["flaky"].as_u64()),
        (Some("failed"), Some(1), None),
        "{e2e}"
    );
    assert_eq!(e2e["artifacts"][0]["earlier_attempts"][0]["attempt"], 1);
    assert!(!summary(&result).contains("Flaky across workflow attempts"), "{}", result.summary);
    verifies(&step, &result);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_single_attempt_is_judged_as_before() {
    let fake = FakeGitHub::start().await;
    let backend = fake.add_run(RUN, "integration.yml", SHA, "success");
    attempt_job(&fake, 1, 1, 10);
    let report = junit(&["TestTraces", "TestLogsArrive"], &[]);
    let id = fake.seed_artifact(&backend, "pr-e2e-report", &zip_bytes(&[("junit.xml", report.as_bytes())])).await;
    fake.set_artifact_created_at(id, "2026-11-01T10:10:01.500Z");
    let (step, result) = audit(&fake, "true").await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    let m = step.bundle_manifest(&result);
    let e2e = category(&m, "e2e");
    assert_eq!((e2e["status"].as_str(), e2e["totals"]["flaky"].as_u64()), (Some("passed"), None), "{e2e}");
    assert!(e2e["artifacts"][0].get("earlier_attempts").is_none(), "{e2e}");
    assert_eq!(e2e["artifacts"][0]["attempt"], 1);
    assert_eq!(e2e["artifacts"][0]["files"][0]["path"], "reports/e2e/pr-e2e-report/junit.xml");
    verifies(&step, &result);
}

/// In the current run (artifacts v4), where the artifact service lists every attempt's
/// artifacts and no job record says which attempt uploaded which: the earlier artifact
/// is named by its id, and still counts.
#[tokio::test(flavor = "multi_thread")]
async fn in_the_current_run_an_artifact_uploaded_again_is_read_as_an_earlier_attempt() {
    let fake = FakeGitHub::start().await;
    let current = fake.run_backend_id.clone();
    let first = fake
        .seed_artifact(
            &current,
            "pr-e2e-report",
            &zip_bytes(&[("junit.xml", junit(&["TestA"], &["TestB"]).as_bytes())]),
        )
        .await;
    fake.seed_artifact(
        &current,
        "pr-e2e-report",
        &zip_bytes(&[("junit.xml", junit(&["TestA", "TestB"], &[]).as_bytes())]),
    )
    .await;
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.0.0")
        .input("upload", "false")
        .input("e2e-reports", "pr-e2e-report")
        .input("required-reports", "e2e")
        .input("fail-on-flaky", "true");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stdout, result.stderr);
    let m = step.bundle_manifest(&result);
    let e2e = category(&m, "e2e");
    assert_eq!((e2e["status"].as_str(), e2e["totals"]["flaky"].as_u64()), (Some("failed"), Some(1)), "{e2e}");
    let reasons = m["verdict"]["reasons"].to_string();
    assert!(reasons.contains(&format!("e2e › TestB (failed in the artifact with id {first}")), "{reasons}");
    verifies(&step, &result);
}
