//! What changed between two scans, computed from their results alone (no I/O).
//!
//! A [`Snapshot`] is one scan as the history keeps it: the non-closed results, the
//! hosts with their closed counts, and the port list. A port that has no row is
//! closed if its host answered in that scan and the port was in its list, and was
//! not scanned otherwise. A host is *up* when at least one port answered (open or
//! closed); a host whose every port was filtered looks the same as no host, so it
//! counts as down. Only ports scanned in both runs are compared.
//!
//! Ports are keyed by (number, protocol): TCP 53 and UDP 53 are different ports.
//! Closed counts and the port list are of TCP; every UDP result is a row of its own
//! (see the recorder), so a UDP port was scanned in a run exactly when it has a row
//! there, and only UDP ports with a row in both runs are compared.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use portolan_engine::{PortResult, PortState, Protocol};
use portolan_target::PortList;
use serde::Serialize;

/// What a service looked like, for comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceId {
    /// The service name.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The product, if identified.
    pub product: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The version, if identified.
    pub version: Option<String>,
}

#[derive(Debug, Default)]
struct HostSnap {
    closed: u64,
    ports: BTreeMap<(u16, Protocol), (PortState, Option<ServiceId>)>,
}

impl HostSnap {
    fn up(&self) -> bool {
        self.closed > 0 || self.ports.values().any(|(s, _)| *s == PortState::Open)
    }
}

/// One scan, as compared.
#[derive(Debug)]
pub struct Snapshot {
    ports: PortList,
    hosts: BTreeMap<IpAddr, HostSnap>,
}

impl Snapshot {
    /// `closed` gives each host's closed count (hosts with none may be left out).
    pub fn new(
        ports: PortList,
        results: &[PortResult],
        closed: impl IntoIterator<Item = (IpAddr, u64)>,
    ) -> Self {
        let mut hosts: BTreeMap<IpAddr, HostSnap> = BTreeMap::new();
        for (addr, n) in closed {
            hosts.entry(addr).or_default().closed += n;
        }
        for r in results {
            let service = r.service.as_deref().map(|s| ServiceId {
                name: s.name.clone(),
                product: s.product.clone(),
                version: s.version.clone(),
            });
            hosts
                .entry(r.endpoint.addr)
                .or_default()
                .ports
                .insert((r.endpoint.port, r.endpoint.proto), (r.state, service));
        }
        Snapshot { ports, hosts }
    }

    fn state(&self, addr: IpAddr, key: (u16, Protocol)) -> Option<(PortState, Option<&ServiceId>)> {
        let host = self.hosts.get(&addr)?;
        match host.ports.get(&key) {
            Some((state, service)) => Some((*state, service.as_ref())),
            None if key.1 == Protocol::Tcp && self.ports.contains(key.0) && host.closed > 0 => {
                Some((PortState::Closed, None))
            }
            None => None,
        }
    }

    /// Whether this run scanned the port on `addr` (as far as the history can tell).
    fn scanned(&self, addr: IpAddr, key: (u16, Protocol)) -> bool {
        match key.1 {
            Protocol::Tcp => self.ports.contains(key.0),
            Protocol::Udp => self
                .hosts
                .get(&addr)
                .is_some_and(|h| h.ports.contains_key(&key)),
        }
    }
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A host answered in one scan and not the other.
    Host {
        /// The host.
        addr: IpAddr,
        /// `up` or `down` in the older scan.
        was: &'static str,
        /// `up` or `down` in the newer scan.
        now: &'static str,
    },
    /// A port's state changed (`None`: not scanned or host absent).
    Port {
        /// The host.
        addr: IpAddr,
        /// The port.
        port: u16,
        /// The protocol (TCP and UDP ports of one number are apart).
        proto: Protocol,
        /// Its state in the older scan.
        was: Option<&'static str>,
        /// Its state in the newer scan.
        now: Option<&'static str>,
    },
    /// An open port's service changed.
    Service {
        /// The host.
        addr: IpAddr,
        /// The port.
        port: u16,
        /// The protocol (TCP and UDP ports of one number are apart).
        proto: Protocol,
        /// The service in the older scan.
        was: Option<ServiceId>,
        /// The service in the newer scan.
        now: Option<ServiceId>,
    },
}

fn updown(up: bool) -> &'static str {
    if up {
        "up"
    } else {
        "down"
    }
}

/// The differences from `old` to `new`, hosts first, then ports by host and number.
pub fn diff(old: &Snapshot, new: &Snapshot) -> Vec<Change> {
    let mut changes = Vec::new();
    let addrs: BTreeSet<IpAddr> = old.hosts.keys().chain(new.hosts.keys()).copied().collect();
    for &addr in &addrs {
        let was = old.hosts.get(&addr).is_some_and(HostSnap::up);
        let now = new.hosts.get(&addr).is_some_and(HostSnap::up);
        if was != now {
            changes.push(Change::Host {
                addr,
                was: updown(was),
                now: updown(now),
            });
        }
    }
    for &addr in &addrs {
        let mut ports: BTreeSet<(u16, Protocol)> = BTreeSet::new();
        for snap in [old, new] {
            if let Some(h) = snap.hosts.get(&addr) {
                ports.extend(h.ports.keys());
            }
        }
        for key in ports {
            if old.scanned(addr, key) && new.scanned(addr, key) {
                port_change(
                    &mut changes,
                    addr,
                    key,
                    old.state(addr, key),
                    new.state(addr, key),
                );
            }
        }
    }
    changes
}

fn port_change(
    changes: &mut Vec<Change>,
    addr: IpAddr,
    (port, proto): (u16, Protocol),
    was: Option<(PortState, Option<&ServiceId>)>,
    now: Option<(PortState, Option<&ServiceId>)>,
) {
    let (ws, ns) = (was.map(|w| w.0), now.map(|n| n.0));
    if ws != ns {
        let interesting = ws.is_some() && ns.is_some()
            || ws == Some(PortState::Open)
            || ns == Some(PortState::Open);
        if interesting {
            changes.push(Change::Port {
                addr,
                port,
                proto,
                was: ws.map(PortState::as_str),
                now: ns.map(PortState::as_str),
            });
        }
        return;
    }
    if ws == Some(PortState::Open) {
        let (wsvc, nsvc) = (was.and_then(|w| w.1), now.and_then(|n| n.1));
        if wsvc != nsvc {
            changes.push(Change::Service {
                addr,
                port,
                proto,
                was: wsvc.cloned(),
                now: nsvc.cloned(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_engine::{Endpoint, Method, Protocol, Reason, Service};

    fn r(addr: &str, port: u16, reason: Reason, product: Option<&str>) -> PortResult {
        let mut r = PortResult::new(
            Endpoint {
                addr: addr.parse().unwrap(),
                port,
                name: None,
                proto: Protocol::Tcp,
            },
            reason,
            None,
            1,
        );
        r.service = product.map(|p| {
            Box::new(Service {
                name: "http".into(),
                product: Some(p.into()),
                version: None,
                info: None,
                cpe: Vec::new(),
                method: Method::Probed,
                confidence: 8,
                soft: false,
                banner: None,
                tls: None,
                http: None,
            })
        });
        r
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn finds_each_kind_of_change() {
        let ports = || PortList::parse("1-100").unwrap();
        let old = Snapshot::new(
            ports(),
            &[
                r("10.0.0.1", 22, Reason::SynAck, None),
                r("10.0.0.1", 80, Reason::SynAck, Some("Apache")),
                r("10.0.0.2", 22, Reason::SynAck, None),
            ],
            [(ip("10.0.0.1"), 98)],
        );
        let new = Snapshot::new(
            ports(),
            &[
                r("10.0.0.1", 23, Reason::SynAck, None),
                r("10.0.0.1", 80, Reason::SynAck, Some("nginx")),
                r("10.0.0.3", 25, Reason::NoResponse, None),
            ],
            [(ip("10.0.0.1"), 98)],
        );
        let changes = diff(&old, &new);
        let svc = |p: &str| {
            Some(ServiceId {
                name: "http".into(),
                product: Some(p.into()),
                version: None,
            })
        };
        assert_eq!(
            changes,
            [
                Change::Host {
                    addr: ip("10.0.0.2"),
                    was: "up",
                    now: "down"
                },
                Change::Port {
                    addr: ip("10.0.0.1"),
                    port: 22,
                    proto: Protocol::Tcp,
                    was: Some("open"),
                    now: Some("closed")
                },
                Change::Port {
                    addr: ip("10.0.0.1"),
                    port: 23,
                    proto: Protocol::Tcp,
                    was: Some("closed"),
                    now: Some("open")
                },
                Change::Service {
                    addr: ip("10.0.0.1"),
                    port: 80,
                    proto: Protocol::Tcp,
                    was: svc("Apache"),
                    now: svc("nginx")
                },
                Change::Port {
                    addr: ip("10.0.0.2"),
                    port: 22,
                    proto: Protocol::Tcp,
                    was: Some("open"),
                    now: None
                },
            ]
        );
    }

    #[test]
    fn same_scan_no_change() {
        let snap = || {
            Snapshot::new(
                PortList::parse("22").unwrap(),
                &[r("10.0.0.1", 22, Reason::SynAck, None)],
                [],
            )
        };
        assert!(diff(&snap(), &snap()).is_empty());
    }

    #[test]
    fn udp_and_tcp_ports_of_the_same_number_are_apart() {
        let ports = PortList::parse("53").unwrap();
        let at = |port, reason| {
            let mut e = r("10.0.0.1", port, reason, None).endpoint;
            e.proto = Protocol::Udp;
            PortResult::new(e, reason, None, 1)
        };
        let udp = |reason| at(53, reason);
        let only_new = at(161, Reason::UdpResponse);
        let old = Snapshot::new(
            ports.clone(),
            &[udp(Reason::UdpResponse)],
            [(ip("10.0.0.1"), 1)],
        );
        let new = Snapshot::new(
            ports,
            &[udp(Reason::NoResponse), only_new],
            [(ip("10.0.0.1"), 1)],
        );
        // TCP 53 is closed in both (counted); UDP 53 went from open to open|filtered;
        // UDP 161 was not scanned before, so it is not compared.
        assert_eq!(
            diff(&old, &new),
            vec![Change::Port {
                addr: ip("10.0.0.1"),
                port: 53,
                proto: Protocol::Udp,
                was: Some("open"),
                now: Some("open|filtered"),
            }]
        );
    }
}
