//! Image evidence: proves the tested image is the released image, and explains exactly
//! why when it is not.
//!
//! Data flows one way through the submodules: [`settings`] (inputs → [`ImageSettings`])
//! → [`resolve`] (references → [`DigestRecord`]s, over [`crate::registry`]) → [`verdict`]
//! (records → [`Verdict`] under a [`DigestPolicy`]) → [`explain`] (why, with remedies)
//! → [`ImageEvidence`], which the bundle, the summary and the in-toto statements
//! consume. Digests are computed here from the bytes fetched with `GET`; the
//! registry's `Docker-Content-Digest` is recorded beside them, never trusted instead.
//!
//! Equal digests are not proof that the tests ran the released image: a pair passes
//! only when an image record the test jobs wrote ([`record`]) or the digest the build
//! reported ties the tested digest to the released one ([`verdict::decide`]), never
//! because two references resolve alike. [`rejudge`] decides a pair again from the
//! files in a bundle, for `verify`. Evidence here is plain data: every string from a
//! registry, a cluster or an input is escaped where it is rendered, not here.

pub mod build;
pub mod explain;
pub mod record;
pub mod rejudge;
pub mod resolve;
pub mod settings;
mod summary;
pub mod verdict;

use std::collections::BTreeMap;

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};

pub use crate::registry::reference::{Digest, ImageRef, Platform};
pub use crate::registry::{RegistryClient, RequestStats};
pub use explain::{Explanation, Finding, Level, Remedy};
pub use resolve::{DigestRecord, ManifestRecord, RawManifest, Resolved};
pub use settings::{Credential, DigestPolicy, ImagePair, ImageSettings, RegistryAccess};
pub use verdict::{Proof, Verdict};

use crate::bundle::dir::BundleDir;
use crate::error::Result;
use crate::registry::FetchError;

/// The digests of one reference, as `manifest.json` carries them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RefDigests {
    pub reference: String,
    /// The index digest (or the manifest digest of a single-platform image); absent when not found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Platform (`os/arch[/variant]`) → platform manifest digest.
    #[serde(default)]
    pub platforms: BTreeMap<String, Digest>,
}

impl RefDigests {
    fn of(image: &ImageRef, record: Option<&DigestRecord>) -> Self {
        RefDigests {
            reference: image.to_string(),
            digest: record.map(|r| r.digest.clone()),
            media_type: record.map(|r| r.media_type.clone()),
            platforms: record.map(DigestRecord::platform_digests).unwrap_or_default(),
        }
    }
}

/// Everything found for one pair beyond what `manifest.json` carries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PairDetail {
    pub tested: Option<DigestRecord>,
    pub released: Option<DigestRecord>,
    pub explanation: Explanation,
}

/// One compared pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairEvidence {
    pub name: String,
    pub tested: RefDigests,
    pub released: RefDigests,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_digest: Option<Digest>,
    pub verdict: Verdict,
    /// What ties the tested digest to the released one beyond the two references (an
    /// image record, the build's digest); empty when nothing does: the pair is not proven.
    #[serde(default)]
    pub proven_by: Vec<Proof>,
    /// Whether the verdict passes the policy, the pair is proven, and every digest a
    /// test job recorded passes the policy ([`verdict::decide`]).
    pub passed: bool,
    /// The digests the test jobs recorded running (`record-image`), each checked
    /// against the released image: the evidence of what was tested, beside the tag
    /// `tested-image` claims.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recorded: Vec<record::RecordCheck>,
    /// Recorded images about the released image beyond [`verdict::MAX_CHECKS_PER_PAIR`]:
    /// not checked, so the pair fails.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub recorded_left_out: usize,
    /// Full records and the explanation (written to `images/<name>.json`, not to the manifest).
    #[serde(skip)]
    pub detail: PairDetail,
}

/// What the image stage found (the manifest's part).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageEvidence {
    pub policy: DigestPolicy,
    /// The `platforms` filter the references were resolved with (empty: all), so that
    /// `verify` can re-derive which manifests were compared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<Platform>,
    pub pairs: Vec<PairEvidence>,
    /// The exact bytes of every manifest that was hashed, by digest.
    #[serde(skip)]
    pub manifests: BTreeMap<Digest, RawManifest>,
    /// Requests sent to registries (for the CLI's `--json` and the benchmark).
    #[serde(skip)]
    pub requests: RequestStats,
    /// Image records among the collected reports that could not be read: each fails
    /// the audit (a record nobody can check proves nothing, and must not be ignored).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub record_problems: Vec<String>,
    /// Where the expected digest came from when the build on the tag push reported it
    /// (`build-workflow`): the runs, their logs in the bundle, the report read from them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<build::BuildDigest>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// `images/<name>.json`: the full record of one pair.
#[derive(Serialize)]
struct PairFile<'a> {
    name: &'a str,
    policy: DigestPolicy,
    verdict: Verdict,
    proven_by: &'a [Proof],
    passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_digest: Option<&'a Digest>,
    tested_reference: &'a str,
    released_reference: &'a str,
    tested: Option<&'a DigestRecord>,
    released: Option<&'a DigestRecord>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    recorded: &'a [record::RecordCheck],
    #[serde(skip_serializing_if = "is_zero")]
    recorded_left_out: usize,
    explanation: &'a Explanation,
}

impl ImageEvidence {
    /// Why the release must not pass, one line per failing pair.
    pub fn failures(&self) -> Vec<String> {
        let mut reasons: Vec<String> = self
            .pairs
            .iter()
            .filter(|p| !p.passed)
            .map(|p| format!("image `{}`: {}", p.name, p.failure_line(self.policy)))
            .collect();
        reasons.extend(self.record_problems.iter().map(|p| format!("image record {p}")));
        reasons
    }

    /// Checks the digests the test jobs recorded against each pair's released image
    /// and decides each pair again: a record of a released digest proves the pair, a
    /// recorded digest the policy does not accept fails it, and so do more records
    /// than are checked ([`verdict::MAX_CHECKS_PER_PAIR`]).
    pub fn apply_records(&mut self, records: &[record::ImageRecord]) {
        for pair in &mut self.pairs {
            let Some(released) = &pair.detail.released else { continue };
            let checked = record::checks_for_pair(records, released);
            pair.recorded = checked.checks;
            pair.recorded_left_out = checked.left_out;
            pair.decide(self.policy);
        }
    }

    /// Writes `images/<name>.json` per pair and `images/manifests/sha256-<hex>.json`
    /// with the exact bytes of every manifest that was hashed.
    pub fn write_into(&self, dir: &mut BundleDir) -> Result<()> {
        for pair in &self.pairs {
            let file = PairFile {
                name: &pair.name,
                policy: self.policy,
                verdict: pair.verdict,
                proven_by: &pair.proven_by,
                passed: pair.passed,
                expected_digest: pair.expected_digest.as_ref(),
                tested_reference: &pair.tested.reference,
                released_reference: &pair.released.reference,
                tested: pair.detail.tested.as_ref(),
                released: pair.detail.released.as_ref(),
                recorded: &pair.recorded,
                recorded_left_out: pair.recorded_left_out,
                explanation: &pair.detail.explanation,
            };
            dir.add_json(&format!("images/{}.json", pair.name), &file)?;
        }
        for (digest, raw) in &self.manifests {
            dir.add_bytes(&format!("images/manifests/{}.json", digest.file_stem()), &raw.bytes)?;
        }
        Ok(())
    }

    /// The job summary's image section: a table per pair, the explanation with its
    /// hints on a mismatch, and a tested → released diagram.
    pub fn summary_markdown(&self) -> String {
        summary::markdown(self)
    }

    /// The image part of `report.html`; `escape` is the page's HTML escaping.
    pub fn html(&self, escape: fn(&str) -> String) -> String {
        summary::html(self, escape)
    }

    /// Subjects for in-toto statements: every tested image digest (the index and each
    /// platform manifest), as (name, sha256 hex). Names are `registry/repository`, with
    /// ` (os/arch)` for a platform manifest.
    pub fn subjects(&self) -> Vec<(String, String)> {
        let mut subjects: Vec<(String, String)> = Vec::new();
        for record in self.pairs.iter().filter_map(|p| p.detail.tested.as_ref()) {
            let name = format!("{}/{}", record.registry, record.repository);
            let mut add = |n: String, d: &Digest| {
                if !subjects.iter().any(|(_, h)| h == d.hex()) {
                    subjects.push((n, d.hex().to_string()));
                }
            };
            add(name.clone(), &record.digest);
            for m in record.images().filter(|m| m.digest != record.digest) {
                add(format!("{name} ({})", m.platform_key()), &m.digest);
            }
        }
        subjects
    }
}

impl PairEvidence {
    /// Decides the pair from its verdict and evidence ([`verdict::decide`]).
    pub fn decide(&mut self, policy: DigestPolicy) {
        let decision = verdict::decide(verdict::Grounds {
            verdict: self.verdict,
            policy,
            expected: self.expected_digest.as_ref(),
            recorded: &self.recorded,
            recorded_left_out: self.recorded_left_out,
        });
        self.proven_by = decision.proven_by;
        self.passed = decision.passed;
    }

    /// Why the pair fails: records left unchecked, a recorded digest the policy does
    /// not accept, nothing that proves the pair, else the verdict.
    pub fn failure_line(&self, policy: DigestPolicy) -> String {
        let refused: Vec<&record::RecordCheck> = self.recorded.iter().filter(|c| !c.verdict.passes(policy)).collect();
        if !self.verdict.passes(policy) {
            return self.verdict_line(policy);
        }
        if self.recorded_left_out > 0 {
            return format!(
                "{} more recorded images of the released image than the {} checked: the records prove nothing until they are read in full",
                self.recorded_left_out,
                verdict::MAX_CHECKS_PER_PAIR
            );
        }
        match refused.first() {
            Some(first) => {
                let more = if refused.len() > 1 { format!(" (and {} more)", refused.len() - 1) } else { String::new() };
                format!("a test job did not run the released image: {}{more}", first.explanation)
            }
            None => self.verdict_line(policy),
        }
    }

    /// What the verdict means for this pair, and whether anything proves it.
    pub fn verdict_line(&self, policy: DigestPolicy) -> String {
        let show = |r: &RefDigests| match &r.digest {
            Some(d) => format!("{} ({})", r.reference, d.short()),
            None => r.reference.clone(),
        };
        let unproven =
            self.proven_by.is_empty() && matches!(self.verdict, Verdict::Identical | Verdict::PlatformsIdentical);
        if unproven {
            return format!(
                "not proven: tested {} and released {} resolve to {}, but nothing shows the tests ran it — no test job's image record (record-image) names a released digest, and no expected digest from the build was given",
                show(&self.tested),
                show(&self.released),
                if self.verdict == Verdict::Identical { "the same digest" } else { "the same platform manifests" }
            );
        }
        match self.verdict {
            Verdict::Identical => {
                format!("released {} is the tested image (shown by {})", show(&self.released), self.proof_text())
            }
            Verdict::PlatformsIdentical => format!(
                "tested {} and released {} have the same platform manifests but different indexes{} (shown by {})",
                show(&self.tested),
                show(&self.released),
                if policy == DigestPolicy::Identical {
                    " (digest-policy identical requires the same index)"
                } else {
                    ""
                },
                self.proof_text()
            ),
            Verdict::Different => format!("tested {} and released {} differ", show(&self.tested), show(&self.released)),
            Verdict::ExpectedDigestMismatch => format!(
                "tested {} is not the image the build reported ({})",
                show(&self.tested),
                self.expected_digest.as_ref().map(Digest::short).unwrap_or_default()
            ),
            Verdict::NotFound => {
                let missing: Vec<&str> = [&self.tested, &self.released]
                    .into_iter()
                    .filter(|r| r.digest.is_none())
                    .map(|r| r.reference.as_str())
                    .collect();
                format!("{} not found", missing.join(" and "))
            }
        }
    }

    fn proof_text(&self) -> String {
        let parts: Vec<&str> = self
            .proven_by
            .iter()
            .map(|p| match p {
                Proof::ExpectedDigest => "the digest the build reported",
                Proof::ImageRecord => "a test job's image record",
            })
            .collect();
        parts.join(" and ")
    }
}

/// The image part of `report.html` (the hook `bundle::html` calls); `escape` is the
/// page's HTML escaping. Without the explanation (a manifest read back from disk) it
/// shows the digests and verdicts only.
pub fn html(images: &ImageEvidence, escape: fn(&str) -> String) -> String {
    images.html(escape)
}

/// Resolves every reference of every pair (concurrently, each once), judges each pair
/// under the policy and explains every pair that is not identical.
pub async fn collect(settings: &ImageSettings, net: &crate::http::Net) -> Result<ImageEvidence> {
    let client = RegistryClient::new(net, &settings.access);
    let mut refs: Vec<&ImageRef> = Vec::new();
    for pair in &settings.pairs {
        for r in [&pair.tested, &pair.released] {
            if !refs.contains(&r) {
                refs.push(r);
            }
        }
    }
    let results = join_all(refs.iter().map(|r| resolve::resolve(&client, r, &settings.platforms))).await;
    let mut resolved: Vec<(&ImageRef, Option<Resolved>, Option<String>)> = Vec::new();
    for (image, result) in refs.iter().zip(results) {
        match result {
            Ok(r) => resolved.push((image, Some(r), None)),
            Err(FetchError::NotFound(reason)) => resolved.push((image, None, Some(reason))),
            Err(FetchError::Failed(e)) => return Err(e),
        }
    }
    let lookup =
        |image: &ImageRef| resolved.iter().find(|(i, _, _)| *i == image).expect("every reference was resolved");

    let ctx = explain::Context { client: &client, layer_diff_limit: settings.layer_diff_limit };
    let mut evidence =
        ImageEvidence { policy: settings.policy, platforms: settings.platforms.clone(), ..Default::default() };
    for pair in &settings.pairs {
        let (_, tested, tested_missing) = lookup(&pair.tested);
        let (_, released, released_missing) = lookup(&pair.released);
        let expected = pair.expected.as_ref();
        let verdict =
            verdict::judge(tested.as_ref().map(|r| &r.record), released.as_ref().map(|r| &r.record), expected);
        let explanation = match (tested, released) {
            (Some(t), Some(r)) => explain::explain(&ctx, t, r, expected, verdict).await,
            _ => Explanation {
                findings: [tested_missing, released_missing]
                    .into_iter()
                    .flatten()
                    .map(|reason| Finding::new(Level::Reference, None, reason.clone(), vec![], Remedy::ImageMissing))
                    .collect(),
                promote: None,
            },
        };
        log::info!("image `{}`: {}", pair.name, verdict.as_str());
        let mut evidence_of_pair = PairEvidence {
            name: pair.name.clone(),
            tested: RefDigests::of(&pair.tested, tested.as_ref().map(|r| &r.record)),
            released: RefDigests::of(&pair.released, released.as_ref().map(|r| &r.record)),
            expected_digest: expected.cloned(),
            verdict,
            proven_by: Vec::new(),
            passed: false,
            recorded: Vec::new(),
            recorded_left_out: 0,
            detail: PairDetail {
                tested: tested.as_ref().map(|r| r.record.clone()),
                released: released.as_ref().map(|r| r.record.clone()),
                explanation,
            },
        };
        evidence_of_pair.decide(settings.policy);
        evidence.pairs.push(evidence_of_pair);
    }
    for (_, r, _) in &resolved {
        if let Some(r) = r {
            evidence.manifests.extend(r.manifests.iter().map(|(d, m)| (d.clone(), m.clone())));
        }
    }
    evidence.requests = client.stats();
    Ok(evidence)
}
