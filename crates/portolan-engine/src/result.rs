//! What the engine reports for each (host, port).
//!
//! The result types themselves live in `portolan-model`, shared with every printer
//! and the history; they are re-exported here so the engine's modules and its users
//! name them from one place. The run's [`Summary`] is the engine's own.

use std::time::Duration;

pub use portolan_model::{
    Endpoint, HostResult, HostState, HttpInfo, Method, PortResult, PortState, Protocol, Reason,
    Service, TlsInfo,
};

/// Counts and timings of a whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Results per (state, reason), in a stable order.
    pub counts: std::collections::BTreeMap<(PortState, Reason), u64>,
    /// Probes started (first tries and retries).
    pub probes_sent: u64,
    /// Probes that were retries of an unanswered one.
    pub retries: u64,
    /// Pairs skipped because an exclusion covered them.
    pub excluded: u64,
    /// Wall time from the first probe to the last result.
    pub elapsed: Duration,
    /// False when the run was cancelled before every pair was answered.
    pub complete: bool,
    /// The most probes that were in flight at once.
    pub max_in_flight: usize,
    /// Hosts whose ICMP port unreachables were found rate limited, with the period
    /// (one answer per period): the scan waited for them, so closed ports stay closed.
    pub icmp_limited: Vec<(std::net::IpAddr, Duration)>,
    /// Hosts stopped by `--max-open-per-host`, by address, each with how many of
    /// its pairs were not scanned (dropped once the cap was reached).
    pub capped: Vec<(std::net::IpAddr, u64)>,
    /// Hosts found answering every port: too many open ports, and random canary
    /// ports outside the scanned ones open too. The engine never fills this; the
    /// caller's wildcard check does (`portolan scan`), for every report to show.
    pub all_open: Vec<AllOpen>,
}

/// A host that answers every port (a SYN proxy, some firewalls and CDNs): its
/// open ports say nothing about what runs there. The reason is always `wildcard`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllOpen {
    /// The host.
    pub addr: std::net::IpAddr,
    /// Open ports the scan found on it.
    pub open: u64,
    /// Its ports answered in all (open, closed or filtered).
    pub answered: u64,
    /// The canary ports probed, every one open.
    pub canaries: Vec<u16>,
    /// With `-sV`: the open ports where identification confirmed a service (by
    /// banner or probe, not the port-number guess), with the service's name.
    pub identified: Vec<(u16, String)>,
}

impl AllOpen {
    /// The reason every format gives for the mark.
    pub const REASON: &'static str = "wildcard";
}

impl Summary {
    /// Results in `state`, whatever their reason.
    pub fn count(&self, state: PortState) -> u64 {
        self.counts
            .iter()
            .filter(|((s, _), _)| *s == state)
            .map(|(_, n)| n)
            .sum()
    }

    /// Pairs not scanned because their host reached `--max-open-per-host`.
    pub fn not_scanned(&self) -> u64 {
        self.capped.iter().map(|(_, n)| n).sum()
    }

    /// Whether `addr` was found answering every port.
    pub fn all_open(&self, addr: std::net::IpAddr) -> Option<&AllOpen> {
        self.all_open.iter().find(|h| h.addr == addr)
    }

    /// Results reported, every state.
    pub fn results(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Probes sent per second of the run (retries included; with `-sV`, over the
    /// identification's time too); `None` for a run that took no time.
    pub fn probes_per_second(&self) -> Option<f64> {
        let secs = self.elapsed.as_secs_f64();
        (secs > 0.0).then(|| self.probes_sent as f64 / secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_scan_reasons_have_their_states_and_names() {
        use portolan_model::Protocol;
        assert_eq!(Reason::Reset.state(Protocol::Tcp), PortState::Closed);
        assert_eq!(Reason::Reset.to_string(), "reset");
        assert_eq!("reset".parse::<Reason>().ok(), Some(Reason::Reset));
        assert_eq!(
            Reason::PortUnreach.state(Protocol::Tcp),
            PortState::Filtered
        );
        assert_eq!(crate::Answer::Reset.reason(), Reason::Reset);
    }
}
