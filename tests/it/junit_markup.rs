//! Markup a JUnit reader must skip, through `release-audit reports --json` as a user
//! runs it: a processing instruction, comment or CDATA section inside test output never
//! makes the reader lose its place and swallow the failed test case that follows.

use std::process::Command;

fn reports_json(xml: &str) -> (i32, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("junit.xml");
    std::fs::write(&file, xml).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_release-audit"))
        .args(["reports", "--json"])
        .arg(&file)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("the binary runs");
    let out = String::from_utf8(output.stdout).unwrap();
    (output.status.code().expect("exited"), serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}")))
}

#[test]
fn markup_inside_test_output_cannot_swallow_a_failed_test_case() {
    // Each opener hides everything up to a terminator printed by a later test, to a
    // skipper that does not know the markup it stands in.
    for (opener, later_output) in [
        ("<?pi <!-- ?>", "-->"),
        ("<?pi <![CDATA[ ?>", "<!-- ]]> -->"),
        (r#"<x a="<!--"/>"#, "-->"),
        ("<!-- <![CDATA[ -->", "]]&gt;"),
        ("<![CDATA[ <!-- ]]>", "-->"),
        ("<x a='>'><?y ?></x>", ""),
    ] {
        let xml = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="3" failures="1">
  <testsuite name="pkg" tests="3" failures="1">
    <testcase classname="pkg" name="TestA"><system-out>{opener}</system-out></testcase>
    <testcase classname="pkg" name="TestB"><failure message="want 1, got 2">x_test.go:9</failure></testcase>
    <testcase classname="pkg" name="TestC"><system-out>{later_output}</system-out></testcase>
  </testsuite>
</testsuites>
"#
        );
        let (code, json) = reports_json(&xml);
        assert_eq!(code, 1, "{opener}: {json}");
        assert_eq!(json["passed"], false, "{opener}");
        let file = &json["files"][0];
        if file["outcome"] == "parsed" {
            assert_eq!(json["totals"]["tests"], 3, "{opener}: {json}");
            assert_eq!(json["totals"]["failed"], 1, "{opener}: {json}");
            assert_eq!(file["failures"][0]["name"], "TestB", "{opener}: {json}");
        } else {
            // Markup no XML reader accepts (`<` in an attribute value) is refused.
            assert_eq!(file["outcome"], "unparseable", "{opener}: {json}");
            assert!(opener.contains("\"<"), "{opener}: only malformed markup may be refused: {json}");
        }
    }
}
