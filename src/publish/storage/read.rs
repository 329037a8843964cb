//! Reading the archive back: list the objects under a prefix and download one to a
//! file, hashed on the way. What `release-audit archive` needs; the same URL forms and
//! credentials as `storage-url` / `storage-credentials`.

use std::path::Path;

use tokio::io::AsyncWriteExt;

use super::{Credentials, Lock, Lookup, Service, StorageSettings, gcs, s3};
use crate::error::{Error, Result};
use crate::http::without_url;

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub size: u64,
    /// The service's version tag of the object (S3 ETag, GCS generation): an object
    /// with the same key, size and tag has not changed since it was last read.
    pub version: String,
    /// When the object was stored (RFC 3339, as the service says).
    pub stored_at: String,
}

/// Objects a listing returns at most: a prefix with more is refused rather than read
/// without end (ask for a narrower prefix).
pub const MAX_LISTED: usize = 200_000;

/// A read-only view of a bucket.
pub struct StorageReader {
    service: Service,
    settings: StorageSettings,
    /// Listing pages and downloads sent (retries not counted).
    requests: std::sync::atomic::AtomicU64,
}

impl StorageReader {
    pub async fn open(net: &crate::http::Net, settings: &StorageSettings) -> Result<Self> {
        let service = match &settings.credentials {
            Credentials::Gcs(auth) => Service::Gcs(gcs::Client::new(net, &settings.location, auth).await?),
            Credentials::S3(keys) => Service::S3(s3::Client::new(net, &settings.location, keys)),
        };
        Ok(StorageReader { service, settings: settings.clone(), requests: 0.into() })
    }

    pub fn settings(&self) -> &StorageSettings {
        &self.settings
    }

    /// Listing pages and downloads sent so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn count(&self) {
        self.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Every object under the location's prefix, in key order.
    pub async fn list(&self) -> Result<Vec<Listed>> {
        let prefix = &self.settings.location.prefix;
        let what = format!("listing {}", self.settings.location.object_url(prefix));
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.count();
            let (page, next) = match &self.service {
                Service::S3(c) => c.list_page(prefix, token.as_deref(), &what).await?,
                Service::Gcs(c) => c.list_page(prefix, token.as_deref(), &what).await?,
            };
            all.extend(page);
            if all.len() > MAX_LISTED {
                return Err(Error::service(
                    what,
                    format!("more than {MAX_LISTED} objects under the prefix"),
                    "give a narrower prefix (e.g. one repository's)",
                ));
            }
            match next {
                Some(next) if token.as_deref() != Some(next.as_str()) => token = Some(next),
                _ => break,
            }
        }
        all.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(all)
    }

    /// The write-once lock the service reports for `key` (None: not locked, or gone).
    pub async fn lock(&self, key: &str) -> Result<Option<Lock>> {
        self.count();
        let remote = match self.service.lookup(key).await? {
            Lookup::Found(remote) => remote,
            Lookup::Missing => return Ok(None),
            Lookup::Unknown(why) => return Err(why),
        };
        self.service.lock_of(key, &remote).await
    }

    /// Downloads `key` into `dest`, at most `limit` bytes; returns (size, sha256 hex).
    pub async fn download(&self, key: &str, dest: &Path, limit: u64) -> Result<(u64, String)> {
        let what = format!("downloading {}", self.service.object_url(key));
        self.count();
        let response = match &self.service {
            Service::Gcs(c) => c.get(key, &what).await?,
            Service::S3(c) => c.get(key, &what).await?,
        };
        if !response.status().is_success() {
            return Err(self.service.refusal(response, &what, super::Asked::Read).await);
        }
        write_bounded(response, dest, limit, &what).await
    }
}

async fn write_bounded(mut response: reqwest::Response, dest: &Path, limit: u64, what: &str) -> Result<(u64, String)> {
    let hint = "free space in the output directory";
    let mut file = tokio::fs::File::create(dest).await.map_err(|e| Error::io(dest, e, hint))?;
    let mut tally = crate::hashing::Tally::new();
    let mut size = 0u64;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Error::service(what, format!("the download broke off: {}", without_url(&e)), "run again"))?
    {
        size += chunk.len() as u64;
        if size > limit {
            return Err(Error::service(
                what,
                format!("the object is larger than {limit} bytes, more than a bundle may be"),
                "this is not a bundle release-audit wrote; remove it from the archive prefix",
            ));
        }
        tally.update(&chunk);
        file.write_all(&chunk).await.map_err(|e| Error::io(dest, e, hint))?;
    }
    file.flush().await.map_err(|e| Error::io(dest, e, hint))?;
    Ok(tally.finish())
}
