//! JUnit XML, as the common tools write it.
//!
//! One dialect-free reader covers gotestsum, go-junit-report, Ginkgo `--junit-report`,
//! pytest (xunit1 and xunit2), Maven Surefire/Failsafe, jest-junit,
//! mocha-junit-reporter, vitest, cargo-nextest and Playwright: they differ in which
//! attributes they write and how they nest suites, not in what a `<testcase>` means.
//!
//! Rules (on top of the shared ones in [`super`]):
//! - The root is `<testsuites>` or `<testsuite>`; any other root element means the file
//!   is some other XML (HTML, coverage, a POM) and not a report.
//! - Every `<testcase>` is a test, wherever it sits (suites may nest); a `<testcase>` or
//!   `<testsuite>` element inside a test case makes the file unparseable (refused
//!   rather than a failing test case lost inside a passing one). Its outcome comes from
//!   its children: `<failure>` → failed, `<error>` → errored (a test with both counts
//!   once as failed and is noted; so does pytest's failed call followed by a second
//!   test case holding only its teardown error, `failed on teardown with …`),
//!   `<skipped>` → skipped (pytest's xfail too), none → passed. A `<failure>` or
//!   `<error>` anywhere but as a test case's child makes the file unparseable.
//! - **Two test cases with one name are two tests.** A rerun is a rerun only where the
//!   file says so; a repeated name alone does not (a passing test given the title of a
//!   failing one must not turn the failure into a flaky pass). What says so:
//!   - Surefire's `<flakyFailure>`/`<rerunFailure>` inside one test case (below);
//!   - a suite element whose **declared counts** (`tests=`, `failures=`, …, written by
//!     the runner, not by the tests) agree with reading each run of *consecutive* test
//!     cases with one class and name as attempts of one test, and disagree with reading
//!     each as a test. pytest-rerunfailures (the real plugin writes every attempt as a
//!     test case, the failed ones without a child, and counts each test once) and
//!     Ginkgo v1 `-flakeAttempts` (a test case per attempt, `tests=` counting specs)
//!     write reruns so. Then the last attempt decides, a passing last attempt after
//!     others is passed and flaky, and the earlier attempts' failures are not listed.
//!     A test added with a repeated name is counted by its runner, so the counts no
//!     longer read as reruns, and both are tests.
//!
//!   gotestsum `--rerun-fails` writes every attempt into its JUnit but marks none, and
//!   counts every attempt in `tests=`/`failures=` (as `go test -count=2` repeats would
//!   be): each is a test there, every failed attempt a failure. Its `--jsonfile`
//!   (`go test -json`) marks reruns as separate package runs ([`super::gotest`]): keep
//!   that as the evidence of a run with reruns. (kyma-project/telemetry-manager, the
//!   first user, runs gotestsum with `--junitfile` and without `--rerun-fails`.)
//!   Ginkgo v2 JUnit does not say that a spec flaked; its JSON report does
//!   (`NumAttempts`, [`super::ginkgo`]).
//! - Surefire reruns: `<flakyFailure>`/`<flakyError>` without a final `<failure>` or
//!   `<error>` mean the test passed on a rerun: passed and flaky.
//!   `<rerunFailure>`/`<rerunError>` mean every rerun failed too: failed.
//! - Ginkgo suite nodes written as test cases (`[BeforeSuite]`, `[AfterSuite]`,
//!   `[SynchronizedBeforeSuite]`, …, and Ginkgo v1's `BeforeSuite`/`AfterSuite`) are not
//!   tests: a failed one is a suite problem, a passed one is not counted. (Ginkgo v2's
//!   JUnit writes one test case per spec and does not say that a spec flaked: its JSON
//!   report does, through `NumAttempts`.) Every other
//!   pseudo test case a runner writes (gotestsum's `TestMain`, jest's "Test suite failed
//!   to run", mocha's `"before all" hook`, go-junit-report's `[build failed]`) counts as
//!   the test case the file says it is.
//! - Ginkgo v2 writes a suite that failed without a failed spec (did not compile,
//!   `--timeout`, `--fail-on-pending`, `--fail-on-empty`) as a `<testsuite>` whose
//!   `SuiteSucceeded` property is `false`, the reason in `SpecialSuiteFailureReason`:
//!   a suite problem.
//! - jest-junit writes a `test.todo` as a test case without children that its suite's
//!   `tests` does not count: when a suite declares fewer tests than it holds, its other
//!   counts agree, and that many childless test cases have `time="0"`, those are todo
//!   tests: skipped.
//! - **Declared counts are checked.** Counts come from the test cases; a suite element
//!   (and the `<testsuites>` root) whose declared `tests`/`failures`/`errors`/`skipped`
//!   no reading of its test cases explains is a **suite problem**: the runner counted a
//!   test or failure the file does not show (gotestsum declares a package build failure
//!   in `errors` without a test case), or the file holds test cases its runner did not
//!   count. The conventions of the tools are readings too: every test case element
//!   (gotestsum counts every attempt; Ginkgo suite nodes), `tests` without the skipped
//!   ones (Ginkgo v1 leaves pending specs out), `skipped` with or as `disabled` (Ginkgo
//!   v2), `errors` with pytest's teardown errors, without gotestsum's `TestMain` test
//!   case and jest-junit's "Test suite failed to run" ones (neither tool counts them),
//!   and jest-junit's todo tests (above). A failed Ginkgo suite node explains a
//!   disagreement of its suite (Ginkgo v1 declares the specs a failed `BeforeSuite`
//!   kept from running): noted, it already fails the suite.
//! - jest-junit writes a test file that failed to run as two test cases of one name
//!   (class `Test suite failed to run`), an `<error>` and a `<failure>`: one errored test.
//! - Duration: the root `<testsuites time>`, else the sum of the outermost suites'
//!   `time`, else the sum of the test cases' `time`.
//! - Test output (`<system-out>`, `<system-err>`) is never used: it is skipped straight
//!   from the byte stream, which makes the parse several times faster on real reports.
//!   The skip is exact: it follows XML's content grammar (comments, CDATA sections,
//!   processing instructions, nested elements whose quoted attribute values may hold
//!   `>`, end tags that must match), so it ends where any XML reader ends the element;
//!   markup no XML reader accepts makes the file unparseable, never a resynchronisation.
//!   Everything else is tokenised by quick-xml. The output's bytes are not checked for
//!   UTF-8. `tests/it/junit_differential.rs` checks the counts against an independent XML
//!   reader on generated reports with such markup in every position.
//! - No DTD: a `<!DOCTYPE>` that declares entities or names an external subset makes
//!   the file unparseable, so entities are never expanded and nothing is fetched.

use std::borrow::Cow;
use std::io::BufRead;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::input::{Allowance, Bounded, MAX_TOKEN_BYTES, Rechunk};
use super::{
    Collector, FlakyTest, Listing, MAX_LISTED_FLAKY, MessageBuf, Outcome, ParsedReport, Rejected, ReportFormat, Totals,
};

/// The fixed chunks quick-xml is fed ([`Rechunk`]): the only copy of the file's bytes.
const CHUNK: usize = 128 * 1024;
/// Deeper element nesting than this is not a report: it only costs memory.
const MAX_DEPTH: usize = 512;
/// The names of all open elements together may not be longer than this.
const MAX_OPEN_NAMES: usize = 64 * 1024;
/// Ginkgo's suite-level nodes as its JUnit reporters name their test cases: v2 writes
/// `[<node type>]`, followed by ` <text>` when the node has one (`[ReportAfterSuite]
/// merge reports`); v1 writes `BeforeSuite`/`AfterSuite` bare.
const GINKGO_SUITE_NODES: &[&str] = &[
    "[BeforeSuite]",
    "[AfterSuite]",
    "[SynchronizedBeforeSuite]",
    "[SynchronizedAfterSuite]",
    "[ReportBeforeSuite]",
    "[ReportAfterSuite]",
    "[DeferCleanup (Suite)]",
];
const GINKGO_V1_SUITE_NODES: &[&str] = &["BeforeSuite", "AfterSuite"];

fn is_ginkgo_suite_node(name: &str) -> bool {
    // Every node name starts with `[`, `B` or `A`: most test names are out at once.
    if !matches!(name.as_bytes().first(), Some(b'[' | b'B' | b'A')) {
        return false;
    }
    GINKGO_V1_SUITE_NODES.contains(&name)
        || GINKGO_SUITE_NODES
            .iter()
            .any(|node| name.strip_prefix(node).is_some_and(|rest| rest.is_empty() || rest.starts_with(' ')))
}

/// Parses a JUnit XML stream. `declared` says the file opened with `<?xml`, so an
/// error before the root element makes it unparseable rather than "not a report".
pub(crate) fn parse<R: std::io::Read>(mut reader: R, declared: bool) -> Result<ParsedReport, Rejected> {
    // The XML declaration is checked on the bytes, before quick-xml sees them: a
    // declaration holding `<` (or not ended within 1 KiB) is tokenised differently
    // depending on how the bytes arrive (found by fuzzing), so it is refused here,
    // the same way whatever the read buffer. A real declaration is one short line.
    let mut head = Vec::new();
    if declared {
        use std::io::Read;
        (&mut reader)
            .take(1024)
            .read_to_end(&mut head)
            .map_err(|e| Rejected::Unparseable { format: None, reason: format!("cannot read the file: {e}") })?;
        let end = head.windows(2).position(|w| w == b"?>");
        let body = &head[..end.unwrap_or(head.len())];
        if end.is_none() || body[2..].contains(&b'<') {
            return Err(Rejected::Unparseable {
                format: None,
                reason: "the XML declaration (`<?xml … ?>`) is malformed".into(),
            });
        }
    }
    parse_stream(Rechunk::new(std::io::Read::chain(std::io::Cursor::new(head), reader), CHUNK), declared)
}

fn parse_stream<R: BufRead>(reader: R, declared: bool) -> Result<ParsedReport, Rejected> {
    let allowance = Allowance::new();
    let mut xml = Reader::from_reader(Bounded::new(reader, allowance.clone()));
    let config = xml.config_mut();
    config.expand_empty_elements = false;
    // End tags are checked against our own stack (`State::open`): quick-xml's check
    // would fail after a raw skip of an element's content (see `skip_content`).
    config.check_end_names = false;
    let mut state = State::new(declared);
    let mut scanner = ContentScanner::default();
    // Grows to the longest token read (bounded by `Allowance`); most are short.
    let mut buf = Vec::with_capacity(8 * 1024);
    loop {
        allowance.reset();
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(error) => {
                let position = xml.error_position() + state.skipped;
                return Err(state.read_error(&error, position, allowance.exhausted()));
            }
        };
        match event {
            Event::Start(e) => {
                state.start(&e, false)?;
                let name = local_name(e.name().into_inner());
                if name == "system-out" || name == "system-err" {
                    allowance.unlimited();
                    let position = xml.buffer_position() + state.skipped;
                    match skip_content_with(xml.get_mut(), &mut scanner, e.name().into_inner().as_bytes()) {
                        Ok(skipped) => state.skipped += skipped,
                        Err(SkipError::Truncated) => {
                            return Err(state.unparseable(format!(
                                "the document ends inside <{name}> (opened near byte {position}): the file is truncated"
                            )));
                        }
                        Err(SkipError::Malformed(reason, at)) => {
                            let near = position + at;
                            return Err(
                                state.unparseable(format!("malformed XML near byte {near} inside <{name}>: {reason}"))
                            );
                        }
                        Err(SkipError::Read(error)) => {
                            return Err(state.unparseable(format!("cannot read the file: {error}")));
                        }
                    }
                    state.end(e.name().into_inner(), position)?;
                }
            }
            Event::Empty(e) => state.start(&e, true)?,
            Event::End(e) => {
                let position = xml.buffer_position() + state.skipped;
                state.end(e.name().into_inner(), position)?;
            }
            Event::Text(t) => state.text(&t),
            Event::CData(t) => {
                if state.capturing() {
                    state.text(&t);
                }
            }
            Event::GeneralRef(r) => state.reference(&r),
            Event::DocType(d) => state.doctype(&d)?,
            Event::Decl(d) => {
                if let Some(Ok(encoding)) = d.encoding() {
                    state.encoding = Some(encoding.to_ascii_lowercase());
                }
            }
            Event::Eof => return state.finish(),
            Event::Comment(_) | Event::PI(_) => {}
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Declared {
    tests: Option<u64>,
    failures: Option<u64>,
    errors: Option<u64>,
    skipped: Option<u64>,
    disabled: Option<u64>,
}

impl Declared {
    /// What the declared counts get wrong about every reading of the test cases, if
    /// anything. Each declared count may agree with any of `readings` (the counted
    /// tests first, then what a tool may count instead: every test case element). The
    /// conventions of the tools that write JUnit are accepted: `tests` without the
    /// skipped ones (Ginkgo v1 does not count pending specs), `skipped` with or as
    /// `disabled` (Ginkgo v2 counts pending specs there), `errors` with pytest's
    /// teardown errors (`teardown_errors`, written as test cases of their own).
    fn disagreement(&self, readings: &[Totals], teardown_errors: u64) -> Option<String> {
        let mut parts = Vec::new();
        let mut check =
            |label: &str, declared: Option<u64>, counted: fn(&Totals) -> u64, also: &dyn Fn(u64) -> bool| {
                if let Some(declared) = declared
                    && !readings.iter().any(|t| counted(t) == declared)
                    && !also(declared)
                {
                    let counted = readings.first().map(counted).unwrap_or(0);
                    parts.push(format!("{label}={declared} (counted {counted})"));
                }
            };
        check("tests", self.tests, |t| t.tests, &|d| {
            readings.iter().any(|t| t.tests.checked_sub(t.skipped) == Some(d))
        });
        check("failures", self.failures, |t| t.failed, &|_| false);
        check("errors", self.errors, |t| t.errored, &|d| {
            teardown_errors > 0 && readings.iter().any(|t| t.errored + teardown_errors == d)
        });
        let with_disabled = self.skipped.zip(self.disabled).map(|(s, d)| s + d).or(self.disabled);
        check("skipped", self.skipped, |t| t.skipped, &|_| readings.iter().any(|t| with_disabled == Some(t.skipped)));
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// The run of consecutive test cases with one class and name that the last test case
/// of a suite element belongs to: one test in the attempts reading ([`SuiteFrame::attempts`]).
#[derive(Default)]
struct Run {
    /// The class and name of the run's test cases (empty before the suite's first).
    class: String,
    name: String,
    /// Attempts so far (Surefire's `<flakyFailure>` elements included).
    attempts: u32,
    /// The run's outcome in the attempts reading: the last attempt decides (errored when
    /// the last failed and any attempt errored).
    outcome: Option<Outcome>,
    any_errored: bool,
    /// The listed failure of the run's last test case, if it failed.
    listed: Option<Listing>,
    /// Suite and name, kept once the run may be named as flaky.
    identity: Option<(String, String)>,
}

/// One `<testsuite>` element being read (or, for test cases outside any suite, the
/// file's loose test cases).
///
/// Its test cases are counted in two readings at once, and the suite decides which
/// holds when it closes ([`State::close_suite`]): each test case a test
/// ([`SuiteFrame::separate`], the rule), or consecutive test cases with one class and
/// name as attempts of one test ([`SuiteFrame::attempts`]), which holds only when the
/// suite's own declared counts say so.
#[derive(Default)]
struct SuiteFrame {
    name: String,
    declared: Declared,
    time: Option<f64>,
    /// Ginkgo v2's `SuiteSucceeded` property said `false`.
    not_succeeded: bool,
    /// Ginkgo v2's `SpecialSuiteFailureReason` property.
    special_reason: String,
    /// Suite problems found in this suite and below (failed Ginkgo suite nodes).
    problems: u64,
    /// Every test case element in this suite and below, suite nodes and pytest's
    /// teardown test cases included: what a tool may declare instead of the tests.
    elements: Totals,
    /// Each test case a test; nested suites add what they decided.
    separate: Totals,
    /// Consecutive same-named test cases one test; nested suites add what they decided.
    attempts: Totals,
    run: Run,
    /// Test cases that repeat the class and name of the one before them.
    repeats: u64,
    /// Failures listed for test cases that a later attempt replaces (attempts reading).
    superseded: Vec<Listing>,
    /// Flaky tests of each reading, named once the suite decides.
    flaky_separate: Vec<FlakyTest>,
    flaky_attempts: Vec<FlakyTest>,
    /// Passed, childless test cases with `time="0"`: jest-junit todo tests look so.
    todo_candidates: u64,
    /// pytest teardown test cases counted with the test case before them.
    teardown_errors: u64,
    /// Test cases the writing tool leaves out of its declared counts (gotestsum's
    /// `TestMain` test case, jest-junit's "Test suite failed to run"), by outcome.
    uncounted_by_tool: Totals,
}

impl SuiteFrame {
    fn new(name: String, declared: Declared, time: Option<f64>) -> Self {
        SuiteFrame { name, declared, time, ..SuiteFrame::default() }
    }

    /// Ends the current run in the attempts reading: a run of several attempts whose
    /// last passed is a flaky test.
    fn end_run(&mut self, names_left: &mut usize) {
        let run = &mut self.run;
        if run.attempts > 1 && run.outcome == Some(Outcome::Passed) {
            self.attempts.flaky += 1;
            if let Some((suite, name)) = run.identity.take()
                && *names_left > 0
            {
                *names_left -= 1;
                self.flaky_attempts.push(FlakyTest { suite, name, attempts: run.attempts });
            }
        }
    }

    /// Counts one test case (not a suite node, not a teardown) in both readings.
    /// `class` and `name` are the test case's; a new run takes them (and leaves its old
    /// buffers there, to be cleared and reused).
    fn count_case(&mut self, case: Counted, class: &mut String, name: &mut String, names_left: &mut usize) {
        self.separate.count(case.outcome);
        let attempts = case.earlier_failures.saturating_add(1);
        if case.earlier_failures > 0 && case.outcome == Outcome::Passed {
            self.separate.flaky += 1;
            if let Some(identity) = &case.identity
                && *names_left > 0
            {
                *names_left -= 1;
                let (suite, name) = identity.clone();
                self.flaky_separate.push(FlakyTest { suite, name, attempts });
            }
        }
        if case.repeats {
            self.repeats += 1;
            let run = &mut self.run;
            if let Some(previous) = run.outcome {
                self.attempts.uncount(previous);
            }
            run.attempts = run.attempts.saturating_add(attempts);
            run.any_errored |= case.outcome == Outcome::Errored;
            let outcome = if case.outcome.is_failing() && run.any_errored { Outcome::Errored } else { case.outcome };
            run.outcome = Some(outcome);
            self.attempts.count(outcome);
            if let Some(listed) = std::mem::replace(&mut run.listed, case.listed) {
                self.superseded.push(listed);
            }
            if run.identity.is_none() {
                run.identity = case.identity;
            }
        } else {
            self.end_run(names_left);
            self.attempts.count(case.outcome);
            let run = &mut self.run;
            std::mem::swap(&mut run.class, class);
            std::mem::swap(&mut run.name, name);
            run.attempts = attempts;
            run.outcome = Some(case.outcome);
            run.any_errored = case.outcome == Outcome::Errored;
            run.listed = case.listed;
            run.identity = case.identity;
        }
    }
}

/// What [`State::close_case`] needs of the run before the test case.
struct RunView {
    outcome: Option<Outcome>,
}

/// The class jest-junit gives the test cases of a test file that failed to run.
const JEST_SUITE_FAILURE: &str = "Test suite failed to run";

/// `totals` without the test cases of `uncounted` (each count at least 0).
fn without(totals: &Totals, uncounted: &Totals) -> Totals {
    Totals {
        tests: totals.tests.saturating_sub(uncounted.tests),
        passed: totals.passed.saturating_sub(uncounted.passed),
        failed: totals.failed.saturating_sub(uncounted.failed),
        errored: totals.errored.saturating_sub(uncounted.errored),
        skipped: totals.skipped.saturating_sub(uncounted.skipped),
        flaky: totals.flaky,
        suite_problems: totals.suite_problems,
    }
}

/// One closed test case as the suite frame counts it.
struct Counted {
    outcome: Outcome,
    earlier_failures: u32,
    /// It has the class and name of the suite's test case before it.
    repeats: bool,
    listed: Option<Listing>,
    /// Suite and name, when the test case may be named as flaky.
    identity: Option<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CaseResult {
    Passed,
    Skipped,
    Failed,
    Errored,
}

/// The open `<testcase>`. Its name and class live in [`State`]'s reused buffers: most
/// test cases pass, and their names are never needed.
struct CaseFrame {
    /// Element depth of the `<testcase>`.
    depth: usize,
    result: CaseResult,
    failure_and_error: bool,
    /// Child elements seen (any kind).
    children: u32,
    /// The `time` attribute.
    time: Option<f64>,
    flaky: u32,
    reruns: u32,
    /// The element's text (stack trace, test output).
    message: MessageBuf,
    /// The element's `message` attribute.
    attribute_message: Option<String>,
    /// Depth of the result element whose text is being captured.
    capturing: Option<usize>,
    /// The message comes from the first failure or error element only.
    has_message: bool,
}

impl CaseFrame {
    /// The test case's outcome from its children (a Surefire rerun that failed every
    /// time, `<rerunFailure>` without a `<failure>`, is failed, also beside `<skipped>`).
    fn outcome(&self) -> Outcome {
        match self.result {
            CaseResult::Passed | CaseResult::Skipped if self.reruns > 0 => Outcome::Failed,
            CaseResult::Passed => Outcome::Passed,
            CaseResult::Skipped => Outcome::Skipped,
            CaseResult::Failed => Outcome::Failed,
            CaseResult::Errored => Outcome::Errored,
        }
    }
}

struct State {
    declared_xml: bool,
    encoding: Option<String>,
    root_seen: bool,
    depth: usize,
    /// Names of the open elements, concatenated; `open_starts` marks where each begins.
    open: String,
    open_starts: Vec<usize>,
    /// Bytes consumed by raw skips, which quick-xml's positions do not include.
    skipped: u64,
    root: Option<Declared>,
    root_time: Option<f64>,
    outer_suite_time: Option<f64>,
    case_time: Option<f64>,
    suites: Vec<SuiteFrame>,
    case: Option<CaseFrame>,
    case_name: String,
    case_class: String,
    collector: Collector,
    /// Every test case element of the file (see [`SuiteFrame::elements`]).
    elements: Totals,
    /// Suite problems from failed Ginkgo suite nodes.
    suite_node_problems: u64,
    /// Test cases outside any `<testsuite>`.
    loose: SuiteFrame,
    /// Flaky tests the open suites may still keep names of, pending their decision.
    names_left: usize,
    /// pytest teardown test cases counted with the test case before them.
    teardown_errors: u64,
    /// See [`SuiteFrame::uncounted_by_tool`]: the whole file's.
    uncounted_by_tool: Totals,
}

impl State {
    fn new(declared_xml: bool) -> Self {
        State {
            declared_xml,
            encoding: None,
            root_seen: false,
            depth: 0,
            open: String::new(),
            open_starts: Vec::new(),
            skipped: 0,
            root: None,
            root_time: None,
            outer_suite_time: None,
            case_time: None,
            suites: Vec::new(),
            case: None,
            case_name: String::new(),
            case_class: String::new(),
            collector: Collector::new(ReportFormat::Junit),
            elements: Totals::default(),
            suite_node_problems: 0,
            loose: SuiteFrame::default(),
            names_left: 2 * MAX_LISTED_FLAKY,
            teardown_errors: 0,
            uncounted_by_tool: Totals::default(),
        }
    }

    fn unparseable(&self, reason: impl Into<String>) -> Rejected {
        if self.root_seen {
            Rejected::unparseable(ReportFormat::Junit, reason)
        } else {
            Rejected::Unparseable { format: None, reason: reason.into() }
        }
    }

    fn read_error(&self, error: &quick_xml::Error, position: u64, too_long: bool) -> Rejected {
        if too_long {
            return self.unparseable(format!(
                "a single XML tag or text node near byte {position} is longer than {} MiB; such a file is broken or hostile and is not read further",
                MAX_TOKEN_BYTES / (1024 * 1024)
            ));
        }
        if !self.root_seen && !self.declared_xml {
            return Rejected::NotAReport;
        }
        // quick-xml's wording depends on where reads split the bytes; `parse` feeds it
        // fixed chunks (`Rechunk`), so the same file always gets the same reason.
        match error {
            quick_xml::Error::Encoding(_) => {
                let declared = match self.encoding.as_deref() {
                    Some(e) if e != "utf-8" && e != "utf8" => {
                        format!(" (the file declares encoding `{e}`; only UTF-8 is read)")
                    }
                    _ => String::new(),
                };
                self.unparseable(format!("invalid UTF-8 near byte {position}{declared}"))
            }
            other => self.unparseable(format!("malformed XML near byte {position}: {other}")),
        }
    }

    fn capturing(&self) -> bool {
        self.case.as_ref().is_some_and(|c| c.capturing.is_some() && !c.message.is_full())
    }

    fn doctype(&self, doctype: &str) -> Result<(), Rejected> {
        let upper = doctype.to_ascii_uppercase();
        if upper.contains("<!ENTITY") || upper.contains("SYSTEM") || upper.contains("PUBLIC") {
            return Err(Rejected::Unparseable {
                format: None,
                reason: "the XML declares entities or an external DTD in <!DOCTYPE>; test reports never do, and entities are not expanded".into(),
            });
        }
        Ok(())
    }

    fn start(&mut self, e: &BytesStart<'_>, empty: bool) -> Result<(), Rejected> {
        let name = local_name(e.name().into_inner());
        if !self.root_seen {
            if name != "testsuites" && name != "testsuite" {
                return Err(Rejected::NotAReport);
            }
            self.root_seen = true;
        }
        if !empty {
            self.depth += 1;
            if self.depth > MAX_DEPTH || self.open.len() > MAX_OPEN_NAMES {
                return Err(self.unparseable(format!("elements are nested deeper than {MAX_DEPTH} levels")));
            }
            self.open_starts.push(self.open.len());
            self.open.push_str(e.name().into_inner());
        }
        // Depth of this element itself (the depth counter already includes a non-empty one).
        let own_depth = if empty { self.depth + 1 } else { self.depth };
        if let Some(case) = &mut self.case
            && own_depth == case.depth + 1
        {
            case.children += 1;
        }
        match name {
            // A test case or suite inside a test case is no reading any runner writes; an
            // XML reader sees a test there, so it is refused rather than lost (a failing
            // test case inside a passing one would otherwise never be counted).
            "testcase" | "testsuite" if self.case.is_some() => {
                return Err(self.unparseable(format!(
                    "a <{name}> element inside a test case: no JUnit writer nests them, and its tests would not be counted"
                )));
            }
            "testsuites" if own_depth == 1 => {
                let (declared, time, _) = self.suite_attributes(e)?;
                self.root = Some(declared);
                self.root_time = time;
            }
            "testsuite" => {
                let (declared, time, suite_name) = self.suite_attributes(e)?;
                let frame = SuiteFrame::new(suite_name, declared, time);
                if empty {
                    self.close_suite(frame);
                } else {
                    self.suites.push(frame);
                }
            }
            "testcase" => {
                self.open_case(e, own_depth)?;
                if empty {
                    self.close_case();
                }
            }
            "failure" | "error" | "skipped" | "flakyFailure" | "flakyError" | "rerunFailure" | "rerunError" => {
                self.case_child(name, e, own_depth, empty)?;
            }
            "property" if self.case.is_none() && !self.suites.is_empty() => self.suite_property(e)?,
            _ => {}
        }
        Ok(())
    }

    /// Ginkgo v2 writes a suite that failed without a failed spec (it did not compile,
    /// `--timeout` ran out, `--fail-on-pending`, `--fail-on-empty`, skipped after an
    /// earlier suite failed) as an empty `<testsuite>` whose properties say
    /// `SuiteSucceeded=false`, with the reason in `SpecialSuiteFailureReason`.
    fn suite_property(&mut self, e: &BytesStart<'_>) -> Result<(), Rejected> {
        let (mut key, mut value) = (String::new(), String::new());
        for_each_attribute(e, |k, v| match k {
            "name" => key = v.chars().take(64).collect(),
            "value" => value = v.chars().take(2048).collect(),
            _ => {}
        })
        .map_err(|reason| self.unparseable(reason))?;
        let Some(frame) = self.suites.last_mut() else { return Ok(()) };
        match key.as_str() {
            "SuiteSucceeded" => frame.not_succeeded = value.trim().eq_ignore_ascii_case("false"),
            "SpecialSuiteFailureReason" | "SpecialSuiteFailureReasons" if frame.special_reason.is_empty() => {
                frame.special_reason = value.trim().to_string()
            }
            _ => {}
        }
        Ok(())
    }

    /// An end tag with its qualified name, checked against the open element.
    fn end(&mut self, qname: &str, position: u64) -> Result<(), Rejected> {
        let Some(start) = self.open_starts.pop() else {
            return Err(self.unparseable(format!(
                "malformed XML near byte {position}: closing tag </{qname}> without an open element"
            )));
        };
        if &self.open[start..] != qname {
            let open = self.open[start..].to_string();
            return Err(self.unparseable(format!(
                "malformed XML near byte {position}: closing tag </{qname}> does not match <{open}>"
            )));
        }
        self.open.truncate(start);
        let name = local_name(qname);
        let depth = self.depth;
        self.depth = self.depth.saturating_sub(1);
        if let Some(case) = &mut self.case {
            if case.capturing == Some(depth) {
                case.capturing = None;
            }
            if case.depth == depth {
                self.close_case();
            }
            return Ok(());
        }
        if name == "testsuite"
            && let Some(frame) = self.suites.pop()
        {
            self.close_suite(frame);
        }
        Ok(())
    }

    fn text(&mut self, text: &str) {
        if let Some(case) = &mut self.case
            && case.capturing.is_some()
        {
            case.message.push_text(text);
        }
    }

    fn reference(&mut self, reference: &BytesRef<'_>) {
        if !self.capturing() {
            return;
        }
        let resolved: Cow<'_, str> = match reference.resolve_char_ref() {
            Ok(Some(c)) => Cow::Owned(c.to_string()),
            _ => match quick_xml::escape::resolve_predefined_entity(reference) {
                Some(s) => Cow::Borrowed(s),
                None => Cow::Owned(format!("&{};", &**reference)),
            },
        };
        self.text(&resolved);
    }

    fn suite_attributes(&self, e: &BytesStart<'_>) -> Result<(Declared, Option<f64>, String), Rejected> {
        let mut declared = Declared::default();
        let mut time = None;
        let mut name = String::new();
        let mut package = String::new();
        for_each_attribute(e, |key, value| match key {
            "tests" => declared.tests = parse_count(&value),
            "failures" => declared.failures = parse_count(&value),
            "errors" => declared.errors = parse_count(&value),
            "skipped" | "skips" | "skip" => declared.skipped = parse_count(&value),
            "disabled" => declared.disabled = parse_count(&value),
            "time" => time = parse_seconds(&value),
            // Capped as read: suites nest, and memory must not grow with their names.
            "name" => name = super::cap_name(&value).into_owned(),
            "package" => package = super::cap_name(&value).into_owned(),
            _ => {}
        })
        .map_err(|reason| self.unparseable(reason))?;
        // Ginkgo names a suite that did not compile only by its package.
        if name.is_empty() {
            name = package;
        }
        Ok((declared, time, name))
    }

    fn open_case(&mut self, e: &BytesStart<'_>, depth: usize) -> Result<(), Rejected> {
        let (mut name, mut class) = (std::mem::take(&mut self.case_name), std::mem::take(&mut self.case_class));
        name.clear();
        class.clear();
        let mut time = None;
        let read = for_each_attribute(e, |key, value| match key {
            "name" => name.push_str(&value),
            "classname" => class.push_str(&value),
            "time" => time = parse_seconds(&value),
            _ => {}
        });
        (self.case_name, self.case_class) = (name, class);
        read.map_err(|reason| self.unparseable(reason))?;
        if let Some(t) = time {
            *self.case_time.get_or_insert(0.0) += t;
        }
        self.case = Some(CaseFrame {
            depth,
            result: CaseResult::Passed,
            failure_and_error: false,
            children: 0,
            time,
            flaky: 0,
            reruns: 0,
            message: MessageBuf::default(),
            attribute_message: None,
            capturing: None,
            has_message: false,
        });
        Ok(())
    }

    /// Suite and name of the open test case, as listed for failures: the innermost
    /// suite's name (the class when there is none), and the class in front of the name
    /// when it says something the suite and name do not.
    fn case_identity(&self) -> (String, String) {
        let (name, class) = (&self.case_name, &self.case_class);
        let suite_name = self.suites.last().map(|s| s.name.as_str()).unwrap_or("");
        let suite = if suite_name.is_empty() { class.clone() } else { suite_name.to_string() };
        let name = if !class.is_empty() && *class != suite && !name.contains(class.as_str()) {
            format!("{class}.{name}")
        } else {
            name.clone()
        };
        (suite, name)
    }

    fn case_child(&mut self, element: &str, e: &BytesStart<'_>, depth: usize, empty: bool) -> Result<(), Rejected> {
        let decides = matches!(element, "failure" | "error");
        let Some(case) = &mut self.case else {
            return if decides { Err(self.misplaced(element)) } else { Ok(()) };
        };
        if depth != case.depth + 1 {
            return if decides { Err(self.misplaced(element)) } else { Ok(()) };
        }
        let decisive = match element {
            "failure" => {
                case.failure_and_error |= case.result == CaseResult::Errored;
                case.result = CaseResult::Failed;
                true
            }
            "error" => {
                if case.result == CaseResult::Failed {
                    case.failure_and_error = true;
                } else {
                    case.result = CaseResult::Errored;
                }
                true
            }
            "skipped" => {
                if case.result == CaseResult::Passed {
                    case.result = CaseResult::Skipped;
                }
                false
            }
            "flakyFailure" | "flakyError" => {
                case.flaky += 1;
                false
            }
            _ => {
                case.reruns += 1;
                false
            }
        };
        if !decisive || case.has_message {
            return Ok(());
        }
        case.has_message = true;
        let mut message = None;
        let mut attribute_error = None;
        if let Err(reason) = for_each_attribute(e, |key, value| {
            if key == "message" && !value.trim().is_empty() {
                message = Some(value.into_owned());
            }
        }) {
            attribute_error = Some(reason);
        }
        if let Some(reason) = attribute_error {
            return Err(self.unparseable(reason));
        }
        let Some(case) = &mut self.case else { return Ok(()) };
        case.attribute_message = message;
        if !empty {
            case.capturing = Some(depth);
        }
        Ok(())
    }

    /// A `<failure>` or `<error>` that is not a child of a test case (directly under a
    /// suite, or deeper inside a test case): an XML reader sees a failure there, no
    /// reading here counts it, so the file is refused rather than the failure lost.
    fn misplaced(&self, element: &str) -> Rejected {
        self.unparseable(format!(
            "a <{element}> element that is not a child of a <testcase>: its failure would not be counted"
        ))
    }

    fn close_case(&mut self) {
        let Some(case) = self.case.take() else { return };
        let outcome = case.outcome();
        self.elements.count(outcome);
        let frame = self.suites.last_mut().unwrap_or(&mut self.loose);
        frame.elements.count(outcome);
        if is_ginkgo_suite_node(&self.case_name) {
            if outcome.is_failing() {
                self.suite_node_failed(case);
            }
            return;
        }
        let run = &frame.run;
        let repeats = run.attempts > 0 && run.name == self.case_name && run.class == self.case_class;
        let run = RunView { outcome: run.outcome };
        // pytest writes a test whose call failed and whose teardown then failed too as
        // two test cases, the second with only `<error message="failed on teardown
        // with …">`: one test, not a rerun. Only after a failed call (pytest writes the
        // second test case for no other): an errored test case after a passed or skipped
        // one of the same name is a test of its own, whatever its message says.
        if repeats
            && run.outcome.is_some_and(Outcome::is_failing)
            && outcome == Outcome::Errored
            && case.attribute_message.as_deref().is_some_and(|m| m.starts_with("failed on teardown with"))
        {
            self.frame().teardown_errors += 1;
            self.teardown_errors += 1;
            let (suite, name) = self.case_identity();
            self.collector.note(|| format!("{suite} › {name}: its teardown failed too (pytest writes that as a second test case); counted once, with its call's outcome"));
            return;
        }
        // jest-junit writes a test file that failed to run as two test cases of one
        // name, an `<error>` and then a `<failure>`: one errored test, whatever follows.
        let jest_suite_failure = self.case_class == JEST_SUITE_FAILURE;
        if jest_suite_failure && repeats && run.outcome.is_some_and(Outcome::is_failing) {
            return;
        }
        if jest_suite_failure || (self.case_class.is_empty() && self.case_name == "TestMain") {
            self.frame().uncounted_by_tool.count(outcome);
            if self.suites.is_empty() {
                self.uncounted_by_tool.count(outcome);
            }
        }
        if case.failure_and_error {
            let (suite, name) = self.case_identity();
            self.collector
                .note(|| format!("{suite} › {name}: has both a failure and an error; counted once, as failed"));
        }
        if outcome == Outcome::Passed && case.children == 0 && case.time == Some(0.0) {
            self.frame().todo_candidates += 1;
        }
        let may_be_flaky = repeats || case.flaky > 0;
        let identity = (outcome.is_failing() || may_be_flaky).then(|| self.case_identity());
        let CaseFrame { message, attribute_message, flaky, .. } = case;
        let listed = match &identity {
            Some((suite, name)) if outcome.is_failing() => {
                self.collector.list(outcome, suite, name, || compose_message(attribute_message, message.finish()))
            }
            _ => None,
        };
        let counted = Counted {
            outcome,
            earlier_failures: flaky,
            repeats,
            listed,
            identity: identity.filter(|_| may_be_flaky || outcome.is_failing()),
        };
        let frame = self.suites.last_mut().unwrap_or(&mut self.loose);
        frame.count_case(counted, &mut self.case_class, &mut self.case_name, &mut self.names_left);
    }

    /// The innermost open suite, or the file's loose test cases.
    fn frame(&mut self) -> &mut SuiteFrame {
        self.suites.last_mut().unwrap_or(&mut self.loose)
    }

    /// A failed Ginkgo suite node: a suite problem, not a test.
    fn suite_node_failed(&mut self, case: CaseFrame) {
        let (suite, _) = self.case_identity();
        self.suite_node_problems += 1;
        self.frame().problems += 1;
        let CaseFrame { message, attribute_message, .. } = case;
        let node = self.case_name.clone();
        self.collector.suite_problem(&suite, || {
            format!("{node} failed: {}", compose_message(attribute_message, message.finish()))
        });
    }

    /// Decides which reading of the suite's test cases holds, checks its declared counts
    /// against it, and hands its totals to the enclosing suite (or the file).
    fn close_suite(&mut self, mut frame: SuiteFrame) {
        let name =
            if frame.name.is_empty() { "(unnamed)".to_string() } else { super::cap_name(&frame.name).into_owned() };
        frame.end_run(&mut self.names_left);
        let mut chosen = self.choose_reading(&mut frame, &name);
        // jest-junit's declared counts leave its todo tests out altogether.
        let mut without_todo = chosen;
        if let Some(todo) = jest_todo(&frame, &chosen) {
            without_todo = without(&chosen, &Totals { tests: todo, passed: todo, ..Totals::default() });
            chosen.passed -= todo;
            chosen.skipped += todo;
            self.collector.note(|| {
                format!("suite {name} declares {todo} test(s) fewer than it holds; {todo} childless test case(s) with time 0 are jest-junit's todo tests, counted as skipped")
            });
        }
        let by_tool = without(&chosen, &frame.uncounted_by_tool);
        self.check_declared(&frame, &name, &[chosen, without_todo, frame.elements, by_tool]);
        // A suite the runner says did not succeed, with nothing failed to show for it.
        // (A special reason alone, with SuiteSucceeded true, is no failure.)
        if frame.not_succeeded && chosen.failed + chosen.errored + frame.problems == 0 {
            frame.problems += 1;
            let reason = if frame.special_reason.is_empty() {
                "no reason given".to_string()
            } else {
                std::mem::take(&mut frame.special_reason)
            };
            self.collector
                .suite_problem(&name, || format!("suite {name} did not succeed (SuiteSucceeded=false): {reason}"));
        }
        match self.suites.last_mut() {
            Some(parent) => {
                parent.elements.add(&frame.elements);
                parent.separate.add(&chosen);
                parent.attempts.add(&chosen);
                parent.problems += frame.problems;
                parent.uncounted_by_tool.add(&frame.uncounted_by_tool);
            }
            None => {
                if let Some(t) = frame.time {
                    *self.outer_suite_time.get_or_insert(0.0) += t;
                }
                self.collector.add_totals(&chosen);
                self.uncounted_by_tool.add(&frame.uncounted_by_tool);
            }
        }
    }

    /// The suite's totals in the reading that holds: each test case a test, unless the
    /// suite repeats names and its declared counts agree with the attempts reading and
    /// not with the separate one (pytest-rerunfailures, Ginkgo v1 `-flakeAttempts`).
    /// Names the flaky tests of the chosen reading and takes back the failures listed
    /// for attempts it replaced.
    fn choose_reading(&mut self, frame: &mut SuiteFrame, name: &str) -> Totals {
        let declared = frame.declared;
        let attempts = frame.repeats > 0
            && declared.tests.is_some()
            && declared.disagreement(&[frame.attempts], frame.teardown_errors).is_none()
            && declared.disagreement(&[frame.separate], frame.teardown_errors).is_some();
        let (chosen, named, dropped) = if attempts {
            self.collector.unlist(&frame.superseded);
            (frame.attempts, &mut frame.flaky_attempts, frame.flaky_separate.len())
        } else {
            (frame.separate, &mut frame.flaky_separate, frame.flaky_attempts.len())
        };
        self.names_left += named.len() + dropped;
        for test in named.drain(..) {
            self.collector.name_flaky(test);
        }
        let repeats = frame.repeats;
        if attempts {
            self.collector.note(|| format!("suite {name}: {repeats} test case(s) repeat the class and name of the one before them, and the suite's declared counts count each test once (a rerun plugin writes one test case per attempt): counted as attempts of one test, the last deciding"));
        } else if repeats > 0 {
            self.collector.note(|| format!("suite {name}: {repeats} test case(s) repeat the class and name of the one before them; nothing in the file marks them as reruns, so each is counted as a test"));
        }
        chosen
    }

    /// Declared counts that no reading of the test cases explains are a suite problem:
    /// the file does not account for a test it declares (a package that did not build,
    /// as gotestsum writes it, declares an error without a test case), or holds test
    /// cases its runner did not count. A failed suite node explains a disagreement
    /// (Ginkgo v1 declares the specs a failed `BeforeSuite` kept from running).
    fn check_declared(&mut self, frame: &SuiteFrame, name: &str, readings: &[Totals]) {
        let Some(disagreement) = frame.declared.disagreement(readings, frame.teardown_errors) else { return };
        if frame.problems > 0 {
            self.collector.note(|| format!("suite {name} declares {disagreement}; its failed suite node explains it"));
        } else {
            self.collector.suite_problem(name, || {
                format!("suite {name} declares {disagreement}: its declared counts disagree with its test cases")
            });
        }
    }

    fn finish(mut self) -> Result<ParsedReport, Rejected> {
        if !self.root_seen {
            return if self.declared_xml {
                Err(Rejected::Unparseable { format: None, reason: "the XML document has no root element".into() })
            } else {
                Err(Rejected::NotAReport)
            };
        }
        if !self.open_starts.is_empty() {
            return Err(self.unparseable(format!(
                "the document ends inside {} open element(s): the file is truncated",
                self.depth
            )));
        }
        let mut loose = std::mem::take(&mut self.loose);
        loose.end_run(&mut self.names_left);
        let loose_totals = self.choose_reading(&mut loose, "(none)");
        self.collector.add_totals(&loose_totals);
        if let Some(root) = self.root {
            let counted = self.collector.totals();
            let by_tool = without(&counted, &self.uncounted_by_tool);
            if let Some(disagreement) = root.disagreement(&[counted, self.elements, by_tool], self.teardown_errors) {
                if self.suite_node_problems > 0 {
                    self.collector.note(|| {
                        format!("the <testsuites> root declares {disagreement}; a failed suite node explains it")
                    });
                } else {
                    self.collector.suite_problem("", || {
                        format!("the <testsuites> root declares {disagreement}: its declared counts disagree with its test cases")
                    });
                }
            }
        }
        let duration = self.root_time.or(self.outer_suite_time).or(self.case_time);
        Ok(self.collector.finish(duration))
    }
}

/// How many of a jest-junit suite's test cases are todo tests, when the suite looks
/// like one that has them: it declares fewer tests than it holds, its other declared
/// counts agree, and at least that many passed test cases are childless with
/// `time="0"` (jest-junit writes a `test.todo` so and does not count it).
fn jest_todo(frame: &SuiteFrame, counted: &Totals) -> Option<u64> {
    let declared = frame.declared;
    let excess = counted.tests.checked_sub(declared.tests?)?;
    let agrees = |declared: Option<u64>, counted: u64| declared.is_none_or(|d| d == counted);
    let fits = excess > 0
        && frame.todo_candidates >= excess
        && counted.passed.checked_sub(excess).is_some_and(|passed| passed >= counted.flaky)
        && agrees(declared.failures, counted.failed)
        && agrees(declared.errors, counted.errored)
        && agrees(declared.skipped, counted.skipped);
    fits.then_some(excess)
}

/// Why [`skip_content`] stopped before the end tag it looked for.
#[derive(Debug)]
enum SkipError {
    /// The stream ended first.
    Truncated,
    Read(std::io::Error),
    /// The content is not well-formed XML: what is wrong, and its offset from the
    /// start of the content.
    Malformed(String, u64),
}

/// Skips the content of an element whose start tag `<qname …>` was just read, through
/// its end tag, straight from the byte stream: test output (`<system-out>`) is most of
/// a report's bytes and is never used, and going through it event by event (every
/// `&lt;` is one) would cost most of the parse time.
///
/// The scan follows XML's grammar for element content exactly ([`ContentScanner`]), so
/// it ends where an XML reader would end the element and nowhere else: comments, CDATA
/// sections and processing instructions are skipped to their own terminators, nested
/// elements (whose start tags may hold `>` inside quoted attribute values) must close
/// in order, and anything else that starts with `<` is malformed. Returns the bytes
/// skipped. The answer does not depend on how the reads split the bytes.
#[cfg(test)]
fn skip_content(reader: &mut impl BufRead, qname: &[u8]) -> Result<u64, SkipError> {
    skip_content_with(reader, &mut ContentScanner::default(), qname)
}

/// [`skip_content`] with a scanner whose buffers are reused from element to element.
fn skip_content_with(reader: &mut impl BufRead, scanner: &mut ContentScanner, qname: &[u8]) -> Result<u64, SkipError> {
    scanner.start(qname);
    let mut skipped = 0u64;
    loop {
        let chunk = reader.fill_buf().map_err(SkipError::Read)?;
        if chunk.is_empty() {
            return Err(SkipError::Truncated);
        }
        let step = scanner.feed(chunk).map_err(|(reason, at)| SkipError::Malformed(reason, skipped + at as u64))?;
        let used = step.unwrap_or(chunk.len());
        reader.consume(used);
        skipped += used as u64;
        if step.is_some() {
            return Ok(skipped);
        }
    }
}

/// Where [`ContentScanner`] is in XML's content grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Scan {
    /// Character data, up to the next `<`.
    #[default]
    Text,
    /// Just after `<`.
    Open,
    /// After `<!`: how many bytes of `--` or `[CDATA[` matched.
    Bang(usize),
    /// Inside a comment, CDATA section or processing instruction, until its terminator;
    /// `matched` bytes of the terminator were the last ones seen.
    Until { terminator: &'static [u8], matched: usize },
    /// In a start tag's name.
    StartName,
    /// In a start tag after its name: attributes, inside a quoted value when `quote`
    /// is set; `slash` when the last byte was the `/` of an empty element's `/>`.
    Attributes { quote: Option<u8>, slash: bool },
    /// In an end tag's name.
    EndName,
    /// After an end tag's name, before its `>`.
    EndTail,
}

/// An exact scanner of XML element content (the `content` production of XML 1.0),
/// fed chunk by chunk, that finds the end tag closing the element it started in.
#[derive(Default)]
struct ContentScanner {
    qname: Vec<u8>,
    scan: Scan,
    /// The name of the tag being read.
    name: Vec<u8>,
    /// Names of the nested elements open inside the skipped one, concatenated.
    open: Vec<u8>,
    open_starts: Vec<usize>,
}

const CDATA_OPEN: &[u8] = b"[CDATA[";
const COMMENT_OPEN: &[u8] = b"--";

impl ContentScanner {
    /// Starts the content of a new element `<qname …>`.
    fn start(&mut self, qname: &[u8]) {
        self.qname.clear();
        self.qname.extend_from_slice(qname);
        self.scan = Scan::Text;
        self.name.clear();
        self.open.clear();
        self.open_starts.clear();
    }

    /// Reads `chunk`; returns how many of its bytes end the element (through its end
    /// tag's `>`), `None` when it needs more, or what is malformed and where.
    fn feed(&mut self, chunk: &[u8]) -> Result<Option<usize>, (String, usize)> {
        let mut at = 0;
        while at < chunk.len() {
            let rest = &chunk[at..];
            // The two hot states skip ahead with memchr; every other takes one byte.
            match self.scan {
                Scan::Text => match memchr::memchr(b'<', rest) {
                    Some(i) => {
                        at += i + 1;
                        self.scan = Scan::Open;
                    }
                    None => return Ok(None),
                },
                Scan::Until { terminator, matched: 0 } => match memchr::memmem::find(rest, terminator) {
                    Some(i) => {
                        at += i + terminator.len();
                        self.scan = Scan::Text;
                    }
                    None => {
                        let matched = (1..terminator.len()).rev().find(|&k| rest.ends_with(&terminator[..k]));
                        self.scan = Scan::Until { terminator, matched: matched.unwrap_or(0) };
                        return Ok(None);
                    }
                },
                _ => {
                    let done = self.byte(rest[0]).map_err(|reason| (reason, at))?;
                    at += 1;
                    if done {
                        return Ok(Some(at));
                    }
                }
            }
        }
        Ok(None)
    }

    /// Takes one byte outside the hot paths; true when it ends the skipped element.
    fn byte(&mut self, byte: u8) -> Result<bool, String> {
        match self.scan {
            Scan::Text => self.scan = if byte == b'<' { Scan::Open } else { Scan::Text },
            Scan::Open => self.open_markup(byte)?,
            Scan::Bang(matched) => self.bang(matched, byte)?,
            Scan::Until { terminator, matched } => {
                let matched = next_match(terminator, matched, byte);
                self.scan = if matched == terminator.len() { Scan::Text } else { Scan::Until { terminator, matched } };
            }
            Scan::StartName => match byte {
                b'>' => self.start_tag_ends(false)?,
                b'/' => self.scan = Scan::Attributes { quote: None, slash: true },
                _ if byte.is_ascii_whitespace() => self.scan = Scan::Attributes { quote: None, slash: false },
                _ => self.name_byte(byte)?,
            },
            Scan::Attributes { quote: Some(q), .. } => match byte {
                b'<' => return Err("`<` inside an attribute value".into()),
                _ if byte == q => self.scan = Scan::Attributes { quote: None, slash: false },
                _ => {}
            },
            Scan::Attributes { quote: None, slash } => match byte {
                b'>' => self.start_tag_ends(slash)?,
                _ if slash => return Err("`/` inside a start tag not followed by `>`".into()),
                b'/' => self.scan = Scan::Attributes { quote: None, slash: true },
                b'"' | b'\'' => self.scan = Scan::Attributes { quote: Some(byte), slash: false },
                b'<' => return Err("`<` inside a start tag".into()),
                _ => {}
            },
            Scan::EndName => match byte {
                b'>' => return self.end_tag_ends(),
                _ if byte.is_ascii_whitespace() => self.scan = Scan::EndTail,
                _ => self.name_byte(byte)?,
            },
            Scan::EndTail => match byte {
                b'>' => return self.end_tag_ends(),
                _ if byte.is_ascii_whitespace() => {}
                _ => return Err("an end tag holds more than its name".into()),
            },
        }
        Ok(false)
    }

    fn open_markup(&mut self, byte: u8) -> Result<(), String> {
        self.name.clear();
        self.scan = match byte {
            b'!' => Scan::Bang(0),
            b'?' => Scan::Until { terminator: b"?>", matched: 0 },
            b'/' => Scan::EndName,
            _ if is_name_start(byte) => {
                self.name.push(byte);
                Scan::StartName
            }
            _ => return Err("`<` not followed by a tag, comment, CDATA section or processing instruction".into()),
        };
        Ok(())
    }

    fn bang(&mut self, matched: usize, byte: u8) -> Result<(), String> {
        let matched = matched + 1;
        // `matched` counts bytes after `<!`; both openings are told apart by their first byte.
        let (opening, terminator): (&[u8], &'static [u8]) =
            if self.name.first() == Some(&b'[') || (self.name.is_empty() && byte == b'[') {
                (CDATA_OPEN, b"]]>")
            } else {
                (COMMENT_OPEN, b"-->")
            };
        if opening.get(matched - 1) != Some(&byte) {
            return Err("`<!` inside element content that opens neither a comment nor a CDATA section".into());
        }
        self.name.push(byte);
        self.scan = if matched == opening.len() { Scan::Until { terminator, matched: 0 } } else { Scan::Bang(matched) };
        Ok(())
    }

    fn name_byte(&mut self, byte: u8) -> Result<(), String> {
        if !is_name_byte(byte) {
            return Err(format!("byte `{}` inside a tag name", byte.escape_ascii()));
        }
        if self.name.len() >= MAX_OPEN_NAMES {
            return Err(format!("a tag name longer than {MAX_OPEN_NAMES} bytes"));
        }
        self.name.push(byte);
        Ok(())
    }

    fn start_tag_ends(&mut self, empty: bool) -> Result<(), String> {
        self.scan = Scan::Text;
        // An XML reader would count a test case here (test output at suite level holding
        // one); no runner writes that, so it is refused rather than skipped.
        let local = self.name.rsplit(|&b| b == b':').next().unwrap_or_default();
        if local == b"testcase" || local == b"testsuite" {
            return Err(format!("a <{}> element inside test output", String::from_utf8_lossy(local)));
        }
        if empty {
            return Ok(());
        }
        if self.open_starts.len() >= MAX_DEPTH || self.open.len() + self.name.len() > MAX_OPEN_NAMES {
            return Err(format!("elements are nested deeper than {MAX_DEPTH} levels"));
        }
        self.open_starts.push(self.open.len());
        self.open.extend_from_slice(&self.name);
        Ok(())
    }

    /// An end tag is complete: it closes the innermost open element, or the skipped one.
    fn end_tag_ends(&mut self) -> Result<bool, String> {
        self.scan = Scan::Text;
        let expected = match self.open_starts.last() {
            Some(&start) => &self.open[start..],
            None => &self.qname,
        };
        if self.name != expected {
            return Err(format!(
                "closing tag </{}> does not match <{}>",
                String::from_utf8_lossy(&self.name),
                String::from_utf8_lossy(expected)
            ));
        }
        match self.open_starts.pop() {
            Some(start) => {
                self.open.truncate(start);
                Ok(false)
            }
            None => Ok(true),
        }
    }
}

/// How much of `terminator` is matched after `byte`, when `matched` bytes were before
/// (the terminators are short and only repeat their first byte: `]]>`, `-->`, `?>`).
fn next_match(terminator: &[u8], matched: usize, byte: u8) -> usize {
    if byte == terminator[matched] {
        matched + 1
    } else if byte == terminator[0] {
        // `]]]>`, `--->`: a repeated first byte keeps the longest run of it that fits.
        if matched >= 2 && terminator[1] == terminator[0] { matched } else { 1 }
    } else {
        0
    }
}

/// A byte that may start an XML name (any byte of a multi-byte UTF-8 character may).
fn is_name_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_' || byte == b':' || byte >= 0x80
}

fn is_name_byte(byte: u8) -> bool {
    is_name_start(byte) || byte.is_ascii_digit() || byte == b'-' || byte == b'.'
}

/// A failure's message: its `message` attribute, then its text. An attribute that
/// says nothing ("Failed", as gotestsum writes) or that the text repeats is left out.
fn compose_message(attribute: Option<String>, text: String) -> String {
    let attribute = attribute.map(|a| a.trim().to_string()).filter(|a| !a.is_empty());
    match attribute {
        None => text,
        Some(a) if text.is_empty() => super::first_lines(&a),
        Some(a) if matches!(a.to_ascii_lowercase().as_str(), "failed" | "failure" | "error") || text.contains(&a) => {
            text
        }
        Some(a) => super::first_lines(&format!("{a}\n{text}")),
    }
}

/// Calls `f` with each attribute's local name and value (predefined entities and
/// character references resolved; the raw value when it holds anything else).
fn for_each_attribute(e: &BytesStart<'_>, mut f: impl FnMut(&str, Cow<'_, str>)) -> Result<(), String> {
    for attribute in e.attributes().with_checks(false) {
        let attribute =
            attribute.map_err(|err| format!("malformed attribute in <{}>: {err}", e.local_name().into_inner()))?;
        // Most values hold nothing XML 1.0 normalizes (`&`, `\t`, `\n`, `\r`): they are
        // used as they are, found by a check the compiler vectorizes (quick-xml's own
        // goes byte by byte).
        let plain = !attribute.value.bytes().fold(false, |found, b| found | matches!(b, b'&' | b'\t' | b'\n' | b'\r'));
        let value = if plain {
            attribute.value.clone()
        } else {
            match attribute.normalized_value(XmlVersion::Implicit1_0) {
                Ok(v) => v,
                Err(_) => attribute.value.clone(),
            }
        };
        f(local_name(attribute.key.into_inner()), value);
    }
    Ok(())
}

/// A qualified name without its prefix (`x:testcase` → `testcase`; after the first
/// colon, as quick-xml's `local_name`). Names are short: a plain scan beats quick-xml's
/// memchr set-up, per tag and attribute.
fn local_name(qname: &str) -> &str {
    match qname.bytes().position(|b| b == b':') {
        Some(colon) => &qname[colon + 1..],
        None => qname,
    }
}

fn parse_count(value: &str) -> Option<u64> {
    value.trim().parse().ok()
}

/// Seconds as tools write them: `1.5`, `1,234.5` (old Surefire's grouping), `0.001s`.
fn parse_seconds(value: &str) -> Option<f64> {
    let value = value.trim().trim_end_matches('s');
    let seconds: f64 = if value.contains(',') { value.replace(',', "").parse().ok()? } else { value.parse().ok()? };
    (seconds.is_finite() && seconds >= 0.0).then_some(seconds)
}

#[cfg(test)]
mod tests {
    use super::super::{FailureKind, Totals};
    use super::*;

    fn parse_str(xml: &str) -> Result<ParsedReport, Rejected> {
        parse(xml.as_bytes(), xml.starts_with("<?xml"))
    }

    fn totals(tests: u64, passed: u64, failed: u64, errored: u64, skipped: u64) -> Totals {
        Totals { tests, passed, failed, errored, skipped, ..Default::default() }
    }

    #[test]
    fn a_suite_without_root_counts_children_by_outcome() {
        let report = parse_str(
            r#"<testsuite name="pkg" tests="4" failures="1" errors="1" skipped="1" time="1.5">
                 <testcase name="ok" classname="pkg" time="0.1"/>
                 <testcase name="bad" classname="pkg"><failure message="want 1, got 2">trace &amp; more</failure></testcase>
                 <testcase name="boom" classname="pkg"><error type="panic"/></testcase>
                 <testcase name="later" classname="pkg"><skipped message="todo"/></testcase>
               </testsuite>"#,
        )
        .unwrap();
        assert_eq!(report.totals, totals(4, 1, 1, 1, 1));
        assert_eq!(report.duration_seconds, Some(1.5));
        assert!(report.notes.is_empty(), "{:?}", report.notes);
        assert_eq!(report.failures.len(), 2);
        assert_eq!(report.failures[0].name, "bad");
        assert_eq!(report.failures[0].suite, "pkg");
        assert_eq!(report.failures[0].message, "want 1, got 2\ntrace & more");
        assert_eq!(report.failures[1].kind, FailureKind::Error);
    }

    #[test]
    fn nested_suites_are_counted_once_and_disagreements_noted() {
        let report = parse_str(
            r#"<?xml version="1.0"?>
               <testsuites tests="3" failures="0" time="2.0">
                 <testsuite name="outer" tests="3">
                   <testsuite name="inner" tests="5" failures="0">
                     <testcase name="a"/><testcase name="b"><failure/></testcase>
                   </testsuite>
                   <testcase name="c"/>
                 </testsuite>
               </testsuites>"#,
        )
        .unwrap();
        // Declared counts no reading explains are suite problems (they were notes): the
        // file does not account for the tests it declares.
        assert_eq!(report.totals, Totals { suite_problems: 2, ..totals(3, 2, 1, 0, 0) });
        assert_eq!(report.duration_seconds, Some(2.0));
        let problems: Vec<_> = report.suite_problems.iter().map(|p| (p.suite.as_str(), p.message.as_str())).collect();
        assert_eq!(
            problems,
            [
                (
                    "inner",
                    "suite inner declares tests=5 (counted 2), failures=0 (counted 1): its declared counts disagree with its test cases"
                ),
                (
                    "",
                    "the <testsuites> root declares failures=0 (counted 1): its declared counts disagree with its test cases"
                ),
            ]
        );
        assert!(report.totals.has_failures());
    }

    #[test]
    fn declared_counts_that_disagree_with_a_green_suite_fail_it() {
        // A suite whose runner counted a failure the file does not show as a test case.
        for declared in [r#"tests="3""#, r#"tests="2" failures="1""#, r#"errors="1""#, r#"tests="1""#] {
            let xml = format!(r#"<testsuite name="s" {declared}><testcase name="a"/><testcase name="b"/></testsuite>"#);
            let report = parse_str(&xml).unwrap();
            assert_eq!(report.totals, Totals { suite_problems: 1, ..totals(2, 2, 0, 0, 0) }, "{declared}");
            assert!(report.suite_problems[0].message.contains("declares"), "{:?}", report.suite_problems);
        }
        // Counts as the tools write them agree: Ginkgo v1 leaves pending specs out of
        // tests=, Ginkgo v2 counts them in disabled.
        for declared in [
            r#"tests="3" failures="1" skipped="1""#,
            r#"tests="2" failures="1""#,
            r#"tests="3" failures="1" skipped="0" disabled="1""#,
        ] {
            let xml = format!(
                r#"<testsuite name="s" {declared}><testcase name="a"/><testcase name="b"><failure/></testcase><testcase name="c"><skipped/></testcase></testsuite>"#
            );
            let report = parse_str(&xml).unwrap();
            assert_eq!(report.totals, totals(3, 1, 1, 0, 1), "{declared}: {:?}", report.suite_problems);
        }
    }

    #[test]
    fn surefire_flaky_tests_pass_and_rerun_failures_fail() {
        let report = parse_str(
            r#"<testsuite name="com.example.FlakyTest" tests="2" failures="1" errors="0" skipped="0">
                 <testcase name="sometimes" classname="com.example.FlakyTest">
                   <flakyFailure message="timeout" type="java.lang.AssertionError"><stackTrace>at x</stackTrace></flakyFailure>
                 </testcase>
                 <testcase name="always" classname="com.example.FlakyTest">
                   <failure message="expected 1" type="java.lang.AssertionError"/>
                   <rerunFailure message="expected 1"/>
                 </testcase>
               </testsuite>"#,
        )
        .unwrap();
        assert_eq!(report.totals, Totals { flaky: 1, ..totals(2, 1, 1, 0, 0) });
        assert_eq!(report.flaky.len(), 1);
        assert_eq!((report.flaky[0].name.as_str(), report.flaky[0].attempts), ("sometimes", 2));
        assert_eq!(report.failures[0].name, "always");
    }

    #[test]
    fn same_named_test_cases_are_separate_tests_unless_the_declared_counts_say_reruns() {
        // A passing test with the title of a failing one, next to it: two tests, one failed.
        for order in [
            r#"<testcase classname="c" name="t"><failure/></testcase><testcase classname="c" name="t"/>"#,
            r#"<testcase classname="c" name="t"/><testcase classname="c" name="t"><failure/></testcase>"#,
        ] {
            for declared in ["", r#" tests="2" failures="1""#] {
                let report = parse_str(&format!(r#"<testsuite name="s"{declared}>{order}</testsuite>"#)).unwrap();
                assert_eq!(report.totals, totals(2, 1, 1, 0, 0), "{order} {declared}");
                assert!(report.flaky.is_empty());
                assert_eq!(report.failures.len(), 1);
            }
        }
        // gotestsum --rerun-fails: every attempt a test case, counted in tests= and failures=.
        let report = parse_str(
            r#"<testsuites tests="6" failures="3" errors="0">
                 <testsuite name="pkg" tests="6" failures="3">
                   <testcase classname="pkg" name="TestFlaky"><failure message="Failed">reset by peer</failure></testcase>
                   <testcase classname="pkg" name="TestBroken"><failure message="Failed">want 1</failure></testcase>
                   <testcase classname="pkg" name="TestStable"/>
                   <testcase classname="pkg" name="TestFlaky"/>
                   <testcase classname="pkg" name="TestBroken"><failure message="Failed">want 1 again</failure></testcase>
                   <testcase classname="other" name="TestFlaky"/>
                 </testsuite>
               </testsuites>"#,
        )
        .unwrap();
        assert_eq!(report.totals, totals(6, 3, 3, 0, 0));
        assert!(report.suite_problems.is_empty(), "{:?}", report.suite_problems);

        // pytest-rerunfailures: earlier attempts as childless test cases, tests= counts tests.
        let report = parse_str(
            r#"<testsuites><testsuite name="pytest" tests="2" failures="1" errors="0" skipped="0">
                 <testcase classname="t" name="test_flaky"/><testcase classname="t" name="test_flaky"/>
                 <testcase classname="t" name="test_bad"/><testcase classname="t" name="test_bad"><failure message="x"/></testcase>
               </testsuite></testsuites>"#,
        )
        .unwrap();
        assert_eq!(report.totals, Totals { flaky: 1, ..totals(2, 1, 1, 0, 0) });
        assert_eq!((report.flaky[0].name.as_str(), report.flaky[0].attempts), ("test_flaky", 2));
        assert!(report.suite_problems.is_empty(), "{:?}", report.suite_problems);
        assert!(report.notes.iter().any(|n| n.contains("counted as attempts of one test")), "{:?}", report.notes);

        // Ginkgo v1 -flakeAttempts: failed attempts, then the passing one; tests= counts specs run.
        let report = parse_str(
            r#"<testsuite name="S" tests="2" failures="1" errors="0">
                 <testcase name="flaky" classname="S"><failure type="Failure">first</failure></testcase>
                 <testcase name="flaky" classname="S"/>
                 <testcase name="broken" classname="S"><failure type="Failure">1</failure></testcase>
                 <testcase name="broken" classname="S"><failure type="Failure">2</failure></testcase>
                 <testcase name="later" classname="S"><skipped/></testcase>
               </testsuite>"#,
        )
        .unwrap();
        assert_eq!(report.totals, Totals { flaky: 1, ..totals(3, 1, 1, 0, 1) });
        assert_eq!(report.failures.len(), 1, "the replaced attempt is not listed: {:?}", report.failures);
        assert_eq!(report.failures[0].message, "2");

        // A passing duplicate added after a failing test under a rerun plugin: the runner
        // counts it as a test of its own, so the counts no longer read as reruns.
        let report = parse_str(
            r#"<testsuite name="pytest" tests="2" failures="1">
                 <testcase classname="t" name="test_bad"/><testcase classname="t" name="test_bad"><failure/></testcase>
                 <testcase classname="t" name="test_bad"/>
               </testsuite>"#,
        )
        .unwrap();
        assert!(report.totals.failed >= 1 && report.totals.has_failures(), "{:?}", report.totals);
    }

    #[test]
    fn a_jest_suite_that_failed_to_run_is_one_errored_test_and_a_pass_then_a_failure_are_two_tests() {
        // jest-junit writes a suite that failed to run as an <error> and a <failure> test case.
        let report = parse_str(
            r#"<testsuites><testsuite name="broken.test.js" tests="0" errors="1" failures="0" skipped="0">
                 <testcase classname="Test suite failed to run" name="broken.test.js"><error>Cannot find module</error></testcase>
                 <testcase classname="Test suite failed to run" name="broken.test.js"><failure>{"code":"MODULE_NOT_FOUND"}</failure></testcase>
               </testsuite>
               <testsuite name="s"><testcase name="a"/><testcase name="a"><failure/></testcase></testsuite></testsuites>"#,
        )
        .unwrap();
        // jest's pair is one errored test; the two `a` in `s` are two tests.
        assert_eq!(report.totals, totals(3, 1, 1, 1, 0));
        assert_eq!(report.failures[0].kind, FailureKind::Error);
        assert_eq!(report.failures[0].message, "Cannot find module");
        assert!(report.flaky.is_empty());
    }

    #[test]
    fn jest_junit_todo_tests_are_skipped() {
        let report = parse_str(
            r#"<testsuites name="jest tests" tests="3" failures="1" errors="0">
                 <testsuite name="add" errors="0" failures="1" skipped="0" time="0.6" tests="3">
                   <testcase classname="add works" name="add works" time="0.009"></testcase>
                   <testcase classname=" divides" name=" divides" time="0"></testcase>
                   <testcase classname="add fast" name="add fast" time="0.001"></testcase>
                   <testcase classname="add fails" name="add fails" time="0.002"><failure>boom</failure></testcase>
                 </testsuite>
               </testsuites>"#,
        )
        .unwrap();
        assert_eq!(report.totals, totals(4, 2, 1, 0, 1));
        assert!(report.notes.iter().any(|n| n.contains("todo")), "{:?}", report.notes);
        // A suite whose declared failures do not agree is not jest's todo case (gotestsum's
        // TestMain test case is not counted in its suite's tests=).
        let report = parse_str(
            r#"<testsuites tests="1" failures="1" errors="0">
                 <testsuite tests="1" failures="0" name="example.com/setup">
                   <testcase classname="" name="TestMain" time="0.000000"><failure message="Failed">exit 1</failure></testcase>
                   <testcase classname="example.com/setup" name="TestInSetup" time="0.000000"></testcase>
                 </testsuite>
               </testsuites>"#,
        )
        .unwrap();
        assert_eq!(report.totals, totals(2, 1, 1, 0, 0));
        assert_eq!(report.failures[0].name, "TestMain");
    }

    #[test]
    fn ginkgo_suite_nodes_are_suite_problems_not_tests() {
        // Ginkgo v1: a failed BeforeSuite as a bare test case; tests=/failures= count the specs it kept from running.
        let report = parse_str(
            r#"<testsuite name="Cluster Suite" tests="2" failures="2" errors="0" time="0.005">
                 <testcase name="BeforeSuite" classname="Cluster Suite" time="0.0002"><failure type="Failure">suite_test.go:15&#xA;cluster unreachable</failure></testcase>
               </testsuite>"#,
        )
        .unwrap();
        assert_eq!(report.totals, Totals { suite_problems: 1, ..Default::default() });
        assert_eq!(report.suite_problems[0].suite, "Cluster Suite");
        assert!(
            report.suite_problems[0].message.contains("BeforeSuite failed: suite_test.go:15\ncluster unreachable"),
            "{:?}",
            report.suite_problems
        );
        // Ginkgo v2: a passed [BeforeSuite] is not a test; a failed [ReportAfterSuite] with a text is a problem.
        let report = parse_str(
            r#"<testsuites tests="4" failures="1"><testsuite name="S" tests="4" failures="1">
                 <testcase name="[BeforeSuite]" classname="S" status="passed"/><testcase name="[It] works" classname="S" status="passed"/>
                 <testcase name="[ReportAfterSuite] merge" classname="S" status="failed"><failure message="disk full" type="failed"/></testcase>
                 <testcase name="[BeforeSuiteX] not a node" classname="S" status="passed"/>
               </testsuite></testsuites>"#,
        )
        .unwrap();
        assert_eq!(report.totals, Totals { suite_problems: 1, ..totals(2, 2, 0, 0, 0) });
        assert_eq!(report.suite_problems[0].message, "[ReportAfterSuite] merge failed: disk full");
        assert!(report.notes.iter().all(|n| !n.contains("declares")), "{:?}", report.notes);
    }

    /// An XML reader sees the inner test case; counting only the outer one would hide
    /// its failure behind a pass, so the file is refused.
    #[test]
    fn a_test_case_or_suite_inside_a_test_case_is_refused_not_lost() {
        for inner in [
            r#"<testcase name="bad"><failure message="boom"/></testcase>"#,
            r#"<x><testcase name="bad"><failure/></testcase></x>"#,
            r#"<testsuite name="inner"><testcase name="bad"><failure/></testcase></testsuite>"#,
        ] {
            let xml = format!(
                r#"<testsuites><testsuite name="s"><testcase name="ok">{inner}</testcase></testsuite></testsuites>"#
            );
            assert!(matches!(parse_str(&xml), Err(Rejected::Unparseable { .. })), "{xml}");
        }
    }

    /// A failure or error element outside a test case, or below one of its other
    /// children, is refused: counting it nowhere would turn a failure into a pass.
    #[test]
    fn a_failure_outside_a_test_case_is_refused_not_lost() {
        for xml in [
            r#"<testsuite name="s" tests="1"><testcase name="ok"/><error message="BeforeAll hook failed"/></testsuite>"#,
            r#"<testsuites><testsuite name="s"><testcase name="ok"/><failure message="setup"/></testsuite></testsuites>"#,
            r#"<testsuite name="s"><testcase name="bad"><extra><failure message="boom"/></extra></testcase></testsuite>"#,
        ] {
            assert!(matches!(parse_str(xml), Err(Rejected::Unparseable { .. })), "{xml}");
        }
    }

    #[test]
    fn failures_declared_without_a_test_case_are_a_suite_problem() {
        let report = parse_str(
            r#"<testsuites tests="1" failures="0" errors="1"><testsuite name="p" tests="1"><testcase name="a"/></testsuite></testsuites>"#,
        )
        .unwrap();
        assert_eq!(report.totals, Totals { suite_problems: 1, ..totals(1, 1, 0, 0, 0) });
        assert!(report.totals.has_failures());
    }

    #[test]
    fn huge_names_are_capped_with_the_cut_recorded() {
        let name = "é".repeat(3 * 1024 * 1024);
        let xml = format!(
            r#"<testsuite name="{name}"><testcase classname="{name}" name="{name}"><failure/></testcase></testsuite>"#
        );
        let report = parse_str(&xml).unwrap();
        let failure = &report.failures[0];
        for text in [&failure.suite, &failure.name] {
            assert!(text.len() < super::super::MAX_NAME_BYTES + 40, "{}", text.len());
            assert!(text.ends_with(" bytes cut)"), "{}", &text[text.len() - 30..]);
        }
        assert!(report.notes.iter().all(|n| n.len() < super::super::MAX_NOTE_BYTES + 40));
    }

    #[test]
    fn ginkgo_pending_specs_in_disabled_are_not_a_disagreement() {
        let report = parse_str(
            r#"<testsuites tests="2" disabled="1" errors="0" failures="0" time="0.1">
                 <testsuite name="Suite" package="/src" tests="2" disabled="1" skipped="0" errors="0" failures="0">
                   <testcase name="[It] works" classname="Suite" status="passed"/>
                   <testcase name="[It] later" classname="Suite" status="pending"><skipped message="pending"/></testcase>
                 </testsuite>
               </testsuites>"#,
        )
        .unwrap();
        assert_eq!(report.totals, totals(2, 1, 0, 0, 1));
        assert!(report.notes.is_empty(), "{:?}", report.notes);
    }

    #[test]
    fn other_xml_is_not_a_report_and_broken_junit_is_unparseable() {
        assert!(matches!(parse_str("<html><body/></html>"), Err(Rejected::NotAReport)));
        assert!(matches!(parse_str("<coverage line-rate=\"1\"/>"), Err(Rejected::NotAReport)));
        let Err(Rejected::Unparseable { format, reason }) = parse_str("<testsuite><testcase name=\"a\"></testsuite>")
        else {
            panic!("mismatched tags must be unparseable")
        };
        assert_eq!(format, Some(ReportFormat::Junit));
        assert!(reason.contains("malformed XML"), "{reason}");
        let Err(Rejected::Unparseable { reason, .. }) = parse_str("<testsuite><testcase name=\"a\"/>") else {
            panic!("a truncated document must be unparseable")
        };
        assert!(reason.contains("truncated"), "{reason}");
    }

    #[test]
    fn test_output_is_skipped_raw_but_cdata_and_comments_cannot_end_it_early() {
        let report = parse_str(
            r#"<testsuite name="s">
                 <testcase name="a"><system-out><![CDATA[printed </system-out> and ]]]]><![CDATA[> inside]]></system-out></testcase>
                 <testcase name="b"><system-err>x &lt; y <!-- </system-err> --> done</system-err ><failure message="m"/></testcase>
                 <testcase name="c"><x:system-out xmlns:x="urn:x">ignored</x:system-out></testcase>
               </testsuite>"#,
        )
        .unwrap();
        assert_eq!(report.totals, totals(3, 2, 1, 0, 0));
        assert_eq!(report.failures[0].name, "b");
        // A terminator split across read chunks is still found.
        for chunk in 1..8 {
            let text = b"a]]]>b</system-out>rest";
            let source = std::io::Read::chain(&b"<![CDATA["[..], &text[..]);
            let mut reader = std::io::BufReader::with_capacity(chunk, source);
            let skipped = skip_content(&mut reader, b"system-out").unwrap();
            assert_eq!(skipped, 9 + 19, "chunk {chunk}");
        }
        let Err(Rejected::Unparseable { reason, .. }) = parse_str("<testsuite><testcase name=\"a\"><system-out>cut")
        else {
            panic!("an unterminated system-out must be unparseable")
        };
        assert!(reason.contains("ends inside <system-out>"), "{reason}");
    }

    #[test]
    fn skipped_output_ends_exactly_where_an_xml_reader_ends_it() {
        // Markup inside test output that a loose skipper resynchronises on: a processing
        // instruction holding `<!--`, `>` and `/>` inside quoted attribute values, nested
        // elements, CDATA holding a comment opener, a comment holding `?>`.
        let tricky = [
            r#"<?pi <!-- ?>"#,
            r#"<x a="-->" b='/>'>text<y c="/system-out> --> ]]>"/></x>"#,
            r#"<system-out>nested</system-out>"#,
            r#"<![CDATA[<!-- <?pi]]>"#,
            r#"<!-- ?> <![CDATA[ -->"#,
            "<?pi ??>",
            "<!-- --->",
            "<![CDATA[]]]>",
        ];
        for piece in tricky {
            let xml = format!(
                r#"<testsuite name="s"><testcase name="a"><system-out>{piece}</system-out></testcase><testcase name="b"><failure/></testcase><testcase name="c"><system-out>--> ?></system-out></testcase></testsuite>"#
            );
            let report = parse_str(&xml).unwrap_or_else(|e| panic!("{piece}: {e:?}"));
            assert_eq!(report.totals, totals(3, 2, 1, 0, 0), "{piece}");
            assert_eq!(report.failures[0].name, "b", "{piece}");
            for chunk in 1..6 {
                let content = format!("{piece}</system-out>rest");
                let mut reader = std::io::BufReader::with_capacity(chunk, content.as_bytes());
                let skipped = skip_content(&mut reader, b"system-out").unwrap();
                assert_eq!(skipped as usize, content.len() - 4, "{piece}, chunk {chunk}");
            }
        }
        // Content that no XML reader accepts is refused, never resynchronised.
        for broken in [
            "<!DOCTYPE x>",
            "< x>",
            "<x a='<'>",
            "<x></y>",
            "<x/ >",
            "</system-out x>",
            "</other>",
            "<testcase name=\"hidden\"><failure/></testcase>",
            "<x><j:testcase/></x>",
        ] {
            let xml = format!(
                r#"<testsuite name="s"><testcase name="a"><system-out>{broken}</system-out></testcase><testcase name="b"><failure/></testcase></testsuite>"#
            );
            let Err(Rejected::Unparseable { reason, .. }) = parse_str(&xml) else { panic!("{broken} must be refused") };
            assert!(reason.contains("malformed XML"), "{broken}: {reason}");
        }
    }

    #[test]
    fn attribute_values_are_normalized_as_xml_says() {
        let report = parse_str(
            "<testsuite name=\"s &amp; t\"><testcase classname=\"c\" name=\"a&#x9;b\tc\nd &lt;e&gt;\"><failure/></testcase></testsuite>",
        )
        .unwrap();
        assert_eq!(report.failures[0].suite, "s & t");
        assert_eq!(report.failures[0].name, "a\tb c d <e>");
    }

    #[test]
    fn seconds_are_read_as_tools_write_them() {
        assert_eq!(parse_seconds("1.5"), Some(1.5));
        assert_eq!(parse_seconds("1,234.5"), Some(1234.5));
        assert_eq!(parse_seconds("0.25s"), Some(0.25));
        assert_eq!(parse_seconds("NaN"), None);
        assert_eq!(parse_seconds("-1"), None);
    }
}
