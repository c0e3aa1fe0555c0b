//! The scan engine: walks a [`TargetOrder`] of (host, port) pairs through a
//! [`Transport`] and reports one [`PortResult`] per pair to a [`Sink`].
//!
//! The engine never prints, exits or reads arguments. It is split so each part can be
//! tested on its own:
//!
//! - [`result`]: the typed results (state, reason, round-trip time, tries), from
//!   `portolan-model` and re-exported here, and the run's [`Summary`].
//! - [`timing`]: round-trip estimation and timeouts in the style of RFC 6298, and the
//!   `-T0`..`-T5` templates. Pure arithmetic on [`std::time::Duration`]s.
//! - [`congestion`]: how many probes may be in flight; grows while answers come back
//!   and backs off when retried probes show that earlier ones were dropped.
//! - [`icmp_limit`]: detection of ICMP rate limiting on closed UDP ports, pacing of
//!   the retries it forces, and whether a silence can be trusted (sans-IO).
//! - [`transport`]: the seam between the scheduler and the network. [`ConnectTransport`]
//!   does non-blocking `connect()` with mio; a raw SYN transport can sit beside it.
//! - [`udp`]: [`UdpTransport`], connected UDP sockets with the payload of each port
//!   injected; answers, ICMP port unreachable and other ICMP codes become answers.
//! - [`scheduler`]: the loop that ties them together: launches, timeouts, retries,
//!   per-host caps, rate limits, local resource back-off.
//! - [`sim`]: a simulated network with virtual time, for deterministic tests of the
//!   scheduler (loss, drops, refusals, resource exhaustion) without sleeping.
//! - [`sys`]: the few system calls that need care (the open-file limit, ICMP details).

pub mod congestion;
pub mod connect;
pub mod icmp_limit;
pub mod result;
pub mod scheduler;
pub mod sim;
pub mod sys;
pub mod timing;
pub mod transport;
pub mod udp;

pub use connect::ConnectTransport;
pub use result::{
    Endpoint, HttpInfo, Method, PortResult, PortState, Protocol, Reason, Service, Summary, TlsInfo,
};
pub use scheduler::{
    Concurrency, EngineError, Progress, Rate, Scanner, ScannerBuilder, Sink, TargetOrder,
};
pub use timing::{Template, Timing};
pub use transport::{Answer, Event, Hiccup, Started, Token, Transport};
pub use udp::{PayloadSource, UdpTransport};
