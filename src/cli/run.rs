//! `release-audit run`: the whole pipeline of one audit, in the order of the design —
//! collect evidence, decide, write the bundle, publish, report.
//!
//! The bundle and the outputs that point at it are written before any upload, so a
//! failed upload loses nothing: the error says where the bundle is.

use crate::bundle::manifest::{Manifest, Release, RunFacts, Source, Tool, Verdict, VerdictResult};
use std::path::PathBuf;

use crate::bundle::records::image_records;
use crate::bundle::statement_files::statement_files;
use crate::bundle::{BundleDir, ZippedBundle, zip_dir};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::evidence::Evidence;
use crate::evidence::test_reports::collect::{Services, collect as collect_tests};
use crate::github::artifacts::ArtifactService;
use crate::github::commands::{AnnotationKind, AnnotationProps, Commands};
use crate::github::rest::Rest;
use crate::github::runner::{OutputFile, append_summary};
use crate::http::Net;
use crate::publish::Published;
use crate::publish::artifact::{UploadedArtifact, effective_retention, upload_bundle};
use crate::publish::release::AssetFile;
use crate::publish::storage::StoreRequest;
use crate::report;

/// What one audit produced.
#[derive(Debug)]
pub struct Outcome {
    pub verdict: VerdictResult,
    pub bundle: ZippedBundle,
    pub manifest_path: std::path::PathBuf,
    pub published: Published,
}

/// Runs the audit `config` describes, with the command's network settings.
pub async fn run(config: &Config, net: &Net, commands: &Commands) -> Result<Outcome> {
    for secret in config.secrets() {
        commands.add_mask(secret.expose());
    }
    let deadline = Deadline::after(config);
    let clients = Clients::new(config, net, &deadline);
    let mut dir = BundleDir::create(&config.bundle_dir, config.bundle_name.as_str())?;
    // The release is the tag: every stage below reads the commit settled here.
    let settled = deadline
        .bound("looking up the release tag", super::source::settle_release_commit(config, clients.rest.as_ref()))
        .await?;
    let config = &settled;

    let evidence = collect_evidence(config, &clients, &mut dir, &deadline, commands).await?;
    let verdict = Verdict::from_reasons(evidence.failures());
    let manifest = manifest_for(config, evidence, verdict);

    let written = {
        let _g = commands.group("Writing the audit bundle");
        write_bundle(config, dir, &manifest)?
    };
    let bundle = written.bundle;
    log::info!("bundle written: {} ({} bytes, sha256 {})", bundle.path.display(), bundle.size, bundle.sha256);
    let outputs = write_outputs(config, &manifest, &bundle, &written.manifest_path, &written.statements)?;

    let publishing =
        publish(config, &clients, &bundle, &written.manifest_path, outputs.as_ref(), &deadline, commands).await?;
    if config.summary
        && let Some(path) = &config.runner.step_summary
    {
        let said: Vec<String> = publishing.errors.iter().map(|e| e.to_string()).collect();
        let error = (!said.is_empty()).then(|| said.join("; "));
        let markdown = report::job_summary(&manifest, &bundle, &publishing.published, error.as_deref());
        append_summary(path, &markdown)?;
    }
    let mut publish_errors = publishing.errors.into_iter();
    if let Some(first) = publish_errors.next() {
        // The first is the step's error; the others are said beside it.
        for other in publish_errors {
            commands.annotate(
                AnnotationKind::Error,
                &AnnotationProps { title: Some("Publishing failed".into()), ..Default::default() },
                &format!("{other} — {}", other.hint()),
            );
        }
        return Err(first);
    }
    annotate(commands, &report::annotations::verdict(&manifest));
    Ok(Outcome {
        verdict: manifest.verdict.result,
        bundle,
        manifest_path: written.manifest_path,
        published: publishing.published,
    })
}

/// The services one audit talks to, built once from the settings and the command's
/// network settings.
struct Clients {
    net: Net,
    artifacts: Option<ArtifactService>,
    rest: Option<Rest>,
}

impl Clients {
    /// Every REST request the evidence stages make is bounded by the audit's deadline,
    /// so a stalled API ends the run with an error naming its host (uploads do not use
    /// this client: a large asset may rightly take longer than one request's limit).
    fn new(config: &Config, net: &Net, deadline: &Deadline) -> Self {
        let artifacts = config.results.as_ref().map(|r| ArtifactService::new(net, r));
        let rest = match (&config.github_token, &config.repository) {
            (Some(token), Some(repository)) => Some(
                Rest::new(net, &config.runner.api_url, repository, token.clone()).bounded_by(deadline.at.into_std()),
            ),
            _ => None,
        };
        Clients { net: net.clone(), artifacts, rest }
    }
}

/// Writes each annotation through the one printing path.
fn annotate(commands: &Commands, annotations: &[report::annotations::Annotation]) {
    for a in annotations {
        commands.annotate(a.kind, &a.props(), &a.message);
    }
}

/// Every evidence stage that is configured, in the design's order: tests, images
/// (checked against the test jobs' image records), the change trail.
async fn collect_evidence(
    config: &Config,
    clients: &Clients,
    dir: &mut BundleDir,
    deadline: &Deadline,
    commands: &Commands,
) -> Result<Evidence> {
    let mut evidence = Evidence::default();
    if let Some(settings) = &config.tests {
        let _g = commands.group("Collecting test reports");
        let services = Services {
            artifacts: clients.artifacts.as_ref(),
            rest: clients.rest.as_ref(),
            runner: &config.runner,
            retry: clients.net.retry,
        };
        let tests = deadline.bound("collecting test reports", collect_tests(settings, &services, dir)).await?;
        annotate(commands, &report::annotations::test_warnings(&tests));
        annotate(commands, &report::annotations::test_failures(&tests));
        evidence.tests = Some(tests);
    }
    if let Some(settings) = &config.images {
        let _g = commands.group("Comparing tested and released images");
        let mut settings = settings.clone();
        settings.access.deadline = Some(deadline.at.into_std());
        let build = match &settings.build {
            Some(source) => {
                let build = deadline
                    .bound(
                        "reading the build's digest",
                        build_digest(config, clients, source, &settings.pairs, dir, deadline),
                    )
                    .await?;
                build.apply(&mut settings.pairs);
                Some(build)
            }
            None => None,
        };
        let mut images =
            deadline.bound("comparing images", crate::evidence::images::collect(&settings, &clients.net)).await?;
        images.build = build;
        if let Some(tests) = &evidence.tests {
            let found = image_records(tests, dir.root());
            if !found.records.is_empty() {
                log::info!("{} image record(s) from the test jobs", found.records.len());
            }
            images.apply_records(&found.records);
            images.record_problems = found.problems;
        }
        images.write_into(dir)?;
        evidence.images = Some(images);
    }
    let changes = collect_changes(config, clients.rest.as_ref(), dir, deadline, commands).await?;
    evidence.changes = changes.map(|c| c.evidence);
    Ok(evidence)
}

/// The digest the build on the release tag's push reported (`build-workflow`): the
/// release is the tag, so the tag must exist by now.
async fn build_digest(
    config: &Config,
    clients: &Clients,
    source: &crate::evidence::images::build::BuildSource,
    pairs: &[crate::evidence::images::ImagePair],
    dir: &mut BundleDir,
    deadline: &Deadline,
) -> Result<crate::evidence::images::build::BuildDigest> {
    let Some(rest) = clients.rest.as_ref() else {
        return Err(Error::input(
            "github-token",
            "is empty, but `build-workflow` needs it to read the build's log",
            "pass `github-token: ${{ github.token }}` and give the job `permissions: actions: read`",
        ));
    };
    let (crate::config::CommitSource::Tag { tag, .. }, Some(commit)) = (&config.commit_source, &config.commit) else {
        return Err(Error::evidence(
            format!("the build of `{}`", source.workflow),
            format!(
                "is the build of the release tag's push, but no release tag ({}) was found",
                config.release_tags.join(", ")
            ),
            "run the audit after the tag is pushed, and give `release-tag` when the tag is not the version (drop `release-commit`)",
        ));
    };
    let push = crate::github::jobs::TagPush { tag, commit };
    // No request outlives the audit's deadline (a stalled log download included).
    let rest = rest.bounded_by(deadline.at.into_std());
    crate::github::jobs::build_digest(&rest, source, push, pairs, dir).await
}

/// The step outputs that point at the bundle, written before any upload.
fn write_outputs(
    config: &Config,
    manifest: &Manifest,
    bundle: &ZippedBundle,
    manifest_path: &std::path::Path,
    statements: &[PathBuf],
) -> Result<Option<OutputFile>> {
    let outputs = config.runner.output_file.clone().map(OutputFile::new);
    if let Some(out) = &outputs {
        out.set("verdict", manifest.verdict.result.as_str())?;
        out.set("bundle-path", &config.runner.path_for_later_steps(&bundle.path))?;
        out.set("bundle-sha256", &bundle.sha256)?;
        out.set("manifest-path", &config.runner.path_for_later_steps(manifest_path))?;
        let paths: Vec<String> = statements.iter().map(|p| config.runner.path_for_later_steps(p)).collect();
        out.set("statement-paths", &paths.join("\n"))?;
        vsa_outputs(config, out, statements)?;
    }
    Ok(outputs)
}

/// The VSA's outputs, for signing it with `actions/attest` in a later step: `vsa-path`
/// (the statement in the bundle), `vsa-predicate-path` (its predicate alone, written
/// beside the zip as `<bundle-name>.vsa-predicate.json`), and the released image's
/// `image-subject-name`/`image-subject-digest`; each empty when there is no such thing.
fn vsa_outputs(config: &Config, out: &OutputFile, statements: &[PathBuf]) -> Result<()> {
    let vsa = statements.iter().find(|p| p.ends_with(crate::bundle::vsa::VSA_PATH));
    let signing = match vsa {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e, "check the bundle directory"))?;
            crate::bundle::vsa::signing(&bytes)
        }
        None => None,
    };
    let mut predicate_path = String::new();
    if let Some(s) = &signing {
        let path = config.bundle_dir.join(format!("{}.vsa-predicate.json", config.bundle_name));
        crate::bundle::write_output_file(&path, &s.predicate)?;
        predicate_path = config.runner.path_for_later_steps(&path);
    }
    out.set("vsa-path", &vsa.map(|p| config.runner.path_for_later_steps(p)).unwrap_or_default())?;
    out.set("vsa-predicate-path", &predicate_path)?;
    out.set("image-subject-name", signing.as_ref().and_then(|s| s.subject_name.as_deref()).unwrap_or(""))?;
    out.set("image-subject-digest", signing.as_ref().and_then(|s| s.subject_digest.as_deref()).unwrap_or(""))?;
    Ok(())
}

/// Where the bundle went, and every publishing error (each target is tried).
struct Publishing {
    published: Published,
    errors: Vec<Error>,
}

/// Publishes to every configured target, whatever happened to another: the release
/// asset and object storage exist for retention beyond the artifact's 90 days, so a
/// failed artifact upload must not cost them.
async fn publish(
    config: &Config,
    clients: &Clients,
    bundle: &ZippedBundle,
    manifest_path: &std::path::Path,
    outputs: Option<&OutputFile>,
    deadline: &Deadline,
    commands: &Commands,
) -> Result<Publishing> {
    let mut p = Publishing { published: Published::default(), errors: Vec::new() };
    if config.upload {
        let _g = commands.group("Uploading the bundle artifact");
        let service = clients.artifacts.as_ref().expect("validated: upload needs the results service");
        let retention = effective_retention(config.retention_days, config.runner.retention_days, commands);
        let upload = upload_bundle(service, &config.bundle_name, bundle, retention, config.overwrite, commands);
        match deadline.bound("uploading the bundle artifact", upload).await {
            Ok(id) => {
                let artifact =
                    UploadedArtifact { id, name: config.bundle_name.to_string(), url: config.runner.artifact_url(id) };
                if let Some(out) = outputs {
                    out.set("artifact-id", &id.to_string())?;
                    out.set("artifact-url", artifact.url.as_deref().unwrap_or_default())?;
                }
                p.published.artifact = Some(artifact);
            }
            Err(e) => p.errors.push(e.while_publishing("artifact upload", &bundle.path)),
        }
    }
    if config.release_asset.is_some() || config.storage.is_some() {
        let sums = write_zip_sums(config, bundle, manifest_path)?;
        publish_beyond_the_run(config, clients, bundle, &sums, deadline, commands, &mut p).await;
        if let Some(out) = outputs {
            let urls: Vec<&str> = p
                .published
                .release_assets
                .iter()
                .map(|a| a.url.as_str())
                .chain(p.published.stored.iter().map(|o| o.url.as_str()))
                .collect();
            out.set("storage-urls", &urls.join("\n"))?;
            if config.storage.as_ref().is_some_and(|s| s.retain_until.is_some()) {
                out.set("storage-locks", &crate::publish::storage::locks_json(&p.published.stored))?;
            }
        }
    }
    Ok(p)
}

/// The release asset and object storage, each with the zip and its `SHA256SUMS`.
async fn publish_beyond_the_run(
    config: &Config,
    clients: &Clients,
    bundle: &ZippedBundle,
    sums: &std::path::Path,
    deadline: &Deadline,
    commands: &Commands,
    p: &mut Publishing,
) {
    if let Some(settings) = &config.release_asset {
        let _g = commands.group("Attaching the bundle to the release");
        let attach = attach_to_release(config, &clients.net, settings, bundle, sums);
        match deadline.bound("attaching the bundle to the release", attach).await {
            Ok(assets) => p.published.release_assets = assets,
            Err(e) => p.errors.push(e.while_publishing("release asset upload", &bundle.path)),
        }
    }
    if let Some(settings) = &config.storage {
        let _g = commands.group("Storing the bundle");
        let request = StoreRequest {
            bundle,
            sums_path: sums,
            repository: config.repository.as_deref().unwrap_or("local/local"),
            version: &config.release_version,
            bundle_name: config.bundle_name.as_str(),
            overwrite: config.overwrite,
            extra_files: &crate::publish::storage::beside_the_zip(&bundle.path, config.bundle_name.as_str()),
        };
        let store = crate::publish::storage::store(&clients.net, settings, &request);
        match deadline.bound("storing the bundle", store).await {
            Ok(objects) => p.published.stored = objects,
            Err(e) => p.errors.push(e.while_publishing("object storage upload", &bundle.path)),
        }
    }
}

/// The audit's deadline (`timeout`): every stage that talks to a service is bounded by
/// it, so a stalled service ends the run with a message saying what was running,
/// rather than the job's `timeout-minutes` killing the step without one.
struct Deadline {
    at: tokio::time::Instant,
    timeout: std::time::Duration,
    /// The GitHub services the run talks to (the API, the artifact service), named when
    /// a stage runs out of time without a request of its own saying which one stalled.
    hosts: String,
}

impl Deadline {
    fn after(config: &Config) -> Self {
        let host = |url: &str| {
            reqwest::Url::parse(url).ok().and_then(|u| {
                let host = u.host_str()?.to_string();
                Some(u.port().map_or(host.clone(), |p| format!("{host}:{p}")))
            })
        };
        let mut hosts: Vec<String> = std::iter::once(host(&config.runner.api_url))
            .chain(config.results.iter().map(|r| host(&r.base_url)))
            .flatten()
            .collect();
        hosts.dedup();
        Deadline { at: tokio::time::Instant::now() + config.timeout, timeout: config.timeout, hosts: hosts.join(", ") }
    }

    /// Runs `work` to the deadline, plus a grace of a second: a stage whose requests
    /// are bounded by the deadline themselves (the registry client's) ends with their
    /// own error, which names the slow host, rather than racing this generic one.
    async fn bound<T>(&self, what: &str, work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        match tokio::time::timeout_at(self.at + std::time::Duration::from_secs(1), work).await {
            Ok(result) => result,
            Err(_) => Err(Error::service(
                "release-audit",
                format!(
                    "{what} did not finish within the audit's `timeout` of {} s (waiting on {})",
                    self.timeout.as_secs(),
                    self.hosts
                ),
                "raise `timeout`, or find the slow service in the log above (every transfer logs its progress and host)",
            )),
        }
    }
}

/// `<bundle-name>.SHA256SUMS` beside the zip: the zip's own hash, then every bundle
/// file under `<bundle-name>/` — `sha256sum -c` checks a downloaded zip and, once
/// unzipped, its contents. It travels with the zip to the release and the bucket.
fn write_zip_sums(config: &Config, bundle: &ZippedBundle, manifest_path: &std::path::Path) -> Result<PathBuf> {
    let name = config.bundle_name.as_str();
    let inner_path = manifest_path.with_file_name("SHA256SUMS");
    let inner = std::fs::read_to_string(&inner_path)
        .map_err(|e| Error::io(&inner_path, e, "the bundle directory must stay in place"))?;
    let text = crate::publish::zip_sums(name, &bundle.sha256, &inner);
    let path = config.bundle_dir.join(format!("{name}.SHA256SUMS"));
    crate::bundle::write_output_file(&path, text.as_bytes())?;
    Ok(path)
}

async fn attach_to_release(
    config: &Config,
    net: &Net,
    settings: &crate::publish::release::ReleaseAssetSettings,
    bundle: &ZippedBundle,
    sums: &std::path::Path,
) -> Result<Vec<crate::publish::release::AttachedAsset>> {
    let token = config.github_token.as_ref().expect("validated: release-asset needs github-token");
    let repository = config.repository.as_deref().expect("validated: release-asset needs a repository");
    let rest = Rest::new(net, &config.runner.api_url, repository, token.clone());
    let zip_name = format!("{}.zip", config.bundle_name);
    let sums_name = format!("{}.SHA256SUMS", config.bundle_name);
    let files = [
        AssetFile { path: &bundle.path, name: &zip_name, content_type: "application/zip" },
        AssetFile { path: sums, name: &sums_name, content_type: "text/plain" },
    ];
    crate::publish::release::attach(&rest, settings, &files, config.overwrite).await
}

fn manifest_for(config: &Config, evidence: Evidence, verdict: Verdict) -> Manifest {
    let r = &config.runner;
    Manifest {
        schema_version: crate::bundle::manifest::SCHEMA_VERSION,
        tool: Tool::this(),
        release: Release { version: config.release_version.clone(), bundle_name: config.bundle_name.to_string() },
        source: Source {
            repository: config.repository.clone(),
            commit: config.commit.clone(),
            git_ref: match &config.commit_source {
                crate::config::CommitSource::Tag { tag, .. } => Some(format!("refs/tags/{tag}")),
                _ if config.repository == r.repository => r.git_ref.clone(),
                _ => None,
            },
            commit_source: Some(config.commit_source.clone()),
        },
        run: RunFacts {
            id: r.run_id,
            attempt: r.run_attempt,
            url: r.run_url(),
            workflow: r.workflow.clone(),
            workflow_ref: r.workflow_ref.clone(),
            event: r.event_name.clone(),
            actor: r.actor.clone(),
            triggering_actor: r.triggering_actor.clone(),
            audited_at: Some(config.audited_at.clone()),
        },
        evidence,
        verdict,
        files: Vec::new(),
    }
}

/// What writing the bundle produced.
struct Written {
    bundle: ZippedBundle,
    manifest_path: PathBuf,
    statements: Vec<PathBuf>,
}

/// The statements, `summary.md` and `report.html` (the report layer's, from the
/// manifest and the files written so far), the manifest and checksums, then the zip.
fn write_bundle(config: &Config, mut dir: BundleDir, manifest: &Manifest) -> Result<Written> {
    let mut statements = Vec::new();
    for file in statement_files(manifest, &config.runner.server_url) {
        let entry = dir.add_bytes(&file.path, &file.bytes)?;
        statements.push(dir.root().join(entry.path));
    }
    dir.add_bytes(report::SUMMARY_MD, report::summary_md(manifest).as_bytes())?;
    let page = report::report_html(&Manifest { files: dir.files(), ..manifest.clone() });
    dir.add_bytes(report::REPORT_HTML, page.as_bytes())?;
    let root = dir.finish(|files| Manifest { files, ..manifest.clone() })?;
    let zip_path = config.bundle_dir.join(format!("{}.zip", config.bundle_name));
    let bundle = zip_dir(&root, &zip_path, config.bundle_name.as_str(), config.source_date_epoch)?;
    Ok(Written { bundle, manifest_path: root.join("manifest.json"), statements })
}

/// The change and approval trail (after tests and images): `changes/*.json` into the
/// bundle, the manifest section back.
async fn collect_changes(
    config: &Config,
    rest: Option<&Rest>,
    dir: &mut BundleDir,
    deadline: &Deadline,
    commands: &Commands,
) -> Result<Option<crate::evidence::changes::ChangeRecord>> {
    let Some(settings) = &config.changes else { return Ok(None) };
    let rest = rest.expect("validated: the change trail needs github-token and a repository");
    let _g = commands.group("Reading the change and approval trail");
    // The trail ends by the audit's deadline, counted from the audit's start: its
    // requests are bounded by it (naming the host), and the stage as a whole too.
    let mut settings = settings.clone();
    settings.deadline = Some(deadline.at.into_std());
    let record = deadline.bound("reading the change trail", crate::evidence::changes::collect(&settings, rest)).await?;
    record.write_into(dir)?;
    annotate(commands, &report::annotations::change_notes(&record.evidence));
    Ok(Some(record))
}
