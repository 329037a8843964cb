//! The image inputs, read and checked once: which pairs to compare, the digest the
//! build reported, the policy, the platform filter, registry logins and plain-HTTP
//! hosts → [`ImageSettings`].
//!
//! Every error names the input (or the flag of the CLI command that took the value)
//! and never echoes a credential.

use std::collections::BTreeSet;

use super::RawInputs;
use crate::error::{Error, Result};
use crate::evidence::images::build::{BuildSource, DEFAULT_BUILD_JOB};
use crate::evidence::images::reference::{Digest, ImageRef, Platform};
use crate::evidence::images::settings::{
    Credential, DEFAULT_LAYER_DIFF_LIMIT, DigestPolicy, ImagePair, ImageSettings, RegistryAccess,
};

pub fn digest_policy(input: &str, value: &str) -> Result<DigestPolicy> {
    match value {
        "identical" => Ok(DigestPolicy::Identical),
        "platforms" => Ok(DigestPolicy::Platforms),
        "record" => Ok(DigestPolicy::Record),
        other => Err(Error::input(input, format!("`{other}` is not a policy"), "use identical, platforms or record")),
    }
}

/// Parses `registry-credentials` (one `host=username:password` per line) and
/// `insecure-registries` (`host:port` items). `input` names come from the caller
/// so the CLI can name its flags.
pub fn registry_access(
    credentials_input: &str,
    credentials: Option<&str>,
    insecure_input: &str,
    insecure: &[String],
) -> Result<RegistryAccess> {
    let mut access = RegistryAccess::default();
    for (number, line) in credentials.unwrap_or_default().lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let credential = parse_credential(line).map_err(|reason| {
            Error::input(
                credentials_input,
                format!("line {}: {reason}", number + 1),
                "write one login per line as host=username:password, e.g. europe-docker.pkg.dev=oauth2accesstoken:<token>",
            )
        })?;
        if access.credentials.iter().any(|c| c.host == credential.host) {
            return Err(Error::input(
                credentials_input,
                format!("line {}: a second login for `{}`", number + 1, credential.host),
                "give each registry host one login",
            ));
        }
        access.credentials.push(credential);
    }
    for item in insecure {
        check_host_port(item).map_err(|reason| {
            Error::input(
                insecure_input,
                reason,
                "list registries as host:port, e.g. 127.0.0.1:5000 (plain HTTP is used for exactly these)",
            )
        })?;
        access.insecure.push(item.clone());
    }
    Ok(access)
}

/// Reads the image inputs; `None` when no image is to be compared.
pub fn settings(raw: &RawInputs) -> Result<Option<ImageSettings>> {
    let pairs = read_pairs(raw)?;
    settings_of(raw, pairs)
}

/// `tested-image` + `release-image` and the `images:` lines, as pairs.
fn read_pairs(raw: &RawInputs) -> Result<Vec<ImagePair>> {
    let mut pairs = Vec::new();
    match (raw.get("tested-image"), raw.get("release-image")) {
        (None, None) => {}
        (Some(_), None) => {
            return Err(Error::input(
                raw.label("release-image"),
                "is missing while `tested-image` is set",
                "set the image that is released, e.g. europe-docker.pkg.dev/p/prod/app:1.2.3",
            ));
        }
        (None, Some(_)) => {
            return Err(Error::input(
                raw.label("tested-image"),
                "is missing while `release-image` is set",
                "set the image that was tested, e.g. europe-docker.pkg.dev/p/dev/app:PR-123",
            ));
        }
        (Some(tested), Some(released)) => {
            let tested = parse_ref(raw.label("tested-image"), tested)?;
            let released = parse_ref(raw.label("release-image"), released)?;
            let name = released.repository.rsplit('/').next().unwrap_or("image").to_string();
            pairs.push(ImagePair { name, tested, released, expected: None });
        }
    }
    if let Some(text) = raw.get("images") {
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let pair = parse_pair(line).map_err(|reason| {
                Error::input(
                    raw.label("images"),
                    format!("line {}: {reason}", number + 1),
                    "write one pair per line as `name: <tested-ref> -> <released-ref>`",
                )
            })?;
            if pairs.iter().any(|p| p.name == pair.name) {
                return Err(Error::input(
                    raw.label("images"),
                    format!("line {}: the name `{}` is used twice", number + 1, pair.name),
                    "give every pair its own name",
                ));
            }
            pairs.push(pair);
        }
    }
    Ok(pairs)
}

/// Continues [`settings`] with the pairs read.
fn settings_of(raw: &RawInputs, mut pairs: Vec<ImagePair>) -> Result<Option<ImageSettings>> {
    let expected_digest_given = raw.get("expected-digest").is_some();
    let expected_digest = match raw.get("expected-digest") {
        None => None,
        Some(text) => Some(Digest::parse(text).map_err(|reason| {
            Error::input(
                raw.label("expected-digest"),
                reason,
                "pass the digest output of the image build, e.g. sha256:…",
            )
        })?),
    };
    if pairs.is_empty() {
        if raw.get("build-workflow").is_some() {
            return Err(Error::input(
                raw.label("build-workflow"),
                "is set but no image is to be compared",
                "set `tested-image` and `release-image` (or `images:`) to the references the build pushed",
            ));
        }
        if expected_digest.is_some() {
            return Err(Error::input(
                raw.label("expected-digest"),
                "is set but no image is to be compared",
                "set `tested-image` and `release-image` too",
            ));
        }
        return Ok(None);
    }
    if expected_digest.is_some() && pairs.len() > 1 {
        return Err(Error::input(
            raw.label("expected-digest"),
            format!("applies to one tested image, but {} pairs are compared", pairs.len()),
            "give each pair its own on its `images:` line: name: <tested-ref> -> <released-ref> expect sha256:…",
        ));
    }
    if let (Some(digest), [only]) = (expected_digest, pairs.as_mut_slice()) {
        if only.expected.is_some() {
            return Err(Error::input(
                raw.label("expected-digest"),
                "is set, and the pair's `images:` line has its own `expect`",
                "give the digest once",
            ));
        }
        only.expected = Some(digest);
    }

    let build = build_source(raw, &pairs, expected_digest_given)?;

    let policy = match raw.get("digest-policy") {
        None => DigestPolicy::default(),
        Some(value) => digest_policy(raw.label("digest-policy"), value)?,
    };
    let platforms = parse_platforms(raw.label("platforms"), &raw.list("platforms"))?;
    let access = registry_access(
        raw.label("registry-credentials"),
        raw.get("registry-credentials"),
        raw.label("insecure-registries"),
        &raw.list("insecure-registries"),
    )?;
    let layer_diff_limit = match raw.get("layer-diff-limit") {
        None => DEFAULT_LAYER_DIFF_LIMIT,
        Some(text) => parse_size(raw.label("layer-diff-limit"), text)?,
    };
    Ok(Some(ImageSettings { pairs, policy, platforms, access, layer_diff_limit, build }))
}

/// `build-workflow` and `build-job`: where the build on the tag push logged its report.
/// The build's digest is then the one expected digest: `expected-digest` or an
/// `expect` on a pair would be a second one.
fn build_source(raw: &RawInputs, pairs: &[ImagePair], expected_digest_given: bool) -> Result<Option<BuildSource>> {
    let Some(workflow) = raw.get("build-workflow") else { return Ok(None) };
    let file_name = workflow.rsplit('/').next().unwrap_or(workflow);
    let valid = (file_name.ends_with(".yml") || file_name.ends_with(".yaml"))
        && file_name.len() <= 200
        && file_name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !valid || (workflow != file_name && workflow != format!(".github/workflows/{file_name}")) {
        return Err(Error::input(
            raw.label("build-workflow"),
            format!("`{}` is not a workflow file name", workflow.escape_debug()),
            "give the file name of the workflow that builds the image on the tag push, e.g. build-manager-image.yml",
        ));
    }
    if expected_digest_given || pairs.iter().any(|p| p.expected.is_some()) {
        return Err(Error::input(
            raw.label("build-workflow"),
            "and `expected-digest` (or an `expect` on an `images:` line) both give the expected digest",
            "give the digest once: the build's report, or the digest input",
        ));
    }
    let job = raw.get("build-job").unwrap_or(DEFAULT_BUILD_JOB);
    if job.len() > 200 || job.chars().any(char::is_control) {
        return Err(Error::input(
            raw.label("build-job"),
            "is not a job name",
            "give the job's name as the run's page shows it, e.g. build-image / Build image",
        ));
    }
    Ok(Some(BuildSource { workflow: file_name.to_string(), job: job.to_string() }))
}

/// Parses an image reference input into an [`ImageRef`], naming the input on error.
pub fn parse_ref(input: &str, text: &str) -> Result<ImageRef> {
    ImageRef::parse(text).map_err(|reason| {
        Error::input(input, reason, "write a reference like registry.example.com/team/app:1.2.3 or …/app@sha256:<digest> (repository lower-case)")
    })
}

/// Parses the platform filter; duplicates collapse.
pub fn parse_platforms(input: &str, items: &[String]) -> Result<Vec<Platform>> {
    let mut seen = BTreeSet::new();
    for item in items {
        let platform = Platform::parse(item)
            .map_err(|reason| Error::input(input, reason, "list platforms like linux/amd64,linux/arm64"))?;
        seen.insert(platform);
    }
    Ok(seen.into_iter().collect())
}

/// Parses a byte size: a number with an optional K/M/G (×1000) or KiB/MiB/GiB (×1024) suffix.
pub fn parse_size(input: &str, text: &str) -> Result<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "K" | "KB" => 1_000,
        "M" | "MB" => 1_000_000,
        "G" | "GB" => 1_000_000_000,
        "Ki" | "KiB" => 1 << 10,
        "Mi" | "MiB" => 1 << 20,
        "Gi" | "GiB" => 1 << 30,
        _ => u64::MAX,
    };
    match number.parse::<u64>().ok().filter(|_| factor != u64::MAX).and_then(|n| n.checked_mul(factor)) {
        Some(n) => Ok(n),
        None => Err(Error::input(
            input,
            format!("`{text}` is not a size"),
            "give bytes, optionally with a unit: 268435456, 256MiB, 1GiB (0 turns layer diffs off)",
        )),
    }
}

fn parse_pair(line: &str) -> std::result::Result<ImagePair, String> {
    let (name, refs) = line.split_once(':').ok_or("has no `name:` in front")?;
    let name = name.trim();
    if name.is_empty()
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        || name.starts_with('.')
    {
        return Err(format!("`{name}` is not a pair name (letters, digits, . _ - only)"));
    }
    let (tested, released) =
        refs.split_once("->").ok_or("has no `->` between the tested and the released reference")?;
    let tested = ImageRef::parse(tested.trim()).map_err(|e| format!("tested reference {e}"))?;
    let (released, expected) = match released.trim().split_once(" expect ") {
        Some((released, digest)) => {
            (released, Some(Digest::parse(digest.trim()).map_err(|e| format!("expected digest {e}"))?))
        }
        None => (released.trim(), None),
    };
    let released = ImageRef::parse(released.trim()).map_err(|e| format!("released reference {e}"))?;
    Ok(ImagePair { name: name.to_string(), tested, released, expected })
}

/// `host=username:password`. The reason never contains the password.
fn parse_credential(line: &str) -> std::result::Result<Credential, String> {
    let (host, login) = line.split_once('=').ok_or("has no `=` after the registry host")?;
    let host = host.trim();
    // A line typed with `:` for `=` (`host:user:password=…`) puts most of the secret
    // before the `=`: the text is not echoed, only what is wrong with it.
    if check_host(host).is_err() {
        return Err("does not start with a registry host (host or host:port) followed by `=`".to_string());
    }
    let (username, password) = login
        .split_once(':')
        .ok_or_else(|| format!("the login for `{host}` has no `:` between user name and password"))?;
    if username.is_empty() {
        return Err(format!("the login for `{host}` has an empty user name"));
    }
    if password.is_empty() {
        return Err(format!("the login for `{host}` has an empty password"));
    }
    // Registries' host names are case-insensitive; Docker Hub is `docker.io` in references.
    let host = match host.to_ascii_lowercase().as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        other => other.to_string(),
    };
    Ok(Credential::new(&host, username, password))
}

fn check_host(host: &str) -> std::result::Result<(), String> {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    let name_ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b".-".contains(&b));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    if name_ok && port_ok { Ok(()) } else { Err(format!("`{host}` is not a registry host (host or host:port)")) }
}

fn check_host_port(item: &str) -> std::result::Result<(), String> {
    if !item.contains(':') {
        return Err(format!("`{item}` has no port"));
    }
    check_host(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RunArgs;
    use crate::config::inputs::input_variable;

    fn raw(pairs: &[(&str, &str)]) -> RawInputs {
        let map: std::collections::HashMap<String, String> =
            pairs.iter().map(|(k, v)| (input_variable(k), v.to_string())).collect();
        RawInputs::collect(&RunArgs::default(), &move |k: &str| map.get(k).cloned())
    }

    #[test]
    fn no_image_inputs_means_no_image_stage() {
        assert!(settings(&raw(&[])).unwrap().is_none());
    }

    #[test]
    fn a_single_pair_and_several_pairs_are_read() {
        let s = settings(&raw(&[
            ("tested-image", "europe-docker.pkg.dev/p/dev/telemetry-manager:PR-123"),
            ("release-image", "europe-docker.pkg.dev/p/prod/telemetry-manager:1.2.3"),
            ("images", "# more\nselfmonitor: 127.0.0.1:5000/dev/sm:PR-1 -> 127.0.0.1:5000/prod/sm:1.2.3\n\n"),
            ("digest-policy", "platforms"),
            ("platforms", "linux/amd64, linux/arm64"),
            (
                "registry-credentials",
                "europe-docker.pkg.dev=oauth2accesstoken:ya29.secret=value:x\nghcr.io=bot:ghp_abc",
            ),
            ("insecure-registries", "127.0.0.1:5000"),
            ("layer-diff-limit", "64MiB"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(s.pairs.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["telemetry-manager", "selfmonitor"]);
        assert_eq!(s.pairs[1].released.tag.as_deref(), Some("1.2.3"));
        assert_eq!(s.policy, DigestPolicy::Platforms);
        assert_eq!(s.platforms.len(), 2);
        assert_eq!(s.access.credentials[0].password.expose(), "ya29.secret=value:x");
        assert!(s.access.is_insecure("127.0.0.1:5000") && !s.access.is_insecure("127.0.0.1:5001"));
        assert_eq!(s.layer_diff_limit, 64 << 20);
        assert_eq!(s.secrets().len(), 4);
        assert!(!format!("{s:?}").contains("ghp_abc"));
    }

    #[test]
    fn a_mistyped_credential_line_is_refused_without_echoing_it() {
        // `:` typed for `=`: most of the key would sit where the host belongs.
        let err = registry_access(
            "registry-credentials",
            Some("europe-docker.pkg.dev:_json_key_base64:eyJzZWNyZXQiOiJ2YWx1ZSJ9=="),
            "insecure-registries",
            &[],
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("line 1") && text.contains("does not start with a registry host"), "{text}");
        assert!(!text.contains("eyJzZWNyZXQ") && !text.contains("_json_key"), "{text}");
        // Hosts are compared as registries name them.
        let access = registry_access(
            "registry-credentials",
            Some("GHCR.io=bot:ghp_x\nindex.docker.io=me:pw"),
            "insecure-registries",
            &[],
        )
        .unwrap();
        let hosts: Vec<&str> = access.credentials.iter().map(|c| c.host.as_str()).collect();
        assert_eq!(hosts, ["ghcr.io", "docker.io"]);
    }

    #[test]
    fn bad_image_inputs_name_the_input_and_never_echo_a_password() {
        let pair = [("tested-image", "r.io/dev/app:1"), ("release-image", "r.io/prod/app:1")];
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (vec![("tested-image", "r.io/dev/App:1"), ("release-image", "r.io/prod/app:1")], "tested-image"),
            (vec![("tested-image", "r.io/dev/app:1")], "release-image"),
            (vec![("release-image", "r.io/prod/app:1")], "tested-image"),
            (vec![("images", "app r.io/a:1 -> r.io/b:1")], "images"),
            (vec![("images", "app: r.io/a:1 => r.io/b:1")], "images"),
            (vec![("images", "a: r.io/a:1 -> r.io/b:1\na: r.io/c:1 -> r.io/d:1")], "images"),
            (vec![("expected-digest", "sha256:abc")], "expected-digest"),
            (vec![("digest-policy", "strict")], "digest-policy"),
            (vec![("platforms", "linux")], "platforms"),
            (vec![("registry-credentials", "r.io=userTOPSECRET")], "registry-credentials"),
            (vec![("registry-credentials", "r.io user:TOPSECRET")], "registry-credentials"),
            (vec![("registry-credentials", "bad host=user:TOPSECRET")], "registry-credentials"),
            (vec![("insecure-registries", "127.0.0.1")], "insecure-registries"),
            (vec![("layer-diff-limit", "lots")], "layer-diff-limit"),
        ];
        for (mut inputs, name) in cases {
            if !inputs.iter().any(|(k, _)| k.ends_with("image") || *k == "images") {
                inputs.extend(pair);
            }
            let err = settings(&raw(&inputs)).unwrap_err();
            let text = format!("{err} {}", err.hint());
            assert!(text.starts_with(&format!("input `{name}`")), "{inputs:?}: {text}");
            assert!(!text.contains("TOPSECRET"), "{text}");
            assert!(!text.contains('\n'), "{text}");
        }
    }

    /// Each pair may carry the digest its own build reported (two images built in the
    /// release run, each with its build job's `digest` output).
    #[test]
    fn each_pair_may_carry_the_digest_its_build_reported() {
        let (a, b) = ("sha256:".to_string() + &"a".repeat(64), "sha256:".to_string() + &"b".repeat(64));
        let images = format!(
            "manager: europe-docker.pkg.dev/kyma-project/prod/telemetry-manager:1.2.3 -> europe-docker.pkg.dev/kyma-project/prod/telemetry-manager:1.2.3 expect {a}\n\
             experimental: europe-docker.pkg.dev/kyma-project/dev/telemetry-manager:PR-9-experimental -> europe-docker.pkg.dev/kyma-project/prod/telemetry-manager:1.2.3-experimental expect {b}"
        );
        let s = settings(&raw(&[("images", &images)])).unwrap().unwrap();
        assert_eq!(s.pairs[0].expected.as_ref().map(|d| d.to_string()), Some(a));
        assert_eq!(s.pairs[1].expected.as_ref().map(|d| d.to_string()), Some(b));
        assert_eq!(s.pairs[1].released.tag.as_deref(), Some("1.2.3-experimental"));
        let err = settings(&raw(&[("images", "m: r.io/a:1 -> r.io/b:1 expect sha256:abc")])).unwrap_err();
        assert!(err.to_string().contains("line 1: expected digest"), "{err}");
        let one = settings(&raw(&[
            ("images", "m: r.io/a:1 -> r.io/b:1"),
            ("expected-digest", &("sha256:".to_string() + &"c".repeat(64))),
        ]))
        .unwrap()
        .unwrap();
        assert!(one.pairs[0].expected.is_some(), "expected-digest applies to the one pair");
    }

    #[test]
    fn sizes_take_units() {
        assert_eq!(parse_size("x", "256MiB").unwrap(), 256 << 20);
        assert_eq!(parse_size("x", "1G").unwrap(), 1_000_000_000);
        assert_eq!(parse_size("x", "0").unwrap(), 0);
        assert!(parse_size("x", "12 parsecs").is_err());
    }
}
