//! Test evidence end to end: report artifacts from the current run (uploaded by the
//! official client) and from other runs (REST), through the real binary.

use std::path::{Path, PathBuf};

use release_audit_test_support::step::{RUN_ID, SHA};
use release_audit_test_support::{FakeGitHub, Step, StepResult, official, zip_bytes};

use crate::binary;

fn junit(suite: &str, passed: usize, failed: &[(&str, &str)]) -> String {
    let mut cases = String::new();
    for i in 0..passed {
        cases.push_str(&format!(r#"<testcase classname="{suite}" name="TestOk{i}" time="0.5"/>"#));
    }
    for (name, message) in failed {
        cases.push_str(&format!(r#"<testcase classname="{suite}" name="{name}" time="1.0"><failure message="{message}" type="">{message}&#xA;at main_test.go:42</failure></testcase>"#));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><testsuites tests="{t}" failures="{f}"><testsuite name="{suite}" tests="{t}" failures="{f}" errors="0" time="3.0">{cases}</testsuite></testsuites>"#,
        t = passed + failed.len(),
        f = failed.len()
    )
}

/// Uploads one report file as an artifact of the current run, with the official client.
async fn upload_report(fake: &FakeGitHub, artifact: &str, file: &str, content: &str) -> i64 {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    official::upload(fake, artifact, root.path(), &[file]).await["id"].as_i64().unwrap()
}

fn bundle_file(step: &Step, result: &StepResult, rel: &str) -> Vec<u8> {
    step.bundle_file(result, rel)
}

fn manifest(step: &Step, result: &StepResult) -> serde_json::Value {
    step.bundle_manifest(result)
}

use release_audit_test_support::step::category;

#[tokio::test(flavor = "multi_thread")]
async fn reports_of_the_current_run_are_collected_parsed_and_kept() {
    let fake = FakeGitHub::start().await;
    let unit = junit("github.com/kyma-project/telemetry-manager/internal/reconciler", 5, &[]);
    upload_report(&fake, "pr-unit-report", "junit-report.xml", &unit).await;
    upload_report(&fake, "pr-e2e-metrics-c-report", "e2e/junit.xml", &junit("metrics", 3, &[])).await;
    upload_report(&fake, "pr-e2e-traces-report", "junit.xml", &junit("traces", 2, &[])).await;
    upload_report(&fake, "unrelated-coverage", "cover.out", "mode: set\n").await;

    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.2.3")
        .input("unit-reports", "pr-unit-report")
        .input("e2e-reports", "pr-e2e-*-report");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    assert_eq!(result.outputs["verdict"], "passed");

    // The original report bytes are in the bundle, untouched.
    assert_eq!(bundle_file(&step, &result, "reports/unit/pr-unit-report/junit-report.xml"), unit.as_bytes());
    let m = manifest(&step, &result);
    let unit_cat = category(&m, "unit");
    assert_eq!(unit_cat["status"], "passed");
    assert_eq!(unit_cat["totals"]["tests"], 5);
    assert_eq!(unit_cat["totals"]["passed"], 5);
    let e2e = category(&m, "e2e");
    assert_eq!(e2e["totals"]["tests"], 5);
    let names: Vec<&str> = e2e["artifacts"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["pr-e2e-metrics-c-report", "pr-e2e-traces-report"]);
    let artifact = &unit_cat["artifacts"][0];
    assert_eq!(artifact["digest"], format!("sha256:{}", artifact["sha256"].as_str().unwrap()));
    assert_eq!(artifact["files"][0]["format"], "junit");
    assert_eq!(artifact["run_id"], RUN_ID);

    // One statement per category, about this commit.
    let statement: serde_json::Value =
        serde_json::from_slice(&bundle_file(&step, &result, "statements/unit.intoto.json")).unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["predicateType"], "https://in-toto.io/attestation/test-result/v0.1");
    assert_eq!(statement["predicate"]["result"], "PASSED");
    assert_eq!(statement["subject"][0]["digest"]["gitCommit"], SHA);
    assert_eq!(statement["predicate"]["configuration"][0]["digest"]["sha256"], artifact["sha256"]);
    let paths: Vec<&str> = result.outputs["statement-paths"].lines().collect();
    assert_eq!(paths.len(), 3, "unit, e2e and the VSA: {paths:?}");
    assert!(paths[2].ends_with("statements/vsa.intoto.json"), "{paths:?}");
    assert!(paths.iter().all(|p| step.resolve(p).exists()), "{paths:?}");

    // The current run's own evidence: run.json and every job (logs only after it ends).
    let jobs: serde_json::Value =
        serde_json::from_slice(&bundle_file(&step, &result, &format!("run/{RUN_ID}/jobs.json"))).unwrap();
    assert_eq!(jobs.as_array().unwrap().len(), 3);

    // The summary shows a row per category.
    assert!(result.summary.contains("| ✅ | Unit (required) | 5 | 5 | 0 | 0 | 0 |"), "{}", result.summary);
    assert!(result.summary.contains("| ✅ | E2E (required) | 5 | 5 |"), "{}", result.summary);
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_tests_fail_the_release_and_are_named() {
    let fake = FakeGitHub::start().await;
    upload_report(&fake, "pr-unit-report", "junit.xml", &junit("unit", 4, &[])).await;
    upload_report(
        &fake,
        "pr-e2e-upgrade-report",
        "junit.xml",
        &junit("upgrade", 1, &[("TestUpgradeKeepsPipelines", "pipelines lost after upgrade")]),
    )
    .await;
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.2.3")
        .input("unit-reports", "pr-unit-report")
        .input("e2e-reports", "pr-e2e-*-report");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert_eq!(result.outputs["verdict"], "failed");
    assert!(result.summary.starts_with("## ❌ Release audit failed"), "{}", result.summary);
    assert!(result.summary.contains("E2E tests: 1 failed"), "{}", result.summary);
    assert!(result.summary.contains("TestUpgradeKeepsPipelines"), "{}", result.summary);
    assert!(result.summary.contains("pipelines lost after upgrade"), "{}", result.summary);
    assert!(
        result
            .stdout
            .contains("::error title=E2E%3A upgrade › TestUpgradeKeepsPipelines::pipelines lost after upgrade"),
        "{}",
        result.stdout
    );
    let m = manifest(&step, &result);
    assert_eq!(category(&m, "e2e")["status"], "failed");
    let statement: serde_json::Value =
        serde_json::from_slice(&bundle_file(&step, &result, "statements/e2e.intoto.json")).unwrap();
    assert_eq!(statement["predicate"]["result"], "FAILED");
    assert_eq!(statement["predicate"]["failedTests"][0], "upgrade › TestUpgradeKeepsPipelines");

    // With fail-on-test-failures: false the same evidence is recorded but does not fail.
    step.input("fail-on-test-failures", "false").input("overwrite", "true");
    let lenient = step.run(&binary(), &[]).await;
    assert_eq!(lenient.code, 0, "{}", lenient.stderr);
    // …and every page says, beside the passing verdict, that the gate was off.
    let said = "failed tests do not fail the audit (`fail-on-test-failures: false`)";
    assert!(
        lenient.summary.contains("Gates turned off for this audit") && lenient.summary.contains(said),
        "{}",
        lenient.summary
    );
    let page = String::from_utf8(bundle_file(&step, &lenient, "report.html")).unwrap();
    assert!(
        page.contains("Gates turned off for this audit") && page.contains("fail-on-test-failures: false"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_required_category_that_matches_nothing_fails_and_lists_what_exists() {
    let fake = FakeGitHub::start().await;
    upload_report(&fake, "pr-unit-report", "junit.xml", &junit("unit", 1, &[])).await;
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.0.0")
        .input("unit-reports", "pr-unit-report")
        .input("e2e-reports", "pr-e2e-*-report");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 1);
    assert!(result.summary.contains("E2E tests: no report artifact matched pr-e2e-*-report"), "{}", result.summary);
    assert!(
        result
            .stdout
            .contains("::warning title=E2E reports::`pr-e2e-*-report` matched no artifact (available: pr-unit-report)"),
        "{}",
        result.stdout
    );
    // Not required → recorded, not failing.
    step.input("required-reports", "unit").input("overwrite", "true");
    assert_eq!(step.run(&binary(), &[]).await.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_of_other_runs_come_through_rest_with_their_run_evidence() {
    let fake = FakeGitHub::start().await;
    let backend = fake.add_run(4242, "gardener.yml", SHA, "success");
    fake.set_jobs(4242, 130);
    let report = junit("gardener", 7, &[]);
    let zip = zip_bytes(&[("reports/junit.xml", report.as_bytes())]);
    fake.seed_artifact(&backend, "gardener-e2e-1.34-report", &zip).await;
    let logs = zip_bytes(&[("1_build.txt", b"2026-11-26T10:00:00Z all good\n")]);
    fake.seed_logs(4242, &logs).await;

    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.0.0")
        .input("run-ids", "4242")
        .input("gardener-reports", "gardener-e2e-*-report")
        .input("required-reports", "gardener")
        .input("upload", "false");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(
        bundle_file(&step, &result, "reports/gardener/gardener-e2e-1.34-report/reports/junit.xml"),
        report.as_bytes()
    );
    assert_eq!(bundle_file(&step, &result, "run/4242/logs.zip"), logs);
    let jobs: serde_json::Value = serde_json::from_slice(&bundle_file(&step, &result, "run/4242/jobs.json")).unwrap();
    assert_eq!(jobs.as_array().unwrap().len(), 130, "every page of jobs");
    let m = manifest(&step, &result);
    assert_eq!(category(&m, "gardener")["totals"]["tests"], 7);
    assert_eq!(m["evidence"]["tests"]["sources"][0]["run_id"], 4242);

    // Paginated with per_page=100; the token went to the API on every call.
    let state = fake.state.lock().unwrap();
    let listing: Vec<_> = state.calls.iter().filter(|(m, _)| m == "GET run artifacts").collect();
    assert_eq!(listing[0].1["per_page"], 100);
    let jobs_calls: Vec<_> = state.calls.iter().filter(|(m, _)| m == "GET run jobs").collect();
    assert_eq!(jobs_calls.len(), 2);
    assert!(state.rest_auth.iter().all(|a| a.as_deref() == Some(format!("Bearer {}", fake.rest_token).as_str())));
    drop(state);
    assert!(!result.everything().contains(&fake.rest_token));
}

#[tokio::test(flavor = "multi_thread")]
async fn workflows_select_the_newest_completed_run_for_the_commit() {
    let fake = FakeGitHub::start().await;
    let old = fake.add_run(500, "e2e.yml", SHA, "failure");
    let new = fake.add_run(501, "e2e.yml", SHA, "success");
    let other = fake.add_run(502, "e2e.yml", "0000000000000000000000000000000000000000", "success");
    fake.seed_artifact(
        &old,
        "pr-e2e-report",
        &zip_bytes(&[("junit.xml", junit("e2e", 1, &[("TestOld", "old")]).as_bytes())]),
    )
    .await;
    fake.seed_artifact(&new, "pr-e2e-report", &zip_bytes(&[("junit.xml", junit("e2e", 9, &[]).as_bytes())])).await;
    fake.seed_artifact(&other, "pr-e2e-report", &zip_bytes(&[("junit.xml", junit("e2e", 1, &[]).as_bytes())])).await;
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.0.0")
        .input("workflows", "e2e.yml")
        .input("e2e-reports", "pr-e2e-report")
        .input("required-reports", "e2e")
        .input("include-run-logs", "false")
        .input("upload", "false");
    let result = step.run(&binary(), &[]).await;
    // run-ids is unset, so the current run is searched too; the workflow adds run 501.
    assert_eq!(result.code, 0, "{}", result.stderr);
    let m = manifest(&step, &result);
    let e2e = category(&m, "e2e");
    assert_eq!(e2e["totals"]["tests"], 9);
    assert_eq!(e2e["artifacts"][0]["run_id"], 501);
    assert_eq!(m["evidence"]["tests"]["sources"][1]["selected_by"], "workflow:e2e.yml");
}

fn walk_for(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for e in entries.flatten() {
        let p = e.path();
        if p.file_name().is_some_and(|n| n == name) {
            found.push(p.clone());
        }
        if p.is_dir() && !p.is_symlink() && p.components().count() < 12 {
            found.extend(walk_for(&p, name));
        }
    }
    found
}

async fn failing_collection(fake: &FakeGitHub, run_ids: &str) -> (Step, StepResult) {
    let mut step = Step::with_fake(fake);
    step.input("release-version", "1.0.0")
        .input("run-ids", run_ids)
        .input("e2e-reports", "pr-e2e-report")
        .input("required-reports", "e2e")
        .input("upload", "false");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 3, "{}\n{}", result.stdout, result.stderr);
    assert!(result.stderr.contains("\nhint: "), "{}", result.stderr);
    assert!(!result.everything().contains(&fake.rest_token));
    (step, result)
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_sources_give_clear_errors() {
    let fake = FakeGitHub::start().await;
    let backend = fake.add_run(600, "e2e.yml", SHA, "success");
    let id = fake
        .seed_artifact(&backend, "pr-e2e-report", &zip_bytes(&[("junit.xml", junit("e2e", 1, &[]).as_bytes())]))
        .await;

    let (_, unknown) = failing_collection(&fake, "999").await;
    assert!(unknown.stderr.contains("workflow run 999: HTTP 404"), "{}", unknown.stderr);

    fake.state.lock().unwrap().artifacts.iter_mut().find(|a| a.database_id == id).unwrap().digest =
        Some(format!("sha256:{}", "0".repeat(64)));
    let (_, tampered) = failing_collection(&fake, "600").await;
    assert!(
        tampered.stderr.contains("artifact `pr-e2e-report` (run 600): the downloaded zip has sha256"),
        "{}",
        tampered.stderr
    );

    fake.expire(id);
    let (_, expired) = failing_collection(&fake, "600").await;
    assert!(expired.stderr.contains("artifact `pr-e2e-report` of run 600: has expired"), "{}", expired.stderr);

    fake.forbid_rest();
    let (_, forbidden) = failing_collection(&fake, "600").await;
    assert!(
        forbidden.stderr.contains("HTTP 403") && forbidden.stderr.contains("actions: read"),
        "{}",
        forbidden.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unsafe_or_unparseable_artifacts_never_pass() {
    let fake = FakeGitHub::start().await;
    let backend = fake.add_run(700, "e2e.yml", SHA, "success");
    // A zip whose entry climbs out of the extraction directory.
    let slip = {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        w.start_file("../../escape.xml", zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut w, b"<testsuite/>").unwrap();
        w.finish().unwrap().into_inner()
    };
    fake.seed_artifact(&backend, "pr-e2e-report", &slip).await;
    let (step, result) = failing_collection(&fake, "700").await;
    assert!(result.stderr.contains("pr-e2e-report") && result.stderr.contains("../../escape.xml"), "{}", result.stderr);
    let leaked = walk_for(step.dir.path(), "escape.xml");
    assert!(leaked.is_empty(), "an entry escaped: {leaked:?}");

    // A truncated report is kept, marked unparseable, and fails the category.
    let fake = FakeGitHub::start().await;
    let backend = fake.add_run(701, "e2e.yml", SHA, "success");
    let truncated: &[u8] = br#"<testsuites><testsuite name="e2e" tests="3"><testcase name="a"/><testc"#;
    fake.seed_artifact(&backend, "pr-e2e-report", &zip_bytes(&[("junit.xml", truncated)])).await;
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.0.0")
        .input("run-ids", "701")
        .input("e2e-reports", "pr-e2e-report")
        .input("required-reports", "e2e")
        .input("upload", "false");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}", result.stderr);
    let m = manifest(&step, &result);
    let file = &category(&m, "e2e")["artifacts"][0]["files"][0];
    assert_eq!(file["status"], "unparseable");
    assert!(file["reason"].as_str().is_some_and(|r| !r.is_empty()));
    assert!(result.summary.contains("1 report file(s) could not be parsed"), "{}", result.summary);
    assert_eq!(bundle_file(&step, &result, "reports/e2e/pr-e2e-report/junit.xml"), truncated, "kept as uploaded");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_re_run_the_newest_artifact_of_a_name_is_taken() {
    let fake = FakeGitHub::start().await;
    // Attempt 1 uploaded a red report; the re-run (attempt 2) a green one under the same name.
    let current = fake.run_backend_id.clone();
    fake.seed_artifact(
        &current,
        "pr-unit-report",
        &zip_bytes(&[("junit.xml", junit("unit", 1, &[("TestFlaky", "flaked")]).as_bytes())]),
    )
    .await;
    fake.seed_artifact(&current, "pr-unit-report", &zip_bytes(&[("junit.xml", junit("unit", 2, &[]).as_bytes())]))
        .await;
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.0.0")
        .input("unit-reports", "pr-unit-report")
        .input("required-reports", "unit")
        .input("upload", "false");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}", result.stderr);
    let m = manifest(&step, &result);
    let unit = category(&m, "unit");
    assert_eq!(unit["artifacts"].as_array().unwrap().len(), 1);
    assert_eq!(unit["totals"]["tests"], 2);
}

/// The README's example: `e2e-reports: pr-e2e-*-report` also matches the upgrade
/// artifact that `upgrade-reports` names exactly. The exact name wins, the upgrade
/// category is not left empty, and the E2E category says which artifact went elsewhere.
#[tokio::test(flavor = "multi_thread")]
async fn an_exact_name_beats_a_glob_of_another_category() {
    let fake = FakeGitHub::start().await;
    upload_report(&fake, "pr-unit-report", "junit.xml", &junit("unit", 2, &[])).await;
    upload_report(&fake, "pr-e2e-logs-report", "junit.xml", &junit("logs", 3, &[])).await;
    upload_report(&fake, "pr-e2e-upgrade-report", "junit.xml", &junit("upgrade", 4, &[])).await;

    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.2.3")
        .input("unit-reports", "pr-unit-report")
        .input("e2e-reports", "pr-e2e-*-report")
        .input("upgrade-reports", "pr-e2e-upgrade-report")
        .input("required-reports", "unit,e2e,upgrade");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    let m = manifest(&step, &result);
    let upgrade = category(&m, "upgrade");
    assert_eq!(upgrade["status"], "passed");
    assert_eq!(upgrade["totals"]["tests"], 4);
    let e2e = category(&m, "e2e");
    assert_eq!(e2e["totals"]["tests"], 3);
    let notes = e2e["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("pr-e2e-upgrade-report") && n.as_str().unwrap().contains("Upgrade")),
        "{notes:?}"
    );
}

/// Two equally specific patterns of different categories for one artifact: the audit
/// cannot know where it belongs, so it stops with a usage error naming both.
#[tokio::test(flavor = "multi_thread")]
async fn equally_specific_matches_in_two_categories_are_an_input_error() {
    let fake = FakeGitHub::start().await;
    upload_report(&fake, "pr-e2e-upgrade-report", "junit.xml", &junit("upgrade", 1, &[])).await;
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.2.3")
        .input("e2e-reports", "pr-e2e-*-report")
        .input("upgrade-reports", "pr-*-upgrade-report")
        .input("required-reports", "none");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 2, "{}\n{}", result.stdout, result.stderr);
    let all = result.everything();
    assert!(all.contains("artifact `pr-e2e-upgrade-report` is matched as specifically by `pr-e2e-*-report` (E2E) as by `pr-*-upgrade-report` (Upgrade)"), "{all}");
}

/// The current run's completed jobs have their logs in the bundle, byte for byte as the
/// jobs API served them (a log over the limit keeps its first 64 MiB and says so); the
/// job still running — the audit job itself — is listed without one.
#[tokio::test(flavor = "multi_thread")]
async fn logs_of_the_current_runs_completed_jobs_are_kept() {
    let fake = FakeGitHub::start().await;
    upload_report(&fake, "pr-unit-report", "junit.xml", &junit("unit", 2, &[])).await;
    let (unit_job, big_job, audit_job) = (RUN_ID * 1000, RUN_ID * 1000 + 1, RUN_ID * 1000 + 2);
    let unit_log = "2026-12-01T10:00:00.0000000Z ##[group]Run make test\n2026-12-01T10:00:01.0000000Z ok  \tgithub.com/kyma-project/telemetry-manager/internal\t0.4s\n";
    fake.seed_job_log(unit_job, unit_log.as_bytes()).await;
    let mut big = vec![b'x'; (64 << 20) + 4096];
    big[0] = b'A';
    fake.seed_job_log(big_job, &big).await;
    fake.set_job_status(audit_job, "in_progress");

    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.2.3").input("unit-reports", "pr-unit-report").input("required-reports", "unit");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);

    assert_eq!(bundle_file(&step, &result, &format!("run/{RUN_ID}/jobs/{unit_job}.log")), unit_log.as_bytes());
    let kept = bundle_file(&step, &result, &format!("run/{RUN_ID}/jobs/{big_job}.log"));
    assert_eq!(kept.len(), 64 << 20);
    assert_eq!(kept[..], big[..64 << 20]);

    let m = manifest(&step, &result);
    let current =
        m["evidence"]["tests"]["sources"].as_array().unwrap().iter().find(|s| s["selected_by"] == "current").unwrap();
    let logs = current["job_logs"].as_array().unwrap();
    assert_eq!(logs.len(), 3, "{logs:?}");
    let job = |id: u64| logs.iter().find(|j| j["job_id"] == id).unwrap();
    assert_eq!(job(unit_job)["path"], format!("run/{RUN_ID}/jobs/{unit_job}.log"));
    assert_eq!(job(unit_job)["size"], unit_log.len());
    assert!(job(unit_job).get("truncated").is_none());
    assert_eq!(job(big_job)["truncated"], true);
    assert_eq!(job(audit_job)["status"], "in_progress");
    assert!(job(audit_job).get("path").is_none());
    assert!(
        current["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("1 job(s) of the current run had not completed when the audit ran")),
        "{current}"
    );
}

/// A central compliance workflow audits another repository's release by run id: every
/// REST call goes to that repository, the manifest names it, and the commit is the
/// given `head-sha`, not the calling workflow's.
#[tokio::test(flavor = "multi_thread")]
async fn another_repositorys_run_is_audited_by_run_id() {
    let fake = FakeGitHub::start().await;
    let other_sha = "0123456789abcdef0123456789abcdef01234567";
    let backend = fake.add_run(5151, "gardener.yml", other_sha, "success");
    let report = junit("gardener", 3, &[]);
    fake.seed_artifact(
        &backend,
        "gardener-gardener-integration-test-1.34-report",
        &zip_bytes(&[("junit.xml", report.as_bytes())]),
    )
    .await;

    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.0.0")
        .input("repository", "kyma-project/lifecycle-manager")
        .input("head-sha", other_sha)
        .input("run-ids", "5151")
        .input("gardener-reports", "gardener-gardener-integration-test-*-report")
        .input("required-reports", "gardener")
        .input("upload", "false");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}", result.stderr);
    let m = manifest(&step, &result);
    assert_eq!(m["source"]["repository"], "kyma-project/lifecycle-manager");
    assert_eq!(m["source"]["commit"], other_sha);
    assert_eq!(category(&m, "gardener")["totals"]["tests"], 3);
    assert!(result.summary.contains("kyma-project/lifecycle-manager"), "{}", result.summary);
    let state = fake.state.lock().unwrap();
    let repos: Vec<&str> =
        state.calls.iter().filter_map(|(_, v)| v.get("repository").and_then(|r| r.as_str())).collect();
    assert!(!repos.is_empty() && repos.iter().all(|r| *r == "kyma-project/lifecycle-manager"), "{repos:?}");
}

/// Another repository without run ids: the current run's artifacts are not that
/// repository's, so the audit stops before any call, naming both inputs.
#[tokio::test(flavor = "multi_thread")]
async fn another_repository_needs_run_ids() {
    let fake = FakeGitHub::start().await;
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.0.0")
        .input("repository", "kyma-project/lifecycle-manager")
        .input("unit-reports", "pr-unit-report")
        .input("required-reports", "unit");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 2, "{}", result.everything());
    assert!(result.everything().contains("input `run-ids`: is empty, so reports would come from the current run, but `repository` names another repository (kyma-project/lifecycle-manager)"), "{}", result.everything());
    assert!(fake.state.lock().unwrap().calls.is_empty(), "no call before the inputs hold");
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.0.0").input("repository", "not a repo").input("required-reports", "none");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 2);
    assert!(
        result.everything().contains("input `repository`: `not a repo` is not owner/repo"),
        "{}",
        result.everything()
    );
}

fn runner_fixture(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Real reruns whose only failures passed on the rerun — pytest-rerunfailures' JUnit
/// for the unit tests, gotestsum `--rerun-fails`' `go test -json` for E2E: the release
/// passes, and the flaky tests are named in the manifest, the summary and the statement.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_whose_failures_passed_on_a_rerun_passes_and_names_the_flakes() {
    let fake = FakeGitHub::start().await;
    upload_report(&fake, "pr-unit-report", "junit.xml", &runner_fixture("pytest-rerun-green/report.xml")).await;
    upload_report(&fake, "pr-e2e-report", "report.json", &runner_fixture("gotestsum-rerun/report.json")).await;

    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.2.3")
        .input("unit-reports", "pr-unit-report")
        .input("e2e-reports", "pr-e2e-report");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    assert_eq!(result.outputs["verdict"], "passed");
    let m = manifest(&step, &result);
    let unit = category(&m, "unit");
    assert_eq!(
        (unit["status"].as_str(), unit["totals"]["failed"].as_u64(), unit["totals"]["flaky"].as_u64()),
        (Some("passed"), Some(0), Some(2))
    );
    let flaky: Vec<&str> = unit["artifacts"][0]["files"][0]["flaky"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(flaky, ["test_green.test_flaky_network", "test_green.test_flaky_timing"]);
    let e2e = category(&m, "e2e");
    assert_eq!((e2e["totals"]["tests"].as_u64(), e2e["totals"]["flaky"].as_u64()), (Some(5), Some(2)));
    assert!(result.summary.contains("#### Flaky tests"), "{}", result.summary);
    assert!(result.summary.contains("`example.com/rerun/flaky › TestFlakyNetwork` — 2 attempts"), "{}", result.summary);
    let statement: serde_json::Value =
        serde_json::from_slice(&bundle_file(&step, &result, "statements/unit.intoto.json")).unwrap();
    assert_eq!(statement["predicate"]["result"], "PASSED");
    assert_eq!(statement["predicate"]["warnedTests"].as_array().unwrap().len(), 2);
}

/// Real Ginkgo v1 output of a suite whose BeforeSuite failed: no test ran, and the
/// category fails on the suite problem, which is named (issue 9, item 2).
#[tokio::test(flavor = "multi_thread")]
async fn a_suite_problem_fails_its_category_and_is_named() {
    let fake = FakeGitHub::start().await;
    upload_report(&fake, "pr-unit-report", "junit.xml", &junit("unit", 2, &[])).await;
    upload_report(&fake, "pr-e2e-report", "junit.xml", &runner_fixture("ginkgo-v1/before-suite/junit.xml")).await;

    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.2.3")
        .input("unit-reports", "pr-unit-report")
        .input("e2e-reports", "pr-e2e-report");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stdout, result.stderr);
    assert_eq!(result.outputs["verdict"], "failed");
    let m = manifest(&step, &result);
    let e2e = category(&m, "e2e");
    assert_eq!(
        (e2e["status"].as_str(), e2e["totals"]["tests"].as_u64(), e2e["totals"]["suite_problems"].as_u64()),
        (Some("failed"), Some(0), Some(1))
    );
    let problem = &e2e["artifacts"][0]["files"][0]["suite_problems"][0];
    assert_eq!(problem["suite"], "Cluster Suite");
    assert!(problem["message"].as_str().unwrap().contains("cluster unreachable"), "{problem}");
    assert!(result.summary.contains("E2E tests: 1 suite problem(s)"), "{}", result.summary);
    assert!(result.summary.contains("#### Suite problems"), "{}", result.summary);
    assert!(result.summary.contains("`Cluster Suite` — BeforeSuite failed"), "{}", result.summary);
}

/// Another run whose E2E job failed and was re-run: its artifact list holds both
/// uploads of `pr-e2e-report`. Like the official client (`latest: true`), the newest is
/// the run's; the earlier attempt's is an earlier attempt of the same tests. Its expiry
/// does not stop the audit: it cannot be read, so it counts as one flaky item (the
/// release passes without `fail-on-flaky`; tests/it/rerun_attempts.rs reads one).
#[tokio::test(flavor = "multi_thread")]
async fn another_runs_re_run_artifact_replaces_the_earlier_upload_of_its_name() {
    let fake = FakeGitHub::start().await;
    let backend = fake.add_run(5151, "e2e.yml", SHA, "success");
    let red = fake
        .seed_artifact(
            &backend,
            "pr-e2e-report",
            &zip_bytes(&[("junit.xml", junit("e2e", 1, &[("TestFlaky", "timed out")]).as_bytes())]),
        )
        .await;
    fake.seed_artifact(&backend, "pr-e2e-report", &zip_bytes(&[("junit.xml", junit("e2e", 3, &[]).as_bytes())])).await;
    fake.expire(red);
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.0.0")
        .input("run-ids", "5151")
        .input("workflows", "e2e.yml")
        .input("e2e-reports", "pr-e2e-report")
        .input("required-reports", "e2e")
        .input("upload", "false")
        .input("include-run-logs", "false");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stderr, result.summary);
    let m = manifest(&step, &result);
    let e2e = category(&m, "e2e");
    assert_eq!(e2e["artifacts"].as_array().unwrap().len(), 1, "{e2e}");
    assert_eq!(e2e["totals"]["tests"], 3);
    assert_eq!(e2e["totals"]["flaky"], 1, "{e2e}");
    assert_eq!(e2e["artifacts"][0]["expired_earlier_attempts"][0], red, "{e2e}");
    let sources = m["evidence"]["tests"]["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 1, "run 5151, selected by id and as e2e.yml's newest run, is one source: {sources:?}");
    let notes = sources[0]["notes"].to_string();
    assert!(
        notes.contains(&format!(
            "artifact `pr-e2e-report` was uploaded again by a later attempt of the run (id {} after {red})",
            red + 1
        )),
        "{notes}"
    );
    assert!(notes.contains("also selected by workflow:e2e.yml"), "{notes}");
    // verify counts the expired earlier attempt as the audit did.
    let bundle = step.resolve(&result.outputs["bundle-path"]);
    let out = std::process::Command::new(binary()).arg("verify").arg(&bundle).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

/// An exact name wins even when two globs of other categories match it as well; an
/// exact name holding glob characters names itself.
#[tokio::test(flavor = "multi_thread")]
async fn an_exact_name_beats_two_globs_and_may_hold_glob_characters() {
    let fake = FakeGitHub::start().await;
    upload_report(&fake, "pr-e2e-upgrade-report", "junit.xml", &junit("upgrade", 4, &[])).await;
    upload_report(&fake, "unit[linux]", "junit.xml", &junit("unit", 2, &[])).await;
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.2.3")
        .input("unit-reports", "pr-*-report\nunit[linux]")
        .input("e2e-reports", "*-e2e-*")
        .input("upgrade-reports", "pr-e2e-upgrade-report")
        .input("required-reports", "unit,upgrade");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    let m = manifest(&step, &result);
    assert_eq!(category(&m, "upgrade")["totals"]["tests"], 4);
    assert_eq!(category(&m, "unit")["totals"]["tests"], 2, "`unit[linux]` matched by its exact name");
    assert_eq!(category(&m, "unit")["artifacts"][0]["name"], "unit[linux]");
}

/// Artifact names that clean to the same folder name (`a b`, `a+b`, `a_b`) each keep
/// their own folder: no report overwrites another.
#[tokio::test(flavor = "multi_thread")]
async fn artifacts_whose_names_clean_alike_keep_their_own_folders() {
    let fake = FakeGitHub::start().await;
    let current = fake.run_backend_id.clone();
    for (name, tests) in [("e2e a b", 1), ("e2e a+b", 2), ("e2e a_b", 3)] {
        fake.seed_artifact(&current, name, &zip_bytes(&[("junit.xml", junit("e2e", tests, &[]).as_bytes())])).await;
    }
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.0.0")
        .input("e2e-reports", "e2e a*")
        .input("required-reports", "e2e")
        .input("upload", "false");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}", result.stderr);
    let m = manifest(&step, &result);
    let e2e = category(&m, "e2e");
    assert_eq!(e2e["totals"]["tests"], 6, "{e2e}");
    let paths: std::collections::BTreeSet<String> = e2e["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["files"][0]["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    let (code, out) = {
        let out = std::process::Command::new(binary())
            .arg("verify")
            .arg(step.resolve(&result.outputs["bundle-path"]))
            .output()
            .unwrap();
        (out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    assert_eq!(code, 0, "{out}");
}

/// A job token without `actions: read` still reads this run's report artifacts (the
/// runner's own token does that), but not the run's jobs and logs: the audit goes on
/// and writes its bundle, and says what is missing and why.
#[tokio::test(flavor = "multi_thread")]
async fn without_actions_read_the_run_record_is_missing_and_said_but_the_audit_holds() {
    let fake = FakeGitHub::start().await;
    upload_report(&fake, "pr-unit-report", "junit.xml", &junit("unit", 3, &[])).await;
    fake.forbid_rest();
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.0.0").input("unit-reports", "pr-unit-report").input("required-reports", "unit");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    assert_eq!(result.outputs["verdict"], "passed");
    let m = manifest(&step, &result);
    let notes = m["evidence"]["tests"]["sources"][0]["notes"].to_string();
    assert!(
        notes.contains("run evidence (run.json, jobs, logs) is incomplete")
            && notes.contains("HTTP 403")
            && notes.contains("actions: read"),
        "{notes}"
    );
    assert!(
        result.stdout.contains("::warning::run evidence (run.json, jobs, logs) is incomplete"),
        "{}",
        result.stdout
    );
}
