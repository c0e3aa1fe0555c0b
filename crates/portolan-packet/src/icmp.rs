//! ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) messages, as far as a scan needs them: the
//! destination-unreachable message, its code, and the packet it quotes.

use std::net::IpAddr;

use crate::{be16, checksum, proto, Error};

mod field {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: usize = 2;
    /// After type, code, checksum and the 4 unused (or MTU) bytes: the quoted packet.
    pub const DATA: usize = 8;
}

/// The length of the ICMP header before the quoted packet.
pub const HEADER_LEN: usize = field::DATA;

/// ICMPv4 destination unreachable.
pub const V4_DEST_UNREACH: u8 = 3;
/// ICMPv6 destination unreachable.
pub const V6_DEST_UNREACH: u8 = 1;

/// What a destination-unreachable code says, in either family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// No route to the network (v4 codes 0, 6, 11; v6 code 0).
    Net,
    /// The host is unreachable (v4 codes 1, 7, 12 and the rest; v6 codes 2, 3).
    Host,
    /// The protocol is not spoken there (v4 code 2).
    Protocol,
    /// The port is unreachable (v4 code 3, v6 code 4).
    Port,
    /// A filter said no (v4 codes 9, 10, 13; v6 codes 1, 5, 6).
    AdminProhibited,
}

impl Unreachable {
    /// What an ICMPv4 destination-unreachable code means.
    pub fn from_v4_code(code: u8) -> Self {
        match code {
            0 | 6 | 11 => Unreachable::Net,
            2 => Unreachable::Protocol,
            3 => Unreachable::Port,
            9 | 10 | 13 => Unreachable::AdminProhibited,
            _ => Unreachable::Host,
        }
    }

    /// What an ICMPv6 destination-unreachable code means.
    pub fn from_v6_code(code: u8) -> Self {
        match code {
            0 => Unreachable::Net,
            1 | 5 | 6 => Unreachable::AdminProhibited,
            4 => Unreachable::Port,
            _ => Unreachable::Host,
        }
    }
}

macro_rules! icmp_view {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        ///
        /// After `new_checked` the 8-byte header is inside the buffer.
        #[derive(Debug, Clone)]
        pub struct $name<T: AsRef<[u8]>> {
            buffer: T,
        }

        impl<T: AsRef<[u8]>> $name<T> {
            /// Wraps a buffer without checking it; accessors may panic on a short buffer.
            pub fn new_unchecked(buffer: T) -> Self {
                $name { buffer }
            }

            /// Wraps a buffer holding at least the 8-byte header.
            pub fn new_checked(buffer: T) -> Result<Self, Error> {
                if buffer.as_ref().len() < HEADER_LEN {
                    return Err(Error::Truncated);
                }
                Ok($name { buffer })
            }

            /// The message type.
            pub fn msg_type(&self) -> u8 {
                self.buffer.as_ref()[field::TYPE]
            }

            /// The message code.
            pub fn msg_code(&self) -> u8 {
                self.buffer.as_ref()[field::CODE]
            }

            /// The checksum as written.
            pub fn checksum(&self) -> u16 {
                be16(self.buffer.as_ref(), field::CHECKSUM)
            }

            /// What follows the header: for an error, the packet that caused it.
            pub fn data(&self) -> &[u8] {
                &self.buffer.as_ref()[field::DATA..]
            }
        }
    };
}

icmp_view!(Icmpv4Packet, "A view of an ICMPv4 message.");
icmp_view!(Icmpv6Packet, "A view of an ICMPv6 message.");

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    /// The code of a destination-unreachable message, `None` for other messages.
    pub fn unreachable(&self) -> Option<Unreachable> {
        (self.msg_type() == V4_DEST_UNREACH).then(|| Unreachable::from_v4_code(self.msg_code()))
    }

    /// Whether the checksum over the whole message is right.
    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(self.buffer.as_ref()) == 0
    }
}

impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    /// The code of a destination-unreachable message, `None` for other messages.
    pub fn unreachable(&self) -> Option<Unreachable> {
        (self.msg_type() == V6_DEST_UNREACH).then(|| Unreachable::from_v6_code(self.msg_code()))
    }

    /// Whether the checksum (with the IPv6 pseudo-header) is right.
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        checksum::verify_upper(src, dst, proto::ICMPV6, self.buffer.as_ref())
    }
}

/// Writes a destination-unreachable message quoting `quoted` into `buf`; returns its
/// length. For tests and simulated peers: it is what a router or a filter sends.
/// `pseudo` is `Some((src, dst))` for ICMPv6, whose checksum covers a pseudo-header.
pub fn emit_unreachable(
    buf: &mut [u8],
    msg_type: u8,
    code: u8,
    quoted: &[u8],
    pseudo: Option<(IpAddr, IpAddr)>,
) -> Result<usize, Error> {
    let len = HEADER_LEN + quoted.len();
    let m = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
    m[..HEADER_LEN].copy_from_slice(&[msg_type, code, 0, 0, 0, 0, 0, 0]);
    m[HEADER_LEN..].copy_from_slice(quoted);
    let sum = match pseudo {
        None => checksum::checksum(m),
        Some((src, dst)) => {
            let acc = checksum::pseudo_header(src, dst, proto::ICMPV6, len as u32)
                .ok_or(Error::Malformed)?;
            checksum::finish(checksum::sum(acc, m))
        }
    };
    m[field::CHECKSUM..field::CHECKSUM + 2].copy_from_slice(&sum.to_be_bytes());
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_map_to_kinds() {
        assert_eq!(Unreachable::from_v4_code(13), Unreachable::AdminProhibited);
        assert_eq!(Unreachable::from_v4_code(1), Unreachable::Host);
        assert_eq!(Unreachable::from_v4_code(0), Unreachable::Net);
        assert_eq!(Unreachable::from_v4_code(3), Unreachable::Port);
        assert_eq!(Unreachable::from_v6_code(1), Unreachable::AdminProhibited);
        assert_eq!(Unreachable::from_v6_code(3), Unreachable::Host);
        assert_eq!(Unreachable::from_v6_code(4), Unreachable::Port);
    }

    #[test]
    fn emitted_messages_verify() {
        let mut b = [0u8; 64];
        let n = emit_unreachable(&mut b, V4_DEST_UNREACH, 13, &[1, 2, 3], None).unwrap();
        let p = Icmpv4Packet::new_checked(&b[..n]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(p.unreachable(), Some(Unreachable::AdminProhibited));
        assert_eq!(p.data(), &[1, 2, 3]);

        let (src, dst) = (
            IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
            IpAddr::from([0xfe80u16, 0, 0, 0, 0, 0, 0, 2]),
        );
        let n = emit_unreachable(&mut b, V6_DEST_UNREACH, 1, &[9; 5], Some((src, dst))).unwrap();
        let p = Icmpv6Packet::new_checked(&b[..n]).unwrap();
        assert!(p.verify_checksum(src, dst));
        assert!(!p.verify_checksum(dst, dst));
        assert_eq!(p.unreachable(), Some(Unreachable::AdminProhibited));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(p) = Icmpv4Packet::new_checked(&b[..]) {
                let _ = (p.unreachable(), p.verify_checksum(), p.data().len(), p.checksum());
            }
            if let Ok(p) = Icmpv6Packet::new_checked(&b[..]) {
                let a = IpAddr::from([0u16; 8]);
                let _ = (p.unreachable(), p.verify_checksum(a, a), p.data().len());
            }
        }
    }
}
