//! Whether a host is up, and why: the result of host discovery (`-sn`, `--discover`).
//!
//! As with ports, the state is never chosen: it follows from the [`Reason`]
//! ([`Reason::host_state`]). Any answer at all from the host (an echo reply, a
//! reset, a refused connection, an ARP reply) means up; silence after every retry,
//! or an ICMP unreachable from a router on the way, means down.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::names::names;
use crate::port::rtt_ms;
use crate::Reason;

/// Whether a host answered host discovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HostState {
    /// Something answered for the host itself.
    Up,
    /// Nothing answered, or a router said the host cannot be reached.
    Down,
}

names!(HostState, "host state", {
    Up => "up",
    Down => "down",
});

impl Reason {
    /// The host state this reason implies when it answered a discovery ping.
    ///
    /// An answer from the host, of any kind, is up (a reset or a refused connection
    /// comes from the host's own stack); silence, ICMP unreachables (a router's word
    /// that the host is not there, or a filter in the way) and local refusals are
    /// down. A proxy's answers never come from discovery; they read as the
    /// port scan reads them (connected or refused is up).
    pub const fn host_state(self) -> HostState {
        use Reason::{
            AdminProhibited, ArpResponse, ConnRefused, EchoReply, HostUnreach, LocalError,
            NdResponse, NetUnreach, NoResponse, PortUnreach, ProxyConnected, ProxyDenied,
            ProxyHostUnreach, ProxyNetUnreach, ProxyNoResponse, ProxyRefused, Reset, SynAck,
            TimestampReply, UdpResponse,
        };
        match self {
            SynAck | ConnRefused | Reset | UdpResponse | PortUnreach | ProxyConnected
            | ProxyRefused | EchoReply | TimestampReply | ArpResponse | NdResponse => HostState::Up,
            NoResponse | HostUnreach | NetUnreach | AdminProhibited | LocalError
            | ProxyHostUnreach | ProxyNetUnreach | ProxyDenied | ProxyNoResponse => HostState::Down,
        }
    }
}

/// The discovery result for one host.
///
/// Serialised flat: `{"addr":"198.18.0.1","host_state":"up","reason":"echo-reply","rtt_ms":0.2,"tries":1}`,
/// with `hostname` when the target was a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredHost")]
pub struct HostResult {
    /// The address pinged.
    pub addr: IpAddr,
    /// The host name the user typed, when the address came from one.
    #[serde(rename = "hostname", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Arc<str>>,
    /// Follows from `reason` ([`Reason::host_state`]).
    #[serde(rename = "host_state")]
    pub state: HostState,
    /// Why the host is in its state: the first answer, or why there was none.
    pub reason: Reason,
    /// Round-trip time of the answered try; `None` when nothing answered.
    #[serde(
        rename = "rtt_ms",
        with = "rtt_ms",
        skip_serializing_if = "Option::is_none"
    )]
    pub rtt: Option<Duration>,
    /// How many rounds of pings were sent to the host.
    pub tries: u8,
}

impl HostResult {
    /// A result whose state follows from `reason`.
    pub fn new(
        addr: IpAddr,
        name: Option<Arc<str>>,
        reason: Reason,
        rtt: Option<Duration>,
        tries: u8,
    ) -> Self {
        HostResult {
            addr,
            name,
            state: reason.host_state(),
            reason,
            rtt,
            tries,
        }
    }

    /// Whether the host is up.
    pub fn is_up(&self) -> bool {
        self.state == HostState::Up
    }
}

/// The serde form as read, checked before it becomes a [`HostResult`].
#[derive(Deserialize)]
struct StoredHost {
    addr: IpAddr,
    #[serde(rename = "hostname", default)]
    name: Option<Arc<str>>,
    #[serde(rename = "host_state")]
    state: HostState,
    reason: Reason,
    #[serde(rename = "rtt_ms", with = "rtt_ms", default)]
    rtt: Option<Duration>,
    tries: u8,
}

impl TryFrom<StoredHost> for HostResult {
    type Error = String;

    fn try_from(s: StoredHost) -> Result<Self, Self::Error> {
        if s.reason.host_state() != s.state {
            return Err(format!(
                "host state `{}` does not follow from reason `{}`",
                s.state, s.reason
            ));
        }
        Ok(HostResult::new(s.addr, s.name, s.reason, s.rtt, s.tries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_answer_is_up_and_silence_or_unreachable_is_down() {
        for r in Reason::ALL {
            let up = matches!(
                r,
                Reason::SynAck
                    | Reason::ConnRefused
                    | Reason::Reset
                    | Reason::UdpResponse
                    | Reason::PortUnreach
                    | Reason::ProxyConnected
                    | Reason::ProxyRefused
                    | Reason::EchoReply
                    | Reason::TimestampReply
                    | Reason::ArpResponse
                    | Reason::NdResponse
            );
            let want = if up { HostState::Up } else { HostState::Down };
            assert_eq!(r.host_state(), want, "{r}");
        }
    }

    #[test]
    fn serde_form_round_trips_and_checks_the_state() {
        let r = HostResult::new(
            "198.18.0.1".parse().unwrap(),
            None,
            Reason::EchoReply,
            Some(Duration::from_micros(250)),
            1,
        );
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(
            text,
            r#"{"addr":"198.18.0.1","host_state":"up","reason":"echo-reply","rtt_ms":0.25,"tries":1}"#
        );
        assert_eq!(serde_json::from_str::<HostResult>(&text).unwrap(), r);
        let lie = text.replace("\"up\"", "\"down\"");
        assert!(serde_json::from_str::<HostResult>(&lie).is_err());
        assert_eq!(HostState::ALL.len(), 2);
        assert_eq!("down".parse::<HostState>(), Ok(HostState::Down));
    }
}
