//! The release machinery agrees with itself: action.yml, the CI workflow that builds and
//! tests the commit's image, the release workflow that rebuilds, audits and pins it, and
//! the Dockerfile. Names, tag scheme and the digest-pin form are read from the files,
//! so a rename in one place fails here instead of in a release.

use std::path::Path;

use serde_norway::Value;

const IMAGE: &str = "ghcr.io/kyma-project/release-audit";

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn yaml(rel: &str) -> Value {
    serde_norway::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not YAML: {e}"))
}

fn cargo_version() -> String {
    read("Cargo.toml")
        .lines()
        .find_map(|l| l.strip_prefix("version = \"").and_then(|v| v.strip_suffix('"')).map(str::to_string))
        .expect("Cargo.toml has a version")
}

/// Every `run:` script and `uses:` of a workflow, in order.
fn steps(workflow: &Value) -> Vec<&Value> {
    workflow["jobs"]
        .as_mapping()
        .expect("jobs")
        .values()
        .flat_map(|job| job["steps"].as_sequence().expect("steps").iter())
        .collect()
}

fn runs(workflow: &Value) -> String {
    steps(workflow).iter().filter_map(|s| s["run"].as_str()).collect::<Vec<_>>().join("\n")
}

/// Every action this repository ships; each runs the one image.
const ACTIONS: [&str; 4] = ["action.yml", "record/action.yml", "attach/action.yml", "archive/action.yml"];

fn is_sha256(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

#[test]
fn action_yml_names_the_image_by_digest_or_the_version_under_development() {
    let action = yaml("action.yml");
    assert_eq!(action["runs"]["using"], "docker");
    assert_eq!(action["runs"]["args"], serde_norway::from_str::<Value>("['run']").unwrap());
    let image = action["runs"]["image"].as_str().expect("runs.image");
    let reference = image.strip_prefix("docker://").expect("a prebuilt image, docker://…");
    if let Some((name, digest)) = reference.split_once('@') {
        // A release commit: pinned by digest, nothing else.
        assert_eq!(name, IMAGE);
        assert!(is_sha256(digest), "{image} is not pinned by a sha256 digest");
    } else {
        // main: the version being developed, by its image tag (no `v`).
        assert_eq!(
            reference,
            format!("{IMAGE}:{}", cargo_version()),
            "main's action.yml names the image of Cargo.toml's version"
        );
    }
}

#[test]
fn the_release_workflow_pins_action_yml_by_the_digest_it_pushed() {
    let release = yaml(".github/workflows/release.yml");
    assert_eq!(release["env"]["IMAGE"], IMAGE);
    assert_eq!(release["env"]["MAJOR_TAG"], "v0", "the moving major tag of a 0.x action");
    // Started by a vX.Y.Z tag or by hand with X.Y.Z.
    assert_eq!(release["on"]["push"]["tags"][0], "v[0-9]+.[0-9]+.[0-9]+");
    assert!(release["on"]["workflow_dispatch"]["inputs"]["version"]["required"].as_bool().unwrap_or(false));
    let script = runs(&release);
    // Image tags carry no `v`; git tags do.
    assert!(script.contains(r#"scripts/image.sh push release-audit:release "$IMAGE:$VERSION""#), "{script}");
    assert!(script.contains(r#"version="${INPUT_VERSION:-${GITHUB_REF_NAME#v}}""#));
    assert!(script.contains(r#"git tag -f "v$VERSION""#));
    // The pinning loop, run on copies of both actions: each names the pushed digest
    // afterwards, in exactly the form the test above accepts.
    let start = script
        .find("for file in action.yml record/action.yml attach/action.yml archive/action.yml")
        .expect("all four actions are pinned");
    let pin = &script[start..start + script[start..].find("\ndone").expect("the loop ends") + 5];
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(work.path().join("record")).unwrap();
    std::fs::create_dir_all(work.path().join("attach")).unwrap();
    std::fs::create_dir_all(work.path().join("archive")).unwrap();
    for file in ACTIONS {
        std::fs::write(work.path().join(file), read(file)).unwrap();
    }
    let digest = format!("sha256:{}", "ab".repeat(32));
    let out = std::process::Command::new("bash")
        .arg("-euc")
        .arg(pin)
        .current_dir(work.path())
        .env("IMAGE", IMAGE)
        .env("DIGEST", &digest)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    for file in ACTIONS {
        let pinned = std::fs::read_to_string(work.path().join(file)).unwrap();
        assert!(pinned.lines().any(|l| l == format!("  image: docker://{IMAGE}@{digest}")), "{file}:\n{pinned}");
        assert!(!pinned.contains(&format!("{IMAGE}:")), "{file} still names a tag");
    }
    assert!(
        script.contains("git commit -q")
            && script.contains("action.yml record/action.yml attach/action.yml archive/action.yml"),
        "all three files are committed"
    );
    // Reproducible and cross-compiled: the commit time, both platforms, no emulation.
    assert!(script.contains("scripts/image.sh binaries"));
    assert!(script.contains("scripts/image.sh build release-audit:release linux/amd64,linux/arm64"));
    assert!(read(".github/workflows/release.yml").contains("epoch=$(git log -1 --format=%ct"));
}

#[test]
fn the_release_audits_itself_with_the_image_it_pinned_before_anything_names_it() {
    let release = yaml(".github/workflows/release.yml");
    let all = steps(&release);
    let position = |pred: &dyn Fn(&Value) -> bool, what: &str| {
        all.iter().position(|s| pred(s)).unwrap_or_else(|| panic!("no step {what}"))
    };
    let has_run = |needle: &'static str| move |s: &Value| s["run"].as_str().is_some_and(|r| r.contains(needle));
    let push = position(&has_run("scripts/image.sh push"), "pushes the image");
    let commit = position(&has_run("git commit"), "makes the release commit");
    let audit = position(&|s: &Value| s["uses"] == "./", "runs the action of the release commit");
    let tag = position(&has_run(r#"git push --force origin "refs/tags/v$VERSION""#), "pushes vX.Y.Z");
    let major = position(&has_run(r#"git push --force origin "refs/tags/$MAJOR_TAG""#), "moves v0");
    assert!(
        push < commit && commit < audit && audit < tag && tag < major,
        "order: push {push}, commit {commit}, audit {audit}, tag {tag}, v0 {major}"
    );

    // The audit compares CI's tested image of the source commit with the released one,
    // strictly, against the digest CI recorded, with CI's test report as evidence.
    let with = &all[audit]["with"];
    assert_eq!(with["tested-image"], "${{ env.IMAGE }}:sha-${{ steps.source.outputs.sha }}");
    assert_eq!(with["release-image"], "${{ env.IMAGE }}:${{ steps.source.outputs.version }}");
    assert_eq!(with["expected-digest"], "${{ steps.push.outputs.tested-digest }}");
    assert_eq!(with["digest-policy"], "identical");
    assert_eq!(with["unit-reports"], "ci-test-report");
    assert_eq!(with["run-ids"], "${{ steps.source.outputs.ci-run }}");
    // The bundle goes onto the GitHub release.
    assert!(all[tag]["run"].as_str().unwrap().contains(r#"gh release create "v$VERSION" --verify-tag"#));
    assert!(all[tag]["run"].as_str().unwrap().contains(r#""$BUNDLE" "$BUNDLE.sha256""#));
    // Every input it passes exists in action.yml.
    let action = yaml("action.yml");
    for key in with.as_mapping().unwrap().keys() {
        let key = key.as_str().unwrap();
        assert!(!action["inputs"][key].is_null(), "release.yml passes `{key}`, which action.yml does not declare");
    }
}

#[test]
fn ci_builds_and_records_the_image_the_release_compares_against() {
    let ci = yaml(".github/workflows/ci.yml");
    let release = yaml(".github/workflows/release.yml");
    assert_eq!(ci["env"]["IMAGE"], IMAGE);
    let script = runs(&ci);
    assert!(script.contains(r#"scripts/image.sh push release-audit:ci "$IMAGE:sha-$GITHUB_SHA""#), "{script}");
    // Built the way the release rebuilds it: same script, platforms, commit time, toolchain.
    assert!(script.contains(r#"SOURCE_DATE_EPOCH="$(git log -1 --format=%ct)" scripts/image.sh build release-audit:ci linux/amd64,linux/arm64"#));
    let toolchain =
        |s: &str| s.lines().find(|l| l.contains("rustup toolchain install")).map(str::trim).map(str::to_string);
    assert_eq!(
        toolchain(&script),
        toolchain(&runs(&release)),
        "CI and the release must compile with the same toolchain"
    );
    assert!(toolchain(&script).is_some());
    // The container test runs the very image pushed, by digest.
    assert!(
        read(".github/workflows/ci.yml")
            .contains("RA_CONTAINER_IMAGE: ${{ env.IMAGE }}@${{ steps.push.outputs.digest }}")
    );
    // The artifacts the release reads are the ones CI uploads.
    let uploaded: Vec<String> = steps(&ci)
        .iter()
        .filter(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("actions/upload-artifact@")))
        .map(|s| s["with"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(uploaded, ["ci-test-report", "ci-image"]);
    let downloaded: Vec<&Value> = steps(&release)
        .into_iter()
        .filter(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("actions/download-artifact@")))
        .collect();
    assert_eq!(downloaded[0]["with"]["name"], "ci-image");
    // The release finds CI's run by the workflow file's name.
    assert!(runs(&release).contains("actions/workflows/ci.yml/runs?head_sha=$sha&event=push&status=success"));
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows/ci.yml").is_file());
}

#[test]
fn no_workflow_emulates_or_pushes_a_v_tagged_image() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!text.contains("setup-qemu-action"), "{name}: arm64 is cross-compiled, never emulated");
        assert!(!text.contains(&format!("{IMAGE}:v")) && !text.contains("$IMAGE:v"), "{name}: image tags carry no `v`");
    }
    // Nothing runs inside the image build, so a foreign platform needs no emulator.
    let dockerfile = read("Dockerfile");
    assert!(!dockerfile.lines().any(|l| l.trim_start().starts_with("RUN ")), "the Dockerfile must not RUN anything");
    let certs = dockerfile.lines().find(|l| l.starts_with("ARG CERTS_IMAGE=")).expect("ARG CERTS_IMAGE");
    assert!(
        certs.split_once('@').is_some_and(|(_, d)| is_sha256(d)),
        "the CA bundle's image must be pinned by digest: {certs}"
    );
}

/// Majors that run on Node 24 (checked against the actions' own tags, late 2026).
const CURRENT: &[(&str, u32)] = &[
    ("actions/checkout", 7),
    ("actions/setup-node", 7),
    ("actions/setup-python", 7),
    ("actions/upload-artifact", 7),
    ("actions/download-artifact", 8),
    ("taiki-e/install-action", 2),
    ("google-github-actions/auth", 3),
    ("aws-actions/configure-aws-credentials", 6),
    ("actions/attest", 4),
    ("actions/cache/restore", 5),
    ("actions/cache/save", 5),
];

#[test]
fn our_workflows_use_current_action_majors() {
    // Pinned by SHA (tests/it/workflow_lint.rs); the version stands in the comment after it.
    for file in [
        ".github/workflows/ci.yml",
        ".github/workflows/release.yml",
        ".github/workflows/release-audit.yml",
        ".github/workflows/audit-archive.yml",
    ] {
        let text = std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        for line in text.lines().map(str::trim).filter(|l| l.trim_start_matches("- ").starts_with("uses:")) {
            let u = line.trim_start_matches("- ").trim_start_matches("uses:").trim();
            if u.starts_with("./") {
                continue;
            }
            let (reference, comment) = u.split_once(" # ").unwrap_or_else(|| panic!("{file}: `{u}` names no version"));
            let name = reference.split_once('@').map(|(n, _)| n).unwrap_or_else(|| panic!("{file}: {u} has no ref"));
            let &(_, major) = CURRENT
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap_or_else(|| panic!("{file}: {name} is not in the list of checked actions"));
            assert!(
                comment.trim() == format!("v{major}") || comment.trim().starts_with(&format!("v{major}.")),
                "{file}: {u} is not the current major v{major}"
            );
        }
    }
}
