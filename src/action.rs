//! `release-audit run`: the whole pipeline of one audit, in the order of the design —
//! collect evidence, decide, write the bundle, publish, report.
//!
//! The bundle and the outputs that point at it are written before any upload, so a
//! failed upload loses nothing: the error says where the bundle is.

use crate::bundle::manifest::{Manifest, Release, RunFacts, Source, Tool, Verdict, VerdictResult};
use crate::bundle::{BundleDir, ZippedBundle, zip_dir};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::evidence::Evidence;
use crate::github::artifacts::ArtifactService;
use crate::github::commands::Commands;
use crate::github::runner::{OutputFile, append_summary};
use crate::publish::Published;
use crate::publish::artifact::{UploadedArtifact, effective_retention, upload_bundle};
use crate::report::{self, Section};

/// What one audit produced.
#[derive(Debug)]
pub struct Outcome {
    pub verdict: VerdictResult,
    pub bundle: ZippedBundle,
    pub manifest_path: std::path::PathBuf,
    pub published: Published,
}

pub async fn run(config: &Config, commands: &Commands) -> Result<Outcome> {
    for secret in config.secrets() {
        commands.add_mask(secret.expose());
    }
    let http = crate::http::client();

    let evidence = {
        let _g = commands.group("Collecting evidence");
        collect(config, &http, commands).await?
    };
    let verdict = Verdict::from_reasons(evidence.failures());
    let manifest = manifest_for(config, evidence, verdict);
    let details = detail_sections(&manifest);

    let (bundle, manifest_path) = {
        let _g = commands.group("Writing the audit bundle");
        write_bundle(config, &manifest, &details)?
    };
    log::info!("bundle written: {} ({} bytes, sha256 {})", bundle.path.display(), bundle.size, bundle.sha256);

    let outputs = config.runner.output_file.clone().map(OutputFile::new);
    if let Some(out) = &outputs {
        out.set("verdict", manifest.verdict.result.as_str())?;
        out.set("bundle-path", &config.runner.path_for_later_steps(&bundle.path))?;
        out.set("bundle-sha256", &bundle.sha256)?;
        out.set("manifest-path", &config.runner.path_for_later_steps(&manifest_path))?;
    }

    let mut published = Published::default();
    let mut publish_error: Option<Error> = None;
    if config.upload {
        let _g = commands.group("Uploading the bundle artifact");
        let results = config.results.as_ref().expect("validated: upload needs the results service");
        let service = ArtifactService::new(http.clone(), results);
        let retention = effective_retention(config.retention_days, config.runner.retention_days, commands);
        match upload_bundle(&service, &config.bundle_name, &bundle, retention, config.overwrite, commands).await {
            Ok(id) => {
                let artifact = UploadedArtifact { id, name: config.bundle_name.to_string(), url: config.runner.artifact_url(id) };
                if let Some(out) = &outputs {
                    out.set("artifact-id", &id.to_string())?;
                    out.set("artifact-url", artifact.url.as_deref().unwrap_or_default())?;
                }
                published.artifact = Some(artifact);
            }
            Err(e) => publish_error = Some(e.while_publishing("artifact upload", &bundle.path)),
        }
    }

    if config.summary && let Some(path) = &config.runner.step_summary {
        let markdown = report::job_summary(&manifest, &details, &bundle, &published, publish_error.as_ref().map(|e| e.to_string()).as_deref());
        append_summary(path, &markdown)?;
    }
    if let Some(e) = publish_error {
        return Err(e);
    }
    Ok(Outcome { verdict: manifest.verdict.result, bundle, manifest_path, published })
}

async fn collect(_config: &Config, _http: &reqwest::Client, _commands: &Commands) -> Result<Evidence> {
    Ok(Evidence::default())
}

fn manifest_for(config: &Config, evidence: Evidence, verdict: Verdict) -> Manifest {
    let r = &config.runner;
    Manifest {
        schema_version: crate::bundle::manifest::SCHEMA_VERSION,
        tool: Tool::this(),
        release: Release { version: config.release_version.clone(), bundle_name: config.bundle_name.to_string() },
        source: Source { repository: r.repository.clone(), commit: r.sha.clone(), git_ref: r.git_ref.clone() },
        run: RunFacts {
            id: r.run_id,
            attempt: r.run_attempt,
            url: r.run_url(),
            workflow: r.workflow.clone(),
            workflow_ref: r.workflow_ref.clone(),
            event: r.event_name.clone(),
            actor: r.actor.clone(),
            triggering_actor: r.triggering_actor.clone(),
        },
        evidence,
        verdict,
        files: Vec::new(),
    }
}

fn detail_sections(_manifest: &Manifest) -> Vec<Section> {
    Vec::new()
}

fn write_bundle(config: &Config, manifest: &Manifest, details: &[Section]) -> Result<(ZippedBundle, std::path::PathBuf)> {
    let mut dir = BundleDir::create(&config.bundle_dir, config.bundle_name.as_str())?;
    dir.add_bytes("summary.md", report::bundle_summary(manifest, details).as_bytes())?;
    let root = dir.finish(manifest.clone())?;
    let zip_path = config.bundle_dir.join(format!("{}.zip", config.bundle_name));
    let bundle = zip_dir(&root, &zip_path, config.bundle_name.as_str(), config.source_date_epoch)?;
    Ok((bundle, root.join("manifest.json")))
}
