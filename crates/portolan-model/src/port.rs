//! Endpoints, states, reasons and the result for one endpoint.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::names::names;
use crate::Service;

/// The transport protocol of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// TCP: a port answers a connection attempt.
    Tcp,
    /// UDP: a port answers a datagram, or an ICMP message answers for it.
    Udp,
}

names!(Protocol, "protocol", {
    Tcp => "tcp",
    Udp => "udp",
});

/// One (host, port, protocol) to probe.
///
/// Serialised flat, as the first fields of a result: `addr`, `hostname` (only when
/// the address came from a name), `port`, `proto`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    /// The address probed.
    pub addr: IpAddr,
    /// The host name the user typed, when the address came from one.
    #[serde(rename = "hostname", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Arc<str>>,
    /// The port probed.
    pub port: u16,
    /// The protocol the port was probed with.
    pub proto: Protocol,
}

/// The state of a port, in nmap's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortState {
    /// Something answered on the port.
    Open,
    /// The host answered that nothing listens there.
    Closed,
    /// Something in the way stopped the probe or its answer.
    Filtered,
    /// Silence that cannot be told apart: an open UDP port that does not answer, or a
    /// firewall that drops the probe.
    OpenFiltered,
}

names!(PortState, "state", {
    Open => "open",
    Closed => "closed",
    Filtered => "filtered",
    OpenFiltered => "open|filtered",
});

/// Why a port is in its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// The handshake completed (a reset after it still counts).
    SynAck,
    /// The host answered with a reset (`ECONNREFUSED`).
    ConnRefused,
    /// The host answered a raw SYN with a reset (the SYN scan's closed port).
    Reset,
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
    /// A UDP datagram came back from the port.
    UdpResponse,
    /// ICMP port unreachable.
    PortUnreach,
    /// A proxy (SOCKS5 reply 0, HTTP CONNECT 2xx) connected to the port for us.
    ProxyConnected,
    /// A proxy said the port refused its connection (SOCKS5 reply 5).
    ProxyRefused,
    /// A proxy said the host is unreachable (SOCKS5 reply 4, HTTP 502/504).
    ProxyHostUnreach,
    /// A proxy said the network is unreachable (SOCKS5 reply 3).
    ProxyNetUnreach,
    /// A proxy's rules forbid that destination (SOCKS5 reply 2, HTTP 403).
    ProxyDenied,
    /// A proxy failed to reach the port without saying why (SOCKS5 general failure
    /// or TTL expired, other HTTP errors).
    ProxyNoResponse,
    /// Host discovery: the host answered an ICMP (or ICMPv6) echo request.
    EchoReply,
    /// Host discovery: the host answered an ICMP timestamp request.
    TimestampReply,
    /// Host discovery: the host answered an ARP request on the local network.
    ArpResponse,
    /// Host discovery: the host answered an IPv6 neighbour solicitation.
    NdResponse,
}

names!(Reason, "reason", {
    SynAck => "syn-ack",
    ConnRefused => "conn-refused",
    Reset => "reset",
    NoResponse => "no-response",
    HostUnreach => "host-unreach",
    NetUnreach => "net-unreach",
    AdminProhibited => "admin-prohibited",
    LocalError => "local-error",
    UdpResponse => "udp-response",
    PortUnreach => "port-unreach",
    ProxyConnected => "proxy-connected",
    ProxyRefused => "proxy-refused",
    ProxyHostUnreach => "proxy-host-unreach",
    ProxyNetUnreach => "proxy-net-unreach",
    ProxyDenied => "proxy-denied",
    ProxyNoResponse => "proxy-no-response",
    EchoReply => "echo-reply",
    TimestampReply => "timestamp-reply",
    ArpResponse => "arp-response",
    NdResponse => "nd-response",
});

impl Reason {
    /// The state this reason implies for a probe over `proto`.
    ///
    /// TCP: a handshake is open, a reset closed, anything else (silence, ICMP, a
    /// local refusal) filtered. UDP: a datagram back is open, ICMP port unreachable
    /// (or `ECONNREFUSED`, how a connected socket reports it) closed, silence
    /// open|filtered, other ICMP and local refusals filtered. A proxy's answer reads
    /// like the direct one (connected open, refused closed, the rest filtered), for
    /// either protocol. An answer that belongs
    /// to the other protocol keeps its meaning (an answer is open). The host
    /// discovery reasons (`echo-reply`, ...) say nothing about any port: a port
    /// given one is filtered (never done by the engine).
    pub const fn state(self, proto: Protocol) -> PortState {
        use PortState::{Closed, Filtered, Open, OpenFiltered};
        use Reason::{
            AdminProhibited, ArpResponse, ConnRefused, EchoReply, HostUnreach, LocalError,
            NdResponse, NetUnreach, NoResponse, PortUnreach, ProxyConnected, ProxyDenied,
            ProxyHostUnreach, ProxyNetUnreach, ProxyNoResponse, ProxyRefused, Reset, SynAck,
            TimestampReply, UdpResponse,
        };
        match (proto, self) {
            (_, SynAck | UdpResponse | ProxyConnected) => Open,
            (_, ConnRefused | Reset | ProxyRefused) | (Protocol::Udp, PortUnreach) => Closed,
            (Protocol::Udp, NoResponse) => OpenFiltered,
            (Protocol::Tcp, NoResponse | PortUnreach)
            | (
                _,
                HostUnreach | NetUnreach | AdminProhibited | LocalError | ProxyHostUnreach
                | ProxyNetUnreach | ProxyDenied | ProxyNoResponse | EchoReply | TimestampReply
                | ArpResponse | NdResponse,
            ) => Filtered,
        }
    }
}

/// The answer for one endpoint.
///
/// Serialised as one flat object (the NDJSON line); see the crate documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Stored")]
pub struct PortResult {
    /// What was probed.
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// Follows from `reason` and the endpoint's protocol ([`Reason::state`]).
    pub state: PortState,
    /// Why the port is in its state.
    pub reason: Reason,
    /// Round-trip time of the try that was answered; `None` when nothing answered.
    /// On the wire: `rtt_ms`, milliseconds rounded to the microsecond.
    #[serde(
        rename = "rtt_ms",
        with = "rtt_ms",
        skip_serializing_if = "Option::is_none"
    )]
    pub rtt: Option<Duration>,
    /// How many probes were sent to this port.
    pub tries: u8,
    /// What the port turned out to be; never set by the engine itself, filled in by
    /// the service-probe stage (`scan -sV`) for open ports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<Box<Service>>,
}

impl PortResult {
    /// A result with no service information; its state follows from `reason`.
    pub fn new(endpoint: Endpoint, reason: Reason, rtt: Option<Duration>, tries: u8) -> Self {
        PortResult {
            state: reason.state(endpoint.proto),
            reason,
            rtt,
            tries,
            endpoint,
            service: None,
        }
    }

    /// The round-trip time in milliseconds, rounded to the microsecond, as every
    /// machine-readable format writes it.
    pub fn rtt_ms(&self) -> Option<f64> {
        self.rtt.map(rtt_ms::millis)
    }
}

/// A result as read: the state is checked against the reason, never trusted.
#[derive(Deserialize)]
struct Stored {
    #[serde(flatten)]
    endpoint: Endpoint,
    state: PortState,
    reason: Reason,
    #[serde(rename = "rtt_ms", with = "rtt_ms", default)]
    rtt: Option<Duration>,
    tries: u8,
    #[serde(default)]
    service: Option<Box<Service>>,
}

/// A stored state that does not follow from the stored reason.
#[derive(Debug, thiserror::Error)]
#[error("state `{state}` does not follow from reason `{reason}` over {proto}")]
struct Inconsistent {
    state: PortState,
    reason: Reason,
    proto: Protocol,
}

impl TryFrom<Stored> for PortResult {
    type Error = Inconsistent;

    fn try_from(s: Stored) -> Result<Self, Self::Error> {
        let proto = s.endpoint.proto;
        let mut result = PortResult::new(s.endpoint, s.reason, s.rtt, s.tries);
        if result.state != s.state {
            return Err(Inconsistent {
                state: s.state,
                reason: s.reason,
                proto,
            });
        }
        result.service = s.service;
        Ok(result)
    }
}

/// `Option<Duration>` as milliseconds (a JSON number), rounded to the microsecond.
pub(crate) mod rtt_ms {
    use std::time::Duration;

    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub(crate) fn millis(d: Duration) -> f64 {
        (d.as_secs_f64() * 1e6).round() / 1e3
    }

    #[expect(
        clippy::ref_option,
        reason = "serde's `with` passes the field by reference"
    )]
    pub(crate) fn serialize<S: Serializer>(
        rtt: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match rtt {
            Some(d) => s.serialize_some(&millis(*d)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Option::<f64>::deserialize(d)?
            .map(|ms| Duration::try_from_secs_f64(ms / 1e3).map_err(D::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(proto: Protocol) -> Endpoint {
        Endpoint {
            addr: "198.18.0.1".parse().unwrap(),
            name: None,
            port: 53,
            proto,
        }
    }

    #[test]
    fn every_name_round_trips() {
        fn check<T>(all: &[T])
        where
            T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + std::str::FromStr,
            T::Err: std::fmt::Debug,
        {
            let mut seen = std::collections::HashSet::new();
            for &v in all {
                let name = v.to_string();
                assert!(seen.insert(name.clone()), "{name} is used twice");
                assert_eq!(name.parse::<T>().unwrap(), v);
            }
        }
        check(Protocol::ALL);
        check(PortState::ALL);
        check(Reason::ALL);
        assert_eq!(Reason::ALL.len(), 20);
        assert_eq!(PortState::ALL.len(), 4);
    }

    #[test]
    fn existing_names_are_kept() {
        let names: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            names,
            [
                "syn-ack",
                "conn-refused",
                "reset",
                "no-response",
                "host-unreach",
                "net-unreach",
                "admin-prohibited",
                "local-error",
                "udp-response",
                "port-unreach",
                "proxy-connected",
                "proxy-refused",
                "proxy-host-unreach",
                "proxy-net-unreach",
                "proxy-denied",
                "proxy-no-response",
                "echo-reply",
                "timestamp-reply",
                "arp-response",
                "nd-response"
            ]
        );
        assert_eq!(PortState::OpenFiltered.to_string(), "open|filtered");
        assert_eq!(Protocol::Udp.as_str(), "udp");
    }

    #[test]
    fn unknown_names_are_errors() {
        let e = "ajar".parse::<PortState>().unwrap_err();
        assert_eq!(e.to_string(), "unknown state `ajar`");
        assert!("SYN-ACK".parse::<Reason>().is_err());
        assert!("".parse::<Protocol>().is_err());
    }

    #[test]
    fn tcp_states_are_unchanged() {
        use PortState::{Closed, Filtered, Open};
        let want = [
            (Reason::SynAck, Open),
            (Reason::ConnRefused, Closed),
            (Reason::NoResponse, Filtered),
            (Reason::HostUnreach, Filtered),
            (Reason::NetUnreach, Filtered),
            (Reason::AdminProhibited, Filtered),
            (Reason::LocalError, Filtered),
            (Reason::PortUnreach, Filtered),
            (Reason::ProxyConnected, Open),
            (Reason::ProxyRefused, Closed),
            (Reason::ProxyHostUnreach, Filtered),
            (Reason::ProxyNetUnreach, Filtered),
            (Reason::ProxyDenied, Filtered),
            (Reason::ProxyNoResponse, Filtered),
        ];
        for (reason, state) in want {
            assert_eq!(reason.state(Protocol::Tcp), state, "{reason}");
        }
    }

    #[test]
    fn udp_states() {
        use PortState::{Closed, Filtered, Open, OpenFiltered};
        let want = [
            (Reason::UdpResponse, Open),
            (Reason::PortUnreach, Closed),
            (Reason::ConnRefused, Closed),
            (Reason::NoResponse, OpenFiltered),
            (Reason::HostUnreach, Filtered),
            (Reason::NetUnreach, Filtered),
            (Reason::AdminProhibited, Filtered),
            (Reason::LocalError, Filtered),
        ];
        for (reason, state) in want {
            assert_eq!(reason.state(Protocol::Udp), state, "{reason}");
        }
    }

    #[test]
    fn new_derives_the_state_from_protocol_and_reason() {
        let r = PortResult::new(ep(Protocol::Udp), Reason::NoResponse, None, 2);
        assert_eq!(r.state, PortState::OpenFiltered);
        let r = PortResult::new(ep(Protocol::Tcp), Reason::NoResponse, None, 2);
        assert_eq!(r.state, PortState::Filtered);
    }

    #[test]
    fn serialises_flat_and_reads_back() {
        let mut e = ep(Protocol::Tcp);
        e.port = 22;
        let r = PortResult::new(e, Reason::SynAck, Some(Duration::from_micros(410)), 1);
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(
            text,
            r#"{"addr":"198.18.0.1","port":22,"proto":"tcp","state":"open","reason":"syn-ack","rtt_ms":0.41,"tries":1}"#
        );
        assert_eq!(serde_json::from_str::<PortResult>(&text).unwrap(), r);

        let mut e = ep(Protocol::Udp);
        e.name = Some("lab.test".into());
        let r = PortResult::new(e, Reason::NoResponse, None, 3);
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(
            text,
            r#"{"addr":"198.18.0.1","hostname":"lab.test","port":53,"proto":"udp","state":"open|filtered","reason":"no-response","tries":3}"#
        );
        assert_eq!(serde_json::from_str::<PortResult>(&text).unwrap(), r);
    }

    #[test]
    fn reading_checks_the_state_against_the_reason() {
        let text = r#"{"addr":"198.18.0.1","port":22,"proto":"tcp","state":"open","reason":"conn-refused","tries":1}"#;
        let e = serde_json::from_str::<PortResult>(text).unwrap_err();
        assert!(e.to_string().contains("does not follow"), "{e}");
        let text = r#"{"addr":"198.18.0.1","port":22,"proto":"sctp","state":"open","reason":"syn-ack","tries":1}"#;
        assert!(serde_json::from_str::<PortResult>(text).is_err());
    }

    #[test]
    fn rtt_is_rounded_to_the_microsecond() {
        let r = PortResult::new(
            ep(Protocol::Tcp),
            Reason::SynAck,
            Some(Duration::from_nanos(1_234_567)),
            1,
        );
        assert_eq!(r.rtt_ms(), Some(1.235));
    }
}
