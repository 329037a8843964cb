//! Object storage (gs://, s3://) for retention beyond artifacts (placeholder).

use crate::config::RawInputs;
use crate::error::Result;

#[derive(Debug, Clone)]
pub struct StorageSettings {}

pub fn settings(_raw: &RawInputs) -> Result<Option<StorageSettings>> {
    Ok(None)
}
