//! Service identification for `portolan scan -sV`: what is behind an open port?
//!
//! The work is split the sans-IO way:
//!
//! - [`db`]: the fingerprint database, readable TOML files of probes and byte
//!   patterns (compiled in, extendable with `--fingerprints DIR`), written for
//!   portolan and not derived from nmap's `nmap-service-probes`.
//! - [`matcher`]: bytes in, a [`Match`] out (service, product, version, CPE).
//! - [`http`]: status, `Server`, `Location` and `<title>` of an HTTP answer.
//! - [`plan`]: waits derived from the round-trip time, the order of probes for a
//!   port, and the [`Verdict`] that the answers add up to.
//! - [`runner`]: the thin tokio layer that connects, sends, reads within bounds and
//!   runs TLS (through `portolan-talk`'s accept-any client).
//! - [`pool`]: a [`Prober`] with its own runtime thread, for a synchronous caller.
//! - [`udp`]: the UDP payloads chosen by port (`scan -sU`) and the parsers of their
//!   answers (`-sU -sV`).
//!
//! A server cannot hurt the prober: reads are bounded in bytes and time, its bytes are
//! kept as bytes, and every field taken from them is made printable.

pub mod db;
pub mod error;
pub mod http;
pub mod matcher;
pub mod plan;
pub mod pool;
pub mod runner;
pub mod udp;

pub use db::{Database, Fingerprint, Probe, ProbeKind};
pub use error::ProbeError;
pub use matcher::{Exchange, Match, BANNER};
pub use plan::{Settings, Verdict, Waits};
pub use pool::Prober;
pub use runner::identify;
pub use udp::UdpPayloads;
