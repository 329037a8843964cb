//! The command line: `run` (action mode, the default inside GitHub Actions) and the
//! tools an auditor or engineer runs locally.

use clap::{Parser, Subcommand};

use crate::config::RunArgs;

#[derive(Debug, Parser)]
#[command(name = "release-audit", version, about = "Turn a release into one self-verifying audit bundle.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

// `run` carries every input; the enum is built once per process, boxing buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit a release: collect evidence, write the bundle, publish it, write the summary.
    /// Every flag can also be given as the action input `INPUT_<NAME>`.
    Run(RunArgs),
    /// Print the index and platform manifest digests of image references.
    Digest(crate::cli_images::DigestArgs),
    /// Compare a tested and a released image; exit 0 when they pass the policy, 1 when not.
    Compare(crate::cli_images::CompareArgs),
}
