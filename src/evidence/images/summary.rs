//! Forwards to the report layer, where the image evidence's renderers live now
//! ([`crate::report::images`]). Kept only so `ImageEvidence::summary_markdown` and
//! `html` keep working; remove with those methods (and `mod summary;`) once their
//! callers use `report::images` directly.

pub use crate::report::images::{html, markdown};
