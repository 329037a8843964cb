//! Which job uploaded a report artifact, and whether that job lets the report count.
//!
//! A report is evidence only as far as the job that wrote it: a job that failed or was
//! cancelled after its test step may have uploaded a report that is incomplete, stale
//! or chosen (a job that runs `make e2e-test` twice and uploads only the passing file).
//! So a report from a job that concluded `failure`, `cancelled`, `timed_out` (anything
//! but `success`) cannot make its category green, and the summary names the job.
//!
//! ## What ties an artifact to its job
//!
//! GitHub records no job id with an artifact. The REST artifact record has the run and
//! `created_at`; the artifact service's `ListArtifacts` adds `workflow_job_run_backend_id`,
//! an internal UUID that the jobs API does not expose (it only tells whether the artifact
//! came from the job running the audit, whose UUID is in its runtime token). What is
//! really there is time: an artifact is created while its job's upload step runs, and
//! the jobs API (`GET /runs/{id}/jobs?filter=all`) gives every job of every attempt
//! with its steps' `started_at`/`completed_at` (whole seconds). So:
//!
//! - the **candidates** are the jobs with a step whose window, widened by
//!   [`SLACK_SECONDS`] on both sides for the seconds' rounding, holds `created_at` (a
//!   step still running has an open end); when no step says (a job without step
//!   records), the job's own window decides;
//! - one candidate is a **tie**; several (matrix jobs uploading in the same seconds)
//!   are **ambiguous**, and the artifact then stands as badly as the worst of them —
//!   conservative: a passing report is held back by a failed neighbour rather than a
//!   failed job's report passed;
//! - **no candidate** although the jobs were read (no `created_at`, or no job was
//!   running then) is not evidence of a good job: it cannot make its category green;
//! - when the jobs **could not be read** (no `github-token`, or a token without
//!   `actions: read`), the tie is `unread`: recorded and warned, not failing, because
//!   reading reports without the jobs API is a supported setup. A bundle says so.
//!
//! ## How a job stands
//!
//! `completed` + `success` passes. `completed` with any other conclusion fails. A job
//! not completed when the audit read it fails when one of its steps already concluded
//! other than `success`/`skipped`; otherwise it is **running**, which fails too (its
//! outcome is unknown) — except for the job running the audit itself (the artifact
//! service says the artifact is its own): a step before the audit uploaded it, and no
//! step of it has failed.
//!
//! Everything [`JobTie::blocks`] decides comes from what the manifest records (the
//! candidates with their status, conclusion and failed step, the tie's kind), so
//! `verify` re-derives it; [`tie_artifact`] is a pure function of `created_at` and the
//! run's `jobs.json`, so the tie itself can be re-derived from the bundle too.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Step times are whole seconds; an artifact's `created_at` has milliseconds.
pub const SLACK_SECONDS: i64 = 2;
/// Job and step names are cut to this many characters (they come from GitHub and are
/// shown in the summary and annotations).
pub const MAX_JOB_NAME_CHARS: usize = 256;
/// At most this many candidate jobs are recorded per artifact, the worst first (the
/// count says how many there were).
pub const MAX_CANDIDATES: usize = 20;

/// How an artifact was tied to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TieKind {
    /// Exactly one job was uploading when the artifact was created.
    Single,
    /// Several jobs were; the artifact stands as the worst of them.
    Ambiguous,
    /// The jobs were read, but none was running when the artifact was created.
    None,
    /// The jobs could not be read (no token, no `actions: read`).
    Unread,
}

/// A candidate job, as the jobs API described it when the audit read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateJob {
    pub id: u64,
    pub name: String,
    /// `completed`, `in_progress`, `queued`…
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<String>,
    /// The first step that concluded other than success or skipped, when the job had not
    /// completed yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
    /// The workflow attempt the job ran in (the jobs API's `run_attempt`; the list of
    /// every attempt's jobs holds the jobs of earlier attempts too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_attempt: Option<u32>,
}

/// How one candidate job stands for the reports it uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Succeeded,
    Running,
    Failed,
}

impl CandidateJob {
    pub fn standing(&self) -> Standing {
        if self.status == "completed" {
            if self.conclusion.as_deref() == Some("success") { Standing::Succeeded } else { Standing::Failed }
        } else if self.failed_step.is_some() {
            Standing::Failed
        } else {
            Standing::Running
        }
    }

    /// `job `name` (id N) concluded failure`, for reasons and notes.
    pub fn describe(&self) -> String {
        let how = match (self.status.as_str(), &self.conclusion, &self.failed_step) {
            ("completed", Some(c), _) => format!("concluded {c}"),
            ("completed", None, _) => "completed without a conclusion".to_string(),
            (_, _, Some(step)) => format!("had not completed, and its step `{step}` had failed"),
            (status, ..) => format!("had not completed ({status})"),
        };
        format!("job `{}` (id {}) {how}", self.name, self.id)
    }
}

/// The job (or jobs) an artifact was tied to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobTie {
    pub kind: TieKind,
    /// The artifact service says the job running the audit uploaded it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub own_job: bool,
    /// The candidates (at most [`MAX_CANDIDATES`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<CandidateJob>,
    /// How many candidates there were in all.
    #[serde(default)]
    pub candidates: u64,
}

impl JobTie {
    /// The tie when the run's jobs could not be read.
    pub fn unread() -> Self {
        JobTie { kind: TieKind::Unread, own_job: false, jobs: vec![], candidates: 0 }
    }

    /// The workflow attempt that uploaded the artifact: the attempt of its candidate
    /// jobs when they all ran in the same one and say which.
    pub fn attempt(&self) -> Option<u32> {
        let first = self.jobs.first()?.run_attempt?;
        let whole = self.candidates == self.jobs.len() as u64;
        (whole && self.jobs.iter().all(|j| j.run_attempt == Some(first))).then_some(first)
    }

    /// Why this tie keeps the artifact's reports from making their category green, or
    /// `None` when it does not.
    pub fn blocks(&self) -> Option<String> {
        match self.kind {
            TieKind::Unread => None,
            TieKind::None => Some("no job of its run was running when it was uploaded".to_string()),
            TieKind::Single | TieKind::Ambiguous => {
                let bad = self.jobs.iter().find(|j| match j.standing() {
                    Standing::Succeeded => false,
                    Standing::Failed => true,
                    Standing::Running => !self.own_job,
                });
                // The candidates are kept worst first, so a list cut at
                // MAX_CANDIDATES still holds the one that decides.
                match bad {
                    Some(job) if self.kind == TieKind::Single => Some(format!("uploaded by {}", job.describe())),
                    Some(job) => Some(format!(
                        "uploaded while {} job(s) were running, among them {}",
                        self.candidates,
                        job.describe()
                    )),
                    None => None,
                }
            }
        }
    }
}

/// A job record of the jobs API, as far as the tie needs it.
#[derive(Debug, Deserialize)]
struct WireJob {
    id: u64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    conclusion: Option<String>,
    #[serde(default)]
    started_at: Option<String>,
    #[serde(default)]
    completed_at: Option<String>,
    #[serde(default)]
    run_attempt: Option<u32>,
    #[serde(default)]
    steps: Vec<WireStep>,
}

#[derive(Debug, Deserialize)]
struct WireStep {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    conclusion: Option<String>,
    #[serde(default)]
    started_at: Option<String>,
    #[serde(default)]
    completed_at: Option<String>,
}

fn time(text: Option<&str>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc))
}

/// Whether `at` lies in `[start, end]` widened by [`SLACK_SECONDS`]; an open end is open.
fn within(at: DateTime<Utc>, start: Option<&str>, end: Option<&str>) -> bool {
    let slack = chrono::Duration::seconds(SLACK_SECONDS);
    let Some(start) = time(start) else { return false };
    let after_start = at >= start - slack;
    let before_end = match end {
        None => true,
        Some(end) => time(Some(end)).is_some_and(|end| at <= end + slack),
    };
    after_start && before_end
}

impl WireJob {
    fn was_running_at(&self, at: DateTime<Utc>) -> bool {
        let timed_steps: Vec<&WireStep> = self.steps.iter().filter(|s| s.started_at.is_some()).collect();
        if timed_steps.is_empty() {
            return within(at, self.started_at.as_deref(), self.completed_at.as_deref());
        }
        timed_steps.iter().any(|s| within(at, s.started_at.as_deref(), s.completed_at.as_deref()))
    }

    fn candidate(&self) -> CandidateJob {
        let status = self.status.clone().unwrap_or_else(|| "unknown".into());
        let conclusion = self.conclusion.as_deref().map(capped);
        let failed_step = if status == "completed" {
            None
        } else {
            self.steps
                .iter()
                .find(|s| s.conclusion.as_deref().is_some_and(|c| c != "success" && c != "skipped"))
                .map(|s| capped(s.name.as_deref().unwrap_or_default()))
        };
        CandidateJob {
            id: self.id,
            name: capped(self.name.as_deref().unwrap_or_default()),
            status: capped(&status),
            conclusion,
            failed_step,
            run_attempt: self.run_attempt,
        }
    }
}

/// A name from GitHub, cut to [`MAX_JOB_NAME_CHARS`] characters.
fn capped(text: &str) -> String {
    match text.char_indices().nth(MAX_JOB_NAME_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Ties an artifact created at `created_at` to the jobs of its run (the jobs API's
/// records, every attempt), under the rule in this module's docs.
pub fn tie_artifact(created_at: Option<&str>, jobs: &[serde_json::Value], own_job: bool) -> JobTie {
    let none = JobTie { kind: TieKind::None, own_job, jobs: vec![], candidates: 0 };
    let Some(at) = time(created_at) else { return none };
    let wire: Vec<WireJob> = jobs.iter().filter_map(|j| serde_json::from_value(j.clone()).ok()).collect();
    let mut found: Vec<CandidateJob> = wire.iter().filter(|j| j.was_running_at(at)).map(WireJob::candidate).collect();
    let candidates = found.len() as u64;
    // The worst first, so that what is kept of a long list still shows it.
    found.sort_by_key(|j| (j.standing() != Standing::Failed, j.standing() != Standing::Running, j.id));
    found.truncate(MAX_CANDIDATES);
    let kind = match candidates {
        0 => TieKind::None,
        1 => TieKind::Single,
        _ => TieKind::Ambiguous,
    };
    JobTie { kind, own_job, jobs: found, candidates }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(id: u64, status: &str, conclusion: Option<&str>, steps: serde_json::Value) -> serde_json::Value {
        json!({"id": id, "name": format!("job-{id}"), "status": status, "conclusion": conclusion,
               "started_at": "2026-11-01T10:00:00Z", "completed_at": if status == "completed" { json!("2026-11-01T10:30:00Z") } else { json!(null) },
               "steps": steps})
    }

    fn step(name: &str, conclusion: Option<&str>, from: &str, to: Option<&str>) -> serde_json::Value {
        json!({"name": name, "status": if to.is_some() { "completed" } else { "in_progress" }, "conclusion": conclusion,
               "started_at": format!("2026-11-01T{from}Z"), "completed_at": to.map(|t| format!("2026-11-01T{t}Z"))})
    }

    #[test]
    fn the_uploading_step_ties_an_artifact_to_its_job() {
        let jobs = [
            job(
                1,
                "completed",
                Some("success"),
                json!([step("Upload", Some("success"), "10:05:00", Some("10:05:03"))]),
            ),
            job(
                2,
                "completed",
                Some("failure"),
                json!([step("Upload", Some("success"), "10:09:00", Some("10:09:02"))]),
            ),
        ];
        let first = tie_artifact(Some("2026-11-01T10:05:01.500Z"), &jobs, false);
        assert_eq!((first.kind, first.jobs[0].id), (TieKind::Single, 1));
        assert_eq!(first.blocks(), None);
        let second = tie_artifact(Some("2026-11-01T10:09:01.000Z"), &jobs, false);
        assert_eq!((second.kind, second.jobs[0].id), (TieKind::Single, 2));
        assert_eq!(second.blocks().unwrap(), "uploaded by job `job-2` (id 2) concluded failure");
        // Overlapping upload steps: ambiguous, and the failed neighbour holds it back.
        let both = [
            jobs[0].clone(),
            job(
                3,
                "completed",
                Some("cancelled"),
                json!([step("Upload", Some("success"), "10:05:02", Some("10:05:04"))]),
            ),
        ];
        let tie = tie_artifact(Some("2026-11-01T10:05:02.200Z"), &both, false);
        assert_eq!((tie.kind, tie.candidates), (TieKind::Ambiguous, 2));
        assert!(tie.blocks().unwrap().contains("job `job-3` (id 3) concluded cancelled"), "{:?}", tie.blocks());
    }

    #[test]
    fn no_job_or_an_unfinished_one_is_not_a_good_job() {
        let jobs = [job(
            1,
            "completed",
            Some("success"),
            json!([step("Upload", Some("success"), "10:05:00", Some("10:05:03"))]),
        )];
        assert_eq!(tie_artifact(Some("2026-11-01T11:00:00Z"), &jobs, false).kind, TieKind::None);
        assert!(tie_artifact(Some("2026-11-01T11:00:00Z"), &jobs, false).blocks().is_some());
        assert!(tie_artifact(None, &jobs, false).blocks().is_some());
        assert!(tie_artifact(Some("not a time"), &jobs, false).blocks().is_some());
        let running = [job(
            7,
            "in_progress",
            None,
            json!([
                step("Test", Some("success"), "10:01:00", Some("10:04:00")),
                step("Upload", None, "10:05:00", None)
            ]),
        )];
        let tie = tie_artifact(Some("2026-11-01T10:05:01Z"), &running, false);
        assert!(tie.blocks().unwrap().contains("had not completed (in_progress)"), "{:?}", tie.blocks());
        // The audit's own job: its earlier steps passed, so its report counts…
        assert_eq!(tie_artifact(Some("2026-11-01T10:05:01Z"), &running, true).blocks(), None);
        // …unless one of them failed.
        let failed_step = [job(
            7,
            "in_progress",
            None,
            json!([
                step("Test", Some("failure"), "10:01:00", Some("10:04:00")),
                step("Upload", None, "10:05:00", None)
            ]),
        )];
        let tie = tie_artifact(Some("2026-11-01T10:05:01Z"), &failed_step, true);
        assert!(tie.blocks().unwrap().contains("its step `Test` had failed"), "{:?}", tie.blocks());
        assert_eq!(JobTie::unread().blocks(), None);
    }

    #[test]
    fn names_from_github_are_bounded() {
        let mut long = job(5, "completed", Some("failure"), json!([]));
        long["name"] = json!("n".repeat(10_000));
        let tie = tie_artifact(Some("2026-11-01T10:10:00Z"), &[long], false);
        assert_eq!(tie.jobs[0].name.chars().count(), MAX_JOB_NAME_CHARS + 1);
    }

    #[test]
    fn a_job_without_step_times_is_judged_by_its_own_window() {
        let jobs = [job(4, "completed", Some("failure"), json!([]))];
        let tie = tie_artifact(Some("2026-11-01T10:10:00Z"), &jobs, false);
        assert_eq!((tie.kind, tie.jobs[0].id), (TieKind::Single, 4));
        assert!(tie.blocks().is_some());
    }
}
