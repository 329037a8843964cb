//! `index.html` of the auditor's archive: one self-contained page, a row per bundle
//! (repository, version, stored, verdict, tests, images, review, signature, sums,
//! verification), each linking to the bundle's own `report.html`.
//!
//! The table is complete without scripts. One inline script (allowed by its hash in the
//! page's Content-Security-Policy, nothing else may run or load) adds sorting by any
//! column and filters by repository and date. Every value comes from a bundle, so every
//! value is escaped.

use std::fmt::Write as _;

use base64::Engine as _;
use sha2::Digest as _;

use super::html::escape;
use crate::archive::{Index, Row};

const STYLE: &str = "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5rem;color:#1f2328}\
h1{font-size:1.4rem;margin:.2rem 0}table{border-collapse:collapse;width:100%;margin:.8rem 0}\
th,td{border:1px solid #d0d7de;padding:.25rem .45rem;text-align:left;vertical-align:top}th{background:#f6f8fa;cursor:pointer;white-space:nowrap}\
.ok{color:#1a7f37}.bad{color:#cf222e;font-weight:600}.warn{color:#9a6700}.mono{font-family:ui-monospace,Menlo,monospace;font-size:.85em}\
form{margin:.6rem 0}form label{margin-right:1rem}.problems{font-size:.85em;color:#cf222e}footer{margin-top:1.5rem;color:#59636e;font-size:.85em}";

/// Sorting by a column (numbers and dates compare as text; ISO dates sort right) and
/// filtering by repository and a date range on `stored`.
const SCRIPT: &str = "(function(){var t=document.getElementById('bundles'),b=t.tBodies[0],f=document.getElementById('filters');\
f.hidden=false;var rows=Array.prototype.slice.call(b.rows);\
function apply(){var r=f.repo.value,a=f.from.value,z=f.to.value;rows.forEach(function(x){var d=x.dataset.stored.slice(0,10);\
x.hidden=(r&&x.dataset.repo!==r)||(a&&d<a)||(z&&d>z);});}\
f.addEventListener('input',apply);\
Array.prototype.forEach.call(t.tHead.rows[0].cells,function(h,i){h.addEventListener('click',function(){var up=h.dataset.dir!=='asc';h.dataset.dir=up?'asc':'desc';\
rows.sort(function(p,q){var u=p.cells[i].textContent,v=q.cells[i].textContent;return up?u.localeCompare(v):v.localeCompare(u);});\
rows.forEach(function(x){b.appendChild(x);});});});})();";

/// The page for `index`.
pub fn index_html(index: &Index) -> String {
    let script_hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(SCRIPT.as_bytes()));
    let mut h = String::with_capacity(4096 + index.bundles.len() * 800);
    let broken = index.broken();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Audit archive: {}</title><style>{STYLE}</style></head><body>\
<h1>Audit archive</h1><p class=\"mono\">{}</p><p>{} bundles; <span class=\"{}\">{broken} do not verify</span>. \
Generated {} by {}.</p>",
        escape(&index.location),
        escape(&index.location),
        index.bundles.len(),
        if broken == 0 { "ok" } else { "bad" },
        escape(&index.generated_at),
        escape(&index.generated_by),
    );
    filters(&mut h, index);
    h.push_str(
        "<table id=\"bundles\"><thead><tr><th>Repository</th><th>Version</th><th>Stored</th><th>Verdict</th>\
<th>Tests</th><th>Images</th><th>Review</th><th>Signature</th><th>Sums</th><th>Lock</th><th>Verification</th></tr></thead><tbody>",
    );
    for row in &index.bundles {
        write_row(&mut h, row);
    }
    let _ = writeln!(
        h,
        "</tbody></table><footer>Each bundle was downloaded and checked with <code>release-audit verify</code>: \
every hash, and every claim re-derived. The CSV (<a href=\"index.csv\">index.csv</a>) and JSON \
(<a href=\"index.json\">index.json</a>) hold the same rows.</footer><script>{SCRIPT}</script></body></html>"
    );
    h
}

fn filters(h: &mut String, index: &Index) {
    let mut repos: Vec<&str> = index.bundles.iter().filter_map(|r| r.repository.as_deref()).collect();
    repos.sort_unstable();
    repos.dedup();
    h.push_str("<form id=\"filters\" hidden><label>Repository <select name=\"repo\"><option value=\"\">all</option>");
    for repo in repos {
        let _ = write!(h, "<option>{}</option>", escape(repo));
    }
    h.push_str(
        "</select></label><label>Stored from <input type=\"date\" name=\"from\"></label>\
<label>to <input type=\"date\" name=\"to\"></label></form>",
    );
}

fn write_row(h: &mut String, r: &Row) {
    let repo = r.repository.as_deref().unwrap_or("(unknown)");
    let version = r.version.as_deref().unwrap_or("?");
    let version_cell = match &r.report {
        Some(link) => format!("<a href=\"{}\">{}</a>", escape(link), escape(version)),
        None => escape(version),
    };
    let verdict = r.verdict.as_deref().unwrap_or("?");
    let verdict_class = if verdict == "passed" { "ok" } else { "bad" };
    let tests: Vec<String> = r
        .categories
        .iter()
        .map(|c| {
            let class = if c.status == "passed" { "ok" } else { "bad" };
            format!("<span class=\"{class}\">{} {}/{}</span>", escape(&c.category), c.passed, c.tests)
        })
        .collect();
    let images: Vec<String> = r
        .images
        .iter()
        .map(|i| format!("<span class=\"{}\">{}</span>", if i.passed { "ok" } else { "bad" }, escape(&i.verdict)))
        .collect();
    let review = r.reviewed_changes.as_deref().unwrap_or("-");
    let review_class = match review {
        "held" => "ok",
        "did not hold" => "bad",
        _ => "",
    };
    let verification = if r.ok() {
        "<span class=\"ok\">holds</span>".to_string()
    } else {
        let listed: Vec<String> = r.problems.iter().map(|p| escape(p)).collect();
        format!(
            "<span class=\"bad\">fails ({})</span><div class=\"problems\">{}</div>",
            r.problem_count,
            listed.join("<br>")
        )
    };
    let _ = write!(
        h,
        "<tr data-repo=\"{}\" data-stored=\"{}\"><td>{}</td><td>{version_cell}</td><td class=\"mono\">{}</td>\
<td class=\"{verdict_class}\">{}</td><td>{}</td><td>{}</td><td class=\"{review_class}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{verification}</td></tr>",
        escape(repo),
        escape(&r.stored_at),
        escape(repo),
        escape(&r.stored_at),
        escape(verdict),
        tests.join(" "),
        images.join(" "),
        escape(review),
        escape(&r.signature),
        escape(&r.sums),
        escape(r.lock.as_deref().unwrap_or("-")),
    );
}
