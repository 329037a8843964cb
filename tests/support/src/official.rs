//! The official `@actions/artifact` client (npm, v2), run by node against the fake.
//! Installed by `tests/run` into `tests/node/node_modules`; a test that needs it and
//! does not find it fails with instructions.

use std::path::{Path, PathBuf};

use crate::fake::FakeGitHub;

pub fn node_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../node");
    let marker = dir.join("node_modules/@actions/artifact/package.json");
    assert!(marker.exists(), "@actions/artifact is not installed in {}: run the suite with `tests/run`, which installs it", dir.display());
    dir
}

async fn run_script(fake: &FakeGitHub, workspace: &Path, script: &str, args: &[&str]) -> serde_json::Value {
    let dir = node_dir();
    let output = tokio::process::Command::new("node")
        .arg(dir.join(script))
        .args(args)
        .env("ACTIONS_RUNTIME_TOKEN", &fake.runtime_token)
        .env("ACTIONS_RESULTS_URL", format!("{}/", fake.url))
        .env("GITHUB_WORKSPACE", workspace)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", crate::step::REPOSITORY)
        .env("GITHUB_RUN_ID", crate::step::RUN_ID.to_string())
        .env("NODE_PATH", dir.join("node_modules"))
        .output()
        .await
        .expect("node runs (install nodejs: `tests/run` does)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "official client {script} failed: {}\n{stdout}", String::from_utf8_lossy(&output.stderr));
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{script} printed no JSON result ({e}): {stdout}"))
}

/// Uploads files (relative to `root`) as artifact `name`; returns `{id, size, digest}`.
pub async fn upload(fake: &FakeGitHub, name: &str, root: &Path, files: &[&str]) -> serde_json::Value {
    let mut args = vec![name, root.to_str().unwrap()];
    args.extend_from_slice(files);
    run_script(fake, root, "upload.mjs", &args).await
}

/// Downloads artifact `id` of the current run into `dest` (unzipped, as the client does).
pub async fn download(fake: &FakeGitHub, id: i64, dest: &Path) -> serde_json::Value {
    let id = id.to_string();
    run_script(fake, dest, "download.mjs", &[&id, dest.to_str().unwrap()]).await
}
