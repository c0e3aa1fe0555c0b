//! Which (host, port) pairs of a run have been answered: one bit per pair.
//!
//! `scan --resume` must probe every pair that was not answered and none that was.
//! Open and filtered results are rows of their own, but closed ones are only
//! counted, so the run also keeps, per host, a bitmap indexed by the position of
//! the port in the run's sorted port list: `ceil(ports / 8)` bytes per host that
//! answered anything (125 bytes for `--top-ports 1000`, 8 KiB for `-p-`), plus the
//! map entry of each host. Runs whose record would exceed [`MAX_BYTES`] (see
//! [`fits`]: a /16 with the top 1000 ports fits, a /16 with `-p-` or a /8 does not)
//! are recorded without it and cannot be resumed, so the history never costs the
//! scan more than that much memory.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use portolan_target::{Endpoint, PortList};

/// The most memory the answered record of one run may take (it is held while the
/// scan runs, and again while a resumed scan skips what was answered).
pub const MAX_BYTES: u128 = 32 << 20;

/// Bytes one host costs in the record besides its bitmap (map entry, key, vector).
const HOST_OVERHEAD: u128 = 128;

/// Whether a run of `hosts` hosts and `ports` ports is small enough to record for resuming.
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

/// Answered pairs of one run.
///
/// Hosts without a name (the common case) are kept by address alone, so marking
/// and looking up a pair costs no allocation on the scan's hot path.
#[derive(Debug, Clone)]
pub struct Answered {
    ports: Arc<PortList>,
    unnamed: HashMap<IpAddr, Vec<u8>>,
    named: HashMap<HostKey, Vec<u8>>,
    count: u64,
}

impl Answered {
    /// No pair answered yet, over the run's `ports`.
    pub fn new(ports: Arc<PortList>) -> Self {
        Answered {
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

    /// Records that `e` was answered; false if it already was (or is not in the run).
    pub fn mark(&mut self, e: &Endpoint) -> bool {
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

    /// Whether the pair of `e` was answered.
    pub fn contains(&self, e: &Endpoint) -> bool {
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

    /// Loads a host's bitmap as stored; a blob of the wrong size is refused.
    pub fn load(&mut self, host: HostKey, bits: Vec<u8>) -> bool {
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

    /// Drops the bitmap of `host` from memory once it is stored and the host will
    /// get no more results (its host group is done); [`Self::count`] keeps its pairs.
    pub fn forget(&mut self, host: &HostKey) {
        if host.1.is_empty() {
            self.unnamed.remove(&host.0);
        } else {
            self.named.remove(host);
        }
    }

    /// The bitmap of `host` (one bit per port of the list, in its order), if any.
    pub fn bits(&self, host: &HostKey) -> Option<&[u8]> {
        self.host(host).map(Vec::as_slice)
    }

    /// The ports of `host` that were answered, ascending.
    pub fn ports_of<'a>(&'a self, host: &HostKey) -> impl Iterator<Item = u16> + 'a {
        let bits = self.host(host).map(Vec::as_slice).unwrap_or_default();
        self.ports
            .as_slice()
            .iter()
            .enumerate()
            .filter(move |(i, _)| bits.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0))
            .map(|(_, &p)| p)
    }

    /// How many pairs were answered.
    pub fn count(&self) -> u64 {
        self.count
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
    use portolan_target::Protocol;

    fn ep(port: u16) -> Endpoint {
        Endpoint {
            addr: "127.0.0.1".parse().unwrap(),
            port,
            name: None,
            proto: Protocol::Tcp,
        }
    }

    #[test]
    fn marks_once_and_remembers() {
        let mut a = Answered::new(Arc::new(PortList::parse("20-30,443").unwrap()));
        assert!(a.mark(&ep(22)));
        assert!(!a.mark(&ep(22)));
        assert!(a.mark(&ep(443)));
        assert!(!a.mark(&ep(9999)), "not in the run");
        assert!(a.contains(&ep(22)) && a.contains(&ep(443)) && !a.contains(&ep(23)));
        assert_eq!(a.count(), 2);
        let host = key(&ep(22));
        assert_eq!(a.ports_of(&host).collect::<Vec<_>>(), [22, 443]);
        let mut b = Answered::new(Arc::new(PortList::parse("20-30,443").unwrap()));
        assert!(b.load(host.clone(), a.bits(&host).unwrap().to_vec()));
        assert!(b.contains(&ep(443)) && b.count() == 2);
        assert!(!b.load(host, vec![0; 1]), "wrong size");
    }
}
