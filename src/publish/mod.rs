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
