//! The thin I/O around the UDP answer parsers, for `-sU -sV`: send each payload the
//! table lists for an open port, one at a time on a connected socket, and name the
//! service from the first answer a parser understands (an answer that names only the
//! service, like a DNS answer without a version, lets the later payloads try for more).
//!
//! Bounded like the TCP runner: one datagram of at most [`READ_BYTES`] per payload,
//! at most `wait` for each.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use portolan_engine::Service;
use tokio::net::UdpSocket;

use super::answer::{self, decode};
use super::build::Context;
use super::payloads::UdpPayloads;
use crate::db::Database;

/// The most bytes read from one answer.
pub const READ_BYTES: usize = 4096;

/// Names the service behind the open UDP port `addr`; `None` when no payload drew an
/// answer a parser understands. `db` holds the UDP fingerprints
/// (the built-in ones come from `fingerprints/udp.toml`); `id` seeds the payloads' transaction ids.
pub async fn identify_udp(
    addr: SocketAddr,
    table: &UdpPayloads,
    db: &Database,
    wait: Duration,
    id: u64,
) -> Option<Service> {
    let local: SocketAddr = if addr.is_ipv6() {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await.ok()?;
    socket.connect(addr).await.ok()?;
    let mut buf = vec![0u8; READ_BYTES];
    let mut named = None;
    for (n, payload) in table.for_port(addr.port()).into_iter().enumerate() {
        let datagram = payload.bytes(&Context {
            addr,
            id: id.wrapping_add(n as u64),
        });
        if socket.send(&datagram).await.is_err() {
            return None;
        }
        // Answers to an earlier payload that arrive late are read and judged too.
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Ok(len)) = tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
            let got = &buf[..len];
            if let Some(decoded) = decode(&payload.name, got) {
                let service = answer::service(db, &decoded, got);
                if service.product.is_some() || service.version.is_some() {
                    return Some(service);
                }
                // Named but bare (a DNS answer without a version): a later payload
                // (`version.bind`) may say more.
                named.get_or_insert(service);
                break;
            }
        }
    }
    named
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket as StdUdp;

    /// A DNS server on 127.0.0.1 that answers `version.bind` with BIND's real answer
    /// (the TCP fixture without its length prefix) and anything else with an empty
    /// answer, under the query's id.
    fn bind_server() -> SocketAddr {
        let path = format!(
            "{}/tests/fixtures/bind-9.18.28-dns-version.bin",
            env!("CARGO_MANIFEST_DIR")
        );
        let answer = std::fs::read(path).unwrap()[2..].to_vec();
        let socket = StdUdp::bind("127.0.0.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                let mut reply = if buf[..n].windows(13).any(|w| w == b"\x07version\x04bind") {
                    answer.clone()
                } else {
                    // Anything else: an empty NOERROR answer echoing the question.
                    let mut r = buf[..n].to_vec();
                    r[2] |= 0x80;
                    r
                };
                reply[..2].copy_from_slice(&buf[..2]);
                let _ = socket.send_to(&reply, from);
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_dns_server_is_named_from_its_version_bind_answer() {
        let addr = bind_server();
        // Port 53's payloads, aimed at the test server's port.
        let text = "[[payload]]\nname = \"dns-root-ns\"\nports = [PORT]\nbuilder = \"dns-root-ns\"\n\
                    [[payload]]\nname = \"dns-version-bind\"\nports = [PORT]\nbuilder = \"dns-version-bind\"\n"
            .replace("PORT", &addr.port().to_string());
        let table = UdpPayloads::from_toml("test.toml", &text).unwrap();
        let db = answer::fingerprints().unwrap();
        let s = identify_udp(addr, &table, &db, Duration::from_millis(300), 1)
            .await
            .expect("named");
        assert_eq!(s.name, "domain");
        assert_eq!(s.product.as_deref(), Some("ISC BIND"));
        assert_eq!(s.version.as_deref(), Some("9.18.28"));
    }

    #[tokio::test]
    async fn a_silent_port_names_nothing() {
        let silent = StdUdp::bind("127.0.0.1:0").unwrap();
        let addr = silent.local_addr().unwrap();
        let table = UdpPayloads::builtin().unwrap();
        let db = answer::fingerprints().unwrap();
        let got = identify_udp(addr, &table, &db, Duration::from_millis(100), 1).await;
        assert_eq!(got, None);
    }
}
