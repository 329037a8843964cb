//! What a file found in a report artifact counts as: the rule that no report is dropped.
//!
//! A report artifact is what a category's pattern matched, so every file in it is read.
//! [`super::parse::parse_file`] says whether a file is a report it can read; this module adds
//! the artifact's rule for the files it calls "not a report", by content class (never by
//! file name — names are chosen by workflow authors):
//!
//! - **Markup** (the first non-blank byte, after a UTF-8 byte order mark, is `<`) must be
//!   a JUnit report. XML or HTML whose root element is not `<testsuites>`/`<testsuite>`
//!   is [`FileOutcome::Unparseable`]: a failing `junit.xml` with a broken root element is
//!   exactly such a file, and must not leave its category green on the other files.
//! - **JSON** (the first non-blank byte is `{` or `[`) must be a `go test -json` stream
//!   or a Ginkgo report; any other JSON document (or JSON-lines log) is unparseable, for
//!   the same reason — except evidence release-audit itself defines for the test jobs to
//!   upload beside their reports: an image record (`record-image`, an object whose `kind`
//!   is one of [`OTHER_EVIDENCE_KINDS`], at most [`MAX_OTHER_EVIDENCE_BYTES`], holding no
//!   report marker), which the image stage reads and checks.
//! - **UTF-16** text (a byte order mark, or the NUL bytes by which an XML reader knows
//!   UTF-16 without one) that opens as markup or JSON, or holds a report marker, is
//!   unparseable ([`super::parse::parse_file`] says so): only UTF-8 is read.
//! - **Everything else** may be other content and stays [`FileOutcome::NotAReport`]: logs
//!   and console output (plain text in which no `go test -json` event occurs anywhere —
//!   recognition reads through any preamble), screenshots and other binary files,
//!   coverage profiles. They are listed in the bundle with their hash, never counted —
//!   unless a report may be inside. A compressed file or archive (gzip, bzip2, xz, zstd,
//!   zip, 7z) is not opened, so a report inside would not be counted: it is unparseable.
//!   And a file that holds a JUnit `<testsuite` element or a
//!   Ginkgo `"SpecReports"` key anywhere ([`REPORT_MARKERS`]) but does not open as one
//!   (a line of text put in front of a failing `junit.xml`) is unparseable, not other.
//!
//! What the first users upload fits this: kyma-project/telemetry-manager's report
//! artifacts (`pr-e2e-*-report`, `gardener-*-report`, `pr-e2e-upgrade-report`) hold only
//! `gotestsum --junitfile junit-report-<id>.xml` files. Other XML or JSON (coverage in
//! Cobertura XML, HTML reports, structured logs) belongs in an artifact that no category
//! pattern matches; in a report artifact it fails the category, with the reason named.
//!
//! The rule is a pure function of the file's bytes, so `verify` re-derives it from the
//! bundle: it must read report files through [`read_artifact_file`], as collection does.

use std::io::Read;
use std::path::Path;

use super::parse::{FileOutcome, parse_file};

/// Byte strings that only a test report holds; a file that holds one is a report,
/// however it starts.
pub const REPORT_MARKERS: [&[u8]; 2] = [b"<testsuite", b"\"SpecReports\""];

/// `kind` values of JSON evidence release-audit defines for test jobs to upload with
/// their reports (the image record of `record-image`, `evidence::images::record::KIND`).
pub const OTHER_EVIDENCE_KINDS: [&str; 1] = ["release-audit/image-record"];

/// The largest such evidence file read to see its `kind` (an image record's own bound,
/// `evidence::images::record::MAX_RECORD_BYTES`; a unit test keeps them equal).
pub const MAX_OTHER_EVIDENCE_BYTES: u64 = 8 << 20;

/// The class of a file's content, from its first non-blank byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentClass {
    /// Opens with `<`: XML or HTML.
    Markup,
    /// Opens with `{` or `[`.
    Json,
    /// Anything else: text, binary, or nothing but whitespace.
    Other,
}

/// Reads one file of a report artifact: a report, an unparseable file, or other content
/// under the rule in this module's docs.
pub fn read_artifact_file(path: &Path) -> FileOutcome {
    let outcome = parse_file(path);
    if !matches!(outcome, FileOutcome::NotAReport) {
        return outcome;
    }
    match content_class(path) {
        Ok(ContentClass::Other) if is_compressed(path) => FileOutcome::unparseable(
            None,
            "a compressed file or archive (gzip, bzip2, xz, zstd, zip, 7z) is not opened, so a report inside it would not be counted: upload reports uncompressed",
        ),
        Ok(ContentClass::Other) => match holds_report_marker(path) {
            Ok(false) => FileOutcome::NotAReport,
            Ok(true) => FileOutcome::unparseable(
                None,
                "holds a test report (a JUnit <testsuite> element or a Ginkgo report) but does not start as one: a report with something put in front of it is not read",
            ),
            Err(e) => FileOutcome::unparseable(None, format!("cannot read the file: {e}")),
        },
        Ok(ContentClass::Markup) => FileOutcome::unparseable(
            None,
            "markup whose root element is not <testsuites> or <testsuite>: every XML or HTML file in a report artifact must be a JUnit report (keep other markup in an artifact no category pattern matches)",
        ),
        Ok(ContentClass::Json) if is_other_evidence(path) => FileOutcome::NotAReport,
        Ok(ContentClass::Json) => FileOutcome::unparseable(
            None,
            "JSON that is neither go test -json events nor a Ginkgo report: every JSON file in a report artifact must be a report (keep other JSON in an artifact no category pattern matches)",
        ),
        Err(e) => FileOutcome::unparseable(None, format!("cannot read the file: {e}")),
    }
}

/// A JSON object whose `kind` is one of [`OTHER_EVIDENCE_KINDS`], within the size bound,
/// with no report marker inside.
fn is_other_evidence(path: &Path) -> bool {
    #[derive(serde::Deserialize)]
    struct Kind {
        kind: Option<String>,
    }
    let Ok(meta) = std::fs::metadata(path) else { return false };
    if meta.len() > MAX_OTHER_EVIDENCE_BYTES || !matches!(holds_report_marker(path), Ok(false)) {
        return false;
    }
    let Ok(bytes) = std::fs::read(path) else { return false };
    serde_json::from_slice::<Kind>(&bytes)
        .ok()
        .and_then(|k| k.kind)
        .is_some_and(|kind| OTHER_EVIDENCE_KINDS.contains(&kind.as_str()))
}

/// Magic numbers of compressed files and archives a report could be hidden in.
const COMPRESSED_MAGIC: [&[u8]; 7] = [
    b"\x1f\x8b",           // gzip
    b"BZh",                // bzip2
    b"\xfd7zXZ\x00",       // xz
    b"\x28\xb5\x2f\xfd",   // zstd
    b"PK\x03\x04",         // zip
    b"PK\x05\x06",         // an empty zip
    b"7z\xbc\xaf\x27\x1c", // 7z
];

/// Whether the file opens with one of [`COMPRESSED_MAGIC`].
fn is_compressed(path: &Path) -> bool {
    let mut head = [0u8; 8];
    let Ok(mut file) = std::fs::File::open(path) else { return false };
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
    COMPRESSED_MAGIC.iter().any(|m| head[..filled].starts_with(m))
}

/// The content class of a file: reads until its first non-blank byte, a chunk at a time.
pub fn content_class(path: &Path) -> std::io::Result<ContentClass> {
    let mut file = std::fs::File::open(path)?;
    let mut chunk = [0u8; 8192];
    let mut first_chunk = true;
    loop {
        let n = match file.read(&mut chunk) {
            Ok(0) => return Ok(ContentClass::Other),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut bytes = &chunk[..n];
        if first_chunk {
            bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(bytes);
            first_chunk = false;
        }
        if let Some(b) = bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            return Ok(classify_byte(*b));
        }
    }
}

/// Whether any of [`REPORT_MARKERS`] occurs in the file: read a chunk at a time, with
/// the tail of each chunk kept so that a marker across two chunks is found.
fn holds_report_marker(path: &Path) -> std::io::Result<bool> {
    const CHUNK: usize = 256 * 1024;
    let keep = REPORT_MARKERS.iter().map(|m| m.len()).max().unwrap_or(0) - 1;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; keep + CHUNK];
    let mut carried = 0;
    loop {
        let n = match file.read(&mut buf[carried..]) {
            Ok(0) => return Ok(false),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let filled = carried + n;
        if REPORT_MARKERS.iter().any(|m| memchr::memmem::find(&buf[..filled], m).is_some()) {
            return Ok(true);
        }
        carried = keep.min(filled);
        buf.copy_within(filled - carried..filled, 0);
    }
}

fn classify_byte(b: u8) -> ContentClass {
    match b {
        b'<' => ContentClass::Markup,
        b'{' | b'[' => ContentClass::Json,
        _ => ContentClass::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome_of(bytes: &[u8]) -> FileOutcome {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, bytes).unwrap();
        read_artifact_file(&path)
    }

    #[test]
    fn structured_files_that_are_not_reports_are_unparseable() {
        for structured in [
            &b"<?xml version=\"1.0\"?>\n<testsuitez><testcase name=\"t\"><failure/></testcase></testsuitez>"[..],
            b"\xEF\xBB\xBF  <html><body>report</body></html>",
            b"<coverage line-rate=\"1\"/>",
            b"[go test] results follow\n<testsuites><testsuite name=\"s\"><testcase name=\"t\"><failure/></testcase></testsuite></testsuites>",
            b"{\"name\": \"package\", \"version\": \"1.0.0\"}\n",
            b"[1, 2, 3]",
            b"{\"level\":\"info\",\"msg\":\"reconciled\"}\n{\"level\":\"error\",\"msg\":\"x\"}\n",
        ] {
            assert!(
                matches!(outcome_of(structured), FileOutcome::Unparseable { .. }),
                "{}",
                String::from_utf8_lossy(structured)
            );
        }
    }

    /// The image record `record-image` writes, uploaded with the reports as documented,
    /// is image evidence, not a broken report; the same `kind` around a report is not.
    #[test]
    fn an_image_record_beside_the_reports_is_other_evidence() {
        assert_eq!(OTHER_EVIDENCE_KINDS, [crate::evidence::images::record::KIND]);
        assert_eq!(MAX_OTHER_EVIDENCE_BYTES, crate::evidence::images::record::MAX_RECORD_BYTES);
        let record = br#"{"kind":"release-audit/image-record","version":1,"images":[]}"#;
        assert!(matches!(outcome_of(record), FileOutcome::NotAReport));
        let smuggled = br#"{"kind":"release-audit/image-record","x":"<testsuite name=\"s\"><testcase name=\"t\"><failure/></testcase></testsuite>"}"#;
        assert!(matches!(outcome_of(smuggled), FileOutcome::Unparseable { .. }));
        let other_kind = br#"{"kind":"something-else"}"#;
        assert!(matches!(outcome_of(other_kind), FileOutcome::Unparseable { .. }));
    }

    /// A failing report gzipped (or zipped) inside an artifact is not opened, so it is
    /// no "other" file: it would hide a failure (found by a red-team review).
    #[test]
    fn compressed_files_are_unparseable() {
        for compressed in [&b"\x1f\x8b\x08\x00\x00\x00"[..], b"PK\x03\x04\x14\x00", b"BZh91AY", b"\x28\xb5\x2f\xfd\x00"]
        {
            assert!(matches!(outcome_of(compressed), FileOutcome::Unparseable { .. }), "{compressed:?}");
        }
    }

    #[test]
    fn logs_and_binary_files_stay_other() {
        for other in [
            &b"\x89PNG\r\n\x1a\n\0\0"[..],
            b"mode: set\nexample.com/p/a.go:3.1,4.2 1 1\n",
            b"2024-01-01 INFO starting\n",
        ] {
            assert_eq!(outcome_of(other), FileOutcome::NotAReport, "{}", String::from_utf8_lossy(other));
        }
    }

    #[test]
    fn a_marker_across_read_chunks_is_found() {
        let mut text = vec![b'x'; 256 * 1024 - 4];
        text.extend_from_slice(b"<testsuite name=\"s\">");
        assert!(matches!(outcome_of(&text), FileOutcome::Unparseable { .. }));
        let mut log = vec![b'x'; 600 * 1024];
        log.extend_from_slice(b"\nall tests passed\n");
        assert_eq!(outcome_of(&log), FileOutcome::NotAReport);
    }

    #[test]
    fn reports_are_read_as_reports() {
        let junit = b"<testsuites><testsuite name=\"s\" tests=\"1\"><testcase name=\"t\"/></testsuite></testsuites>";
        assert!(matches!(outcome_of(junit), FileOutcome::Parsed(_)));
        // An empty file is a runner that stopped before writing its report: unparseable.
        assert!(matches!(outcome_of(b" \n"), FileOutcome::Unparseable { .. }));
    }
}
