//! Object storage (`gs://`, `s3://`): keeps the bundle after the workflow artifact
//! has expired (90 days, 400 for private repositories; audits need 12 months and more).
//!
//! The bundle zip and its `SHA256SUMS` are stored side by side as
//! `<prefix><owner>/<repo>/<version>/<bundle-name>.zip` and `….SHA256SUMS`, so the
//! bucket holds the same pair a release carries and an auditor can read the file list
//! without unpacking. The contract, for both services:
//!
//! - **Never replace by accident.** Without `overwrite`, both keys are looked up
//!   before a byte is sent, and every upload is a conditional create (S3
//!   `If-None-Match: *`, GCS `ifGenerationMatch=0`): a concurrent writer makes us fail,
//!   it never makes us replace its object.
//! - **Stream from disk.** One request per object with a `Content-Length`, the body
//!   read from the file as it is sent; memory does not grow with the bundle.
//! - **Verify what was stored**, with a checksum the service computed, not the one we
//!   sent: S3 gets the sha256 as `x-amz-checksum-sha256` and as the signed payload
//!   hash (it refuses a body that does not match), and a `HEAD` with checksum mode
//!   afterwards must return that sha256 and our size; a store that keeps no checksum
//!   (some S3-compatible servers) is read back and hashed instead. GCS gets the md5 in
//!   the object metadata (it refuses a mismatch) and the stored object's `md5Hash`
//!   and `size` must equal ours. A stored object that fails the check is deleted.
//! - **Nothing partial counts.** Single-request uploads are atomic on both services: a
//!   request that breaks off leaves no object. Only verified objects are returned.
//!
//! - **Locked when asked.** With a retention date (`storage-retain-until` or
//!   `storage-retention-days`), every object is uploaded under write-once retention
//!   until that date: S3 Object Lock in `COMPLIANCE` mode (the PUT carries
//!   `x-amz-object-lock-mode`, `x-amz-object-lock-retain-until-date` and a
//!   `Content-MD5` besides its sha256 checksum), GCS object retention
//!   (`retention: {mode: Locked, retainUntilTime}` in the upload's metadata). The
//!   bucket's setting is looked at first where the credentials may read it, and the
//!   lock of every stored object is read back: a bucket that cannot lock is an error
//!   naming the setting, and an object the store kept without the lock is removed
//!   again and is an error, never a silent unlocked copy.
//!
//! Both services are spoken to through their HTTP APIs with the tool's one reqwest
//! client: `object_store` would add ~25 crates and cannot stream a file into a
//! conditional create (its conditional put takes the payload in memory, its
//! multipart upload has no create-only mode), nor expose the stored checksum.
//!
//! Settings come from two inputs. `storage-url` says where, with the non-secret
//! options in its query: `s3://bucket/prefix/?region=eu-central-1&endpoint=https://…`
//! (region default `us-east-1`; an endpoint means an S3-compatible store, addressed
//! path-style), `gs://bucket/prefix/?endpoint=http://127.0.0.1:4443`. Plain http is
//! accepted for loopback endpoints only. `storage-credentials` holds only secrets, one
//! `key=value` per line, every value masked:
//!
//! | scheme | keys |
//! |---|---|
//! | `gs://` | `access-token=<OAuth 2 token>` (google-github-actions/auth with `token_format: access_token`), or `service-account-json=<key file>` as one line of base64 (`base64 -w0 key.json`) or one-line JSON |
//! | `s3://` | `access-key-id=…`, `secret-access-key=…`, and `session-token=…` for temporary credentials (aws-actions/configure-aws-credentials exports all three) |

mod gcs;
pub mod read;
mod s3;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use sha2::Digest;

use crate::bundle::ZippedBundle;
use crate::error::{Error, Result};
use crate::http::{Net, Progress, without_url};
use crate::secret::Secret;

/// Keys `storage-credentials` accepts for `gs://`.
pub const CREDENTIAL_KEYS_GCS: &[&str] = &["access-token", "service-account-json"];
/// Keys `storage-credentials` accepts for `s3://`.
pub const CREDENTIAL_KEYS_S3: &[&str] = &["access-key-id", "secret-access-key", "session-token"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Gcs,
    S3,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Gcs => "gs",
            Scheme::S3 => "s3",
        }
    }
}

/// Where objects go: a bucket, a key prefix, and the service options from the URL query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageLocation {
    pub scheme: Scheme,
    pub bucket: String,
    /// Empty, or `a/b/` (no leading slash, one trailing slash, no `.`/`..` segments).
    pub prefix: String,
    /// Service base URL when not the public cloud (an emulator, MinIO, a private endpoint).
    pub endpoint: Option<String>,
    /// S3 only: the bucket's region (default `us-east-1`).
    pub region: Option<String>,
    /// A key template with `{owner}`, `{repo}`, `{version}`, `{bundle}` placeholders
    /// (e.g. `{repo}_{version}.zip`) that replaces the default layout; `prefix` is
    /// then empty.
    pub template: Option<String>,
}

impl StorageLocation {
    /// The `gs://bucket/key` or `s3://bucket/key` URL of an object, as outputs show it.
    pub fn object_url(&self, key: &str) -> String {
        format!("{}://{}/{key}", self.scheme.as_str(), self.bucket)
    }

    /// The cloud console page of an object, for the job summary; `None` for a custom
    /// endpoint, whose console we do not know.
    pub fn console_url(&self, key: &str) -> Option<String> {
        if self.endpoint.is_some() {
            return None;
        }
        Some(match self.scheme {
            Scheme::Gcs => format!(
                "https://console.cloud.google.com/storage/browser/_details/{}/{}",
                self.bucket,
                percent_encode(key, true)
            ),
            Scheme::S3 => {
                let region = self.region.as_deref().unwrap_or("us-east-1");
                format!(
                    "https://{region}.console.aws.amazon.com/s3/object/{}?region={region}&prefix={}",
                    self.bucket,
                    percent_encode(key, false)
                )
            }
        })
    }
}

/// The credentials of one service, parsed and checked once.
#[derive(Debug, Clone)]
enum Credentials {
    Gcs(gcs::Auth),
    S3(s3::Keys),
}

/// The validated `storage-url` + `storage-credentials`.
#[derive(Debug, Clone)]
pub struct StorageSettings {
    pub location: StorageLocation,
    credentials: Credentials,
    /// Store every object under write-once retention until then (S3 Object Lock in
    /// compliance mode, GCS object retention `Locked`).
    pub retain_until: Option<DateTime<Utc>>,
}

impl StorageSettings {
    /// Settings for `location` with the checked `key=value` credential pairs of its scheme.
    pub fn new(location: StorageLocation, pairs: Vec<(String, Secret)>) -> Result<Self> {
        let credentials = match location.scheme {
            Scheme::Gcs => Credentials::Gcs(gcs::Auth::from_pairs(pairs)?),
            Scheme::S3 => Credentials::S3(s3::Keys::from_pairs(pairs)?),
        };
        Ok(StorageSettings { location, credentials, retain_until: None })
    }

    /// The same settings, storing every object under write-once retention until `until`.
    pub fn locked_until(self, until: DateTime<Utc>) -> Self {
        StorageSettings { retain_until: Some(until), ..self }
    }

    /// Every secret value in the settings, for `::add-mask::` before anything is logged.
    pub fn secrets(&self) -> Vec<&Secret> {
        match &self.credentials {
            Credentials::Gcs(auth) => auth.secrets(),
            Credentials::S3(keys) => keys.secrets(),
        }
    }
}

/// What to store: the bundle zip, its SHA256SUMS, and the facts that make the keys.
#[derive(Debug, Clone, Copy)]
pub struct StoreRequest<'a> {
    pub bundle: &'a ZippedBundle,
    pub sums_path: &'a Path,
    /// `owner/repo` (`GITHUB_REPOSITORY`).
    pub repository: &'a str,
    pub version: &'a str,
    pub bundle_name: &'a str,
    /// Replace existing objects instead of refusing.
    pub overwrite: bool,
    /// More files stored beside the zip, after it and its sums, the same way (locked
    /// when the zip is), e.g. the zip's Sigstore bundle.
    pub extra_files: &'a [ExtraFile],
}

/// A file stored beside the zip, under the zip's key with `.zip` replaced by `suffix`
/// (`<bundle-name>.sigstore.json` for the suffix `.sigstore.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraFile {
    pub path: PathBuf,
    /// Starts with `.`; letters, digits, `.`, `-`, `_` only.
    pub suffix: String,
    pub content_type: &'static str,
}

/// The write-once lock on a stored object, as the service reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Lock {
    /// `COMPLIANCE` (S3 Object Lock) or `Locked` (GCS object retention), as the
    /// service names it.
    pub mode: String,
    /// Until when the object can be neither deleted nor replaced.
    pub retain_until: DateTime<Utc>,
}

impl Lock {
    /// A lock as a service reports it; the mode is outside text, kept to 32 plain
    /// characters.
    pub(crate) fn reported(mode: &str, retain_until: DateTime<Utc>) -> Self {
        let mode = mode.trim().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(32).collect();
        Lock { mode, retain_until }
    }

    /// Whether this is the mode nobody can lift (S3 compliance, GCS locked).
    pub fn is_write_once(&self) -> bool {
        matches!(self.mode.as_str(), "COMPLIANCE" | "Locked")
    }
}

/// One object that was stored and verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// `gs://bucket/key` or `s3://bucket/key` (the `storage-urls` output).
    pub url: String,
    pub key: String,
    pub size: u64,
    pub sha256: String,
    /// The object's page in the cloud console (none for a custom endpoint).
    pub console_url: Option<String>,
    /// The stored version: S3's `versionId`, GCS's `generation` (when the store says).
    pub version: Option<String>,
    /// The lock read back from the service, when retention was asked for.
    pub lock: Option<Lock>,
}

/// A local file to upload, with the digests the services check.
#[derive(Debug, Clone)]
struct LocalFile {
    path: PathBuf,
    key: String,
    content_type: &'static str,
    size: u64,
    sha256_hex: String,
    md5_base64: String,
}

/// What a service says about a stored object.
#[derive(Debug, Clone, Default)]
struct Remote {
    size: u64,
    /// A checksum the service computed, or checked against the bytes it received:
    /// the proof of what is stored.
    checksum: Option<Checksum>,
    /// The sha256 kept with the object (S3's checksum, our GCS metadata); tells
    /// whether an existing object holds the same bundle.
    recorded_sha256: Option<String>,
    /// S3's `versionId`, GCS's `generation`.
    version: Option<String>,
    /// The retention the service reports (S3 says it only to s3:GetObjectRetention).
    lock: Option<Lock>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Checksum {
    Sha256Hex(String),
    Md5Base64(String),
}

/// The answer to a lookup.
enum Lookup {
    Found(Remote),
    Missing,
    /// The service would not say (e.g. S3 credentials that may write but not list);
    /// the error is what verification reports if it gets this.
    Unknown(Error),
}

/// What a refused request asked of the service. One error code can have several
/// causes (GCS answers `notFound` for a missing bucket and for a missing object, and
/// `forbidden` for a missing permission and for an object under retention alike; S3's
/// `InvalidRequest` covers many things), so a refusal is explained by its status, the
/// service's code and what was asked — never by the wording of the service's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    /// The bucket itself: its settings, a listing.
    Bucket,
    /// An object or its metadata, to read.
    Read,
    /// An upload: under a write-once lock when `locked`; `replacing` when it is not
    /// create-only (an object there may be in the way).
    Upload { locked: bool, replacing: bool },
    /// Removing an object.
    Delete,
}

enum Service {
    Gcs(gcs::Client),
    S3(s3::Client),
}

impl Service {
    /// The client of the settings' service (a GCS service account is exchanged for a
    /// token here).
    async fn connect(net: &Net, settings: &StorageSettings) -> Result<Self> {
        Ok(match &settings.credentials {
            Credentials::Gcs(auth) => Service::Gcs(gcs::Client::new(net, &settings.location, auth).await?),
            Credentials::S3(keys) => Service::S3(s3::Client::new(net, &settings.location, keys)),
        })
    }

    async fn lookup(&self, key: &str) -> Result<Lookup> {
        match self {
            Service::Gcs(c) => c.lookup(key).await,
            Service::S3(c) => c.lookup(key).await,
        }
    }

    fn object_url(&self, key: &str) -> String {
        match self {
            Service::Gcs(c) => c.object_url(key),
            Service::S3(c) => c.object_url(key),
        }
    }

    /// The service's own explanation of a refusal of what was `asked`, with what to do
    /// about it.
    async fn refusal(&self, response: reqwest::Response, what: &str, asked: Asked) -> Error {
        match self {
            Service::Gcs(c) => c.refusal(response, what, asked).await,
            Service::S3(c) => c.refusal(response, what, asked).await,
        }
    }

    /// Reads the object and hashes it: (size, sha256 hex).
    async fn read_back(&self, key: &str) -> Result<(u64, String)> {
        let what = format!("reading back {}", self.object_url(key));
        let response = match self {
            Service::Gcs(c) => c.get(key, &what).await?,
            Service::S3(c) => c.get(key, &what).await?,
        };
        if !response.status().is_success() {
            return Err(self.refusal(response, &what, Asked::Read).await);
        }
        hash_response(response, &what).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let what = format!("deleting {}", self.object_url(key));
        let response = match self {
            Service::Gcs(c) => c.remove(key, &what).await?,
            Service::S3(c) => c.remove(key, &what).await?,
        };
        match response.status().as_u16() {
            200..=299 | 404 => Ok(()),
            _ => Err(self.refusal(response, &what, Asked::Delete).await),
        }
    }

    /// The object, if the service says it exists.
    async fn existing(&self, key: &str) -> Result<Option<Remote>> {
        match self.lookup(key).await? {
            Lookup::Found(remote) => Ok(Some(remote)),
            Lookup::Missing => Ok(None),
            Lookup::Unknown(why) => {
                log::debug!("{why}; the conditional upload will tell whether it exists");
                Ok(None)
            }
        }
    }

    /// Uploads, create-only unless overwriting. A failed precondition after a broken
    /// attempt may be that attempt's own success (its answer got lost): the object is
    /// ours if it carries our sha256.
    async fn upload(&self, file: &LocalFile, create_only: bool, lock: Option<DateTime<Utc>>) -> Result<()> {
        let what = format!("uploading {}", self.object_url(&file.key));
        let (response, retried) = match self {
            Service::Gcs(c) => c.put(file, create_only, lock, &what).await?,
            Service::S3(c) => c.put(file, create_only, lock, &what).await?,
        };
        match response.status().as_u16() {
            200 | 201 => Ok(()),
            412 if retried
                && self
                    .existing(&file.key)
                    .await?
                    .is_some_and(|r| r.recorded_sha256.as_ref() == Some(&file.sha256_hex)) =>
            {
                Ok(())
            }
            _ => Err(self
                .refusal(response, &what, Asked::Upload { locked: lock.is_some(), replacing: !create_only })
                .await),
        }
    }

    /// Fails when the bucket's settings say it cannot lock objects; passes when they
    /// allow it, or when the credentials may not read them (the upload then tells).
    async fn check_lockable(&self) -> Result<()> {
        match self {
            Service::Gcs(c) => c.check_lockable().await,
            Service::S3(c) => c.check_lockable().await,
        }
    }

    /// The lock of a stored object: what its lookup said, else (S3 tells the lock on a
    /// `HEAD` only to s3:GetObjectRetention) asked for on its own — unless the bucket
    /// says it has no Object Lock (S3 refuses `GetObjectRetention` there).
    async fn lock_of(&self, key: &str, remote: &Remote) -> Result<Option<Lock>> {
        match (self, &remote.lock) {
            (_, Some(lock)) => Ok(Some(lock.clone())),
            (Service::S3(c), None) if c.lock_setting().await? == s3::LockSetting::Disabled => Ok(None),
            (Service::S3(c), None) => c.retention(key, remote.version.as_deref()).await,
            (Service::Gcs(_), None) => Ok(None),
        }
    }

    /// After the upload: the object must carry a write-once lock until at least
    /// `until`. The outer error: the lock could not be read (the object is kept); the
    /// inner one: it is not locked as asked.
    async fn verify_lock(&self, key: &str, until: DateTime<Utc>, url: &str) -> Result<Result<(Remote, Lock)>> {
        let remote = match self.lookup(key).await? {
            Lookup::Found(remote) => remote,
            Lookup::Missing => {
                return Ok(Err(Error::service(
                    format!("verifying the lock of {url}"),
                    "the object is not there after the upload",
                    "run the step again",
                )));
            }
            Lookup::Unknown(why) => return Err(why),
        };
        let lock = self.lock_of(key, &remote).await?;
        let bucket = self.bucket_setting_hint();
        Ok(match lock {
            Some(lock) if lock.is_write_once() && lock.retain_until >= until - chrono::Duration::seconds(1) => {
                Ok((remote, lock))
            }
            Some(lock) => Err(Error::service(
                format!("verifying the lock of {url}"),
                format!(
                    "the store keeps it locked in mode {} until {}, not write-once until {}",
                    lock.mode,
                    lock.retain_until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
                bucket,
            )),
            None => Err(Error::service(
                format!("verifying the lock of {url}"),
                "the store kept the object without the retention that was asked for (it ignored the lock)",
                bucket,
            )),
        })
    }

    fn bucket_setting_hint(&self) -> String {
        match self {
            Service::Gcs(c) => gcs::retention_hint(c.bucket()),
            Service::S3(c) => s3::object_lock_hint(c.bucket()),
        }
    }

    /// The stored object must have our size and a service-computed checksum equal to
    /// ours; where the service keeps none, the object is read back and hashed. The
    /// outer error: it could not be looked at (the object may well be right); the
    /// inner one: it is not what was uploaded.
    async fn verify(&self, file: &LocalFile, url: &str) -> Result<Result<Option<String>>> {
        let remote = match self.lookup(&file.key).await? {
            Lookup::Found(remote) => remote,
            Lookup::Missing => {
                return Ok(Err(Error::service(
                    format!("verifying {url}"),
                    "the object is not there after the upload",
                    "run the step again",
                )));
            }
            Lookup::Unknown(why) => return Err(why),
        };
        let mismatch = |what: &str, stored: &str, expected: &str| {
            Error::service(
                format!("verifying {url}"),
                format!("the stored object's {what} is {stored}, expected {expected}"),
                "the upload was damaged on the way (a proxy or the network); run the step again",
            )
        };
        if remote.size != file.size {
            return Ok(Err(mismatch("size", &remote.size.to_string(), &file.size.to_string())));
        }
        let version = remote.version.clone();
        Ok(match remote.checksum {
            Some(Checksum::Sha256Hex(stored)) if stored != file.sha256_hex => {
                Err(mismatch("sha256", &stored, &file.sha256_hex))
            }
            Some(Checksum::Md5Base64(stored)) if stored != file.md5_base64 => {
                Err(mismatch("md5", &stored, &file.md5_base64))
            }
            Some(_) => Ok(version),
            None => {
                log::info!("{url}: the store keeps no checksum; reading the object back to verify it");
                let (size, sha256) = self.read_back(&file.key).await?;
                if size != file.size {
                    Err(mismatch("size", &size.to_string(), &file.size.to_string()))
                } else if sha256 != file.sha256_hex {
                    Err(mismatch("sha256", &sha256, &file.sha256_hex))
                } else {
                    Ok(version)
                }
            }
        })
    }
}

/// Why a release's facts cannot make an object key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The repository is not `owner/repo` of plain characters.
    Repository,
    /// The version has characters an object key cannot carry literally (e.g. `+`).
    Version,
    /// The bundle name has characters an object key cannot carry literally.
    BundleName,
}

/// The object keys of the bundle zip and its SHA256SUMS: by default
/// `<prefix><owner>/<repo>/<version>/<bundle>.zip` and `….SHA256SUMS`; with a template
/// (`{owner}`, `{repo}`, `{version}`, `{bundle}`), the template with those filled in —
/// ending in `/` it is a prefix for `<bundle>.zip`, else the zip's own key (`.zip`
/// added when missing), and the sums file is the zip key with `.SHA256SUMS` for `.zip`.
pub fn object_keys(
    location: &StorageLocation,
    repository: &str,
    version: &str,
    bundle_name: &str,
) -> std::result::Result<(String, String), KeyError> {
    let sane = |s: &str| {
        !s.is_empty() && s != "." && s != ".." && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    let (owner, repo) = repository.split_once('/').filter(|(o, r)| sane(o) && sane(r)).ok_or(KeyError::Repository)?;
    if !sane(version) {
        return Err(KeyError::Version);
    }
    if !sane(bundle_name) {
        return Err(KeyError::BundleName);
    }
    let zip = match &location.template {
        None => format!("{}{repository}/{version}/{bundle_name}.zip", location.prefix),
        Some(template) => {
            let filled = template
                .replace("{owner}", owner)
                .replace("{repo}", repo)
                .replace("{version}", version)
                .replace("{bundle}", bundle_name);
            if filled.ends_with('/') {
                format!("{filled}{bundle_name}.zip")
            } else if filled.ends_with(".zip") {
                filled
            } else {
                format!("{filled}.zip")
            }
        }
    };
    let sums = format!("{}.SHA256SUMS", zip.strip_suffix(".zip").unwrap_or(&zip));
    Ok((zip, sums))
}

/// Stores the bundle zip, its SHA256SUMS and the extra files, verifies each (and its
/// lock, with retention), and returns them in that order. Nothing is returned unless
/// all are stored and verified; the error says what, if anything, was stored.
pub async fn store(net: &Net, settings: &StorageSettings, request: &StoreRequest<'_>) -> Result<Vec<StoredObject>> {
    let location = &settings.location;
    let (zip_key, sums_key) =
        object_keys(location, request.repository, request.version, request.bundle_name).map_err(|e| {
            Error::evidence(
                "object key",
                format!("{e:?} cannot be part of an object key"),
                "report this as a bug: the input seam checks it",
            )
        })?;
    let zip = local_file(request.bundle.path.clone(), zip_key.clone(), "application/zip").await?;
    if zip.sha256_hex != request.bundle.sha256 || zip.size != request.bundle.size {
        return Err(Error::evidence(
            request.bundle.path.display().to_string(),
            "changed on disk after it was written (its sha256 or size differs from the bundle's)",
            "nothing may modify the bundle between writing and publishing; run the step again",
        ));
    }
    let sums = local_file(request.sums_path.to_path_buf(), sums_key, "text/plain; charset=utf-8").await?;
    let mut files = vec![zip, sums];
    for extra in request.extra_files {
        files.push(local_file(extra.path.clone(), extra_key(&zip_key, &extra.suffix)?, extra.content_type).await?);
    }

    let service = Service::connect(net, settings).await?;
    if settings.retain_until.is_some() {
        service.check_lockable().await?;
    }

    if !request.overwrite {
        for file in &files {
            if let Some(remote) = service.existing(&file.key).await? {
                return Err(already_exists(location, file, &remote));
            }
        }
    }

    store_all(&service, location, &files, request.overwrite, settings.retain_until).await
}

/// Stores and verifies `files` in order (see [`store_one`]); on an error, removes again
/// what this call stored.
async fn store_all(
    service: &Service,
    location: &StorageLocation,
    files: &[LocalFile],
    overwrite: bool,
    retain_until: Option<DateTime<Utc>>,
) -> Result<Vec<StoredObject>> {
    let mut stored: Vec<StoredObject> = Vec::new();
    for file in files {
        let url = location.object_url(&file.key);
        match store_one(service, file, &url, overwrite, retain_until).await {
            Ok((version, lock)) => {
                log::info!("stored {url} ({} bytes, sha256 {}), verified", file.size, file.sha256_hex);
                if let Some(lock) = &lock {
                    log::info!(
                        "{url} is locked ({}) until {}",
                        lock.mode,
                        lock.retain_until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    );
                }
                stored.push(StoredObject {
                    url,
                    key: file.key.clone(),
                    size: file.size,
                    sha256: file.sha256_hex.clone(),
                    console_url: location.console_url(&file.key),
                    version,
                    lock,
                });
            }
            Err(e) => return Err(undo_partial(service, &stored, &url, overwrite, e).await),
        }
    }
    Ok(stored)
}

/// The keys a bundle of this release was stored under (zip, sums), for reading back what
/// an audit stored: a release that makes no key cannot have been stored.
fn stored_keys(
    location: &StorageLocation,
    repository: &str,
    version: &str,
    bundle_name: &str,
) -> Result<(String, String)> {
    object_keys(location, repository, version, bundle_name).map_err(|e| {
        Error::evidence(
            "the bundle's release",
            format!("{e:?} cannot be part of an object key, so the bundle cannot have been stored"),
            "check that this is the bundle that was stored",
        )
    })
}

/// What [`store_beside`] stores beside a zip an audit stored earlier.
#[derive(Debug, Clone, Copy)]
pub struct BesideRequest<'a> {
    /// `owner/repo`, version and bundle name the zip was stored under (the bundle's
    /// manifest says them).
    pub repository: &'a str,
    pub version: &'a str,
    pub bundle_name: &'a str,
    /// The sha256 (hex) of the zip the files belong to: the stored zip must be it.
    pub zip_sha256: &'a str,
    /// Replace existing objects of the files' names instead of refusing.
    pub overwrite: bool,
    pub files: &'a [ExtraFile],
}

/// Stores files beside a zip that an audit stored before (`attach` with `storage-url`:
/// the Sigstore bundles made after the audit step). The stored zip must hold exactly
/// `zip_sha256` — by the sha256 checksum the store keeps, else by reading it back —
/// or nothing is stored. Each file goes under the zip's key with its suffix, under the
/// zip's write-once lock: until `settings.retain_until` when given, else until the
/// zip's own lock ends (read from the store). Returns the files stored and verified,
/// their locks read back; on an error, nothing of them stays (as [`store`]).
pub async fn store_beside(
    net: &Net,
    settings: &StorageSettings,
    request: &BesideRequest<'_>,
) -> Result<Vec<StoredObject>> {
    let location = &settings.location;
    let (zip_key, _) = stored_keys(location, request.repository, request.version, request.bundle_name)?;
    let mut files = Vec::new();
    for extra in request.files {
        files.push(local_file(extra.path.clone(), extra_key(&zip_key, &extra.suffix)?, extra.content_type).await?);
    }
    let service = Service::connect(net, settings).await?;
    let zip_url = location.object_url(&zip_key);
    let remote = match service.lookup(&zip_key).await? {
        Lookup::Found(remote) => remote,
        Lookup::Missing => {
            return Err(Error::service(
                format!("storing beside {zip_url}"),
                "no bundle zip is stored there; nothing was stored",
                "give this step the same `storage-url` as the audit step (the key comes from the bundle's repository, version and name), after that step stored the bundle",
            ));
        }
        Lookup::Unknown(why) => return Err(why),
    };
    let stored_sha256 = match &remote.checksum {
        Some(Checksum::Sha256Hex(sha256)) => sha256.clone(),
        _ => service.read_back(&zip_key).await?.1,
    };
    if stored_sha256 != request.zip_sha256 {
        return Err(Error::evidence(
            &zip_url,
            format!(
                "holds other bytes (sha256 {stored_sha256}) than the verified bundle (sha256 {}); nothing was stored beside it",
                request.zip_sha256
            ),
            "the stored zip is not this bundle: check `storage-url` and `bundle-name`; the signatures belong beside the zip they sign",
        ));
    }
    let retain_until = match settings.retain_until {
        Some(until) => {
            service.check_lockable().await?;
            Some(until)
        }
        None => service
            .lock_of(&zip_key, &remote)
            .await?
            .filter(|l| l.is_write_once() && l.retain_until > Utc::now())
            .map(|l| l.retain_until),
    };
    if let Some(until) = retain_until {
        log::info!(
            "storing beside {zip_url} locked until {}",
            until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
    if !request.overwrite {
        for file in &files {
            if let Some(remote) = service.existing(&file.key).await? {
                return Err(already_exists(location, file, &remote));
            }
        }
    }
    store_all(&service, location, &files, request.overwrite, retain_until).await
}

/// One stored object as found now (`verify --online`): read back and hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundObject {
    pub size: u64,
    /// Of the bytes read back, not of a checksum the store keeps.
    pub sha256: String,
    pub version: Option<String>,
    pub lock: Option<Lock>,
}

/// Suffixes of the files [`beside_the_zip`] stores, for `verify --online` to look for.
pub const EXTRA_SUFFIXES: &[&str] = &[".sigstore.json", ".vsa.sigstore.json"];

/// The objects the store holds for a release, each read back and hashed, with its
/// lock: the zip, its sums, then each of [`EXTRA_SUFFIXES`], as (URL, suffix, the
/// object or `None` when it is not there). Keys as [`store`] writes them.
#[allow(clippy::type_complexity)]
pub async fn inspect(
    net: &Net,
    settings: &StorageSettings,
    repository: &str,
    version: &str,
    bundle_name: &str,
) -> Result<Vec<(String, &'static str, Option<FoundObject>)>> {
    let location = &settings.location;
    let (zip_key, sums_key) = stored_keys(location, repository, version, bundle_name)?;
    let service = Service::connect(net, settings).await?;
    let mut keys = vec![(zip_key.clone(), ".zip"), (sums_key, ".SHA256SUMS")];
    for suffix in EXTRA_SUFFIXES {
        keys.push((extra_key(&zip_key, suffix)?, suffix));
    }
    let mut found = Vec::new();
    for (key, suffix) in keys {
        let url = location.object_url(&key);
        let remote = match service.lookup(&key).await? {
            Lookup::Found(remote) => remote,
            Lookup::Missing => {
                found.push((url, suffix, None));
                continue;
            }
            Lookup::Unknown(why) => return Err(why),
        };
        let lock = service.lock_of(&key, &remote).await?;
        let (size, sha256) = service.read_back(&key).await?;
        found.push((url, suffix, Some(FoundObject { size, sha256, version: remote.version, lock })));
    }
    Ok(found)
}

/// The key of an extra file: the zip's key with `.zip` replaced by its suffix.
fn extra_key(zip_key: &str, suffix: &str) -> Result<String> {
    let plain = suffix.len() > 1
        && suffix.starts_with('.')
        && suffix.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && suffix != ".zip"
        && suffix != ".SHA256SUMS";
    if !plain {
        return Err(Error::evidence(
            "object key",
            format!("`{}` cannot end an object key beside the zip", suffix.escape_debug()),
            "report this as a bug: extra files are named by the tool",
        ));
    }
    Ok(format!("{}{suffix}", zip_key.strip_suffix(".zip").unwrap_or(zip_key)))
}

/// Uploads one file, verifies its content and, when asked, its lock: (version, lock).
async fn store_one(
    service: &Service,
    file: &LocalFile,
    url: &str,
    overwrite: bool,
    retain_until: Option<DateTime<Utc>>,
) -> Result<(Option<String>, Option<Lock>)> {
    service.upload(file, !overwrite, retain_until).await?;
    let (version, damaged) = match service.verify(file, url).await {
        Ok(Ok(version)) => (version, None),
        Ok(Err(e)) => (None, Some(e)),
        // It could not be looked at: the store accepted the upload (its checksum
        // and signed payload hash were checked on the way in), so the object is
        // kept — deleting it could destroy the only good copy.
        Err(e) => {
            let hint = e.hint().to_string();
            return Err(Error::service(
                format!("verifying {url}"),
                format!(
                    "the object was stored but could not be read back to verify it ({}); it was kept",
                    reason_of(&e)
                ),
                hint,
            ));
        }
    };
    let (version, lock, wrong) = match (damaged, retain_until) {
        (Some(e), _) => (None, None, Some(e)),
        (None, None) => (version, None, None),
        (None, Some(until)) => match service.verify_lock(&file.key, until, url).await {
            Ok(Ok((remote, lock))) => (remote.version, Some(lock), None),
            Ok(Err(e)) => (None, None, Some(e)),
            Err(e) => {
                let hint = e.hint().to_string();
                return Err(Error::service(
                    format!("verifying the lock of {url}"),
                    format!(
                        "the object was stored but its lock could not be read back ({}); it was kept",
                        reason_of(&e)
                    ),
                    hint,
                ));
            }
        },
    };
    // A damaged or unlocked object must not stay under the name: it would look stored.
    if let Some(e) = wrong {
        let cleanup = match service.delete(&file.key).await {
            Ok(()) => "it was deleted".to_string(),
            Err(d) => format!("deleting it failed too, delete it by hand: {d}"),
        };
        let hint = e.hint().to_string();
        let what = match &e {
            Error::Service { service, .. } => service.clone(),
            _ => format!("verifying {url}"),
        };
        return Err(Error::service(what, format!("{}; {cleanup}", reason_of(&e)), hint));
    }
    Ok((version, lock))
}

/// Half a set blocks every re-run (the zip exists, a new bundle differs): the object
/// this step created before `failed` is removed again (a locked one cannot be; the
/// error says so).
async fn undo_partial(service: &Service, stored: &[StoredObject], url: &str, overwrite: bool, e: Error) -> Error {
    if stored.is_empty() {
        return e;
    }
    let mut left = Vec::new();
    for StoredObject { url: done, key, lock: locked, .. } in stored {
        left.push(if overwrite {
            format!("{done} was stored and replaced what was there")
        } else {
            match service.delete(key).await {
                Ok(()) if locked.is_some() => format!(
                    "{done} was stored, and removed again so that a re-run can store the set (a locked version stays in the bucket's history until its lock ends)"
                ),
                Ok(()) => format!("{done} was stored, and removed again so that a re-run can store the set"),
                Err(d) => format!(
                    "{done} was stored and could not be removed again ({}); delete it before a re-run",
                    reason_of(&d)
                ),
            }
        });
    }
    let hint = e.hint().to_string();
    Error::service(format!("storing {url}"), format!("{} ({})", reason_of(&e), left.join("; ")), hint)
}

/// The files beside the zip that are stored with it when present:
/// `<bundle-name>.sigstore.json` and `<bundle-name>.vsa.sigstore.json` (the Sigstore
/// bundles of the zip and of its VSA, from actions/attest).
pub fn beside_the_zip(zip: &Path, bundle_name: &str) -> Vec<ExtraFile> {
    EXTRA_SUFFIXES
        .iter()
        .map(|suffix| ExtraFile {
            path: zip.with_file_name(format!("{bundle_name}{suffix}")),
            suffix: suffix.to_string(),
            content_type: "application/json",
        })
        .filter(|f| f.path.is_file())
        .collect()
}

/// The `storage-locks` output: each stored object's URL, version and lock as the
/// service reported it, as a JSON array.
pub fn locks_json(stored: &[StoredObject]) -> String {
    let rows: Vec<serde_json::Value> = stored
        .iter()
        .map(|o| {
            serde_json::json!({
                "url": o.url,
                "version": o.version,
                "mode": o.lock.as_ref().map(|l| l.mode.clone()),
                "retain_until": o.lock.as_ref().map(|l| l.retain_until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            })
        })
        .collect();
    serde_json::Value::Array(rows).to_string()
}

fn already_exists(location: &StorageLocation, file: &LocalFile, remote: &Remote) -> Error {
    let same = remote.size == file.size && remote.recorded_sha256.as_ref() == Some(&file.sha256_hex);
    let detail = if same { " with the same content (this bundle is already stored)" } else { "" };
    Error::service(
        format!("storing {}", location.object_url(&file.key)),
        format!("the object already exists{detail}; nothing was uploaded"),
        "set `overwrite: true` to replace it, or publish under another release-version or bundle-name",
    )
}

/// Hashes a file for upload (size, sha256, md5) in one blocking pass.
async fn local_file(path: PathBuf, key: String, content_type: &'static str) -> Result<LocalFile> {
    let digest = digest_file(&path).await?;
    Ok(LocalFile {
        path,
        key,
        content_type,
        size: digest.size,
        sha256_hex: digest.sha256_hex,
        md5_base64: digest.md5_base64,
    })
}

/// A file's size and the digests the services check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FileDigest {
    pub size: u64,
    pub sha256_hex: String,
    pub md5_base64: String,
}

/// Reads a file once (off the async threads) for its size, sha256 and md5.
pub(super) async fn digest_file(path: &Path) -> Result<FileDigest> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let hint = "the bundle must stay in place until publishing is done";
        let mut input = std::fs::File::open(&path).map_err(|e| Error::io(&path, e, hint))?;
        let mut sha256 = crate::hashing::HashingReader::new(&mut input);
        let mut md5 = md5::Md5::new();
        let mut buffer = vec![0u8; 1024 * 1024];
        loop {
            let n = sha256.read(&mut buffer).map_err(|e| Error::io(&path, e, hint))?;
            if n == 0 {
                break;
            }
            md5.update(&buffer[..n]);
        }
        let (size, sha256_hex) = sha256.tally.finish();
        use base64::Engine;
        Ok(FileDigest {
            size,
            sha256_hex,
            md5_base64: base64::engine::general_purpose::STANDARD.encode(md5.finalize()),
        })
    })
    .await
    .map_err(|e| Error::service("hashing the bundle", e.to_string(), "report this as a bug"))?
}

/// A request body that streams `len` bytes of a file from disk, between optional
/// fixed bytes before and after (GCS's multipart framing), logging progress.
pub(super) async fn file_body(path: &Path, before: Vec<u8>, after: Vec<u8>, what: &str) -> Result<reqwest::Body> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::io(path, e, "the bundle must stay in place until publishing is done"))?;
    let total = file.metadata().await.map(|m| m.len()).ok();
    let progress = Arc::new(Mutex::new(Progress::new(what, total)));
    let done = progress.clone();
    let content = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024).inspect_ok(move |chunk| {
        progress.lock().unwrap_or_else(|p| p.into_inner()).add(chunk.len() as u64);
    });
    let framed = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes_of(before)) })
        .chain(content)
        .chain(futures_util::stream::once(async move {
            done.lock().unwrap_or_else(|p| p.into_inner()).finish();
            Ok(bytes_of(after))
        }))
        .try_filter(|chunk| std::future::ready(!chunk.is_empty()));
    Ok(reqwest::Body::wrap_stream(framed))
}

fn bytes_of(v: Vec<u8>) -> tokio_util::bytes::Bytes {
    tokio_util::bytes::Bytes::from(v)
}

/// Streams a response body through sha256: (size, hex). Used to verify an object by
/// reading it back where the service keeps no checksum we can compare.
async fn hash_response(mut response: reqwest::Response, what: &str) -> Result<(u64, String)> {
    let mut tally = crate::hashing::Tally::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        Error::service(what, format!("reading the object back broke off: {}", without_url(&e)), "run again")
    })? {
        tally.update(&chunk);
    }
    Ok(tally.finish())
}

/// The reason part of a service error (without the `what` it already names).
fn reason_of(e: &Error) -> String {
    match e {
        Error::Service { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

pub(super) use crate::http::percent_encode;

/// A service's error text on one line, at most 300 characters.
pub(super) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(prefix: &str, template: Option<&str>) -> StorageLocation {
        StorageLocation {
            scheme: Scheme::Gcs,
            bucket: "bucket".into(),
            prefix: prefix.into(),
            endpoint: None,
            region: None,
            template: template.map(str::to_string),
        }
    }

    #[test]
    fn keys_are_owner_repo_version_under_the_prefix() {
        let l = location("audit/", None);
        assert_eq!(
            object_keys(&l, "kyma-project/telemetry-manager", "1.2.3", "audit-bundle-1.2.3").unwrap(),
            (
                "audit/kyma-project/telemetry-manager/1.2.3/audit-bundle-1.2.3.zip".into(),
                "audit/kyma-project/telemetry-manager/1.2.3/audit-bundle-1.2.3.SHA256SUMS".into()
            )
        );
        for repo in ["noslash", "a/b/c", "../x", "a/.."] {
            assert_eq!(object_keys(&l, repo, "1.0", "b"), Err(KeyError::Repository), "{repo}");
        }
        assert_eq!(object_keys(&l, "o/r", "1.2.3+build.4", "b"), Err(KeyError::Version));
    }

    /// Kyma's compliancy workflows write `<repo>_<version>.zip` at the bucket root and
    /// `SBOM/<module>-<version>/sbom.json`; the default layout, under any prefix (none
    /// included), never names one of those objects.
    #[test]
    fn default_keys_never_collide_with_the_compliance_archive() {
        let compliancy =
            |repo: &str, version: &str| [format!("{repo}_{version}.zip"), format!("SBOM/{repo}-{version}/sbom.json")];
        for prefix in ["", "release-audit/", "audits/2026/"] {
            for (repository, version) in
                [("kyma-project/telemetry-manager", "1.2.3"), ("kyma-project/busola", "0.9.0-rc1")]
            {
                let repo = repository.split_once('/').unwrap().1;
                let bundle = format!("audit-bundle-{version}");
                let (zip, sums) = object_keys(&location(prefix, None), repository, version, &bundle).unwrap();
                for theirs in compliancy(repo, version) {
                    assert_ne!(zip, theirs);
                    assert_ne!(sums, theirs);
                }
                assert!(zip.starts_with(&format!("{prefix}kyma-project/")), "{zip}");
            }
        }
    }

    #[test]
    fn templates_fill_placeholders() {
        let keys = |t: &str| {
            object_keys(&location("", Some(t)), "kyma-project/telemetry-manager", "1.2.3", "audit-bundle-1.2.3")
                .unwrap()
        };
        assert_eq!(
            keys("{repo}_{version}.zip"),
            ("telemetry-manager_1.2.3.zip".into(), "telemetry-manager_1.2.3.SHA256SUMS".into())
        );
        assert_eq!(
            keys("archive/{owner}/{repo}/"),
            (
                "archive/kyma-project/telemetry-manager/audit-bundle-1.2.3.zip".into(),
                "archive/kyma-project/telemetry-manager/audit-bundle-1.2.3.SHA256SUMS".into()
            )
        );
        assert_eq!(keys("{bundle}").0, "audit-bundle-1.2.3.zip");
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved() {
        assert_eq!(percent_encode("a b/c+d~e.zip", true), "a%20b/c%2Bd~e.zip");
        assert_eq!(percent_encode("a/b", false), "a%2Fb");
    }
}
