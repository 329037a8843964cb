//! Streaming parsers for test reports: JUnit XML, `go test -json` and Ginkgo v2 JSON.
//!
//! One entry point, [`parse_file`] (or [`parse_reader`]), takes any file found in a
//! report artifact and says what it is: a parsed report with totals, the first failed
//! tests and notes; a file that looks like a report but cannot be trusted
//! ([`FileOutcome::Unparseable`], which never counts as passing); or a file that is
//! clearly something else ([`FileOutcome::NotAReport`]: a log, an image, a coverage
//! profile). The format is recognised from the content, never from the file name,
//! because artifact names and file names are chosen by workflow authors.
//!
//! Memory does not grow with the size of the file: every format is read as a stream
//! and no single token (an XML tag or text node, a JSON line, a JSON string we keep) may
//! be longer than [`MAX_TOKEN_BYTES`]. XML entity declarations are refused outright, so
//! neither a billion-laughs document nor an external entity is ever expanded or fetched.
//!
//! Counting conventions shared by every format (the README's "Counting conventions"
//! says the same for users):
//! - `tests = passed + failed + errored + skipped`, always ([`Totals::is_consistent`]).
//!   "failed" is an assertion failure, "errored" anything that kept a test from
//!   finishing (a panic in Ginkgo, a test that started and never ended).
//! - A test is counted once, with its final outcome. Attempts of one test (reruns) are
//!   recognised only where the format or tool says so ([`junit`]: Surefire's rerun
//!   elements, or consecutive same-named test cases in a suite whose declared counts
//!   count them as one test; [`gotest`]: same package and test in separate package
//!   runs; [`ginkgo`]: `NumAttempts`): two tests that merely share a name are two
//!   tests. The last attempt decides. A test
//!   whose last attempt passed after an earlier one did not is **passed and flaky**: it
//!   is counted in [`Totals::flaky`] and named in [`ParsedReport::flaky`]. A test whose
//!   every attempt failed is errored when any attempt errored, failed otherwise.
//! - Package- and suite-level outcomes (a package that does not build, a `TestMain`
//!   that exits, a failed `BeforeSuite`, declared counts that disagree with the test
//!   cases, a stream that ends before a package's result) are **suite problems**: counted in
//!   [`Totals::suite_problems`] and listed in [`ParsedReport::suite_problems`] with the
//!   package or suite and a message. They fail the report; they are not tests.
//! - Skip-like states (skipped, pending, todo, disabled, xfail) are skipped.
//! - Names (suite, class, package, test) are capped at [`MAX_NAME_BYTES`] on a character
//!   boundary; a cut name ends in `… (N bytes cut)`. Notes are capped the same way.
//!
//! Format-specific rules are documented in [`junit`], [`gotest`] and [`ginkgo`].

mod detect;
pub mod ginkgo;
pub mod gotest;
mod input;
pub mod junit;

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{BufReader, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};

use detect::Sniffed;
pub use input::MAX_TOKEN_BYTES;

/// At most this many failed tests are listed per file; the totals still count all.
pub const MAX_LISTED_FAILURES: usize = 100;
/// A failure message keeps its first lines up to this many characters.
pub const MAX_MESSAGE_CHARS: usize = 1000;
/// A failure message keeps at most this many lines.
pub const MAX_MESSAGE_LINES: usize = 15;
/// At most this many notes are kept per file; the rest are counted in a last note.
pub const MAX_NOTES: usize = 50;
/// Summary notes a report may add after its [`MAX_NOTES`] item notes: repeated results,
/// untracked tests, unlisted failures, unlisted flaky tests, unlisted suite problems and
/// omitted notes — one each at most.
pub const MAX_SUMMARY_NOTES: usize = 6;
/// At most this many flaky tests are named per file; [`Totals::flaky`] counts all.
pub const MAX_LISTED_FLAKY: usize = 100;
/// At most this many suite problems are listed per file; [`Totals::suite_problems`] counts all.
pub const MAX_LISTED_SUITE_PROBLEMS: usize = 100;
/// Test, suite, class and package names are cut to this many bytes (on a character
/// boundary), so that a hostile report cannot blow up the manifest or the output.
pub const MAX_NAME_BYTES: usize = 1024;
/// A note is cut to this many bytes.
pub const MAX_NOTE_BYTES: usize = 2048;
/// Attempts are matched for this many distinct tests per file; beyond it (a file with
/// more tests than any real suite) tests are counted without matching their reruns,
/// so memory stays bounded, and a note says so.
pub const MAX_TRACKED_TESTS: usize = 1_000_000;

/// A test report format, recognised from content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportFormat {
    Junit,
    GoTestJson,
    GinkgoJson,
}

impl ReportFormat {
    /// The name used in manifests, tables and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Junit => "junit",
            ReportFormat::GoTestJson => "go-test-json",
            ReportFormat::GinkgoJson => "ginkgo-json",
        }
    }
}

impl std::fmt::Display for ReportFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Test counts. Invariant kept by every parser: `tests = passed + failed + errored + skipped`.
/// `flaky` counts passed tests that needed more than one attempt (a part of `passed`);
/// `suite_problems` counts package- and suite-level failures, which are not tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub tests: u64,
    pub passed: u64,
    pub failed: u64,
    pub errored: u64,
    pub skipped: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub flaky: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub suite_problems: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Totals {
    pub fn add(&mut self, other: &Totals) {
        self.tests += other.tests;
        self.passed += other.passed;
        self.failed += other.failed;
        self.errored += other.errored;
        self.skipped += other.skipped;
        self.flaky += other.flaky;
        self.suite_problems += other.suite_problems;
    }

    /// Counts one test with the given outcome.
    pub(crate) fn count(&mut self, outcome: Outcome) {
        self.tests += 1;
        *self.slot(outcome) += 1;
    }

    /// Takes back a test counted with `outcome` (its attempt was not the last).
    fn uncount(&mut self, outcome: Outcome) {
        self.tests = self.tests.saturating_sub(1);
        let slot = self.slot(outcome);
        *slot = slot.saturating_sub(1);
    }

    fn slot(&mut self, outcome: Outcome) -> &mut u64 {
        match outcome {
            Outcome::Passed => &mut self.passed,
            Outcome::Failed => &mut self.failed,
            Outcome::Errored => &mut self.errored,
            Outcome::Skipped => &mut self.skipped,
        }
    }

    /// True when at least one test failed or errored, or a suite had a problem.
    pub fn has_failures(&self) -> bool {
        self.failed > 0 || self.errored > 0 || self.suite_problems > 0
    }

    /// `tests = passed + failed + errored + skipped` and no more flaky than passed tests.
    pub fn is_consistent(&self) -> bool {
        self.passed
            .checked_add(self.failed)
            .and_then(|n| n.checked_add(self.errored))
            .and_then(|n| n.checked_add(self.skipped))
            == Some(self.tests)
            && self.flaky <= self.passed
    }
}

/// The outcome of one test, as the parsers decide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Passed,
    Failed,
    Errored,
    Skipped,
}

impl Outcome {
    fn is_failing(self) -> bool {
        matches!(self, Outcome::Failed | Outcome::Errored)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// An assertion failed.
    Failure,
    /// The test could not run to its end (panic, build failure, never finished).
    Error,
}

/// One failed or errored test, for the summary and the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedTest {
    /// Suite, package or class the test belongs to, as the report names it.
    pub suite: String,
    pub name: String,
    pub kind: FailureKind,
    /// The first lines of the failure message, at most [`MAX_MESSAGE_CHARS`].
    pub message: String,
}

impl FailedTest {
    /// `suite › name`, or the name alone when the report gives no suite.
    pub fn display_name(&self) -> String {
        if self.suite.is_empty() { self.name.clone() } else { format!("{} › {}", self.suite, self.name) }
    }

    /// The first non-blank line of the message, if any.
    pub fn first_line(&self) -> Option<&str> {
        self.message.lines().find(|l| !l.trim().is_empty())
    }
}

/// A test that passed only after failing at least once (a rerun, a flake attempt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlakyTest {
    pub suite: String,
    pub name: String,
    /// All attempts, the passing one included (at least 2).
    pub attempts: u32,
}

impl FlakyTest {
    /// `suite › name`, or the name alone when the report gives no suite.
    pub fn display_name(&self) -> String {
        if self.suite.is_empty() { self.name.clone() } else { format!("{} › {}", self.suite, self.name) }
    }
}

/// A package- or suite-level failure that is not a test: a build failure, a `TestMain`
/// exit, a failed `BeforeSuite`, failures a suite declares without a test case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteProblem {
    /// The package or suite, as the report names it.
    pub suite: String,
    /// What went wrong: the first lines of the runner's message.
    pub message: String,
}

/// What one report file says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParsedReport {
    pub format: ReportFormat,
    pub totals: Totals,
    /// Wall time the report states, in seconds, when it states one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// The first [`MAX_LISTED_FAILURES`] failed or errored tests, in report order.
    #[serde(default)]
    pub failures: Vec<FailedTest>,
    /// The first [`MAX_LISTED_FLAKY`] tests that passed after a failed attempt.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flaky: Vec<FlakyTest>,
    /// The first [`MAX_LISTED_SUITE_PROBLEMS`] package- or suite-level failures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suite_problems: Vec<SuiteProblem>,
    /// Things an auditor should know: disagreements the parser resolved, flaky tests,
    /// truncated streams, ignored lines.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// What a file found in a report artifact turned out to be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FileOutcome {
    Parsed(ParsedReport),
    /// Looks like a report (or might be one) but cannot be read: never counts as passing.
    Unparseable {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        format: Option<ReportFormat>,
        reason: String,
    },
    /// Clearly not a test report: a log, an image, a coverage profile, other JSON or XML.
    NotAReport,
}

impl FileOutcome {
    pub fn unparseable(format: Option<ReportFormat>, reason: impl Into<String>) -> Self {
        FileOutcome::Unparseable { format, reason: reason.into() }
    }
}

/// Parses one file. Never panics on any content, never blocks on special files
/// (only regular files are read), and reads with bounded memory.
pub fn parse_file(path: &Path) -> FileOutcome {
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return FileOutcome::unparseable(None, format!("cannot read the file: {e}")),
    };
    if !metadata.is_file() {
        return FileOutcome::unparseable(None, "not a regular file");
    }
    match File::open(path) {
        Ok(file) => parse_reader(file),
        Err(e) => FileOutcome::unparseable(None, format!("cannot read the file: {e}")),
    }
}

/// Parses a report from any reader (a file, a zip entry, a generated stream).
pub fn parse_reader(reader: impl Read) -> FileOutcome {
    let (sniffed, reader) = match detect::sniff(reader) {
        Ok(v) => v,
        Err(e) => return FileOutcome::unparseable(None, format!("cannot read the file: {e}")),
    };
    let buffered = |reader| BufReader::with_capacity(input::READ_BUFFER, reader);
    let result = match sniffed {
        // JUnit reads through its own fixed chunks (`input::Rechunk`): the only copy of the bytes.
        Sniffed::Xml { declared } => junit::parse(reader, declared),
        Sniffed::GoTestJson => gotest::parse(buffered(reader)),
        Sniffed::GinkgoJson => ginkgo::parse(buffered(reader)),
        Sniffed::Empty => Err(Rejected::Unparseable {
            format: None,
            reason: "the file is empty (a runner that stopped before writing its report leaves one like this)".into(),
        }),
        Sniffed::Utf16 => Err(Rejected::Unparseable {
            format: None,
            reason: "the file is UTF-16 encoded; only UTF-8 reports are read (convert it with iconv)".into(),
        }),
        Sniffed::NotAReport => Err(Rejected::NotAReport),
    };
    outcome(result)
}

fn outcome(result: Result<ParsedReport, Rejected>) -> FileOutcome {
    match result {
        Ok(report) => FileOutcome::Parsed(report),
        Err(Rejected::NotAReport) => FileOutcome::NotAReport,
        Err(Rejected::Unparseable { format, reason }) => FileOutcome::Unparseable { format, reason },
    }
}

/// Why a parser gave up; turned into a [`FileOutcome`] at the edge.
#[derive(Debug)]
pub(crate) enum Rejected {
    NotAReport,
    Unparseable { format: Option<ReportFormat>, reason: String },
}

impl Rejected {
    pub(crate) fn unparseable(format: ReportFormat, reason: impl Into<String>) -> Self {
        Rejected::Unparseable { format: Some(format), reason: reason.into() }
    }
}

/// The identity of a test within one file, for matching its attempts: a hash of the
/// parts that name it (suite, class, name; package, test). Collisions between two
/// real tests are as unlikely as 64-bit hash collisions get; matching a report against
/// itself needs no protection from crafted collisions (a report can say "passed"
/// directly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TestKey(u64);

impl TestKey {
    pub(crate) fn of(parts: &[&str]) -> Self {
        // `DefaultHasher::new()` has fixed keys: the same parts give the same key.
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for part in parts {
            part.len().hash(&mut hasher);
            part.hash(&mut hasher);
        }
        TestKey(hasher.finish())
    }
}

/// A failure listed through [`Collector::list`], for taking it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Listing(u64);

/// What a listed failure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListedAs {
    /// A test whose attempts the collector matches.
    Test(TestKey),
    /// A test counted by its parser ([`Collector::list`]).
    Listing(Listing),
    /// A test counted past [`MAX_TRACKED_TESTS`].
    Untracked,
}

/// What the collector keeps per test: its final outcome so far, nothing of its name.
#[derive(Debug, Clone, Copy)]
struct Record {
    outcome: Outcome,
    attempts: u32,
    any_errored: bool,
    /// Listed in `failures` or `flaky` (whichever its outcome puts it in).
    listed: bool,
}

impl Record {
    fn is_flaky(&self) -> bool {
        self.outcome == Outcome::Passed && self.attempts > 1
    }
}

/// Collects what every parser produces: totals (one count per test, attempts matched),
/// the first failures, flaky tests and suite problems, bounded notes.
#[derive(Debug)]
pub(crate) struct Collector {
    format: ReportFormat,
    totals: Totals,
    tests: HashMap<TestKey, Record>,
    untracked: u64,
    repeated: u64,
    failures: Vec<(ListedAs, FailedTest)>,
    listings: u64,
    flaky: Vec<(TestKey, FlakyTest)>,
    suite_problems: Vec<SuiteProblem>,
    notes: Vec<String>,
    omitted_notes: u64,
}

impl Collector {
    pub(crate) fn new(format: ReportFormat) -> Self {
        Collector {
            format,
            totals: Totals::default(),
            tests: HashMap::new(),
            untracked: 0,
            repeated: 0,
            failures: Vec::new(),
            listings: 0,
            flaky: Vec::new(),
            suite_problems: Vec::new(),
            notes: Vec::new(),
            omitted_notes: 0,
        }
    }

    /// Adds tests a parser counted itself, without matching attempts here (JUnit decides
    /// per suite element which reading of its test cases holds). Their failures are
    /// listed with [`Collector::list`], their flaky tests named with [`Collector::name_flaky`].
    pub(crate) fn add_totals(&mut self, totals: &Totals) {
        self.totals.add(totals);
    }

    /// Lists a failed or errored test counted with [`Collector::add_totals`]; the
    /// listing can be taken back with [`Collector::unlist`] while the list has room.
    pub(crate) fn list(
        &mut self,
        outcome: Outcome,
        suite: &str,
        name: &str,
        message: impl FnOnce() -> String,
    ) -> Option<Listing> {
        self.listings += 1;
        let listing = Listing(self.listings);
        self.list_failure(ListedAs::Listing(listing), outcome, suite, name, message).then_some(listing)
    }

    /// Takes back listed failures (attempts a later attempt of the same test replaced).
    pub(crate) fn unlist(&mut self, listings: &[Listing]) {
        if !listings.is_empty() {
            self.failures.retain(|(as_, _)| !matches!(as_, ListedAs::Listing(l) if listings.contains(l)));
        }
    }

    /// Names a flaky test counted in [`Totals::flaky`] through [`Collector::add_totals`].
    pub(crate) fn name_flaky(&mut self, test: FlakyTest) {
        if self.flaky.len() < MAX_LISTED_FLAKY {
            self.flaky.push((TestKey(0), test));
        }
    }

    pub(crate) fn totals(&self) -> Totals {
        self.totals
    }

    /// Counts one attempt of the test `key` (shown as `suite › name`). A later attempt
    /// of the same test replaces the earlier one's outcome. `earlier_failures` are
    /// failed attempts the report states inside this one (Surefire's `<flakyFailure>`,
    /// Ginkgo's `NumAttempts`). `message` is only called when a failure is listed.
    pub(crate) fn attempt(
        &mut self,
        key: TestKey,
        outcome: Outcome,
        earlier_failures: u32,
        suite: &str,
        name: &str,
        message: impl FnOnce() -> String,
    ) {
        let attempts = earlier_failures.saturating_add(1);
        let full = self.tests.len() >= MAX_TRACKED_TESTS;
        let previous = match self.tests.entry(key) {
            Entry::Occupied(mut entry) => {
                self.repeated += 1;
                let record = entry.get_mut();
                let previous = *record;
                record.attempts = record.attempts.saturating_add(attempts);
                record.any_errored |= outcome == Outcome::Errored;
                record.outcome = if outcome.is_failing() && record.any_errored { Outcome::Errored } else { outcome };
                Some(previous)
            }
            Entry::Vacant(entry) => {
                if full {
                    self.untracked += 1;
                    self.totals.count(outcome);
                    if outcome.is_failing() {
                        self.list_failure(ListedAs::Untracked, outcome, suite, name, message);
                    }
                    return;
                }
                entry.insert(Record { outcome, attempts, any_errored: outcome == Outcome::Errored, listed: false });
                None
            }
        };
        let Some(record) = self.tests.get(&key).copied() else { return };
        if let Some(previous) = previous {
            self.totals.uncount(previous.outcome);
            if previous.is_flaky() {
                self.totals.flaky -= 1;
            }
            if previous.listed && previous.outcome.is_failing() && record.outcome.is_failing() {
                // Still failing: the first listing (and its message) stays, with the final kind.
                self.totals.count(record.outcome);
                let kind = if record.outcome == Outcome::Errored { FailureKind::Error } else { FailureKind::Failure };
                if let Some((_, listed)) = self.failures.iter_mut().find(|(k, _)| *k == ListedAs::Test(key)) {
                    listed.kind = kind;
                }
                return;
            }
            if previous.listed {
                self.failures.retain(|(k, _)| *k != ListedAs::Test(key));
                self.flaky.retain(|(k, _)| *k != key);
            }
        }
        self.totals.count(record.outcome);
        let mut listed = false;
        if record.is_flaky() {
            self.totals.flaky += 1;
            if self.flaky.len() < MAX_LISTED_FLAKY {
                let test = FlakyTest {
                    suite: cap_name(suite).into_owned(),
                    name: cap_name(name).into_owned(),
                    attempts: record.attempts,
                };
                self.flaky.push((key, test));
                listed = true;
            }
        } else if record.outcome.is_failing() {
            listed = self.list_failure(ListedAs::Test(key), record.outcome, suite, name, message);
        }
        if let Some(r) = self.tests.get_mut(&key) {
            r.listed = listed;
        }
    }

    fn list_failure(
        &mut self,
        key: ListedAs,
        outcome: Outcome,
        suite: &str,
        name: &str,
        message: impl FnOnce() -> String,
    ) -> bool {
        let kind = if outcome == Outcome::Errored { FailureKind::Error } else { FailureKind::Failure };
        if self.failures.len() >= MAX_LISTED_FAILURES {
            return false;
        }
        let test = FailedTest {
            suite: cap_name(suite).into_owned(),
            name: cap_name(name).into_owned(),
            kind,
            message: message(),
        };
        self.failures.push((key, test));
        true
    }

    /// Records a package- or suite-level failure (not a test).
    pub(crate) fn suite_problem(&mut self, suite: &str, message: impl FnOnce() -> String) {
        self.totals.suite_problems += 1;
        if self.suite_problems.len() < MAX_LISTED_SUITE_PROBLEMS {
            self.suite_problems
                .push(SuiteProblem { suite: cap_name(suite).into_owned(), message: first_lines(&message()) });
        }
    }

    pub(crate) fn note(&mut self, note: impl FnOnce() -> String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(cap_text(note(), MAX_NOTE_BYTES));
        } else {
            self.omitted_notes += 1;
        }
    }

    pub(crate) fn finish(mut self, duration_seconds: Option<f64>) -> ParsedReport {
        if self.repeated > 0 {
            let repeated = self.repeated;
            self.notes.push(format!(
                "{repeated} test result(s) repeat an earlier test (reruns, flake attempts); each test is counted once, with its last outcome"
            ));
        }
        if self.untracked > 0 {
            let untracked = self.untracked;
            self.notes.push(format!(
                "the file has more than {MAX_TRACKED_TESTS} distinct tests; {untracked} test result(s) after that are counted without matching reruns"
            ));
        }
        let failing = self.totals.failed + self.totals.errored;
        let unlisted = failing.saturating_sub(self.failures.len() as u64);
        if unlisted > 0 {
            self.notes.push(format!(
                "{unlisted} more failed tests are counted but not listed (the first {MAX_LISTED_FAILURES} are)"
            ));
        }
        let unlisted_flaky = self.totals.flaky.saturating_sub(self.flaky.len() as u64);
        if unlisted_flaky > 0 {
            self.notes.push(format!(
                "{unlisted_flaky} more flaky tests are counted but not named (the first {MAX_LISTED_FLAKY} are)"
            ));
        }
        let unlisted_problems = self.totals.suite_problems.saturating_sub(self.suite_problems.len() as u64);
        if unlisted_problems > 0 {
            self.notes.push(format!(
                "{unlisted_problems} more suite problems are counted but not listed (the first {MAX_LISTED_SUITE_PROBLEMS} are)"
            ));
        }
        if self.omitted_notes > 0 {
            self.notes.push(format!("{} more notes omitted", self.omitted_notes));
        }
        debug_assert!(self.totals.is_consistent(), "{:?}", self.totals);
        ParsedReport {
            format: self.format,
            totals: self.totals,
            duration_seconds,
            failures: self.failures.into_iter().map(|(_, f)| f).collect(),
            flaky: self.flaky.into_iter().map(|(_, f)| f).collect(),
            suite_problems: self.suite_problems,
            notes: self.notes,
        }
    }
}

/// A name cut to [`MAX_NAME_BYTES`] on a character boundary, the cut recorded in it.
pub fn cap_name(name: &str) -> Cow<'_, str> {
    cap_str(name, MAX_NAME_BYTES)
}

/// `text` cut to `max` bytes on a character boundary, the cut said: `… (N bytes cut)`.
/// A text cut so already is left as it is, so a name may be capped when it is read
/// (memory must not grow with what a report sends) and again where it is shown.
fn cap_str(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let already_cut = text[end..]
        .strip_prefix("… (")
        .and_then(|rest| rest.strip_suffix(" bytes cut)"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if already_cut {
        return Cow::Borrowed(text);
    }
    Cow::Owned(format!("{}… ({} bytes cut)", &text[..end], text.len() - end))
}

fn cap_text(text: String, max: usize) -> String {
    match cap_str(&text, max) {
        Cow::Borrowed(_) => text,
        Cow::Owned(cut) => cut,
    }
}

/// Builds a failure message from its first lines, bounded in lines and characters.
/// Lines that only trace the runner's progress (`=== RUN`, `--- FAIL:`) are left out:
/// they repeat the test's name and push the useful line out of the window.
#[derive(Debug, Default, Clone)]
pub(crate) struct MessageBuf {
    text: String,
    lines: usize,
    full: bool,
}

impl MessageBuf {
    pub(crate) fn is_full(&self) -> bool {
        self.full
    }

    /// Adds text that may contain several lines (and may end mid-line).
    pub(crate) fn push_text(&mut self, text: &str) {
        if self.full {
            return;
        }
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                self.end_line();
            }
            self.push_partial(line);
            if self.full {
                return;
            }
        }
    }

    fn push_partial(&mut self, fragment: &str) {
        let fragment = fragment.strip_suffix('\r').unwrap_or(fragment);
        let budget = MAX_MESSAGE_CHARS.saturating_sub(self.text.chars().count());
        if budget == 0 {
            self.full = true;
            return;
        }
        match fragment.char_indices().nth(budget) {
            Some((cut, _)) => {
                self.text.push_str(&fragment[..cut]);
                self.text.push('…');
                self.full = true;
            }
            None => self.text.push_str(fragment),
        }
    }

    /// Ends the current line: drops it when it is blank or runner noise.
    fn end_line(&mut self) {
        let start = self.text.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let line = &self.text[start..];
        if line.trim().is_empty() || is_runner_noise(line) {
            self.text.truncate(start);
            return;
        }
        self.lines += 1;
        if self.lines >= MAX_MESSAGE_LINES {
            self.full = true;
            return;
        }
        self.text.push('\n');
    }

    pub(crate) fn finish(mut self) -> String {
        if !self.full {
            self.end_line();
        }
        let trimmed = self.text.trim_end();
        trimmed.to_string()
    }
}

fn is_runner_noise(line: &str) -> bool {
    let line = line.trim_start();
    ["=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- FAIL:", "--- PASS:", "--- SKIP:"]
        .iter()
        .any(|p| line.starts_with(p))
}

/// The first lines of `text`, bounded like every failure message.
pub(crate) fn first_lines(text: &str) -> String {
    let mut buf = MessageBuf::default();
    buf.push_text(text);
    buf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_keep_the_first_useful_lines_only() {
        let text = "=== RUN   TestX\n    x_test.go:9: want 1, got 2\n\n--- FAIL: TestX (0.00s)\nmore\n";
        assert_eq!(first_lines(text), "    x_test.go:9: want 1, got 2\nmore");
        let long = "a".repeat(5000);
        let message = first_lines(&long);
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(message.ends_with('…'));
        let many: String = (0..100).map(|i| format!("line {i}\n")).collect();
        assert_eq!(first_lines(&many).lines().count(), MAX_MESSAGE_LINES);
    }

    #[test]
    fn attempts_keep_tests_equal_to_the_sum_of_outcomes() {
        use Outcome::*;
        let mut collector = Collector::new(ReportFormat::Junit);
        let sequences: &[&[Outcome]] = &[
            &[Passed],
            &[Failed, Passed],
            &[Failed, Failed, Passed],
            &[Errored, Failed],
            &[Passed, Failed],
            &[Failed, Skipped],
            &[Skipped, Skipped],
            &[Failed, Passed, Failed, Passed],
        ];
        for (i, attempts) in sequences.iter().enumerate() {
            let name = format!("t{i}");
            for outcome in attempts.iter() {
                collector.attempt(TestKey::of(&["s", &name]), *outcome, 0, "s", &name, || "m".into());
                assert!(collector.totals().is_consistent(), "{:?}", collector.totals());
            }
        }
        let report = collector.finish(None);
        assert_eq!(
            report.totals,
            Totals { tests: 8, passed: 4, failed: 1, errored: 1, skipped: 2, flaky: 3, suite_problems: 0 },
            "{:?}",
            report.notes
        );
        let flaky: Vec<_> = report.flaky.iter().map(|f| (f.name.as_str(), f.attempts)).collect();
        assert_eq!(flaky, [("t1", 2), ("t2", 3), ("t7", 4)]);
        let failing: Vec<_> = report.failures.iter().map(|f| (f.name.as_str(), f.kind)).collect();
        assert_eq!(failing, [("t3", FailureKind::Error), ("t4", FailureKind::Failure)]);
        let inconsistent = Totals { tests: 3, passed: 1, ..Default::default() };
        assert!(!inconsistent.is_consistent());
    }

    #[test]
    fn names_are_cut_on_a_character_boundary() {
        assert_eq!(cap_name("short"), "short");
        let long = format!("{}€", "a".repeat(MAX_NAME_BYTES - 1));
        let cut = cap_name(&long);
        assert_eq!(cut, format!("{}… (3 bytes cut)", "a".repeat(MAX_NAME_BYTES - 1)));
    }

    #[test]
    fn outcomes_serialise_for_the_manifest() {
        let outcome = FileOutcome::Unparseable { format: Some(ReportFormat::GoTestJson), reason: "x".into() };
        let json = serde_json::to_value(&outcome).unwrap();
        assert_eq!(json, serde_json::json!({"outcome": "unparseable", "format": "go-test-json", "reason": "x"}));
        assert_eq!(
            serde_json::to_value(FileOutcome::NotAReport).unwrap(),
            serde_json::json!({"outcome": "not_a_report"})
        );
        let parsed = FileOutcome::Parsed(ParsedReport {
            format: ReportFormat::Junit,
            totals: Totals { tests: 2, passed: 1, failed: 1, ..Default::default() },
            duration_seconds: Some(1.5),
            failures: vec![FailedTest {
                suite: "s".into(),
                name: "t".into(),
                kind: FailureKind::Failure,
                message: "m".into(),
            }],
            flaky: vec![],
            suite_problems: vec![],
            notes: vec![],
        });
        let json = serde_json::to_string(&parsed).unwrap();
        assert!(json.contains(r#""outcome":"parsed","format":"junit","totals":{"tests":2,"passed":1"#), "{json}");
        assert_eq!(serde_json::from_str::<FileOutcome>(&json).unwrap(), parsed);
    }
}
