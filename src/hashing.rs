//! Hashing bytes as they stream past: the one way evidence is hashed while it is
//! copied, downloaded, extracted or read back. A [`Tally`] counts and hashes chunks
//! (for async bodies that arrive chunk by chunk); [`HashingReader`] does the same for
//! anything that reads; [`copy`] streams a reader into a writer through it.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

/// Size and sha256 of the bytes seen so far.
#[derive(Clone, Default)]
pub struct Tally {
    hasher: Sha256,
    size: u64,
}

impl Tally {
    pub fn new() -> Self {
        Tally::default()
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// (size, sha256 as lower-case hex).
    pub fn finish(self) -> (u64, String) {
        (self.size, hex::encode(self.hasher.finalize()))
    }

    /// (size, sha256 bytes).
    pub fn finish_bytes(self) -> (u64, [u8; 32]) {
        (self.size, self.hasher.finalize().into())
    }
}

/// A reader that tallies what passes through it.
pub struct HashingReader<R> {
    inner: R,
    pub tally: Tally,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader { inner, tally: Tally::new() }
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.tally.update(&buf[..n]);
        Ok(n)
    }
}

/// Streams `reader` into `writer`, hashing on the way: (size, sha256 hex).
pub fn copy(reader: impl Read, writer: &mut impl Write) -> io::Result<(u64, String)> {
    let mut hashing = HashingReader::new(reader);
    io::copy(&mut hashing, writer)?;
    Ok(hashing.tally.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copying_and_tallying_agree_with_a_one_shot_hash() {
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let expected = hex::encode(Sha256::digest(&data));
        let mut out = Vec::new();
        assert_eq!(copy(&data[..], &mut out).unwrap(), (data.len() as u64, expected.clone()));
        assert_eq!(out, data);
        let mut tally = Tally::new();
        for chunk in data.chunks(4097) {
            tally.update(chunk);
        }
        assert_eq!(tally.finish(), (data.len() as u64, expected));
    }
}
