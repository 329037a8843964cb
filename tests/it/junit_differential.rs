//! Our JUnit parser against an independent XML reader (roxmltree) on generated reports
//! and on every file of the JUnit fuzz corpus: where roxmltree reads a document, the
//! number of test cases and of failed, errored and skipped ones must agree, or our
//! parser must refuse the file as unparseable — never a different count.
//!
//! The generated reports put every kind of markup a reader has to skip (comments,
//! CDATA sections, processing instructions, character and entity references, `>` and
//! `/>` inside quoted attribute values, unknown and nested elements) in every position:
//! before the root, between and inside suites, inside test cases, failure messages and
//! test output. The markup holds traps (`</system-out>`, a whole failed `<testcase>`,
//! other markup's terminators) that a skipper resynchronising at the wrong place would
//! read as structure. A few generated files also go through `release-audit reports
//! --json`, as a user runs it.
//!
//! The reference counts by the JUnit rules that do not depend on a runner's dialect
//! (every `<testcase>` outside another one is a test; its outcome comes from its child
//! elements). Files whose counting depends on a runner's convention (a suite's declared
//! `tests=` that differs from its test cases — reruns, jest todo tests —, Ginkgo suite
//! nodes, pytest's teardown test case) are outside that model and are counted apart;
//! the corpus test requires that most files are compared.

use std::path::{Path, PathBuf};
use std::process::Command;

use release_audit::evidence::test_reports::parse::{FileOutcome, parse_reader};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    tests: u64,
    failed: u64,
    errored: u64,
    skipped: u64,
}

/// What the independent reader makes of a document.
#[derive(Debug, PartialEq, Eq)]
enum Reference {
    /// Well-formed, a JUnit root, counted.
    Junit(Counts),
    /// Well-formed XML whose root is not a JUnit one.
    OtherXml,
    /// Not well-formed (or not UTF-8): roxmltree refuses it; nothing to compare.
    Malformed,
    /// A runner-specific convention decides the count; not compared.
    OutsideModel(&'static str),
}

const GINKGO_NODES: &[&str] = &[
    "[BeforeSuite]",
    "[AfterSuite]",
    "[SynchronizedBeforeSuite]",
    "[SynchronizedAfterSuite]",
    "[ReportBeforeSuite]",
    "[ReportAfterSuite]",
    "[DeferCleanup (Suite)]",
];

fn reference(bytes: &[u8]) -> Reference {
    let Ok(text) = std::str::from_utf8(bytes) else { return Reference::Malformed };
    let options = roxmltree::ParsingOptions { allow_dtd: true, ..roxmltree::ParsingOptions::default() };
    let Ok(doc) = roxmltree::Document::parse_with_options(text, options) else { return Reference::Malformed };
    let root = doc.root_element();
    if !matches!(root.tag_name().name(), "testsuites" | "testsuite") {
        return Reference::OtherXml;
    }
    let mut counts = Counts::default();
    for case in root.descendants().filter(|n| is_test_case(n)) {
        let name = case.attribute("name").unwrap_or("");
        if name == "BeforeSuite" || name == "AfterSuite" || GINKGO_NODES.iter().any(|n| name.starts_with(n)) {
            return Reference::OutsideModel("a Ginkgo suite node");
        }
        let children: Vec<&str> = case.children().filter(|c| c.is_element()).map(|c| c.tag_name().name()).collect();
        let has = |n: &str| children.contains(&n);
        counts.tests += 1;
        if has("failure") {
            counts.failed += 1;
        } else if has("error") {
            let teardown = case.children().any(|c| {
                c.tag_name().name() == "error"
                    && c.attribute("message").is_some_and(|m| m.trim_start().starts_with("failed on teardown with"))
            });
            if teardown {
                return Reference::OutsideModel("pytest's teardown test case");
            }
            counts.errored += 1;
        } else if has("skipped") {
            counts.skipped += 1;
        } else if has("rerunFailure") || has("rerunError") {
            counts.failed += 1;
        }
    }
    for suite in root.descendants().filter(|n| is_suite(n)) {
        let held = suite.descendants().filter(|n| is_test_case(n)).count() as u64;
        if let Some(declared) = suite.attribute("tests").and_then(|t| t.trim().parse::<u64>().ok())
            && declared != held
        {
            return Reference::OutsideModel("a suite declares another number of tests than it holds");
        }
    }
    Reference::Junit(counts)
}

/// A `<testcase>` that is not inside another one (a nested one is not a test).
fn is_test_case(node: &roxmltree::Node<'_, '_>) -> bool {
    node.is_element()
        && node.tag_name().name() == "testcase"
        && !node.ancestors().skip(1).any(|a| a.is_element() && a.tag_name().name() == "testcase")
}

/// A `<testsuite>` that is not inside a test case.
fn is_suite(node: &roxmltree::Node<'_, '_>) -> bool {
    node.is_element()
        && node.tag_name().name() == "testsuite"
        && !node.ancestors().any(|a| a.is_element() && a.tag_name().name() == "testcase")
}

/// Compares our parser with the reference on one document; `Err` says how they differ.
/// `Ok(true)` when they were compared, `Ok(false)` when the reference had no count.
fn compare(bytes: &[u8]) -> Result<bool, String> {
    let ours = parse_reader(bytes);
    match (reference(bytes), ours) {
        (Reference::Junit(expected), FileOutcome::Parsed(report)) => {
            let t = report.totals;
            let got = Counts { tests: t.tests, failed: t.failed, errored: t.errored, skipped: t.skipped };
            if got == expected { Ok(true) } else { Err(format!("counted {got:?}, the XML reader {expected:?}")) }
        }
        (Reference::Junit(_), FileOutcome::Unparseable { .. }) => Ok(true),
        (Reference::Junit(expected), FileOutcome::NotAReport) => {
            Err(format!("not a report to us, a JUnit report with {expected:?} to the XML reader"))
        }
        (Reference::OtherXml, FileOutcome::Parsed(report)) => {
            Err(format!("parsed as JUnit ({:?}) though its root is not a JUnit root", report.totals))
        }
        (Reference::OtherXml, _) => Ok(true),
        (Reference::Malformed | Reference::OutsideModel(_), _) => Ok(false),
    }
}

/// A small deterministic generator (xorshift64*), so every run sees the same documents.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Text that an exact reader skips but a loose one may take for structure.
const TRAPS: &[&str] = &[
    "</system-out>",
    "</system-err>",
    "</testcase>",
    "<testcase name=\"ghost\"><failure message=\"ghost\"/></testcase>",
    "</testsuite><testsuite name=\"ghost\"><testcase name=\"ghost\"><error/></testcase>",
    "<!",
    "<?x",
    "<![CDATA[",
    "?>",
    "]]>",
    "->",
];

/// One piece of markup that carries no test: a comment, CDATA section, processing
/// instruction, reference, unknown element or plain text, with a trap inside.
fn filler(random: &mut Random, depth: u32) -> String {
    let trap = TRAPS[random.below(TRAPS.len() as u64) as usize];
    match random.below(9) {
        // A comment may not hold `--` nor end in `-`.
        0 => format!("<!-- {} -->", trap.replace("--", "- -").trim_end_matches('-')),
        1 => format!("<![CDATA[{}]]>", trap.replace("]]>", "]] >")),
        2 => format!("<?pi-{} {} ?>", random.below(10), trap.replace("?>", "? >")),
        3 => random
            .pick(&["&lt;/system-out&gt;", "&amp;", "&#60;!--", "&#x3C;/testcase>", "&quot;&apos;", " -> ?> "])
            .into(),
        4 if depth < 3 => {
            let inner: String = (0..random.below(3)).map(|_| filler(random, depth + 1)).collect();
            format!("<extra a=\"{}\" b='-->'>{inner}</extra>", attribute_text(random))
        }
        5 => format!("<extra c=\"{}\"/>", attribute_text(random)),
        6 if depth < 2 => {
            let inner: String = (0..random.below(3)).map(|_| filler(random, depth + 1)).collect();
            format!("<system-out>{inner}</system-out>")
        }
        7 => "\n  \t".into(),
        _ => format!("text {} more", random.pick(&["a > b", "x -> y", "why?>", "&lt;failure/&gt;"])),
    }
}

/// An attribute value with markup characters that are legal there.
fn attribute_text(random: &mut Random) -> String {
    random
        .pick(&["-->", "?>", "]]>", "/>", "a > b", "&lt;/system-out&gt;", "'single'", "&quot;", "x&#62;y", ""])
        .to_string()
}

fn fillers(random: &mut Random, percent: u64) -> String {
    let mut out = String::new();
    while random.chance(percent) {
        out.push_str(&filler(random, 0));
    }
    out
}

struct Generated {
    xml: String,
    counts: Counts,
}

fn test_case(random: &mut Random, serial: &mut u64, counts: &mut Counts) -> String {
    *serial += 1;
    let mut xml = format!(
        "<testcase classname=\"pkg{}\" name=\"Test{serial} {}\" time=\"0.{}\"{}>",
        random.below(3),
        attribute_text(random),
        1 + random.below(9),
        random.pick(&["", " file=\"a>b.go\"", " extra='/>'"]),
    );
    xml.push_str(&fillers(random, 30));
    counts.tests += 1;
    match random.below(10) {
        0..=1 => {
            counts.failed += 1;
            let message = attribute_text(random);
            let body = fillers(random, 50);
            xml.push_str(&format!("<failure message=\"{message}\" type=\"assert\">want 1 &lt; 2{body}</failure>"));
        }
        2 => {
            counts.errored += 1;
            xml.push_str(&format!("<error message=\"panic\">{}</error>", fillers(random, 50)));
        }
        3 => {
            counts.skipped += 1;
            xml.push_str(&format!("<skipped message=\"{}\"/>", attribute_text(random)));
        }
        4 => {
            counts.failed += 1;
            xml.push_str("<failure/><rerunFailure message=\"again\"/>");
        }
        _ => {}
    }
    for element in ["system-out", "system-err"] {
        if random.chance(50) {
            let body = fillers(random, 70);
            xml.push_str(&format!("<{element}>{body}log line {}</{element}>", random.pick(&["-> done", "a > b", ""])));
        }
    }
    xml.push_str(&fillers(random, 20));
    xml.push_str("</testcase>");
    xml
}

fn suite(random: &mut Random, depth: u32, serial: &mut u64, counts: &mut Counts) -> String {
    let mut own = Counts::default();
    let mut body = String::new();
    if random.chance(30) {
        body.push_str("<properties><property name=\"go.version\" value=\"go1.22 > 1.21\"/></properties>");
    }
    for _ in 0..random.below(6) {
        body.push_str(&fillers(random, 30));
        if depth < 2 && random.chance(20) {
            body.push_str(&suite(random, depth + 1, serial, &mut own));
        } else {
            body.push_str(&test_case(random, serial, &mut own));
        }
    }
    body.push_str(&fillers(random, 30));
    let declared = if random.chance(50) {
        format!(
            " tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\"",
            own.tests, own.failed, own.errored, own.skipped
        )
    } else {
        String::new()
    };
    counts.tests += own.tests;
    counts.failed += own.failed;
    counts.errored += own.errored;
    counts.skipped += own.skipped;
    format!("<testsuite name=\"suite {}\"{declared}>{body}</testsuite>", attribute_text(random))
}

fn document(seed: u64) -> Generated {
    let mut random = Random(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut counts = Counts::default();
    let mut serial = 0;
    let mut xml = String::new();
    if random.chance(60) {
        xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    }
    // Before the root only comments, processing instructions and white space may stand.
    while random.chance(30) {
        match random.below(2) {
            0 => xml.push_str("<!-- <testsuite> ?> ]]> -->\n"),
            _ => xml.push_str("<?pi <!-- <testsuite name=\"ghost\"> ?>\n"),
        }
    }
    if random.chance(70) {
        let mut body = String::new();
        for _ in 0..random.below(4) {
            body.push_str(&fillers(&mut random, 30));
            body.push_str(&suite(&mut random, 0, &mut serial, &mut counts));
        }
        body.push_str(&fillers(&mut random, 30));
        xml.push_str(&format!("<testsuites name=\"all\">{body}</testsuites>"));
    } else {
        xml.push_str(&suite(&mut random, 0, &mut serial, &mut counts));
    }
    if random.chance(30) {
        xml.push_str("<!-- <testcase name=\"after\"><failure/></testcase> --><?pi ?>\n");
    }
    Generated { xml, counts }
}

#[test]
fn generated_reports_count_the_same_as_an_independent_xml_reader() {
    let mut compared = 0;
    let mut failing_tests = 0;
    for seed in 0..3000 {
        let generated = document(seed);
        // The generator knows its counts; the XML reader must agree with it first.
        assert_eq!(
            reference(generated.xml.as_bytes()),
            Reference::Junit(generated.counts),
            "seed {seed}: the generator wrote a document the XML reader reads otherwise:\n{}",
            generated.xml
        );
        match parse_reader(generated.xml.as_bytes()) {
            FileOutcome::Parsed(report) => {
                let t = report.totals;
                let got = Counts { tests: t.tests, failed: t.failed, errored: t.errored, skipped: t.skipped };
                assert_eq!(got, generated.counts, "seed {seed}:\n{}", generated.xml);
                compared += 1;
                failing_tests += t.failed + t.errored;
            }
            other => panic!("seed {seed}: a well-formed report is refused: {other:?}\n{}", generated.xml),
        }
    }
    assert_eq!(compared, 3000);
    assert!(failing_tests > 1000, "the generator must write failed tests: {failing_tests}");
}

#[test]
fn every_junit_fuzz_corpus_file_counts_the_same_as_an_independent_xml_reader_or_is_refused() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/junit");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{} is missing ({e})", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let (mut compared, mut malformed, mut outside) = (0, 0, 0);
    let mut differences = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        match compare(&bytes) {
            Ok(true) => compared += 1,
            Ok(false) if reference(&bytes) == Reference::Malformed => malformed += 1,
            Ok(false) => outside += 1,
            Err(difference) => differences.push(format!("{}: {difference}", file.display())),
        }
    }
    assert!(differences.is_empty(), "{} corpus files differ:\n{}", differences.len(), differences.join("\n"));
    // Most of the corpus is minimized fuzzer output that no XML reader accepts; the
    // well-formed rest is compared unless a runner's convention decides its count.
    eprintln!("{} corpus files: {compared} compared, {malformed} malformed, {outside} outside the model", files.len());
    assert!(files.len() > 1000, "the JUnit corpus has {} files", files.len());
    assert!(compared > outside, "{compared} compared, {outside} outside the model");
}

#[test]
fn every_real_junit_fixture_counts_the_same_as_an_independent_xml_reader() {
    fn xml_files(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                xml_files(&path, found);
            } else if path.extension().is_some_and(|e| e == "xml") {
                found.push(path);
            }
        }
    }
    let mut files = Vec::new();
    xml_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports"), &mut files);
    files.sort();
    let mut compared = 0;
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert_ne!(reference(&bytes), Reference::Malformed, "{}", file.display());
        match compare(&bytes) {
            Ok(true) => compared += 1,
            Ok(false) => {}
            Err(difference) => panic!("{}: {difference}", file.display()),
        }
    }
    assert!(files.len() >= 15 && compared >= 8, "{} fixtures, {compared} compared", files.len());
}

#[test]
fn generated_reports_through_the_binary_count_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let mut expected = Counts::default();
    let mut paths = Vec::new();
    // Seeds whose documents have failed tests behind skippable markup.
    for seed in (0..200).filter(|s| document(*s).counts.failed > 0).take(6) {
        let generated = document(seed);
        let path = dir.path().join(format!("junit-{seed}.xml"));
        std::fs::write(&path, &generated.xml).unwrap();
        expected.tests += generated.counts.tests;
        expected.failed += generated.counts.failed;
        expected.errored += generated.counts.errored;
        expected.skipped += generated.counts.skipped;
        paths.push(path);
    }
    assert_eq!(paths.len(), 6);
    let output = Command::new(env!("CARGO_BIN_EXE_release-audit"))
        .arg("reports")
        .arg("--json")
        .args(&paths)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("the binary runs");
    let out = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "failed tests fail the command: {out}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["passed"], false);
    assert_eq!(json["reports"], 6, "{out}");
    let totals = &json["totals"];
    let got = Counts {
        tests: totals["tests"].as_u64().unwrap(),
        failed: totals["failed"].as_u64().unwrap(),
        errored: totals["errored"].as_u64().unwrap(),
        skipped: totals["skipped"].as_u64().unwrap(),
    };
    assert_eq!(got, expected, "{out}");
    assert!(!out.contains("ghost"), "a test case inside skippable markup was read: {out}");
}

#[test]
fn a_test_case_inside_suite_level_output_is_never_skipped_silently() {
    // An XML reader counts the failed test case inside the suite's <system-out>.
    let xml = r#"<testsuite name="s"><testcase name="a"/><system-out>log <testcase name="b"><failure/></testcase></system-out></testsuite>"#;
    assert_eq!(reference(xml.as_bytes()), Reference::Junit(Counts { tests: 2, failed: 1, ..Counts::default() }));
    assert_eq!(compare(xml.as_bytes()), Ok(true));
    assert!(matches!(parse_reader(xml.as_bytes()), FileOutcome::Unparseable { .. }), "refused, not skipped");
}
