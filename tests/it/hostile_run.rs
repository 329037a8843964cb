//! The action and `reports` against outside input built to hurt (issue 12, cases 1, 2,
//! 4, 5, 6), through the real binary in a step's environment: a bundle name that
//! would delete the workspace, a link planted at the zip's path, test names and
//! messages that carry workflow commands and Markdown, an archive that hides a failing
//! report behind a duplicate name.

use std::path::Path;
use std::process::Command;

use release_audit_test_support::{FakeGitHub, Step, zip_bytes};

use crate::binary;

/// What the runner would take as commands from a step's output (its parser: `\r` and
/// `\n` end lines, leading blanks are trimmed before `::`, `##[` counts anywhere).
fn runner_commands(text: &str) -> Vec<&str> {
    text.split(['\n', '\r']).filter(|l| l.trim_start().starts_with("::") || l.contains("##[")).collect()
}

/// Commands this tool itself sends: masks, groups, its annotations.
fn ours(line: &str) -> bool {
    ["::add-mask::", "::group::", "::endgroup::", "::error title=", "::warning title=", "::warning::", "::notice"]
        .iter()
        .any(|p| line.starts_with(p))
}

const PASSING: &str = r#"<testsuite name="e2e" tests="1"><testcase name="ok"/></testsuite>"#;

async fn step_with(fake: &FakeGitHub, artifact: &[u8]) -> Step {
    release_audit_test_support::step::e2e_audit_step(fake, "9.9.9", artifact).await
}

fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        out.push(p.display().to_string());
        if p.is_dir() && !p.is_symlink() {
            out.extend(tree(&p));
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn bundle_names_that_name_a_directory_are_refused_and_nothing_is_deleted() {
    let fake = FakeGitHub::start().await;
    let mut step = step_with(&fake, &zip_bytes(&[("junit.xml", PASSING.as_bytes())])).await;
    let workspace = step.path("workspace");
    std::fs::create_dir_all(workspace.join(".release-audit")).unwrap();
    std::fs::create_dir_all(workspace.join(".git")).unwrap();
    std::fs::write(workspace.join("main.go"), "package main").unwrap();
    std::fs::write(workspace.join(".git/HEAD"), "ref: refs/heads/main").unwrap();
    std::fs::create_dir_all(workspace.join(".release-audit/not-ours")).unwrap();
    std::fs::write(workspace.join(".release-audit/not-ours/keep.txt"), "keep").unwrap();
    let before = tree(&workspace);

    for name in ["..", ".", "a/../..", "x\ny"] {
        step.input("bundle-name", name);
        let result = step.run(&binary(), &[]).await;
        assert_eq!(result.code, 2, "{name:?}: {}", result.stderr);
        assert!(result.stderr.contains("bundle-name"), "{name:?}: {}", result.stderr);
        assert_eq!(tree(&workspace), before, "{name:?}: nothing changed");
    }
    // An existing directory (in the default bundle-dir) this tool did not write is
    // refused, not replaced.
    step.input("bundle-name", "not-ours");
    let result = step.run(&binary(), &[]).await;
    assert_ne!(result.code, 0, "{}", result.stderr);
    assert!(result.stderr.contains("did not write"), "{}", result.stderr);
    assert_eq!(std::fs::read_to_string(workspace.join(".release-audit/not-ours/keep.txt")).unwrap(), "keep");
    assert_eq!(std::fs::read_to_string(workspace.join("main.go")).unwrap(), "package main");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_link_planted_at_the_zip_path_is_not_written_through() {
    let fake = FakeGitHub::start().await;
    let step = step_with(&fake, &zip_bytes(&[("junit.xml", PASSING.as_bytes())])).await;
    let precious = step.path("precious.txt");
    std::fs::write(&precious, "precious").unwrap();
    // The default bundle-dir is `<workspace>/.release-audit`.
    std::fs::create_dir_all(step.path("workspace/.release-audit")).unwrap();
    std::os::unix::fs::symlink(&precious, step.path("workspace/.release-audit/audit-bundle-9.9.9.zip")).unwrap();
    let result = step.run(&binary(), &[]).await;
    assert_ne!(result.code, 0, "{}", result.stderr);
    assert!(result.stderr.contains("symbolic link"), "{}", result.stderr);
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "precious");
}

const HOSTILE_NAMES: [&str; 6] = [
    "x\n::stop-commands::tok",
    "y\r::add-mask::secret",
    "   ::set-output name=verdict::passed",
    "##[error]forged",
    "[phish](https://e.invalid) ![](https://e.invalid/p.png)",
    "z\n## ✅ Release audit passed <img src=x>",
];

fn hostile_report() -> String {
    let mut cases = String::new();
    // 12 failures: the first ten become annotations, the rest plain log lines.
    for i in 0..12 {
        let name = HOSTILE_NAMES[i % HOSTILE_NAMES.len()];
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\n', "&#10;")
                .replace('\r', "&#13;")
        };
        cases.push_str(&format!(
            "<testcase classname=\"{}\" name=\"{}{i}\"><failure message=\"{}\">{}\n::add-mask::m{i}\n##[warning]w</failure></testcase>",
            esc(name),
            esc(name),
            esc(name),
            esc(name)
        ));
    }
    format!(
        "<testsuites><testsuite name=\"{}\" tests=\"12\" failures=\"12\">{cases}</testsuite></testsuites>",
        "s\n::error::suite"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn test_names_and_messages_never_become_workflow_commands_or_markup() {
    let fake = FakeGitHub::start().await;
    let step = step_with(&fake, &zip_bytes(&[("junit.xml", hostile_report().as_bytes())])).await;
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}", result.stderr);
    let foreign: Vec<&str> = runner_commands(&result.stdout).into_iter().filter(|l| !ours(l)).collect();
    assert!(foreign.is_empty(), "stdout: {foreign:#?}");
    for line in runner_commands(&result.stdout) {
        assert!(!line.contains('\r'), "{line:?}");
    }
    assert!(
        !result.stdout.lines().any(|l| l.starts_with("::add-mask::secret") || l.starts_with("::add-mask::m")),
        "{}",
        result.stdout
    );
    assert!(runner_commands(&result.stderr).is_empty(), "stderr: {:#?}", runner_commands(&result.stderr));

    // The summary: no heading, link, image or HTML from the report. Inside code spans
    // (between backticks) Markdown shows text literally, so only the rest is markup.
    for line in result.summary.lines() {
        assert!(!line.starts_with("## ✅"), "{line}");
        let markup: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        for live in ["[phish](https://", "![](https://", "<img", "##[error]"] {
            assert!(!markup.contains(live), "{live} outside a code span: {line}");
        }
    }
    assert!(result.summary.starts_with("## ❌ Release audit failed"), "{}", result.summary);

    // `reports` on the same file, table and JSON, as a later workflow step would run it.
    let file = step.path("hostile.xml");
    std::fs::write(&file, hostile_report()).unwrap();
    for json in [false, true] {
        let mut cmd = Command::new(binary());
        cmd.arg("reports").arg(&file);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(runner_commands(&stdout).is_empty(), "json {json}: {:#?}", runner_commands(&stdout));
        assert!(runner_commands(&stderr).is_empty(), "json {json}: {stderr}");
        if json {
            let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            assert_eq!(v["files"][0]["failures"][3]["name"], "##[error]forged3", "JSON readers get the exact text");
        }
    }
}

/// A zip holding `a.xml` twice (failing, then passing): zip writers refuse that, so it
/// is written with two names of one length and renamed in the bytes.
fn zip_with_a_hidden_failure() -> Vec<u8> {
    let failing = r#"<testsuite name="e2e" tests="1" failures="1"><testcase name="t"><failure message="boom"/></testcase></testsuite>"#;
    let bytes = zip_bytes(&[("a.xml", failing.as_bytes()), ("b.xml", PASSING.as_bytes())]);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"b.xml") {
            out.extend_from_slice(b"a.xml");
            i += 5;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_entry_cannot_hide_a_failing_report() {
    let fake = FakeGitHub::start().await;
    let step = step_with(&fake, &zip_with_a_hidden_failure()).await;
    let result = step.run(&binary(), &[]).await;
    assert_ne!(result.code, 0, "never a pass: {}", result.stderr);
    assert_ne!(result.outputs.get("verdict").map(String::as_str), Some("passed"));
    let all = format!("{}{}{}", result.stdout, result.stderr, result.summary);
    assert!(all.contains("pr-e2e-report"), "the artifact is named: {all}");
    assert!(all.contains("same name"), "{all}");

    let zip = step.path("dup.zip");
    std::fs::write(&zip, zip_with_a_hidden_failure()).unwrap();
    let out = Command::new(binary()).arg("reports").arg(&zip).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("UNPARSEABLE") && stdout.contains("same name"), "{stdout}");
}
