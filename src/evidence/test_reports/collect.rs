//! Collection of report artifacts: find the runs, list their artifacts, match them to
//! categories, download (a few at a time, streamed, digest-checked), extract safely
//! into the bundle, read every file under the artifact rule ([`super::files`]), tie each
//! artifact to the job that uploaded it ([`super::jobs`]), and record each run's own
//! evidence. Collection prints nothing and takes no workflow-command writer: notes and
//! [`Warning`]s are data in the evidence, for the report layer to render.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use futures_util::{StreamExt, TryStreamExt};

use super::extract::{ExtractedFile, Limits, extract_zip};
use super::files::read_artifact_file;
use super::jobs::{JobTie, tie_artifact};
use super::parse::FileOutcome;
use super::{
    ArtifactRecord, Category, CategoryRecord, JobLog, ReportFile, RunSelector, SourceRun, TestEvidence, TestSettings,
    Warning, WarningKind, judge_category,
};
use crate::bundle::dir::BundleDir;
use crate::bundle::dir::FileEntry;
use crate::error::{Error, Result};
use crate::github::artifacts::{ArtifactEntry, ArtifactService};
use crate::github::blob::{Downloaded, Excess, download_once, gave_up};
use crate::github::rest::{Rest, RunInfo};
use crate::github::runner::RunnerContext;
use crate::http::{Attempt, RetryPolicy, with_retries};

/// Largest artifact zip we download.
pub const MAX_ARTIFACT_BYTES: u64 = 4 << 30;
/// Largest run log archive we keep.
pub const MAX_LOGS_BYTES: u64 = 2 << 30;
/// Largest log kept of one job of the current run; longer ones keep their first bytes.
pub const MAX_JOB_LOG_BYTES: u64 = 64 << 20;
/// Downloads in flight at once.
pub const PARALLEL_DOWNLOADS: usize = 4;

/// The services collection may use; either may be absent (then runs that need it
/// cannot be read, and the error says so).
pub struct Services<'a> {
    pub artifacts: Option<&'a ArtifactService>,
    pub rest: Option<&'a Rest>,
    pub runner: &'a RunnerContext,
    /// The command's retry policy, for downloads (each attempt asks for a fresh URL).
    pub retry: RetryPolicy,
}

enum Fetch {
    Signed(ArtifactEntry),
    Rest,
}

struct Candidate {
    source: usize,
    id: i64,
    name: String,
    size: u64,
    digest: Option<String>,
    expired: bool,
    /// When the artifact service says it was created.
    created_at: Option<String>,
    /// The artifact service says the job running the audit uploaded it.
    own_job: bool,
    fetch: Fetch,
    /// Artifacts of the same name that earlier attempts of the run uploaded, oldest
    /// first ([`super::attempts`]).
    earlier: Vec<Candidate>,
}

/// Groups a run's artifacts by name: the newest (highest id) of each name is the run's,
/// the earlier ones (a re-run job uploads its artifact again under the same name) are
/// its earlier attempts. Returns the newest, by id, and a note per name uploaded again.
fn group_attempts(all: Vec<Candidate>) -> (Vec<Candidate>, Vec<String>) {
    let mut by_name: std::collections::BTreeMap<String, Vec<Candidate>> = std::collections::BTreeMap::new();
    for c in all {
        by_name.entry(c.name.clone()).or_default().push(c);
    }
    let mut newest = Vec::new();
    let mut notes = Vec::new();
    for (name, mut group) in by_name {
        group.sort_by_key(|c| c.id);
        let Some(mut last) = group.pop() else { continue };
        if !group.is_empty() {
            let ids: Vec<String> = group.iter().map(|c| c.id.to_string()).collect();
            notes.push(format!(
                "artifact `{name}` was uploaded again by a later attempt of the run (id {} after {}): the newest is the run's, and the earlier ones' reports are read as earlier attempts of the same tests",
                last.id,
                ids.join(", ")
            ));
        }
        last.earlier = group;
        newest.push(last);
    }
    newest.sort_by_key(|c| c.id);
    (newest, notes)
}

/// A run's jobs, as far as they could be read.
enum JobsRead {
    /// Not read yet.
    Pending,
    Read(Vec<serde_json::Value>),
    /// Why they could not be read.
    Unread(String),
}

struct Source {
    record: SourceRun,
    raw_run: Option<serde_json::Value>,
    current: bool,
    jobs: JobsRead,
}

fn rest_needed<'a>(services: &Services<'a>, what: &str) -> Result<&'a Rest> {
    services.rest.ok_or_else(|| {
        Error::evidence(
            what,
            "needs the REST API, but no client was given",
            "report this as a bug: the input seam checks for a token",
        )
    })
}

async fn sources_and_candidates(
    settings: &TestSettings,
    services: &Services<'_>,
) -> Result<(Vec<Source>, Vec<Candidate>)> {
    let mut sources = Vec::new();
    let mut candidates = Vec::new();
    for selector in &settings.runs {
        let index = sources.len();
        match selector {
            RunSelector::Current => {
                let service = services.artifacts.ok_or_else(|| {
                    Error::evidence(
                        "the current run",
                        "needs the artifacts runtime, but no client was given",
                        "report this as a bug: the input seam checks for ACTIONS_RESULTS_URL",
                    )
                })?;
                let r = services.runner;
                sources.push(Source {
                    record: SourceRun {
                        run_id: r.run_id,
                        selected_by: "current".into(),
                        workflow: r.workflow.clone(),
                        head_sha: r.sha.clone(),
                        run_attempt: r.run_attempt,
                        conclusion: None,
                        url: r.run_url(),
                        evidence_files: vec![],
                        job_logs: vec![],
                        notes: vec![],
                        warnings: vec![],
                        failed_jobs: vec![],
                    },
                    raw_run: None,
                    current: true,
                    jobs: JobsRead::Pending,
                });
                let own_job = &service.own_ids().workflow_job_run_backend_id;
                let mut all = Vec::new();
                for entry in service.list_all(None).await? {
                    all.push(Candidate {
                        source: index,
                        id: entry.id,
                        name: entry.name.clone(),
                        size: entry.size,
                        digest: entry.digest.clone(),
                        expired: false,
                        created_at: entry.created_at.clone(),
                        own_job: &entry.ids.workflow_job_run_backend_id == own_job,
                        fetch: Fetch::Signed(entry),
                        earlier: Vec::new(),
                    });
                }
                let (mut newest, notes) = group_attempts(all);
                // An earlier attempt's artifact is fetched by its id where the REST API
                // is at hand: the service's signed URL is asked for by name.
                if services.rest.is_some() {
                    newest.iter_mut().flat_map(|c| &mut c.earlier).for_each(|e| e.fetch = Fetch::Rest);
                }
                candidates.extend(newest);
                sources[index].record.notes.extend(notes);
            }
            RunSelector::Id(id) => {
                let rest = rest_needed(services, &format!("run {id}"))?;
                let (raw, info) = rest.run(*id).await?;
                push_rest_source(rest, &mut sources, &mut candidates, "run-id".into(), raw, info).await?;
            }
            RunSelector::Workflow { file, head_sha } => {
                let rest = rest_needed(services, &format!("runs of {file}"))?;
                let info = rest.newest_completed_run(file, head_sha).await?.ok_or_else(|| {
                    Error::evidence(
                        format!("workflow `{file}`"),
                        format!("has no completed run for commit {head_sha}"),
                        "check the file name in `workflows` and that the workflow ran for `head-sha`",
                    )
                })?;
                let (raw, info) = rest.run(info.id).await?;
                push_rest_source(rest, &mut sources, &mut candidates, format!("workflow:{file}"), raw, info).await?;
            }
        }
    }
    Ok((sources, candidates))
}

async fn push_rest_source(
    rest: &Rest,
    sources: &mut Vec<Source>,
    candidates: &mut Vec<Candidate>,
    selected_by: String,
    raw: serde_json::Value,
    info: RunInfo,
) -> Result<()> {
    // A run selected twice (by id and as a workflow's newest run) is one source.
    if let Some(earlier) = sources.iter_mut().find(|s| s.record.run_id == Some(info.id)) {
        earlier.record.notes.push(format!("also selected by {selected_by}; its artifacts are collected once"));
        return Ok(());
    }
    let index = sources.len();
    // A re-run job uploads its artifact again under the same name: like the official
    // client (`latest: true`), the newest of each name is the run's; the earlier ones
    // are its earlier attempts.
    let mut all = Vec::new();
    for a in rest.run_artifacts(info.id).await? {
        all.push(Candidate {
            source: index,
            id: a.id,
            name: a.name,
            size: a.size_in_bytes,
            digest: a.digest,
            expired: a.expired,
            created_at: a.created_at,
            own_job: false,
            fetch: Fetch::Rest,
            earlier: Vec::new(),
        });
    }
    let (newest, notes) = group_attempts(all);
    candidates.extend(newest);
    sources.push(Source {
        record: SourceRun {
            run_id: Some(info.id),
            selected_by,
            workflow: info.path.or(info.name),
            head_sha: info.head_sha,
            run_attempt: info.run_attempt,
            conclusion: info.conclusion,
            url: info.html_url,
            evidence_files: vec![],
            job_logs: vec![],
            notes,
            warnings: vec![],
            failed_jobs: vec![],
        },
        raw_run: Some(raw),
        current: false,
        jobs: JobsRead::Pending,
    });
    Ok(())
}

/// A directory name for an artifact: its name with anything unusual replaced, never
/// starting with a dot.
fn dir_name(name: &str) -> String {
    let mut s: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    if s.is_empty() || s.starts_with('.') {
        s.insert(0, '_');
    }
    s
}

struct Job<'c> {
    category_index: usize,
    candidate: &'c Candidate,
    /// The id of the newest artifact of the name, when this one is an earlier attempt.
    earlier_of: Option<i64>,
    /// Bundle-relative directory the artifact is extracted into.
    rel_dir: String,
    dest: PathBuf,
}

/// Which category (and which of its patterns) an artifact belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Owner {
    category: usize,
    pattern: usize,
}

/// Gives every artifact to the category whose pattern names it most specifically
/// (an exact name beats a glob). Two equally specific matches of the highest rank in
/// different categories leave the artifact's place undecided: an input error naming
/// both. (Lower-ranked matches never conflict: an exact name settles it.)
fn assign_categories(settings: &TestSettings, candidates: &[Candidate]) -> Result<Vec<Option<Owner>>> {
    candidates
        .iter()
        .map(|c| {
            let matches: Vec<(u8, Owner)> = settings
                .categories
                .iter()
                .enumerate()
                .flat_map(|(ci, (_, patterns))| patterns.iter().enumerate().map(move |(pi, p)| (ci, pi, p)))
                .filter(|(_, _, p)| p.matches(&c.name))
                .map(|(ci, pi, p)| (p.specificity(&c.name), Owner { category: ci, pattern: pi }))
                .collect();
            let Some(best) = matches.iter().map(|(rank, _)| *rank).max() else { return Ok(None) };
            let top: Vec<Owner> = matches.iter().filter(|(rank, _)| *rank == best).map(|(_, o)| *o).collect();
            let first = top[0];
            if let Some(other) = top.iter().find(|o| o.category != first.category) {
                let (a, a_patterns) = &settings.categories[first.category];
                let (b, b_patterns) = &settings.categories[other.category];
                return Err(Error::input(
                    format!("{}-reports", b.as_str()),
                    format!(
                        "artifact `{}` is matched as specifically by `{}` ({}) as by `{}` ({})",
                        c.name,
                        a_patterns[first.pattern].text,
                        a.title(),
                        b_patterns[other.pattern].text,
                        b.title()
                    ),
                    "name the artifact exactly in the category it belongs to, or narrow one of the globs",
                ));
            }
            Ok(Some(first))
        })
        .collect()
}

struct Fetched {
    category_index: usize,
    earlier_of: Option<i64>,
    record: ArtifactRecord,
    entries: Vec<FileEntry>,
}

/// What the category patterns made of the artifacts: a record per category (its
/// artifacts still to come) and a download per artifact taken.
struct Plan<'c> {
    categories: Vec<CategoryRecord>,
    downloads: Vec<Job<'c>>,
    /// Earlier attempts' artifacts that had expired: (category, newest artifact's id,
    /// the expired one's id).
    expired_earlier: Vec<(usize, i64, i64)>,
}

/// Bookkeeping shared by every category while planning: artifacts taken (each once)
/// and bundle folders used.
#[derive(Default)]
struct Taken {
    artifacts: HashSet<(usize, i64)>,
    dirs: HashSet<String>,
}

/// Collects the test evidence: finds the runs and their artifacts, gives each artifact
/// to its category, downloads, extracts and parses them, ties each to the job that
/// uploaded it, judges every category, and records the runs' own evidence. Nothing is
/// printed: what an operator should see is a [`Warning`] in the evidence.
pub async fn collect(settings: &TestSettings, services: &Services<'_>, dir: &mut BundleDir) -> Result<TestEvidence> {
    let (mut sources, candidates) = sources_and_candidates(settings, services).await?;
    log::info!("{} artifact(s) found in {} run(s)", candidates.len(), sources.len());
    // The jobs first: an earlier attempt's folder is named by its attempt.
    read_jobs(services, &mut sources).await?;
    let plan = plan(settings, &candidates, &sources, dir)?;

    let scratch = tempfile::tempdir_in(dir.root().parent().unwrap_or(dir.root()))
        .map_err(|e| Error::io(dir.root(), e, "the bundle directory's parent must be writable"))?;
    let fetched = fetch_all(plan.downloads, services, &sources, scratch.path()).await?;
    let mut categories = plan.categories;
    assemble(&mut categories, fetched, plan.expired_earlier, dir)?;
    for c in &mut categories {
        judge_into(c, settings.fail_on_flaky);
    }
    if settings.include_run_logs {
        record_runs(services, &mut sources, dir, scratch.path()).await?;
    }
    Ok(TestEvidence {
        counting: super::COUNTING_CONVENTION,
        categories,
        sources: sources.into_iter().map(|s| s.record).collect(),
        fail_on_test_failures: settings.fail_on_test_failures,
        fail_on_missing_reports: settings.fail_on_missing_reports,
        fail_on_flaky: settings.fail_on_flaky,
    })
}

/// Puts every fetched artifact into its category's record (the bundle adopts its
/// files), each earlier attempt's beside its newest, and records the earlier attempts
/// that had expired.
fn assemble(
    categories: &mut [CategoryRecord],
    fetched: Vec<Fetched>,
    expired_earlier: Vec<(usize, i64, i64)>,
    dir: &mut BundleDir,
) -> Result<()> {
    let mut earlier = Vec::new();
    for f in fetched {
        dir.adopt(f.entries)?;
        match f.earlier_of {
            None => categories[f.category_index].artifacts.push(f.record),
            Some(newest) => earlier.push((f.category_index, newest, f.record)),
        }
    }
    for (category_index, newest, record) in earlier {
        let artifacts = &mut categories[category_index].artifacts;
        let Some(a) = artifacts.iter_mut().find(|a| a.id == newest && a.run_id == record.run_id) else {
            return Err(Error::evidence(
                format!("artifact `{}` (id {})", record.name, record.id),
                "is an earlier attempt of an artifact that was not collected",
                "report this as a bug",
            ));
        };
        a.earlier_attempts.push(record);
        a.earlier_attempts.sort_by_key(|e| e.id);
    }
    for (category_index, newest, expired) in expired_earlier {
        let c = &mut categories[category_index];
        if let Some(a) = c.artifacts.iter_mut().find(|a| a.id == newest) {
            a.expired_earlier_attempts.push(expired);
            c.notes.push(format!(
                "artifact `{}` of an earlier attempt (id {expired}) has expired: its reports cannot be read, and it counts as one flaky item across workflow attempts",
                a.name
            ));
        }
    }
    Ok(())
}

/// Judges a category from its artifacts and warns of every artifact its job held back.
fn judge_into(c: &mut CategoryRecord, fail_on_flaky: bool) {
    let j = judge_category(&c.artifacts, fail_on_flaky);
    c.status = j.status;
    c.totals = j.totals;
    c.duration_seconds = j.duration_seconds;
    c.unparseable_files = j.unparseable_files;
    for a in &c.artifacts {
        if let Some(why) = a.held_back() {
            let text = format!("the reports of artifact `{}` do not count: {why}", a.name);
            c.notes.push(text.clone());
            c.warnings.push(Warning {
                kind: WarningKind::ReportHeldBack,
                title: Some(format!("{} reports", c.category.title())),
                text,
            });
        }
    }
}

/// Gives every artifact to its category and plans its download into the bundle.
fn plan<'c>(
    settings: &TestSettings,
    candidates: &'c [Candidate],
    sources: &[Source],
    dir: &mut BundleDir,
) -> Result<Plan<'c>> {
    let owners = assign_categories(settings, candidates)?;
    let mut taken = Taken::default();
    let mut plan = Plan { categories: Vec::new(), downloads: Vec::new(), expired_earlier: Vec::new() };
    for (category_index, (category, patterns)) in settings.categories.iter().enumerate() {
        let mut record = CategoryRecord {
            category: *category,
            required: settings.required.contains(category),
            patterns: patterns.iter().map(|p| p.text.clone()).collect(),
            status: super::CategoryStatus::Missing,
            totals: Default::default(),
            duration_seconds: 0.0,
            unparseable_files: 0,
            artifacts: Vec::new(),
            notes: Vec::new(),
            warnings: Vec::new(),
        };
        for pattern in patterns {
            let matched = match_pattern(settings, category_index, pattern, candidates, &owners, &mut record);
            for c in matched {
                if !taken.artifacts.insert((c.source, c.id)) {
                    continue;
                }
                let rel_dir = bundle_folder(c, *category, sources, &mut taken.dirs)?;
                for e in &c.earlier {
                    if e.expired {
                        plan.expired_earlier.push((category_index, c.id, e.id));
                        continue;
                    }
                    let attempt = candidate_tie(e, sources).attempt();
                    let rel_dir = earlier_folder(&rel_dir, e, attempt, &mut taken.dirs)?;
                    let dest = dir.directory(&rel_dir)?;
                    plan.downloads.push(Job { category_index, candidate: e, earlier_of: Some(c.id), rel_dir, dest });
                }
                let dest = dir.directory(&rel_dir)?;
                plan.downloads.push(Job { category_index, candidate: c, earlier_of: None, rel_dir, dest });
            }
        }
        plan.categories.push(record);
    }
    Ok(plan)
}

/// The artifacts one pattern of a category takes, with notes on those it shares with
/// other categories and a warning when it matches nothing at all.
fn match_pattern<'c>(
    settings: &TestSettings,
    category_index: usize,
    pattern: &super::Pattern,
    candidates: &'c [Candidate],
    owners: &[Option<Owner>],
    record: &mut CategoryRecord,
) -> Vec<&'c Candidate> {
    let patterns = &settings.categories[category_index].1;
    type Matches<'a> = Vec<(usize, &'a Candidate)>;
    let (matched, elsewhere): (Matches, Matches) = candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| pattern.matches(&c.name))
        .partition(|(i, _)| owners[*i].is_some_and(|o| o.category == category_index));
    for (i, c) in &elsewhere {
        if let Some(owner) = owners[*i] {
            let (other, other_patterns) = &settings.categories[owner.category];
            record.notes.push(format!(
                "`{}` also matched `{}`, which the more specific pattern `{}` of {} took",
                pattern.text,
                c.name,
                other_patterns[owner.pattern].text,
                other.title()
            ));
        }
    }
    let own_pattern = patterns.iter().position(|p| p.text == pattern.text).unwrap_or(usize::MAX);
    for (i, c) in &matched {
        let Some(owner) = owners[*i] else { continue };
        for (other_index, (other, other_patterns)) in settings.categories.iter().enumerate() {
            if other_index != category_index
                && other_patterns.iter().any(|p| p.matches(&c.name))
                && owner.pattern == own_pattern
            {
                record.notes.push(format!(
                    "took `{}` by `{}`, which a pattern of {} also matched",
                    c.name,
                    pattern.text,
                    other.title()
                ));
            }
        }
    }
    if matched.is_empty() && elsewhere.is_empty() {
        let available: Vec<&str> = candidates.iter().map(|c| c.name.as_str()).take(20).collect();
        let text = format!(
            "`{}` matched no artifact (available: {})",
            pattern.text,
            if available.is_empty() { "none".to_string() } else { available.join(", ") }
        );
        record.notes.push(text.clone());
        record.warnings.push(Warning {
            kind: WarningKind::NoArtifactMatched,
            title: Some(format!("{} reports", record.category.title())),
            text,
        });
    }
    matched.into_iter().map(|(_, c)| c).collect()
}

/// The bundle folder of an artifact, unique per category: names that clean to the same
/// text (`a b`, `a+b`) or come from several runs get `~<run id>`, then `~<artifact id>`.
/// An expired artifact stops the audit here, before anything is downloaded.
fn bundle_folder(c: &Candidate, category: Category, sources: &[Source], used: &mut HashSet<String>) -> Result<String> {
    if c.expired {
        return Err(Error::evidence(
            format!("artifact `{}` of run {}", c.name, sources[c.source].record.run_id.unwrap_or_default()),
            "has expired",
            "GitHub keeps artifacts at most 90 days (400 for private repositories); this evidence can no longer be collected",
        ));
    }
    let base = dir_name(&c.name);
    let mut name = base.clone();
    let run = sources[c.source].record.run_id.unwrap_or(c.id as u64);
    for candidate_name in [format!("{base}~{run}"), format!("{base}~{run}~{}", c.id)] {
        if !used.contains(&format!("{}/{name}", category.as_str())) {
            break;
        }
        name = candidate_name;
    }
    if !used.insert(format!("{}/{name}", category.as_str())) {
        return Err(Error::evidence(
            format!("artifact `{}`", c.name),
            "has the same bundle folder as another artifact",
            "report this as a bug",
        ));
    }
    Ok(format!("reports/{}/{name}", category.as_str()))
}

/// The bundle folder of an earlier attempt's artifact: its newest's folder with the
/// attempt (`~attempt-1`), or its id when no job said which attempt uploaded it.
fn earlier_folder(newest_dir: &str, c: &Candidate, attempt: Option<u32>, used: &mut HashSet<String>) -> Result<String> {
    let mut name = match attempt {
        Some(n) => format!("{newest_dir}~attempt-{n}"),
        None => format!("{newest_dir}~artifact-{}", c.id),
    };
    if used.contains(&name) {
        name = format!("{newest_dir}~attempt-{}~artifact-{}", attempt.unwrap_or_default(), c.id);
    }
    if !used.insert(name.clone()) {
        return Err(Error::evidence(
            format!("artifact `{}`", c.name),
            "has the same bundle folder as another artifact",
            "report this as a bug",
        ));
    }
    Ok(name)
}

/// The job that uploaded a candidate, as far as its run's jobs say.
fn candidate_tie(c: &Candidate, sources: &[Source]) -> JobTie {
    match &sources[c.source].jobs {
        JobsRead::Read(jobs) => tie_artifact(c.created_at.as_deref(), jobs, c.own_job),
        JobsRead::Pending | JobsRead::Unread(_) => JobTie::unread(),
    }
}

/// Reads every run's jobs (all attempts), to tie each artifact to the job that uploaded
/// it. Jobs that cannot be read (no token, no `actions: read`, a service that keeps
/// failing) leave the run's artifacts untied: said as a warning, not fatal.
async fn read_jobs(services: &Services<'_>, sources: &mut [Source]) -> Result<()> {
    for source in sources.iter_mut() {
        let Some(run_id) = source.record.run_id else {
            source.jobs = JobsRead::Unread("the run has no id".into());
            continue;
        };
        source.jobs = match services.rest {
            None => JobsRead::Unread("no `github-token`".into()),
            Some(rest) => match rest.jobs(run_id).await {
                Ok(jobs) => {
                    source.record.failed_jobs = super::failed_jobs(&jobs);
                    JobsRead::Read(jobs)
                }
                Err(e @ Error::Service { .. }) => JobsRead::Unread(format!("{e}; {}", e.hint())),
                Err(e) => return Err(e),
            },
        };
        if let JobsRead::Unread(why) = &source.jobs {
            let text = format!(
                "the jobs of run {run_id} could not be read ({why}): its report artifacts are not tied to the jobs that uploaded them, so a report of a failed or cancelled job is not recognised as such"
            );
            source.record.notes.push(text.clone());
            source.record.warnings.push(Warning { kind: WarningKind::JobsUnread, title: None, text });
        }
    }
    Ok(())
}

/// Downloads, extracts and parses every planned artifact, a few at a time, in a stable
/// order (category, name, run) whatever order they finish in.
async fn fetch_all(
    downloads: Vec<Job<'_>>,
    services: &Services<'_>,
    sources: &[Source],
    scratch: &Path,
) -> Result<Vec<Fetched>> {
    let mut fetched: Vec<Fetched> = futures_util::stream::iter(downloads.into_iter().map(|job| {
        let download_path = scratch.join(format!("{}-{}.download", job.candidate.source, job.candidate.id));
        async move { fetch_one(job, services, sources, download_path).await }
    }))
    .buffer_unordered(PARALLEL_DOWNLOADS)
    .try_collect()
    .await?;
    fetched.sort_by(|a, b| {
        (a.category_index, &a.record.name, a.record.run_id, a.record.id).cmp(&(
            b.category_index,
            &b.record.name,
            b.record.run_id,
            b.record.id,
        ))
    });
    Ok(fetched)
}

/// Records every run's own evidence. The run's record is evidence beside the reports,
/// not the reports: a token without `actions: read`, a rate limit or a service that
/// keeps failing costs that record (said as a warning), never the audit.
async fn record_runs(
    services: &Services<'_>,
    sources: &mut [Source],
    dir: &mut BundleDir,
    scratch: &Path,
) -> Result<()> {
    let Some(rest) = services.rest else {
        let text = "run evidence (run.json, jobs, logs) was not collected: no `github-token`";
        for source in sources.iter_mut() {
            source.record.notes.push(text.to_string());
            source.record.warnings.push(Warning {
                kind: WarningKind::RunEvidenceIncomplete,
                title: None,
                text: text.to_string(),
            });
        }
        return Ok(());
    };
    for source in sources.iter_mut() {
        match record_run(rest, source, dir, scratch).await {
            Ok(()) => {}
            Err(e @ Error::Service { .. }) => {
                let text = format!("run evidence (run.json, jobs, logs) is incomplete: {e}; {}", e.hint());
                source.record.notes.push(text.clone());
                source.record.warnings.push(Warning { kind: WarningKind::RunEvidenceIncomplete, title: None, text });
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Downloads one artifact (with a fresh signed URL for every attempt, so that a
/// truncated, corrupted or reset transfer is tried again through the one retry loop),
/// checks it against the digest the service recorded, and puts its files into the
/// bundle: a zip is extracted safely; an artifact uploaded unzipped (`archive: false`,
/// `skipArchive`) is kept as its single file. The official client's rule decides which
/// is which (the blob's `Content-Type`, or a URL path ending in `.zip`); the zip
/// signature is the cross-check.
async fn fetch_one(
    job: Job<'_>,
    services: &Services<'_>,
    sources: &[Source],
    download_path: PathBuf,
) -> Result<Fetched> {
    let c = job.candidate;
    let run_id = sources[c.source].record.run_id;
    let what = match run_id {
        Some(r) => format!("artifact `{}` (run {r})", c.name),
        None => format!("artifact `{}`", c.name),
    };
    let downloaded = download_artifact(c, services, &download_path, &what).await?;
    log::info!(
        "{what}: {} bytes, sha256 {}, Content-Type {}",
        downloaded.size,
        downloaded.sha256,
        downloaded.content_type.as_deref().unwrap_or("(none)")
    );

    let signature = zip_signature(&download_path)
        .map_err(|e| Error::io(&download_path, e, "the download directory must stay readable"))?;
    let served = describe_served(&downloaded);
    let (extracted, note) = match (downloaded.served_as_zip(), signature) {
        (true, true) => {
            let dest = job.dest.clone();
            let name = c.name.clone();
            let zip_for_extract = download_path.clone();
            let extracted =
                tokio::task::spawn_blocking(move || extract_zip(&zip_for_extract, &dest, &Limits::default(), &name))
                    .await
                    .map_err(|e| Error::evidence(&what, format!("extraction stopped: {e}"), "report this as a bug"))?
                    .map_err(|e| with_run(e, run_id))?;
            let _ = std::fs::remove_file(&download_path);
            (extracted, None)
        }
        (true, false) => {
            let _ = std::fs::remove_file(&download_path);
            return Err(Error::evidence(
                &what,
                format!("is served as a zip archive ({served}) but its bytes are not a zip archive"),
                "upload it again; a file uploaded unzipped (`archive: false`) must not be named *.zip nor carry a zip Content-Type",
            ));
        }
        (false, is_zip) => {
            let file = keep_single_file(&download_path, &job.dest, &c.name, &downloaded, &what)?;
            let note = if is_zip {
                format!(
                    "uploaded unzipped ({served}) although the file is a zip archive: kept as this one file, not extracted, as the official client does"
                )
            } else {
                format!("uploaded unzipped ({served}): this file is the whole artifact")
            };
            (vec![file], Some(note))
        }
    };

    let mut files = Vec::new();
    let mut entries = Vec::new();
    for file in extracted {
        let path = job.dest.join(&file.path);
        let outcome = tokio::task::spawn_blocking(move || read_artifact_file(&path))
            .await
            .map_err(|e| Error::evidence(&what, format!("parsing stopped: {e}"), "report this as a bug"))?;
        let rel = format!("{}/{}", job.rel_dir, file.path);
        entries.push(FileEntry { path: rel.clone(), sha256: file.sha256.clone(), size: file.size });
        let mut report = report_file(rel, &file, outcome);
        if let Some(note) = &note {
            report.notes.insert(0, note.clone());
        }
        files.push(report);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let tie = candidate_tie(c, sources);
    Ok(Fetched {
        category_index: job.category_index,
        earlier_of: job.earlier_of,
        record: ArtifactRecord {
            id: c.id,
            name: c.name.clone(),
            run_id,
            run_attempt: sources[c.source].record.run_attempt,
            size: c.size,
            digest: c.digest.clone(),
            sha256: downloaded.sha256,
            files,
            created_at: c.created_at.clone(),
            attempt: tie.attempt(),
            job: Some(tie),
            earlier_attempts: Vec::new(),
            expired_earlier_attempts: Vec::new(),
        },
        entries,
    })
}

/// Downloads an artifact's blob to `dest` through [`with_retries`]: every attempt asks
/// for a fresh signed URL (GetSignedArtifactURL, or the REST zip route's redirect), so
/// an expired URL never stops a retry. A transfer that broke off, ended short or was
/// refused with a retryable status, and a body whose sha256 differs from the digest the
/// service recorded, are tried again; when the attempts run out the last error stands,
/// naming the artifact. Errors while asking for the URL are final (that client has
/// retried them already).
async fn download_artifact(c: &Candidate, services: &Services<'_>, dest: &Path, what: &str) -> Result<Downloaded> {
    with_retries(services.retry, || async {
        let (http, url) = match &c.fetch {
            Fetch::Signed(entry) => {
                let service = services.artifacts.ok_or_else(|| {
                    Attempt::fatal(Error::evidence(what, "needs the artifacts runtime, but no client was given", "report this as a bug"))
                })?;
                (service.http(), service.signed_download_url(entry).await.map_err(Attempt::fatal)?)
            }
            Fetch::Rest => {
                let rest = rest_needed(services, what).map_err(Attempt::fatal)?;
                let url = rest
                    .redirect_location(&format!("actions/artifacts/{}/zip", c.id), what, false)
                    .await
                    .map_err(Attempt::fatal)?
                    .ok_or_else(|| Attempt::fatal(Error::evidence(what, "has no download", "check that the artifact still exists")))?;
                (rest.http(), url)
            }
        };
        let downloaded = download_once(http, &url, dest, MAX_ARTIFACT_BYTES, Excess::Refuse, what).await?;
        if let Some(digest) = &c.digest {
            let expected = digest.strip_prefix("sha256:").unwrap_or(digest);
            if !expected.eq_ignore_ascii_case(&downloaded.sha256) {
                let _ = std::fs::remove_file(dest);
                return Err(Attempt::retry(Error::evidence(
                    what,
                    format!(
                        "the downloaded {} has sha256 {}, the artifact service recorded {digest}",
                        if downloaded.served_as_zip() { "zip" } else { "file" },
                        downloaded.sha256
                    ),
                    "the download was corrupted or the artifact was replaced; run the audit again and investigate if it persists",
                )));
            }
        }
        Ok(downloaded)
    })
    .await
    .map_err(gave_up)
}

/// Whether a file starts with a zip signature (a local file header, or the end
/// record of an empty archive).
fn zip_signature(path: &Path) -> std::io::Result<bool> {
    use std::io::Read;
    let mut head = [0u8; 4];
    let mut file = std::fs::File::open(path)?;
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..])? {
            0 => break,
            n => read += n,
        }
    }
    Ok(read == 4 && (head == *b"PK\x03\x04" || head == *b"PK\x05\x06"))
}

/// How a blob was served, for notes and errors: its Content-Type (or its absence) and
/// whether its URL names a .zip.
fn describe_served(d: &Downloaded) -> String {
    let mut text = match &d.content_type {
        Some(t) => format!("Content-Type {}", t.escape_debug()),
        None => "no Content-Type".to_string(),
    };
    if d.url_path.to_ascii_lowercase().ends_with(".zip") {
        text.push_str(", URL ending in .zip");
    }
    text
}

/// Moves a downloaded single-file artifact into its bundle directory, named by the
/// artifact (which is the file's name when it was uploaded unzipped).
fn keep_single_file(
    download: &Path,
    dest_dir: &Path,
    name: &str,
    downloaded: &Downloaded,
    what: &str,
) -> Result<ExtractedFile> {
    let limit = Limits::default().max_entry_bytes;
    if downloaded.size > limit {
        let _ = std::fs::remove_file(download);
        return Err(Error::evidence(
            what,
            format!("is a single file of {} bytes, more than the limit of {limit} per file", downloaded.size),
            "upload smaller report files",
        ));
    }
    let file_name = dir_name(name);
    let target = dest_dir.join(&file_name);
    if std::fs::rename(download, &target).is_err() {
        std::fs::copy(download, &target)
            .map_err(|e| Error::io(&target, e, "free disk space or fix permissions of `bundle-dir`"))?;
        let _ = std::fs::remove_file(download);
    }
    Ok(ExtractedFile { path: file_name, size: downloaded.size, sha256: downloaded.sha256.clone() })
}

/// Adds the run to an error that names only the artifact.
fn with_run(e: Error, run_id: Option<u64>) -> Error {
    match (e, run_id) {
        (Error::Evidence { what, reason, hint }, Some(r)) => {
            Error::Evidence { what: format!("{what} (run {r})"), reason, hint }
        }
        (e, _) => e,
    }
}

fn report_file(path: String, file: &ExtractedFile, outcome: FileOutcome) -> ReportFile {
    ReportFile::from_outcome(path, file.size, file.sha256.clone(), outcome)
}

/// The log of every completed job of the current run, through the jobs API (each
/// log is available as soon as its job has completed), bounded per job.
async fn record_job_logs(
    rest: &Rest,
    run_id: u64,
    jobs: &[serde_json::Value],
    dir: &mut BundleDir,
    scratch: &Path,
    base: &str,
) -> Result<Vec<JobLog>> {
    let mut logs = Vec::new();
    for job in jobs {
        let Some(job_id) = job.get("id").and_then(|v| v.as_u64()) else { continue };
        let text = |key: &str| job.get(key).and_then(|v| v.as_str()).map(str::to_string);
        let status = text("status").unwrap_or_else(|| "unknown".into());
        let note = (status != "completed").then(|| "not completed when the audit ran".to_string());
        logs.push(JobLog {
            job_id,
            name: text("name").unwrap_or_default(),
            status,
            conclusion: text("conclusion"),
            path: None,
            size: None,
            truncated: false,
            note,
        });
    }
    // Downloads run a few at a time into scratch files; the bundle takes them in job order.
    let downloads: Vec<(usize, Option<Downloaded>)> =
        futures_util::stream::iter(logs.iter().enumerate().filter(|(_, l)| l.note.is_none()).map(|(i, l)| {
            let job_id = l.job_id;
            async move {
                let what = format!("log of job {job_id} of run {run_id}");
                let file = scratch.join(format!("job-{job_id}.log"));
                rest.download_redirected_with(
                    &format!("actions/jobs/{job_id}/logs"),
                    &file,
                    MAX_JOB_LOG_BYTES,
                    Excess::KeepPrefix,
                    &what,
                    true,
                )
                .await
                .map(|d| (i, d))
            }
        }))
        .buffer_unordered(PARALLEL_DOWNLOADS)
        .try_collect()
        .await?;
    let mut downloads = downloads;
    downloads.sort_by_key(|(i, _)| *i);
    for (i, downloaded) in downloads {
        let log = &mut logs[i];
        match downloaded {
            Some(downloaded) => {
                let scratch_file = scratch.join(format!("job-{}.log", log.job_id));
                let entry = dir.add_file(&format!("{base}/jobs/{}.log", log.job_id), &scratch_file)?;
                let _ = std::fs::remove_file(&scratch_file);
                log.path = Some(entry.path);
                log.size = Some(entry.size);
                log.truncated = downloaded.truncated;
            }
            None => log.note = Some("the log is gone (deleted or expired)".into()),
        }
    }
    Ok(logs)
}

/// Puts a run's own evidence into the bundle: run.json, every job, and the logs.
async fn record_run(rest: &Rest, source: &mut Source, dir: &mut BundleDir, scratch: &Path) -> Result<()> {
    let Some(run_id) = source.record.run_id else { return Ok(()) };
    let base = format!("run/{run_id}");
    let raw = match source.raw_run.take() {
        Some(raw) => raw,
        None => rest.run(run_id).await?.0,
    };
    let entry = dir.add_json(&format!("{base}/run.json"), &raw)?;
    source.record.evidence_files.push(entry.path);
    let jobs = match &source.jobs {
        JobsRead::Read(jobs) => jobs.clone(),
        JobsRead::Pending | JobsRead::Unread(_) => rest.jobs(run_id).await?,
    };
    // The failed jobs are the ones of this very list, which verify reads again.
    source.record.failed_jobs = super::failed_jobs(&jobs);
    let entry = dir.add_json(&format!("{base}/jobs.json"), &jobs)?;
    source.record.evidence_files.push(entry.path);
    if source.current {
        source.record.job_logs = record_job_logs(rest, run_id, &jobs, dir, scratch, &base).await?;
        let waiting = source.record.job_logs.iter().filter(|j| j.status != "completed").count();
        let gone = source.record.job_logs.iter().filter(|j| j.status == "completed" && j.path.is_none()).count();
        if waiting > 0 {
            source.record.notes.push(format!("{waiting} job(s) of the current run had not completed when the audit ran (the audit job itself among them); they are listed without a log"));
        }
        if gone > 0 {
            source
                .record
                .notes
                .push(format!("{gone} completed job(s) of the current run had no log to fetch (deleted or expired)"));
        }
        return Ok(());
    }
    let scratch_file = scratch.join(format!("logs-{run_id}.zip"));
    match rest
        .download_redirected(
            &format!("actions/runs/{run_id}/logs"),
            &scratch_file,
            MAX_LOGS_BYTES,
            &format!("logs of run {run_id}"),
            true,
        )
        .await?
    {
        Some(_) => {
            let entry = dir.add_file(&format!("{base}/logs.zip"), &scratch_file)?;
            let _ = std::fs::remove_file(&scratch_file);
            source.record.evidence_files.push(entry.path);
        }
        None => source.record.notes.push("the run's logs are gone (deleted or expired)".into()),
    }
    Ok(())
}
