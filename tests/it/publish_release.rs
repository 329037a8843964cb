//! Release assets against the fake GitHub (its release routes and upload route).
//!
//! What a user checks: both files are on the release with the bundle's bytes and the
//! returned links are the download URLs; an existing asset is not replaced unless
//! `overwrite`; an unknown tag, a refused token and a token without `contents: write`
//! are each one clear error; a broken upload is never reported as attached.

use crate::publish_common;

use std::path::PathBuf;
use std::sync::OnceLock;

use release_audit::error::Error;
use release_audit::github::rest::Rest;
use release_audit::publish::release::{AssetFile, AttachedAsset, ReleaseAssetSettings, attach};
use release_audit::secret::Secret;
use release_audit_test_support::FakeGitHub;

const REPOSITORY: &str = "kyma-project/telemetry-manager";

/// The fake needs Azurite: the suite's, or one started once for this binary. Its
/// plain reqwest clients need the TLS provider our client installs.
fn setup() {
    static SETUP: OnceLock<()> = OnceLock::new();
    SETUP.get_or_init(|| {
        release_audit::http::Net::default();
        let azurite = publish_common::azurite_url();
        // SAFETY: see `set_process_env`; this initialiser runs before anything else.
        #[allow(unsafe_code)]
        unsafe {
            publish_common::set_process_env(&[("RA_AZURITE_BLOB_URL", &azurite), ("RELEASE_AUDIT_RETRY_BASE_MS", "20")])
        };
    });
}

async fn fake() -> FakeGitHub {
    setup();
    FakeGitHub::start().await
}

struct Files {
    _dir: tempfile::TempDir,
    zip: PathBuf,
    sums: PathBuf,
}

fn files(seed: &str) -> Files {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("audit-bundle-1.2.3.zip");
    let content: Vec<u8> =
        (0..700_000u32).map(|i| (i.wrapping_mul(31) ^ seed.len() as u32) as u8).chain(seed.bytes()).collect();
    std::fs::write(&zip, content).unwrap();
    let sums = dir.path().join("SHA256SUMS");
    std::fs::write(&sums, format!("0000  {seed}/manifest.json\n")).unwrap();
    Files { _dir: dir, zip, sums }
}

async fn attach_files(
    fake: &FakeGitHub,
    token: &str,
    tag: &str,
    f: &Files,
    overwrite: bool,
) -> Result<Vec<AttachedAsset>, Error> {
    let list = [
        AssetFile { path: &f.zip, name: "audit-bundle-1.2.3.zip", content_type: "application/zip" },
        AssetFile { path: &f.sums, name: "audit-bundle-1.2.3.SHA256SUMS", content_type: "text/plain" },
    ];
    let settings = ReleaseAssetSettings { tag: tag.to_string() };
    attach(&Rest::new(&publish_common::net(), &fake.url, REPOSITORY, Secret::new(token)), &settings, &list, overwrite)
        .await
}

fn asset_bytes(fake: &FakeGitHub, release: i64, name: &str) -> Option<Vec<u8>> {
    fake.release_assets(release).into_iter().find(|a| a.name == name && a.state == "uploaded").map(|a| a.bytes)
}

fn one_line_with_hint(e: &Error) -> String {
    let text = e.to_string();
    assert!(!text.contains('\n') && !e.hint().is_empty(), "{text}");
    text
}

#[tokio::test]
async fn bundle_and_sums_are_attached_with_their_bytes_and_download_links() {
    let fake = fake().await;
    let release = fake.add_release("1.2.3", false);
    let f = files("attach");
    let attached = attach_files(&fake, &fake.rest_token, "1.2.3", &f, false).await.expect("attached");
    let urls: Vec<&str> = attached.iter().map(|a| a.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            format!("https://github.com/{REPOSITORY}/releases/download/1.2.3/audit-bundle-1.2.3.zip"),
            format!("https://github.com/{REPOSITORY}/releases/download/1.2.3/audit-bundle-1.2.3.SHA256SUMS"),
        ]
    );
    assert_eq!(asset_bytes(&fake, release, "audit-bundle-1.2.3.zip").unwrap(), std::fs::read(&f.zip).unwrap());
    assert_eq!(asset_bytes(&fake, release, "audit-bundle-1.2.3.SHA256SUMS").unwrap(), std::fs::read(&f.sums).unwrap());
    let zip = fake.release_assets(release).into_iter().find(|a| a.name.ends_with(".zip")).unwrap();
    assert_eq!(zip.content_type, "application/zip");
    let auth = fake.state.lock().unwrap().rest_auth.clone();
    assert!(
        auth.iter().all(|a| a.as_deref() == Some(format!("Bearer {}", fake.rest_token).as_str())),
        "every call carries the token"
    );
}

#[tokio::test]
async fn a_draft_release_is_found_by_listing() {
    let fake = fake().await;
    fake.add_release("0.9.0", false);
    let draft = fake.add_release("1.2.3", true);
    attach_files(&fake, &fake.rest_token, "1.2.3", &files("draft"), false).await.expect("attached to the draft");
    assert!(asset_bytes(&fake, draft, "audit-bundle-1.2.3.zip").is_some());
}

#[tokio::test]
async fn existing_asset_is_refused_then_replaced_with_overwrite() {
    let fake = fake().await;
    let release = fake.add_release("1.2.3", false);
    fake.add_release_asset(release, "audit-bundle-1.2.3.zip", b"the old bundle", "uploaded");
    let f = files("overwrite");

    let err = attach_files(&fake, &fake.rest_token, "1.2.3", &f, false).await.unwrap_err();
    let text = one_line_with_hint(&err);
    assert!(text.contains("already has the asset audit-bundle-1.2.3.zip; nothing was changed"), "{text}");
    assert!(err.hint().contains("overwrite: true"));
    assert_eq!(
        asset_bytes(&fake, release, "audit-bundle-1.2.3.zip").unwrap(),
        b"the old bundle",
        "the existing asset is untouched"
    );
    assert!(asset_bytes(&fake, release, "audit-bundle-1.2.3.SHA256SUMS").is_none(), "nothing else was attached");

    // Overwrite, but the upload of the successor fails: the old asset is still there.
    fake.inject_fault("UploadReleaseAsset", 502, "Bad Gateway", 10);
    attach_files(&fake, &fake.rest_token, "1.2.3", &f, true).await.unwrap_err();
    assert_eq!(
        asset_bytes(&fake, release, "audit-bundle-1.2.3.zip").unwrap(),
        b"the old bundle",
        "a failed replacement keeps the old asset"
    );
    fake.state.lock().unwrap().faults.clear();

    attach_files(&fake, &fake.rest_token, "1.2.3", &f, true).await.expect("overwrite replaces");
    assert_eq!(asset_bytes(&fake, release, "audit-bundle-1.2.3.zip").unwrap(), std::fs::read(&f.zip).unwrap());
    let names: Vec<String> = fake.release_assets(release).iter().map(|a| a.name.clone()).collect();
    assert_eq!(
        names.len(),
        2,
        "the old asset is gone, not kept beside the new one, and no temporary name is left: {names:?}"
    );
    assert!(fake.calls("PATCH release asset").len() == 1, "the successor was renamed into place");
}

#[tokio::test]
async fn unknown_tag_is_one_clear_error() {
    let fake = fake().await;
    fake.add_release("1.2.2", false);
    let err = attach_files(&fake, &fake.rest_token, "1.2.3", &files("unknown"), false).await.unwrap_err();
    let text = one_line_with_hint(&err);
    assert!(text.contains(&format!("{REPOSITORY} has no release with the tag `1.2.3` (drafts included)")), "{text}");
    assert!(err.hint().contains("release-tag"), "{}", err.hint());
}

#[tokio::test]
async fn token_without_contents_write_is_one_clear_error() {
    let fake = fake().await;
    let release = fake.add_release("1.2.3", false);
    fake.forbid_release_writes();
    let err = attach_files(&fake, &fake.rest_token, "1.2.3", &files("readonly"), false).await.unwrap_err();
    let text = one_line_with_hint(&err);
    assert!(text.contains("HTTP 403: Resource not accessible by integration"), "{text}");
    assert!(err.hint().contains("contents: write"), "{}", err.hint());
    assert!(fake.release_assets(release).is_empty());
}

#[tokio::test]
async fn refused_token_is_one_clear_error_that_does_not_show_it() {
    let fake = fake().await;
    fake.add_release("1.2.3", false);
    let err = attach_files(&fake, "ghp_not-the-token", "1.2.3", &files("badtoken"), false).await.unwrap_err();
    let text = one_line_with_hint(&err);
    assert!(text.contains("the token was refused (HTTP 401: Bad credentials)"), "{text}");
    assert!(!text.contains("ghp_not-the-token") && !err.hint().contains("ghp_not-the-token"));
}

#[tokio::test]
async fn a_broken_upload_is_not_reported_and_its_leftover_is_cleaned_up_on_the_next_run() {
    let fake = fake().await;
    let release = fake.add_release("1.2.3", false);
    fake.inject_fault("UploadReleaseAsset", 502, "Bad Gateway", 10);
    let f = files("broken");
    let err = attach_files(&fake, &fake.rest_token, "1.2.3", &f, false).await.unwrap_err();
    let text = one_line_with_hint(&err);
    assert!(text.contains("uploading release asset audit-bundle-1.2.3.zip: HTTP 502"), "{text}");
    let left: Vec<String> = fake.release_assets(release).iter().map(|a| format!("{}:{}", a.name, a.state)).collect();
    assert_eq!(left, ["audit-bundle-1.2.3.zip:starter"], "only the broken leftover, never an uploaded asset");

    fake.state.lock().unwrap().faults.clear();
    attach_files(&fake, &fake.rest_token, "1.2.3", &f, false).await.expect("the next run attaches");
    assert_eq!(asset_bytes(&fake, release, "audit-bundle-1.2.3.zip").unwrap(), std::fs::read(&f.zip).unwrap());
    assert_eq!(fake.release_assets(release).len(), 2, "the leftover was deleted");
}

#[tokio::test]
async fn a_transient_upload_failure_is_retried_after_removing_its_leftover() {
    let fake = fake().await;
    let release = fake.add_release("1.2.3", false);
    fake.inject_fault("UploadReleaseAsset", 502, "Bad Gateway", 1);
    let f = files("transient");
    attach_files(&fake, &fake.rest_token, "1.2.3", &f, false).await.expect("attached on the second attempt");
    let assets = fake.release_assets(release);
    assert_eq!(assets.len(), 2);
    assert!(assets.iter().all(|a| a.state == "uploaded"));
}

/// The action end to end with `release-asset: true`: the zip and its SHA256SUMS reach
/// the release, byte for byte, the output and the summary point at them.
#[tokio::test(flavor = "multi_thread")]
async fn the_action_attaches_the_bundle_and_its_checksums_to_the_release() {
    use sha2::Digest;
    let fake = fake().await;
    let release = fake.add_release("1.2.3", false);
    let mut step = release_audit_test_support::Step::with_fake(&fake);
    step.input("release-version", "1.2.3").input("required-reports", "none").input("release-asset", "true");
    let result = step.run(std::path::Path::new(env!("CARGO_BIN_EXE_release-audit")), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);

    let zip = std::fs::read(step.resolve(&result.outputs["bundle-path"])).unwrap();
    let assets = fake.release_assets(release);
    let names: Vec<&str> = assets.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["audit-bundle-1.2.3.zip", "audit-bundle-1.2.3.SHA256SUMS"]);
    assert!(assets[0].bytes == zip, "the attached zip is the bundle");
    let sums = String::from_utf8(assets[1].bytes.clone()).unwrap();
    let zip_hex = hex::encode(sha2::Sha256::digest(&zip));
    assert_eq!(sums.lines().next().unwrap(), format!("{zip_hex}  audit-bundle-1.2.3.zip"));
    assert!(sums.contains("  audit-bundle-1.2.3/manifest.json"), "{sums}");

    // `sha256sum -c` accepts the attached file next to the zip and its unzipped tree.
    let here = step.resolve(&result.outputs["bundle-path"]).parent().unwrap().to_path_buf();
    std::fs::write(here.join("downloaded.SHA256SUMS"), &sums).unwrap();
    let check = std::process::Command::new("sha256sum")
        .args(["-c", "--strict", "downloaded.SHA256SUMS"])
        .current_dir(&here)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));

    let urls: Vec<&str> = result.outputs["storage-urls"].lines().collect();
    assert_eq!(urls.len(), 2);
    assert!(urls[0].ends_with("/releases/download/1.2.3/audit-bundle-1.2.3.zip"), "{urls:?}");
    assert!(
        result.summary.contains(&format!("| Release asset | [audit-bundle-1.2.3.zip]({})", urls[0])),
        "{}",
        result.summary
    );

    // Again without overwrite: refused, nothing replaced, the bundle kept.
    step.input("upload", "false");
    let again = step.run(std::path::Path::new(env!("CARGO_BIN_EXE_release-audit")), &[]).await;
    assert_eq!(again.code, 3, "{}", again.stderr);
    assert!(
        again.stderr.contains("release asset upload failed") && again.stderr.contains("the bundle is kept at"),
        "{}",
        again.stderr
    );
    assert_eq!(fake.release_assets(release).len(), 2);
}

/// The upload was stored but its answer was lost (a 502 on the way back): the retry is
/// refused as `already_exists`, and the asset is recognised as ours by size and digest.
#[tokio::test]
async fn a_stored_upload_whose_answer_was_lost_is_recognised_on_the_retry() {
    let fake = fake().await;
    let release = fake.add_release("1.2.3", false);
    fake.inject_fault("UploadReleaseAssetAnswerLost", 502, "Bad Gateway", 1);
    let f = files("lost-answer");
    let attached =
        attach_files(&fake, &fake.rest_token, "1.2.3", &f, false).await.expect("the stored asset is recognised");
    assert_eq!(attached.len(), 2);
    assert_eq!(asset_bytes(&fake, release, "audit-bundle-1.2.3.zip").unwrap(), std::fs::read(&f.zip).unwrap());
    assert_eq!(fake.release_assets(release).len(), 2);
}
