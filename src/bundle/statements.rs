//! in-toto Statements (v1) with the test-result predicate (v0.1), one per suite
//! category. Subjects are what was tested: the git commit and, when image evidence
//! exists, the tested image digests. They can be signed in the workflow with
//! `actions/attest` (`predicate-type: https://in-toto.io/attestation/test-result/v0.1`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::evidence::test_reports::{CategoryRecord, CategoryStatus};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const TEST_RESULT_PREDICATE: &str = "https://in-toto.io/attestation/test-result/v0.1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    pub name: String,
    pub digest: BTreeMap<String, String>,
}

impl Subject {
    pub fn git_commit(repository_url: &str, sha: &str) -> Self {
        Subject {
            name: repository_url.to_string(),
            digest: BTreeMap::from([("gitCommit".to_string(), sha.to_string())]),
        }
    }

    pub fn image(name: &str, sha256_hex: &str) -> Self {
        Subject { name: name.to_string(), digest: BTreeMap::from([("sha256".to_string(), sha256_hex.to_string())]) }
    }
}

#[derive(Debug, Serialize)]
struct ResourceDescriptor {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<String>,
    digest: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TestResult {
    result: &'static str,
    configuration: Vec<ResourceDescriptor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    passed_tests: Vec<String>,
    warned_tests: Vec<String>,
    failed_tests: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Statement {
    #[serde(rename = "_type")]
    statement_type: &'static str,
    subject: Vec<Subject>,
    predicate_type: &'static str,
    predicate: TestResult,
}

/// The statement for one category. `artifact_url` turns an artifact's run and id into
/// its URL; `run_url` is the run that produced the audit.
pub fn test_result(
    category: &CategoryRecord,
    subjects: &[Subject],
    run_url: Option<String>,
    artifact_url: impl Fn(Option<u64>, i64) -> Option<String>,
) -> Statement {
    let result = match category.status {
        CategoryStatus::Passed => "PASSED",
        CategoryStatus::Failed => "FAILED",
        CategoryStatus::Missing | CategoryStatus::Empty => "WARNED",
    };
    let configuration = category
        .artifacts
        .iter()
        .map(|a| ResourceDescriptor {
            name: a.name.clone(),
            uri: artifact_url(a.run_id, a.id),
            digest: BTreeMap::from([("sha256".to_string(), a.sha256.clone())]),
        })
        .collect();
    let failed_tests =
        category.artifacts.iter().flat_map(|a| &a.files).flat_map(|f| &f.failures).map(|t| t.display_name()).collect();
    // Flaky tests passed, after a failed attempt: the predicate's "warned" tests.
    let warned_tests =
        category.artifacts.iter().flat_map(|a| &a.files).flat_map(|f| &f.flaky).map(|t| t.display_name()).collect();
    Statement {
        statement_type: STATEMENT_TYPE,
        subject: subjects.to_vec(),
        predicate_type: TEST_RESULT_PREDICATE,
        predicate: TestResult { result, configuration, url: run_url, passed_tests: vec![], warned_tests, failed_tests },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::test_reports::parse::{FlakyTest, Totals};
    use crate::evidence::test_reports::{ArtifactRecord, Category, FileStatus, ReportFile};

    #[test]
    fn flaky_tests_are_the_predicate_s_warned_tests() {
        let file = ReportFile {
            path: "reports/e2e/a/junit.xml".into(),
            sha256: String::new(),
            size: 0,
            status: FileStatus::Parsed,
            format: None,
            totals: Some(Totals { tests: 1, passed: 1, flaky: 1, ..Default::default() }),
            duration_seconds: None,
            failures: vec![],
            flaky: vec![FlakyTest { suite: "pkg".into(), name: "TestRetry".into(), attempts: 3 }],
            suite_problems: vec![],
            notes: vec![],
            reason: None,
        };
        let artifact = ArtifactRecord {
            id: 7,
            name: "a".into(),
            run_id: None,
            run_attempt: None,
            size: 0,
            digest: None,
            sha256: "00".into(),
            files: vec![file],
            created_at: None,
            job: None,
            attempt: None,
            earlier_attempts: vec![],
            expired_earlier_attempts: vec![],
        };
        let category = CategoryRecord {
            category: Category::E2e,
            required: true,
            patterns: vec!["a".into()],
            status: CategoryStatus::Passed,
            totals: Totals { tests: 1, passed: 1, flaky: 1, ..Default::default() },
            duration_seconds: 0.0,
            unparseable_files: 0,
            artifacts: vec![artifact],
            notes: vec![],
            warnings: vec![],
        };
        let statement = serde_json::to_value(test_result(&category, &[], None, |_, _| None)).unwrap();
        assert_eq!(statement["predicate"]["result"], "PASSED");
        assert_eq!(statement["predicate"]["warnedTests"], serde_json::json!(["pkg › TestRetry"]));
        assert_eq!(statement["predicate"]["failedTests"], serde_json::json!([]));
    }
}

/// The predicate type of the review-control statement (the counts and controls of the
/// change trail, as in the manifest's `changes` section).
pub const CODE_REVIEW_PREDICATE: &str = "https://github.com/kyma-project/release-audit/code-review/v1";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeReviewStatement<'a> {
    #[serde(rename = "_type")]
    statement_type: &'static str,
    subject: Vec<Subject>,
    predicate_type: &'static str,
    predicate: CodeReview<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CodeReview<'a> {
    previous_release: Option<&'a str>,
    range: Option<&'a crate::evidence::changes::CommitRange>,
    counts: &'a crate::evidence::changes::ChangeCounts,
    reviewed_changes: &'a crate::evidence::changes::Control,
    release_approval: &'a crate::evidence::changes::Control,
    unreviewed: &'a [crate::evidence::changes::NamedCommit],
    notes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

/// The statement for the review control. Its subject is the commit range: the released
/// commit and, when there is one, the previous release's commit (named `…@<tag>`).
pub fn code_review<'a>(
    changes: &'a crate::evidence::changes::ChangeEvidence,
    server_url: &str,
    repository: &str,
    head: Option<&str>,
    run_url: Option<String>,
) -> CodeReviewStatement<'a> {
    let name = format!("git+{server_url}/{repository}");
    let mut subject = Vec::new();
    if let Some(range) = &changes.range {
        subject.push(Subject::git_commit(&name, &range.head_sha));
        if let Some(base) = &range.base_sha {
            subject.push(Subject::git_commit(&format!("{name}@{}", range.base), base));
        }
    } else if let Some(head) = head {
        subject.push(Subject::git_commit(&name, head));
    }
    CodeReviewStatement {
        statement_type: STATEMENT_TYPE,
        subject,
        predicate_type: CODE_REVIEW_PREDICATE,
        predicate: CodeReview {
            previous_release: changes.previous_release.as_deref(),
            range: changes.range.as_ref(),
            counts: &changes.counts,
            reviewed_changes: &changes.reviewed_changes,
            release_approval: &changes.release_approval,
            unreviewed: &changes.unreviewed,
            notes: &changes.notes,
            url: run_url,
        },
    }
}
