//! Why two images differ, level by level: the index (platforms and attestation
//! manifests added, removed or changed), each platform's manifest (format, config
//! digest, layers by position), the config (field by field) and the layers (tar
//! entries, streamed). Every finding carries the remedy that would have made the two
//! builds equal; the explanation always ends with the one that makes them equal by
//! construction — promote the tested image by digest instead of rebuilding it.
//!
//! Explaining is best effort: a blob that cannot be fetched or a layer above the
//! size limit becomes a finding that says so, never a lost verdict.

pub mod config;
pub mod layers;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::resolve::{MAX_CONFIG_BYTES, ManifestRecord, Resolved, Role};
use super::verdict::Verdict;
use crate::registry::client::RegistryClient;
use crate::registry::manifest::{self, Descriptor};
use crate::registry::reference::{Digest, Platform};

/// At most this many paths are listed per kind of layer difference.
const MAX_LISTED: usize = 20;
/// At most this many layers are downloaded per platform to explain it (a changed
/// base image changes every layer; the first few say enough).
const MAX_LAYERS_LISTED: usize = 4;

/// Where in the image a difference is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// The references themselves (existence, the digest the build reported, the format).
    Reference,
    Index,
    Manifest,
    Config,
    Layer,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Reference => "reference",
            Level::Index => "index",
            Level::Manifest => "manifest",
            Level::Config => "config",
            Level::Layer => "layer",
        }
    }
}

/// What removes a difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Remedy {
    PromoteByDigest,
    SourceDateEpoch,
    RewriteTimestamp,
    DontCopyGit,
    PinBaseImage,
    ManifestFormat,
    Attestations,
    ReproducibleInputs,
    FileModes,
    FileOrder,
    Compression,
    Labels,
    BuildDefinition,
    BuildEnvironment,
    ExpectedDigest,
    PlatformSet,
    ImageMissing,
    RaiseLayerDiffLimit,
}

impl Remedy {
    pub fn hint(self) -> &'static str {
        match self {
            Remedy::PromoteByDigest => {
                "promote the tested image by digest instead of rebuilding it (crane copy, skopeo copy --all --preserve-digests, regctl image copy)"
            }
            Remedy::SourceDateEpoch => {
                "build with SOURCE_DATE_EPOCH set to the commit time (SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)) so `created` is the same in every build"
            }
            Remedy::RewriteTimestamp => {
                "build with SOURCE_DATE_EPOCH and BuildKit's rewrite-timestamp=true (BuildKit ≥ 0.13: --output type=image,rewrite-timestamp=true; buildah: --timestamp) so file mtimes are the commit time"
            }
            Remedy::DontCopyGit => "do not COPY .git into the image: add .git to .dockerignore",
            Remedy::PinBaseImage => {
                "pin the base image by digest (FROM image@sha256:…) so both builds start from the same layers"
            }
            Remedy::ManifestFormat => {
                "push both images in the same manifest format (OCI or Docker schema2): the content is the same, the manifest bytes are not"
            }
            Remedy::Attestations => {
                "only BuildKit attestation manifests (provenance/SBOM, new on every build) differ: use digest-policy: platforms, or promote by digest so the index is copied unchanged"
            }
            Remedy::ReproducibleInputs => {
                "the files themselves differ: build both images from the same commit with pinned dependencies (lock files, versioned packages, pinned base image)"
            }
            Remedy::FileModes => {
                "set file modes and owners explicitly (COPY --chmod/--chown): the builds ran with different umasks or users"
            }
            Remedy::FileOrder => {
                "the same files are stored in another order: build with a builder that writes sorted tar entries (BuildKit rewrite-timestamp=true, buildah --timestamp)"
            }
            Remedy::Compression => {
                "the uncompressed layer is identical, only its compression differs (another tool or level): promote by digest instead of recompressing"
            }
            Remedy::Labels => {
                "set labels such as org.opencontainers.image.created/revision from the commit (its time and SHA), not from the build clock or the CI run"
            }
            Remedy::BuildDefinition => {
                "the build definition differs (Dockerfile steps, build args, ENV/CMD/ENTRYPOINT): build the release from the same commit with the same arguments"
            }
            Remedy::BuildEnvironment => {
                "the builder recorded the machine it ran on (container, container_config, docker_version): build with BuildKit or buildah, which do not"
            }
            Remedy::ExpectedDigest => {
                "the tested image is not the one the build job reported: pass the build job's digest output and test exactly that digest"
            }
            Remedy::PlatformSet => {
                "build the same platforms for test and release, or compare only the shared ones with `platforms`"
            }
            Remedy::ImageMissing => {
                "check the reference, and that the login may read it (GHCR answers not found to unauthorised reads)"
            }
            Remedy::RaiseLayerDiffLimit => "raise `layer-diff-limit` to see which files differ",
        }
    }
}

/// One difference, where it is and what removes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub level: Level,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    pub remedy: Remedy,
    pub hint: String,
}

impl Finding {
    pub fn new(
        level: Level,
        platform: Option<&Platform>,
        summary: String,
        details: Vec<String>,
        remedy: Remedy,
    ) -> Self {
        Finding {
            level,
            platform: platform.map(Platform::to_string),
            summary,
            details,
            remedy,
            hint: remedy.hint().to_string(),
        }
    }
}

/// Why a pair is not identical, and the command that would make it so.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub findings: Vec<Finding>,
    /// The promotion command for this pair (always applicable when the tested image exists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promote: Option<String>,
}

impl Explanation {
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }
}

/// What explaining needs besides the two images.
pub struct Context<'a> {
    pub client: &'a RegistryClient,
    /// Largest compressed layer that is diffed entry by entry; 0 disables layer diffs.
    pub layer_diff_limit: u64,
}

/// Explains a pair whose verdict is not `identical` (for `identical` it returns nothing).
pub async fn explain(
    ctx: &Context<'_>,
    tested: &Resolved,
    released: &Resolved,
    expected: Option<&Digest>,
    verdict: Verdict,
) -> Explanation {
    let mut findings = Vec::new();
    if verdict == Verdict::Identical {
        return Explanation::default();
    }
    if let Some(expected) = expected.filter(|e| **e != tested.record.digest) {
        findings.push(expected_mismatch(tested, expected));
    }
    if tested.record.digest != released.record.digest {
        findings.extend(index_level(tested, released));
        for (a, b) in changed_platforms(tested, released) {
            findings.extend(manifest_level(ctx, tested, released, a, b).await);
        }
    }
    let promote = Some(format!(
        "skopeo copy --all --preserve-digests docker://{}@{} docker://{}",
        tested.image.name(),
        tested.record.digest,
        released.image
    ));
    Explanation { findings, promote }
}

fn expected_mismatch(tested: &Resolved, expected: &Digest) -> Finding {
    let mut details = Vec::new();
    if let Some(m) = tested.record.manifests.iter().find(|m| m.digest == *expected) {
        details.push(format!(
            "{expected} is the {} manifest inside the index, not the index: pass the index digest (the build's `digest` output of a multi-platform build)",
            m.platform_key()
        ));
    }
    Finding::new(
        Level::Reference,
        None,
        format!("the tested image {} is {}, but the build reported {expected}", tested.image, tested.record.digest),
        details,
        Remedy::ExpectedDigest,
    )
}

/// Format, platform set, attestations and annotations of the two top-level documents.
fn index_level(tested: &Resolved, released: &Resolved) -> Vec<Finding> {
    let (t, r) = (&tested.record, &released.record);
    let mut findings = Vec::new();
    // Two single manifests: the manifest level says it.
    if t.media_type != r.media_type && (t.is_index() || r.is_index()) {
        findings.push(Finding::new(
            Level::Reference,
            None,
            format!("format: {} → {}", manifest::describe(&t.media_type), manifest::describe(&r.media_type)),
            vec![],
            if t.is_index() == r.is_index() { Remedy::ManifestFormat } else { Remedy::PlatformSet },
        ));
    }
    if !(t.is_index() && r.is_index()) {
        return findings;
    }

    let platforms = |rec: &super::resolve::DigestRecord| -> BTreeMap<String, ManifestRecord> {
        super::resolve::keyed(rec.manifests.iter().filter(|m| m.role == Role::Image))
            .into_iter()
            .map(|(k, m)| (k, m.clone()))
            .collect()
    };
    let (pa, pb) = (platforms(t), platforms(r));
    let removed: Vec<&String> = pa.keys().filter(|k| !pb.contains_key(*k)).collect();
    let added: Vec<&String> = pb.keys().filter(|k| !pa.contains_key(*k)).collect();
    if !removed.is_empty() || !added.is_empty() {
        let mut details: Vec<String> = removed.iter().map(|k| format!("{k}: only in tested")).collect();
        details.extend(added.iter().map(|k| format!("{k}: only in released")));
        findings.push(Finding::new(
            Level::Index,
            None,
            "the indexes list different platforms".to_string(),
            details,
            Remedy::PlatformSet,
        ));
    }
    let mut changed = Vec::new();
    for (key, a) in &pa {
        if let Some(b) = pb.get(key).filter(|b| b.digest != a.digest) {
            let note = if a.fetched && b.fetched { "" } else { " (not compared: excluded by `platforms`)" };
            changed.push(format!("{key}: {} → {}{note}", a.digest.short(), b.digest.short()));
        }
    }
    if !changed.is_empty() {
        findings.push(Finding::new(
            Level::Index,
            None,
            format!(
                "{} of {} {}",
                changed.len(),
                pa.len().max(pb.len()),
                if changed.len() == 1 { "platform manifests differs" } else { "platform manifests differ" }
            ),
            changed,
            Remedy::PromoteByDigest,
        ));
    }

    let attestations = |rec: &super::resolve::DigestRecord| -> BTreeSet<Digest> {
        rec.attestations().map(|m| m.digest.clone()).collect()
    };
    let (aa, ab) = (attestations(t), attestations(r));
    if aa != ab {
        let describe = |rec: &super::resolve::DigestRecord, d: &Digest| {
            let m = rec.manifests.iter().find(|m| m.digest == *d);
            let target = m
                .and_then(|m| m.attests.as_ref())
                .and_then(|target| rec.manifests.iter().find(|x| x.digest == *target));
            match target {
                Some(t) => format!("{} (unknown/unknown, attests {})", d.short(), t.platform_key()),
                None => format!("{} (unknown/unknown)", d.short()),
            }
        };
        let mut details: Vec<String> =
            aa.difference(&ab).map(|d| format!("only in tested: {}", describe(t, d))).collect();
        details.extend(ab.difference(&aa).map(|d| format!("only in released: {}", describe(r, d))));
        let platforms_same =
            pa.iter().all(|(k, a)| pb.get(k).is_some_and(|b| b.digest == a.digest)) && pa.len() == pb.len();
        let summary = if platforms_same {
            "only the attestation manifests (unknown/unknown) differ; every platform manifest is identical".to_string()
        } else {
            "the attestation manifests (unknown/unknown) differ".to_string()
        };
        findings.push(Finding::new(Level::Index, None, summary, details, Remedy::Attestations));
    }

    if let (Ok(ia), Ok(ib)) = (index_of(tested), index_of(released)) {
        findings.extend(annotations(&ia.annotations, &ib.annotations, Level::Index, None));
        if findings.is_empty() {
            findings.push(Finding::new(
                Level::Index,
                None,
                "the indexes list the same manifests but their bytes differ (entry order, formatting or descriptor fields)".to_string(),
                vec![],
                Remedy::PromoteByDigest,
            ));
        }
    }
    findings
}

fn index_of(resolved: &Resolved) -> crate::error::Result<manifest::Index> {
    let raw = &resolved.manifests[&resolved.record.digest];
    manifest::parse(&raw.bytes, "index")
}

fn annotations(
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
    level: Level,
    platform: Option<&Platform>,
) -> Vec<Finding> {
    let mut stamped = Vec::new();
    let mut other = Vec::new();
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for key in keys {
        let (x, y) = (a.get(key), b.get(key));
        if x != y {
            let line =
                format!("annotation {key}: {} → {}", x.map_or("-", String::as_str), y.map_or("-", String::as_str));
            if config::is_build_stamp(key) { stamped.push(line) } else { other.push(line) }
        }
    }
    let mut findings = Vec::new();
    if !stamped.is_empty() {
        findings.push(Finding::new(
            level,
            platform,
            count(
                stamped.len(),
                "annotation carrying the build time or commit differs",
                "annotations carrying the build time or commit differ",
            ),
            stamped,
            Remedy::Labels,
        ));
    }
    if !other.is_empty() {
        findings.push(Finding::new(
            level,
            platform,
            count(other.len(), "annotation differs", "annotations differ"),
            other,
            Remedy::BuildDefinition,
        ));
    }
    findings
}

/// The platform manifests to compare one by one: same platform, fetched on both
/// sides, different digest. Two single manifests are compared with each other.
fn changed_platforms<'a>(
    tested: &'a Resolved,
    released: &'a Resolved,
) -> Vec<(&'a ManifestRecord, &'a ManifestRecord)> {
    let (t, r) = (&tested.record, &released.record);
    if !t.is_index() && !r.is_index() {
        return t.images().zip(r.images()).filter(|(a, b)| a.digest != b.digest).collect();
    }
    t.images()
        .filter_map(|a| r.images().find(|b| b.platform_key() == a.platform_key()).map(|b| (a, b)))
        .filter(|(a, b)| a.digest != b.digest)
        .collect()
}

/// Compares two platform manifests: format, annotations, config, layers.
async fn manifest_level(
    ctx: &Context<'_>,
    tested: &Resolved,
    released: &Resolved,
    a: &ManifestRecord,
    b: &ManifestRecord,
) -> Vec<Finding> {
    let platform = a.platform.as_ref();
    let mut findings = Vec::new();
    let failed = |e: crate::error::Error| {
        Finding::new(Level::Manifest, platform, format!("could not be compared: {e}"), vec![], Remedy::PromoteByDigest)
    };
    let (ma, mb) = match (tested.manifest(&a.digest), released.manifest(&b.digest)) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => return vec![failed(e)],
    };
    if a.media_type != b.media_type {
        findings.push(Finding::new(
            Level::Manifest,
            platform,
            format!("format: {} → {}", manifest::describe(&a.media_type), manifest::describe(&b.media_type)),
            vec![],
            Remedy::ManifestFormat,
        ));
    }
    findings.extend(annotations(&ma.annotations, &mb.annotations, Level::Manifest, platform));

    // The config: its digest, then field by field.
    let mut diff_ids: (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    if ma.config.digest != mb.config.digest {
        match (config_of(ctx, tested, &ma.config).await, config_of(ctx, released, &mb.config).await) {
            (Ok(x), Ok(y)) => {
                diff_ids = (diff_ids_of(&x), diff_ids_of(&y));
                let fields = config::diff(&x, &y, platform);
                if fields.is_empty() {
                    let summary = format!(
                        "config {} → {}: only rootfs.diff_ids differs, because the layers differ",
                        short(&ma.config.digest),
                        short(&mb.config.digest)
                    );
                    findings.push(Finding::new(Level::Manifest, platform, summary, vec![], Remedy::PromoteByDigest));
                }
                findings.extend(fields);
            }
            (Err(e), _) | (_, Err(e)) => findings.push(failed(e)),
        }
    } else if ma.layers.iter().map(|l| &l.digest).ne(mb.layers.iter().map(|l| &l.digest))
        && let Ok(x) = config_of(ctx, tested, &ma.config).await
    {
        // One config for both: its rootfs.diff_ids name the uncompressed content of
        // both images' layers, so layers that differ differ only in compression
        // (re-pushed with other gzip output, converted to zstd) — no download needed.
        let ids = diff_ids_of(&x);
        diff_ids = (ids.clone(), ids);
    }

    findings.extend(layer_level(ctx, tested, released, platform, &ma.layers, &mb.layers, &diff_ids).await);

    if findings.is_empty() {
        findings.push(Finding::new(
            Level::Manifest,
            platform,
            "same config and layers; the manifests differ only in their bytes (field order, formatting or descriptor fields)".to_string(),
            vec![],
            Remedy::ManifestFormat,
        ));
    }
    findings
}

async fn config_of(
    ctx: &Context<'_>,
    resolved: &Resolved,
    descriptor: &Descriptor,
) -> crate::error::Result<serde_json::Value> {
    let what = format!("config of {}", resolved.image);
    let digest =
        descriptor.digest().map_err(|reason| crate::error::Error::evidence(&what, reason, "push the image again"))?;
    let bytes = ctx
        .client
        .blob_bytes(&resolved.image, &digest, MAX_CONFIG_BYTES)
        .await
        .map_err(|e| e.into_error("the manifest names a config the registry does not have"))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| crate::error::Error::evidence(&what, format!("is not JSON: {e}"), "push the image again"))
}

fn diff_ids_of(config: &serde_json::Value) -> Vec<String> {
    config
        .pointer("/rootfs/diff_ids")
        .and_then(|v| v.as_array())
        .map(|ids| ids.iter().filter_map(|i| i.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// `1 entry`, `3 entries`.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn short(digest: &str) -> String {
    Digest::parse(digest).map(|d| d.short()).unwrap_or_else(|_| digest.to_string())
}

/// Layers by position: which differ, which are extra, and for those below the size
/// limit, which tar entries differ.
async fn layer_level(
    ctx: &Context<'_>,
    tested: &Resolved,
    released: &Resolved,
    platform: Option<&Platform>,
    la: &[Descriptor],
    lb: &[Descriptor],
    diff_ids: &(Vec<String>, Vec<String>),
) -> Vec<Finding> {
    let finding = |summary: String, details: Vec<String>, remedy: Remedy| {
        Finding::new(Level::Layer, platform, summary, details, remedy)
    };
    let ByPosition { mut findings, differing } = by_position(la, lb, platform);
    let mut downloads = 0;
    for i in differing {
        let (x, y) = (&la[i], &lb[i]);
        let position = format!("layer {}", i + 1);
        if let (Some(p), Some(q)) = (diff_ids.0.get(i), diff_ids.1.get(i))
            && p == q
        {
            findings.push(finding(
                format!("{position}: same uncompressed content ({}), different compression", short(p)),
                vec![],
                Remedy::Compression,
            ));
            continue;
        }
        if downloads == MAX_LAYERS_LISTED {
            findings.push(finding(
                format!("{position}: not diffed — the first {MAX_LAYERS_LISTED} differing layers are"),
                vec![],
                Remedy::PromoteByDigest,
            ));
            continue;
        }
        if x.size.max(y.size) > ctx.layer_diff_limit {
            findings.push(finding(
                format!(
                    "{position}: not diffed — {} and {} bytes, above layer-diff-limit ({} bytes)",
                    x.size, y.size, ctx.layer_diff_limit
                ),
                vec![],
                Remedy::RaiseLayerDiffLimit,
            ));
            continue;
        }
        let (da, db) = match (x.digest(), y.digest()) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                findings.push(finding(format!("{position}: {e}"), vec![], Remedy::PromoteByDigest));
                continue;
            }
        };
        downloads += 1;
        let (ra, rb) = tokio::join!(
            layers::list(ctx.client, &tested.image, &da, &x.media_type),
            layers::list(ctx.client, &released.image, &db, &y.media_type)
        );
        match (ra, rb) {
            (Ok(a), Ok(b)) => findings.extend(layer_findings(&position, &layers::diff(&a, &b), platform)),
            (Err(e), _) | (_, Err(e)) => {
                findings.push(finding(format!("{position}: could not be diffed: {e}"), vec![], Remedy::PromoteByDigest))
            }
        }
    }
    findings.extend(extra_layers(ctx, [tested, released], [la, lb], platform, downloads).await);
    findings
}

/// Layers only one side has, listed while fewer than [`MAX_LAYERS_LISTED`] layers
/// were downloaded (`downloads` so far).
async fn extra_layers(
    ctx: &Context<'_>,
    images: [&Resolved; 2],
    layers: [&[Descriptor]; 2],
    platform: Option<&Platform>,
    mut downloads: usize,
) -> Vec<Finding> {
    let [la, lb] = layers;
    let mut findings = Vec::new();
    for (side, image, extra) in [("tested", images[0], la.get(lb.len()..)), ("released", images[1], lb.get(la.len()..))]
    {
        let offset = la.len().min(lb.len());
        for (k, layer) in extra.unwrap_or_default().iter().enumerate() {
            let position = offset + k + 1;
            if downloads == MAX_LAYERS_LISTED {
                let summary = format!(
                    "layer {position} exists only in {side} ({} bytes); not listed — the first {MAX_LAYERS_LISTED} layers are",
                    layer.size
                );
                findings.push(Finding::new(Level::Layer, platform, summary, vec![], Remedy::BuildDefinition));
                continue;
            }
            downloads += 1;
            findings.push(extra_layer(ctx, image, side, position, layer, platform).await);
        }
    }
    findings
}

/// The manifest-level findings of two layer lists compared by position, and which
/// positions differ.
struct ByPosition {
    findings: Vec<Finding>,
    differing: Vec<usize>,
}

fn by_position(la: &[Descriptor], lb: &[Descriptor], platform: Option<&Platform>) -> ByPosition {
    let mut findings = Vec::new();
    if la.len() != lb.len() {
        findings.push(Finding::new(
            Level::Manifest,
            platform,
            format!("layer count {} → {}", la.len(), lb.len()),
            vec![],
            Remedy::BuildDefinition,
        ));
    }
    let differing: Vec<usize> = (0..la.len().min(lb.len())).filter(|i| la[*i].digest != lb[*i].digest).collect();
    if !differing.is_empty() {
        let details = differing
            .iter()
            .map(|i| format!("layer {}: {} → {}", i + 1, short(&la[*i].digest), short(&lb[*i].digest)))
            .collect();
        findings.push(Finding::new(
            Level::Manifest,
            platform,
            format!(
                "{} of {} {} (by position)",
                differing.len(),
                la.len().max(lb.len()),
                if differing.len() == 1 { "layers differs" } else { "layers differ" }
            ),
            details,
            Remedy::PromoteByDigest,
        ));
    }
    if differing.first() == Some(&0) && la.len() > 1 && lb.len() > 1 {
        findings.push(Finding::new(
            Level::Layer,
            platform,
            "layer 1 differs: it usually comes from the base image".to_string(),
            vec![],
            Remedy::PinBaseImage,
        ));
    }
    ByPosition { findings, differing }
}

async fn extra_layer(
    ctx: &Context<'_>,
    image: &Resolved,
    side: &str,
    position: usize,
    layer: &Descriptor,
    platform: Option<&Platform>,
) -> Finding {
    let summary = format!("layer {position} exists only in {side} ({} bytes)", layer.size);
    if layer.size > ctx.layer_diff_limit {
        return Finding::new(
            Level::Layer,
            platform,
            format!("{summary}; above layer-diff-limit, not listed"),
            vec![],
            Remedy::BuildDefinition,
        );
    }
    let listing = match layer.digest() {
        Ok(d) => layers::list(ctx.client, &image.image, &d, &layer.media_type).await,
        Err(reason) => Err(crate::error::Error::evidence("layer", reason, "push the image again")),
    };
    match listing {
        Ok(listing) => {
            let git: Vec<&String> = listing.entries.keys().filter(|p| layers::is_git_path(p)).collect();
            if !git.is_empty() {
                let mut details: Vec<String> = git.iter().take(MAX_LISTED).map(|p| p.to_string()).collect();
                let others = listing.entries.len() - git.len();
                if others > 0 {
                    details.push(format!("… and {} outside .git", count(others, "entry", "entries")));
                }
                Finding::new(
                    Level::Layer,
                    platform,
                    format!("{summary} and holds a .git directory ({})", count(git.len(), "entry", "entries")),
                    details,
                    Remedy::DontCopyGit,
                )
            } else {
                let details = listing.entries.keys().take(MAX_LISTED).cloned().collect();
                Finding::new(
                    Level::Layer,
                    platform,
                    format!("{summary} with {}", count(listing.entries.len(), "entry", "entries")),
                    details,
                    Remedy::BuildDefinition,
                )
            }
        }
        Err(e) => Finding::new(
            Level::Layer,
            platform,
            format!("{summary}; could not be listed: {e}"),
            vec![],
            Remedy::BuildDefinition,
        ),
    }
}

/// One finding per kind of tar entry difference.
fn layer_findings(position: &str, d: &layers::LayerDiff, platform: Option<&Platform>) -> Vec<Finding> {
    let finding = |summary: String, details: Vec<String>, remedy: Remedy| {
        Finding::new(Level::Layer, platform, summary, details, remedy)
    };
    let list = |changes: &[layers::Change]| -> Vec<String> {
        let mut lines: Vec<String> = changes
            .iter()
            .take(MAX_LISTED)
            .map(|c| match &c.detail {
                Some(d) => format!("{}: {d}", c.path),
                None => c.path.clone(),
            })
            .collect();
        if changes.len() > MAX_LISTED {
            lines.push(format!("… and {} more", changes.len() - MAX_LISTED));
        }
        lines
    };
    let mut findings = Vec::new();
    if d.is_empty() {
        if d.order_only {
            findings.push(finding(format!("{position}: the same entries in another order"), vec![], Remedy::FileOrder));
        } else {
            findings.push(finding(
                format!(
                    "{position}: the same entries with the same metadata; the tar stream or its compression differs"
                ),
                vec![],
                Remedy::Compression,
            ));
        }
        return findings;
    }
    if d.only_mtimes() {
        findings.push(finding(
            format!("{position}: only file modification times differ ({})", count(d.mtime.len(), "entry", "entries")),
            list(&d.mtime),
            Remedy::RewriteTimestamp,
        ));
        return findings;
    }
    let git = |changes: &[layers::Change]| changes.iter().any(|c| layers::is_git_path(&c.path));
    if !d.added.is_empty() {
        let remedy = if git(&d.added) { Remedy::DontCopyGit } else { Remedy::ReproducibleInputs };
        findings.push(finding(
            format!("{position}: {} only in released", count(d.added.len(), "entry", "entries")),
            list(&d.added),
            remedy,
        ));
    }
    if !d.removed.is_empty() {
        let remedy = if git(&d.removed) { Remedy::DontCopyGit } else { Remedy::ReproducibleInputs };
        findings.push(finding(
            format!("{position}: {} only in tested", count(d.removed.len(), "entry", "entries")),
            list(&d.removed),
            remedy,
        ));
    }
    if !d.content.is_empty() {
        let remedy = if git(&d.content) { Remedy::DontCopyGit } else { Remedy::ReproducibleInputs };
        findings.push(finding(
            format!("{position}: {} in content", count(d.content.len(), "file differs", "files differ")),
            list(&d.content),
            remedy,
        ));
    }
    if !d.mtime.is_empty() {
        findings.push(finding(
            format!("{position}: {}", count(d.mtime.len(), "modification time differs", "modification times differ")),
            list(&d.mtime),
            Remedy::RewriteTimestamp,
        ));
    }
    if !d.mode.is_empty() {
        findings.push(finding(
            format!("{position}: {}", count(d.mode.len(), "file mode differs", "file modes differ")),
            list(&d.mode),
            Remedy::FileModes,
        ));
    }
    if !d.owner.is_empty() {
        findings.push(finding(
            format!("{position}: {}", count(d.owner.len(), "owner differs", "owners differ")),
            list(&d.owner),
            Remedy::FileModes,
        ));
    }
    findings
}
