//! Parse and emit tests on packets captured from a real Linux stack (see
//! `fixtures/mod.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on what it did not expect"
)]

mod fixtures;

use std::net::{IpAddr, SocketAddr};

use portolan_packet::ipv4::Ipv4Repr;
use portolan_packet::ipv6::Ipv6Repr;
use portolan_packet::tcp::SynRepr;
use portolan_packet::{
    proto, Icmpv4Packet, Ipv4Packet, Ipv6Packet, Reply, ReplyKind, TcpFlags, TcpPacket, Unreachable,
};

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn ipv4_syn_parses() {
    let ip = Ipv4Packet::new_checked(fixtures::SYN_V4).unwrap();
    assert!(ip.verify_checksum());
    assert_eq!(ip.protocol(), proto::TCP);
    assert_eq!(ip.ttl(), 64);
    assert!(ip.dont_frag());
    let tcp = TcpPacket::new_checked(ip.payload()).unwrap();
    assert_eq!((tcp.src_port(), tcp.dst_port()), (33890, 8080));
    assert_eq!(tcp.flags(), TcpFlags(TcpFlags::SYN));
    let o = tcp.syn_options();
    assert_eq!(o.mss, Some(65495));
    assert!(o.sack_permitted);
    assert_eq!(o.timestamp.map(|t| t.1), Some(0));
    assert_eq!(o.window_scale, Some(10));
}

/// Builds the captured SYN again from its fields: every byte but the TCP checksum
/// (which loopback leaves to an offload) must be the same, and ours must verify.
#[test]
fn ipv4_syn_emits_the_same_bytes() {
    let ip = Ipv4Packet::new_checked(fixtures::SYN_V4).unwrap();
    let tcp = TcpPacket::new_checked(ip.payload()).unwrap();
    let repr = SynRepr::syn(
        tcp.src_port(),
        tcp.dst_port(),
        tcp.seq_number(),
        tcp.window(),
        tcp.syn_options(),
    );
    let mut buf = [0u8; 60];
    Ipv4Repr {
        src: ip.src_addr(),
        dst: ip.dst_addr(),
        protocol: proto::TCP,
        payload_len: repr.len(),
        ttl: ip.ttl(),
        ident: ip.ident(),
    }
    .emit(&mut buf)
    .unwrap();
    let (src, dst) = (IpAddr::V4(ip.src_addr()), IpAddr::V4(ip.dst_addr()));
    repr.emit(&mut buf[20..], src, dst).unwrap();
    assert_eq!(&buf[..20], &fixtures::SYN_V4[..20], "IPv4 header");
    assert_eq!(
        &buf[20..36],
        &fixtures::SYN_V4[20..36],
        "TCP before the checksum"
    );
    assert_eq!(
        &buf[38..],
        &fixtures::SYN_V4[38..],
        "TCP after the checksum"
    );
    assert!(TcpPacket::new_checked(&buf[20..])
        .unwrap()
        .verify_checksum(src, dst));
}

#[test]
fn ipv6_syn_emits_the_same_bytes() {
    let ip = Ipv6Packet::new_checked(fixtures::SYN_V6).unwrap();
    let tcp = TcpPacket::new_checked(ip.payload()).unwrap();
    assert_eq!(tcp.syn_options().mss, Some(65476));
    let repr = SynRepr::syn(
        tcp.src_port(),
        tcp.dst_port(),
        tcp.seq_number(),
        tcp.window(),
        tcp.syn_options(),
    );
    let flow = u32::from_be_bytes([
        0,
        fixtures::SYN_V6[1] & 0x0f,
        fixtures::SYN_V6[2],
        fixtures::SYN_V6[3],
    ]);
    let mut buf = [0u8; 80];
    Ipv6Repr {
        src: ip.src_addr(),
        dst: ip.dst_addr(),
        next_header: proto::TCP,
        payload_len: repr.len(),
        hop_limit: ip.hop_limit(),
        flow_label: flow,
    }
    .emit(&mut buf)
    .unwrap();
    let (src, dst) = (IpAddr::V6(ip.src_addr()), IpAddr::V6(ip.dst_addr()));
    repr.emit(&mut buf[40..], src, dst).unwrap();
    assert_eq!(&buf[..56], &fixtures::SYN_V6[..56]);
    assert_eq!(&buf[58..], &fixtures::SYN_V6[58..]);
    assert!(TcpPacket::new_checked(&buf[40..])
        .unwrap()
        .verify_checksum(src, dst));
}

fn seq_of(syn: &[u8]) -> u32 {
    let payload = if syn[0] >> 4 == 4 {
        Ipv4Packet::new_checked(syn).unwrap().payload().to_vec()
    } else {
        Ipv6Packet::new_checked(syn).unwrap().payload().to_vec()
    };
    TcpPacket::new_checked(&payload[..]).unwrap().seq_number()
}

#[test]
fn replies_are_classified_and_match_their_syn() {
    let cases = [
        (
            fixtures::SYN_ACK_V4,
            fixtures::SYN_V4,
            "127.0.0.1:33890",
            "127.0.0.1:8080",
        ),
        (
            fixtures::SYN_ACK_V6,
            fixtures::SYN_V6,
            "[::1]:52576",
            "[::1]:8080",
        ),
    ];
    for (reply, syn, local, remote) in cases {
        let r = Reply::parse(reply).unwrap();
        assert_eq!((r.local, r.remote), (sa(local), sa(remote)));
        assert!(matches!(r.kind, ReplyKind::SynAck { .. }));
        assert!(r.kind.answers(seq_of(syn)));
        assert!(!r.kind.answers(seq_of(syn).wrapping_add(1)));
    }
    for reply in [fixtures::RST_V4, fixtures::RST_V6] {
        let r = Reply::parse(reply).unwrap();
        assert_eq!(r.remote.port(), 8081);
        assert!(matches!(r.kind, ReplyKind::Reset { .. }));
    }
    let r = Reply::parse(fixtures::RST_V4).unwrap();
    let ReplyKind::Reset { ack } = r.kind else {
        unreachable!()
    };
    assert_eq!(r.local.port(), 52538);
    assert_ne!(ack, 0);
}

#[test]
fn icmp_errors_quote_the_syn() {
    let cases = [
        (
            fixtures::ICMP_ADMIN_V4,
            fixtures::SYN_V4_FILTERED,
            "127.0.0.1:51290",
            "127.0.0.1:2000",
        ),
        (
            fixtures::ICMP_ADMIN_V6,
            fixtures::SYN_V6_FILTERED,
            "[::1]:50866",
            "[::1]:2000",
        ),
    ];
    for (reply, syn, local, remote) in cases {
        let r = Reply::parse(reply).unwrap();
        assert_eq!((r.local, r.remote), (sa(local), sa(remote)));
        assert_eq!(
            r.kind,
            ReplyKind::Unreachable {
                code: Unreachable::AdminProhibited,
                seq: seq_of(syn)
            }
        );
    }
    let ip = Ipv4Packet::new_checked(fixtures::ICMP_ADMIN_V4).unwrap();
    assert!(Icmpv4Packet::new_checked(ip.payload())
        .unwrap()
        .verify_checksum());
}

#[test]
fn our_own_syns_are_not_replies() {
    for syn in [fixtures::SYN_V4, fixtures::SYN_V6] {
        assert_eq!(Reply::parse(syn), None);
    }
}

#[test]
fn every_truncation_of_every_fixture_is_safe() {
    let all = [
        fixtures::SYN_V4,
        fixtures::SYN_ACK_V4,
        fixtures::RST_V4,
        fixtures::ICMP_ADMIN_V4,
        fixtures::SYN_V6,
        fixtures::SYN_ACK_V6,
        fixtures::RST_V6,
        fixtures::ICMP_ADMIN_V6,
    ];
    for p in all {
        for n in 0..p.len() {
            // A cut packet is refused (its length fields no longer fit), never a panic.
            assert_eq!(Reply::parse(&p[..n]), None, "{} bytes of {}", n, p.len());
        }
    }
}
