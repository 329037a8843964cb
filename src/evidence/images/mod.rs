//! Image evidence: proves the tested image is the released image (placeholder until
//! the image evidence stage lands).

use serde::{Deserialize, Serialize};

use crate::config::RawInputs;
use crate::error::Result;

/// Validated image inputs.
#[derive(Debug, Clone)]
pub struct ImageSettings {}

/// Reads the image inputs; `None` when no image is to be compared.
pub fn settings(_raw: &RawInputs) -> Result<Option<ImageSettings>> {
    Ok(None)
}

/// What the image stage found (the manifest's part).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageEvidence {}

impl ImageEvidence {
    pub fn failures(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The image part of `report.html` (placeholder until the image stage lands).
pub fn html(_images: &ImageEvidence, _escape: fn(&str) -> String) -> String {
    String::new()
}
