//! The action end to end: the real binary, run with the environment a runner gives a
//! Docker action, against the fake artifact service whose blobs live in a real Azurite.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use release_audit_test_support::{FakeGitHub, Step, StepResult};
use sha2::{Digest, Sha256};

use crate::binary;

/// The zip's entries, name → bytes.
fn unzip(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        out.insert(f.name().unwrap().to_string(), bytes);
    }
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A step that audits no test reports (`required-reports: none`): the foundation alone.
fn foundation_step(fake: &FakeGitHub) -> Step {
    let mut step = Step::with_fake(fake);
    step.input("required-reports", "none");
    step
}

async fn audit(step: &Step) -> StepResult {
    step.run(&binary(), &[]).await
}

fn assert_no_secrets(result: &StepResult, fake: &FakeGitHub, bundle_dir: Option<&Path>) {
    let secrets = [fake.runtime_token.as_str(), fake.rest_token.as_str()];
    let seen = result.everything();
    for s in secrets {
        assert!(!seen.contains(s), "a secret leaked into the step's output");
    }
    assert!(!seen.contains("sig="), "a signed URL leaked: {seen}");
    if let Some(dir) = bundle_dir {
        for entry in walk(dir) {
            let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
            for s in secrets {
                assert!(!text.contains(s), "a secret leaked into {}", entry.display());
            }
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_a_verifiable_bundle_and_reports_it() {
    let fake = FakeGitHub::start().await;
    let mut step = foundation_step(&fake);
    step.input("release-version", "1.2.3").input("retention-days", "30");
    let result = audit(&step).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);

    // Outputs point at a bundle on disk whose hash is what the output says.
    let o = &result.outputs;
    assert_eq!(o["verdict"], "passed");
    let bundle_path = step.resolve(&o["bundle-path"]);
    assert_eq!(
        o["bundle-path"], ".release-audit/audit-bundle-1.2.3.zip",
        "a workspace-relative path later steps can use"
    );
    let bytes = std::fs::read(&bundle_path).unwrap();
    assert_eq!(sha256_hex(&bytes), o["bundle-sha256"]);
    assert!(step.resolve(&o["manifest-path"]).exists());

    // The artifact is the bundle: same size, digest, and bytes in blob storage.
    let artifacts = fake.artifacts();
    let stored = artifacts.iter().find(|a| a.name == "audit-bundle-1.2.3").expect("artifact created");
    assert!(stored.finalized);
    assert_eq!(stored.digest.as_deref(), Some(format!("sha256:{}", o["bundle-sha256"]).as_str()));
    assert_eq!(stored.size as usize, bytes.len());
    assert_eq!(o["artifact-id"], stored.database_id.to_string());
    assert_eq!(
        o["artifact-url"],
        format!(
            "https://github.com/kyma-project/telemetry-manager/actions/runs/17000000001/artifacts/{}",
            stored.database_id
        )
    );
    let blob = fake.azurite.read_blob(&fake.container, &stored.blob).await.unwrap();
    assert_eq!(blob, bytes, "the blob differs from the bundle on disk");

    // Retention: expires_at is about 30 days from now.
    let create = &fake.calls("CreateArtifact")[0];
    let expires = chrono::DateTime::parse_from_rfc3339(create["expires_at"].as_str().unwrap()).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours() as f64 / 24.0;
    assert!((29.9..30.1).contains(&days), "{days}");
    assert_eq!(create["version"], 4);

    // The manifest records the run; SHA256SUMS covers every file and matches.
    let files = unzip(&bundle_path);
    let manifest: serde_json::Value = serde_json::from_slice(&files["audit-bundle-1.2.3/manifest.json"]).unwrap();
    assert_eq!(manifest["release"]["version"], "1.2.3");
    assert_eq!(manifest["source"]["repository"], "kyma-project/telemetry-manager");
    assert_eq!(manifest["source"]["commit"], "4f0c6d1e2b3a49587766554433221100ffeeddcc");
    assert_eq!(manifest["run"]["id"], 17000000001u64);
    assert_eq!(manifest["run"]["url"], "https://github.com/kyma-project/telemetry-manager/actions/runs/17000000001");
    assert_eq!(manifest["run"]["actor"], "release-bot");
    assert_eq!(manifest["run"]["event"], "workflow_dispatch");
    assert_eq!(manifest["tool"]["name"], "release-audit");
    assert_eq!(manifest["verdict"]["result"], "passed");
    let sums = String::from_utf8(files["audit-bundle-1.2.3/SHA256SUMS"].clone()).unwrap();
    let listed: Vec<&str> = sums.lines().map(|l| l.split_once("  ").unwrap().1).collect();
    let in_zip: Vec<String> = files
        .keys()
        .map(|k| k.trim_start_matches("audit-bundle-1.2.3/").to_string())
        .filter(|k| k != "SHA256SUMS")
        .collect();
    assert_eq!(listed, in_zip);
    for line in sums.lines() {
        let (hash, name) = line.split_once("  ").unwrap();
        assert_eq!(sha256_hex(&files[&format!("audit-bundle-1.2.3/{name}")]), hash, "{name}");
    }
    // And `sha256sum -c` agrees, on the directory the step left on disk.
    let dir = bundle_path.with_extension("");
    let check = std::process::Command::new("sha256sum")
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));

    // The summary leads with the verdict, and names the bundle and its link.
    assert!(
        result.summary.starts_with("## ✅ Release audit passed: kyma-project/telemetry-manager 1.2.3"),
        "{}",
        result.summary
    );
    assert!(result.summary.contains(&o["bundle-sha256"]));
    assert!(result.summary.contains(&o["artifact-url"]));
    // Phases are grouped, secrets masked first.
    assert!(result.stdout.contains("::group::Uploading the bundle artifact"));
    assert!(result.stdout.starts_with("::add-mask::"), "{}", result.stdout);
    let masked = result.masked();
    assert!(masked.contains(&fake.runtime_token.as_str()) && masked.contains(&fake.rest_token.as_str()));
    assert!(masked.iter().any(|m| m.len() > 20 && !m.contains('.')), "the signed URL's sig is masked too: {masked:?}");
    assert_no_secrets(&result, &fake, Some(&dir));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_evidence_gives_the_same_bundle_bytes() {
    let fake = FakeGitHub::start().await;
    let mut hashes = Vec::new();
    for i in 0..2 {
        let mut step = foundation_step(&fake);
        step.input("release-version", "2.0.0").input("upload", "false");
        let result = audit(&step).await;
        assert_eq!(result.code, 0, "run {i}: {}", result.stderr);
        hashes.push(result.outputs["bundle-sha256"].clone());
    }
    assert_eq!(hashes[0], hashes[1]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_name_is_refused_unless_overwrite() {
    let fake = FakeGitHub::start().await;
    let mut step = foundation_step(&fake);
    step.input("release-version", "1.0.0");
    assert_eq!(audit(&step).await.code, 0);

    let again = audit(&step).await;
    assert_eq!(again.code, 3, "{}", again.stderr);
    assert!(
        again.stderr.contains("an artifact named `audit-bundle-1.0.0` already exists in this run"),
        "{}",
        again.stderr
    );
    assert!(again.stderr.contains("overwrite: true"), "{}", again.stderr);
    assert!(again.stderr.contains("the bundle is kept at"), "{}", again.stderr);
    assert!(again.stdout.contains("::error title=release-audit::"), "{}", again.stdout);
    let first_id = fake.artifacts()[0].database_id;

    step.input("overwrite", "true");
    let replaced = audit(&step).await;
    assert_eq!(replaced.code, 0, "{}", replaced.stderr);
    let artifacts = fake.artifacts();
    assert_eq!(artifacts.iter().filter(|a| a.name == "audit-bundle-1.0.0" && a.finalized).count(), 1);
    assert_ne!(artifacts.iter().find(|a| a.finalized).unwrap().database_id, first_id);
    assert_eq!(fake.calls("DeleteArtifact").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_failures_are_retried() {
    let fake = FakeGitHub::start().await;
    fake.inject_fault("CreateArtifact", 503, r#"{"code":"unavailable","msg":"try later"}"#, 2);
    fake.inject_fault("FinalizeArtifact", 403, "403 Forbidden: Error from intermediary", 1);
    let mut step = foundation_step(&fake);
    step.input("release-version", "1.0.0");
    let result = audit(&step).await;
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(fake.calls("CreateArtifact").len(), 3);
    assert_eq!(fake.calls("FinalizeArtifact").len(), 2);
    assert!(result.stderr.contains("retrying"), "{}", result.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exhausted_quota_is_not_retried_and_the_bundle_is_kept() {
    let fake = FakeGitHub::start().await;
    fake.inject_fault(
        "CreateArtifact",
        403,
        r#"{"code":"permission_denied","msg":"insufficient usage to create artifact"}"#,
        5,
    );
    let mut step = foundation_step(&fake);
    step.input("release-version", "1.0.0");
    let result = audit(&step).await;
    assert_eq!(result.code, 3);
    assert_eq!(fake.calls("CreateArtifact").len(), 1, "a quota error must not be retried");
    assert!(result.stderr.contains("quota"), "{}", result.stderr);
    // Nothing is lost: the bundle is on disk, the outputs say where, the summary says why.
    let kept = step.resolve(&result.outputs["bundle-path"]);
    assert!(kept.exists());
    assert!(result.stderr.contains(&kept.display().to_string()), "{}", result.stderr);
    assert!(result.summary.contains("Publishing failed"), "{}", result.summary);
    assert!(!result.outputs.contains_key("artifact-id"));
}

#[tokio::test(flavor = "multi_thread")]
async fn persistent_server_errors_give_up_after_five_attempts() {
    let fake = FakeGitHub::start().await;
    fake.inject_fault("FinalizeArtifact", 500, r#"{"code":"internal","msg":"boom"}"#, 10);
    let mut step = foundation_step(&fake);
    step.input("release-version", "1.0.0");
    let result = audit(&step).await;
    assert_eq!(result.code, 3);
    assert_eq!(fake.calls("FinalizeArtifact").len(), 5);
    assert!(result.stderr.contains("gave up after 5 attempts"), "{}", result.stderr);
    assert!(step.resolve(&result.outputs["bundle-path"]).exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_runner_environment_is_named_before_any_network_call() {
    let fake = FakeGitHub::start().await;
    type Case = (&'static str, Box<dyn Fn(&mut Step)>, &'static str);
    let cases: Vec<Case> = vec![
        (
            "no results url",
            Box::new(|s: &mut Step| {
                s.unset("ACTIONS_RESULTS_URL");
            }),
            "ACTIONS_RESULTS_URL",
        ),
        (
            "malformed token",
            Box::new(|s: &mut Step| {
                s.set("ACTIONS_RUNTIME_TOKEN", "garbage");
            }),
            "ACTIONS_RUNTIME_TOKEN",
        ),
        (
            "token without scp",
            Box::new(|s: &mut Step| {
                s.set("ACTIONS_RUNTIME_TOKEN", "eyJhIjoxfQ.eyJzdWIiOiJ4In0.c2ln");
            }),
            "scp",
        ),
        (
            "unwritable summary",
            Box::new(|s: &mut Step| {
                s.set("GITHUB_STEP_SUMMARY", "/proc/nope/summary.md");
            }),
            "GITHUB_STEP_SUMMARY",
        ),
        (
            "bad name",
            Box::new(|s: &mut Step| {
                s.input("bundle-name", "audit:1");
            }),
            "bundle-name",
        ),
        (
            "bad retention",
            Box::new(|s: &mut Step| {
                s.input("retention-days", "abc");
            }),
            "retention-days",
        ),
        (
            "zero retention",
            Box::new(|s: &mut Step| {
                s.input("retention-days", "0");
            }),
            "retention-days",
        ),
        (
            "no version",
            Box::new(|s: &mut Step| {
                s.unset("INPUT_RELEASE-VERSION");
            }),
            "release-version",
        ),
        (
            "unwritable dir",
            Box::new(|s: &mut Step| {
                s.input("bundle-dir", "/proc/nope");
            }),
            "bundle-dir",
        ),
    ];
    for (what, mutate, named) in cases {
        let mut step = foundation_step(&fake);
        step.input("release-version", "1.0.0");
        mutate(&mut step);
        let result = audit(&step).await;
        assert_eq!(result.code, 2, "{what}: {}", result.stderr);
        let first = result
            .stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("{what}: {}", result.stderr));
        assert!(first.contains(named), "{what}: {first}");
        assert!(result.stderr.contains("\nhint: "), "{what}: {}", result.stderr);
        assert_no_secrets(&result, &fake, None);
    }
    assert!(fake.state.lock().unwrap().calls.is_empty(), "a bad input must stop the step before any call");
}
