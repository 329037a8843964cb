//! Release asset publishing (placeholder).

use crate::config::RawInputs;
use crate::error::Result;

#[derive(Debug, Clone)]
pub struct ReleaseAssetSettings {}

pub fn settings(_raw: &RawInputs, _release_version: &str) -> Result<Option<ReleaseAssetSettings>> {
    Ok(None)
}
