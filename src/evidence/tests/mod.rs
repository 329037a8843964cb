//! Test evidence: report artifacts collected from workflow runs, extracted safely,
//! parsed, and judged per category.

pub mod extract;
pub mod parse;
