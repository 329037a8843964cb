//! Field-level diff of two image configs (`application/vnd.oci.image.config.v1+json`,
//! Docker's `container.image.v1+json`): each difference becomes a finding with the
//! remedy that removes it.

use serde_json::Value;

use super::{Finding, Level, Remedy, count};
use crate::registry::reference::Platform;

/// Fields of `config` (the runtime configuration) and what their difference means.
const RUNTIME_FIELDS: &[&str] = &[
    "User",
    "Env",
    "Entrypoint",
    "Cmd",
    "WorkingDir",
    "ExposedPorts",
    "Volumes",
    "StopSignal",
    "Shell",
    "Healthcheck",
    "OnBuild",
    "ArgsEscaped",
];

/// Top-level fields Docker's classic builder writes about the machine it ran on.
const BUILD_ENVIRONMENT_FIELDS: &[&str] =
    &["container", "container_config", "docker_version", "builder", "moby.buildkit.buildinfo.v1"];

/// Compares configs `a` (tested) and `b` (released).
pub fn diff(a: &Value, b: &Value, platform: Option<&Platform>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let finding = |summary: String, details: Vec<String>, remedy: Remedy| {
        Finding::new(Level::Config, platform, summary, details, remedy)
    };

    if let Some((x, y)) = differs(a.get("created"), b.get("created")) {
        findings.push(finding(format!("config.created differs: {x} → {y}"), vec![], Remedy::SourceDateEpoch));
    }
    if let Some((x, y)) = differs(a.get("author"), b.get("author")) {
        findings.push(finding(format!("config.author differs: {x} → {y}"), vec![], Remedy::BuildDefinition));
    }
    for field in ["architecture", "os", "variant", "os.version"] {
        if let Some((x, y)) = differs(a.get(field), b.get(field)) {
            findings.push(finding(format!("config.{field} differs: {x} → {y}"), vec![], Remedy::PlatformSet));
        }
    }
    findings.extend(history(a.get("history"), b.get("history"), platform));

    let runtime_a = a.get("config");
    let runtime_b = b.get("config");
    let field = |v: Option<&Value>, name: &str| v.and_then(|c| c.get(name)).cloned();
    labels(field(runtime_a, "Labels"), field(runtime_b, "Labels"), platform, &mut findings);
    let mut changed_names = Vec::new();
    let mut runtime_changes = Vec::new();
    for name in RUNTIME_FIELDS {
        if let Some((x, y)) = differs(field(runtime_a, name).as_ref(), field(runtime_b, name).as_ref()) {
            changed_names.push(format!("config.{name}"));
            runtime_changes.push(format!("config.{name}: {x} → {y}"));
        }
    }
    if !changed_names.is_empty() {
        let verb = if changed_names.len() == 1 { "differs" } else { "differ" };
        findings.push(finding(
            format!("{} {verb}", changed_names.join(", ")),
            runtime_changes,
            Remedy::BuildDefinition,
        ));
    }

    let mut environment = Vec::new();
    for name in BUILD_ENVIRONMENT_FIELDS {
        if differs(a.get(*name), b.get(*name)).is_some() {
            environment.push((*name).to_string());
        }
    }
    // Anything else at the top level we did not name above.
    let known = |k: &str| {
        ["created", "author", "architecture", "os", "variant", "os.version", "history", "config", "rootfs"].contains(&k)
            || BUILD_ENVIRONMENT_FIELDS.contains(&k)
    };
    let mut others: Vec<String> = Vec::new();
    for key in keys(a).into_iter().chain(keys(b)) {
        if !known(&key) && !others.contains(&key) && differs(a.get(&key), b.get(&key)).is_some() {
            others.push(key);
        }
    }
    if !environment.is_empty() {
        findings.push(finding(
            format!("the config records the build environment and it differs: {}", environment.join(", ")),
            vec![],
            Remedy::BuildEnvironment,
        ));
    }
    if !others.is_empty() {
        findings.push(finding(
            format!("other config fields differ: {}", others.join(", ")),
            vec![],
            Remedy::BuildDefinition,
        ));
    }
    findings
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

/// `Some((a, b))` shown short when the values differ (a missing field shows as `-`).
fn differs(a: Option<&Value>, b: Option<&Value>) -> Option<(String, String)> {
    let null = Value::Null;
    let (a, b) = (a.unwrap_or(&null), b.unwrap_or(&null));
    (a != b).then(|| (show(a), show(b)))
}

/// A value on one line, at most 120 characters.
pub fn show(v: &Value) -> String {
    let text = match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let text = text.replace(['\n', '\r'], " ");
    if text.chars().count() > 120 { format!("{}…", text.chars().take(119).collect::<String>()) } else { text }
}

fn history(a: Option<&Value>, b: Option<&Value>, platform: Option<&Platform>) -> Vec<Finding> {
    let empty = Vec::new();
    let a = a.and_then(Value::as_array).unwrap_or(&empty);
    let b = b.and_then(Value::as_array).unwrap_or(&empty);
    let mut times = Vec::new();
    let mut steps = Vec::new();
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i), b.get(i));
        if let Some((p, q)) = differs(x.and_then(|e| e.get("created")), y.and_then(|e| e.get("created"))) {
            times.push(format!("history[{i}].created: {p} → {q}"));
        }
        for field in ["created_by", "comment", "empty_layer", "author"] {
            if let Some((p, q)) = differs(x.and_then(|e| e.get(field)), y.and_then(|e| e.get(field))) {
                steps.push(format!("history[{i}].{field}: {p} → {q}"));
            }
        }
    }
    let mut findings = Vec::new();
    if !times.is_empty() {
        findings.push(Finding::new(
            Level::Config,
            platform,
            count(times.len(), "history timestamp differs", "history timestamps differ"),
            times,
            Remedy::SourceDateEpoch,
        ));
    }
    if a.len() != b.len() {
        steps.insert(0, format!("history has {} steps → {}", a.len(), b.len()));
    }
    if !steps.is_empty() {
        findings.push(Finding::new(
            Level::Config,
            platform,
            "the build steps in the history differ".to_string(),
            steps,
            Remedy::BuildDefinition,
        ));
    }
    findings
}

/// Labels that carry the build time or the commit are usual suspects; others mean
/// the build definition differs.
fn labels(a: Option<Value>, b: Option<Value>, platform: Option<&Platform>, findings: &mut Vec<Finding>) {
    let empty = serde_json::Map::new();
    let a = a.as_ref().and_then(Value::as_object).unwrap_or(&empty);
    let b = b.as_ref().and_then(Value::as_object).unwrap_or(&empty);
    let mut stamped = Vec::new();
    let mut other = Vec::new();
    let mut all: Vec<&String> = a.keys().chain(b.keys()).collect();
    all.sort();
    all.dedup();
    for key in all {
        if let Some((x, y)) = differs(a.get(key), b.get(key)) {
            let line = format!("label {key}: {x} → {y}");
            if is_build_stamp(key) { stamped.push(line) } else { other.push(line) }
        }
    }
    if !stamped.is_empty() {
        findings.push(Finding::new(
            Level::Config,
            platform,
            count(
                stamped.len(),
                "label carrying the build time or commit differs",
                "labels carrying the build time or commit differ",
            ),
            stamped,
            Remedy::Labels,
        ));
    }
    if !other.is_empty() {
        findings.push(Finding::new(
            Level::Config,
            platform,
            count(other.len(), "label differs", "labels differ"),
            other,
            Remedy::BuildDefinition,
        ));
    }
}

/// Label or annotation keys that usually hold a time, a commit or a build number.
pub fn is_build_stamp(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["created", "date", "time", "revision", "commit", "build", "sha", "version", "ref.name", "run"]
        .iter()
        .any(|w| k.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn created_labels_and_runtime_settings_get_their_own_remedy() {
        let a = json!({"created": "2024-01-01T00:00:00Z", "architecture": "amd64", "os": "linux",
            "config": {"Cmd": ["/app"], "Labels": {"org.opencontainers.image.created": "2024-01-01", "team": "a"}},
            "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "COPY . /app"}],
            "rootfs": {"type": "layers", "diff_ids": []}});
        let b = json!({"created": "2025-06-01T12:00:00Z", "architecture": "amd64", "os": "linux",
            "config": {"Cmd": ["/app", "--debug"], "Labels": {"org.opencontainers.image.created": "2025-06-01", "team": "b"}},
            "history": [{"created": "2025-06-01T12:00:00Z", "created_by": "COPY . /app"}],
            "rootfs": {"type": "layers", "diff_ids": ["sha256:x"]}, "docker_version": "24.0"});
        let findings = diff(&a, &b, None);
        let remedies: Vec<(Remedy, &str)> = findings.iter().map(|f| (f.remedy, f.summary.as_str())).collect();
        assert!(
            remedies.contains(&(
                Remedy::SourceDateEpoch,
                "config.created differs: 2024-01-01T00:00:00Z → 2025-06-01T12:00:00Z"
            )),
            "{remedies:?}"
        );
        assert!(remedies.contains(&(Remedy::SourceDateEpoch, "1 history timestamp differs")), "{remedies:?}");
        assert!(
            remedies.contains(&(Remedy::Labels, "1 label carrying the build time or commit differs")),
            "{remedies:?}"
        );
        assert!(remedies.contains(&(Remedy::BuildDefinition, "1 label differs")), "{remedies:?}");
        assert!(remedies.contains(&(Remedy::BuildDefinition, "config.Cmd differs")), "{remedies:?}");
        assert!(remedies.iter().any(|(r, _)| *r == Remedy::BuildEnvironment), "{remedies:?}");
        // diff_ids are explained by the layers, not here.
        assert!(!remedies.iter().any(|(_, s)| s.contains("rootfs")), "{remedies:?}");
    }

    #[test]
    fn equal_configs_have_nothing_to_say() {
        let a = json!({"created": "2024-01-01T00:00:00Z", "config": {"Env": ["A=1"]}});
        assert!(diff(&a, &a.clone(), None).is_empty());
    }
}
