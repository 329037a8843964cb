//! A bundle directory being filled: every file that enters it is hashed as it is
//! written, so the manifest's file list is computed, never assumed. This is the leaf
//! the evidence stages write into; the zip writer and `verify` live beside it.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::manifest::{FileEntry, Manifest};
use crate::error::{Error, Result};

/// Files the manifest cannot list (they describe the list itself).
pub(crate) const SELF_DESCRIBING: [&str; 3] = ["manifest.json", "manifest.yaml", "SHA256SUMS"];
pub(crate) const COPY_BUFFER: usize = 256 * 1024;

/// A bundle directory being filled. Every file added is hashed as it is written.
pub struct BundleDir {
    root: PathBuf,
    name: String,
    files: BTreeMap<String, FileEntry>,
}

/// Checks that `rel` is a plain relative path below the bundle root (no `..`, no root,
/// no drive prefix) and returns it with `/` separators.
pub fn safe_relative_path(rel: &str) -> Option<String> {
    let path = Path::new(rel);
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(p) => parts.push(p.to_str()?.to_string()),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if parts.is_empty() || rel.contains('\\') || rel.contains(':') {
        return None;
    }
    Some(parts.join("/"))
}

impl BundleDir {
    /// Starts a fresh bundle directory `<parent>/<name>`, replacing one left by an
    /// earlier run of the same name (it is ours: the zip of it is rebuilt too).
    pub fn create(parent: &Path, name: &str) -> Result<Self> {
        let root = parent.join(name);
        let hint = "point `bundle-dir` to a directory the step can write";
        if root.exists() {
            std::fs::remove_dir_all(&root).map_err(|e| Error::io(&root, e, hint))?;
        }
        std::fs::create_dir_all(&root).map_err(|e| Error::io(&root, e, hint))?;
        Ok(BundleDir { root, name: name.to_string(), files: BTreeMap::new() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn target(&self, rel: &str) -> Result<(String, PathBuf)> {
        let clean = safe_relative_path(rel).ok_or_else(|| {
            Error::evidence(format!("bundle path `{rel}`"), "is not a plain relative path", "report this as a bug")
        })?;
        if SELF_DESCRIBING.contains(&clean.as_str()) {
            return Err(Error::evidence(format!("bundle path `{rel}`"), "is reserved", "report this as a bug"));
        }
        let path = self.root.join(&clean);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e, "free disk space or fix permissions"))?;
        }
        Ok((clean, path))
    }

    /// Creates (if needed) and returns a directory inside the bundle, for a stage that
    /// writes files itself (e.g. safe archive extraction) and then [`adopt`](Self::adopt)s them.
    pub fn directory(&self, rel: &str) -> Result<PathBuf> {
        let clean = safe_relative_path(rel).ok_or_else(|| {
            Error::evidence(format!("bundle path `{rel}`"), "is not a plain relative path", "report this as a bug")
        })?;
        let path = self.root.join(clean);
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e, "free disk space or fix permissions of `bundle-dir`"))?;
        Ok(path)
    }

    /// Records files another stage wrote below the root, with the hashes it computed
    /// while writing them. Each must exist with the stated size.
    pub fn adopt(&mut self, entries: impl IntoIterator<Item = FileEntry>) -> Result<()> {
        for entry in entries {
            let clean = safe_relative_path(&entry.path).ok_or_else(|| {
                Error::evidence(format!("bundle path `{}`", entry.path), "is not a plain relative path", "report this as a bug")
            })?;
            let path = self.root.join(&clean);
            let size = std::fs::metadata(&path).map_err(|e| Error::io(&path, e, "report this as a bug"))?.len();
            if size != entry.size {
                return Err(Error::evidence(format!("bundle file `{clean}`"), format!("is {size} bytes, {} were recorded", entry.size), "report this as a bug"));
            }
            self.files.insert(clean.clone(), FileEntry { path: clean, ..entry });
        }
        Ok(())
    }

    /// Writes bytes as a bundle file.
    pub fn add_bytes(&mut self, rel: &str, bytes: &[u8]) -> Result<FileEntry> {
        self.add_reader(rel, bytes)
    }

    /// Writes a value as pretty JSON (with a trailing newline).
    pub fn add_json<T: Serialize>(&mut self, rel: &str, value: &T) -> Result<FileEntry> {
        let mut bytes = serde_json::to_vec_pretty(value).expect("bundle values serialise");
        bytes.push(b'\n');
        self.add_bytes(rel, &bytes)
    }

    /// Copies a file into the bundle, hashing it on the way.
    pub fn add_file(&mut self, rel: &str, source: &Path) -> Result<FileEntry> {
        let file = File::open(source).map_err(|e| Error::io(source, e, "the evidence file must be readable"))?;
        self.add_reader(rel, file)
    }

    /// Streams a reader into a bundle file, hashing it on the way.
    pub fn add_reader(&mut self, rel: &str, mut reader: impl Read) -> Result<FileEntry> {
        let (clean, path) = self.target(rel)?;
        let hint = "free disk space or fix permissions of `bundle-dir`";
        let mut out = BufWriter::with_capacity(COPY_BUFFER, File::create(&path).map_err(|e| Error::io(&path, e, hint))?);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; COPY_BUFFER];
        loop {
            let n = reader.read(&mut buf).map_err(|e| Error::io(&path, e, "the evidence source could not be read"))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|e| Error::io(&path, e, hint))?;
            size += n as u64;
        }
        out.flush().map_err(|e| Error::io(&path, e, hint))?;
        let entry = FileEntry { path: clean.clone(), sha256: hex::encode(hasher.finalize()), size };
        self.files.insert(clean, entry.clone());
        Ok(entry)
    }

    /// The files added so far, sorted by path.
    pub fn files(&self) -> Vec<FileEntry> {
        self.files.values().cloned().collect()
    }

    /// Writes `manifest.json`, `manifest.yaml` and `SHA256SUMS`. The manifest's file
    /// list is replaced by the files actually written.
    pub fn finish(mut self, mut manifest: Manifest) -> Result<PathBuf> {
        manifest.files = self.files();
        let mut json = serde_json::to_vec_pretty(&manifest).expect("the manifest serialises");
        json.push(b'\n');
        let yaml = serde_yaml::to_string(&manifest).expect("the manifest serialises");
        let mut sums: BTreeMap<String, String> = self.files.values().map(|f| (f.path.clone(), f.sha256.clone())).collect();
        for (name, bytes) in [("manifest.json", json.as_slice()), ("manifest.yaml", yaml.as_bytes())] {
            let path = self.root.join(name);
            std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e, "free disk space"))?;
            sums.insert(name.to_string(), hex::encode(Sha256::digest(bytes)));
        }
        let text: String = sums.iter().map(|(p, h)| format!("{h}  {p}\n")).collect();
        let path = self.root.join("SHA256SUMS");
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e, "free disk space"))?;
        self.files.clear();
        Ok(self.root)
    }
}

/// sha256 and size of a file, read in large chunks.
pub fn hash_file(path: &Path) -> Result<(u64, String)> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e, "the file must be readable"))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; COPY_BUFFER];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e, "the file must be readable"))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_accepted() {
        assert_eq!(safe_relative_path("reports/unit/a.xml").as_deref(), Some("reports/unit/a.xml"));
        assert_eq!(safe_relative_path("./a/./b").as_deref(), Some("a/b"));
        for bad in ["../x", "a/../../x", "/etc/passwd", "C:\\x", "a\\..\\b", "", "."] {
            assert_eq!(safe_relative_path(bad), None, "{bad}");
        }
    }
}
