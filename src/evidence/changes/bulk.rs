//! The change trail's bulk reads through GitHub's GraphQL API (a budget of its own for a
//! job's `GITHUB_TOKEN`, counted in points):
//!
//! - [`MERGED_PULLS`]: merged pull requests by base branch (`release-X.Y` of the
//!   released version, then the default branch), newest first, each with its reviews
//!   (author, state, commit, time), head, merge commit, merger and commits. 74 a page:
//!   by GitHub's rule (each connection's requests, 1 + 74 + 74, over 100, rounded) a page
//!   costs 1 point, where 100 a page would cost 2. They are matched to the range by merge commit, as the REST
//!   listing is; a pull request merged into a release branch is found this way, where
//!   GitHub's commit → pull request lookup lists only open pull requests off the default
//!   branch. A rebase-merged pull request also maps the commits rebased below its merge
//!   commit: those whose first line and author time are its own commits'.
//! - [`COMMIT_PULLS`]: the associated pull requests of the commits still unmapped, 100
//!   commits a query (1 point).
//!
//! Every query asks for `rateLimit { cost remaining }`; a points budget keeps the stage within
//! the configured points and never above half of what GitHub says remains. A refusal
//! (a server without GraphQL, a token it refuses, an answer in another shape) leaves
//! the rest to the REST path, which gives the same classifications; so does a pull
//! request with more than 100 reviews or commits (its list is read through REST).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use super::{
    Api, Graph, MAX_LOGIN, MAX_PAGE_BYTES, MAX_PULL_COMMITS, MAX_TITLE, Mapped, Trail, bounded, is_sha, review,
};
use crate::error::Result;
use crate::evidence::changes::{PullRequest, Review, User};
use crate::github::graphql::{self, Outcome, RateLimit};

/// The pull request fields both queries read (one text, so the two cannot drift apart).
macro_rules! pull_fragment {
    () => {
        "fragment Pull on PullRequest {
  number title url updatedAt mergedAt baseRefName headRefOid
  author { __typename login }
  mergedBy { __typename login }
  mergeCommit { oid }
}"
    };
}

/// Merged pull requests into one base branch, newest first, with everything the
/// four-eyes rule reads. Validated against GitHub's published schema by the test suite.
pub const MERGED_PULLS: &str = concat!(
    "query MergedPullRequests($owner: String!, $name: String!, $base: String, $after: String) {
  repository(owner: $owner, name: $name) {
    defaultBranchRef { name }
    pullRequests(first: 74, after: $after, states: [MERGED], baseRefName: $base, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        ...Pull
        reviews(first: 100) {
          totalCount
          nodes { databaseId state submittedAt author { __typename login } commit { oid } }
        }
        commits(first: 100) {
          totalCount
          nodes { commit { messageHeadline message authoredDate author { email user { login } } committer { email user { login } } } }
        }
      }
    }
  }
  rateLimit { cost remaining }
}
",
    pull_fragment!()
);

/// The associated pull requests of up to 100 commits, by their node ids.
pub const COMMIT_PULLS: &str = concat!(
    "query CommitPullRequests($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on Commit {
      oid
      associatedPullRequests(first: 10) { nodes { ...Pull } }
    }
  }
  rateLimit { cost remaining }
}
",
    pull_fragment!()
);

/// What a page of [`MERGED_PULLS`] costs by GitHub's rule (each connection's requests,
/// 1 + 74 + 74, over 100, rounded).
const PULLS_PAGE_COST: u64 = 1;
/// What a query of [`COMMIT_PULLS`] costs (100 commits' connections over 100).
const COMMITS_QUERY_COST: u64 = 1;
/// Commits per [`COMMIT_PULLS`] query.
const COMMITS_PER_QUERY: usize = 100;
/// Pages of one base branch read at most (100 pull requests each).
const MAX_PAGES: u32 = 100;

/// The GraphQL budget: points spent, the most this stage may spend, and what GitHub
/// said remained; and whether GraphQL is refused (then the REST path reads).
pub(super) struct Points {
    /// The configured maximum.
    pub configured: u64,
    /// The most this stage may spend: the configured maximum, or half of what GitHub
    /// said remained before a query, whichever is less.
    pub cap: u64,
    pub spent: u64,
    pub remaining: Option<u64>,
    /// What GitHub said remained before the first query.
    start: Option<u64>,
    /// Why GraphQL is not used (refused, or its budget spent).
    pub stopped: Option<String>,
    /// The budget ran out (not a refusal).
    pub exhausted: bool,
}

impl Points {
    pub fn new(configured: u32) -> Points {
        Points {
            configured: configured as u64,
            cap: configured as u64,
            spent: 0,
            remaining: None,
            start: None,
            stopped: None,
            exhausted: false,
        }
    }

    /// Whether a query of this cost fits; if not, GraphQL stops here (said once).
    fn admit(&mut self, cost: u64) -> bool {
        if self.stopped.is_some() {
            return false;
        }
        if self.spent + cost > self.cap {
            self.stopped = Some(format!("its budget ({}) was spent", self.said()));
            self.exhausted = true;
            return false;
        }
        true
    }

    /// The budget as a person reads it.
    pub fn said(&self) -> String {
        match self.start {
            Some(r) if self.cap < self.configured => {
                format!("{} GraphQL points, half of the {r} GitHub said remained", self.cap)
            }
            _ => format!("{} GraphQL points", self.cap),
        }
    }

    /// Counts what a query cost, and takes at most half of what remained before it.
    fn record(&mut self, predicted: u64, rate: Option<RateLimit>) {
        let before = self.spent;
        let cost = rate.map_or(predicted, |r| r.cost);
        self.spent += cost;
        if let Some(r) = rate {
            self.remaining = Some(r.remaining);
            self.start.get_or_insert(r.remaining + cost + before);
            self.cap = self.cap.min(before + (r.remaining + cost) / 2);
        }
    }

    fn refused(&mut self, why: String) {
        log::info!("GraphQL refused ({why}); reading through the REST API");
        self.stopped = Some(format!("GitHub refused the GraphQL query ({why})"));
    }
}

// ---- GitHub's GraphQL shapes (only the fields asked for) ----

#[derive(Deserialize)]
struct Actor {
    login: String,
    #[serde(rename = "__typename", default)]
    typename: String,
}

#[derive(Deserialize)]
struct Oid {
    oid: String,
}

#[derive(Deserialize)]
struct Login {
    login: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Conn<T> {
    total_count: u64,
    nodes: Vec<Option<T>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GqlReview {
    database_id: Option<u64>,
    state: String,
    submitted_at: Option<String>,
    author: Option<Actor>,
    commit: Option<Oid>,
}

#[derive(Deserialize)]
struct GitActor {
    #[serde(default)]
    email: Option<String>,
    user: Option<Login>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GqlCommit {
    #[serde(default)]
    message_headline: String,
    /// The whole message (its `Co-authored-by:` trailers).
    #[serde(default)]
    message: String,
    authored_date: Option<String>,
    author: Option<GitActor>,
    committer: Option<GitActor>,
}

#[derive(Deserialize)]
struct GqlPullCommit {
    commit: GqlCommit,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GqlPull {
    number: u64,
    #[serde(default)]
    title: String,
    url: Option<String>,
    updated_at: Option<String>,
    merged_at: Option<String>,
    head_ref_oid: String,
    author: Option<Actor>,
    merged_by: Option<Actor>,
    merge_commit: Option<Oid>,
    #[serde(default)]
    reviews: Option<Conn<GqlReview>>,
    #[serde(default)]
    commits: Option<Conn<GqlPullCommit>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
struct PullPage {
    #[serde(rename = "pageInfo")]
    page_info: PageInfo,
    nodes: Vec<Option<GqlPull>>,
}

#[derive(Deserialize)]
struct DefaultBranch {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RepoPulls {
    default_branch_ref: Option<DefaultBranch>,
    pull_requests: PullPage,
}

#[derive(Deserialize)]
struct MergedData {
    repository: Option<RepoPulls>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommitNode {
    oid: Option<String>,
    associated_pull_requests: Option<Conn0<GqlPull>>,
}

/// A connection whose count was not asked for.
#[derive(Deserialize)]
struct Conn0<T> {
    nodes: Vec<Option<T>>,
}

#[derive(Deserialize)]
struct CommitsData {
    nodes: Vec<Option<CommitNode>>,
}

/// A GraphQL actor as REST names it: a bot's login carries `[bot]`, as in REST answers.
fn actor(a: Option<Actor>) -> Option<User> {
    a.map(|a| {
        let bot = a.typename == "Bot";
        let login = if bot && !a.login.ends_with("[bot]") { format!("{}[bot]", a.login) } else { a.login };
        User { bot: bot || login.ends_with("[bot]"), login: bounded(&login, MAX_LOGIN) }
    })
}

/// The pull request as the trail records it; its reviews when GraphQL listed them all
/// (every one with its id), and who wrote its commits when an approval would count and
/// they are all listed (else REST reads them).
fn pull_from(p: GqlPull) -> PullRequest {
    let reviews = p.reviews.filter(|r| r.total_count as usize == r.nodes.len()).and_then(|r| {
        r.nodes
            .into_iter()
            .map(|n| {
                let n = n?;
                Some(Review {
                    id: n.database_id?,
                    reviewer: actor(n.author).or(Some(User { login: review::GHOST.into(), bot: false })),
                    state: bounded(&n.state, 20),
                    commit_id: n.commit.map(|c| c.oid).filter(|s| is_sha(s)),
                    submitted_at: n.submitted_at.map(|d| bounded(&d, 40)),
                })
            })
            .collect::<Option<Vec<Review>>>()
    });
    let merged_by = actor(p.merged_by);
    let mut pull = PullRequest {
        number: p.number,
        title: bounded(&p.title, MAX_TITLE),
        author: actor(p.author),
        merged_at: p.merged_at.map(|d| bounded(&d, 40)),
        merge_commit_sha: p.merge_commit.map(|m| m.oid).filter(|s| is_sha(s)),
        head_sha: p.head_ref_oid,
        url: p.url.filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        merged_by_note: merged_by.is_none().then(|| "GitHub names no merger for it".to_string()),
        merged_by,
        reviews,
        reviews_note: None,
        contributors: None,
        contributors_note: None,
    };
    if pull.reviews.is_some()
        && !review::approvers_on_head(&pull).is_empty()
        && let Some(commits) = p.commits.filter(|c| c.total_count as usize == c.nodes.len())
    {
        if commits.nodes.len() >= MAX_PULL_COMMITS {
            pull.contributors_note = Some(format!(
                "it has {MAX_PULL_COMMITS} commits or more, and GitHub lists only {MAX_PULL_COMMITS}: who wrote them all cannot be seen"
            ));
        } else {
            let written: Vec<review::Written> = commits
                .nodes
                .into_iter()
                .flatten()
                .map(|c| review::Written {
                    people: [c.commit.author, c.commit.committer]
                        .into_iter()
                        .flatten()
                        .map(|a| (a.email, a.user.map(|u| bounded(&u.login, MAX_LOGIN))))
                        .collect(),
                    message: c.commit.message,
                })
                .collect();
            pull.contributors = Some(review::contributors(&written));
        }
    }
    pull
}

/// The release branch of a version: `release-X.Y` for `X.Y.Z` (Kyma's convention).
pub(super) fn release_branch(version: &str) -> Option<String> {
    let v = version.strip_prefix('v').unwrap_or(version);
    let mut parts = v.split(['.', '-', '+']);
    let (major, minor) = (parts.next()?, parts.next()?);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(major) && digits(minor)).then(|| format!("release-{major}.{minor}"))
}

/// The repository's owner and name, for the queries.
fn owner_name(api: &Api<'_>) -> (String, String) {
    let repo = api.rest.repository();
    let (o, n) = repo.split_once('/').unwrap_or((repo, ""));
    (o.to_string(), n.to_string())
}

/// Lists the merged pull requests of the release branch, then of the default branch,
/// matching them to the range by merge commit, until they predate the range (or every
/// commit is mapped). Returns whether GraphQL answered; when it did not, the REST
/// listing reads instead.
pub(super) async fn list_merged(
    api: &Api<'_>,
    points: &mut Points,
    release_version: &str,
    since: chrono::DateTime<chrono::FixedOffset>,
    graph: &Graph,
    trail: &mut Trail,
    mapped: &mut Mapped,
) -> Result<bool> {
    let mut bases: Vec<Option<String>> = release_branch(release_version).into_iter().map(Some).collect();
    bases.push(None); // the default branch, named by the first answer
    let mut default: Option<String> = None;
    let mut listed: Vec<Option<String>> = Vec::new();
    for base in bases {
        // Without a release branch to list first, the default branch is not named yet: all
        // bases are listed (a superset).
        let base = base.or_else(|| default.clone());
        if listed.contains(&base) {
            continue;
        }
        listed.push(base.clone());
        match list_base(api, points, base.as_deref(), since, graph, trail, mapped).await? {
            Listed::Done { default_branch } => default = default.or(default_branch),
            Listed::Refused => return Ok(false),
            Listed::OverBudget => break,
        }
    }
    Ok(true)
}

enum Listed {
    Done { default_branch: Option<String> },
    Refused,
    OverBudget,
}

async fn list_base(
    api: &Api<'_>,
    points: &mut Points,
    base: Option<&str>,
    since: chrono::DateTime<chrono::FixedOffset>,
    graph: &Graph,
    trail: &mut Trail,
    mapped: &mut Mapped,
) -> Result<Listed> {
    let (owner, name) = owner_name(api);
    let mut after: Option<String> = None;
    let mut default_branch = None;
    for _ in 0..MAX_PAGES {
        if trail.commits.iter().all(|c| c.pulls.is_some()) {
            break;
        }
        if !points.admit(PULLS_PAGE_COST) {
            return Ok(Listed::OverBudget);
        }
        let vars = json!({"owner": owner, "name": name, "base": base, "after": after});
        let what = format!("merged pull requests into {} (GraphQL)", base.unwrap_or("any branch"));
        let page = match graphql::query::<MergedData>(api.rest, MERGED_PULLS, vars, MAX_PAGE_BYTES, &what).await? {
            Outcome::Done { data, rate } => {
                points.record(PULLS_PAGE_COST, rate);
                match data.repository {
                    Some(r) => r,
                    None => {
                        points.refused("no repository in the answer".into());
                        return Ok(Listed::Refused);
                    }
                }
            }
            Outcome::Refused { why, .. } => {
                points.refused(why);
                return Ok(Listed::Refused);
            }
            Outcome::TooLarge => {
                points.refused(super::too_large());
                return Ok(Listed::Refused);
            }
        };
        default_branch = default_branch.or(page.default_branch_ref.map(|d| d.name));
        let PullPage { page_info, nodes } = page.pull_requests;
        let oldest = nodes
            .iter()
            .flatten()
            .filter_map(|p| p.updated_at.as_deref())
            .filter_map(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
            .min();
        for p in nodes.into_iter().flatten().filter(|p| p.merged_at.is_some()) {
            let Some(&i) = p.merge_commit.as_ref().and_then(|m| graph.index.get(&m.oid)) else { continue };
            mapped.listed += 1;
            mapped.by_branch += graph.assign(&mut trail.commits, i, &[p.number], &[p.head_ref_oid.as_str()]);
            mapped.by_branch += map_rebased(graph, &mut trail.commits, i, p.number, &own_commits(&p));
            trail.pulls.entry(p.number).or_insert_with(|| pull_from(p));
        }
        if !page_info.has_next_page || oldest.is_some_and(|o| o < since) {
            break;
        }
        after = page_info.end_cursor;
    }
    Ok(Listed::Done { default_branch })
}

/// A rebase-merged pull request's merge commit is the last of its commits rebased onto
/// the base; the others lie below it, each with the first line and author time of one
/// of the pull request's own commits (rebasing keeps both, and gives new shas). Maps
/// those, walking the first parents down from the merge commit while they match and are
/// unmapped; a squash merge's commit matches none of its own. `own`: (first line,
/// author time) of each of its commits. Returns how many were mapped.
pub(super) fn map_rebased(
    graph: &Graph,
    commits: &mut [super::Commit],
    merge: usize,
    number: u64,
    own: &[(String, String)],
) -> usize {
    let at = |d: &str| chrono::DateTime::parse_from_rfc3339(d).ok();
    let same = |c: &super::Commit, (line, date): &(String, String)| {
        bounded(line, super::MAX_MESSAGE) == c.message
            && c.author.date.as_deref().and_then(at).is_some_and(|d| Some(d) == at(date))
    };
    let mut unused: Vec<&(String, String)> = own.iter().collect();
    if commits[merge].parents.len() != 1 {
        return 0;
    }
    match unused.iter().position(|u| same(&commits[merge], u)) {
        Some(k) => unused.remove(k),
        None => return 0,
    };
    let mut mapped = 0;
    let mut here = merge;
    while let Some(Some(parent)) = graph.parents[here].first().copied() {
        if commits[parent].pulls.is_some() {
            break;
        }
        let Some(k) = unused.iter().position(|u| same(&commits[parent], u)) else { break };
        unused.remove(k);
        commits[parent].pulls = Some(vec![number]);
        mapped += 1;
        here = parent;
    }
    mapped
}

/// (first line, author time) of a pull request's own commits, as GraphQL listed them.
fn own_commits(p: &GqlPull) -> Vec<(String, String)> {
    p.commits
        .iter()
        .flat_map(|c| c.nodes.iter().flatten())
        .filter_map(|c| Some((c.commit.message_headline.clone(), c.commit.authored_date.clone()?)))
        .collect()
}

/// The associated pull requests of the commits not yet mapped (merge commits first,
/// newest first), 100 commits a query. A commit GraphQL answered for is mapped (to no
/// pull request: a direct push); the rest are left to the REST lookups. Pull requests
/// found here that were not listed get their reviews through REST, as the lookups do.
pub(super) async fn look_up(
    api: &Api<'_>,
    points: &mut Points,
    complete: bool,
    graph: &Graph,
    trail: &mut Trail,
    mapped: &mut Mapped,
) -> Result<Vec<u64>> {
    let commits = &trail.commits;
    let mut order: Vec<usize> = (0..commits.len()).rev().filter(|i| commits[*i].parents.len() > 1).collect();
    order.extend((0..commits.len()).rev().filter(|i| commits[*i].parents.len() <= 1));
    let mut new_pulls = Vec::new();
    let mut pending: Vec<usize> = Vec::new();
    for i in order {
        if trail.commits[i].pulls.is_some() || !trail.node_ids.contains_key(&trail.commits[i].sha) {
            continue;
        }
        pending.push(i);
        if pending.len() == COMMITS_PER_QUERY {
            if !look_up_batch(api, points, complete, graph, trail, mapped, &pending, &mut new_pulls).await? {
                return Ok(new_pulls);
            }
            pending.clear();
        }
    }
    if !pending.is_empty() {
        look_up_batch(api, points, complete, graph, trail, mapped, &pending, &mut new_pulls).await?;
    }
    Ok(new_pulls)
}

/// One [`COMMIT_PULLS`] query; `false` when GraphQL stopped (budget or refusal).
#[allow(clippy::too_many_arguments)]
async fn look_up_batch(
    api: &Api<'_>,
    points: &mut Points,
    complete: bool,
    graph: &Graph,
    trail: &mut Trail,
    mapped: &mut Mapped,
    batch: &[usize],
    new_pulls: &mut Vec<u64>,
) -> Result<bool> {
    // Earlier answers of this batch's queries may have mapped some through a merge commit.
    let ids: Vec<&String> = batch
        .iter()
        .filter(|i| trail.commits[**i].pulls.is_none())
        .filter_map(|i| trail.node_ids.get(&trail.commits[*i].sha))
        .collect();
    if ids.is_empty() {
        return Ok(true);
    }
    if !points.admit(COMMITS_QUERY_COST) {
        return Ok(false);
    }
    let what = format!("pull requests of {} commits (GraphQL)", ids.len());
    let data = match graphql::query::<CommitsData>(api.rest, COMMIT_PULLS, json!({"ids": ids}), MAX_PAGE_BYTES, &what)
        .await?
    {
        Outcome::Done { data, rate } => {
            points.record(COMMITS_QUERY_COST, rate);
            data
        }
        Outcome::Refused { why, .. } => {
            points.refused(why);
            return Ok(false);
        }
        Outcome::TooLarge => {
            points.refused(super::too_large());
            return Ok(false);
        }
    };
    let mut found: BTreeMap<String, Vec<GqlPull>> = BTreeMap::new();
    for node in data.nodes.into_iter().flatten() {
        let (Some(oid), Some(prs)) = (node.oid, node.associated_pull_requests) else { continue };
        found.insert(oid, prs.nodes.into_iter().flatten().collect());
    }
    for (sha, prs) in found {
        let Some(&i) = graph.index.get(&sha) else { continue };
        mapped.looked_up += 1;
        // As the REST lookups: only a pull request merged into this release covers it.
        let merged: Vec<GqlPull> = prs
            .into_iter()
            .filter(|p| p.merged_at.is_some())
            .filter(|p| !complete || p.merge_commit.as_ref().is_some_and(|m| graph.index.contains_key(&m.oid)))
            .filter(|p| graph.brought_in(i, p.merge_commit.as_ref().map(|m| m.oid.as_str()), &p.head_ref_oid))
            .collect();
        let numbers: Vec<u64> = merged.iter().map(|p| p.number).collect();
        let merged_heads: Vec<&str> = merged
            .iter()
            .filter(|p| p.merge_commit.as_ref().is_some_and(|m| m.oid == sha))
            .map(|p| p.head_ref_oid.as_str())
            .collect();
        mapped.by_branch += graph.assign(&mut trail.commits, i, &numbers, &merged_heads);
        for p in merged {
            if let std::collections::btree_map::Entry::Vacant(e) = trail.pulls.entry(p.number) {
                new_pulls.push(p.number);
                e.insert(pull_from(p));
            }
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_release_branch_of_a_version() {
        assert_eq!(release_branch("1.2.3").as_deref(), Some("release-1.2"));
        assert_eq!(release_branch("v10.0.1-rc.1").as_deref(), Some("release-10.0"));
        assert_eq!(release_branch("latest"), None);
        assert_eq!(release_branch("1"), None);
    }

    #[test]
    fn never_more_than_half_of_what_remains_whatever_the_configured_maximum() {
        let mut p = Points::new(500);
        assert!(p.admit(2));
        // GitHub said 100 remained after a query that cost 2: 102 before it, 51 ours.
        p.record(2, Some(RateLimit { cost: 2, remaining: 100 }));
        assert_eq!((p.spent, p.cap), (2, 51));
        while p.admit(2) {
            p.record(2, Some(RateLimit { cost: 2, remaining: 100 - p.spent }));
        }
        assert!(p.spent <= 51 && p.exhausted, "{}", p.spent);
        assert!(p.stopped.as_deref().unwrap().contains("half of the"), "{:?}", p.stopped);
    }

    fn commit(sha: char, parent: Option<char>, message: &str, date: &str) -> super::super::Commit {
        let person = crate::evidence::changes::Person {
            name: "alice".into(),
            email: None,
            login: Some("alice".into()),
            date: Some(date.into()),
        };
        super::super::Commit {
            sha: sha.to_string().repeat(40),
            message: message.into(),
            author: person.clone(),
            committer: person,
            parents: parent.map(|p| p.to_string().repeat(40)).into_iter().collect(),
            verification: crate::evidence::changes::Signature { verified: true, reason: "valid".into() },
            pulls: None,
            pulls_note: None,
            review: None,
        }
    }

    #[test]
    fn a_rebase_merge_maps_the_commits_rebased_below_it_and_a_squash_merge_none() {
        let own =
            |lines: &[(&str, &str)]| lines.iter().map(|(l, d)| (l.to_string(), d.to_string())).collect::<Vec<_>>();
        // 0 (a direct push) → 1, 2, 3 (#7 rebased: its three commits) → 4 (#8 squashed).
        let mut commits = vec![
            commit('0', None, "hotfix", "2026-01-01T00:00:00Z"),
            commit('1', Some('0'), "part 1", "2026-01-02T00:00:00Z"),
            commit('2', Some('1'), "part 2", "2026-01-02T01:00:00+01:00"),
            commit('3', Some('2'), "part 3", "2026-01-02T02:00:00Z"),
            commit('4', Some('3'), "Squashed (#8)", "2026-01-03T00:00:00Z"),
        ];
        let graph = Graph::of(&commits);
        let rebased = own(&[
            ("part 1", "2026-01-02T00:00:00Z"),
            ("part 2", "2026-01-02T00:00:00Z"),
            ("part 3", "2026-01-02T02:00:00Z"),
        ]);
        assert_eq!(map_rebased(&graph, &mut commits, 3, 7, &rebased), 2, "the same instant, however written");
        assert_eq!(commits[1].pulls, Some(vec![7]));
        assert_eq!(commits[2].pulls, Some(vec![7]));
        assert_eq!(commits[0].pulls, None, "the direct push below is no commit of #7");
        let squashed = own(&[("wip", "2026-01-02T12:00:00Z"), ("Squashed", "2026-01-03T00:00:00Z")]);
        assert_eq!(map_rebased(&graph, &mut commits, 4, 8, &squashed), 0);
        assert_eq!(commits[3].pulls, None, "mapped by its own merge commit, not here");
    }

    #[test]
    fn a_bot_is_named_as_rest_names_it() {
        let bot = actor(Some(Actor { login: "renovate".into(), typename: "Bot".into() })).unwrap();
        assert_eq!((bot.login.as_str(), bot.bot), ("renovate[bot]", true));
        let person = actor(Some(Actor { login: "bob".into(), typename: "User".into() })).unwrap();
        assert_eq!((person.login.as_str(), person.bot), ("bob", false));
    }
}
