//! Gate before, attach after: the audit step uploads the bundle artifact while no release
//! exists yet (Kyma's `create-release.yml` creates it with GoReleaser after the tests);
//! `release-audit attach`, a later step of the same run, takes that artifact, verifies it
//! and attaches the very same bytes to the release. Against the fake artifact and REST
//! services with a real Azurite behind them.

use release_audit_test_support::{FakeGitHub, Step, StepResult};
use sha2::Digest;

use crate::binary;

async fn fake() -> FakeGitHub {
    release_audit::http::Net::default(); // the fake's own reqwest needs the TLS provider installed
    FakeGitHub::start().await
}

/// The audit of 1.2.3, gating: no release exists, nothing is attached.
async fn audit(fake: &FakeGitHub) -> (Step, StepResult) {
    let mut step = Step::with_fake(fake);
    step.input("release-version", "1.2.3").input("required-reports", "none");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    (step, result)
}

async fn attach(fake: &FakeGitHub, inputs: &[(&str, &str)]) -> StepResult {
    let mut step = Step::with_fake(fake);
    step.input("github-token", &fake.rest_token);
    for (name, value) in inputs {
        step.input(name, value);
    }
    step.run(&binary(), &["attach"]).await
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_uploaded_bundle_is_attached_byte_for_byte_once_the_release_exists() {
    let fake = fake().await;
    let (step, audited) = audit(&fake).await;
    let zip = std::fs::read(step.resolve(&audited.outputs["bundle-path"])).unwrap();
    assert_eq!(audited.outputs["bundle-sha256"], sha256_hex(&zip));

    // The release is created after the audit (GoReleaser's job), then attach runs.
    let release = fake.add_release("1.2.3", false);
    let attached = attach(&fake, &[("bundle-name", "audit-bundle-1.2.3"), ("release-tag", "1.2.3")]).await;
    assert_eq!(attached.code, 0, "{}\n{}", attached.stdout, attached.stderr);

    let assets = fake.release_assets(release);
    let names: Vec<&str> = assets.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["audit-bundle-1.2.3.zip", "audit-bundle-1.2.3.SHA256SUMS"]);
    assert!(assets[0].bytes == zip, "the attached zip is the uploaded artifact, byte for byte");
    let sums = String::from_utf8(assets[1].bytes.clone()).unwrap();
    assert_eq!(sums.lines().next().unwrap(), format!("{}  audit-bundle-1.2.3.zip", sha256_hex(&zip)));
    assert!(sums.contains("  audit-bundle-1.2.3/manifest.json"), "{sums}");
    assert_eq!(attached.outputs["bundle-sha256"], sha256_hex(&zip));
    assert_eq!(attached.outputs["verdict"], "passed");
    let urls: Vec<&str> = attached.outputs["asset-urls"].lines().collect();
    assert!(urls[0].ends_with("/releases/download/1.2.3/audit-bundle-1.2.3.zip"), "{urls:?}");
    assert!(attached.stdout.contains("attached: audit-bundle-1.2.3.zip"), "{}", attached.stdout);

    // The same SHA256SUMS as `release-asset: true` writes beside the bundle.
    let here = step.resolve(&audited.outputs["bundle-path"]).parent().unwrap().to_path_buf();
    std::fs::write(here.join("attached.SHA256SUMS"), &sums).unwrap();
    let check = std::process::Command::new("sha256sum")
        .args(["-c", "--strict", "attached.SHA256SUMS"])
        .current_dir(&here)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));

    // Once attached, again without overwrite: refused, nothing replaced.
    let again = attach(&fake, &[("bundle-name", "audit-bundle-1.2.3"), ("release-tag", "1.2.3")]).await;
    assert_eq!(again.code, 3, "{}", again.stderr);
    assert!(again.stderr.contains("already has the asset"), "{}", again.stderr);
}

/// A bundle artifact whose contents were changed after the audit (its hashes no longer
/// hold) is refused, and the release keeps no asset.
#[tokio::test(flavor = "multi_thread")]
async fn a_bundle_that_does_not_verify_is_not_attached() {
    let fake = fake().await;
    let (step, audited) = audit(&fake).await;
    let bundle = step.resolve(&audited.outputs["bundle-path"]);
    let work = tempfile::tempdir().unwrap();
    let unzip = std::process::Command::new("unzip").arg("-q").arg(&bundle).arg("-d").arg(work.path()).status().unwrap();
    assert!(unzip.success());
    let summary = work.path().join("audit-bundle-1.2.3/summary.md");
    let text = std::fs::read_to_string(&summary).unwrap();
    std::fs::write(&summary, text.replace("passed", "PASSED")).unwrap();
    let forged = work.path().join("forged.zip");
    let zipped = std::process::Command::new("zip")
        .args(["-q", "-r", "-X"])
        .arg(&forged)
        .arg("audit-bundle-1.2.3")
        .current_dir(work.path())
        .status()
        .unwrap();
    assert!(zipped.success());
    fake.seed_artifact(&fake.run_backend_id, "audit-bundle-forged", &std::fs::read(&forged).unwrap()).await;

    let release = fake.add_release("1.2.3", false);
    let attached = attach(&fake, &[("bundle-name", "audit-bundle-forged"), ("release-tag", "1.2.3")]).await;
    assert_eq!(attached.code, 3, "{}\n{}", attached.stdout, attached.stderr);
    assert!(
        attached.stderr.contains("does not verify") && attached.stderr.contains("nothing was attached"),
        "{}",
        attached.stderr
    );
    assert!(attached.stderr.contains("summary.md"), "the problem names the changed file: {}", attached.stderr);
    assert!(fake.release_assets(release).is_empty(), "nothing reached the release");
}

/// A Sigstore bundle (v0.3, DSSE) as `actions/attest` writes it, around `statement`; the
/// signature is not checked by `attach` (it reads what was signed), so a stand-in will do.
pub(crate) fn sigstore_bundle(dir: &std::path::Path, file: &str, statement: &serde_json::Value) -> std::path::PathBuf {
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(statement).unwrap());
    let bundle = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"certificate": {"rawBytes": "AA=="}, "tlogEntries": []},
        "dsseEnvelope": {"payload": payload, "payloadType": "application/vnd.in-toto+json", "signatures": [{"sig": "AA=="}]}
    });
    let path = dir.join(file);
    std::fs::write(&path, serde_json::to_vec(&bundle).unwrap()).unwrap();
    path
}

/// After signing (the reusable workflow's `sign: true`), `attach` puts the Sigstore
/// bundles of the zip and of its VSA beside the zip, named after it — and refuses one
/// that signs something else, attaching nothing.
#[tokio::test(flavor = "multi_thread")]
async fn the_sigstore_bundles_of_the_zip_and_its_vsa_are_attached_beside_it() {
    let fake = fake().await;
    let (step, audited) = audit(&fake).await;
    let zip = std::fs::read(step.resolve(&audited.outputs["bundle-path"])).unwrap();
    let predicate: serde_json::Value =
        serde_json::from_slice(&std::fs::read(step.resolve(&audited.outputs["vsa-predicate-path"])).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let provenance = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "audit-bundle-1.2.3.zip", "digest": {"sha256": sha256_hex(&zip)}}],
        "predicateType": "https://slsa.dev/provenance/v1", "predicate": {}
    });
    let vsa = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "ghcr.io/o/app", "digest": {"sha256": "0".repeat(64)}}],
        "predicateType": "https://slsa.dev/verification_summary/v1", "predicate": predicate
    });
    let of_zip = sigstore_bundle(dir.path(), "attestation-1.json", &provenance);
    let of_vsa = sigstore_bundle(dir.path(), "attestation-2.json", &vsa);
    let mut forged_vsa = vsa.clone();
    forged_vsa["predicate"]["verificationResult"] = "FAILED".into();
    let of_other = sigstore_bundle(dir.path(), "attestation-3.json", &forged_vsa);

    let release = fake.add_release("1.2.3", false);
    let base = [("bundle-name", "audit-bundle-1.2.3"), ("release-tag", "1.2.3")];
    let other = format!("{}\n{}", of_zip.display(), of_other.display());
    let refused = attach(&fake, &[&base[..], &[("sigstore-bundles", other.as_str())][..]].concat()).await;
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(refused.stderr.contains("signs neither the bundle zip"), "{}", refused.stderr);
    assert!(refused.stderr.contains("attestation-3.json"), "names the file: {}", refused.stderr);
    assert!(fake.release_assets(release).is_empty(), "nothing reached the release");

    let both = format!("{}\n{}", of_vsa.display(), of_zip.display());
    let attached = attach(&fake, &[&base[..], &[("sigstore-bundles", both.as_str())][..]].concat()).await;
    assert_eq!(attached.code, 0, "{}\n{}", attached.stdout, attached.stderr);
    let assets = fake.release_assets(release);
    let names: Vec<&str> = assets.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "audit-bundle-1.2.3.zip",
            "audit-bundle-1.2.3.SHA256SUMS",
            "audit-bundle-1.2.3.vsa.sigstore.json",
            "audit-bundle-1.2.3.sigstore.json"
        ]
    );
    assert!(assets[3].bytes == std::fs::read(&of_zip).unwrap(), "the zip's Sigstore bundle, as signed");
    assert!(assets[2].bytes == std::fs::read(&of_vsa).unwrap(), "the VSA's Sigstore bundle, as signed");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_pieces_are_named() {
    let fake = fake().await;
    fake.add_release("1.2.3", false);
    let none = attach(&fake, &[("bundle-name", "audit-bundle-1.2.3"), ("release-tag", "1.2.3")]).await;
    assert_eq!(none.code, 3, "{}", none.stderr);
    assert!(none.stderr.contains("this run has no artifact named `audit-bundle-1.2.3`"), "{}", none.stderr);

    let nowhere = attach(&fake, &[("bundle-name", "audit-bundle-1.2.3")]).await;
    assert_eq!(nowhere.code, 2, "{}", nowhere.stderr);
    assert!(
        nowhere.stderr.contains("input `release-tag`: and `storage-url` are both empty"),
        "one of the two is needed: {}",
        nowhere.stderr
    );
    let nothing_to_store = attach(
        &fake,
        &[
            ("bundle-name", "audit-bundle-1.2.3"),
            ("storage-url", "gs://bucket/p/"),
            ("storage-credentials", "access-token=t"),
        ],
    )
    .await;
    assert_eq!(nothing_to_store.code, 2, "{}", nothing_to_store.stderr);
    assert!(
        nothing_to_store.stderr.contains("input `sigstore-bundles`: is empty, but `storage-url` is set"),
        "{}",
        nothing_to_store.stderr
    );

    let bad_tag = attach(&fake, &[("bundle-name", "b"), ("release-tag", "1.2..3")]).await;
    assert_eq!(bad_tag.code, 2, "{}", bad_tag.stderr);
    assert!(bad_tag.stderr.contains("is not a git tag name"), "{}", bad_tag.stderr);

    // No release yet: the audit gated it, attach must wait for it.
    let (_, _) = audit(&fake).await;
    let early = attach(&fake, &[("bundle-name", "audit-bundle-1.2.3"), ("release-tag", "2.0.0")]).await;
    assert_eq!(early.code, 3, "{}", early.stderr);
    assert!(early.stderr.contains("2.0.0"), "the error names the tag: {}", early.stderr);
}

#[test]
fn the_attach_action_runs_the_same_image_and_declares_exactly_the_inputs_read() {
    let read = |path: &str| -> serde_norway::Value {
        serde_norway::from_str(&std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap())
            .unwrap()
    };
    let (sub, main) = (read("attach/action.yml"), read("action.yml"));
    assert_eq!(sub["runs"]["using"], "docker");
    assert_eq!(sub["runs"]["image"], main["runs"]["image"], "attach/ and the audit action are released on one image");
    assert_eq!(sub["runs"]["args"], serde_norway::from_str::<serde_norway::Value>("['attach']").unwrap());
    let mut declared: Vec<String> =
        sub["inputs"].as_mapping().unwrap().keys().map(|k| k.as_str().unwrap().to_string()).collect();
    let mut names: Vec<String> = release_audit::config::attach::INPUT_NAMES.iter().map(|s| s.to_string()).collect();
    declared.sort();
    names.sort();
    assert_eq!(declared, names);
    for name in &declared {
        assert!(sub["inputs"][name.as_str()]["description"].as_str().is_some_and(|d| !d.is_empty()), "{name}");
    }
    assert_eq!(sub["inputs"]["github-token"]["default"], "${{ github.token }}");
    let mut outputs: Vec<&str> = sub["outputs"].as_mapping().unwrap().keys().map(|k| k.as_str().unwrap()).collect();
    outputs.sort();
    assert_eq!(
        outputs,
        ["asset-urls", "bundle-sha256", "storage-locks", "storage-urls", "verdict"],
        "every output `attach` writes is declared"
    );
}
