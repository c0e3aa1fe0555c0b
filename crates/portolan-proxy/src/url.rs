//! `--proxy` URLs: `socks5://[user:pass@]HOST:PORT`, `socks5h://...`, `http://...`.

use std::fmt;
use std::str::FromStr;

/// The proxy's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// SOCKS5; names are resolved here.
    Socks5,
    /// SOCKS5; names are sent to the proxy, which resolves them.
    Socks5h,
    /// HTTP CONNECT (names always go to the proxy).
    Http,
}

impl Scheme {
    /// Whether destination names are resolved by the proxy.
    pub fn remote_names(self) -> bool {
        matches!(self, Scheme::Socks5h | Scheme::Http)
    }
}

/// A username and password (RFC 1929; HTTP Basic for CONNECT).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The username.
    pub user: String,
    /// The password (never printed).
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({:?}, <hidden>)", self.user)
    }
}

/// A proxy, as `--proxy` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    /// The protocol.
    pub scheme: Scheme,
    /// A name or an address, without IPv6 brackets.
    pub host: String,
    /// The proxy's port.
    pub port: u16,
    /// Username and password, when given.
    pub credentials: Option<Credentials>,
}

impl fmt::Display for ProxyUrl {
    /// The URL without the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Socks5 => "socks5",
            Scheme::Socks5h => "socks5h",
            Scheme::Http => "http",
        };
        write!(f, "{scheme}://")?;
        if let Some(c) = &self.credentials {
            write!(f, "{}@", c.user)?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A `--proxy` that is not a proxy URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not `socks5://`, `socks5h://` or `http://`.
    #[error("`{0}`: a proxy is socks5://, socks5h:// or http://HOST:PORT")]
    Scheme(String),
    /// No host, or no port.
    #[error("`{0}`: the proxy needs HOST:PORT")]
    HostPort(String),
    /// The port is not 1 to 65535.
    #[error("`{0}`: the proxy's port is not a number from 1 to 65535")]
    Port(String),
    /// Credentials without a `:`, or with a bad percent-escape.
    #[error("`{0}`: credentials are user:password@ (percent-encoded)")]
    Credentials(String),
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl FromStr for ProxyUrl {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| ParseError::Scheme(text.into()))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "socks5" => Scheme::Socks5,
            "socks5h" => Scheme::Socks5h,
            "http" => Scheme::Http,
            _ => return Err(ParseError::Scheme(text.into())),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (credentials, hostport) = match rest.rsplit_once('@') {
            Some((cred, hp)) => {
                let (user, password) = cred
                    .split_once(':')
                    .ok_or_else(|| ParseError::Credentials(text.into()))?;
                let decode =
                    |s: &str| percent_decode(s).ok_or_else(|| ParseError::Credentials(text.into()));
                (
                    Some(Credentials {
                        user: decode(user)?,
                        password: decode(password)?,
                    }),
                    hp,
                )
            }
            None => (None, rest),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| ParseError::HostPort(text.into()))?;
            let port = after
                .strip_prefix(':')
                .ok_or_else(|| ParseError::HostPort(text.into()))?;
            (host, port)
        } else {
            hostport
                .rsplit_once(':')
                .ok_or_else(|| ParseError::HostPort(text.into()))?
        };
        if host.is_empty() || host.contains(['/', '@', '[', ']', ' ']) {
            return Err(ParseError::HostPort(text.into()));
        }
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| ParseError::Port(text.into()))?;
        Ok(ProxyUrl {
            scheme,
            host: host.to_string(),
            port,
            credentials,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let p: ProxyUrl = "socks5h://al%40x:p%3Ass@[::1]:1080".parse().unwrap();
        assert_eq!(p.scheme, Scheme::Socks5h);
        assert_eq!(p.host, "::1");
        assert_eq!(p.port, 1080);
        let c = p.credentials.clone().unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("al@x", "p:ss"));
        assert_eq!(p.to_string(), "socks5h://al@x@[::1]:1080");
        assert!(!format!("{p:?}").contains("p:ss"));
        let p: ProxyUrl = "http://proxy.lan:3128/".parse().unwrap();
        assert_eq!(
            (p.scheme, p.host.as_str(), p.port),
            (Scheme::Http, "proxy.lan", 3128)
        );
    }

    #[test]
    fn rejects_what_is_not_a_proxy() {
        for bad in [
            "127.0.0.1:1080",
            "socks4://h:1",
            "https://h:443",
            "socks5://h",
            "socks5://h:0",
            "socks5://h:99999",
            "socks5://:80",
            "socks5://user@h:80",
            "socks5://u:%zz@h:80",
            "socks5://[::1:80",
        ] {
            assert!(bad.parse::<ProxyUrl>().is_err(), "{bad}");
        }
    }
}
