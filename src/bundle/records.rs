//! The image records (`record-image`) the test jobs uploaded with their reports: files
//! named `image-record*.json` among a bundle's report files. Read by the audit (to
//! check the released image against what the tests ran) and by `verify` (to check it
//! again), the same way.

use std::path::Path;

use crate::evidence::images::record::ImageRecord;
pub use crate::evidence::images::record::{
    MAX_RECORD_BYTES as MAX_IMAGE_RECORD_BYTES, is_record_file as is_image_record,
};
use crate::evidence::test_reports::TestEvidence;

/// The records that could be read, and a line for each that could not (each fails the
/// audit: a record nobody can check proves nothing, and must not be ignored).
#[derive(Debug, Default)]
pub struct ImageRecords {
    pub records: Vec<ImageRecord>,
    pub problems: Vec<String>,
}

/// Reads every image record among `tests`' report files below `root` (the bundle
/// directory), in the manifest's order. A file's recorded size is checked before it is
/// opened; a record that names another run than its artifact's is a problem, not
/// evidence ([`ImageRecord::from_another_run`]).
pub fn image_records(tests: &TestEvidence, root: &Path) -> ImageRecords {
    let mut out = ImageRecords::default();
    let files = tests.categories.iter().flat_map(|c| &c.artifacts).flat_map(|a| a.files.iter().map(|f| (a.run_id, f)));
    for (run, file) in files.filter(|(_, f)| is_image_record(&f.path)) {
        if file.size > MAX_IMAGE_RECORD_BYTES {
            out.problems.push(format!(
                "`{}` is {} bytes, more than an image record may be ({MAX_IMAGE_RECORD_BYTES})",
                file.path, file.size
            ));
            continue;
        }
        let read = ImageRecord::read_file(&root.join(&file.path), &file.path);
        match read {
            Ok(record) => match record.from_another_run(run) {
                Some(why) => out.problems.push(format!("`{}` {why}", file.path)),
                None => out.records.push(record),
            },
            Err(e) => out.problems.push(format!("`{}` cannot be read: {e}", file.path)),
        }
    }
    out
}

/// The run of the artifact each image record came in, by bundle path: what `verify`
/// holds each record against ([`ImageRecord::from_another_run`]).
pub fn record_runs(tests: &TestEvidence) -> crate::evidence::images::rejudge::RecordRuns {
    let artifacts = tests.categories.iter().flat_map(|c| &c.artifacts);
    artifacts
        .filter_map(|a| a.run_id.map(|run| (run, a)))
        .flat_map(|(run, a)| a.files.iter().filter(|f| is_image_record(&f.path)).map(move |f| (f.path.clone(), run)))
        .collect()
}
