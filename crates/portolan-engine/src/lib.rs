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
//! - [`transport`]: the seam between the scheduler and the network. [`ConnectTransport`]
//!   does non-blocking `connect()` with mio; a raw SYN or UDP transport sits beside it.
//! - [`scheduler`]: the decisions (launches, timeouts, retries, per-host caps, rate
//!   limit, local resource back-off) as a sans-IO [`Machine`] that is given the time
//!   and the transport's events and answers with probes to send and results; and
//!   [`Scanner::run`], the thin loop that drives a machine over any transport.
//! - `sim` (with the `sim` feature, and in the engine's own tests): a simulated
//!   network with virtual time, for deterministic tests of the scheduler (loss,
//!   drops, refusals, synchronous answers, every local hiccup) without sleeping.
//! - [`sys`]: the few system calls that need care (the open-file limit, ICMP details).

pub mod congestion;
pub mod connect;
pub mod result;
pub mod scheduler;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
pub mod sys;
pub mod timing;
pub mod transport;

pub use connect::ConnectTransport;
pub use result::{
    Endpoint, HttpInfo, Method, PortResult, PortState, Protocol, Reason, Service, Summary, TlsInfo,
};
pub use scheduler::{
    Concurrency, EngineError, Machine, Progress, Rate, Scanner, ScannerBuilder, Sink, TargetOrder,
    Transmit,
};
pub use timing::{Template, Timing};
pub use transport::{Answer, Event, Hiccup, Started, Token, Transport};
