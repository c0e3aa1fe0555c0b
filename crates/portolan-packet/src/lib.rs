//! Packet views and builders for the raw SYN scan, in smoltcp's style.
//!
//! Why our own: the scan needs exactly four formats (IPv4, IPv6, TCP, ICMP errors), and
//! it must never panic on hostile bytes from the network. Each view wraps a buffer
//! (`T: AsRef<[u8]>`), keeps its field offsets in one `mod field`, and after
//! `new_checked` succeeds every accessor is in bounds: no accessor can panic, whatever
//! the bytes. Builders (`emit`) write into a caller's buffer, so sending allocates
//! nothing.
//!
//! - [`ipv4`], [`ipv6`]: the network headers, and their checksums / pseudo-headers.
//! - [`tcp`]: the TCP header and its options; [`tcp::SynOptions`] is what Linux sends.
//! - [`icmp`]: ICMPv4 and ICMPv6 destination-unreachable, with the quoted header.
//! - [`echo`]: ICMP echo and timestamp requests and their replies (host discovery).
//! - [`neighbor`]: ARP replies and IPv6 neighbour advertisements (host discovery).
//! - [`syn`]: a whole SYN packet (IPv4 or IPv6) built with correct checksums.
//! - [`reply`]: what a received packet says about a probe (SYN-ACK, reset, ICMP
//!   unreachable), with the 4-tuple and the number that proves it answers our probe.
//!
//! Sans-IO: nothing here touches a socket or a clock.

#![warn(missing_docs)]

pub mod checksum;
pub mod echo;
pub mod icmp;
pub mod ipv4;
pub mod ipv6;
pub mod neighbor;
pub mod reply;
pub mod syn;
pub mod tcp;

pub use icmp::{Icmpv4Packet, Icmpv6Packet, Unreachable};
pub use ipv4::Ipv4Packet;
pub use ipv6::Ipv6Packet;
pub use reply::{Reply, ReplyKind};
pub use syn::SynProbe;
pub use tcp::{SynOptions, TcpFlags, TcpPacket};

/// Why a buffer is not a packet of the kind asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The buffer is shorter than the header (or the length fields) say.
    #[error("packet truncated")]
    Truncated,
    /// A field holds a value the format does not allow (a version, a header length).
    #[error("malformed packet")]
    Malformed,
    /// The buffer given to a builder is too small for the packet.
    #[error("buffer too small for the packet")]
    BufferTooSmall,
}

/// IP protocol numbers used here.
pub mod proto {
    /// ICMP for IPv4.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// ICMP for IPv6.
    pub const ICMPV6: u8 = 58;
}

pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
