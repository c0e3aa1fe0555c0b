//! The Internet checksum (RFC 1071) and the TCP pseudo-headers (RFC 793, RFC 8200).

use std::net::IpAddr;

/// Adds `data` to a running one's-complement sum (not yet folded).
pub fn sum(mut acc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

/// Folds a running sum and complements it: the value to put in a checksum field.
pub fn finish(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The checksum of `data` alone (IPv4 header, ICMPv4).
pub fn checksum(data: &[u8]) -> u16 {
    finish(sum(0, data))
}

/// The running sum of the pseudo-header for an upper-layer packet of `len` bytes.
/// Mixed address families give `None`.
pub fn pseudo_header(src: IpAddr, dst: IpAddr, protocol: u8, len: u32) -> Option<u32> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let acc = sum(sum(0, &s.octets()), &d.octets());
            Some(acc + u32::from(protocol) + (len & 0xffff))
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let acc = sum(sum(0, &s.octets()), &d.octets());
            Some(acc + (len >> 16) + (len & 0xffff) + u32::from(protocol))
        }
        _ => None,
    }
}

/// Whether an upper-layer packet (checksum field included) sums to zero with its
/// pseudo-header: the receiver's check.
pub fn verify_upper(src: IpAddr, dst: IpAddr, protocol: u8, packet: &[u8]) -> bool {
    pseudo_header(src, dst, protocol, packet.len() as u32)
        .is_some_and(|acc| finish(sum(acc, packet)) == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: the sum of these words is 0xddf2, complemented 0x220d.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(checksum(&[0xab]), checksum(&[0xab, 0x00]));
    }

    #[test]
    fn mixed_families_have_no_pseudo_header() {
        let v4 = IpAddr::from([127, 0, 0, 1]);
        let v6 = IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(pseudo_header(v4, v6, 6, 20), None);
    }
}
