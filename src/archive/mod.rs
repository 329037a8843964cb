//! The auditor's archive: every bundle under a storage prefix, verified, in one index.
//!
//! `release-audit archive <storage-url>` lists the objects under the prefix (S3, GCS:
//! the same URL forms and credentials as `storage-url`), takes each `*.zip` with its
//! `*.SHA256SUMS` and, when present, `*.sigstore.json`, and for each bundle:
//!
//! 1. downloads the zip (bounded, hashed on the way) and holds its sha256 against the
//!    stored `SHA256SUMS` (missing or different: the row says so);
//! 2. runs `verify` on it — every hash and every claim re-derived, as
//!    `release-audit verify` does;
//! 3. holds the object key against what the bundle says it is: under the default layout
//!    (`<prefix><owner>/<repo>/<version>/<bundle>.zip`) a bundle stored under another
//!    repository's or version's key is a problem, not a row for that release;
//! 4. records one [`Row`]: repository, version, commit, when it was stored, verdict,
//!    per-category counts, image verdicts, the review controls, signature and
//!    verification result.
//!
//! The index is written as `index.json` (the rows), `index.csv` (for a spreadsheet) and
//! `index.html` (for people: rendered by [`crate::report::archive`]), with each bundle's
//! own `report.html` beside it under `reports/`, so the directory can be published
//! as it is.
//!
//! **Incremental.** A row of the previous `index.json` in the output directory is kept
//! without a download when the zip, its sums and its signature objects have the same
//! keys, sizes and versions (S3 ETag, GCS generation) as then, and its `report.html` is
//! still there — and only when that index was made of the same location, by this
//! release-audit, under the same `--retention-days`. **Bounded.** At most `jobs` bundles are downloaded and verified at once,
//! each streamed to a temporary file; a damaged, missing or refused bundle is a row with
//! the reason, never a failed listing.

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};

use crate::bundle::manifest::Manifest;
use crate::error::{Error, Result};
use crate::publish::storage::StorageSettings;
use crate::publish::storage::read::{Listed, StorageReader};

/// The largest zip the archive downloads (the extraction limits of `verify` apply
/// after that).
pub const MAX_BUNDLE_BYTES: u64 = 4 * 1024 * 1024 * 1024;
/// The largest `SHA256SUMS` / `.sigstore.json` object read.
const MAX_SIDE_BYTES: u64 = 1024 * 1024;
/// Problems a row lists; the rest are counted.
const LISTED_PROBLEMS: usize = 20;
/// The index format.
pub const INDEX_SCHEMA: u32 = 1;

/// One bundle of the archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The zip's object key and URL.
    pub key: String,
    pub url: String,
    pub size: u64,
    /// The service's version of the zip object (S3 ETag, GCS generation).
    pub object_version: String,
    pub stored_at: String,
    /// The zip's sha256, computed from the bytes downloaded.
    pub sha256: Option<String>,
    /// `matches`, `missing`, `differs` or `unreadable`.
    pub sums: String,
    /// The sums object's version, for the incremental check (empty when missing).
    pub sums_version: String,
    /// `absent`; `verified: <signer workflow>` when the `.sigstore.json` beside the zip
    /// signs exactly this zip, by a workflow of the repository the bundle audits, checked
    /// offline against the built-in roots; `fails: <reason>` otherwise (a problem).
    pub signature: String,
    pub signature_version: String,
    pub repository: Option<String>,
    pub version: Option<String>,
    pub commit: Option<String>,
    pub run_url: Option<String>,
    /// The audit's verdict as the bundle records it (`passed` / `failed`).
    pub verdict: Option<String>,
    pub categories: Vec<CategoryRow>,
    pub images: Vec<ImageRow>,
    /// `held`, `did not hold`, or `not required` (None: the trail was not collected).
    pub reviewed_changes: Option<String>,
    pub release_approval: Option<String>,
    /// `holds` when the bundle is intact and every claim re-derives; `fails` otherwise.
    pub verification: String,
    pub problem_count: usize,
    pub problems: Vec<String>,
    /// The bundle's `report.html`, relative to the index (None when it could not be read).
    pub report: Option<String>,
    /// (`--retention-days`) The zip's write-once lock as the store reports it:
    /// `COMPLIANCE until …`, `Locked until …`, or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<String>,
}

impl Row {
    /// Intact: the sums match, `verify` holds, and the key names what the bundle is.
    pub fn ok(&self) -> bool {
        self.problem_count == 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryRow {
    pub category: String,
    pub status: String,
    pub tests: u64,
    pub passed: u64,
    pub failed: u64,
    pub errored: u64,
    pub skipped: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRow {
    pub name: String,
    pub verdict: String,
    pub passed: bool,
}

/// The whole index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    pub schema: u32,
    /// `s3://bucket/prefix/` or `gs://…`.
    pub location: String,
    pub generated_by: String,
    pub generated_at: String,
    pub bundles: Vec<Row>,
    /// Bundles checked in this run, and rows kept from the previous index.
    pub checked: usize,
    pub reused: usize,
    /// Requests sent to the store in this run (listing pages and downloads).
    pub requests: u64,
    /// (`--retention-days`) The lock policy the rows were checked under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    /// (`--signer-workflow`) The workflow every signature had to come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer_workflow: Option<String>,
    /// The trusted roots signatures were checked with: `built-in`, or the sha256 of the
    /// `--trusted-root` file.
    #[serde(default)]
    pub trusted_roots: String,
}

/// What every bundle is held to beyond `verify`: the lock policy and the signature policy.
/// Rows of a previous index are reused only when it was made under the same policy.
pub struct Policy {
    /// (`--retention-days`) The zip's and the sums' locks must last this many days past storing.
    pub retention_days: Option<u32>,
    /// (`--signer-workflow`) The workflow a signature must come from, as `verify
    /// --signer-workflow` takes it (`owner/repo/path/to/workflow.yml[@ref]`): the reusable
    /// workflow every repository calls, for example.
    pub signer_workflow: Option<String>,
    /// The trusted roots signatures are checked with (the index names them by their `id`).
    pub roots: crate::verify::sigstore::Roots,
}

impl Index {
    pub fn broken(&self) -> usize {
        self.bundles.iter().filter(|r| !r.ok()).count()
    }
}

/// A bundle's objects in the listing.
#[derive(Debug, Clone)]
struct Candidate {
    zip: Listed,
    sums: Option<Listed>,
    signature: Option<Listed>,
}

/// Groups a listing into bundles: every `.zip`, with the `.SHA256SUMS` and
/// `.sigstore.json` of the same stem.
fn candidates(listing: Vec<Listed>) -> Vec<Candidate> {
    let by_key: HashMap<String, Listed> = listing.iter().map(|l| (l.key.clone(), l.clone())).collect();
    let mut out: Vec<Candidate> = listing
        .into_iter()
        .filter(|l| l.key.ends_with(".zip"))
        .map(|zip| {
            let stem = zip.key.strip_suffix(".zip").unwrap_or(&zip.key).to_string();
            Candidate {
                sums: by_key.get(&format!("{stem}.SHA256SUMS")).cloned(),
                signature: by_key
                    .get(&format!("{stem}.sigstore.json"))
                    .or_else(|| by_key.get(&format!("{stem}.zip.sigstore.json")))
                    .cloned(),
                zip,
            }
        })
        .collect();
    out.sort_by(|a, b| a.zip.key.cmp(&b.zip.key));
    out
}

/// Builds (or refreshes) the index of everything under `settings`' prefix into `out`.
pub async fn build(
    net: &crate::http::Net,
    settings: &StorageSettings,
    out: &Path,
    jobs: usize,
    policy: &Policy,
) -> Result<Index> {
    let hint = "the output directory must be writable";
    std::fs::create_dir_all(out.join("reports")).map_err(|e| Error::io(out, e, hint))?;
    let location = &settings.location;
    let location_url = format!("{}://{}/{}", location.scheme.as_str(), location.bucket, location.prefix);
    let generated_by = format!("release-audit {}", env!("CARGO_PKG_VERSION"));
    let previous = previous_rows(out, &location_url, &generated_by, policy);
    let reader = StorageReader::open(net, settings).await?;
    let listing = reader.list().await?;
    let candidates = candidates(listing);
    let total = candidates.len();
    let progress = Progress::new(total);
    let mut reused = 0;
    let mut todo = Vec::new();
    let mut rows = Vec::new();
    for c in candidates {
        match previous.get(&c.zip.key).filter(|row| unchanged(row, &c, out)) {
            Some(row) => {
                reused += 1;
                rows.push(row.clone());
            }
            None => todo.push(c),
        }
    }
    let checked = todo.len();
    let mut stream = futures_util::stream::iter(todo.into_iter().map(|c| check(&reader, c, out, policy)))
        .buffer_unordered(jobs.max(1));
    while let Some(row) = stream.next().await {
        progress.row(&row);
        rows.push(row);
    }
    progress.done(checked, reused);
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(Index {
        schema: INDEX_SCHEMA,
        location: location_url,
        generated_by,
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        bundles: rows,
        checked,
        reused,
        requests: reader.requests(),
        retention_days: policy.retention_days,
        signer_workflow: policy.signer_workflow.clone(),
        trusted_roots: policy.roots.id.clone(),
    })
}

/// The rows of the index already in `out`, by key. None — everything is checked again —
/// when it is missing or unreadable, or was made of another location, by another
/// release-audit (whose `verify` may judge otherwise) or under another lock policy (a
/// row checked without `--retention-days` says nothing about locks).
fn previous_rows(out: &Path, location: &str, generated_by: &str, policy: &Policy) -> HashMap<String, Row> {
    let Ok(bytes) = std::fs::read(out.join("index.json")) else {
        return HashMap::new();
    };
    match serde_json::from_slice::<Index>(&bytes) {
        Ok(index)
            if index.schema == INDEX_SCHEMA
                && index.location == location
                && index.generated_by == generated_by
                && index.retention_days == policy.retention_days
                && index.signer_workflow == policy.signer_workflow
                && index.trusted_roots == policy.roots.id =>
        {
            index.bundles.into_iter().map(|r| (r.key.clone(), r)).collect()
        }
        Ok(_) => {
            log::info!(
                "{}: made of another location, release-audit, lock or signature policy; checking every bundle again",
                out.display()
            );
            HashMap::new()
        }
        Err(_) => {
            log::warn!("{}: not an index this release-audit wrote; checking every bundle again", out.display());
            HashMap::new()
        }
    }
}

/// The service's version of an optional object (empty when there is none).
fn version_of(object: &Option<Listed>) -> String {
    object.as_ref().map(|l| l.version.clone()).unwrap_or_default()
}

/// A previous row still describes the objects: same zip, sums and signature versions,
/// and its report page is still in the output.
fn unchanged(row: &Row, c: &Candidate, out: &Path) -> bool {
    row.object_version == c.zip.version
        && !c.zip.version.is_empty()
        && row.size == c.zip.size
        && row.sums_version == version_of(&c.sums)
        && row.signature_version == version_of(&c.signature)
        && row.report.as_ref().is_none_or(|r| out.join(r).is_file())
}

/// Downloads and verifies one bundle; every failure becomes the row's reason.
async fn check(reader: &StorageReader, c: Candidate, out: &Path, policy: &Policy) -> Row {
    let location = &reader.settings().location;
    let mut row = Row {
        key: c.zip.key.clone(),
        url: location.object_url(&c.zip.key),
        size: c.zip.size,
        object_version: c.zip.version.clone(),
        stored_at: c.zip.stored_at.clone(),
        sha256: None,
        sums: "missing".into(),
        sums_version: version_of(&c.sums),
        signature: "absent".into(),
        signature_version: version_of(&c.signature),
        repository: None,
        version: None,
        commit: None,
        run_url: None,
        verdict: None,
        categories: Vec::new(),
        images: Vec::new(),
        reviewed_changes: None,
        release_approval: None,
        verification: "fails".into(),
        problem_count: 0,
        problems: Vec::new(),
        report: None,
        lock: None,
    };
    let mut problems = Vec::new();
    if let Some(days) = policy.retention_days {
        check_locks(reader, &c, days, &mut row, &mut problems).await;
    }
    if let Err(e) = fill(reader, &c, out, policy, &mut row, &mut problems).await {
        problems.push(format!("{e}"));
    }
    row.problem_count = problems.len();
    problems.truncate(LISTED_PROBLEMS);
    row.problems = problems;
    if row.problem_count == 0 {
        row.verification = "holds".into();
    }
    row
}

async fn fill(
    reader: &StorageReader,
    c: &Candidate,
    out: &Path,
    policy: &Policy,
    row: &mut Row,
    problems: &mut Vec<String>,
) -> Result<()> {
    let scratch =
        tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e, "free space in the temp directory"))?;
    let zip_path = scratch.path().join("bundle.zip");
    let (_, sha256) = reader.download(&c.zip.key, &zip_path, MAX_BUNDLE_BYTES).await?;
    row.sha256 = Some(sha256.clone());
    row.sums = sums_state(reader, c, &sha256, scratch.path()).await;
    if row.sums != "matches" {
        problems.push(format!("SHA256SUMS: {}", row.sums));
    }
    let extract = scratch.path().join("x");
    std::fs::create_dir(&extract).map_err(|e| Error::io(&extract, e, "free space in the temp directory"))?;
    let zip_for_verify = zip_path.clone();
    let (verification, root) =
        tokio::task::spawn_blocking(move || crate::verify::verify_zip_in(&zip_for_verify, &extract))
            .await
            .map_err(|e| Error::evidence("verify", format!("did not finish: {e}"), "report this as a bug"))??;
    problems.extend(verification.problems.iter().map(|p| p.to_string()));
    if let Some(m) = &verification.manifest {
        describe(m, row);
        problems.extend(key_problem(&reader.settings().location.prefix, &c.zip.key, m));
    } else {
        problems.push("the bundle has no readable manifest".into());
    }
    if let Some(signature) = &c.signature {
        row.signature =
            check_signature(reader, signature, &sha256, row.repository.as_deref(), policy, scratch.path()).await;
        if !row.signature.starts_with("verified") {
            problems.push(format!("signature: {}", row.signature));
        }
    }
    row.report = copy_report(&root, &c.zip.key, out);
    Ok(())
}

/// How much earlier than `stored_at + days` a lock may end and still count: the audit
/// computes its retain-until date just before it uploads.
const LOCK_SLACK: chrono::Duration = chrono::Duration::hours(1);

/// (`--retention-days`) The zip and its sums must be locked write-once (S3 compliance,
/// GCS locked) until at least `days` after the zip was stored: a lock that ends earlier,
/// or none, is a problem.
async fn check_locks(reader: &StorageReader, c: &Candidate, days: u32, row: &mut Row, problems: &mut Vec<String>) {
    let Ok(stored) = chrono::DateTime::parse_from_rfc3339(&c.zip.stored_at) else {
        problems.push(format!("lock: the store gives no time the zip was stored (`{}`)", c.zip.stored_at));
        return;
    };
    let required = stored.with_timezone(&chrono::Utc) + chrono::Duration::days(i64::from(days));
    for (what, object) in [("zip", Some(&c.zip)), ("SHA256SUMS", c.sums.as_ref())] {
        let Some(object) = object else { continue };
        let text = match reader.lock(&object.key).await {
            Ok(Some(lock)) => {
                let until = lock.retain_until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                if !lock.is_write_once() {
                    problems.push(format!("lock: the {what} is locked in mode {}, which can be lifted", lock.mode));
                } else if lock.retain_until + LOCK_SLACK < required {
                    problems.push(format!(
                        "lock: the {what}'s lock ends {until}, before {} ({days} days after it was stored)",
                        required.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ));
                }
                format!("{} until {until}", lock.mode)
            }
            Ok(None) => {
                problems.push(format!("lock: the {what} is not locked; it can be deleted or replaced"));
                "none".to_string()
            }
            Err(e) => {
                problems.push(format!("lock: the {what}'s lock could not be read ({e})"));
                "unreadable".to_string()
            }
        };
        if what == "zip" {
            row.lock = Some(text);
        }
    }
}

/// `matches`, `missing`, `differs`, or `unreadable (…)`: the stored sums against the
/// sha256 of the bytes downloaded.
async fn sums_state(reader: &StorageReader, c: &Candidate, sha256: &str, scratch: &Path) -> String {
    let Some(sums) = &c.sums else {
        return "missing".into();
    };
    let path = scratch.join("sums");
    if let Err(e) = reader.download(&sums.key, &path, MAX_SIDE_BYTES).await {
        return format!("unreadable ({e})");
    }
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let name = c.zip.key.rsplit('/').next().unwrap_or(&c.zip.key);
    let listed = text.lines().find_map(|line| {
        let (hash, file) = line.split_once("  ").or_else(|| line.split_once(" *"))?;
        (file.trim() == name).then(|| hash.trim().to_ascii_lowercase())
    });
    match listed {
        Some(hash) if hash == sha256 => "matches".into(),
        Some(_) => "differs".into(),
        None => format!("does not list {name}"),
    }
}

/// The `.sigstore.json` beside a zip, checked offline: it must sign exactly the bytes
/// downloaded, by a GitHub Actions workflow of the repository the bundle says it audits
/// (a valid signature from another repository proves nothing about this release).
async fn check_signature(
    reader: &StorageReader,
    signature: &Listed,
    zip_sha256: &str,
    repository: Option<&str>,
    policy: &Policy,
    scratch: &Path,
) -> String {
    use crate::verify::sigstore::{Expected, GITHUB_ACTIONS_ISSUER, check};
    let Some(repository) = repository else {
        return "fails: the bundle names no repository to expect as the signer".into();
    };
    let path = scratch.join("signature.json");
    if let Err(e) = reader.download(&signature.key, &path, MAX_SIDE_BYTES).await {
        return format!("fails: unreadable ({e})");
    }
    let Ok(json) = std::fs::read_to_string(&path) else {
        return "fails: not UTF-8 JSON".into();
    };
    let mut digest = [0u8; 32];
    if hex::decode_to_slice(zip_sha256, &mut digest).is_err() {
        return "fails: no sha256 of the zip".into();
    }
    let expected = Expected {
        repo: Some(repository.to_string()),
        signer_workflow: policy.signer_workflow.clone(),
        issuer: GITHUB_ACTIONS_ISSUER.into(),
        ..Expected::default()
    };
    let result = check(digest, &json, &signature.key, &expected, &policy.roots);
    match (result.verified, result.signer) {
        (true, Some(signer)) => format!("verified: {}", signer.workflow),
        (true, None) => "verified".into(),
        (false, _) => format!("fails: {}", result.failure.unwrap_or_else(|| "not verified".into())),
    }
}

/// The row's facts, from a manifest `verify` parsed.
fn describe(m: &Manifest, row: &mut Row) {
    row.repository = m.source.repository.clone();
    row.version = Some(m.release.version.clone());
    row.commit = m.source.commit.clone();
    row.run_url = m.run.url.clone();
    row.verdict = Some(m.verdict.result.as_str().to_string());
    if let Some(tests) = &m.evidence.tests {
        row.categories = tests
            .categories
            .iter()
            .map(|c| CategoryRow {
                category: c.category.as_str().to_string(),
                status: format!("{:?}", c.status).to_ascii_lowercase(),
                tests: c.totals.tests,
                passed: c.totals.passed,
                failed: c.totals.failed,
                errored: c.totals.errored,
                skipped: c.totals.skipped,
            })
            .collect();
    }
    if let Some(images) = &m.evidence.images {
        row.images = images
            .pairs
            .iter()
            .map(|p| ImageRow { name: p.name.clone(), verdict: p.verdict.as_str().to_string(), passed: p.passed })
            .collect();
    }
    if let Some(changes) = &m.evidence.changes {
        let control = |c: &crate::evidence::changes::Control| {
            if !c.required {
                "not required".to_string()
            } else if c.held {
                "held".to_string()
            } else {
                "did not hold".to_string()
            }
        };
        row.reviewed_changes = Some(control(&changes.reviewed_changes));
        row.release_approval = Some(control(&changes.release_approval));
    }
}

/// Under the default layout, `<prefix><owner>/<repo>/<version>/<bundle>.zip` must name
/// the bundle's own repository, version and name: a bundle copied under another
/// release's key must not answer for that release.
fn key_problem(prefix: &str, key: &str, m: &Manifest) -> Option<String> {
    let rel = key.strip_prefix(prefix).unwrap_or(key);
    let parts: Vec<&str> = rel.split('/').collect();
    let [owner, repo, version, file] = parts.as_slice() else {
        return None;
    };
    let stored = (format!("{owner}/{repo}"), version.to_string(), file.strip_suffix(".zip").unwrap_or(file));
    let claimed = (m.source.repository.clone().unwrap_or_default(), m.release.version.clone());
    (stored.0 != claimed.0 || stored.1 != claimed.1 || stored.2 != m.release.bundle_name).then(|| {
        format!(
            "stored as {}/{} `{}`, but the bundle is {} {} `{}`",
            stored.0, stored.1, stored.2, claimed.0, claimed.1, m.release.bundle_name
        )
    })
}

/// Copies the bundle's `report.html` to `reports/<key>.html`; None when it has none.
fn copy_report(root: &Path, key: &str, out: &Path) -> Option<String> {
    let source = root.join(crate::report::REPORT_HTML);
    let meta = std::fs::symlink_metadata(&source).ok()?;
    if !meta.is_file() || meta.len() > 64 * 1024 * 1024 {
        return None;
    }
    let rel = format!("reports/{}.html", safe_name(key));
    std::fs::copy(&source, out.join(&rel)).ok()?;
    Some(rel)
}

/// An object key as one file name: anything but `[A-Za-z0-9._-]` becomes `_`, plus a
/// short hash of the key so that two keys never share a name.
fn safe_name(key: &str) -> String {
    use sha2::Digest as _;
    let plain: String =
        key.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).take(120).collect();
    let hash = hex::encode(sha2::Sha256::digest(key.as_bytes()));
    format!("{plain}-{}", &hash[..12])
}

/// Writes `index.json`, `index.csv` and `index.html` into `out`.
pub fn write(index: &Index, out: &Path) -> Result<Vec<PathBuf>> {
    let json = serde_json::to_vec_pretty(index).expect("the index serialises");
    let files = [
        ("index.json", json),
        ("index.csv", csv(index).into_bytes()),
        ("index.html", crate::report::archive::index_html(index).into_bytes()),
    ];
    let mut written = Vec::new();
    for (name, bytes) in files {
        let path = out.join(name);
        crate::bundle::dir::write_output_file(&path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}

/// The rows as CSV (RFC 4180). A cell that a spreadsheet would read as a formula
/// (`=`, `+`, `-`, `@`, tab, CR at its start) gets a leading `'`: the values come from
/// bundles, which come from outside.
pub fn csv(index: &Index) -> String {
    let header = [
        "repository",
        "version",
        "commit",
        "stored_at",
        "verdict",
        "verification",
        "problems",
        "sums",
        "signature",
        "lock",
        "reviewed_changes",
        "release_approval",
        "tests",
        "images",
        "url",
        "sha256",
    ];
    let mut out = header.join(",") + "\r\n";
    for r in &index.bundles {
        let tests: Vec<String> = r
            .categories
            .iter()
            .map(|c| format!("{} {} {}/{} failed {}", c.category, c.status, c.passed, c.tests, c.failed + c.errored))
            .collect();
        let images: Vec<String> = r.images.iter().map(|i| format!("{} {}", i.name, i.verdict)).collect();
        let cells = [
            r.repository.clone().unwrap_or_default(),
            r.version.clone().unwrap_or_default(),
            r.commit.clone().unwrap_or_default(),
            r.stored_at.clone(),
            r.verdict.clone().unwrap_or_default(),
            r.verification.clone(),
            r.problems.join("; "),
            r.sums.clone(),
            r.signature.clone(),
            r.lock.clone().unwrap_or_default(),
            r.reviewed_changes.clone().unwrap_or_default(),
            r.release_approval.clone().unwrap_or_default(),
            tests.join("; "),
            images.join("; "),
            r.url.clone(),
            r.sha256.clone().unwrap_or_default(),
        ];
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.into() };
    if value.contains([',', '"', '\n', '\r']) || value.starts_with('\'') {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// Progress on stderr: one rewritten line on a terminal, a plain line per bundle in CI.
struct Progress {
    total: usize,
    done: std::sync::atomic::AtomicUsize,
    terminal: bool,
}

impl Progress {
    fn new(total: usize) -> Self {
        Progress { total, done: 0.into(), terminal: std::io::stderr().is_terminal() }
    }

    fn row(&self, row: &Row) {
        let n = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let state = if row.ok() { "holds".to_string() } else { format!("FAILS ({} problems)", row.problem_count) };
        let line = crate::github::commands::inert(&format!("[{n}/{}] {} {state}", self.total, row.key));
        if self.terminal {
            eprint!("\r\x1b[2K{line}");
        } else {
            eprintln!("{line}");
        }
    }

    fn done(&self, checked: usize, reused: usize) {
        if self.terminal {
            eprintln!();
        }
        eprintln!("archive: {} bundles: {checked} checked, {reused} unchanged since the last index", self.total);
    }
}

/// Rows grouped by repository (for summaries): name → (bundles, broken).
pub fn by_repository(index: &Index) -> BTreeMap<String, (usize, usize)> {
    let mut out: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for r in &index.bundles {
        let entry = out.entry(r.repository.clone().unwrap_or_else(|| "(unknown)".into())).or_default();
        entry.0 += 1;
        entry.1 += usize::from(!r.ok());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_defused_and_quoted() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("-1"), "\"'-1\"");
    }

    #[test]
    fn safe_names_never_collide_or_escape() {
        let a = safe_name("o/r/1.0/../../x.zip");
        assert!(!a.contains('/') && !a.starts_with('.'));
        assert_ne!(safe_name("a/b.zip"), safe_name("a_b.zip"));
    }

    fn listed(key: &str) -> Listed {
        Listed { key: key.into(), size: 1, version: "v".into(), stored_at: String::new() }
    }

    #[test]
    fn a_zip_takes_the_sums_and_signature_of_its_stem() {
        let c = candidates(vec![
            listed("o/r/1/b.zip"),
            listed("o/r/1/b.SHA256SUMS"),
            listed("o/r/1/b.sigstore.json"),
            listed("o/r/2/b.zip"),
        ]);
        assert_eq!(c.len(), 2);
        assert!(c[0].sums.is_some() && c[0].signature.is_some());
        assert!(c[1].sums.is_none() && c[1].signature.is_none());
    }
}
