//! The change trail's bulk reads through GraphQL, end to end: the real binary against the
//! fake's GraphQL endpoint, which answers from the same seeded history as its REST routes.
//!
//! - every query the trail sends is validated against GitHub's published schema
//!   (`@octokit/graphql-schema`, with graphql-js's `validate()`), and each answer the fake
//!   gave is checked against the query (tests/node/graphql-check.mjs);
//! - the GraphQL and the REST paths give the same classification to every commit and
//!   pull request of the seeded histories (a differential test: the same history, once
//!   with GraphQL refused);
//! - the budgets: never more than half of what GitHub says remains;
//! - a release branch with rebase- and squash-merged pull requests.

use std::path::Path;
use std::process::Command;

use release_audit_test_support::FakeGitHub;
use release_audit_test_support::fake_changes::FakeChanges;
use serde_json::Value;

use crate::binary;
use crate::changes::{History, history, json, squash_merged, status_of, step, trail_requests, verify};

/// Runs tests/node/graphql-check.mjs over `cases` (`[{query, variables, answer?}]`);
/// returns whether it passed and what it printed. Without node or the schema package,
/// the test fails and says how to get them.
fn check_against_schema(cases: &[Value]) -> (bool, String) {
    let node_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    let schema = node_dir.join("node_modules/@octokit/graphql-schema/schema.graphql");
    assert!(
        schema.is_file() && node_dir.join("node_modules/graphql/package.json").is_file(),
        "GitHub's GraphQL schema is missing at {}: run the suite with `tests/run`, or `npm ci` in tests/node (packages @octokit/graphql-schema and graphql)",
        schema.display()
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(cases).unwrap()).unwrap();
    let out = Command::new("node")
        .arg(node_dir.join("graphql-check.mjs"))
        .arg(file.path())
        .current_dir(&node_dir)
        .output()
        .expect("node runs (Node.js 20 is needed for the suite)");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Builds a history into a fake; returns the released commit.
type Seed = fn(&FakeChanges) -> String;

/// The seeded histories of the differential test.
fn seeds() -> Vec<(&'static str, Seed)> {
    fn full(c: &FakeChanges) -> String {
        let h: History = history(c);
        c.merged_by(16, Some("grace"));
        c.merged_by(17, None);
        h.ghost
    }
    fn squash(c: &FakeChanges) -> String {
        squash_merged(c, 120)
    }
    fn merges(c: &FakeChanges) -> String {
        let root = c.commit("release 1.2.2", "alice", &[], true);
        c.tag("1.2.2", &root);
        let mut head = root;
        for n in 1..=30u64 {
            let branch = c.line(3, "alice", &head);
            let last = branch.last().unwrap().clone();
            let merge = c.commit(&format!("Merge pull request #{n}"), "alice", &[&head, &last], true);
            let refs: Vec<&str> = branch.iter().map(String::as_str).collect();
            c.pull(n, &format!("Change {n}"), "alice", &last, &merge, &refs);
            // Every third approved only by someone who also pushed to it; every fifth stale.
            let reviewer = if n % 3 == 0 { "carol" } else { "bob" };
            let on = if n % 5 == 0 { "0123456789abcdef0123456789abcdef01234567".to_string() } else { last.clone() };
            if n % 3 == 0 {
                let pushed = c.push_to_pull(n, "alice", "carol");
                c.review(n, reviewer, "APPROVED", &pushed);
            } else {
                c.review(n, reviewer, "APPROVED", &on);
            }
            head = merge;
        }
        c.commit("hotfix straight to main", "dave", &[&head], false)
    }
    fn release_branch(c: &FakeChanges) -> String {
        release_branch_history(c).head
    }
    vec![("full", full), ("squash", squash), ("merges", merges), ("release branch", release_branch)]
}

struct ReleaseBranch {
    rebased: Vec<String>,
    squashed: String,
    direct: String,
    head: String,
}

/// `1.2.2` on `release-1.2`, then #31 rebase-merged into it (three commits), #32
/// squash-merged into it, a direct push, and #33 merged into `main` (not this release).
fn release_branch_history(c: &FakeChanges) -> ReleaseBranch {
    let root = c.commit("release 1.2.1", "alice", &[], true);
    let base = c.commit("release 1.2.2", "alice", &[&root], true);
    c.tag("1.2.2", &base);
    let rebased = c.rebase_merged(31, "Backport fix", "alice", &base, 3);
    c.base(31, "release-1.2");
    let head31 = c.state.lock().unwrap().pulls.iter().find(|p| p.number == 31).unwrap().head_sha.clone();
    c.review(31, "bob", "APPROVED", &head31);
    let squashed = c.commit("Backport metrics (#32)", "alice", &[rebased.last().unwrap()], true);
    c.pull(32, "Backport metrics", "alice", "3232323232323232323232323232323232323232", &squashed, &[]);
    c.base(32, "release-1.2");
    c.review(32, "bob", "APPROVED", "3232323232323232323232323232323232323232");
    let direct = c.commit("bump version", "release-bot", &[&squashed], true);
    // A pull request into main whose merge commit is not in this release's history.
    let elsewhere = c.commit("Main only (#33)", "alice", &[&root], true);
    c.pull(33, "Main only", "alice", "3333333333333333333333333333333333333333", &elsewhere, &[]);
    c.review(33, "bob", "APPROVED", "3333333333333333333333333333333333333333");
    ReleaseBranch { rebased, squashed, direct: direct.clone(), head: direct }
}

/// The classifications a run recorded: each commit's and each pull request's, and the
/// merger of each pull request.
fn classifications(step: &release_audit_test_support::Step, result: &release_audit_test_support::StepResult) -> Value {
    let commits = json(step, result, "changes/commits.json");
    let pulls = json(step, result, "changes/pulls.json");
    let m = json(step, result, "manifest.json");
    serde_json::json!({
        "commits": commits.as_array().unwrap().iter().map(|c| serde_json::json!([c["sha"], c["review"]])).collect::<Vec<_>>(),
        "pulls": pulls.as_array().unwrap().iter().map(|p| serde_json::json!([p["number"], p["review"], p["merged_by"]["login"]])).collect::<Vec<_>>(),
        "counts": m["evidence"]["changes"]["counts"],
        "reviewed_changes": m["evidence"]["changes"]["reviewed_changes"],
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn graphql_and_rest_give_every_commit_and_pull_request_the_same_classification() {
    for (name, seed) in seeds() {
        let mut runs = Vec::new();
        for graphql in [true, false] {
            let fake = FakeGitHub::start().await;
            let head = seed(&fake.changes);
            if !graphql {
                fake.changes.refuse_graphql(404);
            }
            let mut step = step(&fake, &head);
            step.input("previous-release", "1.2.2");
            let result = step.run(&binary(), &[]).await;
            assert_eq!(result.code, 0, "{name}: {}\n{}", result.stderr, result.summary);
            let c = &json(&step, &result, "manifest.json")["evidence"]["changes"];
            if graphql {
                assert!(fake.changes.graphql_points() > 0, "{name}: GraphQL read");
                assert_eq!(c["graphql"]["points"].as_u64().unwrap(), fake.changes.graphql_points(), "{name}: {c}");
                assert_eq!(fake.changes.requests_to("GET pull reviews"), 0, "{name}: reviews came in bulk");
            } else {
                assert!(c["notes"].to_string().contains("GitHub refused the GraphQL query (HTTP 404"), "{name}: {c}");
                assert!(fake.changes.requests_to("GET pull reviews") > 0, "{name}: REST read the reviews");
            }
            assert_eq!(c["requests"].as_u64().unwrap() as usize, trail_requests(&fake), "{name}");
            let (code, out) = verify(&step.resolve(&result.outputs["bundle-path"]));
            assert_eq!(code, 0, "{name}: {out}");
            runs.push(classifications(&step, &result));
        }
        assert_eq!(runs[0], runs[1], "{name}: the GraphQL path (left) and the REST path (right) disagree");
        assert_eq!(runs[0]["counts"]["not_checked"], 0, "{name}: {}", runs[0]["counts"]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_query_the_trail_sends_is_valid_against_githubs_schema() {
    let fake = FakeGitHub::start().await;
    let head = release_branch_history(&fake.changes).head;
    let mut s = step(&fake, &head);
    s.input("previous-release", "1.2.2");
    let result = s.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}", result.stderr);
    let mut sent = fake.changes.graphql_queries();
    let full = FakeGitHub::start().await;
    let h = history(&full.changes);
    let mut s = step(&full, &h.ghost);
    s.input("previous-release", "auto");
    assert_eq!(s.run(&binary(), &[]).await.code, 0);
    sent.extend(full.changes.graphql_queries());
    let names: std::collections::BTreeSet<String> =
        sent.iter().filter_map(|q| q["query"].as_str()?.split(['(', ' ']).nth(1).map(str::to_string)).collect();
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["CommitPullRequests", "MergedPullRequests"],
        "both queries were sent"
    );
    let (ok, out) = check_against_schema(&sent);
    assert!(ok, "{out}");
    assert!(out.contains(&format!("{} passed, 0 failed", sent.len())), "{out}");

    // The check can fail: a field GitHub does not have, and an answer the query does not allow.
    let mut wrong = sent[0].clone();
    wrong["query"] = Value::from(wrong["query"].as_str().unwrap().replace("mergedBy", "mergedByUser"));
    let mut bad_answer = sent[0].clone();
    bad_answer["answer"]["data"]["rateLimit"]["cost"] = Value::from("two");
    let (ok, out) = check_against_schema(&[wrong, bad_answer]);
    assert!(!ok && out.contains("Cannot query field \"mergedByUser\"") && out.contains("0 passed, 2 failed"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_release_branch_classifies_each_commit_by_its_pull_request() {
    let fake = FakeGitHub::start().await;
    let r = release_branch_history(&fake.changes);
    let mut s = step(&fake, &r.head);
    s.input("previous-release", "auto").input("require-reviewed-changes", "true");
    let result = s.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "one direct push: {}\n{}", result.stderr, result.summary);
    let commits = json(&s, &result, "changes/commits.json");
    for sha in &r.rebased {
        assert_eq!(status_of(&commits, sha), &serde_json::json!({"status": "reviewed", "pull": 31}), "{commits}");
    }
    assert_eq!(status_of(&commits, &r.squashed), &serde_json::json!({"status": "reviewed", "pull": 32}));
    assert_eq!(status_of(&commits, &r.direct)["status"], "direct_push");
    let m = json(&s, &result, "manifest.json");
    let c = &m["evidence"]["changes"];
    assert_eq!(c["counts"]["reviewed"], 4, "{c}");
    assert_eq!(c["counts"]["direct_pushes"], 1, "{c}");
    // Found by listing the release branch's merged pull requests, not by the lookups.
    let log = fake.changes.state.lock().unwrap().requests.clone();
    assert!(log.iter().any(|(r, d)| r == "POST graphql" && d.contains("\"base\":\"release-1.2\"")), "{log:?}");
    assert_eq!(fake.changes.requests_to("GET commit pulls"), 0, "{log:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_100_requests_remaining_the_trail_takes_at_most_50_and_says_what_it_left_unchecked() {
    let fake = FakeGitHub::start().await;
    let head = squash_merged(&fake.changes, 120);
    fake.changes.refuse_graphql(404);
    fake.changes.rate_remaining(100);
    let mut s = step(&fake, &head);
    s.input("previous-release", "1.2.2").input("require-reviewed-changes", "true");
    let result = s.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stderr, result.summary);
    let c = &json(&s, &result, "manifest.json")["evidence"]["changes"];
    let taken = trail_requests(&fake);
    assert!(taken <= 50, "took {taken} of 100");
    assert_eq!(c["requests"].as_u64().unwrap() as usize, taken);
    assert_eq!(c["request_budget"], 50, "{c}");
    let notes = c["notes"].to_string();
    assert!(notes.contains("the request budget (50 requests, half of the 100 GitHub said remained"), "{notes}");
    let unchecked = c["counts"]["not_checked"].as_u64().unwrap();
    assert!(unchecked > 0, "{c}");
    assert!(notes.contains("pull requests were not read; their commits count as not checked"), "{notes}");
    assert!(result.summary.contains("half of the 100 GitHub said remained"), "{}", result.summary);

    // The same for GraphQL points: 120 pull requests need more than the 3 of 6 points left.
    let fake = FakeGitHub::start().await;
    let head = squash_merged(&fake.changes, 320);
    fake.changes.graphql_remaining(6);
    let mut s = step(&fake, &head);
    s.input("previous-release", "1.2.2");
    let result = s.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}", result.stderr);
    let c = &json(&s, &result, "manifest.json")["evidence"]["changes"];
    assert!(fake.changes.graphql_points() <= 3, "took {} of 6 points", fake.changes.graphql_points());
    assert_eq!(c["graphql"]["budget"], 3, "{c}");
    assert!(c["notes"].to_string().contains("GraphQL points, half of the 6 GitHub said remained"), "{}", c["notes"]);
    assert_eq!(c["counts"]["reviewed"], 320, "REST read the rest: {c}");
}

#[tokio::test(flavor = "multi_thread")]
async fn what_one_graphql_page_cannot_hold_is_read_through_rest() {
    // #1 has 130 reviews (the approval last) and #2 has 120 commits: GraphQL lists the
    // first 100 of each, so their lists are read through REST, and classified the same.
    let fake = FakeGitHub::start().await;
    let c = &fake.changes;
    let base = c.commit("release 1.2.2", "alice", &[], true);
    c.tag("1.2.2", &base);
    let one = c.commit("Busy review (#1)", "alice", &[&base], true);
    c.pull(1, "Busy review", "alice", &"1".repeat(40), &one, &[]);
    for _ in 0..129 {
        c.review(1, "carol", "COMMENTED", &"1".repeat(40));
    }
    c.review(1, "bob", "APPROVED", &"1".repeat(40));
    let branch = c.line(120, "alice", &one);
    let last = branch.last().unwrap().clone();
    let merge = c.commit("Merge pull request #2", "alice", &[&one, &last], true);
    let refs: Vec<&str> = branch.iter().map(String::as_str).collect();
    c.pull(2, "Long branch", "alice", &last, &merge, &refs);
    c.review(2, "bob", "APPROVED", &last);
    let mut s = step(&fake, &merge);
    s.input("previous-release", "1.2.2").input("require-reviewed-changes", "true");
    let result = s.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stderr, result.summary);
    let c = &json(&s, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(c["counts"]["reviewed"], 122, "{c}");
    assert_eq!(fake.changes.requests_to("GET pull reviews"), 2, "#1's 130 reviews, two pages of 100");
    assert_eq!(fake.changes.requests_to("GET pull commits"), 3, "#1's one commit, #2's 120 in two pages");
    let pulls = json(&s, &result, "changes/pulls.json");
    assert_eq!(pulls[0]["reviews"].as_array().unwrap().len(), 130);
    assert_eq!(pulls[1]["contributors"], serde_json::json!(["alice", "web-flow"]));
}
