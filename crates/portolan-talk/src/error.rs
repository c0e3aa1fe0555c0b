//! Errors of the talk crate: usage errors (what the user typed cannot work; the CLI
//! exits 2) and runtime failures (the network said no; the CLI exits 1).

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

use crate::http::{BodyError, HeadError, LocationError};

/// Something the user asked for that cannot work, found before any traffic.
#[derive(Debug, Error)]
pub enum UsageError {
    /// A URL `portolan http` cannot use.
    #[error("invalid URL {url:?}: {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `--send` string with a broken backslash escape.
    #[error("invalid escape in {text:?}: {reason}")]
    Escape {
        /// The string as given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An expected pattern that is not a valid regular expression.
    #[error("invalid pattern {pattern:?}: {cause}")]
    Regex {
        /// The pattern as given.
        pattern: String,
        /// The regex crate's explanation.
        cause: Box<regex::Error>,
    },
    /// A `-H` header that is not `Name: value`.
    #[error("invalid header {0:?}: expected 'Name: value' without line breaks")]
    Header(String),
    /// A `-X` method that is not an HTTP token.
    #[error("invalid method {0:?}")]
    Method(String),
    /// A source address and a target of different families.
    #[error("source address {source_addr} and target {host} have no address family in common")]
    Family {
        /// The `-s` address.
        source_addr: SocketAddr,
        /// The target host.
        host: String,
    },
    /// A certificate or key file that cannot be used.
    #[error("{path}: {reason}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A name given with `--sni` (or the host) that is not a valid server name.
    #[error("invalid TLS server name {0:?}")]
    ServerName(String),
}

/// Why a TCP connect failed, as one word or phrase.
#[derive(Debug, Error)]
pub enum ConnectFailure {
    /// The peer answered with a reset (port closed).
    #[error("refused")]
    Refused,
    /// No answer within the connect timeout.
    #[error("timed out")]
    TimedOut,
    /// No route, or an ICMP unreachable.
    #[error("unreachable")]
    Unreachable,
    /// Anything else the kernel said.
    #[error("{0}")]
    Other(io::Error),
}

impl From<io::Error> for ConnectFailure {
    fn from(error: io::Error) -> Self {
        match error.kind() {
            io::ErrorKind::ConnectionRefused => Self::Refused,
            io::ErrorKind::TimedOut => Self::TimedOut,
            io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => Self::Unreachable,
            _ => Self::Other(error),
        }
    }
}

/// Everything that can stop a session.
#[derive(Debug, Error)]
pub enum TalkError {
    /// The user asked for something impossible.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// The host name did not resolve.
    #[error("resolve {host}: {cause}")]
    Resolve {
        /// The name.
        host: String,
        /// The resolver's error.
        cause: io::Error,
    },
    /// The TCP connect failed.
    #[error("connect {addr}: {reason}")]
    Connect {
        /// The address tried last.
        addr: SocketAddr,
        /// Why it failed.
        reason: ConnectFailure,
    },
    /// The proxy answered for the destination: no tunnel.
    #[error("connect {target} through {proxy}: {reason}")]
    ThroughProxy {
        /// The destination, `HOST:PORT`.
        target: String,
        /// The proxy, without its password.
        proxy: String,
        /// What the proxy said (refused, host unreachable, ...).
        reason: &'static str,
    },
    /// The proxy itself failed (credentials, protocol, hang-up, timeout).
    #[error("proxy {proxy}: {cause}")]
    Proxy {
        /// The proxy, without its password.
        proxy: String,
        /// What went wrong.
        cause: String,
    },
    /// Binding a local address failed.
    #[error("bind {addr}: {cause}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The kernel's error.
        cause: io::Error,
    },
    /// The TLS handshake failed (including certificate verification).
    #[error("TLS handshake with {server}: {cause}")]
    Handshake {
        /// The server name or address.
        server: String,
        /// The error, with rustls' reason inside.
        cause: io::Error,
    },
    /// The TLS handshake did not finish in time (a peer that never speaks TLS).
    #[error("TLS handshake with {peer}: timed out after {limit:?}")]
    HandshakeTimeout {
        /// The server name or the client's address.
        peer: String,
        /// The time allowed.
        limit: Duration,
    },
    /// The TLS configuration could not be built.
    #[error("TLS setup: {0}")]
    TlsSetup(String),
    /// Certificates are to be verified, but the system has no root certificates.
    #[error("TLS setup: no system root certificates found")]
    NoRootCertificates,
    /// Reading or writing failed mid-session.
    #[error("{context}: {cause}")]
    Io {
        /// What we were doing.
        context: &'static str,
        /// The error.
        cause: io::Error,
    },
    /// The response head is not HTTP.
    #[error("HTTP response from {url}: {cause}")]
    Head {
        /// The URL asked.
        url: String,
        /// The parser's reason.
        cause: HeadError,
    },
    /// The response body is badly framed.
    #[error("HTTP body from {url}: {cause}")]
    Body {
        /// The URL asked.
        url: String,
        /// The decoder's reason.
        cause: BodyError,
    },
    /// The server closed before the end of a body whose length it had announced.
    #[error("HTTP body from {0}: the server closed before the end of the body")]
    BodyCut(String),
    /// A redirect whose `Location` cannot be followed (the server's fault, not the
    /// user's).
    #[error("redirect from {from} to {location}: {cause}")]
    Location {
        /// Where the redirect came from.
        from: String,
        /// The `Location` value, escaped.
        location: String,
        /// Why it is not followed.
        cause: LocationError,
    },
    /// The server closed before the head was complete.
    #[error("HTTP response from {0}: the connection closed before the response head ended")]
    Truncated(String),
    /// A redirect chain that is too long or comes back to a URL already visited.
    #[error("redirect from {from} to {to}: {reason}")]
    Redirect {
        /// Where the redirect came from.
        from: String,
        /// Where it pointed.
        to: String,
        /// `loop` or `more than 10 redirects`.
        reason: &'static str,
    },
    /// The time limit of the whole exchange ran out.
    #[error("stopped after the time limit of {0:?}")]
    MaxTime(Duration),
    /// The UDP peer answered with ICMP port unreachable: nothing listens there.
    #[error("{0}: port unreachable (ICMP): nothing listens on that UDP port")]
    PortUnreachable(SocketAddr),
    /// Nothing came or went for the idle timeout.
    #[error("idle for {0:?}, closing")]
    Idle(Duration),
}

impl TalkError {
    /// Whether this is a usage error (exit code 2) rather than a runtime failure.
    pub fn is_usage(&self) -> bool {
        matches!(self, TalkError::Usage(_))
    }

    pub(crate) fn io(context: &'static str) -> impl FnOnce(io::Error) -> Self {
        move |cause| TalkError::Io { context, cause }
    }
}
