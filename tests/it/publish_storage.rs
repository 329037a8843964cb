//! Object storage against real emulators: moto's S3 server (with its IAM signature
//! check switched on, so our SigV4 signing is checked for real) and fake-gcs-server.
//! Both are started once for this test binary (see publish_common).
//!
//! What a user checks: the object is at the documented key, its bytes are the
//! bundle's, an existing object is not replaced unless `overwrite`, and every failure
//! (missing bucket, refused credentials, an upload that broke off or was damaged) is
//! one clear error and nothing is reported as stored.
//!
//! Not testable here: moto accepts a body whose `x-amz-checksum-sha256` does not match
//! (real S3 refuses it with BadDigest), so a damaged S3 upload is only tested against
//! GCS; fake-gcs-server accepts any token, so refused GCS credentials are tested
//! against a canned 401 in Google's error format.

use crate::publish_common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use publish_common::{Proxy, Service, Tamper};
use release_audit::bundle::ZippedBundle;
use release_audit::config::{RawInputs, RunArgs, input_variable};
use release_audit::error::Error;
use release_audit::publish::storage::{self, StorageSettings, StoreRequest, StoredObject};
use sha2::{Digest, Sha256};

pub(crate) const BUCKET: &str = "release-audit";
pub(crate) const REPOSITORY: &str = "kyma-project/telemetry-manager";

pub(crate) struct Moto {
    pub(crate) service: Service,
    pub(crate) key_id: String,
    pub(crate) secret: String,
    /// Temporary credentials of an assumed role: (key id, secret, session token).
    pub(crate) temporary: (String, String, String),
}

pub(crate) struct Emulators {
    pub(crate) moto: Moto,
    pub(crate) gcs: Service,
}

/// Starts moto and fake-gcs-server once; later calls get the same ones.
pub(crate) fn emulators() -> &'static Emulators {
    static EMULATORS: OnceLock<Emulators> = OnceLock::new();
    EMULATORS.get_or_init(|| {
        // SAFETY: see `set_process_env`; this initialiser runs before anything else.
        #[allow(unsafe_code)]
        unsafe {
            publish_common::set_process_env(&[("RELEASE_AUDIT_RETRY_BASE_MS", "20")])
        };
        // The helpers' own reqwest clients need the TLS provider the product installs.
        release_audit::http::Net::default();
        Emulators { moto: start_moto(), gcs: start_gcs() }
    })
}

fn start_moto() -> Moto {
    let hint = "install it with `pip install 'moto[server]'` (tests/run does)";
    let program =
        publish_common::on_path("moto_server").unwrap_or_else(|| panic!("moto_server is not on PATH: {hint}"));
    let service = publish_common::start("moto", &program, &["-H", "127.0.0.1", "-p", "{port}"], hint);
    // An IAM user allowed s3:*, a role it may assume, a bucket; then moto's auth check
    // is switched on: from here every request must be signed by a known key.
    let out = python(&format!(
        r#"
import boto3, json, urllib.request
ep = "{ep}"
iam = boto3.client("iam", endpoint_url=ep, aws_access_key_id="setup", aws_secret_access_key="setup", region_name="us-east-1")
policy = json.dumps({{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}]}})
iam.create_user(UserName="release-audit")
iam.put_user_policy(UserName="release-audit", PolicyName="s3", PolicyDocument=policy)
key = iam.create_access_key(UserName="release-audit")["AccessKey"]
trust = json.dumps({{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::123456789012:user/release-audit"}}, "Action": "sts:AssumeRole"}}]}})
role = iam.create_role(RoleName="writer", AssumeRolePolicyDocument=trust)["Role"]
iam.put_role_policy(RoleName="writer", PolicyName="s3", PolicyDocument=policy)
sts = boto3.client("sts", endpoint_url=ep, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name="us-east-1")
tmp = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="release")["Credentials"]
s3 = boto3.client("s3", endpoint_url=ep, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name="us-east-1")
s3.create_bucket(Bucket="{BUCKET}")
urllib.request.urlopen(urllib.request.Request(ep + "/moto-api/reset-auth", data=b"0", method="POST", headers={{"Content-Type": "text/plain"}}))
print(json.dumps([key["AccessKeyId"], key["SecretAccessKey"], tmp["AccessKeyId"], tmp["SecretAccessKey"], tmp["SessionToken"]]))
"#,
        ep = service.url()
    ));
    let v: Vec<String> = serde_json::from_str(out.trim()).expect("the setup prints the keys");
    Moto { service, key_id: v[0].clone(), secret: v[1].clone(), temporary: (v[2].clone(), v[3].clone(), v[4].clone()) }
}

fn start_gcs() -> Service {
    publish_common::start_fake_gcs(BUCKET)
}

pub(crate) fn python(script: &str) -> String {
    let out = std::process::Command::new("python3").arg("-c").arg(script).output().expect("python3 runs");
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Reads an S3 object back with boto3 (an independent client): (sha256 hex, stored
/// sha256 checksum as hex) or None when it does not exist.
pub(crate) fn s3_object(key: &str) -> Option<(String, Option<String>)> {
    let m = &emulators().moto;
    let out = python(&format!(
        r#"
import boto3, botocore, hashlib, base64, json
s3 = boto3.client("s3", endpoint_url="{ep}", aws_access_key_id="{id}", aws_secret_access_key="{secret}", region_name="us-east-1")
try:
    body = s3.get_object(Bucket="{BUCKET}", Key="{key}")["Body"].read()
    head = s3.head_object(Bucket="{BUCKET}", Key="{key}", ChecksumMode="ENABLED")
    c = head.get("ChecksumSHA256")
    print(json.dumps([hashlib.sha256(body).hexdigest(), base64.b64decode(c).hex() if c else None]))
except botocore.exceptions.ClientError as e:
    if e.response["Error"]["Code"] not in ("NoSuchKey", "404"):
        raise
    print("null")
"#,
        ep = m.service.url(),
        id = m.key_id,
        secret = m.secret,
    ));
    serde_json::from_str::<Option<(String, Option<String>)>>(out.trim()).expect("json")
}

/// Reads a GCS object back over plain HTTP (the emulator needs no token): (sha256 hex
/// of the bytes, its `sha256` metadata) or None.
pub(crate) async fn gcs_object(key: &str) -> Option<(String, Option<String>)> {
    let base = emulators().gcs.url();
    let encoded: String = key
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let http = reqwest::Client::new();
    let meta = http.get(format!("{base}/storage/v1/b/{BUCKET}/o/{encoded}")).send().await.expect("GCS answers");
    if meta.status().as_u16() == 404 {
        return None;
    }
    let meta: serde_json::Value = meta.json().await.expect("metadata JSON");
    let bytes = http
        .get(format!("{base}/storage/v1/b/{BUCKET}/o/{encoded}?alt=media"))
        .send()
        .await
        .expect("GCS answers")
        .bytes()
        .await
        .expect("body");
    Some((
        hex::encode(Sha256::digest(&bytes)),
        meta.pointer("/metadata/sha256").and_then(|v| v.as_str()).map(str::to_string),
    ))
}

/// A fresh RSA key as Google issues them (PKCS#8 PEM) and its public half (PKCS#1
/// DER, hex), made with Python's `cryptography` (a dependency of moto).
fn rsa_key() -> (String, String) {
    let out = python(
        r#"
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives import serialization
import json
k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
public = k.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1).hex()
print(json.dumps([pem, public]))
"#,
    );
    serde_json::from_str(out.trim()).expect("the key as JSON")
}

fn inputs(pairs: &[(&str, &str)]) -> RawInputs {
    let map: std::collections::HashMap<String, String> =
        pairs.iter().map(|(k, v)| (input_variable(k), v.to_string())).collect();
    RawInputs::collect(&RunArgs::default(), &move |k: &str| map.get(k).cloned())
}

pub(crate) fn settings(url: &str, credentials: &str) -> StorageSettings {
    release_audit::config::storage::settings(&inputs(&[("storage-url", url), ("storage-credentials", credentials)]))
        .expect("valid settings")
        .expect("storage is asked for")
}

pub(crate) fn s3_settings(url: &str) -> StorageSettings {
    let m = &emulators().moto;
    settings(url, &format!("access-key-id={}\nsecret-access-key={}", m.key_id, m.secret))
}

pub(crate) fn s3_url(endpoint: &str) -> String {
    format!("s3://{BUCKET}/audits/?endpoint={endpoint}&region=us-east-1")
}

fn gcs_settings(endpoint: &str) -> StorageSettings {
    settings(&format!("gs://{BUCKET}/audits/?endpoint={endpoint}"), "access-token=ya29.test-token")
}

/// A bundle zip and SHA256SUMS on disk. `size` bytes of content that contains the
/// marker `@@MARK@@` every 1000 bytes (for the tampering proxy).
pub(crate) struct Files {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) bundle: ZippedBundle,
    pub(crate) sums: PathBuf,
}

pub(crate) fn files(seed: &str, size: usize) -> Files {
    let dir = tempfile::tempdir().unwrap();
    let mut content = Vec::with_capacity(size);
    let mut i = 0u64;
    while content.len() < size {
        content.extend_from_slice(format!("{seed}-{i:08}-@@MARK@@-").as_bytes());
        content.extend_from_slice(&[b'x'; 960]);
        i += 1;
    }
    content.truncate(size);
    let path = dir.path().join("bundle.zip");
    std::fs::write(&path, &content).unwrap();
    let sums = dir.path().join("SHA256SUMS");
    std::fs::write(&sums, format!("{}  manifest.json\n", hex::encode(Sha256::digest(seed.as_bytes())))).unwrap();
    let bundle = ZippedBundle { path, size: content.len() as u64, sha256: hex::encode(Sha256::digest(&content)) };
    Files { _dir: dir, bundle, sums }
}

pub(crate) fn sha256_of(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

async fn store(
    settings: &StorageSettings,
    files: &Files,
    version: &str,
    overwrite: bool,
) -> Result<Vec<StoredObject>, Error> {
    let request = StoreRequest {
        bundle: &files.bundle,
        sums_path: &files.sums,
        repository: REPOSITORY,
        version,
        bundle_name: &format!("audit-bundle-{version}"),
        overwrite,
        extra_files: &[],
    };
    storage::store(&publish_common::net(), settings, &request).await
}

pub(crate) fn zip_key(version: &str) -> String {
    format!("audits/{REPOSITORY}/{version}/audit-bundle-{version}.zip")
}

pub(crate) fn sums_key(version: &str) -> String {
    format!("audits/{REPOSITORY}/{version}/audit-bundle-{version}.SHA256SUMS")
}

pub(crate) fn one_line_with_hint(e: &Error) -> String {
    let text = e.to_string();
    assert!(!text.contains('\n'), "an error is one line: {text}");
    assert!(!e.hint().is_empty(), "an error has a hint: {text}");
    text
}

// ---- S3 (moto) ----

#[tokio::test]
async fn s3_bundle_and_sums_are_stored_verified_and_read_back_equal() {
    let m = &emulators().moto;
    let f = files("s3-store", 3 * 1024 * 1024 + 17);
    let stored = store(&s3_settings(&s3_url(&m.service.url())), &f, "1.2.3", false).await.expect("stored");
    let urls: Vec<&str> = stored.iter().map(|s| s.url.as_str()).collect();
    assert_eq!(urls, [format!("s3://{BUCKET}/{}", zip_key("1.2.3")), format!("s3://{BUCKET}/{}", sums_key("1.2.3"))]);
    assert_eq!((stored[0].size, stored[0].sha256.as_str()), (f.bundle.size, f.bundle.sha256.as_str()));

    let (bytes_sha, checksum) = s3_object(&zip_key("1.2.3")).expect("the zip is in the bucket");
    assert_eq!(bytes_sha, f.bundle.sha256, "the stored bytes are the bundle's");
    assert_eq!(checksum.as_deref(), Some(f.bundle.sha256.as_str()), "S3 keeps the sha256 checksum with the object");
    assert_eq!(s3_object(&sums_key("1.2.3")).expect("the sums are in the bucket").0, sha256_of(&f.sums));
}

#[tokio::test]
async fn s3_existing_object_is_refused_then_replaced_with_overwrite() {
    let m = &emulators().moto;
    let settings = s3_settings(&s3_url(&m.service.url()));
    let first = files("s3-first", 200_000);
    store(&settings, &first, "2.0.0", false).await.expect("first store");

    let second = files("s3-second", 300_000);
    let err = store(&settings, &second, "2.0.0", false).await.unwrap_err();
    let text = one_line_with_hint(&err);
    assert!(text.contains("already exists") && text.contains(&zip_key("2.0.0")), "{text}");
    assert!(err.hint().contains("overwrite: true"), "{}", err.hint());
    assert_eq!(s3_object(&zip_key("2.0.0")).unwrap().0, first.bundle.sha256, "the existing object is untouched");

    let again = store(&settings, &first, "2.0.0", false).await.unwrap_err();
    assert!(again.to_string().contains("with the same content"), "{again}");

    store(&settings, &second, "2.0.0", true).await.expect("overwrite replaces");
    assert_eq!(s3_object(&zip_key("2.0.0")).unwrap().0, second.bundle.sha256);
    assert_eq!(s3_object(&sums_key("2.0.0")).unwrap().0, sha256_of(&second.sums));
}

#[tokio::test]
async fn s3_concurrent_writers_never_replace_each_other() {
    let m = &emulators().moto;
    let settings = s3_settings(&s3_url(&m.service.url()));
    let (a, b) = (files("s3-race-a", 500_000), files("s3-race-b", 500_000));
    let (ra, rb) = tokio::join!(store(&settings, &a, "2.1.0", false), store(&settings, &b, "2.1.0", false));
    assert!(ra.is_ok() != rb.is_ok(), "exactly one writer wins: {ra:?} / {rb:?}");
    let winner = if ra.is_ok() { &a } else { &b };
    let loser = ra.err().or(rb.err()).unwrap();
    assert!(loser.to_string().contains("already exists"), "{loser}");
    assert_eq!(s3_object(&zip_key("2.1.0")).unwrap().0, winner.bundle.sha256);
}

#[tokio::test]
async fn s3_temporary_credentials_with_a_session_token_work_and_a_wrong_token_is_refused() {
    let m = &emulators().moto;
    let (id, secret, token) = &m.temporary;
    let url = s3_url(&m.service.url());
    let f = files("s3-temporary", 10_000);
    let good = settings(&url, &format!("access-key-id={id}\nsecret-access-key={secret}\nsession-token={token}"));
    store(&good, &f, "2.2.0", false).await.expect("temporary credentials store");
    assert_eq!(s3_object(&zip_key("2.2.0")).unwrap().0, f.bundle.sha256);

    let bad = settings(&url, &format!("access-key-id={id}\nsecret-access-key={secret}\nsession-token=not-the-token"));
    let err = store(&bad, &files("s3-temporary-2", 10_000), "2.2.1", false).await.unwrap_err();
    let text = one_line_with_hint(&err);
    assert!(text.contains("credentials were refused"), "{text}");
    assert!(!text.contains(token.as_str()) && !text.contains(secret.as_str()));
}

#[tokio::test]
async fn s3_missing_bucket_is_one_clear_error() {
    let m = &emulators().moto;
    let settings = s3_settings(&format!("s3://no-such-bucket/audits/?endpoint={}", m.service.url()));
    let err = store(&settings, &files("s3-nobucket", 1000), "3.0.0", false).await.unwrap_err();
    let text = one_line_with_hint(&err);
    assert!(text.contains("bucket `no-such-bucket` does not exist"), "{text}");
    assert!(err.hint().contains("create the bucket"), "{}", err.hint());
}

#[tokio::test]
async fn s3_wrong_secret_and_unknown_key_are_refused_with_a_credentials_hint() {
    let m = &emulators().moto;
    let url = s3_url(&m.service.url());
    for credentials in [
        format!("access-key-id={}\nsecret-access-key=wrong-secret", m.key_id),
        "access-key-id=AKIAUNKNOWNKEY000000\nsecret-access-key=x".to_string(),
    ] {
        let err = store(&settings(&url, &credentials), &files("s3-badkey", 1000), "3.1.0", false).await.unwrap_err();
        let text = one_line_with_hint(&err);
        assert!(
            text.contains("credentials were refused")
                && (text.contains("SignatureDoesNotMatch") || text.contains("InvalidAccessKeyId")),
            "{text}"
        );
        assert!(err.hint().contains("secret-access-key"), "{}", err.hint());
        assert!(!text.contains("wrong-secret"));
    }
    assert!(s3_object(&zip_key("3.1.0")).is_none());
}

#[tokio::test]
async fn s3_upload_that_breaks_off_is_not_reported_and_leaves_no_object() {
    let m = &emulators().moto;
    let proxy = Proxy::start(m.service.port, Tamper::CutAfter(256 * 1024));
    let f = files("s3-cut", 2 * 1024 * 1024);
    let err = store(&s3_settings(&s3_url(&proxy.url())), &f, "4.0.0", false).await.unwrap_err();
    let text = one_line_with_hint(&err);
    assert!(text.contains(&format!("uploading s3://{BUCKET}/{}", zip_key("4.0.0"))), "{text}");
    assert!(s3_object(&zip_key("4.0.0")).is_none(), "no partial object");
    assert!(s3_object(&sums_key("4.0.0")).is_none());
}

// ---- GCS (fake-gcs-server) ----

#[tokio::test]
async fn gcs_bundle_and_sums_are_stored_verified_and_read_back_equal() {
    let gcs = &emulators().gcs;
    let f = files("gcs-store", 3 * 1024 * 1024 + 5);
    let stored = store(&gcs_settings(&gcs.url()), &f, "1.2.3", false).await.expect("stored");
    let urls: Vec<&str> = stored.iter().map(|s| s.url.as_str()).collect();
    assert_eq!(urls, [format!("gs://{BUCKET}/{}", zip_key("1.2.3")), format!("gs://{BUCKET}/{}", sums_key("1.2.3"))]);
    let (bytes_sha, recorded) = gcs_object(&zip_key("1.2.3")).await.expect("the zip is in the bucket");
    assert_eq!(bytes_sha, f.bundle.sha256, "the stored bytes are the bundle's");
    assert_eq!(recorded.as_deref(), Some(f.bundle.sha256.as_str()), "the sha256 is kept as object metadata");
    assert_eq!(gcs_object(&sums_key("1.2.3")).await.unwrap().0, sha256_of(&f.sums));
}

#[tokio::test]
async fn gcs_existing_object_is_refused_then_replaced_with_overwrite() {
    let gcs = &emulators().gcs;
    let settings = gcs_settings(&gcs.url());
    let first = files("gcs-first", 200_000);
    store(&settings, &first, "2.0.0", false).await.expect("first store");
    let second = files("gcs-second", 100_000);
    let err = store(&settings, &second, "2.0.0", false).await.unwrap_err();
    let text = one_line_with_hint(&err);
    assert!(text.contains("already exists") && text.contains(&format!("gs://{BUCKET}/{}", zip_key("2.0.0"))), "{text}");
    assert_eq!(gcs_object(&zip_key("2.0.0")).await.unwrap().0, first.bundle.sha256, "the existing object is untouched");
    store(&settings, &second, "2.0.0", true).await.expect("overwrite replaces");
    assert_eq!(gcs_object(&zip_key("2.0.0")).await.unwrap().0, second.bundle.sha256);
}

#[tokio::test]
async fn gcs_concurrent_writers_never_replace_each_other() {
    let gcs = &emulators().gcs;
    let settings = gcs_settings(&gcs.url());
    let (a, b) = (files("gcs-race-a", 500_000), files("gcs-race-b", 500_000));
    let (ra, rb) = tokio::join!(store(&settings, &a, "2.1.0", false), store(&settings, &b, "2.1.0", false));
    assert!(ra.is_ok() != rb.is_ok(), "exactly one writer wins: {ra:?} / {rb:?}");
    let winner = if ra.is_ok() { &a } else { &b };
    assert_eq!(gcs_object(&zip_key("2.1.0")).await.unwrap().0, winner.bundle.sha256);
}

#[tokio::test]
async fn gcs_missing_bucket_is_one_clear_error() {
    let gcs = &emulators().gcs;
    let settings =
        settings(&format!("gs://no-such-bucket/audits/?endpoint={}", gcs.url()), "access-token=ya29.test-token");
    let err = store(&settings, &files("gcs-nobucket", 1000), "3.0.0", false).await.unwrap_err();
    let text = one_line_with_hint(&err);
    assert!(text.contains("bucket `no-such-bucket` does not exist"), "{text}");
}

#[tokio::test]
async fn gcs_refused_token_is_one_clear_error() {
    let (tx, rx) = std::sync::mpsc::channel();
    let body = r#"{"error":{"code":401,"message":"Invalid Credentials","errors":[{"message":"Invalid Credentials","domain":"global","reason":"authError"}]}}"#;
    let port = publish_common::canned_http(401, body.to_string(), tx);
    let settings =
        settings(&format!("gs://{BUCKET}/audits/?endpoint=http://127.0.0.1:{port}"), "access-token=ya29.expired");
    let err = store(&settings, &files("gcs-401", 1000), "3.1.0", false).await.unwrap_err();
    let text = one_line_with_hint(&err);
    assert!(text.contains("credentials were refused (HTTP 401 authError: Invalid Credentials)"), "{text}");
    assert!(err.hint().contains("expired"), "{}", err.hint());
    assert!(!text.contains("ya29.expired"));
    assert!(rx.recv().unwrap().contains("authorization: Bearer ya29.expired"), "the token is sent as a bearer token");
}

#[tokio::test]
async fn gcs_upload_that_breaks_off_is_not_reported_and_leaves_no_object() {
    let gcs = &emulators().gcs;
    let proxy = Proxy::start(gcs.port, Tamper::CutAfter(256 * 1024));
    let err = store(&gcs_settings(&proxy.url()), &files("gcs-cut", 2 * 1024 * 1024), "4.0.0", false).await.unwrap_err();
    let text = one_line_with_hint(&err);
    assert!(text.contains(&format!("uploading gs://{BUCKET}/{}", zip_key("4.0.0"))), "{text}");
    assert!(gcs_object(&zip_key("4.0.0")).await.is_none(), "no partial object");
}

#[tokio::test]
async fn gcs_upload_damaged_on_the_way_is_detected_deleted_and_not_reported() {
    let gcs = &emulators().gcs;
    let proxy = Proxy::start(gcs.port, Tamper::Replace(b"@@MARK@@".to_vec(), b"@@EVIL@@".to_vec()));
    let err = store(&gcs_settings(&proxy.url()), &files("gcs-damaged", 1024 * 1024), "4.1.0", false).await.unwrap_err();
    let text = one_line_with_hint(&err);
    assert!(text.contains(&format!("verifying gs://{BUCKET}/{}", zip_key("4.1.0"))) && text.contains("md5"), "{text}");
    assert!(text.contains("it was deleted"), "{text}");
    assert!(gcs_object(&zip_key("4.1.0")).await.is_none(), "the damaged object does not stay under the name");
}

#[tokio::test]
async fn gcs_service_account_key_is_exchanged_for_a_token_by_a_signed_jwt() {
    let gcs = &emulators().gcs;
    let (pem, public) = rsa_key();
    let (tx, rx) = std::sync::mpsc::channel();
    let token_port = publish_common::canned_http(
        200,
        r#"{"access_token":"ya29.from-key","expires_in":3599,"token_type":"Bearer"}"#.into(),
        tx,
    );
    let token_uri = format!("http://127.0.0.1:{token_port}/token");
    let key_file = serde_json::json!({
        "type": "service_account", "project_id": "p", "private_key_id": "kid-1", "private_key": pem,
        "client_email": "release-audit@p.iam.gserviceaccount.com", "token_uri": token_uri,
    });
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(key_file.to_string());
    let settings =
        settings(&format!("gs://{BUCKET}/audits/?endpoint={}", gcs.url()), &format!("service-account-json={b64}"));
    assert!(settings.secrets().iter().any(|s| s.expose() == b64), "the key is masked");

    let f = files("gcs-sa", 5000);
    store(&settings, &f, "5.0.0", false).await.expect("stored with a service-account key");
    assert_eq!(gcs_object(&zip_key("5.0.0")).await.unwrap().0, f.bundle.sha256);

    // The token request is an RFC 7523 JWT bearer grant, signed by the key.
    let request = rx.recv().unwrap();
    let body = request.split("\r\n\r\n").nth(1).unwrap();
    assert!(body.starts_with("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="), "{body}");
    let jwt = body.split("assertion=").nth(1).unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims: serde_json::Value = serde_json::from_slice(&b64url.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["iss"], "release-audit@p.iam.gserviceaccount.com");
    assert_eq!(claims["aud"], token_uri.as_str());
    assert_eq!(claims["scope"], "https://www.googleapis.com/auth/devstorage.read_write");
    let signed = format!("{}.{}", parts[0], parts[1]);
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, hex::decode(public).unwrap())
        .verify(signed.as_bytes(), &b64url.decode(parts[2]).unwrap())
        .expect("the JWT is signed by the service account's key");
}

#[tokio::test]
async fn gcs_refused_service_account_key_is_one_clear_error() {
    let gcs = &emulators().gcs;
    let (pem, _) = rsa_key();
    let (tx, _rx) = std::sync::mpsc::channel();
    let port = publish_common::canned_http(
        400,
        r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#.into(),
        tx,
    );
    let key_file = serde_json::json!({"type": "service_account", "private_key": pem, "client_email": "gone@p.iam.gserviceaccount.com", "token_uri": format!("http://127.0.0.1:{port}/token")});
    let settings =
        settings(&format!("gs://{BUCKET}/audits/?endpoint={}", gcs.url()), &format!("service-account-json={key_file}"));
    let err = store(&settings, &files("gcs-sa-bad", 100), "5.1.0", false).await.unwrap_err();
    let text = one_line_with_hint(&err);
    assert!(
        text.contains("service-account key was refused (HTTP 400 invalid_grant: Invalid JWT Signature.)"),
        "{text}"
    );
}

// ---- the front door ----

/// Bad storage inputs stop the binary before anything is collected or sent.
#[tokio::test]
async fn bad_storage_inputs_stop_the_step_with_a_usage_error() {
    let binary = Path::new(env!("CARGO_BIN_EXE_release-audit"));
    for (url, credentials, says) in [
        ("ftp://bucket/prefix/", "access-token=x", "input `storage-url`: scheme `ftp` is not supported"),
        ("gs:///prefix/", "access-token=x", "input `storage-url`: names no bucket"),
        (
            "s3://bucket/a/../b/",
            "access-key-id=a\nsecret-access-key=b",
            "input `storage-url`: prefix `a/../b/` contains a `..` segment",
        ),
        ("s3://bucket/", "access-key-id=a", "input `storage-credentials`: `secret-access-key` is missing"),
    ] {
        let mut step = release_audit_test_support::Step::new();
        step.input("release-version", "1.2.3")
            .input("upload", "false")
            .input("required-reports", "none")
            .input("storage-url", url)
            .input("storage-credentials", credentials);
        let result = step.run(binary, &[]).await;
        assert_eq!(result.code, 2, "{url}: {}", result.everything());
        assert!(result.everything().contains(says), "{url}: {}", result.everything());
    }
}

/// A version that cannot be part of an object key (`+`) is refused at the input seam,
/// before any bundle is written, not by the store after the work is done; so is a
/// key template with an unknown placeholder.
#[tokio::test]
async fn a_version_the_store_cannot_take_is_refused_before_the_bundle_is_written() {
    let binary = Path::new(env!("CARGO_BIN_EXE_release-audit"));
    for (version, url, says) in [
        (
            "1.2.3+build.4",
            "s3://bucket/audits/",
            "input `release-version`: `1.2.3+build.4` cannot be part of an object key",
        ),
        (
            "1.2.3",
            "gs://bucket/{repository}_{version}.zip",
            "input `storage-url`: `{repository}_{version}.zip` has an unknown placeholder",
        ),
    ] {
        let mut step = release_audit_test_support::Step::new();
        step.input("release-version", version)
            .input("upload", "false")
            .input("required-reports", "none")
            .input("storage-url", url)
            .input(
                "storage-credentials",
                if url.starts_with("s3") { "access-key-id=a\nsecret-access-key=b" } else { "access-token=x" },
            );
        let result = step.run(binary, &[]).await;
        assert_eq!(result.code, 2, "{version}: {}", result.everything());
        assert!(result.everything().contains(says), "{version}: {}", result.everything());
        assert!(
            !step.resolve(".release-audit").join(format!("audit-bundle-{version}")).exists(),
            "nothing is written before the inputs hold"
        );
    }
}

/// The action end to end with `storage-url`: the bundle and its SHA256SUMS are stored
/// under <prefix><owner>/<repo>/<version>/, read back equal by an independent client,
/// named in `storage-urls` and the summary; the secret key is masked and shown nowhere.
#[tokio::test(flavor = "multi_thread")]
async fn the_action_stores_the_bundle_in_s3_and_reports_where() {
    let m = &emulators().moto;
    let mut step = release_audit_test_support::Step::new();
    step.input("release-version", "7.0.0")
        .input("upload", "false")
        .input("required-reports", "none")
        .input("storage-url", &s3_url(&m.service.url()))
        .input("storage-credentials", &format!("access-key-id={}\nsecret-access-key={}", m.key_id, m.secret));
    let result = step.run(Path::new(env!("CARGO_BIN_EXE_release-audit")), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);

    let zip_path = step.resolve(&result.outputs["bundle-path"]);
    let key = format!("audits/{REPOSITORY}/7.0.0/audit-bundle-7.0.0.zip");
    let (stored_sha, checksum) = s3_object(&key).expect("the zip is stored");
    assert_eq!(stored_sha, sha256_of(&zip_path));
    assert_eq!(checksum.as_deref(), Some(stored_sha.as_str()), "S3 kept the sha256 checksum");
    assert!(s3_object(&format!("audits/{REPOSITORY}/7.0.0/audit-bundle-7.0.0.SHA256SUMS")).is_some());

    let urls: Vec<&str> = result.outputs["storage-urls"].lines().collect();
    assert_eq!(
        urls,
        [
            format!("s3://{BUCKET}/{key}"),
            format!("s3://{BUCKET}/audits/{REPOSITORY}/7.0.0/audit-bundle-7.0.0.SHA256SUMS")
        ]
    );
    assert!(result.summary.contains(&format!("s3://{BUCKET}/{key}")), "{}", result.summary);
    assert!(result.masked().contains(&m.secret.as_str()), "the secret key is masked");
    assert!(!result.everything().contains(&m.secret), "the secret key leaked");
}

/// A token the action only learns mid-run — exchanged for a service-account key — is
/// masked as soon as it is known, and shown nowhere.
#[tokio::test(flavor = "multi_thread")]
async fn the_action_masks_the_token_it_exchanged_for_a_service_account_key() {
    use base64::Engine;
    let gcs = &emulators().gcs;
    let (pem, _) = rsa_key();
    let (tx, _rx) = std::sync::mpsc::channel();
    let token = "ya29.exchanged-in-the-action";
    let token_port = publish_common::canned_http(
        200,
        format!(r#"{{"access_token":"{token}","expires_in":3599,"token_type":"Bearer"}}"#),
        tx,
    );
    let key_file = serde_json::json!({
        "type": "service_account", "project_id": "p", "private_key_id": "kid-1", "private_key": pem,
        "client_email": "release-audit@p.iam.gserviceaccount.com", "token_uri": format!("http://127.0.0.1:{token_port}/token"),
    });
    let b64 = base64::engine::general_purpose::STANDARD.encode(key_file.to_string());
    let mut step = release_audit_test_support::Step::new();
    step.input("release-version", "5.5.0")
        .input("upload", "false")
        .input("required-reports", "none")
        .input("storage-url", &format!("gs://{BUCKET}/audits/?endpoint={}", gcs.url()))
        .input("storage-credentials", &format!("service-account-json={b64}"));
    let result = step.run(Path::new(env!("CARGO_BIN_EXE_release-audit")), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    assert!(gcs_object(&zip_key("5.5.0")).await.is_some());
    let masked = result.masked();
    assert!(masked.contains(&token), "the exchanged token is not among the {} masked values", masked.len());
    assert!(masked.contains(&b64.as_str()), "the key is not among the {} masked values", masked.len());
    assert!(!result.everything().contains(token) && !result.everything().contains(&b64));
}

/// A failed artifact upload (an exhausted quota) does not cost the long-term copy: the
/// bundle is still stored in S3, and the step fails saying why.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_artifact_upload_still_stores_the_bundle_for_the_long_term() {
    let m = &emulators().moto;
    let fake = release_audit_test_support::FakeGitHub::start().await;
    fake.inject_fault(
        "CreateArtifact",
        403,
        r#"{"code":"permission_denied","msg":"insufficient usage to create artifact"}"#,
        5,
    );
    let mut step = release_audit_test_support::Step::with_fake(&fake);
    step.input("release-version", "7.1.0")
        .input("required-reports", "none")
        .input("storage-url", &s3_url(&m.service.url()))
        .input("storage-credentials", &format!("access-key-id={}\nsecret-access-key={}", m.key_id, m.secret));
    let result = step.run(Path::new(env!("CARGO_BIN_EXE_release-audit")), &[]).await;
    assert_eq!(result.code, 3, "{}\n{}", result.stdout, result.stderr);
    assert!(result.stderr.contains("quota") || result.stderr.contains("insufficient usage"), "{}", result.stderr);
    let zip_path = step.resolve(&result.outputs["bundle-path"]);
    let key = format!("audits/{REPOSITORY}/7.1.0/audit-bundle-7.1.0.zip");
    assert_eq!(s3_object(&key).expect("stored although the artifact upload failed").0, sha256_of(&zip_path));
    assert!(result.outputs["storage-urls"].contains(&key), "{:?}", result.outputs);
}

/// The upload was accepted but the object cannot be read back (reads refused): it is
/// kept — it may be the only good copy — and the step says it could not be verified.
#[tokio::test]
async fn an_object_that_cannot_be_read_back_is_kept_and_said_unverified() {
    let gcs = &emulators().gcs;
    let proxy = Proxy::start(gcs.port, Tamper::DenyReads);
    let f = files("gcs-unreadable", 4096);
    // overwrite: no existence check first (a read, which this proxy refuses).
    let err = store(&gcs_settings(&proxy.url()), &f, "4.2.0", true).await.unwrap_err();
    let text = one_line_with_hint(&err);
    assert!(text.contains("could not be read back to verify it") && text.contains("it was kept"), "{text}");
    assert_eq!(
        gcs_object(&zip_key("4.2.0")).await.expect("kept").0,
        f.bundle.sha256,
        "the stored object is ours and still there"
    );
}

/// The zip is stored, then its SHA256SUMS fails (damaged on the way): the zip this
/// step created is removed again, so that a re-run is not refused by half a pair.
#[tokio::test]
async fn half_a_pair_is_not_left_behind() {
    let gcs = &emulators().gcs;
    let proxy = Proxy::start(gcs.port, Tamper::Replace(b"manifest.json".to_vec(), b"MANIFEST.json".to_vec()));
    let f = files("gcs-half", 4096);
    let err = store(&gcs_settings(&proxy.url()), &f, "4.3.0", false).await.unwrap_err();
    let text = one_line_with_hint(&err);
    assert!(text.contains(&format!("storing gs://{BUCKET}/{}", sums_key("4.3.0"))), "{text}");
    assert!(text.contains("removed again so that a re-run can store the set"), "{text}");
    assert!(gcs_object(&zip_key("4.3.0")).await.is_none(), "the zip is gone again");
    assert!(gcs_object(&sums_key("4.3.0")).await.is_none());
    // A re-run stores the pair.
    store(&gcs_settings(&gcs.url()), &f, "4.3.0", false).await.expect("the re-run is not refused");
}
