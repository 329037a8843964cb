//! The release is the tag, in telemetry-manager's job order: `create-release.yml` runs
//! on `main` (`GITHUB_SHA`), tags a later commit of `release-1.3` (an annotated tag, on
//! the version-bump merge), and the audit runs after the tag exists. The bundle must name
//! the tag's commit, the change trail must end there, and `main`'s later commits must not
//! be in it. Against the fake's REST routes (git refs, tags, compare, pulls).

use std::path::Path;
use std::process::Command;

use release_audit_test_support::{FakeGitHub, Step, StepResult};
use serde_json::Value;

use crate::binary;

fn json(step: &Step, result: &StepResult, rel: &str) -> Value {
    serde_json::from_slice(&step.bundle_file(result, rel)).unwrap()
}

fn verify(path: &Path) -> (i32, String) {
    let out = Command::new(binary()).arg("verify").arg(path).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

/// History: `1.2.0` released on `release-1.2`; on `main` two reviewed changes, then the
/// `release-1.3` branch with the version bump tagged `1.3.0` (annotated); `main` moves on
/// with a direct push after the branch point. Returns (bump commit, main's head, the push).
fn telemetry_history(fake: &FakeGitHub) -> (String, String, String) {
    let c = &fake.changes;
    let root = c.commit("initial", "alice", &[], true);
    let released = c.commit("Bump version to 1.2.0 (#1)", "kyma-bot", &[&root], true);
    c.annotated_tag("1.2.0", &released);
    fake.add_release("1.2.0", false);
    let feature = c.commit("Add a log pipeline feature (#2)", "alice", &[&root], true);
    let head2 = format!("{:040x}", 2);
    c.pull(2, "Add a log pipeline feature", "alice", &head2, &feature, &[]);
    c.review(2, "bob", "APPROVED", &head2);
    let bump = c.commit("Bump version to 1.3.0 (#3)", "kyma-bot", &[&feature], true);
    let head3 = format!("{:040x}", 3);
    c.pull(3, "Bump version to 1.3.0", "kyma-bot", &head3, &bump, &[]);
    c.review(3, "alice", "APPROVED", &head3);
    c.annotated_tag("1.3.0", &bump);
    let later = c.commit("an unreviewed change on main after the branch point", "mallory", &[&feature], true);
    (bump, later.clone(), later)
}

fn release_step(fake: &FakeGitHub, github_sha: &str) -> Step {
    let mut step = Step::with_fake(fake);
    step.input("release-version", "1.3.0")
        .input("required-reports", "none")
        .input("upload", "false")
        .input("previous-release", "auto")
        .input("github-token", &fake.rest_token)
        .set("GITHUB_SHA", github_sha)
        .set("GITHUB_REF", "refs/heads/main");
    step
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bundle_names_the_tags_commit_not_the_commit_the_release_run_started_on() {
    release_audit::http::Net::default();
    let fake = FakeGitHub::start().await;
    let (bump, main_head, later) = telemetry_history(&fake);
    let step = release_step(&fake, &main_head);
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stderr, result.summary);

    let m = json(&step, &result, "manifest.json");
    assert_eq!(m["source"]["commit"], bump.as_str(), "the released commit is the tag's: {}", m["source"]);
    assert_eq!(m["source"]["ref"], "refs/tags/1.3.0");
    assert_eq!(m["source"]["commit_source"]["from"], "tag");
    assert_eq!(m["source"]["commit_source"]["tag"], "1.3.0");
    assert_eq!(m["source"]["commit_source"]["annotated"], true, "annotated tags are peeled to their commit");
    let changes = &m["evidence"]["changes"];
    assert_eq!(changes["range"]["head_sha"], bump.as_str(), "the change trail ends at the tag");
    let commits = json(&step, &result, "changes/commits.json");
    let shas: Vec<&str> = commits.as_array().unwrap().iter().filter_map(|c| c["sha"].as_str()).collect();
    assert!(!shas.contains(&later.as_str()), "main's later commit is not part of the release: {shas:?}");
    let statement = json(&step, &result, "statements/code-review.intoto.json");
    assert_eq!(statement["subject"][0]["digest"]["gitCommit"], bump.as_str(), "the review statement's subject");
    let (code, out) = verify(&step.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_tag_the_runner_commit_is_said_and_release_commit_names_it_explicitly() {
    release_audit::http::Net::default();
    let fake = FakeGitHub::start().await;
    let (bump, main_head, _) = telemetry_history(&fake);
    let lookups = || fake.changes.requests_to("GET git ref");

    // A version not tagged yet: the runner's commit, and the manifest says so.
    let mut untagged = release_step(&fake, &main_head);
    untagged.input("release-version", "1.4.0");
    let result = untagged.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stderr, result.summary);
    let m = json(&untagged, &result, "manifest.json");
    assert_eq!(m["source"]["commit"], main_head.as_str());
    assert_eq!(m["source"]["commit_source"]["from"], "runner_sha");
    assert_eq!(m["source"]["ref"], "refs/heads/main");

    assert_eq!(lookups(), 2, "both names of the version were looked up (1.4.0, v1.4.0)");

    // `release-commit` names it; no tag is looked up.
    let mut explicit = release_step(&fake, &main_head);
    explicit.input("release-commit", &bump);
    let result = explicit.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stderr, result.summary);
    let m = json(&explicit, &result, "manifest.json");
    assert_eq!(m["source"]["commit"], bump.as_str());
    assert_eq!(m["source"]["commit_source"]["from"], "input");
    assert_eq!(lookups(), 2, "no tag is looked up when release-commit names the commit");

    // A `release-commit` that is not a sha is refused before anything runs.
    let mut bad = release_step(&fake, &main_head);
    bad.input("release-commit", "release-1.3");
    let result = bad.run(&binary(), &[]).await;
    assert_eq!(result.code, 2, "{}", result.stderr);
    assert!(
        result.stderr.contains("input `release-commit`: `release-1.3` is not a full commit sha"),
        "{}",
        result.stderr
    );
}

/// A `v`-prefixed tag names the release of a version given without it (and the other way
/// round); a lightweight tag is not peeled.
#[tokio::test(flavor = "multi_thread")]
async fn the_tag_is_found_with_or_without_v() {
    release_audit::http::Net::default();
    let fake = FakeGitHub::start().await;
    let c = &fake.changes;
    let root = c.commit("initial", "alice", &[], true);
    let head = c.commit("release", "alice", &[&root], true);
    c.tag("v2.0.0", &head);
    let other = c.commit("main moved on", "alice", &[&head], true);
    let step = release_step(&fake, &other);
    let mut step = step;
    step.input("release-version", "2.0.0");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stderr, result.summary);
    let m = json(&step, &result, "manifest.json");
    assert_eq!(m["source"]["commit"], head.as_str());
    assert_eq!(m["source"]["commit_source"], serde_json::json!({"from": "tag", "tag": "v2.0.0", "annotated": false}));
}
