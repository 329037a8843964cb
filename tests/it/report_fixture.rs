//! `summary.md` and `report.html` pinned byte for byte: the report layer renders the
//! committed fixture bundle (`tests/fixtures/report/bundle/`: a manifest the binary wrote
//! — a failed test, a skipped one, an image pair with a test job's record, a change
//! trail with an unreviewed commit — and the pair's record) to exactly the committed
//! pages in `tests/fixtures/report/expected/`. Those pages are the ones the binary
//! wrote into that bundle, so this also pins what `verify` compares with.
//!
//! A change to what users read shows up here as a diff to review. To accept one:
//! `RA_BLESS=1 cargo test --locked --test it report_fixture::`, then `git diff tests/fixtures/report`.

use std::path::{Path, PathBuf};

use release_audit::bundle::manifest::Manifest;
use release_audit::verify::expected_reports;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report")
}

#[test]
fn the_fixture_bundle_renders_to_the_committed_pages_byte_for_byte() {
    let bundle = fixture().join("bundle/audit-bundle-1.2.3");
    let manifest: Manifest = serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    let bless = std::env::var_os("RA_BLESS").is_some();
    let mut differ = Vec::new();
    for (name, rendered) in expected_reports(&bundle, &manifest).unwrap() {
        let path = fixture().join("expected").join(name);
        if bless {
            std::fs::write(&path, &rendered).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap();
        if rendered != expected {
            let line = expected.lines().zip(rendered.lines()).position(|(a, b)| a != b);
            differ.push(format!("{name} differs (first at line {:?}); rendered:\n{rendered}", line.map(|l| l + 1)));
        }
    }
    assert!(differ.is_empty(), "{}\nreview, then accept with RA_BLESS=1", differ.join("\n"));
}

/// The same manifest renders to the same bytes every time (no clock, no map order).
#[test]
fn rendering_is_a_pure_function_of_the_bundle() {
    let bundle = fixture().join("bundle/audit-bundle-1.2.3");
    let manifest: Manifest = serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    let first = expected_reports(&bundle, &manifest).unwrap();
    for _ in 0..3 {
        assert_eq!(expected_reports(&bundle, &manifest).unwrap(), first);
    }
}

/// The YAML form of a manifest stays byte-identical across the move from the deprecated
/// `serde_yaml` 0.9.34 to `serde_norway`: the fixture's `manifest.yaml` was written by
/// serde_yaml 0.9.34 from its `manifest.json`, and `verify` holds a bundle's YAML
/// against the YAML it renders itself.
#[test]
fn the_manifest_yaml_renders_byte_for_byte_as_serde_yaml_wrote_it() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report/bundle/audit-bundle-1.2.3");
    let manifest: release_audit::bundle::manifest::Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let written_by_serde_yaml = std::fs::read_to_string(dir.join("manifest.serde_yaml-0.9.34.yaml")).unwrap();
    assert_eq!(serde_norway::to_string(&manifest).unwrap(), written_by_serde_yaml);
}
