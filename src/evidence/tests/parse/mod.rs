//! Streaming parsers for test reports (placeholder until the parsers land).
