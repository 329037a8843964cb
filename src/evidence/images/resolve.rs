//! Resolution: one image reference → one [`DigestRecord`] — the digest of the index (or
//! manifest) it names and the digest of every platform manifest under it, each
//! computed from bytes fetched with `GET` — plus those exact bytes for the bundle.
//!
//! An index's children are fetched by digest, at most [`MAX_CONCURRENT_FETCHES`] at a
//! time, once per distinct digest (an index may list one digest many times, or list
//! thousands of children: neither multiplies requests nor memory). Children that
//! the `platforms` filter excludes are listed (their digests are in the index) but not
//! fetched; BuildKit attestation manifests (`unknown/unknown`) are fetched and kept
//! apart from the platform manifests.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::registry::client::{FetchError, FetchResult, FetchedManifest, RegistryClient};
use crate::registry::manifest::{self, Kind};
use crate::registry::reference::{Digest, ImageRef, Platform};

/// Child manifests fetched at once for one index.
pub const MAX_CONCURRENT_FETCHES: usize = 8;

/// What the fetched children of one index may declare together (2,000 real platform
/// manifests are a few MB).
pub const MAX_CHILDREN_BYTES: u64 = 64 * 1024 * 1024;

/// Image configs are small; this bounds what we read of one.
pub const MAX_CONFIG_BYTES: usize = 16 * 1024 * 1024;

/// What a manifest under an index is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A runnable image for a platform.
    Image,
    /// A BuildKit attestation manifest (platform `unknown/unknown`).
    Attestation,
    /// Anything else an index may list (a nested index, an artifact).
    Other,
}

/// One manifest of a record: the image itself, or a child of its index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestRecord {
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
    /// Fetched and hashed here; `false` when the `platforms` filter excluded it.
    pub fetched: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_digest: Option<Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<DateTime<Utc>>,
    /// For an attestation: the manifest it attests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attests: Option<Digest>,
}

/// Manifests by platform key, in index order. An index may list one platform twice
/// (`podman manifest push --add-compression zstd` adds a zstd twin of each, Windows
/// indexes one per `os.version`): the second is `<key> #2`, and so on, so that no
/// manifest is hidden behind another of its platform — two such indexes compare equal
/// only when every one of them does.
pub fn keyed<'a>(manifests: impl Iterator<Item = &'a ManifestRecord>) -> Vec<(String, &'a ManifestRecord)> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    manifests
        .map(|m| {
            let key = m.platform_key();
            let n = seen.entry(key.clone()).or_default();
            *n += 1;
            (if *n == 1 { key } else { format!("{key} #{n}") }, m)
        })
        .collect()
}

impl ManifestRecord {
    /// How platforms are matched between two records: `os/arch[/variant]`, or
    /// `single manifest` for a manifest whose config names no platform.
    pub fn platform_key(&self) -> String {
        match &self.platform {
            Some(p) => p.to_string(),
            None => "single manifest".to_string(),
        }
    }
}

/// The digests of one reference, as read from its registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestRecord {
    /// The reference as given.
    pub reference: String,
    pub registry: String,
    pub repository: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The media type of what the reference names (an index or a manifest).
    pub media_type: String,
    /// The digest of what the reference names: the index digest for a multi-platform image.
    pub digest: Digest,
    /// The registry's `Docker-Content-Digest`, recorded beside the computed digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_digest: Option<Digest>,
    pub size: u64,
    pub read_at: DateTime<Utc>,
    /// The platform manifests (for a single manifest: itself), attestations and other children.
    pub manifests: Vec<ManifestRecord>,
}

impl DigestRecord {
    pub fn is_index(&self) -> bool {
        manifest::kind_of(&self.media_type) == Some(Kind::Index)
    }

    /// The index digest, when the reference names an index.
    pub fn index_digest(&self) -> Option<&Digest> {
        self.is_index().then_some(&self.digest)
    }

    /// Fetched platform manifests by platform key (see [`keyed`]).
    pub fn platform_digests(&self) -> BTreeMap<String, Digest> {
        keyed(self.images()).into_iter().map(|(k, m)| (k, m.digest.clone())).collect()
    }

    /// The fetched platform manifests.
    pub fn images(&self) -> impl Iterator<Item = &ManifestRecord> {
        self.manifests.iter().filter(|m| m.role == Role::Image && m.fetched)
    }

    pub fn attestations(&self) -> impl Iterator<Item = &ManifestRecord> {
        self.manifests.iter().filter(|m| m.role == Role::Attestation)
    }
}

/// The exact bytes of a manifest, as hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawManifest {
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// A resolved reference: the record and the manifest bytes behind it.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub image: ImageRef,
    pub record: DigestRecord,
    pub manifests: BTreeMap<Digest, RawManifest>,
}

impl Resolved {
    /// The parsed manifest with this digest (it was fetched during resolution).
    pub fn manifest(&self, digest: &Digest) -> crate::error::Result<manifest::Manifest> {
        let raw = self
            .manifests
            .get(digest)
            .ok_or_else(|| Error::evidence(format!("manifest {digest}"), "was not fetched", "report this as a bug"))?;
        manifest::parse(&raw.bytes, &format!("manifest {digest} of {}", self.image.name()))
    }
}

/// Resolves `image`: its manifest or index and, for an index, every child the
/// `platforms` filter selects (all when it is empty).
pub async fn resolve(client: &RegistryClient, image: &ImageRef, filter: &[Platform]) -> FetchResult<Resolved> {
    let top = client.manifest(image).await?;
    // `repo:tag@sha256:…` is read by its digest, and its tag must name that digest
    // too: otherwise the tag has moved (or was pinned to another build), and what a
    // user pulls by the tag is not what was compared.
    if let (Some(tag), Some(pinned)) = (&image.tag, &image.digest) {
        let by_tag = ImageRef { digest: None, ..image.clone() };
        let named = client.manifest(&by_tag).await?;
        if named.digest != *pinned {
            return Err(FetchError::NotFound(format!(
                "`{image}` contradicts itself: its tag `{tag}` names {}, not the pinned {pinned} — the tag has moved, or the digest belongs to another build",
                named.digest
            )));
        }
    }
    let mut manifests = BTreeMap::new();
    manifests.insert(top.digest.clone(), RawManifest { media_type: top.media_type.clone(), bytes: top.bytes.clone() });
    let children = match top.kind {
        Kind::Manifest => vec![single_manifest(client, image, &top, filter).await?],
        Kind::Index => {
            let index: manifest::Index = manifest::parse(&top.bytes, &format!("index {image}"))?;
            index_children(client, image, &index, filter, &mut manifests).await?
        }
    };
    log::info!(
        "{image}: {} {} ({} platform manifests)",
        manifest::describe(&top.media_type),
        top.digest,
        children.iter().filter(|m| m.role == Role::Image && m.fetched).count()
    );
    let record = DigestRecord {
        reference: image.to_string(),
        registry: image.registry.clone(),
        repository: image.repository.clone(),
        tag: image.tag.clone(),
        media_type: top.media_type.clone(),
        digest: top.digest.clone(),
        header_digest: top.header_digest.clone(),
        size: top.bytes.len() as u64,
        read_at: top.read_at,
        manifests: children,
    };
    Ok(Resolved { image: image.clone(), record, manifests })
}

/// A single-manifest image: its platform comes from its config.
async fn single_manifest(
    client: &RegistryClient,
    image: &ImageRef,
    top: &FetchedManifest,
    filter: &[Platform],
) -> FetchResult<ManifestRecord> {
    let parsed: manifest::Manifest = manifest::parse(&top.bytes, &format!("manifest {image}"))?;
    let config_digest = parsed.config.digest().map_err(|reason| {
        Error::evidence(format!("manifest {image}"), format!("config: {reason}"), "push the image again")
    })?;
    let config = client.blob_bytes(image, &config_digest, MAX_CONFIG_BYTES).await.map_err(|e| {
        FetchError::Failed(e.into_error("the manifest names a config the registry does not have; push the image again"))
    })?;
    #[derive(Deserialize)]
    struct ConfigPlatform {
        os: Option<String>,
        architecture: Option<String>,
        variant: Option<String>,
    }
    let platform = serde_json::from_slice::<ConfigPlatform>(&config).ok().and_then(|c| match (c.os, c.architecture) {
        (Some(os), Some(arch)) if !os.is_empty() && !arch.is_empty() => {
            Some(Platform::new(&os, &arch, c.variant.as_deref()))
        }
        _ => None,
    });
    if !filter.is_empty() && !platform.as_ref().is_some_and(|p| filter.iter().any(|f| p.matches(f))) {
        return Err(no_platform_matches(image, filter, platform.iter().map(Platform::to_string).collect()).into());
    }
    Ok(ManifestRecord {
        role: Role::Image,
        platform,
        digest: top.digest.clone(),
        media_type: top.media_type.clone(),
        size: top.bytes.len() as u64,
        fetched: true,
        header_digest: top.header_digest.clone(),
        read_at: Some(top.read_at),
        attests: None,
    })
}

/// Reads an index's descriptors into records (role, platform, digest, whether the
/// `filter` selects it) and the distinct digests to fetch with their declared sizes,
/// refusing an index without a runnable platform manifest or one that declares more
/// than the limits. Pure: no request is made.
#[doc(hidden)]
pub fn plan_children(
    image: &ImageRef,
    index: &manifest::Index,
    filter: &[Platform],
) -> crate::error::Result<(Vec<ManifestRecord>, BTreeMap<Digest, u64>)> {
    let what = format!("index {image}");
    let what = what.as_str();
    let mut records = Vec::new();
    for child in &index.manifests {
        let digest = child.digest().map_err(|reason| Error::evidence(what, reason, "push the image again"))?;
        let platform = child.platform.as_ref().map(|p| p.platform());
        let role = if child.is_attestation() {
            Role::Attestation
        } else if manifest::kind_of(&child.media_type) == Some(Kind::Manifest) {
            Role::Image
        } else {
            Role::Other
        };
        let attests = child.annotations.get(manifest::ATTESTATION_REFERENCE_DIGEST).and_then(|d| Digest::parse(d).ok());
        let selected = match role {
            Role::Image => filter.is_empty() || platform.as_ref().is_some_and(|p| filter.iter().any(|f| p.matches(f))),
            Role::Attestation | Role::Other => manifest::kind_of(&child.media_type).is_some(),
        };
        records.push(ManifestRecord {
            role,
            platform,
            digest,
            media_type: child.media_type.clone(),
            size: child.size,
            fetched: selected,
            header_digest: None,
            read_at: None,
            attests,
        });
    }
    if !records.iter().any(|r| r.role == Role::Image) {
        return Err(Error::evidence(
            what,
            "lists no platform image manifest",
            "this is not a runnable image; check the reference",
        ));
    }
    if !records.iter().any(|r| r.role == Role::Image && r.fetched) {
        let available = records.iter().filter(|r| r.role == Role::Image).map(ManifestRecord::platform_key).collect();
        return Err(no_platform_matches(image, filter, available));
    }
    // Attestations of platforms the filter excludes are not fetched either.
    let selected: std::collections::BTreeSet<Digest> =
        records.iter().filter(|r| r.role == Role::Image && r.fetched).map(|r| r.digest.clone()).collect();
    for r in records.iter_mut().filter(|r| r.role == Role::Attestation) {
        if let Some(target) = &r.attests {
            r.fetched &= selected.contains(target);
        }
    }

    // Each distinct digest once, a bounded number at a time; the first failure ends it.
    // What the children declare is bounded before anything is fetched, and each answer
    // is held against its declared size as it arrives, so a registry that lies about
    // sizes is stopped at its first lie: memory stays at a few manifests in flight.
    // One digest is one document: listed twice with two sizes, one of them is a lie
    // (and a size check on the first alone would let the second pass unbounded).
    let mut wanted: BTreeMap<Digest, u64> = BTreeMap::new();
    for r in records.iter().filter(|r| r.fetched) {
        let size = *wanted.entry(r.digest.clone()).or_insert(r.size);
        if size != r.size {
            return Err(Error::evidence(
                what,
                format!("lists {} twice, with sizes {size} and {}", r.digest, r.size),
                "the index is inconsistent; push the image again",
            ));
        }
    }
    let declared: u64 = wanted.values().map(|s| (*s).min(manifest::MAX_MANIFEST_BYTES as u64 + 1)).sum();
    if let Some((digest, size)) = wanted.iter().find(|(_, s)| **s > manifest::MAX_MANIFEST_BYTES as u64) {
        return Err(Error::evidence(
            what,
            format!(
                "lists {digest} with size {size}, more than the manifest limit of {} bytes",
                manifest::MAX_MANIFEST_BYTES
            ),
            "this is not a runnable image; check the reference",
        ));
    }
    if declared > MAX_CHILDREN_BYTES {
        return Err(Error::evidence(
            what,
            format!(
                "lists {} manifests of {declared} bytes together, more than the limit of {MAX_CHILDREN_BYTES}",
                wanted.len()
            ),
            "use `platforms` to compare only the platforms that matter",
        ));
    }
    Ok((records, wanted))
}

async fn index_children(
    client: &RegistryClient,
    image: &ImageRef,
    index: &manifest::Index,
    filter: &[Platform],
    manifests: &mut BTreeMap<Digest, RawManifest>,
) -> FetchResult<Vec<ManifestRecord>> {
    let what = format!("index {image}");
    let (mut records, wanted) = plan_children(image, index, filter)?;
    let sizes = wanted.clone();
    let mut fetches = futures_util::stream::iter(wanted.into_keys().map(|digest| {
        let child = image.with_digest(&digest);
        async move { (digest, client.manifest(&child).await) }
    }))
    .buffer_unordered(MAX_CONCURRENT_FETCHES);
    let mut fetched: BTreeMap<Digest, FetchedManifest> = BTreeMap::new();
    while let Some((digest, result)) = fetches.next().await {
        let m = result.map_err(|e| {
            FetchError::Failed(e.into_error("the index lists a manifest the registry does not have; push the image again with all platforms (skopeo copy --all)"))
        })?;
        if Some(m.bytes.len() as u64) != sizes.get(&digest).copied() {
            return Err(Error::evidence(
                &what,
                format!(
                    "lists {digest} with size {}, but it has {} bytes",
                    sizes.get(&digest).copied().unwrap_or_default(),
                    m.bytes.len()
                ),
                "the index is inconsistent; push the image again",
            )
            .into());
        }
        fetched.insert(digest, m);
    }
    drop(fetches);
    for r in records.iter_mut().filter(|r| r.fetched) {
        let m = &fetched[&r.digest];
        if m.bytes.len() as u64 != r.size {
            return Err(Error::evidence(
                &what,
                format!("lists {} with size {}, but it has {} bytes", r.digest, r.size, m.bytes.len()),
                "the index is inconsistent; push the image again",
            )
            .into());
        }
        r.media_type = m.media_type.clone();
        r.header_digest = m.header_digest.clone();
        r.read_at = Some(m.read_at);
        manifests.insert(m.digest.clone(), RawManifest { media_type: m.media_type.clone(), bytes: m.bytes.clone() });
    }
    Ok(records)
}

fn no_platform_matches(image: &ImageRef, filter: &[Platform], available: Vec<String>) -> Error {
    let wanted: Vec<String> = filter.iter().map(Platform::to_string).collect();
    let has = if available.is_empty() { "no platform".to_string() } else { available.join(", ") };
    Error::input(
        "platforms",
        format!("{} matches none of the platforms of {image} ({has})", wanted.join(", ")),
        "list platforms the image has, or leave `platforms` empty to compare all",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(children: serde_json::Value) -> manifest::Index {
        serde_json::from_value(
            serde_json::json!({ "schemaVersion": 2, "mediaType": manifest::OCI_INDEX, "manifests": children }),
        )
        .unwrap()
    }

    /// Found by the `manifest` fuzz target: a digest listed as a 500-byte platform
    /// manifest and again as a 1 TB nested index passed the size limit (only the first
    /// size was checked) and failed only after the fetch.
    #[test]
    fn one_digest_listed_with_two_sizes_is_refused_before_anything_is_fetched() {
        let image = ImageRef::parse("registry.example/a/b:1").unwrap();
        let digest = format!("sha256:{}", "1".repeat(64));
        let twice = index(serde_json::json!([
            {"mediaType": manifest::OCI_MANIFEST, "digest": digest, "size": 500, "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": manifest::OCI_INDEX, "digest": digest, "size": 1_000_000_000_000u64},
        ]));
        let error = plan_children(&image, &twice, &[]).unwrap_err().to_string();
        assert!(error.contains("twice, with sizes 500 and 1000000000000"), "{error}");

        let same = index(serde_json::json!([
            {"mediaType": manifest::OCI_MANIFEST, "digest": digest, "size": 500, "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": manifest::OCI_MANIFEST, "digest": digest, "size": 500, "platform": {"os": "linux", "architecture": "amd64"}},
        ]));
        let (records, wanted) = plan_children(&image, &same, &[]).unwrap();
        assert_eq!((records.len(), wanted.len()), (2, 1), "listed twice, fetched once");
    }
}
