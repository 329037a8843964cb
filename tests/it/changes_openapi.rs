//! Fidelity of the fake's change-trail routes: every answer they give is checked against
//! the response schema of the same operation in GitHub's own OpenAPI description
//! (`@octokit/openapi`, installed into tests/node by `tests/run`). Without the
//! description the test fails and says how to get it.

use std::path::{Path, PathBuf};

use release_audit_test_support::FakeGitHub;
use release_audit_test_support::step::RUN_ID;
use serde_json::{Value, json};

fn description() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/node/node_modules/@octokit/openapi/generated/api.github.com.json");
    assert!(
        path.is_file(),
        "GitHub's OpenAPI description is missing at {}: run the suite with `tests/run`, or `npm ci` in tests/node (package @octokit/openapi)",
        path.display()
    );
    path
}

struct Answers<'a> {
    fake: &'a FakeGitHub,
    repo: &'static str,
    all: Vec<Value>,
}

impl Answers<'_> {
    /// GETs `route` (under the repository) and keeps the answer for operation `path`.
    async fn get(&mut self, path: &str, route: &str, expect: u16) -> Value {
        let r = release_audit_test_support::http()
            .get(format!("{}/repos/{}/{route}", self.fake.url, self.repo))
            .bearer_auth(&self.fake.rest_token)
            .header("accept", "application/vnd.github+json")
            .send()
            .await
            .expect("the fake answers");
        let status = r.status().as_u16();
        assert_eq!(status, expect, "GET {route}");
        let body: Value = r.json().await.expect("the fake answers JSON");
        self.all.push(json!({"path": path, "status": status, "body": body}));
        body
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_change_routes_answer_in_githubs_documented_shapes() {
    let spec = description();
    let fake = FakeGitHub::start().await;
    let c = &fake.changes;
    let root = c.commit("initial", "alice", &[], true);
    c.tag("1.0.0", &root);
    let squash = c.commit("Add feature (#1)", "alice", &[&root], false);
    c.pull(1, "Add feature", "alice", "1111111111111111111111111111111111111111", &squash, &[]);
    c.review(1, "bob", "APPROVED", "1111111111111111111111111111111111111111");
    c.review(1, "renovate[bot]", "COMMENTED", "1111111111111111111111111111111111111111");
    let b1 = c.commit("wip", "ghost", &[&squash], true);
    let merge = c.commit("Merge pull request #2", "carol", &[&squash, &b1], true);
    c.pull(2, "Branch", "ghost", &b1, &merge, &[&b1]);
    c.review(2, "bob", "APPROVED", &b1);
    c.dismiss(2, "bob");
    let side = c.commit("backport", "alice", &[&root], true);
    c.tag("1.0.1", &side);
    let orphan = c.commit("orphan", "alice", &[], true);
    c.tag("0.0.1", &orphan);
    c.approval(RUN_ID, "lead", "approved", "production", "ship it");
    c.approval(RUN_ID, "lead", "rejected", "staging", "");
    fake.add_release("1.0.0", false);

    let mut a = Answers { fake: &fake, repo: "kyma-project/telemetry-manager", all: Vec::new() };
    let compare = "/repos/{owner}/{repo}/compare/{basehead}";
    let body = a.get(compare, &format!("compare/1.0.0...{merge}?per_page=100&page=1"), 200).await;
    assert_eq!(body["total_commits"], 3);
    a.get(compare, &format!("compare/1.0.0...{merge}"), 200).await;
    let body = a.get(compare, &format!("compare/1.0.1...{merge}?per_page=2&page=2"), 200).await;
    assert_eq!((body["status"].as_str(), body["commits"].as_array().map(Vec::len)), (Some("diverged"), Some(1)));
    a.get(compare, &format!("compare/0.0.1...{merge}"), 404).await;
    a.get(compare, &format!("compare/9.9.9...{merge}"), 404).await;

    let pulls = "/repos/{owner}/{repo}/commits/{commit_sha}/pulls";
    assert_eq!(
        a.get(pulls, &format!("commits/{squash}/pulls?per_page=100"), 200).await.as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(a.get(pulls, &format!("commits/{b1}/pulls"), 200).await.as_array().map(Vec::len), Some(1));
    assert_eq!(a.get(pulls, &format!("commits/{side}/pulls"), 200).await.as_array().map(Vec::len), Some(0));

    let list = "/repos/{owner}/{repo}/pulls";
    let body = a.get(list, "pulls?state=closed&sort=updated&direction=desc&per_page=100&page=1", 200).await;
    assert_eq!(body[0]["number"], 2, "newest merge first");
    a.get(list, "pulls?state=closed&sort=updated&direction=desc&per_page=1&page=3", 200).await;

    let one = "/repos/{owner}/{repo}/pulls/{pull_number}";
    assert_eq!(a.get(one, "pulls/2", 200).await["merged_by"]["login"], "ghost");
    c.merged_by(1, None);
    assert_eq!(a.get(one, "pulls/1", 200).await["merged_by"], Value::Null);
    a.get(one, "pulls/99", 404).await;

    let reviews = "/repos/{owner}/{repo}/pulls/{pull_number}/reviews";
    assert_eq!(a.get(reviews, "pulls/1/reviews?per_page=100&page=1", 200).await.as_array().map(Vec::len), Some(2));
    assert_eq!(a.get(reviews, "pulls/2/reviews", 200).await[0]["state"], "DISMISSED");

    let commits = "/repos/{owner}/{repo}/pulls/{pull_number}/commits";
    assert_eq!(a.get(commits, "pulls/2/commits?per_page=100&page=1", 200).await[0]["sha"], b1.as_str());
    assert_eq!(a.get(commits, "pulls/1/commits", 200).await[0]["commit"]["author"]["name"], "alice");
    let pushed = c.push_to_pull(1, "alice", "bob");
    let body = a.get(commits, "pulls/1/commits?per_page=100&page=1", 200).await;
    assert_eq!((body[1]["sha"].as_str(), body[1]["committer"]["login"].as_str()), (Some(pushed.as_str()), Some("bob")));

    let approvals = "/repos/{owner}/{repo}/actions/runs/{run_id}/approvals";
    assert_eq!(
        a.get(approvals, &format!("actions/runs/{RUN_ID}/approvals"), 200).await.as_array().map(Vec::len),
        Some(2)
    );
    a.get(approvals, "actions/runs/1/approvals", 200).await;

    let tags = "/repos/{owner}/{repo}/tags";
    assert_eq!(a.get(tags, "tags?per_page=100&page=1", 200).await.as_array().map(Vec::len), Some(3));
    a.get("/repos/{owner}/{repo}/releases", "releases?per_page=100&page=1", 200).await;

    // Without `pull-requests: read`.
    c.forbid_pulls();
    a.get(pulls, &format!("commits/{squash}/pulls"), 403).await;
    a.get(reviews, "pulls/1/reviews", 403).await;
    a.get(one, "pulls/1", 403).await;
    a.get(commits, "pulls/1/commits", 403).await;
    a.get(list, "pulls?state=closed", 403).await;
    c.state.lock().unwrap().tags_rate_limited = true;
    a.get(tags, "tags?per_page=100&page=1", 403).await;

    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("answers.json");
    std::fs::write(&file, serde_json::to_vec(&a.all).unwrap()).unwrap();
    let out = std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/check_openapi.py"))
        .arg(&spec)
        .arg(&file)
        .output()
        .expect("python3 runs (with jsonschema, which tests/run installs)");
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the fake's answers do not match GitHub's OpenAPI description:\n{report}");
    assert!(report.contains(&format!("{} answers checked, 0 violations", a.all.len())), "{report}");
}
