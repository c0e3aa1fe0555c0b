//! Raw SYN scanning: a [`SynTransport`] for portolan's scheduler.
//!
//! Half-open scanning sends one SYN per probe and reads the answer (SYN-ACK: open;
//! reset: closed; ICMP unreachable: filtered) without a socket per probe, so it is
//! bounded by the packet rate, not the kernel's per-connection work. It needs
//! `CAP_NET_RAW`. The same transport sends host discovery's ACK pings
//! ([`SynTransport::ack_pings`]): bare ACKs that an up host answers with a reset.
//!
//! - `cookie`: the keyed sequence numbers ([`Cookie`]) that make matching stateless and exact.
//! - `matcher`: sans-IO matching ([`Matcher`]) of received packets to the probes in flight.
//! - [`bpf`]: the kernel filter on the receive socket, with an interpreter for tests
//!   (a public module: its names read best qualified, `bpf::program`).
//! - `transport`: the sockets of the [`SynTransport`]: raw IP sockets to send (the kernel routes and picks
//!   the link, so Ethernet, loopback and TUN devices all work) and an
//!   `AF_PACKET`/`SOCK_DGRAM` socket to receive network-layer packets on any link.
//!
//! The scheduler drives it exactly as it drives the connect transport: the congestion
//! window, rate caps, retries and timeouts are the scheduler's; the transport sends one
//! packet per [`portolan_engine::Transport::start`] and reports verified replies from
//! [`portolan_engine::Transport::wait`].

#![warn(missing_docs)]

pub mod bpf;
mod cookie;
mod matcher;
mod transport;

pub use cookie::Cookie;
pub use matcher::{Matcher, Stats};
pub use transport::{SynError, SynTransport};
