//! `release-audit reports <files, dirs or zips>…`: parse test reports locally and show
//! what the audit would record for them.
//!
//! Directories are walked (symlinked directories are not followed, so a link loop
//! cannot hang it); zips (recognised by content) are extracted with the same limits as
//! artifacts into a temporary directory. Every file is read with
//! [`read_artifact_file`], the audit's own rule for a file of a report artifact (XML or
//! JSON that is not a report, or text holding a report marker, is unparseable, as the
//! gate judges it); files that are not reports are listed once at the end.
//!
//! `--json` prints one [`ReportsSummary`]: `passed`, `totals`, the counts of `reports`,
//! `unparseable` and `not_reports`, and `files[]` with each file's `path` and its
//! [`FileOutcome`] fields flattened in (`outcome`: `parsed` | `unparseable` |
//! `not_a_report`, then `format`, `totals`, `duration_seconds`, `failures`, `flaky`,
//! `suite_problems`, `notes` or `reason`). `totals` carries `flaky` and
//! `suite_problems` when they are not zero.
//!
//! Everything printed carries outside text (file and test names, messages), so it goes
//! through the one printing path of [`crate::github::commands`]: table lines through
//! `inert`, the JSON through `inert_json` (same values for a JSON reader). A workflow
//! step that runs `reports` therefore never hands the runner a command from a report.
//!
//! Exit codes: 0 when at least one report was found, everything that looks like a
//! report parsed, and nothing failed (tests that passed on a rerun are flaky, not
//! failed: they are listed and do not fail); 1 when any test failed or errored, a
//! package or suite had a problem (a build failure, a failed `BeforeSuite`), any file is
//! unparseable, an archive was refused, or no report was found at all (an empty
//! result is not a pass, as in the release gate); 2 on usage errors.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{EXIT_VERDICT_FAILED, Error};
use crate::evidence::test_reports::extract::{Limits, extract_zip};
use crate::evidence::test_reports::files::read_artifact_file;
use crate::evidence::test_reports::parse::{FailureKind, FileOutcome, Totals};
use crate::github::commands::{eprint_line, inert, inert_json};

/// Failed tests listed in the table output; the rest are counted.
const LISTED_FAILURES: usize = 20;
/// Flaky tests and suite problems listed in the table output; the rest are counted.
const LISTED_FLAKY: usize = 20;
const LISTED_SUITE_PROBLEMS: usize = 20;
/// Files that are not reports, named at the end of the table output.
const LISTED_OTHERS: usize = 10;

#[derive(Debug, Clone, clap::Args)]
pub struct ReportsArgs {
    /// Report files, directories to search, or zip archives (e.g. downloaded artifacts).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Print the parsed totals and outcomes as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One file and what it turned out to be.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// As given, or `archive.zip!path/inside` for a file from an archive.
    pub path: String,
    #[serde(flatten)]
    pub outcome: FileOutcome,
}

/// Everything `reports` found, in the order the paths were given (directories sorted).
#[derive(Debug, Clone, Serialize)]
pub struct ReportsSummary {
    pub passed: bool,
    pub totals: Totals,
    pub reports: u64,
    pub unparseable: u64,
    pub not_reports: u64,
    pub files: Vec<FileReport>,
}

/// Runs the subcommand, printing to stdout/stderr; returns the exit code.
pub fn run(args: &ReportsArgs) -> i32 {
    let summary = match collect(&args.paths) {
        Ok(summary) => summary,
        Err(error) => {
            eprint_line(&format!("error: {error}"));
            eprint_line(&format!("hint: {}", error.hint()));
            return error.exit_code();
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = if args.json {
        let json = serde_json::to_string_pretty(&summary).expect("the summary serialises");
        writeln!(out, "{}", inert_json(&json))
    } else {
        let mut table = Vec::new();
        write_table(&mut table, &summary).and_then(|()| {
            String::from_utf8_lossy(&table).lines().try_for_each(|line| writeln!(out, "{}", inert(line)))
        })
    };
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprint_line(&format!("error: writing the output: {e}"));
    }
    if summary.passed { 0 } else { EXIT_VERDICT_FAILED }
}

/// Parses every report under `paths`. A path that does not exist is a usage error;
/// a refused archive becomes an unparseable entry, so the other files are still shown.
pub fn collect(paths: &[PathBuf]) -> Result<ReportsSummary, Error> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| {
            Error::input(
                path.display().to_string(),
                format!("cannot be read: {e}"),
                "pass report files, directories or zip archives that exist",
            )
        })?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            for file in found {
                add_file(&file, &display(&file), &mut files);
            }
        } else {
            add_file(path, &display(path), &mut files);
        }
    }
    Ok(summarise(files))
}

fn summarise(files: Vec<FileReport>) -> ReportsSummary {
    let mut totals = Totals::default();
    let (mut reports, mut unparseable, mut not_reports) = (0, 0, 0);
    for file in &files {
        match &file.outcome {
            FileOutcome::Parsed(report) => {
                reports += 1;
                totals.add(&report.totals);
            }
            FileOutcome::Unparseable { .. } => unparseable += 1,
            FileOutcome::NotAReport => not_reports += 1,
        }
    }
    let passed = reports > 0 && unparseable == 0 && !totals.has_failures();
    ReportsSummary { passed, totals, reports, unparseable, not_reports, files }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Regular files below `dir`; symlinked directories are not entered.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let hint = "the directory must be readable";
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e, hint))? {
        let entry = entry.map_err(|e| Error::io(dir, e, hint))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| Error::io(&path, e, hint))?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            out.push(path);
        }
    }
    Ok(())
}

fn is_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic)).is_ok()
        && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06")
}

fn add_file(path: &Path, shown: &str, files: &mut Vec<FileReport>) {
    // Opening a FIFO to look for a zip header would block: only regular files are opened.
    if !path.is_file() || !is_zip(path) {
        files.push(FileReport { path: shown.to_string(), outcome: read_artifact_file(path) });
        return;
    }
    let refused =
        |reason: String| FileReport { path: shown.to_string(), outcome: FileOutcome::unparseable(None, reason) };
    let temp = match tempfile::tempdir() {
        Ok(t) => t,
        Err(e) => return files.push(refused(format!("cannot create a temporary directory to extract into: {e}"))),
    };
    let dest = temp.path().join("x");
    match extract_zip(path, &dest, &Limits::default(), shown) {
        Ok(extracted) => {
            for file in extracted {
                let inner = format!("{shown}!{}", file.path);
                // Archives inside archives are not opened: artifacts hold plain files.
                files.push(FileReport { path: inner, outcome: read_artifact_file(&dest.join(&file.path)) });
            }
        }
        Err(error) => files.push(refused(format!("archive refused: {error} ({})", error.hint()))),
    }
}

/// The text form: a row per report, the totals, then what failed, what was flaky, what
/// was not a report, and the result.
fn write_table(out: &mut impl Write, summary: &ReportsSummary) -> std::io::Result<()> {
    write_rows(out, summary)?;
    write_failures(out, summary)?;
    write_problems_and_flaky(out, summary)?;
    write_others_and_result(out, summary)
}

/// The header, a row per report file (with its notes), and the totals.
fn write_rows(out: &mut impl Write, summary: &ReportsSummary) -> std::io::Result<()> {
    let shown: Vec<&FileReport> =
        summary.files.iter().filter(|f| !matches!(f.outcome, FileOutcome::NotAReport)).collect();
    let width = shown.iter().map(|f| f.path.chars().count().min(60)).max().unwrap_or(4).max(5);
    let header = ["FORMAT", "TESTS", "PASSED", "FAILED", "ERRORED", "SKIPPED", "DURATION"];
    writeln!(
        out,
        "{:<width$}  {:<12} {:>7} {:>7} {:>7} {:>7} {:>7} {:>9}",
        "FILE", header[0], header[1], header[2], header[3], header[4], header[5], header[6]
    )?;
    for file in &shown {
        let path = shorten(&file.path, 60);
        match &file.outcome {
            FileOutcome::Parsed(r) => {
                let t = r.totals;
                writeln!(
                    out,
                    "{path:<width$}  {:<12} {:>7} {:>7} {:>7} {:>7} {:>7} {:>9}",
                    r.format.as_str(),
                    t.tests,
                    t.passed,
                    t.failed,
                    t.errored,
                    t.skipped,
                    r.duration_seconds.map(format_duration).unwrap_or_else(|| "-".into())
                )?;
                for note in &r.notes {
                    writeln!(out, "{:width$}  note: {note}", "")?;
                }
            }
            FileOutcome::Unparseable { format, reason } => {
                let format = format.map(|f| f.as_str()).unwrap_or("?");
                writeln!(out, "{path:<width$}  {format:<12} UNPARSEABLE: {reason}")?;
            }
            FileOutcome::NotAReport => {}
        }
    }
    let t = summary.totals;
    writeln!(
        out,
        "{:<width$}  {:<12} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "TOTAL",
        format!("{} reports", summary.reports),
        t.tests,
        t.passed,
        t.failed,
        t.errored,
        t.skipped
    )
}

/// The first failed tests with their messages' first lines.
fn write_failures(out: &mut impl Write, summary: &ReportsSummary) -> std::io::Result<()> {
    let t = summary.totals;
    let failures: Vec<_> = summary
        .files
        .iter()
        .filter_map(|f| match &f.outcome {
            FileOutcome::Parsed(r) => Some(r.failures.iter()),
            _ => None,
        })
        .flatten()
        .collect();
    let failing = t.failed + t.errored;
    if failing > 0 {
        writeln!(out, "\nFailed tests ({failing}):")?;
        for failure in failures.iter().take(LISTED_FAILURES) {
            let kind = match failure.kind {
                FailureKind::Failure => "FAIL",
                FailureKind::Error => "ERROR",
            };
            writeln!(out, "  {kind:<5} {}", failure.display_name())?;
            for line in failure.message.lines().take(5) {
                writeln!(out, "          {line}")?;
            }
        }
        let listed = failures.len().min(LISTED_FAILURES) as u64;
        if failing > listed {
            writeln!(out, "  … and {} more", failing - listed)?;
        }
    }
    Ok(())
}

/// Suite problems and flaky tests, each named.
fn write_problems_and_flaky(out: &mut impl Write, summary: &ReportsSummary) -> std::io::Result<()> {
    let t = summary.totals;
    let parsed = || {
        summary.files.iter().filter_map(|f| match &f.outcome {
            FileOutcome::Parsed(r) => Some(r),
            _ => None,
        })
    };
    if t.suite_problems > 0 {
        writeln!(out, "\nSuite problems ({}), not tests but failures of a package or suite:", t.suite_problems)?;
        let problems: Vec<_> = parsed().flat_map(|r| r.suite_problems.iter()).collect();
        for problem in problems.iter().take(LISTED_SUITE_PROBLEMS) {
            let suite = if problem.suite.is_empty() { "(report)" } else { problem.suite.as_str() };
            writeln!(out, "  PROBLEM {suite}")?;
            for line in problem.message.lines().take(5) {
                writeln!(out, "          {line}")?;
            }
        }
        let listed = problems.len().min(LISTED_SUITE_PROBLEMS) as u64;
        if t.suite_problems > listed {
            writeln!(out, "  … and {} more", t.suite_problems - listed)?;
        }
    }
    if t.flaky > 0 {
        writeln!(out, "\nFlaky tests ({}), passed after a failed attempt and counted as passed:", t.flaky)?;
        let flaky: Vec<_> = parsed().flat_map(|r| r.flaky.iter()).collect();
        for test in flaky.iter().take(LISTED_FLAKY) {
            writeln!(out, "  FLAKY {} ({} attempts)", test.display_name(), test.attempts)?;
        }
        let listed = flaky.len().min(LISTED_FLAKY) as u64;
        if t.flaky > listed {
            writeln!(out, "  … and {} more", t.flaky - listed)?;
        }
    }
    Ok(())
}

/// The files that are not reports, and the one-line result.
fn write_others_and_result(out: &mut impl Write, summary: &ReportsSummary) -> std::io::Result<()> {
    let t = summary.totals;
    let others: Vec<_> = summary.files.iter().filter(|f| matches!(f.outcome, FileOutcome::NotAReport)).collect();
    if !others.is_empty() {
        let names: Vec<_> = others.iter().take(LISTED_OTHERS).map(|f| f.path.as_str()).collect();
        let more = others.len().saturating_sub(LISTED_OTHERS);
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        writeln!(out, "\nNot test reports ({}): {}{more}", others.len(), names.join(", "))?;
    }
    let verdict = if summary.passed && t.flaky > 0 {
        format!("passed ({} flaky)", t.flaky)
    } else if summary.passed {
        "passed".to_string()
    } else if summary.reports == 0 && summary.unparseable == 0 {
        "FAILED: no test report found".to_string()
    } else if t.suite_problems > 0 {
        format!(
            "FAILED: {} failed, {} errored, {} suite problem(s), {} unparseable",
            t.failed, t.errored, t.suite_problems, summary.unparseable
        )
    } else {
        format!("FAILED: {} failed, {} errored, {} unparseable", t.failed, t.errored, summary.unparseable)
    };
    writeln!(out, "\nresult: {verdict}")
}

fn shorten(path: &str, max: usize) -> String {
    let count = path.chars().count();
    if count <= max {
        return path.to_string();
    }
    let tail: String = path.chars().skip(count - (max - 1)).collect();
    format!("…{tail}")
}

fn format_duration(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds:.2}s")
    } else {
        let whole = seconds.round() as u64;
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_paths_are_shown_compactly() {
        assert_eq!(format_duration(1.234), "1.23s");
        assert_eq!(format_duration(125.4), "2m05s");
        assert_eq!(shorten("abcdef", 4), "…def");
        assert_eq!(shorten("abc", 4), "abc");
    }
}
