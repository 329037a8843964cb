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
    Totals { tests: passed + failed + errored + skipped, passed, failed, errored, skipped, ..Default::default() }
}

fn names(tests: impl IntoIterator<Item = String>) -> std::collections::BTreeSet<String> {
    tests.into_iter().collect()
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
        assert!(
            report.failures.iter().any(|f| f.message.contains("database not reachable")),
            "{family}: {:?}",
            report.failures
        );
    }
}

/// pytest with pytest-rerunfailures (`--reruns 2`): each attempt is a `<testcase>`,
/// the failed ones written without a `<failure>`. pytest's progress line has one
/// character per attempt (`R` an attempt that is rerun, then `.`, `F`, `x`, …), so the
/// tests, their final outcomes and the flaky ones (`R…` then `.`) come from it; the
/// summary line (`2 failed, 3 passed, 1 xfailed, 6 rerun`) must agree.
#[test]
fn pytest_rerunfailures_counts_each_test_once_and_names_the_flaky_ones() {
    let console = console("pytest-rerun");
    let progress = console.lines().find_map(|l| l.strip_prefix("test_flaky.py ")).expect("progress line");
    let progress = progress.split_whitespace().next().expect("progress characters");
    let mut expected = Totals::default();
    let mut reruns = 0;
    for c in progress.chars() {
        if c == 'R' {
            reruns += 1;
            continue;
        }
        match c {
            '.' | 'X' => {
                expected.passed += 1;
                expected.flaky += u64::from(reruns > 0);
            }
            'F' => expected.failed += 1,
            'E' => expected.errored += 1,
            's' | 'x' => expected.skipped += 1,
            other => panic!("unknown progress character {other}"),
        }
        expected.tests += 1;
        reruns = 0;
    }
    let summary = pytest_expected(&console);
    assert_eq!(Totals { flaky: expected.flaky, ..summary }, expected, "the progress line and the summary agree");
    assert_eq!(expected.flaky, 2);
    let report = parsed("pytest-rerun", "report.xml", ReportFormat::Junit);
    assert_eq!(report.totals, expected, "notes: {:?}", report.notes);
    // Names are `class.name` where the class says more than the suite (`pytest`).
    let short = |name: &str| name.rsplit('.').next().unwrap_or(name).to_string();
    assert_eq!(
        names(report.flaky.iter().map(|f| short(&f.name))),
        names(["test_flaky_network".into(), "test_flaky_timing".into()])
    );
    let failed = names(report.failures.iter().map(|f| short(&f.name)));
    assert_eq!(failed, names(["test_always_fails".into(), "test_strict_xpass".into()]));
}

/// gotestsum's `testname` console: one `PASS|FAIL pkg.Test (… )` line per attempt (a
/// rerun marked `(re-run N)`), `=== SKIP: pkg Test` for skips. The last line of a test
/// is its final outcome.
fn gotestsum_results(console: &str) -> Vec<(String, Vec<String>)> {
    let mut results: Vec<(String, Vec<String>)> = Vec::new();
    let mut add = |name: &str, status: &str| match results.iter_mut().find(|(n, _)| n == name) {
        Some((_, statuses)) => statuses.push(status.to_string()),
        None => results.push((name.to_string(), vec![status.to_string()])),
    };
    for line in console.lines() {
        if let Some(rest) = line.strip_prefix("=== SKIP: ") {
            let mut words = rest.split_whitespace();
            let (package, test) = (words.next().expect("package"), words.next().expect("test"));
            add(&format!("{package}.{test}"), "SKIP");
            continue;
        }
        let Some((status, rest)) = line.split_once(' ') else { continue };
        if !matches!(status, "PASS" | "FAIL") || !rest.ends_with(')') {
            continue;
        }
        let name = rest.split(" (").next().expect("name");
        add(name, status);
    }
    results
}

/// gotestsum's last line: `DONE 14 tests, 2 skipped, 5 failures, 1 error in 0.662s`.
/// gotestsum counts parents and subtests alike (so does its JUnit). A package that
/// fails outside its tests (`TestMain` exit) is a `TestMain` test case in its JUnit,
/// counted in `failures` but not in `tests`; it counts as the failed test case it is.
/// A package build failure is one of gotestsum's `errors`, declared on
/// `<testsuites errors>` without a test case: a suite problem, not a test.
#[test]
fn gotestsum_junit_matches_gotestsum_summary() {
    let console = console("gotestsum");
    let done = console.lines().rev().find_map(|l| l.strip_prefix("DONE ")).expect("gotestsum DONE line");
    let c = counts(done.split(" in ").next().unwrap_or(done));
    let tests = count_of(&c, &["tests", "test"]);
    let (skipped, failed, errors) =
        (count_of(&c, &["skipped"]), count_of(&c, &["failures", "failure"]), count_of(&c, &["errors", "error"]));
    // `=== FAIL: setup  (0.00s)`: a package failure with no test name, TestMain in JUnit.
    let package_failures = console.lines().filter(|l| l.starts_with("=== FAIL: ") && l.contains("  (")).count() as u64;
    assert!(errors > 0 && failed > 0 && skipped > 0 && package_failures > 0);
    let expected =
        Totals { suite_problems: errors, ..totals(tests - skipped - (failed - package_failures), failed, 0, skipped) };
    let report = parsed("gotestsum", "junit.xml", ReportFormat::Junit);
    assert_eq!(report.totals, expected, "notes: {:?}", report.notes);
    let panic = report.failures.iter().find(|f| f.name == "TestPanics").expect("the panicking test is listed");
    assert!(panic.message.contains("panic: assignment to entry in nil map"), "{}", panic.message);
    let test_main = report.failures.iter().find(|f| f.name == "TestMain").expect("the TestMain test case is listed");
    assert!(test_main.message.contains("teardown: could not delete the test namespace"), "{}", test_main.message);
    assert!(report.suite_problems[0].message.contains("declares"), "{:?}", report.suite_problems);
}

/// gotestsum `--rerun-fails`: two tests (one a subtest, so its parent too) fail on the
/// first attempt and pass on the rerun; gotestsum exits 0. Its JSON holds every
/// attempt in separate package runs: we count each test once, passed, and name the
/// flaky ones. Its JUnit holds every attempt too but does not say which test case is a
/// rerun (a test case with the name of a failed one may as well be another test, or a
/// `-count` repeat): each test case is a test, every failed attempt a failure, as
/// gotestsum's own `tests=`/`failures=` count them. Keep `--jsonfile` as the evidence
/// of a run with reruns.
#[test]
fn gotestsum_rerun_fails_counts_final_outcomes_and_names_the_flakes() {
    let console = console("gotestsum-rerun");
    let results = gotestsum_results(&console);
    let short = |name: &str| name.split_once('.').map(|(_, t)| t.to_string()).unwrap_or_default();
    let expected_for = |leaves_only: bool| {
        let mut expected = Totals::default();
        let mut flaky = Vec::new();
        for (name, statuses) in &results {
            if leaves_only && results.iter().any(|(other, _)| other.starts_with(&format!("{name}/"))) {
                continue;
            }
            let last = statuses.last().expect("a status").as_str();
            match last {
                "PASS" => expected.passed += 1,
                "FAIL" => expected.failed += 1,
                _ => expected.skipped += 1,
            }
            if last == "PASS" && statuses.len() > 1 {
                expected.flaky += 1;
                flaky.push(short(name));
            }
            expected.tests += 1;
        }
        (expected, names(flaky))
    };
    let done = console.lines().rev().find_map(|l| l.strip_prefix("DONE ")).expect("DONE line");
    assert!(done.starts_with("2 runs"), "{done}");

    let (expected, _) = expected_for(false);
    assert!(expected.flaky >= 2 && expected.failed == 0, "{expected:?}");
    let mut every_attempt = Totals::default();
    for status in results.iter().flat_map(|(_, statuses)| statuses) {
        match status.as_str() {
            "PASS" => every_attempt.passed += 1,
            "FAIL" => every_attempt.failed += 1,
            _ => every_attempt.skipped += 1,
        }
        every_attempt.tests += 1;
    }
    assert!(every_attempt.failed >= 2, "{every_attempt:?}");
    let report = parsed("gotestsum-rerun", "junit.xml", ReportFormat::Junit);
    assert_eq!(report.totals, every_attempt, "notes: {:?}", report.notes);
    assert!(report.flaky.is_empty(), "{:?}", report.flaky);
    assert!(report.suite_problems.is_empty(), "gotestsum's declared counts agree: {:?}", report.suite_problems);

    let (expected, flaky) = expected_for(true);
    let report = parsed("gotestsum-rerun", "report.json", ReportFormat::GoTestJson);
    assert_eq!(report.totals, expected, "notes: {:?}", report.notes);
    assert_eq!(names(report.flaky.iter().map(|f| f.name.clone())), flaky);
    assert!(flaky.contains("TestFlakyTable/second") && !flaky.contains("TestFlakyTable"), "{flaky:?}");
}

/// The same go run as `go test -json`, checked against `go test -v`: every
/// `--- PASS/FAIL/SKIP: Name` line is a result; only results without subtests are
/// tests (our leaf rule, see `parse::gotest`). Each `FAIL <pkg> [build failed]` and
/// each `FAIL <pkg>` whose section shows no `--- FAIL` (a `TestMain` exit) is a suite
/// problem.
#[test]
fn go_test_json_matches_go_test_verbose_output() {
    let console = console("go-test-json");
    let mut results: Vec<(String, String)> = Vec::new();
    let mut problems = std::collections::BTreeSet::new();
    let mut section_failed = false;
    for line in console.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("--- ") {
            let (status, rest) = rest.split_once(": ").expect("--- STATUS: name");
            let name = rest.split(" (").next().unwrap_or(rest).to_string();
            section_failed |= status == "FAIL";
            results.push((status.to_string(), name));
        } else if let Some(rest) = line.strip_prefix("FAIL\t") {
            let package = rest.split([' ', '\t']).next().expect("package");
            if rest.ends_with(" [build failed]") || !section_failed {
                problems.insert(package.to_string());
            }
            section_failed = false;
        } else if line.starts_with("ok  \t") {
            section_failed = false;
        }
    }
    let mut expected = Totals::default();
    for (status, name) in &results {
        let has_subtests = results.iter().any(|(_, n)| n.starts_with(&format!("{name}/")));
        if !has_subtests {
            match status.as_str() {
                "PASS" => expected.passed += 1,
                "FAIL" => expected.failed += 1,
                "SKIP" => expected.skipped += 1,
                other => panic!("unknown status {other}"),
            }
        }
    }
    expected.suite_problems = problems.len() as u64;
    expected.tests = expected.passed + expected.failed + expected.errored + expected.skipped;
    assert!(expected.suite_problems >= 2 && expected.failed > 0 && expected.skipped > 0, "{expected:?}");
    let report = parsed("go-test-json", "report.json", ReportFormat::GoTestJson);
    assert_eq!(report.totals, expected, "notes: {:?}", report.notes);
    assert_eq!(names(report.suite_problems.iter().map(|p| p.suite.clone())), problems);
    let setup = report.suite_problems.iter().find(|p| p.suite.ends_with("/setup")).expect("the TestMain exit");
    assert!(setup.message.contains("teardown: could not delete the test namespace"), "{}", setup.message);
    let broken = report.suite_problems.iter().find(|p| p.suite.ends_with("/broken")).expect("the build failure");
    assert!(broken.message.contains("build failed") || broken.message.contains("undefined"), "{}", broken.message);
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
    let summary =
        console.lines().find_map(|l| l.split_once(" tests run: ").map(|(_, s)| s)).expect("nextest Summary line");
    let summary = summary.replace(" (1 flaky)", "").replace(" flaky)", "");
    let c = counts(&summary);
    let flaky = console
        .lines()
        .find_map(|l| l.split_once(" tests run: "))
        .map(|(_, s)| s.contains("(1 flaky)"))
        .expect("summary");
    let expected =
        Totals { flaky: u64::from(flaky), ..totals(count_of(&c, &["passed"]), count_of(&c, &["failed"]), 0, 0) };
    assert!(count_of(&c, &["skipped"]) > 0, "the fixture has an ignored test");
    let report = parsed("nextest", "junit.xml", ReportFormat::Junit);
    assert_eq!(report.totals, expected);
    assert!(report.flaky.iter().any(|f| f.name.ends_with("flaky_on_first_attempt")), "{:?}", report.flaky);
    let failure = report.failures.iter().find(|f| f.name.ends_with("rejects_too_large_ports")).expect("listed");
    assert!(failure.message.contains("70000 does not fit a port"), "{}", failure.message);
}

/// jest's summary: `Tests: 1 failed, 1 skipped, 1 todo, 4 passed, 7 total`, plus one
/// `● Test suite failed to run` per suite that could not load. jest-junit writes a todo
/// test as a childless test case its suite's `tests=` leaves out (we count it skipped,
/// as jest does not count it passed), and a suite that failed to run as two test cases
/// with one name, an `<error>` and a `<failure>`: one errored test.
#[test]
fn jest_junit_matches_jest_summary() {
    let console = console("jest");
    let tests_line = console.lines().find_map(|l| l.strip_prefix("Tests:")).expect("jest Tests: line");
    let c = counts(tests_line);
    let suites_failed_to_run = console.matches("● Test suite failed to run").count() as u64;
    assert!(suites_failed_to_run > 0);
    assert!(count_of(&c, &["todo"]) > 0);
    let expected = totals(
        count_of(&c, &["passed"]),
        count_of(&c, &["failed"]),
        suites_failed_to_run,
        count_of(&c, &["skipped"]) + count_of(&c, &["todo"]),
    );
    assert_eq!(expected.tests, count_of(&c, &["total"]) + suites_failed_to_run);
    let report = parsed("jest", "junit.xml", ReportFormat::Junit);
    assert_eq!(report.totals, expected);
    let error = report
        .failures
        .iter()
        .find(|f| f.kind == release_audit::evidence::test_reports::parse::FailureKind::Error)
        .expect("listed");
    assert!(error.message.contains("Cannot find module './does-not-exist'"), "{}", error.message);
}

/// Ginkgo v1's summary: `FAIL! -- 2 Passed | 1 Failed | 1 Flaked | 1 Pending | 0 Skipped`.
fn ginkgo_v1_summary(console: &str) -> Vec<(u64, String)> {
    let line = console.lines().find_map(|l| l.split_once(" -- ").map(|(_, s)| s)).expect("Ginkgo summary line");
    line.split('|')
        .filter_map(|part| {
            let mut words = part.split_whitespace();
            Some((words.next()?.parse().ok()?, words.next()?.to_string()))
        })
        .collect()
}

/// Ginkgo v1 `-ginkgo.flakeAttempts=2`: every attempt a test case. Its console counts a
/// spec that passed on a flake attempt in Passed and in Flaked.
#[test]
fn ginkgo_v1_flake_attempts_match_ginkgo_summary() {
    let c = ginkgo_v1_summary(&console("ginkgo-v1/flake-attempts"));
    let expected = Totals {
        flaky: count_of(&c, &["Flaked"]),
        ..totals(count_of(&c, &["Passed"]), count_of(&c, &["Failed"]), 0, count_of(&c, &["Pending", "Skipped"]))
    };
    assert!(expected.flaky > 0 && expected.failed > 0);
    let report = parsed("ginkgo-v1/flake-attempts", "junit.xml", ReportFormat::Junit);
    assert_eq!(report.totals, expected, "notes: {:?}", report.notes);
    assert_eq!(report.flaky[0].name, "Backend survives an outage");
    assert_eq!(report.failures.len(), 1);
}

/// Ginkgo v1 with a failed `BeforeSuite`: the console says `0 Passed | 2 Failed`, counting
/// the specs the BeforeSuite kept from running as failed; the JUnit holds only a
/// `BeforeSuite` test case. That is one suite problem and no test.
#[test]
fn ginkgo_v1_before_suite_failure_is_a_suite_problem() {
    let console = console("ginkgo-v1/before-suite");
    assert!(console.contains("[BeforeSuite] BeforeSuite"), "the console shows the BeforeSuite failure");
    let c = ginkgo_v1_summary(&console);
    assert_eq!(count_of(&c, &["Passed"]), 0);
    let report = parsed("ginkgo-v1/before-suite", "junit.xml", ReportFormat::Junit);
    assert_eq!(report.totals, Totals { suite_problems: 1, ..Default::default() }, "notes: {:?}", report.notes);
    assert!(report.totals.has_failures());
    let problem = &report.suite_problems[0];
    assert_eq!(problem.suite, "Cluster Suite");
    assert!(problem.message.contains("cluster unreachable"), "{}", problem.message);
}

#[derive(serde::Deserialize)]
struct Expected {
    file: String,
    format: ReportFormat,
    totals: Totals,
    failed_names: Vec<String>,
    #[serde(default)]
    note_contains: Option<String>,
    #[serde(default)]
    flaky_names: Vec<String>,
    #[serde(default)]
    suite_problems: Vec<String>,
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
        assert!(
            report.failures.iter().all(|f| !f.message.is_empty()) || name == "go-junit-report",
            "{name}: {:?}",
            report.failures
        );
        let flaky: Vec<_> = report.flaky.iter().map(|f| f.name.clone()).collect();
        assert_eq!(flaky, expected.flaky_names, "{name}");
        let problems: Vec<_> = report.suite_problems.iter().map(|p| p.message.clone()).collect();
        assert_eq!(problems.len(), expected.suite_problems.len(), "{name}: {problems:?}");
        for (problem, wanted) in problems.iter().zip(&expected.suite_problems) {
            assert!(problem.contains(wanted.as_str()), "{name}: {problem:?} should contain {wanted:?}");
        }
        if let Some(note) = expected.note_contains {
            assert!(report.notes.iter().any(|n| n.contains(&note)), "{name}: {:?}", report.notes);
        }
    }
}

/// `go test -count=3` repeats each test three times in one package run: six tests as
/// `go test -v` prints them (one `--- FAIL`), not two tests with reruns — a run that
/// failed once is not a flaky pass.
#[test]
fn go_test_count_repeats_are_tests_not_reruns() {
    let console = console("go-test-count");
    let statuses: Vec<&str> = console
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--- "))
        .map(|r| r.split(':').next().unwrap())
        .collect();
    let expected = totals(
        statuses.iter().filter(|s| **s == "PASS").count() as u64,
        statuses.iter().filter(|s| **s == "FAIL").count() as u64,
        0,
        0,
    );
    assert_eq!((expected.tests, expected.failed), (6, 1), "{console}");
    let report = parsed("go-test-count", "report.json", ReportFormat::GoTestJson);
    assert_eq!(report.totals, expected, "notes: {:?}", report.notes);
    assert!(report.flaky.is_empty(), "{:?}", report.flaky);
    assert!(console.lines().any(|l| l.starts_with("FAIL\texample.com/count/repeat")), "go test failed the package");
}

/// pytest writes a test whose call failed and whose teardown failed too as two test
/// cases; its summary counts that test as failed (and an error), a passing test whose
/// teardown failed as passed (and an error). Each test is counted once: by the short
/// summary's first word for it (FAILED before ERROR), passed when not listed.
#[test]
fn pytest_teardown_errors_count_each_test_once() {
    let console = console("pytest-teardown");
    let collected: u64 = console
        .lines()
        .find_map(|l| l.strip_prefix("collected "))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("collected N items");
    let mut outcome: std::collections::BTreeMap<String, &str> = std::collections::BTreeMap::new();
    for line in console.lines() {
        for word in ["FAILED", "ERROR"] {
            if let Some(rest) = line.strip_prefix(&format!("{word} ")) {
                let test = rest.split(" - ").next().unwrap().to_string();
                outcome.entry(test).or_insert(word);
            }
        }
    }
    let failed = outcome.values().filter(|w| **w == "FAILED").count() as u64;
    let errored = outcome.values().filter(|w| **w == "ERROR").count() as u64;
    let expected = totals(collected - failed - errored, failed, errored, 0);
    assert_eq!(expected, totals(1, 1, 1, 0), "{console}");
    let report = parsed("pytest-teardown", "report.xml", ReportFormat::Junit);
    assert_eq!(report.totals, expected, "notes: {:?}", report.notes);
    assert!(report.notes.iter().any(|n| n.contains("its teardown failed too")), "{:?}", report.notes);
}

/// jest-junit names a file's suite after its first describe, `undefined` when its first
/// test is top-level: two files with a top-level test of the same name give two
/// `undefined` suites with equal test cases — two tests (one failed), as jest says, not
/// one flaky test.
#[test]
fn jest_top_level_tests_of_equal_names_in_two_files_are_two_tests() {
    let console = console("jest-top-level");
    let c = counts(console.lines().find_map(|l| l.strip_prefix("Tests:")).expect("jest Tests: line"));
    let expected = totals(count_of(&c, &["passed"]), count_of(&c, &["failed"]), 0, 0);
    assert_eq!((expected.tests, expected.failed), (2, 1), "{console}");
    let report = parsed("jest-top-level", "junit.xml", ReportFormat::Junit);
    assert_eq!(report.totals, expected, "notes: {:?}", report.notes);
    assert!(report.flaky.is_empty(), "{:?}", report.flaky);
}
