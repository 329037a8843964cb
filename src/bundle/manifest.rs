//! `manifest.json`: the audit record. Plain data, serialised as snake_case JSON (and
//! the same data as YAML). Its JSON Schema lives in `schema/manifest-v1.schema.json`;
//! a change here is a change there.

use serde::{Deserialize, Serialize};

use crate::evidence::Evidence;

pub const SCHEMA_VERSION: u32 = 1;
pub const TOOL_NAME: &str = "release-audit";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub tool: Tool,
    pub release: Release,
    pub source: Source,
    pub run: RunFacts,
    pub evidence: Evidence,
    pub verdict: Verdict,
    /// Every file of the bundle except `manifest.json`, `manifest.yaml` and `SHA256SUMS`
    /// (which cover this list in turn), sorted by path.
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    pub fn this() -> Self {
        Tool { name: TOOL_NAME.to_string(), version: env!("CARGO_PKG_VERSION").to_string() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub version: String,
    pub bundle_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub repository: Option<String>,
    pub commit: Option<String>,
    /// The ref that names the released commit: `refs/tags/<tag>` when the release tag
    /// named it, else the workflow's ref.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// How the released commit was found (the release tag, `release-commit`, or the
    /// runner's `GITHUB_SHA`); absent in bundles written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_source: Option<crate::config::CommitSource>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFacts {
    pub id: Option<u64>,
    pub attempt: Option<u32>,
    pub url: Option<String>,
    pub workflow: Option<String>,
    pub workflow_ref: Option<String>,
    pub event: Option<String>,
    pub actor: Option<String>,
    pub triggering_actor: Option<String>,
    /// When the audit ran (RFC 3339, UTC, seconds; `SOURCE_DATE_EPOCH` when set, so a
    /// reproducible build of the bundle stays reproducible): the VSA's `timeVerified`.
    /// Absent in bundles written before it was recorded (they carry no VSA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audited_at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictResult {
    Passed,
    Failed,
}

impl VerdictResult {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictResult::Passed => "passed",
            VerdictResult::Failed => "failed",
        }
    }
}

/// The audit's conclusion and, when failed, every reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub result: VerdictResult,
    pub reasons: Vec<String>,
}

impl Verdict {
    pub fn from_reasons(reasons: Vec<String>) -> Self {
        let result = if reasons.is_empty() { VerdictResult::Passed } else { VerdictResult::Failed };
        Verdict { result, reasons }
    }
}

pub use super::dir::FileEntry;
