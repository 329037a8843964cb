//! `summary.md` and `report.html`: rendered again by the report layer from the manifest
//! (with each image pair's stored records and explanation, which the page and the
//! summary show) and compared with the bundle's bytes by size and sha256 — the files
//! themselves are never read.

use sha2::{Digest as _, Sha256};

use super::{Found, Problem};
use crate::bundle::manifest::Manifest;
use crate::evidence::images::PairDetail;
use crate::report::{REPORT_HTML, SUMMARY_MD, report_html, summary_md};

/// The manifest with each image pair's stored detail (records and explanation), as the
/// run held it in memory when it rendered and wrote the bundle.
pub fn with_details(m: &Manifest, details: Vec<PairDetail>) -> Manifest {
    let mut m = m.clone();
    if let Some(images) = &mut m.evidence.images {
        for (pair, detail) in images.pairs.iter_mut().zip(details) {
            pair.detail = detail;
        }
    }
    m
}

/// What the report layer renders for `m` (with its pairs' details): `summary.md`,
/// then `report.html`.
fn render(m: &Manifest) -> [(&'static str, String); 2] {
    [(SUMMARY_MD, summary_md(m)), (REPORT_HTML, report_html(m))]
}

/// What `summary.md` and `report.html` of the bundle at `root` must be for the manifest
/// `m` (whatever else is wrong with the bundle): the renderings `verify` compares with.
pub fn expected_reports(root: &std::path::Path, m: &Manifest) -> crate::error::Result<[(&'static str, String); 2]> {
    Ok(render(&detailed(root, m)?))
}

/// What the `statements/*.intoto.json` of the bundle at `root` must be for `m`.
pub fn expected_statements(
    root: &std::path::Path,
    m: &Manifest,
) -> crate::error::Result<Vec<crate::bundle::statement_files::StatementFile>> {
    use crate::bundle::statement_files::{server_url_of, statement_files};
    let m = detailed(root, m)?;
    Ok(statement_files(&m, &server_url_of(&m)))
}

/// `m` with the pairs' details read from the bundle at `root`.
fn detailed(root: &std::path::Path, m: &Manifest) -> crate::error::Result<Manifest> {
    let mut ignored = Vec::new();
    let found = Found::walk(root, &mut ignored)?;
    let details = super::images::check_images(&found, m, &mut ignored);
    Ok(with_details(m, details))
}

/// `m` must carry the pairs' stored details ([`with_details`]).
pub fn check(found: &Found, m: &Manifest, problems: &mut Vec<Problem>) {
    for (path, text) in render(m) {
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
