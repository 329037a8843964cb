//! The integration tests, one binary (each file was its own binary, and each linked the
//! whole crate again: 34 links, gigabytes of target dir). Every module is one area; run one
//! with `cargo test --test it <module>::`, e.g. `cargo test --test it changes::`.

use std::path::PathBuf;

/// The release binary under test, as cargo built it for this test run.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_release-audit"))
}

/// Runs `release-audit reports --json` on the files, as a user does outside Actions:
/// the exit code and the JSON.
pub fn reports_json(files: &[&std::path::Path]) -> (i32, serde_json::Value) {
    let output = std::process::Command::new(binary())
        .arg("reports")
        .arg("--json")
        .args(files)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("the binary runs");
    let out = String::from_utf8(output.stdout).unwrap();
    let json = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    (output.status.code().expect("exited"), json)
}

/// Writes `text` to `dir/name`; the path.
pub fn write_file(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A TCP server on loopback that reads each request's head, then hands the connection
/// to `answer` (on its own thread): for services that stall or trickle. Its `host:port`.
pub fn stalling_server(answer: fn(std::net::TcpStream)) -> String {
    use std::io::BufRead;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                answer(stream);
            });
        }
    });
    host
}

/// The resolving image record a test job writes for `reference` (`record-image`
/// against the plain-HTTP registry `host`).
pub fn image_record(reference: &str, host: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("image-record.json");
    let run = std::process::Command::new(binary())
        .args(["record-image", "--image", reference, "--insecure-registry", host, "--output"])
        .arg(&out)
        .env_clear()
        .output()
        .unwrap();
    assert!(run.status.success(), "record-image: {}", String::from_utf8_lossy(&run.stderr));
    std::fs::read(out).unwrap()
}

mod image_support;
mod publish_common;

mod action_upload;
mod action_yml;
mod adversary;
mod archive;
mod artifacts_faults;
mod attach;
mod attach_storage;
mod changes;
mod changes_coauthors;
mod changes_graphql;
mod changes_openapi;
mod changes_red_team;
mod collect_no_false_pass;
mod collect_reports;
mod container;
mod deadline;
mod fail_on_flaky;
mod fuzz_corpus_replay;
mod hostile_images;
mod hostile_run;
mod hostile_slow;
mod hostile_verify;
mod images;
mod junit_differential;
mod junit_markup;
mod junit_reruns;
mod kyma_release;
mod official_client;
mod publish_release;
mod publish_storage;
mod record_image;
mod release_tag;
mod release_workflow;
mod report_fixture;
mod report_html;
mod reports_bad_input;
mod reports_cli;
mod reports_fixtures;
mod rerun_attempts;
mod retention;
mod reusable_workflow;
mod sigstore;
mod verify;
mod verify_edits;
mod vsa;
mod workflow_lint;
