//! `release-audit record-image`: run by a test job to record the digest it tested,
//! into a small JSON file the job uploads with its reports
//! (`schema/image-record-v1.schema.json`). The audit later checks every such record
//! against the released image ([`crate::evidence::images::record::check_records`]).
//!
//! Two sources, usable together: `--image REF` resolves references now (index and
//! platform digests, through the same resolver as `digest`); `--pods FILE|-` reads
//! `kubectl get pods -A -o json` and records what the cluster ran. In a container
//! action (`record/action.yml`) the same settings come from `INPUT_*`; a flag wins.
//! Exit codes: 0 written, 2 bad flags or input, 3 a registry or file could not be read.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::config::images::{parse_ref, registry_access};
use crate::error::{Error, Result};
use crate::evidence::images::record::{
    ImageRecord, JobIdentity, MAX_PODS_BYTES, MAX_RECORD_IMAGES, RecordedImage, parse_pods,
};
use crate::evidence::images::resolve;
use crate::github::commands::print_line;
use crate::github::runner::{Lookup, OutputFile};
use crate::registry::{FetchError, ImageRef, Platform, RegistryAccess, RegistryClient};
use crate::secret::Secret;

pub use crate::config::record::{DEFAULT_OUTPUT, INPUT_NAMES, RecordImageArgs};

/// Records, writes the file, prints one line per recorded image; returns the exit code.
pub async fn record_image(args: RecordImageArgs, env: Lookup<'_>, net: &crate::http::Net) -> Result<i32> {
    let args = args.with_inputs(env);
    if args.images.is_empty() && args.pods.is_none() {
        return Err(Error::input(
            "--image/--pods",
            "nothing to record",
            "give --image REF (repeatable) to resolve references now, or --pods FILE|- with the output of `kubectl get pods -A -o json`",
        ));
    }
    let mut references = Vec::new();
    for text in &args.images {
        references.push(parse_ref("--image", text)?);
    }
    let given_platform =
        match &args.platform {
            Some(p) => Some(Platform::parse(p).map_err(|reason| {
                Error::input("--platform", reason, "write the platform as os/arch, e.g. linux/amd64")
            })?),
            None => None,
        };
    let access = registry_access(
        "--registry-credentials",
        args.credentials.as_ref().map(Secret::expose),
        "--insecure-registries",
        &args.insecure,
    )?;
    let output = args.output.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT));
    if output.as_os_str().is_empty() || output.is_dir() {
        return Err(Error::input(
            "--output",
            format!("`{}` is not a file path", output.display()),
            "name the file to write, e.g. image-record.json",
        ));
    }
    let job = JobIdentity::from_env(env);
    let mut recorded: Vec<RecordedImage> = Vec::new();
    if !references.is_empty() {
        let platform = given_platform.clone().or_else(|| job.runner_platform());
        recorded.extend(resolve_now(net, &references, &access, platform).await?);
    }
    if let Some(source) = &args.pods {
        recorded.extend(read_cluster(source, given_platform.as_ref())?);
    }
    if recorded.len() > MAX_RECORD_IMAGES {
        return Err(Error::evidence(
            "record-image",
            format!("would record {} images, more than an image record may hold ({MAX_RECORD_IMAGES})", recorded.len()),
            "record only the namespaces under test, e.g. `kubectl get pods -n kyma-system -o json`",
        ));
    }

    let record = ImageRecord::new(job, recorded, chrono::Utc::now());
    write_record(&output, &record)?;
    // References, pod, namespace and container names come from the cluster: outside
    // text, printed through the one printing path.
    for image in &record.images {
        print_line(&describe(image));
    }
    print_line(&format!(
        "wrote {} ({} image{})",
        output.display(),
        record.images.len(),
        if record.images.len() == 1 { "" } else { "s" }
    ));
    if let Some(path) = env("GITHUB_OUTPUT") {
        OutputFile::new(PathBuf::from(path)).set("record-path", &output.display().to_string())?;
    }
    Ok(0)
}

/// `--image`: each reference resolved now, recorded with the platform the job runs.
async fn resolve_now(
    net: &crate::http::Net,
    references: &[ImageRef],
    access: &RegistryAccess,
    platform: Option<Platform>,
) -> Result<Vec<RecordedImage>> {
    let client = RegistryClient::new(net, access);
    let results = futures_util::future::join_all(references.iter().map(|r| resolve::resolve(&client, r, &[]))).await;
    let mut recorded = Vec::new();
    for (reference, result) in references.iter().zip(results) {
        match result {
            Ok(resolved) => recorded.push(RecordedImage::resolved(&resolved.record, platform.clone())),
            Err(FetchError::NotFound(reason)) => {
                return Err(Error::evidence(
                    format!("image {reference}"),
                    reason,
                    "check the reference, and that the login may read it (GHCR answers not found to unauthorised reads)",
                ));
            }
            Err(FetchError::Failed(e)) => return Err(e),
        }
    }
    Ok(recorded)
}

/// `--pods`: every container the cluster ran with the digest its node pulled.
fn read_cluster(source: &str, platform: Option<&Platform>) -> Result<Vec<RecordedImage>> {
    let (bytes, what) = read_pods(source)?;
    let pods = parse_pods(&bytes, &what, platform)?;
    if !pods.not_started.is_empty() {
        log::warn!(
            "{} container(s) had no imageID yet and are not recorded: {}",
            pods.not_started.len(),
            pods.not_started.join(", ")
        );
    }
    log::info!("{what}: {} containers of {} pods", pods.images.len(), pods.pods);
    if pods.images.is_empty() {
        return Err(Error::evidence(
            what,
            format!("lists {} pods but no container that has pulled its image", pods.pods),
            "run `kubectl get pods -A -o json` after the tests have deployed (and while the pods still exist)",
        ));
    }
    Ok(pods.images)
}

fn read_pods(source: &str) -> Result<(Vec<u8>, String)> {
    let mut bytes = Vec::new();
    let (what, result) = if source == "-" {
        ("standard input (pods)".to_string(), std::io::stdin().lock().take(MAX_PODS_BYTES + 1).read_to_end(&mut bytes))
    } else {
        let file = std::fs::File::open(source).map_err(|e| {
            Error::io(
                source,
                e,
                "pass the file `kubectl get pods -A -o json > pods.json` wrote, or - to read standard input",
            )
        })?;
        (source.to_string(), file.take(MAX_PODS_BYTES + 1).read_to_end(&mut bytes))
    };
    result.map_err(|e| Error::io(&what, e, "pass a readable file, or - for standard input"))?;
    Ok((bytes, what))
}

fn write_record(path: &Path, record: &ImageRecord) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io(parent, e, "choose an --output in a writable directory"))?;
    }
    std::fs::write(path, record.to_json()).map_err(|e| Error::io(path, e, "choose an --output in a writable directory"))
}

/// `resolved  ref  sha256:…  (linux/amd64 sha256:…)` / `cluster  ns/pod › c  ref  sha256:…`
fn describe(image: &RecordedImage) -> String {
    let digest = image.digest.as_ref().map(ToString::to_string).unwrap_or_else(|| "(no digest)".to_string());
    let platform = match (&image.platform, &image.platform_digest) {
        (Some(p), Some(d)) => format!("  ({p} {d})"),
        (Some(p), None) => format!("  ({p})"),
        _ => String::new(),
    };
    match image.place() {
        Some(place) => format!("cluster   {place}  {}  {digest}{platform}", image.reference),
        None => format!("resolved  {}  {digest}{platform}", image.reference),
    }
}
