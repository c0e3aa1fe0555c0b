//! Results gathered per host, for the formats that print host by host (XML,
//! grepable, the JSON document).
//!
//! The engine answers pairs in a random order, so a host is only complete at the
//! end of the run. Memory stays bounded: every open
//! port is kept, and other (protocol, state, reason) groups keep their ports only
//! while they have at most [`FEW`] members; beyond that only a count is kept and the
//! group is summarised (nmap's `extraports`, our `not_shown`).
//!
//! A sweep holds every host it answered for, most with nothing but a closed port or
//! two, so a host costs as little as it can: its groups are a short vector, not a
//! map, and a listed port without a service is kept as its number, round trip and
//! tries ([`Brief`], 16 bytes), rebuilt into a [`PortResult`] only when printed
//! (protocol, state and reason are the group's, address and name the host's). A
//! /16 with two closed ports each then takes about a third of what full results did
//! (see BENCHMARKS.md, "Sharding and merge").

use std::borrow::Cow;
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use portolan_engine::{Endpoint, HostResult, HostState, PortResult, PortState, Protocol, Reason};

/// Groups with at most this many ports are listed one by one.
pub const FEW: usize = 25;

/// A listed port without a service: what the group and the host do not already say.
#[derive(Debug, Clone, Copy)]
struct Brief {
    /// The round trip in nanoseconds; `u64::MAX` for none.
    rtt_ns: u64,
    port: u16,
    tries: u8,
}

impl Brief {
    const NO_RTT: u64 = u64::MAX;

    fn of(r: &PortResult) -> Self {
        Brief {
            rtt_ns: r.rtt.map_or(Self::NO_RTT, |d| {
                u64::try_from(d.as_nanos()).unwrap_or(Self::NO_RTT - 1)
            }),
            port: r.endpoint.port,
            tries: r.tries,
        }
    }
}

/// The key of a group: protocol, state, reason.
type GroupKey = (Protocol, PortState, Reason);

/// One (protocol, state, reason) group of a host.
#[derive(Debug, Default)]
struct Group {
    count: u64,
    /// Listed ports with no service, kept brief.
    brief: Vec<Brief>,
    /// Listed ports with a service, kept whole.
    full: Vec<PortResult>,
}

impl Group {
    fn kept(&self) -> usize {
        self.brief.len() + self.full.len()
    }
}

/// One host's groups, in the order they first appeared (a host has a handful).
#[derive(Debug, Default)]
struct Host {
    groups: Vec<(GroupKey, Group)>,
    /// What host discovery said, when it ran.
    status: Option<HostResult>,
}

impl Host {
    fn has_open(&self) -> bool {
        self.groups
            .iter()
            .any(|((_, s, _), _)| *s == PortState::Open)
    }

    fn group(&mut self, key: GroupKey) -> &mut Group {
        let i = self
            .groups
            .iter()
            .position(|(k, _)| *k == key)
            .unwrap_or_else(|| {
                self.groups.push((key, Group::default()));
                self.groups.len() - 1
            });
        &mut self.groups[i].1
    }
}

pub use portolan_target::HostKey;

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
    /// Listed ports, by port number (and protocol): borrowed when kept whole,
    /// rebuilt when kept brief.
    pub ports: Vec<Cow<'a, PortResult>>,
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
    /// Hosts found up and down by discovery that were taken out (written early).
    taken_discovered: (u64, u64),
}

impl Hosts {
    /// `open_only` lists only open ports and leaves out hosts without one.
    pub fn new(open_only: bool) -> Self {
        Hosts {
            open_only,
            by_key: BTreeMap::new(),
            quiet: 0,
            taken_discovered: (0, 0),
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
                // Most hosts of a sweep have one group: room for exactly that.
                e.insert(Host {
                    groups: Vec::with_capacity(1),
                    status: None,
                })
            }
        };
        let group = host.group((r.endpoint.proto, r.state, r.reason));
        group.count += 1;
        let keep = r.state == PortState::Open || (!self.open_only && group.count <= FEW as u64);
        if keep {
            if r.service.is_some() {
                group.full.push(r.clone());
            } else {
                group.brief.push(Brief::of(r));
            }
        } else if r.state != PortState::Open && group.kept() > 0 {
            group.brief = Vec::new();
            group.full = Vec::new();
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
        let mut counts = self.taken_discovered;
        for h in self.by_key.values().filter_map(|h| h.status.as_ref()) {
            match h.state {
                HostState::Up => counts.0 += 1,
                HostState::Down => counts.1 += 1,
            }
        }
        counts
    }

    /// Takes the hosts of `keys` out (those held), as a collection of their own to
    /// print: what a report does when a host group is done.
    pub fn take(&mut self, keys: &[HostKey]) -> Hosts {
        let mut out = Hosts::new(self.open_only);
        for key in keys {
            if let Some(host) = self.by_key.remove(key) {
                if !host.has_open() {
                    self.quiet -= 1;
                    out.quiet += 1;
                }
                if let Some(status) = &host.status {
                    match status.state {
                        HostState::Up => self.taken_discovered.0 += 1,
                        HostState::Down => self.taken_discovered.1 += 1,
                    }
                }
                out.by_key.insert(key.clone(), host);
            }
        }
        out
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
            for &((proto, state, reason), ref g) in &host.groups {
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
            // Under `--open`, a host with no open port is left out, unless discovery
            // found it up and it has no ports at all (`-sn`).
            let up = host.status.as_ref().is_some_and(HostResult::is_up);
            if self.open_only && !host.has_open() && !(up && host.groups.is_empty()) {
                return None;
            }
            let mut ports = Vec::new();
            let mut hidden = Vec::new();
            let mut groups: Vec<_> = host.groups.iter().collect();
            groups.sort_unstable_by_key(|(k, _)| *k);
            for &&((proto, state, reason), ref g) in &groups {
                if g.kept() as u64 == g.count && (state == PortState::Open || !self.open_only) {
                    ports.extend(g.full.iter().map(Cow::Borrowed));
                    ports.extend(g.brief.iter().map(|b| {
                        let endpoint = Endpoint {
                            addr: *addr,
                            port: b.port,
                            name: name.clone(),
                            proto,
                        };
                        let rtt =
                            (b.rtt_ns != Brief::NO_RTT).then(|| Duration::from_nanos(b.rtt_ns));
                        let mut r = PortResult::new(endpoint, reason, rtt, b.tries);
                        r.state = state;
                        Cow::Owned(r)
                    }));
                } else {
                    hidden.push(Hidden {
                        proto,
                        state,
                        reason,
                        count: g.count,
                    });
                }
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
    fn taken_hosts_leave_with_their_quiet_count() {
        let mut h = Hosts::new(false);
        h.add(&r(23, Reason::ConnRefused));
        h.add(&r(22, Reason::ConnRefused));
        let other = PortResult::new(
            Endpoint {
                addr: "127.0.0.2".parse().unwrap(),
                port: 1,
                name: None,
                proto: Protocol::Tcp,
            },
            Reason::SynAck,
            None,
            1,
        );
        h.add(&other);
        let taken = h.take(&[("127.0.0.1".parse().unwrap(), None)]);
        assert_eq!((taken.len(), taken.quiet()), (1, 1));
        assert_eq!((h.len(), h.quiet()), (1, 0));
        assert_eq!(taken.views().next().unwrap().total(), 2);
        assert!(h.contains(&other.endpoint));
    }

    #[test]
    fn open_only_hides_hosts_without_open_ports() {
        let mut h = Hosts::new(true);
        h.add(&r(23, Reason::ConnRefused));
        assert_eq!(h.views().count(), 0);
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn a_port_kept_brief_comes_back_as_it_was_added() {
        let mut h = Hosts::new(false);
        let named = |port, reason, rtt, tries| {
            PortResult::new(
                Endpoint {
                    addr: "198.18.0.1".parse().unwrap(),
                    port,
                    name: Some("lab.test".into()),
                    proto: Protocol::Udp,
                },
                reason,
                rtt,
                tries,
            )
        };
        let closed = named(
            161,
            Reason::PortUnreach,
            Some(Duration::from_nanos(410_637)),
            3,
        );
        let silent = named(9, Reason::NoResponse, None, 2);
        let mut open = named(53, Reason::UdpResponse, Some(Duration::from_micros(90)), 1);
        open.service = Some(Box::new(crate::fixture::ssh()));
        for r in [&closed, &silent, &open] {
            h.add(r);
        }
        let v: Vec<_> = h.views().collect();
        assert_eq!(v.len(), 1);
        let back: Vec<&PortResult> = v[0].ports.iter().map(AsRef::as_ref).collect();
        assert_eq!(back, [&silent, &open, &closed]);
        assert!(
            matches!(v[0].ports[1], Cow::Borrowed(_)),
            "a service is kept whole"
        );
    }
}
