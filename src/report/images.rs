//! How image evidence reads to people (the report layer's image part; it moved here
//! from `evidence::images::summary`, which now only forwards to it): the job summary's section (Markdown, rendered
//! by GitHub: a digest table per pair, a tested → released mermaid diagram, and on a
//! mismatch the findings with their hints and the promotion command) and the same
//! content as an HTML fragment for `report.html`, which an auditor opens offline
//! (plain symbols instead of emoji, no diagram: the page runs no scripts).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::evidence::images::{Digest, Finding, ImageEvidence, PairEvidence, RefDigests, Verdict};
use crate::markdown::{md_code, md_escape};

/// One pair's digest table: a row per side, a column per platform, and which match.
struct Table<'a> {
    platforms: Vec<&'a String>,
    rows: [(&'static str, &'a RefDigests); 2],
    /// Index digests equal, then each platform's.
    same: (bool, Vec<bool>),
}

impl<'a> Table<'a> {
    fn of(pair: &'a PairEvidence) -> Self {
        let platforms: Vec<&String> = pair
            .tested
            .platforms
            .keys()
            .chain(pair.released.platforms.keys())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let equal = |a: Option<&Digest>, b: Option<&Digest>| a.is_some() && a == b;
        let same = (
            equal(pair.tested.digest.as_ref(), pair.released.digest.as_ref()),
            platforms.iter().map(|p| equal(pair.tested.platforms.get(*p), pair.released.platforms.get(*p))).collect(),
        );
        Table { platforms, rows: [("tested", &pair.tested), ("released", &pair.released)], same }
    }
}

/// Where a finding is: `layer linux/arm64`.
/// Rows of recorded digests shown per pair; the rest are in the pair's JSON file.
const MAX_RECORD_ROWS: usize = 30;

fn place(f: &Finding) -> String {
    match &f.platform {
        Some(p) => format!("{} {p}", f.level.as_str()),
        None => f.level.as_str().to_string(),
    }
}

fn has_explanation(pair: &PairEvidence) -> bool {
    pair.verdict != Verdict::Identical && !pair.detail.explanation.findings.is_empty()
}

pub fn markdown(evidence: &ImageEvidence) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### Images\n");
    let _ = writeln!(out, "Digest policy: `{}`\n", evidence.policy.as_str());
    if let Some(build) = &evidence.build {
        let _ = writeln!(out, "{}\n", md_escape(&build_line(build)));
    }
    for pair in &evidence.pairs {
        markdown_pair(&mut out, pair, evidence);
    }
    out
}

/// Where the expected digest came from: the build on the tag push and its logs.
fn build_line(build: &crate::evidence::images::build::BuildDigest) -> String {
    let logs: Vec<String> = build
        .logs
        .iter()
        .map(|l| {
            format!(
                "run {} (attempt {}), job {} — log {} ({} bytes, sha256 {})",
                l.run_id, l.run_attempt, l.job_id, l.path, l.size, l.sha256
            )
        })
        .collect();
    format!(
        "Expected digest {} from the image build report of {} job \"{}\" on the push of tag {} ({}): {}; given to {}.",
        build.digest,
        build.workflow,
        build.job,
        build.tag,
        build.commit,
        logs.join("; "),
        build.applied_to.join(", ")
    )
}

fn markdown_pair(out: &mut String, pair: &PairEvidence, evidence: &ImageEvidence) {
    let mark = if pair.passed { "✅" } else { "❌" };
    let _ = writeln!(out, "#### {mark} `{}` — {}\n", md_code(&pair.name, false), pair.verdict.as_str());
    let _ = writeln!(out, "{}\n", pair.verdict_line(evidence.policy));

    let table = Table::of(pair);
    let check = |same: bool| if same { "✅" } else { "❌" };
    let cell = |d: Option<&Digest>| d.map_or("—".to_string(), |d| format!("`{d}`"));
    // Platform keys (os/arch/variant) come from the registry's index: outside text.
    let _ = writeln!(
        out,
        "| | reference | index / manifest |{}",
        table.platforms.iter().map(|p| format!(" `{}` |", md_code(p, true))).collect::<String>()
    );
    let _ = writeln!(out, "|---|---|---|{}", "---|".repeat(table.platforms.len()));
    for (label, r) in table.rows {
        let platforms: String = table.platforms.iter().map(|p| format!(" {} |", cell(r.platforms.get(*p)))).collect();
        let _ =
            writeln!(out, "| {label} | `{}` | {} |{platforms}", md_code(&r.reference, true), cell(r.digest.as_ref()));
    }
    let _ = writeln!(
        out,
        "| | | {} |{}",
        check(table.same.0),
        table.same.1.iter().map(|s| format!(" {} |", check(*s))).collect::<String>()
    );
    if let Some(e) = &pair.expected_digest {
        let _ = writeln!(out, "\nExpected (from the build): `{e}` {}", check(pair.tested.digest.as_ref() == Some(e)));
    }
    if !pair.recorded.is_empty() {
        let _ = writeln!(out, "\nWhat the test jobs ran (recorded by `record-image`):\n");
        let _ = writeln!(out, "| job | image | digest | is | |\n|---|---|---|---|---|");
        for c in pair.recorded.iter().take(MAX_RECORD_ROWS) {
            let digest = c.image.digest.as_ref().map_or("—".to_string(), |d| format!("`{}`", d.short()));
            let _ = writeln!(
                out,
                "| {} | `{}` | {digest} | {}{} | {} |",
                md_escape(&c.job.label()),
                md_code(&c.image.reference, true),
                c.verdict.as_str(),
                c.platform.as_deref().map(|p| format!(" `{}`", md_code(p, true))).unwrap_or_default(),
                check(c.verdict.passes(evidence.policy))
            );
        }
        if pair.recorded.len() > MAX_RECORD_ROWS {
            let _ = writeln!(
                out,
                "\n… and {} more in `images/{}.json`",
                pair.recorded.len() - MAX_RECORD_ROWS,
                md_code(&pair.name, false)
            );
        }
    }

    let _ = writeln!(out, "\n```mermaid\nflowchart LR");
    let _ = writeln!(
        out,
        "  tested[\"{}\"] -- \"{} {mark}\" --> released[\"{}\"]",
        node("tested", &pair.tested),
        pair.verdict.as_str(),
        node("released", &pair.released)
    );
    let _ = writeln!(out, "```\n");

    if has_explanation(pair) {
        let explanation = &pair.detail.explanation;
        let _ = writeln!(
            out,
            "<details open><summary>Why they differ ({} findings)</summary>\n",
            explanation.findings.len()
        );
        for f in &explanation.findings {
            let _ = writeln!(out, "- **{}**: {}", place(f), inline(&f.summary));
            for d in &f.details {
                let _ = writeln!(out, "  - {}", inline(d));
            }
            let _ = writeln!(out, "  - 💡 {}", f.hint);
        }
        if let Some(cmd) = &explanation.promote {
            let _ = writeln!(out, "\nPromote by digest instead of rebuilding:\n\n```sh\n{cmd}\n```");
        }
        let _ = writeln!(out, "\n</details>\n");
    }
}

/// The image part of `report.html`; `escape` is the page's HTML escaping.
pub fn html(evidence: &ImageEvidence, escape: fn(&str) -> String) -> String {
    let mut h = String::new();
    let _ = write!(h, "<p>Digest policy: <code>{}</code></p>", evidence.policy.as_str());
    if let Some(build) = &evidence.build {
        let _ = write!(h, "<p>{}</p>", escape(&build_line(build)));
    }
    for pair in &evidence.pairs {
        let (class, symbol) = if pair.passed { ("ok", "✔") } else { ("bad", "✘") };
        let _ = write!(
            h,
            "<h3><span class=\"{class}\">{symbol}</span> <code>{}</code> — {}</h3>",
            escape(&pair.name),
            pair.verdict.as_str()
        );
        let _ = write!(h, "<p>{}</p>", escape(&pair.verdict_line(evidence.policy)));

        let table = Table::of(pair);
        let check = |same: bool| if same { "<td class=\"ok\">✔</td>" } else { "<td class=\"bad\">✘</td>" };
        let cell =
            |d: Option<&Digest>| d.map_or("<td>—</td>".to_string(), |d| format!("<td class=\"mono\">{d}</td>"));
        let _ = write!(h, "<table><tr><th></th><th>Reference</th><th>Index / manifest</th>");
        for p in &table.platforms {
            let _ = write!(h, "<th>{}</th>", escape(p));
        }
        h.push_str("</tr>");
        for (label, r) in table.rows {
            let _ = write!(
                h,
                "<tr><td>{label}</td><td class=\"mono\">{}</td>{}",
                escape(&r.reference),
                cell(r.digest.as_ref())
            );
            for p in &table.platforms {
                h.push_str(&cell(r.platforms.get(*p)));
            }
            h.push_str("</tr>");
        }
        let _ = write!(h, "<tr><td></td><td></td>{}", check(table.same.0));
        for s in &table.same.1 {
            h.push_str(check(*s));
        }
        h.push_str("</tr></table>");
        if let Some(e) = &pair.expected_digest {
            let (class, symbol) = if pair.tested.digest.as_ref() == Some(e) { ("ok", "✔") } else { ("bad", "✘") };
            let _ =
                write!(h, "<p>Expected (from the build): <code>{e}</code> <span class=\"{class}\">{symbol}</span></p>");
        }
        if !pair.recorded.is_empty() {
            h.push_str("<p>What the test jobs ran (recorded by <code>record-image</code>):</p><table><tr><th>Job</th><th>Image</th><th>Digest</th><th>Is</th></tr>");
            for c in &pair.recorded {
                let (class, symbol) = if c.verdict.passes(evidence.policy) { ("ok", "✔") } else { ("bad", "✘") };
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"{class}\">{symbol} {}</td></tr>",
                    escape(&c.job.label()),
                    escape(&c.image.reference),
                    c.image.digest.as_ref().map_or("—".to_string(), |d| d.to_string()),
                    escape(&c.explanation)
                );
            }
            h.push_str("</table>");
        }

        if has_explanation(pair) {
            let explanation = &pair.detail.explanation;
            let _ = write!(
                h,
                "<details open><summary>Why they differ ({} findings)</summary><ul>",
                explanation.findings.len()
            );
            for f in &explanation.findings {
                let _ = write!(h, "<li><strong>{}</strong>: {}", escape(&place(f)), escape(&f.summary));
                if !f.details.is_empty() {
                    h.push_str("<ul>");
                    for d in &f.details {
                        let _ = write!(h, "<li class=\"mono\">{}</li>", escape(d));
                    }
                    h.push_str("</ul>");
                }
                let _ = write!(h, "<div class=\"warn\">Remedy: {}</div></li>", escape(&f.hint));
            }
            h.push_str("</ul>");
            if let Some(cmd) = &explanation.promote {
                let _ = write!(
                    h,
                    "<p>Promote by digest instead of rebuilding:</p><pre class=\"mono\">{}</pre>",
                    escape(cmd)
                );
            }
            h.push_str("</details>");
        }
    }
    h
}

/// A diagram node: side, reference and digest, with quotes escaped for mermaid and
/// nothing that could end the label or the fenced block.
fn node(side: &str, r: &RefDigests) -> String {
    let digest = r.digest.as_ref().map_or("not found".to_string(), |d| d.short());
    let reference: String =
        r.reference.chars().map(|c| if c.is_control() || matches!(c, '`' | '<' | '>') { '_' } else { c }).collect();
    format!("{side}<br/>{reference}<br/>{digest}").replace('"', "#quot;")
}

/// Findings quote registry-controlled text (labels, history, file names): inert
/// Markdown inline text.
fn inline(text: &str) -> String {
    md_escape(text)
}
