//! What `release-audit reports` found in local files: each file's outcome, the totals
//! and the verdict, as data (rendered by [`crate::report::table`], printed by the CLI).

use serde::Serialize;

use super::parse::{FileOutcome, Totals};

/// One file and what it turned out to be.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// As given, or `archive.zip!path/inside` for a file from an archive.
    pub path: String,
    #[serde(flatten)]
    pub outcome: FileOutcome,
}

/// Everything `reports` found, in the order the paths were given (directories sorted).
#[derive(Debug, Clone, Serialize)]
pub struct ReportsSummary {
    pub passed: bool,
    pub totals: Totals,
    pub reports: u64,
    pub unparseable: u64,
    pub not_reports: u64,
    pub files: Vec<FileReport>,
}

impl ReportsSummary {
    /// Totals and the verdict of `files`: passed when at least one report was found,
    /// nothing is unparseable and no test failed (an empty result is not a pass).
    pub fn from_files(files: Vec<FileReport>) -> Self {
        let mut totals = Totals::default();
        let (mut reports, mut unparseable, mut not_reports) = (0, 0, 0);
        for file in &files {
            match &file.outcome {
                FileOutcome::Parsed(report) => {
                    reports += 1;
                    totals.add(&report.totals);
                }
                FileOutcome::Unparseable { .. } => unparseable += 1,
                FileOutcome::NotAReport => not_reports += 1,
            }
        }
        let passed = reports > 0 && unparseable == 0 && !totals.has_failures();
        Self { passed, totals, reports, unparseable, not_reports, files }
    }
}
