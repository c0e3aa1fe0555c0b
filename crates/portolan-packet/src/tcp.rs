//! The TCP header (RFC 9293) and the options a SYN carries: a checked view and a
//! builder for the segments a scan sends (a SYN, or a bare ACK for host discovery).

use std::net::IpAddr;

use crate::{be16, be32, checksum, proto, Error};

mod field {
    use std::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const SEQ: Range<usize> = 4..8;
    pub const ACK: Range<usize> = 8..12;
    pub const OFFSET: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: Range<usize> = 14..16;
    pub const CHECKSUM: Range<usize> = 16..18;
    pub const URGENT: Range<usize> = 18..20;
    pub const OPTIONS: usize = 20;

    pub const OPT_END: u8 = 0;
    pub const OPT_NOP: u8 = 1;
    pub const OPT_MSS: u8 = 2;
    pub const OPT_WS: u8 = 3;
    pub const OPT_SACK_PERM: u8 = 4;
    pub const OPT_TS: u8 = 8;
}

/// The length of a header without options.
pub const HEADER_LEN: usize = 20;

/// The TCP flags byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No more data from the sender.
    pub const FIN: u8 = 0x01;
    /// Synchronise sequence numbers: the start of a handshake.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push.
    pub const PSH: u8 = 0x08;
    /// The acknowledgement number is valid.
    pub const ACK: u8 = 0x10;

    /// Whether every bit of `flag` is set.
    pub fn has(self, flag: u8) -> bool {
        self.0 & flag == flag
    }
}

/// A view of a TCP segment. After [`TcpPacket::new_checked`] the fixed header and the
/// options the data offset announces are inside the buffer.
#[derive(Debug, Clone)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wraps a buffer without checking it; accessors may panic on a short buffer.
    pub fn new_unchecked(buffer: T) -> Self {
        TcpPacket { buffer }
    }

    /// Wraps a buffer holding at least the whole header.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let p = TcpPacket { buffer };
        if p.header_len() < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if p.header_len() > p.buffer.as_ref().len() {
            return Err(Error::Truncated);
        }
        Ok(p)
    }

    /// The source port.
    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SRC_PORT.start)
    }

    /// The destination port.
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::DST_PORT.start)
    }

    /// The sequence number.
    pub fn seq_number(&self) -> u32 {
        be32(self.buffer.as_ref(), field::SEQ.start)
    }

    /// The acknowledgement number.
    pub fn ack_number(&self) -> u32 {
        be32(self.buffer.as_ref(), field::ACK.start)
    }

    /// The header length in bytes (options included).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::OFFSET] >> 4) * 4
    }

    /// The flags byte.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.buffer.as_ref()[field::FLAGS])
    }

    /// The window size.
    pub fn window(&self) -> u16 {
        be16(self.buffer.as_ref(), field::WINDOW.start)
    }

    /// The checksum as written.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM.start)
    }

    /// The option bytes.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[field::OPTIONS..self.header_len()]
    }

    /// The options this segment carries that a SYN may carry; unknown and malformed
    /// options end the walk (what follows them cannot be trusted).
    pub fn syn_options(&self) -> SynOptions {
        parse_options(self.options())
    }

    /// Whether the checksum is right for a segment between `src` and `dst` (the whole
    /// buffer is the segment).
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        checksum::verify_upper(src, dst, proto::TCP, self.buffer.as_ref())
    }
}

/// The options of a SYN: what Linux sends is [`SynOptions::linux`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SynOptions {
    /// The maximum segment size option.
    pub mss: Option<u16>,
    /// The SACK-permitted option.
    pub sack_permitted: bool,
    /// `(TSval, TSecr)`.
    pub timestamp: Option<(u32, u32)>,
    /// The window scale option's shift.
    pub window_scale: Option<u8>,
}

impl SynOptions {
    /// The options Linux puts on a SYN: MSS, SACK permitted, timestamps, window scale 7,
    /// in Linux's order and padding (20 bytes).
    pub fn linux(mss: u16, ts_val: u32) -> Self {
        SynOptions {
            mss: Some(mss),
            sack_permitted: true,
            timestamp: Some((ts_val, 0)),
            window_scale: Some(7),
        }
    }

    /// The option bytes' length, padded to a multiple of 4.
    pub fn len(&self) -> usize {
        let mut n = 0;
        if self.mss.is_some() {
            n += 4;
        }
        // Timestamps take 12 bytes with either SACK-permitted or two NOPs before them;
        // SACK-permitted alone takes 4 with two NOPs.
        n += match (self.sack_permitted, self.timestamp.is_some()) {
            (_, true) => 12,
            (true, false) => 4,
            (false, false) => 0,
        };
        if self.window_scale.is_some() {
            n += 4; // NOP window-scale
        }
        n
    }

    /// Whether no option is set.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the options in Linux's layout; `out` must be [`SynOptions::len`] long.
    fn emit(&self, out: &mut [u8]) {
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            out[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        if let Some(mss) = self.mss {
            let [a, b] = mss.to_be_bytes();
            put(&[field::OPT_MSS, 4, a, b]);
        }
        match (self.sack_permitted, self.timestamp) {
            (true, Some(_)) => put(&[field::OPT_SACK_PERM, 2]),
            (true, None) => put(&[field::OPT_NOP, field::OPT_NOP, field::OPT_SACK_PERM, 2]),
            (false, Some(_)) => put(&[field::OPT_NOP, field::OPT_NOP]),
            (false, None) => {}
        }
        if let Some((val, ecr)) = self.timestamp {
            put(&[field::OPT_TS, 10]);
            put(&val.to_be_bytes());
            put(&ecr.to_be_bytes());
        }
        if let Some(ws) = self.window_scale {
            put(&[field::OPT_NOP, field::OPT_WS, 3, ws]);
        }
    }
}

fn parse_options(mut b: &[u8]) -> SynOptions {
    let mut o = SynOptions::default();
    while let Some(&kind) = b.first() {
        match kind {
            field::OPT_END => break,
            field::OPT_NOP => {
                b = &b[1..];
                continue;
            }
            _ => {}
        }
        let Some(&len) = b.get(1) else { break };
        let len = usize::from(len);
        if len < 2 || len > b.len() {
            break;
        }
        let body = &b[2..len];
        match (kind, body.len()) {
            (field::OPT_MSS, 2) => o.mss = Some(be16(body, 0)),
            (field::OPT_WS, 1) => o.window_scale = Some(body[0]),
            (field::OPT_SACK_PERM, 0) => o.sack_permitted = true,
            (field::OPT_TS, 8) => o.timestamp = Some((be32(body, 0), be32(body, 4))),
            _ => {}
        }
        b = &b[len..];
    }
    o
}

/// What to write in a segment without data: a SYN, or a bare ACK (whose answer,
/// from a host with no such connection, is a reset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynRepr {
    /// The source port.
    pub src_port: u16,
    /// The destination port.
    pub dst_port: u16,
    /// The sequence number.
    pub seq: u32,
    /// The acknowledgement number (written only when `flags` has ACK; zero otherwise).
    pub ack: u32,
    /// The flags byte ([`TcpFlags::SYN`] for a SYN).
    pub flags: TcpFlags,
    /// The window size.
    pub window: u16,
    /// The options.
    pub options: SynOptions,
}

impl SynRepr {
    /// A SYN: no acknowledgement number.
    pub fn syn(src_port: u16, dst_port: u16, seq: u32, window: u16, options: SynOptions) -> Self {
        SynRepr {
            src_port,
            dst_port,
            seq,
            ack: 0,
            flags: TcpFlags(TcpFlags::SYN),
            window,
            options,
        }
    }

    /// The segment's length (header and options; it carries no data).
    pub fn len(&self) -> usize {
        HEADER_LEN + self.options.len()
    }

    /// Never: a segment has at least its header.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the segment into `buf[..self.len()]` with its checksum for `src` → `dst`.
    pub fn emit(&self, buf: &mut [u8], src: IpAddr, dst: IpAddr) -> Result<(), Error> {
        let len = self.len();
        let s = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        s[field::SRC_PORT].copy_from_slice(&self.src_port.to_be_bytes());
        s[field::DST_PORT].copy_from_slice(&self.dst_port.to_be_bytes());
        s[field::SEQ].copy_from_slice(&self.seq.to_be_bytes());
        let ack = if self.flags.has(TcpFlags::ACK) {
            self.ack
        } else {
            0
        };
        s[field::ACK].copy_from_slice(&ack.to_be_bytes());
        s[field::OFFSET] = ((len / 4) as u8) << 4;
        s[field::FLAGS] = self.flags.0;
        s[field::WINDOW].copy_from_slice(&self.window.to_be_bytes());
        s[field::CHECKSUM].copy_from_slice(&[0; 2]);
        s[field::URGENT].copy_from_slice(&[0; 2]);
        self.options.emit(&mut s[field::OPTIONS..]);
        let acc =
            checksum::pseudo_header(src, dst, proto::TCP, len as u32).ok_or(Error::Malformed)?;
        let sum = checksum::finish(checksum::sum(acc, s));
        s[field::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn linux_options_layout() {
        let mut b = [0u8; 20];
        SynOptions::linux(1460, 0x0102_0304).emit(&mut b);
        assert_eq!(
            b,
            [2, 4, 5, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7]
        );
        assert_eq!(parse_options(&b), SynOptions::linux(1460, 0x0102_0304));
    }

    #[test]
    fn every_option_combination_round_trips() {
        for bits in 0u8..16 {
            let o = SynOptions {
                mss: (bits & 1 != 0).then_some(536),
                sack_permitted: bits & 2 != 0,
                timestamp: (bits & 4 != 0).then_some((7, 9)),
                window_scale: (bits & 8 != 0).then_some(14),
            };
            assert_eq!(o.len() % 4, 0);
            let mut b = vec![0u8; o.len()];
            o.emit(&mut b);
            assert_eq!(parse_options(&b), o, "combination {bits:04b}");
        }
    }

    #[test]
    fn bad_offsets_are_refused() {
        let mut b = [0u8; 20];
        b[12] = 0x40;
        assert_eq!(
            TcpPacket::new_checked(&b[..]).unwrap_err(),
            Error::Malformed
        );
        b[12] = 0x60;
        assert_eq!(
            TcpPacket::new_checked(&b[..]).unwrap_err(),
            Error::Truncated
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(p) = TcpPacket::new_checked(&b[..]) {
                let _ = (p.src_port(), p.dst_port(), p.seq_number(), p.ack_number());
                let _ = (p.flags(), p.window(), p.syn_options());
                let a = IpAddr::from([127, 0, 0, 1]);
                let _ = p.verify_checksum(a, a);
            }
        }

        #[test]
        fn syn_round_trips(sport: u16, dport: u16, seq: u32, ts: u32, mss: u16) {
            let repr = SynRepr::syn(sport, dport, seq, 64240, SynOptions::linux(mss, ts));
            let (src, dst) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
            let mut b = [0u8; 60];
            repr.emit(&mut b, src, dst).unwrap();
            let p = TcpPacket::new_checked(&b[..repr.len()]).unwrap();
            prop_assert!(p.verify_checksum(src, dst));
            prop_assert_eq!(p.src_port(), sport);
            prop_assert_eq!(p.dst_port(), dport);
            prop_assert_eq!(p.seq_number(), seq);
            prop_assert_eq!(p.flags(), TcpFlags(TcpFlags::SYN));
            prop_assert_eq!(p.syn_options(), repr.options);
            prop_assert_eq!(p.ack_number(), 0);
        }

        #[test]
        fn any_flags_round_trip(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, window: u16) {
            let repr = SynRepr {
                src_port: sport,
                dst_port: dport,
                seq,
                ack,
                flags: TcpFlags(flags),
                window,
                options: SynOptions::default(),
            };
            let (src, dst) = (IpAddr::from([0xfd00u16, 0, 0, 0, 0, 0, 0, 1]), IpAddr::from([0xfd00u16, 0, 0, 0, 0, 0, 0, 2]));
            let mut b = [0u8; 20];
            repr.emit(&mut b, src, dst).unwrap();
            let p = TcpPacket::new_checked(&b[..]).unwrap();
            prop_assert!(p.verify_checksum(src, dst));
            prop_assert_eq!(p.header_len(), HEADER_LEN);
            prop_assert_eq!(p.flags(), TcpFlags(flags));
            prop_assert_eq!(p.seq_number(), seq);
            prop_assert_eq!(p.window(), window);
            // The acknowledgement number is only sent with the flag that makes it valid.
            let want = if flags & TcpFlags::ACK != 0 { ack } else { 0 };
            prop_assert_eq!(p.ack_number(), want);
            prop_assert_eq!(p.syn_options(), SynOptions::default());
        }
    }

    #[test]
    fn a_bare_ack_is_a_plain_header() {
        let repr = SynRepr {
            src_port: 40000,
            dst_port: 80,
            seq: 0x0102_0304,
            ack: 0x0a0b_0c0d,
            flags: TcpFlags(TcpFlags::ACK),
            window: 1024,
            options: SynOptions::default(),
        };
        assert_eq!(repr.len(), HEADER_LEN);
        let mut b = [0u8; 20];
        let a = IpAddr::from([10, 0, 0, 1]);
        repr.emit(&mut b, a, a).unwrap();
        assert_eq!(
            &b[..16],
            &[0x9c, 0x40, 0, 80, 1, 2, 3, 4, 10, 11, 12, 13, 0x50, 0x10, 4, 0]
        );
        assert_eq!(repr.emit(&mut [0u8; 19], a, a), Err(Error::BufferTooSmall));
    }
}
