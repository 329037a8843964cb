//! The verdict of one pair and how `digest-policy` judges it. Pure functions of the
//! records: no network, no explanation.

use serde::{Deserialize, Serialize};

use super::reference::Digest;
use super::resolve::DigestRecord;
use super::settings::DigestPolicy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Same index (or manifest) digest: the released image is the tested image.
    Identical,
    /// Every compared platform manifest is the same; the index differs.
    PlatformsIdentical,
    /// At least one platform manifest differs, or the platform sets differ.
    Different,
    /// The tested image does not have the digest the build reported.
    ExpectedDigestMismatch,
    /// The tested or the released reference does not exist.
    NotFound,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Identical => "identical",
            Verdict::PlatformsIdentical => "platforms-identical",
            Verdict::Different => "different",
            Verdict::ExpectedDigestMismatch => "expected-digest-mismatch",
            Verdict::NotFound => "not-found",
        }
    }

    /// Whether the pair passes under `policy`.
    pub fn passes(self, policy: DigestPolicy) -> bool {
        match policy {
            DigestPolicy::Identical => self == Verdict::Identical,
            DigestPolicy::Platforms => matches!(self, Verdict::Identical | Verdict::PlatformsIdentical),
            DigestPolicy::Record => true,
        }
    }
}

/// Compares two records: the top-level digests first, then the platform manifests.
pub fn compare(tested: &DigestRecord, released: &DigestRecord) -> Verdict {
    if tested.digest == released.digest {
        return Verdict::Identical;
    }
    let a = tested.platform_digests();
    let b = released.platform_digests();
    if !a.is_empty() && a == b { Verdict::PlatformsIdentical } else { Verdict::Different }
}

/// The verdict of a pair, most serious first: a missing image, then a tested image
/// that is not the one the build reported, then the comparison.
pub fn judge(tested: Option<&DigestRecord>, released: Option<&DigestRecord>, expected: Option<&Digest>) -> Verdict {
    let (Some(tested), Some(released)) = (tested, released) else { return Verdict::NotFound };
    if expected.is_some_and(|e| *e != tested.digest) {
        return Verdict::ExpectedDigestMismatch;
    }
    compare(tested, released)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::images::reference::Platform;
    use crate::evidence::images::resolve::{ManifestRecord, Role};

    fn d(n: u8) -> Digest {
        Digest::of(&[n])
    }

    fn record(top: u8, platforms: &[(&str, u8)]) -> DigestRecord {
        DigestRecord {
            reference: "r.io/app:1".into(),
            registry: "r.io".into(),
            repository: "app".into(),
            tag: Some("1".into()),
            media_type: crate::evidence::images::manifest::OCI_INDEX.into(),
            digest: d(top),
            header_digest: None,
            size: 1,
            read_at: chrono::DateTime::UNIX_EPOCH,
            manifests: platforms
                .iter()
                .map(|(p, n)| ManifestRecord {
                    role: Role::Image,
                    platform: Some(Platform::parse(p).unwrap()),
                    digest: d(*n),
                    media_type: crate::evidence::images::manifest::OCI_MANIFEST.into(),
                    size: 1,
                    fetched: true,
                    header_digest: None,
                    read_at: None,
                    attests: None,
                })
                .collect(),
        }
    }

    #[test]
    fn verdicts_follow_index_then_platforms() {
        let a = record(1, &[("linux/amd64", 10), ("linux/arm64", 11)]);
        assert_eq!(compare(&a, &a.clone()), Verdict::Identical);
        assert_eq!(compare(&a, &record(2, &[("linux/amd64", 10), ("linux/arm64", 11)])), Verdict::PlatformsIdentical);
        assert_eq!(compare(&a, &record(2, &[("linux/amd64", 10), ("linux/arm64", 12)])), Verdict::Different);
        assert_eq!(compare(&a, &record(2, &[("linux/amd64", 10)])), Verdict::Different);
        assert_eq!(judge(Some(&a), None, None), Verdict::NotFound);
        assert_eq!(judge(Some(&a), Some(&a), Some(&d(10))), Verdict::ExpectedDigestMismatch);
        assert_eq!(judge(Some(&a), Some(&a), Some(&d(1))), Verdict::Identical);
    }

    #[test]
    fn a_platform_listed_twice_is_compared_in_full_and_names_written_differently_are_one() {
        // A gzip and a zstd manifest for linux/amd64 (podman --add-compression): only
        // the zstd twin differs, and that is not hidden behind the gzip one.
        let a = record(1, &[("linux/amd64", 10), ("linux/amd64", 20)]);
        assert_eq!(compare(&a, &record(2, &[("linux/amd64", 10), ("linux/amd64", 21)])), Verdict::Different);
        assert_eq!(compare(&a, &record(2, &[("linux/amd64", 10), ("linux/amd64", 20)])), Verdict::PlatformsIdentical);
        assert_eq!(a.platform_digests().keys().collect::<Vec<_>>(), ["linux/amd64", "linux/amd64 #2"]);
        // buildx's linux/arm64/v8 and ko's linux/arm64 are one platform.
        assert_eq!(
            compare(&record(1, &[("linux/arm64/v8", 10)]), &record(2, &[("linux/arm64", 10)])),
            Verdict::PlatformsIdentical
        );
    }

    #[test]
    fn policies_accept_what_they_promise() {
        use Verdict::*;
        for v in [Identical, PlatformsIdentical, Different, ExpectedDigestMismatch, NotFound] {
            assert_eq!(v.passes(DigestPolicy::Identical), v == Identical, "{v:?}");
            assert_eq!(v.passes(DigestPolicy::Platforms), matches!(v, Identical | PlatformsIdentical), "{v:?}");
            assert!(v.passes(DigestPolicy::Record));
        }
    }
}
