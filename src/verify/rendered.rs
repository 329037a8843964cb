//! `summary.md` and `report.html`: rendered again by the report layer from the manifest
//! (with each image pair's stored records and explanation, which the page and the
//! summary show) and compared with the bundle's bytes by size and sha256 — the files
//! themselves are never read.

use sha2::{Digest as _, Sha256};

use super::{Found, Problem};
use crate::bundle::manifest::Manifest;
use crate::evidence::images::PairDetail;
use crate::report::{REPORT_HTML, SUMMARY_MD, report_html, summary_md};

/// What the report layer renders for this manifest with these pair details:
/// `summary.md`, then `report.html`.
fn render(m: &Manifest, details: Vec<PairDetail>) -> [(&'static str, String); 2] {
    let mut m = m.clone();
    if let Some(images) = &mut m.evidence.images {
        for (pair, detail) in images.pairs.iter_mut().zip(details) {
            pair.detail = detail;
        }
    }
    [(SUMMARY_MD, summary_md(&m)), (REPORT_HTML, report_html(&m))]
}

/// What `summary.md` and `report.html` of the bundle at `root` must be for the manifest
/// `m` (whatever else is wrong with the bundle): the renderings `verify` compares with.
pub fn expected_reports(root: &std::path::Path, m: &Manifest) -> crate::error::Result<[(&'static str, String); 2]> {
    let mut ignored = Vec::new();
    let found = Found::walk(root, &mut ignored)?;
    let details = super::images::check_images(&found, m, &mut ignored);
    Ok(render(m, details))
}

pub fn check(found: &Found, m: &Manifest, details: Vec<PairDetail>, problems: &mut Vec<Problem>) {
    for (path, text) in render(m, details) {
        let Some(file) = found.get(path) else {
            if !found.is_not_file(path) {
                problems.push(Problem::Missing { path: path.to_string() });
            }
            continue;
        };
        if file.size != text.len() as u64 || file.sha256 != hex::encode(Sha256::digest(text.as_bytes())) {
            problems.push(Problem::Rendered { path: path.to_string() });
        }
    }
}
