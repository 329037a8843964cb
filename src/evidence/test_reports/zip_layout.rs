//! One reading of a zip: every byte of the archive belongs to exactly one place, and every
//! place says the same thing about an entry.
//!
//! A zip says what it holds twice: each entry's local header (which a streaming reader —
//! Java's `ZipInputStream`, `bsdtar`, a browser's unzipper — follows from the start) and
//! the central directory at the end (which `unzip` and this tool follow). An archive
//! whose two listings disagree, or which has bytes that only one of them reaches, says
//! one thing to the audit and another to an auditor's tool: a passing `junit.xml` here,
//! the failing one there. So the archive must be exactly
//!
//! `local entry, local entry, …, central directory, [zip64 end records], end record`
//!
//! with nothing before the first entry (no prepended stub), nothing between entries or
//! after the end record's comment, each local header naming the entry the central
//! directory names with the same compression, flags that change its reading, CRC and
//! sizes (in the header, its zip64 field or the data descriptor after the data), and the
//! end records agreeing with the central directory's place, size and entry count.
//! Anything else is refused with a one-line reason naming the entry.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

const LOCAL: [u8; 4] = *b"PK\x03\x04";
const CENTRAL: [u8; 4] = *b"PK\x01\x02";
const DESCRIPTOR: [u8; 4] = *b"PK\x07\x08";
const EOCD: [u8; 4] = *b"PK\x05\x06";
const LOCATOR: [u8; 4] = *b"PK\x06\x07";
const EOCD64: [u8; 4] = *b"PK\x06\x06";
/// General-purpose flags that change how an entry is read: encrypted (0), data
/// descriptor (3), strong encryption (6), UTF-8 name (11), masked local header (13).
const READING_FLAGS: u16 = 1 | 1 << 3 | 1 << 6 | 1 << 11 | 1 << 13;

/// Why an archive has more than one reading: the entry it is about (if one) and the reason.
#[derive(Debug, PartialEq, Eq)]
pub struct Ambiguity {
    pub entry: Option<String>,
    pub reason: String,
}

fn archive(reason: impl Into<String>) -> Ambiguity {
    Ambiguity { entry: None, reason: reason.into() }
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// `len` bytes at `at`; `None` past the end of the archive.
fn read_at(file: &mut File, size: u64, at: u64, len: usize) -> Option<Vec<u8>> {
    if at.checked_add(len as u64)? > size {
        return None;
    }
    let mut buf = vec![0u8; len];
    file.seek(SeekFrom::Start(at)).ok()?;
    file.read_exact(&mut buf).ok()?;
    Some(buf)
}

/// Where the central directory is and how large, and how many entries the end records
/// declare, read from the end of the archive: the end record must end the archive
/// exactly (its comment included), and the zip64 records, when there, sit right before it.
struct End {
    cd_start: u64,
    cd_end: u64,
    entries: u64,
}

fn end_records(file: &mut File, size: u64) -> Result<End, Ambiguity> {
    let tail_len = size.min(22 + 65_535);
    let tail = read_at(file, size, size - tail_len, tail_len as usize).ok_or_else(|| archive("cannot be read"))?;
    let at = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..i + 4] == EOCD)
        .ok_or_else(|| archive("has no end of central directory record"))?;
    let eocd = &tail[at..];
    let eocd_pos = size - tail_len + at as u64;
    if eocd.len() != 22 + usize::from(le16(eocd, 20)) {
        return Err(archive(format!(
            "has {} bytes after its end record and comment (data appended to the archive)",
            eocd.len() as i64 - 22 - i64::from(le16(eocd, 20))
        )));
    }
    let (entries, cd_size, cd_start) =
        (u64::from(le16(eocd, 10)), u64::from(le32(eocd, 12)), u64::from(le32(eocd, 16)));
    if le16(eocd, 4) != 0 || le16(eocd, 6) != 0 || le16(eocd, 8) != le16(eocd, 10) {
        return Err(archive("is a multi-disk archive"));
    }
    let locator = eocd_pos.checked_sub(20).and_then(|p| read_at(file, size, p, 20)).filter(|l| l[..4] == LOCATOR);
    let Some(locator) = locator else {
        let cd_end = cd_start + cd_size;
        return if cd_end == eocd_pos {
            Ok(End { cd_start, cd_end, entries })
        } else {
            Err(archive(gap(cd_end, eocd_pos)))
        };
    };
    let record_pos = le64(&locator, 8);
    let record = read_at(file, size, record_pos, 56)
        .filter(|r| r[..4] == EOCD64)
        .ok_or_else(|| archive("has a zip64 locator that points at no zip64 end record"))?;
    let (entries64, cd_size64, cd_start64) = (le64(&record, 32), le64(&record, 40), le64(&record, 48));
    let saturated = |classic: u64, full: u64, max: u64| classic == max || classic == full;
    if !saturated(entries, entries64, 0xFFFF)
        || !saturated(cd_size, cd_size64, 0xFFFF_FFFF)
        || !saturated(cd_start, cd_start64, 0xFFFF_FFFF)
    {
        return Err(archive("has end records that disagree with its zip64 end record"));
    }
    if le64(&record, 24) != entries64 || le32(&locator, 4) != 0 || le32(&locator, 16) > 1 {
        return Err(archive("is a multi-disk archive"));
    }
    let record_end = record_pos.checked_add(12).and_then(|p| p.checked_add(le64(&record, 4)));
    if record_end != Some(eocd_pos - 20) {
        return Err(archive("has bytes between its zip64 end record and its end record"));
    }
    let cd_end = cd_start64.checked_add(cd_size64).ok_or_else(|| archive("has a central directory past its end"))?;
    if cd_end != record_pos {
        return Err(archive(gap(cd_end, record_pos)));
    }
    Ok(End { cd_start: cd_start64, cd_end, entries: entries64 })
}

fn gap(cd_end: u64, next: u64) -> String {
    format!("has a central directory that ends at byte {cd_end}, but its end records start at byte {next}")
}

/// One entry as the central directory gives it (sizes and offset resolved by the zip reader).
struct Listed {
    name: Vec<u8>,
    central_at: u64,
    local_at: u64,
    compressed: u64,
    size: u64,
    crc: u32,
}

/// Checks that `zip` (of `size` bytes; `reader` is its zip reader) has one reading.
pub fn check(zip: &std::path::Path, size: u64, reader: &mut zip::ZipArchive<File>) -> Result<(), Ambiguity> {
    let mut file = File::open(zip).map_err(|e| archive(format!("cannot be read: {e}")))?;
    if reader.offset() != 0 {
        return Err(archive(format!("has {} bytes before its first entry (a prepended stub)", reader.offset())));
    }
    let end = end_records(&mut file, size)?;
    if end.cd_start != reader.central_directory_start() || end.entries != reader.len() as u64 {
        return Err(archive("has end records that are not the ones its central directory was read from"));
    }
    let mut listed = Vec::with_capacity(reader.len());
    for index in 0..reader.len() {
        let entry = reader.by_index_raw(index).map_err(|e| archive(format!("entry #{index} cannot be read: {e}")))?;
        listed.push(Listed {
            name: entry.name_raw().to_vec(),
            central_at: entry.central_header_start(),
            local_at: entry.header_start(),
            compressed: entry.compressed_size(),
            size: entry.size(),
            crc: entry.crc32(),
        });
    }
    listed.sort_by_key(|l| l.central_at);
    let mut at = end.cd_start;
    let mut central = Vec::with_capacity(listed.len());
    for l in &listed {
        let fixed = read_at(&mut file, size, l.central_at, 46).filter(|h| h[..4] == CENTRAL);
        let Some(fixed) = fixed.filter(|_| l.central_at == at) else {
            return Err(entry(l, "is not where the central directory's previous entry ends"));
        };
        at =
            l.central_at + 46 + u64::from(le16(&fixed, 28)) + u64::from(le16(&fixed, 30)) + u64::from(le16(&fixed, 32));
        central.push(fixed);
    }
    if at != end.cd_end {
        return Err(archive(format!(
            "has {} bytes in its central directory that no entry takes",
            end.cd_end as i64 - at as i64
        )));
    }
    let mut order: Vec<usize> = (0..listed.len()).collect();
    order.sort_by_key(|&i| listed[i].local_at);
    let mut at = 0;
    for i in order {
        if listed[i].local_at != at {
            return Err(entry(
                &listed[i],
                format!(
                    "starts at byte {}, but the bytes before it end at {at} (data only a streaming reader sees, or entries that overlap)",
                    listed[i].local_at
                ),
            ));
        }
        at = local_entry(&mut file, size, &listed[i], &central[i])?;
    }
    if at != end.cd_start {
        return Err(archive(format!(
            "has {} bytes between its last entry and its central directory (data only a streaming reader sees)",
            end.cd_start as i64 - at as i64
        )));
    }
    Ok(())
}

fn entry(l: &Listed, reason: impl Into<String>) -> Ambiguity {
    Ambiguity { entry: Some(String::from_utf8_lossy(&l.name).into_owned()), reason: reason.into() }
}

/// The local header (and data descriptor) of `l` against its central header `c`; where
/// the entry ends.
fn local_entry(file: &mut File, size: u64, l: &Listed, c: &[u8]) -> Result<u64, Ambiguity> {
    let h = read_at(file, size, l.local_at, 30)
        .filter(|h| h[..4] == LOCAL)
        .ok_or_else(|| entry(l, "has no local header where the central directory says"))?;
    let (name_len, extra_len) = (usize::from(le16(&h, 26)), usize::from(le16(&h, 28)));
    let variable = read_at(file, size, l.local_at + 30, name_len + extra_len)
        .ok_or_else(|| entry(l, "has a local header past the end of the archive"))?;
    if variable[..name_len] != l.name[..] {
        return Err(entry(
            l,
            format!(
                "is named `{}` in its local header (a streaming reader extracts that name)",
                String::from_utf8_lossy(&variable[..name_len]).escape_debug()
            ),
        ));
    }
    if le16(&h, 8) != le16(c, 10) {
        return Err(entry(l, "has another compression method in its local header than in the central directory"));
    }
    let flags = le16(&h, 6);
    if flags & READING_FLAGS != le16(c, 8) & READING_FLAGS {
        return Err(entry(l, "has other flags in its local header than in the central directory"));
    }
    let data_end = (l.local_at + 30 + (name_len + extra_len) as u64)
        .checked_add(l.compressed)
        .ok_or_else(|| entry(l, "has data past the end of the archive"))?;
    if flags & 1 << 3 == 0 {
        let zip64 = zip64_sizes(&variable[name_len..]);
        let sizes = match (le32(&h, 18), le32(&h, 22), zip64) {
            (0xFFFF_FFFF, 0xFFFF_FFFF, Some((size, compressed))) => (compressed, size),
            (compressed, size, _) => (u64::from(compressed), u64::from(size)),
        };
        if le32(&h, 14) != l.crc || sizes != (l.compressed, l.size) {
            return Err(entry(l, "has another CRC or size in its local header than in the central directory"));
        }
        return Ok(data_end);
    }
    // The header's CRC and sizes are left for the descriptor: nothing, or what it says.
    for (local, central) in [(le32(&h, 14), l.crc), (le32(&h, 18), l.compressed as u32), (le32(&h, 22), l.size as u32)]
    {
        if ![0, 0xFFFF_FFFF, central].contains(&local) {
            return Err(entry(l, "has another CRC or size in its local header than in the central directory"));
        }
    }
    // A data descriptor after the data: optional signature, CRC, then 4- or 8-byte sizes.
    let d = read_at(file, size, data_end, 24.min((size.saturating_sub(data_end)) as usize)).unwrap_or_default();
    let skip = if d.len() >= 4 && d[..4] == DESCRIPTOR { 4 } else { 0 };
    for wide in [false, true] {
        let len = skip + if wide { 20 } else { 12 };
        if d.len() < len {
            continue;
        }
        let sizes = if wide {
            (le64(&d, skip + 4), le64(&d, skip + 12))
        } else {
            (u64::from(le32(&d, skip + 4)), u64::from(le32(&d, skip + 8)))
        };
        if le32(&d, skip) == l.crc && sizes == (l.compressed, l.size) {
            return Ok(data_end + len as u64);
        }
    }
    Err(entry(l, "has a data descriptor that does not say the central directory's CRC and sizes"))
}

/// The zip64 extra field of a local header: (size, compressed size).
fn zip64_sizes(mut extra: &[u8]) -> Option<(u64, u64)> {
    while extra.len() >= 4 {
        let (id, len) = (le16(extra, 0), usize::from(le16(extra, 2)));
        let body = extra.get(4..4 + len)?;
        if id == 1 && len >= 16 {
            return Some((le64(body, 0), le64(body, 8)));
        }
        extra = &extra[4 + len..];
    }
    None
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::write::SimpleFileOptions;

    /// `check` on a zip of `bytes`.
    fn checked(bytes: &[u8]) -> Result<(), super::Ambiguity> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.zip");
        std::fs::write(&path, bytes).unwrap();
        let mut reader = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        super::check(&path, bytes.len() as u64, &mut reader)
    }

    const ENTRIES: [(&str, &[u8]); 3] = [("a/junit.xml", b"<testsuite/>"), ("a/", b""), ("b.json", &[b'x'; 5000])];

    fn add<W: Write + std::io::Seek>(zip: &mut zip::ZipWriter<W>, options: SimpleFileOptions) {
        for (name, data) in ENTRIES {
            if name.ends_with('/') {
                zip.add_directory(name, options).unwrap();
            } else {
                zip.start_file(name, options).unwrap();
                zip.write_all(data).unwrap();
            }
        }
    }

    fn write(stream: bool, options: SimpleFileOptions) -> Vec<u8> {
        if stream {
            // Data descriptors after each entry, as upload-artifact's archiver writes.
            let mut zip = zip::ZipWriter::new_stream(Vec::new());
            add(&mut zip, options);
            zip.finish().unwrap().into_inner()
        } else {
            let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            add(&mut zip, options);
            zip.finish().unwrap().into_inner()
        }
    }

    #[test]
    fn zips_as_writers_write_them_read_one_way() {
        let deflated = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for stream in [false, true] {
            for options in [
                deflated,
                deflated.large_file(true),
                SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
            ] {
                assert_eq!(checked(&write(stream, options)), Ok(()), "stream {stream}");
            }
        }
    }

    #[test]
    fn a_descriptor_that_says_another_crc_is_refused() {
        let mut bytes = write(true, SimpleFileOptions::default());
        let at = bytes.windows(4).position(|w| w == super::DESCRIPTOR).expect("a data descriptor");
        bytes[at + 4] ^= 0xFF;
        let refused = checked(&bytes).unwrap_err();
        assert_eq!(refused.entry.as_deref(), Some("a/junit.xml"));
        assert!(refused.reason.contains("data descriptor"), "{}", refused.reason);
    }
}
