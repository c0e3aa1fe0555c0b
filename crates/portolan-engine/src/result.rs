//! What the engine reports for each (host, port).

use std::fmt;
use std::time::Duration;

use portolan_target::Endpoint;

/// The state of a port, in nmap's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortState {
    Open,
    Closed,
    Filtered,
}

impl PortState {
    pub fn as_str(self) -> &'static str {
        match self {
            PortState::Open => "open",
            PortState::Closed => "closed",
            PortState::Filtered => "filtered",
        }
    }
}

impl fmt::Display for PortState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a port is in its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// The handshake completed (a reset after it still counts).
    SynAck,
    /// The host answered with a reset (`ECONNREFUSED`).
    ConnRefused,
    /// Nothing came back, after every retry.
    NoResponse,
    /// ICMP host unreachable (`EHOSTUNREACH`).
    HostUnreach,
    /// ICMP network unreachable (`ENETUNREACH`).
    NetUnreach,
    /// ICMP administratively prohibited (`EACCES`/`EPERM`, or the ICMP code itself).
    AdminProhibited,
    /// This machine refused to send the probe for a reason of its own (no route
    /// to that kind of address, an address that cannot be connected to).
    LocalError,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::SynAck => "syn-ack",
            Reason::ConnRefused => "conn-refused",
            Reason::NoResponse => "no-response",
            Reason::HostUnreach => "host-unreach",
            Reason::NetUnreach => "net-unreach",
            Reason::AdminProhibited => "admin-prohibited",
            Reason::LocalError => "local-error",
        }
    }

    /// The state this reason implies.
    pub fn state(self) -> PortState {
        match self {
            Reason::SynAck => PortState::Open,
            Reason::ConnRefused => PortState::Closed,
            _ => PortState::Filtered,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer for one (host, port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortResult {
    pub endpoint: Endpoint,
    pub state: PortState,
    pub reason: Reason,
    /// Round-trip time of the try that was answered; `None` when nothing answered.
    pub rtt: Option<Duration>,
    /// How many probes were sent to this port.
    pub tries: u8,
    /// What the port turned out to be; never set by the engine itself, filled in by
    /// the service-probe stage (`scan -sV`) for open ports.
    pub service: Option<Box<Service>>,
}

impl PortResult {
    /// A result with no service information.
    pub fn new(endpoint: Endpoint, reason: Reason, rtt: Option<Duration>, tries: u8) -> Self {
        PortResult {
            state: reason.state(),
            reason,
            rtt,
            tries,
            endpoint,
            service: None,
        }
    }
}

/// How a service was identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A response to a probe we sent matched a fingerprint.
    Probed,
    /// What the server said first matched a fingerprint.
    Banner,
    /// Only the port number suggests it: a guess.
    Port,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Probed => "probed",
            Method::Banner => "banner",
            Method::Port => "port",
        }
    }
}

/// What is listening behind an open port. Bytes from the server are kept as bytes;
/// every printer escapes them for its own format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Service name (`http`, `ssh`, `tcpwrapped`, `unknown`).
    pub name: String,
    pub product: Option<String>,
    pub version: Option<String>,
    /// Further detail (`protocol 2.0`, `Debian`).
    pub info: Option<String>,
    pub cpe: Vec<String>,
    pub method: Method,
    /// 0 (a guess) to 10 (certain).
    pub confidence: u8,
    /// The first bytes the server sent (at most `--banner-bytes`).
    pub banner: Option<Vec<u8>>,
    pub tls: Option<TlsInfo>,
    pub http: Option<HttpInfo>,
}

/// What a TLS handshake showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsInfo {
    pub version: Option<String>,
    pub alpn: Option<String>,
    pub subject_cn: Option<String>,
    pub sans: Vec<String>,
    pub issuer: Option<String>,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    pub sha256: Option<String>,
}

/// What an HTTP exchange showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpInfo {
    pub status: Option<u16>,
    pub server: Option<String>,
    pub location: Option<String>,
    pub title: Option<String>,
}

/// Counts and timings of a whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Results per (state, reason), in a stable order.
    pub counts: std::collections::BTreeMap<(PortState, Reason), u64>,
    pub probes_sent: u64,
    pub retries: u64,
    /// Pairs skipped because an exclusion covered them.
    pub excluded: u64,
    pub elapsed: Duration,
    /// False when the run was cancelled before every pair was answered.
    pub complete: bool,
    pub max_in_flight: usize,
}

impl Summary {
    pub fn count(&self, state: PortState) -> u64 {
        self.counts
            .iter()
            .filter(|((s, _), _)| *s == state)
            .map(|(_, n)| n)
            .sum()
    }

    pub fn results(&self) -> u64 {
        self.counts.values().sum()
    }
}
