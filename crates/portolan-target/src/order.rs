//! The scan order: which (host, port) pair comes next.
//!
//! Every pair has an index in `0..hosts*ports` (host-major), and the explicit
//! endpoints of the walk's protocol ([`TargetSet::endpoints`]) follow with the
//! indices from `hosts*ports` on: one index space, so the permutation, the shards
//! and `owner` treat an endpoint like any other pair. An endpoint that is also a
//! pair of the grid (its host among the hosts and its port in the list) is passed
//! over, so no pair is probed twice. [`ScanOrder`] walks the
//! indices either in order (`--no-randomize`) or through a keyed permutation: a
//! four-round Feistel network over the smallest even-bit power of two that covers
//! the range, with cycle walking to stay inside it. The state is two counters and a
//! key, so memory is constant however large the range, and the same seed gives the
//! same order on every machine. The walk can be cut into shards (`k` of `n`), the
//! seam for splitting one scan across machines.

//!
//! # Host groups
//! The hosts are walked in groups, as nmap's host groups are: group `g` holds the
//! hosts `g*G .. (g+1)*G` (see [`group_size`]), and its pairs take the slots
//! `g*G*ports ..` of the walk, permuted among themselves by a permutation keyed by
//! the seed and `g`. So a group is walked whole before the next one begins, and the
//! reports can write and forget a group's hosts once its pairs are decided
//! (memory flat in the size of the target set), while inside a group the order is
//! still a keyed permutation over at least [`MIN_GROUP_HOSTS`] hosts (no burst on
//! one host or one port). A scan of at most `G` hosts is one group, walked exactly
//! as before groups existed (the group permutation of group 0 is keyed by the seed
//! alone). Shards take every `n`-th slot of this walk, so each shard walks every
//! group, and [`ScanOrder::owner`] inverts the two steps. A walk with endpoints
//! (`HOST:PORT` targets, which follow the grid in the index space) is one group
//! that is never reported done before the end: an endpoint's host may also be a
//! host of the grid, so no host of such a walk is complete before the walk is.

use std::net::IpAddr;
use std::sync::Arc;

use portolan_model::{Endpoint, Protocol};

use crate::ports::PortList;
use crate::spec::TargetSet;

/// A bijection on `0..n`, keyed by a seed.
#[derive(Debug, Clone)]
pub struct Permutation {
    n: u128,
    half_bits: u32,
    keys: [u64; 4],
}

impl Permutation {
    /// A permutation of `0..n` keyed by `seed`: the same seed gives the same order.
    pub fn new(n: u128, seed: u64) -> Self {
        let bits = if n <= 1 {
            2
        } else {
            128 - (n - 1).leading_zeros()
        };
        let half_bits = bits.div_ceil(2).max(1);
        let mut s = seed;
        let keys = [
            splitmix(&mut s),
            splitmix(&mut s),
            splitmix(&mut s),
            splitmix(&mut s),
        ];
        Permutation { n, half_bits, keys }
    }

    fn mask(&self) -> u128 {
        if self.half_bits >= 64 {
            u128::from(u64::MAX)
        } else {
            (1u128 << self.half_bits) - 1
        }
    }

    fn feistel(&self, x: u128) -> u128 {
        let mask = self.mask();
        let (mut left, mut right) = (x >> self.half_bits, x & mask);
        for k in self.keys {
            let f = u128::from(mix(right as u64 ^ k)) & mask;
            (left, right) = (right, left ^ f);
        }
        (left << self.half_bits) | right
    }

    fn feistel_inverse(&self, y: u128) -> u128 {
        let mask = self.mask();
        let (mut left, mut right) = (y >> self.half_bits, y & mask);
        for k in self.keys.iter().rev() {
            let f = u128::from(mix(left as u64 ^ k)) & mask;
            (left, right) = (right ^ f, left);
        }
        (left << self.half_bits) | right
    }

    /// The `i` whose image is `y` (which must be below `n`): the same cycle walk,
    /// backwards.
    pub fn invert(&self, y: u128) -> u128 {
        let mut x = self.feistel_inverse(y);
        while x >= self.n {
            x = self.feistel_inverse(x);
        }
        x
    }

    /// The image of `i` (which must be below `n`).
    pub fn apply(&self, i: u128) -> u128 {
        let mut y = self.feistel(i);
        while y >= self.n {
            y = self.feistel(y);
        }
        y
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    mix(*state)
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A host as the reports know it: its address and the name it was given as.
pub type HostKey = (IpAddr, Option<Arc<str>>);

/// Pairs a host group aims at: a group holds about this many pairs, within
/// [`MIN_GROUP_HOSTS`] and [`MAX_GROUP_HOSTS`] hosts.
pub const GROUP_PAIRS: u128 = 1 << 16;
/// The fewest hosts in a group (of a large enough target set): the order inside a
/// group spreads its probes over at least this many hosts.
pub const MIN_GROUP_HOSTS: u128 = 256;
/// The most hosts in a group: what the reports hold at most per group.
pub const MAX_GROUP_HOSTS: u128 = 4096;

/// Hosts per group for a port list of `ports` ports: [`GROUP_PAIRS`] pairs'
/// worth, between [`MIN_GROUP_HOSTS`] and [`MAX_GROUP_HOSTS`] (4096 hosts for
/// one to sixteen ports, 256 for `-p-`).
pub fn group_size(ports: usize) -> u128 {
    (GROUP_PAIRS / (ports.max(1) as u128)).clamp(MIN_GROUP_HOSTS, MAX_GROUP_HOSTS)
}

/// The permutation that orders the pairs of one group.
#[derive(Debug, Clone)]
struct GroupPerm {
    group: u128,
    perm: Permutation,
}

/// Walks the (host, port) pairs of a target set.
#[derive(Debug, Clone)]
pub struct ScanOrder {
    targets: Arc<TargetSet>,
    ports: Arc<PortList>,
    /// The permutation of the group walked now (random orders only).
    perm: Option<GroupPerm>,
    /// Hosts per group.
    group_hosts: u128,
    /// The group of the pair last yielded.
    group: u128,
    total: u128,
    start: u128,
    next: u128,
    step: u128,
    consumed: u128,
    proto: Protocol,
    /// The seed of the permutation (`None`: sequential), kept so that choosing the
    /// protocol, which changes how many endpoints there are, can key it again.
    seed: Option<u64>,
}

impl ScanOrder {
    /// A random order keyed by `seed`.
    pub fn random(targets: Arc<TargetSet>, ports: Arc<PortList>, seed: u64) -> Self {
        let mut order = Self::sequential(targets, ports);
        order.seed = Some(seed);
        order.protocol(Protocol::Tcp)
    }

    /// Host by host, ports ascending.
    pub fn sequential(targets: Arc<TargetSet>, ports: Arc<PortList>) -> Self {
        let total = targets
            .hosts()
            .saturating_mul(ports.len() as u128)
            .saturating_add(targets.endpoints(Protocol::Tcp).len() as u128);
        let group_hosts = group_size(ports.len());
        ScanOrder {
            targets,
            ports,
            perm: None,
            group_hosts,
            group: 0,
            total,
            start: 0,
            next: 0,
            step: 1,
            consumed: 0,
            proto: Protocol::Tcp,
            seed: None,
        }
    }

    /// The protocol every pair of this walk is scanned with (TCP unless set).
    pub fn protocol(mut self, proto: Protocol) -> Self {
        self.proto = proto;
        self.total = self
            .grid()
            .saturating_add(self.targets.endpoints(proto).len() as u128);
        self.perm = None;
        self
    }

    /// Walks `hosts` hosts per group instead of [`group_size`]'s choice (at least 1).
    pub fn host_groups(mut self, hosts: u128) -> Self {
        self.group_hosts = hosts.max(1);
        self.perm = None;
        self
    }

    /// How many index slots the hosts × ports grid takes (the endpoints follow).
    pub fn grid(&self) -> u128 {
        self.targets
            .hosts()
            .saturating_mul(self.ports.len() as u128)
    }

    /// The index of `e` in this walk's space (host-major grid, then endpoints), or
    /// `None` when it is not one of its pairs. For `owner` and the merge's checks.
    pub fn index_of(&self, e: &Endpoint) -> Option<u128> {
        if e.proto != self.proto {
            return None;
        }
        let nports = self.ports.len() as u128;
        let grid = self
            .targets
            .index_of(e.addr, e.name.as_deref())
            .and_then(|host| {
                let port = self.ports.as_slice().binary_search(&e.port).ok()?;
                Some(host * nports + port as u128)
            });
        grid.or_else(|| {
            let eps = self.targets.endpoints(self.proto);
            eps.iter()
                .position(|x| x == e)
                .map(|i| self.grid() + i as u128)
        })
    }

    /// Keeps only shard `k` of `n` (0-based): every `n`-th index from `k`.
    pub fn shard(mut self, k: u128, n: u128) -> Self {
        self.start = k;
        self.next = k;
        self.step = n.max(1);
        self
    }

    /// The 0-based shard, of `n`, that walks the pair with index `idx` (host-major:
    /// `host * ports + port`, then the endpoints; see [`ScanOrder::index_of`]): the
    /// inverse of what [`ScanOrder::shard`] keeps.
    pub fn owner(&self, idx: u128, n: u128) -> u128 {
        let i = match self.seed {
            None => idx,
            Some(seed) => {
                let (g, base, size) = self.group_span(idx);
                base + Self::group_perm(seed, g, size).invert(idx - base)
            }
        };
        i % n.max(1)
    }

    /// Whether the walk has endpoints beside the grid: then it is one group.
    fn has_endpoints(&self) -> bool {
        self.total > self.grid()
    }

    /// Pair slots per (whole) group: the whole walk when it has endpoints.
    fn group_pairs(&self) -> u128 {
        if self.has_endpoints() {
            return self.total.max(1);
        }
        self.group_hosts
            .saturating_mul(self.ports.len() as u128)
            .max(1)
    }

    /// The group of slot `i`, its first slot and its size in slots.
    fn group_span(&self, i: u128) -> (u128, u128, u128) {
        let per = self.group_pairs();
        let g = i / per;
        let base = g * per;
        (g, base, per.min(self.total - base))
    }

    /// The permutation of group `g` (of `size` slots): keyed by the seed alone for
    /// group 0, so a scan of one group walks as it did before groups.
    fn group_perm(seed: u64, g: u128, size: u128) -> Permutation {
        let folded = (g as u64) ^ ((g >> 64) as u64);
        let key = if g == 0 { seed } else { seed ^ mix(folded) };
        Permutation::new(size, key)
    }

    /// Hosts per group in this walk.
    pub fn group_hosts(&self) -> u128 {
        self.group_hosts
    }

    /// The number of host groups.
    pub fn groups(&self) -> u128 {
        self.total.div_ceil(self.group_pairs())
    }

    /// The group of the pair last yielded (0 before the first).
    pub fn group(&self) -> u128 {
        self.group
    }

    /// Groups below this one are walked whole: every pair of theirs that this walk
    /// (this shard) holds was yielded already. [`Self::groups`] once the walk is over.
    pub fn walked(&self) -> u128 {
        if self.has_endpoints() {
            return 0; // see the module overview: never done before the end
        }
        if self.next >= self.total {
            self.groups()
        } else {
            self.next / self.group_pairs()
        }
    }

    /// The hosts of group `g`, excluded ones left out, in target order.
    pub fn hosts_of(&self, g: u128) -> Vec<HostKey> {
        let first = g.saturating_mul(self.group_hosts);
        let end = first
            .saturating_add(self.group_hosts)
            .min(self.targets.hosts());
        (first..end)
            .filter_map(|h| self.targets.host_at(h))
            .map(|(addr, name)| (addr, name.cloned()))
            .collect()
    }

    /// How many pair slots this walk covers, excluded hosts included.
    pub fn total(&self) -> u128 {
        self.total.saturating_sub(self.start).div_ceil(self.step)
    }

    /// How many slots have been walked so far.
    pub fn consumed(&self) -> u128 {
        self.consumed
    }

    /// The ports of every host.
    pub fn ports(&self) -> &PortList {
        &self.ports
    }

    /// The hosts walked.
    pub fn targets(&self) -> &TargetSet {
        &self.targets
    }
}

impl Iterator for ScanOrder {
    type Item = Endpoint;

    fn next(&mut self) -> Option<Endpoint> {
        let nports = self.ports.len() as u128;
        while self.next < self.total {
            let i = self.next;
            self.next += self.step;
            self.consumed += 1;
            let idx = match self.seed {
                None => i,
                Some(seed) => {
                    let (g, base, size) = self.group_span(i);
                    let perm = match &self.perm {
                        Some(p) if p.group == g => &p.perm,
                        _ => {
                            let perm = Self::group_perm(seed, g, size);
                            &self.perm.insert(GroupPerm { group: g, perm }).perm
                        }
                    };
                    base + perm.apply(i - base)
                }
            };
            self.group = idx / self.group_pairs();
            let grid = self.grid();
            if idx >= grid {
                let eps = self.targets.endpoints(self.proto);
                let Some(e) = usize::try_from(idx - grid).ok().and_then(|k| eps.get(k)) else {
                    continue;
                };
                let in_grid = self.ports.contains(e.port)
                    && self.targets.index_of(e.addr, e.name.as_deref()).is_some();
                if in_grid {
                    continue; // walked as a pair of the grid
                }
                return Some(e.clone());
            }
            let (host, port) = (idx / nports, idx % nports);
            if let Some((addr, name)) = self.targets.host_at(host) {
                let port = self.ports.as_slice()[port as usize];
                return Some(Endpoint {
                    addr,
                    port,
                    name: name.cloned(),
                    proto: self.proto,
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{HostBlock, TargetSet};
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn set(n: u128) -> Arc<TargetSet> {
        Arc::new(
            TargetSet::from_blocks(vec![HostBlock::Range {
                start: "10.0.0.0".parse().unwrap(),
                count: n,
            }])
            .unwrap(),
        )
    }

    proptest! {
        #[test]
        fn permutation_is_a_bijection(n in 1u128..3000, seed: u64) {
            let p = Permutation::new(n, seed);
            let seen: HashSet<u128> = (0..n).map(|i| p.apply(i)).collect();
            prop_assert_eq!(seen.len() as u128, n);
            prop_assert!(seen.iter().all(|&x| x < n));
        }

        #[test]
        fn invert_undoes_apply(n in 1u128..5000, seed: u64, i in 0u128..5000) {
            let p = Permutation::new(n, seed);
            let i = i % n;
            prop_assert_eq!(p.invert(p.apply(i)), i);
        }

        /// The zmap #913 bug class: for random target sets (with exclusions),
        /// port lists, seeds and shard counts, the shards are disjoint, their union
        /// is the whole space, and `owner` names the shard that walked each pair.
        #[test]
        fn shards_are_disjoint_and_cover_the_space(
            blocks in proptest::collection::vec((0u8..4, 0u8..=255, 26u8..=32), 1..4),
            octets in proptest::option::of((0u8..4, 0u8..200, 0u8..50)),
            excluded in proptest::collection::vec((0u8..4, 0u8..=255), 0..6),
            ports in proptest::collection::btree_set(1u16..=65535, 1..6),
            endpoints in proptest::collection::vec((0u8..4, 0u8..=255, 1u16..=8, any::<bool>()), 0..12),
            no_hosts: bool,
            seed: u64,
            shards in 1u128..=64,
            random: bool,
            udp: bool,
            groups in proptest::option::of(1u128..6),
        ) {
            use crate::spec::TargetSetBuilder;
            let mut b = TargetSetBuilder::new();
            // CIDR blocks (overlapping at times: the builder merges them) and at
            // most one octet range beside them.
            if !no_hosts || endpoints.is_empty() {
                for (net, host, prefix) in &blocks {
                    b = b.target(&format!("10.0.{net}.{host}/{prefix}")).unwrap();
                }
            }
            // Explicit endpoints: some inside the blocks (and on a port of the
            // list: pairs of the grid too), some excluded, some UDP.
            for (net, host, port, is_udp) in &endpoints {
                let proto = if *is_udp { "udp" } else { "tcp" };
                b = b.target(&format!("10.0.{net}.{host}:{port}/{proto}")).unwrap();
            }
            if let Some((net, first, extra)) = octets.filter(|_| !no_hosts) {
                let last = first.saturating_add(extra);
                b = b.target(&format!("10.1.{net}.{first}-{last}")).unwrap();
            }
            for (net, host) in &excluded {
                b = b.exclude(&format!("10.0.{net}.{host}")).unwrap();
            }
            let Ok(targets) = b.build(&crate::spec::SystemResolver) else {
                return Ok(()); // everything excluded: refused before any shard exists
            };
            let targets = Arc::new(targets);
            let mut list: Vec<u16> = ports.into_iter().collect();
            list.push(3); // a port endpoints use too
            let ports = Arc::new(PortList::from_ports(list).unwrap());
            let proto = if udp { Protocol::Udp } else { Protocol::Tcp };
            let make = || {
                let order = if random {
                    ScanOrder::random(targets.clone(), ports.clone(), seed)
                } else {
                    ScanOrder::sequential(targets.clone(), ports.clone())
                }
                .protocol(proto);
                match groups {
                    Some(g) => order.host_groups(g),
                    None => order,
                }
            };
            let full: Vec<Endpoint> = make().collect();
            let full_set: HashSet<&Endpoint> = full.iter().collect();
            prop_assert_eq!(full_set.len(), full.len());
            let mut seen: HashSet<Endpoint> = HashSet::new();
            let judge = make();
            for k in 0..shards {
                for e in make().shard(k, shards) {
                    prop_assert_eq!(e.proto, proto);
                    let idx = judge.index_of(&e).unwrap();
                    prop_assert_eq!(judge.owner(idx, shards), k);
                    prop_assert!(seen.insert(e.clone()), "pair {:?} walked twice", e);
                }
            }
            prop_assert_eq!(seen.len(), full.len());
            prop_assert!(full.iter().all(|e| seen.contains(e)));
            // Every endpoint of the walk's protocol that is not excluded is walked,
            // whether or not it is also a pair of the grid.
            for (net, host, port, is_udp) in &endpoints {
                let addr: std::net::IpAddr = format!("10.0.{net}.{host}").parse().unwrap();
                if *is_udp == udp && !targets.is_excluded(addr) {
                    let e = Endpoint { addr, name: None, port: *port, proto };
                    prop_assert!(seen.contains(&e), "endpoint {:?} not walked", e);
                }
            }
        }

        /// Host groups: every shard walks the groups in order, a pair's group is
        /// its host's, `walked` never passes a group with pairs still to come, and
        /// `hosts_of` names exactly the hosts of a group.
        #[test]
        fn groups_are_walked_whole_and_in_order(
            n in 1u128..200,
            ports in proptest::collection::btree_set(1u16..=65535, 1..5),
            group_hosts in 1u128..40,
            seed: u64,
            shards in 1u128..4,
            random: bool,
        ) {
            let list: Vec<u16> = ports.into_iter().collect();
            let ports = Arc::new(PortList::from_ports(list).unwrap());
            let targets = set(n);
            for k in 0..shards {
                let order = if random {
                    ScanOrder::random(targets.clone(), ports.clone(), seed)
                } else {
                    ScanOrder::sequential(targets.clone(), ports.clone())
                };
                let mut order = order.host_groups(group_hosts).shard(k, shards);
                prop_assert_eq!(order.groups(), n.div_ceil(group_hosts));
                let mut walk = Vec::new();
                while let Some(e) = order.next() {
                    let host = targets.index_of(e.addr, None).unwrap();
                    prop_assert_eq!(order.group(), host / group_hosts);
                    walk.push((order.group(), order.walked()));
                }
                prop_assert_eq!(order.walked(), order.groups());
                for (i, &(g, walked)) in walk.iter().enumerate() {
                    prop_assert!(walked <= order.groups() && g < order.groups());
                    // Nothing later in the walk belongs to a group already walked.
                    prop_assert!(walk[i + 1..].iter().all(|&(later, _)| later >= walked));
                    if i > 0 {
                        prop_assert!(walk[i - 1].0 <= g, "groups out of order");
                    }
                }
            }
            let order = ScanOrder::random(targets.clone(), ports.clone(), seed).host_groups(group_hosts);
            let mut named = 0;
            for g in 0..order.groups() {
                for (addr, _) in order.hosts_of(g) {
                    prop_assert_eq!(targets.index_of(addr, None).unwrap() / group_hosts, g);
                    named += 1;
                }
            }
            prop_assert_eq!(named, n);
        }

        #[test]
        fn shards_partition_the_walk(n in 1u128..300, shards in 1u128..5) {
            let ports = Arc::new(PortList::parse("1-3").unwrap());
            let full: HashSet<Endpoint> = ScanOrder::random(set(n), ports.clone(), 7).collect();
            let mut union = HashSet::new();
            let mut count = 0;
            for k in 0..shards {
                let shard = ScanOrder::random(set(n), ports.clone(), 7).shard(k, shards);
                prop_assert_eq!(shard.total(), (n * 3 + shards - 1 - k) / shards);
                for e in shard { count += 1; union.insert(e); }
            }
            prop_assert_eq!(count, n * 3);
            prop_assert_eq!(union, full);
        }
    }

    #[test]
    fn same_seed_same_order_and_covers_everything() {
        let ports = Arc::new(PortList::parse("22,80,443").unwrap());
        let a: Vec<_> = ScanOrder::random(set(50), ports.clone(), 1).collect();
        let b: Vec<_> = ScanOrder::random(set(50), ports.clone(), 1).collect();
        let c: Vec<_> = ScanOrder::random(set(50), ports.clone(), 2).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 150);
        assert_eq!(a.iter().collect::<HashSet<_>>().len(), 150);
        let seq: Vec<_> = ScanOrder::sequential(set(2), ports)
            .map(|e| (e.addr.to_string(), e.port))
            .collect();
        assert_eq!(seq[0], ("10.0.0.0".to_string(), 22));
        assert_eq!(seq[3], ("10.0.0.1".to_string(), 22));
    }

    #[test]
    fn one_group_walks_as_before_groups() {
        // The order of a scan of one group is the permutation keyed by the seed.
        let ports = Arc::new(PortList::parse("22,80,443").unwrap());
        let order = ScanOrder::random(set(50), ports.clone(), 5);
        assert_eq!(order.groups(), 1);
        let p = Permutation::new(150, 5);
        let got: Vec<_> = order.map(|e| (e.addr, e.port)).collect();
        let want: Vec<_> = (0..150)
            .map(|i| {
                let idx = p.apply(i);
                let host: std::net::IpAddr = format!("10.0.0.{}", idx / 3).parse().unwrap();
                (host, ports.as_slice()[(idx % 3) as usize])
            })
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn group_sizes_follow_the_port_count() {
        assert_eq!(group_size(1), MAX_GROUP_HOSTS);
        assert_eq!(group_size(100), 655);
        assert_eq!(group_size(65535), MIN_GROUP_HOSTS);
    }

    #[test]
    fn huge_ranges_cost_nothing_up_front() {
        let ports = Arc::new(PortList::all());
        let mut order = ScanOrder::random(set(1 << 24), ports, 3);
        assert_eq!(order.total(), (1u128 << 24) * 65535);
        assert!(order.next().is_some());
        let p = Permutation::new(u128::MAX, 9);
        assert!(p.apply(12345) < u128::MAX);
    }
}
