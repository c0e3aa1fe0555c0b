//! Where an HTTP/1.x response body ends (RFC 9112 section 6), as a sans-IO decoder.
//!
//! [`Framing::of`] decides from the request method and the response head whether the
//! body is absent, `Content-Length` long, chunked or runs until the server closes.
//! [`BodyDecoder`] is then fed the bytes after the head and yields the body bytes
//! (de-chunked) and whether the body is complete. Chunk sizes, chunk extensions and
//! trailers are bounded so that a hostile server cannot make it buffer.

use thiserror::Error;

use super::head::{ResponseHead, QUOTED_CHARS};

/// Longest accepted chunk-size line or trailer line.
const MAX_LINE: usize = 4096;

/// Why a body could not be framed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum BodyError {
    /// `Content-Length` is not a number, or several disagree.
    #[error("invalid Content-Length: \"{0}\"")]
    ContentLength(String),
    /// A chunk-size line is not hexadecimal or too long.
    #[error("invalid chunk size line")]
    ChunkSize,
    /// CRLF missing after chunk data.
    #[error("chunk data not followed by CRLF")]
    ChunkEnd,
    /// A trailer or chunk line longer than the limit.
    #[error("chunk or trailer line longer than {MAX_LINE} bytes")]
    LineTooLong,
}

/// How the end of a response body is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body (HEAD, 1xx, 204, 304).
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the server closes the connection.
    UntilClose,
}

impl Framing {
    /// The framing of the response `head` to a request with `method`.
    pub fn of(method: &str, head: &ResponseHead) -> Result<Self, BodyError> {
        if method.eq_ignore_ascii_case("HEAD")
            || (100..200).contains(&head.status)
            || head.status == 204
            || head.status == 304
        {
            return Ok(Framing::Empty);
        }
        let chunked = head.headers_named("transfer-encoding").any(|v| {
            let text = String::from_utf8_lossy(v);
            text.rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
        });
        if chunked {
            return Ok(Framing::Chunked);
        }
        if head.header("transfer-encoding").is_some() {
            return Ok(Framing::UntilClose);
        }
        let mut length = None;
        for value in head.headers_named("content-length") {
            let text = String::from_utf8_lossy(value);
            let bad = || BodyError::ContentLength(portolan_text::escape_field(value, QUOTED_CHARS));
            for part in text.split(',') {
                let n = part.trim().parse::<u64>().map_err(|_| bad())?;
                if length.is_some_and(|l| l != n) {
                    return Err(bad());
                }
                length = Some(n);
            }
        }
        Ok(length.map_or(Framing::UntilClose, Framing::Length))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Chunk {
    /// Reading the chunk-size line (bytes so far).
    Size(Vec<u8>),
    /// Inside chunk data, this many bytes left.
    Data(u64),
    /// After chunk data: expecting CR (or LF).
    DataCr,
    /// After chunk data and CR: expecting LF.
    DataLf,
    /// Reading trailer lines after the last chunk (current line so far).
    Trailer(Vec<u8>),
}

/// Feeds body bytes and yields the payload; see the module documentation.
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    framing: Framing,
    remaining: u64,
    chunk: Chunk,
    done: bool,
}

impl BodyDecoder {
    /// A decoder for a body with this framing.
    pub fn new(framing: Framing) -> Self {
        let remaining = match framing {
            Framing::Length(n) => n,
            _ => 0,
        };
        Self {
            framing,
            remaining,
            chunk: Chunk::Size(Vec::new()),
            done: matches!(framing, Framing::Empty | Framing::Length(0)),
        }
    }

    /// Whether the whole body has been seen. Never true for [`Framing::UntilClose`].
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Consumes `input`, appending body bytes to `out`. Bytes after the end of the
    /// body are ignored.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), BodyError> {
        match self.framing {
            Framing::Empty => {}
            Framing::UntilClose => out.extend_from_slice(input),
            Framing::Length(_) => {
                let take = input
                    .len()
                    .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
                out.extend_from_slice(&input[..take]);
                self.remaining -= take as u64;
                self.done = self.remaining == 0;
            }
            Framing::Chunked => {
                let mut rest = input;
                while !rest.is_empty() && !self.done {
                    rest = self.chunked_step(rest, out)?;
                }
            }
        }
        Ok(())
    }

    fn chunked_step<'a>(
        &mut self,
        input: &'a [u8],
        out: &mut Vec<u8>,
    ) -> Result<&'a [u8], BodyError> {
        let (b, rest) = (input[0], &input[1..]);
        match &mut self.chunk {
            Chunk::Data(left) => {
                let take = input
                    .len()
                    .min(usize::try_from(*left).unwrap_or(usize::MAX));
                out.extend_from_slice(&input[..take]);
                *left -= take as u64;
                if *left == 0 {
                    self.chunk = Chunk::DataCr;
                }
                return Ok(&input[take..]);
            }
            Chunk::Size(line) => {
                if b != b'\n' {
                    push_bounded(line, b)?;
                    return Ok(rest);
                }
                let size = parse_chunk_size(line)?;
                self.chunk = if size == 0 {
                    Chunk::Trailer(Vec::new())
                } else {
                    Chunk::Data(size)
                };
            }
            Chunk::DataCr if b == b'\r' => self.chunk = Chunk::DataLf,
            Chunk::DataCr | Chunk::DataLf if b == b'\n' => self.chunk = Chunk::Size(Vec::new()),
            Chunk::DataCr | Chunk::DataLf => return Err(BodyError::ChunkEnd),
            Chunk::Trailer(line) => {
                if b != b'\n' {
                    push_bounded(line, b)?;
                } else if line.is_empty() || line.as_slice() == b"\r" {
                    self.done = true;
                } else {
                    line.clear();
                }
            }
        }
        Ok(rest)
    }
}

fn push_bounded(line: &mut Vec<u8>, b: u8) -> Result<(), BodyError> {
    if line.len() >= MAX_LINE {
        return Err(BodyError::LineTooLong);
    }
    line.push(b);
    Ok(())
}

fn parse_chunk_size(line: &[u8]) -> Result<u64, BodyError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let digits = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    if digits.is_empty() || digits.len() > 15 {
        return Err(BodyError::ChunkSize);
    }
    let text = std::str::from_utf8(digits).map_err(|_| BodyError::ChunkSize)?;
    u64::from_str_radix(text, 16).map_err(|_| BodyError::ChunkSize)
}

#[cfg(test)]
mod tests {
    use super::super::head::HeadParser;
    use super::*;
    use proptest::prelude::*;

    fn head(text: &str) -> ResponseHead {
        HeadParser::new().push(text.as_bytes()).unwrap().unwrap().0
    }

    #[test]
    fn decides_framing() {
        let h = head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
        assert_eq!(Framing::of("GET", &h), Ok(Framing::Length(5)));
        assert_eq!(Framing::of("HEAD", &h), Ok(Framing::Empty));
        let h = head(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 5\r\n\r\n",
        );
        assert_eq!(Framing::of("GET", &h), Ok(Framing::Chunked));
        let h = head("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n");
        assert_eq!(Framing::of("GET", &h), Ok(Framing::Empty));
        let h = head("HTTP/1.0 200 OK\r\n\r\n");
        assert_eq!(Framing::of("GET", &h), Ok(Framing::UntilClose));
        let h = head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
        assert!(Framing::of("GET", &h).is_err());
    }

    #[test]
    fn content_length_stops_at_the_end() {
        let mut d = BodyDecoder::new(Framing::Length(5));
        let mut out = Vec::new();
        d.push(b"hel", &mut out).unwrap();
        assert!(!d.is_done());
        d.push(b"lo and more", &mut out).unwrap();
        assert!(d.is_done());
        assert_eq!(out, b"hello");
    }

    #[test]
    fn dechunks_with_extensions_and_trailers() {
        let body = b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: y\r\n\r\nIGNORED";
        let mut d = BodyDecoder::new(Framing::Chunked);
        let mut out = Vec::new();
        d.push(body, &mut out).unwrap();
        assert!(d.is_done());
        assert_eq!(out, b"hello, world");
    }

    #[test]
    fn refuses_bad_chunks() {
        let mut out = Vec::new();
        assert_eq!(
            BodyDecoder::new(Framing::Chunked).push(b"zz\r\n", &mut out),
            Err(BodyError::ChunkSize)
        );
        assert_eq!(
            BodyDecoder::new(Framing::Chunked).push(b"1\r\nab", &mut out),
            Err(BodyError::ChunkEnd)
        );
        let long = vec![b'1'; MAX_LINE + 1];
        assert_eq!(
            BodyDecoder::new(Framing::Chunked).push(&long, &mut out),
            Err(BodyError::LineTooLong)
        );
    }

    proptest! {
        #[test]
        fn chunked_round_trip(chunks in proptest::collection::vec(
                                  proptest::collection::vec(any::<u8>(), 1..300), 0..8),
                              step in 1usize..64) {
            let mut wire = Vec::new();
            for c in &chunks {
                wire.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
                wire.extend_from_slice(c);
                wire.extend_from_slice(b"\r\n");
            }
            wire.extend_from_slice(b"0\r\n\r\n");
            let mut d = BodyDecoder::new(Framing::Chunked);
            let mut out = Vec::new();
            for piece in wire.chunks(step) {
                d.push(piece, &mut out).unwrap();
            }
            prop_assert!(d.is_done());
            prop_assert_eq!(out, chunks.concat());
        }
    }
}
