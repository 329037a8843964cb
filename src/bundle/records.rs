//! The image records (`record-image`) the test jobs uploaded with their reports: files
//! named `image-record*.json` among a bundle's report files. Read by the audit (to
//! check the released image against what the tests ran) and by `verify` (to check it
//! again), the same way.

use std::path::Path;

use crate::evidence::images::record::ImageRecord;
use crate::evidence::test_reports::TestEvidence;

/// Largest image record read (`record-image` writes a few KiB).
pub const MAX_IMAGE_RECORD_BYTES: u64 = 8 << 20;

/// The records that could be read, and a line for each that could not (each fails the
/// audit: a record nobody can check proves nothing, and must not be ignored).
#[derive(Debug, Default)]
pub struct ImageRecords {
    pub records: Vec<ImageRecord>,
    pub problems: Vec<String>,
}

/// Whether a report file is an image record, by its name.
pub fn is_image_record(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    name.starts_with("image-record") && name.ends_with(".json")
}

/// Reads every image record among `tests`' report files below `root` (the bundle
/// directory), in the manifest's order. A file's recorded size is checked before it is
/// opened.
pub fn image_records(tests: &TestEvidence, root: &Path) -> ImageRecords {
    let mut out = ImageRecords::default();
    let files = tests.categories.iter().flat_map(|c| &c.artifacts).flat_map(|a| &a.files);
    for file in files.filter(|f| is_image_record(&f.path)) {
        if file.size > MAX_IMAGE_RECORD_BYTES {
            out.problems.push(format!(
                "`{}` is {} bytes, more than an image record may be ({MAX_IMAGE_RECORD_BYTES})",
                file.path, file.size
            ));
            continue;
        }
        let path = root.join(&file.path);
        let read = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| ImageRecord::parse(&bytes, &file.path).map_err(|e| e.to_string()));
        match read {
            Ok(record) => out.records.push(record),
            Err(e) => out.problems.push(format!("`{}` cannot be read: {e}", file.path)),
        }
    }
    out
}
