//! The IPv4 header (RFC 791): a checked view and a builder.

use std::net::Ipv4Addr;

use crate::{be16, checksum, Error};

mod field {
    use std::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    pub const FLG_OFF: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC: Range<usize> = 12..16;
    pub const DST: Range<usize> = 16..20;
}

/// The length of a header without options.
pub const HEADER_LEN: usize = 20;

/// A view of an IPv4 packet.
///
/// After [`Ipv4Packet::new_checked`] the header, and the payload the total length
/// announces, are inside the buffer. [`Ipv4Packet::new_quoted`] accepts the truncated
/// copy an ICMP error quotes (header complete, payload cut short).
#[derive(Debug, Clone)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps a buffer without checking it; accessors may panic on a short buffer.
    pub fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    /// Wraps a buffer whose header and announced payload are complete.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let p = Self::new_quoted(buffer)?;
        let len = p.buffer.as_ref().len();
        if usize::from(p.total_len()) > len {
            return Err(Error::Truncated);
        }
        if usize::from(p.total_len()) < p.header_len() {
            return Err(Error::Malformed);
        }
        Ok(p)
    }

    /// Wraps a buffer whose header is complete; the payload may be cut short (an ICMP
    /// error quotes only the first 8 bytes of it).
    pub fn new_quoted(buffer: T) -> Result<Self, Error> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let p = Ipv4Packet { buffer };
        if p.version() != 4 || p.header_len() < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if p.header_len() > p.buffer.as_ref().len() {
            return Err(Error::Truncated);
        }
        Ok(p)
    }

    /// The buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The version field (4 for a valid packet).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// The header length in bytes (options included).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// The total length field: header and payload, in bytes.
    pub fn total_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH.start)
    }

    /// The identification field.
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::IDENT.start)
    }

    /// The don't-fragment flag.
    pub fn dont_frag(&self) -> bool {
        self.buffer.as_ref()[field::FLG_OFF.start] & 0x40 != 0
    }

    /// The fragment offset in 8-byte units; non-zero means this is not a first fragment.
    pub fn frag_offset(&self) -> u16 {
        be16(self.buffer.as_ref(), field::FLG_OFF.start) & 0x1fff
    }

    /// The time to live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// The protocol number of the payload ([`crate::proto`]).
    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[field::PROTOCOL]
    }

    /// The header checksum as written.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM.start)
    }

    /// The source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        let b = self.buffer.as_ref();
        Ipv4Addr::new(b[12], b[13], b[14], b[15])
    }

    /// The destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = self.buffer.as_ref();
        Ipv4Addr::new(b[16], b[17], b[18], b[19])
    }

    /// Whether the header checksum is right.
    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(&self.buffer.as_ref()[..self.header_len()]) == 0
    }

    /// The payload: from the end of the header to the total length, or to the end of the
    /// buffer when that comes first (a quoted packet).
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = usize::from(self.total_len())
            .min(b.len())
            .max(self.header_len());
        &b[self.header_len()..end]
    }
}

/// What to write in an IPv4 header (no options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Repr {
    /// The source address.
    pub src: Ipv4Addr,
    /// The destination address.
    pub dst: Ipv4Addr,
    /// The payload's protocol number.
    pub protocol: u8,
    /// The payload's length in bytes.
    pub payload_len: usize,
    /// The time to live.
    pub ttl: u8,
    /// The identification field.
    pub ident: u16,
}

impl Ipv4Repr {
    /// Writes the header (with its checksum) into the first 20 bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), Error> {
        let total = HEADER_LEN + self.payload_len;
        let total = u16::try_from(total).map_err(|_| Error::BufferTooSmall)?;
        let h = buf.get_mut(..HEADER_LEN).ok_or(Error::BufferTooSmall)?;
        h[field::VER_IHL] = 0x45;
        h[field::TOS] = 0;
        h[field::LENGTH].copy_from_slice(&total.to_be_bytes());
        h[field::IDENT].copy_from_slice(&self.ident.to_be_bytes());
        // Don't fragment, as Linux sets on TCP.
        h[field::FLG_OFF].copy_from_slice(&0x4000u16.to_be_bytes());
        h[field::TTL] = self.ttl;
        h[field::PROTOCOL] = self.protocol;
        h[field::CHECKSUM].copy_from_slice(&[0, 0]);
        h[field::SRC].copy_from_slice(&self.src.octets());
        h[field::DST].copy_from_slice(&self.dst.octets());
        let sum = checksum::checksum(h);
        h[field::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emit_then_parse() {
        let repr = Ipv4Repr {
            src: Ipv4Addr::new(198, 19, 0, 1),
            dst: Ipv4Addr::new(198, 18, 0, 1),
            protocol: 6,
            payload_len: 40,
            ttl: 64,
            ident: 0x1234,
        };
        let mut buf = [0u8; 60];
        repr.emit(&mut buf).unwrap();
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(p.src_addr(), repr.src);
        assert_eq!(p.dst_addr(), repr.dst);
        assert_eq!(p.protocol(), 6);
        assert_eq!(p.total_len(), 60);
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.ident(), 0x1234);
        assert!(p.dont_frag());
        assert_eq!(p.payload().len(), 40);
    }

    #[test]
    fn short_and_bad_headers_are_refused() {
        assert_eq!(
            Ipv4Packet::new_checked(&[0x45u8; 19][..]).unwrap_err(),
            Error::Truncated
        );
        let mut b = [0u8; 20];
        b[0] = 0x65;
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            Error::Malformed
        );
        b[0] = 0x44; // header length 16 < 20
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            Error::Malformed
        );
        b[0] = 0x46; // header length 24 > 20 bytes
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            Error::Truncated
        );
        b[0] = 0x45;
        b[3] = 40; // total length past the buffer
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            Error::Truncated
        );
        assert!(Ipv4Packet::new_quoted(&b[..]).is_ok());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..100)) {
            for p in [Ipv4Packet::new_checked(&b[..]), Ipv4Packet::new_quoted(&b[..])]
                .into_iter()
                .flatten()
            {
                let _ = (p.src_addr(), p.dst_addr(), p.protocol(), p.ident(), p.ttl());
                let _ = (p.verify_checksum(), p.payload().len(), p.frag_offset());
            }
        }
    }
}
