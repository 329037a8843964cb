//! `verify` against what the writer writes (issue 9, item 6) and against bundles built
//! to hurt it (issue 12, case 7).
//!
//! The property test generates evidence with a seeded RNG — unicode and odd names,
//! many files, float durations that sum to numbers like 1.8570220000000002, large
//! counts — writes each bundle through the library's own writer (`BundleDir`, the
//! manifest, `zip_dir`) and checks that `release-audit verify` accepts it, as a zip and
//! as a directory; then that every single-byte change to any file of the directory and
//! every single-field change to `manifest.json` (even with SHA256SUMS fixed up) fails it.

use release_audit_test_support::copy_dir;
use std::path::{Path, PathBuf};
use std::process::Command;

use release_audit::bundle::manifest::{FileEntry, Manifest, Release, RunFacts, SCHEMA_VERSION, Source, Tool, Verdict};
use release_audit::bundle::statement_files::{server_url_of, statement_files};
use release_audit::bundle::{BundleDir, zip_dir};
use release_audit::evidence::Evidence;
use release_audit::evidence::test_reports::parse::{FileOutcome, parse_file};
use release_audit::evidence::test_reports::{
    ArtifactRecord, Category, CategoryRecord, FileStatus, ReportFile, SourceRun, TestEvidence, judge,
};
use release_audit::report;

use crate::binary;

fn verify(path: &Path) -> (i32, String) {
    let out = Command::new(binary()).arg("verify").arg(path).output().expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    /// A name with the characters real and hostile reports carry.
    fn name(&mut self) -> String {
        const PIECES: &[&str] = &[
            "Test",
            "ä",
            "名前",
            "🚀",
            " ",
            "::",
            "##[error]",
            "%0A",
            "[x](https://e.invalid)",
            "<b>",
            "&amp;",
            "\"q\"",
            "'",
            "|",
            "`",
            "\\",
            "ñ",
            "Ω",
            "-",
            "_",
            ".",
            "$HOME",
            "{}",
            "*",
            "#",
            "~",
        ];
        (0..1 + self.below(5)).map(|_| *self.pick(PIECES)).collect()
    }
    /// A path segment for a bundle file: printable, odd, but one plain segment.
    fn segment(&mut self) -> String {
        const PIECES: &[&str] =
            &["report", "ä", "名", "🚀", " ", "-", "_", ".", "(1)", "[x]", "#", "%", "'", "&", "+", "=", "@", "~"];
        let s: String = (0..1 + self.below(4)).map(|_| *self.pick(PIECES)).collect();
        if s.trim_matches('.').is_empty() { format!("r{s}") } else { s }
    }
    fn duration(&mut self) -> f64 {
        match self.below(4) {
            0 => self.below(1_000_000) as f64 / 1_000_000.0,
            1 => self.below(100) as f64 * 0.1 + 0.2,
            2 => (self.below(1 << 50) as f64) / 3.0,
            _ => 1e-7 * self.below(1000) as f64,
        }
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A JUnit report: `cases` test cases, some failing or skipped, random float times.
fn junit(rng: &mut Rng, cases: u64) -> String {
    let suite = xml_escape(&rng.name());
    let mut body = String::new();
    for i in 0..cases {
        let name = xml_escape(&format!("{}{i}", rng.name()));
        let time = rng.duration();
        match rng.below(12) {
            0 => body.push_str(&format!("<testcase classname=\"{suite}\" name=\"{name}\" time=\"{time}\"><failure message=\"{m}\">{m}\nline two</failure></testcase>", m = xml_escape(&rng.name()))),
            1 => body.push_str(&format!("<testcase classname=\"{suite}\" name=\"{name}\" time=\"{time}\"><skipped/></testcase>")),
            _ => body.push_str(&format!("<testcase classname=\"{suite}\" name=\"{name}\" time=\"{time}\"/>")),
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites><testsuite name=\"{suite}\">{body}</testsuite></testsuites>\n"
    )
}

/// A `go test -json` stream with float `Elapsed` values.
fn go_json(rng: &mut Rng, cases: u64) -> String {
    let package = format!("example.com/{}", rng.segment().replace(' ', "_"));
    let mut out = String::new();
    for i in 0..cases {
        let test = serde_json::to_string(&format!("Test{i}{}", rng.name())).unwrap();
        let action = if rng.below(10) == 0 { "fail" } else { "pass" };
        let elapsed = rng.duration();
        out.push_str(&format!("{{\"Action\":\"run\",\"Package\":\"{package}\",\"Test\":{test}}}\n"));
        out.push_str(&format!(
            "{{\"Action\":\"{action}\",\"Package\":\"{package}\",\"Test\":{test},\"Elapsed\":{elapsed}}}\n"
        ));
    }
    out.push_str(&format!("{{\"Action\":\"pass\",\"Package\":\"{package}\",\"Elapsed\":{}}}\n", rng.duration()));
    out
}

/// A report file written into the bundle, recorded as the audit records it.
fn report_file(dir: &mut BundleDir, rel: &str, text: &str) -> ReportFile {
    let entry = dir.add_bytes(rel, text.as_bytes()).unwrap();
    let mut file = ReportFile {
        path: entry.path.clone(),
        sha256: entry.sha256,
        size: entry.size,
        status: FileStatus::NotAReport,
        format: None,
        totals: None,
        duration_seconds: None,
        failures: Vec::new(),
        flaky: Vec::new(),
        suite_problems: Vec::new(),
        notes: Vec::new(),
        reason: None,
    };
    match parse_file(&dir.root().join(&entry.path)) {
        FileOutcome::Parsed(r) => {
            file.status = FileStatus::Parsed;
            file.format = Some(r.format);
            file.totals = Some(r.totals);
            file.duration_seconds = r.duration_seconds;
            file.failures = r.failures;
            file.flaky = r.flaky;
            file.suite_problems = r.suite_problems;
            file.notes = r.notes;
        }
        FileOutcome::Unparseable { format, reason } => {
            file.status = FileStatus::Unparseable;
            file.format = format;
            file.reason = Some(reason);
        }
        FileOutcome::NotAReport => {}
    }
    file
}

/// The manifest of a generated bundle: random facts around the evidence.
fn manifest_of(rng: &mut Rng, seed: u64, name: &str, evidence: Evidence, verdict: Verdict) -> Manifest {
    Manifest {
        schema_version: SCHEMA_VERSION,
        tool: Tool::this(),
        release: Release { version: format!("1.{seed}.0-{}", rng.name()), bundle_name: name.to_string() },
        source: Source {
            repository: Some(rng.name()),
            commit: Some(format!("{:040x}", rng.next())),
            git_ref: Some(rng.name()),
            commit_source: None,
        },
        run: RunFacts {
            id: Some(rng.next() >> 1),
            attempt: Some(1),
            url: Some(format!("https://github.com/{}", rng.name())),
            workflow: Some(rng.name()),
            workflow_ref: None,
            event: Some("workflow_dispatch".into()),
            actor: Some(rng.name()),
            triggering_actor: None,
            audited_at: Some("2026-01-01T00:00:00Z".into()),
        },
        evidence,
        verdict,
        files: Vec::<FileEntry>::new(),
    }
}

/// Writes one generated bundle with the library's writer; returns (directory, zip).
fn write_bundle(rng: &mut Rng, parent: &Path, seed: u64) -> (PathBuf, PathBuf) {
    let name = format!("audit-bundle-{seed}");
    let mut dir = BundleDir::create(parent, &name).unwrap();
    let source_run = rng.next() >> 1;
    let mut categories = Vec::new();
    let chosen: Vec<Category> = Category::ALL.into_iter().filter(|_| rng.below(3) != 0).collect();
    for category in chosen {
        let mut artifacts = Vec::new();
        for a in 0..1 + rng.below(3) {
            let artifact = format!("{}-{a}", rng.segment());
            let mut files = Vec::new();
            for f in 0..1 + rng.below(12) {
                let cases = if rng.below(8) == 0 { 2_000 + rng.below(3_000) } else { rng.below(30) };
                let (ext, text) = match rng.below(3) {
                    0 => ("json", go_json(rng, cases)),
                    1 => ("txt", format!("not a report: {}\n", rng.name())),
                    _ => ("xml", junit(rng, cases)),
                };
                let rel = format!("reports/{}/{artifact}/{}{f}.{ext}", category.as_str(), rng.segment());
                let file = report_file(&mut dir, &rel, &text);
                files.push(file);
            }
            artifacts.push(ArtifactRecord {
                id: rng.below(1 << 40) as i64,
                name: artifact,
                run_id: Some(source_run),
                run_attempt: Some(1 + rng.below(3) as u32),
                size: rng.next() >> 1,
                digest: None,
                sha256: format!("{:064x}", rng.next()),
                files,
                created_at: None,
                job: None,
                attempt: None,
                earlier_attempts: vec![],
                expired_earlier_attempts: vec![],
            });
        }
        let (status, totals, duration_seconds, unparseable_files) = judge(&artifacts, false);
        categories.push(CategoryRecord {
            category,
            required: rng.below(2) == 0,
            // A name, and a glob that matches every artifact (each must match one).
            patterns: vec![rng.name(), "*".into()],
            status,
            totals,
            duration_seconds,
            unparseable_files,
            artifacts,
            notes: vec![rng.name()],
            warnings: vec![],
        });
    }
    let tests = TestEvidence {
        counting: release_audit::evidence::test_reports::COUNTING_CONVENTION,
        categories,
        sources: vec![SourceRun {
            run_id: Some(source_run),
            selected_by: "run-id".into(),
            workflow: Some(rng.name()),
            head_sha: None,
            run_attempt: Some(1),
            conclusion: Some("success".into()),
            url: None,
            evidence_files: Vec::new(),
            job_logs: vec![release_audit::evidence::test_reports::JobLog {
                job_id: rng.next() >> 1,
                name: rng.name(),
                status: "in_progress".into(),
                conclusion: None,
                path: None,
                size: None,
                truncated: false,
                note: Some(rng.name()),
            }],
            notes: vec![rng.name()],
            warnings: vec![],
            failed_jobs: vec![],
        }],
        fail_on_test_failures: true,
        fail_on_missing_reports: rng.below(2) == 0,
        fail_on_flaky: false,
    };
    let evidence = Evidence { tests: Some(tests), images: None, changes: None };
    let verdict = Verdict::from_reasons(evidence.failures());
    let manifest = manifest_of(rng, seed, &name, evidence, verdict);
    // The statements and the report layer's pages, as the action writes them.
    for file in statement_files(&manifest, &server_url_of(&manifest)) {
        dir.add_bytes(&file.path, &file.bytes).unwrap();
    }
    dir.add_bytes(report::SUMMARY_MD, report::summary_md(&manifest).as_bytes()).unwrap();
    let page = report::report_html(&Manifest { files: dir.files(), ..manifest.clone() });
    dir.add_bytes(report::REPORT_HTML, page.as_bytes()).unwrap();
    let root = dir.finish(|files| Manifest { files, ..manifest }).unwrap();
    let zip = parent.join(format!("{name}.zip"));
    zip_dir(&root, &zip, &name, 1_700_000_000).unwrap();
    (root, zip)
}

fn files_below(dir: &Path, rel: &str, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir.join(rel)).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        let r = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        if e.file_type().unwrap().is_dir() { files_below(dir, &r, out) } else { out.push(r) }
    }
}

/// Rewrites SHA256SUMS to match the files again (a careful forger).
fn fix_up_sums(dir: &Path) {
    let ok = Command::new("bash")
        .arg("-c")
        .arg("find . -type f ! -name SHA256SUMS -print0 | sed -z 's|^./||' | LC_ALL=C sort -z | xargs -0 sha256sum > SHA256SUMS")
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(ok.success());
}

/// Every leaf of a JSON value, as a JSON pointer.
fn leaves(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            m.iter().for_each(|(k, v)| leaves(v, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out))
        }
        serde_json::Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| leaves(v, format!("{at}/{i}"), out)),
        _ => out.push(at),
    }
}

#[test]
fn every_bundle_the_writer_writes_verifies_and_every_change_fails() {
    let tmp = tempfile::tempdir().unwrap();
    for seed in 1..=6u64 {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0x1000_0000_01B3));
        let (root, zip) = write_bundle(&mut rng, tmp.path(), seed);
        let (code, out) = verify(&zip);
        assert_eq!(code, 0, "seed {seed}: the zip the writer wrote must verify:\n{out}");
        let (code, out) = verify(&root);
        assert_eq!(code, 0, "seed {seed}: the directory the writer wrote must verify:\n{out}");
        let manifest = std::fs::read_to_string(root.join("manifest.json")).unwrap();
        assert!(manifest.contains("e-") || manifest.contains('.'), "float durations are part of the manifest");

        let mut files = Vec::new();
        files_below(&root, "", &mut files);
        // A single byte changed anywhere, in a few files per bundle (always SHA256SUMS
        // and the manifests, which nothing else hashes as strictly).
        let mut targets: Vec<String> = ["SHA256SUMS", "manifest.json", "manifest.yaml"].map(String::from).to_vec();
        for _ in 0..4 {
            targets.push(rng.pick(&files).clone());
        }
        for target in &targets {
            let copy = tmp.path().join(format!("byte-{seed}"));
            let _ = std::fs::remove_dir_all(&copy);
            copy_dir(&root, &copy);
            let path = copy.join(target);
            let mut bytes = std::fs::read(&path).unwrap();
            if bytes.is_empty() {
                continue;
            }
            let at = rng.below(bytes.len() as u64) as usize;
            bytes[at] ^= 1 << rng.below(8);
            std::fs::write(&path, &bytes).unwrap();
            let (code, out) = verify(&copy);
            assert_eq!(code, 1, "seed {seed}: byte {at} of {target} changed, yet verify passed:\n{out}");
        }
        // A single field of manifest.json changed, SHA256SUMS fixed up to match.
        let value: serde_json::Value = serde_json::from_str(&manifest).unwrap();
        let mut pointers = Vec::new();
        leaves(&value, String::new(), &mut pointers);
        for _ in 0..6 {
            let pointer = rng.pick(&pointers).clone();
            let mut changed = value.clone();
            let leaf = changed.pointer_mut(&pointer).unwrap();
            *leaf = match leaf.take() {
                serde_json::Value::String(s) => serde_json::Value::String(format!("{s}x")),
                serde_json::Value::Number(n) if n.is_f64() => serde_json::json!(n.as_f64().unwrap() + 1.0),
                serde_json::Value::Number(n) => serde_json::json!(n.as_u64().map_or(1, |v| v ^ 1)),
                serde_json::Value::Bool(b) => serde_json::Value::Bool(!b),
                _ => serde_json::Value::String("x".into()),
            };
            let copy = tmp.path().join(format!("field-{seed}"));
            let _ = std::fs::remove_dir_all(&copy);
            copy_dir(&root, &copy);
            let mut text = serde_json::to_vec_pretty(&changed).unwrap();
            text.push(b'\n');
            std::fs::write(copy.join("manifest.json"), text).unwrap();
            fix_up_sums(&copy);
            let (code, out) = verify(&copy);
            assert_eq!(code, 1, "seed {seed}: {pointer} changed in manifest.json, yet verify passed:\n{out}");
        }
    }
}

/// A small bundle written by the library's writer, as a directory.
fn small_bundle(parent: &Path) -> PathBuf {
    let mut rng = Rng(42);
    write_bundle(&mut rng, parent, 99).0
}

#[cfg(unix)]
#[test]
fn links_and_fifos_in_a_bundle_are_named_never_followed_or_opened() {
    let tmp = tempfile::tempdir().unwrap();
    let root = small_bundle(tmp.path());
    let outside = tmp.path().join("outside-secret.txt");
    std::fs::write(&outside, "not part of any bundle").unwrap();
    let outside_hash = release_audit::bundle::hash_file(&outside).unwrap().1;
    std::os::unix::fs::symlink("/dev/zero", root.join("zero.xml")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("outside.xml")).unwrap();
    let fifo = root.join("pipe.xml");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    // Where the manifest points: a link in place of manifest.yaml.
    std::fs::remove_file(root.join("manifest.yaml")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", root.join("manifest.yaml")).unwrap();

    let (code, out) = verify(&root);
    assert_eq!(code, 1, "{out}");
    for name in ["zero.xml", "outside.xml", "pipe.xml", "manifest.yaml"] {
        assert!(
            out.contains(&format!("not a regular file: {name} (a link, FIFO or device; not followed or opened)")),
            "{name}:\n{out}"
        );
    }
    assert!(!out.contains(&outside_hash), "the hash of a file outside the bundle is never printed:\n{out}");
}

/// Rewrites manifest.json with one report file path replaced, re-renders manifest.yaml
/// the way the writer does and fixes up SHA256SUMS: only the path is wrong.
fn point_manifest_at(root: &Path, path: &str) {
    let mut m: Manifest = serde_json::from_slice(&std::fs::read(root.join("manifest.json")).unwrap()).unwrap();
    let file = m
        .evidence
        .tests
        .as_mut()
        .unwrap()
        .categories
        .iter_mut()
        .flat_map(|c| c.artifacts.iter_mut())
        .flat_map(|a| a.files.iter_mut())
        .next()
        .unwrap();
    file.path = path.to_string();
    m.files[0].path = path.to_string();
    let mut json = serde_json::to_vec_pretty(&m).unwrap();
    json.push(b'\n');
    std::fs::write(root.join("manifest.json"), json).unwrap();
    std::fs::write(root.join("manifest.yaml"), serde_norway::to_string(&m).unwrap()).unwrap();
    fix_up_sums(root);
}

#[test]
fn absolute_and_escaping_paths_in_the_manifest_and_sums_are_refused_in_both_forms() {
    let tmp = tempfile::tempdir().unwrap();
    for hostile in ["/etc/passwd", "../outside.xml", "reports/../../outside.xml"] {
        let copy = tmp.path().join("copy");
        let _ = std::fs::remove_dir_all(&copy);
        let root = small_bundle(&tmp.path().join("w"));
        copy_dir(&root, &copy.join("audit-bundle-99"));
        let dir = copy.join("audit-bundle-99");
        point_manifest_at(&dir, hostile);
        let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
        std::fs::write(dir.join("SHA256SUMS"), format!("{sums}{}  {hostile}\n", "0".repeat(64))).unwrap();

        let (code, out) = verify(&dir);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains(&format!("unsafe path: manifest.json files names `{hostile}`")), "{hostile}:\n{out}");
        assert!(out.contains(&format!("unsafe path: SHA256SUMS names `{hostile}`")), "{hostile}:\n{out}");
        assert!(!out.contains("root:x:0:0"), "{out}");

        // The same as a zip an auditor was handed.
        let zip = tmp.path().join("hostile.zip");
        let _ = std::fs::remove_file(&zip);
        let ok = Command::new("zip")
            .arg("-qr")
            .arg(&zip)
            .arg("audit-bundle-99")
            .current_dir(&copy)
            .status()
            .expect("zip is installed (tests/run installs it)");
        assert!(ok.success());
        let (code, out) = verify(&zip);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains(&format!("unsafe path: manifest.json files names `{hostile}`")), "zip, {hostile}:\n{out}");
        let _ = std::fs::remove_dir_all(tmp.path().join("w"));
    }
}
