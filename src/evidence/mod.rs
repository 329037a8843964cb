//! Evidence stages. Each produces plain data that the bundle, the summary and the
//! verdict consume; no stage reaches into another.

pub mod changes;
pub mod images;
pub mod test_reports;

use serde::{Deserialize, Serialize};

/// Everything collected for one audit. Stages that did not run leave their part empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<test_reports::TestEvidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<images::ImageEvidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<changes::ChangeEvidence>,
}

impl Evidence {
    /// Why the release must not pass, one line each; empty when it may.
    pub fn failures(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        if let Some(tests) = &self.tests {
            reasons.extend(tests.failures());
        }
        if let Some(images) = &self.images {
            reasons.extend(images.failures());
        }
        if let Some(changes) = &self.changes {
            reasons.extend(changes.failures());
        }
        reasons
    }
}
