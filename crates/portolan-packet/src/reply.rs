//! What a received packet says about a probe.
//!
//! [`Reply::parse`] takes a network-layer packet (what an `AF_PACKET`/`SOCK_DGRAM`
//! socket delivers, whatever the link) and, if it can answer a SYN, returns the probe's
//! 4-tuple and the number that proves it: the acknowledgement of a SYN-ACK or a reset
//! (our sequence number plus one), the sequence number of a bare reset (the
//! acknowledgement number of our ACK ping), or the sequence number an ICMP error
//! quotes (ours).
//! Checking that number against the scan's key is the caller's job; this module only
//! reads.
//!
//! TCP checksums of received packets are not checked: on loopback and veth the kernel
//! leaves them to an offload that never happens, so a correct reply can carry a wrong
//! sum. The keyed sequence number is the stronger check.

use std::net::{IpAddr, SocketAddr};

use crate::icmp::{Icmpv4Packet, Icmpv6Packet, Unreachable};
use crate::ipv4::Ipv4Packet;
use crate::ipv6::Ipv6Packet;
use crate::tcp::{TcpFlags, TcpPacket};
use crate::{be16, be32, proto};

/// A reply to a probe: which probe (by its 4-tuple) and what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The probe's source: our address and port.
    pub local: SocketAddr,
    /// The probe's destination.
    pub remote: SocketAddr,
    /// What the reply says about the port.
    pub kind: ReplyKind,
}

/// What the reply says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// SYN and ACK: the port is open. `ack` must be our sequence number plus one.
    SynAck {
        /// The acknowledgement number.
        ack: u32,
    },
    /// RST and ACK: the port is closed. `ack` must be our sequence number plus one.
    Reset {
        /// The acknowledgement number.
        ack: u32,
    },
    /// RST without ACK: a host's answer to an ACK of no connection of its (RFC 9293
    /// takes the reset's sequence number from the segment's acknowledgement number).
    /// `seq` must be the acknowledgement number we sent.
    BareReset {
        /// The sequence number.
        seq: u32,
    },
    /// An ICMP destination-unreachable quoting the probe; `seq` must be ours.
    Unreachable {
        /// What the code means.
        code: Unreachable,
        /// The sequence number of the quoted probe.
        seq: u32,
    },
}

impl ReplyKind {
    /// Whether this reply proves knowledge of the probe whose sequence number is `isn`
    /// (for an ACK ping, whose sequence and acknowledgement numbers are both `isn`).
    pub fn answers(self, isn: u32) -> bool {
        match self {
            ReplyKind::SynAck { ack } | ReplyKind::Reset { ack } => ack == isn.wrapping_add(1),
            ReplyKind::BareReset { seq } | ReplyKind::Unreachable { seq, .. } => seq == isn,
        }
    }
}

impl Reply {
    /// Reads a network-layer packet; `None` if it cannot answer a SYN or an ACK.
    pub fn parse(packet: &[u8]) -> Option<Reply> {
        match packet.first()? >> 4 {
            4 => Self::parse_v4(packet),
            6 => Self::parse_v6(packet),
            _ => None,
        }
    }

    fn parse_v4(packet: &[u8]) -> Option<Reply> {
        let ip = Ipv4Packet::new_checked(packet).ok()?;
        if ip.frag_offset() != 0 {
            return None;
        }
        let (src, dst) = (IpAddr::V4(ip.src_addr()), IpAddr::V4(ip.dst_addr()));
        match ip.protocol() {
            proto::TCP => tcp_reply(src, dst, ip.payload()),
            proto::ICMP => {
                let icmp = Icmpv4Packet::new_checked(ip.payload()).ok()?;
                let code = icmp.unreachable()?;
                let quoted = Ipv4Packet::new_quoted(icmp.data()).ok()?;
                if quoted.protocol() != proto::TCP {
                    return None;
                }
                let (q_src, q_dst) = (quoted.src_addr().into(), quoted.dst_addr().into());
                quoted_reply(q_src, q_dst, quoted.payload(), code)
            }
            _ => None,
        }
    }

    fn parse_v6(packet: &[u8]) -> Option<Reply> {
        let ip = Ipv6Packet::new_checked(packet).ok()?;
        let (src, dst) = (IpAddr::V6(ip.src_addr()), IpAddr::V6(ip.dst_addr()));
        match ip.next_header() {
            proto::TCP => tcp_reply(src, dst, ip.payload()),
            proto::ICMPV6 => {
                let icmp = Icmpv6Packet::new_checked(ip.payload()).ok()?;
                let code = icmp.unreachable()?;
                let quoted = Ipv6Packet::new_quoted(icmp.data()).ok()?;
                if quoted.next_header() != proto::TCP {
                    return None;
                }
                let (q_src, q_dst) = (quoted.src_addr().into(), quoted.dst_addr().into());
                quoted_reply(q_src, q_dst, quoted.payload(), code)
            }
            _ => None,
        }
    }
}

/// A TCP segment from `src` to `dst`: the reply to a probe from `dst` to `src`.
fn tcp_reply(src: IpAddr, dst: IpAddr, segment: &[u8]) -> Option<Reply> {
    let tcp = TcpPacket::new_checked(segment).ok()?;
    let flags = tcp.flags();
    let kind = if flags.has(TcpFlags::RST | TcpFlags::ACK) {
        ReplyKind::Reset {
            ack: tcp.ack_number(),
        }
    } else if flags.has(TcpFlags::RST) {
        ReplyKind::BareReset {
            seq: tcp.seq_number(),
        }
    } else if flags.has(TcpFlags::SYN | TcpFlags::ACK) && !flags.has(TcpFlags::RST) {
        ReplyKind::SynAck {
            ack: tcp.ack_number(),
        }
    } else {
        return None;
    };
    Some(Reply {
        local: SocketAddr::new(dst, tcp.dst_port()),
        remote: SocketAddr::new(src, tcp.src_port()),
        kind,
    })
}

/// The first 8 bytes of our quoted SYN: ports and sequence number.
fn quoted_reply(src: IpAddr, dst: IpAddr, tcp: &[u8], code: Unreachable) -> Option<Reply> {
    if tcp.len() < 8 {
        return None;
    }
    Some(Reply {
        local: SocketAddr::new(src, be16(tcp, 0)),
        remote: SocketAddr::new(dst, be16(tcp, 2)),
        kind: ReplyKind::Unreachable {
            code,
            seq: be32(tcp, 4),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Reply::parse(&b);
        }

        #[test]
        fn arbitrary_bytes_after_a_valid_v4_header_never_panic(
            proto in prop_oneof![Just(1u8), Just(6u8)],
            rest in proptest::collection::vec(any::<u8>(), 0..120),
        ) {
            let mut b = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
            b.extend_from_slice(&rest);
            let len = b.len() as u16;
            b[2..4].copy_from_slice(&len.to_be_bytes());
            let _ = Reply::parse(&b);
        }
    }

    #[test]
    fn answers_checks_the_number() {
        let k = ReplyKind::SynAck { ack: 0 };
        assert!(k.answers(u32::MAX));
        assert!(!k.answers(0));
        let k = ReplyKind::Unreachable {
            code: Unreachable::Host,
            seq: 5,
        };
        assert!(k.answers(5));
        assert!(!k.answers(4));
        let k = ReplyKind::BareReset { seq: 9 };
        assert!(k.answers(9));
        assert!(!k.answers(8));
    }

    #[test]
    fn a_bare_reset_answering_an_ack_ping_is_read() {
        use crate::syn::SynProbe;
        for (ours, theirs) in [
            ("10.0.0.1:40000", "10.0.0.2:80"),
            ("[fd00::1]:40000", "[fd00::2]:80"),
        ] {
            let (ours, theirs): (SocketAddr, SocketAddr) =
                (ours.parse().unwrap(), theirs.parse().unwrap());
            // The host's reset: our ACK's ports swapped, sequence = our ack, RST alone.
            let rst = SynProbe {
                src: theirs,
                dst: ours,
                seq: 0xdead_beef,
                ts_val: 0,
                ident: 0,
                ack: Some(0),
            };
            let mut b = [0u8; crate::syn::MAX_LEN];
            let n = rst.emit(&mut b).unwrap();
            let at = if ours.is_ipv4() { 20 + 13 } else { 40 + 13 };
            b[at] = TcpFlags::RST;
            let r = Reply::parse(&b[..n]).unwrap();
            assert_eq!((r.local, r.remote), (ours, theirs));
            assert_eq!(r.kind, ReplyKind::BareReset { seq: 0xdead_beef });
            // RST and ACK is the answer to a SYN instead.
            b[at] = TcpFlags::RST | TcpFlags::ACK;
            assert_eq!(
                Reply::parse(&b[..n]).unwrap().kind,
                ReplyKind::Reset { ack: 0 }
            );
        }
    }
}
