//! The image section of the job summary (Markdown, rendered by GitHub): per pair a
//! table of digests, a tested → released diagram, and on a mismatch the findings with
//! their hints and the promotion command.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::{ImageEvidence, PairEvidence, RefDigests, Verdict};

pub fn markdown(evidence: &ImageEvidence) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### Images\n");
    let _ = writeln!(out, "Digest policy: `{}`\n", evidence.policy.as_str());
    for pair in &evidence.pairs {
        pair_section(&mut out, pair, evidence);
    }
    out
}

fn pair_section(out: &mut String, pair: &PairEvidence, evidence: &ImageEvidence) {
    let mark = if pair.passed { "✅" } else { "❌" };
    let _ = writeln!(out, "#### {mark} `{}` — {}\n", pair.name, pair.verdict.as_str());
    let _ = writeln!(out, "{}\n", pair.verdict_line(evidence.policy));

    let platforms: BTreeSet<&String> = pair.tested.platforms.keys().chain(pair.released.platforms.keys()).collect();
    let mut header = "| | reference | index / manifest |".to_string();
    let mut rule = "|---|---|---|".to_string();
    for p in &platforms {
        let _ = write!(header, " {p} |");
        rule.push_str("---|");
    }
    let _ = writeln!(out, "{header}\n{rule}");
    let cell = |d: Option<&super::Digest>| d.map_or("—".to_string(), |d| format!("`{d}`"));
    for (label, r) in [("tested", &pair.tested), ("released", &pair.released)] {
        let mut row = format!("| {label} | `{}` | {} |", r.reference, cell(r.digest.as_ref()));
        for p in &platforms {
            let _ = write!(row, " {} |", cell(r.platforms.get(*p)));
        }
        let _ = writeln!(out, "{row}");
    }
    let same = |a: Option<&super::Digest>, b: Option<&super::Digest>| if a.is_some() && a == b { "✅" } else { "❌" };
    let mut row = format!("| | | {} |", same(pair.tested.digest.as_ref(), pair.released.digest.as_ref()));
    for p in &platforms {
        let _ = write!(row, " {} |", same(pair.tested.platforms.get(*p), pair.released.platforms.get(*p)));
    }
    let _ = writeln!(out, "{row}");
    if let Some(e) = &pair.expected_digest {
        let _ = writeln!(out, "\nExpected (from the build): `{e}` {}", same(Some(e), pair.tested.digest.as_ref()));
    }

    let _ = writeln!(out, "\n```mermaid\nflowchart LR");
    let _ = writeln!(out, "  tested[\"{}\"] -- \"{} {mark}\" --> released[\"{}\"]", node("tested", &pair.tested), pair.verdict.as_str(), node("released", &pair.released));
    let _ = writeln!(out, "```\n");

    let explanation = &pair.detail.explanation;
    if pair.verdict != Verdict::Identical && !explanation.findings.is_empty() {
        let _ = writeln!(out, "<details open><summary>Why they differ ({} findings)</summary>\n", explanation.findings.len());
        for f in &explanation.findings {
            let place = match &f.platform {
                Some(p) => format!("{} {p}", f.level.as_str()),
                None => f.level.as_str().to_string(),
            };
            let _ = writeln!(out, "- **{place}**: {}", inline(&f.summary));
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

/// A diagram node: side, reference and digest, with quotes escaped for mermaid.
fn node(side: &str, r: &RefDigests) -> String {
    let digest = r.digest.as_ref().map_or("not found".to_string(), |d| d.short());
    format!("{side}<br/>{}<br/>{digest}", r.reference).replace('"', "#quot;")
}

/// Text safe inside a Markdown list item (no HTML, no line breaks).
fn inline(text: &str) -> String {
    text.replace('<', "&lt;").replace('>', "&gt;").replace(['\n', '\r'], " ")
}
