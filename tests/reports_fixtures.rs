//! Our counts against the runners' own: every real-runner fixture in
//! `tests/fixtures/reports/<runner>/` holds a report and the runner's console output
//! (`console.txt`, made by `make-fixtures.sh`). The expected totals are read from the
//! console's summary line, never written down here, so regenerating a fixture with
//! other tests keeps this test meaningful. Where a runner's report format and its
//! console count differently (documented per runner below), the mapping is explicit.
//!
//! Hand-made samples of runners we cannot run here live in `handmade/<tool>/` with the
//! counts worked out by hand in `expected.json`.

use std::path::{Path, PathBuf};

use release_audit::evidence::test_reports::parse::{FileOutcome, ParsedReport, ReportFormat, Totals, parse_file};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports")
}

fn console(runner: &str) -> String {
    let path = fixtures().join(runner).join("console.txt");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parsed(runner: &str, file: &str, format: ReportFormat) -> ParsedReport {
    match parse_file(&fixtures().join(runner).join(file)) {
        FileOutcome::Parsed(report) => {
            assert_eq!(report.format, format, "{runner}/{file}");
            report
        }
        other => panic!("{runner}/{file} did not parse: {other:?}"),
    }
}

/// `N word` pairs from a summary like `2 failed, 4 passed, 2 skipped, 1 error in 0.10s`.
fn counts(summary: &str) -> Vec<(u64, String)> {
    summary
        .split(',')
        .filter_map(|part| {
            let mut words = part.split_whitespace();
            let n = words.next()?.parse().ok()?;
            Some((n, words.next()?.trim_end_matches(',').to_string()))
        })
        .collect()
}

fn count_of(counts: &[(u64, String)], words: &[&str]) -> u64 {
    counts.iter().filter(|(_, w)| words.contains(&w.as_str())).map(|(n, _)| n).sum()
}

fn totals(passed: u64, failed: u64, errored: u64, skipped: u64) -> Totals {
    Totals { tests: passed + failed + errored + skipped, passed, failed, errored, skipped }
}

/// pytest's last line: `==== 2 failed, 4 passed, 2 skipped, 1 error in 0.10s ====`.
/// xfailed tests are `<skipped>` in JUnit and xpassed ones pass.
fn pytest_expected(console: &str) -> Totals {
    let last = console.lines().rev().find(|l| l.starts_with('=') && l.contains(" in ")).expect("pytest summary line");
    let inner = last.trim_matches(|c| c == '=' || c == ' ');
    let summary = inner.rsplit_once(" in ").map(|(s, _)| s).unwrap_or(inner);
    let c = counts(summary);
    totals(
        count_of(&c, &["passed", "xpassed"]),
        count_of(&c, &["failed"]),
        count_of(&c, &["error", "errors"]),
        count_of(&c, &["skipped", "xfailed"]),
    )
}

#[test]
fn pytest_xunit1_and_xunit2_match_pytest_summary() {
    for family in ["pytest-xunit1", "pytest-xunit2"] {
        let report = parsed(family, "report.xml", ReportFormat::Junit);
        let expected = pytest_expected(&console(family));
        assert!(expected.tests > 0 && expected.failed > 0 && expected.errored > 0 && expected.skipped > 0);
        assert_eq!(report.totals, expected, "{family}");
        assert!(report.failures.iter().any(|f| f.message.contains("lists differ")), "{family}: {:?}", report.failures);
        assert!(report.failures.iter().any(|f| f.message.contains("database not reachable")), "{family}: {:?}", report.failures);
    }
}

/// gotestsum's last line: `DONE 13 tests, 2 skipped, 4 failures, 1 error in 0.662s`.
/// gotestsum counts parents and subtests alike (so does its JUnit), and counts a
/// package build failure as an error outside the tests; its JUnit declares that error
/// on `<testsuites errors>` without a test case, which we keep as one errored entry.
#[test]
fn gotestsum_junit_matches_gotestsum_summary() {
    let console = console("gotestsum");
    let done = console.lines().rev().find_map(|l| l.strip_prefix("DONE ")).expect("gotestsum DONE line");
    let c = counts(done.split(" in ").next().unwrap_or(done));
    let tests = count_of(&c, &["tests", "test"]);
    let (skipped, failed, errored) =
        (count_of(&c, &["skipped"]), count_of(&c, &["failures", "failure"]), count_of(&c, &["errors", "error"]));
    let expected = totals(tests - skipped - failed, failed, errored, skipped);
    assert!(errored > 0 && failed > 0 && skipped > 0);
    let report = parsed("gotestsum", "junit.xml", ReportFormat::Junit);
    assert_eq!(report.totals, expected);
    let panic = report.failures.iter().find(|f| f.name == "TestPanics").expect("the panicking test is listed");
    assert!(panic.message.contains("panic: assignment to entry in nil map"), "{}", panic.message);
    assert!(report.notes.iter().any(|n| n.contains("declares 1 more failure(s) or error(s)")), "{:?}", report.notes);
}

/// The same go run as `go test -json`, checked against `go test -v`: every
/// `--- PASS/FAIL/SKIP: Name` line is a result; a result that has subtests counts
/// only if it failed while none of its subtests did (our leaf rule, see
/// `parse::gotest`), and each `FAIL <pkg> [build failed]` package is one error.
#[test]
fn go_test_json_matches_go_test_verbose_output() {
    let console = console("go-test-json");
    let mut results: Vec<(String, String)> = Vec::new();
    let mut build_failures = std::collections::BTreeSet::new();
    for line in console.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("--- ") {
            let (status, rest) = rest.split_once(": ").expect("--- STATUS: name");
            let name = rest.split(" (").next().unwrap_or(rest).to_string();
            results.push((status.to_string(), name));
        } else if let Some(rest) = line.strip_prefix("FAIL\t")
            && let Some(package) = rest.strip_suffix(" [build failed]")
        {
            build_failures.insert(package.to_string());
        }
    }
    let mut expected = Totals::default();
    for (status, name) in &results {
        let children: Vec<_> = results.iter().filter(|(_, n)| n.starts_with(&format!("{name}/"))).collect();
        let child_failed = children.iter().any(|(s, _)| s == "FAIL");
        let counted = children.is_empty() || (status == "FAIL" && !child_failed);
        if counted {
            match status.as_str() {
                "PASS" => expected.passed += 1,
                "FAIL" => expected.failed += 1,
                "SKIP" => expected.skipped += 1,
                other => panic!("unknown status {other}"),
            }
        }
    }
    expected.errored = build_failures.len() as u64;
    expected.tests = expected.passed + expected.failed + expected.errored + expected.skipped;
    assert!(expected.errored > 0 && expected.failed > 0 && expected.skipped > 0);
    let report = parsed("go-test-json", "report.json", ReportFormat::GoTestJson);
    assert_eq!(report.totals, expected);
    let names: Vec<_> = report.failures.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"TestTable/wrong") && !names.contains(&"TestTable"), "{names:?}");
    let wrong = report.failures.iter().find(|f| f.name == "TestTable/wrong").expect("listed");
    assert_eq!(wrong.message, "    calc_test.go:29: Add(2, 2) = 4, want 5");
}

/// nextest's summary: `4 tests run: 2 passed (1 flaky), 2 failed, 1 skipped`. Its JUnit
/// lists the tests that ran; skipped (ignored) tests are not in it at all.
#[test]
fn nextest_junit_matches_nextest_summary() {
    let console = console("nextest");
    let summary = console.lines().find_map(|l| l.split_once(" tests run: ").map(|(_, s)| s)).expect("nextest Summary line");
    let summary = summary.replace(" (1 flaky)", "").replace(" flaky)", "");
    let c = counts(&summary);
    let expected = totals(count_of(&c, &["passed"]), count_of(&c, &["failed"]), 0, 0);
    assert!(count_of(&c, &["skipped"]) > 0, "the fixture has an ignored test");
    let report = parsed("nextest", "junit.xml", ReportFormat::Junit);
    assert_eq!(report.totals, expected);
    assert!(report.notes.iter().any(|n| n.contains("flaky_on_first_attempt: flaky")), "{:?}", report.notes);
    let failure = report.failures.iter().find(|f| f.name.ends_with("rejects_too_large_ports")).expect("listed");
    assert!(failure.message.contains("70000 does not fit a port"), "{}", failure.message);
}

/// jest's summary: `Tests: 1 failed, 1 skipped, 1 todo, 4 passed, 7 total`, plus one
/// `● Test suite failed to run` per suite that could not load. jest-junit writes a todo
/// test as a plain (passing) test case, and a suite that failed to run as two test
/// cases: one `<error>` and one `<failure>` with the error's details.
#[test]
fn jest_junit_matches_jest_summary() {
    let console = console("jest");
    let tests_line = console.lines().find_map(|l| l.strip_prefix("Tests:")).expect("jest Tests: line");
    let c = counts(tests_line);
    let suites_failed_to_run = console.matches("● Test suite failed to run").count() as u64;
    assert!(suites_failed_to_run > 0);
    let expected = totals(
        count_of(&c, &["passed"]) + count_of(&c, &["todo"]),
        count_of(&c, &["failed"]) + suites_failed_to_run,
        suites_failed_to_run,
        count_of(&c, &["skipped"]),
    );
    let report = parsed("jest", "junit.xml", ReportFormat::Junit);
    assert_eq!(report.totals, expected);
    let error = report.failures.iter().find(|f| f.kind == release_audit::evidence::test_reports::parse::FailureKind::Error).expect("listed");
    assert!(error.message.contains("Cannot find module './does-not-exist'"), "{}", error.message);
}

#[derive(serde::Deserialize)]
struct Expected {
    file: String,
    format: ReportFormat,
    totals: Totals,
    failed_names: Vec<String>,
    #[serde(default)]
    note_contains: Option<String>,
}

#[test]
fn hand_made_samples_match_their_worked_out_counts() {
    let dir = fixtures().join("handmade");
    let mut tools: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    tools.sort();
    assert!(tools.len() >= 7, "{tools:?}");
    for tool in tools {
        let expected: Expected = serde_json::from_slice(&std::fs::read(tool.join("expected.json")).unwrap()).unwrap();
        let name = tool.file_name().unwrap().to_string_lossy().into_owned();
        let report = match parse_file(&tool.join(&expected.file)) {
            FileOutcome::Parsed(r) => r,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(report.format, expected.format, "{name}");
        assert_eq!(report.totals, expected.totals, "{name}: notes {:?}", report.notes);
        let names: Vec<_> = report.failures.iter().map(|f| f.name.clone()).collect();
        assert_eq!(names, expected.failed_names, "{name}");
        assert!(report.failures.iter().all(|f| !f.message.is_empty()) || name == "go-junit-report", "{name}: {:?}", report.failures);
        if let Some(note) = expected.note_contains {
            assert!(report.notes.iter().any(|n| n.contains(&note)), "{name}: {:?}", report.notes);
        }
    }
}
