//! Test evidence: every report file re-parsed and recounted under this binary's
//! counting convention, each category's status and totals recomputed from its files.
//! A bundle counted under another convention cannot be recounted here: that is a
//! problem naming the release-audit that can, never a silent pass.

use super::{Found, Problem};
use crate::bundle::manifest::Manifest;
use crate::bundle::safe_relative_path;
use crate::evidence::test_reports::files::read_artifact_file;
use crate::evidence::test_reports::{COUNTING_CONVENTION, CategoryRecord, ReportFile, judge};

pub fn check(found: &Found, m: &Manifest, problems: &mut Vec<Problem>) {
    let Some(tests) = &m.evidence.tests else { return };
    let recount = tests.counting == COUNTING_CONVENTION;
    if !recount {
        problems.push(Problem::Convention {
            recorded: tests.counting,
            supported: COUNTING_CONVENTION,
            tool: format!("{} {}", m.tool.name, m.tool.version),
        });
    }
    for c in &tests.categories {
        for file in c.artifacts.iter().flat_map(|a| a.all_attempts()).flat_map(|a| &a.files) {
            // Only a regular file the walk found below the root is opened; anything
            // else (absolute, `..`, a link, a FIFO, missing) is named elsewhere.
            if safe_relative_path(&file.path).as_deref() != Some(file.path.as_str()) {
                problems.push(Problem::UnsafePath {
                    source: format!("manifest.json ({} tests)", c.category.as_str()),
                    path: file.path.clone(),
                });
                continue;
            }
            if recount && found.contains(&file.path) {
                recount_file(found, c, file, problems);
            }
        }
        check_artifacts(m, c, problems);
        check_category(c, tests.fail_on_flaky, problems);
    }
    check_every_report_file_recorded_once(m, problems);
    check_failed_jobs(found, m, problems);
}

/// Each source run's jobs that did not succeed, read again from `run/<id>/jobs.json`
/// where the bundle holds it (`include-run-logs`, the default): a failed job removed from
/// the manifest (so the verdict no longer names it) is a problem. Without the file the
/// list stands as recorded, and still feeds the verdict.
fn check_failed_jobs(found: &Found, m: &Manifest, problems: &mut Vec<Problem>) {
    let Some(tests) = &m.evidence.tests else { return };
    for source in &tests.sources {
        let Some(run_id) = source.run_id else { continue };
        let rel = format!("run/{run_id}/jobs.json");
        let Some(bytes) = found.read(&rel, super::limits::MAX_CHANGE_FILE_BYTES, problems) else { continue };
        let Ok(jobs) = serde_json::from_slice::<Vec<serde_json::Value>>(&bytes) else {
            problems.push(Problem::Manifest { detail: format!("{rel} is not the jobs list release-audit writes") });
            continue;
        };
        let derived = crate::evidence::test_reports::failed_jobs(&jobs);
        if derived != source.failed_jobs {
            let names = |list: &[crate::evidence::test_reports::FailedJob]| {
                list.iter().map(|j| format!("{} ({})", j.name, j.conclusion)).collect::<Vec<_>>().join(", ")
            };
            problems.push(Problem::Manifest {
                detail: format!(
                    "run {run_id}: the manifest records the failed jobs [{}], {rel} gives [{}]",
                    names(&source.failed_jobs),
                    names(&derived)
                ),
            });
        }
    }
}

/// Every file of the bundle's `reports/` folder is the record of exactly one artifact
/// file: a record removed (a report no longer judged) or repeated (counted twice) is a
/// problem, even where the category's totals would not change.
fn check_every_report_file_recorded_once(m: &Manifest, problems: &mut Vec<Problem>) {
    let Some(tests) = &m.evidence.tests else { return };
    let mut recorded: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for file in tests.categories.iter().flat_map(|c| &c.artifacts).flat_map(|a| a.all_attempts()).flat_map(|a| &a.files)
    {
        *recorded.entry(file.path.as_str()).or_default() += 1;
    }
    for (path, times) in recorded.iter().filter(|(_, n)| **n > 1) {
        problems.push(Problem::Manifest { detail: format!("{path} is recorded {times} times among the report files") });
    }
    for f in m.files.iter().filter(|f| f.path.starts_with("reports/")) {
        if !recorded.contains_key(f.path.as_str()) {
            problems.push(Problem::Manifest {
                detail: format!("{} is in the reports folder, but no artifact of any category records it", f.path),
            });
        }
    }
}

/// Each artifact of a category: a name one of the category's patterns matches, a run
/// the reports were taken from, the service's digest of the zip its recorded sha256,
/// its files in the bundle, in the category's folder, and the attempt its job gives.
/// Each earlier attempt's artifact ([`crate::evidence::test_reports::attempts`]) has its
/// newest's name and run, a lower id (oldest first), and the same checks; an expired
/// earlier attempt a lower id.
fn check_artifacts(m: &Manifest, c: &CategoryRecord, problems: &mut Vec<Problem>) {
    let Some(tests) = &m.evidence.tests else { return };
    let category = c.category.as_str();
    let mut say = |detail: String| problems.push(Problem::Manifest { detail: format!("{category} tests: {detail}") });
    let listed: std::collections::BTreeSet<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
    for newest in &c.artifacts {
        let mut previous_id = i64::MIN;
        for e in &newest.earlier_attempts {
            if e.name != newest.name || e.run_id != newest.run_id || e.id <= previous_id || e.id >= newest.id {
                say(format!(
                    "artifact `{}` (id {}) is not an earlier attempt of `{}` (id {}): an earlier attempt has the same name and run and a lower id, oldest first",
                    e.name, e.id, newest.name, newest.id
                ));
            }
            if !e.earlier_attempts.is_empty() {
                say(format!(
                    "artifact `{}` (id {}): an earlier attempt has no earlier attempts of its own",
                    e.name, e.id
                ));
            }
            previous_id = e.id;
        }
        if newest.expired_earlier_attempts.iter().any(|id| *id >= newest.id) {
            say(format!("artifact `{}` (id {}): an expired earlier attempt has a lower id", newest.name, newest.id));
        }
    }
    for a in c.artifacts.iter().flat_map(|a| a.all_attempts()) {
        if a.attempt != a.job.as_ref().and_then(|j| j.attempt()) {
            say(format!("artifact `{}` (id {}): its attempt is not the one its job gives", a.name, a.id));
        }
        let matched = c
            .patterns
            .iter()
            .any(|p| p == &a.name || globset::Glob::new(p).is_ok_and(|g| g.compile_matcher().is_match(&a.name)));
        if !matched {
            say(format!("artifact `{}` matches none of the category's patterns", a.name));
        }
        let known_run =
            a.run_id.is_none_or(|id| tests.sources.iter().any(|s| s.run_id == Some(id)) || m.run.id == Some(id));
        if !known_run {
            say(format!("artifact `{}` is from a run the reports were not taken from", a.name));
        }
        if a.digest.as_ref().is_some_and(|d| d != &format!("sha256:{}", a.sha256)) {
            say(format!("artifact `{}`: its digest is not its recorded sha256", a.name));
        }
        let folder = format!("reports/{category}/");
        for f in &a.files {
            if !f.path.starts_with(&folder) || !listed.contains(f.path.as_str()) {
                say(format!("{} is not a file of the bundle's {folder} folder", f.path));
            }
        }
    }
}

/// One report file parsed again: everything recorded about it (status, format,
/// totals, duration, failed and flaky tests, suite problems, notes, the reason it could
/// not be parsed, its size and hash) must be what the file itself gives.
fn recount_file(found: &Found, c: &CategoryRecord, file: &ReportFile, problems: &mut Vec<Problem>) {
    let Some(on_disk) = found.get(&file.path) else { return };
    let derived = ReportFile::from_outcome(
        file.path.clone(),
        on_disk.size,
        on_disk.sha256.clone(),
        read_artifact_file(&found.path(&file.path)),
    );
    if derived.status != file.status || derived.totals != file.totals {
        problems.push(Problem::Manifest {
            detail: format!(
                "{}: recorded {:?} {:?}, the file itself gives {:?} {:?}",
                file.path, file.status, file.totals, derived.status, derived.totals
            ),
        });
    } else if &derived != file {
        problems.push(Problem::Manifest {
            detail: format!(
                "{} ({} tests): the recorded failures, flaky tests, suite problems, notes or format are not what the file itself gives",
                file.path,
                c.category.as_str()
            ),
        });
    }
}

/// A category's status, totals and unparseable count follow from its files.
fn check_category(c: &CategoryRecord, fail_on_flaky: bool, problems: &mut Vec<Problem>) {
    let (status, totals, duration, unparseable) = judge(&c.artifacts, fail_on_flaky);
    if status != c.status
        || totals != c.totals
        || unparseable != c.unparseable_files
        || duration.to_bits() != c.duration_seconds.to_bits()
    {
        problems.push(Problem::Manifest {
            detail: format!(
                "{} tests: recorded {:?} with {:?}, the recorded files give {:?} with {:?}",
                c.category.as_str(),
                c.status,
                c.totals,
                status,
                totals
            ),
        });
    }
}
