//! `http://` and `https://` URLs: just enough to know where to connect, what to put
//! in the request line and `Host`, and where a `Location` header points.

use std::fmt;

use thiserror::Error;

use crate::error::UsageError;

/// The scheme of an [`HttpUrl`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP, default port 80.
    Http,
    /// HTTP over TLS, default port 443.
    Https,
}

impl Scheme {
    /// The port used when the URL names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A parsed `http://HOST[:PORT]/PATH` or `https://` URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HttpUrl {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// The host name or address, without IPv6 brackets.
    pub host: String,
    /// The port, the scheme's default when the URL names none.
    pub port: u16,
    /// The request target: path and query, always starting with `/`.
    pub path: String,
}

impl HttpUrl {
    /// Parses an absolute `http` or `https` URL. A fragment is dropped; user
    /// information (`user@host`) is refused.
    pub fn parse(text: &str) -> Result<Self, UsageError> {
        let bad = |why: &str| UsageError::Url {
            url: text.to_string(),
            reason: why.to_string(),
        };
        let (scheme, rest) = if let Some(rest) = strip_prefix_ci(text, "http://") {
            (Scheme::Http, rest)
        } else if let Some(rest) = strip_prefix_ci(text, "https://") {
            (Scheme::Https, rest)
        } else {
            return Err(bad("only http:// and https:// URLs are supported"));
        };
        if text.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(bad("contains spaces or control characters"));
        }
        let rest = rest.split('#').next().unwrap_or_default();
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        if authority.contains('@') {
            return Err(bad("user information in URLs is not supported"));
        }
        let (host, port) = split_authority(authority, scheme).map_err(bad)?;
        let path = match path {
            "" => "/".to_string(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_string(),
        };
        Ok(Self {
            scheme,
            host,
            port,
            path,
        })
    }

    /// The value of the `Host` header: the host, bracketed when it is an IPv6
    /// address, with the port when it is not the scheme's default.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == self.scheme.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// Resolves a `Location` header value against this URL: absolute `http` and
    /// `https` URLs, scheme-relative (`//host/path`), absolute paths and relative
    /// paths. Any other scheme (`file:`, `gopher:`, `javascript:`) is refused, never
    /// taken for a relative path; so is a value that is not UTF-8. The value comes
    /// from the server, so the error is a [`LocationError`], not a usage error.
    pub fn join(&self, location: &[u8]) -> Result<Self, LocationError> {
        let location = std::str::from_utf8(location)
            .map_err(|_| LocationError::NotUtf8)?
            .trim();
        let invalid = |e: UsageError| match e {
            UsageError::Url { reason, .. } => LocationError::Invalid(reason),
            other => LocationError::Invalid(other.to_string()),
        };
        if let Some(scheme) = scheme_of(location) {
            if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") {
                return Self::parse(location).map_err(invalid);
            }
            return Err(LocationError::Scheme(scheme.to_string()));
        }
        if let Some(rest) = location.strip_prefix("//") {
            return Self::parse(&format!("{}://{rest}", self.scheme.as_str())).map_err(invalid);
        }
        let path = if location.starts_with('/') {
            location.to_string()
        } else {
            let base = self.path.split('?').next().unwrap_or("/");
            let dir = &base[..=base.rfind('/').unwrap_or(0)];
            format!("{dir}{location}")
        };
        Self::parse(&format!(
            "{}://{}{path}",
            self.scheme.as_str(),
            self.host_header()
        ))
        .map_err(invalid)
    }
}

/// Why a `Location` header cannot be followed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LocationError {
    /// A scheme other than `http` and `https` (RFC 3986 section 3.1).
    #[error("the scheme {0:?} is not followed: only http:// and https:// are")]
    Scheme(String),
    /// The value is not UTF-8.
    #[error("the Location is not valid UTF-8")]
    NotUtf8,
    /// The resolved URL is not usable.
    #[error("{0}")]
    Invalid(String),
}

/// The scheme of `reference` (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"`), when
/// it has one: a colon before any `/`, `?` or `#`.
fn scheme_of(reference: &str) -> Option<&str> {
    let end = reference.find([':', '/', '?', '#'])?;
    let scheme = &reference[..end];
    let mut chars = scheme.chars();
    let valid = reference[end..].starts_with(':')
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme.as_str(),
            self.host_header(),
            self.path
        )
    }
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn split_authority(authority: &str, scheme: Scheme) -> Result<(String, u16), &'static str> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']').ok_or("unclosed [ in the host")?;
        let after = &rest[end + 1..];
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("junk after ]")?),
        };
        (&rest[..end], port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("no host");
    }
    let port = match port {
        None | Some("") => scheme.default_port(),
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or("the port is not a number from 1 to 65535")?,
    };
    Ok((host.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_port_path() {
        let u = HttpUrl::parse("http://198.18.0.1:8080/a/b?x=1#frag").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("198.18.0.1", 8080, "/a/b?x=1")
        );
        assert_eq!(u.host_header(), "198.18.0.1:8080");
        let u = HttpUrl::parse("HTTPS://Lab.Portolan.test").unwrap();
        assert_eq!(
            (u.scheme, u.port, u.path.as_str()),
            (Scheme::Https, 443, "/")
        );
        assert_eq!(u.host_header(), "lab.portolan.test");
    }

    #[test]
    fn parses_ipv6() {
        let u = HttpUrl::parse("http://[::1]:81/x").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 81));
        assert_eq!(u.to_string(), "http://[::1]:81/x");
    }

    #[test]
    fn refuses_bad_urls() {
        for bad in [
            "ftp://x/",
            "http://",
            "http://x:0/",
            "http://x:99999/",
            "http://u@x/",
            "http://a b/",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn joins_locations() {
        let base = HttpUrl::parse("http://h:81/a/b?q").unwrap();
        let join = |l: &str| base.join(l.as_bytes()).map(|u| u.to_string());
        assert_eq!(join("http://x/fi_FI/").unwrap(), "http://x/fi_FI/");
        assert_eq!(join("HTTPS://x/").unwrap(), "https://x/");
        assert_eq!(join("//y/z").unwrap(), "http://y/z");
        assert_eq!(join("/root").unwrap(), "http://h:81/root");
        assert_eq!(join("c").unwrap(), "http://h:81/a/c");
        assert_eq!(
            join("c:d/e").unwrap_err(),
            LocationError::Scheme("c".into())
        );
        assert_eq!(join("./c:d").unwrap(), "http://h:81/a/./c:d");
    }

    /// Regression (issue 9, item 16): `file:///etc/passwd` and `gopher://` were taken
    /// for relative paths and followed; a non-UTF-8 Location was "without a Location".
    #[test]
    fn other_schemes_and_bad_bytes_are_refused() {
        let base = HttpUrl::parse("http://h/a").unwrap();
        for (location, scheme) in [
            ("file:///etc/passwd", "file"),
            ("gopher://h:70/1", "gopher"),
            (" javascript:alert(1)", "javascript"),
        ] {
            assert_eq!(
                base.join(location.as_bytes()),
                Err(LocationError::Scheme(scheme.into()))
            );
        }
        assert_eq!(base.join(b"/x\xff"), Err(LocationError::NotUtf8));
        assert!(matches!(
            base.join(b"http://u@x/"),
            Err(LocationError::Invalid(_))
        ));
    }
}
