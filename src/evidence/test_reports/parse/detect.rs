//! Recognises a report format from the first bytes of a file.
//!
//! Only the content decides: artifact and file names are free text chosen by workflow
//! authors (`report.xml` may hold go test output, `results.json` a Ginkgo report). The
//! first [`SNIFF_BYTES`] are read, looked at, and handed back in front of the rest of
//! the stream, so nothing is read twice and nothing more is buffered.

use std::io::{self, Cursor, Read};

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
    /// A UTF-16 byte order mark in front of markup.
    Utf16,
    NotAReport,
}

/// The sniffed head followed by the rest of the stream.
pub(crate) type Replayed<R> = io::Chain<Cursor<Vec<u8>>, R>;

/// Reads the head of `reader`, recognises it, and returns a reader that yields the
/// whole stream from its first byte.
pub(crate) fn sniff<R: Read>(reader: R) -> io::Result<(Sniffed, Replayed<R>)> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    let mut limited = reader.take(SNIFF_BYTES as u64);
    limited.read_to_end(&mut head)?;
    let reader = limited.into_inner();
    let sniffed = recognise(&head);
    Ok((sniffed, Cursor::new(head).chain(reader)))
}

fn recognise(head: &[u8]) -> Sniffed {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return if head.len() > 2 && head[2..].iter().take(8).any(|&b| b == b'<') {
            Sniffed::Utf16
        } else {
            Sniffed::NotAReport
        };
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
}
