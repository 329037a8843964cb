//! The fake's GraphQL endpoint (`POST /graphql`) for the change trail's bulk reads,
//! answered from the same seeded history as the REST routes ([`crate::fake_changes`]).
//!
//! It answers the two operations the trail sends, by name — `MergedPullRequests` (merged
//! pull requests by base branch, newest first, 100 a page with cursors, each with its
//! reviews and commits) and `CommitPullRequests` (commits by node id, with their
//! associated pull requests) — in GitHub's shapes: a bot is `{"__typename": "Bot",
//! "login": "renovate"}` (REST says `renovate[bot]`), a commit's GitHub user is `null` for
//! a bot. The query text is not interpreted beyond its operation name and its cost, so
//! that what the trail selects is checked where it can be: every query received is kept,
//! and tests/it/changes_graphql.rs validates each against GitHub's published schema and
//! checks the answers against the query with graphql-js.
//!
//! `rateLimit { cost remaining }` follows GitHub's rule ([`query_cost`]); a query costing
//! more than what remains is answered `RATE_LIMITED`. With the pull request routes
//! forbidden ([`crate::fake_changes::FakeChanges::forbid_pulls`]) the answer is
//! GitHub's `FORBIDDEN` error.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::fake_changes::{
    ChangesState, FakeChanges, FakePull, associated, commit_dates, commit_of_node_id, merged_at_in, own_commits,
};

/// The date every fake review was submitted (as the REST route says).
const SUBMITTED_AT: &str = "2026-01-02T00:00:00Z";

/// The page sizes the query asked for.
struct Firsts {
    pulls: usize,
    reviews: usize,
    commits: usize,
    associated: usize,
}

/// `POST /graphql`.
pub async fn graphql(State(f): State<FakeChanges>, headers: HeaderMap, body: axum::Json<Value>) -> Response {
    let query = body["query"].as_str().unwrap_or_default().to_string();
    let vars = body.get("variables").cloned().unwrap_or(Value::Null);
    let op = operation_name(&query);
    if let Some(r) = f.refused_graphql(&headers, &format!("{op} {vars}")) {
        return r;
    }
    let mut s = f.state.lock().unwrap();
    if let Some(status) = s.refuse_graphql {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::NOT_FOUND);
        return (
            status,
            axum::Json(json!({"message": "Not Found", "documentation_url": "https://docs.github.com/graphql"})),
        )
            .into_response();
    }
    let cost = query_cost(&query, &vars);
    if cost > s.graphql_remaining {
        return errors("RATE_LIMITED", "API rate limit exceeded for installation ID 1.");
    }
    if s.forbid_pulls {
        return errors("FORBIDDEN", "Resource not accessible by integration");
    }
    let firsts = Firsts {
        pulls: first_of(&query, &vars, "pullRequests"),
        reviews: first_of(&query, &vars, "reviews"),
        commits: first_of(&query, &vars, "commits"),
        associated: first_of(&query, &vars, "associatedPullRequests"),
    };
    let mut data = match op.as_str() {
        "MergedPullRequests" => merged_pulls(&s, &vars, &firsts),
        "CommitPullRequests" => commit_pulls(&s, &vars, &firsts),
        other => return errors("UNKNOWN", &format!("the fake does not answer the operation `{other}`")),
    };
    s.graphql_remaining -= cost;
    s.graphql_points += cost;
    data["rateLimit"] = json!({"cost": cost, "remaining": s.graphql_remaining});
    let answer = json!({"data": data});
    s.graphql_queries.push(json!({"query": query, "variables": vars, "answer": answer}));
    axum::Json(answer).into_response()
}

fn errors(kind: &str, message: &str) -> Response {
    axum::Json(
        json!({"data": null, "errors": [{"type": kind, "message": message, "locations": [{"line": 1, "column": 1}]}]}),
    )
    .into_response()
}

impl FakeChanges {
    /// Counts the request; `None` when the token is the fake's, else the 401 to answer.
    fn refused_graphql(&self, headers: &HeaderMap, detail: &str) -> Option<Response> {
        let auth = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        self.state.lock().unwrap().requests.push(("POST graphql".into(), detail.into()));
        (!self.token_is(auth)).then(|| {
            (StatusCode::UNAUTHORIZED, axum::Json(json!({"message": "Bad credentials", "status": "401"})))
                .into_response()
        })
    }
}

/// The operation's name: `query Name(` → `Name`.
fn operation_name(query: &str) -> String {
    let rest = query.trim_start().strip_prefix("query").unwrap_or_default().trim_start();
    rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

/// A query's cost by GitHub's rule: every connection (a field given `first`) needs one
/// request per parent node (the product of the `first` of the connections above it,
/// and of the ids of `nodes(ids:)`); their sum over 100, rounded, at least 1.
pub fn query_cost(query: &str, vars: &Value) -> u64 {
    let inlined = inline_fragments(query);
    let tokens = tokenize(&inlined);
    let mut requests = 0u64;
    let mut stack: Vec<u64> = vec![1];
    let mut next: Option<u64> = None;
    let mut i = 0;
    while i < tokens.len() {
        match tokens[i].as_str() {
            "{" => {
                let here = *stack.last().unwrap_or(&1);
                stack.push(next.take().unwrap_or(here));
            }
            "}" => {
                stack.pop();
            }
            "(" => {
                let here = *stack.last().unwrap_or(&1);
                let (args, end) = arguments(&tokens, i, vars);
                if let Some(first) = args.get("first") {
                    requests += here;
                    next = Some(here * first);
                } else if let Some(ids) = args.get("ids") {
                    next = Some(here * ids);
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    ((requests + 50) / 100).max(1)
}

/// The page size a query asks of a connection (`first` of the field named `field`), as
/// the fake answers it: a field the query does not hold gets none.
pub fn first_of(query: &str, vars: &Value, field: &str) -> usize {
    let tokens = tokenize(&inline_fragments(query));
    tokens
        .windows(2)
        .position(|w| w[0] == field && w[1] == "(")
        .and_then(|i| arguments(&tokens, i + 1, vars).0.get("first").copied())
        .map_or(0, |n| n.min(100) as usize)
}

/// The numeric arguments of the argument list opening at `tokens[open]` (`first`, and
/// the length of a list such as `ids`), and where it closes.
fn arguments(tokens: &[String], open: usize, vars: &Value) -> (BTreeMap<String, u64>, usize) {
    let mut args = BTreeMap::new();
    let mut depth = 0;
    let mut i = open;
    while i < tokens.len() {
        match tokens[i].as_str() {
            "(" | "{" | "[" => depth += 1,
            ")" | "}" | "]" => {
                depth -= 1;
                if depth == 0 {
                    return (args, i);
                }
            }
            ":" if depth == 1 && i + 1 < tokens.len() => {
                let name = tokens[i - 1].clone();
                let value = &tokens[i + 1];
                let resolved = match value.strip_prefix('$') {
                    Some(var) => vars.get(var).cloned().unwrap_or(Value::Null),
                    None => value.parse::<u64>().map(Value::from).unwrap_or(Value::Null),
                };
                let n = match resolved {
                    Value::Number(n) => n.as_u64(),
                    Value::Array(a) => Some(a.len() as u64),
                    _ => None,
                };
                if let Some(n) = n {
                    args.insert(name, n);
                }
            }
            _ => {}
        }
        i += 1;
    }
    (args, i)
}

fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' || c == '$' {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        match c {
            '"' => {
                for d in chars.by_ref() {
                    if d == '"' {
                        break;
                    }
                }
                out.push("\"\"".into());
            }
            '#' => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            c if c.is_whitespace() || c == ',' => {}
            c => out.push(c.to_string()),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// The query with every `...Name` spread replaced by the fragment's selections.
fn inline_fragments(query: &str) -> String {
    let mut fragments: BTreeMap<String, String> = BTreeMap::new();
    let mut main = query.to_string();
    while let Some(at) = main.find("fragment ") {
        let head = &main[at + "fragment ".len()..];
        let name: String = head.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let Some(open) = main[at..].find('{').map(|o| at + o) else { break };
        let mut depth = 0;
        let mut close = open;
        for (k, c) in main[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = open + k;
                        break;
                    }
                }
                _ => {}
            }
        }
        fragments.insert(name, main[open + 1..close].to_string());
        main.replace_range(at..=close, "");
    }
    for _ in 0..4 {
        for (name, body) in &fragments {
            main = main.replace(&format!("...{name}"), body);
        }
    }
    main
}

/// A GraphQL `Actor` as GitHub gives it: a bot's login without `[bot]`.
fn actor(login: &str) -> Value {
    match login.strip_suffix("[bot]") {
        Some(bot) => json!({"__typename": "Bot", "login": bot}),
        None => json!({"__typename": "User", "login": login}),
    }
}

/// A commit author's or committer's GitHub user (`null` for a bot: `GitActor.user` is a User).
fn git_actor(login: &str) -> Value {
    let user = if login.ends_with("[bot]") { Value::Null } else { json!({"login": login}) };
    json!({"email": format!("{login}@users.noreply.github.com"), "user": user})
}

/// The `Pull` fragment's fields of one pull request.
fn pull_node(owner: &str, repo: &str, merged: &str, p: &FakePull) -> Value {
    json!({
        "number": p.number, "title": p.title, "url": format!("https://github.com/{owner}/{repo}/pull/{}", p.number),
        "updatedAt": merged, "mergedAt": (!p.closed_unmerged).then_some(merged), "baseRefName": p.base, "headRefOid": p.head_sha,
        "author": actor(&p.author), "mergedBy": p.merged_by.as_deref().filter(|_| !p.closed_unmerged).map(actor),
        "mergeCommit": p.merge_commit_sha.as_ref().filter(|_| !p.closed_unmerged).map(|oid| json!({"oid": oid})),
    })
}

/// With its reviews and commits (the first 100 of each, and how many there are).
fn pull_with_lists(owner: &str, repo: &str, merged: &str, s: &ChangesState, p: &FakePull, firsts: &Firsts) -> Value {
    let mut v = pull_node(owner, repo, merged, p);
    let reviews: Vec<Value> = p
        .reviews
        .iter()
        .take(firsts.reviews)
        .map(|r| {
            json!({"databaseId": r.id, "state": r.state, "submittedAt": SUBMITTED_AT, "author": actor(&r.user),
                   "commit": {"oid": r.commit_id}})
        })
        .collect();
    v["reviews"] = json!({"totalCount": p.reviews.len(), "nodes": reviews});
    let own = own_commits(s, p);
    let commits: Vec<Value> = own
        .iter()
        .take(firsts.commits)
        .map(|c| {
            json!({"commit": {
                "messageHeadline": c.message.lines().next().unwrap_or(""), "message": c.message, "authoredDate": c.date,
                "author": git_actor(&c.author), "committer": git_actor(c.committer.as_deref().unwrap_or("web-flow")),
            }})
        })
        .collect();
    v["commits"] = json!({"totalCount": own.len(), "nodes": commits});
    v
}

fn merged_pulls(s: &ChangesState, vars: &Value, firsts: &Firsts) -> Value {
    let (owner, repo) = (vars["owner"].as_str().unwrap_or("o"), vars["name"].as_str().unwrap_or("r"));
    let base = vars["base"].as_str();
    let dates = commit_dates(s);
    let mut dated: Vec<(String, &FakePull)> = s
        .pulls
        .iter()
        .filter(|p| p.merge_commit_sha.is_some() && !p.closed_unmerged && base.is_none_or(|b| b == p.base))
        .map(|p| (merged_at_in(&dates, p), p))
        .collect();
    dated.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.number.cmp(&a.1.number)));
    let start: usize =
        vars["after"].as_str().and_then(|c| c.strip_prefix("cursor:")).and_then(|n| n.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = dated
        .iter()
        .skip(start)
        .take(firsts.pulls)
        .map(|(merged, p)| pull_with_lists(owner, repo, merged, s, p, firsts))
        .collect();
    let end = start + page.len();
    json!({"repository": {
        "defaultBranchRef": {"name": "main"},
        "pullRequests": {
            "pageInfo": {"hasNextPage": end < dated.len(), "endCursor": (!page.is_empty()).then(|| format!("cursor:{end}"))},
            "nodes": page,
        },
    }})
}

fn commit_pulls(s: &ChangesState, vars: &Value, firsts: &Firsts) -> Value {
    let dates = commit_dates(s);
    let nodes: Vec<Value> = vars["ids"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|id| {
            let Some(sha) =
                id.as_str().and_then(commit_of_node_id).filter(|sha| s.commits.iter().any(|c| &c.sha == sha))
            else {
                return Value::Null;
            };
            let prs: Vec<Value> = s
                .pulls
                .iter()
                .filter(|p| associated(p, &sha))
                .take(firsts.associated)
                .map(|p| pull_node("o", "r", &merged_at_in(&dates, p), p))
                .collect();
            json!({"oid": sha, "associatedPullRequests": {"nodes": prs}})
        })
        .collect();
    json!({"nodes": nodes})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cost_follows_githubs_rule() {
        // GitHub's example: 1 + 100 + 5,000 requests = 51 points.
        let q = "query { viewer { repositories(first: 100) { nodes { issues(first: 50) { nodes { labels(first: 60) { nodes { name } } } } } } } }";
        assert_eq!(query_cost(q, &Value::Null), 51);
        let q = "query Q($n: Int) { viewer { login followers(first: $n) { totalCount } } rateLimit { cost } }";
        assert_eq!(query_cost(q, &json!({"n": 10})), 1);
        let q = "query Q($ids: [ID!]!) { nodes(ids: $ids) { ...F } } fragment F on Commit { a(first: 10) { nodes { b(first: 5) { totalCount } } } }";
        assert_eq!(query_cost(q, &json!({"ids": vec!["x"; 100]})), 11);
        assert_eq!(operation_name("query MergedPullRequests($a: Int) {"), "MergedPullRequests");
        let q = "query Q($n: Int) { repository { pullRequests(first: 74, after: $a) { nodes { reviews(first: $n) { totalCount } } } } }";
        assert_eq!(first_of(q, &json!({"n": 30}), "pullRequests"), 74);
        assert_eq!(first_of(q, &json!({"n": 30}), "reviews"), 30);
        assert_eq!(first_of(q, &json!({}), "commits"), 0);
    }
}
