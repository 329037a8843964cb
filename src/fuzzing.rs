//! Entry points for the fuzz targets in `fuzz/` and for `tests/it/fuzz_corpus_replay.rs`.
//!
//! Each function takes arbitrary bytes, feeds them to one untrusted-input surface of
//! the library through the same functions the tool calls, and panics only when the
//! library breaks a contract it documents (a crash, an inconsistent result, a file
//! left behind or written outside its directory). The fuzz targets are one-line calls
//! of these functions, and the replay test runs every committed corpus file through
//! them, so what the fuzzer found stays fixed. Not part of the tool's interface.

#![doc(hidden)]

use std::collections::BTreeSet;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::bundle::dir::safe_relative_path;
use crate::evidence::images::record::{ImageRecord, parse_pods};
use crate::evidence::images::resolve::{Role, plan_children};
use crate::evidence::test_reports::extract::{Limits, extract_zip};
use crate::evidence::test_reports::parse::{
    self, FileOutcome, MAX_LISTED_FAILURES, MAX_LISTED_FLAKY, MAX_LISTED_SUITE_PROBLEMS, MAX_MESSAGE_CHARS,
    MAX_NAME_BYTES, MAX_NOTE_BYTES, MAX_NOTES, MAX_SUMMARY_NOTES, ParsedReport, Rejected,
};
use crate::registry::client::parse_challenge;
use crate::registry::manifest::{self, Kind};
use crate::registry::reference::{Digest, ImageRef, Platform};

/// A fuzz entry point: arbitrary bytes in, a panic only on a broken contract.
pub type Entry = fn(&[u8]);

/// Every target by name (the name of its corpus directory and of its fuzz target).
pub const TARGETS: &[(&str, Entry)] = &[
    ("junit", junit),
    ("gotest_json", gotest_json),
    ("ginkgo_json", ginkgo_json),
    ("detect", detect),
    ("extract_zip", extract),
    ("image_ref", image_ref),
    ("manifest", manifest_and_descriptors),
    ("www_authenticate", www_authenticate),
    ("verify_dir", verify_tree),
    ("image_record", image_record),
];

/// Room for the `… (N bytes cut)` a capped name or note ends in.
const CUT_SUFFIX: usize = 40;

/// The JUnit XML parser, read through a large and a tiny buffer: the result must not
/// depend on where the reads split the stream.
pub fn junit(data: &[u8]) {
    let declared = data.starts_with(b"<?xml");
    same_for_any_buffer(data, |r| parse::junit::parse(r, declared));
}

/// The `go test -json` parser (also what gotestsum writes), like [`junit`].
pub fn gotest_json(data: &[u8]) {
    same_for_any_buffer(data, |r| parse::gotest::parse(r));
}

/// The Ginkgo v2 JSON parser, like [`junit`].
pub fn ginkgo_json(data: &[u8]) {
    same_for_any_buffer(data, |r| parse::ginkgo::parse(r));
}

/// Format detection and dispatch: the public entry point for any file of an artifact.
pub fn detect(data: &[u8]) {
    if let FileOutcome::Parsed(report) = parse::parse_reader(data) {
        check_report(&report);
    }
    // A reader that hands out one byte at a time must give the same answer.
    let slow = parse::parse_reader(OneByte(data));
    let fast = parse::parse_reader(data);
    assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "the outcome depends on how the file is read");
}

fn same_for_any_buffer(data: &[u8], parse: impl Fn(BufReader<&[u8]>) -> Result<ParsedReport, Rejected>) {
    let large = parse(BufReader::with_capacity(256 * 1024, data));
    let tiny = parse(BufReader::with_capacity(7, data));
    if let Ok(report) = &large {
        check_report(report);
    }
    assert_eq!(format!("{large:?}"), format!("{tiny:?}"), "the result depends on the read buffer size");
}

/// What every parsed report promises, whatever the input.
fn check_report(report: &ParsedReport) {
    let t = &report.totals;
    assert!(t.is_consistent(), "tests = passed + failed + errored + skipped does not hold: {t:?}");
    assert!(t.flaky <= t.passed, "more flaky than passed tests: {t:?}");
    assert!(report.failures.len() <= MAX_LISTED_FAILURES);
    assert!(report.flaky.len() <= MAX_LISTED_FLAKY);
    assert!(report.suite_problems.len() <= MAX_LISTED_SUITE_PROBLEMS);
    assert!(report.notes.len() <= MAX_NOTES + MAX_SUMMARY_NOTES, "{} notes", report.notes.len());
    assert!(report.failures.len() as u64 <= t.failed + t.errored, "more failures listed than counted: {t:?}");
    assert!(report.flaky.len() as u64 <= t.flaky, "more flaky tests listed than counted: {t:?}");
    assert!(report.suite_problems.len() as u64 <= t.suite_problems, "more suite problems listed than counted: {t:?}");
    let names = report
        .failures
        .iter()
        .flat_map(|f| [&f.suite, &f.name])
        .chain(report.flaky.iter().flat_map(|f| [&f.suite, &f.name]))
        .chain(report.suite_problems.iter().map(|p| &p.suite));
    for name in names {
        assert!(name.len() <= MAX_NAME_BYTES + CUT_SUFFIX, "a name of {} bytes was kept", name.len());
    }
    for f in &report.failures {
        assert!(
            f.message.chars().count() <= MAX_MESSAGE_CHARS + 1,
            "a message of {} chars was kept",
            f.message.chars().count()
        );
    }
    for note in &report.notes {
        assert!(note.len() <= MAX_NOTE_BYTES + CUT_SUFFIX, "a note of {} bytes was kept", note.len());
    }
    if let Some(d) = report.duration_seconds {
        assert!(d.is_finite() && d >= 0.0, "duration {d}");
    }
}

/// Hands out one byte per read, as a slow network stream might.
struct OneByte<'a>(&'a [u8]);

impl Read for OneByte<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), out.first_mut()) {
            (Some((b, rest)), Some(slot)) => {
                *slot = *b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

/// Safe extraction of a report archive: the input is the zip. Whatever it holds,
/// extraction either succeeds with exactly the listed plain files below the
/// destination (no link, nothing else), or fails and leaves nothing behind.
pub fn extract(data: &[u8]) {
    let Ok(scratch) = tempfile::tempdir() else { return };
    let zip = scratch.path().join("artifact.zip");
    if std::fs::write(&zip, data).is_err() {
        return;
    }
    let dest = scratch.path().join("out");
    let limits = Limits {
        max_entries: 1_000,
        max_total_bytes: 64 << 20,
        max_entry_bytes: 32 << 20,
        max_ratio: 200,
        max_run_bytes: u64::MAX,
    };
    match extract_zip(&zip, &dest, &limits, "fuzz") {
        Err(_) => assert!(!dest.exists(), "a refused archive left {} behind", dest.display()),
        Ok(files) => {
            let mut lower = BTreeSet::new();
            for f in &files {
                assert_eq!(
                    safe_relative_path(&f.path).as_deref(),
                    Some(f.path.as_str()),
                    "unsafe path extracted: {:?}",
                    f.path
                );
                assert!(!f.path.chars().any(char::is_control), "a control character in {:?}", f.path);
                assert!(lower.insert(f.path.to_lowercase()), "two files differ only in case: {:?}", f.path);
                let bytes = std::fs::read(dest.join(&f.path)).expect("an extracted file is readable");
                assert_eq!(bytes.len() as u64, f.size);
                assert_eq!(Digest::of(&bytes).hex(), f.sha256);
            }
            let mut found = Vec::new();
            walk(&dest, "", &mut found);
            let listed: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
            assert_eq!(found, listed, "the files on disk are not the files listed");
        }
    }
}

/// Regular files below `dir`, sorted; panics on anything that is neither a file nor a directory.
fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("readable").map(|e| e.expect("readable")).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        let kind = e.file_type().expect("readable");
        if kind.is_dir() {
            walk(&e.path(), &path, out);
        } else {
            assert!(kind.is_file(), "extraction created {path}, which is not a regular file");
            out.push(path);
        }
    }
    out.sort();
}

/// Image references (and the digest and platform forms used beside them): what parses
/// prints back to a reference that parses to the same thing.
pub fn image_ref(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(image) = ImageRef::parse(text) {
        let printed = image.to_string();
        assert_eq!(ImageRef::parse(&printed).as_ref(), Ok(&image), "{text:?} printed as {printed:?}");
        let _ = (image.api_host(), image.manifest_reference(), image.name());
        if let Some(d) = &image.digest {
            assert_eq!(image.with_digest(d), image);
        }
    }
    if let Ok(digest) = Digest::parse(text) {
        assert_eq!(Digest::parse(&digest.to_string()).as_ref(), Ok(&digest));
        let _ = (digest.short(), digest.file_stem());
    }
    if let Ok(platform) = Platform::parse(text) {
        assert_eq!(Platform::parse(&platform.to_string()).as_ref(), Ok(&platform));
        assert!(platform.matches(&platform));
    }
}

/// Manifest and index documents as a registry returns them, and the reading of an
/// index's descriptors that decides what is fetched (for no filter and for
/// `linux/amd64`).
pub fn manifest_and_descriptors(data: &[u8]) {
    let Ok(head) = manifest::parse::<manifest::Head>(data, "fuzz") else { return };
    let media_type = head.media_type.unwrap_or_default();
    let _ = manifest::describe(&media_type);
    if manifest::kind_of(&media_type) != Some(Kind::Index)
        && let Ok(m) = manifest::parse::<manifest::Manifest>(data, "fuzz")
    {
        let _ = m.config.digest();
        for layer in &m.layers {
            let _ = (layer.digest(), layer.is_attestation());
        }
    }
    let Ok(index) = manifest::parse::<manifest::Index>(data, "fuzz") else { return };
    let image = ImageRef::parse("registry.example/fuzz/app:1.0").expect("a valid reference");
    for filter in [vec![], vec![Platform::new("linux", "amd64", None)]] {
        let Ok((records, wanted)) = plan_children(&image, &index, &filter) else { continue };
        assert_eq!(records.len(), index.manifests.len());
        assert!(records.iter().any(|r| r.role == Role::Image && r.fetched), "nothing to fetch was accepted");
        for r in records.iter().filter(|r| r.fetched) {
            assert!(wanted.contains_key(&r.digest), "{} is fetched but not wanted", r.digest);
            assert!(r.size <= manifest::MAX_MANIFEST_BYTES as u64);
        }
        assert!(wanted.values().sum::<u64>() <= crate::evidence::images::resolve::MAX_CHILDREN_BYTES);
    }
}

/// `WWW-Authenticate` challenges from a registry.
pub fn www_authenticate(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some(c) = parse_challenge(text) {
        assert!(!c.scheme.is_empty());
        assert_eq!(c.scheme, c.scheme.to_ascii_lowercase());
        for key in c.params.keys() {
            assert!(!key.is_empty() && !key.contains('='), "key {key:?}");
            assert_eq!(key, &key.to_ascii_lowercase());
        }
    }
}

/// Largest tree [`verify_tree`] builds from one input.
const MAX_TREE_ENTRIES: usize = 64;

/// `verify` on an arbitrary bundle. An input that starts like a zip is verified as a
/// bundle zip. Any other input is a directory tree: entries separated by NUL bytes,
/// each a relative path, a line break and the file's content; a path starting with
/// `@` makes a symbolic link whose target is the content. `verify` must answer (a
/// result or an error), never hang on, follow or open what is not a regular file.
pub fn verify_tree(data: &[u8]) {
    let Ok(scratch) = tempfile::tempdir() else { return };
    if data.starts_with(b"PK") {
        let zip = scratch.path().join("bundle.zip");
        if std::fs::write(&zip, data).is_ok() {
            let _ = crate::bundle::verify::verify(&zip);
        }
        return;
    }
    let root = scratch.path().join("bundle");
    if std::fs::create_dir(&root).is_err() {
        return;
    }
    for entry in data.split(|b| *b == 0).take(MAX_TREE_ENTRIES) {
        let (path, content) = match entry.iter().position(|b| *b == b'\n') {
            Some(i) => (&entry[..i], &entry[i + 1..]),
            None => (entry, &[][..]),
        };
        let Ok(path) = std::str::from_utf8(path) else { continue };
        let (link, path) = match path.strip_prefix('@') {
            Some(p) => (true, p),
            None => (false, path),
        };
        // Built only below the root, never through a link made before.
        let Some(rel) = safe_relative_path(path) else { continue };
        let target = root.join(&rel);
        if !real_dirs_to(&root, &rel) {
            continue;
        }
        if link {
            let Ok(to) = std::str::from_utf8(content) else { continue };
            let _ = std::os::unix::fs::symlink(to, &target);
        } else if std::fs::symlink_metadata(&target).is_err() {
            let _ = std::fs::write(&target, content);
        }
    }
    let _ = crate::bundle::verify::verify(&root);
}

/// Creates the parent directories of `rel` below `root`; false if a component exists
/// and is not a real directory.
fn real_dirs_to(root: &Path, rel: &str) -> bool {
    let mut path = root.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        path.push(part);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return false,
            Err(_) => {
                if std::fs::create_dir(&path).is_err() {
                    return false;
                }
            }
        }
    }
    true
}

/// Image records written by `record-image` and `kubectl get pods -o json` documents.
pub fn image_record(data: &[u8]) {
    if let Ok(record) = ImageRecord::parse(data, "fuzz") {
        let again = ImageRecord::parse(record.to_json().as_bytes(), "fuzz")
            .expect("a record we read is a record we can write and read again");
        assert_eq!(again.to_json(), record.to_json());
        let _ = record.job.label();
        let _ = record.job.runner_platform();
    }
    let fallback = Platform::new("linux", "arm64", None);
    for fallback in [None, Some(&fallback)] {
        if let Ok(pods) = parse_pods(data, "fuzz", fallback) {
            assert!(pods.images.len() <= crate::evidence::images::record::MAX_CONTAINERS);
        }
    }
}
