//! Amazon S3 and S3-compatible stores, over their REST API with Signature Version 4.
//!
//! Requests are path-style (`{endpoint}/{bucket}/{key}`) when an endpoint is given or
//! the bucket name has dots (a dotted name breaks the TLS wildcard of virtual hosts),
//! otherwise virtual-hosted (`https://{bucket}.s3.{region}.amazonaws.com/{key}`).
//!
//! The payload is signed with its real sha256 (not `UNSIGNED-PAYLOAD`): we know it
//! already, and S3 then refuses a body that changed on the way. The same sha256 goes
//! in `x-amz-checksum-sha256`, which S3 checks too and keeps with the object, so a
//! `HEAD` with checksum mode afterwards proves what was stored without reading it back.
//!
//! Locked uploads add `x-amz-object-lock-mode: COMPLIANCE`,
//! `x-amz-object-lock-retain-until-date` and `Content-MD5` (S3 wants an MD5 or a
//! flexible checksum on every object-lock PUT; both are sent). The bucket must have
//! been created with Object Lock enabled, which also turns versioning on.

use base64::Engine;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{Asked, Checksum, LocalFile, Lock, Lookup, Remote, StorageLocation, file_body, one_line, percent_encode};
use crate::error::{Error, Result};
use crate::http::{RetryPolicy, send_with_retries};
use crate::secret::Secret;

/// S3 takes at most 5 GiB in one PUT.
const MAX_SINGLE_PUT: u64 = 5 * 1024 * 1024 * 1024;
const DEFAULT_REGION: &str = "us-east-1";
/// S3 error codes that mean the credentials themselves were refused.
const CREDENTIAL_CODES: &[&str] =
    &["InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired"];
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// `storage-credentials` for `s3://`: `access-key-id`, `secret-access-key`, and
/// `session-token` for temporary credentials (e.g. from aws-actions/configure-aws-credentials).
#[derive(Debug, Clone)]
pub(super) struct Keys {
    access_key_id: Secret,
    secret_access_key: Secret,
    session_token: Option<Secret>,
}

impl Keys {
    pub(super) fn from_pairs(pairs: Vec<(String, Secret)>) -> Result<Self> {
        let mut access_key_id = None;
        let mut secret_access_key = None;
        let mut session_token = None;
        for (key, value) in pairs {
            match key.as_str() {
                "access-key-id" => access_key_id = Some(value),
                "secret-access-key" => secret_access_key = Some(value),
                _ => session_token = Some(value),
            }
        }
        let hint = "give `access-key-id=…` and `secret-access-key=…` (and `session-token=…` for temporary credentials), one per line";
        let missing = |key: &str| Error::input("storage-credentials", format!("`{key}` is missing for s3://"), hint);
        let access_key_id = access_key_id.filter(|s| !s.expose().is_empty()).ok_or_else(|| missing("access-key-id"))?;
        let secret_access_key =
            secret_access_key.filter(|s| !s.expose().is_empty()).ok_or_else(|| missing("secret-access-key"))?;
        Ok(Keys { access_key_id, secret_access_key, session_token: session_token.filter(|s| !s.expose().is_empty()) })
    }

    pub(super) fn secrets(&self) -> Vec<&Secret> {
        let mut s = vec![&self.access_key_id, &self.secret_access_key];
        s.extend(self.session_token.as_ref());
        s
    }
}

pub(super) struct Client {
    http: reqwest::Client,
    /// `scheme://host[:port]` plus the bucket path for path-style requests.
    base: String,
    bucket: String,
    region: String,
    keys: Keys,
    retry: RetryPolicy,
    /// The bucket's Object Lock setting, asked for once.
    lock_setting: std::sync::Mutex<Option<LockSetting>>,
}

/// What a bucket's `GetObjectLockConfiguration` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LockSetting {
    Enabled,
    Disabled,
    /// The credentials may not ask (or the store does not answer like S3).
    Unknown,
}

impl Client {
    pub(super) fn new(net: &crate::http::Net, location: &StorageLocation, keys: &Keys) -> Self {
        let region = location.region.clone().unwrap_or_else(|| DEFAULT_REGION.to_string());
        let base = match &location.endpoint {
            Some(endpoint) => format!("{endpoint}/{}", location.bucket),
            None if location.bucket.contains('.') => format!("https://s3.{region}.amazonaws.com/{}", location.bucket),
            None => format!("https://{}.s3.{region}.amazonaws.com", location.bucket),
        };
        Client {
            http: net.client.clone(),
            base,
            bucket: location.bucket.clone(),
            region,
            keys: keys.clone(),
            retry: net.retry,
            lock_setting: std::sync::Mutex::new(None),
        }
    }

    fn url(&self, key: &str) -> Result<reqwest::Url> {
        let text = format!("{}/{}", self.base, percent_encode(key, true));
        reqwest::Url::parse(&text).map_err(|e| {
            Error::input("storage-url", format!("`{text}` is not a URL: {e}"), "check the endpoint and bucket")
        })
    }

    pub(super) fn object_url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    pub(super) fn bucket(&self) -> &str {
        &self.bucket
    }

    /// `GetObjectLockConfiguration`: an error when the bucket has no Object Lock; fine
    /// when it has, or when the credentials may not ask (the PUT answer then tells).
    pub(super) async fn check_lockable(&self) -> Result<()> {
        match self.lock_setting().await? {
            LockSetting::Disabled => Err(Error::service(
                format!("storing in bucket `{}`", self.bucket),
                "the bucket does not have Object Lock enabled, so nothing stored there can be locked; nothing was uploaded",
                object_lock_hint(&self.bucket),
            )),
            LockSetting::Enabled | LockSetting::Unknown => Ok(()),
        }
    }

    /// The bucket's Object Lock setting (asked once per client); an error only for a
    /// bucket that does not exist.
    pub(super) async fn lock_setting(&self) -> Result<LockSetting> {
        if let Some(known) = *self.lock_setting.lock().unwrap_or_else(|p| p.into_inner()) {
            return Ok(known);
        }
        let what = format!("reading the Object Lock setting of bucket `{}`", self.bucket);
        let url = self.bucket_url("object-lock=")?;
        let response = send_with_retries(&what, self.retry, |_| {
            let builder = self.request(reqwest::Method::GET, &url, &[], EMPTY_SHA256);
            async move { Ok(builder) }
        })
        .await?;
        let status = response.status().as_u16();
        let body = crate::http::read_bounded(response, 64 * 1024, &what)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let code = xml_text(&body, "Code").unwrap_or_default();
        let setting = match (status, code.as_str()) {
            (200, _) if xml_text(&body, "ObjectLockEnabled").as_deref() == Some("Enabled") => LockSetting::Enabled,
            (200, _) | (404, "ObjectLockConfigurationNotFoundError") => LockSetting::Disabled,
            (404, "NoSuchBucket") => {
                return Err(Error::service(
                    format!("storing in bucket `{}`", self.bucket),
                    format!("bucket `{}` does not exist", self.bucket),
                    "create the bucket (with Object Lock enabled), or fix its name in `storage-url`",
                ));
            }
            _ => {
                log::debug!("{what}: HTTP {status} {code}; the requests on objects will tell whether it can lock");
                LockSetting::Unknown
            }
        };
        *self.lock_setting.lock().unwrap_or_else(|p| p.into_inner()) = Some(setting);
        Ok(setting)
    }

    /// `GetObjectRetention` of an object (its latest version unless `version`).
    pub(super) async fn retention(&self, key: &str, version: Option<&str>) -> Result<Option<Lock>> {
        let what = format!("reading the retention of {}", self.object_url(key));
        let mut url = self.url(key)?;
        url.set_query(Some("retention="));
        if let Some(v) = version {
            url.query_pairs_mut().append_pair("versionId", v);
        }
        let response = send_with_retries(&what, self.retry, |_| {
            let builder = self.request(reqwest::Method::GET, &url, &[], EMPTY_SHA256);
            async move { Ok(builder) }
        })
        .await?;
        let status = response.status().as_u16();
        if status != 200 {
            let error = self.refusal(response, &what, Asked::Read).await;
            return match &error {
                _ if error.refusal().is_some_and(|r| r.is("NoSuchObjectLockConfiguration")) => Ok(None),
                _ => Err(error),
            };
        }
        let body = crate::http::read_bounded(response, 64 * 1024, &what).await?;
        let body = String::from_utf8_lossy(&body);
        Ok(lock_of(xml_text(&body, "Mode").as_deref(), xml_text(&body, "RetainUntilDate").as_deref()))
    }

    fn bucket_url(&self, query: &str) -> Result<reqwest::Url> {
        let text = format!("{}?{query}", self.base);
        reqwest::Url::parse(&text).map_err(|e| {
            Error::input("storage-url", format!("`{text}` is not a URL: {e}"), "check the endpoint and bucket")
        })
    }

    /// A request with SigV4 headers for `payload_sha256` (hex).
    fn request(
        &self,
        method: reqwest::Method,
        url: &reqwest::Url,
        headers: &[(&str, String)],
        payload_sha256: &str,
    ) -> reqwest::RequestBuilder {
        let signed = sign(&self.keys, &self.region, method.as_str(), url, headers, payload_sha256, Utc::now());
        let mut builder = self.http.request(method, url.clone());
        for (name, value) in headers.iter().map(|(n, v)| (n.to_string(), v.clone())).chain(signed) {
            builder = builder.header(name, value);
        }
        builder
    }

    /// A small request (no body) with retries.
    async fn send(
        &self,
        method: reqwest::Method,
        key: &str,
        headers: &[(&str, String)],
        what: &str,
    ) -> Result<reqwest::Response> {
        let url = self.url(key)?;
        send_with_retries(what, self.retry, |_| {
            let builder = self.request(method.clone(), &url, headers, EMPTY_SHA256);
            async move { Ok(builder) }
        })
        .await
    }

    /// Size and stored sha256 checksum of an object.
    ///
    /// A `HEAD` answer has no body, so a refusal is asked again as a one-byte `GET`,
    /// whose error document says why. `AccessDenied` leaves the question open:
    /// credentials that may write but not list the bucket get it for a missing object.
    pub(super) async fn lookup(&self, key: &str) -> Result<Lookup> {
        let what = format!("looking up {}", self.object_url(key));
        let response =
            self.send(reqwest::Method::HEAD, key, &[("x-amz-checksum-mode", "ENABLED".into())], &what).await?;
        match response.status().as_u16() {
            200 => return Ok(Lookup::Found(remote_of(&response))),
            404 => return Ok(Lookup::Missing),
            _ => {}
        }
        let response = self.send(reqwest::Method::GET, key, &[("range", "bytes=0-0".into())], &what).await?;
        let status = response.status().as_u16();
        if status == 200 || status == 206 {
            // 206: the total is after the `/` of Content-Range; 200 (a store that ignores
            // `Range`): the whole object came, its length is the size.
            let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
            let size = match status {
                206 => header("content-range").and_then(|v| v.rsplit('/').next().and_then(|t| t.parse().ok())),
                _ => header("content-length").and_then(|v| v.parse().ok()),
            };
            return match size {
                Some(size) => Ok(Lookup::Found(Remote { size, ..Remote::default() })),
                None => Ok(Lookup::Unknown(Error::service(
                    &what,
                    "the store gave the object but not its size",
                    "check the endpoint; it answers unlike S3",
                ))),
            };
        }
        let error = self.refusal(response, &what, Asked::Read).await;
        // A missing object, not a missing bucket; and a 403 that is no credential
        // problem (write-only credentials get it for a missing object).
        match (status, error.refusal()) {
            (404, Some(r)) if !r.is("NoSuchBucket") => Ok(Lookup::Missing),
            (403, Some(r)) if !CREDENTIAL_CODES.iter().any(|c| r.is(c)) => Ok(Lookup::Unknown(error)),
            _ => Err(error),
        }
    }

    /// PUTs the file (create-only: `If-None-Match: *`); returns the answer and whether
    /// an earlier attempt broke off.
    pub(super) async fn put(
        &self,
        file: &LocalFile,
        create_only: bool,
        lock: Option<DateTime<Utc>>,
        what: &str,
    ) -> Result<(reqwest::Response, bool)> {
        let what = what.to_string();
        if file.size > MAX_SINGLE_PUT {
            return Err(Error::service(
                &what,
                format!("the file is {} bytes; S3 takes at most 5 GiB in one upload", file.size),
                "keep the bundle under 5 GiB (leave out run logs with `include-run-logs: false`)",
            ));
        }
        let url = self.url(&file.key)?;
        let headers =
            put_headers(file, create_only, lock).map_err(|e| Error::service(&what, e, "report this as a bug"))?;
        let mut retried = false;
        let response = send_with_retries(&what, self.retry, |attempt| {
            retried = attempt > 1;
            let request = self.request(reqwest::Method::PUT, &url, &headers, &file.sha256_hex);
            let what = what.clone();
            async move { Ok(request.body(file_body(&file.path, Vec::new(), Vec::new(), &what).await?)) }
        })
        .await?;
        Ok((response, retried))
    }

    pub(super) async fn get(&self, key: &str, what: &str) -> Result<reqwest::Response> {
        self.send(reqwest::Method::GET, key, &[], what).await
    }

    pub(super) async fn remove(&self, key: &str, what: &str) -> Result<reqwest::Response> {
        self.send(reqwest::Method::DELETE, key, &[], what).await
    }

    /// Turns an S3 error answer to what was `asked` into an error that says what to do;
    /// by status and S3's `<Code>`, never by the wording of its `<Message>`.
    pub(super) async fn refusal(&self, response: reqwest::Response, what: &str, asked: Asked) -> Error {
        let status = response.status().as_u16();
        let region_hint =
            response.headers().get("x-amz-bucket-region").and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = crate::http::read_bounded(response, 64 * 1024, what)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let code = xml_text(&body, "Code").unwrap_or_default();
        let message = xml_text(&body, "Message").map(|m| one_line(&m)).unwrap_or_default();
        let said = if code.is_empty() { format!("HTTP {status}") } else { format!("HTTP {status} {code}: {message}") };
        let bucket = &self.bucket;
        let (reason, hint) = match (status, code.as_str()) {
            (404, "NoSuchBucket") => (format!("bucket `{bucket}` does not exist ({said})"), "create the bucket, or fix its name in `storage-url`".to_string()),
            (400 | 403, c) if CREDENTIAL_CODES.contains(&c) => (
                format!("the credentials were refused ({said})"),
                "check `access-key-id` and `secret-access-key` in `storage-credentials`; temporary credentials also need `session-token` and expire".to_string(),
            ),
            (401, _) => (
                format!("the credentials were refused ({said})"),
                "check `access-key-id` and `secret-access-key` in `storage-credentials`; temporary credentials also need `session-token` and expire".to_string(),
            ),
            (403, _) => (
                format!("access denied ({said})"),
                format!("allow the credentials s3:PutObject and s3:GetObject on arn:aws:s3:::{bucket}/* (s3:DeleteObject to replace with overwrite)"),
            ),
            // S3's answer to a locked PUT into a bucket without Object Lock; the code is
            // generic, so the reason says which request it refused and names the other cause.
            (400, "InvalidRequest") if matches!(asked, Asked::Upload { locked: true, .. }) => (
                format!(
                    "the store refused the locked upload as an invalid request ({said}): the bucket does not have Object Lock enabled, or the store does not take Object Lock headers"
                ),
                object_lock_hint(bucket),
            ),
            (400, "MissingUploadObjectWithObjectLockHeaders") => (
                format!("the store wants a checksum on a locked upload ({said})"),
                "report this as a bug: locked uploads carry Content-MD5 and x-amz-checksum-sha256".to_string(),
            ),
            (412, _) => ("the object already exists (it appeared while this step ran); nothing was replaced".to_string(), "set `overwrite: true` to replace it".to_string()),
            (301, _) | (400, "AuthorizationHeaderMalformed" | "IllegalLocationConstraintException") => (
                format!("the bucket is in another region ({said})"),
                match region_hint {
                    Some(r) => format!("add the bucket's region to `storage-url`: s3://{bucket}/…?region={r}"),
                    None => format!("add the bucket's region to `storage-url`: s3://{bucket}/…?region=<region>"),
                },
            ),
            (400, "BadDigest" | "InvalidDigest" | "XAmzContentSHA256Mismatch") => (
                format!("S3 received other bytes than were sent and refused them ({said})"),
                "the upload was damaged on the way (a proxy or the network); run the step again".to_string(),
            ),
            _ => (said, "try again later; if it persists, check the endpoint and the bucket's settings".to_string()),
        };
        Error::refused(what, crate::error::Refusal::new(status, &code).with_message(&message), reason, hint)
    }
}

/// The headers of a PUT: type, length, the sha256 checksum; `If-None-Match: *` to
/// create only; with a lock, compliance mode, its date and the `Content-MD5` S3 wants
/// on every object-lock PUT.
fn put_headers(
    file: &LocalFile,
    create_only: bool,
    lock: Option<DateTime<Utc>>,
) -> std::result::Result<Vec<(&'static str, String)>, String> {
    let sha256 = hex::decode(&file.sha256_hex).map_err(|e| e.to_string())?;
    let mut headers: Vec<(&str, String)> = vec![
        ("content-type", file.content_type.to_string()),
        ("content-length", file.size.to_string()),
        ("x-amz-checksum-sha256", base64::engine::general_purpose::STANDARD.encode(sha256)),
        ("x-amz-sdk-checksum-algorithm", "SHA256".to_string()),
    ];
    if create_only {
        headers.push(("if-none-match", "*".to_string()));
    }
    if let Some(until) = lock {
        headers.push(("content-md5", file.md5_base64.clone()));
        headers.push(("x-amz-object-lock-mode", "COMPLIANCE".to_string()));
        headers.push(("x-amz-object-lock-retain-until-date", until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
    }
    Ok(headers)
}

/// Size and sha256 from a `HEAD` with checksum mode. S3 checked that checksum against
/// the bytes it received, so it proves the content. A composite (multipart) checksum
/// `…-N` is not the object's sha256 and is ignored.
fn remote_of(response: &reqwest::Response) -> Remote {
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok());
    let size = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let sha256_hex = header("x-amz-checksum-sha256")
        .filter(|v| !v.contains('-'))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .map(hex::encode);
    Remote {
        size,
        checksum: sha256_hex.clone().map(Checksum::Sha256Hex),
        recorded_sha256: sha256_hex,
        version: header("x-amz-version-id").filter(|v| *v != "null").map(str::to_string),
        lock: lock_of(header("x-amz-object-lock-mode"), header("x-amz-object-lock-retain-until-date")),
    }
}

/// A lock from S3's mode and retain-until date (ISO 8601, with or without fractions).
fn lock_of(mode: Option<&str>, until: Option<&str>) -> Option<Lock> {
    let retain_until = DateTime::parse_from_rfc3339(until?.trim()).ok()?.with_timezone(&Utc);
    Some(Lock::reported(mode?, retain_until))
}

/// What to do about a bucket that cannot lock.
pub(super) fn object_lock_hint(bucket: &str) -> String {
    format!(
        "store in a bucket created with Object Lock enabled (aws s3api create-bucket --bucket {bucket} --object-lock-enabled-for-bucket; it turns versioning on), allow s3:PutObjectRetention and s3:GetObjectRetention, or drop storage-retain-until/storage-retention-days"
    )
}

/// The text of the first `<tag>` in an S3 error document (they are flat and small).
fn xml_text(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + body[start..].find(&format!("</{tag}>"))?;
    Some(body[start..end].trim().to_string())
}

/// Signature Version 4: returns the headers to add (`x-amz-date`,
/// `x-amz-content-sha256`, `x-amz-security-token`, `authorization`). Every header in
/// `headers` and `host` is signed.
fn sign(
    keys: &Keys,
    region: &str,
    method: &str,
    url: &reqwest::Url,
    headers: &[(&str, String)],
    payload_sha256: &str,
    now: DateTime<Utc>,
) -> Vec<(String, String)> {
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = now.format("%Y%m%d").to_string();
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let mut added = vec![
        ("x-amz-date".to_string(), amz_date.clone()),
        ("x-amz-content-sha256".to_string(), payload_sha256.to_string()),
    ];
    if let Some(token) = &keys.session_token {
        added.push(("x-amz-security-token".to_string(), token.expose().to_string()));
    }
    let mut canonical: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_string()))
        .chain(added.iter().cloned())
        .chain([("host".to_string(), host)])
        .collect();
    canonical.sort();
    let signed_headers = canonical.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(";");
    let mut query: Vec<(String, String)> =
        url.query_pairs().map(|(k, v)| (percent_encode(&k, false), percent_encode(&v, false))).collect();
    query.sort();
    let canonical_request = format!(
        "{method}\n{}\n{}\n{}\n{signed_headers}\n{payload_sha256}",
        url.path(),
        query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"),
        canonical.iter().map(|(n, v)| format!("{n}:{v}\n")).collect::<String>(),
    );
    let scope = format!("{date}/{region}/s3/aws4_request");
    let string_to_sign =
        format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex::encode(Sha256::digest(canonical_request.as_bytes())));
    let mut key = hmac(format!("AWS4{}", keys.secret_access_key.expose()).as_bytes(), date.as_bytes());
    for part in [region, "s3", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    added.push((
        "authorization".to_string(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            keys.access_key_id.expose()
        ),
    ));
    added
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key), data).as_ref().to_vec()
}

/// Listing, for `release-audit archive` (kept apart from the upload path).
impl Client {
    /// One page of ListObjectsV2 under `prefix`: the objects and the continuation token.
    pub(super) async fn list_page(
        &self,
        prefix: &str,
        token: Option<&str>,
        what: &str,
    ) -> Result<(Vec<super::read::Listed>, Option<String>)> {
        let mut url = self.url("")?;
        let mut query = format!("list-type=2&max-keys=1000&prefix={}", percent_encode(prefix, false));
        if let Some(token) = token {
            query.push_str(&format!("&continuation-token={}", percent_encode(token, false)));
        }
        url.set_query(Some(&query));
        let response = send_with_retries(what, self.retry, |_| {
            let builder = self.request(reqwest::Method::GET, &url, &[], EMPTY_SHA256);
            async move { Ok(builder) }
        })
        .await?;
        if !response.status().is_success() {
            return Err(self.refusal(response, what, Asked::Bucket).await);
        }
        let body = crate::http::read_bounded(response, 16 * 1024 * 1024, what).await?;
        parse_listing(&body).map_err(|e| {
            Error::service(what, format!("unexpected listing: {e}"), "check the endpoint in `storage-url`")
        })
    }
}

/// A ListObjectsV2 answer: (objects, next continuation token when truncated).
fn parse_listing(body: &[u8]) -> std::result::Result<(Vec<super::read::Listed>, Option<String>), String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    let (mut objects, mut next, mut truncated) = (Vec::new(), None, false);
    let mut current: Option<super::read::Listed> = None;
    let mut text = String::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).map_err(|e| e.to_string())? {
            Event::Start(e) => {
                text.clear();
                if e.name().into_inner() == "Contents" {
                    current = Some(super::read::Listed {
                        key: String::new(),
                        size: 0,
                        version: String::new(),
                        stored_at: String::new(),
                    });
                }
            }
            Event::Text(t) => text.push_str(&t),
            Event::GeneralRef(r) => match r.resolve_char_ref() {
                Ok(Some(c)) => text.push(c),
                _ => text.push_str(
                    quick_xml::escape::resolve_predefined_entity(&r).ok_or_else(|| format!("entity &{};", &*r))?,
                ),
            },
            Event::End(e) => {
                let value = std::mem::take(&mut text);
                match (e.name().into_inner(), current.as_mut()) {
                    ("Contents", _) => objects.extend(current.take().filter(|o| !o.key.is_empty())),
                    ("Key", Some(o)) => o.key = value,
                    ("Size", Some(o)) => o.size = value.trim().parse().map_err(|_| format!("size `{value}`"))?,
                    ("ETag", Some(o)) => o.version = value.trim().trim_matches('"').to_string(),
                    ("LastModified", Some(o)) => o.stored_at = value.trim().to_string(),
                    ("IsTruncated", None) => truncated = value.trim() == "true",
                    ("NextContinuationToken", None) => next = Some(value.trim().to_string()),
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok((objects, if truncated { next } else { None }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The "GET Object" example of the S3 SigV4 documentation.
    #[test]
    fn signature_matches_the_documented_example() {
        let keys = Keys {
            access_key_id: Secret::new("AKIAIOSFODNN7EXAMPLE"),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            session_token: None,
        };
        let url = reqwest::Url::parse("https://examplebucket.s3.amazonaws.com/test.txt").unwrap();
        let now = DateTime::parse_from_rfc3339("2013-05-24T00:00:00Z").unwrap().with_timezone(&Utc);
        let headers = sign(&keys, "us-east-1", "GET", &url, &[("Range", "bytes=0-9".into())], EMPTY_SHA256, now);
        let auth = &headers.iter().find(|(n, _)| n == "authorization").unwrap().1;
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn session_tokens_are_sent_and_signed() {
        let keys = Keys {
            access_key_id: Secret::new("ASIA1"),
            secret_access_key: Secret::new("s"),
            session_token: Some(Secret::new("tok")),
        };
        let url = reqwest::Url::parse("http://127.0.0.1:9000/b/k").unwrap();
        let headers = sign(&keys, "eu-central-1", "PUT", &url, &[], EMPTY_SHA256, Utc::now());
        assert!(headers.contains(&("x-amz-security-token".to_string(), "tok".to_string())));
        let auth = &headers.iter().find(|(n, _)| n == "authorization").unwrap().1;
        assert!(auth.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token"), "{auth}");
    }

    #[test]
    fn a_locked_put_carries_compliance_mode_its_date_and_both_checksums() {
        let file = LocalFile {
            path: "b.zip".into(),
            key: "k/b.zip".into(),
            content_type: "application/zip",
            size: 5,
            // sha256 and md5 of "hello"
            sha256_hex: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824".into(),
            md5_base64: "XUFAKrxLKna5cZ2REBfFkg==".into(),
        };
        let until = DateTime::parse_from_rfc3339("2027-12-31T00:00:00Z").unwrap().with_timezone(&Utc);
        let headers = put_headers(&file, true, Some(until)).unwrap();
        let get = |n: &str| headers.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("x-amz-object-lock-mode"), Some("COMPLIANCE"));
        assert_eq!(get("x-amz-object-lock-retain-until-date"), Some("2027-12-31T00:00:00Z"));
        assert_eq!(get("content-md5"), Some("XUFAKrxLKna5cZ2REBfFkg=="));
        assert_eq!(get("x-amz-checksum-sha256"), Some("LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="));
        assert_eq!(get("if-none-match"), Some("*"));
        let unlocked = put_headers(&file, false, None).unwrap();
        assert!(unlocked.iter().all(|(k, _)| !k.starts_with("x-amz-object-lock") && *k != "content-md5"));
    }

    #[test]
    fn listings_give_keys_sizes_versions_and_the_next_page() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>a/</Prefix><KeyCount>2</KeyCount>
<MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
<Contents><Key>a/R&amp;D/1.0/b.zip</Key><LastModified>2026-12-01T10:00:00.000Z</LastModified><ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1234</Size><StorageClass>STANDARD</StorageClass></Contents>
<Contents><Key>a/x.SHA256SUMS</Key><LastModified>2026-12-01T10:00:01.000Z</LastModified><ETag>"e1"</ETag><Size>90</Size></Contents>
</ListBucketResult>"#;
        let (objects, next) = parse_listing(body).unwrap();
        assert_eq!(next.as_deref(), Some("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="));
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[0].key, "a/R&D/1.0/b.zip");
        assert_eq!(objects[0].size, 1234);
        assert_eq!(objects[0].version, "9b2cf535f27731c974343645a3985328");
        assert_eq!(objects[0].stored_at, "2026-12-01T10:00:00.000Z");
        let last = br#"<ListBucketResult><IsTruncated>false</IsTruncated><NextContinuationToken>x</NextContinuationToken></ListBucketResult>"#;
        assert_eq!(parse_listing(last).unwrap(), (Vec::new(), None));
        assert!(parse_listing(b"<ListBucketResult><Contents><Size>x</Size></Contents>").is_err());
    }

    #[test]
    fn error_documents_give_code_and_message() {
        let body = "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>";
        assert_eq!(xml_text(body, "Code").as_deref(), Some("NoSuchBucket"));
        assert_eq!(xml_text(body, "Message").as_deref(), Some("The specified bucket does not exist"));
        assert_eq!(xml_text("", "Code"), None);
    }
}
