//! Manifest wire types: the parts of OCI and Docker schema2 indexes and manifests that
//! the comparison reads. Unknown fields are ignored here; the exact bytes are kept
//! elsewhere, and the digests are always of those bytes, never of a re-serialisation.

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
        "application/vnd.docker.distribution.manifest.v1+prettyjws" | "application/vnd.docker.distribution.manifest.v1+json" => {
            "Docker schema1 manifest"
        }
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

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: u64,
    pub platform: Option<WirePlatform>,
    #[serde(default)]
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
pub struct Index {
    pub manifests: Vec<Descriptor>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Manifest {
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// Parses manifest bytes as `T`; the error says which manifest could not be read.
pub fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> crate::error::Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        crate::error::Error::evidence(what, format!("is not a valid manifest: {e}"), "the registry returned a broken document; push the image again")
    })
}
