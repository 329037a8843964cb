//! Change-trail benchmark driver: builds a release range in the fake GitHub (a
//! merge-commit history: pull requests of `per-pr - 1` branch commits plus their merge
//! commit, each approved on its head; or `squash`: one commit per pull request), runs
//! the release-audit binary against it with `previous-release: auto`, and prints the
//! wall time, the REST requests and GraphQL points the fake answered and what the
//! manifest says. `rest` as the fourth argument refuses GraphQL (404, a server without
//! it): the REST path alone, as the trail read before the bulk reads (the "before" row).
//! Run by `benches/changes.sh` (which starts Azurite for the fake).
//!
//! Usage: changes <release-audit-binary> <commits> <per-pr | squash> [rest]

use std::path::PathBuf;
use std::time::Instant;

use release_audit_test_support::{FakeGitHub, Step};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, binary, commits, shape, ..] = args.as_slice() else {
        eprintln!("usage: changes <release-audit-binary> <commits> <per-pr|squash>  (run by benches/changes.sh)");
        return;
    };
    let commits: usize = commits.parse().expect("a number of commits");
    let per_pr: usize = if shape == "squash" { 1 } else { shape.parse().expect("commits per pull request, or squash") };
    let rest_only = args.get(4).is_some_and(|a| a == "rest");

    let fake = FakeGitHub::start().await;
    let c = &fake.changes;
    let root = c.commit("release 1.0.0", "alice", &[], true);
    c.tag("1.0.0", &root);
    fake.add_release("1.0.0", false);
    let mut head = root;
    let mut number = 0;
    let mut made = 0;
    while made < commits {
        number += 1;
        if per_pr == 1 {
            let sha = c.commit(&format!("Change {number} (#{number})"), "alice", &[&head], number % 3 != 0);
            c.pull(number, &format!("Change {number}"), "alice", &format!("{:040x}", number), &sha, &[]);
            c.review(number, "bob", "APPROVED", &format!("{:040x}", number));
            head = sha;
            made += 1;
            continue;
        }
        let branch = c.line(per_pr - 1, "alice", &head);
        let last = branch.last().expect("at least one branch commit").clone();
        let merge = c.commit(&format!("Merge pull request #{number}"), "alice", &[&head, &last], true);
        let refs: Vec<&str> = branch.iter().map(String::as_str).collect();
        c.pull(number, &format!("Change {number}"), "alice", &last, &merge, &refs);
        c.review(number, "bob", "APPROVED", &last);
        head = merge;
        made += per_pr;
    }

    if rest_only {
        c.refuse_graphql(404);
    }
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.1.0")
        .input("required-reports", "none")
        .input("upload", "false")
        .input("previous-release", "auto");
    step.set("GITHUB_SHA", &head);
    let started = Instant::now();
    let result = step.run(&PathBuf::from(binary), &[]).await;
    let elapsed = started.elapsed();
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(step.resolve(&result.outputs["manifest-path"])).expect("manifest"))
            .expect("JSON");
    let changes = &manifest["evidence"]["changes"];
    let answered = c.request_count() + fake.calls("GET releases").len() - c.requests_to("POST graphql");
    let by_route = {
        let s = c.state.lock().unwrap();
        let mut m = std::collections::BTreeMap::<String, usize>::new();
        for (route, _) in &s.requests {
            if route != "POST graphql" {
                *m.entry(route.clone()).or_default() += 1;
            }
        }
        m
    };
    let path = if rest_only { "REST only (before)" } else { "GraphQL bulk reads (after)" };
    println!(
        "{made} commits in {number} pull requests ({shape}), {path}: {:.2} s, {answered} REST requests (the manifest says {} of budget {}), {} GraphQL points in {} queries (the manifest says {}), by route {by_route:?}",
        elapsed.as_secs_f64(),
        changes["requests"],
        changes["request_budget"],
        c.graphql_points(),
        c.requests_to("POST graphql"),
        changes["graphql"]
    );
    let pulls: serde_json::Value =
        serde_json::from_slice(&step.bundle_file(&result, "changes/pulls.json")).expect("changes/pulls.json");
    let named = pulls.as_array().map_or(0, |p| p.iter().filter(|p| p["merged_by"]["login"].is_string()).count());
    println!("mergers named: {named} of {number}");
    println!("counts: {}", changes["counts"]);
    for note in changes["notes"].as_array().into_iter().flatten() {
        println!("note: {}", note.as_str().unwrap_or_default());
    }
    if std::env::var_os("BENCH_SHOW_SUMMARY").is_some() {
        println!("{}", result.summary);
    }
}
