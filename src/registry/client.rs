//! The registry transport: `GET` manifests and blobs from an OCI distribution API,
//! authenticated the way registries ask for it, retried when they are throttled or
//! briefly down, and counted.
//!
//! Why our own `GET` through reqwest rather than oci-client's `pull_manifest_raw`:
//! the evidence needs the `Docker-Content-Digest` header *beside* the digest we
//! compute (oci-client only returns the one it settled on), the `Content-Type`, a
//! bounded read (oci-client buffers any size), retries on 429/5xx (oci-client has
//! none), and exactly one request per manifest (oci-client pings `/v2/` to
//! authenticate first). Authentication here is challenge-driven: a request goes out
//! with what we already know for that host and repository; a `401` answer's
//! `WWW-Authenticate` tells us to use Basic or to fetch a Bearer token from its realm
//! (with the login, if one was given), and the request is sent once more.
//!
//! Plain HTTP is used only for hosts listed in `insecure-registries`. Credentials and
//! tokens are [`Secret`]s and never reach a log line or an error.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use serde::{Deserialize, Serialize};

use super::access::RegistryAccess;
use super::manifest::{self, Kind};
use super::reference::{Digest, ImageRef};
use crate::error::Error;
use crate::error::Refusal;
use crate::http::{Attempt, Judgement, Net, RetryPolicy, is_retryable, with_retries, without_url};
use crate::secret::Secret;

/// Why a fetch failed: the thing does not exist (a verdict, not an error), or anything else.
#[derive(Debug)]
pub enum FetchError {
    NotFound(String),
    Failed(Error),
}

impl From<Error> for FetchError {
    fn from(e: Error) -> Self {
        FetchError::Failed(e)
    }
}

impl FetchError {
    /// Turns "not found" into an error too, for callers for which it is one.
    pub fn into_error(self, hint: &str) -> Error {
        match self {
            FetchError::NotFound(reason) => Error::evidence("registry", reason, hint),
            FetchError::Failed(e) => e,
        }
    }
}

pub type FetchResult<T> = std::result::Result<T, FetchError>;

/// A manifest as the registry served it, with both digests.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    pub bytes: Vec<u8>,
    /// sha256 of `bytes`: the evidence.
    pub digest: Digest,
    /// What the registry claimed in `Docker-Content-Digest` (equal to `digest`, or the fetch failed).
    pub header_digest: Option<Digest>,
    pub media_type: String,
    pub kind: Kind,
    pub read_at: DateTime<Utc>,
}

/// How many requests went out and how many were in flight at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestStats {
    pub requests: u64,
    pub max_in_flight: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
}

struct InFlight<'a>(&'a Counters);

impl<'a> InFlight<'a> {
    fn start(counters: &'a Counters) -> Self {
        counters.requests.fetch_add(1, Ordering::SeqCst);
        let now = counters.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        counters.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(counters)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What we learnt about a host's authentication.
#[derive(Default)]
struct HostAuth {
    /// The host asked for Basic: send the login with every request.
    basic: bool,
    /// Bearer tokens per repository (the token's scope).
    bearer: HashMap<String, Secret>,
}

/// A `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

/// Parses `Bearer realm="…",service="…",scope="…"` (quoted values may hold commas).
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.is_empty() {
        return None;
    }
    let mut params = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',')).collect();
        if key.is_empty() {
            break;
        }
        if chars.next() != Some('=') {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ',')).collect::<String>().trim().to_string();
        }
        params.insert(key.trim().to_ascii_lowercase(), value);
    }
    Some(Challenge { scheme: scheme.to_ascii_lowercase(), params })
}

/// Talks to every registry a comparison needs.
pub struct RegistryClient {
    http: reqwest::Client,
    access: RegistryAccess,
    retry: RetryPolicy,
    /// The longest one request may take, body included ([`Limits::registry_request`]).
    ///
    /// [`Limits::registry_request`]: crate::http::Limits::registry_request
    request_limit: Duration,
    auth: Mutex<HashMap<String, HostAuth>>,
    /// Serialises answering challenges, so concurrent requests fetch one token, not many.
    login: tokio::sync::Mutex<()>,
    counters: Counters,
}

impl RegistryClient {
    /// A client of the registries `access` reaches, with the command's client, retry
    /// policy and request limit.
    pub fn new(net: &Net, access: &RegistryAccess) -> Self {
        RegistryClient {
            http: net.client.clone(),
            access: access.clone(),
            retry: net.retry,
            request_limit: net.limits.registry_request,
            auth: Mutex::new(HashMap::new()),
            login: tokio::sync::Mutex::new(()),
            counters: Counters::default(),
        }
    }

    pub fn stats(&self) -> RequestStats {
        RequestStats {
            requests: self.counters.requests.load(Ordering::SeqCst),
            max_in_flight: self.counters.max_in_flight.load(Ordering::SeqCst),
        }
    }

    fn base_url(&self, image: &ImageRef) -> String {
        let host = image.api_host();
        let scheme =
            if self.access.is_insecure(host) || self.access.is_insecure(&image.registry) { "http" } else { "https" };
        format!("{scheme}://{host}/v2/{}", image.repository)
    }

    fn service(image: &ImageRef) -> String {
        format!("registry {}", image.registry)
    }

    /// `GET`s the manifest `image` names (by digest when pinned, else by tag), checks
    /// its size, media type and digests.
    pub async fn manifest(&self, image: &ImageRef) -> FetchResult<FetchedManifest> {
        let what = format!("manifest {image}");
        let url = format!("{}/manifests/{}", self.base_url(image), image.manifest_reference());
        let response = self.send(image, &url, Some(manifest::ACCEPT), &what).await?;
        let response = self.follow_redirects(image, response, Some(manifest::ACCEPT), &what).await?;
        let read_at = Utc::now();
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let content_type =
            header(CONTENT_TYPE.as_str()).map(|t| t.split(';').next().unwrap_or_default().trim().to_string());
        let header_digest = header("docker-content-digest");
        let too_big = || {
            Error::evidence(
                &what,
                format!("is larger than {} bytes, the limit for manifests", manifest::MAX_MANIFEST_BYTES),
                "this is not an image manifest; check the reference",
            )
        };
        if header(CONTENT_LENGTH.as_str())
            .and_then(|l| l.parse::<u64>().ok())
            .is_some_and(|l| l > manifest::MAX_MANIFEST_BYTES as u64)
        {
            return Err(too_big().into());
        }
        let bytes = read_limited(response, manifest::MAX_MANIFEST_BYTES, &what).await?.ok_or_else(too_big)?;
        let digest = Digest::of(&bytes);

        let head: manifest::Head = serde_json::from_slice(&bytes).map_err(|e| {
            Error::evidence(
                &what,
                format!("is not JSON: {e}"),
                "the registry did not answer with a manifest; check the reference",
            )
        })?;
        let media_type = head.media_type.clone().or(content_type.clone()).unwrap_or_default();
        let Some(kind) = manifest::kind_of(&media_type) else {
            let shown = if media_type.is_empty() { "none".to_string() } else { format!("`{media_type}`") };
            return Err(Error::evidence(
                &what,
                format!("has an unsupported media type {shown} ({})", manifest::describe(&media_type)),
                "release-audit compares OCI and Docker schema2 images and indexes; push the image again with a current tool (e.g. skopeo copy --format oci)",
            )
            .into());
        };
        if let (Some(declared), Some(served)) = (&head.media_type, &content_type)
            && manifest::kind_of(served).is_some()
            && declared != served
        {
            return Err(Error::evidence(
                &what,
                format!("is served as `{served}` but declares `{declared}`"),
                "the registry stored the manifest under the wrong type; push it again",
            )
            .into());
        }
        let header_digest = match header_digest {
            None => None,
            Some(text) => Some(Digest::parse(&text).map_err(|reason| {
                Error::evidence(
                    &what,
                    format!("Docker-Content-Digest: {reason}"),
                    "the registry sent a digest release-audit cannot check; report it to the registry's operator",
                )
            })?),
        };
        if let Some(claimed) = &header_digest
            && *claimed != digest
        {
            return Err(Error::evidence(
                &what,
                format!("the registry says {claimed} (Docker-Content-Digest) but the bytes it sent hash to {digest}"),
                "do not trust this answer: the registry or a proxy between changed the manifest; try again and report it to the registry's operator",
            )
            .into());
        }
        if let Some(pinned) = &image.digest
            && *pinned != digest
        {
            return Err(Error::evidence(
                &what,
                format!("was asked for by digest {pinned} but the bytes hash to {digest}"),
                "do not trust this answer: the registry served other content than the digest names",
            )
            .into());
        }
        Ok(FetchedManifest { bytes, digest, header_digest, media_type, kind, read_at })
    }

    /// A small blob (an image config), read whole and checked against its digest.
    pub async fn blob_bytes(&self, image: &ImageRef, digest: &Digest, limit: usize) -> FetchResult<Vec<u8>> {
        let what = format!("blob {digest} of {}", image.name());
        let response = self.blob_response(image, digest).await?;
        let bytes = read_limited(response, limit, &what).await?.ok_or_else(|| {
            Error::evidence(&what, format!("is larger than {limit} bytes"), "an image config is small; check the image")
        })?;
        let actual = Digest::of(&bytes);
        if actual != *digest {
            return Err(Error::evidence(
                &what,
                format!("hashes to {actual}"),
                "the registry served other content than the digest names; report it",
            )
            .into());
        }
        Ok(bytes)
    }

    /// Starts a blob download and returns the response to stream from.
    pub async fn blob_response(&self, image: &ImageRef, digest: &Digest) -> FetchResult<reqwest::Response> {
        let what = format!("blob {digest} of {}", image.name());
        let url = format!("{}/blobs/{digest}", self.base_url(image));
        let response = self.send(image, &url, None, &what).await?;
        self.follow_redirects(image, response, None, &what).await
    }

    /// Follows redirects (to storage buckets and CDNs, for blobs; rarely for
    /// manifests). The registry login is sent along only while every hop stays on the
    /// registry's own origin (scheme, host, port): once a hop has left it, no later hop
    /// gets it, even one that comes back.
    async fn follow_redirects(
        &self,
        image: &ImageRef,
        mut response: reqwest::Response,
        accept: Option<&str>,
        what: &str,
    ) -> FetchResult<reqwest::Response> {
        let origin = response.url().clone();
        let mut left_origin = false;
        for _ in 0..5 {
            if !response.status().is_redirection() {
                return Ok(response);
            }
            let location = response.headers().get(LOCATION).and_then(|l| l.to_str().ok()).unwrap_or_default();
            let next = response.url().join(location).map_err(|e| {
                Error::service(
                    Self::service(image),
                    format!("{what}: redirect to an invalid location: {e}"),
                    "report this to the registry's operator",
                )
            })?;
            left_origin |= next.scheme() != origin.scheme()
                || next.host_str() != origin.host_str()
                || next.port_or_known_default() != origin.port_or_known_default();
            let same_host = !left_origin;
            // Bounded by the audit's deadline like every registry request.
            let RequestTime { time, .. } = self.request_time(image)?;
            let mut request = self.http.get(next.clone()).timeout(time);
            if let Some(accept) = accept {
                request = request.header(ACCEPT, accept);
            }
            if same_host && let Some(auth) = self.authorization(image) {
                request = request.header(AUTHORIZATION, auth.expose());
            }
            let _in_flight = InFlight::start(&self.counters);
            response = request.send().await.map_err(|e| self.transport_error(image, what, &e))?;
            if !response.status().is_success() && !response.status().is_redirection() {
                let status = response.status();
                let refusal = read_refusal(response).await;
                return Err(Error::service(
                    Self::service(image),
                    format!("{what}: the redirect target answered {status}{}", shown(&refusal)),
                    "try again; the storage behind the registry refused the download",
                )
                .with_refusal(refusal)
                .into());
            }
        }
        Err(Error::service(
            Self::service(image),
            format!("{what}: more than 5 redirects"),
            "report this to the registry's operator",
        )
        .into())
    }

    /// The `Authorization` header value we know for this image's host and repository.
    fn authorization(&self, image: &ImageRef) -> Option<Secret> {
        let auth = self.auth.lock().expect("auth map lock");
        let host = auth.get(image.api_host())?;
        if let Some(token) = host.bearer.get(&image.repository) {
            return Some(Secret::new(format!("Bearer {}", token.expose())));
        }
        if host.basic {
            return self.access.credential_for(image).map(|c| Secret::new(format!("Basic {}", c.basic().expose())));
        }
        None
    }

    /// One `GET` with authentication, through the one retry loop
    /// ([`with_retries`]): timeouts and broken requests, 429/5xx (waiting at least the
    /// server's `Retry-After`) and GitHub's `403 … intermediary` are tried again; a
    /// first `401` is answered (its challenge) and the request sent again at once. A
    /// success (or, for blobs, a redirect) is returned, every other answer is an error.
    async fn send(
        &self,
        image: &ImageRef,
        url: &str,
        accept: Option<&str>,
        what: &str,
    ) -> FetchResult<reqwest::Response> {
        let challenges_answered = std::sync::atomic::AtomicU32::new(0);
        let attempts = std::sync::atomic::AtomicU32::new(0);
        let outcome = with_retries(self.retry, || async {
            let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
            let RequestTime { time, cut_by_deadline } =
                self.request_time(image).map_err(|e| Attempt::fatal(Failed(e.into())))?;
            let mut request = self.http.get(url).timeout(time);
            if let Some(accept) = accept {
                request = request.header(ACCEPT, accept);
            }
            let sent_auth = self.authorization(image);
            if let Some(auth) = &sent_auth {
                request = request.header(AUTHORIZATION, auth.expose());
            }
            let result = {
                let _in_flight = InFlight::start(&self.counters);
                request.send().await
            };
            let response = match result {
                Ok(r) => r,
                Err(e) => {
                    return Err(self.transport_attempt(image, what, &e, cut_by_deadline).map(|e| Failed(e.into())));
                }
            };
            if response.status().is_success() || response.status().is_redirection() {
                return Ok(response);
            }
            let refused = Refused { image, what, attempt, sent_auth: sent_auth.as_ref() };
            if response.status() == StatusCode::UNAUTHORIZED && challenges_answered.load(Ordering::SeqCst) == 0 {
                let challenge =
                    response.headers().get(WWW_AUTHENTICATE).and_then(|h| h.to_str().ok()).and_then(parse_challenge);
                let refusal = read_refusal(response).await;
                let body = shown(&refusal);
                self.answer_challenge(image, challenge, refused.sent_auth, what, &body)
                    .await
                    .map_err(|e| Attempt::fatal(Failed(e)))?;
                challenges_answered.fetch_add(1, Ordering::SeqCst);
                let error = self.unauthorized(image, what, &body).with_refusal(refusal);
                return Err(Attempt::again(Failed(error.into())));
            }
            Err(self.refusal(&refused, response).await)
        })
        .await;
        outcome.map_err(|gave_up| gave_up.error.0)
    }

    /// What an answer that is neither a success nor a first `401` means for the retry
    /// loop, as [`crate::http::judge`] decides from the refusal ([`decode_oci`]): an
    /// intermediary's 403, 429 and 5xx are tried again, the rest is final.
    async fn refusal(&self, r: &Refused<'_>, response: reqwest::Response) -> Attempt<Failed> {
        let (image, what) = (r.image, r.what);
        let status = response.status();
        let headers = response.headers().clone();
        let refusal = read_refusal(response).await;
        let body = shown(&refusal);
        let judged = crate::http::judge(&refusal, &headers);
        let attempt = |error: Error| {
            let error = FetchError::Failed(error.with_refusal(refusal.clone()));
            match judged {
                Judgement::Retry(wait) => Attempt::retry_after(Failed(error), wait),
                Judgement::Final => Attempt::fatal(Failed(error)),
            }
        };
        match status {
            StatusCode::UNAUTHORIZED => attempt(self.unauthorized(image, what, &body)),
            StatusCode::FORBIDDEN => {
                let login = match self.access.credential_for(image) {
                    Some(c) => format!("the login `{}`", c.username),
                    None => "an anonymous client".to_string(),
                };
                attempt(Error::service(
                    Self::service(image),
                    format!("{what}: 403 Forbidden{body} — {login} may not read {}", image.repository),
                    format!(
                        "grant read access on {} to that login (Artifact Registry: roles/artifactregistry.reader), or fix `registry-credentials`",
                        image.name()
                    ),
                ))
            }
            StatusCode::NOT_FOUND => {
                Attempt::fatal(Failed(FetchError::NotFound(format!("{what}: not found (404{body})"))))
            }
            s if judged.retries() => {
                let (reason, hint) = if s == StatusCode::TOO_MANY_REQUESTS {
                    (
                        "the registry is throttling us",
                        "wait and run again; authenticated pulls usually have a higher limit (registry-credentials)",
                    )
                } else {
                    ("the registry keeps failing", "try again later; check the registry's status page")
                };
                attempt(Error::service(
                    Self::service(image),
                    format!("{what}: {s}{body} after {} attempts — {reason}", r.attempt),
                    hint,
                ))
            }
            s => attempt(Error::service(
                Self::service(image),
                format!("{what}: unexpected answer {s}{body}"),
                "check the reference; this registry may not speak the OCI distribution API at this address",
            )),
        }
    }

    /// Learns how to authenticate from a `401`'s challenge.
    async fn answer_challenge(
        &self,
        image: &ImageRef,
        challenge: Option<Challenge>,
        sent_auth: Option<&Secret>,
        what: &str,
        body: &str,
    ) -> FetchResult<()> {
        let host = image.api_host().to_string();
        let credential = self.access.credential_for(image);
        let Some(challenge) = challenge else {
            return Err(self.unauthorized(image, what, &format!("{body} (no WWW-Authenticate challenge)")).into());
        };
        let _login = self.login.lock().await;
        // Someone else may have logged in while we waited; then just try again.
        if self.authorization(image).as_ref().map(Secret::expose) != sent_auth.map(Secret::expose) {
            return Ok(());
        }
        match challenge.scheme.as_str() {
            "basic" => {
                if credential.is_none() || sent_auth.is_some() {
                    return Err(self.unauthorized(image, what, body).into());
                }
                self.auth.lock().expect("auth map lock").entry(host).or_default().basic = true;
                Ok(())
            }
            "bearer" => {
                let token = self.fetch_token(image, &challenge, what).await?;
                self.auth
                    .lock()
                    .expect("auth map lock")
                    .entry(host)
                    .or_default()
                    .bearer
                    .insert(image.repository.clone(), token);
                Ok(())
            }
            other => Err(Error::service(
                Self::service(image),
                format!("{what}: the registry asks for `{other}` authentication"),
                "release-audit speaks Basic and Bearer-token authentication; use a registry login of that kind",
            )
            .into()),
        }
    }

    /// Asks the challenge's realm for a pull token (with the login, when we have one).
    async fn fetch_token(&self, image: &ImageRef, challenge: &Challenge, what: &str) -> FetchResult<Secret> {
        let service = Self::service(image);
        let realm = challenge.params.get("realm").ok_or_else(|| {
            Error::service(
                &service,
                format!("{what}: the Bearer challenge names no realm"),
                "report this to the registry's operator",
            )
        })?;
        let mut url = reqwest::Url::parse(realm).map_err(|e| {
            Error::service(
                &service,
                format!("{what}: the token realm `{realm}` is not a URL: {e}"),
                "report this to the registry's operator",
            )
        })?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(s) = challenge.params.get("service") {
                query.append_pair("service", s);
            }
            query.append_pair("scope", &format!("repository:{}:pull", image.repository));
        }
        let realm_host = format!("{}:{}", url.host_str().unwrap_or_default(), url.port_or_known_default().unwrap_or(0));
        let may_send_login = url.scheme() == "https" || self.access.is_insecure(&realm_host);
        let withheld = if may_send_login || self.access.credential_for(image).is_none() {
            String::new()
        } else {
            format!(
                "; the login was not sent: the realm {realm_host} is plain HTTP and not listed in `insecure-registries`"
            )
        };
        let credential = self.access.credential_for(image).filter(|_| may_send_login);
        // Through the one retry loop, within the audit's deadline: token services
        // (ghcr.io/token, GAR's /v2/token, auth.docker.io) answer 429 and 5xx too.
        let response = with_retries(self.retry, || async {
            let RequestTime { time, cut_by_deadline } = self.request_time(image).map_err(Attempt::fatal)?;
            let mut request = self.http.get(url.clone()).timeout(time);
            if let Some(c) = credential {
                request = request.header(AUTHORIZATION, format!("Basic {}", c.basic().expose()));
            }
            let _in_flight = InFlight::start(&self.counters);
            match request.send().await {
                Err(e) => Err(self.transport_attempt(image, &format!("{what}: token request"), &e, cut_by_deadline)),
                Ok(r) if is_retryable(r.status().as_u16()) => {
                    let (status, wait) = (r.status(), crate::http::retry_after(r.headers()));
                    let refusal = read_refusal(r).await;
                    Err(Attempt::retry_after(
                        Error::service(
                            &service,
                            format!("{what}: the token service answered {status}{}", shown(&refusal)),
                            "try again later",
                        )
                        .with_refusal(refusal),
                        wait,
                    ))
                }
                Ok(r) => Ok(r),
            }
        })
        .await
        .map_err(|g| g.error)?;
        let status = response.status();
        if !status.is_success() {
            let refusal = read_refusal(response).await;
            let body = shown(&refusal);
            let refused =
                TokenRefusal { status, body: &body, credential, withheld: &withheld, realm_host: &realm_host };
            return Err(token_refused(image, what, &refused).with_refusal(refusal).into());
        }
        read_token(response, &service, what).await
    }

    fn unauthorized(&self, image: &ImageRef, what: &str, body: &str) -> Error {
        match self.access.credential_for(image) {
            None => Error::service(
                Self::service(image),
                format!(
                    "{what}: 401 Unauthorized{body} — the registry requires a login and none is given for {}",
                    image.registry
                ),
                format!(
                    "add `{}=<username>:<password>` to `registry-credentials` (Artifact Registry: oauth2accesstoken:<token>; GHCR: <user>:<GITHUB_TOKEN>)",
                    image.registry
                ),
            ),
            Some(c) => Error::service(
                Self::service(image),
                format!("{what}: 401 Unauthorized{body} — the registry rejected the login `{}`", c.username),
                format!("check the password or token for {} in `registry-credentials`; tokens expire", image.registry),
            ),
        }
    }

    /// How long one request may take, whole body included: at most
    /// the request limit ([`Limits::registry_request`]), and never past the audit's deadline. A registry that
    /// sends a byte a second cannot hold the run.
    fn request_time(&self, image: &ImageRef) -> crate::error::Result<RequestTime> {
        let limit = self.request_limit;
        match self.access.deadline {
            None => Ok(RequestTime { time: limit, cut_by_deadline: false }),
            Some(deadline) => match deadline.checked_duration_since(std::time::Instant::now()) {
                Some(left) if !left.is_zero() => {
                    Ok(RequestTime { time: left.min(limit), cut_by_deadline: left < limit })
                }
                _ => Err(Error::service(
                    format!("registry {}", image.registry),
                    format!("the audit's `timeout` passed before {} could be asked", image.api_host()),
                    "raise the `timeout` input, or find the slow registry in the log",
                )),
            },
        }
    }

    /// A request that got no answer, as an attempt of the retry loop: a timeout or a
    /// request broken on the way is tried again, unless the audit's deadline cut it;
    /// anything else (no connection at all) is final.
    fn transport_attempt(
        &self,
        image: &ImageRef,
        what: &str,
        e: &reqwest::Error,
        cut_by_deadline: bool,
    ) -> Attempt<Error> {
        let error = self.transport_error(image, what, e);
        if !cut_by_deadline && (e.is_timeout() || (e.is_request() && !e.is_connect())) {
            Attempt::retry(error)
        } else {
            Attempt::fatal(error)
        }
    }

    fn transport_error(&self, image: &ImageRef, what: &str, e: &reqwest::Error) -> Error {
        let host = image.api_host();
        if e.is_timeout() {
            return Error::service(
                format!("registry {}", image.registry),
                format!(
                    "{what}: {host} did not answer completely in time (a request may take at most {} s, and none outlives the audit's `timeout`)",
                    self.request_limit.as_secs()
                ),
                format!("{host} is too slow or stalled; try again later, or raise the `timeout` input"),
            );
        }
        let hint = if self.access.is_insecure(host) {
            format!("check that a registry listens on {host}")
        } else {
            format!(
                "check the registry host `{host}`; a registry on plain HTTP must be listed in `insecure-registries` as host:port"
            )
        };
        Error::service(
            format!("registry {}", image.registry),
            format!("{what}: cannot reach {host}: {}", without_url(e)),
            hint,
        )
    }
}

/// How long one request may take, and whether the audit's deadline (not the
/// per-request limit) set it.
struct RequestTime {
    time: Duration,
    cut_by_deadline: bool,
}

/// A token service's refusal, for [`token_refused`].
struct TokenRefusal<'a> {
    status: StatusCode,
    body: &'a str,
    credential: Option<&'a super::access::Credential>,
    /// Why the login was not sent (empty when it was, or there is none).
    withheld: &'a str,
    realm_host: &'a str,
}

/// The error for a token service that answered with something else than a token.
fn token_refused(image: &ImageRef, what: &str, r: &TokenRefusal<'_>) -> Error {
    let (status, body, withheld, realm_host) = (r.status, r.body, r.withheld, r.realm_host);
    let (reason, hint) = match (status, r.credential) {
        (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, Some(c)) => (
            format!("the token service refused the login `{}` ({status}{body})", c.username),
            "check the password or token in `registry-credentials` and that it may read the repository".to_string(),
        ),
        (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, None) if !withheld.is_empty() => (
            format!("the token service requires a login ({status}{body}){withheld}"),
            format!("list {realm_host} in `insecure-registries` if you trust a token service on plain HTTP"),
        ),
        (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, None) => (
            format!("the token service requires a login ({status}{body})"),
            format!("add `{}=<username>:<password>` to `registry-credentials`", image.registry),
        ),
        _ => (format!("the token service answered {status}{body}"), "try again later".to_string()),
    };
    Error::service(RegistryClient::service(image), format!("{what}: {reason}"), hint)
}

/// The token in a token service's answer (`token`, or OAuth2's `access_token`).
async fn read_token(response: reqwest::Response, service: &str, what: &str) -> FetchResult<Secret> {
    #[derive(Deserialize)]
    struct TokenAnswer {
        token: Option<String>,
        access_token: Option<String>,
    }
    let body = read_limited(response, 1 << 20, what).await?.unwrap_or_default();
    let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
        Error::service(
            service,
            format!("{what}: the token service's answer is not JSON: {e}"),
            "report this to the registry's operator",
        )
    })?;
    answer.token.or(answer.access_token).filter(|t| !t.is_empty()).map(Secret::new).ok_or_else(|| {
        Error::service(
            service,
            format!("{what}: the token service's answer has no token"),
            "report this to the registry's operator",
        )
        .into()
    })
}

/// A failed request as the retry loop carries it: its text is the error's.
struct Failed(FetchError);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            FetchError::NotFound(reason) => f.write_str(reason),
            FetchError::Failed(e) => write!(f, "{e}"),
        }
    }
}

/// What a refused request was, for [`RegistryClient::refusal`].
struct Refused<'a> {
    image: &'a ImageRef,
    what: &'a str,
    attempt: u32,
    sent_auth: Option<&'a Secret>,
}

/// Reads a body up to `limit` bytes; `None` when it is larger.
async fn read_limited(mut response: reqwest::Response, limit: usize, what: &str) -> FetchResult<Option<Vec<u8>>> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| {
            let slow = if e.is_timeout() { " (the registry sent it too slowly; a request may take at most 300 s and none outlives the audit's `timeout`)" } else { "" };
            Error::service("registry", format!("{what}: reading the answer failed{slow}: {}", without_url(&e)), "try again; check the network, or raise the `timeout` input")
        })?
    {
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// The wire decoder of a registry's refusals: the OCI distribution API's
/// `{"errors": [{"code", "message"}]}`, as a refusal with the first error's code
/// (`MANIFEST_UNKNOWN`, `NAME_UNKNOWN`, `DENIED`, `UNAUTHORIZED`, `TOOMANYREQUESTS`…) and
/// every error as `CODE: message` for its message. A 403 whose body is not JSON is an
/// intermediary's ([`Refusal::INTERMEDIARY`]: a registry answers refusals with JSON;
/// GitHub's front end, before ghcr.io, answers `Error from intermediary`); its text is
/// not kept. Any other body says nothing.
pub fn decode_oci(status: u16, body: &[u8]) -> Refusal {
    #[derive(Deserialize)]
    struct Errors {
        errors: Vec<ErrorItem>,
    }
    #[derive(Deserialize)]
    struct ErrorItem {
        code: Option<String>,
        message: Option<String>,
    }
    match serde_json::from_slice::<Errors>(body) {
        Ok(errors) => {
            let items: Vec<String> = errors
                .errors
                .iter()
                .map(|e| [e.code.as_deref(), e.message.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(": "))
                .filter(|s| !s.is_empty())
                .collect();
            let code = errors.errors.iter().find_map(|e| e.code.as_deref()).unwrap_or_default();
            Refusal::new(status, code).with_message(&items.join("; "))
        }
        Err(_) if status == 403 && crate::http::not_json(body) => Refusal::new(status, Refusal::INTERMEDIARY),
        Err(_) => Refusal::new(status, ""),
    }
}

/// Reads a refused answer (at most 64 KiB) and decodes it ([`decode_oci`]).
async fn read_refusal(response: reqwest::Response) -> Refusal {
    let status = response.status().as_u16();
    let body = read_limited(response, 64 * 1024, "error").await.ok().flatten().unwrap_or_default();
    decode_oci(status, &body)
}

/// What a refusal said, for an error's text: ` CODE: message`, or nothing.
fn shown(refusal: &Refusal) -> String {
    if refusal.message.is_empty() { String::new() } else { format!(" {}", refusal.message) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_keep_commas_inside_quotes() {
        let c = parse_challenge(r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push""#)
            .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.docker.io/token");
        assert_eq!(c.params["service"], "registry.docker.io");
        assert_eq!(c.params["scope"], "repository:library/alpine:pull,push");

        let c = parse_challenge(r#"Basic realm="test-registry""#).unwrap();
        assert_eq!((c.scheme.as_str(), c.params["realm"].as_str()), ("basic", "test-registry"));

        let c = parse_challenge("Bearer realm=https://x/token, service=svc").unwrap();
        assert_eq!(c.params["service"], "svc");
        assert_eq!(c.params["realm"], "https://x/token");
    }
}
