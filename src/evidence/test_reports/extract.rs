//! Safe extraction of report archives (workflow artifacts are zips).
//!
//! An artifact is outside data: anyone who can push to a branch can make a workflow
//! upload any zip. Extraction therefore refuses, with an error that names the artifact
//! and the entry, every entry that could write outside the destination (`..`, absolute
//! paths, drive letters, backslashes, symlinks, devices) and every archive that would
//! exhaust the disk (too many entries, too many bytes, a compression ratio only a zip
//! bomb has). Sizes are counted as bytes come out of the decompressor, never taken from
//! the headers, and checked as they grow, so a lying header gains nothing.
//!
//! Files are created with `create_new`, so nothing that already exists is overwritten
//! or followed; each is hashed while it is written. On any error everything written so
//! far is removed again: an archive is extracted whole or not at all.
//!
//! An archive must read one way: from its local headers (a streaming unzip) as from its
//! central directory (this reader, `unzip`), with no byte only one of them reaches — no
//! prepended stub, no appended data, no hidden entry ([`super::zip_layout`]). The bundle
//! zip `verify` reads is extracted here too.
//!
//! Two entries with one name (exactly, or equal ignoring case, Unicode normalisation or
//! trailing dots, as a disk or an auditor's unzip on macOS/Windows would see them) make the archive
//! unreadable: one of them would hide the other, and the hidden one may be the failing
//! report. The entry limit counts raw central-directory entries, duplicates included.
//! Expansion is bounded per entry, per archive (bytes and overall ratio to the archive's
//! size) and per process run ([`Limits::max_run_bytes`]), so many small bombs and many
//! artifacts cannot add up to filling the disk.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::bundle::dir::safe_relative_path;
use crate::error::{Error, Result};

const COPY_BUFFER: usize = 256 * 1024;
/// Below this many bytes an entry's ratio is not judged: tiny files compress absurdly.
const RATIO_FLOOR: u64 = 1024 * 1024;
const HINT_UNSAFE: &str = "report archives hold plain files under plain relative paths; inspect the artifact by hand (it was not made by upload-artifact from report files)";
const HINT_LIMIT: &str = "upload only the test reports (not logs, binaries or caches) or, if the reports really are this large, raise the extraction limits";

/// How much one archive may hold. The defaults are far above any real report artifact
/// and far below what fills a runner's disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_entries: u64,
    pub max_total_bytes: u64,
    pub max_entry_bytes: u64,
    /// Largest uncompressed-to-compressed ratio of an entry (judged once it passes 1 MiB).
    /// Text reports compress 5–50×; deflate cannot go past ~1030×. Also applied to the
    /// whole archive: bytes written so far against the archive's size on disk.
    pub max_ratio: u64,
    /// Bytes all extractions of this process may write together (one run of the tool).
    pub max_run_bytes: u64,
}

/// Bytes extracted (and kept) by this process so far, against [`Limits::max_run_bytes`].
static RUN_EXTRACTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 10_000,
            max_total_bytes: 4 * 1024 * 1024 * 1024,
            max_entry_bytes: 2 * 1024 * 1024 * 1024,
            max_ratio: 200,
            max_run_bytes: 16 * 1024 * 1024 * 1024,
        }
    }
}

/// One extracted file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExtractedFile {
    /// Relative to the destination, `/`-separated.
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// The number of entries a zip declares in its end-of-central-directory record (the
/// zip64 one when the classic field is saturated), read from the last 64 KiB; `None`
/// when no such record is found (the zip reader then says the archive is unreadable).
fn declared_entries(file: &mut File, len: u64) -> std::io::Result<Option<u64>> {
    use std::io::{Read, Seek, SeekFrom};
    const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    const LOCATOR: [u8; 4] = [0x50, 0x4b, 0x06, 0x07];
    const EOCD64: [u8; 4] = [0x50, 0x4b, 0x06, 0x06];
    let tail_len = len.min(22 + 65_535);
    file.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = vec![0u8; tail_len as usize];
    file.read_exact(&mut tail)?;
    let Some(at) = (0..tail.len().saturating_sub(21)).rev().find(|&i| tail[i..i + 4] == EOCD) else { return Ok(None) };
    let classic = u16::from_le_bytes([tail[at + 10], tail[at + 11]]) as u64;
    let result = if classic != 0xFFFF || at < 20 || tail[at - 20..at - 16] != LOCATOR {
        Some(classic)
    } else {
        let offset = u64::from_le_bytes(tail[at - 12..at - 4].try_into().expect("8 bytes"));
        let mut record = [0u8; 40];
        if offset.checked_add(40).is_none_or(|end| end > len) {
            return Ok(None);
        }
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(&mut record)?;
        (record[..4] == EOCD64).then(|| u64::from_le_bytes(record[32..40].try_into().expect("8 bytes")))
    };
    file.seek(SeekFrom::Start(0))?;
    Ok(result)
}

/// Extracts `zip` into `dest` (created if missing; if it exists it must be empty).
/// `what` names the archive in errors (the artifact name). Returns the files sorted by
/// path. On error nothing of the archive is left in `dest`.
pub fn extract_zip(zip: &Path, dest: &Path, limits: &Limits, what: &str) -> Result<Vec<ExtractedFile>> {
    let archive_len =
        std::fs::metadata(zip).map_err(|e| Error::io(zip, e, "the downloaded artifact must be readable"))?.len();
    let mut file = File::open(zip).map_err(|e| Error::io(zip, e, "the downloaded artifact must be readable"))?;
    // The zip reader holds the whole central directory in memory: count the entries the
    // archive declares first, from its end records, and refuse too many before that.
    if let Some(declared) = declared_entries(&mut file, archive_len)
        .map_err(|e| Error::io(zip, e, "the downloaded artifact must be readable"))?
        && declared > limits.max_entries
    {
        return Err(Error::evidence(
            format!("artifact `{what}`"),
            format!("declares {declared} entries, more than the limit of {}", limits.max_entries),
            HINT_LIMIT,
        ));
    }
    let mut archive = zip::ZipArchive::new(file).map_err(|e| {
        Error::evidence(
            format!("artifact `{what}`"),
            format!("is not a readable zip archive: {e}"),
            "download the artifact again; if it stays unreadable, upload it again",
        )
    })?;
    if archive.has_duplicate_names() {
        return Err(Error::evidence(
            format!("artifact `{what}`"),
            "is unreadable: two entries have the same name, so one would hide the other",
            HINT_UNSAFE,
        ));
    }
    // Without duplicates, `len()` is the raw number of central-directory entries.
    if archive.len() as u64 > limits.max_entries {
        return Err(Error::evidence(
            format!("artifact `{what}`"),
            format!("has {} entries, more than the limit of {}", archive.len(), limits.max_entries),
            HINT_LIMIT,
        ));
    }
    refuse_case_collisions(&archive, what)?;
    super::zip_layout::check(zip, archive_len, &mut archive).map_err(|a| {
        let at = a.entry.map(|e| format!(", entry `{}`", e.escape_debug())).unwrap_or_default();
        Error::evidence(
            format!("artifact `{what}`{at}"),
            format!(
                "{}; refused: a zip must read one way, from its local headers as from its central directory",
                a.reason
            ),
            HINT_UNSAFE,
        )
    })?;
    let created_dest = prepare_destination(dest)?;
    let mut extraction =
        Extraction { dest, what, limits, archive_len, total: 0, created: Vec::new(), files: Vec::new() };
    let result = (0..archive.len()).try_for_each(|index| extraction.entry(&mut archive, index));
    match result {
        Ok(()) => {
            let mut files = extraction.files;
            files.sort_by(|a, b| a.path.cmp(&b.path));
            Ok(files)
        }
        Err(error) => {
            RUN_EXTRACTED.fetch_sub(extraction.total, std::sync::atomic::Ordering::Relaxed);
            extraction.remove_created();
            if created_dest {
                let _ = std::fs::remove_dir(dest);
            }
            Err(error)
        }
    }
}

/// Refuses two file entries whose names are one file on some disk an auditor unzips to
/// (after `./` and the like are normalised): equal ignoring case (macOS, Windows), in
/// Unicode normalisation form C (macOS stores `é` decomposed, so `café.xml` written
/// composed and decomposed is one file), or ignoring trailing dots and spaces of a
/// component (Windows drops them). The second would overwrite the first.
fn refuse_case_collisions(archive: &zip::ZipArchive<File>, what: &str) -> Result<()> {
    let mut seen = std::collections::HashMap::new();
    for raw in archive.file_names_raw() {
        let name = String::from_utf8_lossy(raw);
        let Some(clean) = safe_relative_path(name.trim_end_matches('/')) else { continue }; // refused per entry later
        if let Some(first) = seen.insert(one_file_key(&clean), name.to_string()) {
            return Err(Error::evidence(
                format!("artifact `{what}`"),
                format!(
                    "is unreadable: entries `{}` and `{}` name the same file on macOS or Windows (ignoring case, Unicode normalisation or trailing dots), so one would hide the other",
                    first.escape_debug(),
                    name.escape_debug()
                ),
                HINT_UNSAFE,
            ));
        }
    }
    Ok(())
}

/// The name every disk gives `path` (see [`refuse_case_collisions`]).
fn one_file_key(path: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = path.nfc().collect::<String>().to_lowercase();
    folded.split('/').map(|part| part.trim_end_matches(['.', ' '])).collect::<Vec<_>>().join("/")
}

/// Creates `dest` or checks that it is an empty directory. Returns true if created.
fn prepare_destination(dest: &Path) -> Result<bool> {
    let hint = "extract each artifact into a fresh directory";
    match std::fs::symlink_metadata(dest) {
        Ok(meta) if meta.is_dir() => {
            let mut entries = std::fs::read_dir(dest).map_err(|e| Error::io(dest, e, hint))?;
            if entries.next().is_some() {
                return Err(Error::io(dest, std::io::Error::other("the extraction directory is not empty"), hint));
            }
            Ok(false)
        }
        Ok(_) => Err(Error::io(dest, std::io::Error::other("exists and is not a directory"), hint)),
        Err(_) => {
            std::fs::create_dir_all(dest).map_err(|e| Error::io(dest, e, "free disk space or fix permissions"))?;
            Ok(true)
        }
    }
}

struct Extraction<'a> {
    dest: &'a Path,
    what: &'a str,
    limits: &'a Limits,
    archive_len: u64,
    total: u64,
    /// Files and directories created, in order, to undo on error.
    created: Vec<PathBuf>,
    files: Vec<ExtractedFile>,
}

impl Extraction<'_> {
    fn refuse(&self, entry: &str, reason: impl Into<String>, hint: &str) -> Error {
        Error::evidence(format!("artifact `{}`, entry `{}`", self.what, entry.escape_debug()), reason, hint)
    }

    fn entry(&mut self, archive: &mut zip::ZipArchive<File>, index: usize) -> Result<()> {
        let mut entry = archive.by_index(index).map_err(|e| {
            Error::evidence(
                format!("artifact `{}`, entry #{index}", self.what),
                format!("cannot be read: {e}"),
                "download the artifact again",
            )
        })?;
        let name = match std::str::from_utf8(entry.name_raw()) {
            Ok(n) => n.to_string(),
            Err(_) => {
                let lossy = String::from_utf8_lossy(entry.name_raw()).into_owned();
                return Err(self.refuse(&lossy, "has a name that is not UTF-8", HINT_UNSAFE));
            }
        };
        let rel = self.checked_path(&name)?;
        if entry.encrypted() {
            return Err(self.refuse(&name, "is encrypted", HINT_UNSAFE));
        }
        let file_type = entry.unix_mode().map(|m| m & 0o170_000);
        if entry.is_symlink() || file_type == Some(0o120_000) {
            return Err(self.refuse(
                &name,
                "is a symbolic link; links could point outside the extraction directory",
                HINT_UNSAFE,
            ));
        }
        if entry.is_dir() {
            // Some tools write a directory entry's data into a file of that name.
            if entry.size() != 0 {
                return Err(self.refuse(&name, "is a directory entry that holds data", HINT_UNSAFE));
            }
            return self.make_dirs(&name, &rel);
        }
        if !matches!(file_type, None | Some(0) | Some(0o100_000)) {
            return Err(self.refuse(&name, "is not a regular file (a device, FIFO or socket)", HINT_UNSAFE));
        }
        if let Some((parent, _)) = rel.rsplit_once('/') {
            self.make_dirs(&name, parent)?;
        }
        let target = self.dest.join(&rel);
        let hint = "free disk space or fix permissions of the extraction directory";
        let out = OpenOptions::new().write(true).create_new(true).open(&target).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                self.refuse(&name, "appears twice in the archive (or collides with a directory entry)", HINT_UNSAFE)
            } else {
                Error::io(&target, e, hint)
            }
        })?;
        self.created.push(target.clone());
        let compressed = entry.compressed_size().min(self.archive_len).max(1);
        let mut out = BufWriter::with_capacity(COPY_BUFFER, out);
        let mut tally = crate::hashing::Tally::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; COPY_BUFFER];
        loop {
            let n = entry.read(&mut buf).map_err(|e| {
                self.refuse(&name, format!("cannot be decompressed: {e}"), "download the artifact again")
            })?;
            if n == 0 {
                break;
            }
            size += n as u64;
            self.total += n as u64;
            let run_total = RUN_EXTRACTED.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed) + n as u64;
            self.check_limits(&name, size, compressed, run_total)?;
            tally.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|e| Error::io(&target, e, hint))?;
        }
        out.flush().map_err(|e| Error::io(&target, e, hint))?;
        self.files.push(ExtractedFile { path: rel, size, sha256: tally.finish().1 });
        Ok(())
    }

    /// Every bound an entry's bytes so far must keep: per entry, per archive, per run,
    /// and the expansion ratios that give a zip bomb away.
    fn check_limits(&self, name: &str, size: u64, compressed: u64, run_total: u64) -> Result<()> {
        if size > self.limits.max_entry_bytes {
            return Err(self.refuse(
                name,
                format!("is larger than the limit of {} bytes", self.limits.max_entry_bytes),
                HINT_LIMIT,
            ));
        }
        if self.total > self.limits.max_total_bytes {
            return Err(self.refuse(
                name,
                format!("takes the archive past the limit of {} bytes in total", self.limits.max_total_bytes),
                HINT_LIMIT,
            ));
        }
        if size > RATIO_FLOOR && size / compressed > self.limits.max_ratio {
            return Err(self.refuse(
                name,
                format!(
                    "expands more than {}× ({compressed} compressed bytes gave {size} so far): a zip bomb, not a report",
                    self.limits.max_ratio
                ),
                HINT_LIMIT,
            ));
        }
        if run_total > self.limits.max_run_bytes {
            return Err(self.refuse(
                name,
                format!(
                    "takes this run past the limit of {} extracted bytes over all artifacts",
                    self.limits.max_run_bytes
                ),
                HINT_LIMIT,
            ));
        }
        if self.total > RATIO_FLOOR && self.total / self.archive_len.max(1) > self.limits.max_ratio {
            return Err(self.refuse(
                name,
                format!(
                    "takes the archive past {}× its own size ({} bytes of archive gave {} bytes so far): a zip bomb, not reports",
                    self.limits.max_ratio, self.archive_len, self.total
                ),
                HINT_LIMIT,
            ));
        }
        Ok(())
    }

    /// The entry's path, checked to stay below the destination; `/`-separated.
    fn checked_path(&self, name: &str) -> Result<String> {
        let reason = if name.contains('\\') {
            Some("contains a backslash, which Windows tools read as a path separator")
        } else if name.starts_with('/') {
            Some("has an absolute path")
        } else if name.as_bytes().get(1) == Some(&b':') {
            Some("starts with a drive letter")
        } else if name.split('/').any(|part| part == "..") {
            Some("has a `..` component that would leave the extraction directory")
        } else if name.contains('\0') {
            Some("contains a NUL byte")
        } else if name.chars().any(char::is_control) {
            Some("contains a control character (a line break would forge SHA256SUMS lines)")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(self.refuse(name, reason, HINT_UNSAFE));
        }
        safe_relative_path(name.trim_end_matches('/'))
            .ok_or_else(|| self.refuse(name, "is not a plain relative path", HINT_UNSAFE))
    }

    /// Creates the directories of `rel` below the destination one by one, refusing any
    /// existing component that is not a real directory (a symlink planted earlier).
    fn make_dirs(&mut self, name: &str, rel: &str) -> Result<()> {
        let mut path = self.dest.to_path_buf();
        for part in rel.split('/') {
            path.push(part);
            match std::fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => continue,
                Ok(_) => {
                    return Err(self.refuse(
                        name,
                        format!("needs `{part}` to be a directory, but a file of that name was extracted"),
                        HINT_UNSAFE,
                    ));
                }
                Err(_) => {
                    std::fs::create_dir(&path)
                        .map_err(|e| Error::io(&path, e, "free disk space or fix permissions"))?;
                    self.created.push(path.clone());
                }
            }
        }
        Ok(())
    }

    /// Removes what this extraction created, newest first (files before their directories).
    fn remove_created(&mut self) {
        for path in self.created.drain(..).rev() {
            let removed = std::fs::remove_file(&path).or_else(|_| std::fs::remove_dir(&path));
            if let Err(e) = removed {
                log::warn!("could not remove {} after a refused extraction: {e}", path.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};
    use zip::write::SimpleFileOptions;

    fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
        let mut zip = zip::ZipWriter::new(File::create(path).unwrap());
        let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            if name.ends_with('/') {
                zip.add_directory(name.to_string(), options).unwrap();
            } else {
                zip.start_file(name.to_string(), options).unwrap();
                zip.write_all(data).unwrap();
            }
        }
        zip.finish().unwrap();
    }

    fn files_below(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries {
                let path = entry.unwrap().path();
                out.push(path.strip_prefix(dir).unwrap().display().to_string());
                for inner in files_below(&path) {
                    out.push(format!("{}/{inner}", path.file_name().unwrap().to_string_lossy()));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn a_nested_archive_is_extracted_with_hashes() {
        let tmp = tempfile::tempdir().unwrap();
        let zip = tmp.path().join("a.zip");
        write_zip(&zip, &[("reports/", b""), ("reports/unit/junit.xml", b"<testsuite/>"), ("top.json", b"{}")]);
        let dest = tmp.path().join("out");
        let files = extract_zip(&zip, &dest, &Limits::default(), "pr-unit-report").unwrap();
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["reports/unit/junit.xml", "top.json"]);
        assert_eq!(files[0].size, 12);
        assert_eq!(files[0].sha256, hex::encode(Sha256::digest(b"<testsuite/>")));
        assert_eq!(std::fs::read(dest.join("reports/unit/junit.xml")).unwrap(), b"<testsuite/>");
    }

    fn refused(entries: &[(&str, &[u8])], limits: &Limits) -> (String, Vec<String>) {
        let tmp = tempfile::tempdir().unwrap();
        let zip = tmp.path().join("evil.zip");
        write_zip(&zip, entries);
        let dest = tmp.path().join("out");
        let error = extract_zip(&zip, &dest, limits, "pr-e2e-report").unwrap_err();
        let message = format!("{error} | hint: {}", error.hint());
        let left = files_below(&dest);
        assert!(!tmp.path().join("escaped").exists());
        (message, left)
    }

    #[test]
    fn zip_slip_absolute_and_drive_letter_entries_are_refused_and_nothing_is_left() {
        for (name, expected) in [
            ("../escaped", "`..` component"),
            ("ok/../../escaped", "`..` component"),
            ("/tmp/escaped", "absolute path"),
            ("C:/escaped", "drive letter"),
            ("..\\escaped", "backslash"),
        ] {
            let (message, left) = refused(&[("good.xml", b"<testsuite/>"), (name, b"x")], &Limits::default());
            assert!(message.starts_with("artifact `pr-e2e-report`, entry `"), "{message}");
            assert!(message.contains(expected), "{name}: {message}");
            assert!(left.is_empty(), "{name}: left {left:?}");
        }
    }

    #[test]
    fn symlink_entries_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let zip_path = tmp.path().join("link.zip");
        let mut zip = zip::ZipWriter::new(File::create(&zip_path).unwrap());
        zip.add_symlink("passwd", "/etc/passwd", SimpleFileOptions::default()).unwrap();
        zip.finish().unwrap();
        let error = extract_zip(&zip_path, &tmp.path().join("out"), &Limits::default(), "a").unwrap_err();
        assert!(error.to_string().contains("entry `passwd`: is a symbolic link"), "{error}");
        assert!(!tmp.path().join("out/passwd").exists());
    }

    #[test]
    fn a_zip_bomb_is_stopped_by_the_ratio_as_it_grows() {
        let zeros = vec![0u8; 8 * 1024 * 1024];
        let (message, left) = refused(&[("bomb.xml", &zeros)], &Limits::default());
        assert!(message.contains("expands more than 200×"), "{message}");
        assert!(message.contains("zip bomb"), "{message}");
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn archives_beyond_the_count_and_size_limits_are_refused() {
        let entries: Vec<(String, Vec<u8>)> = (0..6).map(|i| (format!("r{i}.xml"), b"<testsuite/>".to_vec())).collect();
        let borrowed: Vec<(&str, &[u8])> = entries.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
        let limits = Limits { max_entries: 5, ..Limits::default() };
        let (message, _) = refused(&borrowed, &limits);
        assert!(message.contains("declares 6 entries, more than the limit of 5"), "{message}");

        let limits = Limits { max_total_bytes: 30, ..Limits::default() };
        let (message, left) = refused(&borrowed, &limits);
        assert!(message.contains("entry `r2.xml`: takes the archive past the limit of 30 bytes"), "{message}");
        assert!(left.is_empty(), "{left:?}");
    }

    /// A zip whose second entry has the first one's name: written with distinct names
    /// of equal length, then renamed in the bytes (zip writers refuse duplicates).
    fn zip_with_duplicate(dir: &Path, first: (&str, &[u8]), second_name: &str, second: &[u8]) -> PathBuf {
        let path = dir.join("dup.zip");
        write_zip(&path, &[first, (second_name, second)]);
        let bytes = std::fs::read(&path).unwrap();
        let from = second_name.as_bytes();
        let to = first.0.as_bytes();
        let mut patched = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i..].starts_with(from) {
                patched.extend_from_slice(to);
                i += from.len();
            } else {
                patched.push(bytes[i]);
                i += 1;
            }
        }
        std::fs::write(&path, patched).unwrap();
        path
    }

    #[test]
    fn two_entries_with_one_name_make_the_archive_unreadable() {
        let tmp = tempfile::tempdir().unwrap();
        let failing = br#"<testsuite tests="1" failures="1"><testcase name="t"><failure/></testcase></testsuite>"#;
        let passing = br#"<testsuite tests="1"><testcase name="t"/></testsuite>"#;
        let zip = zip_with_duplicate(tmp.path(), ("a.xml", failing), "b.xml", passing);
        let dest = tmp.path().join("out");
        let error = extract_zip(&zip, &dest, &Limits::default(), "pr-e2e-report").unwrap_err();
        assert!(
            error.to_string().contains("artifact `pr-e2e-report`: is unreadable: two entries have the same name"),
            "{error}"
        );
        assert!(files_below(&dest).is_empty());
    }

    #[test]
    fn names_equal_ignoring_case_are_refused() {
        let (message, left) = refused(&[("reports/a.xml", b"1"), ("Reports/A.XML", b"2")], &Limits::default());
        assert!(message.contains("name the same file on macOS or Windows"), "{message}");
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn control_characters_in_names_are_refused() {
        let forged = format!("a.xml\n{}  report.html", "0".repeat(64));
        let (message, left) = refused(&[(forged.as_str(), b"<testsuite/>")], &Limits::default());
        assert!(message.contains("control character"), "{message}");
        assert!(message.contains("a.xml\\n000"), "the name is shown escaped: {message}");
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn many_small_bombs_are_stopped_by_the_archive_ratio() {
        let zeros = vec![0u8; 900 * 1024];
        let entries: Vec<(String, &[u8])> = (0..12).map(|i| (format!("r{i}.xml"), zeros.as_slice())).collect();
        let borrowed: Vec<(&str, &[u8])> = entries.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        let (message, left) = refused(&borrowed, &Limits::default());
        assert!(message.contains("past 200× its own size"), "{message}");
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn the_run_budget_is_shared_by_all_extractions() {
        let (message, _) = refused(&[("a.xml", b"<testsuite/>")], &Limits { max_run_bytes: 1, ..Limits::default() });
        assert!(message.contains("takes this run past the limit of 1 extracted bytes"), "{message}");
    }

    #[test]
    fn duplicate_entries_do_not_overwrite() {
        let (message, left) = refused(&[("a.xml", b"one"), ("./a.xml", b"two")], &Limits::default());
        assert!(message.contains("name the same file"), "{message}");
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn an_archive_declaring_too_many_entries_is_refused_before_its_directory_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("many.zip");
        // Only an end record, declaring 60,000 entries in a 3 MiB directory.
        let mut eocd = vec![0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0];
        eocd.extend_from_slice(&60_000u16.to_le_bytes());
        eocd.extend_from_slice(&60_000u16.to_le_bytes());
        eocd.extend_from_slice(&(3u32 << 20).to_le_bytes());
        eocd.extend_from_slice(&0u32.to_le_bytes());
        eocd.extend_from_slice(&0u16.to_le_bytes());
        std::fs::write(&zip, &eocd).unwrap();
        let err = extract_zip(&zip, &dir.path().join("out"), &Limits::default(), "many").unwrap_err().to_string();
        assert!(err.contains("declares 60000 entries, more than the limit of 10000"), "{err}");
    }
}
