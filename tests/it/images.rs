//! Image evidence against real registries: Debian's docker-registry (plain HTTP and
//! Basic auth) started by the tests, images built with umoci and pushed with skopeo.
//! Every digest the tool reports is cross-checked with
//! `skopeo inspect --raw … | sha256sum`. A tiny stub serves only what a real registry
//! cannot be made to answer (403, 429, 503, a lying digest header, a huge manifest).
//!
//! Needs: docker-registry, apache2-utils, skopeo, umoci (`tests/images/setup.sh`).

use crate::image_support::build;
use crate::image_support::fixture;
use crate::image_support::stub;
use crate::image_support::token;

use std::process::Command;

use serde_json::Value;

use build::{skopeo_digest, skopeo_platforms};
use fixture::{LOGIN, fixture};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }

    /// The one `error:` line and its hint.
    fn error_line(&self) -> &str {
        self.stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("no error line in:\n{}", self.stderr))
    }
}

fn release_audit(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_release-audit"));
    cmd.args(args)
        .env_remove("RELEASE_AUDIT_REGISTRY_CREDENTIALS")
        .env_remove("GITHUB_ACTIONS")
        .env("RELEASE_AUDIT_RETRY_BASE_MS", "5");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `release-audit compare <tested> <released> --json` against the plain registry.
fn compare(tested: &str, released: &str, extra: &[&str]) -> (Run, Value) {
    let f = fixture();
    let (t, r) = (f.plain(tested), f.plain(released));
    let mut args = vec!["compare", t.as_str(), r.as_str(), "--insecure-registry", f.plain.host.as_str(), "--json"];
    args.extend(extra);
    let run = release_audit(&args, &[]);
    assert!(run.code == 0 || run.code == 1, "exit {}:\n{}", run.code, run.stderr);
    let json = run.json();
    (run, json)
}

/// Findings of a compare's JSON as (level, platform, remedy, summary, details).
fn findings(json: &Value) -> Vec<(String, String, String, String, Vec<String>)> {
    json["explanation"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["level"].as_str().unwrap().to_string(),
                f["platform"].as_str().unwrap_or("").to_string(),
                f["remedy"].as_str().unwrap().to_string(),
                f["summary"].as_str().unwrap().to_string(),
                f["details"]
                    .as_array()
                    .map(|d| d.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// Every digest of a record equals what skopeo reads and `sha256sum` hashes.
fn cross_check(record: &Value, login: Option<(&str, &str)>) {
    let reference = record["reference"].as_str().unwrap();
    let repo = format!("{}/{}", record["registry"].as_str().unwrap(), record["repository"].as_str().unwrap());
    assert_eq!(record["digest"].as_str().unwrap(), skopeo_digest(reference, login), "top-level digest of {reference}");
    assert_eq!(record["header_digest"], record["digest"], "Docker-Content-Digest recorded beside the computed digest");
    let mut children = Vec::new();
    for m in record["manifests"].as_array().unwrap() {
        let digest = m["digest"].as_str().unwrap();
        if m["fetched"] == true {
            assert_eq!(digest, skopeo_digest(&format!("{repo}@{digest}"), login), "child {digest} of {reference}");
        }
        children.push((m["platform"].as_str().unwrap_or("").to_string(), digest.to_string()));
    }
    if record["media_type"] == "application/vnd.oci.image.index.v1+json" {
        let mut listed = skopeo_platforms(reference);
        listed.sort();
        children.sort();
        assert_eq!(children, listed, "the index's children as skopeo lists them");
    }
}

#[test]
fn the_same_image_in_dev_and_prod_is_identical() {
    let (run, json) = compare("dev/app:PR-1", "prod/app:1.0.0", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json["verdict"], "identical");
    assert_eq!(json["passed"], true);
    assert_eq!(json["tested"]["digest"], json["released"]["digest"]);
    assert!(findings(&json).is_empty());
    assert_eq!(json["tested"]["manifests"][0]["platform"], "linux/amd64");
    cross_check(&json["tested"], None);
    cross_check(&json["released"], None);

    // The text form says the same in words.
    let f = fixture();
    let text = release_audit(
        &["compare", &f.plain("dev/app:PR-1"), &f.plain("prod/app:1.0.0"), "--insecure-registry", &f.plain.host],
        &[],
    );
    assert_eq!(text.code, 0);
    assert!(text.stdout.contains("verdict   identical — passes digest-policy identical"), "{}", text.stdout);
}

#[test]
fn a_rebuild_where_only_created_changed_is_explained_by_config_created() {
    let (run, json) = compare("dev/app:PR-1", "prod/app:created", &[]);
    assert_eq!(run.code, 1);
    assert_eq!(json["verdict"], "different");
    let f = findings(&json);
    let created = f.iter().find(|f| f.3.starts_with("config.created differs")).unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(
        (created.0.as_str(), created.1.as_str(), created.2.as_str()),
        ("config", "linux/amd64", "source-date-epoch")
    );
    assert_eq!(created.3, "config.created differs: 2024-01-01T00:00:00Z → 2025-02-02T10:00:00Z");
    // Same layers: nothing at layer level, and the hint names SOURCE_DATE_EPOCH.
    assert!(!f.iter().any(|f| f.0 == "layer"), "{f:#?}");
    let hint = json["explanation"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["remedy"] == "source-date-epoch")
        .unwrap()["hint"]
        .clone();
    assert!(hint.as_str().unwrap().contains("SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)"), "{hint}");
    assert!(
        json["explanation"]["promote"].as_str().unwrap().starts_with("skopeo copy --all --preserve-digests docker://")
    );
    cross_check(&json["released"], None);
}

#[test]
fn a_rebuild_where_one_mtime_changed_names_that_file_and_the_timestamp_remedy() {
    let (run, json) = compare("dev/app:PR-1", "prod/app:mtime", &[]);
    assert_eq!(run.code, 1);
    assert_eq!(json["verdict"], "different");
    let f = findings(&json);
    let layer = f.iter().find(|f| f.0 == "layer").unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(layer.2, "rewrite-timestamp");
    assert_eq!(layer.3, "layer 1: only file modification times differ (1 entry)");
    assert_eq!(layer.4, ["app/version: mtime 2023-11-14T22:13:20Z → 2023-11-14T23:13:20Z"]);
    assert!(!f.iter().any(|f| f.2 == "source-date-epoch"), "config.created is the same: {f:#?}");
    assert!(!f.iter().any(|f| f.2 == "pin-base-image"), "a single-layer image has no base layer: {f:#?}");
    cross_check(&json["released"], None);
}

#[test]
fn an_extra_layer_holding_git_is_found_and_blamed_on_copying_git() {
    let (run, json) = compare("dev/app:PR-1", "prod/app:git", &[]);
    assert_eq!(run.code, 1);
    let f = findings(&json);
    assert!(f.iter().any(|f| f.0 == "manifest" && f.3 == "layer count 1 → 2"), "{f:#?}");
    let git = f.iter().find(|f| f.2 == "dont-copy-git").unwrap_or_else(|| panic!("{f:#?}"));
    assert!(git.3.starts_with("layer 2 exists only in released"), "{}", git.3);
    assert!(git.4.contains(&".git/HEAD".to_string()) && git.4.contains(&".git/config".to_string()), "{:?}", git.4);
    assert!(
        json["explanation"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["hint"].as_str().unwrap().contains(".dockerignore"))
    );
    cross_check(&json["released"], None);
}

#[test]
fn a_multi_arch_index_with_one_changed_platform_names_the_platform_and_the_file() {
    let (run, json) = compare("dev/multi:PR-1", "prod/multi:changed", &[]);
    assert_eq!(run.code, 1);
    assert_eq!(json["verdict"], "different");
    let f = findings(&json);
    let index = f.iter().find(|f| f.0 == "index").unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(index.3, "1 of 2 platform manifests differs");
    assert!(index.4[0].starts_with("linux/arm64: sha256:"), "{:?}", index.4);
    let content = f.iter().find(|f| f.0 == "layer" && f.1 == "linux/arm64").unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!((content.2.as_str(), content.3.as_str()), ("reproducible-inputs", "layer 1: 1 file differs in content"));
    assert_eq!(content.4, ["app/version: 6 → 6 bytes, content differs"]);
    assert!(!f.iter().any(|f| f.1 == "linux/amd64"), "amd64 is identical: {f:#?}");
    cross_check(&json["tested"], None);
    cross_check(&json["released"], None);

    // Restricted to the platform that is the same, only the index differs.
    let (run, json) = compare("dev/multi:PR-1", "prod/multi:changed", &["--platform", "linux/amd64"]);
    assert_eq!((run.code, json["verdict"].as_str()), (1, Some("platforms-identical")));
    let (run, json) =
        compare("dev/multi:PR-1", "prod/multi:changed", &["--platform", "linux/amd64", "--policy", "platforms"]);
    assert_eq!((run.code, json["passed"].as_bool()), (0, Some(true)));
    let arm = json["tested"]["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["platform"] == "linux/arm64")
        .unwrap()
        .clone();
    assert_eq!(arm["fetched"], false, "the excluded platform is listed, not fetched");
}

#[test]
fn an_extra_attestation_manifest_leaves_the_platforms_identical() {
    let (run, json) = compare("dev/multi:PR-1", "prod/multi:attested", &[]);
    assert_eq!(run.code, 1, "digest-policy identical requires the same index");
    assert_eq!(json["verdict"], "platforms-identical");
    let f = findings(&json);
    let attestation = f.iter().find(|f| f.2 == "attestations").unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(
        attestation.3,
        "only the attestation manifests (unknown/unknown) differ; every platform manifest is identical"
    );
    assert!(
        attestation.4[0].starts_with("only in released: sha256:")
            && attestation.4[0].ends_with("(unknown/unknown, attests linux/amd64)"),
        "{:?}",
        attestation.4
    );
    assert!(!f.iter().any(|f| ["manifest", "config", "layer"].contains(&f.0.as_str())), "{f:#?}");
    cross_check(&json["released"], None);

    let (run, json) = compare("dev/multi:PR-1", "prod/multi:attested", &["--policy", "platforms"]);
    assert_eq!((run.code, json["passed"].as_bool()), (0, Some(true)));
    let (run, json) = compare("dev/multi:PR-1", "prod/multi:attested", &["--policy", "record"]);
    assert_eq!((run.code, json["verdict"].as_str()), (0, Some("platforms-identical")));
}

#[test]
fn the_same_content_as_docker_schema2_and_oci_differs_only_in_format() {
    let (run, json) = compare("dev/app:PR-1", "prod/app:docker", &[]);
    assert_eq!(run.code, 1);
    assert_eq!(json["verdict"], "different");
    assert_eq!(json["tested"]["media_type"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(json["released"]["media_type"], "application/vnd.docker.distribution.manifest.v2+json");
    let f = findings(&json);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!((f[0].0.as_str(), f[0].2.as_str()), ("manifest", "manifest-format"));
    assert_eq!(f[0].3, "format: OCI image manifest → Docker schema2 manifest");
    cross_check(&json["released"], None);
}

#[test]
fn digest_prints_index_and_platform_digests_that_skopeo_confirms() {
    let f = fixture();
    let (multi, app) = (f.plain("dev/multi:PR-1"), f.plain("prod/app:docker"));
    let run = release_audit(&["digest", &multi, &app, "--insecure-registry", &f.plain.host, "--json"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    let images = json["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    for record in images {
        cross_check(record, None);
        assert!(record["read_at"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(images[0]["manifests"].as_array().unwrap().len(), 2);

    let text = release_audit(&["digest", &multi, "--insecure-registry", &f.plain.host], &[]);
    let index = skopeo_digest(&multi, None);
    assert!(text.stdout.contains(&format!("  index           {index}  OCI image index")), "{}", text.stdout);
    for (platform, digest) in skopeo_platforms(&multi) {
        assert!(text.stdout.contains(&format!("  {platform:<15} {digest}")), "{platform} {digest}:\n{}", text.stdout);
    }
}

#[test]
fn a_tested_image_that_is_not_the_built_one_is_an_expected_digest_mismatch() {
    let arm64 =
        skopeo_platforms(&fixture().plain("dev/multi:PR-1")).into_iter().find(|(p, _)| p == "linux/arm64").unwrap().1;
    let (run, json) = compare("dev/multi:PR-1", "prod/multi:1.0.0", &["--expected-digest", &arm64]);
    assert_eq!(run.code, 1);
    assert_eq!(json["verdict"], "expected-digest-mismatch");
    let f = findings(&json);
    assert_eq!(f[0].2, "expected-digest");
    assert!(f[0].4[0].contains("is the linux/arm64 manifest inside the index, not the index"), "{:?}", f[0].4);
    // Even with record, the mismatch is recorded as such.
    let (run, json) =
        compare("dev/multi:PR-1", "prod/multi:1.0.0", &["--expected-digest", &arm64, "--policy", "record"]);
    assert_eq!((run.code, json["verdict"].as_str()), (0, Some("expected-digest-mismatch")));
    let index = skopeo_digest(&fixture().plain("dev/multi:PR-1"), None);
    let (run, _) = compare("dev/multi:PR-1", "prod/multi:1.0.0", &["--expected-digest", &index]);
    assert_eq!(run.code, 0);
}

#[test]
fn a_release_that_does_not_exist_is_not_found_in_one_line() {
    let (run, json) = compare("dev/app:PR-1", "prod/app:9.9.9", &[]);
    assert_eq!(run.code, 1);
    assert_eq!(json["verdict"], "not-found");
    assert!(json["released"].is_null());
    let f = findings(&json);
    assert_eq!(f.len(), 1);
    assert!(f[0].3.ends_with("prod/app:9.9.9: not found (404 MANIFEST_UNKNOWN: manifest unknown)"), "{}", f[0].3);
    // `digest` has nothing to print: an error, one line, exit 3.
    let f = fixture();
    let run = release_audit(&["digest", &f.plain("prod/nothing:1"), "--insecure-registry", &f.plain.host], &[]);
    assert_eq!(run.code, 3);
    assert!(run.error_line().contains("prod/nothing:1: not found (404 MANIFEST_UNKNOWN"), "{}", run.stderr);
}

#[test]
fn a_registry_with_basic_auth_asks_for_the_login_rejects_a_wrong_one_and_accepts_the_right_one() {
    let f = fixture();
    let (tested, released) = (f.auth("dev/app:PR-1"), f.auth("prod/app:1.0.0"));
    let args = ["compare", tested.as_str(), released.as_str(), "--insecure-registry", f.auth.host.as_str()];

    let run = release_audit(&args, &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.error_line().contains(
            "401 Unauthorized UNAUTHORIZED: authentication required — the registry requires a login and none is given"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("hint: add `{}=<username>:<password>` to `registry-credentials`", f.auth.host)),
        "{}",
        run.stderr
    );

    let wrong = format!("{}=alice:not-the-password", f.auth.host);
    let run = release_audit(&args, &[("RELEASE_AUDIT_REGISTRY_CREDENTIALS", &wrong)]);
    assert_eq!(run.code, 3);
    assert!(run.error_line().contains("the registry rejected the login `alice`"), "{}", run.stderr);
    assert!(!run.stderr.contains("not-the-password"));

    let right = format!("{}={}:{}", f.auth.host, LOGIN.user, LOGIN.password);
    let mut json_args = args.to_vec();
    json_args.push("--json");
    for (env, extra) in [
        (vec![("RELEASE_AUDIT_REGISTRY_CREDENTIALS", right.as_str())], vec![]),
        (vec![("RUNNER_DEBUG", "1")], vec!["--registry-credentials", right.as_str()]),
    ] {
        let mut a = json_args.clone();
        a.extend(extra);
        let run = release_audit(&a, &env);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let json = run.json();
        assert_eq!(json["verdict"], "identical");
        cross_check(&json["tested"], Some((LOGIN.user, LOGIN.password)));
        assert_no_secret(&format!("{}\n{}", run.stdout, run.stderr));
    }
}

#[test]
fn a_registry_with_token_auth_is_read_with_a_bearer_token_per_repository_from_its_realm() {
    let f = fixture();
    let (tested, released) = (f.token("dev/app:PR-1"), f.token("prod/app:1.0.0"));
    let login = format!("{}={}:{}", f.token.host, LOGIN.user, LOGIN.password);
    let ours =
        || f.issuer.requests().into_iter().filter(|r| r.user_agent.starts_with("release-audit/")).collect::<Vec<_>>();

    // The realm is plain HTTP: the login goes there only when its host is listed.
    let args = ["compare", tested.as_str(), released.as_str(), "--insecure-registry", f.token.host.as_str()];
    let run = release_audit(&args, &[("RELEASE_AUDIT_REGISTRY_CREDENTIALS", &login)]);
    assert_eq!(run.code, 3);
    assert!(
        run.error_line().contains(&format!("the login was not sent: the realm {} is plain HTTP", f.issuer.host)),
        "{}",
        run.stderr
    );
    assert!(ours().iter().all(|r| !r.logged_in));

    let mut args = args.to_vec();
    args.extend(["--insecure-registry", f.issuer.host.as_str()]);
    let run = release_audit(&args, &[]);
    assert_eq!(run.code, 3);
    assert!(run.error_line().contains("the token service requires a login (401 Unauthorized)"), "{}", run.stderr);

    let before = ours().len();
    args.push("--json");
    let run = release_audit(&args, &[("RELEASE_AUDIT_REGISTRY_CREDENTIALS", &login)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["verdict"], "identical");
    cross_check(&run.json()["tested"], Some((LOGIN.user, LOGIN.password)));
    let mut granted: Vec<(String, Vec<String>, bool)> =
        ours()[before..].iter().map(|r| (r.service.clone(), r.scopes.clone(), r.logged_in)).collect();
    granted.sort();
    assert_eq!(
        granted,
        [
            (token::SERVICE.to_string(), vec!["repository:dev/app:pull".to_string()], true),
            (token::SERVICE.to_string(), vec!["repository:prod/app:pull".to_string()], true)
        ],
        "one token per repository, for the challenge's service, pull only"
    );
    assert_no_secret(&format!("{}\n{}", run.stdout, run.stderr));
}

/// Neither the password nor the Basic header made of it.
fn assert_no_secret(text: &str) {
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", LOGIN.user, LOGIN.password));
    assert!(!text.contains(LOGIN.password), "the password leaked:\n{text}");
    assert!(!text.contains(&basic), "the Basic header leaked:\n{text}");
}

#[test]
fn the_bundle_holds_each_record_and_the_exact_manifest_bytes_and_no_credential() {
    use release_audit::config::{RawInputs, RunArgs};
    use release_audit::evidence::images;
    let f = fixture();
    // `app` carries the digest its build reported: that proves the pair (two tags of one
    // digest alone would not).
    let built = skopeo_digest(&f.auth("dev/app:PR-1"), Some((LOGIN.user, LOGIN.password)));
    let args = RunArgs {
        images: Some(format!(
            "app: {} -> {} expect {built}\nmulti: {} -> {}",
            f.auth("dev/app:PR-1"),
            f.auth("prod/app:1.0.0"),
            f.plain("dev/multi:PR-1"),
            f.plain("prod/multi:changed")
        )),
        registry_credentials: Some(format!("{}={}:{}", f.auth.host, LOGIN.user, LOGIN.password)),
        insecure_registries: Some(format!("{},{}", f.plain.host, f.auth.host)),
        ..RunArgs::default()
    };
    let settings = release_audit::config::images::settings(&RawInputs::collect(&args, &|_| None)).unwrap().unwrap();
    assert_eq!(settings.secrets().len(), 2);
    let evidence = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(images::collect(&settings, &crate::publish_common::net()))
        .unwrap();

    assert_eq!(
        evidence.pairs.iter().map(|p| (p.name.as_str(), p.passed)).collect::<Vec<_>>(),
        [("app", true), ("multi", false)]
    );
    assert_eq!(evidence.failures().len(), 1);
    assert!(evidence.failures()[0].starts_with("image `multi`: tested "), "{:?}", evidence.failures());

    let out = tempfile::tempdir().unwrap();
    let mut dir = release_audit::bundle::BundleDir::create(out.path(), "bundle").unwrap();
    evidence.write_into(&mut dir).unwrap();
    let root = dir.root().to_path_buf();
    let record: Value = serde_json::from_slice(&std::fs::read(root.join("images/multi.json")).unwrap()).unwrap();
    assert_eq!(record["verdict"], "different");
    assert_eq!(record["tested"]["digest"].as_str().unwrap(), skopeo_digest(&f.plain("dev/multi:PR-1"), None));
    assert!(!record["explanation"]["findings"].as_array().unwrap().is_empty());
    // Every manifest file holds the exact bytes: its name is their sha256.
    let manifests: Vec<_> =
        std::fs::read_dir(root.join("images/manifests")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(
        manifests.len(),
        5,
        "v1 (app in both repos, and amd64 in both indexes), two indexes, arm64 and the changed arm64"
    );
    for path in &manifests {
        let name = path.file_name().unwrap().to_str().unwrap();
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(name, format!("{}.json", stub::sha256(&bytes).replace(':', "-")));
    }
    // manifest.json's part: names, refs, digests, verdicts.
    let part = serde_json::to_value(&evidence).unwrap();
    assert_eq!(part["pairs"][1]["verdict"], "different");
    assert_eq!(part["pairs"][1]["tested"]["platforms"].as_object().unwrap().len(), 2);
    assert!(part["pairs"][1].get("detail").is_none());

    let subjects = evidence.subjects();
    assert!(subjects.iter().any(|(n, h)| n == &format!("{}/dev/multi", f.plain.host)
        && record["tested"]["digest"].as_str().unwrap().ends_with(h.as_str())));
    assert!(subjects.iter().any(|(n, _)| n.ends_with("dev/multi (linux/arm64)")), "{subjects:?}");

    let summary = evidence.summary_markdown();
    assert!(
        summary.contains("#### ✅ `app` — identical") && summary.contains("#### ❌ `multi` — different"),
        "{summary}"
    );
    assert!(
        summary.contains(&format!(
            "| tested | `{}` | `{}` |",
            f.plain("dev/multi:PR-1"),
            record["tested"]["digest"].as_str().unwrap()
        )),
        "{summary}"
    );
    assert!(
        summary.contains("```mermaid\nflowchart LR")
            && summary.contains("💡 ")
            && summary.contains("skopeo copy --all --preserve-digests"),
        "{summary}"
    );

    fn escape(s: &str) -> String {
        s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
    }
    let html = images::html(&evidence, escape);
    assert!(html.contains("<span class=\"bad\">✘</span> <code>multi</code> — different"), "{html}");
    assert!(
        html.contains(&format!("<td class=\"mono\">{}</td>", record["tested"]["digest"].as_str().unwrap())),
        "{html}"
    );
    assert!(html.contains("<details open><summary>Why they differ") && html.contains("Remedy: "), "{html}");
    // Read back from manifest.json (no explanation kept there), it still shows digests and verdicts.
    let read_back: images::ImageEvidence = serde_json::from_value(part.clone()).unwrap();
    let plain = images::html(&read_back, escape);
    assert!(plain.contains("<code>multi</code> — different") && !plain.contains("Why they differ"), "{plain}");

    let mut everything = summary + &html;
    for entry in walk(&root) {
        everything.push_str(&String::from_utf8_lossy(&std::fs::read(entry).unwrap()));
    }
    everything.push_str(&serde_json::to_string(&part).unwrap());
    assert_no_secret(&everything);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}

#[test]
fn bad_references_policies_and_platforms_are_usage_errors_naming_the_input() {
    let f = fixture();
    let good = f.plain("dev/app:PR-1");
    for (args, expected) in [
        (
            vec!["compare", "127.0.0.1:5000/dev/App:1", good.as_str()],
            "error: argument `TESTED`: `127.0.0.1:5000/dev/App:1` is not an image reference",
        ),
        (
            vec!["compare", good.as_str(), "r.io/app:1", "--policy", "strict"],
            "error: flag `--policy`: `strict` is not a policy",
        ),
        (
            vec!["compare", good.as_str(), "r.io/app:1", "--platform", "linux"],
            "error: flag `--platform`: `linux` is not a platform",
        ),
        (
            vec!["compare", good.as_str(), "r.io/app:1", "--insecure-registry", "localhost"],
            "error: flag `--insecure-registries`: `localhost` has no port",
        ),
        (vec!["digest", "app@sha256:123"], "error: argument `REF`: `app@sha256:123` is not an image reference"),
    ] {
        let run = release_audit(&args, &[]);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.error_line().starts_with(expected), "{args:?}:\n{}", run.stderr);
        assert!(run.stderr.lines().any(|l| l.starts_with("hint: ")));
    }
}

#[test]
fn a_platform_filter_that_matches_nothing_says_which_platforms_exist() {
    let f = fixture();
    let run = release_audit(
        &[
            "compare",
            &f.plain("dev/multi:PR-1"),
            &f.plain("prod/multi:1.0.0"),
            "--insecure-registry",
            &f.plain.host,
            "--platform",
            "linux/s390x",
        ],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.error_line().contains("input `platforms`: linux/s390x matches none of the platforms of"),
        "{}",
        run.stderr
    );
    assert!(run.error_line().ends_with("(linux/amd64, linux/arm64)"), "{}", run.stderr);
}

#[test]
fn an_unknown_host_and_a_schema1_manifest_are_one_line_errors() {
    let f = fixture();
    let run = release_audit(&["digest", "registry.invalid/app:1"], &[]);
    assert_eq!(run.code, 3);
    assert!(
        run.error_line().starts_with(
            "error: registry registry.invalid: manifest registry.invalid/app:1: cannot reach registry.invalid"
        ),
        "{}",
        run.stderr
    );

    let run = release_audit(&["digest", &f.plain("prod/app:schema1"), "--insecure-registry", &f.plain.host], &[]);
    assert_eq!(run.code, 3);
    assert!(
        run.error_line().ends_with("has an unsupported media type `application/vnd.docker.distribution.manifest.v1+prettyjws` (Docker schema1 manifest)"),
        "{}",
        run.stderr
    );

    // A registry on plain HTTP that is not listed as insecure is spoken to with TLS.
    let run = release_audit(&["digest", &f.plain("dev/app:PR-1")], &[]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("must be listed in `insecure-registries`"), "{}", run.stderr);
}

#[test]
fn answers_a_registry_cannot_be_made_to_give_are_clear_errors() {
    let stub = stub::Stub::start();
    let digest = |path: &str| {
        release_audit(&["digest", &format!("{}/{path}", stub.host), "--insecure-registry", &stub.host], &[])
    };

    let run = digest("forbidden/app:1");
    assert_eq!(run.code, 3);
    assert!(run.error_line().contains("403 Forbidden DENIED: requested access to the resource is denied — an anonymous client may not read forbidden/app"), "{}", run.stderr);

    let run = digest("throttled/app:1");
    assert_eq!(run.code, 3);
    assert!(
        run.error_line().contains(
            "429 Too Many Requests TOOMANYREQUESTS: slow down after 5 attempts — the registry is throttling us"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(stub.hits("/v2/throttled/app/manifests/1"), 5, "retried up to the policy's 5 attempts");

    let run = digest("flaky/app:1");
    assert_eq!(run.code, 0, "a 503 is retried: {}", run.stderr);
    assert_eq!(stub.hits("/v2/flaky/app/manifests/1"), 2);
    assert!(run.stdout.contains(&stub::sha256(&stub::Image::new().manifest)));

    let run = digest("mismatch/app:1");
    assert_eq!(run.code, 3);
    let expected = format!(
        "the registry says sha256:{} (Docker-Content-Digest) but the bytes it sent hash to {}",
        "0".repeat(64),
        stub::sha256(&stub::Image::new().manifest)
    );
    assert!(run.error_line().contains(&expected), "{}", run.stderr);

    // A platform manifest asked for by its digest and answered with other bytes, whose
    // Docker-Content-Digest is honest about them (issue 18 red team, round three: held).
    let run = digest("swapped/app:1");
    assert_eq!(run.code, 3, "{}", run.stdout);
    let image = stub::Image::new();
    let expected = format!(
        "was asked for by digest {} but the bytes hash to {}",
        stub::sha256(&image.manifest),
        stub::sha256(&stub::other_manifest(&image))
    );
    assert!(run.error_line().contains(&expected), "{}", run.stderr);

    for path in ["huge/app:1", "huge-unannounced/app:1"] {
        let run = digest(path);
        assert_eq!(run.code, 3);
        assert!(
            run.error_line().ends_with("is larger than 4194304 bytes, the limit for manifests"),
            "{path}: {}",
            run.stderr
        );
    }
    for run in [digest("forbidden/app:1"), digest("mismatch/app:1")] {
        assert_eq!(run.stderr.lines().filter(|l| l.starts_with("error: ")).count(), 1);
    }
}

#[test]
fn comparing_two_indexes_takes_one_get_per_manifest() {
    let f = fixture();
    let (tested, released) = (f.plain("bench/tested:1"), f.plain("bench/released:1"));
    let run = release_audit(
        &["compare", &tested, &released, "--insecure-registry", &f.plain.host, "--json", "--layer-diff-limit", "0"],
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    // The registry's own access log: 2 index GETs by tag + 4 platform manifests by digest, each once.
    let mut gets: Vec<String> = f
        .plain
        .requests_matching("/manifests/")
        .into_iter()
        .filter(|l| l.contains("/v2/bench/") && l.contains("\"release-audit/"))
        .collect();
    gets.iter_mut().for_each(|l| *l = l.split('"').nth(1).unwrap().to_string());
    gets.sort();
    let unique: std::collections::BTreeSet<&String> = gets.iter().collect();
    assert_eq!(gets.len(), 6, "{gets:#?}");
    assert_eq!(unique.len(), 6, "no manifest fetched twice: {gets:#?}");
    assert!(gets.iter().all(|g| g.starts_with("GET ")), "{gets:#?}");
    // In-process: the same 6 manifest GETs plus the two arm64 configs for the explanation.
    // (That they are issued concurrently is proved structurally against a registry that
    // holds each answer until a second request arrives: tests/it/hostile_images.rs.)
    assert_eq!(json["requests"]["requests"], 8, "{}", json["requests"]);
}

/// The action end to end with image evidence: the pair's verdict fails the release,
/// the bundle holds the records and manifest bytes, the statements name the tested
/// digests, the summary explains, and `verify` accepts the bundle.
#[test]
fn the_action_puts_image_evidence_into_the_bundle_statements_and_summary() {
    use release_audit_test_support::step::SHA;
    use release_audit_test_support::{FakeGitHub, Step, zip_bytes};
    let f = fixture();
    let tested = f.plain("dev/multi:PR-1");
    let released = f.plain("prod/multi:changed");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let fake = FakeGitHub::start().await;
        let backend = fake.add_run(950, "e2e.yml", SHA, "success");
        let junit =
            br#"<testsuites><testsuite name="e2e" tests="1"><testcase name="TestOk"/></testsuite></testsuites>"#;
        fake.seed_artifact(&backend, "pr-e2e-report", &zip_bytes(&[("junit.xml", junit)])).await;
        let mut step = Step::with_fake(&fake);
        step.input("release-version", "1.0.0")
            .input("run-ids", "950")
            .input("e2e-reports", "pr-e2e-report")
            .input("required-reports", "e2e")
            .input("include-run-logs", "false")
            .input("upload", "false")
            .input("tested-image", &tested)
            .input("release-image", &released)
            .input("insecure-registries", &f.plain.host);
        let binary = std::path::Path::new(env!("CARGO_BIN_EXE_release-audit"));
        let result = step.run(binary, &[]).await;
        assert_eq!(result.code, 1, "the arm64 manifest differs: {}", result.stderr);
        let dir = step.resolve(&result.outputs["bundle-path"]).with_extension("");
        let manifest: Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        let pair = &manifest["evidence"]["images"]["pairs"][0];
        assert_eq!(pair["verdict"], "different");
        assert_eq!(pair["tested"]["digest"].as_str().unwrap(), skopeo_digest(&tested, None));
        assert!(
            manifest["verdict"]["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r.as_str().unwrap().starts_with("image `multi`")),
            "{manifest}"
        );
        assert!(dir.join("images/multi.json").exists());

        let statement: Value =
            serde_json::from_slice(&std::fs::read(dir.join("statements/e2e.intoto.json")).unwrap()).unwrap();
        let subject_digests: Vec<&str> =
            statement["subject"].as_array().unwrap().iter().filter_map(|s| s["digest"]["sha256"].as_str()).collect();
        let tested_hex = skopeo_digest(&tested, None).trim_start_matches("sha256:").to_string();
        assert!(subject_digests.contains(&tested_hex.as_str()), "{statement}");

        assert!(result.summary.contains("```mermaid"), "{}", result.summary);
        assert!(result.summary.contains(&tested), "{}", result.summary);

        let verify = Command::new(binary).arg("verify").arg(&dir).output().unwrap();
        assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
        // A stored manifest whose bytes no longer match its digest is named.
        let one = std::fs::read_dir(dir.join("images/manifests")).unwrap().next().unwrap().unwrap().path();
        let mut bytes = std::fs::read(&one).unwrap();
        bytes.push(b' ');
        std::fs::write(&one, bytes).unwrap();
        let verify = Command::new(binary).arg("verify").arg(&dir).output().unwrap();
        let out = String::from_utf8_lossy(&verify.stdout);
        assert_eq!(verify.status.code(), Some(1));
        assert!(out.contains("not to the digest in its name"), "{out}");
    });
}

fn skopeo_copy(from: &str, to: &str) {
    let out = Command::new("skopeo")
        .args(["copy", "-q", "--all", "--src-tls-verify=false", "--dest-tls-verify=false"])
        .arg(format!("docker://{from}"))
        .arg(format!("docker://{to}"))
        .output()
        .expect("skopeo runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `verify --online` says whether the released tag still points at what was audited.
#[test]
fn verify_online_says_when_a_released_tag_has_moved() {
    use release_audit_test_support::Step;
    let f = fixture();
    // A tag of its own, so no other test sees it move.
    let released = f.plain("prod/moving:1.0.0");
    skopeo_copy(&f.plain("dev/multi:PR-1"), &released);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut step = Step::new();
        step.input("release-version", "1.0.0")
            .input("required-reports", "none")
            .input("upload", "false")
            .input("tested-image", &f.plain("dev/multi:PR-1"))
            .input("release-image", &released)
            .input("expected-digest", &skopeo_digest(&f.plain("dev/multi:PR-1"), None))
            .input("insecure-registries", &f.plain.host);
        let binary = std::path::Path::new(env!("CARGO_BIN_EXE_release-audit"));
        let result = step.run(binary, &[]).await;
        assert_eq!(result.code, 0, "{}", result.stderr);
        let zip = step.resolve(&result.outputs["bundle-path"]);

        let online =
            release_audit(&["verify", "--online", "--insecure-registry", &f.plain.host, zip.to_str().unwrap()], &[]);
        assert_eq!(online.code, 0, "{}{}", online.stdout, online.stderr);
        assert!(
            online.stdout.contains(&format!("unmoved: {released} @ {}", skopeo_digest(&released, None))),
            "{}",
            online.stdout
        );

        // The tag is re-pointed after the release: offline the bundle still holds, online it does not.
        skopeo_copy(&f.plain("prod/multi:changed"), &released);
        assert_eq!(release_audit(&["verify", zip.to_str().unwrap()], &[]).code, 0);
        let moved =
            release_audit(&["verify", "--online", "--insecure-registry", &f.plain.host, zip.to_str().unwrap()], &[]);
        assert_eq!(moved.code, 1, "{}", moved.stdout);
        assert!(
            moved.stdout.contains(&format!(
                "moved: image `moving`: {released} now resolves to {}",
                skopeo_digest(&released, None)
            )),
            "{}",
            moved.stdout
        );
    });
}

/// `repo:tag@sha256:…` is compared by its digest, and its tag must name that digest:
/// when the tag has moved to another build, the pair fails and says so.
#[test]
fn a_tag_pinned_to_a_digest_must_still_name_it() {
    let f = fixture();
    let released = f.plain("prod/pinned:1.0.0");
    skopeo_copy(&f.plain("dev/multi:PR-1"), &released);
    let pinned = format!("{released}@{}", skopeo_digest(&released, None));
    let tested = f.plain("dev/multi:PR-1");
    let run = release_audit(&["compare", &tested, &pinned, "--insecure-registry", &f.plain.host, "--json"], &[]);
    assert_eq!(run.code, 0, "tag and digest agree: {}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["verdict"], "identical");

    // The tag moves to another build; the pinned digest still exists.
    skopeo_copy(&f.plain("prod/multi:changed"), &released);
    let run = release_audit(&["compare", &tested, &pinned, "--insecure-registry", &f.plain.host, "--json"], &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_ne!(json["verdict"], "identical", "{json}");
    assert!(json.to_string().contains("contradicts itself: its tag `1.0.0` names"), "{json}");
}

/// The same image pushed again with its layers recompressed (another gzip level): the
/// config — and with it every layer's uncompressed digest — is unchanged, so each
/// differing layer is explained as compression only, without downloading it.
#[test]
fn recompressed_layers_under_one_config_are_explained_as_compression() {
    let f = fixture();
    let (tested, released) = (f.plain("dev/app:PR-1"), f.plain("prod/regzip:1.0.0"));
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("layout");
    let skopeo = |from: String, to: String| {
        let out = Command::new("skopeo")
            .args(["copy", "-q", "--src-tls-verify=false", "--dest-tls-verify=false"])
            .arg(from)
            .arg(to)
            .output()
            .expect("skopeo runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    skopeo(format!("docker://{tested}"), format!("oci:{}:1", layout.display()));
    // Every layer gunzipped and gzipped again at level 1; the manifest names the new
    // blobs, the config stays as it was.
    let script = r#"
import gzip, hashlib, json, os, sys, zlib
root = sys.argv[1]
blob = lambda d: os.path.join(root, "blobs", "sha256", d.split(":")[1])
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(os.path.join(root, "blobs", "sha256", d), "wb").write(data)
    return "sha256:" + d, len(data)
index = json.load(open(os.path.join(root, "index.json")))
desc = index["manifests"][0]
manifest = json.load(open(blob(desc["digest"])))
for layer in manifest["layers"]:
    raw = gzip.decompress(open(blob(layer["digest"]), "rb").read())
    layer["digest"], layer["size"] = put(gzip.compress(raw, compresslevel=1, mtime=0))
desc["digest"], desc["size"] = put(json.dumps(manifest).encode())
json.dump(index, open(os.path.join(root, "index.json"), "w"))
"#;
    let out = Command::new("python3").arg("-c").arg(script).arg(&layout).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    skopeo(format!("oci:{}:1", layout.display()), format!("docker://{released}"));

    let run = release_audit(&["compare", &tested, &released, "--insecure-registry", &f.plain.host, "--json"], &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    let f = findings(&json);
    let layers: Vec<_> = f.iter().filter(|f| f.3.starts_with("layer ")).collect();
    assert!(!layers.is_empty(), "{f:#?}");
    assert!(layers.iter().all(|l| l.3.contains("same uncompressed content") && l.2 == "compression"), "{f:#?}");
}

/// `compare` judges two references, and says that this alone would not pass an audit:
/// only the build's digest (or a test job's image record) proves which digest was tested.
#[test]
fn compare_says_whether_anything_but_the_references_proves_the_pair() {
    let (run, json) = compare("dev/app:PR-1", "prod/app:1.0.0", &[]);
    assert_eq!((run.code, json["verdict"].as_str()), (0, Some("identical")), "{}", run.stderr);
    assert_eq!((json["proven_by"].clone(), json["audit_passes"].as_bool()), (serde_json::json!([]), Some(false)));
    let f = fixture();
    let (tested, released) = (f.plain("dev/app:PR-1"), f.plain("prod/app:1.0.0"));
    let text = release_audit(&["compare", &tested, &released, "--insecure-registry", &f.plain.host], &[]);
    assert!(text.stdout.contains("proof     none: an audit fails this pair"), "{}", text.stdout);
    assert!(text.stdout.contains("not proven: ") && !text.stdout.contains("is the tested image"), "{}", text.stdout);

    let built = skopeo_digest(&tested, None);
    let (run, json) = compare("dev/app:PR-1", "prod/app:1.0.0", &["--expected-digest", &built]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        (json["proven_by"].clone(), json["audit_passes"].as_bool()),
        (serde_json::json!(["expected-digest"]), Some(true))
    );
}
