//! The HTTP CONNECT client handshake (RFC 9110 section 9.3.6).
//!
//! A 2xx status opens the tunnel; bytes after the head are the destination's. For
//! any other status the proxy's body is read (until `Content-Length`, the close,
//! or [`MAX_BODY`]) because only its words can tell a refused port from an
//! unreachable host: tinyproxy answers every failed connect with 500 and
//! `strerror` in the body, squid with 503 and `(111) Connection refused`.

use std::net::SocketAddr;

use crate::url::Credentials;
use crate::{Destination, Outcome, ProxyError};

/// The longest response head accepted.
const MAX_HEAD: usize = 16 * 1024;
/// How much of an error body is read for its reason.
const MAX_BODY: usize = 64 * 1024;

const EXPECTED: &str = "HTTP CONNECT";

fn protocol(detail: impl Into<String>) -> ProxyError {
    ProxyError::Protocol {
        expected: EXPECTED,
        detail: detail.into(),
    }
}

fn base64(input: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// The status's meaning when the body says nothing more.
fn by_status(status: u16) -> Outcome {
    match status {
        200..=299 => Outcome::Connected,
        403 => Outcome::Denied,
        _ => Outcome::Failed,
    }
}

/// The proxy's words, in the order the most specific wins.
fn by_body(body: &[u8]) -> Option<Outcome> {
    let text = String::from_utf8_lossy(body).to_ascii_lowercase();
    [
        ("connection refused", Outcome::Refused),
        ("no route to host", Outcome::HostUnreachable),
        ("host is unreachable", Outcome::HostUnreachable),
        ("network is unreachable", Outcome::NetUnreachable),
    ]
    .into_iter()
    .find(|(words, _)| text.contains(words))
    .map(|(_, o)| o)
}

enum Step {
    Head,
    Body { status: u16, length: Option<usize> },
    Done,
}

pub(crate) struct Connect {
    step: Step,
    inbuf: Vec<u8>,
}

impl Connect {
    pub(crate) fn start(
        credentials: Option<&Credentials>,
        dest: &Destination,
        out: &mut Vec<u8>,
    ) -> Self {
        let authority = match dest {
            Destination::Addr(SocketAddr::V6(a)) => format!("[{}]:{}", a.ip(), a.port()),
            Destination::Addr(a) => a.to_string(),
            Destination::Name { host, port } if host.contains(':') => format!("[{host}]:{port}"),
            Destination::Name { host, port } => format!("{host}:{port}"),
        };
        let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some(c) = credentials {
            let token = base64(format!("{}:{}", c.user, c.password).as_bytes());
            head.push_str("Proxy-Authorization: Basic ");
            head.push_str(&token);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        out.extend_from_slice(head.as_bytes());
        Connect {
            step: Step::Head,
            inbuf: Vec::new(),
        }
    }

    pub(crate) fn receive(
        &mut self,
        data: &[u8],
    ) -> Result<Option<(Outcome, Vec<u8>)>, ProxyError> {
        self.inbuf.extend_from_slice(data);
        if matches!(self.step, Step::Head) {
            let Some(end) = self.inbuf.windows(4).position(|w| w == b"\r\n\r\n") else {
                if self.inbuf.len() > MAX_HEAD {
                    return Err(protocol("a response head over 16 KiB"));
                }
                if !b"HTTP/".starts_with(&self.inbuf[..self.inbuf.len().min(5)]) {
                    return Err(protocol("no HTTP status line"));
                }
                return Ok(None);
            };
            let head = String::from_utf8_lossy(&self.inbuf[..end]).into_owned();
            let body = self.inbuf.split_off(end + 4);
            self.inbuf = body;
            let (status, length) = parse_head(&head)?;
            if (200..300).contains(&status) {
                self.step = Step::Done;
                return Ok(Some((Outcome::Connected, std::mem::take(&mut self.inbuf))));
            }
            if status == 407 {
                return Err(ProxyError::AuthRequired);
            }
            self.step = Step::Body { status, length };
        }
        if let Step::Body { status, length } = self.step {
            // The proxy's words decide as soon as they are in: no need to wait for a
            // close that some proxies linger over.
            let limit = length.unwrap_or(MAX_BODY).min(MAX_BODY);
            if self.inbuf.len() >= limit || by_body(&self.inbuf).is_some() {
                return Ok(Some(self.conclude(status)));
            }
        }
        Ok(None)
    }

    pub(crate) fn closed(&mut self) -> Result<Option<(Outcome, Vec<u8>)>, ProxyError> {
        match self.step {
            Step::Body { status, .. } => Ok(Some(self.conclude(status))),
            Step::Head | Step::Done => Err(ProxyError::HungUp),
        }
    }

    fn conclude(&mut self, status: u16) -> (Outcome, Vec<u8>) {
        self.step = Step::Done;
        let outcome = by_body(&self.inbuf).unwrap_or_else(|| by_status(status));
        self.inbuf.clear();
        (outcome, Vec::new())
    }
}

/// The status and `Content-Length` of a response head.
fn parse_head(head: &str) -> Result<(u16, Option<usize>), ProxyError> {
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(protocol(format!(
            "status line `{}`",
            status_line.escape_debug()
        )));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| (100..600).contains(s))
        .ok_or_else(|| protocol(format!("status line `{}`", status_line.escape_debug())))?;
    let length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok());
    Ok((status, length))
}

#[cfg(test)]
mod tests {
    use super::base64;
    use crate::{Destination, Handshake, Outcome, Progress, ProxyError};

    fn start(url: &str) -> Handshake {
        let dest = Destination::Addr("127.0.0.1:8080".parse().unwrap());
        let mut h = Handshake::new(&url.parse().unwrap(), &dest).unwrap();
        let n = h.transmit().len();
        h.sent(n);
        h
    }

    #[test]
    fn the_request() {
        let dest = Destination::Addr("[::1]:22".parse().unwrap());
        let h = Handshake::new(&"http://u:p@127.0.0.1:3128".parse().unwrap(), &dest).unwrap();
        assert_eq!(
            String::from_utf8_lossy(h.transmit()),
            "CONNECT [::1]:22 HTTP/1.1\r\nHost: [::1]:22\r\nProxy-Authorization: Basic dTpw\r\n\r\n"
        );
        assert_eq!(
            base64(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(base64(b"ab"), "YWI=");
    }

    #[test]
    fn two_hundred_opens_the_tunnel() {
        let mut h = start("http://127.0.0.1:8888");
        assert_eq!(
            h.receive(b"HTTP/1.0 200 Connection est").unwrap(),
            Progress::Pending
        );
        let got = h
            .receive(b"ablished\r\nProxy-agent: tinyproxy/1.11\r\n\r\nSSH-2.0")
            .unwrap();
        assert_eq!(got, Progress::Done(Outcome::Connected));
        assert_eq!(h.take_leftover(), b"SSH-2.0");
    }

    #[test]
    fn tinyproxy_and_squid_failures_by_their_bodies() {
        // tinyproxy 1.11: 500 for every failed connect, strerror in the body.
        let mut h = start("http://127.0.0.1:8888");
        let head = b"HTTP/1.1 500 Unable to connect\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n";
        assert_eq!(h.receive(head).unwrap(), Progress::Pending);
        h.receive(b"<p>tinyproxy was unable to connect ... <b>Connection refused</b>")
            .unwrap();
        assert_eq!(h.closed(), Ok(Outcome::Refused));
        // squid: 503 with a Content-Length, errno in the body.
        let mut h = start("http://127.0.0.1:3128");
        let body = "The system returned: (113) No route to host";
        let reply = format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        assert_eq!(
            h.receive(reply.as_bytes()).unwrap(),
            Progress::Done(Outcome::HostUnreachable)
        );
        // A bare 504 says nothing more than "no connection".
        let mut h = start("http://127.0.0.1:3128");
        let got = h
            .receive(b"HTTP/1.1 504 Gateway Timeout\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        assert_eq!(got, Progress::Done(Outcome::Failed));
        let mut h = start("http://127.0.0.1:3128");
        let got = h
            .receive(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        assert_eq!(got, Progress::Done(Outcome::Denied));
    }

    #[test]
    fn proxy_failures_are_errors() {
        let mut h = start("http://127.0.0.1:8888");
        assert_eq!(
            h.receive(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"),
            Err(ProxyError::AuthRequired)
        );
        let mut h = start("http://127.0.0.1:8888");
        assert!(matches!(
            h.receive(b"\x05\x00"),
            Err(ProxyError::Protocol { .. })
        ));
        let mut h = start("http://127.0.0.1:8888");
        h.receive(b"HTTP/1.1 200 OK\r\n").unwrap();
        assert_eq!(h.closed(), Err(ProxyError::HungUp));
    }
}
