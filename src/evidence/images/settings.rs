//! The image stage's settings as plain types: which pairs to compare, the digest the
//! build reported, the policy, the platform filter, registry logins and plain-HTTP
//! hosts. They are read and checked at the input seam (`config::images`); nothing
//! here sees an input name.

use serde::{Deserialize, Serialize};

pub use crate::registry::access::{Credential, RegistryAccess};
use crate::registry::reference::{Digest, ImageRef, Platform};

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
