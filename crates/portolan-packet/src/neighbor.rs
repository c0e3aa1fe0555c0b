//! ARP replies (RFC 826) and IPv6 neighbour advertisements (RFC 4861), as far as
//! host discovery needs them: which address answered.
//!
//! Host discovery does not build these requests: the kernel resolves a directly
//! connected address itself when anything is sent to it, and an `AF_PACKET`
//! socket sees the answer. So only the answers are parsed here, from the bytes an
//! `AF_PACKET`/`SOCK_DGRAM` socket gives (no link header).

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::{be16, proto, Ipv6Packet};

mod field {
    pub const HTYPE: usize = 0;
    pub const PTYPE: usize = 2;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: usize = 6;
    pub const SPA: usize = 14;
    /// The end of an Ethernet/IPv4 ARP message.
    pub const END: usize = 28;
    /// ICMPv6 type, and the target address of a neighbour advertisement.
    pub const ICMP6_TYPE: usize = 0;
    pub const NA_TARGET: usize = 8;
    pub const NA_END: usize = 24;
}

/// ICMPv6 neighbour advertisement.
pub const NEIGHBOR_ADVERT: u8 = 136;

/// The sender of an Ethernet/IPv4 ARP reply; `None` for anything else.
pub fn arp_reply_sender(msg: &[u8]) -> Option<Ipv4Addr> {
    let m = msg.get(..field::END)?;
    let ethernet_ipv4 = be16(m, field::HTYPE) == 1
        && be16(m, field::PTYPE) == 0x0800
        && m[field::HLEN] == 6
        && m[field::PLEN] == 4;
    if !ethernet_ipv4 || be16(m, field::OPER) != 2 {
        return None;
    }
    let spa: [u8; 4] = m[field::SPA..field::SPA + 4].try_into().ok()?;
    Some(Ipv4Addr::from(spa))
}

/// The target of an IPv6 neighbour advertisement (the address that answers for
/// itself), from a whole IPv6 packet; `None` for anything else. As RFC 4861 asks,
/// only packets with a hop limit of 255 (never forwarded) count.
pub fn neighbor_advert_target(packet: &[u8]) -> Option<Ipv6Addr> {
    let ip = Ipv6Packet::new_checked(packet).ok()?;
    if ip.next_header() != proto::ICMPV6 || ip.hop_limit() != 255 {
        return None;
    }
    let icmp = ip.payload();
    if icmp.len() < field::NA_END || icmp[field::ICMP6_TYPE] != NEIGHBOR_ADVERT {
        return None;
    }
    let target: [u8; 16] = icmp[field::NA_TARGET..field::NA_END].try_into().ok()?;
    Some(Ipv6Addr::from(target))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An Ethernet/IPv4 ARP reply laid out as RFC 826 gives it (what an
    /// `AF_PACKET`/`SOCK_DGRAM` socket reads): 10.77.1.2 is at 02:00:00:00:00:02,
    /// told to 10.77.1.1 at 02:00:00:00:00:01.
    const ARP_REPLY: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 10, 77,
        1, 2, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 77, 1, 1,
    ];

    #[test]
    fn an_arp_reply_names_its_sender_and_a_request_does_not_count() {
        assert_eq!(
            arp_reply_sender(&ARP_REPLY),
            Some(Ipv4Addr::new(10, 77, 1, 2))
        );
        let mut request = ARP_REPLY;
        request[7] = 1;
        assert_eq!(arp_reply_sender(&request), None);
        assert_eq!(arp_reply_sender(&ARP_REPLY[..27]), None);
    }

    fn advert(hop_limit: u8, icmp_type: u8) -> Vec<u8> {
        let target: Ipv6Addr = "2001:db8::2".parse().unwrap();
        let mut p = vec![0x60, 0, 0, 0, 0, 32, proto::ICMPV6, hop_limit];
        p.extend_from_slice(&target.octets()); // source
        p.extend_from_slice(&Ipv6Addr::LOCALHOST.octets()); // destination
        p.extend_from_slice(&[icmp_type, 0, 0, 0, 0x60, 0, 0, 0]);
        p.extend_from_slice(&target.octets());
        p.extend_from_slice(&[2, 1, 2, 0, 0, 0, 0, 2]); // target link-layer option
        p
    }

    #[test]
    fn a_neighbor_advertisement_names_its_target() {
        let want: Ipv6Addr = "2001:db8::2".parse().unwrap();
        assert_eq!(neighbor_advert_target(&advert(255, 136)), Some(want));
        assert_eq!(neighbor_advert_target(&advert(64, 136)), None, "forwarded");
        assert_eq!(
            neighbor_advert_target(&advert(255, 135)),
            None,
            "a solicitation"
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..96)) {
            let _ = arp_reply_sender(&b);
            let _ = neighbor_advert_target(&b);
        }
    }
}
