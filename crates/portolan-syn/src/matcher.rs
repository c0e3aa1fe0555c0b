//! Sans-IO reply matching: bytes in, `(token, answer)` out.
//!
//! The [`Matcher`] knows the probes in flight by destination (address and port → the
//! scheduler's token) and checks every reply's number against the [`Cookie`] before it
//! looks the probe up. A reply that fails the check is counted and dropped; one that
//! passes for a probe no longer in flight (a duplicate, an answer after a timeout) is
//! counted as stale. The map holds only probes in flight, so memory follows the
//! congestion window, not the size of the scan.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use portolan_engine::{Answer, Reason, Token};
use portolan_packet::{Reply, ReplyKind, Unreachable};

use crate::cookie::Cookie;

/// What the receive side has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// SYNs handed to the kernel.
    pub sent: u64,
    /// Replies that answered a probe in flight.
    pub matched: u64,
    /// Replies that passed the check but whose probe was no longer in flight.
    pub stale: u64,
    /// Replies to our port whose number failed the check (forged, stray, or old).
    pub failed_check: u64,
    /// Packets the filter let through that are not replies to a SYN.
    pub not_replies: u64,
}

/// Matches replies to the probes in flight.
#[derive(Debug)]
pub struct Matcher {
    cookie: Cookie,
    port: u16,
    in_flight: HashMap<(IpAddr, u16), Token>,
    stats: Stats,
}

impl Matcher {
    /// A matcher for SYNs sent from source port `port` under `cookie`.
    pub fn new(cookie: Cookie, port: u16) -> Self {
        Matcher {
            cookie,
            port,
            in_flight: HashMap::new(),
            stats: Stats::default(),
        }
    }

    /// The key that makes and checks our sequence numbers.
    pub fn cookie(&self) -> &Cookie {
        &self.cookie
    }

    /// The counts so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Records a probe sent to `remote` under `token`.
    pub fn sent(&mut self, token: Token, remote: SocketAddr) {
        self.stats.sent += 1;
        self.in_flight.insert((remote.ip(), remote.port()), token);
    }

    /// Forgets the probe to `remote` if `token` still owns it.
    pub fn forget(&mut self, token: Token, remote: SocketAddr) {
        let key = (remote.ip(), remote.port());
        if self.in_flight.get(&key) == Some(&token) {
            self.in_flight.remove(&key);
        }
    }

    /// Reads one received network-layer packet; returns the probe it answers, if any.
    pub fn packet(&mut self, bytes: &[u8]) -> Option<(Token, Answer)> {
        let Some(reply) = Reply::parse(bytes).filter(|r| r.local.port() == self.port) else {
            self.stats.not_replies += 1;
            return None;
        };
        let isn = self.cookie.isn(reply.local, reply.remote);
        if !reply.kind.answers(isn) {
            self.stats.failed_check += 1;
            return None;
        }
        let Some(token) = self
            .in_flight
            .remove(&(reply.remote.ip(), reply.remote.port()))
        else {
            self.stats.stale += 1;
            return None;
        };
        self.stats.matched += 1;
        Some((token, answer(reply.kind)))
    }
}

/// The answer a verified reply gives.
pub fn answer(kind: ReplyKind) -> Answer {
    match kind {
        ReplyKind::SynAck { .. } => Answer::Connected,
        ReplyKind::Reset { .. } | ReplyKind::BareReset { .. } => Answer::Reset,
        ReplyKind::Unreachable { code, .. } => Answer::Unreachable(match code {
            Unreachable::Net => Reason::NetUnreach,
            Unreachable::Host | Unreachable::Protocol => Reason::HostUnreach,
            Unreachable::Port => Reason::PortUnreach,
            Unreachable::AdminProhibited => Reason::AdminProhibited,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_packet::icmp::{emit_unreachable, V4_DEST_UNREACH, V6_DEST_UNREACH};
    use portolan_packet::ipv4::Ipv4Repr;
    use portolan_packet::ipv6::Ipv6Repr;
    use portolan_packet::tcp::TcpFlags;
    use portolan_packet::{proto, SynProbe};
    use proptest::prelude::*;

    const PORT: u16 = 40000;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// A peer's TCP reply (no options) from `from` to `to`.
    fn tcp_reply(from: SocketAddr, to: SocketAddr, flags: u8, ack: u32) -> Vec<u8> {
        tcp_segment(from, to, flags, 0x1234_5678, ack)
    }

    /// The same with a chosen sequence number.
    fn tcp_segment(from: SocketAddr, to: SocketAddr, flags: u8, seq: u32, ack: u32) -> Vec<u8> {
        let mut tcp = [0u8; 20];
        tcp[0..2].copy_from_slice(&from.port().to_be_bytes());
        tcp[2..4].copy_from_slice(&to.port().to_be_bytes());
        tcp[4..8].copy_from_slice(&seq.to_be_bytes());
        tcp[8..12].copy_from_slice(&ack.to_be_bytes());
        tcp[12] = 0x50;
        tcp[13] = flags;
        let mut out = vec![0u8; 60];
        let header = match (from.ip(), to.ip()) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => {
                let r = Ipv4Repr {
                    src,
                    dst,
                    protocol: proto::TCP,
                    payload_len: 20,
                    ttl: 64,
                    ident: 0,
                };
                r.emit(&mut out).unwrap();
                20
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) => {
                let r = Ipv6Repr {
                    src,
                    dst,
                    next_header: proto::TCP,
                    payload_len: 20,
                    hop_limit: 64,
                    flow_label: 0,
                };
                r.emit(&mut out).unwrap();
                40
            }
            _ => unreachable!(),
        };
        out[header..header + 20].copy_from_slice(&tcp);
        out.truncate(header + 20);
        out
    }

    /// A router's ICMP unreachable (from `router`) quoting our SYN.
    fn icmp_reply(router: IpAddr, syn: &SynProbe, code: u8) -> Vec<u8> {
        let mut quoted = [0u8; portolan_packet::syn::MAX_LEN];
        let n = syn.emit(&mut quoted).unwrap();
        let header = if syn.src.is_ipv4() { 20 } else { 40 };
        let quoted = &quoted[..(header + 8).min(n)];
        let mut out = vec![0u8; 200];
        let len = match (router, syn.src.ip()) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => {
                let n =
                    emit_unreachable(&mut out[20..], V4_DEST_UNREACH, code, quoted, None).unwrap();
                let r = Ipv4Repr {
                    src,
                    dst,
                    protocol: proto::ICMP,
                    payload_len: n,
                    ttl: 64,
                    ident: 0,
                };
                r.emit(&mut out).unwrap();
                20 + n
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) => {
                let pseudo = Some((src.into(), dst.into()));
                let n = emit_unreachable(&mut out[40..], V6_DEST_UNREACH, code, quoted, pseudo)
                    .unwrap();
                let r = Ipv6Repr {
                    src,
                    dst,
                    next_header: proto::ICMPV6,
                    payload_len: n,
                    hop_limit: 64,
                    flow_label: 0,
                };
                r.emit(&mut out).unwrap();
                40 + n
            }
            _ => unreachable!(),
        };
        out.truncate(len);
        out
    }

    fn setup(local: &str, remote: &str) -> (Matcher, SocketAddr, SocketAddr, u32) {
        let m = Matcher::new(Cookie::from_key(11, 22), PORT);
        let (local, remote) = (sa(local), sa(remote));
        let isn = m.cookie().isn(local, remote);
        (m, local, remote, isn)
    }

    #[test]
    fn each_kind_of_reply_gives_its_answer() {
        for (local, remote) in [
            ("10.0.0.1:40000", "10.0.0.2:80"),
            ("[2001:db8::1]:40000", "[2001:db8::2]:80"),
        ] {
            let (mut m, l, r, isn) = setup(local, remote);
            let synack = tcp_reply(r, l, TcpFlags::SYN | TcpFlags::ACK, isn.wrapping_add(1));
            let rst = tcp_reply(r, l, TcpFlags::RST | TcpFlags::ACK, isn.wrapping_add(1));
            m.sent(3, r);
            assert_eq!(m.packet(&synack), Some((3, Answer::Connected)));
            m.sent(4, r);
            assert_eq!(m.packet(&rst), Some((4, Answer::Reset)));
            let syn = SynProbe {
                src: l,
                dst: r,
                seq: isn,
                ts_val: 1,
                ident: 2,
                ack: None,
            };
            let router: IpAddr = if l.is_ipv4() {
                "10.9.9.9".parse().unwrap()
            } else {
                "2001:db8::9".parse().unwrap()
            };
            let (admin, port) = if l.is_ipv4() { (13, 3) } else { (1, 4) };
            m.sent(5, r);
            assert_eq!(
                m.packet(&icmp_reply(router, &syn, admin)),
                Some((5, Answer::Unreachable(Reason::AdminProhibited)))
            );
            m.sent(6, r);
            assert_eq!(
                m.packet(&icmp_reply(router, &syn, port)),
                Some((6, Answer::Unreachable(Reason::PortUnreach)))
            );
            m.sent(7, r);
            assert_eq!(
                m.packet(&icmp_reply(router, &syn, 0)),
                Some((7, Answer::Unreachable(Reason::NetUnreach)))
            );
            assert_eq!(m.stats().matched, 5);
        }
    }

    #[test]
    fn a_bare_reset_answers_an_ack_ping_only_with_the_keyed_number() {
        for (local, remote) in [
            ("10.0.0.1:40000", "10.0.0.2:80"),
            ("[2001:db8::1]:40000", "[2001:db8::2]:80"),
        ] {
            let (mut m, l, r, isn) = setup(local, remote);
            m.sent(1, r);
            for wrong in [isn.wrapping_add(1), isn ^ 0x8000_0000, 0] {
                assert_eq!(m.packet(&tcp_segment(r, l, TcpFlags::RST, wrong, 0)), None);
            }
            assert_eq!(m.stats().failed_check, 3);
            assert_eq!(
                m.packet(&tcp_segment(r, l, TcpFlags::RST, isn, 0)),
                Some((1, Answer::Reset))
            );
        }
    }

    #[test]
    fn wrong_numbers_are_counted_and_ignored() {
        let (mut m, l, r, isn) = setup("10.0.0.1:40000", "10.0.0.2:80");
        m.sent(1, r);
        for ack in [isn, isn.wrapping_add(2), 0] {
            assert_eq!(
                m.packet(&tcp_reply(r, l, TcpFlags::SYN | TcpFlags::ACK, ack)),
                None
            );
        }
        let wrong = SynProbe {
            src: l,
            dst: r,
            seq: isn ^ 1,
            ts_val: 0,
            ident: 0,
            ack: None,
        };
        assert_eq!(
            m.packet(&icmp_reply("10.9.9.9".parse().unwrap(), &wrong, 13)),
            None
        );
        assert_eq!(m.stats().failed_check, 4);
        // The probe is still in flight: the right answer still counts.
        let good = tcp_reply(r, l, TcpFlags::RST | TcpFlags::ACK, isn.wrapping_add(1));
        assert_eq!(m.packet(&good), Some((1, Answer::Reset)));
    }

    #[test]
    fn duplicates_and_answers_after_cancel_are_stale() {
        let (mut m, l, r, isn) = setup("10.0.0.1:40000", "10.0.0.2:80");
        let synack = tcp_reply(r, l, TcpFlags::SYN | TcpFlags::ACK, isn.wrapping_add(1));
        m.sent(1, r);
        assert!(m.packet(&synack).is_some());
        assert_eq!(m.packet(&synack), None);
        m.sent(2, r);
        m.forget(2, r);
        assert_eq!(m.packet(&synack), None);
        assert_eq!(m.stats().stale, 2);
        // A retry under a new token owns the destination; forgetting the old token
        // must not drop it.
        m.sent(3, r);
        m.forget(2, r);
        assert_eq!(m.packet(&synack), Some((3, Answer::Connected)));
    }

    #[test]
    fn other_ports_and_other_packets_are_not_replies() {
        let (mut m, _, r, isn) = setup("10.0.0.1:40000", "10.0.0.2:80");
        m.sent(1, r);
        let other = tcp_reply(
            r,
            sa("10.0.0.1:40001"),
            TcpFlags::SYN | TcpFlags::ACK,
            isn.wrapping_add(1),
        );
        assert_eq!(m.packet(&other), None);
        let bare_ack = tcp_reply(r, sa("10.0.0.1:40000"), TcpFlags::ACK, isn.wrapping_add(1));
        assert_eq!(m.packet(&bare_ack), None);
        assert_eq!(m.stats().not_replies, 2);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_match_or_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let (mut m, _, r, _) = setup("10.0.0.1:40000", "10.0.0.2:80");
            m.sent(1, r);
            // A random packet can only match by guessing a 32-bit keyed number.
            prop_assert_eq!(m.packet(&b), None);
        }
    }
}
