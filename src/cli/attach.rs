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
//! bundle that does not verify is refused and nothing is attached. With
//! `sigstore-bundles` (the `actions/attest` outputs of a signing step after the audit) it
//! attaches the Sigstore bundles of the zip and of its VSA beside them, as
//! `<bundle-name>.sigstore.json` and `<bundle-name>.vsa.sigstore.json`, each checked to be
//! about exactly this zip or this bundle's VSA.
//!
//! With `storage-url` (the audit step's), the Sigstore bundles also go to object
//! storage, beside the zip the audit stored there (its key from the same layout, with the
//! repository, version and bundle name of the verified bundle's manifest): only when the
//! stored zip holds exactly the artifact's bytes, under the zip's write-once lock (the
//! retention inputs, else the stored zip's own lock), each read back. `release-tag` is
//! then optional; at least one of the two is needed.
//! Exit codes: 0 attached, 2 bad input, 3 the artifact, its verification or the release failed.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::config::attach::{AttachArgs, AttachSettings, BundleSource, ReleaseTarget};
use crate::error::{Error, Result};
use crate::github::artifacts::ArtifactService;
use crate::github::blob::download_to_file;
use crate::github::commands::print_line;
use crate::github::rest::Rest;
use crate::github::runner::{Lookup, OutputFile};
use crate::http::Net;
use crate::publish::release::{AssetFile, AttachedAsset, ReleaseAssetSettings};
use crate::publish::storage::{BesideRequest, ExtraFile, StoredObject};

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
    /// The Sigstore bundles stored beside the zip in object storage.
    pub stored: Vec<StoredObject>,
}

/// Runs `attach`; returns the exit code.
pub async fn attach(args: AttachArgs, env: Lookup<'_>, net: &Net) -> Result<i32> {
    let settings = AttachSettings::from_args(&args.with_inputs(env), env)?;
    for secret in settings.storage.iter().flat_map(|s| s.secrets()) {
        crate::github::commands::mask_late_secret(secret.expose());
    }
    let scratch =
        tempfile::tempdir_in(env("RUNNER_TEMP").unwrap_or_else(|| std::env::temp_dir().display().to_string()))
            .map_err(|e| Error::io(std::env::temp_dir(), e, "free space in the temp directory"))?;
    let attached = attach_bundle(&settings, net, scratch.path()).await?;
    print_line(&format!("verdict: {}", attached.verdict));
    print_line(&format!("bundle sha256: {}", attached.sha256));
    for asset in &attached.assets {
        print_line(&format!("attached: {} {}", asset.name, asset.url));
    }
    for object in &attached.stored {
        let lock = object.lock.as_ref().map(|l| {
            format!(" (locked {} until {})", l.mode, l.retain_until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        });
        print_line(&format!("stored: {}{}", object.url, lock.unwrap_or_default()));
    }
    if let Some(path) = env("GITHUB_OUTPUT") {
        let out = OutputFile::new(path.into());
        out.set("bundle-sha256", &attached.sha256)?;
        out.set("verdict", &attached.verdict)?;
        let urls: Vec<&str> = attached.assets.iter().map(|a| a.url.as_str()).collect();
        out.set("asset-urls", &urls.join("\n"))?;
        let stored: Vec<&str> = attached.stored.iter().map(|o| o.url.as_str()).collect();
        out.set("storage-urls", &stored.join("\n"))?;
        if attached.stored.iter().any(|o| o.lock.is_some()) {
            out.set("storage-locks", &crate::publish::storage::locks_json(&attached.stored))?;
        }
    }
    Ok(0)
}

/// Reads (downloads or opens), checks, verifies and attaches the bundle; `scratch` holds
/// the download.
pub async fn attach_bundle(settings: &AttachSettings, net: &Net, scratch: &Path) -> Result<Attached> {
    let name = settings.bundle_name.as_str();
    let (zip_path, sha256, what) = match &settings.source {
        BundleSource::Artifact(results) => download_bundle(net, results, name, scratch).await?,
        BundleSource::File(path) => {
            let what = format!("bundle `{}`", path.display());
            let file =
                std::fs::File::open(path).map_err(|e| Error::io(path, e, "pass the audit step's `bundle-path`"))?;
            let (_, sha256) = crate::hashing::copy(file, &mut std::io::sink())
                .map_err(|e| Error::io(path, e, "pass the audit step's `bundle-path`"))?;
            (path.clone(), sha256, what)
        }
    };
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
    let signatures = sigstore_assets(&settings.sigstore_bundles, &zip_path, name, &sha256)?;
    let verdict = verification.verdict.clone().unwrap_or_else(|| "unknown".to_string());
    let bundle = Downloaded { name, zip: &zip_path, sha256: &sha256, what: &what };
    let stored = match &settings.storage {
        Some(storage) => {
            let manifest = verification.manifest.as_ref().ok_or_else(|| {
                Error::evidence(&what, "has no manifest to name its release", "run `release-audit verify` on it")
            })?;
            store_signatures(net, storage, manifest, &bundle, &signatures, settings.overwrite).await?
        }
        None => Vec::new(),
    };
    let assets = match &settings.release {
        Some(release) => attach_to_release(net, settings, release, &bundle, &signatures, scratch).await?,
        None => Vec::new(),
    };
    Ok(Attached { sha256, verdict, assets, stored })
}

/// The bundle artifact, downloaded into `scratch` and held against the digest the
/// artifact service recorded: (its path, sha256, how errors name it).
async fn download_bundle(
    net: &Net,
    results: &crate::github::artifacts::ResultsService,
    name: &str,
    scratch: &Path,
) -> Result<(PathBuf, String, String)> {
    let service = ArtifactService::new(net, results);
    let entry = service.list(Some(name)).await?.into_iter().find(|e| e.name == name).ok_or_else(|| {
        Error::service(
            "artifact service",
            format!("this run has no artifact named `{name}`"),
            "run `attach` in the same workflow run as the audit step, after it, with the same `bundle-name` (or give `bundle-path`)",
        )
    })?;
    let zip_path = scratch.join(format!("{name}.zip"));
    let what = format!("bundle artifact `{name}`");
    let url = service.signed_download_url(&entry).await?;
    let downloaded = download_to_file(&net.client, &url, &zip_path, MAX_BUNDLE_BYTES, &what, net.retry).await?;
    if let Some(recorded) = &entry.digest
        && recorded != &format!("sha256:{}", downloaded.sha256)
    {
        return Err(Error::evidence(
            &what,
            format!("downloaded bytes hash to sha256:{}, the artifact service recorded {recorded}", downloaded.sha256),
            "download it again; if it persists, the artifact was changed after its upload: run the audit again",
        ));
    }
    Ok((zip_path, downloaded.sha256, what))
}

/// The verified artifact on disk.
struct Downloaded<'a> {
    name: &'a str,
    zip: &'a Path,
    sha256: &'a str,
    /// How errors name it.
    what: &'a str,
}

/// Stores the Sigstore bundles beside the zip the audit stored, under the key the
/// manifest's repository, version and bundle name make.
async fn store_signatures(
    net: &crate::http::Net,
    storage: &crate::publish::storage::StorageSettings,
    manifest: &crate::bundle::manifest::Manifest,
    bundle: &Downloaded<'_>,
    signatures: &[(PathBuf, String)],
    overwrite: bool,
) -> Result<Vec<StoredObject>> {
    let files: Vec<ExtraFile> = signatures
        .iter()
        .map(|(path, asset)| ExtraFile {
            path: path.clone(),
            suffix: asset.strip_prefix(bundle.name).unwrap_or(asset).to_string(),
            content_type: "application/json",
        })
        .collect();
    let request = BesideRequest {
        repository: manifest.source.repository.as_deref().unwrap_or("local/local"),
        version: &manifest.release.version,
        bundle_name: manifest.release.bundle_name.as_str(),
        zip_sha256: bundle.sha256,
        overwrite,
        files: &files,
    };
    crate::publish::storage::store_beside(net, storage, &request).await
}

/// Attaches the zip, its `SHA256SUMS` and the Sigstore bundles to the release.
async fn attach_to_release(
    net: &Net,
    settings: &AttachSettings,
    release: &ReleaseTarget,
    bundle: &Downloaded<'_>,
    signatures: &[(PathBuf, String)],
    scratch: &Path,
) -> Result<Vec<AttachedAsset>> {
    let name = bundle.name;
    let sums_path = scratch.join(format!("{name}.SHA256SUMS"));
    let inner = inner_sums(bundle.zip, bundle.what)?;
    let sums = crate::publish::zip_sums(name, bundle.sha256, &inner);
    std::fs::write(&sums_path, sums).map_err(|e| Error::io(&sums_path, e, "free space in the temp directory"))?;
    let rest = Rest::new(net, &settings.api_url, &settings.repository, release.token.clone());
    let zip_name = format!("{name}.zip");
    let sums_name = format!("{name}.SHA256SUMS");
    let mut files = vec![
        AssetFile { path: bundle.zip, name: &zip_name, content_type: "application/zip" },
        AssetFile { path: &sums_path, name: &sums_name, content_type: "text/plain" },
    ];
    files.extend(signatures.iter().map(|(path, asset)| AssetFile {
        path: path.as_path(),
        name: asset.as_str(),
        content_type: "application/json",
    }));
    let target = ReleaseAssetSettings { tag: release.tag.clone() };
    crate::publish::release::attach(&rest, &target, &files, settings.overwrite).await
}

/// The bundle's own `SHA256SUMS` (`<root>/SHA256SUMS`), read from the verified zip.
fn inner_sums(zip_path: &Path, what: &str) -> Result<String> {
    inner_file(zip_path, what, "SHA256SUMS", MAX_SUMS_BYTES)?
        .ok_or_else(|| Error::evidence(what, "has no <bundle>/SHA256SUMS", "run `release-audit verify` on it"))
}

/// `<root>/<inner>` of the verified zip, as text, when it has one.
fn inner_file(zip_path: &Path, what: &str, inner: &str, max: u64) -> Result<Option<String>> {
    let file = std::fs::File::open(zip_path).map_err(|e| Error::io(zip_path, e, "free space in the temp directory"))?;
    let unreadable = |reason: String| Error::evidence(what, reason, "run `release-audit verify` on it");
    let mut archive = zip::ZipArchive::new(file).map_err(|e| unreadable(format!("is not a zip: {e}")))?;
    let Some(index) = (0..archive.len()).find(|&i| {
        archive
            .name_for_index(i)
            .and_then(|n| n.ok())
            .is_some_and(|n| n.split_once('/').is_some_and(|(root, rest)| !root.is_empty() && rest == inner))
    }) else {
        return Ok(None);
    };
    let entry = archive.by_index(index).map_err(|e| unreadable(format!("{inner} cannot be read: {e}")))?;
    let mut text = String::new();
    entry.take(max).read_to_string(&mut text).map_err(|e| unreadable(format!("{inner} is not UTF-8 text: {e}")))?;
    Ok(Some(text))
}

/// The largest Sigstore bundle `attach` reads.
const MAX_SIGSTORE_BYTES: u64 = 1 << 20;

/// Each Sigstore bundle with the asset name it is attached under: the one whose signed
/// statement has the zip's sha256 as a subject is `<name>.sigstore.json`; the one whose
/// statement is the bundle's VSA (its predicate exactly that of `statements/vsa.intoto.json`
/// in the verified zip) is `<name>.vsa.sigstore.json`. Anything else is refused. This
/// reads what was signed; it does not check the signature (`verify` with the Sigstore
/// bundle does).
fn sigstore_assets(paths: &[PathBuf], zip_path: &Path, name: &str, zip_sha256: &str) -> Result<Vec<(PathBuf, String)>> {
    let what = format!("bundle artifact `{name}`");
    let vsa = match inner_file(zip_path, &what, crate::bundle::vsa::VSA_PATH, MAX_SIGSTORE_BYTES)? {
        Some(text) => serde_json::from_str::<serde_json::Value>(&text).ok().map(|v| v["predicate"].clone()),
        None => None,
    };
    let mut out: Vec<(PathBuf, String)> = Vec::new();
    for path in paths {
        let refuse = |reason: String| {
            Error::evidence(
                format!("Sigstore bundle {}", path.display()),
                reason,
                "pass the `bundle-path` outputs of the actions/attest steps that signed this run's zip and its VSA",
            )
        };
        let statement = signed_statement(path).map_err(&refuse)?;
        let about_zip = statement["subject"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["digest"]["sha256"].as_str() == Some(zip_sha256)));
        let is_vsa = statement["predicateType"] == crate::bundle::vsa::VSA_PREDICATE
            && vsa.as_ref().is_some_and(|p| &statement["predicate"] == p);
        let asset = match (about_zip, is_vsa) {
            (true, _) => format!("{name}.sigstore.json"),
            (false, true) => format!("{name}.vsa.sigstore.json"),
            (false, false) => {
                return Err(refuse(format!(
                    "signs neither the bundle zip (sha256:{zip_sha256}) nor the bundle's VSA; nothing was attached"
                )));
            }
        };
        if out.iter().any(|(_, a)| a == &asset) {
            return Err(refuse(format!("is a second Sigstore bundle for {asset}; nothing was attached")));
        }
        out.push((path.clone(), asset));
    }
    Ok(out)
}

/// The in-toto statement a Sigstore bundle's DSSE envelope carries (not checked against
/// its signature).
fn signed_statement(path: &Path) -> std::result::Result<serde_json::Value, String> {
    use base64::Engine as _;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot be read: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_SIGSTORE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot be read: {e}"))?;
    if bytes.len() as u64 > MAX_SIGSTORE_BYTES {
        return Err(format!("is larger than {MAX_SIGSTORE_BYTES} bytes"));
    }
    let bundle: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| format!("is not JSON: {e}"))?;
    if !bundle["mediaType"].as_str().is_some_and(|m| m.starts_with("application/vnd.dev.sigstore.bundle")) {
        return Err("is not a Sigstore bundle (no `application/vnd.dev.sigstore.bundle…` mediaType)".into());
    }
    let envelope = &bundle["dsseEnvelope"];
    if envelope["payloadType"] != "application/vnd.in-toto+json" {
        return Err("does not hold an in-toto statement in a DSSE envelope".into());
    }
    let payload = envelope["payload"].as_str().ok_or("has no DSSE payload")?;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .map_err(|e| format!("has a DSSE payload that is not base64: {e}"))?;
    serde_json::from_slice(&payload).map_err(|e| format!("has a DSSE payload that is not JSON: {e}"))
}
