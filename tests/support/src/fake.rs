//! An in-process fake of the GitHub services release-audit talks to: the artifacts v4
//! Results service (Twirp over JSON) and the REST routes for runs and artifacts.
//!
//! Blob storage is not faked: signed URLs point at the suite's real Azurite, and
//! FinalizeArtifact checks the uploaded blob's real size and sha256, as a strict
//! server would. The fake's fidelity is proven by the official `@actions/artifact`
//! client, which the suite runs against it (tests/it/official_client.rs).
//!
//! Faults can be injected per method (status, body, how many times) to exercise retry
//! and error paths; every call is recorded for assertions.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::azurite::Azurite;

pub const TWIRP_PREFIX: &str = "/twirp/github.actions.results.api.v1.ArtifactService/";

#[derive(Debug, Clone)]
pub struct StoredArtifact {
    pub run_backend_id: String,
    pub job_backend_id: String,
    pub database_id: i64,
    pub name: String,
    pub blob: String,
    pub size: i64,
    pub digest: Option<String>,
    pub finalized: bool,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub expired: bool,
    /// The `mime_type` CreateArtifact carried (`@actions/artifact` 6.x sends one; an
    /// artifact whose type is not a zip type was uploaded unzipped and its blob name
    /// does not end in `.zip`).
    pub mime_type: Option<String>,
}

/// A fault the blob side serves instead of a clean download (see
/// [`FakeGitHub::inject_blob_fault`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobFault {
    /// The full `Content-Length` is announced, half the body is sent, the connection closes.
    Truncate,
    /// The whole body with one byte flipped (its digest no longer matches).
    FlipByte,
    /// The connection is reset (RST) as soon as the request has arrived.
    Reset,
}

impl BlobFault {
    fn as_str(self) -> &'static str {
        match self {
            BlobFault::Truncate => "truncate",
            BlobFault::FlipByte => "flip-byte",
            BlobFault::Reset => "reset",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [BlobFault::Truncate, BlobFault::FlipByte, BlobFault::Reset].into_iter().find(|f| f.as_str() == s)
    }
}

/// The media types that make the official client unzip a download.
const ZIP_TYPES: [&str; 3] = ["application/zip", "application/x-zip-compressed", "application/zip-compressed"];

/// A workflow run known to the REST side of the fake.
#[derive(Debug, Clone)]
pub struct FakeRun {
    pub id: u64,
    pub backend_id: String,
    pub workflow_file: String,
    pub head_sha: String,
    pub run_attempt: u32,
    pub status: String,
    pub conclusion: Option<String>,
    pub created_at: String,
    pub jobs: usize,
    /// Blob holding the run's log archive, when seeded.
    pub logs_blob: Option<String>,
    /// What started the run (`workflow_dispatch` unless added with [`FakeGitHub::add_push_run`]).
    pub event: String,
    /// The branch or tag the run ran on (`main` unless given).
    pub head_branch: String,
}

/// A job of a run with its steps, as the jobs API describes it (times in whole seconds,
/// RFC 3339). A job that uploads an artifact does so inside one of its steps: the
/// artifact's `created_at` lies in that step's window.
#[derive(Debug, Clone)]
pub struct FakeJob {
    pub id: u64,
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub started_at: String,
    pub completed_at: Option<String>,
    pub steps: Vec<FakeStep>,
}

#[derive(Debug, Clone)]
pub struct FakeStep {
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub started_at: String,
    pub completed_at: Option<String>,
}

impl FakeStep {
    /// A completed step with its conclusion and window.
    pub fn completed(name: &str, conclusion: &str, started_at: &str, completed_at: &str) -> Self {
        FakeStep {
            name: name.into(),
            status: "completed".into(),
            conclusion: Some(conclusion.into()),
            started_at: started_at.into(),
            completed_at: Some(completed_at.into()),
        }
    }
}

impl FakeJob {
    /// A completed job whose window spans its steps.
    pub fn completed(id: u64, name: &str, conclusion: &str, steps: Vec<FakeStep>) -> Self {
        let started_at = steps.first().map(|s| s.started_at.clone()).unwrap_or_default();
        let completed_at = steps.last().and_then(|s| s.completed_at.clone());
        FakeJob {
            id,
            name: name.into(),
            status: "completed".into(),
            conclusion: Some(conclusion.into()),
            started_at,
            completed_at,
            steps,
        }
    }

    fn json(&self, run_id: u64) -> Value {
        let steps: Vec<Value> = self
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                json!({"name": s.name, "status": s.status, "conclusion": s.conclusion, "number": i + 1,
                       "started_at": s.started_at, "completed_at": s.completed_at})
            })
            .collect();
        json!({"id": self.id, "run_id": run_id, "name": self.name, "status": self.status, "conclusion": self.conclusion,
               "started_at": self.started_at, "completed_at": self.completed_at, "steps": steps})
    }
}

#[derive(Debug, Clone)]
pub struct Fault {
    pub method: String,
    pub status: u16,
    pub body: String,
    pub times: u32,
}

#[derive(Debug, Default)]
pub struct FakeState {
    pub artifacts: Vec<StoredArtifact>,
    pub runs: Vec<FakeRun>,
    pub next_id: i64,
    pub faults: VecDeque<Fault>,
    /// (method or route, request body or query) of every call, in order.
    pub calls: Vec<(String, Value)>,
    /// Authorization headers seen on REST routes (to prove the token is sent there and only there).
    pub rest_auth: Vec<Option<String>>,
    /// When set, REST routes answer 403 as for a token without `actions: read`.
    pub forbid_rest: bool,
    /// Releases and their assets (release routes at the end of this file).
    pub releases: Vec<FakeRelease>,
    /// When set, the token may read releases but not change them (no `contents: write`).
    pub release_writes_forbidden: bool,
    /// Job statuses other than `completed`, by job id (e.g. the audit job, in progress).
    pub job_status: std::collections::HashMap<u64, String>,
    /// When each job given a status other than `completed` started (the status was set).
    pub job_started: std::collections::HashMap<u64, String>,
    /// Runs whose jobs are given one by one ([`FakeGitHub::add_job`]): the jobs route
    /// serves these instead of generated ones.
    pub explicit_jobs: std::collections::HashMap<u64, Vec<FakeJob>>,
    /// Blobs holding single jobs' plain-text logs, by job id.
    pub job_logs: std::collections::HashMap<u64, String>,
    /// The workflow attempt each explicit job ran in (the jobs API's `run_attempt`), by
    /// job id; a job without one is listed without it.
    pub job_attempts: std::collections::HashMap<u64, u32>,
    /// Faults for the next artifact blob downloads: each signed URL handed out while one
    /// is pending points at the faulty blob server and uses up one of its `times`.
    pub blob_faults: VecDeque<(BlobFault, u32)>,
}

pub struct FakeGitHub {
    pub url: String,
    pub container: String,
    pub azurite: Azurite,
    pub state: Arc<Mutex<FakeState>>,
    pub runtime_token: String,
    pub rest_token: String,
    pub run_backend_id: String,
    pub job_backend_id: String,
    /// The change-trail routes (compare, commit → pulls, reviews, approvals, tags).
    pub changes: crate::fake_changes::FakeChanges,
    _server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Ctx {
    state: Arc<Mutex<FakeState>>,
    azurite: Azurite,
    container: String,
    runtime_token: String,
    rest_token: String,
    base_url: String,
    /// `http://127.0.0.1:<port>` of the faulty blob server.
    faulty_blob_url: String,
}

/// A JWT whose payload carries the `scp` claim the Results service reads (unsigned,
/// like the official client assumes: it never verifies it).
pub fn runtime_token(run_backend_id: &str, job_backend_id: &str) -> String {
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = json!({"scp": format!("Actions.GenericRead:00000000-0000-0000-0000-000000000000 Actions.Results:{run_backend_id}:{job_backend_id}")});
    format!("{}.{}.c2lnbmF0dXJl", b.encode(r#"{"alg":"RS256","typ":"JWT"}"#), b.encode(payload.to_string()))
}

fn uuid_like(seed: &str) -> String {
    let h = hex::encode(Sha256::digest(format!("{seed}{:?}", std::time::SystemTime::now())));
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

impl FakeGitHub {
    /// Starts the fake on a free loopback port, with its own Azurite container.
    pub async fn start() -> Self {
        let azurite = Azurite::from_env();
        let container = format!("actions-results-{}", &uuid_like("c")[0..8]);
        azurite.create_container(&container).await;
        let run_backend_id = uuid_like("run");
        let job_backend_id = uuid_like("job");
        let runtime_token = runtime_token(&run_backend_id, &job_backend_id);
        let rest_token = format!("ghs_fake{}", &uuid_like("t")[0..12]);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port is free");
        let addr: SocketAddr = listener.local_addr().expect("bound");
        let url = format!("http://{addr}");
        let state = Arc::new(Mutex::new(FakeState { next_id: 1000, ..Default::default() }));
        let faulty_blob_url = start_faulty_blob_server(azurite.clone(), state.clone()).await;
        let ctx = Ctx {
            state: state.clone(),
            azurite: azurite.clone(),
            container: container.clone(),
            runtime_token: runtime_token.clone(),
            rest_token: rest_token.clone(),
            base_url: url.clone(),
            faulty_blob_url,
        };
        let app = Router::new()
            .route("/twirp/github.actions.results.api.v1.ArtifactService/{method}", post(twirp))
            .route("/repos/{owner}/{repo}/actions/runs/{run_id}/artifacts", get(rest_run_artifacts))
            .route("/repos/{owner}/{repo}/actions/artifacts/{artifact_id}/zip", get(rest_artifact_zip))
            .route("/repos/{owner}/{repo}/actions/runs/{run_id}", get(rest_run))
            .route("/repos/{owner}/{repo}/actions/runs/{run_id}/jobs", get(rest_run_jobs))
            .route("/repos/{owner}/{repo}/actions/runs/{run_id}/logs", get(rest_run_logs))
            .route("/repos/{owner}/{repo}/actions/jobs/{job_id}/logs", get(rest_job_logs))
            .route("/repos/{owner}/{repo}/actions/workflows/{workflow}/runs", get(rest_workflow_runs))
            .route("/repos/{owner}/{repo}/releases", get(rest_releases))
            .route("/repos/{owner}/{repo}/releases/tags/{tag}", get(rest_release_by_tag))
            .route("/repos/{owner}/{repo}/releases/{release_id}/assets", get(rest_release_assets))
            .route(
                "/repos/{owner}/{repo}/releases/assets/{asset_id}",
                axum::routing::delete(rest_delete_release_asset).patch(rest_rename_release_asset),
            )
            .route(
                "/uploads/repos/{owner}/{repo}/releases/{release_id}/assets",
                post(upload_release_asset).layer(axum::extract::DefaultBodyLimit::max(256 * 1024 * 1024)),
            )
            .with_state(ctx);
        let changes = crate::fake_changes::FakeChanges::new(&rest_token);
        let app = app.merge(changes.router());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the fake serves");
        });
        let fake = FakeGitHub {
            url,
            container,
            azurite,
            state,
            runtime_token,
            rest_token,
            run_backend_id,
            job_backend_id,
            changes,
            _server: server,
        };
        // The run the step belongs to, in progress, with a few jobs.
        fake.state.lock().unwrap().runs.push(FakeRun {
            id: crate::step::RUN_ID,
            backend_id: fake.run_backend_id.clone(),
            workflow_file: "create-release.yml".into(),
            head_sha: crate::step::SHA.into(),
            run_attempt: 1,
            status: "in_progress".into(),
            conclusion: None,
            created_at: timestamp_now(),
            jobs: 3,
            logs_blob: None,
            event: "workflow_dispatch".into(),
            head_branch: "main".into(),
        });
        fake
    }

    /// The environment the runner gives a step, pointing at this fake.
    pub fn runtime_env(&self) -> Vec<(String, String)> {
        vec![
            ("ACTIONS_RUNTIME_TOKEN".into(), self.runtime_token.clone()),
            ("ACTIONS_RESULTS_URL".into(), format!("{}/", self.url)),
            ("ACTIONS_RUNTIME_URL".into(), format!("{}/runtime/", self.url)),
            ("GITHUB_API_URL".into(), self.url.clone()),
        ]
    }

    /// Makes the next `times` artifact blob downloads (through GetSignedArtifactURL or
    /// the REST zip route) fail with `fault`; `u32::MAX` makes it persist.
    pub fn inject_blob_fault(&self, fault: BlobFault, times: u32) {
        self.state.lock().unwrap().blob_faults.push_back((fault, times));
    }

    /// Makes the next `times` calls of `method` fail with `status` and `body`.
    pub fn inject_fault(&self, method: &str, status: u16, body: &str, times: u32) {
        self.state.lock().unwrap().faults.push_back(Fault { method: method.into(), status, body: body.into(), times });
    }

    pub fn calls(&self, method: &str) -> Vec<Value> {
        self.state.lock().unwrap().calls.iter().filter(|(m, _)| m == method).map(|(_, v)| v.clone()).collect()
    }

    pub fn artifacts(&self) -> Vec<StoredArtifact> {
        self.state.lock().unwrap().artifacts.clone()
    }

    /// Registers another workflow run for the REST routes; returns its backend id.
    pub fn add_run(&self, id: u64, workflow_file: &str, head_sha: &str, conclusion: &str) -> String {
        let backend_id = uuid_like(&id.to_string());
        self.state.lock().unwrap().runs.push(FakeRun {
            id,
            backend_id: backend_id.clone(),
            workflow_file: workflow_file.into(),
            head_sha: head_sha.into(),
            run_attempt: 1,
            status: "completed".into(),
            conclusion: Some(conclusion.into()),
            created_at: timestamp_now(),
            jobs: 2,
            logs_blob: None,
            event: "workflow_dispatch".into(),
            head_branch: "main".into(),
        });
        backend_id
    }

    /// Registers a run started by a push of `branch_or_tag` at `head_sha` (a tag push's
    /// run has the tag as `head_branch`, as GitHub shows it); returns its backend id.
    pub fn add_push_run(
        &self,
        id: u64,
        workflow_file: &str,
        branch_or_tag: &str,
        head_sha: &str,
        conclusion: &str,
    ) -> String {
        let backend_id = self.add_run(id, workflow_file, head_sha, conclusion);
        let mut s = self.state.lock().unwrap();
        let run = s.runs.iter_mut().find(|r| r.id == id).expect("just added");
        run.event = "push".into();
        run.head_branch = branch_or_tag.into();
        backend_id
    }

    /// Sets how many jobs a run has (the jobs route pages them, 30 by default).
    pub fn set_jobs(&self, run_id: u64, jobs: usize) {
        let mut s = self.state.lock().unwrap();
        s.runs.iter_mut().find(|r| r.id == run_id).expect("known run").jobs = jobs;
    }

    /// Marks an artifact expired: listed with `expired: true`, its zip answers 410.
    pub fn expire(&self, artifact_id: i64) {
        let mut s = self.state.lock().unwrap();
        s.artifacts.iter_mut().find(|a| a.database_id == artifact_id).expect("known artifact").expired = true;
    }

    /// Makes every REST route answer 403, as for a token without `actions: read`.
    pub fn forbid_rest(&self) {
        self.state.lock().unwrap().forbid_rest = true;
    }

    /// Stores a run's log archive in Azurite; the logs route redirects to it.
    pub async fn seed_logs(&self, run_id: u64, zip_bytes: &[u8]) {
        let blob = format!("logs/{run_id}.zip");
        self.put_blob(&blob, zip_bytes).await;
        let mut s = self.state.lock().unwrap();
        s.runs.iter_mut().find(|r| r.id == run_id).expect("known run").logs_blob = Some(blob);
    }

    /// Stores one job's plain-text log; the job-logs route redirects to it.
    pub async fn seed_job_log(&self, job_id: u64, text: &[u8]) {
        let blob = format!("job-logs/{job_id}.txt");
        self.put_blob(&blob, text).await;
        self.state.lock().unwrap().job_logs.insert(job_id, blob);
    }

    /// Sets a job's status (jobs are `completed` unless set otherwise); a job not
    /// completed started now.
    pub fn set_job_status(&self, job_id: u64, status: &str) {
        let mut s = self.state.lock().unwrap();
        s.job_status.insert(job_id, status.to_string());
        s.job_started.insert(job_id, timestamp_now());
    }

    /// Gives a run this job (with its steps); once a run has one, its jobs are exactly
    /// the ones given.
    pub fn add_job(&self, run_id: u64, job: FakeJob) {
        self.state.lock().unwrap().explicit_jobs.entry(run_id).or_default().push(job);
    }

    /// Says which workflow attempt a job given with [`FakeGitHub::add_job`] ran in
    /// (the jobs API lists every attempt's jobs, each with its `run_attempt`).
    pub fn set_job_attempt(&self, job_id: u64, attempt: u32) {
        self.state.lock().unwrap().job_attempts.insert(job_id, attempt);
    }

    /// Sets when the artifact service says an artifact was created.
    pub fn set_artifact_created_at(&self, artifact_id: i64, created_at: &str) {
        let mut s = self.state.lock().unwrap();
        s.artifacts.iter_mut().find(|a| a.database_id == artifact_id).expect("known artifact").created_at =
            created_at.into();
    }

    async fn put_blob(&self, blob: &str, bytes: &[u8]) {
        self.put_blob_typed(blob, bytes, "application/zip").await
    }

    async fn put_blob_typed(&self, blob: &str, bytes: &[u8], content_type: &str) {
        let url =
            self.azurite.blob_sas_url(&self.container, blob, "cw", chrono::Utc::now() + chrono::Duration::hours(1));
        let r = crate::http()
            .put(&url)
            .header("x-ms-blob-type", "BlockBlob")
            .header("x-ms-version", "2020-12-06")
            .header("x-ms-blob-content-type", content_type)
            .body(bytes.to_vec())
            .send()
            .await
            .expect("Azurite answers");
        assert!(r.status().is_success(), "seeding blob {blob} failed: {}", r.status());
    }

    /// Stores a finalized artifact directly (as if another job uploaded it): the zip
    /// bytes go to Azurite; returns its id.
    pub async fn seed_artifact(&self, run_backend_id: &str, name: &str, zip_bytes: &[u8]) -> i64 {
        self.seed(run_backend_id, name, zip_bytes, None).await
    }

    /// Stores a finalized artifact uploaded unzipped (upload-artifact v7 `archive: false`):
    /// `bytes` are the single file, its blob has `content_type` and a name without
    /// `.zip`, as `@actions/artifact` 6.x leaves it; returns its id.
    pub async fn seed_file_artifact(&self, run_backend_id: &str, name: &str, bytes: &[u8], content_type: &str) -> i64 {
        self.seed(run_backend_id, name, bytes, Some(content_type)).await
    }

    /// Stores a finalized artifact: a zip (`content_type` none) or a single file.
    async fn seed(&self, run_backend_id: &str, name: &str, bytes: &[u8], content_type: Option<&str>) -> i64 {
        let id = {
            let mut s = self.state.lock().unwrap();
            s.next_id += 1;
            s.next_id
        };
        match content_type {
            None => {
                let blob = format!("{run_backend_id}/seed/{id}/{name}.zip");
                self.put_blob(&blob, bytes).await;
                self.push_seeded(run_backend_id, id, name, blob, bytes, None)
            }
            Some(content_type) => {
                let blob = format!("{run_backend_id}/seed/{id}/{name}");
                self.put_blob_typed(&blob, bytes, content_type).await;
                self.push_seeded(run_backend_id, id, name, blob, bytes, Some(content_type.into()))
            }
        }
    }

    fn push_seeded(
        &self,
        run_backend_id: &str,
        id: i64,
        name: &str,
        blob: String,
        bytes: &[u8],
        mime_type: Option<String>,
    ) -> i64 {
        self.state.lock().unwrap().artifacts.push(StoredArtifact {
            run_backend_id: run_backend_id.into(),
            job_backend_id: "seed-job".into(),
            database_id: id,
            name: name.into(),
            blob,
            size: bytes.len() as i64,
            digest: Some(format!("sha256:{}", hex::encode(Sha256::digest(bytes)))),
            finalized: true,
            created_at: timestamp_now(),
            expires_at: None,
            expired: false,
            mime_type,
        });
        id
    }
}

impl Ctx {
    /// A read URL for an artifact's blob; while a blob fault is pending, it points at
    /// the faulty blob server (same path, same signature) and uses the fault up once.
    fn artifact_download_url(&self, blob: &str, valid: chrono::Duration) -> String {
        let url = self.azurite.blob_sas_url(&self.container, blob, "r", chrono::Utc::now() + valid);
        let mut s = self.state.lock().unwrap();
        let Some((fault, times)) = s.blob_faults.front_mut() else { return url };
        let fault = *fault;
        *times = times.saturating_sub(1);
        if *times == 0 {
            s.blob_faults.pop_front();
        }
        let origin = self.azurite.account_url.split('/').take(3).collect::<Vec<_>>().join("/");
        let rest = url.strip_prefix(&origin).expect("a signed URL starts with Azurite's origin");
        format!("{}/{}{rest}", self.faulty_blob_url, fault.as_str())
    }
}

/// A raw HTTP/1.1 server for blob downloads gone wrong: `GET /<fault>/<Azurite path>?<SAS>`
/// fetches the blob from Azurite with the same signature and serves it damaged as
/// `<fault>` says (hand-written, so that it can break a response the way a network
/// does: a short body under a full Content-Length, or a TCP reset). Every request is
/// recorded as the call `blob fault` with the fault's name.
async fn start_faulty_blob_server(azurite: Azurite, state: Arc<Mutex<FakeState>>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port is free");
    let addr = listener.local_addr().expect("bound");
    let origin = azurite.account_url.split('/').take(3).collect::<Vec<_>>().join("/");
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { continue };
            let origin = origin.clone();
            let state = state.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (kind, rest) = target.trim_start_matches('/').split_once('/').unwrap_or(("", ""));
                let Some(fault) = BlobFault::parse(kind) else { return };
                state.lock().unwrap().calls.push(("blob fault".into(), json!({"fault": kind})));
                if fault == BlobFault::Reset {
                    #[allow(deprecated)]
                    let _ = socket.set_linger(Some(std::time::Duration::ZERO));
                    drop(socket);
                    return;
                }
                let upstream = crate::http().get(format!("{origin}/{rest}")).send().await.expect("Azurite answers");
                let status = upstream.status().as_u16();
                let content_type =
                    upstream.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
                let mut body = upstream.bytes().await.expect("Azurite sends the blob").to_vec();
                let mut header =
                    format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
                if let Some(t) = content_type {
                    header.push_str(&format!("Content-Type: {t}\r\n"));
                }
                header.push_str("\r\n");
                match fault {
                    BlobFault::Truncate => body.truncate(body.len() / 2),
                    BlobFault::FlipByte if !body.is_empty() => {
                        let middle = body.len() / 2;
                        body[middle] ^= 0x01;
                    }
                    _ => {}
                }
                let _ = socket.write_all(header.as_bytes()).await;
                let _ = socket.write_all(&body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

fn twirp_error(status: StatusCode, code: &str, msg: &str) -> Response {
    (status, Json(json!({"code": code, "msg": msg}))).into_response()
}

/// Reads a field by its proto name or its camelCase JSON name; int64 may be a string.
fn field<'a>(body: &'a Value, snake: &str) -> Option<&'a Value> {
    body.get(snake).or_else(|| {
        let camel: String = snake
            .split('_')
            .enumerate()
            .map(|(i, p)| if i == 0 { p.to_string() } else { p[..1].to_uppercase() + &p[1..] })
            .collect();
        body.get(camel)
    })
}

fn str_field(body: &Value, name: &str) -> Option<String> {
    field(body, name).and_then(|v| v.as_str().map(str::to_string))
}

fn int_field(body: &Value, name: &str) -> Option<i64> {
    field(body, name).and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
}

fn artifact_json(a: &StoredArtifact) -> Value {
    let mut v = json!({
        "workflow_run_backend_id": a.run_backend_id,
        "workflow_job_run_backend_id": a.job_backend_id,
        "database_id": a.database_id.to_string(),
        "name": a.name,
        "size": a.size.to_string(),
        "created_at": a.created_at,
    });
    if let Some(d) = &a.digest {
        v["digest"] = json!(d);
    }
    v
}

async fn twirp(State(ctx): State<Ctx>, Path(method): Path<String>, headers: HeaderMap, body: String) -> Response {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if auth != format!("Bearer {}", ctx.runtime_token) {
        return twirp_error(StatusCode::UNAUTHORIZED, "unauthenticated", "invalid runtime token");
    }
    let body: Value = match serde_json::from_str(&body) {
        Ok(v) => v,
        Err(e) => return twirp_error(StatusCode::BAD_REQUEST, "malformed", &format!("body is not JSON: {e}")),
    };
    {
        let mut s = ctx.state.lock().unwrap();
        s.calls.push((method.clone(), body.clone()));
        if let Some(i) = s.faults.iter().position(|f| f.method == method) {
            let fault = s.faults[i].clone();
            if fault.times <= 1 {
                s.faults.remove(i);
            } else {
                s.faults[i].times -= 1;
            }
            drop(s);
            let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, [(header::CONTENT_TYPE, "application/json")], fault.body).into_response();
        }
    }
    let Some(run) = str_field(&body, "workflow_run_backend_id") else {
        return twirp_error(StatusCode::BAD_REQUEST, "invalid_argument", "workflow_run_backend_id is required");
    };
    let Some(job) = str_field(&body, "workflow_job_run_backend_id") else {
        return twirp_error(StatusCode::BAD_REQUEST, "invalid_argument", "workflow_job_run_backend_id is required");
    };
    match method.as_str() {
        "CreateArtifact" => create_artifact(&ctx, &body, run, job),
        "FinalizeArtifact" => finalize_artifact(&ctx, &body, run).await,
        "ListArtifacts" => list_artifacts(&ctx, &body, run),
        "GetSignedArtifactURL" => signed_url(&ctx, &body, run),
        "DeleteArtifact" => delete_artifact(&ctx, &body, run),
        other => twirp_error(StatusCode::NOT_FOUND, "bad_route", &format!("no method {other}")),
    }
}

fn create_artifact(ctx: &Ctx, body: &Value, run: String, job: String) -> Response {
    let Some(name) = str_field(body, "name") else {
        return twirp_error(StatusCode::BAD_REQUEST, "invalid_argument", "name is required");
    };
    if name.is_empty() || name.chars().any(|c| "\":<>|*?\r\n\\/".contains(c)) {
        return twirp_error(StatusCode::BAD_REQUEST, "invalid_argument", "invalid artifact name");
    }
    // release-audit and @actions/artifact 2.x send 4; 6.x sends 7.
    if !matches!(int_field(body, "version"), Some(4..=7)) {
        return twirp_error(StatusCode::BAD_REQUEST, "invalid_argument", "version must be 4 to 7");
    }
    // A google.protobuf.StringValue: a plain string in JSON (an object with `value` is accepted too).
    let mime_type = field(body, "mime_type")
        .and_then(|v| v.as_str().or_else(|| v.get("value").and_then(|x| x.as_str())).map(str::to_string));
    let expires_at = str_field(body, "expires_at");
    if let Some(e) = &expires_at
        && chrono::DateTime::parse_from_rfc3339(e).is_err()
    {
        return twirp_error(StatusCode::BAD_REQUEST, "invalid_argument", "expires_at is not RFC 3339");
    }
    let mut s = ctx.state.lock().unwrap();
    if s.artifacts.iter().any(|a| a.run_backend_id == run && a.name == name && a.finalized) {
        return twirp_error(
            StatusCode::CONFLICT,
            "already_exists",
            &format!("an artifact with this name already exists on the workflow run: {name}"),
        );
    }
    s.next_id += 1;
    let id = s.next_id;
    let unzipped = mime_type.as_deref().is_some_and(|t| !ZIP_TYPES.contains(&t));
    let blob = if unzipped { format!("{run}/{job}/{id}/{name}") } else { format!("{run}/{job}/{id}/{name}.zip") };
    s.artifacts.push(StoredArtifact {
        run_backend_id: run,
        job_backend_id: job,
        database_id: id,
        name,
        blob: blob.clone(),
        size: 0,
        digest: None,
        finalized: false,
        created_at: timestamp_now(),
        expires_at,
        expired: false,
        mime_type,
    });
    let url = ctx.azurite.blob_sas_url(&ctx.container, &blob, "cw", chrono::Utc::now() + chrono::Duration::hours(1));
    Json(json!({"ok": true, "signed_upload_url": url})).into_response()
}

async fn finalize_artifact(ctx: &Ctx, body: &Value, run: String) -> Response {
    let name = str_field(body, "name").unwrap_or_default();
    let Some(size) = int_field(body, "size") else {
        return twirp_error(StatusCode::BAD_REQUEST, "invalid_argument", "size is required");
    };
    let hash = str_field(body, "hash");
    let blob = {
        let s = ctx.state.lock().unwrap();
        match s.artifacts.iter().rev().find(|a| a.run_backend_id == run && a.name == name && !a.finalized) {
            Some(a) => a.blob.clone(),
            None => return twirp_error(StatusCode::NOT_FOUND, "not_found", "no artifact to finalize"),
        }
    };
    let Some(bytes) = ctx.azurite.read_blob(&ctx.container, &blob).await else {
        return twirp_error(StatusCode::BAD_REQUEST, "failed_precondition", "the blob was never uploaded");
    };
    if bytes.len() as i64 != size {
        return twirp_error(
            StatusCode::BAD_REQUEST,
            "invalid_argument",
            &format!("size {size} does not match the uploaded {} bytes", bytes.len()),
        );
    }
    let actual = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
    if let Some(h) = &hash
        && h != &actual
    {
        return twirp_error(
            StatusCode::BAD_REQUEST,
            "invalid_argument",
            &format!("hash {h} does not match the uploaded blob"),
        );
    }
    let mut s = ctx.state.lock().unwrap();
    let a = s
        .artifacts
        .iter_mut()
        .rev()
        .find(|a| a.run_backend_id == run && a.name == name && !a.finalized)
        .expect("still there");
    a.finalized = true;
    a.size = size;
    a.digest = hash;
    Json(json!({"ok": true, "artifact_id": a.database_id.to_string()})).into_response()
}

fn list_artifacts(ctx: &Ctx, body: &Value, run: String) -> Response {
    let name_filter = str_field(body, "name_filter");
    let id_filter = int_field(body, "id_filter");
    let s = ctx.state.lock().unwrap();
    let items: Vec<Value> = s
        .artifacts
        .iter()
        .filter(|a| a.run_backend_id == run && a.finalized)
        .filter(|a| name_filter.as_ref().is_none_or(|n| &a.name == n))
        .filter(|a| id_filter.is_none_or(|i| a.database_id == i))
        .map(artifact_json)
        .collect();
    Json(json!({"artifacts": items})).into_response()
}

fn signed_url(ctx: &Ctx, body: &Value, run: String) -> Response {
    let name = str_field(body, "name").unwrap_or_default();
    let s = ctx.state.lock().unwrap();
    match s
        .artifacts
        .iter()
        .filter(|a| a.run_backend_id == run && a.name == name && a.finalized)
        .max_by_key(|a| a.database_id)
    {
        Some(a) => {
            let blob = a.blob.clone();
            drop(s);
            let url = ctx.artifact_download_url(&blob, chrono::Duration::minutes(10));
            Json(json!({"signed_url": url})).into_response()
        }
        None => twirp_error(StatusCode::NOT_FOUND, "not_found", "artifact not found"),
    }
}

fn delete_artifact(ctx: &Ctx, body: &Value, run: String) -> Response {
    let name = str_field(body, "name").unwrap_or_default();
    let mut s = ctx.state.lock().unwrap();
    let newest = s
        .artifacts
        .iter()
        .enumerate()
        .filter(|(_, a)| a.run_backend_id == run && a.name == name && a.finalized)
        .max_by_key(|(_, a)| a.database_id)
        .map(|(i, _)| i);
    match newest {
        Some(i) => {
            let a = s.artifacts.remove(i);
            Json(json!({"ok": true, "artifact_id": a.database_id.to_string()})).into_response()
        }
        None => twirp_error(StatusCode::NOT_FOUND, "not_found", "artifact not found"),
    }
}

// ---- REST ----

#[allow(clippy::result_large_err)] // an axum Response is the natural refusal of a handler
fn rest_authorized(ctx: &Ctx, headers: &HeaderMap, route: &str, query: Value) -> Result<(), Response> {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut s = ctx.state.lock().unwrap();
    s.calls.push((route.to_string(), query));
    s.rest_auth.push(auth.clone());
    let ok = matches!(auth.as_deref(), Some(a) if a == format!("Bearer {}", ctx.rest_token) || a == format!("token {}", ctx.rest_token));
    if ok && s.forbid_rest {
        return Err((
            StatusCode::FORBIDDEN,
            Json(json!({"message": "Resource not accessible by integration", "status": "403"})),
        )
            .into_response());
    }
    if ok {
        Ok(())
    } else {
        Err((StatusCode::UNAUTHORIZED, Json(json!({"message": "Bad credentials", "status": "401"}))).into_response())
    }
}

#[derive(Deserialize)]
struct Paging {
    per_page: Option<usize>,
    page: Option<usize>,
    name: Option<String>,
    head_sha: Option<String>,
    status: Option<String>,
    event: Option<String>,
    branch: Option<String>,
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found", "status": "404"}))).into_response()
}

fn run_json(ctx: &Ctx, owner: &str, repo: &str, r: &FakeRun) -> Value {
    json!({
        "id": r.id, "name": r.workflow_file, "path": format!(".github/workflows/{}", r.workflow_file),
        "head_sha": r.head_sha, "run_attempt": r.run_attempt, "status": r.status, "conclusion": r.conclusion,
        "created_at": r.created_at, "event": r.event, "head_branch": r.head_branch,
        "html_url": format!("https://github.com/{owner}/{repo}/actions/runs/{}", r.id),
        "url": format!("{}/repos/{owner}/{repo}/actions/runs/{}", ctx.base_url, r.id),
    })
}

async fn rest_run(
    State(ctx): State<Ctx>,
    Path((owner, repo, run_id)): Path<(String, String, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) =
        rest_authorized(&ctx, &headers, "GET run", json!({"run_id": run_id, "repository": format!("{owner}/{repo}")}))
    {
        return r;
    }
    let s = ctx.state.lock().unwrap();
    match s.runs.iter().find(|r| r.id == run_id) {
        Some(r) => Json(run_json(&ctx, &owner, &repo, r)).into_response(),
        None => not_found(),
    }
}

async fn rest_workflow_runs(
    State(ctx): State<Ctx>,
    Path((owner, repo, workflow)): Path<(String, String, String)>,
    Query(q): Query<Paging>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = rest_authorized(
        &ctx,
        &headers,
        "GET workflow runs",
        json!({"workflow": workflow, "head_sha": q.head_sha, "status": q.status, "event": q.event, "branch": q.branch}),
    ) {
        return r;
    }
    let s = ctx.state.lock().unwrap();
    let mut runs: Vec<&FakeRun> = s
        .runs
        .iter()
        .filter(|r| r.workflow_file == workflow)
        .filter(|r| q.head_sha.as_ref().is_none_or(|h| &r.head_sha == h))
        .filter(|r| q.status.as_ref().is_none_or(|st| &r.status == st))
        .filter(|r| q.event.as_ref().is_none_or(|e| &r.event == e))
        .filter(|r| q.branch.as_ref().is_none_or(|b| &r.head_branch == b))
        .collect();
    runs.sort_by_key(|r| std::cmp::Reverse(r.id));
    let all: Vec<Value> = runs.iter().map(|r| run_json(&ctx, &owner, &repo, r)).collect();
    let (page, total) = paginate(&all, &q);
    Json(json!({"total_count": total, "workflow_runs": page})).into_response()
}

fn paginate(all: &[Value], q: &Paging) -> (Vec<Value>, usize) {
    let per_page = q.per_page.unwrap_or(30).clamp(1, 100);
    let page = q.page.unwrap_or(1).max(1);
    (all.iter().skip((page - 1) * per_page).take(per_page).cloned().collect(), all.len())
}

async fn rest_run_artifacts(
    State(ctx): State<Ctx>,
    Path((owner, repo, run_id)): Path<(String, String, u64)>,
    Query(q): Query<Paging>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = rest_authorized(
        &ctx,
        &headers,
        "GET run artifacts",
        json!({"run_id": run_id, "per_page": q.per_page, "page": q.page, "name": q.name, "repository": format!("{owner}/{repo}")}),
    ) {
        return r;
    }
    let s = ctx.state.lock().unwrap();
    let Some(run) = s.runs.iter().find(|r| r.id == run_id) else { return not_found() };
    let all: Vec<Value> = s
        .artifacts
        .iter()
        .filter(|a| a.run_backend_id == run.backend_id && a.finalized)
        .filter(|a| q.name.as_ref().is_none_or(|n| &a.name == n))
        .map(|a| {
            json!({
                "id": a.database_id, "node_id": format!("MDg6QXJ0aWZhY3Q{}", a.database_id), "name": a.name,
                "size_in_bytes": a.size, "expired": a.expired, "created_at": a.created_at, "expires_at": a.expires_at,
                "digest": a.digest,
                "url": format!("{}/repos/{owner}/{repo}/actions/artifacts/{}", ctx.base_url, a.database_id),
                "archive_download_url": format!("{}/repos/{owner}/{repo}/actions/artifacts/{}/zip", ctx.base_url, a.database_id),
                "workflow_run": {"id": run.id, "head_sha": run.head_sha, "head_branch": "main"},
            })
        })
        .collect();
    let (page, total) = paginate(&all, &q);
    Json(json!({"total_count": total, "artifacts": page})).into_response()
}

async fn rest_artifact_zip(
    State(ctx): State<Ctx>,
    Path((owner, repo, artifact_id)): Path<(String, String, i64)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = rest_authorized(
        &ctx,
        &headers,
        "GET artifact zip",
        json!({"artifact_id": artifact_id, "repository": format!("{owner}/{repo}")}),
    ) {
        return r;
    }
    let s = ctx.state.lock().unwrap();
    match s.artifacts.iter().find(|a| a.database_id == artifact_id && a.finalized) {
        Some(a) if a.expired => {
            (StatusCode::GONE, Json(json!({"message": "Artifact has expired", "status": "410"}))).into_response()
        }
        Some(a) => {
            let blob = a.blob.clone();
            drop(s);
            let url = ctx.artifact_download_url(&blob, chrono::Duration::minutes(1));
            (StatusCode::FOUND, [(header::LOCATION, url)]).into_response()
        }
        None => not_found(),
    }
}

async fn rest_run_jobs(
    State(ctx): State<Ctx>,
    Path((owner, repo, run_id)): Path<(String, String, u64)>,
    Query(q): Query<Paging>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = rest_authorized(
        &ctx,
        &headers,
        "GET run jobs",
        json!({"run_id": run_id, "per_page": q.per_page, "page": q.page, "repository": format!("{owner}/{repo}")}),
    ) {
        return r;
    }
    let s = ctx.state.lock().unwrap();
    let Some(run) = s.runs.iter().find(|r| r.id == run_id) else { return not_found() };
    let all: Vec<Value> = match s.explicit_jobs.get(&run_id) {
        Some(jobs) => jobs
            .iter()
            .map(|j| {
                let mut job = j.json(run_id);
                if let Some(attempt) = s.job_attempts.get(&j.id) {
                    job["run_attempt"] = json!(attempt);
                }
                job
            })
            .collect(),
        None => generated_jobs(&s, run),
    };
    let (page, total) = paginate(&all, &q);
    Json(json!({"total_count": total, "jobs": page})).into_response()
}

/// The jobs of a run without explicit ones: completed and successful from the run's
/// start until now (one step each, so every artifact of the run was uploaded while each
/// of them ran), except those given another status, which started when it was set.
fn generated_jobs(s: &FakeState, run: &FakeRun) -> Vec<Value> {
    let now = timestamp_now();
    (0..run.jobs)
        .map(|i| {
            let id = run.id * 1000 + i as u64;
            let name = format!("job-{i}");
            let job = match s.job_status.get(&id) {
                Some(status) => {
                    let started = s.job_started.get(&id).cloned().unwrap_or_else(|| now.clone());
                    FakeJob {
                        id,
                        name,
                        status: status.clone(),
                        conclusion: None,
                        started_at: started.clone(),
                        completed_at: None,
                        steps: vec![FakeStep {
                            name: "Run".into(),
                            status: "in_progress".into(),
                            conclusion: None,
                            started_at: started,
                            completed_at: None,
                        }],
                    }
                }
                None => FakeJob::completed(
                    id,
                    &name,
                    "success",
                    vec![FakeStep::completed("Run", "success", &run.created_at, &now)],
                ),
            };
            job.json(run.id)
        })
        .collect()
}

async fn rest_run_logs(
    State(ctx): State<Ctx>,
    Path((_owner, _repo, run_id)): Path<(String, String, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = rest_authorized(&ctx, &headers, "GET run logs", json!({"run_id": run_id})) {
        return r;
    }
    let s = ctx.state.lock().unwrap();
    match s.runs.iter().find(|r| r.id == run_id).and_then(|r| r.logs_blob.clone()) {
        Some(blob) => {
            let url =
                ctx.azurite.blob_sas_url(&ctx.container, &blob, "r", chrono::Utc::now() + chrono::Duration::minutes(1));
            (StatusCode::FOUND, [(header::LOCATION, url)]).into_response()
        }
        None => not_found(),
    }
}

/// `GET …/actions/jobs/{job_id}/logs`: 302 to the job's plain-text log, as GitHub
/// answers once the job has completed; 404 when there is none.
async fn rest_job_logs(
    State(ctx): State<Ctx>,
    Path((_owner, _repo, job_id)): Path<(String, String, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = rest_authorized(&ctx, &headers, "GET job logs", json!({"job_id": job_id})) {
        return r;
    }
    let s = ctx.state.lock().unwrap();
    match s.job_logs.get(&job_id) {
        Some(blob) => {
            let url =
                ctx.azurite.blob_sas_url(&ctx.container, blob, "r", chrono::Utc::now() + chrono::Duration::minutes(1));
            (StatusCode::FOUND, [(header::LOCATION, url)]).into_response()
        }
        None => not_found(),
    }
}

/// A protobuf `Timestamp` in its JSON form: UTC, `Z`, 3–9 fraction digits. The
/// official client's parser rejects `+00:00` offsets with fractions.
fn timestamp_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

// ---- releases (REST) and release asset uploads ----

/// A release of the fake repository.
#[derive(Debug, Clone)]
pub struct FakeRelease {
    pub id: i64,
    pub tag: String,
    pub draft: bool,
    pub assets: Vec<FakeAsset>,
}

/// A release asset. `state` is `uploaded`, or `starter` for an upload that broke off
/// (GitHub keeps such a leftover under the name until it is deleted).
#[derive(Debug, Clone)]
pub struct FakeAsset {
    pub id: i64,
    pub name: String,
    pub state: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl FakeGitHub {
    /// Adds a release (a draft is found by listing, not by tag, as on GitHub); returns its id.
    pub fn add_release(&self, tag: &str, draft: bool) -> i64 {
        let mut s = self.state.lock().unwrap();
        s.next_id += 1;
        let id = s.next_id;
        s.releases.push(FakeRelease { id, tag: tag.into(), draft, assets: Vec::new() });
        id
    }

    /// Puts an asset on a release directly (as if uploaded earlier); returns its id.
    pub fn add_release_asset(&self, release_id: i64, name: &str, bytes: &[u8], state: &str) -> i64 {
        let mut s = self.state.lock().unwrap();
        s.next_id += 1;
        let id = s.next_id;
        let release = s.releases.iter_mut().find(|r| r.id == release_id).expect("the release exists");
        release.assets.push(FakeAsset {
            id,
            name: name.into(),
            state: state.into(),
            content_type: "application/octet-stream".into(),
            bytes: bytes.to_vec(),
        });
        id
    }

    pub fn release_assets(&self, release_id: i64) -> Vec<FakeAsset> {
        self.state
            .lock()
            .unwrap()
            .releases
            .iter()
            .find(|r| r.id == release_id)
            .map(|r| r.assets.clone())
            .unwrap_or_default()
    }

    /// From now on the token may read releases but not change them (403, like a
    /// `GITHUB_TOKEN` without `contents: write`).
    pub fn forbid_release_writes(&self) {
        self.state.lock().unwrap().release_writes_forbidden = true;
    }
}

fn release_json(ctx: &Ctx, owner: &str, repo: &str, r: &FakeRelease) -> Value {
    json!({
        "id": r.id, "tag_name": r.tag, "draft": r.draft, "name": r.tag,
        "html_url": format!("https://github.com/{owner}/{repo}/releases/tag/{}", r.tag),
        "upload_url": format!("{}/uploads/repos/{owner}/{repo}/releases/{}/assets{{?name,label}}", ctx.base_url, r.id),
        "assets": r.assets.iter().map(|a| asset_json(owner, repo, r, a)).collect::<Vec<_>>(),
        // The rest of GitHub's required `release` fields (checked in tests/it/changes_openapi.rs).
        "url": format!("https://api.github.com/repos/{owner}/{repo}/releases/{}", r.id),
        "assets_url": format!("https://api.github.com/repos/{owner}/{repo}/releases/{}/assets", r.id),
        "tarball_url": format!("https://api.github.com/repos/{owner}/{repo}/tarball/{}", r.tag),
        "zipball_url": format!("https://api.github.com/repos/{owner}/{repo}/zipball/{}", r.tag),
        "node_id": format!("RE_{}", r.id), "author": crate::fake_changes::simple_user("release-bot"), "prerelease": false,
        "target_commitish": "main", "created_at": "2026-01-01T00:00:00Z",
        "published_at": if r.draft { Value::Null } else { json!("2026-01-01T00:00:00Z") },
    })
}

fn asset_json(owner: &str, repo: &str, r: &FakeRelease, a: &FakeAsset) -> Value {
    json!({
        "id": a.id, "name": a.name, "state": a.state, "size": a.bytes.len(), "content_type": a.content_type,
        "digest": format!("sha256:{}", hex::encode(Sha256::digest(&a.bytes))),
        "browser_download_url": format!("https://github.com/{owner}/{repo}/releases/download/{}/{}", r.tag, a.name),
    })
}

fn forbidden_write(ctx: &Ctx) -> Option<Response> {
    ctx.state.lock().unwrap().release_writes_forbidden.then(|| {
        (StatusCode::FORBIDDEN, Json(json!({"message": "Resource not accessible by integration", "status": "403"})))
            .into_response()
    })
}

async fn rest_release_by_tag(
    State(ctx): State<Ctx>,
    Path((owner, repo, tag)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = rest_authorized(&ctx, &headers, "GET release by tag", json!({"tag": tag})) {
        return r;
    }
    let s = ctx.state.lock().unwrap();
    match s.releases.iter().find(|r| r.tag == tag && !r.draft) {
        Some(r) => Json(release_json(&ctx, &owner, &repo, r)).into_response(),
        None => not_found(),
    }
}

async fn rest_releases(
    State(ctx): State<Ctx>,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<Paging>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = rest_authorized(&ctx, &headers, "GET releases", json!({"per_page": q.per_page, "page": q.page})) {
        return r;
    }
    let s = ctx.state.lock().unwrap();
    let all: Vec<Value> = s.releases.iter().rev().map(|r| release_json(&ctx, &owner, &repo, r)).collect();
    Json(paginate(&all, &q).0).into_response()
}

async fn rest_release_assets(
    State(ctx): State<Ctx>,
    Path((owner, repo, release_id)): Path<(String, String, i64)>,
    Query(q): Query<Paging>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = rest_authorized(
        &ctx,
        &headers,
        "GET release assets",
        json!({"release_id": release_id, "per_page": q.per_page, "page": q.page}),
    ) {
        return r;
    }
    let s = ctx.state.lock().unwrap();
    let Some(release) = s.releases.iter().find(|r| r.id == release_id) else { return not_found() };
    let all: Vec<Value> = release.assets.iter().map(|a| asset_json(&owner, &repo, release, a)).collect();
    Json(paginate(&all, &q).0).into_response()
}

async fn rest_delete_release_asset(
    State(ctx): State<Ctx>,
    Path((_owner, _repo, asset_id)): Path<(String, String, i64)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = rest_authorized(&ctx, &headers, "DELETE release asset", json!({"asset_id": asset_id})) {
        return r;
    }
    if let Some(r) = forbidden_write(&ctx) {
        return r;
    }
    let mut s = ctx.state.lock().unwrap();
    for release in &mut s.releases {
        if let Some(i) = release.assets.iter().position(|a| a.id == asset_id) {
            release.assets.remove(i);
            return StatusCode::NO_CONTENT.into_response();
        }
    }
    not_found()
}

/// `PATCH /releases/assets/{id}` with `{"name": …}`: renames, 422 `already_exists`
/// when the release has an asset of that name.
async fn rest_rename_release_asset(
    State(ctx): State<Ctx>,
    Path((owner, repo, asset_id)): Path<(String, String, i64)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"message": "Problems parsing JSON"}))).into_response();
    };
    if let Err(r) = rest_authorized(&ctx, &headers, "PATCH release asset", json!({"asset_id": asset_id, "body": body}))
    {
        return r;
    }
    if let Some(r) = forbidden_write(&ctx) {
        return r;
    }
    let Some(name) = body.get("name").and_then(Value::as_str).map(str::to_string) else {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"message": "Validation Failed"}))).into_response();
    };
    let mut s = ctx.state.lock().unwrap();
    for release in &mut s.releases {
        let Some(i) = release.assets.iter().position(|a| a.id == asset_id) else { continue };
        if release.assets.iter().any(|a| a.name == name && a.id != asset_id) {
            return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"message": "Validation Failed", "errors": [{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}]}))).into_response();
        }
        release.assets[i].name = name;
        let release = release.clone();
        return Json(asset_json(&owner, &repo, &release, &release.assets[i])).into_response();
    }
    not_found()
}

#[derive(Deserialize)]
struct UploadQuery {
    name: Option<String>,
}

/// The upload side (uploads.github.com on GitHub): the body is the asset, its
/// Content-Length must match, an existing name is a 422 like GitHub's. An injected
/// fault (method `UploadReleaseAsset`) leaves a `starter` asset behind, as a broken
/// upload does on GitHub; `UploadReleaseAssetAnswerLost` stores the asset and then
/// answers with the fault's status, as when the answer is lost on the way back.
async fn upload_release_asset(
    State(ctx): State<Ctx>,
    Path((owner, repo, release_id)): Path<(String, String, i64)>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = rest_authorized(
        &ctx,
        &headers,
        "POST release asset",
        json!({"release_id": release_id, "name": q.name, "size": body.len()}),
    ) {
        return r;
    }
    if let Some(r) = forbidden_write(&ctx) {
        return r;
    }
    let Some(name) = q.name.filter(|n| !n.is_empty()) else {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"message": "name is required"}))).into_response();
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared != Some(body.len()) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"message": "Content-Length is required and must match the body"})),
        )
            .into_response();
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let mut s = ctx.state.lock().unwrap();
    let fault = s
        .faults
        .iter()
        .position(|f| f.method == "UploadReleaseAsset" || f.method == "UploadReleaseAssetAnswerLost")
        .map(|i| {
            let fault = s.faults[i].clone();
            if fault.times <= 1 {
                s.faults.remove(i);
            } else {
                s.faults[i].times -= 1;
            }
            fault
        });
    s.next_id += 1;
    let id = s.next_id;
    let Some(release) = s.releases.iter_mut().find(|r| r.id == release_id) else { return not_found() };
    if release.assets.iter().any(|a| a.name == name) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"message": "Validation Failed", "errors": [{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}]})),
        )
            .into_response();
    }
    if let Some(fault) = fault.as_ref().filter(|f| f.method == "UploadReleaseAssetAnswerLost") {
        // Stored in full, but the answer never reaches the client (a proxy's 502).
        release.assets.push(FakeAsset { id, name, state: "uploaded".into(), content_type, bytes: body.to_vec() });
        let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::BAD_GATEWAY);
        return (status, fault.body.clone()).into_response();
    }
    if let Some(fault) = fault {
        release.assets.push(FakeAsset { id, name, state: "starter".into(), content_type, bytes: Vec::new() });
        let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, fault.body).into_response();
    }
    let asset = FakeAsset { id, name, state: "uploaded".into(), content_type, bytes: body.to_vec() };
    let answer = asset_json(&owner, &repo, release, &asset);
    release.assets.push(asset);
    (StatusCode::CREATED, Json(answer)).into_response()
}
