//! Kyma's releases as they run, replayed against the fakes with the inputs the README's
//! Kyma snippets pass (each snippet is read from README.md by its `<!-- tested: NAME -->`
//! marker, its audit step's `with:` taken as the step's inputs, `${{ … }}` expressions
//! replaced by what the runner would put there).
//!
//! telemetry-manager: `create-release.yml` runs on `main`, tags a later commit of
//! `release-X.Y` (annotated), and the tag push starts `build-manager-image.yml`, a
//! separate `push` run whose job `build-image / Build image` (test-infra's
//! image-builder) logs the image build report with the digest of the one build behind
//! both `X.Y.Z` and `X.Y.Z-experimental`. The test workflows' reports and image records
//! are artifacts of the release run; a test job's environment (`github-actions`) and the
//! audit job's (`release`) are approved; the GitHub release is created after the audit,
//! and `attach` puts the very bytes of the uploaded bundle on it.
//!
//! api-gateway: the image is built inside the release run; the build job's `digest`
//! output is the expected digest (`expect` on the pair); the tag is made after the audit.
//! btp-manager (docs/kyma.md): the audit on `release: released` finds the release run by
//! the tag's commit and attaches. eventing-manager (docs/kyma.md): push runs of the tag's
//! commit by `workflows`, the tag build's digest by `build-workflow` + `build-job`.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use release_audit_test_support::fake::{FakeJob, FakeStep};
use release_audit_test_support::step::RUN_ID;
use release_audit_test_support::{FakeGitHub, Step, StepResult, zip_bytes};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::{binary, image_record};

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

const JUNIT: &str = r#"<testsuites><testsuite name="e2e" tests="2" failures="0" time="1.0"><testcase classname="logs" name="a" time="0.5"/><testcase classname="logs" name="b" time="0.5"/></testsuite></testsuites>"#;

/// One single-platform image (manifest and config) per build id.
fn image(build: &str) -> (Vec<u8>, Vec<u8>) {
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {"Labels": {"build": build}},
        "rootfs": {"type": "layers", "diff_ids": []}
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&config), "size": config.len()},
        "layers": []
    }))
    .unwrap();
    (manifest, config)
}

/// A registry serving `repo:tag → build` for the given tags (plain HTTP); returns its host.
fn registry(tags: &[(&str, &str, &str)]) -> String {
    let mut by_path: HashMap<String, (&'static str, Vec<u8>)> = HashMap::new();
    for (repo, tag, build) in tags {
        let (manifest, config) = image(build);
        let kind = "application/vnd.oci.image.manifest.v1+json";
        by_path.insert(format!("/v2/{repo}/manifests/{tag}"), (kind, manifest.clone()));
        by_path.insert(format!("/v2/{repo}/manifests/{}", sha256(&manifest)), (kind, manifest));
        by_path.insert(format!("/v2/{repo}/blobs/{}", sha256(&config)), ("application/json", config));
    }
    let by_path = Arc::new(by_path);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let by_path = by_path.clone();
            std::thread::spawn(move || {
                let Some(request) = crate::image_support::stub::read_request(&stream) else { return };
                let (status, kind, body) = match by_path.get(&request.target) {
                    Some((kind, body)) => ("200 OK", *kind, body.clone()),
                    None if request.target == "/v2/" => ("200 OK", "application/json", b"{}".to_vec()),
                    None => (
                        "404 Not Found",
                        "application/json",
                        br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}"#.to_vec(),
                    ),
                };
                let mut out = stream;
                let head = format!(
                    "HTTP/1.1 {status}\r\nConnection: close\r\nContent-Type: {kind}\r\nDocker-Content-Digest: {}\r\nContent-Length: {}\r\n\r\n",
                    sha256(&body),
                    body.len()
                );
                let _ = out.write_all(head.as_bytes());
                let _ = out.write_all(&body);
            });
        }
    });
    host
}

/// The digest of `build`'s image.
fn digest_of(build: &str) -> String {
    sha256(&image(build).0)
}

/// The job log of test-infra's `image-builder` (`cmd/image-builder/main.go`): its own
/// lines, then the last log of the ADO pipeline run it prints (the report task's, each
/// line with ADO's timestamp), every line with GitHub's timestamp in front.
/// `other_output` is anything else that log might hold (hostile cases).
fn image_builder_log(images: &[String], tags: &[&str], digest: &str, other_output: &[&str]) -> String {
    let report = serde_json::to_string_pretty(&serde_json::json!({
        "status": "Succeeded", "pushed": true, "signed": true, "image_name": "telemetry-manager",
        "tags": tags, "repository_path": "europe-docker.pkg.dev/kyma-project/prod",
        "images_list": images, "digest": digest, "architectures": ["linux/amd64", "linux/arm64"]
    }))
    .unwrap();
    let mut ado = vec!["##[section]Starting: print_image_build_report".to_string()];
    ado.extend(other_output.iter().map(|l| l.to_string()));
    ado.push(format!("[#debug] Build Report: {{status: Succeeded, pushed: true, digest: {digest}}}"));
    ado.push("---IMAGE BUILD REPORT---".into());
    ado.extend(report.lines().map(str::to_string));
    ado.push("---END OF IMAGE BUILD REPORT---".into());
    ado.push("##[section]Finishing: print_image_build_report".into());
    let mut lines = vec![
        "##[group]Run ./image-builder --name=telemetry-manager --context=. --dockerfile=Dockerfile".to_string(),
        "ADO pipeline run finished with status: Succeeded".into(),
        "Getting ADO pipeline run logs.".into(),
        "ADO pipeline image build logs:".into(),
    ];
    lines.extend(
        ado.iter().enumerate().map(|(i, l)| format!("2026-08-21T10:41:{:02}.{:07}Z {l}", i % 60, 4_260_338 + i)),
    );
    lines.push("Getting build report.".into());
    let mut log = String::from("\u{feff}");
    for (i, l) in lines.iter().enumerate() {
        log.push_str(&format!("2026-08-21T10:42:{:02}.{:07}Z {l}\n", i % 60, 1_000_000 + i));
    }
    log
}

/// The `with:` of the release-audit step in the README block marked `<!-- tested: NAME -->`
/// (or, for `docs/…` names, in that file's block).
fn readme_inputs(name: &str) -> Vec<(String, String)> {
    let file = if name.starts_with("eventing") || name.starts_with("btp") { "docs/kyma.md" } else { "README.md" };
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
    let marker = format!("<!-- tested: {name} -->");
    let at = readme.find(&marker).unwrap_or_else(|| panic!("README has no {marker}"));
    let rest = &readme[at..];
    let start = rest.find("```yaml\n").expect("a yaml block follows the marker") + "```yaml\n".len();
    let block = &rest[start..start + rest[start..].find("```").unwrap()];
    let doc: serde_norway::Value = serde_norway::from_str(block).unwrap();
    let mut found = None;
    // A whole workflow, or job definitions to paste under `jobs:`.
    let jobs = doc.get("jobs").unwrap_or(&doc).as_mapping().unwrap();
    for job in jobs.values() {
        for step in job.get("steps").and_then(|s| s.as_sequence()).into_iter().flatten() {
            let uses = step.get("uses").and_then(|u| u.as_str()).unwrap_or_default();
            if uses.starts_with("kyma-project/release-audit@") {
                found = step.get("with").cloned();
            }
        }
    }
    let with = found.unwrap_or_else(|| panic!("{marker}: no release-audit step"));
    with.as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let value = match v {
                serde_norway::Value::String(s) => s.clone(),
                serde_norway::Value::Bool(b) => b.to_string(),
                serde_norway::Value::Number(n) => n.to_string(),
                other => panic!("{k:?}: {other:?}"),
            };
            (k.as_str().unwrap().to_string(), value)
        })
        .collect()
}

/// The step with the README snippet's inputs, expressions replaced as the runner
/// would, the Kyma registry replaced by the local one.
fn snippet_step(fake: &FakeGitHub, name: &str, expressions: &[(&str, &str)], host: &str) -> Step {
    let mut step = Step::with_fake(fake);
    for (input, value) in readme_inputs(name) {
        let mut value = value.replace("europe-docker.pkg.dev", host);
        for (expression, replacement) in expressions {
            value = value.replace(expression, replacement);
        }
        assert!(!value.contains("${{"), "{name}: `{input}` has an expression the test does not replace: {value}");
        step.input(&input, &value);
    }
    step.input("insecure-registries", host).input("github-token", &fake.rest_token);
    step
}

fn json(step: &Step, result: &StepResult, rel: &str) -> Value {
    serde_json::from_slice(&step.bundle_file(result, rel)).unwrap()
}

fn verify(path: &Path) -> (i32, String) {
    let out = Command::new(binary()).arg("verify").arg(path).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

/// `release-X.Y` history: 1.2.0 released, a reviewed change (pre-released as
/// `1.3.0-rc1`), the version-bump merge (tagged `tag`, annotated, as `prepare-release`
/// does), and main moved on.
/// Returns (tagged commit, main's head).
fn history(fake: &FakeGitHub, tag: &str) -> (String, String) {
    let c = &fake.changes;
    let root = c.commit("initial", "alice", &[], true);
    let released = c.commit("chore: release preparation: bump version to 1.2.0 (#1)", "kyma-bot", &[&root], true);
    c.annotated_tag("1.2.0", &released);
    let feature = c.commit("Add a log pipeline feature (#2)", "alice", &[&released], true);
    let head2 = format!("{:040x}", 2);
    c.pull(2, "Add a log pipeline feature", "alice", &head2, &feature, &[]);
    c.review(2, "bob", "APPROVED", &head2);
    // A pre-release of this version came first (`pre-release-1.3.0`).
    c.annotated_tag("1.3.0-rc1", &feature);
    let bump =
        c.commit(&format!("chore: release preparation: bump version to {tag} (#3)"), "kyma-bot", &[&feature], true);
    let head3 = format!("{:040x}", 3);
    c.pull(3, &format!("chore: release preparation: bump version to {tag}"), "kyma-bot", &head3, &bump, &[]);
    c.review(3, "alice", "APPROVED", &head3);
    c.annotated_tag(tag, &bump);
    let main = c.commit("an unreviewed change on main", "mallory", &[&feature], true);
    (bump, main)
}

/// The tag push's `Build Manager Image` run with its image-builder job and log.
async fn build_run(fake: &FakeGitHub, run_id: u64, tag: &str, commit: &str, log: &str) -> u64 {
    fake.add_push_run(run_id, "build-manager-image.yml", tag, commit, "success");
    let job_id = run_id * 10 + 1;
    fake.add_job(
        run_id,
        FakeJob::completed(
            run_id * 10,
            "envs",
            "success",
            vec![FakeStep::completed("Set up job", "success", "2026-08-21T10:30:00Z", "2026-08-21T10:30:05Z")],
        ),
    );
    fake.add_job(
        run_id,
        FakeJob::completed(
            job_id,
            "build-image / Build image",
            "success",
            vec![FakeStep::completed("Build image", "success", "2026-08-21T10:30:10Z", "2026-08-21T10:42:30Z")],
        ),
    );
    fake.seed_job_log(job_id, log.as_bytes()).await;
    job_id
}

/// The release run's test artifacts (named as telemetry's workflows name them), each
/// with its JUnit file and the image record of what the test job ran.
async fn test_artifacts(fake: &FakeGitHub, record: &[u8]) {
    for name in ["pr-e2e-logs-otel-a-report", "pr-e2e-upgrade-report", "gardener-gardener-integration-test-1.34-report"]
    {
        let files = zip_bytes(&[("junit-report-x.xml", JUNIT.as_bytes()), ("image-record-x.json", record)]);
        fake.seed_artifact(&fake.run_backend_id, name, &files).await;
    }
}

struct Telemetry {
    fake: FakeGitHub,
    host: String,
    tag: String,
    commit: String,
    main: String,
}

/// telemetry's release of `tag`, up to the audit: history, registry (both tags one
/// build), the build run of the tag push, the test artifacts, the approvals.
async fn telemetry(tag: &str, experimental_build: &str, other_output: &[&str]) -> Telemetry {
    release_audit::http::Net::default();
    let fake = FakeGitHub::start().await;
    let (commit, main) = history(&fake, tag);
    let repo = "kyma-project/prod/telemetry-manager";
    let experimental = format!("{tag}-experimental");
    let host = registry(&[(repo, tag, "build-1"), (repo, &experimental, experimental_build)]);
    let images: Vec<String> = [tag, experimental.as_str()]
        .iter()
        .map(|t| format!("{host}/kyma-project/prod/telemetry-manager:{t}"))
        .collect();
    let log = image_builder_log(&images, &[tag, &experimental], &digest_of("build-1"), other_output);
    build_run(&fake, 900, tag, &commit, &log).await;
    test_artifacts(&fake, &image_record(&images[0], &host)).await;
    fake.changes.approval(RUN_ID, "test-lead", "approved", "github-actions", "run the Gardener tests");
    fake.changes.approval(RUN_ID, "release-manager", "approved", "release", "ship it");
    Telemetry { fake, host, tag: tag.to_string(), commit, main }
}

impl Telemetry {
    /// The audit job of the README's telemetry snippet, on `main`, for a release
    /// (`pre_release` false) or a pre-release.
    fn audit_step(&self, version: &str, pre_release: bool) -> Step {
        // `RELEASE_TAG` is create-release.yml's tag expression, as the runner evaluates it.
        let release_tag = if pre_release { self.tag.as_str() } else { version };
        let mut step =
            snippet_step(&self.fake, "kyma-telemetry", &[("${{ env.RELEASE_TAG }}", release_tag)], &self.host);
        step.input("upload", "true").set("GITHUB_SHA", &self.main).set("GITHUB_REF", "refs/heads/main");
        step
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn telemetry_release_takes_the_digest_from_the_tag_push_build_and_attaches_the_same_bytes() {
    let t = telemetry(
        "1.3.0",
        "build-1",
        &["Generating script.", "[command]/usr/bin/bash /home/vsts/work/_temp/report.sh"],
    )
    .await;
    let step = t.audit_step("1.3.0", false);
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stderr, result.summary);

    let m = json(&step, &result, "manifest.json");
    assert_eq!(m["source"]["commit"], t.commit.as_str(), "the tag's commit, not main's");
    assert_eq!(m["evidence"]["changes"]["range"]["head_sha"], t.commit.as_str());
    assert_eq!(m["evidence"]["changes"]["previous_release"], "1.2.0", "a final release skips the pre-releases");
    let images = &m["evidence"]["images"];
    let build = &images["build"];
    let digest = digest_of("build-1");
    assert_eq!(build["digest"], digest.as_str(), "{build}");
    assert_eq!(build["tag"], "1.3.0");
    assert_eq!(build["commit"], t.commit.as_str());
    assert_eq!(build["workflow"], "build-manager-image.yml");
    assert_eq!(build["logs"][0]["run_id"], 900);
    assert_eq!(build["logs"][0]["job_id"], 9001);
    assert_eq!(build["applied_to"], serde_json::json!(["manager", "experimental"]));
    let log = step.bundle_file(&result, "images/build/job-9001.log");
    assert_eq!(build["logs"][0]["sha256"], hex::encode(Sha256::digest(&log)), "the log kept is the log read");
    for pair in images["pairs"].as_array().unwrap() {
        assert_eq!(pair["expected_digest"], digest.as_str(), "both tags are one build: {pair}");
        assert_eq!(pair["released"]["digest"], digest.as_str(), "{pair}");
        assert_eq!(pair["passed"], true, "{pair}");
        let proofs = pair["proven_by"].as_array().unwrap();
        assert!(proofs.iter().any(|p| p == "expected-digest"), "{pair}");
    }
    assert_eq!(images["pairs"][0]["proven_by"], serde_json::json!(["expected-digest", "image-record"]));
    let calls = t.fake.calls("GET workflow runs");
    assert!(
        calls.iter().any(|c| c["event"] == "push" && c["branch"] == "1.3.0" && c["head_sha"] == t.commit.as_str()),
        "the build run was looked up by tag and commit: {calls:?}"
    );
    let c = &m["evidence"]["changes"];
    assert_eq!(c["release_approval"]["detail"], "approved by release-manager", "only the named environment: {c}");
    assert!(result.summary.contains(&digest[..19]), "{}", result.summary);
    let (code, out) = verify(&step.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("build digest: {digest} re-read from images/build/job-9001.log (run 900, job 9001")),
        "verify says where the digest came from: {out}"
    );

    // GoReleaser creates the release after the audit; attach puts the uploaded bytes on it.
    let zip = std::fs::read(step.resolve(&result.outputs["bundle-path"])).unwrap();
    let release = t.fake.add_release("1.3.0", false);
    let mut attach = Step::with_fake(&t.fake);
    attach.input("github-token", &t.fake.rest_token);
    for (input, value) in readme_attach_inputs() {
        attach
            .input(&input, &value.replace("${{ env.RELEASE_TAG }}", "1.3.0").replace("${{ inputs.version }}", "1.3.0"));
    }
    let attached = attach.run(&binary(), &["attach"]).await;
    assert_eq!(attached.code, 0, "{}\n{}", attached.stdout, attached.stderr);
    let assets = t.fake.release_assets(release);
    assert!(assets[0].bytes == zip, "the attached zip is the uploaded artifact, byte for byte");
}

/// The attach step's `with:` in the telemetry snippet's `create-release` job.
fn readme_attach_inputs() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let marker = "<!-- tested: kyma-telemetry-attach -->";
    let rest = &readme[readme.find(marker).expect("the attach snippet is marked")..];
    let start = rest.find("```yaml\n").unwrap() + "```yaml\n".len();
    let block = &rest[start..start + rest[start..].find("```").unwrap()];
    let doc: serde_norway::Value = serde_norway::from_str(block).unwrap();
    let steps = doc.as_mapping().unwrap().values().next().unwrap()["steps"].as_sequence().unwrap().clone();
    let step = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("kyma-project/release-audit/attach@")))
        .expect("an attach step");
    step["with"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_string(), v.as_str().unwrap().to_string()))
        .collect()
}

/// The experimental tag names another build than the one the tag push reported: the
/// pair fails, named, though `manager` passes.
#[tokio::test(flavor = "multi_thread")]
async fn a_tag_that_is_not_the_reported_build_fails_its_pair() {
    let t = telemetry("1.3.0", "build-2", &[]).await;
    let step = t.audit_step("1.3.0", false);
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stderr, result.summary);
    let m = json(&step, &result, "manifest.json");
    let pairs = &m["evidence"]["images"]["pairs"];
    assert_eq!(pairs[0]["passed"], true, "{pairs}");
    assert_eq!(pairs[1]["passed"], false, "{pairs}");
    assert_eq!(pairs[1]["verdict"], "expected-digest-mismatch", "{pairs}");
    let (code, out) = verify(&step.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "a failed audit's bundle verifies too: {out}");
}

/// The log holds a second, forged report: which report image-builder used cannot be
/// told, so no digest is taken.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_report_in_the_build_log_is_refused() {
    let forged = format!("\"digest\": \"{}\"", digest_of("build-2"));
    let t = telemetry(
        "1.3.0",
        "build-1",
        &["---IMAGE BUILD REPORT---", "{", &forged, "}", "---END OF IMAGE BUILD REPORT---"],
    )
    .await;
    let step = t.audit_step("1.3.0", false);
    let result = step.run(&binary(), &[]).await;
    assert_ne!(result.code, 0, "{}", result.stderr);
    assert!(result.stderr.contains("2 report start and 2 end markers"), "the error says why: {}", result.stderr);
}

/// A pre-release: `pre_release: true` tags `1.3.0-rc2` on `pre-release-1.3.0` (rc1 came
/// first); the tag push builds `1.3.0-rc2` and `1.3.0-rc2-experimental`; the snippet's
/// expression gives the audit the rc tag, and the bundle names the rc's commit.
#[tokio::test(flavor = "multi_thread")]
async fn telemetry_pre_release_audits_the_rc_tag_and_its_build() {
    let t = telemetry("1.3.0-rc2", "build-1", &[]).await;
    let step = t.audit_step("1.3.0", true);
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stderr, result.summary);
    let m = json(&step, &result, "manifest.json");
    assert_eq!(m["release"]["version"], "1.3.0-rc2", "{}", m["release"]);
    assert_eq!(m["source"]["commit"], t.commit.as_str());
    assert_eq!(m["source"]["commit_source"]["tag"], "1.3.0-rc2");
    assert_eq!(m["evidence"]["changes"]["previous_release"], "1.3.0-rc1", "a pre-release follows the pre-releases");
    let images = &m["evidence"]["images"];
    assert_eq!(images["build"]["tag"], "1.3.0-rc2");
    let released: Vec<&str> =
        images["pairs"].as_array().unwrap().iter().map(|p| p["released"]["reference"].as_str().unwrap()).collect();
    assert!(released[0].ends_with(":1.3.0-rc2") && released[1].ends_with(":1.3.0-rc2-experimental"), "{released:?}");
    let (code, out) = verify(&step.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");
}

/// api-gateway: the image is built in the release run (`build-image`, image-builder);
/// its job output `digest` is the expected digest, given with `expect`. The tag is made
/// later in the run (lightweight, on `github.sha`): the gating audit names that commit.
#[tokio::test(flavor = "multi_thread")]
async fn api_gateway_takes_the_digest_from_the_build_job_output() {
    release_audit::http::Net::default();
    let fake = FakeGitHub::start().await;
    let c = &fake.changes;
    let root = c.commit("initial", "alice", &[], true);
    c.tag("3.1.0", &root);
    let head = c.commit("Bump version (#7)", "alice", &[&root], true);
    let repo = "kyma-project/prod/api-gateway/releases/api-gateway-manager";
    let host = registry(&[(repo, "3.2.0", "gw-1")]);
    let digest = digest_of("gw-1");
    let mut step = snippet_step(
        &fake,
        "kyma-api-gateway",
        &[("${{ inputs.version }}", "3.2.0"), ("${{ needs.build-image.outputs.digest }}", &digest)],
        &host,
    );
    step.input("upload", "false").set("GITHUB_SHA", &head).set("GITHUB_REF", "refs/heads/release-3.2");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stderr, result.summary);
    let m = json(&step, &result, "manifest.json");
    assert_eq!(m["source"]["commit"], head.as_str(), "the commit the run started on, which is tagged later");
    assert_eq!(m["source"]["commit_source"]["from"], "runner_sha");
    let pair = &m["evidence"]["images"]["pairs"][0];
    assert_eq!(pair["expected_digest"], digest.as_str(), "{pair}");
    assert_eq!(pair["proven_by"], serde_json::json!(["expected-digest"]), "{pair}");
    assert_eq!(pair["passed"], true, "{pair}");
    assert!(m["evidence"]["images"].get("build").is_none(), "no build log is read: the output is the record");
    let (code, out) = verify(&step.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");

    // Another build's digest: the pair fails.
    let mut other = snippet_step(
        &fake,
        "kyma-api-gateway",
        &[("${{ inputs.version }}", "3.2.0"), ("${{ needs.build-image.outputs.digest }}", &digest_of("gw-2"))],
        &host,
    );
    other.input("upload", "false").set("GITHUB_SHA", &head);
    let result = other.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stderr, result.summary);
}

/// eventing-manager: no tests in the release run; `e2e.yml` and `test.yml` ran on the
/// push of the release branch's head, which the release run tags (lightweight); the tag
/// push's `tag-build-image.yaml` job `build-<version> / Build image` logged the build.
/// The snippet in docs/kyma.md finds the push runs by the tag's commit (`workflows`) and
/// the digest by `build-workflow` + `build-job`.
#[tokio::test(flavor = "multi_thread")]
async fn eventing_finds_push_runs_by_the_tags_commit_and_the_tag_build_by_its_job_name() {
    release_audit::http::Net::default();
    let fake = FakeGitHub::start().await;
    let c = &fake.changes;
    let root = c.commit("initial", "alice", &[], true);
    c.tag("1.4.0", &root);
    let head = c.commit("Bump kustomize image (#40)", "alice", &[&root], true);
    c.tag("1.5.0", &head);
    let repo = "kyma-project/prod/eventing-manager";
    let host = registry(&[(repo, "1.5.0", "ev-1"), (repo, &head, "ev-1")]);
    let images: Vec<String> = ["1.5.0", head.as_str()].iter().map(|t| format!("{host}/{repo}:{t}")).collect();
    let log = image_builder_log(&images, &[&head, "1.5.0"], &digest_of("ev-1"), &[]);
    fake.add_push_run(950, "tag-build-image.yaml", "1.5.0", &head, "success");
    fake.add_job(
        950,
        FakeJob::completed(
            9501,
            "build-1.5.0 / Build image",
            "success",
            vec![FakeStep::completed("Build image", "success", "2026-06-16T10:30:00Z", "2026-06-16T10:42:00Z")],
        ),
    );
    fake.seed_job_log(9501, log.as_bytes()).await;
    fake.add_push_run(960, "e2e.yml", "release-1.5", &head, "success");
    fake.add_push_run(961, "test.yml", "release-1.5", &head, "success");

    let mut step =
        snippet_step(&fake, "eventing-manager", &[("${{ needs.generate-version.outputs.VERSION }}", "1.5.0")], &host);
    step.input("upload", "false").set("GITHUB_SHA", &head).set("GITHUB_REF", "refs/heads/release-1.5");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stderr, result.summary);
    let m = json(&step, &result, "manifest.json");
    let sources: Vec<u64> =
        m["evidence"]["tests"]["sources"].as_array().unwrap().iter().filter_map(|s| s["run_id"].as_u64()).collect();
    assert!(sources.contains(&960) && sources.contains(&961), "the push runs of the tag's commit: {sources:?}");
    let build = &m["evidence"]["images"]["build"];
    assert_eq!(build["job"], "build-1.5.0 / Build image");
    assert_eq!(build["logs"][0]["job_id"], 9501);
    assert_eq!(build["applied_to"], serde_json::json!(["eventing-manager"]));
    assert_eq!(m["evidence"]["images"]["pairs"][0]["passed"], true);
    let (code, out) = verify(&step.resolve(&result.outputs["bundle-path"]));
    assert_eq!(code, 0, "{out}");
}

/// btp-manager: the audit runs on `release: released`, after the release run (which
/// tagged its start commit, lightweight, and published with an App token). The snippet
/// in docs/kyma.md finds that run by the tag's commit (`workflows`), keeps its record,
/// and attaches the bundle itself: the release exists.
#[tokio::test(flavor = "multi_thread")]
async fn btp_audits_on_release_released_and_attaches_to_the_release() {
    release_audit::http::Net::default();
    let fake = FakeGitHub::start().await;
    let c = &fake.changes;
    let root = c.commit("initial", "alice", &[], true);
    c.tag("2.0.0", &root);
    let head = c.commit("Bump sec-scanners-config (#88)", "alice", &[&root], true);
    c.tag("2.1.0", &head);
    fake.add_run(970, "create-release-with-version-submit.yaml", &head, "success");
    let release = fake.add_release("2.1.0", false);
    let mut step =
        snippet_step(&fake, "btp-manager", &[("${{ github.event.release.tag_name }}", "2.1.0")], "127.0.0.1:9");
    step.input("upload", "false").set("GITHUB_SHA", &head).set("GITHUB_EVENT_NAME", "release");
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stderr, result.summary);
    let m = json(&step, &result, "manifest.json");
    assert_eq!(m["source"]["commit_source"]["tag"], "2.1.0");
    let sources: Vec<u64> =
        m["evidence"]["tests"]["sources"].as_array().unwrap().iter().filter_map(|s| s["run_id"].as_u64()).collect();
    assert!(sources.contains(&970), "the release run of the tag's commit: {sources:?}");
    let zip = std::fs::read(step.resolve(&result.outputs["bundle-path"])).unwrap();
    let assets = fake.release_assets(release);
    assert_eq!(assets.len(), 2, "the zip and its SHA256SUMS");
    assert!(assets[0].bytes == zip, "the attached zip is the bundle written");
}

/// What the audit says when the build cannot be read: another job name than the one
/// that logged the report (the jobs are named), and no push run of the tag at its commit
/// (a run of the tag at another commit, from before the tag moved, does not count).
#[tokio::test(flavor = "multi_thread")]
async fn a_build_that_cannot_be_found_is_named_not_guessed() {
    let t = telemetry("1.3.0", "build-1", &[]).await;
    let mut step = t.audit_step("1.3.0", false);
    step.input("build-job", "build / Build image");
    let result = step.run(&binary(), &[]).await;
    assert_ne!(result.code, 0, "{}", result.stderr);
    assert!(result.stderr.contains("have no successful job named `build / Build image`"), "{}", result.stderr);
    assert!(result.stderr.contains("build-image / Build image"), "the jobs there are named: {}", result.stderr);

    release_audit::http::Net::default();
    let fake = FakeGitHub::start().await;
    let (commit, main) = history(&fake, "1.3.0");
    let earlier = fake.changes.commit("the commit the tag named before it moved", "kyma-bot", &[&commit], true);
    let host = registry(&[("kyma-project/prod/telemetry-manager", "1.3.0", "build-1")]);
    let image = format!("{host}/kyma-project/prod/telemetry-manager:1.3.0");
    let log = image_builder_log(std::slice::from_ref(&image), &["1.3.0"], &digest_of("build-1"), &[]);
    build_run(&fake, 900, "1.3.0", &earlier, &log).await;
    let t = Telemetry { fake, host, tag: "1.3.0".into(), commit: commit.clone(), main };
    let result = t.audit_step("1.3.0", false).run(&binary(), &[]).await;
    assert_ne!(result.code, 0, "{}", result.stderr);
    assert!(result.stderr.contains(&format!("there is no push run of the tag at {commit}")), "{}", result.stderr);
}
