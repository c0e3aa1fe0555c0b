//! Results gathered per host, for the formats that print host by host (XML,
//! grepable, the JSON document).
//!
//! The engine answers pairs in a random order, so a host is only complete at the
//! end of the run. Memory stays bounded the same way as the table's: every open
//! port is kept, and other (protocol, state, reason) groups keep their ports only
//! while they have at most [`FEW`] members; beyond that only a count is kept and the
//! group is summarised (nmap's `extraports`, our `not_shown`).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use portolan_engine::{PortResult, PortState, Protocol, Reason};

pub use crate::table::FEW;

/// One (protocol, state, reason) group of a host.
#[derive(Debug, Default)]
struct Group {
    count: u64,
    kept: Vec<PortResult>,
}

/// One host's groups.
#[derive(Debug, Default)]
struct Host {
    groups: BTreeMap<(Protocol, PortState, Reason), Group>,
}

/// A summarised group: `count` `proto` ports in `state` for `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hidden {
    pub proto: Protocol,
    pub state: PortState,
    pub reason: Reason,
    pub count: u64,
}

/// What a format prints for one host.
#[derive(Debug)]
pub struct HostView<'a> {
    pub addr: IpAddr,
    pub name: Option<&'a str>,
    /// Listed ports, by port number (and protocol).
    pub ports: Vec<&'a PortResult>,
    /// Groups too large to list (or not open, under `--open`).
    pub hidden: Vec<Hidden>,
}

impl HostView<'_> {
    /// Every port of the host, listed or not.
    pub fn total(&self) -> u64 {
        self.ports.len() as u64 + self.hidden.iter().map(|h| h.count).sum::<u64>()
    }
}

/// Collects results host by host.
#[derive(Debug, Default)]
pub struct Hosts {
    open_only: bool,
    hosts: BTreeMap<(IpAddr, Option<Arc<str>>), Host>,
}

impl Hosts {
    /// `open_only` lists only open ports and leaves out hosts without one.
    pub fn new(open_only: bool) -> Self {
        Hosts {
            open_only,
            hosts: BTreeMap::new(),
        }
    }

    pub fn add(&mut self, r: &PortResult) {
        let key = (r.endpoint.addr, r.endpoint.name.clone());
        let group = self
            .hosts
            .entry(key)
            .or_default()
            .groups
            .entry((r.endpoint.proto, r.state, r.reason))
            .or_default();
        group.count += 1;
        let keep = r.state == PortState::Open || (!self.open_only && group.count <= FEW as u64);
        if keep {
            group.kept.push(r.clone());
        } else if r.state != PortState::Open && !group.kept.is_empty() {
            group.kept = Vec::new();
        }
    }

    /// Hosts seen, `--open` filtering not applied.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// The hosts to print, by address.
    pub fn views(&self) -> impl Iterator<Item = HostView<'_>> {
        self.hosts.iter().filter_map(|((addr, name), host)| {
            let mut ports = Vec::new();
            let mut hidden = Vec::new();
            for (&(proto, state, reason), g) in &host.groups {
                if g.kept.len() as u64 == g.count && (state == PortState::Open || !self.open_only) {
                    ports.extend(g.kept.iter());
                } else {
                    hidden.push(Hidden {
                        proto,
                        state,
                        reason,
                        count: g.count,
                    });
                }
            }
            let has_open = host.groups.keys().any(|(_, s, _)| *s == PortState::Open);
            if self.open_only && !has_open {
                return None;
            }
            ports.sort_unstable_by_key(|r| (r.endpoint.port, r.endpoint.proto));
            Some(HostView {
                addr: *addr,
                name: name.as_deref(),
                ports,
                hidden,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_engine::Endpoint;

    fn r(port: u16, reason: Reason) -> PortResult {
        PortResult::new(
            Endpoint {
                addr: "127.0.0.1".parse().unwrap(),
                port,
                name: None,
                proto: Protocol::Tcp,
            },
            reason,
            None,
            1,
        )
    }

    #[test]
    fn few_are_listed_and_many_summarised() {
        let mut h = Hosts::new(false);
        for p in 1..=100 {
            h.add(&r(
                p,
                if p == 22 {
                    Reason::SynAck
                } else {
                    Reason::ConnRefused
                },
            ));
        }
        for p in 200..203 {
            h.add(&r(p, Reason::NoResponse));
        }
        let v: Vec<_> = h.views().collect();
        assert_eq!(v.len(), 1);
        let ports: Vec<u16> = v[0].ports.iter().map(|r| r.endpoint.port).collect();
        assert_eq!(ports, [22, 200, 201, 202]);
        assert_eq!(
            v[0].hidden,
            [Hidden {
                proto: Protocol::Tcp,
                state: PortState::Closed,
                reason: Reason::ConnRefused,
                count: 99
            }]
        );
        assert_eq!(v[0].total(), 103);
    }

    #[test]
    fn open_only_hides_hosts_without_open_ports() {
        let mut h = Hosts::new(true);
        h.add(&r(23, Reason::ConnRefused));
        assert_eq!(h.views().count(), 0);
        assert_eq!(h.len(), 1);
    }
}
