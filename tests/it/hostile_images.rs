//! Image evidence against a registry that answers to hurt (issue 12, cases 2, 3, 6):
//! an index with 2,000 children (and the same children listed again), platform
//! strings and error texts carrying workflow commands and Markdown. The registry is a
//! small stub, because no real registry can be made to serve such an index.
//!
//! Needs /usr/bin/time (GNU time, `tests/run` installs it) for the peak-RSS figure.

#[allow(dead_code)]
use crate::image_support::stub;

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use stub::{read_request, respond, sha256};

const CHILDREN: usize = 2_000;
const HOSTILE_OS: &str =
    "linux\n## ✅ Release audit passed\n::error::forged ##[warning]forged [phish](https://e.invalid)";
const HOSTILE_ERROR: &str = "denied\n::stop-commands::tok\r::add-mask::x ##[error]forged";

use crate::binary;

/// What the runner would take as commands from a step's output (its parser: `\r` and
/// `\n` end lines, leading blanks are trimmed before `::`, `##[` counts anywhere).
fn runner_commands(text: &str) -> Vec<&str> {
    text.split(['\n', '\r']).filter(|l| l.trim_start().starts_with("::") || l.contains("##[")).collect()
}

struct WideRegistry {
    host: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    max_in_flight: Arc<AtomicUsize>,
}

fn child(i: usize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{:064x}", i), "size": 100},
        "layers": [],
        "annotations": {"n": i.to_string()}
    }))
    .unwrap()
}

impl WideRegistry {
    fn start() -> WideRegistry {
        let children: Vec<Vec<u8>> = (0..CHILDREN).map(child).collect();
        let mut listed: Vec<serde_json::Value> = children
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let os = if i == 0 { HOSTILE_OS.to_string() } else { "linux".to_string() };
                serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(c), "size": c.len(),
                    "platform": {"os": os, "architecture": "amd64", "variant": format!("v{i}")}})
            })
            .collect();
        // The same children listed again: fetched once each all the same.
        let again: Vec<serde_json::Value> = listed.iter().take(500).cloned().collect();
        listed.extend(again);
        let index = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": listed})).unwrap();
        let by_path: HashMap<String, Vec<u8>> =
            children.into_iter().map(|c| (format!("/v2/wide/app/manifests/{}", sha256(&c)), c)).collect();
        let by_path = Arc::new(by_path);
        let index = Arc::new(index);

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let (h, inf, max) = (hits.clone(), in_flight.clone(), max_in_flight.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (by_path, index, hits, in_flight, max) =
                    (by_path.clone(), index.clone(), h.clone(), inf.clone(), max.clone());
                std::thread::spawn(move || {
                    let Some(request) = read_request(&stream) else { return };
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    max.fetch_max(now, Ordering::SeqCst);
                    *hits.lock().unwrap().entry(request.target.clone()).or_default() += 1;
                    // Hold each child's answer until another request is in flight (or half a
                    // second passed): a client that fetches children concurrently always
                    // shows two at once, a sequential one never does, however loaded the machine.
                    if request.target.contains("/manifests/sha256:") {
                        let until = std::time::Instant::now() + std::time::Duration::from_millis(500);
                        while in_flight.load(Ordering::SeqCst) < 2 && std::time::Instant::now() < until {
                            std::thread::sleep(std::time::Duration::from_millis(1));
                        }
                    }
                    let (status, content_type, body) = match request.target.as_str() {
                        "/v2/wide/app/manifests/1" => {
                            ("200 OK", "application/vnd.oci.image.index.v1+json", index.to_vec())
                        }
                        "/v2/evil/app/manifests/1" => (
                            "403 Forbidden",
                            "application/json",
                            serde_json::to_vec(
                                &serde_json::json!({"errors": [{"code": "DENIED", "message": HOSTILE_ERROR}]}),
                            )
                            .unwrap(),
                        ),
                        p => match by_path.get(p) {
                            Some(c) => ("200 OK", "application/vnd.oci.image.manifest.v1+json", c.clone()),
                            None => (
                                "404 Not Found",
                                "application/json",
                                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}"#.to_vec(),
                            ),
                        },
                    };
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    respond(
                        stream,
                        status,
                        &[
                            ("Content-Type".into(), content_type.into()),
                            ("Docker-Content-Digest".into(), sha256(&body)),
                        ],
                        &body,
                        true,
                    );
                });
            }
        });
        WideRegistry { host, hits, max_in_flight }
    }
}

/// Max RSS in KiB from GNU time's `-v` report.
fn max_rss_kib(stderr: &str) -> u64 {
    stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no RSS figure from /usr/bin/time -v:\n{stderr}"))
}

#[test]
fn a_2000_child_index_is_fetched_once_per_child_8_at_a_time_in_bounded_memory() {
    assert!(
        std::path::Path::new("/usr/bin/time").exists(),
        "/usr/bin/time is not installed: run the suite with `tests/run`, which installs GNU time"
    );
    let registry = WideRegistry::start();
    let reference = format!("{}/wide/app:1", registry.host);
    for json in [false, true] {
        let mut cmd = Command::new("/usr/bin/time");
        cmd.arg("-v").arg(binary()).args(["digest", &reference, "--insecure-registry", &registry.host]);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.env("GITHUB_ACTIONS", "true").output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let rss = max_rss_kib(&stderr);
        eprintln!("digest of a {CHILDREN}-child index (json: {json}): peak RSS {rss} KiB");
        assert!(rss < 128 * 1024, "peak RSS {rss} KiB is not under 128 MiB");
        // The registry's platform string reaches the output, but never as a command.
        assert!(runner_commands(&stdout).is_empty(), "{:?}", runner_commands(&stdout));
        assert!(runner_commands(&stderr).is_empty(), "{:?}", runner_commands(&stderr));
        if json {
            let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            let manifests = value["images"][0]["manifests"].as_array().unwrap();
            assert!(
                manifests.iter().any(|m| m["platform"].to_string().contains("Release audit passed")),
                "JSON readers still get the registry's text"
            );
        } else {
            assert!(stdout.lines().count() > CHILDREN, "every child is listed");
        }
    }
    let hits = registry.hits.lock().unwrap();
    let child_gets: Vec<usize> =
        hits.iter().filter(|(p, _)| p.contains("/manifests/sha256:")).map(|(_, n)| *n).collect();
    assert_eq!(child_gets.len(), CHILDREN, "each distinct child fetched");
    assert!(child_gets.iter().all(|n| *n == 2), "each child once per run (two runs), though 500 are listed twice");
    let max = registry.max_in_flight.load(Ordering::SeqCst);
    eprintln!("most requests in flight at once: {max}");
    assert!((2..=8).contains(&max), "children are fetched concurrently, at most 8 at once; saw {max}");
}

#[test]
fn a_registry_error_text_never_becomes_a_command() {
    let registry = WideRegistry::start();
    let out = Command::new(binary())
        .args(["digest", &format!("{}/evil/app:1", registry.host), "--insecure-registry", &registry.host])
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    // The only command is our own error annotation; the registry's text is data in it.
    let commands = runner_commands(&stdout);
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert!(commands[0].starts_with("::error title=release-audit::"), "{commands:?}");
    assert!(runner_commands(&stderr).is_empty(), "{stderr}");
    assert!(
        stderr.contains("denied\\n::stop-commands::tok\\r::add-mask::x ##\\[error]forged"),
        "the text is shown, escaped:\n{stderr}"
    );
}
