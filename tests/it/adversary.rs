//! Issue 18, tried as an adversary would: inputs that the other modules do not contain,
//! each one a false pass (or a false "holds") found with the release binary, through the
//! binary as a user runs it. One test per class of hole; each names the rule it holds.

use std::path::Path;
use std::process::Command;

use crate::{reports_json, write_file as write};

/// pytest writes a test whose call failed and whose teardown failed too as two test
/// cases, the second with `<error message="failed on teardown with …">`; that second
/// one is merged into the first. Only after a failed call: any other runner (Surefire
/// writes an exception's message as the `<error>`'s, and a JUnit 5 parameterized test
/// gives every invocation one name) can write an errored test case with that message
/// after a passing one of the same name, and it must stay an errored test.
#[test]
fn an_error_shaped_like_a_pytest_teardown_after_a_passing_test_is_an_errored_test() {
    let dir = tempfile::tempdir().unwrap();
    let errored = r#"<testcase classname="com.example.C" name="x" time="0.01"><error message="failed on teardown with boom" type="java.lang.RuntimeException">boom</error></testcase>"#;
    for (first, declared) in [
        (r#"<testcase classname="com.example.C" name="x" time="0.01"/>"#, r#" tests="2" failures="0" errors="1""#),
        (
            r#"<testcase classname="com.example.C" name="x"><skipped/></testcase>"#,
            r#" tests="2" skipped="1" errors="1""#,
        ),
        (r#"<testcase classname="com.example.C" name="x"/>"#, ""),
    ] {
        let xml =
            format!(r#"<?xml version="1.0"?><testsuite name="com.example.C"{declared}>{first}{errored}</testsuite>"#);
        let file = write(dir.path(), "TEST-com.example.C.xml", &xml);
        let (code, json) = reports_json(&[&file]);
        assert_eq!(code, 1, "{xml}: {json}");
        assert_eq!(json["passed"], false, "{json}");
        assert_eq!(json["totals"]["errored"], 1, "{xml}: {json}");
        assert_eq!(json["totals"]["tests"], 2, "{xml}: {json}");
    }
    // pytest's own shape still counts once: the failed call, its teardown with it.
    let xml = r#"<testsuite name="pytest" tests="1" failures="1" errors="1"><testcase classname="t" name="test_x"><failure message="assert 1 == 2"/></testcase><testcase classname="t" name="test_x"><error message="failed on teardown with &quot;boom&quot;"/></testcase></testsuite>"#;
    let file = write(dir.path(), "pytest.xml", xml);
    let (code, json) = reports_json(&[&file]);
    assert_eq!(code, 1, "{json}");
    assert_eq!(json["totals"]["tests"], 1, "{json}");
    assert_eq!(json["totals"]["failed"], 1, "{json}");
}

/// Surefire's `<rerunFailure>`/`<rerunError>` say the test failed when it was run again:
/// a test case that holds one fails, whatever else it holds (a `<skipped>` beside it
/// must not make it skipped).
#[test]
fn a_rerun_failure_beside_skipped_is_a_failed_test() {
    let dir = tempfile::tempdir().unwrap();
    for (i, children) in [
        r#"<skipped/><rerunFailure message="still failing"/>"#,
        r#"<rerunError message="still erroring"/><skipped message="later"/>"#,
    ]
    .iter()
    .enumerate()
    {
        let xml = format!(
            r#"<testsuite name="s"><testcase classname="c" name="ok"/><testcase classname="c" name="t">{children}</testcase></testsuite>"#
        );
        let file = write(dir.path(), &format!("surefire-{i}.xml"), &xml);
        let (code, json) = reports_json(&[&file]);
        assert_eq!(code, 1, "{xml}: {json}");
        assert_eq!(json["totals"]["failed"], 1, "{xml}: {json}");
        assert_eq!(json["totals"]["skipped"], 0, "{xml}: {json}");
    }
}

/// `go tool test2json` run on a test binary without `-p` (how a precompiled e2e binary,
/// `go test -c`, is run) writes events without `Package`. Its tests are tests: a failed
/// one fails the report, beside packaged events or alone.
#[test]
fn go_test_json_events_without_a_package_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let alone = "{\"Action\":\"start\"}\n{\"Action\":\"run\",\"Test\":\"TestE2E\"}\n{\"Action\":\"output\",\"Test\":\"TestE2E\",\"Output\":\"    e2e_test.go:9: pod not ready\\n\"}\n{\"Action\":\"fail\",\"Test\":\"TestE2E\",\"Elapsed\":1}\n{\"Action\":\"output\",\"Output\":\"FAIL\\n\"}\n{\"Action\":\"fail\",\"Elapsed\":1}\n";
    let mixed = "{\"Action\":\"run\",\"Package\":\"p\",\"Test\":\"TestA\"}\n{\"Action\":\"pass\",\"Package\":\"p\",\"Test\":\"TestA\"}\n{\"Action\":\"pass\",\"Package\":\"p\"}\n{\"Action\":\"run\",\"Test\":\"TestE2E\"}\n{\"Action\":\"fail\",\"Test\":\"TestE2E\"}\n";
    for (name, text, tests) in [("alone.json", alone, 1), ("mixed.json", mixed, 2)] {
        let file = write(dir.path(), name, text);
        let (code, json) = reports_json(&[&file]);
        assert_eq!(code, 1, "{name}: {json}");
        assert_eq!(json["totals"]["tests"], tests, "{name}: {json}");
        assert_eq!(json["totals"]["failed"], 1, "{name}: {json}");
        assert_eq!(json["files"][0]["failures"][0]["name"], "TestE2E", "{name}: {json}");
    }
}

/// The peak RSS (KiB) of `release-audit reports` on `file`, through GNU time, and its exit code.
fn reports_peak_rss(file: &Path) -> (u64, i32) {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "peak-rss-kib=%M"])
        .arg(crate::binary())
        .arg("reports")
        .arg(file)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("/usr/bin/time runs (tests/run installs GNU time)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rss = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak-rss-kib="))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS in: {stderr}"));
    // GNU time exits with the command's code.
    (rss, out.status.code().expect("exited"))
}

/// Memory must not grow with what a report sends: names of tests, packages and suites
/// are held by hash or capped as they are read, and open packages are bounded. Each
/// file is ~120 MB of long names; the old readers kept every name whole (peak RSS above
/// the file's size).
#[test]
fn long_names_do_not_grow_memory() {
    let dir = tempfile::tempdir().unwrap();
    let pad = "x".repeat(8000);
    let mut tests = String::new();
    for i in 0..15_000 {
        tests.push_str(&format!("{{\"Action\":\"pass\",\"Package\":\"p\",\"Test\":\"T{i}{pad}\"}}\n"));
    }
    tests.push_str("{\"Action\":\"pass\",\"Package\":\"p\"}\n");
    let mut packages = String::new();
    for i in 0..15_000 {
        packages.push_str(&format!("{{\"Action\":\"start\",\"Package\":\"{i}{pad}\"}}\n"));
    }
    let mut failed_builds = String::from(
        "{\"Action\":\"run\",\"Package\":\"q\",\"Test\":\"T\"}\n{\"Action\":\"pass\",\"Package\":\"q\",\"Test\":\"T\"}\n{\"Action\":\"pass\",\"Package\":\"q\"}\n",
    );
    for i in 0..15_000 {
        failed_builds.push_str(&format!("FAIL\t{i}{pad} [build failed]\n"));
    }
    let name = "n".repeat(1024 * 1024);
    let mut suites = String::from("<testsuites>");
    for i in 0..120 {
        suites.push_str(&format!("<testsuite name=\"{i}{name}\">"));
    }
    suites.push_str("<testcase name=\"t\"/>");
    suites.push_str(&"</testsuite>".repeat(120));
    suites.push_str("</testsuites>");
    for (file, text, code) in [
        ("tests.json", tests, 0),
        ("packages.json", packages, 1),
        ("builds.json", failed_builds, 1),
        ("suites.xml", suites, 0),
    ] {
        let path = write(dir.path(), file, &text);
        drop(text);
        let (rss, exit) = reports_peak_rss(&path);
        eprintln!("{file}: peak RSS {rss} KiB");
        assert_eq!(exit, code, "{file}");
        assert!(rss < 64 * 1024, "{file}: peak RSS {rss} KiB is not under 64 MiB");
        std::fs::remove_file(path).unwrap();
    }
}

/// A key that `verify` does not read is a claim nothing checks: a forger adds
/// `"security_review": "approved"` to `manifest.json` (or to a change file), fixes
/// `SHA256SUMS`, and the bundle must not hold.
#[tokio::test(flavor = "multi_thread")]
async fn a_key_verify_does_not_read_fails_the_bundle() {
    let fake = release_audit_test_support::FakeGitHub::start().await;
    let report = release_audit_test_support::zip_bytes(&[(
        "junit.xml",
        br#"<testsuites><testsuite name="e2e" tests="2"><testcase name="a"/><testcase name="b"/></testsuite></testsuites>"#
            .as_slice(),
    )]);
    let step = release_audit_test_support::step::e2e_audit_step(&fake, "9.9.9", &report).await;
    let result = step.run(&crate::binary(), &[]).await;
    assert_eq!(result.code, 0, "{}", result.stderr);
    let original = step.resolve(&result.outputs["bundle-path"]).with_extension("");
    let verify = |dir: &Path| {
        let out = Command::new(crate::binary()).arg("verify").arg(dir).output().unwrap();
        (out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    assert_eq!(verify(&original).0, 0, "the intact bundle holds");
    for (pointer, key) in
        [("", "security_review"), ("/verdict", "approved_by"), ("/evidence/tests/categories/0", "waived")]
    {
        let dir = step.path(&format!("forged-{key}")).join("audit-bundle-9.9.9");
        release_audit_test_support::copy_dir(&original, &dir);
        let path = dir.join("manifest.json");
        let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        manifest
            .pointer_mut(pointer)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert(key.into(), "approved by security".into());
        std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
        let sums = Command::new("bash")
            .arg("-c")
            .arg("find . -type f ! -name SHA256SUMS | sed 's|^./||' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS")
            .current_dir(&dir)
            .status()
            .unwrap();
        assert!(sums.success());
        let (code, out) = verify(&dir);
        assert_eq!(code, 1, "{pointer}/{key}: {out}");
        assert!(out.contains(&format!("{pointer}/{key}")), "the key is named: {out}");
    }
}

/// What a careful forger does after editing one JSON file of an unzipped bundle: every
/// record of the file in `manifest.json` gets its new sha256 and size, `manifest.yaml` is
/// written again from the manifest, and `SHA256SUMS` from the files.
fn forge_json(dir: &Path, rel: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    fn fix(v: &mut serde_json::Value, rel: &str, bytes: &[u8]) {
        use sha2::Digest as _;
        match v {
            serde_json::Value::Object(m) => {
                if m.get("path").and_then(serde_json::Value::as_str) == Some(rel) {
                    m.insert("sha256".into(), hex::encode(sha2::Sha256::digest(bytes)).into());
                    m.insert("size".into(), (bytes.len() as u64).into());
                }
                m.values_mut().for_each(|c| fix(c, rel, bytes));
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|c| fix(c, rel, bytes)),
            _ => {}
        }
    }
    let path = dir.join(rel);
    let mut value: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut value);
    let bytes = serde_json::to_vec_pretty(&value).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let manifest_path = dir.join("manifest.json");
    let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    if rel != "manifest.json" {
        fix(&mut manifest, rel, &bytes);
    }
    std::fs::write(&manifest_path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    let parsed: release_audit::bundle::manifest::Manifest = serde_json::from_value(manifest).unwrap();
    std::fs::write(dir.join("manifest.yaml"), serde_norway::to_string(&parsed).unwrap()).unwrap();
    let sums = Command::new("bash")
        .arg("-c")
        .arg("find . -type f ! -name SHA256SUMS | sed 's|^./||' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS")
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(sums.success());
}

/// `release-audit verify <dir>`: the exit code and what it printed.
fn verify(dir: &Path) -> (i32, String) {
    let out = Command::new(crate::binary()).arg("verify").arg(dir).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Round two of the unread-key rule: the image pair file (`images/<name>.json`, the
/// explanation included) and the test job's image record among the report files are
/// read by `verify` too, so a key added to either is a claim nothing checks. An image
/// record is the test job's (schema/image-record-v1.schema.json allows no other key):
/// the audit refuses one with an unknown key as it refuses any unreadable record.
#[tokio::test(flavor = "multi_thread")]
async fn a_key_verify_does_not_read_in_an_image_file_fails_the_bundle() {
    let host = crate::image_support::served::registry();
    let record = crate::image_record(&format!("{host}/dev/app:1"), &host);
    let fake = release_audit_test_support::FakeGitHub::start().await;
    let report = release_audit_test_support::zip_bytes(&[
        ("junit.xml", br#"<testsuite name="e2e" tests="1"><testcase name="a"/></testsuite>"#.as_slice()),
        ("image-record.json", &record),
    ]);
    let mut step = release_audit_test_support::step::e2e_audit_step(&fake, "9.9.9", &report).await;
    step.input("tested-image", &format!("{host}/dev/app:1"))
        .input("release-image", &format!("{host}/prod/app:1.0.0"))
        .input("insecure-registries", &host);
    let result = step.run(&crate::binary(), &[]).await;
    assert_eq!(result.code, 0, "{}", result.stderr);
    let original = step.resolve(&result.outputs["bundle-path"]).with_extension("");
    assert_eq!(verify(&original).0, 0, "the intact bundle holds: {}", verify(&original).1);
    let mut files = Vec::new();
    for e in walkdir(&original) {
        files.push(e);
    }
    let pair = files.iter().find(|f| f.starts_with("images/") && f.matches('/').count() == 1).expect("a pair file");
    let image_record = files.iter().find(|f| f.ends_with("image-record.json")).expect("the image record");
    for (rel, pointer, key) in [
        (pair.as_str(), "", "security_review"),
        (pair.as_str(), "/explanation", "waived_by"),
        (pair.as_str(), "/released", "signed_off"),
        (image_record.as_str(), "", "verified_by"),
        (image_record.as_str(), "/job", "approved"),
    ] {
        let dir = step.path(&format!("forged-{key}")).join("audit-bundle-9.9.9");
        release_audit_test_support::copy_dir(&original, &dir);
        forge_json(&dir, rel, |v| {
            v.pointer_mut(pointer).unwrap().as_object_mut().unwrap().insert(key.into(), "approved by security".into());
        });
        let (code, out) = verify(&dir);
        assert_eq!(code, 1, "{rel}{pointer}/{key}: {out}");
        assert!(out.contains(&format!("{pointer}/{key}")), "{rel}: the key is named: {out}");
    }
    // The audit itself: a test job's record with a key the schema does not have is a
    // record problem, which fails the pair.
    let mut extra: serde_json::Value = serde_json::from_slice(&record).unwrap();
    extra["approved"] = true.into();
    let fake = release_audit_test_support::FakeGitHub::start().await;
    let report = release_audit_test_support::zip_bytes(&[
        ("junit.xml", br#"<testsuite name="e2e" tests="1"><testcase name="a"/></testsuite>"#.as_slice()),
        ("image-record.json", &serde_json::to_vec(&extra).unwrap()),
    ]);
    let mut step = release_audit_test_support::step::e2e_audit_step(&fake, "9.9.9", &report).await;
    step.input("tested-image", &format!("{host}/dev/app:1"))
        .input("release-image", &format!("{host}/prod/app:1.0.0"))
        .input("insecure-registries", &host);
    let result = step.run(&crate::binary(), &[]).await;
    assert_eq!(result.code, 1, "an image record with an unknown key is refused: {}", result.stderr);
    assert!(result.summary.contains("/approved"), "the key is named: {}", result.summary);
}

/// Every file below `root`, bundle-relative and sorted.
fn walkdir(root: &Path) -> Vec<String> {
    fn below(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                below(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    below(root, root, &mut out);
    out.sort();
    out
}

/// One rule for declared totals: a Ginkgo JSON suite whose `PreRunStats.TotalSpecs` is
/// not the number of its spec reports (a failed spec's report dropped, `SuiteSucceeded`
/// left true) is a suite problem that fails the category, as a JUnit suite whose
/// `tests=` disagrees is; only a suite that failed already explains it.
#[test]
fn a_ginkgo_suite_declaring_more_specs_than_it_reports_fails() {
    let dir = tempfile::tempdir().unwrap();
    let spec = |text: &str, state: &str| {
        format!(
            r#"{{"ContainerHierarchyTexts": ["Pods"], "LeafNodeType": "It", "LeafNodeText": "{text}", "State": "{state}", "NumAttempts": 1, "MaxFlakeAttempts": 1, "MaxMustPassRepeatedly": 1, "Failure": {{}}}}"#
        )
    };
    let suite = |succeeded: bool, total: u32, specs: &[String]| {
        format!(
            r#"[{{"SuitePath": "/src/e2e", "SuiteDescription": "E2E", "SuiteSucceeded": {succeeded}, "PreRunStats": {{"TotalSpecs": {total}, "SpecsThatWillRun": {total}}}, "RunTime": 1000000000, "SpecReports": [{}]}}]"#,
            specs.join(",")
        )
    };
    let dropped = write(dir.path(), "dropped.json", &suite(true, 2, &[spec("start", "passed")]));
    let (code, json) = reports_json(&[&dropped]);
    assert_eq!(code, 1, "{json}");
    assert_eq!(json["totals"]["suite_problems"], 1, "{json}");
    assert!(json["files"][0]["suite_problems"][0]["message"].as_str().unwrap().contains("declares 2 specs"), "{json}");
    // The honest report of the same run still passes; a failed suite only notes it.
    let whole = write(dir.path(), "whole.json", &suite(true, 2, &[spec("start", "passed"), spec("stop", "passed")]));
    let (code, json) = reports_json(&[&whole]);
    assert_eq!((code, json["totals"]["suite_problems"].as_u64().unwrap_or(0)), (0, 0), "{json}");
    let failed = write(dir.path(), "failed.json", &suite(false, 2, &[spec("start", "failed")]));
    let (code, json) = reports_json(&[&failed]);
    assert_eq!((code, json["totals"]["suite_problems"].as_u64().unwrap_or(0)), (1, 0), "{json}");
}

/// Whether `text` holds an @mention GitHub would notify (its mention finder: an `@` at
/// the start or after a non-word character, then a letter or digit; not in code spans,
/// which GitHub leaves alone).
fn mentions(text: &str) -> Vec<String> {
    let outside_code: String = text.split('`').step_by(2).collect::<Vec<_>>().join(" ");
    let chars: Vec<char> = outside_code.chars().collect();
    (0..chars.len())
        .filter(|&i| {
            chars[i] == '@'
                && (i == 0 || !(chars[i - 1].is_ascii_alphanumeric() || chars[i - 1] == '_'))
                && chars.get(i + 1).is_some_and(char::is_ascii_alphanumeric)
        })
        .map(|i| chars[i..(i + 20).min(chars.len())].iter().collect())
        .collect()
}

/// A report's test names and messages reach `summary.md` (and the job summary, which
/// people paste into issues and pull requests): an `@alice` or `@org/security-team` in
/// them would notify whoever it names there. They are made inert by the one Markdown
/// escaping path, in the job summary and the bundle's `summary.md` alike; an address
/// stays as written.
#[tokio::test(flavor = "multi_thread")]
async fn mentions_in_a_report_do_not_notify_anyone_from_the_summary() {
    let fake = release_audit_test_support::FakeGitHub::start().await;
    let junit = r#"<testsuite name="@kyma-project/security" tests="2" failures="1"><testcase classname="@alice" name="@bob pings @kyma-project/owners"><failure message="cc @charlie (ops@example.com)">@dave</failure></testcase><testcase classname="c" name="ok"/></testsuite>"#;
    let report = release_audit_test_support::zip_bytes(&[("junit.xml", junit.as_bytes())]);
    let step = release_audit_test_support::step::e2e_audit_step(&fake, "9.9.9", &report).await;
    let result = step.run(&crate::binary(), &[]).await;
    assert_eq!(result.code, 1, "{}", result.stderr);
    let bundled = String::from_utf8(step.bundle_file(&result, "summary.md")).unwrap();
    for (what, text) in [("the job summary", &result.summary), ("summary.md", &bundled)] {
        assert!(text.contains("bob pings"), "{what} shows the failed test: {text}");
        assert_eq!(mentions(text), Vec::<String>::new(), "{what} mentions someone: {text}");
        assert!(text.contains("ops@example.com"), "{what} keeps an address as written: {text}");
    }
}

/// The first place `needle` occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A zip holding the one stored file `name`: its bytes up to its central directory (the
/// local entry alone, which a streaming reader extracts).
fn local_entry(name: &str, data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file(name, options).unwrap();
    zip.write_all(data).unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    let central = find(&bytes, b"PK\x01\x02").unwrap();
    bytes[..central].to_vec()
}

/// A bundle zip must read one way (issue 18): to `verify` (and so to `attach` and
/// `archive`), which follows the central directory, and to an auditor's tool, which may
/// follow the local headers from the start (a streaming unzip) or unzip onto a disk that
/// folds names. Every zip below is the real bundle with one trick; each is refused with
/// a reason naming the entry, where before the first four verified as holding.
#[tokio::test(flavor = "multi_thread")]
async fn a_bundle_zip_that_reads_two_ways_is_refused() {
    let fake = release_audit_test_support::FakeGitHub::start().await;
    let report = release_audit_test_support::zip_bytes(&[(
        "junit.xml",
        br#"<testsuite name="e2e" tests="1"><testcase name="a"/></testsuite>"#.as_slice(),
    )]);
    let step = release_audit_test_support::step::e2e_audit_step(&fake, "9.9.9", &report).await;
    let result = step.run(&crate::binary(), &[]).await;
    assert_eq!(result.code, 0, "{}", result.stderr);
    let zip_path = step.resolve(&result.outputs["bundle-path"]);
    let original = std::fs::read(&zip_path).unwrap();
    let verify_zip = |name: &str, bytes: &[u8]| {
        let dir = step.path(&format!("tricks-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit-bundle-9.9.9.zip");
        std::fs::write(&path, bytes).unwrap();
        let out = Command::new(crate::binary()).arg("verify").arg(&path).output().unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap(), said)
    };
    assert_eq!(verify_zip("none", &original).0, 0, "the bundle as written holds");
    let summary = b"audit-bundle-9.9.9/summary.md";
    let local = find(&original, summary).unwrap();
    assert_eq!(&original[local - 30..local - 26], b"PK\x03\x04", "the first name is the local header's");
    let failing =
        br#"<testsuite name="e2e" tests="1" failures="1"><testcase name="a"><failure/></testcase></testsuite>"#;
    let mut tricks: Vec<(&str, Vec<u8>, &str)> = Vec::new();
    // The local header names another file than the central directory.
    let mut renamed = original.clone();
    renamed[local + summary.len() - 1] = b'x';
    tricks.push(("local-name", renamed, "summary.md"));
    // The local header's CRC is not the central directory's.
    let mut crc = original.clone();
    crc[local - 30 + 14] ^= 0xFF;
    tricks.push(("local-crc", crc, "summary.md"));
    // A prepended local entry: a streaming reader extracts a report the audit never read.
    let mut stub = local_entry("audit-bundle-9.9.9/reports/e2e/pr-e2e-report/junit.xml", failing);
    stub.extend_from_slice(&original);
    tricks.push(("prepended", stub, "before its first entry"));
    // Bytes after the end record.
    let mut appended = original.clone();
    appended.extend_from_slice(&local_entry("audit-bundle-9.9.9/NOTE.md", b"approved by security"));
    tricks.push(("appended", appended, "after its end record"));
    let mut held = Vec::new();
    for (name, bytes, reason) in &tricks {
        let (code, said) = verify_zip(name, bytes);
        if code == 0 || !said.contains(reason) || !said.contains("read one way") {
            held.push(format!("{name} (exit {code}): {said}"));
        }
    }
    assert!(held.is_empty(), "not refused with a reason naming the entry or place:\n{}", held.join("\n"));
}

/// Names that are one file on an auditor's disk are one name: two entries that differ
/// only in Unicode normalisation (macOS stores `é` decomposed), or by a trailing dot
/// (Windows drops it), would let a passing report hide a failing one there. The artifact
/// is refused, naming both entries, as two entries differing in case are (the run
/// ends with the error); a directory entry that holds data (some tools write it as a
/// file) is refused too.
#[tokio::test(flavor = "multi_thread")]
async fn a_report_artifact_whose_names_are_one_file_elsewhere_is_refused() {
    let passing = br#"<testsuite name="e2e" tests="1"><testcase name="a"/></testsuite>"#.as_slice();
    let failing =
        br#"<testsuite name="e2e" tests="1" failures="1"><testcase name="a"><failure/></testcase></testsuite>"#
            .as_slice();
    for (names, reason) in [
        (["caf\u{e9}.xml", "cafe\u{301}.xml"], "name the same file"),
        (["junit.xml", "junit.xml."], "name the same file"),
    ] {
        let fake = release_audit_test_support::FakeGitHub::start().await;
        let report = release_audit_test_support::zip_bytes(&[(names[0], passing), (names[1], failing)]);
        let step = release_audit_test_support::step::e2e_audit_step(&fake, "9.9.9", &report).await;
        let result = step.run(&crate::binary(), &[]).await;
        assert_eq!(result.code, 3, "{names:?}: {}", result.everything());
        assert!(result.everything().contains(reason), "{names:?}: {}", result.everything());
    }
    let mut directory = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    directory.start_file("junit.xml", options).unwrap();
    std::io::Write::write_all(&mut directory, passing).unwrap();
    directory.start_file("failed.xml/", options).unwrap();
    std::io::Write::write_all(&mut directory, failing).unwrap();
    let report = directory.finish().unwrap().into_inner();
    let fake = release_audit_test_support::FakeGitHub::start().await;
    let step = release_audit_test_support::step::e2e_audit_step(&fake, "9.9.9", &report).await;
    let result = step.run(&crate::binary(), &[]).await;
    assert_eq!(result.code, 3, "{}", result.everything());
    assert!(result.everything().contains("directory entry that holds data"), "{}", result.everything());
}
