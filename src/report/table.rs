//! The text table of `release-audit reports`: a row per report file, the totals, what
//! failed, what was flaky, what was not a report, and the one-line result. Pure: the
//! CLI prints these lines through `github::commands::inert`.

use std::io::Write;

use crate::evidence::test_reports::parse::{FailureKind, FileOutcome};
use crate::evidence::test_reports::summary::{FileReport, ReportsSummary};

/// Failed tests listed in the table output; the rest are counted.
const LISTED_FAILURES: usize = 20;
/// Flaky tests and suite problems listed in the table output; the rest are counted.
const LISTED_FLAKY: usize = 20;
const LISTED_SUITE_PROBLEMS: usize = 20;
/// Files that are not reports, named at the end of the table output.
const LISTED_OTHERS: usize = 10;

/// The text form: a row per report, the totals, then what failed, what was flaky, what
/// was not a report, and the result.
pub fn reports_table(out: &mut impl Write, summary: &ReportsSummary) -> std::io::Result<()> {
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
