//! Manifests as the comparison reads them. The exact bytes our own GET fetched (and
//! hashed) are parsed with oci-client's OCI index and manifest types — sound serde
//! types for OCI and Docker schema2 documents alike — and turned into the small view
//! below. The exact bytes are kept elsewhere, and digests are always of those bytes,
//! never of a re-serialisation.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::reference::{Digest, Platform};

pub const OCI_INDEX: &str = oci_client::manifest::OCI_IMAGE_INDEX_MEDIA_TYPE;
pub const OCI_MANIFEST: &str = oci_client::manifest::OCI_IMAGE_MEDIA_TYPE;
pub const DOCKER_LIST: &str = oci_client::manifest::IMAGE_MANIFEST_LIST_MEDIA_TYPE;
pub const DOCKER_MANIFEST: &str = oci_client::manifest::IMAGE_MANIFEST_MEDIA_TYPE;

/// The `Accept` header of every manifest request: OCI and Docker, index and manifest.
/// Without the OCI types distribution 2.8 answers 404 for OCI manifests.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// Manifests larger than this are refused (the OCI distribution spec's limit).
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// Annotation BuildKit puts on an attestation manifest: the manifest it attests.
pub const ATTESTATION_REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";
pub const ATTESTATION_REFERENCE_TYPE: &str = "vnd.docker.reference.type";

/// What a manifest document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Index,
    Manifest,
}

/// The kind of a manifest media type, `None` for a type we do not understand.
pub fn kind_of(media_type: &str) -> Option<Kind> {
    match media_type {
        OCI_INDEX | DOCKER_LIST => Some(Kind::Index),
        OCI_MANIFEST | DOCKER_MANIFEST => Some(Kind::Manifest),
        _ => None,
    }
}

/// A name people recognise for a media type.
pub fn describe(media_type: &str) -> &'static str {
    match media_type {
        OCI_INDEX => "OCI image index",
        OCI_MANIFEST => "OCI image manifest",
        DOCKER_LIST => "Docker manifest list",
        DOCKER_MANIFEST => "Docker schema2 manifest",
        "application/vnd.docker.distribution.manifest.v1+prettyjws"
        | "application/vnd.docker.distribution.manifest.v1+json" => "Docker schema1 manifest",
        _ => "unknown manifest type",
    }
}

/// Just enough of any manifest to learn its declared media type.
#[derive(Debug, Deserialize)]
pub struct Head {
    #[serde(rename = "mediaType")]
    pub media_type: Option<String>,
    #[serde(rename = "schemaVersion")]
    pub schema_version: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WirePlatform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl WirePlatform {
    pub fn platform(&self) -> Platform {
        Platform::new(&self.os, &self.architecture, self.variant.as_deref())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    pub platform: Option<WirePlatform>,
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    /// The descriptor's digest, checked.
    pub fn digest(&self) -> Result<Digest, String> {
        Digest::parse(&self.digest)
    }

    /// BuildKit attestation manifests: platform `unknown/unknown` or the reference-type annotation.
    pub fn is_attestation(&self) -> bool {
        self.annotations.get(ATTESTATION_REFERENCE_TYPE).is_some_and(|t| t == "attestation-manifest")
            || self.platform.as_ref().is_some_and(|p| p.platform().is_unknown())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "oci_client::manifest::OciImageIndex")]
pub struct Index {
    pub manifests: Vec<Descriptor>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "oci_client::manifest::OciImageManifest")]
pub struct Manifest {
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    pub annotations: BTreeMap<String, String>,
}

/// A wire enum (oci-spec's `Arch`, `Os`) as the string the document held.
fn wire_string<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

impl From<oci_client::manifest::OciDescriptor> for Descriptor {
    fn from(d: oci_client::manifest::OciDescriptor) -> Self {
        Descriptor {
            media_type: d.media_type,
            digest: d.digest,
            size: d.size.max(0) as u64,
            platform: None,
            annotations: d.annotations.unwrap_or_default(),
        }
    }
}

impl From<oci_client::manifest::ImageIndexEntry> for Descriptor {
    fn from(e: oci_client::manifest::ImageIndexEntry) -> Self {
        let platform = e.platform.map(|p| WirePlatform {
            os: wire_string(&p.os),
            architecture: wire_string(&p.architecture),
            variant: p.variant,
        });
        Descriptor {
            media_type: e.media_type,
            digest: e.digest,
            size: e.size.max(0) as u64,
            platform,
            annotations: e.annotations.unwrap_or_default(),
        }
    }
}

impl From<oci_client::manifest::OciImageIndex> for Index {
    fn from(i: oci_client::manifest::OciImageIndex) -> Self {
        Index {
            manifests: i.manifests.into_iter().map(Descriptor::from).collect(),
            annotations: i.annotations.unwrap_or_default(),
        }
    }
}

impl From<oci_client::manifest::OciImageManifest> for Manifest {
    fn from(m: oci_client::manifest::OciImageManifest) -> Self {
        Manifest {
            config: m.config.into(),
            layers: m.layers.into_iter().map(Descriptor::from).collect(),
            annotations: m.annotations.unwrap_or_default(),
        }
    }
}

/// Parses manifest bytes as `T`; the error says which manifest could not be read.
pub fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> crate::error::Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        crate::error::Error::evidence(
            what,
            format!("is not a valid manifest: {e}"),
            "the registry returned a broken document; push the image again",
        )
    })
}
