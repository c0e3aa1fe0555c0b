//! Sans-IO reply matching: bytes in, `(token, answer)` out.
//!
//! The [`Matcher`] knows the probes in flight by destination (address and port → the
//! scheduler's token) and checks every reply's number against the [`Cookie`] before it
//! looks the probe up. A reply that fails the check is counted and dropped; one that
//! passes for a probe no longer in flight (a duplicate, an answer after a timeout) is
//! counted as stale. The map holds only probes in flight, so memory follows the
//! congestion window, not the size of the scan.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use portolan_engine::{Answer, Reason, Token};
use portolan_packet::{Reply, ReplyKind, Unreachable};

use crate::cookie::Cookie;

/// What the receive side has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// SYNs handed to the kernel.
    pub sent: u64,
    /// Replies that answered a probe in flight.
    pub matched: u64,
    /// Replies that passed the check but whose probe was no longer in flight.
    pub stale: u64,
    /// Replies to our port whose number failed the check (forged, stray, or old).
    pub failed_check: u64,
    /// Packets the filter let through that are not replies to a SYN.
    pub not_replies: u64,
}

/// Matches replies to the probes in flight.
#[derive(Debug)]
pub struct Matcher {
    cookie: Cookie,
    port: u16,
    in_flight: HashMap<(IpAddr, u16), Token>,
    stats: Stats,
}

impl Matcher {
    /// A matcher for SYNs sent from source port `port` under `cookie`.
    pub fn new(cookie: Cookie, port: u16) -> Self {
        Matcher {
            cookie,
            port,
            in_flight: HashMap::new(),
            stats: Stats::default(),
        }
    }

    pub fn cookie(&self) -> &Cookie {
        &self.cookie
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Records a probe sent to `remote` under `token`.
    pub fn sent(&mut self, token: Token, remote: SocketAddr) {
        self.stats.sent += 1;
        self.in_flight.insert((remote.ip(), remote.port()), token);
    }

    /// Forgets the probe to `remote` if `token` still owns it.
    pub fn forget(&mut self, token: Token, remote: SocketAddr) {
        let key = (remote.ip(), remote.port());
        if self.in_flight.get(&key) == Some(&token) {
            self.in_flight.remove(&key);
        }
    }

    /// Reads one received network-layer packet; returns the probe it answers, if any.
    pub fn packet(&mut self, bytes: &[u8]) -> Option<(Token, Answer)> {
        let Some(reply) = Reply::parse(bytes).filter(|r| r.local.port() == self.port) else {
            self.stats.not_replies += 1;
            return None;
        };
        let isn = self.cookie.isn(reply.local, reply.remote);
        if !reply.kind.answers(isn) {
            self.stats.failed_check += 1;
            return None;
        }
        let Some(token) = self
            .in_flight
            .remove(&(reply.remote.ip(), reply.remote.port()))
        else {
            self.stats.stale += 1;
            return None;
        };
        self.stats.matched += 1;
        Some((token, answer(reply.kind)))
    }
}

/// The answer a verified reply gives.
pub fn answer(kind: ReplyKind) -> Answer {
    match kind {
        ReplyKind::SynAck { .. } => Answer::Connected,
        ReplyKind::Reset { .. } => Answer::Reset,
        ReplyKind::Unreachable { code, .. } => Answer::Unreachable(match code {
            Unreachable::Net => Reason::NetUnreach,
            Unreachable::Host | Unreachable::Protocol => Reason::HostUnreach,
            Unreachable::Port => Reason::PortUnreach,
            Unreachable::AdminProhibited => Reason::AdminProhibited,
        }),
    }
}
