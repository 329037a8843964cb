//! Four eyes against co-authors (issue 18 red team, round three): an approval does not
//! cover a pull request its approver co-wrote. A suggestion applied in GitHub's web UI
//! is authored by whoever applied it and committed by `web-flow`; the suggester is named
//! only in a `Co-authored-by:` trailer. Through the binary, on the GraphQL bulk path and
//! on the REST path (the same history with GraphQL refused), which must agree.

use release_audit_test_support::FakeGitHub;
use release_audit_test_support::fake_changes::FakeChanges;
use serde_json::{Value, json};

use crate::binary;
use crate::changes::{json, step, verify};

/// Six squash-merged pull requests by alice, each with one commit pushed to it and
/// approved on that final head; returns the released commit.
fn seed(c: &FakeChanges) -> String {
    let base = c.commit("release 1.2.2", "alice", &[], true);
    c.tag("1.2.2", &base);
    let mut head = base;
    let pushes: [(&str, &str, &str); 6] = [
        // #1: bob's suggestion applied by alice in the web UI (GitHub's noreply address
        // with the account id, as GitHub writes it).
        (
            "alice",
            "Apply suggestions from code review\n\nCo-authored-by: Bob Builder <4242+bob@users.noreply.github.com>",
            "bob",
        ),
        // #2: the trailer key in lower case, the address without an id, the login in
        // another case.
        ("alice", "Fix typo\n\nco-authored-by: B. <BOB@users.noreply.github.com>", "bob"),
        // #3: an address GitHub does not derive from the login, the name being bob's login.
        ("alice", "Pair on the parser\n\nCo-authored-by: Bob <bob@example.com>", "bob"),
        // #4: several trailers, bob's among them.
        (
            "alice",
            "Pair work\n\nSigned-off-by: Alice <alice@example.com>\nCo-authored-by: Dana Scully <dana@example.org>\nCo-Authored-By: bob <77+bob@users.noreply.github.com>",
            "bob",
        ),
        // #5: a co-author who is someone else: bob's approval stands.
        ("alice", "Pair work\n\nCo-authored-by: Dana Scully <dana@example.org>", "bob"),
        // #6: bob named in the body but not as a co-author: bob's approval stands.
        ("alice", "Thanks to bob <bob@users.noreply.github.com> for the idea", "bob"),
    ];
    for (i, (author, message, approver)) in pushes.into_iter().enumerate() {
        let n = i as u64 + 1;
        head = c.commit(&format!("Change {n} (#{n})"), "alice", &[&head], true);
        c.pull(n, &format!("Change {n}"), "alice", &format!("{n:040x}"), &head, &[]);
        let pushed = c.push_to_pull_with(n, author, "web-flow", message);
        c.review(n, approver, "APPROVED", &pushed);
    }
    head
}

/// Each pull request's classification, by number.
fn statuses(pulls: &Value) -> Vec<(u64, Value)> {
    pulls.as_array().unwrap().iter().map(|p| (p["number"].as_u64().unwrap(), p["review"].clone())).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_approver_named_as_co_author_is_not_a_second_pair_of_eyes_on_either_path() {
    let mut runs = Vec::new();
    for graphql in [true, false] {
        let fake = FakeGitHub::start().await;
        let head = seed(&fake.changes);
        if !graphql {
            fake.changes.refuse_graphql(404);
        }
        let mut step = step(&fake, &head);
        step.input("previous-release", "1.2.2").input("require-reviewed-changes", "true");
        let result = step.run(&binary(), &[]).await;
        let path = if graphql { "GraphQL" } else { "REST" };
        assert_eq!(result.code, 1, "{path}: {}\n{}", result.stderr, result.summary);
        let pulls = json(&step, &result, "changes/pulls.json");
        let by_bob = json!({"status": "approved_by_contributor", "by": ["bob"]});
        let got = statuses(&pulls);
        for n in 1..=4u64 {
            assert_eq!(got[n as usize - 1], (n, by_bob.clone()), "{path}: #{n} co-written by bob: {pulls}");
        }
        assert_eq!(got[4], (5, json!({"status": "reviewed", "by": ["bob"]})), "{path}: {pulls}");
        assert_eq!(got[5], (6, json!({"status": "reviewed", "by": ["bob"]})), "{path}: {pulls}");
        let counts = &json(&step, &result, "manifest.json")["evidence"]["changes"]["counts"];
        assert_eq!(counts["reviewed"], 2, "{path}: {counts}");
        if graphql {
            assert_eq!(fake.changes.requests_to("GET pull commits"), 0, "who wrote them came in bulk");
        }
        let (code, out) = verify(&step.resolve(&result.outputs["bundle-path"]));
        assert_eq!(code, 0, "{path}: {out}");
        runs.push(got);
    }
    assert_eq!(runs[0], runs[1], "GraphQL and REST agree");
}
