//! Service identification for `portolan scan -sV`: what is behind an open port?
//!
//! The work is split the sans-IO way (the modules are private; what they offer is
//! re-exported here):
//!
//! - `db`: the fingerprint [`Database`], readable TOML files of payloads and byte
//!   patterns (compiled in, extendable with `--fingerprints DIR`), written for
//!   portolan and not derived from nmap's `nmap-service-probes`.
//! - `matcher`: bytes in, a [`Match`] out (service, product, version, CPE).
//! - `http`: status, `Server`, `Location` and `<title>` of an HTTP answer.
//! - `plan`: [`Waits`] derived from the round-trip time, the order of payloads for a
//!   port, and the [`Verdict`] that the answers add up to.
//! - `runner`: the thin tokio layer that connects, sends, reads within bounds and
//!   runs TLS (through `portolan-talk`'s accept-any client).
//! - `stub`: a fingerprint [`Stub`] written from a capture (`portolan fingerprint`).
//! - `pool`: a [`Prober`] with its own runtime thread, for a synchronous caller.
//! - `udp`: the UDP payloads chosen by port (`scan -sU`), the parsers of their
//!   answers and [`identify_udp`] (`-sU -sV`).
//!
//! A server cannot hurt the prober: reads are bounded in bytes and time, its bytes are
//! kept as bytes, and every field taken from them is made printable.

#![warn(missing_docs)]

mod check;
mod db;
mod error;
mod http;
mod matcher;
mod plan;
mod pool;
mod runner;
mod stub;
mod udp;

pub use db::{Database, Fingerprint, Payload, PayloadKind};
pub use error::ProbeError;
pub use http::http_info;
pub use matcher::{printable, Exchange, Match, BANNER, MAX_FIELD};
pub use plan::{
    steps, tunnelled, End, Next, Reply, Settings, Step, Verdict, Waits, CONFIDENT, MAX_STEPS,
};
pub use pool::{Prober, QUEUE};
pub use runner::{exchange, identify};
pub use stub::{
    new_probe_name, payload_escape, probe_for, regex_escape, stub, version_run, Stub, StubInput,
    StubProbe, STUB_BYTES, TODO,
};
pub use udp::{identify_udp, UdpPayloads};
