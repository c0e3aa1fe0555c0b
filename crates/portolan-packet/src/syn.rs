//! A whole SYN packet, IPv4 or IPv6, as Linux would send it, or a bare ACK.
//!
//! The header fields copy what Linux puts on an active open (TTL/hop limit 64, don't
//! fragment, window 64240 with MSS 1460 on IPv4 or 64800 with MSS 1440 on IPv6, and
//! the options MSS, SACK permitted, timestamps, window scale 7), so a SYN from the scan
//! looks like the first packet of an ordinary connection.
//!
//! The ACK ([`SynProbe::ack`] set) is host discovery's "ACK ping": a segment of a
//! connection the host does not have, which an up host answers with a reset whose
//! sequence number is our acknowledgement number (RFC 9293, 3.10.7.1), open port or
//! not. Stateless filters that drop SYNs to block new connections let it through.
//! It carries no options (no connection agreed on any), as nmap's does.

use std::net::{IpAddr, SocketAddr};

use crate::ipv4::{self, Ipv4Repr};
use crate::ipv6::{self, Ipv6Repr};
use crate::tcp::{SynOptions, SynRepr, TcpFlags};
use crate::{proto, Error};

/// The longest packet [`SynProbe::emit`] writes (IPv6 header and a 40-byte segment).
pub const MAX_LEN: usize = ipv6::HEADER_LEN + 60;

/// One SYN to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynProbe {
    /// Our address and source port.
    pub src: SocketAddr,
    /// The port probed.
    pub dst: SocketAddr,
    /// The initial sequence number (the scan's proof that a reply answers this SYN).
    pub seq: u32,
    /// The timestamp option's value (Linux: milliseconds plus a per-flow offset).
    pub ts_val: u32,
    /// The IPv4 identification, or the IPv6 flow label (20 bits).
    pub ident: u32,
    /// `Some(n)`: send a bare ACK acknowledging `n` (no options, `ts_val` unused)
    /// instead of a SYN; the reset answering it carries `n` as its sequence number.
    pub ack: Option<u32>,
}

impl SynProbe {
    /// Writes the IP packet into `buf` and returns its length. Mixed address families
    /// are [`Error::Malformed`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let (src_ip, dst_ip) = (self.src.ip(), self.dst.ip());
        let (header, mss, window) = match (src_ip, dst_ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) => (ipv4::HEADER_LEN, 1460, 64240),
            (IpAddr::V6(_), IpAddr::V6(_)) => (ipv6::HEADER_LEN, 1440, 64800),
            _ => return Err(Error::Malformed),
        };
        let tcp = match self.ack {
            None => SynRepr::syn(
                self.src.port(),
                self.dst.port(),
                self.seq,
                window,
                SynOptions::linux(mss, self.ts_val),
            ),
            Some(ack) => SynRepr {
                src_port: self.src.port(),
                dst_port: self.dst.port(),
                seq: self.seq,
                ack,
                flags: TcpFlags(TcpFlags::ACK),
                window,
                options: SynOptions::default(),
            },
        };
        let len = header + tcp.len();
        if buf.len() < len {
            return Err(Error::BufferTooSmall);
        }
        tcp.emit(&mut buf[header..], src_ip, dst_ip)?;
        match (src_ip, dst_ip) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => Ipv4Repr {
                src,
                dst,
                protocol: proto::TCP,
                payload_len: tcp.len(),
                ttl: 64,
                ident: self.ident as u16,
            }
            .emit(buf)?,
            (IpAddr::V6(src), IpAddr::V6(dst)) => Ipv6Repr {
                src,
                dst,
                next_header: proto::TCP,
                payload_len: tcp.len(),
                hop_limit: 64,
                flow_label: self.ident,
            }
            .emit(buf)?,
            _ => return Err(Error::Malformed),
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ipv4Packet, Ipv6Packet, TcpPacket};
    use proptest::prelude::*;

    fn check(probe: SynProbe) -> Result<(), TestCaseError> {
        let mut buf = [0u8; MAX_LEN];
        let n = probe.emit(&mut buf).unwrap();
        let (payload, src, dst) = if buf[0] >> 4 == 4 {
            let ip = Ipv4Packet::new_checked(&buf[..n]).unwrap();
            prop_assert!(ip.verify_checksum());
            (
                ip.payload().to_vec(),
                ip.src_addr().into(),
                ip.dst_addr().into(),
            )
        } else {
            let ip = Ipv6Packet::new_checked(&buf[..n]).unwrap();
            (
                ip.payload().to_vec(),
                ip.src_addr().into(),
                ip.dst_addr().into(),
            )
        };
        prop_assert_eq!(SocketAddr::new(src, probe.src.port()), probe.src);
        prop_assert_eq!(SocketAddr::new(dst, probe.dst.port()), probe.dst);
        let tcp = TcpPacket::new_checked(&payload[..]).unwrap();
        prop_assert!(tcp.verify_checksum(src, dst));
        prop_assert_eq!(tcp.seq_number(), probe.seq);
        match probe.ack {
            None => {
                prop_assert_eq!(tcp.flags(), TcpFlags(TcpFlags::SYN));
                prop_assert_eq!(tcp.ack_number(), 0);
                prop_assert_eq!(tcp.syn_options().timestamp, Some((probe.ts_val, 0)));
            }
            Some(ack) => {
                prop_assert_eq!(tcp.flags(), TcpFlags(TcpFlags::ACK));
                prop_assert_eq!(tcp.ack_number(), ack);
                prop_assert!(tcp.options().is_empty());
                prop_assert_eq!(n, if src.is_ipv4() { 40 } else { 60 });
            }
        }
        prop_assert_eq!(
            (tcp.src_port(), tcp.dst_port()),
            (probe.src.port(), probe.dst.port())
        );
        Ok(())
    }

    proptest! {
        #[test]
        fn v4_and_v6_syns_and_acks_parse_back(
            a: [u8; 4], b: [u8; 4], c: [u16; 8], d: [u16; 8],
            sp: u16, dp: u16, seq: u32, ts: u32, ident: u32, ack: Option<u32>,
        ) {
            let v4 = SynProbe {
                src: SocketAddr::new(a.into(), sp),
                dst: SocketAddr::new(b.into(), dp),
                seq, ts_val: ts, ident, ack,
            };
            check(v4)?;
            let v6 = SynProbe {
                src: SocketAddr::new(c.into(), sp),
                dst: SocketAddr::new(d.into(), dp),
                ..v4
            };
            check(v6)?;
        }
    }

    #[test]
    fn mixed_families_and_short_buffers_are_errors() {
        let p = SynProbe {
            src: "127.0.0.1:1".parse().unwrap(),
            dst: "[::1]:2".parse().unwrap(),
            seq: 0,
            ts_val: 0,
            ident: 0,
            ack: None,
        };
        assert_eq!(p.emit(&mut [0; MAX_LEN]), Err(Error::Malformed));
        let p = SynProbe {
            dst: "127.0.0.1:2".parse().unwrap(),
            ..p
        };
        assert_eq!(p.emit(&mut [0; 59]), Err(Error::BufferTooSmall));
        assert_eq!(p.emit(&mut [0; 60]), Ok(60));
        let ack = SynProbe { ack: Some(7), ..p };
        assert_eq!(ack.emit(&mut [0; 39]), Err(Error::BufferTooSmall));
        assert_eq!(ack.emit(&mut [0; 40]), Ok(40));
    }
}
