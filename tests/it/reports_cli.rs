//! `release-audit reports` as a user runs it: the real binary on files, directories and
//! zips; what it prints and how it exits.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use release_audit::evidence::test_reports::parse::{FileOutcome, parse_file};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports")
}

fn reports(args: &[&dyn AsRef<std::ffi::OsStr>]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_release-audit"));
    command.arg("reports").env_remove("GITHUB_ACTIONS");
    for arg in args {
        command.arg(arg);
    }
    let Output { status, stdout, stderr } = command.output().expect("the binary runs");
    (status.code().expect("exited"), String::from_utf8(stdout).unwrap(), String::from_utf8(stderr).unwrap())
}

const PASSING: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="2" failures="0" time="1.5">
  <testsuite name="example.com/ok" tests="2" failures="0" time="1.5">
    <testcase classname="example.com/ok" name="TestA" time="0.5"/>
    <testcase classname="example.com/ok" name="TestB" time="1.0"/>
  </testsuite>
</testsuites>
"#;

fn zip_with(path: &Path, entries: &[(&str, &[u8])]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, data) in entries {
        zip.start_file(name.to_string(), zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn a_passing_report_prints_its_row_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("junit.xml");
    std::fs::write(&file, PASSING).unwrap();
    let (code, out, err) = reports(&[&file]);
    assert_eq!(code, 0, "{out}{err}");
    let header = out.lines().next().unwrap();
    for column in ["FILE", "FORMAT", "TESTS", "PASSED", "FAILED", "ERRORED", "SKIPPED", "DURATION"] {
        assert!(header.contains(column), "{header}");
    }
    let row = out.lines().find(|l| l.contains("junit.xml")).unwrap();
    let cells: Vec<_> = row.split_whitespace().collect();
    assert_eq!(&cells[1..], ["junit", "2", "2", "0", "0", "0", "1.50s"], "{row}");
    assert!(out.contains("TOTAL") && out.trim_end().ends_with("result: passed"), "{out}");
}

#[test]
fn failing_fixtures_list_their_failed_tests_and_exit_1() {
    let (code, out, _) = reports(&[&fixtures().join("gotestsum"), &fixtures().join("pytest-xunit2")]);
    assert_eq!(code, 1, "{out}");
    let total = out.lines().find(|l| l.starts_with("TOTAL")).unwrap();
    let FileOutcome::Parsed(gotestsum) = parse_file(&fixtures().join("gotestsum/junit.xml")) else { panic!() };
    let FileOutcome::Parsed(json) = parse_file(&fixtures().join("gotestsum/report.json")) else { panic!() };
    let FileOutcome::Parsed(pytest) = parse_file(&fixtures().join("pytest-xunit2/report.xml")) else { panic!() };
    let tests = gotestsum.totals.tests + json.totals.tests + pytest.totals.tests;
    let cells: Vec<_> = total.split_whitespace().collect();
    assert_eq!(cells[..4], ["TOTAL", "3", "reports", tests.to_string().as_str()], "{total}");
    assert!(out.contains("Failed tests ("), "{out}");
    assert!(out.contains("FAIL  example.com/fixture/calc › TestDivideRoundsDown"), "{out}");
    assert!(out.contains("calc_test.go:13: Divide(7, 2) = 3, want 4"), "{out}");
    assert!(out.contains("ERROR pytest › test_sample.test_errors_in_setup"), "{out}");
    assert!(out.contains("Not test reports (4)"), "{out}");
    assert!(out.contains("result: FAILED"), "{out}");
}

#[test]
fn json_output_has_the_same_totals_as_the_library() {
    let (code, out, _) =
        reports(&[&"--json", &fixtures().join("jest/junit.xml"), &fixtures().join("handmade/ginkgo-json")]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["passed"], false);
    assert_eq!(json["reports"], 2);
    let files = json["files"].as_array().unwrap();
    let jest = files.iter().find(|f| f["path"].as_str().unwrap().ends_with("jest/junit.xml")).unwrap();
    assert_eq!(jest["outcome"], "parsed");
    assert_eq!(jest["format"], "junit");
    let FileOutcome::Parsed(expected) = parse_file(&fixtures().join("jest/junit.xml")) else { panic!() };
    assert_eq!(jest["totals"], serde_json::to_value(expected.totals).unwrap());
    let ginkgo = files.iter().find(|f| f["format"] == "ginkgo-json").unwrap();
    assert_eq!(ginkgo["totals"]["tests"], 6);
    assert_eq!(json["totals"]["tests"], expected.totals.tests + 6);
    // expected.json of the Ginkgo sample is other JSON: in a report artifact the gate
    // calls it unparseable, and so does `reports`.
    let expected_json = files.iter().find(|f| f["path"].as_str().unwrap().ends_with("expected.json")).unwrap();
    assert_eq!(expected_json["outcome"], "unparseable", "{expected_json}");
    assert_eq!(json["not_reports"], 0);
}

/// `reports` judges a file as the gate judges a file of a report artifact: a passing
/// report beside a failing one that does not open as a report (a broken root element, a
/// line put in front of it, other JSON, UTF-16 without a byte order mark) is not green.
#[test]
fn files_the_gate_calls_unparseable_are_unparseable_here_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pass.xml"), PASSING).unwrap();
    let failing = r#"<testsuites><testsuite name="s" tests="1" failures="1"><testcase name="bad"><failure/></testcase></testsuite></testsuites>"#;
    let utf16: Vec<u8> = failing.encode_utf16().flat_map(u16::to_be_bytes).collect();
    for (name, content) in [
        ("broken-root.xml", failing.replace("<testsuites>", "<testsuitez>").into_bytes()),
        ("prefixed.xml", format!("go test output follows\n{failing}").into_bytes()),
        ("other.json", br#"{"tests":[{"name":"bad","status":"failed"}]}"#.to_vec()),
        ("utf16.xml", utf16),
    ] {
        let only = dir.path().join("only");
        std::fs::create_dir_all(&only).unwrap();
        std::fs::copy(dir.path().join("pass.xml"), only.join("pass.xml")).unwrap();
        std::fs::write(only.join(name), content).unwrap();
        let (code, out, _) = reports(&[&only]);
        assert_eq!(code, 1, "{name}: {out}");
        assert!(out.contains("UNPARSEABLE"), "{name}: {out}");
        std::fs::remove_dir_all(&only).unwrap();
    }
}

#[test]
fn zips_are_extracted_and_unsafe_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("pr-unit-report.zip");
    zip_with(&good, &[("reports/junit.xml", PASSING.as_bytes()), ("reports/run.log", b"all good\n")]);
    let (code, out, err) = reports(&[&good]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("pr-unit-report.zip!reports/junit.xml"), "{out}");
    assert!(out.contains("Not test reports (1)"), "{out}");

    let evil = dir.path().join("evil.zip");
    zip_with(&evil, &[("../../escaped.xml", PASSING.as_bytes())]);
    let (code, out, _) = reports(&[&good, &evil]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("UNPARSEABLE: archive refused"), "{out}");
    assert!(out.contains("`..` component"), "{out}");
    assert!(!dir.path().parent().unwrap().join("escaped.xml").exists());
}

#[test]
fn unparseable_files_and_missing_reports_fail() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("junit.xml"), "").unwrap();
    let (code, out, _) = reports(&[&dir.path()]);
    assert_eq!(code, 1);
    assert!(out.contains("UNPARSEABLE: the file is empty"), "{out}");
    assert!(out.contains("1 unparseable"), "{out}");

    let logs = tempfile::tempdir().unwrap();
    std::fs::write(logs.path().join("build.log"), "compiling\n").unwrap();
    let (code, out, _) = reports(&[&logs.path()]);
    assert_eq!(code, 1);
    assert!(out.contains("result: FAILED: no test report found"), "{out}");
}

#[test]
fn many_failures_are_listed_up_to_twenty() {
    let dir = tempfile::tempdir().unwrap();
    let cases: String =
        (0..25).map(|i| format!("<testcase name=\"T{i}\"><failure message=\"bad {i}\"/></testcase>")).collect();
    std::fs::write(dir.path().join("r.xml"), format!("<testsuite name=\"s\">{cases}</testsuite>")).unwrap();
    let (code, out, _) = reports(&[&dir.path()]);
    assert_eq!(code, 1);
    assert!(out.contains("Failed tests (25):"), "{out}");
    assert!(out.contains("FAIL  s › T19") && !out.contains("FAIL  s › T20"), "{out}");
    assert!(out.contains("… and 5 more"), "{out}");
}

#[test]
fn a_fifo_is_reported_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("report.xml");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    let (code, out, _) = reports(&[&fifo]);
    assert_eq!(code, 1);
    assert!(out.contains("UNPARSEABLE: not a regular file"), "{out}");
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, err) = reports(&[]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = reports(&[&"/nonexistent/report.xml"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: input `/nonexistent/report.xml`: cannot be read"), "{err}");
    assert!(err.contains("hint: "), "{err}");
}

/// A run whose only failures passed on a rerun (pytest-rerunfailures' JUnit and
/// gotestsum `--rerun-fails`' `go test -json`, real runner output) is green: exit 0, the
/// flaky tests named, in the table and in `--json`. (gotestsum's JUnit marks no rerun:
/// there every attempt is a test, see docs/counting.md.)
#[test]
fn a_run_with_only_rerun_passed_failures_exits_0_and_names_the_flakes() {
    let pytest = fixtures().join("pytest-rerun-green/report.xml");
    let gotest = fixtures().join("gotestsum-rerun/report.json");
    let (code, out, err) = reports(&[&pytest, &gotest]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Flaky tests (4), passed after a failed attempt"), "{out}");
    assert!(out.contains("FLAKY pytest › test_green.test_flaky_network (2 attempts)"), "{out}");
    assert!(out.contains("FLAKY example.com/rerun/flaky › TestFlakyNetwork (2 attempts)"), "{out}");
    assert!(out.trim_end().ends_with("result: passed (4 flaky)"), "{out}");

    let (code, out, err) = reports(&[&"--json", &pytest]);
    assert_eq!(code, 0, "{out}{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["passed"], true);
    assert_eq!(json["totals"]["flaky"], 2);
    assert_eq!(json["totals"]["failed"], 0);
    let flaky: Vec<_> =
        json["files"][0]["flaky"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(flaky, ["test_green.test_flaky_network", "test_green.test_flaky_timing"]);
}

/// Suite problems fail the run and are listed by package, apart from the tests.
#[test]
fn suite_problems_fail_the_run_and_are_listed_by_package() {
    let dir = fixtures().join("go-test-json");
    let (code, out, err) = reports(&[&dir.join("report.json")]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("PROBLEM example.com/fixture/setup"), "{out}");
    assert!(out.contains("teardown: could not delete the test namespace"), "{out}");
    assert!(out.contains("PROBLEM example.com/fixture/broken"), "{out}");
    assert!(out.contains("2 suite problem(s)"), "{out}");
    let (_, out, _) = reports(&[&"--json", &dir.join("report.json")]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["totals"]["suite_problems"], 2);
    assert_eq!(json["files"][0]["suite_problems"].as_array().unwrap().len(), 2);
}

/// Names are capped with the cut recorded: failing tests with 5 MB names in a report do
/// not become megabytes of output (issue 12, item 3).
#[test]
fn huge_test_names_are_capped_in_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("junit.xml");
    let name = "n".repeat(5 * 1024 * 1024);
    let mut xml = format!(r#"<testsuites><testsuite name="{name}">"#);
    for i in 0..3 {
        xml.push_str(&format!(r#"<testcase classname="c" name="{name}{i}"><failure message="boom"/></testcase>"#));
    }
    xml.push_str("</testsuite></testsuites>");
    std::fs::write(&file, xml).unwrap();
    let (code, out, err) = reports(&[&"--json", &file]);
    assert_eq!(code, 1, "{err}");
    assert!(out.len() < 64 * 1024, "the output is {} bytes", out.len());
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let failures = json["files"][0]["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 3);
    for failure in failures {
        let shown = failure["name"].as_str().unwrap();
        // `c.<name><i>`: 5 MiB + 3 bytes, cut to 1,024.
        assert!(
            shown.ends_with(&format!("… ({} bytes cut)", 5 * 1024 * 1024 + 3 - 1024)),
            "{}",
            &shown[shown.len() - 40..]
        );
    }
    let (code, out, _) = reports(&[&file]);
    assert_eq!(code, 1);
    assert!(out.len() < 64 * 1024, "the table is {} bytes", out.len());
}
