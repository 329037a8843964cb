//! Test support for release-audit: the fake GitHub services, the real Azurite they
//! sign URLs for, the runner's step environment, and the official artifact client.
//! Lives under `tests/`, never in `src/`.

pub mod azurite;
pub mod fake;
pub mod fake_changes;
pub mod fake_graphql;
pub mod official;
pub mod step;

pub use fake::FakeGitHub;
pub use step::{Step, StepResult};

/// Builds a zip in memory from (path, bytes) pairs, for seeding artifacts.
/// Copies a directory tree (a bundle, before a test edits its copy).
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target)
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

pub fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    for (path, bytes) in entries {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    let zip = dir.path().join("out.zip");
    let status = std::process::Command::new("zip")
        .arg("-q")
        .arg("-r")
        .arg(&zip)
        .args(entries.iter().map(|(p, _)| *p))
        .current_dir(dir.path())
        .status()
        .expect("the zip command is installed (tests/run installs it)");
    assert!(status.success());
    std::fs::read(zip).unwrap()
}

/// An HTTP client for the harness's own calls. reqwest is built without a default
/// TLS provider in this workspace (the product installs ring), so install it here too.
pub fn http() -> reqwest::Client {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::new()
}
