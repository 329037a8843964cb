//! `release-audit record-image` through the binary: references resolved against a real
//! registry (Debian's docker-registry, images built with umoci and pushed with skopeo;
//! every digest cross-checked with `skopeo inspect --raw | sha256sum`), and a
//! `kubectl get pods,nodes -A -o json` document written by hand in the Kubernetes API's
//! shape. Every record written is validated against schema/image-record-v1.schema.json,
//! and read back and checked against a released image the way the audit does.
//!
//! Needs: docker-registry, skopeo, umoci (`tests/images/setup.sh`), python3 jsonschema.

#[allow(dead_code)]
use crate::image_support::build;
#[allow(dead_code)]
use crate::image_support::registry;
#[allow(dead_code)]
use crate::image_support::stub;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use release_audit::evidence::images::DigestRecord;
use release_audit::evidence::images::record::{ImageRecord, RecordVerdict, check_records};
use serde_json::{Value, json};

use build::{AMD64_2024, Config, Layout, file, skopeo_digest, skopeo_platforms};
use registry::{Auth, Registry};

/// One plain-HTTP registry holding:
/// dev/app:PR-1 and prod/app:1.0.0 — the same linux/amd64 + linux/arm64 index;
/// prod/app:changed — that index with linux/arm64 rebuilt from changed content;
/// prod/single:1 — a single-platform (linux/amd64) image.
struct Images {
    registry: Registry,
    _dir: tempfile::TempDir,
}

impl Images {
    fn at(&self, path: &str) -> String {
        format!("{}/{path}", self.registry.host)
    }
}

fn images() -> &'static Images {
    static IMAGES: OnceLock<Images> = OnceLock::new();
    IMAGES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::start(Auth::Anonymous);
        let layout = Layout::new(dir.path());
        let arm64 = Config { created: "2024-01-01T00:00:00Z", architecture: "arm64" };
        layout.build("base", "amd64", &[file("app/manager", b"manager 1.0.0\n")], &AMD64_2024);
        layout.build("base", "arm64", &[file("app/manager", b"manager 1.0.0\n")], &arm64);
        layout.build("base", "arm64-changed", &[file("app/manager", b"manager 1.0.1\n")], &arm64);
        layout.index("multi", &[("amd64", "linux/amd64"), ("arm64", "linux/arm64")], &[], "");
        layout.index("multi-changed", &[("amd64", "linux/amd64"), ("arm64-changed", "linux/arm64")], &[], "");
        for (tag, dest) in [
            ("multi", "dev/app:PR-1"),
            ("multi", "prod/app:1.0.0"),
            ("multi-changed", "prod/app:changed"),
            ("amd64", "prod/single:1"),
        ] {
            layout.push(tag, &format!("{}/{dest}", registry.host), None, None);
        }
        Images { registry, _dir: dir }
    })
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn error_line(&self) -> &str {
        self.stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("no error line in:\n{}", self.stderr))
    }
}

/// The identity of a job as the runner exports it.
const JOB_ENV: &[(&str, &str)] = &[
    ("GITHUB_REPOSITORY", "kyma-project/telemetry-manager"),
    ("GITHUB_WORKFLOW", "PR Integration"),
    ("GITHUB_RUN_ID", "14123456789"),
    ("GITHUB_RUN_ATTEMPT", "2"),
    ("GITHUB_JOB", "e2e-metrics"),
    ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
    ("RUNNER_OS", "Linux"),
    ("RUNNER_ARCH", "ARM64"),
];

fn release_audit(args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_release-audit"));
    cmd.args(args)
        .env("RELEASE_AUDIT_RETRY_BASE_MS", "5")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars() {
        if name.starts_with("GITHUB_")
            || name.starts_with("RUNNER_")
            || name.starts_with("INPUT_")
            || name.starts_with("RELEASE_AUDIT_REGISTRY")
        {
            cmd.env_remove(name);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the binary runs");
    let input = stdin.map(<[u8]>::to_vec);
    let mut pipe = child.stdin.take().unwrap();
    // Written from a thread: the binary may stop reading (a refused size) before the end.
    let writer = std::thread::spawn(move || {
        if let Some(bytes) = input {
            let _ = pipe.write_all(&bytes);
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Validates a record file against the published schema (Python's jsonschema, as the
/// manifest tests do) and returns it parsed.
fn validated(path: &Path) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("tests/support/validate_manifest.py"))
        .arg(root.join("schema/image-record-v1.schema.json"))
        .arg(path)
        .output()
        .expect("python3 runs (tests/run installs jsonschema)");
    assert!(
        out.status.success(),
        "{} does not match schema/image-record-v1.schema.json:\n{}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The released image as the audit resolves it (`release-audit digest --json`).
fn released(reference: &str) -> DigestRecord {
    let run =
        release_audit(&["digest", reference, "--insecure-registry", &images().registry.host, "--json"], &[], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    serde_json::from_value(json["images"][0].clone()).unwrap()
}

#[test]
fn references_are_resolved_now_with_index_and_platform_digests_and_the_job_identity() {
    let f = images();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("reports/image-record.json");
    let github_output = dir.path().join("github_output");
    std::fs::write(&github_output, "").unwrap();
    let (multi, single) = (f.at("prod/app:1.0.0"), f.at("prod/single:1"));
    let mut env = JOB_ENV.to_vec();
    let github_output_text = github_output.display().to_string();
    env.push(("GITHUB_OUTPUT", &github_output_text));
    let run = release_audit(
        &[
            "record-image",
            "--image",
            &multi,
            "--image",
            &single,
            "--insecure-registry",
            &f.registry.host,
            "--output",
            output.to_str().unwrap(),
        ],
        &env,
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);

    let record = validated(&output);
    assert_eq!(record["kind"], "release-audit/image-record");
    assert_eq!(record["version"], 1);
    assert_eq!(
        record["job"],
        json!({"repository": "kyma-project/telemetry-manager", "workflow": "PR Integration", "run_id": 14123456789u64, "run_attempt": 2,
               "job": "e2e-metrics", "sha": "0123456789abcdef0123456789abcdef01234567", "runner_os": "Linux", "runner_arch": "ARM64"})
    );
    let recorded_at = chrono::DateTime::parse_from_rfc3339(record["recorded_at"].as_str().unwrap()).unwrap();
    assert!(
        (chrono::Utc::now() - recorded_at.to_utc()).num_minutes().abs() < 10,
        "recorded_at {recorded_at} is not now"
    );

    let index = &record["images"][0];
    let platforms = skopeo_platforms(&multi);
    let arm64 = platforms.iter().find(|(p, _)| p == "linux/arm64").unwrap().1.clone();
    assert_eq!(index["source"], "resolved");
    assert_eq!(index["reference"], multi.as_str());
    assert_eq!(index["digest"], skopeo_digest(&multi, None));
    assert_eq!(index["media_type"], "application/vnd.oci.image.index.v1+json");
    assert_eq!(index["platform"], "linux/arm64", "the runner's platform (RUNNER_OS Linux, RUNNER_ARCH ARM64)");
    assert_eq!(index["platform_digest"], arm64.as_str());
    let expected: serde_json::Map<String, Value> = platforms.iter().map(|(p, d)| (p.clone(), json!(d))).collect();
    assert_eq!(index["platforms"], Value::Object(expected));

    let single_image = &record["images"][1];
    assert_eq!(single_image["digest"], skopeo_digest(&single, None));
    assert_eq!(single_image["media_type"], "application/vnd.oci.image.manifest.v1+json");
    assert!(single_image.get("platform_digest").is_none(), "a single manifest is its own platform manifest");
    assert_eq!(record["images"].as_array().unwrap().len(), 2);

    assert!(
        run.stdout.contains(&format!("resolved  {multi}  {}  (linux/arm64 {arm64})", skopeo_digest(&multi, None))),
        "{}",
        run.stdout
    );
    assert!(run.stdout.ends_with(&format!("wrote {} (2 images)\n", output.display())), "{}", run.stdout);
    let outputs = std::fs::read_to_string(&github_output).unwrap();
    assert!(
        outputs.starts_with("record-path<<ghadelimiter_") && outputs.contains(&format!("\n{}\n", output.display())),
        "{outputs}"
    );
}

#[test]
fn a_record_of_the_tested_index_matches_the_release_and_a_changed_one_does_not() {
    let f = images();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("image-record.json");
    // Without a runner (no RUNNER_*), --platform says where the job ran the image.
    let run = release_audit(
        &[
            "record-image",
            "--image",
            &f.at("dev/app:PR-1"),
            "--image",
            &f.at("prod/app:changed"),
            "--platform",
            "linux/arm64",
        ],
        &[("INPUT_INSECURE-REGISTRIES", &f.registry.host), ("INPUT_OUTPUT", output.to_str().unwrap())],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    validated(&output);
    let record = ImageRecord::parse(&std::fs::read(&output).unwrap(), "image-record.json").unwrap();
    assert_eq!(record.job.label(), "an unnamed job");

    let checks = check_records(&[record], &released(&f.at("prod/app:1.0.0")));
    let verdicts: Vec<(String, RecordVerdict)> =
        checks.iter().map(|c| (c.image.reference.clone(), c.verdict)).collect();
    assert_eq!(
        verdicts,
        [(f.at("dev/app:PR-1"), RecordVerdict::Index), (f.at("prod/app:changed"), RecordVerdict::Different)],
        "dev/app:PR-1 holds the released index itself; prod/app:changed has another linux/arm64 manifest"
    );
    assert!(checks[1].explanation.contains("its linux/arm64 manifest"), "{}", checks[1].explanation);
}

/// `kubectl get pods,nodes -A -o json` as the API server answers it, trimmed to what
/// matters plus a little of what surrounds it: the manager (containerd's imageID:
/// `repo@sha256:`), a pod with an init container and two containers on a Docker node
/// (`docker-pullable://`), the image loaded into the node as `app:pr` (a bare image id,
/// as `k3d image import` leaves it), and a pod
/// still waiting for its image.
fn pods_document(f: &Images, released_index: &str, arm64: &str) -> Value {
    let prod = f.at("prod/app");
    let hex = |c: char| c.to_string().repeat(64);
    json!({
      "apiVersion": "v1",
      "kind": "List",
      "metadata": {"resourceVersion": ""},
      "items": [
        {
          "apiVersion": "v1", "kind": "Node",
          "metadata": {"name": "k3d-kyma-server-0", "labels": {"kubernetes.io/arch": "arm64", "kubernetes.io/os": "linux"}},
          "status": {"nodeInfo": {"architecture": "arm64", "operatingSystem": "linux", "containerRuntimeVersion": "containerd://1.7.23-k3s2", "kubeletVersion": "v1.31.4+k3s1"}}
        },
        {
          "apiVersion": "v1", "kind": "Pod",
          "metadata": {"name": "telemetry-manager-7d9f8b6c5-x2x4q", "namespace": "kyma-system", "labels": {"app.kubernetes.io/name": "manager"}},
          "spec": {"nodeName": "k3d-kyma-server-0", "containers": [{"name": "manager", "image": format!("{prod}:1.0.0")}]},
          "status": {
            "phase": "Running",
            "containerStatuses": [{
              "name": "manager", "ready": true, "restartCount": 0, "started": true,
              "image": format!("{prod}:1.0.0"),
              "imageID": format!("{prod}@{released_index}"),
              "containerID": format!("containerd://{}", hex('c')),
              "state": {"running": {"startedAt": "2026-08-21T10:00:00Z"}}
            }]
          }
        },
        {
          "apiVersion": "v1", "kind": "Pod",
          "metadata": {"name": "telemetry-self-monitor-0", "namespace": "kyma-system"},
          "spec": {
            "nodeName": "docker-node-1",
            "initContainers": [{"name": "chown", "image": "europe-docker.pkg.dev/kyma-project/prod/tpi/chown:v20260302-12345678"}],
            "containers": [
              {"name": "self-monitor", "image": "europe-docker.pkg.dev/kyma-project/prod/tpi/telemetry-self-monitor:3.3.0"},
              {"name": "manager-sidecar", "image": format!("{prod}@{arm64}")}
            ]
          },
          "status": {
            "phase": "Running",
            "initContainerStatuses": [{
              "name": "chown", "ready": true, "restartCount": 0,
              "image": "europe-docker.pkg.dev/kyma-project/prod/tpi/chown:v20260302-12345678",
              "imageID": format!("docker-pullable://europe-docker.pkg.dev/kyma-project/prod/tpi/chown@sha256:{}", hex('a')),
              "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}
            }],
            "containerStatuses": [
              {"name": "self-monitor", "ready": true, "restartCount": 0,
               "image": "europe-docker.pkg.dev/kyma-project/prod/tpi/telemetry-self-monitor:3.3.0",
               "imageID": format!("docker-pullable://europe-docker.pkg.dev/kyma-project/prod/tpi/telemetry-self-monitor@sha256:{}", hex('b'))},
              {"name": "manager-sidecar", "ready": true, "restartCount": 0,
               "image": format!("{prod}@{arm64}"),
               "imageID": format!("docker-pullable://{prod}@{arm64}")}
            ]
          }
        },
        {
          "apiVersion": "v1", "kind": "Pod",
          "metadata": {"name": "loaded-0", "namespace": "default"},
          "spec": {"nodeName": "k3d-kyma-server-0", "containers": [{"name": "app", "image": "app:pr"}]},
          "status": {"containerStatuses": [{"name": "app", "image": "docker.io/library/app:pr", "imageID": format!("sha256:{}", hex('d'))}]}
        },
        {
          "apiVersion": "v1", "kind": "Pod",
          "metadata": {"name": "pending-0", "namespace": "default"},
          "spec": {"containers": [{"name": "app", "image": "example.com/app:1"}]},
          "status": {"phase": "Pending", "containerStatuses": [{"name": "app", "image": "example.com/app:1", "imageID": "",
                     "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}
        }
      ]
    })
}

/// The cluster entries as (place, reference, digest, platform, init).
fn entries(record: &Value) -> Vec<(String, String, String, String, bool)> {
    record["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert_eq!(i["source"], "cluster");
            let s = |k: &str| i[k].as_str().unwrap_or("-").to_string();
            (
                format!("{}/{} › {}", s("namespace"), s("pod"), s("container")),
                s("reference"),
                s("digest"),
                s("platform"),
                i["init_container"] == true,
            )
        })
        .collect()
}

#[test]
fn pods_json_records_every_container_and_init_container_with_the_digest_the_node_pulled() {
    let f = images();
    let released_index = skopeo_digest(&f.at("prod/app:1.0.0"), None);
    let arm64 = skopeo_platforms(&f.at("prod/app:1.0.0")).into_iter().find(|(p, _)| p == "linux/arm64").unwrap().1;
    let dir = tempfile::tempdir().unwrap();
    let pods = dir.path().join("pods.json");
    std::fs::write(&pods, serde_json::to_vec_pretty(&pods_document(f, &released_index, &arm64)).unwrap()).unwrap();
    let output = dir.path().join("image-record-e2e.json");
    let run = release_audit(
        &[
            "record-image",
            "--pods",
            pods.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
            "--platform",
            "linux/amd64",
        ],
        JOB_ENV,
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("1 container(s) had no imageID yet and are not recorded: default/pending-0 › app"),
        "{}",
        run.stderr
    );

    let record = validated(&output);
    assert_eq!(record["job"]["job"], "e2e-metrics");
    let prod = f.at("prod/app");
    let hex = |c: char| format!("sha256:{}", c.to_string().repeat(64));
    assert_eq!(
        entries(&record),
        vec![
            (
                "kyma-system/telemetry-manager-7d9f8b6c5-x2x4q › manager".into(),
                format!("{prod}:1.0.0"),
                released_index.clone(),
                "linux/arm64".into(),
                false
            ),
            (
                "kyma-system/telemetry-self-monitor-0 › chown".into(),
                "europe-docker.pkg.dev/kyma-project/prod/tpi/chown:v20260302-12345678".into(),
                hex('a'),
                "linux/amd64".into(),
                true
            ),
            (
                "kyma-system/telemetry-self-monitor-0 › self-monitor".into(),
                "europe-docker.pkg.dev/kyma-project/prod/tpi/telemetry-self-monitor:3.3.0".into(),
                hex('b'),
                "linux/amd64".into(),
                false
            ),
            (
                "kyma-system/telemetry-self-monitor-0 › manager-sidecar".into(),
                format!("{prod}@{arm64}"),
                arm64.clone(),
                "linux/amd64".into(),
                false
            ),
            (
                "default/loaded-0 › app".into(),
                "docker.io/library/app:pr".into(),
                "-".into(),
                "linux/arm64".into(),
                false
            ),
        ],
        "the node's platform where the document lists the node, --platform elsewhere"
    );
    let images = record["images"].as_array().unwrap();
    assert_eq!(
        images[1]["image_id"],
        format!("docker-pullable://europe-docker.pkg.dev/kyma-project/prod/tpi/chown@{}", hex('a')),
        "kept untouched"
    );
    assert!(images[4]["note"].as_str().unwrap().contains("local image id"), "{}", images[4]);

    // The audit's view: the manager ran the released index, the sidecar its arm64
    // manifest (on an amd64 node: said so), the loaded image proves nothing, and the
    // self-monitor and chown images are about other images.
    let parsed = ImageRecord::parse(&std::fs::read(&output).unwrap(), "image-record-e2e.json").unwrap();
    let checks = check_records(&[parsed], &released(&f.at("prod/app:1.0.0")));
    let verdicts: Vec<(&str, RecordVerdict)> =
        checks.iter().map(|c| (c.image.container.as_deref().unwrap(), c.verdict)).collect();
    assert_eq!(
        verdicts,
        [
            ("manager", RecordVerdict::Index),
            ("manager-sidecar", RecordVerdict::PlatformManifest),
            ("app", RecordVerdict::NoDigest)
        ]
    );
    assert!(
        checks[0].explanation.starts_with("PR Integration › e2e-metrics (run 14123456789, attempt 2) ran"),
        "{}",
        checks[0].explanation
    );
    assert!(checks[1].explanation.contains("(recorded as running on linux/amd64)"), "{}", checks[1].explanation);
}

#[test]
fn pods_json_is_read_from_standard_input() {
    let f = images();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("image-record.json");
    let zero = format!("sha256:{}", "0".repeat(64));
    let document = serde_json::to_vec(&pods_document(f, &zero, &zero)).unwrap();
    let run =
        release_audit(&["record-image", "--pods", "-", "--output", output.to_str().unwrap()], &[], Some(&document));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let record = validated(&output);
    assert_eq!(record["job"], json!({}), "outside Actions the record names no job");
    let e = entries(&record);
    assert_eq!(e.len(), 5);
    assert_eq!(e[1].3, "-", "no node listed and no --platform: no platform");
    assert!(run.stdout.contains("cluster   kyma-system/telemetry-self-monitor-0 › init chown  "), "{}", run.stdout);
}

#[test]
fn bad_input_fails_with_one_line_naming_it() {
    let f = images();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let o = out.to_str().unwrap();

    let run = release_audit(&["record-image", "--output", o], &[], None);
    assert_eq!((run.code, run.error_line()), (2, "error: flag `--image/--pods`: nothing to record"));

    let missing = f.at("prod/app:9.9.9");
    let run = release_audit(
        &["record-image", "--image", &missing, "--insecure-registry", &f.registry.host, "--output", o],
        &[],
        None,
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.error_line().starts_with(&format!("error: image {missing}: ")), "{}", run.stderr);

    let run = release_audit(&["record-image", "--image", "Not A Ref", "--output", o], &[], None);
    assert_eq!(run.code, 2);
    assert!(run.error_line().starts_with("error: flag `--image`: "), "{}", run.stderr);

    let run = release_audit(
        &["record-image", "--pods", "-", "--output", o],
        &[],
        Some(b"NAME READY STATUS\nfoo 1/1 Running\n"),
    );
    assert_eq!(run.code, 3);
    assert!(
        run.error_line().starts_with("error: standard input (pods): is not a Kubernetes JSON document: "),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint: pass the output of `kubectl get pods -A -o json`"), "{}", run.stderr);

    let run =
        release_audit(&["record-image", "--pods", "-", "--output", o], &[], Some(br#"{"kind":"List","items":[]}"#));
    assert_eq!(run.code, 3);
    assert_eq!(
        run.error_line(),
        "error: standard input (pods): lists 0 pods but no container that has pulled its image"
    );

    let huge = vec![b' '; 64 * 1024 * 1024 + 1];
    let run = release_audit(&["record-image", "--pods", "-", "--output", o], &[], Some(&huge));
    assert_eq!(run.code, 3);
    assert_eq!(run.error_line(), "error: standard input (pods): is 67108865 bytes, more than the 64 MiB read");

    let nowhere: PathBuf = dir.path().join("no-such-file.json");
    let run = release_audit(&["record-image", "--pods", nowhere.to_str().unwrap(), "--output", o], &[], None);
    assert_eq!(run.code, 3);
    assert!(run.error_line().starts_with(&format!("error: {}: ", nowhere.display())), "{}", run.stderr);
    assert!(!out.exists(), "nothing is written when recording fails");
}

#[test]
fn the_sub_action_runs_the_same_image_and_declares_exactly_the_inputs_read() {
    let read = |path: &str| -> serde_norway::Value {
        serde_norway::from_str(&std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap())
            .unwrap()
    };
    let (sub, main) = (read("record/action.yml"), read("action.yml"));
    assert_eq!(sub["runs"]["using"], "docker");
    assert_eq!(
        sub["runs"]["image"], main["runs"]["image"],
        "record/ and the audit action are released together, on one image"
    );
    assert_eq!(sub["runs"]["args"], serde_norway::from_str::<serde_norway::Value>("['record-image']").unwrap());
    let mut declared: Vec<String> =
        sub["inputs"].as_mapping().unwrap().keys().map(|k| k.as_str().unwrap().to_string()).collect();
    let mut names: Vec<String> = release_audit::cli::record_image::INPUT_NAMES.iter().map(|s| s.to_string()).collect();
    declared.sort();
    names.sort();
    assert_eq!(declared, names);
    for name in &declared {
        assert!(sub["inputs"][name.as_str()]["description"].as_str().is_some_and(|d| !d.is_empty()), "{name}");
    }
    assert_eq!(sub["inputs"]["output"]["default"], "image-record.json");
}

#[test]
fn in_action_mode_the_inputs_arrive_as_input_variables() {
    let f = images();
    let dir = tempfile::tempdir().unwrap();
    let zero = format!("sha256:{}", "0".repeat(64));
    let pods = dir.path().join("pods.json");
    std::fs::write(&pods, serde_json::to_vec(&pods_document(f, &zero, &zero)).unwrap()).unwrap();
    let output = dir.path().join("out/image-record-gardener.json");
    let images_input = format!("{}\n{}", f.at("prod/app:1.0.0"), f.at("prod/single:1"));
    let mut env = JOB_ENV.to_vec();
    env.extend([
        ("INPUT_IMAGES", images_input.as_str()),
        ("INPUT_PODS", pods.to_str().unwrap()),
        ("INPUT_OUTPUT", output.to_str().unwrap()),
        ("INPUT_PLATFORM", "linux/amd64"),
        ("INPUT_INSECURE-REGISTRIES", f.registry.host.as_str()),
        ("INPUT_REGISTRY-CREDENTIALS", ""),
    ]);
    let run = release_audit(&["record-image"], &env, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let record = validated(&output);
    let sources: Vec<&str> =
        record["images"].as_array().unwrap().iter().map(|i| i["source"].as_str().unwrap()).collect();
    assert_eq!(sources, ["resolved", "resolved", "cluster", "cluster", "cluster", "cluster", "cluster"]);
    assert_eq!(record["images"][0]["platform"], "linux/amd64", "INPUT_PLATFORM wins over the runner's ARM64");
}

/// End to end: two E2E jobs record what they ran and upload the record with their
/// reports; the audit finds the records among the collected artifacts and checks each
/// against the released image. Both ran the released index: passed, and the summary
/// says which job tested which digest. A third job that ran another build fails the
/// audit under `digest-policy: identical`, naming the job.
#[tokio::test(flavor = "multi_thread")]
async fn records_uploaded_with_the_reports_are_checked_by_the_audit() {
    use release_audit_test_support::{FakeGitHub, Step, official};
    let f = images();
    let fake = FakeGitHub::start().await;
    let junit = r#"<testsuites tests="1"><testsuite name="e2e" tests="1"><testcase classname="e2e" name="TestMetrics" time="1"/></testsuite></testsuites>"#;
    let record = |job: &str, image: &str, dir: &Path| {
        let env = [
            ("GITHUB_JOB", job),
            ("GITHUB_WORKFLOW", "PR Integration"),
            ("GITHUB_RUN_ID", "17000000001"), // the run whose artifacts are audited (the fake's)
            ("RUNNER_OS", "Linux"),
            ("RUNNER_ARCH", "ARM64"),
        ];
        let out = dir.join("image-record.json");
        let run = release_audit(
            &[
                "record-image",
                "--image",
                image,
                "--insecure-registries",
                &f.registry.host,
                "--output",
                out.to_str().unwrap(),
            ],
            &env,
            None,
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    };
    for (artifact, job, image) in
        [("pr-e2e-metrics-report", "e2e-metrics", "dev/app:PR-1"), ("pr-e2e-logs-report", "e2e-logs", "prod/app:1.0.0")]
    {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("junit.xml"), junit).unwrap();
        record(job, &f.at(image), dir.path());
        official::upload(&fake, artifact, dir.path(), &["junit.xml", "image-record.json"]).await;
    }
    let audit = |fake: &FakeGitHub| {
        let mut step = Step::with_fake(fake);
        step.input("release-version", "1.0.0")
            .input("e2e-reports", "pr-e2e-*-report")
            .input("required-reports", "e2e")
            .input("tested-image", &f.at("dev/app:PR-1"))
            .input("release-image", &f.at("prod/app:1.0.0"))
            .input("insecure-registries", &f.registry.host)
            .input("upload", "false");
        step
    };
    let step = audit(&fake);
    let result = step.run(Path::new(env!("CARGO_BIN_EXE_release-audit")), &[]).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    assert!(result.summary.contains("What the test jobs ran"), "{}", result.summary);
    assert!(result.summary.contains("PR Integration › e2e-metrics"), "{}", result.summary);
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(step.resolve(&result.outputs["manifest-path"])).unwrap())
            .unwrap();
    let recorded = manifest["evidence"]["images"]["pairs"][0]["recorded"].as_array().unwrap();
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert!(recorded.iter().all(|r| r["verdict"] == "index"), "{recorded:?}");

    // A third job ran another build of the image.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("junit.xml"), junit).unwrap();
    record("e2e-traces", &f.at("prod/app:changed"), dir.path());
    official::upload(&fake, "pr-e2e-traces-report", dir.path(), &["junit.xml", "image-record.json"]).await;
    let step = audit(&fake);
    let result = step.run(Path::new(env!("CARGO_BIN_EXE_release-audit")), &[]).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stdout, result.stderr);
    assert_eq!(result.outputs["verdict"], "failed");
    assert!(
        result.everything().contains("a test job did not run the released image: PR Integration › e2e-traces"),
        "{}",
        result.everything()
    );
}

/// An audit of the pair `tested → released` with `extra` inputs and, when given, one
/// report artifact holding a passing JUnit file and `record` as `image-record.json`.
async fn audit_pair(
    tested: &str,
    released: &str,
    extra: &[(&str, &str)],
    record: Option<&[u8]>,
) -> (release_audit_test_support::Step, release_audit_test_support::StepResult) {
    use release_audit_test_support::{FakeGitHub, Step, official};
    let f = images();
    let fake = FakeGitHub::start().await;
    let mut step = Step::with_fake(&fake);
    step.input("release-version", "1.0.0")
        .input("tested-image", &full(tested))
        .input("release-image", &full(released))
        .input("insecure-registries", &format!("{},{}", f.registry.host, localhost(&f.registry.host)))
        .input("upload", "false");
    match record {
        Some(record) => {
            let junit = r#"<testsuites tests="1"><testsuite name="e2e" tests="1"><testcase classname="e2e" name="TestMetrics" time="1"/></testsuite></testsuites>"#;
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("junit.xml"), junit).unwrap();
            std::fs::write(dir.path().join("image-record.json"), record).unwrap();
            official::upload(&fake, "pr-e2e-report", dir.path(), &["junit.xml", "image-record.json"]).await;
            step.input("e2e-reports", "pr-e2e-report").input("required-reports", "e2e");
        }
        None => {
            step.input("required-reports", "none");
        }
    }
    for (name, value) in extra {
        step.input(name, value);
    }
    let result = step.run(Path::new(env!("CARGO_BIN_EXE_release-audit")), &[]).await;
    (step, result)
}

/// A path in the fixture registry (`prod/app:1.0.0`) as a reference; a full reference as is.
fn full(reference: &str) -> String {
    if reference.contains(':') && reference.split('/').next().is_some_and(|h| h.contains(':')) {
        reference.to_string()
    } else {
        images().at(reference)
    }
}

/// The registry's `127.0.0.1:port` spelt `localhost:port`: the same registry by another name.
fn localhost(host: &str) -> String {
    host.replacen("127.0.0.1", "localhost", 1)
}

/// A record file as a test job would upload it, from JSON.
fn record_file(images: Vec<Value>, job: Value) -> Vec<u8> {
    serde_json::to_vec_pretty(&json!({
        "kind": "release-audit/image-record", "version": 1, "recorded_at": "2026-01-01T00:00:00Z",
        "job": job, "images": images
    }))
    .unwrap()
}

/// A record shows what the run that made it tested: found in an artifact of another run
/// (copied from an earlier run's artifacts, whose reports are not audited), it proves
/// nothing and fails the audit, naming both runs — in the audit and in `verify`, which
/// holds each record against the run of its artifact (issue 18 red team, round three).
/// A record of the audited run proves the same pair.
#[tokio::test(flavor = "multi_thread")]
async fn a_record_from_another_run_proves_nothing() {
    use release_audit_test_support::step::RUN_ID;
    let f = images();
    let index = skopeo_digest(&f.at("prod/app:1.0.0"), None);
    let ran = vec![json!({"source": "resolved", "reference": f.at("prod/app:1.0.0"), "digest": index})];
    let copied =
        record_file(ran.clone(), json!({"workflow": "PR Integration", "job": "e2e", "run_id": 14123456789u64}));
    let (step, result) = audit_pair("prod/app:1.0.0", "prod/app:1.0.0", &[], Some(&copied)).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stdout, result.stderr);
    let manifest = step.bundle_manifest(&result);
    let pair = &manifest["evidence"]["images"]["pairs"][0];
    assert_eq!((pair["passed"].as_bool(), &pair["proven_by"]), (Some(false), &json!([])), "{pair}");
    let reasons = manifest["verdict"]["reasons"].to_string();
    assert!(reasons.contains("(run 14123456789), but uploaded in an artifact of run 17000000001"), "{reasons}");
    let bundle = step.resolve(&result.outputs["bundle-path"]);
    let verify = Command::new(env!("CARGO_BIN_EXE_release-audit")).arg("verify").arg(&bundle).output().unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));

    // A bundle that says the record proved the pair, with the problem taken out and
    // every hash fixed up, does not verify: verify holds the record against its artifact's run.
    let own = record_file(ran, json!({"workflow": "PR Integration", "job": "e2e", "run_id": RUN_ID}));
    let (step, result) = audit_pair("prod/app:1.0.0", "prod/app:1.0.0", &[], Some(&own)).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    let manifest = step.bundle_manifest(&result);
    assert_eq!(manifest["evidence"]["images"]["pairs"][0]["proven_by"], json!(["image-record"]));
    // The bundle's folder beside the zip.
    let bundle = step.resolve(&result.outputs["bundle-path"]).with_extension("");
    let rel = manifest["evidence"]["tests"]["categories"][0]["artifacts"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str())
        .find(|p| p.ends_with("image-record.json"))
        .unwrap()
        .to_string();
    let forged = String::from_utf8(std::fs::read(bundle.join(&rel)).unwrap())
        .unwrap()
        .replace(&format!("\"run_id\": {RUN_ID}"), "\"run_id\": 14123456789");
    assert!(forged.contains("14123456789"));
    crate::verify_edits::forge(&bundle, &rel, forged.as_bytes());
    let verify = Command::new(env!("CARGO_BIN_EXE_release-audit")).arg("verify").arg(&bundle).output().unwrap();
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(!verify.status.success(), "{said}");
    assert!(said.contains("uploaded in an artifact of run 17000000001"), "{said}");
}

/// `tested-image` equal to `release-image` — as one string, as two tags of one build, as
/// one registry under two names, or pinned by digest — proves nothing by itself: without
/// an image record or the build's digest the pair is not proven and fails the audit;
/// the build's digest proves it.
#[tokio::test(flavor = "multi_thread")]
async fn two_references_to_one_digest_prove_nothing_without_a_record_or_the_build_digest() {
    let f = images();
    let index = skopeo_digest(&f.at("prod/app:1.0.0"), None);
    let pinned = format!("{}@{index}", f.at("prod/app"));
    let aliased = localhost(&f.at("prod/app:1.0.0"));
    for (tested, released) in [
        ("prod/app:1.0.0", "prod/app:1.0.0"),
        ("dev/app:PR-1", "prod/app:1.0.0"),
        (aliased.as_str(), "prod/app:1.0.0"),
        (pinned.as_str(), "prod/app:1.0.0"),
    ] {
        let (step, result) = audit_pair(tested, released, &[], None).await;
        assert_eq!(result.code, 1, "{tested} → {released}: {}\n{}", result.stdout, result.stderr);
        assert_eq!(result.outputs["verdict"], "failed");
        let manifest = step.bundle_manifest(&result);
        let pair = &manifest["evidence"]["images"]["pairs"][0];
        assert_eq!((pair["verdict"].as_str(), pair["passed"].as_bool()), (Some("identical"), Some(false)), "{pair}");
        assert_eq!(pair["proven_by"], json!([]), "{pair}");
        let reasons = manifest["verdict"]["reasons"].to_string();
        assert!(reasons.contains("not proven: "), "{reasons}");
        assert!(!reasons.contains("is the tested image"), "{reasons}");
        assert!(!result.summary.contains("is the tested image"), "{}", result.summary);
    }
    // The digest the build reported ties the tested image to the build.
    let (step, result) = audit_pair("prod/app:1.0.0", "prod/app:1.0.0", &[("expected-digest", &index)], None).await;
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    let manifest = step.bundle_manifest(&result);
    assert_eq!(manifest["evidence"]["images"]["pairs"][0]["proven_by"], json!(["expected-digest"]));
}

/// Image records are bounded: a record holding more images than a record may is a
/// record problem that fails the audit, and more recorded images of the released image
/// than are checked fail the pair — never a pass on the part that was read.
#[tokio::test(flavor = "multi_thread")]
async fn records_over_their_caps_fail_the_audit() {
    use release_audit::evidence::images::record::MAX_RECORD_IMAGES;
    use release_audit::evidence::images::verdict::MAX_CHECKS_PER_PAIR;
    let f = images();
    let index = skopeo_digest(&f.at("prod/app:1.0.0"), None);
    let job = json!({"workflow": "PR Integration", "job": "e2e"});
    // Other images only (the cluster's own pods), one more than a record may hold.
    // Each its own digest, so that the artifact is not refused as a zip bomb first.
    let other = |i: usize| json!({"source": "cluster", "reference": "docker.io/rancher/coredns:1", "digest": stub::sha256(&i.to_le_bytes())});
    let too_many = record_file((0..=MAX_RECORD_IMAGES).map(other).collect(), job.clone());
    let (_, result) =
        audit_pair("prod/app:1.0.0", "prod/app:1.0.0", &[("expected-digest", &index)], Some(&too_many)).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stdout, result.stderr);
    assert!(result.everything().contains("more than an image record may"), "{}", result.everything());

    // The released index recorded once more than is checked.
    let ran = |i: usize| json!({"source": "resolved", "reference": f.at("prod/app:1.0.0"), "digest": index, "container": stub::sha256(&i.to_le_bytes())});
    let many = record_file((0..=MAX_CHECKS_PER_PAIR).map(ran).collect(), job);
    let (step, result) = audit_pair("prod/app:1.0.0", "prod/app:1.0.0", &[], Some(&many)).await;
    assert_eq!(result.code, 1, "{}\n{}", result.stdout, result.stderr);
    let pair = &step.bundle_manifest(&result)["evidence"]["images"]["pairs"][0];
    assert_eq!(
        (pair["recorded"].as_array().unwrap().len(), pair["recorded_left_out"].as_u64()),
        (MAX_CHECKS_PER_PAIR, Some(1))
    );
    assert!(result.everything().contains("1 more recorded images of the released image"), "{}", result.everything());
}

const HOSTILE: &str = "x\n::error::forged\r::set-output name=verdict::passed ##[warning]forged <script>alert(1)</script> | cell | [click](javascript:alert(1)) %0A::notice::x";

/// What the runner would take as commands from a step's output (its parser: `\r` and
/// `\n` end lines, leading blanks are trimmed before `::`, `##[` counts anywhere): lines
/// that are not the tool's own commands (masks, groups, annotations), and any line that
/// starts with one of the hostile text's own commands.
fn runner_commands(text: &str) -> Vec<&str> {
    let own = [
        "::add-mask::",
        "::group::",
        "::endgroup::",
        "::error ",
        "::warning ",
        "::notice ",
        "::error::",
        "::warning::",
        "::notice::",
    ];
    text.split(['\n', '\r'])
        .filter(|l| {
            let l = l.trim_start();
            let forged = l.starts_with("::")
                && (!own.iter().any(|o| l.starts_with(o))
                    || l.starts_with("::error::forged")
                    || l.starts_with("::notice::x"));
            forged || l.contains("##[")
        })
        .collect()
}

/// Cluster values in an image record (job names, references, pods, notes) reach the
/// console, the annotations, the job summary and report.html only through the one
/// escaping path: nothing becomes a workflow command, a Markdown link or table cell,
/// or HTML.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_values_in_an_image_record_reach_no_output_unescaped() {
    let other = format!("sha256:{}", "e".repeat(64));
    let hostile = json!({
        "source": "cluster", "reference": HOSTILE, "digest": other,
        "image_id": format!("docker-pullable://evil/app@{other}"),
        "namespace": HOSTILE, "pod": HOSTILE, "container": HOSTILE, "note": HOSTILE,
        "platform": "linux/amd64"
    });
    let job = json!({"workflow": HOSTILE, "job": HOSTILE, "run_id": release_audit_test_support::step::RUN_ID});
    let (step, result) =
        audit_pair("prod/app:1.0.0", "prod/app:1.0.0", &[], Some(&record_file(vec![hostile], job))).await;
    assert_eq!(result.code, 1, "another digest was run: {}\n{}", result.stdout, result.stderr);
    for (name, text) in [("stdout", &result.stdout), ("stderr", &result.stderr)] {
        assert_eq!(runner_commands(text), Vec::<&str>::new(), "{name}:\n{text}");
    }
    // Outside code spans (where GitHub shows text literally), no HTML, link or cell
    // border of the hostile text is left unescaped.
    let prose: String = result
        .summary
        .lines()
        .map(|l| l.split('`').step_by(2).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n");
    for raw in ["<script>", "[click](javascript:", "| cell |", "\n::error::forged"] {
        assert!(!prose.contains(raw), "the summary holds `{raw}` raw:\n{}", result.summary);
    }
    assert!(result.summary.contains("a test job did not run the released image"), "{}", result.summary);
    let html = String::from_utf8(step.bundle_file(&result, "report.html")).unwrap();
    assert!(!html.contains("<script>alert"), "report.html holds a script");
    assert!(!html.contains("href=\"javascript:"), "report.html holds a javascript link");
}

/// `record-image` prints what the cluster reported through the one printing path.
#[test]
fn record_image_prints_cluster_values_inert() {
    let dir = tempfile::tempdir().unwrap();
    let pods = json!({"kind": "List", "items": [{
        "kind": "Pod",
        "metadata": {"name": HOSTILE, "namespace": HOSTILE},
        "spec": {"containers": [{"name": HOSTILE, "image": HOSTILE}]},
        "status": {"containerStatuses": [{"name": HOSTILE, "image": HOSTILE,
            "imageID": format!("docker-pullable://evil/app@sha256:{}", "e".repeat(64))}]}
    }]});
    let path = dir.path().join("pods.json");
    std::fs::write(&path, serde_json::to_vec(&pods).unwrap()).unwrap();
    let out = dir.path().join("image-record.json");
    let run = release_audit(
        &["record-image", "--pods", path.to_str().unwrap(), "--output", out.to_str().unwrap()],
        JOB_ENV,
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("cluster "), "{}", run.stdout);
    assert_eq!(runner_commands(&run.stdout), Vec::<&str>::new(), "{}", run.stdout);
    assert!(!run.stdout.lines().any(|l| l.trim_start().starts_with("::")), "{}", run.stdout);
    assert_eq!(runner_commands(&run.stderr), Vec::<&str>::new(), "{}", run.stderr);
}

/// An index's attestation manifest (`unknown/unknown`) is no platform: a record that ran
/// it — by its digest, or as the `unknown/unknown` manifest of another index — proves
/// nothing about the released image, under either policy (issue 18 red team, round
/// three: held).
#[tokio::test(flavor = "multi_thread")]
async fn an_attestation_manifest_recorded_as_run_proves_nothing() {
    use release_audit_test_support::step::RUN_ID;
    let host = crate::image_support::served::registry();
    let released = format!("{host}/prod/app:1.0.0");
    let attestation = skopeo_platforms(&released)
        .into_iter()
        .find(|(platform, _)| platform == "unknown/unknown")
        .expect("the served index has an attestation manifest")
        .1;
    let job = json!({"workflow": "PR Integration", "job": "e2e", "run_id": RUN_ID});
    for image in [
        json!({"source": "cluster", "reference": format!("{host}/prod/app@{attestation}"), "digest": attestation}),
        json!({"source": "resolved", "reference": format!("{host}/dev/app:other"), "digest": stub::sha256(b"another index"),
               "platform": "unknown/unknown", "platform_digest": attestation}),
    ] {
        let record = record_file(vec![image.clone()], job.clone());
        for policy in ["identical", "platforms"] {
            let extra = [("insecure-registries", host.as_str()), ("digest-policy", policy)];
            let (step, result) = audit_pair(&released, &released, &extra, Some(&record)).await;
            assert_eq!(result.code, 1, "{policy} {image}: {}\n{}", result.stdout, result.stderr);
            let pair = &step.bundle_manifest(&result)["evidence"]["images"]["pairs"][0];
            assert_eq!((pair["passed"].as_bool(), &pair["proven_by"]), (Some(false), &json!([])), "{policy}: {pair}");
            let verdicts: Vec<&Value> = pair["recorded"].as_array().unwrap().iter().map(|c| &c["verdict"]).collect();
            assert_eq!(verdicts, [&json!("different")], "read and judged, not refused: {pair}");
        }
    }
}
