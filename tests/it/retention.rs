//! Locked retention in object storage (`storage-retain-until` / `storage-retention-days`).
//!
//! S3 against moto, which implements Object Lock: the objects are stored in compliance
//! mode, the lock is read back by an independent client (boto3), moto refuses to
//! delete the locked version or let a new version replace it, and moto refuses a
//! locked PUT that carries no checksum — so our PUT, which moto accepts, carries one.
//! A bucket created without Object Lock is the clear error, with nothing uploaded.
//!
//! GCS object retention against a stub that asserts the exact upload request, since
//! no emulator enforces retention (fake-gcs-server ignores it); the stub answers with
//! the retention it was sent, which is read back. A bucket without object retention is
//! the clear error, with nothing uploaded.
//!
//! End to end: the action stores a real bundle locked, names the locks in the
//! `storage-locks` output and the summary, and `verify --online --storage-url` reads
//! the objects back, checks their bytes and locks, and fails when the latest version
//! under a key is no longer the bundle.

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use release_audit::publish::storage::{self, ExtraFile, Lock, StoreRequest, StoredObject};

use crate::publish_storage::{
    REPOSITORY, emulators, files, one_line_with_hint, python, s3_object, s3_settings, settings, sha256_of,
};

/// A moto bucket created with Object Lock enabled (versioning on).
const LOCKED: &str = "release-audit-locked";

fn locked_bucket() -> &'static str {
    static CREATED: OnceLock<()> = OnceLock::new();
    CREATED.get_or_init(|| {
        let m = &emulators().moto;
        python(&format!(
            r#"
import boto3
s3 = boto3.client("s3", endpoint_url="{ep}", aws_access_key_id="{id}", aws_secret_access_key="{secret}", region_name="us-east-1")
s3.create_bucket(Bucket="{LOCKED}", ObjectLockEnabledForBucket=True)
assert s3.get_object_lock_configuration(Bucket="{LOCKED}")["ObjectLockConfiguration"]["ObjectLockEnabled"] == "Enabled"
"#,
            ep = m.service.url(),
            id = m.key_id,
            secret = m.secret,
        ));
    });
    LOCKED
}

/// Whole seconds, as the stores keep it.
fn in_days(days: i64) -> DateTime<Utc> {
    DateTime::from_timestamp((Utc::now() + chrono::Duration::days(days)).timestamp(), 0).unwrap()
}

fn locked_s3_url(bucket: &str) -> String {
    format!("s3://{bucket}/audits/?endpoint={}&region=us-east-1", emulators().moto.service.url())
}

fn key(version: &str, suffix: &str) -> String {
    format!("audits/{REPOSITORY}/{version}/audit-bundle-{version}{suffix}")
}

async fn store_locked(
    settings: &storage::StorageSettings,
    f: &crate::publish_storage::Files,
    version: &str,
    extra: &[ExtraFile],
) -> Result<Vec<StoredObject>, release_audit::error::Error> {
    let request = StoreRequest {
        bundle: &f.bundle,
        sums_path: &f.sums,
        repository: REPOSITORY,
        version,
        bundle_name: &format!("audit-bundle-{version}"),
        overwrite: false,
        extra_files: extra,
    };
    storage::store(&crate::publish_common::net(), settings, &request).await
}

/// What boto3 says of an object version and what moto lets it do to it.
#[derive(Debug, serde::Deserialize)]
struct Enforced {
    mode: String,
    until: String,
    delete_version: String,
    latest_after_put: String,
    locked_version_after_put: String,
    delete_after_put: String,
}

fn s3_enforcement(bucket: &str, key: &str, version: &str) -> Enforced {
    let m = &emulators().moto;
    let out = python(&format!(
        r#"
import boto3, botocore, hashlib, json
s3 = boto3.client("s3", endpoint_url="{ep}", aws_access_key_id="{id}", aws_secret_access_key="{secret}", region_name="us-east-1")
# moto has no GetObjectRetention; a HEAD of the version gives the same lock.
h = s3.head_object(Bucket="{bucket}", Key="{key}", VersionId="{version}")
r = dict(Mode=h["ObjectLockMode"], RetainUntilDate=h["ObjectLockRetainUntilDate"])
def attempt(f):
    try:
        f()
        return "done"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
deleted = attempt(lambda: s3.delete_object(Bucket="{bucket}", Key="{key}", VersionId="{version}"))
s3.put_object(Bucket="{bucket}", Key="{key}", Body=b"replaced by someone else")
latest = hashlib.sha256(s3.get_object(Bucket="{bucket}", Key="{key}")["Body"].read()).hexdigest()
kept = hashlib.sha256(s3.get_object(Bucket="{bucket}", Key="{key}", VersionId="{version}")["Body"].read()).hexdigest()
deleted_after = attempt(lambda: s3.delete_object(Bucket="{bucket}", Key="{key}", VersionId="{version}"))
print(json.dumps(dict(mode=r["Mode"], until=r["RetainUntilDate"].strftime("%Y-%m-%dT%H:%M:%SZ"), delete_version=deleted,
    latest_after_put=latest, locked_version_after_put=kept, delete_after_put=deleted_after)))
"#,
        ep = m.service.url(),
        id = m.key_id,
        secret = m.secret,
    ));
    serde_json::from_str(out.trim()).expect("json")
}

#[tokio::test]
async fn s3_objects_are_stored_in_compliance_mode_and_moto_will_not_delete_or_replace_them() {
    let bucket = locked_bucket();
    let until = in_days(2);
    let f = files("locked-s3", 120_000);
    let sigstore = f.bundle.path.with_file_name("audit-bundle-3.0.0.sigstore.json");
    std::fs::write(&sigstore, br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#).unwrap();
    let extra =
        [ExtraFile { path: sigstore.clone(), suffix: ".sigstore.json".into(), content_type: "application/json" }];
    let stored = store_locked(&s3_settings(&locked_s3_url(bucket)).locked_until(until), &f, "3.0.0", &extra)
        .await
        .expect("stored locked");

    let urls: Vec<&str> = stored.iter().map(|s| s.url.as_str()).collect();
    assert_eq!(
        urls,
        [".zip", ".SHA256SUMS", ".sigstore.json"].map(|s| format!("s3://{bucket}/{}", key("3.0.0", s))),
        "the zip, its sums and the Sigstore bundle beside it are stored"
    );
    for object in &stored {
        assert_eq!(
            object.lock,
            Some(Lock { mode: "COMPLIANCE".into(), retain_until: until }),
            "{}: the lock read back",
            object.url
        );
        let version = object.version.as_deref().expect("a versioned bucket names the version");
        let enforced = s3_enforcement(bucket, &object.key, version);
        assert_eq!(
            (enforced.mode.as_str(), enforced.until.as_str()),
            ("COMPLIANCE", until.format("%Y-%m-%dT%H:%M:%SZ").to_string().as_str())
        );
        assert_eq!(enforced.delete_version, "AccessDenied", "{}: the locked version cannot be deleted", object.url);
        assert_ne!(enforced.latest_after_put, object.sha256, "someone else's PUT adds a newer version");
        assert_eq!(
            enforced.locked_version_after_put, object.sha256,
            "{}: the locked version is not replaced",
            object.url
        );
        assert_eq!(enforced.delete_after_put, "AccessDenied");
    }
    assert_eq!(stored[2].sha256, sha256_of(&sigstore));
}

/// moto refuses a locked PUT without Content-MD5 or a flexible checksum, as S3 does;
/// the same request with a Content-MD5 is taken. Our locked PUTs are taken (the test
/// above), so they carry one.
#[tokio::test]
async fn s3_refuses_a_locked_put_without_a_checksum() {
    let bucket = locked_bucket();
    let m = &emulators().moto;
    let until = in_days(1).format("%Y-%m-%dT%H:%M:%SZ");
    let out = python(&format!(
        r#"
import base64, hashlib, json, urllib.request, urllib.error
from botocore.awsrequest import AWSRequest
from botocore.auth import S3SigV4Auth
from botocore.credentials import Credentials
def put(key, extra):
    headers = {{"x-amz-object-lock-mode": "COMPLIANCE", "x-amz-object-lock-retain-until-date": "{until}"}}
    headers.update(extra)
    req = AWSRequest(method="PUT", url="{ep}/{bucket}/" + key, data=b"hello", headers=headers)
    S3SigV4Auth(Credentials("{id}", "{secret}"), "s3", "us-east-1").add_auth(req)
    p = req.prepare()
    try:
        r = urllib.request.urlopen(urllib.request.Request(p.url, data=p.body, headers=dict(p.headers), method="PUT"))
        return [r.status, ""]
    except urllib.error.HTTPError as e:
        return [e.code, e.read().decode()]
md5 = base64.b64encode(hashlib.md5(b"hello").digest()).decode()
print(json.dumps([put("raw/no-checksum", {{}}), put("raw/with-md5", {{"Content-MD5": md5}})]))
"#,
        ep = m.service.url(),
        id = m.key_id,
        secret = m.secret,
    ));
    let answers: Vec<(u16, String)> = serde_json::from_str(out.trim()).expect("json");
    assert_eq!(answers[0].0, 400, "{answers:?}");
    assert!(answers[0].1.contains("MissingUploadObjectWithObjectLockHeaders"), "{answers:?}");
    assert_eq!(answers[1].0, 200, "{answers:?}");
}

#[tokio::test]
async fn s3_bucket_without_object_lock_is_a_clear_error_and_nothing_is_uploaded() {
    let m = &emulators().moto;
    let settings = s3_settings(&format!(
        "s3://{}/audits/?endpoint={}&region=us-east-1",
        crate::publish_storage::BUCKET,
        m.service.url()
    ))
    .locked_until(in_days(30));
    let f = files("unlockable", 10_000);
    let err = store_locked(&settings, &f, "3.1.0", &[]).await.expect_err("an unlockable bucket is refused");
    let text = one_line_with_hint(&err);
    assert!(text.contains("bucket `release-audit`") && text.contains("does not have Object Lock enabled"), "{text}");
    assert!(err.hint().contains("--object-lock-enabled-for-bucket"), "{}", err.hint());
    assert_eq!(s3_object(&key("3.1.0", ".zip")), None, "nothing was uploaded");
}

// ---- GCS (a stub that asserts the exact request) ----

/// A GCS JSON API stub: one bucket, objects kept in memory with the metadata they
/// were uploaded with; every request is logged. An upload whose metadata is not
/// exactly `expected` (for its name) is answered 400 and logged as such.
#[derive(Clone, Copy)]
struct StubBucket {
    name: &'static str,
    /// The bucket says `objectRetention.mode: Enabled`.
    retention_enabled: bool,
    /// Keeps the `retention` an upload asks for (a store that ignores it does not).
    keeps_retention: bool,
    /// Refuses every upload with this JSON error message (403).
    refuse_uploads: Option<&'static str>,
}

struct GcsStub {
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

type Objects = Arc<Mutex<HashMap<String, (serde_json::Value, String)>>>;

fn gcs_stub(bucket: StubBucket, expected: HashMap<String, serde_json::Value>) -> GcsStub {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = Arc::new(Mutex::new(Vec::new()));
    let objects: Objects = Arc::default();
    let seen = log.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let request = crate::publish_common::read_request(&mut stream);
            let (status, body) = gcs_answer(bucket, &expected, &objects, &request);
            seen.lock().unwrap().push(format!("{status} {}", request.lines().next().unwrap_or_default()));
            let answer = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    GcsStub { port, log }
}

fn gcs_answer(
    stub: StubBucket,
    expected: &HashMap<String, serde_json::Value>,
    objects: &Objects,
    request: &str,
) -> (u16, String) {
    let (head, body) = request.split_once("\r\n\r\n").unwrap_or((request, ""));
    let line = head.lines().next().unwrap_or_default();
    let authorized = head.lines().any(|l| l.eq_ignore_ascii_case("authorization: Bearer ya29.test-token"));
    let not_found = (
        404,
        r#"{"error":{"code":404,"message":"No such object","errors":[{"message":"No such object","domain":"global","reason":"notFound"}]}}"#.to_string(),
    );
    if !authorized {
        return (401, r#"{"error":{"message":"no token"}}"#.into());
    }
    let bucket = stub.name;
    let bucket_path = format!("/storage/v1/b/{bucket}");
    let object_prefix = format!("/storage/v1/b/{bucket}/o/");
    let upload = format!("POST /upload/storage/v1/b/{bucket}/o?uploadType=multipart&ifGenerationMatch=0 HTTP/1.1");
    let path = line.split(' ').nth(1).unwrap_or_default();
    if line.starts_with("GET ") && path == bucket_path {
        let retention = if stub.retention_enabled { r#","objectRetention":{"mode":"Enabled"}"# } else { "" };
        return (200, format!(r#"{{"kind":"storage#bucket","name":"{bucket}"{retention}}}"#));
    }
    if (line.starts_with("GET ") || line.starts_with("DELETE ")) && path.starts_with(&object_prefix) {
        let (encoded, media) = match path[object_prefix.len()..].split_once('?') {
            Some((k, q)) => (k, q == "alt=media"),
            None => (&path[object_prefix.len()..], false),
        };
        let name = encoded.replace("%2F", "/");
        let mut objects = objects.lock().unwrap();
        if line.starts_with("DELETE ") {
            return match objects.remove(&name) {
                Some(_) => (204, String::new()),
                None => not_found,
            };
        }
        return match objects.get(&name) {
            Some((_, content)) if media => (200, content.clone()),
            Some((resource, _)) => (200, resource.to_string()),
            None => not_found,
        };
    }
    let replace = upload.replace("&ifGenerationMatch=0", "");
    if let (true, Some(message)) = (line == upload || line == replace, stub.refuse_uploads) {
        let error = serde_json::json!({"code": 403, "message": message, "errors": [{"message": message, "domain": "global", "reason": "forbidden"}]});
        return (403, serde_json::json!({ "error": error }).to_string());
    }
    if line == upload {
        let boundary = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase().strip_prefix("content-type: multipart/related; boundary=").map(str::to_string)
            })
            .unwrap_or_default();
        let parts: Vec<&str> = body.split(&format!("--{boundary}")).collect();
        let metadata_part =
            parts.get(1).and_then(|p| p.split_once("\r\n\r\n")).map(|(_, j)| j.trim_end()).unwrap_or("");
        let content =
            parts.get(2).and_then(|p| p.split_once("\r\n\r\n")).map(|(_, c)| c.strip_suffix("\r\n").unwrap_or(c));
        let Ok(metadata) = serde_json::from_str::<serde_json::Value>(metadata_part) else {
            return (400, r#"{"error":{"message":"metadata is not JSON"}}"#.into());
        };
        let name = metadata["name"].as_str().unwrap_or_default().to_string();
        if expected.get(&name) != Some(&metadata) {
            return (400, format!(r#"{{"error":{{"message":"unexpected metadata for {name}"}}}}"#));
        }
        let content = content.unwrap_or_default().to_string();
        let mut resource = metadata.clone();
        resource["size"] = content.len().to_string().into();
        resource["generation"] = "1700000000000001".into();
        if !stub.keeps_retention {
            resource.as_object_mut().unwrap().remove("retention");
        }
        objects.lock().unwrap().insert(name, (resource.clone(), content));
        return (200, resource.to_string());
    }
    (400, format!(r#"{{"error":{{"message":"the stub does not expect {line}"}}}}"#))
}

fn expected_upload(name: &str, path: &Path, content_type: &str, until: DateTime<Utc>) -> (String, serde_json::Value) {
    use base64::Engine;
    use md5::Digest;
    let bytes = std::fs::read(path).unwrap();
    let value = serde_json::json!({
        "name": name,
        "contentType": content_type,
        "md5Hash": base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&bytes)),
        "metadata": {"sha256": sha256_of(path)},
        "retention": {"mode": "Locked", "retainUntilTime": until.format("%Y-%m-%dT%H:%M:%SZ").to_string()},
    });
    (name.to_string(), value)
}

#[tokio::test]
async fn gcs_upload_asks_for_locked_retention_exactly_and_reads_it_back() {
    let until = in_days(400);
    let f = files("locked-gcs", 50_000);
    let expected: HashMap<String, serde_json::Value> = [
        expected_upload(&key("4.0.0", ".zip"), &f.bundle.path, "application/zip", until),
        expected_upload(&key("4.0.0", ".SHA256SUMS"), &f.sums, "text/plain; charset=utf-8", until),
    ]
    .into();
    let stub = gcs_stub(
        StubBucket { name: "locked-bucket", retention_enabled: true, keeps_retention: true, refuse_uploads: None },
        expected,
    );
    let settings = settings(
        &format!("gs://locked-bucket/audits/?endpoint=http://127.0.0.1:{}", stub.port),
        "access-token=ya29.test-token",
    )
    .locked_until(until);
    let stored = store_locked(&settings, &f, "4.0.0", &[]).await.expect("stored locked");
    for object in &stored {
        assert_eq!(object.lock, Some(Lock { mode: "Locked".into(), retain_until: until }), "{}", object.url);
        assert_eq!(object.version.as_deref(), Some("1700000000000001"));
    }
    let log = stub.log.lock().unwrap().clone();
    let uploads: Vec<&String> = log.iter().filter(|l| l.contains(" POST ")).collect();
    assert_eq!(uploads.len(), 2, "{log:#?}");
    assert!(uploads.iter().all(|l| l.starts_with("200 ")), "the stub took both uploads as exactly expected: {log:#?}");
    assert!(log[0].starts_with("200 GET /storage/v1/b/locked-bucket "), "the bucket's setting is read first: {log:#?}");
}

#[tokio::test]
async fn gcs_bucket_without_object_retention_is_a_clear_error_and_nothing_is_uploaded() {
    let stub = gcs_stub(
        StubBucket { name: "plain-bucket", retention_enabled: false, keeps_retention: false, refuse_uploads: None },
        HashMap::new(),
    );
    let settings = settings(
        &format!("gs://plain-bucket/audits/?endpoint=http://127.0.0.1:{}", stub.port),
        "access-token=ya29.test-token",
    )
    .locked_until(in_days(10));
    let f = files("unlockable-gcs", 1_000);
    let err = store_locked(&settings, &f, "4.1.0", &[]).await.expect_err("refused");
    let text = one_line_with_hint(&err);
    assert!(
        text.contains("bucket `plain-bucket`") && text.contains("does not have object retention enabled"),
        "{text}"
    );
    assert!(err.hint().contains("--enable-per-object-retention"), "{}", err.hint());
    let log = stub.log.lock().unwrap().clone();
    assert!(!log.iter().any(|l| l.contains(" POST ")), "nothing was uploaded: {log:#?}");
}

/// A store that takes the upload but ignores its retention (the bucket claims it can
/// lock): the unlocked object is deleted again and the step fails; nothing is
/// reported stored.
#[tokio::test]
async fn an_object_kept_without_the_lock_is_deleted_and_an_error() {
    let until = in_days(20);
    let f = files("ignored-lock", 5_000);
    let expected: HashMap<String, serde_json::Value> =
        [expected_upload(&key("4.2.0", ".zip"), &f.bundle.path, "application/zip", until)].into();
    let stub = gcs_stub(
        StubBucket { name: "lying-bucket", retention_enabled: true, keeps_retention: false, refuse_uploads: None },
        expected,
    );
    let settings = settings(
        &format!("gs://lying-bucket/audits/?endpoint=http://127.0.0.1:{}", stub.port),
        "access-token=ya29.test-token",
    )
    .locked_until(until);
    let err = store_locked(&settings, &f, "4.2.0", &[]).await.expect_err("an unlocked copy is not success");
    let text = one_line_with_hint(&err);
    assert!(text.contains("without the retention that was asked for") && text.contains("it was deleted"), "{text}");
    let log = stub.log.lock().unwrap().clone();
    let zip = key("4.2.0", ".zip").replace('/', "%2F");
    assert!(
        log.iter().any(|l| l.starts_with("204 DELETE") && l.contains(&zip)),
        "the unlocked zip was deleted: {log:#?}"
    );
    assert_eq!(log.iter().filter(|l| l.contains(" POST ")).count(), 1, "the sums were not uploaded after it: {log:#?}");
}

/// GCS answers `403 forbidden` both for a missing permission and for an object under
/// retention, so the error follows from the request, never from the message's wording
/// (the same message for both cases here): a create-only locked upload names the
/// permissions it needs, setRetention among them; a replacing one also names the
/// retention of the object in the way and what to do about it.
#[tokio::test]
async fn gcs_forbidden_uploads_name_what_the_request_leaves_open() {
    let until = in_days(5);
    let message = "release-audit@p.iam.gserviceaccount.com does not have storage.objects.create access to the Google Cloud Storage object.";
    for overwrite in [false, true] {
        let stub = gcs_stub(
            StubBucket {
                name: "refusing-bucket",
                retention_enabled: true,
                keeps_retention: true,
                refuse_uploads: Some(message),
            },
            HashMap::new(),
        );
        let settings = settings(
            &format!("gs://refusing-bucket/audits/?endpoint=http://127.0.0.1:{}", stub.port),
            "access-token=ya29.test-token",
        )
        .locked_until(until);
        let f = files("refused-gcs", 500);
        let request = StoreRequest {
            bundle: &f.bundle,
            sums_path: &f.sums,
            repository: REPOSITORY,
            version: "4.3.0",
            bundle_name: "audit-bundle-4.3.0",
            overwrite,
            extra_files: &[],
        };
        let err = storage::store(&crate::publish_common::net(), &settings, &request).await.expect_err("refused");
        let text = one_line_with_hint(&err);
        assert!(text.contains("HTTP 403 forbidden: release-audit@p.iam"), "the service's answer is quoted: {text}");
        assert!(text.contains("may not create objects or set their retention"), "{text}");
        assert!(err.hint().contains("storage.objects.setRetention"), "{}", err.hint());
        assert_eq!(text.contains("under retention"), overwrite, "{text}");
        assert_eq!(err.hint().contains("another release-version or bundle-name"), overwrite, "{}", err.hint());
    }
}

// ---- S3 GetObjectRetention (a stub: moto answers it 500) ----

/// The empty payload's sha256, which a signed GET carries as `x-amz-content-sha256`.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// An S3 stub for one bucket with Object Lock whose `HEAD` answers carry no lock
/// headers (as S3 answers credentials without s3:GetObjectRetention), so the lock can
/// only be read with `GetObjectRetention`. That request must be exactly `GET
/// /<bucket>/<key>?retention=&versionId=<version>`, signed (host, payload hash, date)
/// for the empty payload; it is answered with the lock the PUT asked for, or — when the
/// stub `ignores_locks` — 404 `NoSuchObjectLockConfiguration`, as S3 answers for an
/// object without retention. Every request is logged as `<status> <request line>`.
fn s3_retention_stub(bucket: &'static str, ignores_locks: bool) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    let objects: Arc<S3StubObjects> = Arc::default();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let request = crate::publish_common::read_request(&mut stream);
            let (status, headers, body) = s3_stub_answer(bucket, ignores_locks, &objects, &request);
            seen.lock().unwrap().push(format!("{status} {}", request.lines().next().unwrap_or_default()));
            let length = if headers.contains("content-length") {
                String::new()
            } else {
                format!("content-length: {}\r\n", body.len())
            };
            let answer = format!("HTTP/1.1 {status} X\r\n{headers}{length}connection: close\r\n\r\n{body}");
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (port, log)
}

/// The S3 stub's objects: key → (size, checksum header, lock mode, lock date).
type S3StubObjects = Mutex<HashMap<String, (usize, String, String, String)>>;

fn s3_stub_answer(bucket: &str, ignores_locks: bool, objects: &S3StubObjects, request: &str) -> (u16, String, String) {
    let (head, body) = request.split_once("\r\n\r\n").unwrap_or((request, ""));
    let header = |name: &str| {
        head.lines().find_map(|l| {
            l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string())
        })
    };
    let line = head.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let key = path.strip_prefix(&format!("/{bucket}/")).unwrap_or_default().replace("%2F", "/");
    let xml = |code: &str| format!("<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>stub</Message></Error>");
    let mut objects = objects.lock().unwrap();
    match (method, query) {
        ("GET", "object-lock=") if path == format!("/{bucket}") => (
            200,
            String::new(),
            "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>".into(),
        ),
        ("HEAD", "") => match objects.get(&key) {
            Some((size, checksum, _, _)) => (
                200,
                format!("content-length: {size}\r\nx-amz-checksum-sha256: {checksum}\r\nx-amz-version-id: v1\r\n"),
                String::new(),
            ),
            None => (404, "content-length: 0\r\n".into(), String::new()),
        },
        ("PUT", "") => {
            let (Some(checksum), Some(mode), Some(until)) = (
                header("x-amz-checksum-sha256"),
                header("x-amz-object-lock-mode"),
                header("x-amz-object-lock-retain-until-date"),
            ) else {
                return (400, String::new(), xml("MissingUploadObjectWithObjectLockHeaders"));
            };
            objects.insert(key, (body.len(), checksum, mode, until));
            (200, "x-amz-version-id: v1\r\n".into(), String::new())
        }
        ("GET", "retention=&versionId=v1") => {
            let signed = header("authorization").unwrap_or_default();
            let exact = signed.starts_with("AWS4-HMAC-SHA256 Credential=")
                && signed.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date,")
                && header("x-amz-content-sha256").as_deref() == Some(EMPTY_SHA256)
                && header("x-amz-date").is_some();
            match objects.get(&key) {
                _ if !exact => (400, String::new(), xml("StubUnexpectedRequest")),
                None => (404, String::new(), xml("NoSuchKey")),
                Some(_) if ignores_locks => (404, String::new(), xml("NoSuchObjectLockConfiguration")),
                Some((_, _, mode, until)) => (
                    200,
                    String::new(),
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>{mode}</Mode><RetainUntilDate>{until}</RetainUntilDate></Retention>"
                    ),
                ),
            }
        }
        ("DELETE", "") => {
            objects.remove(&key);
            (204, String::new(), String::new())
        }
        _ => (400, String::new(), xml("StubUnexpectedRequest")),
    }
}

/// The lock of an object whose `HEAD` says nothing of it is read with
/// `GetObjectRetention` (the exact request the stub asserts), for each object stored.
#[tokio::test]
async fn s3_locks_missing_from_head_are_read_with_get_object_retention() {
    let (port, log) = s3_retention_stub("stub-locked", false);
    let until = in_days(9);
    let f = files("retention-read", 3_000);
    let settings = s3_settings(&format!("s3://stub-locked/audits/?endpoint=http://127.0.0.1:{port}&region=us-east-1"))
        .locked_until(until);
    let stored = store_locked(&settings, &f, "7.0.0", &[]).await.expect("stored locked");
    assert_eq!(stored.len(), 2);
    for object in &stored {
        assert_eq!(object.lock, Some(Lock { mode: "COMPLIANCE".into(), retain_until: until }), "{}", object.url);
    }
    let log = log.lock().unwrap().clone();
    for suffix in [".zip", ".SHA256SUMS"] {
        let asked = format!("200 GET /stub-locked/{}?retention=&versionId=v1 HTTP/1.1", key("7.0.0", suffix));
        assert!(log.contains(&asked), "{asked} in {log:#?}");
    }
    assert_eq!(
        log.iter().filter(|l| l.contains("?object-lock=")).count(),
        1,
        "the bucket's setting is asked once: {log:#?}"
    );
    assert!(log.iter().all(|l| !l.starts_with("400 ")), "every request was as expected: {log:#?}");
}

/// A store that says `NoSuchObjectLockConfiguration` to `GetObjectRetention` kept the
/// object without the lock: it is deleted again and the step fails.
#[tokio::test]
async fn s3_no_retention_from_get_object_retention_is_an_unlocked_object_and_deleted() {
    let (port, log) = s3_retention_stub("stub-ignoring", true);
    let f = files("retention-ignored", 3_000);
    let settings =
        s3_settings(&format!("s3://stub-ignoring/audits/?endpoint=http://127.0.0.1:{port}&region=us-east-1"))
            .locked_until(in_days(9));
    let err = store_locked(&settings, &f, "7.1.0", &[]).await.expect_err("an unlocked object is not stored");
    let text = one_line_with_hint(&err);
    assert!(text.contains("without the retention that was asked for") && text.contains("it was deleted"), "{text}");
    let log = log.lock().unwrap().clone();
    let zip = key("7.1.0", ".zip");
    assert!(log.contains(&format!("404 GET /stub-ignoring/{zip}?retention=&versionId=v1 HTTP/1.1")), "{log:#?}");
    assert!(log.contains(&format!("204 DELETE /stub-ignoring/{zip} HTTP/1.1")), "{log:#?}");
}

// ---- end to end ----

/// The action stores a real bundle locked and says so; `verify --online` reads the
/// objects back and checks bytes and locks; someone else's newer version under the
/// key fails it.
#[tokio::test(flavor = "multi_thread")]
async fn the_action_stores_locked_and_verify_online_checks_the_objects() {
    let bucket = locked_bucket();
    let m = &emulators().moto;
    let binary = Path::new(env!("CARGO_BIN_EXE_release-audit"));
    let url = locked_s3_url(bucket);
    let credentials = format!("access-key-id={}\nsecret-access-key={}", m.key_id, m.secret);
    let mut step = release_audit_test_support::Step::new();
    step.input("release-version", "8.0.0")
        .input("upload", "false")
        .input("required-reports", "none")
        .input("storage-url", &url)
        .input("storage-credentials", &credentials)
        .input("storage-retention-days", "3");
    let result = step.run(binary, &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);

    let locks: serde_json::Value =
        serde_json::from_str(&result.outputs["storage-locks"]).expect("storage-locks is JSON");
    let locks = locks.as_array().expect("an array");
    assert_eq!(locks.len(), 2, "{locks:?}");
    let zip_url = format!("s3://{bucket}/{}", key("8.0.0", ".zip"));
    assert_eq!(locks[0]["url"], zip_url.as_str());
    assert_eq!(locks[0]["mode"], "COMPLIANCE");
    let until = DateTime::parse_from_rfc3339(locks[0]["retain_until"].as_str().unwrap()).unwrap().with_timezone(&Utc);
    assert!((until - (Utc::now() + chrono::Duration::days(3))).num_seconds().abs() < 600, "{until}");
    let version = locks[0]["version"].as_str().expect("the version id").to_string();
    assert!(
        result.summary.contains(&format!("locked COMPLIANCE until {}", until.format("%Y-%m-%dT%H:%M:%SZ"))),
        "{}",
        result.summary
    );

    let zip = step.resolve(&result.outputs["bundle-path"]);
    let verify_path = |path: &Path, extra: &[&str]| {
        let mut args = vec![
            "verify".to_string(),
            path.display().to_string(),
            "--online".into(),
            "--storage-url".into(),
            url.clone(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let out = std::process::Command::new(binary)
            .args(&args)
            .env("RELEASE_AUDIT_STORAGE_CREDENTIALS", &credentials)
            .env_remove("GITHUB_ACTIONS")
            .output()
            .expect("verify runs");
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let verify = |extra: &[&str]| verify_path(&zip, extra);
    let day_before = (until - chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    let (code, out) = verify(&["--retained-until", &day_before]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("stored: {zip_url} (sha256 matches, version {version}; locked COMPLIANCE until")),
        "{out}"
    );
    assert!(out.contains(".SHA256SUMS (sha256 matches"), "{out}");

    // The unzipped directory: no zip to hash, so the stored zip must be the one the
    // stored SHA256SUMS names, and those sums the ones this bundle makes.
    let unzipped = tempfile::tempdir().unwrap();
    python(&format!(
        "import zipfile; zipfile.ZipFile({:?}).extractall({:?})",
        zip.display().to_string(),
        unzipped.path().display().to_string()
    ));
    let dir = unzipped.path().join("audit-bundle-8.0.0");
    let (code, out) = verify_path(&dir, &["--json"]);
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("--json");
    let stored = json["stored"].as_array().expect("stored objects are listed");
    assert_eq!(stored.len(), 2, "{json}");
    assert!(stored[1].as_str().unwrap().contains(".SHA256SUMS (sha256 matches"), "{json}");

    let later = (until + chrono::Duration::days(2)).format("%Y-%m-%d").to_string();
    let (code, out) = verify(&["--retained-until", &later]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("stored: {zip_url}: is locked COMPLIANCE until"))
            && out.contains("--retained-until requires"),
        "{out}"
    );

    // Someone puts a newer version over the key: the locked one is kept, but a download
    // of the key gets other bytes now.
    python(&format!(
        r#"
import boto3
s3 = boto3.client("s3", endpoint_url="{ep}", aws_access_key_id="{id}", aws_secret_access_key="{secret}", region_name="us-east-1")
s3.put_object(Bucket="{bucket}", Key="{key}", Body=b"not the bundle")
"#,
        ep = m.service.url(),
        id = m.key_id,
        secret = m.secret,
        key = key("8.0.0", ".zip"),
    ));
    let (code, out) = verify(&[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("stored: {zip_url}: holds other bytes")), "{out}");
}

/// Credentials that may not read the bucket's Object Lock setting (a proxy answers
/// that request 403, as S3 does without s3:GetBucketObjectLockConfiguration): the
/// upload itself is refused by moto for the bucket without Object Lock, and that is
/// the same clear error naming the setting.
#[tokio::test]
async fn s3_without_leave_to_read_the_setting_the_refused_upload_names_it() {
    let m = &emulators().moto;
    let upstream: u16 = m.service.url().rsplit(':').next().unwrap().parse().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let denied = Arc::new(Mutex::new(0usize));
    let counted = denied.clone();
    std::thread::spawn(move || {
        for mut client in listener.incoming().flatten() {
            let request = crate::publish_common::read_request(&mut client);
            let first = request.lines().next().unwrap_or_default().to_string();
            if first.contains("?object-lock") {
                *counted.lock().unwrap() += 1;
                let body =
                    "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
                let _ = client.write_all(format!("HTTP/1.1 403 Forbidden\r\ncontent-type: application/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()).as_bytes());
                continue;
            }
            // One request per connection: forwarded with `connection: close` (not a
            // signed header), the answer piped back until the server closes.
            let request = request.replacen("\r\n", "\r\nconnection: close\r\n", 1);
            let Ok(mut server) = std::net::TcpStream::connect(("127.0.0.1", upstream)) else { continue };
            let _ = server.write_all(request.as_bytes());
            let _ = std::io::copy(&mut server, &mut client);
        }
    });
    let settings = s3_settings(&format!(
        "s3://{}/audits/?endpoint=http://127.0.0.1:{port}&region=us-east-1",
        crate::publish_storage::BUCKET
    ))
    .locked_until(in_days(30));
    let f = files("unlockable-upload", 2_000);
    let err = store_locked(&settings, &f, "3.2.0", &[]).await.expect_err("refused");
    let text = one_line_with_hint(&err);
    assert_eq!(*denied.lock().unwrap(), 1, "the setting was asked for once");
    assert!(text.contains("does not have Object Lock enabled") && text.contains("InvalidRequest"), "{text}");
    assert!(err.hint().contains("--object-lock-enabled-for-bucket"), "{}", err.hint());
    assert_eq!(s3_object(&key("3.2.0", ".zip")), None, "nothing was stored");
}
