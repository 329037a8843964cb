//! Reads the change trail from GitHub through the one REST client ([`Rest::send`]) and,
//! for the pull requests, in bulk through GraphQL on the same transport ([`bulk`]), in
//! an order that keeps the cheap, decisive facts safe when a budget runs out:
//!
//! 1. the run's environment approvals (one request);
//! 2. the previous release: the `previous-release` input, or the newest published
//!    release below this version that is a strict ancestor of the released commit
//!    (version tags only when no published release below it exists; see
//!    [`super::previous`]): `/releases`, `/tags` (up to 10 pages each), one
//!    `/compare` per candidate;
//! 3. the range: `/compare/{base}...{head}`, every page (100 commits each);
//! 4. the merged pull requests, in bulk through GraphQL ([`bulk`]: by base branch, with
//!    reviews, commits and merger; then the associated pull requests of the commits
//!    still unmapped). Where GraphQL is refused or its budget spent, through REST: closed
//!    pull requests in bulk, then per commit its merged pull requests
//!    (`/commits/{sha}/pulls`) — merge commits first, newest first, each mapping its
//!    whole merged branch without further requests — and for each new pull request its
//!    reviews (`/pulls/{n}/reviews`) and, when an approval would count, who wrote its
//!    commits (`/pulls/{n}/commits`); the same for what one GraphQL page cannot hold.
//! 5. last, as it decides no control: the merger of each pull request GraphQL did not
//!    read (`/pulls/{n}`, the only REST answer naming it), newest first, with what the
//!    budget has left.
//!
//! Every request (retries included) is counted, and every GraphQL point; neither budget
//! takes more than half of what GitHub says remains. When the budget is spent, the commits
//! not yet looked up are recorded as *not checked* with that reason — never as
//! reviewed. Refusals (403 without `pull-requests: read`, 404 for a deleted tag or
//! unrelated histories) become notes that the summary and the manifest show.
//!
//! Bounds: the stage ends by the audit's deadline, and every request by it and by
//! the request limit (`Limits::api_request`, body included), naming the host. An answer is read up to
//! [`MAX_PAGE_BYTES`]: a longer page of the range is asked for again in smaller pages,
//! and a single commit longer than that cuts the range there (said; the review control
//! then does not hold) — never a failed audit. What is kept is bounded per field.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use super::previous::{self, Candidate, Comparison, Listing, PreviousMethod, PreviousOutcome, PreviousRelease, Source};
use super::review::{self, GHOST, short};
use super::{
    Approval, Approvals, ChangeEvidence, ChangeRecord, ChangeSettings, Commit, CommitRange, Person, PullRecord,
    PullRequest, Review, Signature, User, approval_control, review_control,
};
use crate::error::Refusal;
use crate::error::{Error, Result};
use crate::github::rest::{Answer, Page, Rest};
use crate::github::wire::{
    GhApproval, GhCommit, GhComparison, GhPerson, GhPull, GhPullCommit, GhRelease, GhReview, GhTag, GhUser,
};

#[path = "bulk.rs"]
pub mod bulk;

/// The largest range read (100 pages of the compare API); beyond it, a note.
const MAX_COMMITS: usize = 10_000;
const MAX_LIST_PAGES: u32 = 10;
/// Pages of closed pull requests read in bulk (100 each).
const MAX_PULL_PAGES: u32 = 50;
const MAX_TITLE: usize = 300;
const MAX_MESSAGE: usize = 200;
const MAX_LOGIN: usize = 100;
const MAX_TAG: usize = 250;
/// The most bytes of one answer read (a page of the range with huge commit messages is
/// asked for again in smaller pages).
pub const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;
/// Page sizes of the range, each dividing the ones before it (so that the commits
/// already read stay a whole number of pages).
const PAGE_SIZES: [usize; 5] = [100, 50, 25, 5, 1];
/// GitHub lists at most this many commits of a pull request.
const MAX_PULL_COMMITS: usize = 250;

/// What one GET came back with.
enum Got<T> {
    Ok(T),
    Refused(Refusal),
    OverBudget,
    /// The answer was longer than [`MAX_PAGE_BYTES`]; nothing of it kept.
    TooLarge,
}

fn too_large() -> String {
    format!("GitHub's answer was larger than {} MiB and was not read", MAX_PAGE_BYTES / (1024 * 1024))
}

/// The REST client with a request counter and a budget: the configured maximum, cut to
/// half of what GitHub says remains (`x-ratelimit-remaining`) as the answers say it.
struct Api<'a> {
    rest: &'a Rest,
    used: AtomicU32,
    /// The configured maximum.
    configured: u32,
    /// The most this stage may take (never above `configured`).
    cap: AtomicU32,
    /// What GitHub last said remained (`u64::MAX`: not said), and what it said first
    /// plus the requests made by then (what remained when the stage began).
    remaining: AtomicU64,
    first_remaining: AtomicU64,
}

impl Api<'_> {
    fn new(rest: &Rest, budget: u32) -> Api<'_> {
        Api {
            rest,
            used: AtomicU32::new(0),
            configured: budget,
            cap: AtomicU32::new(budget),
            remaining: AtomicU64::new(u64::MAX),
            first_remaining: AtomicU64::new(u64::MAX),
        }
    }

    fn used(&self) -> u32 {
        self.used.load(Ordering::Relaxed)
    }

    /// The most this stage may take now.
    fn budget(&self) -> u32 {
        self.cap.load(Ordering::Relaxed)
    }

    fn left(&self) -> u32 {
        self.budget().saturating_sub(self.used())
    }

    /// What GitHub last said remained of the REST rate limit.
    fn remaining(&self) -> Option<u64> {
        Some(self.remaining.load(Ordering::Relaxed)).filter(|r| *r != u64::MAX)
    }

    /// After an answer that says `remaining` are left (this request counted): the stage
    /// takes at most half of what remained before it.
    fn saw_remaining(&self, remaining: u64) {
        let before = self.used().saturating_sub(1) as u64;
        self.remaining.store(remaining, Ordering::Relaxed);
        let _ =
            self.first_remaining.compare_exchange(u64::MAX, remaining + before, Ordering::Relaxed, Ordering::Relaxed);
        let half = before + remaining.div_ceil(2);
        self.cap.fetch_min(u32::try_from(half).unwrap_or(u32::MAX), Ordering::Relaxed);
    }

    /// The budget as a person reads it: `800 requests`, or `50 requests, half of the 100
    /// GitHub said remained`.
    fn said(&self) -> String {
        let first = self.first_remaining.load(Ordering::Relaxed);
        if self.budget() < self.configured && first != u64::MAX {
            format!("{} requests, half of the {first} GitHub said remained", self.budget())
        } else {
            format!("{} requests", self.budget())
        }
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
        let said = match &answer {
            Answer::Done(r) => crate::github::rest::remaining(r.headers()),
            Answer::Refused(_) => None,
        };
        if let Some(remaining) = said {
            self.saw_remaining(remaining);
        }
        match answer {
            Answer::Done(r) => match self.rest.read_page(r, MAX_PAGE_BYTES, what).await? {
                Page::Read(v) => Ok(Got::Ok(v)),
                Page::TooLarge { .. } => Ok(Got::TooLarge),
            },
            Answer::Refused(r) => Ok(Got::Refused(r)),
        }
    }

    /// Every page of a list route (`route` ends with `?` or `&`), until `max_items`.
    /// A page longer than [`MAX_PAGE_BYTES`] (huge bodies) is asked for again in
    /// smaller pages; only a single item that long gives [`Got::TooLarge`].
    async fn pages<T: DeserializeOwned>(&self, route: &str, max_items: usize, what: &str) -> Result<Got<Vec<T>>> {
        let mut all = Vec::new();
        let mut size = 0;
        while all.len() < max_items {
            let per_page = PAGE_SIZES[size];
            let page = all.len() / per_page + 1;
            match self.get::<Vec<T>>(&format!("{route}per_page={per_page}&page={page}"), what).await? {
                Got::Ok(items) => {
                    let n = items.len();
                    all.extend(items);
                    if n < per_page {
                        break;
                    }
                }
                Got::TooLarge if size + 1 < PAGE_SIZES.len() => size += 1,
                Got::Refused(r) => return Ok(Got::Refused(r)),
                // A partial list could miss what decides (a later dismissal): none at all.
                Got::OverBudget => return Ok(Got::OverBudget),
                Got::TooLarge => return Ok(Got::TooLarge),
            }
        }
        Ok(Got::Ok(all))
    }
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
    crate::http::percent_encode(r, true)
}

/// Collects the trail within the audit's deadline (`settings.deadline`, or
/// `settings.timeout` from now). Only a broken connection or the deadline is an error;
/// what GitHub refuses is recorded as a note and leaves the affected controls not held.
pub async fn collect(settings: &ChangeSettings, rest: &Rest) -> Result<ChangeRecord> {
    let deadline = settings.deadline.unwrap_or_else(|| Instant::now() + settings.timeout);
    let rest = rest.bounded_by(deadline);
    let api = Api::new(&rest, settings.request_budget);
    // A second of grace: a request cut by the deadline ends with its own error, which
    // says what it was reading, rather than racing this one.
    let until = tokio::time::Instant::from_std(deadline + Duration::from_secs(1));
    match tokio::time::timeout_at(until, gather(settings, &api)).await {
        Ok(record) => record,
        Err(_) => Err(Error::service(
            format!("GitHub API {}", rest.host()),
            format!(
                "reading the change trail did not finish within the audit's `timeout` of {} s",
                settings.timeout.as_secs()
            ),
            format!("{} is slow or stalled; try again later, or raise the `timeout` input", rest.host()),
        )),
    }
}

/// The commits and pull requests of the range as they were read.
#[derive(Default)]
struct Trail {
    commits: Vec<Commit>,
    pulls: BTreeMap<u64, PullRequest>,
    /// Each commit's GraphQL node id, where the comparison gave one.
    node_ids: BTreeMap<String, String>,
    /// What the GraphQL reads spent (`None`: none were made).
    points: Option<bulk::Points>,
}

async fn gather(settings: &ChangeSettings, api: &Api<'_>) -> Result<ChangeRecord> {
    let mut notes: Vec<String> = Vec::new();
    let approvals = read_approvals(api, settings).await?;
    let mut previous = find_previous(api, settings, &mut notes).await?;
    let outcome = previous::judge_previous(&previous);
    let mut trail = Trail::default();
    match &outcome.release {
        None if outcome.unknown => notes.push(format!(
            "the previous release {}; the change set is unknown (not a first release). Name it with the `previous-release` input",
            outcome.found_by
        )),
        None => notes.push(format!(
            "first release: no published release or version tag lower than `{}` exists, so there is no change set to review",
            settings.release_version
        )),
        Some(base) => {
            if let Some(read) = compare(api, settings, base, &mut notes).await? {
                let complete = super::range_read_whole(&read.range, read.commits.len());
                previous.range = Some(read.range);
                trail.commits = read.commits;
                trail.node_ids = read.node_ids;
                map_pulls(api, settings, read.since, complete, &mut trail, &mut notes).await?;
                read_mergers(api, &mut trail.pulls, &mut notes).await?;
            }
        }
    }
    Ok(finish(settings, api, approvals, previous, &outcome, trail, notes))
}

/// The release run's environment approvals (one request).
async fn read_approvals(api: &Api<'_>, settings: &ChangeSettings) -> Result<Approvals> {
    let mut approvals = Approvals {
        run_id: settings.run_id,
        actor: settings.actor.clone(),
        triggering_actor: settings.triggering_actor.clone(),
        approvals: None,
        note: None,
        counted_environments: settings.release_approval_environments.clone(),
    };
    let Some(id) = settings.run_id else {
        approvals.note = Some("no run id (GITHUB_RUN_ID): not run as a workflow step".into());
        return Ok(approvals);
    };
    let route = format!("actions/runs/{id}/approvals");
    match api.get::<Vec<GhApproval>>(&route, &format!("approvals of run {id}")).await? {
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
        Got::TooLarge => approvals.note = Some(too_large()),
    }
    Ok(approvals)
}

/// Classifies and counts what was read, and builds the record.
fn finish(
    settings: &ChangeSettings,
    api: &Api<'_>,
    approvals: Approvals,
    previous: PreviousRelease,
    outcome: &PreviousOutcome,
    trail: Trail,
    mut notes: Vec<String>,
) -> ChangeRecord {
    let Trail { mut commits, pulls, points, .. } = trail;
    let plain: Vec<PullRequest> = pulls.into_values().collect();
    let (pull_status, statuses, counts) = review::classify_all(&commits, &plain);
    for (c, s) in commits.iter_mut().zip(statuses) {
        c.review = Some(s);
    }
    let unreviewed = super::name_unreviewed(&commits, &plain.iter().collect::<Vec<_>>());
    if counts.unsigned > 0 {
        notes.push(format!(
            "{} of {} commits have no signature GitHub verified (their verification in changes/commits.json says why)",
            counts.unsigned, counts.commits
        ));
    }
    let range = previous.range.clone();
    let reviewed_changes = review_control(
        settings.require_reviewed_changes,
        outcome.is_first_release(),
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
        previous_release: outcome.release.clone(),
        previous_found_by: outcome.found_by.clone(),
        previous_release_unknown: outcome.unknown,
        range,
        counts,
        reviewed_changes,
        release_approval,
        unreviewed,
        requests: api.used() as u64,
        request_budget: api.budget() as u64,
        rest_remaining: api.remaining(),
        graphql: points.map(|p| super::GraphqlSpent {
            points: p.spent,
            budget: p.cap,
            remaining: p.remaining,
            stopped: p.stopped,
        }),
        notes,
    };
    ChangeRecord { evidence, commits, pulls, approvals, previous }
}

/// A list of releases or tags, read whole (up to 10 pages) or said why not.
async fn listing<T: DeserializeOwned>(
    api: &Api<'_>,
    route: &str,
    what: &str,
    names: impl Fn(T) -> Option<(String, bool)>,
) -> Result<Listing> {
    let cap = 100 * MAX_LIST_PAGES as usize;
    let (items, complete, note) = match api.pages::<T>(route, cap, what).await? {
        Got::Ok(list) if list.len() >= cap => {
            (list, false, Some(format!("the repository has more than {cap} {what} and only the first {cap} were read")))
        }
        Got::Ok(list) => (list, true, None),
        Got::Refused(r) => (Vec::new(), false, Some(format!("the {what} could not be listed ({})", r.said()))),
        Got::OverBudget => (
            Vec::new(),
            false,
            Some(format!("the request budget ({}) was spent before the {what} were listed", api.said())),
        ),
        Got::TooLarge => (Vec::new(), false, Some(format!("the {what} could not be listed: {}", too_large()))),
    };
    let mut out = Listing { complete, note, ..Default::default() };
    for (name, pre) in items.into_iter().filter_map(names) {
        let name = bounded(&name, MAX_TAG);
        if review::Version::parse(&name).is_some() && !out.names.contains(&name) {
            if pre {
                out.prereleases.push(name.clone());
            }
            out.names.push(name);
        }
    }
    Ok(out)
}

/// The previous release: the input, or the search of [`super::previous`] — published
/// releases first, tags only without one, each candidate compared with the released
/// commit until one is a strict ancestor.
async fn find_previous(api: &Api<'_>, settings: &ChangeSettings, notes: &mut Vec<String>) -> Result<PreviousRelease> {
    let mut record = PreviousRelease {
        method: PreviousMethod::Search,
        release_version: settings.release_version.clone(),
        head_sha: settings.head_sha.clone(),
        releases: None,
        tags: None,
        candidates: Vec::new(),
        range: None,
    };
    if let Some(tag) = &settings.previous_release {
        record.method = PreviousMethod::Input { tag: tag.clone() };
        return Ok(record);
    }
    let releases =
        listing::<GhRelease>(api, "releases?", "releases", |r| (!r.draft).then_some((r.tag_name, r.prerelease)))
            .await?;
    if let Some(why) = &releases.note {
        notes.push(format!("the releases could not all be read ({why}); version tags are considered only without a published release below this one"));
    }
    record.releases = Some(releases);
    if previous::candidate_order(&settings.release_version, record.releases.as_ref(), None).is_empty() {
        record.tags = Some(listing::<GhTag>(api, "tags?", "tags", |t| Some((t.name, false))).await?);
    }
    let order = previous::candidate_order(&settings.release_version, record.releases.as_ref(), record.tags.as_ref());
    for (tag, source) in order.into_iter().take(previous::MAX_CANDIDATES) {
        let candidate = judge_candidate(api, settings, tag, source).await?;
        let done = candidate.compared.as_ref().is_none_or(|c| c.qualifies(source));
        record.candidates.push(candidate);
        if done {
            break;
        }
    }
    notes.extend(previous::passed_over(&record));
    let outcome = previous::judge_previous(&record);
    let listing_note = record.releases.iter().chain(&record.tags).find_map(|l| l.note.clone());
    if let (Some(t), Some(why)) = (&outcome.release, listing_note) {
        notes.push(format!("`{t}` was taken as the previous release, but {why}: a newer one may have been missed; name it with the `previous-release` input to be sure"));
    }
    Ok(record)
}

/// Compares one candidate with the released commit (one request, one commit listed).
async fn judge_candidate(api: &Api<'_>, settings: &ChangeSettings, tag: String, source: Source) -> Result<Candidate> {
    let head = &settings.head_sha;
    let route = format!("compare/{}...{}?per_page=1&page=1", encode_ref(&tag), encode_ref(head));
    let what = format!("comparison {tag}...{}", short(head));
    let (compared, note) = match api.get::<GhComparison>(&route, &what).await? {
        Got::Ok(c) => {
            (Some(Comparison { status: bounded(&c.status, 20), ahead_by: c.ahead_by, behind_by: c.behind_by }), None)
        }
        Got::Refused(r) if r.status == 404 => {
            (Some(Comparison { status: "unrelated".into(), ahead_by: 0, behind_by: 0 }), Some(r.said()))
        }
        Got::Refused(r) => (None, Some(r.said())),
        Got::OverBudget => (None, Some(format!("the request budget ({}) was spent", api.said()))),
        Got::TooLarge => (None, Some(too_large())),
    };
    Ok(Candidate { tag, source, compared, note })
}

/// The range from the previous release to the released commit, with the time its
/// merge base was committed (pull requests merged into the range were updated after it).
struct Compared {
    range: CommitRange,
    commits: Vec<Commit>,
    node_ids: BTreeMap<String, String>,
    since: Option<chrono::DateTime<chrono::FixedOffset>>,
}

/// Where the reading of the range stands.
struct RangeRead {
    range: Option<CommitRange>,
    since: Option<chrono::DateTime<chrono::FixedOffset>>,
    commits: Vec<Commit>,
    node_ids: BTreeMap<String, String>,
    /// Commits listed so far (also those skipped as malformed): the offset of the next page.
    listed: usize,
    total: usize,
    /// Index into [`PAGE_SIZES`].
    size: usize,
    /// First lines cut to [`MAX_MESSAGE`] characters.
    cut_messages: usize,
}

/// What to do after one page of the range.
enum Next {
    More,
    Done,
    /// Give up on the range (said in the notes).
    Abandon,
}

async fn compare(
    api: &Api<'_>,
    settings: &ChangeSettings,
    base: &str,
    notes: &mut Vec<String>,
) -> Result<Option<Compared>> {
    let mut read = RangeRead {
        range: None,
        since: None,
        commits: Vec::new(),
        node_ids: BTreeMap::new(),
        listed: 0,
        total: 0,
        size: 0,
        cut_messages: 0,
    };
    loop {
        match compare_page(api, settings, base, &mut read, notes).await? {
            Next::More => {}
            Next::Done => break,
            Next::Abandon => return Ok(None),
        }
    }
    if read.cut_messages > 0 {
        notes.push(format!(
            "{} commit messages have a first line longer than {MAX_MESSAGE} characters; changes/commits.json keeps the first {MAX_MESSAGE} (marked …)",
            read.cut_messages
        ));
    }
    Ok(read.range.map(|range| Compared { range, commits: read.commits, node_ids: read.node_ids, since: read.since }))
}

/// Reads one page of the range.
async fn compare_page(
    api: &Api<'_>,
    settings: &ChangeSettings,
    base: &str,
    read: &mut RangeRead,
    notes: &mut Vec<String>,
) -> Result<Next> {
    let head = &settings.head_sha;
    let what = format!("comparison {base}...{}", short(head));
    let per_page = PAGE_SIZES[read.size];
    let page = read.listed / per_page + 1;
    let route = format!("compare/{}...{}?per_page={per_page}&page={page}", encode_ref(base), encode_ref(head));
    let cmp: GhComparison = match api.get(&route, &what).await? {
        Got::Ok(c) => c,
        Got::Refused(r) => {
            compare_refused(&r, base, head, notes);
            return Ok(Next::Abandon);
        }
        Got::OverBudget => {
            notes.push(format!(
                "the request budget ({}) was spent while reading the range; {} of {} commits were read",
                api.said(),
                read.commits.len(),
                read.total
            ));
            return Ok(if read.range.is_some() { Next::Done } else { Next::Abandon });
        }
        Got::TooLarge if read.size + 1 < PAGE_SIZES.len() => {
            read.size += 1;
            log::info!(
                "a page of {per_page} commits is larger than {MAX_PAGE_BYTES} bytes; asking for {} at a time",
                PAGE_SIZES[read.size]
            );
            return Ok(Next::More);
        }
        Got::TooLarge => {
            notes.push(format!(
                "commit {} of the range could not be read: GitHub's answer for it alone was larger than {} MiB. The range was cut there: {} of {} commits were read",
                read.listed + 1,
                MAX_PAGE_BYTES / (1024 * 1024),
                read.commits.len(),
                read.total.max(read.listed + 1)
            ));
            return Ok(if read.range.is_some() { Next::Done } else { Next::Abandon });
        }
    };
    if read.range.is_none() {
        start_range(&cmp, base, head, read, notes);
    }
    let n = cmp.commits.len();
    read.listed += n;
    for mut c in cmp.commits {
        if let Some(id) = c.node_id.take().filter(|id| id.len() <= 200) {
            read.node_ids.insert(c.sha.clone(), id);
        }
        if let Some(commit) = commit_from(c, &mut read.cut_messages) {
            read.commits.push(commit);
        }
    }
    if n == 0 || read.listed >= read.total {
        return Ok(Next::Done);
    }
    if read.listed >= MAX_COMMITS {
        notes.push(format!("the range holds {} commits; only the first {MAX_COMMITS} were read", read.total));
        return Ok(Next::Done);
    }
    Ok(Next::More)
}

/// The notes for a refused comparison.
fn compare_refused(r: &Refusal, base: &str, head: &str, notes: &mut Vec<String>) {
    if r.status == 404 {
        let why = if r.is(Refusal::NO_COMMON_ANCESTOR) {
            "the two histories share no commit (unrelated histories, or the release branch was rewritten)"
        } else {
            "the tag may have been deleted, or the previous release's history was force-pushed away"
        };
        notes.push(format!(
            "the previous release `{base}` cannot be compared with the released commit {}: {}; {why}",
            short(head),
            r.said()
        ));
        return;
    }
    let hint = if r.is_rate_limit() {
        "wait for the rate limit to reset"
    } else if matches!(r.status, 401 | 403) {
        "the token needs `contents: read`"
    } else {
        "GitHub did not answer it; run the audit again"
    };
    notes.push(format!("the range {base}...{} could not be read ({}); {hint}", short(head), r.said()));
}

/// The range's facts from its first page, and the note its status calls for.
fn start_range(cmp: &GhComparison, base: &str, head: &str, read: &mut RangeRead, notes: &mut Vec<String>) {
    read.total = cmp.total_commits as usize;
    let r = CommitRange {
        base: base.to_string(),
        base_sha: cmp.base_commit.as_ref().map(|c| c.sha.clone()).filter(|s| is_sha(s)),
        head_sha: head.to_string(),
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
        "behind" => notes.push(format!(
            "the released commit is older than the previous release `{base}` ({} commits behind): no new changes",
            r.behind_by
        )),
        other => notes.push(format!("GitHub gave the comparison status `{other}`")),
    }
    read.range = Some(r);
    read.since = cmp
        .merge_base_commit
        .iter()
        .chain(&cmp.base_commit)
        .filter_map(|c| c.commit.committer.as_ref().and_then(|p| p.date.as_deref()))
        .filter_map(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
        .min();
}

/// One commit of the range as recorded (`None`: not a commit sha).
fn commit_from(c: GhCommit, cut_messages: &mut usize) -> Option<Commit> {
    if !is_sha(&c.sha) {
        return None;
    }
    let author = user(c.author);
    let committer = user(c.committer);
    let message = c.commit.message.lines().next().unwrap_or("");
    if message.chars().count() > MAX_MESSAGE {
        *cut_messages += 1;
    }
    Some(Commit {
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
    })
}

/// Why the remaining commits or pull requests go unread.
struct Stopped {
    lookups: Option<String>,
    reviews: Option<String>,
    /// The request budget ran out (one of the two reasons above says so).
    budget: bool,
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
        contributors: None,
        contributors_note: None,
    }
}

/// The commit graph of the range, to map whole merged branches at once.
struct Graph {
    /// Each commit's parents in order, by index (`None`: outside the range).
    parents: Vec<Vec<Option<usize>>>,
    index: BTreeMap<String, usize>,
}

impl Graph {
    fn of(commits: &[Commit]) -> Graph {
        let index: BTreeMap<String, usize> = commits.iter().enumerate().map(|(i, c)| (c.sha.clone(), i)).collect();
        let parents = commits.iter().map(|c| c.parents.iter().map(|p| index.get(p).copied()).collect()).collect();
        Graph { parents, index }
    }

    /// Whether the pull request merged at `merge` with final head `head` brought commit
    /// `i` in ([`review::brought_in`]).
    fn brought_in(&self, i: usize, merge: Option<&str>, head: &str) -> bool {
        let merge = merge.and_then(|m| self.index.get(m).copied());
        review::brought_in(i, merge, self.index.get(head).copied(), &self.parents)
    }

    /// Gives commit `i` its pull requests; a merge commit that landed one of them
    /// (`merged_heads`: the final heads of those merged at `i`) also gives them to every
    /// commit of its merged branch that the pull request had ([`review::pull_branch`]).
    /// Returns how many branch commits were mapped that way.
    fn assign(&self, commits: &mut [Commit], i: usize, numbers: &[u64], merged_heads: &[&str]) -> usize {
        let mut mapped = 0;
        match &mut commits[i].pulls {
            Some(list) => list.extend(numbers.iter().filter(|n| !list.contains(n)).copied().collect::<Vec<_>>()),
            None => commits[i].pulls = Some(numbers.to_vec()),
        }
        if !merged_heads.is_empty() && commits[i].parents.len() > 1 {
            let heads: Vec<Option<usize>> = merged_heads.iter().map(|h| self.index.get(*h).copied()).collect();
            for j in review::pull_branch(i, &self.parents, &heads) {
                if commits[j].pulls.is_none() {
                    commits[j].pulls = Some(numbers.to_vec());
                    mapped += 1;
                }
            }
        }
        mapped
    }
}

/// A pull request's review evidence: its reviews and, when an approval on its final
/// head would count, who wrote its commits. Read as one: when the second part cannot be
/// read for the budget or a lasting refusal, the first is dropped too (the pull request
/// is *not checked*, with the reason), as a partial list of reviews would be.
async fn read_reviews(
    api: &Api<'_>,
    pull: &mut PullRequest,
    stopped: &mut Stopped,
    notes: &mut Vec<String>,
) -> Result<()> {
    if pull.reviews.is_some() {
        // Read in bulk (GraphQL); who wrote the commits, when GraphQL could not list them all.
        if pull.contributors.is_none()
            && pull.contributors_note.is_none()
            && !review::approvers_on_head(pull).is_empty()
        {
            read_contributors(api, pull, stopped).await?;
        }
        return Ok(());
    }
    if let Some(why) = &stopped.reviews {
        pull.reviews_note = Some(why.clone());
        return Ok(());
    }
    let n = pull.number;
    let route = format!("pulls/{n}/reviews?");
    match api.pages::<GhReview>(&route, 100 * MAX_LIST_PAGES as usize, &format!("reviews of pull request #{n}")).await?
    {
        Got::Ok(list) if list.len() >= 100 * MAX_LIST_PAGES as usize => {
            pull.reviews_note =
                Some(format!("it has more than {} reviews; they were not classified", 100 * MAX_LIST_PAGES));
        }
        Got::Ok(list) => pull.reviews = Some(list.into_iter().map(review_from).collect()),
        Got::Refused(r) => match refusal_reason(&r, "reviews") {
            Some(why) => {
                notes.push(format!("review status unknown for every pull request from #{n} on: {why}"));
                pull.reviews_note = Some(why.clone());
                stopped.reviews = Some(why);
            }
            None => pull.reviews_note = Some(format!("the reviews could not be read ({})", r.said())),
        },
        Got::OverBudget => {
            let why = format!("the request budget ({}) was spent before its reviews were read", api.said());
            pull.reviews_note = Some(why.clone());
            stopped.reviews = Some(why);
            stopped.budget = true;
        }
        Got::TooLarge => pull.reviews_note = Some(format!("its reviews could not be read: {}", too_large())),
    }
    if pull.reviews.is_some() && !review::approvers_on_head(pull).is_empty() {
        read_contributors(api, pull, stopped).await?;
    }
    Ok(())
}

fn review_from(r: GhReview) -> Review {
    Review {
        id: r.id,
        reviewer: user(r.user).or(Some(User { login: GHOST.into(), bot: false })),
        state: bounded(&r.state, 20),
        commit_id: r.commit_id.filter(|s| is_sha(s)),
        submitted_at: r.submitted_at.map(|d| bounded(&d, 40)),
    }
}

/// Who wrote the pull request's commits (`GET /pulls/{n}/commits`, at most 250 listed).
async fn read_contributors(api: &Api<'_>, pull: &mut PullRequest, stopped: &mut Stopped) -> Result<()> {
    let n = pull.number;
    let what = format!("commits of pull request #{n}");
    match api.pages::<GhPullCommit>(&format!("pulls/{n}/commits?"), MAX_PULL_COMMITS, &what).await? {
        Got::Ok(list) if list.len() >= MAX_PULL_COMMITS => {
            pull.contributors_note = Some(format!(
                "it has {MAX_PULL_COMMITS} commits or more, and GitHub lists only {MAX_PULL_COMMITS}: who wrote them all cannot be seen"
            ));
        }
        Got::Ok(list) => {
            let mut written: Vec<review::Written> = Vec::new();
            for c in list {
                let (message, emails) = match &c.commit {
                    Some(g) => (
                        g.message.as_str(),
                        [&g.author, &g.committer].map(|p| p.as_ref().and_then(|p| p.email.clone())),
                    ),
                    None => ("", [None, None]),
                };
                let [author_email, committer_email] = emails;
                written.push(review::Written {
                    people: vec![
                        (author_email, user(c.author).map(|u| u.login)),
                        (committer_email, user(c.committer).map(|u| u.login)),
                    ],
                    message: message.to_string(),
                });
            }
            pull.contributors = Some(review::contributors(&written));
        }
        Got::Refused(r) => match refusal_reason(&r, "pull requests") {
            Some(why) => {
                pull.contributors_note = Some(why.clone());
                drop_reviews(pull, &why);
                stopped.reviews = Some(why);
            }
            None => pull.contributors_note = Some(format!("its commits could not be read ({})", r.said())),
        },
        Got::OverBudget => {
            let why = format!("the request budget ({}) was spent before its reviews and commits were read", api.said());
            pull.contributors_note = Some(why.clone());
            drop_reviews(pull, &why);
            stopped.reviews = Some(why);
            stopped.budget = true;
        }
        Got::TooLarge => pull.contributors_note = Some(format!("its commits could not be read: {}", too_large())),
    }
    Ok(())
}

/// The review evidence of a pull request read only in part counts as not read.
fn drop_reviews(pull: &mut PullRequest, why: &str) {
    pull.reviews = None;
    pull.reviews_note = Some(why.to_string());
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
        if pull.merged_by.is_some() || pull.merged_by_note.is_some() {
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
                let why =
                    format!("not read: the request budget ({}) was spent on the decisive reads first", api.said());
                pull.merged_by_note = Some(why.clone());
                stopped = Some(why);
                cut += 1;
            }
            Got::TooLarge => pull.merged_by_note = Some(format!("it could not be read: {}", too_large())),
        }
    }
    if let Some(why) = stopped {
        notes.push(format!(
            "the merger of {cut} of {total} pull requests is not recorded ({why}); changes/pulls.json says which"
        ));
    }
    Ok(())
}

/// How the pull requests were found, for the log.
#[derive(Default)]
struct Mapped {
    listed: usize,
    looked_up: usize,
    by_branch: usize,
}

/// Maps the commits to their merged pull requests and reads each one's reviews:
/// first in bulk (closed pull requests, newest first, until they predate the range:
/// 100 per request, matched by merge commit), then one lookup per commit still
/// unmapped (merge commits first, newest first).
async fn map_pulls(
    api: &Api<'_>,
    settings: &ChangeSettings,
    since: Option<chrono::DateTime<chrono::FixedOffset>>,
    complete: bool,
    trail: &mut Trail,
    notes: &mut Vec<String>,
) -> Result<()> {
    let graph = Graph::of(&trail.commits);
    let mut stopped = Stopped { lookups: None, reviews: None, budget: false };
    let mut mapped = Mapped::default();
    let mut points = bulk::Points::new(settings.point_budget);
    if settings.point_budget == 0 {
        points.stopped = Some("not used (no GraphQL budget)".into());
    }
    if let Some(since) = since {
        let read = points.stopped.is_none()
            && bulk::list_merged(api, &mut points, &settings.release_version, since, &graph, trail, &mut mapped)
                .await?;
        if !read || points.exhausted {
            list_pulls(api, since, &graph, trail, &mut stopped, &mut mapped, notes).await?;
            map_rebased(api, &graph, trail, &mut mapped).await?;
        }
    }
    let numbers: Vec<u64> = trail.pulls.keys().rev().copied().collect();
    for n in numbers {
        if let Some(pull) = trail.pulls.get_mut(&n) {
            read_reviews(api, pull, &mut stopped, notes).await?;
        }
    }
    if points.stopped.is_none() {
        for n in bulk::look_up(api, &mut points, complete, &graph, trail, &mut mapped).await? {
            if let Some(pull) = trail.pulls.get_mut(&n) {
                read_reviews(api, pull, &mut stopped, notes).await?;
            }
        }
    }
    if let Some(why) = points.stopped.as_ref().filter(|_| settings.point_budget > 0) {
        notes.push(format!(
            "the bulk reads through GraphQL stopped after {} points: {why}; the rest was read through the REST API",
            points.spent
        ));
    }
    if settings.point_budget > 0 {
        trail.points = Some(points);
    }
    look_up_commits(api, complete, &graph, trail, &mut stopped, &mut mapped, notes).await?;
    log::info!(
        "pull requests: {} matched in bulk, {} commits looked up one by one, {} mapped through merge commits",
        mapped.listed,
        mapped.looked_up,
        mapped.by_branch
    );
    budget_note(api, trail, &stopped, notes);
    Ok(())
}

/// In bulk: merged pull requests whose merge commit is in the range.
async fn list_pulls(
    api: &Api<'_>,
    since: chrono::DateTime<chrono::FixedOffset>,
    graph: &Graph,
    trail: &mut Trail,
    stopped: &mut Stopped,
    mapped: &mut Mapped,
    notes: &mut Vec<String>,
) -> Result<()> {
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
                    mapped.listed += 1;
                    mapped.by_branch += graph.assign(&mut trail.commits, i, &[p.number], &[p.head.sha.as_str()]);
                    trail.pulls.entry(p.number).or_insert_with(|| pull_from(p));
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
            // The lookups one by one still map what the bulk read would have.
            Got::OverBudget | Got::TooLarge => break,
        }
    }
    Ok(())
}

/// The REST listing's rebase-merged pull requests: one whose merge commit is a plain
/// commit with an unmapped parent in the range may have brought that parent too (a
/// rebase merge); its commits (`GET /pulls/{n}/commits`, one request) say which, as in
/// [`bulk::map_rebased`]. GitHub's commit lookup would not say it off the default branch.
async fn map_rebased(api: &Api<'_>, graph: &Graph, trail: &mut Trail, mapped: &mut Mapped) -> Result<()> {
    let candidates: Vec<(u64, usize)> = trail
        .pulls
        .values()
        .rev()
        .filter_map(|p| Some((p.number, *graph.index.get(p.merge_commit_sha.as_ref()?)?)))
        .filter(|(_, i)| {
            trail.commits[*i].parents.len() == 1
                && graph.parents[*i].first().copied().flatten().is_some_and(|j| trail.commits[j].pulls.is_none())
        })
        .collect();
    for (n, i) in candidates {
        let what = format!("commits of pull request #{n}");
        let Got::Ok(list) = api.pages::<GhPullCommit>(&format!("pulls/{n}/commits?"), MAX_PULL_COMMITS, &what).await?
        else {
            continue; // not mapped here: the lookups one by one still try
        };
        let own: Vec<(String, String)> = list
            .into_iter()
            .filter_map(|c| c.commit)
            .filter_map(|c| Some((c.message.lines().next().unwrap_or("").to_string(), c.author?.date?)))
            .collect();
        mapped.by_branch += bulk::map_rebased(graph, &mut trail.commits, i, n, &own);
    }
    Ok(())
}

/// One lookup per commit still unmapped: merge commits first, newest first.
async fn look_up_commits(
    api: &Api<'_>,
    complete: bool,
    graph: &Graph,
    trail: &mut Trail,
    stopped: &mut Stopped,
    mapped: &mut Mapped,
    notes: &mut Vec<String>,
) -> Result<()> {
    let commits = &mut trail.commits;
    let mut order: Vec<usize> = (0..commits.len()).rev().filter(|i| commits[*i].parents.len() > 1).collect();
    order.extend((0..commits.len()).rev().filter(|i| commits[*i].parents.len() <= 1));
    for i in order {
        if trail.commits[i].pulls.is_some() {
            continue;
        }
        if let Some(why) = &stopped.lookups {
            trail.commits[i].pulls_note = Some(why.clone());
            continue;
        }
        let Some(found) = commit_pulls(api, &mut trail.commits[i], stopped, notes).await? else { continue };
        mapped.looked_up += 1;
        let sha = trail.commits[i].sha.clone();
        // A pull request brought the commit into this release only if it was merged into
        // it: its merge commit is in the range (merge, squash and rebase alike). One
        // merged elsewhere (another base branch) does not cover the commit. When the
        // range was not read whole, a merge commit may lie beyond what was read.
        let merged: Vec<GhPull> = found
            .into_iter()
            .filter(|p| p.merged_at.is_some())
            .filter(|p| !complete || p.merge_commit_sha.as_ref().is_some_and(|m| graph.index.contains_key(m)))
            .filter(|p| graph.brought_in(i, p.merge_commit_sha.as_deref(), &p.head.sha))
            .collect();
        let numbers: Vec<u64> = merged.iter().map(|p| p.number).collect();
        let merged_heads: Vec<&str> = merged
            .iter()
            .filter(|p| p.merge_commit_sha.as_deref() == Some(sha.as_str()))
            .map(|p| p.head.sha.as_str())
            .collect();
        mapped.by_branch += graph.assign(&mut trail.commits, i, &numbers, &merged_heads);
        for p in merged {
            if trail.pulls.contains_key(&p.number) {
                continue;
            }
            let mut pull = pull_from(p);
            read_reviews(api, &mut pull, stopped, notes).await?;
            trail.pulls.insert(pull.number, pull);
        }
    }
    Ok(())
}

/// The pull requests of one commit (`None`: not read; the commit's note says why).
async fn commit_pulls(
    api: &Api<'_>,
    commit: &mut Commit,
    stopped: &mut Stopped,
    notes: &mut Vec<String>,
) -> Result<Option<Vec<GhPull>>> {
    let sha = commit.sha.clone();
    let route = format!("commits/{sha}/pulls?per_page=100");
    match api.get(&route, &format!("pull requests of commit {}", short(&sha))).await? {
        Got::Ok(list) => return Ok(Some(list)),
        Got::Refused(r) => match refusal_reason(&r, "pull requests") {
            Some(why) => {
                notes.push(format!("review status unknown for the commits not yet looked up: {why}"));
                commit.pulls_note = Some(why.clone());
                stopped.lookups = Some(why);
            }
            None => commit.pulls_note = Some(format!("its pull requests could not be read ({})", r.said())),
        },
        Got::OverBudget => {
            let why = format!("the request budget ({}) was spent before this commit was looked up", api.said());
            commit.pulls_note = Some(why.clone());
            stopped.lookups = Some(why);
            stopped.budget = true;
        }
        Got::TooLarge => commit.pulls_note = Some(format!("its pull requests could not be read: {}", too_large())),
    }
    Ok(None)
}

/// When the budget ran out: what was not read, and about how much more it would take.
fn budget_note(api: &Api<'_>, trail: &Trail, stopped: &Stopped, notes: &mut Vec<String>) {
    let cut = trail.commits.iter().filter(|c| c.pulls.is_none()).count();
    let unread = trail.pulls.values().filter(|p| p.reviews.is_none()).count();
    if cut + unread == 0 || !stopped.budget {
        return;
    }
    let need = cut + unread;
    let mut what = Vec::new();
    if cut > 0 {
        what.push(format!("{cut} of {} commits were not looked up", trail.commits.len()));
    }
    if unread > 0 {
        what.push(format!("the reviews of {unread} of {} pull requests were not read", trail.pulls.len()));
    }
    notes.push(format!(
        "the request budget ({}, to stay within the job token's 1,000 requests per hour) ran out: {}; their commits count as not checked. About {need} more requests would be needed (a token with a higher limit, or a smaller range, covers them)",
        api.said(),
        what.join(" and ")
    ));
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
