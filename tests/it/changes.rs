//! The change and approval trail end to end: the real binary against the fake's git
//! history, pull requests, reviews and run approvals.

use std::path::Path;
use std::process::Command;

use release_audit_test_support::fake_changes::FakeChanges;
use release_audit_test_support::step::RUN_ID;
use release_audit_test_support::{FakeGitHub, Step, StepResult};
use serde_json::Value;

use crate::binary;

/// The history every test starts from (oldest first), with what each commit must be
/// classified as.
pub(crate) struct History {
    pub(crate) base: String,
    pub(crate) reviewed: String,
    pub(crate) self_approved: String,
    pub(crate) stale: String,
    pub(crate) direct: String,
    pub(crate) dismissed: String,
    pub(crate) bot: String,
    pub(crate) branch: [String; 2],
    pub(crate) merge: String,
    pub(crate) ghost: String,
}

const STALE_APPROVAL: &str = "0123456789abcdef0123456789abcdef01234567";

pub(crate) fn history(c: &FakeChanges) -> History {
    let root = c.commit("initial", "alice", &[], true);
    c.tag("1.2.1", &root);
    let base = c.commit("release 1.2.2", "alice", &[&root], true);
    c.tag("1.2.2", &base);
    c.tag("latest", &base);

    // Squash-merged, approved by someone else on the final head.
    let reviewed = c.commit("Add metric pipeline (#11)", "alice", &[&base], true);
    c.pull(11, "Add metric pipeline", "alice", "1111111111111111111111111111111111111111", &reviewed, &[]);
    c.review(11, "bob", "COMMENTED", "1111111111111111111111111111111111111111");
    c.review(11, "bob", "APPROVED", "1111111111111111111111111111111111111111");
    // Approved only by its author, and unsigned.
    let self_approved = c.commit("Tune retries (#12)", "carol", &[&reviewed], false);
    c.pull(12, "Tune retries", "carol", "2222222222222222222222222222222222222222", &self_approved, &[]);
    c.review(12, "carol", "APPROVED", "2222222222222222222222222222222222222222");
    // Approved, then pushed again without a new approval.
    let stale = c.commit("Raise limits (#13)", "dave", &[&self_approved], true);
    c.pull(13, "Raise limits", "dave", "3333333333333333333333333333333333333333", &stale, &[]);
    c.review(13, "bob", "APPROVED", STALE_APPROVAL);
    // Pushed straight to main, unsigned.
    let direct = c.commit("hotfix: typo", "dave", &[&stale], false);
    // Approved, then the approval was dismissed.
    let dismissed = c.commit("Drop old API (#14)", "erin", &[&direct], true);
    c.pull(14, "Drop old API", "erin", "4444444444444444444444444444444444444444", &dismissed, &[]);
    c.review(14, "bob", "APPROVED", "4444444444444444444444444444444444444444");
    c.dismiss(14, "bob");
    // Approved only by a bot.
    let bot = c.commit("Bump deps (#15)", "alice", &[&dismissed], true);
    c.pull(15, "Bump deps", "alice", "5555555555555555555555555555555555555555", &bot, &[]);
    c.review(15, "renovate[bot]", "APPROVED", "5555555555555555555555555555555555555555");
    // A merge commit bringing a two-commit branch, approved on its head.
    let b1 = c.commit("wip: collector", "frank", &[&bot], true);
    let b2 = c.commit("collector: tests", "frank", &[&b1], true);
    let merge = c.commit("Merge pull request #16 from frank/collector", "frank", &[&bot, &b2], true);
    c.pull(16, "Collector", "frank", &b2, &merge, &[&b1, &b2]);
    c.review(16, "grace", "APPROVED", &b2);
    // Authored by an account that was deleted since.
    let ghost = c.commit("Old contribution (#17)", "ghost", &[&merge], true);
    c.pull(17, "Old contribution", "ghost", "7777777777777777777777777777777777777777", &ghost, &[]);
    c.review(17, "bob", "APPROVED", "7777777777777777777777777777777777777777");
    History { base, reviewed, self_approved, stale, direct, dismissed, bot, branch: [b1, b2], merge, ghost }
}

/// Release 1.2.2, then `count` squash-merged pull requests of one commit each, every one
/// approved by another on its final head; returns the newest commit.
pub(crate) fn squash_merged(c: &FakeChanges, count: u64) -> String {
    let root = c.commit("release 1.2.2", "alice", &[], true);
    c.tag("1.2.2", &root);
    let mut head = root;
    for n in 1..=count {
        let final_head = format!("{n:040x}");
        head = c.commit(&format!("Change {n} (#{n})"), "alice", &[&head], true);
        c.pull(n, &format!("Change {n}"), "alice", &final_head, &head, &[]);
        c.review(n, "bob", "APPROVED", &final_head);
    }
    head
}

pub(crate) fn step(fake: &FakeGitHub, head: &str) -> Step {
    let mut step = Step::with_fake(fake);
    step.input("release-version", "1.2.3")
        .input("required-reports", "none")
        .input("upload", "false")
        .set("GITHUB_SHA", head);
    step
}

/// The requests the change trail made: every request the fake's change routes and its
/// releases route answered, less the release tag's lookup (the audit's own, before the
/// trail; not the trail's budget).
pub(crate) fn trail_requests(fake: &FakeGitHub) -> usize {
    fake.changes.request_count() + fake.calls("GET releases").len()
        - fake.changes.requests_to("GET git ref")
        - fake.changes.requests_to("GET git tag")
        - fake.changes.requests_to("POST graphql")
}

fn bundle_file(step: &Step, result: &StepResult, rel: &str) -> Vec<u8> {
    step.bundle_file(result, rel)
}

pub(crate) fn json(step: &Step, result: &StepResult, rel: &str) -> Value {
    serde_json::from_slice(&bundle_file(step, result, rel)).unwrap()
}

pub(crate) fn status_of<'a>(commits: &'a Value, sha: &str) -> &'a Value {
    &commits
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["sha"] == sha)
        .unwrap_or_else(|| panic!("{sha} is not in commits.json"))["review"]
}

pub(crate) fn verify(path: &Path) -> (i32, String) {
    let out = Command::new(binary()).arg("verify").arg(path).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

/// The review statement, the summary and report.html of the full history's run.
fn statement_and_summary(step: &Step, result: &StepResult, h: &History, c: &Value) {
    // The review control's statement has the range as its subject.
    let statement = json(step, result, "statements/code-review.intoto.json");
    assert_eq!(statement["subject"][0]["digest"]["gitCommit"], h.ghost.as_str());
    assert_eq!(statement["subject"][1]["digest"]["gitCommit"], h.base.as_str());
    assert_eq!(statement["predicate"]["counts"]["reviewed"], 4);

    // Summary: one table and the unreviewed commits with links.
    assert!(result.summary.contains("### Change trail: `1.2.2` →"), "{}", result.summary);
    assert!(result.summary.contains("| 10 | 7 | 4 | 6 | 2 |"), "{}", result.summary);
    assert!(
        result.summary.contains(&format!("(https://github.com/kyma-project/telemetry-manager/commit/{})", h.direct)),
        "{}",
        result.summary
    );
    assert!(
        result.summary.contains("(https://github.com/kyma-project/telemetry-manager/pull/13)"),
        "{}",
        result.summary
    );
    assert!(result.summary.contains("| Commit | Pull request | Merged by | Why |"), "{}", result.summary);
    let unreviewed = &c["unreviewed"];
    let named = |sha: &str| unreviewed.as_array().unwrap().iter().find(|u| u["sha"] == sha).unwrap().clone();
    assert_eq!(
        named(&h.stale)["merged_by"],
        serde_json::json!(["dave"]),
        "the merger of #13 is named with its unreviewed commit"
    );
    assert_eq!(named(&h.direct).get("merged_by"), None, "a direct push has no merger");
    let html = String::from_utf8(bundle_file(step, result, "report.html")).unwrap();
    assert!(html.contains("<h2>Change trail</h2>") && html.contains(&h.stale), "report.html shows the trail");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_commit_is_classified_and_the_bundle_holds_the_trail() {
    let fake = FakeGitHub::start().await;
    fake.add_release("1.2.2", false);
    fake.add_release("1.2.3", true); // the draft of this release
    let h = history(&fake.changes);
    fake.changes.approval(RUN_ID, "release-lead", "approved", "production", "ship it");
    fake.changes.merged_by(16, Some("grace"));
    fake.changes.merged_by(17, None);
    // The REST path (a server without GraphQL); tests/it/changes_graphql.rs holds the
    // bulk path to the same classifications.
    fake.changes.refuse_graphql(404);

    let mut step = step(&fake, &h.ghost);
    step.input("previous-release", "auto");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    assert_eq!(result.outputs["verdict"], "passed", "gates are off by default");

    let m = json(&step, &result, "manifest.json");
    let c = &m["evidence"]["changes"];
    assert_eq!(c["previous_release"], "1.2.2");
    assert!(c["previous_found_by"].as_str().unwrap().contains("published release"), "{c}");
    assert_eq!(c["range"]["base_sha"], h.base.as_str());
    assert_eq!(c["range"]["status"], "ahead");
    assert_eq!(
        c["counts"],
        serde_json::json!({"commits": 10, "pull_requests": 7, "reviewed": 4, "unreviewed": 6, "direct_pushes": 1, "not_checked": 0, "unsigned": 2})
    );
    assert_eq!(c["reviewed_changes"]["held"], false);
    assert_eq!(c["reviewed_changes"]["required"], false);
    assert_eq!(c["release_approval"]["held"], true);
    assert_eq!(c["release_approval"]["detail"], "approved by release-lead");

    let commits = json(&step, &result, "changes/commits.json");
    assert_eq!(status_of(&commits, &h.reviewed)["status"], "reviewed");
    assert_eq!(status_of(&commits, &h.merge)["status"], "reviewed");
    for b in &h.branch {
        assert_eq!(
            status_of(&commits, b),
            &serde_json::json!({"status": "reviewed", "pull": 16}),
            "branch commits belong to #16"
        );
    }
    let why = |sha: &str| status_of(&commits, sha)["why"].as_str().unwrap_or_default().to_string();
    assert!(why(&h.self_approved).contains("approved only by its author"), "{}", why(&h.self_approved));
    assert!(
        why(&h.stale).contains("approved on 0123456") && why(&h.stale).contains("not re-approved"),
        "{}",
        why(&h.stale)
    );
    assert_eq!(status_of(&commits, &h.direct)["status"], "direct_push");
    assert!(why(&h.dismissed).contains("no standing approval"), "{}", why(&h.dismissed));
    assert!(why(&h.bot).contains("only by a bot"), "{}", why(&h.bot));
    assert!(why(&h.ghost).contains("deleted account"), "{}", why(&h.ghost));
    let unsigned = commits.as_array().unwrap().iter().find(|x| x["sha"] == h.self_approved.as_str()).unwrap();
    assert_eq!(unsigned["verification"], serde_json::json!({"verified": false, "reason": "unsigned"}));
    assert_eq!(unsigned["author"]["login"], "carol");
    assert_eq!(unsigned["message"], "Tune retries (#12)");

    let pulls = json(&step, &result, "changes/pulls.json");
    let p13 = pulls.as_array().unwrap().iter().find(|p| p["number"] == 13).unwrap();
    assert_eq!(p13["reviews"][0]["commit_id"], STALE_APPROVAL);
    assert_eq!(p13["review"]["status"], "stale");
    // The merger, from the one answer that names it.
    let merger = |n: u64| {
        pulls
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["number"] == n)
            .map(|p| (p["merged_by"]["login"].clone(), p["merged_by_note"].clone()))
            .unwrap()
    };
    assert_eq!(merger(13), (Value::from("dave"), Value::Null), "self-merged");
    assert_eq!(merger(16), (Value::from("grace"), Value::Null));
    assert_eq!(merger(17), (Value::Null, Value::from("GitHub names no merger for it")));
    let approvals = json(&step, &result, "changes/approvals.json");
    assert_eq!(approvals["actor"], "release-bot");
    assert_eq!(approvals["approvals"][0]["user"]["login"], "release-lead");
    assert_eq!(approvals["approvals"][0]["environments"][0], "production");

    // Requests: counted as the fake saw them; the merged branch cost no lookups.
    let routes = |route: &str| fake.changes.requests_to(route);
    assert_eq!(routes("GET pulls"), 1, "one page of closed pull requests maps every merge commit");
    assert_eq!(
        routes("GET commit pulls"),
        1,
        "only the direct push is looked up on its own; the branch commits come with their merge commit"
    );
    assert_eq!(routes("GET pull reviews"), 7);
    assert_eq!(routes("GET pull"), 7, "one read per pull request for its merger");
    assert_eq!(c["requests"].as_u64().unwrap() as usize, trail_requests(&fake));

    statement_and_summary(&step, &result, &h, c);

    // An auditor's verify agrees with every count.
    let (code, out) = verify(&step.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gates_fail_naming_each_change_and_pass_when_the_controls_hold() {
    let fake = FakeGitHub::start().await;
    let h = history(&fake.changes);

    // Unreviewed changes and no approval: both gates fail, each says why.
    let mut strict = step(&fake, &h.ghost);
    strict.input("require-reviewed-changes", "true").input("require-release-approval", "true");
    let result = strict.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stdout, result.stderr);
    assert_eq!(result.outputs["verdict"], "failed");
    assert!(result.summary.contains("reviewed changes: 6 of 10 commits are unreviewed"), "{}", result.summary);
    assert!(result.summary.contains(&h.direct[..7]), "{}", result.summary);
    assert!(
        result.summary.contains("release approval: the release run had no environment approval"),
        "{}",
        result.summary
    );
    assert!(result.summary.contains("| ❌ Reviewed changes | yes | no |"), "{}", result.summary);
    assert!(result.stdout.contains("::error title=Release audit failed::reviewed changes"), "{}", result.stdout);
    let c = &json(&strict, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(c["previous_release"], "1.2.2", "found without the input: the newest lower version tag");
    assert!(c["previous_found_by"].as_str().unwrap().contains("version tag"), "{c}");

    // A range where every change was reviewed, and an approved run: both hold.
    fake.changes.tag("1.2.2-collector-base", &h.bot);
    fake.changes.approval(RUN_ID, "release-lead", "approved", "production", "");
    let mut ok = step(&fake, &h.merge);
    ok.input("previous-release", "1.2.2-collector-base")
        .input("require-reviewed-changes", "true")
        .input("require-release-approval", "true");
    let result = ok.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.summary);
    let c = &json(&ok, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(c["counts"]["commits"], 3);
    assert_eq!(c["counts"]["reviewed"], 3);
    assert_eq!(c["reviewed_changes"]["held"], true);
    assert_eq!(c["previous_found_by"], "the `previous-release` input");
    assert!(result.summary.contains("| ✅ Reviewed changes | yes | yes |"), "{}", result.summary);
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_recomputes_the_counts_from_the_trail_files() {
    let fake = FakeGitHub::start().await;
    let h = history(&fake.changes);
    let mut step = step(&fake, &h.ghost);
    step.input("previous-release", "1.2.2");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}", result.stderr);
    let dir = step.resolve(&result.outputs["manifest-path"]).parent().unwrap().to_path_buf();

    // A forger raises `reviewed` and lowers `unreviewed` in both manifests and fixes up SHA256SUMS.
    let mut m: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    m["evidence"]["changes"]["counts"]["reviewed"] = 10.into();
    m["evidence"]["changes"]["counts"]["unreviewed"] = 0.into();
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    std::fs::write(dir.join("manifest.yaml"), serde_norway::to_string(&m).unwrap()).unwrap();
    let status = Command::new("bash")
        .arg("-c")
        .arg("find . -type f ! -name SHA256SUMS | sed 's|^./||' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS")
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    let (code, out) = verify(&dir);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("changes: the manifest records") && out.contains("reviewed: 10") && out.contains("reviewed: 4"),
        "{out}"
    );

    // A forger takes changes/approvals.json out of the bundle and out of every list:
    // the approval control can no longer be rechecked, and verify says so.
    let mut m: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    m["evidence"]["changes"]["counts"]["reviewed"] = 4.into();
    m["evidence"]["changes"]["counts"]["unreviewed"] = 6.into();
    m["files"].as_array_mut().unwrap().retain(|f| f["path"] != "changes/approvals.json");
    std::fs::remove_file(dir.join("changes/approvals.json")).unwrap();
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    std::fs::write(dir.join("manifest.yaml"), serde_norway::to_string(&m).unwrap()).unwrap();
    let status = Command::new("bash")
        .arg("-c")
        .arg("find . -type f ! -name SHA256SUMS | sed 's|^./||' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS")
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    let (code, out) = verify(&dir);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("changes/approvals.json is not in the bundle, but the manifest has a `changes` section"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn what_cannot_be_established_is_said_never_counted_as_reviewed() {
    let fake = FakeGitHub::start().await;
    let h = history(&fake.changes);

    // A token without `pull-requests: read`.
    fake.changes.forbid_pulls();
    let mut step1 = step(&fake, &h.ghost);
    step1.input("previous-release", "auto").input("require-reviewed-changes", "true");
    let result = step1.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}", result.stderr);
    let c = &json(&step1, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(c["counts"]["reviewed"], 0);
    assert_eq!(c["counts"]["not_checked"], 10);
    assert!(c["notes"].to_string().contains("pull-requests: read"), "{c}");
    assert!(result.summary.contains("pull-requests: read"), "{}", result.summary);
    let pull_routes = fake.changes.state.lock().unwrap().requests.iter().filter(|(r, _)| r.contains("pull")).count();
    assert_eq!(pull_routes, 1, "one refusal stops every pull request read");

    // A previous release that no longer exists.
    let mut step2 = step(&fake, &h.ghost);
    step2.input("previous-release", "0.9.0").input("require-reviewed-changes", "true");
    let result = step2.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}", result.stderr);
    let c = &json(&step2, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(c["range"], Value::Null);
    assert!(c["notes"][0].as_str().unwrap().contains("the previous release `0.9.0` cannot be compared"), "{c}");
    assert!(result.summary.contains("the change set could not be established"), "{}", result.summary);

    // Unrelated histories (a rewritten branch).
    let orphan = fake.changes.commit("rewritten history", "mallory", &[], false);
    fake.changes.tag("0.1.0", &orphan);
    let mut step3 = step(&fake, &h.ghost);
    step3.input("previous-release", "0.1.0");
    let result = step3.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}", result.stderr);
    let notes = json(&step3, &result, "manifest.json")["evidence"]["changes"]["notes"].to_string();
    assert!(notes.contains("share no commit"), "{notes}");

    // A release from another branch: the history diverged, the merge base is explained.
    let side = fake.changes.commit("backport on release-1.2", "alice", &[&h.base], true);
    fake.changes.tag("1.2.2-1", &side);
    let mut step4 = step(&fake, &h.ghost);
    step4.input("previous-release", "1.2.2-1");
    let result = step4.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}", result.stderr);
    let c = &json(&step4, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(c["range"]["status"], "diverged");
    assert_eq!(c["range"]["merge_base_sha"], h.base.as_str());
    assert_eq!(c["range"]["behind_by"], 1);
    assert!(c["notes"].to_string().contains("is not linear"), "{c}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_release_says_so() {
    let fake = FakeGitHub::start().await;
    let root = fake.changes.commit("initial", "alice", &[], true);
    let mut step = step(&fake, &root);
    step.input("require-reviewed-changes", "true");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stderr, result.summary);
    let c = &json(&step, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(c["previous_release"], Value::Null);
    assert!(c["reviewed_changes"]["detail"].as_str().unwrap().starts_with("first release"), "{c}");
    assert!(result.summary.contains("### Change trail: first release"), "{}", result.summary);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_range_beyond_the_request_budget_is_cut_and_said() {
    let fake = FakeGitHub::start().await;
    let head = squash_merged(&fake.changes, 900);
    fake.changes.refuse_graphql(404); // the REST path's own budget
    let mut step = step(&fake, &head);
    step.input("require-reviewed-changes", "true");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}", result.stderr);
    let c = &json(&step, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(c["requests"], 800, "the budget is kept");
    assert_eq!(c["requests"].as_u64().unwrap() as usize, trail_requests(&fake));
    let counts = &c["counts"];
    assert_eq!(counts["commits"], 900);
    assert!(counts["not_checked"].as_u64().unwrap() > 0, "{counts}");
    assert_eq!(counts["reviewed"].as_u64().unwrap() + counts["not_checked"].as_u64().unwrap(), 900, "{counts}");
    assert!(c["notes"].to_string().contains("the request budget (800 requests"), "{c}");
    let unread = counts["not_checked"].as_u64().unwrap();
    assert!(
        c["notes"].to_string().contains(&format!(
            "ran out: the reviews of {unread} of 900 pull requests were not read; their commits count as not checked"
        )),
        "{c}"
    );
    assert!(c["reviewed_changes"]["detail"].as_str().unwrap().contains("not checked: the request budget"), "{c}");
    assert!(result.summary.contains("of 800 |"), "{}", result.summary);
    // The merger is read last: the budget went to the reviews, and that is said.
    let pulls = json(&step, &result, "changes/pulls.json");
    let pulls = pulls.as_array().unwrap();
    assert!(
        pulls
            .iter()
            .all(|p| p["merged_by"].is_null() && p["merged_by_note"].as_str().unwrap().contains("request budget")),
        "{:?}",
        pulls.first()
    );
    assert!(
        c["notes"].to_string().contains(&format!(
            "the merger of {} of {} pull requests is not recorded",
            pulls.len(),
            pulls.len()
        )),
        "{c}"
    );
    assert_eq!(fake.changes.requests_to("GET pull"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_merger_is_read_with_what_the_budget_has_left_newest_first() {
    // 350 squash-merged pull requests of one commit each: their reviews and who wrote
    // their commits (two reads each) take most of the 800 requests, and what is left
    // goes to the newest mergers.
    const PULLS: u64 = 350;
    let fake = FakeGitHub::start().await;
    let head = squash_merged(&fake.changes, PULLS);
    for n in 1..=PULLS {
        fake.changes.merged_by(n, Some("maintainer"));
    }
    fake.changes.refuse_graphql(404); // the REST path's own budget
    let mut step = step(&fake, &head);
    step.input("require-reviewed-changes", "true");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "every change is reviewed: {}\n{}", result.stderr, result.summary);
    let m = json(&step, &result, "manifest.json");
    let ch = &m["evidence"]["changes"];
    assert_eq!(ch["counts"]["reviewed"], PULLS, "{ch}");
    assert_eq!(ch["requests"], 800, "{ch}");
    let read = fake.changes.requests_to("GET pull");
    assert!(read > 0 && read < PULLS as usize, "some mergers read, not all: {read}");
    let pulls = json(&step, &result, "changes/pulls.json");
    let with: Vec<u64> = pulls
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["merged_by"]["login"] == "maintainer")
        .map(|p| p["number"].as_u64().unwrap())
        .collect();
    assert_eq!(with.len(), read);
    assert_eq!(*with.iter().min().unwrap(), PULLS - read as u64 + 1, "the newest pull requests first");
    assert!(
        ch["notes"]
            .to_string()
            .contains(&format!("the merger of {} of {PULLS} pull requests is not recorded", PULLS as usize - read)),
        "{ch}"
    );
    let (code, out) = verify(&step.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_previous_release_that_cannot_be_looked_up_is_unknown_never_a_first_release() {
    let fake = FakeGitHub::start().await;
    let h = history(&fake.changes);
    fake.changes.state.lock().unwrap().tags_rate_limited = true;
    let mut step = step(&fake, &h.ghost);
    step.input("require-reviewed-changes", "true");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(
        result.code, 1,
        "the gate must not pass on an unknown change set: {}\n{}",
        result.stderr, result.summary
    );
    let c = &json(&step, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(c["previous_release"], Value::Null);
    assert_eq!(c["previous_release_unknown"], true);
    assert_eq!(c["reviewed_changes"]["held"], false);
    assert!(
        c["notes"]
            .to_string()
            .contains("the previous release could not be determined: the tags could not be listed (HTTP 403"),
        "{c}"
    );
    assert!(result.summary.contains("### Change trail: previous release unknown"), "{}", result.summary);
    assert!(
        !result.summary.contains("Change trail: first release")
            && !result.summary.contains("first release: there is no earlier"),
        "{}",
        result.summary
    );
    let (code, out) = verify(&step.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "verify agrees that the control did not hold: {out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pull_request_merged_into_another_branch_does_not_cover_a_commit_of_the_range() {
    let fake = FakeGitHub::start().await;
    let c = &fake.changes;
    let base = c.commit("release 1.2.2", "alice", &[], true);
    c.tag("1.2.2", &base);
    // X was reviewed in #9, which was merged into a throwaway branch (merge commit Y);
    // X itself reached main without a pull request into main.
    let x = c.commit("Risky change", "mallory", &[&base], true);
    let y = c.commit("Merge pull request #9 into scratch", "mallory", &[&x], true);
    c.pull(9, "Risky change", "mallory", &x, &y, &[&x]);
    c.review(9, "bob", "APPROVED", &x);
    let mut step = step(&fake, &x);
    step.input("previous-release", "1.2.2").input("require-reviewed-changes", "true");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stderr, result.summary);
    let commits = json(&step, &result, "changes/commits.json");
    assert_eq!(status_of(&commits, &x)["status"], "direct_push", "#9 was not merged into this release: {commits}");
    assert_eq!(json(&step, &result, "manifest.json")["evidence"]["changes"]["counts"]["reviewed"], 0);
}

/// `root` (tag `1.2.1`) → a direct push → `head`: the one unreviewed change of 1.2.3.
fn one_direct_push(c: &FakeChanges) -> (String, String, String) {
    let root = c.commit("release 1.2.1", "alice", &[], true);
    c.tag("1.2.1", &root);
    let direct = c.commit("sneak in a change", "mallory", &[&root], true);
    let head = c.commit("bump version", "mallory", &[&direct], true);
    (root, direct, head)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_version_tag_on_or_ahead_of_the_released_commit_is_never_the_previous_release() {
    // A published release 1.2.1, and a bare tag 1.2.2 pushed onto the released commit.
    let fake = FakeGitHub::start().await;
    fake.add_release("1.2.1", false);
    let (root, direct, head) = one_direct_push(&fake.changes);
    fake.changes.tag("1.2.2", &head);
    let mut on = step(&fake, &head);
    on.input("require-reviewed-changes", "true");
    let result = on.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "the direct push must fail the gate: {}\n{}", result.stderr, result.summary);
    let c = &json(&on, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(c["previous_release"], "1.2.1", "the published release, not the bare tag: {c}");
    assert_eq!(c["range"]["base_sha"], root.as_str());
    assert_eq!(status_of(&json(&on, &result, "changes/commits.json"), &direct)["status"], "direct_push");
    let previous = json(&on, &result, "changes/previous.json");
    assert_eq!(previous["method"], "search");
    assert_eq!(previous["candidates"][0]["tag"], "1.2.1");
    assert_eq!(previous["candidates"][0]["compared"]["status"], "ahead");
    let (code, out) = verify(&on.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");

    // No published release at all, and the bare tag 1.2.2 pushed ahead of the released
    // commit: passed over, said, and the tag below it that is an ancestor is taken.
    let fake = FakeGitHub::start().await;
    let (_, direct, head) = one_direct_push(&fake.changes);
    let ahead = fake.changes.commit("after the release", "mallory", &[&head], true);
    fake.changes.tag("1.2.2", &ahead);
    let mut ahead_step = step(&fake, &head);
    ahead_step.input("require-reviewed-changes", "true");
    let result = ahead_step.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stderr, result.summary);
    let c = &json(&ahead_step, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(c["previous_release"], "1.2.1", "{c}");
    assert!(
        c["notes"]
            .to_string()
            .contains("`1.2.2` was not taken as the previous release: it is ahead of the released commit"),
        "{c}"
    );
    assert_eq!(status_of(&json(&ahead_step, &result, "changes/commits.json"), &direct)["status"], "direct_push");

    // A published release on another release branch (Kyma tags X.Y.0 on release-X.Y):
    // it lies behind the released commit, and the range is every commit since their
    // merge base — the direct push on main is in it.
    let fake = FakeGitHub::start().await;
    let root = fake.changes.commit("initial", "alice", &[], true);
    let side = fake.changes.commit("release 1.2.2 on its branch", "alice", &[&root], true);
    fake.changes.tag("1.2.2", &side);
    fake.add_release("1.2.2", false);
    let head = fake.changes.commit("on main", "mallory", &[&root], false);
    let mut branch = step(&fake, &head);
    branch.input("require-reviewed-changes", "true");
    let result = branch.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stderr, result.summary);
    let c = &json(&branch, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(c["previous_release"], "1.2.2", "{c}");
    assert_eq!(status_of(&json(&branch, &result, "changes/commits.json"), &head)["status"], "direct_push");
    let (code, out) = verify(&branch.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");

    // The same position held by a bare version tag (no published release): anyone who
    // can push a tag could cut the range short there, so it is unknown, never a pass.
    let fake = FakeGitHub::start().await;
    let root = fake.changes.commit("initial", "alice", &[], true);
    let side = fake.changes.commit("a tag on a branch of its own", "mallory", &[&root], true);
    fake.changes.tag("1.2.2", &side);
    let head = fake.changes.commit("on main", "mallory", &[&root], true);
    let mut unknown = step(&fake, &head);
    unknown.input("require-reviewed-changes", "true");
    let result = unknown.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stderr, result.summary);
    let c = &json(&unknown, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(
        (c["previous_release"].clone(), c["previous_release_unknown"].clone()),
        (Value::Null, Value::from(true))
    );
    assert!(result.summary.contains("### Change trail: previous release unknown"), "{}", result.summary);
    let (code, out) = verify(&unknown.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_approver_who_wrote_or_committed_part_of_the_pull_request_is_not_a_second_pair_of_eyes() {
    let fake = FakeGitHub::start().await;
    let c = &fake.changes;
    let base = c.commit("release 1.2.2", "alice", &[], true);
    c.tag("1.2.2", &base);
    let mut head = base;
    for n in 1..=3u64 {
        let final_head = format!("{n:040x}");
        head = c.commit(&format!("Change {n} (#{n})"), "alice", &[&head], true);
        c.pull(n, &format!("Change {n}"), "alice", &final_head, &head, &[]);
    }
    // #1: bob pushed a commit of his own, then approved the result.
    let pushed = c.push_to_pull(1, "bob", "bob");
    c.review(1, "bob", "APPROVED", &pushed);
    // #2: erin committed a commit authored as alice, then approved.
    let pushed = c.push_to_pull(2, "alice", "erin");
    c.review(2, "erin", "APPROVED", &pushed);
    // #3: bob wrote none of it.
    c.review(3, "bob", "APPROVED", &format!("{:040x}", 3));
    let mut strict = step(&fake, &head);
    strict.input("previous-release", "1.2.2").input("require-reviewed-changes", "true");
    let result = strict.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stderr, result.summary);
    let m = json(&strict, &result, "manifest.json");
    assert_eq!(m["evidence"]["changes"]["counts"]["reviewed"], 1, "{}", m["evidence"]["changes"]);
    let pulls = json(&strict, &result, "changes/pulls.json");
    let pull = |n: u64| pulls.as_array().unwrap().iter().find(|p| p["number"] == n).unwrap().clone();
    assert_eq!(pull(1)["review"], serde_json::json!({"status": "approved_by_contributor", "by": ["bob"]}));
    assert_eq!(pull(1)["contributors"], serde_json::json!(["alice", "bob"]));
    assert_eq!(pull(2)["review"], serde_json::json!({"status": "approved_by_contributor", "by": ["erin"]}));
    assert_eq!(pull(3)["review"]["status"], "reviewed");
    assert!(result.summary.contains("who also wrote commits of it"), "{}", result.summary);
    // Who wrote them came with the bulk read (GraphQL); the REST path reads them only
    // where an approval would count (one request each).
    assert_eq!(fake.changes.requests_to("GET pull commits"), 0, "read in bulk");
    let (code, out) = verify(&strict.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bot_never_approves_the_release_run() {
    let fake = FakeGitHub::start().await;
    let root = fake.changes.commit("initial", "alice", &[], true);
    fake.changes.approval(RUN_ID, "deploy-helper[bot]", "approved", "production", "auto");
    let mut s = step(&fake, &root);
    s.input("require-release-approval", "true");
    let result = s.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stderr, result.summary);
    let c = &json(&s, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(c["release_approval"]["held"], false, "{c}");
    assert!(c["release_approval"]["detail"].as_str().unwrap().contains("only by bots (deploy-helper[bot])"), "{c}");
    let (code, out) = verify(&s.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");
}

/// Four eyes for the release run too: who started it (`GITHUB_ACTOR`,
/// `GITHUB_TRIGGERING_ACTOR`) approving its environment alone holds nothing; another
/// person's approval does. verify recomputes both from approvals.json.
#[tokio::test(flavor = "multi_thread")]
async fn the_release_runs_starter_approving_it_is_no_second_pair_of_eyes() {
    let fake = FakeGitHub::start().await;
    let root = fake.changes.commit("initial", "alice", &[], true);
    fake.changes.approval(RUN_ID, "Carol", "approved", "release", "lgtm");
    let mut s = step(&fake, &root);
    s.input("require-release-approval", "true").set("GITHUB_ACTOR", "dave").set("GITHUB_TRIGGERING_ACTOR", "carol");
    let result = s.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stderr, result.summary);
    let c = &json(&s, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(c["release_approval"]["held"], false, "{c}");
    assert!(c["release_approval"]["detail"].as_str().unwrap().contains("only by `Carol`, who started it"), "{c}");
    let (code, out) = verify(&s.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");

    fake.changes.approval(RUN_ID, "release-manager", "approved", "release", "ship it");
    let result = s.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stderr, result.summary);
    let c = &json(&s, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(
        c["release_approval"]["detail"], "approved by Carol, release-manager — `Carol` also started the run",
        "{c}"
    );
    let (code, out) = verify(&s.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");
}

/// Telemetry's release run has an environment on a test job too (the Gardener job's
/// `github-actions`): with `release-approval-environments`, only the named environment's
/// approval is the release approval, and verify recomputes that from approvals.json.
#[tokio::test(flavor = "multi_thread")]
async fn only_the_named_environments_approval_is_the_release_approval() {
    let fake = FakeGitHub::start().await;
    let root = fake.changes.commit("initial", "alice", &[], true);
    fake.changes.approval(RUN_ID, "test-lead", "approved", "github-actions", "run the Gardener tests");
    let mut s = step(&fake, &root);
    s.input("require-release-approval", "true").input("release-approval-environments", "release");
    let result = s.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stderr, result.summary);
    let c = &json(&s, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(c["release_approval"]["held"], false, "{c}");
    assert!(
        c["release_approval"]["detail"].as_str().unwrap().contains("no approval of the environment(s) release"),
        "{c}"
    );
    assert_eq!(json(&s, &result, "changes/approvals.json")["counted_environments"][0], "release");
    let (code, out) = verify(&s.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");

    // The release environment approved too: that approval, and only it, counts.
    fake.changes.approval(RUN_ID, "release-manager", "approved", "Release", "ship it");
    let result = s.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stderr, result.summary);
    let c = &json(&s, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(c["release_approval"]["detail"], "approved by release-manager", "{c}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_api_ends_the_run_at_the_deadline_naming_the_host() {
    let fake = FakeGitHub::start().await;
    let h = history(&fake.changes);
    fake.changes.stall_compare();
    let mut s = step(&fake, &h.ghost);
    s.input("previous-release", "1.2.2").input("timeout", "5s");
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(std::time::Duration::from_secs(60), s.run(&binary(), &[]))
        .await
        .expect("the run ends by its own deadline, not the job's");
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
    assert_ne!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    let host = fake.url.trim_start_matches("http://").trim_end_matches('/').to_string();
    let all = format!("{}{}", result.stdout, result.stderr);
    assert!(all.contains(&host) && all.contains("`timeout`"), "names the host {host}: {all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_of_huge_commit_messages_is_read_smaller_and_a_single_huge_commit_cuts_the_range() {
    let fake = FakeGitHub::start().await;
    let c = &fake.changes;
    let base = c.commit("release 1.2.2", "alice", &[], true);
    c.tag("1.2.2", &base);
    let mut head = base.clone();
    for n in 0..100 {
        let message = format!("change {n}: {}\n\nbody", "x".repeat(400 * 1024));
        head = c.commit(&message, "alice", &[&head], true);
    }
    let mut s = step(&fake, &head);
    s.input("previous-release", "1.2.2");
    let result = s.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stderr, result.summary);
    let ch = &json(&s, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(ch["counts"]["commits"], 100, "{ch}");
    assert!(ch["notes"].to_string().contains("100 commit messages have a first line longer than 200"), "{ch}");
    let commits = json(&s, &result, "changes/commits.json");
    let message = commits[0]["message"].as_str().unwrap();
    assert!(message.ends_with('…') && message.chars().count() == 201, "{}", message.len());

    // One commit whose answer alone is larger than any page read: the range is cut there.
    let huge = c.commit(&"y".repeat(9 * 1024 * 1024), "mallory", &[&head], false);
    let after = c.commit("after", "mallory", &[&huge], true);
    let mut cut = step(&fake, &after);
    cut.input("previous-release", "1.2.2").input("require-reviewed-changes", "true");
    let result = cut.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stderr, result.summary);
    assert_eq!(result.outputs["verdict"], "failed", "a verdict, not an error");
    let ch = &json(&cut, &result, "manifest.json")["evidence"]["changes"];
    assert!(ch["notes"].to_string().contains("commit 101 of the range could not be read"), "{ch}");
    assert_eq!(ch["reviewed_changes"]["held"], false);
    assert!(
        ch["reviewed_changes"]["detail"].as_str().unwrap().starts_with("only 100 of the range's 102 commits"),
        "{ch}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_of_huge_review_texts_is_read_in_smaller_pages_not_a_failed_audit() {
    let fake = FakeGitHub::start().await;
    let c = &fake.changes;
    let base = c.commit("release 1.2.2", "alice", &[], true);
    c.tag("1.2.2", &base);
    let final_head = "1111111111111111111111111111111111111111";
    let head = c.commit("Change (#1)", "alice", &[&base], true);
    c.pull(1, "Change", "alice", final_head, &head, &[]);
    // 100 comments of 65,536 characters each that JSON escapes to six bytes (`\u0007`):
    // one page of ~39 MB.
    let text = "\u{7}".repeat(65_536);
    for _ in 0..100 {
        c.review_with_body(1, "carol", "COMMENTED", final_head, &text);
    }
    c.review(1, "bob", "APPROVED", final_head);
    let mut s = step(&fake, &head);
    s.input("previous-release", "1.2.2").input("require-reviewed-changes", "true");
    let result = s.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stderr, result.summary);
    let ch = &json(&s, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(ch["counts"]["reviewed"], 1, "{ch}");
    assert_eq!(json(&s, &result, "changes/pulls.json")[0]["reviews"].as_array().unwrap().len(), 101);
}
