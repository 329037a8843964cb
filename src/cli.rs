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

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process; boxing `RunArgs` buys nothing
pub enum Command {
    /// Audit a release: collect evidence, write the bundle, publish it, write the summary.
    /// Every flag can also be given as the action input `INPUT_<NAME>`.
    Run(RunArgs),
    /// Parse test reports (files, directories, zip archives) and print their totals and
    /// failed tests; exit 1 when any test failed or a report cannot be read.
    Reports(crate::cli_reports::ReportsArgs),
}
