//! The change trail: the counts, every commit's and pull request's classification, the
//! named unreviewed commits and both controls recomputed from `changes/commits.json`,
//! `changes/pulls.json` and `changes/approvals.json`, with the evidence stage's own pure
//! functions (`recount`, `review_control`, `approval_control`); and the range held
//! against the release it claims to span.

use serde::de::DeserializeOwned;

use super::limits::MAX_CHANGE_FILE_BYTES;
use super::{Found, Problem};
use crate::bundle::manifest::Manifest;
use crate::evidence::changes::previous::{PreviousMethod, PreviousRelease, candidate_order, judge_previous};
use crate::evidence::changes::{
    Approvals, ChangeEvidence, Commit, PullRecord, approval_control, recount, review_control,
};

fn changes_problem(detail: String) -> Problem {
    Problem::Manifest { detail: format!("changes: {detail}") }
}

pub fn check(found: &Found, m: &Manifest, problems: &mut Vec<Problem>) {
    let Some(c) = &m.evidence.changes else { return };
    let commits = read::<Vec<Commit>>(found, "changes/commits.json", problems);
    let pulls = read::<Vec<PullRecord>>(found, "changes/pulls.json", problems);
    let approvals = read::<Approvals>(found, "changes/approvals.json", problems);
    check_range(m, c, problems);
    check_repository_url(m, c, problems);
    match read::<PreviousRelease>(found, "changes/previous.json", problems) {
        Some(previous) => check_previous(m, c, &previous, problems),
        None => problems.push(changes_problem("changes/previous.json cannot be read".into())),
    }
    match (commits, pulls) {
        (Some(commits), Some(pulls)) => {
            check_history(c, &commits, &pulls, problems);
            check_review(c, &commits, &pulls, problems);
        }
        _ => problems.push(changes_problem(
            "the manifest has a `changes` section, but changes/commits.json and changes/pulls.json cannot be read"
                .into(),
        )),
    }
    match approvals {
        Some(approvals) => {
            let control = approval_control(c.release_approval.required, &approvals);
            if control != c.release_approval {
                problems.push(changes_problem(format!(
                    "the release approval is recorded as held={} ({}), changes/approvals.json gives held={} ({})",
                    c.release_approval.held, c.release_approval.detail, control.held, control.detail
                )));
            }
            if approvals.run_id != m.run.id
                || approvals.actor != m.run.actor
                || approvals.triggering_actor != m.run.triggering_actor
            {
                problems.push(changes_problem(
                    "changes/approvals.json is about another run (or actor) than the manifest's".into(),
                ));
            }
            let listed = approvals.approvals.as_deref().unwrap_or_default();
            if listed.iter().enumerate().any(|(i, a)| listed[..i].contains(a)) {
                problems.push(changes_problem("changes/approvals.json lists an approval twice".into()));
            }
        }
        None => problems.push(changes_problem("changes/approvals.json cannot be read".into())),
    }
}

/// A change file, bounded and parsed; `None` (with a problem) when it cannot be.
fn read<T: DeserializeOwned + serde::Serialize>(found: &Found, rel: &str, problems: &mut Vec<Problem>) -> Option<T> {
    let Some(bytes) = found.read(rel, MAX_CHANGE_FILE_BYTES, problems) else {
        if !found.contains(rel) && !found.is_not_file(rel) {
            problems
                .push(changes_problem(format!("{rel} is not in the bundle, but the manifest has a `changes` section")));
        }
        return None;
    };
    match serde_json::from_slice::<T>(&bytes) {
        Ok(v) => {
            if let Some(extra) = super::files::unread_value(&bytes, &v) {
                problems.push(changes_problem(format!(
                    "{rel} says something the change trail does not hold (nothing checks it): {extra}"
                )));
            }
            Some(v)
        }
        Err(e) => {
            problems.push(changes_problem(format!("{rel} does not parse: {e}")));
            None
        }
    }
}

/// The trail's links point at the audited repository: `repository_url` is an http(s)
/// URL ending in the manifest's repository, and the run of that repository lives under it.
fn check_repository_url(m: &Manifest, c: &ChangeEvidence, problems: &mut Vec<Problem>) {
    let url = c.repository_url.as_str();
    let web = url.starts_with("https://") || url.starts_with("http://");
    let repository = m.source.repository.as_deref();
    let names_it = repository.is_none_or(|r| url.strip_suffix(r).is_some_and(|host| host.ends_with('/')));
    let run_under_it = m.run.url.as_deref().is_none_or(|run| {
        let run_repository = run.strip_prefix(url).is_some_and(|rest| rest.starts_with("/actions/runs/"));
        run_repository || !run.contains(&format!("/{}/actions/runs/", repository.unwrap_or_default()))
    });
    if !web || !names_it || !run_under_it {
        problems.push(changes_problem(format!("the trail's repository URL `{url}` is not the audited repository's")));
    }
}

/// The previous release, recomputed from `changes/previous.json` with the evidence
/// stage's `judge_previous` (published releases first, a candidate must lie behind the
/// released commit), and the record about this release: its version, its commit, the
/// candidates those listings give, the range the manifest carries.
fn check_previous(m: &Manifest, c: &ChangeEvidence, p: &PreviousRelease, problems: &mut Vec<Problem>) {
    let outcome = judge_previous(p);
    if outcome.release != c.previous_release
        || outcome.unknown != c.previous_release_unknown
        || outcome.found_by != c.previous_found_by
    {
        problems.push(changes_problem(format!(
            "the previous release is recorded as {:?} ({}), changes/previous.json gives {:?} ({})",
            c.previous_release, c.previous_found_by, outcome.release, outcome.unknown
        )));
    }
    if p.range != c.range {
        problems.push(changes_problem("the range is not the one changes/previous.json records".into()));
    }
    // The chosen candidate's comparison is the range's.
    let chosen = outcome.release.as_ref().and_then(|tag| p.candidates.iter().find(|cand| &cand.tag == tag));
    if let (Some(cand), Some(range)) = (chosen, &p.range) {
        let same = cand.compared.as_ref().is_some_and(|x| {
            (x.status.as_str(), x.ahead_by, x.behind_by) == (range.status.as_str(), range.ahead_by, range.behind_by)
        });
        if !same {
            problems.push(changes_problem(format!("the comparison recorded for `{}` is not the range's", cand.tag)));
        }
    }
    let about_this =
        p.release_version == m.release.version && m.source.commit.as_ref().is_none_or(|h| h == &p.head_sha);
    if !about_this {
        problems.push(changes_problem("changes/previous.json is about another release or commit".into()));
    }
    if !matches!(p.method, PreviousMethod::Input { .. }) {
        let order = candidate_order(&p.release_version, p.releases.as_ref(), p.tags.as_ref());
        let listed = p.candidates.iter().all(|cand| order.iter().any(|(t, s)| t == &cand.tag && *s == cand.source));
        let once = p.candidates.iter().enumerate().all(|(i, a)| p.candidates[..i].iter().all(|b| b.tag != a.tag));
        if !listed || !once {
            problems.push(changes_problem(
                "changes/previous.json compares candidates its own listings do not give (or one twice)".into(),
            ));
        }
    }
}

/// The range spans the previous release to the released commit; a first release has none.
fn check_range(m: &Manifest, c: &ChangeEvidence, problems: &mut Vec<Problem>) {
    let consistent = match (&c.previous_release, &c.range) {
        (Some(previous), Some(range)) => {
            &range.base == previous && m.source.commit.as_ref().is_none_or(|head| head == &range.head_sha)
        }
        (None, range) => range.is_none() && !(c.previous_release_unknown && c.previous_found_by.is_empty()),
        (Some(_), None) => true, // the range could not be compared: the control does not hold (see below)
    };
    if !consistent || (c.previous_release.is_some() && c.previous_release_unknown) {
        problems.push(changes_problem(
            "the range is not the previous release to the released commit the manifest names".into(),
        ));
    }
    if let Some(r) = &c.range
        && !comparison_consistent(r)
    {
        problems.push(changes_problem(format!(
            "the comparison `{}` ({} ahead, {} behind, base {:?}, merge base {:?}) contradicts itself",
            r.status, r.ahead_by, r.behind_by, r.base_sha, r.merge_base_sha
        )));
    }
}

/// GitHub's comparison status agrees with its counts and commits: `ahead` has nothing
/// behind and its merge base is the base; `identical` nothing either way; `behind`
/// nothing ahead; `diverged` both. No other status is GitHub's.
fn comparison_consistent(r: &crate::evidence::changes::CommitRange) -> bool {
    let base_is_merge_base = r.base_sha.is_some() && r.base_sha == r.merge_base_sha;
    match r.status.as_str() {
        "ahead" => r.behind_by == 0 && r.ahead_by > 0 && base_is_merge_base,
        "identical" => r.ahead_by == 0 && r.behind_by == 0 && base_is_merge_base,
        "behind" => r.ahead_by == 0 && r.behind_by > 0,
        "diverged" => r.ahead_by > 0 && r.behind_by > 0 && r.base_sha != r.merge_base_sha,
        _ => false,
    }
}

/// The commits and pull requests are a history, each once: commit shas and review ids
/// unique, a commit's pull requests listed once; and, for a range read whole, the head
/// is the range's head and every other commit is a parent of one in the range (every
/// commit of a range is an ancestor of its head through commits of the range).
fn check_history(c: &ChangeEvidence, commits: &[Commit], pulls: &[PullRecord], problems: &mut Vec<Problem>) {
    use std::collections::BTreeSet;
    let shas: BTreeSet<&str> = commits.iter().map(|c| c.sha.as_str()).collect();
    let twice = shas.len() != commits.len()
        || commits.iter().any(|c| c.pulls.as_ref().is_some_and(|p| p.iter().collect::<BTreeSet<_>>().len() != p.len()))
        || pulls.iter().map(|p| p.pull.number).collect::<BTreeSet<_>>().len() != pulls.len()
        || pulls.iter().any(|p| {
            let reviews = p.pull.reviews.as_deref().unwrap_or_default();
            reviews.iter().map(|r| r.id).collect::<BTreeSet<_>>().len() != reviews.len()
        });
    if twice {
        problems.push(changes_problem("a commit, pull request or review is listed twice".into()));
    }
    let Some(range) = c.range.as_ref().filter(|r| r.ahead_by == commits.len() as u64 && !commits.is_empty()) else {
        return;
    };
    let parents: BTreeSet<&str> = commits.iter().flat_map(|c| c.parents.iter().map(String::as_str)).collect();
    let head_is_last = commits.last().is_some_and(|c| c.sha == range.head_sha);
    let orphan = commits.iter().rev().skip(1).find(|c| !parents.contains(c.sha.as_str()));
    if !head_is_last || orphan.is_some() {
        problems.push(changes_problem(format!(
            "changes/commits.json is not the history of the range up to {}{}",
            range.head_sha,
            orphan.map(|c| format!(": {} is no parent of a commit in it", c.sha)).unwrap_or_default()
        )));
    }
}

/// Counts, classifications, the named commits and the review control, recomputed.
fn check_review(c: &ChangeEvidence, commits: &[Commit], pulls: &[PullRecord], problems: &mut Vec<Problem>) {
    let (counts, disagreements) = recount(commits, pulls);
    if counts != c.counts {
        problems
            .push(changes_problem(format!("the manifest records {:?}, changes/*.json give {:?}", c.counts, counts)));
    }
    for d in disagreements.into_iter().take(20) {
        problems.push(changes_problem(d));
    }
    let named = crate::evidence::changes::name_unreviewed(commits, &pulls.iter().map(|p| &p.pull).collect::<Vec<_>>());
    if named != c.unreviewed {
        problems.push(changes_problem(
            "the unreviewed commits the manifest names are not the ones changes/*.json give".into(),
        ));
    }
    let control = review_control(c.reviewed_changes.required, c.is_first_release(), c.range.as_ref(), &counts, &named);
    if control != c.reviewed_changes {
        problems.push(changes_problem(format!(
            "the review control is recorded as held={} ({}), the commits give held={} ({})",
            c.reviewed_changes.held, c.reviewed_changes.detail, control.held, control.detail
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::comparison_consistent;
    use crate::evidence::changes::CommitRange;

    fn range(status: &str, ahead: u64, behind: u64, base: Option<&str>, merge_base: Option<&str>) -> CommitRange {
        CommitRange {
            base: "1.2.2".into(),
            base_sha: base.map(String::from),
            head_sha: "h".into(),
            merge_base_sha: merge_base.map(String::from),
            status: status.into(),
            ahead_by: ahead,
            behind_by: behind,
        }
    }

    #[test]
    fn a_comparison_must_agree_with_itself() {
        assert!(comparison_consistent(&range("ahead", 2, 0, Some("b"), Some("b"))));
        assert!(!comparison_consistent(&range("ahead", 2, 1, Some("b"), Some("b"))), "ahead with commits behind");
        assert!(!comparison_consistent(&range("ahead", 2, 0, Some("b"), Some("m"))), "ahead off its merge base");
        assert!(!comparison_consistent(&range("ahead", 0, 0, Some("b"), Some("b"))), "ahead by nothing");
        assert!(comparison_consistent(&range("identical", 0, 0, Some("b"), Some("b"))));
        assert!(!comparison_consistent(&range("identical", 1, 0, Some("b"), Some("b"))));
        assert!(comparison_consistent(&range("behind", 0, 3, Some("b"), Some("m"))));
        assert!(comparison_consistent(&range("diverged", 2, 3, Some("b"), Some("m"))));
        assert!(!comparison_consistent(&range("diverged", 2, 0, Some("b"), Some("m"))));
        assert!(!comparison_consistent(&range("bhead", 2, 0, Some("b"), Some("b"))), "not GitHub's status");
    }
}
