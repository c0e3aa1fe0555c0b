//! Host discovery's parsers of answers from the network: ICMP echo and timestamp
//! replies, ARP replies and IPv6 neighbour advertisements. Never a panic; a reply
//! that parses carries exactly the identifier and sequence number of its bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portolan_packet::{echo, neighbor};

fuzz_target!(|data: &[u8]| {
    for v6 in [false, true] {
        if let Some(r) = echo::parse_reply(data, v6) {
            assert_eq!(r.ident, u16::from_be_bytes([data[4], data[5]]));
            assert_eq!(r.seq, u16::from_be_bytes([data[6], data[7]]));
        }
    }
    let _ = neighbor::arp_reply_sender(data);
    let _ = neighbor::neighbor_advert_target(data);
});
