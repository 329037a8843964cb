//! Report artifacts of earlier workflow attempts: re-running until green is a rerun,
//! not a pass.
//!
//! GitHub's "Re-run jobs" starts a new attempt of the same workflow run; a re-run job
//! uploads its report artifact again under the same name, and the run then holds one
//! artifact of that name per attempt. The newest (highest id) is the run's, as the
//! official client takes it; the earlier ones are not thrown away: they are the same
//! tests' earlier attempts, a rerun the tool (GitHub) says is one. So, for each artifact
//! with earlier attempts ([`ArtifactRecord::earlier_attempts`], oldest first):
//!
//! - the newest attempt's reports count as the artifact's reports (its failures fail);
//! - a test an earlier attempt lists as failed or errored that the newest attempt does
//!   not list as failing is **flaky across workflow attempts**: counted in the category's
//!   `totals.flaky` (so `fail-on-flaky: true` fails the category) and named with the
//!   attempts it failed in and the newest one;
//! - what an earlier attempt failed without naming a test — failures past the listed
//!   100 of a file, suite problems, report files that could not be parsed — counts as
//!   that many more flaky items (the largest such number of any one earlier attempt,
//!   since the same unnamed failure repeats from attempt to attempt);
//! - an earlier attempt's artifact that had expired cannot be read: it counts as one
//!   more such item (it may have failed; the newest attempt is still read and counted).
//!
//! A test is matched by its suite and name as the reports list them. Everything here is
//! a pure function of the recorded artifacts, so `verify` re-derives it from the bundle,
//! which keeps every earlier attempt's report files.

use std::collections::BTreeMap;

use super::{ArtifactRecord, FileStatus};

/// A test that failed in an earlier workflow attempt and does not fail in the newest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlakyAcrossAttempts {
    pub suite: String,
    pub name: String,
    /// The earlier attempts it failed in, oldest first ([`attempt_label`]).
    pub failed_in: Vec<String>,
    /// The newest attempt ([`attempt_label`]).
    pub newest: String,
}

impl FlakyAcrossAttempts {
    /// `suite › name`, or the name alone when the report gives no suite.
    pub fn display_name(&self) -> String {
        if self.suite.is_empty() { self.name.clone() } else { format!("{} › {}", self.suite, self.name) }
    }

    /// `suite › name (failed in attempt 1, not in attempt 2)`.
    pub fn describe(&self) -> String {
        format!("{} (failed in {}, not in {})", self.display_name(), self.failed_in.join(" and "), self.newest)
    }
}

/// What an artifact's earlier attempts add to its category.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcrossAttempts {
    /// The named tests, in the order the earlier attempts list them.
    pub tests: Vec<FlakyAcrossAttempts>,
    /// Failures of earlier attempts that name no test.
    pub unnamed: u64,
}

impl AcrossAttempts {
    /// How many flaky items the earlier attempts add.
    pub fn count(&self) -> u64 {
        self.tests.len() as u64 + self.unnamed
    }
}

/// `attempt 2`, or `the artifact with id 123` when no job said which attempt uploaded it.
pub fn attempt_label(a: &ArtifactRecord) -> String {
    match a.attempt {
        Some(n) => format!("attempt {n}"),
        None => format!("the artifact with id {}", a.id),
    }
}

/// Compares an artifact's earlier attempts with its newest one (the rule in this
/// module's docs).
pub fn across_attempts(newest: &ArtifactRecord) -> AcrossAttempts {
    if newest.earlier_attempts.is_empty() && newest.expired_earlier_attempts.is_empty() {
        return AcrossAttempts::default();
    }
    let failing_now: std::collections::HashSet<(&str, &str)> =
        newest.files.iter().flat_map(|f| &f.failures).map(|t| (t.suite.as_str(), t.name.as_str())).collect();
    let mut order: Vec<(&str, &str)> = Vec::new();
    let mut failed_in: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    let mut unnamed = 0;
    for earlier in &newest.earlier_attempts {
        let label = attempt_label(earlier);
        let mut this_attempt = 0;
        for file in &earlier.files {
            if file.status == FileStatus::Unparseable {
                this_attempt += 1;
            }
            if let Some(t) = &file.totals {
                let failing = t.failed + t.errored;
                this_attempt += failing.saturating_sub(file.failures.len() as u64) + t.suite_problems;
            }
            for t in &file.failures {
                let key = (t.suite.as_str(), t.name.as_str());
                if failing_now.contains(&key) {
                    continue;
                }
                let attempts = failed_in.entry(key).or_insert_with(|| {
                    order.push(key);
                    Vec::new()
                });
                if attempts.last() != Some(&label) {
                    attempts.push(label.clone());
                }
            }
        }
        unnamed = unnamed.max(this_attempt);
    }
    let unnamed = unnamed + newest.expired_earlier_attempts.len() as u64;
    let newest_label = attempt_label(newest);
    let tests = order
        .into_iter()
        .map(|key| FlakyAcrossAttempts {
            suite: key.0.to_string(),
            name: key.1.to_string(),
            failed_in: failed_in.remove(&key).unwrap_or_default(),
            newest: newest_label.clone(),
        })
        .collect();
    AcrossAttempts { tests, unnamed }
}

#[cfg(test)]
mod tests {
    use super::super::parse::{FailedTest, FailureKind, Totals};
    use super::super::{ArtifactRecord, FileStatus, ReportFile};
    use super::*;

    fn record(id: i64, attempt: Option<u32>, failed: &[&str], passed: u64) -> ArtifactRecord {
        let failures: Vec<FailedTest> = failed
            .iter()
            .map(|n| FailedTest {
                suite: "e2e".into(),
                name: n.to_string(),
                kind: FailureKind::Failure,
                message: String::new(),
            })
            .collect();
        let n = failed.len() as u64;
        ArtifactRecord {
            id,
            name: "pr-e2e-report".into(),
            run_id: Some(1),
            run_attempt: Some(2),
            attempt,
            size: 0,
            digest: None,
            sha256: String::new(),
            files: vec![ReportFile {
                path: format!("reports/e2e/a{id}/junit.xml"),
                sha256: String::new(),
                size: 0,
                status: FileStatus::Parsed,
                format: None,
                totals: Some(Totals { tests: n + passed, passed, failed: n, ..Default::default() }),
                duration_seconds: None,
                failures,
                flaky: vec![],
                suite_problems: vec![],
                notes: vec![],
                reason: None,
            }],
            created_at: None,
            job: None,
            earlier_attempts: vec![],
            expired_earlier_attempts: vec![],
        }
    }

    #[test]
    fn a_failure_of_an_earlier_attempt_that_the_newest_does_not_repeat_is_flaky() {
        let mut newest = record(30, Some(3), &["TestStill"], 2);
        newest.earlier_attempts =
            vec![record(10, Some(1), &["TestA", "TestStill"], 1), record(20, None, &["TestA", "TestB"], 1)];
        let across = across_attempts(&newest);
        assert_eq!(across.count(), 2);
        assert_eq!(
            across.tests.iter().map(FlakyAcrossAttempts::describe).collect::<Vec<_>>(),
            [
                "e2e › TestA (failed in attempt 1 and the artifact with id 20, not in attempt 3)",
                "e2e › TestB (failed in the artifact with id 20, not in attempt 3)"
            ]
        );
        assert_eq!(across_attempts(&record(1, Some(1), &["TestA"], 0)).count(), 0);
    }

    #[test]
    fn unnamed_failures_of_earlier_attempts_count_too() {
        let mut earlier = record(10, Some(1), &["TestA"], 0);
        let totals = earlier.files[0].totals.as_mut().unwrap();
        totals.failed += 150;
        totals.tests += 150;
        totals.suite_problems = 1;
        let mut broken = record(11, Some(2), &[], 0);
        broken.files[0].status = FileStatus::Unparseable;
        broken.files[0].totals = None;
        let mut newest = record(30, Some(3), &[], 5);
        newest.earlier_attempts = vec![earlier, broken];
        assert_eq!(across_attempts(&newest), AcrossAttempts { tests: across_attempts(&newest).tests, unnamed: 151 });
        assert_eq!(across_attempts(&newest).count(), 152);
        newest.expired_earlier_attempts = vec![5];
        assert_eq!(across_attempts(&newest).unnamed, 152);
    }
}
