//! The audit bundle: a directory of evidence with `manifest.json`, `manifest.yaml` and
//! `SHA256SUMS`, then one deterministic zip of it.
//!
//! The writer hashes every file as it writes it, so the manifest's file list is
//! computed, never assumed. The zip is reproducible: entries sorted by path, one fixed
//! time for every entry (from `SOURCE_DATE_EPOCH` or the commit), fixed permissions
//! and compression level. Same evidence in, same bytes out.

pub mod dir;
pub mod html;
pub mod manifest;
pub mod statements;
pub mod verify;
mod writer;

pub use dir::{BundleDir, check_path_segment, hash_file, marker_path, safe_relative_path, write_output_file};
pub use writer::{ZIP_EPOCH_FLOOR, ZippedBundle, zip_dir};
