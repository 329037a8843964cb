//! The job summary and the bundle's `summary.md` (Markdown, size-guarded). Consumes
//! the manifest and, for the job summary, the publish results; it never reaches back
//! into the evidence stages.

use crate::bundle::ZippedBundle;
use crate::bundle::manifest::{Manifest, VerdictResult};
use crate::evidence::test_reports::TestEvidence;
use crate::github::runner::STEP_SUMMARY_LIMIT;
use crate::http::human_bytes;
use crate::publish::Published;

/// Room kept below the runner's 1 MiB limit for the cut note and later appends.
const SUMMARY_BUDGET: usize = STEP_SUMMARY_LIMIT - 16 * 1024;

/// One part of the summary. Essential parts are always kept; detail parts are cut
/// (at a line boundary, with a note) when the whole would pass the limit.
pub struct Section {
    pub markdown: String,
    pub essential: bool,
}

impl Section {
    pub fn essential(markdown: String) -> Self {
        Section { markdown, essential: true }
    }
    pub fn detail(markdown: String) -> Self {
        Section { markdown, essential: false }
    }
}

/// Joins sections, keeping the result under `budget` bytes.
pub fn fit(sections: &[Section], budget: usize) -> String {
    let essential: usize = sections.iter().filter(|s| s.essential).map(|s| s.markdown.len() + 1).sum();
    let mut room = budget.saturating_sub(essential);
    let mut out = String::new();
    let mut cut = false;
    for section in sections {
        if section.essential {
            out.push_str(&section.markdown);
        } else if cut {
            continue;
        } else if section.markdown.len() < room {
            room -= section.markdown.len() + 1;
            out.push_str(&section.markdown);
        } else {
            let mut kept = 0;
            for line in section.markdown.split_inclusive('\n') {
                if kept + line.len() > room.saturating_sub(512) {
                    break;
                }
                out.push_str(line);
                kept += line.len();
            }
            let dropped = section.markdown[kept..].lines().count();
            out.push_str(&format!(
                "\n> ✂️ The summary was cut here to stay under GitHub's 1 MiB limit ({dropped} more lines and the sections after them). The bundle's `summary.md` and `report.html` hold everything.\n"
            ));
            cut = true;
        }
        out.push('\n');
    }
    out
}

fn verdict_line(manifest: &Manifest) -> String {
    let mut s = match manifest.verdict.result {
        VerdictResult::Passed => {
            format!("## ✅ Release audit passed: {} {}\n", repo_name(manifest), manifest.release.version)
        }
        VerdictResult::Failed => {
            let mut s = format!("## ❌ Release audit failed: {} {}\n\n", repo_name(manifest), manifest.release.version);
            for reason in &manifest.verdict.reasons {
                s.push_str(&format!("- {}\n", md_escape(reason)));
            }
            s
        }
    };
    let off = super::relaxed_gates(manifest);
    if !off.is_empty() {
        s.push_str("\n> ⚠️ **Gates turned off for this audit:**\n");
        for line in off {
            s.push_str(&format!("> - {line}\n"));
        }
    }
    s
}

fn repo_name(manifest: &Manifest) -> &str {
    manifest.source.repository.as_deref().unwrap_or("release")
}

fn run_facts(manifest: &Manifest) -> String {
    let mut rows = vec![("Release", format!("`{}`", md_code(&manifest.release.version, true)))];
    let opt = |v: &Option<String>| v.as_deref().map(|s| format!("`{}`", md_code(s, true)));
    if let Some(v) = opt(&manifest.source.repository) {
        rows.push(("Repository", v));
    }
    if let Some(v) = opt(&manifest.source.commit) {
        rows.push(("Commit", v));
    }
    if let Some(v) = opt(&manifest.source.git_ref) {
        rows.push(("Ref", v));
    }
    if let Some(id) = manifest.run.id {
        let attempt = manifest.run.attempt.map(|a| format!(" (attempt {a})")).unwrap_or_default();
        let text = match &manifest.run.url {
            Some(url) => format!("[{id}]({url}){attempt}"),
            None => format!("{id}{attempt}"),
        };
        rows.push(("Run", text));
    }
    for (label, value) in
        [("Workflow", &manifest.run.workflow), ("Event", &manifest.run.event), ("Actor", &manifest.run.actor)]
    {
        if let Some(v) = opt(value) {
            rows.push((label, v));
        }
    }
    let mut s = String::from("| | |\n|---|---|\n");
    for (k, v) in rows {
        s.push_str(&format!("| {k} | {v} |\n"));
    }
    s
}

/// The summary as stored in the bundle (`summary.md`): everything known before
/// publishing, uncut.
pub fn bundle_summary(manifest: &Manifest) -> String {
    let mut sections = vec![Section::essential(verdict_line(manifest)), Section::essential(run_facts(manifest))];
    sections.extend(super::detail_sections(manifest));
    fit(&sections, usize::MAX)
}

/// The job summary: verdict first, facts, the bundle and where it went, then details,
/// kept under the runner's limit.
pub fn job_summary(
    manifest: &Manifest,
    bundle: &ZippedBundle,
    published: &Published,
    publish_error: Option<&str>,
) -> String {
    let mut b = String::from("### Audit bundle\n\n| | |\n|---|---|\n");
    b.push_str(&format!("| Name | `{}` |\n", md_code(&manifest.release.bundle_name, true)));
    b.push_str(&format!("| Size | {} ({} bytes) |\n", human_bytes(bundle.size), bundle.size));
    b.push_str(&format!("| SHA-256 | `{}` |\n", bundle.sha256));
    if let Some(a) = &published.artifact {
        match &a.url {
            Some(url) => b.push_str(&format!("| Artifact | [{}]({url}) (id {}) |\n", md_escape(&a.name), a.id)),
            None => b.push_str(&format!("| Artifact | {} (id {}) |\n", md_escape(&a.name), a.id)),
        }
    }
    for asset in &published.release_assets {
        b.push_str(&format!("| Release asset | [{}]({}) |\n", md_escape(&asset.name), asset.url));
    }
    for object in &published.stored {
        let checked = match &object.lock {
            Some(lock) => format!(
                "sha256 verified; locked {} until {}",
                md_escape(&lock.mode),
                lock.retain_until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            None => "sha256 verified".to_string(),
        };
        match &object.console_url {
            Some(link) => b.push_str(&format!("| Stored | [`{}`]({link}) ({checked}) |\n", md_code(&object.url, true))),
            None => b.push_str(&format!("| Stored | `{}` ({checked}) |\n", md_code(&object.url, true))),
        }
    }
    if let Some(err) = publish_error {
        b.push_str(&format!(
            "\n> ⚠️ Publishing failed: {}. The bundle is kept at `{}`.\n",
            md_escape(err),
            md_code(&bundle.path.display().to_string(), false)
        ));
    }
    let mut sections = vec![
        Section::essential(verdict_line(manifest)),
        Section::essential(run_facts(manifest)),
        Section::essential(b),
    ];
    sections.extend(super::detail_sections(manifest));
    fit(&sections, SUMMARY_BUDGET)
}

pub use crate::markdown::{md_code, md_escape};

/// At most this many failed tests are listed (the rest are counted).
pub const MAX_LISTED_FAILURES: usize = 20;

fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{seconds:.1} s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}

/// The test evidence: a row per category (essential), then the failed tests and
/// notes (detail, cut first when the summary grows too large).
pub fn tests_sections(tests: &TestEvidence) -> Vec<Section> {
    let mut sections = vec![Section::essential(tests_table(tests))];
    sections.extend(failed_tests(tests));
    sections.extend(problems_and_flaky(tests));
    sections.extend(sources_and_notes(tests));
    sections
}

/// A row per category (essential).
fn tests_table(tests: &TestEvidence) -> String {
    use crate::evidence::test_reports::CategoryStatus;
    let mut table = String::from(
        "### Test evidence\n\n| | Category | Tests | Passed | Failed | Errored | Skipped | Duration | Artifacts |\n|---|---|--:|--:|--:|--:|--:|--:|---|\n",
    );
    for c in &tests.categories {
        let icon = match c.status {
            CategoryStatus::Passed => "✅",
            CategoryStatus::Failed => "❌",
            CategoryStatus::Missing | CategoryStatus::Empty if c.required => "❌",
            CategoryStatus::Missing | CategoryStatus::Empty => "⚠️",
        };
        let state = match c.status {
            CategoryStatus::Missing => " — missing",
            CategoryStatus::Empty => " — no tests",
            _ => "",
        };
        let required = if c.required { " (required)" } else { "" };
        let artifacts: Vec<String> = c.artifacts.iter().map(|a| format!("`{}`", md_code(&a.name, true))).collect();
        let t = &c.totals;
        table.push_str(&format!(
            "| {icon} | {}{required}{state} | {} | {} | {} | {} | {} | {} | {} |\n",
            c.category.title(),
            t.tests,
            t.passed,
            t.failed,
            t.errored,
            t.skipped,
            duration(c.duration_seconds),
            if artifacts.is_empty() { "—".to_string() } else { artifacts.join(", ") }
        ));
    }
    table
}

/// The first failed tests, with how many more there are (detail).
fn failed_tests(tests: &TestEvidence) -> Option<Section> {
    let failures: Vec<(&str, &crate::evidence::test_reports::parse::FailedTest)> = tests
        .categories
        .iter()
        .flat_map(|c| {
            c.artifacts.iter().flat_map(|a| &a.files).flat_map(|f| &f.failures).map(move |t| (c.category.title(), t))
        })
        .collect();
    let total_failed: u64 = tests.categories.iter().map(|c| c.totals.failed + c.totals.errored).sum();
    if failures.is_empty() {
        return None;
    }
    let mut s = String::from("#### Failed tests\n\n");
    for (category, t) in failures.iter().take(MAX_LISTED_FAILURES) {
        let first = t.first_line().unwrap_or("");
        let name = t.display_name();
        s.push_str(&format!(
            "- **{category}** `{}` — {}\n",
            md_code(&name.chars().take(300).collect::<String>(), false),
            md_escape(&first.chars().take(300).collect::<String>())
        ));
    }
    let listed = failures.len().min(MAX_LISTED_FAILURES) as u64;
    if total_failed > listed {
        s.push_str(&format!(
            "\n…and {} more; every failure is in the bundle's reports and manifest.\n",
            total_failed - listed
        ));
    }
    Some(Section::detail(s))
}

/// Suite problems and flaky tests, each named (detail).
fn problems_and_flaky(tests: &TestEvidence) -> Vec<Section> {
    let mut sections = Vec::new();
    // Suite problems (a package that did not build, a failed BeforeSuite) fail a
    // category without being tests; flaky tests passed on a rerun. Both are named.
    let files = || {
        tests
            .categories
            .iter()
            .flat_map(|c| c.artifacts.iter().flat_map(|a| &a.files).map(move |f| (c.category.title(), f)))
    };
    let problems: Vec<_> =
        files().flat_map(|(category, f)| f.suite_problems.iter().map(move |p| (category, p))).collect();
    if !problems.is_empty() {
        let mut s = String::from("#### Suite problems (not tests; each fails its category)\n\n");
        for (category, p) in problems.iter().take(MAX_LISTED_FAILURES) {
            let first = p.message.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            s.push_str(&format!(
                "- **{category}** `{}` — {}\n",
                md_code(&p.suite, false),
                md_escape(&first.chars().take(300).collect::<String>())
            ));
        }
        sections.push(Section::detail(s));
    }
    let flaky: Vec<_> = files().flat_map(|(category, f)| f.flaky.iter().map(move |t| (category, t))).collect();
    if !flaky.is_empty() {
        let mut s = String::from("#### Flaky tests (passed after a failed attempt; counted as passed)\n\n");
        for (category, t) in flaky.iter().take(MAX_LISTED_FAILURES) {
            s.push_str(&format!(
                "- **{category}** `{}` — {} attempts\n",
                md_code(&t.display_name(), false),
                t.attempts
            ));
        }
        sections.push(Section::detail(s));
    }
    if let Some(s) = flaky_across_attempts(tests) {
        sections.push(Section::detail(s));
    }
    sections
}

/// Tests that failed in an earlier workflow attempt ("Re-run jobs") and not in the
/// newest, with the attempts, and what earlier attempts failed without naming a test.
fn flaky_across_attempts(tests: &TestEvidence) -> Option<String> {
    use crate::evidence::test_reports::attempts::across_attempts;
    let mut s = String::new();
    for c in &tests.categories {
        for a in &c.artifacts {
            let across = across_attempts(a);
            for t in across.tests.iter().take(MAX_LISTED_FAILURES) {
                s.push_str(&format!(
                    "- **{}** `{}` — failed in {}, not in {} (artifact `{}`)\n",
                    c.category.title(),
                    md_code(&t.display_name(), false),
                    md_escape(&t.failed_in.join(" and ")),
                    md_escape(&t.newest),
                    md_code(&a.name, false)
                ));
            }
            if across.unnamed > 0 {
                s.push_str(&format!(
                    "- **{}** {} more failure(s) of earlier attempts of artifact `{}` that name no test (unlisted failures, suite problems, unparseable files, expired artifacts)\n",
                    c.category.title(),
                    across.unnamed,
                    md_code(&a.name, false)
                ));
            }
        }
    }
    (!s.is_empty()).then(|| {
        format!("#### Flaky across workflow attempts (failed in an earlier attempt of the run, not in the newest; counted as flaky)\n\n{s}")
    })
}

/// Where the reports came from, and every note (detail).
fn sources_and_notes(tests: &TestEvidence) -> Option<Section> {
    let mut notes = String::new();
    for c in &tests.categories {
        for n in &c.notes {
            notes.push_str(&format!("- {}: {}\n", c.category.title(), md_escape(n)));
        }
        for f in c.artifacts.iter().flat_map(|a| &a.files).filter(|f| f.reason.is_some()) {
            notes.push_str(&format!(
                "- {}: `{}` could not be parsed: {}\n",
                c.category.title(),
                md_code(&f.path, false),
                md_escape(f.reason.as_deref().unwrap_or(""))
            ));
        }
    }
    for s in &tests.sources {
        let run = match (&s.url, s.run_id) {
            (Some(url), Some(id)) => format!("[run {id}]({url})"),
            (None, Some(id)) => format!("run {id}"),
            _ => "the current run".to_string(),
        };
        notes.push_str(&format!("- Reports from {run} ({})\n", md_escape(&s.selected_by)));
        for n in &s.notes {
            notes.push_str(&format!("  - {}\n", md_escape(n)));
        }
    }
    (!notes.is_empty()).then(|| Section::detail(format!("#### Sources and notes\n\n{notes}")))
}

/// Text from GitHub (titles, reasons, notes) made inert outside code spans: no table
/// break-out, no markup, no @mentions or autolinks ([`md_escape`]), and no #references
/// (a commit title's `#12` would add a cross-reference to that timeline).
fn md_inert(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in md_escape(s).chars() {
        out.push(c);
        if c == '#' {
            out.push('\u{200B}');
        }
    }
    out
}

/// The change trail: the counts and the controls (essential), then the unreviewed
/// commits with links (detail, capped like the failed tests) and the notes.
pub fn changes_sections(c: &crate::evidence::changes::ChangeEvidence) -> Vec<Section> {
    let base = c.repository_url.as_str();
    let range = match (&c.previous_release, &c.range) {
        (Some(prev), Some(r)) => format!("`{}` → `{}`", md_code(prev, true), &r.head_sha[..r.head_sha.len().min(7)]),
        (Some(prev), None) => format!("since `{}`", md_code(prev, true)),
        (None, _) if c.previous_release_unknown => "previous release unknown".to_string(),
        (None, _) => "first release".to_string(),
    };
    let n = &c.counts;
    let mut s = format!(
        "### Change trail: {range}\n\n| Commits | Pull requests | Reviewed | Unreviewed | Unsigned | Requests |\n|--:|--:|--:|--:|--:|--:|\n"
    );
    s.push_str(&format!(
        "| {} | {} | {} | {} | {} | {} of {} |\n\n",
        n.commits, n.pull_requests, n.reviewed, n.unreviewed, n.unsigned, c.requests, c.request_budget
    ));
    s.push_str("| Control | Required | Held | |\n|---|---|---|---|\n");
    for (name, control) in [("Reviewed changes", &c.reviewed_changes), ("Release approval", &c.release_approval)] {
        let icon = match (control.held, control.required) {
            (true, _) => "✅",
            (false, true) => "❌",
            (false, false) => "⚠️",
        };
        s.push_str(&format!(
            "| {icon} {name} | {} | {} | {} |\n",
            if control.required { "yes" } else { "no" },
            if control.held { "yes" } else { "no" },
            md_inert(&control.detail)
        ));
    }
    let mut sections = vec![Section::essential(s)];
    if !c.unreviewed.is_empty() {
        let mut d =
            String::from("#### Unreviewed changes\n\n| Commit | Pull request | Merged by | Why |\n|---|---|---|---|\n");
        for commit in c.unreviewed.iter().take(MAX_LISTED_FAILURES) {
            let sha = md_code(&commit.sha, true);
            let short = &sha[..sha.len().min(7)];
            let pulls: Vec<String> = commit.pulls.iter().map(|p| format!("[#\u{200B}{p}]({base}/pull/{p})")).collect();
            let pulls = if pulls.is_empty() { "—".to_string() } else { pulls.join(", ") };
            let mergers =
                if commit.merged_by.is_empty() { "—".to_string() } else { md_inert(&commit.merged_by.join(", ")) };
            d.push_str(&format!(
                "| [`{short}`]({base}/commit/{sha}) | {pulls} | {mergers} | {} |\n",
                md_inert(&commit.why)
            ));
        }
        let listed = c.unreviewed.len().min(MAX_LISTED_FAILURES) as u64;
        if n.unreviewed > listed {
            d.push_str(&format!(
                "\n…and {} more; every commit is in the bundle's `changes/commits.json`.\n",
                n.unreviewed - listed
            ));
        }
        sections.push(Section::detail(d));
    }
    if !c.notes.is_empty() {
        let notes: String = c.notes.iter().map(|note| format!("- {}\n", md_inert(note))).collect();
        sections.push(Section::detail(format!("#### Change trail notes\n\n{notes}")));
    }
    sections
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_is_cut_at_a_line_with_a_note_and_essentials_stay() {
        let big: String = (0..10_000).map(|i| format!("| row {i} | ok |\n")).collect();
        let sections =
            [Section::essential("# verdict\n".into()), Section::detail(big), Section::detail("tail\n".into())];
        let out = fit(&sections, 20_000);
        assert!(out.len() <= 20_000, "{}", out.len());
        assert!(out.starts_with("# verdict\n"));
        assert!(out.contains("cut here"));
        assert!(!out.contains("tail"));
        let last_row = out.lines().rfind(|l| l.starts_with("| row")).unwrap();
        assert!(last_row.ends_with("| ok |"), "a row was split: {last_row}");
    }

    #[test]
    fn suite_problems_and_flaky_tests_are_named() {
        use crate::evidence::test_reports::parse::{FlakyTest, ReportFormat, SuiteProblem, Totals};
        use crate::evidence::test_reports::{
            ArtifactRecord, Category, CategoryRecord, CategoryStatus, FileStatus, ReportFile, TestEvidence,
        };
        let totals = Totals { tests: 2, passed: 2, flaky: 1, suite_problems: 1, ..Default::default() };
        let file = ReportFile {
            path: "reports/unit/a/report.json".into(),
            sha256: String::new(),
            size: 0,
            status: FileStatus::Parsed,
            format: Some(ReportFormat::GoTestJson),
            totals: Some(totals),
            duration_seconds: None,
            failures: vec![],
            flaky: vec![FlakyTest { suite: "example.com/p".into(), name: "TestRetry".into(), attempts: 2 }],
            suite_problems: vec![SuiteProblem {
                suite: "example.com/broken".into(),
                message: "the package did not build:\nundefined: x".into(),
            }],
            notes: vec![],
            reason: None,
        };
        let artifact = ArtifactRecord {
            id: 1,
            name: "a".into(),
            run_id: None,
            run_attempt: None,
            size: 0,
            digest: None,
            sha256: String::new(),
            files: vec![file],
            created_at: None,
            job: None,
            attempt: None,
            earlier_attempts: vec![],
            expired_earlier_attempts: vec![],
        };
        let category = CategoryRecord {
            category: Category::Unit,
            required: true,
            patterns: vec!["a".into()],
            status: CategoryStatus::Failed,
            totals,
            duration_seconds: 0.0,
            unparseable_files: 0,
            artifacts: vec![artifact],
            notes: vec![],
            warnings: vec![],
        };
        let evidence = TestEvidence {
            counting: crate::evidence::test_reports::COUNTING_CONVENTION,
            categories: vec![category],
            sources: vec![],
            fail_on_test_failures: true,
            fail_on_missing_reports: true,
            fail_on_flaky: false,
        };
        let out = fit(&tests_sections(&evidence), 100_000);
        assert!(out.contains("- **Unit** `example.com/broken` — the package did not build:"), "{out}");
        assert!(out.contains("- **Unit** `example.com/p › TestRetry` — 2 attempts"), "{out}");
        assert!(evidence.failures()[0].contains("1 suite problem(s)"), "{:?}", evidence.failures());
    }

    #[test]
    fn small_summaries_are_not_cut() {
        let sections = [Section::essential("a\n".into()), Section::detail("b\n".into())];
        assert_eq!(fit(&sections, 1000), "a\n\nb\n\n");
    }

    #[test]
    fn table_cells_cannot_break_out() {
        assert_eq!(md_escape("a|b\n<script>`x`"), "a\\|b \\<script\\>\\`x\\`");
        assert_eq!(md_escape("# h"), "\\# h");
        assert_eq!(md_escape("12. item"), "12\\. item");
        assert_eq!(
            md_escape("E2E tests: no report artifact matched pr-e2e-*-report"),
            "E2E tests: no report artifact matched pr-e2e-*-report"
        );
        assert_eq!(md_code("a|b\n`x`", true), "a\\|b 'x'");
        assert_eq!(md_code("a|b", false), "a|b");
    }

    #[test]
    fn links_images_and_headings_from_reports_are_inert() {
        let text = md_escape(
            "[phish](https://evil.invalid) ![](https://e.invalid/x.png) www.evil.invalid\n## ✅ Release audit passed",
        );
        assert_eq!(
            text,
            "\\[phish\\](https\\://evil.invalid) !\\[\\](https\\://e.invalid/x.png) www\\.evil.invalid ## ✅ Release audit passed"
        );
        assert!(!text.contains('\n'));
    }
}

#[cfg(test)]
mod changes_tests {
    #[test]
    fn text_from_github_stays_inert() {
        let s = super::md_inert("@alice fixed #12 [x](https://evil.example) | <b>bold</b> www.x.io `code`");
        assert!(
            !s.contains("@alice")
                && !s.contains("#12")
                && !s.contains("[x]")
                && !s.contains("https://")
                && !s.contains("www.x"),
            "{s}"
        );
        assert!(s.contains("\\|") && s.contains("\\<b\\>") && !s.contains(" `"), "{s}");
    }
}
