//! Recognises a report format from the content of a file.
//!
//! Only the content decides: artifact and file names are free text chosen by workflow
//! authors (`report.xml` may hold go test output, `results.json` a Ginkgo report). The
//! first [`SNIFF_BYTES`] are read, looked at, and handed back in front of the rest of
//! the stream, so nothing is read twice and nothing more is buffered.
//!
//! A text file whose head holds no `go test -json` event is read on as far as it
//! takes: `go test -json 2>&1` (and wrappers that print their own progress first) may
//! put any amount of tool output before the first event, and a report recognised only
//! from its first 64 KiB would be dropped as "not a report" behind a long preamble.
//! What is read past the head is spooled to an anonymous temporary file and replayed
//! from there, so memory stays bounded (one line of at most [`MAX_EVENT_LINE`] bytes
//! is held to test it) and the parser still sees the whole stream. Markup is not read
//! on (its root element is in the head), nor a file that opens as a JSON array.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, Write};

/// How much of a file is looked at to recognise it.
pub(crate) const SNIFF_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sniffed {
    /// Starts like XML; the JUnit parser decides from the root element. `declared` is
    /// true when it opens with `<?xml`, i.e. it claims to be XML even if broken.
    Xml {
        declared: bool,
    },
    GoTestJson,
    GinkgoJson,
    /// Nothing but whitespace.
    Empty,
    /// UTF-16 text (a byte order mark, or NUL bytes an XML reader reads as UTF-16) that
    /// opens as markup or JSON or holds a report marker: refused, never "not a report".
    Utf16,
    NotAReport,
}

/// A line past the head is tested as a `go test -json` event only up to this length;
/// a longer line that opens like an event (`{` … `"Action":` in its first bytes) counts
/// as one (`go test -json` events carrying huge output lines exist).
pub(crate) const MAX_EVENT_LINE: usize = 1024 * 1024;

/// What was read past the head while looking for the first event, replayed from a
/// temporary file (empty when nothing was read past the head).
pub(crate) struct Spool(Option<BufReader<File>>);

impl Read for Spool {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match &mut self.0 {
            Some(file) => file.read(out),
            None => Ok(0),
        }
    }
}

/// The sniffed head, then anything read past it, then the rest of the stream.
pub(crate) type Replayed<R> = io::Chain<io::Chain<Cursor<Vec<u8>>, Spool>, R>;

/// Reads the head of `reader`, recognises it (reading on through a preamble where a
/// text file may still turn out to be `go test -json`), and returns a reader that
/// yields the whole stream from its first byte.
pub(crate) fn sniff<R: Read>(reader: R) -> io::Result<(Sniffed, Replayed<R>)> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    let mut limited = reader.take(SNIFF_BYTES as u64);
    limited.read_to_end(&mut head)?;
    let mut reader = limited.into_inner();
    let mut sniffed = recognise(&head);
    let mut spool = Spool(None);
    if sniffed == Sniffed::NotAReport && head.len() == SNIFF_BYTES && may_have_preamble(&head) {
        let (found, spooled) = scan_past_head(&head, &mut reader)?;
        if found {
            sniffed = Sniffed::GoTestJson;
        }
        spool = spooled;
    }
    Ok((sniffed, Cursor::new(head).chain(spool).chain(reader)))
}

/// Whether a head that holds no report may be the preamble of a `go test -json`
/// stream: text that does not open as markup or a JSON array, and is not UTF-16.
fn may_have_preamble(head: &[u8]) -> bool {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return false;
    }
    let text = head.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(head);
    !matches!(text.iter().find(|b| !b.is_ascii_whitespace()), Some(b'<' | b'['))
}

/// Reads on past the head, a chunk at a time, until a line is a `go test -json` event
/// or the stream ends; everything read is written to the spool for the replay.
fn scan_past_head<R: Read>(head: &[u8], reader: &mut R) -> io::Result<(bool, Spool)> {
    let mut file = tempfile::tempfile()?;
    let mut line = LineProbe::default();
    // The head's last line may go on past it.
    line.push(head.rsplit(|&b| b == b'\n').next().unwrap_or(head));
    let mut chunk = vec![0u8; SNIFF_BYTES];
    let mut found = false;
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        file.write_all(&chunk[..n])?;
        let mut rest = &chunk[..n];
        while let Some(end) = memchr::memchr(b'\n', rest) {
            line.push(&rest[..end]);
            if line.is_event() {
                found = true;
            }
            line = LineProbe::default();
            rest = &rest[end + 1..];
        }
        line.push(rest);
        if found {
            break;
        }
    }
    found = found || line.is_event();
    file.flush()?;
    file.rewind()?;
    Ok((found, Spool(Some(BufReader::new(file)))))
}

/// One line past the head, kept only while it may be an event and at most
/// [`MAX_EVENT_LINE`] bytes of it.
#[derive(Default)]
struct LineProbe {
    bytes: Vec<u8>,
    /// Bytes of the line not kept.
    cut: bool,
}

impl LineProbe {
    fn push(&mut self, part: &[u8]) {
        let room = MAX_EVENT_LINE.saturating_sub(self.bytes.len());
        if part.len() > room {
            self.cut = true;
        }
        self.bytes.extend_from_slice(&part[..part.len().min(room)]);
    }

    fn is_event(&self) -> bool {
        let line = self.bytes.trim_ascii();
        if !line.starts_with(b"{") {
            return false;
        }
        if self.cut {
            let opening = &line[..line.len().min(256)];
            return memchr::memmem::find(opening, b"\"Action\":").is_some();
        }
        serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(line)
            .is_ok_and(|o| o.get("Action").is_some_and(|a| a.is_string()))
    }
}

fn recognise(head: &[u8]) -> Sniffed {
    if let Some(units) = utf16_units(head) {
        return if utf16_looks_like_a_report(&units) { Sniffed::Utf16 } else { Sniffed::NotAReport };
    }
    let text = head.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else { return Sniffed::Empty };
    let body = &text[start..];
    match body[0] {
        b'<' => Sniffed::Xml { declared: body.starts_with(b"<?xml") },
        b'[' if looks_like_ginkgo(body) => Sniffed::GinkgoJson,
        b'{' if looks_like_go_test_json(body) => Sniffed::GoTestJson,
        _ if has_go_test_json_line(body) => Sniffed::GoTestJson,
        _ => Sniffed::NotAReport,
    }
}

/// The head as UTF-16 code units, when it is UTF-16 text: a byte order mark, or (an XML
/// reader detects UTF-16 without one from its first `<`) a NUL byte beside a non-NUL one
/// in the first two bytes, which no UTF-8 text starts with. UTF-32 reads as UTF-16
/// with NUL units here, which is refused the same way.
fn utf16_units(head: &[u8]) -> Option<Vec<u16>> {
    let (little, body) = match head {
        [0xFF, 0xFE, rest @ ..] => (true, rest),
        [0xFE, 0xFF, rest @ ..] => (false, rest),
        [0, b, ..] if *b != 0 => (false, head),
        [b, 0, ..] if *b != 0 => (true, head),
        _ => return None,
    };
    let pair = |c: &[u8]| if little { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) };
    Some(body.chunks_exact(2).map(pair).collect())
}

/// UTF-16 text that opens as markup or JSON after any blank, or holds a report marker in
/// its head: a report release-audit cannot read, never "not a report".
fn utf16_looks_like_a_report(units: &[u16]) -> bool {
    let blank = |u: u16| u == 0 || u == 0xFEFF || u8::try_from(u).is_ok_and(|b| b.is_ascii_whitespace());
    let opens = units.iter().copied().find(|&u| !blank(u));
    if matches!(opens, Some(u) if u == u16::from(b'<') || u == u16::from(b'{') || u == u16::from(b'[')) {
        return true;
    }
    let text: String = char::decode_utf16(units.iter().copied().filter(|&u| u != 0))
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    ["<testsuite", "\"SpecReports\"", "\"Action\""].iter().any(|m| text.contains(m))
}

/// Ginkgo writes `[{"SuitePath": …, "SuiteDescription": …, …, "SpecReports": […]}]`.
fn looks_like_ginkgo(body: &[u8]) -> bool {
    let after_bracket = body[1..].iter().position(|b| !b.is_ascii_whitespace()).map(|i| body[1 + i]);
    after_bracket == Some(b'{')
        && [&b"\"SuitePath\""[..], b"\"SuiteDescription\"", b"\"SpecReports\""]
            .iter()
            .any(|key| memchr::memmem::find(body, key).is_some())
}

/// `go test -json` writes one event object a line: `{"Time":…,"Action":"run",…}`.
fn looks_like_go_test_json(body: &[u8]) -> bool {
    let first_line = body.split(|&b| b == b'\n').next().unwrap_or(body);
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(first_line) {
        Ok(object) => object.get("Action").is_some_and(|a| a.is_string()),
        // A first line longer than the sniffed head: judge by its opening keys.
        Err(_) if first_line.len() == body.len() => {
            let opening = &first_line[..first_line.len().min(256)];
            memchr::memmem::find(opening, b"\"Action\":").is_some()
        }
        Err(_) => has_go_test_json_line(body),
    }
}

/// `go test -json 2>&1` may start with compiler output before the first event.
fn has_go_test_json_line(body: &[u8]) -> bool {
    body.split(|&b| b == b'\n').any(|line| {
        let line = line.trim_ascii();
        line.starts_with(b"{")
            && serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(line)
                .is_ok_and(|o| o.get("Action").is_some_and(|a| a.is_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_from_content() {
        assert_eq!(recognise(b"<?xml version=\"1.0\"?><testsuites/>"), Sniffed::Xml { declared: true });
        assert_eq!(recognise(b"\xEF\xBB\xBF\n  <testsuite/>"), Sniffed::Xml { declared: false });
        assert_eq!(
            recognise(b"{\"Time\":\"2024-01-01T00:00:00Z\",\"Action\":\"start\",\"Package\":\"p\"}\n"),
            Sniffed::GoTestJson
        );
        assert_eq!(
            recognise(b"# example.com/p\n./a.go:3:1: syntax error\n{\"Action\":\"fail\",\"Package\":\"p\"}\n"),
            Sniffed::GoTestJson
        );
        assert_eq!(recognise(b"[\n  {\n    \"SuitePath\": \"/src\",\n"), Sniffed::GinkgoJson);
        assert_eq!(recognise(b" \n\t"), Sniffed::Empty);
        assert_eq!(recognise(b""), Sniffed::Empty);
        assert_eq!(recognise(b"\xFF\xFE<\0?\0x\0"), Sniffed::Utf16);
    }

    /// An XML reader reads UTF-16 without a byte order mark, and UTF-16 with blank lines
    /// before the root element: a failing JUnit report written so must not be "not a
    /// report" (it would be dropped while the category stays green on its other files).
    #[test]
    fn utf16_reports_without_a_bom_or_behind_blank_lines_are_recognised() {
        let xml =
            "<testsuites><testsuite name=\"s\"><testcase name=\"t\"><failure/></testcase></testsuite></testsuites>";
        let be: Vec<u8> = xml.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let le: Vec<u8> = xml.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let blank_le: Vec<u8> = "\n\n\n\n\n\n".encode_utf16().flat_map(u16::to_le_bytes).chain(le.clone()).collect();
        assert_eq!(recognise(&be), Sniffed::Utf16);
        assert_eq!(recognise(&le), Sniffed::Utf16);
        assert_eq!(recognise(&[&[0xFF, 0xFE][..], &blank_le].concat()), Sniffed::Utf16);
        let log: Vec<u8> = "tests: ok <testsuite> written".encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(recognise(&[&[0xFE, 0xFF][..], &log].concat()), Sniffed::Utf16);
        let plain: Vec<u8> = "all good\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(recognise(&[&[0xFF, 0xFE][..], &plain].concat()), Sniffed::NotAReport);
    }

    #[test]
    fn other_files_are_not_reports() {
        for other in [
            &b"\x89PNG\r\n\x1a\n\0\0"[..],
            b"mode: set\nexample.com/p/a.go:3.1,4.2 1 1\n",
            b"{\"name\": \"package\", \"version\": \"1.0.0\"}\n",
            b"[1, 2, 3]",
            b"2024-01-01 INFO starting\n",
        ] {
            assert_eq!(recognise(other), Sniffed::NotAReport, "{}", String::from_utf8_lossy(other));
        }
    }

    fn replayed(input: &[u8]) -> (Sniffed, Vec<u8>) {
        let (sniffed, mut reader) = sniff(input).unwrap();
        let mut all = Vec::new();
        reader.read_to_end(&mut all).unwrap();
        (sniffed, all)
    }

    #[test]
    fn a_long_preamble_before_the_first_event_is_read_through() {
        let mut input = Vec::new();
        while input.len() < 3 * SNIFF_BYTES + 17 {
            input.extend_from_slice(b"go: downloading example.com/some/module v1.2.3 (tool output before the tests)\n");
        }
        input.extend_from_slice(b"{\"Action\":\"start\",\"Package\":\"p\"}\n{\"Action\":\"fail\",\"Package\":\"p\"}\n");
        let (sniffed, all) = replayed(&input);
        assert_eq!(sniffed, Sniffed::GoTestJson);
        assert_eq!(all, input, "the whole stream is replayed, preamble included");
        // An event line that runs across a chunk boundary is still seen.
        let mut split = vec![b'x'; SNIFF_BYTES * 2 - 5];
        split.push(b'\n');
        split.extend_from_slice(b"{\"Action\":\"pass\",\"Package\":\"p\"}");
        assert_eq!(replayed(&split).0, Sniffed::GoTestJson);
    }

    #[test]
    fn a_long_log_without_events_stays_other_and_is_replayed_whole() {
        let mut input = Vec::new();
        while input.len() < 2 * SNIFF_BYTES + 3 {
            input.extend_from_slice(b"2024-01-01 INFO {\"level\":\"info\"} reconciling\n");
        }
        let (sniffed, all) = replayed(&input);
        assert_eq!(sniffed, Sniffed::NotAReport);
        assert_eq!(all, input);
        // Markup is decided from its head: never read on.
        let mut xml = b"<html>".to_vec();
        xml.resize(SNIFF_BYTES * 2, b' ');
        xml.extend_from_slice(b"\n{\"Action\":\"pass\"}\n");
        assert_eq!(replayed(&xml).0, Sniffed::Xml { declared: false });
    }
}
