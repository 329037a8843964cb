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
    /// `127.0.0.1:5000/dev/app@sha256:…` or `alpine`, by the distribution grammar
    /// (Docker's normalisation: `alpine` is `docker.io/library/alpine:latest`). The
    /// error is one line.
    ///
    /// Hand-written rather than oci-client's `Reference`: that one compiles a
    /// Unicode regex on first use, which costs about 0.2 s per process — more than
    /// a whole `compare` of two indexes. A unit test keeps the two in agreement.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("is empty".to_string());
        }
        if text.chars().any(char::is_whitespace) {
            return Err(format!("`{}` contains white space", text.escape_debug()));
        }
        let bad = |why: &str| format!("`{text}` is not an image reference: {why}");
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => (rest, Some(Digest::parse(digest).map_err(|e| bad(&e))?)),
            None => (text, None),
        };
        let last_slash = rest.rfind('/');
        let (name, tag) = match rest.rfind(':') {
            Some(i) if last_slash.is_none_or(|s| i > s) => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if let Some(tag) = tag
            && !is_tag(tag)
        {
            return Err(bad("a tag is 1 to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`"));
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, path))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.chars().any(|c| c.is_ascii_uppercase()) =>
            {
                (first, path)
            }
            _ => ("docker.io", name),
        };
        if !is_registry(registry) {
            return Err(bad("the registry must be a host name or address, optionally with :port"));
        }
        if path.is_empty() || !path.split('/').all(is_path_component) {
            return Err(bad(
                "the repository must be lower-case letters and digits, separated by `/`, `.`, `_`, `__` or `-`",
            ));
        }
        let registry = if registry == "index.docker.io" { "docker.io" } else { registry };
        let repository =
            if registry == "docker.io" && !path.contains('/') { format!("library/{path}") } else { path.to_string() };
        if repository.len() > 255 {
            return Err(bad("the repository name is longer than 255 characters"));
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, Some(_)) => None,
            (None, None) => Some("latest".to_string()),
        };
        Ok(ImageRef { registry: registry.to_string(), repository, tag, digest })
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

/// `[\w][\w.-]{0,127}`
fn is_tag(tag: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    tag.len() <= 128 && tag.chars().next().is_some_and(word) && tag.chars().all(|c| word(c) || c == '.' || c == '-')
}

/// `host[:port]`: dot-separated labels of letters, digits and inner hyphens, or a
/// bracketed IPv6 address.
fn is_registry(registry: &str) -> bool {
    let (host, port) = if let Some(v6) = registry.strip_prefix('[') {
        let Some((address, rest)) = v6.split_once(']') else { return false };
        if address.is_empty() || !address.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
            return false;
        }
        match (rest, rest.strip_prefix(':')) {
            ("", _) => (None, None),
            (_, Some(port)) => (None, Some(port)),
            _ => return false,
        }
    } else {
        match registry.rsplit_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(registry), None),
        }
    };
    let label = |l: &str| {
        !l.is_empty()
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    host.is_none_or(|h| h.split('.').all(label))
        && port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn is_path_component(component: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut chars = component.chars().peekable();
    loop {
        let mut run = 0;
        while chars.next_if(|c| alnum(*c)).is_some() {
            run += 1;
        }
        if run == 0 {
            return false;
        }
        let separator: String = std::iter::from_fn(|| chars.next_if(|c| !alnum(*c))).collect();
        match separator.as_str() {
            "" => return chars.peek().is_none(),
            "." | "_" | "__" => {}
            s if s.chars().all(|c| c == '-') => {}
            _ => return false,
        }
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
    /// A platform, normalised as containerd does, so that the names tools write for
    /// one platform compare equal: `aarch64` is `arm64`, `x86_64` is `amd64`; `arm64`'s
    /// variant `v8` (or `8`) is its only one and is dropped (buildx writes
    /// `linux/arm64/v8`, ko and crane `linux/arm64`); `arm` without a variant is
    /// `arm/v7`, and a bare number `7` is `v7`.
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Self {
        let architecture = match architecture {
            "aarch64" => "arm64",
            "x86_64" | "x86-64" => "amd64",
            other => other,
        };
        let variant = variant
            .filter(|v| !v.is_empty())
            .map(|v| if v.bytes().all(|b| b.is_ascii_digit()) { format!("v{v}") } else { v.to_string() });
        let variant = match (architecture, variant) {
            ("arm64", Some(v)) if v == "v8" || v == "v8.0" => None,
            ("arm", None) => Some("v7".to_string()),
            (_, v) => v,
        };
        Platform { os: os.to_string(), architecture: architecture.to_string(), variant }
    }

    /// Parses `os/arch` or `os/arch/variant` (lower-case letters, digits, `.`, `_`, `-`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split('/').collect();
        let valid = |p: &str| {
            !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        };
        match parts.as_slice() {
            [os, arch] if valid(os) && valid(arch) => Ok(Platform::new(os, arch, None)),
            [os, arch, variant] if valid(os) && valid(arch) && valid(variant) => {
                Ok(Platform::new(os, arch, Some(variant)))
            }
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
        self.os == filter.os
            && self.architecture == filter.architecture
            && (filter.variant.is_none() || filter.variant == self.variant)
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
        assert_eq!(
            Digest::of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let d = Digest::parse(&format!("sha256:{HEX}")).unwrap();
        assert_eq!(d.hex(), HEX);
        assert_eq!(d.file_stem(), format!("sha256-{HEX}"));
        assert_eq!(d.short(), "sha256:0123456789ab");
        for bad in
            ["", "sha256", "sha256:abc", "sha512:00", &format!("sha256:{}", HEX.to_uppercase()), &format!("md5:{HEX}")]
        {
            assert!(Digest::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"sha256:{HEX}\""));
    }

    #[test]
    fn references_split_into_registry_repository_tag_and_digest() {
        let r = ImageRef::parse("europe-docker.pkg.dev/kyma-project/prod/telemetry-manager:1.2.3").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("europe-docker.pkg.dev", "kyma-project/prod/telemetry-manager", Some("1.2.3"))
        );
        assert_eq!(r.manifest_reference(), "1.2.3");
        assert_eq!(r.to_string(), "europe-docker.pkg.dev/kyma-project/prod/telemetry-manager:1.2.3");

        let r = ImageRef::parse(&format!("127.0.0.1:5000/dev/app@sha256:{HEX}")).unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.tag, None);
        assert_eq!(r.manifest_reference(), format!("sha256:{HEX}"));

        // IPv6 literals, which distribution's newer grammar allows (oci-client does not).
        assert_eq!(ImageRef::parse("[::1]:5000/app:1").unwrap().registry, "[::1]:5000");

        let r = ImageRef::parse("alpine").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("docker.io", "library/alpine", Some("latest"))
        );
        assert_eq!(r.api_host(), "registry-1.docker.io");

        for bad in ["", "r.io/UPPER/case:1", "a b", "host:5000/app:tag with space", "app@sha256:123", "app:"] {
            assert!(ImageRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_hand_written_parser_agrees_with_oci_client() {
        let digest = format!("sha256:{HEX}");
        let cases = [
            "alpine".to_string(),
            "alpine:3.20".into(),
            "library/alpine".into(),
            "index.docker.io/library/alpine:1".into(),
            "docker.io/kyma/app:PR-123".into(),
            "localhost/app".into(),
            "localhost:5000/a/b/c:v1.2.3_rc-1".into(),
            "europe-docker.pkg.dev/kyma-project/prod/telemetry-manager:1.2.3".into(),
            format!("ghcr.io/o/r@{digest}"),
            format!("ghcr.io/o/r:1@{digest}"),
            "127.0.0.1:5000/dev/app:PR-1".into(),
            "a.b/c__d/e--f/g.h_i:tag".into(),
            "a.b/c___d:tag".into(),
            "a.b/c..d".into(),
            "a.b/-c".into(),
            "a.b/c-".into(),
            "a.b/c:".into(),
            "a.b/c:-x".into(),
            format!("a.b/c:{}", "t".repeat(129)),
            "a.b:x/c".into(),
            "-a.b/c".into(),
            "a.b/C".into(),
            "a.b//c".into(),
            "a.b/c/".into(),
            ":tag".into(),
            "a.b/c@sha256:00".into(),
        ];
        for case in &cases {
            let ours = ImageRef::parse(case);
            let theirs = oci_client::Reference::try_from(case.as_str());
            match (&ours, &theirs) {
                (Ok(o), Ok(t)) => {
                    assert_eq!(
                        (o.registry.as_str(), o.repository.as_str(), o.tag.as_deref()),
                        (t.registry(), t.repository(), t.tag()),
                        "{case}"
                    );
                    assert_eq!(o.digest.as_ref().map(Digest::to_string).as_deref(), t.digest(), "{case}");
                }
                (Err(_), Err(_)) => {}
                _ => panic!("{case}: ours {ours:?}, oci-client {theirs:?}"),
            }
        }
    }

    #[test]
    fn platforms_parse_and_filters_ignore_a_missing_variant() {
        let arm = Platform::parse("linux/arm/v6").unwrap();
        assert_eq!(arm.to_string(), "linux/arm/v6");
        assert!(arm.matches(&Platform::parse("linux/arm/v6").unwrap()));
        assert!(!Platform::parse("linux/arm/v7").unwrap().matches(&arm));
        // The names tools write for one platform are one platform.
        assert_eq!(Platform::parse("linux/arm64/v8").unwrap(), Platform::parse("linux/arm64").unwrap());
        assert_eq!(Platform::new("linux", "aarch64", Some("8")), Platform::parse("linux/arm64").unwrap());
        assert_eq!(Platform::parse("linux/arm").unwrap().to_string(), "linux/arm/v7");
        assert_eq!(Platform::new("linux", "arm", Some("7")), Platform::parse("linux/arm/v7").unwrap());
        assert_eq!(Platform::new("linux", "x86_64", None).to_string(), "linux/amd64");
        assert!(Platform::new("unknown", "unknown", None).is_unknown());
        for bad in ["linux", "linux/", "/amd64", "linux/amd64/v8/x", "Linux/AMD64", "linux amd64"] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
    }
}
