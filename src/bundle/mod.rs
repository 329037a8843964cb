//! The audit bundle: a directory of evidence with `manifest.json`, `manifest.yaml` and
//! `SHA256SUMS`, then one deterministic zip of it.
//!
//! The writer hashes every file as it writes it, so the manifest's file list is
//! computed, never assumed. The zip is reproducible: entries sorted by path, one fixed
//! time for every entry (from `SOURCE_DATE_EPOCH` or the commit), fixed permissions
//! and compression level. Same evidence in, same bytes out.
//!
//! `report.html` is rendered by the report layer ([`crate::report`]) and checked by
//! [`crate::verify`]; `bundle::html` and `bundle::verify` are kept as paths to them.

pub mod dir;
pub mod exact;
pub mod manifest;
pub mod records;
pub mod statement_files;
pub mod statements;
pub mod vsa;
mod writer;

pub use crate::report::html;
pub use crate::verify;
pub use dir::{BundleDir, check_path_segment, hash_file, marker_path, safe_relative_path, write_output_file};
pub(crate) use writer::list_entries;
pub use writer::{ZIP_EPOCH_FLOOR, ZippedBundle, zip_dir};
