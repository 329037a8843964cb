//! How much `verify` reads of each kind of file. A size is checked from the walk's
//! metadata before the file is opened: a small zip may claim a huge `manifest.json`
//! (the zip extractor's own limits, `evidence::test_reports::extract::Limits`, bound
//! what is unpacked at all). Report files are never read whole: they are parsed
//! streaming, like the audit does; `summary.md` and `report.html` are only hashed.

/// `manifest.json` and `manifest.yaml` (a large audit's is a few MiB; at this cap, parsing
/// both stays well under 256 MB of memory).
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;
/// `SHA256SUMS` (one short line per file).
pub const MAX_SUMS_BYTES: u64 = 16 << 20;
/// Each of `changes/commits.json`, `pulls.json`, `approvals.json`.
pub const MAX_CHANGE_FILE_BYTES: u64 = 32 << 20;
/// Each `images/<name>.json` and each image record among the reports.
pub const MAX_IMAGE_FILE_BYTES: u64 = 8 << 20;
/// Each stored image manifest (`images/manifests/*.json`): the registry client's limit.
pub const MAX_IMAGE_MANIFEST_BYTES: u64 = crate::registry::manifest::MAX_MANIFEST_BYTES as u64;

/// Which release-audit verifies a bundle counted under `convention`: convention 1 was
/// release-audit 0.1.0's; for another, the version that wrote it (`tool`).
pub fn verifier_for(convention: u32, tool: &str) -> String {
    match convention {
        1 => "release-audit 0.1.0, whose counting convention it is".to_string(),
        _ => {
            format!("the release-audit that wrote it ({tool}) or a later one that counts under convention {convention}")
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_verifier_of_a_convention_is_named() {
        assert_eq!(
            super::verifier_for(1, "release-audit 0.2.0"),
            "release-audit 0.1.0, whose counting convention it is"
        );
        assert_eq!(
            super::verifier_for(3, "release-audit 0.4.0"),
            "the release-audit that wrote it (release-audit 0.4.0) or a later one that counts under convention 3"
        );
    }
}
