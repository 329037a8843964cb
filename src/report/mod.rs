//! The report layer: everything a person reads about an audit, rendered from the
//! manifest (and the bundle's file list, which the manifest carries) and nothing else.
//!
//! Every renderer here is a pure function: the same manifest renders to the same bytes,
//! which is what lets `verify` re-render `summary.md` and `report.html` and compare
//! them byte for byte with the bundle's. Outside text (test names, messages, registry
//! answers, GitHub text) is escaped here, through [`crate::markdown`] for Markdown and
//! [`html::escape`] for the page; console lines go through `github::commands::inert`.
//!
//! - [`markdown`]: the job summary and the bundle's `summary.md` (size-guarded);
//! - [`html`]: `report.html`, one self-contained page;
//! - [`annotations`]: the `::error`/`::warning` annotations the run writes, as data;
//! - [`text`]: the CLI's text for `verify`, bounded;
//! - [`table`]: the text table of `release-audit reports`;
//! - [`image_text`]: the text of `release-audit digest` and `compare`;
//! - [`archive`]: the archive index's `index.html`.
//!
//! - [`images`]: the image evidence's section and fragment for both.
//!
//! Evidence stages produce data; they never render.

pub mod annotations;
pub mod archive;
pub mod html;
pub mod image_text;
pub mod images;
pub mod markdown;
pub mod table;
pub mod text;

use crate::bundle::manifest::{FileEntry, Manifest};
pub use markdown::{MAX_LISTED_FAILURES, Section, fit, job_summary};

/// The bundle's `summary.md`.
pub const SUMMARY_MD: &str = "summary.md";
/// The bundle's `report.html`.
pub const REPORT_HTML: &str = "report.html";

/// The gates this audit ran with turned off, one line each (empty for the defaults):
/// a passing verdict under them says less, so every page says so beside the verdict.
pub fn relaxed_gates(manifest: &Manifest) -> Vec<String> {
    let mut off = Vec::new();
    if let Some(tests) = &manifest.evidence.tests {
        if !tests.fail_on_test_failures {
            off.push("failed tests do not fail the audit (`fail-on-test-failures: false`)".to_string());
        }
        if !tests.fail_on_missing_reports {
            off.push("missing or empty reports do not fail the audit (`fail-on-missing-reports: false`)".to_string());
        }
    }
    if let Some(images) = &manifest.evidence.images
        && images.policy == crate::evidence::images::DigestPolicy::Record
    {
        off.push("image digests are recorded, never compared (`digest-policy: record`)".to_string());
    }
    off
}

/// `summary.md`: the job summary as stored in the bundle, uncut, from the manifest alone.
pub fn summary_md(manifest: &Manifest) -> String {
    markdown::bundle_summary(manifest)
}

/// `report.html`, from the manifest alone: its file list is the manifest's (the page
/// itself is left out; it cannot list its own hash).
pub fn report_html(manifest: &Manifest) -> String {
    let files: Vec<FileEntry> = manifest.files.iter().filter(|f| f.path != REPORT_HTML).cloned().collect();
    html::render(manifest, &files)
}

/// The summary's sections after the verdict and the run facts: tests, images, changes.
pub fn detail_sections(manifest: &Manifest) -> Vec<Section> {
    let mut sections = Vec::new();
    if let Some(tests) = &manifest.evidence.tests {
        sections.extend(markdown::tests_sections(tests));
    }
    if let Some(images) = &manifest.evidence.images {
        sections.push(Section::essential(images::markdown(images)));
    }
    if let Some(changes) = &manifest.evidence.changes {
        sections.extend(markdown::changes_sections(changes));
    }
    sections
}
