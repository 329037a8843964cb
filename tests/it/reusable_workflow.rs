//! `.github/workflows/release-audit.yml`, the reusable workflow, read as GitHub reads it:
//! secrets that `secrets: inherit` can deliver, no permission a read-only caller cannot
//! grant, every input passed through to the action under its own name, and the action
//! taken from the workflow's own commit.

use std::collections::BTreeSet;

use serde_norway::Value;

fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

fn workflow() -> Value {
    load(".github/workflows/release-audit.yml")
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_mapping().map(|m| m.keys().map(|k| k.as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

/// The two jobs: the same steps, one with read permissions, one inheriting the caller's.
const JOBS: [&str; 2] = ["audit", "audit-with-caller-permissions"];

/// Action inputs that come from the workflow's secrets (and the keyless logins), not from
/// its inputs: the value's first line is the secret.
const FROM_SECRETS: [(&str, &str); 3] = [
    ("github-token", "${{ secrets.AUDIT_TOKEN || github.token }}"),
    ("registry-credentials", "${{ secrets.REGISTRY_CREDENTIALS }}"),
    ("storage-credentials", "${{ secrets.STORAGE_CREDENTIALS }}"),
];

/// Inputs of the workflow that configure the keyless logins, not the action.
const LOGIN_INPUTS: [&str; 5] =
    ["gcp-workload-identity-provider", "gcp-service-account", "gcp-registry", "aws-role-to-assume", "aws-region"];

/// Inputs of the workflow that configure its signing steps, not the action.
const SIGNING_INPUTS: [&str; 2] = ["sign", "push-to-registry"];

fn action_step(w: &Value, job: &str) -> Value {
    let steps = w["jobs"][job]["steps"].as_sequence().unwrap_or_else(|| panic!("job {job} has no steps"));
    steps.iter().find(|s| s["id"] == "audit").unwrap_or_else(|| panic!("job {job} has no step with id audit")).clone()
}

#[test]
fn secrets_have_underscore_names_that_secrets_inherit_delivers() {
    let w = workflow();
    let secrets = &w["on"]["workflow_call"]["secrets"];
    assert_eq!(
        keys(secrets),
        BTreeSet::from(["AUDIT_TOKEN", "REGISTRY_CREDENTIALS", "STORAGE_CREDENTIALS"].map(String::from))
    );
    for name in keys(secrets) {
        assert!(
            name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
            "secret {name}: hyphens and lower case do not arrive through secrets: inherit"
        );
        assert!(!name.starts_with("GITHUB_"), "secret {name}: names starting with GITHUB_ are reserved");
        assert_ne!(
            secrets[name.as_str()]["required"],
            true,
            "secret {name} must be optional: a public-registry caller has none"
        );
        assert!(
            secrets[name.as_str()]["description"].as_str().is_some_and(|d| !d.is_empty()),
            "secret {name} has no description"
        );
    }
    // Every secret the file uses is declared.
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.github/workflows/release-audit.yml")).unwrap();
    for used in text
        .split("secrets.")
        .skip(1)
        .map(|rest| rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).next().unwrap())
    {
        assert!(keys(secrets).contains(used), "secrets.{used} is used but not declared");
    }
}

#[test]
fn no_job_demands_a_permission_a_read_only_caller_lacks() {
    let w = workflow();
    assert!(w.get("permissions").is_none(), "workflow-level permissions would apply to both jobs");
    let audit = &w["jobs"]["audit"];
    assert_eq!(keys(&audit["permissions"]), BTreeSet::from(["actions".to_string(), "contents".to_string()]));
    assert_eq!(audit["permissions"]["actions"], "read");
    assert_eq!(audit["permissions"]["contents"], "read");
    assert_eq!(
        audit["if"],
        "${{ !inputs.release-asset && !inputs.gcp-workload-identity-provider && !inputs.aws-role-to-assume && !inputs.sign }}"
    );
    // GitHub checks each job's permissions against the caller's when it loads the
    // workflow, before `if:`: the job that attaches the release asset or logs in without a
    // key, or signs, declares none and takes the caller's `contents: write` /
    // `id-token: write` / `attestations: write`.
    let inheriting = &w["jobs"]["audit-with-caller-permissions"];
    assert!(inheriting.get("permissions").is_none(), "{inheriting:?}");
    assert_eq!(
        inheriting["if"],
        "${{ inputs.release-asset || inputs.gcp-workload-identity-provider || inputs.aws-role-to-assume || inputs.sign }}"
    );
    assert_eq!(keys(&w["jobs"]), JOBS.iter().map(|s| s.to_string()).collect());
    let text = serde_norway::to_string(&w["jobs"]).unwrap();
    assert!(!text.contains(": write"), "no job may ask for write permissions:\n{text}");
}

#[test]
fn the_action_comes_from_the_workflows_own_commit() {
    let w = workflow();
    for job in JOBS {
        let steps = w["jobs"][job]["steps"].as_sequence().unwrap();
        let checkout = steps
            .iter()
            .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("actions/checkout@")))
            .expect("a checkout step");
        let pinned = checkout["uses"].as_str().unwrap().split('@').nth(1).unwrap();
        assert!(
            pinned.len() == 40 && pinned.bytes().all(|b| b.is_ascii_hexdigit()),
            "actions/checkout pinned by commit, not {pinned}"
        );
        assert_eq!(checkout["with"]["repository"], "${{ job.workflow_repository }}");
        assert_eq!(checkout["with"]["ref"], "${{ job.workflow_sha }}");
        assert_eq!(checkout["with"]["persist-credentials"], false);
        let path = checkout["with"]["path"].as_str().unwrap();
        assert_eq!(action_step(&w, job)["uses"], format!("./{path}"), "the action is run from that checkout");
        for step in steps {
            let uses = step["uses"].as_str().unwrap_or_default();
            assert!(
                !uses.contains("release-audit@"),
                "job {job} calls the action at a ref of its own ({uses}); it must be the workflow's commit"
            );
            if let Some(script) = step["run"].as_str() {
                assert!(
                    !script.contains("${{"),
                    "job {job}: expressions reach scripts through env:, never inline:\n{script}"
                );
            }
        }
    }
    // Both jobs run the same thing.
    assert_eq!(w["jobs"]["audit"]["steps"], w["jobs"]["audit-with-caller-permissions"]["steps"]);
    assert_eq!(w["jobs"]["audit"]["outputs"], w["jobs"]["audit-with-caller-permissions"]["outputs"]);
}

#[test]
fn every_input_is_passed_through_to_the_action_under_its_own_name() {
    let w = workflow();
    let action = load("action.yml");
    let action_inputs = keys(&action["inputs"]);
    let call_inputs = keys(&w["on"]["workflow_call"]["inputs"]);
    for job in JOBS {
        let with = action_step(&w, job)["with"].clone();
        let passed = keys(&with);
        for name in &passed {
            assert!(action_inputs.contains(name), "job {job} passes `{name}`, which action.yml does not declare");
        }
        for name in &action_inputs {
            assert!(
                passed.contains(name),
                "job {job} does not pass the action input `{name}`: offer it as an input or a secret"
            );
        }
        for (name, value) in FROM_SECRETS {
            let given = with[name].as_str().unwrap_or_default();
            assert_eq!(given.lines().next(), Some(value), "job {job}: {name}");
            assert!(!call_inputs.contains(name), "`{name}` must be a secret, not an input");
        }
        for name in call_inputs.iter().filter(|n| !LOGIN_INPUTS.contains(&n.as_str())) {
            if SIGNING_INPUTS.contains(&name.as_str()) {
                continue;
            }
            let expected = if name == "release-asset" {
                // Signed bundles are attached after signing, by the attach step.
                "${{ inputs.release-asset && !inputs.sign && 'true' || 'false' }}".to_string()
            } else {
                format!("${{{{ inputs.{name} }}}}")
            };
            assert_eq!(with[name.as_str()], expected.as_str(), "job {job}: input `{name}` is not passed through as is");
        }
        for name in passed.iter().filter(|n| !FROM_SECRETS.iter().any(|(s, _)| s == *n)) {
            assert!(!SIGNING_INPUTS.contains(&name.as_str()), "job {job} passes the workflow's `{name}` to the action");
            assert!(call_inputs.contains(name), "job {job} passes `{name}`, which is not a workflow_call input");
        }
    }
    // `repository` is there for the central and the manual path.
    assert!(call_inputs.contains("repository"));
    assert_eq!(w["on"]["workflow_call"]["inputs"]["release-asset"]["type"], "boolean");
    assert_eq!(w["on"]["workflow_call"]["inputs"]["release-version"]["required"], true);
}

#[test]
fn workflow_dispatch_audits_any_repository_by_run_ids() {
    let w = workflow();
    let dispatch = &w["on"]["workflow_dispatch"]["inputs"];
    let call_inputs = keys(&w["on"]["workflow_call"]["inputs"]);
    let names = keys(dispatch);
    assert!(
        names.len() <= 10,
        "workflow_dispatch takes at most 10 inputs on older GitHub Enterprise Server ({})",
        names.len()
    );
    for required in ["repository", "release-version", "run-ids"] {
        assert_eq!(dispatch[required]["required"], true, "{required}");
    }
    for name in &names {
        assert!(
            call_inputs.contains(name),
            "dispatch input `{name}` must have the workflow_call input's name: both reach the action as inputs.{name}"
        );
    }
    // Default globs never put one artifact into two categories.
    let globs = |name: &str| -> Vec<String> {
        dispatch[name]["default"].as_str().unwrap_or_default().split(',').map(str::to_string).collect()
    };
    let artifact = "pr-e2e-upgrade-report";
    let matching: Vec<&str> = ["unit-reports", "e2e-reports", "gardener-reports", "upgrade-reports"]
        .into_iter()
        .filter(|c| globs(c).iter().any(|g| glob_matches(g, artifact)))
        .collect();
    assert_eq!(matching, ["upgrade-reports"]);
    for name in [
        "pr-e2e-metrics-a-report",
        "pr-e2e-traces-report",
        "selfmonitor-healthy-report",
        "pr-selfmonitor-healthy-log-agent-report",
    ] {
        assert!(globs("e2e-reports").iter().any(|g| glob_matches(g, name)), "{name}");
    }
    assert!(
        globs("gardener-reports").iter().any(|g| glob_matches(g, "gardener-gardener-integration-test-1.34-report"))
    );
}

#[test]
fn workflow_outputs_come_from_whichever_job_ran() {
    let w = workflow();
    let action_outputs = keys(&load("action.yml")["outputs"]);
    for (name, output) in w["on"]["workflow_call"]["outputs"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        assert_eq!(
            output["value"],
            format!("${{{{ jobs.audit.outputs.{name} || jobs.audit-with-caller-permissions.outputs.{name} }}}}")
                .as_str()
        );
        assert!(action_outputs.contains(name), "output {name} is not an action output");
        assert_eq!(w["jobs"]["audit"]["outputs"][name], format!("${{{{ steps.audit.outputs.{name} }}}}").as_str());
    }
}

/// `*` matches any run of characters (the only wildcard the defaults use).
fn glob_matches(glob: &str, name: &str) -> bool {
    let parts: Vec<&str> = glob.split('*').collect();
    if parts.len() == 1 {
        return glob == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || !name.ends_with(last) || name.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

/// The keyless logins: pinned actions, called with the inputs their own `action.yml`
/// declares (google-github-actions/auth v3.0.0, aws-actions/configure-aws-credentials
/// v6.2.3, read from their sources), only when asked for, and their short-lived
/// credentials reach the action only as extra lines of the credential inputs.
#[test]
fn keyless_logins_run_only_when_asked_and_feed_the_credential_inputs() {
    const AUTH_INPUTS: [&str; 5] = [
        "workload_identity_provider",
        "service_account",
        "token_format",
        "create_credentials_file",
        "export_environment_variables",
    ];
    const AWS_INPUTS: [&str; 4] = ["role-to-assume", "aws-region", "output-credentials", "output-env-credentials"];
    let w = workflow();
    let call_inputs = keys(&w["on"]["workflow_call"]["inputs"]);
    for name in LOGIN_INPUTS {
        assert!(call_inputs.contains(name), "workflow_call input {name}");
    }
    for job in JOBS {
        let steps = w["jobs"][job]["steps"].as_sequence().unwrap();
        let step = |id: &str| steps.iter().find(|s| s["id"] == id).unwrap_or_else(|| panic!("{job}: step {id}"));
        let (gcp, aws) = (step("gcp"), step("aws"));
        assert!(gcp["uses"].as_str().unwrap().starts_with("google-github-actions/auth@7c6bc770"));
        assert!(aws["uses"].as_str().unwrap().starts_with("aws-actions/configure-aws-credentials@e6de0542"));
        assert_eq!(gcp["if"], "${{ inputs.gcp-workload-identity-provider }}");
        assert_eq!(aws["if"], "${{ inputs.aws-role-to-assume }}");
        assert_eq!(keys(&gcp["with"]), AUTH_INPUTS.iter().map(|s| s.to_string()).collect());
        assert_eq!(keys(&aws["with"]), AWS_INPUTS.iter().map(|s| s.to_string()).collect());
        assert_eq!(gcp["with"]["token_format"], "access_token");
        assert_eq!(gcp["with"]["create_credentials_file"], false, "no key file left on the runner");
        assert_eq!(aws["with"]["output-credentials"], true);
        let with = &action_step(&w, job)["with"];
        let registry = with["registry-credentials"].as_str().unwrap();
        assert!(registry.contains("steps.gcp.outputs.access_token") && registry.contains("inputs.gcp-registry"));
        let storage = with["storage-credentials"].as_str().unwrap();
        for output in [
            "gcp.outputs.access_token",
            "aws.outputs.aws-access-key-id",
            "aws.outputs.aws-secret-access-key",
            "aws.outputs.aws-session-token",
        ] {
            assert!(storage.contains(&format!("steps.{output}")), "{job}: storage-credentials without {output}");
        }
    }
}

/// The pinned `actions/attest` and the interface of its `action.yml` at that commit
/// (tests/fixtures/actions/actions-attest-<sha>/action.yml, copied from the action's
/// repository at the tag v4.2.2).
const ATTEST_SHA: &str = "1e69f48acb82d1966a394da916b4c1698aa569d6";

fn attest_inputs() -> (BTreeSet<String>, BTreeSet<String>) {
    let action = load(&format!("tests/fixtures/actions/actions-attest-{ATTEST_SHA}/action.yml"));
    let inputs = &action["inputs"];
    let all = keys(inputs);
    let required = all.iter().filter(|k| inputs[k.as_str()]["required"] == true).cloned().collect();
    (all, required)
}

/// Every `actions/attest` step in `steps`: each pinned at [`ATTEST_SHA`], each `with:`
/// key an input of that action.yml, every required input given, and the rules its
/// descriptions state (one subject source; a name with a digest; a type with a predicate).
fn check_attest_steps(steps: &[Value], place: &str) -> usize {
    let (inputs, required) = attest_inputs();
    let mut found = 0;
    for step in steps.iter().filter(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("actions/attest@"))) {
        found += 1;
        let uses = step["uses"].as_str().unwrap();
        assert_eq!(uses, format!("actions/attest@{ATTEST_SHA}"), "{place}: attest pinned at the checked interface");
        let with = keys(&step["with"]);
        for key in &with {
            assert!(inputs.contains(key), "{place}: `{key}` is not an input of actions/attest@{ATTEST_SHA}");
        }
        for key in &required {
            assert!(with.contains(key), "{place}: the required input `{key}` of actions/attest is missing");
        }
        let subjects = ["subject-path", "subject-digest", "subject-checksums"].iter().filter(|k| with.contains(**k));
        assert!(subjects.count() <= 1, "{place}: at most one of subject-path, subject-digest, subject-checksums");
        assert_eq!(
            with.contains("subject-digest"),
            with.contains("subject-name"),
            "{place}: subject-name with subject-digest"
        );
        let predicates = ["predicate", "predicate-path"].iter().filter(|k| with.contains(**k)).count();
        assert!(predicates <= 1, "{place}: one of predicate, predicate-path");
        assert_eq!(predicates == 1, with.contains("predicate-type"), "{place}: predicate-type with a predicate");
    }
    found
}

#[test]
fn the_attest_steps_call_the_pinned_actions_attest_with_its_own_inputs() {
    let (inputs, _) = attest_inputs();
    assert!(
        inputs.contains("subject-path") && inputs.contains("push-to-registry"),
        "the fixture is attest's action.yml"
    );
    let w = workflow();
    for job in JOBS {
        let steps = w["jobs"][job]["steps"].as_sequence().unwrap();
        assert_eq!(check_attest_steps(steps, job), 2, "{job}: the zip and the VSA are signed");
        let step = |id: &str| steps.iter().find(|s| s["id"] == id).unwrap_or_else(|| panic!("{job}: step {id}"));
        let (zip, vsa) = (step("attest-bundle"), step("attest-vsa"));
        assert_eq!(zip["with"]["subject-path"], "${{ steps.audit.outputs.bundle-path }}");
        assert_eq!(vsa["with"]["subject-digest"], "${{ steps.audit.outputs.image-subject-digest }}");
        assert_eq!(vsa["with"]["predicate-type"], "https://slsa.dev/verification_summary/v1");
        assert_eq!(vsa["with"]["predicate-path"], "${{ steps.audit.outputs.vsa-predicate-path }}");
        assert_eq!(vsa["with"]["push-to-registry"], "${{ inputs.push-to-registry }}");
        for s in [zip, vsa] {
            assert!(s["if"].as_str().unwrap().contains("inputs.sign"), "{job}: signs only when asked: {s:?}");
        }
    }
    // Signing needs id-token: write, which the read-only `audit` job never has.
    assert!(w["jobs"]["audit"]["if"].as_str().unwrap().contains("!inputs.sign"));
    // The README's snippets call it the same way.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut in_readme = 0;
    for block in readme.split("```yaml").skip(1).filter_map(|b| b.split("```").next()) {
        if !block.contains("actions/attest@") {
            continue;
        }
        let doc: Value =
            serde_norway::from_str(block).unwrap_or_else(|e| panic!("README snippet is not YAML: {e}\n{block}"));
        in_readme += check_attest_steps(&steps_in(&doc), "README");
    }
    assert!(in_readme >= 2, "the README shows how to sign the zip and the VSA ({in_readme} attest steps)");
}

/// Every step anywhere in a snippet: a step list, a job's `steps:`, or a workflow's jobs.
fn steps_in(doc: &Value) -> Vec<Value> {
    match doc {
        Value::Sequence(items) => {
            let mut out: Vec<Value> =
                items.iter().filter(|i| i.get("uses").is_some() || i.get("run").is_some()).cloned().collect();
            out.extend(items.iter().flat_map(steps_in));
            out
        }
        Value::Mapping(m) => m.values().flat_map(steps_in).collect(),
        _ => Vec::new(),
    }
}

/// With `sign` and `storage-url`, the Sigstore bundles reach object storage too: an
/// `attach` step (inputs only of `attach/action.yml`) stores them beside the stored zip,
/// with the storage inputs and credential lines exactly as the audit step gets them.
#[test]
fn signatures_reach_object_storage_through_attach_with_the_audit_steps_storage_inputs() {
    let w = workflow();
    let attach_inputs = keys(&load("attach/action.yml")["inputs"]);
    for job in JOBS {
        let steps = w["jobs"][job]["steps"].as_sequence().unwrap();
        let audit = &action_step(&w, job)["with"];
        let store = steps
            .iter()
            .find(|s| s["uses"] == "./.release-audit-action/attach" && s["with"].get("storage-url").is_some())
            .unwrap_or_else(|| panic!("{job}: an attach step with storage-url"));
        let condition = store["if"].as_str().unwrap();
        assert!(
            condition.contains("inputs.storage-url != ''") && condition.contains("steps.sigstore.outputs.dir != ''"),
            "{job}: only with storage and a signature: {condition}"
        );
        for key in keys(&store["with"]) {
            assert!(attach_inputs.contains(&key), "{job}: `{key}` is not an input of attach/action.yml");
        }
        for name in ["storage-url", "storage-credentials", "storage-retain-until", "storage-retention-days"] {
            assert_eq!(store["with"][name], audit[name], "{job}: `{name}` as the audit step gets it");
        }
        assert_eq!(store["with"]["sigstore-bundles"], "${{ steps.sigstore.outputs.paths }}");
        assert_eq!(store["with"]["bundle-name"], "${{ steps.sigstore.outputs.name }}");
        assert!(store["with"].get("release-tag").is_none(), "{job}: the release path is its own step");
    }
}
