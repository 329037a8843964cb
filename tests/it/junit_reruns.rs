//! Repeated test names and declared counts in JUnit, through `release-audit reports` as
//! a user runs it: a rerun is a rerun only where the file says so, and declared counts
//! that disagree with the test cases fail the report.

use std::path::{Path, PathBuf};

use crate::{reports_json, write_file as write};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports")
}

#[test]
fn a_passing_test_with_the_name_of_a_failing_one_is_not_a_rerun() {
    let dir = tempfile::tempdir().unwrap();
    for (i, cases) in [
        r#"<testcase classname="pkg" name="TestX"><failure message="want 1, got 2"/></testcase><testcase classname="pkg" name="TestX"/>"#,
        r#"<testcase classname="pkg" name="TestX"><error message="panic"/></testcase><testcase classname="pkg" name="TestX" time="0.1"></testcase>"#,
    ]
    .iter()
    .enumerate()
    {
        for declared in ["", r#" tests="2" failures="1" errors="1""#, r#" tests="2""#] {
            let file = write(dir.path(), &format!("junit-{i}.xml"), &format!(r#"<testsuite name="pkg"{declared}>{cases}</testsuite>"#));
            let (code, json) = reports_json(&[&file]);
            assert_eq!(code, 1, "{cases} {declared}: {json}");
            assert_eq!(json["passed"], false);
            assert_eq!(json["totals"]["tests"], 2, "{json}");
            assert_eq!(json["totals"]["passed"], 1, "{json}");
            assert!(json["totals"].get("flaky").is_none(), "not a flaky pass: {json}");
        }
    }
}

/// pytest-rerunfailures, the real plugin (`pytest-rerun-green/make.sh`): every attempt a
/// test case, the failed ones without a child; `tests=` counts each test once. The run
/// is green, as pytest says (`3 passed, 1 skipped, 2 rerun`), and the reruns are named.
#[test]
fn pytest_rerunfailures_reruns_that_passed_are_a_green_run_with_flaky_tests() {
    let dir = fixtures().join("pytest-rerun-green");
    let console = std::fs::read_to_string(dir.join("console.txt")).unwrap();
    let summary = console.lines().rev().find(|l| l.contains(" passed")).expect("pytest's summary line");
    let count = |word: &str| -> u64 {
        let before = summary.split(&format!(" {word}")).next().unwrap();
        before.rsplit(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
    };
    let (passed, skipped, rerun) = (count("passed"), count("skipped"), count("rerun"));
    let (code, json) = reports_json(&[&dir.join("report.xml")]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["passed"], true);
    let totals = &json["totals"];
    assert_eq!(totals["tests"], passed + skipped, "{json}");
    assert_eq!(totals["passed"], passed);
    assert_eq!(totals["skipped"], skipped);
    assert_eq!(totals["failed"], 0);
    assert_eq!(totals["flaky"], rerun, "each test rerun once here: {json}");
    let flaky: Vec<_> =
        json["files"][0]["flaky"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(flaky, ["test_green.test_flaky_network", "test_green.test_flaky_timing"]);
}

#[test]
fn declared_counts_that_disagree_with_the_test_cases_fail_the_report() {
    let dir = tempfile::tempdir().unwrap();
    // A runner that counted three tests and a failure; the file shows two passed test cases.
    let file = write(
        dir.path(),
        "junit.xml",
        r#"<testsuites><testsuite name="pkg" tests="3" failures="1"><testcase name="a"/><testcase name="b"/></testsuite></testsuites>"#,
    );
    let (code, json) = reports_json(&[&file]);
    assert_eq!(code, 1, "{json}");
    assert_eq!(json["totals"]["suite_problems"], 1, "{json}");
    let problem = &json["files"][0]["suite_problems"][0];
    assert_eq!(problem["suite"], "pkg");
    assert!(problem["message"].as_str().unwrap().contains("tests=3 (counted 2), failures=1 (counted 0)"), "{json}");
    // The same suite declaring what it holds is green.
    let file = write(
        dir.path(),
        "junit.xml",
        r#"<testsuites><testsuite name="pkg" tests="2" failures="0"><testcase name="a"/><testcase name="b"/></testsuite></testsuites>"#,
    );
    let (code, json) = reports_json(&[&file]);
    assert_eq!(code, 0, "{json}");
}
