//! The verdict of one pair and how `digest-policy` judges it. Pure functions of the
//! records: no network, no explanation.
//!
//! Two digests that are equal say that two references name the same image *now*; they
//! do not say that the tests ran it. A pair therefore passes only when evidence other
//! than the two references ties the tested digest to the released one ([`Proof`]): a
//! test job's image record (`record-image`) that names a released digest, or the digest
//! the build reported (`expected-digest`), which the tested image must have. Nothing
//! here compares reference strings: `app:1` and `docker.io/library/app:1`, two tags of
//! one build, or one string given twice are all "two references", and prove nothing.

use serde::{Deserialize, Serialize};

use super::record::{RecordCheck, RecordVerdict};
use super::resolve::DigestRecord;
use super::settings::DigestPolicy;
use crate::registry::reference::Digest;

/// Most recorded images checked against one released image; more fail the pair (a
/// record that cannot be read in full proves nothing about the part left out).
pub const MAX_CHECKS_PER_PAIR: usize = 2_000;

/// What ties the tested digest to the released one, beyond the two references.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Proof {
    /// The tested image has the digest the build reported (`expected-digest`).
    ExpectedDigest,
    /// A test job's image record names the released index or one of its platform
    /// manifests (or, under `platforms`, the same platform manifest).
    ImageRecord,
}

impl Proof {
    pub fn as_str(self) -> &'static str {
        match self {
            Proof::ExpectedDigest => "expected-digest",
            Proof::ImageRecord => "image-record",
        }
    }
}

/// How a pair is decided: what proves it, and whether it passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Empty when nothing but the two references ties tested to released.
    pub proven_by: Vec<Proof>,
    pub passed: bool,
}

/// What [`decide`] reads: the verdict and every piece of evidence beside it.
#[derive(Debug, Clone, Copy)]
pub struct Grounds<'a> {
    pub verdict: Verdict,
    pub policy: DigestPolicy,
    pub expected: Option<&'a Digest>,
    /// The recorded images about the released image, each checked.
    pub recorded: &'a [RecordCheck],
    /// Recorded images about the released image that were not checked (over
    /// [`MAX_CHECKS_PER_PAIR`]).
    pub recorded_left_out: usize,
}

/// Decides a pair. Under `identical` and `platforms` it passes only when the verdict
/// passes the policy, something proves it ([`Proof`]), every recorded image about the
/// released image passes the policy, and none was left unchecked. `record` never fails.
pub fn decide(g: Grounds<'_>) -> Decision {
    let mut proven_by = Vec::new();
    let compared = !matches!(g.verdict, Verdict::NotFound | Verdict::ExpectedDigestMismatch);
    if g.expected.is_some() && compared {
        proven_by.push(Proof::ExpectedDigest);
    }
    if g.recorded.iter().any(|c| c.verdict.ties() && c.verdict.passes(g.policy)) {
        proven_by.push(Proof::ImageRecord);
    }
    let passed = match g.policy {
        DigestPolicy::Record => true,
        policy => {
            g.verdict.passes(policy)
                && !proven_by.is_empty()
                && g.recorded_left_out == 0
                && g.recorded.iter().all(|c| c.verdict.passes(policy))
        }
    };
    Decision { proven_by, passed }
}

impl RecordVerdict {
    /// Whether the recorded digest is (a part of) the released image.
    pub fn ties(self) -> bool {
        matches!(self, RecordVerdict::Index | RecordVerdict::PlatformManifest | RecordVerdict::SamePlatformManifest)
    }
}

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
    use crate::evidence::images::resolve::{ManifestRecord, Role};
    use crate::registry::reference::Platform;

    fn d(n: u8) -> Digest {
        Digest::of(&[n])
    }

    fn record(top: u8, platforms: &[(&str, u8)]) -> DigestRecord {
        DigestRecord {
            reference: "r.io/app:1".into(),
            registry: "r.io".into(),
            repository: "app".into(),
            tag: Some("1".into()),
            media_type: crate::registry::manifest::OCI_INDEX.into(),
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
                    media_type: crate::registry::manifest::OCI_MANIFEST.into(),
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
    fn a_pair_passes_only_when_something_beside_the_references_proves_it() {
        use crate::evidence::images::record::{JobIdentity, RecordCheck, RecordSource, RecordedImage};
        let check = |verdict: RecordVerdict| RecordCheck {
            job: JobIdentity::default(),
            image: RecordedImage {
                source: RecordSource::Resolved,
                reference: "r.io/app:1".into(),
                digest: Some(d(1)),
                platform: None,
                platform_digest: None,
                media_type: None,
                platforms: Default::default(),
                image_id: None,
                namespace: None,
                pod: None,
                container: None,
                init_container: false,
                note: None,
            },
            released: "r.io/app:1".into(),
            verdict,
            platform: None,
            explanation: String::new(),
        };
        let grounds =
            |verdict, policy, expected, recorded| Grounds { verdict, policy, expected, recorded, recorded_left_out: 0 };
        let e = d(1);
        let index = [check(RecordVerdict::Index)];
        let same_platform = [check(RecordVerdict::SamePlatformManifest)];
        let different = [check(RecordVerdict::Different)];
        let no_digest = [check(RecordVerdict::NoDigest)];
        use DigestPolicy::{Identical as I, Platforms as P, Record as R};
        use Verdict::{Identical, PlatformsIdentical};
        // (verdict, policy, expected, records) → (proven by, passed)
        type Row<'a> = (Verdict, DigestPolicy, Option<&'a Digest>, &'a [RecordCheck], Vec<Proof>, bool);
        let table: Vec<Row<'_>> = vec![
            (Identical, I, None, &[], vec![], false),
            (PlatformsIdentical, P, None, &[], vec![], false),
            (Identical, I, Some(&e), &[], vec![Proof::ExpectedDigest], true),
            (Identical, I, None, &index, vec![Proof::ImageRecord], true),
            (Identical, I, Some(&e), &index, vec![Proof::ExpectedDigest, Proof::ImageRecord], true),
            (Identical, I, None, &same_platform, vec![], false),
            (Identical, P, None, &same_platform, vec![Proof::ImageRecord], true),
            (Identical, I, None, &different, vec![], false),
            (Identical, I, Some(&e), &different, vec![Proof::ExpectedDigest], false),
            (Identical, I, None, &no_digest, vec![], false),
            (Verdict::Different, I, Some(&e), &index, vec![Proof::ExpectedDigest, Proof::ImageRecord], false),
            (Verdict::ExpectedDigestMismatch, I, Some(&e), &[], vec![], false),
            (Verdict::NotFound, I, Some(&e), &[], vec![], false),
            (Identical, R, None, &[], vec![], true),
            (Verdict::Different, R, None, &different, vec![], true),
        ];
        for (verdict, policy, expected, recorded, proven_by, passed) in table {
            let decision = decide(grounds(verdict, policy, expected, recorded));
            assert_eq!(decision, Decision { proven_by, passed }, "{verdict:?} {policy:?} {expected:?} {recorded:?}");
        }
        let left_out = Grounds { recorded_left_out: 1, ..grounds(Identical, I, None, &index) };
        assert!(!decide(left_out).passed, "a record not read in full proves nothing");
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
