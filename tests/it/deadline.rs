//! The audit's `timeout` ends the whole run at the deadline, whatever stage is waiting
//! (issue 18): a GitHub API that accepts a connection and never answers, or answers the
//! headers and then stalls the body, cannot hold the tests stage, the release tag's
//! lookup or the change trail past it, and the error names the host that stalled.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// How the stalled API behaves once it has read a request.
#[derive(Debug, Clone, Copy)]
enum Stall {
    /// Says nothing at all.
    Silent,
    /// Sends a 200 with JSON headers promising a body, then nothing.
    AfterHeaders,
}

/// A TCP server that reads each request's head and then stalls as `how` says, holding
/// every connection open for two minutes. Its `host:port`.
fn stalled_api(how: Stall) -> String {
    fn after_headers(mut stream: std::net::TcpStream) {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"";
        let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.flush());
        std::thread::sleep(Duration::from_secs(120));
    }
    match how {
        Stall::Silent => crate::stalling_server(|_stream| std::thread::sleep(Duration::from_secs(120))),
        Stall::AfterHeaders => crate::stalling_server(after_headers),
    }
}

/// Runs the audit with `inputs` against a stalled API under a 3 s `timeout`: it must end
/// within the deadline plus a margin for the process itself, as a service error naming
/// the host.
async fn ends_at_the_deadline(how: Stall, what: &str, inputs: &[(&str, &str)]) {
    ends_at_the_deadline_with(how, what, inputs, "").await
}

/// [`ends_at_the_deadline`], with the artifact runtime (the same stalled server) when
/// `runtime_token` is not empty; without it, report artifacts are read through the REST
/// API too.
async fn ends_at_the_deadline_with(how: Stall, what: &str, inputs: &[(&str, &str)], runtime_token: &str) {
    let host = stalled_api(how);
    let mut step = release_audit_test_support::Step::new();
    if !runtime_token.is_empty() {
        step.set("ACTIONS_RUNTIME_TOKEN", runtime_token)
            .set("ACTIONS_RESULTS_URL", &format!("http://{host}/"))
            .set("ACTIONS_RUNTIME_URL", &format!("http://{host}/runtime/"));
    }
    step.set("GITHUB_API_URL", &format!("http://{host}"))
        .input("github-token", "ghs_token")
        .input("release-version", "1.0.0")
        .input("upload", "false")
        .input("include-run-logs", "false")
        .input("timeout", "3s");
    for (name, value) in inputs {
        step.input(name, value);
    }
    let started = Instant::now();
    let result = step.run(Path::new(env!("CARGO_BIN_EXE_release-audit")), &[]).await;
    let took = started.elapsed();
    let error = result.everything().lines().find(|l| l.starts_with("error: ")).unwrap_or_default().to_string();
    assert_eq!(result.code, 3, "{what} ({how:?}): {}", result.everything());
    assert!(error.contains(&host), "{what} ({how:?}): the error names the stalled host {host}: {error}");
    // 3 s deadline, 1 s grace, the rest for starting the process: far below the 120 s stall.
    assert!(took < Duration::from_secs(10), "{what} ({how:?}): the run took {took:?} past a 3 s timeout");
}

/// The tests stage (the run and artifact listings) with the release commit given.
const TESTS_STAGE: [(&str, &str); 4] = [
    ("release-commit", release_audit_test_support::step::SHA),
    ("run-ids", "800"),
    ("e2e-reports", "pr-e2e-report"),
    ("required-reports", "e2e"),
];
/// Only the release tag's lookup talks to the API before the deadline.
const TAG_LOOKUP: [(&str, &str); 2] = [("required-reports", "none"), ("release-tag", "1.0.0")];

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_api_ends_the_tests_stage_at_the_deadline_naming_the_host() {
    ends_at_the_deadline(Stall::Silent, "the tests stage", &TESTS_STAGE).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_api_ends_the_release_tag_lookup_at_the_deadline_naming_the_host() {
    ends_at_the_deadline(Stall::Silent, "the release tag's lookup", &TAG_LOOKUP).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_api_ends_the_change_trail_at_the_deadline_naming_the_host() {
    for how in [Stall::Silent, Stall::AfterHeaders] {
        let inputs = [
            ("required-reports", "none"),
            ("release-commit", release_audit_test_support::step::SHA),
            ("previous-release", "auto"),
        ];
        ends_at_the_deadline(how, "the change trail", &inputs).await;
    }
}

/// The artifact service (ACTIONS_RESULTS_URL) silent, the API too: the stage ends at
/// the deadline, and the error names the hosts it was waiting on.
#[tokio::test(flavor = "multi_thread")]
async fn a_silent_artifact_service_ends_the_tests_stage_at_the_deadline_naming_the_host() {
    let token = release_audit_test_support::fake::runtime_token(
        "11111111-1111-1111-1111-111111111111",
        "22222222-2222-2222-2222-222222222222",
    );
    let inputs = [
        ("release-commit", release_audit_test_support::step::SHA),
        ("e2e-reports", "pr-e2e-report"),
        ("required-reports", "e2e"),
    ];
    ends_at_the_deadline_with(Stall::Silent, "the artifact service", &inputs, &token).await;
}

/// A body that stalls after the headers ends the run in time, and the error names the
/// host: the JSON answers of the REST client are read under the same bounds as its
/// requests (`Rest::json` reads through `read_page`).
#[tokio::test(flavor = "multi_thread")]
async fn an_api_stalling_after_the_headers_ends_the_run_naming_the_host() {
    ends_at_the_deadline(Stall::AfterHeaders, "the tests stage", &TESTS_STAGE).await;
    ends_at_the_deadline(Stall::AfterHeaders, "the release tag's lookup", &TAG_LOOKUP).await;
}
