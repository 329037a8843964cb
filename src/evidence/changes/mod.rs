//! The change and approval trail: what changed since the previous release, who
//! reviewed it, and who approved the release run.
//!
//! [`collect`](mod@collect) reads GitHub through the one REST client (previous release, the compare
//! range with every page, the run's environment approvals) and the pull requests with
//! their reviews in bulk through GraphQL (REST where GraphQL is refused), within a
//! request and a points budget; [`review`] classifies as pure
//! functions over the plain types below; [`previous`] chooses the previous release
//! (published releases first, strict ancestors of the released commit only). The result
//! is [`ChangeRecord`]: the four `changes/*.json` files (`commits`, `pulls`,
//! `approvals`, `previous`) and the manifest's [`ChangeEvidence`] (counts and controls).
//! [`recompute`] derives every claim of that section from the four files alone (what
//! `verify` runs). Nothing here reads inputs: [`ChangeSettings`] comes from the input
//! seam.

pub mod collect;
pub mod previous;
pub mod review;

use serde::{Deserialize, Serialize};

use crate::bundle::dir::BundleDir;
use crate::error::Result;

pub use collect::collect;
pub use previous::{Candidate, Listing, PreviousMethod, PreviousOutcome, PreviousRelease, judge_previous};
pub use review::{CommitStatus, PullStatus};

/// GitHub allows a job token 1,000 requests per hour per repository; the change trail
/// takes at most this many, leaving room for the rest of the audit.
pub const DEFAULT_REQUEST_BUDGET: u32 = 800;
/// A job token's GraphQL budget is 1,000 points per hour per repository, apart from the
/// REST requests; the change trail takes at most this many (a 5,000-commit range takes
/// about 100: every merged pull request with its reviews, 100 for 2 points).
pub const DEFAULT_POINT_BUDGET: u32 = 500;
/// Unreviewed commits named in the manifest and the failure reason (all are in
/// `changes/commits.json`).
pub const MAX_NAMED: usize = 50;

/// What the change-trail stage needs, validated by the input seam.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSettings {
    /// The previous release's tag; `None`: find it (newest lower version).
    pub previous_release: Option<String>,
    /// The version being released (to find the one before it).
    pub release_version: String,
    /// The released commit.
    pub head_sha: String,
    /// `https://github.com/owner/repo`, for links.
    pub repository_url: String,
    /// The release run, whose environment approvals are recorded.
    pub run_id: Option<u64>,
    pub actor: Option<String>,
    pub triggering_actor: Option<String>,
    pub require_reviewed_changes: bool,
    pub require_release_approval: bool,
    /// The environments whose approval is the release approval (empty: any).
    pub release_approval_environments: Vec<String>,
    /// Most REST requests this stage may make (and never more than half of what GitHub
    /// says remains).
    pub request_budget: u32,
    /// Most GraphQL points this stage may spend (and never more than half of what GitHub
    /// says remains); 0: GraphQL is not used.
    pub point_budget: u32,
    /// The audit's `timeout`: the stage ends by then (counted from `deadline`, or from
    /// the stage's start when no deadline is given).
    pub timeout: std::time::Duration,
    /// The audit's deadline, when the caller knows when the audit began (the run sets
    /// it, like the image stage's); `None`: `timeout` from the stage's start.
    pub deadline: Option<std::time::Instant>,
}

/// A GitHub account as recorded: its login, and whether GitHub says it is a bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub login: String,
    #[serde(default)]
    pub bot: bool,
}

/// A commit's author or committer as git records it, with the GitHub login when
/// GitHub could match one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub login: Option<String>,
    #[serde(default)]
    pub date: Option<String>,
}

/// GitHub's signature verification of a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub verified: bool,
    pub reason: String,
}

/// One commit of the range (`changes/commits.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    pub sha: String,
    /// First line of the message, at most 200 characters.
    pub message: String,
    pub author: Person,
    pub committer: Person,
    pub parents: Vec<String>,
    pub verification: Signature,
    /// Merged pull requests that brought it in; `None`: not looked up (see `pulls_note`).
    pub pulls: Option<Vec<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pulls_note: Option<String>,
    /// The classification (recomputed by `verify` from the pull requests' reviews).
    #[serde(default)]
    pub review: Option<CommitStatus>,
}

/// One review of a pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub id: u64,
    /// `None`: GitHub gave no user (a deleted account may show as `ghost`).
    pub reviewer: Option<User>,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`, `PENDING`.
    pub state: String,
    /// The commit the review was made on.
    pub commit_id: Option<String>,
    pub submitted_at: Option<String>,
}

/// One merged pull request that brought commits of the range (`changes/pulls.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    pub title: String,
    pub author: Option<User>,
    pub merged_at: Option<String>,
    pub merge_commit_sha: Option<String>,
    /// The final head commit.
    pub head_sha: String,
    pub url: Option<String>,
    /// `None`: the reviews could not be read (see `reviews_note`).
    pub reviews: Option<Vec<Review>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviews_note: Option<String>,
    /// Who merged it (only `GET /pulls/{n}` names the merger; read last, with what the
    /// request budget has left). `None`: see `merged_by_note`.
    #[serde(default)]
    pub merged_by: Option<User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_by_note: Option<String>,
    /// Who wrote its commits: the GitHub logins of every author and committer of the
    /// pull request's commits (`GET /pulls/{n}/commits`), read only for a pull request
    /// whose approval would otherwise count. `None`: not read (see `contributors_note`);
    /// an approval then cannot be shown to come from someone who wrote none of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contributors: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contributors_note: Option<String>,
}

/// `changes/pulls.json` entries: the pull request and its classification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRecord {
    #[serde(flatten)]
    pub pull: PullRequest,
    pub review: PullStatus,
}

/// One environment approval (or rejection) of the release run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// `approved`, `rejected` or `pending`.
    pub state: String,
    pub user: Option<User>,
    pub environments: Vec<String>,
    pub comment: String,
}

/// `changes/approvals.json`: who started the release run and who approved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approvals {
    pub run_id: Option<u64>,
    pub actor: Option<String>,
    pub triggering_actor: Option<String>,
    /// `None`: they could not be read (see `note`).
    pub approvals: Option<Vec<Approval>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The environments whose approval is the release approval
    /// (`release-approval-environments`, names compared as GitHub does, ignoring case);
    /// empty: any environment's. Telemetry's release run also has a test job with an
    /// environment (`github-actions`): its approval is not the release's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub counted_environments: Vec<String>,
}

impl Approvals {
    /// The people who approved the run (environment approvals), each once; bots never
    /// count (a bot acts for whoever triggers it).
    pub fn approved_by(&self) -> Vec<String> {
        self.approvers(false)
    }

    /// The bots that approved the run (named, never counted).
    pub fn approved_by_bots(&self) -> Vec<String> {
        self.approvers(true)
    }

    /// Whether an approval is of an environment that counts.
    fn counts(&self, a: &Approval) -> bool {
        self.counted_environments.is_empty()
            || a.environments.iter().any(|e| self.counted_environments.iter().any(|c| c.eq_ignore_ascii_case(e)))
    }

    fn approvers(&self, bots: bool) -> Vec<String> {
        let mut by: Vec<String> = Vec::new();
        for a in self.approvals.iter().flatten().filter(|a| a.state == "approved" && self.counts(a)) {
            if a.user.as_ref().is_some_and(review::is_bot) != bots {
                continue;
            }
            let login = a.user.as_ref().map_or("(unknown)".to_string(), |u| u.login.clone());
            if !by.contains(&login) {
                by.push(login);
            }
        }
        by
    }
}

/// The counts of the change set (recomputed by `verify` from `changes/*.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCounts {
    pub commits: u64,
    pub pull_requests: u64,
    pub reviewed: u64,
    /// Every commit not reviewed: direct pushes, unreviewed pull requests, not checked.
    pub unreviewed: u64,
    pub direct_pushes: u64,
    /// Unreviewed because they could not be checked (budget, permissions).
    pub not_checked: u64,
    /// Commits whose signature GitHub did not verify.
    pub unsigned: u64,
}

/// The commits compared: from the previous release to the released commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitRange {
    /// The previous release's tag.
    pub base: String,
    pub base_sha: Option<String>,
    pub head_sha: String,
    pub merge_base_sha: Option<String>,
    /// GitHub's `status`: `ahead`, `diverged`, `behind`, `identical`.
    pub status: String,
    pub ahead_by: u64,
    pub behind_by: u64,
}

/// One control of the trail, whether it was required and whether it held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Control {
    pub required: bool,
    pub held: bool,
    pub detail: String,
}

/// A commit that is not reviewed, named in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedCommit {
    pub sha: String,
    /// Merged pull requests that brought it in (none for a direct push).
    #[serde(default)]
    pub pulls: Vec<u64>,
    pub why: String,
    /// Who merged those pull requests, where GitHub named it (`changes/pulls.json` has
    /// each one, and why a merger is missing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_by: Vec<String>,
}

/// What the change trail spent of the GraphQL budget (points, apart from REST requests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphqlSpent {
    /// Points spent (GitHub's `rateLimit.cost` of each query, added up).
    pub points: u64,
    /// The most it allowed itself: the configured maximum, or half of what GitHub said
    /// remained (`rateLimit.remaining`), whichever was less.
    pub budget: u64,
    /// What GitHub last said remained.
    pub remaining: Option<u64>,
    /// Why the rest was read through REST (GraphQL refused, or its budget spent); `None`:
    /// GraphQL read all it was asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// The manifest's `changes` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEvidence {
    pub repository_url: String,
    /// The previous release's tag; `None` for a first release.
    pub previous_release: Option<String>,
    /// How it was found (input, or the newest lower version among releases and tags).
    pub previous_found_by: String,
    /// No previous release was found, but the tags could not all be read: the change set
    /// is unknown — not a first release.
    #[serde(default)]
    pub previous_release_unknown: bool,
    /// `None`: no range could be compared (first release, or see `notes`).
    pub range: Option<CommitRange>,
    pub counts: ChangeCounts,
    pub reviewed_changes: Control,
    pub release_approval: Control,
    /// The first unreviewed commits (at most 50; all in `changes/commits.json`).
    pub unreviewed: Vec<NamedCommit>,
    /// REST requests the trail took.
    pub requests: u64,
    /// The most it allowed itself: the configured maximum, or half of what GitHub said
    /// remained (`x-ratelimit-remaining`), whichever was less.
    pub request_budget: u64,
    /// What GitHub last said remained of the REST rate limit; `None`: it did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_remaining: Option<u64>,
    /// What the bulk reads spent of the GraphQL budget; `None`: GraphQL was not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graphql: Option<GraphqlSpent>,
    /// Clear statements about what could not be established, and why.
    pub notes: Vec<String>,
}

impl ChangeEvidence {
    /// Why the release must not pass, from the gates that were asked for.
    pub fn failures(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        if self.reviewed_changes.required && !self.reviewed_changes.held {
            reasons.push(format!("reviewed changes: {}", self.reviewed_changes.detail));
        }
        if self.release_approval.required && !self.release_approval.held {
            reasons.push(format!("release approval: {}", self.release_approval.detail));
        }
        reasons
    }
}

/// Whether every commit of the range was read (GitHub's `ahead_by` counts them).
pub fn range_read_whole(range: &CommitRange, commits_read: usize) -> bool {
    commits_read as u64 >= range.ahead_by
}

impl ChangeEvidence {
    /// No earlier release exists (not: it could not be determined).
    pub fn is_first_release(&self) -> bool {
        self.previous_release.is_none() && !self.previous_release_unknown
    }
}

/// Whether the review control holds, and why, from the counts: every commit reviewed,
/// over a range that could be compared and was read whole (a first release has nothing
/// to review).
pub fn review_control(
    required: bool,
    first_release: bool,
    range: Option<&CommitRange>,
    counts: &ChangeCounts,
    named: &[NamedCommit],
) -> Control {
    let (held, detail) = if first_release {
        (true, "first release: there is no earlier release to compare with".to_string())
    } else if range.is_none() {
        (false, "the change set could not be established (see the notes)".to_string())
    } else if let Some(r) = range.filter(|r| !range_read_whole(r, counts.commits as usize)) {
        (
            false,
            format!(
                "only {} of the range's {} commits were read (see the notes); the rest are not checked",
                counts.commits, r.ahead_by
            ),
        )
    } else if counts.commits == 0 {
        (true, "no commits between the previous release and the released commit".to_string())
    } else if counts.unreviewed == 0 {
        (true, format!("all {} commits came through reviewed pull requests", counts.commits))
    } else {
        let listed: Vec<String> =
            named.iter().take(10).map(|c| format!("{} ({})", review::short(&c.sha), c.why)).collect();
        let more = counts.unreviewed.saturating_sub(listed.len() as u64);
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        (
            false,
            format!(
                "{} of {} commits are unreviewed: {}{more} (every one in changes/commits.json)",
                counts.unreviewed,
                counts.commits,
                listed.join("; ")
            ),
        )
    };
    Control { required, held, detail }
}

/// Whether the release-approval control holds: the run had an environment approval by a
/// person other than the one who started it (four eyes, as for pull requests: who started
/// the release approving it is no second pair of eyes; bots never count).
pub fn approval_control(required: bool, approvals: &Approvals) -> Control {
    let by = approvals.approved_by();
    let bots = approvals.approved_by_bots();
    let (held, detail) = match (&approvals.approvals, by.is_empty()) {
        (None, _) => (
            false,
            format!("the run's approvals could not be read: {}", approvals.note.as_deref().unwrap_or("unknown reason")),
        ),
        (Some(_), true) if !bots.is_empty() => (
            false,
            format!("the release run was approved only by bots ({}): a bot is no second pair of eyes", bots.join(", ")),
        ),
        (Some(_), true) if !approvals.counted_environments.is_empty() => (
            false,
            format!(
                "the release run had no approval of the environment(s) {} (approvals of other environments do not count)",
                approvals.counted_environments.join(", ")
            ),
        ),
        (Some(_), true) => (false, "the release run had no environment approval".to_string()),
        (Some(_), false) => {
            // Who started the run approving it is not a second pair of eyes (GitHub's
            // environment setting "prevent self-review" stops it): another person must.
            let starters: Vec<&str> =
                [approvals.triggering_actor.as_deref(), approvals.actor.as_deref()].into_iter().flatten().collect();
            let own = |login: &str| starters.iter().any(|s| s.eq_ignore_ascii_case(login));
            let others = by.iter().filter(|b| !own(b)).count();
            match by.iter().find(|b| own(b)) {
                Some(s) if others == 0 => (
                    false,
                    format!(
                        "the release run was approved only by `{s}`, who started it: a self-approval is no second pair of eyes (set \"Prevent self-review\" on the environment)"
                    ),
                ),
                Some(s) => (true, format!("approved by {} — `{s}` also started the run", by.join(", "))),
                None => (true, format!("approved by {}", by.join(", "))),
            }
        }
    };
    Control { required, held, detail }
}

/// Everything the stage produced: the manifest section and the three files.
#[derive(Debug, Clone)]
pub struct ChangeRecord {
    pub evidence: ChangeEvidence,
    pub commits: Vec<Commit>,
    pub pulls: Vec<PullRecord>,
    pub approvals: Approvals,
    /// How the previous release was chosen, and the range compared.
    pub previous: PreviousRelease,
}

impl ChangeRecord {
    /// Writes `changes/commits.json`, `changes/pulls.json`, `changes/approvals.json` and
    /// `changes/previous.json`.
    pub fn write_into(&self, dir: &mut BundleDir) -> Result<()> {
        dir.add_json("changes/commits.json", &self.commits)?;
        dir.add_json("changes/pulls.json", &self.pulls)?;
        dir.add_json("changes/approvals.json", &self.approvals)?;
        dir.add_json("changes/previous.json", &self.previous)?;
        Ok(())
    }
}

/// The trail's files as `verify` reads them from a bundle.
pub struct ChangeFiles<'a> {
    pub commits: &'a [Commit],
    pub pulls: &'a [PullRecord],
    pub approvals: &'a Approvals,
    pub previous: &'a PreviousRelease,
}

/// Everything the manifest's `changes` section claims, recomputed from the files alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recomputed {
    pub counts: ChangeCounts,
    /// Classifications recorded in the files that their own data does not give.
    pub disagreements: Vec<String>,
    /// The previous release (or first release / unknown), from `changes/previous.json`.
    pub previous: PreviousOutcome,
    pub range: Option<CommitRange>,
    pub reviewed_changes: Control,
    pub release_approval: Control,
}

/// Recomputes the counts, the previous release and both controls from the trail's files
/// (nothing from the manifest but whether each control was required): what `verify`
/// compares the manifest's `changes` section with.
pub fn recompute(files: &ChangeFiles<'_>, require_review: bool, require_approval: bool) -> Recomputed {
    let (counts, disagreements) = recount(files.commits, files.pulls);
    let previous = judge_previous(files.previous);
    let range = files.previous.range.clone();
    let named: Vec<NamedCommit> = files
        .commits
        .iter()
        .filter(|c| !c.review.as_ref().is_some_and(|r| r.is_reviewed()))
        .take(MAX_NAMED)
        .map(|c| NamedCommit {
            sha: c.sha.clone(),
            pulls: Vec::new(),
            why: c.review.as_ref().map(|r| r.describe()).unwrap_or_default(),
            merged_by: Vec::new(),
        })
        .collect();
    let reviewed_changes = review_control(require_review, previous.is_first_release(), range.as_ref(), &counts, &named);
    let release_approval = approval_control(require_approval, files.approvals);
    Recomputed { counts, disagreements, previous, range, reviewed_changes, release_approval }
}

/// Recomputes the counts and the commit classifications from the files as written:
/// what `verify` compares with the manifest.
pub fn recount(commits: &[Commit], pulls: &[PullRecord]) -> (ChangeCounts, Vec<String>) {
    let plain: Vec<PullRequest> = pulls.iter().map(|p| p.pull.clone()).collect();
    let (pull_status, statuses, counts) = review::classify_all(commits, &plain);
    let mut disagreements = Vec::new();
    for p in pulls {
        if pull_status.get(&p.pull.number) != Some(&p.review) {
            disagreements.push(format!(
                "pull request #{} is recorded as {:?}, its reviews give {:?}",
                p.pull.number,
                p.review,
                pull_status.get(&p.pull.number)
            ));
        }
    }
    for (c, s) in commits.iter().zip(&statuses) {
        if c.review.as_ref() != Some(s) {
            disagreements.push(format!(
                "commit {} is recorded as {:?}, its pull requests give {s:?}",
                review::short(&c.sha),
                c.review
            ));
        }
    }
    (counts, disagreements)
}

/// The first [`MAX_NAMED`] unreviewed commits, with their pull requests and who merged
/// them: one rule for the evidence stage and for `verify`.
pub fn name_unreviewed(commits: &[Commit], pulls: &[&PullRequest]) -> Vec<NamedCommit> {
    commits
        .iter()
        .filter(|c| !c.review.as_ref().is_some_and(|r| r.is_reviewed()))
        .take(MAX_NAMED)
        .map(|c| {
            let numbers = match &c.review {
                Some(CommitStatus::Unreviewed { pulls, .. }) => pulls.clone(),
                _ => Vec::new(),
            };
            let mut merged_by: Vec<String> = Vec::new();
            for n in &numbers {
                if let Some(login) =
                    pulls.iter().find(|p| p.number == *n).and_then(|p| p.merged_by.as_ref()).map(|u| u.login.clone())
                    && !merged_by.contains(&login)
                {
                    merged_by.push(login);
                }
            }
            NamedCommit {
                sha: c.sha.clone(),
                pulls: numbers,
                why: c.review.as_ref().map(|r| r.describe()).unwrap_or_default(),
                merged_by,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approvals(by: &[&str], triggered_by: &str) -> Approvals {
        Approvals {
            run_id: Some(1),
            actor: Some(triggered_by.into()),
            triggering_actor: Some(triggered_by.into()),
            approvals: Some(
                by.iter()
                    .map(|u| Approval {
                        state: "approved".into(),
                        user: Some(User { login: u.to_string(), bot: false }),
                        environments: vec!["production".into()],
                        comment: String::new(),
                    })
                    .collect(),
            ),
            note: None,
            counted_environments: vec![],
        }
    }

    /// Telemetry's release run: the Gardener test job's environment (`github-actions`)
    /// is approved too; with the release environment named, only its approval counts.
    #[test]
    fn only_the_named_environments_approval_is_the_release_approval() {
        let mut a = approvals(&["lead"], "carol");
        a.approvals.as_mut().unwrap()[0].environments = vec!["github-actions".into()];
        assert!(approval_control(true, &a).held, "any environment, when none is named");
        a.counted_environments = vec!["release".into()];
        let c = approval_control(true, &a);
        assert!(!c.held && c.detail.contains("no approval of the environment(s) release"), "{c:?}");
        let mut release = a.approvals.as_ref().unwrap()[0].clone();
        release.environments = vec!["Release".into()];
        release.user = Some(User { login: "manager".into(), bot: false });
        a.approvals.as_mut().unwrap().push(release);
        let c = approval_control(true, &a);
        assert!(c.held && c.detail == "approved by manager", "{c:?}");
    }

    #[test]
    fn approvers_are_named_once_each_and_a_self_approval_does_not_hold() {
        let c = approval_control(true, &approvals(&["lead", "bob", "lead"], "carol"));
        assert_eq!((c.held, c.detail.as_str()), (true, "approved by lead, bob"));
        let c = approval_control(true, &approvals(&["carol"], "carol"));
        assert!(!c.held && c.detail.contains("only by `carol`, who started it: a self-approval"), "{c:?}");
        let c = approval_control(true, &approvals(&["Carol", "lead"], "carol"));
        assert!(c.held && c.detail.ends_with("`Carol` also started the run"), "{c:?}");
        let c = approval_control(true, &approvals(&[], "carol"));
        assert!(!c.held, "{c:?}");
    }

    #[test]
    fn recompute_takes_the_previous_release_and_the_range_from_the_files_alone() {
        use previous::{Comparison, Source};
        // A search whose only candidate is on the released commit: unknown, whatever a
        // manifest says ("first release" would hold vacuously).
        let record = PreviousRelease {
            method: PreviousMethod::Search,
            release_version: "1.2.3".into(),
            head_sha: "h".into(),
            releases: Some(Listing { names: vec!["1.2.2".into()], complete: true, ..Default::default() }),
            tags: None,
            candidates: vec![Candidate {
                tag: "1.2.2".into(),
                source: Source::Release,
                compared: Some(Comparison { status: "identical".into(), ahead_by: 0, behind_by: 0 }),
                note: None,
            }],
            range: None,
        };
        let approvals = approvals(&["lead"], "carol");
        let files = ChangeFiles { commits: &[], pulls: &[], approvals: &approvals, previous: &record };
        let r = recompute(&files, true, true);
        assert!(r.previous.unknown && !r.previous.is_first_release(), "{r:?}");
        assert!(!r.reviewed_changes.held, "{r:?}");
        assert!(r.release_approval.held);
        // The same files with a complete, empty tag list and no release: a first release.
        let first = PreviousRelease {
            releases: Some(Listing { complete: true, ..Default::default() }),
            tags: Some(Listing { complete: true, ..Default::default() }),
            candidates: vec![],
            ..record.clone()
        };
        let files = ChangeFiles { previous: &first, ..files };
        assert!(recompute(&files, true, false).reviewed_changes.held);
    }

    #[test]
    fn a_bot_never_approves_a_release_run() {
        let mut a = approvals(&["deploy-bot[bot]", "Release-App[BOT]"], "carol");
        let c = approval_control(true, &a);
        assert!(!c.held && c.detail.contains("only by bots (deploy-bot[bot], Release-App[BOT])"), "{c:?}");
        // GitHub's `type: Bot` counts even without the suffix; a person next to it holds.
        a.approvals.as_mut().unwrap()[0].user = Some(User { login: "automation".into(), bot: true });
        a.approvals.as_mut().unwrap().push(Approval {
            state: "approved".into(),
            user: Some(User { login: "lead".into(), bot: false }),
            environments: vec![],
            comment: String::new(),
        });
        let c = approval_control(true, &a);
        assert_eq!((c.held, c.detail.as_str()), (true, "approved by lead"));
    }

    #[test]
    fn a_range_not_read_whole_does_not_hold_even_when_every_read_commit_is_reviewed() {
        let range = CommitRange {
            base: "1.0.0".into(),
            base_sha: None,
            head_sha: "h".into(),
            merge_base_sha: None,
            status: "ahead".into(),
            ahead_by: 10_050,
            behind_by: 0,
        };
        let counts = ChangeCounts { commits: 10_000, pull_requests: 3, reviewed: 10_000, ..Default::default() };
        let c = review_control(true, false, Some(&range), &counts, &[]);
        assert!(!c.held && c.detail.starts_with("only 10000 of the range's 10050 commits were read"), "{c:?}");
        let whole = ChangeCounts { commits: 10_050, pull_requests: 3, reviewed: 10_050, ..Default::default() };
        assert!(review_control(true, false, Some(&range), &whole, &[]).held);
        assert!(!review_control(true, false, None, &whole, &[]).held, "no range: not established");
        assert!(
            review_control(true, true, None, &ChangeCounts::default(), &[]).held,
            "a first release holds vacuously"
        );
    }
}
