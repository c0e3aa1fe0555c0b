//! A whole SYN packet, IPv4 or IPv6, as Linux would send it.
//!
//! The header fields copy what Linux puts on an active open (TTL/hop limit 64, don't
//! fragment, window 64240 with MSS 1460 on IPv4 or 64800 with MSS 1440 on IPv6, and
//! the options MSS, SACK permitted, timestamps, window scale 7), so a SYN from the scan
//! looks like the first packet of an ordinary connection.

use std::net::{IpAddr, SocketAddr};

use crate::ipv4::{self, Ipv4Repr};
use crate::ipv6::{self, Ipv6Repr};
use crate::tcp::{SynOptions, SynRepr};
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
        let tcp = SynRepr {
            src_port: self.src.port(),
            dst_port: self.dst.port(),
            seq: self.seq,
            window,
            options: SynOptions::linux(mss, self.ts_val),
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
