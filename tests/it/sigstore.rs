//! `verify --sigstore-bundle`: real GitHub-issued Sigstore bundles verify offline, with the
//! network namespace cut off, and altered copies are refused with a reason naming what
//! failed (issue 20 item 3).
//!
//! The bundles are the `sigstore-verify` crate's published `test_data/`, read from where
//! cargo unpacked the crate (a dependency, so every machine that builds this has it), not
//! copied here: the public-good instance's GitHub Actions attestation of a conda package
//! (the package is there too), and GitHub's own instance's release attestation of a
//! jdx/communique asset (only its digest is known, so that one is checked through the
//! library, in a child of this test binary that runs under `unshare -n` as well).

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

const CONDA: &str = "bundles/signed-package-2.1.0-hb0f4dca_0.conda";
const CONDA_BUNDLE: &str = "bundles/conda-attestation.sigstore.json";
const CONDA_REPO: &str = "prefix-dev/sigstore-example";
const CONDA_WORKFLOW: &str = "prefix-dev/sigstore-example/.github/workflows/action.yaml";
const GITHUB_BUNDLE: &str = "bundles/github-private-attestation.sigstore.json";
const GITHUB_SUBJECT: &str = "76f1fe8593bf227cca2c089e3c16dc95014a8d3e89c5dd220530469ca043c428";

/// The `sigstore-verify` version Cargo.lock pins.
fn locked_version() -> String {
    let lock = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock")).unwrap();
    let at = lock.find("name = \"sigstore-verify\"\nversion = \"").expect("Cargo.lock pins sigstore-verify");
    let rest = &lock[at + "name = \"sigstore-verify\"\nversion = \"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// `sigstore-verify`'s test_data/, where cargo unpacked the crate.
fn test_data() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cargo"));
    let name = format!("sigstore-verify-{}", locked_version());
    let src = home.join("registry/src");
    let found = std::fs::read_dir(&src)
        .unwrap_or_else(|e| panic!("{}: {e}: cargo has unpacked no crates there", src.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.path().join(&name).join("test_data"))
        .find(|p| p.is_dir());
    found.unwrap_or_else(|| panic!("{name}/test_data not found under {}: run `cargo fetch`", src.display()))
}

/// How to cut the network here: `unshare -n` as root, else in a user namespace.
fn unshare_args() -> &'static [&'static str] {
    static ARGS: std::sync::OnceLock<&'static [&'static str]> = std::sync::OnceLock::new();
    ARGS.get_or_init(|| {
        for args in [&["-n"][..], &["-r", "-n"][..]] {
            let out = Command::new("unshare").args(args).args(["cat", "/proc/net/dev"]).output();
            let Ok(out) = out else { continue };
            let devices = String::from_utf8_lossy(&out.stdout);
            let interfaces: Vec<&str> =
                devices.lines().skip(2).filter_map(|l| l.split(':').next()).map(str::trim).collect();
            if out.status.success() && interfaces == ["lo"] {
                return args;
            }
        }
        panic!("cannot cut the network off: `unshare -n` failed (run as root, or install util-linux)");
    })
}

/// Runs the binary with `args` under `unshare -n`: (exit code, stdout + stderr).
fn offline(args: &[&str]) -> (i32, String) {
    let out = Command::new("unshare")
        .args(unshare_args())
        .arg("--")
        .arg(crate::binary())
        .args(args)
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// A scratch copy of the conda package, and the path for its bundle beside it.
fn conda_copy(dir: &Path) -> (PathBuf, PathBuf) {
    let file = dir.join("signed-package-2.1.0-hb0f4dca_0.conda");
    std::fs::copy(test_data().join(CONDA), &file).unwrap();
    (file.clone(), dir.join("signed-package-2.1.0-hb0f4dca_0.conda.sigstore.json"))
}

fn conda_bundle() -> Value {
    serde_json::from_slice(&std::fs::read(test_data().join(CONDA_BUNDLE)).unwrap()).unwrap()
}

fn write_json(path: &Path, v: &Value) -> String {
    std::fs::write(path, serde_json::to_vec(v).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

/// `verify FILE --signature-only --sigstore-bundle BUNDLE ARGS…`, offline.
fn check(file: &Path, bundle: &str, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["verify", file.to_str().unwrap(), "--signature-only", "--sigstore-bundle", bundle];
    args.extend_from_slice(extra);
    offline(&args)
}

fn refused(out: &(i32, String), reason: &str) {
    assert_eq!(out.0, 1, "{}", out.1);
    assert!(out.1.contains("signature: FAILED"), "{}", out.1);
    assert!(out.1.contains(reason), "expected the reason {reason:?}:\n{}", out.1);
}

#[test]
fn a_public_good_github_actions_attestation_verifies_offline() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = conda_copy(dir.path());
    let bundle = test_data().join(CONDA_BUNDLE);
    let bundle = bundle.to_str().unwrap();
    let (code, out) = check(&file, bundle, &["--repo", CONDA_REPO]);
    assert_eq!(code, 0, "{out}");
    for said in [
        "signature: VERIFIED offline",
        "against Sigstore's public-good instance",
        "subject: the signed in-toto statement names this file (sha256 54303491a8418fbed24344b513546182c29b43bf282ceb433af65e2299f9271f)",
        "chains to CN=sigstore-intermediate,O=sigstore.dev",
        "was valid at 2025-09-01T12:13:59Z",
        "proven by the transparency log entry's integrated time",
        "transparency log: the entry for this signature is in https://rekor.sigstore.dev",
        "certificate transparency: the certificate's SCT verifies",
        "signer: the workflow https://github.com/prefix-dev/sigstore-example/.github/workflows/action.yaml@refs/heads/main",
        "commit 193b5bd7d3985809503963ae400594ea16df31cf",
        "what this offline check cannot establish:",
        "revocation:",
        "log consistency:",
    ] {
        assert!(out.contains(said), "missing {said:?}:\n{out}");
    }
    // The same identity given other ways gh accepts it.
    for flags in [
        &["--owner", "prefix-dev"][..],
        &["--signer-workflow", CONDA_WORKFLOW],
        &["--signer-workflow", &format!("{CONDA_WORKFLOW}@refs/heads/main")],
        &["--signer-workflow", &format!("https://github.com/{CONDA_WORKFLOW}"), "--repo", CONDA_REPO],
    ] {
        let (code, out) = check(&file, bundle, flags);
        assert_eq!(code, 0, "{flags:?}: {out}");
    }
    // The same attestation in the v0.2 and v0.1 bundle forms (media type, and the
    // certificate as a one-certificate chain; the signed content is unchanged).
    for version in ["0.2", "0.1"] {
        let mut v = conda_bundle();
        v["mediaType"] = Value::String(format!("application/vnd.dev.sigstore.bundle+json;version={version}"));
        let material = v["verificationMaterial"].as_object_mut().unwrap();
        let cert = material.remove("certificate").unwrap();
        material.insert("x509CertificateChain".into(), serde_json::json!({ "certificates": [cert] }));
        let older = write_json(&file.with_extension(format!("v{version}.json")), &v);
        let (code, out) = check(&file, &older, &["--repo", CONDA_REPO]);
        assert_eq!(code, 0, "v{version}: {out}");
    }
    // `--json` says the same for a machine.
    let (code, out) = check(&file, bundle, &["--repo", CONDA_REPO, "--json"]);
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(v["signer"]["repository"], "https://github.com/prefix-dev/sigstore-example");
    assert_eq!(v["signer"]["signed_at"], "2025-09-01T12:13:59Z");
}

#[test]
fn the_bundle_beside_the_zip_is_found_and_a_newer_root_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let (file, beside) = conda_copy(dir.path());
    std::fs::copy(test_data().join(CONDA_BUNDLE), &beside).unwrap();
    let file = file.to_str().unwrap();
    let (code, out) = offline(&[
        "verify",
        file,
        "--signature-only",
        "--sigstore-bundle",
        beside.to_str().unwrap(),
        "--repo",
        CONDA_REPO,
    ]);
    assert_eq!(code, 0, "{out}");
    // Without --sigstore-bundle, the .sigstore.json beside the file is checked (here the
    // file is no audit bundle: the signature verified, then the contents are refused).
    let (code, out) = offline(&["verify", file, "--repo", CONDA_REPO]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("signature: VERIFIED offline") && out.contains("is not an audit bundle"), "{out}");
    // A signature beside the zip with no expected signer proves nothing: refused.
    let (code, out) = offline(&["verify", file, "--signature-only"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("signer identity: no expected signer was given; pass --owner, --repo or --signer-workflow"),
        "{out}"
    );
    // `gh attestation trusted-root` prints JSON lines: the roots it names replace the built-in ones.
    let roots = test_data().join("trusted_roots/public-good.json");
    let root: Value = serde_json::from_slice(&std::fs::read(roots).unwrap()).unwrap();
    let jsonl = dir.path().join("roots.jsonl");
    std::fs::write(&jsonl, format!("{}\n{}\n", serde_json::to_string(&root).unwrap(), github_root_line())).unwrap();
    let (code, out) = check(
        Path::new(file),
        beside.to_str().unwrap(),
        &["--repo", CONDA_REPO, "--trusted-root", jsonl.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("roots: whether the roots in") && out.contains("(--trusted-root) are still current"), "{out}");
}

/// An audit bundle zip with a signature beside it that is for another file: both the
/// signature's failure and the contents' verdict are said, and the exit code is 1.
#[test]
fn an_audit_bundle_with_a_signature_for_another_file_fails() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report/bundle");
    let mut files = Vec::new();
    let mut stack = vec![fixture.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(&fixture).unwrap().to_str().unwrap().to_string();
                files.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let entries: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let zip = dir.path().join("audit-bundle-1.2.3.zip");
    std::fs::write(&zip, release_audit_test_support::zip_bytes(&entries)).unwrap();
    // Beside it as the workflow stores it: <bundle-name>.sigstore.json.
    std::fs::copy(test_data().join(CONDA_BUNDLE), dir.path().join("audit-bundle-1.2.3.sigstore.json")).unwrap();
    let (code, out) = offline(&["verify", zip.to_str().unwrap(), "--repo", CONDA_REPO]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("signature: FAILED") && out.contains("subject: the signed statement names sha256 54303491"),
        "{out}"
    );
    assert!(out.contains("audit-bundle-1.2.3.zip —"), "{out}");
}

/// GitHub's root as one JSON line, from the crate's test data.
fn github_root_line() -> String {
    let root: Value =
        serde_json::from_slice(&std::fs::read(test_data().join("timestamps/github_trusted_root.json")).unwrap())
            .unwrap();
    serde_json::to_string(&root).unwrap()
}

#[test]
fn an_altered_subject_signature_or_identity_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = conda_copy(dir.path());
    let bundle = test_data().join(CONDA_BUNDLE);
    let bundle = bundle.to_str().unwrap();
    let repo = ["--repo", CONDA_REPO];

    // Subject: another file (one byte appended) is not what was signed.
    let other = dir.path().join("other.conda");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.push(b'\n');
    std::fs::write(&other, bytes).unwrap();
    refused(&check(&other, bundle, &repo), "subject: the signed statement names sha256 54303491");

    // Subject: the statement edited to name the other file breaks the signature over it.
    let mut v = conda_bundle();
    let payload = B64.decode(v["dsseEnvelope"]["payload"].as_str().unwrap()).unwrap();
    let mut statement: Value = serde_json::from_slice(&payload).unwrap();
    let other_sha = release_audit::hashing::Tally::new();
    let mut other_sha = other_sha;
    other_sha.update(&std::fs::read(&other).unwrap());
    statement["subject"][0]["digest"]["sha256"] = Value::String(other_sha.finish().1);
    v["dsseEnvelope"]["payload"] = Value::String(B64.encode(serde_json::to_vec(&statement).unwrap()));
    let edited = write_json(&dir.path().join("subject.json"), &v);
    let out = check(&other, &edited, &repo);
    assert_eq!(out.0, 1, "{}", out.1);
    assert!(
        out.1.contains("signature: FAILED")
            && (out.1.contains("signature:") || out.1.contains("transparency log entry:")),
        "{}",
        out.1
    );

    // Signature: one bit of the DSSE signature flipped.
    let mut v = conda_bundle();
    let mut sig = B64.decode(v["dsseEnvelope"]["signatures"][0]["sig"].as_str().unwrap()).unwrap();
    let last = sig.len() - 3;
    sig[last] ^= 1;
    v["dsseEnvelope"]["signatures"][0]["sig"] = Value::String(B64.encode(sig));
    refused(&check(&file, &write_json(&dir.path().join("sig.json"), &v), &repo), "signature:");

    // Identity: another repository, owner, workflow or token issuer is not the signer.
    refused(
        &check(&file, bundle, &["--repo", "prefix-dev/other"]),
        "signer identity: the certificate's source repository is https://github.com/prefix-dev/sigstore-example, not https://github.com/prefix-dev/other (--repo)",
    );
    refused(&check(&file, bundle, &["--owner", "kyma-project"]), "(--owner)");
    refused(
        &check(&file, bundle, &["--signer-workflow", &format!("{CONDA_WORKFLOW}@refs/tags/v1")]),
        "signer identity: the certificate was issued to the workflow https://github.com/prefix-dev/sigstore-example/.github/workflows/action.yaml@refs/heads/main",
    );
    refused(
        &check(&file, bundle, &["--repo", CONDA_REPO, "--cert-oidc-issuer", "https://accounts.google.com"]),
        "signer identity: issuer mismatch",
    );

    // Identity: the certificate itself altered (a byte of its signature) no longer chains.
    let mut v = conda_bundle();
    let mut cert = B64.decode(v["verificationMaterial"]["certificate"]["rawBytes"].as_str().unwrap()).unwrap();
    let last = cert.len() - 5;
    cert[last] ^= 1;
    v["verificationMaterial"]["certificate"]["rawBytes"] = Value::String(B64.encode(cert));
    refused(&check(&file, &write_json(&dir.path().join("cert.json"), &v), &repo), "certificate chain:");
}

#[test]
fn a_signing_time_outside_the_windows_or_a_root_without_the_ca_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = conda_copy(dir.path());
    let repo = ["--repo", CONDA_REPO];

    // The log's time moved a day past the certificate's ten minutes: the log's signed
    // promise no longer covers it, so the time is not proven and nothing is accepted.
    let mut v = conda_bundle();
    let entry = &mut v["verificationMaterial"]["tlogEntries"][0];
    let time: i64 = entry["integratedTime"].as_str().unwrap().parse().unwrap();
    entry["integratedTime"] = Value::String((time + 86_400).to_string());
    let out = check(&file, &write_json(&dir.path().join("time.json"), &v), &repo);
    refused(
        &out,
        "transparency log entry: its signed promise (SET) does not cover the entry as it is: its integrated time (the signing time)",
    );

    // The signing time outside the CA's window in the root: a root whose Fulcio CA's
    // validity ended before the signature was made.
    let mut root: Value =
        serde_json::from_slice(&std::fs::read(test_data().join("trusted_roots/public-good.json")).unwrap()).unwrap();
    for ca in root["certificateAuthorities"].as_array_mut().unwrap() {
        ca["validFor"] = serde_json::json!({"start": "2021-03-07T03:20:29Z", "end": "2025-01-01T00:00:00Z"});
    }
    let ended = write_json(&dir.path().join("ended.json"), &root);
    let bundle = test_data().join(CONDA_BUNDLE);
    refused(
        &check(&file, bundle.to_str().unwrap(), &["--repo", CONDA_REPO, "--trusted-root", &ended]),
        "signing time outside the CA's validity",
    );

    // A root without the CA that issued the certificate (GitHub's alone).
    let github_only = dir.path().join("github-only.jsonl");
    std::fs::write(&github_only, github_root_line() + "\n").unwrap();
    refused(
        &check(
            &file,
            bundle.to_str().unwrap(),
            &["--repo", CONDA_REPO, "--trusted-root", github_only.to_str().unwrap()],
        ),
        "certificate chain: no trusted root carries the CA that issued the signing certificate (CN=sigstore-intermediate,O=sigstore.dev)",
    );
    // The public-good root with its CAs removed.
    root["certificateAuthorities"] = serde_json::json!([]);
    let no_ca = write_json(&dir.path().join("no-ca.json"), &root);
    refused(
        &check(&file, bundle.to_str().unwrap(), &["--repo", CONDA_REPO, "--trusted-root", &no_ca]),
        "no trusted root carries the CA that issued the signing certificate",
    );
}

/// A timestamp that is genuinely signed but outside the certificate's validity: no real
/// instance signs one for a test, so `tests/fixtures/sigstore/make.sh` made a trust domain
/// of its own (a CA and a TSA, keys thrown away) and two bundles over `artifact.txt`, one
/// by a certificate valid at the timestamp (the control) and one by a certificate that
/// expired in 2024.
#[test]
fn a_timestamp_outside_the_certificates_validity_is_refused() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sigstore");
    let file = fixtures.join("artifact.txt");
    let root = fixtures.join("trusted_root.json");
    let args = |bundle: &str| {
        let bundle = fixtures.join(bundle);
        check(&file, bundle.to_str().unwrap(), &["--repo", "octo/app", "--trusted-root", root.to_str().unwrap()])
    };
    let (code, out) = args("in-window.sigstore.json");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("proven by an RFC 3161 timestamp signed by the root's timestamp authority"), "{out}");
    refused(
        &args("expired.sigstore.json"),
        "signing time outside the certificate's validity: the certificate is valid 2024-01-01T00:00:00Z to 2024-01-01T00:10:00Z, and the time the bundle proves it was signed is not in it",
    );
    // Without --trusted-root, the built-in roots do not carry this CA.
    let bundle = fixtures.join("in-window.sigstore.json");
    refused(
        &check(&file, bundle.to_str().unwrap(), &["--repo", "octo/app"]),
        "certificate chain: no trusted root carries the CA that issued the signing certificate (CN=test fulcio,O=release-audit test)",
    );
}

/// GitHub's instance: a release attestation (GitHub's release service signs which
/// release holds an asset; timestamped by GitHub's TSA, no public log). Only the asset's
/// digest is published, so the library is called with it — in a child of this test
/// binary run with the network cut off.
#[test]
fn a_github_instance_attestation_verifies_offline() {
    if std::env::var_os("RA_SIGSTORE_OFFLINE_CHILD").is_none() {
        let name = "sigstore::a_github_instance_attestation_verifies_offline";
        let out = Command::new("unshare")
            .args(unshare_args())
            .arg("--")
            .arg(std::env::current_exe().unwrap())
            .args([name, "--exact", "--nocapture", "--test-threads", "1"])
            .env("RA_SIGSTORE_OFFLINE_CHILD", "1")
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && text.contains("1 passed"), "the offline child failed:\n{text}");
        return;
    }
    use release_audit::verify::sigstore::{Expected, Roots, check};
    let json = std::fs::read_to_string(test_data().join(GITHUB_BUNDLE)).unwrap();
    let mut sha = [0u8; 32];
    hex::decode_to_slice(GITHUB_SUBJECT, &mut sha).unwrap();
    let expect = |repo: &str| Expected {
        repo: Some(repo.into()),
        issuer: "https://token.actions.githubusercontent.com".into(),
        ..Expected::default()
    };
    let c = check(sha, &json, "b", &expect("jdx/communique"), &Roots::embedded());
    assert!(c.verified, "{:?}", c.failure);
    assert_eq!(c.instance.as_deref(), Some("GitHub's Sigstore instance"));
    let text = c.holds.join("\n") + &c.not_established.join("\n");
    for said in [
        "chains to CN=Fulcio Intermediate l1,O=GitHub\\, Inc.",
        "proven by an RFC 3161 timestamp signed by the root's timestamp authority",
        "GitHub's release service (https://dotcom.releases.github.com) attests that the release https://github.com/jdx/communique at refs/tags/v0.1.9 holds this file",
        "transparency log: GitHub's Sigstore instance keeps no public log",
    ] {
        assert!(text.contains(said), "missing {said:?}:\n{text}");
    }
    // Refused: another repository, another file, a root without GitHub's CA.
    let other = check(sha, &json, "b", &expect("jdx/other"), &Roots::embedded());
    assert!(
        other
            .failure
            .unwrap()
            .contains("the release attestation is for the repository jdx/communique, not jdx/other (--repo)")
    );
    let wrong = check([7; 32], &json, "b", &expect("jdx/communique"), &Roots::embedded());
    assert!(wrong.failure.unwrap().starts_with("subject: the signed statement names sha256"));
    let dir = tempfile::tempdir().unwrap();
    let public_only = dir.path().join("public.json");
    std::fs::copy(test_data().join("trusted_roots/public-good.json"), &public_only).unwrap();
    let roots = Roots::from_file(&public_only).unwrap();
    let no_ca = check(sha, &json, "b", &expect("jdx/communique"), &roots);
    assert!(
        no_ca
            .failure
            .unwrap()
            .contains("no trusted root carries the CA that issued the signing certificate (CN=Fulcio Intermediate l1")
    );
    // The TSA's signature covers the time: an altered timestamp token is refused.
    let mut v: Value = serde_json::from_str(&json).unwrap();
    let token = &mut v["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"];
    let mut der = B64.decode(token.as_str().unwrap()).unwrap();
    let at = der.len() - 4;
    der[at] ^= 1;
    *token = Value::String(B64.encode(der));
    let tsa = check(sha, &serde_json::to_string(&v).unwrap(), "b", &expect("jdx/communique"), &Roots::embedded());
    assert!(tsa.failure.as_deref().unwrap_or("").starts_with("signing time:"), "{:?}", tsa.failure);
}

/// `gh attestation download` writes JSON lines, one bundle per attestation of the file:
/// the one that verifies is taken; else the reason is the one about this file.
#[test]
fn json_lines_of_bundles_are_checked_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = conda_copy(dir.path());
    let compact = |v: &Value| serde_json::to_string(v).unwrap();
    let github: Value = serde_json::from_slice(&std::fs::read(test_data().join(GITHUB_BUNDLE)).unwrap()).unwrap();
    let jsonl = dir.path().join("sha256.jsonl");
    std::fs::write(&jsonl, format!("{}\n{}\n", compact(&github), compact(&conda_bundle()))).unwrap();
    let (code, out) = check(&file, jsonl.to_str().unwrap(), &["--repo", CONDA_REPO]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("against Sigstore's public-good instance"), "{out}");
    let mut altered = conda_bundle();
    altered["dsseEnvelope"]["signatures"][0]["sig"] = Value::String(B64.encode([0x30, 0x06, 2, 1, 1, 2, 1, 1]));
    std::fs::write(&jsonl, format!("{}\n{}\n", compact(&github), compact(&altered))).unwrap();
    refused(&check(&file, jsonl.to_str().unwrap(), &["--repo", CONDA_REPO]), "line 2: signature:");
}
