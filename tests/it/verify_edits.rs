//! The property at the heart of `verify` (issue 18): for a bundle the tool writes, every
//! single edit of a value — every leaf of `manifest.json`, `changes/*.json`,
//! `images/*.json`, `statements/*.intoto.json` and the image record among the reports, every value of every report
//! file that changes what the parser derives from it (each XML attribute and text, each
//! leaf of each JSON line), every line of `summary.md` and of `report.html` — with `SHA256SUMS`, the manifest's file hashes,
//! the report files' recorded hashes and `manifest.yaml` fixed up to match, makes
//! `verify` fail, unless the field is one `verify::INFORMATIONAL` lists.
//!
//! The edits are generated from the files' own structure (every JSON leaf: strings get a
//! changed character or become null, numbers +1, bools flipped, nulls set, array
//! elements removed and duplicated; every line of a text file), never from a list. The
//! bundle is written by the real binary (test evidence with a failed test and an earlier
//! workflow attempt's report, an image pair
//! with a test job's image record, a change trail); the edits run in this process
//! against the library's `verify_dir`, so thousands of them take seconds.

use release_audit_test_support::copy_dir;
use std::path::{Path, PathBuf};
use std::process::Command;

use release_audit::bundle::manifest::Manifest;
use release_audit::evidence::test_reports::parse::parse_file;
use release_audit::verify::{INFORMATIONAL, expected_reports, expected_statements, verify_dir};
use release_audit_test_support::step::RUN_ID;
use release_audit_test_support::{FakeGitHub, Step, zip_bytes};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// The binary that writes the bundle: this one, or (`RA_WRITER_BINARY`) another
/// release-audit, to check that this verify accepts — and renders byte for byte — what
/// that one wrote.
fn binary() -> PathBuf {
    std::env::var_os("RA_WRITER_BINARY")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_release-audit")), PathBuf::from)
}

const E2E: &str = r#"<testsuites><testsuite name="e2e" tests="3" failures="1" time="1.5"><testcase classname="logs" name="a" time="0.5"/><testcase classname="logs" name="b" time="0.5"><skipped/></testcase><testcase classname="logs" name="c" time="0.5"><failure message="boom">expected 1
got 2</failure></testcase></testsuite></testsuites>"#;
const UNIT: &str = r#"{"Action":"run","Package":"example.com/p","Test":"TestA"}
{"Action":"pass","Package":"example.com/p","Test":"TestA","Elapsed":0.1}
{"Action":"pass","Package":"example.com/p","Elapsed":0.2}
"#;

const UNIT_EARLIER: &str = r#"{"Action":"run","Package":"example.com/p","Test":"TestA"}
{"Action":"output","Package":"example.com/p","Test":"TestA","Output":"connection refused\n"}
{"Action":"fail","Package":"example.com/p","Test":"TestA","Elapsed":0.1}
{"Action":"fail","Package":"example.com/p","Elapsed":0.2}
"#;

/// Which history the change trail reads.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Trail {
    /// Release 1.2.2, then a reviewed pull request and an unsigned direct push.
    SincePrevious,
    /// No earlier release: a first release (nothing to compare).
    First,
}

/// Writes a bundle with every kind of evidence through the binary; returns the step
/// (kept alive for its files) and the unzipped bundle directory.
async fn bundle(trail: Trail) -> (Step, PathBuf) {
    let host = crate::image_support::served::registry();
    let fake = FakeGitHub::start().await;
    let c = &fake.changes;
    let root = c.commit("release 1.2.2", "alice", &[], true);
    if trail == Trail::SincePrevious {
        c.tag("1.2.2", &root);
    }
    let reviewed = c.commit("Add metric pipeline (#11)", "alice", &[&root], true);
    c.pull(11, "Add metric pipeline", "alice", "1111111111111111111111111111111111111111", &reviewed, &[]);
    c.review(11, "bob", "APPROVED", "1111111111111111111111111111111111111111");
    let head = c.commit("hotfix: typo", "dave", &[&reviewed], false);
    c.approval(RUN_ID, "release-lead", "approved", "production", "ship it");

    let record = crate::image_record(&format!("{host}/dev/app:1"), &host);

    if trail == Trail::SincePrevious {
        // The release is the tag, and its image the build the tag push reported.
        c.tag("1.2.3", &head);
        build_on_tag_push(&fake, &host, &head).await;
    }
    let backend = fake.add_run(800, "e2e.yml", &head, "success");
    let e2e = zip_bytes(&[("junit.xml", E2E.as_bytes()), ("image-record.json", &record)]);
    fake.seed_artifact(&backend, "pr-e2e-report", &e2e).await;
    // An earlier workflow attempt's artifact of the same name ("Re-run jobs"): its
    // failed test is flaky across attempts, and its report is kept and recounted.
    fake.seed_artifact(&backend, "unit-report", &zip_bytes(&[("unit.json", UNIT_EARLIER.as_bytes())])).await;
    fake.seed_artifact(&backend, "unit-report", &zip_bytes(&[("unit.json", UNIT.as_bytes())])).await;
    let mut step = Step::with_fake(&fake);
    if trail == Trail::SincePrevious {
        step.input("build-workflow", "build-image.yml").input("github-token", &fake.rest_token);
    }
    step.input("release-version", "1.2.3")
        .input("run-ids", "800")
        .input("e2e-reports", "pr-e2e-report")
        .input("unit-reports", "unit-report")
        .input("required-reports", "e2e,unit")
        .input("tested-image", &format!("{host}/dev/app:1"))
        .input("release-image", &format!("{host}/prod/app:1.0.0"))
        .input("insecure-registries", &host)
        .input("previous-release", "auto")
        .input("upload", "false")
        .input("include-run-logs", "false")
        .set("GITHUB_SHA", &head);
    let result = step.run(&binary(), &[]).await;
    assert_eq!(result.code, 1, "the evidence holds a failed test: {}", result.stderr);
    let zip = step.resolve(&result.outputs["bundle-path"]);
    if trail == Trail::SincePrevious {
        let m = step.bundle_manifest(&result);
        assert!(m["evidence"]["images"]["build"]["digest"].is_string(), "the build's digest is in the bundle: {m}");
    }
    (step, zip.with_extension(""))
}

/// The tag push's build run of 1.2.3: image-builder's job logged the build report of
/// the index `prod/app:1.0.0` names (its digest read through the CLI).
async fn build_on_tag_push(fake: &FakeGitHub, host: &str, head: &str) {
    let released = format!("{host}/prod/app:1.0.0");
    let out =
        Command::new(binary()).args(["digest", &released, "--insecure-registry", host, "--json"]).output().unwrap();
    let read: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    let digest = read["images"][0]["digest"].as_str().expect("the index digest").to_string();
    let report = serde_json::to_string_pretty(&serde_json::json!({
        "status": "Succeeded", "pushed": true, "signed": true, "image_name": "app", "tags": ["1.0.0"],
        "repository_path": format!("{host}/prod"), "images_list": [released], "digest": digest,
        "architectures": ["linux/amd64", "linux/arm64"]
    }))
    .unwrap();
    let mut log = String::from("2026-08-21T10:42:00.0000000Z ADO pipeline image build logs:\n");
    for line in
        ["---IMAGE BUILD REPORT---"].into_iter().chain(report.lines()).chain(["---END OF IMAGE BUILD REPORT---"])
    {
        log.push_str(&format!("2026-08-21T10:42:01.0000000Z 2026-08-21T10:41:56.4260338Z {line}\n"));
    }
    fake.add_push_run(700, "build-image.yml", "1.2.3", head, "success");
    let step = release_audit_test_support::fake::FakeStep::completed(
        "Build image",
        "success",
        "2026-08-21T10:30:00Z",
        "2026-08-21T10:42:30Z",
    );
    fake.add_job(
        700,
        release_audit_test_support::fake::FakeJob::completed(7001, "build-image / Build image", "success", vec![step]),
    );
    fake.seed_job_log(7001, log.as_bytes()).await;
}

fn files_below(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_below(root, &p, out);
        } else {
            out.push(p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"));
        }
    }
    out.sort();
}

/// One edit: which file, where (a JSON pointer or a line), what was done.
#[derive(Debug, Clone)]
struct Edit {
    file: String,
    at: String,
    what: &'static str,
    bytes: Vec<u8>,
}

/// Every single-value edit of a JSON document, as the edited documents.
fn json_edits(file: &str, doc: &Value) -> Vec<Edit> {
    let mut out = Vec::new();
    let mut leaves = Vec::new();
    walk(doc, String::new(), &mut leaves);
    let mut push = |at: &str, what: &'static str, edited: Value| {
        let mut bytes = serde_json::to_vec_pretty(&edited).unwrap();
        bytes.push(b'\n');
        out.push(Edit { file: file.to_string(), at: at.to_string(), what, bytes });
    };
    for (at, value) in &leaves {
        let replace = |with: Value| {
            let mut d = doc.clone();
            *d.pointer_mut(at).unwrap() = with;
            d
        };
        match value {
            Value::String(s) => {
                push(at, "a character changed", replace(Value::String(changed(s))));
                push(at, "set to null", replace(Value::Null));
            }
            Value::Number(n) => {
                let bumped = match (n.as_u64(), n.as_i64(), n.as_f64()) {
                    (Some(u), _, _) => Value::from(u + 1),
                    (_, Some(i), _) => Value::from(i + 1),
                    (_, _, Some(f)) => Value::from(f + 1.0),
                    _ => unreachable!(),
                };
                push(at, "plus one", replace(bumped));
            }
            Value::Bool(b) => push(at, "flipped", replace(Value::Bool(!b))),
            Value::Null => push(at, "null set", replace(Value::String("x".into()))),
            Value::Array(items) => {
                for i in 0..items.len() {
                    let mut removed = items.clone();
                    removed.remove(i);
                    push(&format!("{at}/{i}"), "element removed", replace(Value::Array(removed)));
                    let mut doubled = items.clone();
                    doubled.insert(i, items[i].clone());
                    push(&format!("{at}/{i}"), "element duplicated", replace(Value::Array(doubled)));
                }
                if items.is_empty() {
                    push(at, "element added", replace(Value::Array(vec![Value::String("x".into())])));
                }
            }
            Value::Object(_) => unreachable!("objects are walked"),
        }
    }
    out
}

/// Every leaf, and every array (its elements are removed and duplicated too).
fn walk(v: &Value, at: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                walk(child, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) => {
            out.push((at.clone(), v.clone()));
            for (i, child) in items.iter().enumerate() {
                walk(child, format!("{at}/{i}"), out);
            }
        }
        leaf => out.push((at, leaf.clone())),
    }
}

/// `s` with one character changed so that it stays well-formed where it can: a digit
/// becomes the next digit, a letter the next letter (in hex, still hex), in the first
/// alphanumeric place; a string with none gets an `x`.
fn changed(s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    match chars.iter().position(|c| c.is_ascii_alphanumeric()) {
        Some(i) => {
            chars[i] = match chars[i] {
                '9' => '0',
                'z' => 'a',
                'Z' => 'A',
                'f' => 'e',
                'F' => 'E',
                c => (c as u8 + 1) as char,
            }
        }
        None => chars.push('x'),
    }
    chars.into_iter().collect()
}

/// Every value of a report: each XML attribute value and text node, each leaf of each
/// JSON line (`go test -json`); else every line. Each edit is kept only when it changes
/// what the parser derives from the file (an edit that changes nothing the audit reads
/// — a passing test's time, say — is not a claim, and re-parsing cannot see it).
fn report_edits(file: &str, bytes: &[u8], scratch: &Path) -> Vec<Edit> {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let mut edits = Vec::new();
    if file.ends_with(".xml") {
        let mut spans = Vec::new();
        let mut at = 0;
        while let Some(i) = text[at..].find("=\"") {
            let start = at + i + 2;
            let Some(len) = text[start..].find('"') else { break };
            spans.push((start, start + len));
            at = start + len + 1;
        }
        let mut at = 0;
        while let Some(i) = text[at..].find('>') {
            let start = at + i + 1;
            let Some(len) = text[start..].find('<') else { break };
            spans.push((start, start + len));
            at = start + len;
        }
        for (start, end) in spans {
            let value = &text[start..end];
            if value.chars().any(|c| c.is_ascii_alphanumeric()) {
                let edited = format!("{}{}{}", &text[..start], changed(value), &text[end..]);
                edits.push(Edit {
                    file: file.into(),
                    at: format!("byte {start}"),
                    what: "a value changed",
                    bytes: edited.into_bytes(),
                });
            }
        }
    } else if file.ends_with(".json") && text.lines().all(|l| serde_json::from_str::<Value>(l).is_ok()) {
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            let doc: Value = serde_json::from_str(line).unwrap();
            for e in json_edits(file, &doc) {
                let edited: Value = serde_json::from_slice(&e.bytes).unwrap();
                let mut all: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
                all[n] = serde_json::to_string(&edited).unwrap();
                edits.push(Edit {
                    at: format!("line {} {}", n + 1, e.at),
                    bytes: (all.join("\n") + "\n").into_bytes(),
                    ..e
                });
            }
        }
    } else {
        edits = text_edits(file, bytes);
    }
    let parse = |bytes: &[u8]| {
        let path = scratch.join(file.rsplit('/').next().unwrap());
        std::fs::write(&path, bytes).unwrap();
        parse_file(&path)
    };
    let original = parse(bytes);
    edits.into_iter().filter(|e| parse(&e.bytes) != original).collect()
}

/// Every line of a text file with one character changed.
fn text_edits(file: &str, bytes: &[u8]) -> Vec<Edit> {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !line.chars().any(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        edited[i] = changed(line);
        out.push(Edit {
            file: file.into(),
            at: format!("line {}", i + 1),
            what: "a character changed",
            bytes: edited.concat().into_bytes(),
        });
    }
    out
}

/// Writes an edit into `dir` and does what a careful forger does next: fixes up every
/// hash that records the file (the manifest's file list and report-file records), writes
/// the statements and renders `summary.md` and `report.html` again from the edited
/// bundle with release-audit's own code (unless the edit is to one of them), then
/// `manifest.yaml` and `SHA256SUMS`.
fn apply(dir: &Path, edit: &Edit) {
    std::fs::write(dir.join(&edit.file), &edit.bytes).unwrap();
    let mut m: Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    if edit.file != "manifest.json" {
        fix_records(&mut m, &edit.file, &edit.bytes);
    }
    if !edit.file.starts_with("statements/")
        && let Ok(parsed) = serde_json::from_value::<Manifest>(m.clone())
    {
        for file in expected_statements(dir, &parsed).unwrap() {
            std::fs::write(dir.join(&file.path), &file.bytes).unwrap();
            fix_records(&mut m, &file.path, &file.bytes);
        }
    }
    if !["summary.md", "report.html"].contains(&edit.file.as_str())
        && let Ok(parsed) = serde_json::from_value::<Manifest>(m.clone())
    {
        for (file, text) in expected_reports(dir, &parsed).unwrap() {
            std::fs::write(dir.join(file), &text).unwrap();
            fix_records(&mut m, file, text.as_bytes());
        }
    }
    // A manifest.json edit stays as edited; only the report files' entries move with them.
    let mut json = serde_json::to_vec_pretty(&m).unwrap();
    json.push(b'\n');
    std::fs::write(dir.join("manifest.json"), json).unwrap();
    let json = std::fs::read(dir.join("manifest.json")).unwrap();
    let yaml = match serde_json::from_slice::<Manifest>(&json) {
        Ok(m) => serde_norway::to_string(&m).unwrap(),
        Err(_) => serde_norway::to_string(&serde_json::from_slice::<Value>(&json).unwrap()).unwrap(),
    };
    std::fs::write(dir.join("manifest.yaml"), yaml).unwrap();
    let mut files = Vec::new();
    files_below(dir, dir, &mut files);
    let sums: String = files
        .iter()
        .filter(|f| *f != "SHA256SUMS")
        .map(|f| format!("{}  {f}\n", hex::encode(Sha256::digest(std::fs::read(dir.join(f)).unwrap()))))
        .collect();
    std::fs::write(dir.join("SHA256SUMS"), sums).unwrap();
}

/// Writes `bytes` as the bundle file `file` (relative to `dir`) and fixes up everything
/// as [`apply`] does: what a careful forger does, for tests of one hand-made forgery.
pub(crate) fn forge(dir: &Path, file: &str, bytes: &[u8]) {
    apply(dir, &Edit { file: file.to_string(), at: String::new(), what: "forged", bytes: bytes.to_vec() });
}

/// Whether the fix-up put back what a `manifest.json` edit changed.
fn undone(dir: &Path, edit: &Edit) -> bool {
    if edit.file != "manifest.json" {
        return false;
    }
    let intended: Value = serde_json::from_slice(&edit.bytes).unwrap();
    let written: Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let parent = edit.at.rsplit_once('/').map_or("", |(p, _)| p);
    intended.pointer(&edit.at) != written.pointer(&edit.at) || intended.pointer(parent) != written.pointer(parent)
}

/// Every object in `v` with `"path": file` gets the file's sha256 and size.
fn fix_records(v: &mut Value, file: &str, bytes: &[u8]) {
    match v {
        Value::Object(m) => {
            if m.get("path").and_then(Value::as_str) == Some(file) {
                m.insert("sha256".into(), hex::encode(Sha256::digest(bytes)).into());
                m.insert("size".into(), (bytes.len() as u64).into());
            }
            m.values_mut().for_each(|c| fix_records(c, file, bytes));
        }
        Value::Array(items) => items.iter_mut().for_each(|c| fix_records(c, file, bytes)),
        _ => {}
    }
}

/// Whether `verify::INFORMATIONAL` lists this place (`*` matches one segment or file name part).
fn informational(file: &str, at: &str) -> bool {
    INFORMATIONAL.iter().any(|(f, p)| glob(f, file) && segments_match(p, at))
}

/// `*` matches any run of characters (`/` included).
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((pre, rest)) => {
            text.starts_with(pre)
                && (0..=text.len() - pre.len())
                    .any(|i| text.is_char_boundary(pre.len() + i) && glob(rest, &text[pre.len() + i..]))
        }
    }
}

fn segments_match(pattern: &str, at: &str) -> bool {
    let p: Vec<&str> = pattern.split('/').collect();
    let a: Vec<&str> = at.split('/').collect();
    // A pattern names a field and everything below it.
    a.len() >= p.len() && p.iter().zip(&a).all(|(p, a)| *p == "*" || p == a)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_edit_of_a_value_fails_verify_unless_the_field_is_informational() {
    edit_everything(Trail::SincePrevious).await;
}

/// The same for a first release (no previous release, no range, no commits to count).
#[tokio::test(flavor = "multi_thread")]
async fn every_edit_of_a_first_release_bundle_fails_verify_unless_informational() {
    edit_everything(Trail::First).await;
}

async fn edit_everything(trail: Trail) {
    let (step, original) = bundle(trail).await;
    if let Ok(keep) = std::env::var("RA_KEEP_BUNDLE") {
        copy_dir(&original, Path::new(&keep)); // to look at, or to refresh tests/fixtures/report
    }
    let intact = verify_dir(&original, "intact".into()).unwrap();
    assert!(intact.ok(), "the bundle as written verifies: {:#?}", intact.problems);

    let work = step.path("edits").join(original.file_name().unwrap());
    copy_dir(&original, &work);
    let mut files = Vec::new();
    files_below(&original, &original, &mut files);

    // The fix-up alone (no edit) must verify: else every edit "fails" for the wrong reason.
    for file in ["manifest.json", "summary.md"] {
        let bytes = std::fs::read(original.join(file)).unwrap();
        let same = if file.ends_with(".json") {
            let mut b = serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&bytes).unwrap()).unwrap();
            b.push(b'\n');
            b
        } else {
            bytes
        };
        apply(&work, &Edit { file: file.into(), at: String::new(), what: "none", bytes: same });
        let v = verify_dir(&work, "fix-up".into()).unwrap();
        assert!(v.ok(), "a fix-up without an edit verifies ({file}): {:#?}", v.problems);
    }

    let scratch = tempfile::tempdir().unwrap();
    let mut edits = Vec::new();
    for file in &files {
        let bytes = std::fs::read(original.join(file)).unwrap();
        let json = file == "manifest.json"
            || file.starts_with("changes/")
            || (file.starts_with("images/") && !file.starts_with("images/manifests/") && !file.ends_with(".log"))
            || file.starts_with("statements/")
            || file.ends_with("image-record.json");
        if json {
            edits.extend(json_edits(file, &serde_json::from_slice(&bytes).unwrap()));
        } else if file.starts_with("reports/") {
            edits.extend(report_edits(file, &bytes, scratch.path()));
        } else if file == "summary.md" || file == "report.html" {
            edits.extend(text_edits(file, &bytes));
        }
    }
    let kept: Vec<(String, Vec<u8>)> =
        files.iter().map(|f| (f.clone(), std::fs::read(original.join(f)).unwrap())).collect();
    let mut passed = Vec::new();
    let mut informational_passed = 0;
    for edit in &edits {
        apply(&work, edit);
        if undone(&work, edit) {
            continue; // the fix-up rewrote what was edited (a report file's own entry)
        }
        let v = verify_dir(&work, "edited".into()).unwrap();
        if v.ok() {
            if informational(&edit.file, &edit.at) {
                informational_passed += 1;
            } else {
                passed.push(format!("{} {} ({})", edit.file, edit.at, edit.what));
            }
        }
        // Every file back as written (the fix-up rewrote several), for the next edit.
        for (f, bytes) in &kept {
            std::fs::write(work.join(f), bytes).unwrap();
        }
    }
    eprintln!("{} edits, {} of informational fields passed", edits.len(), informational_passed);
    assert!(edits.len() > 500, "the bundle has the structure the test needs: {} edits", edits.len());
    assert!(passed.is_empty(), "{} edit(s) of {} passed verify:\n{}", passed.len(), edits.len(), passed.join("\n"));
}
