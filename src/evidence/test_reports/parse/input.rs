//! Reading with a bound on the size of one token.
//!
//! Streaming parsers still buffer one token at a time (an XML tag or text node, a JSON
//! line, a JSON string). A hostile or broken file can make that one token as large as
//! the file, so every read goes through [`Bounded`], which stops with
//! [`TokenTooLong`] once a token passes [`MAX_TOKEN_BYTES`]. The parser resets the
//! allowance whenever a token ends.

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

/// The longest single token (XML tag or text node, JSON line, kept JSON string) read.
/// Real reports stay far below it; a larger one is a broken or hostile file.
pub const MAX_TOKEN_BYTES: u64 = 16 * 1024 * 1024;
/// Read buffer for report files: large enough for throughput, small next to the bound.
pub(crate) const READ_BUFFER: usize = 256 * 1024;

/// The error a [`Bounded`] reader returns once a token is too long.
#[derive(Debug)]
pub(crate) struct TokenTooLong;

impl std::fmt::Display for TokenTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a single token is longer than {} MiB", MAX_TOKEN_BYTES / (1024 * 1024))
    }
}

impl std::error::Error for TokenTooLong {}

/// How many more bytes the current token may take. Shared, so that a parser that owns
/// the reader only through a deserializer can still reset it between tokens.
#[derive(Debug, Clone)]
pub(crate) struct Allowance(Rc<Cell<u64>>);

impl Allowance {
    pub(crate) fn new() -> Self {
        Allowance(Rc::new(Cell::new(MAX_TOKEN_BYTES)))
    }

    /// A new token starts: it may take [`MAX_TOKEN_BYTES`].
    pub(crate) fn reset(&self) {
        self.0.set(MAX_TOKEN_BYTES);
    }

    /// What is read next is skipped without being kept, so it needs no bound.
    pub(crate) fn unlimited(&self) {
        self.0.set(u64::MAX);
    }

    /// True once a read was refused for lack of allowance.
    pub(crate) fn exhausted(&self) -> bool {
        self.0.get() == 0
    }

    fn take(&self, n: usize) {
        self.0.set(self.0.get().saturating_sub(n as u64));
    }
}

/// A buffered reader that refuses to deliver more than the [`Allowance`] permits.
pub(crate) struct Bounded<R> {
    inner: R,
    allowance: Allowance,
}

impl<R: BufRead> Bounded<R> {
    pub(crate) fn new(inner: R, allowance: Allowance) -> Self {
        Bounded { inner, allowance }
    }
}

impl<R: BufRead> Read for Bounded<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        read_buffered(self, out)
    }
}

/// `Read::read` for a reader whose buffering is its `BufRead` side.
fn read_buffered(reader: &mut impl BufRead, out: &mut [u8]) -> io::Result<usize> {
    let available = reader.fill_buf()?;
    let n = available.len().min(out.len());
    out[..n].copy_from_slice(&available[..n]);
    reader.consume(n);
    Ok(n)
}

impl<R: BufRead> BufRead for Bounded<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.allowance.exhausted() {
            return Err(io::Error::other(TokenTooLong));
        }
        let remaining = usize::try_from(self.allowance.0.get()).unwrap_or(usize::MAX);
        let buf = self.inner.fill_buf()?;
        Ok(&buf[..buf.len().min(remaining)])
    }

    fn consume(&mut self, amount: usize) {
        self.allowance.take(amount);
        self.inner.consume(amount);
    }
}

/// One line read by [`read_line`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// A complete line (without its `\n`) is in the buffer.
    Complete,
    /// The stream ended without a final `\n`; what there was is in the buffer.
    Unterminated,
    Eof,
    TooLong,
}

/// Reads one line into `buf` (cleared first), never keeping more than
/// [`MAX_TOKEN_BYTES`] of it.
pub(crate) fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<Line> {
    buf.clear();
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(if buf.is_empty() { Line::Eof } else { Line::Unterminated });
        }
        let (take, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (i, true),
            None => (available.len(), false),
        };
        if buf.len() + take > MAX_TOKEN_BYTES as usize {
            return Ok(Line::TooLong);
        }
        buf.extend_from_slice(&available[..take]);
        reader.consume(if done { take + 1 } else { take });
        if done {
            return Ok(Line::Complete);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_longer_than_the_bound_is_refused_and_a_reset_allows_the_next() {
        let allowance = Allowance::new();
        let source = io::repeat(b'a').take(MAX_TOKEN_BYTES + 10);
        let mut reader = Bounded::new(io::BufReader::new(source), allowance.clone());
        let mut sink = Vec::new();
        let err = io::copy(&mut reader, &mut sink).unwrap_err();
        assert!(err.to_string().contains("16 MiB"), "{err}");
        assert_eq!(sink.len() as u64, MAX_TOKEN_BYTES);
        allowance.reset();
        assert_eq!(io::copy(&mut reader, &mut sink).unwrap(), 10);
    }

    #[test]
    fn lines_are_split_and_bounded() {
        let mut reader = io::Cursor::new(b"one\ntwo".to_vec());
        let mut buf = Vec::new();
        assert_eq!(read_line(&mut reader, &mut buf).unwrap(), Line::Complete);
        assert_eq!(buf, b"one");
        assert_eq!(read_line(&mut reader, &mut buf).unwrap(), Line::Unterminated);
        assert_eq!(buf, b"two");
        assert_eq!(read_line(&mut reader, &mut buf).unwrap(), Line::Eof);
        let mut long = io::BufReader::new(io::repeat(b'x').take(MAX_TOKEN_BYTES + 1));
        assert_eq!(read_line(&mut long, &mut buf).unwrap(), Line::TooLong);
    }
}

/// Hands the bytes of `inner` on in chunks of exactly `size` (the last one shorter),
/// however `inner`'s own reads split them. A parser fed through it sees the same
/// chunk boundaries for the same bytes — from a file, a pipe or a network stream —
/// so its answer cannot depend on them (fuzzing found quick-xml's tokenising of
/// malformed markup does).
pub(crate) struct Rechunk<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    eof: bool,
}

impl<R: Read> Rechunk<R> {
    pub(crate) fn new(inner: R, size: usize) -> Self {
        Rechunk { inner, buf: vec![0; size.max(1)].into_boxed_slice(), pos: 0, len: 0, eof: false }
    }
}

impl<R: Read> Read for Rechunk<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        read_buffered(self, out)
    }
}

impl<R: Read> BufRead for Rechunk<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.len && !self.eof {
            self.pos = 0;
            self.len = 0;
            while self.len < self.buf.len() {
                match self.inner.read(&mut self.buf[self.len..]) {
                    Ok(0) => {
                        self.eof = true;
                        break;
                    }
                    Ok(n) => self.len += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(&self.buf[self.pos..self.len])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.len);
    }
}

#[cfg(test)]
mod rechunk_tests {
    use super::*;

    #[test]
    fn chunks_do_not_depend_on_the_inner_reads() {
        let data: Vec<u8> = (0..100u8).collect();
        let chunks = |capacity: usize| {
            let mut r = Rechunk::new(io::BufReader::with_capacity(capacity, &data[..]), 16);
            let mut seen = Vec::new();
            loop {
                let chunk = r.fill_buf().unwrap().to_vec();
                if chunk.is_empty() {
                    break;
                }
                let take = chunk.len().min(5);
                seen.push(chunk[..take].to_vec());
                r.consume(take);
            }
            seen
        };
        assert_eq!(chunks(3), chunks(1000));
        assert_eq!(chunks(7).concat(), data);
    }
}
