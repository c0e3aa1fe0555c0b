//! Target specifications and the set of hosts they name.
//!
//! A user types addresses (`198.18.0.1`, `2001:db8::1`), CIDR blocks
//! (`198.18.1.0/24`), nmap-style octet ranges (`198.18.1.1-20`, `10.0.0,2.*`) and
//! host names. [`TargetSetBuilder::build`] checks and resolves them once into a
//! [`TargetSet`]: a list of [`HostBlock`]s that can be indexed without being
//! expanded, so a /16 costs no more memory than a single address. Exclusions are
//! applied when a host is looked up; `--large` and `--scope` are checked here, before
//! any packet is sent.

use std::collections::HashSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};
use std::sync::Arc;

use ipnet::IpNet;

use crate::endpoint::{EndpointError, EndpointSpec};
use crate::file::quote;
use portolan_model::{Endpoint, Protocol};

/// Hosts in one target above which `--large` is required (a /16 of IPv4, a /112 of IPv6).
pub const LARGE_HOSTS: u128 = 1 << 16;

/// The most hosts one target may name even with `--large` (2^32: all of IPv4, or an
/// IPv6 /96). A larger block could never be scanned to the end, and its count would
/// not fit the host index (`::/0` has 2^128 hosts, one more than a `u128` holds).
pub const MAX_HOST_BITS: u32 = 32;

/// Why targets were refused.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{} is not an address, CIDR block, octet range or host name", quote(.0))]
    /// A word that is none of the target forms.
    Unrecognised(String),
    #[error("bad octet range {}: {why}", quote(text))]
    /// An octet range that cannot be read.
    Octets {
        /// The target as given.
        text: String,
        /// What is wrong with it.
        why: &'static str,
    },
    #[error("cannot resolve {}: {source}", quote(name))]
    /// The resolver failed for a host name.
    Resolve {
        /// The name as given.
        name: String,
        /// The resolver's error.
        source: io::Error,
    },
    #[error("{} resolves to no address", quote(name))]
    /// A host name with no address.
    NoAddress {
        /// The name as given.
        name: String,
    },
    #[error(
        "target {} has {hosts} hosts, more than a /16 of IPv4 or a /112 of IPv6",
        quote(text)
    )]
    /// A target larger than the guard allows, without the caller lifting it.
    TooLarge {
        /// The target as given.
        text: String,
        /// How many addresses it holds.
        hosts: u128,
    },
    #[error(
        "target {} has 2^{bits} hosts, more than can be scanned (at most 2^{max}: all of IPv4, or an IPv6 /96)",
        quote(text),
        max = MAX_HOST_BITS
    )]
    /// A target too large to scan at all, even with the guard lifted.
    Huge {
        /// The target as given.
        text: String,
        /// log2 of its size.
        bits: u32,
    },
    #[error("target {} ({addr}) is outside the scope file", quote(text))]
    /// A target with an address outside the scope.
    OutOfScope {
        /// The target as given.
        text: String,
        /// Its address outside the scope.
        addr: IpAddr,
    },
    #[error("no targets given")]
    /// No target was given.
    NoTargets,
    #[error("every target is excluded")]
    /// Every target was excluded.
    AllExcluded,
    /// A `HOST:PORT` target that cannot be read.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
}

/// One target as typed, checked for syntax but not resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// An address (a /32 or /128) or a CIDR block.
    Net(IpNet),
    /// nmap-style IPv4 octet ranges; each octet's values sorted and unique.
    Octets(Box<[Vec<u8>; 4]>),
    /// A host name, resolved later to every A and AAAA address.
    Name(String),
}

impl TargetSpec {
    /// Parses an address, CIDR block, octet range or host name (not resolved yet).
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let text = text.trim();
        if let Ok(addr) = text.parse::<IpAddr>() {
            return Ok(TargetSpec::Net(IpNet::from(addr)));
        }
        if let Ok(net) = text.parse::<IpNet>() {
            return Ok(TargetSpec::Net(net.trunc()));
        }
        let parts: Vec<&str> = text.split('.').collect();
        let octet_chars = |p: &str| p.chars().all(|c| c.is_ascii_digit() || ",-*".contains(c));
        if parts.len() == 4 && parts.iter().all(|p| !p.is_empty() && octet_chars(p)) {
            return parse_octets(text, &parts);
        }
        if is_host_name(text) {
            return Ok(TargetSpec::Name(text.to_owned()));
        }
        Err(SpecError::Unrecognised(text.to_owned()))
    }
}

fn parse_octets(text: &str, parts: &[&str]) -> Result<TargetSpec, SpecError> {
    let bad = |why| SpecError::Octets {
        text: text.to_owned(),
        why,
    };
    let mut octets: [Vec<u8>; 4] = Default::default();
    for (slot, part) in octets.iter_mut().zip(parts) {
        for item in part.split(',') {
            let (lo, hi) = match (item, item.split_once('-')) {
                ("*", _) => (0, 255),
                (_, Some((lo, hi))) => (
                    if lo.is_empty() {
                        0
                    } else {
                        octet(lo).ok_or_else(|| bad("octet above 255"))?
                    },
                    if hi.is_empty() {
                        255
                    } else {
                        octet(hi).ok_or_else(|| bad("octet above 255"))?
                    },
                ),
                (_, None) => {
                    let v = octet(item).ok_or_else(|| bad("octet above 255"))?;
                    (v, v)
                }
            };
            if lo > hi {
                return Err(bad("reversed range"));
            }
            slot.extend(lo..=hi);
        }
        slot.sort_unstable();
        slot.dedup();
    }
    Ok(TargetSpec::Octets(Box::new(octets)))
}

fn octet(s: &str) -> Option<u8> {
    if s.is_empty() || s.len() > 3 {
        return None;
    }
    s.parse().ok()
}

fn is_host_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        && !text.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Turns a host name into addresses.
pub trait Resolver {
    /// Every address of `name`, each once, in the resolver's order.
    fn resolve(&self, name: &str) -> io::Result<Vec<IpAddr>>;
}

/// The system resolver (`getaddrinfo`): every A and AAAA record.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn resolve(&self, name: &str) -> io::Result<Vec<IpAddr>> {
        let mut seen = HashSet::new();
        Ok((name, 0)
            .to_socket_addrs()?
            .map(|sa| sa.ip())
            .filter(|ip| seen.insert(*ip))
            .collect())
    }
}

/// A contiguous or octet-patterned group of hosts that can be indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostBlock {
    /// `count` consecutive addresses from `start`.
    Range {
        /// The first address.
        start: IpAddr,
        /// How many addresses, at least one.
        count: u128,
    },
    /// The cartesian product of four octet lists.
    Octets(Box<[Vec<u8>; 4]>),
    /// One address of a named host; the name is kept for the results.
    Named {
        /// The name as given.
        name: Arc<str>,
        /// One of its addresses.
        addr: IpAddr,
    },
}

impl HostBlock {
    /// How many addresses the block holds.
    pub fn len(&self) -> u128 {
        match self {
            HostBlock::Range { count, .. } => *count,
            HostBlock::Octets(o) => o.iter().map(|v| v.len() as u128).product(),
            HostBlock::Named { .. } => 1,
        }
    }

    /// Whether the block holds no address.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th address of the block; `i` must be below [`HostBlock::len`].
    pub fn addr_at(&self, i: u128) -> IpAddr {
        match self {
            HostBlock::Range { start, .. } => offset(*start, i),
            HostBlock::Octets(o) => {
                let mut rest = i;
                let mut bytes = [0u8; 4];
                for (b, vals) in bytes.iter_mut().zip(o.iter()).rev() {
                    let n = vals.len() as u128;
                    *b = vals[(rest % n) as usize];
                    rest /= n;
                }
                IpAddr::V4(Ipv4Addr::from(bytes))
            }
            HostBlock::Named { addr, .. } => *addr,
        }
    }

    /// The name the block was given as, if a named host.
    pub fn name(&self) -> Option<&Arc<str>> {
        match self {
            HostBlock::Named { name, .. } => Some(name),
            _ => None,
        }
    }

    /// Every address of the block lies in `[lo, hi]` (as keys, see [`key`]).
    fn bounds(&self) -> (Key, Key) {
        match self {
            HostBlock::Octets(o) => {
                let lo = Ipv4Addr::new(o[0][0], o[1][0], o[2][0], o[3][0]);
                let last = |v: &Vec<u8>| *v.last().unwrap_or(&0);
                let hi = Ipv4Addr::new(last(&o[0]), last(&o[1]), last(&o[2]), last(&o[3]));
                (key(IpAddr::V4(lo)), key(IpAddr::V4(hi)))
            }
            _ => (key(self.addr_at(0)), key(self.addr_at(self.len() - 1))),
        }
    }
}

fn offset(start: IpAddr, i: u128) -> IpAddr {
    match start {
        IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a).wrapping_add(i as u32))),
        IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a).wrapping_add(i))),
    }
}

/// An address as a sortable key: family first, then the number.
type Key = (u8, u128);

fn key(addr: IpAddr) -> Key {
    match addr {
        IpAddr::V4(a) => (4, u128::from(u32::from(a))),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => (4, u128::from(u32::from(v4))),
            None => (6, u128::from(a)),
        },
    }
}

fn net_keys(net: &IpNet) -> (Key, Key) {
    (key(net.network()), key(net.broadcast()))
}

/// A sorted, merged list of closed address intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Intervals(Vec<(Key, Key)>);

impl Intervals {
    fn from_unsorted(mut v: Vec<(Key, Key)>) -> Self {
        v.sort_unstable();
        let mut out: Vec<(Key, Key)> = Vec::with_capacity(v.len());
        for (lo, hi) in v {
            match out.last_mut() {
                Some(last) if last.1 .0 == lo.0 && last.1 .1.saturating_add(1) >= lo.1 => {
                    last.1 = last.1.max(hi);
                }
                _ => out.push((lo, hi)),
            }
        }
        Intervals(out)
    }

    fn contains(&self, k: Key) -> bool {
        let i = self.0.partition_point(|&(lo, _)| lo <= k);
        i > 0 && self.0[i - 1].1 >= k
    }

    fn contains_all(&self, lo: Key, hi: Key) -> bool {
        let i = self.0.partition_point(|&(l, _)| l <= lo);
        i > 0 && self.0[i - 1].1 >= hi
    }

    /// Whether no interval is held.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The addresses a user allows portolan to touch (`--scope FILE`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope(Intervals);

impl Scope {
    /// Parses one CIDR block or address per line; `#` starts a comment.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let mut v = Vec::new();
        for word in words(text) {
            match TargetSpec::parse(word)? {
                TargetSpec::Net(net) => v.push(net_keys(&net)),
                _ => return Err(SpecError::Unrecognised(word.to_owned())),
            }
        }
        Ok(Scope(Intervals::from_unsorted(v)))
    }

    /// Whether `addr` is inside the scope.
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.0.contains(key(addr))
    }

    fn allows(&self, block: &HostBlock) -> Result<(), IpAddr> {
        let (lo, hi) = block.bounds();
        if self.0.contains_all(lo, hi) {
            return Ok(());
        }
        // Octet patterns can have holes the bounds do not show; check each host.
        if let HostBlock::Octets(_) = block {
            if let Some(bad) = (0..block.len())
                .map(|i| block.addr_at(i))
                .find(|a| !self.contains(*a))
            {
                return Err(bad);
            }
            return Ok(());
        }
        // Report the first address outside the scope, jumping interval by interval.
        let mut k = lo;
        loop {
            let i = self.0 .0.partition_point(|&(l, _)| l <= k);
            match self.0 .0.get(i.wrapping_sub(1)) {
                Some(&(_, end)) if i > 0 && end >= k && end < hi => k = (end.0, end.1 + 1),
                Some(&(_, end)) if i > 0 && end >= hi => return Ok(()),
                _ => return Err(addr_of(k)),
            }
        }
    }
}

fn addr_of(k: Key) -> IpAddr {
    if k.0 == 4 {
        IpAddr::V4(Ipv4Addr::from(k.1 as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(k.1))
    }
}

/// Splits a target file into entries: whitespace-separated, `#` to end of line is a comment.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(str::split_whitespace)
}

/// Collects what the user asked for, then checks and resolves it.
#[derive(Debug, Default, Clone)]
pub struct TargetSetBuilder {
    targets: Vec<(String, TargetSpec)>,
    /// `HOST:PORT` targets: the word, its port and protocol, its host.
    endpoints: Vec<(String, EndpointSpec, TargetSpec)>,
    excludes: Vec<(String, TargetSpec)>,
    allow_large: bool,
    scope: Option<Scope>,
}

impl TargetSetBuilder {
    /// An empty set: no target, no exclusion, no scope, the size guard on.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a target as typed: a host, block or name, or an endpoint
    /// (`HOST:PORT`, `[v6]:PORT`, `.../udp`; see [`EndpointSpec`]).
    pub fn target(mut self, text: &str) -> Result<Self, SpecError> {
        if let Some(e) = EndpointSpec::parse(text)? {
            let host = e.target(text)?;
            self.endpoints.push((text.to_owned(), e, host));
            return Ok(self);
        }
        self.targets
            .push((text.to_owned(), TargetSpec::parse(text)?));
        Ok(self)
    }

    /// Adds an exclusion as typed (`--exclude`).
    pub fn exclude(mut self, text: &str) -> Result<Self, SpecError> {
        self.excludes
            .push((text.to_owned(), TargetSpec::parse(text)?));
        Ok(self)
    }

    /// Allows targets larger than [`LARGE_HOSTS`].
    pub fn allow_large(mut self, yes: bool) -> Self {
        self.allow_large = yes;
        self
    }

    /// Refuses every target outside `scope`, before any packet is sent.
    pub fn scope(mut self, scope: Option<Scope>) -> Self {
        self.scope = scope;
        self
    }

    /// Resolves names, checks size and scope, and builds the set.
    pub fn build(self, resolver: &dyn Resolver) -> Result<TargetSet, SpecError> {
        if self.targets.is_empty() && self.endpoints.is_empty() {
            return Err(SpecError::NoTargets);
        }
        let endpoints = self.resolve_endpoints(resolver)?;
        let mut ex_nets = Vec::new();
        let mut ex_octets = Vec::new();
        for (_, spec) in self.excludes {
            match spec {
                TargetSpec::Net(net) => ex_nets.push(net_keys(&net)),
                TargetSpec::Octets(o) => ex_octets.push(HostBlock::Octets(o)),
                TargetSpec::Name(name) => {
                    for addr in resolve(resolver, &name)? {
                        ex_nets.push((key(addr), key(addr)));
                    }
                }
            }
        }
        let mut plain = Vec::new();
        let mut blocks = Vec::new();
        let mut named_seen = HashSet::new();
        for (text, spec) in self.targets {
            let new_blocks = match spec {
                TargetSpec::Net(net) if host_bits(&net) > MAX_HOST_BITS => {
                    return Err(SpecError::Huge {
                        text,
                        bits: host_bits(&net),
                    });
                }
                TargetSpec::Net(net) => vec![HostBlock::Range {
                    start: net.network(),
                    count: host_count(&net),
                }],
                TargetSpec::Octets(o) => vec![HostBlock::Octets(o)],
                TargetSpec::Name(name) => {
                    let name: Arc<str> = Arc::from(name.as_str());
                    resolve(resolver, &name)?
                        .into_iter()
                        .filter(|a| named_seen.insert((name.clone(), *a)))
                        .map(|addr| HostBlock::Named {
                            name: name.clone(),
                            addr,
                        })
                        .collect()
                }
            };
            for block in new_blocks {
                if block.len() > LARGE_HOSTS && !self.allow_large {
                    return Err(SpecError::TooLarge {
                        text,
                        hosts: block.len(),
                    });
                }
                if let Some(scope) = &self.scope {
                    scope.allows(&block).map_err(|addr| SpecError::OutOfScope {
                        text: text.clone(),
                        addr,
                    })?;
                }
                match block {
                    HostBlock::Range { .. } => plain.push(block.bounds()),
                    other => blocks.push(other),
                }
            }
        }
        // Overlapping plain ranges are merged, so no host is scanned twice.
        let merged = Intervals::from_unsorted(plain);
        let mut all: Vec<HostBlock> = merged
            .0
            .iter()
            .map(|&(lo, hi)| HostBlock::Range {
                start: addr_of(lo),
                count: (hi.1 - lo.1).saturating_add(1),
            })
            .collect();
        all.extend(blocks);
        TargetSet::new(all, Intervals::from_unsorted(ex_nets), ex_octets)
            .and_then(|set| set.with_endpoints(endpoints))
    }

    /// Every endpoint at each address of its host, scope checked.
    fn resolve_endpoints(&self, resolver: &dyn Resolver) -> Result<Vec<Endpoint>, SpecError> {
        let mut out = Vec::with_capacity(self.endpoints.len());
        for (text, e, host) in &self.endpoints {
            let (addrs, name) = match host {
                TargetSpec::Name(name) => {
                    (resolve(resolver, name)?, Some(Arc::from(name.as_str())))
                }
                TargetSpec::Net(net) => (vec![net.addr()], None),
                TargetSpec::Octets(_) => return Err(EndpointError::Block(text.clone()).into()),
            };
            for addr in addrs {
                if let Some(scope) = &self.scope {
                    let block = HostBlock::Range {
                        start: addr,
                        count: 1,
                    };
                    scope.allows(&block).map_err(|addr| SpecError::OutOfScope {
                        text: text.clone(),
                        addr,
                    })?;
                }
                out.push(Endpoint {
                    addr,
                    name: name.clone(),
                    port: e.port,
                    proto: e.proto,
                });
            }
        }
        Ok(out)
    }
}

fn host_bits(net: &IpNet) -> u32 {
    u32::from(net.max_prefix_len().saturating_sub(net.prefix_len()))
}

/// Exact for every block [`TargetSetBuilder::build`] lets through (at most
/// 2^[`MAX_HOST_BITS`] hosts).
fn host_count(net: &IpNet) -> u128 {
    1u128.checked_shl(host_bits(net)).unwrap_or(u128::MAX)
}

fn resolve(resolver: &dyn Resolver, name: &str) -> Result<Vec<IpAddr>, SpecError> {
    let addrs = resolver
        .resolve(name)
        .map_err(|source| SpecError::Resolve {
            name: name.to_owned(),
            source,
        })?;
    if addrs.is_empty() {
        return Err(SpecError::NoAddress {
            name: name.to_owned(),
        });
    }
    Ok(addrs)
}

/// Every host to scan, indexable in constant memory.
#[derive(Debug, Clone)]
pub struct TargetSet {
    blocks: Vec<HostBlock>,
    /// `starts[i]` is the index of the first host of `blocks[i]`.
    starts: Vec<u128>,
    hosts: u128,
    exclude: Intervals,
    exclude_octets: Vec<HostBlock>,
    /// For `index_of`: the ranges (first, last, block) by first address, whether
    /// any two overlap (never, as the builder makes them), the named hosts by
    /// (address, name), and the octet patterns.
    ranges: Vec<(Key, Key, usize)>,
    ranges_overlap: bool,
    named: Vec<(Key, Arc<str>, usize)>,
    octet_blocks: Vec<usize>,
    /// The explicit endpoints not excluded, sorted by protocol (TCP first), then
    /// address, name and port, each once.
    endpoints: Vec<Endpoint>,
}

impl TargetSet {
    fn new(
        blocks: Vec<HostBlock>,
        exclude: Intervals,
        exclude_octets: Vec<HostBlock>,
    ) -> Result<Self, SpecError> {
        let mut starts = Vec::with_capacity(blocks.len());
        let mut hosts = 0u128;
        for b in &blocks {
            starts.push(hosts);
            hosts = hosts.saturating_add(b.len());
        }
        let (mut ranges, mut named, mut octet_blocks) = (Vec::new(), Vec::new(), Vec::new());
        for (i, b) in blocks.iter().enumerate() {
            match b {
                HostBlock::Octets(_) => octet_blocks.push(i),
                HostBlock::Named { name, addr } => named.push((key(*addr), name.clone(), i)),
                HostBlock::Range { .. } if !b.is_empty() => {
                    let (lo, hi) = b.bounds();
                    ranges.push((lo, hi, i));
                }
                HostBlock::Range { .. } => {}
            }
        }
        ranges.sort_unstable();
        named.sort_unstable();
        let ranges_overlap = ranges.windows(2).any(|w| w[1].0 <= w[0].1);
        let set = TargetSet {
            blocks,
            starts,
            hosts,
            exclude,
            exclude_octets,
            ranges,
            ranges_overlap,
            named,
            octet_blocks,
            endpoints: Vec::new(),
        };
        if !set.blocks.is_empty() && set.is_all_excluded() {
            return Err(SpecError::AllExcluded);
        }
        Ok(set)
    }

    /// The set with explicit endpoints beside its hosts (see [`EndpointSpec`]):
    /// the excluded ones left out. Every target excluded is refused.
    pub fn with_endpoints(mut self, mut endpoints: Vec<Endpoint>) -> Result<Self, SpecError> {
        let given = !endpoints.is_empty();
        endpoints.retain(|e| !self.is_excluded(e.addr));
        endpoints.sort_by(|a, b| {
            (a.proto != Protocol::Tcp, a.addr, &a.name, a.port).cmp(&(
                b.proto != Protocol::Tcp,
                b.addr,
                &b.name,
                b.port,
            ))
        });
        endpoints.dedup();
        if given && endpoints.is_empty() && (self.blocks.is_empty() || self.is_all_excluded()) {
            return Err(SpecError::AllExcluded);
        }
        self.endpoints = endpoints;
        Ok(self)
    }

    /// The explicit endpoints of `proto`, in their canonical order.
    pub fn endpoints(&self, proto: Protocol) -> &[Endpoint] {
        let split = self.endpoints.partition_point(|e| e.proto == Protocol::Tcp);
        match proto {
            Protocol::Tcp => &self.endpoints[..split],
            Protocol::Udp => &self.endpoints[split..],
        }
    }

    /// A set from already-checked blocks, with no exclusions (for tests and embedders).
    pub fn from_blocks(blocks: Vec<HostBlock>) -> Result<Self, SpecError> {
        if blocks.is_empty() {
            return Err(SpecError::NoTargets);
        }
        Self::new(blocks, Intervals::default(), Vec::new())
    }

    /// How many host slots there are, excluded ones included.
    pub fn hosts(&self) -> u128 {
        self.hosts
    }

    /// The blocks, in the order the targets were given.
    pub fn blocks(&self) -> &[HostBlock] {
        &self.blocks
    }

    /// The `i`-th host and its name; `None` when excluded or out of range.
    pub fn host_at(&self, i: u128) -> Option<(IpAddr, Option<&Arc<str>>)> {
        if i >= self.hosts {
            return None;
        }
        let b = self.starts.partition_point(|&s| s <= i) - 1;
        let block = &self.blocks[b];
        let addr = block.addr_at(i - self.starts[b]);
        if self.is_excluded(addr) {
            return None;
        }
        Some((addr, block.name()))
    }

    /// The index of the host slot of `addr` as the results name it (`name` is the
    /// target name a named host carries, `None` for an address typed as such), or
    /// `None` when no block holds it or it is excluded. Logarithmic in the ranges
    /// and named hosts, linear in the octet patterns (there are few).
    pub fn index_of(&self, addr: IpAddr, name: Option<&str>) -> Option<u128> {
        if self.is_excluded(addr) {
            return None;
        }
        let k = key(addr);
        if let Some(name) = name {
            let at = self
                .named
                .binary_search_by(|(nk, nn, _)| (*nk, nn.as_ref()).cmp(&(k, name)))
                .ok()?;
            return Some(self.starts[self.named[at].2]);
        }
        let end = self.ranges.partition_point(|r| r.0 <= k);
        let range = if self.ranges_overlap {
            self.ranges
                .iter()
                .filter(|r| r.0 <= k && k <= r.1)
                .map(|r| r.2)
                .min()
        } else {
            end.checked_sub(1)
                .map(|i| self.ranges[i])
                .filter(|r| k <= r.1)
                .map(|r| r.2)
        };
        let range = range.map(|b| (b, k.1 - key(self.blocks[b].addr_at(0)).1));
        let octets = self.octet_blocks.iter().find_map(|&b| {
            let (HostBlock::Octets(o), IpAddr::V4(v4)) = (&self.blocks[b], addr) else {
                return None;
            };
            let mut i = 0u128;
            for (byte, vals) in v4.octets().iter().zip(o.iter()) {
                let pos = vals.iter().position(|v| v == byte)?;
                i = i * vals.len() as u128 + pos as u128;
            }
            Some((b, i))
        });
        [range, octets]
            .into_iter()
            .flatten()
            .min_by_key(|&(b, _)| b)
            .map(|(b, i)| self.starts[b] + i)
    }

    /// Feeds the set's canonical description to `feed`: every block in order (kind,
    /// addresses, counts, names) and the exclusions. Two sets with the same
    /// description have the same host slots; the description is independent of
    /// how the targets were spelled where the builder already merges (overlapping
    /// ranges, CIDR versus a dash range).
    pub fn describe(&self, feed: &mut dyn FnMut(&[u8])) {
        let addr = |feed: &mut dyn FnMut(&[u8]), a: IpAddr| {
            let (fam, n) = key(a);
            feed(&[fam]);
            feed(&n.to_be_bytes());
        };
        for b in &self.blocks {
            match b {
                HostBlock::Range { start, count } => {
                    feed(b"R");
                    addr(feed, *start);
                    feed(&count.to_be_bytes());
                }
                HostBlock::Octets(o) => {
                    feed(b"O");
                    for vals in o.iter() {
                        feed(&(vals.len() as u64).to_be_bytes());
                        feed(vals);
                    }
                }
                HostBlock::Named { name, addr: a } => {
                    feed(b"N");
                    feed(&(name.len() as u64).to_be_bytes());
                    feed(name.as_bytes());
                    addr(feed, *a);
                }
            }
        }
        for e in &self.endpoints {
            feed(b"E");
            feed(e.proto.as_str().as_bytes());
            addr(feed, e.addr);
            let name = e.name.as_deref().unwrap_or_default();
            feed(&(name.len() as u64).to_be_bytes());
            feed(name.as_bytes());
            feed(&e.port.to_be_bytes());
        }
        for (lo, hi) in &self.exclude.0 {
            feed(b"X");
            feed(&[lo.0]);
            feed(&lo.1.to_be_bytes());
            feed(&hi.1.to_be_bytes());
        }
        for b in &self.exclude_octets {
            if let HostBlock::Octets(o) = b {
                feed(b"Y");
                for vals in o.iter() {
                    feed(&(vals.len() as u64).to_be_bytes());
                    feed(vals);
                }
            }
        }
    }

    /// Whether `addr` was excluded.
    pub fn is_excluded(&self, addr: IpAddr) -> bool {
        self.exclude.contains(key(addr))
            || self.exclude_octets.iter().any(|b| octets_contain(b, addr))
    }

    fn is_all_excluded(&self) -> bool {
        if self.exclude.is_empty() && self.exclude_octets.is_empty() {
            return false;
        }
        self.blocks.iter().all(|b| {
            let (lo, hi) = b.bounds();
            self.exclude.contains_all(lo, hi)
                || (b.len() <= LARGE_HOSTS && (0..b.len()).all(|i| self.is_excluded(b.addr_at(i))))
        })
    }
}

fn octets_contain(block: &HostBlock, addr: IpAddr) -> bool {
    let (HostBlock::Octets(o), IpAddr::V4(a)) = (block, addr) else {
        return false;
    };
    a.octets()
        .iter()
        .zip(o.iter())
        .all(|(b, vals)| vals.binary_search(b).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    struct FakeDns;
    impl Resolver for FakeDns {
        fn resolve(&self, name: &str) -> io::Result<Vec<IpAddr>> {
            match name {
                "lab.test" => Ok(vec![
                    "198.18.0.1".parse().unwrap(),
                    "2001:db8:2::1".parse().unwrap(),
                ]),
                "outside.test" => Ok(vec!["203.0.113.9".parse().unwrap()]),
                "empty.test" => Ok(vec![]),
                _ => Err(io::Error::new(io::ErrorKind::NotFound, "no such host")),
            }
        }
    }

    #[test]
    fn index_of_finds_every_slot_and_nothing_else() {
        let set = TargetSetBuilder::new()
            .target("198.18.0.0/30")
            .unwrap()
            .target("198.18.5.0/31")
            .unwrap()
            .target("lab.test")
            .unwrap()
            .target("10.1-2.0.7-8")
            .unwrap()
            .exclude("198.18.0.2")
            .unwrap()
            .build(&FakeDns)
            .unwrap();
        let mut found = 0;
        for i in 0..set.hosts() {
            let Some((addr, name)) = set.host_at(i) else {
                continue;
            };
            assert_eq!(set.index_of(addr, name.map(|n| &**n)), Some(i), "{addr}");
            found += 1;
        }
        assert_eq!(found, 4 - 1 + 2 + 2 + 4);
        // The named host is 198.18.0.1 under its name and as an address of the range.
        let lab: IpAddr = "198.18.0.1".parse().unwrap();
        assert_ne!(set.index_of(lab, Some("lab.test")), set.index_of(lab, None));
        for (addr, name) in [
            ("198.18.0.2", None),
            ("198.18.0.4", None),
            ("198.18.5.2", None),
            ("10.1.0.9", None),
            ("2001:db8:2::1", None),
            ("198.18.0.1", Some("other.test")),
        ] {
            assert_eq!(set.index_of(addr.parse().unwrap(), name), None, "{addr}");
        }
    }

    fn hosts(set: &TargetSet) -> Vec<String> {
        (0..set.hosts())
            .filter_map(|i| set.host_at(i))
            .map(|(a, n)| match n {
                Some(n) => format!("{a}({n})"),
                None => a.to_string(),
            })
            .collect()
    }

    #[test]
    fn parses_each_kind() {
        assert!(matches!(
            TargetSpec::parse("198.18.0.1").unwrap(),
            TargetSpec::Net(_)
        ));
        assert!(matches!(
            TargetSpec::parse("2001:db8::/120").unwrap(),
            TargetSpec::Net(_)
        ));
        assert!(matches!(
            TargetSpec::parse("198.18.1.1-20").unwrap(),
            TargetSpec::Octets(_)
        ));
        assert!(matches!(
            TargetSpec::parse("10.0.0,2.*").unwrap(),
            TargetSpec::Octets(_)
        ));
        assert!(matches!(
            TargetSpec::parse("localhost").unwrap(),
            TargetSpec::Name(_)
        ));
        assert!(TargetSpec::parse("198.18.1.20-1").is_err());
        assert!(TargetSpec::parse("198.18.1.300").is_err());
        assert!(TargetSpec::parse("1.2.3").is_err());
        assert!(TargetSpec::parse("a b").is_err());
        assert!(TargetSpec::parse("10.0.0.0/33").is_err());
    }

    #[test]
    fn octet_range_expands_in_order() {
        let set = TargetSetBuilder::new()
            .target("198.18.1.1-3")
            .unwrap()
            .build(&FakeDns)
            .unwrap();
        assert_eq!(hosts(&set), ["198.18.1.1", "198.18.1.2", "198.18.1.3"]);
        let set = TargetSetBuilder::new()
            .target("10.0.1,3.7")
            .unwrap()
            .build(&FakeDns)
            .unwrap();
        assert_eq!(hosts(&set), ["10.0.1.7", "10.0.3.7"]);
    }

    #[test]
    fn cidr_names_and_overlaps() {
        let set = TargetSetBuilder::new()
            .target("198.18.0.0/30")
            .unwrap()
            .target("198.18.0.2")
            .unwrap()
            .target("lab.test")
            .unwrap()
            .build(&FakeDns)
            .unwrap();
        assert_eq!(
            hosts(&set),
            [
                "198.18.0.0",
                "198.18.0.1",
                "198.18.0.2",
                "198.18.0.3",
                "198.18.0.1(lab.test)",
                "2001:db8:2::1(lab.test)"
            ]
        );
    }

    #[test]
    fn exclusions_apply() {
        let set = TargetSetBuilder::new()
            .target("198.18.0.0/29")
            .unwrap()
            .exclude("198.18.0.0/30")
            .unwrap()
            .exclude("198.18.0.5-6")
            .unwrap()
            .build(&FakeDns)
            .unwrap();
        assert_eq!(hosts(&set), ["198.18.0.4", "198.18.0.7"]);
        let all = TargetSetBuilder::new()
            .target("198.18.0.1")
            .unwrap()
            .exclude("198.18.0.0/24")
            .unwrap();
        assert!(matches!(all.build(&FakeDns), Err(SpecError::AllExcluded)));
    }

    #[test]
    fn large_needs_consent() {
        let b = TargetSetBuilder::new().target("10.0.0.0/8").unwrap();
        assert!(matches!(
            b.clone().build(&FakeDns),
            Err(SpecError::TooLarge { .. })
        ));
        assert_eq!(
            b.allow_large(true).build(&FakeDns).unwrap().hosts(),
            1 << 24
        );
        assert!(TargetSetBuilder::new()
            .target("198.18.0.0/16")
            .unwrap()
            .build(&FakeDns)
            .is_ok());
        let v6 = TargetSetBuilder::new().target("2001:db8::/111").unwrap();
        assert!(matches!(
            v6.build(&FakeDns),
            Err(SpecError::TooLarge { .. })
        ));
    }

    #[test]
    fn huge_blocks_are_refused_with_their_true_size() {
        for (text, bits) in [("::/0", 128), ("2001:db8::/64", 64), ("::/95", 33)] {
            let b = TargetSetBuilder::new().target(text).unwrap();
            let err = b.allow_large(true).build(&FakeDns).unwrap_err();
            assert!(
                matches!(err, SpecError::Huge { bits: b, .. } if b == bits),
                "{text}: {err}"
            );
            assert!(
                err.to_string().contains(&format!("2^{bits} hosts")),
                "{err}"
            );
        }
        let all_v4 = TargetSetBuilder::new().target("0.0.0.0/0").unwrap();
        assert_eq!(
            all_v4.allow_large(true).build(&FakeDns).unwrap().hosts(),
            1 << 32
        );
        let v6_96 = TargetSetBuilder::new().target("2001:db8::/96").unwrap();
        assert_eq!(
            v6_96.allow_large(true).build(&FakeDns).unwrap().hosts(),
            1 << 32
        );
    }

    #[test]
    fn scope_refuses_before_scanning() {
        let scope = Scope::parse("# lab\n198.18.0.0/16\n2001:db8:2::/64\n").unwrap();
        let ok = TargetSetBuilder::new()
            .target("lab.test")
            .unwrap()
            .scope(Some(scope.clone()));
        assert!(ok.build(&FakeDns).is_ok());
        let out = TargetSetBuilder::new()
            .target("outside.test")
            .unwrap()
            .scope(Some(scope.clone()));
        assert!(matches!(
            out.build(&FakeDns),
            Err(SpecError::OutOfScope { .. })
        ));
        let wide = TargetSetBuilder::new()
            .target("198.18.0.0/15")
            .unwrap()
            .allow_large(true)
            .scope(Some(scope.clone()));
        match wide.build(&FakeDns) {
            Err(SpecError::OutOfScope { addr, .. }) => assert_eq!(addr.to_string(), "198.19.0.0"),
            other => panic!("expected out of scope, got {other:?}"),
        }
        let octets = TargetSetBuilder::new()
            .target("198.17-18.0.1")
            .unwrap()
            .scope(Some(scope));
        assert!(matches!(
            octets.build(&FakeDns),
            Err(SpecError::OutOfScope { .. })
        ));
    }

    #[test]
    fn names_that_fail_are_errors() {
        let b = TargetSetBuilder::new().target("nowhere.test").unwrap();
        assert!(matches!(b.build(&FakeDns), Err(SpecError::Resolve { .. })));
        let b = TargetSetBuilder::new().target("empty.test").unwrap();
        assert!(matches!(
            b.build(&FakeDns),
            Err(SpecError::NoAddress { .. })
        ));
    }

    #[test]
    fn target_file_words() {
        let w: Vec<_> = words("# header\n198.18.0.1 198.18.0.2 # two\n\n  lab.test\n").collect();
        assert_eq!(w, ["198.18.0.1", "198.18.0.2", "lab.test"]);
    }

    #[test]
    fn regression_a_huge_bad_target_is_not_echoed_whole() {
        let huge = "x!".repeat(2_500_000);
        let e = TargetSetBuilder::new()
            .target(&huge)
            .unwrap_err()
            .to_string();
        assert!(e.len() < 200, "{} bytes", e.len());
        assert!(e.contains("(5000000 bytes)"), "{e}");
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,60}") {
            let _ = TargetSpec::parse(&s);
        }

        #[test]
        fn octets_index_matches_membership(a in 0u8..4, b in 0u8..4, n in 1u8..6) {
            let text = format!("10.{a}.0-{b}.1-{n}");
            let set = TargetSetBuilder::new().target(&text).unwrap().build(&FakeDns).unwrap();
            prop_assert_eq!(set.hosts(), u128::from(b + 1) * u128::from(n));
            let spec = TargetSpec::parse(&text).unwrap();
            let TargetSpec::Octets(o) = spec else { panic!() };
            let block = HostBlock::Octets(o);
            for i in 0..set.hosts() {
                prop_assert!(octets_contain(&block, set.host_at(i).unwrap().0));
            }
        }
    }
}
