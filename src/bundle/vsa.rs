//! `statements/vsa.intoto.json`: an SLSA Verification Summary Attestation
//! (<https://slsa.dev/verification_summary/v1>) in an in-toto Statement v1 — the
//! audit's verdict in the form a cluster's admission policy (Kyverno, Sigstore's
//! policy-controller) or `slsa-verifier` reads.
//!
//! A pure function of the manifest and the bytes of the bundle's other statements,
//! like them, so `verify` writes it again and compares byte for byte:
//!
//! - `subject`: the released image — each pair's released index digest and its
//!   platform manifests — or, with no released image digest, the released commit. No
//!   VSA without a subject (nothing recorded which commit or image was released), and
//!   none for a bundle written before the audit's time was recorded (`run.audited_at`).
//! - `verifier.id`: this tool at the version that wrote the manifest
//!   (`https://github.com/kyma-project/release-audit@v<version>`).
//! - `timeVerified`: `run.audited_at`; `resourceUri`: the released image's repository
//!   (`oci://registry/repository`) when there is one, else the released source.
//! - `policy`: the gate's settings as the manifest records them, as canonical JSON
//!   ([`policy_json`], keys sorted, no spaces); its sha256 and the JSON itself (base64,
//!   the ResourceDescriptor's `content`).
//! - `verificationResult`: exactly the manifest's verdict; `verifiedLevels`: on
//!   `PASSED` the release-audit levels that held ([`levels`]), on `FAILED` `["FAILED"]`
//!   as the VSA spec asks. No `SLSA_*` level: the audit does not check a SLSA track's
//!   requirements, and custom values must not start with `SLSA_`.
//! - `inputAttestations`: every other statement of the bundle, by path and sha256.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::manifest::{Manifest, VerdictResult};
use super::statements::{STATEMENT_TYPE, Subject};
use crate::evidence::images::{DigestPolicy, ImageRef};

pub const VSA_PREDICATE: &str = "https://slsa.dev/verification_summary/v1";
/// Where the VSA is in the bundle.
pub const VSA_PATH: &str = "statements/vsa.intoto.json";
/// The verifier's repository; `verifier.id` is it `@v<version>`.
pub const VERIFIER_REPOSITORY: &str = "https://github.com/kyma-project/release-audit";

/// Every required test category passed under the full test gate
/// (`fail-on-test-failures` and `fail-on-missing-reports` both on).
pub const LEVEL_TESTS_PASSED: &str = "RELEASE_AUDIT_TESTS_PASSED";
/// Every released image is proven to be the tested one, under `digest-policy`
/// `identical` or `platforms` (not `record`).
pub const LEVEL_TESTED_IMAGE_RELEASED: &str = "RELEASE_AUDIT_TESTED_IMAGE_RELEASED";
/// Every change since the previous release was reviewed by someone other than its author.
pub const LEVEL_CHANGES_REVIEWED: &str = "RELEASE_AUDIT_CHANGES_REVIEWED";
/// The release was approved in a deployment environment.
pub const LEVEL_RELEASE_APPROVED: &str = "RELEASE_AUDIT_RELEASE_APPROVED";
/// `verifiedLevels` of a failed audit.
pub const LEVEL_FAILED: &str = "FAILED";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct VsaStatement {
    #[serde(rename = "_type")]
    statement_type: &'static str,
    subject: Vec<Subject>,
    predicate_type: &'static str,
    predicate: Vsa,
}

/// The VSA predicate (what `actions/attest` signs with `predicate-type` [`VSA_PREDICATE`]).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Vsa {
    verifier: Verifier,
    time_verified: String,
    resource_uri: String,
    policy: Descriptor,
    input_attestations: Vec<Descriptor>,
    verification_result: &'static str,
    verified_levels: Vec<&'static str>,
    slsa_version: &'static str,
}

#[derive(Debug, Serialize)]
struct Verifier {
    id: String,
}

/// An in-toto ResourceDescriptor.
#[derive(Debug, Serialize)]
struct Descriptor {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<String>,
    digest: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<String>,
    #[serde(rename = "mediaType", skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
}

/// The VSA's subjects, resource and predicate for `m`, or `None` when the bundle has
/// none (no audit time recorded, or nothing released to name). `others` are the
/// bundle's other statements: (path, bytes).
pub fn vsa_statement(m: &Manifest, server_url: &str, others: &[(&str, &[u8])]) -> Option<Vec<u8>> {
    let time_verified = m.run.audited_at.clone()?;
    let (subject, resource_uri) = subject(m, server_url)?;
    let statement = VsaStatement {
        statement_type: STATEMENT_TYPE,
        subject,
        predicate_type: VSA_PREDICATE,
        predicate: predicate(m, time_verified, resource_uri, others),
    };
    let mut bytes = serde_json::to_vec_pretty(&statement).expect("the VSA serialises");
    bytes.push(b'\n');
    Some(bytes)
}

fn predicate(m: &Manifest, time_verified: String, resource_uri: String, others: &[(&str, &[u8])]) -> Vsa {
    let policy = policy_json(m);
    let sha256 = |bytes: &[u8]| BTreeMap::from([("sha256".to_string(), hex::encode(Sha256::digest(bytes)))]);
    let version = &m.tool.version;
    let input_attestations = others
        .iter()
        .map(|(path, bytes)| Descriptor {
            name: Some((*path).to_string()),
            uri: None,
            digest: sha256(bytes),
            content: None,
            media_type: Some("application/vnd.in-toto+json".into()),
        })
        .collect();
    let passed = m.verdict.result == VerdictResult::Passed;
    Vsa {
        verifier: Verifier { id: format!("{VERIFIER_REPOSITORY}@v{version}") },
        time_verified,
        resource_uri,
        policy: Descriptor {
            name: None,
            uri: Some(format!("{VERIFIER_REPOSITORY}/blob/v{version}/docs/vsa.md#policy")),
            digest: sha256(policy.as_bytes()),
            content: Some(base64::engine::general_purpose::STANDARD.encode(policy.as_bytes())),
            media_type: Some("application/json".into()),
        },
        input_attestations,
        verification_result: if passed { "PASSED" } else { "FAILED" },
        verified_levels: if passed { levels(m) } else { vec![LEVEL_FAILED] },
        slsa_version: "1.0",
    }
}

/// The released images (index and platform manifests, named as the tested subjects
/// are), with their repository as the resource; else the released commit.
fn subject(m: &Manifest, server_url: &str) -> Option<(Vec<Subject>, String)> {
    let mut subjects: Vec<Subject> = Vec::new();
    let mut repositories: Vec<String> = Vec::new();
    for pair in m.evidence.images.iter().flat_map(|i| &i.pairs) {
        let (Some(digest), Ok(image)) = (&pair.released.digest, ImageRef::parse(&pair.released.reference)) else {
            continue;
        };
        let name = image.name();
        let mut add = |n: String, hex: &str| {
            if !subjects.iter().any(|s| s.digest.get("sha256").is_some_and(|h| h == hex)) {
                subjects.push(Subject::image(&n, hex));
            }
        };
        add(name.clone(), digest.hex());
        for (platform, d) in pair.released.platforms.iter().filter(|(_, d)| *d != digest) {
            add(format!("{name} ({platform})"), d.hex());
        }
        if !repositories.contains(&name) {
            repositories.push(name);
        }
    }
    let repo = m.source.repository.as_deref();
    let source = repo.map(|r| format!("git+{server_url}/{r}"));
    if let [only] = repositories.as_slice() {
        return Some((subjects, format!("oci://{only}")));
    }
    let resource = match (&source, &m.source.git_ref, &m.source.commit) {
        (Some(s), Some(r), _) => format!("{s}@{r}"),
        (Some(s), None, Some(c)) => format!("{s}@{c}"),
        _ => return None,
    };
    if subjects.is_empty() {
        subjects.push(Subject::git_commit(source.as_deref()?, m.source.commit.as_deref()?));
    }
    Some((subjects, resource))
}

/// The levels that held, for a passed audit (see the `LEVEL_*` constants).
pub fn levels(m: &Manifest) -> Vec<&'static str> {
    let mut levels = Vec::new();
    if let Some(t) = &m.evidence.tests {
        use crate::evidence::test_reports::CategoryStatus;
        let strict = t.fail_on_test_failures && t.fail_on_missing_reports;
        let required: Vec<_> = t.categories.iter().filter(|c| c.required).collect();
        let all_passed = !required.is_empty() && required.iter().all(|c| c.status == CategoryStatus::Passed);
        let none_failed = t.categories.iter().all(|c| c.status != CategoryStatus::Failed);
        if strict && all_passed && none_failed && t.failures().is_empty() {
            levels.push(LEVEL_TESTS_PASSED);
        }
    }
    if let Some(i) = &m.evidence.images
        && i.policy != DigestPolicy::Record
        && !i.pairs.is_empty()
        && i.pairs.iter().all(|p| p.passed)
        && i.record_problems.is_empty()
    {
        levels.push(LEVEL_TESTED_IMAGE_RELEASED);
    }
    if let Some(c) = &m.evidence.changes {
        if c.reviewed_changes.held {
            levels.push(LEVEL_CHANGES_REVIEWED);
        }
        if c.release_approval.held {
            levels.push(LEVEL_RELEASE_APPROVED);
        }
    }
    levels
}

/// The gate's settings the verdict was reached under, as the manifest records them:
/// canonical JSON (object keys sorted by their bytes — all ASCII here, so as RFC 8785
/// sorts them — no insignificant whitespace). Its sha256 is the policy's digest.
pub fn policy_json(m: &Manifest) -> String {
    let mut policy = serde_json::Map::new();
    policy.insert("policy_version".into(), Value::from(1));
    if let Some(t) = &m.evidence.tests {
        let categories: Vec<Value> = t
            .categories
            .iter()
            .map(|c| {
                serde_json::json!({"category": c.category.as_str(), "patterns": c.patterns, "required": c.required})
            })
            .collect();
        policy.insert(
            "tests".into(),
            serde_json::json!({
                "categories": categories,
                "fail_on_flaky": t.fail_on_flaky,
                "fail_on_missing_reports": t.fail_on_missing_reports,
                "fail_on_test_failures": t.fail_on_test_failures,
            }),
        );
    }
    if let Some(i) = &m.evidence.images {
        let pairs: Vec<Value> = i
            .pairs
            .iter()
            .map(|p| {
                serde_json::json!({
                    "expected_digest": p.expected_digest.as_ref().map(ToString::to_string),
                    "name": p.name,
                    "released": p.released.reference,
                    "tested": p.tested.reference,
                })
            })
            .collect();
        let platforms: Vec<String> = i.platforms.iter().map(ToString::to_string).collect();
        policy.insert(
            "images".into(),
            serde_json::json!({"digest_policy": i.policy.as_str(), "pairs": pairs, "platforms": platforms}),
        );
    }
    if let Some(c) = &m.evidence.changes {
        policy.insert(
            "changes".into(),
            serde_json::json!({
                "require_release_approval": c.release_approval.required,
                "require_reviewed_changes": c.reviewed_changes.required,
            }),
        );
    }
    let mut out = String::new();
    canonical(&Value::Object(policy), &mut out);
    out
}

/// Writes `value` as canonical JSON: keys sorted, no whitespace.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// What `actions/attest` needs to sign the VSA for the released image: the predicate
/// alone (the action builds the statement around it), and the image's index as the one
/// subject a registry push takes (`registry/repository`, `sha256:<hex>`). `None` for a
/// VSA whose resource is not one image repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VsaSigning {
    pub predicate: Vec<u8>,
    pub subject_name: Option<String>,
    pub subject_digest: Option<String>,
}

/// Reads [`VsaSigning`] from the VSA statement's bytes (as [`vsa_statement`] wrote them).
pub fn signing(statement: &[u8]) -> Option<VsaSigning> {
    let value: Value = serde_json::from_slice(statement).ok()?;
    let mut predicate = serde_json::to_vec_pretty(value.get("predicate")?).ok()?;
    predicate.push(b'\n');
    let image = value["predicate"]["resourceUri"].as_str().and_then(|u| u.strip_prefix("oci://"));
    let first = &value["subject"][0];
    let (subject_name, subject_digest) = match (image, first["name"].as_str(), first["digest"]["sha256"].as_str()) {
        (Some(repo), Some(name), Some(hex)) if name == repo => (Some(name.to_string()), Some(format!("sha256:{hex}"))),
        _ => (None, None),
    };
    Some(VsaSigning { predicate, subject_name, subject_digest })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth_and_has_no_spaces() {
        let value = serde_json::json!({"b": [{"z": 1, "a": "x y"}], "a": null, "c": {"y": true, "x": false}});
        let mut out = String::new();
        canonical(&value, &mut out);
        assert_eq!(out, r#"{"a":null,"b":[{"a":"x y","z":1}],"c":{"x":false,"y":true}}"#);
    }
}
