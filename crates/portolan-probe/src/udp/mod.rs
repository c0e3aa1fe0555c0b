//! UDP: what to send to each port (`scan -sU`), and what an answer names (`-sU -sV`).
//!
//! A closed UDP port answers with ICMP and a filtered one not at all, but an open one
//! answers only a request its service understands; an empty datagram leaves most of
//! them silent and `open|filtered`. So each well-known port gets a payload of its
//! protocol, written from the RFCs and vendors' documents (nothing from nmap):
//!
//! - [`payloads`]: the table in `payloads/udp.toml`, chosen by port, with a loader
//!   that names the file and the payload in every error.
//! - [`build`]: payloads whose fields vary per probe (transaction ids, cookies).
//! - [`ber`], [`dns`]: the two encodings many of them share, each with a checked
//!   reader used both to test our payloads and to parse answers.
//! - [`answer`]: sans-IO parsers of answers (DNS, NTP, SNMP, SSDP, memcached) and the
//!   [`Service`](portolan_engine::Service) they add up to.
//! - [`identify`]: the thin tokio layer that sends a port's payloads and names the
//!   service from the first answer understood.

pub mod answer;
pub mod ber;
pub mod build;
pub mod dns;
pub mod identify;
pub mod payloads;

#[allow(unused_imports, reason = "the module's own surface; its tests use it")]
pub use answer::{decode, Decoded};
#[allow(unused_imports, reason = "the module's own surface; its tests use it")]
pub use build::Context;
pub use identify::identify_udp;
#[allow(unused_imports, reason = "the module's own surface; its tests use it")]
pub use payloads::{Payload, UdpPayloads};

#[cfg(test)]
mod tests;
