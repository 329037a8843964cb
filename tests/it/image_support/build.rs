//! Builds test images without a daemon: umoci makes single-platform images in an OCI
//! layout (files, mtimes, `created`, architecture all fixed, so a build is
//! reproducible byte for byte), indexes are composed here the way BuildKit writes them
//! (including an `unknown/unknown` attestation manifest), and skopeo pushes them.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest as _, Sha256};

use super::registry::require;

/// Every file in a test image has this mtime unless a test says otherwise.
pub const EPOCH: u64 = 1_700_000_000;

/// A file of a test image: path below the root, content, mtime.
pub struct File<'a> {
    pub path: &'a str,
    pub content: &'a [u8],
    pub mtime: u64,
}

pub fn file<'a>(path: &'a str, content: &'a [u8]) -> File<'a> {
    File { path, content, mtime: EPOCH }
}

/// The config of a test image.
pub struct Config<'a> {
    pub created: &'a str,
    pub architecture: &'a str,
}

pub const AMD64_2024: Config<'static> = Config { created: "2024-01-01T00:00:00Z", architecture: "amd64" };

/// An OCI image layout being filled with tagged images.
pub struct Layout {
    pub dir: PathBuf,
    work: PathBuf,
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?} did not start: {e}. {}", super::registry::INSTALL_HINT));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

impl Layout {
    /// An empty layout with an empty `base` image.
    pub fn new(root: &Path) -> Layout {
        require("umoci");
        require("skopeo");
        let dir = root.join("layout");
        let work = root.join("work");
        std::fs::create_dir_all(&work).unwrap();
        run(Command::new("umoci").args(["init", "--layout"]).arg(&dir));
        run(Command::new("umoci").args(["new", "--image"]).arg(format!("{}:base", dir.display())));
        Layout { dir, work }
    }

    fn image(&self, tag: &str) -> String {
        format!("{}:{tag}", self.dir.display())
    }

    /// `tag` = `from` + one layer holding `files` (every path in the layer stamped
    /// [`EPOCH`] unless the file says otherwise), with `config`.
    pub fn build(&self, from: &str, tag: &str, files: &[File], config: &Config) {
        let bundle = self.work.join(tag);
        run(Command::new("umoci").args(["unpack", "--rootless", "--image"]).arg(self.image(from)).arg(&bundle));
        let rootfs = bundle.join("rootfs");
        for f in files {
            let path = rootfs.join(f.path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, f.content).unwrap();
        }
        run(Command::new("find").arg(&rootfs).args(["-exec", "touch", "-h", "-d", &format!("@{EPOCH}"), "{}", "+"]));
        for f in files.iter().filter(|f| f.mtime != EPOCH) {
            run(Command::new("touch").args(["-h", "-d", &format!("@{}", f.mtime)]).arg(rootfs.join(f.path)));
        }
        run(Command::new("umoci")
            .args(["repack", "--history.created", config.created, "--history.created_by", "COPY . /", "--image"])
            .arg(self.image(tag))
            .arg(&bundle));
        self.configure(tag, tag, config);
        std::fs::remove_dir_all(&bundle).unwrap();
    }

    /// `tag` = `from` with another config (no new layer, no history entry).
    pub fn configure(&self, from: &str, tag: &str, config: &Config) {
        run(Command::new("umoci")
            .args([
                "config",
                "--no-history",
                "--os",
                "linux",
                "--architecture",
                config.architecture,
                "--created",
                config.created,
            ])
            .args(["--config.cmd", "/app/hello", "--image"])
            .arg(self.image(from))
            .args(["--tag", tag]));
    }

    fn index_json(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.dir.join("index.json")).unwrap()).unwrap()
    }

    /// The descriptor the layout's index.json holds for `tag`.
    pub fn descriptor(&self, tag: &str) -> serde_json::Value {
        let index = self.index_json();
        let found = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
            .unwrap_or_else(|| panic!("no tag {tag} in the layout"));
        let mut d = found.clone();
        d.as_object_mut().unwrap().remove("annotations");
        d
    }

    pub fn digest(&self, tag: &str) -> String {
        self.descriptor(tag)["digest"].as_str().unwrap().to_string()
    }

    fn put_blob(&self, bytes: &[u8]) -> (String, usize) {
        let hex = hex::encode(Sha256::digest(bytes));
        std::fs::write(self.dir.join("blobs/sha256").join(&hex), bytes).unwrap();
        (format!("sha256:{hex}"), bytes.len())
    }

    /// `tag` = an OCI index of the tagged images with their platforms; for each tag in
    /// `attest`, a BuildKit-style attestation manifest (`unknown/unknown`) whose
    /// provenance statement mentions `build_id` (new on every build).
    pub fn index(&self, tag: &str, platforms: &[(&str, &str)], attest: &[&str], build_id: &str) {
        let mut manifests = Vec::new();
        for (image, platform) in platforms {
            let (os, arch) = platform.split_once('/').unwrap();
            let mut d = self.descriptor(image);
            d["platform"] = serde_json::json!({"architecture": arch, "os": os});
            manifests.push(d);
        }
        for image in attest {
            let subject = self.digest(image);
            let statement = serde_json::json!({
                "_type": "https://in-toto.io/Statement/v0.1",
                "predicateType": "https://slsa.dev/provenance/v0.2",
                "subject": [{"name": "app", "digest": {"sha256": subject.trim_start_matches("sha256:")}}],
                "predicate": {"invocation": {"environment": {"build_id": build_id}}}
            });
            let (statement_digest, statement_size) = self.put_blob(&serde_json::to_vec(&statement).unwrap());
            let (config_digest, config_size) = self.put_blob(b"{}");
            let manifest = serde_json::json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
                "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": statement_digest, "size": statement_size,
                            "annotations": {"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}}]
            });
            let (digest, size) = self.put_blob(&serde_json::to_vec(&manifest).unwrap());
            manifests.push(serde_json::json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": size,
                "platform": {"architecture": "unknown", "os": "unknown"},
                "annotations": {"vnd.docker.reference.digest": subject, "vnd.docker.reference.type": "attestation-manifest"}
            }));
        }
        let index = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
        let (digest, size) = self.put_blob(&serde_json::to_vec(&index).unwrap());
        let mut layout_index = self.index_json();
        layout_index["manifests"].as_array_mut().unwrap().push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest, "size": size,
            "annotations": {"org.opencontainers.image.ref.name": tag}
        }));
        std::fs::write(self.dir.join("index.json"), serde_json::to_vec(&layout_index).unwrap()).unwrap();
    }

    /// Pushes `tag` to `dest` (`host/repo:tag`). `format` converts (`v2s2`, `v2s1`);
    /// without it the OCI manifests are kept byte for byte.
    pub fn push(&self, tag: &str, dest: &str, format: Option<&str>, login: Option<(&str, &str)>) {
        let mut cmd = Command::new("skopeo");
        cmd.args(["copy", "-q", "--all", "--dest-tls-verify=false"]);
        match format {
            Some(f) => cmd.args(["--format", f]),
            None => cmd.arg("--preserve-digests"),
        };
        if let Some((user, password)) = login {
            cmd.arg("--dest-creds").arg(format!("{user}:{password}"));
        }
        run(cmd.arg(format!("oci:{}", self.image(tag))).arg(format!("docker://{dest}")));
    }
}

/// `skopeo inspect --raw --tls-verify=false docker://<reference> | sha256sum`, as `sha256:<hex>`.
pub fn skopeo_digest(reference: &str, login: Option<(&str, &str)>) -> String {
    let creds = login.map(|(u, p)| format!("--creds '{u}:{p}'")).unwrap_or_default();
    let out = run(Command::new("bash").args([
        "-c",
        &format!("set -o pipefail; skopeo inspect --raw --tls-verify=false {creds} docker://{reference} | sha256sum"),
    ]));
    let text = String::from_utf8(out).unwrap();
    format!("sha256:{}", text.split_whitespace().next().unwrap())
}

/// `skopeo inspect --raw` of an index, parsed: platform (`os/arch`) → child digest.
pub fn skopeo_platforms(reference: &str) -> Vec<(String, String)> {
    let out = run(Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{reference}")));
    let index: serde_json::Value = serde_json::from_slice(&out).unwrap();
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                format!(
                    "{}/{}",
                    m["platform"]["os"].as_str().unwrap(),
                    m["platform"]["architecture"].as_str().unwrap()
                ),
                m["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
