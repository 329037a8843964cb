//! Re-judging one image pair from the files inside a bundle, for `verify`: nothing is
//! taken from the claim being checked. From the stored manifest bytes
//! (`images/manifests/sha256-<hex>.json`) every digest is hashed again and every index
//! is read again into its platform manifests (the same [`plan_children`] the audit
//! used, under the `platforms` filter the manifest records); from the image records
//! the test jobs wrote (the bundle's `image-record*.json` report files) every recorded
//! digest is checked again against the released image; and from all of that the verdict,
//! what proves the pair and whether it passes are decided again ([`verdict::decide`]). Every
//! place where the pair file (`images/<name>.json`) or `manifest.json` says something
//! else is a [`Discrepancy`].
//!
//! Pure: the bundle is read through the `read` function the caller gives (which must
//! bound what it reads); no network, no file system, no printing. Texts in a
//! discrepancy may quote bundle content and are plain data for the one escaping path.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::record::{self, ImageRecord, RecordCheck};
use super::resolve::{DigestRecord, ManifestRecord, plan_children};
use super::settings::DigestPolicy;
use super::verdict::{self, Grounds, Proof, Verdict};
use super::{ImageEvidence, PairEvidence, RefDigests};
use crate::bundle::exact::unread_value;
use crate::registry::manifest::{self, Kind};
use crate::registry::reference::{Digest, ImageRef};

/// Largest pair file read (it holds at most [`verdict::MAX_CHECKS_PER_PAIR`] checks).
pub const MAX_PAIR_FILE_BYTES: usize = 64 * 1024 * 1024;

/// One claim of the bundle that the files inside it do not support.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discrepancy {
    /// The pair's name.
    pub pair: String,
    /// What does not hold, in one line.
    pub what: String,
}

impl fmt::Display for Discrepancy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "image `{}`: {}", self.pair, self.what)
    }
}

/// What the files say about a pair, decided again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejudged {
    pub verdict: Verdict,
    pub proven_by: Vec<Proof>,
    pub passed: bool,
}

/// `images/<name>.json` as written by [`ImageEvidence::write_into`], every key of it:
/// the file must say nothing beyond what is read here ([`unread_value`]).
#[derive(Serialize, Deserialize)]
struct PairFile {
    name: String,
    policy: DigestPolicy,
    verdict: Verdict,
    #[serde(default)]
    proven_by: Vec<Proof>,
    passed: bool,
    #[serde(default)]
    expected_digest: Option<Digest>,
    tested_reference: String,
    released_reference: String,
    tested: Option<DigestRecord>,
    released: Option<DigestRecord>,
    #[serde(default)]
    recorded: Vec<RecordCheck>,
    #[serde(default)]
    recorded_left_out: usize,
    /// Why the two differ, as the audit found it (shown, not judged: what it compared is
    /// not in the bundle); empty for an identical pair.
    #[serde(default)]
    explanation: super::Explanation,
}

struct Checker<'a, R> {
    pair: &'a str,
    read: R,
    found: Vec<Discrepancy>,
}

impl<R: Fn(&str) -> Option<Vec<u8>>> Checker<'_, R> {
    fn say(&mut self, what: impl Into<String>) {
        self.found.push(Discrepancy { pair: self.pair.to_string(), what: what.into() });
    }

    fn same<T: PartialEq + fmt::Debug>(&mut self, what: &str, file: &T, manifest: &T) {
        if file != manifest {
            self.say(format!("{what}: the pair file says {}, manifest.json says {}", shown(file), shown(manifest)));
        }
    }

    fn derived<T: PartialEq + fmt::Debug>(&mut self, what: &str, claimed: &T, derived: &T) {
        if claimed != derived {
            self.say(format!("{what} is recorded as {}, but the files give {}", shown(claimed), shown(derived)));
        }
    }

    /// The stored bytes of a manifest, hashed again: `None` (and a discrepancy) when
    /// they are missing, too large or not the bytes of `digest`.
    fn stored(&mut self, digest: &Digest) -> Option<Vec<u8>> {
        let path = format!("images/manifests/{}.json", digest.file_stem());
        let Some(bytes) = (self.read)(&path) else {
            self.say(format!("{digest} is recorded, but its manifest bytes ({path}) are not in the bundle"));
            return None;
        };
        if bytes.len() > manifest::MAX_MANIFEST_BYTES {
            self.say(format!("{path} is {} bytes, more than a manifest may be", bytes.len()));
            return None;
        }
        let hashed = Digest::of(&bytes);
        if hashed != *digest {
            self.say(format!("{path} hashes to {hashed}, not to {digest}"));
            return None;
        }
        Some(bytes)
    }

    /// A digest record checked against the stored bytes: its top digest and size, its
    /// kind, and for an index every child as the stored index lists it.
    fn record(&mut self, side: &str, r: &DigestRecord, filter: &[super::Platform]) {
        self.names(side, r);
        let headers = std::iter::once((&r.digest, &r.header_digest))
            .chain(r.manifests.iter().map(|m| (&m.digest, &m.header_digest)));
        for (digest, header) in headers {
            if let Some(header) = header.as_ref().filter(|h| *h != digest) {
                self.say(format!(
                    "{side}: the registry's Docker-Content-Digest {header} is recorded beside {digest}, which the audit refuses"
                ));
            }
        }
        let Some(bytes) = self.stored(&r.digest) else { return };
        self.derived(&format!("{side} size"), &r.size, &(bytes.len() as u64));
        #[derive(Deserialize)]
        struct Head {
            #[serde(rename = "mediaType")]
            media_type: Option<String>,
        }
        let declared = serde_json::from_slice::<Head>(&bytes).ok().and_then(|h| h.media_type);
        if let Some(declared) = declared.filter(|d| *d != r.media_type) {
            self.say(format!("{side} media type is recorded as {:?}, the stored bytes say {declared:?}", r.media_type));
        }
        match manifest::kind_of(&r.media_type) {
            Some(Kind::Index) => self.index(side, r, &bytes, filter),
            Some(Kind::Manifest) => self.single(side, r),
            None => self.say(format!("{side} media type {:?} is neither an index nor a manifest", r.media_type)),
        }
    }

    /// Registry, repository and tag are the reference's own parts.
    fn names(&mut self, side: &str, r: &DigestRecord) {
        match ImageRef::parse(&r.reference) {
            Ok(image) => {
                let parts = (image.registry.as_str(), image.repository.as_str(), image.tag.as_deref());
                let recorded = (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref());
                self.derived(&format!("{side} registry, repository and tag"), &recorded, &parts);
            }
            Err(e) => self.say(format!("{side} reference {:?} {e}", r.reference)),
        }
    }

    fn index(&mut self, side: &str, r: &DigestRecord, bytes: &[u8], filter: &[super::Platform]) {
        let image = match ImageRef::parse(&r.reference) {
            Ok(i) => i,
            Err(e) => return self.say(format!("{side} reference {:?} {e}", r.reference)),
        };
        let planned = manifest::parse::<manifest::Index>(bytes, &format!("index {}", r.digest))
            .and_then(|index| plan_children(&image, &index, filter));
        let children = match planned {
            Ok((children, _)) => children,
            Err(e) => return self.say(format!("{side} index {}: {e}", r.digest)),
        };
        let strip = |m: &ManifestRecord| ManifestRecord { header_digest: None, read_at: None, ..m.clone() };
        let recorded: Vec<ManifestRecord> = r.manifests.iter().map(strip).collect();
        if recorded != children {
            self.say(format!(
                "{side} index {}: the platform manifests recorded are not the ones its stored bytes list (platform → digest: recorded {:?}, stored {:?})",
                r.digest,
                keys(&recorded),
                keys(&children)
            ));
            return;
        }
        for child in r.manifests.iter().filter(|m| m.fetched) {
            if let Some(child_bytes) = self.stored(&child.digest) {
                self.derived(&format!("{side} size of {}", child.digest), &child.size, &(child_bytes.len() as u64));
            }
        }
    }

    fn single(&mut self, side: &str, r: &DigestRecord) {
        match r.manifests.as_slice() {
            [only] if only.digest == r.digest && only.fetched => {}
            _ => self.say(format!("{side} is a single manifest, but its record lists other manifests than itself")),
        }
    }
}

/// Most characters of one value quoted in a discrepancy: a bundle may hold thousands of
/// recorded checks, and `verify` prints a bounded amount.
const MAX_SHOWN: usize = 200;

fn shown<T: fmt::Debug>(value: &T) -> String {
    let text = format!("{value:?}");
    match text.char_indices().nth(MAX_SHOWN) {
        Some((cut, _)) => format!("{}… ({} characters)", &text[..cut], text.chars().count()),
        None => text,
    }
}

fn keys(manifests: &[ManifestRecord]) -> BTreeMap<String, String> {
    super::resolve::keyed(manifests.iter()).into_iter().map(|(k, m)| (k, m.digest.to_string())).collect()
}

/// Re-judges `pair` (as `manifest.json` holds it, under `images`' policy and platform
/// filter) from the bundle's files: `record_paths` are the bundle paths of every image
/// record among the report files ([`record::is_record_file`]), and `read` returns a
/// bundle file's bytes (`None` when it is missing or too large to read); `runs` the run
/// of the artifact each record came in ([`RecordRuns`]).
///
/// `Ok` when every stored digest hashes right, every index lists what its record
/// says, and the verdict, the proof and the outcome decided again from the files are
/// the ones the pair file and `manifest.json` claim; otherwise every discrepancy.
pub fn rejudge(
    images: &ImageEvidence,
    pair: &PairEvidence,
    record_paths: &[&str],
    runs: &RecordRuns,
    read: impl Fn(&str) -> Option<Vec<u8>>,
) -> Result<Rejudged, Vec<Discrepancy>> {
    let mut c = Checker { pair: &pair.name, read, found: Vec::new() };
    let path = format!("images/{}.json", pair.name);
    let bytes = (c.read)(&path).filter(|b| b.len() <= MAX_PAIR_FILE_BYTES);
    let file: PairFile = match bytes.as_deref().map(serde_json::from_slice) {
        Some(Ok(file)) => file,
        Some(Err(e)) => {
            return Err(vec![Discrepancy { pair: pair.name.clone(), what: format!("{path} is not a pair file: {e}") }]);
        }
        None => {
            return Err(vec![Discrepancy { pair: pair.name.clone(), what: format!("{path} is missing or too large") }]);
        }
    };
    if let Some(extra) = bytes.as_deref().and_then(|b| unread_value(b, &file)) {
        c.say(format!("{path} says something a pair file does not hold (nothing checks it): {extra}"));
    }
    if verdict::judge(file.tested.as_ref(), file.released.as_ref(), file.expected_digest.as_ref()) == Verdict::Identical
        && file.explanation != super::Explanation::default()
    {
        c.say(format!("{path} explains why two identical images differ"));
    }
    check_file_against_manifest(&mut c, &file, images, pair);
    for (side, r) in [("tested", &file.tested), ("released", &file.released)] {
        if let Some(r) = r {
            c.record(side, r, &images.platforms);
        }
    }
    let verdict = verdict::judge(file.tested.as_ref(), file.released.as_ref(), file.expected_digest.as_ref());
    c.derived("the verdict", &file.verdict, &verdict);
    let checked = recheck_records(&mut c, &file, images, record_paths, runs);
    c.derived("the recorded images' checks", &file.recorded, &checked.checks);
    c.derived("the recorded images left unchecked", &file.recorded_left_out, &checked.left_out);
    let decision = verdict::decide(Grounds {
        verdict,
        policy: images.policy,
        expected: file.expected_digest.as_ref(),
        recorded: &checked.checks,
        recorded_left_out: checked.left_out,
    });
    c.derived("what proves the pair", &file.proven_by, &decision.proven_by);
    c.derived("whether the pair passed", &file.passed, &decision.passed);
    if c.found.is_empty() {
        Ok(Rejudged { verdict, proven_by: decision.proven_by, passed: decision.passed })
    } else {
        Err(c.found)
    }
}

/// Every pair of `images` re-judged ([`rejudge`]) from a bundle whose files are
/// `bundle_paths` (bundle-relative, as `SHA256SUMS` lists them): the image records
/// among them are picked by [`record::is_record_file`]. A pair file no pair names, or a
/// name used twice, is a discrepancy too. Empty when every claim holds.
pub fn rejudge_all(
    images: &ImageEvidence,
    bundle_paths: &[&str],
    runs: &RecordRuns,
    read: impl Fn(&str) -> Option<Vec<u8>>,
) -> Vec<Discrepancy> {
    let records: Vec<&str> = bundle_paths.iter().copied().filter(|p| record::is_record_file(p)).collect();
    let mut found = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for pair in &images.pairs {
        if !names.insert(pair.name.as_str()) {
            found.push(Discrepancy { pair: pair.name.clone(), what: "the name is used by two pairs".to_string() });
        }
        if let Err(mut problems) = rejudge(images, pair, &records, runs, &read) {
            found.append(&mut problems);
        }
    }
    for path in bundle_paths {
        let Some(name) = path.strip_prefix("images/").and_then(|p| p.strip_suffix(".json")) else { continue };
        if !name.contains('/') && !names.contains(name) {
            found.push(Discrepancy {
                pair: name.to_string(),
                what: format!("{path} is in the bundle, but manifest.json names no such pair"),
            });
        }
    }
    found
}

/// The pair file and `manifest.json` must say the same.
fn check_file_against_manifest<R: Fn(&str) -> Option<Vec<u8>>>(
    c: &mut Checker<'_, R>,
    file: &PairFile,
    images: &ImageEvidence,
    pair: &PairEvidence,
) {
    c.same("name", &file.name, &pair.name);
    c.same("digest policy", &file.policy, &images.policy);
    c.same("verdict", &file.verdict, &pair.verdict);
    c.same("proof", &file.proven_by, &pair.proven_by);
    c.same("passed", &file.passed, &pair.passed);
    c.same("expected digest", &file.expected_digest, &pair.expected_digest);
    c.same("recorded images", &file.recorded, &pair.recorded);
    c.same("recorded images left unchecked", &file.recorded_left_out, &pair.recorded_left_out);
    for (side, reference, record, digests) in [
        ("tested", &file.tested_reference, &file.tested, &pair.tested),
        ("released", &file.released_reference, &file.released, &pair.released),
    ] {
        c.same(&format!("{side} reference"), reference, &digests.reference);
        if let Some(r) = record {
            c.same(&format!("{side} reference"), &r.reference, &digests.reference);
        }
        let from_file = RefDigests {
            reference: digests.reference.clone(),
            digest: record.as_ref().map(|r| r.digest.clone()),
            media_type: record.as_ref().map(|r| r.media_type.clone()),
            platforms: record.as_ref().map(DigestRecord::platform_digests).unwrap_or_default(),
        };
        c.same(&format!("{side} digests"), &from_file, digests);
    }
}

/// The run of the report artifact each file came in, by bundle path (from the
/// manifest's test evidence): a record naming another run is not evidence
/// ([`ImageRecord::from_another_run`]).
pub type RecordRuns = BTreeMap<String, u64>;

/// Every image record in the bundle read again and checked against the released
/// record. A record that cannot be read, or that names another run than its
/// artifact's, must have failed the audit.
fn recheck_records<R: Fn(&str) -> Option<Vec<u8>>>(
    c: &mut Checker<'_, R>,
    file: &PairFile,
    images: &ImageEvidence,
    record_paths: &[&str],
    runs: &RecordRuns,
) -> record::PairChecks {
    let mut records = Vec::new();
    let mut unreadable: Vec<String> = Vec::new();
    for path in record_paths.iter().filter(|p| record::is_record_file(p)) {
        let parsed = match (c.read)(path).filter(|b| b.len() as u64 <= record::MAX_RECORD_BYTES) {
            Some(bytes) => ImageRecord::parse(&bytes, path).map_err(|e| e.to_string()),
            None => Err(format!("{path} is missing or too large")),
        };
        match parsed.map(|r| (r.from_another_run(runs.get(*path).copied()), r)) {
            Ok((None, r)) => records.push(r),
            Ok((Some(why), _)) => unreadable.push(format!("{path} {why}")),
            Err(why) => unreadable.push(why),
        }
    }
    if unreadable.len() > images.record_problems.len() {
        c.say(format!(
            "{} image record(s) in the bundle cannot be read ({}), but the audit names {} record problem(s)",
            unreadable.len(),
            shown(&unreadable[0]).trim_matches('"'),
            images.record_problems.len()
        ));
    }
    match &file.released {
        Some(released) => record::checks_for_pair(&records, released),
        None => record::PairChecks::default(),
    }
}

#[cfg(test)]
mod tests;
