//! The inputs of `release-audit record-image` (and of `record/action.yml`): the flags,
//! and the `INPUT_*` variables that fill what the flags left unset. Checked by the
//! same parsers as everywhere (`config::images`), in the command itself.

use std::path::PathBuf;

use crate::github::runner::Lookup;
use crate::secret::Secret;

/// The inputs `record/action.yml` declares, as [`RecordImageArgs::with_inputs`] reads them.
pub const INPUT_NAMES: [&str; 6] =
    ["images", "pods", "output", "platform", "registry-credentials", "insecure-registries"];

/// The file written when neither `--output` nor the `output` input says otherwise.
pub const DEFAULT_OUTPUT: &str = "image-record.json";

/// `release-audit record-image`
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RecordImageArgs {
    /// An image reference to resolve now, e.g. europe-docker.pkg.dev/kyma-project/prod/app:1.2.3
    /// (repeatable). Action input `images`: one per line or comma-separated.
    #[arg(long = "image", value_name = "REF")]
    pub images: Vec<String>,
    /// The output of `kubectl get pods -A -o json` (or `kubectl get pods,nodes -A -o json`,
    /// which adds each node's platform): a file, or `-` for standard input. At most 64 MiB.
    #[arg(long, value_name = "FILE|-")]
    pub pods: Option<String>,
    /// Where to write the record. Default `image-record.json`; the audit finds files
    /// named `image-record*.json` among the collected report files.
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// The platform the job runs the image on, os/arch[/variant]. Default for `--image`:
    /// the runner's (RUNNER_OS, RUNNER_ARCH); for `--pods`: each pod's node, when the
    /// document lists nodes, else this.
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
    /// Registries reached over plain HTTP, as host:port (repeatable, or comma-separated;
    /// `--insecure-registry` is an alias).
    #[arg(
        long = "insecure-registries",
        visible_alias = "insecure-registry",
        value_name = "HOST:PORT",
        value_delimiter = ','
    )]
    pub insecure: Vec<String>,
    /// Registry logins, one per line: host=username:password. Prefer the environment
    /// variable over the flag (flags show in process lists); never printed.
    #[arg(long = "registry-credentials", env = "RELEASE_AUDIT_REGISTRY_CREDENTIALS", hide_env_values = true, value_name = "LOGINS", value_parser = parse_secret)]
    pub credentials: Option<Secret>,
}

fn parse_secret(value: &str) -> std::result::Result<Secret, String> {
    Ok(Secret::new(value))
}

fn split_list(text: &str) -> Vec<String> {
    text.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

impl RecordImageArgs {
    /// Fills what the flags left unset from the action inputs (`INPUT_IMAGES`,
    /// `INPUT_PODS`, `INPUT_OUTPUT`, `INPUT_PLATFORM`, `INPUT_REGISTRY-CREDENTIALS`,
    /// `INPUT_INSECURE-REGISTRIES`).
    pub fn with_inputs(mut self, env: Lookup<'_>) -> Self {
        if self.images.is_empty() {
            self.images = env("INPUT_IMAGES").map(|v| split_list(&v)).unwrap_or_default();
        }
        self.pods = self.pods.or_else(|| env("INPUT_PODS"));
        self.output = self.output.or_else(|| env("INPUT_OUTPUT").map(PathBuf::from));
        self.platform = self.platform.or_else(|| env("INPUT_PLATFORM"));
        if self.insecure.is_empty() {
            self.insecure = env("INPUT_INSECURE-REGISTRIES").map(|v| split_list(&v)).unwrap_or_default();
        }
        self.credentials = self.credentials.or_else(|| env("INPUT_REGISTRY-CREDENTIALS").map(Secret::new));
        self
    }
}
