//! Layer diffs, streamed: a layer blob is read from the registry once, its compressed
//! bytes hashed (the layer digest is checked, not trusted), decompressed and walked as
//! a tar stream; each entry's content is hashed as it passes. What is kept is a map
//! `path → metadata + content hash`, never the layer: memory grows with the number of
//! files, not with their size.

use std::collections::BTreeMap;
use std::io::{self, Read};

use futures_util::TryStreamExt as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::registry::client::RegistryClient;
use crate::registry::reference::{Digest, ImageRef};

/// A layer with more entries than this is not diffed (a bound on memory, not on size).
pub const MAX_ENTRIES: usize = 1_000_000;

/// How a layer blob is compressed, from its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
}

impl Compression {
    /// `None` for compressions we cannot stream (zstd) and for non-layer types.
    pub fn of(media_type: &str) -> Option<Compression> {
        match media_type {
            "application/vnd.oci.image.layer.v1.tar"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar"
            | "application/vnd.docker.image.rootfs.diff.tar" => Some(Compression::None),
            "application/vnd.oci.image.layer.v1.tar+gzip"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
            | "application/vnd.docker.image.rootfs.diff.tar.gzip"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => Some(Compression::Gzip),
            _ => None,
        }
    }
}

/// One tar entry's metadata and content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The tar type flag (`0` file, `5` directory, `2` symlink, `1` hard link, …).
    pub kind: u8,
    pub size: u64,
    pub mode: u32,
    pub owner: String,
    /// Seconds since the epoch, with the fraction when a PAX header gives one.
    pub mtime: String,
    pub link: Option<String>,
    pub content: Option<[u8; 32]>,
}

/// Everything a layer holds, by path, plus a hash of the entry order.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub entries: BTreeMap<String, Entry>,
    /// sha256 over the paths in archive order: equal maps with different orders differ here.
    pub order: [u8; 32],
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
}

/// Reads a (compressed) tar stream into a [`Listing`].
pub fn read_listing(reader: impl Read, compression: Compression) -> io::Result<Listing> {
    match compression {
        Compression::None => read_tar(reader),
        Compression::Gzip => read_tar(flate2::read::MultiGzDecoder::new(reader)),
    }
}

fn read_tar(reader: impl Read) -> io::Result<Listing> {
    let mut counted = Counted { inner: reader, bytes: 0 };
    let mut listing = Listing::default();
    let mut order = Sha256::new();
    {
        let mut archive = tar::Archive::new(&mut counted);
        for entry in archive.entries()? {
            let mut entry = entry?;
            let path = normalise(&String::from_utf8_lossy(&entry.path_bytes()));
            let header = entry.header();
            let kind = header.entry_type().as_byte();
            let mode = header.mode().unwrap_or(0) & 0o7777;
            let mut uid = header.uid().unwrap_or(0).to_string();
            let mut gid = header.gid().unwrap_or(0).to_string();
            let mut mtime = header.mtime().unwrap_or(0).to_string();
            let link = entry.link_name_bytes().map(|l| String::from_utf8_lossy(&l).into_owned());
            if let Some(pax) = entry.pax_extensions()? {
                for ext in pax.flatten() {
                    let (Ok(key), Ok(value)) = (ext.key(), ext.value()) else { continue };
                    match key {
                        "mtime" => mtime = value.to_string(),
                        "uid" => uid = value.to_string(),
                        "gid" => gid = value.to_string(),
                        _ => {}
                    }
                }
            }
            let size = entry.size();
            let content = if kind == b'0' || kind == 0 || kind == b'7' {
                let mut hashing = crate::hashing::HashingReader::new(&mut entry);
                io::copy(&mut hashing, &mut io::sink())?;
                Some(hashing.tally.finish_bytes().1)
            } else {
                None
            };
            order.update(path.as_bytes());
            order.update([0]);
            if listing.entries.len() >= MAX_ENTRIES {
                return Err(io::Error::other(format!("the layer has more than {MAX_ENTRIES} entries")));
            }
            listing
                .entries
                .insert(path, Entry { kind, size, mode, owner: format!("{uid}:{gid}"), mtime, link, content });
        }
    }
    // Read to the end so the whole stream is decompressed (gzip checks its CRC there).
    io::copy(&mut counted, &mut io::sink())?;
    listing.order = order.finalize().into();
    listing.uncompressed_bytes = counted.bytes;
    Ok(listing)
}

/// `./a/b/` → `a/b`: tools write the same path differently.
fn normalise(path: &str) -> String {
    let trimmed = path.trim_start_matches("./").trim_start_matches('/').trim_end_matches('/');
    if trimmed.is_empty() { ".".to_string() } else { trimmed.to_string() }
}

struct Counted<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Downloads a layer and lists it, streaming; the compressed bytes must hash to `digest`.
pub async fn list(client: &RegistryClient, image: &ImageRef, digest: &Digest, media_type: &str) -> Result<Listing> {
    let what = format!("layer {digest} of {}", image.name());
    let compression = Compression::of(media_type).ok_or_else(|| {
        Error::evidence(
            &what,
            format!("has media type `{media_type}`, which cannot be streamed as tar"),
            "only tar and tar+gzip layers are diffed",
        )
    })?;
    let response = client
        .blob_response(image, digest)
        .await
        .map_err(|e| e.into_error("the manifest names a layer the registry does not have"))?;
    let stream = response.bytes_stream().map_err(io::Error::other);
    let reader = tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(stream));
    let expected = digest.clone();
    let task_what = what.clone();
    let listing = tokio::task::spawn_blocking(move || -> Result<Listing> {
        let mut hashing = crate::hashing::HashingReader::new(reader);
        let mut listing = read_listing(&mut hashing, compression).map_err(|e| {
            Error::evidence(
                &task_what,
                format!("cannot be read as a tar stream: {e}"),
                "the layer is damaged or not a tar archive",
            )
        })?;
        io::copy(&mut hashing, &mut io::sink())
            .map_err(|e| Error::evidence(&task_what, format!("download broke off: {e}"), "try again"))?;
        let (bytes, sha256) = hashing.tally.finish();
        let actual = Digest::parse(&format!("sha256:{sha256}"))
            .map_err(|e| Error::evidence(&task_what, e, "report this as a bug"))?;
        if actual != expected {
            return Err(Error::evidence(
                &task_what,
                format!("hashes to {actual}"),
                "the registry served other content than the digest names; report it",
            ));
        }
        listing.compressed_bytes = bytes;
        Ok(listing)
    })
    .await
    .map_err(|e| Error::evidence(&what, format!("the diff task failed: {e}"), "report this as a bug"))??;
    Ok(listing)
}

/// A path and how it differs, e.g. `usr/bin/app: 1700000000 → 1700000100`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What differs between two listings, by kind of difference.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LayerDiff {
    pub added: Vec<Change>,
    pub removed: Vec<Change>,
    /// Same path, different content (or size, or entry type, or link target).
    pub content: Vec<Change>,
    pub mtime: Vec<Change>,
    pub mode: Vec<Change>,
    pub owner: Vec<Change>,
    /// The same entries in another order.
    pub order_only: bool,
}

impl LayerDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.content.is_empty()
            && self.mtime.is_empty()
            && self.mode.is_empty()
            && self.owner.is_empty()
    }

    /// Only modification times differ: the classic unreproducible rebuild.
    pub fn only_mtimes(&self) -> bool {
        !self.mtime.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.content.is_empty()
            && self.mode.is_empty()
            && self.owner.is_empty()
    }
}

/// Compares two layer listings (tested `a`, released `b`).
pub fn diff(a: &Listing, b: &Listing) -> LayerDiff {
    let mut d = LayerDiff::default();
    for (path, x) in &a.entries {
        let Some(y) = b.entries.get(path) else {
            d.removed.push(Change { path: path.clone(), detail: None });
            continue;
        };
        if x.kind != y.kind {
            d.content.push(change(path, format!("type {} → {}", kind_name(x.kind), kind_name(y.kind))));
        } else if x.content != y.content || x.size != y.size {
            d.content.push(change(path, format!("{} → {} bytes, content differs", x.size, y.size)));
        } else if x.link != y.link {
            d.content.push(change(
                path,
                format!("link {} → {}", x.link.as_deref().unwrap_or("-"), y.link.as_deref().unwrap_or("-")),
            ));
        }
        if x.mtime != y.mtime {
            d.mtime.push(change(path, format!("mtime {} → {}", show_time(&x.mtime), show_time(&y.mtime))));
        }
        if x.mode != y.mode {
            d.mode.push(change(path, format!("mode {:04o} → {:04o}", x.mode, y.mode)));
        }
        if x.owner != y.owner {
            d.owner.push(change(path, format!("owner {} → {}", x.owner, y.owner)));
        }
    }
    for path in b.entries.keys().filter(|p| !a.entries.contains_key(*p)) {
        d.added.push(Change { path: path.clone(), detail: None });
    }
    d.order_only = d.is_empty() && a.order != b.order;
    d
}

fn change(path: &str, detail: String) -> Change {
    Change { path: path.to_string(), detail: Some(detail) }
}

fn kind_name(kind: u8) -> &'static str {
    match kind {
        b'0' | 0 | b'7' => "file",
        b'1' => "hard link",
        b'2' => "symlink",
        b'3' => "character device",
        b'4' => "block device",
        b'5' => "directory",
        b'6' => "fifo",
        _ => "other",
    }
}

/// Seconds since the epoch as a UTC time (the fraction, if any, kept as given).
fn show_time(mtime: &str) -> String {
    let (seconds, fraction) = mtime.split_once('.').unwrap_or((mtime, ""));
    match seconds.parse::<i64>().ok().and_then(|s| chrono::DateTime::from_timestamp(s, 0)) {
        Some(t) if fraction.is_empty() => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(t) => format!("{}.{fraction}Z", t.format("%Y-%m-%dT%H:%M:%S")),
        None => mtime.to_string(),
    }
}

/// Whether a path lies in a `.git` directory (or is one).
pub fn is_git_path(path: &str) -> bool {
    path.split('/').any(|c| c == ".git")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_gz(entries: &[(&str, &[u8], u64, u32)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
        for (path, data, mtime, mode) in entries {
            let mut header = tar::Header::new_ustar();
            header.set_size(data.len() as u64);
            header.set_mtime(*mtime);
            header.set_mode(*mode);
            header.set_entry_type(tar::EntryType::Regular);
            builder.append_data(&mut header, path, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    fn listing(entries: &[(&str, &[u8], u64, u32)]) -> Listing {
        read_listing(&tar_gz(entries)[..], Compression::Gzip).unwrap()
    }

    #[test]
    fn a_changed_mtime_is_the_only_difference_found() {
        let a = listing(&[("app/a", b"one", 1_700_000_000, 0o644), ("app/b", b"two", 1_700_000_000, 0o755)]);
        let b = listing(&[("app/a", b"one", 1_700_000_000, 0o644), ("app/b", b"two", 1_700_000_100, 0o755)]);
        let d = diff(&a, &b);
        assert!(d.only_mtimes(), "{d:?}");
        assert_eq!(d.mtime[0].path, "app/b");
        assert_eq!(d.mtime[0].detail.as_deref(), Some("mtime 2023-11-14T22:13:20Z → 2023-11-14T22:15:00Z"));
    }

    #[test]
    fn content_mode_added_removed_and_order_are_told_apart() {
        let a = listing(&[("./x", b"1", 0, 0o644), ("y", b"2", 0, 0o644), ("gone", b"", 0, 0o644)]);
        let b = listing(&[("x", b"1!", 0, 0o600), ("y", b"2", 0, 0o644), (".git/HEAD", b"ref", 0, 0o644)]);
        let d = diff(&a, &b);
        assert_eq!(d.content.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(), ["x"]);
        assert_eq!(d.mode[0].detail.as_deref(), Some("mode 0644 → 0600"));
        assert_eq!(d.removed[0].path, "gone");
        assert_eq!(d.added[0].path, ".git/HEAD");
        assert!(is_git_path(&d.added[0].path) && !is_git_path("app/.gitignore"));

        let c = listing(&[("y", b"2", 0, 0o644), ("x", b"1", 0, 0o644), ("gone", b"", 0, 0o644)]);
        let d = diff(&a, &c);
        assert!(d.is_empty() && d.order_only, "{d:?}");
    }

    #[test]
    fn a_broken_stream_is_an_error_not_a_short_listing() {
        let gz = tar_gz(&[("a", &[7u8; 100_000], 0, 0o644)]);
        assert!(read_listing(&gz[..gz.len() / 2], Compression::Gzip).is_err());
    }
}
