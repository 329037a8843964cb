//! Transfers to and from the Azure Blob SAS URLs that the artifact service signs.
//!
//! Uploads stream from disk: one `Put Blob` for small files, otherwise fixed-size
//! `Put Block`s (a few in flight, each read straight from the file at its offset)
//! committed by one `Put Block List`. Memory stays at a few socket buffers whatever
//! the file size. Downloads stream to disk and hash as bytes arrive.

use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::Engine;
use futures_util::{StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::error::{Error, Result};
use crate::http::{Attempt, Progress, RetryPolicy, is_retryable, with_retries, without_url};
use crate::secret::{Secret, redact_url};

/// Files up to this size go up in one request.
pub const SINGLE_PUT_LIMIT: u64 = 8 * 1024 * 1024;
/// Block size for larger files (Azure allows up to 4000 MiB per block, 50 000 blocks).
pub const BLOCK_SIZE: u64 = 8 * 1024 * 1024;
/// Blocks in flight at once.
pub const CONCURRENCY: usize = 4;
const AZURE_VERSION: &str = "2023-11-03";
const CONTENT_TYPE: &str = "application/zip";

/// Uploads `path` (of `size` bytes) to a blob SAS URL with content type `application/zip`.
pub async fn upload_file(http: &reqwest::Client, url: &Secret, path: &Path, size: u64, retry: RetryPolicy) -> Result<()> {
    let base = reqwest::Url::parse(url.expose())
        .map_err(|e| Error::service("blob upload", format!("the signed URL is not a URL: {e}"), "report this as a bug"))?;
    let progress = Arc::new(Mutex::new(Progress::new(format!("uploading {}", file_name(path)), Some(size))));
    if size <= SINGLE_PUT_LIMIT {
        put_range(http, &base, path, 0, size, &[("x-ms-blob-type", "BlockBlob"), ("x-ms-blob-content-type", CONTENT_TYPE)], retry, &progress)
            .await?;
    } else {
        let blocks: Vec<(String, u64, u64)> = (0..size.div_ceil(BLOCK_SIZE))
            .map(|i| {
                let id = base64::engine::general_purpose::STANDARD.encode(format!("block-{i:010}"));
                let offset = i * BLOCK_SIZE;
                (id, offset, BLOCK_SIZE.min(size - offset))
            })
            .collect();
        futures_util::stream::iter(blocks.iter().map(|(id, offset, len)| {
            let mut url = base.clone();
            url.query_pairs_mut().append_pair("comp", "block").append_pair("blockid", id);
            let progress = progress.clone();
            async move { put_range(http, &url, path, *offset, *len, &[], retry, &progress).await }
        }))
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
        let mut list = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
        for (id, _, _) in &blocks {
            list.push_str(&format!("<Latest>{id}</Latest>"));
        }
        list.push_str("</BlockList>");
        let mut url = base.clone();
        url.query_pairs_mut().append_pair("comp", "blocklist");
        send_checked("blob commit", retry, || {
            http.put(url.clone())
                .header("x-ms-version", AZURE_VERSION)
                .header("x-ms-blob-content-type", CONTENT_TYPE)
                .header("content-type", "application/xml")
                .body(list.clone())
        })
        .await?;
    }
    progress.lock().unwrap_or_else(|p| p.into_inner()).finish();
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn put_range(
    http: &reqwest::Client,
    url: &reqwest::Url,
    path: &Path,
    offset: u64,
    len: u64,
    headers: &[(&str, &str)],
    retry: RetryPolicy,
    progress: &Arc<Mutex<Progress>>,
) -> Result<()> {
    let hint = "the bundle file must stay in place during the upload";
    with_retries(retry, || async move {
        // Every attempt reads its range from the file again: nothing is buffered.
        let mut file = tokio::fs::File::open(path).await.map_err(|e| Attempt::fatal(Error::io(path, e, hint)))?;
        file.seek(std::io::SeekFrom::Start(offset)).await.map_err(|e| Attempt::fatal(Error::io(path, e, hint)))?;
        let progress = progress.clone();
        let stream = tokio_util::io::ReaderStream::with_capacity(file.take(len), 256 * 1024).inspect_ok(move |chunk| {
            progress.lock().unwrap_or_else(|p| p.into_inner()).add(chunk.len() as u64);
        });
        let mut request = http
            .put(url.clone())
            .header("x-ms-version", AZURE_VERSION)
            .header("content-length", len)
            .body(reqwest::Body::wrap_stream(stream));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        check(request.send().await, "blob upload").await.map(|_| ())
    })
    .await
    .map_err(|g| g.error)
}

/// One GET or PUT through the shared retry loop; any non-success answer is an error
/// (marked retryable per [`is_retryable`]).
async fn send_checked(what: &str, retry: RetryPolicy, build: impl Fn() -> reqwest::RequestBuilder) -> Result<reqwest::Response> {
    with_retries(retry, || {
        let request = build();
        async move { check(request.send().await, what).await }
    })
    .await
    .map_err(|g| g.error)
}

/// Turns a response into success, or an error marked retryable or not.
async fn check(result: reqwest::Result<reqwest::Response>, what: &str) -> Result<reqwest::Response, Attempt<Error>> {
    match result {
        Err(e) => Err(Attempt::retry(Error::service(what, without_url(&e), "check the network and try again"))),
        Ok(r) if r.status().is_success() => Ok(r),
        Ok(r) => {
            let status = r.status().as_u16();
            let url = redact_url(r.url().as_str());
            let body = r.text().await.unwrap_or_default();
            let detail: String = body.chars().take(300).collect();
            let hint = match status {
                403 => "the signed URL was refused (expired or wrong signature); run the step again",
                404 => "the blob or container does not exist; the artifact may have expired",
                _ => "try again later",
            };
            let error = Error::service(what, format!("HTTP {status} from {url}: {detail}"), hint);
            Err(if is_retryable(status, &body) { Attempt::retry(error) } else { Attempt::fatal(error) })
        }
    }
}

/// What a download produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub size: u64,
    pub sha256: String,
    /// The body was longer than the limit and only its first bytes were kept
    /// (with [`Excess::KeepPrefix`]).
    pub truncated: bool,
}

/// What a download does with a body longer than its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Excess {
    /// Refuse it: an error, and the partial file is removed (evidence archives).
    Refuse,
    /// Keep the first `limit` bytes and say so (logs).
    KeepPrefix,
}

/// Streams a URL to `dest`, hashing as it goes; more than `max_bytes` is an error and
/// the partial file is removed. The URL carries its own authorisation (SAS).
pub async fn download_to_file(http: &reqwest::Client, url: &Secret, dest: &Path, max_bytes: u64, what: &str, retry: RetryPolicy) -> Result<Downloaded> {
    download_bounded(http, url, dest, max_bytes, Excess::Refuse, what, retry).await
}

/// [`download_to_file`] with a choice of what a body over `max_bytes` means.
pub async fn download_bounded(http: &reqwest::Client, url: &Secret, dest: &Path, max_bytes: u64, excess: Excess, what: &str, retry: RetryPolicy) -> Result<Downloaded> {
    let response = send_checked(what, retry, || http.get(url.expose())).await?;
    let total = response.content_length();
    if excess == Excess::Refuse
        && let Some(t) = total.filter(|t| *t > max_bytes)
    {
        return Err(Error::evidence(what, format!("is {t} bytes, more than the limit of {max_bytes}"), "raise the size limit or upload a smaller artifact"));
    }
    let result = write_stream(response, dest, max_bytes, excess, what, total).await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(dest).await;
    }
    result
}

async fn write_stream(mut response: reqwest::Response, dest: &Path, max_bytes: u64, excess: Excess, what: &str, total: Option<u64>) -> Result<Downloaded> {
    let mut file = tokio::fs::File::create(dest).await.map_err(|e| Error::io(dest, e, "the download directory must be writable"))?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut progress = Progress::new(format!("downloading {what}"), total);
    let mut truncated = false;
    while let Some(chunk) = response.chunk().await.map_err(|e| Error::service(what, format!("download broke off: {}", without_url(&e)), "try again"))? {
        let chunk = if size + chunk.len() as u64 > max_bytes {
            if excess == Excess::Refuse {
                return Err(Error::evidence(what, format!("is more than the limit of {max_bytes} bytes"), "raise the size limit or upload a smaller artifact"));
            }
            truncated = true;
            chunk.slice(..(max_bytes - size) as usize)
        } else {
            chunk
        };
        size += chunk.len() as u64;
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(|e| Error::io(dest, e, "free disk space"))?;
        progress.add(chunk.len() as u64);
        if truncated {
            break;
        }
    }
    file.flush().await.map_err(|e| Error::io(dest, e, "free disk space"))?;
    progress.finish();
    if !truncated && let Some(t) = total.filter(|t| *t != size) {
        return Err(Error::service(what, format!("download ended after {size} of {t} bytes"), "try again"));
    }
    Ok(Downloaded { size, sha256: hex::encode(hasher.finalize()), truncated })
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}
