//! The seam between the scheduler and the network.
//!
//! A [`Transport`] starts probes, reports what came back, and owns the clock, so
//! the same scheduler runs over real sockets ([`crate::ConnectTransport`]), a
//! simulated network (`sim::SimNet`, virtual time) or raw SYN packets
//! (`portolan-syn`). Tokens are small integers chosen by the scheduler (slot numbers), so a
//! transport can keep its sockets in a plain vector.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::result::Reason;

/// Identifies one probe in flight; chosen by the scheduler, dense from 0.
pub type Token = usize;

/// What the network said to a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The handshake completed, or the port reset us right after it.
    Connected,
    /// The port answered with a reset.
    Refused,
    /// The port answered a raw SYN with a reset (reason `reset`).
    Reset,
    /// A UDP port sent a datagram back.
    Datagram,
    /// An ICMP error, or a local refusal, with its reason.
    Unreachable(Reason),
    /// What a proxy said about the port (a `proxy-*` reason).
    Proxy(Reason),
}

impl Answer {
    /// The reason this answer gives the port.
    pub fn reason(self) -> Reason {
        match self {
            Answer::Connected => Reason::SynAck,
            Answer::Refused => Reason::ConnRefused,
            Answer::Reset => Reason::Reset,
            Answer::Datagram => Reason::UdpResponse,
            Answer::Unreachable(r) | Answer::Proxy(r) => r,
        }
    }
}

/// A probe this machine could not send, or whose outcome means nothing; it is
/// retried without counting as a try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hiccup {
    /// The open-file limit was reached (`EMFILE`, `ENFILE`).
    FileLimit,
    /// The kernel ran short of buffers (`ENOBUFS`, `ENOMEM`).
    NoBuffers,
    /// No local port was free (`EADDRNOTAVAIL`).
    NoLocalPort,
    /// The socket connected to itself (source port equal to the destination port).
    SelfConnect,
}

/// What [`Transport::start`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// The probe is on its way; an [`Event`] will follow unless it is cancelled.
    InFlight,
    /// Answered at once (loopback can refuse synchronously).
    Answered(Answer),
    /// Not sent; try again later.
    Hiccup(Hiccup),
}

/// Something that happened to a probe in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The probe with this token was answered.
    Answered(Token, Answer),
    /// The probe with this token failed locally and will be retried.
    Hiccup(Token, Hiccup),
}

/// Sends probes and reports their answers.
pub trait Transport {
    /// The transport's clock (virtual in simulations).
    fn now(&self) -> Instant;

    /// Sends a probe to `addr`, identified by `token` until it is answered or cancelled.
    fn start(&mut self, token: Token, addr: SocketAddr) -> Started;

    /// Forgets a probe in flight (it timed out, or the scan stops).
    fn cancel(&mut self, token: Token);

    /// Waits at most `timeout` for events and appends them to `events`: every event
    /// that was ready when the call began must be in the batch (the scheduler judges
    /// timeouts against that moment).
    fn wait(&mut self, timeout: Duration, events: &mut Vec<Event>) -> io::Result<()>;

    /// Whether an answer to an earlier try of a pair still reaches the scheduler
    /// after that try was cancelled and the pair tried again: true when answers are
    /// matched by destination (raw SYN), false when each try has a socket of its own
    /// that the cancel closes (connect, UDP). Where it holds, the tail of a scan may
    /// send a pair's remaining tries a few milliseconds apart instead of a timeout
    /// apart, since each try still gets at least a whole timeout to be answered.
    fn late_answers(&self) -> bool {
        false
    }
}
