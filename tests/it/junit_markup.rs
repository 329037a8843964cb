//! Markup a JUnit reader must skip, through `release-audit reports --json` as a user
//! runs it: a processing instruction, comment or CDATA section inside test output never
//! makes the reader lose its place and swallow the failed test case that follows.

fn reports_json(xml: &str) -> (i32, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    crate::reports_json(&[&crate::write_file(dir.path(), "junit.xml", xml)])
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
