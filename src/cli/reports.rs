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

use crate::error::{EXIT_VERDICT_FAILED, Error};
use crate::evidence::test_reports::extract::{Limits, extract_zip};
use crate::evidence::test_reports::files::read_artifact_file;
use crate::evidence::test_reports::parse::FileOutcome;
pub use crate::evidence::test_reports::summary::{FileReport, ReportsSummary};
use crate::github::commands::{eprint_line, inert, inert_json};
use crate::report::table::reports_table;

#[derive(Debug, Clone, clap::Args)]
pub struct ReportsArgs {
    /// Report files, directories to search, or zip archives (e.g. downloaded artifacts).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Print the parsed totals and outcomes as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
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
        reports_table(&mut table, &summary).and_then(|()| {
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
    Ok(ReportsSummary::from_files(files))
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
