//! CLI text for `release-audit digest` and `release-audit compare`: the digests of each
//! reference, and why two images differ. Pure; the CLI prints it through
//! `github::commands::inert` (registry answers are outside text).

use std::fmt::Write as _;

use crate::evidence::images::resolve::Role;
use crate::evidence::images::{DigestPolicy, DigestRecord, ImageRef, PairEvidence, manifest};

/// `digest`: each record's index and platform digests.
pub fn records(records: &[DigestRecord]) -> String {
    let mut out = String::new();
    for r in records {
        write_record(&mut out, "", r);
    }
    out
}

/// `compare`: both records, the verdict under `policy`, the proof, and the findings
/// that explain a difference (with the promotion command when one would fix it).
pub fn compare(pair: &PairEvidence, policy: DigestPolicy) -> String {
    let mut out = String::new();
    let digests_pass = pair.verdict.passes(policy);
    for (label, record, reference) in [
        ("tested", &pair.detail.tested, &pair.tested.reference),
        ("released", &pair.detail.released, &pair.released.reference),
    ] {
        match record {
            Some(r) => write_record(&mut out, label, r),
            None => {
                let _ = writeln!(out, "{label:<9} {reference}\n  not found");
            }
        }
    }
    let outcome = if digests_pass { "passes" } else { "fails" };
    let _ = writeln!(out, "verdict   {} — {outcome} digest-policy {}", pair.verdict.as_str(), policy.as_str());
    let _ = writeln!(out, "          {}", pair.verdict_line(policy));
    if pair.proven_by.is_empty() {
        let _ = writeln!(
            out,
            "proof     none: an audit fails this pair unless a test job's image record or the build's digest (--expected-digest) shows the tests ran it"
        );
    } else {
        let proofs: Vec<&str> = pair.proven_by.iter().map(|p| p.as_str()).collect();
        let _ = writeln!(out, "proof     {}", proofs.join(", "));
    }
    let explanation = &pair.detail.explanation;
    if !explanation.findings.is_empty() {
        let _ = writeln!(out, "why");
        for f in &explanation.findings {
            let place = match &f.platform {
                Some(p) => format!("{} {p}", f.level.as_str()),
                None => f.level.as_str().to_string(),
            };
            let _ = writeln!(out, "  [{place}] {}", f.summary);
            for d in &f.details {
                let _ = writeln!(out, "      {d}");
            }
            let _ = writeln!(out, "      hint: {}", f.hint);
        }
    }
    if let Some(cmd) = explanation.promote.as_ref().filter(|_| !explanation.findings.is_empty()) {
        let _ = writeln!(out, "promote   {cmd}");
    }
    out
}

fn write_record(out: &mut String, label: &str, r: &DigestRecord) {
    let reference = ImageRef::parse(&r.reference).map(|i| i.to_string()).unwrap_or_else(|_| r.reference.clone());
    if label.is_empty() {
        let _ = writeln!(out, "{reference}");
    } else {
        let _ = writeln!(out, "{label:<9} {reference}");
    }
    let kind = if r.is_index() { "index" } else { "manifest" };
    let _ = writeln!(out, "  {kind:<15} {}  {}", r.digest, manifest::describe(&r.media_type));
    for m in &r.manifests {
        let note = match (m.role, m.fetched) {
            (Role::Attestation, _) => {
                let target = m
                    .attests
                    .as_ref()
                    .and_then(|t| r.manifests.iter().find(|x| x.digest == *t))
                    .map(|x| x.platform_key());
                format!("  attestation{}", target.map(|t| format!(" of {t}")).unwrap_or_default())
            }
            (Role::Other, _) => format!("  {}", manifest::describe(&m.media_type)),
            (_, false) => "  (not fetched: excluded by --platform)".to_string(),
            _ => String::new(),
        };
        let key = if m.role == Role::Attestation { "unknown/unknown".to_string() } else { m.platform_key() };
        if r.is_index() || m.digest != r.digest {
            let _ = writeln!(out, "  {key:<15} {}{note}", m.digest);
        } else {
            let _ = writeln!(out, "  {key:<15} (this manifest)");
        }
    }
}
