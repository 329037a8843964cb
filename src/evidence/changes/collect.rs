//! Reads the change trail from GitHub through the one REST client ([`Rest::send`]), in
//! an order that keeps the cheap, decisive facts safe when the request budget runs out:
//!
//! 1. the run's environment approvals (one request);
//! 2. the previous release: the `previous-release` input, or the highest lower version
//!    among published releases and version tags (`/releases`, `/tags`, every page up
//!    to 10 pages each);
//! 3. the range: `/compare/{base}...{head}`, every page (100 commits each);
//! 4. per commit its merged pull requests (`/commits/{sha}/pulls`) — merge commits
//!    first, newest first, each mapping its whole merged branch without further
//!    requests — and for each new pull request its reviews (`/pulls/{n}/reviews`).
//! 5. last, as it decides no control: each pull request's merger (`/pulls/{n}`, the only
//!    answer naming it), newest first, with what the budget has left.
//!
//! Every request (retries included) is counted; when the budget is spent, the commits
//! not yet looked up are recorded as *not checked* with that reason — never as
//! reviewed. Refusals (403 without `pull-requests: read`, 404 for a deleted tag or
//! unrelated histories) become notes that the summary and the manifest show.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::review::{self, GHOST, short};
use super::{
    Approval, Approvals, ChangeEvidence, ChangeRecord, ChangeSettings, Commit, CommitRange, MAX_NAMED, NamedCommit,
    Person, PullRecord, PullRequest, Review, Signature, User, approval_control, review_control,
};
use crate::error::Result;
use crate::github::rest::{Answer, Refusal, Rest};

/// The largest range read (100 pages of the compare API); beyond it, a note.
const MAX_COMMITS: usize = 10_000;
const MAX_LIST_PAGES: u32 = 10;
/// Pages of closed pull requests read in bulk (100 each).
const MAX_PULL_PAGES: u32 = 50;
const MAX_TITLE: usize = 300;
const MAX_MESSAGE: usize = 200;
const MAX_LOGIN: usize = 100;

/// What one GET came back with.
enum Got<T> {
    Ok(T),
    Refused(Refusal),
    OverBudget,
}

/// The REST client with a request counter and a budget.
struct Api<'a> {
    rest: &'a Rest,
    used: AtomicU32,
    budget: u32,
}

impl Api<'_> {
    fn used(&self) -> u32 {
        self.used.load(Ordering::Relaxed)
    }

    fn left(&self) -> u32 {
        self.budget.saturating_sub(self.used())
    }

    async fn get<T: DeserializeOwned>(&self, route: &str, what: &str) -> Result<Got<T>> {
        if self.left() == 0 {
            return Ok(Got::OverBudget);
        }
        let url = self.rest.url(route);
        let answer = self
            .rest
            .send(what, |_| {
                self.used.fetch_add(1, Ordering::Relaxed);
                std::future::ready(Ok(self.rest.request(reqwest::Method::GET, &url)))
            })
            .await?;
        match answer {
            Answer::Done(r) => Ok(Got::Ok(Rest::json(r, what).await?)),
            Answer::Refused(r) => Ok(Got::Refused(r)),
        }
    }

    /// Every page of a list route (`route` ends with `?` or `&`), up to `max_pages`.
    async fn pages<T: DeserializeOwned>(&self, route: &str, max_pages: u32, what: &str) -> Result<Got<Vec<T>>> {
        let mut all = Vec::new();
        for page in 1..=max_pages {
            match self.get::<Vec<T>>(&format!("{route}per_page=100&page={page}"), what).await? {
                Got::Ok(items) => {
                    let n = items.len();
                    all.extend(items);
                    if n < 100 {
                        break;
                    }
                }
                Got::Refused(r) => return Ok(Got::Refused(r)),
                // A partial list could miss what decides (a later dismissal): none at all.
                Got::OverBudget => return Ok(Got::OverBudget),
            }
        }
        Ok(Got::Ok(all))
    }
}

// ---- GitHub's shapes (only the fields read; unknown fields ignored) ----

#[derive(Deserialize)]
struct GhUser {
    login: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct GhRelease {
    tag_name: String,
    #[serde(default)]
    draft: bool,
}

#[derive(Deserialize)]
struct GhTag {
    name: String,
}

#[derive(Deserialize)]
struct ShaOnly {
    sha: String,
}

#[derive(Deserialize)]
struct GhComparison {
    status: String,
    ahead_by: u64,
    behind_by: u64,
    total_commits: u64,
    base_commit: Option<GhCommit>,
    merge_base_commit: Option<GhCommit>,
    commits: Vec<GhCommit>,
}

#[derive(Deserialize)]
struct GhCommit {
    sha: String,
    commit: GhGitCommit,
    author: Option<GhUser>,
    committer: Option<GhUser>,
    #[serde(default)]
    parents: Vec<ShaOnly>,
}

#[derive(Deserialize)]
struct GhGitCommit {
    author: Option<GhPerson>,
    committer: Option<GhPerson>,
    #[serde(default)]
    message: String,
    verification: Option<GhVerification>,
}

#[derive(Deserialize)]
struct GhPerson {
    name: Option<String>,
    email: Option<String>,
    date: Option<String>,
}

#[derive(Deserialize)]
struct GhVerification {
    verified: bool,
    reason: String,
}

#[derive(Deserialize)]
struct GhPull {
    number: u64,
    #[serde(default)]
    title: String,
    user: Option<GhUser>,
    merged_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    merge_commit_sha: Option<String>,
    head: ShaOnly,
    html_url: Option<String>,
    /// Only in the single pull request's answer (`GET /pulls/{n}`), not in lists.
    #[serde(default)]
    merged_by: Option<GhUser>,
}

#[derive(Deserialize)]
struct GhReview {
    id: u64,
    user: Option<GhUser>,
    state: String,
    commit_id: Option<String>,
    submitted_at: Option<String>,
}

#[derive(Deserialize)]
struct GhEnvironment {
    name: Option<String>,
}

#[derive(Deserialize)]
struct GhApproval {
    state: String,
    user: Option<GhUser>,
    #[serde(default)]
    environments: Vec<GhEnvironment>,
    #[serde(default)]
    comment: Option<String>,
}

fn bounded(s: &str, max: usize) -> String {
    let one: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if one.chars().count() > max { format!("{}…", one.chars().take(max).collect::<String>()) } else { one }
}

fn is_sha(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn user(u: Option<GhUser>) -> Option<User> {
    u.map(|u| User {
        bot: u.kind.as_deref() == Some("Bot") || u.login.ends_with("[bot]"),
        login: bounded(&u.login, MAX_LOGIN),
    })
}

fn person(p: Option<GhPerson>, login: Option<&User>) -> Person {
    let p = p.unwrap_or(GhPerson { name: None, email: None, date: None });
    Person {
        name: bounded(p.name.as_deref().unwrap_or(""), MAX_LOGIN),
        email: p.email.map(|e| bounded(&e, MAX_LOGIN)),
        login: login.map(|u| u.login.clone()),
        date: p.date.map(|d| bounded(&d, 40)),
    }
}

/// Percent-encodes a ref for a URL path (tags may hold `#`, `%`, `&` …); `/` stays.
fn encode_ref(r: &str) -> String {
    let mut out = String::new();
    for b in r.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Collects the trail. Only a broken connection is an error; what GitHub refuses is
/// recorded as a note and leaves the affected controls not held.
pub async fn collect(settings: &ChangeSettings, rest: &Rest) -> Result<ChangeRecord> {
    let api = Api { rest, used: AtomicU32::new(0), budget: settings.request_budget };
    let mut notes: Vec<String> = Vec::new();

    // 1. Approvals of the release run.
    let mut approvals = Approvals {
        run_id: settings.run_id,
        actor: settings.actor.clone(),
        triggering_actor: settings.triggering_actor.clone(),
        approvals: None,
        note: None,
    };
    match settings.run_id {
        None => approvals.note = Some("no run id (GITHUB_RUN_ID): not run as a workflow step".into()),
        Some(id) => match api
            .get::<Vec<GhApproval>>(&format!("actions/runs/{id}/approvals"), &format!("approvals of run {id}"))
            .await?
        {
            Got::Ok(list) => {
                approvals.approvals = Some(
                    list.into_iter()
                        .map(|a| Approval {
                            state: bounded(&a.state, 20),
                            user: user(a.user),
                            environments: a
                                .environments
                                .into_iter()
                                .filter_map(|e| e.name.map(|n| bounded(&n, MAX_LOGIN)))
                                .collect(),
                            comment: bounded(a.comment.as_deref().unwrap_or(""), MAX_TITLE),
                        })
                        .collect(),
                )
            }
            Got::Refused(r) => {
                approvals.note =
                    Some(format!("GitHub refused to list them ({}); the token needs `actions: read`", r.said()))
            }
            Got::OverBudget => approvals.note = Some("the request budget was spent".into()),
        },
    }

    // 2. The previous release.
    let (previous, found_by, previous_unknown) = match &settings.previous_release {
        Some(tag) => (Some(tag.clone()), "the `previous-release` input".to_string(), false),
        None => find_previous(&api, settings, &mut notes).await?,
    };

    let mut commits: Vec<Commit> = Vec::new();
    let mut pulls: BTreeMap<u64, PullRequest> = BTreeMap::new();
    let mut range = None;
    match &previous {
        None if previous_unknown => {}
        None => notes.push(format!("first release: no published release or version tag lower than `{}` exists, so there is no change set to review", settings.release_version)),
        Some(base) => {
            if let Some((r, list, since)) = compare(&api, settings, base, &mut notes).await? {
                let complete = super::range_read_whole(&r, list.len());
                range = Some(r);
                commits = list;
                map_pulls(&api, since, complete, &mut commits, &mut pulls, &mut notes).await?;
                read_mergers(&api, &mut pulls, &mut notes).await?;
            }
        }
    }

    // Classify and count.
    let plain: Vec<PullRequest> = pulls.values().cloned().collect();
    let (pull_status, statuses, counts) = review::classify_all(&commits, &plain);
    for (c, s) in commits.iter_mut().zip(statuses) {
        c.review = Some(s);
    }
    let unreviewed: Vec<NamedCommit> = commits
        .iter()
        .filter(|c| !c.review.as_ref().is_some_and(|r| r.is_reviewed()))
        .take(MAX_NAMED)
        .map(|c| NamedCommit {
            sha: c.sha.clone(),
            pulls: match &c.review {
                Some(super::CommitStatus::Unreviewed { pulls, .. }) => pulls.clone(),
                _ => Vec::new(),
            },
            why: c.review.as_ref().map(|r| r.describe()).unwrap_or_default(),
            merged_by: Vec::new(),
        })
        .map(|mut named| {
            for n in &named.pulls {
                if let Some(login) =
                    plain.iter().find(|p| p.number == *n).and_then(|p| p.merged_by.as_ref()).map(|u| u.login.clone())
                    && !named.merged_by.contains(&login)
                {
                    named.merged_by.push(login);
                }
            }
            named
        })
        .collect();
    if counts.unsigned > 0 {
        notes.push(format!(
            "{} of {} commits have no signature GitHub verified (their verification in changes/commits.json says why)",
            counts.unsigned, counts.commits
        ));
    }
    let reviewed_changes = review_control(
        settings.require_reviewed_changes,
        previous.is_none() && !previous_unknown,
        range.as_ref(),
        &counts,
        &unreviewed,
    );
    let release_approval = approval_control(settings.require_release_approval, &approvals);
    let pulls: Vec<PullRecord> =
        plain.into_iter().map(|p| PullRecord { review: pull_status[&p.number].clone(), pull: p }).collect();
    log::info!(
        "change trail: {} commits, {} pull requests, {} reviewed, {} REST requests",
        counts.commits,
        counts.pull_requests,
        counts.reviewed,
        api.used()
    );
    let evidence = ChangeEvidence {
        repository_url: settings.repository_url.clone(),
        previous_release: previous,
        previous_found_by: found_by,
        previous_release_unknown: previous_unknown,
        range,
        counts,
        reviewed_changes,
        release_approval,
        unreviewed,
        requests: api.used() as u64,
        request_budget: settings.request_budget as u64,
        notes,
    };
    Ok(ChangeRecord { evidence, commits, pulls, approvals })
}

/// The previous release: the highest version below this one among published releases
/// and tags. Every published release has a tag, so a complete tag list decides; when the
/// tags cannot all be read (refused, rate limit, budget, more than 1,000) and none is
/// found, the answer is *unknown* — never "first release".
async fn find_previous(
    api: &Api<'_>,
    settings: &ChangeSettings,
    notes: &mut Vec<String>,
) -> Result<(Option<String>, String, bool)> {
    let cap = 100 * MAX_LIST_PAGES as usize;
    let releases: Vec<String> = match api.pages::<GhRelease>("releases?", MAX_LIST_PAGES, "releases").await? {
        Got::Ok(list) => list.into_iter().filter(|r| !r.draft).map(|r| r.tag_name).collect(),
        Got::Refused(r) => {
            notes.push(format!("the releases could not be listed ({}); only version tags were considered", r.said()));
            Vec::new()
        }
        Got::OverBudget => Vec::new(),
    };
    let (tags, tags_missing): (Vec<String>, Option<String>) =
        match api.pages::<GhTag>("tags?", MAX_LIST_PAGES, "tags").await? {
            Got::Ok(list) if list.len() >= cap => (
                list.into_iter().map(|t| t.name).collect(),
                Some(format!("the repository has more than {cap} tags and only the first {cap} were read")),
            ),
            Got::Ok(list) => (list.into_iter().map(|t| t.name).collect(), None),
            Got::Refused(r) => (Vec::new(), Some(format!("the tags could not be listed ({})", r.said()))),
            Got::OverBudget => (
                Vec::new(),
                Some(format!("the request budget ({} requests) was spent before the tags were listed", api.budget)),
            ),
        };
    let found = review::previous_release(&settings.release_version, releases.iter().chain(&tags).map(String::as_str))
        .map(str::to_string);
    let how = match &found {
        Some(t) if releases.contains(t) => {
            format!("the newest published release below `{}` by semantic version", settings.release_version)
        }
        Some(_) => format!("the newest version tag below `{}` by semantic version", settings.release_version),
        None => "none found".to_string(),
    };
    match (found, tags_missing) {
        (Some(t), Some(why)) => {
            notes.push(format!("`{t}` was taken as the previous release, but {why}: a newer one may have been missed; name it with the `previous-release` input to be sure"));
            Ok((Some(t), how, false))
        }
        (None, Some(why)) => {
            notes.push(format!(
                "the previous release could not be determined: {why}, and no release below `{}` was found among what was read; the change set is unknown (not a first release). Name it with the `previous-release` input",
                settings.release_version
            ));
            Ok((None, format!("could not be determined: {why}"), true))
        }
        (found, None) => Ok((found, how, false)),
    }
}

/// The range from the previous release to the released commit, with the time its
/// merge base was committed (pull requests merged into the range were updated after it).
type Compared = (CommitRange, Vec<Commit>, Option<chrono::DateTime<chrono::FixedOffset>>);

async fn compare(
    api: &Api<'_>,
    settings: &ChangeSettings,
    base: &str,
    notes: &mut Vec<String>,
) -> Result<Option<Compared>> {
    let head = &settings.head_sha;
    let mut since = None;
    let what = format!("comparison {base}...{}", short(head));
    let mut commits: Vec<Commit> = Vec::new();
    let mut range: Option<CommitRange> = None;
    let mut total = 0usize;
    let mut page = 1;
    loop {
        let route = format!("compare/{}...{}?per_page=100&page={page}", encode_ref(base), encode_ref(head));
        let cmp: GhComparison = match api.get(&route, &what).await? {
            Got::Ok(c) => c,
            Got::Refused(r) if r.status == 404 => {
                let why = if r.message.contains("No common ancestor") {
                    "the two histories share no commit (unrelated histories, or the release branch was rewritten)"
                } else {
                    "the tag may have been deleted, or the previous release's history was force-pushed away"
                };
                notes.push(format!(
                    "the previous release `{base}` cannot be compared with the released commit {}: {}; {why}",
                    short(head),
                    r.said()
                ));
                return Ok(None);
            }
            Got::Refused(r) => {
                let hint = if r.is_rate_limit() {
                    "wait for the rate limit to reset"
                } else if matches!(r.status, 401 | 403) {
                    "the token needs `contents: read`"
                } else {
                    "GitHub did not answer it; run the audit again"
                };
                notes.push(format!("the range {base}...{} could not be read ({}); {hint}", short(head), r.said()));
                return Ok(None);
            }
            Got::OverBudget => {
                notes.push(format!(
                    "the request budget ({}) was spent while reading the range; {} of {total} commits were read",
                    api.budget,
                    commits.len()
                ));
                break;
            }
        };
        if range.is_none() {
            total = cmp.total_commits as usize;
            let r = CommitRange {
                base: base.to_string(),
                base_sha: cmp.base_commit.as_ref().map(|c| c.sha.clone()).filter(|s| is_sha(s)),
                head_sha: head.clone(),
                merge_base_sha: cmp.merge_base_commit.as_ref().map(|c| c.sha.clone()).filter(|s| is_sha(s)),
                status: bounded(&cmp.status, 20),
                ahead_by: cmp.ahead_by,
                behind_by: cmp.behind_by,
            };
            match r.status.as_str() {
                "ahead" => {}
                "diverged" => notes.push(format!(
                    "the history is not linear: the previous release `{base}` is not an ancestor of the released commit (force-push, or a release from another branch). The change set is counted from their merge base {}: {} commits ahead; {} commits of `{base}` are not in this release",
                    r.merge_base_sha.as_deref().map(short).unwrap_or("(unknown)"),
                    r.ahead_by,
                    r.behind_by
                )),
                "identical" => notes.push(format!("the released commit is the previous release `{base}` itself: no changes")),
                "behind" => notes.push(format!("the released commit is older than the previous release `{base}` ({} commits behind): no new changes", r.behind_by)),
                other => notes.push(format!("GitHub gave the comparison status `{other}`")),
            }
            range = Some(r);
            since = cmp
                .merge_base_commit
                .iter()
                .chain(&cmp.base_commit)
                .filter_map(|c| c.commit.committer.as_ref().and_then(|p| p.date.as_deref()))
                .filter_map(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
                .min();
        }
        let n = cmp.commits.len();
        for c in cmp.commits {
            if !is_sha(&c.sha) {
                continue;
            }
            let author = user(c.author);
            let committer = user(c.committer);
            let message = c.commit.message.lines().next().unwrap_or("");
            commits.push(Commit {
                sha: c.sha,
                message: bounded(message, MAX_MESSAGE),
                author: person(c.commit.author, author.as_ref()),
                committer: person(c.commit.committer, committer.as_ref()),
                parents: c.parents.into_iter().map(|p| p.sha).filter(|s| is_sha(s)).collect(),
                verification: c
                    .commit
                    .verification
                    .map(|v| Signature { verified: v.verified, reason: bounded(&v.reason, 40) })
                    .unwrap_or(Signature { verified: false, reason: "unknown".into() }),
                pulls: None,
                pulls_note: None,
                review: None,
            });
        }
        if n == 0 || commits.len() >= total {
            break;
        }
        if commits.len() >= MAX_COMMITS || page >= (MAX_COMMITS / 100) as u32 {
            notes.push(format!("the range holds {total} commits; only the first {MAX_COMMITS} were read"));
            break;
        }
        page += 1;
    }
    Ok(range.map(|r| (r, commits, since)))
}

/// Why the remaining commits or pull requests go unread.
struct Stopped {
    lookups: Option<String>,
    reviews: Option<String>,
}

/// A refusal that stops every further read of its kind, said with what to do: a rate
/// limit (primary, or a secondary limit GitHub answers with 403 or 429) or a token
/// without the permission. Anything else (a 5xx after retries) concerns one read only.
fn refusal_reason(r: &Refusal, what: &str) -> Option<String> {
    if r.is_rate_limit() {
        Some(format!("the API rate limit was exhausted ({})", r.said()))
    } else if matches!(r.status, 401 | 403) {
        Some(format!("the token cannot read {what} ({}); give the job `permissions: pull-requests: read`", r.said()))
    } else {
        None
    }
}

fn pull_from(p: GhPull) -> PullRequest {
    PullRequest {
        number: p.number,
        title: bounded(&p.title, MAX_TITLE),
        author: user(p.user),
        merged_at: p.merged_at.map(|d| bounded(&d, 40)),
        merge_commit_sha: p.merge_commit_sha.filter(|s| is_sha(s)),
        head_sha: p.head.sha,
        url: p.html_url.filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        reviews: None,
        reviews_note: None,
        merged_by: user(p.merged_by),
        merged_by_note: None,
    }
}

/// The commit graph of the range, to map whole merged branches at once.
struct Graph {
    /// Each commit's parents in order, by index (`None`: outside the range).
    parents: Vec<Vec<Option<usize>>>,
    index: BTreeMap<String, usize>,
}

impl Graph {
    /// Gives commit `i` its pull requests; a merge commit that landed one of them also
    /// gives them to every commit of its merged branch. Returns how many branch
    /// commits were mapped that way.
    fn assign(&self, commits: &mut [Commit], i: usize, numbers: &[u64], merged_here: bool) -> usize {
        let mut mapped = 0;
        match &mut commits[i].pulls {
            Some(list) => list.extend(numbers.iter().filter(|n| !list.contains(n)).copied().collect::<Vec<_>>()),
            None => commits[i].pulls = Some(numbers.to_vec()),
        }
        if merged_here && commits[i].parents.len() > 1 {
            for j in review::merged_branch(i, &self.parents) {
                if commits[j].pulls.is_none() {
                    commits[j].pulls = Some(numbers.to_vec());
                    mapped += 1;
                }
            }
        }
        mapped
    }
}

async fn read_reviews(
    api: &Api<'_>,
    pull: &mut PullRequest,
    stopped: &mut Stopped,
    notes: &mut Vec<String>,
) -> Result<()> {
    if let Some(why) = &stopped.reviews {
        pull.reviews_note = Some(why.clone());
        return Ok(());
    }
    let n = pull.number;
    match api
        .pages::<GhReview>(&format!("pulls/{n}/reviews?"), MAX_LIST_PAGES, &format!("reviews of pull request #{n}"))
        .await?
    {
        Got::Ok(list) if list.len() >= 100 * MAX_LIST_PAGES as usize => {
            pull.reviews_note =
                Some(format!("it has more than {} reviews; they were not classified", 100 * MAX_LIST_PAGES));
        }
        Got::Ok(list) => {
            pull.reviews = Some(
                list.into_iter()
                    .map(|r| Review {
                        id: r.id,
                        reviewer: user(r.user).or(Some(User { login: GHOST.into(), bot: false })),
                        state: bounded(&r.state, 20),
                        commit_id: r.commit_id.filter(|s| is_sha(s)),
                        submitted_at: r.submitted_at.map(|d| bounded(&d, 40)),
                    })
                    .collect(),
            )
        }
        Got::Refused(r) => match refusal_reason(&r, "reviews") {
            Some(why) => {
                notes.push(format!("review status unknown for every pull request from #{n} on: {why}"));
                pull.reviews_note = Some(why.clone());
                stopped.reviews = Some(why);
            }
            None => pull.reviews_note = Some(format!("the reviews could not be read ({})", r.said())),
        },
        Got::OverBudget => {
            let why = format!("the request budget ({} requests) was spent before its reviews were read", api.budget);
            pull.reviews_note = Some(why.clone());
            stopped.reviews = Some(why);
        }
    }
    Ok(())
}

/// The merger of each pull request. Only the single pull request's answer names it
/// (`GET /pulls/{n}`), so it costs one request each; it decides no control, so it is
/// read last, newest pull request first, with what the budget has left — the rest are
/// recorded as not read, with the reason, and one note counts them.
async fn read_mergers(api: &Api<'_>, pulls: &mut BTreeMap<u64, PullRequest>, notes: &mut Vec<String>) -> Result<()> {
    let total = pulls.len();
    let mut stopped: Option<String> = None;
    let mut cut = 0usize;
    for pull in pulls.values_mut().rev() {
        if pull.merged_by.is_some() {
            continue;
        }
        if let Some(why) = &stopped {
            pull.merged_by_note = Some(why.clone());
            cut += 1;
            continue;
        }
        let n = pull.number;
        match api.get::<GhPull>(&format!("pulls/{n}"), &format!("pull request #{n}")).await? {
            Got::Ok(p) => match user(p.merged_by) {
                Some(u) => pull.merged_by = Some(u),
                None => pull.merged_by_note = Some("GitHub names no merger for it".into()),
            },
            Got::Refused(r) => match refusal_reason(&r, "pull requests") {
                Some(why) => {
                    pull.merged_by_note = Some(why.clone());
                    stopped = Some(why);
                    cut += 1;
                }
                None => pull.merged_by_note = Some(format!("it could not be read ({})", r.said())),
            },
            Got::OverBudget => {
                let why = format!(
                    "not read: the request budget ({} requests) was spent on the decisive reads first",
                    api.budget
                );
                pull.merged_by_note = Some(why.clone());
                stopped = Some(why);
                cut += 1;
            }
        }
    }
    if let Some(why) = stopped {
        notes.push(format!(
            "the merger of {cut} of {total} pull requests is not recorded ({why}); changes/pulls.json says which"
        ));
    }
    Ok(())
}

/// Maps the commits to their merged pull requests and reads each one's reviews:
/// first in bulk (closed pull requests, newest first, until they predate the range:
/// 100 per request, matched by merge commit), then one lookup per commit still
/// unmapped (merge commits first, newest first).
async fn map_pulls(
    api: &Api<'_>,
    since: Option<chrono::DateTime<chrono::FixedOffset>>,
    complete: bool,
    commits: &mut [Commit],
    pulls: &mut BTreeMap<u64, PullRequest>,
    notes: &mut Vec<String>,
) -> Result<()> {
    let index: BTreeMap<String, usize> = commits.iter().enumerate().map(|(i, c)| (c.sha.clone(), i)).collect();
    let parents = commits.iter().map(|c| c.parents.iter().map(|p| index.get(p).copied()).collect()).collect();
    let graph = Graph { parents, index };
    let mut stopped = Stopped { lookups: None, reviews: None };
    let mut mapped_by_branch = 0usize;

    // 1. In bulk: merged pull requests whose merge commit is in the range.
    let mut listed = 0usize;
    if let Some(since) = since {
        for page in 1..=MAX_PULL_PAGES {
            let route = format!("pulls?state=closed&sort=updated&direction=desc&per_page=100&page={page}");
            match api.get::<Vec<GhPull>>(&route, "closed pull requests").await? {
                Got::Ok(list) => {
                    let n = list.len();
                    let oldest = list
                        .iter()
                        .filter_map(|p| p.updated_at.as_deref())
                        .filter_map(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
                        .min();
                    for p in list.into_iter().filter(|p| p.merged_at.is_some()) {
                        let Some(&i) = p.merge_commit_sha.as_ref().and_then(|m| graph.index.get(m)) else { continue };
                        listed += 1;
                        mapped_by_branch += graph.assign(commits, i, &[p.number], true);
                        pulls.entry(p.number).or_insert_with(|| pull_from(p));
                    }
                    if n < 100 || oldest.is_some_and(|o| o < since) {
                        break;
                    }
                }
                Got::Refused(r) => {
                    if let Some(why) = refusal_reason(&r, "pull requests") {
                        notes.push(format!("review status unknown for the commits of this range: {why}"));
                        stopped.lookups = Some(why.clone());
                        stopped.reviews = Some(why);
                    }
                    break;
                }
                Got::OverBudget => break,
            }
        }
    }
    let numbers: Vec<u64> = pulls.keys().rev().copied().collect();
    for n in numbers {
        if let Some(pull) = pulls.get_mut(&n) {
            read_reviews(api, pull, &mut stopped, notes).await?;
        }
    }

    // 2. One lookup per commit still unmapped: merge commits first, newest first.
    let mut order: Vec<usize> = (0..commits.len()).rev().filter(|i| commits[*i].parents.len() > 1).collect();
    order.extend((0..commits.len()).rev().filter(|i| commits[*i].parents.len() <= 1));
    let mut looked_up = 0usize;
    for i in order {
        if commits[i].pulls.is_some() {
            continue;
        }
        if let Some(why) = &stopped.lookups {
            commits[i].pulls_note = Some(why.clone());
            continue;
        }
        let sha = commits[i].sha.clone();
        let found: Vec<GhPull> = match api
            .get(&format!("commits/{sha}/pulls?per_page=100"), &format!("pull requests of commit {}", short(&sha)))
            .await?
        {
            Got::Ok(list) => list,
            Got::Refused(r) => {
                match refusal_reason(&r, "pull requests") {
                    Some(why) => {
                        notes.push(format!("review status unknown for the commits not yet looked up: {why}"));
                        commits[i].pulls_note = Some(why.clone());
                        stopped.lookups = Some(why);
                    }
                    None => commits[i].pulls_note = Some(format!("its pull requests could not be read ({})", r.said())),
                }
                continue;
            }
            Got::OverBudget => {
                let why =
                    format!("the request budget ({} requests) was spent before this commit was looked up", api.budget);
                commits[i].pulls_note = Some(why.clone());
                stopped.lookups = Some(why);
                continue;
            }
        };
        looked_up += 1;
        // A pull request brought the commit into this release only if it was merged into
        // it: its merge commit is in the range (merge, squash and rebase alike). One
        // merged elsewhere (another base branch) does not cover the commit. When the
        // range was not read whole, a merge commit may lie beyond what was read.
        let merged: Vec<GhPull> = found
            .into_iter()
            .filter(|p| p.merged_at.is_some())
            .filter(|p| !complete || p.merge_commit_sha.as_ref().is_some_and(|m| graph.index.contains_key(m)))
            .collect();
        let numbers: Vec<u64> = merged.iter().map(|p| p.number).collect();
        let merged_here = merged.iter().any(|p| p.merge_commit_sha.as_deref() == Some(sha.as_str()));
        mapped_by_branch += graph.assign(commits, i, &numbers, merged_here);
        for p in merged {
            if pulls.contains_key(&p.number) {
                continue;
            }
            let mut pull = pull_from(p);
            read_reviews(api, &mut pull, &mut stopped, notes).await?;
            pulls.insert(pull.number, pull);
        }
    }
    let cut = commits.iter().filter(|c| c.pulls.is_none()).count();
    let unread = pulls.values().filter(|p| p.reviews.is_none()).count();
    log::info!(
        "pull requests: {listed} matched in bulk, {looked_up} commits looked up one by one, {mapped_by_branch} mapped through merge commits"
    );
    if cut + unread > 0 && stopped.lookups.iter().chain(&stopped.reviews).any(|w| w.contains("budget")) {
        let need = cut + unread;
        let mut what = Vec::new();
        if cut > 0 {
            what.push(format!("{cut} of {} commits were not looked up", commits.len()));
        }
        if unread > 0 {
            what.push(format!("the reviews of {unread} of {} pull requests were not read", pulls.len()));
        }
        notes.push(format!(
            "the request budget ({} requests, to stay within the job token's 1,000 requests per hour) ran out: {}; their commits count as not checked. About {need} more requests would be needed (a token with a higher limit, or a smaller range, covers them)",
            api.budget,
            what.join(" and ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_encoded_for_the_path() {
        assert_eq!(encode_ref("v1.2.3"), "v1.2.3");
        assert_eq!(encode_ref("rel/1#2 %"), "rel/1%232%20%25");
    }

    #[test]
    fn text_from_github_is_bounded_and_on_one_line() {
        assert_eq!(bounded("a\nb", 10), "a b");
        assert_eq!(bounded(&"x".repeat(20), 5), "xxxxx…");
        assert!(is_sha(&"a".repeat(40)) && !is_sha("abc") && !is_sha(&"g".repeat(40)));
    }
}
