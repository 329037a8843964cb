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
    ArtifactService::new(release_audit::http::client(), &results)
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
    let got = blob::download_to_file(svc.http(), &url, &zip_path, 1 << 30, "pr-unit-report", RetryPolicy::default()).await.unwrap();
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
    let url = fake.azurite.blob_sas_url(&fake.container, "big/blob.zip", "cw", chrono::Utc::now() + chrono::Duration::hours(1));
    blob::upload_file(&release_audit::http::client(), &Secret::new(url), &path, data.len() as u64, RetryPolicy::default()).await.unwrap();
    let back = fake.azurite.read_blob(&fake.container, "big/blob.zip").await.unwrap();
    assert_eq!(back.len(), data.len());
    assert!(back == data, "the committed block list does not reproduce the file");
}
