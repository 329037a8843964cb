//! The workflow annotations an audit writes, as data: which kind, which title, which
//! message. `cli/run.rs` hands them to `github::commands`, the one place that escapes
//! and prints them; nothing here prints.

use crate::bundle::manifest::{Manifest, VerdictResult};
use crate::evidence::changes::ChangeEvidence;
use crate::evidence::test_reports::TestEvidence;
use crate::github::commands::{AnnotationKind, AnnotationProps};

/// One annotation to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub kind: AnnotationKind,
    pub title: Option<String>,
    pub message: String,
}

impl Annotation {
    fn new(kind: AnnotationKind, title: Option<String>, message: impl Into<String>) -> Self {
        Annotation { kind, title, message: message.into() }
    }

    /// The annotation's properties for `Commands::annotate`.
    pub fn props(&self) -> AnnotationProps {
        AnnotationProps { title: self.title.clone(), ..Default::default() }
    }
}

/// Each failed test as an error (the runner shows the first ten per kind).
pub fn test_failures(tests: &TestEvidence) -> Vec<Annotation> {
    let mut out = Vec::new();
    for c in &tests.categories {
        for t in c.artifacts.iter().flat_map(|a| &a.files).flat_map(|f| &f.failures) {
            let title = format!("{}: {}", c.category.title(), t.display_name());
            out.push(Annotation::new(AnnotationKind::Error, Some(title), t.first_line().unwrap_or("failed")));
        }
    }
    out
}

/// The test evidence's notes as warnings: a category's notes (a pattern that matched
/// no artifact) under the category's title, a source run's notes (its run record is
/// incomplete) untitled. For the collect stage once it no longer annotates itself.
pub fn test_notes(tests: &TestEvidence) -> Vec<Annotation> {
    let categories = tests.categories.iter().flat_map(|c| {
        c.notes
            .iter()
            .map(|n| Annotation::new(AnnotationKind::Warning, Some(format!("{} reports", c.category.title())), n))
    });
    let sources =
        tests.sources.iter().flat_map(|s| s.notes.iter().map(|n| Annotation::new(AnnotationKind::Warning, None, n)));
    categories.chain(sources).collect()
}

/// The change trail's notes as warnings.
pub fn change_notes(changes: &ChangeEvidence) -> Vec<Annotation> {
    changes.notes.iter().map(|n| Annotation::new(AnnotationKind::Warning, Some("Change trail".into()), n)).collect()
}

/// A failed verdict's reasons as errors; nothing for a pass.
pub fn verdict(manifest: &Manifest) -> Vec<Annotation> {
    if manifest.verdict.result != VerdictResult::Failed {
        return Vec::new();
    }
    let title = Some("Release audit failed".to_string());
    manifest.verdict.reasons.iter().map(|r| Annotation::new(AnnotationKind::Error, title.clone(), r)).collect()
}

/// The test evidence's warnings (typed by the collect stage), as warnings.
pub fn test_warnings(tests: &TestEvidence) -> Vec<Annotation> {
    tests.warnings().map(|w| Annotation::new(AnnotationKind::Warning, w.title.clone(), w.text.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::test_reports::parse::Totals;
    use crate::evidence::test_reports::{Category, CategoryRecord, CategoryStatus, SourceRun};

    #[test]
    fn evidence_notes_become_warnings_with_the_titles_the_run_wrote() {
        let category = CategoryRecord {
            category: Category::E2e,
            required: true,
            patterns: vec!["pr-e2e-*".into()],
            status: CategoryStatus::Missing,
            totals: Totals::default(),
            duration_seconds: 0.0,
            unparseable_files: 0,
            artifacts: vec![],
            notes: vec!["`pr-e2e-*` matched no artifact (available: none)".into()],
            warnings: vec![],
        };
        let source = SourceRun {
            run_id: Some(1),
            selected_by: "run-id".into(),
            workflow: None,
            head_sha: None,
            run_attempt: None,
            conclusion: None,
            url: None,
            evidence_files: vec![],
            job_logs: vec![],
            notes: vec!["run evidence (run.json, jobs, logs) was not collected: no `github-token`".into()],
            warnings: vec![],
            failed_jobs: vec![],
        };
        let tests = TestEvidence {
            counting: crate::evidence::test_reports::COUNTING_CONVENTION,
            categories: vec![category],
            sources: vec![source],
            fail_on_test_failures: true,
            fail_on_missing_reports: true,
            fail_on_flaky: false,
        };
        let notes = test_notes(&tests);
        assert_eq!(notes.len(), 2);
        assert_eq!((notes[0].kind, notes[0].title.as_deref()), (AnnotationKind::Warning, Some("E2E reports")));
        assert_eq!((notes[1].kind, notes[1].title.as_deref()), (AnnotationKind::Warning, None));
        assert!(test_failures(&tests).is_empty());
    }
}
