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
//! Counting rules shared by every format: `tests = passed + failed + errored + skipped`;
//! "failed" is an assertion failure, "errored" anything that kept a test from
//! finishing (a panic in Ginkgo, a build failure, a test that started and never ended).
//! Format-specific rules are documented in [`junit`], [`gotest`] and [`ginkgo`].

mod detect;
pub mod ginkgo;
pub mod gotest;
mod input;
pub mod junit;

use std::fs::File;
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub tests: u64,
    pub passed: u64,
    pub failed: u64,
    pub errored: u64,
    pub skipped: u64,
}

impl Totals {
    pub fn add(&mut self, other: &Totals) {
        self.tests += other.tests;
        self.passed += other.passed;
        self.failed += other.failed;
        self.errored += other.errored;
        self.skipped += other.skipped;
    }

    /// Counts one test with the given outcome.
    pub(crate) fn count(&mut self, outcome: Outcome) {
        self.tests += 1;
        match outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Errored => self.errored += 1,
            Outcome::Skipped => self.skipped += 1,
        }
    }

    /// True when at least one test failed or errored.
    pub fn has_failures(&self) -> bool {
        self.failed > 0 || self.errored > 0
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
    let reader = BufReader::with_capacity(input::READ_BUFFER, reader);
    let result = match sniffed {
        Sniffed::Xml { declared } => junit::parse(reader, declared),
        Sniffed::GoTestJson => gotest::parse(reader),
        Sniffed::GinkgoJson => ginkgo::parse(reader),
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

/// Collects what every parser produces: totals, the first failures, bounded notes.
#[derive(Debug)]
pub(crate) struct Collector {
    format: ReportFormat,
    pub(crate) totals: Totals,
    failures: Vec<FailedTest>,
    unlisted_failures: u64,
    notes: Vec<String>,
    omitted_notes: u64,
}

impl Collector {
    pub(crate) fn new(format: ReportFormat) -> Self {
        Collector {
            format,
            totals: Totals::default(),
            failures: Vec::new(),
            unlisted_failures: 0,
            notes: Vec::new(),
            omitted_notes: 0,
        }
    }

    /// Counts a test; failures and errors are listed (up to the limit) with `message`.
    /// `message` is only called for listed failures, so building it costs nothing otherwise.
    pub(crate) fn test(&mut self, outcome: Outcome, suite: &str, name: &str, message: impl FnOnce() -> String) {
        self.totals.count(outcome);
        let kind = match outcome {
            Outcome::Failed => FailureKind::Failure,
            Outcome::Errored => FailureKind::Error,
            Outcome::Passed | Outcome::Skipped => return,
        };
        if self.failures.len() < MAX_LISTED_FAILURES {
            self.failures.push(FailedTest { suite: suite.to_string(), name: name.to_string(), kind, message: message() });
        } else {
            self.unlisted_failures += 1;
        }
    }

    pub(crate) fn note(&mut self, note: impl FnOnce() -> String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(note());
        } else {
            self.omitted_notes += 1;
        }
    }

    pub(crate) fn finish(mut self, duration_seconds: Option<f64>) -> ParsedReport {
        if self.unlisted_failures > 0 {
            self.notes.push(format!(
                "{} more failed tests are counted but not listed (the first {MAX_LISTED_FAILURES} are)",
                self.unlisted_failures
            ));
        }
        if self.omitted_notes > 0 {
            self.notes.push(format!("{} more notes omitted", self.omitted_notes));
        }
        ParsedReport {
            format: self.format,
            totals: self.totals,
            duration_seconds,
            failures: self.failures,
            notes: self.notes,
        }
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
    fn outcomes_serialise_for_the_manifest() {
        let outcome = FileOutcome::Unparseable { format: Some(ReportFormat::GoTestJson), reason: "x".into() };
        let json = serde_json::to_value(&outcome).unwrap();
        assert_eq!(json, serde_json::json!({"outcome": "unparseable", "format": "go-test-json", "reason": "x"}));
        assert_eq!(serde_json::to_value(FileOutcome::NotAReport).unwrap(), serde_json::json!({"outcome": "not_a_report"}));
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
            notes: vec![],
        });
        let json = serde_json::to_string(&parsed).unwrap();
        assert!(json.contains(r#""outcome":"parsed","format":"junit","totals":{"tests":2,"passed":1"#), "{json}");
        assert_eq!(serde_json::from_str::<FileOutcome>(&json).unwrap(), parsed);
    }
}
