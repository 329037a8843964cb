//! Safe extraction of report archives (placeholder until extraction lands).
