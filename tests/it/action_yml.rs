//! `action.yml` and the binary agree: every input the binary reads is declared with a
//! description, every declared input is read, and every output the binary writes is
//! declared.

use release_audit::config::RunArgs;

fn action() -> serde_norway::Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml")).unwrap();
    serde_norway::from_str(&text).unwrap()
}

fn keys(v: &serde_norway::Value) -> Vec<String> {
    v.as_mapping().unwrap().keys().map(|k| k.as_str().unwrap().to_string()).collect()
}

#[test]
fn declared_inputs_are_exactly_the_ones_the_binary_reads() {
    let action = action();
    let mut declared = keys(&action["inputs"]);
    let mut read: Vec<String> = RunArgs::INPUT_NAMES.iter().map(|s| s.to_string()).collect();
    declared.sort();
    read.sort();
    assert_eq!(declared, read);
    for name in &declared {
        let input = &action["inputs"][name.as_str()];
        assert!(input["description"].as_str().is_some_and(|d| !d.is_empty()), "{name} has no description");
        assert!(input.get("default").is_some() || input["required"].as_bool() == Some(true), "{name} has no default");
    }
    assert_eq!(action["inputs"]["github-token"]["default"], "${{ github.token }}");
}

#[test]
fn every_output_the_binary_writes_is_declared() {
    let action = action();
    let declared = keys(&action["outputs"]);
    let sources = ["src/cli/run.rs"]
        .map(|f| std::fs::read_to_string(format!("{}/{f}", env!("CARGO_MANIFEST_DIR"))).unwrap())
        .join("\n");
    let written: Vec<&str> = sources.split("out.set(\"").skip(1).map(|s| s.split('"').next().unwrap()).collect();
    assert!(written.len() >= 6, "{written:?}");
    for name in written {
        assert!(declared.iter().any(|d| d == name), "output {name} is written but not declared in action.yml");
    }
}

#[test]
fn the_action_runs_a_prebuilt_image() {
    let action = action();
    assert_eq!(action["runs"]["using"], "docker");
    assert!(
        action["runs"]["image"].as_str().unwrap().starts_with("docker://"),
        "users must not build Rust on every run"
    );
    assert!(action["branding"]["icon"].as_str().is_some());
}

#[test]
fn the_readme_documents_every_input_output_and_both_commands() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let action = action();
    for section in ["inputs", "outputs"] {
        for name in keys(&action[section]) {
            assert!(readme.contains(&format!("| `{name}`")), "README does not document {section} `{name}`");
        }
    }
    assert!(readme.contains("`tests/run`") && readme.contains("`demo/run`"));
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    assert!(ci.lines().any(|l| l.trim() == "exec tests/run"), ".ci/run must call the README's test command");
}
