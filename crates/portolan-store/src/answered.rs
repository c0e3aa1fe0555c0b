//! Which (host, port, protocol) pairs of a run have been answered: one bit per pair.
//!
//! `scan --resume` must probe every pair that was not answered and none that was.
//! Open and filtered results are rows of their own, but closed TCP ones are only
//! counted, so the run also keeps, per host and per protocol, a bitmap indexed by
//! the position of the port in that protocol's sorted port list: `ceil(ports / 8)`
//! bytes per host that answered anything (125 bytes for `--top-ports 1000`, 8 KiB
//! for `-p-`), plus the map entry of each host. UDP has a bitmap of its own over
//! its own port list (a `-sS -sU` run scans two lists), because every UDP result is
//! a row but the bitmap is what a resumed walk skips by, at no cost per lookup.
//! Runs whose record would exceed [`MAX_BYTES`] (see [`fits`]: a /16 with the top
//! 1000 ports fits, a /16 with `-p-` or a /8 does not) are recorded without it and
//! cannot be resumed, so the history never costs the scan more than that much memory.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use portolan_target::{Endpoint, PortList, Protocol};

/// The most memory the answered record of one run may take (it is held while the
/// scan runs, and again while a resumed scan skips what was answered).
pub const MAX_BYTES: u128 = 32 << 20;

/// Bytes one host costs in the record besides its bitmap (map entry, key, vector).
const HOST_OVERHEAD: u128 = 128;

/// Whether a run of `hosts` hosts and `ports` ports (of every protocol together) is
/// small enough to record for resuming.
pub fn fits(hosts: u128, ports: usize) -> bool {
    let per_host = (ports as u128).div_ceil(8) + HOST_OVERHEAD;
    hosts.saturating_mul(per_host) <= MAX_BYTES
}

/// A host as the history keys it: the address and the name typed (`""` if none).
pub type HostKey = (IpAddr, String);

/// The key of an endpoint.
pub fn key(e: &Endpoint) -> HostKey {
    (e.addr, e.name.as_deref().unwrap_or_default().to_owned())
}

/// The answered pairs of one protocol: a bitmap per host over that protocol's ports.
///
/// Hosts without a name (the common case) are kept by address alone, so marking
/// and looking up a pair costs no allocation on the scan's hot path.
#[derive(Debug, Clone)]
struct Bitmaps {
    ports: Arc<PortList>,
    unnamed: HashMap<IpAddr, Vec<u8>>,
    named: HashMap<HostKey, Vec<u8>>,
    count: u64,
}

impl Bitmaps {
    fn new(ports: Arc<PortList>) -> Self {
        Bitmaps {
            ports,
            unnamed: HashMap::new(),
            named: HashMap::new(),
            count: 0,
        }
    }

    fn index(&self, port: u16) -> Option<usize> {
        self.ports.as_slice().binary_search(&port).ok()
    }

    fn width(&self) -> usize {
        self.ports.len().div_ceil(8)
    }

    fn mark(&mut self, e: &Endpoint) -> bool {
        let Some(i) = self.index(e.port) else {
            return false;
        };
        let width = self.width();
        let bits = match e.name.as_deref() {
            None | Some("") => self.unnamed.entry(e.addr).or_insert_with(|| vec![0; width]),
            Some(_) => self.named.entry(key(e)).or_insert_with(|| vec![0; width]),
        };
        let (byte, bit) = (i / 8, 1u8 << (i % 8));
        let fresh = bits[byte] & bit == 0;
        bits[byte] |= bit;
        self.count += u64::from(fresh);
        fresh
    }

    fn contains(&self, e: &Endpoint) -> bool {
        if self.count == 0 {
            return false;
        }
        let Some(i) = self.index(e.port) else {
            return false;
        };
        let bits = match e.name.as_deref() {
            None | Some("") => self.unnamed.get(&e.addr),
            Some(_) => self.named.get(&key(e)),
        };
        bits.is_some_and(|bits| bits.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0))
    }

    fn host(&self, host: &HostKey) -> Option<&Vec<u8>> {
        if host.1.is_empty() {
            self.unnamed.get(&host.0)
        } else {
            self.named.get(host)
        }
    }

    fn load(&mut self, host: HostKey, bits: Vec<u8>) -> bool {
        if bits.len() != self.width() {
            return false;
        }
        let before = self.host(&host).map_or(0, |b| ones(b));
        self.count = self.count - before + ones(&bits);
        if host.1.is_empty() {
            self.unnamed.insert(host.0, bits);
        } else {
            self.named.insert(host, bits);
        }
        true
    }

    fn forget(&mut self, host: &HostKey) {
        if host.1.is_empty() {
            self.unnamed.remove(&host.0);
        } else {
            self.named.remove(host);
        }
    }

    fn ports_of<'a>(&'a self, host: &'a HostKey) -> impl Iterator<Item = u16> + 'a {
        let bits = self.host(host).map(Vec::as_slice).unwrap_or_default();
        self.ports
            .as_slice()
            .iter()
            .enumerate()
            .filter(move |(i, _)| bits.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0))
            .map(|(_, &p)| p)
    }
}

/// Answered pairs of one run, per protocol.
#[derive(Debug, Clone)]
pub struct Answered {
    tcp: Bitmaps,
    /// `None` when the run scans no UDP.
    udp: Option<Bitmaps>,
}

impl Answered {
    /// No pair answered yet, over the run's TCP `ports` (and no UDP).
    pub fn new(ports: Arc<PortList>) -> Self {
        Answered {
            tcp: Bitmaps::new(ports),
            udp: None,
        }
    }

    /// The run also scans the UDP `ports`.
    pub fn with_udp(mut self, ports: Arc<PortList>) -> Self {
        self.udp = Some(Bitmaps::new(ports));
        self
    }

    fn of(&self, proto: Protocol) -> Option<&Bitmaps> {
        match proto {
            Protocol::Tcp => Some(&self.tcp),
            Protocol::Udp => self.udp.as_ref(),
        }
    }

    fn of_mut(&mut self, proto: Protocol) -> Option<&mut Bitmaps> {
        match proto {
            Protocol::Tcp => Some(&mut self.tcp),
            Protocol::Udp => self.udp.as_mut(),
        }
    }

    /// Records that `e` was answered; false if it already was (or is not in the run).
    pub fn mark(&mut self, e: &Endpoint) -> bool {
        self.of_mut(e.proto).is_some_and(|b| b.mark(e))
    }

    /// Whether the pair of `e` was answered.
    pub fn contains(&self, e: &Endpoint) -> bool {
        self.of(e.proto).is_some_and(|b| b.contains(e))
    }

    /// Loads a host's `proto` bitmap as stored; a blob of the wrong size, or of a
    /// protocol the run does not scan, is refused.
    pub fn load(&mut self, proto: Protocol, host: HostKey, bits: Vec<u8>) -> bool {
        self.of_mut(proto).is_some_and(|b| b.load(host, bits))
    }

    /// The `proto` bitmap of `host` (one bit per port of that protocol's list, in
    /// its order), if any.
    pub fn bits(&self, proto: Protocol, host: &HostKey) -> Option<&[u8]> {
        self.of(proto)?.host(host).map(Vec::as_slice)
    }

    /// The `proto` ports of `host` that were answered, ascending.
    pub fn ports_of<'a>(
        &'a self,
        proto: Protocol,
        host: &'a HostKey,
    ) -> impl Iterator<Item = u16> + 'a {
        self.of(proto)
            .into_iter()
            .flat_map(move |b| b.ports_of(host))
    }

    /// How many pairs were answered, of every protocol.
    pub fn count(&self) -> u64 {
        self.tcp.count + self.udp.as_ref().map_or(0, |u| u.count)
    }

    /// Drops the bitmaps of `host` from memory once they are stored and the host
    /// will get no more results (its host group is done); the counts keep its pairs.
    pub fn forget(&mut self, host: &HostKey) {
        self.tcp.forget(host);
        if let Some(udp) = self.udp.as_mut() {
            udp.forget(host);
        }
    }

    /// How many `proto` pairs were answered.
    pub fn count_of(&self, proto: Protocol) -> u64 {
        self.of(proto).map_or(0, |b| b.count)
    }
}

fn ones(bits: &[u8]) -> u64 {
    bits.iter().map(|b| u64::from(b.count_ones())).sum()
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_scans_with_a_bounded_record_are_resumable() {
        assert!(super::fits(1, 65535));
        assert!(super::fits(1 << 16, 1000));
        assert!(!super::fits(1 << 16, 65535));
        assert!(!super::fits(1 << 24, 1));
    }

    use super::*;

    fn ep(port: u16) -> Endpoint {
        Endpoint {
            addr: "127.0.0.1".parse().unwrap(),
            port,
            name: None,
            proto: Protocol::Tcp,
        }
    }

    fn udp(port: u16) -> Endpoint {
        Endpoint {
            proto: Protocol::Udp,
            ..ep(port)
        }
    }

    #[test]
    fn marks_once_and_remembers() {
        let mut a = Answered::new(Arc::new(PortList::parse("20-30,443").unwrap()));
        assert!(a.mark(&ep(22)));
        assert!(!a.mark(&ep(22)));
        assert!(a.mark(&ep(443)));
        assert!(!a.mark(&ep(9999)), "not in the run");
        assert!(!a.mark(&udp(22)), "the run scans no UDP");
        assert!(a.contains(&ep(22)) && a.contains(&ep(443)) && !a.contains(&ep(23)));
        assert_eq!(a.count(), 2);
        let host = key(&ep(22));
        assert_eq!(
            a.ports_of(Protocol::Tcp, &host).collect::<Vec<_>>(),
            [22, 443]
        );
        let mut b = Answered::new(Arc::new(PortList::parse("20-30,443").unwrap()));
        let bits = a.bits(Protocol::Tcp, &host).unwrap().to_vec();
        assert!(b.load(Protocol::Tcp, host.clone(), bits.clone()));
        assert!(b.contains(&ep(443)) && b.count() == 2);
        assert!(
            !b.load(Protocol::Tcp, host.clone(), vec![0; 1]),
            "wrong size"
        );
        assert!(!b.load(Protocol::Udp, host, bits), "no UDP in the run");
    }

    #[test]
    fn each_protocol_has_its_own_pairs_over_its_own_ports() {
        let mut a = Answered::new(Arc::new(PortList::parse("22,80").unwrap()))
            .with_udp(Arc::new(PortList::parse("53,161,500").unwrap()));
        assert!(a.mark(&udp(53)) && a.mark(&udp(500)));
        assert!(!a.mark(&udp(80)), "80 is a TCP port of this run only");
        assert!(a.mark(&ep(80)));
        assert!(a.contains(&udp(53)) && !a.contains(&ep(53)));
        assert!(a.contains(&ep(80)) && !a.contains(&udp(161)));
        assert_eq!(
            (
                a.count(),
                a.count_of(Protocol::Tcp),
                a.count_of(Protocol::Udp)
            ),
            (3, 1, 2)
        );
        let host = key(&ep(1));
        assert_eq!(a.bits(Protocol::Udp, &host), Some(&[0b101u8][..]));
        assert_eq!(
            a.ports_of(Protocol::Udp, &host).collect::<Vec<_>>(),
            [53, 500]
        );
    }
}
