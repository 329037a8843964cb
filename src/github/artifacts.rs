//! Client of GitHub's artifacts v4 service ("Results", Twirp over JSON) and of the
//! signed blob URLs it hands out.
//!
//! The wire format follows actions/toolkit `packages/artifact` and its proto
//! definitions (`results/api/v1/artifact.proto`): snake_case proto names, int64 as JSON strings, every call a
//! `POST {origin}/twirp/github.actions.results.api.v1.ArtifactService/<Method>` with the
//! runtime token as bearer. Answers are read leniently (numbers or strings) and bounded.

use std::collections::BTreeMap;

use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Refusal, Result};
use crate::http::{Attempt, Net, RetryPolicy, read_bounded, with_retries, without_url};
use crate::secret::Secret;

/// A name that GitHub accepts for an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactName(String);

impl ArtifactName {
    pub const FORBIDDEN: &'static [char] = &['"', ':', '<', '>', '|', '*', '?', '\r', '\n', '\\', '/'];

    pub fn parse(input: &str, value: &str) -> Result<Self> {
        if value.is_empty() {
            return Err(Error::input(input, "is empty", "give the artifact a name"));
        }
        if let Some(c) = value.chars().find(|c| Self::FORBIDDEN.contains(c)) {
            return Err(Error::input(
                input,
                format!(
                    "`{}` contains the character {c:?}, which artifact names may not contain",
                    value.escape_debug()
                ),
                "remove \" : < > | * ? \\ / and line breaks from the name",
            ));
        }
        if value.len() > 256 {
            return Err(Error::input(input, "is longer than 256 characters", "use a shorter name"));
        }
        Ok(ArtifactName(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ArtifactName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the artifacts v4 service is and who we are to it.
#[derive(Debug, Clone)]
pub struct ResultsService {
    pub base_url: String,
    pub token: Secret,
    pub ids: BackendIds,
}

const SERVICE: &str = "github.actions.results.api.v1.ArtifactService";
/// Twirp answers are small JSON documents; anything larger is refused.
const MAX_TWIRP_ANSWER: usize = 8 * 1024 * 1024;

/// The run and job ids the Results service knows us by. They are UUIDs taken from
/// the runtime token's `scp` claim, not `GITHUB_RUN_ID`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendIds {
    pub workflow_run_backend_id: String,
    pub workflow_job_run_backend_id: String,
}

impl BackendIds {
    pub fn from_runtime_token(token: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::input(
                "ACTIONS_RUNTIME_TOKEN",
                why.to_string(),
                "leave the variable as the runner sets it; it cannot be made by hand",
            )
        };
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() != 3 {
            return Err(bad("is not a JWT (expected three dot-separated parts)"));
        }
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1].trim_end_matches('='))
            .map_err(|_| bad("has a payload that is not base64url"))?;
        let claims: serde_json::Value =
            serde_json::from_slice(&payload).map_err(|_| bad("has a payload that is not JSON"))?;
        let scp = claims.get("scp").and_then(|v| v.as_str()).ok_or_else(|| bad("has no `scp` claim"))?;
        for scope in scp.split(' ') {
            let p: Vec<&str> = scope.split(':').collect();
            if p.len() == 3 && p[0] == "Actions.Results" && !p[1].is_empty() && !p[2].is_empty() {
                return Ok(BackendIds {
                    workflow_run_backend_id: p[1].to_string(),
                    workflow_job_run_backend_id: p[2].to_string(),
                });
            }
        }
        Err(bad("has no `Actions.Results:<run>:<job>` entry in its `scp` claim"))
    }
}

/// One artifact of the current run, as ListArtifacts reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactEntry {
    pub ids: BackendIds,
    pub id: i64,
    pub name: String,
    pub size: u64,
    pub created_at: Option<String>,
    /// `sha256:<hex>` of the artifact zip, when the uploader sent one.
    pub digest: Option<String>,
}

#[derive(Debug)]
struct TwirpFailure {
    method: String,
    /// The service's refusal ([`decode_twirp`]); `None` when it did not answer one (a
    /// broken connection, an answer that could not be read).
    refusal: Option<Refusal>,
    msg: String,
}

impl std::fmt::Display for TwirpFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.method, self.describe())
    }
}

impl TwirpFailure {
    fn describe(&self) -> String {
        match &self.refusal {
            Some(r) => format!("HTTP {} {}: {}", r.status, r.code.as_deref().unwrap_or("unknown"), self.msg),
            None => self.msg.clone(),
        }
    }
}

/// The wire decoder of the artifact service's refusals: Twirp's JSON error,
/// `{"code": "<twirp code>", "msg": "…"}`, as a refusal with the Twirp code
/// (`permission_denied`, `already_exists`, `resource_exhausted`, `unavailable`…) and
/// `msg` as its message. Two facts have no code of their own:
/// - an exhausted storage quota comes as `permission_denied` or `resource_exhausted`
///   (which is also a throttle), told apart only by its `msg` saying `insufficient
///   usage` — the text the official client matches too (`@actions/artifact`,
///   `UsageError.isUsageErrorMessage`) ([`Refusal::QUOTA_EXHAUSTED`]);
/// - an intermediary's 403 has a body that is not JSON (the service answers every
///   refusal with JSON) ([`Refusal::INTERMEDIARY`]).
pub fn decode_twirp(status: u16, body: &[u8]) -> Refusal {
    let text = String::from_utf8_lossy(body);
    let (code, msg) = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => (
            v.get("code").and_then(|c| c.as_str()).unwrap_or_default().to_string(),
            v.get("msg").and_then(|c| c.as_str()).unwrap_or(&text).to_string(),
        ),
        Err(_) => (String::new(), text.chars().take(500).collect()),
    };
    let code = if msg.contains("insufficient usage") {
        Refusal::QUOTA_EXHAUSTED
    } else if status == 403 && crate::http::not_json(body) {
        Refusal::INTERMEDIARY
    } else {
        &code
    };
    Refusal::new(status, code).with_message(&msg)
}

pub struct ArtifactService {
    http: reqwest::Client,
    base_url: String,
    token: Secret,
    ids: BackendIds,
    retry: RetryPolicy,
}

impl ArtifactService {
    /// A client of `service`, with the command's client and retry policy.
    pub fn new(net: &Net, service: &ResultsService) -> Self {
        ArtifactService {
            http: net.client.clone(),
            base_url: service.base_url.clone(),
            token: service.token.clone(),
            ids: service.ids.clone(),
            retry: net.retry,
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The run and job this client speaks for (the job running the audit).
    pub fn own_ids(&self) -> &BackendIds {
        &self.ids
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        method: &str,
        request: &Req,
    ) -> Result<Resp, TwirpFailure> {
        let url = format!("{}/twirp/{SERVICE}/{method}", self.base_url);
        log::debug!("artifact service: POST {url}");
        let failure = |refusal: Option<Refusal>, msg: String| TwirpFailure { method: method.to_string(), refusal, msg };
        with_retries(self.retry, || async {
            let response = match self.http.post(&url).bearer_auth(self.token.expose()).json(request).send().await {
                Err(e) => return Err(Attempt::retry(failure(None, without_url(&e)))),
                Ok(response) => response,
            };
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = read_bounded(response, MAX_TWIRP_ANSWER, method)
                .await
                .map_err(|e| Attempt::fatal(failure(None, format!("HTTP {status} read: {e}"))))?;
            if (200..300).contains(&status) {
                return serde_json::from_slice(&body).map_err(|e| {
                    Attempt::fatal(failure(
                        None,
                        format!("HTTP {status} malformed: the answer is not the expected JSON: {e}"),
                    ))
                });
            }
            // An exhausted quota is final whatever its status: `judge` says so.
            let refusal = decode_twirp(status, &body);
            Err(Attempt::judged(failure(Some(refusal.clone()), refusal.message.clone()), &refusal, &headers))
        })
        .await
        .map_err(|g| {
            if g.exhausted {
                TwirpFailure { msg: format!("{} (gave up after {} attempts)", g.error.msg, g.attempts), ..g.error }
            } else {
                g.error
            }
        })
    }

    fn failed(method: &str, f: TwirpFailure) -> Error {
        let status = f.refusal.as_ref().map(|r| r.status);
        let hint = if f.refusal.as_ref().is_some_and(|r| r.is(Refusal::QUOTA_EXHAUSTED)) {
            "the artifact storage quota of this account is used up: delete old artifacts or raise the quota; retrying will not help"
        } else if status == Some(401) || status == Some(403) {
            "the runtime token was refused; run this as a step of the workflow whose run it audits"
        } else {
            "try again; if it persists, check https://www.githubstatus.com"
        };
        let error = Error::service(format!("artifact service {method}"), f.describe(), hint);
        match f.refusal {
            Some(r) => error.with_refusal(r),
            None => error,
        }
    }

    /// Registers a new artifact and returns the signed URL its zip goes to.
    pub async fn create(&self, name: &ArtifactName, expires_at: Option<String>) -> Result<Secret> {
        #[derive(Serialize)]
        struct Req<'a> {
            #[serde(flatten)]
            ids: &'a BackendIds,
            name: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            expires_at: Option<String>,
            version: u32,
        }
        #[derive(Deserialize)]
        struct Resp {
            ok: bool,
            #[serde(default)]
            signed_upload_url: String,
        }
        let resp: Resp = self
            .call("CreateArtifact", &Req { ids: &self.ids, name: name.as_str(), expires_at, version: 4 })
            .await
            .map_err(|f| {
                if let Some(r) = f.refusal.clone().filter(|r| r.status == 409 || r.is("already_exists")) {
                    Error::service(
                        "artifact service CreateArtifact",
                        format!("an artifact named `{name}` already exists in this run"),
                        "set `overwrite: true` to replace it, or choose another `bundle-name`",
                    )
                    .with_refusal(r)
                } else {
                    Self::failed("CreateArtifact", f)
                }
            })?;
        if !resp.ok || resp.signed_upload_url.is_empty() {
            return Err(Error::service("artifact service CreateArtifact", "answered ok=false", "try again"));
        }
        Ok(Secret::new(resp.signed_upload_url))
    }

    /// Seals an uploaded artifact with its size and `sha256:` hash; returns its id.
    pub async fn finalize(&self, name: &ArtifactName, size: u64, sha256_hex: &str) -> Result<i64> {
        #[derive(Serialize)]
        struct Req<'a> {
            #[serde(flatten)]
            ids: &'a BackendIds,
            name: &'a str,
            size: String,
            hash: String,
        }
        #[derive(Deserialize)]
        struct Resp {
            ok: bool,
            #[serde(default, deserialize_with = "lenient_i64")]
            artifact_id: i64,
        }
        let req =
            Req { ids: &self.ids, name: name.as_str(), size: size.to_string(), hash: format!("sha256:{sha256_hex}") };
        let resp: Resp = self.call("FinalizeArtifact", &req).await.map_err(|f| Self::failed("FinalizeArtifact", f))?;
        if !resp.ok {
            return Err(Error::service("artifact service FinalizeArtifact", "answered ok=false", "try again"));
        }
        Ok(resp.artifact_id)
    }

    /// All artifacts of the current run (every job and attempt), newest per name.
    pub async fn list(&self, name_filter: Option<&str>) -> Result<Vec<ArtifactEntry>> {
        Ok(newest_per_name(self.list_all(name_filter).await?, |e| (&e.name, e.id)).0.into_values().collect())
    }

    /// All artifacts of the current run (every job and attempt), as the service lists
    /// them: a name re-uploaded by a later attempt is there once per attempt.
    pub async fn list_all(&self, name_filter: Option<&str>) -> Result<Vec<ArtifactEntry>> {
        #[derive(Serialize)]
        struct Req<'a> {
            #[serde(flatten)]
            ids: &'a BackendIds,
            #[serde(skip_serializing_if = "Option::is_none")]
            name_filter: Option<&'a str>,
        }
        #[derive(Deserialize)]
        struct Item {
            workflow_run_backend_id: String,
            workflow_job_run_backend_id: String,
            #[serde(deserialize_with = "lenient_i64")]
            database_id: i64,
            name: String,
            #[serde(default, deserialize_with = "lenient_i64")]
            size: i64,
            #[serde(default)]
            created_at: Option<String>,
            #[serde(default)]
            digest: Option<String>,
        }
        #[derive(Deserialize)]
        struct Resp {
            #[serde(default)]
            artifacts: Vec<Item>,
        }
        let resp: Resp = self
            .call("ListArtifacts", &Req { ids: &self.ids, name_filter })
            .await
            .map_err(|f| Self::failed("ListArtifacts", f))?;
        let entries = resp.artifacts.into_iter().map(|item| ArtifactEntry {
            ids: BackendIds {
                workflow_run_backend_id: item.workflow_run_backend_id,
                workflow_job_run_backend_id: item.workflow_job_run_backend_id,
            },
            id: item.database_id,
            name: item.name,
            size: item.size.max(0) as u64,
            created_at: item.created_at,
            digest: item.digest.filter(|d| !d.is_empty()),
        });
        Ok(entries.collect())
    }

    /// A short-lived URL to download one artifact's zip, without auth.
    pub async fn signed_download_url(&self, artifact: &ArtifactEntry) -> Result<Secret> {
        #[derive(Deserialize)]
        struct Resp {
            #[serde(default)]
            signed_url: String,
        }
        let resp: Resp = self
            .call("GetSignedArtifactURL", &NamedArtifact { ids: &artifact.ids, name: &artifact.name })
            .await
            .map_err(|f| Self::failed("GetSignedArtifactURL", f))?;
        if resp.signed_url.is_empty() {
            return Err(Error::service(
                "artifact service GetSignedArtifactURL",
                format!("no URL for `{}`", artifact.name),
                "try again",
            ));
        }
        Ok(Secret::new(resp.signed_url))
    }

    /// Deletes the newest artifact of that name in this run; returns its id.
    pub async fn delete(&self, name: &str) -> Result<i64> {
        #[derive(Deserialize)]
        struct Resp {
            #[serde(default, deserialize_with = "lenient_i64")]
            artifact_id: i64,
        }
        let resp: Resp = self
            .call("DeleteArtifact", &NamedArtifact { ids: &self.ids, name })
            .await
            .map_err(|f| Self::failed("DeleteArtifact", f))?;
        Ok(resp.artifact_id)
    }
}

/// The request of the methods that address one artifact by run, job and name.
#[derive(Serialize)]
struct NamedArtifact<'a> {
    #[serde(flatten)]
    ids: &'a BackendIds,
    name: &'a str,
}

/// int64 arrives as a JSON string per the proto3 JSON mapping; servers also send numbers.
fn lenient_i64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        N(i64),
        S(String),
    }
    match Num::deserialize(d)? {
        Num::N(n) => Ok(n),
        Num::S(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

/// An artifact left out for a newer one of its name: (name, its id, the id kept).
pub type Replaced = (String, i64, i64);

/// One artifact per name, the newest (highest id): a re-run job uploads its artifact
/// again under the same name, and the official client (`latest: true`) takes the
/// newest. Also returns each one left out, as (name, its id, the id kept instead).
pub fn newest_per_name<T>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> (&str, i64),
) -> (BTreeMap<String, T>, Vec<Replaced>) {
    let mut newest: BTreeMap<String, T> = BTreeMap::new();
    let mut replaced = Vec::new();
    for item in items {
        let (name, id) = key(&item);
        match newest.get(name).map(|kept| key(kept).1) {
            Some(kept) if kept >= id => replaced.push((name.to_string(), id, kept)),
            Some(kept) => {
                replaced.push((name.to_string(), kept, id));
                newest.insert(name.to_string(), item);
            }
            None => {
                newest.insert(name.to_string(), item);
            }
        }
    }
    (newest, replaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(payload: &str) -> String {
        let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.{}.sig", b.encode(r#"{"alg":"none"}"#), b.encode(payload))
    }

    #[test]
    fn backend_ids_come_from_the_scp_claim() {
        let t = token(
            r#"{"scp":"Actions.ExampleScope Actions.Results:ce7f54c7-61c7-4aae-887f-30da475f5f1a:ca395085-040a-526b-2ce8-bdc85f692774"}"#,
        );
        let ids = BackendIds::from_runtime_token(&t).unwrap();
        assert_eq!(ids.workflow_run_backend_id, "ce7f54c7-61c7-4aae-887f-30da475f5f1a");
        assert_eq!(ids.workflow_job_run_backend_id, "ca395085-040a-526b-2ce8-bdc85f692774");
    }

    #[test]
    fn malformed_tokens_are_named_and_not_echoed() {
        for bad in ["not-a-jwt", "a.%%%.c", &token(r#"{"sub":"x"}"#), &token(r#"{"scp":"Actions.Results:only-two"}"#)] {
            let err = BackendIds::from_runtime_token(bad).unwrap_err().to_string();
            assert!(err.contains("ACTIONS_RUNTIME_TOKEN"), "{err}");
            assert!(!err.contains(bad), "the token leaked into the error: {err}");
        }
    }
}
