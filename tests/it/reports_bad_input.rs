//! Hostile and broken report files: each is either clearly unparseable or clearly not
//! a report, fast and with bounded reads — never a crash, a hang, unbounded memory, or
//! a "passed" count.

use std::io::{self, Read, Write};

use release_audit::evidence::test_reports::parse::{FileOutcome, ReportFormat, Totals, parse_file, parse_reader};

fn unparseable(outcome: FileOutcome) -> (Option<ReportFormat>, String) {
    match outcome {
        FileOutcome::Unparseable { format, reason } => (format, reason),
        other => panic!("expected unparseable, got {other:?}"),
    }
}

fn parse_bytes(bytes: &[u8]) -> FileOutcome {
    parse_reader(bytes)
}

#[test]
fn malformed_xml_is_unparseable_with_its_position() {
    let (format, reason) = unparseable(parse_bytes(
        b"<?xml version=\"1.0\"?>\n<testsuite name=\"a\" tests=\"1\">\n<testcase name=\"x\"></testsuit>\n",
    ));
    assert_eq!(format, Some(ReportFormat::Junit));
    assert!(reason.starts_with("malformed XML near byte"), "{reason}");
    let (_, reason) = unparseable(parse_bytes(b"<?xml version=\"1.0\"?>\n<testsuite><testcase name=\"x\"/>"));
    assert!(reason.contains("truncated"), "{reason}");
}

#[test]
fn a_truncated_go_test_stream_never_counts_the_cut_tests_as_passed() {
    let stream = concat!(
        r#"{"Action":"start","Package":"example.com/p"}"#,
        "\n",
        r#"{"Action":"run","Package":"example.com/p","Test":"TestOne"}"#,
        "\n",
        r#"{"Action":"pass","Package":"example.com/p","Test":"TestOne","Elapsed":0.1}"#,
        "\n",
        r#"{"Action":"run","Package":"example.com/p","Test":"TestTwo"}"#,
        "\n",
        r#"{"Action":"output","Package":"example.com/p","Test":"TestTwo","Output":"still waiting\n"}"#,
        "\n",
        r#"{"Action":"pa"#,
    );
    let FileOutcome::Parsed(report) = parse_bytes(stream.as_bytes()) else { panic!("a truncated stream still parses") };
    assert_eq!(report.totals, Totals { tests: 2, passed: 1, errored: 1, ..Default::default() });
    assert_eq!(report.failures[0].name, "TestTwo");
    assert!(report.notes.iter().any(|n| n.contains("truncated")), "{:?}", report.notes);
}

#[test]
fn billion_laughs_is_refused_without_expansion() {
    let mut doc = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE testsuite [\n <!ENTITY lol \"lol\">\n");
    doc.push_str(" <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n");
    for i in 2..=9 {
        let prev = format!("&lol{};", i - 1).repeat(10);
        doc.push_str(&format!(" <!ENTITY lol{i} \"{prev}\">\n"));
    }
    doc.push_str("]>\n<testsuite name=\"&lol9;\"><testcase name=\"&lol9;\"/></testsuite>\n");
    let (format, reason) = unparseable(parse_bytes(doc.as_bytes()));
    assert_eq!(format, None);
    assert!(reason.contains("declares entities"), "{reason}");
}

#[test]
fn an_external_entity_is_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "TOP-SECRET-CANARY").unwrap();
    let doc = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE testsuite [<!ENTITY xxe SYSTEM \"file://{}\">]>\n<testsuite name=\"s\"><testcase name=\"t\"><failure message=\"&xxe;\">&xxe;</failure></testcase></testsuite>\n",
        secret.display()
    );
    let report = dir.path().join("report.xml");
    std::fs::write(&report, doc).unwrap();
    let outcome = parse_file(&report);
    assert!(!format!("{outcome:?}").contains("TOP-SECRET-CANARY"));
    let (_, reason) = unparseable(outcome);
    assert!(reason.contains("external DTD") || reason.contains("entities"), "{reason}");
}

/// Counts what the parser pulls from a generated stream, to show it stops early.
struct Counting<R> {
    inner: R,
    read: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

const GIB: u64 = 1024 * 1024 * 1024;

/// A 1 GiB single line behind `prefix`, generated as it is read.
fn one_gib_line(prefix: &str) -> (FileOutcome, u64) {
    let read = std::rc::Rc::new(std::cell::Cell::new(0));
    let source = io::Cursor::new(prefix.as_bytes().to_vec()).chain(io::repeat(b'a').take(GIB));
    let outcome = parse_reader(Counting { inner: source, read: read.clone() });
    (outcome, read.get())
}

#[test]
fn a_one_gib_single_line_is_refused_after_the_token_bound_in_every_format() {
    for (prefix, format, expected) in [
        // The root tag itself never ends, so it is not known to be JUnit yet.
        ("<?xml version=\"1.0\"?><testsuite name=\"", None, "longer than 16 MiB"),
        ("<testsuites><testsuite><testcase name=\"t\"><failure>", Some(ReportFormat::Junit), "longer than 16 MiB"),
        (
            "{\"Time\":\"2024-01-01T00:00:00Z\",\"Action\":\"output\",\"Package\":\"p\",\"Output\":\"",
            Some(ReportFormat::GoTestJson),
            "line 1 is longer than 16 MiB",
        ),
        ("[{\"SuitePath\":\"/src\",\"SuiteDescription\":\"", Some(ReportFormat::GinkgoJson), "longer than 16 MiB"),
    ] {
        let (outcome, read) = one_gib_line(prefix);
        let (got, reason) = unparseable(outcome);
        assert_eq!(got, format, "{prefix}");
        assert!(reason.contains(expected), "{prefix}: {reason}");
        assert!(read < 64 * 1024 * 1024, "{prefix}: read {read} bytes of the 1 GiB line");
    }
    // Plain text is read through to its end, looking for a `go test -json` event after
    // any preamble (a long one is normal), and is no report when none comes.
    let (outcome, read) = one_gib_line("2024-05-01 INFO ");
    assert_eq!(outcome, FileOutcome::NotAReport);
    assert_eq!(read, GIB + 16, "read {read}");
}

#[test]
fn a_sparse_one_gib_file_is_refused_without_reading_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.xml");
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(b"<?xml version=\"1.0\"?>\n<testsuites><testsuite name=\"s\">").unwrap();
    file.set_len(GIB).unwrap();
    drop(file);
    let (format, reason) = unparseable(parse_file(&path));
    assert_eq!(format, Some(ReportFormat::Junit));
    assert!(reason.contains("longer than 16 MiB"), "{reason}");
}

#[test]
fn invalid_utf8_is_unparseable_in_xml_and_json() {
    let (format, reason) = unparseable(parse_bytes(b"<testsuite name=\"s\"><testcase name=\"caf\xE9\"/></testsuite>"));
    assert_eq!(format, Some(ReportFormat::Junit));
    assert!(reason.contains("invalid UTF-8"), "{reason}");
    let (_, reason) = unparseable(parse_bytes(
        b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><testsuite><testcase name=\"caf\xE9\"/></testsuite>",
    ));
    assert!(reason.contains("declares encoding `iso-8859-1`"), "{reason}");
    let stream = b"{\"Action\":\"start\",\"Package\":\"p\"}\n{\"Action\":\"output\",\"Package\":\"p\",\"Output\":\"\xFF\xFE\"}\n";
    let (format, reason) = unparseable(parse_bytes(stream));
    assert_eq!(format, Some(ReportFormat::GoTestJson));
    assert!(reason.contains("line 2 is not valid UTF-8"), "{reason}");
}

#[test]
fn an_empty_file_is_unparseable_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    std::fs::write(&path, "").unwrap();
    let (format, reason) = unparseable(parse_file(&path));
    assert_eq!(format, None);
    assert!(reason.contains("empty"), "{reason}");
    let (_, reason) = unparseable(parse_bytes(b"  \n\n"));
    assert!(reason.contains("empty"), "{reason}");
}

#[test]
fn other_files_are_not_reports_whatever_their_name() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in [
        ("junit.xml", &b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..]),
        ("coverage.out", b"mode: atomic\nexample.com/p/a.go:3.10,5.2 1 1\n"),
        ("report.xml", b"<?xml version=\"1.0\"?><project><modelVersion>4.0.0</modelVersion></project>"),
        ("results.json", b"{\"numFailedTests\": 0}"),
        ("test.log", b"=== RUN TestX\n--- PASS: TestX\n"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        assert_eq!(parse_file(&path), FileOutcome::NotAReport, "{name}");
    }
    assert!(matches!(parse_file(dir.path()), FileOutcome::Unparseable { .. }), "a directory is not read as a file");
}
