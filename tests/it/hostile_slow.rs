//! A registry that answers a byte a second cannot hold the run: the audit's `timeout`
//! bounds every registry request, and the error names the slow host.

use std::io::Write;
use std::path::Path;

/// Accepts connections and answers each request with headers promising 100 KiB, then
/// one byte a second, until the client goes away.
fn slow_registry() -> String {
    crate::stalling_server(|mut stream| {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 102400\r\n\r\n";
        if stream.write_all(head.as_bytes()).is_err() {
            return;
        }
        for _ in 0..120 {
            if stream.write_all(b" ").and_then(|_| stream.flush()).is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_sending_a_byte_a_second_ends_the_run_at_the_timeout_naming_the_host() {
    let host = slow_registry();
    let mut step = release_audit_test_support::Step::new();
    step.input("release-version", "1.0.0")
        .input("upload", "false")
        .input("required-reports", "none")
        .input("tested-image", &format!("{host}/dev/app:PR-1"))
        .input("release-image", &format!("{host}/prod/app:1.0.0"))
        .input("insecure-registries", &host)
        .input("timeout", "3s");
    let started = std::time::Instant::now();
    let result = step.run(Path::new(env!("CARGO_BIN_EXE_release-audit")), &[]).await;
    let took = started.elapsed();
    assert_eq!(result.code, 3, "{}", result.everything());
    let error = result.everything().lines().find(|l| l.starts_with("error: ")).unwrap_or_default().to_string();
    assert!(
        error.contains(&host)
            && (error.contains("sent it too slowly") || error.contains("did not answer completely in time")),
        "{error}\n{}",
        result.everything()
    );
    // Not a timing assertion on speed: only that the run did not wait for the slow body (120 s).
    assert!(took < std::time::Duration::from_secs(100), "the run waited for the stalled registry: {took:?}");
}

#[tokio::test]
async fn a_bad_timeout_is_a_usage_error() {
    let mut step = release_audit_test_support::Step::new();
    step.input("release-version", "1.0.0")
        .input("upload", "false")
        .input("required-reports", "none")
        .input("timeout", "soon");
    let result = step.run(Path::new(env!("CARGO_BIN_EXE_release-audit")), &[]).await;
    assert_eq!(result.code, 2, "{}", result.everything());
    assert!(result.everything().contains("input `timeout`: `soon` is not a duration"), "{}", result.everything());
}
