use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, Timelike};

use super::dir::{COPY_BUFFER, check_output_path, hash_file, readable_by_later_steps};
use crate::error::{Error, Result};

/// Zip times start at 1980-01-01; earlier epochs are raised to it.
pub const ZIP_EPOCH_FLOOR: i64 = 315_532_800;

/// The zip written from a bundle directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZippedBundle {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
}

/// Zips `dir` into `zip_path`, entries under `prefix/`, sorted, all stamped `epoch`.
///
/// Deflate is the cost, so files are compressed in parallel (one worker per core),
/// each into a one-entry scratch zip; the entries are then raw-copied into the bundle
/// in sorted order. A raw copy keeps the compressed bytes, CRC and header fields, and
/// deflate's output depends only on its input, so the result is byte-identical to a
/// sequential write — just faster.
pub fn zip_dir(dir: &Path, zip_path: &Path, prefix: &str, epoch: i64) -> Result<ZippedBundle> {
    let hint = "free disk space or fix permissions of `bundle-dir`";
    let files: Vec<String> =
        list_entries(dir)?.into_iter().filter(|(_, regular)| *regular).map(|(path, _)| path).collect();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(zip_time(epoch))
        .unix_permissions(0o644);
    let zip_err = |e: zip::result::ZipError| Error::io(zip_path, std::io::Error::other(e), hint);
    let scratch =
        tempfile::tempdir_in(zip_path.parent().unwrap_or(Path::new("."))).map_err(|e| Error::io(zip_path, e, hint))?;
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(files.len()).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (done_tx, done_rx) = std::sync::mpsc::channel::<(usize, Result<PathBuf>)>();

    // The zip is written to a new file beside its final path and then renamed over it,
    // so a symbolic link planted at the zip's path is never written through.
    check_output_path(zip_path, "remove what is in the way, or choose another `bundle-name` or `bundle-dir`")?;
    let out = tempfile::NamedTempFile::new_in(zip_path.parent().unwrap_or(Path::new(".")))
        .map_err(|e| Error::io(zip_path, e, hint))?;
    let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(COPY_BUFFER, out));
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            let (files, next, scratch) = (&files, &next, scratch.path());
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(rel) = files.get(i) else { break };
                    let part = scratch.join(format!("{i}.zip"));
                    let result = compress_one(&dir.join(rel), &format!("{prefix}/{rel}"), &part, options).map(|_| part);
                    let failed = result.is_err();
                    if done_tx.send((i, result)).is_err() || failed {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        // Append parts in sorted order as they complete.
        let mut ready: BTreeMap<usize, PathBuf> = BTreeMap::new();
        for wanted in 0..files.len() {
            while !ready.contains_key(&wanted) {
                let (i, part) = done_rx
                    .recv()
                    .map_err(|_| Error::io(zip_path, std::io::Error::other("a compression worker stopped"), hint))?;
                ready.insert(i, part?);
            }
            let part = ready.remove(&wanted).expect("present");
            let mut archive =
                zip::ZipArchive::new(File::open(&part).map_err(|e| Error::io(&part, e, hint))?).map_err(zip_err)?;
            zip.raw_copy_file(archive.by_index_raw(0).map_err(zip_err)?).map_err(zip_err)?;
            drop(archive);
            let _ = std::fs::remove_file(&part);
        }
        Ok(())
    })?;
    let writer = zip.finish().map_err(zip_err)?;
    let out = writer.into_inner().map_err(|e| Error::io(zip_path, e.into_error(), hint))?;
    readable_by_later_steps(out.as_file(), zip_path)?;
    out.persist(zip_path).map_err(|e| Error::io(zip_path, e.error, hint))?;
    let (size, sha256) = hash_file(zip_path)?;
    Ok(ZippedBundle { path: zip_path.to_path_buf(), size, sha256 })
}

/// Compresses one file into a one-entry zip at `part`.
fn compress_one(source: &Path, name: &str, part: &Path, options: zip::write::SimpleFileOptions) -> Result<()> {
    let hint = "free disk space or fix permissions of `bundle-dir`";
    let zip_err = |e: zip::result::ZipError| Error::io(part, std::io::Error::other(e), hint);
    let size = std::fs::metadata(source).map_err(|e| Error::io(source, e, hint))?.len();
    let out = File::create(part).map_err(|e| Error::io(part, e, hint))?;
    let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(COPY_BUFFER, out));
    zip.start_file(name, options.large_file(size >= u32::MAX as u64)).map_err(zip_err)?;
    let mut input = File::open(source).map_err(|e| Error::io(source, e, hint))?;
    std::io::copy(&mut input, &mut zip).map_err(|e| Error::io(part, e, hint))?;
    zip.finish().map_err(zip_err)?.flush().map_err(|e| Error::io(part, e, hint))
}

/// Every non-directory entry below `root`, as `/`-separated relative paths sorted, each
/// with whether it is a regular file. The writer zips regular files only (a symlink or
/// special file never enters a bundle); `verify` looks at all of them (one is a
/// tampering to report).
pub(crate) fn list_entries(root: &Path) -> Result<Vec<(String, bool)>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, bool)>) -> Result<()> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e, "the bundle directory must be readable"))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir, e, "the bundle directory must be readable"))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| Error::io(&path, e, "the bundle directory must be readable"))?;
            if kind.is_dir() {
                walk(root, &path, out)?;
            } else {
                let rel = path.strip_prefix(root).expect("walked below root");
                out.push((
                    rel.components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/"),
                    kind.is_file(),
                ));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(root, root, &mut out)?;
    out.sort();
    Ok(out)
}

fn zip_time(epoch: i64) -> zip::DateTime {
    let t = chrono::DateTime::from_timestamp(epoch.max(ZIP_EPOCH_FLOOR), 0).unwrap_or_default();
    zip::DateTime::from_date_and_time(
        t.year().min(2107) as u16,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn parallel_zip_round_trips_in_sorted_order_and_is_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        for (i, name) in ["b.txt", "a/z.xml", "a/c.json", "reports/unit/x/junit.xml", "empty"].iter().enumerate() {
            let p = src.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, name.repeat(i * 1000)).unwrap();
        }
        let one = zip_dir(&src, &dir.path().join("1.zip"), "bundle", 1_700_000_000).unwrap();
        let two = zip_dir(&src, &dir.path().join("2.zip"), "bundle", 1_700_000_000).unwrap();
        assert_eq!(one.sha256, two.sha256);
        assert_eq!(std::fs::read(&one.path).unwrap(), std::fs::read(&two.path).unwrap());

        let mut archive = zip::ZipArchive::new(File::open(&one.path).unwrap()).unwrap();
        let names: Vec<String> =
            (0..archive.len()).map(|i| archive.by_index(i).unwrap().name().unwrap().to_string()).collect();
        assert_eq!(
            names,
            ["bundle/a/c.json", "bundle/a/z.xml", "bundle/b.txt", "bundle/empty", "bundle/reports/unit/x/junit.xml"]
        );
        for i in 0..archive.len() {
            let mut f = archive.by_index(i).unwrap();
            assert_eq!(f.last_modified(), Some(zip_time(1_700_000_000)));
            assert_eq!(f.unix_mode().map(|m| m & 0o777), Some(0o644));
            let name = f.name().unwrap().trim_start_matches("bundle/").to_string();
            let mut content = String::new();
            f.read_to_string(&mut content).unwrap();
            assert_eq!(content, std::fs::read_to_string(src.join(name)).unwrap());
        }
        let other_time = zip_dir(&src, &dir.path().join("3.zip"), "bundle", 1_800_000_000).unwrap();
        assert_ne!(other_time.sha256, one.sha256, "the fixed time is part of the bytes");
    }

    #[test]
    fn zip_times_cover_the_dos_range() {
        assert_eq!(zip_time(0), zip::DateTime::from_date_and_time(1980, 1, 1, 0, 0, 0).unwrap());
        assert_eq!(zip_time(1_700_000_000), zip::DateTime::from_date_and_time(2023, 11, 14, 22, 13, 20).unwrap());
    }
}
