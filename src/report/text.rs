//! CLI text: what `release-audit verify` prints, as lines. Bounded: at most
//! [`MAX_LISTED_PROBLEMS`] problems and notes are listed, then how many more there are
//! (a hostile bundle may hold a million of them). The caller prints each line through
//! `github::commands::print_line`, the one inert path for outside text.

use crate::verify::Verification;

/// Problems (and, separately, notes) listed at most; the rest are counted.
pub const MAX_LISTED_PROBLEMS: usize = 50;

/// The lines `verify` prints for a verification.
pub fn verification(v: &Verification) -> Vec<String> {
    let what = match (&v.release, &v.verdict) {
        (Some(r), Some(d)) => format!("release {r}, verdict {d}"),
        _ => "not a readable manifest".to_string(),
    };
    let mut lines: Vec<String> = v.unmoved.iter().map(|u| format!("unmoved: {u}")).collect();
    bounded(&mut lines, &v.notes, |n| format!("note: {n}"), "note");
    if v.ok() {
        // Where the expected digest came from, now read again from the kept logs.
        let build = v.manifest.as_ref().and_then(|m| m.evidence.images.as_ref()).and_then(|i| i.build.as_ref());
        if let Some(b) = build {
            for log in &b.logs {
                lines.push(format!(
                    "build digest: {} re-read from {} (run {}, job {}, sha256 {}) of {} on tag {}",
                    b.digest, log.path, log.run_id, log.job_id, log.sha256, b.workflow, b.tag
                ));
            }
        }
        lines.push(format!("OK: {} — {} files verified ({what})", v.bundle, v.files_checked));
    } else {
        lines.push(format!(
            "FAILED: {} — {} problem(s) in {} files ({what})",
            v.bundle,
            v.problems.len(),
            v.files_checked
        ));
        bounded(&mut lines, &v.problems, |p| format!("  {p}"), "problem");
    }
    lines
}

fn bounded<T>(lines: &mut Vec<String>, items: &[T], line: impl Fn(&T) -> String, what: &str) {
    lines.extend(items.iter().take(MAX_LISTED_PROBLEMS).map(line));
    if items.len() > MAX_LISTED_PROBLEMS {
        lines.push(format!("  … and {} more {what}(s)", items.len() - MAX_LISTED_PROBLEMS));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Problem;

    fn verification(problems: usize) -> Verification {
        Verification {
            bundle: "b".into(),
            files_checked: 3,
            problem_count: problems,
            release: Some("1.0.0".into()),
            verdict: Some("passed".into()),
            problems: (0..problems).map(|i| Problem::Added { path: format!("f{i}") }).collect(),
            notes: Vec::new(),
            unmoved: Vec::new(),
            manifest: None,
        }
    }

    #[test]
    fn problems_are_listed_up_to_the_bound_then_counted() {
        let lines = super::verification(&verification(MAX_LISTED_PROBLEMS + 7));
        assert_eq!(
            lines[0],
            format!("FAILED: b — {} problem(s) in 3 files (release 1.0.0, verdict passed)", MAX_LISTED_PROBLEMS + 7)
        );
        assert_eq!(lines.len(), 1 + MAX_LISTED_PROBLEMS + 1);
        assert_eq!(lines.last().unwrap(), "  … and 7 more problem(s)");
        let lines = super::verification(&verification(MAX_LISTED_PROBLEMS));
        assert_eq!(lines.len(), 1 + MAX_LISTED_PROBLEMS, "no count line when all are listed");
        assert_eq!(super::verification(&verification(0)), ["OK: b — 3 files verified (release 1.0.0, verdict passed)"]);
    }
}
