//! Talking to a port through a proxy: the SOCKS5 (RFC 1928, with RFC 1929
//! username/password) and HTTP CONNECT client handshakes, sans-IO.
//!
//! Why sans-IO: the same handshake runs in the scan engine (mio, thousands of
//! non-blocking sockets) and in `connect`/`http` (tokio). A [`Handshake`] is given
//! the bytes the proxy sent and answers with bytes to send and, at the end, an
//! [`Outcome`] (what the proxy said about the destination) or a [`ProxyError`] (the
//! proxy itself failed: it refused our credentials, or does not speak the protocol).
//! The difference matters: an outcome is a port's state, an error stops the scan.
//!
//! What an outcome can tell, by protocol:
//!
//! - SOCKS5 replies carry the destination's fate: 0 succeeded, 5 connection
//!   refused, 3 network and 4 host unreachable, 2 not allowed by the rule set;
//!   1 (general failure), 6 (TTL expired) and anything else say nothing more
//!   than "no connection".
//! - HTTP CONNECT has only a status: 2xx is a tunnel, 403 a refusal by the proxy's
//!   rules, 407 wants credentials (an error). For 502/503/504 and the rest, the
//!   status alone cannot tell a refused port from an unreachable host, so the body
//!   is read and the proxy's own words (`Connection refused`, `No route to host`,
//!   `Network is unreachable`, the strings tinyproxy and squid copy from `strerror`)
//!   decide; without them the port is [`Outcome::Failed`] (filtered).

#![warn(missing_docs)]

mod http;
mod names;
mod socks5;
mod url;

pub use names::{is_stand_in, RemoteNames, TooManyNames};
pub use url::{Credentials, ParseError, ProxyUrl, Scheme};

use std::net::SocketAddr;

/// Where the proxy should connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// An address resolved here.
    Addr(SocketAddr),
    /// A name the proxy resolves (`socks5h://`, and always for HTTP CONNECT).
    Name {
        /// The name.
        host: String,
        /// The port.
        port: u16,
    },
}

impl Destination {
    fn port(&self) -> u16 {
        match self {
            Destination::Addr(a) => a.port(),
            Destination::Name { port, .. } => *port,
        }
    }
}

/// What the proxy said about the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The tunnel is open: the destination accepted the connection.
    Connected,
    /// The destination refused the connection (a reset).
    Refused,
    /// The proxy could not reach the destination host.
    HostUnreachable,
    /// The proxy had no route to the destination network.
    NetUnreachable,
    /// The proxy's rules forbid the destination.
    Denied,
    /// No connection, and no reason given (general failure, TTL expired, timeouts).
    Failed,
}

/// The proxy itself failed; no port state can be read from it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    /// The proxy accepts neither no authentication nor username/password.
    #[error("the proxy accepts none of our authentication methods")]
    NoAcceptableMethod,
    /// The proxy wants credentials (SOCKS5 method 2, HTTP 407) and has none or
    /// refused the ones in the request.
    #[error("the proxy wants a username and password (none given, or not these)")]
    AuthRequired,
    /// RFC 1929's sub-negotiation failed.
    #[error("the proxy rejected the username and password")]
    AuthRejected,
    /// The proxy's bytes are not the protocol's.
    #[error("the proxy does not speak {expected}: {detail}")]
    Protocol {
        /// `SOCKS5` or `HTTP CONNECT`.
        expected: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The proxy closed before its reply was whole.
    #[error("the proxy closed the connection in the middle of the handshake")]
    HungUp,
    /// A SOCKS5 name is at most 255 bytes.
    #[error("the destination name is longer than SOCKS5 allows (255 bytes)")]
    NameTooLong,
    /// RFC 1929 credentials are at most 255 bytes each.
    #[error("the username or password is longer than SOCKS5 allows (255 bytes)")]
    CredentialsTooLong,
}

/// Where a handshake stands after some input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// More bytes from the proxy are needed (send [`Handshake::transmit`] first).
    Pending,
    /// The proxy answered; after [`Outcome::Connected`], bytes past the reply are in
    /// [`Handshake::take_leftover`].
    Done(Outcome),
}

enum Protocol {
    Socks5(socks5::Socks5),
    Http(http::Connect),
}

/// One client handshake with a proxy, for one destination.
pub struct Handshake {
    protocol: Protocol,
    out: Vec<u8>,
    leftover: Vec<u8>,
    done: Option<Outcome>,
}

impl Handshake {
    /// Starts a handshake through `proxy` to `dest`; the first bytes to send are in
    /// [`Handshake::transmit`].
    pub fn new(proxy: &ProxyUrl, dest: &Destination) -> Result<Self, ProxyError> {
        let mut out = Vec::new();
        let protocol = match proxy.scheme {
            Scheme::Socks5 | Scheme::Socks5h => Protocol::Socks5(socks5::Socks5::start(
                proxy.credentials.as_ref(),
                dest,
                &mut out,
            )?),
            Scheme::Http => Protocol::Http(http::Connect::start(
                proxy.credentials.as_ref(),
                dest,
                &mut out,
            )),
        };
        Ok(Handshake {
            protocol,
            out,
            leftover: Vec::new(),
            done: None,
        })
    }

    /// Bytes waiting to be sent to the proxy.
    pub fn transmit(&self) -> &[u8] {
        &self.out
    }

    /// Records that the first `n` bytes of [`Handshake::transmit`] were sent.
    pub fn sent(&mut self, n: usize) {
        self.out.drain(..n.min(self.out.len()));
    }

    /// Feeds bytes the proxy sent.
    pub fn receive(&mut self, data: &[u8]) -> Result<Progress, ProxyError> {
        if let Some(done) = self.done {
            self.leftover.extend_from_slice(data);
            return Ok(Progress::Done(done));
        }
        let step = match &mut self.protocol {
            Protocol::Socks5(s) => s.receive(data, &mut self.out)?,
            Protocol::Http(h) => h.receive(data)?,
        };
        Ok(self.finish(step))
    }

    /// The proxy closed its side. An HTTP error body ends here; anywhere else a
    /// close is the proxy failing.
    pub fn closed(&mut self) -> Result<Outcome, ProxyError> {
        if let Some(done) = self.done {
            return Ok(done);
        }
        let step = match &mut self.protocol {
            Protocol::Socks5(_) => return Err(ProxyError::HungUp),
            Protocol::Http(h) => h.closed()?,
        };
        match self.finish(step) {
            Progress::Done(o) => Ok(o),
            Progress::Pending => Err(ProxyError::HungUp),
        }
    }

    fn finish(&mut self, step: Option<(Outcome, Vec<u8>)>) -> Progress {
        match step {
            Some((outcome, rest)) => {
                self.done = Some(outcome);
                self.leftover = rest;
                Progress::Done(outcome)
            }
            None => Progress::Pending,
        }
    }

    /// Bytes the destination sent that arrived with the proxy's reply.
    pub fn take_leftover(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.leftover)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn proxies() -> Vec<ProxyUrl> {
        [
            "socks5://127.0.0.1:1080",
            "socks5h://u:p@127.0.0.1:1080",
            "http://127.0.0.1:8888",
            "http://u:p@127.0.0.1:8888",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect()
    }

    proptest! {
        #[test]
        fn arbitrary_replies_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600), step in 1usize..40) {
            let dest = Destination::Name { host: "example.org".into(), port: 443 };
            for proxy in proxies() {
                let mut h = Handshake::new(&proxy, &dest).unwrap();
                let n = h.transmit().len();
                h.sent(n);
                for piece in data.chunks(step) {
                    if h.receive(piece).is_err() {
                        break;
                    }
                }
                let _ = h.closed();
            }
        }
    }
}
