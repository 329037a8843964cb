//! Issue 18, tried as an adversary would: inputs that the other modules do not contain,
//! each one a false pass (or a false "holds") found with the release binary, through the
//! binary as a user runs it. One test per class of hole; each names the rule it holds.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `release-audit reports --json` on the files; the exit code and the JSON.
fn reports_json(files: &[&Path]) -> (i32, serde_json::Value) {
    let output = Command::new(crate::binary())
        .arg("reports")
        .arg("--json")
        .args(files)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("the binary runs");
    let out = String::from_utf8(output.stdout).unwrap();
    let json = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    (output.status.code().expect("exited"), json)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// pytest writes a test whose call failed and whose teardown failed too as two test
/// cases, the second with `<error message="failed on teardown with …">`; that second
/// one is merged into the first. Only after a failed call: any other runner (Surefire
/// writes an exception's message as the `<error>`'s, and a JUnit 5 parameterized test
/// gives every invocation one name) can write an errored test case with that message
/// after a passing one of the same name, and it must stay an errored test.
#[test]
fn an_error_shaped_like_a_pytest_teardown_after_a_passing_test_is_an_errored_test() {
    let dir = tempfile::tempdir().unwrap();
    let errored = r#"<testcase classname="com.example.C" name="x" time="0.01"><error message="failed on teardown with boom" type="java.lang.RuntimeException">boom</error></testcase>"#;
    for (first, declared) in [
        (r#"<testcase classname="com.example.C" name="x" time="0.01"/>"#, r#" tests="2" failures="0" errors="1""#),
        (
            r#"<testcase classname="com.example.C" name="x"><skipped/></testcase>"#,
            r#" tests="2" skipped="1" errors="1""#,
        ),
        (r#"<testcase classname="com.example.C" name="x"/>"#, ""),
    ] {
        let xml =
            format!(r#"<?xml version="1.0"?><testsuite name="com.example.C"{declared}>{first}{errored}</testsuite>"#);
        let file = write(dir.path(), "TEST-com.example.C.xml", &xml);
        let (code, json) = reports_json(&[&file]);
        assert_eq!(code, 1, "{xml}: {json}");
        assert_eq!(json["passed"], false, "{json}");
        assert_eq!(json["totals"]["errored"], 1, "{xml}: {json}");
        assert_eq!(json["totals"]["tests"], 2, "{xml}: {json}");
    }
    // pytest's own shape still counts once: the failed call, its teardown with it.
    let xml = r#"<testsuite name="pytest" tests="1" failures="1" errors="1"><testcase classname="t" name="test_x"><failure message="assert 1 == 2"/></testcase><testcase classname="t" name="test_x"><error message="failed on teardown with &quot;boom&quot;"/></testcase></testsuite>"#;
    let file = write(dir.path(), "pytest.xml", xml);
    let (code, json) = reports_json(&[&file]);
    assert_eq!(code, 1, "{json}");
    assert_eq!(json["totals"]["tests"], 1, "{json}");
    assert_eq!(json["totals"]["failed"], 1, "{json}");
}

/// Surefire's `<rerunFailure>`/`<rerunError>` say the test failed when it was run again:
/// a test case that holds one fails, whatever else it holds (a `<skipped>` beside it
/// must not make it skipped).
#[test]
fn a_rerun_failure_beside_skipped_is_a_failed_test() {
    let dir = tempfile::tempdir().unwrap();
    for (i, children) in [
        r#"<skipped/><rerunFailure message="still failing"/>"#,
        r#"<rerunError message="still erroring"/><skipped message="later"/>"#,
    ]
    .iter()
    .enumerate()
    {
        let xml = format!(
            r#"<testsuite name="s"><testcase classname="c" name="ok"/><testcase classname="c" name="t">{children}</testcase></testsuite>"#
        );
        let file = write(dir.path(), &format!("surefire-{i}.xml"), &xml);
        let (code, json) = reports_json(&[&file]);
        assert_eq!(code, 1, "{xml}: {json}");
        assert_eq!(json["totals"]["failed"], 1, "{xml}: {json}");
        assert_eq!(json["totals"]["skipped"], 0, "{xml}: {json}");
    }
}
