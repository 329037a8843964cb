//! GitHub's REST shapes as the change trail reads them: only the fields read, unknown
//! fields ignored. Wire types live here, beside the client (`rest.rs`); the evidence
//! stages map them into their own records (`evidence::changes`).

use serde::Deserialize;

#[derive(Deserialize)]
pub struct GhUser {
    pub login: String,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

#[derive(Deserialize)]
pub struct GhRelease {
    pub tag_name: String,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub prerelease: bool,
}

#[derive(Deserialize)]
pub struct GhTag {
    pub name: String,
}

#[derive(Deserialize)]
pub struct ShaOnly {
    pub sha: String,
}

#[derive(Deserialize)]
pub struct GhComparison {
    pub status: String,
    pub ahead_by: u64,
    pub behind_by: u64,
    pub total_commits: u64,
    pub base_commit: Option<GhCommit>,
    pub merge_base_commit: Option<GhCommit>,
    pub commits: Vec<GhCommit>,
}

/// A commit as `GET /pulls/{n}/commits` lists it: who wrote it, and its first line and
/// author time (to find it rebased).
#[derive(Deserialize)]
pub struct GhPullCommit {
    pub author: Option<GhUser>,
    pub committer: Option<GhUser>,
    #[serde(default)]
    pub commit: Option<GhGitCommit>,
}

#[derive(Deserialize)]
pub struct GhCommit {
    pub sha: String,
    /// The commit's GraphQL node id (for the bulk lookups).
    #[serde(default)]
    pub node_id: Option<String>,
    pub commit: GhGitCommit,
    pub author: Option<GhUser>,
    pub committer: Option<GhUser>,
    #[serde(default)]
    pub parents: Vec<ShaOnly>,
}

#[derive(Deserialize)]
pub struct GhGitCommit {
    pub author: Option<GhPerson>,
    pub committer: Option<GhPerson>,
    #[serde(default)]
    pub message: String,
    pub verification: Option<GhVerification>,
}

#[derive(Deserialize)]
pub struct GhPerson {
    pub name: Option<String>,
    pub email: Option<String>,
    pub date: Option<String>,
}

#[derive(Deserialize)]
pub struct GhVerification {
    pub verified: bool,
    pub reason: String,
}

#[derive(Deserialize)]
pub struct GhPull {
    pub number: u64,
    #[serde(default)]
    pub title: String,
    pub user: Option<GhUser>,
    pub merged_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    pub merge_commit_sha: Option<String>,
    pub head: ShaOnly,
    pub html_url: Option<String>,
    /// Only in the single pull request's answer (`GET /pulls/{n}`), not in lists.
    #[serde(default)]
    pub merged_by: Option<GhUser>,
}

#[derive(Deserialize)]
pub struct GhReview {
    pub id: u64,
    pub user: Option<GhUser>,
    pub state: String,
    pub commit_id: Option<String>,
    pub submitted_at: Option<String>,
}

#[derive(Deserialize)]
pub struct GhEnvironment {
    pub name: Option<String>,
}

#[derive(Deserialize)]
pub struct GhApproval {
    pub state: String,
    pub user: Option<GhUser>,
    #[serde(default)]
    pub environments: Vec<GhEnvironment>,
    #[serde(default)]
    pub comment: Option<String>,
}
