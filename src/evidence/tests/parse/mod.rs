//! Streaming parsers for test reports (interface placeholder; the parsers land with
//! the `parsers` branch).

use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportFormat {
    Junit,
    GoTestJson,
    GinkgoJson,
}

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    Failure,
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedTest {
    pub suite: String,
    pub name: String,
    pub kind: FailureKind,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParsedReport {
    pub format: ReportFormat,
    pub totals: Totals,
    pub duration_seconds: Option<f64>,
    pub failures: Vec<FailedTest>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FileOutcome {
    Parsed(ParsedReport),
    Unparseable { format: Option<ReportFormat>, reason: String },
    NotAReport,
}

pub fn parse_file(_path: &Path) -> FileOutcome {
    FileOutcome::NotAReport
}
