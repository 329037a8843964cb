//! Publishing a finished bundle. The bundle is on disk before anything here runs; a
//! failure leaves it there and says where.

pub mod artifact;
pub mod release;
pub mod storage;

/// Where the bundle was published.
#[derive(Debug, Clone, Default)]
pub struct Published {
    pub artifact: Option<artifact::UploadedArtifact>,
    pub release_assets: Vec<release::AttachedAsset>,
    pub stored: Vec<storage::StoredObject>,
}

/// `<bundle-name>.SHA256SUMS`, published beside the zip: the zip's own hash, then every
/// line of the bundle's inner `SHA256SUMS` with its path under `<bundle-name>/`, so
/// `sha256sum -c` checks a download and, once unzipped, its contents. A pure function of
/// the zip, so the audit step and `attach` publish the same bytes.
pub fn zip_sums(bundle_name: &str, zip_sha256: &str, inner_sums: &str) -> String {
    let mut text = format!("{zip_sha256}  {bundle_name}.zip\n");
    for line in inner_sums.lines() {
        if let Some((hash, path)) = line.split_once("  ") {
            text.push_str(&format!("{hash}  {bundle_name}/{path}\n"));
        }
    }
    text
}
