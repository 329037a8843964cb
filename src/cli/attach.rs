//! `release-audit attach`: gate before, attach after.
//!
//! In a release whose GitHub release is created only after the tests (Kyma's
//! `create-release.yml` runs GoReleaser last), the audit runs first and gates the
//! release, and its bundle can only be attached once the release exists. `attach` is
//! that second step, in the same workflow run: it takes the bundle artifact this run's
//! audit uploaded (newest of that name, through the artifact service), checks that the
//! bytes are the ones the service recorded (`sha256:` digest), runs the whole of
//! `verify` on them, and attaches exactly those bytes as `<bundle-name>.zip` with
//! `<bundle-name>.SHA256SUMS` (the same two assets `release-asset: true` would attach).
//! No second audit: the attached asset is byte-identical to the uploaded artifact. A
//! bundle that does not verify is refused and nothing is attached.
//! Exit codes: 0 attached, 2 bad input, 3 the artifact, its verification or the release failed.

use std::io::Read;
use std::path::Path;

use crate::config::attach::{AttachArgs, AttachSettings};
use crate::error::{Error, Result};
use crate::github::artifacts::ArtifactService;
use crate::github::blob::download_to_file;
use crate::github::commands::print_line;
use crate::github::rest::Rest;
use crate::github::runner::{Lookup, OutputFile};
use crate::publish::release::{AssetFile, AttachedAsset, ReleaseAssetSettings};

/// The largest bundle artifact `attach` downloads.
pub const MAX_BUNDLE_BYTES: u64 = 8 << 30;
/// The largest inner `SHA256SUMS` read from the zip.
const MAX_SUMS_BYTES: u64 = 16 << 20;

/// What was attached.
#[derive(Debug)]
pub struct Attached {
    pub sha256: String,
    pub verdict: String,
    pub assets: Vec<AttachedAsset>,
}

/// Runs `attach`; returns the exit code.
pub async fn attach(args: AttachArgs, env: Lookup<'_>) -> Result<i32> {
    let settings = AttachSettings::from_args(&args.with_inputs(env), env)?;
    let scratch =
        tempfile::tempdir_in(env("RUNNER_TEMP").unwrap_or_else(|| std::env::temp_dir().display().to_string()))
            .map_err(|e| Error::io(std::env::temp_dir(), e, "free space in the temp directory"))?;
    let attached = attach_bundle(&settings, scratch.path()).await?;
    print_line(&format!("verdict: {}", attached.verdict));
    print_line(&format!("bundle sha256: {}", attached.sha256));
    for asset in &attached.assets {
        print_line(&format!("attached: {} {}", asset.name, asset.url));
    }
    if let Some(path) = env("GITHUB_OUTPUT") {
        let out = OutputFile::new(path.into());
        out.set("bundle-sha256", &attached.sha256)?;
        out.set("verdict", &attached.verdict)?;
        let urls: Vec<&str> = attached.assets.iter().map(|a| a.url.as_str()).collect();
        out.set("asset-urls", &urls.join("\n"))?;
    }
    Ok(0)
}

/// Downloads, checks, verifies and attaches the bundle; `scratch` holds the download.
pub async fn attach_bundle(settings: &AttachSettings, scratch: &Path) -> Result<Attached> {
    let http = crate::http::client();
    let name = settings.bundle_name.as_str();
    let service = ArtifactService::new(http.clone(), &settings.results);
    let entry = service.list(Some(name)).await?.into_iter().find(|e| e.name == name).ok_or_else(|| {
        Error::service(
            "artifact service",
            format!("this run has no artifact named `{name}`"),
            "run `attach` in the same workflow run as the audit step, after it, with the same `bundle-name`",
        )
    })?;
    let zip_path = scratch.join(format!("{name}.zip"));
    let what = format!("bundle artifact `{name}`");
    let url = service.signed_download_url(&entry).await?;
    let downloaded = download_to_file(&http, &url, &zip_path, MAX_BUNDLE_BYTES, &what, service.retry_policy()).await?;
    if let Some(recorded) = &entry.digest
        && recorded != &format!("sha256:{}", downloaded.sha256)
    {
        return Err(Error::evidence(
            &what,
            format!("downloaded bytes hash to sha256:{}, the artifact service recorded {recorded}", downloaded.sha256),
            "download it again; if it persists, the artifact was changed after its upload: run the audit again",
        ));
    }
    let verification = crate::verify::verify(&zip_path)?;
    if !verification.ok() {
        let first: Vec<String> = verification.problems.iter().take(5).map(|p| p.to_string()).collect();
        return Err(Error::evidence(
            &what,
            format!(
                "does not verify ({} problem(s), first: {}); nothing was attached",
                verification.problems.len(),
                first.join("; ")
            ),
            "run `release-audit verify` on the artifact to see every problem; attach only a bundle that verifies",
        ));
    }
    let sums_path = scratch.join(format!("{name}.SHA256SUMS"));
    let inner = inner_sums(&zip_path, &what)?;
    let sums = crate::publish::zip_sums(name, &downloaded.sha256, &inner);
    std::fs::write(&sums_path, sums).map_err(|e| Error::io(&sums_path, e, "free space in the temp directory"))?;

    let rest = Rest::new(http.clone(), &settings.api_url, &settings.repository, settings.token.clone());
    let zip_name = format!("{name}.zip");
    let sums_name = format!("{name}.SHA256SUMS");
    let files = [
        AssetFile { path: &zip_path, name: &zip_name, content_type: "application/zip" },
        AssetFile { path: &sums_path, name: &sums_name, content_type: "text/plain" },
    ];
    let release = ReleaseAssetSettings { tag: settings.tag.clone() };
    let assets = crate::publish::release::attach(&rest, &release, &files, settings.overwrite).await?;
    Ok(Attached {
        sha256: downloaded.sha256,
        verdict: verification.verdict.unwrap_or_else(|| "unknown".to_string()),
        assets,
    })
}

/// The bundle's own `SHA256SUMS` (`<root>/SHA256SUMS`), read from the verified zip.
fn inner_sums(zip_path: &Path, what: &str) -> Result<String> {
    let file = std::fs::File::open(zip_path).map_err(|e| Error::io(zip_path, e, "free space in the temp directory"))?;
    let unreadable = |reason: String| Error::evidence(what, reason, "run `release-audit verify` on it");
    let mut archive = zip::ZipArchive::new(file).map_err(|e| unreadable(format!("is not a zip: {e}")))?;
    let index = (0..archive.len())
        .find(|&i| {
            archive.name_for_index(i).and_then(|n| n.ok()).is_some_and(|n| {
                let mut parts = n.split('/');
                matches!((parts.next(), parts.next(), parts.next()), (Some(root), Some("SHA256SUMS"), None) if !root.is_empty())
            })
        })
        .ok_or_else(|| unreadable("has no <bundle>/SHA256SUMS".into()))?;
    let entry = archive.by_index(index).map_err(|e| unreadable(format!("SHA256SUMS cannot be read: {e}")))?;
    let mut text = String::new();
    entry
        .take(MAX_SUMS_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| unreadable(format!("SHA256SUMS is not UTF-8 text: {e}")))?;
    Ok(text)
}
