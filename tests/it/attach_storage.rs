//! `attach` with `storage-url`: after the audit stored the bundle and a later step signed
//! it, `attach` stores the Sigstore bundles beside the stored zip — run as the runner
//! runs it, against moto (a bucket with Object Lock and one without) and fake-gcs-server.
//!
//! What a user checks: the `.sigstore.json` objects sit beside the zip, byte for byte the
//! signing step's files, under the zip's own write-once lock (moto refuses to delete
//! them), the step says where; a stored zip that is not the artifact's bytes is refused,
//! naming both hashes, with nothing stored; and `release-audit archive` on the prefix
//! finds the signature beside the zip and checks it.

use std::path::{Path, PathBuf};

use release_audit_test_support::{FakeGitHub, Step, StepResult};
use serde_json::Value;
use sha2::Digest;

use crate::attach::sigstore_bundle;
use crate::binary;
use crate::publish_storage::{BUCKET, emulators, python};

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

fn s3_credentials() -> String {
    let m = &emulators().moto;
    format!("access-key-id={}\nsecret-access-key={}", m.key_id, m.secret)
}

/// The audit of `version`, stored at `url` (with `extra` inputs, e.g. retention).
async fn audit_stored(
    fake: &FakeGitHub,
    version: &str,
    url: &str,
    credentials: &str,
    extra: &[(&str, &str)],
) -> Audited {
    let mut step = Step::with_fake(fake);
    step.input("release-version", version)
        .input("required-reports", "none")
        .input("storage-url", url)
        .input("storage-credentials", credentials);
    for (name, value) in extra {
        step.input(name, value);
    }
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    let zip = std::fs::read(step.resolve(&result.outputs["bundle-path"])).unwrap();
    let zip_url = result.outputs["storage-urls"].lines().next().unwrap().to_string();
    assert!(zip_url.ends_with(&format!("/audit-bundle-{version}.zip")), "{zip_url}");
    Audited { step, result, zip, zip_url }
}

struct Audited {
    step: Step,
    result: StepResult,
    zip: Vec<u8>,
    /// `s3://…/audit-bundle-<version>.zip` as the audit stored it.
    zip_url: String,
}

impl Audited {
    /// The key of `<bundle>{suffix}` beside the stored zip.
    fn key(&self, suffix: &str) -> String {
        let key = self.zip_url.split_once("://").unwrap().1.split_once('/').unwrap().1;
        format!("{}{suffix}", key.strip_suffix(".zip").unwrap())
    }

    /// The Sigstore bundles of the zip and of its VSA (stand-ins: `attach` reads what
    /// was signed; `archive` checks the signature).
    fn signatures(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let predicate: Value = serde_json::from_slice(
            &std::fs::read(self.step.resolve(&self.result.outputs["vsa-predicate-path"])).unwrap(),
        )
        .unwrap();
        let name = self.zip_url.rsplit('/').next().unwrap();
        let provenance = serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": name, "digest": {"sha256": sha256_hex(&self.zip)}}],
            "predicateType": "https://slsa.dev/provenance/v1", "predicate": {}
        });
        let vsa = serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "ghcr.io/o/app", "digest": {"sha256": "0".repeat(64)}}],
            "predicateType": "https://slsa.dev/verification_summary/v1", "predicate": predicate
        });
        (sigstore_bundle(dir, "attestation-1.json", &provenance), sigstore_bundle(dir, "attestation-2.json", &vsa))
    }
}

/// `attach` as the runner runs it (`args: ['attach']`, inputs as `INPUT_*`).
async fn attach(fake: &FakeGitHub, inputs: &[(&str, &str)]) -> StepResult {
    let mut step = Step::with_fake(fake);
    for (name, value) in inputs {
        step.input(name, value);
    }
    step.run(&binary(), &["attach"]).await
}

fn s3_client(bucket: &str) -> String {
    let m = &emulators().moto;
    format!(
        "import boto3, botocore, hashlib, json\ns3 = boto3.client('s3', endpoint_url='{}', aws_access_key_id='{}', aws_secret_access_key='{}', region_name='us-east-1')\nB = '{bucket}'",
        m.service.url(),
        m.key_id,
        m.secret
    )
}

/// What boto3 says of an S3 object: sha256 of its bytes, its lock, and what moto says
/// to deleting its version.
fn s3_facts(bucket: &str, key: &str) -> Value {
    let out = python(&format!(
        r#"{c}
try:
    h = s3.head_object(Bucket=B, Key="{key}")
except botocore.exceptions.ClientError:
    print("null"); raise SystemExit
body = s3.get_object(Bucket=B, Key="{key}")["Body"].read()
until = h.get("ObjectLockRetainUntilDate")
def attempt(f):
    try:
        f(); return "done"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
deleted = attempt(lambda: s3.delete_object(Bucket=B, Key="{key}", VersionId=h["VersionId"])) if until else None
print(json.dumps(dict(sha256=hashlib.sha256(body).hexdigest(), mode=h.get("ObjectLockMode"),
    until=until.strftime("%Y-%m-%dT%H:%M:%SZ") if until else None, delete_version=deleted)))
"#,
        c = s3_client(bucket)
    ));
    serde_json::from_str(out.trim()).expect("json")
}

fn archive(url: &str, credentials: &str, extra: &[&str]) -> (i32, String, Value) {
    let out = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(binary())
        .arg("archive")
        .arg(url)
        .arg("--out")
        .arg(out.path())
        .args(extra)
        .env("RELEASE_AUDIT_STORAGE_CREDENTIALS", credentials)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    let index: Value = serde_json::from_slice(
        &std::fs::read(out.path().join("index.json")).unwrap_or_else(|e| panic!("no index ({e}): {text}")),
    )
    .unwrap();
    (output.status.code().unwrap(), text, index)
}

/// The archive row of the zip at `key`.
fn row<'a>(index: &'a Value, key: &str) -> &'a Value {
    let rows = index["bundles"].as_array().unwrap();
    rows.iter().find(|r| r["key"] == key).unwrap_or_else(|| panic!("a row for {key}: {rows:#?}"))
}

/// A bucket with Object Lock: the audit stores the zip locked for 3 days; `attach`
/// stores the zip's Sigstore bundle beside it under exactly the zip's lock (no
/// retention input: it reads the zip's), then the VSA's with `storage-retention-days`
/// (as the reusable workflow passes it); moto refuses to delete either. `archive` on the
/// prefix finds the signature beside the zip and checks it.
#[tokio::test(flavor = "multi_thread")]
async fn s3_sigstore_bundles_are_stored_beside_the_zip_under_its_lock() {
    // A bucket of its own, stored at its root: moto's signature check refuses any
    // ListObjectsV2 whose prefix holds a `/` (boto3's too), so `archive` lists it all.
    let bucket = "release-audit-signed";
    python(&format!("{}\ns3.create_bucket(Bucket=B, ObjectLockEnabledForBucket=True)", s3_client(bucket)));
    let url = format!("s3://{bucket}/?endpoint={}&region=us-east-1", emulators().moto.service.url());
    let credentials = s3_credentials();
    let fake = FakeGitHub::start().await;
    let audited = audit_stored(&fake, "5.0.0", &url, &credentials, &[("storage-retention-days", "3")]).await;
    let locks: Value = serde_json::from_str(&audited.result.outputs["storage-locks"]).unwrap();
    let zip_until = locks[0]["retain_until"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let (of_zip, of_vsa) = audited.signatures(dir.path());
    let base =
        [("bundle-name", "audit-bundle-5.0.0"), ("storage-url", url.as_str()), ("storage-credentials", &credentials)];

    let zip_signature = of_zip.display().to_string();
    let first = attach(&fake, &[&base[..], &[("sigstore-bundles", zip_signature.as_str())]].concat()).await;
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    let sigstore_key = audited.key(".sigstore.json");
    let sigstore_url = format!("s3://{bucket}/{sigstore_key}");
    assert_eq!(first.outputs["storage-urls"], sigstore_url, "the step says where");
    assert_eq!(first.outputs["asset-urls"], "", "no release was asked for");
    assert!(
        first.stdout.contains(&format!("stored: {sigstore_url} (locked COMPLIANCE until {zip_until})")),
        "{}",
        first.stdout
    );
    let locks: Value = serde_json::from_str(&first.outputs["storage-locks"]).unwrap();
    assert_eq!(locks[0]["retain_until"], zip_until.as_str(), "{locks}");
    let facts = s3_facts(bucket, &sigstore_key);
    assert_eq!(facts["sha256"], sha256_hex(&std::fs::read(&of_zip).unwrap()), "the signing step's file, as signed");
    assert_eq!((facts["mode"].as_str(), facts["until"].as_str()), (Some("COMPLIANCE"), Some(zip_until.as_str())));
    assert_eq!(facts["delete_version"], "AccessDenied", "moto will not delete the locked signature");

    let vsa_signature = of_vsa.display().to_string();
    let second = attach(
        &fake,
        &[&base[..], &[("sigstore-bundles", vsa_signature.as_str()), ("storage-retention-days", "3")]].concat(),
    )
    .await;
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    let vsa_key = audited.key(".vsa.sigstore.json");
    assert_eq!(second.outputs["storage-urls"], format!("s3://{bucket}/{vsa_key}"));
    let facts = s3_facts(bucket, &vsa_key);
    assert_eq!(facts["sha256"], sha256_hex(&std::fs::read(&of_vsa).unwrap()));
    assert_eq!(facts["mode"], "COMPLIANCE");
    assert!(facts["until"].as_str().unwrap() >= zip_until.as_str(), "{facts} vs {zip_until}");
    assert_eq!(facts["delete_version"], "AccessDenied");

    // Once there, again without overwrite: refused, nothing replaced.
    let again = attach(&fake, &[&base[..], &[("sigstore-bundles", zip_signature.as_str())]].concat()).await;
    assert_eq!(again.code, 3, "{}", again.stderr);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);

    // The archive finds the signature beside the zip and checks it: a stand-in signs
    // nothing, so it fails, with the reason.
    let (code, text, index) = archive(&url, &credentials, &["--retention-days", "3"]);
    let r = row(&index, &audited.key(".zip"));
    let signature = r["signature"].as_str().unwrap();
    assert!(signature.starts_with("fails: ") && signature.len() > "fails: ".len(), "{r:#}");
    assert_eq!(r["sums"], "matches", "{r:#}");
    assert!(r["lock"].as_str().unwrap().starts_with("COMPLIANCE until "), "{r:#}");
    assert_eq!(code, 1, "the unverifiable signature fails the archive run: {text}");
}

/// A bucket without Object Lock, with a release too: `attach` attaches the release
/// assets and stores both Sigstore bundles beside the zip, unlocked; then a zip replaced
/// in the bucket after the audit is refused, naming both hashes, and nothing is stored.
#[tokio::test(flavor = "multi_thread")]
async fn s3_release_and_storage_together_and_a_replaced_zip_is_refused() {
    let url = crate::publish_storage::s3_url(&emulators().moto.service.url());
    let credentials = s3_credentials();
    let fake = FakeGitHub::start().await;
    let audited = audit_stored(&fake, "5.1.0", &url, &credentials, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let (of_zip, of_vsa) = audited.signatures(dir.path());
    let both = format!("{}\n{}", of_zip.display(), of_vsa.display());
    let release = fake.add_release("5.1.0", false);
    let attached = attach(
        &fake,
        &[
            ("bundle-name", "audit-bundle-5.1.0"),
            ("release-tag", "5.1.0"),
            ("github-token", &fake.rest_token),
            ("sigstore-bundles", &both),
            ("storage-url", &url),
            ("storage-credentials", &credentials),
        ],
    )
    .await;
    assert_eq!(attached.code, 0, "{}\n{}", attached.stdout, attached.stderr);
    let names: Vec<String> = fake.release_assets(release).into_iter().map(|a| a.name).collect();
    assert_eq!(names.len(), 4, "the zip, its sums and both Sigstore bundles on the release: {names:?}");
    let stored: Vec<&str> = attached.outputs["storage-urls"].lines().collect();
    let keys = [audited.key(".sigstore.json"), audited.key(".vsa.sigstore.json")];
    assert_eq!(stored, keys.iter().map(|k| format!("s3://{BUCKET}/{k}")).collect::<Vec<_>>());
    assert!(!attached.outputs.contains_key("storage-locks"), "nothing was locked");
    for (key, file) in keys.iter().zip([&of_zip, &of_vsa]) {
        let facts = s3_facts(BUCKET, key);
        assert_eq!(facts["sha256"], sha256_hex(&std::fs::read(file).unwrap()), "{key}");
        assert_eq!(facts["mode"], Value::Null, "{key}: unlocked, as the zip");
    }

    // The next release's zip is replaced in the bucket after the audit stored it.
    let next = audit_stored(&fake, "5.2.0", &url, &credentials, &[]).await;
    let replaced = b"not the bundle".to_vec();
    python(&format!(
        "{}\ns3.put_object(Bucket=B, Key='{}', Body=b'not the bundle')",
        s3_client(BUCKET),
        next.key(".zip")
    ));
    let (of_zip, _) = next.signatures(dir.path());
    let refused = attach(
        &fake,
        &[
            ("bundle-name", "audit-bundle-5.2.0"),
            ("sigstore-bundles", &of_zip.display().to_string()),
            ("storage-url", &url),
            ("storage-credentials", &credentials),
        ],
    )
    .await;
    assert_eq!(refused.code, 3, "{}\n{}", refused.stdout, refused.stderr);
    let (theirs, ours) = (sha256_hex(&replaced), sha256_hex(&next.zip));
    assert!(
        refused
            .stderr
            .contains(&format!("holds other bytes (sha256 {theirs}) than the verified bundle (sha256 {ours})")),
        "{}",
        refused.stderr
    );
    assert_eq!(s3_facts(BUCKET, &next.key(".sigstore.json")), Value::Null, "nothing was stored beside it");
}

/// GCS (fake-gcs-server keeps no sha256, so the stored zip is read back and hashed):
/// stored beside the zip; a replaced zip refused; `archive` sees the signature.
#[tokio::test(flavor = "multi_thread")]
async fn gcs_sigstore_bundles_are_stored_beside_the_zip_and_a_replaced_zip_is_refused() {
    let gcs = emulators().gcs.url();
    let url = format!("gs://{BUCKET}/attach/?endpoint={gcs}");
    let credentials = "access-token=ya29.test-token";
    let fake = FakeGitHub::start().await;
    let audited = audit_stored(&fake, "6.0.0", &url, credentials, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let (of_zip, _) = audited.signatures(dir.path());
    let inputs = |version: &str, signature: &Path| {
        vec![
            ("bundle-name".to_string(), format!("audit-bundle-{version}")),
            ("sigstore-bundles".to_string(), signature.display().to_string()),
            ("storage-url".to_string(), url.clone()),
            ("storage-credentials".to_string(), credentials.to_string()),
        ]
    };
    let owned = inputs("6.0.0", &of_zip);
    let given: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let attached = attach(&fake, &given).await;
    assert_eq!(attached.code, 0, "{}\n{}", attached.stdout, attached.stderr);
    let key = audited.key(".sigstore.json");
    assert_eq!(attached.outputs["storage-urls"], format!("gs://{BUCKET}/{key}"));
    let stored = crate::publish_storage::gcs_object(&key).await.expect("stored");
    assert_eq!(stored.0, sha256_hex(&std::fs::read(&of_zip).unwrap()), "the signing step's file, as signed");

    let (code, text, index) = archive(&url, credentials, &[]);
    let r = row(&index, &audited.key(".zip"));
    let signature = r["signature"].as_str().unwrap();
    assert!(signature.starts_with("fails: ") && signature.len() > "fails: ".len(), "{r:#}");
    assert_eq!(code, 1, "{text}");

    let next = audit_stored(&fake, "6.1.0", &url, credentials, &[]).await;
    let replaced = reqwest::Client::new()
        .post(format!("{gcs}/upload/storage/v1/b/{BUCKET}/o?uploadType=media&name={}", next.key(".zip")))
        .body("not the bundle")
        .send()
        .await
        .unwrap();
    assert!(replaced.status().is_success(), "{:?}", replaced.status());
    let (of_zip, _) = next.signatures(dir.path());
    let owned = inputs("6.1.0", &of_zip);
    let given: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let refused = attach(&fake, &given).await;
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    let (theirs, ours) = (sha256_hex(b"not the bundle"), sha256_hex(&next.zip));
    assert!(
        refused
            .stderr
            .contains(&format!("holds other bytes (sha256 {theirs}) than the verified bundle (sha256 {ours})")),
        "{}",
        refused.stderr
    );
    assert_eq!(crate::publish_storage::gcs_object(&next.key(".sigstore.json")).await, None, "nothing was stored");
}

/// An audit with `upload: false` leaves no artifact: `attach` reads the zip the audit
/// wrote (`bundle-path`, as the reusable workflow passes it), verifies it and stores the
/// Sigstore bundles beside the stored zip (the stored zip must be its bytes, as with an
/// artifact: `s3_release_and_storage_together_and_a_replaced_zip_is_refused`).
#[tokio::test(flavor = "multi_thread")]
async fn without_an_artifact_the_zip_the_audit_wrote_is_read_from_bundle_path() {
    let url = crate::publish_storage::s3_url(&emulators().moto.service.url());
    let credentials = s3_credentials();
    let fake = FakeGitHub::start().await;
    let audited = audit_stored(&fake, "5.3.0", &url, &credentials, &[("upload", "false")]).await;
    let dir = tempfile::tempdir().unwrap();
    let (of_zip, _) = audited.signatures(dir.path());
    let signature = of_zip.display().to_string();
    let base = [
        ("bundle-name", "audit-bundle-5.3.0"),
        ("sigstore-bundles", signature.as_str()),
        ("storage-url", url.as_str()),
        ("storage-credentials", credentials.as_str()),
    ];

    let no_artifact = attach(&fake, &base).await;
    assert_eq!(no_artifact.code, 3, "{}", no_artifact.stderr);
    assert!(no_artifact.stderr.contains("no artifact named `audit-bundle-5.3.0`"), "{}", no_artifact.stderr);
    assert!(no_artifact.stderr.contains("bundle-path"), "the hint names the way out: {}", no_artifact.stderr);

    let zip = audited.step.resolve(&audited.result.outputs["bundle-path"]).display().to_string();
    let stored = attach(&fake, &[&base[..], &[("bundle-path", zip.as_str())]].concat()).await;
    assert_eq!(stored.code, 0, "{}\n{}", stored.stdout, stored.stderr);
    let key = audited.key(".sigstore.json");
    assert!(stored.outputs["storage-urls"].ends_with(&key), "{:?}", stored.outputs);
    assert_eq!(stored.outputs["bundle-sha256"], sha256_hex(&audited.zip));

    let facts = s3_facts(BUCKET, &key);
    assert_eq!(facts["sha256"], sha256_hex(&std::fs::read(&of_zip).unwrap()), "the signing step's file, as signed");
}
