//! The four-eyes rule tried as an adversary would (issue 18 red team, round three), on
//! the GraphQL bulk path and on the REST path (the same history with GraphQL refused),
//! which must agree. Each pull request below is one way to make "reviewed" hold when it
//! should not; none may.

use release_audit_test_support::FakeGitHub;
use release_audit_test_support::fake_changes::FakeChanges;
use serde_json::{Value, json};

use crate::binary;
use crate::changes::{json, status_of, step, verify};

/// The commits of the history and what each must be classified as.
struct Seeded {
    head: String,
    expected: Vec<(String, Value)>,
}

fn seed(c: &FakeChanges) -> Seeded {
    let base = c.commit("release 1.2.2", "alice", &[], true);
    c.tag("1.2.2", &base);
    let mut expected = Vec::new();
    let mut head = base;
    let squash = |c: &FakeChanges, head: &mut String, n: u64, author: &str| {
        *head = c.commit(&format!("Change {n} (#{n})"), author, &[head.as_str()], true);
        c.pull(n, &format!("Change {n}"), author, &format!("{n:040x}"), head, &[]);
        head.clone()
    };
    // #1 approved, then a commit pushed after the approval: stale, whoever pushed it.
    let one = squash(c, &mut head, 1, "alice");
    c.review(1, "bob", "APPROVED", &format!("{:040x}", 1));
    c.push_to_pull(1, "alice", "alice");
    expected.push((one, json!({"status": "unreviewed", "pulls": [1]})));
    // #2 the author approving under another case of the login.
    let two = squash(c, &mut head, 2, "Alice");
    c.review(2, "alice", "APPROVED", &format!("{:040x}", 2));
    expected.push((two, json!({"status": "unreviewed", "pulls": [2]})));
    // #3 an approval later dismissed; #4 a comment only.
    let three = squash(c, &mut head, 3, "alice");
    c.review(3, "bob", "APPROVED", &format!("{:040x}", 3));
    c.dismiss(3, "bob");
    expected.push((three, json!({"status": "unreviewed", "pulls": [3]})));
    let four = squash(c, &mut head, 4, "alice");
    c.review(4, "bob", "COMMENTED", &format!("{:040x}", 4));
    expected.push((four, json!({"status": "unreviewed", "pulls": [4]})));
    // #5 approved only by a GitHub App (REST: `renovate[bot]`, type Bot; GraphQL: a
    // `Bot` named `renovate`).
    let five = squash(c, &mut head, 5, "alice");
    c.review(5, "renovate[bot]", "APPROVED", &format!("{:040x}", 5));
    expected.push((five, json!({"status": "unreviewed", "pulls": [5]})));
    // #6 the approver force-pushed the final head (committer), then approved it.
    let six = squash(c, &mut head, 6, "alice");
    let pushed = c.push_to_pull(6, "alice", "Bob");
    c.review(6, "bob", "APPROVED", &pushed);
    expected.push((six, json!({"status": "unreviewed", "pulls": [6]})));
    // #7 approved, closed without being merged; its commit pushed straight to main (its
    // test merge commit, the one REST names).
    let direct = c.commit("Risky change", "mallory", &[&head], true);
    head = direct.clone();
    c.pull(7, "Risky change", "mallory", &direct, &direct, &[&direct]);
    c.review(7, "bob", "APPROVED", &direct);
    c.close_unmerged(7);
    expected.push((direct, json!({"status": "direct_push"})));
    // #9 merged by hand: its approved head H, and on top of it a commit E the pull
    // request never had, merged into main in one merge commit M that GitHub names as
    // #9's (a manual merge it detects). M brings in E and H; only H was reviewed.
    let before = head.clone();
    let own = c.commit("Reviewed change", "alice", &[&before], true);
    let extra = c.commit("unreviewed extra", "mallory", &[&own], true);
    let merge = c.commit("Merge branch 'feature-9'", "mallory", &[&before, &extra], true);
    head = merge.clone();
    c.pull(9, "Reviewed change", "alice", &own, &merge, &[&own]);
    c.review(9, "bob", "APPROVED", &own);
    expected.push((own, json!({"status": "reviewed", "pull": 9})));
    expected.push((extra, json!({"status": "direct_push"})));
    // #10 squash-merged (S), approved; one of its own commits, C, also pushed straight
    // to main before the merge. GitHub associates C with #10, but #10's merge brought in
    // only S: C reached main another way, and #10's review (of the net change) does not
    // cover it shipping on its own.
    let c_own = c.commit("evil part", "mallory", &[&head], true);
    let squashed = c.commit("Harmless change (#10)", "mallory", &[&c_own], true);
    head = squashed.clone();
    c.pull(10, "Harmless change", "mallory", &"a".repeat(40), &squashed, &[&c_own]);
    c.review(10, "bob", "APPROVED", &"a".repeat(40));
    expected.push((c_own, json!({"status": "direct_push"})));
    expected.push((squashed, json!({"status": "reviewed", "pull": 10})));
    // #8 a clean review, so the control has something to hold.
    let eight = squash(c, &mut head, 8, "alice");
    c.review(8, "bob", "APPROVED", &format!("{:040x}", 8));
    expected.push((eight, json!({"status": "reviewed", "pull": 8})));
    Seeded { head, expected }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_shortcut_makes_a_pull_request_reviewed_on_either_path() {
    let mut runs = Vec::new();
    for graphql in [true, false] {
        let fake = FakeGitHub::start().await;
        let seeded = seed(&fake.changes);
        if !graphql {
            fake.changes.refuse_graphql(404);
        }
        let mut step = step(&fake, &seeded.head);
        step.input("previous-release", "1.2.2").input("require-reviewed-changes", "true");
        let result = step.run(&binary(), &[]).await;
        let path = if graphql { "GraphQL" } else { "REST" };
        assert_eq!(result.code, 1, "{path}: {}\n{}", result.stderr, result.summary);
        let commits = json(&step, &result, "changes/commits.json");
        let mut got = Vec::new();
        for (sha, want) in &seeded.expected {
            let status = status_of(&commits, sha);
            for (key, value) in want.as_object().unwrap() {
                assert_eq!(&status[key], value, "{path}: {sha}: {status}");
            }
            got.push(status.clone());
        }
        let counts = &json(&step, &result, "manifest.json")["evidence"]["changes"]["counts"];
        assert_eq!((counts["reviewed"].as_u64(), counts["commits"].as_u64()), (Some(4), Some(13)), "{path}: {counts}");
        let (code, out) = verify(&step.resolve(&result.outputs["bundle-path"]));
        assert_eq!(code, 0, "{path}: {out}");
        runs.push(got);
    }
    assert_eq!(runs[0], runs[1], "GraphQL and REST agree");
}

/// Version tags that sort oddly as text (issue 18 red team, round three: held): without
/// a published release, the previous release of 1.11.0 is the newest lower version by
/// semantic version that is an ancestor — `v1.10.0`, not `v1.9.0` (higher as text), not
/// the release candidate `1.11.0-rc.1` (a pre-release, for a final release), not
/// `v1.10.1` (on a side branch, not an ancestor), not `v1.10.9` on the released
/// commit itself.
#[tokio::test(flavor = "multi_thread")]
async fn version_tags_that_sort_oddly_as_text_pick_the_newest_lower_ancestor() {
    let fake = FakeGitHub::start().await;
    let c = &fake.changes;
    let old = c.commit("release 1.9.0", "alice", &[], true);
    c.tag("v1.9.0", &old);
    let ten = c.commit("release 1.10.0", "alice", &[&old], true);
    c.tag("v1.10.0", &ten);
    let side = c.commit("release 1.10.1 from a side branch", "alice", &[&ten], true);
    c.tag("v1.10.1", &side);
    let direct = c.commit("sneak in a change", "mallory", &[&ten], true);
    let rc = c.commit("release candidate", "alice", &[&direct], true);
    c.tag("1.11.0-rc.1", &rc);
    let head = c.commit("bump version", "alice", &[&rc], true);
    c.tag("v1.10.9", &head);
    let mut run = step(&fake, &head);
    run.input("release-version", "1.11.0").input("require-reviewed-changes", "true");
    let result = run.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "the direct push fails the gate: {}\n{}", result.stderr, result.summary);
    let changes = &json(&run, &result, "manifest.json")["evidence"]["changes"];
    assert_eq!(changes["previous_release"], "v1.10.0", "{changes}");
    assert_eq!(changes["range"]["base_sha"], ten.as_str(), "{changes}");
    let commits = json(&run, &result, "changes/commits.json");
    assert_eq!(status_of(&commits, &direct)["status"], "direct_push", "{commits}");
    assert_eq!(commits.as_array().unwrap().len(), 3, "direct, rc and head: {commits}");
    let (code, out) = verify(&run.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");
}
