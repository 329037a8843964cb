//! `release-audit archive` against real object stores (moto for S3, fake-gcs-server for
//! GCS), filled with bundles the action itself wrote and stored: several repositories
//! and versions, passed and failed audits, and the ways an archive goes bad — a zip
//! changed after it was stored, one forged consistently (its own sums fixed up), one
//! whose SHA256SUMS is gone, one stored under another release's key, one with a
//! signature beside it that signs nothing. The
//! index must name each exactly; a second run downloads only what changed.
//!
//! `RA_ARCHIVE_BUNDLES` sets how many bundles the S3 test writes (default 240: each is a
//! real run of the action, about a minute for all on 2 cores).

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use release_audit_test_support::step::e2e_audit_step;
use release_audit_test_support::{FakeGitHub, zip_bytes};
use serde_json::Value;

use crate::binary;
use crate::publish_common::{self, Service};

const BUCKET: &str = "audit-archive";
const PASSING: &str =
    r#"<testsuites><testsuite name="e2e" tests="2"><testcase name="a"/><testcase name="b"/></testsuite></testsuites>"#;
const FAILING: &str = r#"<testsuites><testsuite name="e2e" tests="2" failures="1"><testcase name="a"/><testcase name="b"><failure message="boom">boom</failure></testcase></testsuite></testsuites>"#;
const REPOSITORIES: [&str; 3] =
    ["kyma-project/telemetry-manager", "kyma-project/api-gateway", "kyma-project/eventing-manager"];

struct Stores {
    moto: Service,
    gcs: Service,
}

/// moto and fake-gcs-server, each with the bucket, started once.
fn stores() -> &'static Stores {
    static STORES: OnceLock<Stores> = OnceLock::new();
    STORES.get_or_init(|| {
        release_audit::http::Net::default();
        let hint = "install it with `pip install 'moto[server]'` (tests/run does)";
        let moto_bin = publish_common::on_path("moto_server").unwrap_or_else(|| panic!("moto_server: {hint}"));
        let moto = publish_common::start("moto", &moto_bin, &["-H", "127.0.0.1", "-p", "{port}"], hint);
        python(&format!(
            "import boto3; boto3.client('s3', endpoint_url='{}', aws_access_key_id='k', aws_secret_access_key='s', region_name='us-east-1').create_bucket(Bucket='{BUCKET}')",
            moto.url()
        ));
        let gcs = publish_common::start_fake_gcs(BUCKET);
        Stores { moto, gcs }
    })
}

fn s3_url(prefix: &str) -> String {
    format!("s3://{BUCKET}/{prefix}?endpoint={}&region=us-east-1", stores().moto.url())
}

fn gs_url(prefix: &str) -> String {
    format!("gs://{BUCKET}/{prefix}?endpoint={}", stores().gcs.url())
}

fn credentials(url: &str) -> &'static str {
    if url.starts_with("s3://") { "access-key-id=k\nsecret-access-key=s" } else { "access-token=t" }
}

/// Runs the action once for `repository` `version` (a failed test when `fail`) and
/// stores the bundle at `storage_url`, as a release run does.
async fn audit_and_store(repository: &str, version: &str, fail: bool, storage_url: &str) {
    let fake = FakeGitHub::start().await;
    let report = zip_bytes(&[("junit.xml", if fail { FAILING } else { PASSING }.as_bytes())]);
    let mut step = e2e_audit_step(&fake, version, &report).await;
    step.set("GITHUB_REPOSITORY", repository)
        .set("GITHUB_REPOSITORY_OWNER", repository.split('/').next().unwrap())
        .input("storage-url", storage_url)
        .input("storage-credentials", credentials(storage_url));
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, i32::from(fail), "{repository} {version}: {}", result.stderr);
    assert!(result.outputs.contains_key("storage-urls"), "stored: {:?}", result.outputs);
}

fn archive(storage_url: &str, out: &Path, extra: &[&str]) -> (i32, String, Value) {
    let output = Command::new(binary())
        .arg("archive")
        .arg(storage_url)
        .arg("--out")
        .arg(out)
        .args(extra)
        .env("RELEASE_AUDIT_STORAGE_CREDENTIALS", credentials(storage_url))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    let index =
        std::fs::read(out.join("index.json")).map(|b| serde_json::from_slice(&b).unwrap()).unwrap_or(Value::Null);
    (output.status.code().unwrap(), text, index)
}

fn row<'a>(index: &'a Value, key_suffix: &str) -> &'a Value {
    let rows = index["bundles"].as_array().unwrap();
    let found: Vec<&Value> = rows.iter().filter(|r| r["key"].as_str().unwrap().ends_with(key_suffix)).collect();
    assert_eq!(found.len(), 1, "one row for {key_suffix}: {rows:#?}");
    found[0]
}

fn bundles_wanted() -> usize {
    std::env::var("RA_ARCHIVE_BUNDLES").ok().and_then(|n| n.parse().ok()).unwrap_or(240)
}

/// Stores `n` bundles: repositories in turn, versions 1.<i>.0, every fifth a failed audit.
async fn fill(storage_url: &str, n: usize) -> Vec<(String, String, bool)> {
    let mut made = Vec::new();
    for i in 0..n {
        let repository = REPOSITORIES[i % REPOSITORIES.len()];
        let version = format!("1.{i}.0");
        let fail = i % 5 == 4;
        audit_and_store(repository, &version, fail, storage_url).await;
        made.push((repository.to_string(), version, fail));
    }
    made
}

fn python(script: &str) {
    let status = Command::new("python3").arg("-c").arg(script).status().expect("python3 runs");
    assert!(status.success(), "python: {script}");
}

fn s3_client() -> String {
    format!(
        "import boto3; s3 = boto3.client('s3', endpoint_url='{}', aws_access_key_id='k', aws_secret_access_key='s', region_name='us-east-1')",
        stores().moto.url()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_s3_archive_index_names_every_bundle_and_every_damage() {
    let n = bundles_wanted().max(10);
    let made = fill(&s3_url("audits/"), n).await;
    let key = |i: usize| format!("audits/{}/{}/audit-bundle-{}", made[i].0, made[i].1, made[i].1);
    // Damage, one kind each: a byte of the zip changed after storing (its SHA256SUMS no
    // longer matches), the SHA256SUMS removed, a bundle copied under another release's
    // key (sums and all), and a signature beside one.
    python(&format!(
        "{c}\nk='{z}.zip'; b=bytearray(s3.get_object(Bucket='{BUCKET}', Key=k)['Body'].read()); b[len(b)//2]^=1; s3.put_object(Bucket='{BUCKET}', Key=k, Body=bytes(b))\n\
s3.delete_object(Bucket='{BUCKET}', Key='{s}.SHA256SUMS')\n\
s3.copy_object(Bucket='{BUCKET}', Key='audits/kyma-project/api-gateway/9.9.9/audit-bundle-9.9.9.zip', CopySource={{'Bucket': '{BUCKET}', 'Key': '{w}.zip'}})\n\
s3.put_object(Bucket='{BUCKET}', Key='{g}.sigstore.json', Body=b'{{}}')",
        c = s3_client(),
        z = key(1),
        s = key(2),
        w = key(3),
        g = key(0),
    ));

    let out = tempfile::tempdir().unwrap();
    let (code, text, index) = archive(&s3_url("audits/"), out.path(), &[]);
    assert_eq!(code, 1, "damaged bundles fail the archive run: {text}");
    let rows = index["bundles"].as_array().unwrap();
    assert_eq!(rows.len(), n + 1, "every stored zip is a row, the copy too: {text}");
    assert_eq!(index["checked"], n + 1);

    // Every undamaged bundle verifies and carries its own facts.
    for (i, (repository, version, fail)) in made.iter().enumerate() {
        let r = row(&index, &format!("{}.zip", key(i)));
        if i == 1 {
            continue; // its zip is damaged: nothing in it can be read (below)
        }
        assert_eq!(r["repository"], repository.as_str());
        assert_eq!(r["version"], version.as_str());
        assert_eq!(r["verdict"], if *fail { "failed" } else { "passed" });
        assert_eq!(r["categories"][0]["failed"], u64::from(*fail));
        assert_eq!(r["categories"][0]["tests"], 2);
        if i > 2 {
            assert_eq!(r["verification"], "holds", "{r:#}");
            assert_eq!(r["sums"], "matches");
        }
    }
    let changed = row(&index, &format!("{}.zip", key(1)));
    assert_eq!(changed["verification"], "fails");
    assert_eq!(changed["sums"], "differs", "{changed:#}");
    let unsummed = row(&index, &format!("{}.zip", key(2)));
    assert_eq!(unsummed["sums"], "missing");
    assert_eq!(unsummed["verification"], "fails");
    let copied = row(&index, "api-gateway/9.9.9/audit-bundle-9.9.9.zip");
    assert_eq!(copied["verification"], "fails");
    let problems = copied["problems"].to_string();
    assert!(problems.contains("but the bundle is") && problems.contains(&made[3].1), "{problems}");
    // A signature beside a zip is checked offline: `{}` signs nothing, so the row fails.
    let signed = row(&index, &format!("{}.zip", key(0)));
    assert!(signed["signature"].as_str().unwrap().starts_with("fails: "), "{signed:#}");
    assert_eq!(signed["verification"], "fails");
    assert_eq!(row(&index, &format!("{}.zip", key(4)))["signature"], "absent");

    // The CSV has a row per bundle; the page links each bundle's own report.
    let csv = std::fs::read_to_string(out.path().join("index.csv")).unwrap();
    assert_eq!(csv.lines().count(), n + 2);
    let html = std::fs::read_to_string(out.path().join("index.html")).unwrap();
    for repository in REPOSITORIES {
        assert!(html.contains(repository));
    }
    let first_report = row(&index, &format!("{}.zip", key(5)))["report"].as_str().unwrap().to_string();
    assert!(html.contains(&first_report) && out.path().join(&first_report).is_file());
    let report = std::fs::read_to_string(out.path().join(&first_report)).unwrap();
    assert!(report.contains(&made[5].1), "the linked page is that bundle's report");

    // A second run downloads nothing unchanged; replacing one object checks that one.
    let (code, text, again) = archive(&s3_url("audits/"), out.path(), &[]);
    assert_eq!(code, 1, "{text}");
    assert_eq!((again["checked"].as_u64(), again["reused"].as_u64()), (Some(0), Some(n as u64 + 1)), "{text}");
    assert_eq!(again["bundles"], index["bundles"], "the reused rows are the same rows");
    assert_eq!(again["requests"], 1, "one listing page, no download");
    python(&format!(
        "{c}\nsrc='{k5}'; s3.copy_object(Bucket='{BUCKET}', Key=src + '.zip', CopySource={{'Bucket': '{BUCKET}', 'Key': '{k6}.zip'}})",
        c = s3_client(),
        k5 = key(5),
        k6 = key(6),
    ));
    let (_, text, third) = archive(&s3_url("audits/"), out.path(), &[]);
    assert_eq!((third["checked"].as_u64(), third["reused"].as_u64()), (Some(1), Some(n as u64)), "{text}");
    assert_eq!(third["requests"], 3, "the listing, the replaced zip and its sums");
    let replaced = row(&third, &format!("{}.zip", key(5)));
    assert_eq!(replaced["verification"], "fails", "the zip is another release's now: {replaced:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gcs_archive_index_is_the_same_and_unsigned_bundles_can_be_required_to_fail() {
    let made = fill(&gs_url("gcs/"), 12).await;
    let out = tempfile::tempdir().unwrap();
    let (code, text, index) = archive(&gs_url("gcs/"), out.path(), &[]);
    assert_eq!(code, 0, "every bundle verifies: {text}");
    assert_eq!(index["bundles"].as_array().unwrap().len(), made.len());
    for r in index["bundles"].as_array().unwrap() {
        assert_eq!(r["verification"], "holds", "{r:#}");
        assert_eq!(r["sums"], "matches");
        assert!(r["object_version"].as_str().is_some_and(|v| !v.is_empty()), "GCS generation recorded");
    }
    let (code, text, _) = archive(&gs_url("gcs/"), out.path(), &["--require-signed"]);
    assert_eq!(code, 1, "none is signed: {text}");
    assert!(text.contains(&format!("{} unsigned", made.len())), "{text}");
}

#[test]
fn a_prefix_that_cannot_be_listed_is_one_clear_error() {
    let out = tempfile::tempdir().unwrap();
    let url = format!("s3://no-such-bucket/x/?endpoint={}&region=us-east-1", stores().moto.url());
    let (code, text, _) = archive(&url, out.path(), &[]);
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("no-such-bucket") && text.contains("does not exist"), "{text}");
}

/// The archive action as the runner starts it: its `args` with the inputs filled in (the
/// defaults, and the values a caller gives), its `env` from the credentials input.
#[tokio::test(flavor = "multi_thread")]
async fn the_archive_action_runs_the_command_it_declares() {
    let action: Value = serde_norway::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/archive/action.yml")).unwrap(),
    )
    .unwrap();
    let inputs = action["inputs"].as_object().unwrap();
    let out = tempfile::tempdir().unwrap();
    let given = |name: &str| -> String {
        match name {
            "storage-url" => gs_url("action/"),
            "storage-credentials" => "access-token=t".to_string(),
            "out" => out.path().join("index").display().to_string(),
            _ => inputs[name]["default"].as_str().unwrap_or_else(|| panic!("input {name} has a default")).to_string(),
        }
    };
    let fill = |text: &str| -> String {
        let mut text = text.to_string();
        for name in inputs.keys() {
            text = text.replace(&format!("${{{{ inputs.{name} }}}}"), &given(name));
        }
        assert!(!text.contains("${{"), "every expression is an input: {text}");
        text
    };
    let args: Vec<String> =
        action["runs"]["args"].as_array().unwrap().iter().map(|a| fill(a.as_str().unwrap())).collect();
    let env: Vec<(String, String)> = action["runs"]["env"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), fill(v.as_str().unwrap())))
        .collect();
    for name in inputs.keys() {
        let used = format!("inputs.{name} ");
        let text = serde_json::to_string(&action["runs"]).unwrap();
        assert!(text.contains(&used), "input {name} reaches the command");
    }
    fill(&gs_url("action/")); // the bucket exists
    audit_and_store(REPOSITORIES[0], "3.0.0", false, &gs_url("action/")).await;
    let output = Command::new(binary()).args(&args).env_clear().envs(env).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{args:?}: {text}");
    let index: Value = serde_json::from_slice(&std::fs::read(out.path().join("index/index.json")).unwrap()).unwrap();
    assert_eq!(index["bundles"][0]["verification"], "holds", "{index:#}");
}

/// `--retention-days`: bundles the action stored under a compliance lock hold for the
/// retention they were locked for, and fail for a longer one ("ends before").
#[tokio::test(flavor = "multi_thread")]
async fn locks_are_read_back_and_a_lock_that_ends_early_fails() {
    let bucket = "audit-archive-locked";
    python(&format!("{}\ns3.create_bucket(Bucket='{bucket}', ObjectLockEnabledForBucket=True)", s3_client()));
    let url = format!("s3://{bucket}/locked/?endpoint={}&region=us-east-1", stores().moto.url());
    for version in ["4.0.0", "4.1.0"] {
        let fake = FakeGitHub::start().await;
        let report = zip_bytes(&[("junit.xml", PASSING.as_bytes())]);
        let mut step = e2e_audit_step(&fake, version, &report).await;
        step.input("storage-url", &url)
            .input("storage-credentials", credentials(&url))
            .input("storage-retention-days", "3");
        let result = step.run(&binary(), &[]).await;
        assert_eq!(result.code, 0, "{}", result.stderr);
    }
    let out = tempfile::tempdir().unwrap();
    let (code, text, index) = archive(&url, out.path(), &["--retention-days", "3"]);
    assert_eq!(code, 0, "locked for 3 days: {text}");
    for r in index["bundles"].as_array().unwrap() {
        assert!(r["lock"].as_str().unwrap().starts_with("COMPLIANCE until "), "{r:#}");
        assert_eq!(r["verification"], "holds");
    }
    // An index made without the lock policy is no answer under it: every bundle is
    // checked again, not reused.
    let longer = tempfile::tempdir().unwrap();
    let (code, text, _) = archive(&url, longer.path(), &[]);
    assert_eq!(code, 0, "{text}");
    let (code, text, index) = archive(&url, longer.path(), &["--retention-days", "30"]);
    assert_eq!(code, 1, "a 3-day lock ends before 30 days: {text}");
    assert_eq!((index["checked"].as_u64(), index["reused"].as_u64()), (Some(2), Some(0)), "{text}");
    let problems = index["bundles"][0]["problems"].to_string();
    assert!(problems.contains("lock ends") && problems.contains("30 days after it was stored"), "{problems}");
}

/// A signature the archive can verify: the stored zip signed by a workflow of its
/// repository in a trust domain of the test's own (`tests/fixtures/sigstore/make.sh`, a
/// CA and a timestamp authority made with openssl). It verifies only against that root
/// (`--trusted-root`), only from the pinned workflow (`--signer-workflow`), and a
/// previous index made under another signature policy is not reused.
#[tokio::test(flavor = "multi_thread")]
async fn signatures_verify_only_under_the_given_roots_and_signer_workflow() {
    let (repository, version) = (REPOSITORIES[1], "4.0.0");
    let url = s3_url("signed/");
    audit_and_store(repository, version, false, &url).await;
    let key = format!("signed/{repository}/{version}/audit-bundle-{version}");
    let work = tempfile::tempdir().unwrap();
    let zip = work.path().join("audit-bundle.zip");
    python(&format!(
        "{c}\nopen('{p}', 'wb').write(s3.get_object(Bucket='{BUCKET}', Key='{key}.zip')['Body'].read())",
        c = s3_client(),
        p = zip.display()
    ));
    let make = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sigstore/make.sh");
    let signed = Command::new("bash")
        .arg(make)
        .arg(&zip)
        .arg(repository)
        .arg(".github/workflows/release.yml")
        .arg(work.path())
        .output()
        .expect("bash runs");
    assert!(signed.status.success(), "make.sh (needs openssl): {}", String::from_utf8_lossy(&signed.stderr));
    python(&format!(
        "{c}\ns3.put_object(Bucket='{BUCKET}', Key='{key}.sigstore.json', Body=open('{p}', 'rb').read())",
        c = s3_client(),
        p = work.path().join("signed.sigstore.json").display()
    ));
    let root = work.path().join("trusted_root.json").display().to_string();
    let out = tempfile::tempdir().unwrap();
    let signature = |index: &Value| row(index, "audit-bundle-4.0.0.zip")["signature"].as_str().unwrap().to_string();

    // The built-in roots (Sigstore's, GitHub's) do not hold the test CA.
    let (code, text, index) = archive(&url, out.path(), &[]);
    assert_eq!(code, 1, "{text}");
    assert!(signature(&index).starts_with("fails: "), "{index:#}");
    assert_eq!(index["trusted_roots"], "built-in");

    // With the root: verified, naming the workflow; the index says which roots.
    let (code, text, index) = archive(&url, out.path(), &["--trusted-root", &root]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(index["checked"], 1, "rows checked with other roots are not reused: {text}");
    let workflow = format!("https://github.com/{repository}/.github/workflows/release.yml@refs/tags/v1.0.0");
    assert_eq!(signature(&index), format!("verified: {workflow}"), "{index:#}");
    assert!(index["trusted_roots"].as_str().unwrap().starts_with("sha256:"), "{index:#}");
    let (_, _, again) = archive(&url, out.path(), &["--trusted-root", &root]);
    assert_eq!((again["checked"].as_u64(), again["reused"].as_u64()), (Some(0), Some(1)), "same policy: reused");

    // Pinned to the workflow that signed: verified; to another: refused, and checked again.
    let pinned = format!("{repository}/.github/workflows/release.yml");
    let (code, text, index) = archive(&url, out.path(), &["--trusted-root", &root, "--signer-workflow", &pinned]);
    assert_eq!((code, index["checked"].as_u64()), (0, Some(1)), "{text}");
    let other = "kyma-project/release-audit/.github/workflows/release-audit.yml";
    let (code, text, index) = archive(&url, out.path(), &["--trusted-root", &root, "--signer-workflow", other]);
    assert_eq!(code, 1, "{text}");
    assert_eq!(index["signer_workflow"], other);
    let refused = signature(&index);
    assert!(refused.starts_with("fails: ") && refused.contains(other), "{refused}");

    // A workflow that names no file is a usage error, before anything is listed.
    let (code, text, _) = archive(&url, out.path(), &["--signer-workflow", "kyma-project"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--signer-workflow") && text.contains("does not name a workflow file"), "{text}");
}
