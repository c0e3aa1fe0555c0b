//! The SOCKS5 client handshake (RFC 1928), with username/password (RFC 1929).
//!
//! Greeting → method choice → (sub-negotiation) → CONNECT request → reply. Each step
//! waits for the proxy's whole answer; the reply's bound address is read (its length
//! depends on its type) so bytes after it belong to the tunnel.

use std::net::SocketAddr;

use crate::url::Credentials;
use crate::{Destination, Outcome, ProxyError};

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0x00;
const USER_PASS: u8 = 0x02;
const NO_ACCEPTABLE: u8 = 0xff;
const CONNECT: u8 = 0x01;

const EXPECTED: &str = "SOCKS5";

fn protocol(detail: impl Into<String>) -> ProxyError {
    ProxyError::Protocol {
        expected: EXPECTED,
        detail: detail.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Method,
    Auth,
    Reply,
    Done,
}

pub(crate) struct Socks5 {
    step: Step,
    inbuf: Vec<u8>,
    auth: Option<Vec<u8>>,
    request: Vec<u8>,
}

/// The meaning of a reply code (RFC 1928 section 6).
pub(crate) fn outcome(code: u8) -> Outcome {
    match code {
        0x00 => Outcome::Connected,
        0x02 => Outcome::Denied,
        0x03 => Outcome::NetUnreachable,
        0x04 => Outcome::HostUnreachable,
        0x05 => Outcome::Refused,
        // 0x01 general failure, 0x06 TTL expired, 0x07/0x08 unsupported, others.
        _ => Outcome::Failed,
    }
}

impl Socks5 {
    pub(crate) fn start(
        credentials: Option<&Credentials>,
        dest: &Destination,
        out: &mut Vec<u8>,
    ) -> Result<Self, ProxyError> {
        let auth = match credentials {
            Some(c) => {
                let (u, p) = (c.user.as_bytes(), c.password.as_bytes());
                let (Ok(ul), Ok(pl)) = (u8::try_from(u.len()), u8::try_from(p.len())) else {
                    return Err(ProxyError::CredentialsTooLong);
                };
                let mut msg = vec![1, ul];
                msg.extend_from_slice(u);
                msg.push(pl);
                msg.extend_from_slice(p);
                Some(msg)
            }
            None => None,
        };
        let mut request = vec![VERSION, CONNECT, 0];
        match dest {
            Destination::Addr(SocketAddr::V4(a)) => {
                request.push(1);
                request.extend_from_slice(&a.ip().octets());
            }
            Destination::Addr(SocketAddr::V6(a)) => {
                request.push(4);
                request.extend_from_slice(&a.ip().octets());
            }
            Destination::Name { host, .. } => {
                let len = u8::try_from(host.len()).map_err(|_| ProxyError::NameTooLong)?;
                request.extend_from_slice(&[3, len]);
                request.extend_from_slice(host.as_bytes());
            }
        }
        request.extend_from_slice(&dest.port().to_be_bytes());
        if auth.is_some() {
            out.extend_from_slice(&[VERSION, 2, NO_AUTH, USER_PASS]);
        } else {
            out.extend_from_slice(&[VERSION, 1, NO_AUTH]);
        }
        Ok(Socks5 {
            step: Step::Method,
            inbuf: Vec::new(),
            auth,
            request,
        })
    }

    /// Feeds the proxy's bytes; `Some` once the reply is whole.
    pub(crate) fn receive(
        &mut self,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Option<(Outcome, Vec<u8>)>, ProxyError> {
        self.inbuf.extend_from_slice(data);
        loop {
            match self.step {
                Step::Method => {
                    let Some(&[version, method]) = self.inbuf.get(..2) else {
                        return Ok(None);
                    };
                    if version != VERSION {
                        return Err(protocol(format!("version {version} in the method reply")));
                    }
                    self.inbuf.drain(..2);
                    match method {
                        NO_AUTH => {
                            out.extend_from_slice(&self.request);
                            self.step = Step::Reply;
                        }
                        USER_PASS => match &self.auth {
                            Some(msg) => {
                                out.extend_from_slice(msg);
                                self.step = Step::Auth;
                            }
                            None => return Err(ProxyError::AuthRequired),
                        },
                        NO_ACCEPTABLE if self.auth.is_none() => {
                            return Err(ProxyError::AuthRequired)
                        }
                        NO_ACCEPTABLE => return Err(ProxyError::NoAcceptableMethod),
                        other => return Err(protocol(format!("method {other} was not offered"))),
                    }
                }
                Step::Auth => {
                    let Some(&[_, status]) = self.inbuf.get(..2) else {
                        return Ok(None);
                    };
                    if status != 0 {
                        return Err(ProxyError::AuthRejected);
                    }
                    self.inbuf.drain(..2);
                    out.extend_from_slice(&self.request);
                    self.step = Step::Reply;
                }
                Step::Reply => {
                    let Some(&[version, code, _, atyp]) = self.inbuf.get(..4) else {
                        return Ok(None);
                    };
                    if version != VERSION {
                        return Err(protocol(format!("version {version} in the reply")));
                    }
                    let addr_len = match atyp {
                        1 => 4,
                        4 => 16,
                        3 => match self.inbuf.get(4) {
                            Some(&n) => 1 + usize::from(n),
                            None => return Ok(None),
                        },
                        other => return Err(protocol(format!("address type {other}"))),
                    };
                    let total = 4 + addr_len + 2;
                    if self.inbuf.len() < total {
                        return Ok(None);
                    }
                    self.step = Step::Done;
                    let rest = self.inbuf.split_off(total);
                    return Ok(Some((outcome(code), rest)));
                }
                Step::Done => return Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Destination, Handshake, Outcome, Progress, ProxyError};

    fn start(url: &str, dest: &Destination) -> (Handshake, Vec<u8>) {
        let mut h = Handshake::new(&url.parse().unwrap(), dest).unwrap();
        let out = h.transmit().to_vec();
        h.sent(out.len());
        (h, out)
    }

    fn v4() -> Destination {
        Destination::Addr("198.18.0.1:22".parse().unwrap())
    }

    #[test]
    fn no_auth_connect_by_address_then_tunnel_bytes() {
        let (mut h, greet) = start("socks5://127.0.0.1:1080", &v4());
        assert_eq!(greet, [5, 1, 0]);
        assert_eq!(h.receive(&[5, 0]).unwrap(), Progress::Pending);
        assert_eq!(h.transmit(), [5, 1, 0, 1, 198, 18, 0, 1, 0, 22]);
        h.sent(10);
        // The reply in pieces, with the server's banner right behind it.
        assert_eq!(h.receive(&[5, 0, 0]).unwrap(), Progress::Pending);
        let got = h
            .receive(&[1, 127, 0, 0, 1, 0x9c, 0x40, b'S', b'S'])
            .unwrap();
        assert_eq!(got, Progress::Done(Outcome::Connected));
        assert_eq!(h.take_leftover(), b"SS");
    }

    #[test]
    fn names_and_v6_are_encoded_as_rfc_1928_says() {
        let (mut h, _) = start(
            "socks5h://127.0.0.1:1",
            &Destination::Name {
                host: "lab.test".into(),
                port: 443,
            },
        );
        h.receive(&[5, 0]).unwrap();
        assert_eq!(h.transmit(), b"\x05\x01\x00\x03\x08lab.test\x01\xbb");
        let (mut h, _) = start(
            "socks5://127.0.0.1:1",
            &Destination::Addr("[2001:db8::1]:80".parse().unwrap()),
        );
        h.receive(&[5, 0]).unwrap();
        let t = h.transmit();
        assert_eq!((t[3], t.len(), &t[20..]), (4, 22, &[0u8, 80][..]));
    }

    #[test]
    fn username_and_password() {
        let (mut h, greet) = start("socks5://bob:pw@127.0.0.1:1080", &v4());
        assert_eq!(greet, [5, 2, 0, 2]);
        h.receive(&[5, 2]).unwrap();
        assert_eq!(h.transmit(), b"\x01\x03bob\x02pw");
        h.sent(8);
        h.receive(&[1, 0]).unwrap();
        assert_eq!(h.transmit()[..4], [5, 1, 0, 1]);
        let (mut h, _) = start("socks5://bob:pw@127.0.0.1:1080", &v4());
        h.receive(&[5, 2]).unwrap();
        assert_eq!(h.receive(&[1, 1]), Err(ProxyError::AuthRejected));
        let (mut h, _) = start("socks5://127.0.0.1:1080", &v4());
        assert_eq!(h.receive(&[5, 0xff]), Err(ProxyError::AuthRequired));
    }

    #[test]
    fn reply_codes_become_outcomes() {
        let want = [
            (0, Outcome::Connected),
            (1, Outcome::Failed),
            (2, Outcome::Denied),
            (3, Outcome::NetUnreachable),
            (4, Outcome::HostUnreachable),
            (5, Outcome::Refused),
            (6, Outcome::Failed),
            (7, Outcome::Failed),
        ];
        for (code, outcome) in want {
            let (mut h, _) = start("socks5://127.0.0.1:1080", &v4());
            h.receive(&[5, 0]).unwrap();
            let reply = [5, code, 0, 3, 3, b'a', b'b', b'c', 0, 1];
            assert_eq!(
                h.receive(&reply).unwrap(),
                Progress::Done(outcome),
                "{code}"
            );
        }
    }

    #[test]
    fn garbage_and_hang_ups_are_proxy_errors() {
        let (mut h, _) = start("socks5://127.0.0.1:1080", &v4());
        assert!(matches!(
            h.receive(b"HTTP/1.0 400"),
            Err(ProxyError::Protocol { .. })
        ));
        let (mut h, _) = start("socks5://127.0.0.1:1080", &v4());
        h.receive(&[5, 0, 5]).unwrap();
        assert_eq!(h.closed(), Err(ProxyError::HungUp));
    }
}
