//! `http://` and `https://` URLs: just enough to know where to connect, what to put
//! in the request line and `Host`, and where a `Location` header points.

use std::fmt;

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

    /// Resolves a `Location` header value against this URL: absolute URLs,
    /// scheme-relative (`//host/path`), absolute paths and relative paths.
    pub fn join(&self, location: &str) -> Result<Self, UsageError> {
        let location = location.trim();
        if strip_prefix_ci(location, "http://").is_some()
            || strip_prefix_ci(location, "https://").is_some()
        {
            return Self::parse(location);
        }
        if let Some(rest) = location.strip_prefix("//") {
            return Self::parse(&format!("{}://{rest}", self.scheme.as_str()));
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
    }
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
        assert_eq!(
            base.join("http://x/fi_FI/").unwrap().to_string(),
            "http://x/fi_FI/"
        );
        assert_eq!(base.join("//y/z").unwrap().to_string(), "http://y/z");
        assert_eq!(base.join("/root").unwrap().to_string(), "http://h:81/root");
        assert_eq!(base.join("c").unwrap().to_string(), "http://h:81/a/c");
    }
}
