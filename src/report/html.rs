//! `report.html`: one self-contained page an auditor opens offline — no scripts,
//! no external styles, fonts or images. It shows the verdict first, then each test
//! category with its failing tests, each image pair with its digests and the
//! explanation, the run facts, and every file with its sha256.

use std::fmt::Write;

use crate::bundle::manifest::{FileEntry, Manifest, VerdictResult};
use crate::evidence::test_reports::{CategoryRecord, CategoryStatus, TestEvidence};

const STYLE: &str = "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1f2328}\
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}\
.verdict{padding:1rem 1.2rem;border-radius:8px;margin:1rem 0}.passed{background:#dafbe1;border:1px solid #1a7f37}.failed{background:#ffebe9;border:1px solid #cf222e}\
table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f6f8fa}\
td.n{text-align:right;font-variant-numeric:tabular-nums}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em;word-break:break-all}\
.ok{color:#1a7f37}.bad{color:#cf222e}.warn{color:#9a6700}details{margin:.4rem 0}footer{margin-top:2rem;color:#59636e;font-size:.85em}";

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders the page. `files` are the bundle files written so far (the page itself and
/// the manifest/checksum files are covered by SHA256SUMS, not listed here).
pub fn render(m: &Manifest, files: &[FileEntry]) -> String {
    let mut h = head(m);
    verdict_html(&mut h, m);
    run_html(&mut h, m);
    if let Some(tests) = &m.evidence.tests {
        tests_html(&mut h, tests);
    }
    if let Some(images) = &m.evidence.images {
        h.push_str("<h2>Image evidence</h2>");
        h.push_str(&super::images::html(images, escape));
    }
    h.push_str(&changes_html(m));
    files_html(&mut h, m, files);
    h
}

fn head(m: &Manifest) -> String {
    let mut h = String::new();
    let title = format!("Release audit: {} {}", m.source.repository.as_deref().unwrap_or("release"), m.release.version);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
    );
    let _ = write!(
        h,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    );
    let _ = write!(h, "<title>{}</title><style>{STYLE}</style></head><body>", escape(&title));
    let _ = write!(h, "<h1>{}</h1>", escape(&title));
    h
}

fn verdict_html(h: &mut String, m: &Manifest) {
    let (class, word) = match m.verdict.result {
        VerdictResult::Passed => ("passed", "✔ Audit passed"),
        VerdictResult::Failed => ("failed", "✘ Audit failed"),
    };
    let _ = write!(h, "<div id=\"verdict\" class=\"verdict {class}\"><strong>{word}</strong>");
    if !m.verdict.reasons.is_empty() {
        h.push_str("<ul>");
        for r in &m.verdict.reasons {
            let _ = write!(h, "<li>{}</li>", escape(r));
        }
        h.push_str("</ul>");
    }
    let off = super::relaxed_gates(m);
    if !off.is_empty() {
        h.push_str("<p class=\"warn\"><strong>Gates turned off for this audit:</strong></p><ul>");
        for line in off {
            let _ = write!(h, "<li class=\"warn\">{}</li>", escape(&line));
        }
        h.push_str("</ul>");
    }
    h.push_str("</div>");
}

fn run_html(h: &mut String, m: &Manifest) {
    h.push_str("<h2>Release and run</h2><table>");
    let row = |h: &mut String, k: &str, v: Option<String>| {
        if let Some(v) = v {
            let _ = write!(h, "<tr><th>{k}</th><td>{}</td></tr>", escape(&v));
        }
    };
    row(h, "Release", Some(m.release.version.clone()));
    row(h, "Bundle", Some(m.release.bundle_name.clone()));
    row(h, "Repository", m.source.repository.clone());
    row(h, "Commit", m.source.commit.clone());
    row(h, "Ref", m.source.git_ref.clone());
    row(
        h,
        "Run",
        m.run.id.map(|id| format!("{id}{}", m.run.attempt.map(|a| format!(" (attempt {a})")).unwrap_or_default())),
    );
    row(h, "Run URL", m.run.url.clone());
    row(h, "Workflow", m.run.workflow.clone());
    row(h, "Event", m.run.event.clone());
    row(h, "Actor", m.run.actor.clone());
    row(h, "Tool", Some(format!("{} {}", m.tool.name, m.tool.version)));
    h.push_str("</table>");
}

fn tests_html(h: &mut String, tests: &TestEvidence) {
    h.push_str("<h2>Test evidence</h2><table><tr><th></th><th>Category</th><th>Tests</th><th>Passed</th><th>Failed</th><th>Errored</th><th>Skipped</th><th>Artifacts</th></tr>");
    for c in &tests.categories {
        category_row(h, c);
    }
    h.push_str("</table>");
    for c in &tests.categories {
        let failures: Vec<_> = c.artifacts.iter().flat_map(|a| &a.files).flat_map(|f| &f.failures).collect();
        if failures.is_empty() {
            continue;
        }
        let _ = write!(
            h,
            "<details open><summary>{} — failed tests ({})</summary><ul>",
            c.category.title(),
            failures.len()
        );
        for f in failures {
            let name = f.display_name();
            let _ =
                write!(h, "<li><code>{}</code><pre class=\"mono\">{}</pre></li>", escape(&name), escape(&f.message));
        }
        h.push_str("</ul></details>");
    }
    for c in &tests.categories {
        problems_and_flaky_html(h, c);
    }
}

fn category_row(h: &mut String, c: &CategoryRecord) {
    // Symbols every common font has: an auditor's offline viewer may have no emoji font.
    let (cls, icon) = match c.status {
        CategoryStatus::Passed => ("ok", "✔"),
        CategoryStatus::Failed => ("bad", "✘"),
        _ if c.required => ("bad", "✘"),
        _ => ("warn", "⚠"),
    };
    let status = match c.status {
        CategoryStatus::Passed => "passed",
        CategoryStatus::Failed => "failed",
        CategoryStatus::Missing => "missing",
        CategoryStatus::Empty => "no tests",
    };
    let artifacts: Vec<String> = c.artifacts.iter().map(|a| format!("<code>{}</code>", escape(&a.name))).collect();
    let t = &c.totals;
    let _ = write!(
        h,
        "<tr><td class=\"{cls}\">{icon}</td><td>{}{} — {status}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
        c.category.title(),
        if c.required { " (required)" } else { "" },
        t.tests,
        t.passed,
        t.failed,
        t.errored,
        t.skipped,
        artifacts.join(", ")
    );
}

fn problems_and_flaky_html(h: &mut String, c: &CategoryRecord) {
    let problems: Vec<_> = c.artifacts.iter().flat_map(|a| &a.files).flat_map(|f| &f.suite_problems).collect();
    if !problems.is_empty() {
        let _ = write!(
            h,
            "<details open><summary>{} — suite problems, not tests ({})</summary><ul>",
            c.category.title(),
            problems.len()
        );
        for p in problems {
            let _ =
                write!(h, "<li><code>{}</code><pre class=\"mono\">{}</pre></li>", escape(&p.suite), escape(&p.message));
        }
        h.push_str("</ul></details>");
    }
    let flaky: Vec<_> = c.artifacts.iter().flat_map(|a| &a.files).flat_map(|f| &f.flaky).collect();
    if !flaky.is_empty() {
        let _ = write!(
            h,
            "<details><summary>{} — flaky tests, passed after a failed attempt ({})</summary><ul>",
            c.category.title(),
            flaky.len()
        );
        for t in flaky {
            let _ = write!(h, "<li><code>{}</code> — {} attempts</li>", escape(&t.display_name()), t.attempts);
        }
        h.push_str("</ul></details>");
    }
    let across: Vec<_> = c
        .artifacts
        .iter()
        .map(|a| (a, crate::evidence::test_reports::attempts::across_attempts(a)))
        .filter(|(_, x)| x.count() > 0)
        .collect();
    if !across.is_empty() {
        let _ = write!(
            h,
            "<details open><summary>{} — flaky across workflow attempts ({})</summary><ul>",
            c.category.title(),
            across.iter().map(|(_, x)| x.count()).sum::<u64>()
        );
        for (a, x) in across {
            for t in &x.tests {
                let _ = write!(
                    h,
                    "<li><code>{}</code> — failed in {}, not in {} (artifact <code>{}</code>)</li>",
                    escape(&t.display_name()),
                    escape(&t.failed_in.join(" and ")),
                    escape(&t.newest),
                    escape(&a.name)
                );
            }
            if x.unnamed > 0 {
                let _ = write!(
                    h,
                    "<li>{} more failure(s) of earlier attempts of artifact <code>{}</code> that name no test</li>",
                    x.unnamed,
                    escape(&a.name)
                );
            }
        }
        h.push_str("</ul></details>");
    }
}

fn files_html(h: &mut String, m: &Manifest, files: &[FileEntry]) {
    h.push_str("<h2>Files</h2><table><tr><th>Path</th><th>Size</th><th>SHA-256</th></tr>");
    for f in files {
        let _ = write!(
            h,
            "<tr><td class=\"mono\">{}</td><td class=\"n\">{}</td><td class=\"mono\">{}</td></tr>",
            escape(&f.path),
            f.size,
            f.sha256
        );
    }
    h.push_str("</table><p>This page, <code>manifest.json</code>, <code>manifest.yaml</code> and <code>SHA256SUMS</code> are covered by <code>SHA256SUMS</code>. Check everything with <code>release-audit verify</code> or <code>sha256sum -c SHA256SUMS</code>.</p>");
    let _ =
        writeln!(h, "<footer>Written by {} {}.</footer></body></html>", escape(&m.tool.name), escape(&m.tool.version));
}

/// The change trail: counts, the two controls, the unreviewed commits (all that the
/// manifest names) and the notes. Empty without a trail.
fn changes_html(m: &Manifest) -> String {
    let Some(c) = &m.evidence.changes else { return String::new() };
    let mut h = String::from("<h2>Change trail</h2>");
    let base = escape(&c.repository_url);
    let _ = write!(
        h,
        "<p>Previous release: <code>{}</code> ({})</p>",
        escape(c.previous_release.as_deref().unwrap_or(if c.previous_release_unknown {
            "unknown — it could not be determined"
        } else {
            "none — first release"
        })),
        escape(&c.previous_found_by)
    );
    if let Some(r) = &c.range {
        let _ = write!(
            h,
            "<p>Range <code>{}</code> → <code>{}</code>, status <code>{}</code> (merge base <code>{}</code>, {} ahead, {} behind)</p>",
            escape(r.base_sha.as_deref().unwrap_or(&r.base)),
            escape(&r.head_sha),
            escape(&r.status),
            escape(r.merge_base_sha.as_deref().unwrap_or("unknown")),
            r.ahead_by,
            r.behind_by
        );
    }
    let n = &c.counts;
    let _ = write!(
        h,
        "<table><tr><th>Commits</th><th>Pull requests</th><th>Reviewed</th><th>Unreviewed</th><th>Direct pushes</th><th>Not checked</th><th>Unsigned</th><th>REST requests</th></tr>\
<tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{} of {}</td></tr></table>",
        n.commits,
        n.pull_requests,
        n.reviewed,
        n.unreviewed,
        n.direct_pushes,
        n.not_checked,
        n.unsigned,
        c.requests,
        c.request_budget
    );
    h.push_str("<table><tr><th>Control</th><th>Required</th><th>Held</th><th></th></tr>");
    for (name, control) in [("Reviewed changes", &c.reviewed_changes), ("Release approval", &c.release_approval)] {
        let class = if control.held {
            "ok"
        } else if control.required {
            "bad"
        } else {
            "warn"
        };
        let _ = write!(
            h,
            "<tr><td class=\"{class}\">{name}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if control.required { "yes" } else { "no" },
            if control.held { "yes" } else { "no" },
            escape(&control.detail)
        );
    }
    h.push_str("</table>");
    if !c.unreviewed.is_empty() {
        let _ = write!(
            h,
            "<details open><summary>Unreviewed commits ({})</summary><table><tr><th>Commit</th><th>Pull requests</th><th>Merged by</th><th>Why</th></tr>",
            n.unreviewed
        );
        for u in &c.unreviewed {
            let sha = escape(&u.sha);
            let pulls: Vec<String> = u.pulls.iter().map(|p| format!("<a href=\"{base}/pull/{p}\">#{p}</a>")).collect();
            let _ = write!(
                h,
                "<tr><td class=\"mono\"><a href=\"{base}/commit/{sha}\">{sha}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                pulls.join(", "),
                escape(&u.merged_by.join(", ")),
                escape(&u.why)
            );
        }
        h.push_str("</table></details>");
    }
    if !c.notes.is_empty() {
        h.push_str("<ul>");
        for note in &c.notes {
            let _ = write!(h, "<li class=\"warn\">{}</li>", escape(note));
        }
        h.push_str("</ul>");
    }
    h
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_cannot_become_markup() {
        assert_eq!(
            super::escape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
    }
}
