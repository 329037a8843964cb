//! `release-audit digest` and `release-audit compare`: the image evidence stage as
//! tools for an engineer chasing a digest mismatch.
//!
//! `compare` goes through the same seam as action mode (its flags → [`RawInputs`] →
//! [`config::images::settings`](crate::config::images::settings)), so it validates and
//! judges the digests exactly as the action does, and an error names the flag that was typed.
//!
//! `compare` answers "do these two references name the same image now, under the
//! policy?" — the question of an engineer chasing a mismatch. That alone never passes
//! an audit: the action also wants proof that the tests ran the released digest (an
//! image record, or the build's digest, `--expected-digest` here), and `compare` says
//! whether it has one (`proven_by` in `--json`, the `proof` line in text).
//! Exit codes: 0 when the digests pass the policy, 1 when they do not, 2 for bad flags,
//! 3 when a registry could not be read.

use crate::config::RawInputs;
use crate::config::images::{parse_platforms, parse_ref, registry_access};
use crate::error::{EXIT_VERDICT_FAILED, Error, Result};
use crate::evidence::images::{self, resolve};
use crate::github::commands::{inert, inert_json};
use crate::registry::{FetchError, RegistryClient};
use crate::report::image_text;
use crate::secret::Secret;

/// Prints text or JSON built from registry answers (platforms, media types, config
/// values, error texts) through the one printing path: nothing a registry sends can
/// become a workflow command.
fn print_text(text: &str) {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(&inert(line));
        out.push('\n');
    }
    print!("{out}");
}

fn print_json(value: &serde_json::Value) {
    println!("{}", inert_json(&serde_json::to_string_pretty(value).expect("records serialise")));
}

/// Flags both commands share: how to reach registries and what to print.
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryFlags {
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
    #[arg(long = "registry-credentials", env = "RELEASE_AUDIT_REGISTRY_CREDENTIALS", hide_env_values = true, value_name = "LOGINS", value_parser = crate::cli::parse_secret)]
    pub credentials: Option<Secret>,
    /// Only these platforms, os/arch[/variant] (repeatable; default all).
    #[arg(long = "platform", value_name = "OS/ARCH")]
    pub platforms: Vec<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `release-audit digest <ref>...`
#[derive(Debug, Clone, clap::Args)]
pub struct DigestArgs {
    /// Image references, e.g. europe-docker.pkg.dev/p/prod/app:1.2.3.
    #[arg(required = true, value_name = "REF")]
    pub references: Vec<String>,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

/// `release-audit compare <tested> <released>`
#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// The image that was tested.
    #[arg(value_name = "TESTED")]
    pub tested: String,
    /// The image that is (to be) released.
    #[arg(value_name = "RELEASED")]
    pub released: String,
    /// identical (index and platforms equal), platforms (platform manifests equal), or record.
    #[arg(long, value_name = "POLICY")]
    pub policy: Option<String>,
    /// The digest the build reported; the tested image must have it.
    #[arg(long = "expected-digest", value_name = "DIGEST")]
    pub expected_digest: Option<String>,
    /// Largest layer whose files are diffed (bytes, or 256MiB, 1GiB; 0 = off).
    #[arg(long = "layer-diff-limit", value_name = "SIZE")]
    pub layer_diff_limit: Option<String>,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

/// Prints the index and platform digests of each reference.
pub async fn digest(args: DigestArgs, net: &crate::http::Net) -> Result<i32> {
    let flags = &args.registry;
    let mut refs = Vec::new();
    for text in &args.references {
        refs.push(parse_ref("REF", text)?);
    }
    let platforms = parse_platforms("--platform", &flags.platforms)?;
    let access = registry_access(
        "--registry-credentials",
        flags.credentials.as_ref().map(Secret::expose),
        "--insecure-registries",
        &flags.insecure,
    )?;
    let client = RegistryClient::new(net, &access);
    let results = futures_util::future::join_all(refs.iter().map(|r| resolve::resolve(&client, r, &platforms))).await;
    let mut records = Vec::new();
    for result in results {
        match result {
            Ok(r) => records.push(r.record),
            Err(FetchError::NotFound(reason)) => {
                return Err(Error::evidence(
                    "image",
                    reason,
                    "check the reference, and that the login may read it (GHCR answers not found to unauthorised reads)",
                ));
            }
            Err(FetchError::Failed(e)) => return Err(e),
        }
    }
    if flags.json {
        print_json(&serde_json::json!({ "images": records, "requests": client.stats() }));
    } else {
        print_text(&image_text::records(&records));
    }
    Ok(0)
}

/// Compares two images under a policy and explains why they differ.
pub async fn compare(args: CompareArgs, net: &crate::http::Net) -> Result<i32> {
    let flags = &args.registry;
    let platforms = flags.platforms.join(",");
    let insecure = flags.insecure.join(",");
    let raw = RawInputs::from_flags([
        ("tested-image", "TESTED", Some(args.tested.as_str())),
        ("release-image", "RELEASED", Some(args.released.as_str())),
        ("digest-policy", "--policy", args.policy.as_deref()),
        ("expected-digest", "--expected-digest", args.expected_digest.as_deref()),
        ("layer-diff-limit", "--layer-diff-limit", args.layer_diff_limit.as_deref()),
        ("platforms", "--platform", Some(platforms.as_str())),
        ("insecure-registries", "--insecure-registries", Some(insecure.as_str())),
        ("registry-credentials", "--registry-credentials", flags.credentials.as_ref().map(Secret::expose)),
    ]);
    let settings = crate::config::images::settings(&raw)?.expect("a pair is given");
    let evidence = images::collect(&settings, net).await?;
    let pair = &evidence.pairs[0];
    let digests_pass = pair.verdict.passes(evidence.policy);
    if flags.json {
        let out = serde_json::json!({
            "name": pair.name,
            "policy": evidence.policy,
            "verdict": pair.verdict,
            "passed": digests_pass,
            "proven_by": pair.proven_by,
            "audit_passes": pair.passed,
            "expected_digest": pair.expected_digest,
            "tested": pair.detail.tested,
            "released": pair.detail.released,
            "explanation": pair.detail.explanation,
            "requests": evidence.requests,
        });
        print_json(&out);
    } else {
        print_text(&image_text::compare(pair, evidence.policy));
    }
    Ok(if digests_pass { 0 } else { EXIT_VERDICT_FAILED })
}
