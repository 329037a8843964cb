//! No false pass from collection, through the real binary: a report file that cannot be
//! recognised or parsed fails its category (a broken root element, JSON that is no
//! report, a long preamble before `go test -json` events), and a report uploaded by a
//! job that failed, was cancelled or had not finished cannot make its category green.

use release_audit_test_support::fake::{FakeJob, FakeStep};
use release_audit_test_support::step::{RUN_ID, SHA, category};
use release_audit_test_support::{FakeGitHub, Step, StepResult, zip_bytes};

use crate::binary;

fn junit(suite: &str, passed: usize, failed: &[&str]) -> String {
    let mut cases = String::new();
    for i in 0..passed {
        cases.push_str(&format!(r#"<testcase classname="{suite}" name="TestOk{i}" time="0.5"/>"#));
    }
    for name in failed {
        cases.push_str(&format!(
            r#"<testcase classname="{suite}" name="{name}" time="1.0"><failure message="boom">boom</failure></testcase>"#
        ));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><testsuites><testsuite name="{suite}" tests="{t}" failures="{f}" errors="0">{cases}</testsuite></testsuites>"#,
        t = passed + failed.len(),
        f = failed.len()
    )
}

/// The job summary with Markdown's escaped backticks read back as plain ones.
fn summary(result: &StepResult) -> String {
    result.summary.replace("\\`", "`")
}

async fn audit(fake: &FakeGitHub, inputs: &[(&str, &str)]) -> (Step, StepResult) {
    let mut step = Step::with_fake(fake);
    step.input("release-version", "1.0.0").input("upload", "false");
    for (name, value) in inputs {
        step.input(name, value);
    }
    let result = step.run(&binary(), &[]).await;
    (step, result)
}

fn file_status<'a>(category: &'a serde_json::Value, suffix: &str) -> &'a serde_json::Value {
    category["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["files"].as_array().unwrap())
        .find(|f| f["path"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("no file {suffix} in {category}"))
}

/// The failing `junit.xml` with its root element broken is no longer "not a report":
/// it is unparseable and fails the category, while a log and a screenshot beside the
/// reports stay other content and a passing report stays counted.
#[tokio::test(flavor = "multi_thread")]
async fn a_report_with_a_broken_root_or_json_that_is_no_report_fails_its_category() {
    let fake = FakeGitHub::start().await;
    let current = fake.run_backend_id.clone();
    let broken = junit("e2e", 1, &["TestLogsArrive"])
        .replace("<testsuites>", "<testsuitez>")
        .replace("</testsuites>", "</testsuitez>");
    let zip = zip_bytes(&[
        ("junit-report-e2e-logs.xml", junit("e2e", 4, &[]).as_bytes()),
        ("junit-report-e2e-traces.xml", broken.as_bytes()),
        ("junit-report-e2e-metrics.xml", format!("gotestsum: done\n{}", junit("e2e", 0, &["TestMetrics"])).as_bytes()),
        ("e2e.log", b"2026-12-01T10:00:00Z starting k3d\n2026-12-01T10:00:05Z ready\n"),
        ("screenshot.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
    ]);
    fake.seed_artifact(&current, "pr-e2e-report", &zip).await;
    // A JSON test report of a format not read (Playwright's) is not "other content".
    let playwright = br#"{"config": {}, "suites": [{"title": "login", "specs": [{"title": "fails", "ok": false}]}], "stats": {"expected": 0, "unexpected": 1}}"#;
    fake.seed_artifact(
        &current,
        "pr-upgrade-report",
        &zip_bytes(&[("junit.xml", junit("upgrade", 2, &[]).as_bytes()), ("results.json", playwright)]),
    )
    .await;

    let (step, result) = audit(
        &fake,
        &[
            ("e2e-reports", "pr-e2e-report"),
            ("upgrade-reports", "pr-upgrade-report"),
            ("required-reports", "e2e,upgrade"),
        ],
    )
    .await;
    assert_eq!(result.code, 1, "{}\n{}", result.stdout, result.stderr);
    assert_eq!(result.outputs["verdict"], "failed");
    let m = step.bundle_manifest(&result);
    let e2e = category(&m, "e2e");
    assert_eq!((e2e["status"].as_str(), e2e["unparseable_files"].as_u64()), (Some("failed"), Some(2)), "{e2e}");
    assert_eq!(e2e["totals"]["tests"], 4);
    let traces = file_status(e2e, "junit-report-e2e-traces.xml");
    assert_eq!(traces["status"], "unparseable", "{traces}");
    assert!(traces["reason"].as_str().unwrap().contains("must be a JUnit report"), "{traces}");
    let prefixed = file_status(e2e, "junit-report-e2e-metrics.xml");
    assert_eq!(prefixed["status"], "unparseable", "{prefixed}");
    assert_eq!(file_status(e2e, "e2e.log")["status"], "not_a_report");
    assert_eq!(file_status(e2e, "screenshot.png")["status"], "not_a_report");
    let upgrade = category(&m, "upgrade");
    assert_eq!(upgrade["status"], "failed", "{upgrade}");
    assert_eq!(file_status(upgrade, "results.json")["status"], "unparseable");
    assert!(result.summary.contains("E2E tests: 2 report file(s) could not be parsed"), "{}", result.summary);
    assert!(result.summary.contains("Upgrade tests: 1 report file(s) could not be parsed"), "{}", result.summary);
}

/// `go test -json 2>&1` behind more tool output than the first 64 KiB is still read:
/// its failed test fails the category instead of the file being dropped as a log.
#[tokio::test(flavor = "multi_thread")]
async fn go_test_json_behind_a_long_preamble_is_read_and_its_failure_counts() {
    let fake = FakeGitHub::start().await;
    let current = fake.run_backend_id.clone();
    let mut stream = Vec::new();
    while stream.len() < 200 * 1024 {
        stream.extend_from_slice(
            b"go: downloading github.com/kyma-project/telemetry-manager/internal v0.0.0 (preamble)\n",
        );
    }
    for line in [
        r#"{"Time":"2026-12-01T10:00:00Z","Action":"start","Package":"example.com/p"}"#,
        r#"{"Time":"2026-12-01T10:00:00Z","Action":"run","Package":"example.com/p","Test":"TestPipelineReady"}"#,
        r#"{"Time":"2026-12-01T10:00:01Z","Action":"output","Package":"example.com/p","Test":"TestPipelineReady","Output":"pipeline never became ready\n"}"#,
        r#"{"Time":"2026-12-01T10:00:01Z","Action":"fail","Package":"example.com/p","Test":"TestPipelineReady","Elapsed":1}"#,
        r#"{"Time":"2026-12-01T10:00:01Z","Action":"fail","Package":"example.com/p","Elapsed":1}"#,
    ] {
        stream.extend_from_slice(line.as_bytes());
        stream.push(b'\n');
    }
    let zip = zip_bytes(&[("junit.xml", junit("unit", 3, &[]).as_bytes()), ("go-test.out", &stream)]);
    fake.seed_artifact(&current, "pr-unit-report", &zip).await;
    let (step, result) = audit(&fake, &[("unit-reports", "pr-unit-report"), ("required-reports", "unit")]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stdout, result.stderr);
    let m = step.bundle_manifest(&result);
    let unit = category(&m, "unit");
    assert_eq!(file_status(unit, "go-test.out")["format"], "go-test-json", "{unit}");
    assert_eq!((unit["totals"]["tests"].as_u64(), unit["totals"]["failed"].as_u64()), (Some(4), Some(1)), "{unit}");
    assert!(result.summary.contains("TestPipelineReady"), "{}", result.summary);
}

/// A job that tests from `start`, uploads in `[upload_from, upload_to]`, then
/// deprovisions for a minute, which step decides its conclusion.
fn upload_job(id: u64, name: &str, conclusion: &str, start: &str, upload_from: &str, upload_to: &str) -> FakeJob {
    let end = chrono::DateTime::parse_from_rfc3339(upload_to).unwrap() + chrono::Duration::minutes(1);
    let end = end.to_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    FakeJob::completed(
        id,
        name,
        conclusion,
        vec![
            FakeStep::completed("Run tests", "success", start, upload_from),
            FakeStep::completed("Upload test results", "success", upload_from, upload_to),
            FakeStep::completed("Deprovision", conclusion, upload_to, &end),
        ],
    )
}

/// Reports of another run, each tied by its `created_at` to the job that was running
/// (the jobs run one after another here, as with `needs:`): the failed job's and the
/// cancelled job's passing reports do not make their categories green, the successful
/// job's does, and the summary names the jobs.
#[tokio::test(flavor = "multi_thread")]
async fn a_report_from_a_failed_or_cancelled_job_cannot_pass_and_the_job_is_named() {
    let fake = FakeGitHub::start().await;
    let run_id = 7070;
    let backend = fake.add_run(run_id, "integration.yml", SHA, "failure");
    let job = |id, name, conclusion, start, from, to| upload_job(id, name, conclusion, start, from, to);
    fake.add_job(
        run_id,
        job(1, "e2e (logs)", "success", "2026-11-01T10:00:00Z", "2026-11-01T10:05:00Z", "2026-11-01T10:05:03Z"),
    );
    fake.add_job(
        run_id,
        job(2, "gardener (1.34)", "failure", "2026-11-01T10:10:00Z", "2026-11-01T10:20:00Z", "2026-11-01T10:20:02Z"),
    );
    fake.add_job(
        run_id,
        job(3, "upgrade", "cancelled", "2026-11-01T10:25:00Z", "2026-11-01T10:30:00Z", "2026-11-01T10:30:04Z"),
    );
    for (name, suite, created_at) in [
        ("pr-e2e-logs-report", "e2e", "2026-11-01T10:05:01.250Z"),
        ("gardener-1.34-report", "gardener", "2026-11-01T10:20:01.000Z"),
        ("pr-e2e-upgrade-report", "upgrade", "2026-11-01T10:30:02.900Z"),
    ] {
        let id =
            fake.seed_artifact(&backend, name, &zip_bytes(&[("junit.xml", junit(suite, 3, &[]).as_bytes())])).await;
        fake.set_artifact_created_at(id, created_at);
    }
    let inputs = [
        ("run-ids", "7070"),
        ("e2e-reports", "pr-e2e-logs-report"),
        ("gardener-reports", "gardener-*-report"),
        ("upgrade-reports", "pr-e2e-upgrade-report"),
        ("required-reports", "e2e,gardener,upgrade"),
    ];
    let (step, result) = audit(&fake, &inputs).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stdout, result.stderr);
    let m = step.bundle_manifest(&result);
    let e2e = category(&m, "e2e");
    assert_eq!(e2e["status"], "passed", "{e2e}");
    assert_eq!(e2e["artifacts"][0]["job"]["kind"], "single");
    assert_eq!(e2e["artifacts"][0]["job"]["jobs"][0]["id"], 1);
    assert_eq!(e2e["artifacts"][0]["created_at"], "2026-11-01T10:05:01.250Z");
    let gardener = category(&m, "gardener");
    assert_eq!((gardener["status"].as_str(), gardener["totals"]["failed"].as_u64()), (Some("failed"), Some(0)));
    assert_eq!(gardener["artifacts"][0]["job"]["jobs"][0]["conclusion"], "failure");
    assert_eq!(category(&m, "upgrade")["status"], "failed");
    for said in [
        "Gardener tests: the reports of artifact `gardener-1.34-report` do not count: uploaded by job `gardener (1.34)` (id 2) concluded failure",
        "Upgrade tests: the reports of artifact `pr-e2e-upgrade-report` do not count: uploaded by job `upgrade` (id 3) concluded cancelled",
    ] {
        assert!(summary(&result).contains(said), "{said}\n{}", result.summary);
    }
    assert!(
        result
            .stdout
            .contains("::warning title=Gardener reports::the reports of artifact `gardener-1.34-report` do not count"),
        "{}",
        result.stdout
    );
}

/// The current run (artifacts v4): a report uploaded by another job of this run that is
/// still running, or by none at all, does not count; one from a finished successful job
/// does — and one uploaded while a job that had not finished was running beside it
/// (ambiguous) stands as badly as that job.
#[tokio::test(flavor = "multi_thread")]
async fn in_the_current_run_an_unfinished_or_unknown_uploader_holds_the_report_back() {
    let fake = FakeGitHub::start().await;
    let current = fake.run_backend_id.clone();
    fake.add_job(
        RUN_ID,
        upload_job(11, "unit", "success", "2026-11-01T09:50:00Z", "2026-11-01T09:55:00Z", "2026-11-01T09:55:03Z"),
    );
    fake.add_job(
        RUN_ID,
        FakeJob {
            id: 12,
            name: "e2e (traces)".into(),
            status: "in_progress".into(),
            conclusion: None,
            started_at: "2026-11-01T09:56:00Z".into(),
            completed_at: None,
            steps: vec![
                FakeStep::completed("Run tests", "success", "2026-11-01T09:56:00Z", "2026-11-01T10:09:00Z"),
                FakeStep::completed("Upload test results", "success", "2026-11-01T10:09:00Z", "2026-11-01T10:09:02Z"),
            ],
        },
    );
    for (name, created_at) in [
        ("pr-unit-report", "2026-11-01T09:55:02.000Z"),
        // While the unit job deprovisioned and the e2e job had started.
        ("pr-e2e-beside-report", "2026-11-01T09:56:01.000Z"),
        ("pr-e2e-traces-report", "2026-11-01T10:09:01.000Z"),
        ("pr-e2e-orphan-report", "2026-11-01T12:00:00.000Z"),
    ] {
        let id = fake.seed_artifact(&current, name, &zip_bytes(&[("junit.xml", junit("s", 2, &[]).as_bytes())])).await;
        fake.set_artifact_created_at(id, created_at);
    }
    let inputs = [
        ("unit-reports", "pr-unit-report"),
        ("e2e-reports", "pr-e2e-traces-report\npr-e2e-beside-report"),
        ("upgrade-reports", "pr-e2e-orphan-report"),
        ("required-reports", "unit,e2e,upgrade"),
    ];
    let (step, result) = audit(&fake, &inputs).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stdout, result.stderr);
    let m = step.bundle_manifest(&result);
    assert_eq!(category(&m, "unit")["status"], "passed");
    assert_eq!(category(&m, "e2e")["status"], "failed");
    assert_eq!(category(&m, "upgrade")["status"], "failed");
    assert!(
        summary(&result).contains("uploaded by job `e2e (traces)` (id 12) had not completed (in_progress)"),
        "{}",
        result.summary
    );
    assert!(result.summary.contains("no job of its run was running when it was uploaded"), "{}", result.summary);
    let e2e = category(&m, "e2e");
    let beside = e2e["artifacts"].as_array().unwrap().iter().find(|a| a["name"] == "pr-e2e-beside-report").unwrap();
    assert_eq!((beside["job"]["kind"].as_str(), beside["job"]["candidates"].as_u64()), (Some("ambiguous"), Some(2)));
    assert!(
        summary(&result).contains("the reports of artifact `pr-e2e-beside-report` do not count"),
        "{}",
        result.summary
    );
}

/// A matrix leg that failed before writing any report uploads no artifact
/// (`upload-artifact` with no files creates none), so the category's wildcard matches
/// only the passing legs. The failed job itself fails the gate, named (a red-team
/// finding), and `verify` reads the failed jobs again from the bundle's jobs list.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_matrix_leg_that_uploaded_nothing_fails_the_gate_and_is_named() {
    let fake = FakeGitHub::start().await;
    let run_id = 7070;
    let backend = fake.add_run(run_id, "integration.yml", SHA, "failure");
    let step = |name: &str, conclusion: &str, from: &str, to: &str| FakeStep::completed(name, conclusion, from, to);
    fake.add_job(
        run_id,
        FakeJob::completed(
            1,
            "e2e (logs)",
            "success",
            vec![
                step("Run tests", "success", "2026-11-01T10:00:00Z", "2026-11-01T10:05:00Z"),
                step("Upload test results", "success", "2026-11-01T10:05:00Z", "2026-11-01T10:05:03Z"),
            ],
        ),
    );
    fake.add_job(
        run_id,
        FakeJob::completed(
            2,
            "e2e (metrics)",
            "failure",
            vec![
                step("Deploy manager", "failure", "2026-11-01T10:00:00Z", "2026-11-01T10:02:00Z"),
                step("Run tests", "skipped", "2026-11-01T10:02:00Z", "2026-11-01T10:02:00Z"),
                step("Upload test results", "success", "2026-11-01T10:02:00Z", "2026-11-01T10:02:01Z"),
            ],
        ),
    );
    let junit = r#"<testsuites><testsuite name="e2e" tests="3"><testcase name="a"/><testcase name="b"/><testcase name="c"/></testsuite></testsuites>"#;
    let id = fake.seed_artifact(&backend, "pr-e2e-logs-report", &zip_bytes(&[("junit.xml", junit.as_bytes())])).await;
    fake.set_artifact_created_at(id, "2026-11-01T10:05:01.250Z");
    let mut audit = Step::with_fake(&fake);
    audit
        .input("release-version", "1.0.0")
        .input("upload", "false")
        .input("run-ids", "7070")
        .input("e2e-reports", "pr-e2e-*-report")
        .input("required-reports", "e2e");
    let result = audit.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stderr, result.summary);
    let m = audit.bundle_manifest(&result);
    let reasons = m["verdict"]["reasons"].to_string();
    assert!(reasons.contains("job `e2e (metrics)` (id 2) of run 7070 concluded failure"), "{reasons}");
    assert_eq!(m["evidence"]["tests"]["sources"][0]["failed_jobs"][0]["name"], "e2e (metrics)");
    assert!(result.summary.contains("e2e (metrics)"), "the summary names the failed job:\n{}", result.summary);

    // The bundle verifies: verify reads the failed jobs again from run/7070/jobs.json
    // (a failed job removed from the manifest would disagree with that file).
    let bundle = audit.resolve(&result.outputs["bundle-path"]);
    let ok = std::process::Command::new(binary()).arg("verify").arg(&bundle).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stdout));
}

/// An audit started by `workflow_run` (when the release or test workflow finished)
/// reads the triggering run's report artifacts without `run-ids`: the event payload
/// names the run. A red report there fails the audit as it would in the run itself.
#[tokio::test(flavor = "multi_thread")]
async fn a_workflow_run_audit_reads_the_triggering_run_without_run_ids() {
    let fake = FakeGitHub::start().await;
    let run_id = 8080;
    let backend = fake.add_run(run_id, "create-release.yml", SHA, "success");
    fake.seed_artifact(
        &backend,
        "pr-e2e-logs-report",
        &zip_bytes(&[("junit.xml", junit("e2e", 2, &["TestBroken"]).as_bytes())]),
    )
    .await;
    let event = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(event.path(), format!(r#"{{"action":"completed","workflow_run":{{"id":{run_id},"head_sha":"{SHA}","event":"workflow_dispatch"}}}}"#))
        .unwrap();
    let mut audit = Step::with_fake(&fake);
    audit
        .input("release-version", "1.0.0")
        .input("upload", "false")
        .input("e2e-reports", "pr-e2e-*-report")
        .input("required-reports", "e2e")
        .set("GITHUB_EVENT_NAME", "workflow_run")
        .set("GITHUB_EVENT_PATH", event.path().to_str().unwrap());
    let result = audit.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stderr, result.summary);
    let m = audit.bundle_manifest(&result);
    assert_eq!(m["evidence"]["tests"]["sources"][0]["run_id"], run_id, "{}", m["evidence"]["tests"]["sources"]);
    let e2e = category(&m, "e2e");
    assert_eq!((e2e["status"].as_str(), e2e["totals"]["failed"].as_u64()), (Some("failed"), Some(1)), "{e2e}");
}
