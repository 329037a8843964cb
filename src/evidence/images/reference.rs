//! The nouns of image evidence: a [`Digest`] (always sha256, always computed here), an
//! [`ImageRef`] (what a user wrote, split into registry, repository, tag and digest)
//! and a [`Platform`] (`os/arch[/variant]`, also used as the `platforms` filter).
//!
//! Parsing a reference is delegated to oci-client's `Reference` (the distribution
//! grammar); everything after that works with these types, never with strings that
//! happen to contain a digest.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

/// A content digest. Only sha256 is supported: it is what every registry uses and
/// what we compute ourselves.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Digest { hex: hex::encode(Sha256::digest(bytes)) }
    }

    /// The digest a finished hasher computed.
    pub fn from_hasher(hasher: Sha256) -> Self {
        Digest { hex: hex::encode(hasher.finalize()) }
    }

    /// Parses `sha256:<64 lower-case hex digits>`; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let Some((algorithm, hex)) = text.split_once(':') else {
            return Err(format!("`{text}` is not a digest (expected sha256:<64 hex digits>)"));
        };
        if algorithm != "sha256" {
            return Err(format!("`{text}` uses {algorithm}; only sha256 digests are supported"));
        }
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(format!("`{text}` does not have 64 lower-case hex digits after sha256:"));
        }
        Ok(Digest { hex: hex.to_string() })
    }

    /// The 64 hex digits, as in-toto subjects and `sha256sum` write them.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// A file name for the digest (`sha256-<hex>`): `:` is not allowed in bundle paths.
    pub fn file_stem(&self) -> String {
        format!("sha256-{}", self.hex)
    }

    /// `sha256:` and the first 12 hex digits, for tables and diagrams.
    pub fn short(&self) -> String {
        format!("sha256:{}", &self.hex[..12])
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl FromStr for Digest {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Digest::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// An image reference as the user wrote it, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The registry as named in the reference (`docker.io` for Docker Hub).
    pub registry: String,
    pub repository: String,
    /// The tag; `latest` when the reference names neither tag nor digest.
    pub tag: Option<String>,
    /// A pinned digest (`…@sha256:…`): the manifest is fetched by it and must hash to it.
    pub digest: Option<Digest>,
}

impl ImageRef {
    /// Parses a reference such as `europe-docker.pkg.dev/p/dev/app:PR-123`,
    /// `127.0.0.1:5000/dev/app@sha256:…` or `alpine`. The error is one line.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("is empty".to_string());
        }
        if text.chars().any(char::is_whitespace) {
            return Err(format!("`{}` contains white space", text.escape_debug()));
        }
        let parsed = oci_client::Reference::try_from(text).map_err(|e| format!("`{text}` is not an image reference: {e}"))?;
        let digest = match parsed.digest() {
            Some(d) => Some(Digest::parse(d)?),
            None => None,
        };
        Ok(ImageRef {
            registry: parsed.registry().to_string(),
            repository: parsed.repository().to_string(),
            tag: parsed.tag().map(str::to_string),
            digest,
        })
    }

    /// The host the registry API answers on (Docker Hub's API is not at docker.io).
    pub fn api_host(&self) -> &str {
        match self.registry.as_str() {
            "docker.io" | "index.docker.io" => "registry-1.docker.io",
            other => other,
        }
    }

    /// What goes after `/manifests/`: the pinned digest if there is one, else the tag.
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }

    /// `registry/repository`, the name of the image without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The same repository, pinned to `digest`.
    pub fn with_digest(&self, digest: &Digest) -> ImageRef {
        ImageRef { digest: Some(digest.clone()), ..self.clone() }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// A platform, `os/architecture[/variant]`. Serialised in that string form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Self {
        Platform { os: os.to_string(), architecture: architecture.to_string(), variant: variant.map(str::to_string) }
    }

    /// Parses `os/arch` or `os/arch/variant` (lower-case letters, digits, `.`, `_`, `-`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split('/').collect();
        let valid = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        match parts.as_slice() {
            [os, arch] if valid(os) && valid(arch) => Ok(Platform::new(os, arch, None)),
            [os, arch, variant] if valid(os) && valid(arch) && valid(variant) => Ok(Platform::new(os, arch, Some(variant))),
            _ => Err(format!("`{text}` is not a platform (expected os/arch or os/arch/variant, e.g. linux/arm64/v8)")),
        }
    }

    /// BuildKit's attestation manifests carry the platform `unknown/unknown`.
    pub fn is_unknown(&self) -> bool {
        self.os == "unknown" && self.architecture == "unknown"
    }

    /// Whether this platform is selected by `filter`; a filter without a variant
    /// selects every variant.
    pub fn matches(&self, filter: &Platform) -> bool {
        self.os == filter.os && self.architecture == filter.architecture && (filter.variant.is_none() || filter.variant == self.variant)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl Serialize for Platform {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Platform {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Platform::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn digests_are_sha256_of_the_bytes_and_parse_strictly() {
        assert_eq!(Digest::of(b"").to_string(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let d = Digest::parse(&format!("sha256:{HEX}")).unwrap();
        assert_eq!(d.hex(), HEX);
        assert_eq!(d.file_stem(), format!("sha256-{HEX}"));
        assert_eq!(d.short(), "sha256:0123456789ab");
        for bad in ["", "sha256", "sha256:abc", "sha512:00", &format!("sha256:{}", HEX.to_uppercase()), &format!("md5:{HEX}")] {
            assert!(Digest::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"sha256:{HEX}\""));
    }

    #[test]
    fn references_split_into_registry_repository_tag_and_digest() {
        let r = ImageRef::parse("europe-docker.pkg.dev/kyma-project/prod/telemetry-manager:1.2.3").unwrap();
        assert_eq!((r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()), ("europe-docker.pkg.dev", "kyma-project/prod/telemetry-manager", Some("1.2.3")));
        assert_eq!(r.manifest_reference(), "1.2.3");
        assert_eq!(r.to_string(), "europe-docker.pkg.dev/kyma-project/prod/telemetry-manager:1.2.3");

        let r = ImageRef::parse(&format!("127.0.0.1:5000/dev/app@sha256:{HEX}")).unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.tag, None);
        assert_eq!(r.manifest_reference(), format!("sha256:{HEX}"));

        let r = ImageRef::parse("alpine").unwrap();
        assert_eq!((r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()), ("docker.io", "library/alpine", Some("latest")));
        assert_eq!(r.api_host(), "registry-1.docker.io");

        for bad in ["", "r.io/UPPER/case:1", "a b", "host:5000/app:tag with space", "app@sha256:123", "app:"] {
            assert!(ImageRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn platforms_parse_and_filters_ignore_a_missing_variant() {
        let arm = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(arm.to_string(), "linux/arm64/v8");
        assert!(arm.matches(&Platform::parse("linux/arm64").unwrap()));
        assert!(!Platform::parse("linux/arm64").unwrap().matches(&arm));
        assert!(Platform::new("unknown", "unknown", None).is_unknown());
        for bad in ["linux", "linux/", "/amd64", "linux/amd64/v8/x", "Linux/AMD64", "linux amd64"] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
    }
}
