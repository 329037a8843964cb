//! `fail-on-flaky` through the binary, with a real pytest-rerunfailures run
//! (tests/fixtures/reports/pytest-rerun-green/: two tests failed first and passed on the
//! rerun). Off by default: the release passes and names the flakes. On: the category
//! fails and the reason names the flaky tests.

use std::path::PathBuf;

use release_audit_test_support::{FakeGitHub, Step, StepResult, zip_bytes};

use crate::binary;

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports").join(rel)).unwrap()
}

fn manifest(step: &Step, result: &StepResult) -> serde_json::Value {
    step.bundle_manifest(result)
}

async fn audit(fake: &FakeGitHub, fail_on_flaky: Option<&str>) -> (Step, StepResult) {
    let mut step = Step::with_fake(fake);
    step.input("release-version", "1.2.3")
        .input("unit-reports", "pr-unit-report")
        .input("required-reports", "unit")
        .input("include-run-logs", "false")
        .input("overwrite", "true");
    if let Some(v) = fail_on_flaky {
        step.input("fail-on-flaky", v);
    }
    let result = step.run(&binary(), &[]).await;
    (step, result)
}

#[tokio::test(flavor = "multi_thread")]
async fn flaky_tests_pass_by_default_and_fail_the_gate_with_fail_on_flaky() {
    let fake = FakeGitHub::start().await;
    fake.seed_artifact(
        &fake.run_backend_id,
        "pr-unit-report",
        &zip_bytes(&[("junit.xml", &fixture("pytest-rerun-green/report.xml"))]),
    )
    .await;

    let (step, result) = audit(&fake, None).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    let m = manifest(&step, &result);
    let unit = &m["evidence"]["tests"]["categories"][0];
    assert_eq!((unit["status"].as_str(), unit["totals"]["flaky"].as_u64()), (Some("passed"), Some(2)));
    assert!(m["evidence"]["tests"].get("fail_on_flaky").is_none(), "the default leaves the manifest as before");

    let (step, result) = audit(&fake, Some("true")).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stdout, result.stderr);
    assert_eq!(result.outputs["verdict"], "failed");
    let m = manifest(&step, &result);
    assert_eq!(m["evidence"]["tests"]["fail_on_flaky"], true);
    let unit = &m["evidence"]["tests"]["categories"][0];
    assert_eq!(
        (unit["status"].as_str(), unit["totals"]["failed"].as_u64(), unit["totals"]["flaky"].as_u64()),
        (Some("failed"), Some(0), Some(2))
    );
    let reason = "Unit tests: 2 flaky test(s) (fail-on-flaky): pytest › test_green.test_flaky_network, pytest › test_green.test_flaky_timing";
    assert!(result.summary.contains(reason), "{}", result.summary);

    // The bundle written under fail-on-flaky verifies: verify judges with the recorded setting.
    let verify = tokio::process::Command::new(binary())
        .arg("verify")
        .arg(step.resolve(&result.outputs["bundle-path"]))
        .output()
        .await
        .unwrap();
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );

    let (_, result) = audit(&fake, Some("maybe")).await;
    assert_eq!(result.code, 2, "{}", result.stderr);
    assert!(result.stderr.contains("fail-on-flaky"), "{}", result.stderr);
}
