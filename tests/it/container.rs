//! The action as GitHub's runner starts it: the released Dockerfile assembled into an
//! image on this machine (nothing pulled), pushed to a real local registry, pulled by
//! digest into a real Docker daemon, and run with the runner's own `docker run`
//! arguments against the fake GitHub services.
//!
//! Where the arguments come from (actions/runner, main at 258d6c8, August 2026, v2.336):
//! - `src/Runner.Worker/Handlers/ContainerActionHandler.cs`, `RunAsync`: the image's own
//!   ENTRYPOINT (action.yml names none) with action.yml's `args` quoted one by one;
//!   mounts `/var/run/docker.sock`, `<temp>` → `/github/runner_temp`, `<temp>/_github_home`
//!   → `/github/home`, `<temp>/_github_workflow` → `/github/workflow`,
//!   `<temp>/_runner_file_commands` → `/github/file_commands`, the workspace →
//!   `/github/workspace`; `--workdir /github/workspace`; `HOME` = `_github_home`; every
//!   environment value that is a host path under a mount is translated to the container
//!   path (`ContainerInfo.TranslateToContainerPath`: GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
//!   GITHUB_WORKSPACE, GITHUB_EVENT_PATH, RUNNER_TEMP …). The `runner_temp` mount exists
//!   since v2.329 behind the flag `actions_container_action_runner_temp` and always since
//!   v2.331 (#4011, #4163); older runners (GHES, pinned self-hosted ones) set RUNNER_TEMP
//!   to a host path that is NOT mounted: both layouts are run below.
//! - `src/Runner.Worker/Container/DockerCommandManager.cs`, `DockerRun`:
//!   `docker run --name <n> --label <l> --workdir <w> --rm -e NAME … -e GITHUB_ACTIONS=true
//!   -e CI=true [--network <job network>] -v "<host>":"<container>" … <image> <args>`; the
//!   `-e NAME` form passes each value through the docker client's environment. No `--user`:
//!   the step runs as the image's user (root). A job without a service container has no
//!   network option; here `--network host` reaches the fakes on 127.0.0.1.
//!
//! Needs a Docker daemon (DOCKER_HOST), buildah, Debian's docker-registry and the
//! static release binary: `tests/run` installs and starts all of it (scripts/docker.sh,
//! scripts/image.sh). Never skipped: without a daemon the test fails and says why.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use release_audit_test_support::step::{REPOSITORY, RUN_ID, SHA, parse_outputs, validate_manifest};
use release_audit_test_support::{FakeGitHub, zip_bytes};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The released image's time: a commit time, as the release workflow passes it.
const SOURCE_DATE_EPOCH: &str = "1767225600";
const HINT: &str = "Run the suite with `tests/run`, which installs and starts everything the container test needs \
     (scripts/docker.sh start_docker; buildah, docker-registry from apt; the static binary)";

fn run(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    let out = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("cannot start {shown}: {e}. {HINT}"));
    assert!(
        out.status.success(),
        "{shown} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn docker() -> Command {
    Command::new("docker")
}

/// The Docker daemon answers, or the test fails here with the reason.
fn require_daemon() {
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    let out = docker().args(["version", "--format", "{{.Server.Version}}"]).output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "no Docker daemon answers at DOCKER_HOST={host:?}: {}. {HINT}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!("the docker client cannot run: {e}. {HINT}"),
    }
}

/// The static x86_64 release binary (`tests/run` builds it; the release builds musl
/// binaries the same way, see scripts/image.sh).
fn static_binary() -> PathBuf {
    let target =
        std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| Path::new(ROOT).join("target"));
    let path = target.join("x86_64-unknown-linux-gnu/release/release-audit");
    assert!(
        path.is_file(),
        "{} is missing: build it with RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked \
         --target x86_64-unknown-linux-gnu --bin release-audit ({HINT})",
        path.display()
    );
    path
}

/// A registry (Debian's docker-registry) on a free loopback port, stopped by a shell
/// watchdog as soon as the test process is gone.
struct Registry {
    host: String,
    /// Ends by itself, with the registry, once the test process is gone.
    _watchdog: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Registry {
    // On the failure path the watchdog is not waited for: it ends with the test process.
    #[allow(clippy::zombie_processes)]
    fn start() -> Registry {
        let dir = tempfile::tempdir().expect("a temp dir");
        let port = TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("bound").port();
        let host = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {host}\n",
                dir.path().join("storage").display()
            ),
        )
        .expect("config written");
        let script = r#"docker-registry serve "$1" >"$2" 2>&1 & r=$!
while kill -0 "$3" 2>/dev/null && kill -0 "$r" 2>/dev/null; do sleep 0.2; done
kill "$r" 2>/dev/null"#;
        let watchdog = Command::new("sh")
            .args(["-c", script, "registry-watchdog"])
            .arg(&config)
            .arg(dir.path().join("registry.log"))
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("sh cannot start docker-registry: {e}. {HINT}"));
        for _ in 0..200 {
            if let Ok(mut s) = TcpStream::connect(&host) {
                let _ =
                    s.write_all(format!("GET /v2/ HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes());
                let mut answer = String::new();
                let _ = s.read_to_string(&mut answer);
                if answer.starts_with("HTTP/1.1 200") {
                    return Registry { host, _watchdog: watchdog, _dir: dir };
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(dir.path().join("registry.log")).unwrap_or_default();
        panic!("docker-registry did not start on {host} ({HINT}); its log:\n{log}");
    }
}

/// One build of the image with scripts/image.sh (the script CI and the release use),
/// in its own buildah storage so nothing is shared with another build.
struct Build {
    /// The index digest `scripts/image.sh push` reported.
    digest: String,
    _storage: tempfile::TempDir,
}

/// The build context: the repository's Dockerfile and .dockerignore as released, and
/// dist/ holding the static binary; plus a local image holding the CA bundle, so the
/// build pulls nothing (CERTS_IMAGE is the one build argument the test changes).
fn build_and_push(registry: &Registry, dest: &str) -> Build {
    let storage = tempfile::tempdir().expect("a temp dir");
    let context = storage.path().join("context");
    std::fs::create_dir_all(context.join("dist/linux-amd64")).unwrap();
    for f in ["Dockerfile", ".dockerignore"] {
        std::fs::copy(Path::new(ROOT).join(f), context.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    std::fs::copy(static_binary(), context.join("dist/linux-amd64/release-audit")).unwrap();
    let certs = storage.path().join("certs");
    std::fs::create_dir_all(certs.join("etc/ssl/certs")).unwrap();
    std::fs::copy("/etc/ssl/certs/ca-certificates.crt", certs.join("etc/ssl/certs/ca-certificates.crt"))
        .expect("the host's CA bundle (package ca-certificates)");
    std::fs::write(certs.join("Dockerfile"), "FROM scratch\nCOPY etc /etc\n").unwrap();
    let script = Path::new(ROOT).join("scripts/image.sh");
    let buildah = |args: &[&str]| {
        let mut c = Command::new("buildah");
        // vfs, as a flag: nothing is mounted, so nothing outlives the temp dir (buildah 1.28
        // here did not take STORAGE_DRIVER from the environment and left overlay mounts).
        c.arg("--root").arg(storage.path().join("root")).arg("--runroot").arg(storage.path().join("run"));
        c.args(["--storage-driver", "vfs"]).env("BUILDAH_ISOLATION", "chroot").args(args);
        c
    };
    run(buildah(&["bud", "--quiet", "--timestamp", "0", "-t", "localhost/certs:test"]).arg(&certs));
    let image = |cmd: &str| {
        let mut c = Command::new("bash");
        c.arg(&script).arg(cmd);
        c.env("BUILDAH_ROOT", storage.path().join("root"))
            .env("BUILDAH_RUNROOT", storage.path().join("run"))
            .env("BUILDAH_STORAGE_DRIVER", "vfs")
            .env("BUILDAH_ISOLATION", "chroot")
            .env("CONTEXT", &context)
            .env("CERTS_IMAGE", "localhost/certs:test")
            .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
            .env("DEST_TLS_VERIFY", "false");
        c
    };
    run(image("build").args(["localhost/release-audit:build", "linux/amd64"]));
    let digest =
        text(&run(image("push").args(["localhost/release-audit:build"]).arg(format!("{}/{dest}", registry.host))));
    assert!(digest.starts_with("sha256:") && digest.len() == 71, "scripts/image.sh push printed {digest:?}");
    Build { digest, _storage: storage }
}

/// Built once per test binary: CI's build of the commit (the tested image) and the
/// release workflow's rebuild of the same commit (the released image).
struct Images {
    registry: Registry,
    tested: Build,
    released: Build,
}

const TESTED: &str = "dev/release-audit:sha-4f0c6d1e2b3a49587766554433221100ffeeddcc";
const RELEASED: &str = "release-audit:0.1.0";

fn images() -> &'static Images {
    static IMAGES: OnceLock<Images> = OnceLock::new();
    IMAGES.get_or_init(|| {
        require_daemon();
        let registry = Registry::start();
        let tested = build_and_push(&registry, TESTED);
        let released = build_and_push(&registry, RELEASED);
        Images { registry, tested, released }
    })
}

#[test]
fn the_same_commit_builds_to_the_same_image_digest() {
    let images = images();
    let host = &images.registry.host;
    // release-audit's own comparison, on the registry, index and platform level.
    let out = Command::new(env!("CARGO_BIN_EXE_release-audit"))
        .args(["compare", "--json", "--insecure-registry", host])
        .arg(format!("{host}/{TESTED}"))
        .arg(format!("{host}/{RELEASED}"))
        .output()
        .expect("release-audit runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "two builds of one commit differ:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let record: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    let text = record.to_string();
    assert!(
        text.contains(&images.tested.digest),
        "the comparison does not name the pushed digest {}: {text}",
        images.tested.digest
    );
    assert_eq!(images.tested.digest, images.released.digest, "{text}");
    // The registry agrees with what was pushed: hash the manifest bytes ourselves.
    let raw = run(Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{host}/{RELEASED}")));
    let local = format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&raw.stdout)));
    assert_eq!(local, images.released.digest);
}

/// Where one step's files live on the host, laid out as the runner lays them out.
struct RunnerDirs {
    _root: tempfile::TempDir,
    temp: PathBuf,
    workspace: PathBuf,
}

impl RunnerDirs {
    fn new() -> Self {
        let root = tempfile::tempdir().expect("a temp dir");
        let temp = root.path().join("_work/_temp");
        let workspace = root.path().join("_work/telemetry-manager/telemetry-manager");
        for d in ["_github_home", "_github_workflow", "_runner_file_commands"] {
            std::fs::create_dir_all(temp.join(d)).unwrap();
        }
        std::fs::create_dir_all(&workspace).unwrap();
        std::fs::write(temp.join("_github_workflow/event.json"), r#"{"inputs":{"version":"1.2.3"}}"#).unwrap();
        RunnerDirs { _root: root, temp, workspace }
    }
}

/// How a runner version treats RUNNER_TEMP for a container action.
#[derive(Clone, Copy, PartialEq)]
enum RunnerTemp {
    /// v2.331 and later: mounted at /github/runner_temp.
    Mounted,
    /// Older runners: set to the host path, not mounted.
    NotMounted,
}

struct ContainerStep {
    code: i32,
    stdout: String,
    stderr: String,
    outputs: HashMap<String, String>,
    summary: String,
}

/// `docker run` exactly as DockerCommandManager.DockerRun builds it for a container action.
fn run_as_the_runner(
    image: &str,
    dirs: &RunnerDirs,
    temp: RunnerTemp,
    env: &BTreeMap<String, String>,
) -> ContainerStep {
    let commands = dirs.temp.join("_runner_file_commands");
    let output_file = commands.join("set_output_6b1f2c3d-0000-4000-8000-000000000001");
    let summary_file = commands.join("step_summary_6b1f2c3d-0000-4000-8000-000000000002");
    std::fs::write(&output_file, "").unwrap();
    std::fs::write(&summary_file, "").unwrap();
    let mut vars = env.clone();
    vars.insert("HOME".into(), "/github/home".into());
    vars.insert("GITHUB_WORKSPACE".into(), "/github/workspace".into());
    vars.insert("GITHUB_EVENT_PATH".into(), "/github/workflow/event.json".into());
    vars.insert(
        "GITHUB_OUTPUT".into(),
        format!("/github/file_commands/{}", output_file.file_name().unwrap().to_str().unwrap()),
    );
    vars.insert(
        "GITHUB_STEP_SUMMARY".into(),
        format!("/github/file_commands/{}", summary_file.file_name().unwrap().to_str().unwrap()),
    );
    let runner_temp = match temp {
        RunnerTemp::Mounted => "/github/runner_temp".to_string(),
        RunnerTemp::NotMounted => dirs.temp.display().to_string(),
    };
    vars.insert("RUNNER_TEMP".into(), runner_temp);

    let socket = std::env::var("DOCKER_HOST").ok().and_then(|h| h.strip_prefix("unix://").map(str::to_string));
    let socket = socket.unwrap_or_else(|| "/var/run/docker.sock".to_string());
    let mut cmd = docker();
    // `<alias>_<image>_<6 hex>` in the runner; unique per run here as there.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    cmd.args(["run", "--name", &format!("release-audit_test_{}_{n}", std::process::id())]);
    cmd.args(["--label", "a1b2c3", "--workdir", "/github/workspace", "--rm"]);
    for name in vars.keys() {
        cmd.args(["-e", name]);
    }
    cmd.args(["-e", "GITHUB_ACTIONS=true", "-e", "CI=true", "--network", "host"]);
    let mut mounts = vec![(PathBuf::from(socket), "/var/run/docker.sock")];
    if temp == RunnerTemp::Mounted {
        mounts.push((dirs.temp.clone(), "/github/runner_temp"));
    }
    mounts.push((dirs.temp.join("_github_home"), "/github/home"));
    mounts.push((dirs.temp.join("_github_workflow"), "/github/workflow"));
    mounts.push((commands.clone(), "/github/file_commands"));
    mounts.push((dirs.workspace.clone(), "/github/workspace"));
    for (host, container) in mounts {
        cmd.arg("-v").arg(format!("{}:{container}", host.display()));
    }
    // The image, then action.yml's `args: ['run']`.
    cmd.args([image, "run"]);
    cmd.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).envs(&vars);
    if let Ok(h) = std::env::var("DOCKER_HOST") {
        cmd.env("DOCKER_HOST", h);
    }
    let out = cmd.stdin(Stdio::null()).output().expect("docker runs");
    ContainerStep {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        outputs: parse_outputs(&std::fs::read_to_string(&output_file).unwrap_or_default()),
        summary: std::fs::read_to_string(&summary_file).unwrap_or_default(),
    }
}

/// The step's environment: what Step::new gives the binary, minus the host paths,
/// plus the fake's runtime and the inputs (INPUT_<NAME>, hyphens kept).
fn step_env(fake: &FakeGitHub, inputs: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for (k, v) in [
        ("GITHUB_REPOSITORY", REPOSITORY.to_string()),
        ("GITHUB_REPOSITORY_OWNER", "kyma-project".into()),
        ("GITHUB_RUN_ID", RUN_ID.to_string()),
        ("GITHUB_RUN_ATTEMPT", "1".into()),
        ("GITHUB_RUN_NUMBER", "57".into()),
        ("GITHUB_SHA", SHA.into()),
        ("GITHUB_REF", "refs/tags/v1.2.3".into()),
        ("GITHUB_WORKFLOW", "Release".into()),
        ("GITHUB_ACTOR", "release-bot".into()),
        ("GITHUB_EVENT_NAME", "workflow_dispatch".into()),
        ("GITHUB_SERVER_URL", "https://github.com".into()),
        ("GITHUB_RETENTION_DAYS", "90".into()),
        ("RELEASE_AUDIT_RETRY_BASE_MS", "20".into()),
        ("SOURCE_DATE_EPOCH", "1700000000".into()),
    ] {
        env.insert(k.to_string(), v);
    }
    for (k, v) in fake.runtime_env() {
        env.insert(k, v);
    }
    env.insert("INPUT_GITHUB-TOKEN".into(), fake.rest_token.clone());
    for (name, value) in inputs {
        env.insert(format!("INPUT_{}", name.to_uppercase()), value.to_string());
    }
    env
}

fn unit_report() -> Vec<u8> {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?><testsuites tests="2" failures="0"><testsuite name="unit" tests="2" failures="0" errors="0" time="1.0"><testcase classname="unit" name="TestA" time="0.5"/><testcase classname="unit" name="TestB" time="0.5"/></testsuite></testsuites>"#;
    zip_bytes(&[("junit.xml", xml.as_bytes())])
}

/// The image under test and the images its audit compares.
struct Subject {
    /// What the runner pulls: `<registry>/<repository>@sha256:…`.
    reference: String,
    digest: String,
    tested: String,
    released: String,
    /// Inputs for reaching the registry from inside the container.
    inputs: Vec<(&'static str, String)>,
}

/// By default the image built here (pushed twice: tested and released). CI's image job
/// sets RA_CONTAINER_IMAGE to the multi-platform image it just pushed
/// (`ghcr.io/…@sha256:…`, after `docker login`) and RA_CONTAINER_REGISTRY_CREDENTIALS to
/// the `registry-credentials` input the step needs to read it: then exactly that image is
/// run, and audits itself.
fn subject() -> &'static Subject {
    static SUBJECT: OnceLock<Subject> = OnceLock::new();
    SUBJECT.get_or_init(|| {
        let subject = match std::env::var("RA_CONTAINER_IMAGE") {
            Ok(reference) => {
                require_daemon();
                let digest = reference.split_once('@').map(|(_, d)| d.to_string()).unwrap_or_else(|| {
                    panic!("RA_CONTAINER_IMAGE={reference} is not pinned by digest (<image>@sha256:…)")
                });
                let mut inputs = Vec::new();
                // A loopback registry speaks plain HTTP (how this path is tried locally).
                if let Some(host) = reference.split('/').next().filter(|h| h.starts_with("127.0.0.1:")) {
                    inputs.push(("insecure-registries", host.to_string()));
                }
                if let Ok(c) = std::env::var("RA_CONTAINER_REGISTRY_CREDENTIALS") {
                    inputs.push(("registry-credentials", c));
                }
                Subject { tested: reference.clone(), released: reference.clone(), reference, digest, inputs }
            }
            Err(_) => {
                let images = images();
                let host = &images.registry.host;
                Subject {
                    reference: format!("{host}/release-audit@{}", images.released.digest),
                    digest: images.released.digest.clone(),
                    tested: format!("{host}/{TESTED}"),
                    released: format!("{host}/{RELEASED}"),
                    inputs: vec![("insecure-registries", host.clone())],
                }
            }
        };
        // The image as the runner gets it for `docker://…@sha256:…`: pulled by digest.
        run(docker().args(["pull", "--quiet", &subject.reference]));
        subject
    })
}

async fn audits_its_own_release_in_the_container(temp: RunnerTemp) {
    let subject = subject();
    let fake = FakeGitHub::start().await;
    fake.seed_artifact(&fake.run_backend_id, "pr-unit-report", &unit_report()).await;
    let mut inputs: Vec<(&str, &str)> = vec![
        ("release-version", "1.2.3"),
        ("unit-reports", "pr-unit-report"),
        ("required-reports", "unit"),
        ("tested-image", &subject.tested),
        ("release-image", &subject.released),
        // What proves the pair: the digest the build reported (equal references prove nothing).
        ("expected-digest", &subject.digest),
    ];
    inputs.extend(subject.inputs.iter().map(|(k, v)| (*k, v.as_str())));
    let env = step_env(&fake, &inputs);
    let dirs = RunnerDirs::new();
    let step = run_as_the_runner(&subject.reference, &dirs, temp, &env);
    let log = format!("exit {}\nstdout:\n{}\nstderr:\n{}", step.code, step.stdout, step.stderr);
    assert_eq!(step.code, 0, "{log}");

    // Outputs reached the runner through /github/file_commands.
    let o = &step.outputs;
    assert_eq!(o.get("verdict").map(String::as_str), Some("passed"), "{o:?}\n{log}");
    // Every path output resolves from the host workspace, as a later step resolves it.
    for name in ["bundle-path", "manifest-path", "vsa-path", "vsa-predicate-path"] {
        let p = &o[name];
        assert!(!p.starts_with('/'), "{name} is not workspace-relative: {p}");
        assert!(dirs.workspace.join(p).is_file(), "{name}={p} does not exist in the host workspace");
    }
    let statements: Vec<&str> = o["statement-paths"].lines().collect();
    assert_eq!(statements.len(), 2, "a test result and the VSA: {o:?}");
    for p in &statements {
        assert!(dirs.workspace.join(p).is_file(), "statement-paths entry {p} does not exist in the host workspace");
    }
    // The bundle on the host is the one the outputs describe and the artifact holds.
    let bundle = std::fs::read(dirs.workspace.join(&o["bundle-path"])).unwrap();
    assert_eq!(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bundle)), o["bundle-sha256"]);
    let artifact = fake.artifacts().into_iter().find(|a| a.name == "audit-bundle-1.2.3").expect("the bundle artifact");
    assert!(artifact.finalized);
    assert_eq!(o["artifact-id"], artifact.database_id.to_string());
    validate_manifest(&dirs.workspace.join(&o["manifest-path"]));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dirs.workspace.join(&o["manifest-path"])).unwrap()).unwrap();
    assert_eq!(manifest["source"]["commit"], SHA);
    assert_eq!(manifest["verdict"]["result"], "passed");
    // The image compared itself: tested and released are this very image.
    let digest = &subject.digest;
    assert!(manifest.to_string().contains(digest.as_str()), "the manifest does not record the image digest {digest}");
    // The bundle's files were written by root in the container, readable on the host.
    let dir = dirs.workspace.join(&o["bundle-path"]).with_extension("");
    let check =
        Command::new("sha256sum").args(["-c", "--strict", "--quiet", "SHA256SUMS"]).current_dir(&dir).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));

    // The summary reached the runner too.
    assert!(
        step.summary.starts_with("## ✅ Release audit passed: kyma-project/telemetry-manager 1.2.3"),
        "{}",
        step.summary
    );
    assert!(step.summary.contains(&o["bundle-sha256"]));
    // Secrets were masked before anything else was printed, and never shown.
    assert!(step.stdout.starts_with("::add-mask::"), "{log}");
    let shown: String = step.stdout.lines().filter(|l| !l.starts_with("::add-mask::")).collect::<Vec<_>>().join("\n");
    for secret in [&fake.runtime_token, &fake.rest_token] {
        assert!(!shown.contains(secret.as_str()) && !step.stderr.contains(secret.as_str()), "a secret leaked:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_as_the_current_runner_starts_a_container_action() {
    audits_its_own_release_in_the_container(RunnerTemp::Mounted).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_when_runner_temp_is_set_but_not_mounted() {
    audits_its_own_release_in_the_container(RunnerTemp::NotMounted).await;
}
