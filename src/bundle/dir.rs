//! A bundle directory being filled: every file that enters it is hashed as it is
//! written, so the manifest's file list is computed, never assumed. This is the leaf
//! the evidence stages write into; the zip writer and `verify` live beside it.
//!
//! Safety contract: a bundle name is one plain path segment ([`check_path_segment`]);
//! [`BundleDir::create`] only ever removes a directory that an earlier run marked as
//! its own (the marker file beside it, [`marker_path`]), and refuses anything else that
//! is in the way; bundle paths are plain relative paths that `sha256sum -c` can
//! represent (no control characters, no backslash — [`safe_relative_path`]).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Files the manifest cannot list (they describe the list itself).
pub(crate) const SELF_DESCRIBING: [&str; 3] = ["manifest.json", "manifest.yaml", "SHA256SUMS"];
pub(crate) const COPY_BUFFER: usize = 256 * 1024;
/// The marker written beside every bundle directory when it is created
/// (`<bundle-dir>/.<name>.release-audit`), so that a later run knows the directory is a
/// bundle this tool wrote and may replace it. It lives outside the bundle: the
/// directory holds exactly what the zip holds.
pub fn marker_path(parent: &Path, name: &str) -> PathBuf {
    parent.join(format!(".{name}.release-audit"))
}

/// Checks that `value` can be used as one path segment (a bundle name, a directory
/// named after an artifact): not empty, not `.` or `..`, no `/` or `\`, no control
/// characters. `what` names the input in the message. The input seam calls this for
/// `bundle-name`; [`BundleDir::create`] calls it again.
pub fn check_path_segment(what: &str, value: &str) -> std::result::Result<(), String> {
    let reason = if value.is_empty() {
        "is empty".to_string()
    } else if value == "." || value == ".." {
        format!("is `{value}`, which names a directory rather than a new one")
    } else if let Some(c) = value.chars().find(|c| matches!(c, '/' | '\\')) {
        format!("contains the path separator {c:?}")
    } else if let Some(c) = value.chars().find(|c| c.is_control()) {
        format!("contains the control character {c:?}")
    } else {
        return Ok(());
    };
    Err(format!("`{what}` `{}` {reason}; use a plain name such as `audit-bundle-1.2.3`", value.escape_debug()))
}

/// One file of the bundle: its path below the root and what was computed while
/// writing it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

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
    // SHA256SUMS names one file per line; `sha256sum -c` cannot read a name with a
    // line break, and GNU's `\\`-escaped form is avoided by refusing backslashes.
    if parts.is_empty() || rel.contains('\\') || rel.contains(':') || rel.chars().any(char::is_control) {
        return None;
    }
    Some(parts.join("/"))
}

impl BundleDir {
    /// Starts a fresh bundle directory `<parent>/<name>`. A directory of that name is
    /// replaced only when the marker an earlier run wrote beside it ([`marker_path`]) is there;
    /// anything else in the way (a directory without the marker, a file, a symbolic
    /// link) is refused, never removed.
    pub fn create(parent: &Path, name: &str) -> Result<Self> {
        check_path_segment("bundle-name", name)
            .map_err(|reason| Error::input("bundle-name", reason, "choose another `bundle-name`"))?;
        let root = parent.join(name);
        let marker = marker_path(parent, name);
        let hint = "point `bundle-dir` to a directory the step can write";
        match std::fs::symlink_metadata(&root) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&root, e, hint)),
            Ok(meta) if meta.is_dir() && std::fs::symlink_metadata(&marker).is_ok_and(|m| m.is_file()) => {
                std::fs::remove_dir_all(&root).map_err(|e| Error::io(&root, e, hint))?;
            }
            Ok(meta) => {
                let kind = if meta.is_symlink() {
                    "is a symbolic link"
                } else if meta.is_dir() {
                    "is a directory release-audit did not write (there is no `.<name>.release-audit` marker beside it)"
                } else {
                    "is a file"
                };
                return Err(Error::io(
                    &root,
                    std::io::Error::other(format!("already exists and {kind}; it is left untouched")),
                    "remove it yourself, or choose another `bundle-name` or `bundle-dir`",
                ));
            }
        }
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e, hint))?;
        std::fs::create_dir(&root).map_err(|e| Error::io(&root, e, hint))?;
        std::fs::write(
            &marker,
            "written by release-audit; this directory is replaced by the next run of the same bundle name\n",
        )
        .map_err(|e| Error::io(&marker, e, hint))?;
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
        std::fs::create_dir_all(&path)
            .map_err(|e| Error::io(&path, e, "free disk space or fix permissions of `bundle-dir`"))?;
        Ok(path)
    }

    /// Records files another stage wrote below the root, with the hashes it computed
    /// while writing them. Each must exist with the stated size.
    pub fn adopt(&mut self, entries: impl IntoIterator<Item = FileEntry>) -> Result<()> {
        for entry in entries {
            let clean = safe_relative_path(&entry.path).ok_or_else(|| {
                Error::evidence(
                    format!("bundle path `{}`", entry.path),
                    "is not a plain relative path",
                    "report this as a bug",
                )
            })?;
            let path = self.root.join(&clean);
            let size = std::fs::metadata(&path).map_err(|e| Error::io(&path, e, "report this as a bug"))?.len();
            if size != entry.size {
                return Err(Error::evidence(
                    format!("bundle file `{clean}`"),
                    format!("is {size} bytes, {} were recorded", entry.size),
                    "report this as a bug",
                ));
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
        let mut out =
            BufWriter::with_capacity(COPY_BUFFER, create_no_follow(&path).map_err(|e| Error::io(&path, e, hint))?);
        let (size, sha256) = crate::hashing::copy(&mut reader, &mut out)
            .and_then(|copied| out.flush().map(|_| copied))
            .map_err(|e| Error::io(&path, e, "check that the evidence source is readable, and free disk space or fix permissions of `bundle-dir`"))?;
        let entry = FileEntry { path: clean.clone(), sha256, size };
        self.files.insert(clean, entry.clone());
        Ok(entry)
    }

    /// The files added so far, sorted by path.
    pub fn files(&self) -> Vec<FileEntry> {
        self.files.values().cloned().collect()
    }

    /// Writes `manifest.json`, `manifest.yaml` and `SHA256SUMS`. The manifest's file
    /// list is replaced by the files actually written.
    ///
    /// `manifest` is given the list of files written and returns the document; this
    /// module knows nothing of its shape (it is the leaf the evidence stages write into).
    pub fn finish<M: Serialize>(mut self, manifest: impl FnOnce(Vec<FileEntry>) -> M) -> Result<PathBuf> {
        let manifest = manifest(self.files());
        let mut json = serde_json::to_vec_pretty(&manifest).expect("the manifest serialises");
        json.push(b'\n');
        let yaml = serde_norway::to_string(&manifest).expect("the manifest serialises");
        let mut sums: BTreeMap<String, String> =
            self.files.values().map(|f| (f.path.clone(), f.sha256.clone())).collect();
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

/// Creates a file inside the bundle directory (which this run created) without
/// following a link: whatever is at `path` is removed first (it is ours), then the
/// file is created with `create_new`, which never opens through a symbolic link.
pub(crate) fn create_no_follow(path: &Path) -> std::io::Result<File> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::fs::OpenOptions::new().write(true).create_new(true).open(path)
}

/// Writes an output file beside the bundle (the zip, `<name>.SHA256SUMS`) without
/// writing through anything already at `path`: the bytes go to a new temporary file in
/// the same directory, which then replaces a regular file of that name. A symbolic
/// link, directory or other non-regular file at `path` is refused and left alone.
pub fn write_output_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let hint = "remove what is in the way, or choose another `bundle-name` or `bundle-dir`";
    check_output_path(path, hint)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| Error::io(path, e, "free disk space or fix permissions of `bundle-dir`"))?;
    temp.write_all(bytes).map_err(|e| Error::io(path, e, "free disk space"))?;
    readable_by_later_steps(temp.as_file(), path)?;
    temp.persist(path).map_err(|e| Error::io(path, e.error, hint))?;
    Ok(())
}

/// Temporary files are created private (0600); an output must be readable by later
/// steps, which run as another user than a container action.
pub(crate) fn readable_by_later_steps(file: &File, path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io(path, e, "fix permissions of `bundle-dir`"))?;
    }
    #[cfg(not(unix))]
    let _ = (file, path);
    Ok(())
}

/// Refuses an output path that exists and is not a regular file.
pub(crate) fn check_output_path(path: &Path, hint: &str) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.is_file() => {
            let kind = if meta.is_symlink() {
                "a symbolic link"
            } else if meta.is_dir() {
                "a directory"
            } else {
                "not a regular file"
            };
            Err(Error::io(
                path,
                std::io::Error::other(format!("already exists and is {kind}; it is not written through")),
                hint,
            ))
        }
        _ => Ok(()),
    }
}

/// sha256 and size of a file, read in large chunks.
pub fn hash_file(path: &Path) -> Result<(u64, String)> {
    let file = File::open(path).map_err(|e| Error::io(path, e, "the file must be readable"))?;
    crate::hashing::copy(std::io::BufReader::with_capacity(COPY_BUFFER, file), &mut std::io::sink())
        .map_err(|e| Error::io(path, e, "the file must be readable"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_accepted() {
        assert_eq!(safe_relative_path("reports/unit/a.xml").as_deref(), Some("reports/unit/a.xml"));
        assert_eq!(safe_relative_path("./a/./b").as_deref(), Some("a/b"));
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "C:\\x",
            "a\\..\\b",
            "",
            ".",
            "a.xml\n0000  report.html",
            "a\rb",
            "a\u{1b}b",
        ] {
            assert_eq!(safe_relative_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn bundle_names_are_one_plain_segment() {
        assert_eq!(check_path_segment("bundle-name", "audit-bundle-1.2.3"), Ok(()));
        for bad in ["", ".", "..", "a/b", "a\\b", "a\nb", "/abs"] {
            let err = check_path_segment("bundle-name", bad).unwrap_err();
            assert!(err.starts_with("`bundle-name` `"), "{err}");
        }
    }

    #[test]
    fn only_a_marked_directory_is_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let foreign = tmp.path().join("b");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join("keep.txt"), "mine").unwrap();
        let err = BundleDir::create(tmp.path(), "b").err().expect("refused");
        assert!(err.to_string().contains("did not write"), "{err}");
        assert_eq!(std::fs::read_to_string(foreign.join("keep.txt")).unwrap(), "mine");

        let mut dir = BundleDir::create(tmp.path(), "ours").unwrap();
        dir.add_bytes("x.txt", b"1").unwrap();
        assert!(marker_path(tmp.path(), "ours").is_file());
        assert!(!tmp.path().join("ours").join(".ours.release-audit").exists(), "the marker is not in the bundle");
        let again = BundleDir::create(tmp.path(), "ours").unwrap();
        assert!(!again.root().join("x.txt").exists(), "the earlier bundle of that name was replaced");

        for bad in ["..", ".", ""] {
            assert!(BundleDir::create(&foreign, bad).is_err(), "{bad}");
        }
        assert_eq!(std::fs::read_to_string(foreign.join("keep.txt")).unwrap(), "mine");
    }

    #[cfg(unix)]
    #[test]
    fn outputs_are_not_written_through_links() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("target.txt");
        std::fs::write(&target, "precious").unwrap();
        let link = tmp.path().join("b.zip");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = write_output_file(&link, b"zip").unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        let plain = tmp.path().join("c.zip");
        std::fs::write(&plain, "old").unwrap();
        write_output_file(&plain, b"new").unwrap();
        assert_eq!(std::fs::read(&plain).unwrap(), b"new");
    }
}
