//! The bundle's `statements/*.intoto.json`, as files: one test-result statement per
//! category that has artifacts, the code-review statement with a change trail, and
//! the verification summary (VSA, [`super::vsa`]) naming those by digest.
//! A pure function of the manifest (with the image pairs' digest records) and the
//! server's URL, so the writer and `verify` produce the very same bytes.

use super::manifest::Manifest;
use super::statements::{Subject, code_review, test_result};

/// One statement file: its path in the bundle and its bytes (pretty JSON, a newline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

fn json<T: serde::Serialize>(path: String, value: &T) -> StatementFile {
    let mut bytes = serde_json::to_vec_pretty(value).expect("statements serialise");
    bytes.push(b'\n');
    StatementFile { path, bytes }
}

/// Every statement the bundle holds for `m`. `server_url` is the GitHub the run was on
/// (`https://github.com`); the image subjects need the pairs' tested records.
pub fn statement_files(m: &Manifest, server_url: &str) -> Vec<StatementFile> {
    let repository = m.source.repository.as_deref();
    let mut files = Vec::new();
    if let Some(tests) = &m.evidence.tests {
        let subjects = subjects(m, server_url);
        let artifact_url = |run: Option<u64>, id: i64| {
            Some(format!("{server_url}/{}/actions/runs/{}/artifacts/{id}", repository?, run?))
        };
        for category in tests.categories.iter().filter(|c| !c.artifacts.is_empty()) {
            let statement = test_result(category, &subjects, m.run.url.clone(), artifact_url);
            files.push(json(format!("statements/{}.intoto.json", category.category.as_str()), &statement));
        }
    }
    if let Some(changes) = &m.evidence.changes {
        let statement = code_review(
            changes,
            server_url,
            repository.unwrap_or("local/local"),
            m.source.commit.as_deref(),
            m.run.url.clone(),
        );
        files.push(json("statements/code-review.intoto.json".into(), &statement));
    }
    let others: Vec<(&str, &[u8])> = files.iter().map(|f| (f.path.as_str(), f.bytes.as_slice())).collect();
    if let Some(bytes) = super::vsa::vsa_statement(m, server_url, &others) {
        files.push(StatementFile { path: super::vsa::VSA_PATH.into(), bytes });
    }
    files
}

/// What the tests were run against: the commit and, with image evidence, the tested
/// image digests (index and every platform).
fn subjects(m: &Manifest, server_url: &str) -> Vec<Subject> {
    let mut subjects = Vec::new();
    if let (Some(repo), Some(sha)) = (&m.source.repository, &m.source.commit) {
        subjects.push(Subject::git_commit(&format!("git+{server_url}/{repo}"), sha));
    }
    if let Some(images) = &m.evidence.images {
        subjects.extend(images.subjects().iter().map(|(name, hex)| Subject::image(name, hex)));
    }
    subjects
}

/// The server a bundle's run was on, from what the manifest records: its run's URL
/// (`<server>/<owner>/<repo>/actions/runs/…`), else the change trail's repository URL,
/// else `https://github.com`.
pub fn server_url_of(m: &Manifest) -> String {
    let from_run = m.run.url.as_deref().and_then(|url| {
        let (before, _) = url.split_once("/actions/runs/")?;
        let mut parts = before.rsplitn(3, '/');
        let (_repo, _owner, server) = (parts.next()?, parts.next()?, parts.next()?);
        Some(server.to_string())
    });
    let from_changes = || {
        let c = m.evidence.changes.as_ref()?;
        let repo = m.source.repository.as_deref()?;
        c.repository_url.strip_suffix(repo)?.strip_suffix('/').map(String::from)
    };
    from_run.or_else(from_changes).unwrap_or_else(|| "https://github.com".to_string())
}
