//! Image records: the digest a test job actually ran, written by that job
//! (`release-audit record-image`) and checked later against the released image.
//!
//! A tag named in an input is only a claim; the record is evidence. A test job makes
//! one in either of two ways: it resolves references now ([`RecordedImage::resolved`]:
//! the index digest and every platform manifest digest), or it reads what its cluster
//! reports ([`parse_pods`]: each container's `imageID` from `kubectl get pods -A -o
//! json`, the digest the node pulled). Either way the file names the job that made it
//! ([`JobIdentity`]) and follows `schema/image-record-v1.schema.json`.
//!
//! [`check_records`] is the pure half the `run` pipeline calls: given the records found
//! among the collected report files and the released image's [`DigestRecord`], it says
//! for each recorded digest whether it is the released index, a released platform
//! manifest, or something else — plain data with a one-line explanation. No network,
//! no file system.
//!
//! Everything here reads outside data: sizes are bounded and errors name the thing.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::resolve::DigestRecord;
use super::settings::DigestPolicy;
use crate::error::{Error, Result};
use crate::github::runner::Lookup;
use crate::registry::reference::{Digest, ImageRef, Platform};

/// `kind` of an image record file.
pub const KIND: &str = "release-audit/image-record";
/// The only version this build writes and reads.
pub const VERSION: u32 = 1;
/// Largest `kubectl get pods -A -o json` document read (a big cluster is a few MiB).
pub const MAX_PODS_BYTES: u64 = 64 * 1024 * 1024;
/// Largest image record file read back (they are a few KiB).
pub const MAX_RECORD_BYTES: u64 = 8 * 1024 * 1024;
/// Most containers recorded from one document.
pub const MAX_CONTAINERS: usize = 20_000;
/// Most images one record file may hold (what `record-image` writes at most: every
/// container of one pods document, and the references resolved beside them).
pub const MAX_RECORD_IMAGES: usize = MAX_CONTAINERS + 1_000;

/// Whether a file among the collected report files is an image record: its name is
/// `image-record*.json`. One rule for the audit and for `verify`.
pub fn is_record_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    name.starts_with("image-record") && name.ends_with(".json")
}

/// One image record file: who recorded, when, and what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// Always [`KIND`].
    pub kind: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// When the record was made (RFC 3339, UTC).
    pub recorded_at: String,
    pub job: JobIdentity,
    pub images: Vec<RecordedImage>,
}

/// The job that made a record, from the runner's environment. Every field is optional:
/// a record made outside GitHub Actions names nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobIdentity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_attempt: Option<u32>,
    /// `GITHUB_JOB`: the job's id in its workflow file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
    /// `RUNNER_OS` as the runner writes it (`Linux`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner_os: Option<String>,
    /// `RUNNER_ARCH` as the runner writes it (`X64`, `ARM64`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner_arch: Option<String>,
}

/// Where a recorded digest came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordSource {
    /// Resolved from a reference in the registry while the job ran.
    Resolved,
    /// Reported by the cluster the job tested on (a container's `imageID`).
    Cluster,
}

/// One recorded image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedImage {
    pub source: RecordSource,
    /// The reference as given (resolved) or as the container status names it (cluster).
    pub reference: String,
    /// The digest recorded: what the reference names (an index for a multi-platform
    /// image), or the digest the node pulled. Absent when the cluster only knows a
    /// local image id (an image loaded into the node, not pulled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    /// The platform the job ran the image on, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// (resolved) The platform manifest of `platform` under the index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_digest: Option<Digest>,
    /// (resolved) The media type of what the reference names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// (resolved) Every platform manifest digest by `os/arch[/variant]`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub platforms: BTreeMap<String, Digest>,
    /// (cluster) The container status's `imageID`, untouched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// (cluster) Whether the container is an init container.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub init_container: bool,
    /// Why `digest` is absent, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl JobIdentity {
    /// Reads `GITHUB_REPOSITORY`, `GITHUB_WORKFLOW`, `GITHUB_RUN_ID`, `GITHUB_RUN_ATTEMPT`,
    /// `GITHUB_JOB`, `GITHUB_SHA`, `RUNNER_OS` and `RUNNER_ARCH`. A number that does not
    /// parse is left out rather than guessed.
    pub fn from_env(env: Lookup<'_>) -> Self {
        JobIdentity {
            repository: env("GITHUB_REPOSITORY"),
            workflow: env("GITHUB_WORKFLOW"),
            run_id: env("GITHUB_RUN_ID").and_then(|v| v.parse().ok()),
            run_attempt: env("GITHUB_RUN_ATTEMPT").and_then(|v| v.parse().ok()),
            job: env("GITHUB_JOB"),
            sha: env("GITHUB_SHA"),
            runner_os: env("RUNNER_OS"),
            runner_arch: env("RUNNER_ARCH"),
        }
    }

    /// The runner's platform as an OCI platform (`X64` on `Linux` → `linux/amd64`).
    pub fn runner_platform(&self) -> Option<Platform> {
        let os = match self.runner_os.as_deref()? {
            "Linux" => "linux",
            "Windows" => "windows",
            "macOS" => "darwin",
            _ => return None,
        };
        let (arch, variant) = match self.runner_arch.as_deref()? {
            "X64" => ("amd64", None),
            "ARM64" => ("arm64", None),
            "X86" => ("386", None),
            "ARM" => ("arm", Some("v7")),
            _ => return None,
        };
        Some(Platform::new(os, arch, variant))
    }

    /// `workflow › job (run 123, attempt 2)`, for summaries; `an unnamed job` when
    /// the record names nothing.
    pub fn label(&self) -> String {
        let mut label = match (&self.workflow, &self.job) {
            (Some(w), Some(j)) => format!("{w} › {j}"),
            (None, Some(j)) => j.clone(),
            (Some(w), None) => w.clone(),
            (None, None) => "an unnamed job".to_string(),
        };
        match (self.run_id, self.run_attempt) {
            (Some(r), Some(a)) if a > 1 => label.push_str(&format!(" (run {r}, attempt {a})")),
            (Some(r), _) => label.push_str(&format!(" (run {r})")),
            _ => {}
        }
        label
    }
}

impl ImageRecord {
    /// Why this record, found in an artifact of run `artifact_run`, is not evidence of
    /// that run: it names another run (a record copied from an earlier run's artifact
    /// shows what that run tested, whose reports are not in the bundle). `None` when it
    /// names the artifact's run, or either run is unknown (a record made outside GitHub
    /// Actions names none). One rule for the audit and for `verify`.
    pub fn from_another_run(&self, artifact_run: Option<u64>) -> Option<String> {
        match (self.job.run_id, artifact_run) {
            (Some(recorded), Some(uploaded)) if recorded != uploaded => Some(format!(
                "was made by {}, but uploaded in an artifact of run {uploaded}: a record from another run does not show what this run tested; record the image in the test job whose reports are audited",
                self.job.label()
            )),
            _ => None,
        }
    }

    /// A new record made now by `job`.
    pub fn new(job: JobIdentity, images: Vec<RecordedImage>, now: DateTime<Utc>) -> Self {
        ImageRecord {
            kind: KIND.to_string(),
            version: VERSION,
            recorded_at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
            job,
            images,
        }
    }

    /// Reads a record file's bytes (`what` names it in errors): the kind and version
    /// must be ours, the size bounded.
    pub fn parse(bytes: &[u8], what: &str) -> Result<Self> {
        let hint = "make image records with `release-audit record-image` (schema/image-record-v1.schema.json)";
        if bytes.len() as u64 > MAX_RECORD_BYTES {
            return Err(Error::evidence(
                what,
                format!("is {} bytes, more than an image record may be ({MAX_RECORD_BYTES})", bytes.len()),
                hint,
            ));
        }
        #[derive(Deserialize)]
        struct Head {
            kind: Option<String>,
            version: Option<serde_json::Value>,
        }
        let head: Head =
            serde_json::from_slice(bytes).map_err(|e| Error::evidence(what, format!("is not JSON: {e}"), hint))?;
        if head.kind.as_deref() != Some(KIND) {
            return Err(Error::evidence(
                what,
                format!("`kind` is {:?}, not `{KIND}`", head.kind.unwrap_or_default()),
                hint,
            ));
        }
        if head.version.as_ref().and_then(serde_json::Value::as_u64) != Some(VERSION as u64) {
            return Err(Error::evidence(
                what,
                format!(
                    "`version` is {}, this release-audit reads version {VERSION}",
                    head.version.map(|v| v.to_string()).unwrap_or("missing".into())
                ),
                "use the same release-audit version for record-image and the audit",
            ));
        }
        let record: ImageRecord = serde_json::from_slice(bytes)
            .map_err(|e| Error::evidence(what, format!("is not a valid image record: {e}"), hint))?;
        // A key the schema does not have is a claim nothing reads (and `verify` reads the
        // record again): refused, named by its JSON pointer.
        if let Some(extra) = crate::bundle::exact::unread_value(bytes, &record) {
            return Err(Error::evidence(what, format!("says something an image record does not hold: {extra}"), hint));
        }
        if record.images.len() > MAX_RECORD_IMAGES {
            return Err(Error::evidence(
                what,
                format!("holds {} images, more than an image record may ({MAX_RECORD_IMAGES})", record.images.len()),
                "record only the namespaces under test, e.g. `kubectl get pods -n kyma-system -o json`",
            ));
        }
        Ok(record)
    }

    /// Reads a record file, never more than [`MAX_RECORD_BYTES`] of it, and parses it.
    pub fn read_file(path: &std::path::Path, what: &str) -> Result<Self> {
        use std::io::Read as _;
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e, "the file was collected; report this"))?;
        let mut bytes = Vec::new();
        file.take(MAX_RECORD_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(path, e, "the file was collected; report this"))?;
        Self::parse(&bytes, what)
    }

    /// The file as written: pretty JSON and a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("records serialise");
        text.push('\n');
        text
    }
}

impl RecordedImage {
    fn empty(source: RecordSource, reference: String) -> Self {
        RecordedImage {
            source,
            reference,
            digest: None,
            platform: None,
            platform_digest: None,
            media_type: None,
            platforms: BTreeMap::new(),
            image_id: None,
            namespace: None,
            pod: None,
            container: None,
            init_container: false,
            note: None,
        }
    }

    /// The record of a reference resolved now. `platform` is where the job runs it
    /// (the runner's, or given); its manifest under the index is recorded beside the
    /// index digest when the index has one for it.
    pub fn resolved(record: &DigestRecord, platform: Option<Platform>) -> Self {
        let platforms = record.platform_digests();
        let platform_digest = match &platform {
            Some(p) if record.is_index() => {
                record.images().find(|m| m.platform.as_ref().is_some_and(|mp| mp.matches(p))).map(|m| m.digest.clone())
            }
            _ => None,
        };
        RecordedImage {
            digest: Some(record.digest.clone()),
            platform,
            platform_digest,
            media_type: Some(record.media_type.clone()),
            platforms,
            ..RecordedImage::empty(RecordSource::Resolved, record.reference.clone())
        }
    }

    /// Where a cluster record was seen: `namespace/pod › container`.
    pub fn place(&self) -> Option<String> {
        let pod = self.pod.as_ref()?;
        let mut place = match &self.namespace {
            Some(ns) => format!("{ns}/{pod}"),
            None => pod.clone(),
        };
        if let Some(c) = &self.container {
            place.push_str(&format!(" › {}{c}", if self.init_container { "init " } else { "" }));
        }
        Some(place)
    }

    /// Every repository this entry names: its reference's and, for a cluster entry, the
    /// one its `imageID` was pulled from.
    fn repositories(&self) -> Vec<String> {
        let mut names = Vec::new();
        if let Ok(r) = ImageRef::parse(&self.reference) {
            names.push(r.repository);
        }
        if let Some(ImageId { repository: Some(repo), .. }) = self.image_id.as_deref().map(split_image_id)
            && let Ok(r) = ImageRef::parse(&repo)
        {
            names.push(r.repository);
        }
        names
    }
}

// ---------------------------------------------------------------------------------------
// kubectl get pods -A -o json

/// The parts of a Kubernetes object we read; everything else is ignored.
#[derive(Deserialize)]
struct KubeObject {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    items: Vec<KubeObject>,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    spec: PodSpec,
    #[serde(default)]
    status: KubeStatus,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    labels: HashMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PodSpec {
    #[serde(default)]
    node_name: Option<String>,
    #[serde(default)]
    containers: Vec<SpecContainer>,
    #[serde(default)]
    init_containers: Vec<SpecContainer>,
}

#[derive(Deserialize, Default)]
struct SpecContainer {
    #[serde(default)]
    name: String,
    #[serde(default)]
    image: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct KubeStatus {
    #[serde(default)]
    container_statuses: Vec<ContainerStatus>,
    #[serde(default)]
    init_container_statuses: Vec<ContainerStatus>,
    /// Nodes: `status.nodeInfo`.
    #[serde(default)]
    node_info: NodeInfo,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ContainerStatus {
    #[serde(default)]
    name: String,
    #[serde(default)]
    image: String,
    #[serde(rename = "imageID", default)]
    image_id: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct NodeInfo {
    #[serde(default)]
    operating_system: String,
    #[serde(default)]
    architecture: String,
}

/// What a pods document held.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodsRecord {
    pub images: Vec<RecordedImage>,
    /// Containers with no `imageID` yet (waiting for their image): not recorded.
    pub not_started: Vec<String>,
    pub pods: usize,
}

/// Splits an `imageID` into the repository it was pulled from and its digest text:
/// `docker-pullable://repo@sha256:…` and `repo@sha256:…` → (`repo`, `sha256:…`);
/// `sha256:…` or `docker://sha256:…` (a local image id) → (None, `sha256:…`).
fn split_image_id(image_id: &str) -> ImageId<'_> {
    let rest = match image_id.split_once("://") {
        Some((scheme, rest))
            if !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            rest
        }
        _ => image_id,
    };
    match rest.rsplit_once('@') {
        Some((repo, digest)) => ImageId { repository: Some(repo.to_string()), digest },
        None => ImageId { repository: None, digest: rest },
    }
}

/// An `imageID` split: the repository it was pulled from (none for a local image id)
/// and the digest text.
struct ImageId<'a> {
    repository: Option<String>,
    digest: &'a str,
}

/// The digest in an `imageID`, or why there is none.
fn digest_of_image_id(image_id: &str) -> std::result::Result<Digest, String> {
    match split_image_id(image_id) {
        ImageId { repository: Some(_), digest } => {
            Digest::parse(digest).map_err(|e| format!("the imageID's digest is unusable: {e}"))
        }
        ImageId { repository: None, digest: id } if Digest::parse(id).is_ok() => Err(
            "the imageID is a local image id (the config digest), not a registry digest: the image was loaded into the node, not pulled"
                .to_string(),
        ),
        ImageId { repository: None, .. } => Err("the imageID names no digest".to_string()),
    }
}

/// Reads `kubectl get pods -A -o json` (a `List` of pods, or one `Pod`). Every
/// container and init container status with an `imageID` becomes a cluster entry.
/// Nodes in the same document (`kubectl get pods,nodes -A -o json`) give each pod's
/// platform; `fallback` is used for pods on nodes it does not describe. `what` names
/// the document in errors.
pub fn parse_pods(bytes: &[u8], what: &str, fallback: Option<&Platform>) -> Result<PodsRecord> {
    let hint = "pass the output of `kubectl get pods -A -o json` (or `kubectl get pods,nodes -A -o json`)";
    if bytes.len() as u64 > MAX_PODS_BYTES {
        return Err(Error::evidence(
            what,
            format!("is {} bytes, more than the {} MiB read", bytes.len(), MAX_PODS_BYTES >> 20),
            "record only the namespaces under test, e.g. `kubectl get pods -n kyma-system -o json`",
        ));
    }
    let document: KubeObject = serde_json::from_slice(bytes)
        .map_err(|e| Error::evidence(what, format!("is not a Kubernetes JSON document: {e}"), hint))?;
    let objects: Vec<&KubeObject> = match document.kind.as_str() {
        "List" | "PodList" | "NodeList" => document.items.iter().collect(),
        "Pod" => vec![&document],
        "" => return Err(Error::evidence(what, "has no `kind`", hint)),
        other => return Err(Error::evidence(what, format!("is a `{other}`, not a list of pods"), hint)),
    };
    let nodes: HashMap<&str, Platform> = objects
        .iter()
        .filter(|o| o.kind == "Node")
        .filter_map(|o| node_platform(o).map(|p| (o.metadata.name.as_str(), p)))
        .collect();
    let mut out = PodsRecord::default();
    for pod in objects.iter().filter(|o| o.kind == "Pod" || (o.kind.is_empty() && document.kind == "PodList")) {
        out.pods += 1;
        let platform = pod.spec.node_name.as_deref().and_then(|n| nodes.get(n)).or(fallback).cloned();
        let statuses = pod
            .status
            .init_container_statuses
            .iter()
            .map(|s| (s, true))
            .chain(pod.status.container_statuses.iter().map(|s| (s, false)));
        for (status, init) in statuses {
            let place =
                format!("{}/{} › {}", pod.metadata.namespace.as_deref().unwrap_or("-"), pod.metadata.name, status.name);
            if status.image_id.is_empty() {
                out.not_started.push(place);
                continue;
            }
            if out.images.len() >= MAX_CONTAINERS {
                return Err(Error::evidence(
                    what,
                    format!("lists more than {MAX_CONTAINERS} containers"),
                    "record only the namespaces under test, e.g. `kubectl get pods -n kyma-system -o json`",
                ));
            }
            let spec_image = pod
                .spec
                .containers
                .iter()
                .chain(&pod.spec.init_containers)
                .find(|c| c.name == status.name)
                .map(|c| c.image.as_str());
            // The status's `image` is what the node resolved; the spec's is what was asked for.
            let reference =
                if status.image.is_empty() { spec_image.unwrap_or_default().to_string() } else { status.image.clone() };
            let (digest, note) = match digest_of_image_id(&status.image_id) {
                Ok(d) => (Some(d), None),
                Err(why) => (None, Some(why)),
            };
            out.images.push(RecordedImage {
                digest,
                platform: platform.clone(),
                image_id: Some(status.image_id.clone()),
                namespace: pod.metadata.namespace.clone(),
                pod: Some(pod.metadata.name.clone()),
                container: Some(status.name.clone()),
                init_container: init,
                note,
                ..RecordedImage::empty(RecordSource::Cluster, reference)
            });
        }
    }
    Ok(out)
}

fn node_platform(node: &KubeObject) -> Option<Platform> {
    let info = &node.status.node_info;
    let label = |k: &str| node.metadata.labels.get(k).map(String::as_str).unwrap_or_default();
    let os = if info.operating_system.is_empty() { label("kubernetes.io/os") } else { &info.operating_system };
    let arch = if info.architecture.is_empty() { label("kubernetes.io/arch") } else { &info.architecture };
    Platform::parse(&format!("{os}/{arch}")).ok()
}

// ---------------------------------------------------------------------------------------
// Checking records against the released image

/// What one recorded digest is, measured against the released image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordVerdict {
    /// The recorded digest is the released reference's digest (its index, or its
    /// manifest for a single-platform image).
    Index,
    /// The recorded digest is one of the released platform manifests.
    PlatformManifest,
    /// The recorded index is another one, but its manifest for the platform the job
    /// ran (or every platform manifest, when the platform is unknown) is the released one.
    SamePlatformManifest,
    /// Nothing recorded is part of the released image.
    Different,
    /// The record holds no registry digest (a local image id only): it proves nothing.
    NoDigest,
}

impl RecordVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordVerdict::Index => "index",
            RecordVerdict::PlatformManifest => "platform-manifest",
            RecordVerdict::SamePlatformManifest => "same-platform-manifest",
            RecordVerdict::Different => "different",
            RecordVerdict::NoDigest => "no-digest",
        }
    }

    /// Whether the record supports the release under `policy`: `identical` wants the
    /// job to have run the released bytes (the index or one of its manifests);
    /// `platforms` also accepts another index over the same platform manifest;
    /// `record` never fails.
    pub fn passes(self, policy: DigestPolicy) -> bool {
        match policy {
            DigestPolicy::Identical => matches!(self, RecordVerdict::Index | RecordVerdict::PlatformManifest),
            DigestPolicy::Platforms => {
                matches!(
                    self,
                    RecordVerdict::Index | RecordVerdict::PlatformManifest | RecordVerdict::SamePlatformManifest
                )
            }
            DigestPolicy::Record => true,
        }
    }
}

/// One recorded image checked against the released image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordCheck {
    /// The job that recorded it.
    pub job: JobIdentity,
    pub image: RecordedImage,
    /// The released reference it was checked against.
    pub released: String,
    pub verdict: RecordVerdict,
    /// The released platform (`os/arch`) a platform verdict is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// One line: what was recorded, by whom, and what it is.
    pub explanation: String,
}

/// The checks of one pair: at most [`MAX_CHECKS_PER_PAIR`](super::verdict::MAX_CHECKS_PER_PAIR),
/// and how many more recorded images were about the released image.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PairChecks {
    pub checks: Vec<RecordCheck>,
    pub left_out: usize,
}

/// [`check_records`] under the cap: the first [`MAX_CHECKS_PER_PAIR`](super::verdict::MAX_CHECKS_PER_PAIR)
/// checks are kept, the rest only counted (and the pair fails on them).
///
/// The records are taken in a canonical order (by their JSON text), so the checks do
/// not depend on the order the files were found in — `verify` finds them otherwise.
pub fn checks_for_pair(records: &[ImageRecord], released: &DigestRecord) -> PairChecks {
    let mut sorted: Vec<&ImageRecord> = records.iter().collect();
    sorted.sort_by_cached_key(|r| r.to_json());
    check_each(sorted.into_iter(), released, super::verdict::MAX_CHECKS_PER_PAIR)
}

/// Checks every recorded image that is about the released image — one whose
/// repository has the released repository's last path component (`dev/app` and
/// `prod/app` are both `app`), or whose digest is one of the released digests — and
/// says what each recorded digest is. Records about other images (the cluster's own
/// pods) are left out.
pub fn check_records(records: &[ImageRecord], released: &DigestRecord) -> Vec<RecordCheck> {
    check_each(records.iter(), released, usize::MAX).checks
}

/// The checks of `records` in order: the first `cap` kept, the rest only counted.
fn check_each<'a>(records: impl Iterator<Item = &'a ImageRecord>, released: &DigestRecord, cap: usize) -> PairChecks {
    let released_name = image_name(&released.repository);
    let released_platforms = released.platform_digests();
    let is_released = |d: &Digest| *d == released.digest || released_platforms.values().any(|p| p == d);
    let mut out = PairChecks::default();
    for record in records {
        for image in &record.images {
            let about = image.repositories().iter().any(|r| image_name(r) == released_name)
                || image.digest.as_ref().is_some_and(is_released)
                || image.platform_digest.as_ref().is_some_and(is_released);
            if !about {
                continue;
            }
            if out.checks.len() == cap {
                out.left_out += 1;
                continue;
            }
            let Judged { verdict, platform, why } = judge(image, released, &released_platforms);
            let place = image.place().map(|p| format!(" in {p}")).unwrap_or_default();
            let what = match &image.digest {
                Some(d) => format!("{} ({})", image.reference, d.short()),
                None => image.reference.clone(),
            };
            out.checks.push(RecordCheck {
                job: record.job.clone(),
                image: image.clone(),
                released: released.reference.clone(),
                verdict,
                platform,
                explanation: format!("{} ran {what}{place}: {why}", record.job.label()),
            });
        }
    }
    out
}

/// What one recorded digest is: the verdict, the released platform it is about, and why.
struct Judged {
    verdict: RecordVerdict,
    platform: Option<String>,
    why: String,
}

impl Judged {
    fn new(verdict: RecordVerdict, platform: Option<String>, why: String) -> Self {
        Judged { verdict, platform, why }
    }
}

/// The last path component of a repository: what an image is called across registries.
fn image_name(repository: &str) -> &str {
    repository.rsplit('/').next().unwrap_or(repository)
}

fn judge(image: &RecordedImage, released: &DigestRecord, released_platforms: &BTreeMap<String, Digest>) -> Judged {
    let Some(digest) = &image.digest else {
        let why = image.note.clone().unwrap_or_else(|| "no digest was recorded".to_string());
        return Judged::new(
            RecordVerdict::NoDigest,
            None,
            format!("{why}; this proves nothing about the released image"),
        );
    };
    let kind = if released.is_index() { "index" } else { "manifest" };
    if *digest == released.digest {
        return Judged::new(RecordVerdict::Index, None, format!("this is the released {kind} {}", released.reference));
    }
    if let Some((platform, _)) = released_platforms.iter().find(|(_, d)| *d == digest) {
        let also = match &image.platform {
            Some(p) if p.to_string() != *platform => format!(" (recorded as running on {p})"),
            _ => String::new(),
        };
        return Judged::new(
            RecordVerdict::PlatformManifest,
            Some(platform.clone()),
            format!("this is the released {platform} manifest of {}{also}", released.reference),
        );
    }
    // Another index: does the manifest for the platform the job ran match?
    if let (Some(p), Some(pd)) = (&image.platform, &image.platform_digest)
        && let Some(rd) = released_platforms.get(&p.to_string())
    {
        return if pd == rd {
            Judged::new(
                RecordVerdict::SamePlatformManifest,
                Some(p.to_string()),
                format!(
                    "another index than the released {} ({}), with the same {p} manifest {}",
                    released.reference,
                    released.digest.short(),
                    pd.short()
                ),
            )
        } else {
            Judged::new(
                RecordVerdict::Different,
                Some(p.to_string()),
                format!(
                    "its {p} manifest {} is not the released one {} of {}",
                    pd.short(),
                    rd.short(),
                    released.reference
                ),
            )
        };
    }
    if image.platform.is_none() && !image.platforms.is_empty() && image.platforms == *released_platforms {
        return Judged::new(
            RecordVerdict::SamePlatformManifest,
            None,
            format!(
                "another index than the released {} ({}), with the same platform manifests",
                released.reference,
                released.digest.short()
            ),
        );
    }
    Judged::new(
        RecordVerdict::Different,
        None,
        format!(
            "not the released {} ({}) nor any of its platform manifests",
            released.reference,
            released.digest.short()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::images::resolve::{ManifestRecord, Role};

    fn d(n: u8) -> Digest {
        Digest::of(&[n])
    }

    const INDEX: &str = "application/vnd.oci.image.index.v1+json";

    fn released(top: u8, platforms: &[(&str, u8)]) -> DigestRecord {
        DigestRecord {
            reference: "europe-docker.pkg.dev/kyma-project/prod/telemetry-manager:1.2.3".into(),
            registry: "europe-docker.pkg.dev".into(),
            repository: "kyma-project/prod/telemetry-manager".into(),
            tag: Some("1.2.3".into()),
            media_type: INDEX.into(),
            digest: d(top),
            header_digest: None,
            size: 1,
            read_at: DateTime::UNIX_EPOCH,
            manifests: platforms
                .iter()
                .map(|(p, n)| ManifestRecord {
                    role: Role::Image,
                    platform: Some(Platform::parse(p).unwrap()),
                    digest: d(*n),
                    media_type: "application/vnd.oci.image.manifest.v1+json".into(),
                    size: 1,
                    fetched: true,
                    header_digest: None,
                    read_at: None,
                    attests: None,
                })
                .collect(),
        }
    }

    fn job(name: &str) -> JobIdentity {
        JobIdentity {
            workflow: Some("PR Integration".into()),
            job: Some(name.into()),
            run_id: Some(42),
            run_attempt: Some(1),
            ..Default::default()
        }
    }

    fn cluster(reference: &str, digest: Option<u8>) -> RecordedImage {
        RecordedImage {
            digest: digest.map(d),
            image_id: Some(match digest {
                Some(n) => format!("{reference}@{}", d(n)),
                None => d(99).to_string(),
            }),
            pod: Some("telemetry-manager-0".into()),
            namespace: Some("kyma-system".into()),
            container: Some("manager".into()),
            note: digest.is_none().then(|| "the imageID is a local image id".to_string()),
            ..RecordedImage::empty(RecordSource::Cluster, reference.into())
        }
    }

    fn record(job_name: &str, images: Vec<RecordedImage>) -> ImageRecord {
        ImageRecord::new(job(job_name), images, DateTime::UNIX_EPOCH)
    }

    #[test]
    fn a_recorded_index_digest_matches_the_released_index() {
        let rel = released(1, &[("linux/amd64", 2), ("linux/arm64", 3)]);
        let checks = check_records(
            &[record(
                "e2e-metrics",
                vec![cluster("europe-docker.pkg.dev/kyma-project/prod/telemetry-manager:1.2.3", Some(1))],
            )],
            &rel,
        );
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].verdict, RecordVerdict::Index);
        assert!(
            checks[0].explanation.starts_with("PR Integration › e2e-metrics (run 42) ran"),
            "{}",
            checks[0].explanation
        );
        assert!(
            checks[0].explanation.contains("in kyma-system/telemetry-manager-0 › manager"),
            "{}",
            checks[0].explanation
        );
        assert!(
            checks[0].explanation.ends_with(
                "this is the released index europe-docker.pkg.dev/kyma-project/prod/telemetry-manager:1.2.3"
            )
        );
        assert!(RecordVerdict::Index.passes(DigestPolicy::Identical));
    }

    #[test]
    fn a_platform_manifest_digest_names_its_platform() {
        let rel = released(1, &[("linux/amd64", 2), ("linux/arm64", 3)]);
        let mut img = cluster("europe-docker.pkg.dev/kyma-project/prod/telemetry-manager@sha256:x", Some(3));
        img.reference = "europe-docker.pkg.dev/kyma-project/prod/telemetry-manager:1.2.3".into();
        img.platform = Some(Platform::parse("linux/amd64").unwrap());
        let checks = check_records(&[record("gardener", vec![img])], &rel);
        assert_eq!(checks[0].verdict, RecordVerdict::PlatformManifest);
        assert_eq!(checks[0].platform.as_deref(), Some("linux/arm64"));
        assert!(checks[0].explanation.contains("released linux/arm64 manifest"), "{}", checks[0].explanation);
        assert!(checks[0].explanation.contains("(recorded as running on linux/amd64)"), "{}", checks[0].explanation);
        assert!(RecordVerdict::PlatformManifest.passes(DigestPolicy::Identical));
    }

    #[test]
    fn another_index_with_the_same_platform_manifest_passes_platforms_only() {
        let rel = released(1, &[("linux/amd64", 2), ("linux/arm64", 3)]);
        let tested = released(7, &[("linux/amd64", 2), ("linux/arm64", 3)]);
        let mut tested = tested;
        tested.reference = "europe-docker.pkg.dev/kyma-project/dev/telemetry-manager:PR-123".into();
        tested.repository = "kyma-project/dev/telemetry-manager".into();
        let img = RecordedImage::resolved(&tested, Some(Platform::parse("linux/amd64").unwrap()));
        assert_eq!(img.platform_digest, Some(d(2)));
        let checks = check_records(&[record("e2e", vec![img.clone()])], &rel);
        assert_eq!(checks[0].verdict, RecordVerdict::SamePlatformManifest);
        assert!(!checks[0].verdict.passes(DigestPolicy::Identical));
        assert!(checks[0].verdict.passes(DigestPolicy::Platforms));
        // Without a platform, every platform manifest must be the same.
        let mut no_platform = img;
        no_platform.platform = None;
        no_platform.platform_digest = None;
        assert_eq!(
            check_records(&[record("e2e", vec![no_platform])], &rel)[0].verdict,
            RecordVerdict::SamePlatformManifest
        );
    }

    #[test]
    fn a_different_digest_fails_and_says_what_it_is_not() {
        let rel = released(1, &[("linux/amd64", 2), ("linux/arm64", 3)]);
        let mut changed = released(7, &[("linux/amd64", 8), ("linux/arm64", 3)]);
        changed.repository = "kyma-project/dev/telemetry-manager".into();
        let img = RecordedImage::resolved(&changed, Some(Platform::parse("linux/amd64").unwrap()));
        let checks = check_records(&[record("e2e", vec![img, cluster("telemetry-manager:pr", Some(9))])], &rel);
        assert_eq!(checks.len(), 2);
        assert_eq!(checks[0].verdict, RecordVerdict::Different);
        assert!(
            checks[0].explanation.contains(&format!(
                "its linux/amd64 manifest {} is not the released one {}",
                d(8).short(),
                d(2).short()
            )),
            "{}",
            checks[0].explanation
        );
        assert_eq!(checks[1].verdict, RecordVerdict::Different);
        assert!(checks[1].explanation.ends_with(&format!("not the released europe-docker.pkg.dev/kyma-project/prod/telemetry-manager:1.2.3 ({}) nor any of its platform manifests", d(1).short())));
        for policy in [DigestPolicy::Identical, DigestPolicy::Platforms] {
            assert!(!RecordVerdict::Different.passes(policy));
        }
        assert!(RecordVerdict::Different.passes(DigestPolicy::Record));
    }

    #[test]
    fn a_local_image_id_proves_nothing_and_other_images_are_left_out() {
        let rel = released(1, &[("linux/amd64", 2)]);
        let coredns = cluster("docker.io/rancher/mirrored-coredns-coredns:1.12.0", Some(5));
        let checks = check_records(&[record("e2e", vec![coredns, cluster("telemetry-manager:pr", None)])], &rel);
        assert_eq!(checks.len(), 1, "{checks:?}");
        assert_eq!(checks[0].verdict, RecordVerdict::NoDigest);
        assert!(checks[0].explanation.contains("local image id"), "{}", checks[0].explanation);
        assert!(!RecordVerdict::NoDigest.passes(DigestPolicy::Platforms));
    }

    #[test]
    fn a_digest_of_the_release_counts_whatever_the_image_is_called() {
        let rel = released(1, &[("linux/amd64", 2)]);
        let checks = check_records(&[record("e2e", vec![cluster("localhost:5000/renamed:x", Some(2))])], &rel);
        assert_eq!(checks[0].verdict, RecordVerdict::PlatformManifest);
    }

    #[test]
    fn image_ids_with_and_without_a_scheme() {
        let hex = "a".repeat(64);
        for id in [
            format!("docker-pullable://europe-docker.pkg.dev/p/prod/app@sha256:{hex}"),
            format!("europe-docker.pkg.dev/p/prod/app@sha256:{hex}"),
        ] {
            assert_eq!(digest_of_image_id(&id).unwrap().hex(), hex);
            assert_eq!(split_image_id(&id).repository.as_deref(), Some("europe-docker.pkg.dev/p/prod/app"));
        }
        assert!(digest_of_image_id(&format!("docker://sha256:{hex}")).unwrap_err().contains("local image id"));
        assert!(digest_of_image_id(&format!("sha256:{hex}")).unwrap_err().contains("local image id"));
        assert!(digest_of_image_id("app@sha256:short").unwrap_err().contains("unusable"));
        assert!(digest_of_image_id("app:1").unwrap_err().contains("names no digest"));
    }

    #[test]
    fn the_runner_platform_comes_from_runner_os_and_arch() {
        let id = |os: &str, arch: &str| JobIdentity {
            runner_os: Some(os.into()),
            runner_arch: Some(arch.into()),
            ..Default::default()
        };
        assert_eq!(id("Linux", "X64").runner_platform().unwrap().to_string(), "linux/amd64");
        assert_eq!(id("Linux", "ARM64").runner_platform().unwrap().to_string(), "linux/arm64");
        assert_eq!(id("Linux", "RISCV").runner_platform(), None);
        assert_eq!(JobIdentity::default().runner_platform(), None);
    }

    #[test]
    fn records_read_back_and_foreign_files_are_refused() {
        let r = record("e2e", vec![cluster("app:1", Some(1))]);
        assert_eq!(ImageRecord::parse(r.to_json().as_bytes(), "image-record.json").unwrap(), r);
        let err = ImageRecord::parse(br#"{"kind":"other","version":1}"#, "x.json").unwrap_err().to_string();
        assert!(err.contains("`kind` is \"other\""), "{err}");
        let err = ImageRecord::parse(br#"{"kind":"release-audit/image-record","version":2}"#, "x.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`version` is 2"), "{err}");
        assert!(ImageRecord::parse(b"not json", "x.json").unwrap_err().to_string().starts_with("x.json: is not JSON"));
    }

    #[test]
    fn the_schema_states_the_cap_the_reader_keeps() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../schema/image-record-v1.schema.json")).unwrap();
        assert_eq!(schema["properties"]["images"]["maxItems"].as_u64(), Some(MAX_RECORD_IMAGES as u64));
        assert!(is_record_file("reports/e2e/pr-e2e-report/image-record-metrics.json"));
        assert!(!is_record_file("reports/e2e/image-record/junit.json") && !is_record_file("image-record.xml"));
    }

    #[test]
    fn pods_documents_that_are_not_lists_of_pods_are_refused() {
        let err = parse_pods(br#"{"kind":"Service"}"#, "pods.json", None).unwrap_err().to_string();
        assert_eq!(err, "pods.json: is a `Service`, not a list of pods");
        assert!(parse_pods(b"[]", "pods.json", None).is_err());
        let single = br#"{"kind":"Pod","metadata":{"name":"p","namespace":"n"},"status":{"containerStatuses":[{"name":"c","image":"a:1","imageID":""}]}}"#;
        let r = parse_pods(single, "pods.json", None).unwrap();
        assert_eq!((r.pods, r.images.len(), r.not_started.as_slice()), (1, 0, &["n/p › c".to_string()][..]));
    }
}
