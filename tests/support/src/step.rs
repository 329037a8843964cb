//! A step's environment as the runner builds it for a Docker container action, and
//! a way to run the real binary inside it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::fake::FakeGitHub;

pub const REPOSITORY: &str = "kyma-project/telemetry-manager";
pub const SHA: &str = "4f0c6d1e2b3a49587766554433221100ffeeddcc";
pub const RUN_ID: u64 = 17_000_000_001;

/// Temporary runner files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP, workspace)
/// and the variables that point at them.
pub struct Step {
    pub dir: tempfile::TempDir,
    pub env: BTreeMap<String, String>,
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct StepResult {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub outputs: HashMap<String, String>,
    pub summary: String,
}

impl StepResult {
    /// Everything a user could see or keep from the step, for secret scans. The
    /// `::add-mask::` commands are left out: the runner consumes them, they are how a
    /// secret gets masked, and they are never shown.
    pub fn everything(&self) -> String {
        let shown: Vec<&str> = self.stdout.lines().filter(|l| !l.starts_with("::add-mask::")).collect();
        format!("{}\n{}\n{:?}\n{}", shown.join("\n"), self.stderr, self.outputs, self.summary)
    }

    /// The values the step asked the runner to mask.
    pub fn masked(&self) -> Vec<&str> {
        self.stdout.lines().filter_map(|l| l.strip_prefix("::add-mask::")).collect()
    }
}

impl Step {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        let p = |name: &str| dir.path().join(name).display().to_string();
        std::fs::create_dir_all(dir.path().join("temp")).unwrap();
        std::fs::create_dir_all(dir.path().join("workspace")).unwrap();
        let mut env = BTreeMap::new();
        for (k, v) in [
            ("GITHUB_ACTIONS", "true".to_string()),
            ("CI", "true".to_string()),
            ("GITHUB_REPOSITORY", REPOSITORY.to_string()),
            ("GITHUB_REPOSITORY_OWNER", "kyma-project".to_string()),
            ("GITHUB_RUN_ID", RUN_ID.to_string()),
            ("GITHUB_RUN_ATTEMPT", "1".to_string()),
            ("GITHUB_RUN_NUMBER", "57".to_string()),
            ("GITHUB_SHA", SHA.to_string()),
            ("GITHUB_REF", "refs/heads/main".to_string()),
            ("GITHUB_WORKFLOW", "Create release".to_string()),
            ("GITHUB_WORKFLOW_REF", format!("{REPOSITORY}/.github/workflows/create-release.yml@refs/heads/main")),
            ("GITHUB_ACTOR", "release-bot".to_string()),
            ("GITHUB_TRIGGERING_ACTOR", "release-bot".to_string()),
            ("GITHUB_EVENT_NAME", "workflow_dispatch".to_string()),
            ("GITHUB_SERVER_URL", "https://github.com".to_string()),
            ("GITHUB_API_URL", "https://api.github.com".to_string()),
            ("GITHUB_RETENTION_DAYS", "90".to_string()),
            ("GITHUB_WORKSPACE", p("workspace")),
            ("RUNNER_TEMP", p("temp")),
            ("GITHUB_OUTPUT", p("output")),
            ("GITHUB_STEP_SUMMARY", p("summary.md")),
            ("RELEASE_AUDIT_RETRY_BASE_MS", "20".to_string()),
            ("SOURCE_DATE_EPOCH", "1700000000".to_string()),
        ] {
            env.insert(k.to_string(), v);
        }
        Step { dir, env }
    }

    /// A step whose artifacts runtime and REST API are the fake's.
    pub fn with_fake(fake: &FakeGitHub) -> Self {
        let mut step = Step::new();
        for (k, v) in fake.runtime_env() {
            step.env.insert(k, v);
        }
        step.input("github-token", &fake.rest_token);
        step
    }

    /// Sets an input the way the runner does: `INPUT_<NAME>` upper-cased, hyphens kept.
    pub fn input(&mut self, name: &str, value: &str) -> &mut Self {
        self.env.insert(format!("INPUT_{}", name.replace(' ', "_").to_uppercase()), value.to_string());
        self
    }

    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        self.env.insert(name.to_string(), value.to_string());
        self
    }

    pub fn unset(&mut self, name: &str) -> &mut Self {
        self.env.remove(name);
        self
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Resolves a path output the way a later step would: relative to the workspace.
    pub fn resolve(&self, output: &str) -> PathBuf {
        self.dir.path().join("workspace").join(output)
    }

    /// Runs the binary (no arguments: action mode) with exactly this environment.
    pub async fn run(&self, binary: &Path, args: &[&str]) -> StepResult {
        let output = tokio::process::Command::new(binary)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(&self.env)
            .output()
            .await
            .expect("the binary runs");
        let outputs = self
            .env
            .get("GITHUB_OUTPUT")
            .map(|p| parse_outputs(&std::fs::read_to_string(p).unwrap_or_default()))
            .unwrap_or_default();
        let summary = self
            .env
            .get("GITHUB_STEP_SUMMARY")
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .unwrap_or_default();
        if let Some(manifest) = outputs.get("manifest-path") {
            validate_manifest(&self.resolve(manifest));
        }
        StepResult {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            outputs,
            summary,
        }
    }
}

/// The smallest real audit: release `version` from one e2e report artifact
/// (`pr-e2e-report`, the zip `artifact`) of run 800 at [`SHA`], nothing published, no
/// run logs. Many tests start from it and add inputs.
pub async fn e2e_audit_step(fake: &FakeGitHub, version: &str, artifact: &[u8]) -> Step {
    let backend = fake.add_run(800, "e2e.yml", SHA, "success");
    fake.seed_artifact(&backend, "pr-e2e-report", artifact).await;
    let mut step = Step::with_fake(fake);
    step.input("release-version", version)
        .input("run-ids", "800")
        .input("e2e-reports", "pr-e2e-report")
        .input("required-reports", "e2e")
        .input("upload", "false")
        .input("include-run-logs", "false");
    step
}

impl Default for Step {
    fn default() -> Self {
        Self::new()
    }
}

/// Validates a manifest.json against the schema in the repository (every manifest a
/// test produces goes through here). Needs Python's `jsonschema` (`tests/run` installs it).
pub fn validate_manifest(path: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::process::Command::new("python3")
        .arg(root.join("tests/support/validate_manifest.py"))
        .arg(root.join("schema/manifest-v1.schema.json"))
        .arg(path)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{} does not match schema/manifest-v1.schema.json:\n{}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Parses a GITHUB_OUTPUT file (both `k=v` and `k<<DELIM` forms), as the runner does.
pub fn parse_outputs(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((k, v)) = line.split_once('=') {
            out.insert(k.to_string(), v.to_string());
        }
    }
    out
}

/// Reading what a step wrote into its bundle zip.
impl Step {
    /// The bytes of `rel` inside the bundle zip of `result` (`<bundle-name>/<rel>`).
    pub fn bundle_file(&self, result: &StepResult, rel: &str) -> Vec<u8> {
        use std::io::Read;
        let zip_path = self.resolve(&result.outputs["bundle-path"]);
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
        let prefix = zip_path.file_stem().unwrap().to_str().unwrap().to_string();
        let mut f =
            archive.by_name(&format!("{prefix}/{rel}")).unwrap_or_else(|_| panic!("{rel} is not in the bundle"));
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        bytes
    }

    /// The bundle's `manifest.json`.
    pub fn bundle_manifest(&self, result: &StepResult) -> serde_json::Value {
        serde_json::from_slice(&self.bundle_file(result, "manifest.json")).unwrap()
    }
}

/// One test category of a manifest.
pub fn category<'a>(manifest: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    manifest["evidence"]["tests"]["categories"].as_array().unwrap().iter().find(|c| c["category"] == name).unwrap()
}
