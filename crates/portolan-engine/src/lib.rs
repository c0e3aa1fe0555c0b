//! The scan engine: walks a [`TargetOrder`] of (host, port) pairs through a
//! [`Transport`] and reports one [`PortResult`] per pair to a [`Sink`].
//!
//! The engine never prints, exits or reads arguments. It is split so each part can be
//! tested on its own; the modules are private and what they offer is re-exported
//! here (only the test-support `sim` is a module of its own):
//!
//! - `result`: the typed results (state, reason, round-trip time, tries), from
//!   `portolan-model` and re-exported here, and the run's [`Summary`].
//! - `timing`: round-trip estimation ([`RttEstimator`]) and timeouts in the style of
//!   RFC 6298, and the `-T0`..`-T5` [`Template`]s. Pure arithmetic on
//!   [`std::time::Duration`]s.
//! - `congestion`: how many probes may be in flight; grows while answers come back
//!   and backs off when retried probes show that earlier ones were dropped.
//! - `icmp_limit`: detection of ICMP rate limiting on closed UDP ports, pacing of
//!   the retries it forces, and whether a silence can be trusted (sans-IO).
//! - `transport`: the seam between the scheduler and the network ([`Transport`]).
//!   [`ConnectTransport`] does non-blocking `connect()` with mio; [`ProxyTransport`]
//!   asks a SOCKS5 or HTTP CONNECT proxy instead; a raw SYN transport sits beside
//!   them.
//! - `udp`: [`UdpTransport`], connected UDP sockets with the payload of each port
//!   injected; answers, ICMP port unreachable and other ICMP codes become answers.
//! - `discovery`: host discovery (`-sn`, `--discover`): the sans-IO [`Discovery`]
//!   machine (every host pinged by several methods per round, up on the first
//!   answer, down after the retries, with the scheduler's timing and congestion),
//!   [`Discoverer::run`] and the [`Pinger`] seam it drives.
//! - `ping`: [`SocketPinger`], the real pinger: ICMP echo through unprivileged
//!   ping sockets or raw ones, and TCP connect pings, on one epoll instance.
//! - `scheduler`: the decisions (launches, timeouts, retries, per-host caps, rate
//!   limit, local resource back-off) as a sans-IO [`Machine`] that is given the time
//!   and the transport's events and answers with probes to send and results; and
//!   [`Scanner::run`], the thin loop that drives a machine over any transport.
//! - `sim` (with the `sim` feature, and in the engine's own tests): a simulated
//!   network with virtual time, for deterministic tests of the scheduler (loss,
//!   drops, refusals, synchronous answers, every local hiccup) without sleeping.
//! - `sys`: the few system calls that need care (the open-file limit
//!   [`raise_file_limit`], what an errno means [`classify`], ICMP details
//!   [`icmp_reason`]), for this crate's transport and the others'.
//!
//! # Embedding the scanner
//!
//! Targets and ports from `portolan-target` make a
//! [`ScanOrder`](portolan_target::ScanOrder); a [`Scanner`] walks
//! it through a transport and hands every result to a [`Sink`]. Here the sink keeps
//! the results, and the scan is of one listening and one closed port on loopback:
//!
//! ```rust
//! use std::net::TcpListener;
//! use std::sync::Arc;
//!
//! use portolan_engine::{ConnectTransport, PortResult, PortState, Reason, Scanner, Sink, SinkError};
//! use portolan_target::{SystemResolver, TargetSetBuilder};
//! use portolan_target::{PortList, ScanOrder};
//!
//! /// A sink that keeps every result.
//! struct Collect(Vec<PortResult>);
//!
//! impl Sink for Collect {
//!     fn result(&mut self, result: &PortResult) -> Result<(), SinkError> {
//!         self.0.push(result.clone());
//!         Ok(())
//!     }
//! }
//!
//! // One port that listens, one that is closed (bound, then released).
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let open = listener.local_addr()?.port();
//! let closed = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
//!
//! let targets = TargetSetBuilder::new()
//!     .target("127.0.0.1")?
//!     .build(&SystemResolver)?;
//! let ports = PortList::parse(&format!("{open},{closed}"))?;
//! let mut order = ScanOrder::random(Arc::new(targets), Arc::new(ports), 7);
//!
//! let mut transport = ConnectTransport::new()?;
//! let mut sink = Collect(Vec::new());
//! let summary = Scanner::builder()
//!     .build()
//!     .run(&mut order, &mut transport, &mut sink)?;
//!
//! let mut results = sink.0;
//! results.sort_by_key(|r| r.endpoint.port);
//! let seen: Vec<(u16, PortState, Reason)> = results
//!     .iter()
//!     .map(|r| (r.endpoint.port, r.state, r.reason))
//!     .collect();
//! let mut expected = vec![
//!     (open, PortState::Open, Reason::SynAck),
//!     (closed, PortState::Closed, Reason::ConnRefused),
//! ];
//! expected.sort_by_key(|e| e.0);
//! assert_eq!(seen, expected);
//! assert!(summary.complete);
//! assert_eq!(summary.count(PortState::Open), 1);
//! # drop(listener);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod congestion;
mod connect;
mod discovery;
mod icmp_limit;
mod ping;
mod proxy;
mod result;
mod scheduler;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
mod sys;
mod timing;
mod transport;
mod udp;

pub use connect::ConnectTransport;
pub use discovery::{
    Discoverer, Discovery, HostSink, HostSummary, Ping, PingMethod, Pinger, Pong, Sent,
};
pub use icmp_limit::{HostLimit, IcmpPacer, Pace, Silence, QUIET_MIN};
pub use ping::{IcmpMode, RawTcp, SocketPinger};
pub use proxy::{proxy_reason, ProxyTransport};
pub use result::{
    AllOpen, Endpoint, HostResult, HostState, HttpInfo, Method, PortResult, PortState, Protocol,
    Reason, Service, Summary, TlsInfo,
};
pub use scheduler::{
    Concurrency, EngineError, Machine, Progress, Rate, Scanner, ScannerBuilder, Sink, SinkError,
    TargetOrder, Transmit, HICCUP_LIMIT, OPEN_GROUPS, PRESSURE_PAUSE, TAIL_SPACING,
};
pub use sys::{
    classify, enable_icmp_detail, file_limit, icmp_reason, raise_file_limit, Classified,
};
pub use timing::{RttEstimator, Template, Timing};
pub use transport::{Answer, Event, Hiccup, Started, Token, Transport};
pub use udp::{PayloadSource, UdpTransport};
