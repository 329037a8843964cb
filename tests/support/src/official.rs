//! The official `@actions/artifact` client, run by node against the fake: the old major
//! (2.x, `@actions/artifact`) and the current one (6.x, ES module, as the npm alias
//! `artifact6`). Installed by `tests/run` into `tests/node/node_modules`; a test that
//! needs them and does not find them fails with instructions.

use std::path::{Path, PathBuf};

use crate::fake::FakeGitHub;

pub fn node_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../node");
    for marker in ["node_modules/@actions/artifact/package.json", "node_modules/artifact6/package.json"] {
        assert!(
            dir.join(marker).exists(),
            "{marker} is not installed in {}: run the suite with `tests/run`, which installs it (npm ci)",
            dir.display()
        );
    }
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
    assert!(
        output.status.success(),
        "official client {script} failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
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

/// Uploads files with the current client (6.x) as artifact `name`; with `skip_archive`
/// the one file is uploaded unzipped and the artifact takes its file name. Returns
/// `{id, size, digest}`.
pub async fn upload_v6(
    fake: &FakeGitHub,
    name: &str,
    root: &Path,
    files: &[&str],
    skip_archive: bool,
) -> serde_json::Value {
    let mut args = vec![name, root.to_str().unwrap()];
    if skip_archive {
        args.push("--skip-archive");
    }
    args.extend_from_slice(files);
    run_script(fake, root, "upload6.mjs", &args).await
}

/// Downloads artifact `id` of the current run with the current client (6.x) into `dest`.
pub async fn download_v6(fake: &FakeGitHub, id: i64, dest: &Path) -> serde_json::Value {
    let id = id.to_string();
    run_script(fake, dest, "download6.mjs", &[&id, dest.to_str().unwrap()]).await
}
