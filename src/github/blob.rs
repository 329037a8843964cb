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
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::error::{Error, Refusal, Result};
use crate::http::{Attempt, GaveUp, Progress, RetryPolicy, with_retries, without_url};
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
pub async fn upload_file(
    http: &reqwest::Client,
    url: &Secret,
    path: &Path,
    size: u64,
    retry: RetryPolicy,
) -> Result<()> {
    let base = reqwest::Url::parse(url.expose()).map_err(|e| {
        Error::service("blob upload", format!("the signed URL is not a URL: {e}"), "report this as a bug")
    })?;
    let progress = Arc::new(Mutex::new(Progress::new(format!("uploading {}", file_name(path)), Some(size))));
    if size <= SINGLE_PUT_LIMIT {
        put_range(
            http,
            &base,
            path,
            0,
            size,
            &[("x-ms-blob-type", "BlockBlob"), ("x-ms-blob-content-type", CONTENT_TYPE)],
            retry,
            &progress,
        )
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
/// (marked retryable by [`crate::http::judge`]).
async fn send_checked(
    what: &str,
    retry: RetryPolicy,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<reqwest::Response> {
    with_retries(retry, || {
        let request = build();
        async move { check(request.send().await, what).await }
    })
    .await
    .map_err(|g| g.error)
}

/// Turns a response into success, or an error marked retryable or not; a refused
/// answer's error carries the refusal ([`decode_azure`]).
async fn check(result: reqwest::Result<reqwest::Response>, what: &str) -> Result<reqwest::Response, Attempt<Error>> {
    match result {
        Err(e) => Err(Attempt::retry(Error::service(what, without_url(&e), "check the network and try again"))),
        Ok(r) if r.status().is_success() => Ok(r),
        Ok(r) => {
            let status = r.status().as_u16();
            let url = redact_url(r.url().as_str());
            let headers = r.headers().clone();
            let body = crate::http::read_bounded(r, 64 * 1024, what).await.unwrap_or_default();
            let refusal = decode_azure(status, &headers, &body);
            let hint = match status {
                403 => "the signed URL was refused (expired or wrong signature); run the step again",
                404 => "the blob or container does not exist; the artifact may have expired",
                _ => "try again later",
            };
            let error = Error::service(what, format!("HTTP {status} from {url}: {}", refusal.message), hint);
            Err(Attempt::judged(error.with_refusal(refusal.clone()), &refusal, &headers))
        }
    }
}

/// The wire decoder of Azure Blob Storage's refusals: the code is the
/// `x-ms-error-code` header Azure sets on every refusal (`AuthenticationFailed`,
/// `BlobNotFound`, `ServerBusy`…), or else the `<Code>` of its XML error body; the
/// message is the body's `<Message>`, or its start. No answer is taken for an
/// intermediary's: GitHub's front end is not between the runner and the blob host, and
/// a signed URL's 403 is Azure's own (`AuthenticationFailed`), final.
pub fn decode_azure(status: u16, headers: &reqwest::header::HeaderMap, body: &[u8]) -> Refusal {
    let text = String::from_utf8_lossy(body);
    let element = |name: &str| {
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&format!("</{name}>"))?;
        Some(text[start..start + end].to_string())
    };
    let header = headers.get("x-ms-error-code").and_then(|v| v.to_str().ok()).map(str::to_string);
    let code = header.or_else(|| element("Code")).unwrap_or_default();
    let message = element("Message").unwrap_or_else(|| text.chars().take(300).collect());
    Refusal::new(status, &code).with_message(&message)
}

/// What a download produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub size: u64,
    pub sha256: String,
    /// The body was longer than the limit and only its first bytes were kept
    /// (with [`Excess::KeepPrefix`]).
    pub truncated: bool,
    /// The `Content-Type` the blob was served with, as sent.
    pub content_type: Option<String>,
    /// The path of the URL the body came from (never its query, which holds the signature).
    pub url_path: String,
}

/// The media types the official artifact client (`@actions/artifact` 6.x,
/// download-artifact v8) unzips; any other type is a single file.
pub const ZIP_MEDIA_TYPES: [&str; 3] =
    ["application/zip", "application/x-zip-compressed", "application/zip-compressed"];

impl Downloaded {
    /// Whether the official client would unzip this artifact: a zip media type (its
    /// parameters and case ignored), or a URL path ending in `.zip`. Otherwise the body
    /// is the artifact's single file, uploaded unzipped (`archive: false`, `skipArchive`).
    pub fn served_as_zip(&self) -> bool {
        let media_type = self
            .content_type
            .as_deref()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        ZIP_MEDIA_TYPES.contains(&media_type.as_str()) || self.url_path.to_ascii_lowercase().ends_with(".zip")
    }
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
pub async fn download_to_file(
    http: &reqwest::Client,
    url: &Secret,
    dest: &Path,
    max_bytes: u64,
    what: &str,
    retry: RetryPolicy,
) -> Result<Downloaded> {
    download_bounded(http, url, dest, max_bytes, Excess::Refuse, what, retry).await
}

/// [`download_to_file`] with a choice of what a body over `max_bytes` means. Failed
/// requests and bodies that break off or end short are tried again from the start,
/// with the same URL, through the one retry loop.
pub async fn download_bounded(
    http: &reqwest::Client,
    url: &Secret,
    dest: &Path,
    max_bytes: u64,
    excess: Excess,
    what: &str,
    retry: RetryPolicy,
) -> Result<Downloaded> {
    with_retries(retry, || download_once(http, url, dest, max_bytes, excess, what)).await.map_err(gave_up)
}

/// The last error of a retried transfer; when the attempts ran out, its reason says
/// how many there were.
pub fn gave_up(g: GaveUp<Error>) -> Error {
    if !g.exhausted {
        return g.error;
    }
    let attempts = g.attempts;
    match g.error {
        Error::Service { service, reason, hint, refusal } => {
            Error::Service { service, reason: format!("{reason} (gave up after {attempts} attempts)"), hint, refusal }
        }
        Error::Evidence { what, reason, hint } => {
            Error::Evidence { what, reason: format!("{reason} (gave up after {attempts} attempts)"), hint }
        }
        other => other,
    }
}

/// One GET of a URL into `dest`, hashed as it streams. The error says whether another
/// attempt may help (a refused or broken connection, a 5xx, a body that broke off or
/// ended short) or not (a 403/404, a body over the limit, a local disk error); the
/// partial file is removed either way. Callers that must fetch a fresh URL for each
/// attempt (signed artifact URLs) run this inside their own [`with_retries`].
pub async fn download_once(
    http: &reqwest::Client,
    url: &Secret,
    dest: &Path,
    max_bytes: u64,
    excess: Excess,
    what: &str,
) -> Result<Downloaded, Attempt<Error>> {
    let response = check(http.get(url.expose()).send().await, what).await?;
    let total = response.content_length();
    if excess == Excess::Refuse
        && let Some(t) = total.filter(|t| *t > max_bytes)
    {
        return Err(Attempt::fatal(Error::evidence(
            what,
            format!("is {t} bytes, more than the limit of {max_bytes}"),
            "raise the size limit or upload a smaller artifact",
        )));
    }
    let result = write_stream(response, dest, max_bytes, excess, what, total).await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(dest).await;
    }
    result
}

async fn write_stream(
    mut response: reqwest::Response,
    dest: &Path,
    max_bytes: u64,
    excess: Excess,
    what: &str,
    total: Option<u64>,
) -> Result<Downloaded, Attempt<Error>> {
    let content_type =
        response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let url_path = response.url().path().to_string();
    let mut file = tokio::fs::File::create(dest)
        .await
        .map_err(|e| Attempt::fatal(Error::io(dest, e, "the download directory must be writable")))?;
    let mut tally = crate::hashing::Tally::new();
    let mut size = 0u64;
    let mut progress = Progress::new(format!("downloading {what}"), total);
    let mut truncated = false;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                let reason = format!("the download broke off after {size} bytes: {}", without_url(&e));
                return Err(Attempt::retry(Error::service(what, reason, "try again; check the network")));
            }
        };
        let chunk = if size + chunk.len() as u64 > max_bytes {
            if excess == Excess::Refuse {
                return Err(Attempt::fatal(Error::evidence(
                    what,
                    format!("is more than the limit of {max_bytes} bytes"),
                    "raise the size limit or upload a smaller artifact",
                )));
            }
            truncated = true;
            chunk.slice(..(max_bytes - size) as usize)
        } else {
            chunk
        };
        size += chunk.len() as u64;
        tally.update(&chunk);
        file.write_all(&chunk).await.map_err(|e| Attempt::fatal(Error::io(dest, e, "free disk space")))?;
        progress.add(chunk.len() as u64);
        if truncated {
            break;
        }
    }
    file.flush().await.map_err(|e| Attempt::fatal(Error::io(dest, e, "free disk space")))?;
    progress.finish();
    if !truncated && let Some(t) = total.filter(|t| *t != size) {
        return Err(Attempt::retry(Error::service(
            what,
            format!("the download ended after {size} of {t} bytes"),
            "try again; check the network",
        )));
    }
    Ok(Downloaded { size, sha256: tally.finish().1, truncated, content_type, url_path })
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}
