//! The four-eyes rule as pure functions over plain data: no network, no `crate::`
//! imports beyond the sibling types. `verify` runs the same functions over the files in
//! the bundle, so a count in the manifest can always be recomputed.
//!
//! A pull request is **reviewed** when, among every reviewer's latest deciding review
//! (`APPROVED` or `CHANGES_REQUESTED`; comments and pending reviews decide nothing;
//! `DISMISSED` reviews count for nothing), there is an approval
//! - by someone other than the pull request's author,
//! - not by a bot (a bot acts for whoever triggers it, often the author),
//! - not by or for a deleted account (`ghost`: nobody can show it was someone else),
//! - on the final head commit of the pull request (a later re-approval covers the last
//!   push; an approval of an earlier commit is stale),
//! - by someone who wrote none of it: not the GitHub author or committer of any of the
//!   pull request's commits (`contributors`, read for each pull request whose approval
//!   would otherwise count; unread, the pull request is *not checked*).
//!
//! What GitHub does not show cannot be judged: who *pushed* a commit (a reviewer can
//! push a commit authored and committed under someone else's name), and a commit whose
//! author or committer email GitHub matches to no account (no login to compare).
//!
//! A commit is reviewed when a merged pull request that brought it in is reviewed;
//! a commit without one is a direct push, and a commit whose pull requests could not
//! be read is *not checked* — counted as unreviewed, never silently as reviewed.

use std::collections::BTreeMap;

use super::{ChangeCounts, Commit, PullRequest, Review, User};

/// The login GitHub shows for a deleted account.
pub const GHOST: &str = "ghost";

/// How one pull request stands under the rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PullStatus {
    /// Approved on the final head by these independent reviewers.
    Reviewed { by: Vec<String> },
    /// Only the author approved (GitHub refuses this, but a second account of the same
    /// person, or a bot the author triggered, can).
    SelfApproved,
    /// Approved, but on an earlier commit than the final head: a push came after.
    Stale { approved: String, head: String },
    /// Only bots approved.
    BotOnly,
    /// Approved on the final head only by people who wrote commits of it.
    ApprovedByContributor { by: Vec<String> },
    /// The author or the only approver is a deleted account.
    DeletedUser,
    /// No approval stands (none given, dismissed, or superseded by changes requested).
    NotApproved,
    /// The reviews could not be read.
    NotChecked { why: String },
}

impl PullStatus {
    pub fn is_reviewed(&self) -> bool {
        matches!(self, PullStatus::Reviewed { .. })
    }

    /// One line for a person.
    pub fn describe(&self) -> String {
        match self {
            PullStatus::Reviewed { by } => format!("approved on the final head by {}", by.join(", ")),
            PullStatus::SelfApproved => "approved only by its author".into(),
            PullStatus::Stale { approved, head } => {
                format!(
                    "approved on {}, but the final head is {} (pushed after the approval, not re-approved)",
                    short(approved),
                    short(head)
                )
            }
            PullStatus::BotOnly => "approved only by a bot".into(),
            PullStatus::ApprovedByContributor { by } => {
                format!("approved only by {} who also wrote commits of it (authored or committed)", by.join(", "))
            }
            PullStatus::DeletedUser => {
                "author or approver is a deleted account (ghost): independence cannot be shown".into()
            }
            PullStatus::NotApproved => "no standing approval (none, dismissed, or changes requested later)".into(),
            PullStatus::NotChecked { why } => format!("reviews not checked: {why}"),
        }
    }
}

/// How one commit stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CommitStatus {
    Reviewed {
        pull: u64,
    },
    /// Merged pull requests brought it in, none of them reviewed.
    Unreviewed {
        pulls: Vec<u64>,
        why: String,
    },
    /// No merged pull request brought it in.
    DirectPush,
    /// Its pull requests were not looked up (budget, permissions).
    NotChecked {
        why: String,
    },
}

impl CommitStatus {
    pub fn is_reviewed(&self) -> bool {
        matches!(self, CommitStatus::Reviewed { .. })
    }

    pub fn describe(&self) -> String {
        match self {
            CommitStatus::Reviewed { pull } => format!("reviewed in #{pull}"),
            CommitStatus::Unreviewed { why, .. } => why.clone(),
            CommitStatus::DirectPush => "direct push: no merged pull request brought it in".into(),
            CommitStatus::NotChecked { why } => format!("not checked: {why}"),
        }
    }
}

/// A bot: GitHub says so (`type: Bot`), or its login is a GitHub App's (`…[bot]`).
pub fn is_bot(user: &User) -> bool {
    user.bot || user.login.to_ascii_lowercase().ends_with("[bot]")
}

fn is_ghost(user: Option<&User>) -> bool {
    user.is_none_or(|u| u.login.eq_ignore_ascii_case(GHOST))
}

/// Every reviewer's latest deciding review, oldest first, and whether a deleted account
/// approved.
struct Standing<'a> {
    approvals: Vec<&'a Review>,
    ghost_approval: bool,
}

/// The reviews in the order they were made: by `submitted_at` (an instant, however it is
/// written), then GitHub's id (ids grow with time), then the listed order. The list's own
/// order is GitHub's too, but a recorded list could be reordered: the times decide.
fn chronological(reviews: &[Review]) -> Vec<&Review> {
    let mut ordered: Vec<(Option<chrono::DateTime<chrono::Utc>>, u64, usize, &Review)> = reviews
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let at = r.submitted_at.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
            (at.map(|t| t.with_timezone(&chrono::Utc)), r.id, i, r)
        })
        .collect();
    ordered.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    ordered.into_iter().map(|(_, _, _, r)| r).collect()
}

fn standing(reviews: &[Review]) -> Standing<'_> {
    // Every reviewer's latest deciding review, in the order they were made. A
    // dismissed review no longer decides anything.
    let mut latest: BTreeMap<String, (usize, &Review)> = BTreeMap::new();
    let mut ghost_approval = false;
    for (at, review) in chronological(reviews).into_iter().enumerate() {
        match review.state.as_str() {
            "APPROVED" | "CHANGES_REQUESTED" => {}
            "DISMISSED" => {
                if let Some(u) = &review.reviewer {
                    // A dismissed approval withdraws that reviewer's earlier decision too.
                    latest.remove(&u.login.to_ascii_lowercase());
                }
                continue;
            }
            _ => continue,
        }
        match &review.reviewer {
            Some(u) if !u.login.eq_ignore_ascii_case(GHOST) => {
                latest.insert(u.login.to_ascii_lowercase(), (at, review));
            }
            _ => ghost_approval |= review.state == "APPROVED",
        }
    }
    // In the order they were made, so that the last one is the latest.
    let mut decided: Vec<(usize, &Review)> = latest.values().copied().collect();
    decided.sort_by_key(|(at, _)| *at);
    let approvals = decided.into_iter().map(|(_, r)| r).filter(|r| r.state == "APPROVED").collect();
    Standing { approvals, ghost_approval }
}

fn is_author(r: &Review, author_login: Option<&str>) -> bool {
    r.reviewer.as_ref().is_some_and(|u| Some(u.login.to_ascii_lowercase().as_str()) == author_login)
}

/// The independent approvers on the final head, before asking who wrote the commits:
/// the pull requests whose commits must be read.
pub fn approvers_on_head(pull: &PullRequest) -> Vec<String> {
    let Some(reviews) = &pull.reviews else { return Vec::new() };
    let author_login = pull.author.as_ref().map(|a| a.login.to_ascii_lowercase());
    if is_ghost(pull.author.as_ref()) {
        return Vec::new();
    }
    standing(reviews)
        .approvals
        .into_iter()
        .filter(|r| !is_author(r, author_login.as_deref()) && r.reviewer.as_ref().is_some_and(|u| !is_bot(u)))
        .filter(|r| r.commit_id.as_deref() == Some(pull.head_sha.as_str()))
        .filter_map(|r| r.reviewer.as_ref().map(|u| u.login.clone()))
        .collect()
}

/// The approvers on the head who wrote none of the commits; not checked when the
/// commits' authors were not read.
fn independent_of_contributors(pull: &PullRequest, on_head: Vec<String>) -> PullStatus {
    let Some(contributors) = &pull.contributors else {
        let why = pull
            .contributors_note
            .clone()
            .unwrap_or_else(|| "its commits were not read, so who wrote them is unknown".into());
        return PullStatus::NotChecked { why };
    };
    let wrote = |login: &String| contributors.iter().any(|c| c.eq_ignore_ascii_case(login));
    let clean: Vec<String> = on_head.iter().filter(|l| !wrote(l)).cloned().collect();
    if clean.is_empty() {
        PullStatus::ApprovedByContributor { by: on_head }
    } else {
        PullStatus::Reviewed { by: clean }
    }
}

/// Classifies one pull request from its reviews (`None`: they could not be read, and
/// `why` says why).
pub fn classify_pull(pull: &PullRequest) -> PullStatus {
    let Some(reviews) = &pull.reviews else {
        return PullStatus::NotChecked {
            why: pull.reviews_note.clone().unwrap_or_else(|| "the reviews were not read".into()),
        };
    };
    let Standing { approvals, ghost_approval } = standing(reviews);
    let author = pull.author.as_ref();
    let author_login = author.map(|a| a.login.to_ascii_lowercase());
    let independent: Vec<&Review> = approvals
        .iter()
        .copied()
        .filter(|r| !is_author(r, author_login.as_deref()) && r.reviewer.as_ref().is_some_and(|u| !is_bot(u)))
        .collect();
    if !independent.is_empty() && is_ghost(author) {
        return PullStatus::DeletedUser;
    }
    let on_head = approvers_on_head(pull);
    if !on_head.is_empty() {
        return independent_of_contributors(pull, on_head);
    }
    if let Some(latest) = independent.last() {
        // GitHub gives no commit for some old reviews: not shown to be on the head either.
        let approved = latest.commit_id.clone().unwrap_or_else(|| "(no commit recorded)".into());
        return PullStatus::Stale { approved, head: pull.head_sha.clone() };
    }
    if ghost_approval {
        return PullStatus::DeletedUser;
    }
    if approvals.iter().any(|r| is_author(r, author_login.as_deref())) {
        return PullStatus::SelfApproved;
    }
    if approvals.iter().any(|r| r.reviewer.as_ref().is_some_and(is_bot)) {
        return PullStatus::BotOnly;
    }
    PullStatus::NotApproved
}

/// Classifies one commit from the statuses of its pull requests.
pub fn classify_commit(commit: &Commit, pulls: &BTreeMap<u64, PullStatus>) -> CommitStatus {
    let Some(numbers) = &commit.pulls else {
        return CommitStatus::NotChecked {
            why: commit.pulls_note.clone().unwrap_or_else(|| "its pull requests were not looked up".into()),
        };
    };
    let known: Vec<(u64, &PullStatus)> = numbers.iter().filter_map(|n| pulls.get(n).map(|s| (*n, s))).collect();
    if known.is_empty() {
        return CommitStatus::DirectPush;
    }
    if let Some((n, _)) = known.iter().find(|(_, s)| s.is_reviewed()) {
        return CommitStatus::Reviewed { pull: *n };
    }
    if let Some((_, PullStatus::NotChecked { why })) =
        known.iter().find(|(_, s)| matches!(s, PullStatus::NotChecked { .. }))
    {
        return CommitStatus::NotChecked { why: why.clone() };
    }
    let why = known.iter().map(|(n, s)| format!("#{n} {}", s.describe())).collect::<Vec<_>>().join("; ");
    CommitStatus::Unreviewed { pulls: known.iter().map(|(n, _)| *n).collect(), why }
}

/// Classifies every pull request and commit and counts them: what the manifest records
/// and what `verify` recomputes from `changes/*.json`.
pub fn classify_all(
    commits: &[Commit],
    pulls: &[PullRequest],
) -> (BTreeMap<u64, PullStatus>, Vec<CommitStatus>, ChangeCounts) {
    let pull_status: BTreeMap<u64, PullStatus> = pulls.iter().map(|p| (p.number, classify_pull(p))).collect();
    let statuses: Vec<CommitStatus> = commits.iter().map(|c| classify_commit(c, &pull_status)).collect();
    let mut counts =
        ChangeCounts { commits: commits.len() as u64, pull_requests: pulls.len() as u64, ..Default::default() };
    for s in &statuses {
        match s {
            CommitStatus::Reviewed { .. } => counts.reviewed += 1,
            CommitStatus::DirectPush => {
                counts.unreviewed += 1;
                counts.direct_pushes += 1;
            }
            CommitStatus::NotChecked { .. } => {
                counts.unreviewed += 1;
                counts.not_checked += 1;
            }
            CommitStatus::Unreviewed { .. } => counts.unreviewed += 1,
        }
    }
    counts.unsigned = commits.iter().filter(|c| !c.verification.verified).count() as u64;
    (pull_status, statuses, counts)
}

/// The commits a merge commit brought in: every ancestor of its second (and further)
/// parents that is not an ancestor of its first parent, within the range — exactly
/// `git log M^1..M` minus M. Lets one pull request lookup map a whole merged branch,
/// and never claims a commit that reached the base another way (a stacked branch merged
/// on its own, a direct push the branch was started from). `parents[i]`: commit `i`'s
/// parents in order, by index, `None` for a parent outside the range (which keeps its
/// place: the first parent stays the first).
pub fn merged_branch(merge: usize, parents: &[Vec<Option<usize>>]) -> Vec<usize> {
    let walk = |from: &[Option<usize>], stop: &[bool]| {
        let mut seen = vec![false; parents.len()];
        let mut stack: Vec<usize> = from.iter().flatten().copied().collect();
        let mut out = Vec::new();
        while let Some(i) = stack.pop() {
            if seen[i] || stop.get(i).copied().unwrap_or(false) {
                continue;
            }
            seen[i] = true;
            out.push(i);
            stack.extend(parents[i].iter().flatten().copied());
        }
        (out, seen)
    };
    let Some((first, rest)) = parents[merge].split_first() else { return Vec::new() };
    let (_, base_side) = walk(std::slice::from_ref(first), &[]);
    walk(rest, &base_side).0
}

/// The commits of a merge commit's branch ([`merged_branch`]) that its pull request had:
/// those in the history of the pull request's final head (`heads`: the heads of the pull
/// requests merged there, by index; one outside the range maps nothing). A merge made by
/// hand can bring in more than the pull request held — a commit pushed on top of the
/// approved head and merged with it — and GitHub still names it the pull request's merge
/// commit: that commit was never in the pull request, and its review does not cover it.
pub fn pull_branch(merge: usize, parents: &[Vec<Option<usize>>], heads: &[Option<usize>]) -> Vec<usize> {
    let mut held = vec![false; parents.len()];
    let mut stack: Vec<usize> = heads.iter().flatten().copied().collect();
    while let Some(i) = stack.pop() {
        if !std::mem::replace(&mut held[i], true) {
            stack.extend(parents[i].iter().flatten().copied());
        }
    }
    merged_branch(merge, parents).into_iter().filter(|&j| held[j]).collect()
}

/// Whether a merged pull request brought commit `i` into the release, when GitHub's
/// commit → pull request lookup names it: `i` is its merge commit (`merge`), or one of
/// the commits its merge commit brought in that the pull request had ([`pull_branch`],
/// `head` its final head). GitHub also names a pull request for a commit it merely
/// contained — one of a squash-merged pull request's own commits pushed to the branch on
/// its own — and that pull request's review (of its net change) does not cover it.
/// A merge commit beyond what was read (`None`: a range not read whole) is not judged.
pub fn brought_in(i: usize, merge: Option<usize>, head: Option<usize>, parents: &[Vec<Option<usize>>]) -> bool {
    match merge {
        None => true,
        Some(m) if m == i => true,
        Some(m) if parents[m].len() > 1 => pull_branch(m, parents, &[head]).contains(&i),
        Some(_) => false,
    }
}

/// Whether `text` has the shape of a GitHub login (letters, digits and single hyphens,
/// at most 39 characters, no hyphen first).
fn is_login_shaped(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 39
        && !text.starts_with('-')
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The login of GitHub's noreply address (`ID+login@users.noreply.github.com` or
/// `login@users.noreply.github.com`).
fn noreply_login(email: &str) -> Option<&str> {
    let (local, domain) = email.rsplit_once('@')?;
    if !domain.eq_ignore_ascii_case("users.noreply.github.com") {
        return None;
    }
    let login = local.split_once('+').map_or(
        local,
        |(id, login)| {
            if id.bytes().all(|b| b.is_ascii_digit()) { login } else { local }
        },
    );
    is_login_shaped(login).then_some(login)
}

/// Who a commit message names as its co-authors (`Co-authored-by: Name <email>` lines, the
/// key in any case), as logins: the login of GitHub's noreply address, the login an
/// address is known to belong to (`known`: `(email, login)` of the pull request's own
/// commits), and the name itself when it has the shape of a login (GitHub's web UI names
/// a suggester without a display name by their login). A co-author wrote part of the
/// commit, so an approval by any of them is not a second pair of eyes; a name that only
/// looks like the approver's login errs on the strict side.
pub fn co_author_logins(message: &str, known: &[(String, String)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in message.lines() {
        let line = line.trim();
        let Some((key, value)) = line.split_once(':') else { continue };
        if !key.trim().eq_ignore_ascii_case("co-authored-by") {
            continue;
        }
        let value = value.trim();
        let (name, email) = match value.rsplit_once('<') {
            Some((name, rest)) => (name.trim(), rest.trim_end().trim_end_matches('>').trim()),
            None => (value, ""),
        };
        let mut found: Vec<&str> = Vec::new();
        found.extend(noreply_login(email));
        found.extend(
            known.iter().filter(|(e, _)| !email.is_empty() && e.eq_ignore_ascii_case(email)).map(|(_, l)| l.as_str()),
        );
        if is_login_shaped(name) {
            found.push(name);
        }
        for login in found {
            if !out.iter().any(|l| l.eq_ignore_ascii_case(login)) {
                out.push(login.to_string());
            }
        }
    }
    out
}

/// One commit of a pull request as read: its author's and committer's `(email, login)`
/// (either unknown as `None`) and its whole message.
pub struct Written {
    pub people: Vec<(Option<String>, Option<String>)>,
    pub message: String,
}

/// Everyone who wrote a pull request's commits, as logins, each once (in any case): the
/// GitHub author and committer of each commit and its co-authors
/// ([`co_author_logins`], an address resolved through the commits' own authors and
/// committers; logins as read are bounded, a co-author's has at most 39 characters).
/// The same on the REST and the GraphQL path.
pub fn contributors(commits: &[Written]) -> Vec<String> {
    let known: Vec<(String, String)> =
        commits.iter().flat_map(|c| c.people.iter()).filter_map(|(e, l)| Some((e.clone()?, l.clone()?))).collect();
    let mut logins: Vec<String> = Vec::new();
    let mut add = |login: &str| {
        if !logins.iter().any(|l| l.eq_ignore_ascii_case(login)) {
            logins.push(login.to_string());
        }
    };
    for c in commits {
        c.people.iter().filter_map(|(_, l)| l.as_deref()).for_each(&mut add);
    }
    for c in commits {
        co_author_logins(&c.message, &known).iter().for_each(|l| add(l));
    }
    logins
}

/// The first 7 characters of a sha (anything else as it is).
pub fn short(sha: &str) -> &str {
    if sha.len() >= 7 && sha.bytes().all(|b| b.is_ascii_hexdigit()) { &sha[..7] } else { sha }
}

/// A release version, compared by semantic-versioning precedence (an optional leading
/// `v`; build metadata ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    core: (u64, u64, u64),
    pre: Vec<String>,
}

impl Version {
    pub fn parse(text: &str) -> Option<Version> {
        let t = text.strip_prefix('v').unwrap_or(text);
        let t = t.split_once('+').map_or(t, |(v, _)| v);
        let (core, pre) = match t.split_once('-') {
            Some((c, p)) => (c, p.split('.').map(str::to_string).collect::<Vec<_>>()),
            None => (t, Vec::new()),
        };
        let parts: Vec<u64> = core
            .split('.')
            .map(|p| p.parse().ok().filter(|_| !p.is_empty() && (p == "0" || !p.starts_with('0'))))
            .collect::<Option<_>>()?;
        if parts.len() != 3
            || pre.iter().any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        {
            return None;
        }
        Some(Version { core: (parts[0], parts[1], parts[2]), pre })
    }

    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering::*;
        self.core.cmp(&other.core).then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => Equal,
            (true, false) => Greater,
            (false, true) => Less,
            (false, false) => {
                for (a, b) in self.pre.iter().zip(&other.pre) {
                    let o = match (a.parse::<u64>(), b.parse::<u64>()) {
                        (Ok(x), Ok(y)) => x.cmp(&y),
                        (Ok(_), Err(_)) => Less,
                        (Err(_), Ok(_)) => Greater,
                        (Err(_), Err(_)) => a.cmp(b),
                    };
                    if o != Equal {
                        return o;
                    }
                }
                self.pre.len().cmp(&other.pre.len())
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::changes::{Person, Signature};

    const HEAD: &str = "hhhhhhhhhh";

    fn user(login: &str) -> Option<User> {
        Some(User { login: login.into(), bot: login.ends_with("[bot]") })
    }

    fn review(by: &str, state: &str, on: &str) -> Review {
        Review { id: 1, reviewer: user(by), state: state.into(), commit_id: Some(on.into()), submitted_at: None }
    }

    fn pull(author: &str, reviews: Vec<Review>) -> PullRequest {
        PullRequest {
            number: 7,
            title: "t".into(),
            author: user(author),
            merged_at: Some("2026-01-01T00:00:00Z".into()),
            merge_commit_sha: None,
            head_sha: HEAD.into(),
            url: None,
            reviews: Some(reviews),
            reviews_note: None,
            merged_by: None,
            merged_by_note: None,
            contributors: Some(vec![author.into()]),
            contributors_note: None,
        }
    }

    #[test]
    fn an_independent_approval_on_the_final_head_is_a_review() {
        assert_eq!(
            classify_pull(&pull("alice", vec![review("bob", "APPROVED", HEAD)])),
            PullStatus::Reviewed { by: vec!["bob".into()] }
        );
        // A re-approval after the last push covers it.
        let p = pull("alice", vec![review("bob", "APPROVED", "old1234567"), review("bob", "APPROVED", HEAD)]);
        assert!(classify_pull(&p).is_reviewed());
    }

    #[test]
    fn an_approver_who_wrote_any_of_it_is_not_a_second_pair_of_eyes() {
        let mut p = pull("alice", vec![review("bob", "APPROVED", HEAD)]);
        p.contributors = Some(vec!["alice".into(), "Bob".into()]);
        assert_eq!(classify_pull(&p), PullStatus::ApprovedByContributor { by: vec!["bob".into()] });
        // Another approver who wrote nothing still covers it.
        p.reviews.as_mut().unwrap().push(review("carol", "APPROVED", HEAD));
        assert_eq!(classify_pull(&p), PullStatus::Reviewed { by: vec!["carol".into()] });
        // Who wrote it unread: not checked, never reviewed.
        p.contributors = None;
        p.contributors_note = Some("the request budget was spent".into());
        assert!(matches!(classify_pull(&p), PullStatus::NotChecked { why } if why.contains("budget")));
        // A bot never counts, whatever its type says, in any case of its login.
        let mut b = pull("alice", vec![review("Renovate[BOT]", "APPROVED", HEAD)]);
        b.reviews.as_mut().unwrap()[0].reviewer.as_mut().unwrap().bot = false;
        assert_eq!(classify_pull(&b), PullStatus::BotOnly);
    }

    #[test]
    fn a_co_author_wrote_the_commit_too() {
        let known = vec![("bob@corp.example".to_string(), "bob".to_string())];
        let logins = |m: &str| co_author_logins(m, &known);
        assert_eq!(logins("x\n\nCo-authored-by: Bob B <4242+bob@users.noreply.github.com>"), ["bob"]);
        assert_eq!(logins("x\n\nco-AUTHORED-by: B. <Bob@users.noreply.github.com>"), ["Bob"]);
        assert_eq!(logins("x\n\nCo-authored-by: Robert B. <BOB@corp.example>"), ["bob"], "known address");
        assert_eq!(logins("x\n\nCo-authored-by: carol <carol@example.org>"), ["carol"], "a login-shaped name");
        assert!(logins("x\n\nCo-authored-by: Dana Scully <dana@example.org>").is_empty());
        assert!(logins("thanks bob <bob@users.noreply.github.com>").is_empty(), "not a trailer");
        assert!(logins("Co-authored-by: Mr X <12a+bob@evil.example>").is_empty());
        assert!(logins("Co-authored-by: Mr X <-x@users.noreply.github.com>").is_empty());
        let written = [
            Written { people: vec![(None, Some("alice".into())), (None, Some("web-flow".into()))], message: "a".into() },
            Written {
                people: vec![(Some("bob@corp.example".into()), Some("Bob".into()))],
                message: "b\n\nCo-authored-by: Robert <bob@corp.example>\nCo-authored-by: Erin <erin@users.noreply.github.com>"
                    .into(),
            },
        ];
        assert_eq!(contributors(&written), ["alice", "web-flow", "Bob", "Robert", "erin"]);
    }

    #[test]
    fn what_is_not_a_review() {
        assert_eq!(classify_pull(&pull("alice", vec![review("alice", "APPROVED", HEAD)])), PullStatus::SelfApproved);
        assert!(matches!(
            classify_pull(&pull("alice", vec![review("bob", "APPROVED", "old1234567")])),
            PullStatus::Stale { .. }
        ));
        assert_eq!(classify_pull(&pull("alice", vec![review("renovate[bot]", "APPROVED", HEAD)])), PullStatus::BotOnly);
        assert_eq!(
            classify_pull(&pull("alice", vec![review("bob", "APPROVED", HEAD), review("bob", "DISMISSED", HEAD)])),
            PullStatus::NotApproved
        );
        assert_eq!(classify_pull(&pull("alice", vec![review("bob", "DISMISSED", HEAD)])), PullStatus::NotApproved);
        assert_eq!(
            classify_pull(&pull(
                "alice",
                vec![review("bob", "APPROVED", HEAD), review("bob", "CHANGES_REQUESTED", HEAD)]
            )),
            PullStatus::NotApproved
        );
        assert_eq!(classify_pull(&pull("alice", vec![review("bob", "COMMENTED", HEAD)])), PullStatus::NotApproved);
        assert_eq!(classify_pull(&pull("alice", vec![review("ghost", "APPROVED", HEAD)])), PullStatus::DeletedUser);
        assert_eq!(classify_pull(&pull("ghost", vec![review("bob", "APPROVED", HEAD)])), PullStatus::DeletedUser);
        let mut unread = pull("alice", vec![]);
        unread.reviews = None;
        assert!(matches!(classify_pull(&unread), PullStatus::NotChecked { .. }));
        // An approval GitHub recorded without a commit is not shown to cover the head.
        let mut unknown = review("bob", "APPROVED", HEAD);
        unknown.commit_id = None;
        assert!(matches!(classify_pull(&pull("alice", vec![unknown])), PullStatus::Stale { .. }));
        // A comment after an approval does not withdraw it.
        assert!(
            classify_pull(&pull("alice", vec![review("bob", "APPROVED", HEAD), review("bob", "COMMENTED", HEAD)]))
                .is_reviewed()
        );
    }

    /// The reviews' times decide which is a reviewer's latest, not the order of a list
    /// (a recorded `pulls.json` could be reordered): a change request made after an
    /// approval withdraws it wherever it is listed (found by a red-team review).
    #[test]
    fn the_latest_review_is_the_latest_in_time_not_in_the_list() {
        let at = |mut r: Review, id: u64, t: &str| {
            r.id = id;
            r.submitted_at = Some(t.into());
            r
        };
        let approved = at(review("bob", "APPROVED", HEAD), 10, "2026-01-01T10:00:00Z");
        let changes = at(review("bob", "CHANGES_REQUESTED", HEAD), 11, "2026-01-01T11:00:00Z");
        assert_eq!(classify_pull(&pull("alice", vec![changes.clone(), approved.clone()])), PullStatus::NotApproved);
        assert_eq!(classify_pull(&pull("alice", vec![approved.clone(), changes.clone()])), PullStatus::NotApproved);
        // Times in another offset are instants too.
        let later = at(review("bob", "APPROVED", HEAD), 12, "2026-01-01T13:30:00+02:00");
        assert!(classify_pull(&pull("alice", vec![later, changes, approved])).is_reviewed());
    }

    fn commit(pulls: Option<Vec<u64>>, verified: bool) -> Commit {
        let p = Person { name: "n".into(), email: None, login: None, date: None };
        Commit {
            sha: "c".repeat(40),
            message: "m".into(),
            author: p.clone(),
            committer: p,
            parents: vec![],
            verification: Signature { verified, reason: if verified { "valid".into() } else { "unsigned".into() } },
            pulls,
            pulls_note: Some("budget".into()),
            review: None,
        }
    }

    #[test]
    fn commits_follow_their_pull_requests_and_are_counted() {
        let reviewed = pull("alice", vec![review("bob", "APPROVED", HEAD)]);
        let mut selfish = pull("carol", vec![review("carol", "APPROVED", HEAD)]);
        selfish.number = 8;
        let commits = [
            commit(Some(vec![7]), true),
            commit(Some(vec![8]), false),
            commit(Some(vec![]), true),
            commit(None, false),
        ];
        let (_, statuses, counts) = classify_all(&commits, &[reviewed, selfish]);
        assert_eq!(statuses[0], CommitStatus::Reviewed { pull: 7 });
        assert!(matches!(&statuses[1], CommitStatus::Unreviewed { pulls, .. } if pulls == &[8]));
        assert_eq!(statuses[2], CommitStatus::DirectPush);
        assert!(matches!(statuses[3], CommitStatus::NotChecked { .. }));
        assert_eq!(
            counts,
            ChangeCounts {
                commits: 4,
                pull_requests: 2,
                reviewed: 1,
                unreviewed: 3,
                direct_pushes: 1,
                not_checked: 1,
                unsigned: 2
            }
        );
    }

    #[test]
    fn a_stale_approval_names_the_latest_approved_commit_not_the_last_reviewer_by_name() {
        let p = pull("alice", vec![review("zed", "APPROVED", "c1"), review("amy", "APPROVED", "c2")]);
        match classify_pull(&p) {
            PullStatus::Stale { approved, .. } => assert_eq!(approved, "c2"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_merge_commit_maps_its_branch_and_nothing_that_reached_the_base_otherwise() {
        // 0 base; 1 direct push; 2 = #4's branch commit (from 1); 3 = merge of #4 (1, 2);
        // 4 = #5's commit stacked on 2; 5 = merge of #5 (3, 4); 6 = a plain merge
        // whose second parent is already on the base side (1).
        let p = |v: &[usize]| v.iter().map(|i| Some(*i)).collect::<Vec<_>>();
        let parents: Vec<Vec<Option<usize>>> =
            vec![vec![None], p(&[0]), p(&[1]), p(&[1, 2]), p(&[2]), p(&[3, 4]), p(&[5, 1])];
        assert_eq!(merged_branch(3, &parents), [2]);
        assert_eq!(merged_branch(5, &parents), [4], "#5 brought only its own commit; 2 came with #4");
        assert_eq!(merged_branch(6, &parents), Vec::<usize>::new());
        assert_eq!(merged_branch(1, &parents), Vec::<usize>::new(), "not a merge");
        // The first merge after the previous release: its first parent is outside the
        // range, and still the first. 0 and 1: the branch (from outside); 2 = merge.
        let parents = vec![vec![None], p(&[0]), vec![None, Some(1)]];
        let mut branch = merged_branch(2, &parents);
        branch.sort();
        assert_eq!(branch, [0, 1]);
    }

    #[test]
    fn a_merge_commit_maps_only_what_its_pull_request_had() {
        // 0 base; 1 = #9's approved head (from 0); 2 = a commit on top of it, never in
        // #9; 3 = the merge of 2 into the base (0, 2).
        let p = |v: &[usize]| v.iter().map(|i| Some(*i)).collect::<Vec<_>>();
        let parents: Vec<Vec<Option<usize>>> = vec![vec![None], p(&[0]), p(&[1]), p(&[0, 2])];
        let mut branch = merged_branch(3, &parents);
        branch.sort();
        assert_eq!(branch, [1, 2], "the merge brought both in");
        assert_eq!(pull_branch(3, &parents, &[Some(1)]), [1], "#9 had only its head");
        assert_eq!(pull_branch(3, &parents, &[Some(2)]).len(), 2, "a head on top has both");
        assert!(pull_branch(3, &parents, &[None]).is_empty(), "a head outside the range maps nothing");
    }

    #[test]
    fn a_lookup_counts_a_pull_request_only_for_what_its_merge_brought_in() {
        // 0 base; 1 = a commit of #10 pushed on its own; 2 = #10's squash commit (from 1);
        // 3 = #11's head (from 2); 4 = #11's merge (2, 3).
        let p = |v: &[usize]| v.iter().map(|i| Some(*i)).collect::<Vec<_>>();
        let parents: Vec<Vec<Option<usize>>> = vec![vec![None], p(&[0]), p(&[1]), p(&[2]), p(&[2, 3])];
        assert!(brought_in(2, Some(2), None, &parents), "the squash commit itself");
        assert!(!brought_in(1, Some(2), None, &parents), "its own commit, pushed on its own");
        assert!(brought_in(3, Some(4), Some(3), &parents), "a merge brings in its head");
        assert!(!brought_in(1, Some(4), Some(3), &parents), "not what reached the base before");
        assert!(brought_in(1, None, None, &parents), "a merge commit beyond what was read");
    }

    /// The first candidate for the previous release among version tags alone.
    fn previous_release<'a>(current: &str, tags: [&'a str; 7]) -> Option<&'a str> {
        let listing = crate::evidence::changes::Listing {
            names: tags.iter().map(|t| t.to_string()).collect(),
            complete: true,
            ..Default::default()
        };
        let first =
            crate::evidence::changes::previous::candidate_order(current, None, Some(&listing)).into_iter().next();
        first.and_then(|(t, _)| tags.into_iter().find(|x| *x == t))
    }

    #[test]
    fn the_previous_release_is_the_highest_lower_version() {
        let tags = ["1.0.0", "v1.1.0", "1.2.0-rc.1", "1.2.0", "1.3.0", "latest", "1.10.0"];
        assert_eq!(previous_release("1.2.1", tags), Some("1.2.0"));
        assert_eq!(previous_release("1.2.0", tags), Some("v1.1.0"));
        assert_eq!(previous_release("1.2.0-rc.2", tags), Some("1.2.0-rc.1"));
        assert_eq!(previous_release("2.0.0", tags), Some("1.10.0"));
        assert_eq!(previous_release("1.0.0", tags), None);
        assert_eq!(previous_release("nightly", tags), Some("1.10.0"));
        assert!(
            Version::parse("1.2").is_none() && Version::parse("01.2.3").is_none() && Version::parse("1.2.3-").is_none()
        );
        assert!(Version::parse("1.0.0-alpha").unwrap() < Version::parse("1.0.0-alpha.1").unwrap());
        assert!(Version::parse("1.0.0-alpha.beta").unwrap() < Version::parse("1.0.0-beta").unwrap());
        assert!(Version::parse("1.0.0-rc.1").unwrap() < Version::parse("1.0.0").unwrap());
    }
}
