//! The image stage's settings as plain types: which pairs to compare, the digest the
//! build reported, the policy, the platform filter, registry logins and plain-HTTP
//! hosts. They are read and checked at the input seam (`config::images`); nothing
//! here sees an input name.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::reference::{Digest, ImageRef, Platform};

use crate::secret::Secret;

/// Layers up to this size are diffed entry by entry when they differ.
pub const DEFAULT_LAYER_DIFF_LIMIT: u64 = 256 * 1024 * 1024;

/// One comparison: the image that was tested and the image that is released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePair {
    /// Names the pair in the bundle (`images/<name>.json`) and the summary.
    pub name: String,
    pub tested: ImageRef,
    pub released: ImageRef,
    /// The digest the build reported for the tested image (`expected-digest`, or
    /// `expect sha256:…` on the pair's `images:` line); the tested image must have it.
    pub expected: Option<Digest>,
}

/// How strictly tested and released must match (`digest-policy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DigestPolicy {
    /// The index and every platform manifest are the same.
    #[default]
    Identical,
    /// Every platform manifest is the same; the index may differ (attestations).
    Platforms,
    /// Record the digests and the explanation, never fail.
    Record,
}

impl DigestPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            DigestPolicy::Identical => "identical",
            DigestPolicy::Platforms => "platforms",
            DigestPolicy::Record => "record",
        }
    }
}

/// A registry login. The password (and the Basic header made of it) are secrets.
#[derive(Debug, Clone)]
pub struct Credential {
    /// `host[:port]` exactly as in image references (`docker.io` also matches Docker Hub's API host).
    pub host: String,
    pub username: String,
    pub password: Secret,
    basic: Secret,
}

impl Credential {
    pub fn new(host: &str, username: &str, password: &str) -> Self {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        Credential {
            host: host.to_string(),
            username: username.to_string(),
            password: Secret::new(password),
            basic: Secret::new(basic),
        }
    }

    /// The value of a Basic `Authorization` header, without the scheme.
    pub fn basic(&self) -> &Secret {
        &self.basic
    }
}

/// How to reach registries: logins and the hosts that speak plain HTTP.
#[derive(Debug, Clone, Default)]
pub struct RegistryAccess {
    pub credentials: Vec<Credential>,
    /// `host:port` entries reached over `http://`; every other registry is `https://`.
    pub insecure: Vec<String>,
    /// When the whole audit must be done: no registry request outlives it.
    pub deadline: Option<std::time::Instant>,
}

impl RegistryAccess {
    /// The login for a registry, if one was given.
    pub fn credential_for(&self, image: &ImageRef) -> Option<&Credential> {
        self.credentials.iter().find(|c| c.host == image.registry || c.host == image.api_host())
    }

    /// Whether `host` (as `host:port`) is reached over plain HTTP.
    pub fn is_insecure(&self, host: &str) -> bool {
        self.insecure.iter().any(|h| h == host)
    }

    /// Everything to register with `::add-mask::`.
    pub fn secrets(&self) -> Vec<&Secret> {
        self.credentials.iter().flat_map(|c| [&c.password, &c.basic]).collect()
    }
}

/// Validated image inputs.
#[derive(Debug, Clone)]
pub struct ImageSettings {
    pub pairs: Vec<ImagePair>,
    pub policy: DigestPolicy,
    /// Platforms to compare; empty means all.
    pub platforms: Vec<Platform>,
    pub access: RegistryAccess,
    /// Largest layer (compressed bytes) whose tar entries are diffed; 0 turns layer diffs off.
    pub layer_diff_limit: u64,
    /// Where the build on the tag push logged its report (`build-workflow`): its
    /// digest becomes the expected digest of the pairs whose released image it pushed.
    pub build: Option<super::build::BuildSource>,
}

impl ImageSettings {
    /// The registry passwords (and the Basic headers made of them), for `::add-mask::`.
    pub fn secrets(&self) -> Vec<&Secret> {
        self.access.secrets()
    }
}
