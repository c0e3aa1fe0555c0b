//! The HTTP/1.x response head (status line and header fields) as a sans-IO parser.
//!
//! [`HeadParser`] is fed bytes as they arrive and reports the parsed [`ResponseHead`]
//! together with the bytes that followed it (the start of the body). Everything is
//! bounded: the head may not exceed [`MAX_HEAD_BYTES`] and may not carry more than
//! [`MAX_HEADERS`] fields, so a hostile server cannot make us buffer without end.
//! Lines may end in CRLF or, leniently, in a bare LF. Header values are kept as bytes
//! because servers do send non-UTF-8.

use thiserror::Error;

/// The largest response head accepted, in bytes.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The most header fields accepted in one head.
pub const MAX_HEADERS: usize = 128;

/// The most characters of a server's line quoted in an error (escaped, cut with `…`).
pub const QUOTED_CHARS: usize = 120;

/// Why a response head could not be parsed. Quoted lines are escaped with
/// `portolan_text`'s one rule.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum HeadError {
    /// The head grew past [`MAX_HEAD_BYTES`] without ending.
    #[error("the response head is longer than {MAX_HEAD_BYTES} bytes")]
    TooLong,
    /// More than [`MAX_HEADERS`] fields.
    #[error("the response has more than {MAX_HEADERS} header fields")]
    TooManyHeaders,
    /// The first line is not `HTTP/x.y NNN reason`.
    #[error("not an HTTP status line: \"{0}\"")]
    StatusLine(String),
    /// A header line without a colon, or with an invalid name.
    #[error("malformed header line: \"{0}\"")]
    HeaderLine(String),
}

/// A parsed status line and header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The version text, e.g. `HTTP/1.1`.
    pub version: String,
    /// The status code, 100 to 999.
    pub status: u16,
    /// The reason phrase, lossily decoded.
    pub reason: String,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The raw bytes of the head, including the blank line that ends it.
    pub raw: Vec<u8>,
}

impl ResponseHead {
    /// The first value of the header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// All values of the header `name` (case-insensitive), in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The first value of `name` as text, when it is UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }
}

/// Accumulates bytes until a whole response head has arrived.
#[derive(Debug, Default, Clone)]
pub struct HeadParser {
    buf: Vec<u8>,
}

impl HeadParser {
    /// A parser that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes. Returns the head and the bytes after it once the blank
    /// line has arrived, `None` while more is needed.
    pub fn push(&mut self, input: &[u8]) -> Result<Option<(ResponseHead, Vec<u8>)>, HeadError> {
        let searched_from = self.buf.len().saturating_sub(3);
        self.buf.extend_from_slice(input);
        let Some(end) = find_head_end(&self.buf, searched_from) else {
            if self.buf.len() > MAX_HEAD_BYTES {
                return Err(HeadError::TooLong);
            }
            return Ok(None);
        };
        if end > MAX_HEAD_BYTES {
            return Err(HeadError::TooLong);
        }
        let rest = self.buf.split_off(end);
        let raw = std::mem::take(&mut self.buf);
        Ok(Some((parse_head(raw)?, rest)))
    }
}

/// The index just past the blank line that ends the head (`\n\r\n` or `\n\n`).
fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    (from..buf.len()).find_map(|i| {
        if buf[i] != b'\n' {
            return None;
        }
        match &buf[i + 1..] {
            [b'\n', ..] => Some(i + 2),
            [b'\r', b'\n', ..] => Some(i + 3),
            _ => None,
        }
    })
}

fn parse_head(raw: Vec<u8>) -> Result<ResponseHead, HeadError> {
    let mut lines = raw
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let (version, status, reason) = parse_status_line(lines.next().unwrap_or_default())?;
    let mut headers = Vec::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        if headers.len() == MAX_HEADERS {
            return Err(HeadError::TooManyHeaders);
        }
        headers.push(parse_header_line(line)?);
    }
    Ok(ResponseHead {
        version,
        status,
        reason,
        headers,
        raw,
    })
}

fn parse_status_line(line: &[u8]) -> Result<(String, u16, String), HeadError> {
    let bad = || HeadError::StatusLine(portolan_text::escape_field(line, QUOTED_CHARS));
    let text = String::from_utf8_lossy(line);
    let mut parts = text.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    let reason = parts.next().unwrap_or_default();
    let version_ok = version
        .strip_prefix("HTTP/")
        .is_some_and(|v| v.len() == 3 && v.as_bytes()[1] == b'.');
    if !version_ok || code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let status = code.parse::<u16>().map_err(|_| bad())?;
    if status < 100 {
        return Err(bad());
    }
    Ok((version.to_string(), status, reason.trim().to_string()))
}

fn parse_header_line(line: &[u8]) -> Result<(String, Vec<u8>), HeadError> {
    let bad = || HeadError::HeaderLine(portolan_text::escape_field(line, QUOTED_CHARS));
    let colon = line.iter().position(|&b| b == b':').ok_or_else(bad)?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    let token = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
    if name.is_empty() || !name.iter().all(token) {
        return Err(bad());
    }
    let value = value.trim_ascii();
    Ok((String::from_utf8_lossy(name).into_owned(), value.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the lab's port 80 answers (captured with `ncat`).
    const LAB_302: &[u8] = b"HTTP/1.1 302 Moved Temporarily\r\nServer: nginx\r\n\
        Content-Type: text/html\r\nContent-Length: 5\r\nConnection: close\r\n\
        Location: http://lab.portolan.test/fi_FI/\r\n\r\nhello";

    /// A chunked answer from a Python http.server-style backend.
    const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\r\n5\r\nhello\r\n0\r\n\r\n";

    #[test]
    fn parses_captured_302() {
        let (head, rest) = HeadParser::new().push(LAB_302).unwrap().unwrap();
        assert_eq!((head.version.as_str(), head.status), ("HTTP/1.1", 302));
        assert_eq!(head.reason, "Moved Temporarily");
        assert_eq!(
            head.header_str("location"),
            Some("http://lab.portolan.test/fi_FI/")
        );
        assert_eq!(head.headers.len(), 5);
        assert_eq!(rest, b"hello");
        assert_eq!(head.raw.len() + rest.len(), LAB_302.len());
    }

    #[test]
    fn parses_chunked_head_byte_by_byte() {
        let mut p = HeadParser::new();
        let mut done = None;
        for (i, &b) in CHUNKED.iter().enumerate() {
            if let Some(r) = p.push(&[b]).unwrap() {
                done = Some((r, i + 1));
                break;
            }
        }
        let ((head, rest), used) = done.unwrap();
        assert_eq!(head.header("transfer-encoding"), Some(&b"chunked"[..]));
        assert!(rest.is_empty());
        assert!(CHUNKED[used..].starts_with(b"5\r\nhello"));
    }

    #[test]
    fn accepts_bare_lf_and_empty_reason() {
        let (head, _) = HeadParser::new()
            .push(b"HTTP/1.0 200\nA: b\n\n")
            .unwrap()
            .unwrap();
        assert_eq!((head.status, head.reason.as_str()), (200, ""));
        assert_eq!(head.header_str("a"), Some("b"));
    }

    #[test]
    fn refuses_non_http_and_bad_headers() {
        let err = HeadParser::new()
            .push(b"SSH-2.0-OpenSSH\r\n\r\n")
            .unwrap_err();
        assert!(matches!(err, HeadError::StatusLine(_)));
        let err = HeadParser::new()
            .push(b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n")
            .unwrap_err();
        assert!(matches!(err, HeadError::HeaderLine(_)));
    }

    #[test]
    fn quoted_lines_are_escaped_and_bounded() {
        let mut evil = b"EVIL\x1b]0;T\x07\xe2\x80\xae".to_vec();
        evil.extend_from_slice(&[b'a'; 500]);
        evil.extend_from_slice(b"\r\n\r\n");
        let err = HeadParser::new().push(&evil).unwrap_err().to_string();
        assert!(
            err.starts_with("not an HTTP status line: \"EVIL\\x1b]0;T\\x07\\u{202e}aaa"),
            "{err}"
        );
        assert!(err.ends_with("a…\""), "{err}");
        assert!(!err.contains(portolan_text::is_unsafe_in_line), "{err}");
    }

    #[test]
    fn bounds_length_and_count() {
        let mut p = HeadParser::new();
        let mut result = Ok(None);
        for _ in 0..100 {
            result = p.push(&[b'a'; 1024]);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result.unwrap_err(), HeadError::TooLong);
        let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(
            HeadParser::new().push(&many).unwrap_err(),
            HeadError::TooManyHeaders
        );
    }

    proptest! {
        #[test]
        fn never_panics_and_stays_bounded(chunks in proptest::collection::vec(
            proptest::collection::vec(any::<u8>(), 0..2048), 0..40)) {
            let mut p = HeadParser::new();
            for chunk in chunks {
                match p.push(&chunk) {
                    Ok(None) => prop_assert!(p.buf.len() <= MAX_HEAD_BYTES),
                    Ok(Some((head, _))) => prop_assert!(head.raw.len() <= MAX_HEAD_BYTES),
                    Err(_) => break,
                }
            }
        }

        #[test]
        fn round_trips_generated_heads(status in 100u16..1000,
                                       reason in "[A-Za-z ]{0,20}",
                                       headers in proptest::collection::vec(
                                           ("[A-Za-z][A-Za-z0-9-]{0,15}", "[ -~]{0,40}"), 0..20),
                                       split in 0usize..400) {
            let mut text = format!("HTTP/1.1 {status} {reason}\r\n");
            for (n, v) in &headers {
                text.push_str(n);
                text.push_str(": ");
                text.push_str(v);
                text.push_str("\r\n");
            }
            text.push_str("\r\nBODY");
            let bytes = text.as_bytes();
            let split = split.min(bytes.len());
            let mut p = HeadParser::new();
            let first = p.push(&bytes[..split]).unwrap();
            let (head, rest) = match first {
                Some(r) => { let mut r = r; r.1.extend_from_slice(&bytes[split..]); r }
                None => p.push(&bytes[split..]).unwrap().unwrap(),
            };
            prop_assert_eq!(head.status, status);
            prop_assert_eq!(head.reason, reason.trim());
            prop_assert_eq!(head.headers.len(), headers.len());
            for ((n, v), (pn, pv)) in headers.iter().zip(&head.headers) {
                prop_assert_eq!(n, pn);
                prop_assert_eq!(v.trim().as_bytes(), pv.as_slice());
            }
            prop_assert_eq!(rest, b"BODY");
        }
    }
}
