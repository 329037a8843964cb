//! `release-audit verify` on bundles the action wrote, intact and tampered with.

use release_audit_test_support::copy_dir;
use std::path::{Path, PathBuf};
use std::process::Command;

use release_audit_test_support::{FakeGitHub, Step, zip_bytes};

use crate::binary;

const REPORT: &str = r#"<testsuites><testsuite name="e2e" tests="3" failures="1"><testcase name="a"/><testcase name="b"/><testcase name="c"><failure message="boom">boom</failure></testcase></testsuite></testsuites>"#;

/// Writes a bundle with test evidence (one failed test: verdict `failed`); returns the
/// step (kept alive for its files) and the bundle zip path.
async fn bundle() -> (Step, PathBuf) {
    let fake = FakeGitHub::start().await;
    let report = zip_bytes(&[("junit.xml", REPORT.as_bytes())]);
    let step = release_audit_test_support::step::e2e_audit_step(&fake, "9.9.9", &report).await;
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "the evidence holds a failed test: {}", result.stderr);
    let zip = step.resolve(&result.outputs["bundle-path"]);
    (step, zip)
}

fn verify(path: &Path) -> (i32, String) {
    let out = Command::new(binary()).arg("verify").arg(path).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Rewrites SHA256SUMS so that it matches the files again (a careful forger).
fn fix_up_sums(dir: &Path) {
    let out = Command::new("bash")
        .arg("-c")
        .arg("find . -type f ! -name SHA256SUMS | sed 's|^./||' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS")
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(out.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_intact_bundle_verifies_as_zip_and_as_directory() {
    let (_step, zip) = bundle().await;
    let (code, out) = verify(&zip);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("OK: ") && out.contains("release 9.9.9, verdict failed"), "{out}");
    let (code, out) = verify(&zip.with_extension(""));
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_of_tampering_is_named() {
    let (step, zip) = bundle().await;
    let original = zip.with_extension("");
    let work = step.path("tamper");
    let report = "reports/e2e/pr-e2e-report/junit.xml";

    let case = |name: &str| {
        let dir = work.join(name).join("audit-bundle-9.9.9");
        copy_dir(&original, &dir);
        dir
    };

    // One byte changed in a report.
    let dir = case("byte");
    let mut bytes = std::fs::read(dir.join(report)).unwrap();
    bytes[10] ^= 1;
    std::fs::write(dir.join(report), bytes).unwrap();
    let (code, out) = verify(&dir);
    assert_eq!(code, 1);
    assert!(out.contains(&format!("changed: {report}")), "{out}");

    // A file added.
    let dir = case("added");
    std::fs::write(dir.join("reports/e2e/extra.xml"), "<testsuite/>").unwrap();
    let (code, out) = verify(&dir);
    assert_eq!(code, 1);
    assert!(out.contains("added: reports/e2e/extra.xml"), "{out}");

    // A file removed.
    let dir = case("removed");
    std::fs::remove_file(dir.join("summary.md")).unwrap();
    let (code, out) = verify(&dir);
    assert_eq!(code, 1);
    assert!(out.contains("missing: summary.md"), "{out}");

    // The verdict edited to `passed`, with SHA256SUMS fixed up to match.
    let dir = case("verdict");
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let mut m: serde_json::Value = serde_json::from_str(&text).unwrap();
    m["verdict"]["result"] = "passed".into();
    m["verdict"]["reasons"] = serde_json::json!([]);
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    fix_up_sums(&dir);
    let (code, out) = verify(&dir);
    assert_eq!(code, 1);
    assert!(out.contains("verdict `passed` does not follow from the evidence, which gives `failed`"), "{out}");
    assert!(out.contains("manifest.yaml says something else than manifest.json"), "{out}");

    // The totals edited (failed → 0) in both manifests, sums fixed up: recounting the report catches it.
    let dir = case("totals");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let c = &mut m["evidence"]["tests"]["categories"][0];
    c["totals"]["failed"] = 0.into();
    c["totals"]["passed"] = 3.into();
    c["status"] = "passed".into();
    c["artifacts"][0]["files"][0]["totals"]["failed"] = 0.into();
    c["artifacts"][0]["files"][0]["totals"]["passed"] = 3.into();
    m["verdict"] = serde_json::json!({"result": "passed", "reasons": []});
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    let yaml = serde_norway::to_string(&m).unwrap();
    std::fs::write(dir.join("manifest.yaml"), yaml).unwrap();
    fix_up_sums(&dir);
    let (code, out) = verify(&dir);
    assert_eq!(code, 1);
    assert!(out.contains(&format!("{report}: recorded Parsed")) && out.contains("the file itself gives"), "{out}");

    // A zip with one byte changed is refused too.
    let bad_zip = work.join("bad.zip");
    let mut z = std::fs::read(&zip).unwrap();
    let pos = z.windows(9).position(|w| w == b"SHA256SUM").unwrap();
    z[pos + 40] ^= 0x20;
    std::fs::write(&bad_zip, z).unwrap();
    let (code, _) = verify(&bad_zip);
    assert_ne!(code, 0);
}

/// A bundle counted under other conventions (the first version's, which recorded none,
/// or a later one's) cannot be recounted with this parser: that is a problem (issue 18:
/// nothing vouches for totals nobody recounted), which names the release-audit that can
/// verify it; its hashes, the category arithmetic and the verdict are still checked.
#[tokio::test(flavor = "multi_thread")]
async fn totals_counted_under_another_convention_are_a_problem_naming_the_verifier() {
    let (step, zip) = bundle().await;
    let original = zip.with_extension("");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(original.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["evidence"]["tests"]["counting"], 3, "a bundle records the conventions it was counted under");

    let rewrite = |name: &str, counting: Option<u64>, edit: &dyn Fn(&mut serde_json::Value)| {
        let dir = step.path("conventions").join(name).join("audit-bundle-9.9.9");
        copy_dir(&original, &dir);
        let mut m = m.clone();
        match counting {
            Some(n) => m["evidence"]["tests"]["counting"] = n.into(),
            None => drop(m["evidence"]["tests"].as_object_mut().unwrap().remove("counting")),
        }
        edit(&mut m);
        std::fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(&m).unwrap()).unwrap();
        std::fs::write(dir.join("manifest.yaml"), serde_norway::to_string(&m).unwrap()).unwrap();
        fix_up_sums(&dir);
        verify(&dir)
    };

    // The first version's bundle: no `counting`, totals as it counted them (here the same).
    let (code, out) = rewrite("first", None, &|_| {});
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("counting convention: the test totals were counted under convention 1, this release-audit counts under 3 and cannot recount them; verify this bundle with release-audit 0.1.0"),
        "{out}"
    );
    assert!(out.contains("FAILED: ") && out.contains("1 problem(s)"), "{out}");
    // A later convention: the same, naming the version that wrote it.
    let (code, out) = rewrite("later", Some(4), &|_| {});
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("counted under convention 4")
            && out.contains("(release-audit 0.1.0) or a later one that counts under convention 4"),
        "{out}"
    );
    // Not recounted, but the arithmetic still holds: a category total that its files do
    // not add up to fails.
    let (code, out) = rewrite("sum", None, &|m| m["evidence"]["tests"]["categories"][0]["totals"]["passed"] = 3.into());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("e2e tests: recorded"), "{out}");
    // Under this convention a recorded total is recounted (the tampering case above).
    let (code, out) = rewrite("current", Some(3), &|m| {
        m["evidence"]["tests"]["categories"][0]["artifacts"][0]["files"][0]["totals"]["skipped"] = 1.into()
    });
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("the file itself gives"), "{out}");
}

/// A careful forger's fix-up after editing `rel`: its entry in the manifest's file list,
/// `manifest.yaml`, then `SHA256SUMS`.
fn fix_up_entry(dir: &Path, rel: &str) {
    use sha2::Digest as _;
    let bytes = std::fs::read(dir.join(rel)).unwrap();
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    for f in m["files"].as_array_mut().unwrap() {
        if f["path"] == rel {
            f["sha256"] = hex::encode(sha2::Sha256::digest(&bytes)).into();
            f["size"] = bytes.len().into();
        }
    }
    let mut json = serde_json::to_vec_pretty(&m).unwrap();
    json.push(b'\n');
    std::fs::write(dir.join("manifest.json"), json).unwrap();
    let parsed: release_audit::bundle::manifest::Manifest = serde_json::from_value(m).unwrap();
    std::fs::write(dir.join("manifest.yaml"), serde_norway::to_string(&parsed).unwrap()).unwrap();
    fix_up_sums(dir);
}

/// `summary.md` and `report.html` are re-rendered from the manifest and compared byte
/// for byte: a page that says "passed" over a failed verdict, with every hash fixed up,
/// is named (the hashes alone cannot tell).
#[tokio::test(flavor = "multi_thread")]
async fn a_forged_summary_or_page_is_named_even_with_every_hash_fixed_up() {
    let (step, zip) = bundle().await;
    let original = zip.with_extension("");
    for (rel, from, to) in [
        ("summary.md", "## ❌ Release audit failed", "## ✅ Release audit passed"),
        ("report.html", "✘ Audit failed", "✔ Audit passed"),
    ] {
        let dir = step.path("forged").join(rel).join("audit-bundle-9.9.9");
        copy_dir(&original, &dir);
        let text = std::fs::read_to_string(dir.join(rel)).unwrap();
        assert!(text.contains(from), "{rel}: {text}");
        std::fs::write(dir.join(rel), text.replace(from, to)).unwrap();
        fix_up_entry(&dir, rel);
        let (code, out) = verify(&dir);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains(&format!("rendered: {rel} is not what this manifest renders to")), "{out}");
        if rel == "report.html" {
            assert!(out.contains("1 problem(s)"), "only the page is wrong: {out}");
        } // (an edited summary.md also changes the hash report.html lists for it)
    }
}

/// However many problems a bundle has, `verify` lists a bounded number and counts the rest.
#[tokio::test(flavor = "multi_thread")]
async fn a_bundle_with_thousands_of_problems_prints_a_bounded_list() {
    let (step, zip) = bundle().await;
    let dir = step.path("many").join("audit-bundle-9.9.9");
    copy_dir(&zip.with_extension(""), &dir);
    std::fs::create_dir_all(dir.join("extra")).unwrap();
    for i in 0..2_000 {
        std::fs::write(dir.join(format!("extra/{i}.txt")), "x").unwrap();
    }
    let (code, out) = verify(&dir);
    assert_eq!(code, 1, "{out}");
    let listed = out.lines().filter(|l| l.starts_with("  added: ")).count();
    assert_eq!(listed, release_audit::report::text::MAX_LISTED_PROBLEMS, "{}", &out[..out.len().min(3000)]);
    assert!(out.contains(&format!("  … and {} more problem(s)", 2_000 - listed)), "{}", out.lines().last().unwrap());
    assert!(out.lines().count() < 60, "{} lines", out.lines().count());
}

/// Sizes are checked before anything is read: a manifest larger than verify reads is
/// named as too large, not loaded.
#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_manifest_is_named_and_not_read() {
    let (step, zip) = bundle().await;
    let dir = step.path("huge").join("audit-bundle-9.9.9");
    copy_dir(&zip.with_extension(""), &dir);
    let limit = release_audit::verify::limits::MAX_MANIFEST_BYTES;
    let file = std::fs::OpenOptions::new().append(true).open(dir.join("manifest.json")).unwrap();
    file.set_len(limit + 1).unwrap(); // sparse: the test writes no 32 MiB
    let (code, out) = verify(&dir);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "too large: manifest.json is {} bytes, more than verify reads for it ({limit}); not read",
            limit + 1
        )),
        "{out}"
    );
}

/// A file the writer never writes — a `NOTE.md` saying "approved by security", an extra
/// change file — is named even when listed in the manifest and `SHA256SUMS` (nothing
/// would check what it says; found by a red-team review).
#[tokio::test(flavor = "multi_thread")]
async fn a_file_the_writer_never_writes_is_named_even_when_listed() {
    use sha2::Digest as _;
    let (step, zip) = bundle().await;
    let original = zip.with_extension("");
    for rel in ["NOTE.md", "changes/extra.json", "run/999/run.json"] {
        let dir = step.path("extra").join(rel.replace('/', "_")).join("audit-bundle-9.9.9");
        copy_dir(&original, &dir);
        let bytes = b"{\"approved by\": \"security\"}\n";
        std::fs::create_dir_all(dir.join(rel).parent().unwrap()).unwrap();
        std::fs::write(dir.join(rel), bytes).unwrap();
        let mut m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
        let files = m["files"].as_array_mut().unwrap();
        files.push(
            serde_json::json!({"path": rel, "size": bytes.len(), "sha256": hex::encode(sha2::Sha256::digest(bytes))}),
        );
        files.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
        let mut json = serde_json::to_vec_pretty(&m).unwrap();
        json.push(b'\n');
        std::fs::write(dir.join("manifest.json"), json).unwrap();
        fix_up_entry(&dir, "manifest.json");
        let (code, out) = verify(&dir);
        assert_eq!(code, 1, "{rel}: {out}");
        assert!(
            out.contains(&format!("{rel} is not a file release-audit writes"))
                || out.contains(&format!("{rel} is run evidence of no source run")),
            "{rel}: {out}"
        );
    }
}
