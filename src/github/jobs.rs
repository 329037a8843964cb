//! The image built on the tag push: the `push` runs of the build workflow for the
//! release tag (`GET /actions/workflows/{file}/runs?event=push&branch=<tag>&head_sha=<commit>`),
//! the build job of each (`GET /actions/runs/{id}/jobs`), and its log
//! (`GET /actions/jobs/{id}/logs`, a redirect to a pre-signed blob, read bounded), from
//! which [`crate::evidence::images::build::parse_report`] reads the image build report.
//!
//! The API's filters are not trusted: every run is checked to be a successful `push` of
//! that tag at that commit, and every log is kept in the bundle
//! (`images/build/job-<id>.log`) with its sha256 so that `verify` reads the report again.
//! Several successful runs (a re-pushed tag) must report the same build.

use std::path::Path;

use serde::Deserialize;

use super::rest::Rest;
use crate::bundle::dir::BundleDir;
use crate::error::{Error, Result};
use crate::evidence::images::build::{
    BuildDigest, BuildLog, BuildReport, BuildSource, MAX_BUILD_LOG_BYTES, MAX_BUILD_RUNS, parse_report, pushed_pairs,
};
use crate::evidence::images::reference::Digest;
use crate::evidence::images::settings::ImagePair;

/// One run as the runs list shows it (the fields the choice depends on).
#[derive(Debug, Clone, Deserialize)]
struct PushRun {
    id: u64,
    #[serde(default)]
    event: String,
    #[serde(default)]
    head_branch: Option<String>,
    #[serde(default)]
    head_sha: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    conclusion: Option<String>,
    #[serde(default)]
    run_attempt: Option<u32>,
}

/// One job as the jobs list shows it.
#[derive(Debug, Clone, Deserialize)]
struct Job {
    id: u64,
    #[serde(default)]
    name: String,
    #[serde(default)]
    conclusion: Option<String>,
    #[serde(default)]
    run_attempt: Option<u32>,
}

/// The release tag and its commit, which the build ran on.
#[derive(Debug, Clone, Copy)]
pub struct TagPush<'a> {
    pub tag: &'a str,
    pub commit: &'a str,
}

/// Reads the digest the build on the tag push reported, keeps each build log in the
/// bundle, and names the pairs whose released image the build pushed.
pub async fn build_digest(
    rest: &Rest,
    source: &BuildSource,
    push: TagPush<'_>,
    pairs: &[ImagePair],
    dir: &mut BundleDir,
) -> Result<BuildDigest> {
    let runs = push_runs(rest, source, push).await?;
    let scratch = tempfile::tempdir_in(dir.root().parent().unwrap_or(dir.root()))
        .map_err(|e| Error::io(dir.root(), e, "the bundle directory's parent must be writable"))?;
    let mut logs = Vec::new();
    let mut report: Option<(u64, BuildReport)> = None;
    for run in &runs {
        let job = build_job(rest, source, run.id).await?;
        let (log, this) = read_log(rest, source, run, &job, dir, scratch.path()).await?;
        match &report {
            Some((first, r)) if *r != this => {
                return Err(Error::evidence(
                    format!("the builds of tag `{}` ({})", push.tag, source.workflow),
                    format!("runs {first} and {} report different builds ({} and {})", run.id, r.digest, this.digest),
                    "the tag was built twice with different results: find out which image is released before releasing",
                ));
            }
            Some(_) => {}
            None => report = Some((run.id, this)),
        }
        logs.push(log);
    }
    let (run_id, report) = report.expect("push_runs returns at least one run");
    let digest = Digest::parse(&report.digest).expect("parse_report checked the digest");
    let applied_to = pushed_pairs(&report, pairs.iter().map(|p| (p.name.as_str(), &p.released)));
    if applied_to.is_empty() {
        return Err(Error::evidence(
            format!("the build report of run {run_id} ({})", source.workflow),
            format!("names none of the released images (it pushed {})", report.images_list.join(", ")),
            "compare the references the build pushed: set `release-image` (or the `images:` pairs) to them",
        ));
    }
    log::info!("the build on tag {} (run {run_id}) reported {digest} for {}", push.tag, applied_to.join(", "));
    Ok(BuildDigest {
        workflow: source.workflow.clone(),
        job: source.job.clone(),
        tag: push.tag.to_string(),
        commit: push.commit.to_string(),
        logs,
        report,
        digest,
        applied_to,
    })
}

/// The successful `push` runs of the tag at its commit, newest first (at most
/// [`MAX_BUILD_RUNS`]); none is an error that says what was found instead.
async fn push_runs(rest: &Rest, source: &BuildSource, push: TagPush<'_>) -> Result<Vec<PushRun>> {
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    let what = format!("the {} runs of tag `{}`", source.workflow, push.tag);
    let route = format!(
        "actions/workflows/{}/runs?event=push&branch={}&head_sha={}&",
        enc(&source.workflow),
        enc(push.tag),
        enc(push.commit)
    );
    let all: Vec<PushRun> = rest.all_pages(&route, "workflow_runs", &what).await?;
    let mut of_tag: Vec<PushRun> = all
        .into_iter()
        .filter(|r| r.event == "push" && r.head_branch.as_deref() == Some(push.tag) && r.head_sha == push.commit)
        .collect();
    of_tag.sort_by_key(|r| std::cmp::Reverse(r.id));
    let (done, other): (Vec<PushRun>, Vec<PushRun>) =
        of_tag.into_iter().partition(|r| r.status == "completed" && r.conclusion.as_deref() == Some("success"));
    if done.is_empty() {
        let seen: Vec<String> = other
            .iter()
            .map(|r| format!("run {} {}", r.id, r.conclusion.as_deref().unwrap_or(r.status.as_str())))
            .collect();
        return Err(Error::evidence(
            what,
            if seen.is_empty() {
                format!("there is no push run of the tag at {}", push.commit)
            } else {
                format!("none succeeded ({})", seen.join(", "))
            },
            "the image is built on the tag push: wait for that build (or re-run it), and check the workflow's `on: push: tags` matches the tag",
        ));
    }
    if done.len() > MAX_BUILD_RUNS {
        return Err(Error::evidence(
            what,
            format!("{} runs succeeded, more than the {MAX_BUILD_RUNS} read", done.len()),
            "the tag was built many times: find out which image is released before releasing",
        ));
    }
    Ok(done)
}

/// The successful job of `run_id` named like `source.job`, of the latest attempt.
async fn build_job(rest: &Rest, source: &BuildSource, run_id: u64) -> Result<Job> {
    let what = format!("the jobs of build run {run_id}");
    let jobs: Vec<Job> = rest.all_pages(&format!("actions/runs/{run_id}/jobs?filter=all&"), "jobs", &what).await?;
    let names: Vec<&str> = jobs.iter().map(|j| j.name.as_str()).collect();
    jobs.iter()
        .filter(|j| j.name == source.job && j.conclusion.as_deref() == Some("success"))
        .max_by_key(|j| (j.run_attempt.unwrap_or(1), j.id))
        .cloned()
        .ok_or_else(|| {
            Error::evidence(
                what,
                format!(
                    "have no successful job named `{}` (jobs: {})",
                    source.job.escape_debug(),
                    names.join(", ").escape_debug()
                ),
                "set `build-job` to the job that calls image-builder, as the run's page names it",
            )
        })
}

/// Downloads the job's log (bounded), reads the report from it and keeps the log.
async fn read_log(
    rest: &Rest,
    source: &BuildSource,
    run: &PushRun,
    job: &Job,
    dir: &mut BundleDir,
    scratch: &Path,
) -> Result<(BuildLog, BuildReport)> {
    let what = format!("the log of job `{}` ({}) of build run {}", source.job, job.id, run.id);
    let file = scratch.join(format!("job-{}.log", job.id));
    let downloaded = rest
        .download_redirected(&format!("actions/jobs/{}/logs", job.id), &file, MAX_BUILD_LOG_BYTES, &what, false)
        .await?
        .ok_or_else(|| Error::evidence(&what, "is gone", "the build's log has expired: re-run the build"))?;
    let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e, "the scratch directory must be readable"))?;
    let report = parse_report(&bytes).map_err(|reason| {
        Error::evidence(
            &what,
            reason,
            "the build must print test-infra's image build report; pin image-builder to a version that does",
        )
    })?;
    if let Some(refusal) = report.refusal() {
        return Err(Error::evidence(&what, refusal, "release an image whose build succeeded and was pushed"));
    }
    let entry = dir.add_file(&format!("images/build/job-{}.log", job.id), &file)?;
    let _ = std::fs::remove_file(&file);
    let log = BuildLog {
        run_id: run.id,
        run_attempt: job.run_attempt.or(run.run_attempt).unwrap_or(1),
        job_id: job.id,
        path: entry.path,
        size: downloaded.size,
        sha256: downloaded.sha256,
    };
    Ok((log, report))
}
