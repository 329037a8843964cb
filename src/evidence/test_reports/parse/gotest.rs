//! `go test -json` streams (the `test2json` event format), one event a line.
//!
//! Counting rules (on top of the shared ones in [`super`]):
//! - Only leaf tests count: a test without subtests, and every subtest without subtests
//!   of its own. A parent whose subtests ran is a container, not a test; when it fails
//!   while none of its subtests did (a `t.Error` in its own body after `t.Run`), that is
//!   a suite problem of its package, so no failure is lost. A table test with ten cases
//!   is ten tests, not eleven.
//! - A test is identified by package and name: a rerun of it (`gotestsum --rerun-fails`
//!   writes every attempt into one stream, each rerun a new run of the package, after
//!   the package's result) is another attempt of the same test, and the last attempt
//!   decides; failed then passed is passed and flaky. Runs of a test within one run of
//!   its package (`go test -count=N`) are not attempts but N tests, as `go test` and
//!   gotestsum count them.
//! - `skip` → skipped; a panic ends the test with `fail` → failed, its message shows
//!   the panic.
//! - A package that fails without any failed test is a suite problem of the package:
//!   a build failure (`FAIL <pkg> [build failed]`, `[setup failed]`, Go ≥ 1.24
//!   `build-fail` events; the compiler's output is the message), a `TestMain` that
//!   exits non-zero, a panic outside a test, a timeout.
//! - A test that started and never finished (the binary died, the stream was cut)
//!   counts as errored; a package with no final result and no such test is a suite
//!   problem. Both are noted: a truncated stream is never a pass.
//! - Lines that are not events (compiler output from `go test -json 2>&1`) are ignored
//!   and counted in a note; a malformed event line is unparseable, except a last line
//!   cut in the middle, which is a truncation.
//! - Events without `Package` (`go tool test2json` run on a test binary without `-p`)
//!   are one package's, named "": their tests count like any other.
//! - Duration: the sum of the packages' elapsed times (a rerun's included).

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::io::BufRead;

use serde::Deserialize;

use super::input::{Line, MAX_TOKEN_BYTES, read_line};
use super::{Collector, MessageBuf, Outcome, ParsedReport, Rejected, ReportFormat, TestKey};

/// More tests running at once than this is not a real stream; it only costs memory.
const MAX_RUNNING_TESTS: usize = 50_000;
/// More packages open at once (started, not yet ended) than this is not a real stream
/// (`go test -p` runs a handful at a time); it only costs memory.
const MAX_OPEN_PACKAGES: usize = 10_000;
/// Distinct packages whose failure line outside the events is remembered, so that a
/// repeated line counts once; past this every such line is a suite problem of its own
/// (more problems, never fewer), so memory stays bounded.
const MAX_REMEMBERED_FAILURES: usize = 100_000;
/// Build output kept per package for the error message, in lines.
const MAX_BUILD_OUTPUT_PACKAGES: usize = 1_000;

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "Action", borrow)]
    action: Cow<'a, str>,
    #[serde(rename = "Package", borrow, default)]
    package: Option<Cow<'a, str>>,
    #[serde(rename = "ImportPath", borrow, default)]
    import_path: Option<Cow<'a, str>>,
    #[serde(rename = "Test", borrow, default)]
    test: Option<Cow<'a, str>>,
    #[serde(rename = "Output", borrow, default)]
    output: Option<Cow<'a, str>>,
    #[serde(rename = "Elapsed", default)]
    elapsed: Option<f64>,
}

/// A name's identity: packages and tests are held by the hash of their whole name
/// (memory must not grow with the names a stream sends), and shown by their capped name.
type NameKey = u64;

fn name_key(name: &str) -> NameKey {
    // `DefaultHasher::new()` has fixed keys: the same name gives the same key.
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut hasher);
    hasher.finish()
}

#[derive(Default)]
struct RunningTest {
    /// The test's name, capped ([`super::cap_name`]): for the note when it never ends.
    name: String,
    has_subtests: bool,
    subtest_failed: bool,
    output: MessageBuf,
}

#[derive(Default)]
struct Package {
    /// The package's name, capped.
    name: String,
    running: HashMap<NameKey, RunningTest>,
    any_test: bool,
    any_failure: bool,
    output: MessageBuf,
    /// How often each test finished in this run of the package: `go test -count=N`
    /// runs a test N times in one package run, and each run is a test of its own.
    finished: HashMap<NameKey, u32>,
}

impl Package {
    /// The key of `test`'s next run in this package run: its n-th run in this package
    /// run is the n-th test of that name, so that a rerun (in a later package run, as
    /// `gotestsum --rerun-fails` makes one) is an attempt of the first, while repeats
    /// within one run (`-count=N`) are separate tests.
    fn key(&self, package: &str, test: &str) -> TestKey {
        match self.finished.get(&name_key(test)).copied().unwrap_or(0) {
            0 => TestKey::of(&[package, test]),
            n => TestKey::of(&[package, test, &n.to_string()]),
        }
    }

    fn finish(&mut self, test: &str) {
        let key = name_key(test);
        if self.finished.len() < super::MAX_TRACKED_TESTS || self.finished.contains_key(&key) {
            *self.finished.entry(key).or_default() += 1;
        }
    }
}

/// The package an `ImportPath` of a build event belongs to: Go ≥ 1.24 names the test
/// binary's build as `example.com/p [example.com/p.test]` (or `example.com/p_test
/// [example.com/p.test]` for an external test package), the package events as
/// `example.com/p`.
fn build_package(import_path: &str) -> &str {
    let path = import_path.split(" [").next().unwrap_or(import_path);
    path.strip_suffix("_test").unwrap_or(path)
}

pub(crate) fn parse<R: BufRead>(mut reader: R) -> Result<ParsedReport, Rejected> {
    let mut state = State::new();
    let mut line = Vec::with_capacity(4096);
    let mut number = 0u64;
    loop {
        let kind = read_line(&mut reader, &mut line)
            .map_err(|e| Rejected::unparseable(ReportFormat::GoTestJson, format!("cannot read the file: {e}")))?;
        number += 1;
        match kind {
            Line::Eof => break,
            Line::TooLong => {
                return Err(Rejected::unparseable(
                    ReportFormat::GoTestJson,
                    format!(
                        "line {number} is longer than {} MiB; such a stream is broken or hostile",
                        MAX_TOKEN_BYTES / (1024 * 1024)
                    ),
                ));
            }
            Line::Complete | Line::Unterminated => {}
        }
        let text = std::str::from_utf8(&line).map_err(|e| {
            Rejected::unparseable(
                ReportFormat::GoTestJson,
                format!("line {number} is not valid UTF-8 (at byte {} of the line)", e.valid_up_to()),
            )
        })?;
        let trimmed = text.trim();
        if trimmed.is_empty() {
            continue;
        }
        if !trimmed.starts_with('{') {
            state.other_line(trimmed);
            continue;
        }
        match serde_json::from_str::<Event<'_>>(trimmed) {
            Ok(event) => state.event(event)?,
            Err(_) if kind == Line::Unterminated => {
                state
                    .collector
                    .note(|| format!("line {number}, the last one, is cut off in the middle: the stream is truncated"));
                break;
            }
            Err(e) => {
                return Err(Rejected::unparseable(
                    ReportFormat::GoTestJson,
                    format!("line {number} is not a valid go test -json event: {e}"),
                ));
            }
        }
    }
    Ok(state.finish())
}

struct State {
    packages: HashMap<NameKey, Package>,
    /// Compiler output of packages (Go ≥ 1.24 `build-output` events), by import path.
    build_output: HashMap<NameKey, MessageBuf>,
    running_total: usize,
    elapsed: Option<f64>,
    other_lines: u64,
    /// The package whose compiler output (`# <package>` block) is being read.
    compiling: Option<String>,
    /// Packages already counted as build failures (from `[build failed]` lines), at most
    /// [`MAX_REMEMBERED_FAILURES`].
    build_failed: HashSet<NameKey>,
    collector: Collector,
}

impl State {
    fn new() -> Self {
        State {
            packages: HashMap::new(),
            build_output: HashMap::new(),
            running_total: 0,
            elapsed: None,
            other_lines: 0,
            compiling: None,
            build_failed: HashSet::new(),
            collector: Collector::new(ReportFormat::GoTestJson),
        }
    }

    /// A line that is not an event. Before Go 1.24 a package that does not build has
    /// no events at all: only `FAIL\t<package> [build failed]` on stdout (and the
    /// compiler's `# <package>` block, when stderr was merged in).
    fn other_line(&mut self, line: &str) {
        self.other_lines += 1;
        if let Some(header) = line.strip_prefix("# ") {
            let package = header.split_whitespace().next().unwrap_or("").to_string();
            self.compiling = (!package.is_empty()).then_some(package);
            return;
        }
        if let Some(package) = build_failure_line(line) {
            self.compiling = None;
            if !self.remember_failure(package) {
                return;
            }
            let message =
                self.build_output.remove(&name_key(package)).map(MessageBuf::finish).filter(|m| !m.is_empty());
            self.collector.suite_problem(package, || match message {
                Some(m) => format!("the package did not build:\n{m}"),
                None => line.to_string(),
            });
            return;
        }
        if let Some(package) = raw_failure_line(line) {
            // go test said a package failed (or a binary panicked) outside its events:
            // whatever the events show, that is no pass (found by a red-team review).
            self.compiling = None;
            if self.remember_failure(package) {
                self.collector
                    .suite_problem(package, || format!("go test reported a failure outside its JSON events: {line}"));
            }
            return;
        }
        if let Some(package) = &self.compiling {
            let key = name_key(package);
            if self.build_output.len() < MAX_BUILD_OUTPUT_PACKAGES || self.build_output.contains_key(&key) {
                self.build_output.entry(key).or_default().push_text(&format!("{line}\n"));
            }
        }
    }

    /// Remembers that `package` failed outside the events; false when it was already
    /// (its failure is counted). Past [`MAX_REMEMBERED_FAILURES`] nothing is remembered
    /// and every line counts.
    fn remember_failure(&mut self, package: &str) -> bool {
        let key = name_key(package);
        if self.build_failed.len() < MAX_REMEMBERED_FAILURES {
            self.build_failed.insert(key)
        } else {
            !self.build_failed.contains(&key)
        }
    }

    fn event(&mut self, event: Event<'_>) -> Result<(), Rejected> {
        let action = event.action.as_ref();
        if action == "build-output" || action == "build-fail" {
            if let (Some(path), Some(output)) = (&event.import_path, &event.output) {
                let key = name_key(build_package(path));
                if self.build_output.len() < MAX_BUILD_OUTPUT_PACKAGES || self.build_output.contains_key(&key) {
                    self.build_output.entry(key).or_default().push_text(output);
                }
            }
            return Ok(());
        }
        // `go tool test2json` without `-p` (a precompiled test binary, `go test -c`)
        // names no package: its events are one package's, named "".
        let package_name = event.package.as_deref().unwrap_or("");
        match event.test.as_deref() {
            Some(test) => self.test_event(package_name, test, action, event.output.as_deref()),
            None => self.package_event(package_name, action, event.output.as_deref(), event.elapsed),
        }
    }

    fn test_event(
        &mut self,
        package_name: &str,
        test: &str,
        action: &str,
        output: Option<&str>,
    ) -> Result<(), Rejected> {
        let package = open_package(&mut self.packages, package_name)?;
        let key = name_key(test);
        match action {
            "run" => {
                if self.running_total >= MAX_RUNNING_TESTS {
                    return Err(Rejected::unparseable(
                        ReportFormat::GoTestJson,
                        format!(
                            "more than {MAX_RUNNING_TESTS} tests are running at once; such a stream is broken or hostile"
                        ),
                    ));
                }
                package.any_test = true;
                if let Some(parent) = parent_of(&mut package.running, test) {
                    parent.has_subtests = true;
                }
                let started = RunningTest { name: super::cap_name(test).into_owned(), ..RunningTest::default() };
                if package.running.insert(key, started).is_none() {
                    self.running_total += 1;
                }
            }
            "output" => {
                if let (Some(running), Some(output)) = (package.running.get_mut(&key), output) {
                    running.output.push_text(output);
                }
            }
            "pass" | "fail" | "skip" => {
                package.any_test = true;
                let finished = package.running.remove(&key);
                if finished.is_some() {
                    self.running_total -= 1;
                }
                let finished = finished.unwrap_or_default();
                let failed = action == "fail";
                if failed {
                    package.any_failure = true;
                    if let Some(parent) = parent_of(&mut package.running, test) {
                        parent.subtest_failed = true;
                    }
                }
                let outcome = match action {
                    "pass" => Outcome::Passed,
                    "fail" => Outcome::Failed,
                    _ => Outcome::Skipped,
                };
                if !finished.has_subtests {
                    let key = package.key(package_name, test);
                    package.finish(test);
                    self.collector.attempt(key, outcome, 0, package_name, test, || finished.output.finish());
                } else if failed && !finished.subtest_failed {
                    let output = finished.output.finish();
                    self.collector.suite_problem(package_name, || {
                        let what = format!("{test} failed outside its subtests (which all passed or were skipped)");
                        if output.is_empty() { what } else { format!("{what}:\n{output}") }
                    });
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn package_event(
        &mut self,
        package_name: &str,
        action: &str,
        output: Option<&str>,
        elapsed: Option<f64>,
    ) -> Result<(), Rejected> {
        match action {
            "output" => {
                if let Some(output) = output {
                    open_package(&mut self.packages, package_name)?.output.push_text(output);
                }
            }
            "start" => {
                open_package(&mut self.packages, package_name)?;
            }
            "pass" | "fail" | "skip" => {
                // A negative or non-finite `Elapsed` is no duration (found by fuzzing).
                if let Some(e) = elapsed.filter(|e| e.is_finite() && *e >= 0.0) {
                    *self.elapsed.get_or_insert(0.0) += e;
                }
                let key = name_key(package_name);
                let package = self.packages.remove(&key).unwrap_or_default();
                let build_output = self.build_output.remove(&key);
                self.close_package(package_name, package, action == "fail", build_output);
            }
            _ => {}
        }
        Ok(())
    }

    /// Counts what a finished (or abandoned) package leaves: unfinished tests, and a
    /// package failure that no test failure explains.
    fn close_package(&mut self, name: &str, mut package: Package, failed: bool, build_output: Option<MessageBuf>) {
        let unfinished = package.running.len();
        self.running_total -= unfinished;
        let mut unfinished_tests: Vec<RunningTest> = std::mem::take(&mut package.running).into_values().collect();
        unfinished_tests.sort_by(|a, b| a.name.cmp(&b.name));
        for running in unfinished_tests {
            let test = &running.name;
            // A parent whose subtest is also unfinished is reported through that subtest.
            if running.has_subtests {
                continue;
            }
            self.collector.note(|| format!("{name} › {test}: started but never finished; counted as errored"));
            let message = running.output.finish();
            self.collector.attempt(package.key(name, test), Outcome::Errored, 0, name, test, || {
                if message.is_empty() { "the test started but never finished".to_string() } else { message }
            });
        }
        if failed && !package.any_failure && unfinished == 0 && !self.build_failed.contains(&name_key(name)) {
            let mut message = build_output.map(MessageBuf::finish).unwrap_or_default();
            let package_output = package.output.finish();
            if !package_output.is_empty() {
                if !message.is_empty() {
                    message.push('\n');
                }
                message.push_str(&package_output);
            }
            let what = if package.any_test {
                "the package failed although none of its tests did (TestMain exit, panic or timeout outside a test)"
            } else {
                "the package failed before any test ran (build or setup failure)"
            };
            self.collector.suite_problem(name, || {
                if message.is_empty() { what.to_string() } else { format!("{what}:\n{message}") }
            });
        }
    }

    fn finish(mut self) -> ParsedReport {
        let mut open: Vec<Package> = std::mem::take(&mut self.packages).into_values().collect();
        open.sort_by(|a, b| a.name.cmp(&b.name));
        for package in open {
            let name = package.name.clone();
            if package.running.is_empty() {
                self.collector.note(|| format!("{name}: the stream ends before the package's result (truncated)"));
                self.collector.suite_problem(&name, || {
                    "the stream ends before the package's result: the report is truncated".to_string()
                });
                continue;
            }
            // Its unfinished tests count as errored, which fails the report already.
            self.collector.note(|| format!("{name}: the stream ends before the package's result (truncated)"));
            self.close_package(&name, package, false, None);
        }
        if self.other_lines > 0 {
            let count = self.other_lines;
            self.collector.note(|| format!("{count} line(s) are not go test -json events and were ignored"));
        }
        self.collector.finish(self.elapsed)
    }
}

/// The package of a `FAIL\t<package> [build failed]` (or `[setup failed]`) line.
fn build_failure_line(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("FAIL")?.trim_start();
    let (package, reason) = rest.split_once(char::is_whitespace)?;
    matches!(reason.trim(), "[build failed]" | "[setup failed]").then_some(package)
}

/// The open package `name` of `packages`, started when it is new; an error past
/// [`MAX_OPEN_PACKAGES`].
fn open_package<'a>(packages: &'a mut HashMap<NameKey, Package>, name: &str) -> Result<&'a mut Package, Rejected> {
    let open = packages.len();
    match packages.entry(name_key(name)) {
        Entry::Occupied(entry) => Ok(entry.into_mut()),
        Entry::Vacant(_) if open >= MAX_OPEN_PACKAGES => Err(Rejected::unparseable(
            ReportFormat::GoTestJson,
            format!("more than {MAX_OPEN_PACKAGES} packages are open at once; such a stream is broken or hostile"),
        )),
        Entry::Vacant(entry) => {
            Ok(entry.insert(Package { name: super::cap_name(name).into_owned(), ..Package::default() }))
        }
    }
}

/// The package (or `go test` when none is named) of a failure line that is not an
/// event: `FAIL\t<package>\t<time>`, `FAIL\t<package>`, `--- FAIL: <test>`, `FAIL`, or
/// `panic: …` — go test prints these to stdout when a stream is not wholly JSON.
fn raw_failure_line(line: &str) -> Option<&str> {
    let line = line.trim_end();
    if line.starts_with("panic: ") || line.starts_with("--- FAIL") || line == "FAIL" {
        return Some("go test");
    }
    let rest = line.strip_prefix("FAIL")?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    rest.split_whitespace().next()
}

/// The running test that `test` is a subtest of: the longest running name that is a
/// `/`-separated prefix (subtest names may themselves contain `/`).
fn parent_of<'a>(running: &'a mut HashMap<NameKey, RunningTest>, test: &str) -> Option<&'a mut RunningTest> {
    let mut end = test.len();
    while let Some(slash) = test[..end].rfind('/') {
        let key = name_key(&test[..slash]);
        if running.contains_key(&key) {
            return running.get_mut(&key);
        }
        end = slash;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::Totals;
    use super::*;

    fn ev(action: &str, test: Option<&str>, output: Option<&str>) -> String {
        let mut object =
            serde_json::json!({"Time": "2024-05-01T10:00:00Z", "Action": action, "Package": "example.com/p"});
        if let Some(t) = test {
            object["Test"] = t.into();
        }
        if let Some(o) = output {
            object["Output"] = o.into();
        }
        if test.is_none() && matches!(action, "pass" | "fail") {
            object["Elapsed"] = 0.5.into();
        }
        object.to_string() + "\n"
    }

    fn parse_lines(lines: &[String]) -> ParsedReport {
        parse(lines.concat().as_bytes()).unwrap()
    }

    #[test]
    fn only_leaf_tests_count_and_a_parent_failing_on_its_own_is_a_suite_problem() {
        let report = parse_lines(&[
            ev("start", None, None),
            ev("run", Some("TestTable"), None),
            ev("run", Some("TestTable/a"), None),
            ev("pass", Some("TestTable/a"), None),
            ev("run", Some("TestTable/b"), None),
            ev("output", Some("TestTable/b"), Some("    t_test.go:9: want 2\n")),
            ev("fail", Some("TestTable/b"), None),
            ev("fail", Some("TestTable"), None),
            ev("run", Some("TestOwn"), None),
            ev("run", Some("TestOwn/x"), None),
            ev("pass", Some("TestOwn/x"), None),
            ev("output", Some("TestOwn"), Some("    t_test.go:20: cleanup failed\n")),
            ev("fail", Some("TestOwn"), None),
            ev("run", Some("TestSkip"), None),
            ev("skip", Some("TestSkip"), None),
            ev("fail", None, None),
        ]);
        assert_eq!(
            report.totals,
            Totals { tests: 4, passed: 2, failed: 1, skipped: 1, suite_problems: 1, ..Default::default() }
        );
        let names: Vec<_> = report.failures.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["TestTable/b"]);
        assert_eq!(report.failures[0].message, "    t_test.go:9: want 2");
        assert_eq!(report.suite_problems[0].suite, "example.com/p");
        assert_eq!(
            report.suite_problems[0].message,
            "TestOwn failed outside its subtests (which all passed or were skipped):\n    t_test.go:20: cleanup failed"
        );
        assert_eq!(report.duration_seconds, Some(0.5));
    }

    /// go test's own failure lines outside the events (a stream with stdout merged in)
    /// are no pass, whatever the events say (found by a red-team review).
    #[test]
    fn a_failure_said_outside_the_events_is_a_suite_problem() {
        for raw in [
            "FAIL\texample.com/q\t0.01s\n",
            "panic: runtime error: index out of range\n",
            "--- FAIL: TestX (0.00s)\n",
            "FAIL\n",
        ] {
            let text =
                ev("run", Some("TestA"), None) + &ev("pass", Some("TestA"), None) + raw + &ev("pass", None, None);
            let report = parse(text.as_bytes()).unwrap();
            assert_eq!(report.totals.suite_problems, 1, "{raw:?}");
            assert!(report.suite_problems[0].message.contains("outside its JSON events"), "{raw:?}");
        }
        // Lines that only look alike are not failures.
        let text = ev("run", Some("TestA"), None)
            + &ev("pass", Some("TestA"), None)
            + "FAILOVER configured\n"
            + &ev("pass", None, None);
        assert_eq!(parse(text.as_bytes()).unwrap().totals.suite_problems, 0);
    }

    #[test]
    fn a_build_failure_is_a_suite_problem_with_the_compiler_message() {
        let report = parse_lines(&[
            ev("start", None, None),
            ev("output", None, Some("# example.com/p\n")),
            ev("output", None, Some("./p_test.go:5:2: undefined: missing\n")),
            ev("output", None, Some("FAIL\texample.com/p [build failed]\n")),
            ev("fail", None, None),
        ]);
        assert_eq!(report.totals, Totals { suite_problems: 1, ..Default::default() });
        assert!(report.failures.is_empty());
        let problem = &report.suite_problems[0];
        assert_eq!(problem.suite, "example.com/p");
        assert!(problem.message.contains("undefined: missing"), "{}", problem.message);
    }

    #[test]
    fn a_go_1_19_build_failure_line_outside_the_events_is_a_suite_problem() {
        let text = "FAIL\texample.com/broken [build failed]\n# example.com/other\n./o.go:1: syntax error\nFAIL\texample.com/other [build failed]\n"
            .to_string()
            + &ev("start", None, None)
            + &ev("pass", None, None);
        let report = parse(text.as_bytes()).unwrap();
        assert_eq!(report.totals, Totals { suite_problems: 2, ..Default::default() });
        assert_eq!(report.suite_problems[0].suite, "example.com/broken");
        assert_eq!(report.suite_problems[1].message, "the package did not build:\n./o.go:1: syntax error");
    }

    #[test]
    fn a_truncated_stream_counts_unfinished_tests_as_errored() {
        let mut lines = vec![
            ev("start", None, None),
            ev("run", Some("TestDone"), None),
            ev("pass", Some("TestDone"), None),
            ev("run", Some("TestHanging"), None),
            ev("output", Some("TestHanging"), Some("waiting for pod\n")),
        ];
        let cut = ev("pass", Some("TestOther"), None);
        lines.push(cut[..cut.len() / 2].to_string());
        let report = parse_lines(&lines);
        assert_eq!(report.totals, Totals { tests: 2, passed: 1, errored: 1, ..Default::default() });
        assert_eq!(report.failures[0].name, "TestHanging");
        assert_eq!(report.failures[0].message, "waiting for pod");
        assert!(report.notes.iter().any(|n| n.contains("cut off")), "{:?}", report.notes);
        assert!(report.notes.iter().any(|n| n.contains("never finished")), "{:?}", report.notes);
        // A package cut before any test: a suite problem, so the report still fails.
        let report = parse_lines(&[ev("start", None, None), ev("output", None, Some("building\n"))]);
        assert_eq!(report.totals, Totals { suite_problems: 1, ..Default::default() });
        assert!(report.suite_problems[0].message.contains("truncated"), "{:?}", report.suite_problems);
    }

    #[test]
    fn a_malformed_line_in_the_middle_is_unparseable() {
        let text = ev("start", None, None) + "{\"Action\": oops}\n" + &ev("pass", None, None);
        let Err(Rejected::Unparseable { format, reason }) = parse(text.as_bytes()) else {
            panic!("must be unparseable")
        };
        assert_eq!(format, Some(ReportFormat::GoTestJson));
        assert!(reason.starts_with("line 2 "), "{reason}");
    }
}
