//! Results gathered per host, for the formats that print host by host (XML,
//! grepable, the JSON document).
//!
//! The engine answers pairs in a random order, so a host is only complete at the
//! end of the run. Memory stays bounded: every open
//! port is kept, and other (protocol, state, reason) groups keep their ports only
//! while they have at most [`FEW`] members; beyond that only a count is kept and the
//! group is summarised (nmap's `extraports`, our `not_shown`).

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use portolan_engine::{Endpoint, HostResult, HostState, PortResult, PortState, Protocol, Reason};

/// Groups with at most this many ports are listed one by one.
pub const FEW: usize = 25;

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
    /// What host discovery said, when it ran.
    status: Option<HostResult>,
}

impl Host {
    fn has_open(&self) -> bool {
        self.groups.keys().any(|(_, s, _)| *s == PortState::Open)
    }
}

/// A host's key: its address and the name it was given as.
type HostKey = (IpAddr, Option<Arc<str>>);

/// A summarised group: `count` `proto` ports in `state` for `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hidden {
    /// The ports' protocol.
    pub proto: Protocol,
    /// Their state.
    pub state: PortState,
    /// The reason for it.
    pub reason: Reason,
    /// How many ports.
    pub count: u64,
}

/// What a format prints for one host.
#[derive(Debug)]
pub struct HostView<'a> {
    /// The host's address.
    pub addr: IpAddr,
    /// The name it was given as, if any.
    pub name: Option<&'a str>,
    /// Listed ports, by port number (and protocol).
    pub ports: Vec<&'a PortResult>,
    /// Groups too large to list (or not open, under `--open`).
    pub hidden: Vec<Hidden>,
    /// What host discovery said about the host, when it ran (`-sn`, `--discover`).
    pub status: Option<&'a HostResult>,
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
    by_key: BTreeMap<HostKey, Host>,
    /// Hosts in `hosts` without an open port.
    quiet: usize,
}

impl Hosts {
    /// `open_only` lists only open ports and leaves out hosts without one.
    pub fn new(open_only: bool) -> Self {
        Hosts {
            open_only,
            by_key: BTreeMap::new(),
            quiet: 0,
        }
    }

    /// Adds one result to its host.
    pub fn add(&mut self, r: &PortResult) {
        let key = (r.endpoint.addr, r.endpoint.name.clone());
        let open = r.state == PortState::Open;
        let host = match self.by_key.entry(key) {
            Entry::Occupied(e) => {
                let host = e.into_mut();
                if open && !host.has_open() {
                    self.quiet -= 1;
                }
                host
            }
            Entry::Vacant(e) => {
                if !open {
                    self.quiet += 1;
                }
                e.insert(Host::default())
            }
        };
        let group = host
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

    /// Adds a host's discovery result.
    pub fn add_host(&mut self, h: &HostResult) {
        let key = (h.addr, h.name.clone());
        let host = match self.by_key.entry(key) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                self.quiet += 1;
                e.insert(Host::default())
            }
        };
        host.status = Some(h.clone());
    }

    /// Hosts found up and down by discovery.
    pub fn discovered(&self) -> (u64, u64) {
        let mut counts = (0, 0);
        for h in self.by_key.values().filter_map(|h| h.status.as_ref()) {
            match h.state {
                HostState::Up => counts.0 += 1,
                HostState::Down => counts.1 += 1,
            }
        }
        counts
    }

    /// Hosts seen, `--open` filtering not applied.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether no result was added.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Hosts held without an open port (so far).
    pub fn quiet(&self) -> usize {
        self.quiet
    }

    /// Whether the host of `endpoint` is held.
    pub fn contains(&self, endpoint: &Endpoint) -> bool {
        self.by_key
            .contains_key(&(endpoint.addr, endpoint.name.clone()))
    }

    /// Removes every host without an open port, handing `fold` each of its groups
    /// as a count: a caller that cannot hold every quiet host (the table, over a
    /// sweep of a large range) keeps their counts instead.
    pub fn fold_quiet(&mut self, mut fold: impl FnMut(Hidden)) {
        self.by_key.retain(|_, host| {
            if host.has_open() {
                return true;
            }
            for (&(proto, state, reason), g) in &host.groups {
                fold(Hidden {
                    proto,
                    state,
                    reason,
                    count: g.count,
                });
            }
            false
        });
        self.quiet = 0;
    }

    /// The hosts to print, by address.
    pub fn views(&self) -> impl Iterator<Item = HostView<'_>> {
        self.by_key.iter().filter_map(|((addr, name), host)| {
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
            let up = host.status.as_ref().is_some_and(HostResult::is_up);
            if self.open_only && !has_open && !(up && host.groups.is_empty()) {
                return None;
            }
            ports.sort_unstable_by_key(|r| (r.endpoint.port, r.endpoint.proto));
            Some(HostView {
                addr: *addr,
                name: name.as_deref(),
                ports,
                hidden,
                status: host.status.as_ref(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn quiet_hosts_are_counted_and_folded() {
        let mut h = Hosts::new(false);
        h.add(&r(23, Reason::ConnRefused));
        assert_eq!(h.quiet(), 1);
        h.add(&r(22, Reason::SynAck));
        assert_eq!(h.quiet(), 0, "an open port makes the host loud");
        let other = PortResult::new(
            Endpoint {
                addr: "127.0.0.2".parse().unwrap(),
                port: 1,
                name: None,
                proto: Protocol::Tcp,
            },
            Reason::NoResponse,
            None,
            2,
        );
        h.add(&other);
        h.add(&other);
        assert_eq!(h.quiet(), 1);
        let mut folded = Vec::new();
        h.fold_quiet(|g| folded.push(g));
        assert_eq!(
            folded,
            [Hidden {
                proto: Protocol::Tcp,
                state: PortState::Filtered,
                reason: Reason::NoResponse,
                count: 2
            }]
        );
        assert_eq!((h.len(), h.quiet()), (1, 0));
        assert!(h.contains(&r(1, Reason::SynAck).endpoint));
        assert!(!h.contains(&other.endpoint));
    }

    #[test]
    fn open_only_hides_hosts_without_open_ports() {
        let mut h = Hosts::new(true);
        h.add(&r(23, Reason::ConnRefused));
        assert_eq!(h.views().count(), 0);
        assert_eq!(h.len(), 1);
    }
}
