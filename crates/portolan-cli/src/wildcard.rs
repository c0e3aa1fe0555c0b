//! Hosts that answer every port (SYN proxies, some firewalls and CDNs): found, checked
//! with canary ports, and marked.
//!
//! A scanner that reports "65535 open" has told the user nothing. While the TCP
//! pass runs, [`Tally`] counts each host's answered and open ports. A host is a
//! **suspect** when it has at least [`MIN_OPEN`] open ports *and* more than
//! [`MIN_SHARE_PERCENT`] % of its answered ports are open (a real server rarely has
//! more than a few dozen ports open out of a thousand; a host scanned on 5 ports, all
//! open, is not suspicious on so little). Suspects get [`CANARIES`] more probes on
//! random high ports (49152-65535, keyed by the run's seed and the address, outside
//! the scanned ports when the list leaves room): ports nobody chooses for a
//! service. If every canary is open too, the host is marked all-open with the
//! reason `wildcard` ([`portolan_engine::AllOpen`]), and every report says so. Its
//! open ports are still reported: the mark says what they are worth. With `-sV`,
//! the mark lists the ports where identification confirmed a service.
//!
//! The canary probes are not results: they are outside the scan's pair space (and
//! `merge` checks every result against that space).

use std::collections::HashMap;

use portolan_target::HostKey;
use std::net::IpAddr;

use portolan_engine::{AllOpen, Endpoint, PortResult, PortState, Protocol, TargetOrder};
use portolan_target::PortList;

/// Open ports a host needs before it is a suspect.
pub const MIN_OPEN: u64 = 16;
/// The share of its answered ports, in percent, that must be open (strictly more).
pub const MIN_SHARE_PERCENT: u64 = 50;
/// Canary ports probed per suspect; all must be open for the mark.
pub const CANARIES: usize = 3;
/// Where canaries are drawn from: the dynamic range, which services rarely use.
const CANARY_RANGE: std::ops::RangeInclusive<u16> = 49152..=65535;

/// Answered and open TCP ports per host, as the results go by.
#[derive(Debug, Default)]
pub struct Tally {
    hosts: HashMap<IpAddr, (u64, u64)>,
}

impl Tally {
    /// Counts one result (UDP ones are not: an open|filtered UDP port means
    /// nothing here).
    pub fn count(&mut self, r: &PortResult) {
        if r.endpoint.proto != Protocol::Tcp {
            return;
        }
        let e = self.hosts.entry(r.endpoint.addr).or_default();
        e.0 += 1;
        e.1 += u64::from(r.state == PortState::Open);
    }

    /// Of `hosts` (a host group the engine has decided), those that cannot be
    /// marked at the end, forgotten here: no open port, so neither a suspect nor
    /// stopped by `--max-open-per-host`. The reports may write and forget them
    /// now; hosts with an open port wait for the end, when their marks are known.
    pub fn settle(&mut self, hosts: &[HostKey]) -> Vec<HostKey> {
        let mut clear = Vec::with_capacity(hosts.len());
        for key in hosts {
            match self.hosts.get(&key.0) {
                Some(&(_, open)) if open > 0 => {}
                Some(_) => {
                    self.hosts.remove(&key.0);
                    clear.push(key.clone());
                }
                None => clear.push(key.clone()),
            }
        }
        clear
    }

    /// The suspects, with (answered, open), by address. A host stopped by
    /// `--max-open-per-host` (in `capped`) needs the share only: its count of open
    /// ports was cut at the cap.
    pub fn suspects(&self, capped: &[(IpAddr, u64)]) -> Vec<(IpAddr, u64, u64)> {
        let mut v: Vec<_> = self
            .hosts
            .iter()
            .filter(|(addr, &(answered, open))| {
                let enough = open >= MIN_OPEN || capped.iter().any(|(a, _)| a == *addr);
                enough && open * 100 > answered * MIN_SHARE_PERCENT
            })
            .map(|(&a, &(answered, open))| (a, answered, open))
            .collect();
        v.sort_unstable();
        v
    }
}

/// The canary ports of `addr`: [`CANARIES`] distinct ports of the dynamic range,
/// keyed by `seed` and the address, not in `scanned` unless it leaves no room.
pub fn canary_ports(addr: IpAddr, seed: u64, scanned: &PortList) -> Vec<u16> {
    let mut state = seed ^ fold(addr);
    let span = u64::from(CANARY_RANGE.end() - CANARY_RANGE.start()) + 1;
    let free = CANARY_RANGE.filter(|&p| !scanned.contains(p)).count();
    let mut out = Vec::with_capacity(CANARIES);
    // Bounded: at most this many draws, then the scanned ports are allowed.
    for _ in 0..4096 {
        if out.len() == CANARIES {
            break;
        }
        let p = CANARY_RANGE.start() + (splitmix(&mut state) % span) as u16;
        if !out.contains(&p) && (free < CANARIES || !scanned.contains(p)) {
            out.push(p);
        }
    }
    out
}

fn fold(addr: IpAddr) -> u64 {
    let bits = match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    };
    (bits as u64) ^ ((bits >> 64) as u64)
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The canary pairs of every suspect, walked by the engine like any order.
pub struct Canaries {
    pairs: Vec<Endpoint>,
    next: usize,
}

impl Canaries {
    pub fn new(suspects: &[(IpAddr, u64, u64)], seed: u64, scanned: &PortList) -> Self {
        let pairs = suspects
            .iter()
            .flat_map(|&(addr, _, _)| {
                canary_ports(addr, seed, scanned)
                    .into_iter()
                    .map(move |port| Endpoint {
                        addr,
                        name: None,
                        port,
                        proto: Protocol::Tcp,
                    })
            })
            .collect();
        Canaries { pairs, next: 0 }
    }
}

impl TargetOrder for Canaries {
    fn next_endpoint(&mut self) -> Option<Endpoint> {
        let e = self.pairs.get(self.next).cloned();
        self.next += usize::from(e.is_some());
        e
    }
    fn total(&self) -> u128 {
        self.pairs.len() as u128
    }
    fn consumed(&self) -> u128 {
        self.next as u128
    }
}

/// The verdicts: the suspects whose every canary answered open.
pub fn verdicts(suspects: &[(IpAddr, u64, u64)], canaries: &[PortResult]) -> Vec<AllOpen> {
    suspects
        .iter()
        .filter_map(|&(addr, answered, open)| {
            let mine: Vec<&PortResult> = canaries
                .iter()
                .filter(|r| r.endpoint.addr == addr)
                .collect();
            let all = mine.len() == CANARIES && mine.iter().all(|r| r.state == PortState::Open);
            all.then(|| AllOpen {
                addr,
                open,
                answered,
                canaries: mine.iter().map(|r| r.endpoint.port).collect(),
                identified: Vec::new(),
            })
        })
        .collect()
}

/// With `-sV`: the open ports of marked hosts whose service was confirmed (by
/// banner or probe), kept as the identified results go by.
#[derive(Debug, Default)]
pub struct Confirmed {
    by_host: HashMap<IpAddr, Vec<(u16, String)>>,
}

impl Confirmed {
    pub fn count(&mut self, r: &PortResult) {
        let Some(s) = &r.service else { return };
        if s.method != portolan_engine::Method::Port && s.name != "unknown" {
            self.by_host
                .entry(r.endpoint.addr)
                .or_default()
                .push((r.endpoint.port, portolan_output::clean(&s.name)));
        }
    }

    /// Fills each verdict's confirmed services.
    pub fn fill(&self, verdicts: &mut [AllOpen]) {
        for v in verdicts {
            let mut found = self.by_host.get(&v.addr).cloned().unwrap_or_default();
            found.sort();
            v.identified = found;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_engine::Reason;

    fn result(addr: &str, port: u16, reason: Reason) -> PortResult {
        let e = Endpoint {
            addr: addr.parse().unwrap(),
            name: None,
            port,
            proto: Protocol::Tcp,
        };
        PortResult::new(e, reason, None, 1)
    }

    #[test]
    fn a_suspect_has_many_open_ports_and_mostly_open_ones() {
        let mut t = Tally::default();
        for p in 1..=40 {
            t.count(&result("10.0.0.1", p, Reason::SynAck)); // all open
            let many = if p <= 20 {
                Reason::SynAck
            } else {
                Reason::ConnRefused
            };
            t.count(&result("10.0.0.2", p, many)); // 20 of 40: not more than half
            let few = if p <= 10 {
                Reason::SynAck
            } else {
                Reason::ConnRefused
            };
            t.count(&result("10.0.0.3", p, few));
        }
        for p in 1..=5 {
            t.count(&result("10.0.0.4", p, Reason::SynAck)); // all, but only 5
        }
        assert_eq!(t.suspects(&[]), [("10.0.0.1".parse().unwrap(), 40, 40)]);
        // Stopped at a cap of 5: five open of five answered is enough then.
        let four: IpAddr = "10.0.0.4".parse().unwrap();
        assert_eq!(t.suspects(&[(four, 35)]).len(), 2);
    }

    #[test]
    fn canaries_are_keyed_distinct_high_and_outside_the_scan() {
        let a: IpAddr = "198.18.0.9".parse().unwrap();
        let list = PortList::parse("1-60000").unwrap();
        let c = canary_ports(a, 7, &list);
        assert_eq!(c.len(), CANARIES);
        assert!(c.iter().all(|&p| p > 60000), "{c:?}");
        assert_eq!(c, canary_ports(a, 7, &list), "the same key, the same ports");
        assert_ne!(c, canary_ports(a, 8, &list));
        let mut d = c.clone();
        d.dedup();
        assert_eq!(d.len(), CANARIES);
        // -p- leaves no room: scanned ports are taken then.
        assert_eq!(canary_ports(a, 7, &PortList::all()).len(), CANARIES);
    }

    #[test]
    fn sv_confirmations_are_banners_and_probes_not_port_guesses() {
        let with = |port, name: &str, method| {
            let mut r = result("10.0.0.1", port, Reason::SynAck);
            r.service = Some(Box::new(portolan_engine::Service {
                name: name.into(),
                product: None,
                version: None,
                info: None,
                cpe: Vec::new(),
                method,
                confidence: 5,
                soft: false,
                banner: None,
                tls: None,
                http: None,
            }));
            r
        };
        let mut c = Confirmed::default();
        c.count(&with(80, "http", portolan_engine::Method::Probed));
        c.count(&with(22, "ssh", portolan_engine::Method::Banner));
        c.count(&with(443, "https", portolan_engine::Method::Port));
        c.count(&with(9999, "unknown", portolan_engine::Method::Banner));
        c.count(&result("10.0.0.1", 1, Reason::SynAck));
        let mut v = verdicts(
            &[("10.0.0.1".parse().unwrap(), 3, 3)],
            &(0..3)
                .map(|i| result("10.0.0.1", 50000 + i, Reason::SynAck))
                .collect::<Vec<_>>(),
        );
        c.fill(&mut v);
        assert_eq!(
            v[0].identified,
            [(22, "ssh".to_owned()), (80, "http".to_owned())]
        );
    }

    #[test]
    fn only_every_canary_open_marks_the_host() {
        let suspects = [
            ("10.0.0.1".parse().unwrap(), 100, 100),
            ("10.0.0.2".parse().unwrap(), 100, 90),
        ];
        let mut canaries: Vec<PortResult> = (0..3)
            .map(|i| result("10.0.0.1", 50000 + i, Reason::SynAck))
            .collect();
        canaries.push(result("10.0.0.2", 50000, Reason::SynAck));
        canaries.push(result("10.0.0.2", 50001, Reason::ConnRefused));
        canaries.push(result("10.0.0.2", 50002, Reason::SynAck));
        let v = verdicts(&suspects, &canaries);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].addr, suspects[0].0);
        assert_eq!(v[0].canaries, [50000, 50001, 50002]);
    }
}
