//! Interop with the official `@actions/artifact` client (npm, v2) through the fake.
//! This is what proves the fake faithful: the reference client and release-audit
//! exchange artifacts through it, both ways, byte for byte.

use std::path::Path;

use release_audit::github::artifacts::ResultsService;
use release_audit::github::artifacts::{ArtifactService, BackendIds};
use release_audit::github::blob;
use release_audit::http::RetryPolicy;
use release_audit::secret::Secret;
use release_audit_test_support::{FakeGitHub, Step, official};
use sha2::{Digest, Sha256};

fn service(fake: &FakeGitHub) -> ArtifactService {
    let results = ResultsService {
        base_url: fake.url.clone(),
        token: Secret::new(fake.runtime_token.clone()),
        ids: BackendIds::from_runtime_token(&fake.runtime_token).unwrap(),
    };
    ArtifactService::new(&crate::publish_common::net(), &results)
}

fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push((p.strip_prefix(root).unwrap().display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_official_client_downloads_the_bundle_release_audit_uploaded() {
    let fake = FakeGitHub::start().await;
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "3.1.4").input("required-reports", "none");
    let result = step.run(Path::new(env!("CARGO_BIN_EXE_release-audit")), &[]).await;
    assert_eq!(result.code, 0, "{}", result.stderr);
    let id: i64 = result.outputs["artifact-id"].parse().unwrap();

    let dest = tempfile::tempdir().unwrap();
    let downloaded = official::download(&fake, id, dest.path()).await;
    assert_eq!(downloaded["digestMismatch"], false, "the official client found a digest mismatch: {downloaded}");

    // The client unzips the artifact: what it gets is exactly the bundle directory.
    let bundle_dir = step.resolve(&result.outputs["bundle-path"]).with_extension("");
    let theirs = files_under(&dest.path().join("audit-bundle-3.1.4"));
    let ours = files_under(&bundle_dir);
    assert!(!ours.is_empty());
    assert_eq!(theirs.iter().map(|(p, _)| p).collect::<Vec<_>>(), ours.iter().map(|(p, _)| p).collect::<Vec<_>>());
    assert!(theirs == ours, "the official client's files differ from the bundle's");

    // And the artifact's digest the service reports to the client is the bundle's sha256.
    let listed = service(&fake).list(Some("audit-bundle-3.1.4")).await.unwrap();
    assert_eq!(listed[0].digest.as_deref(), Some(format!("sha256:{}", result.outputs["bundle-sha256"]).as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn release_audit_reads_an_artifact_the_official_client_uploaded() {
    let fake = FakeGitHub::start().await;
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("reports")).unwrap();
    let junit = br#"<testsuites><testsuite name="pkg" tests="2" failures="0"><testcase name="A"/><testcase name="B"/></testsuite></testsuites>"#;
    std::fs::write(root.path().join("reports/junit.xml"), junit).unwrap();
    let uploaded = official::upload(&fake, "pr-unit-report", root.path(), &["reports/junit.xml"]).await;
    let id = uploaded["id"].as_i64().expect("the client reports the artifact id");

    let svc = service(&fake);
    let listed = svc.list(None).await.unwrap();
    let entry = listed.iter().find(|a| a.name == "pr-unit-report").expect("listed");
    assert_eq!(entry.id, id);
    assert_eq!(entry.size, uploaded["size"].as_u64().unwrap());

    let url = svc.signed_download_url(entry).await.unwrap();
    let dest = tempfile::tempdir().unwrap();
    let zip_path = dest.path().join("a.zip");
    let got = blob::download_to_file(svc.http(), &url, &zip_path, 1 << 30, "pr-unit-report", RetryPolicy::default())
        .await
        .unwrap();
    assert_eq!(Some(format!("sha256:{}", got.sha256)), entry.digest, "the digest the official client finalized with");
    assert_eq!(got.sha256, hex::encode(Sha256::digest(std::fs::read(&zip_path).unwrap())));

    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    let mut file = archive.by_name("reports/junit.xml").expect("the client keeps paths relative to the root");
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes).unwrap();
    assert_eq!(bytes, junit);
}

#[tokio::test(flavor = "multi_thread")]
async fn large_files_go_up_in_blocks_and_come_back_identical() {
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.zip");
    // 21 MiB of non-repeating bytes: three blocks, the last one short.
    let mut data = Vec::with_capacity(21 << 20);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while data.len() < 21 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(&path, &data).unwrap();
    let url = fake.azurite.blob_sas_url(
        &fake.container,
        "big/blob.zip",
        "cw",
        chrono::Utc::now() + chrono::Duration::hours(1),
    );
    blob::upload_file(
        &release_audit::http::Net::default().client,
        &Secret::new(url),
        &path,
        data.len() as u64,
        RetryPolicy::default(),
    )
    .await
    .unwrap();
    let back = fake.azurite.read_blob(&fake.container, "big/blob.zip").await.unwrap();
    assert_eq!(back.len(), data.len());
    assert!(back == data, "the committed block list does not reproduce the file");
}

// ---- the current major, @actions/artifact 6.x (ES module, Node 20) ----

fn create_requests(fake: &FakeGitHub, name: &str) -> Vec<serde_json::Value> {
    fake.calls("CreateArtifact").into_iter().filter(|c| c["name"] == name).collect()
}

/// 6.x uploads: with `skipArchive` the file itself is the artifact (named by the file,
/// `mime_type` from its extension, the blob served with that type); without it a zip.
/// release-audit reads both in one run, keeps the unzipped file as the artifact's
/// single file, and parses it.
#[tokio::test(flavor = "multi_thread")]
async fn release_audit_reads_what_the_current_official_client_uploads_zipped_or_not() {
    let fake = FakeGitHub::start().await;
    let root = tempfile::tempdir().unwrap();
    let unit = br#"<testsuites><testsuite name="pkg" tests="2" failures="0"><testcase name="A"/><testcase name="B"/></testsuite></testsuites>"#;
    let e2e = br#"<testsuites><testsuite name="e2e" tests="3" failures="0"><testcase name="A"/><testcase name="B"/><testcase name="C"/></testsuite></testsuites>"#;
    std::fs::create_dir_all(root.path().join("reports")).unwrap();
    std::fs::write(root.path().join("junit-unit.xml"), unit).unwrap();
    std::fs::write(root.path().join("reports/junit.xml"), e2e).unwrap();
    let unzipped =
        official::upload_v6(&fake, "ignored-with-skip-archive", root.path(), &["junit-unit.xml"], true).await;
    let zipped = official::upload_v6(&fake, "pr-e2e-report", root.path(), &["reports/junit.xml"], false).await;

    // What 6.x really sends (recorded by the fake): version 7 and a mime_type.
    let create = &create_requests(&fake, "junit-unit.xml")[0];
    assert_eq!((create["version"].as_i64(), create["mime_type"].as_str()), (Some(7), Some("text/xml")), "{create}");
    let create = &create_requests(&fake, "pr-e2e-report")[0];
    assert_eq!(create["mime_type"].as_str(), Some("application/zip"), "{create}");
    assert!(fake.artifacts().iter().any(|a| a.name == "junit-unit.xml" && !a.blob.ends_with(".zip")));

    let mut step = Step::with_fake(&fake);
    step.input("release-version", "4.0.0")
        .input("unit-reports", "junit-unit.xml")
        .input("e2e-reports", "pr-e2e-report")
        .input("include-run-logs", "false");
    let result = step.run(Path::new(env!("CARGO_BIN_EXE_release-audit")), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    let bundle_dir = step.resolve(&result.outputs["bundle-path"]).with_extension("");
    assert_eq!(std::fs::read(bundle_dir.join("reports/unit/junit-unit.xml/junit-unit.xml")).unwrap(), unit);
    assert_eq!(std::fs::read(bundle_dir.join("reports/e2e/pr-e2e-report/reports/junit.xml")).unwrap(), e2e);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle_dir.join("manifest.json")).unwrap()).unwrap();
    let categories = manifest["evidence"]["tests"]["categories"].as_array().unwrap();
    let unit_cat = categories.iter().find(|c| c["category"] == "unit").unwrap();
    assert_eq!(unit_cat["totals"]["tests"], 2);
    let record = &unit_cat["artifacts"][0];
    assert_eq!(record["id"].as_i64(), unzipped["id"].as_i64());
    // 6.x reports the digest as plain hex: the sha256 of the file itself, which release-audit recorded.
    assert_eq!(record["sha256"].as_str(), unzipped["digest"].as_str());
    assert_eq!(record["digest"].as_str().map(|d| d.trim_start_matches("sha256:")), unzipped["digest"].as_str());
    assert!(record["files"][0]["notes"][0].as_str().unwrap().contains("Content-Type text/xml"), "{record}");
    let e2e_cat = categories.iter().find(|c| c["category"] == "e2e").unwrap();
    assert_eq!(
        (e2e_cat["totals"]["tests"].as_i64(), e2e_cat["artifacts"][0]["id"].as_i64()),
        (Some(3), zipped["id"].as_i64())
    );
}

/// 6.x downloads the bundle release-audit uploaded (a zip: it unzips it) and an
/// unzipped artifact through the same fake (a single file: it writes it as is), which
/// shows the fake serves the types 6.x decides by.
#[tokio::test(flavor = "multi_thread")]
async fn the_current_official_client_downloads_the_bundle_and_unzipped_artifacts() {
    let fake = FakeGitHub::start().await;
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "3.1.5").input("required-reports", "none");
    let result = step.run(Path::new(env!("CARGO_BIN_EXE_release-audit")), &[]).await;
    assert_eq!(result.code, 0, "{}", result.stderr);
    let id: i64 = result.outputs["artifact-id"].parse().unwrap();
    let dest = tempfile::tempdir().unwrap();
    let downloaded = official::download_v6(&fake, id, dest.path()).await;
    assert_eq!(downloaded["digestMismatch"], false, "{downloaded}");
    let bundle_dir = step.resolve(&result.outputs["bundle-path"]).with_extension("");
    assert!(
        files_under(&dest.path().join("audit-bundle-3.1.5")) == files_under(&bundle_dir),
        "6.x's files differ from the bundle's"
    );

    let root = tempfile::tempdir().unwrap();
    let report = b"<testsuites><testsuite name=\"x\" tests=\"0\"/></testsuites>";
    std::fs::write(root.path().join("junit-smoke.xml"), report).unwrap();
    let uploaded = official::upload_v6(&fake, "x", root.path(), &["junit-smoke.xml"], true).await;
    let dest = tempfile::tempdir().unwrap();
    official::download_v6(&fake, uploaded["id"].as_i64().unwrap(), dest.path()).await;
    let files = files_under(dest.path());
    assert_eq!(
        files.len(),
        1,
        "6.x wrote the single file, not an extraction: {:?}",
        files.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    assert_eq!(files[0].1, report);
}
