//! `report.html` in a real headless browser (Debian's chromium): it renders offline,
//! shows the verdict and the failing test, and loads nothing from anywhere.

use std::path::PathBuf;
use std::process::Command;

use release_audit_test_support::step::SHA;
use release_audit_test_support::{FakeGitHub, Step, zip_bytes};

fn chromium() -> String {
    for c in ["chromium", "chromium-browser"] {
        if Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return c.to_string();
        }
    }
    panic!("chromium is not installed: run the suite with `tests/run`, which installs Debian's chromium");
}

fn headless(browser: &str, profile: &std::path::Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--virtual-time-budget=2000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_renders_offline_and_shows_the_verdict() {
    let fake = FakeGitHub::start().await;
    let backend = fake.add_run(900, "e2e.yml", SHA, "success");
    let report = r#"<testsuites><testsuite name="e2e" tests="2" failures="1"><testcase name="TestOk"/><testcase classname="e2e" name="TestPipelinesSurviveUpgrade"><failure message="pipelines lost">pipelines lost &lt;after&gt; upgrade</failure></testcase></testsuite></testsuites>"#;
    fake.seed_artifact(&backend, "pr-e2e-report", &zip_bytes(&[("junit.xml", report.as_bytes())])).await;
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.4.0")
        .input("run-ids", "900")
        .input("e2e-reports", "pr-e2e-report")
        .input("required-reports", "e2e")
        .input("upload", "false")
        .input("include-run-logs", "false");
    let result = step.run(&PathBuf::from(env!("CARGO_BIN_EXE_release-audit")), &[]).await;
    assert_eq!(result.code, 1, "{}", result.stderr);
    let page = step.resolve(&result.outputs["bundle-path"]).with_extension("").join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();

    // Self-contained: no scripts, no external styles, fonts or images.
    assert!(!html.contains("<script"), "no scripts");
    for attr in ["src=", "href=", "url("] {
        assert!(!html.contains(attr), "the page references something ({attr})");
    }

    let browser = chromium();
    let profile = tempfile::tempdir().unwrap();
    let dom = headless(&browser, profile.path())
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("id=\"verdict\" class=\"verdict failed\""), "{dom}");
    assert!(dom.contains("✘ Audit failed"));
    assert!(dom.contains("E2E (required) — failed"));
    assert!(dom.contains("E2E tests: 1 failed"));
    assert!(dom.contains("e2e › TestPipelinesSurviveUpgrade"));
    assert!(dom.contains("pipelines lost &lt;after&gt; upgrade"), "the message is shown as text, not markup");
    assert!(dom.contains(SHA));

    // And it paints: a screenshot is written (kept next to the bundle for a human to look at).
    let shot = page.with_file_name("report.png");
    let status = headless(&browser, profile.path())
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1200,900")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(status.status.success());
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "the screenshot is not blank");
}
