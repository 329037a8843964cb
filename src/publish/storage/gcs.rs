//! Google Cloud Storage, over its JSON API.
//!
//! Uploads are `uploadType=multipart` (one request: the object's metadata, then its
//! bytes, streamed from disk). That upload type takes the `ifGenerationMatch=0`
//! precondition (create only) and an `md5Hash` in the metadata, which GCS checks
//! against the bytes it received. Afterwards the object's metadata must show our size
//! and the md5 GCS computed; the sha256 is kept as custom metadata (`sha256`) for
//! auditors, since GCS computes none itself.
//!
//! Locked uploads put `retention: {mode: Locked, retainUntilTime}` into the same
//! metadata (object retention; the bucket must have it enabled, `objectRetention.mode:
//! Enabled`), and the object's `retention` is read back after the upload.
//!
//! Credentials: an OAuth 2 access token (what google-github-actions/auth gives with
//! `token_format: access_token`, or `gcloud auth print-access-token`), or a
//! service-account key (JSON, inline or base64) that is exchanged for a token with a
//! signed JWT (RS256, ring) at the key's `token_uri`.

use base64::Engine;
use serde::Deserialize;

use super::{Asked, Checksum, LocalFile, Lock, Lookup, Remote, StorageLocation, file_body, one_line, percent_encode};
use crate::error::{Error, Result};
use crate::http::{RetryPolicy, read_bounded, send_with_retries};
use crate::secret::Secret;

const DEFAULT_ENDPOINT: &str = "https://storage.googleapis.com";
const SCOPE: &str = "https://www.googleapis.com/auth/devstorage.read_write";
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// How we authenticate to GCS.
#[derive(Debug, Clone)]
pub(super) enum Auth {
    AccessToken(Secret),
    ServiceAccount(ServiceAccount),
}

/// The parts of a service-account key file we use.
#[derive(Debug, Clone)]
pub(super) struct ServiceAccount {
    client_email: String,
    private_key_id: Option<String>,
    /// PEM, PKCS#8 (`-----BEGIN PRIVATE KEY-----`), as Google issues them.
    private_key: Secret,
    token_uri: String,
    /// The input as given, masked as a whole.
    raw: Secret,
}

impl Auth {
    pub(super) fn from_pairs(pairs: Vec<(String, Secret)>) -> Result<Self> {
        let hint = "give either `access-token=…` (e.g. from google-github-actions/auth with token_format: access_token) or `service-account-json=<base64 of the key file>` (base64 -w0 key.json)";
        match <[(String, Secret); 1]>::try_from(pairs) {
            Ok([(key, value)]) if value.expose().is_empty() => {
                Err(Error::input("storage-credentials", format!("`{key}` is empty"), hint))
            }
            Ok([(key, value)]) if key == "access-token" => Ok(Auth::AccessToken(value)),
            Ok([(_, value)]) => Ok(Auth::ServiceAccount(ServiceAccount::parse(value)?)),
            Err(pairs) if pairs.is_empty() => Err(Error::input(
                "storage-credentials",
                "has no credentials for gs:// (`access-token` or `service-account-json`)",
                hint,
            )),
            Err(_) => Err(Error::input(
                "storage-credentials",
                "gives both `access-token` and `service-account-json`; give only one",
                hint,
            )),
        }
    }

    pub(super) fn secrets(&self) -> Vec<&Secret> {
        match self {
            Auth::AccessToken(token) => vec![token],
            Auth::ServiceAccount(account) => vec![&account.raw, &account.private_key],
        }
    }
}

impl ServiceAccount {
    fn parse(value: Secret) -> Result<Self> {
        let bad = |reason: &str| {
            Error::input(
                "storage-credentials",
                format!("`service-account-json` {reason}"),
                "give the service-account key file as one line of base64 (base64 -w0 key.json) or as one-line JSON",
            )
        };
        let text = value.expose().trim();
        let json = if text.starts_with('{') {
            text.as_bytes().to_vec()
        } else {
            base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| bad("is neither JSON nor base64"))?
        };
        #[derive(Deserialize)]
        struct KeyFile {
            #[serde(rename = "type")]
            kind: Option<String>,
            client_email: Option<String>,
            private_key_id: Option<String>,
            private_key: Option<String>,
            token_uri: Option<String>,
        }
        let file: KeyFile = serde_json::from_slice(&json).map_err(|_| bad("is not a JSON key file"))?;
        if file.kind.as_deref() != Some("service_account") {
            return Err(bad("is not a service-account key (its `type` is not `service_account`)"));
        }
        let client_email = file.client_email.ok_or_else(|| bad("has no `client_email`"))?;
        let private_key = Secret::new(file.private_key.ok_or_else(|| bad("has no `private_key`"))?);
        let token_uri = file.token_uri.unwrap_or_else(|| DEFAULT_TOKEN_URI.to_string());
        let loopback = token_uri.starts_with("http://127.0.0.1:") || token_uri.starts_with("http://localhost:");
        if !token_uri.starts_with("https://") && !loopback {
            return Err(bad("has a `token_uri` that is not https"));
        }
        key_pair(&private_key).map_err(|reason| bad(&reason))?;
        Ok(ServiceAccount { client_email, private_key_id: file.private_key_id, private_key, token_uri, raw: value })
    }

    /// Exchanges a signed JWT for an access token (RFC 7523, as Google's libraries do).
    async fn access_token(&self, net: &crate::http::Net) -> Result<Secret> {
        let what = format!("getting a GCS access token for {}", self.client_email);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let now = chrono::Utc::now().timestamp();
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": self.private_key_id});
        let claims = serde_json::json!({"iss": self.client_email, "scope": SCOPE, "aud": self.token_uri, "iat": now, "exp": now + 3600});
        let unsigned = format!("{}.{}", b64.encode(header.to_string()), b64.encode(claims.to_string()));
        let key = key_pair(&self.private_key)
            .map_err(|reason| Error::input("storage-credentials", reason, "check the service-account key"))?;
        let mut signature = vec![0u8; key.public().modulus_len()];
        key.sign(
            &ring::signature::RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            unsigned.as_bytes(),
            &mut signature,
        )
        .map_err(|_| Error::service(&what, "signing the token request failed", "check the service-account key"))?;
        let body = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={unsigned}.{}",
            b64.encode(signature)
        );
        let response = send_with_retries(&what, net.retry, |_| {
            let request = net
                .client
                .post(&self.token_uri)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.clone());
            async move { Ok(request) }
        })
        .await?;
        let status = response.status().as_u16();
        let answer = read_bounded(response, 64 * 1024, &what).await?;
        #[derive(Deserialize)]
        struct TokenAnswer {
            access_token: Option<String>,
            error: Option<String>,
            error_description: Option<String>,
        }
        let parsed: Option<TokenAnswer> = serde_json::from_slice(&answer).ok();
        match parsed {
            Some(TokenAnswer { access_token: Some(token), .. }) if status == 200 => {
                crate::github::commands::mask_late_secret(&token);
                Ok(Secret::new(token))
            }
            other => {
                let said = match other {
                    Some(TokenAnswer { error: Some(e), error_description, .. }) => {
                        format!("HTTP {status} {e}: {}", one_line(&error_description.unwrap_or_default()))
                    }
                    _ => format!("HTTP {status}"),
                };
                Err(Error::service(
                    what,
                    format!("the service-account key was refused ({said})"),
                    "the key may be deleted or disabled: create a new key, or use `access-token=` from google-github-actions/auth",
                ))
            }
        }
    }
}

fn key_pair(pem: &Secret) -> std::result::Result<ring::rsa::KeyPair, String> {
    let body: String = pem.expose().lines().map(str::trim).filter(|l| !l.starts_with("-----")).collect();
    if !pem.expose().contains("BEGIN PRIVATE KEY") {
        return Err("has a `private_key` that is not a PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----)".into());
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| "has a `private_key` whose PEM body is not base64".to_string())?;
    ring::rsa::KeyPair::from_pkcs8(&der).map_err(|e| format!("has a `private_key` that is not a usable RSA key ({e})"))
}

pub(super) struct Client {
    http: reqwest::Client,
    endpoint: String,
    bucket: String,
    token: Secret,
    retry: RetryPolicy,
}

/// The fields of an object resource we read.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectResource {
    size: Option<String>,
    md5_hash: Option<String>,
    #[serde(default)]
    metadata: std::collections::HashMap<String, String>,
    generation: Option<String>,
    retention: Option<RetentionResource>,
}

/// An object's `retention`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RetentionResource {
    mode: Option<String>,
    retain_until_time: Option<String>,
}

impl RetentionResource {
    fn lock(&self) -> Option<Lock> {
        let until = chrono::DateTime::parse_from_rfc3339(self.retain_until_time.as_deref()?).ok()?;
        Some(Lock::reported(self.mode.as_deref()?, until.with_timezone(&chrono::Utc)))
    }
}

/// What to do about a bucket that cannot lock.
pub(super) fn retention_hint(bucket: &str) -> String {
    format!(
        "store in a bucket with object retention enabled (gcloud storage buckets create gs://{bucket} --enable-per-object-retention), grant storage.objects.setRetention, or drop storage-retain-until/storage-retention-days"
    )
}

impl Client {
    pub(super) async fn new(net: &crate::http::Net, location: &StorageLocation, auth: &Auth) -> Result<Self> {
        let token = match auth {
            Auth::AccessToken(token) => token.clone(),
            Auth::ServiceAccount(account) => account.access_token(net).await?,
        };
        Ok(Client {
            http: net.client.clone(),
            endpoint: location.endpoint.clone().unwrap_or_else(|| DEFAULT_ENDPOINT.to_string()),
            bucket: location.bucket.clone(),
            token,
            retry: net.retry,
        })
    }

    pub(super) fn object_url(&self, key: &str) -> String {
        format!("gs://{}/{key}", self.bucket)
    }

    pub(super) fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The bucket's `objectRetention`: an error when it is not `Enabled`; fine when
    /// the credentials may not read the bucket (the upload then tells).
    pub(super) async fn check_lockable(&self) -> Result<()> {
        let what = format!("reading the object retention setting of bucket `{}`", self.bucket);
        let url = format!("{}/storage/v1/b/{}", self.endpoint, self.bucket);
        let response = self.send(reqwest::Method::GET, &url, &what).await?;
        let status = response.status().as_u16();
        match status {
            200 => {
                let body = read_bounded(response, 1024 * 1024, &what).await?;
                let bucket: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
                    Error::service(&what, format!("unexpected answer: {e}"), "check the endpoint in `storage-url`")
                })?;
                if bucket.pointer("/objectRetention/mode").and_then(|m| m.as_str()) == Some("Enabled") {
                    Ok(())
                } else {
                    Err(Error::service(
                        format!("storing in bucket `{}`", self.bucket),
                        "the bucket does not have object retention enabled, so nothing stored there can be locked; nothing was uploaded",
                        retention_hint(&self.bucket),
                    ))
                }
            }
            404 => Err(self.refusal(response, &what, Asked::Bucket).await),
            _ => {
                log::debug!("{what}: HTTP {status}; the upload will tell whether the bucket can lock");
                Ok(())
            }
        }
    }

    fn metadata_url(&self, key: &str) -> String {
        format!("{}/storage/v1/b/{}/o/{}", self.endpoint, self.bucket, percent_encode(key, false))
    }

    async fn send(&self, method: reqwest::Method, url: &str, what: &str) -> Result<reqwest::Response> {
        send_with_retries(what, self.retry, |_| {
            let request = self.http.request(method.clone(), url).bearer_auth(self.token.expose());
            async move { Ok(request) }
        })
        .await
    }

    async fn object(&self, key: &str, what: &str) -> Result<Option<ObjectResource>> {
        let response = self.send(reqwest::Method::GET, &self.metadata_url(key), what).await?;
        match response.status().as_u16() {
            200 => {
                let body = read_bounded(response, 1024 * 1024, what).await?;
                serde_json::from_slice(&body).map(Some).map_err(|e| {
                    Error::service(what, format!("unexpected answer: {e}"), "check the endpoint in `storage-url`")
                })
            }
            404 => Ok(None),
            _ => Err(self.refusal(response, what, Asked::Read).await),
        }
    }

    /// Size, the md5 GCS computed, and our recorded sha256 of an object.
    pub(super) async fn lookup(&self, key: &str) -> Result<Lookup> {
        let what = format!("looking up {}", self.object_url(key));
        Ok(match self.object(key, &what).await? {
            None => Lookup::Missing,
            Some(o) => Lookup::Found(Remote {
                size: o.size.and_then(|s| s.parse().ok()).unwrap_or(0),
                // Composite objects have no md5; the caller then reads the object back.
                checksum: o.md5_hash.map(Checksum::Md5Base64),
                recorded_sha256: o.metadata.get("sha256").cloned(),
                version: o.generation,
                lock: o.retention.as_ref().and_then(RetentionResource::lock),
            }),
        })
    }

    /// Uploads the file (create-only: `ifGenerationMatch=0`); returns the answer and
    /// whether an earlier attempt broke off.
    pub(super) async fn put(
        &self,
        file: &LocalFile,
        create_only: bool,
        lock: Option<chrono::DateTime<chrono::Utc>>,
        what: &str,
    ) -> Result<(reqwest::Response, bool)> {
        let what = what.to_string();
        let mut url = format!("{}/upload/storage/v1/b/{}/o?uploadType=multipart", self.endpoint, self.bucket);
        if create_only {
            url.push_str("&ifGenerationMatch=0");
        }
        let boundary = format!("release-audit-{}", random_hex());
        let mut metadata = serde_json::json!({
            "name": file.key,
            "contentType": file.content_type,
            "md5Hash": file.md5_base64,
            "metadata": {"sha256": file.sha256_hex},
        });
        if let Some(until) = lock {
            metadata["retention"] = serde_json::json!({
                "mode": "Locked",
                "retainUntilTime": until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            });
        }
        let before = format!("--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{metadata}\r\n--{boundary}\r\nContent-Type: {}\r\n\r\n", file.content_type).into_bytes();
        let after = format!("\r\n--{boundary}--\r\n").into_bytes();
        let length = before.len() as u64 + file.size + after.len() as u64;
        let mut retried = false;
        let response = send_with_retries(&what, self.retry, |attempt| {
            retried = attempt > 1;
            let request = self
                .http
                .post(&url)
                .bearer_auth(self.token.expose())
                .header("content-type", format!("multipart/related; boundary={boundary}"))
                .header("content-length", length);
            let (before, after, what) = (before.clone(), after.clone(), what.clone());
            async move { Ok(request.body(file_body(&file.path, before, after, &what).await?)) }
        })
        .await?;
        Ok((response, retried))
    }

    pub(super) async fn get(&self, key: &str, what: &str) -> Result<reqwest::Response> {
        self.send(reqwest::Method::GET, &format!("{}?alt=media", self.metadata_url(key)), what).await
    }

    pub(super) async fn remove(&self, key: &str, what: &str) -> Result<reqwest::Response> {
        self.send(reqwest::Method::DELETE, &self.metadata_url(key), what).await
    }

    /// Turns a GCS error answer to what was `asked` into an error that says what to do:
    /// by status, GCS's `error.errors[].reason` and the request — never by the wording of
    /// its message. GCS gives one reason for several causes (`notFound` for a missing
    /// bucket or object, `forbidden` for a missing permission or an object under
    /// retention), so where the request leaves more than one open, the error names each.
    pub(super) async fn refusal(&self, response: reqwest::Response, what: &str, asked: Asked) -> Error {
        let status = response.status().as_u16();
        let body = read_bounded(response, 64 * 1024, what)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let parsed = serde_json::from_str::<serde_json::Value>(&body).ok();
        let message = parsed
            .as_ref()
            .and_then(|v| v.pointer("/error/message").and_then(|m| m.as_str()).map(one_line))
            .unwrap_or_else(|| one_line(&body));
        let code = parsed
            .as_ref()
            .and_then(|v| v.pointer("/error/errors/0/reason").and_then(|r| r.as_str()))
            .unwrap_or_default()
            .to_string();
        let said = match (message.is_empty(), code.is_empty()) {
            (true, _) => format!("HTTP {status}"),
            (false, true) => format!("HTTP {status}: {message}"),
            (false, false) => format!("HTTP {status} {code}: {message}"),
        };
        let (reason, hint) = explain(&self.bucket, status, asked, &said);
        Error::refused(what, crate::error::Refusal::new(status, &code).with_message(&message), reason, hint)
    }
}

/// The reason and hint of a GCS refusal of what was `asked` (`said`: the service's
/// status, reason and message, quoted).
fn explain(bucket: &str, status: u16, asked: Asked, said: &str) -> (String, String) {
    let gone = "publish under another release-version or bundle-name: an object under retention stays until its retention ends";
    match (status, asked) {
        (404, Asked::Read | Asked::Delete) => (
            format!("the object or bucket `{bucket}` does not exist ({said})"),
            "check the bucket's name in `storage-url`; if it is right, the object was removed meanwhile: run the step again".into(),
        ),
        (404, _) => (format!("bucket `{bucket}` does not exist ({said})"), "create the bucket, or fix its name in `storage-url`".into()),
        (401, _) => (
            format!("the credentials were refused ({said})"),
            "the access token is invalid or expired (tokens from google-github-actions/auth live one hour); check `storage-credentials`".into(),
        ),
        (403, Asked::Upload { locked, replacing }) => {
            let mut causes = vec![if locked {
                "the account may not create objects or set their retention".to_string()
            } else {
                "the account may not create objects".to_string()
            }];
            if replacing {
                causes.push("the object there is under retention and cannot be replaced before it ends".into());
            }
            let permissions = if locked {
                format!("grant the account storage.objects.create, storage.objects.get and storage.objects.setRetention on gs://{bucket} (e.g. roles/storage.objectAdmin), or drop storage-retain-until/storage-retention-days")
            } else {
                format!("grant the account storage.objects.create and storage.objects.get on gs://{bucket} (e.g. roles/storage.objectUser; replacing with overwrite also needs storage.objects.delete)")
            };
            let hint = if replacing { format!("{permissions}; {gone}") } else { permissions };
            (format!("access denied ({said}): {}", causes.join(", or ")), hint)
        }
        (403, Asked::Delete) => (
            format!("access denied ({said}): the account may not delete objects, or the object is under retention and cannot be deleted before it ends"),
            format!("grant the account storage.objects.delete on gs://{bucket}; {gone}"),
        ),
        (403, _) => (
            format!("access denied ({said})"),
            format!("grant the account storage.objects.get and storage.objects.list on gs://{bucket} (e.g. roles/storage.objectViewer)"),
        ),
        (412, _) => ("the object already exists (it appeared while this step ran); nothing was replaced".into(), "set `overwrite: true` to replace it".into()),
        (400, Asked::Upload { locked: true, .. }) => (
            format!("GCS refused the locked upload ({said}): the bucket cannot keep the object under the retention asked for, or the bytes it received do not match the md5 that was sent"),
            format!("{}; if the bucket can, the upload was damaged on the way (a proxy or the network): run the step again", retention_hint(bucket)),
        ),
        (400, Asked::Upload { locked: false, .. }) => (
            format!("GCS refused the upload ({said}): the bytes it received may not match the md5 that was sent"),
            "the upload was damaged on the way (a proxy or the network): run the step again; if it persists, check the endpoint in `storage-url`".into(),
        ),
        _ => (said.to_string(), "try again later; if it persists, check the endpoint and the bucket's settings".into()),
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    let _ = getrandom::fill(&mut bytes);
    hex::encode(bytes)
}

/// A page of `objects.list`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectList {
    #[serde(default)]
    items: Vec<ListedResource>,
    next_page_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListedResource {
    name: String,
    size: Option<String>,
    generation: Option<String>,
    time_created: Option<String>,
}

/// Listing, for `release-audit archive` (kept apart from the upload path).
impl Client {
    /// One page of `objects.list` under `prefix`: the objects and the next page token.
    pub(super) async fn list_page(
        &self,
        prefix: &str,
        token: Option<&str>,
        what: &str,
    ) -> Result<(Vec<super::read::Listed>, Option<String>)> {
        let mut url = format!(
            "{}/storage/v1/b/{}/o?maxResults=1000&prefix={}",
            self.endpoint,
            self.bucket,
            percent_encode(prefix, false)
        );
        if let Some(token) = token {
            url.push_str(&format!("&pageToken={}", percent_encode(token, false)));
        }
        let response = self.send(reqwest::Method::GET, &url, what).await?;
        if !response.status().is_success() {
            return Err(self.refusal(response, what, Asked::Bucket).await);
        }
        let body = read_bounded(response, 16 * 1024 * 1024, what).await?;
        let list: ObjectList = serde_json::from_slice(&body).map_err(|e| {
            Error::service(what, format!("unexpected listing: {e}"), "check the endpoint in `storage-url`")
        })?;
        let objects = list
            .items
            .into_iter()
            .map(|o| super::read::Listed {
                key: o.name,
                size: o.size.and_then(|s| s.parse().ok()).unwrap_or(0),
                version: o.generation.unwrap_or_default(),
                stored_at: o.time_created.unwrap_or_default(),
            })
            .collect();
        Ok((objects, list.next_page_token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One reason, several causes: what the error names follows from the status and the
    /// request alone (the quoted answer is the same in every row, and quoted).
    #[test]
    fn refusals_follow_from_status_and_request_not_from_the_message() {
        let said = "HTTP 403 forbidden: anything at all";
        let upload = |locked, replacing| Asked::Upload { locked, replacing };
        for (status, asked, says, hint_says, never) in [
            (404, Asked::Read, "the object or bucket `b` does not exist", "check the bucket's name", None),
            (404, Asked::Delete, "the object or bucket `b` does not exist", "removed meanwhile", None),
            (404, upload(false, false), "bucket `b` does not exist", "create the bucket", Some("object")),
            (404, Asked::Bucket, "bucket `b` does not exist", "create the bucket", Some("object")),
            (403, upload(false, false), "may not create objects", "storage.objects.create", Some("retention")),
            (
                403,
                upload(true, false),
                "may not create objects or set their retention",
                "setRetention",
                Some("under retention"),
            ),
            (403, upload(true, true), "or the object there is under retention", "another release-version", None),
            (
                403,
                upload(false, true),
                "or the object there is under retention",
                "storage.objects.delete",
                Some("setRetention"),
            ),
            (403, Asked::Delete, "or the object is under retention", "storage.objects.delete", Some("setRetention")),
            (403, Asked::Read, "access denied", "storage.objects.get", Some("retention")),
            (
                400,
                upload(true, false),
                "cannot keep the object under the retention asked for, or the bytes",
                "--enable-per-object-retention",
                None,
            ),
            (400, upload(false, false), "may not match the md5", "damaged on the way", Some("retention")),
        ] {
            let (reason, hint) = explain("b", status, asked, said);
            assert!(reason.contains(says) && reason.contains(said), "{status} {asked:?}: {reason}");
            assert!(hint.contains(hint_says), "{status} {asked:?}: {hint}");
            assert!(never.is_none_or(|n| !reason.contains(n)), "{status} {asked:?}: {reason}");
        }
        let (reason, hint) = explain("b", 412, upload(false, false), said);
        assert!(reason.contains("already exists") && hint.contains("overwrite"), "{reason} {hint}");
    }

    #[test]
    fn service_account_keys_must_be_usable_before_anything_is_sent() {
        let pairs = |v: &str| vec![("service-account-json".to_string(), Secret::new(v))];
        for (value, says) in [
            ("not base64 !", "neither JSON nor base64"),
            ("{\"type\":\"authorized_user\"}", "not a service-account key"),
            ("{\"type\":\"service_account\",\"private_key\":\"x\"}", "no `client_email`"),
            (
                "{\"type\":\"service_account\",\"client_email\":\"a@b\",\"private_key\":\"-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n\"}",
                "not a usable RSA key",
            ),
            (
                "{\"type\":\"service_account\",\"client_email\":\"a@b\",\"private_key\":\"k\",\"token_uri\":\"http://evil.example/token\"}",
                "not https",
            ),
        ] {
            let err = Auth::from_pairs(pairs(value)).unwrap_err().to_string();
            assert!(err.starts_with("input `storage-credentials`") && err.contains(says), "{value}: {err}");
        }
    }
}
