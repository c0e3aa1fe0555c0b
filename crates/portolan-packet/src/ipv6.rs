//! The IPv6 fixed header (RFC 8200): a checked view and a builder.

use std::net::Ipv6Addr;

use crate::{be16, Error};

mod field {
    use std::ops::Range;
    pub const VER_TC_FLOW: Range<usize> = 0..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const NXT_HDR: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: Range<usize> = 8..24;
    pub const DST: Range<usize> = 24..40;
}

/// The length of the fixed header.
pub const HEADER_LEN: usize = 40;

/// A view of an IPv6 packet.
///
/// After [`Ipv6Packet::new_checked`] the fixed header and the payload length it
/// announces are inside the buffer; [`Ipv6Packet::new_quoted`] allows a cut payload.
#[derive(Debug, Clone)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wraps a buffer without checking it; accessors may panic on a short buffer.
    pub fn new_unchecked(buffer: T) -> Self {
        Ipv6Packet { buffer }
    }

    /// Wraps a buffer whose header and announced payload are complete.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let p = Self::new_quoted(buffer)?;
        if HEADER_LEN + usize::from(p.payload_len()) > p.buffer.as_ref().len() {
            return Err(Error::Truncated);
        }
        Ok(p)
    }

    /// Wraps a buffer whose fixed header is complete; the payload may be cut short.
    pub fn new_quoted(buffer: T) -> Result<Self, Error> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let p = Ipv6Packet { buffer };
        if p.version() != 6 {
            return Err(Error::Malformed);
        }
        Ok(p)
    }

    /// The buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The version field (6 for a valid packet).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TC_FLOW.start] >> 4
    }

    /// The payload length field, in bytes.
    pub fn payload_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH.start)
    }

    /// The next header's protocol number ([`crate::proto`]).
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NXT_HDR]
    }

    /// The hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// The source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        addr(&self.buffer.as_ref()[field::SRC])
    }

    /// The destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        addr(&self.buffer.as_ref()[field::DST])
    }

    /// The payload as announced, or to the end of the buffer when that comes first.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = (HEADER_LEN + usize::from(self.payload_len())).min(b.len());
        &b[HEADER_LEN..end]
    }
}

fn addr(b: &[u8]) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(b);
    Ipv6Addr::from(o)
}

/// What to write in an IPv6 fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Repr {
    /// The source address.
    pub src: Ipv6Addr,
    /// The destination address.
    pub dst: Ipv6Addr,
    /// The payload's protocol number.
    pub next_header: u8,
    /// The payload's length in bytes.
    pub payload_len: usize,
    /// The hop limit.
    pub hop_limit: u8,
    /// The 20-bit flow label (Linux sets a hash of the flow).
    pub flow_label: u32,
}

impl Ipv6Repr {
    /// Writes the fixed header into the first 40 bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), Error> {
        let len = u16::try_from(self.payload_len).map_err(|_| Error::BufferTooSmall)?;
        let h = buf.get_mut(..HEADER_LEN).ok_or(Error::BufferTooSmall)?;
        let first = (6u32 << 28) | (self.flow_label & 0x000f_ffff);
        h[field::VER_TC_FLOW].copy_from_slice(&first.to_be_bytes());
        h[field::LENGTH].copy_from_slice(&len.to_be_bytes());
        h[field::NXT_HDR] = self.next_header;
        h[field::HOP_LIMIT] = self.hop_limit;
        h[field::SRC].copy_from_slice(&self.src.octets());
        h[field::DST].copy_from_slice(&self.dst.octets());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emit_then_parse() {
        let repr = Ipv6Repr {
            src: "2001:db8:1::1".parse().unwrap(),
            dst: "2001:db8:2::1".parse().unwrap(),
            next_header: 6,
            payload_len: 40,
            hop_limit: 64,
            flow_label: 0xabcde,
        };
        let mut buf = [0u8; 80];
        repr.emit(&mut buf).unwrap();
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.src_addr(), repr.src);
        assert_eq!(p.dst_addr(), repr.dst);
        assert_eq!(p.next_header(), 6);
        assert_eq!(p.hop_limit(), 64);
        assert_eq!(p.payload().len(), 40);
        assert_eq!(&buf[1..4], &[0x0a, 0xbc, 0xde]);
    }

    #[test]
    fn truncated_payload_is_refused_unless_quoted() {
        let mut b = [0u8; 48];
        b[0] = 0x60;
        b[5] = 40;
        assert_eq!(
            Ipv6Packet::new_checked(&b[..]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(Ipv6Packet::new_quoted(&b[..]).unwrap().payload().len(), 8);
        b[0] = 0x40;
        assert_eq!(
            Ipv6Packet::new_quoted(&b[..]).unwrap_err(),
            Error::Malformed
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..120)) {
            for p in [Ipv6Packet::new_checked(&b[..]), Ipv6Packet::new_quoted(&b[..])]
                .into_iter()
                .flatten()
            {
                let _ = (p.src_addr(), p.dst_addr(), p.next_header(), p.hop_limit());
                let _ = p.payload().len();
            }
        }
    }
}
