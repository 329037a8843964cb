//! Bundle-writing benchmark driver: copies an evidence directory into a bundle
//! (hashing every file as it is written), writes manifest/SHA256SUMS, and zips it —
//! the path `release-audit run` takes. Run by `benches/bundle.sh`, which measures
//! wall time and peak RSS beside `zip -r -6` of the same files.
//!
//! Usage: bundle <evidence-dir> <out-dir>

use std::path::{Path, PathBuf};

use release_audit::bundle::manifest::{Manifest, Release, RunFacts, SCHEMA_VERSION, Source, Tool, Verdict};
use release_audit::bundle::{BundleDir, zip_dir};

fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { walk(root, &p, out) } else { out.push(p.strip_prefix(root).unwrap().to_path_buf()) }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, evidence, out, ..] = args.as_slice() else {
        eprintln!("usage: bundle <evidence-dir> <out-dir>  (run by benches/bundle.sh)");
        return;
    };
    let (evidence, out) = (PathBuf::from(evidence), PathBuf::from(out));
    let mut files = Vec::new();
    walk(&evidence, &evidence, &mut files);
    files.sort();
    let mut dir = BundleDir::create(&out, "audit-bundle-1.0.0").unwrap();
    for rel in &files {
        dir.add_file(&format!("reports/{}", rel.display()), &evidence.join(rel)).unwrap();
    }
    let manifest = Manifest {
        schema_version: SCHEMA_VERSION,
        tool: Tool::this(),
        release: Release { version: "1.0.0".into(), bundle_name: "audit-bundle-1.0.0".into() },
        source: Source { repository: None, commit: None, git_ref: None, commit_source: None },
        run: RunFacts {
            id: None,
            attempt: None,
            url: None,
            workflow: None,
            workflow_ref: None,
            event: None,
            actor: None,
            triggering_actor: None,
            audited_at: None,
        },
        evidence: Default::default(),
        verdict: Verdict::from_reasons(vec![]),
        files: vec![],
    };
    let root = dir.finish(|files| Manifest { files, ..manifest }).unwrap();
    let zipped = zip_dir(&root, &out.join("audit-bundle-1.0.0.zip"), "audit-bundle-1.0.0", 1_700_000_000).unwrap();
    println!("{} files, zip {} bytes, sha256 {}", files.len(), zipped.size, zipped.sha256);
}
