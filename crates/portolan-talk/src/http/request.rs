//! Building the request that `portolan http` sends, byte for byte.
//!
//! The request is deliberately minimal so that it can be read in full on the screen:
//! the request line, `Host`, any headers the user added and `Connection: close`,
//! then the blank line. No body is ever sent.

use super::url::HttpUrl;
use crate::error::UsageError;

/// The protocol version written in the request line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpVersion {
    /// `HTTP/1.1` (the default).
    #[default]
    Http11,
    /// `HTTP/1.0`, for old servers.
    Http10,
}

/// A request head ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The request target (path and query).
    pub target: String,
    /// The version in the request line.
    pub version: HttpVersion,
    /// Header fields in order, `Host` first and `Connection` last.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// A request for `url` with `method`, the user's `extra` headers and `version`.
    /// An extra header named like one of ours (`Host`, `Connection`) replaces it.
    pub fn new(
        method: &str,
        url: &HttpUrl,
        extra: &[(String, String)],
        version: HttpVersion,
    ) -> Self {
        let mut headers = vec![("Host".to_string(), url.host_header())];
        for (name, value) in extra {
            match headers
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                Some(slot) => slot.1.clone_from(value),
                None => headers.push((name.clone(), value.clone())),
            }
        }
        if !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("connection"))
        {
            headers.push(("Connection".to_string(), "close".to_string()));
        }
        Self {
            method: method.to_string(),
            target: url.path.clone(),
            version,
            headers,
        }
    }

    /// The lines of the request head, without line endings (the blank line is not
    /// included).
    pub fn lines(&self) -> Vec<String> {
        let version = match self.version {
            HttpVersion::Http11 => "HTTP/1.1",
            HttpVersion::Http10 => "HTTP/1.0",
        };
        let mut lines = vec![format!("{} {} {version}", self.method, self.target)];
        lines.extend(self.headers.iter().map(|(n, v)| format!("{n}: {v}")));
        lines
    }

    /// The bytes to send: every line ended by CRLF, then a blank line.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        for line in self.lines() {
            out.push_str(&line);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        out.into_bytes()
    }
}

fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Checks a method given with `-X`.
pub fn check_method(method: &str) -> Result<(), UsageError> {
    if is_token(method) {
        Ok(())
    } else {
        Err(UsageError::Method(method.to_string()))
    }
}

/// Parses a header given with `-H 'Name: value'`.
pub fn parse_header_arg(arg: &str) -> Result<(String, String), UsageError> {
    let bad = || UsageError::Header(arg.to_string());
    let (name, value) = arg.split_once(':').ok_or_else(bad)?;
    if !is_token(name) || value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(bad());
    }
    Ok((name.to_string(), value.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_exactly_the_lesson_request() {
        let url = HttpUrl::parse("http://198.18.0.1/").unwrap();
        let req = Request::new("GET", &url, &[], HttpVersion::Http11);
        assert_eq!(
            req.to_bytes(),
            b"GET / HTTP/1.1\r\nHost: 198.18.0.1\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn extra_headers_and_version() {
        let url = HttpUrl::parse("http://h:8080/x").unwrap();
        let extra = [
            parse_header_arg("Accept: */*").unwrap(),
            parse_header_arg("host: other").unwrap(),
        ];
        let req = Request::new("HEAD", &url, &extra, HttpVersion::Http10);
        assert_eq!(
            req.lines(),
            [
                "HEAD /x HTTP/1.0",
                "Host: other",
                "Accept: */*",
                "Connection: close"
            ]
        );
    }

    #[test]
    fn refuses_header_injection() {
        assert!(parse_header_arg("X: a\r\nEvil: 1").is_err());
        assert!(parse_header_arg("no colon").is_err());
        assert!(parse_header_arg("Bad Name: x").is_err());
        assert!(check_method("GET /").is_err());
        assert!(check_method("PURGE").is_ok());
    }
}
