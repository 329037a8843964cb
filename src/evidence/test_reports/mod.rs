//! Test evidence: report artifacts collected from workflow runs, extracted safely,
//! parsed, and judged per category (unit, e2e, gardener, upgrade).
//!
//! [`TestSettings`] come checked from the input seam; [`collect::collect`] fetches and parses; the
//! records here are plain data for the manifest, the summary and the statements.
//! Counts always come from the report files themselves.
//!
//! A category is green only when every file of its artifacts is a report that parsed or
//! other content ([`files`]: a file that is not a report may only be a log or a binary
//! file, never XML or JSON), and every artifact came from a job that let its reports
//! count ([`jobs`]: not from a job that failed, was cancelled or had not finished).
//! [`judge_category`] decides it from the recorded data alone, so `verify` re-derives it.
//! Nothing here prints: what an operator should see is a [`Warning`] in the evidence,
//! which the report layer turns into annotations.

pub mod attempts;
pub mod collect;
pub mod extract;
pub mod files;
pub mod jobs;
pub mod zip_layout;

use jobs::JobTie;
pub mod parse;
pub mod summary;

use globset::GlobMatcher;
use serde::{Deserialize, Serialize};

use parse::{FailedTest, FlakyTest, ReportFormat, SuiteProblem, Totals};

/// The suite categories an audit knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Unit,
    E2e,
    Gardener,
    Upgrade,
}

impl Category {
    pub const ALL: [Category; 4] = [Category::Unit, Category::E2e, Category::Gardener, Category::Upgrade];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Unit => "unit",
            Category::E2e => "e2e",
            Category::Gardener => "gardener",
            Category::Upgrade => "upgrade",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Category::Unit => "Unit",
            Category::E2e => "E2E",
            Category::Gardener => "Gardener",
            Category::Upgrade => "Upgrade",
        }
    }

    /// A category by its name, in any case.
    pub fn parse(s: &str) -> Option<Self> {
        Category::ALL.into_iter().find(|c| c.as_str().eq_ignore_ascii_case(s))
    }
}

/// An artifact name or glob, as given, with its matcher.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub text: String,
    matcher: GlobMatcher,
}

impl Pattern {
    /// A pattern: an exact artifact name or a glob.
    pub fn new(text: String, matcher: GlobMatcher) -> Self {
        Pattern { text, matcher }
    }

    /// Whether it names the artifact: exactly (artifact names may hold `[ ] { }`,
    /// which a glob would read as a class), or as a glob.
    pub fn matches(&self, name: &str) -> bool {
        self.text == name || self.matcher.is_match(name)
    }

    /// How specifically it names `name`: exactly (2) beats a glob (1).
    pub fn specificity(&self, name: &str) -> u8 {
        if self.text == name || !self.text.contains(['*', '?', '[', '{']) { 2 } else { 1 }
    }
}

/// Where reports are looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunSelector {
    /// The run this step belongs to (artifacts v4).
    Current,
    /// A run by id (REST).
    Id(u64),
    /// The newest completed run of a workflow file for a commit (REST).
    Workflow { file: String, head_sha: String },
}

/// Validated test-evidence inputs.
#[derive(Debug, Clone)]
pub struct TestSettings {
    pub categories: Vec<(Category, Vec<Pattern>)>,
    pub required: Vec<Category>,
    pub runs: Vec<RunSelector>,
    pub fail_on_test_failures: bool,
    pub fail_on_missing_reports: bool,
    /// Flaky tests (failed, then passed on a retry) fail their category.
    pub fail_on_flaky: bool,
    pub include_run_logs: bool,
}

/// How a category stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryStatus {
    Passed,
    Failed,
    Missing,
    Empty,
}

/// What became of one file of an artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    Parsed,
    Unparseable,
    NotAReport,
}

/// One file of a report artifact, as kept in the bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportFile {
    /// Path inside the bundle.
    pub path: String,
    pub sha256: String,
    pub size: u64,
    pub status: FileStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<ReportFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totals: Option<Totals>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<FailedTest>,
    /// Tests that passed after a failed attempt (the first ones; `totals.flaky` counts all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flaky: Vec<FlakyTest>,
    /// Package- or suite-level failures, which are not tests (`totals.suite_problems` counts all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suite_problems: Vec<SuiteProblem>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Why the file could not be parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ReportFile {
    /// The record of one report file from what reading it gave: one rule for the audit
    /// and for `verify`, which re-reads the file and compares the whole record.
    pub fn from_outcome(path: String, size: u64, sha256: String, outcome: parse::FileOutcome) -> ReportFile {
        let base = ReportFile {
            path,
            sha256,
            size,
            status: FileStatus::NotAReport,
            format: None,
            totals: None,
            duration_seconds: None,
            failures: vec![],
            flaky: vec![],
            suite_problems: vec![],
            notes: vec![],
            reason: None,
        };
        match outcome {
            parse::FileOutcome::Parsed(r) => ReportFile {
                status: FileStatus::Parsed,
                format: Some(r.format),
                totals: Some(r.totals),
                duration_seconds: r.duration_seconds,
                failures: r.failures,
                flaky: r.flaky,
                suite_problems: r.suite_problems,
                notes: r.notes,
                ..base
            },
            parse::FileOutcome::Unparseable { format, reason } => {
                ReportFile { status: FileStatus::Unparseable, format, reason: Some(reason), ..base }
            }
            parse::FileOutcome::NotAReport => base,
        }
    }
}

/// One report artifact and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactRecord {
    pub id: i64,
    pub name: String,
    pub run_id: Option<u64>,
    /// The run's attempt when it was audited: GitHub's artifact lists do not say which
    /// attempt uploaded an artifact (a re-run keeps the artifacts of jobs it did not run).
    pub run_attempt: Option<u32>,
    pub size: u64,
    /// The digest the artifact service recorded (`sha256:…`), when it had one.
    pub digest: Option<String>,
    /// sha256 of the zip as downloaded (hex); equals `digest` when there is one.
    pub sha256: String,
    pub files: Vec<ReportFile>,
    /// When the artifact service says the artifact was created (RFC 3339); absent in
    /// bundles written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The job that uploaded it ([`jobs`]); absent in bundles written before jobs were
    /// tied, which are judged without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobTie>,
    /// The workflow attempt that uploaded it, as its job says ([`JobTie::attempt`]);
    /// absent when no job said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// The artifacts of the same name that earlier attempts of the same run uploaded
    /// ("Re-run jobs"), oldest first: their reports are earlier attempts of the same
    /// tests ([`attempts`]), never reports of their own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_attempts: Vec<ArtifactRecord>,
    /// The ids of earlier attempts' artifacts of the same name that had expired: their
    /// reports cannot be read, and each counts as a failure of an earlier attempt that
    /// names no test ([`attempts`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expired_earlier_attempts: Vec<i64>,
}

impl ArtifactRecord {
    /// Why this artifact's reports cannot make their category green, from its job.
    pub fn held_back(&self) -> Option<String> {
        self.job.as_ref().and_then(JobTie::blocks)
    }

    /// This artifact and its earlier attempts' artifacts: every record whose files the
    /// bundle keeps.
    pub fn all_attempts(&self) -> impl Iterator<Item = &ArtifactRecord> {
        std::iter::once(self).chain(&self.earlier_attempts)
    }
}

/// What an operator should see as a warning: kept as data in the evidence, rendered
/// (as an annotation, in the summary) by the report layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub kind: WarningKind,
    /// A short title for the annotation, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub text: String,
}

/// What a [`Warning`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A category pattern matched no artifact.
    NoArtifactMatched,
    /// The run's own record (run.json, jobs, logs) is incomplete or was not collected.
    RunEvidenceIncomplete,
    /// The run's jobs could not be read, so no artifact could be tied to its job.
    JobsUnread,
    /// An artifact's reports were held back by the job that uploaded them.
    ReportHeldBack,
}

/// A suite category's evidence and verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryRecord {
    pub category: Category,
    pub required: bool,
    pub patterns: Vec<String>,
    pub status: CategoryStatus,
    pub totals: Totals,
    pub duration_seconds: f64,
    pub unparseable_files: u64,
    pub artifacts: Vec<ArtifactRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Notes an operator should see as warnings (their text is among `notes` too).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

/// A job of a source run that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedJob {
    pub id: u64,
    pub name: String,
    pub conclusion: String,
}

/// Conclusions of a job that did not succeed (GitHub's `conclusion` of a completed job;
/// `skipped` and `neutral` are not failures).
pub const FAILED_CONCLUSIONS: [&str; 4] = ["failure", "cancelled", "timed_out", "startup_failure"];

/// The jobs of a run (the jobs API's objects) that concluded without success, by id.
pub fn failed_jobs(jobs: &[serde_json::Value]) -> Vec<FailedJob> {
    let mut failed: Vec<FailedJob> = jobs
        .iter()
        .filter_map(|j| {
            let conclusion = j.get("conclusion")?.as_str()?;
            FAILED_CONCLUSIONS.contains(&conclusion).then(|| FailedJob {
                id: j.get("id").and_then(serde_json::Value::as_u64).unwrap_or(0),
                name: j.get("name").and_then(serde_json::Value::as_str).unwrap_or("").to_string(),
                conclusion: conclusion.to_string(),
            })
        })
        .collect();
    failed.sort_by_key(|f| f.id);
    failed
}

/// A run the reports were taken from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRun {
    pub run_id: Option<u64>,
    /// `current`, `run-id` or `workflow:<file>`.
    pub selected_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_sha: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_attempt: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Bundle paths of the run's evidence files (run.json, jobs.json, logs.zip).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence_files: Vec<String>,
    /// The current run's jobs with their logs: every completed job's log through the
    /// jobs API (the run's log archive exists only once the run has ended); jobs still
    /// running, like the audit job itself, are listed without one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub job_logs: Vec<JobLog>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Notes an operator should see as warnings (their text is among `notes` too).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// The run's jobs that concluded without success (failure, cancelled, timed out):
    /// whatever they tested may be missing from the reports — a matrix leg that failed
    /// before uploading anything leaves no report to fail its category — so each fails
    /// the gate. From the jobs API (`run/<id>/jobs.json`, which `verify` reads again).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_jobs: Vec<FailedJob>,
}

/// One job of the current run and its log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobLog {
    pub job_id: u64,
    pub name: String,
    /// The job's status when the audit read it (`completed`, `in_progress`, `queued`…).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<String>,
    /// Bundle path of the log (completed jobs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The log was longer than the limit; only its first `size` bytes are kept.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Why there is no log (gone, or the job has not completed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The test part of the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestEvidence {
    /// The counting conventions the totals follow ([`COUNTING_CONVENTION`]); bundles
    /// written before it was recorded counted under convention 1.
    #[serde(default = "first_convention")]
    pub counting: u32,
    pub categories: Vec<CategoryRecord>,
    pub sources: Vec<SourceRun>,
    pub fail_on_test_failures: bool,
    pub fail_on_missing_reports: bool,
    /// Flaky tests failed their category (`fail-on-flaky`); absent in bundles written without it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fail_on_flaky: bool,
}

/// The counting conventions (docs/counting.md): 3 counts same-named JUnit test cases as
/// separate tests unless the file marks reruns (Surefire's rerun elements, or declared
/// suite counts that only the rerun reading explains), makes declared counts that
/// disagree with the test cases a suite problem, and reads files by content (a JUnit,
/// `go test -json` or Ginkgo file that cannot be read is unparseable). 2 counted a rerun
/// test once with its final outcome, flaky when it failed first, and kept suite problems
/// apart from tests, but merged every same-named test case. 1 (the first version) counted
/// every attempt and every suite-level problem as a test. `verify` recounts only under
/// the convention a bundle was counted with.
pub const COUNTING_CONVENTION: u32 = 3;

fn first_convention() -> u32 {
    1
}

impl TestEvidence {
    /// Every warning of the evidence, categories first, then the runs, in order.
    pub fn warnings(&self) -> impl Iterator<Item = &Warning> {
        self.categories.iter().flat_map(|c| &c.warnings).chain(self.sources.iter().flat_map(|s| &s.warnings))
    }

    /// Why the release must not pass on test evidence, one line each.
    pub fn failures(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        for c in &self.categories {
            let name = c.category.title();
            match c.status {
                CategoryStatus::Missing if c.required && self.fail_on_missing_reports => {
                    reasons.push(format!("{name} tests: no report artifact matched {}", c.patterns.join(", ")))
                }
                CategoryStatus::Empty if c.required && self.fail_on_missing_reports => {
                    reasons.push(format!("{name} tests: the reports contain no tests"))
                }
                CategoryStatus::Failed if self.fail_on_test_failures || (self.fail_on_flaky && c.totals.flaky > 0) => {
                    let mut parts = Vec::new();
                    if c.totals.failed > 0 {
                        parts.push(format!("{} failed", c.totals.failed));
                    }
                    if c.totals.errored > 0 {
                        parts.push(format!("{} errored", c.totals.errored));
                    }
                    if c.totals.suite_problems > 0 {
                        parts.push(format!(
                            "{} suite problem(s) (a package that did not build, a failed setup)",
                            c.totals.suite_problems
                        ));
                    }
                    if c.unparseable_files > 0 {
                        parts.push(format!("{} report file(s) could not be parsed", c.unparseable_files));
                    }
                    parts.extend(held_back_reasons(c));
                    if self.fail_on_flaky && c.totals.flaky > 0 {
                        parts.push(flaky_reason(c));
                    }
                    if !self.fail_on_test_failures {
                        // Only the flaky tests fail the gate here.
                        parts.retain(|p| p.contains("flaky"));
                    }
                    reasons.push(format!("{name} tests: {}", parts.join(", ")))
                }
                _ => {}
            }
        }
        if self.fail_on_test_failures {
            for source in &self.sources {
                for job in &source.failed_jobs {
                    let run = source.run_id.map(|r| format!(" of run {r}")).unwrap_or_default();
                    reasons.push(format!(
                        "job `{}` (id {}){run} concluded {}: a job of a run the reports were taken from did not succeed, so what it tested may be missing from the reports",
                        job.name, job.id, job.conclusion
                    ));
                }
            }
        }
        reasons
    }
}

/// `the reports of artifact `a` do not count: uploaded by job `j` (id 1) concluded failure`,
/// one per held-back artifact (the first few, then how many more).
fn held_back_reasons(c: &CategoryRecord) -> Vec<String> {
    const SHOWN: usize = 5;
    let held: Vec<(&ArtifactRecord, String)> =
        c.artifacts.iter().filter_map(|a| a.held_back().map(|why| (a, why))).collect();
    let mut parts: Vec<String> = held
        .iter()
        .take(SHOWN)
        .map(|(a, why)| format!("the reports of artifact `{}` do not count: {why}", a.name))
        .collect();
    if held.len() > SHOWN {
        parts.push(format!("{} more artifact(s) held back by their jobs", held.len() - SHOWN));
    }
    parts
}

/// `N flaky test(s) (fail-on-flaky): a, b, c and M more`; a test flaky across workflow
/// attempts is named with the attempts.
fn flaky_reason(c: &CategoryRecord) -> String {
    const SHOWN: usize = 5;
    let mut names: Vec<String> =
        c.artifacts.iter().flat_map(|a| &a.files).flat_map(|f| &f.flaky).map(|t| t.display_name()).collect();
    names.extend(c.artifacts.iter().flat_map(|a| attempts::across_attempts(a).tests).map(|t| t.describe()));
    let mut text = format!("{} flaky test(s) (fail-on-flaky)", c.totals.flaky);
    if !names.is_empty() {
        text.push_str(": ");
        text.push_str(&names.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", "));
        let more = (c.totals.flaky as usize).saturating_sub(SHOWN.min(names.len()));
        if more > 0 {
            text.push_str(&format!(" and {more} more"));
        }
    }
    text
}

/// A category's verdict, as [`judge_category`] derives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub status: CategoryStatus,
    pub totals: Totals,
    pub duration_seconds: f64,
    pub unparseable_files: u64,
    /// Artifacts whose job keeps their reports from counting.
    pub held_back_artifacts: u64,
}

/// Judges a category from what was collected. Unparseable reports never pass, nor
/// reports from a job that failed, was cancelled or had not finished ([`jobs`]); with
/// `fail_on_flaky`, neither do flaky tests — a test that failed in an earlier workflow
/// attempt and not in the newest is one ([`attempts`]). The counts, the duration and the
/// jobs are the newest attempts'.
pub fn judge_category(artifacts: &[ArtifactRecord], fail_on_flaky: bool) -> Judgement {
    let mut totals = Totals::default();
    let mut duration = 0.0;
    let mut unparseable = 0;
    for file in artifacts.iter().flat_map(|a| &a.files) {
        if let Some(t) = &file.totals {
            totals.add(t);
        }
        duration += file.duration_seconds.unwrap_or(0.0);
        if file.status == FileStatus::Unparseable {
            unparseable += 1;
        }
    }
    // Earlier workflow attempts' failures that the newest attempt does not repeat.
    totals.flaky += artifacts.iter().map(|a| attempts::across_attempts(a).count()).sum::<u64>();
    let held_back = artifacts.iter().filter(|a| a.held_back().is_some()).count() as u64;
    let status = if artifacts.is_empty() {
        CategoryStatus::Missing
    } else if totals.has_failures() || unparseable > 0 || held_back > 0 || (fail_on_flaky && totals.flaky > 0) {
        CategoryStatus::Failed
    } else if totals.tests == 0 {
        CategoryStatus::Empty
    } else {
        CategoryStatus::Passed
    };
    Judgement {
        status,
        totals,
        duration_seconds: duration,
        unparseable_files: unparseable,
        held_back_artifacts: held_back,
    }
}

/// [`judge_category`] as a tuple, for callers written before [`Judgement`]
/// (`bundle::verify`); new code uses [`judge_category`].
pub fn judge(artifacts: &[ArtifactRecord], fail_on_flaky: bool) -> (CategoryStatus, Totals, f64, u64) {
    let j = judge_category(artifacts, fail_on_flaky);
    (j.status, j.totals, j.duration_seconds, j.unparseable_files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(status: FileStatus, totals: Option<Totals>) -> ReportFile {
        ReportFile {
            path: "p".into(),
            sha256: String::new(),
            size: 0,
            status,
            format: None,
            totals,
            duration_seconds: Some(1.5),
            failures: vec![],
            flaky: vec![],
            suite_problems: vec![],
            notes: vec![],
            reason: None,
        }
    }

    fn artifact(files: Vec<ReportFile>) -> ArtifactRecord {
        ArtifactRecord {
            id: 1,
            name: "a".into(),
            run_id: None,
            run_attempt: None,
            size: 0,
            digest: None,
            sha256: String::new(),
            files,
            created_at: None,
            job: None,
            attempt: None,
            earlier_attempts: vec![],
            expired_earlier_attempts: vec![],
        }
    }

    #[test]
    fn the_gate_never_passes_unparseable_or_empty_evidence() {
        let green = Totals { tests: 3, passed: 3, ..Default::default() };
        assert_eq!(judge(&[], false).0, CategoryStatus::Missing);
        assert_eq!(judge(&[artifact(vec![file(FileStatus::Parsed, Some(green))])], false).0, CategoryStatus::Passed);
        assert_eq!(
            judge(&[artifact(vec![file(FileStatus::Parsed, Some(green)), file(FileStatus::Unparseable, None)])], false)
                .0,
            CategoryStatus::Failed
        );
        assert_eq!(judge(&[artifact(vec![file(FileStatus::NotAReport, None)])], false).0, CategoryStatus::Empty);
        let red = Totals { tests: 3, passed: 2, errored: 1, ..Default::default() };
        let (status, totals, duration, _) =
            judge(&[artifact(vec![file(FileStatus::Parsed, Some(red)), file(FileStatus::Parsed, Some(green))])], false);
        assert_eq!((status, totals.tests, duration), (CategoryStatus::Failed, 6, 3.0));
        // A suite problem (a package that did not build) fails the category, even with no tests.
        let problem = Totals { suite_problems: 1, ..Default::default() };
        assert_eq!(judge(&[artifact(vec![file(FileStatus::Parsed, Some(problem))])], false).0, CategoryStatus::Failed);
        // Flaky tests alone do not.
        let flaky = Totals { flaky: 2, ..green };
        let (status, totals, ..) = judge(
            &[artifact(vec![file(FileStatus::Parsed, Some(flaky)), file(FileStatus::Parsed, Some(problem))])],
            false,
        );
        assert_eq!((status, totals.flaky, totals.suite_problems), (CategoryStatus::Failed, 2, 1));
        assert_eq!(judge(&[artifact(vec![file(FileStatus::Parsed, Some(flaky))])], false).0, CategoryStatus::Passed);
        // Unless flaky tests are to fail the gate.
        assert_eq!(judge(&[artifact(vec![file(FileStatus::Parsed, Some(flaky))])], true).0, CategoryStatus::Failed);
        assert_eq!(judge(&[artifact(vec![file(FileStatus::Parsed, Some(green))])], true).0, CategoryStatus::Passed);
    }

    #[test]
    fn a_report_from_a_failed_or_unfinished_job_never_passes() {
        use jobs::{CandidateJob, TieKind};
        let green = Totals { tests: 3, passed: 3, ..Default::default() };
        let tied = |status: &str, conclusion: Option<&str>, kind: TieKind| {
            let mut a = artifact(vec![file(FileStatus::Parsed, Some(green))]);
            a.name = "pr-e2e-traces-report".into();
            a.job = Some(JobTie {
                kind,
                own_job: false,
                jobs: vec![CandidateJob {
                    id: 9,
                    name: "e2e (traces)".into(),
                    status: status.into(),
                    conclusion: conclusion.map(str::to_string),
                    failed_step: None,
                    run_attempt: None,
                }],
                candidates: 1,
            });
            a
        };
        let ok = tied("completed", Some("success"), TieKind::Single);
        assert_eq!(judge_category(std::slice::from_ref(&ok), false).status, CategoryStatus::Passed);
        for bad in [
            tied("completed", Some("failure"), TieKind::Single),
            tied("completed", Some("cancelled"), TieKind::Single),
            tied("in_progress", None, TieKind::Single),
            tied("completed", Some("failure"), TieKind::Ambiguous),
        ] {
            let j = judge_category(&[ok.clone(), bad.clone()], false);
            assert_eq!((j.status, j.held_back_artifacts), (CategoryStatus::Failed, 1), "{:?}", bad.job);
        }
        let mut none = ok.clone();
        none.job = Some(JobTie { kind: TieKind::None, own_job: false, jobs: vec![], candidates: 0 });
        assert_eq!(judge_category(&[none], false).status, CategoryStatus::Failed);
        let mut unread = ok.clone();
        unread.job = Some(JobTie::unread());
        assert_eq!(judge_category(&[unread], false).status, CategoryStatus::Passed);
        // The reason names the artifact and the job.
        let record = CategoryRecord {
            category: Category::E2e,
            required: true,
            patterns: vec![],
            status: CategoryStatus::Failed,
            totals: green,
            duration_seconds: 0.0,
            unparseable_files: 0,
            artifacts: vec![ok, tied("completed", Some("failure"), TieKind::Single)],
            notes: vec![],
            warnings: vec![],
        };
        let evidence = TestEvidence {
            counting: COUNTING_CONVENTION,
            categories: vec![record],
            sources: vec![],
            fail_on_test_failures: true,
            fail_on_missing_reports: true,
            fail_on_flaky: false,
        };
        assert_eq!(
            evidence.failures(),
            [
                "E2E tests: the reports of artifact `pr-e2e-traces-report` do not count: uploaded by job `e2e (traces)` (id 9) concluded failure"
            ]
        );
    }
}
