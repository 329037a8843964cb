//! The REST routes of the change and approval trail, as a small git history the tests
//! build: commits with parents and signatures, tags, merged pull requests with their
//! reviews, and environment approvals of runs.
//!
//! - `GET /repos/{o}/{r}/compare/{base}...{head}` — `git log base..head` oldest first
//!   (the merge base when the histories diverged; 404 "No common ancestor" when they
//!   share none), 250 commits without paging parameters, `per_page` (≤ 100) and `page`
//!   otherwise, like GitHub;
//! - `GET /repos/{o}/{r}/commits/{sha}/pulls` — pull requests whose merge commit, head
//!   or commits include the sha;
//! - `GET /repos/{o}/{r}/pulls/{n}` — one pull request, the only answer naming its merger;
//! - `GET /repos/{o}/{r}/pulls/{n}/reviews` — reviews in order, paged;
//! - `GET /repos/{o}/{r}/pulls/{n}/commits` — the pull request's commits (its own that
//!   are in the history, and those pushed to it with [`FakeChanges::push_to_pull`]; a
//!   squash-merged one without either lists its head, by its author), paged;
//! - `GET /repos/{o}/{r}/actions/runs/{id}/approvals`;
//! - `GET /repos/{o}/{r}/tags` — paged;
//! - `POST /graphql` — the two queries of the trail's bulk reads (`MergedPullRequests`,
//!   `CommitPullRequests`), answered from the same history, with `rateLimit { cost
//!   remaining }` computed by GitHub's rule from the query as sent (see [`crate::fake_graphql::query_cost`]).
//!   Every query is kept ([`FakeChanges::graphql_queries`]) so that a test validates it
//!   against GitHub's published schema.
//!
//! A pull request has a base branch (`main`, GitHub's default branch, unless
//! [`FakeChanges::base`] says otherwise). As GitHub, the commit → pull request lookups
//! (REST and GraphQL) list a merged pull request only when it was merged into the
//! default branch: for a commit off the default branch they list only open ones.
//!
//! Answers carry every field GitHub's OpenAPI description requires for these
//! operations (checked by tests/it/changes_openapi.rs). Every request is counted, and
//! with [`FakeChanges::rate_remaining`] every REST answer says `x-ratelimit-remaining`.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
pub struct FakeCommit {
    pub sha: String,
    pub parents: Vec<String>,
    pub author: String,
    /// The committer's login (`None`: `web-flow`, GitHub's committer of web merges).
    pub committer: Option<String>,
    pub message: String,
    pub date: String,
    pub verified: bool,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct FakeReview {
    pub id: u64,
    /// The review's text (empty unless [`FakeChanges::review_with_body`] gave one).
    pub body: String,
    pub user: String,
    pub state: String,
    pub commit_id: String,
}

#[derive(Debug, Clone)]
pub struct FakePull {
    pub number: u64,
    pub title: String,
    pub author: String,
    pub head_sha: String,
    pub merge_commit_sha: Option<String>,
    /// The pull request's own commits (their shas as pushed).
    pub commits: Vec<String>,
    pub reviews: Vec<FakeReview>,
    /// Who merged it (the author unless [`FakeChanges::merged_by`] says otherwise;
    /// `None`: GitHub names nobody).
    pub merged_by: Option<String>,
    /// Commits pushed to it that are not in the history (a squash merge keeps none).
    pub pushed: Vec<FakeCommit>,
    /// The branch it was merged into.
    pub base: String,
    /// Closed without being merged ([`FakeChanges::close_unmerged`]): `merged_at` is null,
    /// and GraphQL names no merge commit (REST still names the test merge commit).
    pub closed_unmerged: bool,
}

#[derive(Debug, Clone)]
pub struct FakeApproval {
    pub user: String,
    pub state: String,
    pub environment: String,
    pub comment: String,
}

#[derive(Debug, Default)]
pub struct ChangesState {
    pub commits: Vec<FakeCommit>,
    pub tags: Vec<(String, String)>,
    /// Tags made as annotated tag objects (`git tag -a`): their ref names a tag object.
    pub annotated: Vec<String>,
    pub pulls: Vec<FakePull>,
    pub approvals: HashMap<u64, Vec<FakeApproval>>,
    /// Pull request routes answer 403 (a token without `pull-requests: read`).
    pub forbid_pulls: bool,
    /// `/tags` answers 403 with `x-ratelimit-remaining: 0` (the job's rate limit spent).
    pub tags_rate_limited: bool,
    /// `/compare` sends its headers and the first byte of its body, then nothing more.
    pub stall_compare: bool,
    /// (route, path/query) of every request, in order.
    pub requests: Vec<(String, String)>,
    /// `POST /graphql` answers this HTTP status (a server without GraphQL, or a token it
    /// refuses); `None`: it answers.
    pub refuse_graphql: Option<u16>,
    /// What every REST answer says is left of the rate limit (`x-ratelimit-remaining`);
    /// `None`: not said.
    pub rest_remaining: Option<u64>,
    /// GraphQL points left (`rateLimit.remaining`), less each query's cost.
    pub graphql_remaining: u64,
    /// Every GraphQL query answered: `{"query", "variables", "answer"}`.
    pub graphql_queries: Vec<Value>,
    /// GraphQL points spent (each query's cost as `rateLimit` said it).
    pub graphql_points: u64,
    next_id: u64,
}

/// A handle on the change-trail side of the fake (cheap to clone).
#[derive(Clone)]
pub struct FakeChanges {
    pub state: Arc<Mutex<ChangesState>>,
    token: String,
}

#[derive(Deserialize)]
struct Paging {
    per_page: Option<usize>,
    page: Option<usize>,
}

impl FakeChanges {
    pub fn new(token: &str) -> Self {
        FakeChanges {
            state: Arc::new(Mutex::new(ChangesState {
                next_id: 9_000_000,
                graphql_remaining: 5_000,
                ..Default::default()
            })),
            token: token.into(),
        }
    }

    /// The routes, to merge into the fake's router.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/repos/{owner}/{repo}/compare/{basehead}", get(compare))
            .route("/repos/{owner}/{repo}/commits/{sha}/pulls", get(commit_pulls))
            .route("/repos/{owner}/{repo}/pulls", get(list_pulls))
            .route("/repos/{owner}/{repo}/pulls/{number}", get(one_pull))
            .route("/repos/{owner}/{repo}/pulls/{number}/reviews", get(pull_reviews))
            .route("/repos/{owner}/{repo}/pulls/{number}/commits", get(pull_commits))
            .route("/repos/{owner}/{repo}/actions/runs/{run_id}/approvals", get(run_approvals))
            .route("/repos/{owner}/{repo}/tags", get(tags))
            .route("/repos/{owner}/{repo}/git/ref/{*reference}", get(git_ref))
            .route("/repos/{owner}/{repo}/git/tags/{tag_sha}", get(git_tag))
            .layer(axum::middleware::map_response_with_state(self.clone(), rate_headers))
            .route("/graphql", post(crate::fake_graphql::graphql))
            .with_state(self.clone())
    }

    /// Adds a commit on top of `parents` (oldest first: add parents before children);
    /// returns its sha.
    pub fn commit(&self, message: &str, author: &str, parents: &[&str], verified: bool) -> String {
        let mut s = self.state.lock().unwrap();
        let n = s.commits.len();
        let sha = hex::encode(Sha256::digest(format!("{n}\0{message}\0{}", parents.join(","))))[..40].to_string();
        let date = chrono::DateTime::from_timestamp(1_767_225_600 + n as i64 * 60, 0)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        s.commits.push(FakeCommit {
            sha: sha.clone(),
            parents: parents.iter().map(|p| p.to_string()).collect(),
            author: author.into(),
            committer: None,
            message: message.into(),
            date,
            verified,
            reason: if verified { "valid".into() } else { "unsigned".into() },
        });
        sha
    }

    /// A straight line of `n` commits on top of `parent`; returns their shas.
    pub fn line(&self, n: usize, author: &str, parent: &str) -> Vec<String> {
        let mut out = Vec::with_capacity(n);
        let mut at = parent.to_string();
        for i in 0..n {
            at = self.commit(&format!("change {i}"), author, &[&at], i % 2 == 0);
            out.push(at.clone());
        }
        out
    }

    pub fn tag(&self, name: &str, sha: &str) {
        self.state.lock().unwrap().tags.push((name.into(), sha.into()));
    }

    /// An annotated tag (`git tag -a`): listed like any tag, its ref names a tag object
    /// that names the commit.
    pub fn annotated_tag(&self, name: &str, sha: &str) {
        let mut s = self.state.lock().unwrap();
        s.tags.push((name.into(), sha.into()));
        s.annotated.push(name.into());
    }

    /// A merged pull request: its final head, the commit that landed it, its own commits.
    pub fn pull(
        &self,
        number: u64,
        title: &str,
        author: &str,
        head_sha: &str,
        merge_commit_sha: &str,
        commits: &[&str],
    ) {
        self.state.lock().unwrap().pulls.push(FakePull {
            number,
            title: title.into(),
            author: author.into(),
            head_sha: head_sha.into(),
            merge_commit_sha: Some(merge_commit_sha.into()),
            commits: commits.iter().map(|c| c.to_string()).collect(),
            reviews: Vec::new(),
            merged_by: Some(author.into()),
            pushed: Vec::new(),
            base: "main".into(),
            closed_unmerged: false,
        });
    }

    /// Pull request `number` was closed without being merged.
    pub fn close_unmerged(&self, number: u64) {
        let mut s = self.state.lock().unwrap();
        let pull = s.pulls.iter_mut().find(|p| p.number == number).expect("the pull request exists");
        pull.closed_unmerged = true;
    }

    /// Pull request `number` was merged into `branch` (not the default branch `main`).
    pub fn base(&self, number: u64, branch: &str) {
        let mut s = self.state.lock().unwrap();
        let pull = s.pulls.iter_mut().find(|p| p.number == number).expect("the pull request exists");
        pull.base = branch.into();
    }

    /// A pull request of `count` commits rebase-merged onto `onto`: the history gets a
    /// copy of each (same first line, author and author time, new sha), the last copy is
    /// its merge commit, and its own commits (as pushed) stay outside the history, as
    /// GitHub keeps them. Returns the copies' shas, oldest first.
    pub fn rebase_merged(&self, number: u64, title: &str, author: &str, onto: &str, count: usize) -> Vec<String> {
        let mut copies = Vec::with_capacity(count);
        let mut at = onto.to_string();
        for i in 0..count {
            at = self.commit(&format!("{title}: part {}", i + 1), author, &[&at], true);
            copies.push(at.clone());
        }
        let mut s = self.state.lock().unwrap();
        let pushed: Vec<FakeCommit> = copies
            .iter()
            .map(|sha| {
                let copy = s.commits.iter().find(|c| &c.sha == sha).expect("just made").clone();
                let original = hex::encode(Sha256::digest(format!("pushed {number} {sha}")))[..40].to_string();
                FakeCommit { sha: original, parents: Vec::new(), ..copy }
            })
            .collect();
        s.pulls.push(FakePull {
            number,
            title: title.into(),
            author: author.into(),
            head_sha: pushed.last().map(|c| c.sha.clone()).unwrap_or_default(),
            merge_commit_sha: copies.last().cloned(),
            commits: Vec::new(),
            reviews: Vec::new(),
            merged_by: Some(author.into()),
            pushed,
            base: "main".into(),
            closed_unmerged: false,
        });
        copies
    }

    /// From now on `POST /graphql` answers `status` (404: a server without GraphQL).
    pub fn refuse_graphql(&self, status: u16) {
        self.state.lock().unwrap().refuse_graphql = Some(status);
    }

    /// From now on every REST answer says `x-ratelimit-remaining: {remaining}` (others
    /// spend the repository's requests as fast as the trail does).
    pub fn rate_remaining(&self, remaining: u64) {
        self.state.lock().unwrap().rest_remaining = Some(remaining);
    }

    /// GraphQL points left before the next query.
    pub fn graphql_remaining(&self, remaining: u64) {
        self.state.lock().unwrap().graphql_remaining = remaining;
    }

    /// Every GraphQL query answered, as sent, with its variables and the answer:
    /// `{"query", "variables", "answer"}`.
    pub fn graphql_queries(&self) -> Vec<Value> {
        self.state.lock().unwrap().graphql_queries.clone()
    }

    /// GraphQL points spent so far.
    pub fn graphql_points(&self) -> u64 {
        self.state.lock().unwrap().graphql_points
    }

    /// A commit pushed to pull request `number` by `committer`, authored as `author`; it
    /// becomes the pull request's final head. Returns its sha.
    pub fn push_to_pull(&self, number: u64, author: &str, committer: &str) -> String {
        self.push_to_pull_with(number, author, committer, &format!("fixup by {committer}"))
    }

    /// A commit with this message pushed to pull request `number` (a suggestion applied
    /// in the web UI: authored by the one who applied it, committed by `web-flow`, the
    /// suggester named in a `Co-authored-by:` trailer). Returns its sha.
    pub fn push_to_pull_with(&self, number: u64, author: &str, committer: &str, message: &str) -> String {
        let mut s = self.state.lock().unwrap();
        let pull = s.pulls.iter_mut().find(|p| p.number == number).expect("the pull request exists");
        if pull.commits.is_empty() && pull.pushed.is_empty() {
            // A squash-merged pull request's own first head, by its author.
            pull.pushed.push(head_commit(pull));
        }
        let sha = hex::encode(Sha256::digest(format!("push {number} {} {author} {committer}", pull.pushed.len())))
            [..40]
            .to_string();
        pull.pushed.push(FakeCommit {
            sha: sha.clone(),
            parents: vec![pull.head_sha.clone()],
            author: author.into(),
            committer: Some(committer.into()),
            message: message.into(),
            date: "2026-01-01T12:00:00Z".into(),
            verified: false,
            reason: "unsigned".into(),
        });
        pull.head_sha = sha.clone();
        sha
    }

    /// From now on `/compare` stalls: headers and one byte of body, then nothing.
    pub fn stall_compare(&self) {
        self.state.lock().unwrap().stall_compare = true;
    }

    /// Who merged pull request `number` (`None`: GitHub names nobody).
    pub fn merged_by(&self, number: u64, user: Option<&str>) {
        let mut s = self.state.lock().unwrap();
        let pull = s.pulls.iter_mut().find(|p| p.number == number).expect("the pull request exists");
        pull.merged_by = user.map(str::to_string);
    }

    pub fn review(&self, number: u64, user: &str, state: &str, commit_id: &str) {
        let mut s = self.state.lock().unwrap();
        s.next_id += 1;
        let id = s.next_id;
        let pull = s.pulls.iter_mut().find(|p| p.number == number).expect("the pull request exists");
        pull.reviews.push(FakeReview {
            id,
            body: String::new(),
            user: user.into(),
            state: state.into(),
            commit_id: commit_id.into(),
        });
    }

    /// A review with a text (GitHub allows 65,536 characters; four bytes each at most).
    pub fn review_with_body(&self, number: u64, user: &str, state: &str, commit_id: &str, body: &str) {
        self.review(number, user, state, commit_id);
        let mut s = self.state.lock().unwrap();
        let pull = s.pulls.iter_mut().find(|p| p.number == number).expect("the pull request exists");
        if let Some(last) = pull.reviews.last_mut() {
            last.body = body.into();
        }
    }

    /// Dismisses `user`'s reviews of a pull request, as GitHub does: their state becomes `DISMISSED`.
    pub fn dismiss(&self, number: u64, user: &str) {
        let mut s = self.state.lock().unwrap();
        let pull = s.pulls.iter_mut().find(|p| p.number == number).expect("the pull request exists");
        for r in pull.reviews.iter_mut().filter(|r| r.user == user && r.state == "APPROVED") {
            r.state = "DISMISSED".into();
        }
    }

    pub fn approval(&self, run_id: u64, user: &str, state: &str, environment: &str, comment: &str) {
        let a = FakeApproval {
            user: user.into(),
            state: state.into(),
            environment: environment.into(),
            comment: comment.into(),
        };
        self.state.lock().unwrap().approvals.entry(run_id).or_default().push(a);
    }

    /// From now on the pull request routes answer 403.
    pub fn forbid_pulls(&self) {
        self.state.lock().unwrap().forbid_pulls = true;
    }

    /// How many requests the change routes answered.
    pub fn request_count(&self) -> usize {
        self.state.lock().unwrap().requests.len()
    }

    /// How many requests one route (`"GET pull"`, `"GET pulls"` …) answered.
    pub fn requests_to(&self, route: &str) -> usize {
        self.state.lock().unwrap().requests.iter().filter(|(r, _)| r == route).count()
    }

    /// Whether an `Authorization` header carries the fake's token.
    pub(crate) fn token_is(&self, auth: &str) -> bool {
        auth == format!("Bearer {}", self.token) || auth == format!("token {}", self.token)
    }

    /// `None` when the token is the fake's; otherwise the 401 to answer.
    fn refused(&self, headers: &HeaderMap, route: &str, detail: String) -> Option<Response> {
        let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        self.state.lock().unwrap().requests.push((route.into(), detail));
        if auth == format!("Bearer {}", self.token) || auth == format!("token {}", self.token) {
            None
        } else {
            Some(
                (StatusCode::UNAUTHORIZED, axum::Json(json!({"message": "Bad credentials", "status": "401"})))
                    .into_response(),
            )
        }
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"message": message, "documentation_url": "https://docs.github.com/rest", "status": status.as_u16().to_string()}))).into_response()
}

fn page<T: Clone>(all: &[T], q: &Paging, default: usize) -> Vec<T> {
    let per_page = q.per_page.unwrap_or(default).clamp(1, 100);
    let page = q.page.unwrap_or(1).max(1);
    all.iter().skip((page - 1) * per_page).take(per_page).cloned().collect()
}

fn node_id(kind: &str, id: u64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("0:{kind}{id}"))
}

/// A commit's node id (GraphQL's global id): opaque to a client, the sha to the fake.
pub fn commit_node_id(sha: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("0:Commit{sha}"))
}

/// The sha a commit node id names.
pub fn commit_of_node_id(id: &str) -> Option<String> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD.decode(id).ok()?;
    String::from_utf8(raw).ok()?.strip_prefix("0:Commit").map(str::to_string)
}

/// Says `x-ratelimit-remaining` on every REST answer of the change routes, when asked.
async fn rate_headers(State(f): State<FakeChanges>, mut response: Response) -> Response {
    let s = f.state.lock().unwrap();
    if let Some(left) = s.rest_remaining {
        let headers = response.headers_mut();
        headers.insert("x-ratelimit-limit", axum::http::HeaderValue::from_static("1000"));
        headers.insert("x-ratelimit-remaining", axum::http::HeaderValue::from(left));
        headers.insert("x-ratelimit-resource", axum::http::HeaderValue::from_static("core"));
    }
    response
}

fn user_id(login: &str) -> u64 {
    let h = Sha256::digest(login.as_bytes());
    u64::from_be_bytes([0, 0, 0, 0, h[0], h[1], h[2], h[3]])
}

/// A `simple-user`. `ghost` is GitHub's stand-in for a deleted account.
pub fn simple_user(login: &str) -> Value {
    let kind = if login.ends_with("[bot]") { "Bot" } else { "User" };
    let id = if login == "ghost" { 10_137 } else { user_id(login) };
    let api = format!("https://api.github.com/users/{login}");
    json!({
        "login": login, "id": id, "node_id": node_id("User", id), "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "", "url": api, "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{api}/followers"), "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"), "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"), "organizations_url": format!("{api}/orgs"), "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events{{/privacy}}"), "received_events_url": format!("{api}/received_events"),
        "type": kind, "site_admin": false,
    })
}

/// A `repository` (the one the fake serves).
fn repository(owner: &str, repo: &str) -> Value {
    let api = format!("https://api.github.com/repos/{owner}/{repo}");
    let mut v = json!({
        "id": 1_296_269, "node_id": node_id("Repository", 1_296_269), "name": repo, "full_name": format!("{owner}/{repo}"),
        "owner": simple_user(owner), "private": false, "html_url": format!("https://github.com/{owner}/{repo}"),
        "description": "A Kubernetes module", "fork": false, "url": api,
        "clone_url": format!("https://github.com/{owner}/{repo}.git"), "git_url": format!("git://github.com/{owner}/{repo}.git"),
        "ssh_url": format!("git@github.com:{owner}/{repo}.git"), "svn_url": format!("https://github.com/{owner}/{repo}"),
        "mirror_url": null, "homepage": null, "language": "Go", "forks": 0, "forks_count": 0, "stargazers_count": 0,
        "watchers": 0, "watchers_count": 0, "size": 1024, "default_branch": "main", "open_issues": 0, "open_issues_count": 0,
        "has_issues": true, "has_projects": true, "has_wiki": false, "has_pages": false, "has_downloads": true,
        "archived": false, "disabled": false, "license": {"key": "apache-2.0", "name": "Apache License 2.0", "url": "https://api.github.com/licenses/apache-2.0", "spdx_id": "Apache-2.0", "node_id": "MDc6TGljZW5zZTI="},
        "pushed_at": "2026-01-01T00:00:00Z", "created_at": "2020-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
    });
    for (key, tail) in [
        ("archive_url", "/{archive_format}{/ref}"),
        ("assignees_url", "/assignees{/user}"),
        ("blobs_url", "/git/blobs{/sha}"),
        ("branches_url", "/branches{/branch}"),
        ("collaborators_url", "/collaborators{/collaborator}"),
        ("comments_url", "/comments{/number}"),
        ("commits_url", "/commits{/sha}"),
        ("compare_url", "/compare/{base}...{head}"),
        ("contents_url", "/contents/{+path}"),
        ("contributors_url", "/contributors"),
        ("deployments_url", "/deployments"),
        ("downloads_url", "/downloads"),
        ("events_url", "/events"),
        ("forks_url", "/forks"),
        ("git_commits_url", "/git/commits{/sha}"),
        ("git_refs_url", "/git/refs{/sha}"),
        ("git_tags_url", "/git/tags{/sha}"),
        ("hooks_url", "/hooks"),
        ("issue_comment_url", "/issues/comments{/number}"),
        ("issue_events_url", "/issues/events{/number}"),
        ("issues_url", "/issues{/number}"),
        ("keys_url", "/keys{/key_id}"),
        ("labels_url", "/labels{/name}"),
        ("languages_url", "/languages"),
        ("merges_url", "/merges"),
        ("milestones_url", "/milestones{/number}"),
        ("notifications_url", "/notifications{?since,all,participating}"),
        ("pulls_url", "/pulls{/number}"),
        ("releases_url", "/releases{/id}"),
        ("stargazers_url", "/stargazers"),
        ("statuses_url", "/statuses/{sha}"),
        ("subscribers_url", "/subscribers"),
        ("subscription_url", "/subscription"),
        ("tags_url", "/tags"),
        ("teams_url", "/teams"),
        ("trees_url", "/git/trees{/sha}"),
    ] {
        v[key] = json!(format!("{api}{tail}"));
    }
    v
}

fn commit_json(owner: &str, repo: &str, c: &FakeCommit) -> Value {
    let api = format!("https://api.github.com/repos/{owner}/{repo}");
    let person = json!({"name": c.author, "email": format!("{}@users.noreply.github.com", c.author), "date": c.date});
    json!({
        "url": format!("{api}/commits/{}", c.sha), "sha": c.sha, "node_id": commit_node_id(&c.sha),
        "html_url": format!("https://github.com/{owner}/{repo}/commit/{}", c.sha), "comments_url": format!("{api}/commits/{}/comments", c.sha),
        "commit": {
            "url": format!("{api}/git/commits/{}", c.sha), "author": person, "committer": person, "message": c.message, "comment_count": 0,
            "tree": {"sha": hex::encode(Sha256::digest(c.sha.as_bytes()))[..40].to_string(), "url": format!("{api}/git/trees/{}", c.sha)},
            "verification": {
                "verified": c.verified, "reason": c.reason,
                "signature": if c.verified { json!("-----BEGIN PGP SIGNATURE-----\n…\n-----END PGP SIGNATURE-----") } else { Value::Null },
                "payload": if c.verified { json!(format!("tree …\n\n{}", c.message)) } else { Value::Null },
                "verified_at": if c.verified { json!(c.date) } else { Value::Null },
            },
        },
        "author": simple_user(&c.author), "committer": simple_user(c.committer.as_deref().unwrap_or("web-flow")),
        "parents": c.parents.iter().map(|p| json!({"sha": p, "url": format!("{api}/commits/{p}"), "html_url": format!("https://github.com/{owner}/{repo}/commit/{p}")})).collect::<Vec<_>>(),
    })
}

/// Whether the commit → pull request lookups list `p` for `sha`: its merge commit, head or
/// one of its commits, and (merged as every fake pull request is) only when merged into
/// the default branch — GitHub lists only open pull requests for a commit off it.
pub(crate) fn associated(p: &FakePull, sha: &str) -> bool {
    p.base == "main"
        && (p.merge_commit_sha.as_deref() == Some(sha) || p.head_sha == sha || p.commits.iter().any(|c| c == sha))
}

/// When a pull request was merged (and last updated): just after its merge commit.
pub(crate) fn merged_at(s: &ChangesState, p: &FakePull) -> String {
    let date = s.commits.iter().find(|c| Some(&c.sha) == p.merge_commit_sha.as_ref()).map(|c| c.date.as_str());
    merged_after(date)
}

/// Each commit's date by sha, to date many pull requests at once ([`merged_at_in`]).
pub(crate) fn commit_dates(s: &ChangesState) -> HashMap<&str, &str> {
    s.commits.iter().map(|c| (c.sha.as_str(), c.date.as_str())).collect()
}

/// [`merged_at`] with the dates looked up once (a list of thousands of pull requests).
pub(crate) fn merged_at_in(dates: &HashMap<&str, &str>, p: &FakePull) -> String {
    merged_after(p.merge_commit_sha.as_deref().and_then(|m| dates.get(m).copied()))
}

fn merged_after(date: Option<&str>) -> String {
    let date = date.map(str::to_string).unwrap_or_else(|| "2026-01-01T00:00:00Z".into());
    chrono::DateTime::parse_from_rfc3339(&date)
        .map(|d| (d + chrono::Duration::seconds(30)).to_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or(date)
}

fn pull_json(owner: &str, repo: &str, p: &FakePull, merged: &str) -> Value {
    let api = format!("https://api.github.com/repos/{owner}/{repo}");
    let html = format!("https://github.com/{owner}/{repo}/pull/{}", p.number);
    let id = 1_000_000 + p.number;
    let link = |href: String| json!({"href": href});
    let links = json!({
        "self": link(format!("{api}/pulls/{}", p.number)), "html": link(html.clone()), "issue": link(format!("{api}/issues/{}", p.number)),
        "comments": link(format!("{api}/issues/{}/comments", p.number)), "review_comments": link(format!("{api}/pulls/{}/comments", p.number)),
        "review_comment": link(format!("{api}/pulls/comments{{/number}}")), "commits": link(format!("{api}/pulls/{}/commits", p.number)),
        "statuses": link(format!("{api}/statuses/{}", p.head_sha)),
    });
    let head = json!({"label": format!("{owner}:feature-{}", p.number), "ref": format!("feature-{}", p.number), "sha": p.head_sha, "user": simple_user(owner), "repo": repository(owner, repo)});
    let base = json!({"label": format!("{owner}:{}", p.base), "ref": p.base, "sha": p.commits.first().cloned().unwrap_or_default(), "user": simple_user(owner), "repo": repository(owner, repo)});
    let mut v = json!({
        "url": format!("{api}/pulls/{}", p.number), "id": id, "node_id": node_id("PullRequest", id), "html_url": html,
        "diff_url": format!("{html}.diff"), "patch_url": format!("{html}.patch"), "issue_url": format!("{api}/issues/{}", p.number),
        "commits_url": format!("{api}/pulls/{}/commits", p.number), "review_comments_url": format!("{api}/pulls/{}/comments", p.number),
        "review_comment_url": format!("{api}/pulls/comments{{/number}}"), "comments_url": format!("{api}/issues/{}/comments", p.number),
        "statuses_url": format!("{api}/statuses/{}", p.head_sha), "number": p.number, "state": "closed", "locked": false, "title": p.title,
        "user": simple_user(&p.author), "body": null, "labels": [], "milestone": null, "active_lock_reason": null,
        "created_at": "2025-12-01T00:00:00Z", "updated_at": merged, "closed_at": merged,
        "merged_at": if p.closed_unmerged { Value::Null } else { json!(merged) }, "merge_commit_sha": p.merge_commit_sha,
        "assignee": null, "assignees": [], "requested_reviewers": [], "requested_teams": [],
        "author_association": "MEMBER", "auto_merge": null, "draft": false,
    });
    v["_links"] = links;
    v["head"] = head;
    v["base"] = base;
    v
}

/// Every ancestor of `sha` (itself included), by index in `commits`.
fn ancestors(commits: &[FakeCommit], sha: &str) -> BTreeSet<usize> {
    let index: HashMap<&str, usize> = commits.iter().enumerate().map(|(i, c)| (c.sha.as_str(), i)).collect();
    let mut seen = BTreeSet::new();
    let mut stack: Vec<usize> = index.get(sha).copied().into_iter().collect();
    while let Some(i) = stack.pop() {
        if seen.insert(i) {
            stack.extend(commits[i].parents.iter().filter_map(|p| index.get(p.as_str()).copied()));
        }
    }
    seen
}

fn resolve(s: &ChangesState, r: &str) -> Option<String> {
    if let Some((_, sha)) = s.tags.iter().find(|(t, _)| t == r) {
        return Some(sha.clone());
    }
    s.commits.iter().find(|c| c.sha == r).map(|c| c.sha.clone())
}

async fn compare(
    State(f): State<FakeChanges>,
    Path((owner, repo, basehead)): Path<(String, String, String)>,
    Query(q): Query<Paging>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) =
        f.refused(&headers, "GET compare", format!("{basehead} page={:?} per_page={:?}", q.page, q.per_page))
    {
        return r;
    }
    if f.state.lock().unwrap().stall_compare {
        return stalled().await;
    }
    let Some((base, head)) = basehead.split_once("...") else { return error(StatusCode::NOT_FOUND, "Not Found") };
    let s = f.state.lock().unwrap();
    let (Some(base_sha), Some(head_sha)) = (resolve(&s, base), resolve(&s, head)) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let of_base = ancestors(&s.commits, &base_sha);
    let of_head = ancestors(&s.commits, &head_sha);
    let Some(&merge_base) = of_base.intersection(&of_head).max() else {
        return error(StatusCode::NOT_FOUND, &format!("No common ancestor between {base} and {head}."));
    };
    let ahead: Vec<usize> = of_head.difference(&of_base).copied().collect();
    let behind = of_base.difference(&of_head).count();
    let status = match (ahead.is_empty(), behind == 0) {
        (true, true) => "identical",
        (false, true) => "ahead",
        (true, false) => "behind",
        (false, false) => "diverged",
    };
    let listed: Vec<usize> = if q.page.is_none() && q.per_page.is_none() {
        ahead.iter().take(250).copied().collect()
    } else {
        page(&ahead, &q, 30)
    };
    let listed: Vec<Value> = listed.iter().map(|i| commit_json(&owner, &repo, &s.commits[*i])).collect();
    let base_commit = s.commits.iter().find(|c| c.sha == base_sha).map(|c| commit_json(&owner, &repo, c));
    let html = format!("https://github.com/{owner}/{repo}/compare/{basehead}");
    axum::Json(json!({
        "url": format!("https://api.github.com/repos/{owner}/{repo}/compare/{basehead}"), "html_url": html,
        "permalink_url": format!("https://github.com/{owner}/{repo}/compare/{owner}:{}...{owner}:{}", &base_sha[..7], &head_sha[..7]),
        "diff_url": format!("{html}.diff"), "patch_url": format!("{html}.patch"),
        "base_commit": base_commit, "merge_base_commit": commit_json(&owner, &repo, &s.commits[merge_base]),
        "status": status, "ahead_by": ahead.len(), "behind_by": behind, "total_commits": ahead.len(),
        "commits": listed, "files": [],
    }))
    .into_response()
}

async fn commit_pulls(
    State(f): State<FakeChanges>,
    Path((owner, repo, sha)): Path<(String, String, String)>,
    Query(q): Query<Paging>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = f.refused(&headers, "GET commit pulls", sha.clone()) {
        return r;
    }
    let s = f.state.lock().unwrap();
    if s.forbid_pulls {
        return error(StatusCode::FORBIDDEN, "Resource not accessible by integration");
    }
    if !s.commits.iter().any(|c| c.sha == sha) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, &format!("No commit found for SHA: {sha}"));
    }
    let all: Vec<Value> = s
        .pulls
        .iter()
        .filter(|p| associated(p, &sha))
        .map(|p| pull_json(&owner, &repo, p, &merged_at(&s, p)))
        .collect();
    axum::Json(page(&all, &q, 30)).into_response()
}

#[derive(Deserialize)]
struct PullQuery {
    state: Option<String>,
    sort: Option<String>,
    direction: Option<String>,
    per_page: Option<usize>,
    page: Option<usize>,
}

/// `GET /pulls`: every fake pull request is merged, hence closed; `sort=updated`
/// orders by the time of merge.
async fn list_pulls(
    State(f): State<FakeChanges>,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<PullQuery>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = f.refused(
        &headers,
        "GET pulls",
        format!("state={:?} sort={:?} direction={:?} page={:?}", q.state, q.sort, q.direction, q.page),
    ) {
        return r;
    }
    let s = f.state.lock().unwrap();
    if s.forbid_pulls {
        return error(StatusCode::FORBIDDEN, "Resource not accessible by integration");
    }
    if q.state.as_deref() == Some("open") {
        return axum::Json(Vec::<Value>::new()).into_response();
    }
    let dates = commit_dates(&s);
    let mut dated: Vec<(String, &FakePull)> = s.pulls.iter().map(|p| (merged_at_in(&dates, p), p)).collect();
    dated.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.number.cmp(&b.1.number)));
    if q.direction.as_deref() != Some("asc") {
        dated.reverse();
    }
    let paging = Paging { per_page: q.per_page, page: q.page };
    let all: Vec<usize> = (0..dated.len()).collect();
    let listed: Vec<Value> =
        page(&all, &paging, 30).into_iter().map(|i| pull_json(&owner, &repo, dated[i].1, &dated[i].0)).collect();
    axum::Json(listed).into_response()
}

/// `GET /pulls/{n}`: the full `pull-request` shape, the only one naming the merger.
async fn one_pull(
    State(f): State<FakeChanges>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = f.refused(&headers, "GET pull", number.to_string()) {
        return r;
    }
    let s = f.state.lock().unwrap();
    if s.forbid_pulls {
        return error(StatusCode::FORBIDDEN, "Resource not accessible by integration");
    }
    let Some(p) = s.pulls.iter().find(|p| p.number == number) else { return error(StatusCode::NOT_FOUND, "Not Found") };
    let mut v = pull_json(&owner, &repo, p, &merged_at(&s, p));
    let extra = json!({
        "merged": true, "mergeable": null, "rebaseable": null, "mergeable_state": "unknown",
        "merged_by": p.merged_by.as_deref().map(simple_user), "comments": 0, "review_comments": 0,
        "maintainer_can_modify": false, "commits": p.commits.len().max(1), "additions": 1, "deletions": 0, "changed_files": 1,
    });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    axum::Json(v).into_response()
}

async fn pull_reviews(
    State(f): State<FakeChanges>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Query(q): Query<Paging>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = f.refused(&headers, "GET pull reviews", number.to_string()) {
        return r;
    }
    let s = f.state.lock().unwrap();
    if s.forbid_pulls {
        return error(StatusCode::FORBIDDEN, "Resource not accessible by integration");
    }
    let Some(p) = s.pulls.iter().find(|p| p.number == number) else { return error(StatusCode::NOT_FOUND, "Not Found") };
    let html = format!("https://github.com/{owner}/{repo}/pull/{number}");
    let all: Vec<Value> = p
        .reviews
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "node_id": node_id("PullRequestReview", r.id), "user": simple_user(&r.user), "body": r.body,
                "state": r.state, "html_url": format!("{html}#pullrequestreview-{}", r.id),
                "pull_request_url": format!("https://api.github.com/repos/{owner}/{repo}/pulls/{number}"),
                "_links": {"html": {"href": format!("{html}#pullrequestreview-{}", r.id)}, "pull_request": {"href": format!("https://api.github.com/repos/{owner}/{repo}/pulls/{number}")}},
                "submitted_at": "2026-01-02T00:00:00Z", "commit_id": r.commit_id, "author_association": "MEMBER",
            })
        })
        .collect();
    axum::Json(page(&all, &q, 30)).into_response()
}

async fn run_approvals(
    State(f): State<FakeChanges>,
    Path((owner, repo, run_id)): Path<(String, String, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = f.refused(&headers, "GET run approvals", run_id.to_string()) {
        return r;
    }
    let s = f.state.lock().unwrap();
    let all: Vec<Value> = s
        .approvals
        .get(&run_id)
        .into_iter()
        .flatten()
        .map(|a| {
            json!({
                "environments": [{
                    "id": 161_088_068, "node_id": node_id("Environment", 161_088_068), "name": a.environment,
                    "url": format!("https://api.github.com/repos/{owner}/{repo}/environments/{}", a.environment),
                    "html_url": format!("https://github.com/{owner}/{repo}/deployments/activity_log?environments_filter={}", a.environment),
                    "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z",
                }],
                "state": a.state, "user": simple_user(&a.user), "comment": a.comment,
            })
        })
        .collect();
    axum::Json(all).into_response()
}

async fn tags(
    State(f): State<FakeChanges>,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<Paging>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = f.refused(&headers, "GET tags", format!("page={:?}", q.page)) {
        return r;
    }
    let s = f.state.lock().unwrap();
    if s.tags_rate_limited {
        let body = axum::Json(
            json!({"message": "API rate limit exceeded for installation ID 1.", "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}),
        );
        return (
            StatusCode::FORBIDDEN,
            [("x-ratelimit-limit", "1000"), ("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1767225600")],
            body,
        )
            .into_response();
    }
    let all: Vec<Value> = s
        .tags
        .iter()
        .rev()
        .map(|(name, sha)| {
            json!({
                "name": name, "node_id": node_id("Ref", user_id(name)),
                "commit": {"sha": sha, "url": format!("https://api.github.com/repos/{owner}/{repo}/commits/{sha}")},
                "zipball_url": format!("https://api.github.com/repos/{owner}/{repo}/zipball/refs/tags/{name}"),
                "tarball_url": format!("https://api.github.com/repos/{owner}/{repo}/tarball/refs/tags/{name}"),
            })
        })
        .collect();
    axum::Json(page(&all, &q, 30)).into_response()
}

/// A 200 whose body starts and never finishes: relayed from a socket that sends the
/// headers and one byte, then holds the connection open.
async fn stalled() -> Response {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a local port");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        let Ok((mut socket, _)) = listener.accept().await else { return };
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n1\r\n{\r\n";
        let _ = socket.write_all(head.as_bytes()).await;
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        drop(socket);
    });
    let upstream = reqwest::get(format!("http://{addr}/")).await.expect("the stalling socket answers its headers");
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from_stream(upstream.bytes_stream()))
        .expect("a response")
}

/// The head commit of a pull request whose commits are not in the history, by its author.
fn head_commit(p: &FakePull) -> FakeCommit {
    FakeCommit {
        sha: p.head_sha.clone(),
        parents: Vec::new(),
        author: p.author.clone(),
        committer: Some(p.author.clone()),
        message: p.title.clone(),
        date: "2026-01-01T00:00:00Z".into(),
        verified: true,
        reason: "valid".into(),
    }
}

/// A pull request's own commits as GitHub lists them: those in the history, those pushed
/// to it, or (a squash merge without either) its head by its author.
pub(crate) fn own_commits(s: &ChangesState, p: &FakePull) -> Vec<FakeCommit> {
    let mut listed: Vec<FakeCommit> =
        p.commits.iter().filter_map(|sha| s.commits.iter().find(|c| &c.sha == sha).cloned()).collect();
    listed.extend(p.pushed.iter().cloned());
    if listed.is_empty() {
        listed.push(head_commit(p));
    }
    listed
}

/// `GET /pulls/{n}/commits`: the `commit` shape, paged (GitHub lists at most 250).
async fn pull_commits(
    State(f): State<FakeChanges>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Query(q): Query<Paging>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = f.refused(&headers, "GET pull commits", number.to_string()) {
        return r;
    }
    let s = f.state.lock().unwrap();
    if s.forbid_pulls {
        return error(StatusCode::FORBIDDEN, "Resource not accessible by integration");
    }
    let Some(p) = s.pulls.iter().find(|p| p.number == number) else { return error(StatusCode::NOT_FOUND, "Not Found") };
    let listed = own_commits(&s, p);
    let all: Vec<Value> = listed.iter().take(250).map(|c| commit_json(&owner, &repo, c)).collect();
    axum::Json(page(&all, &q, 30)).into_response()
}

/// The sha of the tag object an annotated tag's ref names.
fn tag_object_sha(name: &str) -> String {
    hex::encode(Sha256::digest(format!("tag object\0{name}")))[..40].to_string()
}

/// `GET /git/ref/tags/{tag}`: the ref, naming the commit (lightweight) or the tag object
/// (annotated); 404 when there is no such tag. GitHub's `git-ref` shape.
async fn git_ref(
    State(f): State<FakeChanges>,
    Path((owner, repo, reference)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = f.refused(&headers, "GET git ref", reference.clone()) {
        return r;
    }
    let s = f.state.lock().unwrap();
    let Some(name) = reference.strip_prefix("tags/") else { return not_found() };
    let Some((_, sha)) = s.tags.iter().rev().find(|(n, _)| n == name) else { return not_found() };
    let (kind, object) =
        if s.annotated.iter().any(|n| n == name) { ("tag", tag_object_sha(name)) } else { ("commit", sha.clone()) };
    let api = format!("https://api.github.com/repos/{owner}/{repo}");
    axum::Json(json!({
        "ref": format!("refs/tags/{name}"), "node_id": node_id("Ref", user_id(name)),
        "url": format!("{api}/git/refs/tags/{name}"),
        "object": {"type": kind, "sha": object, "url": format!("{api}/git/{kind}s/{object}")},
    }))
    .into_response()
}

/// `GET /git/tags/{tag_sha}`: an annotated tag object. GitHub's `git-tag` shape.
async fn git_tag(
    State(f): State<FakeChanges>,
    Path((owner, repo, tag_sha)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = f.refused(&headers, "GET git tag", tag_sha.clone()) {
        return r;
    }
    let s = f.state.lock().unwrap();
    let Some((name, sha)) = s.tags.iter().rev().find(|(n, _)| s.annotated.contains(n) && tag_object_sha(n) == tag_sha)
    else {
        return not_found();
    };
    let api = format!("https://api.github.com/repos/{owner}/{repo}");
    axum::Json(json!({
        "node_id": node_id("Tag", user_id(name)), "tag": name, "sha": tag_sha,
        "url": format!("{api}/git/tags/{tag_sha}"), "message": format!("Release {name}\n"),
        "tagger": {"name": "kyma-bot", "email": "kyma-bot@example.com", "date": "2026-01-01T00:00:00Z"},
        "object": {"type": "commit", "sha": sha, "url": format!("{api}/git/commits/{sha}")},
        "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null},
    }))
    .into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(
            json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}),
        ),
    )
        .into_response()
}
